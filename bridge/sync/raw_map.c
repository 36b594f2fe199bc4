/*
 * raw_map.c -- see raw_map.h. Linear probing over power-of-two tables;
 * grows by doubling at 3/4 full. Must not allocate per record.
 */
#define _DEFAULT_SOURCE /* posix_memalign, madvise */
#include "raw_map.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hash64.h"

#define ID_SEED UINT64_C(0x6964732d6f662d31) /* "ids-of-1" */

static uint64_t id_key(const char *id) {
  uint64_t k = ib_hash64(ID_SEED, id, strlen(id));
  return k != 0 ? k : 1;
}

uint64_t ib_raw_key(uint64_t fingerprint, uint64_t plugin_digest) {
  if (plugin_digest == 0) return 0;
  unsigned char b[8];
  for (int i = 0; i < 8; i++) b[i] = (unsigned char)(plugin_digest >> (8 * i));
  uint64_t k = ib_hash64(fingerprint, b, sizeof b);
  return k != 0 ? k : 1;
}

/* The slot of key k: where it is, or the empty slot where it goes. */
static ib_raw_slot *slot_of(const ib_raw_map *m, uint64_t k) {
  size_t i = (size_t)k & m->mask;
  while (m->slots[i].key != 0 && m->slots[i].key != k) i = (i + 1) & m->mask;
  return &m->slots[i];
}

static int grow(ib_raw_map *m) {
  size_t n = m->mask ? (m->mask + 1) * 2 : 1024;
  if (n > SIZE_MAX / sizeof(ib_raw_slot)) return -1;
  /* Probes land anywhere in the table: on 2 MiB pages, a big table costs
   * cache misses but no TLB misses (a hint; ignored where unsupported). */
  size_t bytes = n * sizeof(ib_raw_slot), huge = (size_t)2 << 20;
  void *mem = NULL;
  if (bytes >= huge ? posix_memalign(&mem, huge, bytes) != 0
                    : (mem = malloc(bytes)) == NULL)
    return -1;
#ifdef MADV_HUGEPAGE
  if (bytes >= huge) (void)madvise(mem, bytes, MADV_HUGEPAGE);
#endif
  ib_raw_slot *slots = memset(mem, 0, bytes);
  ib_raw_map bigger = {
      .slots = slots, .mask = n - 1, .n = m->n, .loaded = m->loaded};
  for (size_t i = 0; m->mask && i <= m->mask; i++)
    if (m->slots[i].key != 0) *slot_of(&bigger, m->slots[i].key) = m->slots[i];
  free(m->slots);
  *m = bigger;
  return 0;
}

int ib_raw_map_put(ib_raw_map *m, const char *id, uint64_t raw) {
  if ((m->n + 1) * 4 > (m->mask ? m->mask + 1 : 0) * 3 && grow(m) != 0)
    return -1;
  uint64_t k = id_key(id);
  ib_raw_slot *s = slot_of(m, k);
  if (s->key == k) {
    s->value = 0; /* two ids, one digest: neither is trusted */
    return 0;
  }
  s->key = k;
  s->value = raw;
  m->n++;
  return 0;
}

int ib_raw_map_matches(const ib_raw_map *m, const char *id, uint64_t raw) {
  if (m->mask == 0 || raw == 0) return 0;
  const ib_raw_slot *s = slot_of(m, id_key(id));
  return s->key != 0 && s->value == raw;
}

void ib_raw_map_forget(ib_raw_map *m, const char *id) {
  if (m->mask == 0) return;
  ib_raw_slot *s = slot_of(m, id_key(id));
  if (s->key != 0) s->value = 0;
}

void ib_raw_map_free(ib_raw_map *m) {
  free(m->slots);
  memset(m, 0, sizeof *m);
}
