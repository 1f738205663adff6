#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''Renders the face coverage map and checks what a person would see: the
fill colour at each zone's probe point (a point inside the zone, clear of
its label) against the documented colour scale, the hatching of an
excluded zone and the grey of a zone that is not configured; the warning
colour of an over-treated zone and of an excluded zone that was rolled;
and the rendered colours as an eye without red-green vision sees them
(Machado et al. 2009, deuteranopia and protanopia at severity 1): the scale's
zones ordered by lightness alone, the warning far from all of them.

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

# face-map.h: 0 % #f9ec9c, 25 % #9fd6a8, 50 % #41b6c4, 75 % #2c7fb8,
# 100 % #2a3d8f, linear in sRGB; the warning colour #d55e00
STOPS = [(0.0, (0xf9, 0xec, 0x9c)), (0.25, (0x9f, 0xd6, 0xa8)), (0.5, (0x41, 0xb6, 0xc4)),
         (0.75, (0x2c, 0x7f, 0xb8)), (1.0, (0x2a, 0x3d, 0x8f))]
WARNING = (0xd5, 0x5e, 0x00)
UNCONFIGURED = (0xe4, 0xe4, 0xe4)
# Machado, Oliveira and Fernandes (2009), severity 1.0, on linear RGB.
VISIONS = {
    'deuteranopia': ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
    'protanopia': ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
}
MIN_L_PER_10_PERCENT = 3.5   # face-map.h's stated minimum
MIN_WARNING_DELTA_E = 30.0
TOLERANCE = 2   # per channel: rounding in the scale and in the renderer


def scale_colour(coverage):
    c = min(1.0, max(0.0, coverage))
    for (a_at, a), (b_at, b) in zip(STOPS, STOPS[1:]):
        if c <= b_at:
            t = (c - a_at) / (b_at - a_at)
            return tuple(int(round(a[k] + t * (b[k] - a[k]))) for k in range(3))
    return STOPS[-1][1]


def seen_lab(rgb, matrix):
    '''CIE L*a*b* (D65) of an 8-bit sRGB colour as seen through matrix.'''
    lin = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4
           for c in rgb]
    r, g, b = [min(1.0, max(0.0, sum(m * v for m, v in zip(row, lin)))) for row in matrix]
    xyz = (0.4124 * r + 0.3576 * g + 0.1805 * b, 0.2126 * r + 0.7152 * g + 0.0722 * b,
           0.0193 * r + 0.1192 * g + 0.9505 * b)
    f = [t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116
         for t in (xyz[0] / 0.95047, xyz[1], xyz[2] / 1.08883)]
    return (116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2]))


def delta_e(a, b, matrix):
    return sum((x - y) ** 2 for x, y in zip(seen_lab(a, matrix), seen_lab(b, matrix))) ** 0.5


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
        # As rendered, without red-green vision: lightness alone orders the
        # zones by coverage, at least MIN_L_PER_10_PERCENT per 10 %.
        by_coverage = sorted((coverage, rows[y][x][:3]) for _, x, y, _, coverage in probes)
        scale_pixels = [p for _, p in by_coverage]
        for vision, matrix in VISIONS.items():
            bad = []
            for (c1, p1), (c2, p2) in zip(by_coverage, by_coverage[1:]):
                drop = seen_lab(p1, matrix)[0] - seen_lab(p2, matrix)[0]
                if drop < MIN_L_PER_10_PERCENT * (c2 - c1) * 10:
                    bad.append(f'{c1:.0%} {p1} → {c2:.0%} {p2}: L* {drop:.1f} darker')
            tap.check(not bad, f'scale: {vision}: more coverage, darker, by lightness alone',
                      '\n'.join(bad))

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

        # The warning colour, dotted or hatched, where a zone went wrong;
        # far from every scale colour as rendered, in any vision.
        probes, rows = render(sample, rsvg, 'warnings', tmp, tap)
        states = sorted(state for _, _, _, state, _ in probes)
        tap.check('warning' in states and 'warning-hatched' in states,
                  'warnings: an over-treated and an excluded but rolled zone', str(states))
        for name, x, y, state, coverage in probes:
            window = [rows[y + dy][x + dx][:3] for dy in range(-10, 11) for dx in range(-10, 11)]
            if state.startswith('warning'):
                plain = [p for p in window if close(p, WARNING, 3)]
                dark = [p for p in window if sum(p) < sum(WARNING) - 100]
                tap.check(len(plain) > 40 and len(dark) > 20,
                          f'warnings: {name} in the warning colour with its pattern',
                          f'{len(plain)} plain, {len(dark)} dark pixels of {len(window)}')
                for vision, matrix in [('normal', ((1, 0, 0), (0, 1, 0), (0, 0, 1)))] + list(
                        VISIONS.items()):
                    nearest = min(delta_e(plain[0] if plain else WARNING, p, matrix)
                                  for p in scale_pixels + [UNCONFIGURED])
                    tap.check(nearest >= MIN_WARNING_DELTA_E,
                              f'warnings: {name}, {vision}: ΔE ≥ {MIN_WARNING_DELTA_E:.0f} from '
                              'every scale colour rendered', f'nearest ΔE {nearest:.1f}')
            elif state == 'fill':
                got = rows[y][x]
                want = scale_colour(coverage)
                tap.check(close(got[:3], want), f'warnings: {name} filled at {coverage:.0%}',
                          f'pixel {got}, want {want}')
    print(f'1..{tap.n}')
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
