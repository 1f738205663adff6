#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''dermarolld streaming from the project's C roller emulator, over the
AcquireNotify socket and over StartNotify + PropertiesChanged.

The emulator plays bluetoothd on a private system bus; the real daemon
pairs the roller, and the emulator rolls a generated face session as fast as
the daemon reads it. Each run checks that every frame the roller made is in
the database exactly once and acknowledged (the roller holds nothing any
more), that the session's coverage is what the engine computes from the
stored frames, and that Force and Coverage were published no faster than
their limits allow (10 and 2 updates a second).
'''
import json
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
# fixtures.py here, dbus_private.py in tests/, the codec in protocol/.
sys.path[:0] = [HERE, os.path.dirname(HERE), os.path.join(HERE, '..', '..', 'protocol')]
from fixtures import (DERMAROLL, MANAGER_IFACE, MANAGER_PATH, PROPS_IFACE,  # noqa: E402
                      Daemon, MockLogind, PrivateBus, Processes, Recorder, call, connect,
                      db_query, get_prop, memory_bounds_apply,
                      roller_object_path, wait_until)
import roller_protocol as proto  # noqa: E402

ADDRESS = 'C0:FF:EE:00:5E:01'
SAMPLES = 40_000          # 1,600 frames of 25


def emulator_path():
    root = os.environ.get('DERMAROLL_BUILD_ROOT') or os.path.join(HERE, '..', '..', 'build')
    return os.path.join(root, 'tests', 'roller-emulator')


class EmulatorCase(unittest.TestCase):
    '''Private buses and the C roller emulator as bluetoothd.'''

    def setUp(self):
        if not os.access(emulator_path(), os.X_OK):
            self.skipTest('roller-emulator not built')
        self.tmp = tempfile.mkdtemp(prefix='dermaroll-stream-')
        self.system = PrivateBus('system', self.tmp)
        self.addCleanup(self.system.stop)
        self.session = PrivateBus('session', self.tmp)
        self.addCleanup(self.session.stop)

    def start_emulator(self, *extra):
        proc = Processes.spawn('roller-emulator',
                               [emulator_path(), '--bus', self.system.address,
                                '--roller', ADDRESS + ',Stream roller', '--pattern', 'face',
                                '--rate', '0', '--samples', str(SAMPLES), *extra],
                               dict(os.environ), os.path.join(self.tmp, 'emulator.log'),
                               stdout=__import__('subprocess').PIPE)
        self.addCleanup(Processes.stop, proc)
        line = proc.stdout.readline().decode()
        self.assertTrue(line.startswith('READY'), f'emulator said {line!r}')
        # The control connection's name: Emulator1 answers there while
        # bluetoothd (org.bluez) is away.
        self.emu_name = line.split()[1]
        return proc

    def emu(self, method, sig=None, args=None):
        return call(self.system.conn, self.emu_name, '/org/dermaroll/Emulator',
                    'org.dermaroll.Emulator1', method, sig, args)

    def emulator_stats(self):
        stats = call(self.system.conn, 'org.bluez', '/org/dermaroll/Emulator',
                     'org.dermaroll.Emulator1', 'Stats', None, None)
        return stats['rollers'][ADDRESS]

    def wait_all_acked(self):
        '''The roller is done and holds nothing unacknowledged.'''
        return wait_until(lambda: (lambda s: s if s['exhausted'] and s['pending'] == 0
                                   else None)(self.emulator_stats()),
                          60, 'every frame acknowledged',
                          details=lambda: str(self.emulator_stats()))

    def check_nothing_lost(self, daemon, stats, config, head_life, lost_in_roller=()):
        '''"Nothing lost" (tests/faults/README.md): the database holds every
        frame the roller produced, once (seqs 0..n-1 but @lost_in_roller,
        which the roller itself lost and never sent), exactly those are
        counted as dropped, and the session's totals and the head's
        revolutions are dermaroll-replay over the stored frames in the
        order the roller made them.'''
        path = roller_object_path(ADDRESS)
        rows = db_query(daemon.db_path, 'SELECT t0_ms, seq, raw FROM frames ORDER BY seq')
        keys = [(t0, seq) for t0, seq, _ in rows]
        self.assertEqual(len(keys), len(set(keys)), 'a frame stored twice')
        self.assertEqual(len(rows) + len(lost_in_roller), stats['frames-produced'])
        self.assertEqual([seq for _, seq in keys],
                         [q for q in range(stats['frames-produced']) if q not in lost_in_roller],
                         'a frame missing')

        # What was lost is counted as lost, and nothing else.
        self.assertEqual(get_prop(self.session.conn, DERMAROLL, path, 'org.dermaroll.Roller1',
                                  'DroppedFrames'), len(lost_in_roller))
        self.assertEqual(db_query(daemon.db_path,
                                  "SELECT kind, count(*) FROM events WHERE kind IN "
                                  "('seq-gap', 'counter-reset') GROUP BY kind"),
                         [('seq-gap', 1)] if lost_in_roller else [])
        self.assertEqual(db_query(daemon.db_path, 'SELECT dropped_frames FROM rollers'),
                         [(len(lost_in_roller),)])

        session = call(self.session.conn, DERMAROLL, path, 'org.dermaroll.Roller1', 'StopSession')
        sessions = call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'ListSessions',
                        '(xx)', (0, 0))
        self.assertEqual([r[0] for r in sessions], [session], 'the run split into sessions')
        head = db_query(daemon.db_path, 'SELECT needle_length_um, needle_count, drum_diameter_10um,'
                        ' drum_width_10um, ticks_per_rev, head_id FROM heads')[0]
        want = self.replay(head, [raw for _, _, raw in rows], config)
        # HeadWear goes out at most twice a second: the last update may come.
        last = []

        def head_wear_right():
            last[:] = [get_prop(self.session.conn, DERMAROLL, path, 'org.dermaroll.Roller1',
                                'HeadWear')]
            return abs(last[0] * head_life - want['head_revolutions']) < 1e-6
        wait_until(head_wear_right, 5, f'HeadWear = {want["head_revolutions"] / head_life}',
                   details=lambda: f'HeadWear {last}')
        wait_until(lambda: abs(db_query(daemon.db_path, 'SELECT revolutions FROM heads')[0][0]
                               - want['head_revolutions']) < 1e-6, 5,
                   f'heads.revolutions = {want["head_revolutions"]}',
                   details=lambda: str(db_query(daemon.db_path, 'SELECT * FROM heads')))
        coverage = call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE,
                        'GetSessionCoverage', '(t)', (session,))
        for zone in want['zones']:
            if zone['name'] in coverage:
                self.assertAlmostEqual(coverage[zone['name']][2], zone['rolled_cm2'], places=6,
                                       msg=zone['name'])
        return want

    def replay(self, head, frames, config):
        '''dermaroll-replay --json over the frames, in the order given.'''
        trace = os.path.join(self.tmp, 'stored.trace')
        records = [proto.encode_head_info(*head)] + frames
        with open(trace, 'wb') as f:
            f.write(b'DRTRACE1')
            for r in records:
                f.write(struct.pack('<H', len(r)) + bytes(r))
        conf = os.path.join(self.tmp, 'replay.conf')
        with open(conf, 'w', encoding='utf-8') as f:
            f.write(config)
        out = subprocess.run([replay_path(), '--json', '--config', conf, trace],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        return json.loads(out)


class EmulatorStream(EmulatorCase):

    def stream(self, *emulator_args, samples=SAMPLES):
        self.start_emulator('--samples', str(samples), *emulator_args)
        daemon = Daemon(self.tmp, self.system, self.session)
        daemon.start()
        self.addCleanup(daemon.stop)
        path = roller_object_path(ADDRESS)
        props = Recorder(self.session.conn, sender=None, iface=PROPS_IFACE,
                         member='PropertiesChanged', path=path)
        self.addCleanup(props.close)

        started = time.monotonic()
        self.assertEqual(call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'Pair',
                              '(s)', (ADDRESS,), timeout=30), path)
        stats = wait_until(lambda: (lambda s: s if s['exhausted'] and s['pending'] == 0
                                    and s['frames-sent'] > 0 else None)(self.emulator_stats()),
                           60, 'every frame acknowledged',
                           details=lambda: str(self.emulator_stats()))
        elapsed = time.monotonic() - started

        frames = db_query(daemon.db_path, 'SELECT t0_ms, seq FROM frames')
        self.assertEqual(len(frames), len(set(frames)), 'a frame stored twice')
        self.assertEqual(len(frames), stats['frames-produced'])
        self.assertEqual(stats['samples-produced'], samples)

        # The throttled properties: no more updates than their rate allows
        # over the whole run (a slow machine only makes fewer).
        def updates(name):
            return sum(1 for s in props.signals if name in s.args[1])
        self.assertGreater(updates('Force'), 0)
        self.assertLessEqual(updates('Force'), elapsed * 10 + 2)
        self.assertLessEqual(updates('Coverage'), elapsed * 2 + 2)

        # The coverage the daemon publishes is what it stored.
        session = call(self.session.conn, DERMAROLL, path, 'org.dermaroll.Roller1', 'StopSession')
        self.session_id, self.db_path = session, daemon.db_path
        coverage = call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE,
                        'GetSessionCoverage', '(t)', (session,))
        rows = dict(db_query(daemon.db_path,
                             'SELECT zone, rolled_cm2 FROM session_zones WHERE session_id = ?',
                             (session,)))
        rolled = {zone: c[2] for zone, c in coverage.items()}
        self.assertGreater(sum(rolled.values()), 0)
        for zone, cm2 in rolled.items():
            self.assertAlmostEqual(cm2, rows.get(zone, 0.0), places=6, msg=zone)
        return stats

    def test_acquire_notify(self):
        stats = self.stream()
        self.assertTrue(stats['notify-acquired'], 'the daemon did not use AcquireNotify')

    def test_burst_beyond_the_store(self):
        '''8,000 frames flat out: more than the store takes in one
        transaction (4,096) and than it lets wait for it (2,048), so the
        daemon leaves them in the socket and the roller while it catches
        up. Every one is stored once, none counted as lost.'''
        stats = self.stream(samples=200_000)
        self.assertTrue(stats['notify-acquired'])
        frames = db_query(self.db_path, 'SELECT seq FROM frames ORDER BY seq')
        self.assertEqual([q for (q,) in frames], list(range(stats['frames-produced'])))
        self.assertEqual(db_query(self.db_path, 'SELECT dropped_frames FROM rollers'), [(0,)])
        self.assertEqual(db_query(self.db_path,
                                  "SELECT count(*) FROM events WHERE kind = 'seq-gap'"), [(0,)])

    def test_start_notify(self):
        stats = self.stream('--no-acquire-notify')
        self.assertFalse(stats['notify-acquired'])
        self.assertTrue(stats['notifying'], 'the daemon did not StartNotify')


class EmulatorVersion2(EmulatorCase):
    '''The emulator's roller speaking protocol version 2 with only two of the
    three directions: the daemon takes its frames and finds the third missing.'''

    stream = EmulatorStream.stream

    def test_v2_frames_with_a_missed_direction(self):
        self.stream('--protocol-version', '2', '--directions', 'horizontal,vertical')
        raws = [r[0] for r in db_query(self.db_path, 'SELECT raw FROM frames')]
        self.assertTrue(raws)
        self.assertEqual({raw[0] for raw in raws}, {2})
        self.assertTrue(all(len(raw) == 13 + 10 * raw[12] and raw[12] <= 23 for raw in raws))
        # what the frames say, direction by direction, in ticks in contact
        moved = {d: 0 for d in range(4)}
        prev = None
        for raw in sorted(raws, key=lambda r: proto.frame_key(r)):
            for dt, ticks, force, zone, motion in proto.decode_frame(raw)['samples']:
                if prev is not None and force != proto.FORCE_SENSOR_FAULT and force >= 500:
                    moved[proto.direction_of(motion)] += (ticks - prev) & 0xFFFFFFFF
                prev = ticks
        self.assertGreater(moved[proto.DIRECTION_HORIZONTAL], 0)
        self.assertGreater(moved[proto.DIRECTION_VERTICAL], 0)
        self.assertEqual(moved[proto.DIRECTION_DIAGONAL], 0)

        detail = call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE,
                      'GetSessionCoverageByDirection', '(t)', (self.session_id,))
        coverage = call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE,
                        'GetSessionCoverage', '(t)', (self.session_id,))
        for zone in ('forehead', 'left-cheek', 'right-cheek', 'nose', 'upper-lip', 'chin'):
            cov, h, v, d, u = detail[zone]
            self.assertGreater(h, 0, zone)
            self.assertGreater(v, 0, zone)
            self.assertEqual(d, 0.0, zone)
            # about 6.3 passes, half each way: capped at 2 + 2 of 6
            want = min(1.0, (min(h, 2.0) + min(v, 2.0) + u) / 6.0)
            self.assertAlmostEqual(cov, want, places=9, msg=zone)
            self.assertAlmostEqual(coverage[zone][0], want, places=9, msg=zone)
            self.assertLess(cov, 0.8, zone)


class StreamRun:
    '''One roller streaming to the real daemon from the emulator, and the
    checks that nothing was lost (the fault matrix's rows 2, 4 and 9).'''

    def __init__(self, case, rate, seconds, daemon_args=(), emulator_args=()):
        self.case = case
        case.start_emulator('--rate', str(rate), '--samples', str(int(rate * seconds)),
                            *emulator_args)
        self.daemon = Daemon(case.tmp, case.system, case.session)
        self.daemon.start(daemon_args)
        case.addCleanup(self.daemon.stop)
        self.path = roller_object_path(ADDRESS)
        case.assertEqual(call(case.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'Pair',
                              '(s)', (ADDRESS,), timeout=30), self.path)

    def stored(self):
        return (db_query(self.daemon.db_path, 'SELECT count(*) FROM frames') or [(0,)])[0][0]

    def stats(self):
        return self.case.emu('RollerStats', '(s)', (ADDRESS,))

    def prop(self, name):
        return get_prop(self.case.session.conn, DERMAROLL, self.path, 'org.dermaroll.Roller1', name)

    def wait_connected(self, connected, timeout, what):
        return wait_until(lambda: self.prop('Connected') == connected, timeout, what,
                          details=lambda: f'{self.stats()}\n{self.daemon.log(30)}')

    def wait_more_stored(self, more, timeout, what):
        target = self.stored() + more
        wait_until(lambda: self.stored() >= target or self.stats()['exhausted'], timeout, what,
                   details=lambda: str(self.stats()))

    def finish(self):
        '''Waits until the roller holds nothing; checks nothing was lost:
        every frame it produced stored once, seqs 0..n-1 without a hole,
        nothing counted as dropped, one session, which ends. Returns the
        roller's statistics.'''
        case = self.case
        stats = wait_until(lambda: (lambda s: s if s['exhausted'] and s['pending'] == 0
                                    else None)(self.stats()),
                           60, 'every frame acknowledged', details=lambda: str(self.stats()))
        rows = db_query(self.daemon.db_path, 'SELECT t0_ms, seq FROM frames ORDER BY seq')
        case.assertEqual(len(rows), len(set(rows)), 'a frame stored twice')
        case.assertEqual(len(rows), stats['frames-produced'])
        case.assertEqual([seq for _, seq in rows], list(range(len(rows))), 'a frame missing')
        case.assertEqual(self.prop('DroppedFrames'), 0)
        case.assertEqual(db_query(self.daemon.db_path,
                                  "SELECT kind, count(*) FROM events WHERE kind IN "
                                  "('seq-gap', 'counter-reset') GROUP BY kind"), [])
        # No stuck session: the one session of the run is the active one,
        # and it ends when asked.
        active = self.prop('ActiveSession')
        case.assertNotEqual(active, 0)
        sessions = call(case.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'ListSessions',
                        '(xx)', (0, 0))
        case.assertEqual([r[0] for r in sessions], [active], 'the run split into sessions')
        case.assertEqual(call(case.session.conn, DERMAROLL, self.path, 'org.dermaroll.Roller1',
                              'StopSession'), active)
        wait_until(lambda: self.prop('ActiveSession') == 0, 5, 'the session ended')
        wait_until(lambda: db_query(self.daemon.db_path,
                                    'SELECT count(*) FROM sessions WHERE end_ms IS NULL')
                   == [(0,)], 5, 'the session closed in the database')
        return stats


class BluetoothdRestarts(EmulatorCase):
    '''Fault matrix row 2: bluetoothd (the emulator) exits mid-session and
    comes back after 1 s, after 1 s under another adapter index, and after
    30 s: streaming resumes, nothing is lost, no session is stuck
    (tests/faults/README.md). The emulator restarts as bluetoothd does: its
    name, its connection and every object go, and come back under a new
    unique name; the roller keeps its memory and goes on rolling.'''

    def outage(self, run, delay_ms, index=None):
        before = run.stored()
        if index is not None:
            self.emu('SetAdapterIndex', '(u)', (index,))
        self.emu('Restart', '(u)', (delay_ms,))
        # The daemon notices bluetoothd went (its name vanished).
        run.wait_connected(False, 10, 'the daemon to see bluetoothd gone')
        gone = time.monotonic()
        run.wait_connected(True, delay_ms / 1000 + 30, 'the roller connected again')
        back = time.monotonic() - gone
        run.wait_more_stored(10, 20, 'frames stored after the restart')
        stats = run.stats()
        if index is not None:
            self.assertTrue(stats['device-path'].startswith(f'/org/bluez/hci{index}/'),
                            stats['device-path'])
        print(f'bluetoothd away {delay_ms} ms{f" (back as hci{index})" if index else ""}: '
              f'streaming again {back:.1f} s after the daemon saw it go; {before} frames stored '
              f'before, {stats["history-sent"]} sent as history so far', file=sys.stderr)

    def test_restart_after_1s_and_as_another_adapter(self):
        run = StreamRun(self, rate=1000, seconds=12)
        run.wait_more_stored(20, 20, 'the first frames stored')
        self.assertTrue(run.stats()['device-path'].startswith('/org/bluez/hci3/'))
        self.outage(run, 1000)
        self.outage(run, 1000, index=1)
        stats = run.finish()
        print(f'{stats["frames-produced"]} frames, {stats["history-sent"]} as history, '
              f'{stats["connects"]} Connects', file=sys.stderr)

    def test_restart_after_30s(self):
        run = StreamRun(self, rate=500, seconds=40)
        run.wait_more_stored(20, 20, 'the first frames stored')
        self.outage(run, 30000)
        stats = run.finish()
        print(f'{stats["frames-produced"]} frames, {stats["history-sent"]} as history, '
              f'{stats["connects"]} Connects', file=sys.stderr)


class LinkDrops(EmulatorCase):
    '''Fault matrix row 4: 100 link drops in one run (a supervision
    timeout each, the emulator's DropLink), every 10th followed by two
    failed Connects (le-connection-abort-by-local): never more than one
    Connect in flight, one Connect per plain drop and three for a drop with
    two failures (the backoff, no storm), and every frame recovered
    (tests/faults/README.md). The backoff's first step is 20 ms here
    (--backoff-min-ms; 1 s in use) so that a hundred drops fit in a run;
    it doubles after each failure as it does in use.'''

    DROPS = 100
    BACKOFF_MS = 20

    def test_hundred_link_drops(self):
        drops = int(os.environ.get('DERMAROLL_LINK_DROPS', self.DROPS))
        run = StreamRun(self, rate=1000, seconds=15,
                        daemon_args=('--backoff-min-ms', str(self.BACKOFF_MS)))
        run.wait_more_stored(10, 20, 'the first frames stored')
        started = time.monotonic()
        per_drop = {}
        for i in range(drops):
            fail = 2 if i % 10 == 9 else 0
            run.wait_connected(True, 20, f'streaming before drop {i + 1}')
            wait_until(lambda: run.stats()['connected'], 10, 'the roller connected')
            calls = run.stats()['connect-calls']
            if fail:
                self.emu('FailConnect', '(suss)', (ADDRESS, fail, 'org.bluez.Error.Failed',
                                                   'le-connection-abort-by-local'))
            self.emu('DropLink', '(s)', (ADDRESS,))
            run.wait_connected(False, 10, f'the daemon to see drop {i + 1}')
            run.wait_connected(True, 30, f'streaming again after drop {i + 1}')
            n = run.stats()['connect-calls'] - calls
            per_drop.setdefault(fail, []).append(n)
        elapsed = time.monotonic() - started
        stats = run.finish()
        print(f'{drops} drops in {elapsed:.1f} s; Connect calls per drop: '
              + ', '.join(f'{fail} failures injected: {sorted(set(ns))} ({len(ns)} drops)'
                          for fail, ns in sorted(per_drop.items()))
              + f'; most Connects in flight: {stats["connect-max-in-flight"]}; '
              f'{stats["frames-produced"]} frames, {stats["history-sent"]} sent as history, '
              f'{stats["connect-calls"]} Connect calls, {stats["connects"]} connections',
              file=sys.stderr)
        self.assertEqual(stats['connect-max-in-flight'], 1, 'two Connects in flight at once')
        for fail, ns in per_drop.items():
            self.assertEqual(set(ns), {fail + 1}, f'Connect calls per drop with {fail} failures')


class SuspendResume(EmulatorCase):
    '''Fault matrix row 9: suspend and resume, as dbusmock's logind template
    says them (PrepareForSleep(true), then (false)), three times with the
    link kept over the sleep and three times with it lost during the sleep
    (the roller out of range until the resume) while the roller goes on
    rolling into its memory: after each resume the
    daemon reconnects (a new connection at the roller), and in the end
    nothing is lost (tests/faults/README.md).'''

    def test_suspend_and_resume(self):
        logind = MockLogind(self.system, self.tmp)
        self.addCleanup(Processes.stop, logind.proc)
        run = StreamRun(self, rate=1000, seconds=12)
        run.wait_more_stored(10, 20, 'the first frames stored')
        figures = []
        for i in range(6):
            lose_link = i >= 3
            run.wait_connected(True, 20, f'streaming before sleep {i + 1}')
            before = run.stats()
            logind.prepare_for_sleep(True)
            if lose_link:
                # The radio goes with the machine (the link drops, no
                # Connect can succeed); the roller keeps rolling.
                self.emu('SetInRange', '(sb)', (ADDRESS, False))
                wait_until(lambda: run.stats()['pending'] >= before['pending'] + 10
                           or run.stats()['exhausted'], 10, 'frames kept by the roller')
            held = run.stats()['pending']
            logind.prepare_for_sleep(False)
            if lose_link:
                self.emu('SetInRange', '(sb)', (ADDRESS, True))
            # A new connection at the roller, and streaming again.
            wait_until(lambda: run.stats()['connects'] > before['connects'], 20,
                       f'a reconnect after resume {i + 1}',
                       details=lambda: f'{run.stats()}\n{run.daemon.log(30)}')
            run.wait_connected(True, 20, f'streaming after resume {i + 1}')
            figures.append((lose_link, held))
        stats = run.finish()
        print('sleeps (link lost, frames the roller held at resume): '
              f'{figures}; {stats["frames-produced"]} frames, {stats["history-sent"]} sent as '
              f'history, {stats["connects"]} connections', file=sys.stderr)


def replay_path():
    root = os.environ.get('DERMAROLL_BUILD_ROOT') or os.path.join(HERE, '..', '..', 'build')
    return os.path.join(root, 'daemon', 'dermaroll-replay')


class KillNine(EmulatorCase):
    '''Fault matrix row 1: kill -9 of the daemon at random moments while the
    roller streams (tests/faults/README.md). The emulator's roller keeps
    its link and its stream when the daemon dies, as with bluetoothd, and
    its clock runs ahead of ours until each reconnect's SET_TIME sets it
    back. In the end the database holds every frame the roller made once,
    no frame was counted as lost, and the totals and the head's revolutions
    are a replay of the stored frames, in the order the roller made them,
    through dermaroll-replay.'''

    KILLS = 5
    HEAD_LIFE = 500.0

    def test_kill9_at_random_moments(self):
        seed = int(os.environ.get('DERMAROLL_FAULT_SEED', '8031'))
        rng = random.Random(seed)
        print(f'kill -9 fault seed {seed} (DERMAROLL_FAULT_SEED)', file=sys.stderr)
        self.start_emulator('--rate', '2000', '--samples', '20000')
        config = f'[engine]\nhead-life-revolutions={self.HEAD_LIFE}\n'
        daemon = Daemon(self.tmp, self.system, self.session, config)
        daemon.start()
        self.addCleanup(daemon.stop)
        path = roller_object_path(ADDRESS)
        self.assertEqual(call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'Pair',
                              '(s)', (ADDRESS,), timeout=30), path)

        def stored_frames():
            return (db_query(daemon.db_path, 'SELECT count(*) FROM frames') or [(0,)])[0][0]

        # Streaming: the pairing is on disk (it was written before the
        # first frame), so every restart knows the roller.
        wait_until(lambda: stored_frames() > 0, 20, 'the first frames stored')
        moments = []
        for _ in range(self.KILLS):
            # At start-up (history and warm-up under way), or once a
            # random number of frames more is in.
            more = rng.choice([0, rng.randint(1, 80)])
            target = stored_frames() + more
            # (or the roller is done: a slow machine restarts slowly)
            wait_until(lambda: stored_frames() >= target or self.emulator_stats()['exhausted'],
                       20, f'{more} frames more stored',
                       details=lambda: str(self.emulator_stats()))
            moments.append(more)
            daemon.kill9()
            daemon.start()
        print(f'killed after {moments} more frames', file=sys.stderr)

        stats = self.wait_all_acked()
        self.check_nothing_lost(daemon, stats, config, self.HEAD_LIFE)


class AirLoss(EmulatorCase):
    '''Fault matrix row 3: frames lost on the air at random
    (tests/faults/README.md). The emulator's roller sends every frame and
    keeps it until acknowledged, but one live notification in ONE_IN never
    reaches bluetoothd (Emulator1.LoseOnAir, seeded). An ACK erases
    everything up to its seq, so the daemon must get the missing frames
    from the roller's history before it acknowledges past them. In the end
    the database holds every frame the roller made once, none is counted
    as lost, and the totals are a replay of the stored frames.'''

    ONE_IN = 50
    HEAD_LIFE = 500.0
    CONFIG = f'[engine]\nhead-life-revolutions={HEAD_LIFE}\n'

    def start(self, samples):
        self.start_emulator('--rate', '4000', '--samples', str(samples))
        daemon = Daemon(self.tmp, self.system, self.session, self.CONFIG)
        daemon.start()
        self.addCleanup(daemon.stop)
        return daemon

    def pair(self):
        self.assertEqual(call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'Pair',
                              '(s)', (ADDRESS,), timeout=30), roller_object_path(ADDRESS))

    def emulator_call(self, method, sig, args):
        return call(self.system.conn, 'org.bluez', '/org/dermaroll/Emulator',
                    'org.dermaroll.Emulator1', method, sig, args)

    def test_air_loss_recovered(self):
        seed = int(os.environ.get('DERMAROLL_FAULT_SEED', '5003'))
        print(f'on-air loss 1 in {self.ONE_IN}, seed {seed} (DERMAROLL_FAULT_SEED)',
              file=sys.stderr)
        started = time.monotonic()
        daemon = self.start(20_000)
        self.assertEqual(self.emulator_call('LoseOnAir', '(suu)', (ADDRESS, self.ONE_IN, seed)),
                         seed)
        self.pair()
        stats = self.wait_all_acked()
        self.assertGreater(stats['frames-lost-on-air'], 0, 'nothing was lost on the air')
        self.assertEqual(stats['frames-lost'], 0)
        self.check_nothing_lost(daemon, stats, self.CONFIG, self.HEAD_LIFE)
        with open(daemon.log_path, encoding='utf-8', errors='replace') as f:
            gaps = re.findall(r'frames seq (\d+)-(\d+) \((\d+)\) did not arrive', f.read())
        print(f'{stats["frames-produced"]} frames produced, {stats["frames-lost-on-air"]} lost on'
              f' the air, all recovered; {len(gaps)} gaps logged'
              f' ({sum(int(n) for _, _, n in gaps)} frames), {stats["history-sent"]} frames'
              f' sent again as history; {time.monotonic() - started:.1f} s', file=sys.stderr)
        # Each gap said once, with the seqs it misses. Not every lost frame
        # makes one: a replay under way may bring it first, and one lost at
        # the very end has nothing after it (Status tells).
        self.assertGreater(len(gaps), 0)
        for first, last, n in gaps:
            self.assertEqual((int(last) - int(first)) % 65536 + 1, int(n))
        self.assertLessEqual(sum(int(n) for _, _, n in gaps), stats['frames-lost-on-air'])

    def test_lost_in_roller_counted(self):
        '''Frames the roller itself lost (LoseFrames: never stored, never
        sent) are not in its history either: the gap is counted as dropped
        once the replay is in, and ACKs go past it, so the stream goes on.'''
        daemon = self.start(10_000)
        self.pair()
        wait_until(lambda: (db_query(daemon.db_path, 'SELECT count(*) FROM frames')
                            or [(0,)])[0][0] > 20, 20, 'the first frames stored')
        first = self.emulator_stats()['next-seq']
        self.emulator_call('LoseFrames', '(su)', (ADDRESS, 3))
        stats = self.wait_all_acked()
        self.assertEqual(stats['frames-lost'], 3)
        # The next frames made after the call are the lost ones.
        lost = [q for q in range(first, first + 10)
                if q not in {seq for (seq,) in db_query(daemon.db_path,
                                                        'SELECT seq FROM frames')}]
        self.assertEqual(len(lost), 3, f'missing seqs {lost}')
        self.assertEqual(lost, list(range(lost[0], lost[0] + 3)))
        self.check_nothing_lost(daemon, stats, self.CONFIG, self.HEAD_LIFE, lost_in_roller=lost)


def proc_status_kib(pid):
    '''VmRSS and VmHWM of a process, in KiB.'''
    out = {}
    with open(f'/proc/{pid}/status', encoding='ascii') as f:
        for line in f:
            key, _, value = line.partition(':')
            if key in ('VmRSS', 'VmHWM'):
                out[key] = int(value.split()[0])
    return out


def db_bytes(db_path):
    '''The database with its write-ahead log.'''
    return sum(os.path.getsize(p) for p in (db_path, db_path + '-wal') if os.path.exists(p))


def p99(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


class GarbageFlood(EmulatorCase):
    '''Fault matrix row 5: a flood of malformed frames between the roller's
    good ones (tests/faults/README.md). The emulator's FloodGarbage sends
    2,500 malformed frames a second (DERMAROLL_FLOOD_RATE) for 10 s
    (DERMAROLL_FLOOD_SECONDS; 60 for the full row) while the roller streams
    2,000 samples a second. Every good frame is stored once, every bad one
    counted, and the store keeps only the newest DR_STORE_MALFORMED_KEEP
    bad ones per roller, counting the rest as dropped: the database, and
    the daemon's memory, stay bounded. A client's Get during the flood is
    timed (printed, never asserted).'''

    KEEP = 1000                 # DR_STORE_MALFORMED_KEEP
    GOOD_RATE = 2000            # samples/s: 80 frames of 25

    def test_garbage_flood(self):
        rate = int(os.environ.get('DERMAROLL_FLOOD_RATE', '2500'))
        seconds = int(os.environ.get('DERMAROLL_FLOOD_SECONDS', '10'))
        total = rate * seconds
        # The good stream outlasts the flood.
        self.start_emulator('--rate', str(self.GOOD_RATE),
                            '--samples', str(self.GOOD_RATE * (seconds + 4)))
        daemon = Daemon(self.tmp, self.system, self.session)
        daemon.start()
        self.addCleanup(daemon.stop)
        path = roller_object_path(ADDRESS)
        self.assertEqual(call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'Pair',
                              '(s)', (ADDRESS,), timeout=30), path)

        def stored_frames():
            return (db_query(daemon.db_path, 'SELECT count(*) FROM frames') or [(0,)])[0][0]
        wait_until(lambda: stored_frames() > 0, 20, 'the first frames stored')
        size_before = db_bytes(daemon.db_path)
        mem_before = proc_status_kib(daemon.proc.pid)
        good_before = stored_frames()

        call(self.system.conn, 'org.bluez', '/org/dermaroll/Emulator', 'org.dermaroll.Emulator1',
             'FloodGarbage', '(suu)', (ADDRESS, rate, seconds))
        # Another client's cheap call, over and over while the flood lasts.
        probe = connect(self.session.address)
        self.addCleanup(probe.close_sync, None)
        latencies = []
        started = time.monotonic()
        stats = self.emulator_stats()
        while stats['flooding'] or stats['out-queued'] > 0:
            t = time.monotonic()
            get_prop(probe, DERMAROLL, path, 'org.dermaroll.Roller1', 'MalformedFrames')
            latencies.append(time.monotonic() - t)
            stats = self.emulator_stats()
            self.assertLess(time.monotonic() - started, seconds + 120, f'flood never ends: {stats}')
        flood_s = time.monotonic() - started
        self.assertEqual(stats['malformed-sent'], total, 'the emulator did not send the flood')

        def malformed_counted():
            return get_prop(self.session.conn, DERMAROLL, path, 'org.dermaroll.Roller1',
                            'MalformedFrames')
        wait_until(lambda: malformed_counted() == total, 60, f'{total} malformed frames counted',
                   details=lambda: f'MalformedFrames {malformed_counted()}')
        stats = wait_until(lambda: (lambda s: s if s['exhausted'] and s['pending'] == 0
                                    else None)(self.emulator_stats()),
                           60, 'every good frame acknowledged',
                           details=lambda: str(self.emulator_stats()))
        mem_after = proc_status_kib(daemon.proc.pid)
        size_after = db_bytes(daemon.db_path)
        good_bytes = (db_query(daemon.db_path, 'SELECT sum(length(raw)) FROM frames')
                      or [(0,)])[0][0]
        kept = db_query(daemon.db_path, 'SELECT count(*) FROM malformed_frames')[0][0]
        print(f'garbage flood: {total} malformed frames at {rate}/s for {seconds} s '
              f'(sent in {flood_s:.1f} s) between {stats["frames-produced"]} good frames; '
              f'database {size_before} -> {size_after} bytes '
              f'(+{(size_after - size_before) / 1024:.0f} KiB, good frames {good_bytes} bytes); '
              f'malformed rows kept {kept}; '
              f'daemon VmRSS {mem_before["VmRSS"]} -> {mem_after["VmRSS"]} KiB, '
              f'VmHWM {mem_before["VmHWM"]} -> {mem_after["VmHWM"]} KiB; '
              f'Get latency over {len(latencies)} calls: p50 '
              f'{sorted(latencies)[len(latencies) // 2] * 1000:.2f} ms, '
              f'p99 {p99(latencies) * 1000:.2f} ms, max {max(latencies) * 1000:.2f} ms',
              file=sys.stderr)

        # Bad frames: a ring of the newest, the rest counted as dropped.
        self.assertLessEqual(kept, self.KEEP, 'malformed frames kept beyond the ring')
        # Bounded: the good frames (twice over, for the row and index
        # overhead), the ring, and the write-ahead log's 1 MiB.
        self.assertLess(size_after - size_before,
                        2 * good_bytes + self.KEEP * 512 + 1536 * 1024,
                        'the flood grew the database')
        self.assertEqual(kept, self.KEEP)
        self.assertEqual(get_prop(self.session.conn, DERMAROLL, path, 'org.dermaroll.Roller1',
                                  'MalformedDropped'), total - self.KEEP)
        self.assertEqual(db_query(daemon.db_path,
                                  'SELECT malformed_kept, malformed_dropped FROM rollers'),
                         [(self.KEEP, total - self.KEEP)])
        # Good frames: every one the roller made, once, none lost.
        rows = db_query(daemon.db_path, 'SELECT t0_ms, seq FROM frames ORDER BY seq')
        self.assertEqual(len(rows), len(set(rows)), 'a frame stored twice')
        self.assertEqual(len(rows), stats['frames-produced'])
        self.assertGreater(len(rows), good_before)
        self.assertEqual([seq for _, seq in rows], list(range(len(rows))), 'a frame missing')
        self.assertEqual(get_prop(self.session.conn, DERMAROLL, path, 'org.dermaroll.Roller1',
                                  'DroppedFrames'), 0)
        # Memory: a generous bound (the store's queue may hold a burst).
        if memory_bounds_apply():
            self.assertLess(mem_after['VmHWM'], mem_before['VmHWM'] + 64 * 1024,
                            'the flood grew the daemon')


if __name__ == '__main__':
    unittest.main(verbosity=2)
