#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench-export: `dermarollctl export --samples` of a long history.

Fills a database with tests/store-fill (SESSIONS sessions of SAMPLES
samples, 100 Hz, 25 a frame), starts the real dermarolld on it on private
buses, and runs the export RUNS times to a file. Prints, per run and as
the median with min-max: wall time (CLOCK_MONOTONIC), samples/s, the
client's peak RSS (wait4's ru_maxrss) and the daemon's peak RSS during the
run (VmHWM, reset before each run through /proc/PID/clear_refs; the
client's VmHWM read while it runs, after each read of its output). With
--compare-ctl OTHER it also runs OTHER (e.g. a dermarollctl built from an
older tree) on the same daemon and checks the two outputs are the same
bytes (JSON: but for exported_at). A benchmark, not a test: it asserts
nothing about speed. Every process it starts is stopped by pid.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dbus_private  # noqa: E402

ADDRESS = 'C0:FF:EE:00:0E:01'


def build_root():
    return os.environ.get('DERMAROLL_BUILD_ROOT') or os.path.join(HERE, '..', 'build')


def vm_hwm_kb(pid):
    with open(f'/proc/{pid}/status', encoding='ascii') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    return 0


def vm_rss_kb(pid):
    with open(f'/proc/{pid}/status', encoding='ascii') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def reset_hwm(pid):
    try:
        with open(f'/proc/{pid}/clear_refs', 'w', encoding='ascii') as f:
            f.write('5')
        return True
    except OSError:
        return False


def run_ctl(ctl, env, args, out_path):
    '''Runs ctl with its stdout a pipe copied to out_path; returns (wall
    s, the client's peak RSS in KiB). The peak is VmHWM read while the
    client is alive, after each read: wait4's ru_maxrss would count this
    Python process too, whose pages the child had before its exec.'''
    start = time.monotonic()
    peak = 0
    with open(out_path, 'wb') as out:
        proc = subprocess.Popen([ctl, *args], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        fd = proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            try:
                peak = max(peak, vm_hwm_kb(proc.pid))
            except FileNotFoundError:
                pass
            out.write(chunk)
        proc.wait()
    wall = time.monotonic() - start
    err = proc.stderr.read().decode(errors='replace')
    proc.stderr.close()
    proc.stdout.close()
    if proc.returncode != 0:
        raise RuntimeError(f'{ctl} {" ".join(args)} failed: {err}')
    return wall, peak


def strip_exported_at(data):
    return re.sub(rb'"exported_at": "[^"]*"', b'"exported_at": ""', data, count=1)


def median_range(values, fmt):
    return f'{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--sessions', type=int, default=100)
    ap.add_argument('--samples', type=int, default=30000, help='samples per session')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--format', default='csv', choices=('csv', 'json'))
    ap.add_argument('--ctl', default=os.path.join(build_root(), 'client', 'dermarollctl'))
    ap.add_argument('--daemon', default=os.path.join(build_root(), 'daemon', 'dermarolld'))
    ap.add_argument('--compare-ctl', help='another dermarollctl whose output must be the same')
    ap.add_argument('--keep', action='store_true', help='keep the temporary folder')
    opts = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix='bench-export-')
    os.chmod(tmp, 0o700)
    buses, daemon = [], None
    try:
        db = os.path.join(tmp, 'dermaroll.db')
        t = time.monotonic()
        subprocess.run([os.path.join(build_root(), 'tests', 'store-fill'), db, ADDRESS,
                        str(opts.sessions), str(opts.samples)], check=True)
        total = opts.sessions * opts.samples
        print(f'filled {opts.sessions} sessions x {opts.samples} samples = {total} samples '
              f'in {time.monotonic() - t:.1f} s ({os.path.getsize(db) / 1e6:.0f} MB)')
        session = dbus_private.PrivateBus(tmp, 'session', limits=dbus_private.SESSION_LIMITS)
        buses.append(session)
        system = dbus_private.PrivateBus(tmp, 'system')
        buses.append(system)
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=session.address,
                   DBUS_SYSTEM_BUS_ADDRESS=system.address, TZ='UTC', LC_ALL='C.UTF-8')
        log = open(os.path.join(tmp, 'daemon.log'), 'wb')
        daemon = subprocess.Popen([opts.daemon, '--db', db, '--no-notify'], env=env,
                                  stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        # Ready when the CLI gets an answer.
        deadline = time.monotonic() + 30
        while True:
            p = subprocess.run([opts.ctl, 'sessions', '--json'], env=env, capture_output=True)
            if p.returncode == 0:
                break
            if time.monotonic() > deadline or daemon.poll() is not None:
                raise RuntimeError('the daemon did not come up: ' + p.stderr.decode())
            time.sleep(0.1)  # a benchmark's start-up wait, not a test's
        print(f'daemon before the exports: peak RSS {vm_hwm_kb(daemon.pid) / 1024:.1f} MB')
        args = ['export', '--format', opts.format, '--samples']
        walls, ctl_rss, daemon_rss = [], [], []
        out = os.path.join(tmp, 'export.' + opts.format)
        can_reset = reset_hwm(daemon.pid)
        for i in range(opts.runs):
            reset_hwm(daemon.pid)
            before = vm_rss_kb(daemon.pid) / 1024
            wall, rss = run_ctl(opts.ctl, env, args, out)
            walls.append(wall)
            ctl_rss.append(rss / 1024)
            daemon_rss.append(vm_hwm_kb(daemon.pid) / 1024)
            print(f'run {i + 1}: {wall:.2f} s, {total / wall / 1e6:.2f} M samples/s, '
                  f'client peak RSS {rss / 1024:.1f} MB, daemon peak RSS '
                  f'{daemon_rss[-1]:.1f} MB ({before:.1f} MB before), output {os.path.getsize(out) / 1e6:.0f} MB')
        print(f'cpu: {open("/proc/cpuinfo").read().split("model name")[1].split(":")[1].splitlines()[0].strip()}, '
              f'{os.cpu_count()} cores; load {os.getloadavg()[0]:.1f} at the end')
        print(f'median (min-max) of {opts.runs}: wall {median_range(walls, "{:.2f}")} s; '
              f'{median_range([total / w / 1e6 for w in walls], "{:.2f}")} M samples/s; '
              f'client peak RSS {median_range(ctl_rss, "{:.1f}")} MB; daemon peak RSS '
              f'{median_range(daemon_rss, "{:.1f}")} MB'
              + ('' if can_reset else ' (daemon: VmHWM since start, clear_refs refused)'))
        if opts.compare_ctl:
            other = os.path.join(tmp, 'other.' + opts.format)
            wall, rss = run_ctl(opts.compare_ctl, env, args, other)
            print(f'{opts.compare_ctl}: {wall:.2f} s, {total / wall / 1e6:.2f} M samples/s, '
                  f'client peak RSS {rss / 1024:.1f} MB, daemon peak RSS '
                  f'{vm_hwm_kb(daemon.pid) / 1024:.1f} MB (since start)')
            with open(out, 'rb') as a, open(other, 'rb') as b:
                x, y = a.read(), b.read()
            if opts.format == 'json':
                x, y = strip_exported_at(x), strip_exported_at(y)
            print('outputs: ' + ('the same bytes' if x == y else 'DIFFERENT'))
            if x != y:
                return 1
        return 0
    finally:
        if daemon is not None:
            dbus_private.stop_pid(daemon)
        for bus in reversed(buses):
            bus.stop()
        if opts.keep:
            print('kept', tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
