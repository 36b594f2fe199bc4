/*
 * fuzz_csv_plugin.c -- fuzz target: the csv plugin end to end. The input
 * is the export file, read by two sources at once (tickets with the
 * sample's French columns, strptime dates and mappings; outages in
 * latin-1), through the real host services into an in-memory store, then
 * the KPI engine. Contracts: fuzz_source.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common_cfg.h"
#include "fuzz_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char sources_fmt[] =
    "sources = (\n"
    "  { name = \"tickets\"; plugin = \"csv\"; path = \"%s\";\n"
    "    delimiter = \";\"; timezone = \"Europe/Paris\";\n"
    "    date_format = \"%%d/%%m/%%Y %%H:%%M\"; commit_every = 3;\n"
    "    columns = { id = \"N° ticket\"; title = \"Objet\"; kind = \"Type\";\n"
    "      priority = \"Priorité\"; status = \"Statut\"; service = "
    "\"Service\";\n"
    "      group = \"Groupe\"; created = \"Ouvert le\";\n"
    "      first_response = \"Pris en charge le\"; resolved = \"Résolu le\";\n"
    "      closed = \"Clos le\"; pause_start = \"En attente le\";\n"
    "      pause_end = \"Reprise le\"; updated = \"Mis à jour le\"; };\n"
    "    priorities = ( (\"Critique\", \"P1\"), (\"Haute\", \"P2\"),\n"
    "                   (\"Moyenne\", \"P3\"), (\"Basse\", \"P4\") );\n"
    "    statuses = ( (\"Nouveau\", \"new\"), (\"En cours\", \"open\"),\n"
    "      (\"En attente\", \"pending\"), (\"Résolu\", \"resolved\"),\n"
    "      (\"Clos\", \"closed\"), (\"Annulé\", \"cancelled\") );\n"
    "    kinds = ( (\"Incident\", \"incident\"), (\"Demande\", \"request\") "
    "); },\n"
    "  { name = \"outages\"; plugin = \"csv\"; records = \"outages\";\n"
    "    path = \"%s\"; delimiter = \";\"; encoding = \"latin1\";\n"
    "    timezone = \"Europe/Paris\"; date_format = \"%%d/%%m/%%Y %%H:%%M\";\n"
    "    columns = { id = \"Réf\"; service = \"Service\"; start = \"Début\";\n"
    "                end = \"Fin\"; kind = \"Nature\"; };\n"
    "    kinds = ( (\"Panne\", \"outage\"), (\"Dégradation\", "
    "\"degradation\"),\n"
    "              (\"Maintenance\", \"planned\") ); }\n"
    ");\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64], text[8192];
  int fd = fuzz_memfd("fuzz-csv-plugin", data, size, path, sizeof path);
  if (fd < 0) return 0;
  int n = snprintf(text, sizeof text, "%s", FUZZ_CFG_COMMON);
  snprintf(text + n, sizeof text - (size_t)n, sources_fmt, path, path);
  fuzz_source_case c = {.config_text = text,
                        .kpi_from = "2026-09-01T00:00:00Z",
                        .kpi_to = "2026-11-01T00:00:00Z"};
  fuzz_source_run(&c);
  close(fd);
  return 0;
}
