/* A plugin built wrong on purpose: it claims a future ABI version. */
#include "itsm_bridge/plugin.h"

static ib_status nop_open(const ib_host_services *h, ib_source *s, void **i) {
  (void)h;
  (void)s;
  *i = 0;
  return IB_OK;
}
static ib_status nop_sync(void *i) {
  (void)i;
  return IB_OK;
}

static const ib_plugin descriptor = {.magic = IB_PLUGIN_MAGIC,
                                     .abi_version = IB_PLUGIN_ABI_VERSION + 1,
                                     .struct_size = sizeof(ib_plugin),
                                     .name = "bad_abi",
                                     .version = "0",
                                     .open = nop_open,
                                     .sync = nop_sync};
IB_PLUGIN_DEFINE(descriptor)
