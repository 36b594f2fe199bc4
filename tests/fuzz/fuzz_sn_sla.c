/*
 * fuzz_sn_sla.c -- fuzz target: the ServiceNow plugin end to end with
 * the input as the task_sla page of the canned incidents (reported verdicts);
 * the other tables get canned answers. Replay transport, in-memory store, KPI
 * engine. Contracts: fuzz_source.h.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_sn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_sn_run(FUZZ_SN_SLA_T, data, size);
  return 0;
}
