/*
 * itsm_bridge/plugin.h -- the itsm-bridge source-plugin SDK.
 *
 * This is the only header a source plugin includes. A plugin is a shared
 * object that exports exactly one symbol, the entry function
 * `ib_plugin_entry`, which returns a pointer to a constant descriptor
 * (struct ib_plugin). The descriptor begins with a magic value, the ABI
 * version and its own size: the host checks all three before it touches
 * anything else and refuses the plugin with a message naming the field that
 * differs.
 *
 * At open, the host hands the plugin a table of services
 * (struct ib_host_services): logging, option getters, time parsing, value
 * mappings, emitting tickets and outages, committing a page together with the
 * watermark, progress, and HTTP. Plugins never call host symbols directly and
 * never touch the store.
 *
 * All state lives in the instance returned by open(): the same plugin may
 * run as several sources at once (two Jira sites), so no globals.
 *
 * Compatibility rules: structures that cross the boundary start with their
 * size and only ever grow at the end; enum values are only ever added.
 * IB_PLUGIN_ABI_VERSION changes only for an incompatible change: a plugin
 * built against an older header of the same ABI keeps working (the host
 * checks struct_size before reading a later field, see IB_PLUGIN_SIZE_V1),
 * and a plugin checks host->struct_size before calling a later service.
 * Initialise structures with designated initializers (.struct_size = ...)
 * so that growth never breaks a build.
 *
 * JSON: the host does not export a JSON reader. A plugin that parses JSON
 * links cJSON itself; the SDK's pkg-config file declares it (Requires:
 * libcjson), so `pkg-config --cflags --libs itsm-bridge-plugin` is all a
 * plugin needs, also with -Wl,-z,defs.
 * Strings passed to the host are borrowed for the duration of the call.
 * Strings returned by the host are owned by the host and stay valid until
 * close() returns, unless stated otherwise.
 *
 * This header must not include any host-internal header.
 */
#ifndef ITSM_BRIDGE_PLUGIN_H
#define ITSM_BRIDGE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IB_PLUGIN_MAGIC 0x49544231u /* "ITB1" */
#define IB_PLUGIN_ABI_VERSION 1u
#define IB_PLUGIN_ENTRY_SYMBOL "ib_plugin_entry"

#if defined(__GNUC__)
#define IB_EXPORT __attribute__((visibility("default")))
#define IB_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define IB_EXPORT
#define IB_PRINTF(fmt, args)
#endif

/* Status codes. Values are only ever added. ib_host_services.strerror()
 * gives the text. */
typedef enum ib_status {
  IB_OK = 0,
  IB_ERR_NOMEM = 1,    /* out of memory */
  IB_ERR_CONFIG = 2,   /* the source's configuration is unusable */
  IB_ERR_IO = 3,       /* a file could not be read */
  IB_ERR_PARSE = 4,    /* a payload could not be parsed */
  IB_ERR_HTTP = 5,     /* a remote call failed after its retries */
  IB_ERR_AUTH = 6,     /* 401/403: credentials refused; stop the source */
  IB_ERR_REJECTED = 7, /* emit_*: the record was rejected (already counted) */
  IB_ERR_STORE = 8,    /* the store failed; stop the source */
  IB_ERR_ABORTED = 9,  /* interrupted by the user (SIGINT/SIGTERM) */
  IB_ERR_INVALID = 10  /* a call was made with invalid arguments */
} ib_status;

/* An instant: seconds since the Unix epoch, UTC. IB_TIME_NONE = unknown. */
typedef int64_t ib_time;
#define IB_TIME_NONE INT64_MIN

/* [start, end); end == IB_TIME_NONE while still running. */
typedef struct ib_interval {
  ib_time start;
  ib_time end;
} ib_interval;

/* A verdict reported by the source itself (its own SLA widgets). */
typedef enum ib_verdict {
  IB_VERDICT_UNKNOWN = -1, /* not reported */
  IB_VERDICT_MET = 0,
  IB_VERDICT_BREACHED = 1
} ib_verdict;

/*
 * A ticket as a plugin emits it. Normalised fields hold the model's words:
 *   kind:     incident | request | problem | change | other
 *   priority: P1 | P2 | P3 | P4 | P5
 *   status:   new | open | pending | resolved | closed | cancelled
 * The *_raw fields keep the source's own words. The host validates the
 * normalised values and rejects (and counts) a ticket that breaks the model.
 * Initialise with IB_TICKET_INIT so that new fields get their defaults.
 */
typedef struct ib_ticket {
  size_t struct_size; /* sizeof(ib_ticket) as the plugin was built */
  const char *id;     /* stable id in the source tool (required) */
  const char *key;    /* human key, e.g. SUP-42; defaults to id */
  const char *title;
  const char *kind;
  const char *kind_raw;
  const char *priority;
  const char *priority_raw;
  const char *status;
  const char *status_raw;
  const char *service;
  const char *group;
  ib_time created_at; /* required */
  ib_time first_response_at;
  ib_time resolved_at;
  ib_time closed_at;
  ib_time updated_at; /* drives the watermark; defaults to created_at */
  const ib_interval *pauses;
  size_t n_pauses;
  ib_verdict reported_response_breached;
  ib_verdict reported_resolution_breached;
  /* -- added in 0.3: the digest of the record's raw form, as given to
   * raw_unchanged() (0 = none). Stored with the record so that the next
   * sync can skip it while its raw form stays the same. */
  uint64_t raw_digest;
} ib_ticket;

#define IB_TICKET_INIT                                              \
  {                                                                 \
    .struct_size = sizeof(ib_ticket), .created_at = IB_TIME_NONE,   \
    .first_response_at = IB_TIME_NONE, .resolved_at = IB_TIME_NONE, \
    .closed_at = IB_TIME_NONE, .updated_at = IB_TIME_NONE,          \
    .reported_response_breached = IB_VERDICT_UNKNOWN,               \
    .reported_resolution_breached = IB_VERDICT_UNKNOWN              \
  }

/* An outage of a service. kind: outage | degradation | planned. */
typedef struct ib_outage {
  size_t struct_size;
  const char *id; /* required */
  const char *service;
  const char *kind;
  const char *kind_raw;
  ib_time start; /* required */
  ib_time end;   /* IB_TIME_NONE while ongoing */
  ib_time updated_at;
  uint64_t raw_digest; /* added in 0.3: as ib_ticket.raw_digest */
} ib_outage;

#define IB_OUTAGE_INIT                                       \
  {                                                          \
    .struct_size = sizeof(ib_outage), .start = IB_TIME_NONE, \
    .end = IB_TIME_NONE, .updated_at = IB_TIME_NONE          \
  }

/* ---- declared options --------------------------------------------------- */

typedef enum ib_option_type {
  IB_OPT_STRING = 1,
  IB_OPT_INT = 2,
  IB_OPT_BOOL = 3,
  IB_OPT_FLOAT = 4,
  IB_OPT_STRINGS = 5, /* [ "a", "b" ] */
  IB_OPT_PAIRS = 6,   /* ( ("raw", "normalised"), ... ) */
  IB_OPT_GROUP = 7    /* { key = "value"; ... } with declared children */
} ib_option_type;

typedef struct ib_option_def {
  const char *name;
  ib_option_type type;
  int required;
  /* As text; NULL = none. Lists and pairs are written in the
   * configuration's own syntax: "[ \"a\", \"b\" ]",
   * "( (\"High\", \"P1\"), (\"Low\", \"P4\") )". */
  const char *default_value;
  const char *description;
  /* Non-zero: the value is the *name* of an environment variable holding a
   * secret. The host never logs or stores what it points to. */
  int secret;
  /* IB_OPT_GROUP only: the group's keys, terminated by a {NULL} entry. */
  const struct ib_option_def *children;
} ib_option_def;

/*
 * Rules on declared options, checked by the host when the configuration is
 * loaded (check-config and every command), each error with file:line. A
 * plugin lists them in ib_plugin.option_rules; the array's element size is
 * given by ib_plugin.option_rule_size, so this struct may grow at the end.
 */
#define IB_RULE_MIN 0x1u /* an IB_OPT_INT / IB_OPT_FLOAT value >= min */
#define IB_RULE_MAX 0x2u /* an IB_OPT_INT / IB_OPT_FLOAT value <= max */

typedef struct ib_option_rule {
  const char *name; /* declared option; "group.child" for group members */
  uint32_t flags;   /* IB_RULE_MIN | IB_RULE_MAX */
  int64_t min;
  int64_t max;
  /* Allowed values (exact, NULL-terminated): of an IB_OPT_STRING, of each
   * element of an IB_OPT_STRINGS, or of the normalised (second) side of each
   * pair of an IB_OPT_PAIRS. NULL = any. */
  const char *const *allowed;
  /* The model word list the value (or the pairs' second side) must belong
   * to: "kind", "priority", "status" or "outage_kind" (SPEC's model words,
   * known by the host). NULL = none. */
  const char *model;
} ib_option_rule;

typedef struct ib_pair {
  const char *from;
  const char *to;
} ib_pair;

/* ---- host services ------------------------------------------------------ */

typedef struct ib_source ib_source; /* opaque: one configured source */

/* The two kinds of record a source emits. */
typedef enum ib_record_type {
  IB_RECORD_TICKET = 0,
  IB_RECORD_OUTAGE = 1
} ib_record_type;

typedef enum ib_log_level {
  IB_LOG_ERROR = 0,
  IB_LOG_WARN = 1,
  IB_LOG_INFO = 2,
  IB_LOG_DEBUG = 3
} ib_log_level;

/* A response header as received (name as the server spelled it). */
typedef struct ib_http_header {
  const char *name;
  const char *value; /* without surrounding blanks */
} ib_http_header;

/* Arrays of requests and responses: the host takes the stride of reqs from
 * reqs[0].struct_size and of resps from resps[0].struct_size (0 is read as
 * the first version's size), so set struct_size in every element. */
typedef struct ib_http_request {
  size_t struct_size;
  const char *method;         /* "GET" (default when NULL) or "POST" */
  const char *url;            /* absolute URL */
  const char *body;           /* JSON body for POST, or NULL */
  const char *const *headers; /* extra "Name: value" lines, NULL-terminated */
} ib_http_request;

typedef struct ib_http_response {
  size_t struct_size;
  long status; /* HTTP status; 0 when no response was received */
  char *body;  /* NUL-terminated; owned by the host (http_free) */
  size_t body_len;
  char *error; /* transport error text, or NULL; owned by the host */
  /* -- added in 0.2 (check struct_size): the final response's headers, at
   * most IB_HTTP_MAX_HEADERS of at most IB_HTTP_MAX_HEADER_LEN bytes each
   * (longer ones are dropped); owned by the host (http_free). Look one up
   * with host->http_header(). */
  const ib_http_header *headers;
  size_t n_headers;
} ib_http_response;

/* Size of the first ib_http_response, before headers were added. */
#define IB_HTTP_RESPONSE_SIZE_V1 \
  (offsetof(ib_http_response, error) + sizeof(char *))
#define IB_HTTP_MAX_HEADERS 64
#define IB_HTTP_MAX_HEADER_LEN 8192

typedef struct ib_host_services {
  size_t struct_size; /* grows at the end; check before using new fields */
  uint32_t abi_version;

  /* Logging, prefixed with the source name. */
  void (*log)(ib_source *src, ib_log_level level, const char *fmt, ...)
      IB_PRINTF(3, 4);
  const char *(*strerror)(ib_status status);

  /* Options, as declared by the plugin. Group members are addressed with a
   * dot ("columns.id"). Unset options return their declared default (or
   * NULL / 0 / fallback). */
  const char *(*get_string)(ib_source *src, const char *name);
  int64_t (*get_int)(ib_source *src, const char *name, int64_t fallback);
  int (*get_bool)(ib_source *src, const char *name, int fallback);
  double (*get_double)(ib_source *src, const char *name, double fallback);
  const char *const *(*get_strings)(ib_source *src, const char *name,
                                    size_t *count);
  const ib_pair *(*get_pairs)(ib_source *src, const char *name, size_t *count);
  /* Looks a raw value up in a pairs option (trimmed, case-insensitive).
   * Returns the normalised value or NULL. */
  const char *(*map)(ib_source *src, const char *pairs_option, const char *raw);

  /* Time: ISO-8601 with offset or Z (fractions dropped), or -- when format
   * is not NULL -- strptime-style text read in the source's timezone. A
   * value without offset is read in the source's timezone. */
  ib_status (*parse_time)(ib_source *src, const char *text, const char *format,
                          ib_time *out);

  /* Records. `where` names the record's position for messages ("line 42",
   * "SUP-42"). emit_* validate and stage the record; it is stored by the
   * next commit(). IB_ERR_REJECTED: the record was refused and counted;
   * go on. IB_ERR_ABORTED: stop reading and return it from sync() (the
   * user's Ctrl-C, or `sync --dry-run --limit N` has its N records); any
   * other error: stop too. */
  ib_status (*emit_ticket)(ib_source *src, const ib_ticket *t,
                           const char *where);
  ib_status (*emit_outage)(ib_source *src, const ib_outage *o,
                           const char *where);
  /* A record the plugin itself could not normalise: counted and reported. */
  void (*reject)(ib_source *src, const char *where, const char *fmt, ...)
      IB_PRINTF(3, 4);
  /* Stores every record emitted since the last commit and advances the
   * watermark to `watermark` (IB_TIME_NONE: keep it), in one transaction. */
  ib_status (*commit)(ib_source *src, ib_time watermark);

  /* Where to start: IB_TIME_NONE = read everything (first or --full sync),
   * else the instant to ask changes from (watermark - overlap, --since). */
  ib_time (*sync_since)(ib_source *src);
  /* Progress: `done` units so far out of `total` (0 = unknown). */
  void (*progress)(ib_source *src, uint64_t done, uint64_t total);
  /* Non-zero once the user asked to stop, or a dry run's --limit is
   * reached: return IB_ERR_ABORTED soon (HTTP still works, e.g. to end a
   * session, unless the user asked to stop). */
  int (*should_stop)(ib_source *src);

  /* HTTP, with the source's auth, timeouts, retries and TLS settings.
   * Runs the n requests concurrently (at most max_concurrency in flight)
   * and fills resps[i] for reqs[i]. Returns IB_OK when every request got an
   * HTTP response (any status: check resps[i].status), IB_ERR_AUTH on
   * 401/403 (message already logged; a plugin with authenticate() gets one
   * re-login and resend first), IB_ERR_HTTP when retries ran out.
   * Free each response with http_free. Only for plugins with
   * IB_PLUGIN_FLAG_HTTP. */
  ib_status (*http)(ib_source *src, const ib_http_request *reqs, size_t n,
                    ib_http_response *resps);
  void (*http_free)(ib_http_response *resp);
  /* Percent-encodes text for a query string; free with free_string. */
  char *(*url_escape)(ib_source *src, const char *text);
  void (*free_string)(char *s);

  /* ---- added in 0.2: check struct_size before using these, e.g.
   * host->struct_size >= offsetof(ib_host_services, reject_record) +
   * sizeof host->reject_record, else fall back to reject(). ------------ */

  /* From validate() only: reports a configuration error at the line of
   * option `option` ("group.child"; NULL = the source itself). The host
   * prints "file:line: source 'NAME': option: message" and refuses the
   * configuration (exit 2). */
  void (*config_error)(ib_source *src, const char *option, const char *fmt, ...)
      IB_PRINTF(3, 4);
  /* Like reject(), for a record whose id the plugin could still read (NULL
   * when it could not). The host keeps it in the store's list of rejected
   * records (status shows them) and asks the plugin for it again with
   * fetch() at the next sync, so that a record rejected for a missing
   * mapping comes in once the mapping is fixed; a --full sync counts it as
   * seen, so its stored, good version is not marked deleted. */
  void (*reject_record)(ib_source *src, const char *id, const char *where,
                        const char *fmt, ...) IB_PRINTF(4, 5);

  /* Value of response header `name` (case-insensitive), or NULL. Borrowed
   * from resp: valid until http_free(resp). */
  const char *(*http_header)(const ib_http_response *resp, const char *name);

  /* The secret held by the environment variable that option `option` (a
   * string option declared with .secret = 1, e.g. "app_token_env") names.
   * The host reads it, registers it with the run's secret scrubber (it never
   * appears in a log line, an error or a -v trace) and adds the variable to
   * the credentials named by a refused-credentials message. NULL when the
   * option is unset or not a secret option, or the variable is unset or
   * empty (a message naming the variable is logged). Host-owned, wiped when
   * the source closes. */
  const char *(*get_secret)(ib_source *src, const char *option);

  /* Session logins (see ib_plugin.authenticate): the "Name: value" header
   * lines (NULL-terminated; NULL or empty clears them) that carry the
   * session; the host adds them to every later request, except those made
   * inside authenticate(). Copied; the values are registered as secrets. */
  ib_status (*http_set_session_headers)(ib_source *src,
                                        const char *const *headers);
  /* The session is no longer valid although the server did not answer 401
   * (e.g. an error in a 200 body): authenticate() is called again before
   * the next request. */
  void (*http_session_expired)(ib_source *src);

  /* What a refused-credentials (401/403) message tells the user to check,
   * e.g. "$GLPI_USER_TOKEN (user_token_env) and $GLPI_APP_TOKEN". Copied.
   * Default: the auth group's variables, then those read by get_secret. */
  void (*set_auth_hint)(ib_source *src, const char *hint);

  /* ---- added in 0.3: check struct_size before using these. ----------
   * Skipping unchanged records. A plugin that holds the raw form of a
   * record before converting it (a CSV row, the JSON text of an issue)
   * digests it and asks raw_unchanged() first: non-zero means this
   * source stored the record from the very same raw form, under the same
   * plugin version and source configuration, and nothing marked it
   * deleted since -- skip it without converting it; the host counts it as
   * read and unchanged. Zero: convert it as usual and emit it with
   * raw_digest set to the same digest, so that the next sync can skip it.
   * A --full sync, a dry run and a store that keeps no raw digests always
   * answer zero. Use a digest that covers every byte the conversion reads
   * (field boundaries included): a raw form that changed but digests the
   * same would be skipped. */
  /* 64-bit digest of data[0..len), chained through seed (start with 0). */
  uint64_t (*digest)(uint64_t seed, const void *data, size_t len);
  int (*raw_unchanged)(ib_source *src, ib_record_type type, const char *id,
                       uint64_t raw_digest);
} ib_host_services;

/* ---- the descriptor ----------------------------------------------------- */

/* The plugin talks HTTP: the host accepts and validates the common HTTP
 * options (auth, ca_file, max_concurrency, timeout) for its sources. */
#define IB_PLUGIN_FLAG_HTTP 0x1u

typedef struct ib_plugin {
  uint32_t magic;       /* IB_PLUGIN_MAGIC */
  uint32_t abi_version; /* IB_PLUGIN_ABI_VERSION */
  size_t struct_size;   /* sizeof(ib_plugin) */
  const char *name;
  const char *version;
  const char *description;
  uint32_t flags;
  const ib_option_def *options; /* terminated by a {NULL} entry */

  /* Creates an instance for one source; *instance is owned by the plugin
   * and released by close(). NULL callbacks are "not supported". */
  ib_status (*open)(const ib_host_services *host, ib_source *src,
                    void **instance);
  /* Reads changes since host->sync_since(), emitting records and
   * committing them page by page. */
  ib_status (*sync)(void *instance);
  void (*close)(void *instance);

  /* ---- added in 0.2: the host checks struct_size before reading these -- */

  /* Rules on the declared options, terminated by a {NULL} entry, and the
   * size of one element as built (IB_OPTION_RULES sets both). */
  const ib_option_rule *option_rules;
  size_t option_rule_size;
  /* Checks what the declaration cannot express (a value that must parse,
   * two options that exclude each other...), reporting each problem with
   * host->config_error(). Runs when the configuration is loaded, before
   * open(), with no store and no network: only the option getters, map,
   * parse_time, log and config_error may be used. IB_OK or IB_ERR_CONFIG. */
  ib_status (*validate)(const ib_host_services *host, ib_source *src);
  /* Reads the records with these ids again and emits (or rejects) them
   * like sync() does, without moving the watermark; the host commits. Called
   * once after a successful sync() with every id the store lists as
   * rejected for this source and that sync() did not meet again, sorted in
   * strcmp order (batch them as the source's API needs). An id the source
   * no longer has is simply not emitted (the host then forgets it). NULL:
   * rejected records come back only with sync --full. */
  ib_status (*fetch)(void *instance, const char *const *ids, size_t n);

  /* Session login, optional (NULL: none). Called by the host before the
   * plugin's first HTTP request, and again -- once per batch -- when a
   * request is answered 401 or the plugin called http_session_expired();
   * the batch is then sent again with the new session. It logs in with
   * host->http() (requests made inside it carry no session headers and
   * never re-enter authenticate) and publishes the session with
   * http_set_session_headers(). IB_ERR_AUTH: credentials refused. */
  ib_status (*authenticate)(void *instance);
} ib_plugin;

#define IB_OPTION_RULES(rules) \
  .option_rules = (rules), .option_rule_size = sizeof(ib_option_rule)

/* Size of the first ib_plugin, before authenticate was added: the loader
 * accepts descriptors from this size up. */
#define IB_PLUGIN_SIZE_V1 \
  (offsetof(ib_plugin, close) + sizeof(void (*)(void *)))

typedef const ib_plugin *(*ib_plugin_entry_fn)(void);

/* Every plugin defines this, and exports nothing else. */
#define IB_PLUGIN_DEFINE(descriptor)                 \
  IB_EXPORT const ib_plugin *ib_plugin_entry(void);  \
  IB_EXPORT const ib_plugin *ib_plugin_entry(void) { \
    return &(descriptor);                            \
  }

#ifdef __cplusplus
}
#endif

#endif /* ITSM_BRIDGE_PLUGIN_H */
