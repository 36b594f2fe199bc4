/*
 * transport.h -- the test seam of the host's HTTP service (internal).
 *
 * A source normally answers its plugin's host->http() calls with libcurl
 * (http.c). ib_source_sync_with_transport() runs the same sync with those
 * calls answered by `transport` instead: the plugin, the host services,
 * the store and the plain-http check are all the real ones, only the wire
 * is replaced. The one implementation today is the replay transport of
 * replay.h (canned answers for fuzzing and plugin tests).
 *
 * Only tests and fuzz targets include this header. Nothing in the
 * configuration, the command line or the environment can select a
 * transport; production code calls ib_source_sync() and never this.
 */
#ifndef IB_TRANSPORT_H
#define IB_TRANSPORT_H

#include <stddef.h>

#include "itsm_bridge/plugin.h"
#include "source.h"

/* Answers reqs[0..n) into resps[0..n) with the contract of
 * ib_host_services.http: every resps[i] initialised whatever the outcome,
 * its body and error malloc'ed (released by free() through http_free). */
typedef ib_status (*ib_transport_fn)(void *ctx, const ib_http_request *reqs,
                                     size_t n, ib_http_response *resps);

typedef struct ib_transport {
  ib_transport_fn perform;
  void *ctx; /* borrowed: passed to perform */
} ib_transport;

/* ib_source_sync(), with HTTP answered by `transport` (borrowed; must
 * outlive the call). No libcurl client is created and the source's auth
 * secrets are not read. */
int ib_source_sync_with_transport(const ib_config *cfg, const ib_source_cfg *sc,
                                  const ib_plugin *plugin, ib_store *st,
                                  const ib_sync_options *opt,
                                  const ib_transport *transport,
                                  ib_sync_result *res);

#endif /* IB_TRANSPORT_H */
