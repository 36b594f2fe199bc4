/*
 * export_json.c -- the JSON and NDJSON exports: the same tables as the CSV
 * export, one file per table (NAME.json: an array of objects; NAME.ndjson:
 * one object per line), typed values (numbers, booleans, null, ISO-8601
 * UTC strings). Must not compute anything: cells come from export_rows.
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

/* Writes one row object as compact JSON. -1 on ENOMEM. */
static int write_row(FILE *out, const ib_export_table *t,
                     const ib_export_cell *cells) {
  cJSON *o = cJSON_CreateObject(); /* owned here */
  char *text = NULL;               /* owned here */
  if (o == NULL) goto fail;
  for (size_t k = 0; k < t->n_columns; k++) {
    cJSON *v = cell_json(&t->columns[k], &cells[k]);
    if (v == NULL) goto fail;
    cJSON_AddItemToObject(o, t->columns[k].name, v);
  }
  text = cJSON_PrintUnformatted(o);
  if (text == NULL) goto fail;
  fputs(text, out);
  cJSON_free(text);
  cJSON_Delete(o);
  return 0;
fail:
  cJSON_Delete(o);
  return -1;
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
