# SPDX-License-Identifier: LGPL-2.1-or-later
'''dbusmock template: bluetoothd (dbusmock's bluez5 template) with derma rollers.

Loaded into a dbusmock process with `python3 -m dbusmock --system -t <this
file>`. It loads dbusmock's own `bluez5` template (AgentManager1, Adapter1,
Device1, the org.bluez.Mock helpers AddAdapter/AddDevice/...) and adds what a
roller needs on top, all through dbusmock's API (AddObject, AddMethod,
EmitSignal):

- AddRoller(adapter, address, options) calls the bluez5 template's AddDevice
  and then corrects what the template gets wrong compared with bluetoothd
  (doc/org.bluez.Device.rst, src/device.c of BlueZ 5.66):
    * ManufacturerData/ServiceData/AdvertisingData are dicts (a{qv}, a{sv},
      a{yv}) and AdvertisingFlags is ay, not arrays of those;
    * Bonded exists (since 5.65), UUIDs carry what the roller advertises;
    * Pair does not stamp an Android phone's UUIDs, class and icon on the
      device; like bluetoothd it connects the LE link, resolves services and
      sets Paired/Bonded; it fails without an agent (device-api: "In case
      there is no application agent and also no default agent present, this
      method will fail") and answers AlreadyExists when bonded;
    * Connect sets the Connected property (the template only sets a Python
      attribute and emits a signal), then exports the GATT objects and sets
      ServicesResolved, each with PropertiesChanged; Connect on a connected LE
      device succeeds (device.c dev_connect) instead of AlreadyConnected;
    * Adapter1.RemoveDevice also removes the device's GATT objects;
      SetDiscoveryFilter validates its keys and is not published as a
      property; StartDiscovery works without a filter and re-reports rollers
      in range (RSSI), StopDiscovery fails when none is running.
- The roller's GATT tree (GattService1/GattCharacteristic1/GattDescriptor1
  objects under the device path, paths and properties as bluetoothd exports
  them) and the roller's firmware behind it (PROTOCOL.md): Head Info, Status,
  Battery Level and Device Information reads; Control Point writes answered
  by indications (PropertiesChanged on Value) after the write's reply; stored
  frames replayed on REQUEST_HISTORY with the history flag; ACK erasing them.
  AcquireNotify answers org.bluez.Error.NotSupported so that the daemon's
  StartNotify fallback is exercised here (the C emulator covers AcquireNotify).

The mock does not claim org.bluez at start: it owns BUS_NAME below until the
test has built its objects and calls ClaimBusName(). A daemon watching
org.bluez therefore never sees half-built or wrongly typed objects, also when
a test "restarts bluetoothd" while the daemon runs.

Test-only control methods are on org.dermaroll.test.Bluez (object /) and
org.dermaroll.test.Roller (each roller's device object). They are not
bluetoothd's API, and unlike dbusmock's own methods they emit no MethodCalled
and stay out of the call log (_add_control_methods says why).
'''

import os
import sys
import time

import dbus
import dbus.service
from gi.repository import GLib

from dbusmock import OBJECT_MANAGER_IFACE, mockobject
from dbusmock.templates import bluez5
# The bluez5 template's org.bluez.Mock methods, attached to our main object by
# dbusmock's AddTemplate exactly as with `-t bluez5`.
from dbusmock.templates.bluez5 import (AddAdapter, AddDevice, BlockDevice,  # noqa: F401
                                       ConnectDevice, DisconnectDevice, PairDevice,
                                       RemoveAdapter, RemoveAdapterWithDevices)

HERE = os.path.dirname(os.path.abspath(__file__))
# fixtures.py here, dbus_private.py in tests/, the codec in protocol/.
sys.path[:0] = [HERE, os.path.dirname(HERE), os.path.join(HERE, '..', '..', 'protocol')]
import roller_protocol as proto  # noqa: E402

BUS_NAME = 'org.dermaroll.test.BluezSetup'
MAIN_OBJ = '/'
SYSTEM_BUS = True
IS_OBJECT_MANAGER = True

BLUEZ_NAME = 'org.bluez'
CONTROL_IFACE = 'org.dermaroll.test.Bluez'
ROLLER_IFACE = 'org.dermaroll.test.Roller'
ADAPTER_IFACE = 'org.bluez.Adapter1'
DEVICE_IFACE = 'org.bluez.Device1'
SERVICE_IFACE = 'org.bluez.GattService1'
CHRC_IFACE = 'org.bluez.GattCharacteristic1'
DESC_IFACE = 'org.bluez.GattDescriptor1'
PROPS_IFACE = 'org.freedesktop.DBus.Properties'
ERROR = 'org.bluez.Error.'

# Delay between a method's reply and what the peer sends next (indications,
# ServicesResolved): long enough that the reply is on the bus first.
PEER_DELAY_MS = 5


def _fn(method):
    """dbusmock runs a method's code only when it is a plain function."""
    return lambda obj, *args: method(obj, *args)


# Control methods that only look: not even a line in the mock's log (tests
# poll them while they wait).
QUERIES = {'Info', 'Stored', 'ControlWrites', 'Agents'}


def _add_control_methods(obj, iface, methods):
    '''obj.AddMethods(iface, methods) without dbusmock's call log and its
    MethodCalled signal, for the test-only methods. MethodCalled is a
    broadcast from the owner of org.bluez, so every client that follows
    org.bluez gets it (the daemon's GDBusObjectManagerClient subscribes to
    all of its signals) although bluetoothd never sends such a thing; and a
    test waiting on Info (fixtures.wait_until evaluates its predicate after
    every event) is woken by the MethodCalled of its own last Info: a loop
    of thousands of calls and signals a second, which starved a daemon under
    valgrind of its GATT answers. The method is built as dbusmock's
    AddMethod builds it, and found by dbusmock's method lookup the same way.'''
    for name, in_sig, out_sig, func in methods:
        def method(self, *args, _name=name, _func=func, **_):
            if _name not in QUERIES:
                self.log(_name + mockobject._format_args(args))   # pylint: disable=protected-access
            return _func(self, *args)
        dbus_method = dbus.service.method(iface, out_signature=out_sig)(method)
        dbus_method.__name__ = name
        dbus_method._dbus_in_signature = in_sig    # pylint: disable=protected-access
        dbus_method._dbus_args = [f'arg{i}' for i in range(1, len(dbus.Signature(in_sig)) + 1)]
        obj.methods.setdefault(iface, {})[name] = (in_sig, out_sig, func, dbus_method)


def _error(name, message):
    return dbus.exceptions.DBusException(message, name=ERROR + name)


def _bytes(value, variant_level=0):
    return dbus.Array([dbus.Byte(b) for b in bytes(value)], signature='y',
                      variant_level=variant_level)


def _emit_props(obj, iface, changed, invalidated=()):
    obj.EmitSignal(PROPS_IFACE, 'PropertiesChanged', 'sa{sv}as', [
        iface, dbus.Dictionary(changed, signature='sv'),
        dbus.Array(list(invalidated), signature='s')])


def _set_props(obj, iface, changed, emit=True):
    for name, value in changed.items():
        obj.props[iface][name] = value
    if emit:
        _emit_props(obj, iface, changed)


def _manager():
    return mockobject.objects['/']


def _interfaces_added(path):
    obj = mockobject.objects[path]
    _manager().EmitSignal(OBJECT_MANAGER_IFACE, 'InterfacesAdded', 'oa{sa{sv}}', [
        dbus.ObjectPath(path),
        dbus.Dictionary({iface: dbus.Dictionary(props, signature='sv')
                         for iface, props in obj.props.items()}, signature='sa{sv}')])


def _remove_object(path):
    obj = mockobject.objects[path]
    ifaces = list(obj.props.keys())
    _manager().RemoveObject(path)
    _manager().EmitSignal(OBJECT_MANAGER_IFACE, 'InterfacesRemoved', 'oas', [
        dbus.ObjectPath(path), dbus.Array(ifaces, signature='s')])


class Roller:
    '''One roller: its GATT server as bluetoothd exports it, and its firmware.'''

    def __init__(self, device, adapter_path, options):
        self.device = device
        self.path = device.path
        self.adapter_path = adapter_path
        head = options.get('HeadInfo')
        self.head_info = bytes(head) if head is not None else proto.Head().encode()
        self.battery = int(options.get('Battery', 87))
        self.strings = {
            proto.UUID_MANUFACTURER_NAME: str(options.get('Manufacturer', 'Dermaroll Labs')),
            proto.UUID_MODEL_NUMBER: str(options.get('Model', 'DR-1')),
            proto.UUID_SERIAL_NUMBER: str(options.get('Serial', 'DR1-000123')),
            proto.UUID_FIRMWARE_REVISION: str(options.get('Firmware', '1.4.2')),
        }
        # Every frame the roller produced and nobody acknowledged, oldest first.
        self.stored = [bytes(f) for f in options.get('StoredFrames', [])]
        self.state = int(options.get('State', proto.STATE_IDLE))
        self.status_flags = int(options.get('StatusFlags', 0))
        self.pair_connects = bool(options.get('PairConnects', True))
        self.require_agent = bool(options.get('RequireAgent', True))
        self.flap_gatt = bool(options.get('FlapGatt', False))
        self.handle_base = 0x0010
        self.connected = False
        self.exported = False
        self.streaming = False
        self.rate_hz = 0
        self.clock_offset_ms = None
        self.connect_errors = []
        self.chrcs = {}            # uuid -> object path, while exported
        self.chrc_flags = {}       # path -> flags
        self.control_writes = []   # (time, type option, value)
        self.violations = []       # protocol misuse seen by the "firmware"
        self.unknown_acks = []
        self.erased = set()        # seqs of the frames an ACK erased
        self.indication_pending = False
        self.resolve_source = 0

    # bluetoothd side: link, services

    def set_connected(self):
        if self.connected:
            return
        self.connected = True
        _set_props(self.device, DEVICE_IFACE, {'Connected': dbus.Boolean(True, variant_level=1)})
        if self.resolve_source:
            GLib.source_remove(self.resolve_source)
        self.resolve_source = GLib.timeout_add(PEER_DELAY_MS * 4, self._resolve)

    def _resolve(self):
        self.resolve_source = 0
        if not self.connected:
            return False
        if not self.exported:
            self.export_gatt()
        uuids = dbus.Array([proto.UUID_GAP_SERVICE, proto.UUID_GATT_SERVICE,
                            proto.UUID_DEVICE_INFO_SERVICE, proto.UUID_BATTERY_SERVICE,
                            proto.UUID_ROLLER_SERVICE], signature='s', variant_level=1)
        if list(self.device.props[DEVICE_IFACE]['UUIDs']) != list(uuids):
            _set_props(self.device, DEVICE_IFACE, {'UUIDs': uuids})
        _set_props(self.device, DEVICE_IFACE, {'ServicesResolved': dbus.Boolean(True, variant_level=1)})
        return False

    def drop_link(self):
        '''The link is gone (out of range, roller off): what bluetoothd does.'''
        if not self.connected:
            return
        self.connected = False
        self.streaming = False     # PROTOCOL.md: a new link starts idle
        if self.state == proto.STATE_ROLLING:
            self.state = proto.STATE_IDLE
        self.indication_pending = False
        if self.resolve_source:
            GLib.source_remove(self.resolve_source)
            self.resolve_source = 0
        # device.c device_remove_connection: ServicesResolved, then Connected;
        # gdbus sends both in one PropertiesChanged.
        _set_props(self.device, DEVICE_IFACE, {
            'ServicesResolved': dbus.Boolean(False, variant_level=1),
            'Connected': dbus.Boolean(False, variant_level=1)})
        if self.flap_gatt:
            self.unexport_gatt()
            self.handle_base += 0x40   # rediscovered under other handles

    def layout(self):
        b = self.handle_base
        return [
            (proto.UUID_ROLLER_SERVICE, b, [
                (proto.UUID_ROLL_MEASUREMENT, b + 1, ['notify']),
                (proto.UUID_HEAD_INFO, b + 4, ['read']),
                (proto.UUID_CONTROL_POINT, b + 6, ['write', 'indicate']),
                (proto.UUID_STATUS, b + 9, ['read', 'notify']),
            ]),
            (proto.UUID_BATTERY_SERVICE, b + 0x10, [
                (proto.UUID_BATTERY_LEVEL, b + 0x11, ['read', 'notify']),
            ]),
            (proto.UUID_DEVICE_INFO_SERVICE, b + 0x20, [
                (proto.UUID_MANUFACTURER_NAME, b + 0x21, ['read']),
                (proto.UUID_MODEL_NUMBER, b + 0x23, ['read']),
                (proto.UUID_SERIAL_NUMBER, b + 0x25, ['read']),
                (proto.UUID_FIRMWARE_REVISION, b + 0x27, ['read']),
            ]),
        ]

    def export_gatt(self):
        manager = _manager()
        for svc_uuid, svc_handle, chrcs in self.layout():
            svc_path = f'{self.path}/service{svc_handle:04x}'
            manager.AddObject(svc_path, SERVICE_IFACE, {
                'UUID': dbus.String(svc_uuid, variant_level=1),
                'Device': dbus.ObjectPath(self.path, variant_level=1),
                'Primary': dbus.Boolean(True, variant_level=1),
                'Includes': dbus.Array([], signature='o', variant_level=1),
                'Handle': dbus.UInt16(svc_handle, variant_level=1),
            }, [])
            _interfaces_added(svc_path)
            for uuid, decl, flags in chrcs:
                path = f'{svc_path}/char{decl:04x}'
                props = {
                    'UUID': dbus.String(uuid, variant_level=1),
                    'Service': dbus.ObjectPath(svc_path, variant_level=1),
                    'Value': _bytes(b'', 1),
                    'Flags': dbus.Array(flags, signature='s', variant_level=1),
                    'Handle': dbus.UInt16(decl + 1, variant_level=1),
                    'MTU': dbus.UInt16(247, variant_level=1),
                }
                if 'notify' in flags or 'indicate' in flags:
                    props['Notifying'] = dbus.Boolean(False, variant_level=1)
                if 'notify' in flags:
                    props['NotifyAcquired'] = dbus.Boolean(False, variant_level=1)
                manager.AddObject(path, CHRC_IFACE, props, [
                    ('ReadValue', 'a{sv}', 'ay', _fn(self._m_read)),
                    ('WriteValue', 'aya{sv}', '', _fn(self._m_write)),
                    ('StartNotify', '', '', _fn(self._m_start_notify)),
                    ('StopNotify', '', '', _fn(self._m_stop_notify)),
                    ('AcquireNotify', 'a{sv}', 'hq', _fn(self._m_acquire)),
                    ('AcquireWrite', 'a{sv}', 'hq', _fn(self._m_acquire)),
                ])
                self.chrcs[uuid] = path
                self.chrc_flags[path] = flags
                _interfaces_added(path)
                if 'notify' in flags or 'indicate' in flags:
                    desc = f'{path}/desc{decl + 2:04x}'
                    manager.AddObject(desc, DESC_IFACE, {
                        'UUID': dbus.String(proto.UUID_CCCD, variant_level=1),
                        'Characteristic': dbus.ObjectPath(path, variant_level=1),
                        'Value': _bytes(b'', 1),
                        'Flags': dbus.Array([], signature='s', variant_level=1),
                        'Handle': dbus.UInt16(decl + 2, variant_level=1),
                    }, [
                        ('ReadValue', 'a{sv}', 'ay', 'ret = dbus.Array([0, 0], signature="y")'),
                        ('WriteValue', 'aya{sv}', '',
                         'raise dbus.exceptions.DBusException("Write not permitted", '
                         'name="org.bluez.Error.NotPermitted")'),
                    ])
                    _interfaces_added(desc)
        self.exported = True

    def gatt_paths(self):
        prefix = self.path + '/'
        return sorted((p for p in mockobject.objects if p.startswith(prefix)),
                      key=lambda p: -p.count('/'))

    def unexport_gatt(self):
        for path in self.gatt_paths():   # descriptors, characteristics, services
            _remove_object(path)
        self.chrcs = {}
        self.chrc_flags = {}
        self.exported = False

    def chrc(self, uuid):
        return mockobject.objects[self.chrcs[uuid]]

    def notifying(self, uuid):
        path = self.chrcs.get(uuid)
        return bool(path and mockobject.objects[path].props[CHRC_IFACE].get('Notifying'))

    def notify(self, uuid, value):
        '''The roller sends a notification/indication: bluetoothd updates the
        cached Value and emits PropertiesChanged.'''
        obj = self.chrc(uuid)
        _set_props(obj, CHRC_IFACE, {'Value': _bytes(value, 1)})

    # firmware side

    def value_for(self, uuid):
        if uuid == proto.UUID_HEAD_INFO:
            return self.head_info
        if uuid == proto.UUID_STATUS:
            return proto.encode_status(self.state, len(self.stored), self.status_flags)
        if uuid == proto.UUID_BATTERY_LEVEL:
            return bytes([self.battery])
        if uuid in self.strings:
            return self.strings[uuid].encode('utf-8')
        raise _error('NotPermitted', 'Read not permitted')

    def _check_link(self, obj):
        if not self.connected:
            raise _error('Failed', 'Not connected')

    def _m_read(self, obj, options):
        self._check_link(obj)
        if 'read' not in self.chrc_flags.get(obj.path, []):
            raise _error('NotPermitted', 'Read not permitted')
        uuid = str(obj.props[CHRC_IFACE]['UUID'])
        value = self.value_for(uuid)
        offset = int(options.get('offset', 0))
        if offset > len(value):
            raise _error('InvalidOffset', 'Invalid offset')
        _set_props(obj, CHRC_IFACE, {'Value': _bytes(value, 1)})
        return _bytes(value[offset:])

    def _m_write(self, obj, value, options):
        self._check_link(obj)
        if 'write' not in self.chrc_flags.get(obj.path, []):
            raise _error('NotPermitted', 'Write not permitted')
        value = bytes(value)
        wtype = str(options.get('type', ''))
        self.control_writes.append((time.time(), wtype, value))
        if wtype not in ('', 'request'):
            self.violations.append(f'control point written with type {wtype!r}, not "request"')
        if not self.notifying(proto.UUID_CONTROL_POINT):
            self.violations.append(f'control point write {value.hex()} before StartNotify on it: '
                                   'no indication can come back')
        if self.indication_pending:
            self.violations.append(f'control point write {value.hex()} while the previous '
                                   'request is unanswered (PROTOCOL.md: one at a time)')
            self._later(self._indicate, value[0] if value else 0, proto.RESULT_BUSY)
            return
        try:
            op, arg = proto.decode_control(value)
        except ValueError as e:
            self.violations.append(f'malformed control point request: {e}')
            op = value[0] if value else 0
            known = op in proto.REQUEST_LENGTHS
            self._later(self._indicate, op,
                        proto.RESULT_INVALID_PARAMETER if known else proto.RESULT_UNSUPPORTED)
            return
        self.indication_pending = True
        self._later(self._run_request, op, arg)

    def _later(self, func, *args):
        def run():
            func(*args)
            return False
        GLib.timeout_add(PEER_DELAY_MS, run)

    def _indicate(self, op, result):
        self.indication_pending = False
        if self.connected and self.notifying(proto.UUID_CONTROL_POINT):
            self.notify(proto.UUID_CONTROL_POINT, proto.encode_response(op, result))

    def _run_request(self, op, arg):
        if not self.connected:
            self.indication_pending = False
            return
        if op == proto.OP_SET_TIME:
            self.clock_offset_ms = arg - int(time.time() * 1000)
        elif op == proto.OP_START_STREAM:
            if arg == 0:
                self._indicate(op, proto.RESULT_INVALID_PARAMETER)
                return
            self.streaming = True
            self.rate_hz = arg
            self.state = proto.STATE_ROLLING
        elif op == proto.OP_STOP_STREAM:
            self.streaming = False
            self.state = proto.STATE_IDLE
        elif op == proto.OP_REQUEST_HISTORY:
            if self.notifying(proto.UUID_ROLL_MEASUREMENT):
                for frame in self.stored:
                    self.notify(proto.UUID_ROLL_MEASUREMENT,
                                proto.with_flags(frame, frame[1] | proto.FLAG_HISTORY))
            elif self.stored:
                self.violations.append('REQUEST_HISTORY without notifications on Roll Measurement')
        elif op == proto.OP_ACK:
            for i, frame in enumerate(self.stored):
                if proto.frame_seq(frame) == arg:
                    self.erased.update(proto.frame_seq(f) for f in self.stored[:i + 1])
                    del self.stored[:i + 1]
                    break
            else:
                # An ACK of a frame already erased is a no-op for the
                # firmware (PROTOCOL.md): it crossed a replay of frames that
                # an earlier ACK then covered, and the receiver owes an ACK
                # for every frame sent again. Only a seq never stored is
                # the daemon's mistake.
                if arg not in self.erased:
                    self.unknown_acks.append(arg)
        self._indicate(op, proto.RESULT_OK)

    def _m_start_notify(self, obj):
        flags = self.chrc_flags.get(obj.path, [])
        if 'notify' not in flags and 'indicate' not in flags:
            raise _error('NotSupported', 'Operation is not supported')
        if not obj.props[CHRC_IFACE].get('Notifying'):
            _set_props(obj, CHRC_IFACE, {'Notifying': dbus.Boolean(True, variant_level=1)})

    def _m_stop_notify(self, obj):
        if not obj.props[CHRC_IFACE].get('Notifying'):
            raise _error('Failed', 'No notify session started')
        _set_props(obj, CHRC_IFACE, {'Notifying': dbus.Boolean(False, variant_level=1)})

    def _m_acquire(self, obj, options):
        raise _error('NotSupported', 'Operation is not supported')

    # Device1 overrides

    def _take_connect_error(self):
        if self.connect_errors:
            name, message = self.connect_errors.pop(0)
            raise dbus.exceptions.DBusException(message, name=name)

    def m_connect(self, dev):
        self._take_connect_error()
        self.set_connected()

    def m_disconnect(self, dev):
        if not self.connected:
            raise _error('NotConnected', 'Not Connected')
        self.drop_link()

    def m_pair(self, dev):
        agents = mockobject.objects['/org/bluez']
        if self.require_agent and not agents.agent_paths:
            raise _error('AuthenticationRejected', 'No agent available for pairing')
        if dev.paired:
            raise _error('AlreadyExists', 'Already Exists')
        if self.pair_connects:
            self._take_connect_error()
            self.set_connected()
        dev.paired = True
        _set_props(dev, DEVICE_IFACE, {'Paired': dbus.Boolean(True, variant_level=1),
                                       'Bonded': dbus.Boolean(True, variant_level=1)})

    # test control

    def m_produce(self, dev, frame, store):
        '''The roller made a frame: it keeps it until acked (when store) and
        sends it live when it can. Returns whether it goes out live; the test
        then emits the notification with dbusmock's EmitSignal.'''
        if store:
            self.stored.append(bytes(frame))
        return dbus.Boolean(self.connected and self.streaming
                            and self.notifying(proto.UUID_ROLL_MEASUREMENT))

    def m_info(self, dev):
        chrcs = {uuid: dbus.ObjectPath(p) for uuid, p in self.chrcs.items()}
        return dbus.Dictionary({
            'Connected': dbus.Boolean(self.connected, variant_level=1),
            'Exported': dbus.Boolean(self.exported, variant_level=1),
            'Streaming': dbus.Boolean(self.streaming, variant_level=1),
            'RateHz': dbus.Byte(self.rate_hz, variant_level=1),
            'ClockSet': dbus.Boolean(self.clock_offset_ms is not None, variant_level=1),
            'Stored': dbus.UInt32(len(self.stored), variant_level=1),
            'Characteristics': dbus.Dictionary(chrcs, signature='so', variant_level=1),
            'Violations': dbus.Array(self.violations, signature='s', variant_level=1),
            'UnknownAcks': dbus.Array(self.unknown_acks, signature='q', variant_level=1),
        }, signature='sv')

    def m_stored(self, dev):
        return dbus.Array([_bytes(f) for f in self.stored], signature='ay')

    def m_control_writes(self, dev):
        return dbus.Array([dbus.Struct((dbus.Double(t), dbus.String(w), _bytes(v)), signature='dsay')
                           for t, w, v in self.control_writes], signature='(dsay)')

    def m_set_connect_errors(self, dev, errors):
        self.connect_errors = [(str(n), str(m)) for n, m in errors]

    def m_set_state(self, dev, state, flags):
        self.state = int(state)
        self.status_flags = int(flags)
        if self.connected and self.notifying(proto.UUID_STATUS):
            self.notify(proto.UUID_STATUS, self.value_for(proto.UUID_STATUS))

    def m_set_flap_gatt(self, dev, flap):
        self.flap_gatt = bool(flap)

    def m_drop_link(self, dev):
        self.drop_link()


def _fix_device_types(device, options):
    '''bluez5's AddDevice declares these as arrays of dicts / of arrays.'''
    props = device.props[DEVICE_IFACE]
    props['ManufacturerData'] = dbus.Dictionary({}, signature='qv', variant_level=1)
    props['ServiceData'] = dbus.Dictionary({}, signature='sv', variant_level=1)
    props['AdvertisingFlags'] = dbus.Array([dbus.Byte(0x06)], signature='y', variant_level=1)
    props['AdvertisingData'] = dbus.Dictionary({}, signature='yv', variant_level=1)
    props['AddressType'] = dbus.String(str(options.get('AddressType', 'public')), variant_level=1)
    props['UUIDs'] = dbus.Array([proto.UUID_ROLLER_SERVICE], signature='s', variant_level=1)
    props['Appearance'] = dbus.UInt16(0x0540, variant_level=1)   # generic sensor
    props['Bonded'] = dbus.Boolean(bool(options.get('Paired', False)), variant_level=1)
    props['Paired'] = dbus.Boolean(bool(options.get('Paired', False)), variant_level=1)
    props['Trusted'] = dbus.Boolean(bool(options.get('Trusted', False)), variant_level=1)
    props['RSSI'] = dbus.Int16(-58, variant_level=1)
    device.paired = bool(options.get('Paired', False))


# Adapter1 overrides

DISCOVERY_FILTER_KEYS = {'UUIDs', 'RSSI', 'Pathloss', 'Transport', 'DuplicateData',
                         'Discoverable', 'Pattern'}


def _set_discovery_filter(adapter, flt):
    for key in flt:
        if key not in DISCOVERY_FILTER_KEYS:
            raise _error('InvalidArguments', f'Invalid arguments in method call: {key}')
    if 'Transport' in flt and str(flt['Transport']) not in ('auto', 'bredr', 'le'):
        raise _error('InvalidArguments', 'Invalid arguments in method call')
    adapter.discovery_filter = {str(k): v for k, v in flt.items()}


def _start_discovery(adapter):
    props = adapter.props[ADAPTER_IFACE]
    if not props['Powered']:
        raise _error('NotReady', 'Resource Not Ready')
    if not props['Discovering']:
        _set_props(adapter, ADAPTER_IFACE, {'Discovering': dbus.Boolean(True, variant_level=1)})
    wanted = [str(u).lower() for u in getattr(adapter, 'discovery_filter', {}).get('UUIDs', [])]
    for roller in ROLLERS.values():
        if roller.adapter_path != adapter.path or roller.connected:
            continue
        if wanted and proto.UUID_ROLLER_SERVICE not in wanted:
            continue
        # A device already known is reported again through its RSSI.
        _set_props(roller.device, DEVICE_IFACE, {'RSSI': dbus.Int16(-57, variant_level=1)})


def _stop_discovery(adapter):
    if not adapter.props[ADAPTER_IFACE]['Discovering']:
        raise _error('Failed', 'No discovery started')
    _set_props(adapter, ADAPTER_IFACE, {'Discovering': dbus.Boolean(False, variant_level=1)})


def _remove_device(adapter, path):
    path = str(path)
    if path not in mockobject.objects or not path.startswith(adapter.path + '/'):
        raise _error('DoesNotExist', 'Does Not Exist')
    roller = ROLLERS.pop(path, None)
    if roller is not None:
        roller.connected = False
        roller.unexport_gatt()
    _remove_object(path)


def _override_adapter(adapter):
    if getattr(adapter, 'roller_overrides', False):
        return
    adapter.roller_overrides = True
    adapter.discovery_filter = {}
    adapter.AddMethods(ADAPTER_IFACE, [
        ('SetDiscoveryFilter', 'a{sv}', '', _set_discovery_filter),
        ('StartDiscovery', '', '', _start_discovery),
        ('StopDiscovery', '', '', _stop_discovery),
        ('RemoveDevice', 'o', '', _remove_device),
    ])


ROLLERS = {}


def add_roller(mock, adapter_name, address, options):
    '''AddDevice + the corrections + the roller's overrides and controls.'''
    options = dict(options)
    adapter_path = '/org/bluez/' + adapter_name
    path = bluez5.AddDevice(mock, adapter_name, address, str(options.get('Name', 'DermaRoller')))
    device = mockobject.objects[path]
    _fix_device_types(device, options)
    _override_adapter(mockobject.objects[adapter_path])
    roller = Roller(device, adapter_path, options)
    ROLLERS[path] = roller
    device.AddMethods(DEVICE_IFACE, [
        ('Pair', '', '', _fn(roller.m_pair)),
        ('Connect', '', '', _fn(roller.m_connect)),
        ('Disconnect', '', '', _fn(roller.m_disconnect)),
    ])
    _add_control_methods(device, ROLLER_IFACE, [
        ('Produce', 'ayb', 'b', _fn(roller.m_produce)),
        ('Info', '', 'a{sv}', _fn(roller.m_info)),
        ('Stored', '', 'aay', _fn(roller.m_stored)),
        ('ControlWrites', '', 'a(dsay)', _fn(roller.m_control_writes)),
        ('SetConnectErrors', 'a(ss)', '', _fn(roller.m_set_connect_errors)),
        ('SetState', 'yy', '', _fn(roller.m_set_state)),
        ('SetFlapGatt', 'b', '', _fn(roller.m_set_flap_gatt)),
        ('DropLink', '', '', _fn(roller.m_drop_link)),
    ])
    return dbus.ObjectPath(path)


def client_gone(mock):
    '''What bluetoothd does when its only D-Bus client leaves the bus
    (gatt-client.c notify_client_disconnect, agent.c agent_disconnect,
    adapter.c discovery_disconnect): notify sessions, the agent and the
    discovery session of that client end. The test calls this after it
    killed the daemon, since dbusmock cannot see who called StartNotify.'''
    for roller in ROLLERS.values():
        for path in list(roller.chrcs.values()):
            obj = mockobject.objects[path]
            if obj.props[CHRC_IFACE].get('Notifying'):
                _set_props(obj, CHRC_IFACE, {'Notifying': dbus.Boolean(False, variant_level=1)})
    agents = mockobject.objects['/org/bluez']
    agents.agent_paths = []
    agents.capabilities = {}
    agents.default_agent = None
    for path, obj in list(mockobject.objects.items()):
        if ADAPTER_IFACE in obj.props and obj.props[ADAPTER_IFACE].get('Discovering'):
            _set_props(obj, ADAPTER_IFACE, {'Discovering': dbus.Boolean(False, variant_level=1)})


def claim_bus_name(mock):
    '''Publish everything as org.bluez (bluetoothd is "up" from now on).'''
    if getattr(mock, 'bluez_bus_name', None) is None:
        mock.bluez_bus_name = dbus.service.BusName(BLUEZ_NAME, mock.bus_name.get_bus(),
                                                   do_not_queue=True)


def agents(mock):
    bz = mockobject.objects['/org/bluez']
    return dbus.Array([dbus.Struct((dbus.ObjectPath(p), dbus.String(bz.capabilities.get(str(p), ''))),
                                   signature='os') for p in bz.agent_paths], signature='(os)'), \
        dbus.String(bz.default_agent or '')


def register_agent(manager, agent_path, capability):
    '''AgentManager1.RegisterAgent as bluetoothd does it (doc/agent-api.txt,
    src/agent.c): the agent is registered, not made the default; only
    RequestDefaultAgent does that. dbusmock's bluez5 makes the first agent
    the default, which would hide a client that relies on being default.'''
    default = manager.default_agent
    bluez5.RegisterAgent(manager, agent_path, capability)   # its errors are bluetoothd's
    manager.default_agent = default


def load(mock, parameters):
    bluez5.load(mock, parameters)
    mockobject.objects['/org/bluez'].AddMethods(bluez5.AGENT_MANAGER_IFACE, [
        ('RegisterAgent', 'os', '', register_agent),
    ])
    _add_control_methods(mock, CONTROL_IFACE, [
        ('ClaimBusName', '', '', claim_bus_name),
        ('AddRoller', 'ssa{sv}', 'o', add_roller),
        ('ClientGone', '', '', client_gone),
        ('Agents', '', 'a(os)s', agents),
    ])
