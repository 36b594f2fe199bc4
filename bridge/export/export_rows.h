/*
 * export_rows.h -- the tables every BI export writes (tickets, ticket_sla,
 * kpi, availability, outages, disagreements, changes): their documented columns
 * and a row cursor that yields typed cells. CSV, JSON and NDJSON (and any other
 * tabular exporter) read rows from here so that they carry the same content.
 * Must not write files nor compute KPIs: the cells come from the ticket set,
 * the outage set, the ib_kpi_result (kpi rows through kpi_format.h) and
 * the late changes the store listed.
 */
#ifndef IB_EXPORT_ROWS_H
#define IB_EXPORT_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

typedef enum ib_col_type {
  IB_COL_TEXT = 0, /* UTF-8 text */
  IB_COL_INT,      /* integer (counts, seconds) */
  IB_COL_NUM,      /* decimal, rounded to the column's decimals */
  IB_COL_BOOL,     /* true / false */
  IB_COL_TIME      /* instant, written ISO-8601 UTC */
} ib_col_type;

typedef struct ib_export_column {
  const char *name;
  ib_col_type type;
  int decimals; /* IB_COL_NUM only */
  const char *doc;
} ib_export_column;

typedef enum ib_export_table_id {
  IB_TABLE_TICKETS = 0,
  IB_TABLE_TICKET_SLA,
  IB_TABLE_KPI,
  IB_TABLE_AVAILABILITY,
  IB_TABLE_OUTAGES,
  IB_TABLE_DISAGREEMENTS,
  IB_TABLE_CHANGES,
  IB_TABLE_COUNT
} ib_export_table_id;

typedef struct ib_export_table {
  const char *name; /* file stem: "tickets" -> tickets.csv */
  const char *doc;
  const ib_export_column *columns;
  size_t n_columns;
} ib_export_table;

/* The tables, indexed by ib_export_table_id. */
extern const ib_export_table ib_export_tables[IB_TABLE_COUNT];

/* One cell. `null` set: no value. Text is borrowed and valid until the
 * next ib_export_rows_next call. */
typedef struct ib_export_cell {
  int null;
  const char *text; /* IB_COL_TEXT */
  int64_t i;        /* IB_COL_INT, IB_COL_BOOL (0/1), IB_COL_TIME */
  double num;       /* IB_COL_NUM, never NAN (NAN cells are null) */
} ib_export_cell;

typedef struct ib_export_rows ib_export_rows;

/* Opens a cursor over table `table` of `d`. Owned by the caller:
 * ib_export_rows_close. Returns 0, or -1 with one line in err. */
int ib_export_rows_open(const ib_export_data *d, ib_export_table_id table,
                        ib_export_rows **out, char *err, size_t errlen);
/* Fills cells[0 .. n_columns-1]; returns 1 for a row, 0 at the end. */
int ib_export_rows_next(ib_export_rows *it, ib_export_cell *cells);
void ib_export_rows_close(ib_export_rows *it);

/* The cells of one row of the tickets (or outages) table for a single
 * record, for writers that stream records outside an export (sync
 * --dry-run). Text cells borrow from t (and from prio, 8 bytes, for the
 * priority). */
void ib_export_ticket_cells(const ib_ticket_row *t, ib_export_cell *cells,
                            char prio[8]);
void ib_export_outage_cells(const ib_outage_row *o, ib_export_cell *cells);

/* A NUM cell's value rounded to `decimals` as text with '.' and without
 * trailing zeros ("99.5", "1440"); buf of at least 64 bytes. */
void ib_export_format_num(double v, int decimals, char *buf, size_t len);

#endif /* IB_EXPORT_ROWS_H */
