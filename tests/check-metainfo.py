#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''check-metainfo.py: the AppStream metainfo as built names a homepage
and shows the README's pictures: each <screenshot> image is a file of
app/data/screenshots/ (by name, with its real size), every picture there
is one of them, and the README shows each. appstreamcli validate --no-net
checks the rest, without fetching anything.

Usage: check-metainfo.py METAINFO SCREENSHOTS_DIR README
'''
import os
import struct
import sys
import xml.etree.ElementTree as ET
from urllib.parse import urlparse


def png_size(path):
    with open(path, 'rb') as f:
        head = f.read(24)
    if head[:8] != b'\x89PNG\r\n\x1a\n' or head[12:16] != b'IHDR':
        raise ValueError(f'{path}: not a PNG')
    return struct.unpack('>II', head[16:24])


def main(metainfo, shots_dir, readme):
    root = ET.parse(metainfo).getroot()
    problems = []
    homepage = [u.text for u in root.findall('url') if u.get('type') == 'homepage']
    if not homepage or urlparse(homepage[0]).scheme != 'https':
        problems.append(f'no https homepage <url>: {homepage}')
    shown = []
    screenshots = root.findall('screenshots/screenshot')
    if [s.get('type') for s in screenshots].count('default') != 1:
        problems.append('not exactly one default screenshot')
    for shot in screenshots:
        if not (shot.findtext('caption') or '').strip():
            problems.append('a screenshot without a caption')
        for image in shot.findall('image'):
            name = os.path.basename(urlparse(image.text.strip()).path)
            path = os.path.join(shots_dir, name)
            shown.append(name)
            if not os.path.isfile(path):
                problems.append(f'{image.text.strip()}: no {path}')
                continue
            size = png_size(path)
            want = (int(image.get('width', 0)), int(image.get('height', 0)))
            if size != want:
                problems.append(f'{name}: {size[0]}x{size[1]}, the metainfo says '
                                f'{want[0]}x{want[1]}')
    with open(readme, encoding='utf-8') as f:
        text = f.read()
    for name in sorted(os.listdir(shots_dir)):
        if name.endswith('.png') and name not in shown:
            problems.append(f'{name}: in {shots_dir} but not among the screenshots')
    for name in shown:
        if f'app/data/screenshots/{name}' not in text:
            problems.append(f'{name}: not shown in the README')
    for p in problems:
        print(p)
    print(f'{len(shown)} screenshots, homepage {homepage[0] if homepage else None}')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:]))
