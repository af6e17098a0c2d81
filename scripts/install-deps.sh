#!/usr/bin/env bash
# Install the Debian packages the tests need (fixtures, oracles, QEMU boot checks).
#
# Usage: scripts/install-deps.sh [--check]
#   As root: installs whatever is missing (apt-get update + install, and the Rust target
#   x86_64-unknown-linux-musl with rustup), quick no-op when everything is present. Not root (or --check): lists what is missing and
#   exits 1 if anything is.
set -euo pipefail

PKGS=(
    # ISO building and reading
    xorriso genisoimage isolinux syslinux-common syslinux-utils pxelinux
    libarchive-tools p7zip-full
    # efiboot.img and UEFI boot loader
    mtools dosfstools grub-efi-amd64-bin grub-common
    # install.img
    busybox-static cpio gzip bzip2 xz-utils zstd python3
    # cargo fuzz (scripts/fuzz.sh): libFuzzer is C++
    g++
    # repository (the Debian package rpm also provides rpmbuild, used by tests/add_rpm.rs)
    createrepo-c rpm dnf
    # an EL7-style Berkeley DB rpmdb for tests/add_rpm_installer.rs (db5.3_load -t hash)
    db5.3-util
    # repository signatures (xiso sign is checked with gpg --verify)
    gnupg
    # reproducible timestamps for tools without SOURCE_DATE_EPOCH support
    faketime
    # kernel module indexes (tests/depmod.rs compares with depmod, modprobe, modinfo)
    kmod
    # boot checks
    qemu-system-x86 ovmf
    # make-fixtures downloads kernel/ipxe/grub-rescue/memtest .debs with these
    apt dpkg coreutils
    # the static release binary (scripts/release.sh: musl-gcc for zstd and liblzma) and
    # its check (scripts/release-check.sh: file, objdump); git for CI's fresh clone
    musl-tools file binutils git
)
# The Rust target of the static release binary (rustup, not apt).
MUSL_TARGET=x86_64-unknown-linux-musl

CHECK_ONLY=0
[ "${1:-}" = "--check" ] && CHECK_ONLY=1

missing_pkgs() {
    local p st
    for p in "${PKGS[@]}"; do
        st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        [ "$st" = "install ok installed" ] || echo "$p"
    done
}

if ! command -v rustup >/dev/null && [ -x "$HOME/.cargo/bin/rustup" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
musl_target() { # present, or added when root
    rustup target list --installed 2>/dev/null | grep -qx "$MUSL_TARGET" && return 0
    if [ "$CHECK_ONLY" = 0 ] && [ "$(id -u)" = 0 ] && command -v rustup >/dev/null; then
        echo "install-deps: rustup target add $MUSL_TARGET"
        rustup target add "$MUSL_TARGET" && return 0
    fi
    echo "install-deps: MISSING Rust target $MUSL_TARGET (rustup target add $MUSL_TARGET)" >&2
    return 1
}
musl_target || exit 1

mapfile -t MISSING < <(missing_pkgs)
if [ ${#MISSING[@]} -eq 0 ]; then
    echo "install-deps: all ${#PKGS[@]} packages present"
    exit 0
fi

if [ "$CHECK_ONLY" = 1 ] || [ "$(id -u)" != 0 ]; then
    {
        echo "################################################################"
        echo "install-deps: MISSING Debian packages (${#MISSING[@]}):"
        printf '    %s\n' "${MISSING[@]}"
        echo "install them as root:"
        echo "    apt-get update && apt-get install -y --no-install-recommends ${MISSING[*]}"
        echo "or run: sudo scripts/install-deps.sh"
        echo "################################################################"
    } >&2
    exit 1
fi

echo "install-deps: installing ${MISSING[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${MISSING[@]}"

mapfile -t STILL < <(missing_pkgs)
if [ ${#STILL[@]} -ne 0 ]; then
    echo "install-deps: ERROR: still missing after apt-get install: ${STILL[*]}" >&2
    exit 1
fi
echo "install-deps: done"
