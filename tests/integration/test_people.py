#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''People (issue 9 §1) end to end: the real dermarolld against private buses
and dbusmock's bluez5 template with the roller's GATT server, as in
test_daemon.py. Person1 objects in the ObjectManager, AddPerson, Rename,
RemovePerson with and without the person's data, excluded zones per person,
Roller1.SetPerson ending a session in progress, GetRestStatus after a 1.5 mm
session, and all of it after a restart.

Run: /usr/bin/python3 tests/integration/test_people.py [-v] [Test.test_name]

Expected values are computed here from the rules: a zone treated with
1.5 mm needles may be treated again 42 days after the session's end.
'''

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE), os.path.join(HERE, '..', '..', 'protocol')]

import roller_protocol as proto  # noqa: E402
from fixtures import (DERMAROLL, MANAGER_PATH, OM_IFACE, call, get_prop,  # noqa: E402
                      roller_object_path, wait_until)
from test_daemon import DaemonTestCase  # noqa: E402

PERSON_IFACE = 'org.dermaroll.Person1'
ROLLER_PATH = roller_object_path(DaemonTestCase.ADDRESS)
DEFAULT = '/org/dermaroll/person/1'
DAY_MS = 86400 * 1000
ERR = 'org.dermaroll.Error.'
ZONES = ('forehead', 'left-cheek', 'right-cheek', 'nose', 'upper-lip', 'chin', 'neck')


class PeopleTestCase(DaemonTestCase):

    SECOND = '11:22:33:44:55:66'

    def person(self, path, method, sig=None, args=None):
        return call(self.session.conn, DERMAROLL, path, PERSON_IFACE, method, sig, args)

    def person_prop(self, path, name):
        return get_prop(self.session.conn, DERMAROLL, path, PERSON_IFACE, name)

    def add_person(self, name):
        return self.manager('AddPerson', '(s)', (name,))

    def managed(self):
        objects = call(self.session.conn, DERMAROLL, MANAGER_PATH, OM_IFACE, 'GetManagedObjects')
        return {path: ifaces for path, ifaces in objects.items()}

    def person_sessions(self, person='/'):
        return self.manager('ListPersonSessions', '(xxo)', (0, 0, person))

    def roll(self, push, zone, seconds_ago, seq=0, samples=30):
        '''Contact in @zone (an id) at 2 N; returns the stream.'''
        s = self.live_stream(seconds_ago=seconds_ago, seq=seq)
        s.add(1, 2000, zone, 0)
        s.add(samples, 2000, zone, 20)
        push(s.frames())
        return s

    def stop_session(self, path=ROLLER_PATH):
        mark = self.events.mark()
        session = self.roller_call('StopSession', path=path)
        self.events.wait_signal('SessionEnded', path, since=mark,
                                where=lambda s: s.args[0] == session)
        return session

    def pair_second(self, head=None):
        path = self.manager('Pair', '(s)', (self.SECOND,), timeout=30)
        self.wait_roller_prop('Connected', bool, path=path)
        wait_until(lambda: self.second.info()['Streaming'], 10, 'the second roller streaming')
        return path


class People(PeopleTestCase):

    def test_add_rename_and_the_object_manager(self):
        self.start_daemon()
        self.assertEqual(self.manager_prop('DefaultPerson'), DEFAULT)
        self.assertEqual(self.person_prop(DEFAULT, 'Name'), 'default')
        self.assertIn(PERSON_IFACE, self.managed()[DEFAULT])

        mark = self.events.mark()
        alice = self.add_person('Alice')
        self.assertEqual(alice, '/org/dermaroll/person/2')
        added = self.events.wait_signal('InterfacesAdded', MANAGER_PATH, since=mark,
                                        where=lambda s: s.args[0] == alice)[0]
        self.assertEqual(added.args[1][PERSON_IFACE]['Name'], 'Alice')
        self.assertEqual(added.args[1][PERSON_IFACE]['ExcludedZones'], [])
        self.assertEqual(self.managed()[alice][PERSON_IFACE]['Name'], 'Alice')

        for bad in ('', '   ', '\t'):
            self.assertDBusError(ERR + 'InvalidArgument', self.add_person, bad)
        self.assertDBusError(ERR + 'Exists', self.add_person, 'Alice')
        self.assertDBusError(ERR + 'Exists', self.add_person, 'default')

        self.person(alice, 'Rename', '(s)', ('Alicia',))
        self.assertEqual(self.person_prop(alice, 'Name'), 'Alicia')
        self.assertDBusError(ERR + 'Exists', self.person, alice, 'Rename', '(s)', ('default',))
        self.assertDBusError(ERR + 'InvalidArgument', self.person, alice, 'Rename', '(s)', (' ',))
        self.assertEqual(self.add_person('Alice'), '/org/dermaroll/person/3')   # free again
        self.assertEqual(self.db('SELECT id, name FROM people ORDER BY id'),
                         [(1, 'default'), (2, 'Alicia'), (3, 'Alice')])

        self.assertDBusError(ERR + 'Refused', self.manager, 'RemovePerson', '(ob)',
                             (DEFAULT, False))
        mark = self.events.mark()
        self.manager('RemovePerson', '(ob)', (alice, False))
        removed = self.events.wait_signal('InterfacesRemoved', MANAGER_PATH, since=mark)[0]
        self.assertEqual(removed.args[0], alice)
        self.assertIn(PERSON_IFACE, removed.args[1])
        self.assertNotIn(alice, self.managed())
        self.assertDBusError(ERR + 'NotFound', self.manager, 'RemovePerson', '(ob)',
                             (alice, False))
        self.assertDBusError(ERR + 'NotFound', self.person_sessions, alice)
        # an id is never given again
        self.assertEqual(self.add_person('Bob'), '/org/dermaroll/person/4')

    def test_excluded_zone_is_one_persons(self):
        '''Alice excludes the nose; her roller warns on the nose, the
        default person's does not.'''
        self.second = self.bluez.add_roller(self.ADAPTER, self.SECOND, Name='DermaRoller 2',
                                            HeadInfo=self.head.encode())
        self.start_paired()
        path2 = self.pair_second()
        alice = self.add_person('Alice')
        self.roller_call('SetPerson', '(o)', (alice,), path=path2)
        self.assertEqual(self.roller_prop('Person', path2), alice)
        self.assertEqual(self.roller_prop('Person'), DEFAULT)

        self.person(alice, 'SetZoneExcluded', '(sb)', ('nose', True))
        self.assertEqual(self.person_prop(alice, 'ExcludedZones'), ['nose'])
        self.assertEqual(self.person_prop(DEFAULT, 'ExcludedZones'), [])
        self.assertFalse({z[1]: z[4] for z in self.manager('GetZones')}['nose'])
        self.assertDBusError(ERR + 'InvalidArgument', self.person, alice, 'SetZoneExcluded',
                             '(sb)', ('elbow', True))
        self.assertEqual(self.db('SELECT person_id, zone FROM person_excluded_zones'),
                         [(2, 'nose')])

        mark = self.events.mark()
        s1 = self.roll(self.push, 3, seconds_ago=20)
        self.roll(self.second.push, 3, seconds_ago=20, seq=500)
        first = self.events.wait_signal('SessionStarted', ROLLER_PATH, since=mark)[0].args[0]
        second = self.events.wait_signal('SessionStarted', path2, since=mark)[0].args[0]
        warning = self.events.wait_signal('ZoneWarning', path2, since=mark)[0]
        self.assertEqual(warning.args, (second, 'nose', 'excluded'))
        # the default person's roller took the same contact without a word
        self.wait_acked(s1.seq - 1)
        self.stop_session()
        self.assertEqual(self.events.find('ZoneWarning', ROLLER_PATH, since=mark), [])
        self.assertNotIn('excluded', [e[1] for e in self.manager('GetSessionEvents', '(t)',
                                                                    (first,))])
        # Manager1.SetZoneExcluded is the default person's
        self.manager('SetZoneExcluded', '(sb)', ('chin', True))
        self.assertEqual(self.person_prop(DEFAULT, 'ExcludedZones'), ['chin'])
        self.assertEqual(self.person_prop(alice, 'ExcludedZones'), ['nose'])
        self.assertTrue({z[1]: z[4] for z in self.manager('GetZones')}['chin'])

    def test_set_person_ends_the_session(self):
        self.start_paired()
        alice = self.add_person('Alice')
        mark = self.events.mark()
        s = self.roll(self.push, 0, seconds_ago=20)
        session = self.session_started(mark)
        self.assertEqual(self.roller_prop('ActiveSession'), session)
        # every frame of that roll in first: one still on its way after SetPerson
        # would rightly start Alice's session (seen under ASan on a busy machine)
        self.wait_acked(s.seq - 1)

        mark = self.events.mark()
        self.roller_call('SetPerson', '(o)', (alice,))
        # ended (signalled before the answer, dispatched here now), the roller Alice's
        self.events.mark()
        ended = self.events.find('SessionEnded', ROLLER_PATH, since=mark)
        self.assertEqual([s.args[0] for s in ended], [session])
        self.assertEqual(self.roller_prop('ActiveSession'), 0)
        self.assertEqual(self.roller_prop('Person'), alice)
        self.assertEqual(self.db('SELECT person_id FROM rollers WHERE address = ?',
                                 (self.ADDRESS,)), [(2,)])
        self.assertDBusError(ERR + 'NotFound', self.roller_call, 'SetPerson', '(o)',
                             ('/org/dermaroll/person/99',))
        self.assertDBusError(ERR + 'NotFound', self.roller_call, 'SetPerson', '(o)', ('/',))

        mark = self.events.mark()
        self.roll(self.push, 0, seconds_ago=5, seq=100)
        second = self.session_started(mark)
        self.assertNotEqual(second, session)
        sessions = {s[0]: s[5] for s in self.person_sessions()}
        self.assertEqual(sessions[session], DEFAULT)
        self.assertEqual(sessions[second], alice)
        self.assertEqual([s[0] for s in self.person_sessions(alice)], [second])
        started = [e for e in self.manager('GetSessionEvents', '(t)', (second,))
                   if e[1] == 'session-started']
        self.assertEqual(started[0][2]['person'], alice)
        # ListSessions as it was
        self.assertEqual([s[:5] for s in self.person_sessions()],
                         list(self.manager('ListSessions', '(xx)', (0, 0))))

    def test_remove_person(self):
        self.start_paired()
        alice = self.add_person('Alice')
        bob = self.add_person('Bob')
        self.roller_call('SetPerson', '(o)', (alice,))
        mark = self.events.mark()
        s = self.roll(self.push, 0, seconds_ago=30)
        kept = self.session_started(mark)
        self.assertDBusError(ERR + 'Busy', self.manager, 'RemovePerson', '(ob)', (alice, False))
        self.wait_acked(s.seq - 1)
        self.stop_session()

        # without her data: the session stays, nobody's; the roller is the default person's
        self.manager('RemovePerson', '(ob)', (alice, False))
        self.assertEqual(self.roller_prop('Person'), DEFAULT)
        self.assertEqual({x[0]: x[5] for x in self.person_sessions()}[kept], '/')
        self.assertEqual(self.person_sessions(DEFAULT), [])

        # with his data: his session goes, its frames stay
        self.roller_call('SetPerson', '(o)', (bob,))
        mark = self.events.mark()
        s = self.roll(self.push, 5, seconds_ago=10, seq=200)
        gone = self.session_started(mark)
        self.wait_acked(s.seq - 1)
        self.stop_session()
        frames = len(self.db_frames())
        self.assertGreater(frames, 0)
        self.manager('RemovePerson', '(ob)', (bob, True))
        self.assertEqual([x[0] for x in self.person_sessions()], [kept])
        self.assertDBusError(ERR + 'NotFound', self.manager, 'GetSessionEvents', '(t)', (gone,))
        self.assertEqual(self.db('SELECT count(*) FROM events WHERE session_id = ?', (gone,)),
                         [(0,)])
        self.assertEqual(len(self.db_frames()), frames)
        self.assertEqual(self.roller_prop('Person'), DEFAULT)
        # the next session does not take the deleted one's id
        mark = self.events.mark()
        self.roll(self.push, 0, seconds_ago=2, seq=400)
        self.assertGreater(self.session_started(mark), gone)


class RestStatus(PeopleTestCase):
    '''GetRestStatus after a 1.5 mm session: the chin is free 42 days
    after the session's end, for that person only; after a restart too.'''

    head = proto.Head(needle_length_um=1500, head_id=0x1500)

    def test_rest_status_and_restart(self):
        self.start_paired()
        alice = self.add_person('Alice')
        bob = self.add_person('Bob')
        self.roller_call('SetPerson', '(o)', (alice,))
        self.person(alice, 'SetZoneExcluded', '(sb)', ('nose', True))
        mark = self.events.mark()
        s = self.roll(self.push, 5, seconds_ago=40)
        session = self.session_started(mark)
        self.wait_acked(s.seq - 1)
        self.stop_session()
        end = s.samples[-1][0]
        wait_until(lambda: self.db('SELECT end_ms FROM sessions WHERE id = ?', (session,))
                   == [(end,)], 5, 'the session stored')

        def check():
            status = self.person(alice, 'GetRestStatus')
            self.assertEqual(sorted(status), sorted(ZONES))
            self.assertEqual(status['chin'], (end, end + 42 * DAY_MS))
            for zone in ZONES:
                if zone != 'chin':
                    self.assertEqual(status[zone], (0, 0), zone)
            for other in (bob, DEFAULT):
                self.assertEqual(set(self.person(other, 'GetRestStatus').values()), {(0, 0)})
        check()

        self.assertEqual(self.daemon.stop(), 0)
        self.bluez.client_gone()
        self.start_daemon()
        self.assertEqual(self.person_prop(alice, 'Name'), 'Alice')
        self.assertEqual(self.person_prop(bob, 'Name'), 'Bob')
        self.assertEqual(self.person_prop(alice, 'ExcludedZones'), ['nose'])
        self.assertEqual(self.manager_prop('DefaultPerson'), DEFAULT)
        self.assertEqual(self.roller_prop('Person'), alice)
        self.assertEqual(self.person_sessions(alice)[0][0], session)
        check()


if __name__ == '__main__':
    unittest.main()
