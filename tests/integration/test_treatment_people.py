#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''Issue 9 end to end: two people, two needle heads (1.5 mm, then 0.25 mm)
and protocol version 2 frames through the real dermarolld against the
project's C roller emulator (tests/emulator/) on private buses.

The roller is the emulator's, playing a trace written here sample by
sample (v2 frames made with protocol/roller_protocol.py), so that every
number the daemon reports can be computed by hand below. A head swap
happens with the roller off: each head is its own run of the emulator
(stopped by pid, then started again with the other head's --needle-um,
--head-id and drum, --paired since bluetoothd keeps the pairing), and the
daemon reconnects to the restarted bluetoothd and reads the new Head Info.

The story:
  1. Ann (the default person, renamed) and Ben (Manager1.AddPerson).
  2. 1.5 mm head: Ann's session on the forehead (horizontal, vertical,
     diagonal) and the left cheek (horizontal and vertical: diagonal
     missing, so its coverage is capped). SessionStarted / SessionEnded,
     CurrentZone following the sensor's zones, GetSessionCoverage and
     GetSessionCoverageByDirection against the numbers below, Ann's
     GetRestStatus (free from the session's end + 42 days), Ben's untouched.
  3. 0.25 mm head, Roller1.SetPerson(Ben): a forehead session with no
     too-soon warning (Ben's skin was never needled); Ben's forehead rests
     1 day.
  4. Three days later, SetPerson(Ann), the same 0.25 mm head: a forehead
     session that IS too soon, since the 1.5 mm window from step 2 still
     runs although the head in use is 0.25 mm (whose own 1-day window would
     be over); Ann's forehead is still free from end1 + 42 days, Ben's is
     free now.
  5. ListPersonSessions per person.

The three days pass for the daemon only: it runs under Debian's
libfaketime with its wall clock read from a file the test rewrites
(FAKETIME_TIMESTAMP_FILE, as integration-daemon/Clocks does), its monotonic
clock real. The roller takes the daemon's time from SET_TIME when it
connects, so its samples are three days on as well.

Run: /usr/bin/python3 tests/integration/test_treatment_people.py [-v]
'''
import math
import os
import struct
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE), os.path.join(HERE, '..', '..', 'protocol')]
from fixtures import (LIBFAKETIME, DERMAROLL, MANAGER_IFACE, MANAGER_PATH,  # noqa: E402
                      PROPS_IFACE, faketime_unusable,
                      ROLLER_IFACE, Daemon, Processes, Recorder, call, db_query, get_prop,
                      roller_object_path, wait_until)
from test_emulator_stream import EmulatorCase, emulator_path  # noqa: E402
import roller_protocol as proto  # noqa: E402

PERSON_IFACE = 'org.dermaroll.Person1'
ADDRESS = 'C0:FF:EE:00:9A:01'
ROLLER_PATH = roller_object_path(ADDRESS)
DAY_MS = 86400 * 1000
ZONES = proto.ZONES
FOREHEAD, LEFT_CHEEK = 0, 1
H, V, D = proto.DIRECTION_HORIZONTAL, proto.DIRECTION_VERTICAL, proto.DIRECTION_DIAGONAL

# The treatment rules with the default configuration (README, "The
# treatment rules"): contact from 0.5 N; target T = 6 passes a zone, each
# direction credited up to T/3 = 2 passes; rest 42 days after needles longer
# than 1.0 mm, 1 day after needles of 0.3 mm and less.
CONTACT_MN = 500
TARGET = 6.0
CAP = TARGET / 3
AREA_CM2 = {'forehead': 60.0, 'left-cheek': 40.0}
REST_LONG_MS = 42 * DAY_MS
REST_COSMETIC_MS = 1 * DAY_MS

# The two heads. Both have 64 encoder ticks a revolution and a 20 mm wide
# drum; the 1.5 mm drum is 15 mm across, the 0.25 mm one 10 mm. Rolled area
# per revolution = pi x diameter x width.
HEAD_LONG = dict(needle_um=1500, head_id=1501, diameter_10um=1500, width_10um=2000, ticks=64)
HEAD_SHORT = dict(needle_um=250, head_id=251, diameter_10um=1000, width_10um=2000, ticks=64)


def cm2_per_tick(head):
    return math.pi * (head['diameter_10um'] / 1000) * (head['width_10um'] / 1000) / head['ticks']


TICKS_PER_SAMPLE = 20   # the drum's turn between two samples while it rolls
PERIOD_MS = 10          # 100 Hz


class Trace:
    '''A roller's samples, written as a DRTRACE1 file of version 2 frames
    for the emulator's --trace. Keeps the sample count so that the test can
    say which sample is the first and the last contact.'''

    def __init__(self, ticks):
        self.stream = proto.Stream(0, ticks=ticks, period_ms=PERIOD_MS, per_frame=23,
                                   version=proto.VERSION_2)

    def lifted(self, n, force_mn=0, zone=proto.ZONE_UNKNOWN, turning=False):
        self.stream.add(n, force_mn, zone, TICKS_PER_SAMPLE if turning else 0)

    def stroke(self, n, force_mn, zone, direction):
        self.stream.add(n, force_mn, zone, TICKS_PER_SAMPLE, direction)

    @property
    def ticks(self):
        return self.stream.ticks

    def write(self, path):
        with open(path, 'wb') as f:
            f.write(b'DRTRACE1')
            for frame in self.stream.frames():
                f.write(struct.pack('<H', len(frame)) + frame)


class TwoPeopleTwoHeads(EmulatorCase):

    def setUp(self):
        if faketime_unusable():
            self.skipTest(faketime_unusable())
        super().setUp()
        self.runs = 0           # of the emulator: one per time the roller is switched on

    # -- helpers -----------------------------------------------------------

    def set_wall_offset(self, offset):
        '''The daemon's wall clock from now on: real time plus offset ("+3d").'''
        tmp = self.faketime + '.new'
        with open(tmp, 'w', encoding='ascii') as f:
            f.write(offset + '\n')
        os.replace(tmp, self.faketime)

    def start_roller(self, head, trace, paired):
        '''The emulator as bluetoothd, with one roller carrying @head and
        playing @trace as fast as the daemon reads it.'''
        self.runs += 1
        path = os.path.join(self.tmp, f'run{self.runs}.trace')
        trace.write(path)
        argv = [emulator_path(), '--bus', self.system.address,
                '--roller', ADDRESS + ',Clinic roller', '--trace', path, '--rate', '0',
                '--protocol-version', '2', '--needle-um', str(head['needle_um']),
                '--head-id', str(head['head_id']),
                '--drum-diameter-10um', str(head['diameter_10um']),
                '--drum-width-10um', str(head['width_10um']),
                '--ticks-per-rev', str(head['ticks'])]
        if paired:
            argv.append('--paired')
        proc = Processes.spawn('roller-emulator', argv, dict(os.environ),
                               os.path.join(self.tmp, f'emulator{self.runs}.log'),
                               stdout=subprocess.PIPE)
        self.addCleanup(Processes.stop, proc)
        line = proc.stdout.readline().decode()
        self.assertTrue(line.startswith('READY'), f'emulator said {line!r}')
        self.emu_name = line.split()[1]
        return proc

    def stop_roller(self, proc):
        '''The roller switched off (and bluetoothd with it): by pid.'''
        self.assertEqual(Processes.stop(proc), 0, 'the emulator did not exit cleanly')
        wait_until(lambda: not self.roller_prop('Connected'), 10, 'the daemon to see the roller go')

    def roller_stats(self):
        return self.emu('RollerStats', '(s)', (ADDRESS,))

    def wait_all_acked(self):
        return wait_until(lambda: (lambda s: s if s['exhausted'] and s['pending'] == 0
                                   and s['frames-sent'] > 0 else None)(self.roller_stats()),
                          60, 'every frame of the trace acknowledged',
                          details=lambda: f'{self.roller_stats()}\n{self.daemon.log(40)}')

    def manager(self, method, sig=None, args=None, timeout=10.0):
        return call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, method, sig, args,
                    timeout=timeout)

    def roller_call(self, method, sig=None, args=None):
        return call(self.session.conn, DERMAROLL, ROLLER_PATH, ROLLER_IFACE, method, sig, args)

    def roller_prop(self, name):
        return get_prop(self.session.conn, DERMAROLL, ROLLER_PATH, ROLLER_IFACE, name)

    def rest_status(self, person):
        return call(self.session.conn, DERMAROLL, person, PERSON_IFACE, 'GetRestStatus')

    def person_sessions(self, person):
        return self.manager('ListPersonSessions', '(xxo)', (0, 0, person))

    def roller_signals(self, member, since):
        return [s.args for s in self.signals.find(member, ROLLER_PATH, since=since)]

    def current_zones(self, since):
        '''The CurrentZone values the daemon published, in order.'''
        return [s.args[1]['CurrentZone'] for s in self.props.signals[since:]
                if 'CurrentZone' in s.args[1]]

    def contact_times(self):
        '''The times of the stored frames' contact samples (force >= 0.5 N),
        from the raw bytes: what a session's start and end must be.'''
        times = []
        for (raw,) in db_query(self.daemon.db_path, 'SELECT raw FROM frames'):
            frame = proto.decode_frame(raw)
            t = frame['t0']
            for i, (dt, _ticks, force, _zone, _motion) in enumerate(frame['samples']):
                t += dt if i > 0 else 0
                if force != proto.FORCE_SENSOR_FAULT and force >= CONTACT_MN:
                    times.append(t)
        return sorted(times)

    def treat(self, head, trace, last_zone, paired, what, proc=None):
        '''Plays @trace on a roller with @head until the daemon acknowledged
        every frame and published @last_zone (the zone of the trace's last
        contact) as CurrentZone, stops the session;
        returns (session id, SessionEnded's coverage, the CurrentZone
        values published, the roller's process, the signal mark before).
        @proc: the roller, when it was started already.'''
        mark, props_mark = self.signals.mark(), len(self.props.signals)
        if proc is None:
            proc = self.start_roller(head, trace, paired)
        if not paired:
            self.assertEqual(self.manager('Pair', '(s)', (ADDRESS,), timeout=30), ROLLER_PATH)
        started = self.signals.wait_signal('SessionStarted', ROLLER_PATH, since=mark,
                                           timeout=30)[0].args[0]
        self.assertEqual(self.roller_prop('NeedleLength'), head['needle_um'], what)
        self.assertEqual(self.roller_prop('HeadId'), head['head_id'], what)
        self.wait_all_acked()
        # The last contact's zone is published (throttled, so perhaps a
        # moment later).
        wait_until(lambda: self.roller_prop('CurrentZone') == last_zone, 10,
                   f'CurrentZone {last_zone} after {what}',
                   details=lambda: str(self.current_zones(props_mark)))
        self.assertEqual(self.roller_prop('ActiveSession'), started)
        session = self.roller_call('StopSession')
        self.assertEqual(session, started)
        ended = self.signals.wait_signal('SessionEnded', ROLLER_PATH, since=mark,
                                         where=lambda s: s.args[0] == session)[0]
        self.assertEqual(self.roller_prop('ActiveSession'), 0)
        self.assertEqual(self.roller_signals('SessionStarted', mark), [(session,)], what)
        self.assertEqual(self.roller_signals('PressureWarning', mark), [], what)
        return session, ended.args[1], self.current_zones(props_mark), proc, mark

    def assert_coverage(self, session, want):
        '''GetSessionCoverage, GetSessionCoverageByDirection against @want:
        zone -> (h, v, d ticks, cm2 per tick, peak force N); every other
        zone untouched.'''
        coverage = self.manager('GetSessionCoverage', '(t)', (session,))
        by_direction = self.manager('GetSessionCoverageByDirection', '(t)', (session,))
        self.assertEqual(set(by_direction), set(coverage))
        for zone in ZONES:
            if zone not in want:
                self.assertEqual(coverage[zone][:3], (0.0, 0.0, 0.0), zone)
                self.assertEqual(by_direction[zone], (0.0, 0.0, 0.0, 0.0, 0.0), zone)
                continue
            h, v, d, per_tick, peak, cov = want[zone]
            area = AREA_CM2[zone]
            rolled = (h + v + d) * per_tick
            self.assertAlmostEqual(coverage[zone][0], cov, places=9, msg=zone)
            self.assertAlmostEqual(coverage[zone][1], rolled / area, places=9, msg=zone)
            self.assertAlmostEqual(coverage[zone][2], rolled, places=9, msg=zone)
            self.assertAlmostEqual(coverage[zone][3], peak, places=9, msg=zone)
            got = by_direction[zone]
            self.assertAlmostEqual(got[0], cov, places=9, msg=zone)
            for i, ticks in enumerate((h, v, d), start=1):
                self.assertAlmostEqual(got[i], ticks * per_tick / area, places=9,
                                       msg=f'{zone} {proto.DIRECTIONS[i]}')
            self.assertEqual(got[4], 0.0, f'{zone}: v2 frames have no unknown direction')

    # -- the story ---------------------------------------------------------

    def test_two_people_two_heads_v2(self):
        # Ann's session with the 1.5 mm head (step 2), sample by sample
        # (10 ms apart; the drum turns 20 ticks between two samples of a
        # stroke):
        t1 = Trace(ticks=0)
        t1.lifted(5)                                   # switched on, in the air
        t1.stroke(65, 2200, FOREHEAD, H)               # 1300 ticks horizontal
        t1.lifted(10, 499, FOREHEAD, turning=True)     # 200 ticks just under 0.5 N: no contact
        t1.stroke(45, CONTACT_MN, FOREHEAD, V)         # 900 ticks vertical, at exactly 0.5 N
        t1.lifted(5)
        t1.stroke(20, 1800, FOREHEAD, D)               # 400 ticks diagonal
        t1.lifted(10)                                  # over to the cheek
        t1.stroke(30, 1600, LEFT_CHEEK, H)             # 600 ticks horizontal
        t1.lifted(5)
        t1.stroke(25, 1600, LEFT_CHEEK, V)             # 500 ticks vertical; no diagonal
        t1.lifted(5)
        # From the first forehead contact (sample 5) to the last cheek one
        # (sample 219): 214 steps of 10 ms.
        duration1_ms = 214 * PERIOD_MS

        # By hand: the 1.5 mm drum rolls pi x 1.5 cm x 2.0 cm = 9.4248 cm²
        # a revolution, 0.147262 cm² a tick. A sample's ticks (since the
        # sample before) count for its zone and direction when its force is
        # at least 0.5 N.
        c1 = cm2_per_tick(HEAD_LONG)
        fh_h, fh_v, fh_d = 1300 * c1 / 60, 900 * c1 / 60, 400 * c1 / 60   # 3.191, 2.209, 0.982
        lc_h, lc_v = 600 * c1 / 40, 500 * c1 / 40                          # 2.209, 1.841
        # forehead: all three directions, horizontal and vertical capped at
        # 2: (2 + 2 + 0.982) / 6 = 0.8303 (6.38 passes rolled: 100 % by
        # area alone); left cheek: no diagonal, horizontal capped:
        # (2 + 1.841) / 6 = 0.6401 (4.05 passes rolled).
        cov1 = {'forehead': (min(fh_h, CAP) + min(fh_v, CAP) + min(fh_d, CAP)) / TARGET,
                'left-cheek': (min(lc_h, CAP) + min(lc_v, CAP)) / TARGET}
        self.assertAlmostEqual(cov1['forehead'], 0.8303, places=4)
        self.assertAlmostEqual(cov1['left-cheek'], 0.6401, places=4)

        # The roller is on before the daemon starts (it streams only once
        # paired and asked to).
        proc = self.start_roller(HEAD_LONG, t1, paired=False)
        self.daemon = Daemon(self.tmp, self.system, self.session)
        self.faketime = os.path.join(self.tmp, 'faketime.rc')
        self.set_wall_offset('+0')
        self.daemon.env = {'LD_PRELOAD': LIBFAKETIME, 'FAKETIME_TIMESTAMP_FILE': self.faketime,
                           'FAKETIME_NO_CACHE': '1', 'FAKETIME_DONT_FAKE_MONOTONIC': '1'}
        self.daemon.start()
        self.addCleanup(self.stop_daemon_checked)
        self.signals = Recorder(self.session.conn, sender=DERMAROLL)
        self.addCleanup(self.signals.close)
        self.props = Recorder(self.session.conn, iface=PROPS_IFACE, member='PropertiesChanged',
                              path=ROLLER_PATH)
        self.addCleanup(self.props.close)

        # 1. Two people: the default one is Ann, Ben is added.
        ann = get_prop(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE,
                       'DefaultPerson')
        call(self.session.conn, DERMAROLL, ann, PERSON_IFACE, 'Rename', '(s)', ('Ann',))
        ben = self.manager('AddPerson', '(s)', ('Ben',))
        self.assertNotEqual(ben, ann)
        self.assertEqual(get_prop(self.session.conn, DERMAROLL, ann, PERSON_IFACE, 'Name'), 'Ann')
        self.assertEqual(get_prop(self.session.conn, DERMAROLL, ben, PERSON_IFACE, 'Name'), 'Ben')
        never = {zone: (0, 0) for zone in ZONES}
        self.assertEqual(self.rest_status(ann), never)
        self.assertEqual(self.rest_status(ben), never)

        # 2. Ann's session with the 1.5 mm head.
        s1, ended1, zones1, proc, mark1 = self.treat(HEAD_LONG, t1, 'left-cheek', paired=False,
                                                     what='the 1.5 mm session', proc=proc)
        # CurrentZone followed the sensor: the roller's first frame (forehead
        # only) is published at once, being the first, and the last one's
        # zone by the throttle's timer; in between it can only go forehead
        # -> left cheek.
        self.assertEqual(zones1, ['forehead', 'left-cheek'])
        self.assertEqual(self.roller_prop('Zone'), '', 'the user set no zone')
        self.assertEqual(self.roller_signals('ZoneWarning', mark1), [])
        for zone in ZONES:
            self.assertAlmostEqual(ended1.get(zone, 0.0), cov1.get(zone, 0.0), places=9, msg=zone)
        self.assert_coverage(s1, {
            'forehead': (1300, 900, 400, c1, 2.2, cov1['forehead']),
            'left-cheek': (600, 500, 0, c1, 1.6, cov1['left-cheek']),
        })
        (row1,) = self.person_sessions(ann)
        _, address, start1, end1, mean1, person1 = row1
        self.assertEqual((row1[0], address, person1), (s1, ADDRESS, ann))
        self.assertEqual(end1 - start1, duration1_ms)
        contacts = self.contact_times()
        self.assertEqual((contacts[0], contacts[-1]), (start1, end1))
        self.assertAlmostEqual(mean1, sum(cov1.values()) / len(ZONES), places=9)
        info = self.manager('GetSessionInfo', '(t)', (s1,))
        self.assertEqual((info['needle-length-um'], info['head-id']), (1500, 1501))

        # The rest rule, by the 1.5 mm needles: 42 days after the end.
        rest = dict(never, forehead=(end1, end1 + REST_LONG_MS),
                    **{'left-cheek': (end1, end1 + REST_LONG_MS)})
        self.assertEqual(self.rest_status(ann), rest)
        self.assertEqual(self.rest_status(ben), never, "Ben's skin is untouched")
        self.assertEqual(self.person_sessions(ben), [])

        # 3. The head is swapped for 0.25 mm with the roller off; the roller
        # is handed to Ben.
        self.stop_roller(proc)
        self.roller_call('SetPerson', '(o)', (ben,))
        self.assertEqual(self.roller_prop('Person'), ben)
        t2 = Trace(ticks=t1.ticks)
        t2.lifted(3)
        t2.stroke(30, 2000, FOREHEAD, H)               # 600 ticks horizontal
        t2.lifted(3)
        # By hand: the 0.25 mm drum rolls pi x 1.0 cm x 2.0 cm = 6.2832 cm²
        # a revolution, 0.098175 cm² a tick: 600 ticks are 0.982 passes of
        # the forehead, all horizontal: 0.982 / 6 = 0.1636.
        c2 = cm2_per_tick(HEAD_SHORT)
        cov2 = min(600 * c2 / 60, CAP) / TARGET
        self.assertAlmostEqual(cov2, 0.1636, places=4)

        s2, ended2, zones2, proc, mark2 = self.treat(HEAD_SHORT, t2, 'forehead', paired=True,
                                                     what="Ben's 0.25 mm session")
        self.assertEqual(zones2, ['forehead'])
        # Ben was never needled: nothing is too soon for him.
        self.assertEqual(self.roller_signals('ZoneWarning', mark2), [])
        self.assertAlmostEqual(ended2['forehead'], cov2, places=9)
        self.assert_coverage(s2, {'forehead': (600, 0, 0, c2, 2.0, cov2)})
        (row2,) = self.person_sessions(ben)
        self.assertEqual((row2[0], row2[5]), (s2, ben))
        start2, end2 = row2[2], row2[3]
        self.assertEqual(end2 - start2, 29 * PERIOD_MS)
        self.assertGreater(start2, end1)
        info = self.manager('GetSessionInfo', '(t)', (s2,))
        self.assertEqual((info['needle-length-um'], info['head-id']), (250, 251))
        self.assertEqual(self.rest_status(ben),
                         dict(never, forehead=(end2, end2 + REST_COSMETIC_MS)))
        self.assertEqual(self.rest_status(ann), rest, "Ben's session is not Ann's")

        # 4. Three days later, back to Ann, with the same 0.25 mm head (the
        # roller off and on again): too soon, by the 1.5 mm window of step 2.
        self.stop_roller(proc)
        self.set_wall_offset('+3d')
        self.roller_call('SetPerson', '(o)', (ann,))
        self.assertEqual(self.roller_prop('Person'), ann)
        t3 = Trace(ticks=t2.ticks)
        t3.lifted(3)
        t3.stroke(30, 2000, FOREHEAD, D)               # 600 ticks diagonal
        t3.lifted(3)
        s3, ended3, zones3, proc, mark3 = self.treat(HEAD_SHORT, t3, 'forehead', paired=True,
                                                     what="Ann's 0.25 mm session")
        # Forehead already, since Ben's session: the property did not change.
        self.assertEqual(zones3, [])
        self.assertEqual(self.roller_signals('ZoneWarning', mark3), [(s3, 'forehead', 'too-soon')])
        self.assertAlmostEqual(ended3['forehead'], cov2, places=9)
        self.assert_coverage(s3, {'forehead': (0, 0, 600, c2, 2.0, cov2)})
        rows = self.person_sessions(ann)
        self.assertEqual([(r[0], r[5]) for r in rows], [(s1, ann), (s3, ann)])
        start3, end3 = rows[1][2], rows[1][3]
        self.assertEqual(end3 - start3, 29 * PERIOD_MS)
        # Three days on: a 0.25 mm window of one day from end1 would be over.
        self.assertGreater(start3, end1 + REST_COSMETIC_MS)
        self.assertLess(start3, end1 + REST_LONG_MS)
        # The warning, as stored: at the first forehead contact, naming the
        # 1.5 mm session whose window still runs.
        events = self.manager('GetSessionEvents', '(t)', (s3,))
        too_soon = [(t, details) for t, kind, details in events if kind == 'too-soon']
        self.assertEqual(too_soon, [(start3, {'zone': 'forehead', 'last-treated-ms': end1})])
        # Last treated now, but free only when the 1.5 mm window ends: the
        # 0.25 mm day is long over by then.
        self.assertLess(end3 + REST_COSMETIC_MS, end1 + REST_LONG_MS)
        self.assertEqual(self.rest_status(ann),
                         dict(rest, forehead=(end3, end1 + REST_LONG_MS)))
        # Ben's day of rest is over (0: free now).
        self.assertEqual(self.rest_status(ben), dict(never, forehead=(end2, 0)))

        # 5. Each person's sessions, and everyone's.
        self.assertEqual([r[0] for r in self.person_sessions(ben)], [s2])
        self.assertEqual([(r[0], r[5]) for r in self.person_sessions('/')],
                         [(s1, ann), (s2, ben), (s3, ann)])
        self.assertEqual([r[0] for r in self.manager('ListSessions', '(xx)', (0, 0))],
                         [s1, s2, s3])
        self.stop_roller(proc)

    def stop_daemon_checked(self):
        '''Stops the daemon by pid; under valgrind an error or a leak makes
        it exit 99 here.'''
        rc = self.daemon.stop()
        if rc not in (None, 0):
            raise AssertionError(f'dermarolld exited with status {rc} on SIGTERM; log:\n'
                                 + self.daemon.log())


if __name__ == '__main__':
    unittest.main(verbosity=2)
