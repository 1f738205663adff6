#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''Renders the face coverage map and checks what a person would see: the
fill colour at each zone's probe point (a point inside the zone, clear of
its label) against the documented colour scale, the hatching of an
excluded zone and the grey of a zone that is not configured.

Usage: face-map-render.py FACE_MAP_SAMPLE [RSVG_CONVERT]
Prints TAP. Needs rsvg-convert (Debian librsvg2-bin); PNGs are decoded here
with the standard library (zlib, struct), so nothing else is needed.

The colour scale is written down here again on purpose, from face-map.h's
documentation, so a change to the C code that the legend and documentation
do not follow fails here.
'''

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

# face-map.h: 0 % #e3a69e, 50 % #f2d57e, 100 % #3fa765, linear in sRGB
STOPS = [(0.0, (0xe3, 0xa6, 0x9e)), (0.5, (0xf2, 0xd5, 0x7e)), (1.0, (0x3f, 0xa7, 0x65))]
UNCONFIGURED = (0xe4, 0xe4, 0xe4)
TOLERANCE = 2   # per channel: rounding in the scale and in the renderer


def scale_colour(coverage):
    c = min(1.0, max(0.0, coverage))
    for (a_at, a), (b_at, b) in zip(STOPS, STOPS[1:]):
        if c <= b_at:
            t = (c - a_at) / (b_at - a_at)
            return tuple(int(round(a[k] + t * (b[k] - a[k]))) for k in range(3))
    return STOPS[-1][1]


def read_png(path):
    '''(width, height, rows of (r, g, b, a) tuples) of an 8-bit, non-interlaced
    RGB or RGBA PNG, which is what rsvg-convert writes.'''
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError(f'{path}: not a PNG')
    pos = 8
    idat = b''
    width = height = channels = None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b'IHDR':
            width, height, depth, colour, _, _, interlace = struct.unpack('>IIBBBBB', body)
            if depth != 8 or interlace != 0 or colour not in (2, 6):
                raise ValueError(f'{path}: unsupported PNG (depth {depth}, colour type {colour}, '
                                 f'interlace {interlace})')
            channels = 4 if colour == 6 else 3
        elif kind == b'IDAT':
            idat += body
        elif kind == b'IEND':
            break
    raw = zlib.decompress(idat)
    stride = width * channels
    rows = []
    prev = bytearray(stride)
    i = 0
    for _ in range(height):
        filt = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = prev[x]
            up_left = prev[x - channels] if x >= channels else 0
            if filt == 1:
                line[x] = (line[x] + left) & 0xff
            elif filt == 2:
                line[x] = (line[x] + up) & 0xff
            elif filt == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xff
            elif filt == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else up_left)
                line[x] = (line[x] + pred) & 0xff
            elif filt != 0:
                raise ValueError(f'{path}: bad filter {filt}')
        rows.append([tuple(line[x:x + channels]) + ((255,) if channels == 3 else ())
                     for x in range(0, stride, channels)])
        prev = line
    return width, height, rows


def close(a, b, tol=TOLERANCE):
    return all(abs(x - y) <= tol for x, y in zip(a, b))


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, ok, what, detail=''):
        self.n += 1
        if not ok:
            self.failed += 1
        print(f'{"ok" if ok else "not ok"} {self.n} - {what}')
        if not ok and detail:
            for line in detail.splitlines():
                print(f'# {line}')
        sys.stdout.flush()


def render(sample, rsvg, scenario, tmp, tap):
    svg = os.path.join(tmp, scenario + '.svg')
    png = os.path.join(tmp, scenario + '.png')
    out = subprocess.run([sample, scenario, svg], check=True, capture_output=True, text=True).stdout
    probes = []
    for line in out.splitlines():
        name, x, y, state, coverage = line.split()
        probes.append((name, int(x), int(y), state, float(coverage)))
    # 1:1, so SVG user units are pixels and the probes are where they say.
    subprocess.run([rsvg, '--zoom=1', '--format=png', '--output', png, svg], check=True)
    width, height, rows = read_png(png)
    tap.check((width, height) == (940, 880), f'{scenario}: rendered at 940 × 880',
              f'got {width} × {height}')
    return probes, rows


def main():
    if len(sys.argv) < 2:
        print('usage: face-map-render.py FACE_MAP_SAMPLE [RSVG_CONVERT]', file=sys.stderr)
        return 2
    sample = sys.argv[1]
    rsvg = sys.argv[2] if len(sys.argv) > 2 else shutil.which('rsvg-convert')
    if not rsvg:
        print('1..0 # SKIP rsvg-convert not found (Debian: librsvg2-bin)')
        return 0
    tap = Tap()
    with tempfile.TemporaryDirectory(prefix='face-map-') as tmp:
        # Every zone at its own coverage: its fill is the scale's colour.
        probes, rows = render(sample, rsvg, 'scale', tmp, tap)
        tap.check(len(probes) == 7, 'scale: seven zones on the face', str(probes))
        for name, x, y, state, coverage in probes:
            want = scale_colour(coverage)
            got = rows[y][x]
            tap.check(close(got[:3], want) and got[3] == 255,
                      f'scale: {name} at ({x}, {y}) is {coverage:.0%} on the scale',
                      f'pixel {got}, want {want}')
        # The distinct coverages must give distinguishable colours.
        seen = [rows[y][x][:3] for _, x, y, _, _ in probes]
        tap.check(len(set(seen)) == len(seen), 'scale: every coverage its own colour', str(seen))

        # Hatching over the excluded zone; grey for a zone not configured.
        probes, rows = render(sample, rsvg, 'excluded', tmp, tap)
        for name, x, y, state, coverage in probes:
            if state == 'fill':
                want = scale_colour(coverage)
                got = rows[y][x]
                tap.check(close(got[:3], want), f'excluded: {name} filled at {coverage:.0%}',
                          f'pixel {got}, want {want}')
            elif state == 'unconfigured':
                got = rows[y][x]
                tap.check(close(got[:3], UNCONFIGURED), f'excluded: {name} grey (not configured)',
                          f'pixel {got}, want {UNCONFIGURED}')
            else:
                # Within 10 px of the probe: the zone's own colour between the
                # stripes and clearly darker stripe pixels.
                fill = scale_colour(coverage)
                window = [rows[y + dy][x + dx][:3] for dy in range(-10, 11) for dx in range(-10, 11)]
                plain = [p for p in window if close(p, fill, 3)]
                dark = [p for p in window if sum(p) < sum(fill) - 120]
                tap.check(len(plain) > 40 and len(dark) > 40,
                          f'excluded: {name} hatched over its {coverage:.0%} colour',
                          f'{len(plain)} plain, {len(dark)} dark pixels of {len(window)}')
    print(f'1..{tap.n}')
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
