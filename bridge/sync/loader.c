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
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trust.h"

static int valid_name(const char *name) {
  if (name == NULL || *name == '\0' || strlen(name) > 64) return 0;
  for (const char *p = name; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') return 0;
  return 1;
}

/* The plugin folder without trailing slashes: "dir/" would make
 * O_NOFOLLOW follow a symbolic link named dir. */
static char *folder_name(const char *dir) {
  size_t len = strlen(dir);
  while (len > 1 && dir[len - 1] == '/') len--;
  return strndup(dir, len);
}

int ib_plugin_dir_open(const char *dir, char *err, size_t errlen) {
  char *name = folder_name(dir); /* owned here */
  if (name == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  struct stat sb;
  int fd = open(name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    struct stat lsb;
    if ((errno == ELOOP || errno == ENOTDIR) && lstat(name, &lsb) == 0 &&
        S_ISLNK(lsb.st_mode))
      snprintf(err, errlen,
               "plugin folder %s is a symbolic link: plugins load only from a "
               "real folder; give the folder itself (--plugin-dir or "
               "plugin_dir)",
               name);
    else
      snprintf(err, errlen, "%s: cannot read the plugin directory: %s", name,
               strerror(errno));
    goto fail;
  }
  if (fstat(fd, &sb) != 0) {
    snprintf(err, errlen, "%s: cannot read the plugin directory: %s", name,
             strerror(errno));
    goto fail;
  }
  if (ib_trust_check(&sb, S_IWGRP | S_IWOTH, "plugin folder", name,
                     ", or use another folder", err, errlen))
    goto fail;
  free(name);
  return fd;
fail:
  if (fd >= 0) close(fd);
  free(name);
  return -1;
}

int ib_plugin_load(const char *dir, const char *name, ib_loaded_plugin *out,
                   char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  out->fd = -1;
  int dfd = -1;
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
  if ((dfd = ib_plugin_dir_open(dir, err, errlen)) < 0) goto fail;
  /* dlopen runs the plugin's constructors before any magic check can
   * happen, so the file must be trusted before it is mapped: the folder
   * and the file are opened without following links, checked with fstat,
   * and the very file checked is handed to dlopen as /proc/self/fd/N.
   * Checking a path and then dlopen()ing the same path would leave a race
   * in which a writable parent folder lets the file be swapped. The
   * descriptor stays open while the plugin is loaded: glibc finds loaded
   * objects by name, and an fd number that cannot be reused meanwhile
   * keeps "/proc/self/fd/N" naming one file only. O_NONBLOCK: opening a
   * FIFO planted as NAME.so must not block. */
  char file[80];
  snprintf(file, sizeof file, "%s.so", name);
  struct stat sb;
  out->fd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (out->fd < 0) {
    if (errno == ELOOP || errno == ENXIO)
      snprintf(err, errlen,
               "%s: not a regular file; plugins are loaded only "
               "from regular files in the plugin directory",
               path);
    else
      snprintf(err, errlen,
               "%s: no such plugin (%s); 'itsm-bridge plugins' lists those in "
               "%s, --plugin-dir chooses another directory",
               path, strerror(errno), dir);
    goto fail;
  }
  if (fstat(out->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    snprintf(err, errlen,
             "%s: not a regular file; plugins are loaded only "
             "from regular files in the plugin directory",
             path);
    goto fail;
  }
  if (ib_trust_check(&sb, S_IWGRP | S_IWOTH, "plugin", path,
                     ", or use another folder", err, errlen))
    goto fail;
  close(dfd);
  dfd = -1;
  char fdpath[64];
  snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", out->fd);
  /* RTLD_LOCAL: two plugins' symbols never mix; RTLD_NOW: a missing
   * dependency fails here, not in the middle of a sync. */
  out->handle = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
  if (out->handle == NULL) {
    snprintf(err, errlen, "%s: cannot load: %s%s", path, dlerror(),
             access("/proc/self/fd", F_OK) != 0
                 ? " (plugins are loaded through /proc/self/fd: mount /proc)"
                 : "");
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
  if (dfd >= 0) close(dfd);
  ib_plugin_unload(out);
  return -1;
}

void ib_plugin_unload(ib_loaded_plugin *p) {
  /* Under a leak checker, unloading loses the plugin's symbols in the
   * report; IB_KEEP_PLUGINS keeps them mapped. */
  int keep = p->handle && getenv("IB_KEEP_PLUGINS") != NULL;
  if (p->handle && !keep) dlclose(p->handle);
  /* A plugin kept mapped keeps its descriptor: see ib_plugin_load. */
  if (p->fd >= 0 && !keep) close(p->fd);
  free(p->path);
  memset(p, 0, sizeof *p);
  p->fd = -1;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int ib_plugin_scan(const char *dir, void (*fn)(const char *name, void *arg),
                   void *arg, char *err, size_t errlen) {
  int dfd = ib_plugin_dir_open(dir, err, errlen);
  if (dfd < 0) return -1;
  DIR *d = fdopendir(dfd);
  if (d == NULL) {
    snprintf(err, errlen, "%s: cannot read the plugin directory: %s", dir,
             strerror(errno));
    close(dfd);
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
