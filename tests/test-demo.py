#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""test-demo.py: scripts/demo-run.py, the README's first command after the
build, run whole against this build, and what it shows checked.

    test-demo.py DEMO_RUN

The demo starts its own buses, the roller emulator, dermarolld, a
notification server and dermarollctl. It runs here in a session of its own
(start_new_session) with a fresh HOME and XDG folders, so the test can tell
afterwards that every process it started is gone: none is left in that
session. What it prints is checked step by step: Ann added, excluding her
chin and given the roller; the session rolled for her with the upper lip's
diagonal missing; the coverage table's again-from lines and aftercare; her
zones' rest; the session summary as the notification server received it.
"""

import datetime
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

DEMO_RUN = None
BUILD_ROOT = os.environ.get("DERMAROLL_BUILD_ROOT")
TIMEOUT_FACTOR = float(os.environ.get("DERMAROLL_TEST_TIMEOUT_FACTOR", "1"))
ROLLER = "C0:FF:EE:D3:A7:01"


def session_members(sid):
    """The pids of the processes in session @sid, from /proc."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp session ...; comm may hold spaces
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(entry))
    return pids


def kill_session(sid):
    for pid in session_members(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def steps(out):
    """The demo's output by step: heading -> text until the next heading."""
    parts = re.split(r"^== (.*)$", out, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def step(by_heading, start):
    found = [text for heading, text in by_heading.items() if heading.startswith(start)]
    if len(found) != 1:
        raise AssertionError(f"{len(found)} steps start with {start!r}: {list(by_heading)}")
    return found[0]


class Demo(unittest.TestCase):

    def test_demo(self):
        tmp = tempfile.mkdtemp(prefix="dermaroll-test-demo-")
        self.addCleanup(shutil.rmtree, tmp, True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("DBUS_") and k != "DEMO_KEEP"}
        env.update(BUILD_DIR=BUILD_ROOT, HOME=tmp, XDG_CONFIG_HOME=os.path.join(tmp, "config"),
                   XDG_STATE_HOME=os.path.join(tmp, "state"),
                   XDG_DATA_HOME=os.path.join(tmp, "data"), TZ="UTC")
        demo = subprocess.Popen(["/usr/bin/python3", DEMO_RUN], cwd=tmp, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        self.addCleanup(kill_session, demo.pid)
        try:
            out, _ = demo.communicate(timeout=240 * TIMEOUT_FACTOR)
        except subprocess.TimeoutExpired:
            kill_session(demo.pid)
            out, _ = demo.communicate()
            self.fail(f"the demo did not finish:\n{out}")
        self.assertEqual(demo.returncode, 0, out)
        self.assertEqual(session_members(demo.pid), [], f"processes the demo left:\n{out}")
        log = re.search(r"^log: (.*)/dermarolld\.log$", out, re.M)
        self.assertIsNotNone(log, out)
        self.assertFalse(os.path.exists(log.group(1)), "the demo's folder was not removed")
        by = steps(out)

        self.assertIn("Added Ann.", step(by, "dermarollctl person add Ann"))
        self.assertIn("Excluded chin for Ann", step(by, "dermarollctl exclude chin --person Ann"))
        self.assertIn(f"{ROLLER}  Demo roller", step(by, "dermarollctl scan"))
        self.assertIn(f"Demo roller ({ROLLER}) now rolls for Ann",
                      step(by, "dermarollctl person use Ann"))
        self.assertRegex(step(by, "dermarollctl people"), rf"\nAnn +no +{ROLLER} +chin\n")

        # live: the roller is Ann's from the start, her chin marked excluded
        watch = step(by, "dermarollctl watch")
        self.assertIn(f"Watching Demo roller ({ROLLER}) · connected · battery 87 % · for Ann · "
                      "no session", watch)
        session = re.search(r"session (\d+) started", watch)
        self.assertIsNotNone(session, watch)
        session = session.group(1)
        self.assertRegex(watch, r"OVER-PRESSURE +left-cheek")
        self.assertRegex(watch, r"excluded +chin +this zone is excluded")
        self.assertRegex(watch, r"Last state: .* · for Ann · no session\n")
        self.assertRegex(watch.split("Last state:")[1], r"\n    chin +\[█+\] 100 %  excluded\n")
        self.assertIn(f"[notification, normal, new] Session {session} finished", watch)

        self.assertRegex(step(by, "dermarollctl sessions --person Ann"),
                         rf"\n +{session}  .*  Ann +{ROLLER} +\d+ %\n")
        coverage = step(by, "dermarollctl coverage last --person Ann")
        self.assertIn(f"Session {session}, ", coverage)
        self.assertIn(", for Ann, ", coverage)
        self.assertRegex(coverage, r"\nupper-lip +\d+ %.*  diagonal missing\n")
        self.assertRegex(coverage, r"\nneck +0 %.*  missed\n")
        self.assertRegex(coverage, r"\nchin +100 %.*  excluded, but rolled\n")
        treated = ["forehead", "left-cheek", "right-cheek", "nose", "upper-lip", "chin"]
        self.assertEqual(re.findall(r"^([a-z-]+): again from \d+ [A-Z][a-z]{2} \d\d:\d\d$",
                                    coverage, re.M), treated)
        self.assertIn("\nAftercare (0.50 mm needles):\n", coverage)
        self.assertRegex(coverage, r"\n  - .*sunscreen")
        self.assertRegex(coverage, r"\n  - Clean and disinfect the roller")
        svg = ET.parse(os.path.join(tmp, "coverage.svg")).getroot()
        self.assertEqual(svg.tag, "{http://www.w3.org/2000/svg}svg")

        # her zones: treated ones again from 7 days (0.50 mm) after, the neck now
        zones = step(by, "dermarollctl zones --person Ann")
        self.assertIn("Zones of Ann (local time):", zones)
        rows = re.findall(r"^ +\d  ([a-z-]+) .* (yes|no) +(\S+ \S+|—) +(\S+ \S+|now)$",
                          zones, re.M)
        self.assertEqual([r[0] for r in rows], treated + ["neck"], zones)
        for name, excluded, last, again in rows:
            self.assertEqual(excluded, "yes" if name == "chin" else "no", name)
            if name == "neck":
                self.assertEqual((last, again), ("—", "now"))
                continue
            last = datetime.datetime.strptime(last, "%Y-%m-%d %H:%M")
            again = datetime.datetime.strptime(again, "%Y-%m-%d %H:%M")
            self.assertEqual(again - last, datetime.timedelta(days=7), name)

        events = step(by, "dermarollctl events last --person Ann")
        self.assertIn(f"Session {session} for Ann", events)
        self.assertIn("person=Ann", events)

        # the summary as Notify carried it
        summary = step(by, "the session summary")
        self.assertIn(f"\nsummary: Session {session} finished\n", summary)
        body = summary.split("\nbody:\n")[1]
        self.assertTrue(body.startswith("  For Ann.\n  Coverage: "), body)
        self.assertRegex(body, r"upper-lip \d+ % \(diagonal missing\)")
        self.assertIn("  Missed: neck\n", body)
        self.assertIn("  Aftercare:\n", body)
        self.assertRegex(body, r"\n  - .*sunscreen")
        self.assertIn("  Next session:\n", body)
        self.assertEqual(re.findall(r"^  ([a-z-]+): again from \d+ [A-Z][a-z]{2}$", body, re.M),
                         treated)


if __name__ == "__main__":
    DEMO_RUN = os.path.abspath(sys.argv.pop(1))
    unittest.main()
