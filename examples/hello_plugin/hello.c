/*
 * hello.c -- a complete, minimal itsm-bridge source plugin, built out of
 * tree against the installed SDK:
 *
 *   cc -shared -fPIC $(pkg-config --cflags itsm-bridge-plugin) \
 *      -o hello.so hello.c
 *
 * It emits `count` tickets, one a day from `start`, and commits them with
 * the watermark. Everything it keeps lives in its instance, so several
 * sources can use it at once.
 */
#include <stdio.h>
#include <stdlib.h>

#include <itsm_bridge/plugin.h>

typedef struct hello {
  const ib_host_services *host;
  ib_source *src;
  int64_t count;
  ib_time start;
} hello;

static const ib_option_def options[] = {
    {.name = "count",
     .type = IB_OPT_INT,
     .default_value = "3",
     .description = "how many tickets to emit"},
    {.name = "start",
     .type = IB_OPT_STRING,
     .required = 1,
     .description = "creation time of the first ticket (ISO-8601)"},
    {0}};

static ib_status hello_open(const ib_host_services *host, ib_source *src,
                            void **instance) {
  hello *h = calloc(1, sizeof *h);
  if (h == NULL) return IB_ERR_NOMEM;
  h->host = host;
  h->src = src;
  h->count = host->get_int(src, "count", 3);
  if (host->parse_time(src, host->get_string(src, "start"), NULL, &h->start) !=
      IB_OK) {
    host->log(src, IB_LOG_ERROR, "start: not an ISO-8601 instant");
    free(h);
    return IB_ERR_CONFIG;
  }
  *instance = h;
  return IB_OK;
}

static ib_status hello_sync(void *instance) {
  hello *h = instance;
  ib_time watermark = IB_TIME_NONE;
  for (int64_t i = 0; i < h->count; i++) {
    char id[32], title[64];
    snprintf(id, sizeof id, "HELLO-%lld", (long long)i + 1);
    snprintf(title, sizeof title, "Greeting number %lld", (long long)i + 1);
    ib_ticket t = IB_TICKET_INIT;
    t.id = id;
    t.title = title;
    t.kind = "request";
    t.priority = "P3";
    t.status = "resolved";
    t.created_at = h->start + i * 86400;
    t.first_response_at = t.created_at + 600;
    t.resolved_at = t.created_at + 3600;
    t.updated_at = t.resolved_at;
    ib_status s = h->host->emit_ticket(h->src, &t, id);
    if (s != IB_OK && s != IB_ERR_REJECTED) return s;
    watermark = t.updated_at;
  }
  return h->host->commit(h->src, watermark);
}

static void hello_close(void *instance) {
  free(instance);
}

static const ib_plugin descriptor = {
    .magic = IB_PLUGIN_MAGIC,
    .abi_version = IB_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(ib_plugin),
    .name = "hello",
    .version = "1.0.0",
    .description = "example: emits a few synthetic tickets",
    .options = options,
    .open = hello_open,
    .sync = hello_sync,
    .close = hello_close,
};

IB_PLUGIN_DEFINE(descriptor)
