/*
 * test_late_category.c -- the category of a late change
 * (ib_late_category_of, bridge/store/store_rows.c; the table in docs/kpi.md
 * "Late changes"): one stable word per recorded change, and no category for
 * a field that cannot move a figure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "store.h"

static const char *cat(const char *kind, const char *field, const char *old,
                       const char *now) {
  int c = ib_late_category_of(kind, field, old, now);
  return c < 0 ? NULL : ib_late_category_name((ib_late_category)c);
}

static void test_ticket_fields(void **state) {
  (void)state;
  assert_string_equal(cat("ticket", "created_at", "2026-10-31T22:00:00Z",
                          "2026-09-28T09:00:00Z"),
                      "created_backdated");
  assert_string_equal(cat("ticket", "created_at", "2026-10-01T08:00:00Z",
                          "2026-10-02T08:00:00Z"),
                      "created_moved");
  assert_string_equal(cat("ticket", "priority", "P1", "P3"),
                      "priority_changed");
  assert_string_equal(cat("ticket", "kind", "incident", "request"),
                      "kind_changed");
  assert_string_equal(
      cat("ticket", "first_response_at", NULL, "2026-10-05T09:10:00Z"),
      "response_moved");
  assert_string_equal(
      cat("ticket", "resolved_at", "2026-10-05T12:00:00Z", NULL),
      "resolution_moved");
  assert_string_equal(cat("ticket", "service", "ERP", "CRM"), "other");
  assert_string_equal(
      cat("ticket", "reported_resolution_breached", "breached", NULL), "other");
  assert_string_equal(cat("ticket", "reported_response_breached", NULL, "met"),
                      "other");
}

static void test_pauses(void **state) {
  (void)state;
  const char *one = "2026-10-05T10:00:00Z/2026-10-05T11:00:00Z";
  const char *two =
      "2026-10-05T10:00:00Z/2026-10-05T11:00:00Z;2026-10-06T10:00:00Z/";
  const char *longer = "2026-10-05T10:00:00Z/2026-10-05T12:00:00Z";
  assert_string_equal(cat("ticket", "pauses", NULL, one), "pauses_added");
  assert_string_equal(cat("ticket", "pauses", one, two), "pauses_added");
  assert_string_equal(cat("ticket", "pauses", one, longer), "pauses_changed");
  assert_string_equal(cat("ticket", "pauses", two, one), "pauses_changed");
  assert_string_equal(cat("ticket", "pauses", one, NULL), "pauses_changed");
}

static void test_status_and_deletion(void **state) {
  (void)state;
  assert_string_equal(cat("ticket", "status", "open", "cancelled"),
                      "cancelled");
  assert_string_equal(cat("ticket", "status", "cancelled", "open"),
                      "uncancelled");
  /* what a resolution does to a figure is its resolved_at change */
  assert_null(cat("ticket", "status", "open", "resolved"));
  assert_string_equal(cat("ticket", "deleted_at", NULL, "2026-11-30T23:00:00Z"),
                      "deleted");
  assert_string_equal(cat("ticket", "deleted_at", "2026-11-30T23:00:00Z", NULL),
                      "undeleted");
}

static void test_no_figure_moves(void **state) {
  (void)state;
  assert_null(cat("ticket", "title", "a", "b"));
  assert_null(cat("ticket", "key", "SUP-1", "SUP-2"));
  assert_null(cat("ticket", "group", "L1", "L2"));
  assert_null(cat("ticket", "closed_at", NULL, "2026-11-01T00:00:00Z"));
  assert_null(cat(NULL, "priority", "P1", "P2"));
}

static void test_outages(void **state) {
  (void)state;
  assert_string_equal(
      cat("outage", "end", "2026-10-07T09:00:00Z", "2026-10-07T10:00:00Z"),
      "outage_changed");
  assert_string_equal(cat("outage", "kind", "outage", "planned"),
                      "outage_changed");
  assert_string_equal(cat("outage", "deleted_at", NULL, "2026-11-30T23:00:00Z"),
                      "outage_deleted");
  assert_string_equal(cat("outage", "deleted_at", "2026-11-30T23:00:00Z", NULL),
                      "outage_changed");
}

static void test_names(void **state) {
  (void)state;
  /* every category has its own word; out of range reads "other" */
  for (int a = 0; a < IB_LATE_COUNT; a++)
    for (int b = a + 1; b < IB_LATE_COUNT; b++)
      assert_string_not_equal(ib_late_category_name((ib_late_category)a),
                              ib_late_category_name((ib_late_category)b));
  assert_string_equal(ib_late_category_name(IB_LATE_COUNT), "other");
}

static void test_list(void **state) {
  (void)state;
  ib_late_change_list list = {0};
  ib_late_change c = {.seq = 3,
                      .source = "desk",
                      .id = "T1",
                      .key = NULL,
                      .kind = "ticket",
                      .field = "priority",
                      .old_value = "P1",
                      .new_value = NULL,
                      .category = IB_LATE_PRIORITY_CHANGED};
  for (int i = 0; i < 40; i++) /* past the first growth */
    assert_int_equal(ib_late_change_list_add(&list, &c), 0);
  assert_int_equal(list.n, 40);
  assert_ptr_not_equal(list.items[39].source, c.source); /* a copy */
  assert_string_equal(list.items[39].old_value, "P1");
  assert_null(list.items[39].key);
  assert_null(list.items[39].new_value);
  ib_late_change_list_free(&list);
  assert_int_equal(list.n, 0);
  assert_null(list.items);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ticket_fields),
      cmocka_unit_test(test_pauses),
      cmocka_unit_test(test_status_and_deletion),
      cmocka_unit_test(test_no_figure_moves),
      cmocka_unit_test(test_outages),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_list),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
