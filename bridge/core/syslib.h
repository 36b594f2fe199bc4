/*
 * syslib.h -- a system library opened on first use (dlopen by its soname)
 * instead of at every start: libcurl and libpq pull in some thirty shared
 * objects (TLS, Kerberos, LDAP...) whose mapping costs about 13 ms per
 * command, which a CSV source synced into SQLite never needs. The
 * functions the code calls keep their names: curl_lib.c and pq_lib.c
 * define them as forwarders to the symbols resolved here. Thread-safe;
 * knows nothing of either library.
 */
#ifndef IB_SYSLIB_H
#define IB_SYSLIB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

typedef struct ib_syslib {
  const char *soname;       /* "libpq.so.5" */
  const char *what;         /* "the PostgreSQL client library" */
  const char *package;      /* the Debian package that provides it */
  const char *const *names; /* symbols to resolve, NULL-terminated */
  void **slots;             /* where each goes, in the order of names */
  pthread_mutex_t mu;
  atomic_int state; /* 0 not tried, 1 loaded, -1 failed (err says why) */
  char err[384];
} ib_syslib;

#define IB_SYSLIB_INIT(so, what_, pkg, names_, slots_)                    \
  {                                                                       \
    .soname = (so), .what = (what_), .package = (pkg), .names = (names_), \
    .slots = (slots_), .mu = PTHREAD_MUTEX_INITIALIZER                    \
  }

/* Loads the library once (later calls return the first outcome): 0, or
 * -1 with one line in err naming the library, why, and the package to
 * install. The library stays loaded until exit. */
int ib_syslib_load(ib_syslib *l, char *err, size_t errlen);

/* Whether the library is loaded, loading it if not tried yet. */
static inline int ib_syslib_ready(ib_syslib *l) {
  if (atomic_load_explicit(&l->state, memory_order_acquire) == 1) return 1;
  return ib_syslib_load(l, NULL, 0) == 0;
}

/* Whether it is loaded, without trying: for the functions that release
 * or use what the library made (nothing to do before it is loaded). */
static inline int ib_syslib_loaded(ib_syslib *l) {
  return atomic_load_explicit(&l->state, memory_order_acquire) == 1;
}

#endif /* IB_SYSLIB_H */
