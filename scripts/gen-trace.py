#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# gen-trace.py: generates tests/data/session.trace, a recorded treatment
# session of the smart roller, and tests/data/session.expected, its ground
# truth. Plain python3, standard library only, deterministic (fixed seed, and
# only + - * / on floats, so no libm differences can change a byte).
#
# Usage:
#   scripts/gen-trace.py [DIR]          write DIR/session.trace and DIR/session.expected
#                                       (DIR defaults to tests/data)
#   scripts/gen-trace.py --check DIR    regenerate in memory, exit 1 unless both
#                                       files in DIR are byte-identical
#   --protocol-version 2                the same session from a version 2 roller:
#                                       23 samples a frame, each stretch of a zone
#                                       with its direction (horizontal, vertical,
#                                       diagonal); session.expected adds ticks by
#                                       direction per zone
#
# Trace format (all integers little-endian):
#   offset 0   8 bytes  magic "DRTRACE1"
#   offset 8   records, until the end of the file:
#                u16 length, then that many bytes: one GATT value as received
#   record 0   Head Info (15 bytes, PROTOCOL.md "Head Info")
#   record 1.. Roll Measurement notifications (PROTOCOL.md "Roll Measurement"),
#              in arrival order, exactly as received: malformed ones included
#
# The scripted session, 100 Hz samples, 25 per frame (4 notifications/s):
# a 0.5 mm head (192 needles, drum 15.00 mm x 20.00 mm, 64 ticks/rev) rolls
# the face zone by zone, two or three contact stretches per zone (horizontal,
# vertical, diagonal) with short lifts between and pauses of a few seconds
# between zones. Contact force 1.5-3.5 N with touch-down/lift-off ramps;
# lifted, the force sensor reads 0-0.12 N and the motion sensor reports no
# zone (0xFF). Planted on purpose:
#   - the tick counter starts 1500 ticks below 2^32, so it wraps on the forehead;
#   - seq wraps too (65535 -> 0), and the lost frame is the one with seq 0,
#     so the gap is 65535 -> 1: one frame, not 65534;
#   - one over-pressure episode on the left cheek: > 5.0 N for 600 ms;
#   - one sensor fault (force 0xFFFF) inside that episode;
#   - one frame never received (seq gap) on the forehead;
#   - one notification cut short (malformed: length mismatch) on the right
#     cheek, so its seq is missing for the engine too;
#   - one contact stretch the motion sensor could not place (zone 0xFF, the
#     jawline), which the engine attributes to "unassigned";
#   - the nose is rolled to over 2x its target (over-treatment);
#   - the neck is not rolled at all.
# The drum only turns between two contact samples of the same stretch, and not
# across the sensor-fault sample, so every engine reading of "which sample
# does a tick delta belong to" gives the same per-zone revolutions.
#
# session.expected (GKeyFile / INI) holds what the engine must report for this
# trace: counts, ticks per zone, peaks, and the times of the timed rules
# evaluated here on the delivered samples with the rules of issue 2.

import argparse
import os
import random
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "protocol"))
import roller_protocol as proto  # noqa: E402

SEED = 20240518
T0_MS = 1716064200000  # 2024-05-18 20:30:00 UTC
DT_MS = 10  # 100 Hz
SAMPLES_PER_FRAME = 25
VERSION = proto.VERSION  # --protocol-version
# Version 2: the nth stretch on a zone goes this way.
STRETCH_DIRECTIONS = [proto.DIRECTION_HORIZONTAL, proto.DIRECTION_VERTICAL, proto.DIRECTION_DIAGONAL]
TICKS_START = 2**32 - 1500

NEEDLE_UM = 500
NEEDLE_COUNT = 192
DRUM_DIAMETER_10UM = 1500
DRUM_WIDTH_10UM = 2000
TICKS_PER_REV = 64
HEAD_ID = 0x4D520117

FORCE_LIMIT_MN = 5000  # 0.5 mm needles
END_BELOW_MN = 4500  # 90 % of the limit
START_HOLD_MS = 150
END_HOLD_MS = 300
CONTACT_MN = 500
TARGET_PASSES = 6
OVER_FACTOR = 2

ZONE_UNKNOWN = 0xFF
ZONES = [  # id, name, area cm²
    (0, "forehead", 60.0),
    (1, "left-cheek", 40.0),
    (2, "right-cheek", 40.0),
    (3, "nose", 12.0),
    (4, "upper-lip", 8.0),
    (5, "chin", 18.0),
    (6, "neck", 110.0),
]
ZONE_NAME = {z[0]: z[1] for z in ZONES}
ZONE_NAME[ZONE_UNKNOWN] = "unassigned"
ZONE_AREA = {z[0]: z[2] for z in ZONES}

# (zone, ticks per contact stretch): the revolutions per zone are the test's
# known values (forehead 2560 ticks = 40 revolutions, ...).
SCRIPT = [
    (0, [854, 853, 853]),  # forehead: 40 rev
    (1, [555, 555, 554]),  # left-cheek: 26 rev, over-pressure in stretch 2
    (2, [427, 427, 426]),  # right-cheek: 20 rev, malformed frame in stretch 2
    (3, [342, 341, 341]),  # nose: 16 rev = 12.57 passes: over-treated
    (ZONE_UNKNOWN, [128]),  # jawline, not placed: 2 rev unassigned
    (4, [160, 160]),  # upper-lip: 5 rev
    (5, [256, 256, 256]),  # chin: 12 rev
]

MAGIC = b"DRTRACE1"


class Session:
    """The roller's truth: every sample it produced, in order."""

    def __init__(self, rng):
        self.rng = rng
        self.t = T0_MS
        self.ticks = TICKS_START  # unbounded here, wrapped when encoded
        self.samples = []  # [t_ms, ticks, force_mn, zone]
        self.motion = []  # per sample: the version 2 direction
        self.direction = proto.DIRECTION_UNKNOWN
        self.stretches = []  # (zone, index of first sample, index past last)
        self.episode = None  # (index of first sample > limit, index past last)
        self.fault = None  # index of the 0xFFFF sample

    def noise(self, amplitude):
        # roughly bell-shaped, in [-amplitude, amplitude]
        r = self.rng
        return amplitude * (r.random() + r.random() + r.random() - 1.5) / 1.5

    def add(self, force_mn, zone):
        self.samples.append([self.t, self.ticks, int(round(force_mn)), zone])
        self.motion.append(self.direction)
        self.t += DT_MS

    def pause(self, ms):
        for _ in range(ms // DT_MS):
            self.add(self.rng.random() * 120, ZONE_UNKNOWN)

    def stretch(self, zone, ticks, direction=proto.DIRECTION_UNKNOWN):
        first = len(self.samples)
        self.direction = direction
        base = 2000 + 1000 * self.rng.random()
        # touch-down: contact, the drum not turning yet
        self.add(950 + 100 * self.rng.random(), zone)
        self.add(1500 + 200 * self.rng.random(), zone)
        left = ticks
        while left > 0:
            length = min(left, 30 + int(30 * self.rng.random()))
            if left - length < 15:  # no stub strokes at the end
                length = left
            speed = 0.7 + 0.5 * self.rng.random()  # ticks per sample, ~1.4 rev/s
            steps = max(4, int(length / speed + 0.5))
            start = self.ticks
            for i in range(1, steps + 1):
                x = i / steps
                # smoothstep: the stroke starts and ends at rest
                self.ticks = start + int(length * (3 * x * x - 2 * x * x * x))
                bump = 400 * 4 * x * (1 - x)  # a little more force mid-stroke
                force = base + bump + self.noise(150)
                self.add(min(3500, max(1500, force)), zone)
            assert self.ticks == start + length
            left -= length
        # lift-off: still in contact, the drum at rest
        self.add(1500 + 200 * self.rng.random(), zone)
        self.add(950 + 100 * self.rng.random(), zone)
        self.direction = proto.DIRECTION_UNKNOWN
        self.stretches.append((zone, first, len(self.samples)))

    def stretch_index(self, zone, n):
        """Index in self.stretches of the nth stretch on zone."""
        return [k for k, st in enumerate(self.stretches) if st[0] == zone][n]

    def over_pressure(self, stretch_index):
        """Presses too hard for 600 ms in the middle of a stretch; one
        sensor fault falls inside."""
        zone, first, past = self.stretches[stretch_index]
        j = first + (past - first) * 2 // 5
        s = self.samples
        for k, f in enumerate((3600, 4300, 4800)):
            s[j + k][2] = f
        j += 3
        n = 600 // DT_MS
        for k in range(n):
            x = (k + 0.5) / n
            s[j + k][2] = int(round(5200 + 700 * 4 * x * (1 - x) + self.noise(60)))
        self.episode = (j, j + n)
        for k, f in enumerate((4800, 4100, 3500)):
            s[j + n + k][2] = f
        # the fault: no reading, and the drum holds still over it so its
        # ticks can be ignored or used alike
        self.fault = j + 7
        s[self.fault][2] = 0xFFFF
        s[self.fault][1] = s[self.fault - 1][1]


def build():
    rng = random.Random(SEED)
    ses = Session(rng)
    ses.pause(1500)
    for n_zone, (zone, stretch_ticks) in enumerate(SCRIPT):
        for i, ticks in enumerate(stretch_ticks):
            if i:
                ses.pause(400 + 20 * int(10 * rng.random()))
            ses.stretch(zone, ticks, STRETCH_DIRECTIONS[i] if VERSION == proto.VERSION_2 else 0)
        ses.pause(2000 + 100 * int(15 * rng.random()) if n_zone + 1 < len(SCRIPT) else 2000)
    ses.over_pressure(ses.stretch_index(1, 1))  # left-cheek, second stretch
    return ses


def frames_of(ses):
    """Cuts the samples into frames: [seq, [sample indexes]]; seq comes later."""
    out = []
    per_frame = SAMPLES_PER_FRAME if VERSION == proto.VERSION else proto.V2_MAX_SAMPLES
    for i in range(0, len(ses.samples), per_frame):
        out.append([0, list(range(i, min(i + per_frame, len(ses.samples))))])
    return out


def number_frames(frames, zero_at):
    """Numbers the frames so that frame zero_at gets seq 0."""
    for n, frame in enumerate(frames):
        frame[0] = (n - zero_at) & 0xFFFF


def encode_frame(ses, idx, seq):
    s = ses.samples
    samples = []
    prev = None
    for i in idx:
        t, ticks, force, zone = s[i]
        samples.append((0 if prev is None else t - prev, ticks, force, zone, ses.motion[i]))
        prev = t
    return proto.encode_frame(seq, s[idx[0]][0], samples, version=VERSION)


def pick_frame(ses, frames, stretch_index):
    """The middle frame of a stretch whose neighbours are all contact in it
    too and that stays clear of the episode and the fault."""
    zone, first, past = ses.stretches[stretch_index]
    avoid = set()
    if ses.episode:
        avoid.update(range(ses.episode[0] - 5, ses.episode[1] + 40))
    candidates = [
        k
        for k in range(1, len(frames) - 1)
        if all(first <= i < past and i not in avoid for f in frames[k - 1 : k + 2] for i in f[1])
    ]
    assert candidates, "stretch too short for a lost frame"
    return candidates[len(candidates) // 2]


def evaluate(ses, delivered):
    """The rules of issue 2 on the samples the engine gets to see."""
    exp = {}
    s = [ses.samples[i] for i in delivered]
    zone_ticks = {}
    zone_peak = {}
    contact = 0
    first_contact = last_contact = None
    stretch_starts = {}
    in_contact = False
    # pressure
    over_from = under_from = None
    episode = None
    episodes = []
    # over-treatment
    over_treated = {}
    prev_ticks = None
    for t, ticks, force, zone in s:
        delta = 0 if prev_ticks is None else (ticks - prev_ticks) & 0xFFFFFFFF
        prev_ticks = ticks
        if force == 0xFFFF:
            assert delta == 0
            continue
        if force >= CONTACT_MN:
            contact += 1
            if first_contact is None:
                first_contact = t
            last_contact = t
            if not in_contact:
                stretch_starts.setdefault(zone, []).append(t)
            in_contact = True
            zone_ticks[zone] = zone_ticks.get(zone, 0) + delta
            zone_peak[zone] = max(zone_peak.get(zone, 0), force)
            if zone != ZONE_UNKNOWN and zone not in over_treated:
                area = ZONE_AREA[zone]
                passes = zone_ticks[zone] / TICKS_PER_REV * area_per_rev() / area
                if passes >= OVER_FACTOR * TARGET_PASSES:
                    over_treated[zone] = t
                    # far from the edge, so float summation order can't matter
                    prev_passes = (zone_ticks[zone] - delta) / TICKS_PER_REV * area_per_rev() / area
                    assert passes - OVER_FACTOR * TARGET_PASSES > 1e-6
                    assert OVER_FACTOR * TARGET_PASSES - prev_passes > 1e-6
        else:
            assert delta == 0, "the drum turns only in contact"
            in_contact = False
        over_from = (over_from if over_from is not None else t) if force > FORCE_LIMIT_MN else None
        under_from = (under_from if under_from is not None else t) if force < END_BELOW_MN else None
        if episode is None:
            if over_from is not None and t - over_from >= START_HOLD_MS:
                episode = {"zone": zone, "start_ms": t, "start_force_mn": force, "peak_mn": force}
        else:
            episode["peak_mn"] = max(episode["peak_mn"], force)
            if under_from is not None and t - under_from >= END_HOLD_MS:
                episode["end_ms"] = t
                episodes.append(episode)
                episode = None
    assert episode is None
    exp["zone_ticks"] = zone_ticks
    # version 2: the same ticks by the direction of the sample they came with
    direction_ticks = {}
    prev_ticks = None
    for i in delivered:
        t, ticks, force, zone = ses.samples[i]
        delta = 0 if prev_ticks is None else (ticks - prev_ticks) & 0xFFFFFFFF
        prev_ticks = ticks
        if force != 0xFFFF and force >= CONTACT_MN:
            d = direction_ticks.setdefault(zone, [0, 0, 0, 0])
            d[ses.motion[i]] += delta
    exp["direction_ticks"] = direction_ticks
    exp["zone_peak"] = zone_peak
    exp["contact_samples"] = contact
    exp["session"] = (first_contact, last_contact)
    exp["stretch_starts"] = stretch_starts
    exp["episodes"] = episodes
    exp["over_treated"] = over_treated
    return exp


def area_per_rev():
    # cm² per revolution: pi * diameter * width, in cm (a literal pi: no libm)
    return 3.141592653589793 * (DRUM_DIAMETER_10UM / 1000) * (DRUM_WIDTH_10UM / 1000)


def generate():
    ses = build()
    frames = frames_of(ses)
    lost = pick_frame(ses, frames, ses.stretch_index(0, 2))  # forehead, third stretch
    number_frames(frames, lost)
    cut = pick_frame(ses, frames, ses.stretch_index(2, 1))  # right-cheek, second

    trace = bytearray(MAGIC)
    head = proto.encode_head_info(
        NEEDLE_UM,
        NEEDLE_COUNT,
        DRUM_DIAMETER_10UM,
        DRUM_WIDTH_10UM,
        TICKS_PER_REV,
        HEAD_ID,
    )
    trace += struct.pack("<H", len(head)) + head
    delivered = []
    n_frames = 0
    n_records = 1
    for k, (seq, idx) in enumerate(frames):
        if k == lost:
            continue  # never reached the computer
        frame = encode_frame(ses, idx, seq)
        if k == cut:
            frame = frame[:-4]  # the notification arrived cut short
        else:
            delivered.extend(idx)
            n_frames += 1
        trace += struct.pack("<H", len(frame)) + frame
        n_records += 1

    exp = evaluate(ses, delivered)
    # by construction: ticks per zone are the script's, lost frame included
    for zone, ticks in SCRIPT:
        assert exp["zone_ticks"][zone] == sum(ticks), (zone, exp["zone_ticks"][zone])
    assert len(exp["episodes"]) == 1
    ep = exp["episodes"][0]
    e0, e1 = ses.episode
    assert ep["start_ms"] == ses.samples[e0][0] + START_HOLD_MS
    assert ep["peak_mn"] == max(ses.samples[i][2] for i in range(e0, e1) if i != ses.fault)
    # the peak comes after the start event: "peak of the episode" can't be read two ways
    before = range(e0, e0 + START_HOLD_MS // DT_MS)
    assert max(ses.samples[i][2] for i in before if i != ses.fault) < ep["peak_mn"]

    all_ticks = [ses.samples[i][1] for i in delivered]
    assert min(t & 0xFFFFFFFF for t in all_ticks) < 2000 and max(all_ticks) >= 2**32
    fault_samples = sum(1 for i in delivered if ses.samples[i][2] == 0xFFFF)
    ff_samples = sum(1 for i in delivered if ses.samples[i][3] == ZONE_UNKNOWN)

    lines = [
        "# session.expected: what the engine must report for session.trace.",
        "# Generated by scripts/gen-trace.py (seed %d); do not edit." % SEED,
        "# Times are ms since the Unix epoch, forces mN.",
        "",
        "[trace]",
        "records=%d" % n_records,
        "frames=%d" % n_frames,
        "malformed=1",
        "malformed-reason=length-mismatch",
        "samples=%d" % len(delivered),
        "sensor-faults=%d" % fault_samples,
        "zone-ff-samples=%d" % ff_samples,
        "seq-gaps=2",
        "frames-lost=2",
        "lost-seq=%d" % frames[lost][0],
        "malformed-seq=%d" % frames[cut][0],
        "",
        "[head]",
        "needle-length-um=%d" % NEEDLE_UM,
        "needle-count=%d" % NEEDLE_COUNT,
        "drum-diameter-10um=%d" % DRUM_DIAMETER_10UM,
        "drum-width-10um=%d" % DRUM_WIDTH_10UM,
        "ticks-per-rev=%d" % TICKS_PER_REV,
        "head-id=%d" % HEAD_ID,
        "",
        "[session]",
        "start-ms=%d" % exp["session"][0],
        "end-ms=%d" % exp["session"][1],
        "contact-samples=%d" % exp["contact_samples"],
        "",
        "[pressure]",
        "episodes=%d" % len(exp["episodes"]),
        "zone=%s" % ZONE_NAME[ep["zone"]],
        "start-ms=%d" % ep["start_ms"],
        "start-force-mn=%d" % ep["start_force_mn"],
        "end-ms=%d" % ep["end_ms"],
        "peak-mn=%d" % ep["peak_mn"],
        "",
        "[over-treated]",
        "zones=%s" % ";".join(ZONE_NAME[z] for z in sorted(exp["over_treated"])),
    ]
    for z in sorted(exp["over_treated"]):
        lines.append("%s-ms=%d" % (ZONE_NAME[z], exp["over_treated"][z]))
    for zone in sorted(exp["zone_ticks"], key=lambda z: -1 if z == ZONE_UNKNOWN else z):
        starts = exp["stretch_starts"][zone]
        lines += [
            "",
            "[zone %s]" % ZONE_NAME[zone],
            "ticks=%d" % exp["zone_ticks"][zone],
            "peak-mn=%d" % exp["zone_peak"][zone],
            "stretches=%d" % len(starts),
            "stretch-start-ms=%s" % ";".join("%d" % t for t in starts),
        ]
        if VERSION == proto.VERSION_2:
            d = exp["direction_ticks"][zone]
            assert sum(d) == exp["zone_ticks"][zone]
            lines += ["ticks-%s=%d" % (proto.DIRECTIONS[k], d[k]) for k in (1, 2, 3, 0)]
    expected = ("\n".join(lines) + "\n").encode()
    summary = "%d samples in %d frames (%.1f s), %d bytes" % (
        len(delivered),
        n_frames,
        len(ses.samples) * DT_MS / 1000,
        len(trace),
    )
    return bytes(trace), expected, summary


def main():
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description="Generate the bundled roller session trace.")
    ap.add_argument("--check", action="store_true", help="compare with DIR instead of writing")
    ap.add_argument("--protocol-version", type=int, choices=(1, 2), default=1,
                    help="Roll Measurement frames of this version (1)")
    ap.add_argument("dir", nargs="?", default=os.path.join(top, "tests", "data"))
    args = ap.parse_args()
    global VERSION
    VERSION = args.protocol_version

    trace, expected, summary = generate()
    files = {"session.trace": trace, "session.expected": expected}
    if args.check:
        bad = []
        for name, data in files.items():
            path = os.path.join(args.dir, name)
            try:
                with open(path, "rb") as f:
                    if f.read() != data:
                        bad.append(name)
            except OSError as e:
                print("gen-trace: %s" % e, file=sys.stderr)
                return 1
        if bad:
            print(
                "gen-trace: %s in %s differ from the generator; run scripts/gen-trace.py"
                % (" and ".join(bad), args.dir),
                file=sys.stderr,
            )
            return 1
        print("gen-trace: %s reproduced byte for byte (%s)" % (", ".join(files), summary))
        return 0
    os.makedirs(args.dir, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(args.dir, name), "wb") as f:
            f.write(data)
    print("gen-trace: wrote %s: %s" % (args.dir, summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
