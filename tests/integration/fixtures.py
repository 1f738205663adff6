# SPDX-License-Identifier: LGPL-2.1-or-later
'''Integration fixtures: private buses, dbusmock bluetoothd with a roller,
logind, the real dermarolld, and a signal recorder.

Every process is spawned here and killed by its pid: in the test's cleanups
(success or failure), at interpreter exit, and by the kernel if this process
dies first (PR_SET_PDEATHSIG). Each test gets its own temporary directory with
the buses' sockets, the daemon's database and config, and every log; the logs
and D-Bus traffic (dbus-monitor) are printed when a test fails, and the
directory is kept when DERMAROLL_KEEP_TMP is set.

Waits never sleep a fixed time: they run the GLib main loop until a predicate
holds or a timeout expires.

Run with Debian's interpreter: /usr/bin/python3 (python3-dbusmock, python3-gi).
'''

import atexit
import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

import gi
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# fixtures.py here, dbus_private.py in tests/, the codec in protocol/.
sys.path[:0] = [HERE, os.path.dirname(HERE), os.path.join(HERE, '..', '..', 'protocol')]
import dbus_private  # noqa: E402
import roller_protocol as proto  # noqa: E402

PYTHON = '/usr/bin/python3'

# Under valgrind (meson test --setup=valgrind) the daemon runs ~20 times
# slower: every wait and call timeout here is scaled by this factor, which
# that setup sets. Waits are on conditions, so a larger factor costs nothing
# when things go right.
TIMEOUT_FACTOR = float(os.environ.get('DERMAROLL_TEST_TIMEOUT_FACTOR') or 1)
# A command line the daemon is started through (the valgrind setup's
# valgrind --error-exitcode=...); its own exit status is what is checked.
DAEMON_WRAPPER = shlex.split(os.environ.get('DERMAROLL_TEST_WRAPPER', ''))
TEMPLATE = os.path.join(HERE, 'bluez_roller_template.py')

BLUEZ = 'org.bluez'
BLUEZ_SETUP = 'org.dermaroll.test.BluezSetup'
MOCK_IFACE = 'org.freedesktop.DBus.Mock'
BLUEZ_MOCK_IFACE = 'org.bluez.Mock'
TEST_BLUEZ_IFACE = 'org.dermaroll.test.Bluez'
TEST_ROLLER_IFACE = 'org.dermaroll.test.Roller'
DEVICE_IFACE = 'org.bluez.Device1'
ADAPTER_IFACE = 'org.bluez.Adapter1'
CHRC_IFACE = 'org.bluez.GattCharacteristic1'
PROPS_IFACE = 'org.freedesktop.DBus.Properties'
OM_IFACE = 'org.freedesktop.DBus.ObjectManager'

DERMAROLL = 'org.dermaroll'
MANAGER_PATH = '/org/dermaroll'
MANAGER_IFACE = 'org.dermaroll.Manager1'
ROLLER_IFACE = 'org.dermaroll.Roller1'

LOGIND = 'org.freedesktop.login1'
LOGIND_PATH = '/org/freedesktop/login1'
LOGIND_IFACE = 'org.freedesktop.login1.Manager'


def roller_object_path(address):
    return '/org/dermaroll/roller/' + address.replace(':', '_')


def now_ms():
    return int(time.time() * 1000)


# Processes


class Processes:
    '''Every child of the suite, by pid.'''

    live = {}   # pid -> (name, Popen), over all tests: atexit kills what is left

    @classmethod
    def spawn(cls, name, argv, env, log_path, stdout=None):
        log = open(log_path, 'ab')   # noqa: SIM115 - the child keeps it
        try:
            proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                    stdout=stdout if stdout is not None else log,
                                    stderr=log, preexec_fn=dbus_private.die_with_parent)
        finally:
            log.close()
        proc.dermaroll_name = name
        proc.log_path = log_path
        cls.live[proc.pid] = (name, proc)
        return proc

    @classmethod
    def stop(cls, proc, sig=signal.SIGTERM, timeout=5.0):
        '''Signals proc by pid, waits; SIGKILL when it does not go. Returns
        its exit status (negative: killed by that signal).'''
        dbus_private.stop_pid(proc, sig, timeout)
        cls.live.pop(proc.pid, None)
        if proc.stdout:
            proc.stdout.close()
        return proc.returncode

    @classmethod
    def kill_all(cls):
        for pid, (_, proc) in list(cls.live.items()):
            cls.stop(proc, signal.SIGKILL)


atexit.register(Processes.kill_all)
# meson's timeout sends SIGTERM: leave through the normal exit path so that
# atexit still kills every child.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


# D-Bus helpers


def connect(address):
    return Gio.DBusConnection.new_for_address_sync(
        address,
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
        None, None)


def call(conn, dest, path, iface, method, sig=None, args=None, timeout=10.0, reply=None):
    '''A synchronous call; returns the unpacked reply tuple (or the single
    value when the reply has one element).'''
    params = GLib.Variant(sig, tuple(args)) if sig else None
    rtype = GLib.VariantType.new(reply) if reply else None
    res = conn.call_sync(dest, path, iface, method, params, rtype, Gio.DBusCallFlags.NONE,
                         int(timeout * TIMEOUT_FACTOR * 1000), None)
    if res is None:
        return None
    out = res.unpack()
    return out[0] if len(out) == 1 else (out if out else None)


def call_variant(conn, dest, path, iface, method, sig=None, args=None, timeout=10.0):
    '''Like call, but returns the reply GVariant untouched (for type checks).'''
    params = GLib.Variant(sig, tuple(args)) if sig else None
    return conn.call_sync(dest, path, iface, method, params, None, Gio.DBusCallFlags.NONE,
                          int(timeout * TIMEOUT_FACTOR * 1000), None)


def dbus_error(exc):
    '''(error name, message) of a GLib.Error that came over D-Bus.'''
    name = Gio.DBusError.get_remote_error(exc)
    message = exc.message
    prefix = f'GDBus.Error:{name}: '
    if name and message.startswith(prefix):
        message = message[len(prefix):]
    return name, message


def get_prop(conn, dest, path, iface, name):
    return call(conn, dest, path, PROPS_IFACE, 'Get', '(ss)', (iface, name))


def get_all(conn, dest, path, iface):
    return call(conn, dest, path, PROPS_IFACE, 'GetAll', '(s)', (iface,))


def name_has_owner(conn, name):
    return call(conn, 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                'NameHasOwner', '(s)', (name,))


def pump(timeout=0.0):
    '''Runs the default main context for up to timeout seconds.'''
    ctx = GLib.MainContext.default()
    deadline = time.monotonic() + timeout
    while True:
        while ctx.pending():
            ctx.iteration(False)
        left = deadline - time.monotonic()
        if left <= 0:
            return
        fired = []
        src = GLib.timeout_add(max(1, int(left * 1000)), lambda: fired.append(1) or False)
        ctx.iteration(True)
        if not fired:
            GLib.source_remove(src)


def wait_until(predicate, timeout, what, details=None, poll_ms=20):
    '''Runs the main loop until predicate() is truthy; returns its value.
    The predicate is evaluated after every dispatched event and every
    poll_ms (for state outside D-Bus, e.g. a database or a process).'''
    ctx = GLib.MainContext.default()
    timeout *= TIMEOUT_FACTOR
    deadline = time.monotonic() + timeout
    ticks = []
    src = GLib.timeout_add(poll_ms, lambda: ticks.append(1) or True)
    try:
        while True:
            while ctx.pending():
                ctx.iteration(False)
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                extra = ''
                if details is not None:
                    extra = '\n' + str(details() if callable(details) else details)
                raise AssertionError(f'timed out after {timeout:.1f} s waiting for {what}{extra}')
            ctx.iteration(True)
    finally:
        GLib.source_remove(src)


# Signal recorder


class Signal:
    __slots__ = ('time', 'sender', 'path', 'iface', 'member', 'args', 'variant')

    def __init__(self, sender, path, iface, member, params):
        self.time = time.monotonic()
        self.sender = sender
        self.path = path
        self.iface = iface
        self.member = member
        self.variant = params
        self.args = params.unpack() if params is not None else ()

    def __repr__(self):
        args = repr(self.args)
        if len(args) > 300:
            args = args[:300] + '...'
        return f'{self.member}@{self.path} {args}'


class Recorder:
    '''Records signals on a connection (filtered like a match rule) and
    waits on the GLib main loop for a predicate over them.'''

    def __init__(self, conn, sender=None, iface=None, member=None, path=None, arg0=None):
        self.conn = conn
        self.signals = []
        self.callbacks = []
        self._id = conn.signal_subscribe(sender, iface, member, path, arg0,
                                         Gio.DBusSignalFlags.NONE, self._on_signal)

    def _on_signal(self, conn, sender, path, iface, member, params):
        sig = Signal(sender, path, iface, member, params)
        self.signals.append(sig)
        for cb in list(self.callbacks):
            cb(sig)

    def close(self):
        if self._id:
            self.conn.signal_unsubscribe(self._id)
            self._id = 0

    def mark(self):
        """Index of the next signal, after dispatching what already arrived."""
        ctx = GLib.MainContext.default()
        while ctx.pending():
            ctx.iteration(False)
        return len(self.signals)

    def find(self, member=None, path=None, iface=None, since=0, where=None):
        return [s for s in self.signals[since:]
                if (member is None or s.member == member)
                and (path is None or s.path == path)
                and (iface is None or s.iface == iface)
                and (where is None or where(s))]

    def wait_for(self, predicate, timeout=10.0, what='a signal'):
        return wait_until(predicate, timeout, what, details=self.dump)

    def wait_signal(self, member, path=None, since=0, timeout=10.0, where=None, count=1):
        '''Waits for count signals named member; returns them.'''
        def ready():
            found = self.find(member, path, since=since, where=where)
            return found if len(found) >= count else None
        return self.wait_for(ready, timeout, f'{count} × {member} on {path or "any path"}')

    def dump(self, last=40):
        lines = [f'  {s.time:.3f} {s!r}' for s in self.signals[-last:]]
        return 'last signals recorded:\n' + ('\n'.join(lines) if lines else '  (none)')


# Buses


class PrivateBus(dbus_private.PrivateBus):
    '''tests/dbus_private.py's bus, with a Gio connection of the test's own.'''

    def __init__(self, kind, tmpdir):
        super().__init__(tmpdir, kind)
        self.conn = connect(self.address)

    def stop(self):
        self.conn.close_sync(None)
        return super().stop()


class Monitor:
    '''dbus-monitor on a bus, into a log file (printed when a test fails).'''

    def __init__(self, bus, tmpdir):
        self.log_path = os.path.join(tmpdir, f'dbus-monitor-{bus.kind}.log')
        self.proc = Processes.spawn(f'dbus-monitor ({bus.kind})',
                                    ['dbus-monitor', '--address', bus.address, '--monitor'],
                                    dict(os.environ), self.log_path)


def wait_for_name(conn, name, timeout=10.0, proc=None):
    '''Waits until name has an owner on conn's bus (process must stay alive).'''
    owned = []

    def appeared(*_):
        owned.append(True)

    watch = Gio.bus_watch_name_on_connection(conn, name, Gio.BusNameWatcherFlags.NONE,
                                             appeared, None)
    try:
        def ready():
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f'{proc.dermaroll_name} exited with {proc.returncode} before '
                                     f'{name} appeared; log:\n{tail(proc.log_path)}')
            return bool(owned)
        wait_until(ready, timeout, f'{name} to appear on the bus')
    finally:
        Gio.bus_unwatch_name(watch)


def wait_for_name_gone(conn, name, timeout=10.0):
    wait_until(lambda: not name_has_owner(conn, name), timeout, f'{name} to leave the bus')


def tail(path, lines=80):
    try:
        with open(path, 'rb') as f:
            data = f.read().decode('utf-8', 'replace').splitlines()
    except OSError as e:
        return f'({e})'
    return '\n'.join(data[-lines:])


# dbusmock bluetoothd + rollers


class MockRoller:
    '''Test-side handle of a roller inside the dbusmock bluetoothd.'''

    def __init__(self, bluez, path, address):
        self.bluez = bluez
        self.path = path
        self.address = address

    def _call(self, method, sig=None, args=None, reply=None):
        return call(self.bluez.conn, self.bluez.name, self.path, TEST_ROLLER_IFACE, method,
                    sig, args, reply=reply)

    def info(self):
        return self._call('Info')

    def chrc_path(self, uuid):
        return self.info()['Characteristics'][uuid]

    def stored(self):
        return [bytes(f) for f in self._call('Stored')]

    def control_writes(self):
        '''[(unix time, type option, bytes)] of every Control Point write.'''
        return [(t, w, bytes(v)) for t, w, v in self._call('ControlWrites')]

    def control_requests(self):
        '''[(opcode, argument)] of the well-formed Control Point writes.'''
        out = []
        for _, _, value in self.control_writes():
            try:
                out.append(proto.decode_control(value))
            except ValueError:
                out.append((value[0] if value else None, 'malformed:' + value.hex()))
        return out

    def produce(self, frame, store=True):
        return self._call('Produce', '(ayb)', (bytes(frame), store))

    def notify(self, frame, path=None):
        '''Pushes a Roll Measurement notification to the daemon: dbusmock's
        EmitSignal of PropertiesChanged(GattCharacteristic1, {Value: ay}) on
        the Roll Measurement object, as bluetoothd emits it.'''
        path = path or self.chrc_path(proto.UUID_ROLL_MEASUREMENT)
        sigargs = [GLib.Variant('s', CHRC_IFACE),
                   GLib.Variant('a{sv}', {'Value': GLib.Variant('ay', bytes(frame))}),
                   GLib.Variant('as', [])]
        call(self.bluez.conn, self.bluez.name, path, MOCK_IFACE, 'EmitSignal', '(sssav)',
             (PROPS_IFACE, 'PropertiesChanged', 'sa{sv}as', sigargs))

    def push(self, frames, store=True):
        '''The roller produces frames: each is kept in its memory (when store)
        and notified live when the link, the subscription and the stream are
        up. Returns how many went out live.'''
        if isinstance(frames, (bytes, bytearray)):
            frames = [frames]
        sent = 0
        path = None
        for frame in frames:
            if self.produce(frame, store):
                path = path or self.chrc_path(proto.UUID_ROLL_MEASUREMENT)
                self.notify(frame, path)
                sent += 1
        return sent

    def drop_link(self):
        self._call('DropLink')

    def set_connect_errors(self, errors):
        self._call('SetConnectErrors', '(a(ss))', (list(errors),))

    def set_state(self, state, flags=0):
        self._call('SetState', '(yy)', (state, flags))

    def set_flap_gatt(self, flap):
        self._call('SetFlapGatt', '(b)', (flap,))

    def device_props(self):
        return get_all(self.bluez.conn, self.bluez.name, self.path, DEVICE_IFACE)

    def method_calls(self, method, path=None):
        return self.bluez.method_calls(path or self.path, method)


class MockBluez:
    '''A dbusmock process running bluez_roller_template.py on the system bus.'''

    def __init__(self, system_bus, tmpdir, tag='bluez'):
        self.bus = system_bus
        self.conn = system_bus.conn
        self.name = BLUEZ_SETUP
        self.log_path = os.path.join(tmpdir, f'{tag}-dbusmock.log')
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=system_bus.address)
        self.proc = Processes.spawn(tag, [PYTHON, '-m', 'dbusmock', '--system', '-l', self.log_path,
                                          '-t', TEMPLATE],
                                    env, os.path.join(tmpdir, f'{tag}-dbusmock.stderr'))
        wait_for_name(self.conn, BLUEZ_SETUP, proc=self.proc)
        self.rollers = []

    def call(self, path, iface, method, sig=None, args=None, reply=None):
        return call(self.conn, self.name, path, iface, method, sig, args, reply=reply)

    def add_adapter(self, name='hci2', alias='dermaroll-test'):
        return self.call('/', BLUEZ_MOCK_IFACE, 'AddAdapter', '(ss)', (name, alias))

    def add_roller(self, adapter, address, **options):
        '''options: Name, HeadInfo (bytes), Battery, Firmware, Manufacturer,
        Model, Serial, StoredFrames ([bytes]), Paired, Trusted, PairConnects,
        RequireAgent, FlapGatt, State, StatusFlags.'''
        variants = {}
        for key, value in options.items():
            if isinstance(value, bool):
                variants[key] = GLib.Variant('b', value)
            elif isinstance(value, int):
                variants[key] = GLib.Variant('u', value)
            elif isinstance(value, (bytes, bytearray)):
                variants[key] = GLib.Variant('ay', bytes(value))
            elif isinstance(value, str):
                variants[key] = GLib.Variant('s', value)
            elif isinstance(value, list):
                variants[key] = GLib.Variant('aay', [bytes(v) for v in value])
            else:
                raise TypeError(f'{key}: {value!r}')
        path = self.call('/', TEST_BLUEZ_IFACE, 'AddRoller', '(ssa{sv})', (adapter, address, variants))
        roller = MockRoller(self, path, address)
        self.rollers.append(roller)
        return roller

    def claim(self):
        '''bluetoothd is up: the mock takes org.bluez.'''
        self.call('/', TEST_BLUEZ_IFACE, 'ClaimBusName')
        wait_for_name(self.conn, BLUEZ, proc=self.proc)
        self.name = BLUEZ

    def client_gone(self):
        self.call('/', TEST_BLUEZ_IFACE, 'ClientGone')

    def agents(self):
        '''([(agent path, capability)], default agent path or "").'''
        return self.call('/', TEST_BLUEZ_IFACE, 'Agents')

    def method_calls(self, path, method):
        '''[args] of every call of method on path (dbusmock's call log).'''
        return [args for _, args in self.call(path, MOCK_IFACE, 'GetMethodCalls', '(s)', (method,))]

    def clear_calls(self, path):
        self.call(path, MOCK_IFACE, 'ClearCalls')

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        return Processes.stop(self.proc, sig)


class MockLogind:
    def __init__(self, system_bus, tmpdir):
        self.conn = system_bus.conn
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=system_bus.address)
        self.proc = Processes.spawn('logind', [PYTHON, '-m', 'dbusmock', '--system', '-l',
                                               os.path.join(tmpdir, 'logind-dbusmock.log'),
                                               '-t', 'logind'],
                                    env, os.path.join(tmpdir, 'logind-dbusmock.stderr'))
        wait_for_name(self.conn, LOGIND, proc=self.proc)

    def prepare_for_sleep(self, sleeping):
        call(self.conn, LOGIND, LOGIND_PATH, MOCK_IFACE, 'EmitSignal', '(sssav)',
             (LOGIND_IFACE, 'PrepareForSleep', 'b', [GLib.Variant('b', sleeping)]))


NOTIFICATIONS = 'org.freedesktop.Notifications'
NOTIFICATIONS_PATH = '/org/freedesktop/Notifications'


class MockNotifications:
    '''dbusmock's notification daemon on the session bus: what the daemon
    tells the desktop, recorded as method calls.'''

    def __init__(self, session_bus, tmpdir):
        self.conn = session_bus.conn
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=session_bus.address)
        self.proc = Processes.spawn('notifications', [PYTHON, '-m', 'dbusmock', '-l',
                                                      os.path.join(tmpdir, 'notify-dbusmock.log'),
                                                      '-t', 'notification_daemon'],
                                    env, os.path.join(tmpdir, 'notify-dbusmock.stderr'))
        wait_for_name(self.conn, NOTIFICATIONS, proc=self.proc)

    def notified(self):
        '''(summary, body) of every Notify call so far.'''
        calls = call(self.conn, NOTIFICATIONS, NOTIFICATIONS_PATH, MOCK_IFACE, 'GetMethodCalls',
                     '(s)', ('Notify',))
        return [(str(args[3]), str(args[4])) for _, args in calls]


LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1'


def faketime_unusable():
    '''Why the daemon cannot run under Debian's libfaketime here, or None.
    Not under ASan: libfaketime sets itself up at the first clock_gettime,
    and when that comes from inside ASan's allocator (which reads the
    monotonic clock when it maps a new region) its dlsym mallocs, and the
    allocator waits on its own lock for ever (seen: the daemon never
    owned its name; gdb showed malloc → MonotonicNanoTime → libfaketime's
    clock_gettime → dlsym → malloc). Whether it happens depends on where
    the early allocations fall; the main and valgrind stages run these
    cases.'''
    if not os.path.exists(LIBFAKETIME):
        return f'{LIBFAKETIME} missing (Debian package libfaketime)'
    if os.environ.get('DERMAROLL_ASAN_QUARANTINE_MB'):
        return 'libfaketime can deadlock inside ASan\'s allocator (fixtures.faketime_unusable)'
    return None


def memory_bounds_apply():
    '''Whether a test's bound on the daemon's memory means anything: not
    under ASan, whose quarantine holds freed memory back on purpose and
    whose redzones and shadow memory multiply every allocation (the normal
    build's run of the same test checks the bound).'''
    return not os.environ.get('DERMAROLL_ASAN_QUARANTINE_MB')


# dermarolld


def daemon_path():
    explicit = os.environ.get('DERMAROLLD')
    if explicit:
        return explicit
    root = os.environ.get('DERMAROLL_BUILD_ROOT')
    if root:
        return os.path.join(root, 'daemon', 'dermarolld')
    return os.path.join(os.path.dirname(os.path.dirname(HERE)), 'build', 'daemon', 'dermarolld')


class Daemon:
    '''The real dermarolld against the private buses.'''

    def __init__(self, tmpdir, system_bus, session_bus, config=''):
        self.path = daemon_path()
        self.tmpdir = tmpdir
        self.system_bus = system_bus
        self.session_bus = session_bus
        self.state_dir = os.path.join(tmpdir, 'state')
        self.db_path = os.path.join(self.state_dir, 'dermaroll.db')
        self.config_path = os.path.join(tmpdir, 'dermaroll.conf')
        with open(self.config_path, 'w', encoding='utf-8') as f:
            f.write(config)
        self.log_path = os.path.join(tmpdir, 'dermarolld.log')
        self.proc = None
        self.runs = 0
        self.notify = False     # True: the desktop is told (a MockNotifications must run)
        self.env = {}           # more environment for the next start (e.g. libfaketime)

    def start(self, extra_args=(), timeout=15.0):
        assert self.proc is None or self.proc.poll() is not None, 'dermarolld already running'
        home = os.path.join(self.tmpdir, 'home')
        os.makedirs(home, exist_ok=True)
        env = dict(os.environ,
                   DBUS_SYSTEM_BUS_ADDRESS=self.system_bus.address,
                   DBUS_SESSION_BUS_ADDRESS=self.session_bus.address,
                   HOME=home,
                   XDG_STATE_HOME=os.path.join(home, '.local', 'state'),
                   XDG_CONFIG_HOME=os.path.join(home, '.config'),
                   XDG_DATA_HOME=os.path.join(home, '.local', 'share'),
                   XDG_RUNTIME_DIR=self.tmpdir,
                   G_MESSAGES_DEBUG='all')
        env.pop('STATE_DIRECTORY', None)
        env.pop('NOTIFY_SOCKET', None)
        env.update(self.env)
        self.runs += 1
        with open(self.log_path, 'a', encoding='utf-8') as f:
            f.write(f'==== dermarolld run {self.runs} ====\n')
        argv = [*DAEMON_WRAPPER, self.path, '--db', self.db_path, '--config', self.config_path,
                *([] if self.notify else ['--no-notify']), '--verbose', *extra_args]
        self.proc = Processes.spawn('dermarolld', argv, env, self.log_path)
        wait_for_name(self.session_bus.conn, DERMAROLL, timeout, proc=self.proc)
        return self.proc

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        '''Stops it by pid; returns the exit status.'''
        if self.proc is None:
            return None
        rc = Processes.stop(self.proc, sig, timeout * TIMEOUT_FACTOR)
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def log(self, lines=120):
        return tail(self.log_path, lines)


# The database, read-only


def open_db(path):
    '''The daemon's SQLite file, read-only (WAL readers see committed data).'''
    return sqlite3.connect(f'file:{path}?mode=ro', uri=True, timeout=5)


def db_query(path, sql, params=()):
    if not os.path.exists(path):
        return None
    db = open_db(path)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def db_tables(path):
    rows = db_query(path, "SELECT name FROM sqlite_master WHERE type = 'table'") or []
    return {r[0] for r in rows}


def db_columns(path, table):
    rows = db_query(path, f'PRAGMA table_info("{table}")') or []
    return [r[1] for r in rows]


# The test case


class RollerTestCase(unittest.TestCase):
    '''Private system and session buses, dbusmock logind and bluetoothd with
    adapter hci2 and one roller; the daemon is started by the test.'''

    ADAPTER = 'hci2'
    ADDRESS = 'AA:BB:CC:DD:EE:FF'
    ROLLER_NAME = 'DermaRoller 7F'
    CONFIG = ''
    head = proto.Head()

    def roller_options(self):
        '''Options for the mock roller; tests override to preload history etc.'''
        return {}

    def setUp(self):
        self.tmpdir = tempfile.mkdtemp(prefix='dermaroll-integ-')
        self.addCleanup(self._remove_tmpdir)
        self.addCleanup(self._dump_logs_on_failure)
        self.addCleanup(Processes.kill_all)          # last resort, after the orderly stops
        self.system = PrivateBus('system', self.tmpdir)
        self.addCleanup(self.system.stop)
        self.session = PrivateBus('session', self.tmpdir)
        self.addCleanup(self.session.stop)
        self.monitors = [Monitor(self.system, self.tmpdir), Monitor(self.session, self.tmpdir)]
        for m in self.monitors:
            self.addCleanup(Processes.stop, m.proc)
        self.logind = MockLogind(self.system, self.tmpdir)
        self.addCleanup(Processes.stop, self.logind.proc)
        self.bluez_runs = 0
        self.bluez, self.roller = self.start_bluez(self.roller_options())
        self.daemon = Daemon(self.tmpdir, self.system, self.session, self.CONFIG)
        self.addCleanup(self._stop_daemon_checked)
        # what the daemon publishes, and what it does to bluetoothd
        self.events = Recorder(self.session.conn, sender=DERMAROLL)
        self.bt_calls = Recorder(self.system.conn, iface=MOCK_IFACE, member='MethodCalled')
        self.bt_signals = Recorder(self.system.conn, sender=BLUEZ)

    def start_bluez(self, options, stored=None, paired=None):
        '''A bluetoothd (dbusmock) with adapter hci2 and the roller.'''
        self.bluez_runs += 1
        bluez = MockBluez(self.system, self.tmpdir, tag=f'bluez{self.bluez_runs}')
        self.addCleanup(self._stop_bluez_checked, bluez)
        bluez.add_adapter(self.ADAPTER, 'dermaroll-test-host')
        opts = {'Name': self.ROLLER_NAME, 'HeadInfo': self.head.encode()}
        opts.update(options)
        if stored is not None:
            opts['StoredFrames'] = stored
        if paired is not None:
            opts['Paired'] = paired
            opts['Trusted'] = paired
        roller = bluez.add_roller(self.ADAPTER, self.ADDRESS, **opts)
        bluez.claim()
        return bluez, roller

    # cleanups

    def _failed(self):
        """Whether this test has failed so far (setUp, body or a cleanup)."""
        result = getattr(getattr(self, '_outcome', None), 'result', None)
        if result is None:
            return False
        return any(test is self for test, _ in list(result.failures) + list(result.errors))

    def _stop_daemon_checked(self):
        if self.daemon.proc is None:
            return
        if self.daemon.proc.poll() is not None and self.daemon.proc.pid in Processes.live:
            rc = self.daemon.proc.returncode
            Processes.live.pop(self.daemon.proc.pid, None)
            raise AssertionError(f'dermarolld died during the test (exit status {rc}); log:\n'
                                 + self.daemon.log())
        rc = self.daemon.stop()
        if rc not in (None, 0):
            raise AssertionError(f'dermarolld exited with status {rc} on SIGTERM; log:\n'
                                 + self.daemon.log())

    def _stop_bluez_checked(self, bluez):
        if bluez.alive() and not self._failed():
            # the roller's firmware saw no protocol misuse
            for roller in bluez.rollers:
                try:
                    info = roller.info()
                except GLib.Error:
                    continue
                self.assertEqual(list(info['Violations']), [],
                                 'the daemon misused the roller protocol')
                self.assertEqual(list(info['UnknownAcks']), [],
                                 'the daemon acknowledged frames the roller never sent')
        bluez.stop()

    def _dump_logs_on_failure(self):
        if not self._failed():
            return
        out = [f'\n======== {self.id()}: logs in {self.tmpdir} ========']
        for name in sorted(os.listdir(self.tmpdir)):
            path = os.path.join(self.tmpdir, name)
            if not os.path.isfile(path) or not (name.endswith('.log') or name.endswith('.stderr')):
                continue
            lines = 200 if name.startswith('dbus-monitor') or name == 'dermarolld.log' else 40
            out.append(f'-------- {name} (last {lines} lines) --------')
            out.append(tail(path, lines))
        sys.stderr.write('\n'.join(out) + '\n')

    def _remove_tmpdir(self):
        if os.environ.get('DERMAROLL_KEEP_TMP') or (self._failed() and os.environ.get('DERMAROLL_KEEP_FAILED')):
            sys.stderr.write(f'kept {self.tmpdir}\n')
            return
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    # the daemon's API

    def manager(self, method, sig=None, args=None, timeout=10.0, reply=None):
        return call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, method, sig, args,
                    timeout, reply)

    def roller_call(self, method, sig=None, args=None, path=None, timeout=10.0):
        return call(self.session.conn, DERMAROLL, path or roller_object_path(self.ADDRESS),
                    ROLLER_IFACE, method, sig, args, timeout)

    def roller_prop(self, name, path=None):
        return get_prop(self.session.conn, DERMAROLL, path or roller_object_path(self.ADDRESS),
                        ROLLER_IFACE, name)

    def manager_prop(self, name):
        return get_prop(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, name)

    def roller_props(self, path=None):
        return get_all(self.session.conn, DERMAROLL, path or roller_object_path(self.ADDRESS),
                       ROLLER_IFACE)

    def assertDBusError(self, name, func, *args, **kwargs):
        with self.assertRaises(GLib.Error) as cm:
            func(*args, **kwargs)
        got, message = dbus_error(cm.exception)
        self.assertEqual(got, name, f'wrong D-Bus error: {cm.exception.message}')
        return message

    def wait_roller_prop(self, name, predicate, timeout=10.0, path=None):
        '''Waits until Roller1.<name> satisfies predicate (re-read on every
        PropertiesChanged of the daemon and every poll tick).'''
        last = []

        def ready():
            try:
                value = self.roller_prop(name, path)
            except GLib.Error as e:
                last[:] = [f'error: {e.message}']
                return False
            last[:] = [value]
            return predicate(value)
        wait_until(ready, timeout, f'Roller1.{name} to satisfy the condition',
                   details=lambda: f'last value: {last[0] if last else None!r}\n' + self.events.dump(),
                   poll_ms=50)

    # bluetoothd-side observations

    def control_requests_seen(self, since=0, opcode=None):
        """Control Point writes seen on the bus (dbusmock's MethodCalled of
        WriteValue on a Control Point object), in order: [(opcode, arg, options)]."""
        out = []
        for s in self.bt_calls.find('MethodCalled', since=since,
                                    where=lambda s: s.args[0] == 'WriteValue'):
            if s.path not in self._cp_paths():
                continue
            value, options = bytes(s.args[1][0]), s.args[1][1]
            try:
                op, arg = proto.decode_control(value)
            except ValueError:
                op, arg = (value[0] if value else None), 'malformed:' + value.hex()
            if opcode is None or op == opcode:
                out.append((op, arg, options))
        return out

    def _cp_paths(self):
        """Every path the Control Point had (it moves when GATT is rebuilt)."""
        paths = self.__dict__.setdefault('_known_cp_paths', set())
        try:
            paths.add(str(self.roller.chrc_path(proto.UUID_CONTROL_POINT)))
        except (GLib.Error, KeyError):
            pass
        return paths

    def wait_control(self, opcode, since=0, timeout=10.0, where=None):
        def ready():
            found = [r for r in self.control_requests_seen(since, opcode) if where is None or where(r)]
            return found or None
        return wait_until(ready, timeout, f'a Control Point write of opcode 0x{opcode:02x}',
                          details=lambda: f'seen: {self.control_requests_seen(since)}')

    # common flows

    def start_daemon(self, *args):
        self.daemon.start(args)

    def start_notifications(self):
        '''A desktop notification daemon; the daemon, started after this,
        tells it what it tells a user.'''
        self.notifications = MockNotifications(self.session, self.tmpdir)
        self.addCleanup(Processes.stop, self.notifications.proc)
        self.daemon.notify = True
        return self.notifications

    def pair(self, timeout=30.0):
        '''Manager1.Pair(ADDRESS); waits until the roller streams.'''
        path = self.manager('Pair', '(s)', (self.ADDRESS,), timeout=timeout)
        self.wait_streaming()
        return path

    def wait_streaming(self, since=0, timeout=15.0):
        '''Roller1.Connected and the roller told to stream.'''
        # The roller first: right after a link loss Roller1.Connected may
        # still be the old link's (the test's Get can overtake the daemon's
        # handling of the loss), while the roller stops streaming with the
        # link. So its START_STREAM is the new link's, and the daemon sets
        # Connected once that is answered.
        wait_until(lambda: self.roller.info()['Streaming'], timeout, 'START_STREAM at the roller',
                   details=lambda: f'control writes: {self.roller.control_requests()}')
        self.wait_roller_prop('Connected', bool, timeout)
