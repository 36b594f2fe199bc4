/*
 * fuzz_jira_search.c -- fuzz target: the Jira plugin end to end with the
 * input as the first search page (Cloud search/jql and Data Center
 * search alike; later pages are empty, the status catalogue and capped
 * changelogs get canned answers), through the replay transport into an
 * in-memory store and the KPI engine. Contracts: fuzz_source.h.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_jira.h"
#include "fuzz_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const ib_replay_rule rules[] = {
      {"GET", "*/rest/api/*/status", 200, NULL, FUZZ_JIRA_CATALOG, 0, 0},
      {"GET", "*/rest/api/*/search*", 200, NULL, FUZZ_BODY(data, size), 1},
      {"GET", "*/rest/api/*/search*", 200, NULL, FUZZ_JIRA_EMPTY_SEARCH, 0, 0},
      {"GET", "*/rest/api/*/issue/*/changelog?*", 200, NULL,
       "{\"startAt\":0,\"total\":0,\"isLast\":true,\"values\":[]}", 0, 0},
  };
  fuzz_source_case c = {.config_text = FUZZ_JIRA_CONFIG,
                        .rules = rules,
                        .n_rules = sizeof rules / sizeof rules[0],
                        .max_requests = 64,
                        .kpi_from = "2026-09-01T00:00:00Z",
                        .kpi_to = "2026-11-01T00:00:00Z"};
  fuzz_source_run(&c);
  return 0;
}
