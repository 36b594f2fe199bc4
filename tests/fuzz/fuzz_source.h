/*
 * fuzz_source.h -- the shared end-to-end harness of the plugin fuzz
 * targets: a configuration text, a plugin descriptor and (for HTTP
 * plugins) a replay table go in; the real host services run the real
 * plugin into an in-memory SQLite store, then the KPI engine and its JSON
 * writer run over what was stored. Checks the contracts every input must
 * keep and abort()s (a crash for the fuzzer) when one breaks. Must hold
 * no parser of its own and no target-specific logic.
 */
#ifndef IB_FUZZ_SOURCE_H
#define IB_FUZZ_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "itsm_bridge/plugin.h"
#include "replay.h"

/* How the plugin targets get their plugin: the plugin's sources are
 * linked into the fuzzer (tests/CMakeLists.txt), and ib_plugin_entry() of
 * that one plugin is called directly, as the loader would after dlopen.
 * Linking statically (rather than dlopen of build/plugins/NAME.so) lets
 * the plugin code carry the fuzzer's coverage and sanitizer
 * instrumentation without a second, instrumented plugin build, and keeps
 * one binary per target for valgrind and libFuzzer alike. */
const ib_plugin *ib_plugin_entry(void);

typedef struct fuzz_source_case {
  /* A whole bridge.cfg; its store must be ":memory:". Every source in it
   * is synced, in order, with `plugin`. */
  const char *config_text;
  const ib_replay_rule *rules; /* NULL for file plugins */
  size_t n_rules;
  size_t max_requests; /* replay budget per source */
  /* ISO instants of the KPI period when the store holds no ticket created
   * in 1970..2100; else the 60 days around the latest creation. */
  const char *kpi_from;
  const char *kpi_to;
} fuzz_source_case;

/* The body and body_len of a replay rule answering with the fuzz input
 * (an empty input is an empty body, not strlen of a non-terminated one). */
#define FUZZ_BODY(data, size) ((size) ? (const char *)(data) : ""), (size)

/* Runs the case; returns normally unless a contract broke (abort). */
void fuzz_source_run(const fuzz_source_case *c);

/* A memfd holding data[0..size): its "/proc/self/fd/N" path goes into
 * path (at least 32 bytes). Returns the fd (close it), or -1. */
int fuzz_memfd(const char *name, const uint8_t *data, size_t size, char *path,
               size_t pathlen);

#endif /* IB_FUZZ_SOURCE_H */
