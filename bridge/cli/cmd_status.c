/*
 * cmd_status.c -- `itsm-bridge status`: for each source, the last
 * success, the watermark, the lag, the last error and the record counts.
 * Read-only; never takes the sync lock.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "tz.h"

static void fmt_time(ib_time t, char *buf) {
  if (t == IB_TIME_NONE)
    snprintf(buf, IB_ISO_LEN, "never");
  else
    ib_format_iso8601(t, buf);
}

static void fmt_lag(ib_time t, ib_time now, char *buf, size_t len) {
  if (t == IB_TIME_NONE) {
    snprintf(buf, len, "-");
    return;
  }
  int64_t s = now - t;
  if (s < 0) s = 0;
  if (s >= 86400)
    snprintf(buf, len, "%lldd %02lldh", (long long)(s / 86400),
             (long long)(s / 3600 % 24));
  else
    snprintf(buf, len, "%lldh %02lldm", (long long)(s / 3600),
             (long long)(s / 60 % 60));
}

int ib_cmd_status(const ib_cli *cli, int argc, char **argv) {
  if (argc > 1) {
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
      printf(
          "Usage: itsm-bridge status\n\n"
          "Per source: last successful sync, watermark (latest source "
          "update stored),\nlag since the last success, last error, "
          "tickets and outages stored,\nrecords rejected and awaiting a good "
          "version (read again at each sync).\nExit status 1 when a source's "
          "last run failed or it never succeeded.\n");
      return IB_EXIT_OK;
    }
    fprintf(stderr, "status: unexpected argument '%s'\n", argv[1]);
    return IB_EXIT_USAGE;
  }
  ib_config *cfg = ib_cli_load_config(cli);
  if (cfg == NULL) return IB_EXIT_USAGE;
  ib_store *st = ib_cli_open_store_to_read(cfg);
  if (st == NULL) {
    ib_config_free(cfg);
    return IB_EXIT_FAILURE;
  }
  int rc = IB_EXIT_OK;
  ib_time now = (ib_time)time(NULL);
  printf("%-18s %-21s %-21s %-9s %9s %8s %8s  %s\n", "SOURCE", "LAST SUCCESS",
         "WATERMARK", "LAG", "TICKETS", "OUTAGES", "REJECTED", "LAST ERROR");
  for (size_t i = 0; i < cfg->n_sources; i++) {
    ib_source_state s;
    char err[512], ok[IB_ISO_LEN], wm[IB_ISO_LEN], lag[32];
    if (ib_store_source_state(st, cfg->sources[i].name, 1, &s, err,
                              sizeof err)) {
      fprintf(stderr, "status: %s\n", err);
      rc = IB_EXIT_FAILURE;
      break;
    }
    fmt_time(s.last_success, ok);
    fmt_time(s.watermark, wm);
    fmt_lag(s.last_success, now, lag, sizeof lag);
    /* A run that started and never ended was killed (kill -9, power
     * loss): its last error is empty, yet it did not succeed. */
    char interrupted[160] = "";
    if (s.interrupted_at != IB_TIME_NONE) {
      char at[IB_ISO_LEN];
      ib_format_iso8601(s.interrupted_at, at);
      if (s.running)
        snprintf(interrupted, sizeof interrupted,
                 "a sync is running (since %s)", at);
      else
        snprintf(interrupted, sizeof interrupted,
                 "interrupted at %s; the next sync resumes from the last "
                 "committed page",
                 at);
    }
    printf("%-18s %-21s %-21s %-9s %9lld %8lld %8lld  %s\n",
           cfg->sources[i].name, ok, wm, lag, (long long)s.tickets,
           (long long)s.outages, (long long)s.rejected,
           interrupted[0]    ? interrupted
           : s.last_error[0] ? s.last_error
                             : "-");
    if (s.last_error[0] || (interrupted[0] && !s.running) ||
        s.last_success == IB_TIME_NONE)
      rc = IB_EXIT_FAILURE;
  }
  ib_cli_close_store(st);
  ib_config_free(cfg);
  return rc;
}
