#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-completion.sh: client/dermarollctl.bash-completion completes the
# commands, each command's options and fixed values. (Addresses, zones and
# sessions come from the daemon; tests/integration covers those commands.)
# Needs bash-completion's _init_completion; skips without it.
# Usage: test-completion.sh COMPLETION_FILE DERMAROLLCTL
set -u
bc=/usr/share/bash-completion/bash_completion
if [ ! -r "$bc" ]; then
    echo "1..0 # SKIP bash-completion is not installed"
    exit 0
fi
. "$bc"
. "$1"
# No daemon to ask: the dynamic parts must come out empty, quickly.
PATH=$(dirname "$2"):$PATH
export DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent

n=0
failed=0
check() {
    local line=$1 want=$2
    COMP_LINE=$line
    COMP_POINT=${#line}
    read -ra COMP_WORDS <<<"$line"
    [[ $line == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _dermarollctl
    n=$((n + 1))
    if [ "${COMPREPLY[*]}" = "$want" ]; then
        echo "ok $n - '$line'"
    else
        echo "not ok $n - '$line'"
        echo "# got:  ${COMPREPLY[*]}"
        echo "# want: $want"
        failed=1
    fi
}

check "dermarollctl " "scan pair forget list status watch zone start stop sessions coverage events zones exclude include notifications export sync people person help"
check "dermarollctl se" "sessions"
check "dermarollctl --" "--system --roller --person --json --help --version"
check "dermarollctl pe" "people person"
check "dermarollctl --system st" "status start stop"
check "dermarollctl sessions --" "--since --until --roller --person --json --system --help"
check "dermarollctl coverage --p" "--person"
check "dermarollctl events --" "--person --json --system --help"
check "dermarollctl exclude --" "--person --system --help"
check "dermarollctl include --p" "--person"
check "dermarollctl export --p" "--person"
check "dermarollctl zones --p" "--person"
check "dermarollctl people --" "--names --json --system --help"
check "dermarollctl person " "add rename remove use"
check "dermarollctl notifications " "list enable disable"
check "dermarollctl notifications disable low" "low-battery"
check "dermarollctl notifications --" "--json --system --help"
check "dermarollctl person re" "rename remove"
check "dermarollctl person remove Ann --" "--delete-data --system --help"
check "dermarollctl person use Ann --" "--roller --system --help"
check "dermarollctl person add --" "--system --help"
check "dermarollctl person add Ann " ""
check "dermarollctl person rename Ann Bob " ""
check "dermarollctl export --format " "csv json"
check "dermarollctl export --format csv --s" "--since --samples --system"
check "dermarollctl watch --t" "--timeout"
check "dermarollctl zones --" "--names --person --json --system --help"
check "dermarollctl help ev" "events"
check "dermarollctl list extra " ""
start=$(date +%s)
check "dermarollctl zone " ""
check "dermarollctl coverage " "last"
check "dermarollctl --person " ""
check "dermarollctl sessions --person " ""
check "dermarollctl person use " ""
check "dermarollctl --person Ann coverage " "last"
n=$((n + 1))
if [ $(($(date +%s) - start)) -le 3 ]; then
    echo "ok $n - no daemon: nothing to complete, at once"
else
    echo "not ok $n - no daemon: completion took $(($(date +%s) - start)) s"
    failed=1
fi
echo "1..$n"
exit $failed
