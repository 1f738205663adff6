#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''The desktop app (app/, `dermaroll`) as a person sees it: under Xvfb,
against the roller emulator and the real dermarolld on private buses.

Each case starts its own X server (Xvfb picks a free display itself:
-displayfd), buses, emulator, daemon and app, and stops them by pid. The
app runs with its test hooks (DERMAROLL_APP_TEST_HOOKS=1): the test
activates its `app.test-render` action over org.gtk.Actions, which renders
the window through its own GskRenderer to a PNG and says where each zone's
probe point and the force gauge are in it; the test reads the pixels there
(GdkPixbuf) and compares them with the colours of the face map's ramp
(common/coverage-colour.c) for the coverage the daemon reports. Other
actions (`win.stop`) are driven the same way, as the Stop button does.

The emulator plays its "pressure" pattern on the left cheek on the
sample timeline and stops mid-way through an over-pressure spike: the
daemon has then sent PressureWarning and, with no further sample, no
PressureCleared, so the episode stays open while the test looks (no race
with the end of a spike).
'''
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
# fixtures.py here, dbus_private.py in tests/, the codec in protocol/.
sys.path[:0] = [HERE, os.path.dirname(HERE), os.path.join(HERE, '..', '..', 'protocol')]
from fixtures import (DERMAROLL, MANAGER_IFACE, MANAGER_PATH, ROLLER_IFACE,  # noqa: E402
                      Daemon, PrivateBus, Processes, Recorder, call,
                      get_prop, roller_object_path, tail, wait_for_name, wait_until)
import gi  # noqa: E402
gi.require_version('GdkPixbuf', '2.0')
from gi.repository import GdkPixbuf, GLib  # noqa: E402

ADDRESS = 'C0:FF:EE:00:A9:01'
APP_ID = 'org.dermaroll.App'
APP_PATH = '/org/dermaroll/App'
ACTIONS_IFACE = 'org.gtk.Actions'
# The pressure pattern (tests/emulator/patterns.c) at the daemon's 100 Hz:
# a 2.4 s cycle on the left cheek, pressed at 1.2 times the limit from 0.4
# to 1.0 s of it. Two whole cycles, then 0.8 s into the third: past the
# 150 ms an episode needs, before the spike ends.
PRESSURE_SAMPLES = 2 * 240 + 80

# common/coverage-colour.c's ramp and warning colour.
STOPS = [(0.0, (0xf9, 0xec, 0x9c)), (0.25, (0x9f, 0xd6, 0xa8)), (0.5, (0x41, 0xb6, 0xc4)),
         (0.75, (0x2c, 0x7f, 0xb8)), (1.0, (0x2a, 0x3d, 0x8f))]
WARNING = (0xd5, 0x5e, 0x00)
# force-gauge.c: within the limit, the ramp's blue.
GAUGE_NORMAL = (0x2c, 0x7f, 0xb8)
TOLERANCE = 2   # per channel: rounding in the ramp and in the renderer


def scale_colour(coverage):
    c = min(1.0, max(0.0, coverage))
    for (a_at, a), (b_at, b) in zip(STOPS, STOPS[1:]):
        if c <= b_at:
            t = (c - a_at) / (b_at - a_at)
            return tuple(int(round(a[k] + t * (b[k] - a[k]))) for k in range(3))
    return STOPS[-1][1]


def close(a, b, tol=TOLERANCE):
    return all(abs(x - y) <= tol for x, y in zip(a, b))


def build_root():
    return os.environ.get('DERMAROLL_BUILD_ROOT') or os.path.join(HERE, '..', '..', 'build')


def app_path():
    return os.environ.get('DERMAROLL_APP') or os.path.join(build_root(), 'app', 'dermaroll')


def emulator_path():
    return os.path.join(build_root(), 'tests', 'roller-emulator')


class Picture:
    '''One rendering of the window: its pixels and where things are.'''

    def __init__(self, png, where):
        self.pixbuf = GdkPixbuf.Pixbuf.new_from_file(png)
        self.pixels = self.pixbuf.get_pixels()
        self.where = where

    @property
    def state(self):
        return self.where['state']

    def at(self, x, y):
        n = self.pixbuf.get_n_channels()
        i = y * self.pixbuf.get_rowstride() + x * n
        return tuple(self.pixels[i:i + 3])

    def zone(self, name):
        point = self.where['zones'][name]
        return None if point is None else self.at(*point)

    def gauge(self):
        return self.at(*self.where['gauge'])

    def background(self):
        '''The commonest colour of the picture (every 7th pixel): the
        window's background.'''
        n, stride = self.pixbuf.get_n_channels(), self.pixbuf.get_rowstride()
        counts = {}
        for y in range(0, self.pixbuf.get_height(), 7):
            row = y * stride
            for x in range(0, self.pixbuf.get_width(), 7):
                i = row + x * n
                rgb = tuple(self.pixels[i:i + 3])
                counts[rgb] = counts.get(rgb, 0) + 1
        return max(counts, key=counts.get)

    def has_colour(self, rgb):
        '''Anywhere in the picture, exactly.'''
        n, stride = self.pixbuf.get_n_channels(), self.pixbuf.get_rowstride()
        needle = bytes(rgb)
        start = self.pixels.find(needle)
        while start >= 0:
            if (start % stride) % n == 0:
                return True
            start = self.pixels.find(needle, start + 1)
        return False


class AppCase(unittest.TestCase):
    '''Xvfb, private buses, the emulator, dermarolld and the app.'''

    def setUp(self):
        for path in (app_path(), emulator_path()):
            if not os.access(path, os.X_OK):
                self.skipTest(f'{path} not built')
        self.tmp = tempfile.mkdtemp(prefix='dermaroll-app-')
        self.renders = 0
        self.system = PrivateBus('system', self.tmp)
        self.addCleanup(self.system.stop)
        self.session = PrivateBus('session', self.tmp)
        self.addCleanup(self.session.stop)
        self.display = self.start_xvfb()
        self.daemon = Daemon(self.tmp, self.system, self.session)
        self.addCleanup(self.daemon.stop)

    def start_xvfb(self):
        '''An X server on a display it chose itself (written to its stdout).'''
        proc = Processes.spawn('Xvfb', ['Xvfb', '-displayfd', '1', '-nolisten', 'tcp',
                                        '-screen', '0', '1024x1024x24'],
                               dict(os.environ), os.path.join(self.tmp, 'xvfb.log'),
                               stdout=subprocess.PIPE)
        self.addCleanup(Processes.stop, proc)
        number = proc.stdout.readline().decode().strip()
        self.assertTrue(number.isdigit(), f'Xvfb said {number!r}; log:\n'
                        f'{tail(proc.log_path)}')
        return ':' + number

    def start_emulator(self, *extra):
        proc = Processes.spawn('roller-emulator',
                               [emulator_path(), '--bus', self.system.address,
                                '--roller', ADDRESS + ',App roller', *extra],
                               dict(os.environ), os.path.join(self.tmp, 'emulator.log'),
                               stdout=subprocess.PIPE)
        self.addCleanup(Processes.stop, proc)
        line = proc.stdout.readline().decode()
        self.assertTrue(line.startswith('READY'), f'emulator said {line!r}')
        return proc

    def start_app(self, *args, env=None):
        '''The app, with @args (--gapplication-service: as D-Bus activation
        starts it, no window until it is asked for something) and more
        environment @env.'''
        home = os.path.join(self.tmp, 'app-home')
        os.makedirs(home, exist_ok=True)
        env = dict(os.environ,
                   DISPLAY=self.display,
                   GDK_BACKEND='x11',
                   # The same pixels whatever GL the machine has.
                   GSK_RENDERER='cairo',
                   DBUS_SESSION_BUS_ADDRESS=self.session.address,
                   DBUS_SYSTEM_BUS_ADDRESS=self.system.address,
                   # No dconf service on the private bus, no AT-SPI bus.
                   GSETTINGS_BACKEND='memory',
                   NO_AT_BRIDGE='1',
                   GTK_A11Y='none',
                   HOME=home,
                   XDG_CONFIG_HOME=os.path.join(home, '.config'),
                   XDG_DATA_HOME=os.path.join(home, '.local', 'share'),
                   XDG_CACHE_HOME=os.path.join(home, '.cache'),
                   XDG_RUNTIME_DIR=self.tmp,
                   LANG='C.UTF-8', LANGUAGE='',
                   DERMAROLL_APP_TEST_HOOKS='1',
                   **(env or {}))
        self.app = Processes.spawn('dermaroll', [app_path(), *args], env,
                                   os.path.join(self.tmp, 'app.log'))
        self.addCleanup(self.stop_app)
        wait_for_name(self.session.conn, APP_ID, 20, proc=self.app)

    def stop_app(self):
        '''Quits it as a person would (app.quit), and checks it exited 0;
        fails the test on a warning or critical of the app's own.'''
        if self.app.poll() is not None:
            self.fail(f'the app exited with {self.app.returncode}; log:\n'
                      f'{tail(self.app.log_path)}')
        try:
            self.activate('quit')
            wait_until(lambda: self.app.poll() is not None, 10, 'the app to quit')
        finally:
            rc = Processes.stop(self.app)
        self.assertEqual(rc, 0, f'the app exited with {rc}; log:\n{tail(self.app.log_path)}')
        with open(self.app.log_path, encoding='utf-8', errors='replace') as f:
            bad = [line for line in f if 'dermaroll-app-WARNING' in line
                   or 'dermaroll-app-CRITICAL' in line]
        self.assertEqual(bad, [], 'the app warned')

    def activate(self, name, params=(), path=APP_PATH):
        call(self.session.conn, APP_ID, path, ACTIONS_IFACE, 'Activate', '(sava{sv})',
             (name, list(params), {}))

    def action_enabled(self, name, path):
        enabled, _, _ = call(self.session.conn, APP_ID, path, ACTIONS_IFACE, 'Describe', '(s)',
                             (name,))
        return enabled

    def render(self):
        '''The window as it is now.'''
        self.renders += 1
        png = os.path.join(self.tmp, f'render-{self.renders}.png')
        self.activate('test-render', [GLib.Variant('s', png)])
        with open(png + '.json', encoding='utf-8') as f:
            where = json.load(f)
        return Picture(png, where) if where['drawn'] else None

    def wait_picture(self, predicate, what, timeout=15, details=None):
        '''Renders until predicate(picture) holds; the last picture.'''
        last = []
        # wait_until also looks after every D-Bus message that comes:
        # render at most every 100 ms.
        next_at = [0.0]

        def check():
            if time.monotonic() < next_at[0]:
                return False
            next_at[0] = time.monotonic() + 0.1
            picture = self.render()
            if picture is None:
                return False
            last[:] = [picture]
            return predicate(picture)
        wait_until(check, timeout, what, poll_ms=100,
                   details=lambda: f'last picture {self.tmp}/render-{self.renders}.png: '
                   f'{last[0].where if last else None} {details() if details else ""}')
        return last[0]

    def window_path(self):
        return APP_PATH + '/window/1'

    def pair(self):
        path = roller_object_path(ADDRESS)
        self.assertEqual(call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'Pair',
                              '(s)', (ADDRESS,), timeout=30), path)
        return path

    def roller_prop(self, name):
        return get_prop(self.session.conn, DERMAROLL, roller_object_path(ADDRESS), ROLLER_IFACE,
                        name)

    def people_paths(self):
        '''Each person's object path by name, as the daemon exports them.'''
        objects = call(self.session.conn, DERMAROLL, MANAGER_PATH,
                       'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects')
        return {ifaces['org.dermaroll.Person1']['Name']: path
                for path, ifaces in objects.items() if 'org.dermaroll.Person1' in ifaces}

    def emulator_done(self):
        stats = call(self.system.conn, 'org.bluez', '/org/dermaroll/Emulator',
                     'org.dermaroll.Emulator1', 'Stats')['rollers'][ADDRESS]
        return stats['exhausted'] and stats['pending'] == 0

    def roll_into_open_episode(self):
        '''Pairs; the emulator rolls the left cheek and stops pressing too
        hard. Returns once every frame is acknowledged, with the
        PressureWarning that came.'''
        recorder = Recorder(self.session.conn, sender=None, iface=ROLLER_IFACE)
        self.addCleanup(recorder.close)
        self.pair()
        wait_until(self.emulator_done, 30, 'every frame acknowledged')
        warnings = recorder.wait_signal('PressureWarning', timeout=10)
        return recorder, warnings


class Live(AppCase):
    '''The Live view.'''

    def setUp(self):
        super().setUp()
        self.start_emulator('--pattern', 'pressure', '--rate', '0', '--protocol-version', '2',
                            '--samples', str(PRESSURE_SAMPLES))
        self.daemon.start()
        self.start_app()

    def test_zone_fills_while_rolling(self):
        '''Before any rolling the left cheek's centre is the ramp's 0 %;
        once the emulator rolled it, the colour of the coverage the daemon
        reports; the forehead, never rolled, stays at 0 %.'''
        before = self.wait_picture(lambda p: p.state == 'views' and p.zone('left-cheek'),
                                   'the live map')
        for zone in ('left-cheek', 'forehead', 'nose', 'neck'):
            self.assertTrue(close(before.zone(zone), scale_colour(0)),
                            f'{zone} before rolling: {before.zone(zone)}')

        self.roll_into_open_episode()
        # Roller1.Coverage comes at most twice a second and settles once
        # every frame is in: the picture must come to show the coverage the
        # daemon reports (read after each rendering, so a picture older
        # than the value read is simply tried again).
        seen = []

        def shows_reported(picture):
            coverage = self.roller_prop('Coverage').get('left-cheek', 0)
            seen[:] = [coverage, picture.zone('left-cheek')]
            return coverage > 0.05 and close(picture.zone('left-cheek'), scale_colour(coverage))
        after = self.wait_picture(shows_reported, 'the left cheek in its coverage colour',
                                  details=lambda: f'coverage, pixel: {seen}')
        self.assertFalse(close(after.zone('left-cheek'), scale_colour(0)))
        self.assertTrue(close(after.zone('forehead'), scale_colour(0)), after.zone('forehead'))

    def test_gauge_warns_during_over_pressure(self):
        '''The force gauge is the normal colour while pressing within the
        limit and the warning colour from the daemon's PressureWarning
        until the episode ends; each warning is a toast in the window.'''
        before = self.wait_picture(lambda p: p.state == 'views', 'the live view')
        self.assertFalse(before.where['gauge-warning'])
        self.assertFalse(close(before.gauge(), WARNING), before.gauge())

        recorder, warnings = self.roll_into_open_episode()
        self.assertEqual(warnings[-1].args[1], 'left-cheek')
        self.assertGreater(warnings[-1].args[2], warnings[-1].args[3])
        # Force above zero: the gauge's fill point is filled, in warning colour.
        wait_until(lambda: self.roller_prop('Force') > 0, 5, 'a force')
        during = self.wait_picture(lambda p: close(p.gauge(), WARNING),
                                   'the gauge in the warning colour')
        self.assertTrue(during.where['gauge-warning'])
        # Each warning the daemon sent, also as a toast in the window (the
        # recorder and the app each hear them in their own time: wait until
        # both count the same).
        def toasted(picture):
            toasts = [t for t in picture.where['toasts']
                      if t.startswith('Over-pressure on the left cheek')]
            return len(toasts) == len(recorder.find('PressureWarning'))
        self.wait_picture(toasted, 'a toast for each PressureWarning',
                          details=lambda: str(recorder.find('PressureWarning')))

    def test_stop_button_ends_the_session(self):
        '''win.stop (the Stop button) is disabled with no session; during
        one it stops it through the daemon.'''
        self.wait_picture(lambda p: p.state == 'views', 'the live view')
        self.assertFalse(self.action_enabled('stop', self.window_path()))
        recorder, _ = self.roll_into_open_episode()
        session = self.roller_prop('ActiveSession')
        self.assertNotEqual(session, 0)
        wait_until(lambda: self.action_enabled('stop', self.window_path()), 10,
                   'win.stop enabled')
        # The session's line: its id and its time so far.
        self.wait_picture(lambda p: re.fullmatch(rf'Session {session} · \d\d:\d\d',
                                                 p.where['session']),
                          "the session's time")
        self.activate('stop', path=self.window_path())
        ended = recorder.wait_signal('SessionEnded', timeout=10)
        self.assertEqual(ended[-1].args[0], session)
        wait_until(lambda: self.roller_prop('ActiveSession') == 0, 5,
                   'no active session')
        wait_until(lambda: not self.action_enabled('stop', self.window_path()),
                   10, 'win.stop disabled again')


    def test_excluded_zone_hatched(self):
        '''A zone the roller's person excludes is hatched over its colour
        (dark lines among the 0 % colour around its probe point); included
        again, plain.'''
        def region(picture, zone):
            x, y = picture.where['zones'][zone]
            return {picture.at(x + dx, y + dy) for dx in range(-6, 7) for dy in range(-6, 7)}

        def hatched(picture, zone):
            colours = region(picture, zone)
            fill = scale_colour(0)
            return (any(close(c, fill) for c in colours)
                    and any(sum(c) < sum(fill) - 120 for c in colours))

        plain = self.wait_picture(lambda p: p.state == 'views' and p.zone('chin'), 'the live map')
        self.assertFalse(hatched(plain, 'chin'), region(plain, 'chin'))
        self.assertEqual({c for c in region(plain, 'chin')}, {scale_colour(0)})
        call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'SetZoneExcluded',
             '(sb)', ('chin', True))
        # The roller's person is the default person, whose zones those are:
        # the roller must be known for the app to know its person.
        self.pair()
        shown = self.wait_picture(lambda p: hatched(p, 'chin'), 'the chin hatched')
        self.assertFalse(hatched(shown, 'forehead'), region(shown, 'forehead'))
        call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'SetZoneExcluded',
             '(sb)', ('chin', False))
        self.wait_picture(lambda p: not hatched(p, 'chin'), 'the chin plain again')


class History(AppCase):
    '''The History view.'''

    def setUp(self):
        super().setUp()
        self.start_emulator('--pattern', 'pressure', '--rate', '0', '--protocol-version', '2',
                            '--samples', str(PRESSURE_SAMPLES))
        self.daemon.start()
        self.start_app()

    def test_ended_session_listed_and_its_map(self):
        '''A session that ended is listed at once, and the zone it rolled
        says on the Live map until when it rests; win.show-session opens
        the session's map, each zone in the colour of its stored coverage.
        The list is the roller's person's: Ann, given the roller, has none.'''
        first = self.wait_picture(lambda p: p.state == 'views', 'the window')
        self.assertEqual(first.where['history-sessions'], 0)
        recorder, _ = self.roll_into_open_episode()
        session = self.roller_prop('ActiveSession')
        call(self.session.conn, DERMAROLL, roller_object_path(ADDRESS), ROLLER_IFACE,
             'StopSession')
        recorder.wait_signal('SessionEnded')
        self.wait_picture(lambda p: p.where['history-sessions'] == 1, 'the session listed')
        # The rolled zone rests from now on (Person1.GetRestStatus): the
        # Live map says until when; the forehead, never rolled, does not.
        person = self.roller_prop('Person')
        rest = call(self.session.conn, DERMAROLL, person, 'org.dermaroll.Person1',
                    'GetRestStatus')
        self.assertGreater(rest['left-cheek'][1], 0, rest)
        self.assertEqual(rest['forehead'][1], 0, rest)
        resting = self.wait_picture(lambda p: 'rest until' in p.where['labels']['left-cheek'],
                                    'the left cheek resting on the Live map')
        self.assertNotIn('rest until', resting.where['labels']['forehead'])

        stored = call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE,
                      'GetSessionCoverage', '(t)', (session,))
        self.assertGreater(stored['left-cheek'][0], 0.05, stored)

        # History's chart: this week's cells in the colour of the one
        # session's coverage (the forehead's 0 % included), last week's
        # grey (no session).
        self.activate('show-view', [GLib.Variant('s', 'history')], path=self.window_path())

        def cell(picture, zone, ago):
            point = picture.where['chart'].get(zone, [None, None])[ago]
            return None if point is None else picture.at(*point)
        chart = self.wait_picture(
            lambda p: p.where['view'] == 'history' and p.where['chart']
            and close(cell(p, 'left-cheek', 0), scale_colour(stored['left-cheek'][0])),
            "this week's left cheek in the chart")
        self.assertTrue(close(cell(chart, 'forehead', 0), scale_colour(stored['forehead'][0])),
                        cell(chart, 'forehead', 0))
        self.assertTrue(close(cell(chart, 'left-cheek', 1), (0xe3, 0xe3, 0xe3), tol=3),
                        cell(chart, 'left-cheek', 1))
        self.activate('show-session', [GLib.Variant('t', session)], path=self.window_path())
        shown = self.wait_picture(
            lambda p: p.where['view'] == 'history' and p.zone('left-cheek') is not None,
            "the session's map")
        for zone, (coverage, *_) in stored.items():
            if zone in shown.where['zones']:
                self.assertTrue(close(shown.zone(zone), scale_colour(coverage)),
                                f'{zone}: {shown.zone(zone)} for {coverage}')

        # The history is the roller's person's: given to Ann, who has none.
        self.activate('add-person', [GLib.Variant('s', 'Ann')], path=self.window_path())
        ann = wait_until(lambda: self.people_paths().get('Ann'), 10, 'Ann added')
        self.activate('use-person', [GLib.Variant('o', ann)], path=self.window_path())
        wait_until(lambda: self.roller_prop('Person') == ann, 10, 'the roller rolls for Ann')
        self.wait_picture(lambda p: p.where['history-sessions'] == 0, "Ann's empty history")

    def test_app_show_session(self):
        '''app.show-session, what a click on a notification asks for over
        org.freedesktop.Application, turns the window from Live to
        History at that session's map.'''
        self.wait_picture(lambda p: p.state == 'views', 'the window')
        recorder, _ = self.roll_into_open_episode()
        session = self.roller_prop('ActiveSession')
        self.assertGreater(session, 0)
        call(self.session.conn, DERMAROLL, roller_object_path(ADDRESS), ROLLER_IFACE,
             'StopSession')
        recorder.wait_signal('SessionEnded')
        live = self.wait_picture(lambda p: p.state == 'views', 'the window after the session')
        self.assertEqual(live.where['view'], 'live')
        self.assertEqual(live.where['history-session'], 0)
        stored = call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE,
                      'GetSessionCoverage', '(t)', (session,))
        self.activate('show-session', [GLib.Variant('t', session)])
        shown = self.wait_picture(
            lambda p: p.where['view'] == 'history' and p.where['history-session'] == session
            and p.zone('left-cheek') is not None, "the session's map")
        self.assertTrue(close(shown.zone('left-cheek'), scale_colour(stored['left-cheek'][0])),
                        f"{shown.zone('left-cheek')} for {stored['left-cheek'][0]}")


class ShowSession(AppCase):
    '''The app as a click on a session's notification starts it: dermarolld
    calls org.freedesktop.Application.ActivateAction("show-session") on
    org.dermaroll.App, which the bus starts with --gapplication-service
    (app/data/org.dermaroll.App.service).'''

    def setUp(self):
        super().setUp()
        self.start_emulator('--pattern', 'pressure', '--rate', '0', '--protocol-version', '2',
                            '--samples', str(PRESSURE_SAMPLES))
        self.daemon.start()

    def test_started_as_a_service_at_the_session(self):
        recorder, _ = self.roll_into_open_episode()
        session = self.roller_prop('ActiveSession')
        self.assertGreater(session, 0)
        call(self.session.conn, DERMAROLL, roller_object_path(ADDRESS), ROLLER_IFACE,
             'StopSession')
        recorder.wait_signal('SessionEnded')
        stored = call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE,
                      'GetSessionCoverage', '(t)', (session,))
        self.start_app('--gapplication-service')
        call(self.session.conn, APP_ID, APP_PATH, 'org.freedesktop.Application',
             'ActivateAction', '(sava{sv})', ('show-session', [GLib.Variant('t', session)], {}))
        shown = self.wait_picture(
            lambda p: p.where['view'] == 'history' and p.where['history-session'] == session
            and p.zone('left-cheek') is not None, "the session's map")
        self.assertTrue(close(shown.zone('left-cheek'), scale_colour(stored['left-cheek'][0])),
                        f"{shown.zone('left-cheek')} for {stored['left-cheek'][0]}")


class Rollers(AppCase):
    '''The Rollers view: scanning, pairing, forgetting.'''

    def setUp(self):
        super().setUp()
        self.start_emulator('--pattern', 'idle')
        self.daemon.start()
        self.start_app()

    def row(self, picture):
        '''The emulated roller's row: its subtitle, or None.'''
        for title, subtitle in picture.where['rollers']:
            if ADDRESS in title:
                return subtitle
        return None

    def test_scan_pair_forget(self):
        '''On the Rollers view the daemon looks for rollers: the roller shows
        unpaired with its signal; win.pair pairs it (the daemon says
        Paired) and its row says connected, battery and head; win.forget
        makes it unpaired again. Leaving the view stops the discovery.'''
        self.wait_picture(lambda p: p.state == 'views', 'the window')
        self.assertFalse(get_prop(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE,
                                  'Discovering'))
        self.activate('show-view', [GLib.Variant('s', 'rollers')], path=self.window_path())
        seen = self.wait_picture(lambda p: (self.row(p) or '').startswith('not paired'),
                                 'the roller seen')
        self.assertIn('App roller', str(seen.where['rollers']))
        self.assertRegex(self.row(seen), r'signal -\d+ dBm')
        self.assertTrue(get_prop(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE,
                                 'Discovering'))

        self.activate('pair', [GLib.Variant('s', ADDRESS)], path=self.window_path())
        wait_until(lambda: self.roller_prop('Paired'), 30, 'the roller paired')
        battery = self.roller_prop('Battery')
        paired = self.wait_picture(lambda p: (self.row(p) or '').startswith('connected')
                                   and f'battery {battery} %' in self.row(p)
                                   and 'mm head' in self.row(p),
                                   'the roller connected, with battery and head')
        self.assertNotIn('replace the head', self.row(paired))

        self.activate('forget', [GLib.Variant('s', ADDRESS)], path=self.window_path())
        wait_until(lambda: not self.roller_prop('Paired'), 10, 'the roller forgotten')
        self.wait_picture(lambda p: (self.row(p) or '').startswith('not paired'),
                          'the row unpaired again')

        self.activate('show-view', [GLib.Variant('s', 'live')], path=self.window_path())
        wait_until(lambda: not get_prop(self.session.conn, DERMAROLL, MANAGER_PATH,
                                        MANAGER_IFACE, 'Discovering'),
                   10, 'the discovery stopped')

    def test_pair_refused_says_what_to_do(self):
        '''The roller refuses pairing (the emulator answers Pair with
        BlueZ's AuthenticationRejected): the app says so in a dialog that
        says what to do, with the daemon's reason; nothing is paired.'''
        self.wait_picture(lambda p: p.state == 'views', 'the window')
        call(self.system.conn, 'org.bluez', '/org/dermaroll/Emulator', 'org.dermaroll.Emulator1',
             'FailPair', '(suss)', (ADDRESS, 1, 'AuthenticationRejected',
                                    'Authentication Rejected'))
        self.activate('show-view', [GLib.Variant('s', 'rollers')], path=self.window_path())
        self.wait_picture(lambda p: (self.row(p) or '').startswith('not paired'),
                          'the roller seen')
        self.activate('pair', [GLib.Variant('s', ADDRESS)], path=self.window_path())
        shown = self.wait_picture(lambda p: p.where['alerts'], 'the pairing error')
        heading, body = shown.where['alerts'][0].split('\n', 1)
        self.assertEqual(heading, 'Cannot pair the roller')
        self.assertIn('refused to pair. Switch it off and on again, then pair it again', body)
        self.assertIn('Authentication Rejected', body)
        self.assertFalse(self.roller_prop('Paired'))
        self.assertEqual(len(shown.where['alerts']), 1)


class People(AppCase):
    '''The People view, and excluding a zone from the Live map.'''

    def setUp(self):
        super().setUp()
        self.start_emulator('--pattern', 'idle')
        self.daemon.start()
        self.start_app()

    def person(self, picture, name):
        for title, subtitle in picture.where['people']:
            if title == name:
                return subtitle
        return None

    def test_add_use_and_exclude(self):
        '''win.add-person adds Ann (the daemon has her, the view lists her);
        win.use-person gives her the roller (Roller1.Person, and her row
        says so); win.toggle-excluded, what a click on the map does,
        excludes her nose and includes it again; win.rename-person renames
        her, win.remove-person removes her.'''
        self.pair()
        first = self.wait_picture(lambda p: p.state == 'views' and p.where['people'],
                                  'the people listed')
        default = first.where['people'][0][0]
        self.assertIn('rolls for them', self.person(first, default))

        self.activate('add-person', [GLib.Variant('s', 'Ann')], path=self.window_path())
        wait_until(lambda: 'Ann' in self.people_paths(), 10, 'Ann added')
        listed = self.wait_picture(lambda p: self.person(p, 'Ann') is not None, 'Ann listed')
        self.assertEqual(self.person(listed, 'Ann'), 'no zone excluded')

        ann = self.people_paths()['Ann']
        self.activate('use-person', [GLib.Variant('o', ann)], path=self.window_path())
        wait_until(lambda: self.roller_prop('Person') == ann, 10, 'the roller rolls for Ann')
        self.wait_picture(lambda p: 'rolls for them' in (self.person(p, 'Ann') or ''),
                          "Ann's row saying the roller is hers")

        def excluded():
            return get_prop(self.session.conn, DERMAROLL, ann, 'org.dermaroll.Person1',
                            'ExcludedZones')
        self.activate('toggle-excluded', [GLib.Variant('s', 'nose')], path=self.window_path())
        wait_until(lambda: excluded() == ['nose'], 10, "Ann's nose excluded")
        self.wait_picture(lambda p: (self.person(p, 'Ann') or '').startswith('excluded: nose'),
                          "Ann's row saying so")
        self.activate('toggle-excluded', [GLib.Variant('s', 'nose')], path=self.window_path())
        wait_until(lambda: excluded() == [], 10, "Ann's nose included again")

        # Renamed (what the rename dialog's Rename does): the same person,
        # the roller still hers; a name that is another's is the daemon's
        # refusal, said in a toast.
        self.activate('rename-person', [GLib.Variant('(os)', (ann, 'Anna'))],
                      path=self.window_path())
        wait_until(lambda: self.people_paths().get('Anna') == ann, 10, 'Ann renamed Anna')
        self.wait_picture(lambda p: self.person(p, 'Ann') is None
                          and 'rolls for them' in (self.person(p, 'Anna') or ''),
                          "Anna's row, the roller still hers")
        self.activate('rename-person', [GLib.Variant('(os)', (ann, default))],
                      path=self.window_path())
        self.wait_picture(lambda p: any(default in t for t in p.where['toasts']),
                          'the refusal in a toast')
        self.assertEqual(self.people_paths().get('Anna'), ann)

        # Removed (what the dialog's Remove does): the roller goes back to
        # the default person, whose row says so again; her sessions stay
        # in the store, owned by nobody.
        self.activate('remove-person', [GLib.Variant('o', ann)], path=self.window_path())
        wait_until(lambda: 'Anna' not in self.people_paths(), 10, 'Anna removed')
        self.wait_picture(lambda p: self.person(p, 'Anna') is None
                          and 'rolls for them' in (self.person(p, default) or ''),
                          "Anna gone, the roller the default person's again")


class Preferences(AppCase):
    '''The preferences window: one switch per notification kind the daemon
    offers, each the daemon's Manager1.NotificationKinds.'''

    def setUp(self):
        super().setUp()
        self.daemon.start()
        self.start_app()

    def kinds(self):
        return [(str(k), bool(e)) for k, e in get_prop(self.session.conn, DERMAROLL, MANAGER_PATH,
                                                       MANAGER_IFACE, 'NotificationKinds')]

    def switches(self, picture):
        return [(kind, on) for kind, _, on in picture.where['notifications'] or []]

    def test_switches_follow_the_daemon(self):
        '''app.preferences lists every kind with its switch on; turning the
        low-battery switch (as a click does) switches the kind off in the
        daemon; a kind switched by someone else (dermarollctl) follows.'''
        self.wait_picture(lambda p: p.state == 'views', 'the window')
        self.activate('preferences')
        kinds = self.kinds()
        self.assertTrue(all(on for _, on in kinds), kinds)
        shown = self.wait_picture(lambda p: self.switches(p) == kinds,
                                  "a switch per kind, as the daemon has them")
        titles = {kind: title for kind, title, _ in shown.where['notifications']}
        self.assertEqual(titles['low-battery'], 'Low battery')

        self.activate('test-toggle-notification', [GLib.Variant('s', 'low-battery')])
        wait_until(lambda: dict(self.kinds())['low-battery'] is False, 10,
                   'low-battery off in the daemon', details=self.kinds)
        self.assertEqual([k for k, on in self.kinds() if not on], ['low-battery'])

        call(self.session.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'SetNotificationEnabled',
             '(sb)', ('zone-ready', False))
        self.wait_picture(lambda p: self.switches(p) == self.kinds()
                          and not dict(self.switches(p))['zone-ready'],
                          "the zone-ready switch off, as the daemon says")


class DarkStyle(AppCase):
    '''The system prefers the dark style (libadwaita's
    ADW_DEBUG_COLOR_SCHEME, as the desktop's setting would): the app
    follows it (AdwStyleManager), the face map keeps its colours.'''

    def setUp(self):
        super().setUp()
        self.start_emulator('--pattern', 'idle')
        self.daemon.start()
        self.start_app(env={'ADW_DEBUG_COLOR_SCHEME': 'prefer-dark'})

    def test_dark_background_same_map(self):
        picture = self.wait_picture(lambda p: p.state == 'views' and p.zone('left-cheek'),
                                    'the live map')
        self.assertTrue(picture.where['dark'])
        background = picture.background()
        self.assertLess(sum(background) / 3, 64, f'background {background} is not dark')
        for zone in ('left-cheek', 'forehead', 'nose'):
            self.assertTrue(close(picture.zone(zone), scale_colour(0)),
                            f'{zone}: {picture.zone(zone)}')


class NoDaemon(AppCase):
    '''The app started before the daemon.'''

    def test_says_so_then_follows_the_daemon(self):
        '''Without the daemon the window says so (no map drawn); once the
        daemon is there, the map shows without any action from the user.'''
        self.start_emulator('--pattern', 'idle')
        self.start_app()
        absent = self.wait_picture(lambda p: p.state == 'no-daemon', 'the no-daemon page')
        self.assertIsNone(absent.zone('left-cheek'))
        self.assertFalse(absent.has_colour(scale_colour(0)), 'a map drawn without a daemon')
        self.daemon.start()
        present = self.wait_picture(lambda p: p.state == 'views' and p.zone('left-cheek'),
                                    'the live map once the daemon is there')
        # The light style by default: a light background.
        self.assertFalse(present.where['dark'])
        self.assertGreater(sum(present.background()) / 3, 192, present.background())
        self.assertTrue(close(present.zone('left-cheek'), scale_colour(0)),
                        present.zone('left-cheek'))
        self.assertTrue(present.has_colour(scale_colour(0)))


if __name__ == '__main__':
    unittest.main()
