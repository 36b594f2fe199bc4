/* A plugin built wrong on purpose: an older, shorter descriptor, as if
 * built against a header that lacked the callbacks. */
#include <stddef.h>

#include "itsm_bridge/plugin.h"

static const ib_plugin descriptor = {
    .magic = IB_PLUGIN_MAGIC,
    .abi_version = IB_PLUGIN_ABI_VERSION,
    .struct_size = offsetof(ib_plugin, options),
    .name = "short_struct",
    .version = "0"};
IB_PLUGIN_DEFINE(descriptor)
