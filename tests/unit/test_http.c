/*
 * test_http.c -- the host HTTP client against the loopback mock server
 * (tests/mock/mockserver.py): auth, retries, timeouts, TLS, concurrency and
 * secret hygiene. Checks behaviour through the server's request log; no
 * timed assertions except lower bounds a server asked for (Retry-After).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "scrub.h"

extern char **environ;

#define MOCKSERVER IB_SOURCE_DIR "/tests/mock/mockserver.py"
#define PYTHON "/usr/bin/python3"
#define SERVER_START_TIMEOUT_MS 10000
#define TEST_TOKEN "s3cr3t-token-value"
#define TEST_USER "alice"
/* base64("alice:s3cr3t-token-value"), computed with `printf ... | base64` */
#define TEST_BASIC "YWxpY2U6czNjcjN0LXRva2VuLXZhbHVl"
#define TEST_HINT "$T_USER/$T_TOKEN"
#define FAST_BACKOFF_S 0.05

typedef struct server {
  pid_t pid;
  int port;
  char dir[64];
  char log_path[128];
  char base[64]; /* http(s)://127.0.0.1:PORT */
} server;

typedef struct capture {
  char text[65536];
  size_t len;
  int count;
} capture;

/* ---- helpers --------------------------------------------------------------
 */

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static char *read_all(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL; /* owned by the caller */
  size_t len = 0, cap = 0, got;
  char chunk[4096];
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (len + got + 1 > cap) {
      cap = (len + got + 1) * 2;
      buf = realloc(buf, cap);
      assert_non_null(buf);
    }
    memcpy(buf + len, chunk, got);
    len += got;
  }
  fclose(f);
  if (!buf)
    buf = calloc(1, 1);
  else
    buf[len] = '\0';
  return buf;
}

static int run_wait(char *const argv[]) {
  pid_t pid;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void make_cert(const char *dir) {
  char key[128], cert[128];
  snprintf(key, sizeof key, "%s/key.pem", dir);
  snprintf(cert, sizeof cert, "%s/cert.pem", dir);
  char *argv[] = {"/usr/bin/openssl",
                  "req",
                  "-x509",
                  "-newkey",
                  "rsa:2048",
                  "-nodes",
                  "-days",
                  "2",
                  "-subj",
                  "/CN=127.0.0.1",
                  "-addext",
                  "subjectAltName=IP:127.0.0.1",
                  "-keyout",
                  key,
                  "-out",
                  cert,
                  NULL};
  assert_int_equal(run_wait(argv), 0);
}

/* Starts the mock server with the static app. faults: JSON text or NULL. */
static void start_server_ex(server *s, const char *faults, int latency_ms,
                            int tls) {
  memset(s, 0, sizeof *s);
  snprintf(s->dir, sizeof s->dir, "/tmp/ib-test-http-XXXXXX");
  assert_non_null(mkdtemp(s->dir));
  char port_file[128], faults_file[128], latency[32], cert[128], key[128];
  snprintf(port_file, sizeof port_file, "%s/port", s->dir);
  snprintf(faults_file, sizeof faults_file, "%s/faults.json", s->dir);
  snprintf(s->log_path, sizeof s->log_path, "%s/requests.jsonl", s->dir);
  snprintf(latency, sizeof latency, "%d", latency_ms);
  snprintf(cert, sizeof cert, "%s/cert.pem", s->dir);
  snprintf(key, sizeof key, "%s/key.pem", s->dir);

  char *argv[20];
  int a = 0;
  argv[a++] = PYTHON;
  argv[a++] = MOCKSERVER;
  argv[a++] = "--port-file";
  argv[a++] = port_file;
  argv[a++] = "--app";
  argv[a++] = "static";
  argv[a++] = "--request-log";
  argv[a++] = s->log_path;
  argv[a++] = "--latency-ms";
  argv[a++] = latency;
  if (faults) {
    write_file(faults_file, faults);
    argv[a++] = "--faults";
    argv[a++] = faults_file;
  }
  if (tls) {
    make_cert(s->dir);
    argv[a++] = "--tls-cert";
    argv[a++] = cert;
    argv[a++] = "--tls-key";
    argv[a++] = key;
  }
  argv[a] = NULL;
  assert_int_equal(posix_spawn(&s->pid, PYTHON, NULL, NULL, argv, environ), 0);

  for (int waited = 0; waited < SERVER_START_TIMEOUT_MS; waited += 20) {
    char *text = read_all(port_file);
    if (text && *text) {
      s->port = atoi(text);
      free(text);
      break;
    }
    free(text);
    int status;
    assert_int_equal(waitpid(s->pid, &status, WNOHANG), 0); /* still alive */
    usleep(20000);
  }
  assert_true(s->port > 0);
  snprintf(s->base, sizeof s->base, "%s://127.0.0.1:%d", tls ? "https" : "http",
           s->port);
}

static void start_server(server *s, const char *faults) {
  start_server_ex(s, faults, 0, 0);
}

static void stop_server(server *s) {
  if (s->pid > 0) {
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
  }
  DIR *d = opendir(s->dir);
  if (d) {
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      snprintf(path, sizeof path, "%s/%s", s->dir, e->d_name);
      unlink(path);
    }
    closedir(d);
    rmdir(s->dir);
  }
}

/* The server's request log as a JSON array (owned by the caller). */
static cJSON *request_log(const server *s) {
  cJSON *all = cJSON_CreateArray();
  char *text = read_all(s->log_path);
  for (char *line = text ? strtok(text, "\n") : NULL; line;
       line = strtok(NULL, "\n")) {
    cJSON *entry = cJSON_Parse(line);
    assert_non_null(entry);
    cJSON_AddItemToArray(all, entry);
  }
  free(text);
  return all;
}

static int request_count(const server *s) {
  cJSON *log = request_log(s);
  int n = cJSON_GetArraySize(log);
  cJSON_Delete(log);
  return n;
}

static double request_time(const cJSON *log, int i) {
  return cJSON_GetObjectItem(cJSON_GetArrayItem(log, i), "time")->valuedouble;
}

static void capture_log(void *ctx, ib_log_level level, const char *msg) {
  capture *cap = ctx;
  int n = snprintf(cap->text + cap->len, sizeof cap->text - cap->len, "%d %s\n",
                   (int)level, msg);
  if (n > 0 && cap->len + (size_t)n < sizeof cap->text) cap->len += (size_t)n;
  cap->count++;
}

static ib_http_config test_config(capture *cap) {
  ib_http_config cfg = {
      .label = "test",
      .credentials_hint = TEST_HINT,
      .timeout_s = 5,
      .backoff_base_s = FAST_BACKOFF_S,
      .max_wait_s = 30,
      .log = capture_log,
      .log_ctx = cap,
  };
  return cfg;
}

static ib_http_client *new_client(const ib_http_config *cfg) {
  char err[512] = "";
  ib_http_client *c = ib_http_client_new(cfg, err, sizeof err);
  if (!c) fail_msg("ib_http_client_new: %s", err);
  return c;
}

/* One GET of base+path; fills *resp; returns the status. */
static ib_status get_one(ib_http_client *c, const server *s, const char *path,
                         ib_http_response *resp) {
  char url[512];
  snprintf(url, sizeof url, "%s%s", s->base, path);
  ib_http_request req = {.struct_size = sizeof req, .url = url};
  return ib_http_perform(c, &req, 1, resp);
}

static void assert_no_secret(const char *text) {
  assert_null(strstr(text, TEST_TOKEN));
  assert_null(strstr(text, TEST_BASIC));
}

/* ---- pure functions
 * ----------------------------------------------------------- */

static void test_escape(void **state) {
  char *e = ib_http_escape("project = SUP & x/y~é");
  assert_string_equal(e, "project%20%3D%20SUP%20%26%20x%2Fy~%C3%A9");
  free(e);
}

static void test_url_for_message(void **state) {
  char buf[256];
  ib_http_url_for_message("https://bob:pw@example.com:8443/rest/api?token=zz#f",
                          buf, sizeof buf);
  assert_string_equal(buf, "https://example.com:8443/rest/api");
  ib_http_url_for_message("http://example.com", buf, sizeof buf);
  assert_string_equal(buf, "http://example.com/");
}

static void test_parse_waits(void **state) {
  const long long now = 1700000000; /* 2023-11-14T22:13:20Z */
  assert_true(ib_http_parse_retry_after("7", now) == 7.0);
  assert_true(ib_http_parse_retry_after("Tue, 14 Nov 2023 22:15:00 GMT", now) ==
              100.0);
  assert_true(ib_http_parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now) ==
              0.0); /* in the past: no wait */
  assert_true(ib_http_parse_retry_after("soon", now) < 0);
  assert_true(ib_http_parse_ratelimit_reset("1700000100", now) == 100.0);
  assert_true(ib_http_parse_ratelimit_reset("30", now) == 30.0);
  assert_true(ib_http_parse_ratelimit_reset("2023-11-14T22:15Z", now) == 100.0);
  assert_true(ib_http_parse_ratelimit_reset("-3", now) < 0);
}

static void test_client_config_errors(void **state) {
  char err[512] = "";
  ib_http_config cfg = {.label = "src",
                        .auth = IB_AUTH_BASIC,
                        .user = "u",
                        .credentials_hint = "$U/$T"};
  assert_null(ib_http_client_new(&cfg, err, sizeof err));
  assert_non_null(strstr(err, "$U/$T"));
  ib_http_config cfg2 = {.label = "src", .ca_file = "/nonexistent/ca.pem"};
  assert_null(ib_http_client_new(&cfg2, err, sizeof err));
  assert_non_null(strstr(err, "/nonexistent/ca.pem"));
}

/* ---- against the mock server
 * ------------------------------------------------- */

static void test_get_json_and_headers(void **state) {
  server s;
  capture cap = {0};
  start_server(&s, NULL);
  ib_http_config cfg = test_config(&cap);
  ib_http_client *c = new_client(&cfg);

  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json", &r), IB_OK);
  assert_int_equal(r.status, 200);
  cJSON *doc = cJSON_Parse(r.body);
  assert_non_null(doc);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(doc, "ok")));
  assert_int_equal(r.body_len, strlen(r.body));
  cJSON_Delete(doc);
  ib_http_response_free(&r);

  assert_int_equal(get_one(c, &s, "/echo?q=a%20b", &r), IB_OK);
  doc = cJSON_Parse(r.body);
  cJSON *h = cJSON_GetObjectItem(doc, "headers");
  assert_string_equal(cJSON_GetObjectItem(h, "user-agent")->valuestring,
                      "itsm-bridge/" IB_VERSION);
  assert_string_equal(cJSON_GetObjectItem(h, "accept")->valuestring,
                      "application/json");
  assert_non_null(cJSON_GetObjectItem(h, "accept-encoding"));
  assert_null(cJSON_GetObjectItem(h, "authorization"));
  cJSON *q = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "query"), "q");
  assert_string_equal(cJSON_GetArrayItem(q, 0)->valuestring, "a b");
  cJSON_Delete(doc);
  ib_http_response_free(&r);

  ib_http_client_free(c);
  stop_server(&s);
}

static void test_post_with_body_and_headers(void **state) {
  server s;
  capture cap = {0};
  start_server(&s, NULL);
  ib_http_config cfg = test_config(&cap);
  ib_http_client *c = new_client(&cfg);
  char url[128];
  snprintf(url, sizeof url, "%s/echo", s.base);
  const char *headers[] = {"X-Test: yes", NULL};
  ib_http_request req = {.struct_size = sizeof req,
                         .method = "POST",
                         .url = url,
                         .body = "{\"jql\":\"project = SUP\"}",
                         .headers = headers};
  ib_http_response r;
  assert_int_equal(ib_http_perform(c, &req, 1, &r), IB_OK);
  assert_int_equal(r.status, 200);
  cJSON *doc = cJSON_Parse(r.body);
  assert_string_equal(cJSON_GetObjectItem(doc, "method")->valuestring, "POST");
  assert_string_equal(cJSON_GetObjectItem(doc, "body")->valuestring,
                      "{\"jql\":\"project = SUP\"}");
  cJSON *h = cJSON_GetObjectItem(doc, "headers");
  assert_string_equal(cJSON_GetObjectItem(h, "content-type")->valuestring,
                      "application/json");
  assert_string_equal(cJSON_GetObjectItem(h, "x-test")->valuestring, "yes");
  assert_null(cJSON_GetObjectItem(h, "expect"));
  cJSON_Delete(doc);
  ib_http_response_free(&r);
  ib_http_client_free(c);
  stop_server(&s);
}

static void test_basic_and_bearer_auth(void **state) {
  server s;
  capture cap = {0};
  start_server(&s, NULL);
  ib_http_config cfg = test_config(&cap);
  cfg.auth = IB_AUTH_BASIC;
  cfg.user = TEST_USER;
  cfg.token = TEST_TOKEN;
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json", &r), IB_OK);
  ib_http_response_free(&r);
  ib_http_client_free(c);

  cfg.auth = IB_AUTH_BEARER;
  cfg.user = NULL;
  cfg.token = "tok-abc-123";
  c = new_client(&cfg);
  assert_int_equal(get_one(c, &s, "/json", &r), IB_OK);
  ib_http_response_free(&r);
  ib_http_client_free(c);

  cJSON *log = request_log(&s);
  assert_int_equal(cJSON_GetArraySize(log), 2);
  cJSON *h0 = cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "headers");
  cJSON *h1 = cJSON_GetObjectItem(cJSON_GetArrayItem(log, 1), "headers");
  assert_string_equal(cJSON_GetObjectItem(h0, "authorization")->valuestring,
                      "Basic " TEST_BASIC);
  assert_string_equal(cJSON_GetObjectItem(h1, "authorization")->valuestring,
                      "Bearer tok-abc-123");
  cJSON_Delete(log);
  stop_server(&s);
}

static void test_429_retry_after_seconds(void **state) {
  server s;
  capture cap = {0};
  start_server(&s,
               "[{\"path\": \"/json\", \"status\": 429,"
               " \"headers\": {\"Retry-After\": \"1\"}}]");
  ib_http_config cfg = test_config(&cap);
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json", &r), IB_OK);
  assert_int_equal(r.status, 200);
  ib_http_response_free(&r);
  cJSON *log = request_log(&s);
  assert_int_equal(cJSON_GetArraySize(log), 2);
  /* the server asked for 1 s: the retry may not come sooner */
  assert_true(request_time(log, 1) - request_time(log, 0) >= 0.95);
  cJSON_Delete(log);
  ib_http_client_free(c);
  stop_server(&s);
}

static void test_429_retry_after_http_date(void **state) {
  char date[64], faults[256];
  time_t when = time(NULL) + 2;
  struct tm tm;
  gmtime_r(&when, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  snprintf(faults, sizeof faults,
           "[{\"path\": \"/json\", \"status\": 429,"
           " \"headers\": {\"Retry-After\": \"%s\"}}]",
           date);
  server s;
  capture cap = {0};
  start_server(&s, faults);
  ib_http_config cfg = test_config(&cap);
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json", &r), IB_OK);
  assert_int_equal(r.status, 200);
  ib_http_response_free(&r);
  cJSON *log = request_log(&s);
  assert_int_equal(cJSON_GetArraySize(log), 2);
  /* the retry is not sent before the date given (whole seconds) */
  assert_true(request_time(log, 1) >= (double)when - 0.05);
  cJSON_Delete(log);
  ib_http_client_free(c);
  stop_server(&s);
}

static void test_ratelimit_reset(void **state) {
  server s;
  capture cap = {0};
  start_server(&s,
               "[{\"path\": \"/json\", \"status\": 429,"
               " \"headers\": {\"X-RateLimit-Reset\": \"1\"}}]");
  ib_http_config cfg = test_config(&cap);
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json", &r), IB_OK);
  assert_int_equal(r.status, 200);
  ib_http_response_free(&r);
  cJSON *log = request_log(&s);
  assert_int_equal(cJSON_GetArraySize(log), 2);
  assert_true(request_time(log, 1) - request_time(log, 0) >= 0.95);
  cJSON_Delete(log);
  ib_http_client_free(c);
  stop_server(&s);
}

static void test_503_twice_then_success(void **state) {
  server s;
  capture cap = {0};
  start_server(&s, "[{\"path\": \"/json\", \"status\": 503, \"times\": 2}]");
  ib_http_config cfg = test_config(&cap);
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json", &r), IB_OK);
  assert_int_equal(r.status, 200);
  assert_null(r.error);
  ib_http_response_free(&r);
  assert_int_equal(request_count(&s), 3);
  assert_non_null(strstr(cap.text, "HTTP 503, retry 1/"));
  ib_http_client_free(c);
  stop_server(&s);
}

static void test_retries_exhausted(void **state) {
  server s;
  capture cap = {0};
  start_server(&s, "[{\"path\": \"/json\", \"status\": 502, \"times\": -1}]");
  ib_http_config cfg = test_config(&cap);
  cfg.max_retries = 2;
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json?apikey=hideme", &r), IB_ERR_HTTP);
  assert_int_equal(r.status, 0);
  assert_non_null(r.error);
  ib_http_response_free(&r);
  assert_int_equal(request_count(&s), 3); /* 1 + 2 retries */
  const char *msg = ib_http_client_last_error(c);
  char expect_url[128];
  snprintf(expect_url, sizeof expect_url, "GET %s/json:", s.base);
  assert_non_null(strstr(msg, expect_url));
  assert_non_null(strstr(msg, "3 attempts over"));
  assert_null(strstr(msg, "max_retries")); /* not a configuration key */
  assert_non_null(strstr(msg, "HTTP 502"));
  assert_null(strstr(msg, "hideme"));
  assert_null(strstr(cap.text, "hideme"));
  ib_http_client_free(c);
  stop_server(&s);
}

static void test_404_and_500_returned_not_retried(void **state) {
  server s;
  capture cap = {0};
  start_server(&s, NULL);
  ib_http_config cfg = test_config(&cap);
  ib_http_client *c = new_client(&cfg);
  char u1[128], u2[128];
  snprintf(u1, sizeof u1, "%s/status/404", s.base);
  snprintf(u2, sizeof u2, "%s/status/500", s.base);
  ib_http_request reqs[2] = {{.struct_size = sizeof reqs[0], .url = u1},
                             {.struct_size = sizeof reqs[0], .url = u2}};
  ib_http_response r[2];
  assert_int_equal(ib_http_perform(c, reqs, 2, r), IB_OK);
  assert_int_equal(r[0].status, 404);
  assert_int_equal(r[1].status, 500);
  assert_non_null(r[0].body);
  assert_int_equal(r[0].body_len, 0);
  ib_http_response_free(&r[0]);
  ib_http_response_free(&r[1]);
  assert_int_equal(request_count(&s), 2);
  ib_http_client_free(c);
  stop_server(&s);
}

static void test_401_is_auth_error(void **state) {
  server s;
  capture cap = {0};
  start_server(&s, "[{\"path\": \"/json\", \"status\": 401, \"times\": -1}]");
  ib_http_config cfg = test_config(&cap);
  cfg.auth = IB_AUTH_BASIC;
  cfg.user = TEST_USER;
  cfg.token = TEST_TOKEN;
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json", &r), IB_ERR_AUTH);
  assert_int_equal(r.status, 401);
  ib_http_response_free(&r);
  assert_int_equal(request_count(&s), 1); /* never retried */
  char expect[128];
  snprintf(expect, sizeof expect,
           "HTTP 401 from 127.0.0.1:%d: the server refused the credentials; "
           "check " TEST_HINT,
           s.port);
  assert_string_equal(ib_http_client_last_error(c), expect);
  assert_non_null(strstr(cap.text, expect)); /* logged too */
  assert_no_secret(cap.text);
  ib_http_client_free(c);

  /* No auth configured: the message names the source, not an empty "$". */
  cfg = test_config(&cap);
  cfg.credentials_hint = NULL;
  c = new_client(&cfg);
  assert_int_equal(get_one(c, &s, "/json", &r), IB_ERR_AUTH);
  ib_http_response_free(&r);
  assert_non_null(strstr(ib_http_client_last_error(c),
                         "refused the credentials of source 'test', which "
                         "has no auth configured"));
  assert_null(strstr(ib_http_client_last_error(c), "$"));
  ib_http_client_free(c);
  stop_server(&s);
}

static void test_stall_past_timeout_is_retried(void **state) {
  server s;
  capture cap = {0};
  start_server(&s, "[{\"path\": \"/json\", \"stall_s\": 3}]");
  ib_http_config cfg = test_config(&cap);
  cfg.timeout_s = 1;
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json", &r), IB_OK);
  assert_int_equal(r.status, 200);
  ib_http_response_free(&r);
  assert_int_equal(request_count(&s), 2);
  assert_non_null(strstr(cap.text, "retry 1/"));
  ib_http_client_free(c);
  stop_server(&s);
}

static void test_truncated_and_closed_are_retried(void **state) {
  server s;
  capture cap = {0};
  start_server(&s,
               "[{\"path\": \"/json\", \"truncate\": true},"
               " {\"path\": \"/json\", \"close\": true}]");
  ib_http_config cfg = test_config(&cap);
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json", &r), IB_OK);
  assert_int_equal(r.status, 200);
  cJSON *doc = cJSON_Parse(r.body);
  assert_non_null(doc); /* the complete body, not the truncated one */
  cJSON_Delete(doc);
  ib_http_response_free(&r);
  cJSON *log = request_log(&s);
  assert_int_equal(cJSON_GetArraySize(log), 3);
  assert_string_equal(
      cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "fault")->valuestring,
      "truncate");
  assert_string_equal(
      cJSON_GetObjectItem(cJSON_GetArrayItem(log, 1), "fault")->valuestring,
      "close");
  cJSON_Delete(log);
  ib_http_client_free(c);
  stop_server(&s);
}

static void test_invalid_json_returned_as_is(void **state) {
  server s;
  capture cap = {0};
  start_server(&s, "[{\"path\": \"/json\", \"invalid_json\": true}]");
  ib_http_config cfg = test_config(&cap);
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json", &r), IB_OK);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "{\"broken\": [1, 2, ");
  cJSON *doc = cJSON_Parse(r.body);
  assert_null(doc);
  ib_http_response_free(&r);
  assert_int_equal(request_count(&s), 1);
  ib_http_client_free(c);
  stop_server(&s);
}

static void test_concurrency_is_bounded(void **state) {
  enum { N = 8, MAXC = 4 };
  server s;
  capture cap = {0};
  start_server_ex(&s, NULL, 300, 0);
  ib_http_config cfg = test_config(&cap);
  cfg.max_concurrency = MAXC;
  ib_http_client *c = new_client(&cfg);
  char urls[N][128];
  ib_http_request reqs[N];
  ib_http_response r[N];
  for (int i = 0; i < N; i++) {
    snprintf(urls[i], sizeof urls[i], "%s/echo?i=%d", s.base, i);
    reqs[i] = (ib_http_request){.struct_size = sizeof reqs[i], .url = urls[i]};
  }
  assert_int_equal(ib_http_perform(c, reqs, N, r), IB_OK);
  for (int i = 0; i < N; i++) {
    assert_int_equal(r[i].status, 200);
    /* resps[i] answers reqs[i] */
    cJSON *doc = cJSON_Parse(r[i].body);
    cJSON *q = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "query"), "i");
    assert_int_equal(atoi(cJSON_GetArrayItem(q, 0)->valuestring), i);
    cJSON_Delete(doc);
    ib_http_response_free(&r[i]);
  }
  cJSON *log = request_log(&s);
  assert_int_equal(cJSON_GetArraySize(log), N);
  int max_in_flight = 0;
  for (int i = 0; i < N; i++) {
    int v =
        cJSON_GetObjectItem(cJSON_GetArrayItem(log, i), "in_flight")->valueint;
    if (v > max_in_flight) max_in_flight = v;
  }
  assert_true(max_in_flight <= MAXC);
  assert_true(max_in_flight >= 2); /* really concurrent */
  cJSON_Delete(log);
  ib_http_client_free(c);
  stop_server(&s);
}

/* The memory guard applies to the bodies of a batch together: four
 * answers of ~3 KB each pass one by one but not as one batch under an
 * 8,000-byte cap; the next, smaller batch on the same client works. */
static void test_batch_body_cap(void **state) {
  enum { N = 4, CAP = 8000 };
  server s;
  capture cap = {0};
  start_server(&s, NULL);
  ib_http_config cfg = test_config(&cap);
  cfg.max_batch_bytes = CAP;
  ib_http_client *c = new_client(&cfg);
  char pad[3001], urls[N][3300];
  memset(pad, 'x', sizeof pad - 1);
  pad[sizeof pad - 1] = '\0';
  ib_http_request reqs[N];
  ib_http_response r[N];
  for (int i = 0; i < N; i++) {
    snprintf(urls[i], sizeof urls[i], "%s/echo?i=%d&pad=%s", s.base, i, pad);
    reqs[i] = (ib_http_request){.struct_size = sizeof reqs[i], .url = urls[i]};
  }
  assert_int_equal(ib_http_perform(c, reqs, 1, r), IB_OK);
  assert_true(r[0].body_len > 3000 && r[0].body_len < CAP / 2);
  ib_http_response_free(&r[0]);
  assert_int_equal(ib_http_perform(c, reqs, N, r), IB_ERR_HTTP);
  assert_non_null(strstr(ib_http_client_last_error(c), "together exceed 8000"));
  for (int i = 0; i < N; i++) ib_http_response_free(&r[i]);
  assert_int_equal(ib_http_perform(c, reqs, 2, r), IB_OK);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(r[i].status, 200);
    ib_http_response_free(&r[i]);
  }
  ib_http_client_free(c);
  stop_server(&s);
}

/* -v traces the request line: token-like query values are redacted. */
static void test_trace_redacts_query_tokens(void **state) {
  server s;
  capture cap = {0};
  start_server(&s, NULL);
  ib_http_config cfg = test_config(&cap);
  cfg.verbose = 1;
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(
      get_one(c, &s, "/json?jql=a&api_token=hideme2&access_key=k3y9", &r),
      IB_OK);
  ib_http_response_free(&r);
  assert_non_null(strstr(cap.text, "GET /json?jql=a&api_token=[redacted]"));
  assert_null(strstr(cap.text, "hideme2"));
  assert_null(strstr(cap.text, "k3y9"));
  ib_http_client_free(c);
  stop_server(&s);
}

static void test_tls_needs_ca_file(void **state) {
  server s;
  capture cap = {0};
  start_server_ex(&s, NULL, 0, 1);
  ib_http_config cfg = test_config(&cap);
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json", &r), IB_ERR_HTTP);
  assert_int_equal(r.status, 0);
  ib_http_response_free(&r);
  assert_non_null(strstr(ib_http_client_last_error(c), "ca_file"));
  assert_int_equal(request_count(&s), 0); /* refused at the handshake */
  ib_http_client_free(c);

  char cert[128];
  snprintf(cert, sizeof cert, "%s/cert.pem", s.dir);
  cfg.ca_file = cert;
  c = new_client(&cfg);
  assert_int_equal(get_one(c, &s, "/json", &r), IB_OK);
  assert_int_equal(r.status, 200);
  ib_http_response_free(&r);
  ib_http_client_free(c);
  stop_server(&s);
}

static void test_connection_refused_gives_up(void **state) {
  /* a port nobody listens on: bind an ephemeral one, then close it */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  socklen_t sl = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &sl);
  close(fd);

  capture cap = {0};
  ib_http_config cfg = test_config(&cap);
  cfg.max_retries = 1;
  ib_http_client *c = new_client(&cfg);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/json", ntohs(sa.sin_port));
  ib_http_request req = {.struct_size = sizeof req, .url = url};
  ib_http_response r;
  assert_int_equal(ib_http_perform(c, &req, 1, &r), IB_ERR_HTTP);
  ib_http_response_free(&r);
  assert_non_null(strstr(ib_http_client_last_error(c), "2 attempts"));
  assert_non_null(strstr(cap.text, "retry 1/1"));
  ib_http_client_free(c);
}

static void test_retry_after_beyond_budget_fails_at_once(void **state) {
  server s;
  capture cap = {0};
  start_server(&s,
               "[{\"path\": \"/json\", \"status\": 429,"
               " \"headers\": {\"Retry-After\": \"100\"}}]");
  ib_http_config cfg = test_config(&cap);
  cfg.max_wait_s = 5;
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json", &r), IB_ERR_HTTP);
  ib_http_response_free(&r);
  assert_int_equal(request_count(&s), 1);
  assert_non_null(strstr(ib_http_client_last_error(c), "asks to wait 100 s"));
  ib_http_client_free(c);
  stop_server(&s);
}

/* A 401 in a batch stops the batch; every response stays freeable. */
static void test_auth_failure_abandons_batch(void **state) {
  enum { N = 4 };
  server s;
  capture cap = {0};
  start_server_ex(&s, "[{\"path\": \"/status\", \"status\": 401}]", 200, 0);
  ib_http_config cfg = test_config(&cap);
  cfg.max_concurrency = 1;
  ib_http_client *c = new_client(&cfg);
  char urls[N][128];
  ib_http_request reqs[N];
  ib_http_response r[N];
  for (int i = 0; i < N; i++) {
    snprintf(urls[i], sizeof urls[i], "%s/%s", s.base,
             i == 0 ? "status/200" : "json");
    reqs[i] = (ib_http_request){.struct_size = sizeof reqs[i], .url = urls[i]};
  }
  assert_int_equal(ib_http_perform(c, reqs, N, r), IB_ERR_AUTH);
  assert_int_equal(r[0].status, 401);
  for (int i = 1; i < N; i++) {
    assert_int_equal(r[i].status, 0);
    assert_non_null(strstr(r[i].error, "another request"));
  }
  for (int i = 0; i < N; i++) ib_http_response_free(&r[i]);
  assert_int_equal(request_count(&s), 1); /* one at a time: nothing else sent */
  ib_http_client_free(c);
  stop_server(&s);
}

static int stop_now(void *ctx) {
  return 1;
}

static void test_should_stop_aborts(void **state) {
  server s;
  capture cap = {0};
  start_server(&s, NULL);
  ib_http_config cfg = test_config(&cap);
  cfg.should_stop = stop_now;
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json", &r), IB_ERR_ABORTED);
  ib_http_response_free(&r);
  ib_http_client_free(c);
  stop_server(&s);
}

/* Verbose traces, retries and failures: no secret in any captured line. */
static void test_secrets_never_logged(void **state) {
  server s;
  capture cap = {0};
  start_server(&s,
               "[{\"path\": \"/json\", \"status\": 503,"
               " \"body\": \"" TEST_TOKEN
               "\"},"
               " {\"path\": \"/status\", \"status\": 403}]");
  ib_http_config cfg = test_config(&cap);
  cfg.auth = IB_AUTH_BASIC;
  cfg.user = TEST_USER;
  cfg.token = TEST_TOKEN;
  cfg.verbose = 1;
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json", &r), IB_OK);
  ib_http_response_free(&r);
  assert_int_equal(get_one(c, &s, "/status/200", &r), IB_ERR_AUTH);
  ib_http_response_free(&r);
  assert_no_secret(ib_http_client_last_error(c));
  ib_http_client_free(c);
  stop_server(&s);

  assert_true(cap.count > 5);
  assert_non_null(strstr(cap.text, "> Authorization: [redacted]"));
  assert_non_null(strstr(cap.text, "HTTP 403 from"));
  assert_no_secret(cap.text);
  assert_null(strstr(cap.text, "user '" TEST_USER "'"));
}

/* Response headers reach the caller: case-insensitive look-up, trimmed
 * values, a bounded count, none for a first-version (shorter) response. */
static void test_response_headers(void **state) {
  server s;
  capture cap = {0};
  char faults[8192];
  size_t o = (size_t)snprintf(
      faults, sizeof faults,
      "[{\"path\": \"/json\", \"status\": 206, \"body\": \"[]\", "
      "\"headers\": {\"Content-Range\": \"  0-49/500 \", \"Accept-Range\": "
      "\"Ticket 990\"}},"
      " {\"path\": \"/many\", \"status\": 200, \"headers\": {");
  for (int i = 0; i < 100; i++)
    o += (size_t)snprintf(faults + o, sizeof faults - o, "%s\"X-H%d\": \"%d\"",
                          i ? ", " : "", i, i);
  snprintf(faults + o, sizeof faults - o, "}}]");
  start_server(&s, faults);
  ib_http_config cfg = test_config(&cap);
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json", &r), IB_OK);
  assert_int_equal(r.status, 206);
  assert_string_equal(ib_http_header_get(&r, "content-range"), "0-49/500");
  assert_string_equal(ib_http_header_get(&r, "CONTENT-RANGE"), "0-49/500");
  assert_string_equal(ib_http_header_get(&r, "Accept-Range"), "Ticket 990");
  assert_null(ib_http_header_get(&r, "X-Absent"));
  assert_null(ib_http_header_get(&r, "Content-Rang"));
  /* a plugin built before headers existed has a shorter struct */
  r.struct_size = IB_HTTP_RESPONSE_SIZE_V1;
  assert_null(ib_http_header_get(&r, "Content-Range"));
  r.struct_size = sizeof r;
  ib_http_response_free(&r);
  assert_int_equal(get_one(c, &s, "/many", &r), IB_OK);
  assert_int_equal(r.n_headers, IB_HTTP_MAX_HEADERS);
  ib_http_response_free(&r);
  assert_int_equal(r.n_headers, 0);
  assert_null(r.headers);
  ib_http_client_free(c);
  stop_server(&s);
}

/* auth type "header": the key travels in the named header and never in a
 * trace, even under a name that does not look secret. */
static void test_header_api_key(void **state) {
  server s;
  capture cap = {0};
  start_server(&s, NULL);
  ib_http_config cfg = test_config(&cap);
  cfg.auth = IB_AUTH_HEADER;
  cfg.header_name = "X-Portal-Code";
  cfg.token = TEST_TOKEN;
  cfg.verbose = 1;
  ib_http_client *c = new_client(&cfg);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json", &r), IB_OK);
  ib_http_response_free(&r);
  ib_http_client_free(c);
  cJSON *log = request_log(&s);
  cJSON *h0 = cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "headers");
  assert_string_equal(cJSON_GetObjectItem(h0, "x-portal-code")->valuestring,
                      TEST_TOKEN);
  assert_null(cJSON_GetObjectItem(h0, "authorization"));
  cJSON_Delete(log);
  stop_server(&s);
  assert_non_null(strstr(cap.text, "> X-Portal-Code: [redacted]"));
  assert_no_secret(cap.text);

  char err[256] = "";
  ib_http_config bad = {.label = "src",
                        .auth = IB_AUTH_HEADER,
                        .header_name = "X Bad:",
                        .token = "v"};
  assert_null(ib_http_client_new(&bad, err, sizeof err));
  assert_non_null(strstr(err, "header name"));
}

/* A secret registered after creation (a session token) is scrubbed from
 * traces too, here from the request line's query. */
static void test_added_secret_scrubbed(void **state) {
  server s;
  capture cap = {0};
  start_server(&s, NULL);
  ib_http_config cfg = test_config(&cap);
  cfg.verbose = 1;
  ib_http_client *c = new_client(&cfg);
  assert_int_equal(ib_http_client_add_secret(c, "sess-0123456789abcdef"), 0);
  ib_http_response r;
  assert_int_equal(get_one(c, &s, "/json?session=sess-0123456789abcdef", &r),
                   IB_OK);
  ib_http_response_free(&r);
  ib_http_client_free(c);
  stop_server(&s);
  assert_non_null(strstr(cap.text, "session=" IB_SCRUB_MARK));
  assert_null(strstr(cap.text, "sess-0123456789abcdef"));
}

int main(void) {
  /* loopback only: a proxy from the environment must not be used */
  setenv("no_proxy", "127.0.0.1,localhost", 1);
  setenv("NO_PROXY", "127.0.0.1,localhost", 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_escape),
      cmocka_unit_test(test_batch_body_cap),
      cmocka_unit_test(test_trace_redacts_query_tokens),
      cmocka_unit_test(test_url_for_message),
      cmocka_unit_test(test_parse_waits),
      cmocka_unit_test(test_client_config_errors),
      cmocka_unit_test(test_get_json_and_headers),
      cmocka_unit_test(test_post_with_body_and_headers),
      cmocka_unit_test(test_basic_and_bearer_auth),
      cmocka_unit_test(test_429_retry_after_seconds),
      cmocka_unit_test(test_429_retry_after_http_date),
      cmocka_unit_test(test_ratelimit_reset),
      cmocka_unit_test(test_503_twice_then_success),
      cmocka_unit_test(test_retries_exhausted),
      cmocka_unit_test(test_404_and_500_returned_not_retried),
      cmocka_unit_test(test_401_is_auth_error),
      cmocka_unit_test(test_stall_past_timeout_is_retried),
      cmocka_unit_test(test_truncated_and_closed_are_retried),
      cmocka_unit_test(test_invalid_json_returned_as_is),
      cmocka_unit_test(test_concurrency_is_bounded),
      cmocka_unit_test(test_tls_needs_ca_file),
      cmocka_unit_test(test_connection_refused_gives_up),
      cmocka_unit_test(test_retry_after_beyond_budget_fails_at_once),
      cmocka_unit_test(test_auth_failure_abandons_batch),
      cmocka_unit_test(test_should_stop_aborts),
      cmocka_unit_test(test_secrets_never_logged),
      cmocka_unit_test(test_response_headers),
      cmocka_unit_test(test_header_api_key),
      cmocka_unit_test(test_added_secret_scrubbed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
