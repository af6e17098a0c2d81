#!/usr/bin/env bash
# Benchmark xiso against the floor (cp) and the manual pipeline, in the same run, as ratios.
# Not a test: nothing here asserts a time; it prints numbers measured on this machine now.
#
# Usage: scripts/bench.sh [--size-mb N | --sizes N,M,...] [--runs N] [--quick] [--clean] [--no-build]
#   --size-mb N    size of the generated source ISO in MB (default 650, an XCP-ng 8.3 ISO)
#   --sizes A,B    one table per size, then the peak-RSS growth of each tool (e.g. 650,1300)
#   --runs N       timed runs per command; the median is printed (default 3)
#   --quick        smoke run: --size-mb 100 --runs 1
#   --clean        also delete the generated source ISOs at the end (default: keep for reuse)
#   --no-build     do not run `cargo build --release` (use the existing binary)
# Environment:
#   XISO_BENCH_DIR   where source ISOs and temp outputs live (default /tmp/xiso-bench)
#   XISO_FIXTURES    fixture directory of scripts/make-fixtures.sh (default <repo>/fixtures)
#   CARGO_TARGET_DIR respected when locating target/release/xiso
#   XISO_BIN         benchmark this xiso binary instead (no cargo build), e.g. another worktree's
#
# The source ISO = the fixture tree (fixtures/tree/, from scripts/make-fixtures.sh; a small
# isolinux + efiboot.img tree if that script is absent) + an install.img of ~20% of the size
# (a real bzip2 cpio newc archive, content compressing ~2:1) + 1-4 MiB incompressible
# Packages/filler-*.rpm files for the rest, made with genisoimage + isohybrid --uefi exactly as
# XCP-ng does. Content is deterministic (seeded), so the same ISO is rebuilt everywhere.
#
# Measured, each --runs times after one warm-up read of the ISO (warm page cache, no root
# cache tricks; `sync` between commands, untimed, so one run's writeback does not land in
# the next), with /usr/bin/time -f '%e %M':
#   cp ISO out.iso                                              the floor
#   manual: xorriso -osirrox on -indev ISO -extract / dir      \
#           genisoimage <XCP-ng flags> -o out.iso dir           } wall = sum, peak RSS = max
#           isohybrid --uefi out.iso                           /
#   xiso unpack ISO dir + xiso pack dir out.iso                 (skipped if `xiso pack` is absent)
#   xiso unpack alone                                           (always)
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPTS/.." && pwd)
GEN_VERSION=1 # bump when the generated ISO's recipe changes (invalidates cached ISOs)
VOLID="XCP-ng 8.3.0"
BOOTARGS=(-c boot/isolinux/boot.cat -b boot/isolinux/isolinux.bin -no-emul-boot
    -boot-load-size 4 -boot-info-table -eltorito-alt-boot -e boot/efiboot.img -no-emul-boot)

SIZES=650
RUNS=3
CLEAN=0
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
        --size-mb) SIZES=${2:?--size-mb needs a number}; shift ;;
        --size-mb=*) SIZES=${1#*=} ;;
        --sizes) SIZES=${2:?--sizes needs a list}; shift ;;
        --sizes=*) SIZES=${1#*=} ;;
        --runs) RUNS=${2:?--runs needs a number}; shift ;;
        --runs=*) RUNS=${1#*=} ;;
        --quick) SIZES=100; RUNS=1 ;;
        --clean) CLEAN=1 ;;
        --no-build) BUILD=0 ;;
        -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
        *) echo "bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
IFS=, read -r -a SIZE_LIST <<< "$SIZES"
for s in "${SIZE_LIST[@]}" "$RUNS"; do
    [[ $s =~ ^[1-9][0-9]*$ ]] || { echo "bench: not a positive number: $s" >&2; exit 2; }
done
for s in "${SIZE_LIST[@]}"; do
    [ "$s" -ge 30 ] || { echo "bench: --size-mb must be >= 30" >&2; exit 2; }
done

BENCH=${XISO_BENCH_DIR:-/tmp/xiso-bench}
FIXTURES=${XISO_FIXTURES:-$REPO/fixtures}
export LC_ALL=C TZ=UTC SOURCE_DATE_EPOCH=1700000000
umask 022

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench: ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- tools
need_pkg=()
[ -x /usr/bin/time ] || need_pkg+=(time)
command -v xorriso >/dev/null || need_pkg+=(xorriso)
command -v genisoimage >/dev/null || need_pkg+=(genisoimage)
command -v isohybrid >/dev/null || need_pkg+=(syslinux-utils)
command -v mkfs.fat >/dev/null || need_pkg+=(dosfstools)
command -v bzip2 >/dev/null || need_pkg+=(bzip2)
[ -f /usr/lib/ISOLINUX/isolinux.bin ] || need_pkg+=(isolinux)
if [ ${#need_pkg[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing ${need_pkg[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkg[@]}" >&2 \
            || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkg[@]}" >&2; }
    else
        die "missing tools: ${need_pkg[*]} (install them)"
    fi
fi
command -v python3 >/dev/null || die "python3 is needed to generate the filler"

mkdir -p "$BENCH"
BENCH=$(cd "$BENCH" && pwd)
WORK=$(mktemp -d "$BENCH/run.XXXXXX")
rmtree() { # remove trees that xorriso extracted read-only
    local p
    for p in "$@"; do
        [ -e "$p" ] || continue
        chmod -R u+w "$p" 2>/dev/null || true
        rm -rf "$p"
    done
}
cleanup() {
    rmtree "$WORK"
    if [ "$CLEAN" = 1 ]; then
        log "--clean: removing generated source ISOs in $BENCH"
        rm -f "$BENCH"/src-v*.iso
        rm -rf "$BENCH/mini-tree"
        rmdir "$BENCH" 2>/dev/null || true
    fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- xiso binary
XISO=${XISO_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/release/xiso}
if [ "$BUILD" = 1 ] && [ -z "${XISO_BIN:-}" ]; then
    log "cargo build --release"
    (cd "$REPO" && cargo build --release --quiet) || die "cargo build --release failed"
fi
[ -x "$XISO" ] || die "no xiso binary at $XISO"
HAVE_PACK=1
if ! "$XISO" pack --help >/dev/null 2>&1; then
    HAVE_PACK=0
    {
        echo
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo "!!! xiso pack not available: skipping xiso rows (unpack alone still runs)"
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo
    } >&2
fi

# ---------------------------------------------------------------- base tree
# Prefer the fixture tree; run make-fixtures.sh if it exists; else a minimal boot tree.
BASE_TREE= TREE_KIND=
if [ ! -d "$FIXTURES/tree" ] && [ -x "$SCRIPTS/make-fixtures.sh" ]; then
    log "fixtures/tree absent: running scripts/make-fixtures.sh"
    "$SCRIPTS/make-fixtures.sh" "$FIXTURES" >&2 || die "scripts/make-fixtures.sh failed"
fi
if [ -d "$FIXTURES/tree" ]; then
    BASE_TREE=$FIXTURES/tree TREE_KIND=fixtures
else
    TREE_KIND=mini
    BASE_TREE=$BENCH/mini-tree
    if [ ! -f "$BASE_TREE/.complete" ]; then
        log "no fixture tree: building a minimal boot tree in $BASE_TREE"
        rm -rf "$BASE_TREE"
        mkdir -p "$BASE_TREE"/{boot/isolinux,EFI/xenserver,Packages}
        cp /usr/lib/ISOLINUX/isolinux.bin "$BASE_TREE/boot/isolinux/"
        for m in ldlinux.c32 mboot.c32 menu.c32 libcom32.c32 libutil.c32; do
            f=/usr/lib/syslinux/modules/bios/$m
            [ -f "$f" ] && cp "$f" "$BASE_TREE/boot/isolinux/"
        done
        cat > "$BASE_TREE/boot/isolinux/isolinux.cfg" <<'EOF'
DEFAULT install
LABEL install
	KERNEL mboot.c32
	APPEND /boot/xen.gz dom0_mem=max:8192M --- /boot/vmlinuz console=tty0 --- /install.img
EOF
        printf 'menuentry "install" {\n    multiboot2 /boot/xen.gz\n    module2 /boot/vmlinuz console=tty0\n    module2 /install.img\n}\n' \
            > "$BASE_TREE/EFI/xenserver/grub.cfg"
        mkfs.fat -C -n EFIBOOT -i 58495330 "$BASE_TREE/boot/efiboot.img" 2880 >/dev/null
        if command -v mmd >/dev/null; then
            MTOOLS_SKIP_CHECK=1 mmd -i "$BASE_TREE/boot/efiboot.img" ::/EFI ::/EFI/BOOT ::/EFI/xenserver
            MTOOLS_SKIP_CHECK=1 mcopy -i "$BASE_TREE/boot/efiboot.img" "$BASE_TREE/EFI/xenserver/grub.cfg" ::/EFI/xenserver/grub.cfg
        fi
        head -c 4096 /dev/zero > "$BASE_TREE/boot/xen.gz"
        head -c 8192 /dev/zero > "$BASE_TREE/boot/vmlinuz"
        if [ -f "$REPO/testdata/treeinfo-xcpng-8.3" ]; then
            cp "$REPO/testdata/treeinfo-xcpng-8.3" "$BASE_TREE/.treeinfo"
        else
            printf '[platform]\nname = XCP\nversion = 3.4.0\n\n[branding]\nname = XCP-ng\nversion = 8.3.0\n' \
                > "$BASE_TREE/.treeinfo"
        fi
        echo "xiso benchmark filler tree" > "$BASE_TREE/EULA"
        find "$BASE_TREE" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
        touch "$BASE_TREE/.complete"
    fi
fi

# ---------------------------------------------------------------- source ISO
make_iso() { # SIZE_MB -> path of the (cached) source ISO
    local mb=$1 iso="$BENCH/src-v$GEN_VERSION-$TREE_KIND-${mb}mb.iso"
    if [ -s "$iso" ] && { [ "$TREE_KIND" = mini ] || [ "$iso" -nt "$BASE_TREE" ]; }; then
        log "reusing $iso"
        echo "$iso"
        return
    fi
    local t="$BENCH/build-$mb" total img_bytes pkg_bytes raw n
    rmtree "$t"
    mkdir -p "$t"
    log "building a ${mb} MB source ISO from $TREE_KIND tree (once; cached in $BENCH)"
    cp -a "$BASE_TREE" "$t/tree"
    rm -f "$t/tree/.complete" "$t/tree/boot/isolinux/boot.cat"
    mkdir -p "$t/tree/Packages"
    total=$((mb * 1000 * 1000))
    img_bytes=$((total / 5))                       # install.img ~20% (130 MB at 650)
    pkg_bytes=$((total - img_bytes - $(du -sb "$t/tree" | cut -f1)))
    [ "$pkg_bytes" -gt 0 ] || pkg_bytes=1
    raw=$((img_bytes * 2))                         # hex content bzip2s ~2:1
    # install.img (bzip2 is single-threaded: run it next to the package generator)
    python3 "$SCRIPTS/bench-gen.py" cpio "$raw" "$mb" | bzip2 -9 > "$t/tree/install.img" &
    local bz=$!
    n=$(python3 "$SCRIPTS/bench-gen.py" packages "$t/tree/Packages" "$pkg_bytes" "$mb")
    wait "$bz" || die "install.img generation failed"
    find "$t/tree" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    log "  $n filler rpms ($((pkg_bytes / 1000000)) MB), install.img $(( $(stat -c %s "$t/tree/install.img") / 1000000 )) MB"
    genisoimage -quiet -r -J --joliet-long -V "$VOLID" -input-charset utf-8 \
        "${BOOTARGS[@]}" -o "$t/out.iso" "$t/tree" >&2
    isohybrid --uefi "$t/out.iso"
    mv "$t/out.iso" "$iso"
    rmtree "$t"
    echo "$iso"
}

# ---------------------------------------------------------------- measuring
# timed LOGNAME CMD... : runs CMD under /usr/bin/time; sets T_WALL (s) and T_RSS (KiB).
timed() {
    local name=$1 tf="$WORK/$1.time" lf="$WORK/$1.log"
    shift
    if ! /usr/bin/time -f '%e %M' -o "$tf" "$@" >"$lf" 2>&1; then
        echo "bench: command failed: $*" >&2
        tail -n 20 "$lf" >&2
        exit 1
    fi
    read -r T_WALL T_RSS < <(tail -n 1 "$tf")
}
settle() { sync; }

median() { # numbers on stdin -> median
    sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# results: R_<key>_wall / R_<key>_rss hold newline-separated per-run values
declare -A R
add() { R[$1.wall]+="$2"$'\n'; R[$1.rss]+="$3"$'\n'; }
med() { printf '%s' "${R[$1.$2]}" | median; }

# peak RSS of the xiso and manual pipelines at each size, for the growth line
declare -A PEAK

bench_size() {
    local mb=$1 iso run out dir w r w1 r1 w2 r2 w3 r3
    iso=$(make_iso "$mb")
    R=()
    out=$WORK/out.iso dir=$WORK/dir
    log "warm-up read of $iso ($(( $(stat -c %s "$iso") / 1048576 )) MiB)"
    cat "$iso" > /dev/null
    for ((run = 1; run <= RUNS; run++)); do
        log "size $mb MB, run $run/$RUNS"
        # floor
        settle
        timed cp cp "$iso" "$out"
        add cp "$T_WALL" "$T_RSS"
        rm -f "$out"

        # manual pipeline
        settle
        timed xorriso xorriso -osirrox on -indev "$iso" -extract / "$dir"
        w1=$T_WALL r1=$T_RSS
        chmod -R u+w "$dir" # untimed: genisoimage patches isolinux.bin in place
        settle
        timed genisoimage genisoimage -quiet -r -J --joliet-long -V "$VOLID" -input-charset utf-8 \
            "${BOOTARGS[@]}" -o "$out" "$dir"
        w2=$T_WALL r2=$T_RSS
        settle
        timed isohybrid isohybrid --uefi "$out"
        w3=$T_WALL r3=$T_RSS
        add m.extract "$w1" "$r1"
        add m.genisoimage "$w2" "$r2"
        add m.isohybrid "$w3" "$r3"
        w=$(awk -v a="$w1" -v b="$w2" -v c="$w3" 'BEGIN { print a + b + c }')
        r=$r1; [ "$r2" -gt "$r" ] && r=$r2; [ "$r3" -gt "$r" ] && r=$r3
        add manual "$w" "$r"
        rmtree "$dir" "$out"

        # xiso
        settle
        timed xiso-unpack "$XISO" unpack "$iso" "$dir"
        w1=$T_WALL r1=$T_RSS
        add x.unpack "$w1" "$r1"
        if [ "$HAVE_PACK" = 1 ]; then
            settle
            timed xiso-pack "$XISO" pack "$dir" "$out"
            w2=$T_WALL r2=$T_RSS
            add x.pack "$w2" "$r2"
            w=$(awk -v a="$w1" -v b="$w2" 'BEGIN { print a + b }')
            r=$r1; [ "$r2" -gt "$r" ] && r=$r2
            add xiso "$w" "$r"
        fi
        rmtree "$dir" "$out"
    done

    local cpw mw
    cpw=$(med cp wall) mw=$(med manual wall)
    row() { # LABEL KEY
        local w r
        w=$(med "$2" wall) r=$(med "$2" rss)
        awk -v l="$1" -v w="$w" -v r="$r" -v c="$cpw" -v m="$mw" 'BEGIN {
            printf "%-34s %9.2f %10.1f %9.2fx %10.2fx\n", l, w, r / 1024, (c > 0 ? w / c : 0), (m > 0 ? w / m : 0) }'
    }
    echo
    printf 'ISO %s: %d MiB (%s MB requested), %d run(s), median; tree: %s\n' \
        "$(basename "$iso")" "$(( $(stat -c %s "$iso") / 1048576 ))" "$mb" "$RUNS" "$TREE_KIND"
    printf '%-34s %9s %10s %10s %11s\n' tool "wall s" "peak MiB" "vs cp" "vs manual"
    printf '%s\n' "-----------------------------------------------------------------------------"
    row "cp ISO out.iso (floor)" cp
    row "manual pipeline (sum)" manual
    row "  xorriso -extract" m.extract
    row "  genisoimage" m.genisoimage
    row "  isohybrid --uefi" m.isohybrid
    if [ "$HAVE_PACK" = 1 ]; then
        row "xiso unpack + pack (sum)" xiso
        row "  xiso pack" x.pack
    fi
    row "xiso unpack alone" x.unpack
    [ "$HAVE_PACK" = 1 ] || echo "(xiso pack not available: xiso unpack+pack rows skipped)"
    PEAK[manual.$mb]=$(med manual rss)
    PEAK[unpack.$mb]=$(med x.unpack rss)
    if [ "$HAVE_PACK" = 1 ]; then
        PEAK[xiso.$mb]=$(med xiso rss)
        awk -v x="$(med xiso wall)" -v m="$mw" -v c="$cpw" -v xr="$(med xiso rss)" -v mr="$(med manual rss)" 'BEGIN {
            printf "RESULT %s MB: xiso/manual = %.2fx time, %.2fx peak RSS; xiso/cp = %.2fx time\n",
                   "'"$mb"'", x / m, xr / mr, x / c }'
    else
        awk -v x="$(med x.unpack wall)" -v m="$(med m.extract wall)" -v c="$cpw" 'BEGIN {
            printf "RESULT %s MB: xiso pack not available; xiso unpack/xorriso extract = %.2fx time; xiso unpack/cp = %.2fx time\n",
                   "'"$mb"'", x / m, x / c }'
    fi
}

for mb in "${SIZE_LIST[@]}"; do
    bench_size "$mb"
done

if [ ${#SIZE_LIST[@]} -gt 1 ]; then
    growth() { # LABEL KEY
        local s line=
        for s in "${SIZE_LIST[@]}"; do
            line+="${line:+ -> }$(awk -v k="${PEAK[$2.$s]}" 'BEGIN { printf "%.1f MiB", k / 1024 }') (${s} MB)"
        done
        echo "peak RSS growth $1: $line"
    }
    echo
    if [ "$HAVE_PACK" = 1 ]; then growth xiso xiso; else echo "peak RSS growth xiso: n/a (xiso pack not available)"; fi
    growth "xiso unpack" unpack
    growth "manual pipeline" manual
fi

# ---------------------------------------------------------------- RPM repository (wt-closure)
# "+1 RPM into a 1,000-package repository": xiso add-rpm vs createrepo_c (full and --update),
# in scripts/bench-rpm.sh (its own cache and table). XISO_BENCH_RPM=0 skips it.
bench_rpm_repo() {
    [ "${XISO_BENCH_RPM:-1}" = 1 ] || return 0
    if ! command -v rpmbuild >/dev/null || ! command -v createrepo_c >/dev/null; then
        echo "(rpmbuild or createrepo_c missing: +1 RPM row skipped)"
        return 0
    fi
    XISO_BIN=$XISO XISO_BENCH_DIR=$BENCH "$SCRIPTS/bench-rpm.sh" --runs "$RUNS" --no-build
}
bench_rpm_repo
