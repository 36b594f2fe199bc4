/*
 * curl_lib.c -- libcurl opened on first use (syslib.h): the curl_*
 * functions http.c calls, defined here as forwarders to libcurl.so.4's
 * own, so that a command that makes no HTTP request never maps libcurl
 * and the thirty libraries it needs. The functions that create something
 * (curl_global_init, curl_easy_init, curl_url...) load the library; the
 * others act only once it is loaded, as nothing of it can exist before.
 * When it cannot be loaded, each returns libcurl's own failure value
 * (NULL, CURLE_FAILED_INIT...) and ib_curl_load says why. Must not hold
 * state besides the resolved symbols.
 */
#define CURL_DISABLE_TYPECHECK /* the variadic three are defined below */
#include "curl_lib.h"

#include <stdarg.h>
#include <stddef.h>

enum {
  F_GLOBAL_INIT,
  F_GLOBAL_CLEANUP,
  F_EASY_INIT,
  F_EASY_CLEANUP,
  F_EASY_STRERROR,
  F_FREE,
  F_GETDATE,
  F_MULTI_INIT,
  F_MULTI_ADD_HANDLE,
  F_MULTI_REMOVE_HANDLE,
  F_MULTI_CLEANUP,
  F_MULTI_INFO_READ,
  F_MULTI_PERFORM,
  F_MULTI_POLL,
  F_SLIST_APPEND,
  F_SLIST_FREE_ALL,
  F_URL,
  F_URL_CLEANUP,
  F_URL_GET,
  F_URL_SET,
  F_EASY_SETOPT,
  F_EASY_GETINFO,
  F_MULTI_SETOPT,
  F_COUNT
};

static const char *const names[F_COUNT + 1] = {"curl_global_init",
                                               "curl_global_cleanup",
                                               "curl_easy_init",
                                               "curl_easy_cleanup",
                                               "curl_easy_strerror",
                                               "curl_free",
                                               "curl_getdate",
                                               "curl_multi_init",
                                               "curl_multi_add_handle",
                                               "curl_multi_remove_handle",
                                               "curl_multi_cleanup",
                                               "curl_multi_info_read",
                                               "curl_multi_perform",
                                               "curl_multi_poll",
                                               "curl_slist_append",
                                               "curl_slist_free_all",
                                               "curl_url",
                                               "curl_url_cleanup",
                                               "curl_url_get",
                                               "curl_url_set",
                                               "curl_easy_setopt",
                                               "curl_easy_getinfo",
                                               "curl_multi_setopt",
                                               NULL};
static void *slots[F_COUNT];
static ib_syslib lib =
    IB_SYSLIB_INIT("libcurl.so.4", "the HTTP client library libcurl",
                   "libcurl4", names, slots);

int ib_curl_load(char *err, size_t errlen) {
  return ib_syslib_load(&lib, err, errlen);
}

/* The resolved function `f`, as a pointer of type T. */
#define FN(f, T) ((T)slots[f])

CURLcode curl_global_init(long flags) {
  return ib_syslib_ready(&lib)
             ? FN(F_GLOBAL_INIT, CURLcode(*)(long flags))(flags)
             : CURLE_FAILED_INIT;
}

void curl_global_cleanup(void) {
  if (ib_syslib_loaded(&lib)) FN(F_GLOBAL_CLEANUP, void (*)(void))();
}

CURL *curl_easy_init(void) {
  return ib_syslib_ready(&lib) ? FN(F_EASY_INIT, CURL * (*)(void))() : NULL;
}

void curl_easy_cleanup(CURL *curl) {
  if (ib_syslib_loaded(&lib)) FN(F_EASY_CLEANUP, void (*)(CURL * curl))(curl);
}

const char *curl_easy_strerror(CURLcode code) {
  return ib_syslib_loaded(&lib)
             ? FN(F_EASY_STRERROR, const char *(*)(CURLcode code))(code)
             : "libcurl is not loaded";
}

void curl_free(void *p) {
  if (ib_syslib_loaded(&lib)) FN(F_FREE, void (*)(void *p))(p);
}

time_t curl_getdate(const char *p, const time_t *unused) {
  return ib_syslib_ready(&lib)
             ? FN(F_GETDATE, time_t(*)(const char *p, const time_t *unused))(
                   p, unused)
             : -1;
}

CURLM *curl_multi_init(void) {
  return ib_syslib_ready(&lib) ? FN(F_MULTI_INIT, CURLM * (*)(void))() : NULL;
}

CURLMcode curl_multi_add_handle(CURLM *m, CURL *e) {
  return ib_syslib_loaded(&lib)
             ? FN(F_MULTI_ADD_HANDLE, CURLMcode(*)(CURLM * m, CURL * e))(m, e)
             : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_remove_handle(CURLM *m, CURL *e) {
  return ib_syslib_loaded(&lib) ? FN(F_MULTI_REMOVE_HANDLE,
                                     CURLMcode(*)(CURLM * m, CURL * e))(m, e)
                                : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_cleanup(CURLM *m) {
  return ib_syslib_loaded(&lib)
             ? FN(F_MULTI_CLEANUP, CURLMcode(*)(CURLM * m))(m)
             : CURLM_BAD_HANDLE;
}

CURLMsg *curl_multi_info_read(CURLM *m, int *left) {
  return ib_syslib_loaded(&lib)
             ? FN(F_MULTI_INFO_READ, CURLMsg * (*)(CURLM * m, int *left))(m,
                                                                          left)
             : NULL;
}

CURLMcode curl_multi_perform(CURLM *m, int *running) {
  return ib_syslib_loaded(&lib)
             ? FN(F_MULTI_PERFORM, CURLMcode(*)(CURLM * m, int *running))(
                   m, running)
             : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_poll(CURLM *m, struct curl_waitfd extra_fds[],
                          unsigned int extra_nfds, int timeout_ms, int *ret) {
  return ib_syslib_loaded(&lib)
             ? FN(F_MULTI_POLL,
                  CURLMcode(*)(CURLM * m, struct curl_waitfd extra_fds[],
                               unsigned int extra_nfds, int timeout_ms,
                               int *ret))(m, extra_fds, extra_nfds, timeout_ms,
                                          ret)
             : CURLM_BAD_HANDLE;
}

struct curl_slist *curl_slist_append(struct curl_slist *list,
                                     const char *data) {
  return ib_syslib_ready(&lib)
             ? FN(F_SLIST_APPEND,
                  struct curl_slist * (*)(struct curl_slist * list,
                                          const char *data))(list, data)
             : NULL;
}

void curl_slist_free_all(struct curl_slist *list) {
  if (ib_syslib_loaded(&lib))
    FN(F_SLIST_FREE_ALL, void (*)(struct curl_slist * list))(list);
}

CURLU *curl_url(void) {
  return ib_syslib_ready(&lib) ? FN(F_URL, CURLU * (*)(void))() : NULL;
}

void curl_url_cleanup(CURLU *u) {
  if (ib_syslib_loaded(&lib)) FN(F_URL_CLEANUP, void (*)(CURLU * u))(u);
}

CURLUcode curl_url_get(CURLU *u, CURLUPart what, char **part,
                       unsigned int flags) {
  return ib_syslib_loaded(&lib)
             ? FN(F_URL_GET, CURLUcode(*)(CURLU * u, CURLUPart what,
                                          char **part, unsigned int flags))(
                   u, what, part, flags)
             : CURLUE_OUT_OF_MEMORY;
}

CURLUcode curl_url_set(CURLU *u, CURLUPart what, const char *part,
                       unsigned int flags) {
  return ib_syslib_loaded(&lib)
             ? FN(F_URL_SET,
                  CURLUcode(*)(CURLU * u, CURLUPart what, const char *part,
                               unsigned int flags))(u, what, part, flags)
             : CURLUE_OUT_OF_MEMORY;
}

/* The third argument of a setopt call, read as the type its option's
 * number says (curl.h, CURLOPTTYPE_*), as libcurl itself reads it. */
typedef void (*any_fn)(void);
typedef struct opt_arg {
  enum { ARG_LONG, ARG_PTR, ARG_FN, ARG_OFF } type;
  long l;
  void *p;
  any_fn fn;
  curl_off_t off;
} opt_arg;

static opt_arg read_arg(long option, va_list ap) {
  opt_arg a = {.type = ARG_PTR};
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    a.type = ARG_LONG;
    a.l = va_arg(ap, long);
  } else if (option >= CURLOPTTYPE_FUNCTIONPOINT &&
             option < CURLOPTTYPE_OFF_T) {
    a.type = ARG_FN;
    a.fn = va_arg(ap, any_fn);
  } else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB) {
    a.type = ARG_OFF;
    a.off = va_arg(ap, curl_off_t);
  } else { /* object, string, list and blob pointers */
    a.p = va_arg(ap, void *);
  }
  return a;
}

/* f(h, o, the argument as read). */
#define PASS_ARG(f, h, o, a)                    \
  ((a).type == ARG_LONG  ? f((h), (o), (a).l)   \
   : (a).type == ARG_FN  ? f((h), (o), (a).fn)  \
   : (a).type == ARG_OFF ? f((h), (o), (a).off) \
                         : f((h), (o), (a).p))

CURLcode(curl_easy_setopt)(CURL *curl, CURLoption option, ...) {
  if (!ib_syslib_loaded(&lib)) return CURLE_FAILED_INIT;
  CURLcode (*f)(CURL *, CURLoption, ...) =
      FN(F_EASY_SETOPT, CURLcode(*)(CURL *, CURLoption, ...));
  va_list ap;
  va_start(ap, option);
  opt_arg a = read_arg((long)option, ap);
  va_end(ap);
  return PASS_ARG(f, curl, option, a);
}

CURLcode(curl_easy_getinfo)(CURL *curl, CURLINFO info, ...) {
  va_list ap;
  va_start(ap, info);
  void *out = va_arg(ap, void *); /* every CURLINFO takes a pointer */
  va_end(ap);
  return ib_syslib_loaded(&lib)
             ? FN(F_EASY_GETINFO, CURLcode(*)(CURL * curl, CURLINFO info, ...))(
                   curl, info, out)
             : CURLE_FAILED_INIT;
}

CURLMcode(curl_multi_setopt)(CURLM *m, CURLMoption option, ...) {
  if (!ib_syslib_loaded(&lib)) return CURLM_BAD_HANDLE;
  CURLMcode (*f)(CURLM *, CURLMoption, ...) =
      FN(F_MULTI_SETOPT, CURLMcode(*)(CURLM *, CURLMoption, ...));
  va_list ap;
  va_start(ap, option);
  opt_arg a = read_arg((long)option, ap);
  va_end(ap);
  return PASS_ARG(f, m, option, a);
}
