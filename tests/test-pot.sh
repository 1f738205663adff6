#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-pot.sh: the translation template as the build writes it (ninja
# dermaroll-pot, po/dermaroll.pot): every file of app/ and common/ that
# marks strings is in po/POTFILES.in, and the template holds the app's
# strings, the zone names of common/zones.c and the stroke directions.
# Usage: test-pot.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
src=$2
pot=$src/po/dermaroll.pot
n=0
failed=0
ok() {
    n=$((n + 1))
    if [ "$1" = 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        failed=1
    fi
}

# Marked strings: _ ( N_ ( C_ ( g_dngettext; a file that has them and is
# not listed would be left out of the template without a word.
missing=""
for f in $(cd "$src" && grep -lE '\b(N?_|C_|g_dngettext) \(' app/*.c common/*.c); do
    grep -qx "$f" "$src/po/POTFILES.in" || missing="$missing $f"
done
[ -z "$missing" ]
ok $? "every file with marked strings is in po/POTFILES.in${missing:+ (missing:$missing)}"

log=$(ninja -C "$build" dermaroll-pot 2>&1)
status=$?
[ "$status" = 0 ]
ok $? "ninja dermaroll-pot${log:+: $(printf '%s' "$log" | tail -n 3 | tr '\n' ' ')}"

for msgid in forehead "left cheek" "right cheek" nose "upper lip" chin neck \
    horizontal vertical diagonal "%s missing" "%s and %s missing" \
    "Dermaroll" "Preferences" "Low battery" "Rename this person" \
    "Your face map fills in while you roll"; do
    grep -qxF "msgid \"$msgid\"" "$pot" 2>/dev/null
    ok $? "the template has \"$msgid\""
done
echo "1..$n"
exit $failed
