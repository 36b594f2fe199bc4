/*
 * plugin_set.c -- loads each source's plugin once and validates the
 * source's keys against it. Must not run syncs.
 */
#define _GNU_SOURCE
#include "plugin_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libconfig.h>

#include "source.h"

int ib_plugin_set_load(ib_plugin_set *set, const ib_config *cfg,
                       const char *dir) {
  memset(set, 0, sizeof *set);
  set->n = cfg->n_sources;
  set->plugins = calloc(set->n + 1, sizeof *set->plugins);
  set->errors = calloc(set->n + 1, sizeof *set->errors);
  if (set->plugins == NULL || set->errors == NULL) {
    fprintf(stderr, "out of memory\n");
    return 2;
  }
  for (size_t i = 0; i < cfg->n_sources; i++) {
    const ib_source_cfg *sc = &cfg->sources[i];
    char err[1024];
    /* Reuse a plugin another source already loaded (dlopen would hand
     * back the same handle anyway; this keeps one refusal message). */
    for (size_t j = 0; j < i; j++)
      if (strcmp(cfg->sources[j].plugin, sc->plugin) == 0 &&
          set->plugins[j].desc) {
        set->plugins[i].desc = set->plugins[j].desc;
        break;
      }
    if (set->plugins[i].desc == NULL) {
      char path[4096];
      struct stat sb;
      snprintf(path, sizeof path, "%s/%s.so", dir, sc->plugin);
      if (stat(path, &sb) != 0) {
        const config_setting_t *ps =
            config_setting_get_member(sc->setting, "plugin");
        fprintf(stderr,
                "%s:%d: source '%s': unknown plugin '%s' (no %s; "
                "'itsm-bridge plugins' lists the plugins found)\n",
                cfg->file, ps ? (int)config_setting_source_line(ps) : sc->line,
                sc->name, sc->plugin, path);
        return 2;
      }
      if (ib_plugin_load(dir, sc->plugin, &set->plugins[i], err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", sc->name, err);
        set->errors[i] = strdup(err);
        continue;
      }
    }
    if (ib_source_validate(cfg, sc, set->plugins[i].desc, err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      return 2;
    }
  }
  return 0;
}

void ib_plugin_set_free(ib_plugin_set *set) {
  for (size_t i = 0; i < set->n; i++) {
    if (set->plugins[i].handle) ib_plugin_unload(&set->plugins[i]);
    free(set->errors[i]);
  }
  free(set->plugins);
  free(set->errors);
  memset(set, 0, sizeof *set);
}
