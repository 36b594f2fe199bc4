/*
 * cmd_sync.c -- `itsm-bridge sync`: one locked pass over the configured
 * sources, each committed on its own; prints what each source did. With
 * --dry-run: the same plugins and checks, the records printed as NDJSON
 * (export_json.c writes them) and no store opened at all. Must not know how
 * a plugin reads its source nor format records itself.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "export.h"
#include "plugin_set.h"
#include "source.h"
#include "tz.h"

static void sync_usage(FILE *out) {
  fputs(
      "Usage: itsm-bridge sync [--source NAME]... [--full] [--since ISO]\n"
      "       itsm-bridge sync --dry-run [--source NAME]... [--limit N]\n"
      "                        [--since ISO]\n\n"
      "Pulls the tickets and outages changed since the last run from each\n"
      "configured source into the store. Each page is committed with the\n"
      "source's watermark, so an interrupted sync resumes safely.\n\n"
      "  --source NAME  only this source (repeatable)\n"
      "  --full         re-read everything; records that vanished from the\n"
      "                 source are marked deleted (they leave the KPIs)\n"
      "  --since ISO    ask for changes since this date/instant instead of\n"
      "                 the watermark\n"
      "  --allow-mass-delete  let --full mark more than the source's\n"
      "                 max_delete_pct (default 10) of its records deleted\n"
      "  --dry-run      run the plugins and print every normalised record on\n"
      "                 stdout as NDJSON (\"record\": \"ticket\" or "
      "\"outage\",\n"
      "                 then the columns of export --format ndjson, plus a\n"
      "                 ticket's pause_intervals); the store is not opened:\n"
      "                 nothing is written, no watermark moves. Without\n"
      "                 --since it reads what a first sync would. Rejected\n"
      "                 records are printed on stderr, one line each\n"
      "  --limit N      with --dry-run: stop each source after N records\n"
      "  -h, --help     this help\n\n"
      "Records rejected by a sync (an unmapped priority, a bad date...) are\n"
      "listed in the store and read again by id at every sync until a good\n"
      "version is stored (itsm-bridge status counts them).\n\n"
      "Exit status: 0 all sources succeeded, 1 one failed (the others still\n"
      "committed), rejected every record it read, or another sync holds the\n"
      "lock, 2 usage or configuration error (also one found by a plugin at\n"
      "sync). A dry run exits the same way.\n",
      out);
}

static void print_count(FILE *out, const char *label, int64_t n) {
  fprintf(out, "%s%lld", label, (long long)n);
}

/* --dry-run: each record as one NDJSON line on stdout. */
static int print_ticket(void *ctx, const ib_ticket_row *t) {
  return ib_export_ndjson_ticket(ctx, t);
}
static int print_outage(void *ctx, const ib_outage_row *o) {
  return ib_export_ndjson_outage(ctx, o);
}

/* --limit N: a whole number from 1. 0 or -1. */
static int parse_limit(const char *text, int64_t *out) {
  char *end;
  long long v = strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v < 1) return -1;
  *out = (int64_t)v;
  return 0;
}

/* --dry-run's account of one source, on stderr (stdout holds records). */
static void print_dry_summary(const ib_cli *cli, const ib_source_cfg *sc,
                              const ib_sync_options *opt,
                              const ib_sync_result *res, int ok) {
  if (ok && cli->quiet) return;
  fprintf(stderr,
          "%s: dry run: %lld read, %lld printed, %lld rejected%s in %.1f s%s\n",
          sc->name, (long long)res->read, (long long)res->stored,
          (long long)res->rejected,
          opt->limit > 0 && res->read >= opt->limit ? " (--limit reached)" : "",
          res->elapsed_s, ok ? "; nothing stored" : " -- FAILED");
  if (!ok) fprintf(stderr, "%s: dry run failed: %s\n", sc->name, res->error);
}

int ib_cmd_sync(const ib_cli *cli, int argc, char **argv) {
  static const struct option opts[] = {
      {"source", required_argument, 0, 's'},
      {"full", no_argument, 0, 'f'},
      {"since", required_argument, 0, 'S'},
      {"allow-mass-delete", no_argument, 0, 'M'},
      {"dry-run", no_argument, 0, 'D'},
      {"limit", required_argument, 0, 'L'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char **only = calloc((size_t)argc + 1, sizeof *only);
  size_t n_only = 0;
  const char *since_text = NULL, *limit_text = NULL;
  int dry_run = 0;
  const ib_record_sink sink = {print_ticket, print_outage, stdout};
  ib_sync_options opt = {.since = IB_TIME_NONE,
                         .verbose = cli->verbose,
                         .quiet = cli->quiet,
                         .progress = isatty(2)};
  int c, rc = IB_EXIT_USAGE;
  ib_config *cfg = NULL;
  ib_store *st = NULL;
  ib_plugin_set set = {0};
  ib_scrubber *scrub = NULL; /* owned */
  optind = 0;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
      case 's': only[n_only++] = optarg; break;
      case 'f': opt.full = 1; break;
      case 'S': since_text = optarg; break;
      case 'M': opt.allow_mass_delete = 1; break;
      case 'D': dry_run = 1; break;
      case 'L': limit_text = optarg; break;
      case 'h':
        sync_usage(stdout);
        rc = IB_EXIT_OK;
        goto out;
      default: sync_usage(stderr); goto out;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "sync: unexpected argument '%s' (see sync --help)\n",
            argv[optind]);
    goto out;
  }
  if (dry_run && (opt.full || opt.allow_mass_delete)) {
    fprintf(stderr,
            "sync: --dry-run cannot take %s: it marks records deleted in the "
            "store, and a dry run touches no store (without --since it "
            "already reads everything a first sync would)\n",
            opt.full ? "--full" : "--allow-mass-delete");
    goto out;
  }
  if (limit_text && !dry_run) {
    fprintf(stderr,
            "sync: --limit goes with --dry-run only (a real sync reads "
            "every change, or its watermark could skip records)\n");
    goto out;
  }
  if (limit_text && parse_limit(limit_text, &opt.limit) != 0) {
    fprintf(stderr, "sync: --limit '%s' is not a whole number from 1\n",
            limit_text);
    goto out;
  }
  if (dry_run) opt.dry_run = &sink;
  if ((cfg = ib_cli_load_config(cli)) == NULL) goto out;
  if (since_text &&
      ib_cli_parse_instant(since_text, cfg->timezone, &opt.since) != 0) {
    fprintf(stderr,
            "sync: --since '%s' is not a date (YYYY-MM-DD) or an ISO-8601 "
            "instant\n",
            since_text);
    goto out;
  }
  for (size_t i = 0; i < n_only; i++)
    if (ib_config_find_source(cfg, only[i]) < 0) {
      fprintf(stderr, "sync: no source named '%s' in %s\n", only[i], cfg->file);
      goto out;
    }
  if (cfg->n_sources == 0) {
    fprintf(stderr, "sync: %s configures no sources\n", cfg->file);
    goto out;
  }
  if (ib_plugin_set_load(&set, cfg, ib_cli_plugin_dir(cli, cfg)) != 0) goto out;
  rc = IB_EXIT_FAILURE;
  /* A dry run opens no store: none is created, locked nor read. */
  char err[1024];
  if (!dry_run && (st = ib_cli_open_store(cfg)) == NULL) goto out;
  if (!dry_run && ib_store_lock_sync(st, err, sizeof err)) {
    fprintf(stderr, "sync: %s\n", err);
    goto out;
  }
  /* One scrubber knowing the secrets of every source of the run. */
  if ((scrub = ib_scrubber_new()) == NULL) goto out;
  for (size_t i = 0; i < cfg->n_sources; i++)
    if (set.plugins[i].desc &&
        ib_source_add_secrets(&cfg->sources[i], set.plugins[i].desc, scrub)) {
      fprintf(stderr, "sync: out of memory\n");
      goto out;
    }
  opt.scrub = scrub;
  int failures = 0, config_failures = 0;
  for (size_t i = 0; i < cfg->n_sources && !ib_stop_requested; i++) {
    const ib_source_cfg *sc = &cfg->sources[i];
    if (n_only) {
      int wanted = 0;
      for (size_t j = 0; j < n_only; j++)
        if (strcmp(only[j], sc->name) == 0) wanted = 1;
      if (!wanted) continue;
    }
    if (set.plugins[i].desc == NULL) {
      fprintf(dry_run ? stderr : stdout, "%s: FAILED: %s\n", sc->name,
              set.errors[i] ? set.errors[i] : "plugin not loaded");
      failures++;
      continue;
    }
    ib_sync_result res;
    int ok = ib_source_sync(cfg, sc, set.plugins[i].desc, st, &opt, &res) == 0;
    if (dry_run && fflush(stdout) != 0 && ok) {
      ok = 0;
      snprintf(res.error, sizeof res.error,
               "cannot write the records to standard output");
    }
    if (!ok) failures++;
    if (res.status == IB_ERR_CONFIG) config_failures++;
    if (dry_run) {
      print_dry_summary(cli, sc, &opt, &res, ok);
      continue;
    }
    /* -q (cron) keeps quiet about sources that went well. */
    if (cli->quiet && ok && res.rejected == 0) continue;
    fprintf(stdout, "%s: ", sc->name);
    print_count(stdout, "", res.read);
    print_count(stdout, " read, ", res.added);
    print_count(stdout, " new, ", res.changed);
    print_count(stdout, " changed, ", res.unchanged);
    print_count(stdout, " unchanged, ", res.rejected);
    fprintf(stdout, " rejected");
    if (opt.full)
      print_count(stdout, ", ", res.deleted), fputs(" marked deleted", stdout);
    if (res.refetched)
      fprintf(stdout, " (%lld rejected earlier read again, %lld now stored)",
              (long long)res.refetched, (long long)res.recovered);
    if (res.repaired)
      fprintf(stdout, ", %lld with invalid UTF-8 repaired",
              (long long)res.repaired);
    fprintf(stdout, " in %.1f s%s\n", res.elapsed_s, ok ? "" : " -- FAILED");
    for (int r = 0; r < res.n_reasons; r++)
      fprintf(stdout, "    rejected %s\n", res.reasons[r]);
    if (res.rejected > res.n_reasons)
      fprintf(stdout, "    ... and %lld more (run with -v to see them all)\n",
              (long long)(res.rejected - res.n_reasons));
    if (res.still_rejected)
      fprintf(stdout,
              "    %lld records stay rejected until the source or the "
              "mappings are fixed (itsm-bridge status)\n",
              (long long)res.still_rejected);
    if (!ok) fprintf(stderr, "%s: sync failed: %s\n", sc->name, res.error);
  }
  fflush(stdout);
  if (ib_stop_requested) {
    fputs(dry_run ? "sync: dry run interrupted\n"
                  : "sync: interrupted; committed pages are kept, the next "
                    "sync resumes from the watermark\n",
          stderr);
    failures++;
  }
  rc = config_failures ? IB_EXIT_USAGE
       : failures      ? IB_EXIT_FAILURE
                       : IB_EXIT_OK;
out:
  ib_scrubber_free(scrub);
  ib_store_close(st);
  ib_plugin_set_free(&set);
  ib_config_free(cfg);
  free(only);
  return rc;
}
