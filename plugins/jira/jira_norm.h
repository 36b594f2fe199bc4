/*
 * jira_norm.h -- one Jira issue (search result JSON, raw changelog) into one
 * normalised ib_ticket with its pause intervals. Pure: no HTTP, no paging,
 * no store; the only host services it uses are map() and parse_time().
 */
#ifndef JIRA_NORM_H
#define JIRA_NORM_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "itsm_bridge/plugin.h"

typedef enum jira_fr_mode {
  JIRA_FR_TRANSITION = 0, /* first status change out of the initial status */
  JIRA_FR_SLA = 1         /* stop time of a JSM SLA field's first cycle */
} jira_fr_mode;

typedef enum jira_service_mode {
  JIRA_SERVICE_COMPONENTS = 0, /* first component's name */
  JIRA_SERVICE_FIELD = 1,      /* a custom field's value */
  JIRA_SERVICE_LABELS = 2      /* first label with a prefix, prefix removed */
} jira_service_mode;

/* One status known from the server's catalogue (GET /rest/api/N/status):
 * tells whether a status seen only in the changelog is a done one. */
typedef struct jira_status_info {
  char *id;   /* owned by the catalogue's holder */
  char *name; /* owned by the catalogue's holder */
  int done;   /* statusCategory.key == "done" */
} jira_status_info;

/* What the normaliser needs to know; every pointer is borrowed. */
typedef struct jira_norm_cfg {
  const ib_host_services *host;
  ib_source *src;
  jira_fr_mode fr_mode;
  const char *fr_sla_field; /* JIRA_FR_SLA: "customfield_10030" */
  jira_service_mode service_mode;
  const char *service_arg;          /* field id or label prefix */
  const char *sla_response_field;   /* NULL: no reported verdict */
  const char *sla_resolution_field; /* NULL: no reported verdict */
  const char *const *pause_statuses;
  size_t n_pause_statuses;
  const jira_status_info *catalog; /* may be NULL */
  size_t n_catalog;
} jira_norm_cfg;

/* One status change from the changelog. Strings borrow the JSON tree. */
typedef struct jira_change {
  ib_time at;
  long long seq; /* history id, orders changes made in the same second */
  const char *from_id;
  const char *from_name;
  const char *to_id;
  const char *to_name;
} jira_change;

/* Scratch space reused from issue to issue; owned by the caller, released
 * with jira_norm_free(). After jira_normalize() the emitted ticket's pauses
 * point into it, and `reason` holds the rejection text. */
typedef struct jira_norm {
  ib_interval *pauses; /* owned */
  size_t pauses_cap;
  jira_change *changes; /* owned */
  size_t changes_cap;
  char reason[512];
} jira_norm;

void jira_norm_free(jira_norm *scratch);

/*
 * Normalises `issue` (one element of a search response's "issues").
 * `histories` is the full changelog when it was paged separately, or NULL
 * to use the issue's embedded changelog. On IB_OK *out is filled; its
 * strings borrow `issue` (and the configuration) and its pauses borrow
 * `scratch`: emit before touching either again. IB_ERR_REJECTED: the issue
 * cannot be normalised, scratch->reason says why (for host->reject).
 * IB_ERR_PARSE: `issue` is not an issue object. IB_ERR_NOMEM.
 */
ib_status jira_normalize(const jira_norm_cfg *cfg, jira_norm *scratch,
                         const cJSON *issue, const cJSON *histories,
                         ib_ticket *out);

/* Where an issue is, for messages: its key, else its id, else "?". */
const char *jira_issue_where(const cJSON *issue);

#endif /* JIRA_NORM_H */
