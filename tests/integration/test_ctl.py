#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''dermarollctl end to end: every command against the real dermarolld on
private buses, with dbusmock's bluetoothd and a roller (fixtures.py), its
output for people and for scripts (--json), and its exit statuses: 0 on
success, 1 on an error with one line on stderr, 2 on bad usage.

Run: /usr/bin/python3 tests/integration/test_ctl.py [-v] [Test.test_name]
(dermarollctl from $DERMAROLLCTL, else $DERMAROLL_BUILD_ROOT/client/
dermarollctl, else build/client/dermarollctl; the daemon as in
fixtures.daemon_path()).
'''

import csv
import io
import json
import math
import os
import select
import re
import signal
import subprocess
import sys
import time
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
# fixtures.py here, dbus_private.py in tests/, the codec in protocol/.
sys.path[:0] = [HERE, os.path.dirname(HERE), os.path.join(HERE, '..', '..', 'protocol')]

import roller_protocol as proto  # noqa: E402
from fixtures import (ROLLER_IFACE, MANAGER_PATH, MANAGER_IFACE, DERMAROLL,  # noqa: E402
                      TIMEOUT_FACTOR, OM_IFACE, DAEMON_WRAPPER, RollerTestCase, call, daemon_path,
                      dbus_error, get_prop, memory_bounds_apply, now_ms, roller_object_path,
                      wait_until)
from gi.repository import Gio, GLib  # noqa: E402

ROLLER_PATH = roller_object_path(RollerTestCase.ADDRESS)
NOT_RUNNING = 'dermarollctl: dermarolld is not running (org.dermaroll not on the session bus)\n'
COMMANDS = ['scan', 'pair', 'forget', 'list', 'status', 'watch', 'zone', 'start', 'stop',
            'sessions', 'coverage', 'events', 'zones', 'exclude', 'include', 'export', 'sync',
            'people', 'person', 'notifications']
PERSON_IFACE = 'org.dermaroll.Person1'
DAY_MS = 86_400_000
# the rest window of the roller's 500 µm head (engine-config.h: 7 days)
REST_500_UM_MS = 7 * DAY_MS


def store_fill_path():
    root = os.environ.get('DERMAROLL_BUILD_ROOT') or os.path.join(HERE, '..', '..', 'build')
    return os.path.join(root, 'tests', 'store-fill')


def ctl_path():
    explicit = os.environ.get('DERMAROLLCTL')
    if explicit:
        return explicit
    root = os.environ.get('DERMAROLL_BUILD_ROOT')
    if root:
        return os.path.join(root, 'client', 'dermarollctl')
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(os.path.dirname(here)), 'build', 'client', 'dermarollctl')


def coverage_rows(out):
    '''The zone rows of dermarollctl coverage's table, by zone: the block
    between the title and the aftercare, less its header.'''
    table = out.split('\n\n')[1].splitlines()[1:]
    return {line.split()[0]: line for line in table}


class CtlTestCase(RollerTestCase):
    '''The fixture's buses and bluetoothd; dermarollctl run as a person or a
    script would, on the private session bus, in UTC and without colour (a
    pipe is no terminal anyway).'''

    def setUp(self):
        if not os.access(ctl_path(), os.X_OK):
            raise unittest.SkipTest(f'no dermarollctl at {ctl_path()}')
        if not os.access(daemon_path(), os.X_OK):
            raise unittest.SkipTest(f'no dermarolld at {daemon_path()}')
        super().setUp()

    def env(self):
        env = dict(os.environ,
                   DBUS_SESSION_BUS_ADDRESS=self.session.address,
                   DBUS_SYSTEM_BUS_ADDRESS=self.system.address,
                   TZ='UTC', LC_ALL='C.UTF-8')
        env.pop('NO_COLOR', None)
        return env

    def ctl(self, *args, status=0, timeout=60):
        '''Runs dermarollctl; asserts its exit status; returns (stdout, stderr).'''
        proc = subprocess.run([ctl_path(), *args], env=self.env(), capture_output=True,
                              text=True, timeout=timeout * TIMEOUT_FACTOR,
                              stdin=subprocess.DEVNULL)
        self.assertEqual(proc.returncode, status,
                         f'dermarollctl {" ".join(args)}: exit {proc.returncode}, want {status}\n'
                         f'stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}')
        if status == 0:
            self.assertNotIn('\033[', proc.stdout, 'colour on a pipe')
        return proc.stdout, proc.stderr

    def ctl_error(self, *args, status=1):
        '''An error: the status, nothing on stdout, one line on stderr (usage
        errors add a pointer to --help). Returns the first stderr line.'''
        out, err = self.ctl(*args, status=status)
        self.assertEqual(out, '')
        lines = err.splitlines()
        self.assertTrue(lines and lines[0].startswith('dermarollctl: '), err)
        if status == 1:
            self.assertEqual(len(lines), 1, f'more than one line on stderr: {err!r}')
        else:
            self.assertEqual(len(lines), 2, err)
            self.assertRegex(lines[1], r"^Try 'dermarollctl( [a-z]+)? --help'\.$")
        return lines[0]

    def ctl_json(self, *args):
        out, _ = self.ctl(*args, '--json')
        return json.loads(out)

    def spawn_ctl(self, *args):
        proc = subprocess.Popen([ctl_path(), *args], env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        self.addCleanup(self._reap, proc)
        return proc

    def read_until(self, proc, seen, pattern, timeout=10.0):
        '''Reads proc's stdout into the list seen (bytes, one item per read) until
        a line matches pattern (a regex), or fails after timeout. Reads the
        raw fd, so that select() and the data agree (no buffered text hidden
        from it); communicate() reads the rest later.'''
        end = time.monotonic() + timeout * TIMEOUT_FACTOR
        fd = proc.stdout.fileno()
        while time.monotonic() < end:
            if any(re.search(pattern, line) for line in self.text(seen).splitlines()):
                return
            ready, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            seen.append(chunk)
        if any(re.search(pattern, line) for line in self.text(seen).splitlines()):
            return
        self.fail(f'no line matching {pattern!r} in {timeout} s; got: {self.text(seen)!r}')

    @staticmethod
    def text(seen):
        # a read may end inside a multi-byte character: decode the whole
        return b''.join(seen).decode('utf-8', 'replace')

    def _reap(self, proc):
        if proc.poll() is None:
            proc.kill()
        proc.communicate()

    # the daemon's people, asked over D-Bus, not through dermarollctl

    def people(self):
        '''{name: object path} of the Person1 objects in the ObjectManager.'''
        objects = call(self.session.conn, DERMAROLL, MANAGER_PATH, OM_IFACE, 'GetManagedObjects')
        return {ifaces[PERSON_IFACE]['Name']: path for path, ifaces in objects.items()
                if PERSON_IFACE in ifaces}

    def person_prop(self, path, name):
        return get_prop(self.session.conn, DERMAROLL, path, PERSON_IFACE, name)

    def default_person(self):
        '''(name, path) of Manager1.DefaultPerson.'''
        path = self.manager_prop('DefaultPerson')
        return self.person_prop(path, 'Name'), path

    def rest_status(self, path):
        return call(self.session.conn, DERMAROLL, path, PERSON_IFACE, 'GetRestStatus')

    # the daemon and the roller

    def start_paired_with_ctl(self):
        self.start_daemon()
        out, _ = self.ctl('pair', self.ADDRESS.lower())
        self.assertEqual(out, f'Paired {self.ROLLER_NAME} ({self.ADDRESS}).\n')
        self.wait_streaming()

    def live_stream(self, seconds_ago=20.0):
        return proto.Stream(t0_ms=now_ms() - int(seconds_ago * 1000))

    def wait_stream_acked(self, s):
        '''Waits for the roller's ACK of the last frame of stream @s. Before a
        stop: coverage shows before a zone's last frame is in, and a frame
        that arrives after the stop starts a new session.'''
        last = (s.seq - 1) & 0xffff
        self.wait_control(proto.OP_ACK, where=lambda r: r[1] == last)

    def run_session(self):
        '''A session on the roller: forehead (10 revolutions), an
        over-pressure episode, then the nose; stopped with dermarollctl.
        Returns (session id, the stream).'''
        mark = self.events.mark()
        s = self.live_stream(seconds_ago=30)
        s.add(1, 2000, 0, 0)
        s.add(180, 2000, 0, 20)            # 10 revolutions on the forehead
        s.add(20, 6000, 0, 4)              # over the 5.0 N limit for 200 ms
        s.add(40, 3000, 0, 4)              # and back under it
        s.add(1, 2500, 3, 0)               # the nose
        s.add(45, 2500, 3, 16)             # 2 revolutions
        self.roller.push(s.frames())
        started = self.events.wait_signal('SessionStarted', ROLLER_PATH, since=mark)[0]
        session = started.args[0]
        self.events.wait_signal('PressureCleared', ROLLER_PATH, since=mark)
        self.wait_roller_prop('Coverage', lambda c: c.get('nose', 0) > 0)
        self.wait_stream_acked(s)
        out, _ = self.ctl('stop')
        self.assertTrue(out.startswith(f'Ended session {session} on {self.ROLLER_NAME} '
                                       f'({self.ADDRESS}).'), out)
        self.events.wait_signal('SessionEnded', ROLLER_PATH, since=mark)
        wait_until(lambda: self.manager('ListSessions', '(xx)', (0, 0)), 5, 'the session stored')
        return session, s


class NoDaemon(CtlTestCase):

    def test_not_running(self):
        for args in (['list'], ['status'], ['sessions'], ['zones', '--json'], ['coverage'],
                     ['events', '1'], ['exclude', 'nose'], ['pair', self.ADDRESS],
                     ['scan', '--timeout', '1'], ['watch', '--timeout', '1'], ['start'],
                     ['export', '--format', 'csv']):
            out, err = self.ctl(*args, status=1)
            self.assertEqual((out, err), ('', NOT_RUNNING), args)

    def test_not_running_system_bus(self):
        _, err = self.ctl('--system', 'list', status=1)
        self.assertEqual(err, NOT_RUNNING.replace('session bus', 'system bus'))
        _, err = self.ctl('list', '--system', status=1)
        self.assertEqual(err, NOT_RUNNING.replace('session bus', 'system bus'))

    def test_no_bus(self):
        env = self.env()
        env['DBUS_SESSION_BUS_ADDRESS'] = 'unix:path=' + os.path.join(self.tmpdir, 'nothing')
        proc = subprocess.run([ctl_path(), 'list'], env=env, capture_output=True, text=True)
        self.assertEqual(proc.returncode, 1)
        self.assertTrue(proc.stderr.startswith('dermarollctl: cannot connect to the session bus: '),
                        proc.stderr)
        self.assertEqual(len(proc.stderr.splitlines()), 1)

    def test_usage(self):
        out, err = self.ctl(status=2)
        self.assertEqual(out, '')
        self.assertIn('Usage: dermarollctl', err)
        for args, message in (
                (['bogus'], 'unknown command "bogus"'),
                (['--bogus', 'list'], 'unknown option --bogus'),
                (['list', '--bogus'], 'Unknown option --bogus'),
                (['list', 'extra'], 'list takes no arguments'),
                (['pair'], 'pair needs one ADDRESS'),
                (['pair', 'AA:BB'], '"AA:BB" is not a Bluetooth address (AA:BB:CC:DD:EE:FF)'),
                (['forget', 'nonsense'], '"nonsense" is not a Bluetooth address'),
                (['status', '--roller', 'xx'], '--roller: "xx" is not a Bluetooth address'),
                (['status', 'AA:AA:AA:AA:AA:AA', '--roller', 'BB:BB:BB:BB:BB:BB'],
                 'two different rollers given'),
                (['zone'], 'zone needs one ZONE'),
                (['coverage', 'abc'], '"abc" is not a session id'),
                (['coverage', '0'], '"0" is not a session id'),
                (['events'], 'events needs one SESSION'),
                (['sessions', '--since', '2024-02-30'], '--since: "2024-02-30" is not a date'),
                (['sessions', '--since', '2024-05-02', '--until', '2024-05-01'],
                 '--until 2024-05-01 is not after --since 2024-05-02'),
                (['export'], 'export needs --format csv or --format json'),
                (['export', '--format', 'xml'], '--format: "xml" is neither csv nor json'),
                (['pair', '--json', self.ADDRESS], 'pair has no --json output'),
                (['--roller', self.ADDRESS, 'zones'], 'zones does not take --roller'),
                (['watch', '--timeout', '-1'], '--timeout must be a number of seconds > 0'),
                (['help', 'bogus'], 'unknown command "bogus"'),
                (['coverage', '--svg', '-', '--json'], '--svg - and --json both want stdout'),
                (['list', '--person', 'Ann'], 'list does not take --person'),
                (['--person', 'Ann', 'status'], 'status does not take --person'),
                (['--person'], '--person needs a NAME'),
                (['person'], 'person needs add, rename, remove or use'),
                (['person', 'bogus'], 'unknown person command "bogus" (add, rename, remove or use)'),
                (['person', 'add'], 'person add needs one NAME'),
                (['person', 'add', 'A', 'B'], 'person add needs one NAME'),
                (['person', 'rename', 'A'], 'person rename needs OLD and NEW names'),
                (['person', 'remove'], 'person remove needs one NAME'),
                (['person', 'use'], 'person use needs one NAME'),
                (['person', 'add', 'A', '--delete-data'], '--delete-data is for person remove'),
                (['person', 'add', 'A', '--roller', self.ADDRESS], '--roller is for person use'),
                (['people', 'extra'], 'people takes no arguments'),
                (['people', '--names', '--json'], '--names and --json exclude each other'),
                (['person', 'add', 'A', '--json'], 'person has no --json output'),
                (['notifications', 'bogus'],
                 'unknown notifications command "bogus" (list, enable or disable)'),
                (['notifications', 'enable'], 'notifications enable needs one KIND'),
                (['notifications', 'disable', 'a', 'b'], 'notifications disable needs one KIND'),
                (['notifications', 'list', 'x'], 'notifications list takes no arguments'),
                (['notifications', 'enable', 'low-battery', '--json'],
                 '--json is for notifications list')):
            line = self.ctl_error(*args, status=2)
            self.assertIn(message, line, args)

    def test_help(self):
        out, _ = self.ctl('--help')
        for name in COMMANDS:
            self.assertRegex(out, rf'\n  {name}\b', name)
        self.assertIn('Exit status: 0 on success, 1 on an error, 2 on bad usage.', out)
        for name in COMMANDS:
            out, _ = self.ctl(name, '--help')
            self.assertIn(f'Usage:\n  dermarollctl [OPTION…] {name}', out)
            self.assertIn('Example:\n  dermarollctl ' + name, out)
            self.assertIn('--system', out)
        out2, _ = self.ctl('help', 'coverage')
        self.assertIn('--svg', out2)
        out, _ = self.ctl('--version')
        self.assertRegex(out, r'^dermarollctl \d+\.\d+\.\d+\n$')

    def test_roller_option_then_early_exit(self):
        '''--roller given, then --help, --version, a bad option or no
        command: every early way out frees what the option took (the ASan
        build's LeakSanitizer fails this otherwise).'''
        out, _ = self.ctl('--roller', self.ADDRESS, '--help')
        self.assertIn('Usage:', out)
        out, _ = self.ctl(f'--roller={self.ADDRESS}', '--version')
        self.assertTrue(out.startswith('dermarollctl '), out)
        self.assertIn('unknown option --bogus',
                      self.ctl_error('-r', self.ADDRESS, '--bogus', 'list', status=2))
        _, err = self.ctl('--roller', self.ADDRESS, status=2)
        self.assertIn('Usage: dermarollctl', err)

    def test_json_only_on_read_commands(self):
        out, _ = self.ctl('sessions', '--help')
        self.assertIn('--json', out)
        for name in ('list', 'status', 'sessions', 'coverage', 'events', 'zones', 'scan', 'watch',
                     'people', 'notifications'):
            self.assertIn('--json', self.ctl(name, '--help')[0], name)
        for name in ('pair', 'forget', 'zone', 'start', 'stop', 'exclude', 'include', 'sync',
                     'person'):
            self.assertNotIn('--json', self.ctl(name, '--help')[0], name)

    def test_person_option_only_where_it_means_something(self):
        for name in ('sessions', 'coverage', 'events', 'export', 'exclude', 'include', 'zones'):
            self.assertIn('--person=NAME', self.ctl(name, '--help')[0], name)
        for name in ('list', 'status', 'watch', 'people', 'person', 'pair', 'start'):
            self.assertNotIn('--person', self.ctl(name, '--help')[0], name)


class Daemon(CtlTestCase):
    '''The daemon, no roller paired.'''

    def setUp(self):
        super().setUp()
        self.start_daemon()

    def test_zones(self):
        default, _ = self.default_person()
        out, _ = self.ctl('zones')
        lines = out.splitlines()
        self.assertEqual(lines[:2], [f'Zones of {default}, the default person (local time):', ''])
        self.assertEqual(lines[2].split(), ['ID', 'ZONE', 'AREA', 'TARGET', 'PASSES', 'EXCLUDED',
                                            'LAST', 'TREATED', 'AGAIN', 'FROM'])
        self.assertEqual([line.split()[1] for line in lines[3:]], proto.ZONES)
        self.assertIn('60.0 cm²', lines[3])
        self.assertEqual(len({line.index('cm²') for line in lines[3:]}), 1, 'AREA not aligned')
        # nothing treated yet: never, and free now
        for line in lines[3:]:
            self.assertRegex(line, r' no +— +now$')
        zones = self.ctl_json('zones')
        self.assertEqual([z['name'] for z in zones], proto.ZONES)
        self.assertEqual(zones[0], {'id': 0, 'name': 'forehead', 'area_cm2': 60, 'target_passes': 6,
                                    'excluded': False, 'on_face': True, 'last_treated_ms': None,
                                    'free_from_ms': None})
        out, _ = self.ctl('zones', '--names')
        self.assertEqual(out.split(), proto.ZONES)

    def test_exclude_include(self):
        default, path = self.default_person()
        out, _ = self.ctl('exclude', 'nose')
        self.assertEqual(out, f'Excluded nose for {default}: their rollers warn on contact there. '
                              'Include it again with: dermarollctl include nose\n')
        self.assertEqual(self.person_prop(path, 'ExcludedZones'), ['nose'])
        self.assertTrue([z for z in self.ctl_json('zones') if z['name'] == 'nose'][0]['excluded'])
        self.assertRegex(self.ctl('zones')[0], r'\n +3  nose +12\.0 cm² +6  yes +— +now\n')
        out, _ = self.ctl('include', 'nose')
        self.assertEqual(out, f'Included nose again for {default}.\n')
        self.assertEqual(self.person_prop(path, 'ExcludedZones'), [])
        self.assertFalse([z for z in self.ctl_json('zones') if z['name'] == 'nose'][0]['excluded'])

        line = self.ctl_error('exclude', 'elbow')
        self.assertEqual(line, 'dermarollctl: unknown zone "elbow"; valid zones: '
                               + ', '.join(proto.ZONES))
        line = self.ctl_error('include', 'elbow')
        self.assertIn('unknown zone "elbow"', line)

    def test_notifications(self):
        '''notifications lists every kind on; disable and enable switch one
        through the daemon (Manager1.NotificationKinds follows); an unknown
        kind is the daemon's error, naming the valid ones.'''
        def kinds():
            return dict(self.manager_prop('NotificationKinds'))
        out, _ = self.ctl('notifications')
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ['KIND', 'ENABLED'])
        self.assertEqual([line.split() for line in lines[1:]], [[k, 'yes'] for k in kinds()])
        self.assertEqual(self.ctl('notifications', 'list')[0], out)

        out, _ = self.ctl('notifications', 'disable', 'low-battery')
        self.assertEqual(out, 'low-battery notifications are off (the warnings are still '
                              'recorded). Switch them on again with: dermarollctl notifications '
                              'enable low-battery\n')
        self.assertFalse(kinds()['low-battery'])
        listed = self.ctl_json('notifications')
        self.assertEqual(listed[5], {'kind': 'low-battery', 'enabled': False})
        self.assertEqual([k['kind'] for k in listed], list(kinds()))
        self.assertRegex(self.ctl('notifications')[0], r'\nlow-battery +no\n')
        self.assertEqual(self.ctl('notifications', 'enable', 'low-battery')[0],
                         'low-battery notifications are on.\n')
        self.assertTrue(kinds()['low-battery'])

        line = self.ctl_error('notifications', 'disable', 'battery')
        self.assertEqual(line, 'dermarollctl: unknown notification kind "battery"; valid kinds: '
                               + ', '.join(kinds()))

    def test_nothing_stored_yet(self):
        self.assertEqual(self.ctl('sessions')[0], 'No sessions yet.\n')
        self.assertEqual(self.ctl('sessions', '--since', '2024-01-01')[0],
                         'No sessions in that time.\n')
        self.assertEqual(self.ctl_json('sessions'), [])
        self.assertEqual(self.ctl_error('coverage'), 'dermarollctl: no sessions yet')
        self.assertEqual(self.ctl_error('coverage', 'last'), 'dermarollctl: no sessions yet')
        self.assertEqual(self.ctl_error('events', 'last'), 'dermarollctl: no sessions yet')
        line = self.ctl_error('coverage', '99')
        self.assertNotIn('GDBus.Error', line)
        self.assertNotIn('org.dermaroll.Error', line)
        line = self.ctl_error('events', '99')
        self.assertNotIn('GDBus.Error', line)
        out, _ = self.ctl('export', '--format', 'csv')
        self.assertEqual(out, 'record,session,roller,session_start,session_end,time,zone,coverage,'
                              'passes,rolled_cm2,peak_force_n,event,details,ticks,force_n,person\n')
        exported = json.loads(self.ctl('export', '--format', 'json')[0])
        self.assertEqual((exported['format'], exported['version'], exported['sessions']),
                         ('dermaroll-export', 1, []))

    def test_unknown_roller(self):
        # bluetoothd knows the roller's device from the start: the daemon
        # publishes it (unpaired) once it has read bluetoothd's objects.
        rollers = wait_until(lambda: self.ctl_json('list'), 5, 'the roller bluetoothd knows')
        # Seen, not paired, and the only one: commands use it.
        self.assertEqual([r['address'] for r in rollers], [self.ADDRESS])
        self.assertFalse(rollers[0]['paired'])
        self.assertIn('Paired        no\n', self.ctl('status')[0])
        known = f'known rollers: {self.ADDRESS}'
        self.assertEqual(self.ctl_error('status', '11:22:33:44:55:66'),
                         f'dermarollctl: unknown roller 11:22:33:44:55:66 ({known})')
        self.assertEqual(self.ctl_error('forget', '11:22:33:44:55:66'),
                         f'dermarollctl: unknown roller 11:22:33:44:55:66 ({known})')
        self.assertEqual(self.ctl_error('--roller', '11:22:33:44:55:66', 'start'),
                         f'dermarollctl: unknown roller 11:22:33:44:55:66 ({known})')

    def test_daemon_goes_away_during_watch(self):
        watch = self.spawn_ctl('watch')
        self.read_until(watch, [], r'^Watching ')   # attached, in its main loop
        self.daemon.stop()
        out, err = watch.communicate(timeout=10 * TIMEOUT_FACTOR)
        self.assertEqual(watch.returncode, 1, err)
        self.assertIn('dermarolld is not running any more', err)

    def test_scan(self):
        # The name is owned before the daemon has read bluetoothd's devices:
        # wait until it has the roller, so that the row does not depend on
        # the roller turning up within the scan's 3 s.
        self.wait_roller_prop('RSSI', lambda rssi: rssi in (-58, -57))
        out, _ = self.ctl('scan', '--timeout', '3')
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ['ADDRESS', 'NAME', 'RSSI', 'PAIRED'])
        self.assertIn(self.ADDRESS, out, 'the roller in range not listed')
        row = [line for line in lines if line.startswith(self.ADDRESS)][0]
        # the mock bluetoothd advertises the roller at -58 dBm, then -57
        self.assertRegex(row, rf'^{self.ADDRESS}  {self.ROLLER_NAME} +-5[78] dBm +no +(new|known)$')
        self.assertRegex(lines[-1], r'^1 roller seen\.')
        self.assertFalse(self.manager_prop('Discovering'), 'scan left discovery running')

        out, _ = self.ctl('scan', '--timeout', '3', '--json')
        seen = [json.loads(line) for line in out.splitlines()]
        mine = [s for s in seen if s['address'] == self.ADDRESS]
        self.assertTrue(mine, out)
        self.assertIn(mine[-1]['rssi_dbm'], (-58, -57))
        self.assertEqual(mine[0]['paired'], False)

    def test_scan_stops_on_sigint(self):
        scan = self.spawn_ctl('scan')
        wait_until(lambda: self.manager_prop('Discovering'), 10, 'discovery to start')
        scan.send_signal(signal.SIGINT)
        out, err = scan.communicate(timeout=10 * TIMEOUT_FACTOR)
        self.assertEqual(scan.returncode, 0, err)
        self.assertFalse(self.manager_prop('Discovering'))

    def manager_prop(self, name):
        return self.manager_props()[name]

    def manager_props(self):
        from fixtures import get_all, MANAGER_IFACE
        return get_all(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE)


class Export(CtlTestCase):
    '''export --samples streamed through Manager1.ExportSamples, on a
    database tests/store-fill wrote before the daemon started: its sessions
    and samples are known by formula (store-fill.c), so every byte of the
    samples' rows is computed here.'''

    FILL_ADDRESS = 'C0:FF:EE:00:0E:01'
    START_MS = 1_700_000_000_000

    def fill(self, sessions, samples):
        if not os.access(store_fill_path(), os.X_OK):
            raise unittest.SkipTest(f'no store-fill at {store_fill_path()}')
        os.makedirs(self.daemon.state_dir, mode=0o700, exist_ok=True)
        subprocess.run([store_fill_path(), self.daemon.db_path, self.FILL_ADDRESS,
                        str(sessions), str(samples), str(self.START_MS)], check=True,
                       capture_output=True)
        self.n_sessions, self.n_samples = sessions, samples
        self.start_daemon()
        self.zones = {z[0]: z[1] for z in self.manager('GetZones')}

    def samples(self, s):
        '''(time ms, ticks, force mN, zone byte) of session index s, as
        store-fill.c makes them.'''
        t0 = self.START_MS + s * DAY_MS
        return [(t0 + 10 * k, (1000 * s + 3 * k) % (1 << 32),
                 0xFFFF if k % 1000 == 999 else (s * 7 + k) % 9000, k % 8)
                for k in range(self.n_samples)]

    @staticmethod
    def iso(ms):
        return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(ms // 1000)) + \
            f'.{ms % 1000:03d}+00:00'

    def zone_name(self, zone):
        return self.zones.get(zone, '' if zone == 0xFF else str(zone))

    def csv_sample_lines(self, s, person):
        t0 = self.START_MS + s * DAY_MS
        prefix = (f'sample,{s + 1},{self.FILL_ADDRESS},{self.iso(t0)},'
                  f'{self.iso(t0 + 10 * (self.n_samples - 1))},')
        return [prefix + f'{self.iso(t)},{self.zone_name(z)},,,,,,,{ticks},'
                + ('' if f == 0xFFFF else f'{f // 1000}.{f % 1000:03d}') + f',{person}'
                for t, ticks, f, z in self.samples(s)]

    def export_samples(self, session, conn=None, read_bytes=None):
        '''Manager1.ExportSamples(session, the write end of a pipe); reads
        the read end to its end (or read_bytes of it, then closes it).
        Returns (the bytes read, the reply's count or the error (name,
        message)).'''
        conn = conn or self.session.conn
        r, w = os.pipe()
        fds = Gio.UnixFDList()
        fds.append(w)
        os.close(w)
        done = []
        conn.call_with_unix_fd_list(DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'ExportSamples',
                                    GLib.Variant('(th)', (session, 0)), None,
                                    Gio.DBusCallFlags.NONE, int(60_000 * TIMEOUT_FACTOR), fds,
                                    None, lambda c, res: done.append(res))
        del fds
        data = bytearray()
        with os.fdopen(r, 'rb', buffering=0) as f:
            while read_bytes is None or len(data) < read_bytes:
                chunk = f.read(65536 if read_bytes is None else read_bytes - len(data))
                if not chunk:
                    break
                data += chunk
        # the reply comes or the call's own timeout does
        while not done:
            GLib.MainContext.default().iteration(True)
        try:
            reply, _ = conn.call_with_unix_fd_list_finish(done[0])
            return bytes(data), reply.unpack()[0]
        except GLib.Error as e:
            return bytes(data), dbus_error(e)

    def assertLinesEqual(self, got, want):
        '''Long lists: the first difference, not difflib's whole diff.'''
        for i, (a, b) in enumerate(zip(got, want)):
            self.assertEqual(a, b, f'line {i}')
        self.assertEqual(len(got), len(want))

    @staticmethod
    def records(data):
        import struct
        return [struct.unpack_from('<qIHBx', data, i) for i in range(0, len(data), 16)]

    def test_export_samples_exact(self):
        '''Three sessions: the CSV's sample rows and the JSON's samples are
        every sample, byte for byte; ExportSamples' stream is
        GetSessionSamples', with its count in the reply.'''
        self.fill(3, 2345)
        person, _ = self.default_person()
        for s in range(3):
            want = self.samples(s)
            self.assertEqual([tuple(x) for x in self.manager('GetSessionSamples', '(t)', (s + 1,))],
                             want)
            data, count = self.export_samples(s + 1)
            self.assertEqual((len(data) % 16, count), (0, len(want)))
            self.assertLinesEqual(self.records(data), want)
        out, err = self.ctl('export', '--format', 'csv', '--samples')
        self.assertEqual(err, '')
        lines = out.splitlines()
        self.assertEqual(lines[0], 'record,session,roller,session_start,session_end,time,zone,'
                                   'coverage,passes,rolled_cm2,peak_force_n,event,details,ticks,'
                                   'force_n,person')
        self.assertLinesEqual([x for x in lines if x.startswith('sample,')],
                              [x for s in range(3) for x in self.csv_sample_lines(s, person)])
        # the sample rows come right after their session's other rows
        for s in range(3):
            first = lines.index(self.csv_sample_lines(s, person)[0])
            self.assertTrue(lines[first - 1].split(',')[1] == str(s + 1), lines[first - 1])
        # without --samples: the same document without the sample rows
        self.assertLinesEqual(self.ctl('export', '--format', 'csv')[0].splitlines(),
                              [x for x in lines if not x.startswith('sample,')])
        exported = json.loads(self.ctl('export', '--format', 'json', '--samples')[0])
        self.assertEqual(len(exported['sessions']), 3)
        for s, session in enumerate(exported['sessions']):
            self.assertLinesEqual(
                [(x['time_ms'], x['ticks'],
                  None if x['force_n'] is None else round(x['force_n'] * 1000), x['zone'])
                 for x in session['samples']],
                [(t, ticks, None if f == 0xFFFF else f, self.zone_name(z) or None)
                 for t, ticks, f, z in self.samples(s)])
        path = os.path.join(self.tmpdir, 'export.csv')
        out, err = self.ctl('export', '--format', 'csv', '--samples', '-o', path)
        self.assertEqual((out, err), ('', f'Exported 3 sessions to {path}\n'))
        with open(path, encoding='utf-8') as f:
            self.assertLinesEqual(f.read().splitlines(), lines)

    def test_export_memory_bounded(self):
        '''300,000 samples (45 MB of CSV, held whole before the export
        streamed): the client's peak RSS and the daemon's stay
        under 20 MB, and every sample row is there, the last one exact.'''
        self.fill(12, 25_000)
        person, _ = self.default_person()
        # To stdout, a pipe this reads: the client's VmHWM is read while it
        # waits for the pipe, alive (wait4's ru_maxrss would count this
        # Python process too, copied at the fork).
        proc = subprocess.Popen([ctl_path(), 'export', '--format', 'csv', '--samples'],
                                env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.addCleanup(self._reap, proc)
        n, last, peak, buf, got = 0, None, 0, b'', 0
        fd = proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            got += len(chunk)
            try:
                with open(f'/proc/{proc.pid}/status', encoding='ascii') as f:
                    peak = max([peak] + [int(x.split()[1]) for x in f if x.startswith('VmHWM:')])
            except FileNotFoundError:
                pass
            buf += chunk
            lines = buf.split(b'\n')
            buf = lines.pop()
            for line in lines:
                if line.startswith(b'sample,'):
                    n += 1
                    last = line
        self.assertEqual(proc.wait(), 0, proc.stderr.read())
        self.assertEqual(buf, b'')
        self.assertEqual(n, 12 * 25_000)
        self.assertEqual(last.decode(), self.csv_sample_lines(11, person)[-1])
        self.assertGreater(got, 40 << 20)
        if memory_bounds_apply():
            self.assertGreater(peak, 0)
            self.assertLess(peak, 20 * 1024, 'client peak RSS (KiB)')
            if not DAEMON_WRAPPER:
                with open(f'/proc/{self.daemon.proc.pid}/status', encoding='ascii') as f:
                    hwm = [int(x.split()[1]) for x in f if x.startswith('VmHWM:')][0]
                self.assertLess(hwm, 20 * 1024, 'daemon peak RSS (KiB)')

    def test_export_errors(self):
        '''Unknown session: NotFound, and the stream ends empty; no file
        descriptor, or one not open for writing: InvalidArgument.'''
        self.fill(1, 100)
        for sid in (0, 2, (1 << 64) - 1):
            data, error = self.export_samples(sid)
            self.assertEqual((data, error[0]), (b'', 'org.dermaroll.Error.NotFound'), sid)
            self.assertIn(str(sid), error[1])
        with self.assertRaises(GLib.Error) as e:
            call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'ExportSamples',
                 '(th)', (1, 0))
        self.assertEqual(dbus_error(e.exception)[0], 'org.dermaroll.Error.InvalidArgument')
        r, w = os.pipe()
        fds = Gio.UnixFDList()
        fds.append(r)
        with self.assertRaises(GLib.Error) as e:
            self.session.conn.call_with_unix_fd_list_sync(
                DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'ExportSamples',
                GLib.Variant('(th)', (1, 0)), None, Gio.DBusCallFlags.NONE, 10_000, fds, None)
        self.assertEqual(dbus_error(e.exception), ('org.dermaroll.Error.InvalidArgument',
                                                   'fd: not open for writing'))
        os.close(r)
        os.close(w)

    def test_reader_closes_early(self):
        '''A reader that takes 16 bytes of 3.2 MB and closes its end (the
        pipe holds 64 KiB, so the daemon is certain to be writing): the
        reply is Closed, the daemon lives on (no SIGPIPE) and the next
        export is whole.'''
        self.fill(1, 200_000)
        data, error = self.export_samples(1, read_bytes=16)
        self.assertEqual(len(data), 16)
        self.assertEqual(error[0], 'org.dermaroll.Error.Closed', error)
        self.assertTrue(self.daemon.running())
        data, count = self.export_samples(1)
        self.assertEqual((len(data), count), (16 * 200_000, 200_000))
        self.assertEqual(self.records(data[-16:]), self.samples(0)[-1:])
        self.assertEqual(self.ctl('sessions', '--json')[1], '')


class PairProgress(CtlTestCase):
    '''dermarollctl pair says how far it got while it waits (on a terminal:
    stderr is a pty here), and a Pair that fails leaves nothing listed.'''

    NOBODY = '00:11:22:33:44:7A'     # no roller has it

    def setUp(self):
        super().setUp()
        self.start_daemon('--discovery-timeout', '1')

    def ctl_tty(self, *args, timeout=60):
        '''dermarollctl with stderr on a pseudo-terminal (stdout a pipe);
        returns (status, stdout, the terminal's lines).'''
        import pty
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen([ctl_path(), *args], env=self.env(), stdout=subprocess.PIPE,
                                    stderr=slave, stdin=subprocess.DEVNULL)
        finally:
            os.close(slave)
        self.addCleanup(self._reap, proc)
        seen = []
        end = time.monotonic() + timeout
        try:
            while time.monotonic() < end:
                ready, _, _ = select.select([master], [], [], max(0.0, end - time.monotonic()))
                if not ready:
                    break
                try:
                    chunk = os.read(master, 65536)
                except OSError:          # EIO: the last writer closed it
                    break
                if not chunk:
                    break
                seen.append(chunk)
        finally:
            os.close(master)
        out, _ = proc.communicate(timeout=max(1.0, end - time.monotonic()))
        lines = self.text(seen).replace('\r\n', '\n').splitlines()
        return proc.returncode, out.decode(), lines

    def test_pair_shows_progress(self):
        status, out, lines = self.ctl_tty('pair', self.ADDRESS)
        self.assertEqual(status, 0, lines)
        self.assertEqual(out, f'Paired {self.ROLLER_NAME} ({self.ADDRESS}).\n')
        print('pair progress: ' + ' | '.join(lines), file=sys.stderr)
        self.assertTrue(lines[0].startswith(f'Pairing with {self.ADDRESS}'), lines)
        for step in ('Pairing…', 'Connecting…', 'Setting up (head, history, clock)…'):
            self.assertIn(step, lines)
        self.assertLess(lines.index('Pairing…'), lines.index('Connecting…'))
        self.assertLess(lines.index('Connecting…'), lines.index('Setting up (head, history, clock)…'))

    def test_failed_pair_shows_search_and_leaves_nothing(self):
        # the roller bluetoothd knows is listed first (the daemon finds it
        # after its start), so that the list can only change by the Pair
        before = wait_until(lambda: [r['address'] for r in self.ctl_json('list')], 5,
                            'the roller bluetoothd knows')
        status, out, lines = self.ctl_tty('pair', self.NOBODY)
        print('pair progress: ' + ' | '.join(lines), file=sys.stderr)
        self.assertEqual(status, 1, lines)
        self.assertEqual(out, '')
        self.assertIn(f'Searching for {self.NOBODY}…', lines)
        self.assertEqual(lines[-1], f'dermarollctl: Roller {self.NOBODY} not found within 1 s '
                                    '(is it on and in range?)')
        self.assertEqual([r['address'] for r in self.ctl_json('list')], before)

    def test_forget_removes_unpaired(self):
        # bluetoothd knows the roller: listed, unpaired; forget takes it off
        # the list (it is not paired, nothing stored).
        wait_until(lambda: self.ctl_json('list'), 5, 'the roller bluetoothd knows')
        out, _ = self.ctl('forget', self.ADDRESS)
        self.assertEqual(out, f'Forgot {self.ROLLER_NAME} ({self.ADDRESS}); it is no longer '
                              'listed. Any stored sessions stay in the database.\n')
        self.assertEqual([r['address'] for r in self.ctl_json('list')
                          if r['address'] == self.ADDRESS], [])


class Paired(CtlTestCase):
    '''The roller paired with `dermarollctl pair`.'''

    def setUp(self):
        super().setUp()
        self.start_paired_with_ctl()

    def test_list_and_status(self):
        out, _ = self.ctl('list')
        lines = out.splitlines()
        default, default_path = self.default_person()
        self.assertEqual(lines[0].split(), ['ADDRESS', 'NAME', 'PERSON', 'PAIRED', 'CONNECTED',
                                            'BATTERY', 'NEEDLES', 'HEAD', 'WEAR', 'SESSION'])
        self.assertEqual(len(lines), 2)
        self.assertRegex(lines[1], rf'^{self.ADDRESS}  {self.ROLLER_NAME} +{re.escape(default)} +'
                                   r'yes +yes +(\d+ %|—) +500 µm × 192 +\d+ % +—$')
        rollers = self.ctl_json('list')
        self.assertEqual(len(rollers), 1)
        r = rollers[0]
        props = self.roller_props()
        self.assertEqual(r['address'], self.ADDRESS)
        self.assertEqual(r['name'], self.ROLLER_NAME)
        self.assertEqual(r['object_path'], ROLLER_PATH)
        self.assertEqual((r['paired'], r['connected']), (True, True))
        self.assertEqual(r['needle_length_um'], 500)
        self.assertEqual(r['needle_count'], 192)
        self.assertEqual(r['head_id'], 0xC0FFEE01)
        self.assertEqual(r['battery_percent'], props['Battery'])
        self.assertEqual(r['force_limit_n'], props['ForceLimit'])
        self.assertEqual((r['person'], r['person_object_path']), (default, default_path))
        # the last RSSI seen while discovering (pairing discovered it)
        self.assertEqual(r['rssi_dbm'], props['RSSI'] or None)

        out, _ = self.ctl('status')
        self.assertIn(f'Roller        {self.ROLLER_NAME} ({self.ADDRESS})\n', out)
        self.assertIn('Connected     yes\n', out)
        self.assertRegex(out, r'Needle head   #3237998081: 192 needles of 500 µm, \d+ % worn\n')
        self.assertRegex(out, r'Force         \[[█░|]+\]  \d+\.\d N / 5\.0 N\n')
        self.assertIn('Session       none\n', out)
        self.assertIn(f'Person        {default}\n', out)
        self.assertEqual(self.ctl('status', self.ADDRESS.lower())[0], out)
        self.assertEqual(self.ctl('status', '--roller', self.ADDRESS)[0], out)
        self.assertEqual(self.ctl_json('status')['address'], self.ADDRESS)
        self.assertEqual(self.ctl_error('status', '11:22:33:44:55:66'),
                         f'dermarollctl: unknown roller 11:22:33:44:55:66 (known rollers: '
                         f'{self.ADDRESS})')

    def test_current_zone(self):
        '''status and watch show the zone being rolled (Roller1.CurrentZone),
        not only the one the user set.'''
        out, _ = self.ctl('status')
        self.assertIn('Zone          —\nRolling       —\n', out)
        watch = self.spawn_ctl('watch', '--timeout', '30')
        seen = []
        self.read_until(watch, seen, r'^Watching ')
        s = self.live_stream()
        s.add(1, 2000, 5, 0).add(10, 2000, 5, 8)           # the chin, by the sensor
        self.roller.push(s.frames())
        self.wait_roller_prop('CurrentZone', lambda z: z == 'chin')
        self.read_until(watch, seen, r'rolling +chin +is under the roller')
        out, _ = self.ctl('status')
        self.assertIn('Zone          —\nRolling       chin\n', out)
        self.assertEqual(self.ctl_json('status')['current_zone'], 'chin')
        s.add(10, 2000, 3, 8)                               # the nose
        self.roller.push(s.frames())
        self.read_until(watch, seen, r'rolling +nose +is under the roller')
        watch.send_signal(signal.SIGINT)
        out, err = watch.communicate(timeout=10)
        out = self.text(seen) + out
        self.assertEqual(watch.returncode, 0, err)
        self.assertRegex(out, r'  Zone   — · rolling nose\n')

    def test_zone(self):
        self.assertEqual(self.ctl('zone', 'chin')[0],
                         f'Rolling chin with {self.ROLLER_NAME} ({self.ADDRESS}).\n')
        self.assertEqual(self.roller_prop('Zone'), 'chin')
        self.assertEqual(self.ctl_json('status')['zone'], 'chin')
        line = self.ctl_error('zone', 'elbow')
        self.assertEqual(line, 'dermarollctl: unknown zone "elbow"; valid zones: '
                               + ', '.join(proto.ZONES))
        self.assertEqual(self.roller_prop('Zone'), 'chin')
        self.ctl('zone', '')
        self.assertEqual(self.roller_prop('Zone'), '')

    def test_start_stop(self):
        out, _ = self.ctl('start')
        session = self.roller_prop('ActiveSession')
        self.assertNotEqual(session, 0)
        self.assertEqual(out, f'Started session {session} on {self.ROLLER_NAME} ({self.ADDRESS}).\n')
        out, _ = self.ctl('start')
        self.assertEqual(out, f'Session {session} is already running on {self.ROLLER_NAME} '
                              f'({self.ADDRESS}).\n')
        self.assertIn(f'Session       {session} (active)', self.ctl('status')[0])
        out, _ = self.ctl('stop')
        self.assertTrue(out.startswith(f'Ended session {session} '), out)
        self.assertIn(f'dermarollctl coverage {session}', out)
        self.assertEqual(self.ctl_error('stop'),
                         f'dermarollctl: no session is active on roller {self.ADDRESS}')

    def test_coverage_aftercare(self):
        # The session's needle (the default head's 0.50 mm) through
        # GetSessionInfo, and the aftercare table's lines for that class.
        session, _ = self.run_session()
        info = self.manager('GetSessionInfo', '(t)', (session,))
        self.assertEqual(info, {'needle-length-um': 500, 'head-id': 0xC0FFEE01})
        self.assertDBusError('org.dermaroll.Error.NotFound', self.manager, 'GetSessionInfo',
                             '(t)', (session + 1,))
        advice = ['Apply a hyaluronic acid serum or a soothing sheet mask now.',
                  'Use sunscreen (SPF 30 or more) for the next days: the skin is more '
                  'sensitive to the sun.',
                  'Redness for the first day is normal and fades.',
                  'No retinoids or acids (AHA, BHA, vitamin C) for 24 hours.',
                  'Clean and disinfect the roller now (70 % isopropyl alcohol), let it dry and '
                  'store it in its case.']
        out, _ = self.ctl('coverage', str(session))
        lines = out.splitlines()
        at = lines.index('Aftercare (0.50 mm needles):')
        self.assertEqual(lines[at - 1], '')   # after the table, or its again-from lines
        self.assertTrue(lines[at - 2].startswith('unassigned') or lines[at - 2].split()[0]
                        .rstrip(':') in proto.ZONES, lines[at - 2])
        self.assertEqual(lines[at + 1:], [f'  - {a}' for a in advice])
        data = self.ctl_json('coverage', str(session))
        self.assertEqual(data['needle_length_um'], 500)
        self.assertEqual(data['aftercare'], advice)

    def test_session_history(self):
        session, stream = self.run_session()
        start_ms = stream.samples[0][0]

        # sessions
        out, _ = self.ctl('sessions')
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ['SESSION', 'START', 'DURATION', 'PERSON', 'ROLLER',
                                            'COVERAGE'])
        default, default_path = self.default_person()
        self.assertIn(f'  {default}  ', lines[1])
        when = time.strftime('%Y-%m-%d %H:%M', time.gmtime(start_ms / 1000))
        self.assertRegex(lines[1], rf'^ *{session}  {when} +\S.* +{self.ADDRESS} +\d+ %$')
        listed = self.ctl_json('sessions')
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]['id'], session)
        self.assertEqual(listed[0]['roller'], self.ADDRESS)
        self.assertEqual(listed[0]['start_ms'], start_ms)
        self.assertFalse(listed[0]['active'])
        self.assertEqual((listed[0]['person'], listed[0]['person_object_path']),
                         (default, default_path))
        self.assertTrue(listed[0]['start'].endswith('+00:00'), listed[0]['start'])
        day = time.strftime('%Y-%m-%d', time.gmtime(start_ms / 1000))
        self.assertEqual(len(self.ctl_json('sessions', '--since', day)), 1)
        self.assertEqual(len(self.ctl_json('sessions', '--until', day)), 1)
        self.assertEqual(self.ctl_json('sessions', '--since', '2099-01-01'), [])
        self.assertEqual(self.ctl_json('sessions', '--until', '2000-01-01'), [])
        self.assertEqual(len(self.ctl_json('sessions', '--roller', self.ADDRESS)), 1)
        self.assertEqual(self.ctl_json('sessions', '--roller', '11:22:33:44:55:66'), [])

        # coverage: the table, JSON equal to the daemon's, and the face map
        coverage = self.manager('GetSessionCoverage', '(t)', (session,))
        out, _ = self.ctl('coverage')
        self.assertEqual(out, self.ctl('coverage', 'last')[0])
        self.assertEqual(out, self.ctl('coverage', str(session))[0])
        self.assertTrue(out.startswith(f'Session {session}, '), out)
        rows = coverage_rows(out)
        forehead = coverage['forehead']
        self.assertIn(f'{forehead[0] * 100:.0f} %', rows['forehead'])
        self.assertIn(f'{forehead[1]:.1f} / 6', rows['forehead'])
        self.assertIn(f'{forehead[2]:.1f} cm²', rows['forehead'])
        self.assertIn('6.0 N', rows['forehead'])     # the peak of the episode
        self.assertIn('missed', rows['neck'])
        data = self.ctl_json('coverage', str(session))
        self.assertEqual(data['id'], session)
        by_zone = {z['zone']: z for z in data['zones']}
        self.assertEqual(list(by_zone)[:7], proto.ZONES)
        for zone, (cov, passes, rolled, peak) in coverage.items():
            z = by_zone[zone]
            self.assertAlmostEqual(z['coverage'], cov, places=9)
            self.assertAlmostEqual(z['passes'], passes, places=9)
            self.assertAlmostEqual(z['rolled_cm2'], rolled, places=9)
            self.assertAlmostEqual(z['peak_force_n'], peak, places=9)
        self.assertTrue(by_zone['nose']['on_face'])

        svg = os.path.join(self.tmpdir, 'coverage.svg')
        out, _ = self.ctl('coverage', '--svg', svg)
        self.assertIn(f'Face map written to {svg}', out)
        root = ET.parse(svg).getroot()
        self.assertEqual(root.tag, '{http://www.w3.org/2000/svg}svg')
        texts = [''.join(t.itertext()) for t in root.iter('{http://www.w3.org/2000/svg}text')]
        self.assertIn(f'Face coverage — session {session}', texts)
        self.assertIn(f'{when} · roller {self.ROLLER_NAME} ({self.ADDRESS})', texts)
        self.assertIn(f'{forehead[0] * 100:.0f} %', texts)
        out, _ = self.ctl('coverage', '--svg', '-')
        self.assertTrue(out.startswith('<?xml'), out[:80])
        line = self.ctl_error('coverage', '--svg', os.path.join(self.tmpdir, 'no', 'such', 'x.svg'))
        self.assertTrue(line.startswith('dermarollctl: cannot write the face map: '), line)

        # events
        out, _ = self.ctl('events', str(session))
        self.assertIn('pressure-started  forehead  6.0 N, over the 5.0 N limit', out)
        self.assertRegex(out, r'pressure-ended +forehead +peak 6\.0 N, for \d+ ms')
        self.assertIn('session-started', out)
        events = self.ctl_json('events', str(session))
        daemon_events = self.manager('GetSessionEvents', '(t)', (session,))
        self.assertEqual([(e['time_ms'], e['kind']) for e in events],
                         [(e[0], e[1]) for e in daemon_events])
        started = [e for e in events if e['kind'] == 'pressure-started'][0]
        self.assertEqual(started['details']['zone'], 'forehead')
        self.assertAlmostEqual(started['details']['limit-n'], 5.0)
        self.assertEqual(self.ctl_json('events', 'last'), events)

        # export
        out, _ = self.ctl('export', '--format', 'csv')
        records = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual([r['record'] for r in records if r['record'] == 'session'], ['session'])
        zones = [r for r in records if r['record'] == 'coverage']
        self.assertEqual([r['zone'] for r in zones][:7], proto.ZONES)
        self.assertAlmostEqual(float([r for r in zones if r['zone'] == 'forehead'][0]['passes']),
                               forehead[1], places=4)
        evs = [r for r in records if r['record'] == 'event']
        self.assertEqual([r['event'] for r in evs], [e[1] for e in daemon_events])
        self.assertEqual(json.loads([r for r in evs if r['event'] == 'pressure-started'][0]
                                    ['details'])['zone'], 'forehead')
        exported = json.loads(self.ctl('export', '--format', 'json')[0])
        self.assertEqual(len(exported['sessions']), 1)
        self.assertEqual(exported['sessions'][0]['id'], session)
        self.assertEqual(len(exported['sessions'][0]['events']), len(daemon_events))
        self.assertNotIn('samples', exported['sessions'][0])
        # --samples: every sample, as the roller sent it (every one of this
        # session is in contact, so the session holds them all)
        want = [(t, ticks, force / 1000, proto.ZONES[zone]) for t, ticks, force, zone in stream.samples]
        self.assertEqual([tuple(x) for x in self.manager('GetSessionSamples', '(t)', (session,))],
                         [(t, ticks, force, zone) for t, ticks, force, zone in stream.samples])
        out, err = self.ctl('export', '--format', 'json', '--samples')
        self.assertEqual(err, '')
        got = [(x['time_ms'], x['ticks'], x['force_n'], x['zone'])
               for x in json.loads(out)['sessions'][0]['samples']]
        self.assertEqual(got, want)
        out, _ = self.ctl('export', '--format', 'csv', '--samples')
        rows = [r for r in csv.DictReader(io.StringIO(out)) if r['record'] == 'sample']
        self.assertEqual([(int(r['ticks']), float(r['force_n']), r['zone']) for r in rows],
                         [(ticks, force, zone) for _, ticks, force, zone in want])
        path = os.path.join(self.tmpdir, 'export.csv')
        out, err = self.ctl('export', '--format', 'csv', '-o', path, '--since', day)
        self.assertEqual(out, '')
        self.assertEqual(err, f'Exported 1 session to {path}\n')
        with open(path, encoding='utf-8') as f:
            self.assertEqual(len(list(csv.DictReader(f))), len(records))

    def test_coverage_warnings(self):
        '''What went wrong, in the NOTE column, the JSON and on the map, while the
        session is still in progress and after it ended: the nose rolled past
        twice its target (16 revolutions: 12.6 passes of 6), the chin rolled
        while excluded, one over-pressure episode on the forehead.'''
        self.ctl('exclude', 'chin')
        mark = self.events.mark()
        s = self.live_stream(seconds_ago=30)
        s.add(1, 2000, 0, 0)
        s.add(36, 2000, 0, 20)             # 2 revolutions on the forehead
        s.add(20, 6000, 0, 4)              # over the 5.0 N limit for 200 ms
        s.add(40, 3000, 0, 4)              # and back under it
        s.add(1, 2500, 3, 0)
        s.add(288, 2500, 3, 20)            # the nose: 16 revolutions
        s.add(1, 2500, 5, 0)
        s.add(36, 2500, 5, 20)             # the chin, excluded: 2 revolutions
        self.roller.push(s.frames())
        session = self.events.wait_signal('SessionStarted', ROLLER_PATH, since=mark)[0].args[0]

        def kinds():
            return {(e[1], e[2].get('zone')) for e in
                    self.manager('GetSessionEvents', '(t)', (session,))}
        want = {('over-treated', 'nose'), ('excluded', 'chin'), ('pressure-ended', 'forehead')}
        wait_until(lambda: want <= kinds(), 10, 'the events of the session', kinds)
        wait_until(lambda: self.manager('GetSessionCoverage', '(t)', (session,))['chin'][1] > 0,
                   10, 'the chin rolled')
        coverage = self.manager('GetSessionCoverage', '(t)', (session,))
        nose_passes = coverage['nose'][1]
        self.assertGreaterEqual(nose_passes, 12.0)

        out, _ = self.ctl('coverage')
        self.assertRegex(out.splitlines()[0],
                         rf'^Session {session}, .*, in progress, roller {self.ROLLER_NAME} '
                         rf'\({self.ADDRESS}\): mean coverage \d+ %$')
        rows = coverage_rows(out)
        self.assertTrue(rows['nose'].endswith(f'over-treated ({nose_passes:.1f} passes of 6)'),
                        rows['nose'])
        self.assertTrue(rows['chin'].endswith('excluded, but rolled'), rows['chin'])
        self.assertTrue(rows['forehead'].endswith('over-pressure (peak 6.0 N)'), rows['forehead'])
        self.assertTrue(rows['neck'].endswith('missed'), rows['neck'])
        self.assertTrue(rows['upper-lip'].endswith('missed'), rows['upper-lip'])

        data = self.ctl_json('coverage')
        self.assertTrue(data['active'])
        self.assertEqual(data['roller_name'], self.ROLLER_NAME)
        by_zone = {z['zone']: z for z in data['zones']}
        self.assertEqual([(z, by_zone[z]['over_treated'], by_zone[z]['rolled_excluded'],
                           by_zone[z]['pressure_episodes']) for z in proto.ZONES],
                         [('forehead', False, False, 1), ('left-cheek', False, False, 0),
                          ('right-cheek', False, False, 0), ('nose', True, False, 0),
                          ('upper-lip', False, False, 0), ('chin', False, True, 0),
                          ('neck', False, False, 0)])
        self.assertEqual(by_zone['chin']['note'], 'excluded, but rolled')
        self.assertEqual(by_zone['nose']['note'], f'over-treated ({nose_passes:.1f} passes of 6)')
        self.assertEqual(by_zone['left-cheek']['note'], 'missed')

        svg = os.path.join(self.tmpdir, 'live.svg')
        self.ctl('coverage', '--svg', svg)
        root = ET.parse(svg).getroot()
        ns = '{http://www.w3.org/2000/svg}'
        texts = [''.join(t.itertext()) for t in root.iter(ns + 'text')]
        self.assertIn(f'Face coverage — session {session} (in progress)', texts)
        self.assertIn(f'roller {self.ROLLER_NAME} ({self.ADDRESS})', texts[1])
        self.assertIn('over-treated', texts)
        self.assertIn('excluded, but rolled', texts)
        self.assertIn('over-pressure', texts)
        self.assertIn(self.ROLLER_NAME, root.find(ns + 'title').text)
        fills = {g.get('id')[5:]: g.find(ns + 'path').get('fill')
                 for g in root.iter(ns + 'g') if (g.get('id') or '').startswith('zone-')}
        self.assertEqual(fills['nose'], '#d55e00')
        self.assertEqual(fills['chin'], '#d55e00')
        self.assertNotEqual(fills['forehead'], '#d55e00')

        # ended: no longer in progress; the notes stay
        self.ctl('stop')
        self.events.wait_signal('SessionEnded', ROLLER_PATH, since=mark)
        out, _ = self.ctl('coverage')
        self.assertNotIn('in progress', out)
        self.assertIn(f', roller {self.ROLLER_NAME} ({self.ADDRESS}): mean coverage', out)
        self.assertIn('over-treated (', out)
        self.ctl('coverage', '--svg', svg)
        texts = [''.join(t.itertext()) for t in ET.parse(svg).getroot().iter(ns + 'text')]
        self.assertIn(f'Face coverage — session {session}', texts)

    def test_watch(self):
        watch = self.spawn_ctl('watch', '--timeout', '30')
        json_watch = self.spawn_ctl('watch', '--json', '--timeout', '30')
        seen, json_seen = [], []
        # both attached to the roller
        self.read_until(watch, seen, r'^Watching ')
        self.read_until(json_watch, json_seen, r'"event": ?"watching"')
        self.run_session()
        out, _ = self.ctl('zone', 'chin')
        self.read_until(watch, seen, r'zone +chin +is being rolled')
        self.read_until(json_watch, json_seen, r'"chin"')
        for proc in (watch, json_watch):
            proc.send_signal(signal.SIGINT)
        out, err = watch.communicate(timeout=10 * TIMEOUT_FACTOR)
        out = self.text(seen) + out
        self.assertEqual(watch.returncode, 0, err)
        self.assertTrue(out.startswith(f'Watching {self.ROLLER_NAME} ({self.ADDRESS}) · connected'),
                        out)
        self.assertRegex(out, r'\d\d:\d\d:\d\d\.\d{3}  session +session \d+ started')
        self.assertRegex(out, r'OVER-PRESSURE +forehead +6\.0 N, over the 5\.0 N limit')
        self.assertRegex(out, r'pressure ok +forehead +pressure back under the limit \(peak 6\.0 N')
        self.assertRegex(out, r'session +session \d+ ended: forehead \d+ %')
        self.assertRegex(out, r'zone +chin +is being rolled')
        self.assertIn('Last state: ', out)
        self.assertRegex(out, r'  Force  \[[█░|]+\]  \d+\.\d N / 5\.0 N\n')

        out, err = json_watch.communicate(timeout=10 * TIMEOUT_FACTOR)
        out = self.text(json_seen) + out
        self.assertEqual(json_watch.returncode, 0, err)
        lines = [json.loads(line) for line in out.splitlines()]
        kinds = [e['event'] for e in lines]
        self.assertEqual(kinds[0], 'watching')
        self.assertEqual(lines[0]['roller']['address'], self.ADDRESS)
        for kind in ('session-started', 'pressure-warning', 'pressure-cleared', 'session-ended',
                     'properties-changed'):
            self.assertIn(kind, kinds)
        warning = [e for e in lines if e['event'] == 'pressure-warning'][0]
        self.assertEqual((warning['zone'], warning['limit_n']), ('forehead', 5.0))

    def test_watch_timeout(self):
        start = time.monotonic()
        out, _ = self.ctl('watch', '--timeout', '1.5')
        self.assertGreaterEqual(time.monotonic() - start, 1.4)
        self.assertTrue(out.startswith('Watching '), out)

    def test_sync(self):
        out, _ = self.ctl('sync')
        self.assertEqual(out, f'Synced the stored history of {self.ROLLER_NAME} ({self.ADDRESS}).\n')

    def test_two_rollers(self):
        other = 'C0:FF:EE:00:00:02'
        self.bluez.add_roller(self.ADAPTER, other, Name='DermaRoller 02',
                              HeadInfo=self.head.encode())
        self.ctl('pair', other)
        wait_until(lambda: len(self.ctl_json('list')) == 2, 10, 'two rollers')
        line = self.ctl_error('status')
        self.assertEqual(line, f'dermarollctl: 2 rollers are known ({self.ADDRESS}, {other}); '
                               'choose one with --roller ADDRESS')
        self.assertEqual(self.ctl_json('status', '--roller', other)['address'], other)
        self.assertEqual(self.ctl_json('--roller', other, 'status')['address'], other)
        self.ctl('zone', 'neck', '--roller', other)
        self.assertEqual(self.roller_prop('Zone', roller_object_path(other)), 'neck')
        self.assertEqual(self.roller_prop('Zone'), '')

    def test_forget(self):
        out, _ = self.ctl('forget', self.ADDRESS)
        self.assertEqual(out, f'Forgot {self.ROLLER_NAME} ({self.ADDRESS}). Its stored sessions '
                              'stay in the database.\n')
        self.assertFalse(self.roller_prop('Paired'))


class People(CtlTestCase):
    """people and person, and --person on every command that takes it; the
    daemon, no roller paired."""

    def setUp(self):
        super().setUp()
        self.start_daemon()

    def test_people(self):
        default, path = self.default_person()
        # the roller bluetoothd knows, once the daemon publishes it (unpaired),
        # is the default person's like every roller nobody chose one for
        wait_until(lambda: self.ctl_json('list'), 5, 'the roller bluetoothd knows')
        out, _ = self.ctl('people')
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ['NAME', 'DEFAULT', 'ROLLERS', 'EXCLUDED', 'ZONES'])
        self.assertEqual(len(lines), 2, out)
        self.assertRegex(lines[1], rf'^{re.escape(default)} +yes +{self.ADDRESS} +—$')
        self.assertEqual(self.ctl_json('people'),
                         [{'name': default, 'object_path': path, 'default': True,
                           'rollers': [self.ADDRESS], 'excluded_zones': []}])
        self.assertEqual(self.ctl('people', '--names')[0], f'{default}\n')

    def test_add_rename_remove(self):
        default, default_path = self.default_person()
        out, _ = self.ctl('person', 'add', 'Ann')
        self.assertEqual(out, 'Added Ann. Give them a roller with: dermarollctl person use Ann\n')
        ann = self.people()['Ann']
        self.assertNotEqual(ann, default_path)
        out, _ = self.ctl('person', 'add', 'Ann Smith')
        self.assertEqual(out, "Added Ann Smith. Give them a roller with: dermarollctl person use "
                              "'Ann Smith'\n")
        # in the order they were added, the default first
        self.assertEqual(self.ctl('people', '--names')[0], f'{default}\nAnn\nAnn Smith\n')
        rows = self.ctl('people')[0].splitlines()[1:]
        self.assertRegex(rows[1], r'^Ann +no +— +—$')
        self.assertEqual([p['default'] for p in self.ctl_json('people')], [True, False, False])

        # the daemon's refusals, as it words them, on one line, exit 1
        for name in ('Ann', default):
            line = self.ctl_error('person', 'add', name)
            message = self.assertDBusError('org.dermaroll.Error.Exists', self.manager, 'AddPerson',
                                           '(s)', (name,))
            self.assertEqual(line, f'dermarollctl: {message}')
            self.assertTrue(message.startswith(f'"{name}" is already the name of another person'),
                            message)
        for name in ('', '   '):
            line = self.ctl_error('person', 'add', name)
            message = self.assertDBusError('org.dermaroll.Error.InvalidArgument', self.manager,
                                           'AddPerson', '(s)', (name,))
            self.assertEqual(line, f'dermarollctl: {message}')
        self.assertEqual(len(self.people()), 3, 'a refused add added someone')

        out, _ = self.ctl('person', 'rename', 'Ann', 'Anna')
        self.assertEqual(out, 'Renamed Ann to Anna.\n')
        self.assertEqual(self.people()['Anna'], ann)
        self.assertEqual(self.person_prop(ann, 'Name'), 'Anna')
        # a name typed in another case, when that leaves no doubt
        self.assertEqual(self.ctl('person', 'rename', 'anna', 'Ann')[0], 'Renamed Anna to Ann.\n')
        line = self.ctl_error('person', 'rename', 'Ann', 'Ann Smith')
        message = self.assertDBusError('org.dermaroll.Error.Exists', call, self.session.conn,
                                       DERMAROLL, ann, PERSON_IFACE, 'Rename', '(s)', ('Ann Smith',))
        self.assertEqual(line, f'dermarollctl: {message}')
        line = self.ctl_error('person', 'rename', 'Ann', '')
        message = self.assertDBusError('org.dermaroll.Error.InvalidArgument', call,
                                       self.session.conn, DERMAROLL, ann, PERSON_IFACE, 'Rename',
                                       '(s)', ('',))
        self.assertEqual(line, f'dermarollctl: {message}')
        self.assertEqual(self.person_prop(ann, 'Name'), 'Ann')

        known = f'known people: {default}, Ann, Ann Smith'
        for args in (['person', 'rename', 'Bob', 'Rob'], ['person', 'remove', 'Bob'],
                     ['person', 'use', 'Bob']):
            self.assertEqual(self.ctl_error(*args, status=2),
                             f'dermarollctl: unknown person "Bob" ({known})', args)

        out, _ = self.ctl('person', 'remove', 'Ann Smith')
        self.assertEqual(out, 'Removed Ann Smith. Their 0 sessions stay in the database, owned by '
                              'nobody.\n')
        out, _ = self.ctl('person', 'remove', 'Ann', '--delete-data')
        self.assertEqual(out, 'Removed Ann and deleted their 0 sessions.\n')
        self.assertEqual(list(self.people()), [default])
        # the default person always exists
        line = self.ctl_error('person', 'remove', default)
        message = self.assertDBusError('org.dermaroll.Error.Refused', self.manager, 'RemovePerson',
                                       '(ob)', (default_path, False))
        self.assertEqual(line, f'dermarollctl: {message}')
        self.assertEqual(message, f'"{default}" is the default person, who always exists; '
                                  'rename them instead')
        self.assertEqual(list(self.people()), [default])

    def test_unknown_person(self):
        default, _ = self.default_person()
        self.ctl('person', 'add', 'Ann')
        want = f'dermarollctl: unknown person "Bob" (known people: {default}, Ann)'
        for args in (['sessions'], ['coverage'], ['coverage', '1'], ['events', 'last'],
                     ['export', '--format', 'csv'], ['exclude', 'nose'], ['include', 'nose'],
                     ['zones'], ['zones', '--json'], ['zones', '--names']):
            self.assertEqual(self.ctl_error(*args, '--person', 'Bob', status=2), want, args)
            self.assertEqual(self.ctl_error('--person', 'Bob', *args, status=2), want, args)
        # nothing for Ann yet
        self.assertEqual(self.ctl('sessions', '--person', 'Ann')[0], 'No sessions yet for Ann.\n')
        self.assertEqual(self.ctl_json('sessions', '--person', 'Ann'), [])
        self.assertEqual(self.ctl_error('coverage', '--person', 'Ann'),
                         'dermarollctl: no sessions yet for Ann')
        self.assertEqual(self.ctl_error('events', 'last', '--person', 'Ann'),
                         'dermarollctl: no sessions yet for Ann')

    def test_exclude_per_person(self):
        default, default_path = self.default_person()
        self.ctl('person', 'add', 'Ann Smith')
        ann = self.people()['Ann Smith']
        out, _ = self.ctl('exclude', 'chin', '--person', 'Ann Smith')
        self.assertEqual(out, "Excluded chin for Ann Smith: their rollers warn on contact there. "
                              "Include it again with: dermarollctl include chin --person "
                              "'Ann Smith'\n")
        self.ctl('--person', 'Ann Smith', 'exclude', 'nose')
        self.assertEqual(self.person_prop(ann, 'ExcludedZones'), ['nose', 'chin'])
        self.assertEqual(self.person_prop(default_path, 'ExcludedZones'), [])
        excluded = {z['name'] for z in self.ctl_json('zones', '--person', 'Ann Smith')
                    if z['excluded']}
        self.assertEqual(excluded, {'nose', 'chin'})
        self.assertEqual([z['name'] for z in self.ctl_json('zones') if z['excluded']], [])
        out, _ = self.ctl('zones', '--person', 'Ann Smith')
        self.assertTrue(out.startswith('Zones of Ann Smith (local time):\n\n'), out)
        self.assertRegex(out, r'\n +5  chin +18\.0 cm² +6  yes +— +now\n')
        self.assertRegex(out, r'\n +0  forehead +60\.0 cm² +6  no +— +now\n')
        row = [r for r in self.ctl('people')[0].splitlines() if r.startswith('Ann Smith')][0]
        self.assertRegex(row, r'^Ann Smith +no +— +nose, chin$')
        self.assertEqual([p['excluded_zones'] for p in self.ctl_json('people')],
                         [[], ['nose', 'chin']])

        line = self.ctl_error('exclude', 'elbow', '--person', 'Ann Smith')
        self.assertEqual(line, 'dermarollctl: unknown zone "elbow"; valid zones: '
                               + ', '.join(proto.ZONES))
        out, _ = self.ctl('include', 'chin', '--person', 'Ann Smith')
        self.assertEqual(out, 'Included chin again for Ann Smith.\n')
        self.assertEqual(self.person_prop(ann, 'ExcludedZones'), ['nose'])


class PeopleRolling(CtlTestCase):
    """People with the roller paired: person use, the person in status,
    list, sessions, coverage, events and export, the rest in zones and
    coverage, and removing a person with and without their data."""

    def setUp(self):
        super().setUp()
        self.start_paired_with_ctl()
        self.seq = 0

    def roll(self, seconds_ago, zones, stop=True):
        """A session on the roller: for each zone id in zones, 2 revolutions at
        2.0 N; stopped with dermarollctl (unless stop is false). Returns
        (session id, end ms: its last sample)."""
        mark = self.events.mark()
        s = proto.Stream(t0_ms=now_ms() - int(seconds_ago * 1000), seq=self.seq)
        for zone in zones:
            s.add(1, 2000, zone, 0)
            s.add(36, 2000, zone, 20)
        self.roller.push(s.frames())
        self.seq = s.seq
        session = self.events.wait_signal('SessionStarted', ROLLER_PATH, since=mark)[0].args[0]
        self.wait_roller_prop('Coverage', lambda c: all(
            c.get(proto.ZONES[z], 0) > 0 for z in zones))
        self.wait_stream_acked(s)
        if stop:
            self.ctl('stop')
            self.events.wait_signal('SessionEnded', ROLLER_PATH, since=mark)
        return session, s.samples[-1][0]

    def test_use_and_status(self):
        default, default_path = self.default_person()
        self.ctl('person', 'add', 'Ann')
        ann = self.people()['Ann']
        out, _ = self.ctl('person', 'use', 'Ann')
        self.assertEqual(out, f'{self.ROLLER_NAME} ({self.ADDRESS}) now rolls for Ann: their '
                              'history, rest and excluded zones apply.\n')
        self.wait_roller_prop('Person', lambda p: p == ann)
        out, _ = self.ctl('person', 'use', 'Ann', '--roller', self.ADDRESS)
        self.assertEqual(out, f'{self.ROLLER_NAME} ({self.ADDRESS}) already rolls for Ann.\n')
        self.assertIn('Person        Ann\n', self.ctl('status')[0])
        self.assertEqual(self.ctl_json('status')['person'], 'Ann')
        self.assertRegex(self.ctl('list')[0].splitlines()[1],
                         rf'^{self.ADDRESS}  {self.ROLLER_NAME} +Ann +yes')
        people = {p['name']: p for p in self.ctl_json('people')}
        self.assertEqual((people['Ann']['rollers'], people[default]['rollers']), ([self.ADDRESS], []))
        self.assertRegex([r for r in self.ctl('people')[0].splitlines() if r.startswith('Ann ')][0],
                         rf'^Ann +no +{self.ADDRESS} +—$')
        self.assertEqual(self.ctl_error('person', 'use', 'Ann', '--roller', '11:22:33:44:55:66'),
                         f'dermarollctl: unknown roller 11:22:33:44:55:66 (known rollers: '
                         f'{self.ADDRESS})')

        # two rollers: which one must be said
        other = 'C0:FF:EE:00:00:02'
        self.bluez.add_roller(self.ADAPTER, other, Name='DermaRoller 02',
                              HeadInfo=self.head.encode())
        self.ctl('pair', other)
        wait_until(lambda: len(self.ctl_json('list')) == 2, 10, 'two rollers')
        self.assertEqual(self.ctl_error('person', 'use', default),
                         f'dermarollctl: 2 rollers are known ({self.ADDRESS}, {other}); '
                         'choose one with --roller ADDRESS')
        self.assertEqual(self.roller_prop('Person'), ann)
        self.assertEqual(self.roller_prop('Person', roller_object_path(other)), default_path)
        self.ctl('person', 'use', 'Ann', '--roller', other)
        self.wait_roller_prop('Person', lambda p: p == ann, path=roller_object_path(other))
        self.assertEqual(self.roller_prop('Person'), ann)
        self.assertEqual({p['name']: p['rollers'] for p in self.ctl_json('people')}['Ann'],
                         [self.ADDRESS, other])

    def test_watch_marks_the_rollers_persons_excluded_zones(self):
        # the default person excludes the nose, Ann the chin; the roller is Ann's
        default, _ = self.default_person()
        self.ctl('exclude', 'nose')
        self.ctl('person', 'add', 'Ann')
        self.ctl('exclude', 'chin', '--person', 'Ann')
        self.ctl('person', 'use', 'Ann')
        self.wait_roller_prop('Person', lambda p: p == self.people()['Ann'])
        self.roll(30, [0, 3, 5])
        out, _ = self.ctl('watch', '--timeout', '0.5')
        self.assertTrue(out.startswith(f'Watching {self.ROLLER_NAME} ({self.ADDRESS}) · connected '
                                       '· battery '), out)
        self.assertRegex(out.splitlines()[0], r' · for Ann · no session$')
        rows = {line.split()[0]: line for line in out.splitlines()
                if re.match(r'^    [a-z-]+ +\[', line)}
        self.assertTrue(rows['chin'].endswith('  excluded'), rows)
        self.assertFalse(rows['nose'].endswith('excluded'), rows)
        self.assertFalse(rows['forehead'].endswith('excluded'), rows)

        # the roller back to the default person: their nose is marked, not Ann's chin
        self.ctl('person', 'use', default)
        self.wait_roller_prop('Person', lambda p: p == self.people()[default])
        out, _ = self.ctl('watch', '--timeout', '0.5')
        self.assertRegex(out.splitlines()[0], rf' · for {default} · no session$')
        rows = {line.split()[0]: line for line in out.splitlines()
                if re.match(r'^    [a-z-]+ +\[', line)}
        self.assertTrue(rows['nose'].endswith('  excluded'), rows)
        self.assertFalse(rows['chin'].endswith('excluded'), rows)

    def test_use_ends_the_session_of_another(self):
        default, _ = self.default_person()
        self.ctl('person', 'add', 'Ann')
        session, _ = self.roll(30, [0], stop=False)
        mark = self.events.mark()
        out, _ = self.ctl('person', 'use', 'Ann')
        self.assertEqual(out, f'{self.ROLLER_NAME} ({self.ADDRESS}) now rolls for Ann: their '
                              'history, rest and excluded zones apply.\n'
                              f'Session {session} of {default} ended first.\n')
        ended = self.events.wait_signal('SessionEnded', ROLLER_PATH, since=mark)[0]
        self.assertEqual(ended.args[0], session)
        self.assertEqual(self.roller_prop('ActiveSession'), 0)

    def test_sessions_by_person(self):
        default, default_path = self.default_person()
        first, first_end = self.roll(60, [0])            # the forehead, for the default person
        self.ctl('person', 'add', 'Ann')
        self.ctl('person', 'use', 'Ann')
        ann = self.people()['Ann']
        second, second_end = self.roll(20, [3, 5])       # nose and chin, for Ann
        listed = self.manager('ListPersonSessions', '(xxo)', (0, 0, '/'))
        self.assertEqual([(x[0], x[5]) for x in listed], [(first, default_path), (second, ann)])

        out, _ = self.ctl('sessions')
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ['SESSION', 'START', 'DURATION', 'PERSON', 'ROLLER',
                                            'COVERAGE'])
        self.assertRegex(lines[1], rf'^ *{first}  .*  {re.escape(default)}  +{self.ADDRESS} ')
        self.assertRegex(lines[2], rf'^ *{second}  .*  Ann  +{self.ADDRESS} ')
        self.assertEqual([(x['id'], x['person']) for x in self.ctl_json('sessions')],
                         [(first, default), (second, 'Ann')])
        self.assertEqual([x['id'] for x in self.ctl_json('sessions', '--person', 'Ann')], [second])
        self.assertEqual([x['id'] for x in self.ctl_json('--person', default, 'sessions')],
                         [first])
        out, _ = self.ctl('sessions', '--person', 'Ann')
        self.assertEqual(len(out.splitlines()), 2, out)

        # coverage: last is the person's last; the header names the person
        out, _ = self.ctl('coverage')
        self.assertTrue(out.startswith(f'Session {second}, '), out)
        self.assertRegex(out.splitlines()[0], rf'^Session {second}, .*, for Ann, .*, roller ')
        out, _ = self.ctl('coverage', '--person', default)
        self.assertRegex(out.splitlines()[0],
                         rf'^Session {first}, .*, for {re.escape(default)}, .*, roller ')
        self.assertEqual(self.ctl_json('coverage', '--person', default)['id'], first)
        self.assertEqual(self.ctl_json('coverage', str(first))['person'], default)
        self.assertEqual(self.ctl_json('coverage', 'last', '--person', 'Ann')['person'], 'Ann')
        self.assertEqual(self.ctl_error('coverage', str(first), '--person', 'Ann'),
                         f'dermarollctl: session {first} is not Ann\'s but {default}\'s')

        # events
        out, _ = self.ctl('events', 'last', '--person', default)
        self.assertTrue(out.startswith(f'Session {first} for {default}, from '), out)
        out, _ = self.ctl('events', str(second))
        self.assertTrue(out.startswith(f'Session {second} for Ann, from '), out)
        self.assertRegex(out, r'\n\d\d:\d\d:\d\d  session-started +person=Ann\n')
        started = [e for e in self.ctl_json('events', str(second))
                   if e['kind'] == 'session-started'][0]
        self.assertEqual(started['details']['person'], ann)
        self.assertEqual(self.ctl_error('events', str(second), '--person', default),
                         f'dermarollctl: session {second} is not {default}\'s but Ann\'s')

        # export: every row names its person; --person keeps theirs
        out, _ = self.ctl('export', '--format', 'csv')
        records = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual({(r['session'], r['person']) for r in records},
                         {(str(first), default), (str(second), 'Ann')})
        out, _ = self.ctl('export', '--format', 'csv', '--person', 'Ann')
        self.assertEqual({r['session'] for r in csv.DictReader(io.StringIO(out))}, {str(second)})
        exported = json.loads(self.ctl('export', '--format', 'json', '--person', 'Ann')[0])
        self.assertEqual([(x['id'], x['person'], x['person_object_path'])
                          for x in exported['sessions']], [(second, 'Ann', ann)])

    def test_rest_in_zones_and_coverage(self):
        default, default_path = self.default_person()
        session, end = self.roll(30, [0, 3])             # forehead and nose
        rest = wait_until(lambda: (lambda r: r if r['forehead'][0] else None)(
            self.rest_status(default_path)), 5, 'the session in the rest status')
        # the contract, for the 500 µm head: last treated at the session's end,
        # free a week later; untouched zones never treated, free now
        self.assertEqual(rest['forehead'], (end, end + REST_500_UM_MS))
        self.assertEqual(rest['nose'], (end, end + REST_500_UM_MS))
        self.assertEqual(rest['chin'], (0, 0))

        def local(ms):
            return time.strftime('%Y-%m-%d %H:%M', time.gmtime(ms / 1000))
        out, _ = self.ctl('zones')
        rows = {line.split()[1]: line for line in out.splitlines()[3:]}
        self.assertRegex(rows['forehead'],
                         rf' no +{local(end)}  {local(end + REST_500_UM_MS)}$')
        self.assertRegex(rows['nose'], rf' no +{local(end)}  {local(end + REST_500_UM_MS)}$')
        self.assertRegex(rows['chin'], r' no +— +now$')
        zones = {z['name']: z for z in self.ctl_json('zones')}
        self.assertEqual((zones['forehead']['last_treated_ms'], zones['forehead']['free_from_ms']),
                         (end, end + REST_500_UM_MS))
        self.assertEqual((zones['chin']['last_treated_ms'], zones['chin']['free_from_ms']),
                         (None, None))

        # coverage: a line per treated zone still resting, after the table
        free = end + REST_500_UM_MS
        day = time.gmtime(free / 1000)
        again = f'{day.tm_mday} {time.strftime("%b", day)}'
        if day.tm_year != time.gmtime().tm_year:
            again += f' {day.tm_year}'
        again += time.strftime(' %H:%M', day)
        out, _ = self.ctl('coverage')
        # the block between the table and the aftercare
        blocks = out.split('\n\n')
        self.assertTrue(blocks[-1].startswith('Aftercare (0.50 mm needles):'), blocks[-1])
        self.assertEqual(blocks[-2], f'forehead: again from {again}\nnose: again from {again}')
        data = self.ctl_json('coverage')
        self.assertEqual(data['person'], default)
        by_zone = {z['zone']: z for z in data['zones']}
        self.assertEqual(by_zone['forehead']['again_from_ms'], free)
        self.assertEqual(by_zone['nose']['again_from_ms'], free)
        self.assertIsNone(by_zone['chin']['again_from_ms'])

        # another person's zones rest on their own
        self.ctl('person', 'add', 'Ann')
        self.assertEqual([(z['last_treated_ms'], z['free_from_ms'])
                          for z in self.ctl_json('zones', '--person', 'Ann')],
                         [(None, None)] * len(proto.ZONES))

    def test_remove_keeps_or_deletes_data(self):
        default, default_path = self.default_person()
        for name in ('Ann', 'Bob'):
            self.ctl('person', 'add', name)
        self.ctl('person', 'use', 'Ann')
        # Busy while one of Ann's sessions is in progress
        session, _ = self.roll(60, [0], stop=False)
        ann = self.people()['Ann']
        line = self.ctl_error('person', 'remove', 'Ann')
        message = self.assertDBusError('org.dermaroll.Error.Busy', self.manager, 'RemovePerson',
                                       '(ob)', (ann, False))
        self.assertEqual(line, f'dermarollctl: {message}')
        self.assertIn('Ann', self.people())
        self.ctl('stop')
        self.wait_roller_prop('ActiveSession', lambda s: s == 0)

        # without --delete-data: the session stays, nobody's; the roller goes
        # to the default person
        out, _ = self.ctl('person', 'remove', 'Ann')
        self.assertEqual(out, 'Removed Ann. Their 1 session stays in the database, owned by '
                              f'nobody.\n{self.ADDRESS} goes to {default}, the default person.\n')
        self.wait_roller_prop('Person', lambda p: p == default_path)
        self.assertNotIn('Ann', self.people())
        listed = self.ctl_json('sessions')
        self.assertEqual([(x['id'], x['person'], x['person_object_path']) for x in listed],
                         [(session, None, '/')])
        self.assertRegex(self.ctl('sessions')[0].splitlines()[1],
                         rf'^ *{session}  .*  —  +{self.ADDRESS} ')
        out, _ = self.ctl('coverage', str(session))
        self.assertRegex(out.splitlines()[0],
                         rf'^Session {session}, .*, for nobody \(a removed person\), .*, roller ')
        self.assertNotIn('again from', out)
        self.assertIsNone(self.ctl_json('coverage', str(session))['zones'][0]['again_from_ms'])
        out, _ = self.ctl('events', str(session))
        self.assertTrue(out.startswith(f'Session {session} for nobody, from '), out)
        self.assertRegex(out, r'session-started +person=nobody\n')
        rows = list(csv.DictReader(io.StringIO(self.ctl('export', '--format', 'csv')[0])))
        self.assertEqual({r['person'] for r in rows}, {''})

        # with --delete-data: Bob's session is gone, the one kept stays
        self.ctl('person', 'use', 'Bob')
        bobs, _ = self.roll(20, [3])
        out, _ = self.ctl('person', 'remove', 'Bob', '--delete-data')
        self.assertEqual(out, 'Removed Bob and deleted their 1 session.\n'
                              f'{self.ADDRESS} goes to {default}, the default person.\n')
        self.assertEqual([x['id'] for x in self.ctl_json('sessions')], [session])
        self.assertNotEqual(self.ctl_error('coverage', str(bobs)), '')


if __name__ == '__main__':
    unittest.main()
