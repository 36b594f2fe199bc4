/*
 * notify.h -- alert notifications to webhooks (SPEC §10): the message
 * bodies (json itsm-bridge.alert/1, Slack and Teams incoming-webhook
 * messages) and their delivery through the host HTTP client (http.h: TLS,
 * retries, Retry-After, size limits). Knows nothing of the store or of
 * when a message is due: cmd_check.c decides that. Must never let the
 * bearer token or the webhook URL (a Slack or Teams URL is itself a
 * secret) reach a message.
 */
#ifndef IB_NOTIFY_H
#define IB_NOTIFY_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "config.h"

/* Slack and Teams messages list at most this many detail lines; the rest
 * is counted ("... and 12 more"). */
#define IB_NOTIFY_MAX_LINES 10

typedef struct ib_notice {
  const ib_alert_rule_cfg *rule; /* borrowed */
  int firing;                    /* 1: "firing", 0: "resolved" */
  ib_time since;                 /* firing since; NONE when resolved */
  const char *summary;           /* borrowed */
  const cJSON *details;          /* borrowed array; NULL = none */
} ib_notice;

/* The body to POST for webhook format `format`. NULL on ENOMEM; owned by
 * the caller (free). */
char *ib_notify_payload(ib_webhook_format format, const ib_notice *n);

/* POSTs body to webhook w (Content-Type: application/json; Authorization:
 * Bearer with the value of $token_env when w->token_env is set). 0 when
 * the webhook answered 2xx; else -1 with one line in err that names the
 * webhook, never its URL or token. */
int ib_notify_send(const ib_webhook_cfg *w, const char *body, int verbose,
                   char *err, size_t errlen);

#endif /* IB_NOTIFY_H */
