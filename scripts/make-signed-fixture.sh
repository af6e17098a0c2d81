#!/usr/bin/env bash
# make-signed-fixture.sh OUTDIR — the signed XCP-ng-shaped fixture, from OUTDIR/tree
# (made by make-fixtures.sh, which calls this script):
#
#   OUTDIR/signed.iso            the tree with its own repository: xcp-ng-deps-8.3-1
#                                (requires xiso-vendor-a and xiso-vendor-b) and the two
#                                packages, every one signed by a throw-away vendor RSA
#                                key with `rpmsign --addsign --rpmv3`; repomd.xml signed
#                                by it (gpg --detach-sign --armor); .treeinfo key1 names
#                                RPM-GPG-KEY-xiso-vendor, the vendor's public key
#   OUTDIR/signed/               vendor.pub.asc (that key) and Packages/ (the RPMs)
#
# The gpg home lives in a temporary directory and is deleted at the end: nobody can
# sign as the vendor afterwards, as with a real vendor key. Not bit-reproducible
# (the key is new each time); tests compare xiso's output with this input only.
set -euo pipefail

OUT=${1:?usage: make-signed-fixture.sh OUTDIR}
TREE="$OUT/tree"
[ -f "$TREE/.treeinfo" ] || { echo "make-signed-fixture: no $TREE (run make-fixtures.sh)" >&2; exit 1; }
for t in rpmbuild rpmsign gpg createrepo_c xorriso; do
    command -v "$t" >/dev/null || { echo "make-signed-fixture: $t missing" >&2; exit 1; }
done
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/xiso-signed-fixture.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export GNUPGHOME="$WORK/gnupg"
mkdir -m 0700 "$GNUPGHOME"

gpg --batch --quiet --passphrase '' --quick-gen-key \
    'xiso fixture vendor <vendor@example.org>' rsa2048 sign never
FPR=$(gpg --batch --with-colons --list-secret-keys | awk -F: '/^fpr/ {print $10; exit}')

build() { # name version requires...
    local name=$1 version=$2; shift 2
    local req=""
    for r in "$@"; do req+="Requires: $r"$'\n'; done
    cat > "$WORK/$name.spec" <<EOF
Name: $name
Version: $version
Release: 1
Summary: xiso signed fixture package $name
License: MIT
BuildArch: noarch
$req
%description
A package of the signed xiso fixture.
%install
mkdir -p %{buildroot}/usr/share/$name
echo $version > %{buildroot}/usr/share/$name/version
%files
/usr/share/$name/version
EOF
    rpmbuild -bb --quiet --define "_topdir $WORK/rpmbuild" \
        --define "use_source_date_epoch_as_buildtime 1" \
        --define "clamp_mtime_to_source_date_epoch 1" \
        --define "_buildhost xiso" "$WORK/$name.spec" >&2
}
build xiso-vendor-a 1.0
build xiso-vendor-b 1.0
build xcp-ng-deps 8.3 xiso-vendor-a xiso-vendor-b
rpmsign --addsign --rpmv3 --define '__gpg /usr/bin/gpg' --define "_gpg_name $FPR" \
    --define '_gpg_digest_algo sha256' "$WORK"/rpmbuild/RPMS/noarch/*.rpm >&2 2>/dev/null

STREE="$WORK/tree"
cp -a "$TREE" "$STREE"
rm -rf "$STREE/Packages" "$STREE/repodata" "$STREE/RPM-GPG-KEY-xcpng"
mkdir "$STREE/Packages"
cp "$WORK"/rpmbuild/RPMS/noarch/*.rpm "$STREE/Packages/"
chmod 0644 "$STREE"/Packages/*.rpm
createrepo_c --quiet --general-compress-type=gz --checksum sha256 --no-database \
    --revision "$SOURCE_DATE_EPOCH" --set-timestamp-to-revision "$STREE" >&2
gpg --batch --quiet --armor --export "$FPR" > "$STREE/RPM-GPG-KEY-xiso-vendor"
gpg --batch --quiet --armor --detach-sign --digest-algo sha256 -u "$FPR" \
    -o "$STREE/repodata/repomd.xml.asc" "$STREE/repodata/repomd.xml"
sed -i -e 's/^#\?key1 = .*/key1 = RPM-GPG-KEY-xiso-vendor/' "$STREE/.treeinfo"
grep -q '^key1 = RPM-GPG-KEY-xiso-vendor$' "$STREE/.treeinfo"
find "$STREE" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

rm -rf "$OUT/signed" "$OUT/signed.iso.tmp"
mkdir -p "$OUT/signed/Packages"
cp "$STREE/RPM-GPG-KEY-xiso-vendor" "$OUT/signed/vendor.pub.asc"
cp -p "$STREE"/Packages/*.rpm "$OUT/signed/Packages/"
xorriso -as mkisofs -quiet -r -J --joliet-long -V "XCP-ng 8.3.0" -input-charset utf-8 \
    -c boot/isolinux/boot.cat -b boot/isolinux/isolinux.bin \
    -no-emul-boot -boot-load-size 4 -boot-info-table \
    -eltorito-alt-boot -e boot/efiboot.img -no-emul-boot \
    -isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin -isohybrid-gpt-basdat \
    -o "$OUT/signed.iso.tmp" "$STREE" 2>&1 | grep -v '^xorriso : UPDATE' >&2 || true
[ -s "$OUT/signed.iso.tmp" ] || { echo "make-signed-fixture: xorriso produced no image" >&2; exit 1; }
mv "$OUT/signed.iso.tmp" "$OUT/signed.iso"
echo "== signed.iso: packages and repomd.xml signed by vendor key $FPR" >&2
