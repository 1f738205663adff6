# SPDX-License-Identifier: LGPL-2.1-or-later
'''dbus_private.py: a dbus-daemon of a test's own, for every Python test.

Each test (or test class) starts its own bus in its own temporary directory,
so tests that run in parallel never meet on a bus. The bus allows everything
(any name, eavesdropping for dbus-monitor) and activates nothing; or, with
policy=SYSTEM_POLICY, it is a system bus the way Debian's system.conf makes
one (deny own and method calls by default) with the given policy files
included, for tests of a bus policy. Its
dbus-daemon is ended by its pid: by stop() (from the test's cleanups, on
success and on failure), at interpreter exit, and by the kernel if the test
process dies first (PR_SET_PDEATHSIG). Standard library only: the tests on
python3-dbus and the ones on Gio both use it.
'''

import atexit
import ctypes
import os
import select
import signal
import subprocess
import time

CONFIG = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>{kind}</type>
  <keep_umask/>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
{limits}
</busconfig>
'''

# The default context of Debian's /usr/share/dbus-1/system.conf: nobody owns
# a name or calls a method unless an included file punches the hole.
# Eavesdropping is not allowed either: a test's monitor runs as root through
# BecomeMonitor, which system.conf allows root alone.
SYSTEM_POLICY = '''
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus.Debug.Stats"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
'''

SYSTEM_CONFIG = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
{policy}
{includes}
</busconfig>
'''

# What Debian's /usr/share/dbus-1/session.conf raises above dbus-daemon's
# built-in limits: the bus a user's dermarolld is on.
SESSION_LIMITS = {
    'max_incoming_bytes': 1000000000,
    'max_incoming_unix_fds': 250000000,
    'max_outgoing_bytes': 1000000000,
    'max_outgoing_unix_fds': 250000000,
    'max_message_size': 1000000000,
    'service_start_timeout': 120000,
    'auth_timeout': 240000,
    'pending_fd_timeout': 150000,
    'max_completed_connections': 100000,
    'max_incomplete_connections': 10000,
    'max_connections_per_user': 100000,
    'max_pending_service_starts': 10000,
    'max_names_per_connection': 50000,
    'max_match_rules_per_connection': 50000,
    'max_replies_per_connection': 50000,
}

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent():
    '''preexec_fn for every child a test starts: the kernel kills it when the
    test process dies, however it dies.'''
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def stop_pid(proc, sig=signal.SIGTERM, timeout=5.0):
    '''Signals proc by its pid and reaps it; SIGKILL when it does not go in
    timeout seconds. Returns its exit status (negative: the signal).'''
    if proc.poll() is None:
        try:
            os.kill(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


_live = {}   # pid -> PrivateBus, for the atexit sweep


@atexit.register
def _stop_all():
    for bus in list(_live.values()):
        bus.stop()


class PrivateBus:
    '''A dbus-daemon of type kind ('system' or 'session') listening in
    tmpdir/kind-bus; address is what clients connect to.

    policy=SYSTEM_POLICY (with kind 'system') makes it deny by default like
    the real system bus, with each file of includes (paths) included after
    that, and its socket directory open to every user (tmpdir must be
    searchable by them too).

    limits ({name: value}) sets dbus-daemon's <limit>s, such as the ones
    Debian's session.conf raises (SESSION_LIMITS); without, its built-in
    defaults (128 pending replies per connection, as on the system bus).'''

    def __init__(self, tmpdir, kind='session', dbus_daemon='dbus-daemon', timeout=10.0,
                 policy=None, includes=(), limits=None):
        self.kind = kind
        self.sockdir = os.path.join(tmpdir, kind + '-bus')
        os.mkdir(self.sockdir)
        self.config_path = os.path.join(tmpdir, kind + '-bus.conf')
        if policy is None:
            config = CONFIG.format(kind=kind, dir=self.sockdir, limits='\n'.join(
                f'  <limit name="{name}">{value}</limit>'
                for name, value in (limits or {}).items()))
        else:
            assert kind == 'system', 'a bus policy of the system kind needs a system bus'
            os.chmod(self.sockdir, 0o755)
            config = SYSTEM_CONFIG.format(
                dir=self.sockdir, policy=policy,
                includes='\n'.join(f'  <include>{path}</include>' for path in includes))
        with open(self.config_path, 'w', encoding='utf-8') as f:
            f.write(config)
        self.log_path = os.path.join(tmpdir, kind + '-bus.log')
        with open(self.log_path, 'ab') as log:
            self.proc = subprocess.Popen(
                [dbus_daemon, '--nofork', '--nopidfile', '--print-address=1',
                 '--config-file=' + self.config_path],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                preexec_fn=die_with_parent)
        _live[self.proc.pid] = self
        try:
            self.address = self._read_address(timeout)
        except BaseException:
            self.stop()
            raise

    def _read_address(self, timeout):
        '''The first line dbus-daemon prints, waited for with select.'''
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        buf = b''
        while b'\n' not in buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f'dbus-daemon ({self.kind}) printed no address in {timeout} s')
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise RuntimeError(f'dbus-daemon ({self.kind}) exited with '
                                       f'{self.proc.wait()}: {self.log()}')
                buf += chunk
        return buf.split(b'\n', 1)[0].decode().strip()

    def log(self):
        with open(self.log_path, encoding='utf-8', errors='replace') as f:
            return f.read()

    def stop(self):
        '''Ends the dbus-daemon by its pid; safe to call twice.'''
        status = stop_pid(self.proc)
        _live.pop(self.proc.pid, None)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return status
