/*
 * fuzz_sn.h -- what the three ServiceNow fuzz targets share: the source
 * (incident table, outages, task_sla verdicts, service renaming), a canned
 * incident page, its sys_audit and task_sla rows, and the replay table
 * builder. Only data; the harness is fuzz_source.h.
 */
#ifndef IB_FUZZ_SN_H
#define IB_FUZZ_SN_H

#include "common_cfg.h"
#include "fuzz_source.h"

#define FUZZ_SN_CONFIG                                                    \
  FUZZ_CFG_COMMON                                                         \
  "sources = (\n"                                                         \
  "  { name = \"sn\"; plugin = \"servicenow\";\n"                         \
  "    url = \"https://fuzz.service-now.com/\"; table = \"incident\";\n"  \
  "    query = \"active=true\"; page_size = 50; batch_size = 2;\n"        \
  "    outages = true; task_sla = true;\n"                                \
  "    services = ( (\"SAP ERP Production\", \"ERP\") ); },\n"            \
  "  { name = \"sn-field\"; plugin = \"servicenow\";\n"                   \
  "    url = \"https://fuzz.service-now.com\"; table = \"incident\";\n"   \
  "    first_response = \"field:u_first_response\";\n"                    \
  "    service_field = \"cmdb_ci\";\n"                                    \
  "    priorities = ( (\"1 - Critical\", \"P1\"), (\"2\", \"P2\") ); }\n" \
  ");\n"

/* Two incidents (display_value=all shape), one On Hold. */
#define FUZZ_SN_INCIDENTS                                               \
  "{\"result\":["                                                       \
  "{\"sys_id\":\"5e000000000000000000000000000001\",\"number\":"        \
  "{\"value\":\"INC0000001\",\"display_value\":\"INC0000001\"},"        \
  "\"short_description\":\"ERP down\","                                 \
  "\"state\":{\"value\":\"6\",\"display_value\":\"Resolved\"},"         \
  "\"priority\":{\"value\":\"1\",\"display_value\":\"1 - Critical\"},"  \
  "\"opened_at\":{\"value\":\"2026-10-05 07:00:00\"},"                  \
  "\"resolved_at\":{\"value\":\"2026-10-05 12:00:00\"},"                \
  "\"sys_updated_on\":{\"value\":\"2026-10-05 12:00:00\"},"             \
  "\"business_service\":{\"value\":\"s1\",\"display_value\":"           \
  "\"SAP ERP Production\"},\"sys_class_name\":\"incident\"},"           \
  "{\"sys_id\":\"5e000000000000000000000000000002\",\"number\":"        \
  "\"INC0000002\","                                                     \
  "\"state\":\"3\",\"priority\":\"4\","                                 \
  "\"opened_at\":\"2026-10-06 08:00:00\",\"u_first_response\":"         \
  "\"2026-10-06 09:00:00\",\"sys_updated_on\":\"2026-10-07 08:00:00\"," \
  "\"cmdb_ci\":{\"value\":\"c1\",\"display_value\":\"Email\"}}]}"

#define FUZZ_SN_AUDIT                                                        \
  "{\"result\":["                                                            \
  "{\"sys_id\":\"a1\",\"documentkey\":\"5e000000000000000000000000000001\"," \
  "\"fieldname\":\"state\",\"oldvalue\":\"1\",\"newvalue\":\"2\","           \
  "\"sys_created_on\":\"2026-10-05 07:20:00\"},"                             \
  "{\"sys_id\":\"a2\",\"documentkey\":\"5e000000000000000000000000000002\"," \
  "\"fieldname\":\"state\",\"oldvalue\":\"2\",\"newvalue\":\"3\","           \
  "\"sys_created_on\":\"2026-10-06 10:00:00\"}]}"

#define FUZZ_SN_SLAS                                                      \
  "{\"result\":["                                                         \
  "{\"sys_id\":\"b1\",\"task\":{\"value\":"                               \
  "\"5e000000000000000000000000000001\"},\"has_breached\":{\"value\":"    \
  "\"true\"},\"sla.target\":{\"value\":\"resolution\",\"display_value\":" \
  "\"Resolution\"},\"start_time\":{\"value\":\"2026-10-05 07:00:00\"},"   \
  "\"stage\":{\"value\":\"completed\"}}]}"

#define FUZZ_SN_EMPTY "{\"result\":[]}"

/* Which table answers with the fuzz input. */
typedef enum fuzz_sn_table {
  FUZZ_SN_TABLE,
  FUZZ_SN_AUDIT_T,
  FUZZ_SN_SLA_T
} fuzz_sn_table;

/* Runs the ServiceNow case with `fuzzed` answering its table once (every
 * table answers an empty page after its first). */
static inline void fuzz_sn_run(fuzz_sn_table fuzzed, const uint8_t *data,
                               size_t size) {
  const char *body = size ? (const char *)data : "";
  const ib_replay_rule rules[] = {
      {"GET", "*/api/now/table/incident?*", 200, NULL,
       fuzzed == FUZZ_SN_TABLE ? body : FUZZ_SN_INCIDENTS,
       fuzzed == FUZZ_SN_TABLE ? size : 0, 1},
      {"GET", "*/api/now/table/cmdb_ci_outage?*", 200, NULL,
       fuzzed == FUZZ_SN_TABLE ? body : FUZZ_SN_EMPTY,
       fuzzed == FUZZ_SN_TABLE ? size : 0, 1},
      {"GET", "*/api/now/table/sys_audit?*", 200, NULL,
       fuzzed == FUZZ_SN_AUDIT_T ? body : FUZZ_SN_AUDIT,
       fuzzed == FUZZ_SN_AUDIT_T ? size : 0, 1},
      {"GET", "*/api/now/table/task_sla?*", 200, NULL,
       fuzzed == FUZZ_SN_SLA_T ? body : FUZZ_SN_SLAS,
       fuzzed == FUZZ_SN_SLA_T ? size : 0, 1},
      {"GET", "*/api/now/table/*", 200, NULL, FUZZ_SN_EMPTY, 0, 0},
  };
  fuzz_source_case c = {.config_text = FUZZ_SN_CONFIG,
                        .rules = rules,
                        .n_rules = sizeof rules / sizeof rules[0],
                        .max_requests = 64,
                        .kpi_from = "2026-09-01T00:00:00Z",
                        .kpi_to = "2026-11-01T00:00:00Z"};
  fuzz_source_run(&c);
}

#endif /* IB_FUZZ_SN_H */
