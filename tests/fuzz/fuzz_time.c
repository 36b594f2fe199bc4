/*
 * fuzz_time.c -- fuzz target: ISO-8601 and strptime-style date parsing in
 * a DST zone, and SLA durations. A parsed instant must print back as a
 * valid ISO-8601 text; nothing may crash or read past the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (text == NULL) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  ib_time t;
  char iso[IB_ISO_LEN];
  if (ib_parse_iso8601(text, "Europe/Paris", &t) == 0) {
    if (!ib_time_in_range(t)) abort(); /* years 0000-9999 only */
    ib_format_iso8601(t, iso);
    ib_time back;
    if (ib_parse_iso8601(iso, "UTC", &back) != 0 || back != t) abort();
  }
  if (ib_parse_with_format(text, "%d/%m/%Y %H:%M", "Europe/Paris", &t) == 0) {
    if (!ib_time_in_range(t)) abort();
    ib_format_iso8601(t, iso);
  }
  int64_t d = ib_parse_duration(text);
  if (d < -1) abort();
  free(text);
  return 0;
}
