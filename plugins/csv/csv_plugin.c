/*
 * csv_plugin.c -- the csv source plugin: its descriptor and declared
 * options, open/close, and the sync loop that streams a file into the host
 * one record at a time. Must not keep any state outside the instance (two
 * sources may use csv.so at once) nor hold more than one record in memory.
 */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv_plugin.h"

/* How many records between two should_stop() checks. */
#define CSV_STOP_CHECK_EVERY 256u
/* Rows per transaction unless commit_every says otherwise. */
#define CSV_DEFAULT_COMMIT_EVERY 5000
#define CSV_STR_(x) #x
#define CSV_STR(x) CSV_STR_(x)

static const ib_option_def column_options[] = {
    {"id", IB_OPT_STRING, 0, NULL,
     "Header of the stable id column (tickets, outages).", 0, NULL},
    {"key", IB_OPT_STRING, 0, NULL,
     "Header of the human key column (default: the id).", 0, NULL},
    {"title", IB_OPT_STRING, 0, NULL, "Header of the title column.", 0, NULL},
    {"kind", IB_OPT_STRING, 0, NULL,
     "Header of the kind column, mapped with `kinds`.", 0, NULL},
    {"priority", IB_OPT_STRING, 0, NULL,
     "Header of the priority column, mapped with `priorities`.", 0, NULL},
    {"status", IB_OPT_STRING, 0, NULL,
     "Header of the status column, mapped with `statuses`.", 0, NULL},
    {"service", IB_OPT_STRING, 0, NULL, "Header of the service column.", 0,
     NULL},
    {"group", IB_OPT_STRING, 0, NULL, "Header of the assignment group column.",
     0, NULL},
    {"created", IB_OPT_STRING, 0, NULL,
     "Header of the creation date column (tickets, required).", 0, NULL},
    {"first_response", IB_OPT_STRING, 0, NULL,
     "Header of the first response date column.", 0, NULL},
    {"resolved", IB_OPT_STRING, 0, NULL,
     "Header of the resolution date column.", 0, NULL},
    {"closed", IB_OPT_STRING, 0, NULL, "Header of the closure date column.", 0,
     NULL},
    {"updated", IB_OPT_STRING, 0, NULL,
     "Header of the last update column (enables incremental sync).", 0, NULL},
    {"pause_start", IB_OPT_STRING, 0, NULL,
     "Header of the column where a pause (on hold) starts.", 0, NULL},
    {"pause_end", IB_OPT_STRING, 0, NULL,
     "Header of the column where that pause ends (empty: still paused).", 0,
     NULL},
    {"start", IB_OPT_STRING, 0, NULL,
     "Header of the outage start column (outages, required).", 0, NULL},
    {"end", IB_OPT_STRING, 0, NULL,
     "Header of the outage end column (empty: ongoing).", 0, NULL},
    {NULL, 0, 0, NULL, NULL, 0, NULL}};

static const ib_option_def csv_options[] = {
    {"path", IB_OPT_STRING, 1, NULL,
     "The CSV file, relative to the working directory.", 0, NULL},
    {"records", IB_OPT_STRING, 0, "tickets",
     "What each row is: \"tickets\" or \"outages\".", 0, NULL},
    {"delimiter", IB_OPT_STRING, 0, ",",
     "Field separator: one character, or \"tab\".", 0, NULL},
    {"encoding", IB_OPT_STRING, 0, "utf-8",
     "\"utf-8\" or \"latin1\" (Windows-1252, old Excel exports).", 0, NULL},
    {"date_format", IB_OPT_STRING, 0, NULL,
     "strptime-style format of dates, read in the source's timezone; ISO-8601 "
     "is always accepted too.",
     0, NULL},
    {"columns", IB_OPT_GROUP, 0, NULL,
     "Header names of the columns; an unset column uses a header with its "
     "own name when there is one.",
     0, column_options},
    {"priorities", IB_OPT_PAIRS, 0, NULL,
     "Raw priority -> P1..P5 (P1..P5 themselves need no pair).", 0, NULL},
    {"statuses", IB_OPT_PAIRS, 0, NULL,
     "Raw status -> new|open|pending|resolved|closed|cancelled.", 0, NULL},
    {"kinds", IB_OPT_PAIRS, 0, NULL,
     "Raw kind -> incident|request|problem|change|other (tickets) or "
     "outage|degradation|planned (outages).",
     0, NULL},
    {"commit_every", IB_OPT_INT, 0, CSV_STR(CSV_DEFAULT_COMMIT_EVERY),
     "Rows stored per transaction.", 0, NULL},
    {NULL, 0, 0, NULL, NULL, 0, NULL}};

/* Inside validate() the host reports the error at the option's line;
 * at open() (an older host) it is logged. */
static ib_status config_error(csv_instance *in, const char *option,
                              const char *what) {
  const ib_host_services *h = in->host;
  if (in->validating &&
      h->struct_size >=
          offsetof(ib_host_services, config_error) + sizeof h->config_error)
    h->config_error(in->src, option, "%s", what);
  else
    h->log(in->src, IB_LOG_ERROR, "%s: %s", option, what);
  return IB_ERR_CONFIG;
}

static ib_status read_delimiter(csv_instance *in) {
  const char *d = in->host->get_string(in->src, "delimiter");
  if (d == NULL || d[0] == '\0') d = ",";
  if (strcasecmp(d, "tab") == 0 || strcmp(d, "\\t") == 0) d = "\t";
  if (strlen(d) != 1 || d[0] == '"' || d[0] == '\r' || d[0] == '\n')
    return config_error(in, "delimiter",
                        "must be one character other than a quote or a "
                        "newline (e.g. \",\", \";\" or \"tab\")");
  in->delim = d[0];
  return IB_OK;
}

static ib_status read_encoding(csv_instance *in) {
  static const char *const utf8_names[] = {"utf-8", "utf8", NULL};
  static const char *const latin1_names[] = {
      "latin1",       "latin-1", "iso-8859-1", "iso8859-1",
      "windows-1252", "cp1252",  NULL};
  const char *e = in->host->get_string(in->src, "encoding");
  if (e == NULL || csv_model_word(utf8_names, e) != NULL) {
    in->enc = CSV_ENC_UTF8;
    return IB_OK;
  }
  if (csv_model_word(latin1_names, e) != NULL) {
    in->enc = CSV_ENC_LATIN1;
    return IB_OK;
  }
  return config_error(in, "encoding", "must be \"utf-8\" or \"latin1\"");
}

/* Every pair of a mapping must lead to a model word. */
static ib_status check_pairs(csv_instance *in, const char *option,
                             const char *const *words, const char *expected) {
  size_t n = 0;
  const ib_pair *pairs = in->host->get_pairs(in->src, option, &n);
  for (size_t i = 0; pairs != NULL && i < n; i++) {
    if (pairs[i].to != NULL && csv_model_word(words, pairs[i].to) != NULL)
      continue;
    char what[512];
    snprintf(what, sizeof what,
             "(\"%s\", \"%s\") maps to a value that is not one of %s; fix "
             "the pair",
             pairs[i].from ? pairs[i].from : "", pairs[i].to ? pairs[i].to : "",
             expected);
    return config_error(in, option, what);
  }
  return IB_OK;
}

static ib_status read_columns(csv_instance *in) {
  char name[64];
  for (int c = 0; c < COL_COUNT; c++) {
    snprintf(name, sizeof name, "columns.%s", csv_columns[c].name);
    const char *header = in->host->get_string(in->src, name);
    if (header != NULL && header[0] == '\0') header = NULL;
    if (header != NULL && !(csv_columns[c].records & in->records))
      return config_error(in, name,
                          in->records == CSV_RECORDS_TICKETS
                              ? "is not used with records = \"tickets\"; "
                                "remove it"
                              : "is not used with records = \"outages\"; "
                                "remove it");
    in->col_header[c] = header;
  }
  return IB_OK;
}

/* Reads and checks every option into `in`: shared by validate() (when the
 * configuration is loaded) and open(). */
static ib_status configure(csv_instance *in) {
  const ib_host_services *host = in->host;
  ib_source *src = in->src;
  ib_status st;
  in->path = host->get_string(src, "path");
  if (in->path == NULL || in->path[0] == '\0') {
    st = config_error(in, "path", "is required: the CSV file to read");
    goto fail;
  }
  const char *records = host->get_string(src, "records");
  if (records == NULL || strcasecmp(records, "tickets") == 0) {
    in->records = CSV_RECORDS_TICKETS;
  } else if (strcasecmp(records, "outages") == 0) {
    in->records = CSV_RECORDS_OUTAGES;
  } else {
    st = config_error(in, "records", "must be \"tickets\" or \"outages\"");
    goto fail;
  }
  if ((st = read_delimiter(in)) != IB_OK) goto fail;
  if ((st = read_encoding(in)) != IB_OK) goto fail;
  in->date_format = host->get_string(src, "date_format");
  if (in->date_format != NULL && in->date_format[0] == '\0')
    in->date_format = NULL;
  in->commit_every =
      host->get_int(src, "commit_every", CSV_DEFAULT_COMMIT_EVERY);
  if (in->commit_every < 1) {
    st = config_error(in, "commit_every", "must be at least 1");
    goto fail;
  }
  if (in->date_format != NULL && strchr(in->date_format, '%') == NULL) {
    st = config_error(in, "date_format",
                      "has no %-directive (e.g. \"%d/%m/%Y %H:%M\")");
    goto fail;
  }
  if ((st = read_columns(in)) != IB_OK) goto fail;
  if (in->records == CSV_RECORDS_TICKETS) {
    if ((st = check_pairs(in, "priorities", csv_priorities, "P1..P5")) ||
        (st = check_pairs(in, "statuses", csv_statuses,
                          "new, open, pending, resolved, closed, "
                          "cancelled")) ||
        (st = check_pairs(in, "kinds", csv_ticket_kinds,
                          "incident, request, problem, change, other")))
      goto fail;
  } else {
    static const char *const ticket_only[] = {"priorities", "statuses"};
    for (size_t i = 0; i < sizeof ticket_only / sizeof ticket_only[0]; i++) {
      size_t n = 0;
      if (host->get_pairs(src, ticket_only[i], &n) != NULL && n > 0) {
        st = config_error(in, ticket_only[i],
                          "is not used with records = \"outages\"; remove it");
        goto fail;
      }
    }
    if ((st = check_pairs(in, "kinds", csv_outage_kinds,
                          "outage, degradation, planned")))
      goto fail;
  }
  return IB_OK;
fail:
  return st;
}

static ib_status csv_validate(const ib_host_services *host, ib_source *src) {
  csv_instance in = {.host = host, .src = src, .validating = 1};
  return configure(&in);
}

static ib_status csv_open(const ib_host_services *host, ib_source *src,
                          void **instance) {
  /* Owned by the caller through *instance; freed here on failure. */
  csv_instance *in = calloc(1, sizeof *in);
  if (in == NULL) return IB_ERR_NOMEM;
  in->host = host;
  in->src = src;
  ib_status st = configure(in);
  if (st != IB_OK) {
    free(in);
    return st;
  }
  *instance = in;
  return IB_OK;
}

static void csv_close(void *instance) {
  csv_instance *in = instance;
  if (in == NULL) return;
  if (in->reader_open) csv_reader_close(&in->reader);
  free(in);
}

/* Excel's "sep=X" first line names the file's delimiter: returns X, or 0
 * when the record is not such a line. Read with delimiter d, "sep=;"
 * comes as one field, or as "sep=" and "" when d is ';'. */
static char sep_line(const csv_record *r, char d) {
  if (r->n_fields == 1 && strncmp(r->fields[0], "sep=", 4) == 0 &&
      r->fields[0][4] != '\0' && r->fields[0][5] == '\0')
    return r->fields[0][4];
  if (r->n_fields == 2 && strcmp(r->fields[0], "sep=") == 0 &&
      r->fields[1][0] == '\0')
    return d;
  return 0;
}

/* Reads the header: the first non-blank record (after a "sep=" line). */
static ib_status read_header(csv_instance *in) {
  char err[512];
  csv_record header;
  csv_next next = csv_reader_next(&in->reader, &header, err, sizeof err);
  char sep = next == CSV_NEXT_RECORD && header.problem == NULL
                 ? sep_line(&header, in->reader.delim)
                 : 0;
  if (sep != 0) {
    if (sep != in->reader.delim)
      in->host->log(in->src, IB_LOG_WARN,
                    "%s: the file's first line says sep=%c: reading it with "
                    "'%c' as delimiter, not the configured one",
                    in->path, sep, sep);
    in->reader.delim = sep;
    next = csv_reader_next(&in->reader, &header, err, sizeof err);
  }
  if (next == CSV_NEXT_FAIL) {
    in->host->log(in->src, IB_LOG_ERROR, "%s: %s", in->path, err);
    return IB_ERR_PARSE;
  }
  if (next == CSV_NEXT_END) {
    in->host->log(in->src, IB_LOG_ERROR,
                  "%s: the file is empty; a CSV export starts with a header "
                  "line naming its columns",
                  in->path);
    return IB_ERR_PARSE;
  }
  if (header.problem != NULL) {
    in->host->log(in->src, IB_LOG_ERROR, "%s: line %llu (header): %s", in->path,
                  (unsigned long long)header.line, header.problem);
    return IB_ERR_PARSE;
  }
  if (in->reader.bom_seen && in->enc == CSV_ENC_LATIN1)
    in->host->log(in->src, IB_LOG_WARN,
                  "%s starts with a UTF-8 byte-order mark: read as UTF-8 "
                  "although encoding = \"latin1\"; remove that setting",
                  in->path);
  return csv_bind_header(in, &header);
}

static ib_status commit_page(csv_instance *in, ib_time watermark) {
  ib_status st = in->host->commit(in->src, watermark);
  in->host->progress(in->src, in->reader.bytes_done, in->reader.file_size);
  return st;
}

/* Streams the file into the host. `since`: rows updated before it are
 * skipped; move_watermark: whether the last commit advances it. */
static ib_status read_file(csv_instance *in, ib_time since,
                           int move_watermark) {
  ib_status st = IB_OK;
  char err[512];
  uint64_t staged = 0;

  in->since = since;
  in->max_updated = IB_TIME_NONE;
  in->rows = in->emitted = in->skipped = in->rejected = in->same = 0;
  if (csv_reader_open(&in->reader, in->path, in->delim, in->enc, err,
                      sizeof err) != 0) {
    in->host->log(in->src, IB_LOG_ERROR, "%s", err);
    return IB_ERR_IO;
  }
  in->reader_open = 1;
  if ((st = read_header(in)) != IB_OK) goto done;

  for (;;) {
    csv_record rec;
    csv_next next = csv_reader_next(&in->reader, &rec, err, sizeof err);
    if (next == CSV_NEXT_END) break;
    if (next == CSV_NEXT_FAIL) {
      in->host->log(in->src, IB_LOG_ERROR, "%s: %s", in->path, err);
      st = IB_ERR_PARSE;
      goto done;
    }
    in->rows++;
    if (in->rows % CSV_STOP_CHECK_EVERY == 0 &&
        in->host->should_stop(in->src)) {
      st = IB_ERR_ABORTED;
      goto done;
    }
    if ((st = csv_process_record(in, &rec)) != IB_OK) goto done;
    /* Intermediate pages keep the watermark: rows are not sorted by update
     * time, so only the end of the file proves every row was stored. */
    if (++staged >= (uint64_t)in->commit_every) {
      staged = 0;
      if ((st = commit_page(in, IB_TIME_NONE)) != IB_OK) goto done;
    }
  }
  if ((st = commit_page(in, move_watermark ? in->max_updated : IB_TIME_NONE)) !=
      IB_OK)
    goto done;
  in->host->log(
      in->src, IB_LOG_DEBUG,
      "%s: %llu rows: %llu emitted, %llu updated before the last sync, "
      "%llu stored from the same bytes, %llu rejected by the plugin",
      in->path, (unsigned long long)in->rows, (unsigned long long)in->emitted,
      (unsigned long long)in->skipped, (unsigned long long)in->same,
      (unsigned long long)in->rejected);
done:
  csv_reader_close(&in->reader);
  in->reader_open = 0;
  return st;
}

static ib_status csv_sync(void *instance) {
  csv_instance *in = instance;
  return read_file(in, in->host->sync_since(in->src), 1);
}

/* Re-reads the whole file for the rows with these ids (rejected by an
 * earlier sync): a file has no index, and one pass serves every id. */
static ib_status csv_fetch(void *instance, const char *const *ids, size_t n) {
  csv_instance *in = instance;
  in->only_ids = ids;
  in->n_only_ids = n;
  ib_status st = read_file(in, IB_TIME_NONE, 0);
  in->only_ids = NULL;
  in->n_only_ids = 0;
  return st;
}

/* Mappings are checked by validate(): this plugin accepts model words in
 * any case, which a host `model` rule would not. */
static const ib_option_rule csv_rules[] = {{.name = "commit_every",
                                            .flags = IB_RULE_MIN | IB_RULE_MAX,
                                            .min = 1,
                                            .max = 1000000},
                                           {0}};

static const ib_plugin csv_plugin = {
    .magic = IB_PLUGIN_MAGIC,
    .abi_version = IB_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(ib_plugin),
    .name = "csv",
    .version = "0.1.0",
    .description =
        "tickets or outages from a CSV export (RFC 4180, "
        "Excel-style ; and latin1 included)",
    .flags = 0,
    .options = csv_options,
    .open = csv_open,
    .sync = csv_sync,
    .close = csv_close,
    IB_OPTION_RULES(csv_rules),
    .validate = csv_validate,
    .fetch = csv_fetch,
};

IB_PLUGIN_DEFINE(csv_plugin)
