#!/usr/bin/python3
"""generate.py -- writes the sample data of config/sample/ (deterministic).

A French provider's Excel-style exports: tickets.csv (incidents and requests,
August to November 2026) and outages.csv (outages, degradations, planned
maintenance). Same seed, same bytes: the output files are committed, and this
script is how they were made. Must not depend on anything but the Python
standard library; must not read the clock.

    /usr/bin/python3 config/sample/generate.py [--rows N] [--out-dir DIR]

--rows N writes N tickets (and no deliberately bad rows) for benchmarks; the
default writes the ~400-ticket sample with a few bad rows.
"""
import argparse
import csv
import datetime as dt
import os
import random

SEED = 20261201
FIRST_DAY = dt.date(2026, 8, 1)
LAST_DAY = dt.date(2026, 11, 30)
EXPORTED_AT = dt.datetime(2026, 12, 1, 8, 0)
DATE_FORMAT = "%d/%m/%Y %H:%M"

# office-paris in bridge.cfg: the provider's service hours, local time.
OPEN_HOURS = {  # weekday (Mon=0) -> [(start_min, end_min)]
    0: [(8 * 60, 12 * 60 + 30), (13 * 60 + 30, 18 * 60)],
    1: [(8 * 60, 12 * 60 + 30), (13 * 60 + 30, 18 * 60)],
    2: [(8 * 60, 12 * 60 + 30), (13 * 60 + 30, 18 * 60)],
    3: [(8 * 60, 12 * 60 + 30), (13 * 60 + 30, 18 * 60)],
    4: [(8 * 60, 12 * 60 + 30), (13 * 60 + 30, 17 * 60)],
}
HOLIDAYS = {dt.date(2026, 8, 15), dt.date(2026, 11, 1), dt.date(2026, 11, 11),
            dt.date(2026, 12, 25)}

HEADER = ["N° ticket", "Objet", "Type", "Priorité", "Statut", "Service",
          "Groupe", "Ouvert le", "Pris en charge le", "Résolu le", "Clos le",
          "En attente le", "Reprise le", "Mis à jour le"]

# Raw priority -> (share, first-response target min, resolution target min),
# targets in open minutes as in bridge.cfg (incident SLA).
PRIORITIES = [("Critique", 0.05, 30, 240), ("Haute", 0.15, 60, 480),
              ("Moyenne", 0.50, 240, 1440), ("Basse", 0.30, 480, 2700)]
SERVICES = [("ERP", 0.25), ("Messagerie", 0.20), ("VPN", 0.15),
            ("Poste de travail", 0.25), ("Téléphonie", 0.08), ("Réseau", 0.07)]
GROUPS = {"ERP": "Applicatif ERP", "Messagerie": "N2 Systèmes",
          "VPN": "N2 Réseau", "Réseau": "N2 Réseau",
          "Poste de travail": "N1 Support", "Téléphonie": "N1 Support"}
INCIDENT_TITLES = {
    "ERP": ["Lenteurs sur le module comptabilité", "Erreur à la validation "
            "des commandes", "Impossible d'éditer les factures",
            "Export; \"Grand livre\" en échec", "Batch de nuit en erreur"],
    "Messagerie": ["Courriels bloqués en file d'attente", "Boîte aux lettres "
                   "pleine", "Outlook ne se connecte plus",
                   "Pièces jointes refusées"],
    "VPN": ["Connexion VPN impossible depuis le domicile",
            "Déconnexions VPN fréquentes", "Certificat VPN expiré"],
    "Poste de travail": ["Écran noir au démarrage", "Imprimante du 3e "
                         "étage HS", "Poste très lent", "Clavier défectueux"],
    "Téléphonie": ["Pas de tonalité sur le poste 4512",
                   "Messagerie vocale inaccessible"],
    "Réseau": ["Wi-Fi instable salle \"Lumière\"", "Perte de connectivité "
               "site de Lyon"],
}
REQUEST_TITLES = [  # (title, service)
    ("Création de compte pour un nouvel arrivant", "Poste de travail"),
    ("Demande d'accès au dossier partagé Finance", "Poste de travail"),
    ("Installation du logiciel \"Acrobat Pro\"", "Poste de travail"),
    ("Nouveau téléphone portable", "Téléphonie"),
    ("Ajout à la liste de diffusion; service RH", "Messagerie"),
    ("Réinitialisation du mot de passe", "Poste de travail"),
    ("Accès VPN pour un prestataire", "VPN"),
    ("Création d'un profil acheteur dans l'ERP", "ERP")]
MULTILINE_DETAIL = "\nMessage affiché : « Accès refusé (code 0x80070005) »"


def is_open_day(day):
    return day.weekday() in OPEN_HOURS and day not in HOLIDAYS


def next_open(t):
    """The first open instant at or after local time t."""
    while True:
        if is_open_day(t.date()):
            minute = t.hour * 60 + t.minute
            for start, end in OPEN_HOURS[t.weekday()]:
                if minute < end:
                    if minute < start:
                        t = t.replace(hour=start // 60, minute=start % 60)
                    return t
        t = dt.datetime.combine(t.date() + dt.timedelta(days=1), dt.time(0))


def add_open_minutes(t, minutes):
    """t plus `minutes` of open time (t moved to the next open instant)."""
    t = next_open(t)
    while True:
        minute = t.hour * 60 + t.minute
        end = next(e for s, e in OPEN_HOURS[t.weekday()] if s <= minute < e)
        room = end - minute
        if minutes <= room:
            return t + dt.timedelta(minutes=minutes)
        minutes -= room
        t = next_open(t + dt.timedelta(minutes=room))


def pick(rng, weighted):
    x, acc = rng.random(), 0.0
    for item in weighted:
        acc += item[1]
        if x < acc:
            return item
    return weighted[-1]


def created_at(rng, day_span):
    """Mostly office hours; about one ticket in eight outside them."""
    while True:
        day = FIRST_DAY + dt.timedelta(days=rng.randrange(day_span))
        if rng.random() < 0.12:  # evening, night or weekend
            return dt.datetime.combine(day, dt.time(rng.choice(
                [6, 7, 19, 20, 21, 22, 23]), rng.randrange(60)))
        if is_open_day(day):
            minute = rng.randrange(8 * 60, 18 * 60)
            return dt.datetime.combine(day, dt.time(minute // 60, minute % 60))


def fmt(t):
    return t.strftime(DATE_FORMAT) if t else ""


def make_ticket(rng, n, day_span):
    kind = "Incident" if rng.random() < 0.6 else "Demande"
    prio, _, fr_target, res_target = pick(rng, PRIORITIES)
    if kind == "Demande" and prio == "Critique":
        prio, fr_target, res_target = "Moyenne", 240, 1440
    if kind == "Incident":
        service = pick(rng, SERVICES)[0]
        title = rng.choice(INCIDENT_TITLES[service])
        if rng.random() < 0.04:
            title += MULTILINE_DETAIL
    else:
        title, service = rng.choice(REQUEST_TITLES)
    created = created_at(rng, day_span)
    prefix = "INC" if kind == "Incident" else "DEM"
    row = {"id": f"{prefix}{n:06d}", "title": title, "kind": kind,
           "prio": prio, "service": service, "group": GROUPS[service],
           "created": created, "fr": None, "resolved": None, "closed": None,
           "pause": None, "resume": None, "status": "Nouveau"}

    # First response: most within target, about one in ten late.
    late = rng.random() < 0.10
    fr_minutes = (rng.randint(fr_target + 5, fr_target * 3) if late
                  else rng.randint(max(1, fr_target // 10), fr_target))
    fr = add_open_minutes(created, fr_minutes)
    if fr > EXPORTED_AT:
        return row  # still new at export time
    row["fr"], row["status"] = fr, "En cours"

    # Resolution, sometimes after a wait for the user (a pause).
    late = rng.random() < 0.12
    res_minutes = (rng.randint(res_target + 30, res_target * 3) if late
                   else rng.randint(res_target // 8, res_target))
    resolved = add_open_minutes(fr, res_minutes)
    if rng.random() < 0.15:
        pause = add_open_minutes(fr, rng.randint(10, 120))
        resume = pause + dt.timedelta(hours=rng.randint(2, 60))
        if resume > EXPORTED_AT:
            row["pause"], row["status"] = pause, "En attente"
            return row
        row["pause"], row["resume"] = pause, resume
        resolved = add_open_minutes(resume, res_minutes // 2)
    if resolved > EXPORTED_AT:
        return row
    roll = rng.random()
    if roll < 0.02:  # cancelled: a duplicate, closed without resolution
        row["status"], row["closed"] = "Annulé", resolved
        return row
    if roll < 0.04:  # reopened: the user said it was not fixed
        row["title"] += " (réouvert)"
        return row
    row["resolved"], row["status"] = resolved, "Résolu"
    closed = resolved + dt.timedelta(days=rng.randint(2, 7))
    if closed <= EXPORTED_AT:
        row["closed"], row["status"] = closed, "Clos"
    return row


def updated_of(row):
    times = [row[k] for k in ("created", "fr", "resolved", "closed", "pause",
                              "resume") if row[k]]
    return max(times) + dt.timedelta(minutes=1)


def to_csv_row(row):
    return [row["id"], row["title"], row["kind"], row["prio"], row["status"],
            row["service"], row["group"], fmt(row["created"]), fmt(row["fr"]),
            fmt(row["resolved"]), fmt(row["closed"]), fmt(row["pause"]),
            fmt(row["resume"]), fmt(updated_of(row))]


def spoil(rng, rows):
    """A few rows as they really come: each must be rejected with its line."""
    bad = []
    r = list(rows[40])
    r[7] = "31/09/2026 10:12"  # there is no 31 September
    bad.append((40, r))
    r = list(rows[120])
    r[3] = "Urgente"  # not in the priorities mapping
    bad.append((120, r))
    r = list(rows[200])
    del r[11:13]  # someone deleted two cells in Excel
    bad.append((200, r))
    r = list(rows[330])
    r[7] = ""  # no creation date
    bad.append((330, r))
    for i, r in bad:
        rows[i] = r


def write_tickets(path, count, with_bad_rows):
    rng = random.Random(SEED)
    day_span = (LAST_DAY - FIRST_DAY).days + 1
    # Excel's "CSV UTF-8": BOM, ';', CRLF, quotes only where needed.
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\r\n")
        w.writerow(HEADER)
        if not with_bad_rows:  # benchmark sizes: streamed, in id order
            for n in range(1, count + 1):
                w.writerow(to_csv_row(make_ticket(rng, n, day_span)))
            return
        rows = [make_ticket(rng, 0, day_span) for _ in range(count)]
        rows.sort(key=lambda r: r["created"])
        out = []
        for n, row in enumerate(rows, 1):
            row["id"] = row["id"][:3] + f"{n:06d}"
            out.append(to_csv_row(row))
        spoil(rng, out)
        w.writerows(out)


OUTAGES = [  # (service, local start, minutes, raw kind)
    ("ERP", dt.datetime(2026, 8, 6, 14, 10), 35, "Panne"),
    ("Messagerie", dt.datetime(2026, 8, 12, 9, 0), 80, "Dégradation"),
    ("VPN", dt.datetime(2026, 8, 22, 22, 0), 240, "Maintenance"),
    ("ERP", dt.datetime(2026, 8, 27, 7, 45), 50, "Panne"),
    ("VPN", dt.datetime(2026, 9, 3, 8, 20), 95, "Panne"),
    ("ERP", dt.datetime(2026, 9, 12, 20, 0), 300, "Maintenance"),
    ("Messagerie", dt.datetime(2026, 9, 15, 10, 30), 45, "Panne"),
    ("ERP", dt.datetime(2026, 9, 24, 16, 0), 120, "Dégradation"),
    ("VPN", dt.datetime(2026, 10, 1, 7, 50), 70, "Dégradation"),
    # October: the ERP misses 99.5 % (more than 3 h 43 min down).
    ("ERP", dt.datetime(2026, 10, 7, 9, 15), 130, "Panne"),
    ("ERP", dt.datetime(2026, 10, 7, 10, 30), 40, "Panne"),  # overlaps
    ("ERP", dt.datetime(2026, 10, 19, 13, 40), 105, "Panne"),
    ("Messagerie", dt.datetime(2026, 10, 21, 6, 0), 30, "Panne"),
    ("ERP", dt.datetime(2026, 10, 24, 21, 0), 360, "Maintenance"),
    ("VPN", dt.datetime(2026, 11, 4, 17, 30), 25, "Panne"),
    ("Messagerie", dt.datetime(2026, 11, 9, 11, 0), 210, "Dégradation"),
    ("ERP", dt.datetime(2026, 11, 14, 22, 0), 240, "Maintenance"),
    ("ERP", dt.datetime(2026, 11, 18, 15, 5), 55, "Panne"),
    ("VPN", dt.datetime(2026, 11, 26, 8, 40), 160, "Panne"),
]


def write_outages(path):
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\r\n")
        w.writerow(["Réf", "Service", "Début", "Fin", "Nature"])
        for n, (service, start, minutes, kind) in enumerate(OUTAGES, 1):
            end = start + dt.timedelta(minutes=minutes)
            w.writerow([f"OUT-{n:04d}", service, fmt(start), fmt(end), kind])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=0,
                    help="write N tickets without bad rows (benchmarks)")
    ap.add_argument("--out-dir", default=here)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    tickets = os.path.join(args.out_dir, "tickets.csv")
    if args.rows > 0:
        write_tickets(tickets, args.rows, with_bad_rows=False)
    else:
        write_tickets(tickets, 400, with_bad_rows=True)
        write_outages(os.path.join(args.out_dir, "outages.csv"))


if __name__ == "__main__":
    main()
