/*
 * cli.h -- what every command shares: the global options and the helpers
 * that load the configuration and open the store with one clear error
 * line. Each command lives in its own cmd_*.c and returns the exit status
 * (SPEC §3: 0 success, 1 runtime failure, 2 usage or configuration error).
 */
#ifndef IB_CLI_H
#define IB_CLI_H

#include <stdio.h>

#include "alerts.h"
#include "config.h"
#include "edition.h"
#include "store.h"

enum { IB_EXIT_OK = 0, IB_EXIT_FAILURE = 1, IB_EXIT_USAGE = 2 };

typedef struct ib_cli {
  const char *config_path; /* -c, $ITSM_BRIDGE_CONFIG, ./bridge.cfg */
  const char *plugin_dir;  /* --plugin-dir, $ITSM_BRIDGE_PLUGIN_DIR, cfg */
  int verbose;
  int quiet;
} ib_cli;

/* Loads the configuration; prints "file:line: message" and returns NULL on
 * error (exit 2). */
ib_config *ib_cli_load_config(const ib_cli *cli);
/* Opens the store; prints the error and returns NULL (exit 1). */
ib_store *ib_cli_open_store(const ib_config *cfg);
/* For the commands that only read (kpi, report, export, status): opens the
 * store read-only (a reporting user, read-only media) and starts one read
 * transaction, so every load sees the same committed state while a sync
 * commits pages. Prints the error and returns NULL (exit 1). Close with
 * ib_cli_close_store. */
ib_store *ib_cli_open_store_to_read(const ib_config *cfg);
/* Ends the read transaction and closes; NULL is fine. */
void ib_cli_close_store(ib_store *st);
/* The plugin directory in force. */
/* The plugin folder of an installed binary (relative to it), else the
 * build's install location. */
const char *ib_cli_default_plugin_dir(void);
const char *ib_cli_plugin_dir(const ib_cli *cli, const ib_config *cfg);
/* Parses --from/--to values: a date (midnight in `zone`) or an ISO
 * instant. 0 or -1. */
int ib_cli_parse_instant(const char *text, const char *zone, ib_time *out);
/* --month YYYY-MM in `zone` -> [from, to). 0 or -1. */
int ib_cli_parse_month(const char *text, const char *zone, ib_time *from,
                       ib_time *to);

/* The period a command reports on: --month, or --from/--to (dates at
 * midnight in `zone` or ISO instants), else -- with default_month -- the
 * month of as_of in `zone`; as_of from --as-of or now. label gets
 * "YYYY-MM" or "FROM/TO" (ISO instants). 0, or -1 with one line printed
 * naming cmd (a usage error). */
typedef struct ib_cli_period_args {
  const char *month, *from, *to, *as_of;
} ib_cli_period_args;
int ib_cli_resolve_period(const char *cmd, const ib_cli_period_args *a,
                          const char *zone, int default_month, ib_time *from,
                          ib_time *to, ib_time *as_of, char *label, size_t len);

/* Takes argv[*i] when it is one of the valued options names[0..n)
 * ("--name value" or "--name=value"), storing the value in *slots[k] and
 * moving *i past it. Returns 1 when taken, 0 when argv[*i] is none of
 * them, -1 when its value is missing (message printed, naming cmd). */
int ib_cli_take_option(const char *cmd, int argc, char **argv, int *i,
                       const char *const *names, const char **const *slots,
                       size_t n);

/* Commands. argv[0] is the command name; options follow. */
/* For commands whose arguments are all valued options: takes every
 * argument with ib_cli_take_option. 0 when all were taken; 1 after
 * printing `usage` for --help/-h (exit 0); -1 after printing a usage error
 * (an unknown argument, a missing value). */
int ib_cli_take_all_options(const char *cmd, int argc, char **argv,
                            const char *const *names, const char **const *slots,
                            size_t n, const char *usage);

int ib_cmd_sync(const ib_cli *cli, int argc, char **argv);
int ib_cmd_status(const ib_cli *cli, int argc, char **argv);
int ib_cmd_plugins(const ib_cli *cli, int argc, char **argv);
int ib_cmd_check_config(const ib_cli *cli, int argc, char **argv);
int ib_cmd_kpi(const ib_cli *cli, int argc, char **argv);
int ib_cmd_export(const ib_cli *cli, int argc, char **argv);
int ib_cmd_report(const ib_cli *cli, int argc, char **argv);
int ib_cmd_history(const ib_cli *cli, int argc, char **argv);
int ib_cmd_close(const ib_cli *cli, int argc, char **argv);
int ib_cmd_verify(const ib_cli *cli, int argc, char **argv);
int ib_cmd_check(const ib_cli *cli, int argc, char **argv);

/* For ib_kpi_query.earlier_priorities, with the store as ctx: the
 * priorities a ticket had before, from the store's recorded changes. */
/* Text from the store or a source for a terminal table: control
 * characters shown as '?' (a hostile title cannot move the cursor), NULL
 * as '-'. */
void ib_cli_put_cell(FILE *out, const char *s);

/* Each configured source's last successful sync (IB_TIME_NONE: never), in
 * configuration order, for the alert rules. Owned by the caller (free);
 * NULL with the error printed (naming cmd). */
ib_time *ib_cli_last_successes(const char *cmd, const ib_config *cfg,
                               ib_store *st);

/* ---- closed months (editions.c) ---- */

/* "itsm-bridge VERSION", the engine an edition records. */
const char *ib_cli_engine_name(void);
/* Loads [from, to) and builds its edition document (edition.h) measured at
 * as_of. Owned by the caller (cJSON_Delete); NULL with the error printed,
 * naming cmd. */
cJSON *ib_cli_compute_edition(const char *cmd, const ib_config *cfg,
                              ib_store *st, ib_time from, ib_time to,
                              ib_time as_of, const ib_edition_meta *meta);
/* The latest edition of `month` in l, or NULL. */
const ib_edition_rec *ib_cli_latest_edition(const ib_edition_list *l,
                                            const char *month);
/* Walks the store's chain: each edition still hashes to its hash, names
 * the one before it and says what its row says. Problems are appended
 * (one line each). 1 when intact, else 0. */
int ib_cli_check_chain(const ib_edition_list *l, ib_string_list *problems);
/* Fills each ticket's "changes" of an itsm-bridge.verify/1 document with
 * the field changes recorded since `since`. 0, or -1 (printed). */
int ib_cli_add_recorded_changes(const char *cmd, ib_store *st, cJSON *verify,
                                ib_time since);

/* A closed month compared with today's store (verify, report). */
typedef struct ib_cli_verified {
  ib_edition_list editions;      /* owned: the store's whole chain */
  const ib_edition_rec *edition; /* the month's latest, in editions */
  ib_string_list problems;       /* owned: chain problems, one line each */
  int chain_ok;
  cJSON *frozen; /* owned: the edition's document */
  cJSON *now;    /* owned: the same month recomputed at its as_of */
  cJSON *verify; /* owned: itsm-bridge.verify/1, changes filled in */
} ib_cli_verified;
/* 1 and *v filled when `month` was closed; 0 when it never was; -1 with
 * the error printed (naming cmd). Free *v with ib_cli_verified_free in
 * every case. */
int ib_cli_verify_month(const char *cmd, const ib_config *cfg, ib_store *st,
                        const char *month, ib_cli_verified *v);
void ib_cli_verified_free(ib_cli_verified *v);

/* Every closed month of the store (its latest edition) with the late
 * changes of its period, for the late_changes alert rule. */
typedef struct ib_cli_closed_months {
  ib_edition_list editions;      /* owned */
  ib_alert_closed_month *months; /* owned; n of them, chain order */
  ib_late_change_list *changes;  /* owned; months[i].changes points here */
  size_t n;
} ib_cli_closed_months;
/* 0, or -1 with the error printed (naming cmd). Free with
 * ib_cli_closed_months_free in every case. */
int ib_cli_load_closed_months(const char *cmd, const ib_config *cfg,
                              ib_store *st, ib_cli_closed_months *out);
void ib_cli_closed_months_free(ib_cli_closed_months *c);

size_t ib_cli_earlier_priorities(void *ctx, const ib_ticket_row *t, int *out,
                                 size_t max);

#endif /* IB_CLI_H */
