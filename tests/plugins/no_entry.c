/* A shared object built wrong on purpose: it exports no ib_plugin_entry. */
#include "itsm_bridge/plugin.h"

IB_EXPORT int not_a_plugin(void);
IB_EXPORT int not_a_plugin(void) {
  return 42;
}
