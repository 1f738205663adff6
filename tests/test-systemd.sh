#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-systemd.sh: the units, activation files, bus policy and sysusers entry
# as meson configured them for installation.
#   test-systemd.sh BUILD_SYSTEMD_DIR SOURCE_SYSTEMD_DIR LIBEXECDIR [DERMAROLLD]
# - systemd-analyze verify passes on both units, with no warning at all;
# - systemd-analyze security rates the system unit 2.0 or lower and the
#   user unit 6.0 or lower (6.0 reached: what is left needs namespaces,
#   capabilities or cgroup BPF, none of which a user manager has);
# - the D-Bus activation files name the units that really exist and own
#   the name they activate; the policy parses; sysusers creates the user.
# verify refuses a unit whose ExecStart= binary is missing, so each unit is
# checked as a copy whose ExecStart= path, and nothing else, points at the
# built dermarolld (or, before the daemon links, a stand-in of that name).
# Exit 77 (skip) only when systemd-analyze itself is not there.
set -u

built=$1 src=$2 libexecdir=$3 daemon=${4:-}
max_exposure=2.0
max_user_exposure=6.0

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "1..0 # SKIP systemd-analyze not installed"
  exit 77
fi

tmp=$(mktemp -d)
dbus_pid=
cleanup () {
  [ -n "$dbus_pid" ] && kill "$dbus_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

n=0 failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check () { # check DESCRIPTION COMMAND...
  d=$1; shift
  if "$@" >"$tmp/out" 2>&1; then ok "$d"; else not_ok "$d"; sed 's/^/# /' "$tmp/out"; fi
}

if [ -z "$daemon" ] || [ ! -x "$daemon" ]; then
  # dermarolld does not link yet: an executable stand-in under its name.
  mkdir -p "$tmp/bin"
  daemon=$tmp/bin/dermarolld
  printf '#!/bin/sh\nexit 0\n' >"$daemon"
  chmod +x "$daemon"
fi
mkdir -p "$tmp/units" "$tmp/runtime"
chmod 700 "$tmp/runtime"

# Copy a unit with only the ExecStart= binary path changed; fail loudly if
# that is not exactly one line, so the check cannot drift from the unit.
relocate () { # relocate UNIT
  sed "s|^ExecStart=$libexecdir/dermarolld|ExecStart=$daemon|" "$built/$1" >"$tmp/units/$1"
  changed=$(diff "$built/$1" "$tmp/units/$1" | grep -c '^>')
  [ "$changed" = 1 ] && grep -q "^ExecStart=$daemon\\b" "$tmp/units/$1"
}

# verify prints warnings (unknown keys, bad values) but still exits 0, so
# any output about the unit counts as a failure.
verify () { # verify [--user] UNIT
  out=$(XDG_RUNTIME_DIR=$tmp/runtime systemd-analyze "$@" 2>&1)
  status=$?
  [ -n "$out" ] && echo "$out"
  [ "$status" = 0 ] && [ -z "$out" ]
}

for unit in dermarolld.service dermarolld-system.service; do
  check "$unit: ExecStart= is $libexecdir/dermarolld" relocate "$unit"
done
check "user unit: systemd-analyze --user verify" \
  verify --user verify --man=false "$tmp/units/dermarolld.service"
check "system unit: systemd-analyze verify" \
  verify verify --man=false "$tmp/units/dermarolld-system.service"

# The exposure score, from the line
#   → Overall exposure level for dermarolld-system.service: 0.6 SAFE 😀
systemd-analyze security --offline=true --no-pager "$tmp/units/dermarolld-system.service" \
  >"$tmp/security" 2>&1
exposure=$(sed -n 's/.*Overall exposure level for dermarolld-system\.service: \([0-9.]*\).*/\1/p' \
  "$tmp/security")
if [ -n "$exposure" ] && awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }'; then
  ok "system unit: exposure $exposure <= $max_exposure"
else
  not_ok "system unit: exposure '${exposure}' <= $max_exposure"
  sed 's/^/# /' "$tmp/security"
fi
# The user unit cannot use namespaces portably (see the unit), but what a
# user manager allows is all there and stays there.
XDG_RUNTIME_DIR=$tmp/runtime systemd-analyze --user security --offline=true --no-pager \
  "$tmp/units/dermarolld.service" >"$tmp/user-security" 2>&1
user_exposure=$(sed -n 's/.*Overall exposure level for dermarolld\.service: \([0-9.]*\).*/\1/p' \
  "$tmp/user-security")
if [ -n "$user_exposure" ] && awk -v e="$user_exposure" -v m="$max_user_exposure" 'BEGIN { exit !(e <= m) }'; then
  ok "user unit: exposure $user_exposure <= $max_user_exposure"
else
  not_ok "user unit: exposure '${user_exposure}' <= $max_user_exposure"
  sed 's/^/# /' "$tmp/user-security"
fi

# The system unit really has what the issue asks of it.
for line in 'Type=dbus' 'BusName=org.dermaroll' 'ExecStart=.* --system$' 'User=dermaroll' \
  'SupplementaryGroups=bluetooth' 'StateDirectory=dermaroll' 'StateDirectoryMode=0700' \
  'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' 'NoNewPrivileges=yes' \
  'RestrictAddressFamilies=AF_UNIX' 'CapabilityBoundingSet=$' 'SystemCallFilter=@system-service' \
  'MemoryDenyWriteExecute=yes' 'WatchdogSec=' 'Restart=on-failure'; do
  check "system unit has $line" grep -q "^$line" "$built/dermarolld-system.service"
done
for line in 'Type=dbus' 'BusName=org.dermaroll' 'Restart=on-failure' 'WatchdogSec=' \
  'NoNewPrivileges=yes' 'RestrictAddressFamilies=AF_UNIX$' 'RestrictNamespaces=yes' \
  'RestrictRealtime=yes' 'RestrictSUIDSGID=yes' 'LockPersonality=yes' \
  'MemoryDenyWriteExecute=yes' 'KeyringMode=private' 'SystemCallArchitectures=native' \
  'SystemCallFilter=@system-service' 'SystemCallFilter=~@privileged' 'UMask=0077' \
  'StateDirectoryMode=0700'; do
  check "user unit has $line" grep -q "^$line" "$built/dermarolld.service"
done

# The activation files point at what exists.
key () { sed -n "s/^$1=//p" "$2"; }
session_service=$built/org.dermaroll.service
system_service=$src/org.dermaroll.system-service
check "session activation: Name=org.dermaroll" test "$(key Name "$session_service")" = org.dermaroll
check "session activation: SystemdService= is the user unit" \
  test "$(key SystemdService "$session_service")" = dermarolld.service
check "session activation: Exec= is the installed daemon" \
  test "$(key Exec "$session_service")" = "$libexecdir/dermarolld"
check "system activation: Name=org.dermaroll" test "$(key Name "$system_service")" = org.dermaroll
check "system activation: SystemdService= is the system unit's Alias=" \
  test "$(key SystemdService "$system_service")" = "$(key Alias "$built/dermarolld-system.service")"
check "system activation: User= is the unit's User=" \
  test "$(key User "$system_service")" = "$(key User "$built/dermarolld-system.service")"

# sysusers creates exactly that user and group (in a scratch root).
if command -v systemd-sysusers >/dev/null 2>&1; then
  mkdir -p "$tmp/root/etc"
  check "sysusers: creates user and group dermaroll" sh -c \
    "systemd-sysusers --root='$tmp/root' '$src/dermaroll.sysusers' &&
     grep -q '^dermaroll:x:[0-9]*:[0-9]*:' '$tmp/root/etc/passwd' &&
     grep -q '^dermaroll:x:' '$tmp/root/etc/group'"
fi

# The policy parses: a bus that includes it starts (and refuses a broken file).
if command -v dbus-daemon >/dev/null 2>&1; then
  cat >"$tmp/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "https://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:dir=$tmp</listen>
  <policy context="default"><allow user="*"/></policy>
  <include>$src/org.dermaroll.conf</include>
</busconfig>
CONF
  if dbus_pid=$(dbus-daemon --config-file="$tmp/bus.conf" --fork --print-pid=1 2>"$tmp/out"); then
    ok "D-Bus policy: a bus with org.dermaroll.conf starts"
  else
    dbus_pid=
    not_ok "D-Bus policy: a bus with org.dermaroll.conf starts"
    sed 's/^/# /' "$tmp/out"
  fi
fi

echo "1..$n"
[ "$failed" = 0 ]
