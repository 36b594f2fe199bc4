/*
 * fuzz_csv.c -- fuzz target: the csv plugin's streaming RFC 4180 reader,
 * in both encodings and with two delimiters. Every record must come back
 * with a line number and NUL-terminated fields; nothing may crash or leak.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "csv_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("fuzz-csv", 0);
  if (fd < 0) return 0;
  if (size && write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return 0;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  static const char delims[] = {',', ';'};
  for (int v = 0; v < 2; v++) {
    csv_reader r;
    char err[256];
    if (csv_reader_open(&r, path, delims[v], v ? CSV_ENC_LATIN1 : CSV_ENC_UTF8,
                        err, sizeof err) != 0)
      continue;
    csv_record rec;
    uint64_t last_line = 0;
    csv_next st;
    while ((st = csv_reader_next(&r, &rec, err, sizeof err)) ==
           CSV_NEXT_RECORD) {
      if (rec.line < last_line) abort(); /* lines only move forward */
      last_line = rec.line;
      for (size_t i = 0; i < rec.n_fields; i++)
        if (rec.fields[i] == NULL || strlen(rec.fields[i]) > size * 3 + 3)
          abort();
    }
    csv_reader_close(&r);
  }
  close(fd);
  return 0;
}
