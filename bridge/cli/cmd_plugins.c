/*
 * cmd_plugins.c -- `plugins [--describe NAME]` and `check-config`: what
 * the plugin directory holds and whether the configuration fits it.
 * Must not sync or touch the store.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "loader.h"
#include "plugin_set.h"
#include "source.h"

typedef struct list_ctx {
  const char *dir;
  int broken;
} list_ctx;

static void list_one(const char *name, void *arg) {
  list_ctx *lc = arg;
  ib_loaded_plugin p;
  char err[1024];
  if (ib_plugin_load(lc->dir, name, &p, err, sizeof err)) {
    printf("%-12s %-8s %-4s REFUSED: %s\n", name, "-", "-", err);
    lc->broken++;
    return;
  }
  printf("%-12s %-8s %-4u %s\n", p.desc->name,
         p.desc->version ? p.desc->version : "?", p.desc->abi_version,
         p.desc->description ? p.desc->description : "");
  ib_plugin_unload(&p);
}

static void describe_options(const ib_option_def *defs, const char *prefix) {
  for (const ib_option_def *d = defs; d && d->name; d++) {
    char name[128];
    snprintf(name, sizeof name, "%s%s", prefix, d->name);
    char meta[192] = "";
    if (d->required)
      snprintf(meta, sizeof meta, "required");
    else if (d->default_value)
      snprintf(meta, sizeof meta, "default: %s",
               d->default_value[0] ? d->default_value : "\"\"");
    printf("  %-26s %-15s %s\n", name, ib_option_type_name(d->type), meta);
    if (d->description) printf("  %-26s %s\n", "", d->description);
    if (d->secret)
      printf("  %-26s (names an environment variable holding a secret)\n", "");
    if (d->type == IB_OPT_GROUP) {
      char sub[160];
      snprintf(sub, sizeof sub, "%s.", name);
      describe_options(d->children, sub);
    }
  }
}

static int describe(const char *dir, const char *name) {
  ib_loaded_plugin p;
  char err[1024];
  if (ib_plugin_load(dir, name, &p, err, sizeof err)) {
    fprintf(stderr, "plugins: %s\n", err);
    return IB_EXIT_FAILURE;
  }
  const ib_plugin *d = p.desc;
  printf(
      "%s %s (plugin ABI %u, %s)\n%s\n\nOptions of a source with plugin = "
      "\"%s\":\n",
      d->name, d->version ? d->version : "?", d->abi_version, p.path,
      d->description ? d->description : "", d->name);
  describe_options(ib_source_common_options(), "");
  if (d->flags & IB_PLUGIN_FLAG_HTTP)
    describe_options(ib_source_http_options(), "");
  describe_options(d->options, "");
  ib_plugin_unload(&p);
  return IB_EXIT_OK;
}

int ib_cmd_plugins(const ib_cli *cli, int argc, char **argv) {
  static const struct option opts[] = {{"describe", required_argument, 0, 'd'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *which = NULL;
  int c;
  optind = 0;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'd')
      which = optarg;
    else if (c == 'h') {
      printf(
          "Usage: itsm-bridge plugins [--describe NAME]\n\n"
          "Lists the source plugins in the plugin directory with their "
          "version and ABI;\n--describe documents every option of one "
          "plugin.\n");
      return IB_EXIT_OK;
    } else
      return IB_EXIT_USAGE;
  }
  /* The configuration only tells the plugin directory: optional here. */
  ib_config *cfg = NULL;
  if (cli->plugin_dir == NULL && getenv("ITSM_BRIDGE_PLUGIN_DIR") == NULL) {
    FILE *f = fopen(cli->config_path, "r");
    if (f) {
      fclose(f);
      if ((cfg = ib_cli_load_config(cli)) == NULL) return IB_EXIT_USAGE;
    }
  }
  const char *dir = ib_cli_plugin_dir(cli, cfg);
  int rc = IB_EXIT_OK;
  if (which) {
    rc = describe(dir, which);
  } else {
    list_ctx lc = {dir, 0};
    char err[1024];
    printf("Plugins in %s (host ABI %u):\n%-12s %-8s %-4s %s\n", dir,
           IB_PLUGIN_ABI_VERSION, "NAME", "VERSION", "ABI", "DESCRIPTION");
    int n = ib_plugin_scan(dir, list_one, &lc, err, sizeof err);
    if (n < 0) {
      fprintf(stderr, "plugins: %s\n", err);
      rc = IB_EXIT_FAILURE;
    } else if (n == 0) {
      printf("(none)\n");
    }
    if (lc.broken) rc = IB_EXIT_FAILURE;
  }
  ib_config_free(cfg);
  return rc;
}

int ib_cmd_check_config(const ib_cli *cli, int argc, char **argv) {
  if (argc > 1) {
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
      printf(
          "Usage: itsm-bridge check-config\n\n"
          "Validates the configuration: syntax, calendars, SLAs, "
          "availability,\nand each source's keys against its plugin's "
          "declared options.\nErrors are printed as file:line: message; "
          "exit status 2 on error.\n");
      return IB_EXIT_OK;
    }
    fprintf(stderr, "check-config: unexpected argument '%s'\n", argv[1]);
    return IB_EXIT_USAGE;
  }
  ib_config *cfg = ib_cli_load_config(cli);
  if (cfg == NULL) return IB_EXIT_USAGE;
  ib_plugin_set set;
  int rc = ib_plugin_set_load(&set, cfg, ib_cli_plugin_dir(cli, cfg));
  int refused = 0;
  for (size_t i = 0; i < set.n; i++)
    if (set.errors[i]) refused++;
  if (rc == 0) {
    printf(
        "%s: OK: %zu source(s), %zu calendar(s), %zu SLA(s), %zu "
        "availability entr%s, %zu alert rule(s)\n",
        cfg->file, cfg->n_sources, cfg->n_calendars, cfg->n_slas,
        cfg->n_availability, cfg->n_availability == 1 ? "y" : "ies",
        cfg->alerts.n_rules);
    if (refused) {
      printf(
          "but %d source(s) have a plugin that cannot be loaded (see above)\n",
          refused);
      rc = IB_EXIT_FAILURE;
    }
  }
  ib_plugin_set_free(&set);
  ib_config_free(cfg);
  return rc;
}
