#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench-peer-bleak: the peer scripts/bench measures dermarolld against.

What a new user would write with Debian's python3-bleak to keep a roller's
samples: find the roller, connect, StartNotify on Roll Measurement (and on
the Control Point for its indications), START_STREAM at 100 Hz, decode
each frame with struct as protocol/PROTOCOL.md lays it out, one row per
frame into SQLite (WAL, synchronous=FULL: durable as the daemon's
commits), a commit every 250 ms and then the ACK of the last committed seq
so that the roller keeps streaming. It runs until SIGTERM or --duration.

bleak talks to bluetoothd on the system bus: the benchmark points
DBUS_SYSTEM_BUS_ADDRESS at the roller emulator's private bus. Prints
"STREAMING" once the first frame is in, and on exit "frames N samples M".
"""
import argparse
import asyncio
import signal
import sqlite3
import struct
import sys
import time

from bleak import BleakClient, BleakScanner

ROLL_MEASUREMENT = 'd3a70002-6b1c-4f5e-9a21-0c8e5f3b7a10'
CONTROL_POINT = 'd3a70004-6b1c-4f5e-9a21-0c8e5f3b7a10'
HEADER = struct.Struct('<BBHQB')     # version, flags, seq, t0_ms, n
SAMPLE_V1 = struct.Struct('<HIHB')   # dt_ms, ticks, force_mN, zone
SAMPLE_V2 = struct.Struct('<HIHBB')  # ... and the motion byte
OP_START_STREAM = 0x02
OP_ACK = 0x05
COMMIT_S = 0.25


class Peer:
    def __init__(self, db_path):
        self.db = sqlite3.connect(db_path, isolation_level=None)
        self.db.execute('PRAGMA journal_mode=WAL')
        self.db.execute('PRAGMA synchronous=FULL')
        self.db.execute('CREATE TABLE IF NOT EXISTS frames (seq INTEGER, t0_ms INTEGER, '
                        'n INTEGER, max_force_mn INTEGER, samples BLOB)')
        self.db.execute('BEGIN')
        self.pending_seq = None   # last seq written in the open transaction
        self.frames = 0
        self.samples = 0
        self.first = asyncio.Event()

    def on_frame(self, _char, data):
        version, _flags, seq, t0_ms, n = HEADER.unpack_from(data, 0)
        sample = SAMPLE_V2 if version == 2 else SAMPLE_V1
        max_force = 0
        for i in range(n):
            fields = sample.unpack_from(data, HEADER.size + i * sample.size)
            if fields[2] != 0xFFFF and fields[2] > max_force:
                max_force = fields[2]
        self.db.execute('INSERT INTO frames VALUES (?, ?, ?, ?, ?)',
                        (seq, t0_ms, n, max_force, bytes(data[HEADER.size:])))
        self.pending_seq = seq
        self.frames += 1
        self.samples += n
        self.first.set()

    def commit(self):
        '''The seq to acknowledge: what is now durably stored.'''
        seq = self.pending_seq
        self.db.execute('COMMIT')
        self.db.execute('BEGIN')
        self.pending_seq = None
        return seq


async def run(opts):
    device = await BleakScanner.find_device_by_address(opts.address, timeout=20)
    if device is None:
        print(f'bench-peer-bleak: {opts.address} not found', file=sys.stderr)
        return 1
    peer = Peer(opts.db)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with BleakClient(device) as client:
        await client.start_notify(CONTROL_POINT, lambda _c, _d: None)
        await client.start_notify(ROLL_MEASUREMENT, peer.on_frame)
        await client.write_gatt_char(CONTROL_POINT, bytes([OP_START_STREAM, 100]), response=True)
        await peer.first.wait()
        print('STREAMING', flush=True)
        end = time.monotonic() + opts.duration if opts.duration > 0 else None
        while not stop.is_set() and (end is None or time.monotonic() < end):
            try:
                await asyncio.wait_for(stop.wait(), COMMIT_S)
            except asyncio.TimeoutError:
                pass
            seq = peer.commit()
            if seq is not None:
                await client.write_gatt_char(CONTROL_POINT, struct.pack('<BH', OP_ACK, seq),
                                             response=True)
        peer.commit()
    print(f'frames {peer.frames} samples {peer.samples}', flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('address')
    ap.add_argument('db')
    ap.add_argument('--duration', type=float, default=0, help='seconds (0: until SIGTERM)')
    return asyncio.run(run(ap.parse_args()))


if __name__ == '__main__':
    sys.exit(main())
