#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""demo-run: the whole of dermaroll, headless, on private buses.

Started by scripts/demo after the build. It plays bluetoothd with the
project's roller emulator (the bundled recorded session: several zones,
one over-pressure episode), its roller speaking protocol version 2 (the
stroke direction in every sample; the upper lip is never rolled
diagonally, and the coverage table says so), runs the real dermarolld against it, a
notification server that prints every desktop notification, and
`dermarollctl watch`; the person excludes the chin first, and the
recording rolls over it. Then it prints the coverage table and the events
and writes coverage.svg. Every process it starts is stopped by pid.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(TOP, os.environ.get("BUILD_DIR", "build"))
ROLLER = "C0:FF:EE:D3:A7:01"
SPEED = 10  # the recording plays ten times faster than it was rolled

procs = []


def start(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    procs.append(p)
    return p


def stop_all():
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def bus():
    p = start(["dbus-daemon", "--session", "--nofork", "--print-address"],
              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return p.stdout.readline().strip()


def say(text):
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


def ctl(env, *args, check=True):
    r = subprocess.run([os.path.join(BUILD, "client", "dermarollctl"), *args], env=env,
                       text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = r.stdout.rstrip()
    if out:
        print(out, flush=True)
    if check and r.returncode != 0:
        raise SystemExit(f"demo: dermarollctl {' '.join(args)} failed ({r.returncode})")
    return r


def print_notifications(stream):
    # dbusmock logs each call as
    #   <time> Notify "app" <replaces_id> "icon" "summary" "body" [actions] {hints} -1
    # where the body may span lines.
    call = ""
    for line in stream:
        if " Notify " in line:
            call = line
        elif call:
            call += line
        else:
            continue
        if '" [' not in call:
            continue
        parts = call.split('"')
        replaces, summary, body = parts[2].strip(), parts[5], parts[7]
        urgency = "critical" if "'urgency': 2" in call or '"urgency": 2' in call else "normal"
        how = "new" if replaces == "0" else f"updates #{replaces}"
        print(f"  [notification, {urgency}, {how}] {summary}", flush=True)
        for text in body.splitlines():
            print(f"      {text}", flush=True)
        call = ""


def wait_for(pred, timeout, step=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def main():
    tmp = tempfile.mkdtemp(prefix="dermaroll-demo-")
    system_bus = bus()
    session_bus = bus()
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=system_bus,
               DBUS_SESSION_BUS_ADDRESS=session_bus, NO_COLOR="1")

    say("notification server (prints what a desktop would pop up)")
    notify = start(["/usr/bin/python3", "-m", "dbusmock", "--template", "notification_daemon"],
                   env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    threading.Thread(target=print_notifications, args=(notify.stdout,), daemon=True).start()

    # The bundled session as a version 2 roller records it: each stretch of a
    # zone in its own direction, the upper lip in two only.
    subprocess.run([sys.executable, os.path.join(TOP, "scripts", "gen-trace.py"),
                    "--protocol-version", "2", tmp], check=True, stdout=subprocess.DEVNULL)
    say(f"roller emulator as bluetoothd: roller {ROLLER} (protocol version 2: stroke "
        f"directions) plays the bundled session {SPEED}x faster (times shown are the roller's "
        f"sample clock)")
    emu = start([os.path.join(BUILD, "tests", "roller-emulator"), "--bus", system_bus,
                 "--adapter-address", "00:1A:7D:DA:71:13", "--protocol-version", "2",
                 "--roller", f"{ROLLER},Demo roller", "--trace", os.path.join(tmp, "session.trace"),
                 "--rate", str(100 * SPEED)], stdout=subprocess.PIPE, text=True)
    if not emu.stdout.readline().startswith("READY"):
        raise SystemExit("demo: the roller emulator did not start")

    say("dermarolld")
    log = os.path.join(tmp, "dermarolld.log")
    logf = open(log, "w")
    start([os.path.join(BUILD, "daemon", "dermarolld"), "--db", os.path.join(tmp, "dermaroll.db")],
          env=dict(env, G_MESSAGES_DEBUG="all"), stdout=logf, stderr=logf)
    print(f"log: {log}")
    import dbus  # Debian's python3-dbus
    session = dbus.bus.BusConnection(session_bus)
    system = dbus.bus.BusConnection(system_bus)
    if not wait_for(lambda: session.name_has_owner("org.dermaroll") and
                    session.name_has_owner("org.freedesktop.Notifications"), 15):
        raise SystemExit("demo: dermarolld or the notification server did not start")
    emulator = dbus.Interface(system.get_object("org.bluez", "/org/dermaroll/Emulator"),
                              "org.dermaroll.Emulator1")

    say("dermarollctl exclude chin   (active acne there: the roller must stay away)")
    ctl(env, "exclude", "chin")
    say(f"dermarollctl pair {ROLLER}")
    ctl(env, "pair", ROLLER)

    say("dermarollctl watch   (live: force against the limit, zone, coverage, every event)")
    watch = start([os.path.join(BUILD, "client", "dermarollctl"), "watch"], env=env)

    def played():
        s = emulator.Stats()["rollers"][ROLLER]
        return bool(s["exhausted"]) and int(s["pending"]) == 0

    if not wait_for(played, 300, 0.2):
        raise SystemExit("demo: the recording did not finish playing")
    time.sleep(0.6)  # let the last throttled Force/Coverage update reach watch
    ctl(env, "stop")
    time.sleep(0.5)
    watch.send_signal(signal.SIGINT)
    watch.wait(5)

    say("dermarollctl sessions")
    ctl(env, "sessions")
    say("dermarollctl coverage last   (the upper lip: no diagonal strokes, 'diagonal missing')")
    ctl(env, "coverage", "last")
    say("dermarollctl events last")
    ctl(env, "events", "last", check=False)
    svg = os.path.join(os.getcwd(), "coverage.svg")
    say("dermarollctl coverage last --svg coverage.svg")
    ctl(env, "coverage", "last", "--svg", svg)
    print(f"\nThe face map is in {svg}. Rendered for a person: rsvg-convert coverage.svg > coverage.png")
    session.close()
    system.close()
    return tmp


if __name__ == "__main__":
    tmp = None
    try:
        tmp = main()
    finally:
        stop_all()
        if tmp and not os.environ.get("DEMO_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
