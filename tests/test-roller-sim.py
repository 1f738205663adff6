#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""test-roller-sim.py: scripts/roller-sim on a private bus, without a radio.

    test-roller-sim.py DECODE_FRAME ROLLER_SIM

The test starts its own dbus-daemon and plays bluetoothd on it: it owns
org.bluez, offers two adapters (hci0 powered off, hci1 on, so the simulator
has to choose rather than assume hci0) with GattManager1 and
LEAdvertisingManager1, and once the simulator registered, it acts as
bluetoothd does toward a GATT application: GetManagedObjects, ReadValue,
StartNotify, WriteValue on the Control Point, PropertiesChanged for
notifications and indications. Every byte that comes back is decoded by the
project's C codec (tests/decode-frame), not by Python.

Waiting is done by turning the GLib main loop until a condition holds, with
a 15 s limit that only a hang reaches; every process is ended by its pid.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "protocol")]
import dbus_private  # noqa: E402
import roller_protocol as proto  # noqa: E402

DECODE_FRAME = None
ROLLER_SIM = None

ROLLER_SERVICE = proto.UUID_ROLLER_SERVICE
ROLL_MEASUREMENT = proto.UUID_ROLL_MEASUREMENT
HEAD_INFO = proto.UUID_HEAD_INFO
CONTROL_POINT = proto.UUID_CONTROL_POINT
STATUS = proto.UUID_STATUS
BATTERY_SERVICE = proto.UUID_BATTERY_SERVICE
BATTERY_LEVEL = proto.UUID_BATTERY_LEVEL
DEVICE_INFO_SERVICE = proto.UUID_DEVICE_INFO_SERVICE
MANUFACTURER_NAME = proto.UUID_MANUFACTURER_NAME
MODEL_NUMBER = proto.UUID_MODEL_NUMBER
SERIAL_NUMBER = proto.UUID_SERIAL_NUMBER
FIRMWARE_REVISION = proto.UUID_FIRMWARE_REVISION

GATT_MANAGER = "org.bluez.GattManager1"
AD_MANAGER = "org.bluez.LEAdvertisingManager1"
ADAPTER = "org.bluez.Adapter1"
OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"
PROPERTIES = "org.freedesktop.DBus.Properties"
GATT_SERVICE = "org.bluez.GattService1"
GATT_CHARACTERISTIC = "org.bluez.GattCharacteristic1"
ADVERTISEMENT = "org.bluez.LEAdvertisement1"

WAIT_LIMIT_S = 15
HEAD_ID = 0xCAFE0001
MTU = 247
DEVICE = "/org/bluez/hci1/dev_11_22_33_44_55_66"   # the central, as BlueZ names it


def wait_until(predicate, what):
    """Turns the default main context until predicate() holds."""
    timed_out = []
    source = GLib.timeout_add_seconds(WAIT_LIMIT_S, lambda: timed_out.append(True) or False)
    context = GLib.MainContext.default()
    while not predicate() and not timed_out:
        context.iteration(True)
    if timed_out:
        raise AssertionError(f"timed out after {WAIT_LIMIT_S} s waiting for {what}")
    GLib.source_remove(source)


class Decoder:
    """tests/decode-frame, one line in, one JSON line out."""

    def __init__(self):
        self.proc = subprocess.Popen([DECODE_FRAME], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def __call__(self, kind, data):
        self.proc.stdin.write(f"{kind} {bytes(data).hex()}\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


class FakeAdapter(dbus.service.Object):
    """An adapter's GattManager1 and LEAdvertisingManager1, as bluetoothd
    has them: registering reads the application's objects at once."""

    def __init__(self, bus, path, bluez):
        super().__init__(bus, path)
        self.path = path
        self.bluez = bluez

    @dbus.service.method(GATT_MANAGER, in_signature="oa{sv}", sender_keyword="sender")
    def RegisterApplication(self, app, options, sender):
        # A blocking call is safe here: the simulator registers
        # asynchronously, so it is free to answer.
        objects = self.bluez.bus.get_object(sender, app).GetManagedObjects(
            dbus_interface=OBJECT_MANAGER)
        self.bluez.apps.append((self.path, str(sender), str(app), objects))

    @dbus.service.method(GATT_MANAGER, in_signature="o")
    def UnregisterApplication(self, app):
        self.bluez.unregistered.append(("app", self.path, str(app)))

    @dbus.service.method(AD_MANAGER, in_signature="oa{sv}", sender_keyword="sender")
    def RegisterAdvertisement(self, path, options, sender):
        props = self.bluez.bus.get_object(sender, path).GetAll(ADVERTISEMENT,
                                                              dbus_interface=PROPERTIES)
        self.bluez.advertisements.append((self.path, str(sender), str(path), props))

    @dbus.service.method(AD_MANAGER, in_signature="o")
    def UnregisterAdvertisement(self, path):
        self.bluez.unregistered.append(("advertisement", self.path, str(path)))


class FakeBluez(dbus.service.Object):
    ADAPTERS = {
        "/org/bluez/hci0": {"Address": "AA:BB:CC:DD:EE:00", "Alias": "off", "Powered": False},
        "/org/bluez/hci1": {"Address": "AA:BB:CC:DD:EE:01", "Alias": "on", "Powered": True},
    }

    def __init__(self, bus):
        super().__init__(bus, "/")
        self.bus = bus
        self.name = dbus.service.BusName("org.bluez", bus)
        self.adapters = [FakeAdapter(bus, path, self) for path in self.ADAPTERS]
        self.apps = []
        self.advertisements = []
        self.unregistered = []

    @dbus.service.method(OBJECT_MANAGER, out_signature="a{oa{sa{sv}}}")
    def GetManagedObjects(self):
        return {
            dbus.ObjectPath(path): {
                ADAPTER: {"Address": props["Address"], "Alias": props["Alias"],
                          "Powered": dbus.Boolean(props["Powered"])},
                GATT_MANAGER: {},
                AD_MANAGER: {},
            }
            for path, props in self.ADAPTERS.items()
        }


class Sim:
    """scripts/roller-sim pointed at the private bus as its system bus."""

    def __init__(self, tmp, address, *args):
        self.log_path = os.path.join(tmp, f"roller-sim-{len(os.listdir(tmp))}.log")
        self.log = open(self.log_path, "w")
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address)
        self.proc = subprocess.Popen([ROLLER_SIM, *args], stdin=subprocess.PIPE,
                                     stdout=self.log, stderr=self.log, env=env, text=True)
        # Its exit wakes the main loop (a child watch reaps it; Popen.poll()
        # would not wake anything).
        self.exit_code = None
        GLib.child_watch_add(GLib.PRIORITY_DEFAULT, self.proc.pid, self._exited)

    def _exited(self, pid, status):
        self.exit_code = os.waitstatus_to_exitcode(status)
        self.proc.returncode = self.exit_code   # reaped here, not by Popen

    def running(self):
        return self.exit_code is None

    def wait(self):
        wait_until(lambda: not self.running(), "roller-sim to exit")
        return self.exit_code

    def type(self, *lines):
        self.proc.stdin.write("".join(line + "\n" for line in lines))
        self.proc.stdin.flush()

    def stop(self):
        if self.running():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.wait()
        self.proc.stdin.close()
        self.log.close()

    def output(self):
        with open(self.log_path) as f:
            return f.read()


class RollerSimTest(unittest.TestCase):
    def setUp(self):
        self.tmp_dir = tempfile.TemporaryDirectory(prefix="test-roller-sim-")
        self.addCleanup(self.tmp_dir.cleanup)
        self.tmp = self.tmp_dir.name
        self.bus_daemon = dbus_private.PrivateBus(self.tmp)
        self.addCleanup(self.bus_daemon.stop)
        self.bus = dbus.bus.BusConnection(self.bus_daemon.address)
        self.addCleanup(self.bus.close)
        self.bluez = FakeBluez(self.bus)
        self.decode = Decoder()
        self.addCleanup(self.decode.close)
        self.sims = []

    def tearDown(self):
        # The simulator's own words, for the log: the best clue on a failure.
        for sim in self.sims:
            sim.stop()
            sys.stderr.write(f"--- roller-sim {' '.join(sim.proc.args[1:])} ---\n{sim.output()}")

    def start_sim(self, *args):
        sim = Sim(self.tmp, self.bus_daemon.address, *args)
        self.sims.append(sim)
        return sim

    def wait_registered(self, sim):
        wait_until(lambda: (self.bluez.apps and self.bluez.advertisements) or not sim.running(),
                   "the GATT application and advertisement")
        self.assertTrue(sim.running(), "roller-sim exited:\n" + sim.output())

    # -- the real test: a whole connection, as the daemon would make it

    def test_gatt_session(self):
        sim = self.start_sim("--live", "--head-id", hex(HEAD_ID), "--battery", "42",
                             "--serial", "SIM-TEST")
        self.wait_registered(sim)

        # The powered adapter, not the first one.
        adapter, sender, app_path, objects = self.bluez.apps[0]
        self.assertEqual(adapter, "/org/bluez/hci1")
        ad_adapter, ad_sender, _, ad = self.bluez.advertisements[0]
        self.assertEqual((ad_adapter, ad_sender), (adapter, sender))
        self.assertEqual(ad["Type"], "peripheral")
        self.assertEqual(list(ad["ServiceUUIDs"]), [ROLLER_SERVICE])
        self.assertTrue(ad["LocalName"])

        # The GATT tree: three primary services, each characteristic under
        # its service with the flags PROTOCOL.md gives it.
        services = {str(p): i[GATT_SERVICE] for p, i in objects.items() if GATT_SERVICE in i}
        chars = {str(i[GATT_CHARACTERISTIC]["UUID"]): (str(p), i[GATT_CHARACTERISTIC])
                 for p, i in objects.items() if GATT_CHARACTERISTIC in i}
        self.assertEqual(sorted(str(s["UUID"]) for s in services.values()),
                         sorted([ROLLER_SERVICE, BATTERY_SERVICE, DEVICE_INFO_SERVICE]))
        self.assertTrue(all(s["Primary"] for s in services.values()))
        for path in list(services) + [p for p, _ in chars.values()]:
            self.assertTrue(path.startswith(app_path + "/"), path)
        service_of = {str(s["UUID"]): p for p, s in services.items()}
        expected = {
            ROLL_MEASUREMENT: (ROLLER_SERVICE, ["notify"]),
            HEAD_INFO: (ROLLER_SERVICE, ["read"]),
            CONTROL_POINT: (ROLLER_SERVICE, ["write", "indicate"]),
            STATUS: (ROLLER_SERVICE, ["read", "notify"]),
            BATTERY_LEVEL: (BATTERY_SERVICE, ["read", "notify"]),
            MANUFACTURER_NAME: (DEVICE_INFO_SERVICE, ["read"]),
            MODEL_NUMBER: (DEVICE_INFO_SERVICE, ["read"]),
            SERIAL_NUMBER: (DEVICE_INFO_SERVICE, ["read"]),
            FIRMWARE_REVISION: (DEVICE_INFO_SERVICE, ["read"]),
        }
        self.assertEqual(sorted(chars), sorted(expected))
        for uuid, (service_uuid, flags) in expected.items():
            path, props = chars[uuid]
            self.assertEqual(str(props["Service"]), service_of[service_uuid], uuid)
            self.assertEqual(sorted(props["Flags"]), sorted(flags), uuid)

        def char(uuid):
            return dbus.Interface(self.bus.get_object(sender, chars[uuid][0]),
                                  GATT_CHARACTERISTIC)

        options = {"mtu": dbus.UInt16(MTU), "device": dbus.ObjectPath(DEVICE),
                   "link": "LE"}

        def read(uuid, **extra):
            return bytes(char(uuid).ReadValue(dict(options, **extra)))

        # Reads, decoded by the C codec.
        head = self.decode("head-info", read(HEAD_INFO))
        self.assertEqual(head, {"status": "ok", "version": 1, "needle_length_um": 500,
                                "needle_count": 540, "drum_diameter_10um": 1900,
                                "drum_width_10um": 2000, "ticks_per_rev": 1024,
                                "head_id": HEAD_ID})
        self.assertEqual(read(HEAD_INFO, offset=dbus.UInt16(11)),
                         proto.encode_head_info(500, 540, 1900, 2000, 1024, HEAD_ID)[11:])   # a long read's second part
        status = self.decode("status", read(STATUS))
        self.assertEqual((status["status"], status["state"], status["history_frames_pending"]),
                         ("ok", 0, 0))
        self.assertEqual(self.decode("battery", read(BATTERY_LEVEL))["percent"], 42)
        self.assertEqual(read(SERIAL_NUMBER), b"SIM-TEST")
        self.assertTrue(read(MANUFACTURER_NAME) and read(MODEL_NUMBER)
                        and read(FIRMWARE_REVISION))

        # What the roller sends: PropertiesChanged on Value, in order.
        received = []   # (uuid, bytes)
        by_path = {p: u for u, (p, _) in chars.items()}

        def on_changed(interface, changed, invalidated, path=None):
            if interface == GATT_CHARACTERISTIC and "Value" in changed:
                received.append((by_path[path], bytes(changed["Value"])))

        self.bus.add_signal_receiver(on_changed, "PropertiesChanged", PROPERTIES, sender,
                                     path_keyword="path")

        def of(uuid, start=0):
            return [data for u, data in received[start:] if u == uuid]

        control = char(CONTROL_POINT)

        # A request nobody would hear the answer to is refused.
        with self.assertRaises(dbus.exceptions.DBusException) as refused:
            control.WriteValue(bytes([3]), options)
        self.assertEqual(refused.exception.get_dbus_name(),
                         "org.bluez.Error.ImproperlyConfigured")

        for uuid in (CONTROL_POINT, ROLL_MEASUREMENT, STATUS):
            char(uuid).StartNotify()

        def request(data):
            """Writes a request, returns its decoded result indication."""
            start = len(received)
            control.WriteValue(dbus.Array(data, signature="y"), dict(options, type="request"))
            wait_until(lambda: of(CONTROL_POINT, start), f"the result of {bytes(data).hex()}")
            responses = of(CONTROL_POINT, start)
            self.assertEqual(len(responses), 1)
            response = self.decode("response", responses[0])
            self.assertEqual(response["status"], "ok")
            return response["request_opcode"], response["result"]

        unix_ms = int(time.time() * 1000)
        self.assertEqual(request(proto.encode_control(proto.OP_SET_TIME, unix_ms)), (1, 0))
        self.assertEqual(request(bytes([0x42])), (0x42, 1))          # unsupported
        self.assertEqual(request(bytes([2, 50, 0])), (2, 2))         # too long
        self.assertEqual(request(bytes([2, 0])), (2, 2))             # no such rate
        self.assertEqual(request(bytes([5, 0])), (5, 2))             # ACK too short
        self.assertEqual(request(bytes([2, 50])), (2, 0))            # START_STREAM 50 Hz

        # Rolling, typed live: frames arrive as notifications.
        def frames(start=0):
            return [self.decode("frame", data) for data in of(ROLL_MEASUREMENT, start)]

        def samples(decoded):
            return [s for f in decoded for s in f["samples"]]

        sim.type("zone forehead", "force 2.5")
        wait_until(lambda: len(frames()) >= 2, "two live frames on the forehead")
        mark = len(received)
        sim.type("zone chin", "force 6.5")
        wait_until(lambda: any(s["zone"] == 5 and s["force_mn"] == 6500
                               for s in samples(frames(mark))), "over-pressure on the chin")
        mark = len(received)
        sim.type("lift")
        wait_until(lambda: any(self.decode("status", d)["state"] == 0 for d in of(STATUS, mark)),
                   "the roller to go idle")

        live = frames()
        statuses = [self.decode("status", d) for d in of(STATUS)]
        self.assertIn(1, [s["state"] for s in statuses])   # it said it was rolling
        self.assertTrue(all(f["status"] == "ok" for f in live), live)
        self.assertEqual([f["seq"] for f in live], list(range(len(live))))
        self.assertTrue(all(f["flags"] == 0 for f in live))          # live, clock synced
        for f in live:
            self.assertLess(abs(f["t0_ms"] - unix_ms), 60_000)
            self.assertTrue(1 <= len(f["samples"]) <= 10)             # 50 Hz x 0.2 s
        all_samples = samples(live)
        ticks = [s["ticks"] for s in all_samples]
        self.assertEqual(ticks, sorted(ticks))
        zones = [s["zone"] for s in all_samples]
        self.assertEqual(zones[0], 0)
        self.assertEqual(zones.index(5), len(zones) - zones[::-1].index(0))  # forehead, then chin
        self.assertEqual({s["force_mn"] for s in all_samples if s["zone"] == 0}, {2500})
        self.assertEqual(all_samples[-1]["force_mn"], 0)              # lifted
        times = [f["t0_ms"] for f in live]
        self.assertEqual(times, sorted(times))

        # Not streaming: frames are made and kept, not sent.
        self.assertEqual(request(bytes([3])), (3, 0))
        mark = len(received)
        sim.type("zone neck", "force 3", "wait 0.3", "lift")
        wait_until(lambda: any(self.decode("status", d)["state"] == 0 for d in of(STATUS, mark)),
                   "the roller to go idle again")
        self.assertEqual(of(ROLL_MEASUREMENT, mark), [])
        pending = self.decode("status", read(STATUS))["history_frames_pending"]
        self.assertGreater(pending, len(live))

        # REQUEST_HISTORY: every stored frame, oldest first, flag bit0 set,
        # otherwise byte for byte what was sent live; then the result.
        def history():
            start = len(received)
            self.assertEqual(request(bytes([4])), (4, 0))
            got = [uuid for uuid, _ in received[start:]]
            # The result indication comes after the last frame.
            if ROLL_MEASUREMENT in got:
                self.assertGreater(got.index(CONTROL_POINT),
                                   len(got) - 1 - got[::-1].index(ROLL_MEASUREMENT))
            return of(ROLL_MEASUREMENT, start)

        replay = history()
        self.assertEqual(len(replay), pending)
        decoded = [self.decode("frame", d) for d in replay]
        self.assertTrue(all(f["status"] == "ok" and f["flags"] == 1 for f in decoded))
        self.assertEqual([f["seq"] for f in decoded], list(range(pending)))
        for sent, again in zip(of(ROLL_MEASUREMENT)[:len(live)], replay):
            self.assertEqual(again[:1] + bytes([again[1] & ~1]) + again[2:], sent)
        self.assertIn(6, {s["zone"] for s in samples(decoded)})     # the neck, kept

        # ACK erases up to and including that frame; the rest stays.
        middle = pending // 2
        self.assertEqual(request(proto.encode_control(proto.OP_ACK, middle)), (5, 0))
        self.assertEqual([self.decode("frame", d)["seq"] for d in history()],
                         list(range(middle + 1, pending)))
        self.assertEqual(request(proto.encode_control(proto.OP_ACK, pending - 1)), (5, 0))
        self.assertEqual(history(), [])
        self.assertEqual(self.decode("status", read(STATUS))["history_frames_pending"], 0)
        # An ACK for nothing stored erases nothing and is no error.
        self.assertEqual(request(proto.encode_control(proto.OP_ACK, 999)), (5, 0))

        # History with nobody listening to Roll Measurement: busy.
        char(ROLL_MEASUREMENT).StopNotify()
        self.assertEqual(request(bytes([4])), (4, 3))

        # 'quit' ends it cleanly, unregistering both.
        sim.type("quit")
        wait_until(lambda: len(self.bluez.unregistered) == 2, "unregistering")
        self.assertEqual(sim.wait(), 0)
        self.assertEqual(sorted(k for k, _, _ in self.bluez.unregistered),
                         ["advertisement", "app"])

    def test_adapter_by_name_and_address(self):
        sim = self.start_sim("--live", "--adapter", "hci0")
        self.wait_registered(sim)
        self.assertEqual(self.bluez.apps[0][0], "/org/bluez/hci0")
        sim.stop()
        self.bluez.apps.clear()
        self.bluez.advertisements.clear()
        sim = self.start_sim("--live", "--adapter", "aa:bb:cc:dd:ee:01")
        self.wait_registered(sim)
        self.assertEqual(self.bluez.apps[0][0], "/org/bluez/hci1")

    def test_unknown_adapter(self):
        sim = self.start_sim("--live", "--adapter", "hci7")
        self.assertEqual(sim.wait(), 1)
        self.assertIn("no adapter hci7", sim.output())
        self.assertEqual(self.bluez.apps, [])

    def test_builtin_session_dump(self):
        """The scripted session's frames, decoded by the codec: zones in
        order, one over-pressure episode, sane counters."""
        out = subprocess.run([ROLLER_SIM, "--dump"], check=True, capture_output=True,
                             text=True, timeout=60).stdout.split()
        decoded = [self.decode("frame", bytes.fromhex(line)) for line in out]
        self.assertTrue(all(f["status"] == "ok" for f in decoded))
        self.assertEqual([f["seq"] for f in decoded], list(range(len(decoded))))
        self.assertTrue(all(f["flags"] == 2 for f in decoded))       # no SET_TIME: unsynced
        samples = [s for f in decoded for s in f["samples"]]
        zones = []
        for s in samples:
            if not zones or zones[-1] != s["zone"]:
                zones.append(s["zone"])
        self.assertEqual(zones, [0, 1, 2, 5, 6])
        ticks = [s["ticks"] for s in samples]
        self.assertEqual(ticks, sorted(ticks))
        # Over 5 N on the chin for at least 150 ms: an over-pressure episode.
        over = [s for s in samples if s["force_mn"] > 5000]
        self.assertTrue(over and all(s["zone"] == 5 for s in over))
        self.assertGreaterEqual(sum(s["dt_ms"] for s in over[1:]), 150)
        self.assertEqual(samples[-1]["force_mn"], 0)

    def test_builtin_session_dump_v2(self):
        """--protocol-version 2: the same session in version 2 frames of at
        most 23 samples, each with its stroke direction; the forehead is
        never rolled diagonally."""
        out = subprocess.run([ROLLER_SIM, "--dump", "--protocol-version", "2"], check=True,
                             capture_output=True, text=True, timeout=60).stdout.split()
        raw = [bytes.fromhex(line) for line in out]
        self.assertTrue(all(r[0] == 2 and len(r) == 13 + 10 * r[12] and r[12] <= 23 for r in raw))
        decoded = [self.decode("frame", r) for r in raw]
        self.assertTrue(all(f["status"] == "ok" for f in decoded))
        samples = [s for f in decoded for s in f["samples"]]
        seen = {}
        for s in samples:
            if s["force_mn"] >= 500:
                seen.setdefault(s["zone"], set()).add(s["direction"])
        self.assertEqual(seen[0], {"horizontal", "vertical"})
        self.assertEqual(seen[1], {"horizontal", "vertical", "diagonal"})
        self.assertEqual(seen[2], {"horizontal", "vertical", "diagonal"})


def main():
    global DECODE_FRAME, ROLLER_SIM
    if len(sys.argv) < 3:
        sys.exit(f"usage: {sys.argv[0]} DECODE_FRAME ROLLER_SIM [unittest args]")
    DECODE_FRAME, ROLLER_SIM = sys.argv[1], sys.argv[2]
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)


if __name__ == "__main__":
    main()
