/*
 * A well-formed plugin that emits what a hostile or broken source sends
 * (issue 11.6, 11.7): text with invalid UTF-8, an id that is not UTF-8,
 * and instants outside the years 0000-9999. The host must repair the text
 * (with a warning) and reject the rest with each record's position.
 */
#include <stddef.h>

#include "itsm_bridge/plugin.h"

#define OCT_2026 INT64_C(1790812800) /* 2026-10-01T00:00:00Z */
#define YEAR_10000 INT64_C(253402300800)
#define BEFORE_YEAR_0 INT64_C(-62167219201)

typedef struct inst {
  const ib_host_services *host;
  ib_source *src;
} inst;

static inst the_instance; /* one source per test; no state kept in it */

static ib_status h_open(const ib_host_services *h, ib_source *s, void **i) {
  the_instance.host = h;
  the_instance.src = s;
  *i = &the_instance;
  return IB_OK;
}

static ib_status ticket(inst *in, const char *id, const char *title,
                        const char *service, ib_time created, ib_time resolved,
                        const ib_interval *pause, const char *where) {
  ib_ticket t = IB_TICKET_INIT;
  t.id = id;
  t.title = title;
  t.service = service;
  t.priority = "P1";
  t.created_at = created;
  t.resolved_at = resolved;
  t.pauses = pause;
  t.n_pauses = pause ? 1 : 0;
  return in->host->emit_ticket(in->src, &t, where);
}

static ib_status h_sync(void *i) {
  inst *in = i;
  ib_interval ancient = {BEFORE_YEAR_0, OCT_2026};
  ticket(in, "T1", "caf\xe9 au lait \xff", "svc\xc3", OCT_2026, OCT_2026 + 3600,
         NULL, "record 1");
  ticket(in, "T2", "year 10000", NULL, OCT_2026, YEAR_10000, NULL, "record 2");
  ticket(in, "T3", "ancient pause", NULL, OCT_2026, OCT_2026 + 7200, &ancient,
         "record 3");
  ticket(in, "T\xff", "bad id", NULL, OCT_2026, OCT_2026 + 60, NULL,
         "record 4");
  ticket(in, "T5", "fine", NULL, OCT_2026, OCT_2026 + 60, NULL, "record 5");
  ib_outage o = IB_OUTAGE_INIT;
  o.id = "O1";
  o.service = "svc";
  o.start = BEFORE_YEAR_0;
  in->host->emit_outage(in->src, &o, "record 6");
  return in->host->commit(in->src, IB_TIME_NONE);
}

static const ib_plugin descriptor = {.magic = IB_PLUGIN_MAGIC,
                                     .abi_version = IB_PLUGIN_ABI_VERSION,
                                     .struct_size = sizeof(ib_plugin),
                                     .name = "hostile_records",
                                     .version = "0",
                                     .description = "emits hostile records",
                                     .options = NULL,
                                     .open = h_open,
                                     .sync = h_sync};
IB_PLUGIN_DEFINE(descriptor)
