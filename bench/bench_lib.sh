# bench_lib.sh -- sourced by the bench scripts (bash).
#
# export_source: the csv source that reads config/sample/generate.py's
# Excel-style export (French headers, ';', day-first dates in
# Europe/Paris), the part of a configuration after its store line.
#
#   export_source CSV [updated]
# prints the timezone and the source; with "updated" the export's "Mis à
# jour le" column is mapped (incremental reads skip rows behind the
# watermark), without it every sync reads and compares every row, as many
# nightly exports.
export_source() {
  local updated=""
  [ "${2:-}" = updated ] && updated='
                updated = "Mis à jour le";'
  cat <<CFG
timezone = "Europe/Paris";
sources = (
  { name = "bench"; plugin = "csv"; path = "$1";
    delimiter = ";"; timezone = "Europe/Paris"; date_format = "%d/%m/%Y %H:%M";
    columns = { id = "N° ticket"; title = "Objet"; kind = "Type"; priority = "Priorité";
                status = "Statut"; service = "Service"; group = "Groupe";
                created = "Ouvert le"; first_response = "Pris en charge le";
                resolved = "Résolu le"; closed = "Clos le";
                pause_start = "En attente le"; pause_end = "Reprise le";$updated };
    priorities = ( ("Critique", "P1"), ("Haute", "P2"), ("Moyenne", "P3"), ("Basse", "P4") );
    statuses = ( ("Nouveau", "new"), ("En cours", "open"), ("En attente", "pending"),
                 ("Résolu", "resolved"), ("Clos", "closed"), ("Annulé", "cancelled") );
    kinds = ( ("Incident", "incident"), ("Demande", "request") ); }
);
CFG
}

# median: the median of the numbers on standard input, one per line (the
# mean of the middle two for an even count).
median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# quiesce_disk: writes out the dirty pages earlier commands left in the
# page cache before the next timed command, so that their writeback (tens
# of MiB after an import or a first sync) is not charged to whichever
# command happens to run next. Call it right before each timed command.
quiesce_disk() {
  sync
}
