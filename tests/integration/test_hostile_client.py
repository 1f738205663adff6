#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''Fault matrix row 10: a hostile D-Bus client (tests/faults/README.md).

Debian 12 has no dfuzzer, so this is its walker: it introspects every object
dermarolld exports (from '/', recursively: Manager1 with its ObjectManager,
each Roller1, and the standard interfaces GDBus adds) and generates the calls
from what it finds: every method with wrong types, out-of-range values,
unknown object paths and addresses, 1 MB strings; 10,000 calls pipelined at
once; and a client that subscribes to everything and never reads its socket.

Every answer must be a method return or an error of the registered set: the
org.dermaroll.Error.* names listed in protocol/org.dermaroll.Manager1.xml,
or the org.freedesktop.DBus.Error names GDBus gives for a call that does not
fit the introspection data (wrong types, unknown method, object, interface
or property). The daemon must never crash, and must keep answering another
client meanwhile (its latency is printed, never asserted).

The buses are private; the session bus has Debian's session.conf limits
(50,000 pending replies per connection), so that the 10,000 calls reach the
daemon instead of being refused by dbus-daemon at its default 128. The
roller is the C emulator, paired and streaming.
'''
import os
import re
import socket
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE), os.path.join(HERE, '..', '..', 'protocol')]
import dbus_private  # noqa: E402
from fixtures import (DERMAROLL, MANAGER_IFACE, MANAGER_PATH, OM_IFACE,  # noqa: E402
                      PROPS_IFACE, Daemon, PrivateBus, Processes, Recorder, call, connect,
                      dbus_error, get_prop, memory_bounds_apply, roller_object_path, wait_until)
from gi.repository import Gio, GLib  # noqa: E402

ADDRESS = 'C0:FF:EE:00:5E:0A'
ROLLER_IFACE = 'org.dermaroll.Roller1'
MB = 1024 * 1024
PROTOCOL = os.path.join(HERE, '..', '..', 'protocol')

# For a call that does not fit the introspection data, from GDBus.
GDBUS_ERRORS = {'org.freedesktop.DBus.Error.' + n for n in (
    'InvalidArgs', 'UnknownMethod', 'UnknownObject', 'UnknownInterface', 'UnknownProperty',
    'PropertyReadOnly')}


def registered_errors():
    '''The org.dermaroll.Error.* names the XML documents.'''
    with open(os.path.join(PROTOCOL, 'org.dermaroll.Manager1.xml'), encoding='utf-8') as f:
        names = set(re.findall(r'org\.dermaroll\.Error\.[A-Za-z]+', f.read()))
    assert len(names) >= 10, names
    return names


def emulator_path():
    root = os.environ.get('DERMAROLL_BUILD_ROOT') or os.path.join(HERE, '..', '..', 'build')
    return os.path.join(root, 'tests', 'roller-emulator')


class SessionBus(dbus_private.PrivateBus):
    '''A session bus with the limits of Debian's session.conf.'''

    def __init__(self, tmpdir):
        super().__init__(tmpdir, 'session', limits=dbus_private.SESSION_LIMITS)
        self.conn = connect(self.address)

    def stop(self):
        self.conn.close_sync(None)
        return super().stop()


# Values: a well-typed sample of each type, and for the ones a client can
# pick, the hostile ones.
SAMPLE = {'s': 'x', 'o': '/', 'b': True, 'y': 1, 'n': 1, 'q': 1, 'i': 1, 'u': 1, 'x': 1,
          't': 1, 'd': 1.0, 'h': 0, 'g': 's'}
# For each type, one of another type in its place.
OTHER = {'s': 'u', 'o': 'u', 'b': 's', 'y': 's', 'n': 's', 'q': 's', 'i': 's', 'u': 's',
         'x': 's', 't': 's', 'd': 's', 'v': 'u', 'g': 'u'}


def sample(t):
    if t in SAMPLE:
        return SAMPLE[t]
    if t == 'v':
        return GLib.Variant('s', 'x')
    if t.startswith('a{'):
        return {}
    if t.startswith('a'):
        return []
    raise ValueError(t)


HUGE = 'z' * MB
HOSTILE = {
    's': ['', ' ', 'AA:BB:CC:DD:EE', 'AA:BB:CC:DD:EE:FF:00', 'GG:HH:II:JJ:KK:LL',
          'aa-bb-cc-dd-ee-ff', '\u00e9\u00e9:\u00e9\u00e9', '\x01\x02\x7f', '%s%n%x', '../..',
          "'; DROP TABLE frames; --", 'forehead\n', 'x' * 4096, HUGE],
    'o': ['/', '/org', '/org/dermaroll/roller', '/org/dermaroll/roller/00_00_00_00_00_00',
          '/org/dermaroll/roller/C0_FF_EE_00_5E_0A/x', '/org/dermaroll/roller/zz',
          '/org/dermaroll/person', '/org/dermaroll/person/0', '/org/dermaroll/person/01',
          '/org/dermaroll/person/99', '/org/dermaroll/person/99999999999999999999',
          '/a' * (MB // 2)],
    'x': [0, -1, 1, -(1 << 63), (1 << 63) - 1],
    't': [0, 1, (1 << 63), (1 << 64) - 1],
    'b': [True, False],
    'u': [0, (1 << 32) - 1],
    'y': [0, 255],
}


def walk(conn, dest, path='/', out=None):
    '''{path: GDBusNodeInfo} of every object under path, by Introspect.'''
    out = {} if out is None else out
    xml = call(conn, dest, path, 'org.freedesktop.DBus.Introspectable', 'Introspect')
    info = Gio.DBusNodeInfo.new_for_xml(xml)
    if info.interfaces:
        out[path] = info
    for node in info.nodes:
        walk(conn, dest, (path.rstrip('/') + '/' + node.path), out)
    return out


def in_signature(method):
    return ''.join(a.signature for a in method.in_args)


def split_signature(sig):
    '''The complete types of a signature, in order.'''
    out, i = [], 0
    while i < len(sig):
        j = i
        depth = 0
        while True:
            c = sig[j]
            if c in '({':
                depth += 1
            elif c in ')}':
                depth -= 1
            j += 1
            if depth == 0 and c != 'a':
                break
        out.append(sig[i:j])
        i = j
    return out


class Outcome:
    def __init__(self, what):
        self.what = what
        self.error = None        # (name, message) or None for a method return


class HostileCase(unittest.TestCase):
    '''Private buses, the emulator as bluetoothd with one roller, the daemon
    paired with it; introspection walked once.'''

    def setUp(self):
        if not os.access(emulator_path(), os.X_OK):
            self.skipTest('roller-emulator not built')
        self.tmp = tempfile.mkdtemp(prefix='dermaroll-hostile-')
        self.system = PrivateBus('system', self.tmp)
        self.addCleanup(self.system.stop)
        self.session = SessionBus(self.tmp)
        self.addCleanup(self.session.stop)
        proc = Processes.spawn('roller-emulator',
                               [emulator_path(), '--bus', self.system.address,
                                '--roller', ADDRESS + ',Hostile roller', '--pattern', 'face',
                                '--rate', '500', '--samples', '10000000'],
                               dict(os.environ), os.path.join(self.tmp, 'emulator.log'),
                               stdout=__import__('subprocess').PIPE)
        self.addCleanup(Processes.stop, proc)
        line = proc.stdout.readline().decode()
        self.assertTrue(line.startswith('READY'), f'emulator said {line!r}')
        self.daemon = Daemon(self.tmp, self.system, self.session)
        self.daemon.start()
        self.addCleanup(self.daemon.stop)
        self.roller_path = roller_object_path(ADDRESS)
        self.assertEqual(call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'Pair',
                              '(s)', (ADDRESS,), timeout=30), self.roller_path)
        self.objects = walk(self.session.conn, DERMAROLL)
        self.registered = registered_errors()
        self.allowed = self.registered | GDBUS_ERRORS
        self.hostile = connect(self.session.address)
        self.addCleanup(self.hostile.close_sync, None)

    # -- calls --------------------------------------------------------------

    def methods(self):
        '''(path, interface name, GDBusMethodInfo) of every method exported.'''
        for path, node in sorted(self.objects.items()):
            for iface in node.interfaces:
                for m in iface.methods:
                    yield path, iface.name, m

    def call_raw(self, path, iface, method, params, timeout=20.0, conn=None):
        '''One call; its Outcome.'''
        what = f'{path} {iface}.{method}{params.get_type_string() if params else "()"}'
        out = Outcome(what)
        try:
            (conn or self.hostile).call_sync(DERMAROLL, path, iface, method, params, None,
                                             Gio.DBusCallFlags.NONE, int(timeout * 1000), None)
        except GLib.Error as e:
            out.error = dbus_error(e)
            if out.error[0] is None:
                out.error = (f'(local: {e.domain} {e.code})', e.message)
        return out

    def check(self, outcomes, want=None):
        '''Every error registered (and, when want is given, that name), its
        message bounded; the daemon alive.'''
        names = {}
        for o in outcomes:
            if o.error is None:
                names['(return)'] = names.get('(return)', 0) + 1
                continue
            name, message = o.error
            names[name] = names.get(name, 0) + 1
            self.assertIn(name, self.allowed, f'{o.what}: unregistered error: {message[:300]}')
            if want is not None:
                self.assertIn(name, want, f'{o.what}: {message[:300]}')
            self.assertLessEqual(len(message), 2048, f'{o.what}: a {len(message)}-byte message')
        self.assert_alive()
        return names

    def assert_alive(self):
        self.assertIsNone(self.daemon.proc.poll(), 'dermarolld died')
        self.assertEqual(len(call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE,
                                  'GetZones')), 7)

    def report(self, case, names):
        print(f'{case}: ' + ', '.join(f'{n} {c}' for n, c in sorted(names.items())),
              file=sys.stderr)


class HostileClient(HostileCase):

    def test_walk_finds_the_api(self):
        '''The walk finds what the XML documents: Manager1 with its
        ObjectManager, the roller's Roller1, Properties everywhere.'''
        self.assertIn(MANAGER_PATH, self.objects)
        self.assertIn(self.roller_path, self.objects)
        ifaces = {p: {i.name for i in n.interfaces} for p, n in self.objects.items()}
        self.assertLessEqual({MANAGER_IFACE, 'org.freedesktop.DBus.ObjectManager', PROPS_IFACE},
                             ifaces[MANAGER_PATH])
        self.assertLessEqual({ROLLER_IFACE, PROPS_IFACE}, ifaces[self.roller_path])
        n = sum(1 for _ in self.methods())
        print(f'walk: {len(self.objects)} objects, {n} methods: '
              + '; '.join(f'{p}: {sorted(i)}' for p, i in sorted(ifaces.items())),
              file=sys.stderr)

    def test_wrong_types(self):
        '''Every method: no arguments, one too many, and each argument of
        another type: InvalidArgs (UnknownMethod for the ones GDBus itself
        answers by signature), never a return.'''
        outcomes = []
        for path, iface, m in self.methods():
            types = split_signature(in_signature(m))
            variants = []
            if types:
                variants.append([])
            variants.append(types + ['s'])
            for i, t in enumerate(types):
                variants.append(types[:i] + [OTHER.get(t, 'u')] + types[i + 1:])
            for v in variants:
                sig = '(' + ''.join(v) + ')'
                params = GLib.Variant(sig, tuple(sample(t) for t in v))
                o = self.call_raw(path, iface, m.name, params)
                self.assertIsNotNone(o.error, f'{o.what} answered a wrongly typed call')
                outcomes.append(o)
        names = self.check(outcomes, want={'org.freedesktop.DBus.Error.InvalidArgs',
                                           'org.freedesktop.DBus.Error.UnknownMethod'})
        self.report(f'wrong types, {len(outcomes)} calls', names)

    def hostile_calls(self, path, iface, m):
        '''(params) for a method's hostile values: each argument in turn
        takes each hostile value of its type, the others their sample.'''
        types = split_signature(in_signature(m))
        for i, t in enumerate(types):
            for value in HOSTILE.get(t, []):
                args = [sample(u) for u in types]
                args[i] = value
                yield GLib.Variant('(' + ''.join(types) + ')', tuple(args))

    def test_out_of_range_values(self):
        '''Every method with arguments, every hostile value of each
        argument's type (empty, malformed addresses, control characters,
        format strings, SQL, extreme integers, unknown object paths, 1 MB
        strings): a registered error or a return, and for the documented
        cases the documented error.'''
        outcomes = []
        skip = {(MANAGER_IFACE, 'Pair')}       # its own case below
        for path, iface, m in self.methods():
            if (iface, m.name) in skip or iface == 'org.freedesktop.DBus.Peer':
                continue
            for params in self.hostile_calls(path, iface, m):
                outcomes.append(self.call_raw(path, iface, m.name, params))
        names = self.check(outcomes)
        self.report(f'out-of-range values, {len(outcomes)} calls', names)

        def error_of(path, iface, method, sig, args):
            o = self.call_raw(path, iface, method, GLib.Variant(sig, args))
            return o.error[0] if o.error else None
        # The documented answers.
        nf, inval = 'org.dermaroll.Error.NotFound', 'org.dermaroll.Error.InvalidArgument'
        for sid in (0, 1 << 63, (1 << 64) - 1):
            for method in ('GetSessionCoverage', 'GetSessionEvents', 'GetSessionSamples',
                           'GetSessionInfo'):
                self.assertEqual(error_of(MANAGER_PATH, MANAGER_IFACE, method, '(t)', (sid,)), nf)
        # ExportSamples: the 'h' names a file descriptor passed with the
        # call; none passed, or one not open for writing, is InvalidArgument
        # (every call of the walk passes none); with a pipe, an unknown
        # session is NotFound.
        for sid in (0, 1 << 63, (1 << 64) - 1):
            self.assertEqual(error_of(MANAGER_PATH, MANAGER_IFACE, 'ExportSamples', '(th)',
                                      (sid, 0)), inval)
            for handle in (1, -1, (1 << 31) - 1):
                self.assertEqual(error_of(MANAGER_PATH, MANAGER_IFACE, 'ExportSamples', '(th)',
                                          (sid, handle)), inval)
            for writable in (False, True):
                r, w = os.pipe()
                fds = Gio.UnixFDList()
                fds.append(w if writable else r)
                os.close(r)
                os.close(w)
                try:
                    self.hostile.call_with_unix_fd_list_sync(
                        DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'ExportSamples',
                        GLib.Variant('(th)', (sid, 0)), None, Gio.DBusCallFlags.NONE, 20_000,
                        fds, None)
                    self.fail('ExportSamples answered')
                except GLib.Error as e:
                    self.assertEqual(dbus_error(e)[0], nf if writable else inval, (sid, writable))
        self.assertEqual(error_of(MANAGER_PATH, MANAGER_IFACE, 'ListSessions', '(xx)', (5, 1)),
                         inval)
        self.assertEqual(error_of(MANAGER_PATH, MANAGER_IFACE, 'ListSessions', '(xx)',
                                  ((1 << 63) - 1, -(1 << 63))), inval)
        for path in HOSTILE['o']:
            self.assertEqual(error_of(MANAGER_PATH, MANAGER_IFACE, 'Forget', '(o)', (path,)), nf,
                             path[:60])
        for zone in HOSTILE['s']:
            self.assertEqual(error_of(MANAGER_PATH, MANAGER_IFACE, 'SetZoneExcluded', '(sb)',
                                      (zone, True)), inval, repr(zone[:60]))
            if zone:
                self.assertEqual(error_of(self.roller_path, ROLLER_IFACE, 'SetZone', '(s)',
                                          (zone,)), inval, repr(zone[:60]))
        self.assertEqual(error_of(MANAGER_PATH, PROPS_IFACE, 'Get', '(ss)',
                                  (MANAGER_IFACE, HUGE)),
                         'org.freedesktop.DBus.Error.InvalidArgs')
        self.assertEqual(error_of(MANAGER_PATH, PROPS_IFACE, 'Set', '(ssv)',
                                  (MANAGER_IFACE, 'Version', GLib.Variant('s', HUGE))),
                         'org.freedesktop.DBus.Error.InvalidArgs')
        # People: a bad name is InvalidArgument, an unknown person NotFound,
        # the default person stays; every name taken is stored as given.
        person = 'org.dermaroll.Person1'
        default = get_prop(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE,
                           'DefaultPerson')
        valid = [n for n in HOSTILE['s']
                 if n.strip() and len(n.encode()) <= 200 and n.isprintable()]
        for name in HOSTILE['s']:
            if name not in valid:
                self.assertEqual(error_of(MANAGER_PATH, MANAGER_IFACE, 'AddPerson', '(s)',
                                          (name,)), inval, repr(name[:60]))
                self.assertEqual(error_of(default, person, 'Rename', '(s)', (name,)), inval,
                                 repr(name[:60]))
            self.assertEqual(error_of(default, person, 'SetZoneExcluded', '(sb)', (name, True)),
                             inval, repr(name[:60]))
        for path in HOSTILE['o']:
            self.assertEqual(error_of(MANAGER_PATH, MANAGER_IFACE, 'RemovePerson', '(ob)',
                                      (path, True)), nf, path[:60])
            self.assertEqual(error_of(self.roller_path, ROLLER_IFACE, 'SetPerson', '(o)',
                                      (path,)), nf, path[:60])
            if path != '/':
                self.assertEqual(error_of(MANAGER_PATH, MANAGER_IFACE, 'ListPersonSessions',
                                          '(xxo)', (0, 0, path)), nf, path[:60])
        self.assertEqual(error_of(MANAGER_PATH, MANAGER_IFACE, 'ListPersonSessions', '(xxo)',
                                  (5, 1, '/')), inval)
        self.assertEqual(error_of(MANAGER_PATH, MANAGER_IFACE, 'RemovePerson', '(ob)',
                                  (default, True)), 'org.dermaroll.Error.Refused')
        objects = call(self.session.conn, DERMAROLL, MANAGER_PATH, OM_IFACE, 'GetManagedObjects')
        names = [i[person]['Name'] for i in objects.values() if person in i]
        self.assertTrue(set(valid) <= set(names), f'{valid} not all in {names}')
        self.assertEqual(len(names), len(set(names)), f'a name twice: {names}')
        # Nothing was excluded or forgotten by any of it.
        zones = call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'GetZones')
        self.assertEqual([z[1] for z in zones if z[4]], [])
        self.assertTrue(get_prop(self.session.conn, DERMAROLL, self.roller_path, ROLLER_IFACE,
                                 'Paired'))

    def test_pair_malformed_addresses(self):
        '''Pair with every malformed address: InvalidArgument at once (a
        well-formed unknown address waits 30 s for discovery: not here),
        and no roller object or database row is left behind.'''
        before = set(walk(self.session.conn, DERMAROLL))
        outcomes = [self.call_raw(MANAGER_PATH, MANAGER_IFACE, 'Pair', GLib.Variant('(s)', (a,)))
                    for a in HOSTILE['s']]
        names = self.check(outcomes, want={'org.dermaroll.Error.InvalidArgument'})
        self.assertEqual(set(walk(self.session.conn, DERMAROLL)), before)
        self.report(f'Pair, {len(outcomes)} malformed addresses', names)

    def test_unknown_objects_and_interfaces(self):
        '''Every method of every interface on paths that do not exist, and
        on the wrong object; unknown interfaces and members: GDBus's
        Unknown* errors.'''
        paths = ['/', '/org', '/org/dermaroll/x', '/org/dermaroll/roller',
                 '/org/dermaroll/roller/00_00_00_00_00_00', self.roller_path + '/x',
                 '/a' * (MB // 2)]
        outcomes = []
        ifaces = {}
        for path, iface, m in self.methods():
            ifaces.setdefault((iface, m.name), m)
        for (iface, name), m in sorted(ifaces.items()):
            if iface.startswith('org.freedesktop.DBus.'):
                continue
            params = GLib.Variant('(' + in_signature(m) + ')',
                                  tuple(sample(t) for t in split_signature(in_signature(m))))
            for path in paths + [MANAGER_PATH, self.roller_path]:
                if path in self.objects and any(i.name == iface
                                                for i in self.objects[path].interfaces):
                    continue
                o = self.call_raw(path, iface, name, params)
                self.assertIsNotNone(o.error, f'{o.what} answered')
                outcomes.append(o)
        for path in (MANAGER_PATH, self.roller_path):
            for iface, member in (('org.dermaroll.Nope1', 'Nope'), (MANAGER_IFACE, 'Nope'),
                                  (ROLLER_IFACE, 'Nope')):
                outcomes.append(self.call_raw(path, iface, member, None))
            for iface, prop in ((ROLLER_IFACE, 'Nope'), ('org.dermaroll.Nope1', 'Address'),
                                ('', 'Address')):
                outcomes.append(self.call_raw(path, PROPS_IFACE, 'Get',
                                              GLib.Variant('(ss)', (iface, prop))))
            outcomes.append(self.call_raw(path, PROPS_IFACE, 'GetAll',
                                          GLib.Variant('(s)', ('org.dermaroll.Nope1',))))
        names = self.check(outcomes, want=GDBUS_ERRORS)
        self.report(f'unknown objects, interfaces and members, {len(outcomes)} calls', names)

    def test_read_only_properties(self):
        '''Set of every property, with its own type and with another: never
        taken (every property is read-only), a GDBus error.'''
        outcomes = []
        for path, node in sorted(self.objects.items()):
            for iface in node.interfaces:
                for p in iface.properties:
                    for t in (p.signature, OTHER.get(p.signature, 'u')):
                        try:
                            value = GLib.Variant(t, sample(t))
                        except (TypeError, ValueError):
                            continue
                        o = self.call_raw(path, PROPS_IFACE, 'Set',
                                          GLib.Variant('(ssv)', (iface.name, p.name, value)))
                        self.assertIsNotNone(o.error, f'{o.what}: Set {p.name} taken')
                        outcomes.append(o)
        names = self.check(outcomes, want=GDBUS_ERRORS)
        self.report(f'Set of read-only properties, {len(outcomes)} calls', names)


def p99(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def proc_kib(pid, key='VmRSS'):
    with open(f'/proc/{pid}/status', encoding='ascii') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    return 0


class Prober:
    '''Another client's Get, one after the other on the main loop, timed
    while it runs.'''

    def __init__(self, address, path):
        self.conn = connect(address)
        self.path = path
        self.latencies = []
        self.errors = []
        self.running = True
        self._next()

    def _next(self):
        self.t = time.monotonic()
        self.conn.call(DERMAROLL, self.path, PROPS_IFACE, 'Get',
                       GLib.Variant('(ss)', (ROLLER_IFACE, 'Address')), None,
                       Gio.DBusCallFlags.NONE, 30000, None, self._done, None)

    def _done(self, conn, result, _data):
        try:
            conn.call_finish(result)
            self.latencies.append(time.monotonic() - self.t)
        except GLib.Error as e:
            self.errors.append(dbus_error(e))
        if self.running:
            self._next()

    def stop(self):
        self.running = False
        wait_until(lambda: True, 0.1, 'nothing')
        self.conn.close_sync(None)

    def figures(self):
        if not self.latencies:
            return 'no answer'
        return (f'{len(self.latencies)} calls, p50 '
                f'{sorted(self.latencies)[len(self.latencies) // 2] * 1000:.2f} ms, '
                f'p99 {p99(self.latencies) * 1000:.2f} ms, '
                f'max {max(self.latencies) * 1000:.2f} ms')


def raw_connect(address, rcvbuf=4096):
    '''A bus connection by hand, which the test can then stop reading: a
    socket with a small receive buffer, SASL EXTERNAL, and no main loop.'''
    spec = address.split(';')[0]
    assert spec.startswith('unix:'), spec
    kv = dict(p.split('=', 1) for p in spec[5:].split(','))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(kv['path'] if 'path' in kv else '\0' + kv['abstract'])
    s.sendall(b'\0AUTH EXTERNAL ' + str(os.getuid()).encode().hex().encode() + b'\r\n')
    reply = s.recv(4096)
    assert reply.startswith(b'OK '), reply
    s.sendall(b'BEGIN\r\n')
    return s


class RawSender:
    '''Marshals method calls with Gio.DBusMessage onto a raw socket.'''

    def __init__(self, sock):
        self.sock = sock
        self.serial = 0

    def call(self, dest, path, iface, member, params=None, flags=0):
        m = Gio.DBusMessage.new_method_call(dest, path, iface, member)
        if params is not None:
            m.set_body(params)
        if flags:
            m.set_flags(flags)
        self.serial += 1
        m.set_serial(self.serial)
        self.sock.sendall(m.to_blob(Gio.DBusCapabilityFlags.NONE))


class Storms(HostileCase):

    CALLS = int(os.environ.get('DERMAROLL_HOSTILE_CALLS', '10000'))

    def storm_calls(self, n):
        '''n calls, a mix of cheap, failing and wrongly typed ones.'''
        nope = GLib.Variant('(t)', ((1 << 64) - 1,))
        mix = [
            (MANAGER_PATH, MANAGER_IFACE, 'GetZones', None),
            (MANAGER_PATH, PROPS_IFACE, 'Get', GLib.Variant('(ss)', (MANAGER_IFACE, 'Version'))),
            (self.roller_path, PROPS_IFACE, 'GetAll', GLib.Variant('(s)', (ROLLER_IFACE,))),
            (MANAGER_PATH, MANAGER_IFACE, 'ListSessions', GLib.Variant('(xx)', (0, 0))),
            (MANAGER_PATH, MANAGER_IFACE, 'GetSessionCoverage', nope),
            (self.roller_path, ROLLER_IFACE, 'SetZone', GLib.Variant('(s)', ('nope',))),
            (MANAGER_PATH, MANAGER_IFACE, 'GetZones', GLib.Variant('(u)', (1,))),
            (MANAGER_PATH, 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects', None),
        ]
        return [mix[i % len(mix)] for i in range(n)]

    def test_10000_calls_at_once(self):
        '''10,000 calls sent at once without waiting (pipelined on one
        connection): every one answered, with a return or a registered
        error; another client's calls answered meanwhile.'''
        prober = Prober(self.session.address, self.roller_path)
        self.addCleanup(prober.stop)
        wait_until(lambda: len(prober.latencies) >= 5, 10, 'the prober answered')
        prober.latencies.clear()
        rss_before = proc_kib(self.daemon.proc.pid)
        outcomes = []
        started = time.monotonic()

        def done(conn, result, o):
            try:
                conn.call_finish(result)
            except GLib.Error as e:
                o.error = dbus_error(e)
            outcomes.append(o)
        for path, iface, method, params in self.storm_calls(self.CALLS):
            o = Outcome(f'{path} {iface}.{method}')
            self.hostile.call(DERMAROLL, path, iface, method, params, None,
                              Gio.DBusCallFlags.NONE, 120000, None, done, o)
        wait_until(lambda: len(outcomes) == self.CALLS, 120, f'{self.CALLS} answers',
                   details=lambda: f'{len(outcomes)} answered')
        elapsed = time.monotonic() - started
        rss_after = proc_kib(self.daemon.proc.pid)
        hwm = proc_kib(self.daemon.proc.pid, 'VmHWM')
        prober.running = False
        self.assertEqual(prober.errors, [])
        self.assertGreater(len(prober.latencies), 0, 'the other client got no answer')
        names = self.check(outcomes)
        self.report(f'{self.CALLS} pipelined calls in {elapsed:.2f} s', names)
        print(f'other client during the storm: {prober.figures()}; daemon VmRSS {rss_before} -> '
              f'{rss_after} KiB, VmHWM {hwm} KiB', file=sys.stderr)
        if memory_bounds_apply():
            self.assertLess(rss_after, rss_before + 64 * 1024)

    def test_subscriber_that_never_reads(self):
        '''A client subscribes to everything (every type, and eavesdropping),
        sends 10,000 calls and never reads its socket, while the roller
        floods garbage (a PropertiesChanged of MalformedFrames each) and
        streams: the daemon keeps answering another client, that client
        keeps getting the daemon's signals, and the daemon's memory stays
        bounded (dbus-daemon is the one that queues for the sleeper).'''
        sleeper = raw_connect(self.session.address)
        self.addCleanup(sleeper.close)
        raw = RawSender(sleeper)
        raw.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'Hello')
        for rule in ('', "type='signal'", "type='method_call'", "type='method_return'",
                     "type='error'", "eavesdrop='true'", "type='signal',eavesdrop='true'",
                     "type='method_return',eavesdrop='true'", f"sender='{DERMAROLL}'"):
            raw.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                     'AddMatch', GLib.Variant('(s)', (rule,)))
        # The bus has taken the rules once it answers our own call after them.
        wait_until(lambda: True, 0.01, 'nothing')
        signals = Recorder(self.session.conn, sender=None, iface=PROPS_IFACE,
                           member='PropertiesChanged', path=self.roller_path)
        self.addCleanup(signals.close)
        prober = Prober(self.session.address, self.roller_path)
        self.addCleanup(prober.stop)
        wait_until(lambda: len(prober.latencies) >= 5, 10, 'the prober answered')
        prober.latencies.clear()
        rss_before = proc_kib(self.daemon.proc.pid)
        bus_before = proc_kib(self.session.proc.pid)

        for path, iface, method, params in self.storm_calls(self.CALLS):
            raw.call(DERMAROLL, path, iface, method, params)
        rate, seconds = 2500, 2
        call(self.system.conn, 'org.bluez', '/org/dermaroll/Emulator', 'org.dermaroll.Emulator1',
             'FloodGarbage', '(suu)', (ADDRESS, rate, seconds))
        mark = len(signals.signals)

        def flood_done():
            stats = call(self.system.conn, 'org.bluez', '/org/dermaroll/Emulator',
                         'org.dermaroll.Emulator1', 'RollerStats', '(s)', (ADDRESS,))
            return not stats['flooding'] and stats['out-queued'] == 0
        wait_until(flood_done, seconds + 60, 'the flood sent')
        wait_until(lambda: get_prop(self.session.conn, DERMAROLL, self.roller_path, ROLLER_IFACE,
                                    'MalformedFrames') == rate * seconds, 60,
                   'every malformed frame counted')
        # The other client still hears the daemon: the last count reaches it.
        wait_until(lambda: any(s.args[1].get('MalformedFrames') == rate * seconds
                               for s in signals.signals[mark:]), 30,
                   'PropertiesChanged with the final MalformedFrames')
        prober.running = False
        rss_after = proc_kib(self.daemon.proc.pid)
        hwm = proc_kib(self.daemon.proc.pid, 'VmHWM')
        bus_after = proc_kib(self.session.proc.pid)
        self.assertEqual(prober.errors, [])
        self.assertGreater(len(prober.latencies), 0)
        self.assert_alive()
        print(f'never-reading subscriber + {self.CALLS} unread calls + {rate * seconds} garbage '
              f'frames: other client {prober.figures()}; it heard '
              f'{len(signals.signals) - mark} PropertiesChanged; daemon VmRSS {rss_before} -> '
              f'{rss_after} KiB (VmHWM {hwm}); dbus-daemon VmRSS {bus_before} -> {bus_after} KiB',
              file=sys.stderr)
        if memory_bounds_apply():
            self.assertLess(rss_after, rss_before + 64 * 1024, 'the daemon queued for the sleeper')


if __name__ == '__main__':
    unittest.main(verbosity=2)
