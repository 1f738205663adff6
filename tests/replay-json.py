#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# replay-json.py: runs dermaroll-replay on tests/data/session.trace as the demo
# does and checks its output: the --json totals against session.expected (the
# generator's ground truth), the human report's shape, and that every error
# exits 1 with one line naming what is wrong.
#
# Usage: replay-json.py DERMAROLL-REPLAY DATA-DIR     (plain python3, stdlib only)
# DATA-DIR may also hold the version 2 trace (gen-trace.py --protocol-version 2).

import configparser
import json
import os
import subprocess
import sys
import tempfile

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("not ok: %s" % what)


def run(*args):
    p = subprocess.run([replay, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


replay, data = sys.argv[1], sys.argv[2]
trace = os.path.join(data, "session.trace")
exp = configparser.ConfigParser()
exp.read(os.path.join(data, "session.expected"))

# --json, chin excluded
rc, out, err = run("--json", "--exclude", "chin", trace)
check(rc == 0, "--json exits 0 (got %d: %s)" % (rc, err.strip()))
doc = json.loads(out)
t = exp["trace"]
for key, name in [
    ("records", "records"),
    ("frames", "frames"),
    ("samples", "samples"),
    ("malformed", "malformed"),
    ("seq_gaps", "seq-gaps"),
    ("frames_lost", "frames-lost"),
    ("sensor_faults", "sensor-faults"),
]:
    check(doc[key] == int(t[name]), "%s: %s, expected %s" % (key, doc[key], t[name]))
check(doc["malformed_reasons"] == {t["malformed-reason"]: 1}, "malformed reasons")
check(doc["counter_resets"] == 0, "no counter reset across the 2^32 wrap")

zones = {z["name"]: z for z in doc["zones"]}
# the trace's head: drum 15.00 mm x 20.00 mm; the default face zones (cm²)
PER_REV_CM2 = 3.141592653589793 * 1.5 * 2.0
AREA_CM2 = {"forehead": 60.0, "left-cheek": 40.0, "right-cheek": 40.0, "nose": 12.0,
            "upper-lip": 8.0, "chin": 18.0, "neck": 110.0}
for z in doc["zones"]:
    check(set(z["passes_by_direction"]) == {"horizontal", "vertical", "diagonal", "unknown"},
          "%s: passes_by_direction" % z["name"])
    check(abs(sum(z["passes_by_direction"].values()) - z["passes"]) < 1e-9 or z["name"] == "unassigned",
          "%s: passes_by_direction adds up to passes" % z["name"])
for section in exp.sections():
    if not section.startswith("zone "):
        continue
    name = section[5:]
    rev = int(exp[section]["ticks"]) / 64
    check(abs(zones[name]["revolutions"] - rev) < 1e-9, "%s: %s rev, expected %s" % (name, zones[name]["revolutions"], rev))
    peak = int(exp[section]["peak-mn"]) / 1000
    check(abs(zones[name]["peak_n"] - peak) < 1e-9, "%s: peak %s N, expected %s" % (name, zones[name]["peak_n"], peak))
    # version 2 traces (gen-trace.py --protocol-version 2): passes by direction
    if "ticks-horizontal" in exp[section] and name in AREA_CM2:
        for d in ("horizontal", "vertical", "diagonal", "unknown"):
            want = int(exp[section]["ticks-" + d]) / 64 * PER_REV_CM2 / AREA_CM2[name]
            got = zones[name]["passes_by_direction"][d]
            check(abs(got - want) < 1e-9, "%s: %s passes %s, expected %s" % (name, d, got, want))
        byd = zones[name]["passes_by_direction"]
        want = min(1, (sum(min(byd[d], 2) for d in ("horizontal", "vertical", "diagonal")) + byd["unknown"]) / 6)
        check(abs(zones[name]["coverage"] - want) < 1e-9, "%s: coverage %s by direction, expected %s" % (name, zones[name]["coverage"], want))
check(zones["neck"]["revolutions"] == 0, "neck not rolled")
check(zones["chin"]["excluded"] and not zones["nose"]["excluded"], "chin alone is excluded")

counts = doc["event_counts"]
chin_stretches = int(exp["zone chin"]["stretches"])
for kind, n in [
    ("session-started", 1),
    ("session-ended", 1),
    ("pressure-started", 1),
    ("pressure-ended", 1),
    ("excluded", chin_stretches),
    ("over-treated", 1),
    ("seq-gap", 2),
    ("too-soon", 0),
    ("head-worn", 0),
    ("counter-reset", 0),
]:
    check(counts[kind] == n, "%s events: %d, expected %d" % (kind, counts[kind], n))
check(len(doc["events"]) == sum(counts.values()), "every event listed")
ev = {e["kind"]: e for e in doc["events"]}
p = exp["pressure"]
check(ev["pressure-started"]["time_ms"] == int(p["start-ms"]), "pressure start time")
check(ev["pressure-ended"]["time_ms"] == int(p["end-ms"]), "pressure end time")
check(ev["pressure-started"]["zone"] == p["zone"], "pressure zone")
check(ev["over-treated"]["zone"] == exp["over-treated"]["zones"], "over-treated zone")
s = exp["session"]
check(doc["session"] == {"start_ms": int(s["start-ms"]), "end_ms": int(s["end-ms"])}, "session times")

# The human report: events as they happen, then the table and the counts.
rc, out, err = run("--exclude", "chin", trace)
check(rc == 0 and err == "", "report exits 0, quietly (got %d: %s)" % (rc, err.strip()))
for needle in [
    "pressure-started  left-cheek",
    "excluded          chin",
    "length-mismatch, skipped",
    "zone         source  revolutions  rolled cm²  passes  coverage  punctures/cm²  peak N",
    "forehead     sensor        40.00       377.0    6.28     100 %          128.0",
    "lost frames    2 (in 2 seq gaps)",
    "sensor faults  1",
]:
    check(needle in out, "report shows %r" % needle)

# Errors: exit 1, one line, naming the culprit.
with tempfile.TemporaryDirectory() as tmp:
    bad_conf = os.path.join(tmp, "bad.conf")
    with open(bad_conf, "w") as f:
        f.write("[zone nose]\narea-cm2=lots\n")
    not_trace = os.path.join(tmp, "not.trace")
    with open(not_trace, "wb") as f:
        f.write(b"hello")
    for args, needles in [
        ([os.path.join(tmp, "missing.trace")], ["missing.trace"]),
        ([not_trace], ["not.trace", "DRTRACE1"]),
        (["--config", bad_conf, trace], [bad_conf, "[zone nose]", "area-cm2"]),
        (["--config", os.path.join(tmp, "none.conf"), trace], ["none.conf"]),
        (["--exclude", "elbow", trace], ["elbow", "forehead"]),
        (["--frobnicate", trace], ["--frobnicate"]),
        ([], ["TRACE"]),
    ]:
        rc, out, err = run(*args)
        lines = err.splitlines()
        check(rc == 1, "%s: exit %d, expected 1" % (args, rc))
        check(len(lines) == 1 and all(n in lines[0] for n in needles), "%s: one line naming %s, got %r" % (args, needles, err))

if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("replay-json: all checks passed")
