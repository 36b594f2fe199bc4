/*
 * csv_reader.c -- streaming RFC 4180 records (quotes, doubled quotes,
 * delimiters and newlines inside quotes, CRLF, BOM, Windows-1252 to UTF-8).
 * Memory is one read chunk plus the largest record. Must not know tickets,
 * columns or the host services.
 */
#define _POSIX_C_SOURCE 200809L
#include "csv_reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum csv_state {
  ST_FIELD_START, /* nothing read in this field yet */
  ST_UNQUOTED,    /* inside a plain field */
  ST_QUOTED,      /* inside "..." */
  ST_QUOTE_SEEN,  /* a quote inside "...": doubled, or the closing one */
  ST_AFTER_QUOTE  /* blanks after the closing quote, tolerated */
};

/* Windows-1252 code points for bytes 0x80..0x9F; the five bytes the code
 * page leaves undefined map to the C1 control of the same value. */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

static const unsigned char utf8_bom[3] = {0xEF, 0xBB, 0xBF};

int csv_reader_open(csv_reader *r, const char *path, char delim,
                    csv_encoding enc, char *err, size_t errlen) {
  memset(r, 0, sizeof *r);
  r->delim = delim;
  r->enc = enc;
  r->stop_enc = -1;
  r->line = 1;
  r->fp = fopen(path, "rb");
  if (r->fp == NULL) {
    snprintf(err, errlen, "cannot open %s: %s; check the source's path", path,
             strerror(errno));
    goto fail;
  }
  struct stat st;
  if (fstat(fileno(r->fp), &st) == 0 && S_ISREG(st.st_mode))
    r->file_size = (uint64_t)st.st_size;
  r->in = malloc(CSV_READ_CHUNK);
  r->rec_cap = 4096;
  r->rec = malloc(r->rec_cap);
  r->offs_cap = 32;
  r->offs = malloc(r->offs_cap * sizeof *r->offs);
  if (r->in == NULL || r->rec == NULL || r->offs == NULL) {
    snprintf(err, errlen, "out of memory opening %s", path);
    goto fail;
  }
  return 0;
fail:
  csv_reader_close(r);
  return -1;
}

void csv_reader_close(csv_reader *r) {
  if (r->fp != NULL) fclose(r->fp);
  free(r->in);
  free(r->rec);
  free(r->offs);
  free(r->fields);
  free(r->lengths);
  memset(r, 0, sizeof *r);
}

/* Refills the read chunk. 1 = bytes available, 0 = end of file, -1 = error. */
static int fill(csv_reader *r) {
  if (r->in_eof) return 0;
  r->in_len = fread(r->in, 1, CSV_READ_CHUNK, r->fp);
  r->in_pos = 0;
  if (r->in_len == 0) {
    if (ferror(r->fp)) return -1;
    r->in_eof = 1;
    return 0;
  }
  if (!r->started) {
    r->started = 1;
    if (r->in_len >= sizeof utf8_bom &&
        memcmp(r->in, utf8_bom, sizeof utf8_bom) == 0) {
      /* A BOM is proof of UTF-8, whatever encoding was configured. */
      r->bom_seen = 1;
      r->enc = CSV_ENC_UTF8;
      r->in_pos = sizeof utf8_bom;
      r->bytes_done += sizeof utf8_bom;
    }
  }
  return 1;
}

static int rec_reserve(csv_reader *r, size_t more) {
  if (r->rec_len + more <= r->rec_cap) return 0;
  if (r->rec_len + more > CSV_MAX_RECORD_BYTES) return -1;
  size_t cap = r->rec_cap;
  while (cap < r->rec_len + more) cap *= 2;
  char *grown = realloc(r->rec, cap);
  if (grown == NULL) return -1;
  r->rec = grown;
  r->rec_cap = cap;
  return 0;
}

/* Appends one input byte, converted to UTF-8 when the file is Windows-1252. */
static int put_byte(csv_reader *r, unsigned char c) {
  if (c < 0x80 || r->enc == CSV_ENC_UTF8) {
    if (r->rec_len == r->rec_cap && rec_reserve(r, 1) != 0) return -1;
    r->rec[r->rec_len++] = (char)c;
    return 0;
  }
  unsigned cp = c < 0xA0 ? cp1252_high[c - 0x80] : c;
  if (rec_reserve(r, 3) != 0) return -1;
  if (cp < 0x800) {
    r->rec[r->rec_len++] = (char)(0xC0 | (cp >> 6));
  } else {
    r->rec[r->rec_len++] = (char)(0xE0 | (cp >> 12));
    r->rec[r->rec_len++] = (char)(0x80 | ((cp >> 6) & 0x3F));
  }
  r->rec[r->rec_len++] = (char)(0x80 | (cp & 0x3F));
  return 0;
}

/* After an ordinary byte of a field: copies the run of bytes that follows
 * in the buffer up to the next byte that matters to the state machine
 * (the delimiter, a line end, a quote when quoted, or a byte to convert
 * from Windows-1252) in one go. Most of a file goes through here. */
static void build_stops(csv_reader *r) {
  int convert = r->enc != CSV_ENC_UTF8;
  for (int c = 0; c < 256; c++) {
    int any = c == '\n' || c == '\r' || (c >= 0x80 && convert);
    r->stop[0][c] = (unsigned char)(any || c == (unsigned char)r->delim);
    r->stop[1][c] = (unsigned char)(any || c == '"');
  }
  r->stop_delim = r->delim;
  r->stop_enc = (int)r->enc;
}

static int put_run(csv_reader *r, int quoted) {
  const unsigned char *in = r->in;
  size_t i = r->in_pos, end = r->in_len;
  if (r->stop_enc != (int)r->enc || r->stop_delim != r->delim) build_stops(r);
  const unsigned char *stop = r->stop[quoted != 0];
  while (i < end && !stop[in[i]]) i++;
  size_t n = i - r->in_pos;
  if (n == 0) return 0;
  if (rec_reserve(r, n) != 0) return -1;
  memcpy(r->rec + r->rec_len, in + r->in_pos, n);
  r->rec_len += n;
  r->in_pos = i;
  r->bytes_done += n;
  return 0;
}

static int begin_field(csv_reader *r) {
  if (r->n_offs == r->offs_cap) {
    size_t *grown = realloc(r->offs, 2 * r->offs_cap * sizeof *r->offs);
    if (grown == NULL) return -1;
    r->offs = grown;
    r->offs_cap *= 2;
  }
  r->offs[r->n_offs++] = r->rec_len;
  return 0;
}

static int end_field(csv_reader *r) {
  return put_byte(r, '\0');
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
int csv_utf8_valid(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    /* Eight ASCII bytes at a time: most of an export. */
    if (n - i >= 8) {
      uint64_t w;
      memcpy(&w, s + i, sizeof w);
      if ((w & UINT64_C(0x8080808080808080)) == 0) {
        i += 8;
        continue;
      }
    }
    unsigned char c = s[i];
    size_t len;
    unsigned cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return 0;
    }
    if (i + len > n) return 0;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      return 0;
    i += len;
  }
  return 1;
}

/* Every field empty and unquoted: a blank line or a row of bare
 * delimiters, as spreadsheets leave at the end of an export. */
static int record_blank(const csv_reader *r, int any_quoted) {
  return !any_quoted && r->rec_len == r->n_offs;
}

static csv_next finish(csv_reader *r, csv_record *out, uint64_t start_line,
                       const char *problem, char *err, size_t errlen) {
  if (r->fields_cap < r->n_offs) {
    char **grown = realloc(r->fields, r->n_offs * sizeof *grown);
    size_t *lens = grown ? realloc(r->lengths, r->n_offs * sizeof *lens) : NULL;
    if (grown) r->fields = grown;
    if (lens) r->lengths = lens;
    if (grown == NULL || lens == NULL) {
      snprintf(err, errlen, "line %llu: out of memory",
               (unsigned long long)start_line);
      return CSV_NEXT_FAIL;
    }
    r->fields_cap = r->n_offs;
  }
  for (size_t i = 0; i < r->n_offs; i++) {
    size_t end = i + 1 < r->n_offs ? r->offs[i + 1] - 1 : r->rec_len - 1;
    r->fields[i] = r->rec + r->offs[i];
    r->lengths[i] = end - r->offs[i];
    /* A NUL inside a field would cut it short when read as a C string,
     * silently changing values and aliasing ids ("INC\0001" = "INC"). */
    if (problem == NULL && memchr(r->fields[i], '\0', r->lengths[i]) != NULL)
      problem =
          "a field contains a NUL byte (is the file UTF-16 or binary? save "
          "it as CSV UTF-8)";
  }
  if (problem == NULL && r->enc == CSV_ENC_UTF8 &&
      !csv_utf8_valid((const unsigned char *)r->rec, r->rec_len))
    problem =
        "the row is not valid UTF-8 (for an old Excel export, set "
        "encoding = \"latin1\")";
  out->fields = r->fields;
  out->lengths = r->lengths;
  out->n_fields = r->n_offs;
  out->line = start_line;
  out->problem = problem;
  out->bytes = r->rec;
  out->n_bytes = r->rec_len;
  return CSV_NEXT_RECORD;
}

csv_next csv_reader_next(csv_reader *r, csv_record *out, char *err,
                         size_t errlen) {
  for (;;) { /* one iteration per record; blank records are skipped */
    enum csv_state state = ST_FIELD_START;
    int begun = 0, any_quoted = 0, ended = 0;
    const char *problem = NULL;
    uint64_t start_line = r->line;
    r->rec_len = 0;
    r->n_offs = 0;

    while (!ended) {
      if (r->in_pos == r->in_len) {
        int got = fill(r);
        if (got < 0) {
          snprintf(err, errlen, "line %llu: read error: %s",
                   (unsigned long long)r->line, strerror(errno));
          return CSV_NEXT_FAIL;
        }
        if (got == 0) break;
        continue;
      }
      unsigned char c = r->in[r->in_pos++];
      r->bytes_done++;
      uint64_t byte_line = r->line;
      int newline = (c == '\n' || c == '\r');
      if (c == '\r')
        r->line++;
      else if (c == '\n' && !r->prev_cr)
        r->line++;
      r->prev_cr = (c == '\r');

      if (!begun) {
        if (newline) continue; /* blank line, or the LF of a CRLF */
        begun = 1;
        start_line = byte_line;
        if (begin_field(r) != 0) goto too_long;
      }
      int rc = 0;
      switch (state) {
        case ST_FIELD_START:
        case ST_UNQUOTED:
          if (c == (unsigned char)r->delim) {
            rc = end_field(r) | begin_field(r);
            state = ST_FIELD_START;
          } else if (newline) {
            rc = end_field(r);
            ended = 1;
          } else if (c == '"' && state == ST_FIELD_START) {
            state = ST_QUOTED;
            any_quoted = 1;
          } else {
            /* A quote inside a plain field is kept as text (lenient). */
            rc = put_byte(r, c) | put_run(r, 0);
            state = ST_UNQUOTED;
          }
          break;
        case ST_QUOTED:
          if (c == '"')
            state = ST_QUOTE_SEEN;
          else
            rc = put_byte(r, c) | (newline ? 0 : put_run(r, 1));
          break;
        case ST_QUOTE_SEEN:
        case ST_AFTER_QUOTE:
          if (c == '"' && state == ST_QUOTE_SEEN) {
            rc = put_byte(r, '"');
            state = ST_QUOTED;
          } else if (c == (unsigned char)r->delim) {
            rc = end_field(r) | begin_field(r);
            state = ST_FIELD_START;
          } else if (newline) {
            rc = end_field(r);
            ended = 1;
          } else if (c == ' ' || c == '\t') {
            state = ST_AFTER_QUOTE;
          } else {
            if (problem == NULL)
              problem =
                  "text after a closing quote (a quote inside a quoted "
                  "field must be doubled)";
            rc = put_byte(r, c);
            state = ST_UNQUOTED;
          }
          break;
      }
      if (rc != 0) goto too_long;
    }

    if (!begun) return CSV_NEXT_END;
    if (!ended) { /* end of file inside the last record */
      if (state == ST_QUOTED && problem == NULL)
        problem = "a quoted field is not closed before the end of the file";
      if (end_field(r) != 0) goto too_long;
    }
    if (record_blank(r, any_quoted)) continue;
    return finish(r, out, start_line, problem, err, errlen);

  too_long:
    snprintf(err, errlen,
             "line %llu: the record starting here is longer than %u bytes; "
             "a quote is probably not closed -- fix the file and sync again",
             (unsigned long long)start_line, CSV_MAX_RECORD_BYTES);
    return CSV_NEXT_FAIL;
  }
}
