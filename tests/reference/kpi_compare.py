#!/usr/bin/python3
"""kpi_compare.py -- compares two itsm-bridge.kpi/1 documents (the C engine's
and the reference's) figure by figure: same keys in the same order, counts
and flags exact, durations within 1 s, percentages and money within their
rounding. Prints one line per difference; exit 1 when any."""
import json
import sys

DURATION_TOL = 1.0
PCT_TOL = 0.0015
MONEY_TOL = 0.011


def tolerance(key):
    if key.endswith("_s"):
        return DURATION_TOL
    if key.endswith("_pct"):
        return PCT_TOL
    if key in ("credit", "monthly_fee"):
        return MONEY_TOL
    return 0.0


def compare(got, want, path, key, out):
    if isinstance(want, dict):
        if not isinstance(got, dict) or list(got) != list(want):
            out.append("%s: keys %s, reference has %s" % (
                path, list(got) if isinstance(got, dict) else got, list(want)))
            return
        for k in want:
            compare(got[k], want[k], "%s.%s" % (path, k), k, out)
    elif isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            out.append("%s: %r items, reference has %d" % (path, got, len(want)))
            return
        for i, (g, w) in enumerate(zip(got, want)):
            compare(g, w, "%s[%d]" % (path, i), key, out)
    elif isinstance(want, bool) or want is None or isinstance(want, str):
        if got != want:
            out.append("%s: %r, reference %r" % (path, got, want))
    else:
        if isinstance(got, bool) or not isinstance(got, (int, float)) or \
                abs(got - want) > tolerance(key):
            out.append("%s: %r, reference %r" % (path, got, want))


def main():
    with open(sys.argv[1]) as f:
        got = json.load(f)
    with open(sys.argv[2]) as f:
        want = json.load(f)
    out = []
    compare(got, want, "$", "", out)
    for line in out:
        print(line)
    print("%d difference(s)" % len(out))
    sys.exit(1 if out else 0)


if __name__ == "__main__":
    main()
