#!/usr/bin/env bash
# What CI runs (.ci/run), timing each step:
#   1. scripts/test.sh: every test, with ../shared/testdata when it is beside the repository
#   2. scripts/release.sh (twice: the same bytes) + scripts/release-check.sh: the static
#      tarball, checked alone
#   3. scripts/test.sh again, from a fresh clone of HEAD in a directory with no ../shared:
#      the tests build their own RPMs (tests/common/testdata.rs) and fixtures. To keep the
#      cost down it shares CARGO_TARGET_DIR with step 1 (only the xiso crate itself
#      rebuilds: its sources moved), seeds its fixtures' download cache from step 1's, and
#      runs the fuzz smoke 1 s per target (step 1 ran it in full; here it checks the
#      clone's seeds build and the targets start). The QEMU boots through Xen
#      (tests/boot_fixtures.rs, ~4 min) are left out here: they read nothing from
#      ../shared and step 1 ran them on the same commit. XISO_CI_CLONE=0 skips this step.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
export XISO_FIXTURES=${XISO_FIXTURES:-$REPO/fixtures}
TIMES=()
timed() { # LABEL CMD...
    local label=$1 start=$SECONDS
    shift
    echo "ci: === $label"
    "$@"
    TIMES+=("$(printf '%-44s %5d s' "$label" $((SECONDS - start)))")
    echo "ci: === $label: $((SECONDS - start)) s"
}
total=$SECONDS

timed "test.sh (usual run)" bash scripts/test.sh
timed "release.sh" bash scripts/release.sh
# Reproducible: a second run (the build is cached; the packing is not) gives the same bytes.
AGAIN=$(mktemp -d "${TMPDIR:-/tmp}/xiso-ci-release.XXXXXX")
timed "release.sh again (must be identical)" bash scripts/release.sh --out-dir "$AGAIN"
for f in "$AGAIN"/*; do
    cmp "$f" "dist/$(basename "$f")" || { echo "ci: release.sh is not reproducible: $f differs" >&2; exit 1; }
done
echo "ci: release.sh twice: identical ($(cd "$AGAIN" && ls | tr '\n' ' '))"
rm -rf "$AGAIN"
timed "release-check.sh" bash scripts/release-check.sh

if [ "${XISO_CI_CLONE:-1}" = 1 ]; then
    CLONE_PARENT=$(mktemp -d "${TMPDIR:-/tmp}/xiso-ci-clone.XXXXXX")
    trap 'rm -rf "$CLONE_PARENT"' EXIT
    CLONE=$CLONE_PARENT/xiso
    git clone --quiet "$REPO" "$CLONE"
    [ ! -e "$CLONE/../shared" ] || { echo "ci: $CLONE/../shared exists" >&2; exit 1; }
    mkdir -p "$CLONE_PARENT/fixtures"
    # The Debian packages make-fixtures.sh downloads (kernel, ipxe, grub, memtest, ~30 MB):
    # copied rather than fetched again.
    [ ! -d "$XISO_FIXTURES/cache" ] || cp -a "$XISO_FIXTURES/cache" "$CLONE_PARENT/fixtures/cache"
    timed "test.sh (fresh clone, no ../shared)" env -u XISO_TESTDATA \
        XISO_FIXTURES="$CLONE_PARENT/fixtures" XISO_FUZZ_SMOKE_SECONDS=1 \
        XISO_TEST_SKIP="boot_check_fails_for boot_packed_ boot_remastered_ boot_netinstall_remaster" \
        bash "$CLONE/scripts/test.sh"
fi

echo "ci: times"
printf '    %s\n' "${TIMES[@]}"
echo "ci: total $((SECONDS - total)) s"
