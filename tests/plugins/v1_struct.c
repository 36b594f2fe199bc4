/* A plugin as built against the first SDK version: its descriptor ends
 * after close() (no authenticate). The loader must accept it, and the
 * host must never read past its struct_size. */
#include <stddef.h>

#include "itsm_bridge/plugin.h"

static ib_status v1_open(const ib_host_services *host, ib_source *src,
                         void **instance) {
  (void)host;
  (void)src;
  *instance = NULL;
  return IB_OK;
}

static ib_status v1_sync(void *instance) {
  (void)instance;
  return IB_OK;
}

static const ib_plugin descriptor = {.magic = IB_PLUGIN_MAGIC,
                                     .abi_version = IB_PLUGIN_ABI_VERSION,
                                     .struct_size = IB_PLUGIN_SIZE_V1,
                                     .name = "v1_struct",
                                     .version = "0",
                                     .open = v1_open,
                                     .sync = v1_sync};
IB_PLUGIN_DEFINE(descriptor)
