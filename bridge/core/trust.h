/*
 * trust.h -- the one rule for files whose content the program trusts
 * (plugin folders, plugins, token files): owned by root or by the running
 * user, and without the mode bits that would let others change (or read)
 * them. Must not open or read anything itself: callers fstat what they
 * opened, so the check applies to the very file they use.
 */
#ifndef IB_TRUST_H
#define IB_TRUST_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Checks *sb (from fstat of the opened file): 0 when it is owned by root or
 * the effective user and has none of the `forbidden` mode bits; else -1
 * with one line in err naming `what` ("plugin folder"), `path`, the rule
 * broken and the fix ("chmod go-w PATH"), followed by `alternative`
 * (", or use another folder"; may be ""). */
int ib_trust_check(const struct stat *sb, mode_t forbidden, const char *what,
                   const char *path, const char *alternative, char *err,
                   size_t errlen);

#endif /* IB_TRUST_H */
