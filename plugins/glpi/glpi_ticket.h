/*
 * glpi_ticket.h -- GLPI ticket normalisation: one row of GET /Ticket
 * (expand_dropdowns=true) plus the status changes of its Log -> ib_ticket.
 * Pure: no HTTP, no paging, no globals; the host is used only for time
 * parsing, value mappings and option look-ups.
 */
#ifndef GLPI_TICKET_H
#define GLPI_TICKET_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "itsm_bridge/plugin.h"

/* GLPI's search option of a ticket's status: Log rows with this
 * id_search_option record status changes. */
#define GLPI_SO_STATUS 12

/* What the normaliser needs to know about the source. Strings are borrowed
 * from the host and outlive the context. */
typedef struct glpi_ctx {
  const ib_host_services *host;
  ib_source *src;
  const char *service_field; /* itilcategories_id | locations_id | NULL */
  int user_priorities;       /* the option was set: only it maps */
  int user_statuses;
  int user_kinds;
  int user_services;
  ib_time now; /* verdicts of deadlines passed without an answer */
} glpi_ctx;

/* One status change from a ticket's Log. Values are borrowed from the JSON
 * they were read from. */
typedef struct glpi_status_change {
  ib_time at;
  int64_t log_id; /* breaks ties between changes of one second */
  const char *old_value;
  const char *new_value;
} glpi_status_change;

/* A normalised ticket. t's strings point into the row JSON or into the
 * buffers below; pauses is owned here (glpi_ticket_out_free). */
typedef struct glpi_ticket_out {
  ib_ticket t;
  ib_interval *pauses; /* owned */
  char id_buf[32];
  char priority_buf[16];
  char status_buf[16];
  char type_buf[16];
  char where[48]; /* "ticket 42" for messages */
} glpi_ticket_out;

/* Text of a field: strings, or integers printed into buf. NULL for a
 * missing or null field, "", and the "&nbsp;" / " " GLPI gives for an
 * empty dropdown. */
const char *glpi_text(const cJSON *row, const char *name, char *buf,
                      size_t buflen);

/* A GLPI date-time ("YYYY-MM-DD HH:MM:SS", the server's local time, read
 * in the source's timezone). Missing, null and GLPI's empty date
 * "0000-00-00 00:00:00" give IB_OK with IB_TIME_NONE; anything else that
 * does not parse gives IB_ERR_PARSE. */
ib_status glpi_time(const glpi_ctx *ctx, const cJSON *row, const char *name,
                    ib_time *out);

/* The status changes of a Log array (GET /Ticket/:id/Log), sorted by time
 * then log id. *out is owned by the caller (free), its strings borrowed
 * from log. Rows that are not status changes are skipped. */
ib_status glpi_status_changes(const glpi_ctx *ctx, const cJSON *log,
                              glpi_status_change **out, size_t *n);

/* Normalises one ticket row. changes (may be NULL) are its status changes,
 * used for pauses. IB_ERR_REJECTED with the reason in why when the row
 * cannot be a ticket (out->where names it); IB_ERR_NOMEM. */
ib_status glpi_normalize_ticket(const glpi_ctx *ctx, const cJSON *row,
                                const glpi_status_change *changes,
                                size_t n_changes, glpi_ticket_out *out,
                                char *why, size_t whylen);

void glpi_ticket_out_free(glpi_ticket_out *out);

#endif /* GLPI_TICKET_H */
