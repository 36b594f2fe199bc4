/*
 * edition.h -- closed months (SPEC §9): the frozen document of a month's
 * figures (an *edition*) and the comparison of a frozen edition with a
 * recomputation. Pure: builds and compares cJSON documents from a KPI
 * result, the rows it was computed from and the configuration; must not
 * read the store, print or hash anything but what it documents.
 *
 * An edition (schema itsm-bridge.edition/1) holds: the month and its
 * period (from, to, as_of), when it was closed, the engine version, the
 * hash of the store's previous edition (the chain), the hash of the
 * edition it restates and why, the SLA/calendar/availability definitions
 * and their SHA-256, the count and SHA-256 of the input rows, the
 * `kpi --format json` document, and one row per ticket and KPI measured
 * (SLA, KPI, priority, target, measured seconds, verdict). Its hash is the
 * SHA-256 of its canonical text (canon_json.h); the hash is not inside.
 */
#ifndef IB_EDITION_H
#define IB_EDITION_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "kpi.h"
#include "model.h"

#define IB_EDITION_SCHEMA "itsm-bridge.edition/1"

typedef struct ib_edition_meta {
  const char *month;     /* "YYYY-MM" */
  ib_time closed_at;     /* when it was (or would be) closed */
  const char *prev_hash; /* the store's last edition, NULL for the first */
  const char *replaces;  /* the month's edition this one restates, or NULL */
  const char *reason;    /* why it is restated, NULL with replaces NULL */
  const char *engine;    /* "itsm-bridge 0.1.0" */
} ib_edition_meta;

/* The edition of `res` (computed over `tickets` and `outages`, with
 * per-ticket results kept). Owned by the caller (cJSON_Delete); NULL with
 * one line in err on ENOMEM. */
cJSON *ib_edition_build(const ib_config *cfg, const ib_kpi_result *res,
                        const ib_ticket_set *tickets,
                        const ib_outage_set *outages,
                        const ib_edition_meta *meta, char *err, size_t errlen);

/* The SHA-256 (hex) of the input rows, as documented in docs/evidence.md:
 * one canonical JSON line per ticket, then per outage, each sorted by
 * (source, id). -1 on ENOMEM. */
int ib_edition_inputs_digest(const ib_ticket_set *tickets,
                             const ib_outage_set *outages, char *hex_out);

/* Compares a frozen edition with the same month recomputed today
 * (`now`, built by ib_edition_build with the frozen as_of) into the
 * itsm-bridge.verify/1 document: figures of the kpi documents that differ
 * (path, old, new), per-ticket results that differ (old or new null when
 * the ticket left or entered a cohort) each with an empty "changes" array
 * for the caller to fill from the store's history, and credits that
 * differ. `hash` is the frozen edition's; chain_ok is stored as given.
 * "unchanged" is true when no figure and no ticket differ. Owned by the
 * caller; NULL on ENOMEM or a frozen document without the members an
 * edition must have (err says which). */
cJSON *ib_edition_compare(const cJSON *frozen, const cJSON *now,
                          const char *hash, int chain_ok, char *err,
                          size_t errlen);

#endif /* IB_EDITION_H */
