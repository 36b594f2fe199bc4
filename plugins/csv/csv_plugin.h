/*
 * csv_plugin.h -- the csv plugin's instance and the functions its files
 * share (internal; nothing here is exported from csv.so). Must not include
 * host-internal headers: the plugin sees the host only through plugin.h.
 */
#ifndef CSV_PLUGIN_H
#define CSV_PLUGIN_H

#include <stdint.h>

#include "csv_reader.h"
#include "itsm_bridge/plugin.h"

typedef enum csv_records {
  CSV_RECORDS_TICKETS = 1,
  CSV_RECORDS_OUTAGES = 2
} csv_records;

/* Every column the plugin understands, for tickets and outages; the
 * `columns` option group has one child per entry (see csv_column_names). */
typedef enum csv_col {
  COL_ID,
  COL_KEY,
  COL_TITLE,
  COL_KIND,
  COL_PRIORITY,
  COL_STATUS,
  COL_SERVICE,
  COL_GROUP,
  COL_CREATED,
  COL_FIRST_RESPONSE,
  COL_RESOLVED,
  COL_CLOSED,
  COL_UPDATED,
  COL_PAUSE_START,
  COL_PAUSE_END,
  COL_START,
  COL_END,
  COL_COUNT
} csv_col;

typedef struct csv_column_info {
  const char *name; /* option key under columns, and the default header */
  unsigned records; /* csv_records bits it applies to */
} csv_column_info;

extern const csv_column_info csv_columns[COL_COUNT];

/* One source's state. Owned by the plugin: created by open(), freed by
 * close(). Strings marked host-owned stay valid until close(). */
typedef struct csv_instance {
  const ib_host_services *host;
  ib_source *src;
  csv_records records;
  const char *path;        /* host-owned */
  const char *date_format; /* host-owned; NULL: ISO-8601 only */
  char delim;
  csv_encoding enc;
  int64_t commit_every;
  const char *col_header[COL_COUNT]; /* host-owned; NULL: not configured */
  int validating; /* inside validate(): errors go to host->config_error */

  /* Per sync. */
  int col_index[COL_COUNT]; /* field index in the file, -1: not present */
  size_t n_header;
  csv_reader reader;
  int reader_open;
  ib_time since;
  ib_time max_updated;
  uint64_t rows, emitted, skipped, rejected;
  /* The id of the row being read, when its own field is readable (even in
   * a row rejected for another field): points into the reader's record,
   * valid for that row only; NULL when unknown. */
  const char *row_id;
  /* fetch(): only the rows with these ids (sorted, host-owned), or NULL */
  const char *const *only_ids;
  size_t n_only_ids;
  /* Raw digests (plugin.h, raw_unchanged): whether the host offers them,
   * the seed every row's digest starts from (the header and delimiter:
   * the same bytes under another header are another record), and the
   * rows skipped as stored unchanged. */
  int raw_digests;
  uint64_t raw_seed;
  uint64_t same;
} csv_instance;

/* csv_rows.c: binds the configured columns to the header record. Logs and
 * returns IB_ERR_CONFIG when a column is missing. */
ib_status csv_bind_header(csv_instance *in, const csv_record *header);
/* csv_rows.c: converts one data record and emits it (or rejects it).
 * Returns IB_OK to go on, another status to stop the sync. */
ib_status csv_process_record(csv_instance *in, const csv_record *rec);

/* Model words, case-insensitively; NULL when `word` is not one. */
const char *csv_model_word(const char *const *words, const char *word);
extern const char *const csv_ticket_kinds[];
extern const char *const csv_outage_kinds[];
extern const char *const csv_priorities[];
extern const char *const csv_statuses[];

#endif /* CSV_PLUGIN_H */
