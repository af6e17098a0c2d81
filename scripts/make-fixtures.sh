#!/usr/bin/env bash
# Build XCP-ng-like installer ISO fixtures, the way XCP-ng's create-install-image
# (scripts/create-iso.sh) builds real ones, from Debian packages only.
#
# Usage: scripts/make-fixtures.sh [--force] [OUTDIR]
#   OUTDIR defaults to $XISO_FIXTURES, else <repo>/fixtures (gitignored).
#
# Outputs (see the summary printed at the end):
#   OUTDIR/tree/               the ISO tree (.treeinfo, install.img, boot/, EFI/, Packages/, repodata/);
#                              boot/xen.gz and boot/vmlinuz: Debian 12's Xen 4.17 and dom0 kernel
#   OUTDIR/genisoimage.iso     genisoimage + isohybrid --uefi   (what XCP-ng ships)
#   OUTDIR/xorriso.iso         xorriso -as mkisofs, isohdpfx MBR + GPT
#   OUTDIR/debian/*.iso        foreign ISOs from Debian packages (ipxe, grub-rescue-pc, memtest86+)
#   OUTDIR/cache/              downloaded .deb files (kept between runs)
#
# Reproducible (SOURCE_DATE_EPOCH=1700000000): tree/, install.img, efiboot.img,
# BOOTX64.EFI, repodata and xorriso.iso are bit-identical between runs.
# genisoimage.iso is not: its Rock Ridge TF entries carry the build machine's
# atime/ctime and isohybrid picks random GPT GUIDs.
#
# Work is skipped when OUTDIR/.complete is newer than this script and mkcpio.py
# (use --force or XISO_FIXTURES_FORCE=1 to rebuild).
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPTS/.." && pwd)

FORCE=${XISO_FIXTURES_FORCE:-0}
OUT=
while [ $# -gt 0 ]; do
    case "$1" in
        --force) FORCE=1 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        -*) echo "make-fixtures: unknown option $1" >&2; exit 2 ;;
        *) [ -z "$OUT" ] || { echo "make-fixtures: one OUTDIR only" >&2; exit 2; }; OUT=$1 ;;
    esac
    shift
done
OUT=${OUT:-${XISO_FIXTURES:-$REPO/fixtures}}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

export SOURCE_DATE_EPOCH=1700000000
export TZ=UTC LC_ALL=C.UTF-8
umask 022
FAKEDATE=$(date -u -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M:%S')
VOLID="XCP-ng 8.3.0"
MARKER="fixture-original"

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'make-fixtures: ERROR: %s\n' "$*" >&2; exit 1; }

ISOS=(genisoimage.iso xorriso.iso debian/ipxe.iso debian/grub-rescue-cdrom.iso)
STAMP="$OUT/.complete"

up_to_date() {
    [ "$FORCE" = 1 ] && return 1
    [ -f "$STAMP" ] || return 1
    [ "$STAMP" -nt "$SCRIPTS/make-fixtures.sh" ] || return 1
    [ "$STAMP" -nt "$SCRIPTS/mkcpio.py" ] || return 1
    [ "$STAMP" -nt "$SCRIPTS/make-signed-fixture.sh" ] && [ -s "$OUT/signed.iso" ] || return 1
    local f
    for f in "${ISOS[@]}"; do [ -s "$OUT/$f" ] || return 1; done
    return 0
}

summary() {
    echo "fixtures in $OUT:"
    (cd "$OUT" && for f in genisoimage.iso xorriso.iso debian/*.iso tree/install.img tree/boot/efiboot.img tree/boot/vmlinuz; do
        [ -e "$f" ] && printf '  %-32s %10s bytes  sha256 %s\n' "$f" "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -c1-16)"
    done)
    [ -f "$OUT/kernel-version" ] && echo "  kernel: $(cat "$OUT/kernel-version")"
    echo "  marker: XISO-MARKER $MARKER"
}

if up_to_date; then
    log "fixtures up to date in $OUT (use --force to rebuild)"
    summary
    exit 0
fi

# ---------------------------------------------------------------- tools
need=(python3 cpio bzip2 busybox genisoimage xorriso isohybrid
      mformat mmd mcopy createrepo_c grub-mkimage dpkg-deb apt-get apt-cache)
missing=()
for t in "${need[@]}"; do command -v "$t" >/dev/null || missing+=("$t"); done
for f in /usr/lib/ISOLINUX/isolinux.bin /usr/lib/ISOLINUX/isohdpfx.bin \
         /usr/lib/syslinux/modules/bios/ldlinux.c32 /usr/lib/grub/x86_64-efi/linux.mod; do
    [ -e "$f" ] || missing+=("$f")
done
[ ${#missing[@]} -eq 0 ] || die "missing tools/files: ${missing[*]} (run scripts/install-deps.sh as root)"
[ "$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null)" = "install ok installed" ] \
    || die "busybox-static is not installed (a dynamic busybox cannot run in the initrd)"
FAKETIME=()
if command -v faketime >/dev/null; then
    FAKETIME=(faketime -f "$FAKEDATE")
else
    log "WARNING: faketime not found: efiboot.img, BOOTX64.EFI and genisoimage.iso will not be reproducible"
fi

CACHE="$OUT/cache"
WORK="$OUT/work"
TREE="$OUT/tree"
mkdir -p "$CACHE" "$OUT/debian"
rm -rf "$WORK" "$TREE" "$STAMP"
mkdir -p "$WORK" "$TREE"

# Package lists may be missing or stale on a fresh machine: refresh them once
# (root only) before giving up on a look-up or download.
APT_REFRESHED=0
apt_refresh() {
    [ "$APT_REFRESHED" = 0 ] && [ "$(id -u)" = 0 ] || return 1
    APT_REFRESHED=1
    log "refreshing apt package lists"
    apt-get update -q >&2 || return 1
}

# Download a Debian package into the cache (once); print its path.
# $1 = package name (exact), $2 = glob the cached file must match
fetch_deb() {
    local pkg=$1 glob=$2 f
    for f in "$CACHE"/$glob; do
        [ -f "$f" ] && { echo "$f"; return 0; }
    done
    log "downloading $pkg"
    if ! (cd "$CACHE" && apt-get download "$pkg" >&2); then
        apt_refresh && (cd "$CACHE" && apt-get download "$pkg" >&2) || \
            die "apt-get download $pkg failed (run 'apt-get update' as root)"
    fi
    for f in "$CACHE"/$glob; do
        [ -f "$f" ] && { echo "$f"; return 0; }
    done
    die "downloaded $pkg but found no $glob in $CACHE"
}

# ---------------------------------------------------------------- kernel + Xen
# The installer boots as XCP-ng's does: Xen, then the dom0 kernel with install.img
# as its initrd. The dom0 kernel is Debian's generic flavour (CONFIG_XEN_DOM0,
# hvc0 console, bzip2 initramfs, EFI stub); the cloud flavour cannot be a dom0.
# Version chosen dynamically; the unsigned package holds the same image.
pick_kernel_pkg() {
    local dep
    dep=$(apt-cache depends linux-image-amd64 2>/dev/null \
          | awk '/Depends: linux-image-[0-9]/ {print $2; exit}') || true
    if [ -n "$dep" ]; then
        echo "${dep%-unsigned}-unsigned"
        return
    fi
    apt-cache search --names-only '^linux-image-[0-9.]+-[0-9]+-amd64-unsigned$' 2>/dev/null \
        | awk '{print $1}' | sort -V | tail -1
}
KDEB=
for f in "$CACHE"/linux-image-*-amd64-unsigned_*.deb; do
    case "$f" in *-cloud-*|*-rt-*) continue ;; esac
    [ -f "$f" ] && KDEB=$f
done
if [ -z "$KDEB" ]; then
    KPKG=$(pick_kernel_pkg)
    if [ -z "$KPKG" ] && apt_refresh; then KPKG=$(pick_kernel_pkg); fi
    [ -n "$KPKG" ] || die "cannot find a linux-image-*-amd64-unsigned package (apt-get update?)"
    KDEB=$(fetch_deb "$KPKG" "${KPKG}_*.deb")
fi
log "kernel from $(basename "$KDEB")"
mkdir -p "$WORK/kernel"
# only the image: the modules are most of the package and nothing here needs them
dpkg-deb --fsys-tarfile "$KDEB" | tar -x -C "$WORK/kernel" --wildcards './boot/vmlinuz-*'
KIMG=$(ls "$WORK"/kernel/boot/vmlinuz-* | head -1)
[ -s "$KIMG" ] || die "no vmlinuz in $KDEB"
basename "$KIMG" | sed 's/^vmlinuz-//' > "$OUT/kernel-version"
mkdir -p "$TREE/boot"
cp "$KIMG" "$TREE/boot/vmlinuz"
rm -rf "$WORK/kernel"

XDEB=$(fetch_deb xen-hypervisor-4.17-amd64 'xen-hypervisor-4.17-amd64_*.deb')
log "hypervisor from $(basename "$XDEB")"
mkdir -p "$WORK/xen"
dpkg-deb -x "$XDEB" "$WORK/xen"
[ -s "$WORK/xen/boot/xen-4.17-amd64.gz" ] || die "no boot/xen-4.17-amd64.gz in $XDEB"
cp "$WORK/xen/boot/xen-4.17-amd64.gz" "$TREE/boot/xen.gz"
rm -rf "$WORK/xen"

# ---------------------------------------------------------------- install.img
log "building install.img"
R="$WORK/root"
mkdir -p "$R"/{bin,sbin,dev,proc,sys,tmp,etc,root,home/xisouser,opt/xensource/installer,usr/bin,usr/sbin}
cp /bin/busybox "$R/bin/busybox"
for a in sh ash cat echo ls mount umount poweroff reboot sleep mkdir dmesg grep sed; do
    ln -s busybox "$R/bin/$a"
done
ln -s ../bin/busybox "$R/sbin/poweroff"
cat > "$R/init" <<'EOF'
#!/bin/sh
# xiso fixture installer: print the marker and the kernel command line, power off.
# dom0 runs under Xen, which owns the serial port: /dev/hvc0 is Xen's console,
# which Xen copies to the serial port (the last console=, tty0, is only VGA).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys 2>/dev/null
mount -t devtmpfs devtmpfs /dev 2>/dev/null
marker=$(cat /etc/xiso-marker)
# A file a replaced package should have taken with it shows up in the marker line.
[ -e /etc/xiso-old ] && marker="$marker +/etc/xiso-old"
cmdline=$(cat /proc/cmdline)
t=/dev/hvc0
[ -c "$t" ] || t=/dev/console
{ echo; echo "XISO-MARKER $marker"; echo "XISO-CMDLINE $cmdline"; } > "$t" 2>/dev/null
sleep 1
poweroff -f
EOF
chmod 0755 "$R/init"
echo "$MARKER" > "$R/etc/xiso-marker"
printf 'root:x:0:0:root:/root:/bin/sh\nxisouser:x:1000:1000::/home/xisouser:/bin/sh\n' > "$R/etc/passwd"
printf 'root:x:0:\nxisouser:x:1000:\n' > "$R/etc/group"
printf 'root::19000:0:99999:7:::\nxisouser:!:19000:0:99999:7:::\n' > "$R/etc/shadow"
echo "owned by uid 1000" > "$R/home/xisouser/notes.txt"
echo "hard-link pair" > "$R/etc/xiso-hardlink-a"
ln "$R/etc/xiso-hardlink-a" "$R/etc/xiso-hardlink-b"
echo "RPM-GPG-KEY-xcpng placeholder (not a real key)" > "$R/opt/xensource/installer/RPM-GPG-KEY-xcpng"
cat > "$WORK/initrd.spec" <<'EOF'
# extra entries an ordinary user cannot create on disk
nod  dev/console   0600 0 0 c 5 1
nod  dev/null      0666 0 0 c 1 3
nod  dev/ttyS0     0660 0 5 c 4 64
nod  dev/sda       0660 0 6 b 8 0
fifo dev/xiso-fifo 0600 0 0
meta etc/shadow    0600 0 0
meta bin/busybox   4755 0 0
meta root          0700 0 0
meta tmp           1777 0 0
meta home/xisouser 0700 1000 1000
meta home/xisouser/notes.txt 0640 1000 1000
EOF
python3 "$SCRIPTS/mkcpio.py" --mtime "$SOURCE_DATE_EPOCH" --spec "$WORK/initrd.spec" "$R" \
    > "$WORK/install.cpio"
bzip2 -9 -c "$WORK/install.cpio" > "$TREE/install.img"
isz=$(stat -c %s "$TREE/install.img")
[ "$isz" -lt $((2 * 1024 * 1024)) ] || die "install.img too big: $isz bytes"

# ---------------------------------------------------------------- BIOS: isolinux
log "isolinux"
ISOL="$TREE/boot/isolinux"
mkdir -p "$ISOL" "$TREE/boot/pxelinux"
cp /usr/lib/ISOLINUX/isolinux.bin "$ISOL/"
for m in ldlinux.c32 mboot.c32 menu.c32 libutil.c32 libcom32.c32; do
    cp "/usr/lib/syslinux/modules/bios/$m" "$ISOL/"
done
if [ -f /usr/lib/PXELINUX/pxelinux.0 ]; then
    cp /usr/lib/PXELINUX/pxelinux.0 "$TREE/boot/pxelinux/"
fi
for m in ldlinux.c32 mboot.c32 menu.c32 libutil.c32 libcom32.c32; do
    cp "/usr/lib/syslinux/modules/bios/$m" "$TREE/boot/pxelinux/"
done

# The menus of XCP-ng 8.3 (create-install-image's templates/iso/8.3): every entry
# boots Xen with the dom0 kernel and install.img as modules. Only the prompt and
# timeout are shorter, and the entries for files the fixture lacks (kernel-alt,
# memtest) are left out.
XEN_ARGS="dom0_max_vcpus=1-16 dom0_mem=max:8192M com1=115200,8n1 console=com1,vga"
XEN_NOSERIAL="dom0_max_vcpus=1-16 dom0_mem=max:8192M console=vga"
XEN_SAFE="dom0_max_vcpus=1-16 dom0_mem=max:8192M nosmp noreboot noirqbalance no-mce no-bootscrub no-numa no-hap no-mmcfg max_cstate=0 nmi=ignore allow_unsafe com1=115200,8n1 console=com1,vga vga=keep"
DOM0_ARGS="console=hvc0 console=tty0"
# The entries: title, Xen's words, dom0's words.
ENTRIES=(
    "install|$XEN_ARGS|$DOM0_ARGS"
    "no-serial|$XEN_NOSERIAL|console=tty0"
    "safe|$XEN_SAFE|$DOM0_ARGS"
    "multipath|$XEN_ARGS|$DOM0_ARGS device_mapper_multipath=enabled"
    "shell|$XEN_ARGS|$DOM0_ARGS bash-shell"
)
{
    printf 'SERIAL 0 115200\nDEFAULT install\nPROMPT 0\nTIMEOUT 1\n'
    for e in "${ENTRIES[@]}"; do
        IFS='|' read -r title xen dom0 <<< "$e"
        printf '\nLABEL %s\n\tKERNEL mboot.c32\n\tAPPEND /boot/xen.gz %s --- /boot/vmlinuz %s --- /install.img\n' \
            "$title" "$xen" "$dom0"
    done
} > "$ISOL/isolinux.cfg"

# ---------------------------------------------------------------- UEFI: grub
log "grub EFI"
# grub.cfg as in XCP-ng's templates/iso/<ver>/EFI/xenserver/grub.cfg; $1 = which copy,
# $2 = extra line after 'set timeout' (XCP-ng's grub-efiboot-cfg.patch adds a search there)
# The echo tells the boot log which copy GRUB read (the entries are the same).
grub_cfg() {
    cat <<EOF
# xiso fixture grub.cfg ($1 copy)
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
echo "XISO-GRUBCFG $1"
set default="0"
insmod gzio
insmod part_gpt
set timeout=1
$2
EOF
    local e title xen dom0
    for e in "${ENTRIES[@]}"; do
        IFS='|' read -r title xen dom0 <<< "$e"
        printf '\nmenuentry "%s" {\n    multiboot2 /boot/xen.gz %s\n    module2 /boot/vmlinuz %s\n    module2 /install.img\n}\n' \
            "$title" "$xen" "$dom0"
    done
}
mkdir -p "$TREE/EFI/xenserver"
grub_cfg iso "" > "$TREE/EFI/xenserver/grub.cfg"
grub_cfg efiboot "search --file --set=root /install.img" > "$WORK/grub-efiboot.cfg"

# Embedded config of the standalone image: read EFI/xenserver/grub.cfg from the
# device grub was started from ($cmdpath): efiboot.img's copy when the firmware
# booted the EFI partition (USB stick), the ISO tree's copy when it booted the CD.
# $prefix stays in the memdisk (the modules live there).
cat > "$WORK/embedded.cfg" <<'EOF'
insmod part_gpt
insmod part_msdos
insmod iso9660
insmod fat
insmod regexp
set xiso_bootdev=
regexp --set=1:xiso_bootdev '^\(([^)]*)\)' "$cmdpath"
if [ -n "$xiso_bootdev" -a -f "($xiso_bootdev)/EFI/xenserver/grub.cfg" ]; then
    set root="$xiso_bootdev"
else
    search --no-floppy --file --set=root /EFI/xenserver/grub.cfg
fi
configfile "($root)/EFI/xenserver/grub.cfg"
EOF
# Standalone image = grub-mkstandalone's recipe (core image with prefix
# (memdisk)/boot/grub + a tar memdisk holding grub.cfg and the modules), done by
# hand with grub-mkimage because grub-mkstandalone stamps the memdisk tar with
# the current time (not reproducible, and faketime cannot reach file mtimes).
GRUB_DIR=/usr/lib/grub/x86_64-efi
GRUB_MODS="part_gpt part_msdos iso9660 fat normal linux configfile search search_fs_file echo serial terminal regexp test"
# multiboot2 loads Xen; gzio unpacks xen.gz (a filter: never autoloaded, hence grub.cfg's insmod)
GRUB_MEMDISK_MODS="$GRUB_MODS search_fs_uuid search_label multiboot2 gzio sleep ls cat"
MD="$WORK/memdisk"
mkdir -p "$MD/boot/grub/x86_64-efi"
cp "$WORK/embedded.cfg" "$MD/boot/grub/grub.cfg"
cp "$GRUB_DIR"/*.lst "$MD/boot/grub/x86_64-efi/"
# the listed modules plus everything they depend on (moddep.lst)
declare -A seen=()
queue=($GRUB_MEMDISK_MODS)
while [ ${#queue[@]} -gt 0 ]; do
    m=${queue[0]}; queue=("${queue[@]:1}")
    [ -n "${seen[$m]:-}" ] && continue
    seen[$m]=1
    [ -f "$GRUB_DIR/$m.mod" ] || die "grub module $m not found in $GRUB_DIR"
    cp "$GRUB_DIR/$m.mod" "$MD/boot/grub/x86_64-efi/"
    deps=$(awk -v m="$m:" '$1 == m { $1 = ""; print }' "$GRUB_DIR/moddep.lst")
    for d in $deps; do queue+=("$d"); done
done
tar -C "$MD" --format=ustar --sort=name --mtime="@$SOURCE_DATE_EPOCH" \
    --owner=0 --group=0 --numeric-owner -cf "$WORK/memdisk.tar" boot
"${FAKETIME[@]}" grub-mkimage -O x86_64-efi -d "$GRUB_DIR" -p '(memdisk)/boot/grub' \
    -m "$WORK/memdisk.tar" -o "$WORK/BOOTX64.EFI" memdisk tar $GRUB_MODS
mkdir -p "$TREE/EFI/BOOT"
cp "$WORK/BOOTX64.EFI" "$TREE/EFI/BOOT/BOOTX64.EFI"
cp "$WORK/BOOTX64.EFI" "$TREE/EFI/xenserver/grubx64.efi"

# efiboot.img exactly as create-iso.sh makes it: 2.88 MB FAT12, serial 0
EFIIMG="$TREE/boot/efiboot.img"
touch -d "@$SOURCE_DATE_EPOCH" "$WORK/BOOTX64.EFI" "$WORK/grub-efiboot.cfg"
"${FAKETIME[@]}" mformat -i "$EFIIMG" -N 0 -C -f 2880 -L 16 ::.
dd if=/dev/zero of="$EFIIMG" bs=512 count=1 seek=$((2880 * 2 - 1)) conv=notrunc status=none
"${FAKETIME[@]}" mmd -i "$EFIIMG" ::/EFI ::/EFI/BOOT ::/EFI/xenserver
"${FAKETIME[@]}" mcopy -m -i "$EFIIMG" "$WORK/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
"${FAKETIME[@]}" mcopy -m -i "$EFIIMG" "$WORK/grub-efiboot.cfg" ::/EFI/xenserver/grub.cfg

# ---------------------------------------------------------------- repository
log "Packages + repodata"
# The test RPMs: $XISO_TESTDATA, the shared folder beside the repository, else (or with
# XISO_TESTDATA_BUILD=1) the same names built by scripts/make-testdata.sh into
# OUTDIR/testdata, as the tests build them (tests/common/testdata.rs).
find_rpm_dir() {
    local d
    for d in "${XISO_TESTDATA:-}/rpms/createrepo_c" "$REPO/../shared/testdata/rpms/createrepo_c"; do
        [ "${XISO_TESTDATA_BUILD:-0}" = 1 ] && [ -z "${XISO_TESTDATA:-}" ] && break
        [ -f "$d/Archer-3.4.5-6.x86_64.rpm" ] && { echo "$d"; return 0; }
    done
    log "no shared test RPMs: building them with scripts/make-testdata.sh into $OUT/testdata"
    bash "$SCRIPTS/make-testdata.sh" "$OUT/testdata" >&2 || return 1
    echo "$OUT/testdata/rpms/createrepo_c"
}
mkdir -p "$TREE/Packages"
if RPMDIR=$(find_rpm_dir); then
    for p in Archer-3.4.5-6.x86_64.rpm Rimmer-1.0.2-2.x86_64.rpm \
             balicek-utf8-1.1.1-1.x86_64.rpm fake_bash-1.1.1-1.x86_64.rpm; do
        cp "$RPMDIR/$p" "$TREE/Packages/"
    done
else
    # no shared test data: build small packages ourselves
    command -v rpmbuild >/dev/null || die "no test RPMs found and rpmbuild missing"
    log "test RPMs not found; building with rpmbuild"
    for n in xiso-fixture-a xiso-fixture-b xiso-fixture-c; do
        cat > "$WORK/$n.spec" <<EOF
Name: $n
Version: 1.0
Release: 1
Summary: xiso fixture package $n
License: MIT
BuildArch: noarch
%description
Fixture package.
%install
mkdir -p %{buildroot}/usr/share/$n %{buildroot}/etc
echo $n > %{buildroot}/usr/share/$n/README
echo $n > %{buildroot}/etc/$n.conf
%files
/usr/share/$n/README
%config /etc/$n.conf
EOF
        rpmbuild -bb --quiet --define "_topdir $WORK/rpmbuild" \
            --define "use_source_date_epoch_as_buildtime 1" \
            --define "clamp_mtime_to_source_date_epoch 1" \
            --define "_buildhost xiso" "$WORK/$n.spec" >&2
    done
    cp "$WORK"/rpmbuild/RPMS/noarch/*.rpm "$TREE/Packages/"
fi
chmod 0644 "$TREE"/Packages/*.rpm
touch -d "@$SOURCE_DATE_EPOCH" "$TREE"/Packages/*.rpm
# gzip + sha256 like the EL7 installer needs; no sqlite databases (reproducible)
createrepo_c --quiet --general-compress-type=gz --checksum sha256 --no-database \
    --revision "$SOURCE_DATE_EPOCH" --set-timestamp-to-revision "$TREE" >&2

# ---------------------------------------------------------------- metadata files
cat > "$TREE/.treeinfo" <<EOF
[system-v1]
platform_name = XCP
platform_version = 3.4.0
product_name = XCP-ng
product_version = 8.3.0

[build]
number = cloud
[keys]
#key1 = RPM-GPG-KEY-xcpng

[general]
name = XCP-ng-8.3.0
family = XCP-ng
timestamp = $SOURCE_DATE_EPOCH.00
variant =
version = 8.3.0
packagedir =
arch = x86_64

[images-x86_64]
kernel = boot/pxelinux/mboot.c32
initrd = boot/vmlinuz
boot.iso = boot/xen.gz

[images-xen]
kernel = boot/pxelinux/mboot.c32
initrd = boot/vmlinuz

EOF
# An unsigned repository, as XCP-ng's create-iso.sh leaves one built without a key:
# key1 commented out (an active key1 makes the installer check every signature).
cat > "$TREE/RPM-GPG-KEY-xcpng" <<'EOF'
xiso test fixture: placeholder for the repository signing key.
This is not an OpenPGP key; the fixture repository is not signed.
EOF
printf 'XCP-ng fixture EULA.\nThis image is a test fixture of the xiso project and installs nothing.\n' > "$TREE/EULA"
printf 'LICENSES\n  busybox: GPL-2.0\n  linux: GPL-2.0\n  syslinux: GPL-2.0\n  grub: GPL-3.0+\n' > "$TREE/LICENSES"
mkdir -p "$TREE/docs"
echo "A file whose name is longer than 64 characters (Joliet needs --joliet-long)." \
    > "$TREE/docs/XCP-ng-8.3.0-installation-media-release-notes-with-a-very-long-file-name.txt"
ln -s vmlinuz "$TREE/boot/vmlinuz-link"

# reproducible tree: fixed mtimes everywhere
find "$TREE" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# ---------------------------------------------------------------- ISOs
BOOTARGS=(-c boot/isolinux/boot.cat -b boot/isolinux/isolinux.bin
          -no-emul-boot -boot-load-size 4 -boot-info-table
          -eltorito-alt-boot -e boot/efiboot.img -no-emul-boot)

log "xorriso.iso"
rm -f "$OUT/xorriso.iso.tmp"
xorriso -as mkisofs -quiet -r -J --joliet-long -V "$VOLID" -input-charset utf-8 \
    "${BOOTARGS[@]}" \
    -isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin -isohybrid-gpt-basdat \
    -o "$OUT/xorriso.iso.tmp" "$TREE" 2>&1 | grep -v '^xorriso : UPDATE' >&2 || true
[ -s "$OUT/xorriso.iso.tmp" ] || die "xorriso produced no image"
mv "$OUT/xorriso.iso.tmp" "$OUT/xorriso.iso"

log "genisoimage.iso"
# genisoimage writes the boot info table INTO the source isolinux.bin: work on a copy
# of the tree so tree/ stays pristine.
cp -a "$TREE" "$WORK/gtree"
rm -f "$OUT/genisoimage.iso.tmp"
"${FAKETIME[@]}" genisoimage -quiet -r -J --joliet-long -V "$VOLID" -input-charset utf-8 \
    "${BOOTARGS[@]}" -o "$OUT/genisoimage.iso.tmp" "$WORK/gtree"
# isohybrid picks random GPT GUIDs; the disk id at least is fixed
isohybrid --uefi --id 0x58495330 "$OUT/genisoimage.iso.tmp"
mv "$OUT/genisoimage.iso.tmp" "$OUT/genisoimage.iso"
rm -rf "$WORK/gtree"

# ---------------------------------------------------------------- foreign ISOs
log "foreign ISOs from Debian packages"
deb_members() { dpkg-deb -c "$1" | awk '{print $6}'; }
extract_member() { # deb, member path, output name
    dpkg-deb --fsys-tarfile "$1" | tar -xO "$2" > "$OUT/debian/$3.tmp"
    mv "$OUT/debian/$3.tmp" "$OUT/debian/$3"
}
extract_iso() { # deb, regex of the member, output name
    local member
    member=$(deb_members "$1" | grep -E "$2" | head -1 || true)
    [ -n "$member" ] || die "$(basename "$1") ships no ISO matching $2"
    extract_member "$1" "$member" "$3"
}
IDEB=$(fetch_deb ipxe 'ipxe_*.deb')
extract_iso "$IDEB" '/ipxe[.]iso$' ipxe.iso
GDEB=$(fetch_deb grub-rescue-pc 'grub-rescue-pc_*.deb')
extract_iso "$GDEB" '/grub-rescue-cdrom[.]iso$' grub-rescue-cdrom.iso
MDEB=$(fetch_deb memtest86+ 'memtest86+_*.deb')
MISO=$(deb_members "$MDEB" | grep -E '[.]iso$' | grep -E '(x64|64)[.]iso$' | head -1 || true)
[ -n "$MISO" ] || MISO=$(deb_members "$MDEB" | grep -E '[.]iso$' | head -1 || true)
if [ -n "$MISO" ]; then
    extract_member "$MDEB" "$MISO" "$(basename "$MISO")"
else
    log "note: memtest86+ ships no .iso"
fi

bash "$SCRIPTS/make-signed-fixture.sh" "$OUT"
rm -rf "$WORK"
touch "$STAMP"
log "done"
summary
