/*
 * test_store_pages.c -- the write-behind pages of both stores (store.h:
 * begin / commit / rollback / ib_store_finish_pages): a commit gives back
 * the outcomes of the pages written before it and finish_pages those of
 * the rest; a read or write inside a page sees and joins the records put
 * in it; rollback forgets the open page only; the caller's strings are
 * copied; close writes the page handed over; a page refused in the
 * background is reported once, with nothing of it stored; an id put twice
 * in one page and again in the next page is compared with its last
 * version (a first load, whose new records PostgreSQL inserts without a
 * lookup). Runs on SQLite; with IB_PAGES_PG_URL (a database of a
 * throwaway server: test_store_pages_pg.sh) also on PostgreSQL, whose
 * store schema it drops before each test.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pq_lib.h"
#include "store.h"

typedef struct fixture {
  char dir[64];
  char path[128];
  const char *pg_url; /* NULL: the SQLite store at path */
  ib_store_cfg cfg;
  ib_store *st;
} fixture;

/* Runs sql on the PostgreSQL test database; 0 when it succeeded. */
static int pg_exec(const char *url, const char *sql) {
  PGconn *c = PQconnectdb(url);
  int rc = -1;
  if (PQstatus(c) == CONNECTION_OK) {
    PGresult *res = PQexec(c, sql);
    rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc) fprintf(stderr, "%s", PQerrorMessage(c));
    PQclear(res);
  } else {
    fprintf(stderr, "%s", PQerrorMessage(c));
  }
  PQfinish(c);
  return rc;
}

static int open_store(fixture *f) {
  char err[512];
  f->st = ib_store_open(&f->cfg, err, sizeof err);
  if (f->st == NULL) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  return 0;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/ib_pages_XXXXXX");
  if (mkdtemp(f->dir) == NULL) return -1;
  snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
  f->cfg.path = f->path;
  *state = f;
  return open_store(f);
}

static int setup_pg(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  f->dir[0] = '\0';
  f->pg_url = f->cfg.url = getenv("IB_PAGES_PG_URL");
  *state = f;
  if (pg_exec(f->pg_url, "DROP SCHEMA IF EXISTS itsm_bridge_store CASCADE"))
    return -1;
  return open_store(f);
}

static int teardown(void **state) {
  fixture *f = *state;
  ib_store_close(f->st);
  if (f->pg_url == NULL) {
    char p[160];
    const char *suffixes[] = {"", "-wal", "-shm", ".lock"};
    for (size_t i = 0; i < 4; i++) {
      snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
      unlink(p);
    }
    rmdir(f->dir);
  }
  free(f);
  return 0;
}

static int try_put(ib_store *st, const char *id, const char *title, char *err,
                   size_t errlen) {
  ib_ticket_row t = {.source = "desk",
                     .id = (char *)id,
                     .title = (char *)title,
                     .kind = IB_KIND_INCIDENT,
                     .priority = 2,
                     .status = IB_STATE_OPEN,
                     .created_at = 1790000000,
                     .first_response_at = IB_TIME_NONE,
                     .resolved_at = IB_TIME_NONE,
                     .closed_at = IB_TIME_NONE,
                     .updated_at = 1790000000,
                     .deleted_at = IB_TIME_NONE};
  return ib_store_put_ticket(st, &t, 0, err, errlen);
}

static void put(ib_store *st, const char *id, const char *title) {
  char err[512] = "";
  int rc = try_put(st, id, title, err, sizeof err);
  if (rc != 0) fprintf(stderr, "%s\n", err);
  assert_int_equal(rc, 0);
}

static void commit(ib_store *st, ib_put_counts *done) {
  char err[512] = "";
  int rc = ib_store_commit(st, done, err, sizeof err);
  if (rc != 0) fprintf(stderr, "%s\n", err);
  assert_int_equal(rc, 0);
}

static void finish(ib_store *st, ib_put_counts *done) {
  char err[512] = "";
  int rc = ib_store_finish_pages(st, done, err, sizeof err);
  if (rc != 0) fprintf(stderr, "%s\n", err);
  assert_int_equal(rc, 0);
}

/* The title stored for id, or "" when it is not stored. */
static const char *title_of(ib_store *st, const char *id, char *buf,
                            size_t len) {
  char err[512] = "";
  ib_ticket_set set = {0};
  assert_int_equal(ib_store_load_tickets(st, IB_TIME_NONE, IB_TIME_NONE, &set,
                                         err, sizeof err),
                   0);
  buf[0] = '\0';
  for (size_t i = 0; i < set.n; i++)
    if (strcmp(set.rows[i].id, id) == 0)
      snprintf(buf, len, "%s", set.rows[i].title);
  ib_ticket_set_free(&set);
  return buf;
}

/* Page 1 (T1 "one") committed, page 2 begun with T2 titled `title`. */
static void one_page_then_another(ib_store *st, const char *title) {
  char err[512];
  ib_put_counts done;
  assert_int_equal(ib_store_begin(st, err, sizeof err), 0);
  put(st, "T1", "one");
  commit(st, &done);
  assert_int_equal(ib_store_begin(st, err, sizeof err), 0);
  put(st, "T2", title);
}

static void counts_come_back_later(void **state) {
  fixture *f = *state;
  char err[512];
  ib_put_counts done = {-1, -1, -1};
  assert_int_equal(ib_store_begin(f->st, err, sizeof err), 0);
  put(f->st, "T1", "one");
  put(f->st, "T2", "two");
  put(f->st, "T3", "three");
  commit(f->st, &done); /* nothing written before it */
  assert_int_equal(done.added + done.changed + done.unchanged, 0);
  assert_int_equal(ib_store_begin(f->st, err, sizeof err), 0);
  put(f->st, "T1", "one, edited");
  put(f->st, "T4", "four");
  put(f->st, "T2", "two");
  commit(f->st, &done); /* the first page's */
  assert_int_equal(done.added, 3);
  assert_int_equal(done.changed, 0);
  assert_int_equal(done.unchanged, 0);
  finish(f->st, &done); /* the second page's */
  assert_int_equal(done.added, 1);
  assert_int_equal(done.changed, 1);
  assert_int_equal(done.unchanged, 1);
  finish(f->st, &done); /* nothing left */
  assert_int_equal(done.added + done.changed + done.unchanged, 0);
  char buf[64];
  assert_string_equal(title_of(f->st, "T1", buf, sizeof buf), "one, edited");
}

static void reads_in_a_page_see_it(void **state) {
  fixture *f = *state;
  char buf[64];
  ib_put_counts done;
  one_page_then_another(f->st, "two");
  /* A read waits for the first page and writes this one's records. */
  assert_string_equal(title_of(f->st, "T1", buf, sizeof buf), "one");
  assert_string_equal(title_of(f->st, "T2", buf, sizeof buf), "two");
  put(f->st, "T3", "three"); /* written at once from now on */
  commit(f->st, &done);
  assert_int_equal(done.added, 3);
  finish(f->st, &done);
  assert_int_equal(done.added, 0);
  assert_string_equal(title_of(f->st, "T3", buf, sizeof buf), "three");
}

static void rollback_forgets_the_open_page(void **state) {
  fixture *f = *state;
  char err[512], buf[64];
  ib_put_counts done;
  one_page_then_another(f->st, "two");
  assert_int_equal(
      ib_store_set_watermark(f->st, "desk", 1790000000, err, sizeof err), 0);
  ib_store_rollback(f->st);
  finish(f->st, &done);
  assert_int_equal(done.added, 1); /* the page committed before stays */
  assert_string_equal(title_of(f->st, "T1", buf, sizeof buf), "one");
  assert_string_equal(title_of(f->st, "T2", buf, sizeof buf), "");
  ib_source_state s;
  assert_int_equal(ib_store_source_state(f->st, "desk", 0, &s, err, sizeof err),
                   0);
  assert_true(s.watermark == IB_TIME_NONE);
}

static void the_callers_strings_are_copied(void **state) {
  fixture *f = *state;
  char err[512], buf[64];
  char id[16], title[32];
  ib_put_counts done;
  assert_int_equal(ib_store_begin(f->st, err, sizeof err), 0);
  for (int i = 0; i < 100; i++) {
    snprintf(id, sizeof id, "T%d", i);
    snprintf(title, sizeof title, "title %d", i);
    put(f->st, id, title);
  }
  memset(id, 'x', sizeof id - 1);
  memset(title, 'y', sizeof title - 1);
  commit(f->st, &done);
  finish(f->st, &done);
  assert_int_equal(done.added, 100);
  assert_string_equal(title_of(f->st, "T57", buf, sizeof buf), "title 57");
}

static void close_writes_the_page_handed_over(void **state) {
  fixture *f = *state;
  char err[512], buf[64];
  one_page_then_another(f->st, "never committed");
  ib_store_close(f->st);
  f->st = ib_store_open(&f->cfg, err, sizeof err);
  assert_non_null(f->st);
  assert_string_equal(title_of(f->st, "T1", buf, sizeof buf), "one");
  assert_string_equal(title_of(f->st, "T2", buf, sizeof buf), "");
}

/* Makes the store refuse to insert ticket `id` (a trigger). */
static void refuse(fixture *f, const char *id) {
  char sql[512];
  if (f->pg_url) {
    snprintf(sql, sizeof sql,
             "CREATE FUNCTION itsm_bridge_store.refuse() RETURNS trigger "
             "LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'refused by "
             "test'; END$$; CREATE TRIGGER refuse BEFORE INSERT ON "
             "itsm_bridge_store.tickets FOR EACH ROW WHEN (NEW.id = '%s') "
             "EXECUTE FUNCTION itsm_bridge_store.refuse()",
             id);
    assert_int_equal(pg_exec(f->pg_url, sql), 0);
    return;
  }
  sqlite3 *db;
  snprintf(sql, sizeof sql,
           "CREATE TRIGGER refuse BEFORE INSERT ON tickets WHEN NEW.id = "
           "'%s' BEGIN SELECT RAISE(ABORT, 'refused by test'); END",
           id);
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

static void a_refused_page_is_reported_once(void **state) {
  fixture *f = *state;
  char err[512] = "", buf[64];
  ib_put_counts done = {0};
  refuse(f, "T3");
  one_page_then_another(f->st, "two");
  put(f->st, "T3", "three");
  assert_int_equal(
      ib_store_set_watermark(f->st, "desk", 1790000000, err, sizeof err), 0);
  assert_int_equal(
      ib_store_put_rejected(f->st, "desk", "R1", "line 9", "bad date",
                            1790000000, err, sizeof err),
      0);
  commit(f->st, &done); /* hands the refused page over */
  assert_int_equal(done.added, 1);
  /* The next begin or put (when the writer is done already) or commit
   * reports it; the page then open is dropped. */
  int rc = ib_store_begin(f->st, err, sizeof err);
  if (rc == 0) rc = try_put(f->st, "T4", "four", err, sizeof err);
  if (rc == 0) rc = ib_store_commit(f->st, &done, err, sizeof err);
  assert_int_equal(rc, -1);
  /* SQLite names the ticket, PostgreSQL the page (its first id). */
  assert_non_null(strstr(err, f->pg_url ? "page of 2 tickets of source 'desk'"
                                          " (from id T2): refused by test"
                                        : "refused by test (ticket T3)"));
  assert_non_null(strstr(err, f->pg_url ? f->pg_url : f->path));
  ib_store_rollback(f->st);
  finish(f->st, &done); /* reported once */
  assert_int_equal(done.added, 0);
  assert_string_equal(title_of(f->st, "T1", buf, sizeof buf), "one");
  assert_string_equal(title_of(f->st, "T2", buf, sizeof buf), "");
  assert_string_equal(title_of(f->st, "T4", buf, sizeof buf), "");
  ib_source_state s;
  assert_int_equal(ib_store_source_state(f->st, "desk", 0, &s, err, sizeof err),
                   0);
  assert_true(s.watermark == IB_TIME_NONE);
  assert_int_equal(s.rejected, 0); /* recorded in the refused page */
}

static void add_counts(ib_put_counts *sum, const ib_put_counts *c) {
  sum->added += c->added;
  sum->changed += c->changed;
  sum->unchanged += c->unchanged;
}

/* The changes recorded for id, as "field:old>new;" (NULL as "-"). */
static const char *changes_of(ib_store *st, const char *id, char *buf,
                              size_t len) {
  char err[512] = "";
  ib_change_list list = {0};
  int found = 0;
  assert_int_equal(
      ib_store_history(st, "desk", id, &list, &found, err, sizeof err), 0);
  assert_true(found);
  buf[0] = '\0';
  for (size_t i = 0; i < list.n; i++) {
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, "%s:%s>%s;", list.items[i].field,
             list.items[i].old_value ? list.items[i].old_value : "-",
             list.items[i].new_value ? list.items[i].new_value : "-");
  }
  ib_change_list_free(&list);
  return buf;
}

static void an_id_twice_in_a_page_and_in_two_pages(void **state) {
  fixture *f = *state;
  char err[512], buf[256];
  ib_put_counts done, sum = {0};
  int64_t run_id = 0;
  /* A first load: the source has nothing stored. */
  assert_int_equal(
      ib_store_run_begin(f->st, "desk", 0, &run_id, err, sizeof err), 0);
  assert_int_equal(ib_store_begin(f->st, err, sizeof err), 0);
  put(f->st, "T1", "one");
  put(f->st, "T2", "two");
  put(f->st, "T1", "one, again"); /* twice in the page */
  commit(f->st, &done);
  add_counts(&sum, &done);
  assert_int_equal(ib_store_begin(f->st, err, sizeof err), 0);
  put(f->st, "T2", "two, later"); /* in the page before */
  put(f->st, "T3", "three");
  put(f->st, "T1", "one, again");
  commit(f->st, &done);
  add_counts(&sum, &done);
  finish(f->st, &done);
  add_counts(&sum, &done);
  assert_int_equal(sum.added, 3);
  assert_int_equal(sum.changed, 2);
  assert_int_equal(sum.unchanged, 1);
  assert_string_equal(title_of(f->st, "T1", buf, sizeof buf), "one, again");
  assert_string_equal(title_of(f->st, "T2", buf, sizeof buf), "two, later");
  assert_string_equal(title_of(f->st, "T3", buf, sizeof buf), "three");
  assert_string_equal(changes_of(f->st, "T1", buf, sizeof buf),
                      "title:one>one, again;");
  assert_string_equal(changes_of(f->st, "T2", buf, sizeof buf),
                      "title:two>two, later;");
  assert_string_equal(changes_of(f->st, "T3", buf, sizeof buf), "");
}

/* More records in one page than PostgreSQL holds at a time (PG_PAGE_ROWS,
 * 10,000): written in parts, one transaction. */
#define MANY 10010

static void a_page_of_many_records(void **state) {
  fixture *f = *state;
  char err[512], buf[64], id[16];
  ib_put_counts done, sum = {0};
  assert_int_equal(ib_store_begin(f->st, err, sizeof err), 0);
  for (int i = 0; i < MANY; i++) {
    snprintf(id, sizeof id, "T%d", i);
    put(f->st, id, "many");
  }
  put(f->st, "T5", "five"); /* written in the page's first part */
  commit(f->st, &done);
  add_counts(&sum, &done);
  finish(f->st, &done);
  add_counts(&sum, &done);
  assert_int_equal(sum.added, MANY);
  assert_int_equal(sum.changed, 1);
  assert_int_equal(sum.unchanged, 0);
  assert_string_equal(title_of(f->st, "T5", buf, sizeof buf), "five");
  assert_string_equal(title_of(f->st, "T10009", buf, sizeof buf), "many");
}

/* A part refused: nothing of its page is stored, its first part included,
 * whether the refusal comes from the part written while the caller fills
 * the page (T5) or from the last (T10005); reported once. */
static void a_refused_part_drops_its_page(fixture *f, const char *id) {
  char err[512] = "", buf[64], tid[16];
  ib_put_counts done = {0};
  refuse(f, id);
  assert_int_equal(ib_store_begin(f->st, err, sizeof err), 0);
  int rc = 0;
  for (int i = 0; i < MANY && rc == 0; i++) {
    snprintf(tid, sizeof tid, "T%d", i);
    rc = try_put(f->st, tid, "many", err, sizeof err);
  }
  if (rc == 0) rc = ib_store_commit(f->st, &done, err, sizeof err);
  if (rc == 0)
    rc = ib_store_finish_pages(f->st, &done, err, sizeof err);
  else
    ib_store_rollback(f->st);
  assert_int_equal(rc, -1);
  assert_non_null(strstr(err, "refused by test"));
  finish(f->st, &done); /* reported once */
  assert_int_equal(done.added, 0);
  assert_string_equal(title_of(f->st, "T1", buf, sizeof buf), "");
  assert_string_equal(title_of(f->st, "T10009", buf, sizeof buf), "");
}

static void a_refused_first_part(void **state) {
  a_refused_part_drops_its_page(*state, "T5");
}

static void a_refused_last_part(void **state) {
  a_refused_part_drops_its_page(*state, "T10005");
}

#define PAGE_TESTS(setup_fn)                                                   \
  cmocka_unit_test_setup_teardown(counts_come_back_later, setup_fn, teardown), \
      cmocka_unit_test_setup_teardown(reads_in_a_page_see_it, setup_fn,        \
                                      teardown),                               \
      cmocka_unit_test_setup_teardown(rollback_forgets_the_open_page,          \
                                      setup_fn, teardown),                     \
      cmocka_unit_test_setup_teardown(the_callers_strings_are_copied,          \
                                      setup_fn, teardown),                     \
      cmocka_unit_test_setup_teardown(close_writes_the_page_handed_over,       \
                                      setup_fn, teardown),                     \
      cmocka_unit_test_setup_teardown(a_refused_page_is_reported_once,         \
                                      setup_fn, teardown),                     \
      cmocka_unit_test_setup_teardown(an_id_twice_in_a_page_and_in_two_pages,  \
                                      setup_fn, teardown),                     \
      cmocka_unit_test_setup_teardown(a_page_of_many_records, setup_fn,        \
                                      teardown),                               \
      cmocka_unit_test_setup_teardown(a_refused_first_part, setup_fn,          \
                                      teardown),                               \
      cmocka_unit_test_setup_teardown(a_refused_last_part, setup_fn, teardown)

int main(void) {
  const struct CMUnitTest sqlite_tests[] = {PAGE_TESTS(setup)};
  const struct CMUnitTest pg_tests[] = {PAGE_TESTS(setup_pg)};
  int failed = cmocka_run_group_tests_name("sqlite", sqlite_tests, NULL, NULL);
  if (getenv("IB_PAGES_PG_URL"))
    failed += cmocka_run_group_tests_name("postgresql", pg_tests, NULL, NULL);
  return failed;
}
