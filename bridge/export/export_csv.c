/*
 * export_csv.c -- the CSV export: one RFC 4180 file per table (UTF-8, CRLF,
 * ISO-8601 UTC), or with `excel` the variant French Excel opens directly
 * (BOM, ';', decimal comma, "YYYY-MM-DD HH:MM:SS" UTC, booleans 1/0, text
 * that Excel would run as a formula prefixed with an apostrophe). Must not
 * compute anything: cells come from export_rows.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_file.h"
#include "export_rows.h"
#include "tz.h"

#define UTF8_BOM "\xEF\xBB\xBF"
#define CSV_EOL "\r\n"

typedef struct csv_style {
  char delim;
  char decimal;
  int excel;
} csv_style;

static void put_text(FILE *out, const char *s, const csv_style *st) {
  /* Excel runs a cell starting with = + - @ as a formula (CSV injection). */
  int guard = st->excel && strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0';
  int quote =
      guard || strchr(s, st->delim) != NULL || strpbrk(s, "\"\r\n") != NULL;
  if (!quote) {
    fputs(s, out);
    return;
  }
  fputc('"', out);
  if (guard) fputc('\'', out);
  for (; *s; s++) {
    if (*s == '"') fputc('"', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

static void put_cell(FILE *out, const ib_export_column *col,
                     const ib_export_cell *c, const csv_style *st) {
  char buf[64];
  if (c->null) return;
  switch (col->type) {
    case IB_COL_TEXT: put_text(out, c->text, st); break;
    case IB_COL_INT: fprintf(out, "%lld", (long long)c->i); break;
    case IB_COL_NUM: {
      ib_export_format_num(c->num, col->decimals, buf, sizeof buf);
      char *dot = strchr(buf, '.');
      if (dot != NULL) *dot = st->decimal;
      fputs(buf, out);
      break;
    }
    case IB_COL_BOOL:
      fputs(st->excel ? (c->i ? "1" : "0") : (c->i ? "true" : "false"), out);
      break;
    case IB_COL_TIME:
      ib_format_iso8601(c->i, buf);
      if (st->excel) { /* "2026-10-01T08:00:00Z" -> "2026-10-01 08:00:00" */
        buf[10] = ' ';
        buf[19] = '\0';
      }
      fputs(buf, out);
      break;
  }
}

static int write_table(const ib_export_data *d, ib_export_table_id id,
                       const char *dir, const csv_style *st, char *err,
                       size_t errlen) {
  const ib_export_table *t = &ib_export_tables[id];
  ib_export_rows *rows = NULL;  /* owned here */
  ib_export_cell *cells = NULL; /* owned here */
  ib_atomic_file f = {0};
  char *path = NULL; /* owned here */
  if (asprintf(&path, "%s/%s.csv", dir, t->name) < 0) {
    path = NULL;
    snprintf(err, errlen, "export: out of memory");
    goto fail;
  }
  cells = calloc(t->n_columns, sizeof *cells);
  if (cells == NULL) {
    snprintf(err, errlen, "export: out of memory");
    goto fail;
  }
  if (ib_export_rows_open(d, id, &rows, err, errlen) != 0 ||
      ib_atomic_open(&f, path, err, errlen) != 0)
    goto fail;
  if (st->excel) fputs(UTF8_BOM, f.fp);
  for (size_t k = 0; k < t->n_columns; k++) {
    if (k) fputc(st->delim, f.fp);
    fputs(t->columns[k].name, f.fp);
  }
  fputs(CSV_EOL, f.fp);
  while (ib_export_rows_next(rows, cells) == 1) {
    for (size_t k = 0; k < t->n_columns; k++) {
      if (k) fputc(st->delim, f.fp);
      put_cell(f.fp, &t->columns[k], &cells[k], st);
    }
    fputs(CSV_EOL, f.fp);
  }
  if (ib_atomic_commit(&f, err, errlen) != 0) goto fail;
  ib_export_rows_close(rows);
  free(cells);
  free(path);
  return 0;
fail:
  ib_atomic_abort(&f);
  ib_export_rows_close(rows);
  free(cells);
  free(path);
  return -1;
}

int ib_export_csv(const ib_export_data *d, const char *dir, int excel,
                  char *err, size_t errlen) {
  csv_style st = {excel ? ';' : ',', excel ? ',' : '.', excel};
  if (ib_export_make_dir(dir, err, errlen) != 0) return -1;
  for (int id = 0; id < IB_TABLE_COUNT; id++)
    if (write_table(d, (ib_export_table_id)id, dir, &st, err, errlen) != 0)
      return -1;
  return 0;
}
