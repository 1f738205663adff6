#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""test-emulator.py: checks tests/roller-emulator against BlueZ's D-Bus API
and PROTOCOL.md, as a GATT client sees it.

    test-emulator.py ROLLER_EMULATOR DBUS_DAEMON [unittest arguments]

Every case starts its own private dbus-daemon (tests/dbus_private.py) and
emulator on it, brings them to the state it needs, and drives the emulator
through python3-dbus like dermarolld would: object tree, discovery, pairing,
GATT reads, AcquireNotify and StartNotify streaming, control point
indications, ACK and history replay, and the fault injection of
org.dermaroll.Emulator1 (link loss, lost and malformed frames, service flaps,
bluetoothd restart, adapter removal). No case depends on another; meson runs
each as its own test (tests/unittest_inspector.py). Frames are decoded with
protocol/roller_protocol.py.

A link loss ends the stream (PROTOCOL.md): after a reconnect the roller is
idle until START_STREAM, so a case that wants live frames again sends it, and
the history replay comes before them. Waiting is done by turning the GLib
main loop until a condition holds, with a limit only a hang reaches; every
process started is ended by its pid in the case's cleanups, whatever happens.
"""

import os
import select
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import dbus
import dbus.bus
import dbus.mainloop.glib
from gi.repository import GLib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "protocol")]
import dbus_private  # noqa: E402
import roller_protocol as proto  # noqa: E402

EMULATOR = os.environ.get("DR_ROLLER_EMULATOR", "build/tests/roller-emulator")
DBUS_DAEMON = "dbus-daemon"

SVC = proto.UUID_ROLLER_SERVICE
MEASUREMENT = proto.UUID_ROLL_MEASUREMENT
HEAD_INFO = proto.UUID_HEAD_INFO
CONTROL = proto.UUID_CONTROL_POINT
STATUS = proto.UUID_STATUS
BATTERY_LEVEL = proto.UUID_BATTERY_LEVEL
MANUFACTURER = proto.UUID_MANUFACTURER_NAME
CCCD = proto.UUID_CCCD

BLUEZ = "org.bluez"
ADAPTER = "org.bluez.Adapter1"
DEVICE = "org.bluez.Device1"
CHAR = "org.bluez.GattCharacteristic1"
DESC = "org.bluez.GattDescriptor1"
SERVICE = "org.bluez.GattService1"
PROPS = "org.freedesktop.DBus.Properties"
OM = "org.freedesktop.DBus.ObjectManager"
EMU_IFACE = "org.dermaroll.Emulator1"
EMU_PATH = "/org/dermaroll/Emulator"

A1 = "C0:FF:EE:00:00:01"
A2 = "C0:FF:EE:00:00:02"
HCI = "/org/bluez/hci3"
D1 = HCI + "/dev_C0_FF_EE_00_00_01"
D2 = HCI + "/dev_C0_FF_EE_00_00_02"
HEAD_ID = 4242
WAIT_S = 15

EMPTY = dbus.Dictionary({}, signature="sv")

# ---- processes ---------------------------------------------------------------

out_buffers = {}


def spawn(argv):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         preexec_fn=dbus_private.die_with_parent)
    out_buffers[p.pid] = b""
    return p


def stop(p):
    """Ends one process we started, by its pid, and reaps it. Returns its
    exit status (0 for a clean exit on SIGTERM)."""
    status = dbus_private.stop_pid(p)
    if p.stdout is not None:
        p.stdout.close()
    out_buffers.pop(p.pid, None)
    return status


def read_line(p, prefix, timeout=WAIT_S):
    """The first stdout line of @p starting with @prefix (select, no sleeps)."""
    deadline = time.monotonic() + timeout
    fd = p.stdout.fileno()
    while True:
        buf = out_buffers[p.pid]
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            out_buffers[p.pid] = buf
            text = line.decode()
            if text.startswith(prefix):
                return text
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no '{prefix}' line from pid {p.pid} in {timeout} s")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise AssertionError(f"pid {p.pid} exited (status {p.wait()}) before '{prefix}'")
            out_buffers[p.pid] += chunk


# ---- main loop -----------------------------------------------------------------


def wait_until(pred, what, timeout=WAIT_S, details=None):
    """Turns the main loop until pred() holds. pred() is checked after every
    event and at least every 100 ms, for conditions read over D-Bus that no
    signal announces (the emulator's counters)."""
    expired = []

    def on_timeout():
        expired.append(True)
        return False

    tid = GLib.timeout_add(int(timeout * 1000), on_timeout)
    tick = GLib.timeout_add(100, lambda: True)
    loop_ctx = GLib.MainContext.default()
    try:
        while not pred():
            if expired:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}"
                                     + (f": {details()}" if details else ""))
            loop_ctx.iteration(True)
    finally:
        GLib.source_remove(tick)
        if not expired:
            GLib.source_remove(tid)


def call_async(method, *args):
    """Calls without blocking the loop; returns a dict filled by the reply."""
    result = {}
    method(*args, reply_handler=lambda *r: result.update(ok=r),
           error_handler=lambda e: result.update(error=e))
    return result


# ---- D-Bus helpers -------------------------------------------------------------


class Recorder:
    """Every signal the emulator sends, in order."""

    def __init__(self, bus):
        self.events = []
        bus.add_signal_receiver(self._props, "PropertiesChanged", PROPS, path_keyword="path")
        bus.add_signal_receiver(self._added, "InterfacesAdded", OM)
        bus.add_signal_receiver(self._removed, "InterfacesRemoved", OM)
        bus.add_signal_receiver(self._owner, "NameOwnerChanged", "org.freedesktop.DBus",
                                arg0=BLUEZ)

    def _props(self, iface, changed, invalidated, path=None):
        self.events.append(("props", str(path), str(iface), dict(changed),
                            [str(x) for x in invalidated]))

    def _added(self, path, ifaces):
        self.events.append(("added", str(path), [str(i) for i in ifaces]))

    def _removed(self, path, ifaces):
        self.events.append(("removed", str(path), [str(i) for i in ifaces]))

    def _owner(self, name, old, new):
        self.events.append(("owner", str(old), str(new)))

    def mark(self):
        return len(self.events)

    def changes(self, since, path, iface, name):
        return [e[3][name] for e in self.events[since:]
                if e[0] == "props" and e[1] == path and e[2] == iface and name in e[3]]

    def invalidated(self, since, path, name):
        return [e for e in self.events[since:]
                if e[0] == "props" and e[1] == path and name in e[4]]

    def values(self, since, path):
        """Notifications/indications: Value changes of a characteristic."""
        return [to_bytes(v) for v in self.changes(since, path, CHAR, "Value")]

    def of_kind(self, since, kind):
        return [e for e in self.events[since:] if e[0] == kind]


def to_bytes(v):
    return bytes(bytearray(v))


def ay(data):
    return dbus.Array([dbus.Byte(b) for b in data], signature="y")


def expect_error(name, method, *args):
    try:
        method(*args)
    except dbus.exceptions.DBusException as e:
        assert e.get_dbus_name() == name, f"expected {name}, got {e.get_dbus_name()}: {e}"
        return
    raise AssertionError(f"expected {name}, the call succeeded")


def decode_frame(b):
    """PROTOCOL.md, Roll Measurement, and what this emulator's patterns promise."""
    try:
        f = proto.decode_frame(b)
    except ValueError as e:
        raise AssertionError(str(e)) from None
    samples = f["samples"]
    assert samples[0][0] == 0, "first dt must be 0"
    for dt, ticks, force, zone in samples:
        assert zone <= 6 or zone == 0xFF, f"zone {zone}"
        assert force == 0xFFFF or force < 20000, f"force {force}"
    return {"flags": f["flags"], "seq": f["seq"], "t0": f["t0"], "samples": samples, "raw": b}


class FdReader:
    """Frames from an AcquireNotify socket, read as the main loop turns."""

    def __init__(self, fd, mtu):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, fileno=fd)
        self.sock.setblocking(False)
        self.mtu = mtu
        self.packets = []
        self.hup = False
        self.watch = GLib.io_add_watch(fd, GLib.PRIORITY_DEFAULT,
                                       GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, self._ready)

    def _ready(self, fd, cond):
        self.drain()
        if self.hup:
            self.watch = None
            return False
        return True

    def drain(self):
        while not self.hup:
            try:
                data = self.sock.recv(self.mtu)
            except BlockingIOError:
                return
            except OSError:
                self.hup = True
                return
            if not data:
                self.hup = True
                return
            self.packets.append(data)

    def frames(self, start=0):
        return [decode_frame(p) for p in self.packets[start:]]

    def close(self):
        if self.watch is not None:
            GLib.source_remove(self.watch)
            self.watch = None
        self.sock.close()


class Ctx:
    """The running case's bus, emulator and readers (one case at a time)."""


ctx = Ctx()


def obj(path):
    return ctx.bus.get_object(BLUEZ, path, introspect=False)


def iface(path, name):
    return dbus.Interface(obj(path), name)


def prop(path, name, key):
    return iface(path, PROPS).Get(name, key)


def managed():
    return iface("/", OM).GetManagedObjects()


def find_chars(dev):
    """Characteristics by UUID under @dev, from the object manager."""
    chars = {}
    for path, ifaces in managed().items():
        c = ifaces.get(CHAR)
        if c is not None and str(path).startswith(dev + "/"):
            chars[str(c["UUID"])] = str(path)
    return chars


def emu():
    return dbus.Interface(ctx.bus.get_object(ctx.emu_name, EMU_PATH, introspect=False), EMU_IFACE)


def roller_stat(address, key):
    return emu().RollerStats(address)[key]


def stored(address):
    return int(emu().StoredFrames(address))


def control(chars, payload, timeout=WAIT_S):
    """Writes a control request and returns its indication."""
    cp = chars[CONTROL]
    since = ctx.rec.mark()
    iface(cp, CHAR).WriteValue(ay(payload), dbus.Dictionary({"type": "request"}, signature="sv"))
    wait_until(lambda: ctx.rec.values(since, cp), f"indication for {bytes(payload).hex()}",
               timeout)
    return ctx.rec.values(since, cp)[0]


def check_seq_run(frames):
    for a, b in zip(frames, frames[1:]):
        assert b["seq"] == (a["seq"] + 1) & 0xFFFF, f"seq {a['seq']} then {b['seq']}"


def wait_connected(dev, since):
    wait_until(lambda: True in ctx.rec.changes(since, dev, DEVICE, "ServicesResolved")
               or bool(prop(dev, DEVICE, "ServicesResolved")), f"{dev} services resolved")


def settle():
    """Turns the loop until a reply from the emulator: every signal it sent
    before is then recorded, so a mark taken next sees only what follows."""
    reply = call_async(emu().Stats)
    wait_until(lambda: reply, "the emulator's reply")


def start_emulator(*args):
    p = spawn([EMULATOR, "--bus", ctx.address, *args])
    ctx.emu_proc = p
    ctx.emu_name = read_line(p, "READY ").split()[1]
    return p


def ack(c, seq):
    """ACK up to seq; returns the result indication."""
    return control(c, proto.encode_control(proto.OP_ACK, seq))


def set_time(c):
    assert control(c, proto.encode_control(proto.OP_SET_TIME, int(time.time() * 1000))) \
        == b"\x80\x01\x00"


def acquire(chars):
    fd, mtu = iface(chars[MEASUREMENT], CHAR).AcquireNotify(EMPTY)
    ctx.reader = FdReader(fd.take(), int(mtu))


def history(c):
    """REQUEST_HISTORY: the frames replayed before the result indication."""
    n = len(ctx.reader.packets)
    assert control(c, b"\x04") == b"\x80\x04\x00"
    ctx.reader.drain()  # all were written before the indication was sent
    return ctx.reader.frames(n)


def connect_paired(dev):
    since = ctx.rec.mark()
    iface(dev, DEVICE).Connect()
    wait_connected(dev, since)
    chars = find_chars(dev)
    iface(chars[CONTROL], CHAR).StartNotify()
    settle()
    return chars


# ---- the cases -------------------------------------------------------------------


class EmulatorCase(unittest.TestCase):
    """A private bus and an emulator started with EMULATOR_ARGS (None: the
    case starts it itself), both ended by pid when the case ends."""

    EMULATOR_ARGS = ["--roller", A1, "--roller", A2 + ",Second", "--head-id", str(HEAD_ID),
                     "--gatt-latency-ms", "30", "--discovery-delay-ms", "20",
                     "--temporary-timeout-s", "0"]

    def setUp(self):
        if not os.access(EMULATOR, os.X_OK):
            self.skipTest(f"no emulator at {EMULATOR}")
        ctx.__dict__.clear()
        ctx.emu_proc = None
        ctx.reader = None
        tmp = tempfile.TemporaryDirectory(prefix="test-emulator-")
        self.addCleanup(tmp.cleanup)
        ctx.tmpdir = tmp.name
        bus = dbus_private.PrivateBus(ctx.tmpdir, dbus_daemon=DBUS_DAEMON)
        self.addCleanup(bus.stop)
        ctx.address = bus.address
        ctx.bus = dbus.bus.BusConnection(ctx.address)
        self.addCleanup(ctx.bus.close)
        ctx.rec = Recorder(ctx.bus)
        self.addCleanup(self._end_emulator)
        self.addCleanup(self._close_reader)
        if self.EMULATOR_ARGS is not None:
            start_emulator(*self.EMULATOR_ARGS)

    def _close_reader(self):
        if ctx.reader is not None:
            ctx.reader.close()
            ctx.reader = None

    def _end_emulator(self):
        if ctx.emu_proc is not None:
            p, ctx.emu_proc = ctx.emu_proc, None
            status = stop(p)
            self.assertEqual(status, 0, f"the emulator exited with {status} on SIGTERM")

    # -- the states cases start from

    def discover(self):
        """Both rollers found (LE, the roller's service), discovery stopped."""
        adapter = iface(HCI, ADAPTER)
        since = ctx.rec.mark()
        adapter.SetDiscoveryFilter(dbus.Dictionary(
            {"Transport": "le", "UUIDs": dbus.Array([SVC], signature="s")}, signature="sv"))
        adapter.StartDiscovery()
        wait_until(lambda: {D1, D2} <= {e[1] for e in ctx.rec.of_kind(since, "added")},
                   "both rollers discovered")
        adapter.StopDiscovery()
        wait_until(lambda: False in ctx.rec.changes(since, HCI, ADAPTER, "Discovering"),
                   "Discovering false")

    def pair(self, dev=D1):
        """dev paired and connected, its services resolved; its characteristics."""
        since = ctx.rec.mark()
        iface(dev, DEVICE).Pair()
        wait_connected(dev, since)
        settle()
        return find_chars(dev)

    def paired(self):
        """Roller 1 discovered, paired and connected: ctx.chars."""
        self.discover()
        ctx.chars = self.pair(D1)
        return ctx.chars

    def subscribed(self):
        """paired(), the Control Point and Status subscribed, Roll
        Measurement acquired (ctx.reader) and the clock set."""
        c = self.paired()
        iface(c[CONTROL], CHAR).StartNotify()
        iface(c[STATUS], CHAR).StartNotify()
        acquire(c)
        set_time(c)
        return c

    def streamed(self, count=6):
        """subscribed(), then count frames or more streamed and stopped; the frames."""
        c = self.subscribed()
        assert control(c, b"\x02\xc8") == b"\x80\x02\x00"
        wait_until(lambda: len(ctx.reader.packets) >= count, f"{count} frames")
        assert control(c, b"\x03") == b"\x80\x03\x00"
        ctx.reader.drain()
        return ctx.reader.frames()

    def acked_mid(self):
        """Frames streamed, the first half acknowledged: ctx.after_mid holds
        the frames still stored."""
        self.streamed()
        c = ctx.chars
        ctx.reader.drain()
        frames = ctx.reader.frames()
        check_seq_run(frames)
        assert stored(A1) == len(frames), (stored(A1), len(frames))
        assert roller_stat(A1, "frames-produced") == len(frames)
        mid = frames[len(frames) // 2]["seq"]
        assert ack(c, mid) == b"\x80\x05\x00"
        assert stored(A1) == len(frames) - len(frames) // 2 - 1
        assert roller_stat(A1, "acked-seq") == mid
        ctx.after_mid = [f for f in frames if f["seq"] > mid]


class Bluetoothd(EmulatorCase):
    """The fake bluetoothd: objects, agents, discovery, pairing, power."""

    def test_object_tree(self):
        objs = managed()
        assert DEVICE not in str(objs), "no device before discovery (nothing paired)"
        assert "org.bluez.AgentManager1" in objs["/org/bluez"]
        a = objs[HCI][ADAPTER]
        assert a["Powered"] is not None and bool(a["Powered"])
        assert not bool(a["Discovering"])
        assert len(str(a["Address"])) == 17
        assert "/org/bluez/hci0" not in objs, "the adapter index is not 0"
        intro = iface(HCI, "org.freedesktop.DBus.Introspectable").Introspect()
        assert "SetDiscoveryFilter" in intro

    def test_agent(self):
        am = iface("/org/bluez", "org.bluez.AgentManager1")
        expect_error("org.bluez.Error.InvalidArguments", am.RegisterAgent,
                     dbus.ObjectPath("/test/agent"), "Telepathy")
        am.RegisterAgent(dbus.ObjectPath("/test/agent"), "NoInputNoOutput")
        expect_error("org.bluez.Error.AlreadyExists", am.RegisterAgent,
                     dbus.ObjectPath("/test/agent"), "NoInputNoOutput")
        am.RequestDefaultAgent(dbus.ObjectPath("/test/agent"))
        expect_error("org.bluez.Error.DoesNotExist", am.UnregisterAgent,
                     dbus.ObjectPath("/test/other"))

    def test_discovery(self):
        adapter = iface(HCI, ADAPTER)
        since = ctx.rec.mark()
        expect_error("org.bluez.Error.InvalidArguments", adapter.SetDiscoveryFilter,
                     dbus.Dictionary({"Transport": "radio"}, signature="sv"))
        # A filter that matches nothing: nothing appears.
        adapter.SetDiscoveryFilter(dbus.Dictionary({"Transport": "bredr"}, signature="sv"))
        adapter.SetDiscoveryFilter(dbus.Dictionary(
            {"Transport": "le", "UUIDs": dbus.Array([SVC], signature="s")}, signature="sv"))
        adapter.StartDiscovery()
        wait_until(lambda: {D1, D2} <= {e[1] for e in ctx.rec.of_kind(since, "added")},
                   "both rollers discovered")
        assert True in ctx.rec.changes(since, HCI, ADAPTER, "Discovering")
        expect_error("org.bluez.Error.InProgress", adapter.StartDiscovery)
        d = iface(D1, PROPS).GetAll(DEVICE)
        assert d["Address"] == A1 and d["AddressType"] == "random"
        assert d["Name"] == "DermaRoller" and d["Alias"] == "DermaRoller"
        assert SVC in [str(u) for u in d["UUIDs"]]
        assert -100 < int(d["RSSI"]) < 0
        assert d["Adapter"] == HCI
        assert not d["Paired"] and not d["Connected"] and not d["ServicesResolved"]
        assert SVC in d["ServiceData"] and 0xFFFF in d["ManufacturerData"]
        assert prop(D2, DEVICE, "Name") == "Second"
        since = ctx.rec.mark()
        adapter.StopDiscovery()
        wait_until(lambda: ctx.rec.invalidated(since, D1, "RSSI"), "RSSI invalidated")
        wait_until(lambda: False in ctx.rec.changes(since, HCI, ADAPTER, "Discovering"),
                   "Discovering false")
        expect_error("org.bluez.Error.Failed", adapter.StopDiscovery)
        expect_error("org.freedesktop.DBus.Error.InvalidArgs", prop, D1, DEVICE, "RSSI")

    def test_pair_connect(self):
        self.discover()
        dev = iface(D1, DEVICE)
        since = ctx.rec.mark()
        dev.Pair()
        assert bool(prop(D1, DEVICE, "Paired")) and bool(prop(D1, DEVICE, "Connected"))
        expect_error("org.bluez.Error.AlreadyExists", dev.Pair)
        iface(D1, PROPS).Set(DEVICE, "Trusted", dbus.Boolean(True, variant_level=1))
        wait_until(lambda: True in ctx.rec.changes(since, D1, DEVICE, "Trusted"), "Trusted true")
        wait_connected(D1, since)
        dev.Connect()  # already connected: success, as bluetoothd answers
        chars = find_chars(D1)
        assert set(chars) >= {MEASUREMENT, HEAD_INFO, CONTROL, STATUS, BATTERY_LEVEL, MANUFACTURER}
        objs = managed()
        s = objs[D1 + "/service0001"][SERVICE]
        assert s["UUID"] == SVC and bool(s["Primary"]) and s["Device"] == D1
        m = objs[chars[MEASUREMENT]][CHAR]
        assert list(m["Flags"]) == ["notify"] and not m["Notifying"] and not m["NotifyAcquired"]
        assert m["Service"] == D1 + "/service0001"
        assert list(objs[chars[CONTROL]][CHAR]["Flags"]) == ["write", "indicate"]
        descs = [p for p, i in objs.items() if DESC in i and str(p).startswith(chars[MEASUREMENT])]
        assert len(descs) == 1 and objs[descs[0]][DESC]["UUID"] == CCCD

    def test_second_roller(self):
        c = self.paired()
        acquire(c)
        since = ctx.rec.mark()
        iface(D2, DEVICE).Pair()
        wait_connected(D2, since)
        c2 = find_chars(D2)
        head = to_bytes(iface(c2[HEAD_INFO], CHAR).ReadValue(EMPTY))
        assert proto.decode_head_info(head)[6] == HEAD_ID + 1
        since = ctx.rec.mark()
        emu().DropLink(A1)
        wait_until(lambda: False in ctx.rec.changes(since, D1, DEVICE, "Connected"), "roller 1 down")
        assert bool(prop(D2, DEVICE, "Connected"))

    def test_powered_off(self):
        self.paired()
        self.pair(D2)
        since = ctx.rec.mark()
        iface(HCI, PROPS).Set(ADAPTER, "Powered", dbus.Boolean(False, variant_level=1))
        wait_until(lambda: False in ctx.rec.changes(since, D2, DEVICE, "Connected"),
                   "links drop with the power")
        expect_error("org.bluez.Error.NotReady", iface(D1, DEVICE).Connect)
        expect_error("org.bluez.Error.NotReady", iface(HCI, ADAPTER).StartDiscovery)
        iface(HCI, PROPS).Set(ADAPTER, "Powered", dbus.Boolean(True, variant_level=1))
        emu().FailConnect(A1, dbus.UInt32(1), "Failed", "le-connection-abort-by-local")
        expect_error("org.bluez.Error.Failed", iface(D1, DEVICE).Connect)
        # Hold the first Connect open, so the second surely meets it.
        emu().HoldOperations(A1, True)
        first = call_async(iface(D1, DEVICE).Connect)
        wait_until(lambda: roller_stat(A1, "connect-pending"), "the first Connect under way")
        second = call_async(iface(D1, DEVICE).Connect)
        wait_until(lambda: len(second), "the second Connect answered")
        assert not first, first
        emu().HoldOperations(A1, False)
        wait_until(lambda: len(first), "the first Connect answered")
        assert "ok" in first and second["error"].get_dbus_name() == "org.bluez.Error.InProgress"
        iface(D1, DEVICE).Disconnect()

    def test_remove_device(self):
        self.discover()
        self.pair(D2)
        iface(D2, DEVICE).Disconnect()
        since = ctx.rec.mark()
        iface(HCI, ADAPTER).RemoveDevice(dbus.ObjectPath(D2))
        wait_until(lambda: (D2, [DEVICE, "org.bluez.Battery1"])
                   in [(e[1], e[2]) for e in ctx.rec.of_kind(since, "removed")], "InterfacesRemoved")
        expect_error("org.bluez.Error.DoesNotExist", iface(HCI, ADAPTER).RemoveDevice,
                     dbus.ObjectPath(D2))

    def test_restart(self):
        iface("/org/bluez", "org.bluez.AgentManager1").RegisterAgent(
            dbus.ObjectPath("/test/agent"), "NoInputNoOutput")
        self.paired()
        before = stored(A1)
        old = ctx.bus.get_name_owner(BLUEZ)
        since = ctx.rec.mark()
        emu().Restart(dbus.UInt32(300))
        wait_until(lambda: [e for e in ctx.rec.of_kind(since, "owner") if e[1] == old and e[2] == ""],
                   "org.bluez gone")
        wait_until(lambda: [e for e in ctx.rec.of_kind(since, "owner") if e[1] == "" and e[2]],
                   "org.bluez back")
        new = ctx.bus.get_name_owner(BLUEZ)
        assert new != old
        read_line(ctx.emu_proc, "RESTARTED ")
        objs = managed()
        assert bool(objs[D1][DEVICE]["Paired"]) and not bool(objs[D1][DEVICE]["Connected"])
        assert D2 not in objs, "an unpaired device is forgotten"
        assert stored(A1) == before, "the roller's memory survives bluetoothd"
        assert emu().Stats()["bluez-name"] == new
        # Agents died with bluetoothd: registering again is not AlreadyExists.
        iface("/org/bluez", "org.bluez.AgentManager1").RegisterAgent(
            dbus.ObjectPath("/test/agent"), "NoInputNoOutput")

    def test_adapter_comes_back_renumbered(self):
        self.paired()
        since = ctx.rec.mark()
        emu().RemoveAdapter()
        wait_until(lambda: {HCI, D1} <= {e[1] for e in ctx.rec.of_kind(since, "removed")},
                   "adapter and device removed")
        emu().AddAdapter(dbus.UInt32(5))
        objs = managed()
        assert ADAPTER in objs["/org/bluez/hci5"] and HCI not in objs
        d = objs["/org/bluez/hci5/dev_C0_FF_EE_00_00_01"][DEVICE]
        assert bool(d["Paired"]) and d["Adapter"] == "/org/bluez/hci5"


class Gatt(EmulatorCase):
    """The roller's GATT server: reads, notifications, the Control Point."""

    def test_reads(self):
        c = self.paired()
        head = to_bytes(iface(c[HEAD_INFO], CHAR).ReadValue(EMPTY))
        assert proto.decode_head_info(head) == (1, 500, 192, 1500, 2000, 64, HEAD_ID), head.hex()
        tail = to_bytes(iface(c[HEAD_INFO], CHAR).ReadValue(
            dbus.Dictionary({"offset": dbus.UInt16(5)}, signature="sv")))
        assert tail == head[5:]
        expect_error("org.bluez.Error.InvalidOffset", iface(c[HEAD_INFO], CHAR).ReadValue,
                     dbus.Dictionary({"offset": dbus.UInt16(16)}, signature="sv"))
        expect_error("org.bluez.Error.NotPermitted", iface(c[MEASUREMENT], CHAR).ReadValue, EMPTY)
        expect_error("org.bluez.Error.NotPermitted", iface(c[HEAD_INFO], CHAR).WriteValue,
                     ay(b"\x01"), EMPTY)
        assert to_bytes(iface(c[BATTERY_LEVEL], CHAR).ReadValue(EMPTY)) == b"\x57"
        assert to_bytes(iface(c[MANUFACTURER], CHAR).ReadValue(EMPTY)).decode()
        assert to_bytes(iface(c[STATUS], CHAR).ReadValue(EMPTY)) == bytes([1, 0, 0, 0, 0])
        # One GATT operation at a time per device: the second answers InProgress.
        # The first is held open, so the second surely meets it.
        emu().HoldOperations(A1, True)
        first = call_async(iface(c[HEAD_INFO], CHAR).ReadValue, EMPTY)
        wait_until(lambda: roller_stat(A1, "gatt-op-pending"), "the first read under way")
        second = call_async(iface(c[STATUS], CHAR).ReadValue, EMPTY)
        wait_until(lambda: len(second), "the second read answered")
        assert not first, first
        emu().HoldOperations(A1, False)
        wait_until(lambda: len(first), "the first read answered")
        assert "ok" in first, first
        assert second["error"].get_dbus_name() == "org.bluez.Error.InProgress", second

    def test_acquire_and_stream(self):
        c = self.paired()
        since = ctx.rec.mark()
        iface(c[CONTROL], CHAR).StartNotify()
        expect_error("org.bluez.Error.InProgress", iface(c[CONTROL], CHAR).StartNotify)
        iface(c[STATUS], CHAR).StartNotify()
        fd, mtu = iface(c[MEASUREMENT], CHAR).AcquireNotify(EMPTY)
        assert mtu == 247
        ctx.reader = FdReader(fd.take(), int(mtu))
        wait_until(lambda: True in ctx.rec.changes(since, c[MEASUREMENT], CHAR, "NotifyAcquired"),
                   "NotifyAcquired true")
        expect_error("org.bluez.Error.NotPermitted", iface(c[MEASUREMENT], CHAR).StartNotify)
        expect_error("org.bluez.Error.NotPermitted", iface(c[MEASUREMENT], CHAR).AcquireNotify, EMPTY)
        desc = c[MEASUREMENT] + "/desc0004"
        assert to_bytes(iface(desc, DESC).ReadValue(EMPTY)) == b"\x01\x00"

        # Rejected requests: unknown opcode, bad length, rate 0, empty, no-response.
        assert control(c, b"\x7f") == b"\x80\x7f\x01"
        assert control(c, b"\x02") == b"\x80\x02\x02"
        assert control(c, b"\x02\x00") == b"\x80\x02\x02"
        expect_error("org.bluez.Error.InvalidValueLength", iface(c[CONTROL], CHAR).WriteValue,
                     ay(b""), EMPTY)
        expect_error("org.bluez.Error.NotSupported", iface(c[CONTROL], CHAR).WriteValue,
                     ay(b"\x03"), dbus.Dictionary({"type": "command"}, signature="sv"))

        # Before SET_TIME: clock unsynced, t0 in ms since the roller booted.
        assert control(c, b"\x02\xc8") == b"\x80\x02\x00"
        wait_until(lambda: len(ctx.reader.packets) >= 3, "3 frames")
        early = ctx.reader.frames()
        assert all(f["flags"] == 0x02 for f in early), [f["flags"] for f in early]
        assert early[0]["t0"] < 600000
        assert early[0]["seq"] == 0
        now_ms = int(time.time() * 1000)
        assert control(c, proto.encode_control(proto.OP_SET_TIME, now_ms)) == b"\x80\x01\x00"
        n = len(ctx.reader.packets)
        wait_until(lambda: len(ctx.reader.packets) >= n + 5, "5 frames after SET_TIME")
        synced = [f for f in ctx.reader.frames(n) if f["flags"] == 0]
        assert synced, "frames after SET_TIME have bit1 clear"
        assert abs(synced[-1]["t0"] - int(time.time() * 1000)) < 5000
        frames = ctx.reader.frames()
        check_seq_run(frames)
        assert all(1 <= len(f["samples"]) <= 25 for f in frames)
        # Status follows (rolling, frames pending), rate-limited.
        wait_until(lambda: [v for v in ctx.rec.values(since, c[STATUS]) if v[1] == 1 and v[2] > 0],
                   "Status notification: rolling with frames pending")

    def test_ack_erases(self):
        self.acked_mid()   # its assertions are this case's

    def test_request_history(self):
        self.acked_mid()
        c = ctx.chars
        replay = history(c)
        assert len(replay) == len(ctx.after_mid)
        for h, live in zip(replay, ctx.after_mid):
            assert h["flags"] == live["flags"] | 0x01
            assert h["raw"][2:] == live["raw"][2:] and h["seq"] == live["seq"]
        last = replay[-1]["seq"]
        assert ack(c, last) == b"\x80\x05\x00"
        assert stored(A1) == 0
        assert to_bytes(iface(c[STATUS], CHAR).ReadValue(EMPTY)) == bytes([1, 0, 0, 0, 0])
        assert history(c) == []

    def test_lose_frames(self):
        frames = self.streamed()
        c = ctx.chars
        assert ack(c, frames[-1]["seq"]) == b"\x80\x05\x00"
        assert stored(A1) == 0
        emu().LoseFrames(A1, dbus.UInt32(3))
        n = len(ctx.reader.packets)
        assert control(c, b"\x02\xc8") == b"\x80\x02\x00"
        wait_until(lambda: len(ctx.reader.packets) >= n + 6, "frames after the loss")
        assert control(c, b"\x03") == b"\x80\x03\x00"
        ctx.reader.drain()
        live = ctx.reader.frames(n)
        gaps = [(a["seq"], b["seq"]) for a, b in zip(live, live[1:])
                if b["seq"] != (a["seq"] + 1) & 0xFFFF]
        assert roller_stat(A1, "frames-lost") == 3
        # The first 3 frames of the stream were lost: the run starts 3 later.
        assert gaps == [], gaps
        assert live[0]["seq"] == (frames[-1]["seq"] + 4) & 0xFFFF, live[0]["seq"]
        replay = history(c)
        assert [f["seq"] for f in replay] == [f["seq"] for f in live]
        assert ack(c, live[-1]["seq"]) == b"\x80\x05\x00"

    def test_lose_on_air(self):
        frames = self.streamed()
        c = ctx.chars
        assert ack(c, frames[-1]["seq"]) == b"\x80\x05\x00"
        assert stored(A1) == 0
        # One in 3, seeded: lost on the air, kept in the roller's memory.
        assert emu().LoseOnAir(A1, dbus.UInt32(3), dbus.UInt32(7)) == 7
        n = len(ctx.reader.packets)
        assert control(c, b"\x02\xc8") == b"\x80\x02\x00"
        wait_until(lambda: len(ctx.reader.packets) >= n + 9, "frames with some lost on air")
        assert control(c, b"\x03") == b"\x80\x03\x00"
        ctx.reader.drain()
        emu().LoseOnAir(A1, dbus.UInt32(0), dbus.UInt32(0))
        live = ctx.reader.frames(n)
        first = (frames[-1]["seq"] + 1) & 0xFFFF
        made = (roller_stat(A1, "next-seq") - first) & 0xFFFF
        heard = {f["seq"] for f in live}
        missing = [(first + i) & 0xFFFF for i in range(made) if (first + i) & 0xFFFF not in heard]
        assert roller_stat(A1, "frames-lost-on-air") == len(missing) > 0, missing
        assert roller_stat(A1, "frames-lost") == 0
        # Every frame made is still in memory, and the replay brings them all.
        assert stored(A1) == made
        replay = history(c)
        assert [f["seq"] for f in replay] == [(first + i) & 0xFFFF for i in range(made)]
        assert ack(c, replay[-1]["seq"]) == b"\x80\x05\x00"
        assert stored(A1) == 0

    def test_malformed(self):
        self.subscribed()
        n = len(ctx.reader.packets)
        emu().SendMalformed(A1, ay(b"\x01\x02\x03"))
        wait_until(lambda: len(ctx.reader.packets) > n, "the malformed notification")
        assert ctx.reader.packets[n] == b"\x01\x02\x03"

    def test_start_notify_path(self):
        c = self.subscribed()
        m = c[MEASUREMENT]
        since = ctx.rec.mark()
        ctx.reader.close()
        ctx.reader = None
        wait_until(lambda: False in ctx.rec.changes(since, m, CHAR, "NotifyAcquired"),
                   "NotifyAcquired false after close")
        iface(m, CHAR).StartNotify()
        assert bool(prop(m, CHAR, "Notifying"))
        expect_error("org.bluez.Error.NotPermitted", iface(m, CHAR).AcquireNotify, EMPTY)
        since = ctx.rec.mark()
        assert control(c, b"\x02\xc8") == b"\x80\x02\x00"
        wait_until(lambda: len(ctx.rec.values(since, m)) >= 5, "5 frames as PropertiesChanged")
        assert control(c, b"\x03") == b"\x80\x03\x00"
        frames = [decode_frame(v) for v in ctx.rec.values(since, m)]
        check_seq_run(frames)
        assert all(f["flags"] == 0 for f in frames)
        assert ack(c, frames[-1]["seq"]) == b"\x80\x05\x00"
        assert stored(A1) == 0
        iface(m, CHAR).StopNotify()
        assert not bool(prop(m, CHAR, "Notifying"))
        expect_error("org.bluez.Error.Failed", iface(m, CHAR).StopNotify)


class Faults(EmulatorCase):
    """org.dermaroll.Emulator1's link faults."""

    def test_drop_link_recovers(self):
        frames = self.streamed()
        c = ctx.chars
        last_acked = frames[-1]["seq"]
        assert ack(c, last_acked) == b"\x80\x05\x00"
        before = len(ctx.reader.packets)
        assert control(c, b"\x02\xc8") == b"\x80\x02\x00"
        wait_until(lambda: len(ctx.reader.packets) >= 3, "frames before the loss")
        since = ctx.rec.mark()
        emu().DropLink(A1)
        wait_until(lambda: ctx.reader.hup, "fd hang-up")
        wait_until(lambda: False in ctx.rec.changes(since, D1, DEVICE, "Connected"), "Connected false")
        assert False in ctx.rec.changes(since, D1, DEVICE, "ServicesResolved")
        assert c[MEASUREMENT] in [e[1] for e in ctx.rec.of_kind(since, "removed")]
        assert c[MEASUREMENT] not in managed()
        live = ctx.reader.frames(before)
        ctx.reader.close()
        ctx.reader = None
        # The roller carries on into its memory while the link is down.
        base = stored(A1)
        wait_until(lambda: stored(A1) >= base + 10, "frames stored while disconnected")
        expect_error("org.bluez.Error.NotConnected", iface(D1, DEVICE).Disconnect)

        since = ctx.rec.mark()
        iface(D1, DEVICE).Connect()
        wait_connected(D1, since)
        c = ctx.chars = find_chars(D1)
        iface(c[CONTROL], CHAR).StartNotify()  # sessions ended with the link
        acquire(c)
        # The stream ended with the link (PROTOCOL.md): the replay comes
        # first, and live frames only after START_STREAM again.
        replay = history(c)
        assert all(f["flags"] & 0x01 for f in replay)
        check_seq_run(replay)
        assert replay[0]["seq"] == (last_acked + 1) & 0xFFFF
        assert len(replay) >= len(live) + 10
        assert [f["raw"][2:] for f in replay[:len(live)]] == [f["raw"][2:] for f in live]
        # Live frames follow the replay, numbered on.
        n = len(ctx.reader.packets)
        assert control(c, b"\x02\xc8") == b"\x80\x02\x00"
        wait_until(lambda: len(ctx.reader.packets) > n, "live frames after the replay")
        assert ctx.reader.frames(n)[0]["flags"] & 0x01 == 0
        assert ctx.reader.frames(n)[0]["seq"] == (replay[-1]["seq"] + 1) & 0xFFFF
        assert control(c, b"\x03") == b"\x80\x03\x00"
        ctx.reader.drain()
        last = ctx.reader.frames()[-1]["seq"]
        assert ack(c, last) == b"\x80\x05\x00"
        assert stored(A1) == 0

    def test_flap_services(self):
        c = self.paired()
        acquire(c)
        settle()
        old = roller_stat(A1, "service-path")
        since = ctx.rec.mark()
        emu().FlapServices(A1)
        wait_until(lambda: ctx.rec.changes(since, D1, DEVICE, "ServicesResolved")[:2] == [False, True],
                   "ServicesResolved true -> false -> true", details=lambda: [e for e in ctx.rec.events[since:] if e[0] != "added"])
        wait_until(lambda: ctx.reader.hup, "fd closed with the old objects")
        ctx.reader.close()
        ctx.reader = None
        assert bool(prop(D1, DEVICE, "Connected"))
        new = roller_stat(A1, "service-path")
        assert new and new != old, (old, new)
        assert old not in managed()
        c = ctx.chars = find_chars(D1)
        assert c[MEASUREMENT].startswith(new + "/")
        acquire(c)
        assert bool(prop(c[MEASUREMENT], CHAR, "NotifyAcquired"))


class NoAcquireNotifyWithHistory(EmulatorCase):
    EMULATOR_ARGS = ["--paired", "--no-acquire-notify", "--history", "5", "--roller", A1]

    def test_no_acquire_notify_with_history(self):
        c = connect_paired(D1)
        m = c[MEASUREMENT]
        assert "NotifyAcquired" not in iface(m, PROPS).GetAll(CHAR)
        expect_error("org.bluez.Error.NotSupported", iface(m, CHAR).AcquireNotify, EMPTY)
        status = to_bytes(iface(c[STATUS], CHAR).ReadValue(EMPTY))
        assert proto.decode_status(status) == (1, 0, 5, 0)
        iface(m, CHAR).StartNotify()
        since = ctx.rec.mark()
        assert control(c, b"\x04") == b"\x80\x04\x00"
        replay = [decode_frame(v) for v in ctx.rec.values(since, m)]
        assert len(replay) == 5 and all(f["flags"] == 0x01 for f in replay)
        check_seq_run(replay)
        assert replay[0]["seq"] == 0
        assert replay[-1]["t0"] < time.time() * 1000 - 3000 * 1000, "recorded an hour ago"


class Rate0SamplesLimit(EmulatorCase):
    EMULATOR_ARGS = ["--paired", "--rate", "0", "--samples", "5000", "--pattern", "pressure"]

    def test_rate0_samples_limit(self):
        c = connect_paired(D1)
        acquire(c)
        assert control(c, b"\x02\x64") == b"\x80\x02\x00"
        wait_until(lambda: sum(len(decode_frame(p)["samples"]) for p in ctx.reader.packets) >= 5000,
                   "5000 samples")
        frames = ctx.reader.frames()
        assert len(frames) == 200 and all(len(f["samples"]) == 25 for f in frames)
        check_seq_run(frames)
        # The timeline is START_STREAM's 100 Hz whatever the pace.
        assert all(dt == 10 for f in frames for dt, *_ in f["samples"][1:])
        # The pressure pattern goes over the 0.5 mm limit (5 N).
        assert max(s[2] for f in frames for s in f["samples"] if s[2] != 0xFFFF) > 5500
        wait_until(lambda: bool(roller_stat(A1, "exhausted")), "idle after --samples")
        assert to_bytes(iface(c[STATUS], CHAR).ReadValue(EMPTY))[1] == 0



class SendLog(EmulatorCase):
    """--send-log: a line per live frame that went out, CLOCK_MONOTONIC
    before its send and its bytes; replayed frames are not live."""
    EMULATOR_ARGS = None

    def test_send_log(self):
        log = os.path.join(ctx.tmpdir, "sent.log")
        start_emulator("--paired", "--rate", "0", "--samples", "500", "--history", "3",
                       "--roller", A1, "--send-log", log)
        c = connect_paired(D1)
        acquire(c)
        assert len(history(c)) == 3
        before_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        assert control(c, b"\x02\x64") == b"\x80\x02\x00"
        wait_until(lambda: roller_stat(A1, "exhausted") and roller_stat(A1, "out-queued") == 0,
                   "500 samples sent")
        ctx.reader.drain()
        live = ctx.reader.packets[3:]
        after_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        with open(log, encoding="ascii") as f:
            lines = [line.split() for line in f]
        assert len(live) == 20 == roller_stat(A1, "frames-sent"), (len(live), len(lines))
        assert [bytes.fromhex(hexframe) for _t, _a, hexframe in lines] == live
        assert {a for _t, a, _h in lines} == {A1}
        times = [int(t) for t, _a, _h in lines]
        assert times == sorted(times) and before_us <= times[0] and times[-1] <= after_us, \
            (before_us, times[0], times[-1], after_us)


TRACE_SAMPLES = [
    [(0, 100, 1200, 0), (10, 104, 2500, 0), (10, 109, 3100, 0)],
    [(0, 113, 0xFFFF, 1), (10, 118, 2900, 1)],
    [(0, 4294967290, 4000, 0xFF)],
]


def trace_frames():
    frames, t0 = [], 1700000000000
    for seq, samples in enumerate(TRACE_SAMPLES):
        frames.append(proto.encode_frame(seq, t0, samples))
        t0 += 10 * len(samples)
    return frames


class Trace(EmulatorCase):
    """--trace: recorded frames played back, binary and hex."""

    EMULATOR_ARGS = None   # started on the trace the case writes

    def play_trace(self, path):
        start_emulator("--paired", "--rate", "0", "--trace", path)
        c = connect_paired(D1)
        acquire(c)
        assert control(c, b"\x02\x64") == b"\x80\x02\x00"
        want = [s[1:] for f in TRACE_SAMPLES for s in f]
        wait_until(lambda: sum(len(decode_frame(p)["samples"]) for p in ctx.reader.packets)
                   >= len(want), "the trace's samples")
        wait_until(lambda: bool(roller_stat(A1, "exhausted")), "idle at the end of the trace")
        got = [s[1:] for f in ctx.reader.frames() for s in f["samples"]]
        assert got == want, got

    def test_trace_binary(self):
        frames = trace_frames()
        head = proto.encode_head_info(500, 192, 1500, 2000, 64, 7)
        path = os.path.join(ctx.tmpdir, "t.trace")
        with open(path, "wb") as f:
            f.write(b"DRTRACE1")
            for rec in [head, frames[0], frames[1][:-1], frames[1], frames[2]]:
                f.write(len(rec).to_bytes(2, "little") + rec)   # u16 length, then the record
        self.play_trace(path)

    def test_trace_hex(self):
        path = os.path.join(ctx.tmpdir, "t.hex")
        with open(path, "w") as f:
            f.write("# one frame per line\n")
            for b in trace_frames():
                f.write(" ".join(f"{x:02x}" for x in b) + "\n")
        self.play_trace(path)


def main():
    global EMULATOR, DBUS_DAEMON
    if len(sys.argv) < 3:
        sys.exit(f"usage: {sys.argv[0]} ROLLER_EMULATOR DBUS_DAEMON [unittest arguments]")
    EMULATOR, DBUS_DAEMON = sys.argv[1], sys.argv[2]
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)


if __name__ == "__main__":
    main()
