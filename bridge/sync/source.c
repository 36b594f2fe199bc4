/*
 * source.c -- a source at work: option validation against the plugin's
 * declaration, the host-services table handed to the plugin (HTTP copied
 * by the plugin's struct sizes, session logins through its authenticate
 * callback, named secrets), and one sync run into the store. Records go
 * straight into an open store transaction; commit() stores the page and
 * the watermark together, so a crash never leaves the watermark ahead of
 * the data. A dry run (sync --dry-run) hands the same validated rows to a
 * sink instead and has no store at all. Must not know KPI rules.
 */
#define _GNU_SOURCE
#include "source.h"

#include <ctype.h>
#include <stddef.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash64.h"
#include "http.h"
#include "model.h"
#include "raw_map.h"
#include "sha256.h"
#include "transport.h"
#include "trust.h"
#include "utf8.h"
#include "tz.h"

/* Whether the plugin's descriptor (as it was built) has `field`. */
#define PLUGIN_HAS(p, field) \
  ((p)->struct_size >= offsetof(ib_plugin, field) + sizeof((p)->field))

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
    {.name = "max_delete_pct",
     .type = IB_OPT_FLOAT,
     .default_value = IB_MAX_DELETE_PCT_DEFAULT,
     .description = "Largest share (%) of the source's records a sync --full "
                    "may mark deleted without --allow-mass-delete."},
    {0}};

static const ib_option_def auth_options[] = {
    {.name = "type",
     .type = IB_OPT_STRING,
     .required = 1,
     .description = "basic | bearer | header | none."},
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
    {.name = "name",
     .type = IB_OPT_STRING,
     .description = "Header carrying the key (header), e.g. \"X-API-Key\"."},
    {.name = "value_env",
     .type = IB_OPT_STRING,
     .secret = 1,
     .description = "Environment variable holding the header's value "
                    "(header)."},
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

/* An environment variable name: [A-Za-z_][A-Za-z0-9_]*. */
static int is_env_name(const char *v) {
  if (v == NULL || !(isalpha((unsigned char)*v) || *v == '_')) return 0;
  for (; *v; v++)
    if (!(isalnum((unsigned char)*v) || *v == '_')) return 0;
  return 1;
}

/* Options of HTTP plugins that hold an address the host will be asked to
 * call: "url" and "*_url". The SDK has no URL option type (yet), so the
 * name decides. */
static int is_url_option(const char *name) {
  size_t n = strlen(name);
  return strcmp(name, "url") == 0 ||
         (n > 4 && strcmp(name + n - 4, "_url") == 0);
}

/* A key holding the *name* of a secret variable must not hold the secret:
 * the message never shows the value. */
static int check_env_key(const config_setting_t *m, const char *source,
                         const char *key, char *err, size_t errlen) {
  if (config_setting_type(m) != CONFIG_TYPE_STRING ||
      is_env_name(config_setting_get_string(m)))
    return 0;
  return ib_config_error_at(
      m, NULL, err, errlen,
      "source '%s': %s must name an environment variable (letters, digits, "
      "'_'), not hold the token itself; put the secret in a variable and "
      "give its name",
      source, key);
}

/* Validates the members of group `s` against `defs` (declared options),
 * allowing `extra` host-owned keys at the top level. */
static int validate_group(const char *source, const char *plugin,
                          const config_setting_t *s, const ib_option_def *defs,
                          const char *const *extra, const char *prefix,
                          int url_checked, char *err, size_t errlen) {
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
    if (url_checked && d->type == IB_OPT_STRING && is_url_option(name)) {
      char why[256];
      if (ib_http_check_url(config_setting_get_string(m), why, sizeof why))
        return ib_config_error_at(m, NULL, err, errlen, "source '%s': %s%s %s",
                                  source, prefix, name, why);
    }
    if (d->secret) {
      char key[160];
      snprintf(key, sizeof key, "%s%s", prefix, name);
      if (check_env_key(m, source, key, err, errlen)) return -1;
    }
    if (d->type == IB_OPT_GROUP) {
      char sub[128];
      snprintf(sub, sizeof sub, "%s%s.", prefix, name);
      if (validate_group(source, plugin, m, d->children, NULL, sub, url_checked,
                         err, errlen))
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
    static const char *const keys[] = {"type",       "user_env", "token_env",
                                       "token_file", "name",     "value_env",
                                       NULL};
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
            "file: user_env, token_env, token_file, value_env)",
            sc->name, config_setting_name(e));
      if (config_setting_type(e) != CONFIG_TYPE_STRING)
        return ib_config_error_at(e, NULL, err, errlen,
                                  "source '%s': 'auth.%s' must be a string",
                                  sc->name, config_setting_name(e));
      if (strcmp(config_setting_name(e), "user_env") == 0 &&
          check_env_key(e, sc->name, "auth.user_env", err, errlen))
        return -1;
      if (strcmp(config_setting_name(e), "token_env") == 0 &&
          check_env_key(e, sc->name, "auth.token_env", err, errlen))
        return -1;
    }
    const char *type = NULL;
    config_setting_lookup_string(m, "type", &type);
    if (type == NULL || (strcmp(type, "basic") && strcmp(type, "bearer") &&
                         strcmp(type, "header") && strcmp(type, "none")))
      return ib_config_error_at(
          m, NULL, err, errlen,
          "source '%s': auth.type must be \"basic\", \"bearer\", "
          "\"header\" or \"none\"",
          sc->name);
    if (strcmp(type, "header") == 0) {
      const char *hname = NULL;
      if (!config_setting_lookup_string(m, "name", &hname) ||
          !config_setting_get_member(m, "value_env") ||
          config_setting_get_member(m, "token_env") ||
          config_setting_get_member(m, "user_env"))
        return ib_config_error_at(
            m, NULL, err, errlen,
            "source '%s': header auth is auth = { type = \"header\"; name "
            "= \"X-API-Key\"; value_env = \"KEY_VAR\"; }",
            sc->name);
      for (const char *p = hname; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
          return ib_config_error_at(
              m, NULL, err, errlen,
              "source '%s': auth.name \"%s\" is not a header name (letters, "
              "digits, '-')",
              sc->name, hname);
    } else if (config_setting_get_member(m, "name") ||
               config_setting_get_member(m, "value_env")) {
      return ib_config_error_at(
          m, NULL, err, errlen,
          "source '%s': auth.name and auth.value_env go with type = "
          "\"header\"",
          sc->name);
    }
    int has_token = config_setting_get_member(m, "token_env") ||
                    config_setting_get_member(m, "token_file");
    if (strcmp(type, "none") != 0 && strcmp(type, "header") != 0 && !has_token)
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

/* An integer or float setting as a double. */
static double setting_number(const config_setting_t *m) {
  if (config_setting_type(m) == CONFIG_TYPE_FLOAT)
    return config_setting_get_float(m);
  return (double)config_setting_get_int64(m);
}

/* The source's max_delete_pct (validated: 0..100). */
static double max_delete_pct(const ib_source_cfg *sc) {
  config_setting_t *m =
      config_setting_get_member(sc->setting, "max_delete_pct");
  return m ? setting_number(m) : strtod(IB_MAX_DELETE_PCT_DEFAULT, NULL);
}

/* ---- the source at work ---- */

/* One declared list/pairs default, parsed for a source that leaves the
 * option unset; kept while the source lives (the cache borrows from it). */
typedef struct default_doc {
  config_t cfg;
  struct default_doc *next;
} default_doc;

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
  int in_tx;           /* a store transaction is open */
  int64_t tx_rows;     /* rows in it (their outcomes are known at commit) */
  int64_t unconfirmed; /* rows of committed pages whose outcome the store
                          has not given back yet (store.h: a page may be
                          written after commit returns) */
  ib_status store_failed;
  cache_entry *cache;            /* owned: option arrays handed to the plugin */
  ib_http_client *http;          /* owned */
  const ib_transport *transport; /* borrowed; tests only (transport.h) */
  char *user;                    /* owned secret values, wiped on free */
  char *token;
  char credentials_hint[256];
  const ib_scrubber *scrub;   /* the run's, or own_scrub */
  ib_scrubber *own_scrub;     /* owned when opt->scrub is NULL */
  ib_scrubber *session_scrub; /* owned: values a plugin learns at run time
                                 (session tokens), see register_secret */
  char first_error[480];      /* first error line logged, scrubbed */
  int hint_set;               /* the plugin chose it (set_auth_hint) */
  void *instance;             /* the plugin's, once open() returned */
  char **secrets;        /* owned, wiped on free: values read by get_secret */
  char **secret_options; /* owned: the option each one came from */
  size_t n_secrets;
  char **session_headers; /* owned, secret, NULL-terminated, may be NULL */
  int session_valid;      /* authenticate() succeeded and is still good */
  int in_auth;            /* inside the plugin's authenticate() */
  struct timespec started, last_draw;
  uint64_t prog_done, prog_total;
  int64_t pages; /* commits so far: a page each for the API sources */
  int drew_progress;
  /* Ids the store lists as rejected for this source (sorted), and whether
   * each has been stored or rejected again during this run. */
  ib_string_list pending;
  unsigned char *pending_seen; /* owned; one per pending id */
  int64_t rejected_again;      /* rejections of ids already pending */
  int limit_reached;           /* dry run: opt->limit records read */
  /* validate(): where config_error() writes the first error (borrowed). */
  char *config_err;
  size_t config_errlen;
  int config_failed;
  struct default_doc *defaults; /* owned: parsed list/pair defaults */
  /* Raw digests (plugin.h, raw_unchanged): the source's fingerprint (0
   * until computed), and what the store holds, per record type, read at
   * the first question. */
  uint64_t raw_fp;
  ib_raw_map raw_maps[2]; /* owned: ib_raw_map_free */
  int64_t written[2];     /* records put in this run, per type */
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

/* Every line that leaves the source (log, error, rejection, store) goes
 * through here: the run's secrets and those learnt during it. */
static void scrub_text(const ib_source *src, char *buf, size_t size) {
  ib_scrub(src->scrub, buf, size);
  if (src->session_scrub) ib_scrub(src->session_scrub, buf, size);
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
  scrub_text(src, msg, sizeof msg);
  /* The plugin's own account of a failure is the run's error when the host
   * has none (stored in sync_runs.error, printed by the summary). */
  if (level == IB_LOG_ERROR && src->first_error[0] == '\0')
    snprintf(src->first_error, sizeof src->first_error, "%.479s", msg);
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

/* Parses a list or pairs default (written in the configuration's syntax)
 * into a setting of cfg; NULL when it does not parse. */
static config_setting_t *parse_default(config_t *cfg, const char *text) {
  size_t len = strlen(text) + 16;
  char *doc = malloc(len);
  if (doc == NULL) return NULL;
  snprintf(doc, len, "v = %s;", text);
  config_setting_t *s = NULL;
  if (config_read_string(cfg, doc) == CONFIG_TRUE) s = config_lookup(cfg, "v");
  free(doc);
  return s;
}

/* The setting of option `name`, or its declared default when the source
 * does not set it (lists and pairs only). */
static config_setting_t *setting_or_default(ib_source *src, const char *name) {
  config_setting_t *s = lookup(src, name);
  if (s) return s;
  const ib_option_def *d = find_def(src->plugin->options, name);
  if (d == NULL || d->default_value == NULL ||
      (d->type != IB_OPT_STRINGS && d->type != IB_OPT_PAIRS))
    return NULL;
  default_doc *doc = calloc(1, sizeof *doc);
  if (doc == NULL) return NULL;
  config_init(&doc->cfg);
  s = parse_default(&doc->cfg, d->default_value);
  if (s == NULL) {
    config_destroy(&doc->cfg);
    free(doc);
    return NULL;
  }
  doc->next = src->defaults;
  src->defaults = doc;
  return s;
}

static const char *const *h_get_strings(ib_source *src, const char *name,
                                        size_t *count) {
  *count = 0;
  cache_entry *e = cached(src, name);
  if (e == NULL) {
    config_setting_t *s = setting_or_default(src, name);
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
    config_setting_t *s = setting_or_default(src, name);
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

static ib_status ensure_tx(ib_source *src);
static ib_status store_error(ib_source *src, const char *msg);

/* Marks pending rejected id `id` as dealt with in this run; returns whether
 * it was pending. */
static int pending_hit(ib_source *src, const char *id) {
  long i = id ? ib_string_list_find(&src->pending, id) : -1;
  if (i < 0) return 0;
  src->pending_seen[i] = 1;
  return 1;
}

/* Lists a rejected record with a known id in the store, in the page's
 * transaction, so that the next sync asks for it again. */
static void keep_rejected(ib_source *src, const char *id, const char *where,
                          const char *msg) {
  if (id == NULL || id[0] == '\0' || src->store == NULL) return;
  if (pending_hit(src, id)) src->rejected_again++;
  if (ensure_tx(src) != IB_OK) return;
  char err[512];
  if (ib_store_put_rejected(src->store, src->sc->name, id, where, msg,
                            (ib_time)time(NULL), err, sizeof err))
    store_error(src, err);
  /* --full: a record rejected this time did not vanish from the source (it
   * is unreadable now): its stored version is not marked deleted. */
  else if (src->opt->full &&
           ib_store_mark_seen(src->store, src->sc->name, id, err, sizeof err))
    store_error(src, err);
}

/* Dry run: once opt->limit records were read the plugin is told to stop. */
static void count_toward_limit(ib_source *src) {
  if (src->opt->limit > 0 && src->res->read >= src->opt->limit)
    src->limit_reached = 1;
}

/* Dry run: every rejection is one stderr line with the source, the
 * position, the id when it says more than the position, and the reason. */
static void print_rejection(ib_source *src, const char *id, const char *where,
                            const char *msg) {
  char line[640];
  int show_id = id && id[0] && strcmp(id, where) != 0;
  snprintf(line, sizeof line, "%s: rejected %s%s%s%s: %s", src->sc->name, where,
           show_id ? " (id " : "", show_id ? id : "", show_id ? ")" : "", msg);
  scrub_text(src, line, sizeof line);
  clear_progress(src);
  fprintf(stderr, "%s\n", line);
}

static void note_rejection(ib_source *src, const char *id, const char *where,
                           const char *raw_msg) {
  ib_sync_result *r = src->res;
  if (src->limit_reached) return; /* past --limit: not read */
  /* What a server sent may echo a secret: nothing of it reaches the store
   * or a message unscrubbed. */
  char msg[256], pos[128];
  snprintf(msg, sizeof msg, "%s", raw_msg);
  scrub_text(src, msg, sizeof msg);
  snprintf(pos, sizeof pos, "%s", where ? where : "?");
  scrub_text(src, pos, sizeof pos);
  where = pos;
  keep_rejected(src, id, where, msg);
  if (src->opt->dry_run) print_rejection(src, id, where, msg);
  r->rejected++;
  r->read++;
  count_toward_limit(src);
  if (r->n_reasons < IB_MAX_REASONS) {
    char *reason = r->reasons[r->n_reasons++];
    if (snprintf(reason, sizeof r->reasons[0], "%s: %s", where ? where : "?",
                 msg) >= (int)sizeof r->reasons[0])
      strcpy(reason + sizeof r->reasons[0] - 4, "...");
    scrub_text(src, reason, sizeof r->reasons[0]);
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
  note_rejection(src, NULL, where, msg);
}

static void h_reject_record(ib_source *src, const char *id, const char *where,
                            const char *fmt, ...) IB_PRINTF(4, 5);
static void h_reject_record(ib_source *src, const char *id, const char *where,
                            const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  note_rejection(src, id, where, msg);
}

/* From a plugin's validate(): an error against one of its options. */
static void h_config_error(ib_source *src, const char *option, const char *fmt,
                           ...) IB_PRINTF(3, 4);
static void h_config_error(ib_source *src, const char *option, const char *fmt,
                           ...) {
  if (src->config_err == NULL || src->config_failed++) return;
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const config_setting_t *at = option ? lookup(src, option) : NULL;
  ib_config_error_at(at ? at : src->sc->setting, src->cfg->file,
                     src->config_err, src->config_errlen, "source '%s': %s%s%s",
                     src->sc->name, option ? option : "", option ? ": " : "",
                     msg);
}

static ib_status store_error(ib_source *src, const char *msg) {
  if (src->store_failed == IB_OK) {
    src->store_failed = src->opt->dry_run ? IB_ERR_IO : IB_ERR_STORE;
    snprintf(src->res->error, sizeof src->res->error, "%s", msg);
    h_log(src, IB_LOG_ERROR, "%s", msg);
  }
  return IB_ERR_STORE;
}

static ib_status ensure_tx(ib_source *src) {
  if (src->store_failed) return IB_ERR_STORE;
  if (src->in_tx || src->store == NULL) return IB_OK; /* NULL: dry run */
  char err[512];
  if (ib_store_begin(src->store, err, sizeof err)) return store_error(src, err);
  src->in_tx = 1;
  src->tx_rows = 0;
  return IB_OK;
}

/* The rows of a rolled back transaction leave the counts. */
static void undo_tx_counts(ib_source *src) {
  src->res->stored -= src->tx_rows;
  src->tx_rows = 0;
}

/* Outcomes the store gave back for records of committed pages. */
static void confirm(ib_source *src, const ib_put_counts *done) {
  src->res->added += done->added;
  src->res->changed += done->changed;
  src->res->unchanged += done->unchanged;
  src->unconfirmed -= done->added + done->changed + done->unchanged;
}

static ib_status h_commit(ib_source *src, ib_time watermark) {
  char err[512];
  if (src->store_failed) return IB_ERR_STORE;
  src->pages++;
  if (src->store == NULL) return IB_OK; /* dry run: nothing to commit */
  if (watermark != IB_TIME_NONE) {
    ib_status s = ensure_tx(src);
    if (s != IB_OK) return s;
    if (ib_store_set_watermark(src->store, src->sc->name, watermark, err,
                               sizeof err))
      return store_error(src, err);
  }
  if (!src->in_tx) return IB_OK;
  /* What each record did (new, changed, unchanged) is known once the store
   * has written it: at the latest, here. */
  ib_put_counts done = {0};
  if (ib_store_commit(src->store, &done, err, sizeof err)) {
    ib_store_rollback(src->store);
    src->in_tx = 0;
    undo_tx_counts(src); /* they were not stored after all */
    return store_error(src, err);
  }
  src->in_tx = 0;
  src->unconfirmed += src->tx_rows;
  src->tx_rows = 0;
  confirm(src, &done);
  return IB_OK;
}

/* Waits for every page committed (ib_store_finish_pages): their records
 * are then stored or not; those whose outcome never came back belonged to
 * a page that failed and leave the counts. */
static ib_status settle_pages(ib_source *src) {
  if (src->store == NULL) return IB_OK; /* dry run */
  char err[512];
  ib_put_counts done = {0};
  int rc = ib_store_finish_pages(src->store, &done, err, sizeof err);
  if (rc == 0) confirm(src, &done);
  src->res->stored -= src->unconfirmed;
  src->unconfirmed = 0;
  return rc == 0 ? IB_OK : store_error(src, err);
}

/* A stored row counts once it is in the transaction; it is durable once
 * its page is written (store.h: at the latest by the next store call after
 * its commit), and leaves the count if that page fails (settle_pages).
 * Very long pages are committed without the watermark. */
static ib_status stored_one(ib_source *src) {
  src->res->stored++;
  src->res->read++;
  if (src->store == NULL) src->res->added++; /* dry run: printed */
  count_toward_limit(src);
  if (++src->tx_rows >= IB_AUTOCOMMIT_ROWS) return h_commit(src, IB_TIME_NONE);
  return IB_OK;
}

/* An instant outside years 0000-9999 (IB_TIME_NONE is "not set"): the
 * record is rejected with its position and the field. */
static int out_of_range(ib_source *src, const char *id, const char *pos,
                        const char *field, ib_time t) {
  if (t == IB_TIME_NONE || ib_time_in_range(t)) return 0;
  h_reject_record(
      src, id, pos,
      "the %s time (%lld s from 1970) is outside the years 0000-9999", field,
      (long long)t);
  return 1;
}

/* Replaces each *texts[i] that is not valid UTF-8 by a repaired copy in
 * repaired[i] (owned by the caller: free), with a warning naming the
 * record. -1 on ENOMEM. */
/* A text field that carries a secret of the run (a server echoing a token
 * into a title) is stored scrubbed: replaces *text by an owned copy in
 * *owned. -1 on ENOMEM. */
static int scrub_field(ib_source *src, const char **text, char **owned) {
  if (*text == NULL || (!ib_scrubber_found(src->scrub, *text) &&
                        !ib_scrubber_found(src->session_scrub, *text)))
    return 0;
  size_t size = strlen(*text) * 3 + 32; /* room for the marks */
  char *copy = malloc(size);
  if (copy == NULL) return -1;
  snprintf(copy, size, "%s", *text);
  scrub_text(src, copy, size);
  free(*owned);
  *owned = copy;
  *text = copy;
  return 0;
}

static int repair_texts(ib_source *src, const char *pos, const char **texts[],
                        char **repaired, size_t n) {
  int any = 0;
  for (size_t i = 0; i < n; i++) {
    if (scrub_field(src, texts[i], &repaired[i]) != 0) return -1;
    if (*texts[i] == NULL || ib_utf8_valid(*texts[i])) continue;
    size_t bad = 0;
    char *fixed = ib_utf8_repair(*texts[i], &bad);
    if (fixed == NULL) return -1;
    free(repaired[i]); /* a scrubbed copy, if any */
    *texts[i] = repaired[i] = fixed;
    any = 1;
    if (src->res->repaired < IB_MAX_REASONS || src->opt->verbose)
      h_log(src, IB_LOG_WARN,
            "%s: %zu invalid UTF-8 byte(s) replaced by U+FFFD (\"%.60s\")", pos,
            bad, repaired[i]);
  }
  src->res->repaired += any; /* records, not fields */
  return 0;
}

/* Dry run: what the sink said about a record, as ib_store_put_* would. */
static int sink_record(ib_source *src, int rc, char *err, size_t errlen) {
  if (rc != 0)
    snprintf(err, errlen,
             "source '%s': cannot write the record to standard output",
             src->sc->name);
  return rc;
}

/* A record listed as rejected that is now stored (or found stored
 * unchanged) is good again: off the list, in the page's transaction. */
static ib_status clear_pending(ib_source *src, const char *id) {
  char err[512];
  if (!pending_hit(src, id)) return IB_OK;
  ib_status s = ensure_tx(src);
  if (s != IB_OK) return s;
  if (ib_store_drop_rejected(src->store, src->sc->name, id, err, sizeof err))
    return store_error(src, err);
  return IB_OK;
}

/* ---- raw digests: skipping what did not change (plugin.h) ---- */

/* Feeds one value of the source's configuration, depth first, names and
 * types included: any change of it changes the fingerprint. */
static void fingerprint_setting(ib_sha256 *h, const config_setting_t *s) {
  const char *name = config_setting_name(s);
  int type = config_setting_type(s);
  char buf[64];
  ib_sha256_update(h, name ? name : "", name ? strlen(name) + 1 : 1);
  snprintf(buf, sizeof buf, "%d:", type);
  ib_sha256_update(h, buf, strlen(buf));
  switch (type) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
      snprintf(buf, sizeof buf, "%lld", (long long)config_setting_get_int64(s));
      break;
    case CONFIG_TYPE_FLOAT:
      snprintf(buf, sizeof buf, "%.17g", config_setting_get_float(s));
      break;
    case CONFIG_TYPE_BOOL:
      snprintf(buf, sizeof buf, "%d", config_setting_get_bool(s));
      break;
    case CONFIG_TYPE_STRING: {
      const char *v = config_setting_get_string(s);
      ib_sha256_update(h, v ? v : "", v ? strlen(v) + 1 : 1);
      buf[0] = '\0';
      break;
    }
    default: { /* group, array, list */
      int n = config_setting_length(s);
      snprintf(buf, sizeof buf, "[%d]", n);
      ib_sha256_update(h, buf, strlen(buf));
      for (int i = 0; i < n; i++)
        fingerprint_setting(h, config_setting_get_elem(s, (unsigned)i));
      buf[0] = '\0';
      break;
    }
  }
  ib_sha256_update(h, buf, strlen(buf) + 1);
}

/* The source's fingerprint: what else than a record's raw form decides
 * what it converts to -- this program's and the plugin's versions, the
 * source's configuration (mappings, columns, formats) and its zone with
 * the zone's rules as the system's tzdata has them. Never 0. */
static uint64_t raw_fingerprint(ib_source *src) {
  if (src->raw_fp != 0) return src->raw_fp;
  ib_sha256 h;
  ib_sha256_init(&h);
  const char *parts[] = {"itsm-bridge raw digests 1", IB_VERSION,
                         src->plugin->name ? src->plugin->name : "",
                         src->plugin->version ? src->plugin->version : "",
                         src->sc->timezone ? src->sc->timezone : "UTC"};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    ib_sha256_update(&h, parts[i], strlen(parts[i]) + 1);
  if (src->sc->setting != NULL) fingerprint_setting(&h, src->sc->setting);
  char path[512];
  if (src->sc->timezone != NULL &&
      ib_tz_file(src->sc->timezone, path, sizeof path) == 0) {
    FILE *f = fopen(path, "rb");
    if (f != NULL) {
      unsigned char buf[8192];
      size_t n, total = 0;
      while (total < (1u << 20) && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        ib_sha256_update(&h, buf, n);
        total += n;
      }
      fclose(f);
    }
  }
  unsigned char out[IB_SHA256_LEN];
  ib_sha256_final(&h, out);
  uint64_t fp = 0;
  for (int i = 0; i < 8; i++) fp = fp << 8 | out[i];
  src->raw_fp = fp != 0 ? fp : 1;
  return src->raw_fp;
}

/* What a record's raw digest is stored as (0: none; none without a
 * store). */
static uint64_t raw_key(ib_source *src, uint64_t plugin_digest) {
  if (plugin_digest == 0 || src->store == NULL) return 0;
  return ib_raw_key(raw_fingerprint(src), plugin_digest);
}

static int raw_map_add(void *ctx, const char *id, uint64_t digest) {
  return ib_raw_map_put(ctx, id, digest) != 0 ? -1 : 0;
}

static uint64_t h_digest(uint64_t seed, const void *data, size_t len) {
  return data == NULL ? seed : ib_hash64(seed, data, len);
}

static int h_raw_unchanged(ib_source *src, ib_record_type type, const char *id,
                           uint64_t raw_digest) {
  /* A --full sync converts everything again: it is also how a user makes
   * sure, and it tracks every record it sees. */
  if (src->store == NULL || src->opt->full || src->store_failed || id == NULL ||
      raw_digest == 0 || (type != IB_RECORD_TICKET && type != IB_RECORD_OUTAGE))
    return 0;
  ib_raw_map *m = &src->raw_maps[type];
  if (!m->loaded) {
    char err[512];
    m->loaded = 1;
    /* Records written earlier in this run would have to be forgotten by
     * the map (ib_raw_map_forget): a plugin that asks only after writing
     * some gets no skips in this run rather than a map that misses them. */
    if (src->written[type] > 0) return 0;
    int rc = ib_store_raw_digests(src->store, src->sc->name, type, raw_map_add,
                                  m, err, sizeof err);
    if (rc != 0) {
      store_error(src, rc < 0 ? err : "out of memory reading raw digests");
      return 0;
    }
  }
  if (!ib_raw_map_matches(m, id, raw_key(src, raw_digest))) return 0;
  /* As a put of an unchanged record: read, stored, unchanged. A record
   * listed as rejected that comes back as it was stored is good again. */
  if (clear_pending(src, id) != IB_OK) return 0;
  src->res->read++;
  src->res->stored++;
  src->res->unchanged++;
  return 1;
}

/* After a record of `type` was put: the raw digests read for this run no
 * longer speak for it, it leaves the rejected list, and it counts. */
static ib_status stored_record(ib_source *src, ib_record_type type,
                               const char *id) {
  ib_raw_map_forget(&src->raw_maps[type], id);
  src->written[type]++;
  ib_status s = clear_pending(src, id);
  return s != IB_OK ? s : stored_one(src);
}

static ib_status emit_ticket(ib_source *src, const ib_ticket *in,
                             const char *where) {
  /* Copy what the plugin's (possibly older, shorter) struct has. */
  ib_ticket t = IB_TICKET_INIT;
  if (src->limit_reached) return IB_ERR_ABORTED; /* dry run: --limit */
  memcpy(&t, in, in->struct_size < sizeof t ? in->struct_size : sizeof t);
  const char *pos = where ? where : (t.key ? t.key : t.id);
  if (t.id == NULL || t.id[0] == '\0') {
    note_rejection(src, NULL, pos, "no id");
    return IB_ERR_REJECTED;
  }
  if (t.created_at == IB_TIME_NONE) {
    note_rejection(src, t.id, pos, "no creation date");
    return IB_ERR_REJECTED;
  }
  if (!ib_utf8_valid(t.id)) {
    /* Repairing an id could merge two records into one: refuse it. */
    note_rejection(src, NULL, pos, "the id is not valid UTF-8");
    return IB_ERR_REJECTED;
  }
  {
    const struct {
      const char *name;
      ib_time t;
    } times[] = {{"created", t.created_at},
                 {"first response", t.first_response_at},
                 {"resolved", t.resolved_at},
                 {"closed", t.closed_at},
                 {"updated", t.updated_at}};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
      if (out_of_range(src, t.id, pos, times[i].name, times[i].t))
        return IB_ERR_REJECTED;
    for (size_t i = 0; i < t.n_pauses; i++)
      if (out_of_range(src, t.id, pos, "pause start", t.pauses[i].start) ||
          out_of_range(src, t.id, pos, "pause end", t.pauses[i].end))
        return IB_ERR_REJECTED;
  }
  int kind = t.kind ? ib_kind_parse(t.kind) : IB_KIND_OTHER;
  if (kind < 0) {
    h_reject_record(src, t.id, pos,
                    "kind \"%s\" is not one of incident, request, problem, "
                    "change, other (map it in kinds)",
                    t.kind);
    return IB_ERR_REJECTED;
  }
  int prio = 0;
  if (t.priority) {
    prio = ib_priority_parse(t.priority);
    if (prio < 0) {
      h_reject_record(src, t.id, pos,
                      "priority \"%s\" is not P1..P5 (map it in priorities)",
                      t.priority);
      return IB_ERR_REJECTED;
    }
  }
  int state;
  if (t.status) {
    state = ib_state_parse(t.status);
    if (state < 0) {
      h_reject_record(src, t.id, pos,
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
      note_rejection(src, t.id, pos, "a pause without a start");
      return IB_ERR_REJECTED;
    }
  ib_status s = ensure_tx(src);
  if (s != IB_OK) return s;
  /* Text goes to the store and into JSON files: invalid UTF-8 from the
   * source is repaired here, once, with a warning naming the record. */
  const char **texts[] = {&t.key,        &t.title,        &t.kind_raw,
                          &t.status_raw, &t.priority_raw, &t.service,
                          &t.group};
  char *repaired[sizeof texts / sizeof texts[0]] = {0}; /* owned here */
  if (repair_texts(src, pos, texts, repaired, sizeof texts / sizeof texts[0]) !=
      0)
    return store_error(src, "out of memory repairing UTF-8");
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
      .reported_resolution_breached = t.reported_resolution_breached,
      .raw_digest = raw_key(src, t.raw_digest)};
  char err[512];
  int put =
      src->opt->dry_run
          ? sink_record(src,
                        src->opt->dry_run->ticket(src->opt->dry_run->ctx, &row),
                        err, sizeof err)
          : ib_store_put_ticket(src->store, &row, src->opt->full, err,
                                sizeof err);
  for (size_t i = 0; i < sizeof repaired / sizeof repaired[0]; i++)
    free(repaired[i]);
  if (put) return store_error(src, err);
  return stored_record(src, IB_RECORD_TICKET, t.id);
}

static ib_status emit_outage(ib_source *src, const ib_outage *in,
                             const char *where) {
  ib_outage o = IB_OUTAGE_INIT;
  if (src->limit_reached) return IB_ERR_ABORTED; /* dry run: --limit */
  memcpy(&o, in, in->struct_size < sizeof o ? in->struct_size : sizeof o);
  const char *pos = where ? where : o.id;
  if (o.id == NULL || o.id[0] == '\0') {
    note_rejection(src, NULL, pos, "no id");
    return IB_ERR_REJECTED;
  }
  if (o.start == IB_TIME_NONE) {
    note_rejection(src, o.id, pos, "no start");
    return IB_ERR_REJECTED;
  }
  if (!ib_utf8_valid(o.id)) {
    note_rejection(src, NULL, pos, "the id is not valid UTF-8");
    return IB_ERR_REJECTED;
  }
  if (out_of_range(src, o.id, pos, "start", o.start) ||
      out_of_range(src, o.id, pos, "end", o.end) ||
      out_of_range(src, o.id, pos, "updated", o.updated_at))
    return IB_ERR_REJECTED;
  int kind = o.kind ? ib_outage_kind_parse(o.kind) : IB_OUTAGE_OUTAGE;
  if (kind < 0) {
    h_reject_record(src, o.id, pos,
                    "outage kind \"%s\" is not outage, degradation or "
                    "planned (map it in kinds)",
                    o.kind);
    return IB_ERR_REJECTED;
  }
  if (o.end != IB_TIME_NONE && o.end < o.start) {
    note_rejection(src, o.id, pos, "ends before it starts");
    return IB_ERR_REJECTED;
  }
  ib_status s = ensure_tx(src);
  if (s != IB_OK) return s;
  const char **texts[] = {&o.service, &o.kind_raw};
  char *repaired[2] = {0}; /* owned here */
  if (repair_texts(src, pos, texts, repaired, 2) != 0)
    return store_error(src, "out of memory repairing UTF-8");
  ib_outage_row row = {
      .source = src->sc->name,
      .id = (char *)o.id,
      .service = (char *)o.service,
      .kind = (ib_outage_kind)kind,
      .kind_raw = (char *)o.kind_raw,
      .start = o.start,
      .end = o.end,
      .updated_at = o.updated_at != IB_TIME_NONE ? o.updated_at : o.start,
      .deleted_at = IB_TIME_NONE,
      .raw_digest = raw_key(src, o.raw_digest)};
  char err[512];
  int put =
      src->opt->dry_run
          ? sink_record(src,
                        src->opt->dry_run->outage(src->opt->dry_run->ctx, &row),
                        err, sizeof err)
          : ib_store_put_outage(src->store, &row, src->opt->full, err,
                                sizeof err);
  free(repaired[0]);
  free(repaired[1]);
  if (put) return store_error(src, err);
  return stored_record(src, IB_RECORD_OUTAGE, o.id);
}

/* The id a plugin's record carries, whatever the size of its struct
 * (id is one of the first fields of both). */
static ib_status h_emit_ticket(ib_source *src, const ib_ticket *in,
                               const char *where) {
  if (in == NULL || in->struct_size < offsetof(ib_ticket, key))
    return IB_ERR_INVALID;
  return emit_ticket(src, in, where);
}

static ib_status h_emit_outage(ib_source *src, const ib_outage *in,
                               const char *where) {
  if (in == NULL || in->struct_size < offsetof(ib_outage, service))
    return IB_ERR_INVALID;
  return emit_outage(src, in, where);
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

/* Ctrl-C, or (dry run) --limit reached. */
static int h_should_stop(ib_source *src) {
  return ib_stop_requested != 0 || src->limit_reached;
}

/* ---- HTTP for plugins: ABI strides, session headers, re-login -------- */

static int has_authenticate(const ib_source *src) {
  const ib_plugin *p = src->plugin;
  return p->struct_size >=
             offsetof(ib_plugin, authenticate) + sizeof p->authenticate &&
         p->authenticate != NULL && src->instance != NULL;
}

/* The one place a secret value is handed to the run's scrubber. */
static int register_secret(ib_source *src, const char *value) {
  if (src->session_scrub == NULL &&
      (src->session_scrub = ib_scrubber_new()) == NULL)
    return -1;
  return ib_scrubber_add(src->session_scrub, value) ||
         ib_http_client_add_secret(src->http, value);
}

/* Calls the plugin's authenticate(); its own requests carry no session. */
static ib_status run_authenticate(ib_source *src) {
  h_log(src, IB_LOG_DEBUG, "%s",
        src->session_valid || src->session_headers
            ? "session refused or expired: logging "
              "in again"
            : "logging in");
  src->in_auth = 1;
  ib_status st = src->plugin->authenticate(src->instance);
  src->in_auth = 0;
  src->session_valid = st == IB_OK;
  if (st != IB_OK && src->res->error[0] == '\0')
    snprintf(src->res->error, sizeof src->res->error,
             "login failed: %s; check the credentials in %s", h_strerror(st),
             src->credentials_hint[0] ? src->credentials_hint
                                      : "the source's settings");
  return st;
}

/* Host copies of the plugin's requests (any struct_size) with the session
 * headers appended. Owned by the caller: free_requests. */
static ib_http_request *host_requests(ib_source *src,
                                      const ib_http_request *reqs, size_t n,
                                      void ***lists) {
  size_t stride = reqs[0].struct_size ? reqs[0].struct_size : sizeof *reqs;
  size_t n_session = 0;
  if (!src->in_auth)
    while (src->session_headers && src->session_headers[n_session]) n_session++;
  ib_http_request *out = calloc(n, sizeof *out);
  *lists = calloc(n, sizeof **lists);
  if (out == NULL || *lists == NULL) goto fail;
  for (size_t i = 0; i < n; i++) {
    memcpy(&out[i], (const char *)reqs + i * stride,
           stride < sizeof out[i] ? stride : sizeof out[i]);
    out[i].struct_size = sizeof out[i];
    if (n_session == 0) continue;
    size_t n_own = 0;
    while (out[i].headers && out[i].headers[n_own]) n_own++;
    const char **list = calloc(n_own + n_session + 1, sizeof *list);
    if (list == NULL) goto fail;
    if (n_own) memcpy(list, out[i].headers, n_own * sizeof *list);
    for (size_t k = 0; k < n_session; k++)
      list[n_own + k] = src->session_headers[k];
    (*lists)[i] = list;
    out[i].headers = list;
  }
  return out;
fail:
  for (size_t i = 0; *lists && i < n; i++) free((*lists)[i]);
  free(*lists);
  *lists = NULL;
  free(out);
  return NULL;
}

static void free_requests(ib_http_request *reqs, void **lists, size_t n) {
  for (size_t i = 0; lists && i < n; i++) free(lists[i]);
  free(lists);
  free(reqs);
}

/* Copies the host's responses into the plugin's array (its stride); what
 * an older, shorter struct cannot hold (the headers) is freed here. */
static void hand_responses(ib_http_response *full, size_t n,
                           ib_http_response *resps, size_t stride) {
  for (size_t i = 0; i < n; i++) {
    ib_http_response *dst =
        (ib_http_response *)(void *)((char *)resps + i * stride);
    if (stride < sizeof full[i]) {
      ib_http_response tail = full[i];
      tail.body = NULL;
      tail.error = NULL;
      ib_http_response_free(&tail); /* the headers */
      memcpy(dst, &full[i], stride);
    } else {
      memcpy(dst, &full[i], sizeof full[i]);
    }
    dst->struct_size = stride;
  }
}

static int any_401(const ib_http_response *r, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (r[i].status == 401) return 1;
  return 0;
}

static ib_status h_http(ib_source *src, const ib_http_request *reqs, size_t n,
                        ib_http_response *resps) {
  if (src->http == NULL && src->transport == NULL) {
    h_log(src, IB_LOG_ERROR, "plugin %s did not declare IB_PLUGIN_FLAG_HTTP",
          src->plugin->name);
    return IB_ERR_INVALID;
  }
  if (n == 0) return IB_OK;
  if (reqs == NULL || resps == NULL) return IB_ERR_INVALID;
  size_t stride =
      resps[0].struct_size ? resps[0].struct_size : IB_HTTP_RESPONSE_SIZE_V1;
  size_t req_stride = reqs[0].struct_size ? reqs[0].struct_size : sizeof *reqs;
  if (stride < IB_HTTP_RESPONSE_SIZE_V1 || req_stride < sizeof *reqs) {
    h_log(src, IB_LOG_ERROR,
          "plugin %s passed HTTP structures smaller than any SDK version's; "
          "set struct_size in every request and response",
          src->plugin->name);
    return IB_ERR_INVALID;
  }
  ib_http_response *full = calloc(n, sizeof *full); /* owned until handed */
  ib_http_request *hreqs = NULL;
  void **lists = NULL; /* owned: per request, its header array */
  ib_status s = IB_OK;
  if (full == NULL) return IB_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    const ib_http_request *r =
        (const ib_http_request *)(const void *)((const char *)reqs +
                                                i * req_stride);
    char why[256];
    if (r->url && ib_http_check_url(r->url, why, sizeof why)) {
      char shown[200];
      ib_http_url_for_message(r->url, shown, sizeof shown);
      snprintf(src->res->error, sizeof src->res->error,
               "refusing request to %s: the URL %s", shown, why);
      s = IB_ERR_CONFIG;
      goto done;
    }
  }
  int relogged = 0;
  if (!src->in_auth && has_authenticate(src) && !src->session_valid) {
    if ((s = run_authenticate(src)) != IB_OK) goto done;
    relogged = 1;
  }
  for (;;) {
    hreqs = host_requests(src, reqs, n, &lists);
    if (hreqs == NULL) {
      s = IB_ERR_NOMEM;
      goto done;
    }
    s = src->transport
            ? src->transport->perform(src->transport->ctx, hreqs, n, full)
            : ib_http_perform(src->http, hreqs, n, full);
    free_requests(hreqs, lists, n);
    hreqs = NULL;
    lists = NULL;
    /* A refused session: log in again once, then send the batch again. */
    if (s != IB_ERR_AUTH || relogged || src->in_auth ||
        !has_authenticate(src) || !any_401(full, n))
      break;
    for (size_t i = 0; i < n; i++) ib_http_response_free(&full[i]);
    src->session_valid = 0;
    relogged = 1;
    if ((s = run_authenticate(src)) != IB_OK) goto done;
  }
  if (s != IB_OK && src->res->error[0] == '\0' && src->http)
    snprintf(src->res->error, sizeof src->res->error, "%s",
             ib_http_client_last_error(src->http));
done:
  hand_responses(full, n, resps, stride);
  free(full);
  return s;
}

static const char *h_http_header(const ib_http_response *resp,
                                 const char *name) {
  return ib_http_header_get(resp, name);
}

static void wipe(char *s);

static void hint_add(ib_source *src, const char *var) {
  if (src->hint_set) return;
  size_t len = strlen(src->credentials_hint);
  char word[160];
  snprintf(word, sizeof word, "$%s", var);
  if (strstr(src->credentials_hint, word)) return;
  snprintf(src->credentials_hint + len, sizeof src->credentials_hint - len,
           "%s%s", len ? " and " : "", word);
  ib_http_client_set_hint(src->http, src->credentials_hint);
}

static const char *h_get_secret(ib_source *src, const char *option) {
  if (option == NULL) return NULL;
  for (size_t i = 0; i < src->n_secrets; i++)
    if (strcmp(src->secret_options[i], option) == 0) return src->secrets[i];
  const ib_option_def *d = find_def(src->plugin->options, option);
  if (d == NULL || !d->secret || d->type != IB_OPT_STRING) {
    h_log(src, IB_LOG_ERROR,
          "plugin %s asked for secret option '%s', which it does not declare "
          "as a secret",
          src->plugin->name, option);
    return NULL;
  }
  const char *var = h_get_string(src, option);
  if (var == NULL || *var == '\0') return NULL;
  hint_add(src, var);
  const char *val = getenv(var);
  if (val == NULL || *val == '\0') {
    h_log(src, IB_LOG_ERROR,
          "environment variable %s is not set (option %s of source '%s'); "
          "export it before running itsm-bridge",
          var, option, src->sc->name);
    return NULL;
  }
  char **vals = realloc(src->secrets, (src->n_secrets + 1) * sizeof *vals);
  if (vals == NULL) return NULL;
  src->secrets = vals;
  char **opts =
      realloc(src->secret_options, (src->n_secrets + 1) * sizeof *opts);
  if (opts == NULL) return NULL;
  src->secret_options = opts;
  char *copy = strdup(val), *name = strdup(option);
  if (copy == NULL || name == NULL || register_secret(src, copy) != 0) {
    wipe(copy);
    free(name);
    return NULL;
  }
  src->secrets[src->n_secrets] = copy;
  src->secret_options[src->n_secrets] = name;
  src->n_secrets++;
  return copy;
}

static void free_session_headers(ib_source *src) {
  for (size_t i = 0; src->session_headers && src->session_headers[i]; i++)
    wipe(src->session_headers[i]);
  free(src->session_headers);
  src->session_headers = NULL;
}

static ib_status h_http_set_session_headers(ib_source *src,
                                            const char *const *headers) {
  size_t n = 0;
  while (headers && headers[n]) n++;
  char **list = calloc(n + 1, sizeof *list); /* owned by src on success */
  if (list == NULL) return IB_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    const char *colon = strchr(headers[i], ':');
    if (colon == NULL || colon == headers[i] || strpbrk(headers[i], "\r\n")) {
      h_log(src, IB_LOG_ERROR,
            "plugin %s: session header %zu is not one \"Name: value\" line",
            src->plugin->name, i);
      for (size_t k = 0; k < i; k++) wipe(list[k]);
      free(list);
      return IB_ERR_INVALID;
    }
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t') v++;
    if ((list[i] = strdup(headers[i])) == NULL || register_secret(src, v)) {
      for (size_t k = 0; k <= i; k++) wipe(list[k]);
      free(list);
      return IB_ERR_NOMEM;
    }
  }
  free_session_headers(src);
  src->session_headers = list;
  return IB_OK;
}

static void h_http_session_expired(ib_source *src) {
  src->session_valid = 0;
}

static void h_set_auth_hint(ib_source *src, const char *hint) {
  snprintf(src->credentials_hint, sizeof src->credentials_hint, "%s",
           hint ? hint : "");
  src->hint_set = hint != NULL && *hint;
  ib_http_client_set_hint(src->http, src->credentials_hint);
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
    .config_error = h_config_error,
    .reject_record = h_reject_record,
    .http_header = h_http_header,
    .get_secret = h_get_secret,
    .http_set_session_headers = h_http_set_session_headers,
    .http_session_expired = h_http_session_expired,
    .set_auth_hint = h_set_auth_hint,
    .digest = h_digest,
    .raw_unchanged = h_raw_unchanged,
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
  char alt[160];
  snprintf(alt, sizeof alt, " (auth.token_file of source '%s')", src->sc->name);
  if (ib_trust_check(&sb, S_IRWXG | S_IRWXO, "token_file", path, alt, err,
                     errlen)) {
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

/* Adds getenv(<value of key>) of group g to the scrubber. */
static int add_env_secret(const config_setting_t *g, const char *key,
                          ib_scrubber *s) {
  const char *var = NULL;
  if (!g || !config_setting_lookup_string(g, key, &var)) return 0;
  return ib_scrubber_add(s, getenv(var));
}

int ib_source_add_secrets(const ib_source_cfg *sc, const ib_plugin *plugin,
                          ib_scrubber *s) {
  const config_setting_t *auth = config_setting_get_member(sc->setting, "auth");
  const char *user = NULL, *token = NULL, *uvar = NULL, *tvar = NULL;
  const char *tfile = NULL;
  if (auth && config_setting_is_group(auth)) {
    if (add_env_secret(auth, "user_env", s) ||
        add_env_secret(auth, "token_env", s))
      return -1;
    if (config_setting_lookup_string(auth, "user_env", &uvar))
      user = getenv(uvar);
    if (config_setting_lookup_string(auth, "token_env", &tvar))
      token = getenv(tvar);
    if (config_setting_lookup_string(auth, "token_file", &tfile)) {
      char *file_token = NULL; /* owned, wiped */
      char err[512];
      ib_source tmp = {.sc = sc};
      if (read_file_secret(&tmp, tfile, &file_token, err, sizeof err) == 0) {
        int rc = ib_scrubber_add(s, file_token) ||
                 (user && ib_scrubber_add_basic(s, user, file_token));
        explicit_bzero(file_token, strlen(file_token));
        free(file_token);
        if (rc) return -1;
      }
    }
    if (user && token && ib_scrubber_add_basic(s, user, token)) return -1;
  }
  for (const ib_option_def *d = plugin ? plugin->options : NULL; d && d->name;
       d++) {
    if (d->secret && add_env_secret(sc->setting, d->name, s)) return -1;
    if (d->type != IB_OPT_GROUP || !d->children) continue;
    const config_setting_t *g = config_setting_get_member(sc->setting, d->name);
    for (const ib_option_def *c = d->children; g && c->name; c++)
      if (c->secret && add_env_secret(g, c->name, s)) return -1;
  }
  return 0;
}

/* The HTTP client's final error is kept in the run's result and printed
 * once by the sync summary, so it is not logged a second time here. */
static void http_log(void *ctx, ib_log_level level, const char *msg) {
  h_log(ctx, level == IB_LOG_ERROR ? IB_LOG_DEBUG : level, "%s", msg);
}
/* Only the user's stop cuts requests short: after --limit the plugin may
 * still end its session. */
static int http_stop(void *ctx) {
  (void)ctx;
  return ib_stop_requested != 0;
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
    if (strcmp(type, "header") == 0) {
      hc.auth = IB_AUTH_HEADER;
      config_setting_lookup_string(auth, "name", &hc.header_name);
      config_setting_lookup_string(auth, "value_env", &tvar);
      snprintf(src->credentials_hint, sizeof src->credentials_hint, "$%s",
               tvar);
      if (read_env_secret(src, auth, "value_env", &src->token, err, errlen))
        return -1;
      goto configured;
    }
    config_setting_lookup_string(auth, "token_file", &tfile);
    if (strcmp(type, "basic") == 0)
      hc.auth = IB_AUTH_BASIC;
    else if (strcmp(type, "bearer") == 0)
      hc.auth = IB_AUTH_BEARER;
    /* Names the variables and the keys that hold them, for 401/403. */
    char token_where[96];
    if (tfile)
      snprintf(token_where, sizeof token_where, "token file %.60s", tfile);
    else
      snprintf(token_where, sizeof token_where, "$%.60s", tvar);
    if (hc.auth == IB_AUTH_BASIC)
      snprintf(src->credentials_hint, sizeof src->credentials_hint,
               "the credentials in $%.40s/%s (auth.user_env/auth.%s of "
               "source '%.40s')",
               uvar, token_where, tfile ? "token_file" : "token_env",
               src->sc->name);
    else if (hc.auth == IB_AUTH_BEARER)
      snprintf(src->credentials_hint, sizeof src->credentials_hint,
               "the token in %s (auth.%s of source '%.40s')", token_where,
               tfile ? "token_file" : "token_env", src->sc->name);
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
configured:
  hc.user = src->user;
  hc.token = src->token;
  hc.credentials_hint = src->credentials_hint[0] ? src->credentials_hint : NULL;
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
  ib_string_list_free(&src->pending);
  free(src->pending_seen);
  while (src->defaults) {
    default_doc *next = src->defaults->next;
    config_destroy(&src->defaults->cfg);
    free(src->defaults);
    src->defaults = next;
  }
  for (size_t i = 0; i < src->n_secrets; i++) {
    wipe(src->secrets[i]);
    free(src->secret_options[i]);
  }
  free(src->secrets);
  free(src->secret_options);
  free_session_headers(src);
  ib_raw_map_free(&src->raw_maps[0]);
  ib_raw_map_free(&src->raw_maps[1]);
  /* session_scrub outlives this: the run's last messages still need it. */
}

/* ---- records rejected by earlier syncs ---- */

/* Asks the plugin again for the records the store lists as rejected and
 * that this run has neither stored nor rejected yet, all in one fetch()
 * call (sorted ids). An id the plugin does not emit nor reject is gone from
 * the source: it leaves the list. */
static ib_status refetch_rejected(ib_source *src, void *instance) {
  const ib_plugin *p = src->plugin;
  size_t todo = 0;
  for (size_t i = 0; i < src->pending.n; i++) todo += !src->pending_seen[i];
  if (todo == 0) return IB_OK;
  if (!PLUGIN_HAS(p, fetch) || p->fetch == NULL) {
    h_log(src, IB_LOG_INFO,
          "%zu records rejected earlier are not read again: plugin %s cannot "
          "fetch by id (sync --full re-reads everything)",
          todo, p->name);
    return IB_OK;
  }
  h_log(src, IB_LOG_DEBUG, "reading %zu records rejected earlier again", todo);
  const char **ids = calloc(todo, sizeof *ids);
  if (ids == NULL) return IB_ERR_NOMEM;
  size_t n = 0;
  for (size_t i = 0; i < src->pending.n; i++)
    if (!src->pending_seen[i]) ids[n++] = src->pending.items[i];
  int64_t read0 = src->res->read, stored0 = src->res->stored;
  char err[512] = "";
  ib_status s = p->fetch(instance, ids, n);
  if (s == IB_OK && src->store_failed) s = IB_ERR_STORE;
  /* What the plugin did not emit nor reject is no longer in the source. */
  for (size_t j = 0; s == IB_OK && j < n; j++) {
    long k = ib_string_list_find(&src->pending, ids[j]);
    if (k < 0 || src->pending_seen[k]) continue;
    src->pending_seen[k] = 1;
    if ((s = ensure_tx(src)) != IB_OK) break;
    if (ib_store_drop_rejected(src->store, src->sc->name, ids[j], err,
                               sizeof err))
      s = store_error(src, err);
    else
      h_log(src, IB_LOG_INFO,
            "%s, rejected earlier, is no longer in the source", ids[j]);
  }
  free(ids);
  if (s == IB_OK && h_commit(src, IB_TIME_NONE) != IB_OK) s = IB_ERR_STORE;
  if (settle_pages(src) != IB_OK && s == IB_OK) s = IB_ERR_STORE;
  src->res->refetched = src->res->read - read0;
  src->res->recovered = src->res->stored - stored0;
  return s;
}

/* ---- validation against the plugin ---- */

/* The words of the model a rule may name, for checks and messages. */
static int model_word_ok(const char *model, const char *word,
                         const char **list) {
  if (strcmp(model, "kind") == 0) {
    *list = "incident, request, problem, change, other";
    return ib_kind_parse(word) >= 0;
  }
  if (strcmp(model, "priority") == 0) {
    *list = "P1, P2, P3, P4, P5";
    return ib_priority_parse(word) >= 0;
  }
  if (strcmp(model, "status") == 0) {
    *list = "new, open, pending, resolved, closed, cancelled";
    return ib_state_parse(word) >= 0;
  }
  if (strcmp(model, "outage_kind") == 0) {
    *list = "outage, degradation, planned";
    return ib_outage_kind_parse(word) >= 0;
  }
  *list = "?";
  return 0;
}

/* Checks one word against the rule's allowed values and model list. */
static int word_allowed(const ib_option_rule *r, const char *word,
                        const char **why_list, char *buf, size_t buflen) {
  if (r->model && !model_word_ok(r->model, word, why_list)) return 0;
  if (r->allowed) {
    size_t used = 0;
    buf[0] = '\0';
    for (const char *const *a = r->allowed; *a; a++) {
      if (strcmp(*a, word) == 0) return 1;
      used += (size_t)snprintf(buf + used, used < buflen ? buflen - used : 0,
                               "%s\"%s\"", a == r->allowed ? "" : ", ", *a);
      if (used >= buflen) used = buflen - 1;
    }
    *why_list = buf;
    return 0;
  }
  return 1;
}

static int check_rule(const ib_source_cfg *sc, const ib_plugin *plugin,
                      const ib_option_rule *r, char *err, size_t errlen) {
  const ib_option_def *d = find_def(plugin->options, r->name);
  if (d == NULL)
    return ib_config_error_at(sc->setting, NULL, err, errlen,
                              "plugin %s has a rule for '%s', which it does "
                              "not declare (a bug in the plugin)",
                              plugin->name, r->name);
  config_setting_t *v = config_setting_lookup(sc->setting, r->name);
  if (v == NULL) return 0;
  char buf[400];
  const char *list = NULL;
  if (d->type == IB_OPT_INT || d->type == IB_OPT_FLOAT) {
    double x = config_setting_type(v) == CONFIG_TYPE_FLOAT
                   ? config_setting_get_float(v)
                   : (double)config_setting_get_int64(v);
    int low = (r->flags & IB_RULE_MIN) && x < (double)r->min;
    int high = (r->flags & IB_RULE_MAX) && x > (double)r->max;
    if (!low && !high) return 0;
    if ((r->flags & IB_RULE_MIN) && (r->flags & IB_RULE_MAX))
      snprintf(buf, sizeof buf, "from %lld to %lld", (long long)r->min,
               (long long)r->max);
    else if (r->flags & IB_RULE_MIN)
      snprintf(buf, sizeof buf, "at least %lld", (long long)r->min);
    else
      snprintf(buf, sizeof buf, "at most %lld", (long long)r->max);
    char shown[64];
    if (config_setting_type(v) == CONFIG_TYPE_FLOAT)
      snprintf(shown, sizeof shown, "%g", x);
    else
      snprintf(shown, sizeof shown, "%lld",
               (long long)config_setting_get_int64(v));
    return ib_config_error_at(v, NULL, err, errlen,
                              "source '%s': %s = %s is out of range: it must "
                              "be %s",
                              sc->name, r->name, shown, buf);
  }
  if (d->type == IB_OPT_STRING) {
    const char *w = config_setting_get_string(v);
    if (w == NULL || word_allowed(r, w, &list, buf, sizeof buf)) return 0;
    return ib_config_error_at(v, NULL, err, errlen,
                              "source '%s': %s = \"%s\" is not allowed: use "
                              "one of %s",
                              sc->name, r->name, w, list);
  }
  int n = config_setting_length(v);
  for (int i = 0; i < n; i++) {
    config_setting_t *e = config_setting_get_elem(v, (unsigned)i);
    const char *w = d->type == IB_OPT_PAIRS
                        ? config_setting_get_string_elem(e, 1)
                        : config_setting_get_string(e);
    if (w == NULL || word_allowed(r, w, &list, buf, sizeof buf)) continue;
    if (d->type == IB_OPT_PAIRS)
      return ib_config_error_at(
          e, NULL, err, errlen,
          "source '%s': %s maps \"%s\" to \"%s\", which is not one of %s",
          sc->name, r->name, config_setting_get_string_elem(e, 0), w, list);
    return ib_config_error_at(e, NULL, err, errlen,
                              "source '%s': %s: \"%s\" is not one of %s",
                              sc->name, r->name, w, list);
  }
  return 0;
}

/* A list or pairs default the plugin declares must parse as its type. */
static int check_defaults(const ib_source_cfg *sc, const ib_plugin *plugin,
                          const ib_option_def *defs, char *err, size_t errlen) {
  for (const ib_option_def *d = defs; d && d->name; d++) {
    if (d->type == IB_OPT_GROUP &&
        check_defaults(sc, plugin, d->children, err, errlen))
      return -1;
    if (d->default_value == NULL ||
        (d->type != IB_OPT_STRINGS && d->type != IB_OPT_PAIRS))
      continue;
    config_t c;
    config_init(&c);
    config_setting_t *v = parse_default(&c, d->default_value);
    int ok = v && type_ok(v, d->type);
    config_destroy(&c);
    if (!ok)
      return ib_config_error_at(sc->setting, NULL, err, errlen,
                                "plugin %s declares a default for '%s' that "
                                "is not %s (a bug in the plugin)",
                                plugin->name, d->name, type_example(d->type));
  }
  return 0;
}

/* Runs the plugin's own checks with the option getters and config_error. */
static int run_plugin_validate(const ib_config *cfg, const ib_source_cfg *sc,
                               const ib_plugin *plugin, char *err,
                               size_t errlen) {
  ib_sync_options opt = {.since = IB_TIME_NONE};
  ib_sync_result res;
  memset(&res, 0, sizeof res);
  ib_source src = {.cfg = cfg,
                   .sc = sc,
                   .plugin = plugin,
                   .opt = &opt,
                   .res = &res,
                   .since = IB_TIME_NONE,
                   .config_err = err,
                   .config_errlen = errlen};
  ib_status st = plugin->validate(&host_services, &src);
  int failed = src.config_failed;
  source_release(&src);
  if (failed) return -1;
  if (st != IB_OK)
    return ib_config_error_at(sc->setting, cfg->file, err, errlen,
                              "source '%s': plugin %s refused the "
                              "configuration (%s)",
                              sc->name, plugin->name, h_strerror(st));
  return 0;
}

int ib_source_validate(const ib_config *cfg, const ib_source_cfg *sc,
                       const ib_plugin *plugin, char *err, size_t errlen) {
  const char *extra[16];
  size_t n = 0;
  for (const ib_option_def *d = common_options; d->name; d++)
    extra[n++] = d->name;
  if (plugin->flags & IB_PLUGIN_FLAG_HTTP)
    for (const ib_option_def *d = http_options; d->name; d++)
      extra[n++] = d->name;
  extra[n] = NULL;
  if (validate_group(sc->name, plugin->name, sc->setting, plugin->options,
                     extra, "", (plugin->flags & IB_PLUGIN_FLAG_HTTP) != 0, err,
                     errlen))
    return -1;
  if ((plugin->flags & IB_PLUGIN_FLAG_HTTP) && validate_http(sc, err, errlen))
    return -1;
  config_setting_t *m =
      config_setting_get_member(sc->setting, "max_delete_pct");
  if (m != NULL && (!type_ok(m, IB_OPT_FLOAT) || setting_number(m) < 0 ||
                    setting_number(m) > 100))
    return ib_config_error_at(
        m, NULL, err, errlen,
        "source '%s': max_delete_pct must be a number from 0 to 100", sc->name);
  if (check_defaults(sc, plugin, plugin->options, err, errlen)) return -1;
  if (PLUGIN_HAS(plugin, option_rule_size) && plugin->option_rules) {
    size_t stride = plugin->option_rule_size;
    if (stride < offsetof(ib_option_rule, model) + sizeof(const char *))
      stride = 0; /* older than the smallest rule this host knows: ignore */
    for (const char *p = (const char *)plugin->option_rules;
         stride && ((const ib_option_rule *)p)->name; p += stride)
      if (check_rule(sc, plugin, (const ib_option_rule *)p, err, errlen))
        return -1;
  }
  if (PLUGIN_HAS(plugin, validate) && plugin->validate &&
      run_plugin_validate(cfg, sc, plugin, err, errlen))
    return -1;
  return 0;
}

/* After a successful --full read: marks what the source no longer has as
 * deleted, unless that is more than max_delete_pct of the source's records
 * (a truncated export, a filter gone wrong) and --allow-mass-delete was
 * not given: then nothing is deleted and the run fails. */
static ib_status mark_vanished(ib_source *src) {
  ib_sync_result *res = src->res;
  char err[512];
  int64_t unseen = 0, live = 0;
  if (ib_store_count_unseen(src->store, src->sc->name, &unseen, &live, err,
                            sizeof err)) {
    snprintf(res->error, sizeof res->error, "%s", err);
    return IB_ERR_STORE;
  }
  double pct = max_delete_pct(src->sc);
  if (unseen > 0 && !src->opt->allow_mass_delete &&
      (double)unseen * 100.0 > pct * (double)live) {
    snprintf(res->error, sizeof res->error,
             "--full would mark %lld of the %lld stored records of source "
             "'%s' deleted (%.1f%%, more than max_delete_pct = %g%%): nothing "
             "deleted; check the export is complete, then run sync --full "
             "--allow-mass-delete (or raise max_delete_pct)",
             (long long)unseen, (long long)live, src->sc->name,
             100.0 * (double)unseen / (double)live, pct);
    return IB_ERR_ABORTED;
  }
  if (ib_store_mark_unseen_deleted(src->store, src->sc->name,
                                   (ib_time)time(NULL), &res->deleted, err,
                                   sizeof err)) {
    snprintf(res->error, sizeof res->error, "%s", err);
    return IB_ERR_STORE;
  }
  return IB_OK;
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
  src.scrub = opt->scrub;
  if (src.scrub == NULL) {
    src.own_scrub = ib_scrubber_new();
    if (src.own_scrub == NULL ||
        ib_source_add_secrets(sc, plugin, src.own_scrub) != 0) {
      ib_scrubber_free(src.own_scrub);
      snprintf(res->error, sizeof res->error, "out of memory");
      res->status = IB_ERR_NOMEM;
      return -1;
    }
    src.scrub = src.own_scrub;
  }
  char err[512];
  int64_t run_id = 0;
  void *instance = NULL;
  ib_status status = IB_OK;
  /* A dry run has no store at all: nothing can be written by mistake. */
  int dry = opt->dry_run != NULL;

  ib_source_state state = {.watermark = IB_TIME_NONE};
  if (dry != (st == NULL) || (dry && opt->full)) {
    snprintf(res->error, sizeof res->error,
             "internal error: a dry run takes no store and no --full");
    res->status = IB_ERR_INVALID;
    ib_scrubber_free(src.own_scrub);
    return -1;
  }
  if (!dry &&
      (ib_store_source_state(st, sc->name, 0, &state, err, sizeof err) ||
       ib_store_run_begin(st, sc->name, opt->full, &run_id, err, sizeof err))) {
    snprintf(res->error, sizeof res->error, "%s", err);
    scrub_text(&src, res->error, sizeof res->error);
    res->status = IB_ERR_STORE;
    ib_scrubber_free(src.own_scrub);
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

  if (!dry &&
      ib_store_list_rejected(st, sc->name, &src.pending, err, sizeof err)) {
    status = IB_ERR_STORE;
    snprintf(res->error, sizeof res->error, "%s", err);
    goto done;
  }
  ib_string_list_sort(&src.pending);
  if ((src.pending_seen = calloc(src.pending.n + 1, 1)) == NULL) {
    status = IB_ERR_NOMEM;
    goto done;
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
      snprintf(res->error, sizeof res->error, "cannot open the source: %.480s",
               src.first_error[0] ? src.first_error : h_strerror(status));
    goto done;
  }
  src.instance = instance;
  status = plugin->sync(instance);
  if (src.store_failed) status = src.store_failed;
  /* --limit: the plugin stopped because it was told to. */
  if (src.limit_reached && status == IB_ERR_ABORTED && !ib_stop_requested)
    status = IB_OK;
  if (status == IB_OK && h_commit(&src, IB_TIME_NONE) != IB_OK)
    status = IB_ERR_STORE;
  /* Every page committed is written before anything else touches the
   * store, whatever ended the run (Ctrl-C included). */
  if (settle_pages(&src) != IB_OK &&
      (status == IB_OK || status == IB_ERR_ABORTED))
    status = IB_ERR_STORE;
  /* What sync() itself read for the first time decides whether the source
   * works at all; records rejected before, met again, are an old debt. */
  int64_t read = res->read - src.rejected_again,
          rejected = res->rejected - src.rejected_again;
  if (status == IB_OK && !dry) status = refetch_rejected(&src, instance);
  if (status == IB_OK && read > 0 && rejected == read) {
    status = IB_ERR_REJECTED;
    snprintf(res->error, sizeof res->error,
             "every one of the %lld records read was rejected: fix the "
             "mappings or the source (reasons above); they are read again "
             "at the next sync",
             (long long)read);
  }
  if (status != IB_OK && src.in_tx) {
    /* The page in progress is dropped; committed pages stay. */
    ib_store_rollback(st);
    src.in_tx = 0;
    undo_tx_counts(&src);
  }
  if (status == IB_OK && opt->full) status = mark_vanished(&src);
  if (status != IB_OK && res->error[0] == '\0')
    snprintf(res->error, sizeof res->error, "%s",
             src.first_error[0] ? src.first_error : h_strerror(status));
done:
  if (instance && plugin->close) plugin->close(instance);
  clear_progress(&src);
  source_release(&src);
  res->status = status;
  res->elapsed_s = since_start(&src);
  /* What is stored and printed after the run, scrubbed once more. */
  scrub_text(&src, res->error, sizeof res->error);
  for (int i = 0; i < res->n_reasons; i++)
    scrub_text(&src, res->reasons[i], sizeof res->reasons[i]);
  if (!dry &&
      ib_store_run_end(st, run_id, status == IB_OK, res->read, res->stored,
                       res->rejected, status == IB_OK ? NULL : res->error, err,
                       sizeof err) &&
      status == IB_OK) {
    res->status = status = IB_ERR_STORE;
    snprintf(res->error, sizeof res->error, "%s", err);
    scrub_text(&src, res->error, sizeof res->error);
  }
  ib_source_state after;
  if (!dry &&
      ib_store_source_state(st, sc->name, 0, &after, err, sizeof err) == 0)
    res->still_rejected = after.rejected;
  ib_scrubber_free(src.session_scrub);
  ib_scrubber_free(src.own_scrub);
  return status == IB_OK ? 0 : -1;
}
