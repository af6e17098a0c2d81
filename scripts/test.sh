#!/usr/bin/env bash
# The project's test command (CI runs it through .ci/run).
#   1. install Debian dependencies (when root; otherwise only check them)
#   2. build the fixture ISOs (cached) into $XISO_FIXTURES (default <repo>/fixtures)
#   3. cargo test --release (Rust tests read the fixtures through $XISO_FIXTURES), then
#      the library's docs without the cli feature and examples/remaster_sample.rs
#   4. scripts/fuzz.sh --smoke: every cargo-fuzz target for a few seconds
#      (XISO_FUZZ_SMOKE_SECONDS, default 15; installs cargo-fuzz when missing)
# XISO_TEST_SKIP="NAME …": tests whose names contain one of these words are not run
# (cargo test -- --skip NAME); said loudly. For a second run of the same commit (CI's
# fresh-clone run) that leaves out what the first run already proved.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

if [ "$(id -u)" = 0 ]; then
    bash scripts/install-deps.sh
else
    bash scripts/install-deps.sh --check
fi

export XISO_FIXTURES=${XISO_FIXTURES:-$REPO/fixtures}
mkdir -p "$XISO_FIXTURES"
XISO_FIXTURES=$(cd "$XISO_FIXTURES" && pwd)
export XISO_FIXTURES

# The test RPMs (tests/common/testdata.rs): say which, loudly, before anything uses them.
if [ -n "${XISO_TESTDATA:-}" ]; then
    echo "test.sh: test RPMs from \$XISO_TESTDATA ($XISO_TESTDATA)"
elif [ -d "$REPO/../shared/testdata/rpms" ] && [ "${XISO_TESTDATA_BUILD:-0}" != 1 ]; then
    echo "test.sh: test RPMs from $(cd "$REPO/../shared/testdata" && pwd)"
else
    echo "test.sh: NO ../shared/testdata (or XISO_TESTDATA_BUILD=1): fixtures and tests build their own test RPMs (scripts/make-testdata.sh, the rpm crate)"
fi

start=$SECONDS
bash scripts/make-fixtures.sh "$XISO_FIXTURES"
echo "test.sh: fixtures ready in $((SECONDS - start)) s"

if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
# The ISO writer's write tracker (every output byte written once, inside the image)
# is on in debug builds; turn it on for the release test run too.
export XISO_TRACK_WRITES=1
SKIP_ARGS=()
for name in ${XISO_TEST_SKIP:-}; do
    SKIP_ARGS+=(--skip "$name")
done
if [ ${#SKIP_ARGS[@]} -gt 0 ]; then
    echo "################################################################"
    echo "test.sh: NOT RUN in this run (XISO_TEST_SKIP): tests matching ${XISO_TEST_SKIP}"
    echo "################################################################"
fi
cargo test --release -- ${SKIP_ARGS[@]+"${SKIP_ARGS[@]}"}

# The library alone (no `cli` feature: no clap, indicatif, ctrlc, anyhow) must build
# and document without a warning; the runnable example must remaster its sample clean.
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --lib --no-default-features
example_out=$(mktemp -d)
cargo run --release --example remaster_sample -- "$example_out"
rm -rf "$example_out"

start=$SECONDS
bash scripts/fuzz.sh --smoke --jobs 2 "${XISO_FUZZ_SMOKE_SECONDS:-15}"
echo "test.sh: fuzz smoke run took $((SECONDS - start)) s"
