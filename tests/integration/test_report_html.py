#!/usr/bin/python3
"""test_report_html.py -- `report --month YYYY-MM --out FILE.html --lang fr|en`.

The report is rendered by headless Chromium (Debian's chromium; the test
FAILS when it is missing) to a PNG, and the key figures are looked for in
the DOM Chromium dumps: the hand-computed month of test_export_formats in
both languages, then the same month after the provider edited it (its late
changes: counted per category, listed, at most 50 rows), then the sample
data against `kpi --format json`. Also: no external asset, data strings
HTML-escaped, a print stylesheet, and the "right now" block (error budget
used, burn rate, open tickets already late) present for the month still
running and absent once it is over.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_export_formats import (SMALL_AS_OF, make_sample_store,  # noqa: E402
                                 make_small_late_changes, make_small_store, run)

NBSP, NNBSP = "\u00a0", "\u202f"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def chromium():
    for name in ("chromium", "chromium-browser"):
        exe = shutil.which(name)
        if exe:
            return exe
    raise AssertionError("chromium not found: install Debian's chromium package "
                         "(scripts/setup.sh)")


def render(html, png):
    """Screenshot to png and return the DOM Chromium built."""
    exe = chromium()
    common = ["--headless", "--no-sandbox", "--disable-gpu",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run", "--window-size=1100,3600"]
    url = "file://" + os.path.abspath(html)
    with tempfile.TemporaryDirectory() as profile:
        p = subprocess.run([exe, *common, f"--user-data-dir={profile}",
                            f"--screenshot={png}", url],
                           capture_output=True, text=True, timeout=180)
        assert p.returncode == 0, f"chromium --screenshot: {p.stderr[-2000:]}"
    with tempfile.TemporaryDirectory() as profile:
        p = subprocess.run([exe, *common, f"--user-data-dir={profile}", "--dump-dom", url],
                           capture_output=True, text=True, timeout=180)
        assert p.returncode == 0, f"chromium --dump-dom: {p.stderr[-2000:]}"
    with open(png, "rb") as f:
        data = f.read()
    assert data[:8] == PNG_MAGIC, "the screenshot is not a PNG"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1100, 3600), (width, height)
    assert len(data) > 50_000, f"the screenshot looks blank ({len(data)} bytes)"
    assert "<svg" in p.stdout, "no chart in the rendered DOM"
    return p.stdout


def text_of(dom):
    """The DOM's visible text with entities decoded, tags dropped."""
    import html as htmlmod
    body = re.sub(r"<style.*?</style>", "", dom, flags=re.S)
    return htmlmod.unescape(re.sub(r"<[^>]+>", " ", body))


def check_at_risk(tmp, cfg):
    """The right-now block lists the tickets a ticket_at_risk rule names:
    T4 (P2, created 08:00, unanswered) is 2 h into its 8 h resolution
    target at 10:00, so a rule looking 8 h ahead lists its resolution (due
    16:00) and one looking 1 h ahead lists nothing."""
    base = open(cfg, encoding="utf-8").read()
    for within, listed in (("8h", True), ("1h", False)):
        risky = os.path.join(tmp, f"risk-{within}.cfg")
        with open(risky, "w", encoding="utf-8") as f:
            f.write(base + f"""
alerts = {{ rules = ( {{ name = "soon"; type = "ticket_at_risk"; sla = "desk";
                        within = "{within}"; }} ); }};
""")
        out = os.path.join(tmp, f"risk-{within}.html")
        run(risky, "report", "--month", "2026-10", "--out", out, "--lang", "en",
            "--as-of", SMALL_AS_OF)
        src = open(out, encoding="utf-8").read()
        block = src[src.index('id="right-now"'):src.index('id="headlines"')]
        if listed:
            items = re.findall(r"<li>(.*?)</li>", block[block.index('class="now-risk"'):])
            assert any("T4" in i and "resolution" in i and "16:00" in i for i in items), items
        else:
            assert 'class="now-risk-none"' in block and "<li>" not in block, block


def check_self_contained(path):
    src = open(path, encoding="utf-8").read()
    for bad in ("<link", "<script", " src=", "href=", "url(", "@import", "http:", "https:"):
        assert bad not in src, f"{path}: external reference or script: {bad!r}"
    assert "@media print" in src and "@page" in src, "no print stylesheet"
    return src


def check_small(tmp):
    cfg = make_small_store(tmp)
    # The provider's tool said T1's resolution (3 h against 4 h, 24x7, no
    # pause) was breached: a disagreement no reading explains.
    con = sqlite3.connect(os.path.join(tmp, "bridge.db"))
    with con:
        con.execute("UPDATE tickets SET reported_resolution_breached = 1 WHERE id = 'T1'")
    con.close()
    for lang in ("en", "fr"):
        out = os.path.join(tmp, f"report-{lang}.html")
        run(cfg, "report", "--month", "2026-10", "--out", out, "--lang", lang,
            "--as-of", SMALL_AS_OF)
        src = check_self_contained(out)
        # the title of T2 (breached) carries markup: it must arrive as text
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in src
        assert "<script>alert" not in src
        dom = render(out, os.path.join(tmp, f"report-{lang}.png"))
        text = text_of(dom)
        assert '<script>alert("x")</script>' in text  # shown, not run
        dec = "," if lang == "fr" else "."
        pct = NBSP + "%" if lang == "fr" else "%"
        group = NNBSP if lang == "fr" else ","
        # hand-computed (test_export_formats): 2 of 4 first responses met,
        # 2 of 3 resolutions, ERP at 100 * (1 - 14400/1677600) over October
        # so far (as of 20 Oct 10:00)
        for figure in (f"50{dec}0{pct}", f"66{dec}7{pct}", f"99{dec}142{pct}",
                       f"99{dec}500{pct}", f"225{dec}75{NBSP}EUR",
                       f"200{dec}00{NBSP}EUR", f"25{dec}75{NBSP}EUR",
                       f"3{group}000{dec}00{NBSP}EUR"):
            assert figure in text, f"{lang}: {figure!r} not in the rendered report"
        # the breached tickets: T2 twice (response, resolution), T4 once
        table = dom[dom.index('id="breaches"'):dom.index('id="disagreements"')]
        assert table.count("<tr>") == 1 + 3, table
        # the disagreement with the provider: T1's resolution, in words
        dis = dom[dom.index('id="disagreements"'):dom.index('id="late-changes"')]
        assert dis.count("<tr>") == 1 + 1, dis
        row = text_of(dis[dis.index("<tbody>"):])
        words = ("Résolution", "respecté", "dépassé", "inexpliqué") if lang == "fr" \
            else ("Resolution", "met", "breached", "unexplained")
        assert "T1" in row and all(w in row for w in words), row
        assert ('Désaccords avec le prestataire' if lang == "fr"
                else "Disagreements with the provider") in text
        assert "T2" in table and "T4" in table and ">T1<" not in table
        # the SLA definitions as configured
        defs = text_of(dom[dom.index('id="definitions"'):])
        assert "30m" in defs and "4h" in defs and "8h" in defs and "24x7" in defs
        # freshness: both sources synced
        fresh = text_of(dom[dom.index('id="freshness"'):dom.index('id="definitions"')])
        assert "desk-outages" in fresh and "csv" in fresh
        # one month of data: no trend line
        trend = dom[dom.index('id="trend"'):]
        assert "<svg" not in trend[:trend.index("</figure>")]
        check_right_now(dom, lang, dec, pct)
        labels = ("Première réponse", "Disponibilité", "Tickets hors délai") if lang == "fr" \
            else ("First response", "Availability", "Breached tickets")
        for label in labels:
            assert label in text, f"{lang}: label {label!r} missing"
        # nothing changed since the sync: the late-changes section says so
        late = dom[dom.index('id="late-changes"'):dom.index('id="freshness"')]
        assert 'id="late-none"' in late and "<table" not in late, late
    check_at_risk(tmp, cfg)
    # the same month once it is over: no "right now" block
    past = os.path.join(tmp, "past.html")
    run(cfg, "report", "--month", "2026-10", "--out", past, "--lang", "en",
        "--as-of", "2026-11-05T00:00:00Z")
    assert 'id="right-now"' not in open(past, encoding="utf-8").read()
    check_small_late(tmp, cfg)
    p = run(cfg, "report", "--month", "2026-13", "--out", os.path.join(tmp, "x.html"),
            check=False)
    assert p.returncode == 2 and "--month" in p.stderr, p.stderr
    p = run(cfg, "report", "--month", "2026-10", "--out", os.path.join(tmp, "x.html"),
            "--lang", "de", check=False)
    assert p.returncode == 2 and "--lang" in p.stderr, p.stderr


def check_right_now(dom, lang, dec, pct):
    """October as of the 20th, 10:00, is still running: the block comes
    first. ERP: 14400 s down against a budget of 0.005 * 31 days = 13392 s,
    so 107.5 % used; (14400 / 1677600 s elapsed) / 0.005 = 1.72 burn rate.
    desk: T4 (P2, created 08:00, unanswered) is 2 h into a 1 h first
    response target; its resolution (8 h) is not late yet."""
    assert 'id="right-now"' in dom, f"{lang}: no right-now block"
    block = dom[dom.index('id="right-now"'):dom.index('id="headlines"')]
    assert dom.index('id="right-now"') < dom.index('id="charts"')
    row = block[block.index('data-service="ERP"'):]
    row = text_of(row[:row.index("</tr>")])
    assert f"107{dec}5{pct}" in row and f"1{dec}72" in row, row
    late = block[block.index('class="now-late"'):]
    late = late[:late.index("</table>")]
    assert late.count("<tr>") == 1 + 1, late
    words = text_of(late[late.index("<tbody>"):])
    assert "T4" in words and ("Première réponse" if lang == "fr" else "First response") \
        in words, words
    assert "2h 00m" in words and "1h 00m" in words, words
    assert ("En ce moment" if lang == "fr" else "Right now") in text_of(block)
def check_small_late(tmp, cfg):
    """The provider edits October after it ended (test_export_formats'
    SMALL_LATE: T1 P1 -> P2, T2's resolution back-dated, T3 deleted, O1's
    end moved); the report of October lists those late changes."""
    make_small_late_changes(tmp, cfg)
    # T1's reported verdict (planted above) is not in the CSV: its removal
    # is recorded with the priority change, as "other".
    want = {"priority_changed": 1, "resolution_moved": 1, "deleted": 1,
            "outage_changed": 1, "other": 1}
    for lang in ("en", "fr"):
        out = os.path.join(tmp, f"late-{lang}.html")
        run(cfg, "report", "--month", "2026-10", "--out", out, "--lang", lang,
            "--as-of", SMALL_AS_OF)
        check_self_contained(out)
        dom = render(out, os.path.join(tmp, f"late-{lang}.png"))
        late = dom[dom.index('id="late-changes"'):dom.index('id="freshness"')]
        assert 'id="late-none"' not in late, late
        assert ("Modifications tardives" if lang == "fr" else "Late changes") in text_of(late)
        counts = late[late.index('class="late-counts"'):late.index('class="late-list"')]
        got = {m.group(1): int(m.group(2)) for m in re.finditer(
            r'<tr data-category="([a-z_]+)"><td>[^<]*</td><td class="num">(\d+)</td>', counts)}
        assert got == want, (lang, got)
        rows = late[late.index('class="late-list"'):]
        rows = re.findall(r'<tr data-category="([a-z_]+)">(.*?)</tr>', rows, flags=re.S)
        assert sorted(c for c, _ in rows) == sorted(want), rows
        cells = {c: text_of(r) for c, r in rows}
        assert "T1" in cells["priority_changed"] and "P1 → P2" in cells["priority_changed"]
        # instants in the configuration's zone (UTC here), local form
        assert "T2" in cells["resolution_moved"] and \
            "2026-10-06 15:00 → 2026-10-06 11:00" in cells["resolution_moved"], cells
        assert "T3" in cells["deleted"] and "– →" in cells["deleted"], cells
        assert "O1" in cells["outage_changed"], cells
        word = "priorité changée" if lang == "fr" else "priority changed"
        assert word in cells["priority_changed"], cells
        assert 'id="late-more"' not in late
    # Many late changes: the table stops at 50 rows and says how many more.
    con = sqlite3.connect(os.path.join(tmp, "bridge.db"))
    with con:
        for k in range(60):
            con.execute("INSERT INTO changes(source, record_id, kind, field, old_value,"
                        " new_value, run_id, detected_at) VALUES('desk', 'T1', 'ticket',"
                        " 'priority', 'P2', 'P1', 99, ?)", (1794787200 + k,))
    con.close()
    out = os.path.join(tmp, "late-many.html")
    run(cfg, "report", "--month", "2026-10", "--out", out, "--lang", "en",
        "--as-of", SMALL_AS_OF)
    dom = render(out, os.path.join(tmp, "late-many.png"))
    late = dom[dom.index('id="late-changes"'):dom.index('id="freshness"')]
    listed = late[late.index('class="late-list"'):]
    assert listed.count("<tr data-category=") == 50, listed.count("<tr data-category=")
    assert 'id="late-more"' in late and "and 15 more" in text_of(late), text_of(late)
    assert '<tr data-category="priority_changed"><td>Priority changed' not in late
    assert re.search(r'data-category="priority_changed"><td>[^<]*</td><td class="num">61<', late)


def check_sample(tmp):
    cfg = make_sample_store(tmp)
    as_of = "2026-12-01T08:00:00Z"
    out = os.path.join(tmp, "report.html")
    run(cfg, "report", "--month", "2026-11", "--out", out, "--lang", "en", "--as-of", as_of)
    check_self_contained(out)
    dom = render(out, os.path.join(tmp, "report.png"))
    assert 'id="right-now"' not in dom, "November is over as of 1 December"
    text = text_of(dom)
    doc = json.loads(run(cfg, "kpi", "--month", "2026-11", "--as-of", as_of,
                         "--format", "json").stdout)
    for s in doc["slas"]:
        tile = dom[dom.index(f'data-sla="{s["name"]}"'):]
        tile = text_of(tile[:tile.index("</div>\n")])
        for which in ("first_response", "resolution"):
            pct = s["total"][which]["compliance_pct"]
            want = "–" if pct is None else f"{pct:.1f}%"
            assert want in tile, f"{s['name']} {which}: {want} not in {tile!r}"
    for a in doc["availability"]:
        assert f"{a['availability_pct']:.3f}%" in text, a
    n_breaches = sum(s["total"][w]["breached"] for s in doc["slas"]
                     for w in ("first_response", "resolution"))
    table = dom[dom.index('id="breaches"'):dom.index('id="disagreements"')]
    assert table.count("<tr>") == (1 + n_breaches if n_breaches else 0), n_breaches
    # the CSV plugin reports no verdict: no disagreement, said so
    dis = dom[dom.index('id="disagreements"'):dom.index('id="late-changes"')]
    assert "<tr>" not in dis and "match ours" in text_of(dis), dis
    # August to November are in the store: the trend is drawn
    trend = dom[dom.index('id="trend"'):]
    trend = trend[:trend.index("</figure>")]
    assert "<svg" in trend and trend.count("<circle") >= 4 * 3, "trend not drawn"


def main():
    with tempfile.TemporaryDirectory() as tmp:
        check_small(tmp)
    with tempfile.TemporaryDirectory() as tmp:
        check_sample(tmp)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        print("0 passed, 1 failed")
        sys.exit(1)
