/*
 * export_file.c -- atomic file writing for the exporters (temp + rename).
 * Must not know any export format.
 */
#define _GNU_SOURCE
#include "export_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_SUFFIX ".XXXXXX"

static void release(ib_atomic_file *f) {
  free(f->path);
  free(f->tmp);
  f->path = f->tmp = NULL;
  f->fp = NULL;
}

int ib_atomic_open(ib_atomic_file *f, const char *path, char *err,
                   size_t errlen) {
  memset(f, 0, sizeof *f);
  if (!strcmp(path, "-")) {
    f->fp = stdout;
    return 0;
  }
  int fd = -1;
  f->path = strdup(path);
  /* ".NAME.XXXXXX" in the same directory: a rename never crosses file
   * systems, and the textfile collector ignores names not ending in .prom */
  const char *slash = strrchr(path, '/');
  size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
  size_t need = strlen(path) + 2 + sizeof TMP_SUFFIX;
  f->tmp = malloc(need);
  if (f->path == NULL || f->tmp == NULL) {
    snprintf(err, errlen, "%s: out of memory", path);
    goto fail;
  }
  snprintf(f->tmp, need, "%.*s.%s%s", (int)dirlen, path, path + dirlen,
           TMP_SUFFIX);
  fd = mkstemp(f->tmp);
  if (fd < 0) {
    snprintf(err, errlen,
             "%s: cannot create a file there (%s); check the "
             "directory exists and is writable",
             path, strerror(errno));
    free(f->tmp);
    f->tmp = NULL;
    goto fail;
  }
  mode_t mask = umask(0);
  umask(mask);
  if (fchmod(fd, 0666 & ~mask) != 0 || (f->fp = fdopen(fd, "w")) == NULL) {
    snprintf(err, errlen, "%s: %s", f->tmp, strerror(errno));
    close(fd);
    goto fail;
  }
  return 0;
fail:
  ib_atomic_abort(f);
  return -1;
}

int ib_atomic_commit(ib_atomic_file *f, char *err, size_t errlen) {
  if (f->fp == stdout && f->tmp == NULL) {
    int bad = fflush(stdout) != 0 || ferror(stdout);
    f->fp = NULL;
    if (bad) {
      snprintf(err, errlen, "cannot write to standard output");
      return -1;
    }
    return 0;
  }
  int bad = fflush(f->fp) != 0 || ferror(f->fp) || fsync(fileno(f->fp)) != 0;
  int saved = errno;
  if (fclose(f->fp) != 0 && !bad) {
    bad = 1;
    saved = errno;
  }
  f->fp = NULL;
  if (!bad && rename(f->tmp, f->path) != 0) {
    bad = 1;
    saved = errno;
  }
  if (bad) {
    snprintf(err, errlen,
             "%s: cannot write the file (%s); check free space "
             "and permissions",
             f->path, strerror(saved));
    ib_atomic_abort(f);
    return -1;
  }
  release(f);
  return 0;
}

void ib_atomic_abort(ib_atomic_file *f) {
  if (f->fp == stdout && f->tmp == NULL) {
    f->fp = NULL;
    return;
  }
  if (f->fp != NULL) fclose(f->fp);
  if (f->tmp != NULL) unlink(f->tmp);
  release(f);
}

int ib_export_make_dir(const char *dir, char *err, size_t errlen) {
  struct stat sb;
  if (stat(dir, &sb) == 0) {
    if (S_ISDIR(sb.st_mode)) return 0;
    snprintf(err, errlen,
             "%s exists and is not a directory; give --out a "
             "directory",
             dir);
    return -1;
  }
  if (mkdir(dir, 0777) != 0) {
    snprintf(err, errlen, "%s: cannot create the directory (%s)", dir,
             strerror(errno));
    return -1;
  }
  return 0;
}
