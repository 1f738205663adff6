# SPDX-License-Identifier: LGPL-2.1-or-later
'''roller_protocol.py: the roller's GATT wire format (PROTOCOL.md, versions 1
and 2) in Python.

The one Python codec of the project: the integration tests, the dbusmock
roller, the emulator's and roller-sim's tests, scripts/roller-sim and
scripts/gen-trace.py all import it, so a change to PROTOCOL.md is made here
once. It mirrors protocol/roller-protocol.h; standard library only, nothing
here knows D-Bus. Everything is little-endian and packed with struct exactly
as the tables in PROTOCOL.md say.

Scripts find it next to themselves:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'protocol'))
'''

import struct

BASE = 'd3a7{:04x}-6b1c-4f5e-9a21-0c8e5f3b7a10'
UUID_ROLLER_SERVICE = BASE.format(0x0001)
UUID_ROLL_MEASUREMENT = BASE.format(0x0002)
UUID_HEAD_INFO = BASE.format(0x0003)
UUID_CONTROL_POINT = BASE.format(0x0004)
UUID_STATUS = BASE.format(0x0005)


def sig_uuid(short):
    '''A Bluetooth SIG 16-bit UUID in its 128-bit form.'''
    return f'0000{short:04x}-0000-1000-8000-00805f9b34fb'


UUID_GAP_SERVICE = sig_uuid(0x1800)
UUID_GATT_SERVICE = sig_uuid(0x1801)
UUID_BATTERY_SERVICE = sig_uuid(0x180F)
UUID_BATTERY_LEVEL = sig_uuid(0x2A19)
UUID_DEVICE_INFO_SERVICE = sig_uuid(0x180A)
UUID_MANUFACTURER_NAME = sig_uuid(0x2A29)
UUID_MODEL_NUMBER = sig_uuid(0x2A24)
UUID_SERIAL_NUMBER = sig_uuid(0x2A25)
UUID_FIRMWARE_REVISION = sig_uuid(0x2A26)
UUID_CCCD = sig_uuid(0x2902)

VERSION = 1
FLAG_HISTORY = 0x01
FLAG_CLOCK_UNSYNCED = 0x02
FORCE_SENSOR_FAULT = 0xFFFF
ZONE_UNKNOWN = 0xFF
VERSION_2 = 2                      # Roll Measurement with a motion byte a sample
MAX_SAMPLES = 25
V2_MAX_SAMPLES = 23
HEADER = struct.Struct('<BBHQB')   # version, flags, seq, t0_ms, n
SAMPLE = struct.Struct('<HIHB')    # dt_ms, ticks, force_mN, zone
SAMPLE_V2 = struct.Struct('<HIHBB')  # ... + motion (bits 0-1 direction)
DIRECTION_UNKNOWN = 0
DIRECTION_HORIZONTAL = 1
DIRECTION_VERTICAL = 2
DIRECTION_DIAGONAL = 3
DIRECTION_MASK = 0x03
DIRECTIONS = ['unknown', 'horizontal', 'vertical', 'diagonal']
HEAD_INFO = struct.Struct('<BHHHHHI')
STATUS = struct.Struct('<BBHB')
FRAME_HEADER_LEN = HEADER.size     # 13
SAMPLE_LEN = SAMPLE.size           # 9
SAMPLE_V2_LEN = SAMPLE_V2.size     # 10
FRAME_MAX_LEN = FRAME_HEADER_LEN + SAMPLE_V2_LEN * V2_MAX_SAMPLES   # 243, any version
HEAD_INFO_LEN = HEAD_INFO.size     # 15
STATUS_LEN = STATUS.size           # 5

OP_SET_TIME = 0x01
OP_START_STREAM = 0x02
OP_STOP_STREAM = 0x03
OP_REQUEST_HISTORY = 0x04
OP_ACK = 0x05
OP_RESPONSE = 0x80
REQUEST_LENGTHS = {OP_SET_TIME: 9, OP_START_STREAM: 2, OP_STOP_STREAM: 1,
                   OP_REQUEST_HISTORY: 1, OP_ACK: 3}

RESULT_OK = 0
RESULT_UNSUPPORTED = 1
RESULT_INVALID_PARAMETER = 2
RESULT_BUSY = 3

STATE_IDLE = 0
STATE_ROLLING = 1
STATE_CHARGING = 2
STATE_FAULT = 3
STATE_NAMES = ['idle', 'rolling', 'charging', 'fault']
STATUS_FLAG_HEAD_DETACHED = 0x01

ZONES = ['forehead', 'left-cheek', 'right-cheek', 'nose', 'upper-lip', 'chin', 'neck']


def encode_frame(seq, t0_ms, samples, flags=0, version=VERSION):
    '''One Roll Measurement notification: 13-byte header + 9 bytes a sample
    (version 2: 10 bytes, the last the motion byte).

    samples: (dt_ms, ticks, force_mN, zone) tuples, or (dt_ms, ticks,
    force_mN, zone, motion): motion is written in version 2 only (0 when
    missing) and dropped in version 1; dt_ms of the first is 0.
    No validation: the tests also build malformed frames with it.
    '''
    out = HEADER.pack(version, flags, seq & 0xFFFF, t0_ms, len(samples))
    if version == VERSION_2:
        return out + b''.join(SAMPLE_V2.pack(s[0], s[1] & 0xFFFFFFFF, s[2], s[3],
                                             s[4] if len(s) > 4 else 0) for s in samples)
    return out + b''.join(SAMPLE.pack(s[0], s[1] & 0xFFFFFFFF, s[2], s[3]) for s in samples)


def decode_frame(raw):
    '''Inverse of encode_frame; ValueError for what dr_frame_decode rejects.
    Samples are (dt_ms, ticks, force_mN, zone) in version 1 and (dt_ms,
    ticks, force_mN, zone, motion) in version 2.'''
    raw = bytes(raw)
    if len(raw) < HEADER.size:
        raise ValueError(f'truncated frame {raw.hex()}')
    version, flags, seq, t0, n = HEADER.unpack_from(raw, 0)
    if version == VERSION:
        sample, max_n = SAMPLE, MAX_SAMPLES
    elif version == VERSION_2:
        sample, max_n = SAMPLE_V2, V2_MAX_SAMPLES
    else:
        raise ValueError(f'malformed frame {raw.hex()}')
    if not 1 <= n <= max_n or len(raw) != HEADER.size + sample.size * n:
        raise ValueError(f'malformed frame {raw.hex()}')
    samples = [sample.unpack_from(raw, HEADER.size + sample.size * i) for i in range(n)]
    return {'version': version, 'flags': flags, 'seq': seq, 't0': t0, 'samples': samples}


def direction_of(motion):
    '''The stroke direction (DIRECTION_*) of a version 2 motion byte.'''
    return motion & DIRECTION_MASK


def frame_seq(raw):
    '''The seq of a frame, read from its header alone.'''
    return HEADER.unpack_from(raw, 0)[2]


def frame_key(raw):
    '''(t0, seq): how a frame is recognised when it arrives twice.'''
    _, _, seq, t0, _ = HEADER.unpack_from(raw, 0)
    return (t0, seq)


def with_flags(raw, flags):
    '''The same frame with its flags byte replaced (history replays).'''
    raw = bytes(raw)
    return raw[:1] + bytes([flags]) + raw[2:]


def encode_head_info(needle_length_um, needle_count, drum_diameter_10um, drum_width_10um,
                     ticks_per_rev, head_id, version=VERSION):
    return HEAD_INFO.pack(version, needle_length_um, needle_count, drum_diameter_10um,
                          drum_width_10um, ticks_per_rev, head_id)


def decode_head_info(raw):
    '''(version, needle_length_um, needle_count, drum_diameter_10um,
    drum_width_10um, ticks_per_rev, head_id); ValueError unless 15 bytes.'''
    raw = bytes(raw)
    if len(raw) != HEAD_INFO.size:
        raise ValueError(f'head info of {len(raw)} bytes')
    return HEAD_INFO.unpack(raw)


def encode_status(state, history_frames_pending, flags=0, version=VERSION):
    return STATUS.pack(version, state, min(history_frames_pending, 0xFFFF), flags)


def decode_status(raw):
    '''(version, state, history_frames_pending, flags); ValueError unless 5 bytes.'''
    raw = bytes(raw)
    if len(raw) != STATUS.size:
        raise ValueError(f'status of {len(raw)} bytes')
    return STATUS.unpack(raw)


def encode_control(opcode, *arg):
    '''A Control Point request as the daemon should write it.'''
    if opcode == OP_SET_TIME:
        return struct.pack('<BQ', opcode, arg[0])
    if opcode == OP_START_STREAM:
        return struct.pack('<BB', opcode, arg[0])
    if opcode == OP_ACK:
        return struct.pack('<BH', opcode, arg[0])
    return bytes([opcode])


def decode_control(raw):
    '''(opcode, argument or None) of a Control Point request; ValueError when malformed.'''
    raw = bytes(raw)
    if not raw:
        raise ValueError('empty control point request')
    op = raw[0]
    if op not in REQUEST_LENGTHS:
        raise ValueError(f'unknown opcode 0x{op:02x}')
    if len(raw) != REQUEST_LENGTHS[op]:
        raise ValueError(f'opcode 0x{op:02x} with {len(raw)} bytes')
    if op == OP_SET_TIME:
        return op, struct.unpack_from('<Q', raw, 1)[0]
    if op == OP_START_STREAM:
        return op, raw[1]
    if op == OP_ACK:
        return op, struct.unpack_from('<H', raw, 1)[0]
    return op, None


def encode_response(opcode, result):
    return bytes([OP_RESPONSE, opcode, result])


def decode_response(raw):
    '''(request_opcode, result) of a Control Point indication; ValueError when malformed.'''
    raw = bytes(raw)
    if len(raw) != 3 or raw[0] != OP_RESPONSE or raw[2] > RESULT_BUSY:
        raise ValueError(f'malformed control point response {raw.hex()}')
    return raw[1], raw[2]


class Head:
    '''A needle head, as Head Info describes it.'''

    def __init__(self, needle_length_um=500, needle_count=192, drum_diameter_10um=1900,
                 drum_width_10um=2000, ticks_per_rev=360, head_id=0xC0FFEE01):
        self.needle_length_um = needle_length_um
        self.needle_count = needle_count
        self.drum_diameter_10um = drum_diameter_10um
        self.drum_width_10um = drum_width_10um
        self.ticks_per_rev = ticks_per_rev
        self.head_id = head_id

    def encode(self):
        return encode_head_info(self.needle_length_um, self.needle_count, self.drum_diameter_10um,
                                self.drum_width_10um, self.ticks_per_rev, self.head_id)


class Stream:
    '''Generates a roller's frames the way its firmware would.

    Keeps the sample clock (ms), the cumulative tick counter and the frame
    counter; each call appends samples, and frames() cuts what is pending into
    frames of up to `per_frame` samples. Every sample is recorded in
    `self.samples` as (time_ms, ticks, force_mN, zone) for the expected-value
    arithmetic in the tests.
    '''

    def __init__(self, t0_ms, seq=0, ticks=0, period_ms=10, per_frame=10, flags=0,
                 version=VERSION):
        self.version = version
        self.t = t0_ms
        self.seq = seq
        self.ticks = ticks
        self.period_ms = period_ms
        self.per_frame = per_frame
        self.flags = flags
        self.samples = []
        self._pending = []   # (time_ms, ticks, force, zone, motion)
        self._first = True

    def add(self, count, force_mN, zone, ticks_per_sample=0, direction=DIRECTION_UNKNOWN):
        '''count samples at force_mN in zone; ticks advance before each sample
        except the stream's very first (the baseline). direction is sent in
        version 2 streams only.'''
        for _ in range(count):
            if self._first:
                self._first = False
            else:
                self.t += self.period_ms
                self.ticks = (self.ticks + ticks_per_sample) & 0xFFFFFFFF
            self._pending.append((self.t, self.ticks, force_mN, zone, direction))
            self.samples.append((self.t, self.ticks, force_mN, zone))
        return self

    def gap(self, ms):
        '''A pause: the next sample comes ms (instead of one period) later.'''
        self.t += ms - self.period_ms
        return self

    def frames(self):
        '''Cuts the pending samples into encoded frames; returns them.'''
        out = []
        per_frame = self.per_frame
        if self.version == VERSION_2:
            per_frame = min(per_frame, V2_MAX_SAMPLES)
        while self._pending:
            chunk, self._pending = self._pending[:per_frame], self._pending[per_frame:]
            t0 = chunk[0][0]
            samples = []
            prev = t0
            for (t, ticks, force, zone, motion) in chunk:
                samples.append((t - prev, ticks, force, zone, motion))
                prev = t
            out.append(encode_frame(self.seq, t0, samples, self.flags, self.version))
            self.seq = (self.seq + 1) & 0xFFFF
        return out
