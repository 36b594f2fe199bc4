/*
 * export_yaml.c -- YAML, PromQL and Go-template quoting for the YAML
 * exports. Must not know any export's structure.
 */
#define _GNU_SOURCE
#include "export_yaml.h"

#include <string.h>

#include "utf8.h"

void ib_yaml_put_string(FILE *out, const char *s) {
  int valid = s == NULL || ib_utf8_valid(s);
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
    if (*p == '"' || *p == '\\') {
      fputc('\\', out);
      fputc(*p, out);
    } else if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !valid)) {
      fprintf(out, "\\x%02x", *p);
    } else if (p[0] == 0xc2 && p[1] == 0x85) { /* NEL */
      fputs("\\N", out);
      p++;
    } else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
      fputs(p[2] == 0xa8 ? "\\L" : "\\P", out); /* U+2028, U+2029 */
      p += 2;
    } else {
      fputc(*p, out);
    }
  }
  fputc('"', out);
}

/* Go's double-quoted string syntax, shared by PromQL and text/template. */
static void put_go_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
    if (*p == '"' || *p == '\\') {
      fputc('\\', out);
      fputc(*p, out);
    } else if (*p == '\n') {
      fputs("\\n", out);
    } else if (*p < 0x20 || *p == 0x7f) {
      fprintf(out, "\\x%02x", *p);
    } else {
      fputc(*p, out);
    }
  }
  fputc('"', out);
}

void ib_promql_put_string(FILE *out, const char *s) {
  put_go_string(out, s);
}

void ib_gotmpl_put_text(FILE *out, const char *s) {
  if (s == NULL) return;
  if (strstr(s, "{{") == NULL) {
    fputs(s, out);
    return;
  }
  fputs("{{ ", out);
  put_go_string(out, s);
  fputs(" }}", out);
}
