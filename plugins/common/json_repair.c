/*
 * json_repair.c -- see json_repair.h: one left-to-right pass over a JSON
 * text, tracking only whether it is inside a string. Must not allocate,
 * grow or shorten the text, or look at anything but \u escapes.
 */
#include "json_repair.h"

/* The value of 4 hex digits at p, or -1. */
static long hex4(const char *p) {
  long v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

static void replacement(char *digits) {
  digits[0] = 'F';
  digits[1] = 'F';
  digits[2] = 'F';
  digits[3] = 'D';
}

void ib_json_repair_escapes(char *text, size_t len) {
  int in_string = 0;
  size_t i = 0;
  if (text == 0) return;
  while (i < len) {
    char c = text[i];
    if (!in_string) {
      in_string = c == '"';
      i++;
      continue;
    }
    if (c == '"') {
      in_string = 0;
      i++;
      continue;
    }
    if (c != '\\' || i + 1 >= len) {
      i++;
      continue;
    }
    if (text[i + 1] != 'u' || i + 6 > len) {
      i += 2; /* \" \\ \n ...: skipped whole, so \" does not end the string */
      continue;
    }
    long v = hex4(text + i + 2);
    if (v < 0) {
      i += 2; /* cJSON reports it */
      continue;
    }
    if (v == 0) {
      replacement(text + i + 2);
    } else if (v >= 0xD800 && v <= 0xDBFF) {
      long low = i + 12 <= len && text[i + 6] == '\\' && text[i + 7] == 'u'
                     ? hex4(text + i + 8)
                     : -1;
      if (low >= 0xDC00 && low <= 0xDFFF) {
        i += 12; /* a valid pair */
        continue;
      }
      replacement(text + i + 2);
    } else if (v >= 0xDC00 && v <= 0xDFFF) {
      replacement(text + i + 2);
    }
    i += 6;
  }
}
