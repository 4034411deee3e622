# Shared by scripts/* and bench/*: finding the project, installing what is
# missing from Debian's packages, and configuring the build directories.
# POSIX sh; source it after setting `root`.

# Everything the build and the tests use, from Debian 12.
KS_PACKAGES="meson ninja-build pkg-config gcc libc6-dev binutils python3 \
libxml2-dev libjson-c-dev libuv1-dev libcap-ng-dev liburing-dev check clang-format acpica-tools iproute2 \
clang libclang-rt-14-dev libedit-dev tmux e2fsprogs"

ks_say() {
    printf '==> %s\n' "$*" >&2
}

ks_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Installs the packages that are not installed yet; quiet and quick when
# nothing is missing.
ks_ensure_packages() {
    missing=""
    for p in $KS_PACKAGES "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing="$missing $p"
        fi
    done
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        ks_die "missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)"
    fi
    ks_say "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || ks_die "apt-get update failed"
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >&2 ||
        ks_die "apt-get install failed for:$missing"
}

# ks_setup DIR [meson options...]: configures DIR once, reconfigures when
# the options it was made with differ.
ks_setup() {
    dir=$1
    shift
    want="$*"
    if [ -f "$dir/build.ninja" ] && [ "$(cat "$dir/.ks-options" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    if [ -d "$dir" ]; then
        rm -rf "$dir"
    fi
    ks_say "configuring $dir"
    meson setup "$dir" "$root" "$@" >&2 || ks_die "meson setup $dir failed"
    printf '%s' "$want" >"$dir/.ks-options"
}

ks_build() {
    ninja -C "$1" >&2 || ks_die "build in $1 failed"
}
