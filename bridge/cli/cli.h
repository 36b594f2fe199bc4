/*
 * cli.h -- what every command shares: the global options and the helpers
 * that load the configuration and open the store with one clear error
 * line. Each command lives in its own cmd_*.c and returns the exit status
 * (SPEC §3: 0 success, 1 runtime failure, 2 usage or configuration error).
 */
#ifndef IB_CLI_H
#define IB_CLI_H

#include "config.h"
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
int ib_cmd_sync(const ib_cli *cli, int argc, char **argv);
int ib_cmd_status(const ib_cli *cli, int argc, char **argv);
int ib_cmd_plugins(const ib_cli *cli, int argc, char **argv);
int ib_cmd_check_config(const ib_cli *cli, int argc, char **argv);
int ib_cmd_kpi(const ib_cli *cli, int argc, char **argv);
int ib_cmd_export(const ib_cli *cli, int argc, char **argv);
int ib_cmd_report(const ib_cli *cli, int argc, char **argv);
int ib_cmd_history(const ib_cli *cli, int argc, char **argv);
int ib_cmd_check(const ib_cli *cli, int argc, char **argv);

/* For ib_kpi_query.earlier_priorities, with the store as ctx: the
 * priorities a ticket had before, from the store's recorded changes. */
size_t ib_cli_earlier_priorities(void *ctx, const ib_ticket_row *t, int *out,
                                 size_t max);

#endif /* IB_CLI_H */
