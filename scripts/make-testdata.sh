#!/usr/bin/env bash
# Build the test RPMs and comps file the tests need when the shared test data
# (../shared/testdata beside the repository, or $XISO_TESTDATA) is absent.
#
# Usage: scripts/make-testdata.sh DIR [RPM-TO-SIGN...]
#   DIR/rpms/createrepo_c/  the same file names as the shared folder (createrepo_c's test
#                           packages), made with Debian's rpmbuild and rpmsign: Archer and
#                           Rimmer (epochs, every dependency kind and flag), latin-1,
#                           latin-2 and UTF-8 descriptions, empty binary and source packages,
#                           RSA- and EdDSA-signed packages, fake_bash and super_kernel
#   DIR/rpms/rpm-rs/        v6_rpm-hardlinks and v6_rpm-scriptlets (hard links and
#                           scriptlets need rpmbuild); the rest of that folder (v4 and v6
#                           packages, every payload codec) is written by the tests with the
#                           `rpm` crate (tests/common/testdata.rs), which then passes its
#                           v4_signed_*.rpm here as RPM-TO-SIGN: signed with the RSA key
#   DIR/comps/comps-f19.xml a comps (groups) file with groups, categories and environments
#   DIR/keys/               the signing keys' public halves (RPM-GPG-KEY-xiso-test-*)
# SOURCE_DATE_EPOCH fixes the build times. DIR/.complete marks a finished build: a second
# call only signs the RPM-TO-SIGN files. Debian's rpm (4.18) writes v4 packages: the
# "v6_" names are kept so that tests find the files by the shared folder's names.
set -euo pipefail

DIR=${1:?usage: make-testdata.sh DIR [RPM-TO-SIGN...]}
shift
TO_SIGN=("$@")
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
export LC_ALL=C TZ=UTC
umask 022
die() { printf 'make-testdata: ERROR: %s\n' "$*" >&2; exit 1; }
for t in rpmbuild rpmsign gpg iconv; do
    command -v "$t" >/dev/null || die "\`$t\` missing (Debian packages rpm, gnupg, libc-bin: scripts/install-deps.sh)"
done
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
export GNUPGHOME=$DIR/.gnupg
# gpg starts an agent for GNUPGHOME: stop it on the way out, as nothing else will.
trap 'gpgconf --kill gpg-agent 2>/dev/null || true' EXIT

# sign KEYNAME RPM...: rpmsign --addsign with the key named KEYNAME in GNUPGHOME
sign() {
    local key=$1 f
    shift
    for f in "$@"; do
        [ -f "$f" ] || die "no package to sign at $f"
    done
    rpmsign --define "__gpg $(command -v gpg)" --define "_gpg_path $GNUPGHOME" --define "_gpg_name $key" \
        --define "_gpg_sign_cmd_extra_args --faked-system-time $SOURCE_DATE_EPOCH!" \
        --addsign "$@" >"$DIR/sign.log" 2>&1 || { cat "$DIR/sign.log" >&2; die "rpmsign --addsign with $key failed: $*"; }
    rm -f "$DIR/sign.log"
}

if [ ! -f "$DIR/.complete" ]; then
    # (rpms/rpm-rs/ may already hold the rpm crate's packages: only this script's go)
    rm -rf "$DIR/rpms/createrepo_c" "$DIR/comps" "$DIR/keys" "$GNUPGHOME" "$DIR/build" \
        "$DIR"/rpms/rpm-rs/v6_rpm-hardlinks-*.rpm "$DIR"/rpms/rpm-rs/v6_rpm-scriptlets-*.rpm
    mkdir -p "$DIR/rpms/createrepo_c" "$DIR/rpms/rpm-rs" "$DIR/comps" "$DIR/keys" "$DIR/build"
    mkdir -m 700 "$GNUPGHOME"
    # Two keys without a passphrase: RSA (what EL7's rpm 4.11 checks) and EdDSA.
    for k in rsa2048:xiso-test-rsa ed25519:xiso-test-eddsa; do
        gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
            --faked-system-time "$SOURCE_DATE_EPOCH!" \
            --quick-gen-key "${k#*:} <${k#*:}@xiso.invalid>" "${k%%:*}" sign never 2>/dev/null \
            || die "gpg --quick-gen-key ${k%%:*} failed"
        gpg --batch --armor --export "${k#*:}" > "$DIR/keys/RPM-GPG-KEY-${k#*:}"
    done

    B=$DIR/build
    # build TAG PAYLOAD SPEC-TEXT [ENCODING [rpmbuild mode]]: one spec (written in ENCODING,
    # default UTF-8), its packages go to $B/TAG/RPMS and SRPMS
    build() {
        local tag=$1 payload=$2 spec=$3 enc=${4:-UTF-8} mode=${5:--bb}
        mkdir -p "$B/$tag/SPECS"
        printf '%s' "$spec" | iconv -f UTF-8 -t "$enc" > "$B/$tag/SPECS/$tag.spec" \
            || die "$tag: the spec does not encode in $enc"
        rpmbuild --define "_topdir $B/$tag" --define "_binary_payload $payload" \
            --define "_source_payload w9.gzdio" --define "__os_install_post %{nil}" \
            --define "_build_id_links none" --define "use_source_date_epoch_as_buildtime 1" \
            --define "clamp_mtime_to_source_date_epoch 1" --define "_buildhost xiso-testdata" \
            --define "_invalid_encoding_terminates_build 0" \
            --quiet "$mode" "$B/$tag/SPECS/$tag.spec" >"$B/$tag.log" 2>&1 \
            || { cat "$B/$tag.log" >&2; die "rpmbuild of $tag failed"; }
    }
    files() { # NAME VERSION: Archer's and Rimmer's file set
        printf '%%install\nmkdir -p %%{buildroot}/usr/bin %%{buildroot}/usr/share/doc/%s-%s\n' "$1" "$2"
        printf 'touch %%{buildroot}/usr/bin/complex_a %%{buildroot}/usr/share/doc/%s-%s/README\n' "$1" "$2"
        printf '%%files\n/usr/bin/complex_a\n%%dir /usr/share/doc/%s-%s\n/usr/share/doc/%s-%s/README\n' "$1" "$2" "$1" "$2"
    }
    preamble() { # NAME VERSION RELEASE [ARCH]
        printf 'Name: %s\nVersion: %s\nRelease: %s\nLicense: GPL\nBuildArch: %s\nURL: http://xiso.invalid/%s\n' \
            "$1" "$2" "$3" "${4:-x86_64}" "$1"
    }
    XZ=w6.xzdio

    build archer "$XZ" "$(preamble Archer 3.4.5 6)
Epoch: 2
Summary: Complex package.
Group: Development/Tools
Requires: fooa <= 2, foob >= 1.0.0-1, fooc = 3, food < 4, fooe > 5
Requires(pre): foof = 6
Requires(post): foog = 7
Requires(preun): fooh = 8
Provides: bara <= 22, barb >= 11.22.33-44, barc = 33, bard < 44, bare > 55
Obsoletes: aaa <= 222, aab >= 111.2.3-4, aac = 333, aad < 444, aae > 555
Conflicts: bba <= 2222, bbb >= 1111.2222.3333-4444, bbc = 3333, bbd < 4444, bbe > 5555
Recommends: recommends_a
Suggests: suggests_a
Supplements: supplements_a
Enhances: enhances_a
%description
Archer package
$(files Archer 3.4.5)
%changelog
* Mon Mar 18 2024 Tomas Mlcoch <tmlcoch@redhat.com> - 3.4.5-6
- Second changelog entry
* Mon Apr 02 2012 Tomas Mlcoch <tmlcoch@redhat.com> - 1.1.1-1
- First changelog entry
"
    build rimmer "$XZ" "$(preamble Rimmer 1.0.2 2)
Summary: Package with weak deps.
Requires: req <= 1
Requires(pre): reqpre = 2
Provides: pro <= 3
Obsoletes: obs <= 4
Conflicts: con <= 5
%description
Package with weak deps.
$(files Rimmer 1.0.2)
"
    # The same description in three encodings: rpm stores the bytes as they are; createrepo_c
    # and xiso must turn latin-1 and latin-2 into valid UTF-8 XML.
    text="Příliš žluťoučký kůň úpěl ďábelské ódy. Čeština, slovenčina, polski: łódź, Müller."
    latin1="Déjà vu: ça, naïve, façade, Ærø, smørrebrød, jalapeño, Müller, 50 °C, ½, ©."
    balicek() { # NAME ENCODING SUMMARY TEXT [SPEC LINES]: a package with no files
        build "$1" "$XZ" "$(preamble "$1" 1.1.1 1)
Summary: $3
${5:-}
%description
$4
%files
" "$2"
    }
    balicek balicek-iso88591 ISO-8859-1 "Balicek s popisem v latin-1" "$latin1"
    balicek balicek-iso88592 ISO-8859-2 "Balíček s popisem v latin-2" "$text"
    balicek balicek-utf8 UTF-8 "Balíček s popisem v UTF-8" "$text" "Requires: bílýkůň
Provides: balíček"
    build empty "$XZ" "$(preamble empty 0 0)
Summary: \"\"
%description
%files
" UTF-8 -ba
    build fake_bash "$XZ" "$(preamble fake_bash 1.1.1 1)
Summary: Fake bash
Provides: bash
Requires: super_kernel
%description
Fake bash package
%install
mkdir -p %{buildroot}/usr/bin
touch %{buildroot}/usr/bin/fake_bash
%files
/usr/bin/fake_bash
"
    build super_kernel "$XZ" "$(preamble super_kernel 6.0.1 2)
Summary: Test package
Requires: bzip2 >= 1.0.0, expat, glib >= 2.26.0, zlib
Provides: not_so_super_kernel < 5.8.0, super_kernel = 6.0.0, super_kernel = 5.9.0, kernel
Provides: super_kernel = 5.0.0, super_kernel < 4.0.0
%description
This package has provides, requires, obsoletes, conflicts options.
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/share/man
touch %{buildroot}/usr/bin/super_kernel
echo 'super_kernel(8)' | gzip -n > %{buildroot}/usr/share/man/super_kernel.8.gz
%files
/usr/bin/super_kernel
/usr/share/man/super_kernel.8.gz
"
    # Hard links (groups of 3 and 2 beside a lone file) and every scriptlet slot; no payload
    # compression, as the shared folder's.
    build hardlinks w.ufdio "$(preamble rpm-hardlinks 1.0 1 noarch)
Summary: Hard links
%description
Three files sharing one inode, two sharing another, and a standalone file.
%install
d=%{buildroot}/opt/rpm-hardlinks
mkdir -p \$d
echo 'alpha: shared content' > \$d/alpha-1
ln \$d/alpha-1 \$d/alpha-2
ln \$d/alpha-1 \$d/alpha-3
echo 'beta: shared content' > \$d/beta-1
ln \$d/beta-1 \$d/beta-2
echo standalone > \$d/standalone
%files
/opt/rpm-hardlinks/alpha-1
/opt/rpm-hardlinks/alpha-2
/opt/rpm-hardlinks/alpha-3
/opt/rpm-hardlinks/beta-1
/opt/rpm-hardlinks/beta-2
/opt/rpm-hardlinks/standalone
"
    build scriptlets w.ufdio "$(preamble rpm-scriptlets 1.0 1 noarch)
Summary: Scriptlets
%description
Every scriptlet slot, in sh and in lua.
%install
mkdir -p %{buildroot}/opt/rpm-scriptlets
echo scriptlets > %{buildroot}/opt/rpm-scriptlets/file
%pretrans -p <lua>
print(\"pretrans\")
%pre
echo pre \$1
%post
echo post \$1
%preun
echo preun \$1
%postun
echo postun \$1
%posttrans
echo posttrans
%verifyscript
echo verify
%triggerin -- rpm-basic
echo triggerin
%files
/opt/rpm-scriptlets/file
"
    for f in "$B"/*/RPMS/*/*.rpm "$B"/*/SRPMS/*.rpm; do
        case "$(basename "$f")" in
            rpm-hardlinks-*|rpm-scriptlets-*) cp "$f" "$DIR/rpms/rpm-rs/v6_$(basename "$f")" ;;
            *) cp "$f" "$DIR/rpms/createrepo_c/" ;;
        esac
    done
    C=$DIR/rpms/createrepo_c
    [ -f "$C/empty-0-0.x86_64.rpm" ] && [ -f "$C/empty-0-0.src.rpm" ] || die "rpmbuild wrote no empty packages"
    cp "$C/empty-0-0.x86_64.rpm" "$C/empty-signed-rsa-0-0.x86_64.rpm"
    cp "$C/empty-0-0.x86_64.rpm" "$C/empty-signed-eddsa-0-0.x86_64.rpm"
    cp "$C/empty-0-0.x86_64.rpm" "$C/empty-signed-v6-multiple-0-0.x86_64.rpm"
    sign xiso-test-rsa "$C/empty-signed-rsa-0-0.x86_64.rpm"
    sign xiso-test-eddsa "$C/empty-signed-eddsa-0-0.x86_64.rpm"
    # rpm 4.18 keeps one OpenPGP signature per package (v6's several need rpm 6): the last
    # signing key's, over a package signed before.
    sign xiso-test-eddsa "$C/empty-signed-v6-multiple-0-0.x86_64.rpm"
    sign xiso-test-rsa "$C/empty-signed-v6-multiple-0-0.x86_64.rpm"

    cat > "$DIR/comps/comps-f19.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">
<comps>
  <group>
    <id>core</id>
    <name>Core</name>
    <name xml:lang="cs">Jádro</name>
    <description>Smallest possible installation</description>
    <description xml:lang="cs">Nejmenší možná instalace</description>
    <default>false</default>
    <uservisible>false</uservisible>
    <packagelist>
      <packagereq type="optional">Archer</packagereq>
      <packagereq type="default">Rimmer</packagereq>
    </packagelist>
  </group>
  <group>
    <id>kernel-tools</id>
    <name>Kernel tools</name>
    <description>Kernels &amp; friends</description>
    <default>true</default>
    <uservisible>true</uservisible>
    <packagelist>
      <packagereq type="optional">super_kernel</packagereq>
      <packagereq type="conditional" requires="super_kernel">fake_bash</packagereq>
    </packagelist>
  </group>
  <category>
    <id>base-system</id>
    <name>Base System</name>
    <name xml:lang="de">Basissystem</name>
    <description>Various core pieces of the system.</description>
    <display_order>10</display_order>
    <grouplist>
      <groupid>core</groupid>
      <groupid>kernel-tools</groupid>
    </grouplist>
  </category>
  <environment>
    <id>minimal-environment</id>
    <name>Minimal Install</name>
    <description>Basic functionality.</description>
    <display_order>99</display_order>
    <grouplist>
      <groupid>core</groupid>
    </grouplist>
    <optionlist>
      <groupid>kernel-tools</groupid>
    </optionlist>
  </environment>
  <langpacks>
    <match install="man-pages-%s" name="man-pages"/>
  </langpacks>
</comps>
EOF
    rm -rf "$B"
    touch "$DIR/.complete"
fi

[ ${#TO_SIGN[@]} -eq 0 ] || sign xiso-test-rsa "${TO_SIGN[@]}"
