/*
 * export_json.c -- the JSON and NDJSON exports: the same tables as the CSV
 * export, one file per table (NAME.json: an array of objects; NAME.ndjson:
 * one object per line), typed values (numbers, booleans, null, ISO-8601
 * UTC strings); and single records as NDJSON lines for sync --dry-run
 * (the tickets/outages columns plus "record" and the pause intervals).
 * Must not compute anything: cells come from export_rows.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "export.h"
#include "export_file.h"
#include "export_rows.h"
#include "tz.h"
#include "utf8.h"

static cJSON *cell_json(const ib_export_column *col, const ib_export_cell *c) {
  char buf[64];
  if (c->null) return cJSON_CreateNull();
  switch (col->type) {
    case IB_COL_TEXT:
      if (!ib_utf8_valid(c->text)) { /* JSON is UTF-8 or nothing */
        char *fixed = ib_utf8_repair(c->text, NULL); /* owned here */
        cJSON *item = fixed ? cJSON_CreateString(fixed) : NULL;
        free(fixed);
        return item;
      }
      return cJSON_CreateString(c->text);
    case IB_COL_INT: return cJSON_CreateNumber((double)c->i);
    case IB_COL_NUM:
      /* the same rounding as the CSV: "99.474" reads back as 99.474 */
      ib_export_format_num(c->num, col->decimals, buf, sizeof buf);
      return cJSON_CreateNumber(strtod(buf, NULL));
    case IB_COL_BOOL: return cJSON_CreateBool(c->i != 0);
    case IB_COL_TIME:
      ib_format_iso8601(c->i, buf);
      return cJSON_CreateString(buf);
  }
  return NULL;
}

/* Adds one member per column of t to object o. -1 on ENOMEM. */
static int add_cells(cJSON *o, const ib_export_table *t,
                     const ib_export_cell *cells) {
  for (size_t k = 0; k < t->n_columns; k++) {
    cJSON *v = cell_json(&t->columns[k], &cells[k]);
    if (v == NULL) return -1;
    cJSON_AddItemToObject(o, t->columns[k].name, v);
  }
  return 0;
}

/* Writes object o as compact JSON (no newline) and deletes it. -1 on
 * ENOMEM. */
static int print_object(FILE *out, cJSON *o) {
  char *text = cJSON_PrintUnformatted(o); /* owned here */
  cJSON_Delete(o);
  if (text == NULL) return -1;
  fputs(text, out);
  cJSON_free(text);
  return 0;
}

/* Writes one row object as compact JSON. -1 on ENOMEM. */
static int write_row(FILE *out, const ib_export_table *t,
                     const ib_export_cell *cells) {
  cJSON *o = cJSON_CreateObject(); /* owned here until printed */
  if (o == NULL) return -1;
  if (add_cells(o, t, cells) != 0) {
    cJSON_Delete(o);
    return -1;
  }
  return print_object(out, o);
}

static int write_table(const ib_export_data *d, ib_export_table_id id,
                       const char *dir, int ndjson, char *err, size_t errlen) {
  const ib_export_table *t = &ib_export_tables[id];
  ib_export_rows *rows = NULL;  /* owned here */
  ib_export_cell *cells = NULL; /* owned here */
  ib_atomic_file f = {0};
  char *path = NULL; /* owned here */
  if (asprintf(&path, "%s/%s.%s", dir, t->name, ndjson ? "ndjson" : "json") <
      0) {
    path = NULL;
    goto nomem;
  }
  cells = calloc(t->n_columns, sizeof *cells);
  if (cells == NULL) goto nomem;
  if (ib_export_rows_open(d, id, &rows, err, errlen) != 0 ||
      ib_atomic_open(&f, path, err, errlen) != 0)
    goto fail;
  size_t n = 0;
  if (!ndjson) fputs("[", f.fp);
  while (ib_export_rows_next(rows, cells) == 1) {
    if (!ndjson) fputs(n ? ",\n" : "\n", f.fp);
    if (write_row(f.fp, t, cells) != 0) goto nomem;
    if (ndjson) fputc('\n', f.fp);
    n++;
  }
  if (!ndjson) fputs(n ? "\n]\n" : "]\n", f.fp);
  if (ib_atomic_commit(&f, err, errlen) != 0) goto fail;
  ib_export_rows_close(rows);
  free(cells);
  free(path);
  return 0;
nomem:
  snprintf(err, errlen, "export: out of memory while writing %s",
           path ? path : t->name);
fail:
  ib_atomic_abort(&f);
  ib_export_rows_close(rows);
  free(cells);
  free(path);
  return -1;
}

int ib_export_json(const ib_export_data *d, const char *dir, int ndjson,
                   char *err, size_t errlen) {
  if (ib_export_make_dir(dir, err, errlen) != 0) return -1;
  for (int id = 0; id < IB_TABLE_COUNT; id++)
    if (write_table(d, (ib_export_table_id)id, dir, ndjson, err, errlen) != 0)
      return -1;
  return 0;
}

/* ---- single records (sync --dry-run) ------------------------------------ */

static int by_start(const void *a, const void *b) {
  const ib_interval *x = a, *y = b;
  return (x->start > y->start) - (x->start < y->start);
}

/* The pause intervals as [{"start": ISO, "end": ISO|null}], sorted by
 * start as the store keeps them. NULL on ENOMEM. */
static cJSON *pause_list(const ib_ticket_row *t) {
  static const ib_export_column col = {"pause", IB_COL_TIME, 0, NULL};
  cJSON *list = cJSON_CreateArray(); /* returned */
  ib_interval *sorted = NULL;        /* owned here */
  if (list == NULL) goto fail;
  if (t->n_pauses == 0) return list;
  if ((sorted = malloc(t->n_pauses * sizeof *sorted)) == NULL) goto fail;
  memcpy(sorted, t->pauses, t->n_pauses * sizeof *sorted);
  qsort(sorted, t->n_pauses, sizeof *sorted, by_start);
  for (size_t i = 0; i < t->n_pauses; i++) {
    ib_export_cell c[2] = {
        {.null = sorted[i].start == IB_TIME_NONE, .i = sorted[i].start},
        {.null = sorted[i].end == IB_TIME_NONE, .i = sorted[i].end}};
    cJSON *p = cJSON_CreateObject();
    if (p == NULL) goto fail;
    cJSON_AddItemToArray(list, p);
    cJSON *start = cell_json(&col, &c[0]), *end = cell_json(&col, &c[1]);
    if (start == NULL || end == NULL) {
      cJSON_Delete(start);
      cJSON_Delete(end);
      goto fail;
    }
    cJSON_AddItemToObject(p, "start", start);
    cJSON_AddItemToObject(p, "end", end);
  }
  free(sorted);
  return list;
fail:
  free(sorted);
  cJSON_Delete(list);
  return NULL;
}

/* {"record": kind, <the table's columns>...} as one line. */
static int write_record(FILE *out, const char *kind, ib_export_table_id id,
                        const ib_export_cell *cells, const ib_ticket_row *t) {
  const ib_export_table *tab = &ib_export_tables[id];
  cJSON *o = cJSON_CreateObject(); /* owned here until printed */
  if (o == NULL || cJSON_AddStringToObject(o, "record", kind) == NULL ||
      add_cells(o, tab, cells) != 0)
    goto fail;
  if (t) {
    cJSON *pauses = pause_list(t);
    if (pauses == NULL) goto fail;
    cJSON_AddItemToObject(o, "pause_intervals", pauses);
  }
  if (print_object(out, o) != 0) return -1;
  fputc('\n', out);
  return ferror(out) ? -1 : 0;
fail:
  cJSON_Delete(o);
  return -1;
}

/* Room for the cells of one tickets or outages row. */
#define RECORD_MAX_COLUMNS 32

int ib_export_ndjson_ticket(FILE *out, const ib_ticket_row *t) {
  ib_export_cell cells[RECORD_MAX_COLUMNS];
  char prio[8];
  if (ib_export_tables[IB_TABLE_TICKETS].n_columns > RECORD_MAX_COLUMNS)
    return -1;
  ib_export_ticket_cells(t, cells, prio);
  return write_record(out, "ticket", IB_TABLE_TICKETS, cells, t);
}

int ib_export_ndjson_outage(FILE *out, const ib_outage_row *o) {
  ib_export_cell cells[RECORD_MAX_COLUMNS];
  if (ib_export_tables[IB_TABLE_OUTAGES].n_columns > RECORD_MAX_COLUMNS)
    return -1;
  ib_export_outage_cells(o, cells);
  return write_record(out, "outage", IB_TABLE_OUTAGES, cells, NULL);
}
