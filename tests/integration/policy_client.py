#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''policy_client.py: a D-Bus client that test_system_policy.py runs as
another user (setpriv), driven one JSON command a line on stdin, answering
one JSON line each on stdout.

    {"op": "calls", "calls": [[dest, path, iface, method, signature, args], ...]}
        -> {"results": [error name or null, ...]}   (null: a method return)
    {"op": "subscribe"}   every signal the bus lets through: AddMatch type='signal'
        -> {"ok": true}
    {"op": "sync"}        a round trip to the bus driver, then every signal
                          received so far: the bus queues a signal to every
                          recipient at once, so one that the bus delivered
                          before this op started is in the list
        -> {"signals": [[sender, path, iface, member], ...]}
    {"op": "request-name", "name": N}
        -> {"error": error name or null, "reply": RequestName's answer or null}

Arguments of signature v are given as [signature, value]. Standard library
and Debian's python3-gi only; the file must be readable by that user (the
test copies it into its directory).
'''

import json
import os
import sys

import gi
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

TIMEOUT_MS = 10000


def main():
    conn = Gio.DBusConnection.new_for_address_sync(
        os.environ['DBUS_SYSTEM_BUS_ADDRESS'],
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
        None, None)
    signals = []
    ctx = GLib.MainContext.default()

    def on_signal(_conn, sender, path, iface, member, _params):
        signals.append([sender, path, iface, member])

    def reply(obj):
        sys.stdout.write(json.dumps(obj) + '\n')
        sys.stdout.flush()

    def error_name(exc):
        return Gio.DBusError.get_remote_error(exc) or f'(local) {exc.message}'

    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd['op']
        if op == 'calls':
            results = []
            for dest, path, iface, method, sig, args in cmd['calls']:
                params = None
                if sig:
                    types = _types(sig)
                    values = [GLib.Variant(a[0], a[1]) if t == 'v' else a
                              for t, a in zip(types, args)]
                    params = GLib.Variant(sig, tuple(values))
                try:
                    conn.call_sync(dest, path, iface, method, params, None,
                                   Gio.DBusCallFlags.NONE, TIMEOUT_MS, None)
                    results.append(None)
                except GLib.Error as exc:
                    results.append(error_name(exc))
            reply({'results': results})
        elif op == 'subscribe':
            conn.signal_subscribe(None, None, None, None, None, Gio.DBusSignalFlags.NONE,
                                  on_signal)
            # The AddMatch is sent before this round trip, so it is in force
            # when the answer goes out.
            conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                           'GetId', None, None, Gio.DBusCallFlags.NONE, TIMEOUT_MS, None)
            reply({'ok': True})
        elif op == 'sync':
            conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                           'GetId', None, None, Gio.DBusCallFlags.NONE, TIMEOUT_MS, None)
            while ctx.pending():
                ctx.iteration(False)
            reply({'signals': signals})
        elif op == 'request-name':
            try:
                res = conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                     'org.freedesktop.DBus', 'RequestName',
                                     GLib.Variant('(su)', (cmd['name'], 4)), None,
                                     Gio.DBusCallFlags.NONE, TIMEOUT_MS, None)
                reply({'error': None, 'reply': res.unpack()[0]})
            except GLib.Error as exc:
                reply({'error': error_name(exc), 'reply': None})
        else:
            reply({'bad-op': op})
    return 0


def _types(sig):
    '''The complete types of a tuple signature "(...)", in order.'''
    out, i, body = [], 0, sig[1:-1]
    while i < len(body):
        j = i
        while body[j] == 'a':
            j += 1
        if body[j] in '({':
            depth, k = 0, j
            while True:
                if body[k] in '({':
                    depth += 1
                elif body[k] in ')}':
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            j = k
        out.append(body[i:j + 1])
        i = j + 1
    return out


if __name__ == '__main__':
    sys.exit(main())
