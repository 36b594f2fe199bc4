/*
 * loader.h -- finds, opens and checks source plugins (dlopen).
 * Refuses a plugin whose magic, ABI version or descriptor size differ
 * from the host's, with one line naming the file and the field; refuses
 * folders and files others could write before mapping them. Must not run
 * any plugin callback other than the entry function.
 */
#ifndef IB_LOADER_H
#define IB_LOADER_H

#include <stddef.h>

#include "itsm_bridge/plugin.h"

typedef struct ib_loaded_plugin {
  char *path;            /* owned */
  void *handle;          /* dlopen handle, owned */
  const ib_plugin *desc; /* inside the plugin; valid until unload */
  int fd;                /* the opened .so, owned; -1 when none */
} ib_loaded_plugin;

/* Opens the plugin folder without following a symbolic link and checks it
 * is owned by root or the running user and not writable by group/others.
 * Returns the descriptor (owned by the caller: close), or -1 with one line
 * in err naming the folder, the rule and the fix. */
int ib_plugin_dir_open(const char *dir, char *err, size_t errlen);

/* Loads <dir>/<name>.so once the folder (ib_plugin_dir_open) and the file
 * (regular, not a link, same owner/mode rule) are trusted. 0, or -1 with
 * one line in err. */
int ib_plugin_load(const char *dir, const char *name, ib_loaded_plugin *out,
                   char *err, size_t errlen);
void ib_plugin_unload(ib_loaded_plugin *p);

/* Calls fn for each "*.so" regular file in dir, sorted by name, with the
 * plugin name (file name without .so). Returns the number of files, or -1
 * with err when dir cannot be read. */
int ib_plugin_scan(const char *dir, void (*fn)(const char *name, void *arg),
                   void *arg, char *err, size_t errlen);

/* "text", "int", ... for an option type. */
const char *ib_option_type_name(ib_option_type t);

#endif /* IB_LOADER_H */
