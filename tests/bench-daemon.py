#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench-daemon: end-to-end ingest of the real dermarolld.

roller emulator -> (AcquireNotify fd | StartNotify + PropertiesChanged)
-> dermarolld -> SQLite with durable commits -> ACK back to the roller.

For each path it prints the sustained samples/s (from the moment the roller
streams until the roller holds no unacknowledged frame: every sample is on
disk and acknowledged), the daemon's CPU seconds per million samples, and,
once the stream is over but the roller stays connected, the daemon's RSS and
how often its threads woke up in 5 s. A benchmark, not a test: it asserts
nothing about speed. Every process it starts is stopped by pid.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import dbus

ADDRESS = "C0:FF:EE:00:0B:01"


def build_root():
    return os.environ.get("DERMAROLL_BUILD_ROOT") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "build")


class Procs:
    def __init__(self):
        self.procs = []

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def start_bus(procs):
    p = procs.start(["dbus-daemon", "--session", "--nofork", "--print-address"],
                    stdout=subprocess.PIPE, text=True)
    return p.stdout.readline().strip()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def wakeups(pid):
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def wait_for(pred, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None


def run(mode, samples, keep_db):
    procs = Procs()
    tmp = tempfile.mkdtemp(prefix="dr-bench-")
    try:
        sys_addr = start_bus(procs)
        ses_addr = start_bus(procs)
        emu_args = [os.path.join(build_root(), "tests", "roller-emulator"), "--bus", sys_addr,
                    "--roller", ADDRESS + ",Bench", "--pattern", "steady", "--rate", "0",
                    "--samples", str(samples), "--paired"]
        if mode == "StartNotify":
            emu_args.append("--no-acquire-notify")
        emu = procs.start(emu_args, stdout=subprocess.PIPE, text=True)
        if not emu.stdout.readline().startswith("READY"):
            raise RuntimeError("roller emulator did not start")

        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=sys_addr, DBUS_SESSION_BUS_ADDRESS=ses_addr,
                   G_MESSAGES_DEBUG="")
        db = os.path.join(tmp, "dermaroll.db")
        daemon = procs.start([os.path.join(build_root(), "daemon", "dermarolld"), "--db", db,
                              "--no-notify"], env=env, stderr=open(os.path.join(tmp, "log"), "w"))

        ses = dbus.bus.BusConnection(ses_addr)
        sysb = dbus.bus.BusConnection(sys_addr)
        if not wait_for(lambda: ses.name_has_owner("org.dermaroll"), 10):
            raise RuntimeError("dermarolld did not claim org.dermaroll")
        emulator = dbus.Interface(sysb.get_object("org.bluez", "/org/dermaroll/Emulator"),
                                  "org.dermaroll.Emulator1")
        manager = dbus.Interface(ses.get_object("org.dermaroll", "/org/dermaroll"),
                                 "org.dermaroll.Manager1")

        cpu0 = cpu_seconds(daemon.pid)
        t0 = time.monotonic()
        manager.Pair(ADDRESS, timeout=60)

        def done():
            s = emulator.Stats()["rollers"][ADDRESS]
            return s if s["exhausted"] and s["pending"] == 0 and s["frames-sent"] > 0 else None

        stats = wait_for(done, 600, 0.02)
        t1 = time.monotonic()
        cpu1 = cpu_seconds(daemon.pid)
        if stats is None:
            raise RuntimeError("the roller still holds unacknowledged frames after 600 s")
        produced = int(stats["samples-produced"])

        # Idle but connected: nothing should wake the daemon.
        time.sleep(0.5)
        w0 = wakeups(daemon.pid)
        time.sleep(5)
        w1 = wakeups(daemon.pid)
        rss = rss_kib(daemon.pid)
        anon = rss_kib(daemon.pid, "RssAnon")

        secs = t1 - t0
        print(f"{mode:12s} {produced:>9d} samples in {secs:6.2f} s: {produced / secs / 1e6:6.3f} M samples/s "
              f"sustained (acked on disk), daemon CPU {(cpu1 - cpu0) / produced * 1e6:5.2f} s per M samples, "
              f"idle: {w1 - w0} wake-ups in 5 s, RSS {rss / 1024:.1f} MiB ({anon / 1024:.1f} MiB private)")
        sysb.close()
        ses.close()
    finally:
        procs.stop_all()
        if not keep_db:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept", tmp)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=2_000_000, help="samples over AcquireNotify")
    ap.add_argument("--notify-samples", type=int, default=250_000, help="samples over StartNotify")
    ap.add_argument("--keep", action="store_true", help="keep the database and log")
    args = ap.parse_args()
    run("AcquireNotify", args.samples, args.keep)
    run("StartNotify", args.notify_samples, args.keep)


if __name__ == "__main__":
    main()
