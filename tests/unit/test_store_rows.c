/*
 * test_store_rows.c -- what both store backends share to write a record
 * (bridge/store/store_rows.c): the new/changed/unchanged decision of a put
 * (from the stored digest, then from the stored record), and the set of
 * (source, id) keys the PostgreSQL store uses to tell a second put of a
 * record in one page.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "store_rows.h"
#include "tz.h"

static ib_ticket_row ticket(const char *title, int priority) {
  ib_ticket_row t = {
      .source = "desk",
      .id = "T1",
      .key = "T1",
      .title = (char *)title,
      .kind = IB_KIND_INCIDENT,
      .priority = priority,
      .status = IB_STATE_OPEN,
      .created_at = 1790000000,
      .first_response_at = IB_TIME_NONE,
      .resolved_at = IB_TIME_NONE,
      .closed_at = IB_TIME_NONE,
      .updated_at = 1790000000,
      .deleted_at = IB_TIME_NONE,
  };
  return t;
}

static void first_step(void **state) {
  (void)state;
  ib_stored_digest none = {0};
  assert_int_equal(ib_put_first_step(&none, 42), IB_STEP_INSERT);
  ib_stored_digest same = {.exists = 1, .has_digest = 1, .digest = 42};
  assert_int_equal(ib_put_first_step(&same, 42), IB_STEP_SKIP);
  ib_stored_digest other = {.exists = 1, .has_digest = 1, .digest = 41};
  assert_int_equal(ib_put_first_step(&other, 42), IB_STEP_COMPARE);
  ib_stored_digest missing = {.exists = 1, .has_digest = 0};
  assert_int_equal(ib_put_first_step(&missing, 0), IB_STEP_COMPARE);
  ib_stored_digest deleted = {
      .exists = 1, .has_digest = 1, .digest = 42, .deleted = 1};
  assert_int_equal(ib_put_first_step(&deleted, 42), IB_STEP_COMPARE);
}

static void settle(void **state) {
  (void)state;
  ib_ticket_row old = ticket("Printer", 2), now = ticket("Printer", 2);
  ib_change_list changes = {0};
  ib_put_step step;
  /* Equal field by field: only the digest was missing. */
  assert_int_equal(
      ib_ticket_settle(&old, &now, ib_ticket_digest(&now), &changes, &step), 0);
  assert_int_equal(step, IB_STEP_SET_DIGEST);
  assert_int_equal(changes.n, 0);
  /* updated_at alone is no change. */
  now.updated_at += 3600;
  assert_int_equal(
      ib_ticket_settle(&old, &now, ib_ticket_digest(&now), &changes, &step), 0);
  assert_int_equal(step, IB_STEP_SET_DIGEST);
  /* A field differs: rewritten, the field recorded. */
  now.priority = 4;
  assert_int_equal(
      ib_ticket_settle(&old, &now, ib_ticket_digest(&now), &changes, &step), 0);
  assert_int_equal(step, IB_STEP_UPDATE);
  assert_int_equal(changes.n, 1);
  assert_string_equal(changes.items[0].field, "priority");
  assert_string_equal(changes.items[0].old_value, "P2");
  assert_string_equal(changes.items[0].new_value, "P4");
  ib_change_list_free(&changes);
  /* Deleted and equal: undeleted, the deletion's end recorded. */
  now = ticket("Printer", 2);
  old.deleted_at = 1790003600;
  assert_int_equal(
      ib_ticket_settle(&old, &now, ib_ticket_digest(&now), &changes, &step), 0);
  assert_int_equal(step, IB_STEP_UPDATE);
  assert_int_equal(changes.n, 1);
  assert_string_equal(changes.items[0].field, "deleted_at");
  assert_null(changes.items[0].new_value);
  ib_change_list_free(&changes);

  ib_put_counts counts = {0};
  ib_put_step steps[] = {IB_STEP_INSERT, IB_STEP_SKIP, IB_STEP_SET_DIGEST,
                         IB_STEP_UPDATE, IB_STEP_INSERT};
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
    ib_put_counts_add(&counts, steps[i]);
  assert_int_equal(counts.added, 2);
  assert_int_equal(counts.changed, 1);
  assert_int_equal(counts.unchanged, 2);
}

static void key_set(void **state) {
  (void)state;
  ib_key_set set = {0};
  char ids[3000][16];
  assert_false(ib_key_set_has(&set, "a", "1"));
  for (int i = 0; i < 3000; i++) { /* grows several times */
    snprintf(ids[i], sizeof ids[i], "id-%d", i);
    assert_int_equal(ib_key_set_add(&set, i % 2 ? "a" : "b", ids[i]), 0);
  }
  assert_int_equal(set.n, 3000);
  for (int i = 0; i < 3000; i++) {
    assert_true(ib_key_set_has(&set, i % 2 ? "a" : "b", ids[i]));
    assert_false(ib_key_set_has(&set, i % 2 ? "b" : "a", ids[i]));
  }
  /* The key is the pair: ("ab", "c") is not ("a", "bc"). */
  assert_int_equal(ib_key_set_add(&set, "ab", "c"), 0);
  assert_false(ib_key_set_has(&set, "a", "bc"));
  assert_int_equal(ib_key_set_add(&set, "ab", "c"), 0); /* already there */
  assert_int_equal(set.n, 3001);
  ib_key_set_clear(&set);
  assert_int_equal(set.n, 0);
  assert_false(ib_key_set_has(&set, "ab", "c"));
  assert_false(ib_key_set_has(&set, "a", "id-1"));
  ib_key_set_free(&set);
  assert_false(ib_key_set_has(&set, "a", "id-1"));
}

/* The change texts are computed without tz.c (the SQLite writer thread
 * may not call it) and must read exactly as ib_format_iso8601's. */
static void change_time_text(void **state) {
  (void)state;
  const ib_time fixed[] = {
      0,          -1,         86399,        86400,        951782400,
      951868799,  4107542399, 253402300799, -62135596800, -62167219200,
      1790000000, -86401};
  char a[IB_ISO_LEN], b[IB_ISO_LEN];
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
    ib_format_iso8601(fixed[i], b);
    assert_string_equal(ib_change_time_text(fixed[i], a), b);
  }
  /* every day of 1900-2100, at a time of day that moves */
  for (ib_time t = -2208988800; t < 4102444800; t += 86400 + 3607) {
    ib_format_iso8601(t, b);
    assert_string_equal(ib_change_time_text(t, a), b);
  }
  assert_null(ib_change_time_text(IB_TIME_NONE, a));
}

/* A page's set emptied for reuse (ib_ticket_set_clear): the next fill
 * gets the same string blocks and row array back, its texts intact, and
 * the pauses of the rows cleared are freed (ASan/valgrind would say). */
static void set_clear_reuses(void **state) {
  (void)state;
  ib_ticket_set set = {0};
  char text[200];
  memset(text, 'x', sizeof text - 1);
  text[sizeof text - 1] = '\0';
  for (int i = 0; i < 1000; i++) { /* about three 64 KiB blocks */
    ib_ticket_row *r = ib_ticket_set_add(&set);
    assert_non_null(r);
    r->title = ib_ticket_set_strdup(&set, text, strlen(text));
    assert_non_null(r->title);
    assert_int_equal(ib_row_add_pause(r, 1, 2), 0);
  }
  ib_ticket_row *rows = set.rows;
  const char *oldest = set.rows[0].title; /* start of the first block */
  ib_ticket_set_clear(&set);
  assert_int_equal(set.n, 0);
  assert_null(set.strings);
  assert_non_null(set.spare);
  for (int i = 0; i < 1000; i++) {
    ib_ticket_row *r = ib_ticket_set_add(&set);
    snprintf(text, sizeof text, "row %d", i);
    r->title = ib_ticket_set_strdup(&set, text, strlen(text));
    assert_non_null(r->title);
  }
  assert_ptr_equal(set.rows, rows);            /* the row array kept */
  assert_ptr_equal(set.rows[0].title, oldest); /* and the blocks */
  assert_non_null(set.spare); /* three of the four still spare */
  for (int i = 0; i < 1000; i++) {
    snprintf(text, sizeof text, "row %d", i);
    assert_string_equal(set.rows[i].title, text);
    assert_null(set.rows[i].pauses);
  }
  /* A text longer than a spare block gets its own. */
  ib_ticket_set_clear(&set);
  static char big[70 * 1024];
  memset(big, 'y', sizeof big - 1);
  char *copy = ib_ticket_set_strdup(&set, big, sizeof big - 1);
  assert_non_null(copy);
  assert_int_equal(strlen(copy), sizeof big - 1);
  ib_ticket_set_free(&set);
  assert_null(set.spare);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(first_step),       cmocka_unit_test(settle),
      cmocka_unit_test(key_set),          cmocka_unit_test(change_time_text),
      cmocka_unit_test(set_clear_reuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
