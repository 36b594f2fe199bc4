/*
 * test_loader.c -- the loader refuses plugins built wrong on purpose, with
 * one line naming the file and the field that differs, and loads the
 * real ones.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "loader.h"

#define TEST_PLUGINS IB_BINARY_DIR "/test-plugins"

static void expect_refusal(const char *name, const char *fragment) {
  ib_loaded_plugin p;
  char err[1024] = "";
  assert_int_equal(ib_plugin_load(TEST_PLUGINS, name, &p, err, sizeof err), -1);
  char file[256];
  snprintf(file, sizeof file, "%s/%s.so", TEST_PLUGINS, name);
  if (strstr(err, file) == NULL || strstr(err, fragment) == NULL)
    fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", err, file, fragment);
  assert_null(strchr(err, '\n'));
  assert_null(p.handle);
  assert_null(p.desc);
}

static void test_bad_magic(void **state) {
  (void)state;
  expect_refusal("bad_magic",
                 "magic differs (host has 0x49544231, plugin has 0xdeadbeef)");
}

static void test_bad_abi(void **state) {
  (void)state;
  char want[128];
  snprintf(want, sizeof want,
           "ABI version differs (host has %u, plugin has %u)",
           IB_PLUGIN_ABI_VERSION, IB_PLUGIN_ABI_VERSION + 1);
  expect_refusal("bad_abi", want);
}

static void test_short_struct(void **state) {
  (void)state;
  char want[128];
  snprintf(want, sizeof want,
           "descriptor size differs (host needs at least %zu, plugin has %zu)",
           (size_t)IB_PLUGIN_SIZE_V1, offsetof(ib_plugin, options));
  expect_refusal("short_struct", want);
}

/* Growth is compatible: a descriptor of the first version still loads. */
static void test_v1_struct_accepted(void **state) {
  (void)state;
  ib_loaded_plugin p;
  char err[512] = "";
  int rc = ib_plugin_load(TEST_PLUGINS, "v1_struct", &p, err, sizeof err);
  if (rc) fprintf(stderr, "%s\n", err);
  assert_int_equal(rc, 0);
  assert_int_equal(p.desc->struct_size, IB_PLUGIN_SIZE_V1);
  assert_true(p.desc->struct_size < sizeof(ib_plugin));
  ib_plugin_unload(&p);
}

static void test_no_entry(void **state) {
  (void)state;
  expect_refusal("no_entry", "no ib_plugin_entry() entry");
}

static void test_missing_file(void **state) {
  (void)state;
  expect_refusal("does_not_exist", "no such plugin");
}

static void test_bad_name(void **state) {
  (void)state;
  ib_loaded_plugin p;
  char err[256];
  assert_int_equal(ib_plugin_load(TEST_PLUGINS, "../csv", &p, err, sizeof err),
                   -1);
  assert_non_null(strstr(err, "not a plugin name"));
}

static void test_not_regular(void **state) {
  (void)state;
  char dir[] = "/tmp/ib-loader-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char sub[300];
  snprintf(sub, sizeof sub, "%s/fake.so", dir);
  assert_int_equal(mkdir(sub, 0700), 0);
  ib_loaded_plugin p;
  char err[1024];
  assert_int_equal(ib_plugin_load(dir, "fake", &p, err, sizeof err), -1);
  assert_non_null(strstr(err, "not a regular file"));
  rmdir(sub);
  rmdir(dir);
}

static void test_real_plugin_loads(void **state) {
  (void)state;
  ib_loaded_plugin p;
  char err[1024] = "";
  if (ib_plugin_load(IB_BINARY_DIR "/plugins", "csv", &p, err, sizeof err))
    fail_msg("%s", err);
  assert_string_equal(p.desc->name, "csv");
  assert_int_equal(p.desc->abi_version, IB_PLUGIN_ABI_VERSION);
  assert_non_null(p.desc->options);
  /* Loading the same plugin twice gives the same descriptor: state must
   * therefore live in instances, never in the descriptor. */
  ib_loaded_plugin q;
  assert_int_equal(
      ib_plugin_load(IB_BINARY_DIR "/plugins", "csv", &q, err, sizeof err), 0);
  assert_ptr_equal(p.desc, q.desc);
  ib_plugin_unload(&q);
  ib_plugin_unload(&p);
}

static void count_name(const char *name, void *arg) {
  (void)name;
  (*(int *)arg)++;
}

static void test_scan(void **state) {
  (void)state;
  int seen = 0;
  char err[256];
  int n = ib_plugin_scan(TEST_PLUGINS, count_name, &seen, err, sizeof err);
  assert_int_equal(n, 7);
  assert_int_equal(seen, 7);
  assert_int_equal(
      ib_plugin_scan("/nonexistent-dir", count_name, &seen, err, sizeof err),
      -1);
  assert_non_null(strstr(err, "/nonexistent-dir"));
}

/* ---- plugin folders others could write (issue 11) ---- */

/* A private folder holding a copy of the real csv plugin. */
static void make_plugin_copy(char *dir, size_t len, mode_t dir_mode,
                             mode_t so_mode) {
  snprintf(dir, len, "/tmp/ib-trust-XXXXXX");
  assert_non_null(mkdtemp(dir));
  char dst[300];
  snprintf(dst, sizeof dst, "%s/csv.so", dir);
  FILE *in = fopen(IB_BINARY_DIR "/plugins/csv.so", "rb");
  FILE *out = fopen(dst, "wb");
  assert_non_null(in);
  assert_non_null(out);
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    assert_int_equal(fwrite(buf, 1, n, out), n);
  fclose(in);
  fclose(out);
  assert_int_equal(chmod(dst, so_mode), 0);
  assert_int_equal(chmod(dir, dir_mode), 0);
}

static void remove_plugin_copy(const char *dir) {
  char f[300];
  chmod(dir, 0700);
  snprintf(f, sizeof f, "%s/csv.so", dir);
  unlink(f);
  rmdir(dir);
}

static void expect_trust_refusal(const char *dir, const char *fragment) {
  ib_loaded_plugin p;
  char err[1024] = "";
  assert_int_equal(ib_plugin_load(dir, "csv", &p, err, sizeof err), -1);
  if (strstr(err, fragment) == NULL)
    fail_msg("message \"%s\" lacks \"%s\"", err, fragment);
  assert_null(p.handle);
}

static void test_trusted_copy_loads(void **state) {
  (void)state;
  char dir[64];
  make_plugin_copy(dir, sizeof dir, 0755, 0644);
  ib_loaded_plugin p;
  char err[1024] = "";
  if (ib_plugin_load(dir, "csv", &p, err, sizeof err)) fail_msg("%s", err);
  assert_string_equal(p.desc->name, "csv");
  ib_plugin_unload(&p);
  remove_plugin_copy(dir);
}

static void test_world_writable_folder_refused(void **state) {
  (void)state;
  char dir[64], want[400];
  make_plugin_copy(dir, sizeof dir, 0777, 0644);
  snprintf(want, sizeof want,
           "plugin folder %s is writable by group/others: chmod go-w %s, or "
           "use another folder",
           dir, dir);
  expect_trust_refusal(dir, want);
  /* `plugins` lists the folder through the scan: refused too. */
  char err[1024] = "";
  int seen = 0;
  assert_int_equal(ib_plugin_scan(dir, count_name, &seen, err, sizeof err), -1);
  assert_non_null(strstr(err, "writable by group/others"));
  assert_int_equal(seen, 0);
  /* With the sticky bit (like /tmp) it is still writable by others. */
  chmod(dir, 01777);
  expect_trust_refusal(dir, "writable by group/others");
  remove_plugin_copy(dir);
}

static void test_group_writable_plugin_refused(void **state) {
  (void)state;
  char dir[64], want[300];
  make_plugin_copy(dir, sizeof dir, 0755, 0664);
  snprintf(want, sizeof want,
           "plugin %s/csv.so is writable by group/others: chmod go-w "
           "%s/csv.so",
           dir, dir);
  expect_trust_refusal(dir, want);
  remove_plugin_copy(dir);
}

static void test_symlinked_folder_refused(void **state) {
  (void)state;
  char dir[64], link[128];
  make_plugin_copy(dir, sizeof dir, 0755, 0644);
  snprintf(link, sizeof link, "%s-link", dir);
  assert_int_equal(symlink(dir, link), 0);
  expect_trust_refusal(link, "is a symbolic link");
  /* A trailing slash must not make the link followed. */
  char slash[140];
  snprintf(slash, sizeof slash, "%s/", link);
  expect_trust_refusal(slash, "is a symbolic link");
  unlink(link);
  remove_plugin_copy(dir);
}

static void test_symlinked_plugin_refused(void **state) {
  (void)state;
  char dir[64], target[300], so[300];
  make_plugin_copy(dir, sizeof dir, 0755, 0644);
  snprintf(target, sizeof target, "%s/real.bin", dir);
  snprintf(so, sizeof so, "%s/csv.so", dir);
  assert_int_equal(rename(so, target), 0);
  assert_int_equal(symlink(target, so), 0);
  expect_trust_refusal(dir, "not a regular file");
  unlink(so);
  unlink(target);
  remove_plugin_copy(dir);
}

static void test_foreign_owner_refused(void **state) {
  (void)state;
  if (geteuid() != 0) {
    /* Only root can give a file to another uid. */
    print_message("SKIPPED: foreign-owner case needs root (chown)\n");
    skip();
  }
  char dir[64], so[300];
  make_plugin_copy(dir, sizeof dir, 0755, 0644);
  snprintf(so, sizeof so, "%s/csv.so", dir);
  assert_int_equal(chown(so, 12345, 12345), 0);
  expect_trust_refusal(dir, "is owned by uid 12345, neither root nor");
  assert_int_equal(chown(so, 0, 0), 0);
  assert_int_equal(chown(dir, 12345, 12345), 0);
  expect_trust_refusal(dir, "plugin folder");
  expect_trust_refusal(dir, "is owned by uid 12345");
  assert_int_equal(chown(dir, 0, 0), 0);
  remove_plugin_copy(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_magic),
      cmocka_unit_test(test_bad_abi),
      cmocka_unit_test(test_short_struct),
      cmocka_unit_test(test_v1_struct_accepted),
      cmocka_unit_test(test_no_entry),
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_bad_name),
      cmocka_unit_test(test_not_regular),
      cmocka_unit_test(test_real_plugin_loads),
      cmocka_unit_test(test_scan),
      cmocka_unit_test(test_trusted_copy_loads),
      cmocka_unit_test(test_world_writable_folder_refused),
      cmocka_unit_test(test_group_writable_plugin_refused),
      cmocka_unit_test(test_symlinked_folder_refused),
      cmocka_unit_test(test_symlinked_plugin_refused),
      cmocka_unit_test(test_foreign_owner_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
