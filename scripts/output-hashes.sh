#!/usr/bin/env bash
# Print the sha256 of what a fixed set of xiso commands writes, with SOURCE_DATE_EPOCH set:
# run it with two binaries and diff the lists to show a change kept every output byte
# (the redesign's "determinism hashes unchanged"). Not a test: it asserts nothing itself.
#
# Usage: scripts/output-hashes.sh XISO_BINARY WORKDIR
#   WORKDIR keeps the signing key between runs (a new key would change signed outputs);
#   everything else in it is rebuilt. Needs the fixtures (scripts/make-fixtures.sh), gpg
#   and the test RPMs (../shared/testdata or testdata/ built by scripts/make-testdata.sh).
set -euo pipefail
BIN=$(realpath "$1")
W=$(realpath -m "$2")
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FIX=${XISO_FIXTURES:-$REPO/fixtures}
RPMS=$REPO/../shared/testdata/rpms/rpm-rs
[ -d "$RPMS" ] || RPMS=$REPO/testdata/rpms/rpm-rs
export SOURCE_DATE_EPOCH=1700000000
mkdir -p "$W"
if [ ! -f "$W/key/sec.asc" ]; then
    mkdir -p "$W/key/gnupg" && chmod 700 "$W/key/gnupg"
    GNUPGHOME="$W/key/gnupg" gpg -q --batch --pinentry-mode loopback --passphrase '' \
        --quick-gen-key "xiso hashes <hashes@example.org>" rsa2048 sign never
    GNUPGHOME="$W/key/gnupg" gpg -q --batch --pinentry-mode loopback --passphrase '' \
        --armor --export-secret-keys > "$W/key/sec.asc"
fi
O=$W/out
rm -rf "$O" && mkdir -p "$O/overlay" "$O/inst/etc"
echo "edited by output-hashes" > "$O/overlay/EULA"
echo "output-hashes" > "$O/inst/etc/xiso-marker"
cat > "$O/answers.xml" <<'XML'
<?xml version="1.0"?>
<installation mode="fresh"><primary-disk>sda</primary-disk><keymap>us</keymap>
<root-password>xiso</root-password><source type="local"/><timezone>UTC</timezone>
<admin-interface name="eth0" proto="dhcp"/></installation>
XML
run() { "$BIN" "$@" > /dev/null 2> "$O/last.err" || { cat "$O/last.err"; exit 1; }; }
SRC=$FIX/xorriso.iso
run remaster "$SRC" "$O/every-edit.iso" --overlay "$O/overlay" \
    --add-rpm "$RPMS/v6_rpm-hardlinks-1.0-1.noarch.rpm" \
    --add-rpm-installer "$RPMS/v6_rpm-file-attrs-1.0-1.noarch.rpm" \
    --patch-installer "$O/inst" --boot-arg xiso.test=1 --xen-arg iommu=0 \
    --remove-xen-arg dom0_max_vcpus --serial com2 --answerfile "$O/answers.xml" \
    --sign "$W/key/sec.asc" --volid XISO_HASHES
run remaster "$SRC" "$O/append.iso" --patch-installer "$O/inst" --installer-append \
    --boot-arg xiso.test=1 --disable-gpgcheck
run remaster "$SRC" "$O/netinstall.iso" --netinstall
run remaster "$FIX/signed.iso" "$O/add-signed.iso" \
    --add-rpm "$RPMS/v6_rpm-i18n-1.0-1.noarch.rpm" --sign "$W/key/sec.asc"
run unpack "$FIX/genisoimage.iso" "$O/ws"
run boot-args "$O/ws" --add xiso.ws=1 --xen-add iommu=0
run add-rpm "$O/ws" "$RPMS/v6_rpm-file-types-1.0-1.noarch.rpm"
run add-rpm --installer "$O/ws" "$RPMS/v6_rpm-scriptlets-1.0-1.noarch.rpm"
run patch-installer "$O/ws" "$O/inst"
run pack "$O/ws" "$O/workspace.iso"
run driver-disk "$O/driver-disk.iso" "$RPMS/v6_gzip_rpm-basic-2.3.4-5.el9.noarch.rpm" \
    --label hashes
run demo "$O/demo"
cd "$O"
sha256sum every-edit.iso append.iso netinstall.iso add-signed.iso workspace.iso \
    driver-disk.iso demo/sample.iso demo/remastered.iso
