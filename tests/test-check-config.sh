#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-check-config.sh: `dermarolld --check-config [--config FILE]` on good
# and bad files (exit status 0 or 78 = EX_CONFIG, every problem listed with
# its file and line), and the daemon itself refusing to start with 78 on a
# bad file, before it opens its database or a bus.
# Then dermarollctl, when D-Bus activation of such a daemon fails, says that
# the daemon refused its configuration and how to see why.
# Usage: test-check-config.sh DERMAROLLD DERMAROLLCTL
set -u
daemon=$1
ctl=$2
tmp=$(mktemp -d)
dbus_pid=
cleanup() {
    [ -n "$dbus_pid" ] && kill "$dbus_pid" 2>/dev/null
    chmod -R u+rwx "$tmp"
    rm -rf "$tmp"
}
trap cleanup EXIT
# No bus to reach: a daemon that got past its config would fail otherwise.
export DBUS_SESSION_BUS_ADDRESS=unix:path=$tmp/none DBUS_SYSTEM_BUS_ADDRESS=unix:path=$tmp/none
export XDG_CONFIG_HOME=$tmp/xdg
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }

# run NAME WANT_STATUS ARGS...: runs the daemon, keeps its output in $out.
run() {
    local name=$1 want=$2
    shift 2
    out=$("$daemon" "$@" 2>&1)
    local rc=$?
    if [ "$rc" = "$want" ]; then
        ok "$name: exit status $want"
    else
        not_ok "$name: exit status $want"
        echo "# got $rc; output:"
        sed 's/^/# /' <<<"$out"
    fi
}

# has NAME TEXT: the last run's output has TEXT (a fixed string, one line).
has() {
    if grep -qxF -- "$2" <<<"$out"; then
        ok "$1"
    else
        not_ok "$1"
        echo "# want the line: $2"
        sed 's/^/# got: /' <<<"$out"
    fi
}

good=$tmp/good.conf
cat >"$good" <<'CONF'
[engine]
contact-force-n=0.6
[zone chin]
excluded=true
[notifications]
head-worn=false
zone-ready=false
CONF
run "good file" 0 --check-config --config "$good"
has "good file: OK" "$good: OK"

bad=$tmp/bad.conf
cat >"$bad" <<'CONF'
[engine]
contact-force-n=abc
[zone chin]
excluded=true
[enigne]
session-gap-s=60
[zone chin]
excluded=false
[rest-days]
short=nan
[force-limits]
long-n=1e400
[notifications]
head-worn=maybe
CONF
run "bad file" 78 --check-config --config "$bad"
has "bad value: file, line, group, key, value, range" \
    "$bad:2: [engine] contact-force-n: must be a number > 0 and <= 50, got \"abc\""
has "misspelt group: a warning with the nearest name" \
    "warning: $bad:5: unknown group [enigne], ignored; did you mean [engine]?"
has "duplicate group" "$bad:7: group [zone chin] given twice (first at line 3): merge them into one"
has "duplicate key" "$bad:8: [zone chin] excluded: given twice (first at line 4): only one may stay"
has "nan" "$bad:10: [rest-days] short: must be a number from 0 to 3650, got \"nan\""
has "huge" "$bad:12: [force-limits] long-n: must be a number > 0 and <= 50, got \"1e400\""
has "a notifications value" "$bad: [notifications] head-worn: must be true or false, got \"maybe\""
has "the verdict" "$bad: the daemon would refuse to start with this file"

warn=$tmp/warn.conf
printf '[zone chin]\nexcluded=true\n[enigne]\ncontact-force-n=1\n' >"$warn"
run "only a misspelt group" 0 --check-config --config "$warn"
has "only a misspelt group: warned" \
    "warning: $warn:3: unknown group [enigne], ignored; did you mean [engine]?"
has "only a misspelt group: OK with warnings" "$warn: OK (with warnings)"

nul=$tmp/nul.conf
printf '\0[zone chin]\nexcluded=true\n' >"$nul"
run "a NUL byte first" 78 --check-config --config "$nul"
has "a NUL byte first: said" "$nul:1: a NUL byte at offset 0: this is not a text config file"

mkdir "$tmp/dir.conf"
run "a directory" 78 --check-config --config "$tmp/dir.conf"
has "a directory: said" "$tmp/dir.conf: is a directory, not a config file"

run "a missing file" 78 --check-config --config "$tmp/missing.conf"
if grep -qF -- "$tmp/missing.conf" <<<"$out" && grep -qF "No such file or directory" <<<"$out"; then
    ok "a missing file: said"
else
    not_ok "a missing file: said"
    sed 's/^/# got: /' <<<"$out"
fi

if [ "$(id -u)" != 0 ]; then
    cp "$good" "$tmp/unreadable.conf"
    chmod 000 "$tmp/unreadable.conf"
    run "an unreadable file" 78 --check-config --config "$tmp/unreadable.conf"
    if grep -qF "Permission denied" <<<"$out"; then ok "an unreadable file: said"; else not_ok "an unreadable file: said"; fi
else
    n=$((n + 1)); echo "ok $n # SKIP an unreadable file: root reads any file"
fi

# No file named and none in the default places: the defaults, fine.
run "no config file" 0 --check-config
# The user's file is found where the daemon looks for it.
mkdir -p "$XDG_CONFIG_HOME/dermaroll"
cp "$bad" "$XDG_CONFIG_HOME/dermaroll/dermaroll.conf"
run "the user's file by default" 78 --check-config
has "the user's file by default: named" \
    "$XDG_CONFIG_HOME/dermaroll/dermaroll.conf: the daemon would refuse to start with this file"
rm "$XDG_CONFIG_HOME/dermaroll/dermaroll.conf"

# The daemon itself: refuses with 78 before it opens the database.
db=$tmp/state/dermaroll.db
run "the daemon refuses a bad file" 78 --config "$bad" --db "$db" --no-notify
has "the daemon says why" "dermarolld: refusing to start: $bad has errors:"
has "the daemon lists every problem" \
    "$bad:12: [force-limits] long-n: must be a number > 0 and <= 50, got \"1e400\""
has "the daemon says how to check" "dermarolld: check it with: dermarolld --check-config --config $bad"
if [ ! -e "$db" ]; then ok "no database made"; else not_ok "no database made"; fi
run "the daemon refuses a NUL file" 78 --config "$nul" --db "$db" --no-notify
run "the daemon refuses a missing file" 78 --config "$tmp/missing.conf" --db "$db" --no-notify

# D-Bus activation of a daemon that refuses its config: dbus-daemon only
# says "exited with status 78"; dermarollctl says what it means.
mkdir -p "$tmp/services" "$XDG_CONFIG_HOME/dermaroll"
cp "$bad" "$XDG_CONFIG_HOME/dermaroll/dermaroll.conf"
cat >"$tmp/services/org.dermaroll.service" <<SERVICE
[D-BUS Service]
Name=org.dermaroll
Exec=$daemon --db $db --no-notify
SERVICE
cat >"$tmp/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$tmp</listen>
  <servicedir>$tmp/services</servicedir>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
mkfifo "$tmp/bus.address"
dbus-daemon --config-file="$tmp/bus.conf" --nofork --print-address=1 >"$tmp/bus.address" \
    2>"$tmp/bus.err" &
dbus_pid=$!
# The address is its first line; read waits for it, at most 10 s.
if read -r -t 10 bus <"$tmp/bus.address"; then
    out=$(DBUS_SESSION_BUS_ADDRESS=$bus "$ctl" status 2>&1)
    rc=$?
    if [ "$rc" = 1 ]; then ok "dermarollctl: fails (1)"; else not_ok "dermarollctl: fails (1), got $rc"; fi
    has "dermarollctl: says the config was refused and how to see why" \
        "dermarollctl: dermarolld refused its configuration and did not start: run 'dermarolld --check-config' to see every problem (config file: $XDG_CONFIG_HOME/dermaroll/dermaroll.conf)"
    kill "$dbus_pid"
    dbus_pid=
else
    not_ok "a private session bus with activation starts"
    sed 's/^/# /' "$tmp/bus.err"
fi

echo "1..$n"
exit $failed
