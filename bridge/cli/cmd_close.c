/*
 * cmd_close.c -- the `close` and `verify` commands (SPEC §9): freezing a
 * month's figures as an edition chained to the store's previous ones, and
 * checking later that today's store still gives the same figures, naming
 * what moved and the recorded changes that explain it. The figures come
 * from the KPI engine and the edition document from edition.h; this file
 * only reads options, drives the store and prints. Must not know SQL.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "canon_json.h"
#include "cli.h"
#include "edition.h"
#include "kpi.h"
#include "kpi_format.h"
#include "sha256.h"
#include "tz.h"

static const char close_usage[] =
    "usage: itsm-bridge close --month YYYY-MM [--as-of ISO]\n"
    "                         [--restate REASON] [--out FILE]\n"
    "Freezes the month's figures as an edition: the KPI document, every\n"
    "ticket's result, digests of the definitions and of the input rows, the\n"
    "engine version, chained by SHA-256 to the store's previous edition.\n"
    "  --month YYYY-MM    the month (configuration timezone); it must be over\n"
    "  --as-of ISO        measure as of this instant (default: now)\n"
    "  --restate REASON   close a month already closed again: a new edition\n"
    "                     naming the one it replaces and why\n"
    "  --out FILE         also write the edition's canonical JSON to FILE;\n"
    "                     `sha256sum FILE` prints the edition's hash\n"
    "Exit status: 0 closed, 1 store failure, 2 usage (month not over, already\n"
    "closed without --restate).\n";

static const char verify_usage[] =
    "usage: itsm-bridge verify --month YYYY-MM [--format table|json]\n"
    "Recomputes a closed month on today's store with its latest edition's\n"
    "as_of and compares: figures, per-ticket results (priority, target,\n"
    "measured time, verdict), credits; each changed ticket comes with the\n"
    "field changes the syncs recorded since the edition. Also checks that no\n"
    "edition of the store was altered (the hash chain).\n"
    "  --format FMT   table (default) or json (itsm-bridge.verify/1)\n"
    "Exit status: 0 as frozen and chain intact, 1 restated or chain broken\n"
    "(or a store failure), 2 usage (the month was never closed).\n";

/* Writes text to path through a temporary file renamed into place, so
 * that a reader never sees half an edition. 0, or -1 with the error
 * printed. */
static int write_file(const char *path, const char *text) {
  size_t n = strlen(path) + 16;
  char *tmp = malloc(n);
  if (tmp == NULL) return -1;
  snprintf(tmp, n, "%s.tmpXXXXXX", path);
  int fd = mkstemp(tmp);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (f == NULL) {
    fprintf(stderr, "close: cannot write %s: %s\n", path, strerror(errno));
    if (fd >= 0) {
      close(fd);
      unlink(tmp);
    }
    free(tmp);
    return -1;
  }
  (void)fchmod(fd, 0644); /* evidence to hand over, not a secret */
  int ok = fputs(text, f) >= 0;
  ok = (fflush(f) == 0) && ok && fsync(fd) == 0;
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, path) != 0) {
    fprintf(stderr, "close: cannot write %s: %s\n", path, strerror(errno));
    unlink(tmp);
    free(tmp);
    return -1;
  }
  free(tmp);
  return 0;
}

/* ---- close ----------------------------------------------------------------
 */

int ib_cmd_close(const ib_cli *cli, int argc, char **argv) {
  const char *month = NULL, *as_of_text = NULL, *restate = NULL, *out = NULL;
  static const char *const names[] = {"--month", "--as-of", "--restate",
                                      "--out"};
  const char **const slots[] = {&month, &as_of_text, &restate, &out};
  int taken = ib_cli_take_all_options("close", argc, argv, names, slots, 4,
                                      close_usage);
  if (taken != 0) return taken > 0 ? IB_EXIT_OK : IB_EXIT_USAGE;
  if (month == NULL) {
    fprintf(stderr, "close: give the month to close: --month YYYY-MM\n");
    return IB_EXIT_USAGE;
  }
  if (restate != NULL && restate[strspn(restate, " \t")] == '\0') {
    fprintf(stderr, "close: --restate needs the reason, in words\n");
    return IB_EXIT_USAGE;
  }

  ib_config *cfg = NULL;     /* owned here */
  ib_store *st = NULL;       /* owned here */
  ib_edition_list eds = {0}; /* owned here */
  cJSON *doc = NULL;         /* owned here */
  char *text = NULL;         /* owned here */
  int rc = IB_EXIT_USAGE, wrote = 0;
  char err[512], label[64];
  ib_time from, to, as_of;

  cfg = ib_cli_load_config(cli);
  if (cfg == NULL) goto done;
  const char *zone = cfg->timezone ? cfg->timezone : "UTC";
  ib_cli_period_args pa = {month, NULL, NULL, as_of_text};
  if (ib_cli_resolve_period("close", &pa, zone, 0, &from, &to, &as_of, label,
                            sizeof label) != 0)
    goto done;
  if (as_of < to) {
    char end[IB_ISO_LEN];
    ib_format_iso8601(to, end);
    fprintf(stderr,
            "close: %s is not over as of the measure (it ends at %s); a "
            "month is closed once it has ended\n",
            month, end);
    goto done;
  }
  rc = IB_EXIT_FAILURE;
  st = ib_cli_open_store(cfg);
  if (st == NULL) goto done;
  /* The sync lock keeps a sync from committing between the figures and
   * the edition, and two closes from forking the chain. */
  if (ib_store_lock_sync(st, err, sizeof err) ||
      ib_store_editions(st, &eds, err, sizeof err)) {
    fprintf(stderr, "close: %s\n", err);
    goto done;
  }
  const ib_edition_rec *prev = ib_cli_latest_edition(&eds, month);
  const ib_edition_rec *head = eds.n ? &eds.items[eds.n - 1] : NULL;
  if (prev != NULL && restate == NULL) {
    char at[IB_ISO_LEN];
    ib_format_iso8601(prev->closed_at, at);
    fprintf(stderr,
            "close: %s is already closed (edition %.12s, closed at %s); to "
            "close it again give the reason: --restate \"...\"\n",
            month, prev->hash, at);
    rc = IB_EXIT_USAGE;
    goto done;
  }
  if (prev == NULL && restate != NULL) {
    fprintf(stderr,
            "close: %s has never been closed, so there is nothing to "
            "restate; leave out --restate\n",
            month);
    rc = IB_EXIT_USAGE;
    goto done;
  }
  ib_edition_meta meta = {month,
                          (ib_time)time(NULL),
                          head ? head->hash : NULL,
                          prev ? prev->hash : NULL,
                          restate,
                          ib_cli_engine_name()};
  doc = ib_cli_compute_edition("close", cfg, st, from, to, as_of, &meta);
  if (doc == NULL) goto done;
  text = ib_json_canonical(doc);
  if (text == NULL) {
    fprintf(stderr, "close: out of memory writing the edition\n");
    goto done;
  }
  char hash[IB_SHA256_HEX_LEN];
  ib_sha256_hex(text, strlen(text), hash);
  if (out != NULL) {
    if (write_file(out, text) != 0) goto done;
    wrote = 1;
  }
  ib_edition_rec rec = {
      0,    (char *)month,          meta.closed_at,        as_of,
      hash, (char *)meta.prev_hash, (char *)meta.replaces, (char *)restate,
      text};
  if (ib_store_begin(st, err, sizeof err) ||
      ib_store_put_edition(st, &rec, err, sizeof err) ||
      ib_store_commit(st, NULL, err, sizeof err)) {
    ib_store_rollback(st);
    fprintf(stderr, "close: %s\n", err);
    if (wrote) unlink(out); /* not an edition of the store */
    goto done;
  }
  char at[IB_ISO_LEN];
  ib_format_iso8601(as_of, at);
  const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(doc, "inputs");
  printf("%s closed as of %s: edition %s\n", month, at, hash);
  printf("  %d tickets and %d outages in, %d ticket results frozen\n",
         cJSON_GetObjectItemCaseSensitive(inputs, "tickets")->valueint,
         cJSON_GetObjectItemCaseSensitive(inputs, "outages")->valueint,
         cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "tickets")));
  if (prev != NULL)
    printf("  restates edition %.12s: %s\n", prev->hash, restate);
  if (head != NULL)
    printf("  chained to edition %.12s (%s)\n", head->hash, head->month);
  if (out != NULL)
    printf("  written to %s (sha256sum prints the hash above)\n", out);
  printf(
      "Keep the hash in the minutes: `itsm-bridge verify --month %s` "
      "checks the month against it.\n",
      month);
  rc = IB_EXIT_OK;
done:
  free(text);
  cJSON_Delete(doc);
  ib_edition_list_free(&eds);
  ib_cli_close_store(st);
  ib_config_free(cfg);
  return rc;
}

/* ---- verify -----------------------------------------------------------------
 */

static void put_value(const cJSON *v) {
  if (v == NULL || cJSON_IsNull(v)) {
    fputs("-", stdout);
  } else if (cJSON_IsString(v)) {
    ib_cli_put_cell(stdout, v->valuestring);
  } else {
    char *t = cJSON_PrintUnformatted(v);
    if (t) ib_cli_put_cell(stdout, t);
    free(t);
  }
}

/* Prints tmpl with each "{name}" replaced by obj's member `name` (as
 * put_value shows it); the rest of tmpl is printed as it is. */
static void put_members(const cJSON *obj, const char *tmpl) {
  while (*tmpl) {
    const char *open = strchr(tmpl, '{');
    const char *close = open ? strchr(open, '}') : NULL;
    if (open == NULL || close == NULL) {
      fputs(tmpl, stdout);
      return;
    }
    fwrite(tmpl, 1, (size_t)(open - tmpl), stdout);
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)(close - open - 1), open + 1);
    put_value(cJSON_GetObjectItemCaseSensitive(obj, name));
    tmpl = close + 1;
  }
}

static void put_result(const cJSON *r) {
  if (r == NULL || cJSON_IsNull(r)) {
    fputs("(not in the cohort)", stdout);
    return;
  }
  const cJSON *target = cJSON_GetObjectItemCaseSensitive(r, "target_s");
  const cJSON *measured = cJSON_GetObjectItemCaseSensitive(r, "measured_s");
  char tb[32] = "-", mb[32] = "-";
  if (cJSON_IsNumber(target))
    ib_kpi_format_duration(target->valuedouble, tb, sizeof tb);
  if (cJSON_IsNumber(measured))
    ib_kpi_format_duration(measured->valuedouble, mb, sizeof mb);
  put_value(cJSON_GetObjectItemCaseSensitive(r, "priority"));
  printf(" target %s measured %s ", tb, mb);
  put_value(cJSON_GetObjectItemCaseSensitive(r, "verdict"));
}

static void print_verify_table(const cJSON *v, const ib_edition_list *eds,
                               const ib_string_list *problems,
                               const cJSON *frozen, const cJSON *now) {
  const cJSON *ed = cJSON_GetObjectItemCaseSensitive(v, "edition");
  int unchanged =
      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "unchanged"));
  int chain_ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "chain_ok"));
  printf("Edition of ");
  put_value(cJSON_GetObjectItemCaseSensitive(v, "month"));
  printf(": ");
  put_value(cJSON_GetObjectItemCaseSensitive(ed, "hash"));
  printf("\n  closed at ");
  put_value(cJSON_GetObjectItemCaseSensitive(ed, "closed_at"));
  printf(", measured as of ");
  put_value(cJSON_GetObjectItemCaseSensitive(ed, "as_of"));
  printf("\nChain: %s (%zu edition%s in the store)\n",
         chain_ok ? "intact" : "BROKEN", eds->n, eds->n == 1 ? "" : "s");
  for (size_t i = 0; i < problems->n; i++) {
    printf("  ");
    ib_cli_put_cell(stdout, problems->items[i]);
    putchar('\n');
  }
  static const char *const notes[][2] = {
      {"definitions_sha256",
       "the SLA, calendar or availability definitions changed since"},
      {"engine", "the engine version changed since"}};
  for (size_t k = 0; k < 2; k++) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(frozen, notes[k][0]);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(now, notes[k][0]);
    if (cJSON_IsString(a) && cJSON_IsString(b) &&
        strcmp(a->valuestring, b->valuestring) != 0)
      printf("Note: %s the edition\n", notes[k][1]);
  }
  const cJSON *fi = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(frozen, "inputs"), "sha256");
  const cJSON *ni = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(now, "inputs"), "sha256");
  if (cJSON_IsString(fi) && cJSON_IsString(ni) &&
      strcmp(fi->valuestring, ni->valuestring) != 0 && unchanged)
    printf(
        "Note: input rows changed since the edition, without changing "
        "any figure\n");
  const cJSON *figures = cJSON_GetObjectItemCaseSensitive(v, "figures");
  const cJSON *tickets = cJSON_GetObjectItemCaseSensitive(v, "tickets");
  const cJSON *credits = cJSON_GetObjectItemCaseSensitive(v, "credit_delta");
  if (unchanged) {
    printf(
        "Result: as frozen: every figure and every ticket's result is "
        "unchanged\n");
    return;
  }
  printf(
      "Result: RESTATED: %d figure%s and %d ticket result%s changed\n",
      cJSON_GetArraySize(figures), cJSON_GetArraySize(figures) == 1 ? "" : "s",
      cJSON_GetArraySize(tickets), cJSON_GetArraySize(tickets) == 1 ? "" : "s");
  if (cJSON_GetArraySize(figures) > 0) printf("\nFigures (frozen -> now)\n");
  const cJSON *f;
  cJSON_ArrayForEach(f, figures) put_members(f, "  {path}: {old} -> {new}\n");
  if (cJSON_GetArraySize(tickets) > 0) printf("\nTickets (frozen -> now)\n");
  const cJSON *t;
  cJSON_ArrayForEach(t, tickets) {
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(t, "key");
    put_members(t, cJSON_IsString(key) ? "  {source} {key} [{sla} {kpi}]\n    "
                                       : "  {source} {id} [{sla} {kpi}]\n    ");
    put_result(cJSON_GetObjectItemCaseSensitive(t, "old"));
    printf("\n -> ");
    put_result(cJSON_GetObjectItemCaseSensitive(t, "new"));
    putchar('\n');
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(t, "changes");
    if (cJSON_GetArraySize(changes) == 0)
      printf(
          "    no field change recorded since the edition (definitions, "
          "calendar or engine)\n");
    const cJSON *c;
    cJSON_ArrayForEach(c, changes)
        put_members(c,
                    "    {field} {old} -> {new}, detected {detected_at} (sync "
                    "run {run})\n");
  }
  if (cJSON_GetArraySize(credits) > 0) printf("\nCredits (frozen -> now)\n");
  cJSON_ArrayForEach(f, credits) {
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(f, "old");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(f, "new");
    put_members(f, "  {sla_or_service}: {old} -> {new} {currency}");
    if (cJSON_IsNumber(o) && cJSON_IsNumber(n))
      printf(" (%+.2f)", n->valuedouble - o->valuedouble);
    putchar('\n');
  }
}

int ib_cmd_verify(const ib_cli *cli, int argc, char **argv) {
  const char *month = NULL, *format = "table";
  static const char *const names[] = {"--month", "--format"};
  const char **const slots[] = {&month, &format};
  int taken = ib_cli_take_all_options("verify", argc, argv, names, slots, 2,
                                      verify_usage);
  if (taken != 0) return taken > 0 ? IB_EXIT_OK : IB_EXIT_USAGE;
  if (month == NULL) {
    fprintf(stderr, "verify: give the month to verify: --month YYYY-MM\n");
    return IB_EXIT_USAGE;
  }
  int json = strcmp(format, "json") == 0;
  if (!json && strcmp(format, "table") != 0) {
    fprintf(stderr, "verify: --format must be table or json, not '%s'\n",
            format);
    return IB_EXIT_USAGE;
  }

  ib_config *cfg = NULL; /* owned here */
  ib_store *st = NULL;   /* owned here */
  ib_cli_verified v;     /* owned here */
  memset(&v, 0, sizeof v);
  int rc = IB_EXIT_USAGE;

  cfg = ib_cli_load_config(cli);
  if (cfg == NULL) goto done;
  ib_time from, to;
  if (ib_cli_parse_month(month, cfg->timezone ? cfg->timezone : "UTC", &from,
                         &to) != 0) {
    fprintf(stderr, "verify: --month must be YYYY-MM, not '%s'\n", month);
    goto done;
  }
  rc = IB_EXIT_FAILURE;
  st = ib_cli_open_store_to_read(cfg);
  if (st == NULL) goto done;
  int found = ib_cli_verify_month("verify", cfg, st, month, &v);
  if (found < 0) goto done;
  if (found == 0) {
    fprintf(stderr,
            "verify: %s has not been closed; close it first: itsm-bridge "
            "close --month %s\n",
            month, month);
    rc = IB_EXIT_USAGE;
    goto done;
  }
  if (json) {
    char *text = cJSON_Print(v.verify);
    if (text == NULL) {
      fprintf(stderr, "verify: out of memory\n");
      goto done;
    }
    puts(text);
    free(text);
    for (size_t i = 0; i < v.problems.n; i++)
      fprintf(stderr, "verify: %s\n", v.problems.items[i]);
  } else {
    print_verify_table(v.verify, &v.editions, &v.problems, v.frozen, v.now);
  }
  if (fflush(stdout) != 0) {
    fprintf(stderr, "verify: cannot write to standard output\n");
    goto done;
  }
  rc = v.chain_ok && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v.verify,
                                                                   "unchanged"))
           ? IB_EXIT_OK
           : IB_EXIT_FAILURE;
done:
  ib_cli_verified_free(&v);
  ib_cli_close_store(st);
  ib_config_free(cfg);
  return rc;
}
