#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''Self-test of the integration fixtures, without dermarolld: the dbusmock
bluetoothd and roller behave as BlueZ's documented API (doc/org.bluez.*.rst,
5.66 device-api.txt/gatt-api.txt) and PROTOCOL.md say, and the Python frame
encoder matches PROTOCOL.md's worked examples byte for byte.

This test process plays the daemon's part as the BlueZ client.
'''

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
# fixtures.py here, dbus_private.py in tests/, the codec in protocol/.
sys.path[:0] = [HERE, os.path.dirname(HERE), os.path.join(HERE, '..', '..', 'protocol')]

from gi.repository import GLib  # noqa: E402

import roller_protocol as proto  # noqa: E402
from fixtures import (ADAPTER_IFACE, BLUEZ, CHRC_IFACE, DEVICE_IFACE, OM_IFACE,  # noqa: E402
                      PROPS_IFACE, Recorder, RollerTestCase, call, call_variant, connect,
                      dbus_error, get_prop, wait_until)

AGENT_PATH = '/org/dermaroll/test/agent'


class CodecExamples(unittest.TestCase):
    '''roller.py against PROTOCOL.md's worked examples.'''

    def test_live_frame(self):
        frame = proto.encode_frame(7, 1700000000000, [(0, 1000, 2500, 1), (20, 1012, 5200, 1)])
        self.assertEqual(frame.hex(' '), '01 00 07 00 00 68 e5 cf 8b 01 00 00 02 '
                                         '00 00 e8 03 00 00 c4 09 01 '
                                         '14 00 f4 03 00 00 50 14 01')

    def test_history_frame(self):
        frame = proto.encode_frame(65535, 5000, [(0, 0xfffffff0, 0xffff, 0xff), (20, 12, 1800, 6)],
                                   flags=proto.FLAG_HISTORY | proto.FLAG_CLOCK_UNSYNCED)
        self.assertEqual(frame.hex(' '), '01 03 ff ff 88 13 00 00 00 00 00 00 02 '
                                         '00 00 f0 ff ff ff ff ff ff '
                                         '14 00 0c 00 00 00 08 07 06')

    def test_v2_frame(self):
        frame = proto.encode_frame(8, 1700000000020, [(0, 1012, 5200, 1, 1), (20, 1030, 5100, 1, 2),
                                                      (20, 1048, 5000, 1, 0xff)],
                                   version=proto.VERSION_2)
        self.assertEqual(frame.hex(' '), '02 00 08 00 14 68 e5 cf 8b 01 00 00 03 '
                                         '00 00 f4 03 00 00 50 14 01 01 '
                                         '14 00 06 04 00 00 ec 13 01 02 '
                                         '14 00 18 04 00 00 88 13 01 ff')
        samples = proto.decode_frame(frame)['samples']
        self.assertEqual([proto.DIRECTIONS[proto.direction_of(s[4])] for s in samples],
                         ['horizontal', 'vertical', 'diagonal'])
        with self.assertRaises(ValueError):   # n = 24
            proto.decode_frame(proto.encode_frame(1, 0, [(0, 0, 0, 0, 0)] * 24, version=2))
        with self.assertRaises(ValueError):   # a v1 length under a v2 version byte
            proto.decode_frame(bytes([2]) + proto.encode_frame(1, 0, [(0, 0, 0, 0)] * 2)[1:])

    def test_head_info_status_control(self):
        self.assertEqual(proto.encode_head_info(500, 540, 1900, 2000, 1024, 0x12345678).hex(' '),
                         '01 f4 01 1c 02 6c 07 d0 07 00 04 78 56 34 12')
        self.assertEqual(proto.encode_status(1, 3, 0).hex(' '), '01 01 03 00 00')
        self.assertEqual(proto.encode_control(proto.OP_SET_TIME, 1700000000000).hex(' '),
                         '01 00 68 e5 cf 8b 01 00 00')
        self.assertEqual(proto.encode_control(proto.OP_START_STREAM, 50).hex(' '), '02 32')
        self.assertEqual(proto.encode_control(proto.OP_ACK, 7).hex(' '), '05 07 00')
        self.assertEqual(proto.encode_response(proto.OP_ACK, 0).hex(' '), '80 05 00')

    def test_stream(self):
        s = proto.Stream(t0_ms=1000, seq=5, period_ms=10, per_frame=3)
        s.add(4, 2000, 0, ticks_per_sample=7)
        frames = s.frames()
        self.assertEqual(len(frames), 2)
        a, b = proto.decode_frame(frames[0]), proto.decode_frame(frames[1])
        self.assertEqual((a['seq'], a['t0'], a['samples']),
                         (5, 1000, [(0, 0, 2000, 0), (10, 7, 2000, 0), (10, 14, 2000, 0)]))
        self.assertEqual((b['seq'], b['t0'], b['samples']), (6, 1030, [(0, 21, 2000, 0)]))


class MockBluetoothd(RollerTestCase):

    def bz(self, path, iface, method, sig=None, args=None, timeout=10.0):
        return call(self.system.conn, BLUEZ, path, iface, method, sig, args, timeout)

    def managed(self):
        return call_variant(self.system.conn, BLUEZ, '/', OM_IFACE, 'GetManagedObjects').get_child_value(0)

    def prop_type(self, path, iface, name):
        objs = self.managed()
        for i in range(objs.n_children()):
            entry = objs.get_child_value(i)
            if entry.get_child_value(0).get_string() != path:
                continue
            ifaces = entry.get_child_value(1)
            for j in range(ifaces.n_children()):
                ie = ifaces.get_child_value(j)
                if ie.get_child_value(0).get_string() != iface:
                    continue
                props = ie.get_child_value(1)
                for k in range(props.n_children()):
                    pe = props.get_child_value(k)
                    if pe.get_child_value(0).get_string() == name:
                        return pe.get_child_value(1).get_variant().get_type_string()
        return None

    def register_agent(self):
        self.bz('/org/bluez', 'org.bluez.AgentManager1', 'RegisterAgent', '(os)',
                (AGENT_PATH, 'NoInputNoOutput'))
        self.bz('/org/bluez', 'org.bluez.AgentManager1', 'RequestDefaultAgent', '(o)', (AGENT_PATH,))

    def pair_and_resolve(self):
        self.register_agent()
        self.bz(self.roller.path, DEVICE_IFACE, 'Pair')
        wait_until(lambda: get_prop(self.system.conn, BLUEZ, self.roller.path, DEVICE_IFACE,
                                    'ServicesResolved'), 5, 'ServicesResolved')

    def chrc(self, uuid):
        return str(self.roller.chrc_path(uuid))

    def test_objects_and_types(self):
        dev = self.roller.path
        self.assertEqual(dev, '/org/bluez/hci2/dev_AA_BB_CC_DD_EE_FF')
        adapter = get_prop(self.system.conn, BLUEZ, '/org/bluez/hci2', ADAPTER_IFACE, 'Powered')
        self.assertTrue(adapter)
        expected = {'ManufacturerData': 'a{qv}', 'ServiceData': 'a{sv}', 'AdvertisingFlags': 'ay',
                    'AdvertisingData': 'a{yv}', 'UUIDs': 'as', 'Paired': 'b', 'Bonded': 'b',
                    'Connected': 'b', 'ServicesResolved': 'b', 'Trusted': 'b', 'RSSI': 'n',
                    'Adapter': 'o', 'Address': 's', 'AddressType': 's', 'Name': 's', 'Alias': 's'}
        for name, sig in expected.items():
            self.assertEqual(self.prop_type(dev, DEVICE_IFACE, name), sig, name)
        props = self.roller.device_props()
        self.assertEqual(props['UUIDs'], [proto.UUID_ROLLER_SERVICE])
        self.assertEqual(props['Address'], self.ADDRESS)
        self.assertFalse(props['Paired'])
        # no GATT objects before services were resolved
        self.assertEqual([p for p in self.managed().unpack() if p.startswith(dev + '/')], [])

    def test_pair_needs_agent_then_connects_and_resolves(self):
        dev = self.roller.path
        with self.assertRaises(GLib.Error) as cm:
            self.bz(dev, DEVICE_IFACE, 'Pair')
        self.assertEqual(dbus_error(cm.exception)[0], 'org.bluez.Error.AuthenticationRejected')
        mark = self.bt_signals.mark()
        self.register_agent()
        self.assertEqual(self.bluez.agents(), ([(AGENT_PATH, 'NoInputNoOutput')], AGENT_PATH))
        self.bz(dev, DEVICE_IFACE, 'Pair')
        changes = self.bt_signals.wait_signal(
            'PropertiesChanged', dev, since=mark,
            where=lambda s: s.args[0] == DEVICE_IFACE and 'ServicesResolved' in s.args[1])
        self.assertTrue(changes[0].args[1]['ServicesResolved'])
        order = [k for s in self.bt_signals.find('PropertiesChanged', dev, since=mark)
                 for k in s.args[1]]
        self.assertLess(order.index('Connected'), order.index('ServicesResolved'))
        props = self.roller.device_props()
        self.assertTrue(props['Paired'] and props['Bonded'] and props['Connected'])
        self.assertIn(proto.UUID_ROLLER_SERVICE, props['UUIDs'])
        self.assertNotIn('00001105-0000-1000-8000-00805f9b34fb', props['UUIDs'])  # the phone's OBEX
        self.assertNotIn('Icon', [k for k in props if props[k] == 'phone'])
        # the GATT objects came before ServicesResolved
        added = self.bt_signals.find('InterfacesAdded', since=mark)
        self.assertTrue(added)
        self.assertLess(max(s.time for s in added), changes[0].time + 1e-9)
        with self.assertRaises(GLib.Error) as cm:
            self.bz(dev, DEVICE_IFACE, 'Pair')
        self.assertEqual(dbus_error(cm.exception)[0], 'org.bluez.Error.AlreadyExists')
        # Connect on a connected LE device succeeds (device.c dev_connect)
        self.bz(dev, DEVICE_IFACE, 'Connect')
        # Trusted is writable
        self.bz(dev, PROPS_IFACE, 'Set', '(ssv)', (DEVICE_IFACE, 'Trusted', GLib.Variant('b', True)))
        self.assertTrue(self.roller.device_props()['Trusted'])

    def test_gatt_tree(self):
        self.pair_and_resolve()
        objs = self.managed().unpack()
        dev = self.roller.path
        services = {p: o['org.bluez.GattService1'] for p, o in objs.items()
                    if 'org.bluez.GattService1' in o}
        self.assertEqual(sorted(s['UUID'] for s in services.values()),
                         sorted([proto.UUID_ROLLER_SERVICE, proto.UUID_BATTERY_SERVICE,
                                 proto.UUID_DEVICE_INFO_SERVICE]))
        for path, svc in services.items():
            self.assertTrue(path.startswith(dev + '/service'))
            self.assertEqual(svc['Device'], dev)
            self.assertTrue(svc['Primary'])
            for name, sig in (('UUID', 's'), ('Device', 'o'), ('Primary', 'b'), ('Includes', 'ao'),
                              ('Handle', 'q')):
                self.assertEqual(self.prop_type(path, 'org.bluez.GattService1', name), sig)
        chrcs = {o[CHRC_IFACE]['UUID']: (p, o[CHRC_IFACE]) for p, o in objs.items() if CHRC_IFACE in o}
        self.assertEqual(set(chrcs), {proto.UUID_ROLL_MEASUREMENT, proto.UUID_HEAD_INFO,
                                      proto.UUID_CONTROL_POINT, proto.UUID_STATUS,
                                      proto.UUID_BATTERY_LEVEL, proto.UUID_MANUFACTURER_NAME,
                                      proto.UUID_MODEL_NUMBER, proto.UUID_SERIAL_NUMBER,
                                      proto.UUID_FIRMWARE_REVISION})
        for uuid, (path, c) in chrcs.items():
            self.assertIn(c['Service'], services)
            self.assertTrue(path.startswith(c['Service'] + '/char'))
            for name, sig in (('UUID', 's'), ('Service', 'o'), ('Value', 'ay'), ('Flags', 'as'),
                              ('Handle', 'q'), ('MTU', 'q')):
                self.assertEqual(self.prop_type(path, CHRC_IFACE, name), sig, f'{uuid} {name}')
            notifies = 'notify' in c['Flags'] or 'indicate' in c['Flags']
            self.assertEqual('Notifying' in c, notifies, uuid)
        self.assertEqual(chrcs[proto.UUID_ROLL_MEASUREMENT][1]['Flags'], ['notify'])
        self.assertEqual(chrcs[proto.UUID_CONTROL_POINT][1]['Flags'], ['write', 'indicate'])
        self.assertEqual(chrcs[proto.UUID_STATUS][1]['Flags'], ['read', 'notify'])
        self.assertEqual(chrcs[proto.UUID_HEAD_INFO][1]['Flags'], ['read'])
        descs = [o['org.bluez.GattDescriptor1'] for o in objs.values() if 'org.bluez.GattDescriptor1' in o]
        self.assertEqual(len(descs), 4)   # one CCCD per notify/indicate characteristic

    def test_reads(self):
        self.pair_and_resolve()
        read = lambda uuid: bytes(self.bz(self.chrc(uuid), CHRC_IFACE, 'ReadValue', '(a{sv})', ({},)))  # noqa: E731
        head = read(proto.UUID_HEAD_INFO)
        self.assertEqual(len(head), 15)
        self.assertEqual(proto.decode_head_info(head), (1, 500, 192, 1900, 2000, 360, 0xC0FFEE01))
        self.assertEqual(read(proto.UUID_STATUS), proto.encode_status(0, 0, 0))
        self.assertEqual(read(proto.UUID_BATTERY_LEVEL), bytes([87]))
        self.assertEqual(read(proto.UUID_FIRMWARE_REVISION), b'1.4.2')
        self.assertEqual(read(proto.UUID_MANUFACTURER_NAME), b'Dermaroll Labs')
        # cached Value updated by the read
        self.assertEqual(bytes(get_prop(self.system.conn, BLUEZ, self.chrc(proto.UUID_HEAD_INFO),
                                        CHRC_IFACE, 'Value')), head)
        with self.assertRaises(GLib.Error) as cm:
            read(proto.UUID_CONTROL_POINT)
        self.assertEqual(dbus_error(cm.exception)[0], 'org.bluez.Error.NotPermitted')
        with self.assertRaises(GLib.Error) as cm:
            self.bz(self.chrc(proto.UUID_ROLL_MEASUREMENT), CHRC_IFACE, 'AcquireNotify', '(a{sv})', ({},))
        self.assertEqual(dbus_error(cm.exception)[0], 'org.bluez.Error.NotSupported')
        with self.assertRaises(GLib.Error) as cm:
            self.bz(self.chrc(proto.UUID_HEAD_INFO), CHRC_IFACE, 'StartNotify')
        self.assertEqual(dbus_error(cm.exception)[0], 'org.bluez.Error.NotSupported')

    def write_cp(self, value):
        self.bz(self.chrc(proto.UUID_CONTROL_POINT), CHRC_IFACE, 'WriteValue', '(aya{sv})',
                (bytes(value), {'type': GLib.Variant('s', 'request')}))

    def value_changes(self, uuid, since):
        path = self.chrc(uuid)
        return [bytes(s.args[1]['Value']) for s in self.bt_signals.find(
            'PropertiesChanged', path, since=since,
            where=lambda s: s.args[0] == CHRC_IFACE and 'Value' in s.args[1])]

    def test_control_point_history_and_ack(self):
        stored = proto.Stream(t0_ms=1_690_000_000_000, seq=100).add(30, 1500, 0, 3).frames()
        self.bluez.stop()
        self.bluez, self.roller = self.start_bluez({}, stored=stored)
        self.pair_and_resolve()
        cp = self.chrc(proto.UUID_CONTROL_POINT)
        rm = self.chrc(proto.UUID_ROLL_MEASUREMENT)
        self.bz(cp, CHRC_IFACE, 'StartNotify')
        self.bz(rm, CHRC_IFACE, 'StartNotify')
        self.assertTrue(get_prop(self.system.conn, BLUEZ, cp, CHRC_IFACE, 'Notifying'))
        status = bytes(self.bz(self.chrc(proto.UUID_STATUS), CHRC_IFACE, 'ReadValue', '(a{sv})', ({},)))
        self.assertEqual(status, proto.encode_status(0, 3, 0))

        mark = self.bt_signals.mark()
        self.write_cp(proto.encode_control(proto.OP_SET_TIME, 1_700_000_000_000))
        wait_until(lambda: self.value_changes(proto.UUID_CONTROL_POINT, mark), 5, 'indication')
        self.assertEqual(self.value_changes(proto.UUID_CONTROL_POINT, mark), [bytes([0x80, 1, 0])])

        mark = self.bt_signals.mark()
        self.write_cp([proto.OP_REQUEST_HISTORY])
        wait_until(lambda: self.value_changes(proto.UUID_CONTROL_POINT, mark), 5, 'indication')
        frames = self.value_changes(proto.UUID_ROLL_MEASUREMENT, mark)
        self.assertEqual(frames, [proto.with_flags(f, proto.FLAG_HISTORY) for f in stored])
        # every history frame came before the result indication
        last_frame = max(s.time for s in self.bt_signals.find('PropertiesChanged', rm, since=mark))
        ind = self.bt_signals.find('PropertiesChanged', cp, since=mark)[0]
        self.assertLessEqual(last_frame, ind.time)
        self.assertEqual(bytes(ind.args[1]['Value']), bytes([0x80, 4, 0]))
        # the signal's type is ay, as bluetoothd's
        self.assertEqual(ind.variant.get_child_value(1).lookup_value('Value', None).get_type_string(), 'ay')

        mark = self.bt_signals.mark()
        self.write_cp(proto.encode_control(proto.OP_ACK, 101))
        wait_until(lambda: self.value_changes(proto.UUID_CONTROL_POINT, mark), 5, 'indication')
        self.assertEqual(self.roller.stored(), stored[2:])
        self.write_cp(proto.encode_control(proto.OP_START_STREAM, 100))
        wait_until(lambda: self.roller.info()['Streaming'], 5, 'streaming')

        # a live frame: stored in the roller and notified (EmitSignal)
        live = proto.Stream(t0_ms=1_700_000_000_000, seq=103).add(5, 2000, 1, 2).frames()
        mark = self.bt_signals.mark()
        self.assertEqual(self.roller.push(live), 1)
        wait_until(lambda: self.value_changes(proto.UUID_ROLL_MEASUREMENT, mark), 5, 'live frame')
        sig = self.bt_signals.find('PropertiesChanged', rm, since=mark)[0]
        self.assertEqual(sig.variant.get_type_string(), '(sa{sv}as)')
        self.assertEqual(sig.variant.get_child_value(1).lookup_value('Value', None).get_type_string(), 'ay')
        self.assertEqual(bytes(sig.args[1]['Value']), live[0])
        self.assertEqual(self.roller.stored(), stored[2:] + live)
        self.assertEqual(self.roller.control_requests(),
                         [(1, 1_700_000_000_000), (4, None), (5, 101), (2, 100)])
        self.assertEqual([w for _, w, _ in self.roller.control_writes()], ['request'] * 4)
        self.assertEqual([r[:2] for r in self.control_requests_seen()],
                         [(1, 1_700_000_000_000), (4, None), (5, 101), (2, 100)])

    def test_link_loss_reconnect_and_client_gone(self):
        self.pair_and_resolve()
        dev = self.roller.path
        rm = self.chrc(proto.UUID_ROLL_MEASUREMENT)
        self.bz(rm, CHRC_IFACE, 'StartNotify')
        mark = self.bt_signals.mark()
        self.roller.drop_link()
        sigs = self.bt_signals.wait_signal('PropertiesChanged', dev, since=mark)
        self.assertEqual(sigs[0].args[1], {'ServicesResolved': False, 'Connected': False})
        with self.assertRaises(GLib.Error) as cm:
            self.bz(rm, CHRC_IFACE, 'ReadValue', '(a{sv})', ({},))
        self.assertEqual(dbus_error(cm.exception), ('org.bluez.Error.Failed', 'Not connected'))
        self.assertFalse(self.roller.produce(b'\x01', store=False))
        # failing connects, then a good one
        self.roller.set_connect_errors([('org.bluez.Error.Failed', 'le-connection-abort-by-local')])
        with self.assertRaises(GLib.Error) as cm:
            self.bz(dev, DEVICE_IFACE, 'Connect')
        self.assertEqual(dbus_error(cm.exception),
                         ('org.bluez.Error.Failed', 'le-connection-abort-by-local'))
        mark = self.bt_signals.mark()
        self.bz(dev, DEVICE_IFACE, 'Connect')
        self.bt_signals.wait_signal('PropertiesChanged', dev, since=mark,
                                    where=lambda s: s.args[1].get('ServicesResolved') is True)
        self.assertEqual(self.roller.method_calls('Connect'), [[], []])
        # the notify session survived the reconnect (bluetoothd keeps it)
        self.assertTrue(get_prop(self.system.conn, BLUEZ, rm, CHRC_IFACE, 'Notifying'))
        self.bluez.client_gone()
        self.assertFalse(get_prop(self.system.conn, BLUEZ, rm, CHRC_IFACE, 'Notifying'))
        self.assertEqual(self.bluez.agents(), ([], ''))

    def test_flapping_gatt_moves_paths(self):
        self.pair_and_resolve()
        self.roller.set_flap_gatt(True)
        before = self.chrc(proto.UUID_CONTROL_POINT)
        mark = self.bt_signals.mark()
        self.roller.drop_link()
        self.bt_signals.wait_signal('InterfacesRemoved', since=mark, count=16)
        self.assertNotIn(proto.UUID_CONTROL_POINT, self.roller.info()['Characteristics'])
        self.bz(self.roller.path, DEVICE_IFACE, 'Connect')
        wait_until(lambda: self.roller.device_props()['ServicesResolved'], 5, 'ServicesResolved')
        self.assertNotEqual(self.chrc(proto.UUID_CONTROL_POINT), before)

    def test_discovery(self):
        adapter = '/org/bluez/hci2'
        with self.assertRaises(GLib.Error) as cm:
            self.bz(adapter, ADAPTER_IFACE, 'SetDiscoveryFilter', '(a{sv})',
                    ({'Bogus': GLib.Variant('s', 'x')},))
        self.assertEqual(dbus_error(cm.exception)[0], 'org.bluez.Error.InvalidArguments')
        self.bz(adapter, ADAPTER_IFACE, 'SetDiscoveryFilter', '(a{sv})',
                ({'Transport': GLib.Variant('s', 'le'),
                  'UUIDs': GLib.Variant('as', [proto.UUID_ROLLER_SERVICE])},))
        mark = self.bt_signals.mark()
        self.bz(adapter, ADAPTER_IFACE, 'StartDiscovery')
        self.assertTrue(get_prop(self.system.conn, BLUEZ, adapter, ADAPTER_IFACE, 'Discovering'))
        self.bt_signals.wait_signal('PropertiesChanged', self.roller.path, since=mark,
                                    where=lambda s: 'RSSI' in s.args[1])
        self.assertNotIn('DiscoveryFilter',
                         call(self.system.conn, BLUEZ, adapter, PROPS_IFACE, 'GetAll', '(s)', (ADAPTER_IFACE,)))
        calls = self.bluez.method_calls(adapter, 'SetDiscoveryFilter')
        self.assertEqual(calls[-1][0]['Transport'], 'le')
        self.bz(adapter, ADAPTER_IFACE, 'StopDiscovery')
        with self.assertRaises(GLib.Error) as cm:
            self.bz(adapter, ADAPTER_IFACE, 'StopDiscovery')
        self.assertEqual(dbus_error(cm.exception)[0], 'org.bluez.Error.Failed')

    def test_bluetoothd_restart_keeps_roller_memory(self):
        frames = proto.Stream(t0_ms=1_690_000_000_000).add(20, 1000, 2, 1).frames()
        self.roller.produce(frames[0])
        self.roller.produce(frames[1])
        stored = self.roller.stored()
        self.bluez.stop()
        wait_until(lambda: not call(self.system.conn, 'org.freedesktop.DBus', '/org/freedesktop/DBus',
                                    'org.freedesktop.DBus', 'NameHasOwner', '(s)', (BLUEZ,)),
                   5, 'org.bluez gone')
        mark = self.bt_signals.mark()
        self.bluez, self.roller = self.start_bluez({}, stored=stored, paired=True)
        self.assertEqual(self.roller.stored(), frames)
        props = self.roller.device_props()
        self.assertTrue(props['Paired'] and props['Trusted'] and not props['Connected'])
        # whoever watched org.bluez saw no object being built (only the name)
        self.assertEqual(self.bt_signals.find('InterfacesAdded', since=mark), [])

    def test_control_calls_stay_off_the_bus(self):
        # What a test asks the mock (Info, Stored, ...) is not bluetoothd's
        # API: it must not come out of org.bluez as a MethodCalled broadcast.
        # Every client following org.bluez gets those (the daemon's object
        # manager subscribes to all of org.bluez's signals), and a
        # wait_until polling Info wakes on the MethodCalled of its own
        # previous poll: thousands of calls and signals a second, which a
        # daemon under valgrind cannot parse as fast as they come.
        watcher = connect(self.system.address)
        self.addCleanup(watcher.close_sync, None)
        seen = Recorder(watcher, sender=BLUEZ)
        self.roller.info()
        self.roller.stored()
        self.roller.control_writes()
        self.roller.set_state(proto.STATE_IDLE)
        self.bluez.agents()
        # bluetoothd's API is still recorded: its MethodCalled comes after
        # any of those, on the same connection.
        with self.assertRaises(GLib.Error):
            self.bz(self.roller.path, DEVICE_IFACE, 'Disconnect')   # NotConnected
        seen.wait_signal('MethodCalled', self.roller.path,
                         where=lambda s: s.args[0] == 'Disconnect')
        self.assertEqual([s.args[0] for s in seen.find('MethodCalled')], ['Disconnect'])
        self.assertEqual(self.roller.method_calls('Info'), [])   # nor in the call log

    def test_logind(self):
        rec = self.bt_calls  # any recorder on the system bus works for the sleep signal
        del rec
        from fixtures import LOGIND_IFACE, Recorder
        sleep = Recorder(self.system.conn, iface=LOGIND_IFACE, member='PrepareForSleep')
        self.logind.prepare_for_sleep(True)
        self.logind.prepare_for_sleep(False)
        sigs = sleep.wait_signal('PrepareForSleep', count=2)
        self.assertEqual([s.args for s in sigs], [(True,), (False,)])


if __name__ == '__main__':
    unittest.main(verbosity=2)
