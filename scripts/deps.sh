# SPDX-License-Identifier: LGPL-2.1-or-later
# scripts/deps.sh: the exact Debian 12 packages dermaroll builds, tests and
# demos with; sourced by scripts/test, scripts/demo and scripts/bench.
DR_PACKAGES="
  meson ninja-build pkg-config gcc clang clang-format libclang-rt-14-dev valgrind cppcheck
  libglib2.0-dev libglib2.0-bin libsqlite3-dev sqlite3 libsystemd-dev libdbus-1-dev
  dbus python3 python3-dbusmock python3-dbus python3-gi
  librsvg2-bin systemd bash-completion faketime libfaketime
  libgtk-4-dev libadwaita-1-dev xvfb desktop-file-utils appstream gettext gir1.2-gdkpixbuf-2.0
"

# What scripts/bench needs on top: the bleak peer it measures the daemon
# against, and strace to count fsync and page reads. Not for the tests.
DR_BENCH_PACKAGES="
  python3-bleak strace
"

# dr_install_deps [PACKAGES]: installs what is missing of PACKAGES
# ($DR_PACKAGES when not given).
dr_install_deps () {
  missing=""
  for p in ${1:-$DR_PACKAGES}; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing="$missing $p"
    fi
  done
  [ -z "$missing" ] && return 0
  echo "installing:$missing"
  if [ "$(id -u)" != 0 ]; then
    echo "scripts: missing Debian packages:$missing (run as root, or install them)" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y --no-install-recommends $missing
}
