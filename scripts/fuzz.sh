#!/usr/bin/env bash
# Run the cargo-fuzz targets in fuzz/ (issue 9) and report executions and crashes.
#
# Usage: scripts/fuzz.sh [--smoke] [--jobs N] [--runs N] [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  default 600 (--smoke: 15)
#   TARGET...           default: every target in fuzz/Cargo.toml, in this order
#   --smoke             the CI run: 15 s per target
#   --jobs N            run N targets at once (default 1)
#   --runs N            stop a target after N executions (or at its time limit)
#   --asan              build with the address sanitizer (default: none; xiso has no
#                       unsafe code, and without ASan the targets run 2-5x faster,
#                       with the same coverage feedback, debug assertions and
#                       overflow checks)
#
# Works on a stable toolchain: cargo-fuzz passes -Z flags to rustc, which
# RUSTC_BOOTSTRAP=1 allows; the address sanitizer's runtime ships with stable's
# rust-std for x86_64-unknown-linux-gnu. Installs cargo-fuzz when it is missing.
# Seeds come from scripts/fuzz-seeds.sh (generated when fuzz/seeds is absent);
# what libFuzzer finds grows fuzz/corpus/TARGET, crashes land in fuzz/artifacts/TARGET
# (all gitignored). Build directory: $XISO_FUZZ_TARGET_DIR, else
# $CARGO_TARGET_DIR/fuzz, else fuzz/target.
#
# Exit status: 0 when no target crashed, 1 when one did, 2 on a setup error.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPTS/.." && pwd)
FUZZ="$REPO/fuzz"

SMOKE=0
JOBS=1
RUNS=-1
SANITIZER=none
SECS=
TARGETS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) SMOKE=1 ;;
        --jobs) JOBS=$2; shift ;;
        --runs) RUNS=$2; shift ;;
        --asan) SANITIZER=address ;;
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *[!0-9]*) TARGETS+=("$1") ;;
        *) SECS=$1 ;;
    esac
    shift
done
if [ -z "$SECS" ]; then
    if [ "$SMOKE" = 1 ]; then SECS=15; else SECS=600; fi
fi
if [ ${#TARGETS[@]} -eq 0 ]; then
    mapfile -t TARGETS < <(sed -n 's/^name = "\([a-z_]*\)"$/\1/p' "$FUZZ/Cargo.toml" | grep -v '^xiso-fuzz$')
fi

if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz"
    cargo install cargo-fuzz --locked --quiet
fi
export RUSTC_BOOTSTRAP=1

TARGET_DIR=${XISO_FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:+$CARGO_TARGET_DIR/fuzz}}
TARGET_DIR=${TARGET_DIR:-$FUZZ/target}
# cargo-fuzz's default build: the release profile with debug assertions and
# overflow checks on (`-O` would turn them off). The smoke run (CI) builds the dev
# profile instead: the same instrumentation and checks, a fraction of the compile time
# (optimising the whole dependency tree for a 15-second run would dominate CI).
PROFILE_ARGS=()
PROFILE_DIR=release
if [ "$SMOKE" = 1 ]; then
    PROFILE_ARGS=(--dev)
    PROFILE_DIR=debug
fi
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')

start=$SECONDS
# One build of every target (they share the xiso library).
cargo fuzz build --fuzz-dir "$FUZZ" --target-dir "$TARGET_DIR" -s "$SANITIZER" ${PROFILE_ARGS[@]+"${PROFILE_ARGS[@]}"} \
    2>&1 | grep -Ev '^\s+(Compiling|Downloaded|Downloading|Locking|Adding) ' || true
for t in "${TARGETS[@]}"; do
    [ -x "$TARGET_DIR/$TRIPLE/$PROFILE_DIR/$t" ] || { echo "fuzz.sh: build of $t failed" >&2; exit 2; }
done
echo "fuzz.sh: built ${#TARGETS[@]} targets in $((SECONDS - start)) s"

[ -d "$FUZZ/seeds" ] || bash "$SCRIPTS/fuzz-seeds.sh" "$FUZZ/seeds"

LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT

run_target() {
    local t=$1
    mkdir -p "$FUZZ/corpus/$t" "$FUZZ/artifacts/$t" "$FUZZ/seeds/$t"
    # -rss_limit_mb: the machine is shared; -timeout: a hang is a finding too.
    # -max_len: iso_image's seeds (from sector 16 on) reach ~172 KiB; at 128 KiB
    # libFuzzer cuts them short of their volume size and coverage falls by two thirds.
    local rc=0 max_len=262144
    "$TARGET_DIR/$TRIPLE/$PROFILE_DIR/$t" "$FUZZ/corpus/$t" "$FUZZ/seeds/$t" \
        -max_total_time="$SECS" -runs="$RUNS" -rss_limit_mb=2048 -timeout=20 -max_len="$max_len" \
        -artifact_prefix="$FUZZ/artifacts/$t/" -print_final_stats=1 \
        >"$LOGS/$t.log" 2>&1 || rc=$?
    echo "$rc" >"$LOGS/$t.rc"
}

running=0
for t in "${TARGETS[@]}"; do
    echo "fuzz.sh: $t for $SECS s"
    run_target "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true

crashed=0
printf '%-18s %14s %10s %8s  %s\n' target executions exec/s crashes result
for t in "${TARGETS[@]}"; do
    log="$LOGS/$t.log"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" 2>/dev/null | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" 2>/dev/null | tail -1)
    rc=$(cat "$LOGS/$t.rc" 2>/dev/null || echo "?")
    if [ "$rc" = 0 ]; then
        printf '%-18s %14s %10s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" 0 ok
    elif grep -q 'run interrupted; exiting' "$log" && ! grep -q 'Test unit written to' "$log"; then
        # Ctrl-C (libFuzzer's exit code 72): stopped early, nothing found.
        printf '%-18s %14s %10s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" 0 "interrupted"
    else
        crashed=1
        # (no artifact when a run was interrupted: the row still prints)
        artifact=$(grep -o 'Test unit written to .*' "$log" | tail -1 | sed 's/Test unit written to //' || true)
        printf '%-18s %14s %10s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" 1 "CRASH ${artifact:-(exit $rc)}"
        grep -E 'panicked at|ERROR: (AddressSanitizer|libFuzzer)|SUMMARY|interrupted' "$log" | head -5 | sed 's/^/    /' || true
        cp "$log" "$FUZZ/artifacts/$t/last-run.log"
    fi
done
exit "$crashed"
