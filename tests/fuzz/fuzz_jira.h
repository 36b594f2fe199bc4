/*
 * fuzz_jira.h -- what the two Jira fuzz targets share: the source lists
 * (Cloud and Data Center, each with mappings, pause statuses, JSM SLA
 * fields) and the canned answers of the endpoints a target does not fuzz.
 * Only data; the harness is fuzz_source.h.
 */
#ifndef IB_FUZZ_JIRA_H
#define IB_FUZZ_JIRA_H

#include "common_cfg.h"

#define FUZZ_JIRA_OPTIONS                                                    \
  "    jql = \"project = SUP\"; page_size = 50;\n"                           \
  "    priorities = ( (\"Highest\", \"P1\"), (\"High\", \"P2\"),\n"          \
  "      (\"Medium\", \"P3\"), (\"Low\", \"P4\"), (\"Lowest\", \"P5\") );\n" \
  "    kinds = ( (\"Bug\", \"incident\"), (\"Task\", \"request\") );\n"      \
  "    pause_statuses = [ \"Waiting for customer\", \"Pending\" ];\n"

/* Cloud (*.atlassian.net: search/jql, nextPageToken) and Data Center
 * (search, startAt), first response by transition and by JSM SLA. */
#define FUZZ_JIRA_CONFIG                                                   \
  FUZZ_CFG_COMMON                                                          \
  "sources = (\n"                                                          \
  "  { name = \"cloud\"; plugin = \"jira\"; url = "                        \
  "\"https://fuzz.atlassian.net/\";\n" FUZZ_JIRA_OPTIONS                   \
  "    sla_fields = { first_response = \"customfield_10030\";\n"           \
  "                   resolution = \"customfield_10031\"; };\n"            \
  "    service_field = \"labels:svc-\"; },\n"                              \
  "  { name = \"dc\"; plugin = \"jira\"; url = \"https://jira.test\";\n"   \
  "    api = \"datacenter\";\n" FUZZ_JIRA_OPTIONS                          \
  "    first_response = \"sla:customfield_10030\";\n"                      \
  "    statuses = ( (\"To Do\", \"new\"), (\"Done\", \"resolved\") ); }\n" \
  ");\n"

#define FUZZ_JIRA_CATALOG                                                    \
  "[{\"id\":\"1\",\"name\":\"To Do\",\"statusCategory\":{\"key\":\"new\"}}," \
  "{\"id\":\"3\",\"name\":\"In Progress\",\"statusCategory\":{\"key\":"      \
  "\"indeterminate\"}},"                                                     \
  "{\"id\":\"4\",\"name\":\"Waiting for customer\",\"statusCategory\":"      \
  "{\"key\":\"indeterminate\"}},"                                            \
  "{\"id\":\"5\",\"name\":\"Done\",\"statusCategory\":{\"key\":\"done\"}}]"

#define FUZZ_JIRA_EMPTY_SEARCH \
  "{\"startAt\":0,\"total\":0,\"isLast\":true,\"issues\":[]}"

#endif /* IB_FUZZ_JIRA_H */
