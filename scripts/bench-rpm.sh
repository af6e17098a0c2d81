#!/usr/bin/env bash
# Benchmark "+1 RPM into a 1,000-package repository": xiso add-rpm against createrepo_c
# (full regeneration) and createrepo_c --update, in the same run, as ratios; and
# "refresh N/5 packages of it": xiso add-rpm --refresh-from against createrepo_c --update.
# Not a test: it prints numbers measured on this machine now. scripts/bench.sh calls it.
#
# Usage: scripts/bench-rpm.sh [--runs N] [--packages N] [--no-build]
# Environment: XISO_BENCH_DIR (default /tmp/xiso-bench), XISO_BIN, CARGO_TARGET_DIR as bench.sh.
#
# The repository (cached in $XISO_BENCH_DIR/rpm-repo-v2-N/, deterministic): N small noarch
# packages benchpkg1..N built by ONE rpmbuild of a spec with N subpackages; benchpkgK requires
# benchpkg(K/2), so the closure check walks a real tree; repodata by createrepo_c (gzip, no
# sqlite). The added package, benchnew-1.0, requires benchpkg1. Each run works on fresh `cp -a`
# copies (mtimes kept, so both xiso and createrepo_c --update can reuse the old entries):
#   xiso add-rpm WS benchnew.rpm           (WS/iso/ = the repository; dependency check on)
#   cp benchnew.rpm; createrepo_c DIR      (full: reads every package again)
#   cp benchnew.rpm; createrepo_c --update DIR
# and the refresh: an updates directory holds benchpkg1..N/5 at version 1.1 (one more
# rpmbuild), plus benchextra-1.0 that the repository does not have (not added):
#   xiso add-rpm WS --refresh-from UPDATES (N/5 replaced; the other entries reused, only
#       the candidates' headers read)
#   rm the N/5 old files, cp the new ones (untimed); createrepo_c --update DIR
# Each CPU time (user + sys) is printed too: on a shared machine the wall time of a
# 0.1 s command is mostly waiting for a core.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPTS/.." && pwd)
RUNS=3
COUNT=1000
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=${2:?--runs needs a number}; shift ;;
        --runs=*) RUNS=${1#*=} ;;
        --packages) COUNT=${2:?--packages needs a number}; shift ;;
        --packages=*) COUNT=${1#*=} ;;
        --no-build) BUILD=0 ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "bench-rpm: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
for s in "$RUNS" "$COUNT"; do
    [[ $s =~ ^[1-9][0-9]*$ ]] || { echo "bench-rpm: not a positive number: $s" >&2; exit 2; }
done
export LC_ALL=C TZ=UTC SOURCE_DATE_EPOCH=1700000000
umask 022
log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench-rpm: ERROR: %s\n' "$*" >&2; exit 1; }
for t in rpmbuild createrepo_c; do
    command -v "$t" >/dev/null || die "$t is needed (apt-get install rpm createrepo-c)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is needed (apt-get install time)"

XISO=${XISO_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/release/xiso}
if [ "$BUILD" = 1 ] && [ -z "${XISO_BIN:-}" ]; then
    log "cargo build --release"
    (cd "$REPO" && cargo build --release --quiet) || die "cargo build --release failed"
fi
[ -x "$XISO" ] || die "no xiso binary at $XISO"

BENCH=${XISO_BENCH_DIR:-/tmp/xiso-bench}
mkdir -p "$BENCH"
BENCH=$(cd "$BENCH" && pwd)
CACHE=$BENCH/rpm-repo-v2-$COUNT
REFRESH=$((COUNT / 5))
WORK=$(mktemp -d "$BENCH/rpm-run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

rpmbuild_spec() { # TOPDIR SPEC
    rpmbuild --define "_topdir $1" --define "_binary_payload w9.gzdio" \
        --define "_buildhost bench" --define "use_source_date_epoch_as_buildtime 1" \
        --define "clamp_mtime_to_source_date_epoch 1" --quiet -bb "$2" >&2
}

if [ ! -f "$CACHE/done" ]; then
    log "building $COUNT packages with one rpmbuild (cached in $CACHE)"
    rm -rf "$CACHE"
    top=$CACHE/rpmbuild
    mkdir -p "$top/SPECS" "$CACHE/ws/iso/Packages"
    spec() { # PACKAGES VERSION
        printf 'Name: benchpkg\nVersion: %s\nRelease: 1\nSummary: bench\nLicense: MIT\nBuildArch: noarch\n' "$2"
        printf '%%description\nxiso bench repository.\n'
        for ((k = 1; k <= $1; k++)); do
            printf '%%package -n benchpkg%d\nSummary: bench package %d\n' "$k" "$k"
            [ "$k" -gt 1 ] && printf 'Requires: benchpkg%d\n' $((k / 2))
            printf '%%description -n benchpkg%d\nPackage %d of the xiso bench repository.\n' "$k" "$k"
            printf '%%files -n benchpkg%d\n/usr/share/benchpkg/%d\n' "$k" "$k"
        done
        printf '%%install\nmkdir -p %%{buildroot}/usr/share/benchpkg\n'
        printf 'for k in $(seq 1 %d); do echo "$k" > %%{buildroot}/usr/share/benchpkg/$k; done\n' "$1"
    }
    spec "$COUNT" 1.0 > "$top/SPECS/benchpkg.spec"
    rpmbuild_spec "$top" "$top/SPECS/benchpkg.spec"
    mv "$top"/RPMS/noarch/*.rpm "$CACHE/ws/iso/Packages/"
    mkdir -p "$CACHE/updates/x86_64/Packages"
    spec "$REFRESH" 1.1 > "$top/SPECS/benchpkg.spec"
    rpmbuild_spec "$top" "$top/SPECS/benchpkg.spec"
    mv "$top"/RPMS/noarch/*.rpm "$CACHE/updates/x86_64/Packages/"
    printf 'Name: benchextra\nVersion: 1.0\nRelease: 1\nSummary: bench\nLicense: MIT\nBuildArch: noarch\n%%description\nNot on the media.\n%%files\n' \
        > "$top/SPECS/benchextra.spec"
    rpmbuild_spec "$top" "$top/SPECS/benchextra.spec"
    mv "$top"/RPMS/noarch/benchextra-1.0-1.noarch.rpm "$CACHE/updates/"
    printf 'Name: benchnew\nVersion: 1.0\nRelease: 1\nSummary: bench\nLicense: MIT\nBuildArch: noarch\nRequires: benchpkg1\n%%description\nThe added package.\n%%install\nmkdir -p %%{buildroot}/usr/share\necho new > %%{buildroot}/usr/share/benchnew\n%%files\n/usr/share/benchnew\n' \
        > "$top/SPECS/benchnew.spec"
    rpmbuild_spec "$top" "$top/SPECS/benchnew.spec"
    mv "$top"/RPMS/noarch/benchnew-1.0-1.noarch.rpm "$CACHE/"
    rm -rf "$top"
    n=$(find "$CACHE/ws/iso/Packages" -name '*.rpm' | wc -l)
    [ "$n" = "$COUNT" ] || die "rpmbuild made $n packages, not $COUNT"
    createrepo_c --quiet --no-database --general-compress-type=gz "$CACHE/ws/iso" >&2
    touch "$CACHE/done"
fi
NEW=$CACHE/benchnew-1.0-1.noarch.rpm

timed() { # NAME CMD... -> T_WALL T_RSS T_CPU
    local tf="$WORK/$1.time" lf="$WORK/$1.log"
    shift
    # The wall time by the shell's microsecond clock around the command (time's own %e
    # counts in hundredths, too coarse for commands of a few hundredths); the peak RSS
    # and the CPU time (also in hundredths) by /usr/bin/time.
    local t0=$EPOCHREALTIME t1
    /usr/bin/time -f '%e %M %U %S' -o "$tf" "$@" >"$lf" 2>&1 || { tail -n 20 "$lf" >&2; die "failed: $*"; }
    t1=$EPOCHREALTIME
    local e u s
    read -r e T_RSS u s < <(tail -n 1 "$tf")
    T_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
    T_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')
}
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A R
add() { R[$1.wall]+="$T_WALL"$'\n'; R[$1.rss]+="$T_RSS"$'\n'; R[$1.cpu]+="$T_CPU"$'\n'; }
med() { printf '%s' "${R[$1.$2]}" | median; }

for ((run = 1; run <= RUNS; run++)); do
    log "+1 RPM into $COUNT packages, run $run/$RUNS"
    for k in xiso full update; do cp -a "$CACHE/ws" "$WORK/$k"; done
    sync
    timed xiso "$XISO" add-rpm "$WORK/xiso" "$NEW"
    add xiso
    grep -q "$COUNT entries reused" "$WORK/xiso.log" || { cat "$WORK/xiso.log" >&2; die "xiso did not reuse the $COUNT entries"; }
    cp -a "$NEW" "$WORK/full/iso/Packages/"
    sync
    timed full createrepo_c --quiet --no-database --general-compress-type=gz "$WORK/full/iso"
    add full
    cp -a "$NEW" "$WORK/update/iso/Packages/"
    sync
    timed update createrepo_c --quiet --update --no-database --general-compress-type=gz "$WORK/update/iso"
    add update
    rm -rf "$WORK/xiso" "$WORK/full" "$WORK/update"

    log "refresh $REFRESH of $COUNT packages, run $run/$RUNS"
    for k in rxiso rupdate; do cp -a "$CACHE/ws" "$WORK/$k"; done
    sync
    timed rxiso "$XISO" add-rpm "$WORK/rxiso" --refresh-from "$CACHE/updates"
    add rxiso
    grep -q "$((COUNT - REFRESH)) entries reused, $REFRESH read" "$WORK/rxiso.log" \
        || { cat "$WORK/rxiso.log" >&2; die "xiso did not refresh exactly $REFRESH packages"; }
    for ((k = 1; k <= REFRESH; k++)); do rm "$WORK/rupdate/iso/Packages/benchpkg$k-1.0-1.noarch.rpm"; done
    cp -a "$CACHE"/updates/x86_64/Packages/*.rpm "$WORK/rupdate/iso/Packages/"
    sync
    timed rupdate createrepo_c --quiet --update --no-database --general-compress-type=gz "$WORK/rupdate/iso"
    add rupdate
    rm -rf "$WORK/rxiso" "$WORK/rupdate"
done

row() { # LABEL KEY XISO_KEY
    awk -v l="$1" -v w="$(med "$2" wall)" -v c="$(med "$2" cpu)" -v r="$(med "$2" rss)" \
        -v x="$(med "$3" wall)" 'BEGIN {
        printf "%-40s %9.3f %9.2f %10.1f %12.2fx\n", l, w, c, r / 1024, (x > 0 ? w / x : 0) }'
}
header() {
    echo
    printf '%s, %d run(s), median\n' "$1" "$RUNS"
    printf '%-40s %9s %9s %10s %13s\n' tool "wall s" "cpu s" "peak MiB" "vs xiso"
    printf '%s\n' "-----------------------------------------------------------------------------------------"
}
ratio() { # LABEL XISO_KEY OTHER_KEY TARGET: xiso/other, wall and cpu
    awk -v l="$1" -v xw="$(med "$2" wall)" -v ow="$(med "$3" wall)" -v xc="$(med "$2" cpu)" \
        -v oc="$(med "$3" cpu)" -v t="$4" 'BEGIN {
        w = (ow > 0 ? xw / ow : 0); c = (oc > 0 ? xc / oc : 0)
        printf "RESULT %s: xiso/createrepo_c --update = %.2fx wall, %.2fx cpu (target <= %.2fx: %s)\n",
               l, w, c, t, (w <= t ? "MET" : "MISSED") }'
}
header "+1 RPM into a $COUNT-package repository"
row "xiso add-rpm (closure check on)" xiso xiso
row "createrepo_c (full)" full xiso
row "createrepo_c --update" update xiso
header "refresh $REFRESH of $COUNT packages"
row "xiso add-rpm --refresh-from" rxiso rxiso
row "createrepo_c --update" rupdate rxiso
ratio "+1 RPM into $COUNT" xiso update 0.5
ratio "refresh $REFRESH of $COUNT" rxiso rupdate 1.0
