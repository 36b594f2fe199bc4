/*
 * raw_map.h -- what the store holds of one source's records as raw
 * digests (plugin.h, raw_unchanged), so that a sync answers "unchanged?"
 * without a store query per record: the 64-bit digest of each record's id
 * with the raw digest it was stored with, kept in the order the store
 * gave them.
 *
 * A nightly export lists its records in the same order every night, and
 * the store reads them back in the order they were first written, so the
 * record asked about is almost always the one after the last one found:
 * that guess is checked first (a sequential read). Only a record out of
 * that order is looked up in an open-addressing index of positions, built
 * the first time one is needed. An unchanged export thus costs no random
 * memory access and no index at all.
 *
 * Memory: 16 bytes per stored record, plus at most 16/3 bytes per record
 * once the index exists (4-byte slots, at most 3/4 full). Knows neither the
 * store nor plugins.
 */
#ifndef IB_RAW_MAP_H
#define IB_RAW_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct ib_raw_entry {
  uint64_t key;   /* digest of the id, never 0 */
  uint64_t value; /* the raw digest, 0 = never matches */
} ib_raw_entry;

typedef struct ib_raw_map {
  ib_raw_entry *seq; /* owned (ib_raw_map_free): records in store order */
  size_t n, cap;
  size_t next;     /* position of the record expected next */
  uint32_t *slots; /* owned: index of positions + 1 (0 = empty), or NULL
                      until a record is asked out of order */
  size_t mask;     /* slots - 1 (a power of two) when slots != NULL */
  int loaded;      /* filled from the store for this run */
} ib_raw_map;

/* Records that `id` is stored with raw digest `raw` (never 0), after the
 * records put before it. Two records with the same id digest are trusted
 * for neither value once they are looked up by the index; at their own
 * positions each is compared with its own digest (a false "unchanged"
 * would need both the id digests and the raw digests to collide).
 * -1 on ENOMEM or past 2^32 - 2 records. */
int ib_raw_map_put(ib_raw_map *m, const char *id, uint64_t raw);
/* Whether `id` is stored with raw digest `raw`; moves the expected
 * position past `id`'s. Should the index be needed and memory be short,
 * the map empties itself: nothing matches any more, so records are
 * converted again, never wrongly skipped (and forget cannot fail). */
int ib_raw_map_matches(ib_raw_map *m, const char *id, uint64_t raw);
/* `id` was written during this run: it matches nothing any more (a later
 * copy of it in the same run is compared with what was written). */
void ib_raw_map_forget(ib_raw_map *m, const char *id);
void ib_raw_map_free(ib_raw_map *m);

/* The digest a record's raw form is stored and compared as: the plugin's
 * digest keyed by the source's fingerprint (its plugin, version and
 * configuration), never 0. 0 for a plugin digest of 0 (none). */
uint64_t ib_raw_key(uint64_t fingerprint, uint64_t plugin_digest);

#endif /* IB_RAW_MAP_H */
