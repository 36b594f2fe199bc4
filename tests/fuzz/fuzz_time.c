/*
 * fuzz_time.c -- fuzz target: ISO-8601 and strptime-style date parsing in
 * a DST zone, and SLA durations. A parsed instant must print back as a
 * valid ISO-8601 text; nothing may crash or read past the input. The zone
 * tables and the format fast path must give what the C library alone
 * (strptime, localtime_r) gives, accepted or refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* KNOWN ISSUE (bridge/tz.c year range, being fixed elsewhere): instants
 * outside years 1..9999 parse but do not print back. "0000-01-01" read in
 * Europe/Paris (LMT +00:09:21) prints as "-001-12-31T23:50:39Z", which
 * does not parse (seed corpus/time/crash-year0000-roundtrip);
 * "9999-12-31T24:00Z" is year 10000, printed "0000-01-01T00:00:00Z" by
 * ib_format_iso8601's y % 10000 (crash-year10000-roundtrip). The round
 * trip is checked inside 0001..9999 until tz.c bounds the years. */
#define IB_FUZZ_YEAR1 (-62135596800LL)   /* 0001-01-01T00:00:00Z */
#define IB_FUZZ_YEAR10000 253402300800LL /* 10000-01-01T00:00:00Z */

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
  static const char *const formats[] = {"%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S"};
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
    ib_time fast = 0, ref = 0;
    int rc_fast = ib_parse_with_format(text, formats[i], "Europe/Paris", &fast);
    ib_tz_use_fast_paths(0);
    int rc_ref = ib_parse_with_format(text, formats[i], "Europe/Paris", &ref);
    ib_tz_use_fast_paths(1);
    if (rc_fast != rc_ref || fast != ref) abort();
  }
  int64_t d = ib_parse_duration(text);
  if (d < -1) abort();
  free(text);
  return 0;
}
