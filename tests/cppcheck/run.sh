#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/cppcheck/run.sh SOURCE_ROOT BUILD_DIR: Debian's cppcheck over the
# project's own C (daemon, common, protocol, client, the app, the emulator); exit 1
# on any finding. False positives are suppressed inline, each with its
# reason: /* cppcheck-suppress ID ; why */ on the line before.
set -eu
src=$1
build=$2
cd "$src"
# shellcheck disable=SC2046
exec cppcheck --library=gtk --library=posix --library="$src/tests/cppcheck/glib-extra.cfg" \
  --std=c11 -D_GNU_SOURCE -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 \
  -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74 \
  -I daemon -I daemon/bluez -I daemon/engine -I daemon/store -I protocol -I common \
  -I "$build/common" -I client -I app -I tests/emulator \
  --enable=warning,performance,portability --inline-suppr --error-exitcode=1 -q -j2 \
  $(git ls-files 'daemon/*.c' 'common/*.c' 'protocol/*.c' 'client/*.c' 'app/*.c' \
    'tests/emulator/*.c')
