#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''dermarolld end to end: the real daemon against private buses, dbusmock's
bluez5 template with a roller's GATT server (bluez_roller_template.py) and
dbusmock's logind, with a temporary database and config per test.

Run: /usr/bin/python3 tests/integration/test_daemon.py [-v] [Test.test_name]
(the daemon from $DERMAROLLD, else $DERMAROLL_BUILD_ROOT/daemon/dermarolld,
else build/daemon/dermarolld). DERMAROLL_KEEP_TMP=1 keeps every test's logs.

Expected values are computed here from the rules (issue 2, PROTOCOL.md):
rolled area per revolution = pi * D * W with the drum in cm from Head Info,
passes = area / zone area, coverage = min(1, passes / 6); a 0.5 mm head has a
5.0 N limit; an episode starts at the first sample >= 150 ms into a run above
the limit and ends at the first sample >= 300 ms into a run below 4.5 N.
'''

import errno
import json
import math
import os
import re
import resource
import sqlite3
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
# fixtures.py here, dbus_private.py in tests/, the codec in protocol/.
sys.path[:0] = [HERE, os.path.dirname(HERE), os.path.join(HERE, '..', '..', 'protocol')]

from gi.repository import Gio, GLib  # noqa: E402

import roller_protocol as proto  # noqa: E402
from test_ctl import ctl_path  # noqa: E402
from fixtures import (LIBFAKETIME, MANAGER_IFACE, MOCK_IFACE, NOTIFICATIONS,  # noqa: E402
                      NOTIFICATIONS_PATH, OM_IFACE, PYTHON, ROLLER_IFACE,
                      Daemon, Processes, RollerTestCase, call, daemon_path, db_query, dbus_error,
                      faketime_unusable, get_prop, tail, wait_for_name,
                      now_ms, roller_object_path,
                      wait_for_name_gone, wait_until, DERMAROLL, BLUEZ, MANAGER_PATH)

ROLLER_PATH = roller_object_path(RollerTestCase.ADDRESS)
LIMIT_N = 5.0   # 0.5 mm needles
# The engine's face model (daemon/engine): zone areas and the passes that
# make a zone's coverage 1.
ZONE_AREA_CM2 = {'forehead': 60.0, 'left-cheek': 40.0, 'right-cheek': 40.0, 'nose': 12.0,
                 'upper-lip': 8.0, 'chin': 18.0, 'neck': 110.0}
TARGET_PASSES = 6.0


def area_per_rev_cm2(head):
    '''Skin one drum revolution covers: π · D · W, D and W in cm (10 µm units / 1000).'''
    return math.pi * (head.drum_diameter_10um / 1000.0) * (head.drum_width_10um / 1000.0)


def require_daemon():
    if not os.access(daemon_path(), os.X_OK):
        raise unittest.SkipTest(f'no dermarolld at {daemon_path()}')


class DaemonTestCase(RollerTestCase):
    '''Adds bookkeeping of what the roller produced and a check, at every
    ACK the roller receives, that the acked frames are already in the
    database (ACK only after a durable commit).'''

    def setUp(self):
        require_daemon()
        super().setUp()
        self.produced = []      # every frame the roller made and stored, in order
        self.ack_checks = []    # (last_seq, missing keys at the moment of the ACK)
        self.ack_times = []     # (monotonic time the roller got it, last_seq)
        self.bt_calls.callbacks.append(self._on_bt_call)

    def pair_in_background(self, address):
        '''Calls Pair without waiting; the dict gets 'reply' or 'error'
        (name, message) when it answers.'''
        answer = {}

        def done(conn, result):
            try:
                answer['reply'] = conn.call_finish(result)
            except GLib.Error as e:
                answer['error'] = dbus_error(e)
        self.session.conn.call(DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'Pair',
                               GLib.Variant('(s)', (address,)), None, Gio.DBusCallFlags.NONE,
                               60000, None, done)
        return answer

    def daemon_log(self):
        '''What the daemon logged so far (its stderr, with debug messages).'''
        with open(self.daemon.log_path, encoding='utf-8', errors='replace') as f:
            return f.read()

    # the roller

    def push(self, frames, store=True):
        if store:
            self.produced.extend(frames)
        return self.roller.push(frames, store)

    def _on_bt_call(self, sig):
        if sig.args[0] != 'WriteValue' or sig.path not in self._cp_paths():
            return
        value = bytes(sig.args[1][0])
        if len(value) != 3 or value[0] != proto.OP_ACK:
            return
        last_seq = value[1] | value[2] << 8
        keys = [proto.frame_key(f) for f in self.produced]
        upto = [i for i, k in enumerate(keys) if k[1] == last_seq]
        expected = set(keys[:upto[0] + 1]) if upto else set()
        missing = sorted(expected - self.db_frame_keys())
        self.ack_checks.append((last_seq, missing))
        self.ack_times.append((sig.time, last_seq))

    def wait_acked(self, seq, timeout=5.0):
        '''Waits for the roller to receive ACK seq (or a later one).'''
        def ready():
            return [c for c in self.ack_checks if c[0] >= seq]
        wait_until(ready, timeout, f'ACK {seq} at the roller',
                   details=lambda: f'ACKs so far: {[c[0] for c in self.ack_checks]}; '
                                   f'control writes: {self.roller.control_requests()[-10:]}')

    def assert_acks_after_commit(self):
        self.assertTrue(self.ack_checks, 'the roller was never acknowledged')
        bad = [(seq, missing) for seq, missing in self.ack_checks if missing]
        self.assertEqual(bad, [], 'frames acknowledged before they were in the database '
                                  '(last_seq, missing (t0, seq) keys)')

    # the database

    def db(self, sql, params=()):
        return db_query(self.daemon.db_path, sql, params) or []

    def roller_id(self):
        rows = self.db('SELECT id FROM rollers WHERE address = ?', (self.ADDRESS,))
        return rows[0][0] if rows else None

    def db_frame_keys(self):
        try:
            return {(t0, seq) for t0, seq in self.db(
                'SELECT f.t0_ms, f.seq FROM frames f JOIN rollers r ON r.id = f.roller_id '
                'WHERE r.address = ?', (self.ADDRESS,))}
        except Exception:   # not created yet
            return set()

    def db_frames(self):
        return self.db('SELECT f.t0_ms, f.seq, f.flags, f.raw FROM frames f JOIN rollers r '
                       'ON r.id = f.roller_id WHERE r.address = ? ORDER BY f.t0_ms, f.seq',
                       (self.ADDRESS,))

    def assert_db_has_exactly(self, frames):
        '''Every frame once, as produced (the history flag aside).'''
        rows = self.db_frames()
        keys = [(t0, seq) for t0, seq, _, _ in rows]
        self.assertEqual(len(keys), len(set(keys)), 'a frame stored twice')
        want = sorted(proto.frame_key(f) for f in frames)
        self.assertEqual(sorted(keys), want)
        by_key = {proto.frame_key(f): f for f in frames}
        for t0, seq, flags, raw in rows:
            self.assertEqual(proto.with_flags(raw, raw[1] & ~proto.FLAG_HISTORY),
                             by_key[(t0, seq)], f'frame {seq} not stored as received')

    # daemon flows

    def start_paired(self):
        '''Starts the daemon and pairs the roller; returns the Roller1 path.'''
        self.start_daemon()
        return self.pair()


    def session_started(self, since=0):
        sig = self.events.wait_signal('SessionStarted', ROLLER_PATH, since=since)[0]
        return sig.args[0]

    def live_stream(self, seconds_ago=20.0, seq=0):
        return proto.Stream(t0_ms=now_ms() - int(seconds_ago * 1000), seq=seq)


class Pairing(DaemonTestCase):

    def test_pair_flow(self):
        self.daemon.start()                # Pair as soon as the name is there
        path = self.manager('Pair', '(s)', (self.ADDRESS,), timeout=30)
        self.assertEqual(path, '/org/dermaroll/roller/AA_BB_CC_DD_EE_FF')
        self.wait_streaming()
        props = self.roller_props()
        self.assertEqual(props['Address'], self.ADDRESS)
        self.assertEqual(props['Name'], self.ROLLER_NAME)
        self.assertTrue(props['Paired'])
        self.assertTrue(props['Connected'])
        self.assertEqual(props['NeedleLength'], 500)
        self.assertEqual(props['NeedleCount'], 192)
        self.assertEqual(props['HeadId'], 0xC0FFEE01)
        self.assertEqual(props['Battery'], 87)
        self.assertEqual(props['FirmwareVersion'], '1.4.2')
        self.assertAlmostEqual(props['ForceLimit'], LIMIT_N)
        self.assertEqual(props['ActiveSession'], 0)

        # the daemon's agent: registered NoInputNoOutput and there, and not
        # the default agent: the daemon does not ask for that (it pairs
        # through its own Device1.Pair call, which bluetoothd serves with
        # the caller's agent), and RegisterAgent alone makes none default
        agents, default = self.bluez.agents()
        self.assertEqual(len(agents), 1, agents)
        agent_path, capability = agents[0]
        self.assertEqual(capability, 'NoInputNoOutput')
        self.assertEqual(default, '')
        owner = self.daemon_system_name()
        xml = call(self.system.conn, owner, agent_path, 'org.freedesktop.DBus.Introspectable',
                   'Introspect')
        self.assertIn('org.bluez.Agent1', xml)

        # Device1: paired through Pair(), trusted, connected
        self.assertEqual(len(self.roller.method_calls('Pair')), 1)
        dev = self.roller.device_props()
        self.assertTrue(dev['Paired'])
        self.assertTrue(dev['Trusted'])
        self.assertTrue(dev['Connected'])

        # GATT: Head Info, Battery and Device Information read; AcquireNotify
        # tried on Roll Measurement and StartNotify used after NotSupported
        chrcs = self.roller.info()['Characteristics']
        for uuid in (proto.UUID_HEAD_INFO, proto.UUID_BATTERY_LEVEL, proto.UUID_FIRMWARE_REVISION):
            self.assertTrue(self.bluez.method_calls(chrcs[uuid], 'ReadValue'), uuid)
        rm = chrcs[proto.UUID_ROLL_MEASUREMENT]
        self.assertTrue(self.bluez.method_calls(rm, 'AcquireNotify'))
        self.assertTrue(self.bluez.method_calls(rm, 'StartNotify'))
        for uuid in (proto.UUID_ROLL_MEASUREMENT, proto.UUID_CONTROL_POINT, proto.UUID_STATUS):
            self.assertTrue(self.bluez.call(chrcs[uuid], 'org.freedesktop.DBus.Properties', 'Get',
                                            '(ss)', ('org.bluez.GattCharacteristic1', 'Notifying')),
                            uuid)
        self.assertTrue(self.bluez.method_calls(chrcs[proto.UUID_STATUS], 'ReadValue'))

        # Control Point: write requests; SET_TIME now, START_STREAM at some rate
        writes = self.roller.control_writes()
        self.assertTrue(writes)
        self.assertEqual({w for _, w, _ in writes}, {'request'})
        requests = dict(self.roller.control_requests())
        self.assertIn(proto.OP_SET_TIME, requests)
        self.assertLess(abs(requests[proto.OP_SET_TIME] - now_ms()), 60_000)
        self.assertGreater(requests[proto.OP_START_STREAM], 0)
        self.assertNotIn(proto.OP_REQUEST_HISTORY, requests, 'no history pending, none requested')

        # published through the ObjectManager
        objects = call(self.session.conn, DERMAROLL, MANAGER_PATH, OM_IFACE, 'GetManagedObjects')
        self.assertIn(ROLLER_PATH, objects)
        self.assertIn(ROLLER_IFACE, objects[ROLLER_PATH])

        # pairing again is not an error
        self.assertEqual(self.manager('Pair', '(s)', (self.ADDRESS,), timeout=30), ROLLER_PATH)

    def test_two_rollers_at_once(self):
        second = self.bluez.add_roller(self.ADAPTER, '11:22:33:44:55:66', Name='DermaRoller 2',
                                       HeadInfo=proto.Head(needle_length_um=1000, head_id=7).encode())
        self.start_daemon()
        paths = [self.manager('Pair', '(s)', (a,), timeout=30) for a in (self.ADDRESS, second.address)]
        self.assertEqual(paths, [ROLLER_PATH, '/org/dermaroll/roller/11_22_33_44_55_66'])
        for path in paths:
            self.wait_roller_prop('Connected', bool, path=path)
        wait_until(lambda: self.roller.info()['Streaming'] and second.info()['Streaming'], 10,
                   'both rollers streaming')
        self.assertEqual(self.roller_prop('NeedleLength', paths[1]), 1000)
        self.assertAlmostEqual(self.roller_prop('ForceLimit', paths[1]), 4.0)
        a = self.live_stream()
        a.add(40, 2000, 0, 8)
        b = self.live_stream(seq=1000)
        b.add(40, 2000, 6, 8)
        frames_a, frames_b = a.frames(), b.frames()
        for fa, fb in zip(frames_a, frames_b):
            self.push([fa])
            second.push([fb])
        wait_until(lambda: not self.roller.stored() and not second.stored(), 10,
                   'both rollers acknowledged')
        self.assert_db_has_exactly(frames_a)
        rows = self.db('SELECT f.t0_ms, f.seq FROM frames f JOIN rollers r ON r.id = f.roller_id '
                       'WHERE r.address = ?', (second.address,))
        self.assertEqual(sorted(rows), sorted(proto.frame_key(f) for f in frames_b))
        sessions = self.manager('ListSessions', '(xx)', (0, 0))
        self.assertEqual(sorted(r[1] for r in sessions), sorted([self.ADDRESS, second.address]))

    def daemon_system_name(self):
        names = call(self.system.conn, 'org.freedesktop.DBus', '/org/freedesktop/DBus',
                     'org.freedesktop.DBus', 'ListNames')
        for name in names:
            if not name.startswith(':'):
                continue
            try:
                pid = call(self.system.conn, 'org.freedesktop.DBus', '/org/freedesktop/DBus',
                           'org.freedesktop.DBus', 'GetConnectionUnixProcessID', '(s)', (name,))
            except GLib.Error:
                continue
            if pid == self.daemon.proc.pid:
                return name
        self.fail('dermarolld has no connection to the system bus')

    def test_discovery(self):
        self.start_daemon()
        adapter = '/org/bluez/' + self.ADAPTER
        self.manager('StartDiscovery')
        filters = self.bluez.method_calls(adapter, 'SetDiscoveryFilter')
        self.assertTrue(filters, 'no SetDiscoveryFilter')
        flt = filters[-1][0]
        self.assertEqual(flt.get('Transport'), 'le')
        self.assertEqual([u.lower() for u in flt.get('UUIDs', [])], [proto.UUID_ROLLER_SERVICE])
        self.assertTrue(self.bluez.method_calls(adapter, 'StartDiscovery'))
        wait_until(lambda: call(self.session.conn, DERMAROLL, MANAGER_PATH, 'org.freedesktop.DBus.Properties',
                                'Get', '(ss)', (MANAGER_IFACE, 'Discovering')), 5, 'Manager1.Discovering')

        def seen():
            objs = call(self.session.conn, DERMAROLL, MANAGER_PATH, OM_IFACE, 'GetManagedObjects')
            return objs.get(ROLLER_PATH, {}).get(ROLLER_IFACE)
        props = wait_until(seen, 10, 'the roller seen in discovery as a Roller1 object',
                           details=self.events.dump)
        self.assertFalse(props['Paired'])
        self.assertEqual(props['Address'], self.ADDRESS)
        self.manager('StopDiscovery')
        self.assertTrue(self.bluez.method_calls(adapter, 'StopDiscovery'))
        self.manager('StopDiscovery')   # not an error when none runs


class Ghosts(DaemonTestCase):
    '''A Pair of an address nobody answers, and Forget of what is not
    paired: nothing is left behind on the bus or in the rollers table
    (issue 8, "ghost rollers").'''

    # Addresses no roller has: dbusmock's bluetoothd never finds them.
    NOBODY = ['00:11:22:33:44:%02X' % (0x70 + i) for i in range(4)]
    # A Pair's wait for an unknown roller, in seconds (the daemon's is 30).
    DISCOVERY_TIMEOUT = '1'

    def rollers_on_bus(self):
        objs = call(self.session.conn, DERMAROLL, MANAGER_PATH, OM_IFACE, 'GetManagedObjects')
        return sorted(p for p, ifaces in objs.items() if ROLLER_IFACE in ifaces)

    def rollers_rows(self):
        '''The rollers table once every write queued so far is committed:
        the store worker runs writes in order, so an excluded zone written
        now is on disk only after them.'''
        self.barrier = getattr(self, 'barrier', 0) + 1
        zone = proto.ZONES[self.barrier % len(proto.ZONES)]
        excluded = self.barrier % 2 == 1
        # answered once the write is durable
        self.manager('SetZoneExcluded', '(sb)', (zone, excluded))
        self.assertEqual(bool(self.db('SELECT 1 FROM person_excluded_zones p JOIN settings s'
                                      " ON s.key = 'default-person' AND s.value = p.person_id"
                                      ' WHERE p.zone = ?', (zone,))), excluded,
                         f'the default person\'s excluded zone {zone} on disk')
        return self.db('SELECT id, address, name, paired FROM rollers ORDER BY id')

    def test_failed_pairs_leave_nothing(self):
        self.start_daemon('--discovery-timeout', self.DISCOVERY_TIMEOUT)
        self.pair()                        # the real roller: its object and row stay
        objects = self.rollers_on_bus()
        rows = self.rollers_rows()
        self.assertEqual(objects, [ROLLER_PATH])
        self.assertEqual([(r[1], r[3]) for r in rows], [(self.ADDRESS, 1)])
        started = time.monotonic()
        attempts = self.NOBODY + self.NOBODY[:1]     # one address twice
        for address in attempts:
            message = self.assertDBusError('org.dermaroll.Error.NotFound', self.manager,
                                           'Pair', '(s)', (address,), timeout=60)
            self.assertIn(f'{address} not found', message)
            self.assertEqual(self.rollers_on_bus(), objects, f'Pair {address} left an object')
        self.assertEqual(self.rollers_rows(), rows, 'a failed Pair left a rollers row')
        print(f'{len(attempts)} failed Pairs in {time.monotonic() - started:.1f} s: '
              f'{len(objects)} Roller1 object(s) and {len(rows)} row(s) before and after',
              file=sys.stderr)
        # The paired roller is untouched.
        self.assertTrue(self.roller_prop('Paired'))
        self.assertTrue(self.roller_prop('Connected'))

    def test_forget_during_failing_pair_removes_it(self):
        self.start_daemon()
        rows = self.rollers_rows()
        address = self.NOBODY[0]
        path = roller_object_path(address)
        answer = self.pair_in_background(address)
        # While the Pair waits, its roller is there and says what it does.
        wait_until(lambda: path in self.rollers_on_bus()
                   and self.roller_prop('LinkPhase', path) == 'discovering', 10,
                   'the roller of the Pair, discovering')
        self.manager('Forget', '(o)', (path,))
        self.assertNotIn(path, self.rollers_on_bus(), 'Forget said yes but the roller stays')
        wait_until(lambda: answer, 10, 'Pair to answer')
        self.assertEqual(answer.get('error', [''])[0], 'org.dermaroll.Error.Cancelled', answer)
        self.assertNotIn(path, self.rollers_on_bus())
        self.assertEqual(self.rollers_rows(), rows)
        self.assertDBusError('org.dermaroll.Error.NotFound', self.manager, 'Forget', '(o)', (path,))

    def test_forget_removes_a_ghost_row(self):
        # A ghost an older dermarolld left: a row with nothing stored under it.
        self.start_daemon()
        self.daemon.stop()
        ghost = self.NOBODY[1]
        with sqlite3.connect(self.daemon.db_path) as db:
            db.execute("INSERT INTO rollers (address, name) VALUES (?, '')", (ghost,))
        self.start_daemon()
        path = roller_object_path(ghost)
        wait_until(lambda: path in self.rollers_on_bus(), 5, 'the ghost published')
        self.manager('Forget', '(o)', (path,))
        self.assertNotIn(path, self.rollers_on_bus())
        self.assertEqual([r[1] for r in self.rollers_rows() if r[1] == ghost], [])

    def test_forget_keeps_history(self):
        self.start_paired()
        s = self.live_stream()
        s.add(30, 2000, 0, 8)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        session = self.roller_call('StopSession')
        frames = self.db_frame_keys()
        # Forgotten once: unpaired, still there with its history.
        self.manager('Forget', '(o)', (ROLLER_PATH,))
        self.assertIn(ROLLER_PATH, self.rollers_on_bus())
        self.assertFalse(self.roller_prop('Paired'))
        # Forgotten again: off the bus; the row stays, since the frames and
        # the session are the user's.
        self.manager('Forget', '(o)', (ROLLER_PATH,))
        self.assertNotIn(ROLLER_PATH, self.rollers_on_bus())
        rows = self.rollers_rows()
        self.assertEqual([(r[1], r[3]) for r in rows], [(self.ADDRESS, 0)])
        self.assertEqual(self.db_frame_keys(), frames)
        self.assertEqual([r[0] for r in self.manager('ListSessions', '(xx)', (0, 0))], [session])


class Treatment(DaemonTestCase):

    def test_pressure_and_zone_warnings(self):
        self.start_paired()
        self.manager('SetZoneExcluded', '(sb)', ('nose', True))
        zones = {z[1]: z for z in self.manager('GetZones')}
        self.assertTrue(zones['nose'][4])
        mark = self.events.mark()

        s = self.live_stream()
        s.add(20, 3000, 0, 4)              # contact on the forehead, below the limit
        run_start = s.t + s.period_ms      # T: first sample above 5.0 N
        s.add(16, 6000, 0, 4)              # T .. T+150: the 16th sample is 150 ms into the run
        warn_at = s.t
        s.add(1, 7200, 0, 4)               # the peak, after the start event
        s.add(13, 6000, 0, 4)              # up to T+290
        below = s.t + s.period_ms          # U: first sample below 4.5 N
        s.add(40, 3000, 0, 4)              # the 31st is U+300: the end event
        clear_at = below + 300
        s.add(1, 3000, 3, 0)               # onto the nose (excluded); no ticks at the switch
        s.add(20, 2000, 3, 4)
        self.assertEqual(warn_at - run_start, 150)
        self.push(s.frames())

        session = self.session_started(mark)
        warning = self.events.wait_signal('PressureWarning', ROLLER_PATH, since=mark)[0]
        self.assertEqual(warning.args[0], session)
        self.assertEqual(warning.args[1], 'forehead')
        self.assertAlmostEqual(warning.args[2], 6.0)
        self.assertAlmostEqual(warning.args[3], LIMIT_N)
        cleared = self.events.wait_signal('PressureCleared', ROLLER_PATH, since=mark)[0]
        self.assertEqual(cleared.args[:2], (session, 'forehead'))
        self.assertAlmostEqual(cleared.args[2], 7.2)
        self.assertEqual(cleared.args[3], clear_at - warn_at)   # 450 ms
        zone = self.events.wait_signal('ZoneWarning', ROLLER_PATH, since=mark)[0]
        self.assertEqual(zone.args, (session, 'nose', 'excluded'))
        # once per contact stretch, one episode
        self.wait_acked(s.seq - 1)
        self.assertEqual(len(self.events.find('ZoneWarning', since=mark)), 1)
        self.assertEqual(len(self.events.find('PressureWarning', since=mark)), 1)

        # the same in the session's events and in the database
        events = self.manager('GetSessionEvents', '(t)', (session,))
        kinds = [e[1] for e in events]
        self.assertEqual([e[0] for e in events], sorted(e[0] for e in events))
        started = [e for e in events if e[1] == 'pressure-started']
        ended = [e for e in events if e[1] == 'pressure-ended']
        excluded = [e for e in events if e[1] == 'excluded']
        self.assertIn('session-started', kinds)
        self.assertEqual(len(started), 1, kinds)
        self.assertEqual(started[0][0], warn_at)
        self.assertEqual(started[0][2]['zone'], 'forehead')
        self.assertAlmostEqual(started[0][2]['force-n'], 6.0)
        self.assertAlmostEqual(started[0][2]['limit-n'], LIMIT_N)
        self.assertEqual(len(ended), 1, kinds)
        self.assertEqual(ended[0][0], clear_at)
        self.assertAlmostEqual(ended[0][2]['peak-n'], 7.2)
        self.assertEqual(ended[0][2]['duration-ms'], 450)
        self.assertEqual([(e[0], e[2]['zone']) for e in excluded], [(s.samples[-21][0], 'nose')])

        self.wait_db(lambda: self.db('SELECT kind FROM events WHERE session_id = ?', (session,)),
                     lambda rows: {'pressure-started', 'pressure-ended', 'excluded'}
                     <= {r[0] for r in rows}, 'the events in the database')
        rows = self.db("SELECT time_ms, zone, force_n, limit_n FROM events "
                       "WHERE session_id = ? AND kind = 'pressure-started'", (session,))
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][:2], (warn_at, 'forehead'))
        self.assertAlmostEqual(rows[0][2], 6.0)
        self.assertAlmostEqual(rows[0][3], LIMIT_N)
        self.assert_acks_after_commit()

    def wait_db(self, query, predicate, what, timeout=5.0):
        return wait_until(lambda: predicate(query()), timeout, what, poll_ms=50)

    def test_coverage_and_database_rows(self):
        self.start_paired()
        self.roller_call('SetZone', '(s)', ('chin',))
        self.assertEqual(self.roller_prop('Zone'), 'chin')
        mark = self.events.mark()
        s = self.live_stream(seconds_ago=30)
        s.add(1, 2000, 0, 0)               # the baseline; forehead, in contact
        s.add(180, 2000, 0, 20)            # 3600 ticks = 10 revolutions on the forehead
        s.add(1, 2500, 1, 0)               # onto the left cheek
        s.add(90, 2500, 1, 16)             # 1440 ticks = 4 revolutions
        s.add(1, 200, 1, 0)                # lifted: 0.2 N is no contact
        s.add(10, 200, 1, 5)               # spinning in the air counts nowhere
        s.add(1, 1800, proto.ZONE_UNKNOWN, 0)   # the sensor does not know: the user's zone
        s.add(45, 1800, proto.ZONE_UNKNOWN, 16)  # 720 ticks = 2 revolutions on the chin
        first_contact = s.samples[0][0]
        last_contact = s.samples[-1][0]
        frames = s.frames()
        self.push(frames)
        session = self.session_started(mark)

        per_rev = math.pi * 1.9 * 2.0      # drum 19.00 mm x 20.00 mm, in cm
        expect = {}
        for zone, revs, peak in (('forehead', 10, 2.0), ('left-cheek', 4, 2.5), ('chin', 2, 1.8)):
            rolled = revs * per_rev
            passes = rolled / ZONE_AREA_CM2[zone]
            expect[zone] = (min(1.0, passes / TARGET_PASSES), passes, rolled, peak)
        self.assertAlmostEqual(expect['forehead'][0], 0.33161, places=4)

        self.wait_acked(s.seq - 1)
        self.wait_roller_prop('Coverage', lambda c: abs(c.get('forehead', 0) - expect['forehead'][0]) < 1e-6
                              and abs(c.get('chin', 0) - expect['chin'][0]) < 1e-6)
        ended_id = self.roller_call('StopSession')
        self.assertEqual(ended_id, session)
        ended = self.events.wait_signal('SessionEnded', ROLLER_PATH, since=mark)[0]
        self.assertEqual(ended.args[0], session)
        for zone, (cov, _, _, _) in expect.items():
            self.assertAlmostEqual(ended.args[1][zone], cov, places=9, msg=zone)

        coverage = self.manager('GetSessionCoverage', '(t)', (session,))
        for zone in proto.ZONES:
            self.assertIn(zone, coverage)
        for zone, want in expect.items():
            for got, exp, what in zip(coverage[zone], want, ('coverage', 'passes', 'cm2', 'peak')):
                self.assertAlmostEqual(got, exp, places=6, msg=f'{zone} {what}')
        for zone in set(proto.ZONES) - set(expect):
            self.assertEqual(coverage[zone][:3], (0.0, 0.0, 0.0), zone)
        mean = sum(expect.get(z, (0,))[0] for z in proto.ZONES) / len(proto.ZONES)

        sessions = self.manager('ListSessions', '(xx)', (0, 0))
        self.assertEqual(len(sessions), 1)
        sid, address, start, end, mean_cov = sessions[0]
        self.assertEqual((sid, address, start, end), (session, self.ADDRESS, first_contact, last_contact))
        self.assertAlmostEqual(mean_cov, mean, places=6)
        self.assertEqual(self.manager('ListSessions', '(xx)', (start + 1, 0)), [])
        self.assertEqual(len(self.manager('ListSessions', '(xx)', (start, start + 1))), 1)

        # the database: every frame as received, the session, its zones
        self.assert_db_has_exactly(frames)
        rows = self.db('SELECT id, start_ms, end_ms, needle_length_um, head_id FROM sessions')
        self.assertEqual(rows, [(session, first_contact, last_contact, 500, 0xC0FFEE01)])
        zones = {r[0]: r[1:] for r in self.db(
            'SELECT zone, coverage, passes, rolled_cm2, peak_force_n, source FROM session_zones '
            'WHERE session_id = ?', (session,))}
        for zone, (cov, passes, rolled, peak) in expect.items():
            self.assertAlmostEqual(zones[zone][0], cov, places=6)
            self.assertAlmostEqual(zones[zone][1], passes, places=6)
            self.assertAlmostEqual(zones[zone][2], rolled, places=6)
            self.assertAlmostEqual(zones[zone][3], peak, places=6)
        self.assertEqual(zones['chin'][4], 'user')
        self.assertEqual(zones['forehead'][4], 'sensor')
        self.assertEqual(self.db('SELECT address, paired FROM rollers'), [(self.ADDRESS, 1)])
        self.assert_acks_after_commit()

    def test_direction_v2_coverage(self):
        # Version 2 frames through the real daemon: passes by direction,
        # coverage with each direction credited up to T/3 passes, in
        # Roller1, Manager1 and dermarollctl.
        self.start_paired()
        mark = self.events.mark()
        H, V, D, U = (proto.DIRECTION_HORIZONTAL, proto.DIRECTION_VERTICAL,
                      proto.DIRECTION_DIAGONAL, proto.DIRECTION_UNKNOWN)
        s = proto.Stream(t0_ms=now_ms() - 30000, version=proto.VERSION_2, per_frame=23)
        s.add(1, 2000, 0, 0)                       # the baseline, on the forehead
        s.add(360, 2000, 0, 20, direction=H)       # 7200 ticks = 20 revolutions horizontal
        s.add(180, 2000, 0, 20, direction=V)       # 10 revolutions vertical, no diagonal
        for d in (H, V, D):                        # the left cheek: 4 revolutions each way
            s.add(72, 2500, 1, 20, direction=d)
        s.add(54, 1800, 3, 20, direction=U)        # the nose: 3 revolutions, direction not known
        s.add(1, 1800, 3, 0, direction=0xfc | V)   # reserved bits: vertical, no ticks
        frames = s.frames()
        self.assertTrue(all(f[0] == 2 and (len(f) - 13) % 10 == 0 for f in frames))
        self.push(frames)
        session = self.session_started(mark)

        per_rev = math.pi * 1.9 * 2.0              # drum 19.00 mm x 20.00 mm, in cm
        share = TARGET_PASSES / 3

        def passes(zone, revs):
            return revs * per_rev / ZONE_AREA_CM2[zone]
        by_dir = {   # (horizontal, vertical, diagonal, unknown) passes
            'forehead': (passes('forehead', 20), passes('forehead', 10), 0.0, 0.0),
            'left-cheek': (passes('left-cheek', 4),) * 3 + (0.0,),
            'nose': (0.0, 0.0, 0.0, passes('nose', 3)),
        }
        expect = {z: min(1.0, (sum(min(p, share) for p in d[:3]) + d[3]) / TARGET_PASSES)
                  for z, d in by_dir.items()}
        # by hand: forehead (min (3.979, 2) + 1.989) / 6, cheek 3 · 1.194 / 6, nose 2.985 / 6
        self.assertAlmostEqual(expect['forehead'], (2 + 10 * per_rev / 60) / 6, places=9)
        self.assertAlmostEqual(expect['forehead'], 0.66494, places=4)
        self.assertAlmostEqual(expect['left-cheek'], 0.59690, places=4)
        self.assertAlmostEqual(expect['nose'], 0.49742, places=4)
        # without directions the forehead would be at 30 revolutions / 60 cm² / 6
        self.assertGreater(30 * per_rev / 60 / 6, expect['forehead'])

        self.wait_acked(s.seq - 1)
        self.wait_roller_prop('Coverage', lambda c: all(abs(c.get(z, 0) - v) < 1e-6
                                                        for z, v in expect.items()))
        live = self.roller_prop('PassesByDirection')
        for zone, want in by_dir.items():
            for got, exp in zip(live[zone], want):
                self.assertAlmostEqual(got, exp, places=6, msg=zone)
        self.assertEqual(live['chin'], (0.0, 0.0, 0.0, 0.0))

        self.assertEqual(self.roller_call('StopSession'), session)
        coverage = self.manager('GetSessionCoverage', '(t)', (session,))
        detail = self.manager('GetSessionCoverageByDirection', '(t)', (session,))
        self.assertEqual(set(detail), set(coverage))
        for zone in proto.ZONES:
            self.assertAlmostEqual(detail[zone][0], coverage[zone][0], places=9, msg=zone)
            self.assertAlmostEqual(sum(detail[zone][1:]), coverage[zone][1], places=6, msg=zone)
        for zone, want in by_dir.items():
            self.assertAlmostEqual(coverage[zone][0], expect[zone], places=6, msg=zone)
            for got, exp in zip(detail[zone][1:], want):
                self.assertAlmostEqual(got, exp, places=6, msg=zone)

        # dermarollctl coverage: --json and the table's note
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.session.address,
                   DBUS_SYSTEM_BUS_ADDRESS=self.system.address, TZ='UTC', LC_ALL='C.UTF-8')
        ctl = ctl_path()
        if not os.access(ctl, os.X_OK):
            self.skipTest(f'no dermarollctl at {ctl}')
        out = subprocess.run([ctl, 'coverage', str(session), '--json'], env=env, check=True,
                             capture_output=True, text=True, timeout=30).stdout
        zones = {z['zone']: z for z in json.loads(out)['zones']}
        for zone, want in by_dir.items():
            got = zones[zone]['passes_by_direction']
            self.assertEqual(list(got), ['horizontal', 'vertical', 'diagonal', 'unknown'])
            for key, exp in zip(got, want):
                self.assertAlmostEqual(got[key], exp, places=6, msg=f'{zone} {key}')
            self.assertAlmostEqual(zones[zone]['coverage'], expect[zone], places=6)
        self.assertEqual(zones['chin']['passes_by_direction'],
                         {'horizontal': 0, 'vertical': 0, 'diagonal': 0, 'unknown': 0})
        out = subprocess.run([ctl, 'coverage', str(session)], env=env, check=True,
                             capture_output=True, text=True, timeout=30).stdout
        lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
        self.assertIn('diagonal missing', lines['forehead'])
        self.assertNotIn('vertical', lines['forehead'])
        self.assertNotIn('missing', lines['left-cheek'])
        self.assertNotIn('missing', lines['nose'])   # no direction known: nothing to say


class RestByNeedle(DaemonTestCase):
    '''The rest rule follows the earlier treatment's needle (issue 9 §2): a
    1.5 mm session is stored, the daemon restarts, and a second roller with
    a 0.25 mm head rolls the same zone. The 0.25 mm window is cut to 8.64 s
    here, so that the head in use says "fine" after half a minute; the
    1.5 mm session's 42 days say "too soon".'''

    head = proto.Head(needle_length_um=1500, head_id=0x1500)
    SECOND = '11:22:33:44:55:66'
    CONFIG = '[rest-days]\ncosmetic=0.0001\n'

    def test_long_needle_then_short_head(self):
        second = self.bluez.add_roller(self.ADAPTER, self.SECOND, Name='DermaRoller 2',
                                       HeadInfo=proto.Head(needle_length_um=250,
                                                           head_id=0x250).encode())
        self.start_notifications()
        self.start_paired()
        self.assertEqual(self.roller_prop('NeedleLength'), 1500)
        mark = self.events.mark()
        s = self.live_stream(seconds_ago=40)
        s.add(1, 2000, 5, 0)
        s.add(40, 2000, 5, 20)             # the chin, 1.5 mm
        self.push(s.frames())
        first = self.session_started(mark)
        self.wait_acked(s.seq - 1)
        self.assertEqual(self.roller_call('StopSession'), first)
        self.events.wait_signal('SessionEnded', ROLLER_PATH, since=mark)
        first_end = s.samples[-1][0]
        wait_until(lambda: self.db('SELECT end_ms, needle_length_um FROM sessions WHERE id = ?',
                                   (first,)) == [(first_end, 1500)], 5, 'the 1.5 mm session stored')

        # the history comes from the store now
        self.assertEqual(self.daemon.stop(), 0)
        self.bluez.client_gone()
        self.start_daemon()
        self.wait_streaming(timeout=20)
        path2 = self.manager('Pair', '(s)', (self.SECOND,), timeout=30)
        self.wait_roller_prop('Connected', bool, path=path2)
        wait_until(lambda: second.info()['Streaming'], 10, 'the second roller streaming')
        self.assertEqual(self.roller_prop('NeedleLength', path2), 250)

        mark = self.events.mark()
        b = self.live_stream(seconds_ago=10, seq=1000)
        b.add(1, 2000, 5, 0)
        b.add(20, 2000, 5, 20)             # the chin again, 0.25 mm, half a minute later
        contact = b.samples[0][0]
        self.assertGreater(contact - first_end, 8640 + 5000)   # the 0.25 mm window is over
        second.push(b.frames())
        started = self.events.wait_signal('SessionStarted', path2, since=mark)[0]
        session2 = started.args[0]
        warning = self.events.wait_signal('ZoneWarning', path2, since=mark)[0]
        self.assertEqual(warning.args, (session2, 'chin', 'too-soon'))
        events = wait_until(lambda: [e for e in self.manager('GetSessionEvents', '(t)',
                                                             (session2,))
                                     if e[1] == 'too-soon'], 5, 'the too-soon event stored')
        self.assertEqual(events[0][0], contact)
        self.assertEqual(events[0][2]['zone'], 'chin')
        self.assertEqual(events[0][2]['last-treated-ms'], first_end)
        popup = wait_until(lambda: [b for t, b in self.notifications.notified()
                                    if t == 'Too soon for this zone'], 10, 'the too-soon popup')
        self.assertIn('with 1.50 mm needles; wait 42 days', popup[-1])


class LiveZone(DaemonTestCase):
    '''Roller1.CurrentZone follows the zone of the latest contact sample:
    the sensor's, or the user's when the sensor does not know (issue 9 §4).'''

    def test_current_zone_follows_the_sensor(self):
        self.start_paired()
        self.assertEqual(self.roller_prop('CurrentZone'), '')
        mark = self.events.mark()
        s = self.live_stream(seconds_ago=20)
        s.add(1, 2000, 5, 0).add(10, 2000, 5, 8)           # the chin
        self.push(s.frames())
        self.wait_roller_prop('CurrentZone', lambda z: z == 'chin')
        s.add(10, 2000, 3, 8)                               # the nose
        self.push(s.frames())
        self.wait_roller_prop('CurrentZone', lambda z: z == 'nose')
        s.add(10, 200, 0, 0)                                # lifted over the forehead
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        self.roller_call('SetZone', '(s)', ('neck',))
        self.assertEqual(self.roller_prop('CurrentZone'), 'nose')
        s.add(10, 2000, proto.ZONE_UNKNOWN, 8)              # the sensor does not know
        self.push(s.frames())
        self.wait_roller_prop('CurrentZone', lambda z: z == 'neck')
        self.roller_call('SetZone', '(s)', ('',))
        s.add(10, 2000, proto.ZONE_UNKNOWN, 8)              # nobody knows
        self.push(s.frames())
        self.wait_roller_prop('CurrentZone', lambda z: z == '')

        # Get may answer before the PropertiesChanged of the same change
        # has reached the recorder: wait for the signal of the last one.
        def zones():
            return [sig.args[1]['CurrentZone']
                    for sig in self.events.find('PropertiesChanged', ROLLER_PATH, since=mark)
                    if 'CurrentZone' in sig.args[1]]
        wait_until(lambda: zones() and zones()[-1] == '', 5, 'PropertiesChanged CurrentZone ""',
                   details=zones)
        self.assertEqual(zones(), ['chin', 'nose', 'neck', ''])


class Storage(DaemonTestCase):

    def test_live_frames_acked_after_commit(self):
        self.start_paired()
        s = self.live_stream()
        # Each batch is acknowledged with nothing more arriving after it: the
        # store's commit deadline, not the next frame, releases the ACK.
        for _ in range(6):
            s.add(50, 2000, 0, 8)
            self.push(s.frames())
            self.wait_acked(s.seq - 1, timeout=10)
        wait_until(lambda: not self.roller.stored(), 5, 'the roller erased every acked frame')
        self.assert_db_has_exactly(self.produced)
        self.assert_acks_after_commit()

    def test_history_sync_on_connect(self):
        # the roller was used without the computer two days ago
        history = proto.Stream(t0_ms=now_ms() - 2 * 86_400_000, seq=500)
        history.add(300, 2200, 0, 12)
        stored = history.frames()
        self.bluez.stop()
        self.bluez, self.roller = self.start_bluez({}, stored=stored)
        self.produced.extend(stored)

        self.start_daemon()
        self.manager('Pair', '(s)', (self.ADDRESS,), timeout=30)
        self.wait_streaming()
        self.wait_acked(history.seq - 1, timeout=5)
        wait_until(lambda: not self.roller.stored(), 5, 'the roller erased the acked history')
        requests = self.roller.control_requests()
        self.assertIn((proto.OP_REQUEST_HISTORY, None), requests)
        self.assertIn((proto.OP_ACK, history.seq - 1), requests)
        self.assert_acks_after_commit()
        self.assert_db_has_exactly(stored)
        self.assertTrue(all(flags & proto.FLAG_HISTORY for _, _, flags, _ in self.db_frames()))

        # the history forms its own session, with its own timestamps, closed
        def history_session():
            rows = [r for r in self.manager('ListSessions', '(xx)', (0, 0))
                    if r[2] == history.samples[0][0]]
            return rows if rows and rows[0][3] != 0 else None
        rows = wait_until(history_session, 5, 'the history session, ended',
                          details=lambda: self.manager('ListSessions', '(xx)', (0, 0)))
        self.assertEqual(rows[0][3], history.samples[-1][0])
        coverage = self.manager('GetSessionCoverage', '(t)', (rows[0][0],))
        revs = 299 * 12 / self.head.ticks_per_rev
        self.assertAlmostEqual(coverage['forehead'][2], revs * area_per_rev_cm2(self.head), places=6)

    def test_kill9_mid_stream_loses_nothing(self):
        self.start_paired()
        s = self.live_stream(seconds_ago=30)
        s.add(300, 2000, 0, 8)
        first = s.frames()                 # 30 frames
        self.push(first[:20])
        self.wait_acked(proto.frame_key(first[9])[1])
        self.push(first[20:])              # in flight when the daemon dies
        self.daemon.kill9()
        self.bluez.client_gone()           # bluetoothd drops the dead client's sessions
        s.add(100, 2000, 0, 8)
        offline = s.frames()               # made while no one listens: kept by the roller
        self.assertEqual(self.push(offline), 0)
        self.assertTrue(self.roller.stored())

        mark = self.bt_calls.mark()
        self.start_daemon()                # knows the roller: reconnects by itself
        self.wait_streaming(timeout=20)
        self.assertTrue(self.control_requests_seen(mark, proto.OP_REQUEST_HISTORY),
                        'no REQUEST_HISTORY after the restart, with frames pending')
        wait_until(lambda: not self.roller.stored(), 10, 'every frame acknowledged',
                   details=lambda: f'{len(self.roller.stored())} still stored; '
                                   f'{self.roller.control_requests()[-8:]}')
        s.add(50, 2000, 0, 8)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        self.assert_db_has_exactly(self.produced)
        self.assert_acks_after_commit()
        # and the engine saw each once. One unbroken run of contact is one
        # session ("frames that belong to an existing session join it"), so
        # no rest-interval warning against itself; its forehead area is the
        # whole run's, never more (counted twice) nor less (lost totals).
        # GetSessionCoverage answers from the store, where an open session's
        # totals go at Coverage's pace, at most twice a second (roller.c
        # publish_coverage), not with the frames the ACK covers: right after
        # the last ACK they may lack the last half second of frames. Ending
        # the session stores its totals first (on_session_ended), and the
        # store's queries see every write queued before them.
        mark = self.events.mark()
        session = self.roller_call('StopSession')
        self.events.wait_signal('SessionEnded', ROLLER_PATH, since=mark)
        sessions = self.manager('ListSessions', '(xx)', (0, 0))
        self.assertIn(session, [sid for sid, *_ in sessions])
        coverage = {sid: self.manager('GetSessionCoverage', '(t)', (sid,)) for sid, *_ in sessions}
        rolled = sum(c['forehead'][2] for c in coverage.values())
        total = (len(s.samples) - 1) * 8 * area_per_rev_cm2(self.head) / self.head.ticks_per_rev
        problems = []
        if abs(rolled - total) > 1e-6:
            problems.append(f'forehead rolled {rolled:.4f} cm² over the sessions, the frames make {total:.4f}')
        if len(sessions) != 1:
            problems.append(f'the run is split into {len(sessions)} sessions: {sessions}')
        too_soon = self.events.find('ZoneWarning', where=lambda sig: sig.args[2] == 'too-soon')
        if too_soon:
            problems.append(f'too-soon warnings: {too_soon}')
        if problems:
            self.fail('after kill -9 and restart: ' + '; '.join(problems) + '; coverage by session: '
                      + str({sid: c['forehead'] for sid, c in coverage.items()}))

    def test_restart_keeps_history(self):
        self.start_paired()
        mark = self.events.mark()
        s = self.live_stream(seconds_ago=60)
        s.add(200, 2000, 0, 10).add(1, 5800, 1, 0).add(30, 5800, 1, 10).add(40, 2000, 1, 10)
        self.push(s.frames())
        session = self.session_started(mark)
        self.wait_acked(s.seq - 1)
        self.assertEqual(self.roller_call('StopSession'), session)
        self.events.wait_signal('SessionEnded', ROLLER_PATH, since=mark)
        before = self.snapshot()
        self.assertEqual(len(before[0]), 1)

        self.assertEqual(self.daemon.stop(), 0)
        self.bluez.client_gone()
        self.start_daemon()
        self.assertEqual(self.snapshot(), before)
        self.wait_streaming(timeout=20)    # remembered as paired: reconnects
        self.assertTrue(self.roller_prop('Paired'))
        self.assertEqual(self.snapshot(), before)

    def test_disk_full_loses_nothing(self):
        '''A store that cannot write (here: a file-size limit, as a full disk)
        is said in the log, nothing is acknowledged that is not on disk, the
        daemon keeps serving, and once writes work again the roller's kept
        frames are fetched and stored.'''
        self.start_paired()
        s = self.live_stream()
        s.add(50, 2000, 0, 8)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        acked_before = max(seq for seq, _ in self.ack_checks)

        # Every write past the first 4 KiB of a file now fails with EFBIG.
        resource.prlimit(self.daemon.proc.pid, resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
        s.add(50, 2200, 0, 8)
        blocked = s.frames()
        self.push(blocked)
        # The log file is over the limit too: the bus says it instead.
        error = wait_until(lambda: self.manager_prop('StoreError'), 5, 'Manager1.StoreError')
        self.assertIn(self.daemon.db_path, error)
        # still serving
        self.assertEqual(len(self.manager('GetZones', '()', ())), 7)
        self.assertEqual([seq for seq, _ in self.ack_checks if seq > acked_before], [],
                         'frames acknowledged while the store could not write them')
        self.assertTrue(self.roller.stored(), 'the roller erased frames that are not on disk')

        resource.prlimit(self.daemon.proc.pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        wait_until(lambda: not self.roller.stored(), 10, 'the kept frames stored and acked',
                   details=lambda: f'{len(self.roller.stored())} still stored; '
                                   f'{self.roller.control_requests()[-8:]}')
        self.assert_db_has_exactly(self.produced)
        self.assert_acks_after_commit()
        wait_until(lambda: self.manager_prop('StoreError') == '', 5, 'StoreError cleared')

    def small_disk(self, size_mb):
        '''Puts the database on a tmpfs of size_mb MiB (root only; unmounted
        lazily at cleanup, the daemon may still hold its files). Returns a
        (fill, free) pair: fill() takes every free byte, free() gives them
        back. Without a mount (or with DERMAROLL_NO_MOUNT set), (None, None).'''
        if os.environ.get('DERMAROLL_NO_MOUNT'):
            return None, None
        os.makedirs(self.daemon.state_dir, mode=0o700, exist_ok=True)
        try:
            r = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size_mb}m,mode=0700', 'tmpfs',
                                self.daemon.state_dir], capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None, None
        if r.returncode != 0:
            return None, None
        self.addCleanup(subprocess.run, ['umount', '-l', self.daemon.state_dir],
                        capture_output=True, timeout=10)
        filler = os.path.join(self.daemon.state_dir, 'filler')

        def fill():
            # Unbuffered: a buffered file would hold what the disk refused
            # and raise ENOSPC again from its close().
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                block = bytes(65536)
                while os.write(fd, block) > 0:
                    pass
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
            finally:
                os.close(fd)

        def free():
            os.unlink(filler)
        return fill, free

    def writes_failed_since_request(self):
        '''Store writes the daemon's log says failed since it last sent
        REQUEST_HISTORY.'''
        with open(self.daemon.log_path, encoding='utf-8', errors='replace') as f:
            lines = f.read().splitlines()
        asked = [i for i, line in enumerate(lines) if line.endswith(': REQUEST_HISTORY')]
        return sum(1 for line in lines[asked[-1] if asked else 0:]
                   if re.search(r'write \d+ failed', line))

    def test_disk_full_across_commits(self):
        '''A full disk for several batches: frames keep arriving, the daemon
        asks the roller again and the kept frames come back and fail again;
        then the first frames after space returns are stored before the
        failed ones come back. Nothing is acknowledged past a frame that is
        not on disk, every frame ends up stored once, the roller holds
        nothing, and the write-ahead log is checkpointed so that it does not
        keep the disk full. On a 16 MiB tmpfs the test mounts, filled up;
        where it cannot mount, with a file-size limit on the daemon (then
        its log cannot be written either, and the rounds are paced by the
        daemon's requests alone).'''
        fill, free = self.small_disk(16)
        on_tmpfs = fill is not None
        if not on_tmpfs:
            def fill():
                resource.prlimit(self.daemon.proc.pid, resource.RLIMIT_FSIZE,
                                 (4096, resource.RLIM_INFINITY))

            def free():
                resource.prlimit(self.daemon.proc.pid, resource.RLIMIT_FSIZE,
                                 (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

        notifications = self.start_notifications()
        self.start_paired()
        s = self.live_stream(seconds_ago=30)
        s.add(50, 2000, 0, 8)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        acked_before = max(seq for seq, _ in self.ack_checks)
        stored_before = len(self.produced)

        fill()
        full_since = time.monotonic()
        # 3 rounds: about 7 s full; DERMAROLL_DISK_FULL_ROUNDS=6 makes it about 60 s
        rounds = int(os.environ.get('DERMAROLL_DISK_FULL_ROUNDS', '3'))
        for i in range(rounds):
            mark = self.bt_calls.mark()
            s.add(30, 2100 + 100 * i, 0, 8)
            self.push(s.frames())
            if i == 0:
                wait_until(lambda: self.manager_prop('StoreError'), 5, 'Manager1.StoreError')
            # asked again (after 1, 2 and 4 s): the kept frames come back and fail again
            self.wait_control(proto.OP_REQUEST_HISTORY, since=mark, timeout=2 ** i + 10)
        held = len(self.roller.stored())
        if on_tmpfs:
            # space returns only once every frame sent again has failed again
            wait_until(lambda: self.writes_failed_since_request() >= held, 10,
                       'the frames sent again failed', poll_ms=50)
        self.assertEqual(held, len(self.produced) - stored_before, 'the roller erased frames')
        self.assertEqual([seq for seq, _ in self.ack_checks if seq > acked_before], [],
                         'frames acknowledged while the store could not write them')

        full_for = time.monotonic() - full_since
        free()
        s.add(20, 2000, 0, 8)              # live, before the kept frames are asked for again
        self.push(s.frames())
        wait_until(lambda: not self.roller.stored(), 15, 'the kept frames stored and acked',
                   details=lambda: f'{len(self.roller.stored())} of {held} still stored; '
                                   f'ACKs: {[c[0] for c in self.ack_checks]}')
        self.assert_acks_after_commit()
        self.assert_db_has_exactly(self.produced)
        wait_until(lambda: self.manager_prop('StoreError') == '', 5, 'StoreError cleared')
        # the user was told once for the whole spell, with the cause
        told = [n for n in notifications.notified() if 'cannot be written' in n[0]]
        self.assertEqual(len(told), 1, notifications.notified())
        if on_tmpfs:
            self.assertIn('full', told[0][1].lower())
        sys.stderr.write(f'disk full ({"tmpfs" if on_tmpfs else "RLIMIT_FSIZE"}) for {full_for:.1f} s, '
                         f'{rounds} requests for history; {len(self.produced)} frames produced, '
                         f'{held} held by the roller meanwhile, all stored once; '
                         f'ACKs: {[c[0] for c in self.ack_checks]}\n')
        if on_tmpfs:
            # checkpointed once the store wrote again: the log gave its space back
            wal = self.daemon.db_path + '-wal'
            wait_until(lambda: not os.path.exists(wal) or os.path.getsize(wal) <= 1 << 20, 5,
                       'the write-ahead log at most 1 MiB',
                       details=lambda: f'{os.path.getsize(wal)} bytes')

    def test_corrupt_database_moved_aside_and_salvaged(self):
        '''Row 7 of tests/faults/README.md: garbage over a frames leaf page
        of the database before the daemon starts. The integrity check after
        start finds it, StoreError says so, the file is moved aside byte for
        byte as it was, new frames land in a fresh database, and --salvage
        recovers every frame the damaged file can still give.'''
        notifications = self.start_notifications()
        self.start_paired()
        s = self.live_stream(seconds_ago=120)
        s.add(3000, 2000, 0, 8)
        before = s.frames()
        self.push(before)
        self.wait_acked(s.seq - 1, timeout=10)
        self.assertEqual(self.daemon.stop(), 0)      # checkpointed: all in the file
        self.bluez.client_gone()

        db_path = self.daemon.db_path
        self.assertFalse(os.path.exists(db_path + '-wal'))
        db = sqlite3.connect(db_path)
        try:
            leaves = db.execute("SELECT pageno, ncell FROM dbstat WHERE name = 'frames' "
                                "AND pagetype = 'leaf' ORDER BY pageno").fetchall()
            page_size = db.execute('PRAGMA page_size').fetchone()[0]
            total = db.execute('SELECT count(*) FROM frames').fetchone()[0]
        finally:
            db.close()
        self.assertEqual(total, len(before))
        self.assertGreater(len(leaves), 4)
        page, on_page = leaves[len(leaves) // 2]
        with open(db_path, 'r+b') as f:
            f.seek((page - 1) * page_size)
            f.write(bytes((i * 131 + 17) % 256 for i in range(page_size)))
        with open(db_path, 'rb') as f:
            damaged = f.read()

        self.start_daemon()
        error = wait_until(lambda: self.manager_prop('StoreError'), 10, 'Manager1.StoreError',
                           details=lambda: self.daemon.log(20))
        state_dir = os.path.dirname(db_path)
        aside = [n for n in os.listdir(state_dir)
                 if n.startswith('dermaroll.db.corrupt-') and not n.endswith(('-wal', '-shm'))]
        self.assertEqual(len(aside), 1, os.listdir(state_dir))
        moved = os.path.join(state_dir, aside[0])
        self.assertIn(moved, error)
        self.assertIn('damaged', error)
        with open(moved, 'rb') as f:
            self.assertEqual(f.read(), damaged, 'the damaged file was changed')
        with open(self.daemon.log_path, encoding='utf-8', errors='replace') as f:
            log = f.read()
        self.assertIn(f'{db_path}: ', log)
        self.assertIn(moved, log)
        wait_until(lambda: [n for n in notifications.notified() if 'damaged' in n[0]], 5,
                   'a notification of the damage', details=notifications.notified)
        self.assertIn(moved, [n for n in notifications.notified() if 'damaged' in n[0]][0][1])

        # New frames go to the fresh database, and are acked from there.
        self.produced = []
        self.wait_streaming(timeout=20)
        s.add(200, 2000, 0, 8)
        after = s.frames()
        self.push(after)
        self.wait_acked(s.seq - 1, timeout=10)
        self.assert_db_has_exactly(after)
        self.assert_acks_after_commit()
        self.assertIn(moved, self.manager_prop('StoreError'), 'StoreError forgot the damage')
        self.assertEqual(self.daemon.stop(), 0)

        # --salvage: every frame off the damaged page, into the fresh one.
        out = subprocess.run([self.daemon.path, '--db', db_path, '--config',
                              self.daemon.config_path, '--salvage', moved],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        recovered = len(before) - on_page
        self.assertIn(f'frames read: {recovered} ({recovered} new,', out.stdout)
        self.assertRegex(out.stdout, r'sessions recomputed: [1-9]')
        keys = self.db_frame_keys()
        salvaged = [f for f in before if proto.frame_key(f) in keys]
        self.assertEqual(len(salvaged), recovered)
        self.assert_db_has_exactly(after + salvaged)
        with open(moved, 'rb') as f:
            self.assertEqual(f.read(), damaged, 'salvage changed the damaged file')

    def snapshot(self):
        sessions = self.manager('ListSessions', '(xx)', (0, 0))
        detail = {sid: (self.manager('GetSessionCoverage', '(t)', (sid,)),
                        self.manager('GetSessionEvents', '(t)', (sid,)))
                  for sid, *_ in sessions}
        return sessions, detail

    def test_malformed_frames_counted(self):
        self.start_paired()
        s = self.live_stream()
        s.add(10, 2000, 0, 8)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        t0 = now_ms()
        good = proto.encode_frame(99, t0, [(0, 1, 2000, 0), (10, 2, 2000, 0)])
        bad = {
            'truncated': good[:9],
            'bad-version': bytes([3]) + good[1:],
            'no-samples': proto.encode_frame(98, t0, []),
            'too-many-samples': proto.encode_frame(97, t0, [(10, i, 2000, 0) for i in range(26)]),
            'length-mismatch': good + bytes(9),
        }
        # corrupted on the way: the roller's memory is not involved
        for frame in bad.values():
            self.roller.notify(frame)
        self.wait_roller_prop('MalformedFrames', lambda n: n == len(bad))
        # still serving: the next frames are taken and acked, the API answers
        s.add(10, 2000, 0, 8)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        self.assertEqual(len(self.manager('GetZones')), 7)
        self.assertEqual(self.roller_prop('MalformedFrames'), len(bad))
        self.assertEqual(self.roller_prop('DroppedFrames'), 0)
        rows = self.db('SELECT reason, raw FROM malformed_frames')
        self.assertEqual(sorted(r[0] for r in rows), sorted(bad))
        self.assertEqual({r[0]: bytes(r[1]) for r in rows}, bad)
        self.assert_db_has_exactly(self.produced)


class Restarts(DaemonTestCase):
    '''kill -9 of the daemon loses nothing of the head wear and counts no
    frame twice (issue 8, break 3).'''

    HEAD_LIFE = 40.0
    CONFIG = f'[engine]\nhead-life-revolutions={HEAD_LIFE}\n'
    TICKS = 18                     # per sample: 20 samples a revolution

    def revolutions(self, stream):
        return (len(stream.samples) - 1) * self.TICKS / self.head.ticks_per_rev

    def wait_head_wear(self, revolutions, when):
        wear = revolutions / self.HEAD_LIFE
        try:
            self.wait_roller_prop('HeadWear', lambda w: abs(w - wear) < 1e-9, timeout=10)
        except AssertionError as e:
            self.fail(f'{when}: HeadWear is {self.roller_prop("HeadWear")!r}, the frames make '
                      f'{wear!r} ({revolutions} revolutions); {e}')

    def kill9_and_restart(self):
        self.daemon.kill9()
        self.bluez.client_gone()           # bluetoothd drops the dead client's sessions
        self.start_daemon()                # knows the roller: reconnects by itself
        self.wait_streaming(timeout=20)
        wait_until(lambda: not self.roller.stored(), 10, 'every frame acknowledged',
                   details=lambda: f'{len(self.roller.stored())} still stored')

    def test_kill9_keeps_head_wear(self):
        self.start_paired()
        s = self.live_stream(seconds_ago=30)
        s.add(200, 2000, 0, self.TICKS)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        self.wait_head_wear(self.revolutions(s), 'before kill -9')

        self.kill9_and_restart()
        self.wait_head_wear(self.revolutions(s), 'after kill -9 and a restart')
        s.add(100, 2000, 0, self.TICKS)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        self.wait_head_wear(self.revolutions(s), 'rolling on after the restart')

        # Killed again; the resumed session then ends with nothing new.
        self.kill9_and_restart()
        self.wait_head_wear(self.revolutions(s), 'after a second kill -9')
        session = self.roller_call('StopSession')
        self.assertEqual([r[0] for r in self.manager('ListSessions', '(xx)', (0, 0))], [session])

        def stored_revolutions():
            rows = self.db('SELECT revolutions FROM heads WHERE head_id = ?', (self.head.head_id,))
            return rows[0][0] if rows else None
        revolutions = self.revolutions(s)
        wait_until(lambda: abs((stored_revolutions() or 0) - revolutions) < 1e-9, 5,
                   f'the heads row to hold the session\'s {revolutions} revolutions',
                   details=lambda: f'heads.revolutions = {stored_revolutions()!r}')

        # and the next daemon starts from there
        self.daemon.stop()
        self.bluez.client_gone()
        self.start_daemon()
        self.wait_streaming(timeout=20)
        self.wait_head_wear(revolutions, 'after a clean restart')

    def test_session_ids_follow_on_across_restarts(self):
        # A fresh database's first session is 1; starting the daemon hands
        # out no id, so the next session after a restart is 2.
        # Each session is rolled 200 s after the one before, ending 120 s
        # after its last contact, long past: it ends at once, and no
        # restart resumes it.
        self.start_paired()
        s = self.live_stream(seconds_ago=900)
        sessions = []
        for restart in (False, True):
            if restart:
                self.daemon.stop()
                self.bluez.client_gone()
                self.start_daemon()
                self.wait_streaming(timeout=20)
            mark = self.events.mark()
            s.t += 200000 if sessions else 0
            s.add(20, 2000, 0, self.TICKS)
            self.push(s.frames())
            started = self.events.wait_signal('SessionStarted', ROLLER_PATH, since=mark)[0]
            ended = self.events.wait_signal('SessionEnded', ROLLER_PATH, since=mark)[0]
            self.assertEqual(started.args[0], ended.args[0])
            sessions.append(started.args[0])
        self.assertEqual(sessions, [1, 2])
        wait_until(lambda: sorted(r[0] for r in self.manager('ListSessions', '(xx)', (0, 0)))[:2]
                   == [1, 2], 5, 'sessions 1 and 2 stored')

    def restart_cleanly(self):
        self.daemon.stop()
        self.bluez.client_gone()
        self.start_daemon()
        self.wait_streaming(timeout=20)

    def roll_new_session(self, s, when, restart, gap_ms=0, past=False, down=False):
        '''Rolls 20 samples (2 frames) gap_ms after the stream's last, well
        within the session gap; asserts they start one new session, with
        its SessionStarted, and returns its id. restart: the daemon
        restarts cleanly first; down: they are rolled while it is down,
        and the roller keeps them for its history. past: the stream is so
        old that the session's gap is over on the roller's clock already,
        and it ends by itself.'''
        ended = [r[0] for r in self.manager('ListSessions', '(xx)', (0, 0))]
        if restart and not down:
            self.restart_cleanly()
        elif down:
            self.daemon.stop()
            self.bluez.client_gone()
        mark = self.events.mark()
        if gap_ms:
            s.gap(gap_ms)
        s.add(20, 2000, 0, self.TICKS)
        self.push(s.frames())
        if down:
            self.start_daemon()
            self.wait_streaming(timeout=20)
        self.wait_acked(s.seq - 1)
        try:
            session = self.events.wait_signal('SessionStarted', ROLLER_PATH, since=mark)[0].args[0]
        except AssertionError as e:
            self.fail(f'{when}: rolling again started no session (ActiveSession '
                      f'{self.roller_prop("ActiveSession")}, sessions stored {ended}); {e}')
        self.assertNotIn(session, ended, f'{when}: an ended session was reopened')
        if not past:
            self.assertEqual(self.roller_prop('ActiveSession'), session)
            self.assertEqual(self.roller_call('StopSession'), session)
        self.events.wait_signal('SessionEnded', ROLLER_PATH, since=mark,
                                where=lambda sig: sig.args[0] == session)
        self.assertEqual(len(self.events.find('SessionStarted', ROLLER_PATH, since=mark)), 1,
                         f'{when}: 20 samples started more than one session')
        wait_until(lambda: sorted(r[0] for r in self.manager('ListSessions', '(xx)', (0, 0)))
                   == sorted(ended + [session]), 5, f'{when}: one session more stored',
                   details=lambda: f'before {ended}, now '
                                   f'{self.manager("ListSessions", "(xx)", (0, 0))}')
        return session

    def test_gap_ended_session_stays_ended(self):
        '''A session the session gap ended (SessionEnded sent, end stored)
        is not reopened by a restart: 20 samples rolled after it, within
        the gap of its last contact, make one new session, with its
        SessionStarted, and only one.'''
        self.start_paired()
        # Rolled 5 min ago: its gap is long over, it ends at once.
        # One stroke of 10 frames, one session: its gap is over when its
        # frames come, but not between two of them.
        s = self.live_stream(seconds_ago=300)
        mark = self.events.mark()
        s.add(100, 2000, 0, self.TICKS)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        first = self.session_started(since=mark)
        self.events.wait_signal('SessionEnded', ROLLER_PATH, since=mark,
                                where=lambda sig: sig.args[0] == first)
        self.assertEqual([sig.args[0] for sig in
                          self.events.find('SessionStarted', ROLLER_PATH, since=mark)], [first],
                         '100 samples of one stroke made more than one session')
        # 60 s after its last contact, after a clean restart; then again
        # 60 s on, rolled while the daemon was down (the roller's history
        # comes in before anything could end a session it joined).
        second = self.roll_new_session(s, 'after a clean restart', restart=True, gap_ms=60000,
                                       past=True)
        third = self.roll_new_session(s, 'rolled while the daemon was down', restart=True,
                                      gap_ms=60000, past=True, down=True)
        self.assertEqual([first, second, third], [1, 2, 3])

    def test_stopped_session_stays_ended(self):
        '''A session StopSession ended is never reopened: the next contact,
        within the session gap, starts a new one, whether or not the daemon
        restarted in between (cleanly or by kill -9).'''
        self.start_paired()
        s = self.live_stream(seconds_ago=30)
        mark = self.events.mark()
        s.add(100, 2000, 0, self.TICKS)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        first = self.session_started(since=mark)
        self.assertEqual(self.roller_call('StopSession'), first)
        self.events.wait_signal('SessionEnded', ROLLER_PATH, since=mark)

        sessions = [first]
        sessions.append(self.roll_new_session(s, 'no restart', restart=False))
        sessions.append(self.roll_new_session(s, 'after a clean restart', restart=True))
        # A session left open by kill -9 is resumed, and once stopped stays so.
        mark = self.events.mark()
        s.add(20, 2000, 0, self.TICKS)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        open_one = self.session_started(since=mark)
        self.kill9_and_restart()
        s.add(20, 2000, 0, self.TICKS)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        self.assertEqual(self.roller_prop('ActiveSession'), open_one,
                         'kill -9: the open session is not resumed')
        self.assertEqual(self.roller_call('StopSession'), open_one)
        sessions.append(open_one)
        sessions.append(self.roll_new_session(s, 'after StopSession of a resumed session',
                                              restart=True))
        self.assertEqual(sessions, list(range(1, 6)))
        wait_until(lambda: sorted(r[0] for r in self.manager('ListSessions', '(xx)', (0, 0)))
                   == sessions, 5, f'sessions {sessions} stored',
                   details=lambda: str(self.manager('ListSessions', '(xx)', (0, 0))))

    def test_kill9_after_clock_set_back(self):
        self.start_paired()
        s = self.live_stream(seconds_ago=30)
        s.add(300, 2000, 0, 8)             # 3 s of rolling, 30 frames
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        # The roller's clock ran fast; SET_TIME at a reconnect set it back
        # 2 s: its next frames have the t0s of frames it made before.
        s.t -= 2000
        s.add(300, 2000, 0, 8)
        later = s.frames()
        self.push(later[:20])
        self.wait_acked(proto.frame_key(later[19])[1])
        self.push(later[20:])              # in flight when the daemon dies

        self.kill9_and_restart()
        s.add(50, 2000, 0, 8)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        self.assert_db_has_exactly(self.produced)
        self.assert_acks_after_commit()

        # One run of contact, counted once, in the order it was rolled.
        session = self.roller_call('StopSession')
        sessions = self.manager('ListSessions', '(xx)', (0, 0))
        self.assertEqual([r[0] for r in sessions], [session])
        rolled = self.manager('GetSessionCoverage', '(t)', (session,))['forehead'][2]
        total = (len(s.samples) - 1) * 8 * area_per_rev_cm2(self.head) / self.head.ticks_per_rev
        self.assertAlmostEqual(rolled, total, places=6,
                               msg=f'forehead rolled {rolled:.4f} cm², the frames make {total:.4f}')
        self.assertEqual(self.roller_prop('DroppedFrames'), 0)
        self.assertEqual(self.db("SELECT count(*) FROM events WHERE kind IN "
                                 "('seq-gap', 'counter-reset')"), [(0,)])




class Clocks(DaemonTestCase):
    '''The wall clock jumps by hours mid-session (issue 8, fault matrix row
    8). The daemon runs under Debian's libfaketime with its wall clock read
    from a file the test rewrites (FAKETIME_TIMESTAMP_FILE, re-read on every
    call) and CLOCK_MONOTONIC left real; the test and the mock roller keep
    the real time. Durations, timers and rate limits must not move;
    SET_TIME must not set the roller back behind its own history.'''

    GAP_S = 3
    CONFIG = f'[engine]\nsession-gap-s={GAP_S}\n[notifications]\nmin-interval-s=2\n'

    def setUp(self):
        if faketime_unusable():
            self.skipTest(faketime_unusable())
        super().setUp()
        self.faketime = os.path.join(self.tmpdir, 'faketime.rc')
        self.set_wall_offset('+0')
        self.daemon.env = {'LD_PRELOAD': LIBFAKETIME, 'FAKETIME_TIMESTAMP_FILE': self.faketime,
                           'FAKETIME_NO_CACHE': '1', 'FAKETIME_DONT_FAKE_MONOTONIC': '1'}
        # dbusmock's notification daemon, to see what the rate limits let out
        self.start_notifications()
        # the roller's own clock: a quartz that keeps real time from where it was set
        self.clock_base = (now_ms(), time.monotonic())

    def set_wall_offset(self, offset):
        '''The daemon's wall clock from now on: real time plus offset ("+3h").'''
        tmp = self.faketime + '.new'
        with open(tmp, 'w', encoding='ascii') as f:
            f.write(offset + '\n')
        os.replace(tmp, self.faketime)

    def roller_now(self):
        base_ms, base_mono = self.clock_base
        return base_ms + int((time.monotonic() - base_mono) * 1000)

    def roll(self, s, seconds, force=3000, zone=0, ticks=8):
        '''Rolls for `seconds` of real time, 100 ms of samples per frame,
        each frame sent once the one before is acknowledged; the samples'
        times follow the roller's clock. Returns the number of frames.'''
        start = time.monotonic()
        n = 0
        while n == 0 or time.monotonic() - start < seconds:
            lag = self.roller_now() - s.t
            if s.samples and lag > s.period_ms:
                s.gap(lag)
            s.add(10, force, zone, ticks)
            self.push(s.frames())
            self.wait_acked(s.seq - 1)
            n += 1
        return n

    def notify_calls(self, summary):
        '''The bodies of the Notify calls with that summary.'''
        return [body for told, body in self.notifications.notified() if told == summary]

    def test_wall_clock_jumps_mid_session(self):
        self.start_paired()
        s = proto.Stream(t0_ms=self.roller_now())
        mark = self.events.mark()
        s.add(1, 3000, 0, 0)
        s.add(20, 6000, 0, 8)              # 200 ms over 5.0 N: a pressure warning
        s.add(40, 3000, 0, 8)              # back below 4.5 N for 400 ms: cleared
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        session = self.session_started(mark)
        first_contact = s.samples[0][0]
        self.events.wait_signal('PressureCleared', ROLLER_PATH, since=mark)
        wait_until(lambda: self.notify_calls('Too much pressure'), 10, 'the pressure popup')

        # +3 h: the stream goes on for twice the session gap; the session with it
        self.set_wall_offset('+3h')
        frames_forward = self.roll(s, 2 * self.GAP_S)
        ended_early = self.events.find('SessionEnded', ROLLER_PATH, since=mark)
        self.assertEqual(len(ended_early), 0, f'the wall clock jumping 3 h forward ended '
                         f'{len(ended_early)} sessions while the roller kept rolling')
        self.assertEqual(self.roller_prop('ActiveSession'), session)

        # -3 h (6 h back from there): the session still ends a gap after its
        # last contact, with its true duration
        self.set_wall_offset('-3h')
        frames_back = self.roll(s, 1.0)
        last_contact = s.samples[-1][0]
        rolled_until = time.monotonic()
        ended = self.events.wait_signal('SessionEnded', ROLLER_PATH, since=mark,
                                        timeout=self.GAP_S + 10)[0]
        idle_s = ended.time - rolled_until
        self.assertEqual(ended.args[0], session)
        sessions = self.manager('ListSessions', '(xx)', (0, 0))
        self.assertEqual([r[:4] for r in sessions],
                         [(session, self.ADDRESS, first_contact, last_contact)])
        duration_ms = sessions[0][3] - sessions[0][2]
        self.assertEqual(duration_ms, last_contact - first_contact)
        self.assertGreater(duration_ms, 0)
        self.assertEqual(self.db('SELECT end_ms - start_ms FROM sessions WHERE id = ?', (session,)),
                         [(duration_ms,)])

        # a reconnect: SET_TIME must not put the roller behind its own frames
        calls = self.bt_calls.mark()
        self.roller.drop_link()
        self.wait_roller_prop('Connected', lambda c: not c)
        self.wait_streaming(since=calls)
        set_time = self.control_requests_seen(calls, proto.OP_SET_TIME)
        self.assertEqual(len(set_time), 1, set_time)
        set_ms = set_time[0][1]
        wall_ms = now_ms() - 3 * 3600 * 1000
        self.assertGreater(set_ms, last_contact,
                           f'SET_TIME set the roller {(last_contact - set_ms) / 3.6e6:.2f} h back '
                           f'behind its last frame (the wall clock was 3 h behind)')
        self.clock_base = (set_ms, time.monotonic())   # the roller took it

        # a second session on the forehead at once, its samples on the
        # roller's clock as set: too soon, rest 0 days, not negative
        mark2 = self.events.mark()
        s.t = self.roller_now() - s.period_ms
        s.add(1, 3000, 0, 0)
        s.add(20, 6000, 0, 8)              # and a second pressure warning
        s.add(40, 3000, 0, 8)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        session2 = self.session_started(mark2)
        self.assertNotEqual(session2, session)
        warning = self.events.wait_signal('ZoneWarning', ROLLER_PATH, since=mark2)[0]
        self.assertEqual(warning.args, (session2, 'forehead', 'too-soon'))
        too_soon = wait_until(lambda: self.notify_calls('Too soon for this zone'), 10,
                              'the too-soon popup')
        body = too_soon[-1]
        self.assertIn('treated 0.0 days ago', body)
        self.assertNotIn('-', body.split('treated ')[1].split(' days')[0], body)
        # the notifier's rate limit is on the monotonic clock: the second
        # pressure warning, seconds later by it, goes out
        wait_until(lambda: self.notify_calls('Too much pressure')[1:], 10,
                              'the second pressure popup after the wall clock went back',
                              details=lambda: f'{self.notify_calls("Too much pressure")}')
        self.assertEqual(len(self.notify_calls('Too much pressure')), 2)
        self.roller_call('StopSession')

        # history's time is the roller's: in the order the roller made them,
        # the frames' t0 never go back
        self.assert_db_has_exactly(self.produced)
        t0s = [r[0] for r in self.db('SELECT f.t0_ms FROM frames f JOIN rollers r ON '
                                     'r.id = f.roller_id WHERE r.address = ? ORDER BY f.rowid',
                                     (self.ADDRESS,))]
        back = [(a, b) for a, b in zip(t0s, t0s[1:]) if b < a]
        self.assertEqual(back, [], 'stored frames whose t0 goes back')
        self.assert_acks_after_commit()
        print(f'\nfigures: {frames_forward} frames over {2 * self.GAP_S} s at +3 h, '
              f'{frames_back} at -3 h; ended {idle_s:.2f} s after the last ACK '
              f'(the gap, {self.GAP_S} s, counts from the last sample); '
              f'session {duration_ms} ms long; SET_TIME '
              f'{set_ms - last_contact} ms after the last frame, '
              f'{(set_ms - wall_ms) / 3.6e6:.2f} h ahead of the daemon\'s wall clock; '
              f'{len(t0s)} frames stored, t0 in order', file=sys.stderr)


class NextSession(DaemonTestCase):
    '''Aftercare and the next session (issue 9 §6). A 0.25 mm session on the
    chin: its summary gives the aftercare for that needle and the day the
    chin may be treated again (1 day). The daemon's wall clock then moves a
    day on under libfaketime and logind says the machine woke up (a
    suspend stops the monotonic timer the daemon armed to the end of the
    rest): the daemon says the chin is ready, once.'''

    head = proto.Head(needle_length_um=250, head_id=0x250)

    def setUp(self):
        if faketime_unusable():
            self.skipTest(faketime_unusable())
        super().setUp()
        self.faketime = os.path.join(self.tmpdir, 'faketime.rc')
        self.set_wall_offset('+0')
        self.daemon.env = {'LD_PRELOAD': LIBFAKETIME, 'FAKETIME_TIMESTAMP_FILE': self.faketime,
                           'FAKETIME_NO_CACHE': '1', 'FAKETIME_DONT_FAKE_MONOTONIC': '1'}
        self.start_notifications()

    def set_wall_offset(self, offset):
        tmp = self.faketime + '.new'
        with open(tmp, 'w', encoding='ascii') as f:
            f.write(offset + '\n')
        os.replace(tmp, self.faketime)

    def bodies(self, summary):
        return [body for told, body in self.notifications.notified() if told == summary]

    @staticmethod
    def again(at_ms, ended_ms):
        '''The summary's date, as notifier.c says it (local time).'''
        at, ended = time.localtime(at_ms // 1000), time.localtime(ended_ms // 1000)
        if at.tm_year != ended.tm_year:
            return f'{at.tm_mday} {time.strftime("%b", at)} {at.tm_year}'
        if at.tm_yday == ended.tm_yday:
            return time.strftime('today %H:%M', at)
        return f'{at.tm_mday} {time.strftime("%b", at)}'

    def test_summary_then_zone_ready_after_resume(self):
        self.start_paired()
        mark = self.events.mark()
        s = self.live_stream(seconds_ago=5)
        s.add(1, 2000, 5, 0)
        s.add(40, 2000, 5, 20)             # the chin
        self.push(s.frames())
        session = self.session_started(mark)
        self.wait_acked(s.seq - 1)
        self.assertEqual(self.roller_call('StopSession'), session)
        self.events.wait_signal('SessionEnded', ROLLER_PATH, since=mark)
        ended = s.samples[-1][0]
        wait_until(lambda: self.db('SELECT end_ms FROM sessions WHERE id = ?', (session,))
                   == [(ended,)], 5, 'the session stored')

        summary = wait_until(lambda: self.bodies(f'Session {session} finished'), 10,
                             'the session summary', details=self.notifications.notified)[-1]
        lines = summary.split('\n')
        self.assertIn('Aftercare:', lines)
        # the 0.25 mm class's lines, the table's, not the longest needles'
        self.assertIn('- Apply a hyaluronic acid serum or a soothing sheet mask now.', lines)
        self.assertIn('- Slight redness is normal and fades within a few hours.', lines)
        self.assertIn('- Clean and disinfect the roller now (70 % isopropyl alcohol), let it '
                      'dry and store it in its case.', lines)
        self.assertNotIn('bleeding', summary)
        # one day's rest for 0.25 mm needles, from the session's end
        self.assertEqual(lines[lines.index('Next session:') + 1:],
                         [f'chin: again from {self.again(ended + 86400000, ended)}'])
        self.assertEqual(self.bodies('Ready for the next session'), [])

        # a day later, as found on waking up
        self.set_wall_offset('+1d')
        self.logind.prepare_for_sleep(True)
        self.logind.prepare_for_sleep(False)
        ready = wait_until(lambda: self.bodies('Ready for the next session'), 15,
                           'the zone-ready popup', details=self.notifications.notified)
        self.assertEqual(ready, ['default: chin is ready for the next session: the rest after the last '
                                 'treatment is over.'])
        # once: a second wake-up finds nothing waiting (the daemon logs
        # each time it reads the wall clock again)
        self.logind.prepare_for_sleep(True)
        self.logind.prepare_for_sleep(False)
        wait_until(lambda: self.daemon_log().count('rest timer: reading the wall clock again')
                   == 2, 10, 'the second wake-up handled', details=self.daemon.log)
        self.assertEqual(len(self.bodies('Ready for the next session')), 1)
        self.assertEqual(self.daemon_log().count('chin is ready for the next session'), 1)



class NotificationAction(DaemonTestCase):
    '''A click on a notification about a session (issue 11): the server's
    ActionInvoked(id, "default") for the session's summary has the daemon
    call org.freedesktop.Application.ActivateAction("show-session",
    [<session>], {}) on org.dermaroll.App, here a dbusmock object with that
    documented interface on the private session bus, recording the call.'''

    APP = 'org.dermaroll.App'
    APP_PATH = '/org/dermaroll/App'
    APP_IFACE = 'org.freedesktop.Application'

    def setUp(self):
        super().setUp()
        self.start_notifications()

    def start_mock_app(self):
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.session.address)
        proc = Processes.spawn('mock-app', [PYTHON, '-m', 'dbusmock', '-l',
                                            os.path.join(self.tmpdir, 'app-dbusmock.log'),
                                            self.APP, self.APP_PATH, self.APP_IFACE],
                               env, os.path.join(self.tmpdir, 'app-dbusmock.stderr'))
        self.addCleanup(Processes.stop, proc)
        wait_for_name(self.session.conn, self.APP, proc=proc)
        call(self.session.conn, self.APP, self.APP_PATH, MOCK_IFACE, 'AddMethod', '(sssss)',
             (self.APP_IFACE, 'ActivateAction', 'sava{sv}', '', ''))

    def app_calls(self):
        return [tuple(args) for _, args in call(self.session.conn, self.APP, self.APP_PATH,
                                                MOCK_IFACE, 'GetMethodCalls', '(s)',
                                                ('ActivateAction',))]

    def notification_id(self, summary):
        '''The id the mock server gave the notification of @summary (it
        numbers new ones from 1; one with a replaces_id keeps it).'''
        calls = call(self.session.conn, NOTIFICATIONS, NOTIFICATIONS_PATH, MOCK_IFACE,
                     'GetMethodCalls', '(s)', ('Notify',))
        new = 0
        for _, args in calls:
            replaces = int(args[1])
            new += replaces == 0
            if str(args[3]) == summary:
                return (replaces or new), list(args[5])
        return None

    def click(self, notification_id):
        call(self.session.conn, NOTIFICATIONS, NOTIFICATIONS_PATH, MOCK_IFACE, 'EmitSignal',
             '(sssav)', ('', 'ActionInvoked', 'us',
                         [GLib.Variant('u', notification_id), GLib.Variant('s', 'default')]))

    def roll_a_session(self):
        self.start_paired()
        mark = self.events.mark()
        s = self.live_stream(seconds_ago=5)
        s.add(1, 2000, 5, 0)
        s.add(40, 2000, 5, 20)             # the chin
        self.push(s.frames())
        session = self.session_started(mark)
        self.wait_acked(s.seq - 1)
        self.assertEqual(self.roller_call('StopSession'), session)
        self.events.wait_signal('SessionEnded', ROLLER_PATH, since=mark)
        found = wait_until(lambda: self.notification_id(f'Session {session} finished'), 10,
                           'the session summary', details=self.notifications.notified)
        return session, found

    def test_default_action_opens_the_app_at_the_session(self):
        self.start_mock_app()
        session, (notification, actions) = self.roll_a_session()
        self.assertEqual(actions[0], 'default')
        self.assertEqual(self.app_calls(), [])
        self.click(notification)
        calls = wait_until(self.app_calls, 10, 'ActivateAction on the app',
                           details=self.daemon.log)
        self.assertEqual(calls, [('show-session', [session], {})])

    def test_no_app_said_once(self):
        '''No app installed (the bus knows no org.dermaroll.App): said once,
        at info level, and an app that comes later is still asked.'''
        session, (notification, _) = self.roll_a_session()
        self.click(notification)
        self.click(notification)
        wait_until(lambda: 'cannot open the desktop app at the session' in self.daemon_log(),
                   10, 'the daemon to say there is no app', details=self.daemon.log)
        # A third click reaches an app started since: the daemon sent the
        # second call before it, and the bus answered it before it passed
        # the third on; a round trip to the daemon after that has it
        # handle every answer before the test counts.
        self.start_mock_app()
        self.click(notification)
        wait_until(self.app_calls, 10, 'ActivateAction on the app', details=self.daemon.log)
        self.manager('GetZones')
        told = [line for line in self.daemon_log().splitlines()
                if 'cannot open the desktop app at the session' in line]
        self.assertEqual(len(told), 1, told)
        self.assertIn('INFO', told[0])
        self.assertIn('ServiceUnknown', told[0])
        self.assertTrue(self.daemon.running())


class NotificationKinds(DaemonTestCase):
    '''Manager1.NotificationKinds and SetNotificationEnabled (issue 11): the
    config file's [notifications] group gives the default, the user's
    choice is kept in the database and wins from then on; the file is
    never written.'''

    CONFIG = '[notifications]\nlow-battery=false\n'
    KINDS = ['over-pressure', 'excluded-zone', 'over-treated', 'too-soon', 'head-worn',
             'low-battery', 'session-summary', 'zone-ready']

    def kinds(self):
        return [(str(k), bool(e)) for k, e in self.manager_prop('NotificationKinds')]

    def test_unknown_kind_then_kept_across_restarts(self):
        self.start_daemon()
        self.assertEqual(self.kinds(), [(k, k != 'low-battery') for k in self.KINDS])
        message = self.assertDBusError('org.dermaroll.Error.InvalidArgument', self.manager,
                                       'SetNotificationEnabled', '(sb)', ('battery', False))
        self.assertIn('"battery"', message)
        self.assertIn('low-battery', message)
        self.assertEqual(self.kinds(), [(k, k != 'low-battery') for k in self.KINDS])

        with open(self.daemon.config_path, 'rb') as f:
            config = f.read()
        # Answered once stored: the property has changed by then.
        self.manager('SetNotificationEnabled', '(sb)', ('low-battery', True))
        self.manager('SetNotificationEnabled', '(sb)', ('session-summary', False))
        want = [(k, k != 'session-summary') for k in self.KINDS]
        self.assertEqual(self.kinds(), want)
        self.assertEqual(sorted(self.db("SELECT key, value FROM settings WHERE key GLOB 'notify:*'")),
                         [('notify:low-battery', 1), ('notify:session-summary', 0)])

        self.assertEqual(self.daemon.stop(), 0)
        self.start_daemon()
        self.assertEqual(self.kinds(), want, 'the choice did not survive a restart')
        with open(self.daemon.config_path, 'rb') as f:
            self.assertEqual(f.read(), config, 'the config file was written')

    def test_disabled_kind_raises_no_notification(self):
        '''session-summary off: a session that ends says nothing; on again,
        the next one's summary comes, and the first one's never did (the
        notifier sends in order, so it would have come before).'''
        self.start_notifications()
        self.start_paired()
        self.manager('SetNotificationEnabled', '(sb)', ('session-summary', False))
        s = self.live_stream(seconds_ago=5)
        s.add(1, 2000, 5, 0)
        sessions = []
        for enabled in (False, True):
            if enabled:
                self.manager('SetNotificationEnabled', '(sb)', ('session-summary', True))
            mark = self.events.mark()
            s.add(40, 2000, 5, 20)             # the chin
            self.push(s.frames())
            sessions.append(self.session_started(mark))
            self.wait_acked(s.seq - 1)
            self.assertEqual(self.roller_call('StopSession'), sessions[-1])
            self.events.wait_signal('SessionEnded', ROLLER_PATH, since=mark)
        summaries = wait_until(
            lambda: [t for t, _ in self.notifications.notified() if t.endswith(' finished')],
            10, 'the second session\'s summary', details=self.notifications.notified)
        self.assertEqual(summaries, [f'Session {sessions[1]} finished'])


class Link(DaemonTestCase):

    def test_reconnect_after_link_loss(self):
        self.start_paired()
        s = self.live_stream()
        s.add(30, 2000, 0, 8)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        calls = self.bt_calls.mark()
        self.roller.drop_link()
        self.wait_roller_prop('Connected', lambda c: not c)
        connects = self.bt_calls.wait_signal('MethodCalled', self.roller.path, since=calls,
                                             where=lambda sig: sig.args[0] == 'Connect', timeout=10)
        self.assertTrue(connects)
        self.wait_streaming(since=calls)
        self.assertTrue(self.control_requests_seen(calls, proto.OP_START_STREAM),
                        'no START_STREAM after the reconnect')
        s.add(30, 2000, 0, 8)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        self.assert_db_has_exactly(self.produced)
        self.assert_acks_after_commit()

    def test_reconnect_backoff(self):
        self.start_paired()
        errors = [('org.bluez.Error.Failed', 'le-connection-abort-by-local'),
                  ('org.bluez.Error.Failed', 'le-connection-abort-by-local')]
        self.roller.set_connect_errors(errors)
        calls = self.bt_calls.mark()
        self.roller.drop_link()
        attempts = self.bt_calls.wait_signal('MethodCalled', self.roller.path, since=calls, count=3,
                                             where=lambda sig: sig.args[0] == 'Connect', timeout=20)
        self.assertEqual(len(attempts), 3)
        self.wait_streaming()
        # The policy, as the daemon scheduled it (measured gaps would only
        # say how busy the machine was): 1 s, then doubling, each ±20 %.
        delays = [int(m) for m in re.findall(
            rf'{self.ADDRESS}: reconnecting in (\d+) ms', self.daemon_log())]
        self.assertGreaterEqual(len(delays), 2, delays)
        for step, delay in enumerate(delays[:2]):
            nominal = 1000 * 2 ** step
            self.assertTrue(0.8 * nominal - 1 <= delay <= 1.2 * nominal + 1, delays)

    def test_services_flap_with_new_gatt_paths(self):
        self.start_paired()
        old_cp = self.roller.chrc_path(proto.UUID_CONTROL_POINT)
        self.roller.set_flap_gatt(True)
        calls = self.bt_calls.mark()
        self.roller.drop_link()            # GATT objects removed, re-added elsewhere
        self.wait_roller_prop('Connected', lambda c: not c)
        self.wait_streaming()
        new_cp = self.roller.chrc_path(proto.UUID_CONTROL_POINT)
        self.assertNotEqual(new_cp, old_cp)
        self.assertTrue([sig for sig in self.bt_calls.find('MethodCalled', new_cp, since=calls)
                         if sig.args[0] == 'WriteValue'])
        s = self.live_stream()
        s.add(30, 2000, 0, 8)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        self.assert_db_has_exactly(self.produced)

    def test_bluetoothd_vanishes_and_returns(self):
        self.start_paired()
        s = self.live_stream()
        s.add(30, 2000, 0, 8)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        s.add(20, 2000, 0, 8)
        self.push(s.frames())              # maybe not acked when bluetoothd goes
        stored = self.roller.stored()
        self.bluez.stop()
        wait_for_name_gone(self.system.conn, BLUEZ)
        self.wait_roller_prop('Connected', lambda c: not c)
        self.assertTrue(self.daemon.running())

        self.bluez, self.roller = self.start_bluez({}, stored=stored, paired=True)
        self.wait_streaming(timeout=20)
        agents, default = self.bluez.agents()
        self.assertEqual([a[1] for a in agents], ['NoInputNoOutput'], 'agent not registered again')
        self.assertTrue(self.roller.method_calls('Connect'))
        s.add(30, 2000, 0, 8)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        wait_until(lambda: not self.roller.stored(), 5, 'every frame acknowledged')
        self.assert_db_has_exactly(self.produced)
        self.assert_acks_after_commit()

    def test_resume_from_suspend(self):
        self.start_paired()
        calls = self.bt_calls.mark()
        self.logind.prepare_for_sleep(True)
        self.roller.drop_link()            # the link does not survive the sleep
        self.logind.prepare_for_sleep(False)
        self.wait_streaming(timeout=10)
        self.assertTrue(self.control_requests_seen(calls, proto.OP_START_STREAM))
        s = self.live_stream()
        s.add(20, 2000, 0, 8)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)

    def test_forget(self):
        self.start_paired()
        s = self.live_stream()
        s.add(30, 2000, 0, 8)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        sessions = self.manager('ListSessions', '(xx)', (0, 0))
        self.manager('Forget', '(o)', (ROLLER_PATH,))
        adapter = '/org/bluez/' + self.ADAPTER
        self.assertEqual([c[0] for c in self.bluez.method_calls(adapter, 'RemoveDevice')],
                         [self.roller.path])
        self.assertEqual(self.manager('ListSessions', '(xx)', (0, 0))[:1][0][:3], sessions[0][:3])
        self.assertDBusError('org.dermaroll.Error.NotFound', self.manager, 'Forget', '(o)',
                             ('/org/dermaroll/roller/00_11_22_33_44_55',))

    def test_forget_during_pair_cancels_it(self):
        # Pair an address nobody answers (the daemon discovers for it), and
        # forget that roller while Pair waits: Pair answers at once, with a
        # registered error name, not an unmapped GIO one.
        self.start_daemon()
        address = '00:11:22:33:44:66'
        answer = self.pair_in_background(address)
        path = roller_object_path(address)
        wait_until(self.bluez_discovering, 10, 'discovery for the Pair')
        self.manager('Forget', '(o)', (path,))
        wait_until(lambda: answer, 10, 'Pair to answer')
        self.assertNotIn('reply', answer)
        self.assertEqual(answer['error'][0], 'org.dermaroll.Error.Cancelled', answer)
        self.assertTrue(self.daemon.running())

    def bluez_discovering(self):
        return bool(get_prop(self.system.conn, BLUEZ, '/org/bluez/' + self.ADAPTER,
                             'org.bluez.Adapter1', 'Discovering'))



class Errors(DaemonTestCase):

    def test_bad_input_gets_registered_errors(self):
        self.start_paired()
        self.assertDBusError('org.dermaroll.Error.InvalidArgument',
                             self.manager, 'Pair', '(s)', ('nonsense',))
        self.assertDBusError('org.dermaroll.Error.NotFound',
                             self.manager, 'GetSessionCoverage', '(t)', (999,))
        self.assertDBusError('org.dermaroll.Error.NotFound',
                             self.manager, 'GetSessionEvents', '(t)', (999,))
        self.assertDBusError('org.dermaroll.Error.InvalidArgument',
                             self.manager, 'ListSessions', '(xx)', (2000, 1000))
        message = self.assertDBusError('org.dermaroll.Error.InvalidArgument',
                                       self.roller_call, 'SetZone', '(s)', ('elbow',))
        for zone in proto.ZONES:
            self.assertIn(zone, message)
        message = self.assertDBusError('org.dermaroll.Error.InvalidArgument',
                                       self.manager, 'SetZoneExcluded', '(sb)', ('elbow', True))
        for zone in proto.ZONES:
            self.assertIn(zone, message)
        self.assertDBusError('org.dermaroll.Error.NotFound', self.roller_call, 'StopSession')
        self.assertDBusError('org.dermaroll.Error.NotFound', self.manager, 'Forget', '(o)',
                             ('/org/dermaroll/roller/00_11_22_33_44_55',))
        # nothing changed, still serving
        self.assertEqual(self.roller_prop('Zone'), '')
        self.assertFalse(any(z[4] for z in self.manager('GetZones')))
        self.assertTrue(self.daemon.running())

    def test_huge_strings_get_bounded_errors(self):
        '''A 1 MB argument is quoted in 64 characters and its length, not
        echoed back whole.'''
        self.start_daemon()
        huge = 'e' * (1 << 20)
        tail = f'…" ({len(huge)} bytes)'
        message = self.assertDBusError('org.dermaroll.Error.InvalidArgument',
                                       self.manager, 'SetZoneExcluded', '(sb)', (huge, True))
        self.assertLess(len(message), 1024, 'the error quotes too much of the zone name')
        self.assertIn('unknown zone "' + 'e' * 64 + tail, message)
        self.assertIn('valid zones: forehead', message)
        message = self.assertDBusError('org.dermaroll.Error.InvalidArgument',
                                       self.manager, 'Pair', '(s)', (huge,))
        self.assertLess(len(message), 1024, 'the error quotes too much of the address')
        self.assertIn('"' + 'e' * 64 + tail + ' is not a Bluetooth address', message)
        path = '/x' * (1 << 19)
        message = self.assertDBusError('org.dermaroll.Error.NotFound',
                                       self.manager, 'Forget', '(o)', (path,))
        self.assertLess(len(message), 1024, 'the error quotes too much of the path')
        self.assertIn(f'no roller at "{path[:64]}…" ({len(path)} bytes)', message)
        self.assertTrue(self.daemon.running())

    def test_second_daemon_exits_nonzero(self):
        '''A dermarolld that cannot own org.dermaroll (another one has it)
        fails, so that systemd and D-Bus activation see it did not serve.'''
        self.start_daemon()
        other_dir = os.path.join(self.tmpdir, 'second')
        os.makedirs(other_dir)
        second = Daemon(other_dir, self.system, self.session)
        second.log_path = os.path.join(self.tmpdir, 'dermarolld-second.log')
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.system.address,
                   DBUS_SESSION_BUS_ADDRESS=self.session.address,
                   HOME=other_dir, XDG_CONFIG_HOME=os.path.join(other_dir, 'config'),
                   XDG_RUNTIME_DIR=other_dir)
        env.pop('NOTIFY_SOCKET', None)
        proc = Processes.spawn('dermarolld (second)',
                               [second.path, '--db', second.db_path, '--config',
                                second.config_path, '--no-notify'], env, second.log_path)
        self.addCleanup(Processes.stop, proc)
        wait_until(lambda: proc.poll() is not None, 15.0, 'the second dermarolld to exit',
                   details=lambda: tail(second.log_path, 40))
        self.assertNotEqual(proc.returncode, 0,
                            'a daemon that could not own the bus name exited 0')
        self.assertGreater(proc.returncode, 0, 'the second daemon was killed, not failed')
        self.assertIn('could not own or lost the bus name org.dermaroll',
                      tail(second.log_path, 40))
        # the first one is untouched
        self.assertTrue(self.daemon.running())
        self.manager('GetZones')



class HostileValues(DaemonTestCase):
    '''Values from the air at the edges of their fields: taken in, bounded,
    or refused, never undefined behaviour (the ASan + UBSan build of
    scripts/test runs this against an instrumented daemon).'''

    LONG_FIRMWARE = 'v' + '\u00e9' * 50000     # 100 KB, 2-byte sequences from byte 1

    def roller_options(self):
        return {'Firmware': self.LONG_FIRMWARE}

    def test_frame_times_at_the_end_of_the_clock(self):
        '''t0 is a u64 on the wire: frames whose samples lie past INT64_MAX,
        past 2^64, at 2^63 or just below INT64_MAX are stored as received
        and acknowledged, and the session around them can be read back.'''
        self.start_paired()
        s = self.live_stream()
        s.add(5, 2000, 0, 8)
        self.push(s.frames())
        self.wait_acked(s.seq - 1)
        edge = [
            proto.encode_frame(s.seq, (1 << 63) - 10, [(0, 1, 2000, 0), (1000, 2, 2000, 0)]),
            proto.encode_frame(s.seq + 1, (1 << 64) - 10, [(0, 3, 2000, 0), (1000, 4, 2000, 0)],
                               flags=proto.FLAG_CLOCK_UNSYNCED),
            proto.encode_frame(s.seq + 2, 1 << 63, [(0, 5, 2000, 0), (1000, 6, 2000, 0)]),
            proto.encode_frame(s.seq + 3, (1 << 63) - 1005, [(0, 7, 2000, 0), (1000, 8, 2000, 0)]),
        ]
        self.push(edge)
        self.wait_acked(s.seq + 3)
        # SQLite's integers are signed: the store keeps t0's 64 bits as one.
        # A frame may have come again as history (the daemon fetches what it
        # has not seen arrive): its history flag aside, stored as received.
        rows = self.db_frames()
        self.assertEqual(sorted(((t0 & (1 << 64) - 1), seq,
                                 proto.with_flags(bytes(raw), raw[1] & ~proto.FLAG_HISTORY))
                                for t0, seq, _, raw in rows),
                         sorted((*proto.frame_key(f), f) for f in self.produced))
        self.assertEqual(len(self.manager('GetZones')), 7)
        self.roller_call('StopSession')
        sessions = self.manager('ListSessions', '(xx)', (-(1 << 63), 0))
        self.assertTrue(sessions)
        for session in sessions:
            self.manager('GetSessionSamples', '(t)', (session[0],))
            self.manager('GetSessionCoverage', '(t)', (session[0],))
            self.manager('GetSessionEvents', '(t)', (session[0],))

    def test_device_information_bounded(self):
        '''A Device Information string longer than an attribute can be is
        cut at 512 bytes, between two UTF-8 sequences.'''
        self.start_paired()
        self.wait_roller_prop('FirmwareVersion', bool)
        firmware = self.roller_prop('FirmwareVersion')
        self.assertEqual(firmware, 'v' + '\u00e9' * 255)
        self.assertLessEqual(len(firmware.encode()), 512)

if __name__ == '__main__':
    unittest.main(verbosity=2)
