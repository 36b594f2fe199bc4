/*
 * raw_map.c -- see raw_map.h. Records are appended in store order; the
 * index (linear probing over a power-of-two table of 32-bit positions) is
 * built only when a record is asked out of order. Must not allocate per
 * record.
 */
#include "raw_map.h"

#include <stdlib.h>
#include <string.h>

#include "hash64.h"

#define ID_SEED UINT64_C(0x6964732d6f662d31) /* "ids-of-1" */
/* Positions are stored + 1 in 32 bits, 0 meaning an empty slot. */
#define MAX_RECORDS ((size_t)UINT32_MAX - 1)

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

/* The slot holding key k, or the empty slot where it goes. */
static uint32_t *slot_of(const ib_raw_map *m, uint64_t k) {
  size_t i = (size_t)k & m->mask;
  while (m->slots[i] != 0 && m->seq[m->slots[i] - 1].key != k)
    i = (i + 1) & m->mask;
  return &m->slots[i];
}

/* Indexes position `at`. Two records with one key: neither is trusted
 * (the slot keeps the first). */
static void index_one(ib_raw_map *m, size_t at) {
  uint32_t *s = slot_of(m, m->seq[at].key);
  if (*s != 0) {
    m->seq[*s - 1].value = 0;
    m->seq[at].value = 0;
    return;
  }
  *s = (uint32_t)(at + 1);
}

/* (Re)builds the index for every record, sized for `want` of them. */
static int build_index(ib_raw_map *m, size_t want) {
  size_t n = 1024;
  while (n / 4 * 3 < want) {
    if (n > SIZE_MAX / 2 / sizeof *m->slots) return -1;
    n *= 2;
  }
  uint32_t *slots = calloc(n, sizeof *slots);
  if (slots == NULL) return -1;
  free(m->slots);
  m->slots = slots;
  m->mask = n - 1;
  for (size_t i = 0; i < m->n; i++) index_one(m, i);
  return 0;
}

/* Out of memory for the index: forget everything, so that nothing is
 * wrongly taken as unchanged. */
static void empty(ib_raw_map *m) {
  int loaded = m->loaded;
  ib_raw_map_free(m);
  m->loaded = loaded;
}

/* Where key k is, by the index (built here the first time): 0 found,
 * -1 not found (or no memory: then the map is emptied). */
static int find(ib_raw_map *m, uint64_t k, size_t *at) {
  if (m->slots == NULL && build_index(m, m->n) != 0) {
    empty(m);
    return -1;
  }
  uint32_t s = *slot_of(m, k);
  if (s == 0) return -1;
  *at = s - 1;
  return 0;
}

int ib_raw_map_put(ib_raw_map *m, const char *id, uint64_t raw) {
  if (m->n == m->cap) {
    if (m->n >= MAX_RECORDS) return -1;
    size_t cap = m->cap ? m->cap * 2 : 1024;
    if (cap > MAX_RECORDS) cap = MAX_RECORDS;
    ib_raw_entry *grown = realloc(m->seq, cap * sizeof *grown);
    if (grown == NULL) return -1;
    m->seq = grown;
    m->cap = cap;
  }
  /* Keep an existing index complete (it is rebuilt when too full). */
  if (m->slots != NULL && (m->n + 1) * 4 > (m->mask + 1) * 3 &&
      build_index(m, (m->n + 1) * 2) != 0)
    return -1;
  m->seq[m->n].key = id_key(id);
  m->seq[m->n].value = raw;
  m->n++;
  if (m->slots != NULL) index_one(m, m->n - 1);
  return 0;
}

int ib_raw_map_matches(ib_raw_map *m, const char *id, uint64_t raw) {
  if (m->n == 0 || raw == 0) return 0;
  uint64_t k = id_key(id);
  size_t at = m->next;
  if ((at >= m->n || m->seq[at].key != k) && find(m, k, &at) != 0) return 0;
  m->next = at + 1;
  return m->seq[at].value == raw;
}

void ib_raw_map_forget(ib_raw_map *m, const char *id) {
  if (m->n == 0) return;
  uint64_t k = id_key(id);
  size_t at = m->next - 1; /* the record matched last, usually */
  if ((m->next == 0 || m->seq[at].key != k) && find(m, k, &at) != 0) return;
  m->seq[at].value = 0;
}

void ib_raw_map_free(ib_raw_map *m) {
  free(m->seq);
  free(m->slots);
  memset(m, 0, sizeof *m);
}
