/*
 * plugin_set.h -- the plugins a command needs, each loaded once even when
 * several sources use it, and the file:line checks of each source against
 * its plugin. Shared by sync, check-config and status.
 */
#ifndef IB_PLUGIN_SET_H
#define IB_PLUGIN_SET_H

#include "config.h"
#include "loader.h"

typedef struct ib_plugin_set {
  ib_loaded_plugin *plugins; /* owned, one per source (NULL desc = failed) */
  char **errors;             /* owned, per source: why it failed, or NULL */
  size_t n;
} ib_plugin_set;

/* Loads the plugin of every source in cfg (sources[i] -> plugins[i]) and
 * validates each source's keys. Returns 2 on a configuration error (printed
 * as file:line), 0 otherwise; a plugin that exists but is refused (ABI,
 * dlopen) is recorded in errors[i] and printed, and the others go on. */
int ib_plugin_set_load(ib_plugin_set *set, const ib_config *cfg,
                       const char *dir);
void ib_plugin_set_free(ib_plugin_set *set);

#endif /* IB_PLUGIN_SET_H */
