/* A plugin as built against the first SDK version, that talks HTTP: its
 * descriptor ends after close(), and its responses are the first, shorter
 * ib_http_response (no headers), passed as an array. The host must fill
 * and free them by their own size and stride (test_sdk_abi.py under the
 * sanitizers). It emits one ticket whose title says what it received. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itsm_bridge/plugin.h"

/* ib_http_response as the first SDK version declared it. */
typedef struct v1_response {
  size_t struct_size;
  long status;
  char *body;
  size_t body_len;
  char *error;
} v1_response;

typedef struct v1 {
  const ib_host_services *host;
  ib_source *src;
} v1;

static const ib_option_def options[] = {
    {"url", IB_OPT_STRING, 1, NULL, "mock server base URL", 0, NULL},
    {NULL, 0, 0, NULL, NULL, 0, NULL}};

static ib_status v1_open(const ib_host_services *host, ib_source *src,
                         void **instance) {
  v1 *p = calloc(1, sizeof *p);
  if (p == NULL) return IB_ERR_NOMEM;
  p->host = host;
  p->src = src;
  *instance = p;
  return IB_OK;
}

static ib_status v1_sync(void *instance) {
  v1 *p = instance;
  const char *base = p->host->get_string(p->src, "url");
  char u0[256], u1[256], title[128];
  snprintf(u0, sizeof u0, "%s/status/204", base);
  snprintf(u1, sizeof u1, "%s/echo/second", base);
  ib_http_request reqs[2] = {{.struct_size = sizeof reqs[0], .url = u0},
                             {.struct_size = sizeof reqs[1], .url = u1}};
  v1_response resps[2] = {{.struct_size = sizeof resps[0]},
                          {.struct_size = sizeof resps[1]}};
  ib_status st = p->host->http(p->src, reqs, 2, (ib_http_response *)resps);
  if (st != IB_OK) return st;
  snprintf(
      title, sizeof title, "%ld %ld %s %zu", resps[0].status, resps[1].status,
      resps[1].body && strstr(resps[1].body, "/echo/second") ? "echo" : "none",
      resps[0].struct_size);
  for (int i = 0; i < 2; i++) p->host->http_free((ib_http_response *)&resps[i]);
  ib_ticket t = IB_TICKET_INIT;
  t.id = "v1-1";
  t.title = title;
  t.created_at = 1790000000;
  st = p->host->emit_ticket(p->src, &t, "v1-1");
  if (st != IB_OK) return st;
  return p->host->commit(p->src, t.created_at);
}

static void v1_close(void *instance) {
  free(instance);
}

static const ib_plugin descriptor = {.magic = IB_PLUGIN_MAGIC,
                                     .abi_version = IB_PLUGIN_ABI_VERSION,
                                     .struct_size = IB_PLUGIN_SIZE_V1,
                                     .name = "v1_http",
                                     .version = "0",
                                     .flags = IB_PLUGIN_FLAG_HTTP,
                                     .options = options,
                                     .open = v1_open,
                                     .sync = v1_sync,
                                     .close = v1_close};
IB_PLUGIN_DEFINE(descriptor)
