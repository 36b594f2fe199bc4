/*
 * syslib.c -- see syslib.h.
 */
#include "syslib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static int try_load(ib_syslib *l) {
  void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    const char *why = dlerror();
    snprintf(l->err, sizeof l->err,
             "cannot load %s (%s): %s; install the %s "
             "package",
             l->what, l->soname, why ? why : "unknown error", l->package);
    return -1;
  }
  for (size_t i = 0; l->names[i] != NULL; i++) {
    void *sym = dlsym(h, l->names[i]);
    if (sym == NULL) {
      snprintf(l->err, sizeof l->err,
               "%s (%s) lacks %s: it is too old; "
               "install a current %s package",
               l->what, l->soname, l->names[i], l->package);
      dlclose(h);
      return -1;
    }
    l->slots[i] = sym;
  }
  return 0;
}

int ib_syslib_load(ib_syslib *l, char *err, size_t errlen) {
  int state = atomic_load_explicit(&l->state, memory_order_acquire);
  if (state == 0) {
    pthread_mutex_lock(&l->mu);
    state = atomic_load_explicit(&l->state, memory_order_relaxed);
    if (state == 0) {
      state = try_load(l) == 0 ? 1 : -1;
      atomic_store_explicit(&l->state, state, memory_order_release);
    }
    pthread_mutex_unlock(&l->mu);
  }
  if (state == 1) return 0;
  if (err != NULL && errlen > 0) snprintf(err, errlen, "%s", l->err);
  return -1;
}
