/*
 * raw_map.h -- what the store holds of one source's records as raw
 * digests (plugin.h, raw_unchanged): an open-addressing map from the
 * 64-bit digest of a record's id to the raw digest it was stored with, so
 * that a sync answers "unchanged?" without a store query per record.
 * Memory: 16 bytes per slot, at most 4/3 slots per record (about 21 bytes
 * per stored record). Knows neither the store nor plugins.
 */
#ifndef IB_RAW_MAP_H
#define IB_RAW_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct ib_raw_slot {
  uint64_t key;   /* digest of the id, 0 = empty */
  uint64_t value; /* the raw digest, 0 = never matches */
} ib_raw_slot;

typedef struct ib_raw_map {
  ib_raw_slot *slots; /* owned: ib_raw_map_free; key and value side by side:
                         one cache line per probe */
  size_t mask;        /* slots - 1 (a power of two), or 0 with no slots */
  size_t n;
  int loaded; /* filled from the store for this run */
} ib_raw_map;

/* Records that `id` is stored with raw digest `raw` (never 0). Two ids
 * whose digests collide both stop matching: never a wrong "unchanged".
 * -1 on ENOMEM. */
int ib_raw_map_put(ib_raw_map *m, const char *id, uint64_t raw);
/* Whether `id` is stored with raw digest `raw`. */
int ib_raw_map_matches(const ib_raw_map *m, const char *id, uint64_t raw);
/* `id` was written during this run: it matches nothing any more (a later
 * copy of it in the same run is compared with what was written). */
void ib_raw_map_forget(ib_raw_map *m, const char *id);
void ib_raw_map_free(ib_raw_map *m);

/* The digest a record's raw form is stored and compared as: the plugin's
 * digest keyed by the source's fingerprint (its plugin, version and
 * configuration), never 0. 0 for a plugin digest of 0 (none). */
uint64_t ib_raw_key(uint64_t fingerprint, uint64_t plugin_digest);

#endif /* IB_RAW_MAP_H */
