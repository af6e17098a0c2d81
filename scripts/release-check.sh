#!/usr/bin/env bash
# Check the release tarball of scripts/release.sh (CI runs both, through scripts/ci.sh):
#   - its .sha256 matches; it holds the binary, man pages, completions, README, licences
#   - `file` says the binary is statically linked (or static-pie linked: static, relocatable),
#     `objdump -T` lists no symbol (so no GLIBC_* version), readelf no NEEDED library and
#     no interpreter, and it is at most 16 MB (stripped)
#   - the binary ALONE, copied into an empty directory and run with a PATH that holds no
#     xiso (only the system's directories), runs `demo`, then `remaster` and `verify` on a
#     fixture ISO ($XISO_FIXTURES/xorriso.iso, default <repo>/fixtures)
#
# Usage: scripts/release-check.sh [TARBALL]   (default: the one in <repo>/dist for this version)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { printf 'release-check: FAILED: %s\n' "$*" >&2; exit 1; }
ok() { printf 'release-check: ok: %s\n' "$*"; }

VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$REPO/Cargo.toml" | head -n 1)
NAME=xiso-$VERSION-x86_64-linux-musl
TGZ=${1:-$REPO/dist/$NAME.tar.gz}
[ -f "$TGZ" ] || die "no tarball at $TGZ (run scripts/release.sh)"
FIXTURES=${XISO_FIXTURES:-$REPO/fixtures}
ISO=$FIXTURES/xorriso.iso
[ -f "$ISO" ] || die "no fixture ISO at $ISO (run scripts/make-fixtures.sh)"
for t in file objdump readelf sha256sum; do
    command -v "$t" >/dev/null || die "\`$t\` is not installed (Debian packages file, binutils, coreutils)"
done

(cd "$(dirname "$TGZ")" && sha256sum --quiet -c "$(basename "$TGZ").sha256") \
    || die "$TGZ does not match its .sha256"
ok "sha256 matches"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/xiso-release-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
tar -C "$WORK" -xzf "$TGZ"
D=$WORK/$NAME
for f in xiso man/man1/xiso.1 man/man1/xiso-remaster.1 completions/xiso.bash completions/_xiso \
    completions/xiso.fish README.md LICENSE-MIT LICENSE-APACHE; do
    [ -s "$D/$f" ] || die "$NAME/$f missing or empty in $TGZ"
done
ok "tarball holds the binary, man pages, completions, README and licences"

desc=$(file -b "$D/xiso")
case "$desc" in
    *"statically linked"*|*"static-pie linked"*) ;;
    *) die "file says: $desc (expected statically linked)" ;;
esac
case "$desc" in
    *"not stripped"*) die "file says: $desc (expected stripped)" ;;
esac
ok "file: $desc"
# A static binary has no dynamic symbol table: objdump -T refuses it ("not a dynamic
# object"); any GLIBC_ version it did list would tie the binary to that glibc.
dyn=$(objdump -T "$D/xiso" 2>&1 || true)
if printf '%s\n' "$dyn" | grep -q 'GLIBC'; then
    die "objdump -T lists GLIBC symbols: $(printf '%s\n' "$dyn" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tr '\n' ' ')"
fi
if printf '%s\n' "$dyn" | grep -q 'not a dynamic object'; then
    ok "objdump -T: not a dynamic object"
else
    # A static-pie binary keeps a dynamic section for its own relocations: it must name no
    # library and no interpreter.
    [ -z "$(readelf -d "$D/xiso" | grep NEEDED || true)" ] || die "readelf -d lists NEEDED libraries"
    [ -z "$(readelf -l "$D/xiso" | grep -i 'interpreter' || true)" ] || die "readelf -l lists a program interpreter"
    ok "objdump -T: $(printf '%s\n' "$dyn" | grep -m1 -o 'no symbols' || echo 'no GLIBC symbol'); readelf: no NEEDED library, no interpreter"
fi
size=$(stat -c %s "$D/xiso")
[ "$size" -le $((16 * 1024 * 1024)) ] || die "binary is $size bytes, more than 16 MiB"
ok "size $size bytes (<= 16 MiB)"

# The binary alone: a fresh directory, nothing else of the tarball, no xiso on PATH.
ALONE=$WORK/alone
mkdir -p "$ALONE/bin"
cp "$D/xiso" "$ALONE/bin/xiso"
PATHV=/usr/sbin:/usr/bin:/sbin:/bin
if PATH=$PATHV command -v xiso >/dev/null; then
    die "PATH=$PATHV already holds an xiso ($(PATH=$PATHV command -v xiso)); the check needs one without"
fi
run_alone() { # ARGS...: the copied binary from inside ALONE, with the plain PATH
    (cd "$ALONE" && env -i PATH=$PATHV HOME="$ALONE" TMPDIR="$ALONE" "$ALONE/bin/xiso" "$@")
}
run_alone --version
run_alone demo "$ALONE/demo" > "$ALONE/demo.log" 2>&1 || { cat "$ALONE/demo.log" >&2; die "xiso demo failed"; }
[ -n "$(find "$ALONE/demo" -name '*.iso' -print -quit)" ] || die "xiso demo wrote no ISO under $ALONE/demo"
ok "demo: $(tail -n 1 "$ALONE/demo.log")"
mkdir -p "$ALONE/overlay"
printf 'xiso release check\n' > "$ALONE/overlay/release-check.txt"
run_alone remaster "$ISO" "$ALONE/out.iso" --boot-arg release_check=1 --overlay "$ALONE/overlay" \
    > "$ALONE/remaster.log" 2>&1 || { cat "$ALONE/remaster.log" >&2; die "xiso remaster $ISO failed"; }
ok "remaster: $ALONE/out.iso ($(stat -c %s "$ALONE/out.iso") bytes)"
run_alone verify "$ALONE/out.iso" > "$ALONE/verify.log" 2>&1 || { cat "$ALONE/verify.log" >&2; die "xiso verify of the remastered ISO failed"; }
[ "$(run_alone cat "$ALONE/out.iso" /release-check.txt)" = "xiso release check" ] \
    || die "the remastered ISO lacks /release-check.txt"
ok "verify: $(tail -n 1 "$ALONE/verify.log")"
echo "release-check: $TGZ passed"
