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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* The installed plugins sit at a fixed place relative to the binary
 * (IB_PLUGIN_DIR_FROM_BIN, computed by CMake), so that a tree installed
 * with `cmake --install --prefix P` anywhere finds its own plugins. A
 * binary that is not installed (the build tree) falls back to the
 * configured install location. */
const char *ib_cli_default_plugin_dir(void) {
  static char dir[4096];
  if (dir[0]) return dir;
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  struct stat sb;
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    char joined[sizeof exe + sizeof IB_PLUGIN_DIR_FROM_BIN + 1];
    snprintf(joined, sizeof joined, "%s/%s", exe, IB_PLUGIN_DIR_FROM_BIN);
    if (realpath(joined, dir) != NULL && stat(dir, &sb) == 0 &&
        S_ISDIR(sb.st_mode))
      return dir;
  }
  snprintf(dir, sizeof dir, "%s", IB_DEFAULT_PLUGIN_DIR);
  return dir;
}

ib_store *ib_cli_open_store_to_read(const ib_config *cfg) {
  char err[1024];
  ib_store *st = ib_store_open_readonly(&cfg->store, err, sizeof err);
  if (st == NULL) {
    fprintf(stderr, "%s\n", err);
    return NULL;
  }
  if (ib_store_begin_read(st, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    ib_store_close(st);
    return NULL;
  }
  return st;
}

void ib_cli_close_store(ib_store *st) {
  if (st == NULL) return;
  ib_store_end_read(st);
  ib_store_close(st);
}

const char *ib_cli_plugin_dir(const ib_cli *cli, const ib_config *cfg) {
  if (cli->plugin_dir) return cli->plugin_dir;
  const char *env = getenv("ITSM_BRIDGE_PLUGIN_DIR");
  if (env && *env) return env;
  if (cfg && cfg->plugin_dir) return cfg->plugin_dir;
  return ib_cli_default_plugin_dir();
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
      fprintf(stderr, "%s: %s needs a value (see itsm-bridge %s --help)\n", cmd,
              names[k], cmd);
      return -1;
    }
    *slots[k] = argv[++*i];
    return 1;
  }
  return 0;
}

int ib_cli_resolve_period(const char *cmd, const ib_cli_period_args *a,
                          const char *zone, int default_month, ib_time *from,
                          ib_time *to, ib_time *as_of, char *label,
                          size_t len) {
  *as_of = (ib_time)time(NULL);
  if (a->as_of != NULL && ib_cli_parse_instant(a->as_of, zone, as_of) != 0) {
    fprintf(stderr, "%s: --as-of '%s' is not an ISO-8601 instant\n", cmd,
            a->as_of);
    return -1;
  }
  if ((a->from != NULL) != (a->to != NULL) ||
      (a->month != NULL && a->from != NULL) ||
      (!default_month && a->month == NULL && a->from == NULL)) {
    fprintf(stderr,
            "%s: give either --month YYYY-MM or both --from DATE and "
            "--to DATE\n",
            cmd);
    return -1;
  }
  if (a->from != NULL) {
    if (ib_cli_parse_instant(a->from, zone, from) != 0 ||
        ib_cli_parse_instant(a->to, zone, to) != 0) {
      fprintf(stderr,
              "%s: --from/--to take a date YYYY-MM-DD or an ISO-8601 "
              "instant such as 2026-10-01T00:00:00Z\n",
              cmd);
      return -1;
    }
    if (*to <= *from) {
      fprintf(stderr, "%s: --to (%s) must be after --from (%s)\n", cmd, a->to,
              a->from);
      return -1;
    }
    char f[IB_ISO_LEN], t[IB_ISO_LEN];
    ib_format_iso8601(*from, f);
    ib_format_iso8601(*to, t);
    snprintf(label, len, "%s/%s", f, t);
    return 0;
  }
  char month[32];
  if (a->month != NULL) {
    snprintf(month, sizeof month, "%s", a->month);
  } else { /* the month of as_of, in the configuration's zone */
    struct tm lt;
    if (ib_tz_utc_to_local(zone, *as_of, &lt) != 0) {
      fprintf(stderr, "%s: unknown timezone '%s'\n", cmd, zone);
      return -1;
    }
    snprintf(month, sizeof month, "%04d-%02d", lt.tm_year + 1900,
             lt.tm_mon + 1);
  }
  if (ib_cli_parse_month(month, zone, from, to) != 0) {
    fprintf(stderr, "%s: --month '%s' is not a month YYYY-MM\n", cmd, month);
    return -1;
  }
  snprintf(label, len, "%s", month);
  return 0;
}

size_t ib_cli_earlier_priorities(void *ctx, const ib_ticket_row *t, int *out,
                                 size_t max) {
  ib_store *st = ctx;
  ib_change_list list = {0};
  int found = 0;
  char err[256];
  size_t n = 0;
  if (ib_store_history(st, t->source, t->id, &list, &found, err, sizeof err))
    return 0; /* no history: the reading is simply not offered */
  for (size_t i = 0; i < list.n && n < max; i++) {
    const ib_change *c = &list.items[i];
    if (strcmp(c->kind, "ticket") != 0 || strcmp(c->field, "priority") != 0)
      continue;
    int p = c->old_value ? ib_priority_parse(c->old_value) : -1;
    if (p > 0) out[n++] = p;
  }
  ib_change_list_free(&list);
  return n;
}

int ib_cli_take_all_options(const char *cmd, int argc, char **argv,
                            const char *const *names, const char **const *slots,
                            size_t n, const char *usage) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(usage, stdout);
      return 1;
    }
    int t = ib_cli_take_option(cmd, argc, argv, &i, names, slots, n);
    if (t < 0) return -1;
    if (t == 0) {
      fprintf(stderr,
              "%s: unexpected argument '%s' (see itsm-bridge %s --help)\n", cmd,
              argv[i], cmd);
      return -1;
    }
  }
  return 0;
}

ib_time *ib_cli_last_successes(const char *cmd, const ib_config *cfg,
                               ib_store *st) {
  ib_time *last = calloc(cfg->n_sources + 1, sizeof *last);
  if (last == NULL) {
    fprintf(stderr, "%s: out of memory\n", cmd);
    return NULL;
  }
  for (size_t i = 0; i < cfg->n_sources; i++) {
    ib_source_state ss;
    char err[512];
    if (ib_store_source_state(st, cfg->sources[i].name, 0, &ss, err,
                              sizeof err)) {
      fprintf(stderr, "%s: %s\n", cmd, err);
      free(last);
      return NULL;
    }
    last[i] = ss.last_success;
  }
  return last;
}

void ib_cli_put_cell(FILE *out, const char *s) {
  if (s == NULL) {
    fputc('-', out);
    return;
  }
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
}
