/*
 * main.c -- the command line: global options, command dispatch, signals.
 * Each command lives in its own cmd_*.c. Must not hold business logic.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "source.h"
#include "tz.h"

typedef struct command {
  const char *name;
  int (*run)(const ib_cli *cli, int argc, char **argv);
  const char *summary;
} command;

static const command commands[] = {
    {"sync", ib_cmd_sync, "pull changed tickets and outages into the store"},
    {"status", ib_cmd_status,
     "per source: last success, watermark, lag, errors"},
    {"kpi", ib_cmd_kpi,
     "compute first response, resolution, availability, credits"},
    {"export", ib_cmd_export,
     "write tickets, per-ticket SLA results and KPIs for BI tools"},
    {"report", ib_cmd_report,
     "write the monthly steering report (HTML with charts)"},
    {"history", ib_cmd_history,
     "list the recorded field changes of one ticket or outage"},
    {"close", ib_cmd_close,
     "freeze a month's figures as an edition (hash-chained evidence)"},
    {"verify", ib_cmd_verify,
     "recompute a closed month and list what changed since its edition"},
    {"check", ib_cmd_check,
     "evaluate the alert rules now; notify webhooks (exit 3: something fires)"},
    {"plugins", ib_cmd_plugins, "list source plugins and their options"},
    {"check-config", ib_cmd_check_config, "validate the configuration"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out) {
  fprintf(out,
          "Usage: itsm-bridge [-c FILE] [--plugin-dir DIR] [-v|-q] COMMAND "
          "[OPTIONS]\n\n"
          "Independent SLA figures from your providers' ticketing tools.\n\n"
          "Commands:\n");
  for (const command *c = commands; c->name; c++)
    fprintf(out, "  %-13s %s\n", c->name, c->summary);
  fprintf(
      out,
      "\nGlobal options:\n"
      "  -c, --config FILE    configuration (default: $ITSM_BRIDGE_CONFIG "
      "or ./bridge.cfg)\n"
      "  --plugin-dir DIR     where plugins are (default: "
      "$ITSM_BRIDGE_PLUGIN_DIR,\n"
      "                       plugin_dir in the config, or %s)\n"
      "  -v, --verbose        more detail (HTTP traces, secrets redacted)\n"
      "  -q, --quiet          errors only\n"
      "  -h, --help           this help; COMMAND --help for a command's\n"
      "  --version            print the version\n\n"
      "Exit status: 0 success, 1 runtime failure (a source failed, store "
      "unreachable),\n2 usage or configuration error; check: 3 when an alert "
      "fires.\n",
      ib_cli_default_plugin_dir());
}

static void on_signal(int sig) {
  (void)sig;
  ib_stop_requested = 1;
}

/* Takes argv[*k] into cli when it is a global option (moving *k past its
 * value). Returns 1 when taken, 0 otherwise. */
static int take_global(ib_cli *cli, int argc, char **argv, int *k) {
  const char *a = argv[*k];
  if ((!strcmp(a, "-c") || !strcmp(a, "--config")) && *k + 1 < argc)
    cli->config_path = argv[++*k];
  else if (!strncmp(a, "--config=", 9))
    cli->config_path = a + 9;
  else if (!strcmp(a, "--plugin-dir") && *k + 1 < argc)
    cli->plugin_dir = argv[++*k];
  else if (!strncmp(a, "--plugin-dir=", 13))
    cli->plugin_dir = a + 13;
  else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
    cli->verbose = 1;
  else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
    cli->quiet = 1;
  else
    return 0;
  return 1;
}

int main(int argc, char **argv) {
  ib_cli cli = {0};
  const char *env = getenv("ITSM_BRIDGE_CONFIG");
  cli.config_path = env && *env ? env : "bridge.cfg";
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (take_global(&cli, argc, argv, &i)) continue;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return IB_EXIT_OK;
    } else if (!strcmp(a, "--version")) {
      printf("itsm-bridge %s (plugin ABI %u)\n", IB_VERSION,
             IB_PLUGIN_ABI_VERSION);
      return IB_EXIT_OK;
    } else {
      fprintf(stderr,
              "itsm-bridge: unknown option '%s' (see itsm-bridge --help)\n", a);
      return IB_EXIT_USAGE;
    }
  }
  if (i == argc) {
    usage(stderr);
    return IB_EXIT_USAGE;
  }
  for (const command *c = commands; c->name; c++) {
    if (strcmp(c->name, argv[i]) != 0) continue;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* The global options may also follow the command ("kpi ... -c FILE"):
     * no command has options of those names, so take them out here. */
    int n = 0;
    for (int k = i; k < argc; k++)
      if (!take_global(&cli, argc, argv, &k)) argv[i + n++] = argv[k];
    argv[i + n] = NULL;
    int rc = c->run(&cli, n, argv + i);
    ib_tz_cache_free(); /* the zone tables tz.c keeps */
    return rc;
  }
  fprintf(stderr,
          "itsm-bridge: unknown command '%s' (see itsm-bridge --help)\n",
          argv[i]);
  return IB_EXIT_USAGE;
}
