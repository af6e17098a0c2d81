#!/usr/bin/env bash
# Benchmark xiso against the floor (cp) and the manual pipeline, in the same run, as ratios.
# Not a test: nothing here asserts a time; it prints numbers measured on this machine now.
#
# Usage: scripts/bench.sh [--size-mb N | --sizes N,M,...] [--runs N] [--quick] [--clean] [--no-build]
#                         [--binary PATH]...
#   --size-mb N    size of the generated source ISO in MB (default 650, an XCP-ng 8.3 ISO)
#   --sizes A,B    one table per size, then the peak-RSS growth of each tool (e.g. 650,1300)
#   --runs N       timed runs per command; the median is printed (default 3)
#   --quick        smoke run: --size-mb 100 --runs 1
#   --clean        also delete the generated source ISOs at the end (default: keep for reuse)
#   --no-build     do not run `cargo build --release` (use the existing binary)
#   --generate-only  build (and cache) the source ISOs, measure nothing
#   --binary PATH  time this xiso binary (no cargo build). Given twice or more: compare them,
#                  P1, P2 and P3 rows only (remaster --add-rpm, --patch-installer, the same
#                  with --installer-append), the
#                  binaries taking turns inside each run, medians and the ratio to the first
#                  (e.g. the glibc build against the static musl one: scripts/release.sh)
# Environment:
#   XISO_BENCH_DIR   where source ISOs and temp outputs live (default /tmp/xiso-bench)
#   XISO_FIXTURES    fixture directory of scripts/make-fixtures.sh (default <repo>/fixtures)
#   CARGO_TARGET_DIR respected when locating target/release/xiso
#   XISO_BIN         benchmark this xiso binary instead (no cargo build), e.g. another worktree's
#
# The source ISO = the fixture tree (fixtures/tree/, from scripts/make-fixtures.sh; a small
# isolinux + efiboot.img tree if that script is absent) + an install.img (`bench-gen.py
# installer`: ONE cpio newc archive of 8/13 of the ISO size, 400 MB at 650, a few thousand
# files of text/ELF-like/compressed/sparse content, in ONE `bzip2 -9` stream compressing ~3:1,
# so ~20% of the ISO) + 1-4 MiB incompressible Packages/filler-*.rpm files for the rest, made
# with genisoimage + isohybrid --uefi exactly as XCP-ng does. Content is deterministic
# (seeded), so the same ISO is rebuilt everywhere; SRC.iso.info records its numbers.
#
# Measured, each --runs times after one warm-up read of the ISO (warm page cache, no root
# cache tricks; `sync` between commands, untimed, so one run's writeback does not land in
# the next), with /usr/bin/time -f '%e %M':
#   cp ISO out.iso                                              the floor
#   manual: xorriso -osirrox on -indev ISO -extract / dir      \
#           genisoimage <XCP-ng flags> -o out.iso dir           } wall = sum, peak RSS = max
#           isohybrid --uefi out.iso                           /
#   xiso unpack --no-installer ISO dir + xiso pack dir out.iso  (skipped if `xiso pack` is absent)
#   xiso unpack alone                                           (always)
# and the installer edit, patching etc/xiso-marker inside install.img:
#   manual-installer: xorriso -osirrox -extract, (bunzip2 < install.img | cpio -idm),
#           new marker, (find . | cpio -o -H newc | bzip2 -9 > install.img),
#           genisoimage <XCP-ng flags>, isohybrid --uefi              wall = sum, RSS = max
#   xiso-installer: xiso unpack ISO W, new marker in O/etc/xiso-marker,
#           xiso patch-installer W O, xiso pack W out.iso              (pack also alone)
#           (pack copies the unchanged bzip2 blocks; a row below packs again without
#           the block index, a full rebuild, untimed in the sum)
#   xiso-installer-append: the same with xiso pack --installer-append W out.iso
# and the issue-8 targets (a table with MET/MISSED per target):
#   P1 manual: xorriso -extract, cp NEW.rpm Packages/, createrepo_c --update, genisoimage,
#      isohybrid --uefi; P1 xiso: xiso remaster ISO out.iso --add-rpm NEW.rpm (against
#      cp), and the same with --fsync (against cp + sync, the durable copy)
#   P2 xiso remaster ISO out.iso --patch-installer O (install.img rebuilt), against the
#      manual-installer sum above; and `xiso pack` after unpack + patch-installer against cp
#   P3 xiso remaster ISO out.iso --patch-installer O --installer-append, against cp; and
#      `xiso pack --installer-append` after unpack + patch-installer against cp
# The source's Packages/ are real RPMs (1-4 MiB incompressible payloads, one rpmbuild run)
# with createrepo_c repodata, so add-rpm and createrepo_c --update do their real work.
# Each xiso output is checked (untimed): its install.img must decode and hold the new marker
# (rebuild: bsdtar | bunzip2 | GNU cpio, first archive; append: bench-gen.py cpio-find, last
# of >= 2 archives); a wrong one stops the bench. Rows whose commands the binary lacks print
# n/a. Peak RSS of a pipe is its largest process.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPTS/.." && pwd)
GEN_VERSION=3 # bump when the generated ISO's recipe changes (invalidates cached ISOs)
VOLID="XCP-ng 8.3.0"
BOOTARGS=(-c boot/isolinux/boot.cat -b boot/isolinux/isolinux.bin -no-emul-boot
    -boot-load-size 4 -boot-info-table -eltorito-alt-boot -e boot/efiboot.img -no-emul-boot)

SIZES=650
RUNS=3
GENERATE_ONLY=0
CLEAN=0
BUILD=1
BINARIES=()
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
        --generate-only) GENERATE_ONLY=1 ;;
        --binary) BINARIES+=("${2:?--binary needs a path}"); shift ;;
        --binary=*) BINARIES+=("${1#*=}") ;;
        -h|--help) sed -n '2,63p' "$0"; exit 0 ;;
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
command -v cpio >/dev/null || need_pkg+=(cpio)
command -v bsdtar >/dev/null || need_pkg+=(libarchive-tools)
[ -f /usr/lib/ISOLINUX/isolinux.bin ] || need_pkg+=(isolinux)
command -v rpmbuild >/dev/null || need_pkg+=(rpm)
command -v createrepo_c >/dev/null || need_pkg+=(createrepo-c)
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
        rm -f "$BENCH"/src-v*.iso "$BENCH"/src-v*.iso.info
        rm -rf "$BENCH/mini-tree"
        rmdir "$BENCH" 2>/dev/null || true
    fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- xiso binary
[ ${#BINARIES[@]} -eq 0 ] || XISO_BIN=${BINARIES[0]}
for b in "${BINARIES[@]}"; do
    [ -x "$b" ] || die "--binary $b: not an executable file"
    "$b" remaster --help >/dev/null 2>&1 || die "--binary $b: no \`remaster\` command (P1/P2 need it)"
done
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

# installer rows: each needs its command; "" = available, else why not (printed as n/a)
NA_INSTALLER= NA_APPEND=
if [ "$HAVE_PACK" = 0 ]; then
    NA_INSTALLER="xiso lacks pack"
elif ! "$XISO" patch-installer --help >/dev/null 2>&1; then
    NA_INSTALLER="xiso lacks patch-installer"
fi
if [ -n "$NA_INSTALLER" ]; then
    NA_APPEND=$NA_INSTALLER
elif ! "$XISO" pack --help 2>/dev/null | grep -q -e '--installer-append'; then
    NA_APPEND="xiso lacks pack --installer-append"
fi
NA_REMASTER=
if ! "$XISO" remaster --help >/dev/null 2>&1; then
    NA_REMASTER="xiso lacks remaster"
    log "remaster rows: n/a ($NA_REMASTER)"
fi
[ -z "$NA_INSTALLER" ] || log "installer rows: n/a ($NA_INSTALLER)"
[ -n "$NA_INSTALLER" ] || [ -z "$NA_APPEND" ] || log "installer append rows: n/a ($NA_APPEND)"

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
# make_rpms PACKAGES_DIR BYTES SEED TOPDIR: real filler RPMs (1-4 MiB incompressible payload
# each, uncompressed payload) built by ONE rpmbuild run; prints their count
make_rpms() {
    local pk=$1 bytes=$2 seed=$3 top=$4 n i spec
    mkdir -p "$top/SPECS" "$top/payload"
    n=$(python3 "$SCRIPTS/bench-gen.py" payloads "$top/payload" "$bytes" "$seed")
    spec=$top/SPECS/filler.spec
    {
        printf 'Name: filler\nVersion: 1.0\nRelease: 1\nSummary: bench filler\nLicense: MIT\n'
        printf '%%description\nxiso bench filler\n'
        for ((i = 0; i < n; i++)); do
            printf '%%package -n filler-%04d\nSummary: filler %d\n%%description -n filler-%04d\nfiller\n' "$i" "$i" "$i"
        done
        printf '%%install\nmkdir -p %%{buildroot}/usr/share/xiso-filler\ncp %s/payload/*.bin %%{buildroot}/usr/share/xiso-filler/\n' "$top"
        for ((i = 0; i < n; i++)); do
            printf '%%files -n filler-%04d\n/usr/share/xiso-filler/%04d.bin\n' "$i" "$i"
        done
    } > "$spec"
    rpmbuild --define "_topdir $top" --define "_binary_payload w0.ufdio" \
        --define "__os_install_post %{nil}" --define "_build_id_links none" \
        --quiet -bb "$spec" >&2 || die "rpmbuild of the filler packages failed"
    mv "$top"/RPMS/*/*.rpm "$pk/"
    echo "$n"
}

# new_rpm: the package P1 adds (built once, cached)
new_rpm() {
    local top=$BENCH/new-rpm rpm
    rpm=$(ls "$top"/RPMS/noarch/xiso-bench-new-1.0-1.noarch.rpm 2>/dev/null || true)
    if [ -z "$rpm" ]; then
        rm -rf "$top"
        mkdir -p "$top/SPECS"
        printf 'Name: xiso-bench-new\nVersion: 1.0\nRelease: 1\nSummary: P1 package\nLicense: MIT\nBuildArch: noarch\n%%description\nadded by bench P1\n%%install\nmkdir -p %%{buildroot}/usr/share/xiso-bench-new\nhead -c 1048576 /dev/urandom > %%{buildroot}/usr/share/xiso-bench-new/data\n%%files\n/usr/share/xiso-bench-new/data\n' \
            > "$top/SPECS/new.spec"
        rpmbuild --define "_topdir $top" --define "__os_install_post %{nil}" --quiet -bb "$top/SPECS/new.spec" >&2 \
            || die "rpmbuild of the P1 package failed"
        rpm=$top/RPMS/noarch/xiso-bench-new-1.0-1.noarch.rpm
    fi
    echo "$rpm"
}

make_iso() { # SIZE_MB -> path of the (cached) source ISO
    local mb=$1 iso="$BENCH/src-v$GEN_VERSION-$TREE_KIND-${mb}mb.iso"
    if [ -s "$iso" ] && { [ "$TREE_KIND" = mini ] || [ "$iso" -nt "$BASE_TREE" ]; }; then
        log "reusing $iso"
        echo "$iso"
        return
    fi
    local t="$BENCH/build-$mb" total img_bytes pkg_bytes raw n start t_img t_all ents
    rmtree "$t"
    mkdir -p "$t"
    log "building a ${mb} MB source ISO from $TREE_KIND tree (once; cached in $BENCH)"
    start=$(date +%s.%N)
    cp -a "$BASE_TREE" "$t/tree"
    rm -f "$t/tree/.complete" "$t/tree/boot/isolinux/boot.cat" "$t/tree/install.img"
    mkdir -p "$t/tree/Packages"
    total=$((mb * 1000 * 1000))
    raw=$((total / 13 * 8))                        # installer root: 400 MB at 650 MB
    # install.img first (the generator and bzip2 -9 take both cores), then the packages
    # fill the ISO to its size
    log "  install.img: $((raw / 1000000)) MB cpio | bzip2 -9 (the slow part)"
    (set -o pipefail
     python3 "$SCRIPTS/bench-gen.py" installer "$raw" "$mb" 2>"$t/entries" | bzip2 -9 > "$t/install.img") \
        || die "install.img generation failed"
    t_img=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    img_bytes=$(stat -c %s "$t/install.img")
    pkg_bytes=$((total - img_bytes - $(du -sb "$t/tree" | cut -f1)))
    [ "$pkg_bytes" -gt 0 ] || pkg_bytes=1
    n=$(make_rpms "$t/tree/Packages" "$pkg_bytes" "$mb" "$t/rpmbuild")
    createrepo_c --quiet "$t/tree" >&2 || die "createrepo_c failed"
    mv "$t/install.img" "$t/tree/install.img"
    find "$t/tree" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    ents=$(cat "$t/entries")
    log "  $n filler rpms ($((pkg_bytes / 1000000)) MB), install.img $((img_bytes / 1000000)) MB ($ents, $((raw / 1000000)) MB raw) in ${t_img} s"
    genisoimage -quiet -r -J --joliet-long -V "$VOLID" -input-charset utf-8 \
        "${BOOTARGS[@]}" -o "$t/out.iso" "$t/tree" >&2
    isohybrid --uefi "$t/out.iso"
    t_all=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    log "  generated in ${t_all} s (install.img ${t_img} s)"
    printf 'img_raw=%s\nimg_bz2=%s\nimg_entries=%s\ngen_img_s=%s\ngen_total_s=%s\n' \
        "$raw" "$img_bytes" "$ents" "$t_img" "$t_all" > "$iso.info"
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

# step KEY LOGNAME CMD...: settle, timed, add KEY; adds the wall time to S_W and raises S_R
# to the peak RSS (set S_W=0 S_R=0 before a pipeline's first step)
step() {
    local key=$1
    shift
    settle
    timed "$@"
    add "$key" "$T_WALL" "$T_RSS"
    S_W=$(awk -v a="$S_W" -v b="$T_WALL" 'BEGIN { print a + b }')
    if [ "$T_RSS" -gt "$S_R" ]; then S_R=$T_RSS; fi
}

MARKER_PATH=etc/xiso-marker
ORIGINAL_MARKER="xiso-bench original marker" # bench-gen.py's MARKER

# check_rebuild ISO EXPECTED WHAT: install.img decodes (bunzip2) and GNU cpio, which stops at
# the first TRAILER!!!, finds the marker with the new text in the first archive
check_rebuild() {
    local got
    got=$(set -o pipefail
          bsdtar -xOf "$1" install.img | bunzip2 | cpio -i --quiet --to-stdout "$MARKER_PATH" "./$MARKER_PATH") \
        || die "$3: install.img of $1 does not decode (bsdtar | bunzip2 | cpio failed)"
    [ "$got" = "$2" ] || die "$3: install.img of $1 holds $MARKER_PATH = '$got', expected '$2'"
    log "  checked $3: $MARKER_PATH = '$got'"
}

# check_append ISO EXPECTED WHAT: install.img decodes (bunzip2 reads concatenated streams) to
# at least two concatenated cpio archives and the LAST marker entry holds the new text
check_append() {
    local got n
    got=$(set -o pipefail
          bsdtar -xOf "$1" install.img | bunzip2 | python3 "$SCRIPTS/bench-gen.py" cpio-find "$MARKER_PATH") \
        || die "$3: install.img of $1 does not decode to cpio archives holding $MARKER_PATH"
    n=${got%%$'\n'*} got=${got#*$'\n'}
    [ "$n" -ge 2 ] || die "$3: install.img of $1 holds $n cpio archive(s), expected >= 2 (appended)"
    [ "$got" = "$2" ] || die "$3: install.img of $1: last $MARKER_PATH = '$got', expected '$2'"
    log "  checked $3: $n archives, last $MARKER_PATH = '$got'"
}

# check_unpacked W WHAT: xiso unpack extracted the installer root into W/installer/
check_unpacked() {
    local got
    [ -f "$1/installer/$MARKER_PATH" ] \
        || die "$2: xiso unpack did not extract install.img into $1/installer/ (no $MARKER_PATH)"
    got=$(cat "$1/installer/$MARKER_PATH")
    [ "$got" = "$ORIGINAL_MARKER" ] || die "$2: $1/installer/$MARKER_PATH = '$got', expected '$ORIGINAL_MARKER'"
}

# xiso_installer MODE RUN: unpack, patch-installer with a new marker, pack (MODE rebuild) or
# pack --installer-append (MODE append); records xi.* / xa.* and the sum xinst / xapp
xiso_installer() {
    local mode=$1 run=$2 k s marker w=$WORK/w o=$WORK/overlay out=$WORK/out.iso
    if [ "$mode" = rebuild ]; then k=xi s=xinst; else k=xa s=xapp; fi
    marker="xiso-bench patched run $run $mode"
    S_W=0 S_R=0
    step "$k.unpack" "$k-unpack" "$XISO" unpack "$iso" "$w"
    check_unpacked "$w" "xiso-installer-$mode"
    rm -rf "$o"
    mkdir -p "$o/etc"
    printf '%s\n' "$marker" > "$o/$MARKER_PATH"
    step "$k.patch" "$k-patch" "$XISO" patch-installer "$w" "$o"
    if [ "$mode" = rebuild ]; then
        step "$k.pack" "$k-pack" "$XISO" pack "$w" "$out"
        # The same pack without the bzip2 block index unpack recorded (so no block is
        # copied): the full rebuild, for comparison; not part of the sum.
        if grep -q '"bz2_index"' "$w/.xiso/installer" 2>/dev/null; then
            python3 -c 'import json, sys; p = sys.argv[1]; m = json.load(open(p)); m.pop("bz2_index"); json.dump(m, open(p, "w"))' \
                "$w/.xiso/installer"
            settle
            timed "$k-full" "$XISO" pack "$w" "$WORK/full.iso"
            add "$k.full" "$T_WALL" "$T_RSS"
            check_rebuild "$WORK/full.iso" "$marker" "xiso-installer-full-rebuild"
            rm -f "$WORK/full.iso"
        fi
    else
        step "$k.pack" "$k-pack" "$XISO" pack --installer-append "$w" "$out"
    fi
    add "$s" "$S_W" "$S_R"
    if [ "$mode" = rebuild ]; then
        check_rebuild "$out" "$marker" "xiso-installer"
    else
        check_append "$out" "$marker" "xiso-installer-append"
    fi
    rmtree "$w" "$o" "$out"
}

# remaster_rows RUN: the issue-8 targets. P1 adds one RPM (install.img untouched) by hand
# (xorriso extract, cp, createrepo_c --update, genisoimage, isohybrid) and with one
# `xiso remaster --add-rpm`; P2 patches the marker with `xiso remaster --patch-installer`
# (install.img rebuilt); P3 the same with --installer-append. Each output is checked.
remaster_rows() {
    local run=$1 o=$WORK/overlay-r out=$WORK/out.iso dir=$WORK/dir marker
    S_W=0 S_R=0
    step p1m.extract p1m-xorriso xorriso -osirrox on -indev "$iso" -extract / "$dir"
    chmod -R u+w "$dir" # untimed, as above
    step p1m.cp p1m-cp cp "$NEWRPM" "$dir/Packages/"
    step p1m.createrepo p1m-createrepo createrepo_c --quiet --update "$dir"
    step p1m.genisoimage p1m-genisoimage genisoimage -quiet -r -J --joliet-long -V "$VOLID" \
        -input-charset utf-8 "${BOOTARGS[@]}" -o "$out" "$dir"
    step p1m.isohybrid p1m-isohybrid isohybrid --uefi "$out"
    add p1manual "$S_W" "$S_R"
    rmtree "$dir" "$out"
    settle
    timed p1 "$XISO" remaster "$iso" "$out" --add-rpm "$NEWRPM"
    add p1 "$T_WALL" "$T_RSS"
    rm -f "$out"
    settle
    timed p1f "$XISO" remaster "$iso" "$out" --add-rpm "$NEWRPM" --fsync
    add p1f "$T_WALL" "$T_RSS"
    "$XISO" ls "$out" /Packages | grep -q xiso-bench-new-1.0-1.noarch.rpm \
        || die "P1: the remastered ISO lacks the added RPM"
    [ "$("$XISO" cat "$out" /install.img | sha256sum)" = "$("$XISO" cat "$iso" /install.img | sha256sum)" ] \
        || die "P1: install.img changed"
    rm -f "$out"
    for mode in rebuild append; do
        marker="xiso-bench remaster run $run $mode"
        rm -rf "$o"
        mkdir -p "$o/etc"
        printf '%s\n' "$marker" > "$o/$MARKER_PATH"
        settle
        if [ "$mode" = rebuild ]; then
            timed p2 "$XISO" remaster "$iso" "$out" --patch-installer "$o"
            add p2 "$T_WALL" "$T_RSS"
            check_rebuild "$out" "$marker" "remaster"
        else
            timed p3 "$XISO" remaster "$iso" "$out" --patch-installer "$o" --installer-append
            add p3 "$T_WALL" "$T_RSS"
            check_append "$out" "$marker" "remaster --installer-append"
        fi
        rm -f "$out"
    done
    rm -rf "$o"
}

# remaster_table: P1/P2/P3 against the issue's targets
remaster_table() {
    local cpw=$1 miw=$2
    verdict() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN { ok = (dir == "le") ? v <= t : v >= t; print ok ? "MET" : "MISSED" }'; }
    line() { # LABEL VALUE TARGET le|ge UNIT
        printf '%-52s %8.2f%s  target %s %s%s  %s\n' "$1" "$2" "$5" "$([ "$4" = le ] && echo '<=' || echo '>=')" "$3" "$5" \
            "$(verdict "$2" "$3" "$4")"
    }
    local p1 p1m p2 p3 xip csw
    p1=$(med p1 wall) p1m=$(med p1manual wall) p2=$(med p2 wall) p3=$(med p3 wall)
    csw=$(med cpsync wall)
    echo
    echo "remaster (issue 8 targets), median of $RUNS run(s); cp = $cpw s, cp + sync = $csw s, manual-installer = $miw s, manual +1 RPM = $p1m s"
    echo "(xiso, like cp, leaves OUT in the page cache; with --fsync it flushes it before the rename: against cp + sync)"
    printf '%s\n' "-----------------------------------------------------------------------------------------"
    line "P1 remaster --add-rpm: time / cp" "$(awk -v a="$p1" -v b="$cpw" 'BEGIN { print a / b }')" 1.3 le x
    line "P1 remaster --add-rpm --fsync: time / (cp + sync)" "$(awk -v a="$(med p1f wall)" -v b="$csw" 'BEGIN { print a / b }')" 1.3 le x
    line "P1 manual (+1 RPM) time / remaster time" "$(awk -v a="$p1m" -v b="$p1" 'BEGIN { print a / b }')" 3 ge x
    line "P1 remaster peak RSS" "$(awk -v r="$(med p1 rss)" 'BEGIN { print r / 1024 }')" 64 le " MiB"
    line "P2 manual-installer time / remaster --patch-installer" "$(awk -v a="$miw" -v b="$p2" 'BEGIN { print a / b }')" 5 ge x
    line "P2 remaster peak RSS" "$(awk -v r="$(med p2 rss)" 'BEGIN { print r / 1024 }')" 256 le " MiB"
    if [ -z "$NA_INSTALLER" ]; then
        xip=$(med xi.pack wall)
        line "P2 pack after unpack + patch-installer: time / cp" "$(awk -v a="$xip" -v b="$cpw" 'BEGIN { print a / b }')" 2 le x
    fi
    line "P3 remaster --installer-append: time / cp" "$(awk -v a="$p3" -v b="$cpw" 'BEGIN { print a / b }')" 1.3 le x
    if [ -z "$NA_APPEND" ]; then
        line "P3 pack --installer-append after unpack + patch: time / cp" "$(awk -v a="$(med xa.pack wall)" -v b="$cpw" 'BEGIN { print a / b }')" 1.3 le x
    fi
    line "P3 remaster peak RSS" "$(awk -v r="$(med p3 rss)" 'BEGIN { print r / 1024 }')" 256 le " MiB"
    PEAK[p1.$mb]=$(med p1 rss) PEAK[p2.$mb]=$(med p2 rss) PEAK[p3.$mb]=$(med p3 rss)
}

bench_size() {
    local mb=$1 iso run out dir root w r w1 r1 w2 r2 w3 r3 marker
    iso=$(make_iso "$mb")
    NEWRPM=$(new_rpm)
    R=()
    out=$WORK/out.iso dir=$WORK/dir root=$WORK/root
    log "warm-up read of $iso ($(( $(stat -c %s "$iso") / 1048576 )) MiB)"
    cat "$iso" > /dev/null
    for ((run = 1; run <= RUNS; run++)); do
        log "size $mb MB, run $run/$RUNS"
        # floor
        settle
        timed cp cp "$iso" "$out"
        add cp "$T_WALL" "$T_RSS"
        rm -f "$out"
        # the durable floor, for xiso remaster --fsync
        settle
        timed cpsync sh -c 'cp "$1" "$2" && sync "$2"' _ "$iso" "$out"
        add cpsync "$T_WALL" "$T_RSS"
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
        # Like the manual pipeline above, leave install.img packed (the installer
        # rows below measure editing inside it).
        if "$XISO" unpack --help 2>/dev/null | grep -q -e '--no-installer'; then
            timed xiso-unpack "$XISO" unpack --no-installer "$iso" "$dir"
        else
            timed xiso-unpack "$XISO" unpack "$iso" "$dir"
        fi
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

        # installer, manual: extract, unpack install.img, edit, repack, rebuild the ISO
        marker="xiso-bench patched run $run manual"
        S_W=0 S_R=0
        step mi.extract mi-xorriso xorriso -osirrox on -indev "$iso" -extract / "$dir"
        chmod -R u+w "$dir" # untimed, as above
        mkdir "$root"
        step mi.unpack mi-unpack bash -c 'set -o pipefail; cd "$1" && bunzip2 < "$2" | cpio -idm --quiet' \
            _ "$root" "$dir/install.img"
        printf '%s\n' "$marker" > "$root/$MARKER_PATH"
        step mi.repack mi-repack bash -c 'set -o pipefail; cd "$1" && find . | cpio -o -H newc --quiet | bzip2 -9 > "$2"' \
            _ "$root" "$dir/install.img"
        step mi.genisoimage mi-genisoimage genisoimage -quiet -r -J --joliet-long -V "$VOLID" \
            -input-charset utf-8 "${BOOTARGS[@]}" -o "$out" "$dir"
        step mi.isohybrid mi-isohybrid isohybrid --uefi "$out"
        add minst "$S_W" "$S_R"
        # the checker on the manual output once: proves the check itself
        [ "$run" -gt 1 ] || check_rebuild "$out" "$marker" "manual-installer"
        rmtree "$dir" "$root" "$out"

        # installer, xiso: rebuild install.img, then append to it
        [ -n "$NA_INSTALLER" ] || xiso_installer rebuild "$run"
        [ -n "$NA_APPEND" ] || xiso_installer append "$run"

        [ -n "$NA_REMASTER" ] || remaster_rows "$run"
    done

    local cpw mw
    cpw=$(med cp wall) mw=$(med manual wall)
    row() { # LABEL KEY [REFERENCE-WALL for the last column, default: manual]
        local w r m=${3:-$mw}
        w=$(med "$2" wall) r=$(med "$2" rss)
        awk -v l="$1" -v w="$w" -v r="$r" -v c="$cpw" -v m="$m" 'BEGIN {
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

    # installer table
    local miw info img_raw=? img_bz2=? img_entries=?
    miw=$(med minst wall)
    info=$iso.info
    if [ -f "$info" ]; then
        img_raw=$(sed -n 's/^img_raw=//p' "$info") img_bz2=$(sed -n 's/^img_bz2=//p' "$info")
        img_entries=$(sed -n 's/^img_entries=//p' "$info")
        img_raw=$((img_raw / 1000000)) img_bz2=$((img_bz2 / 1000000))
    fi
    na() { printf '%-34s %9s\n' "$1" "n/a ($2)"; }
    echo
    printf 'install.img: patch %s + repack; install.img %s MB bzip2 -9, %s MB cpio (%s)\n' \
        "$MARKER_PATH" "$img_bz2" "$img_raw" "$img_entries"
    printf '%-34s %9s %10s %10s %11s\n' tool "wall s" "peak MiB" "vs cp" "vs manual"
    printf '%s\n' "-----------------------------------------------------------------------------"
    row "cp ISO out.iso (floor)" cp "$miw"
    row "manual-installer (sum)" minst "$miw"
    row "  xorriso -extract" mi.extract "$miw"
    row "  bunzip2 | cpio -idm" mi.unpack "$miw"
    row "  find | cpio -o | bzip2 -9" mi.repack "$miw"
    row "  genisoimage" mi.genisoimage "$miw"
    row "  isohybrid --uefi" mi.isohybrid "$miw"
    if [ -z "$NA_INSTALLER" ]; then
        row "xiso-installer (sum)" xinst "$miw"
        row "  xiso unpack" xi.unpack "$miw"
        row "  xiso patch-installer" xi.patch "$miw"
        row "  xiso pack" xi.pack "$miw"
        [ -z "${R[xi.full.wall]:-}" ] || row "  (xiso pack, full bzip2 rebuild)" xi.full "$miw"
    else
        na "xiso-installer" "$NA_INSTALLER"
    fi
    if [ -z "$NA_APPEND" ]; then
        row "xiso-installer-append (sum)" xapp "$miw"
        row "  xiso unpack" xa.unpack "$miw"
        row "  xiso patch-installer" xa.patch "$miw"
        row "  xiso pack --installer-append" xa.pack "$miw"
    else
        na "xiso-installer-append" "$NA_APPEND"
    fi
    PEAK[minst.$mb]=$(med minst rss)
    local line
    line=$(awk -v m="$miw" -v mr="$(med minst rss)" 'BEGIN {
        printf "RESULT installer %s MB: manual-installer %.2f s, %.1f MiB", "'"$mb"'", m, mr / 1024 }')
    if [ -z "$NA_INSTALLER" ]; then
        PEAK[xinst.$mb]=$(med xinst rss)
        line+=$(awk -v x="$(med xinst wall)" -v p="$(med xi.pack wall)" -v r="$(med xinst rss)" \
            -v m="$miw" -v c="$cpw" 'BEGIN {
            printf "; xiso-installer %.2fx faster than manual, its pack/cp = %.2fx, %.1f MiB", m / x, p / c, r / 1024 }')
    else
        line+="; xiso-installer n/a ($NA_INSTALLER)"
    fi
    if [ -z "$NA_APPEND" ]; then
        PEAK[xapp.$mb]=$(med xapp rss)
        line+=$(awk -v x="$(med xapp wall)" -v p="$(med xa.pack wall)" -v r="$(med xapp rss)" \
            -v m="$miw" -v c="$cpw" 'BEGIN {
            printf "; xiso-installer-append %.2fx faster than manual, its pack/cp = %.2fx, %.1f MiB", m / x, p / c, r / 1024 }')
    else
        line+="; xiso-installer-append n/a ($NA_APPEND)"
    fi
    echo "$line"
    [ -n "$NA_REMASTER" ] || remaster_table "$cpw" "$miw"
}

if [ "$GENERATE_ONLY" = 1 ]; then
    for mb in "${SIZE_LIST[@]}"; do
        make_iso "$mb"
        new_rpm > /dev/null
    done
    exit 0
fi

# compare_binaries SIZE_MB: P1, P2 and P3 for each --binary, taking turns inside each run so a
# busy machine slows them alike; checked like remaster_rows's outputs
compare_binaries() {
    local mb=$1 iso run i b o=$WORK/overlay-c out=$WORK/out.iso marker
    iso=$(make_iso "$mb")
    NEWRPM=$(new_rpm)
    R=()
    log "warm-up read of $iso ($(( $(stat -c %s "$iso") / 1048576 )) MiB)"
    cat "$iso" > /dev/null
    for ((run = 1; run <= RUNS; run++)); do
        log "size $mb MB, run $run/$RUNS"
        for i in "${!BINARIES[@]}"; do
            b=${BINARIES[$i]}
            settle
            timed "c$i-p1" "$b" remaster "$iso" "$out" --add-rpm "$NEWRPM"
            add "c$i.p1" "$T_WALL" "$T_RSS"
            "$b" ls "$out" /Packages | grep -q xiso-bench-new-1.0-1.noarch.rpm \
                || die "P1 ($b): the remastered ISO lacks the added RPM"
            rm -f "$out"
            marker="xiso-bench compare run $run binary $i"
            rm -rf "$o"
            mkdir -p "$o/etc"
            printf '%s\n' "$marker" > "$o/$MARKER_PATH"
            settle
            timed "c$i-p2" "$b" remaster "$iso" "$out" --patch-installer "$o"
            add "c$i.p2" "$T_WALL" "$T_RSS"
            check_rebuild "$out" "$marker" "remaster ($b)"
            rm -f "$out"
            settle
            timed "c$i-p3" "$b" remaster "$iso" "$out" --patch-installer "$o" --installer-append
            add "c$i.p3" "$T_WALL" "$T_RSS"
            check_append "$out" "$marker" "remaster --installer-append ($b)"
            rm -f "$out"
        done
    done
    rm -rf "$o"
    echo
    echo "P1/P2/P3 per binary, $mb MB source ISO, median of $RUNS run(s), same run; ratio = time / first binary's"
    printf '%-44s %-32s %8s %9s %7s\n' binary row "wall s" "peak MiB" ratio
    printf '%s\n' "-----------------------------------------------------------------------------------------------------"
    for i in "${!BINARIES[@]}"; do
        for k in p1 p2 p3; do
            printf '%-44s %-32s %8.2f %9.1f %6.2fx\n' "${BINARIES[$i]}" \
                "$(case $k in p1) echo 'P1 remaster --add-rpm' ;; p2) echo 'P2 remaster --patch-installer' ;;
                    *) echo 'P3 ... --installer-append' ;; esac)" \
                "$(med "c$i.$k" wall)" "$(awk -v r="$(med "c$i.$k" rss)" 'BEGIN { print r / 1024 }')" \
                "$(awk -v a="$(med "c$i.$k" wall)" -v b="$(med "c0.$k" wall)" 'BEGIN { print a / b }')"
        done
    done
}
if [ ${#BINARIES[@]} -ge 2 ]; then
    for mb in "${SIZE_LIST[@]}"; do
        compare_binaries "$mb"
    done
    exit 0
fi

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
    growth "manual-installer" minst
    if [ -z "$NA_INSTALLER" ]; then growth xiso-installer xinst; else echo "peak RSS growth xiso-installer: n/a ($NA_INSTALLER)"; fi
    if [ -z "$NA_APPEND" ]; then growth xiso-installer-append xapp; else echo "peak RSS growth xiso-installer-append: n/a ($NA_APPEND)"; fi
    if [ -z "$NA_REMASTER" ]; then
        growth "P1 remaster --add-rpm" p1
        growth "P2 remaster --patch-installer" p2
        growth "P3 remaster --installer-append" p3
    fi
fi

# ---------------------------------------------------------------- RPM repository (wt-closure)
# "+1 RPM into a 1,000-package repository": xiso add-rpm vs createrepo_c (full and --update),
# and "refresh 200 of them": xiso add-rpm --refresh-from vs createrepo_c --update, in
# scripts/bench-rpm.sh (its own cache and tables). XISO_BENCH_RPM=0 skips it.
bench_rpm_repo() {
    [ "${XISO_BENCH_RPM:-1}" = 1 ] || return 0
    if ! command -v rpmbuild >/dev/null || ! command -v createrepo_c >/dev/null; then
        echo "(rpmbuild or createrepo_c missing: +1 RPM row skipped)"
        return 0
    fi
    XISO_BIN=$XISO XISO_BENCH_DIR=$BENCH "$SCRIPTS/bench-rpm.sh" --runs "$RUNS" --no-build
}
bench_rpm_repo
