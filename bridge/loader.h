/*
 * loader.h -- finds, opens and checks source plugins (dlopen).
 * Refuses a plugin whose magic, ABI version or descriptor size differ
 * from the host's, with one line naming the file and the field. Must not
 * run any plugin callback other than the entry function.
 */
#ifndef IB_LOADER_H
#define IB_LOADER_H

#include <stddef.h>

#include "itsm_bridge/plugin.h"

typedef struct ib_loaded_plugin {
  char *path;            /* owned */
  void *handle;          /* dlopen handle, owned */
  const ib_plugin *desc; /* inside the plugin; valid until unload */
} ib_loaded_plugin;

/* Loads <dir>/<name>.so. 0, or -1 with one line in err. */
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
