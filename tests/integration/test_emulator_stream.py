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
                      Daemon, PrivateBus, Processes, Recorder, call, db_query, get_prop,
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
        return proc

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

    def stream(self, *emulator_args):
        self.start_emulator(*emulator_args)
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
        self.assertEqual(stats['samples-produced'], SAMPLES)

        # The throttled properties: no more updates than their rate allows
        # over the whole run (a slow machine only makes fewer).
        def updates(name):
            return sum(1 for s in props.signals if name in s.args[1])
        self.assertGreater(updates('Force'), 0)
        self.assertLessEqual(updates('Force'), elapsed * 10 + 2)
        self.assertLessEqual(updates('Coverage'), elapsed * 2 + 2)

        # The coverage the daemon publishes is what it stored.
        session = call(self.session.conn, DERMAROLL, path, 'org.dermaroll.Roller1', 'StopSession')
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

    def test_start_notify(self):
        stats = self.stream('--no-acquire-notify')
        self.assertFalse(stats['notify-acquired'])
        self.assertTrue(stats['notifying'], 'the daemon did not StartNotify')


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


if __name__ == '__main__':
    unittest.main(verbosity=2)
