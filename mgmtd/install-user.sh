#!/bin/sh
# Run by `meson install`: creates the system user the emulators run as
# (mgmtd --user's default), unless it exists, the install is staged
# (DESTDIR), or we are not root (mgmtd then falls back to nobody).
set -eu
user=kvmstack
[ -z "${DESTDIR:-}" ] || exit 0
[ "$(id -u)" = 0 ] || {
    echo "install-user: not root: the emulators will run as nobody" >&2
    exit 0
}
if getent passwd "$user" >/dev/null; then
    exit 0
fi
useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --comment "kvm-stack emulators" "$user"
echo "install-user: created the system user $user" >&2
