#!/usr/bin/python3
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
import os
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
# fixtures.py here, dbus_private.py in tests/, the codec in protocol/.
sys.path[:0] = [HERE, os.path.dirname(HERE), os.path.join(HERE, '..', '..', 'protocol')]
from fixtures import (DERMAROLL, MANAGER_IFACE, MANAGER_PATH, PROPS_IFACE,  # noqa: E402
                      Daemon, PrivateBus, Processes, Recorder, call, db_query,
                      roller_object_path, wait_until)

ADDRESS = 'C0:FF:EE:00:5E:01'
SAMPLES = 40_000          # 1,600 frames of 25


def emulator_path():
    root = os.environ.get('DERMAROLL_BUILD_ROOT') or os.path.join(HERE, '..', '..', 'build')
    return os.path.join(root, 'tests', 'roller-emulator')


class EmulatorStream(unittest.TestCase):

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


if __name__ == '__main__':
    unittest.main(verbosity=2)
