/*
 * fuzz_glpi.c -- fuzz target: the GLPI ticket normaliser on hostile JSON,
 * {"ticket": {...}, "log": [...]} as the API would send it. A ticket it
 * accepts has an id, a creation date and well-formed pauses; nothing may
 * crash, leak or read past the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "glpi_ticket.h"
#include "tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(ib_source *src, ib_log_level level, const char *fmt, ...) {
  (void)src;
  (void)level;
  (void)fmt;
}

static ib_status parse_time(ib_source *src, const char *text,
                            const char *format, ib_time *out) {
  (void)src;
  return format && ib_parse_with_format(text, format, "Europe/Paris", out) == 0
             ? IB_OK
             : IB_ERR_PARSE;
}

static const char *no_map(ib_source *src, const char *opt, const char *raw) {
  (void)src;
  (void)opt;
  (void)raw;
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const ib_host_services host = {.struct_size = sizeof host,
                                        .log = quiet,
                                        .map = no_map,
                                        .parse_time = parse_time};
  glpi_ctx ctx = {
      .host = &host, .service_field = "itilcategories_id", .now = 1800000000};
  cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
  if (doc == NULL) return 0;
  glpi_status_change *changes = NULL;
  size_t n = 0;
  if (glpi_status_changes(&ctx, cJSON_GetObjectItem(doc, "log"), &changes,
                          &n) != IB_OK)
    abort();
  glpi_ticket_out out;
  char why[256];
  ib_status st = glpi_normalize_ticket(&ctx, cJSON_GetObjectItem(doc, "ticket"),
                                       changes, n, &out, why, sizeof why);
  if (st == IB_OK) {
    if (out.t.id == NULL || out.t.created_at == IB_TIME_NONE) abort();
    if (out.t.n_pauses > n + 1) abort();
    for (size_t i = 0; i < out.t.n_pauses; i++)
      if (out.t.pauses[i].start == IB_TIME_NONE ||
          (out.t.pauses[i].end != IB_TIME_NONE &&
           out.t.pauses[i].end <= out.t.pauses[i].start))
        abort();
  } else if (st == IB_ERR_REJECTED) {
    if (why[0] == '\0' || out.where[0] == '\0') abort();
  } else if (st != IB_ERR_NOMEM) {
    abort();
  }
  glpi_ticket_out_free(&out);
  free(changes);
  cJSON_Delete(doc);
  return 0;
}
