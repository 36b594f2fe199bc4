/*
 * source.h -- one configured source at work: validates its settings
 * against the plugin's declared options, offers the host services of
 * plugin.h to the plugin, and runs one sync into the store (page commits
 * with the watermark, rejections, progress, --full deletion marking).
 */
#ifndef IB_SOURCE_H
#define IB_SOURCE_H

#include <signal.h>

#include "config.h"
#include "itsm_bridge/plugin.h"
#include "scrub.h"
#include "store.h"

#define IB_MAX_REASONS 5
/* Default share (%) of a source's records one sync --full may delete. */
#define IB_MAX_DELETE_PCT_DEFAULT "10"

/* sync --dry-run: where the normalised records go instead of the store.
 * Each callback returns 0, or -1 when the record could not be written (the
 * source then fails). The rows are the host's, valid during the call. */
typedef struct ib_record_sink {
  int (*ticket)(void *ctx, const ib_ticket_row *t);
  int (*outage)(void *ctx, const ib_outage_row *o);
  void *ctx; /* borrowed */
} ib_record_sink;

typedef struct ib_sync_options {
  int full;      /* re-read everything, mark vanished records deleted */
  ib_time since; /* --since, or IB_TIME_NONE */
  int verbose;   /* debug logs and HTTP traces */
  int quiet;     /* errors only */
  int progress;  /* draw progress (stderr is a terminal) */
  /* The run's scrubber (every secret of every source synced), applied to
   * each line logged, each rejection reason and the error stored; borrowed.
   * NULL: the sync builds one from its own source's secrets. */
  const ib_scrubber *scrub;
  int allow_mass_delete; /* --full may delete beyond max_delete_pct */
  /* Dry run (borrowed; NULL: a real sync): records go to the sink and
   * nothing is read from or written to a store (pass st = NULL): no
   * watermark, run row, rejected list, lock nor re-read of records rejected
   * earlier. Rejections are printed on stderr, one line each. Without
   * `since` it reads as a first sync (initial_since). `full` must be 0. */
  const ib_record_sink *dry_run;
  /* Dry run: the plugin is told to stop (emit_* answer IB_ERR_ABORTED,
   * should_stop() turns true) once this many records were read, emitted or
   * rejected; the source still succeeds. 0: no limit. */
  int64_t limit;
} ib_sync_options;

typedef struct ib_sync_result {
  ib_status status;
  int64_t read;   /* records the plugin produced (stored + rejected) */
  int64_t stored; /* added + changed + unchanged */
  /* What storing did (SPEC §9 History): new records, records with a
   * changed field (recorded in the store's changes), records equal to the
   * stored version (not rewritten). */
  int64_t added;
  int64_t changed;
  int64_t unchanged;
  int64_t rejected;
  int64_t deleted; /* marked deleted by --full */
  /* Records rejected by an earlier sync and read again by id (fetch), and
   * how many of them were stored this time (included in the counts above). */
  int64_t refetched;
  int64_t recovered;
  int64_t still_rejected; /* listed as rejected in the store after the run */
  int64_t repaired;       /* records stored with invalid UTF-8 replaced */
  double elapsed_s;
  char error[512];                   /* when status != IB_OK */
  char reasons[IB_MAX_REASONS][256]; /* first rejections */
  int n_reasons;
} ib_sync_result;

/* Set by the signal handlers: asks the running sync to stop. */
extern volatile sig_atomic_t ib_stop_requested;

/* The keys the host owns in every source, and in those of plugins with
 * IB_PLUGIN_FLAG_HTTP (checked by ib_source_validate, documented by
 * `plugins --describe`). Terminated by a {NULL} entry. */
const ib_option_def *ib_source_common_options(void);
const ib_option_def *ib_source_http_options(void);

/* Checks the source's keys: host-owned ones and the plugin's declared
 * options (types, required, unknown). 0 or -1 with "file:line: message". */
int ib_source_validate(const ib_config *cfg, const ib_source_cfg *sc,
                       const ib_plugin *plugin, char *err, size_t errlen);

/* Registers in s the secret values of source sc: the values of the
 * variables its auth.*_env keys (and the plugin's secret options) name, and
 * the content of its auth.token_file. Unset or unreadable ones are skipped
 * (the sync reports them). 0, or -1 on ENOMEM. */
int ib_source_add_secrets(const ib_source_cfg *sc, const ib_plugin *plugin,
                          ib_scrubber *s);

/* Runs one sync of `sc` with `plugin` into `st` (NULL with opt->dry_run).
 * Returns 0 when the source succeeded, -1 otherwise (details in *res). */
int ib_source_sync(const ib_config *cfg, const ib_source_cfg *sc,
                   const ib_plugin *plugin, ib_store *st,
                   const ib_sync_options *opt, ib_sync_result *res);

#endif /* IB_SOURCE_H */
