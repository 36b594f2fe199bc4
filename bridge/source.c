/*
 * source.c -- a source at work: option validation against the plugin's
 * declaration, the host-services table handed to the plugin, and one sync
 * run into the store. Records go straight into an open store transaction;
 * commit() stores the page and the watermark together, so a crash never
 * leaves the watermark ahead of the data. Must not know KPI rules.
 */
#define _GNU_SOURCE
#include "source.h"

#include <ctype.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "model.h"
#include "transport.h"
#include "tz.h"

volatile sig_atomic_t ib_stop_requested = 0;

/* Host-owned keys every source may have: the one declaration both the
 * validation and `plugins --describe` read. */
static const ib_option_def common_options[] = {
    {.name = "name",
     .type = IB_OPT_STRING,
     .required = 1,
     .description = "The source's name."},
    {.name = "plugin",
     .type = IB_OPT_STRING,
     .required = 1,
     .description = "The plugin reading it (<plugin_dir>/<plugin>.so)."},
    {.name = "timezone",
     .type = IB_OPT_STRING,
     .default_value = "UTC",
     .description = "Zone of source times given without an offset."},
    {.name = "overlap",
     .type = IB_OPT_STRING,
     .default_value = "5m",
     .description = "Duration re-read before the watermark."},
    {.name = "initial_since",
     .type = IB_OPT_STRING,
     .description = "Date the first sync reads from (default: everything)."},
    {0}};

static const ib_option_def auth_options[] = {
    {.name = "type",
     .type = IB_OPT_STRING,
     .required = 1,
     .description = "basic | bearer | none."},
    {.name = "user_env",
     .type = IB_OPT_STRING,
     .secret = 1,
     .description = "Environment variable holding the user (basic)."},
    {.name = "token_env",
     .type = IB_OPT_STRING,
     .secret = 1,
     .description = "Environment variable holding the token or password."},
    {.name = "token_file",
     .type = IB_OPT_STRING,
     .description = "Or: a file readable by its owner only, holding the "
                    "token."},
    {0}};

/* Host-owned keys of sources whose plugin talks HTTP. */
static const ib_option_def http_options[] = {
    {.name = "auth",
     .type = IB_OPT_GROUP,
     .children = auth_options,
     .description = "Credentials, as environment variable names."},
    {.name = "ca_file",
     .type = IB_OPT_STRING,
     .description = "Extra CA certificate (PEM) to trust; TLS is always "
                    "verified."},
    {.name = "max_concurrency",
     .type = IB_OPT_INT,
     .default_value = "4",
     .description = "Requests in flight at once (1 to 64)."},
    {.name = "timeout",
     .type = IB_OPT_STRING,
     .default_value = "2m",
     .description = "Duration one request may take in all."},
    {0}};

const ib_option_def *ib_source_common_options(void) {
  return common_options;
}
const ib_option_def *ib_source_http_options(void) {
  return http_options;
}
/* Rows stored without a commit() from the plugin before the host commits
 * them (without moving the watermark) to bound the transaction. */
#define IB_AUTOCOMMIT_ROWS 50000

/* ---- validation ---- */

static int in_list(const char *const *list, const char *name) {
  for (; *list; list++)
    if (strcmp(*list, name) == 0) return 1;
  return 0;
}

static int is_string_list(const config_setting_t *s) {
  if (!config_setting_is_array(s) && !config_setting_is_list(s)) return 0;
  for (int i = 0; i < config_setting_length(s); i++)
    if (config_setting_type(config_setting_get_elem(s, (unsigned)i)) !=
        CONFIG_TYPE_STRING)
      return 0;
  return 1;
}

static int type_ok(const config_setting_t *s, ib_option_type t) {
  int st = config_setting_type(s);
  switch (t) {
    case IB_OPT_STRING: return st == CONFIG_TYPE_STRING;
    case IB_OPT_INT: return st == CONFIG_TYPE_INT || st == CONFIG_TYPE_INT64;
    case IB_OPT_BOOL: return st == CONFIG_TYPE_BOOL;
    case IB_OPT_FLOAT:
      return st == CONFIG_TYPE_FLOAT || st == CONFIG_TYPE_INT ||
             st == CONFIG_TYPE_INT64;
    case IB_OPT_STRINGS: return is_string_list(s);
    case IB_OPT_PAIRS:
      if (!config_setting_is_list(s) && !config_setting_is_array(s)) return 0;
      for (int i = 0; i < config_setting_length(s); i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (!is_string_list(e) || config_setting_length(e) != 2) return 0;
      }
      return 1;
    case IB_OPT_GROUP: return st == CONFIG_TYPE_GROUP;
  }
  return 0;
}

static const char *type_example(ib_option_type t) {
  switch (t) {
    case IB_OPT_STRING: return "a string: \"...\"";
    case IB_OPT_INT: return "an integer";
    case IB_OPT_BOOL: return "true or false";
    case IB_OPT_FLOAT: return "a number";
    case IB_OPT_STRINGS: return "a list of strings: [ \"a\", \"b\" ]";
    case IB_OPT_PAIRS: return "a list of pairs: ( (\"raw\", \"P1\"), ... )";
    case IB_OPT_GROUP: return "a group: { ... }";
  }
  return "?";
}

/* Validates the members of group `s` against `defs` (declared options),
 * allowing `extra` host-owned keys at the top level. */
static int validate_group(const char *source, const char *plugin,
                          const config_setting_t *s, const ib_option_def *defs,
                          const char *const *extra, const char *prefix,
                          char *err, size_t errlen) {
  int n = config_setting_length(s);
  for (int i = 0; i < n; i++) {
    config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
    const char *name = config_setting_name(m);
    if (extra && in_list(extra, name)) continue;
    const ib_option_def *d = defs;
    while (d && d->name && strcmp(d->name, name) != 0) d++;
    if (d == NULL || d->name == NULL)
      return ib_config_error_at(
          m, NULL, err, errlen,
          "source '%s': unknown key '%s%s' for plugin %s (see "
          "'itsm-bridge plugins --describe %s')",
          source, prefix, name, plugin, plugin);
    if (!type_ok(m, d->type))
      return ib_config_error_at(m, NULL, err, errlen,
                                "source '%s': '%s%s' must be %s", source,
                                prefix, name, type_example(d->type));
    if (d->type == IB_OPT_GROUP) {
      char sub[128];
      snprintf(sub, sizeof sub, "%s%s.", prefix, name);
      if (validate_group(source, plugin, m, d->children, NULL, sub, err,
                         errlen))
        return -1;
    }
  }
  for (const ib_option_def *d = defs; d && d->name; d++) {
    if (!d->required || config_setting_get_member(s, d->name)) continue;
    return ib_config_error_at(
        s, NULL, err, errlen, "source '%s': missing required key '%s%s' (%s)",
        source, prefix, d->name,
        d->description ? d->description : "see plugins --describe");
  }
  return 0;
}

static int validate_http(const ib_source_cfg *sc, char *err, size_t errlen) {
  const config_setting_t *s = sc->setting;
  config_setting_t *m;
  if ((m = config_setting_get_member(s, "auth")) != NULL) {
    static const char *const keys[] = {"type", "user_env", "token_env",
                                       "token_file", NULL};
    if (!config_setting_is_group(m))
      return ib_config_error_at(
          m, NULL, err, errlen,
          "source '%s': auth must be a group: auth = { type = "
          "\"basic\"; user_env = \"USER_VAR\"; token_env = "
          "\"TOKEN_VAR\"; }",
          sc->name);
    for (int i = 0; i < config_setting_length(m); i++) {
      config_setting_t *e = config_setting_get_elem(m, (unsigned)i);
      if (!in_list(keys, config_setting_name(e)))
        return ib_config_error_at(
            e, NULL, err, errlen,
            "source '%s': unknown key 'auth.%s' (secrets are given "
            "only as environment variable names or an owner-only "
            "file: user_env, token_env, token_file)",
            sc->name, config_setting_name(e));
      if (config_setting_type(e) != CONFIG_TYPE_STRING)
        return ib_config_error_at(e, NULL, err, errlen,
                                  "source '%s': 'auth.%s' must be a string",
                                  sc->name, config_setting_name(e));
    }
    const char *type = NULL;
    config_setting_lookup_string(m, "type", &type);
    if (type == NULL || (strcmp(type, "basic") && strcmp(type, "bearer") &&
                         strcmp(type, "none")))
      return ib_config_error_at(
          m, NULL, err, errlen,
          "source '%s': auth.type must be \"basic\", \"bearer\" or "
          "\"none\"",
          sc->name);
    int has_token = config_setting_get_member(m, "token_env") ||
                    config_setting_get_member(m, "token_file");
    if (strcmp(type, "none") != 0 && !has_token)
      return ib_config_error_at(
          m, NULL, err, errlen,
          "source '%s': auth needs token_env (or token_file)", sc->name);
    if (strcmp(type, "basic") == 0 && !config_setting_get_member(m, "user_env"))
      return ib_config_error_at(m, NULL, err, errlen,
                                "source '%s': basic auth needs user_env",
                                sc->name);
  }
  if ((m = config_setting_get_member(s, "ca_file")) != NULL &&
      config_setting_type(m) != CONFIG_TYPE_STRING)
    return ib_config_error_at(m, NULL, err, errlen,
                              "source '%s': ca_file must be a path string",
                              sc->name);
  if ((m = config_setting_get_member(s, "max_concurrency")) != NULL &&
      (config_setting_type(m) != CONFIG_TYPE_INT ||
       config_setting_get_int(m) < 1 || config_setting_get_int(m) > 64))
    return ib_config_error_at(
        m, NULL, err, errlen,
        "source '%s': max_concurrency must be an integer from 1 to 64",
        sc->name);
  if ((m = config_setting_get_member(s, "timeout")) != NULL &&
      (config_setting_type(m) != CONFIG_TYPE_STRING ||
       ib_parse_duration(config_setting_get_string(m)) <= 0))
    return ib_config_error_at(
        m, NULL, err, errlen,
        "source '%s': timeout must be a duration like \"2m\"", sc->name);
  return 0;
}

int ib_source_validate(const ib_config *cfg, const ib_source_cfg *sc,
                       const ib_plugin *plugin, char *err, size_t errlen) {
  (void)cfg;
  const char *extra[16];
  size_t n = 0;
  for (const ib_option_def *d = common_options; d->name; d++)
    extra[n++] = d->name;
  if (plugin->flags & IB_PLUGIN_FLAG_HTTP)
    for (const ib_option_def *d = http_options; d->name; d++)
      extra[n++] = d->name;
  extra[n] = NULL;
  if (validate_group(sc->name, plugin->name, sc->setting, plugin->options,
                     extra, "", err, errlen))
    return -1;
  if ((plugin->flags & IB_PLUGIN_FLAG_HTTP) && validate_http(sc, err, errlen))
    return -1;
  return 0;
}

/* ---- the source at work ---- */

typedef struct cache_entry {
  char *name;
  void *items; /* const char ** or ib_pair * */
  size_t n;
  struct cache_entry *next;
} cache_entry;

struct ib_source {
  const ib_config *cfg;
  const ib_source_cfg *sc;
  const ib_plugin *plugin;
  ib_store *store;
  const ib_sync_options *opt;
  ib_sync_result *res;
  ib_time since;
  int in_tx;       /* a store transaction is open */
  int64_t tx_rows; /* rows in it */
  ib_status store_failed;
  cache_entry *cache;            /* owned: option arrays handed to the plugin */
  ib_http_client *http;          /* owned */
  const ib_transport *transport; /* borrowed; tests only (transport.h) */
  char *user;                    /* owned secret values, wiped on free */
  char *token;
  char credentials_hint[160];
  struct timespec started, last_draw;
  uint64_t prog_done, prog_total;
  int64_t pages; /* commits so far: a page each for the API sources */
  int drew_progress;
};

static double since_start(const ib_source *src) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - src->started.tv_sec) +
         (double)(now.tv_nsec - src->started.tv_nsec) / 1e9;
}

static void clear_progress(ib_source *src) {
  if (src->drew_progress) {
    fputs("\r\033[K", stderr);
    src->drew_progress = 0;
  }
}

static void vlog(ib_source *src, ib_log_level level, const char *fmt,
                 va_list ap) IB_PRINTF(3, 0);
static void vlog(ib_source *src, ib_log_level level, const char *fmt,
                 va_list ap) {
  if (level == IB_LOG_DEBUG && !src->opt->verbose) return;
  if (level >= IB_LOG_INFO && src->opt->quiet) return;
  static const char *const tags[] = {"error", "warning", "", "debug"};
  char msg[1024];
  vsnprintf(msg, sizeof msg, fmt, ap);
  clear_progress(src);
  if (level == IB_LOG_INFO)
    fprintf(stderr, "%s: %s\n", src->sc->name, msg);
  else
    fprintf(stderr, "%s: %s: %s\n", src->sc->name, tags[level], msg);
}

static void h_log(ib_source *src, ib_log_level level, const char *fmt, ...)
    IB_PRINTF(3, 4);
static void h_log(ib_source *src, ib_log_level level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(src, level, fmt, ap);
  va_end(ap);
}

static const char *h_strerror(ib_status s) {
  switch (s) {
    case IB_OK: return "success";
    case IB_ERR_NOMEM: return "out of memory";
    case IB_ERR_CONFIG: return "configuration error";
    case IB_ERR_IO: return "input/output error";
    case IB_ERR_PARSE: return "unparsable payload";
    case IB_ERR_HTTP: return "HTTP failure";
    case IB_ERR_AUTH: return "credentials refused";
    case IB_ERR_REJECTED: return "record rejected";
    case IB_ERR_STORE: return "store failure";
    case IB_ERR_ABORTED: return "interrupted";
    case IB_ERR_INVALID: return "invalid call";
  }
  return "unknown status";
}

/* The declaration of option `name` ("group.child" for members). */
static const ib_option_def *find_def(const ib_option_def *defs,
                                     const char *name) {
  const char *dot = strchr(name, '.');
  size_t len = dot ? (size_t)(dot - name) : strlen(name);
  for (const ib_option_def *d = defs; d && d->name; d++) {
    if (strlen(d->name) != len || strncmp(d->name, name, len) != 0) continue;
    if (dot == NULL) return d;
    return d->type == IB_OPT_GROUP ? find_def(d->children, dot + 1) : NULL;
  }
  return NULL;
}

static config_setting_t *lookup(ib_source *src, const char *name) {
  return config_setting_lookup(src->sc->setting, name);
}

static const char *h_get_string(ib_source *src, const char *name) {
  config_setting_t *s = lookup(src, name);
  if (s && config_setting_type(s) == CONFIG_TYPE_STRING)
    return config_setting_get_string(s);
  const ib_option_def *d = find_def(src->plugin->options, name);
  return d ? d->default_value : NULL;
}

static int64_t h_get_int(ib_source *src, const char *name, int64_t fallback) {
  config_setting_t *s = lookup(src, name);
  if (s && (config_setting_type(s) == CONFIG_TYPE_INT ||
            config_setting_type(s) == CONFIG_TYPE_INT64))
    return config_setting_get_int64(s);
  const ib_option_def *d = find_def(src->plugin->options, name);
  return d && d->default_value ? strtoll(d->default_value, NULL, 10) : fallback;
}

static int h_get_bool(ib_source *src, const char *name, int fallback) {
  config_setting_t *s = lookup(src, name);
  if (s && config_setting_type(s) == CONFIG_TYPE_BOOL)
    return config_setting_get_bool(s);
  const ib_option_def *d = find_def(src->plugin->options, name);
  if (d && d->default_value) return strcmp(d->default_value, "true") == 0;
  return fallback;
}

static double h_get_double(ib_source *src, const char *name, double fallback) {
  config_setting_t *s = lookup(src, name);
  if (s && config_setting_type(s) == CONFIG_TYPE_FLOAT)
    return config_setting_get_float(s);
  if (s && (config_setting_type(s) == CONFIG_TYPE_INT ||
            config_setting_type(s) == CONFIG_TYPE_INT64))
    return (double)config_setting_get_int64(s);
  const ib_option_def *d = find_def(src->plugin->options, name);
  return d && d->default_value ? strtod(d->default_value, NULL) : fallback;
}

static cache_entry *cached(ib_source *src, const char *name) {
  for (cache_entry *e = src->cache; e; e = e->next)
    if (strcmp(e->name, name) == 0) return e;
  return NULL;
}

static cache_entry *cache_add(ib_source *src, const char *name, void *items,
                              size_t n) {
  cache_entry *e = calloc(1, sizeof *e);
  if (e == NULL || (e->name = strdup(name)) == NULL) {
    free(e);
    free(items);
    return NULL;
  }
  e->items = items;
  e->n = n;
  e->next = src->cache;
  src->cache = e;
  return e;
}

static const char *const *h_get_strings(ib_source *src, const char *name,
                                        size_t *count) {
  *count = 0;
  cache_entry *e = cached(src, name);
  if (e == NULL) {
    config_setting_t *s = lookup(src, name);
    if (s == NULL || !is_string_list(s)) return NULL;
    size_t n = (size_t)config_setting_length(s);
    const char **v = calloc(n + 1, sizeof *v);
    if (v == NULL) return NULL;
    for (size_t i = 0; i < n; i++)
      v[i] = config_setting_get_string_elem(s, (int)i);
    if ((e = cache_add(src, name, v, n)) == NULL) return NULL;
  }
  *count = e->n;
  return e->items;
}

static const ib_pair *h_get_pairs(ib_source *src, const char *name,
                                  size_t *count) {
  *count = 0;
  cache_entry *e = cached(src, name);
  if (e == NULL) {
    config_setting_t *s = lookup(src, name);
    if (s == NULL || !type_ok(s, IB_OPT_PAIRS)) return NULL;
    size_t n = (size_t)config_setting_length(s);
    ib_pair *v = calloc(n + 1, sizeof *v);
    if (v == NULL) return NULL;
    for (size_t i = 0; i < n; i++) {
      config_setting_t *p = config_setting_get_elem(s, (unsigned)i);
      v[i].from = config_setting_get_string_elem(p, 0);
      v[i].to = config_setting_get_string_elem(p, 1);
    }
    if ((e = cache_add(src, name, v, n)) == NULL) return NULL;
  }
  *count = e->n;
  return e->items;
}

/* Compares ignoring case and surrounding blanks. */
static int same_word(const char *a, const char *b) {
  while (isspace((unsigned char)*a)) a++;
  while (isspace((unsigned char)*b)) b++;
  size_t la = strlen(a), lb = strlen(b);
  while (la && isspace((unsigned char)a[la - 1])) la--;
  while (lb && isspace((unsigned char)b[lb - 1])) lb--;
  return la == lb && strncasecmp(a, b, la) == 0;
}

static const char *h_map(ib_source *src, const char *option, const char *raw) {
  if (raw == NULL) return NULL;
  size_t n;
  const ib_pair *pairs = h_get_pairs(src, option, &n);
  for (size_t i = 0; i < n; i++)
    if (same_word(pairs[i].from, raw)) return pairs[i].to;
  return NULL;
}

static ib_status h_parse_time(ib_source *src, const char *text,
                              const char *format, ib_time *out) {
  if (text == NULL || out == NULL) return IB_ERR_INVALID;
  if (format && ib_parse_with_format(text, format, src->sc->timezone, out) == 0)
    return IB_OK;
  if (ib_parse_iso8601(text, src->sc->timezone, out) == 0) return IB_OK;
  return IB_ERR_PARSE;
}

static void note_rejection(ib_source *src, const char *where, const char *msg) {
  ib_sync_result *r = src->res;
  r->rejected++;
  r->read++;
  if (r->n_reasons < IB_MAX_REASONS) {
    char *reason = r->reasons[r->n_reasons++];
    if (snprintf(reason, sizeof r->reasons[0], "%s: %s", where ? where : "?",
                 msg) >= (int)sizeof r->reasons[0])
      strcpy(reason + sizeof r->reasons[0] - 4, "...");
  }
  h_log(src, IB_LOG_DEBUG, "rejected %s: %s", where ? where : "?", msg);
}

static void h_reject(ib_source *src, const char *where, const char *fmt, ...)
    IB_PRINTF(3, 4);
static void h_reject(ib_source *src, const char *where, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  note_rejection(src, where, msg);
}

static ib_status store_error(ib_source *src, const char *msg) {
  if (src->store_failed == IB_OK) {
    src->store_failed = IB_ERR_STORE;
    snprintf(src->res->error, sizeof src->res->error, "%s", msg);
    h_log(src, IB_LOG_ERROR, "%s", msg);
  }
  return IB_ERR_STORE;
}

static ib_status ensure_tx(ib_source *src) {
  if (src->store_failed) return IB_ERR_STORE;
  if (src->in_tx) return IB_OK;
  char err[512];
  if (ib_store_begin(src->store, err, sizeof err)) return store_error(src, err);
  src->in_tx = 1;
  src->tx_rows = 0;
  return IB_OK;
}

static ib_status h_commit(ib_source *src, ib_time watermark) {
  char err[512];
  if (src->store_failed) return IB_ERR_STORE;
  src->pages++;
  if (watermark != IB_TIME_NONE) {
    ib_status s = ensure_tx(src);
    if (s != IB_OK) return s;
    if (ib_store_set_watermark(src->store, src->sc->name, watermark, err,
                               sizeof err))
      return store_error(src, err);
  }
  if (!src->in_tx) return IB_OK;
  if (ib_store_commit(src->store, err, sizeof err)) {
    ib_store_rollback(src->store);
    src->in_tx = 0;
    src->res->stored -= src->tx_rows; /* they were not stored after all */
    return store_error(src, err);
  }
  src->in_tx = 0;
  return IB_OK;
}

/* A stored row counts once it is in the transaction; it is durable at the
 * next commit. Very long pages are committed without the watermark. */
static ib_status stored_one(ib_source *src) {
  src->res->stored++;
  src->res->read++;
  if (++src->tx_rows >= IB_AUTOCOMMIT_ROWS) return h_commit(src, IB_TIME_NONE);
  return IB_OK;
}

static ib_status h_emit_ticket(ib_source *src, const ib_ticket *in,
                               const char *where) {
  if (in == NULL || in->struct_size == 0) return IB_ERR_INVALID;
  /* Copy what the plugin's (possibly older, shorter) struct has. */
  ib_ticket t = IB_TICKET_INIT;
  memcpy(&t, in, in->struct_size < sizeof t ? in->struct_size : sizeof t);
  const char *pos = where ? where : (t.key ? t.key : t.id);
  if (t.id == NULL || t.id[0] == '\0') {
    note_rejection(src, pos, "no id");
    return IB_ERR_REJECTED;
  }
  if (t.created_at == IB_TIME_NONE) {
    note_rejection(src, pos, "no creation date");
    return IB_ERR_REJECTED;
  }
  int kind = t.kind ? ib_kind_parse(t.kind) : IB_KIND_OTHER;
  if (kind < 0) {
    h_reject(src, pos,
             "kind \"%s\" is not one of incident, request, problem, "
             "change, other (map it in kinds)",
             t.kind);
    return IB_ERR_REJECTED;
  }
  int prio = 0;
  if (t.priority) {
    prio = ib_priority_parse(t.priority);
    if (prio < 0) {
      h_reject(src, pos, "priority \"%s\" is not P1..P5 (map it in priorities)",
               t.priority);
      return IB_ERR_REJECTED;
    }
  }
  int state;
  if (t.status) {
    state = ib_state_parse(t.status);
    if (state < 0) {
      h_reject(src, pos,
               "status \"%s\" is not one of new, open, pending, "
               "resolved, closed, cancelled (map it in statuses)",
               t.status);
      return IB_ERR_REJECTED;
    }
  } else {
    state = t.resolved_at != IB_TIME_NONE ? IB_STATE_RESOLVED : IB_STATE_OPEN;
  }
  for (size_t i = 0; i < t.n_pauses; i++)
    if (t.pauses[i].start == IB_TIME_NONE) {
      note_rejection(src, pos, "a pause without a start");
      return IB_ERR_REJECTED;
    }
  ib_status s = ensure_tx(src);
  if (s != IB_OK) return s;
  /* The row borrows the plugin's strings for the duration of the call. */
  ib_ticket_row row = {
      .source = src->sc->name,
      .id = (char *)t.id,
      .key = (char *)(t.key ? t.key : t.id),
      .title = (char *)t.title,
      .service = (char *)t.service,
      .group = (char *)t.group,
      .kind_raw = (char *)t.kind_raw,
      .priority_raw = (char *)t.priority_raw,
      .status_raw = (char *)t.status_raw,
      .kind = (ib_kind)kind,
      .priority = prio,
      .status = (ib_state)state,
      .created_at = t.created_at,
      .first_response_at = t.first_response_at,
      .resolved_at = t.resolved_at,
      .closed_at = t.closed_at,
      .updated_at = t.updated_at != IB_TIME_NONE ? t.updated_at : t.created_at,
      .deleted_at = IB_TIME_NONE,
      .pauses = (ib_interval *)t.pauses,
      .n_pauses = t.n_pauses,
      .reported_response_breached = t.reported_response_breached,
      .reported_resolution_breached = t.reported_resolution_breached};
  char err[512];
  if (ib_store_put_ticket(src->store, &row, src->opt->full, err, sizeof err))
    return store_error(src, err);
  return stored_one(src);
}

static ib_status h_emit_outage(ib_source *src, const ib_outage *in,
                               const char *where) {
  if (in == NULL || in->struct_size == 0) return IB_ERR_INVALID;
  ib_outage o = IB_OUTAGE_INIT;
  memcpy(&o, in, in->struct_size < sizeof o ? in->struct_size : sizeof o);
  const char *pos = where ? where : o.id;
  if (o.id == NULL || o.id[0] == '\0') {
    note_rejection(src, pos, "no id");
    return IB_ERR_REJECTED;
  }
  if (o.start == IB_TIME_NONE) {
    note_rejection(src, pos, "no start");
    return IB_ERR_REJECTED;
  }
  int kind = o.kind ? ib_outage_kind_parse(o.kind) : IB_OUTAGE_OUTAGE;
  if (kind < 0) {
    h_reject(src, pos,
             "outage kind \"%s\" is not outage, degradation or "
             "planned (map it in kinds)",
             o.kind);
    return IB_ERR_REJECTED;
  }
  if (o.end != IB_TIME_NONE && o.end < o.start) {
    note_rejection(src, pos, "ends before it starts");
    return IB_ERR_REJECTED;
  }
  ib_status s = ensure_tx(src);
  if (s != IB_OK) return s;
  ib_outage_row row = {
      .source = src->sc->name,
      .id = (char *)o.id,
      .service = (char *)o.service,
      .kind = (ib_outage_kind)kind,
      .kind_raw = (char *)o.kind_raw,
      .start = o.start,
      .end = o.end,
      .updated_at = o.updated_at != IB_TIME_NONE ? o.updated_at : o.start,
      .deleted_at = IB_TIME_NONE};
  char err[512];
  if (ib_store_put_outage(src->store, &row, src->opt->full, err, sizeof err))
    return store_error(src, err);
  return stored_one(src);
}

static ib_time h_sync_since(ib_source *src) {
  return src->since;
}

static void h_progress(ib_source *src, uint64_t done, uint64_t total) {
  src->prog_done = done;
  src->prog_total = total;
  if (!src->opt->progress || src->opt->quiet) return;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double since_draw = (double)(now.tv_sec - src->last_draw.tv_sec) +
                      (double)(now.tv_nsec - src->last_draw.tv_nsec) / 1e9;
  if (src->drew_progress && since_draw < 0.2) return;
  src->last_draw = now;
  double el = since_start(src);
  double rate = el > 0 ? (double)src->res->read / el : 0;
  fprintf(stderr, "\r\033[K%s: %lld pages, %lld records (%.0f/s)",
          src->sc->name, (long long)src->pages, (long long)src->res->read,
          rate);
  if (total > 0 && done <= total) {
    double frac = (double)done / (double)total;
    fprintf(stderr, ", %.0f%%", 100.0 * frac);
    if (frac > 0.01 && el > 1) {
      long eta = (long)(el / frac - el);
      fprintf(stderr, ", ETA %ld:%02ld", eta / 60, eta % 60);
    }
  }
  fflush(stderr);
  src->drew_progress = 1;
}

static int h_should_stop(ib_source *src) {
  (void)src;
  return ib_stop_requested != 0;
}

/* Plain http:// would send credentials in clear: only loopback (tests,
 * local proxies) may use it. */
static int plain_http_allowed(const char *url) {
  static const char *const loopback[] = {"127.0.0.1", "localhost", "[::1]",
                                         NULL};
  if (strncasecmp(url, "http://", 7) != 0) return 1;
  const char *host = url + 7;
  for (const char *const *l = loopback; *l; l++) {
    size_t len = strlen(*l);
    if (strncasecmp(host, *l, len) == 0 &&
        (host[len] == ':' || host[len] == '/' || host[len] == '\0'))
      return 1;
  }
  return 0;
}

static ib_status h_http(ib_source *src, const ib_http_request *reqs, size_t n,
                        ib_http_response *resps) {
  if (src->http == NULL && src->transport == NULL) {
    h_log(src, IB_LOG_ERROR, "plugin %s did not declare IB_PLUGIN_FLAG_HTTP",
          src->plugin->name);
    return IB_ERR_INVALID;
  }
  for (size_t i = 0; i < n; i++) {
    if (reqs[i].url && !plain_http_allowed(reqs[i].url)) {
      char shown[256];
      ib_http_url_for_message(reqs[i].url, shown, sizeof shown);
      snprintf(src->res->error, sizeof src->res->error,
               "refusing plain http:// for %s: use https:// (credentials "
               "would travel in clear)",
               shown);
      for (size_t j = 0; j < n; j++)
        resps[j] = (ib_http_response){.struct_size = sizeof(ib_http_response)};
      return IB_ERR_CONFIG;
    }
  }
  if (src->transport)
    return src->transport->perform(src->transport->ctx, reqs, n, resps);
  ib_status s = ib_http_perform(src->http, reqs, n, resps);
  if (s != IB_OK && src->res->error[0] == '\0')
    snprintf(src->res->error, sizeof src->res->error, "%s",
             ib_http_client_last_error(src->http));
  return s;
}

static void h_http_free(ib_http_response *r) {
  ib_http_response_free(r);
}

static char *h_url_escape(ib_source *src, const char *text) {
  (void)src;
  return ib_http_escape(text);
}

static void h_free_string(char *s) {
  free(s);
}

static const ib_host_services host_services = {
    .struct_size = sizeof(ib_host_services),
    .abi_version = IB_PLUGIN_ABI_VERSION,
    .log = h_log,
    .strerror = h_strerror,
    .get_string = h_get_string,
    .get_int = h_get_int,
    .get_bool = h_get_bool,
    .get_double = h_get_double,
    .get_strings = h_get_strings,
    .get_pairs = h_get_pairs,
    .map = h_map,
    .parse_time = h_parse_time,
    .emit_ticket = h_emit_ticket,
    .emit_outage = h_emit_outage,
    .reject = h_reject,
    .commit = h_commit,
    .sync_since = h_sync_since,
    .progress = h_progress,
    .should_stop = h_should_stop,
    .http = h_http,
    .http_free = h_http_free,
    .url_escape = h_url_escape,
    .free_string = h_free_string,
};

/* ---- secrets and HTTP client ---- */

/* Reads a secret from the environment variable named by auth.<key>. */
static int read_env_secret(ib_source *src, config_setting_t *auth,
                           const char *key, char **out, char *err,
                           size_t errlen) {
  const char *var = NULL;
  if (!config_setting_lookup_string(auth, key, &var)) return 0;
  const char *val = getenv(var);
  if (val == NULL || *val == '\0') {
    snprintf(err, errlen,
             "environment variable %s is not set (auth.%s of source '%s')", var,
             key, src->sc->name);
    return -1;
  }
  *out = strdup(val);
  return *out ? 0 : -1;
}

/* Reads a token from an owner-only file (auth.token_file). */
static int read_file_secret(ib_source *src, const char *path, char **out,
                            char *err, size_t errlen) {
  struct stat sb;
  FILE *f = fopen(path, "r");
  if (f == NULL || fstat(fileno(f), &sb) != 0) {
    snprintf(err, errlen, "cannot read token_file %s of source '%s'", path,
             src->sc->name);
    if (f) fclose(f);
    return -1;
  }
  if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
    snprintf(err, errlen,
             "token_file %s of source '%s' is readable by others: chmod 600 it",
             path, src->sc->name);
    fclose(f);
    return -1;
  }
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  while (n && isspace((unsigned char)buf[n - 1])) buf[--n] = '\0';
  *out = strdup(buf);
  explicit_bzero(buf, sizeof buf);
  return *out ? 0 : -1;
}

/* The HTTP client's final error is kept in the run's result and printed
 * once by the sync summary, so it is not logged a second time here. */
static void http_log(void *ctx, ib_log_level level, const char *msg) {
  h_log(ctx, level == IB_LOG_ERROR ? IB_LOG_DEBUG : level, "%s", msg);
}
static int http_stop(void *ctx) {
  return h_should_stop(ctx);
}

static int open_http(ib_source *src, char *err, size_t errlen) {
  config_setting_t *s = src->sc->setting;
  config_setting_t *auth = config_setting_get_member(s, "auth");
  ib_http_config hc = {0};
  hc.label = src->sc->name;
  hc.auth = IB_AUTH_NONE;
  if (auth) {
    const char *type = "none", *uvar = "", *tvar = "", *tfile = NULL;
    config_setting_lookup_string(auth, "type", &type);
    config_setting_lookup_string(auth, "user_env", &uvar);
    config_setting_lookup_string(auth, "token_env", &tvar);
    config_setting_lookup_string(auth, "token_file", &tfile);
    if (strcmp(type, "basic") == 0)
      hc.auth = IB_AUTH_BASIC;
    else if (strcmp(type, "bearer") == 0)
      hc.auth = IB_AUTH_BEARER;
    if (hc.auth == IB_AUTH_BASIC)
      snprintf(src->credentials_hint, sizeof src->credentials_hint, "$%s/%s%s",
               uvar, tfile ? "" : "$", tfile ? tfile : tvar);
    else
      snprintf(src->credentials_hint, sizeof src->credentials_hint, "%s%s",
               tfile ? "" : "$", tfile ? tfile : tvar);
    if (hc.auth == IB_AUTH_BASIC &&
        read_env_secret(src, auth, "user_env", &src->user, err, errlen))
      return -1;
    if (hc.auth != IB_AUTH_NONE) {
      if (tfile ? read_file_secret(src, tfile, &src->token, err, errlen)
                : read_env_secret(src, auth, "token_env", &src->token, err,
                                  errlen))
        return -1;
    }
  }
  hc.user = src->user;
  hc.token = src->token;
  hc.credentials_hint = src->credentials_hint;
  const char *ca = NULL;
  config_setting_lookup_string(s, "ca_file", &ca);
  hc.ca_file = ca;
  int conc = 0;
  config_setting_lookup_int(s, "max_concurrency", &conc);
  hc.max_concurrency = conc;
  const char *timeout = NULL;
  if (config_setting_lookup_string(s, "timeout", &timeout))
    hc.timeout_s = (long)ib_parse_duration(timeout);
  const char *base = getenv("ITSM_BRIDGE_BACKOFF_BASE");
  if (base) hc.backoff_base_s = strtod(base, NULL); /* tests: fast retries */
  hc.verbose = src->opt->verbose;
  hc.log = http_log;
  hc.log_ctx = src;
  hc.should_stop = http_stop;
  hc.stop_ctx = src;
  src->http = ib_http_client_new(&hc, err, errlen);
  return src->http ? 0 : -1;
}

static void wipe(char *s) {
  if (s) {
    explicit_bzero(s, strlen(s));
    free(s);
  }
}

static void source_release(ib_source *src) {
  while (src->cache) {
    cache_entry *e = src->cache;
    src->cache = e->next;
    free(e->name);
    free(e->items);
    free(e);
  }
  ib_http_client_free(src->http);
  wipe(src->user);
  wipe(src->token);
}

int ib_source_sync(const ib_config *cfg, const ib_source_cfg *sc,
                   const ib_plugin *plugin, ib_store *st,
                   const ib_sync_options *opt, ib_sync_result *res) {
  return ib_source_sync_with_transport(cfg, sc, plugin, st, opt, NULL, res);
}

int ib_source_sync_with_transport(const ib_config *cfg, const ib_source_cfg *sc,
                                  const ib_plugin *plugin, ib_store *st,
                                  const ib_sync_options *opt,
                                  const ib_transport *transport,
                                  ib_sync_result *res) {
  memset(res, 0, sizeof *res);
  ib_source src = {.cfg = cfg,
                   .sc = sc,
                   .plugin = plugin,
                   .store = st,
                   .opt = opt,
                   .res = res,
                   .transport = transport};
  clock_gettime(CLOCK_MONOTONIC, &src.started);
  char err[512];
  int64_t run_id = 0;
  void *instance = NULL;
  ib_status status = IB_OK;

  ib_source_state state;
  if (ib_store_source_state(st, sc->name, &state, err, sizeof err) ||
      ib_store_run_begin(st, sc->name, opt->full, &run_id, err, sizeof err)) {
    snprintf(res->error, sizeof res->error, "%s", err);
    res->status = IB_ERR_STORE;
    return -1;
  }
  if (opt->since != IB_TIME_NONE)
    src.since = opt->since;
  else if (opt->full)
    src.since = IB_TIME_NONE;
  else if (state.watermark != IB_TIME_NONE)
    src.since = state.watermark - sc->overlap_s;
  else
    src.since = sc->initial_since;
  if (src.since != IB_TIME_NONE) {
    char iso[IB_ISO_LEN];
    ib_format_iso8601(src.since, iso);
    h_log(&src, IB_LOG_DEBUG, "asking for changes since %s", iso);
  }

  if ((plugin->flags & IB_PLUGIN_FLAG_HTTP) && transport == NULL &&
      open_http(&src, err, sizeof err)) {
    status = IB_ERR_CONFIG;
    snprintf(res->error, sizeof res->error, "%s", err);
    goto done;
  }
  status = plugin->open(&host_services, &src, &instance);
  if (status != IB_OK) {
    if (res->error[0] == '\0')
      snprintf(res->error, sizeof res->error, "cannot open the source: %s",
               h_strerror(status));
    goto done;
  }
  status = plugin->sync(instance);
  if (src.store_failed) status = IB_ERR_STORE;
  if (status == IB_OK) {
    if (h_commit(&src, IB_TIME_NONE) != IB_OK) status = IB_ERR_STORE;
  } else if (src.in_tx) {
    /* The page in progress is dropped; committed pages stay. */
    ib_store_rollback(st);
    src.in_tx = 0;
    res->stored -= src.tx_rows;
  }
  if (status == IB_OK && opt->full) {
    if (ib_store_mark_unseen_deleted(st, sc->name, (ib_time)time(NULL),
                                     &res->deleted, err, sizeof err)) {
      status = IB_ERR_STORE;
      snprintf(res->error, sizeof res->error, "%s", err);
    }
  }
  if (status != IB_OK && res->error[0] == '\0')
    snprintf(res->error, sizeof res->error, "%s", h_strerror(status));
done:
  if (instance && plugin->close) plugin->close(instance);
  clear_progress(&src);
  source_release(&src);
  res->status = status;
  res->elapsed_s = since_start(&src);
  if (ib_store_run_end(st, run_id, status == IB_OK, res->read, res->stored,
                       res->rejected, status == IB_OK ? NULL : res->error, err,
                       sizeof err) &&
      status == IB_OK) {
    res->status = status = IB_ERR_STORE;
    snprintf(res->error, sizeof res->error, "%s", err);
  }
  return status == IB_OK ? 0 : -1;
}
