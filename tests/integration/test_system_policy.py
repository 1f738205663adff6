#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''dermarolld --system behind the installed bus policy, on a real dbus-daemon.

The bus is a system bus the way Debian's system.conf makes one (nobody owns
a name or calls a method unless a policy file says so) that includes
systemd/org.dermaroll.conf, with the daemon's user and group renamed to
throwaway accounts this test creates (groupadd/useradd, removed again on
success and on failure): a daemon user, a member of the daemon's group and
an outsider. The roller emulator plays bluetoothd on the same bus, as root,
with a stand-in for BlueZ's own policy. The daemon runs as its user
(setpriv) with its database in a directory of that user's; the clients run
as the other users. Shown:
- the outsider gets AccessDenied for every method of Manager1 and Roller1
  and for Get, GetAll and Set of every property (walked from the
  introspection XML in protocol/), and for the standard interfaces, whether
  it names org.dermaroll or the daemon's unique name;
- the outsider hears none of the daemon's signals while a member hears
  them (and the outsider hears bluetoothd's, so it was listening);
- a member reaches every one of those methods (whatever the daemon then
  answers, it is not the bus refusing);
- nobody but the daemon's user may own org.dermaroll, root included.
Needs root (skipped otherwise), setpriv, useradd and groupadd.
'''
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
# fixtures.py here, dbus_private.py in tests/, the codec in protocol/.
sys.path[:0] = [HERE, os.path.dirname(HERE), os.path.join(HERE, '..', '..', 'protocol')]
import dbus_private  # noqa: E402
from fixtures import (DERMAROLL, MANAGER_IFACE, MANAGER_PATH, PROPS_IFACE,  # noqa: E402
                      Processes, call, connect, dbus_error, roller_object_path, tail,
                      wait_for_name)

SOURCE_ROOT = os.environ.get('DERMAROLL_SOURCE_ROOT') or os.path.join(HERE, '..', '..')
BUILD_ROOT = os.environ.get('DERMAROLL_BUILD_ROOT') or os.path.join(SOURCE_ROOT, 'build')
POLICY = os.path.join(SOURCE_ROOT, 'systemd', 'org.dermaroll.conf')
INTERFACES = [os.path.join(SOURCE_ROOT, 'protocol', 'org.dermaroll.Manager1.xml'),
              os.path.join(SOURCE_ROOT, 'protocol', 'org.dermaroll.Roller1.xml'),
              os.path.join(SOURCE_ROOT, 'protocol', 'org.dermaroll.Person1.xml')]
ROLLER_IFACE = 'org.dermaroll.Roller1'
ACCESS_DENIED = 'org.freedesktop.DBus.Error.AccessDenied'
# What the bus itself answers instead of the daemon.
BUS_REFUSALS = {ACCESS_DENIED, 'org.freedesktop.DBus.Error.ServiceUnknown',
                'org.freedesktop.DBus.Error.NoReply', 'org.freedesktop.DBus.Error.LimitsExceeded',
                'org.freedesktop.DBus.Error.NameHasNoOwner'}
ADDRESS = 'C0:FF:EE:00:5E:C7'

# Stand-in for BlueZ's bluetooth.conf: root owns org.bluez; the daemon's
# user may call it (on a real system, through SupplementaryGroups=bluetooth).
BLUEZ_POLICY = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="root">
    <allow own="org.bluez"/>
    <allow send_destination="org.bluez"/>
  </policy>
  <policy user="{daemon_user}">
    <allow send_destination="org.bluez"/>
  </policy>
</busconfig>
'''


def tool(name):
    return shutil.which(name) or shutil.which(name, path='/usr/sbin:/sbin:/usr/bin:/bin')


def emulator_path():
    return os.path.join(BUILD_ROOT, 'tests', 'roller-emulator')


def daemon_path():
    return os.path.join(BUILD_ROOT, 'daemon', 'dermarolld')


def dummy(sig):
    '''A value of D-Bus type sig, as policy_client.py takes it.'''
    if sig == 's':
        return ''
    if sig == 'o':
        return '/'
    if sig == 'b':
        return False
    if sig == 'd':
        return 0.0
    if len(sig) == 1 and sig in 'ynqiuxt':
        return 0
    if sig == 'h':
        return 0   # an fd index with no fd sent: the daemon's InvalidArgument, past the bus
    if sig == 'v':
        return ['s', '']
    if sig.startswith('a{'):
        return {}
    if sig.startswith('a'):
        return []
    raise ValueError(f'no dummy for {sig}')


def variant_dummy(sig):
    '''[signature, value] for an argument of type v.'''
    return [sig, dummy(sig)]


def interface_calls(dest, path, xml_path):
    '''(description, call) for every method, and Get/Set of every property
    and GetAll, of the interface in xml_path, with arguments of the right
    types.'''
    root = ET.parse(xml_path).getroot()
    calls = []
    for iface in root.iter('interface'):
        name = iface.get('name')
        for method in iface.iter('method'):
            types = [a.get('type') for a in method.iter('arg') if a.get('direction', 'in') == 'in']
            sig = '(' + ''.join(types) + ')' if types else None
            calls.append((f'{name}.{method.get("name")}',
                          [dest, path, name, method.get('name'), sig, [dummy(t) for t in types]]))
        for prop in iface.iter('property'):
            pname, ptype = prop.get('name'), prop.get('type')
            calls.append((f'Get {name}.{pname}',
                          [dest, path, PROPS_IFACE, 'Get', '(ss)', [name, pname]]))
            calls.append((f'Set {name}.{pname}',
                          [dest, path, PROPS_IFACE, 'Set', '(ssv)',
                           [name, pname, variant_dummy(ptype)]]))
        calls.append((f'GetAll {name}', [dest, path, PROPS_IFACE, 'GetAll', '(s)', [name]]))
    return calls


def standard_calls(dest, path):
    return [
        (f'Introspect {path}', [dest, path, 'org.freedesktop.DBus.Introspectable', 'Introspect',
                                None, []]),
        (f'Ping {path}', [dest, path, 'org.freedesktop.DBus.Peer', 'Ping', None, []]),
        (f'GetMachineId {path}', [dest, path, 'org.freedesktop.DBus.Peer', 'GetMachineId', None,
                                  []]),
    ]


class Accounts:
    '''Throwaway users and a group, named uniquely; remove() deletes them.'''

    def __init__(self):
        tag = f'{os.getpid() % 100000}{secrets.token_hex(2)}'
        self.group = f'drgrp{tag}'
        self.daemon = f'drdmn{tag}'
        self.member = f'drmbr{tag}'
        self.outsider = f'drout{tag}'
        self.users = []
        self.groups = []
        try:
            self._run(['groupadd', '--system', self.group])
            self.groups.append(self.group)
            base = ['useradd', '--system', '--no-create-home', '--shell', '/usr/sbin/nologin']
            # The daemon's user has the group as its primary group, as
            # sysusers makes it; the member has it as a supplementary one.
            for user, extra in ((self.daemon, ['--no-user-group', '--gid', self.group]),
                                (self.member, ['--user-group', '--groups', self.group]),
                                (self.outsider, ['--user-group'])):
                self._run(base + extra + [user])
                self.users.append(user)
        except BaseException:
            self.remove()
            raise

    @staticmethod
    def _run(argv):
        res = subprocess.run([tool(argv[0])] + argv[1:], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        if res.returncode != 0:
            raise RuntimeError(f'{" ".join(argv)}: exit {res.returncode}: {res.stdout.decode()}')

    def remove(self):
        for user in reversed(self.users):
            subprocess.run([tool('userdel'), user], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            # --user-group made one of the user's name.
            subprocess.run([tool('groupdel'), user], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        for group in self.groups:
            subprocess.run([tool('groupdel'), group], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        self.users, self.groups = [], []

    def ids(self, user):
        pw = pwd.getpwnam(user)
        return pw.pw_uid, pw.pw_gid


def as_user(user):
    '''The argv prefix that runs a command as user with its groups from the
    user database, killed when this test dies (setpriv applies the death
    signal after changing user, which would clear it).'''
    return [tool('setpriv'), f'--reuid={user}', f'--regid={pwd.getpwnam(user).pw_gid}',
            '--init-groups', '--inh-caps=-all', '--bounding-set=-all', '--pdeathsig=KILL', '--']


def spawn_client(test, user, name):
    '''A client with a stdin pipe (Processes.spawn has none).'''
    log_path = os.path.join(test.tmp, f'client-{name}.log')
    env = {'PATH': '/usr/bin:/bin', 'LANG': 'C.UTF-8',
           'DBUS_SYSTEM_BUS_ADDRESS': test.bus.address, 'HOME': '/nonexistent'}
    with open(log_path, 'ab') as log:
        proc = subprocess.Popen(as_user(user) + ['/usr/bin/python3', test.client_script],
                                env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=log, preexec_fn=dbus_private.die_with_parent)
    proc.dermaroll_name = f'client ({name})'
    proc.log_path = log_path
    Processes.live[proc.pid] = (proc.dermaroll_name, proc)
    test.addCleanup(stop_client, proc)
    return proc


def stop_client(proc):
    if proc.stdin:
        proc.stdin.close()
    Processes.stop(proc, signal.SIGKILL)


def ask(proc, cmd):
    '''One command to a client, its answer (a client that dies fails).'''
    proc.stdin.write((json.dumps(cmd) + '\n').encode())
    proc.stdin.flush()
    line = proc.stdout.readline()
    if not line:
        raise AssertionError(f'{proc.dermaroll_name} exited with {proc.wait()}:\n'
                             f'{tail(proc.log_path)}')
    return json.loads(line)


class SystemPolicy(unittest.TestCase):

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest('needs root: it creates throwaway users and runs the daemon and clients '
                          'as them')
        for name in ('setpriv', 'useradd', 'groupadd', 'userdel', 'groupdel', 'dbus-daemon'):
            if tool(name) is None:
                self.skipTest(f'{name} not installed')
        for path in (emulator_path(), daemon_path()):
            if not os.access(path, os.X_OK):
                self.skipTest(f'{path} not built')

        self.tmp = tempfile.mkdtemp(prefix='dermaroll-policy-')
        self.addCleanup(self.cleanup_tmp)
        # Searchable, not listable, by the test's users.
        os.chmod(self.tmp, 0o711)
        self.accounts = Accounts()
        self.addCleanup(self.accounts.remove)

        # The policy as installed, with only the user and group names
        # changed to the throwaway ones.
        with open(POLICY, encoding='utf-8') as f:
            policy = f.read()
        renamed, n_users = re.subn(r'user="dermaroll"', f'user="{self.accounts.daemon}"', policy)
        renamed, n_groups = re.subn(r'group="dermaroll"', f'group="{self.accounts.group}"',
                                    renamed)
        self.assertEqual((n_users, n_groups), (1, 1), 'org.dermaroll.conf changed shape')
        self.policy_path = os.path.join(self.tmp, 'org.dermaroll.conf')
        with open(self.policy_path, 'w', encoding='utf-8') as f:
            f.write(renamed)
        bluez_policy = os.path.join(self.tmp, 'bluetooth.conf')
        with open(bluez_policy, 'w', encoding='utf-8') as f:
            f.write(BLUEZ_POLICY.format(daemon_user=self.accounts.daemon))

        # Files the other users run and read, in a directory they can reach
        # (the source and build trees may not be).
        self.client_script = os.path.join(self.tmp, 'policy_client.py')
        shutil.copy(os.path.join(HERE, 'policy_client.py'), self.client_script)
        os.chmod(self.client_script, 0o644)
        self.daemon_bin = os.path.join(self.tmp, 'dermarolld')
        shutil.copy(daemon_path(), self.daemon_bin)
        os.chmod(self.daemon_bin, 0o755)

        self.bus = dbus_private.PrivateBus(self.tmp, 'system', policy=dbus_private.SYSTEM_POLICY,
                                           includes=[bluez_policy, self.policy_path])
        self.addCleanup(self.bus.stop)
        self.conn = connect(self.bus.address)
        self.addCleanup(self.conn.close_sync, None)
        self.start_emulator()

    def cleanup_tmp(self):
        if os.environ.get('DERMAROLL_KEEP_TMP'):
            print(f'kept {self.tmp}', file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def start_emulator(self):
        proc = Processes.spawn('roller-emulator',
                               [emulator_path(), '--bus', self.bus.address,
                                '--roller', ADDRESS + ',Policy roller', '--pattern', 'face',
                                '--rate', '25', '--samples', '250'],
                               dict(os.environ), os.path.join(self.tmp, 'emulator.log'),
                               stdout=subprocess.PIPE)
        self.addCleanup(Processes.stop, proc)
        line = proc.stdout.readline().decode()
        self.assertTrue(line.startswith('READY'), f'emulator said {line!r}:\n'
                        f'{tail(os.path.join(self.tmp, "emulator.log"))}')

    def start_daemon(self):
        '''dermarolld --system as the daemon user; returns its unique name.'''
        uid, gid = self.accounts.ids(self.accounts.daemon)
        state = os.path.join(self.tmp, 'state')
        os.mkdir(state, 0o700)
        os.chown(state, uid, gid)
        config = os.path.join(self.tmp, 'dermaroll.conf')
        with open(config, 'w', encoding='utf-8') as f:
            f.write('')
        os.chmod(config, 0o644)
        self.db_path = os.path.join(state, 'dermaroll.db')
        env = {'PATH': '/usr/bin:/bin', 'LANG': 'C.UTF-8', 'HOME': state,
               'DBUS_SYSTEM_BUS_ADDRESS': self.bus.address, 'G_MESSAGES_DEBUG': 'all'}
        self.daemon_log = os.path.join(self.tmp, 'dermarolld.log')
        self.daemon = Processes.spawn(
            'dermarolld', as_user(self.accounts.daemon)
            + [self.daemon_bin, '--system', '--db', self.db_path, '--config', config, '--verbose'],
            env, self.daemon_log)
        self.addCleanup(Processes.stop, self.daemon)
        wait_for_name(self.conn, DERMAROLL, 15, proc=self.daemon)
        owner = call(self.conn, 'org.freedesktop.DBus', '/org/freedesktop/DBus',
                     'org.freedesktop.DBus', 'GetNameOwner', '(s)', (DERMAROLL,))
        return owner

    def pair(self):
        '''root pairs the roller (root may call the daemon); its path.'''
        path = call(self.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'Pair', '(s)', (ADDRESS,),
                    timeout=30)
        self.assertEqual(path, roller_object_path(ADDRESS))
        return path

    def all_calls(self, dest, roller_path):
        # root may read it: the default person, whom every user's walk reaches
        person_path = call(self.conn, DERMAROLL, MANAGER_PATH, PROPS_IFACE, 'Get', '(ss)',
                           (MANAGER_IFACE, 'DefaultPerson'))
        calls = (interface_calls(dest, MANAGER_PATH, INTERFACES[0])
                 + interface_calls(dest, roller_path, INTERFACES[1])
                 + interface_calls(dest, person_path, INTERFACES[2])
                 + standard_calls(dest, MANAGER_PATH) + standard_calls(dest, roller_path)
                 + standard_calls(dest, person_path)
                 + [('GetManagedObjects', [dest, MANAGER_PATH, 'org.freedesktop.DBus.ObjectManager',
                                           'GetManagedObjects', None, []]),
                    ('a path that does not exist',
                     [dest, '/org/dermaroll/nothing', PROPS_IFACE, 'GetAll', '(s)',
                      [MANAGER_IFACE]])])
        # Every method and property of the interfaces is in the walk.
        for xml_path in INTERFACES:
            for iface in ET.parse(xml_path).getroot().iter('interface'):
                for m in iface.iter('method'):
                    self.assertIn(f'{iface.get("name")}.{m.get("name")}', [d for d, _ in calls])
        return calls

    def walk(self, user, name, calls):
        client = spawn_client(self, user, name)
        results = ask(client, {'op': 'calls', 'calls': [c for _, c in calls]})['results']
        self.assertEqual(len(results), len(calls))
        return [(desc, res) for (desc, _), res in zip(calls, results)]

    def test_outsider_denied_everything(self):
        unique = self.start_daemon()
        roller = self.pair()
        for dest in (DERMAROLL, unique):
            calls = self.all_calls(dest, roller)
            results = self.walk(self.accounts.outsider, 'outsider', calls)
            not_denied = [(desc, res) for desc, res in results if res != ACCESS_DENIED]
            self.assertEqual(not_denied, [], f'calls to {dest} the outsider was not refused')
            print(f'# outsider: {len(results)} calls to {dest}, all AccessDenied')

    def test_member_reaches_everything(self):
        self.start_daemon()
        roller = self.pair()
        calls = self.all_calls(DERMAROLL, roller)
        # Forget last: it removes the roller the other calls are about.
        calls.sort(key=lambda c: c[0].endswith('.Forget'))
        results = self.walk(self.accounts.member, 'member', calls)
        refused = [(desc, res) for desc, res in results if res in BUS_REFUSALS]
        self.assertEqual(refused, [], 'calls of a member of the group the bus refused')
        answered = sum(1 for _, res in results if res is None)
        print(f'# member: {len(results)} calls, none refused by the bus '
              f'({answered} method returns, {len(results) - answered} errors from the daemon)')
        # root, too, is let through (the harness called Pair already).
        self.assertEqual(call(self.conn, DERMAROLL, MANAGER_PATH, PROPS_IFACE, 'Get', '(ss)',
                              (MANAGER_IFACE, 'Discovering')), False)

    def test_outsider_hears_no_signals(self):
        unique = self.start_daemon()
        outsider = spawn_client(self, self.accounts.outsider, 'outsider')
        member = spawn_client(self, self.accounts.member, 'member')
        for client in (outsider, member):
            self.assertEqual(ask(client, {'op': 'subscribe'}), {'ok': True})
        # The daemon speaks: a roller appears (InterfacesAdded), connects
        # (PropertiesChanged), discovery starts and stops.
        self.pair()
        call(self.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'StartDiscovery')
        call(self.conn, DERMAROLL, MANAGER_PATH, MANAGER_IFACE, 'StopDiscovery')
        # root's call returned after the daemon emitted; a member then
        # has what the bus delivered.
        heard = ask(member, {'op': 'sync'})['signals']
        from_daemon = [s for s in heard if s[0] == unique]
        members = {s[3] for s in from_daemon}
        self.assertIn('InterfacesAdded', members, f'the member heard {heard}')
        self.assertIn('PropertiesChanged', members)
        # The bus queued every signal to every recipient when the member got
        # it: the outsider's round trip started after that, so what it has
        # is all it would ever get of them.
        heard = ask(outsider, {'op': 'sync'})['signals']
        self.assertEqual([s for s in heard if s[0] == unique], [],
                         'signals of the daemon the outsider heard')
        # It was listening: bluetoothd's signals (allowed to everyone) came.
        self.assertTrue(any(s[2] == PROPS_IFACE and s[1].startswith('/org/bluez/') for s in heard),
                        f'the outsider heard nothing at all: {heard}')
        print(f'# member heard {len(from_daemon)} signals of the daemon '
              f'({", ".join(sorted(members))}); the outsider none, and {len(heard)} of bluetoothd')

    def test_only_daemon_user_owns_name(self):
        # Before the daemon is there, nobody else may take the name: not the
        # outsider, not a member, not root.
        for user, name in ((self.accounts.outsider, 'outsider'), (self.accounts.member, 'member')):
            client = spawn_client(self, user, name)
            self.assertEqual(ask(client, {'op': 'request-name', 'name': DERMAROLL}),
                             {'error': ACCESS_DENIED, 'reply': None}, name)
        try:
            call(self.conn, 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                 'RequestName', '(su)', (DERMAROLL, 4))
            self.fail('root could own org.dermaroll')
        except Exception as exc:  # GLib.Error
            self.assertEqual(dbus_error(exc)[0], ACCESS_DENIED)
        # The daemon's user may, and its daemon does.
        unique = self.start_daemon()
        uid = call(self.conn, 'org.freedesktop.DBus', '/org/freedesktop/DBus',
                   'org.freedesktop.DBus', 'GetConnectionUnixUser', '(s)', (unique,))
        self.assertEqual(uid, self.accounts.ids(self.accounts.daemon)[0])
        # A second process of that user is told the name is taken, not denied.
        client = spawn_client(self, self.accounts.daemon, 'daemon-user')
        self.assertEqual(ask(client, {'op': 'request-name', 'name': DERMAROLL}),
                         {'error': None, 'reply': 3})   # DBUS_REQUEST_NAME_REPLY_EXISTS


if __name__ == '__main__':
    unittest.main(verbosity=2)
