/*
 * cmd_history.c -- `itsm-bridge history SOURCE ID [--format table|json]`:
 * the field changes the syncs recorded for one ticket or outage (SPEC §9
 * "History"), oldest first. Read-only; never takes the sync lock. Knows
 * nothing of how the store compares records (store.h does).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tz.h"

static void usage(FILE *out) {
  fprintf(out,
          "Usage: itsm-bridge history SOURCE ID [--format table|json]\n\n"
          "The changes sync recorded for one ticket or outage of SOURCE (the "
          "source's\nown id, as stored), oldest first: when each was detected, "
          "by which sync run,\nthe field (priority, resolved_at, pauses, "
          "deleted_at...) and old -> new.\nInstants are ISO-8601 UTC; '-' "
          "is no value. A record never changed since it\nwas first stored "
          "lists nothing.\n"
          "Exit status 1 when the store holds no such record.\n");
}

/* A JSON string (or null), escaped; text is UTF-8 (the store holds valid
 * UTF-8 only). */
static void json_string(FILE *out, const char *s) {
  if (s == NULL) {
    fputs("null", out);
    return;
  }
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(out, "\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", out);
    else if (*p == '\t')
      fputs("\\t", out);
    else if (*p == '\r')
      fputs("\\r", out);
    else if (*p < 0x20 || *p == 0x7f)
      fprintf(out, "\\u%04x", *p);
    else
      fputc(*p, out);
  }
  fputc('"', out);
}

static void print_table(const char *source, const char *id,
                        const ib_change_list *l) {
  if (l->n == 0) {
    printf("%s %s: no changes recorded\n", source, id);
    return;
  }
  printf("%-20s %7s  %-7s %-28s %s\n", "DETECTED AT", "RUN", "RECORD", "FIELD",
         "OLD -> NEW");
  for (size_t i = 0; i < l->n; i++) {
    const ib_change *c = &l->items[i];
    char at[IB_ISO_LEN];
    ib_format_iso8601(c->detected_at, at);
    printf("%-20s %7lld  %-7s %-28s ", at, (long long)c->run_id, c->kind,
           c->field);
    ib_cli_put_cell(stdout, c->old_value);
    fputs(" -> ", stdout);
    ib_cli_put_cell(stdout, c->new_value);
    fputc('\n', stdout);
  }
}

static void print_json(const char *source, const char *id,
                       const ib_change_list *l) {
  fputs("{\"source\": ", stdout);
  json_string(stdout, source);
  fputs(", \"id\": ", stdout);
  json_string(stdout, id);
  fputs(", \"changes\": [", stdout);
  for (size_t i = 0; i < l->n; i++) {
    const ib_change *c = &l->items[i];
    char at[IB_ISO_LEN];
    ib_format_iso8601(c->detected_at, at);
    printf("%s\n  {\"detected_at\": \"%s\", \"run\": %lld, \"record\": ",
           i ? "," : "", at, (long long)c->run_id);
    json_string(stdout, c->kind);
    fputs(", \"field\": ", stdout);
    json_string(stdout, c->field);
    fputs(", \"old\": ", stdout);
    json_string(stdout, c->old_value);
    fputs(", \"new\": ", stdout);
    json_string(stdout, c->new_value);
    fputc('}', stdout);
  }
  fputs(l->n ? "\n]}\n" : "]}\n", stdout);
}

int ib_cmd_history(const ib_cli *cli, int argc, char **argv) {
  const char *format = "table", *pos[2] = {NULL, NULL};
  int npos = 0;
  static const char *const names[] = {"--format"};
  const char **const slots[] = {&format};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return IB_EXIT_OK;
    }
    int t = ib_cli_take_option("history", argc, argv, &i, names, slots, 1);
    if (t < 0) return IB_EXIT_USAGE;
    if (t > 0) continue;
    if (argv[i][0] == '-' || npos == 2) {
      fprintf(stderr,
              "history: unexpected argument '%s' (see itsm-bridge history "
              "--help)\n",
              argv[i]);
      return IB_EXIT_USAGE;
    }
    pos[npos++] = argv[i];
  }
  if (npos != 2) {
    fprintf(stderr,
            "history: give the source and the record's id: itsm-bridge "
            "history SOURCE ID\n");
    return IB_EXIT_USAGE;
  }
  if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0) {
    fprintf(stderr, "history: --format must be table or json, not '%s'\n",
            format);
    return IB_EXIT_USAGE;
  }
  ib_config *cfg = ib_cli_load_config(cli);
  if (cfg == NULL) return IB_EXIT_USAGE;
  ib_store *st = ib_cli_open_store_to_read(cfg);
  if (st == NULL) {
    ib_config_free(cfg);
    return IB_EXIT_FAILURE;
  }
  int rc = IB_EXIT_OK, found = 0;
  char err[512];
  ib_change_list changes = {0}; /* owned: ib_change_list_free */
  if (ib_store_history(st, pos[0], pos[1], &changes, &found, err, sizeof err)) {
    fprintf(stderr, "history: %s\n", err);
    rc = IB_EXIT_FAILURE;
  } else if (!found) {
    fprintf(stderr,
            "history: the store holds no ticket or outage '%s' of source "
            "'%s'; check the source name and the record's id in the source "
            "(not its key)\n",
            pos[1], pos[0]);
    rc = IB_EXIT_FAILURE;
  } else if (strcmp(format, "json") == 0) {
    print_json(pos[0], pos[1], &changes);
  } else {
    print_table(pos[0], pos[1], &changes);
  }
  ib_change_list_free(&changes);
  ib_cli_close_store(st);
  ib_config_free(cfg);
  return rc;
}
