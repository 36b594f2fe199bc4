/*
 * fuzz_sn_audit.c -- fuzz target: the ServiceNow plugin end to end with
 * the input as the sys_audit page of the canned incidents (pauses, first
 * response); the other tables get canned answers. Replay transport, in-memory
 * store, KPI engine. Contracts: fuzz_source.h.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_sn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_sn_run(FUZZ_SN_AUDIT_T, data, size);
  return 0;
}
