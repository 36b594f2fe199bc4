/*
 * report_html.c -- writes the monthly steering report: one HTML file with
 * inline CSS and inline SVG charts, French or English labels, every string
 * from the data HTML-escaped. A report for the month still running (as_of
 * inside it) opens with a "right now" block: error budget used and burn
 * rate per availability entry, open tickets already late per SLA. Must not
 * compute KPIs (it reads the results it is given), load tickets or changes,
 * nor reference anything outside the file.
 */
#define _GNU_SOURCE
#include "report_html.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kpi_format.h"
#include "tz.h"

/* ---- labels ------------------------------------------------------------- */

typedef struct labels {
  const char *lang, *title, *period, *as_of, *generated, *headline,
      *first_response, *resolution, *availability, *credits_due, *within,
      *target, *no_tickets, *no_credit_rule, *met, *breached, *charts,
      *by_priority, *distribution, *distribution_note, *avail_chart,
      *avail_axis, *trend, *trend_none, *breaches, *no_breaches, *sla, *kpi,
      *ticket, *title_col, *priority, *service, *measured, *over_by, *freshness,
      *source, *plugin, *last_success, *watermark, *lag, *last_error, *tickets,
      *outages, *never, *definitions, *calendar, *timezone, *hours, *holidays,
      *always_open, *closed, *sources, *all_sources, *kinds, *all_kinds,
      *targets, *penalty, *no_penalty, *penalty_text, *avail_defs, *degradation,
      *from_tickets, *credit_rule, *proportional, *none, *yes, *no, *computed,
      *open_breached, *all, *pct_of_target, *target_col, *days[7], *months[12];
  char decimal;
  const char *group_sep; /* thousands */
  const char *pct_sep;   /* between a number and % */
} labels;

static const labels labels_en = {
    "en",
    "Monthly SLA steering report",
    "Period",
    "as of",
    "Generated",
    "Headlines",
    "First response",
    "Resolution",
    "Availability",
    "Credits due",
    "within target",
    "target",
    "no tickets",
    "no credit rule",
    "met",
    "breached",
    "Charts",
    "Compliance by priority",
    "Time distribution against the target",
    "Tickets by measured time as a share of their priority's target; bars "
    "past 100 % are breaches.",
    "Availability per service",
    "scale starts at",
    "Six-month trend",
    "Not enough history in the store for a trend (fewer than two months "
    "with data).",
    "Breached tickets",
    "No breached ticket this month.",
    "SLA",
    "KPI",
    "Ticket",
    "Title",
    "Priority",
    "Service",
    "Measured",
    "Over by",
    "Data freshness",
    "Source",
    "Plugin",
    "Last successful sync",
    "Latest update read",
    "Lag",
    "Last error",
    "Tickets",
    "Outages",
    "never",
    "How the figures were computed",
    "Calendar",
    "Time zone",
    "Hours",
    "Holidays",
    "always open",
    "closed",
    "Sources",
    "all sources",
    "Kinds",
    "all kinds",
    "Targets (open calendar time)",
    "Penalty",
    "no penalty",
    "%s%% of the monthly fee per first-response breach, %s%% per "
    "resolution breach, capped at %s%% of %s",
    "Availability commitments",
    "degradations count",
    "downtime from tickets",
    "Credit",
    "proportional to downtime when below target",
    "none",
    "yes",
    "no",
    "Recomputed by itsm-bridge from the providers' tickets over [%s, %s) "
    "(%s), measured as of %s. First response: time to the first response "
    "(or resolution) in open calendar time. Resolution: open calendar time "
    "to resolution minus pauses. Availability: service time minus the union "
    "of outages.",
    "open and already late",
    "all",
    "% of the target",
    "Target",
    {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"},
    {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
     "Nov", "Dec"},
    '.',
    ",",
    "",
};

static const labels labels_fr = {
    "fr",
    "Rapport mensuel de pilotage des SLA",
    "Période",
    "au",
    "Généré le",
    "En bref",
    "Première réponse",
    "Résolution",
    "Disponibilité",
    "Pénalités dues",
    "dans les délais",
    "cible",
    "aucun ticket",
    "pas de règle de pénalité",
    "respectés",
    "dépassés",
    "Graphiques",
    "Respect des délais par priorité",
    "Répartition des délais par rapport à la cible",
    "Tickets selon leur délai mesuré rapporté à la cible de leur priorité ; "
    "au-delà de 100 %, le délai est dépassé.",
    "Disponibilité par service",
    "l'échelle commence à",
    "Tendance sur six mois",
    "Pas assez d'historique dans la base pour une tendance (moins de deux "
    "mois de données).",
    "Tickets hors délai",
    "Aucun ticket hors délai ce mois-ci.",
    "SLA",
    "Indicateur",
    "Ticket",
    "Objet",
    "Priorité",
    "Service",
    "Mesuré",
    "Dépassement",
    "Fraîcheur des données",
    "Source",
    "Plugin",
    "Dernière synchro réussie",
    "Dernière mise à jour lue",
    "Retard",
    "Dernière erreur",
    "Tickets",
    "Interruptions",
    "jamais",
    "Comment les chiffres sont calculés",
    "Calendrier",
    "Fuseau horaire",
    "Horaires",
    "Jours fériés",
    "toujours ouvert",
    "fermé",
    "Sources",
    "toutes les sources",
    "Types",
    "tous les types",
    "Cibles (temps ouvré)",
    "Pénalité",
    "pas de pénalité",
    "%s\u00a0%% de la redevance mensuelle par première réponse hors délai, "
    "%s\u00a0%% par résolution hors délai, plafonné à %s\u00a0%% de %s",
    "Engagements de disponibilité",
    "dégradations comptées",
    "indisponibilité tirée des tickets",
    "Pénalité",
    "proportionnelle à l'indisponibilité sous la cible",
    "aucune",
    "oui",
    "non",
    "Recalculé par itsm-bridge à partir des tickets des prestataires sur "
    "[%s, %s) (%s), mesuré au %s. Première réponse : délai jusqu'à la "
    "première réponse (ou la résolution) en temps ouvré. Résolution : temps "
    "ouvré jusqu'à la résolution, pauses déduites. Disponibilité : temps de "
    "service moins l'union des interruptions.",
    "ouverts et déjà en retard",
    "toutes",
    "% de la cible",
    "Cible",
    {"lun", "mar", "mer", "jeu", "ven", "sam", "dim"},
    {"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.",
     "oct.", "nov.", "déc."},
    ',',
    "\u202f",
    "\u00a0",
};

int ib_report_lang_valid(const char *lang) {
  return lang != NULL && (!strcmp(lang, "fr") || !strcmp(lang, "en")) ? 0 : -1;
}

/* ---- writing helpers ---------------------------------------------------- */

typedef struct ctx {
  FILE *out;
  const ib_report *r;
  const labels *L;
  const char *zone; /* the configuration's timezone */
} ctx;

static void esc(FILE *out, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
      case '&': fputs("&amp;", out); break;
      case '<': fputs("&lt;", out); break;
      case '>': fputs("&gt;", out); break;
      case '"': fputs("&quot;", out); break;
      case '\'': fputs("&#39;", out); break;
      default: fputc(*s, out);
    }
  }
}

/* Writes a trusted label template, replacing each "%s" with the next
 * argument (HTML-escaped) and "%%" with "%". */
static void put_template(FILE *out, const char *tmpl, const char *const *args) {
  for (const char *p = tmpl; *p; p++) {
    if (p[0] == '%' && p[1] == 's') {
      esc(out, *args ? *args++ : "");
      p++;
    } else if (p[0] == '%' && p[1] == '%') {
      fputc('%', out);
      p++;
    } else {
      fputc(*p, out);
    }
  }
}

/* A number with `decimals`, the language's decimal mark and grouping. */
static void fmt_num(const ctx *c, double v, int decimals, char *buf,
                    size_t len) {
  char raw[64];
  snprintf(raw, sizeof raw, "%.*f", decimals, v);
  if (!strcmp(raw, "-0") || !strncmp(raw, "-0.", 3)) {
    int allzero = 1;
    for (const char *p = raw + 1; *p; p++)
      if (*p != '0' && *p != '.') allzero = 0;
    if (allzero) memmove(raw, raw + 1, strlen(raw));
  }
  const char *dot = strchr(raw, '.');
  size_t intlen = dot ? (size_t)(dot - raw) : strlen(raw);
  size_t start = raw[0] == '-' ? 1 : 0, n = 0;
  buf[0] = '\0';
  if (start && n + 1 < len) buf[n++] = '-';
  for (size_t i = start; i < intlen && n + 8 < len; i++) {
    if (i > start && (intlen - i) % 3 == 0) {
      size_t g = strlen(c->L->group_sep);
      memcpy(buf + n, c->L->group_sep, g);
      n += g;
    }
    buf[n++] = raw[i];
  }
  if (dot != NULL && n + strlen(dot) + 1 < len) {
    buf[n++] = c->L->decimal;
    memcpy(buf + n, dot + 1, strlen(dot + 1));
    n += strlen(dot + 1);
  }
  buf[n] = '\0';
}

/* fmt_num without trailing zeros: "5", "2,5". */
static void fmt_num_short(const ctx *c, double v, int decimals, char *buf,
                          size_t len) {
  fmt_num(c, v, decimals, buf, len);
  char *mark = strchr(buf, c->L->decimal);
  if (mark == NULL) return;
  char *e = buf + strlen(buf) - 1;
  while (e > mark && *e == '0') *e-- = '\0';
  if (e == mark) *e = '\0';
}

static void fmt_pct(const ctx *c, double v, int decimals, char *buf,
                    size_t len) {
  if (isnan(v)) {
    snprintf(buf, len, "–");
    return;
  }
  char n[64];
  fmt_num(c, v, decimals, n, sizeof n);
  if (snprintf(buf, len, "%s%s%%", n, c->L->pct_sep) >= (int)len)
    buf[len - 1] = '\0'; /* truncated: still a terminated string */
}

static void fmt_money(const ctx *c, double v, const char *currency, char *buf,
                      size_t len) {
  char n[64];
  fmt_num(c, v, 2, n, sizeof n);
  snprintf(buf, len, "%s\u00a0%s", n, currency ? currency : "");
}

/* Seconds as "4h", "1h30m", "3d", "90s": the configuration's own words. */
static void fmt_target(int64_t s, char *buf, size_t len) {
  if (s == IB_DURATION_NONE) {
    snprintf(buf, len, "–");
    return;
  }
  static const struct {
    int64_t unit;
    char c;
  } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  size_t n = 0;
  buf[0] = '\0';
  for (size_t k = 0; k < 4; k++) {
    if (s >= units[k].unit && n + 24 < len) {
      n += (size_t)snprintf(buf + n, len - n, "%lld%c",
                            (long long)(s / units[k].unit), units[k].c);
      s %= units[k].unit;
    }
  }
  if (n == 0) snprintf(buf, len, "0s");
}

static void fmt_local(const ctx *c, ib_time t, char *buf, size_t len) {
  struct tm lt;
  if (t == IB_TIME_NONE || ib_tz_utc_to_local(c->zone, t, &lt) != 0) {
    snprintf(buf, len, "%s", c->L->never);
    return;
  }
  snprintf(buf, len, "%04d-%02d-%02d %02d:%02d", lt.tm_year + 1900,
           lt.tm_mon + 1, lt.tm_mday, lt.tm_hour, lt.tm_min);
}

static const char *kpi_label(const ctx *c, int which) {
  return which ? c->L->resolution : c->L->first_response;
}

/* ---- document head ------------------------------------------------------ */

static const char css[] =
    ":root{--fr:#2563eb;--res:#0f766e;--bad:#dc2626;--ok:#15803d;"
    "--muted:#6b7280;--line:#e5e7eb}"
    "*{box-sizing:border-box}"
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',"
    "sans-serif;color:#111827;margin:0;background:#f9fafb;line-height:1.4}"
    "main{max-width:1040px;margin:0 auto;padding:24px}"
    "header h1{margin:0 0 4px;font-size:26px}"
    "header p{margin:0;color:var(--muted)}"
    "h2{font-size:19px;margin:28px 0 10px;border-bottom:2px solid var(--line);"
    "padding-bottom:4px}"
    "h3{font-size:15px;margin:16px 0 6px}"
    ".tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,"
    "1fr));gap:12px}"
    ".tile{background:#fff;border:1px solid var(--line);border-left:6px solid "
    "var(--ok);border-radius:6px;padding:10px 12px}"
    ".tile.bad{border-left-color:var(--bad)}"
    ".tile.none{border-left-color:var(--muted)}"
    ".tile .name{font-weight:600}"
    ".tile .big{font-size:26px;font-weight:700}"
    ".tile .sub{color:var(--muted);font-size:13px}"
    "figure{background:#fff;border:1px solid var(--line);border-radius:6px;"
    "margin:0 0 12px;padding:10px}"
    "figcaption{font-weight:600;margin-bottom:4px}"
    "figure p{margin:4px 0;color:var(--muted);font-size:13px}"
    ".pair{display:grid;grid-template-columns:1fr 1fr;gap:12px}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,"
    "1fr));gap:0 12px}"
    "svg{display:block;width:100%;height:auto}"
    "svg text{font-family:inherit;font-size:11px;fill:#374151}"
    ".legend span{display:inline-block;margin-right:14px;font-size:13px}"
    ".legend i{display:inline-block;width:12px;height:12px;margin-right:4px;"
    "vertical-align:-1px;border-radius:2px}"
    "table{border-collapse:collapse;width:100%;background:#fff;font-size:13px;"
    "margin-bottom:12px}"
    "th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;"
    "vertical-align:top}"
    "th{background:#f3f4f6}"
    "td.num{text-align:right;white-space:nowrap}"
    ".bad-text{color:var(--bad);font-weight:600}"
    ".muted{color:var(--muted)}"
    "@page{size:A4;margin:12mm}"
    "@media print{body{background:#fff}main{padding:0;max-width:none}"
    ".tile,figure,table,tr{break-inside:avoid}h2{break-after:avoid}"
    "figure,.tile{border-color:#999}}";

/* ---- headline tiles ----------------------------------------------------- */

static void tile_sla(const ctx *c, const ib_kpi_sla *s) {
  FILE *o = c->out;
  const ib_kpi_stats *st[2] = {&s->total_first_response, &s->total_resolution};
  int bad = st[0]->breached + st[1]->breached > 0;
  int empty = st[0]->met + st[0]->breached + st[1]->met + st[1]->breached == 0;
  fprintf(o, "<div class=\"tile%s\" data-sla=\"",
          empty ? " none"
          : bad ? " bad"
                : "");
  esc(o, s->cfg->name);
  fputs("\"><div class=\"name\">", o);
  esc(o, c->L->sla);
  fputc(' ', o);
  esc(o, s->cfg->name);
  fputs("</div>", o);
  for (int w = 0; w < 2; w++) {
    char pct[64];
    fmt_pct(c, st[w]->compliance_pct, 1, pct, sizeof pct);
    fprintf(o, "<div><span class=\"big\">%s</span> %s</div>", pct,
            kpi_label(c, w));
    if (st[w]->met + st[w]->breached > 0)
      fprintf(o, "<div class=\"sub\">%lld / %lld %s</div>",
              (long long)st[w]->met, (long long)(st[w]->met + st[w]->breached),
              c->L->within);
    else
      fprintf(o, "<div class=\"sub\">%s</div>", c->L->no_tickets);
  }
  fputs("</div>\n", o);
}

static void tile_availability(const ctx *c, const ib_kpi_availability *a) {
  FILE *o = c->out;
  char pct[64], target[64];
  fmt_pct(c, a->availability_pct, 3, pct, sizeof pct);
  fmt_pct(c, a->cfg->target_pct, 3, target, sizeof target);
  fprintf(o, "<div class=\"tile%s\" data-service=\"",
          isnan(a->availability_pct) ? " none"
          : a->breached              ? " bad"
                                     : "");
  esc(o, a->cfg->service);
  fprintf(o, "\"><div class=\"name\">%s · ", c->L->availability);
  esc(o, a->cfg->service);
  fprintf(o,
          "</div><div class=\"big\">%s</div><div class=\"sub\">%s %s — "
          "%s</div></div>\n",
          pct, c->L->target, target,
          isnan(a->availability_pct) ? "–"
          : a->breached              ? c->L->breached
                                     : c->L->met);
}

/* Sums credits per currency (at most a few currencies). */
#define MAX_CURRENCIES 8
typedef struct credit_sum {
  const char *currency;
  double amount;
} credit_sum;

static size_t add_credit(credit_sum *sums, size_t n, const char *cur,
                         double v) {
  if (cur == NULL) cur = "";
  for (size_t k = 0; k < n; k++)
    if (!strcmp(sums[k].currency, cur)) {
      sums[k].amount += v;
      return n;
    }
  if (n == MAX_CURRENCIES) return n;
  sums[n].currency = cur;
  sums[n].amount = v;
  return n + 1;
}

static void tile_credits(const ctx *c) {
  const ib_kpi_result *k = c->r->kpi;
  credit_sum sums[MAX_CURRENCIES];
  size_t n = 0;
  for (size_t i = 0; i < k->n_slas; i++)
    if (k->slas[i].has_penalty)
      n = add_credit(sums, n, k->slas[i].cfg->penalty.currency,
                     k->slas[i].credit);
  for (size_t i = 0; i < k->n_availability; i++)
    if (!isnan(k->availability[i].credit))
      n = add_credit(sums, n, k->availability[i].cfg->currency,
                     k->availability[i].credit);
  int due = 0;
  for (size_t i = 0; i < n; i++) due |= sums[i].amount > 0;
  fprintf(c->out,
          "<div class=\"tile%s\" id=\"credits\"><div class=\"name\">%s"
          "</div>",
          n == 0 ? " none"
          : due  ? " bad"
                 : "",
          c->L->credits_due);
  if (n == 0)
    fprintf(c->out, "<div class=\"sub\">%s</div>", c->L->no_credit_rule);
  for (size_t i = 0; i < n; i++) {
    char m[96];
    fmt_money(c, sums[i].amount, sums[i].currency, m, sizeof m);
    fputs("<div class=\"big\">", c->out);
    esc(c->out, m);
    fputs("</div>", c->out);
  }
  for (size_t i = 0; i < k->n_slas; i++) {
    if (!k->slas[i].has_penalty) continue;
    char m[96];
    fmt_money(c, k->slas[i].credit, k->slas[i].cfg->penalty.currency, m,
              sizeof m);
    fprintf(c->out, "<div class=\"sub\">%s ", c->L->sla);
    esc(c->out, k->slas[i].cfg->name);
    fputs(": ", c->out);
    esc(c->out, m);
    fputs("</div>", c->out);
  }
  for (size_t i = 0; i < k->n_availability; i++) {
    if (isnan(k->availability[i].credit)) continue;
    char m[96];
    fmt_money(c, k->availability[i].credit, k->availability[i].cfg->currency, m,
              sizeof m);
    fputs("<div class=\"sub\">", c->out);
    esc(c->out, k->availability[i].cfg->service);
    fputs(": ", c->out);
    esc(c->out, m);
    fputs("</div>", c->out);
  }
  fputs("</div>\n", c->out);
}

/* ---- charts ------------------------------------------------------------- */

#define CHART_W 640
#define CHART_H 240
#define COMPLIANCE_W 480 /* two side by side on a page */
#define M_LEFT 44
#define M_RIGHT 12
#define M_TOP 16
#define M_BOTTOM 30
#define COLOR_FR "#2563eb"
#define COLOR_RES "#0f766e"
#define COLOR_BAD "#dc2626"
#define COLOR_OK "#15803d"
#define COLOR_GRID "#e5e7eb"

static void legend(const ctx *c) {
  fprintf(c->out,
          "<div class=\"legend\"><span><i style=\"background:" COLOR_FR
          "\"></i>%s</span><span><i style=\"background:" COLOR_RES
          "\"></i>%s</span></div>",
          c->L->first_response, c->L->resolution);
}

static double y_of(double v, double lo, double hi) {
  return M_TOP + (1.0 - (v - lo) / (hi - lo)) * (CHART_H - M_TOP - M_BOTTOM);
}

static void y_grid(const ctx *c, double lo, double hi, double step, int width) {
  for (double v = lo; v <= hi + 1e-9; v += step) {
    double y = y_of(v, lo, hi);
    char pct[64];
    fmt_pct(c, v, 0, pct, sizeof pct);
    fprintf(c->out,
            "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
            "stroke=\"" COLOR_GRID
            "\"/><text x=\"%d\" y=\"%.1f\" "
            "text-anchor=\"end\">%s</text>",
            M_LEFT, y, width - M_RIGHT, y, M_LEFT - 4, y + 4, pct);
  }
}

static void bar(const ctx *c, double x, double w, double v, const char *color,
                const char *what) {
  double y0 = y_of(0, 0, 100), y = y_of(isnan(v) ? 0 : v, 0, 100);
  char pct[64];
  fmt_pct(c, v, 1, pct, sizeof pct);
  if (isnan(v)) {
    fprintf(c->out,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
            "class=\"muted\">n/a</text>",
            x + w / 2, y0 - 4);
    return;
  }
  fprintf(c->out,
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
          "fill=\"%s\"><title>%s %s</title></rect>"
          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
          x, y, w, y0 - y, color, what, pct, x + w / 2, y - 3, pct);
}

static void chart_compliance(const ctx *c, const ib_kpi_sla *s) {
  FILE *o = c->out;
  fprintf(o, "<figure><figcaption>%s — %s ", c->L->by_priority, c->L->sla);
  esc(o, s->cfg->name);
  fprintf(o, "</figcaption><svg viewBox=\"0 0 %d %d\" role=\"img\">",
          COMPLIANCE_W, CHART_H);
  y_grid(c, 0, 100, 25, COMPLIANCE_W);
  size_t groups = s->n_priorities + 1;
  double gw = (double)(COMPLIANCE_W - M_LEFT - M_RIGHT) / (double)groups;
  double bw = gw * 0.34;
  for (size_t g = 0; g < groups; g++) {
    const ib_kpi_stats *fr, *res;
    char name[16];
    if (g < s->n_priorities) {
      fr = &s->by_priority[g].first_response;
      res = &s->by_priority[g].resolution;
      snprintf(name, sizeof name, "P%d", s->by_priority[g].priority);
    } else {
      fr = &s->total_first_response;
      res = &s->total_resolution;
      snprintf(name, sizeof name, "%s", c->L->all);
    }
    double x = M_LEFT + gw * (double)g + gw * 0.14;
    bar(c, x, bw, fr->compliance_pct, COLOR_FR, c->L->first_response);
    bar(c, x + bw + 2, bw, res->compliance_pct, COLOR_RES, c->L->resolution);
    fprintf(o, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
            M_LEFT + gw * ((double)g + 0.5), CHART_H - 10, name);
  }
  fputs("</svg>", o);
  legend(c);
  fputs("</figure>\n", o);
}

/* Buckets of measured/target, in percent of the target. */
static const int bucket_edges[] = {25, 50, 75, 100, 150, 200};
#define N_BUCKETS (sizeof bucket_edges / sizeof bucket_edges[0] + 1)

static void histogram(const ctx *c, size_t sla, int which) {
  const ib_kpi_result *k = c->r->kpi;
  long long counts[N_BUCKETS] = {0}, max = 0;
  for (size_t i = 0; i < k->n_tickets; i++) {
    const ib_kpi_ticket *t = &k->tickets[i];
    const ib_kpi_measure *m = which ? &t->resolution : &t->first_response;
    if (t->sla != sla || m->target_s <= 0 ||
        (m->verdict != IB_KPI_MET && m->verdict != IB_KPI_BREACHED))
      continue;
    double ratio = 100.0 * (double)m->measured_s / (double)m->target_s;
    size_t b = 0;
    while (b < N_BUCKETS - 1 && ratio > bucket_edges[b]) b++;
    if (++counts[b] > max) max = counts[b];
  }
  FILE *o = c->out;
  const int w = 460, h = 220, ml = 30, mb = 34, mt = 16;
  fprintf(o, "<div><h3>%s</h3><svg viewBox=\"0 0 %d %d\" role=\"img\">",
          kpi_label(c, which), w, h);
  double bw = (double)(w - ml - 8) / (double)N_BUCKETS;
  long long top = max > 0 ? max : 1;
  for (size_t b = 0; b < N_BUCKETS; b++) {
    double bh = (double)(h - mt - mb) * (double)counts[b] / (double)top;
    double x = ml + bw * (double)b;
    int late = b >= 4; /* past 100 % */
    fprintf(o,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
            "fill=\"%s\"/>",
            x + 2, h - mb - bh, bw - 4, bh,
            late    ? COLOR_BAD
            : which ? COLOR_RES
                    : COLOR_FR);
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%lld</text>",
            x + bw / 2, h - mb - bh - 3, counts[b]);
    char lbl[32];
    if (b == 0)
      snprintf(lbl, sizeof lbl, "≤%d", bucket_edges[0]);
    else if (b == N_BUCKETS - 1)
      snprintf(lbl, sizeof lbl, ">%d", bucket_edges[b - 1]);
    else
      snprintf(lbl, sizeof lbl, "%d–%d", bucket_edges[b - 1], bucket_edges[b]);
    fprintf(o,
            "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
            "font-size=\"10\">%s</text>",
            x + bw / 2, h - mb + 14, lbl);
  }
  fprintf(o, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
          ml + (double)(w - ml - 8) / 2, h - 4, c->L->pct_of_target);
  double x100 = ml + bw * 4;
  fprintf(o,
          "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#111\" "
          "stroke-dasharray=\"4 3\"/><text x=\"%.1f\" y=\"%d\">%s</text>",
          x100, mt - 6, x100, h - mb, x100 + 3, mt, c->L->target);
  fputs("</svg></div>", o);
}

static void chart_distribution(const ctx *c, size_t sla) {
  FILE *o = c->out;
  fprintf(o, "<figure><figcaption>%s — %s ", c->L->distribution, c->L->sla);
  esc(o, c->r->kpi->slas[sla].cfg->name);
  fprintf(o, "</figcaption><p>%s</p><div class=\"pair\">",
          c->L->distribution_note);
  histogram(c, sla, 0);
  histogram(c, sla, 1);
  fputs("</div></figure>\n", o);
}

static void chart_availability(const ctx *c) {
  const ib_kpi_result *k = c->r->kpi;
  if (k->n_availability == 0) return;
  double lo = 100.0;
  for (size_t i = 0; i < k->n_availability; i++) {
    const ib_kpi_availability *a = &k->availability[i];
    if (!isnan(a->availability_pct) && a->availability_pct < lo)
      lo = a->availability_pct;
    if (a->cfg->target_pct < lo) lo = a->cfg->target_pct;
  }
  lo = floor(lo) - 1.0; /* a truncated axis, said in the caption */
  if (lo < 0) lo = 0;
  const int row = 34, lx = 150, top = 10;
  int h = top + row * (int)k->n_availability + 24;
  double span = CHART_W - lx - 70;
  FILE *o = c->out;
  char lo_txt[64];
  fmt_pct(c, lo, 0, lo_txt, sizeof lo_txt);
  fprintf(o,
          "<figure><figcaption>%s</figcaption><p>%s %s</p>"
          "<svg viewBox=\"0 0 %d %d\" role=\"img\">",
          c->L->avail_chart, c->L->avail_axis, lo_txt, CHART_W, h);
  for (int tick = (int)lo; tick <= 100; tick++) {
    if ((100 - lo) > 10 && tick % 10 != 0) continue;
    double x = lx + span * (tick - lo) / (100.0 - lo);
    char t[64];
    fmt_pct(c, tick, 0, t, sizeof t);
    fprintf(
        o,
        "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"" COLOR_GRID
        "\"/><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">"
        "%s</text>",
        x, top, x, h - 20, x, h - 6, t);
  }
  for (size_t i = 0; i < k->n_availability; i++) {
    const ib_kpi_availability *a = &k->availability[i];
    int y = top + row * (int)i;
    fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", lx - 6, y + 20);
    esc(o, a->cfg->service);
    fputs("</text>", o);
    char pct[64], tgt[64];
    fmt_pct(c, a->availability_pct, 3, pct, sizeof pct);
    fmt_pct(c, a->cfg->target_pct, 3, tgt, sizeof tgt);
    if (!isnan(a->availability_pct)) {
      double wv = span * (a->availability_pct - lo) / (100.0 - lo);
      fprintf(o,
              "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"20\" "
              "fill=\"%s\"/><text x=\"%.1f\" y=\"%d\">%s</text>",
              lx, y + 6, wv, a->breached ? COLOR_BAD : COLOR_OK, lx + wv + 4,
              y + 20, pct);
    }
    double xt = lx + span * (a->cfg->target_pct - lo) / (100.0 - lo);
    fprintf(o,
            "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#111\" "
            "stroke-width=\"2\" stroke-dasharray=\"3 2\"><title>%s %s</title>"
            "</line>",
            xt, y + 2, xt, y + 30, c->L->target, tgt);
  }
  fputs("</svg></figure>\n", o);
}

/* Colours of the trend lines, one per (SLA, KPI) series. */
static const char *const palette[] = {"#2563eb", "#0f766e", "#9333ea",
                                      "#ea580c", "#0891b2", "#be123c"};
#define N_PALETTE (sizeof palette / sizeof palette[0])

/* Total compliance of SLA `name` and KPI `which` in month result k. */
static double trend_value(const ib_kpi_result *k, const char *name, int which) {
  if (k == NULL) return NAN;
  for (size_t s = 0; s < k->n_slas; s++)
    if (!strcmp(k->slas[s].cfg->name, name))
      return which ? k->slas[s].total_resolution.compliance_pct
                   : k->slas[s].total_first_response.compliance_pct;
  return NAN;
}

static void chart_trend(const ctx *c) {
  const ib_report *r = c->r;
  const ib_kpi_result *cur = r->kpi;
  size_t with_data = 0;
  double lo = 100.0;
  for (size_t m = 0; m < r->n_trend; m++) {
    if (r->trend[m].kpi == NULL) continue;
    with_data++;
    for (size_t s = 0; s < cur->n_slas; s++)
      for (int w = 0; w < 2; w++) {
        double v = trend_value(r->trend[m].kpi, cur->slas[s].cfg->name, w);
        if (!isnan(v) && v < lo) lo = v;
      }
  }
  FILE *o = c->out;
  fprintf(o, "<figure id=\"trend\"><figcaption>%s</figcaption>", c->L->trend);
  if (with_data < 2) {
    fprintf(o, "<p>%s</p></figure>\n", c->L->trend_none);
    return;
  }
  /* the y axis starts at the lowest decile reached, and says so */
  lo = floor(lo / 10.0) * 10.0;
  if (lo > 90) lo = 90;
  fprintf(o, "<svg viewBox=\"0 0 %d %d\" role=\"img\">", CHART_W, CHART_H);
  y_grid(c, lo, 100, 100 - lo >= 50 ? 20 : 100 - lo >= 20 ? 10 : 2, CHART_W);
  double step = (double)(CHART_W - M_LEFT - M_RIGHT - 40) /
                (double)(r->n_trend > 1 ? r->n_trend - 1 : 1);
  for (size_t m = 0; m < r->n_trend; m++) {
    fprintf(o, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
            M_LEFT + 20 + step * (double)m, CHART_H - 10);
    esc(o, r->trend[m].label);
    fputs("</text>", o);
  }
  size_t series = 0;
  for (size_t s = 0; s < cur->n_slas; s++)
    for (int w = 0; w < 2; w++, series++) {
      const char *color = palette[series % N_PALETTE];
      double px = NAN, py = NAN;
      for (size_t m = 0; m < r->n_trend; m++) {
        double v = trend_value(r->trend[m].kpi, cur->slas[s].cfg->name, w);
        if (isnan(v)) { /* a gap, not a zero */
          px = py = NAN;
          continue;
        }
        double x = M_LEFT + 20 + step * (double)m, y = y_of(v, lo, 100);
        if (!isnan(px))
          fprintf(o,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                  "stroke=\"%s\" stroke-width=\"2\"%s/>",
                  px, py, x, y, color, w ? " stroke-dasharray=\"6 3\"" : "");
        char pct[64];
        fmt_pct(c, v, 1, pct, sizeof pct);
        fprintf(o,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\">"
                "<title>",
                x, y, color);
        esc(o, r->trend[m].label);
        fprintf(o, " %s</title></circle>", pct);
        px = x;
        py = y;
      }
    }
  fputs("</svg><div class=\"legend\">", o);
  series = 0;
  for (size_t s = 0; s < cur->n_slas; s++)
    for (int w = 0; w < 2; w++, series++) {
      fprintf(o, "<span><i style=\"background:%s\"></i>",
              palette[series % N_PALETTE]);
      esc(o, cur->slas[s].cfg->name);
      fprintf(o, " · %s%s</span>", kpi_label(c, w), w ? " (- -)" : "");
    }
  fputs("</div></figure>\n", o);
}

/* ---- tables ------------------------------------------------------------- */

static void breaches_table(const ctx *c) {
  const ib_kpi_result *k = c->r->kpi;
  FILE *o = c->out;
  size_t n = 0;
  fprintf(o, "<h2 id=\"breaches\">%s</h2>\n", c->L->breaches);
  for (size_t i = 0; i < k->n_tickets; i++) {
    const ib_kpi_ticket *t = &k->tickets[i];
    const ib_kpi_measure *m[2] = {&t->first_response, &t->resolution};
    for (int w = 0; w < 2; w++) {
      if (m[w]->verdict != IB_KPI_BREACHED) continue;
      if (n++ == 0)
        fprintf(o,
                "<table><thead><tr><th>%s</th><th>%s</th><th>%s</th>"
                "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
                "<th>%s</th></tr></thead><tbody>\n",
                c->L->sla, c->L->kpi, c->L->ticket, c->L->title_col,
                c->L->priority, c->L->service, c->L->measured, c->L->target_col,
                c->L->over_by);
      char meas[32], tgt[32], over[32];
      ib_kpi_format_duration((double)m[w]->measured_s, meas, sizeof meas);
      ib_kpi_format_duration((double)m[w]->target_s, tgt, sizeof tgt);
      ib_kpi_format_duration((double)m[w]->over_s, over, sizeof over);
      fputs("<tr><td>", o);
      esc(o, k->slas[t->sla].cfg->name);
      fprintf(o, "</td><td>%s</td><td>", kpi_label(c, w));
      esc(o, t->ticket->key ? t->ticket->key : t->ticket->id);
      fputs("</td><td>", o);
      esc(o, t->ticket->title);
      fprintf(o, "</td><td>P%d</td><td>", t->priority);
      esc(o, t->ticket->service);
      fprintf(o,
              "</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
              "<td class=\"num bad-text\">%s</td></tr>\n",
              meas, tgt, over);
    }
  }
  if (n == 0)
    fprintf(o, "<p>%s</p>\n", c->L->no_breaches);
  else
    fputs("</tbody></table>\n", o);
}

/* Labels of the disagreements section, kept apart from `labels` so that
 * the long positional initialisers above stay as they are. */
typedef struct disagree_labels {
  const char *title, *intro, *none, *ours, *theirs, *reason, *met, *breached;
  const char *reasons[IB_KPI_REASON_UNEXPLAINED + 1]; /* by ib_kpi_reason */
} disagree_labels;

static const disagree_labels disagree_en = {
    "Disagreements with the provider",
    "Tickets whose verdict the provider's tool reported otherwise, with the "
    "reading under which our verdict would equal theirs.",
    "The provider's reported verdicts all match ours (or none were "
    "reported).",
    "Ours",
    "Provider",
    "Reason",
    "met",
    "breached",
    {"", "the provider ignored or applied the ticket's pauses",
     "the provider counted 24x7 instead of the SLA's calendar",
     "the provider used the target of a priority the ticket had earlier",
     "no response was recorded: we used the resolution, the provider read it "
     "as unanswered",
     "unexplained"},
};

static const disagree_labels disagree_fr = {
    "Désaccords avec le prestataire",
    "Tickets dont l'outil du prestataire annonce un autre verdict, avec la "
    "lecture sous laquelle notre verdict serait le sien.",
    "Les verdicts annoncés par le prestataire concordent tous avec les nôtres "
    "(ou il n'en a annoncé aucun).",
    "Le nôtre",
    "Prestataire",
    "Raison",
    "respecté",
    "dépassé",
    {"", "le prestataire a ignoré ou appliqué les pauses du ticket",
     "le prestataire a compté en 24h/24 au lieu du calendrier du SLA",
     "le prestataire a pris la cible d'une priorité antérieure du ticket",
     "aucune réponse enregistrée : nous avons pris la résolution, le "
     "prestataire l'a lue comme sans réponse",
     "inexpliqué"},
};

static void disagreements_table(const ctx *c) {
  const ib_kpi_result *k = c->r->kpi;
  const disagree_labels *D = c->L == &labels_fr ? &disagree_fr : &disagree_en;
  FILE *o = c->out;
  size_t n = 0;
  fprintf(o, "<h2 id=\"disagreements\">%s</h2>\n<p>%s</p>\n", D->title,
          D->intro);
  for (size_t i = 0; i < k->n_tickets; i++) {
    const ib_kpi_ticket *t = &k->tickets[i];
    const ib_kpi_measure *m[2] = {&t->first_response, &t->resolution};
    for (int w = 0; w < 2; w++) {
      if (!m[w]->disagrees) continue;
      if (n++ == 0)
        fprintf(o,
                "<table><thead><tr><th>%s</th><th>%s</th><th>%s</th>"
                "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
                "<th>%s</th></tr></thead><tbody>\n",
                c->L->sla, c->L->kpi, c->L->ticket, c->L->priority,
                c->L->measured, c->L->target_col, D->ours, D->theirs,
                D->reason);
      char meas[32], tgt[32];
      ib_kpi_format_duration((double)m[w]->measured_s, meas, sizeof meas);
      ib_kpi_format_duration((double)m[w]->target_s, tgt, sizeof tgt);
      int r = m[w]->reason <= IB_KPI_REASON_UNEXPLAINED
                  ? (int)m[w]->reason
                  : (int)IB_KPI_REASON_UNEXPLAINED;
      fputs("<tr><td>", o);
      esc(o, k->slas[t->sla].cfg->name);
      fprintf(o, "</td><td>%s</td><td>", kpi_label(c, w));
      esc(o, t->ticket->key ? t->ticket->key : t->ticket->id);
      fprintf(o,
              "</td><td>P%d</td><td class=\"num\">%s</td>"
              "<td class=\"num\">%s</td><td>%s</td><td>%s</td>"
              "<td data-reason=\"%s\">%s</td></tr>\n",
              t->priority, meas, tgt,
              m[w]->verdict == IB_KPI_BREACHED ? D->breached : D->met,
              m[w]->reported == IB_VERDICT_BREACHED ? D->breached : D->met,
              ib_kpi_reason_name((ib_kpi_reason)r), D->reasons[r]);
    }
  }
  if (n == 0)
    fprintf(o, "<p>%s</p>\n", D->none);
  else
    fputs("</tbody></table>\n", o);
}

/* ---- closed month: the edition and what changed since (SPEC §9) ---------- */

typedef struct edition_labels {
  const char *title, *edition, *closed_at, *measured_at, *chain_ok,
      *chain_broken, *unchanged, *restated, *figures, *figure, *frozen, *now,
      *tickets, *changes, *no_change, *credits, *difference, *out_of_cohort,
      *more;
} edition_labels;

static const edition_labels edition_en = {
    "Closed month",
    "Edition",
    "closed at",
    "measured as of",
    "The chain of editions is intact.",
    "The chain of editions is BROKEN: an edition was altered outside "
    "itsm-bridge (itsm-bridge verify names it).",
    "Every figure and every ticket's result in this report is as frozen in "
    "this edition.",
    "Restated since the edition: %s figures and %s ticket results changed. "
    "The figures in this report are today's; the frozen values are below, "
    "with the changes the syncs recorded.",
    "Figures (frozen, now)",
    "Figure",
    "Frozen",
    "Now",
    "Tickets (frozen, now)",
    "Recorded changes",
    "none recorded (definitions, calendar or engine changed)",
    "Credits",
    "Difference",
    "not in the cohort",
    "and %s more",
};

static const edition_labels edition_fr = {
    "Mois clos",
    "Édition",
    "close le",
    "mesurée au",
    "La chaîne des éditions est intacte.",
    "La chaîne des éditions est ROMPUE : une édition a été modifiée hors "
    "d'itsm-bridge (itsm-bridge verify la nomme).",
    "Chaque chiffre et chaque résultat de ticket de ce rapport est celui "
    "figé dans cette édition.",
    "Recalculé depuis l'édition : %s chiffres et %s résultats de tickets "
    "ont changé. Les chiffres de ce rapport sont ceux d'aujourd'hui ; les "
    "valeurs figées sont ci-dessous, avec les changements relevés par les "
    "synchronisations.",
    "Chiffres (figés, actuels)",
    "Chiffre",
    "Figé",
    "Actuel",
    "Tickets (figés, actuels)",
    "Changements relevés",
    "aucun relevé (définitions, calendrier ou moteur modifiés)",
    "Pénalités",
    "Écart",
    "hors cohorte",
    "et %s de plus",
};

#define EDITION_ROWS_MAX 50

/* A JSON leaf as text for a cell, HTML-escaped. */
static void esc_json(FILE *o, const cJSON *v) {
  if (v == NULL || cJSON_IsNull(v)) {
    fputs("—", o);
  } else if (cJSON_IsString(v)) {
    esc(o, v->valuestring);
  } else {
    char *t = cJSON_PrintUnformatted(v);
    esc(o, t);
    free(t);
  }
}

static void esc_result(const ctx *c, const edition_labels *E, const cJSON *r) {
  FILE *o = c->out;
  if (r == NULL || cJSON_IsNull(r)) {
    fputs(E->out_of_cohort, o);
    return;
  }
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "target_s");
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "measured_s");
  char tb[32] = "—", mb[32] = "—";
  if (cJSON_IsNumber(t)) fmt_target((int64_t)t->valuedouble, tb, sizeof tb);
  if (cJSON_IsNumber(m)) ib_kpi_format_duration(m->valuedouble, mb, sizeof mb);
  esc_json(o, cJSON_GetObjectItemCaseSensitive(r, "priority"));
  fprintf(o, " · %s / %s · ", mb, tb);
  esc_json(o, cJSON_GetObjectItemCaseSensitive(r, "verdict"));
}

static void more_rows(const ctx *c, const edition_labels *E, int n) {
  if (n <= EDITION_ROWS_MAX) return;
  char count[32];
  snprintf(count, sizeof count, "%d", n - EDITION_ROWS_MAX);
  const char *args[] = {count};
  fputs("<p>", c->out);
  put_template(c->out, E->more, args);
  fputs("</p>\n", c->out);
}

static void edition_section(const ctx *c) {
  const cJSON *v = c->r->edition_check;
  if (v == NULL) return;
  const edition_labels *E = c->L == &labels_fr ? &edition_fr : &edition_en;
  FILE *o = c->out;
  const cJSON *ed = cJSON_GetObjectItemCaseSensitive(v, "edition");
  const cJSON *figures = cJSON_GetObjectItemCaseSensitive(v, "figures");
  const cJSON *tickets = cJSON_GetObjectItemCaseSensitive(v, "tickets");
  const cJSON *credits = cJSON_GetObjectItemCaseSensitive(v, "credit_delta");
  int unchanged =
      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "unchanged"));
  int chain_ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "chain_ok"));
  fprintf(o, "<h2 id=\"edition\">%s</h2>\n<p>%s <code id=\"edition-hash\">",
          E->title, E->edition);
  esc_json(o, cJSON_GetObjectItemCaseSensitive(ed, "hash"));
  fprintf(o, "</code>, %s ", E->closed_at);
  esc_json(o, cJSON_GetObjectItemCaseSensitive(ed, "closed_at"));
  fprintf(o, ", %s ", E->measured_at);
  esc_json(o, cJSON_GetObjectItemCaseSensitive(ed, "as_of"));
  fprintf(o, ".</p>\n<p id=\"edition-chain\" data-ok=\"%d\">%s</p>\n", chain_ok,
          chain_ok ? E->chain_ok : E->chain_broken);
  if (unchanged) {
    fprintf(o, "<p id=\"edition-state\" data-state=\"as-frozen\">%s</p>\n",
            E->unchanged);
    return;
  }
  char nf[16], nt[16];
  snprintf(nf, sizeof nf, "%d", cJSON_GetArraySize(figures));
  snprintf(nt, sizeof nt, "%d", cJSON_GetArraySize(tickets));
  const char *args[] = {nf, nt};
  fputs("<p id=\"edition-state\" data-state=\"restated\">", o);
  put_template(o, E->restated, args);
  fputs("</p>\n", o);

  int n = 0;
  const cJSON *x;
  if (cJSON_GetArraySize(figures) > 0)
    fprintf(o,
            "<h3>%s</h3>\n<table id=\"edition-figures\"><thead><tr><th>%s"
            "</th><th>%s</th><th>%s</th></tr></thead><tbody>\n",
            E->figures, E->figure, E->frozen, E->now);
  cJSON_ArrayForEach(x, figures) {
    if (n++ >= EDITION_ROWS_MAX) continue;
    fputs("<tr><td><code>", o);
    esc_json(o, cJSON_GetObjectItemCaseSensitive(x, "path"));
    fputs("</code></td><td class=\"num\">", o);
    esc_json(o, cJSON_GetObjectItemCaseSensitive(x, "old"));
    fputs("</td><td class=\"num\">", o);
    esc_json(o, cJSON_GetObjectItemCaseSensitive(x, "new"));
    fputs("</td></tr>\n", o);
  }
  if (n > 0) fputs("</tbody></table>\n", o);
  more_rows(c, E, n);

  n = 0;
  if (cJSON_GetArraySize(tickets) > 0)
    fprintf(o,
            "<h3>%s</h3>\n<table id=\"edition-tickets\"><thead><tr><th>%s"
            "</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
            "</tr></thead><tbody>\n",
            E->tickets, c->L->ticket, c->L->sla, c->L->kpi, E->frozen, E->now,
            E->changes);
  cJSON_ArrayForEach(x, tickets) {
    if (n++ >= EDITION_ROWS_MAX) continue;
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(x, "key");
    const cJSON *kpi = cJSON_GetObjectItemCaseSensitive(x, "kpi");
    fputs("<tr><td>", o);
    esc_json(o, cJSON_IsString(key)
                    ? key
                    : cJSON_GetObjectItemCaseSensitive(x, "id"));
    fputs("</td><td>", o);
    esc_json(o, cJSON_GetObjectItemCaseSensitive(x, "sla"));
    fprintf(o, "</td><td>%s</td><td>",
            kpi_label(c, cJSON_IsString(kpi) &&
                             !strcmp(kpi->valuestring, "resolution")));
    esc_result(c, E, cJSON_GetObjectItemCaseSensitive(x, "old"));
    fputs("</td><td>", o);
    esc_result(c, E, cJSON_GetObjectItemCaseSensitive(x, "new"));
    fputs("</td><td>", o);
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(x, "changes");
    if (cJSON_GetArraySize(changes) == 0) fputs(E->no_change, o);
    const cJSON *ch;
    int first = 1;
    cJSON_ArrayForEach(ch, changes) {
      if (!first) fputs("<br>", o);
      first = 0;
      esc_json(o, cJSON_GetObjectItemCaseSensitive(ch, "field"));
      fputs(" ", o);
      esc_json(o, cJSON_GetObjectItemCaseSensitive(ch, "old"));
      fputs(" → ", o);
      esc_json(o, cJSON_GetObjectItemCaseSensitive(ch, "new"));
      fputs(" (", o);
      esc_json(o, cJSON_GetObjectItemCaseSensitive(ch, "detected_at"));
      fputs(")", o);
    }
    fputs("</td></tr>\n", o);
  }
  if (n > 0) fputs("</tbody></table>\n", o);
  more_rows(c, E, n);

  if (cJSON_GetArraySize(credits) > 0)
    fprintf(o,
            "<h3>%s</h3>\n<table id=\"edition-credits\"><thead><tr><th>%s /"
            " %s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>\n",
            E->credits, c->L->sla, c->L->service, E->frozen, E->now,
            E->difference);
  cJSON_ArrayForEach(x, credits) {
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(x, "old");
    const cJSON *now = cJSON_GetObjectItemCaseSensitive(x, "new");
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(x, "currency");
    const char *currency = cJSON_IsString(cur) ? cur->valuestring : "";
    char a[128] = "—", b[128] = "—", d[128] = "—";
    if (cJSON_IsNumber(old))
      fmt_money(c, old->valuedouble, currency, a, sizeof a);
    if (cJSON_IsNumber(now))
      fmt_money(c, now->valuedouble, currency, b, sizeof b);
    if (cJSON_IsNumber(old) && cJSON_IsNumber(now))
      fmt_money(c, now->valuedouble - old->valuedouble, currency, d, sizeof d);
    fputs("<tr><td>", o);
    esc_json(o, cJSON_GetObjectItemCaseSensitive(x, "sla_or_service"));
    fputs("</td><td class=\"num\">", o);
    esc(o, a);
    fputs("</td><td class=\"num\">", o);
    esc(o, b);
    fputs("</td><td class=\"num\">", o);
    esc(o, d);
    fputs("</td></tr>\n", o);
  }
  if (cJSON_GetArraySize(credits) > 0) fputs("</tbody></table>\n", o);
}

/* ---- right now (the month still running) ------------------------------- */

/* Labels of the "right now" block, apart from `labels` like the
 * disagreements' ones. */
typedef struct now_labels {
  const char *title, *intro, *budget_used, *burn_rate, *burn_note, *late,
      *no_late, *measured_so_far, *created, *undefined, *at_risk, *no_risk;
} now_labels;

static const now_labels now_en = {
    "Right now",
    "The month is still running: where the error budgets and the open "
    "tickets stand as of %s.",
    "Error budget used",
    "Burn rate",
    "1 spends the month's allowed downtime exactly by the month's end; above "
    "1 it runs out before.",
    "Open tickets already late",
    "No open ticket is over its target.",
    "Open time so far",
    "Created",
    "no budget (100 % target or nothing elapsed)",
    "Open tickets that will be late within %s of business time",
    "None: no open ticket is that close to its target.",
};

static const now_labels now_fr = {
    "En ce moment",
    "Le mois est en cours : où en sont les budgets d'indisponibilité et les "
    "tickets ouverts au %s.",
    "Budget d'indisponibilité consommé",
    "Rythme de consommation",
    "À 1, l'indisponibilité permise du mois est épuisée pile à la fin du "
    "mois ; au-delà, elle l'est avant.",
    "Tickets ouverts déjà en retard",
    "Aucun ticket ouvert ne dépasse sa cible.",
    "Temps ouvert à ce jour",
    "Ouvert le",
    "pas de budget (cible de 100 % ou rien d'écoulé)",
    "Tickets ouverts qui seront en retard d'ici %s ouvrées",
    "Aucun : aucun ticket ouvert n'est si près de sa cible.",
};

/* The month is the one running: as_of falls inside it. */
static int is_current_month(const ib_kpi_result *k) {
  return k->as_of >= k->from && k->as_of < k->to;
}

static void now_availability(const ctx *c, const now_labels *N) {
  const ib_kpi_result *k = c->r->kpi;
  FILE *o = c->out;
  if (k->n_availability == 0) return;
  fprintf(o,
          "<table id=\"now-budget\"><thead><tr><th>%s</th><th>%s</th>"
          "<th>%s</th><th>%s</th></tr></thead><tbody>\n",
          c->L->service, c->L->target_col, N->budget_used, N->burn_rate);
  for (size_t i = 0; i < k->n_availability; i++) {
    const ib_kpi_availability *a = &k->availability[i];
    double used = ib_kpi_budget_consumed(a), burn = ib_kpi_burn_rate(a);
    char tgt[64], pct[64], rate[64];
    fmt_pct(c, a->cfg->target_pct, 3, tgt, sizeof tgt);
    fmt_pct(c, used * 100.0, 1, pct, sizeof pct);
    if (isnan(burn))
      snprintf(rate, sizeof rate, "–");
    else
      fmt_num(c, burn, 2, rate, sizeof rate);
    fputs("<tr data-service=\"", o);
    esc(o, a->cfg->service);
    fputs("\"><td>", o);
    esc(o, a->cfg->service);
    fprintf(o,
            "</td><td class=\"num\">%s</td><td class=\"num%s\" "
            "data-budget-used>%s</td><td class=\"num%s\" data-burn-rate>%s"
            "</td></tr>\n",
            tgt, !isnan(used) && used >= 1.0 ? " bad-text" : "",
            isnan(used) ? N->undefined : pct,
            !isnan(burn) && burn > 1.0 ? " bad-text" : "", rate);
  }
  fprintf(o, "</tbody></table>\n<p class=\"muted\">%s</p>\n", N->burn_note);
}

/* A ticket open at the end whose first response is still missing and
 * late, or whose resolution time so far is over its target. */
static int now_late(const ib_kpi_ticket *t, int which) {
  if (which == 0)
    return t->first_response.verdict == IB_KPI_BREACHED &&
           t->ticket->first_response_at == IB_TIME_NONE &&
           t->ticket->resolved_at == IB_TIME_NONE;
  return t->open_breached;
}

static void now_tickets(const ctx *c, const now_labels *N, size_t sla) {
  const ib_kpi_result *k = c->r->kpi;
  FILE *o = c->out;
  size_t n = 0;
  fprintf(o, "<h3>%s ", c->L->sla);
  esc(o, k->slas[sla].cfg->name);
  fprintf(o, " — %s</h3>\n", N->late);
  for (size_t i = 0; i < k->n_tickets; i++) {
    const ib_kpi_ticket *t = &k->tickets[i];
    if (t->sla != sla) continue;
    for (int w = 0; w < 2; w++) {
      if (!now_late(t, w)) continue;
      if (n++ == 0) {
        fputs("<table class=\"now-late\" data-sla=\"", o);
        esc(o, k->slas[sla].cfg->name);
        fprintf(o,
                "\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
                "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead>"
                "<tbody>\n",
                c->L->kpi, c->L->ticket, c->L->title_col, c->L->priority,
                N->created, N->measured_so_far, c->L->target_col,
                c->L->over_by);
      }
      int64_t so_far = w ? t->open_s : t->first_response.measured_s;
      int64_t target = w ? t->resolution.target_s : t->first_response.target_s;
      char created[64], meas[32], tgt[32], over[32];
      fmt_local(c, t->ticket->created_at, created, sizeof created);
      ib_kpi_format_duration((double)so_far, meas, sizeof meas);
      ib_kpi_format_duration((double)target, tgt, sizeof tgt);
      ib_kpi_format_duration((double)(so_far - target), over, sizeof over);
      fprintf(o, "<tr><td>%s</td><td>", kpi_label(c, w));
      esc(o, t->ticket->key ? t->ticket->key : t->ticket->id);
      fputs("</td><td>", o);
      esc(o, t->ticket->title);
      fprintf(o,
              "</td><td>P%d</td><td>%s</td><td class=\"num\">%s</td>"
              "<td class=\"num\">%s</td><td class=\"num bad-text\">%s</td>"
              "</tr>\n",
              t->priority, created, meas, tgt, over);
    }
  }
  if (n == 0)
    fprintf(o, "<p>%s</p>\n", N->no_late);
  else
    fputs("</tbody></table>\n", o);
}

/* The SLA's tickets that its ticket_at_risk rules (alerts.h) name: open,
 * not late yet, but late within the rule's `within` of business time. An
 * SLA without such a rule shows nothing here. */
static void now_at_risk(const ctx *c, const now_labels *N, size_t sla) {
  const ib_alert_set *set = c->r->alerts;
  FILE *o = c->out;
  for (size_t a = 0; set != NULL && a < set->n; a++) {
    const ib_alert *al = &set->items[a];
    if (al->rule->type != IB_ALERT_TICKET_AT_RISK ||
        &c->r->cfg->slas[al->rule->sla] != c->r->kpi->slas[sla].cfg)
      continue;
    char within[32];
    ib_kpi_format_duration((double)al->rule->duration_s, within, sizeof within);
    fprintf(o, "<h4>");
    put_template(o, N->at_risk, (const char *const[]){within, NULL});
    fputs(" (", o);
    esc(o, al->rule->name);
    fputs(")</h4>\n", o);
    if (!al->firing || cJSON_GetArraySize(al->details) == 0) {
      fprintf(o, "<p class=\"now-risk-none\">%s</p>\n", N->no_risk);
      continue;
    }
    fputs("<ul class=\"now-risk\">\n", o);
    const cJSON *d;
    cJSON_ArrayForEach(d, al->details) {
      char line[512];
      ib_alert_detail_line(al->rule->type, d, line, sizeof line);
      fputs("<li>", o);
      esc(o, line);
      fputs("</li>\n", o);
    }
    fputs("</ul>\n", o);
  }
}

/* The "right now" block, only when the report's month is still running. */
static void right_now(const ctx *c) {
  const ib_kpi_result *k = c->r->kpi;
  if (!is_current_month(k)) return;
  const now_labels *N = c->L == &labels_fr ? &now_fr : &now_en;
  FILE *o = c->out;
  char as_of[64];
  fmt_local(c, k->as_of, as_of, sizeof as_of);
  fprintf(o, "<section id=\"right-now\"><h2>%s</h2>\n<p>", N->title);
  put_template(o, N->intro, (const char *const[]){as_of, NULL});
  fputs("</p>\n", o);
  now_availability(c, N);
  for (size_t i = 0; i < k->n_slas; i++) {
    now_tickets(c, N, i);
    now_at_risk(c, N, i);
  }
  fputs("</section>\n", o);
}

/* ---- late changes ------------------------------------------------------- */

/* Rows of the late-changes table; the rest are counted, not listed (the
 * changes export has them all). */
#define LATE_ROWS_MAX 50

typedef struct late_labels {
  const char *title, *intro, *none, *category, *count, *record, *field,
      *old_new, *detected, *more;
  const char *categories[IB_LATE_COUNT]; /* by ib_late_category */
} late_labels;

static const late_labels late_en = {
    "Late changes",
    "Changes the sources made to this month's tickets and outages after the "
    "month ended, as the syncs detected them. Each one may move a figure "
    "computed (or signed) before it.",
    "No change to this month's tickets or outages was detected after the "
    "month ended.",
    "Category",
    "Changes",
    "Ticket / outage",
    "Field",
    "Old → new",
    "Detected",
    "and %s more (all of them: export --format csv, changes.csv).",
    {"creation back-dated", "creation moved later", "priority changed",
     "kind changed", "first response moved", "resolution moved", "pauses added",
     "pauses changed", "cancelled", "no longer cancelled", "deleted",
     "restored after deletion",
     "other field (service, reported "
     "verdict)",
     "outage changed", "outage deleted"},
};

static const late_labels late_fr = {
    "Modifications tardives",
    "Modifications apportées par les sources aux tickets et interruptions du "
    "mois après sa clôture, telles que les synchronisations les ont "
    "détectées. Chacune peut changer un chiffre calculé (ou signé) avant.",
    "Aucune modification des tickets ou interruptions du mois n'a été "
    "détectée après la fin du mois.",
    "Catégorie",
    "Modifications",
    "Ticket / interruption",
    "Champ",
    "Ancienne → nouvelle valeur",
    "Détectée le",
    "et %s de plus (toutes : export --format csv, changes.csv).",
    {"création antidatée", "création reportée", "priorité changée",
     "type changé", "première réponse déplacée", "résolution déplacée",
     "pauses ajoutées", "pauses modifiées", "annulé", "annulation levée",
     "supprimé", "rétabli après suppression",
     "autre champ (service, verdict annoncé)", "interruption modifiée",
     "interruption supprimée"},
};

/* A recorded value: an instant in the report's zone, any other text as
 * it is, "–" for none. */
static void late_value(const ctx *c, const char *field, const char *v) {
  ib_time t;
  char buf[64];
  if (v == NULL) {
    fputs("–", c->out);
  } else if (strcmp(field, "pauses") != 0 &&
             ib_parse_iso8601(v, "UTC", &t) == 0) {
    fmt_local(c, t, buf, sizeof buf);
    fputs(buf, c->out);
  } else {
    esc(c->out, v);
  }
}

static void late_changes_section(const ctx *c) {
  const ib_late_change_list *late = c->r->late_changes;
  const late_labels *D = c->L == &labels_fr ? &late_fr : &late_en;
  FILE *o = c->out;
  size_t count[IB_LATE_COUNT] = {0}, n = late ? late->n : 0;
  fprintf(o, "<h2 id=\"late-changes\">%s</h2>\n<p>%s</p>\n", D->title,
          D->intro);
  if (n == 0) {
    fprintf(o, "<p id=\"late-none\">%s</p>\n", D->none);
    return;
  }
  for (size_t i = 0; i < n; i++)
    if ((unsigned)late->items[i].category < IB_LATE_COUNT)
      count[late->items[i].category]++;
  fprintf(o,
          "<table class=\"late-counts\"><thead><tr><th>%s</th><th>%s</th>"
          "</tr></thead><tbody>\n",
          D->category, D->count);
  for (int k = 0; k < IB_LATE_COUNT; k++) {
    if (count[k] == 0) continue;
    fprintf(o,
            "<tr data-category=\"%s\"><td>%s</td><td class=\"num\">%zu</td>"
            "</tr>\n",
            ib_late_category_name((ib_late_category)k), D->categories[k],
            count[k]);
  }
  fputs("</tbody></table>\n", o);
  fprintf(o,
          "<table class=\"late-list\"><thead><tr><th>%s</th><th>%s</th>"
          "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>\n",
          D->record, D->field, D->old_new, D->detected, D->category);
  for (size_t i = 0; i < n && i < LATE_ROWS_MAX; i++) {
    const ib_late_change *ch = &late->items[i];
    char when[64];
    fmt_local(c, ch->detected_at, when, sizeof when);
    fprintf(o, "<tr data-category=\"%s\"><td>",
            ib_late_category_name(ch->category));
    esc(o, ch->key ? ch->key : ch->id);
    fputs("</td><td>", o);
    esc(o, ch->field);
    fputs("</td><td>", o);
    late_value(c, ch->field, ch->old_value);
    fputs(" → ", o);
    late_value(c, ch->field, ch->new_value);
    fprintf(o, "</td><td>%s</td><td>%s</td></tr>\n", when,
            (unsigned)ch->category < IB_LATE_COUNT
                ? D->categories[ch->category]
                : ib_late_category_name(ch->category));
  }
  fputs("</tbody></table>\n", o);
  if (n > LATE_ROWS_MAX) {
    char more[32];
    snprintf(more, sizeof more, "%zu", n - LATE_ROWS_MAX);
    fputs("<p id=\"late-more\">", o);
    put_template(o, D->more, (const char *const[]){more, NULL});
    fputs("</p>\n", o);
  }
}

static int freshness_table(const ctx *c, char *err, size_t errlen) {
  const ib_config *cfg = c->r->cfg;
  FILE *o = c->out;
  fprintf(o,
          "<h2 id=\"freshness\">%s</h2>\n<table><thead><tr><th>%s</th>"
          "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
          "<th>%s</th><th>%s</th></tr></thead><tbody>\n",
          c->L->freshness, c->L->source, c->L->plugin, c->L->last_success,
          c->L->watermark, c->L->lag, c->L->tickets, c->L->outages,
          c->L->last_error);
  for (size_t i = 0; i < cfg->n_sources; i++) {
    ib_source_state s;
    if (c->r->store == NULL) break;
    if (ib_store_source_state(c->r->store, cfg->sources[i].name, 1, &s, err,
                              errlen) != 0)
      return -1;
    char ok[64], wm[64], lag[64];
    fmt_local(c, s.last_success, ok, sizeof ok);
    fmt_local(c, s.watermark, wm, sizeof wm);
    if (s.last_success == IB_TIME_NONE)
      snprintf(lag, sizeof lag, "–");
    else
      ib_kpi_format_duration((double)(c->r->generated_at - s.last_success), lag,
                             sizeof lag);
    int stale = s.last_success == IB_TIME_NONE || s.last_error[0];
    fputs("<tr><td>", o);
    esc(o, cfg->sources[i].name);
    fputs("</td><td>", o);
    esc(o, cfg->sources[i].plugin);
    fprintf(o,
            "</td><td%s>%s</td><td>%s</td><td class=\"num\">%s</td>"
            "<td class=\"num\">%lld</td><td class=\"num\">%lld</td><td>",
            stale ? " class=\"bad-text\"" : "", ok, wm, lag,
            (long long)s.tickets, (long long)s.outages);
    esc(o, s.last_error[0] ? s.last_error : "–");
    fputs("</td></tr>\n", o);
  }
  fputs("</tbody></table>\n", o);
  return 0;
}

static void calendar_text(const ctx *c, const ib_calendar_cfg *cal) {
  FILE *o = c->out;
  fputs("<td>", o);
  esc(o, cal->name);
  fputs("</td><td>", o);
  esc(o, cal->timezone);
  fputs("</td><td>", o);
  if (!cal->has_hours) {
    fputs(c->L->always_open, o);
  } else {
    for (int d = 0; d < 7; d++) {
      const ib_day_hours *h = &cal->week[d];
      fprintf(o, "%s%s ", d ? "<br>" : "", c->L->days[d]);
      if (h->n == 0) fputs(c->L->closed, o);
      for (int k = 0; k < h->n; k++)
        fprintf(o, "%s%02d:%02d–%02d:%02d", k ? ", " : "",
                h->ranges[k].start_min / 60, h->ranges[k].start_min % 60,
                h->ranges[k].end_min / 60, h->ranges[k].end_min % 60);
    }
  }
  fputs("</td><td>", o);
  if (cal->n_holidays == 0) fputs("–", o);
  for (size_t k = 0; k < cal->n_holidays; k++) {
    int32_t v = cal->holidays[k];
    fprintf(o, "%s%04d-%02d-%02d", k ? ", " : "", v / 10000, v / 100 % 100,
            v % 100);
  }
  fputs("</td>", o);
}

static void sla_definitions(const ctx *c) {
  const ib_config *cfg = c->r->cfg;
  const ib_kpi_result *k = c->r->kpi;
  FILE *o = c->out;
  char from[64], to[64], as_of[64];
  fmt_local(c, k->from, from, sizeof from);
  fmt_local(c, k->to, to, sizeof to);
  fmt_local(c, k->as_of, as_of, sizeof as_of);
  fprintf(o, "<h2 id=\"definitions\">%s</h2>\n<p>", c->L->definitions);
  put_template(o, c->L->computed,
               (const char *const[]){from, to, c->zone, as_of, NULL});
  fputs("</p>\n", o);
  for (size_t i = 0; i < k->n_slas; i++) {
    const ib_sla_cfg *s = k->slas[i].cfg;
    fprintf(o, "<h3>%s ", c->L->sla);
    esc(o, s->name);
    fprintf(o,
            "</h3>\n<table><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
            "</tr><tr>",
            c->L->calendar, c->L->timezone, c->L->hours, c->L->holidays);
    calendar_text(c, &cfg->calendars[s->calendar]);
    fprintf(o, "</tr></table>\n<table><tr><th>%s</th><td>", c->L->sources);
    if (s->n_sources == 0) fputs(c->L->all_sources, o);
    for (size_t j = 0; j < s->n_sources; j++) {
      if (j) fputs(", ", o);
      esc(o, s->sources[j]);
    }
    fprintf(o, "</td></tr><tr><th>%s</th><td>", c->L->kinds);
    unsigned all = (1u << IB_KIND_COUNT) - 1;
    if ((s->kinds_mask & all) == all)
      fputs(c->L->all_kinds, o);
    else
      for (int kd = 0, first = 1; kd < IB_KIND_COUNT; kd++)
        if (s->kinds_mask & (1u << kd)) {
          fprintf(o, "%s%s", first ? "" : ", ", ib_kind_name((ib_kind)kd));
          first = 0;
        }
    fprintf(o, "</td></tr><tr><th>%s</th><td>", c->L->penalty);
    if (!s->penalty.present) {
      fputs(c->L->no_penalty, o);
    } else {
      char a[32], b[32], cap[32], fee[96];
      fmt_num_short(c, s->penalty.per_response_breach_pct, 3, a, sizeof a);
      fmt_num_short(c, s->penalty.per_resolution_breach_pct, 3, b, sizeof b);
      fmt_num_short(c, s->penalty.cap_pct, 3, cap, sizeof cap);
      fmt_money(c, s->penalty.monthly_fee, s->penalty.currency, fee,
                sizeof fee);
      put_template(o, c->L->penalty_text,
                   (const char *const[]){a, b, cap, fee, NULL});
    }
    fprintf(o,
            "</td></tr></table>\n<table><thead><tr><th>%s</th><th>%s</th>"
            "<th>%s</th></tr></thead><tbody>",
            c->L->priority, c->L->first_response, c->L->resolution);
    for (int p = 1; p <= IB_PRIORITY_MAX; p++) {
      if (!s->targets[p].present) continue;
      char fr[32], res[32];
      fmt_target(s->targets[p].first_response_s, fr, sizeof fr);
      fmt_target(s->targets[p].resolution_s, res, sizeof res);
      fprintf(o, "<tr><td>P%d</td><td>%s</td><td>%s</td></tr>", p, fr, res);
    }
    fputs("</tbody></table>\n", o);
  }
  if (k->n_availability == 0) return;
  fprintf(o,
          "<h3>%s</h3>\n<table><thead><tr><th>%s</th><th>%s</th><th>%s</th>"
          "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>\n",
          c->L->avail_defs, c->L->service, c->L->target_col, c->L->calendar,
          c->L->degradation, c->L->from_tickets, c->L->credit_rule);
  for (size_t i = 0; i < k->n_availability; i++) {
    const ib_availability_cfg *a = k->availability[i].cfg;
    char tgt[64];
    fmt_pct(c, a->target_pct, 3, tgt, sizeof tgt);
    fputs("<tr><td>", o);
    esc(o, a->service);
    fprintf(o, "</td><td class=\"num\">%s</td><td>", tgt);
    esc(o, cfg->calendars[a->calendar].name);
    fprintf(o, "</td><td>%s</td><td>%s</td><td>",
            a->count_degradation ? c->L->yes : c->L->no,
            a->from_tickets ? c->L->yes : c->L->no);
    if (a->has_credit) {
      char fee[96];
      fmt_money(c, a->monthly_fee, a->currency, fee, sizeof fee);
      fprintf(o, "%s (", c->L->proportional);
      esc(o, fee);
      fputs(")", o);
    } else {
      fputs(c->L->none, o);
    }
    fputs("</td></tr>\n", o);
  }
  fputs("</tbody></table>\n", o);
}

/* ---- the document ------------------------------------------------------- */

int ib_report_write_html(FILE *out, const ib_report *r, char *err,
                         size_t errlen) {
  ctx c = {out, r, !strcmp(r->lang, "fr") ? &labels_fr : &labels_en,
           r->cfg->timezone ? r->cfg->timezone : "UTC"};
  const ib_kpi_result *k = r->kpi;
  char gen[64], as_of[64];
  fmt_local(&c, r->generated_at, gen, sizeof gen);
  fmt_local(&c, k->as_of, as_of, sizeof as_of);
  fprintf(out,
          "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta "
          "charset=\"utf-8\">\n<meta name=\"viewport\" "
          "content=\"width=device-width, initial-scale=1\">\n<title>",
          c.L->lang);
  esc(out, c.L->title);
  fputs(" — ", out);
  esc(out, r->month);
  fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n", css);
  fprintf(out, "<header><h1>%s — <span id=\"month\">", c.L->title);
  esc(out, r->month);
  fprintf(out, "</span></h1><p>%s ", c.L->period);
  esc(out, r->month);
  fprintf(out, " (%s), %s %s · %s %s</p></header>\n", c.zone, c.L->as_of, as_of,
          c.L->generated, gen);

  right_now(&c);
  fprintf(out, "<h2 id=\"headlines\">%s</h2>\n<div class=\"tiles\">\n",
          c.L->headline);
  for (size_t i = 0; i < k->n_slas; i++) tile_sla(&c, &k->slas[i]);
  for (size_t i = 0; i < k->n_availability; i++)
    tile_availability(&c, &k->availability[i]);
  tile_credits(&c);
  fputs("</div>\n", out);
  edition_section(&c);

  fprintf(out, "<h2 id=\"charts\">%s</h2>\n", c.L->charts);
  fputs("<div class=\"grid\">\n", out);
  for (size_t i = 0; i < k->n_slas; i++) chart_compliance(&c, &k->slas[i]);
  fputs("</div>\n", out);
  for (size_t i = 0; i < k->n_slas; i++) chart_distribution(&c, i);
  chart_availability(&c);
  chart_trend(&c);

  breaches_table(&c);
  disagreements_table(&c);
  late_changes_section(&c);
  if (freshness_table(&c, err, errlen) != 0) return -1;
  sla_definitions(&c);
  fputs("</main>\n</body>\n</html>\n", out);
  if (ferror(out)) {
    snprintf(err, errlen, "cannot write the report");
    return -1;
  }
  return 0;
}
