/*
 * loader.c -- dlopen-based plugin loading with PostgreSQL-style magic
 * block checks. Must not run plugin callbacks other than the entry.
 */
#define _GNU_SOURCE
#include "loader.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int valid_name(const char *name) {
  if (name == NULL || *name == '\0' || strlen(name) > 64) return 0;
  for (const char *p = name; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') return 0;
  return 1;
}

int ib_plugin_load(const char *dir, const char *name, ib_loaded_plugin *out,
                   char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!valid_name(name)) {
    snprintf(err, errlen,
             "'%s' is not a plugin name (letters, digits, _ and -)",
             name ? name : "");
    return -1;
  }
  size_t len = strlen(dir) + strlen(name) + 5;
  char *path = malloc(len);
  if (path == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  snprintf(path, len, "%s/%s.so", dir, name);
  out->path = path;
  struct stat sb;
  if (lstat(path, &sb) != 0) {
    snprintf(err, errlen,
             "%s: no such plugin (%s); 'itsm-bridge plugins' lists those in "
             "%s, --plugin-dir chooses another directory",
             path, strerror(errno), dir);
    goto fail;
  }
  if (!S_ISREG(sb.st_mode)) {
    snprintf(err, errlen,
             "%s: not a regular file; plugins are loaded only "
             "from regular files in the plugin directory",
             path);
    goto fail;
  }
  /* RTLD_LOCAL: two plugins' symbols never mix; RTLD_NOW: a missing
   * dependency fails here, not in the middle of a sync. */
  out->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (out->handle == NULL) {
    snprintf(err, errlen, "%s: cannot load: %s", path, dlerror());
    goto fail;
  }
  dlerror();
  void *sym = dlsym(out->handle, IB_PLUGIN_ENTRY_SYMBOL);
  if (sym == NULL) {
    snprintf(err, errlen,
             "%s: no %s() entry: not an itsm-bridge plugin (define it with "
             "IB_PLUGIN_DEFINE)",
             path, IB_PLUGIN_ENTRY_SYMBOL);
    goto fail;
  }
  ib_plugin_entry_fn entry;
  memcpy(&entry, &sym, sizeof entry);
  const ib_plugin *d = entry();
  if (d == NULL) {
    snprintf(err, errlen, "%s: %s() returned no descriptor", path,
             IB_PLUGIN_ENTRY_SYMBOL);
    goto fail;
  }
  /* Check in the order of the fields: magic first, so that garbage is
   * never read as a version or a size. */
  if (d->magic != IB_PLUGIN_MAGIC) {
    snprintf(err, errlen,
             "%s: incompatible plugin: magic differs (host has 0x%08x, plugin "
             "has 0x%08x)",
             path, IB_PLUGIN_MAGIC, d->magic);
    goto fail;
  }
  if (d->abi_version != IB_PLUGIN_ABI_VERSION) {
    snprintf(err, errlen,
             "%s: incompatible plugin: ABI version differs (host has %u, "
             "plugin has %u); rebuild it against this itsm-bridge's "
             "itsm_bridge/plugin.h",
             path, IB_PLUGIN_ABI_VERSION, d->abi_version);
    goto fail;
  }
  /* Fields are only added at the end: a newer plugin may have a longer
   * descriptor, an older one a shorter one down to the first version's
   * (the host checks struct_size before reading a later field); anything
   * shorter lacks fields every host reads. */
  if (d->struct_size < IB_PLUGIN_SIZE_V1) {
    snprintf(err, errlen,
             "%s: incompatible plugin: descriptor size differs (host needs at "
             "least %zu, plugin has %zu)",
             path, (size_t)IB_PLUGIN_SIZE_V1, d->struct_size);
    goto fail;
  }
  if (d->name == NULL || strcmp(d->name, name) != 0) {
    snprintf(err, errlen, "%s: the plugin calls itself '%s', not '%s'", path,
             d->name ? d->name : "(null)", name);
    goto fail;
  }
  if (d->open == NULL || d->sync == NULL) {
    snprintf(err, errlen, "%s: the plugin has no %s callback", path,
             d->open == NULL ? "open" : "sync");
    goto fail;
  }
  out->desc = d;
  return 0;
fail:
  ib_plugin_unload(out);
  return -1;
}

void ib_plugin_unload(ib_loaded_plugin *p) {
  /* Under a leak checker, unloading loses the plugin's symbols in the
   * report; IB_KEEP_PLUGINS keeps them mapped. */
  if (p->handle && getenv("IB_KEEP_PLUGINS") == NULL) dlclose(p->handle);
  free(p->path);
  memset(p, 0, sizeof *p);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int ib_plugin_scan(const char *dir, void (*fn)(const char *name, void *arg),
                   void *arg, char *err, size_t errlen) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    snprintf(err, errlen, "%s: cannot read the plugin directory: %s", dir,
             strerror(errno));
    return -1;
  }
  char **names = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0) continue;
    char **nn = realloc(names, (n + 1) * sizeof *nn);
    if (nn == NULL) break;
    names = nn;
    if ((names[n] = strndup(e->d_name, len - 3)) == NULL) break;
    n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++) {
    fn(names[i], arg);
    free(names[i]);
  }
  free(names);
  return (int)n;
}

const char *ib_option_type_name(ib_option_type t) {
  switch (t) {
    case IB_OPT_STRING: return "string";
    case IB_OPT_INT: return "integer";
    case IB_OPT_BOOL: return "boolean";
    case IB_OPT_FLOAT: return "number";
    case IB_OPT_STRINGS: return "list of strings";
    case IB_OPT_PAIRS: return "list of pairs";
    case IB_OPT_GROUP: return "group";
  }
  return "?";
}
