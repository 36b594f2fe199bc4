/*
 * fuzz_jira_changelog.c -- fuzz target: the Jira plugin end to end with
 * the input as the issue changelog pages (GET .../issue/KEY/changelog),
 * fetched because the canned search page embeds capped changelogs
 * (total > histories). Cloud and Data Center; replay transport, in-memory
 * store, KPI engine. Contracts: fuzz_source.h.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_jira.h"
#include "fuzz_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Two issues whose embedded changelogs are capped: 3 and 110 histories: two
 * parts. */
static const char search_page[] =
    "{\"startAt\":0,\"maxResults\":50,\"total\":2,\"isLast\":true,"
    "\"issues\":["
    "{\"id\":\"10001\",\"key\":\"SUP-1\",\"fields\":{"
    "\"issuetype\":{\"name\":\"Bug\"},\"priority\":{\"name\":\"High\"},"
    "\"status\":{\"name\":\"Done\",\"statusCategory\":{\"key\":\"done\"}},"
    "\"created\":\"2026-10-05T09:00:00.000+0200\","
    "\"updated\":\"2026-10-07T10:00:00.000+0200\","
    "\"resolutiondate\":\"2026-10-06T16:00:00.000+0200\","
    "\"labels\":[\"svc-ERP\"],\"summary\":\"ERP down\"},"
    "\"changelog\":{\"startAt\":0,\"maxResults\":0,\"total\":3,"
    "\"histories\":[]}},"
    "{\"id\":\"10002\",\"key\":\"SUP-2\",\"fields\":{"
    "\"issuetype\":{\"name\":\"Task\"},\"priority\":{\"name\":\"Lowest\"},"
    "\"status\":{\"name\":\"Waiting for customer\"},"
    "\"created\":\"2026-10-01T08:00:00.000+0200\","
    "\"updated\":\"2026-10-08T08:00:00.000+0200\",\"summary\":\"VPN\"},"
    "\"changelog\":{\"startAt\":0,\"maxResults\":1,\"total\":110,"
    "\"histories\":[{\"id\":\"1\",\"created\":"
    "\"2026-10-01T09:00:00.000+0200\",\"items\":[{\"field\":\"status\","
    "\"fromString\":\"To Do\",\"toString\":\"In Progress\"}]}]}}"
    "]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const ib_replay_rule rules[] = {
      {"GET", "*/rest/api/*/status", 200, NULL, FUZZ_JIRA_CATALOG, 0, 0},
      {"GET", "*/rest/api/*/search*", 200, NULL, search_page, 0, 1},
      {"GET", "*/rest/api/*/search*", 200, NULL, FUZZ_JIRA_EMPTY_SEARCH, 0, 0},
      {"GET", "*/rest/api/*/issue/*/changelog?*", 200, NULL,
       FUZZ_BODY(data, size), 0},
  };
  fuzz_source_case c = {.config_text = FUZZ_JIRA_CONFIG,
                        .rules = rules,
                        .n_rules = sizeof rules / sizeof rules[0],
                        .max_requests = 128,
                        .kpi_from = "2026-09-01T00:00:00Z",
                        .kpi_to = "2026-11-01T00:00:00Z"};
  fuzz_source_run(&c);
  return 0;
}
