/*
 * kpi_format.h -- writes a computed ib_kpi_result as the SPEC §7 JSON
 * (itsm-bridge.kpi/1), a terminal table or a tidy CSV, and its
 * disagreements with the provider (itsm-bridge.disagreements/1). Must
 * not compute KPIs or touch the store.
 */
#ifndef IB_KPI_FORMAT_H
#define IB_KPI_FORMAT_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "kpi.h"

typedef enum ib_kpi_format {
  IB_KPI_FORMAT_TABLE = 0,
  IB_KPI_FORMAT_JSON,
  IB_KPI_FORMAT_CSV
} ib_kpi_format;

/* "table" | "json" | "csv" -> format, else -1. */
int ib_kpi_format_parse(const char *word);

/* The SPEC §7 document, keys in order, figures rounded (percentages 3
 * decimals, money 2, durations 3). With `breaches`, a trailing "breaches"
 * array lists breached tickets. Owned by the caller (cJSON_Delete); NULL
 * on ENOMEM. Exporters reuse it. */
cJSON *ib_kpi_to_json(const ib_kpi_result *r, int breaches);

/* Each writes the whole result to `out`; 0, or -1 on a write error or
 * ENOMEM. `period` labels CSV rows ("2026-10", or "FROM/TO" instants). */
int ib_kpi_write_json(FILE *out, const ib_kpi_result *r, int breaches);
/* label: how the user named the period ("2026-10 (Europe/Paris)"), or
 * NULL to show only the instants. */
int ib_kpi_write_table(FILE *out, const ib_kpi_result *r, const char *label,
                       int breaches);
/* Tidy long CSV "period,sla,priority,kpi,value": priority "all" for
 * totals, penalty and availability rows; availability rows carry the
 * service name in `sla` and kpi names "availability.*". Nulls are empty.
 * With `breaches`, writes the breached tickets instead:
 * "period,sla,kpi,source,key,title,priority,measured_s,target_s,over_s". */
int ib_kpi_write_csv(FILE *out, const ib_kpi_result *r, const char *period,
                     int breaches);

/* Disagreements with the provider (SPEC §9): every met/breached measure
 * whose source reported another verdict, in result order, with its reason.
 * The itsm-bridge.disagreements/1 document; owned by the caller
 * (cJSON_Delete), NULL on ENOMEM. */
cJSON *ib_kpi_disagreements_to_json(const ib_kpi_result *r);
/* Writes them as that JSON, a table (one line per ticket; label as for
 * ib_kpi_write_table) or CSV "source,id,key,sla,priority,kpi,measured_s,
 * target_s,ours,theirs,reason". 0, or -1 on a write error or ENOMEM. */
int ib_kpi_write_disagreements(FILE *out, const ib_kpi_result *r,
                               ib_kpi_format format, const char *label);

/* "2h 05m", "12m 30s", "-" for a negative or NAN duration. */
void ib_kpi_format_duration(double seconds, char *buf, size_t len);

#endif /* IB_KPI_FORMAT_H */
