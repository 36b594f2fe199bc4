/*
 * csv_rows.c -- from CSV records to the model: binds configured columns to
 * the header, maps raw values to model words, reads dates, and emits one
 * ticket or outage per row (or rejects it with its line number). Must not
 * read the file itself nor keep anything from one row to the next except
 * counters and the largest update time.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv_plugin.h"

#define T CSV_RECORDS_TICKETS
#define O CSV_RECORDS_OUTAGES
const csv_column_info csv_columns[COL_COUNT] = {
    [COL_ID] = {"id", T | O},
    [COL_KEY] = {"key", T},
    [COL_TITLE] = {"title", T},
    [COL_KIND] = {"kind", T | O},
    [COL_PRIORITY] = {"priority", T},
    [COL_STATUS] = {"status", T},
    [COL_SERVICE] = {"service", T | O},
    [COL_GROUP] = {"group", T},
    [COL_CREATED] = {"created", T},
    [COL_FIRST_RESPONSE] = {"first_response", T},
    [COL_RESOLVED] = {"resolved", T},
    [COL_CLOSED] = {"closed", T},
    [COL_UPDATED] = {"updated", T | O},
    [COL_PAUSE_START] = {"pause_start", T},
    [COL_PAUSE_END] = {"pause_end", T},
    [COL_START] = {"start", O},
    [COL_END] = {"end", O},
};
#undef T
#undef O

const char *const csv_ticket_kinds[] = {"incident", "request", "problem",
                                        "change",   "other",   NULL};
const char *const csv_outage_kinds[] = {"outage", "degradation", "planned",
                                        NULL};
const char *const csv_priorities[] = {"P1", "P2", "P3", "P4", "P5", NULL};
const char *const csv_statuses[] = {
    "new", "open", "pending", "resolved", "closed", "cancelled", NULL};

const char *csv_model_word(const char *const *words, const char *word) {
  if (word == NULL) return NULL;
  for (size_t i = 0; words[i] != NULL; i++)
    if (strcasecmp(words[i], word) == 0) return words[i];
  return NULL;
}

/* Trims blanks (and newlines left inside quotes) in place. */
static char *trim(char *s) {
  while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
                   s[n - 1] == '\n'))
    s[--n] = '\0';
  return s;
}

/* The column's name as the user knows it, for messages. */
static const char *column_label(const csv_instance *in, csv_col c) {
  return in->col_header[c] != NULL ? in->col_header[c] : csv_columns[c].name;
}

static void header_list(const csv_record *h, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < h->n_fields && used + 1 < len; i++) {
    int n = snprintf(buf + used, len - used, "%s\"%s\"", i ? ", " : "",
                     h->fields[i]);
    if (n < 0 || (size_t)n >= len - used) {
      if (len > 4) snprintf(buf + len - 4, 4, "...");
      return;
    }
    used += (size_t)n;
  }
}

static int find_header(const csv_record *h, const char *name) {
  for (size_t i = 0; i < h->n_fields; i++)
    if (strcasecmp(h->fields[i], name) == 0) return (int)i;
  return -1;
}

ib_status csv_bind_header(csv_instance *in, const csv_record *header) {
  char names[400];
  for (size_t i = 0; i < header->n_fields; i++)
    header->fields[i] = trim(header->fields[i]);
  in->n_header = header->n_fields;
  in->raw_digests =
      in->host->struct_size >= offsetof(ib_host_services, raw_unchanged) +
                                   sizeof in->host->raw_unchanged &&
      in->host->digest != NULL && in->host->raw_unchanged != NULL;
  if (in->raw_digests) {
    in->raw_seed = in->host->digest(0, &in->delim, 1);
    for (size_t i = 0; i < header->n_fields; i++)
      in->raw_seed = in->host->digest(in->raw_seed, header->fields[i],
                                      strlen(header->fields[i]) + 1);
  }
  for (int c = 0; c < COL_COUNT; c++) {
    in->col_index[c] = -1;
    if (!(csv_columns[c].records & in->records)) continue;
    if (in->col_header[c] != NULL) {
      in->col_index[c] = find_header(header, in->col_header[c]);
      if (in->col_index[c] < 0) {
        header_list(header, names, sizeof names);
        in->host->log(in->src, IB_LOG_ERROR,
                      "columns.%s = \"%s\" is not a column of %s (its header "
                      "on line %llu has %s); fix the name in columns",
                      csv_columns[c].name, in->col_header[c], in->path,
                      (unsigned long long)header->line, names);
        return IB_ERR_CONFIG;
      }
    } else {
      in->col_index[c] = find_header(header, csv_columns[c].name);
    }
  }
  const csv_col required[] = {
      COL_ID, in->records == CSV_RECORDS_TICKETS ? COL_CREATED : COL_START};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
    if (in->col_index[required[i]] >= 0) continue;
    in->host->log(in->src, IB_LOG_ERROR,
                  "columns.%s is not set and %s has no \"%s\" column; name "
                  "its header in columns = { %s = \"...\"; }",
                  csv_columns[required[i]].name, in->path,
                  csv_columns[required[i]].name, csv_columns[required[i]].name);
    return IB_ERR_CONFIG;
  }
  if (in->col_index[COL_PAUSE_END] >= 0 && in->col_index[COL_PAUSE_START] < 0 &&
      in->records == CSV_RECORDS_TICKETS) {
    in->host->log(in->src, IB_LOG_ERROR,
                  "columns.pause_end is set without columns.pause_start; "
                  "map both or neither");
    return IB_ERR_CONFIG;
  }
  return IB_OK;
}

/* ---- one row ------------------------------------------------------------ */

static ib_status reject(csv_instance *in, const char *where, const char *fmt,
                        ...) IB_PRINTF(3, 4);
static ib_status reject(csv_instance *in, const char *where, const char *fmt,
                        ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* reject_record came with a later host: an older one has only reject,
   * and a --full sync with it loses the row's stored version. */
  if (in->host->struct_size >= offsetof(ib_host_services, reject_record) +
                                   sizeof in->host->reject_record &&
      in->host->reject_record != NULL)
    in->host->reject_record(in->src, in->row_id, where, "%s", msg);
  else
    in->host->reject(in->src, where, "%s", msg);
  in->rejected++;
  return IB_OK;
}

static int cmp_id(const void *key, const void *item) {
  return strcmp(key, *(const char *const *)item);
}

/* fetch(): whether the row with this id was asked for. */
static int wanted(const csv_instance *in, const char *id) {
  return id != NULL && bsearch(id, in->only_ids, in->n_only_ids,
                               sizeof *in->only_ids, cmp_id) != NULL;
}

/* The row's id when its own field can be read: present, without a NUL
 * byte, valid UTF-8 (or converted from latin1), not blank. NULL else. A
 * row rejected for another reason still names the ticket it is about. */
static const char *readable_id(const csv_instance *in, const csv_record *rec) {
  int i = in->col_index[COL_ID];
  if (i < 0 || (size_t)i >= rec->n_fields) return NULL;
  char *f = rec->fields[i];
  if (strlen(f) != rec->lengths[i] ||
      !csv_utf8_valid((const unsigned char *)f, rec->lengths[i]))
    return NULL;
  f = trim(f);
  rec->fields[i] = f;
  return f[0] != '\0' ? f : NULL;
}

/* The trimmed cell of column c, or NULL when unmapped or empty. */
static const char *cell(const csv_instance *in, const csv_record *rec,
                        csv_col c) {
  int i = in->col_index[c];
  if (i < 0) return NULL;
  const char *v = rec->fields[i];
  return v[0] != '\0' ? v : NULL;
}

static int parse_time(const csv_instance *in, const char *text, ib_time *out) {
  if (in->host->parse_time(in->src, text, in->date_format, out) == IB_OK)
    return 0;
  if (in->date_format != NULL &&
      in->host->parse_time(in->src, text, NULL, out) == IB_OK)
    return 0;
  return -1;
}

/* Reads a date cell (empty: IB_TIME_NONE). -1: the row was rejected. */
static int time_cell(csv_instance *in, const csv_record *rec, csv_col c,
                     const char *where, ib_time *out) {
  *out = IB_TIME_NONE;
  const char *text = cell(in, rec, c);
  if (text == NULL || parse_time(in, text, out) == 0) return 0;
  if (in->date_format != NULL)
    reject(in, where,
           "column \"%s\": \"%s\" is not a date in date_format \"%s\" nor "
           "ISO-8601; fix the cell or date_format",
           column_label(in, c), text, in->date_format);
  else
    reject(in, where,
           "column \"%s\": \"%s\" is not an ISO-8601 date; fix the cell or "
           "set date_format",
           column_label(in, c), text);
  return -1;
}

/* Maps a cell through a pairs option; a value already in model form needs
 * no pair. Empty: *norm = NULL. -1: the row was rejected. */
static int mapped_cell(csv_instance *in, const csv_record *rec, csv_col c,
                       const char *option, const char *const *words,
                       const char *where, const char **norm, const char **raw) {
  *norm = NULL;
  *raw = cell(in, rec, c);
  if (*raw == NULL) return 0;
  const char *mapped = in->host->map(in->src, option, *raw);
  *norm = csv_model_word(words, mapped != NULL ? mapped : *raw);
  if (*norm != NULL) return 0;
  reject(in, where,
         "column \"%s\": \"%s\" has no mapping; add (\"%s\", \"...\") to "
         "%s",
         column_label(in, c), *raw, *raw, option);
  return -1;
}

/* Incremental sync: a row whose update time is before sync_since() was
 * stored by an earlier sync. */
static int unchanged(const csv_instance *in, const csv_record *rec) {
  if (in->since == IB_TIME_NONE) return 0;
  const char *text = cell(in, rec, COL_UPDATED);
  ib_time updated;
  return text != NULL && parse_time(in, text, &updated) == 0 &&
         updated < in->since;
}

static ib_status emitted(csv_instance *in, ib_status st, ib_time updated) {
  if (st == IB_ERR_REJECTED) return IB_OK; /* counted by the host */
  if (st != IB_OK) return st;
  in->emitted++;
  if (in->col_index[COL_UPDATED] >= 0 && updated != IB_TIME_NONE &&
      (in->max_updated == IB_TIME_NONE || updated > in->max_updated))
    in->max_updated = updated;
  return IB_OK;
}

static ib_status process_ticket(csv_instance *in, const csv_record *rec,
                                const char *where, uint64_t raw) {
  ib_ticket t = IB_TICKET_INIT;
  t.raw_digest = raw;
  ib_interval pause = {IB_TIME_NONE, IB_TIME_NONE};

  t.id = cell(in, rec, COL_ID);
  if (t.id == NULL)
    return reject(in, where, "the id (column \"%s\") is empty",
                  column_label(in, COL_ID));
  t.key = cell(in, rec, COL_KEY);
  t.title = cell(in, rec, COL_TITLE);
  t.service = cell(in, rec, COL_SERVICE);
  t.group = cell(in, rec, COL_GROUP);
  if (mapped_cell(in, rec, COL_KIND, "kinds", csv_ticket_kinds, where, &t.kind,
                  &t.kind_raw) ||
      mapped_cell(in, rec, COL_PRIORITY, "priorities", csv_priorities, where,
                  &t.priority, &t.priority_raw) ||
      mapped_cell(in, rec, COL_STATUS, "statuses", csv_statuses, where,
                  &t.status, &t.status_raw))
    return IB_OK;
  if (time_cell(in, rec, COL_CREATED, where, &t.created_at) ||
      time_cell(in, rec, COL_FIRST_RESPONSE, where, &t.first_response_at) ||
      time_cell(in, rec, COL_RESOLVED, where, &t.resolved_at) ||
      time_cell(in, rec, COL_CLOSED, where, &t.closed_at) ||
      time_cell(in, rec, COL_UPDATED, where, &t.updated_at) ||
      time_cell(in, rec, COL_PAUSE_START, where, &pause.start) ||
      time_cell(in, rec, COL_PAUSE_END, where, &pause.end))
    return IB_OK;
  if (t.created_at == IB_TIME_NONE)
    return reject(in, where, "the creation date (column \"%s\") is empty",
                  column_label(in, COL_CREATED));
  if (pause.start != IB_TIME_NONE) {
    if (pause.end != IB_TIME_NONE && pause.end < pause.start)
      return reject(in, where,
                    "the pause ends (column \"%s\") before it "
                    "starts (column \"%s\")",
                    column_label(in, COL_PAUSE_END),
                    column_label(in, COL_PAUSE_START));
    t.pauses = &pause;
    t.n_pauses = 1;
  } else if (pause.end != IB_TIME_NONE) {
    return reject(in, where, "a pause end (column \"%s\") without its start",
                  column_label(in, COL_PAUSE_END));
  }
  ib_status st = in->host->emit_ticket(in->src, &t, where);
  return emitted(in, st,
                 t.updated_at != IB_TIME_NONE ? t.updated_at : t.created_at);
}

static ib_status process_outage(csv_instance *in, const csv_record *rec,
                                const char *where, uint64_t raw) {
  ib_outage o = IB_OUTAGE_INIT;
  o.raw_digest = raw;

  o.id = cell(in, rec, COL_ID);
  if (o.id == NULL)
    return reject(in, where, "the id (column \"%s\") is empty",
                  column_label(in, COL_ID));
  o.service = cell(in, rec, COL_SERVICE);
  if (mapped_cell(in, rec, COL_KIND, "kinds", csv_outage_kinds, where, &o.kind,
                  &o.kind_raw))
    return IB_OK;
  if (time_cell(in, rec, COL_START, where, &o.start) ||
      time_cell(in, rec, COL_END, where, &o.end) ||
      time_cell(in, rec, COL_UPDATED, where, &o.updated_at))
    return IB_OK;
  if (o.start == IB_TIME_NONE)
    return reject(in, where, "the start (column \"%s\") is empty",
                  column_label(in, COL_START));
  if (o.end != IB_TIME_NONE && o.end < o.start)
    return reject(in, where,
                  "the outage ends (column \"%s\") before it "
                  "starts (column \"%s\")",
                  column_label(in, COL_END), column_label(in, COL_START));
  ib_status st = in->host->emit_outage(in->src, &o, where);
  return emitted(in, st, o.updated_at != IB_TIME_NONE ? o.updated_at : o.start);
}

/* "line N" into buf (size >= 26), without printf: it is built for every
 * row converted. */
static void line_position(char *buf, size_t size, uint64_t line) {
  char digits[20];
  size_t n = 0;
  do {
    digits[n++] = (char)('0' + line % 10);
    line /= 10;
  } while (line > 0);
  if (size < sizeof "line " + n) {
    buf[0] = '\0';
    return;
  }
  memcpy(buf, "line ", 5);
  for (size_t i = 0; i < n; i++) buf[5 + i] = digits[n - 1 - i];
  buf[5 + n] = '\0';
}

ib_status csv_process_record(csv_instance *in, const csv_record *rec) {
  char where[32];
  /* The row as read, before trimming touches it. */
  uint64_t raw = in->raw_digests && rec->problem == NULL
                     ? in->host->digest(in->raw_seed, rec->bytes, rec->n_bytes)
                     : 0;
  in->row_id = readable_id(in, rec);
  /* fetch() wants rows by id: one without a readable id, or not asked
   * for, is passed over. */
  if (in->only_ids != NULL && !wanted(in, in->row_id)) return IB_OK;
  /* Updated before the last sync: not read at all (as without digests). */
  int well_formed = rec->problem == NULL && rec->n_fields == in->n_header;
  int trimmed = well_formed && in->col_index[COL_UPDATED] >= 0 &&
                in->since != IB_TIME_NONE;
  if (trimmed) {
    for (size_t i = 0; i < rec->n_fields; i++)
      rec->fields[i] = trim(rec->fields[i]);
    if (unchanged(in, rec)) {
      in->skipped++;
      in->row_id = NULL;
      return IB_OK;
    }
  }
  /* Stored from these very bytes by an earlier sync: nothing to convert. */
  if (raw != 0 && in->row_id != NULL && well_formed &&
      in->host->raw_unchanged(in->src,
                              in->records == CSV_RECORDS_TICKETS
                                  ? IB_RECORD_TICKET
                                  : IB_RECORD_OUTAGE,
                              in->row_id, raw)) {
    in->same++;
    in->row_id = NULL;
    return IB_OK;
  }
  line_position(where, sizeof where, rec->line);
  if (rec->problem != NULL) return reject(in, where, "%s", rec->problem);
  if (rec->n_fields != in->n_header)
    return reject(in, where,
                  "%zu fields where the header has %zu; check quotes and "
                  "that the delimiter is '%c'",
                  rec->n_fields, in->n_header, in->delim);
  for (size_t i = 0; !trimmed && i < rec->n_fields; i++)
    rec->fields[i] = trim(rec->fields[i]);
  ib_status st = in->records == CSV_RECORDS_TICKETS
                     ? process_ticket(in, rec, where, raw)
                     : process_outage(in, rec, where, raw);
  in->row_id = NULL;
  return st;
}
