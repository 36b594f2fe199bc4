/*
 * csv_reader.h -- a streaming RFC 4180 reader: one record at a time from a
 * fixed read buffer, whatever the size of the file. Knows bytes, quotes,
 * line numbers and encodings; must not know tickets, columns or the host.
 */
#ifndef CSV_READER_H
#define CSV_READER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Bytes read from the file at a time. */
#define CSV_READ_CHUNK (64u * 1024u)
/* A single record longer than this is refused: it is almost always a quote
 * that was never closed, swallowing the rest of the file. */
#define CSV_MAX_RECORD_BYTES (4u * 1024u * 1024u)

typedef enum csv_encoding {
  CSV_ENC_UTF8 = 0,
  /* "latin1" as old Excel exports mean it: Windows-1252, the superset of
   * ISO-8859-1 that browsers also use for the label (WHATWG). */
  CSV_ENC_LATIN1 = 1
} csv_encoding;

typedef enum csv_next {
  CSV_NEXT_RECORD = 0, /* *out holds a record */
  CSV_NEXT_END = 1,    /* end of file */
  CSV_NEXT_FAIL = 2    /* read error or oversized record: see err */
} csv_next;

/* One record. Fields point into the reader's buffer (NUL-terminated,
 * writable in place) and stay valid until the next csv_reader_next(). */
typedef struct csv_record {
  char **fields;
  const size_t *lengths; /* bytes of each field; more than strlen() when
                            the field holds a NUL byte */
  size_t n_fields;
  uint64_t line;       /* physical line where the record starts (1-based) */
  const char *problem; /* NULL, or why the record is malformed (static) */
  /* The record as read (after decoding and unquoting): its fields one
   * after the other, each ended by a NUL -- what a digest of the row
   * covers. Valid as fields are. */
  const char *bytes;
  size_t n_bytes;
} csv_record;

typedef struct csv_reader {
  FILE *fp; /* owned: fclose in csv_reader_close */
  char delim;
  csv_encoding enc;
  int bom_seen;       /* the file started with a UTF-8 byte-order mark */
  uint64_t file_size; /* 0 when unknown */
  uint64_t bytes_done;

  unsigned char *in; /* owned: CSV_READ_CHUNK bytes */
  size_t in_len, in_pos;
  int in_eof;
  int started; /* BOM check done */

  uint64_t line; /* line of the next byte */
  int prev_cr;   /* the previous byte was '\r' (CRLF = one line) */

  char *rec; /* owned: the current record's bytes, fields NUL-ended */
  size_t rec_len, rec_cap;
  size_t *offs; /* owned: start of each field in rec */
  size_t n_offs, offs_cap;
  char **fields;   /* owned: pointers built from offs for the caller */
  size_t *lengths; /* owned: each field's length, fields_cap entries */
  size_t fields_cap;

  /* Bytes that end a run of ordinary bytes (put_run), outside quotes
   * ([0]) and inside ([1]), for stop_delim and stop_enc (rebuilt when the
   * delimiter or the encoding change: a "sep=" line, a BOM). */
  unsigned char stop[2][256];
  char stop_delim;
  int stop_enc; /* -1: not built */
} csv_reader;

/* Opens `path`. On failure returns -1 and writes one line into err. */
int csv_reader_open(csv_reader *r, const char *path, char delim,
                    csv_encoding enc, char *err, size_t errlen);
/* Reads the next non-blank record. */
csv_next csv_reader_next(csv_reader *r, csv_record *out, char *err,
                         size_t errlen);
void csv_reader_close(csv_reader *r);
/* Whether s[0..n) is strict UTF-8. */
int csv_utf8_valid(const unsigned char *s, size_t n);

#endif /* CSV_READER_H */
