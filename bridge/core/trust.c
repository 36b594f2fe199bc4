/*
 * trust.c -- owner and mode rule for trusted files (see trust.h). Must not
 * open files: the caller fstat()s the descriptor it goes on to use.
 */
#include "trust.h"

#include <stdio.h>
#include <unistd.h>

int ib_trust_check(const struct stat *sb, mode_t forbidden, const char *what,
                   const char *path, const char *alternative, char *err,
                   size_t errlen) {
  uid_t me = geteuid();
  if (sb->st_uid != 0 && sb->st_uid != me) {
    snprintf(err, errlen,
             "%s %s is owned by uid %ld, neither root nor the running user "
             "(uid %ld): chown it%s",
             what, path, (long)sb->st_uid, (long)me, alternative);
    return -1;
  }
  mode_t bad = sb->st_mode & forbidden;
  if (bad == 0) return 0;
  if (bad & (S_IWGRP | S_IWOTH))
    snprintf(err, errlen, "%s %s is writable by group/others: chmod go-w %s%s",
             what, path, path, alternative);
  else
    snprintf(err, errlen, "%s %s is readable by group/others: chmod 600 %s%s",
             what, path, path, alternative);
  return -1;
}
