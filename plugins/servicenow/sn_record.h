/*
 * sn_record.h -- ServiceNow record normalisation: one Table API record (plus
 * its sys_audit rows and task_sla rows) -> ib_ticket, one cmdb_ci_outage
 * record -> ib_outage. Pure: no HTTP, no paging, no globals; the host is
 * used only for time parsing, value mappings and option lookups.
 */
#ifndef SN_RECORD_H
#define SN_RECORD_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "itsm_bridge/plugin.h"

/* Which task_sla target a row measures. */
enum { SN_TARGET_NONE = 0, SN_TARGET_RESPONSE = 1, SN_TARGET_RESOLUTION = 2 };

/* What the normaliser needs to know about the source. Strings are borrowed
 * from the host or the instance and outlive the context. */
typedef struct sn_ctx {
  const ib_host_services *host;
  ib_source *src;
  const char *table;         /* incident, sc_req_item, problem, ... */
  const char *fr_field;      /* first_response = "field:<name>"; NULL = audit */
  const char *service_field; /* business_service (default) or cmdb_ci */
  int user_priorities;       /* the option was set: only it maps */
  int user_statuses;
  int user_kinds;
  int user_services;
} sn_ctx;

/* One sys_audit row. Strings are borrowed from the JSON it was read from. */
typedef struct sn_audit_row {
  const char *documentkey;
  const char *fieldname;
  const char *oldvalue;
  const char *newvalue;
  ib_time at;
  size_t seq; /* arrival order: breaks ties between rows of one second */
} sn_audit_row;

/* One task_sla row. `task` is borrowed from its JSON. */
typedef struct sn_sla_row {
  const char *task;
  int target; /* SN_TARGET_* */
  int breached;
  ib_time start;
} sn_sla_row;

/* A normalised ticket. t's strings point into the record JSON or into the
 * buffers below; pauses is owned here (sn_ticket_out_free). */
typedef struct sn_ticket_out {
  ib_ticket t;
  ib_interval *pauses; /* owned */
  char priority_buf[64];
  char state_buf[64];
  char where[96]; /* "INC0010023" or "sys_id ..." for messages */
} sn_ticket_out;

typedef struct sn_outage_out {
  ib_outage o;
  char kind_buf[64];
  char where[96];
} sn_outage_out;

/* Text of a field: plain strings, numbers (3, 3.0 -> "3") and
 * {value, display_value} objects. display != 0 prefers the display value and
 * falls back to the value. Returns NULL for a missing, null or empty field.
 * The result points into the JSON or into buf. */
const char *sn_field_text(const cJSON *rec, const char *name, int display,
                          char *buf, size_t buflen);

/* Reads a ServiceNow UTC date-time value ("YYYY-MM-DD HH:MM:SS"). A missing
 * or empty field gives IB_OK with IB_TIME_NONE. */
ib_status sn_field_time(const sn_ctx *ctx, const cJSON *rec, const char *name,
                        ib_time *out);

/* Parses one sys_audit / task_sla JSON row. IB_ERR_PARSE with a message in
 * why when a needed field is unusable. A task_sla row whose target is
 * neither response nor resolution gets SN_TARGET_NONE (the caller skips it). */
ib_status sn_audit_from_json(const sn_ctx *ctx, const cJSON *row, size_t seq,
                             sn_audit_row *out, char *why, size_t whylen);
ib_status sn_sla_from_json(const sn_ctx *ctx, const cJSON *row, sn_sla_row *out,
                           char *why, size_t whylen);

/* Sorts audit rows by (documentkey, at, seq) / SLA rows by task, so that
 * sn_*_range can find one ticket's rows. */
void sn_audit_sort(sn_audit_row *rows, size_t n);
void sn_sla_sort(sn_sla_row *rows, size_t n);
/* The rows of document `id` in a sorted array: *first and the count. */
size_t sn_audit_range(const sn_audit_row *rows, size_t n, const char *id,
                      size_t *first);
size_t sn_sla_range(const sn_sla_row *rows, size_t n, const char *id,
                    size_t *first);

/* Normalises one ticket record. `audit` are the record's audit rows sorted
 * by time, `slas` its task_sla rows (any order). IB_OK fills out;
 * IB_ERR_REJECTED means the record cannot be normalised: why says why and
 * out->where names it (the caller reports it with host->reject). */
ib_status sn_normalize_ticket(const sn_ctx *ctx, const cJSON *rec,
                              const sn_audit_row *audit, size_t n_audit,
                              const sn_sla_row *slas, size_t n_slas,
                              sn_ticket_out *out, char *why, size_t whylen);
void sn_ticket_out_free(sn_ticket_out *out);

/* Normalises one cmdb_ci_outage record; same contract as above. */
ib_status sn_normalize_outage(const sn_ctx *ctx, const cJSON *rec,
                              sn_outage_out *out, char *why, size_t whylen);

/* Normalised status ("new", "pending", ...) of a raw state code in this
 * table, using the statuses option when set. NULL when unmapped. */
const char *sn_status_of(const sn_ctx *ctx, const char *state_value,
                         const char *state_display);

/* The kind a table holds when no kinds mapping says otherwise. */
const char *sn_default_kind(const char *table);

#endif /* SN_RECORD_H */
