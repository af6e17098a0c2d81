#!/usr/bin/env bash
# Generate the seed corpora of the cargo-fuzz targets in fuzz/ (issue 9).
#
# Usage: scripts/fuzz-seeds.sh [OUTDIR]
#   OUTDIR defaults to <repo>/fuzz/seeds (gitignored); one directory per target.
#
# Seeds are small valid inputs: ISOs made by genisoimage and xorriso from a tiny tree
# (Rock Ridge, Joliet, a relocated deep directory, two El Torito entries, an isohybrid
# MBR + GPT), the fixture tree's isolinux.cfg / grub.cfg / .treeinfo / repodata /
# RPMs ($XISO_FIXTURES, default <repo>/fixtures, when built), the shared test RPMs when
# present, a cpio of a few files in every codec, and a 64 KiB FAT image with a grub.cfg.
# Nothing here is committed: the script is the seed corpus.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPTS/.." && pwd)
OUT=${1:-$REPO/fuzz/seeds}
FIX=${XISO_FIXTURES:-$REPO/fixtures}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}

for tool in genisoimage xorriso mkfs.fat mmd mcopy gzip bzip2 xz zstd python3; do
    command -v "$tool" >/dev/null || { echo "fuzz-seeds: $tool is missing (scripts/install-deps.sh)" >&2; exit 2; }
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TARGETS="iso_image eltorito_catalog system_area cpio install_img rpm_header bootcfg repo_xml treeinfo efiboot"
for t in $TARGETS; do
    rm -rf "${OUT:?}/$t"
    mkdir -p "$OUT/$t"
done

# --- a tiny FAT image with a GRUB config (efiboot.img's shape) ---
GRUB_CFG="$WORK/grub.cfg"
if [ -f "$FIX/tree/EFI/xenserver/grub.cfg" ]; then
    cp "$FIX/tree/EFI/xenserver/grub.cfg" "$GRUB_CFG"
else
    printf 'menuentry "install" {\n    multiboot2 /boot/xen.gz dom0_mem=max:8192M\n    module2 /boot/vmlinuz console=hvc0 quiet\n    module2 /install.img\n}\n' >"$GRUB_CFG"
fi
FAT="$WORK/efi.img"
mkfs.fat -C "$FAT" 64 >/dev/null
mmd -i "$FAT" ::EFI ::EFI/BOOT ::EFI/xenserver
mcopy -i "$FAT" "$GRUB_CFG" ::EFI/xenserver/grub.cfg
printf 'MZ fake loader\n' >"$WORK/BOOTX64.EFI"
mcopy -i "$FAT" "$WORK/BOOTX64.EFI" ::EFI/BOOT/BOOTX64.EFI
cp "$FAT" "$OUT/efiboot/efi-fat12.img"
mkfs.fat -C -F 16 -s 1 "$WORK/fat16.img" 4200 >/dev/null 2>&1 && {
    mmd -i "$WORK/fat16.img" ::EFI ::EFI/xenserver
    mcopy -i "$WORK/fat16.img" "$GRUB_CFG" ::EFI/xenserver/grub-usb.cfg
    # Only the first 64 KiB: the tables and the root directory.
    head -c 65536 "$WORK/fat16.img" >"$OUT/efiboot/efi-fat16-head.img"
}

# --- a tiny ISO tree ---
T="$WORK/tree"
mkdir -p "$T/boot/isolinux" "$T/docs/a/b/c/d/e/f/g/h/i" "$T/repodata"
head -c 2048 /dev/zero | tr '\0' 'B' >"$T/boot/isolinux/isolinux.bin"
# The smallest FAT mkfs.fat makes (48 KiB): small ISO seeds keep iso_image fast.
mkfs.fat -C -r 16 -s 1 -f 1 "$WORK/efi48.img" 48 >/dev/null
mmd -i "$WORK/efi48.img" ::EFI ::EFI/BOOT ::EFI/xenserver
mcopy -i "$WORK/efi48.img" "$GRUB_CFG" ::EFI/xenserver/grub.cfg
cp "$WORK/efi48.img" "$T/boot/efiboot.img"
echo deep >"$T/docs/a/b/c/d/e/f/g/h/i/deep.txt"
echo long >"$T/docs/a-file-name-longer-than-sixty-four-characters-so-joliet-long-is-needed.txt"
ln -s ../boot/isolinux/isolinux.bin "$T/docs/link"
printf '[general]\nname = fuzz\n[keys]\nkey1 = RPM-GPG-KEY\n' >"$T/.treeinfo"
printf '<?xml version="1.0"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>1</revision></repomd>\n' >"$T/repodata/repomd.xml"
ELTORITO=(-c boot/isolinux/boot.cat -b boot/isolinux/isolinux.bin -no-emul-boot -boot-load-size 4
    -boot-info-table -eltorito-alt-boot -e boot/efiboot.img -no-emul-boot)
I="$OUT/iso_image"
genisoimage -quiet -r -J --joliet-long -V FUZZ "${ELTORITO[@]}" -no-pad -o "$I/genisoimage-rr-joliet.iso" "$T"
genisoimage -quiet -J -V FUZZ -no-pad -o "$I/genisoimage-joliet.iso" "$T" 2>/dev/null
genisoimage -quiet -V FUZZ -no-pad -o "$I/genisoimage-plain.iso" "$T" 2>/dev/null
xorriso -as mkisofs -quiet -r -J -V FUZZ "${ELTORITO[@]}" \
    -isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin -isohybrid-gpt-basdat \
    -partition_cyl_align off -no-pad -o "$I/xorriso-hybrid.iso" "$T" 2>/dev/null

# --- El Torito: the boot record sector, then the catalog sector (the record is
#     repointed at sector 1) ---
python3 - "$I/genisoimage-rr-joliet.iso" "$OUT/eltorito_catalog/genisoimage.cat" <<'EOF'
import struct, sys
iso = open(sys.argv[1], 'rb').read()
for lba in range(16, 32):
    sec = iso[lba * 2048:(lba + 1) * 2048]
    if sec[0] == 0 and sec[1:6] == b'CD001':
        cat = struct.unpack_from('<I', sec, 71)[0]
        rec = bytearray(sec)
        struct.pack_into('<I', rec, 71, 1)
        open(sys.argv[2], 'wb').write(bytes(rec) + iso[cat * 2048:(cat + 1) * 2048])
        break
EOF

# --- system area: the hybrid ISO whole, and its first 32 KiB ---
cp "$I/xorriso-hybrid.iso" "$OUT/system_area/"
head -c 32768 "$I/xorriso-hybrid.iso" >"$OUT/system_area/xorriso-hybrid-head.img"
[ -f "$FIX/genisoimage.iso" ] && head -c 65536 "$FIX/genisoimage.iso" >"$OUT/system_area/isohybrid-uefi-head.img"

# The iso_image target's input starts at sector 16 (it zero-fills the system area).
for f in "$I"/*.iso; do
    tail -c +32769 "$f" >"$f.tail" && mv "$f.tail" "$f"
done

# --- cpio and install.img ---
C="$WORK/croot"
mkdir -p "$C/etc" "$C/bin" "$C/dev"
echo root:x:0:0::/root:/bin/sh >"$C/etc/passwd"
printf '#!/bin/sh\necho XISO\n' >"$C/init"
ln -s ../init "$C/bin/init"
ln "$C/etc/passwd" "$C/etc/passwd-"
printf 'nod dev/console 0600 0 0 c 5 1\n' >"$WORK/spec"
python3 "$SCRIPTS/mkcpio.py" --spec "$WORK/spec" "$C" >"$OUT/cpio/newc.cpio"
(cd "$C" && find . | cpio --quiet -o -H crc) >"$OUT/cpio/crc.cpio"
cat "$OUT/cpio/newc.cpio" "$OUT/cpio/crc.cpio" >"$OUT/cpio/two-archives.cpio"
N="$OUT/install_img"
cp "$OUT/cpio/newc.cpio" "$N/plain.cpio"
gzip -9n <"$OUT/cpio/newc.cpio" >"$N/install.gz"
cat "$N/install.gz" "$N/install.gz" >"$N/install-2members.gz"
bzip2 -9 <"$OUT/cpio/newc.cpio" >"$N/install.bz2"
xz -6 --check=crc32 <"$OUT/cpio/newc.cpio" >"$N/install.xz"
zstd -q -19 <"$OUT/cpio/newc.cpio" >"$N/install.zst"

# --- RPMs: the fixture's and the shared test RPMs (whole files; they are small) ---
TESTDATA=${XISO_TESTDATA:-$REPO/../shared/testdata}
[ -d "$TESTDATA/rpms" ] || TESTDATA=$FIX/testdata # scripts/make-testdata.sh's, via make-fixtures
for d in "$FIX/tree/Packages" "$TESTDATA/rpms/createrepo_c" "$TESTDATA/rpms/rpm-rs"; do
    [ -d "$d" ] || continue
    for r in "$d"/*.rpm; do
        [ -f "$r" ] && [ "$(stat -c %s "$r")" -le 262144 ] && cp "$r" "$OUT/rpm_header/"
    done
done

# --- boot configs and .treeinfo ---
cp "$GRUB_CFG" "$OUT/bootcfg/grub.cfg"
if [ -f "$FIX/tree/boot/isolinux/isolinux.cfg" ]; then
    cp "$FIX/tree/boot/isolinux/isolinux.cfg" "$OUT/bootcfg/isolinux.cfg"
else
    printf 'DEFAULT install\nLABEL install\n  KERNEL mboot.c32\n  APPEND /boot/xen.gz dom0_mem=1024M --- /boot/vmlinuz console=hvc0 quiet --- /install.img\n' >"$OUT/bootcfg/isolinux.cfg"
fi
for f in "$REPO"/testdata/treeinfo-* "$FIX/tree/.treeinfo" "$T/.treeinfo"; do
    [ -f "$f" ] && cp "$f" "$OUT/treeinfo/$(basename "$f" | tr -d .)"
done

# --- repodata: selector byte (0 repomd, 1 comps, 2 primary\0filelists\0other, 3 primary) ---
R="$OUT/repo_xml"
sel() { printf "\\x0$1"; }
if [ -f "$FIX/tree/repodata/repomd.xml" ]; then
    { sel 0; cat "$FIX/tree/repodata/repomd.xml"; } >"$R/repomd"
    p=$(ls "$FIX"/tree/repodata/*-primary.xml.gz) f=$(ls "$FIX"/tree/repodata/*-filelists.xml.gz) o=$(ls "$FIX"/tree/repodata/*-other.xml.gz)
    { sel 2; gzip -dc "$p"; printf '\0'; gzip -dc "$f"; printf '\0'; gzip -dc "$o"; } >"$R/packages"
    { sel 3; gzip -dc "$p"; } >"$R/primary"
else
    { sel 0; cat "$T/repodata/repomd.xml"; } >"$R/repomd"
fi
{ sel 1; cat <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">
<comps>
  <group>
    <id>xenserver-base</id>
    <name>Base</name>
    <default>true</default>
    <packagelist>
      <packagereq type="mandatory">Archer</packagereq>
      <packagereq type="optional">Rimmer</packagereq>
    </packagelist>
  </group>
</comps>
EOF
} >"$R/comps"

for t in $TARGETS; do
    printf 'fuzz-seeds: %-17s %3d seeds\n' "$t" "$(find "$OUT/$t" -type f | wc -l)"
done
