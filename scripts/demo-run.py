#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""demo-run: the whole of dermaroll, headless, on private buses.

Started by scripts/demo after the build. It plays bluetoothd with the
project's roller emulator (the bundled recorded session: several zones,
one over-pressure episode), its roller speaking protocol version 2 (the
stroke direction in every sample; the upper lip is never rolled
diagonally, and the coverage table says so), runs the real dermarolld
against it, a notification server that prints every desktop notification,
and dermarollctl. A person, Ann, is added, excludes her chin (the
recording rolls over it) and is given the roller before it is paired, so
the whole session is hers. `dermarollctl watch` follows it live; then come
the sessions, the coverage table (with its direction missing, the dates
each zone may be treated again and the aftercare) and coverage.svg, Ann's
zones with their rest, the events, and the session summary exactly as the
notification server received it. Every process it starts is stopped by pid.

With --app (scripts/demo --app, a display needed) the desktop app opens on
the same buses as soon as the daemon is there, shows the session live, and
the demo waits for its window to be closed at the end.
"""
import os
import re
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
ROLLER_PATH = "/org/dermaroll/roller/" + ROLLER.replace(":", "_")
PERSON = "Ann"
SPEED = 10  # the recording plays ten times faster than it was rolled

SUMMARY = re.compile(r"Session \d+ finished$")
APP = "--app" in sys.argv[1:]

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
        if SUMMARY.match(summary):
            print("      (its text in full at the end)", flush=True)
        else:
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
        f"directions) plays the bundled session {SPEED}x faster (the events' and the rest's "
        f"times are on the roller's sample clock, watch's on this computer's)")
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
    app_proc = None
    if APP:
        say("the desktop app (build/app/dermaroll) on the same buses")
        app_proc = start([os.path.join(BUILD, "app", "dermaroll")], env=env)
    import dbus  # Debian's python3-dbus
    session = dbus.bus.BusConnection(session_bus)
    system = dbus.bus.BusConnection(system_bus)
    if not wait_for(lambda: session.name_has_owner("org.dermaroll") and
                    session.name_has_owner("org.freedesktop.Notifications"), 15):
        raise SystemExit("demo: dermarolld or the notification server did not start")
    emulator = dbus.Interface(system.get_object("org.bluez", "/org/dermaroll/Emulator"),
                              "org.dermaroll.Emulator1")

    say(f"dermarollctl person add {PERSON}   (a household: each person has their own skin)")
    ctl(env, "person", "add", PERSON)
    say(f"dermarollctl exclude chin --person {PERSON}   (active acne there: the roller must "
        f"stay away)")
    ctl(env, "exclude", "chin", "--person", PERSON)

    # The roller is given to Ann before it is paired: pairing starts the
    # stream, and a person switched during a session ends that session.
    say("dermarollctl scan   (until the roller is seen)")
    scan = start([os.path.join(BUILD, "client", "dermarollctl"), "scan"], env=env)
    manager = dbus.Interface(session.get_object("org.dermaroll", "/org/dermaroll"),
                             "org.freedesktop.DBus.ObjectManager")
    if not wait_for(lambda: ROLLER_PATH in manager.GetManagedObjects(), 15):
        raise SystemExit("demo: scan did not find the roller")
    scan.send_signal(signal.SIGINT)
    scan.wait(5)
    say(f"dermarollctl person use {PERSON} --roller {ROLLER}")
    ctl(env, "person", "use", PERSON, "--roller", ROLLER)
    say("dermarollctl people")
    ctl(env, "people")
    say(f"dermarollctl pair {ROLLER}")
    ctl(env, "pair", ROLLER)

    say("dermarollctl watch   (live: force against the limit, the zone under the roller, "
        "coverage, every event)")
    watch = start([os.path.join(BUILD, "client", "dermarollctl"), "watch"], env=env)

    def played():
        s = emulator.Stats()["rollers"][ROLLER]
        return bool(s["exhausted"]) and int(s["pending"]) == 0

    if not wait_for(played, 300, 0.2):
        raise SystemExit("demo: the recording did not finish playing")
    time.sleep(0.6)  # let the last throttled Force/Coverage update reach watch
    ctl(env, "stop")
    notifications = dbus.Interface(
        session.get_object("org.freedesktop.Notifications", "/org/freedesktop/Notifications"),
        "org.freedesktop.DBus.Mock")

    def summaries():
        return [args for _, args in notifications.GetMethodCalls("Notify")
                if SUMMARY.match(str(args[3]))]

    if not wait_for(summaries, 15):
        raise SystemExit("demo: no session summary notification")
    time.sleep(0.5)  # let watch print the session's end and its last state
    watch.send_signal(signal.SIGINT)
    watch.wait(5)

    say(f"dermarollctl sessions --person {PERSON}")
    ctl(env, "sessions", "--person", PERSON)
    svg = os.path.join(os.getcwd(), "coverage.svg")
    say(f"dermarollctl coverage last --person {PERSON} --svg coverage.svg   (upper lip: "
        f"'diagonal missing'; when each zone may be rolled again; the aftercare)")
    ctl(env, "coverage", "last", "--person", PERSON, "--svg", svg)
    say(f"dermarollctl zones --person {PERSON}   (the rest rule: each zone's last treatment "
        f"and when it is ready again)")
    ctl(env, "zones", "--person", PERSON)
    say(f"dermarollctl events last --person {PERSON}")
    ctl(env, "events", "last", "--person", PERSON, check=False)

    say("the session summary, as the notification server received it (Notify)")
    app, replaces, _, summary, body, _, hints, _ = summaries()[-1]
    urgency = int(hints.get("urgency", 1))
    print(f"app {str(app)!r}, replaces {int(replaces)}, urgency {urgency}")
    print(f"summary: {summary}")
    print("body:")
    for text in str(body).splitlines():
        print(f"  {text}")
    print(f"\nThe face map is in {svg}. Rendered for a person: rsvg-convert coverage.svg > "
          f"coverage.png")
    if app_proc is not None and app_proc.poll() is None:
        say("the app stays open with the session in History: close its window to end the demo")
        app_proc.wait()
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
