/*
 * cli.c -- what the commands share: loading the configuration, opening the
 * store, the plugin directory in force, and reading dates and months from
 * the command line. Must not implement any command itself.
 */
#define _GNU_SOURCE
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tz.h"

ib_config *ib_cli_load_config(const ib_cli *cli) {
  char err[1024];
  ib_config *cfg = ib_config_load(cli->config_path, err, sizeof err);
  if (cfg == NULL) fprintf(stderr, "%s\n", err);
  return cfg;
}

ib_store *ib_cli_open_store(const ib_config *cfg) {
  char err[1024];
  ib_store *st = ib_store_open(&cfg->store, err, sizeof err);
  if (st == NULL) fprintf(stderr, "%s\n", err);
  return st;
}

const char *ib_cli_plugin_dir(const ib_cli *cli, const ib_config *cfg) {
  if (cli->plugin_dir) return cli->plugin_dir;
  const char *env = getenv("ITSM_BRIDGE_PLUGIN_DIR");
  if (env && *env) return env;
  if (cfg && cfg->plugin_dir) return cfg->plugin_dir;
  return IB_DEFAULT_PLUGIN_DIR;
}

int ib_cli_parse_instant(const char *text, const char *zone, ib_time *out) {
  return ib_parse_iso8601(text, zone, out);
}

int ib_cli_parse_month(const char *text, const char *zone, ib_time *from,
                       ib_time *to) {
  int y, m;
  char tail;
  if (text == NULL || sscanf(text, "%4d-%2d%c", &y, &m, &tail) != 2 ||
      strlen(text) != 7 || m < 1 || m > 12)
    return -1;
  int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
  if (ib_tz_local_to_utc(zone, y, m, 1, 0, 0, 0, from) ||
      ib_tz_local_to_utc(zone, ny, nm, 1, 0, 0, 0, to))
    return -1;
  return 0;
}

int ib_cli_take_option(const char *cmd, int argc, char **argv, int *i,
                       const char *const *names, const char **const *slots,
                       size_t n) {
  for (size_t k = 0; k < n; k++) {
    size_t len = strlen(names[k]);
    if (strncmp(argv[*i], names[k], len) != 0) continue;
    if (argv[*i][len] == '=') {
      *slots[k] = argv[*i] + len + 1;
      return 1;
    }
    if (argv[*i][len] != '\0') continue;
    if (*i + 1 >= argc) {
      fprintf(stderr, "%s: %s needs a value (see itsm-bridge %s --help)\n",
              cmd, names[k], cmd);
      return -1;
    }
    *slots[k] = argv[++*i];
    return 1;
  }
  return 0;
}
