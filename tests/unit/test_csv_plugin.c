/*
 * test_csv_plugin.c -- loads the real csv.so and drives it with a fake host
 * services table: CSV quirks (quotes, CRLF, BOM, latin1, delimiters), bad
 * rows with their physical line numbers, configuration errors, incremental
 * sync and two instances at once. Must not reach into the plugin's
 * internals: only the SDK's entry point and descriptor.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "itsm_bridge/plugin.h"
#include "tz.h"

#define CAPTURE_MAX 64
#define TEXT_MAX 256
#define NULL_MARK "<null>"

typedef struct captured_ticket {
  char id[TEXT_MAX], key[TEXT_MAX], title[TEXT_MAX], kind[TEXT_MAX],
      kind_raw[TEXT_MAX], priority[TEXT_MAX], priority_raw[TEXT_MAX],
      status[TEXT_MAX], status_raw[TEXT_MAX], service[TEXT_MAX],
      group[TEXT_MAX], where[TEXT_MAX];
  ib_time created, first_response, resolved, closed, updated;
  size_t n_pauses;
  ib_interval pause;
} captured_ticket;

typedef struct captured_outage {
  char id[TEXT_MAX], service[TEXT_MAX], kind[TEXT_MAX], kind_raw[TEXT_MAX],
      where[TEXT_MAX];
  ib_time start, end, updated;
} captured_outage;

typedef struct captured_reject {
  char id[TEXT_MAX]; /* "" when the plugin rejected without an id */
  char where[TEXT_MAX];
  char msg[1024];
} captured_reject;

/* The fake host's view of one configured source. */
struct ib_source {
  const char *const *opts; /* name, value, name, value, ..., NULL */
  const ib_pair *priorities, *statuses, *kinds;
  size_t n_priorities, n_statuses, n_kinds;
  const char *zone;
  ib_time since;
  const char *host_refuses_id; /* emit_* returns IB_ERR_REJECTED for it */
  int count_only; /* keep only the last ticket, count them in n_counted */
  size_t n_counted;

  captured_ticket tickets[CAPTURE_MAX];
  size_t n_tickets;
  captured_outage outages[CAPTURE_MAX];
  size_t n_outages;
  captured_reject rejects[CAPTURE_MAX];
  size_t n_rejects;
  ib_time watermarks[CAPTURE_MAX]; /* one per commit */
  size_t emitted_at_commit[CAPTURE_MAX];
  size_t n_commits;
  char last_error[1024];
  char config_option[TEXT_MAX]; /* the option config_error() named */
  char last_warn[1024];
  size_t n_errors;
  uint64_t progress_done, progress_total;
};

static const ib_plugin *plugin;
static void *plugin_handle;

/* ---- fake host services ------------------------------------------------- */

static const ib_option_def *declared(const char *name) {
  const char *dot = strchr(name, '.');
  size_t len = dot ? (size_t)(dot - name) : strlen(name);
  for (const ib_option_def *o = plugin->options; o->name; o++) {
    if (strlen(o->name) != len || strncmp(o->name, name, len) != 0) continue;
    if (!dot) return o;
    for (const ib_option_def *c = o->children; c && c->name; c++)
      if (strcmp(c->name, dot + 1) == 0) return c;
  }
  return NULL;
}

static void fake_log(ib_source *src, ib_log_level level, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (level == IB_LOG_ERROR) {
    snprintf(src->last_error, sizeof src->last_error, "%s", buf);
    src->n_errors++;
  } else if (level == IB_LOG_WARN) {
    snprintf(src->last_warn, sizeof src->last_warn, "%s", buf);
  }
}

static const char *fake_strerror(ib_status st) {
  return st ? "error" : "ok";
}

static const char *fake_get_string(ib_source *src, const char *name) {
  /* Every option the plugin asks for must be one it declared. */
  const ib_option_def *def = declared(name);
  assert_non_null(def);
  for (size_t i = 0; src->opts && src->opts[i]; i += 2)
    if (strcmp(src->opts[i], name) == 0) return src->opts[i + 1];
  return def->default_value;
}

static int64_t fake_get_int(ib_source *src, const char *name,
                            int64_t fallback) {
  const char *v = fake_get_string(src, name);
  return v ? strtoll(v, NULL, 10) : fallback;
}

static int fake_get_bool(ib_source *src, const char *name, int fallback) {
  return fallback;
}

static double fake_get_double(ib_source *src, const char *name,
                              double fallback) {
  return fallback;
}

static const char *const *fake_get_strings(ib_source *src, const char *name,
                                           size_t *count) {
  *count = 0;
  return NULL;
}

static const ib_pair *fake_get_pairs(ib_source *src, const char *name,
                                     size_t *count) {
  assert_non_null(declared(name));
  if (strcmp(name, "priorities") == 0) {
    *count = src->n_priorities;
    return src->priorities;
  }
  if (strcmp(name, "statuses") == 0) {
    *count = src->n_statuses;
    return src->statuses;
  }
  if (strcmp(name, "kinds") == 0) {
    *count = src->n_kinds;
    return src->kinds;
  }
  *count = 0;
  return NULL;
}

static const char *fake_map(ib_source *src, const char *option,
                            const char *raw) {
  size_t n = 0;
  const ib_pair *pairs = fake_get_pairs(src, option, &n);
  while (*raw == ' ') raw++;
  size_t len = strlen(raw);
  while (len > 0 && raw[len - 1] == ' ') len--;
  for (size_t i = 0; i < n; i++)
    if (strlen(pairs[i].from) == len &&
        strncasecmp(pairs[i].from, raw, len) == 0)
      return pairs[i].to;
  return NULL;
}

static ib_status fake_parse_time(ib_source *src, const char *text,
                                 const char *format, ib_time *out) {
  const char *zone = src->zone ? src->zone : "UTC";
  int rc = format ? ib_parse_with_format(text, format, zone, out)
                  : ib_parse_iso8601(text, zone, out);
  return rc == 0 ? IB_OK : IB_ERR_PARSE;
}

static void copy(char *dst, const char *s) {
  snprintf(dst, TEXT_MAX, "%s", s ? s : NULL_MARK);
}

static ib_status fake_emit_ticket(ib_source *src, const ib_ticket *t,
                                  const char *where) {
  assert_int_equal(t->struct_size, sizeof(ib_ticket));
  if (src->host_refuses_id && strcmp(t->id, src->host_refuses_id) == 0)
    return IB_ERR_REJECTED;
  src->n_counted++;
  if (src->count_only) src->n_tickets = 0;
  assert_true(src->n_tickets < CAPTURE_MAX);
  captured_ticket *c = &src->tickets[src->n_tickets++];
  copy(c->id, t->id);
  copy(c->key, t->key);
  copy(c->title, t->title);
  copy(c->kind, t->kind);
  copy(c->kind_raw, t->kind_raw);
  copy(c->priority, t->priority);
  copy(c->priority_raw, t->priority_raw);
  copy(c->status, t->status);
  copy(c->status_raw, t->status_raw);
  copy(c->service, t->service);
  copy(c->group, t->group);
  copy(c->where, where);
  c->created = t->created_at;
  c->first_response = t->first_response_at;
  c->resolved = t->resolved_at;
  c->closed = t->closed_at;
  c->updated = t->updated_at;
  c->n_pauses = t->n_pauses;
  if (t->n_pauses > 0) c->pause = t->pauses[0];
  return IB_OK;
}

static ib_status fake_emit_outage(ib_source *src, const ib_outage *o,
                                  const char *where) {
  assert_int_equal(o->struct_size, sizeof(ib_outage));
  assert_true(src->n_outages < CAPTURE_MAX);
  captured_outage *c = &src->outages[src->n_outages++];
  copy(c->id, o->id);
  copy(c->service, o->service);
  copy(c->kind, o->kind);
  copy(c->kind_raw, o->kind_raw);
  copy(c->where, where);
  c->start = o->start;
  c->end = o->end;
  c->updated = o->updated_at;
  return IB_OK;
}

static void fake_reject(ib_source *src, const char *where, const char *fmt,
                        ...) {
  assert_true(src->n_rejects < CAPTURE_MAX);
  captured_reject *r = &src->rejects[src->n_rejects++];
  snprintf(r->where, sizeof r->where, "%s", where);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->msg, sizeof r->msg, fmt, ap);
  va_end(ap);
}

static void fake_config_error(ib_source *src, const char *option,
                              const char *fmt, ...) {
  snprintf(src->config_option, sizeof src->config_option, "%s",
           option ? option : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(src->last_error, sizeof src->last_error, fmt, ap);
  va_end(ap);
  src->n_errors++;
}

/* The id of a rejected record is kept (the host lists it for fetch). */
static void fake_reject_record(ib_source *src, const char *id,
                               const char *where, const char *fmt, ...) {
  assert_true(src->n_rejects < CAPTURE_MAX);
  captured_reject *r = &src->rejects[src->n_rejects++];
  snprintf(r->where, sizeof r->where, "%s", where);
  snprintf(r->id, sizeof r->id, "%s", id ? id : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->msg, sizeof r->msg, fmt, ap);
  va_end(ap);
}

static ib_status fake_commit(ib_source *src, ib_time watermark) {
  assert_true(src->n_commits < CAPTURE_MAX);
  src->emitted_at_commit[src->n_commits] = src->n_counted + src->n_outages;
  src->watermarks[src->n_commits++] = watermark;
  return IB_OK;
}

static ib_time fake_sync_since(ib_source *src) {
  return src->since;
}

static void fake_progress(ib_source *src, uint64_t done, uint64_t total) {
  src->progress_done = done;
  src->progress_total = total;
}

static int fake_should_stop(ib_source *src) {
  return 0;
}

static const ib_host_services host = {
    .struct_size = sizeof(ib_host_services),
    .abi_version = IB_PLUGIN_ABI_VERSION,
    .log = fake_log,
    .strerror = fake_strerror,
    .get_string = fake_get_string,
    .get_int = fake_get_int,
    .get_bool = fake_get_bool,
    .get_double = fake_get_double,
    .get_strings = fake_get_strings,
    .get_pairs = fake_get_pairs,
    .map = fake_map,
    .parse_time = fake_parse_time,
    .emit_ticket = fake_emit_ticket,
    .emit_outage = fake_emit_outage,
    .reject = fake_reject,
    .commit = fake_commit,
    .sync_since = fake_sync_since,
    .progress = fake_progress,
    .should_stop = fake_should_stop,
    .config_error = fake_config_error,
    .reject_record = fake_reject_record,
};

/* ---- helpers ------------------------------------------------------------ */

/* A temporary file holding `n` bytes; the caller unlinks and frees it. */
static char *temp_csv(const char *bytes, size_t n) {
  char *path = strdup("/tmp/ib-csv-test-XXXXXX");
  assert_non_null(path);
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, bytes, n), (ssize_t)n);
  close(fd);
  return path;
}

static ib_source *new_source(void) {
  ib_source *src = calloc(1, sizeof *src);
  assert_non_null(src);
  src->since = IB_TIME_NONE;
  return src;
}

/* Opens, syncs and closes; returns the first failing status. */
static ib_status run(ib_source *src) {
  void *inst = NULL;
  ib_status st = plugin->open(&host, src, &inst);
  if (st != IB_OK) return st;
  st = plugin->sync(inst);
  plugin->close(inst);
  return st;
}

/* An instant given as its UTC wall clock (hand-converted from local). */
static ib_time utc(int y, int mo, int d, int h, int mi) {
  return ib_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

static int setup_plugin(void **state) {
  plugin_handle =
      dlopen(IB_BINARY_DIR "/plugins/csv.so", RTLD_NOW | RTLD_LOCAL);
  if (plugin_handle == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return -1;
  }
  ib_plugin_entry_fn entry =
      (ib_plugin_entry_fn)dlsym(plugin_handle, IB_PLUGIN_ENTRY_SYMBOL);
  if (entry == NULL) return -1;
  plugin = entry();
  return plugin != NULL && plugin->magic == IB_PLUGIN_MAGIC ? 0 : -1;
}

static int teardown_plugin(void **state) {
  if (plugin_handle) dlclose(plugin_handle);
  return 0;
}

/* ---- tests -------------------------------------------------------------- */

static void test_descriptor(void **state) {
  assert_int_equal(plugin->abi_version, IB_PLUGIN_ABI_VERSION);
  assert_int_equal(plugin->struct_size, sizeof(ib_plugin));
  assert_string_equal(plugin->name, "csv");
  assert_int_equal(plugin->flags & IB_PLUGIN_FLAG_HTTP, 0);
  /* timezone is a host-common option: the plugin must not declare it. */
  assert_null(declared("timezone"));
  const ib_option_def *columns = declared("columns");
  assert_non_null(columns);
  assert_int_equal(columns->type, IB_OPT_GROUP);
  assert_non_null(declared("columns.first_response"));
  assert_int_equal(declared("priorities")->type, IB_OPT_PAIRS);
}

/* RFC 4180 with CRLF: quotes, doubled quotes, delimiter and newlines
 * inside quotes; a bad row after a multi-line record names its physical
 * line. Ends without a final newline. */
static void test_rfc4180_quirks(void **state) {
  static const char data[] =
      "id,title,priority,created\r\n"                             /* line 1 */
      "1,plain,P1,2026-10-01T08:00:00Z\r\n"                       /* 2 */
      "2,\"with, comma\",P2,2026-10-01T09:00:00Z\r\n"             /* 3 */
      "3,\"say \"\"hi\"\"\",P3,2026-10-01T10:00:00Z\r\n"          /* 4 */
      "4,\"two\r\nlines\nand three\",P4,2026-10-01T11:00:00Z\r\n" /* 5-7 */
      "5,\"\",P1,not-a-date\r\n"                                  /* 8 */
      "\r\n"                                                      /* 9 */
      "6,\"\"\"quoted\"\"\",p2,2026-10-01T12:00:00+02:00";        /* 10 */
  char *path = temp_csv(data, sizeof data - 1);
  const char *opts[] = {"path", path, NULL};
  ib_source *src = new_source();
  src->opts = opts;

  assert_int_equal(run(src), IB_OK);
  assert_int_equal(src->n_tickets, 5);
  assert_string_equal(src->tickets[0].title, "plain");
  assert_string_equal(src->tickets[1].title, "with, comma");
  assert_string_equal(src->tickets[2].title, "say \"hi\"");
  assert_string_equal(src->tickets[3].title, "two\r\nlines\nand three");
  assert_string_equal(src->tickets[3].where, "line 5");
  assert_string_equal(src->tickets[4].id, "6");
  assert_string_equal(src->tickets[4].title, "\"quoted\"");
  assert_string_equal(src->tickets[4].where, "line 10");
  /* "p2" is already a model value: accepted without mapping, normalised. */
  assert_string_equal(src->tickets[4].priority, "P2");
  assert_string_equal(src->tickets[4].priority_raw, "p2");
  /* 12:00 at +02:00 is 10:00 UTC. */
  assert_int_equal(src->tickets[4].created, utc(2026, 10, 1, 10, 0));
  /* No key column: left to the host (defaults to the id). */
  assert_string_equal(src->tickets[0].key, NULL_MARK);

  assert_int_equal(src->n_rejects, 1);
  assert_string_equal(src->rejects[0].where, "line 8");
  assert_non_null(strstr(src->rejects[0].msg, "not-a-date"));

  unlink(path);
  free(path);
  free(src);
}

/* The SPEC §4 French export: ';', UTF-8 BOM, French headers, dd/mm/YYYY
 * read in Europe/Paris, value mappings, status words as defaults. */
static void test_french_excel_export(void **state) {
  static const char data[] =
      "\xEF\xBB\xBFN\xC2\xB0 ticket;Objet;Type;Priorit\xC3\xA9;Statut;"
      "Service;Ouvert le;Pris en charge le;R\xC3\xA9solu le\r\n"
      "INC-1;Imprimante HS;Incident;Haute;En cours;ERP;12/10/2026 09:30;"
      "12/10/2026 09:50;\r\n"
      "INC-2;\"Acc\xC3\xA8s VPN; urgent\";Demande;P3;resolved;VPN;"
      "20/11/2026 10:00;;20/11/2026 16:15\r\n";
  char *path = temp_csv(data, sizeof data - 1);
  const char *opts[] = {"path",
                        path,
                        "delimiter",
                        ";",
                        "date_format",
                        "%d/%m/%Y %H:%M",
                        "columns.id",
                        "N\xC2\xB0 ticket",
                        "columns.title",
                        "Objet",
                        "columns.kind",
                        "Type",
                        "columns.priority",
                        "Priorit\xC3\xA9",
                        "columns.status",
                        "Statut",
                        "columns.service",
                        "Service",
                        "columns.created",
                        "Ouvert le",
                        "columns.first_response",
                        "Pris en charge le",
                        "columns.resolved",
                        "R\xC3\xA9solu le",
                        NULL};
  static const ib_pair prio[] = {{"Critique", "P1"}, {"Haute", "P2"}};
  static const ib_pair kinds[] = {{"Incident", "incident"},
                                  {"Demande", "request"}};
  static const ib_pair statuses[] = {{"En cours", "open"}};
  ib_source *src = new_source();
  src->opts = opts;
  src->zone = "Europe/Paris";
  src->priorities = prio;
  src->n_priorities = 2;
  src->kinds = kinds;
  src->n_kinds = 2;
  src->statuses = statuses;
  src->n_statuses = 1;

  assert_int_equal(run(src), IB_OK);
  assert_int_equal(src->n_rejects, 0);
  assert_int_equal(src->n_tickets, 2);
  captured_ticket *a = &src->tickets[0], *b = &src->tickets[1];
  assert_string_equal(a->id, "INC-1");
  assert_string_equal(a->priority, "P2");
  assert_string_equal(a->priority_raw, "Haute");
  assert_string_equal(a->status, "open");
  assert_string_equal(a->kind, "incident");
  assert_string_equal(a->service, "ERP");
  /* 12 Oct 2026 is summer time in Paris (UTC+2). */
  assert_int_equal(a->created, utc(2026, 10, 12, 7, 30));
  assert_int_equal(a->first_response, utc(2026, 10, 12, 7, 50));
  assert_int_equal(a->resolved, IB_TIME_NONE);
  assert_string_equal(b->title, "Acc\xC3\xA8s VPN; urgent");
  assert_string_equal(b->kind, "request");
  assert_string_equal(b->priority, "P3");
  assert_string_equal(b->status, "resolved");
  /* 20 Nov 2026 is winter time (UTC+1). */
  assert_int_equal(b->created, utc(2026, 11, 20, 9, 0));
  assert_int_equal(b->resolved, utc(2026, 11, 20, 15, 15));
  assert_int_equal(b->first_response, IB_TIME_NONE);
  /* No updated column: the watermark is left alone. */
  assert_int_equal(src->watermarks[src->n_commits - 1], IB_TIME_NONE);
  assert_int_equal(src->progress_done, sizeof data - 1);
  assert_int_equal(src->progress_total, sizeof data - 1);

  unlink(path);
  free(path);
  free(src);
}

/* Windows-1252 bytes become UTF-8; configured names are UTF-8. */
static void test_latin1(void **state) {
  static const char data[] =
      "Num;Priorit\xE9;Cr\xE9\xE9;Libell\xE9\n"
      "7;Tr\xE8s haute;2026-10-05 14:00;Co\xFBt \x80 \x93 r\xE9seau\n";
  char *path = temp_csv(data, sizeof data - 1);
  const char *opts[] = {"path",
                        path,
                        "delimiter",
                        ";",
                        "encoding",
                        "latin1",
                        "columns.id",
                        "Num",
                        "columns.priority",
                        "Priorit\xC3\xA9",
                        "columns.created",
                        "Cr\xC3\xA9\xC3\xA9",
                        "columns.title",
                        "Libell\xC3\xA9",
                        NULL};
  static const ib_pair prio[] = {{"Tr\xC3\xA8s haute", "P1"}};
  ib_source *src = new_source();
  src->opts = opts;
  src->zone = "Europe/Paris";
  src->priorities = prio;
  src->n_priorities = 1;

  assert_int_equal(run(src), IB_OK);
  assert_int_equal(src->n_rejects, 0);
  assert_int_equal(src->n_tickets, 1);
  assert_string_equal(src->tickets[0].priority, "P1");
  assert_string_equal(src->tickets[0].priority_raw, "Tr\xC3\xA8s haute");
  /* \x80 is the euro sign and \x93 a left double quote in Windows-1252. */
  assert_string_equal(src->tickets[0].title,
                      "Co\xC3\xBBt \xE2\x82\xAC \xE2\x80\x9C r\xC3\xA9seau");
  /* ISO without offset: read in the source's zone (UTC+2 on 5 Oct). */
  assert_int_equal(src->tickets[0].created, utc(2026, 10, 5, 12, 0));

  unlink(path);
  free(path);
  free(src);
}

/* Without encoding = latin1, the same bytes are refused row by row with a
 * hint, not stored as garbage. */
static void test_invalid_utf8_rejected(void **state) {
  static const char data[] =
      "id,title,created\n"
      "1,caf\xE9,2026-10-05T14:00:00Z\n"
      "2,caf\xC3\xA9,2026-10-05T14:00:00Z\n";
  char *path = temp_csv(data, sizeof data - 1);
  const char *opts[] = {"path", path, NULL};
  ib_source *src = new_source();
  src->opts = opts;

  assert_int_equal(run(src), IB_OK);
  assert_int_equal(src->n_tickets, 1);
  assert_string_equal(src->tickets[0].id, "2");
  assert_int_equal(src->n_rejects, 1);
  assert_string_equal(src->rejects[0].where, "line 2");
  assert_non_null(strstr(src->rejects[0].msg, "latin1"));

  unlink(path);
  free(path);
  free(src);
}

/* Bad date, unmapped priority, wrong column count, empty id, a stray quote
 * and an unclosed quote: each rejected with the line where its record
 * starts, and the good rows still come. */
static void test_bad_rows_reported_good_rows_kept(void **state) {
  static const char data[] =
      "id;title;priority;created\n"                 /* 1 */
      "A1;ok;Haute;01/10/2026 08:00\n"              /* 2 */
      "A2;\"multi\nline\";Haute;31/02/2026 08:00\n" /* 3-4: bad date */
      "A3;ok;Urgentissime;01/10/2026 08:00\n"       /* 5: unmapped */
      "A4;too;many;fields;01/10/2026 08:00\n"       /* 6: 5 fields */
      "A5;ok;P4;01/10/2026 09:00\n"                 /* 7: good */
      ";no id;P4;01/10/2026 09:00\n"                /* 8: empty id */
      "A6;\"stray\"x;P4;01/10/2026 09:00\n"         /* 9: stray quote */
      "A7;ok;P4;\n"                                 /* 10: no created */
      "A8;ok;P1;01/10/2026 10:00\n"                 /* 11: good */
      "A9;\"never closed;P1;01/10/2026 10:00\n";    /* 12: unclosed */
  char *path = temp_csv(data, sizeof data - 1);
  const char *opts[] = {"path",           path, "delimiter", ";", "date_format",
                        "%d/%m/%Y %H:%M", NULL};
  static const ib_pair prio[] = {{"Haute", "P2"}};
  ib_source *src = new_source();
  src->opts = opts;
  src->priorities = prio;
  src->n_priorities = 1;

  assert_int_equal(run(src), IB_OK);
  assert_int_equal(src->n_tickets, 3);
  assert_string_equal(src->tickets[0].id, "A1");
  assert_string_equal(src->tickets[1].id, "A5");
  assert_string_equal(src->tickets[2].id, "A8");
  assert_int_equal(src->tickets[2].created, utc(2026, 10, 1, 10, 0));

  const char *where[] = {"line 3", "line 5",  "line 6", "line 8",
                         "line 9", "line 10", "line 12"};
  const char *says[] = {"31/02/2026", "Urgentissime",  "5 fields",  "id",
                        "quote",      "creation date", "not closed"};
  /* Rows whose id field is readable are rejected with it, even when the
   * row is broken elsewhere (field count, quotes): the host asks for them
   * again and a --full sync does not take them for vanished. */
  const char *ids[] = {"A2", "A3", "A4", "", "A6", "A7", "A9"};
  assert_int_equal(src->n_rejects, 7);
  for (size_t i = 0; i < 7; i++) {
    assert_string_equal(src->rejects[i].where, where[i]);
    assert_non_null(strstr(src->rejects[i].msg, says[i]));
    assert_string_equal(src->rejects[i].id, ids[i]);
  }
  unlink(path);
  free(path);
  free(src);
}

/* A configured header missing from the file is a configuration error that
 * names it; nothing is emitted. */
static void test_missing_header_column(void **state) {
  static const char data[] = "id,created\n1,2026-10-01T08:00:00Z\n";
  char *path = temp_csv(data, sizeof data - 1);
  const char *opts[] = {"path", path, "columns.priority", "Priorit\xC3\xA9",
                        NULL};
  ib_source *src = new_source();
  src->opts = opts;

  assert_int_equal(run(src), IB_ERR_CONFIG);
  assert_int_equal(src->n_tickets, 0);
  assert_non_null(strstr(src->last_error, "columns.priority"));
  assert_non_null(strstr(src->last_error, "Priorit\xC3\xA9"));
  assert_non_null(strstr(src->last_error, "\"created\""));

  /* A required column neither configured nor present by its own name. */
  static const char data2[] = "ref,opened\n1,2026-10-01T08:00:00Z\n";
  char *path2 = temp_csv(data2, sizeof data2 - 1);
  const char *opts2[] = {"path", path2, "columns.id", "ref", NULL};
  ib_source *src2 = new_source();
  src2->opts = opts2;
  assert_int_equal(run(src2), IB_ERR_CONFIG);
  assert_non_null(strstr(src2->last_error, "columns.created"));

  unlink(path);
  unlink(path2);
  free(path);
  free(path2);
  free(src);
  free(src2);
}

static void test_open_config_errors(void **state) {
  void *inst = NULL;
  const char *bad_delim[] = {"path", "x.csv", "delimiter", ";;", NULL};
  const char *bad_records[] = {"path", "x.csv", "records", "changes", NULL};
  const char *bad_encoding[] = {"path", "x.csv", "encoding", "ebcdic", NULL};
  const char *outage_col[] = {"path", "x.csv", "columns.start", "D", NULL};
  const char *no_path[] = {NULL};
  const char *const *cases[] = {bad_delim, bad_records, bad_encoding,
                                outage_col, no_path};
  const char *names[] = {"delimiter", "records", "encoding", "columns.start",
                         "path"};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ib_source *src = new_source();
    src->opts = cases[i];
    assert_int_equal(plugin->open(&host, src, &inst), IB_ERR_CONFIG);
    assert_non_null(strstr(src->last_error, names[i]));
    free(src);
  }
  /* A pair leading to something that is not a model word. */
  static const ib_pair prio[] = {{"Haute", "high"}};
  const char *ok[] = {"path", "x.csv", NULL};
  ib_source *src = new_source();
  src->opts = ok;
  src->priorities = prio;
  src->n_priorities = 1;
  assert_int_equal(plugin->open(&host, src, &inst), IB_ERR_CONFIG);
  assert_non_null(strstr(src->last_error, "Haute"));
  free(src);

  /* A file that is not there: an I/O error naming it, at sync time. */
  const char *missing[] = {"path", "/nonexistent/export.csv", NULL};
  src = new_source();
  src->opts = missing;
  assert_int_equal(run(src), IB_ERR_IO);
  assert_non_null(strstr(src->last_error, "/nonexistent/export.csv"));
  free(src);
}

/* validate() reports the same errors as open(), against the option's
 * line (config_error), before any file is read. */
static void test_validate(void **state) {
  const char *bad_delim[] = {"path", "x.csv", "delimiter", "ab", NULL};
  const char *bad_format[] = {"path", "x.csv", "date_format", "dd/mm", NULL};
  const char *const *cases[] = {bad_delim, bad_format};
  const char *names[] = {"delimiter", "date_format"};
  for (size_t i = 0; i < 2; i++) {
    ib_source *src = new_source();
    src->opts = cases[i];
    assert_int_equal(plugin->validate(&host, src), IB_ERR_CONFIG);
    assert_string_equal(src->config_option, names[i]);
    free(src);
  }
  static const ib_pair statuses[] = {{"Clos", "finished"}};
  const char *ok[] = {"path", "x.csv", NULL};
  ib_source *src = new_source();
  src->opts = ok;
  src->statuses = statuses;
  src->n_statuses = 1;
  assert_int_equal(plugin->validate(&host, src), IB_ERR_CONFIG);
  assert_string_equal(src->config_option, "statuses");
  assert_non_null(strstr(src->last_error, "finished"));
  free(src);
  src = new_source();
  src->opts = ok;
  assert_int_equal(plugin->validate(&host, src), IB_OK);
  free(src);
}

/* fetch() emits only the rows asked for, whatever their update time, and
 * never moves the watermark. */
static void test_fetch_by_ids(void **state) {
  static const char data[] =
      "id,priority,created,updated\n"
      "A1,P1,2026-10-01T08:00:00Z,2026-10-01T08:00:00Z\n"
      "A2,P2,2026-10-01T09:00:00Z,2026-10-01T09:00:00Z\n"
      "A3,Urgent,2026-10-01T10:00:00Z,2026-10-01T10:00:00Z\n"
      "A4,P4,2026-10-01T11:00:00Z,2026-10-20T11:00:00Z\n";
  char *path = temp_csv(data, sizeof data - 1);
  const char *opts[] = {"path", path, NULL};
  ib_source *src = new_source();
  src->opts = opts;
  src->since = utc(2026, 10, 15, 0, 0); /* A1-A3 are older than that */
  void *inst = NULL;
  assert_int_equal(plugin->open(&host, src, &inst), IB_OK);
  static const char *const ids[] = {"A2", "A3", "Z9"}; /* sorted */
  assert_int_equal(plugin->fetch(inst, ids, 3), IB_OK);
  plugin->close(inst);
  assert_int_equal(src->n_tickets, 1);
  assert_string_equal(src->tickets[0].id, "A2");
  assert_int_equal(src->n_rejects, 1);
  assert_string_equal(src->rejects[0].id, "A3");
  for (size_t i = 0; i < src->n_commits; i++)
    assert_true(src->watermarks[i] == IB_TIME_NONE);
  unlink(path);
  free(path);
  free(src);
}

/* Two sources on one csv.so, different delimiters and mappings, open at
 * the same time and synced interleaved: nothing leaks between them. */
static void test_two_instances(void **state) {
  static const char data_a[] = "id,priority,created\nA,Haute,2026-10-01\n";
  static const char data_b[] = "id\tpriority\tcreated\nB\tHaute\t2026-10-02\n";
  char *path_a = temp_csv(data_a, sizeof data_a - 1);
  char *path_b = temp_csv(data_b, sizeof data_b - 1);
  const char *opts_a[] = {"path", path_a, NULL};
  const char *opts_b[] = {"path", path_b, "delimiter", "tab", NULL};
  static const ib_pair prio_a[] = {{"Haute", "P1"}};
  static const ib_pair prio_b[] = {{"Haute", "P3"}};
  ib_source *a = new_source(), *b = new_source();
  a->opts = opts_a;
  a->priorities = prio_a;
  a->n_priorities = 1;
  a->zone = "UTC";
  b->opts = opts_b;
  b->priorities = prio_b;
  b->n_priorities = 1;
  b->zone = "America/New_York";

  void *ia = NULL, *ib = NULL;
  assert_int_equal(plugin->open(&host, a, &ia), IB_OK);
  assert_int_equal(plugin->open(&host, b, &ib), IB_OK);
  assert_ptr_not_equal(ia, ib);
  assert_int_equal(plugin->sync(ib), IB_OK);
  assert_int_equal(plugin->sync(ia), IB_OK);
  assert_int_equal(plugin->sync(ib), IB_OK); /* again: same result */
  plugin->close(ia);
  plugin->close(ib);

  assert_int_equal(a->n_tickets, 1);
  assert_string_equal(a->tickets[0].id, "A");
  assert_string_equal(a->tickets[0].priority, "P1");
  assert_int_equal(a->tickets[0].created, utc(2026, 10, 1, 0, 0));
  assert_int_equal(b->n_tickets, 2);
  assert_string_equal(b->tickets[0].id, "B");
  assert_string_equal(b->tickets[0].priority, "P3");
  /* Midnight in New York (EDT, UTC-4) on 2 Oct. */
  assert_int_equal(b->tickets[0].created, utc(2026, 10, 2, 4, 0));
  assert_string_equal(b->tickets[1].id, "B");

  unlink(path_a);
  unlink(path_b);
  free(path_a);
  free(path_b);
  free(a);
  free(b);
}

/* With an updated column: rows older than sync_since() are skipped, pages
 * are committed without moving the watermark, and the last commit carries
 * the largest update time. A row the host refuses does not stop the run. */
static void test_incremental_and_pages(void **state) {
  static const char data[] =
      "id,created,updated,pause_start,pause_end\n"
      "1,2026-10-01T08:00Z,2026-10-01T09:00Z,,\n"
      "2,2026-10-01T08:00Z,2026-10-03T09:00Z,2026-10-01T10:00Z,"
      "2026-10-01T11:00Z\n"
      "3,2026-10-01T08:00Z,2026-10-05T09:00Z,2026-10-02T10:00Z,\n"
      "4,2026-10-01T08:00Z,2026-10-04T09:00Z,,\n"
      "5,2026-10-01T08:00Z,,,\n"
      "6,2026-10-01T08:00Z,2026-10-04T10:00Z,,\n";
  char *path = temp_csv(data, sizeof data - 1);
  const char *opts[] = {"path", path, "commit_every", "2", NULL};

  /* First sync: everything. */
  ib_source *src = new_source();
  src->opts = opts;
  src->host_refuses_id = "6";
  assert_int_equal(run(src), IB_OK);
  assert_int_equal(src->n_tickets, 5);
  assert_int_equal(src->n_rejects, 0);
  /* 6 rows, commit_every 2: three pages plus the final commit. */
  assert_int_equal(src->n_commits, 4);
  for (size_t i = 0; i + 1 < src->n_commits; i++)
    assert_int_equal(src->watermarks[i], IB_TIME_NONE);
  /* Largest updated among stored rows: row 3 (row 6 was refused). */
  assert_int_equal(src->watermarks[3], utc(2026, 10, 5, 9, 0));
  assert_int_equal(src->tickets[1].n_pauses, 1);
  assert_int_equal(src->tickets[1].pause.start, utc(2026, 10, 1, 10, 0));
  assert_int_equal(src->tickets[1].pause.end, utc(2026, 10, 1, 11, 0));
  assert_int_equal(src->tickets[2].pause.end, IB_TIME_NONE); /* running */
  assert_int_equal(src->tickets[0].n_pauses, 0);
  free(src);

  /* Next sync from 2026-10-04T00:00Z: rows 1 and 2 are unchanged; row 5
   * has no update time, so it cannot be skipped. */
  src = new_source();
  src->opts = opts;
  src->since = utc(2026, 10, 4, 0, 0);
  assert_int_equal(run(src), IB_OK);
  assert_int_equal(src->n_tickets, 4);
  assert_string_equal(src->tickets[0].id, "3");
  assert_string_equal(src->tickets[1].id, "4");
  assert_string_equal(src->tickets[2].id, "5");
  assert_string_equal(src->tickets[3].id, "6");
  assert_int_equal(src->watermarks[src->n_commits - 1], utc(2026, 10, 5, 9, 0));
  free(src);
  unlink(path);
  free(path);
}

static void test_outages(void **state) {
  static const char data[] =
      "R\xC3\xA9"
      "f;Service;D\xC3\xA9"
      "but;Fin;Nature\n"
      "O1;ERP;03/10/2026 22:00;04/10/2026 01:30;Panne\n"
      "O2;VPN;10/11/2026 08:00;;D\xC3\xA9gradation\n"
      "O3;ERP;15/11/2026 20:00;15/11/2026 23:00;planned\n"
      "O4;ERP;15/11/2026 20:00;15/11/2026 19:00;Panne\n"
      "O5;ERP;15/11/2026 20:00;15/11/2026 21:00;Incendie\n";
  char *path = temp_csv(data, sizeof data - 1);
  const char *opts[] = {"path",
                        path,
                        "records",
                        "outages",
                        "delimiter",
                        ";",
                        "date_format",
                        "%d/%m/%Y %H:%M",
                        "columns.id",
                        "R\xC3\xA9"
                        "f",
                        "columns.service",
                        "Service",
                        "columns.start",
                        "D\xC3\xA9"
                        "but",
                        "columns.end",
                        "Fin",
                        "columns.kind",
                        "Nature",
                        NULL};
  static const ib_pair kinds[] = {{"Panne", "outage"},
                                  {"D\xC3\xA9gradation", "degradation"}};
  ib_source *src = new_source();
  src->opts = opts;
  src->zone = "Europe/Paris";
  src->kinds = kinds;
  src->n_kinds = 2;

  assert_int_equal(run(src), IB_OK);
  assert_int_equal(src->n_tickets, 0);
  assert_int_equal(src->n_outages, 3);
  assert_string_equal(src->outages[0].kind, "outage");
  assert_string_equal(src->outages[0].kind_raw, "Panne");
  assert_int_equal(src->outages[0].start, utc(2026, 10, 3, 20, 0));
  assert_int_equal(src->outages[0].end, utc(2026, 10, 3, 23, 30));
  assert_string_equal(src->outages[1].kind, "degradation");
  assert_int_equal(src->outages[1].end, IB_TIME_NONE); /* ongoing */
  assert_string_equal(src->outages[2].kind, "planned");
  assert_int_equal(src->outages[2].start, utc(2026, 11, 15, 19, 0));
  assert_int_equal(src->n_rejects, 2);
  assert_string_equal(src->rejects[0].where, "line 5");
  assert_non_null(strstr(src->rejects[0].msg, "before"));
  assert_string_equal(src->rejects[1].where, "line 6");
  assert_non_null(strstr(src->rejects[1].msg, "Incendie"));

  unlink(path);
  free(path);
  free(src);
}

/* Old Mac line endings (CR only) and trailing blank / delimiter-only lines
 * that spreadsheets leave behind. */
static void test_cr_only_and_blank_lines(void **state) {
  static const char data[] =
      "id;created\r"
      "1;2026-10-01T08:00:00Z\r"
      "\r"
      "2;2026-10-01T09:00:00Z\r"
      ";\r\n"
      "\n";
  char *path = temp_csv(data, sizeof data - 1);
  const char *opts[] = {"path", path, "delimiter", ";", NULL};
  ib_source *src = new_source();
  src->opts = opts;
  assert_int_equal(run(src), IB_OK);
  assert_int_equal(src->n_rejects, 0);
  assert_int_equal(src->n_tickets, 2);
  assert_string_equal(src->tickets[1].where, "line 4");
  unlink(path);
  free(path);
  free(src);
}

/* Excel's "sep=X" first line: skipped, and its delimiter wins over the
 * configured one; line numbers still count it. */
static void test_excel_sep_line(void **state) {
  (void)state;
  static const char semicolon[] =
      "sep=;\r\nid;created\r\n1;2026-10-01T08:00:00Z\r\n";
  static const char *const delims[] = {";", ","};
  for (int k = 0; k < 2; k++) {
    char *path = temp_csv(semicolon, sizeof semicolon - 1);
    const char *opts[] = {"path", path, "delimiter", delims[k], NULL};
    ib_source *src = new_source();
    src->opts = opts;
    assert_int_equal(run(src), IB_OK);
    assert_int_equal(src->n_rejects, 0);
    assert_int_equal(src->n_tickets, 1);
    assert_string_equal(src->tickets[0].where, "line 3");
    unlink(path);
    free(path);
    free(src);
  }
}

/* A file larger than the reader's chunk: records straddle chunk borders,
 * and line numbers stay right. */
static void test_records_across_chunks(void **state) {
  const size_t rows = 5000;
  size_t cap = rows * 96 + 64, len = 0;
  char *data = malloc(cap);
  assert_non_null(data);
  len += (size_t)snprintf(data + len, cap - len, "id,title,created\r\n");
  for (size_t i = 1; i <= rows; i++)
    len += (size_t)snprintf(data + len, cap - len,
                            "%zu,\"row %zu, \"\"two\"\"\nlines\",%s\r\n", i, i,
                            i == rows ? "bad" : "2026-10-01T08:00:00Z");
  assert_true(len > 4 * 64 * 1024);
  char *path = temp_csv(data, len);
  free(data);
  const char *opts[] = {"path", path, "commit_every", "1000", NULL};
  ib_source *src = new_source();
  src->opts = opts;
  src->count_only = 1;

  assert_int_equal(run(src), IB_OK);
  assert_int_equal(src->n_counted, rows - 1);
  assert_string_equal(src->tickets[0].id, "4999");
  assert_string_equal(src->tickets[0].title, "row 4999, \"two\"\nlines");
  /* Header on line 1, then two physical lines per record: record i
   * starts on line 2i. */
  assert_string_equal(src->tickets[0].where, "line 9998");
  assert_int_equal(src->n_rejects, 1);
  assert_string_equal(src->rejects[0].where, "line 10000");
  /* 5000 rows, a page every 1000, then the final commit. */
  assert_int_equal(src->n_commits, 6);
  assert_int_equal(src->emitted_at_commit[0], 1000);
  assert_int_equal(src->progress_done, len);
  unlink(path);
  free(path);
  free(src);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_descriptor),
      cmocka_unit_test(test_rfc4180_quirks),
      cmocka_unit_test(test_french_excel_export),
      cmocka_unit_test(test_latin1),
      cmocka_unit_test(test_invalid_utf8_rejected),
      cmocka_unit_test(test_bad_rows_reported_good_rows_kept),
      cmocka_unit_test(test_missing_header_column),
      cmocka_unit_test(test_open_config_errors),
      cmocka_unit_test(test_validate),
      cmocka_unit_test(test_fetch_by_ids),
      cmocka_unit_test(test_two_instances),
      cmocka_unit_test(test_incremental_and_pages),
      cmocka_unit_test(test_outages),
      cmocka_unit_test(test_cr_only_and_blank_lines),
      cmocka_unit_test(test_records_across_chunks),
      cmocka_unit_test(test_excel_sep_line),
  };
  return cmocka_run_group_tests(tests, setup_plugin, teardown_plugin);
}
