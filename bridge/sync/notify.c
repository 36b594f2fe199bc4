/*
 * notify.c -- builds alert messages for webhooks and posts them through
 * the host HTTP client (see notify.h). Must not know the store or decide
 * when a message is due; must never print the token or the webhook URL.
 *
 * Message shapes, as the tools document their incoming webhooks:
 *  - Slack: a JSON object with `text` (the notification fallback) and
 *    `blocks` (Block Kit: header, section with mrkdwn text, context), POSTed
 *    to the incoming-webhook URL; mrkdwn needs &, < and > escaped.
 *    https://api.slack.com/messaging/webhooks and
 *    https://api.slack.com/reference/surfaces/formatting#escaping
 *  - Teams: a `message` whose `attachments` hold one Adaptive Card
 *    (contentType application/vnd.microsoft.card.adaptive, TextBlocks),
 *    the form Teams incoming webhooks and Workflows accept.
 *    https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
 */
#define _GNU_SOURCE
#include "notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "http.h"
#include "tz.h"
#include "utf8.h"

/* Slack limits a section's text to 3000 characters and a header's to 150;
 * lines are cut well below. */
#define SLACK_HEADER_MAX 140
#define LINE_MAX_CHARS 240
/* Webhook answers are small; a bounded wait per message (a webhook down
 * is retried at the next check, not here for minutes). */
#define NOTIFY_TIMEOUT_S 30
#define NOTIFY_MAX_WAIT_S 60.0
#define NOTIFY_MAX_BYTES ((size_t)1024 * 1024)

static const char *state_word(const ib_notice *n) {
  return n->firing ? "firing" : "resolved";
}

static void title_of(const ib_notice *n, char *buf, size_t len) {
  snprintf(buf, len, "%s: %s (%s)", n->firing ? "FIRING" : "RESOLVED",
           n->rule->name, ib_alert_type_name(n->rule->type));
  ib_utf8_trim_partial(buf); /* Slack caps a header: a long name is cut */
}

static const char *summary_of(const ib_notice *n) {
  if (n->firing) return n->summary ? n->summary : "";
  return "no longer firing";
}

/* Appends text to a growing buffer; sets *oom on failure. */
static void append(char **buf, size_t *len, int *oom, const char *text) {
  if (*oom) return;
  size_t add = strlen(text);
  char *grown = realloc(*buf, *len + add + 1);
  if (grown == NULL) {
    *oom = 1;
    return;
  }
  memcpy(grown + *len, text, add + 1);
  *buf = grown;
  *len += add;
}

/* Slack mrkdwn: & < > escaped (the only characters it requires). */
static void append_mrkdwn(char **buf, size_t *len, int *oom, const char *text) {
  for (const char *p = text; *p; p++) {
    char one[2] = {*p, '\0'};
    append(buf, len, oom,
           *p == '&'   ? "&amp;"
           : *p == '<' ? "&lt;"
           : *p == '>' ? "&gt;"
                       : one);
  }
}

/* The detail lines, "- " (Teams) or "• " (Slack) each, at most
 * IB_NOTIFY_MAX_LINES; NULL when there are none (or on ENOMEM, *oom). */
static char *detail_lines(const ib_notice *n, int slack, int *oom) {
  int count = n->details ? cJSON_GetArraySize(n->details) : 0;
  if (count == 0) return NULL;
  char *buf = NULL;
  size_t len = 0;
  for (int i = 0; i < count && i < IB_NOTIFY_MAX_LINES; i++) {
    char line[LINE_MAX_CHARS];
    ib_alert_detail_line(n->rule->type, cJSON_GetArrayItem(n->details, i), line,
                         sizeof line);
    append(&buf, &len, oom, i ? "\n" : "");
    append(&buf, &len, oom, slack ? "\xe2\x80\xa2 " : "- ");
    if (slack)
      append_mrkdwn(&buf, &len, oom, line);
    else
      append(&buf, &len, oom, line);
  }
  if (count > IB_NOTIFY_MAX_LINES) {
    char more[64];
    snprintf(more, sizeof more, "\n... and %d more",
             count - IB_NOTIFY_MAX_LINES);
    append(&buf, &len, oom, more);
  }
  if (*oom) {
    free(buf);
    return NULL;
  }
  return buf;
}

static void footer_of(const ib_notice *n, char *buf, size_t len) {
  char since[IB_ISO_LEN] = "";
  if (n->since != IB_TIME_NONE) ib_format_iso8601(n->since, since);
  snprintf(buf, len, "itsm-bridge check \xc2\xb7 %s \xc2\xb7 %s%s%s",
           n->rule->name, state_word(n), since[0] ? " since " : "", since);
  ib_utf8_trim_partial(buf);
}

static cJSON *json_payload(const ib_notice *n) {
  cJSON *o = cJSON_CreateObject();
  if (o == NULL) return NULL;
  cJSON_AddStringToObject(o, "schema", "itsm-bridge.alert/1");
  cJSON_AddStringToObject(o, "rule", n->rule->name);
  cJSON_AddStringToObject(o, "type", ib_alert_type_name(n->rule->type));
  cJSON_AddStringToObject(o, "state", state_word(n));
  if (n->since != IB_TIME_NONE) {
    char iso[IB_ISO_LEN];
    ib_format_iso8601(n->since, iso);
    cJSON_AddStringToObject(o, "since", iso);
  } else {
    cJSON_AddNullToObject(o, "since");
  }
  cJSON_AddStringToObject(o, "summary", summary_of(n));
  cJSON *details = n->firing && n->details ? cJSON_Duplicate(n->details, 1)
                                           : cJSON_CreateArray();
  if (details == NULL) {
    cJSON_Delete(o);
    return NULL;
  }
  cJSON_AddItemToObject(o, "details", details);
  return o;
}

static cJSON *mrkdwn_text(const char *type, const char *text) {
  cJSON *t = cJSON_CreateObject();
  if (t == NULL) return NULL;
  cJSON_AddStringToObject(t, "type", type);
  cJSON_AddStringToObject(t, "text", text);
  return t;
}

static cJSON *slack_payload(const ib_notice *n) {
  char title[SLACK_HEADER_MAX + 1], footer[256];
  title_of(n, title, sizeof title);
  footer_of(n, footer, sizeof footer);
  int oom = 0;
  char *summary = NULL, *lines = n->firing ? detail_lines(n, 1, &oom) : NULL;
  size_t len = 0;
  append_mrkdwn(&summary, &len, &oom, summary_of(n));
  cJSON *o = cJSON_CreateObject();
  cJSON *blocks = cJSON_CreateArray();
  if (oom || o == NULL || blocks == NULL) goto fail;
  char text[1024];
  snprintf(text, sizeof text, "%s %s", title, summary_of(n));
  cJSON_AddStringToObject(o, "text", text);
  cJSON_AddItemToObject(o, "blocks", blocks);
  cJSON *b = cJSON_CreateObject();
  cJSON_AddItemToArray(blocks, b);
  cJSON_AddStringToObject(b, "type", "header");
  cJSON_AddItemToObject(b, "text", mrkdwn_text("plain_text", title));
  b = cJSON_CreateObject();
  cJSON_AddItemToArray(blocks, b);
  cJSON_AddStringToObject(b, "type", "section");
  cJSON_AddItemToObject(b, "text", mrkdwn_text("mrkdwn", summary));
  if (lines) {
    b = cJSON_CreateObject();
    cJSON_AddItemToArray(blocks, b);
    cJSON_AddStringToObject(b, "type", "section");
    cJSON_AddItemToObject(b, "text", mrkdwn_text("mrkdwn", lines));
  }
  b = cJSON_CreateObject();
  cJSON_AddItemToArray(blocks, b);
  cJSON_AddStringToObject(b, "type", "context");
  cJSON *elements = cJSON_AddArrayToObject(b, "elements");
  cJSON_AddItemToArray(elements, mrkdwn_text("mrkdwn", footer));
  free(summary);
  free(lines);
  return o;
fail: /* reached before blocks is attached to o */
  cJSON_Delete(o);
  cJSON_Delete(blocks);
  free(summary);
  free(lines);
  return NULL;
}

static cJSON *text_block(cJSON *body, const char *text) {
  cJSON *t = cJSON_CreateObject();
  cJSON_AddItemToArray(body, t);
  cJSON_AddStringToObject(t, "type", "TextBlock");
  cJSON_AddStringToObject(t, "text", text);
  cJSON_AddBoolToObject(t, "wrap", 1);
  return t;
}

static cJSON *teams_payload(const ib_notice *n) {
  char title[256], footer[256];
  title_of(n, title, sizeof title);
  footer_of(n, footer, sizeof footer);
  int oom = 0;
  char *lines = n->firing ? detail_lines(n, 0, &oom) : NULL;
  cJSON *o = cJSON_CreateObject();
  if (oom || o == NULL) {
    cJSON_Delete(o);
    free(lines);
    return NULL;
  }
  cJSON_AddStringToObject(o, "type", "message");
  cJSON *att = cJSON_AddArrayToObject(o, "attachments");
  cJSON *a = cJSON_CreateObject();
  cJSON_AddItemToArray(att, a);
  cJSON_AddStringToObject(a, "contentType",
                          "application/vnd.microsoft.card.adaptive");
  cJSON_AddNullToObject(a, "contentUrl");
  cJSON *card = cJSON_AddObjectToObject(a, "content");
  cJSON_AddStringToObject(card, "$schema",
                          "http://adaptivecards.io/schemas/adaptive-card.json");
  cJSON_AddStringToObject(card, "type", "AdaptiveCard");
  cJSON_AddStringToObject(card, "version", "1.4");
  cJSON *body = cJSON_AddArrayToObject(card, "body");
  cJSON *t = text_block(body, title);
  cJSON_AddStringToObject(t, "size", "Medium");
  cJSON_AddStringToObject(t, "weight", "Bolder");
  if (n->firing) cJSON_AddStringToObject(t, "color", "Attention");
  text_block(body, summary_of(n));
  if (lines) text_block(body, lines);
  t = text_block(body, footer);
  cJSON_AddBoolToObject(t, "isSubtle", 1);
  free(lines);
  return o;
}

char *ib_notify_payload(ib_webhook_format format, const ib_notice *n) {
  cJSON *o = format == IB_WEBHOOK_SLACK   ? slack_payload(n)
             : format == IB_WEBHOOK_TEAMS ? teams_payload(n)
                                          : json_payload(n);
  if (o == NULL) return NULL;
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return text;
}

typedef struct send_ctx {
  const ib_webhook_cfg *w;
  int verbose;
  char last[512];
} send_ctx;

/* The HTTP client's messages: kept for the error line (secrets already
 * scrubbed by the client); traces only in verbose mode. */
static void on_log(void *ctx, ib_log_level level, const char *msg) {
  send_ctx *sc = ctx;
  if (level <= IB_LOG_WARN)
    snprintf(sc->last, sizeof sc->last, "%s", msg);
  else if (sc->verbose)
    fprintf(stderr, "check: webhook '%s': %s\n", sc->w->name, msg);
}

int ib_notify_send(const ib_webhook_cfg *w, const char *body, int verbose,
                   char *err, size_t errlen) {
  send_ctx sc = {.w = w, .verbose = verbose};
  const char *token = NULL;
  if (w->token_env != NULL) {
    token = getenv(w->token_env);
    if (token == NULL || token[0] == '\0') {
      snprintf(err, errlen,
               "webhook '%s': $%s (its token_env) is not set; set it in the "
               "environment of itsm-bridge check",
               w->name, w->token_env);
      return -1;
    }
  }
  char label[160];
  snprintf(label, sizeof label, "webhook '%s'", w->name);
  ib_http_config hc = {
      .label = label,
      .auth = token ? IB_AUTH_BEARER : IB_AUTH_NONE,
      .token = token,
      .timeout_s = NOTIFY_TIMEOUT_S,
      .max_concurrency = 1,
      .max_wait_s = NOTIFY_MAX_WAIT_S,
      .verbose = verbose,
      .max_batch_bytes = NOTIFY_MAX_BYTES,
      .log = on_log,
      .log_ctx = &sc,
  };
  char hint[160];
  snprintf(hint, sizeof hint, "the token in $%s (token_env of webhook '%s')",
           w->token_env ? w->token_env : "?", w->name);
  hc.credentials_hint = token ? hint : NULL;
  const char *base = getenv("ITSM_BRIDGE_BACKOFF_BASE");
  if (base) hc.backoff_base_s = strtod(base, NULL); /* tests: fast retries */
  ib_http_client *c = ib_http_client_new(&hc, err, errlen);
  if (c == NULL) return -1;
  /* The URL of a Slack or Teams webhook is a credential: never shown. */
  char shown[1024];
  ib_http_url_for_message(w->url, shown, sizeof shown);
  int rc = -1;
  if (ib_http_client_add_secret(c, w->url) ||
      ib_http_client_add_secret(c, shown)) {
    snprintf(err, errlen, "webhook '%s': out of memory", w->name);
    goto done;
  }
  static const char *const headers[] = {"Content-Type: application/json", NULL};
  ib_http_request req = {.struct_size = sizeof req,
                         .method = "POST",
                         .url = w->url,
                         .body = body,
                         .headers = headers};
  ib_http_response resp = {.struct_size = sizeof resp};
  ib_status st = ib_http_perform(c, &req, 1, &resp);
  if (st == IB_OK && resp.status >= 200 && resp.status < 300) {
    rc = 0;
  } else if (st == IB_OK) {
    snprintf(err, errlen,
             "webhook '%s' answered HTTP %ld; the message stays pending and "
             "is sent again at the next check",
             w->name, resp.status);
  } else {
    const char *why = sc.last[0] ? sc.last : ib_http_client_last_error(c);
    snprintf(err, errlen,
             "webhook '%s' not reached (%s); the message stays pending and "
             "is sent again at the next check",
             w->name, why && why[0] ? why : "transport error");
  }
  ib_http_response_free(&resp);
done:
  ib_http_client_free(c);
  return rc;
}
