/*
 * config.h -- the parsed, validated configuration (SPEC §4).
 *
 * config.c reads the libconfig file, checks everything it can without the
 * plugins (types, calendars, SLAs, availability, references between them),
 * and keeps the libconfig tree so that each source's plugin options can be
 * validated against the plugin's declaration (source.c). Every error is one
 * line "file:line: message". This module knows nothing of stores or HTTP.
 */
#ifndef IB_CONFIG_H
#define IB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "itsm_bridge/plugin.h"

#define IB_MAX_RANGES_PER_DAY 8

typedef struct ib_time_range {
  int start_min; /* minutes after local midnight, 0..1440 */
  int end_min;   /* exclusive, start < end <= 1440 ("24:00") */
} ib_time_range;

typedef struct ib_day_hours {
  int n;
  ib_time_range ranges[IB_MAX_RANGES_PER_DAY]; /* sorted, disjoint */
} ib_day_hours;

typedef struct ib_calendar_cfg {
  char *name;
  char *timezone;       /* IANA name; "UTC" by default */
  int has_hours;        /* 0: always open */
  ib_day_hours week[7]; /* 0 = Monday ... 6 = Sunday */
  int32_t *holidays;    /* local dates as YYYYMMDD, sorted */
  size_t n_holidays;
  int line;
} ib_calendar_cfg;

#define IB_DURATION_NONE (-1)

typedef struct ib_target_cfg {
  int present;              /* this priority has a target */
  int64_t first_response_s; /* IB_DURATION_NONE when not set */
  int64_t resolution_s;     /* IB_DURATION_NONE when not set */
} ib_target_cfg;

typedef struct ib_penalty_cfg {
  int present;
  double monthly_fee;
  char *currency;
  double per_response_breach_pct;
  double per_resolution_breach_pct;
  double cap_pct;
} ib_penalty_cfg;

typedef struct ib_sla_cfg {
  char *name;
  char **sources; /* NULL/0: all sources */
  size_t n_sources;
  unsigned kinds_mask;      /* bit (1 << ib_kind); all bits when omitted */
  size_t calendar;          /* index into ib_config.calendars */
  ib_target_cfg targets[6]; /* [1..5] = P1..P5; [0] unused */
  ib_penalty_cfg penalty;
  int line;
} ib_sla_cfg;

typedef struct ib_availability_cfg {
  char *service;
  double target_pct;
  size_t calendar;
  int has_credit; /* credit = "proportional" */
  double monthly_fee;
  char *currency;
  int count_degradation;
  int from_tickets;            /* derive downtime from tickets too */
  unsigned ft_kinds_mask;      /* from_tickets.kinds; all when omitted */
  unsigned ft_priorities_mask; /* bit (1 << priority); all when omitted */
  int line;
} ib_availability_cfg;

typedef struct ib_store_cfg {
  char *path; /* SQLite file */
  char *url;  /* postgresql://... (instead of path) */
} ib_store_cfg;

/* Opaque libconfig setting for a source (config_setting_t). */
typedef struct ib_source_cfg {
  char *name;
  char *plugin;
  char *timezone;        /* default: UTC */
  int64_t overlap_s;     /* default 300 */
  ib_time initial_since; /* IB_TIME_NONE: everything */
  void *setting;         /* config_setting_t *, owned by ib_config */
  int line;
} ib_source_cfg;

/* ---- alerts (SPEC §10) ---- */

typedef enum ib_webhook_format {
  IB_WEBHOOK_JSON = 0, /* itsm-bridge.alert/1 */
  IB_WEBHOOK_SLACK,    /* Slack incoming webhook: text + blocks */
  IB_WEBHOOK_TEAMS     /* Teams incoming webhook: Adaptive Card message */
} ib_webhook_format;

typedef struct ib_webhook_cfg {
  char *name;
  char *url; /* https://, or http:// to loopback (ib_http_check_url) */
  ib_webhook_format format;
  char *token_env; /* name of the variable holding the bearer token, or
                      NULL (no Authorization header); never the token */
  int line;
} ib_webhook_cfg;

/* Rule types. Adding one: a value here, a row in config.c's rule_types
 * (its name and keys) and a row in alerts.c's evaluators. */
typedef enum ib_alert_type {
  IB_ALERT_TICKET_AT_RISK = 0,
  IB_ALERT_COMPLIANCE_BELOW,
  IB_ALERT_AVAILABILITY_BUDGET,
  IB_ALERT_SOURCE_STALE,
  IB_ALERT_LATE_CHANGES, /* SPEC §9 late changes to a closed month */
  IB_ALERT_TYPE_COUNT
} ib_alert_type;

/* "ticket_at_risk", ...; "" for an unknown value. */
const char *ib_alert_type_name(ib_alert_type t);

typedef enum ib_alert_kpi {
  IB_ALERT_KPI_FIRST_RESPONSE = 0,
  IB_ALERT_KPI_RESOLUTION
} ib_alert_kpi;

typedef struct ib_alert_rule_cfg {
  char *name;
  ib_alert_type type;
  size_t sla;         /* ticket_at_risk, compliance_below: into slas */
  ib_alert_kpi kpi;   /* compliance_below */
  double pct;         /* below_pct / consumed_pct, 0..100 */
  size_t service;     /* availability_budget: into availability */
  int64_t duration_s; /* within (ticket_at_risk) / after (source_stale) */
  size_t *sources;    /* source_stale: into sources; NULL/0 = all */
  size_t n_sources;
  size_t *notify; /* into alerts.webhooks; owned */
  size_t n_notify;
  int line;
} ib_alert_rule_cfg;

#define IB_ALERT_DEFAULT_REPEAT_S (24 * 3600)

typedef struct ib_alerts_cfg {
  ib_webhook_cfg *webhooks;
  size_t n_webhooks;
  int64_t repeat_s; /* re-notify a still-firing alert after this */
  ib_alert_rule_cfg *rules;
  size_t n_rules;
} ib_alerts_cfg;

typedef struct ib_config {
  char *file;       /* path as given */
  char *timezone;   /* default "UTC" */
  char *plugin_dir; /* may be NULL: use the default; a relative value is
                       resolved against the configuration file's folder */
  ib_store_cfg store;
  ib_calendar_cfg *calendars;
  size_t n_calendars;
  ib_source_cfg *sources;
  size_t n_sources;
  ib_sla_cfg *slas;
  size_t n_slas;
  ib_availability_cfg *availability;
  size_t n_availability;
  ib_alerts_cfg alerts;
  void *lc; /* config_t *, owned */
} ib_config;

/* The largest configuration file read (1 MiB): checked before parsing, as
 * libconfig takes minutes over a multi-megabyte string. */
#define IB_CONFIG_MAX_BYTES (1024 * 1024)

/* Loads and validates `path`: a regular file of at most
 * IB_CONFIG_MAX_BYTES (a FIFO or device is refused, never read). On failure
 * returns NULL and writes one line "file:line: message" into err. The result is
 * owned by the caller (ib_config_free). */
ib_config *ib_config_load(const char *path, char *err, size_t errlen);
void ib_config_free(ib_config *cfg);

/* Writes "file:line: message" for the libconfig setting `setting` (a
 * config_setting_t *; its own file, else `file`) into err, with control
 * characters quoted from the file made printable. Returns -1. */
int ib_config_error_at(const void *setting, const char *file, char *err,
                       size_t errlen, const char *fmt, ...) IB_PRINTF(5, 6);

/* Index of the calendar / source named `name`, or -1. */
int ib_config_find_calendar(const ib_config *cfg, const char *name);
int ib_config_find_source(const ib_config *cfg, const char *name);

/* "90s", "30m", "4h", "1h30m", "2d" -> seconds; -1 on a malformed text. */
int64_t ib_parse_duration(const char *text);

#endif /* IB_CONFIG_H */
