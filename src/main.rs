//! The `xiso` command line: parses arguments, calls the library, prints.
//!
//! Exit codes: 0 success, 1 findings (verify), 2 error (bad input, I/O, misuse).

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xiso::iso::{EntryKind, IsoImage};

// `--features mimalloc` (scripts/release.sh --mimalloc): musl's malloc serialises the threads of
// the parallel bzip2, zstd and xz encoders on one lock; mimalloc keeps per-thread heaps.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Remaster XCP-ng installer ISOs without root.
///
/// xiso reads and writes ISO 9660 images with Rock Ridge, Joliet, El Torito and
/// isohybrid MBR/GPT boot records, in pure Rust, as an ordinary user.
#[derive(Parser)]
#[command(name = "xiso", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once; boxing would only obscure the clap derive
enum Command {
    /// Describe an ISO: volume, El Torito boot entries, hybrid MBR/GPT, .treeinfo, key1's keys and package signers, repodata, install.img.
    ///
    /// Example: xiso inspect xcp-ng-8.3.0.iso --json
    Inspect {
        /// The ISO image.
        iso: PathBuf,
        /// Also decode install.img and list the packages `xiso add-rpm --installer`
        /// put into the installer root (from its /var/lib/xiso/installed-rpms.json).
        #[arg(long)]
        installer: bool,
        /// Also list every package with the key ids that signed it and whether
        /// key1's file holds that key (`--json` always has them, under
        /// `signing.packages`).
        #[arg(long)]
        packages: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check an ISO: boot records, hybrid MBR/GPT, efiboot.img, .treeinfo, repodata, packages.
    ///
    /// Exit 0 when clean, 1 with a list of findings (check id, severity, message naming the
    /// file, LBA or offset), 2 when the ISO cannot be read.
    /// Example: xiso verify remastered.iso --json
    Verify {
        /// The ISO image.
        iso: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List files (Rock Ridge names, modes, owners, sizes, symlink targets).
    ///
    /// Lists the whole tree below PATH (default: the root), hidden files included.
    /// Example: xiso ls xcp-ng.iso /boot/isolinux
    Ls {
        /// The ISO image.
        iso: PathBuf,
        /// Directory or file inside the image.
        #[arg(default_value = "/")]
        path: String,
        /// Only the entries directly in PATH, not the whole subtree.
        #[arg(short = 'd', long)]
        no_recurse: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write one file from the image to standard output.
    ///
    /// Example: xiso cat xcp-ng.iso /.treeinfo
    Cat {
        /// The ISO image.
        iso: PathBuf,
        /// File inside the image.
        path: String,
    },
    /// Unpack an ISO into a workspace: DIR/iso/ (the tree), DIR/installer/ (the files
    /// of install.img) and DIR/.xiso/ (what pack needs to rebuild both exactly).
    ///
    /// The whole image is checked before anything is written. DIR must be absent or
    /// empty unless --force. install.img (gzip, bzip2, xz, zstd or plain cpio) is
    /// extracted as an ordinary user: owners, modes, device nodes and hard links are
    /// recorded in DIR/.xiso/installer; device nodes and FIFOs become empty
    /// placeholder files. Entries with absolute paths, `..`, or a path through a
    /// symlink are refused.
    ///
    /// Example: xiso unpack xcp-ng.iso work/
    Unpack {
        /// The ISO image.
        iso: PathBuf,
        /// The workspace directory to create.
        dir: PathBuf,
        /// Unpack into a non-empty directory.
        #[arg(long)]
        force: bool,
        /// Do not extract install.img into DIR/installer/ (it is then copied as is;
        /// patch-installer overlays can still be added, with pack --installer-append).
        #[arg(long)]
        no_installer: bool,
        /// Refuse an install.img that expands beyond this many bytes (default 16 GiB).
        #[arg(long, value_name = "BYTES")]
        max_installer_bytes: Option<u64>,
        /// Print a JSON summary on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Copy an overlay directory into the installer root (DIR/installer/) and delete paths.
    ///
    /// New files become root:root (or --owner) with the overlay's modes; files that
    /// replace existing ones keep their recorded owner and mode. Nothing is written if
    /// any path would go through a symlink or replace a directory by a file.
    /// `xiso pack` then rebuilds install.img (or appends the changes with
    /// --installer-append). In a workspace unpacked with --no-installer, the root
    /// starts empty: every overlay path is new (root:root or --owner, the overlay's
    /// modes), --remove is refused, and only pack --installer-append can add them.
    ///
    /// Example: xiso patch-installer work/ my-overlay/ --remove /etc/motd
    PatchInstaller {
        /// The workspace made by `xiso unpack`.
        dir: PathBuf,
        /// Directory whose contents are copied over the installer root (optional with --remove).
        overlay: Option<PathBuf>,
        /// Delete this installer path (repeatable; a directory goes with its contents).
        #[arg(long, value_name = "PATH")]
        remove: Vec<String>,
        /// Owner of the files the overlay adds or replaces, as UID:GID.
        #[arg(long, value_name = "UID:GID", value_parser = parse_owner)]
        owner: Option<(u32, u32)>,
        /// Print a JSON summary on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Edit the installer's kernel command line and Xen's own in every boot menu of a workspace.
    ///
    /// One edit goes to all copies, so every boot path sees the same options:
    /// iso/boot/isolinux/isolinux.cfg (BIOS; the vmlinuz segment of mboot.c32 lines),
    /// every iso/EFI/*/grub*.cfg (UEFI from CD; the first module2/xen_module, or
    /// linux/linuxefi lines) and every EFI/*/grub*.cfg inside iso/boot/efiboot.img
    /// (UEFI from USB; the FAT image keeps its size). --add KEY=VALUE replaces every
    /// KEY=… (the new word takes the first one's place), a bare word is added once,
    /// --remove KEY drops KEY and every KEY=….
    ///
    /// --xen-add / --xen-remove do the same to Xen's own words: the xen.gz segment of
    /// mboot.c32 lines (before the first ---) and GRUB's `multiboot2 /boot/xen.gz` (or
    /// `xen_hypervisor`) line. --serial comN[,BAUD] moves Xen's serial console in
    /// every entry that has one: comX=… becomes comN=BAUD,8n1 (the old value without
    /// BAUD) and console=comX,vga becomes console=comN,vga; entries without a serial
    /// console (no-serial) stay as they are. dom0 writes to hvc0, which Xen forwards,
    /// so the kernel's words need no change.
    ///
    /// Other lines stay byte for byte. Prints what changed in each menu; `xiso pack`
    /// then writes the ISO.
    ///
    /// Example: xiso boot-args work/ --add atexit=shell --add no-repo-gpgcheck --remove quiet
    ///
    /// Example (Xen): xiso boot-args work/ --serial com2 --xen-add dom0_mem=max:4096M --xen-remove dom0_max_vcpus
    ///
    /// Example (one entry only): xiso boot-args work/ --entry shell --add network_device=eth1
    BootArgs {
        /// The workspace made by `xiso unpack`.
        dir: PathBuf,
        /// Add this kernel argument (repeatable): KEY=VALUE or a bare word.
        #[arg(long, value_name = "ARG")]
        add: Vec<String>,
        /// Remove KEY and every KEY=VALUE (repeatable).
        #[arg(long, value_name = "KEY")]
        remove: Vec<String>,
        /// Add this Xen argument (repeatable): KEY=VALUE or a bare word, e.g. dom0_mem=max:4096M.
        #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
        xen_add: Vec<String>,
        /// Remove Xen's KEY and every KEY=VALUE (repeatable), e.g. dom0_max_vcpus.
        #[arg(long, value_name = "KEY")]
        xen_remove: Vec<String>,
        /// Move Xen's serial console to another port: com1..com4, optionally with a
        /// baud rate (com2 or com2,115200).
        #[arg(long, value_name = "comN[,BAUD]")]
        serial: Option<String>,
        /// Only the entries with this isolinux LABEL / GRUB menuentry title (default: every entry).
        #[arg(long, value_name = "LABEL")]
        entry: Option<String>,
        /// Modification time for the grub.cfg inside efiboot.img (Unix seconds; overrides SOURCE_DATE_EPOCH).
        #[arg(long, value_name = "UNIX_SECONDS")]
        date: Option<i64>,
        /// Print a JSON report on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Sign the repository again (or switch its check off) after Packages/ changed.
    ///
    /// XCP-ng 8.3's installer checks repodata/repomd.xml against the detached
    /// signature repodata/repomd.xml.asc with the key file that .treeinfo [keys] key1
    /// names; any change to Packages/ or repodata/ breaks that signature.
    ///
    /// With --key: sign repomd.xml with your OpenPGP secret key (ASCII-armoured, as
    /// `gpg --export-secret-keys --armor KEYID` writes it; a protected key needs
    /// --passphrase-file) and write the detached SHA-256 signature repomd.xml.asc,
    /// export the public key to iso/RPM-GPG-KEY-NICK, and set .treeinfo
    /// `key1 = RPM-GPG-KEY-NICK` (every other byte of .treeinfo kept). The key file
    /// also keeps every key of the files [keys] named before (the vendor's), so the
    /// vendor's packages still verify; --replace-keys drops them. Every package that
    /// no key of the file verifies (unsigned, or signed by another key) is signed as
    /// `rpmsign --addsign --rpmv3` signs it, and repodata follows; the others stay byte
    /// for byte (--no-sign-packages: touch no package). The installer's rpm 4.11 and
    /// GnuPG 2.0 check RSA and DSA only: other keys are refused. The signature time is
    /// SOURCE_DATE_EPOCH (or --date) when set, so signing is reproducible. Sign after
    /// the last change to the repository (add-rpm), before pack.
    ///
    /// With --disable-gpgcheck: comment out the .treeinfo [keys] entries and add
    /// no-repo-gpgcheck (and no-gpgcheck with --no-gpgcheck) to the installer lines of
    /// every boot menu (isolinux.cfg, EFI/*/grub*.cfg, and the grub.cfg inside
    /// efiboot.img), as XCP-ng's own build does for unsigned ISOs. With an answerfile,
    /// run this before `xiso answerfile`, which moves these options into it.
    ///
    /// Example: gpg --export-secret-keys --armor builder@example.org > key.asc;
    /// xiso sign work/ --key key.asc --nick example
    ///
    /// Example: xiso sign work/ --disable-gpgcheck --no-gpgcheck
    Sign {
        /// The workspace made by `xiso unpack`.
        dir: PathBuf,
        /// ASCII-armoured OpenPGP secret key to sign with.
        #[arg(
            long,
            value_name = "KEY.asc",
            required_unless_present = "disable_gpgcheck",
            conflicts_with = "disable_gpgcheck"
        )]
        key: Option<PathBuf>,
        /// Key file name suffix: iso/RPM-GPG-KEY-NICK (default: from the key's user id, else "xiso").
        #[arg(long, value_name = "NICK", requires = "key")]
        nick: Option<String>,
        /// File whose first line is the passphrase of a protected key.
        #[arg(long, value_name = "FILE", requires = "key")]
        passphrase_file: Option<PathBuf>,
        /// Do not keep the keys of the old [keys] files in the new key file (packages they signed are signed again).
        #[arg(long, requires = "key")]
        replace_keys: bool,
        /// Sign only repomd.xml; leave every package as it is.
        #[arg(long, requires = "key")]
        no_sign_packages: bool,
        /// Instead of signing: comment out the .treeinfo keys and add no-repo-gpgcheck to the boot menus.
        #[arg(long)]
        disable_gpgcheck: bool,
        /// With --disable-gpgcheck: also add no-gpgcheck (skip RPM signature checks).
        #[arg(long, requires = "disable_gpgcheck")]
        no_gpgcheck: bool,
        /// Signature time, or the mtime of the grub.cfg inside efiboot.img (Unix seconds; overrides SOURCE_DATE_EPOCH).
        #[arg(long, value_name = "UNIX_SECONDS")]
        date: Option<i64>,
        /// Print a JSON report on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Embed an answerfile for an unattended installation from the media alone.
    ///
    /// Checks that FILE is well-formed XML whose root is <installation>, puts it into
    /// the installer root as /answerfile.xml (mode 0644, root:root), and adds
    /// `install answerfile=file:///answerfile.xml` to the installer lines of every
    /// boot menu (isolinux.cfg, EFI/*/grub*.cfg, the grub.cfg inside efiboot.img), or
    /// of --entry only. file:/// is the installer's own root (install.img), not the CD.
    ///
    /// The installer refuses gpgcheck options on the command line together with an
    /// answerfile: no-repo-gpgcheck / no-gpgcheck found on the boot lines are removed
    /// and set as repo-gpgcheck="false" / gpgcheck="false" on <installation> (the only
    /// bytes of FILE that change). A malformed FILE is refused with nothing changed.
    /// `xiso pack` then rebuilds install.img.
    ///
    /// Example: xiso sign work/ --disable-gpgcheck; xiso answerfile work/ answerfile.xml; xiso pack work/ auto.iso
    Answerfile {
        /// The workspace made by `xiso unpack` (with its installer root).
        dir: PathBuf,
        /// The answerfile (XML, root element <installation>).
        file: PathBuf,
        /// Only the entries with this isolinux LABEL / GRUB menuentry title (default: every entry).
        #[arg(long, value_name = "LABEL")]
        entry: Option<String>,
        /// Modification time for the grub.cfg inside efiboot.img (Unix seconds; overrides SOURCE_DATE_EPOCH).
        #[arg(long, value_name = "UNIX_SECONDS")]
        date: Option<i64>,
        /// Print a JSON report on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Add or update RPMs in the ISO repository of a workspace (DIR/iso/Packages/)
    /// and regenerate DIR/iso/repodata/.
    ///
    /// Each package replaces the packages of the same name and arch, which must be
    /// older (rpm's epoch:version-release order). Every package is read and checked
    /// first: a damaged or truncated package, a downgrade, a source package or a
    /// foreign arch is an error (exit 2) and nothing changes. So is a require that
    /// nothing in the repository provides, walking from xcp-ng-deps (else the comps
    /// groups' mandatory packages, else every package); requires the repository
    /// already missed are only warned about (--no-deps-check skips the check).
    /// The metadata is gzip + sha256 as the installer needs; entries of unchanged packages are reused from
    /// the old metadata; group (comps), updateinfo and other records are carried over;
    /// sqlite databases are dropped. Timestamps come from SOURCE_DATE_EPOCH when set.
    /// A repomd.xml.asc signature is removed: the repository must be signed again.
    ///
    /// Example: xiso unpack xcp-ng.iso work/ && xiso add-rpm work/ xen-hypervisor-4.17.5-2.x86_64.rpm && xiso pack work/ custom.iso
    ///
    /// With --installer the packages go into the installer root (DIR/installer/, the
    /// files of install.img) instead: payloads (gzip, bzip2, xz, lzma, zstd) are
    /// extracted with the header's modes and owners (names looked up in the root's
    /// /etc/passwd and /etc/group; unknown ones become root, with a warning), symlinks,
    /// hard links and device nodes (recorded in DIR/.xiso/installer, so `xiso pack`
    /// rebuilds install.img with them). %ghost files are not created; an existing
    /// %config file is kept and the new one written as PATH.rpmnew (--replace-config
    /// overwrites). A package of the same name already installed (by xiso, else in the
    /// root's rpmdb: rpmdb.sqlite or EL7's Berkeley DB Packages) is replaced: files only
    /// the old version owned are removed.
    /// Scriptlets are NOT run: they are listed. The rpmdb is left untouched; xiso records
    /// the package in DIR/.xiso/installer. Every package is checked before anything is
    /// written. Example: xiso add-rpm --installer work/ kmod-mydriver-1.0-1.x86_64.rpm
    AddRpm {
        /// The workspace made by `xiso unpack`.
        dir: PathBuf,
        /// The packages to add.
        #[arg(required_unless_present = "refresh_from", value_name = "PKG.rpm")]
        packages: Vec<PathBuf>,
        /// Replace a newer package, or the same version with different bytes.
        #[arg(long)]
        allow_downgrade: bool,
        /// Accept source packages.
        #[arg(long)]
        allow_src: bool,
        /// Accept packages built for ARCH (besides x86_64, noarch and the repository's arches).
        #[arg(long, value_name = "ARCH")]
        allow_arch: Vec<String>,
        /// Do not refuse packages whose requires nothing in the repository provides.
        #[arg(long)]
        no_deps_check: bool,
        /// Make the installer install the added packages: the install target
        /// (xcp-ng-deps, or the first comps mandatory package) is rewritten to also
        /// `Requires:` each added package it does not reach, with release R.xisoN
        /// (e.g. 8.3-1 -> 8.3-1.xiso1) and new digests; its old signature is dropped
        /// (`xiso sign` signs it). The added packages' requires are then checked too.
        #[arg(long, conflicts_with = "installer")]
        pull_in: bool,
        /// Replace each package of the repository by the newest package of the same
        /// name and arch under DIR (recursive, e.g. a reposync of the updates
        /// repository) when that one is newer. Other packages in DIR are not added.
        #[arg(long, value_name = "DIR", conflicts_with = "installer")]
        refresh_from: Option<PathBuf>,
        /// Install into the installer root (DIR/installer/) instead of the ISO repository.
        #[arg(long)]
        installer: bool,
        /// With --installer: overwrite existing %config files (default: keep them, write PATH.rpmnew).
        #[arg(long, requires = "installer")]
        replace_config: bool,
        /// Print a JSON summary on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Remove RPMs by NAME or NAME.ARCH from the ISO repository of a workspace and
    /// regenerate DIR/iso/repodata/ (as add-rpm does).
    ///
    /// Every NAME must match a package, and no remaining package may be left with a
    /// require nothing provides (--no-deps-check skips this), or nothing changes (exit 2).
    /// Example: xiso rm-rpm work/ xcp-ng-pv-tools vendor-tool.noarch
    RmRpm {
        /// The workspace made by `xiso unpack`.
        dir: PathBuf,
        /// Package names, optionally with .ARCH.
        #[arg(required = true)]
        names: Vec<String>,
        /// Do not refuse a removal that leaves requires of other packages unresolved.
        #[arg(long)]
        no_deps_check: bool,
        /// Print a JSON summary on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Build a driver disk: the supplemental media XCP-ng 8.3's installer accepts.
    ///
    /// Writes OUT.iso (Rock Ridge + Joliet, not bootable) as XenServer's build-update
    /// does for xcp-ng/driver-disks: update.xml (<update name-label=LABEL
    /// control=update-LABEL uuid version …>), Packages/ with the given RPMs and the
    /// metapackage update-LABEL-VERSION-1.noarch.rpm that requires each of them at its
    /// exact version, and repodata (gzip, sha256) with the comps groups `update` and
    /// `drivers` whose mandatory package is update-LABEL. The installer (its "load
    /// driver" screen, or <driver-source> in an answerfile) checks `yum group summary drivers`
    /// and installs @drivers.
    ///
    /// LABEL defaults to the first package's name and VERSION to its VERSION.RELEASE
    /// (with '-' and '+' as '.'). With --sign, every package gets an RPM signature,
    /// repodata/repomd.xml and update.xml a detached signature, and the public key goes
    /// onto the disk as RPM-GPG-KEY-NICK (named by update.xml key=). With
    /// SOURCE_DATE_EPOCH (or --date) the output is byte-for-byte reproducible.
    ///
    /// Example: xiso driver-disk intel-ixgbe.iso intel-ixgbe-6.2.5-1.xcpng8.3.x86_64.rpm --sign key.asc
    DriverDisk {
        /// The ISO to write (through a temporary file renamed at the end).
        out: PathBuf,
        /// The driver RPMs.
        #[arg(required = true, value_name = "PKG.rpm")]
        packages: Vec<PathBuf>,
        /// The pack's label: update.xml name-label, metapackage update-LABEL (default: the first package's name).
        #[arg(long, value_name = "NAME")]
        label: Option<String>,
        /// The pack version (default: the first package's VERSION.RELEASE).
        #[arg(long, value_name = "VERSION")]
        pack_version: Option<String>,
        /// update.xml <name-description> and the metapackage's summary (default: "Driver disk LABEL").
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// The pack's uuid (default: derived from LABEL and VERSION, stable across rebuilds).
        #[arg(long)]
        uuid: Option<String>,
        /// ASCII-armoured OpenPGP secret key (RSA or DSA) to sign packages, repomd.xml and update.xml with.
        #[arg(long, value_name = "KEY.asc")]
        sign: Option<PathBuf>,
        /// File whose first line is the passphrase of a protected key.
        #[arg(long, value_name = "FILE", requires = "sign")]
        passphrase_file: Option<PathBuf>,
        /// ISO volume identifier (default: LABEL, at most 32 characters).
        #[arg(long, value_name = "ID")]
        volume_id: Option<String>,
        /// Every time in the output (Unix seconds; overrides SOURCE_DATE_EPOCH).
        #[arg(long, value_name = "UNIX_SECONDS")]
        date: Option<i64>,
        /// Print a JSON report on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Run the whole job on a built-in sample: build an XCP-ng-shaped ISO, inspect,
    /// unpack, edit, pack as hybrid BIOS/UEFI, and show what changed.
    ///
    /// Needs nothing but xiso. The sample's boot binaries are placeholders (it shows
    /// the structure; it does not boot). Example: xiso demo /tmp/xiso-demo
    Demo {
        /// Directory for sample.iso, workspace/ and remastered.iso.
        outdir: PathBuf,
    },
    /// Write a workspace back as a bootable hybrid BIOS/UEFI ISO.
    ///
    /// Untouched files are copied from the source image's extents, changed and new
    /// files from DIR/iso/. The El Torito entries are replayed (the isolinux boot info
    /// table rewritten for its new LBA) and the hybrid MBR/GPT rebuilt exactly as
    /// `isohybrid --uefi` lays it out, reusing the source's MBR boot code.
    /// With SOURCE_DATE_EPOCH (or --date) the output is byte-for-byte reproducible.
    /// The image is written to a temporary file next to OUT and renamed at the end.
    ///
    /// Example: SOURCE_DATE_EPOCH=1700000000 xiso pack work/ xcp-ng-custom.iso
    Pack {
        /// The workspace made by `xiso unpack`.
        dir: PathBuf,
        /// The ISO to write.
        out: PathBuf,
        /// Timestamp for every date and seed for every id (Unix seconds; overrides SOURCE_DATE_EPOCH).
        #[arg(long, value_name = "UNIX_SECONDS")]
        date: Option<i64>,
        /// Add the UEFI boot entry and EFI partition for boot/efiboot.img even if the source had none.
        #[arg(long)]
        uefi: bool,
        /// MBR boot code to use when the source was not hybrid (e.g. /usr/lib/ISOLINUX/isohdpfx.bin).
        #[arg(long, value_name = "FILE")]
        mbr_template: Option<PathBuf>,
        /// Write no hybrid MBR/GPT: the image boots from CD/DVD only.
        #[arg(long, conflicts_with = "mbr_template")]
        no_hybrid: bool,
        /// New volume id (default: the source's).
        #[arg(long, value_name = "ID")]
        volid: Option<String>,
        /// Compression of a rebuilt install.img (default: the source's).
        #[arg(long, value_name = "CODEC", value_parser = ["gzip", "bzip2", "xz", "zstd", "none"])]
        compress: Option<String>,
        /// Compression level (gzip/bzip2 1-9, xz 0-9, zstd 1-22; default: the source's bzip2 level, else 9/6/19).
        #[arg(long, value_name = "N")]
        level: Option<u32>,
        /// Append one compressed cpio archive holding only the changed and new installer
        /// files to the unchanged install.img, instead of rebuilding it (fast; no deletions).
        #[arg(long)]
        installer_append: bool,
        /// fsync the ISO before renaming it into place, so it survives a power loss
        /// right after xiso returns (off by default, as in cp, genisoimage and xorriso;
        /// the output is only renamed into place once complete either way).
        #[arg(long)]
        fsync: bool,
        /// Print a JSON summary on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Remaster an ISO in one command: IN is read once, OUT written once.
    ///
    /// Runs the same code as `unpack` + the edits + `pack`, in the order: --overlay,
    /// --add-rpm, --add-rpm-installer, --patch-installer, --answerfile, --boot-arg /
    /// --remove-boot-arg / --xen-arg / --remove-xen-arg / --serial, --sign /
    /// --disable-gpgcheck, then pack. The workspace is a
    /// private sparse directory next to OUT (RPMs and install.img are never copied to
    /// it; pack streams them from IN) and is deleted at the end. install.img is only
    /// decoded when an edit needs the installer root. The edits can come from a plan
    /// file (TOML, keys named like the flags; flags add to it):
    ///
    ///   add-rpm = ["extra/mydriver.rpm"]
    ///   boot-arg = ["console=ttyS0,115200"]
    ///   xen-arg = ["dom0_mem=max:4096M"]
    ///   serial = "com2,115200"
    ///   patch-installer = ["installer-overlay"]
    ///
    /// With SOURCE_DATE_EPOCH (or --date) the output is byte-for-byte reproducible.
    /// Examples:
    ///   xiso remaster xcp-ng-8.3.0.iso custom.iso --add-rpm mydriver.rpm --boot-arg console=ttyS0
    ///   xiso remaster xcp-ng-8.3.0.iso custom.iso --plan remaster.toml --json
    #[command(verbatim_doc_comment)]
    Remaster {
        /// The source ISO (never modified).
        input: PathBuf,
        /// The ISO to write (temporary file next to it, renamed at the end).
        output: PathBuf,
        /// TOML plan file with the edits (paths in it are relative to the file).
        #[arg(long, value_name = "PLAN.toml")]
        plan: Option<PathBuf>,
        /// Add an RPM to the ISO's repository (repeatable).
        #[arg(long, value_name = "PKG.rpm")]
        add_rpm: Vec<PathBuf>,
        /// Install an RPM into the installer root inside install.img (repeatable).
        #[arg(long, value_name = "PKG.rpm")]
        add_rpm_installer: Vec<PathBuf>,
        /// Copy a directory onto the installer root (repeatable).
        #[arg(long, value_name = "DIR")]
        patch_installer: Vec<PathBuf>,
        /// Copy a directory onto the ISO tree (repeatable).
        #[arg(long, value_name = "DIR")]
        overlay: Vec<PathBuf>,
        /// Add an installer kernel argument in every boot entry (repeatable).
        #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
        boot_arg: Vec<String>,
        /// Remove an installer kernel argument by key (repeatable).
        #[arg(long, value_name = "KEY")]
        remove_boot_arg: Vec<String>,
        /// Add a Xen argument in every Xen entry (repeatable), e.g. dom0_mem=max:4096M.
        #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
        xen_arg: Vec<String>,
        /// Remove a Xen argument by key (repeatable).
        #[arg(long, value_name = "KEY")]
        remove_xen_arg: Vec<String>,
        /// Move Xen's serial console to comN (1..4), optionally at BAUD (com2,115200).
        #[arg(long, value_name = "comN[,BAUD]")]
        serial: Option<String>,
        /// Put an answerfile in the installer and boot it unattended.
        #[arg(long, value_name = "FILE.xml")]
        answerfile: Option<PathBuf>,
        /// Sign repodata/repomd.xml with this armoured secret key.
        #[arg(long, value_name = "KEY.asc", conflicts_with = "disable_gpgcheck")]
        sign: Option<PathBuf>,
        /// Name of the exported public key file (RPM-GPG-KEY-NICK).
        #[arg(long, value_name = "NICK", requires = "sign")]
        sign_nick: Option<String>,
        /// File whose first line is the key's passphrase.
        #[arg(long, value_name = "FILE", requires = "sign")]
        passphrase_file: Option<PathBuf>,
        /// With --sign: do not keep the old [keys] keys in the new key file.
        #[arg(long, requires = "sign")]
        replace_keys: bool,
        /// With --sign: sign only repomd.xml, leave every package as it is.
        #[arg(long, requires = "sign")]
        no_sign_packages: bool,
        /// Turn the installer's repository signature check off.
        #[arg(long)]
        disable_gpgcheck: bool,
        /// New volume id.
        #[arg(long, value_name = "ID")]
        volid: Option<String>,
        /// Append installer changes to install.img instead of rebuilding it (fast).
        /// With only --patch-installer edits, install.img is not even decoded: every
        /// overlay path is appended root:root with the overlay's modes (a replaced
        /// file does not keep the image's owner and mode; directories in the overlay
        /// set theirs too).
        #[arg(long)]
        installer_append: bool,
        /// fsync the ISO before renaming it into place, so it survives a power loss
        /// right after xiso returns (off by default, as in cp, genisoimage and xorriso;
        /// the output is only renamed into place once complete either way).
        #[arg(long)]
        fsync: bool,
        /// Let --add-rpm replace a package by an older version.
        #[arg(long)]
        allow_downgrade: bool,
        /// Skip the dependency check of --add-rpm.
        #[arg(long)]
        no_deps_check: bool,
        /// Rewrite xcp-ng-deps (the install target) to require the --add-rpm
        /// packages, so the installer installs them (see `xiso add-rpm --help`).
        #[arg(long)]
        pull_in: bool,
        /// Replace the media's packages by newer ones of the same name and arch
        /// found under DIR (recursive; see `xiso add-rpm --help`).
        #[arg(long, value_name = "DIR")]
        refresh_from: Option<PathBuf>,
        /// Make netinstall media, as XCP-ng's create-iso.sh --netinstall does: no
        /// Packages/, repodata/ or .treeinfo (the installer asks for a network
        /// repository), and `netinstall` right after /boot/vmlinuz on every installer
        /// line of every boot menu (efiboot.img's grub.cfg included).
        #[arg(long, conflicts_with_all = ["add_rpm", "refresh_from", "sign", "disable_gpgcheck"])]
        netinstall: bool,
        /// Timestamp for every date and seed for every id (Unix seconds; overrides SOURCE_DATE_EPOCH).
        #[arg(long, value_name = "UNIX_SECONDS")]
        date: Option<i64>,
        /// Print a JSON summary (steps, sizes, timings) on stdout.
        #[arg(long)]
        json: bool,
        /// Print nothing but errors.
        #[arg(short, long, conflicts_with = "verbose")]
        quiet: bool,
        /// Print each step's full report.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Copy a directory tree onto a workspace's ISO tree (DIR/iso/).
    ///
    /// Files replace files, directories merge, symlinks are copied as symlinks; new
    /// entries are root:root with the overlay's permissions. Nothing is written when
    /// a path would go through a symlink or replace a directory by a file.
    /// Example: xiso overlay work/ branding/
    Overlay {
        /// The workspace made by `xiso unpack`.
        dir: PathBuf,
        /// The directory to copy.
        src: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script.
    ///
    /// Example: xiso completions bash > /etc/bash_completion.d/xiso
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (xiso.1), or write one page per command into a directory.
    ///
    /// Example: xiso man --out-dir /usr/local/share/man/man1
    Man {
        /// Write xiso.1 and xiso-COMMAND.1 here instead of printing xiso.1.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// Show what differs between two ISOs: files, packages, boot menus, installer files.
    ///
    /// Files added (+), removed (-), changed (~: size or bytes) and metadata-only
    /// changes (m: mode, owner; the mtime only with --all), by path; packages
    /// added/removed/updated/rebuilt by NEVRA from each repodata/primary.xml; El Torito
    /// entries, boot menu entries and kernel arguments added/removed/changed in
    /// isolinux.cfg, EFI/*/grub*.cfg and the grub configs inside boot/efiboot.img;
    /// and the files of install.img (skipped when its bytes are identical). Writer
    /// bookkeeping that moves with the layout (boot catalog LBAs, the isolinux boot
    /// info table) is not a difference.
    ///
    /// Exit status, as diff(1): 0 the images are the same, 1 they differ, 2 error.
    ///
    /// Example: xiso diff xcp-ng-8.3.0.iso xcp-ng-custom.iso --json
    Diff {
        /// The image before.
        a: PathBuf,
        /// The image after.
        b: PathBuf,
        /// Report modification-time-only changes too.
        #[arg(long)]
        all: bool,
        /// Print the report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Regenerate a kernel's module indexes (modules.dep, .alias, .symbols, … and
    /// their .bin files) in ROOT/lib/modules/KVER, like `depmod -b ROOT KVER` with
    /// ROOT's own depmod.d configuration.
    #[command(hide = true)]
    Depmod {
        /// The root holding lib/modules/KVER (e.g. DIR/installer).
        root: PathBuf,
        /// The kernel version.
        kver: String,
        /// Print a JSON summary on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// The text form of a `sign --key` report.
fn print_sign_report(out: &mut impl Write, r: &xiso::workspace::SignReport) -> io::Result<()> {
    writeln!(
        out,
        "signed     iso/{} (SHA-256, key {})",
        r.signature, r.signing_key
    )?;
    writeln!(out, "public key iso/{} ({})", r.key_file, r.fingerprint)?;
    for k in &r.keys {
        let uid = k.user_id.as_deref().unwrap_or("no user id");
        writeln!(out, "  key      {} {} {uid}", k.fingerprint, k.algorithm)?;
    }
    for k in &r.dropped_keys {
        let uid = k.user_id.as_deref().unwrap_or("no user id");
        writeln!(
            out,
            "  dropped  {} {} {uid} (--replace-keys)",
            k.fingerprint, k.algorithm
        )?;
    }
    writeln!(
        out,
        ".treeinfo  key1 = {} (was {})",
        r.key_file,
        r.previous_key1.as_deref().unwrap_or("unset")
    )?;
    writeln!(
        out,
        "packages   {} signed, {} verified by the key file and left as they were",
        r.signed_packages.len(),
        r.verified_packages
    )?;
    for p in &r.signed_packages {
        writeln!(out, "  signed   {p}")?;
    }
    for p in &r.unverified_packages {
        writeln!(
            out,
            "  NOT signed (--no-sign-packages; the installer's gpgcheck refuses it) {p}"
        )?;
    }
    Ok(())
}

/// The text form of a boot-menu edit report.
fn print_boot_report(
    out: &mut impl Write,
    r: &xiso::workspace::BootArgsReport,
    entry: Option<&str>,
    (kernel, xen): (bool, bool),
) -> io::Result<()> {
    for m in &r.menus {
        let count = |looked: usize, changed: usize, what: &str| match (looked, entry) {
            (0, Some(e)) => format!("no entry {e:?}"),
            (0, None) => format!("no {what}"),
            (n, _) => format!("{changed} of {n} {what} changed"),
        };
        let mut parts = Vec::new();
        if kernel {
            parts.push(count(m.kernel_lines, m.changes.len(), "kernel lines"));
        }
        if xen {
            parts.push(count(m.xen_lines, m.xen_changes.len(), "Xen lines"));
        }
        writeln!(out, "{}: {}", m.path, parts.join(", "))?;
        // Xen's words first: on an mboot.c32 line they come before the kernel's.
        let xen = m.xen_changes.iter().map(|c| ("Xen ", c));
        for (tag, c) in xen.chain(m.changes.iter().map(|c| ("", c))) {
            writeln!(out, "  {:?} {tag}{} (line {})", c.entry, c.kernel, c.line)?;
            writeln!(out, "    - {}", c.before)?;
            writeln!(out, "    + {}", c.after)?;
        }
    }
    if r.written.is_empty() {
        eprintln!("nothing changed: the menus already have these arguments");
    }
    Ok(())
}

fn parse_owner(s: &str) -> Result<(u32, u32), String> {
    let (u, g) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?}: expected UID:GID, e.g. 0:0"))?;
    let num = |v: &str| {
        v.parse::<u32>()
            .map_err(|_| format!("{v:?} is not a numeric id"))
    };
    Ok((num(u)?, num(g)?))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Ctrl-C / SIGTERM: delete the temporary outputs (never a partial ISO), exit 130.
    let _ = ctrlc::set_handler(|| {
        xiso::cleanup::set_interrupted();
        xiso::cleanup::remove_all();
        // The main thread stops at its next check; a second pass removes anything it
        // created in between.
        std::thread::sleep(std::time::Duration::from_millis(200));
        xiso::cleanup::remove_all();
        eprintln!("xiso: interrupted; temporary files removed");
        std::process::exit(130);
    });
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if xiso::cleanup::interrupted() {
                // The handler is deleting the temporaries; it exits with 130.
                loop {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
            }
            if let Some(ioe) = e.downcast_ref::<io::Error>() {
                if ioe.kind() == io::ErrorKind::BrokenPipe {
                    return ExitCode::SUCCESS;
                }
            }
            let mut msg = format!("xiso: error: {e}");
            let mut src = e.source();
            while let Some(s) = src {
                let s_text = s.to_string();
                if !msg.contains(&s_text) {
                    msg.push_str(": ");
                    msg.push_str(&s_text);
                }
                src = s.source();
            }
            eprintln!("{msg}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match cli.command {
        Command::Inspect {
            iso,
            installer,
            packages: list_packages,
            json,
        } => {
            let img = IsoImage::open(&iso)?;
            let report = xiso::inspect::inspect(&img)?;
            if let Some(t) = &report.truncation {
                eprintln!("xiso: warning: {t}");
            }
            let packages = if installer {
                Some(xiso::inspect::installer_packages(&img)?)
            } else {
                None
            };
            if json {
                let mut v = serde_json::to_value(&report)?;
                if let (Some(p), Some(obj)) = (&packages, v.as_object_mut()) {
                    obj.insert("installer_packages".into(), serde_json::to_value(p)?);
                }
                print_json(&mut out, &v)?;
            } else {
                write!(out, "{}", report.to_text())?;
                if list_packages {
                    write!(out, "{}", report.package_signers_text())?;
                }
                if let Some(p) = &packages {
                    if p.is_empty() {
                        writeln!(out, "installer packages (xiso add-rpm --installer): none")?;
                    }
                    for pkg in p {
                        writeln!(
                            out,
                            "installer package (xiso add-rpm --installer): {}-{}.{} ({} files{})",
                            pkg.name,
                            pkg.evr,
                            pkg.arch,
                            pkg.files.len(),
                            if pkg.scriptlets.is_empty() {
                                String::new()
                            } else {
                                format!("; scriptlets not run: {}", pkg.scriptlets.join(", "))
                            }
                        )?;
                    }
                }
            }
        }
        Command::Ls {
            iso,
            path,
            no_recurse,
            json,
        } => {
            let img = IsoImage::open(&iso)?;
            let start = img.lookup(&path)?;
            let entries = if !start.is_dir() {
                vec![start]
            } else if no_recurse {
                img.read_dir(&start)?
            } else {
                let prefix = if start.path == "/" {
                    "/".to_string()
                } else {
                    format!("{}/", start.path)
                };
                img.walk()?
                    .into_iter()
                    .filter(|e| e.path.starts_with(&prefix))
                    .collect()
            };
            if json {
                print_json(&mut out, &entries)?;
            } else {
                for e in &entries {
                    writeln!(out, "{}", ls_line(e))?;
                }
            }
        }
        Command::Cat { iso, path } => {
            let img = IsoImage::open(&iso)?;
            let e = img.lookup(&path)?;
            img.copy_file(&e, &mut out)?;
        }
        Command::Verify { iso, json } => {
            let img = IsoImage::open(&iso)?;
            let report = xiso::verify::verify(&img)?;
            if json {
                print_json(&mut out, &report)?;
            } else {
                write!(out, "{}", report.to_text())?;
            }
            out.flush()?;
            if !report.is_clean() {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Unpack {
            iso,
            dir,
            force,
            no_installer,
            max_installer_bytes,
            json,
        } => {
            let img = IsoImage::open(&iso)?;
            let truncation = xiso::truncation::check(&img);
            let opts = xiso::workspace::UnpackOptions {
                force,
                skip_installer: no_installer,
                max_installer_bytes: max_installer_bytes.unwrap_or(0),
            };
            let r = xiso::workspace::unpack(&img, &dir, &opts)?;
            // After the unpack: an error stays the one line of an error.
            if let Some(t) = &truncation {
                eprintln!("xiso: warning: {t}");
            }
            if json {
                print_json(&mut out, &r)?;
            } else {
                eprintln!(
                    "unpacked {} files, {} directories, {} symlinks ({} bytes) into {}",
                    r.files,
                    r.dirs,
                    r.symlinks,
                    r.bytes,
                    dir.join("iso").display()
                );
                if let Some(i) = &r.installer {
                    eprintln!(
                        "unpacked {} ({}): {} entries, {} bytes, {} device/FIFO placeholders into {}",
                        i.image,
                        i.compression,
                        i.entries,
                        i.bytes,
                        i.placeholders,
                        dir.join("installer").display()
                    );
                }
            }
        }
        Command::PatchInstaller {
            dir,
            overlay,
            remove,
            owner,
            json,
        } => {
            if overlay.is_none() && remove.is_empty() {
                return Err(anyhow::anyhow!(
                    "nothing to do: give an OVERLAY directory and/or --remove PATH"
                ));
            }
            let opts = xiso::workspace::PatchOptions { remove, owner };
            let r = xiso::workspace::patch_installer(&dir, overlay.as_deref(), &opts)?;
            if json {
                print_json(&mut out, &r)?;
            } else {
                eprintln!(
                    "installer: {} added, {} replaced, {} removed ({})",
                    r.added.len(),
                    r.replaced.len(),
                    r.removed.len(),
                    if r.append_only {
                        "install.img is not unpacked: xiso pack --installer-append appends them"
                    } else {
                        "xiso pack rebuilds install.img"
                    }
                );
            }
        }
        Command::BootArgs {
            dir,
            add,
            remove,
            xen_add,
            xen_remove,
            serial,
            entry,
            date,
            json,
        } => {
            if add.is_empty()
                && remove.is_empty()
                && xen_add.is_empty()
                && xen_remove.is_empty()
                && serial.is_none()
            {
                return Err(anyhow::anyhow!(
                    "nothing to do: give --add ARG, --remove KEY, --xen-add ARG, --xen-remove KEY or --serial comN"
                ));
            }
            let opts = xiso::workspace::BootArgsOptions {
                edit: xiso::bootcfg::ArgEdit::new(add, remove)?,
                xen_edit: xiso::bootcfg::ArgEdit::new_xen(xen_add, xen_remove)?,
                serial: serial.as_deref().map(str::parse).transpose()?,
                entry,
                date,
                dry_run: false,
            };
            let r = xiso::workspace::boot_args(&dir, &opts)?;
            if json {
                print_json(&mut out, &r)?;
            } else {
                let xen = opts.edits_xen();
                let kernel = !opts.edit.is_empty() || !xen;
                print_boot_report(&mut out, &r, opts.entry.as_deref(), (kernel, xen))?;
            }
        }
        Command::Sign {
            dir,
            key,
            nick,
            passphrase_file,
            replace_keys,
            no_sign_packages,
            disable_gpgcheck,
            no_gpgcheck,
            date,
            json,
        } => {
            if disable_gpgcheck {
                let opts = xiso::workspace::DisableGpgcheckOptions { no_gpgcheck, date };
                let r = xiso::workspace::disable_gpgcheck(&dir, &opts)?;
                if json {
                    print_json(&mut out, &r)?;
                } else {
                    for c in &r.commented {
                        writeln!(out, ".treeinfo: commented out [keys] {c}")?;
                    }
                    print_boot_report(&mut out, &r.boot, None, (true, false))?;
                }
            } else {
                let key = key.expect("clap requires --key without --disable-gpgcheck");
                let armored = std::fs::read(&key)
                    .map_err(|e| anyhow::anyhow!("{}: cannot read the key: {e}", key.display()))?;
                let passphrase = passphrase_file
                    .as_deref()
                    .map(read_passphrase)
                    .transpose()?;
                let opts = xiso::workspace::SignOptions {
                    nick,
                    passphrase,
                    date,
                    replace_keys,
                    no_sign_packages,
                };
                let r = xiso::workspace::sign(&dir, &armored, &opts)?;
                if json {
                    print_json(&mut out, &r)?;
                } else {
                    print_sign_report(&mut out, &r)?;
                }
            }
        }
        Command::Answerfile {
            dir,
            file,
            entry,
            date,
            json,
        } => {
            let xml = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", file.display()))?;
            let opts = xiso::workspace::AnswerfileOptions { entry, date };
            let r = xiso::workspace::answerfile(&dir, &xml, &opts).map_err(|e| e.in_file(&file))?;
            if json {
                print_json(&mut out, &r)?;
            } else {
                writeln!(
                    out,
                    "installer: {} {} (xiso pack rebuilds install.img)",
                    if r.replaced { "replaced" } else { "added" },
                    r.path
                )?;
                for a in &r.attributes {
                    writeln!(
                        out,
                        "answerfile: <installation {a}> (moved from the boot lines)"
                    )?;
                }
                print_boot_report(&mut out, &r.boot, opts.entry.as_deref(), (true, false))?;
            }
        }
        Command::AddRpm {
            dir,
            packages,
            allow_downgrade,
            allow_src,
            allow_arch,
            no_deps_check,
            pull_in,
            refresh_from,
            installer,
            replace_config,
            json,
        } => {
            if installer {
                let opts = xiso::workspace::InstallerRpmOptions { replace_config };
                let r = xiso::workspace::add_rpms_installer(&dir, &packages, &opts)?;
                print_installer_rpm(&mut out, &r, json)?;
                out.flush()?;
                return Ok(ExitCode::SUCCESS);
            }
            let opts = xiso::workspace::AddRpmOptions {
                allow_downgrade,
                allow_src,
                allow_arch,
                deps_check: !no_deps_check,
                metadata: xiso::repo::MetadataOptions::from_env()?,
                pull_in,
                refresh_from,
            };
            let r = xiso::workspace::add_rpms(&dir, &packages, &opts)?;
            print_rpm_change(&mut out, &r, json)?;
        }
        Command::RmRpm {
            dir,
            names,
            no_deps_check,
            json,
        } => {
            let metadata = xiso::repo::MetadataOptions::from_env()?;
            let r = xiso::workspace::remove_rpms(&dir, &names, !no_deps_check, &metadata)?;
            print_rpm_change(&mut out, &r, json)?;
        }
        Command::DriverDisk {
            out: iso_out,
            packages,
            label,
            pack_version,
            description,
            uuid,
            sign,
            passphrase_file,
            volume_id,
            date,
            json,
        } => {
            let key =
                match &sign {
                    Some(k) => Some(std::fs::read(k).map_err(|e| {
                        anyhow::anyhow!("{}: cannot read the key: {e}", k.display())
                    })?),
                    None => None,
                };
            let opts = xiso::driver_disk::DriverDiskOptions {
                label,
                version: pack_version,
                description,
                uuid,
                key,
                passphrase: passphrase_file
                    .as_deref()
                    .map(read_passphrase)
                    .transpose()?,
                date,
                volume_id,
            };
            let r = xiso::driver_disk::build(&iso_out, &packages, &opts)?;
            if json {
                print_json(&mut out, &r)?;
            } else {
                writeln!(
                    out,
                    "{}: driver disk {} version {}",
                    r.output.display(),
                    r.update.name_label,
                    r.update.version.as_deref().unwrap_or("")
                )?;
                for p in &r.packages {
                    writeln!(out, "  package     {p}")?;
                }
                writeln!(
                    out,
                    "  metapackage {} (comps groups update, drivers)",
                    r.metapackage
                )?;
                if let Some(f) = &r.signed_by {
                    writeln!(
                        out,
                        "  signed by   {f} (key file {})",
                        r.update.key.as_deref().unwrap_or("")
                    )?;
                }
            }
        }
        Command::Demo { outdir } => {
            let r = xiso::demo::run(&outdir)?;
            writeln!(out, "1. built the sample ISO   {}", r.sample.display())?;
            writeln!(out, "2. wrote the plan         {}", r.plan.display())?;
            writeln!(
                out,
                "3. remastered it         {} (one RPM added, one installer file patched, one boot argument)",
                r.remastered.display()
            )?;
            for s in &r.steps {
                writeln!(out, "     {:<18} {:>7.3} s", s.step, s.seconds)?;
            }
            writeln!(
                out,
                "4. verified it           {}",
                if r.verify_clean {
                    "clean"
                } else {
                    "FINDINGS (below)"
                }
            )?;
            if !r.verify_clean {
                write!(out, "{}", r.verify)?;
            }
            writeln!(
                out,
                "5. xiso diff {} {}:",
                r.sample.display(),
                r.remastered.display()
            )?;
            write!(out, "{}", r.diff)?;
            if !r.verify_clean {
                out.flush()?;
                return Ok(ExitCode::from(1));
            }
        }
        Command::Pack {
            dir,
            out: iso_out,
            date,
            uefi,
            mbr_template,
            no_hybrid,
            volid,
            compress,
            level,
            installer_append,
            fsync,
            json,
        } => {
            let compress = compress
                .map(|c| c.parse::<xiso::initrd::stream::Compression>())
                .transpose()?;
            let opts = xiso::workspace::PackOptions {
                date,
                uefi,
                mbr_template,
                no_hybrid,
                volume_id: volid,
                fsync,
                installer: xiso::workspace::InstallerPackOptions {
                    compress,
                    level,
                    append: installer_append,
                    date: None,
                },
            };
            let r = xiso::workspace::pack(&dir, &iso_out, &opts)?;
            for w in &r.warnings {
                eprintln!("xiso: warning: {w}");
            }
            if json {
                print_json(&mut out, &r)?;
            } else {
                eprintln!(
                    "wrote {} ({} bytes, {}): {} files copied from the source, {} from the workspace ({} new, {} removed)",
                    r.output.display(),
                    r.bytes,
                    if r.efi_partition {
                        "hybrid BIOS/UEFI"
                    } else if r.hybrid {
                        "hybrid BIOS"
                    } else {
                        "CD boot only"
                    },
                    r.tree.from_source,
                    r.tree.from_workspace,
                    r.tree.added,
                    r.tree.removed
                );
                if let Some(i) = &r.installer {
                    if i.action == "copied" {
                        eprintln!("install.img: unchanged, copied");
                    } else {
                        eprintln!(
                            "install.img: {} ({}, {} bytes): {} changed, {} added, {} removed",
                            i.action,
                            i.compression,
                            i.bytes,
                            i.changed.len(),
                            i.added.len(),
                            i.removed.len()
                        );
                    }
                }
            }
        }
        Command::Remaster {
            input,
            output,
            plan,
            add_rpm,
            add_rpm_installer,
            patch_installer,
            overlay,
            boot_arg,
            remove_boot_arg,
            xen_arg,
            remove_xen_arg,
            serial,
            answerfile,
            sign,
            sign_nick,
            passphrase_file,
            replace_keys,
            no_sign_packages,
            disable_gpgcheck,
            volid,
            installer_append,
            fsync,
            allow_downgrade,
            no_deps_check,
            pull_in,
            refresh_from,
            netinstall,
            date,
            json,
            quiet,
            verbose,
        } => {
            let mut p = match &plan {
                Some(f) => xiso::remaster::Plan::from_toml_file(f)?,
                None => xiso::remaster::Plan::default(),
            };
            p.merge(xiso::remaster::Plan {
                add_rpm,
                add_rpm_installer,
                patch_installer,
                overlay,
                boot_arg,
                remove_boot_arg,
                xen_arg,
                remove_xen_arg,
                serial: serial.as_deref().map(str::parse).transpose()?,
                answerfile,
                sign,
                sign_nick,
                sign_passphrase_file: passphrase_file,
                replace_keys,
                no_sign_packages,
                disable_gpgcheck,
                volid,
                installer_append,
                allow_downgrade,
                no_deps_check,
                pull_in,
                refresh_from,
                netinstall,
            });
            let opts = xiso::remaster::RemasterOptions {
                date,
                fsync,
                progress: None,
            };
            return remaster_cmd(&mut out, &input, &output, &p, opts, json, quiet, verbose);
        }
        Command::Overlay { dir, src, json } => {
            let r = xiso::workspace::overlay(&dir, &src)?;
            if json {
                print_json(&mut out, &r)?;
            } else {
                for a in &r.added {
                    writeln!(out, "+ iso/{a}")?;
                }
                for a in &r.replaced {
                    writeln!(out, "~ iso/{a}")?;
                }
            }
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "xiso", &mut out);
        }
        Command::Man { out_dir } => {
            let cmd = <Cli as clap::CommandFactory>::command();
            match out_dir {
                None => clap_mangen::Man::new(cmd).render(&mut out)?,
                Some(d) => {
                    std::fs::create_dir_all(&d)
                        .map_err(|e| anyhow::anyhow!("{}: cannot create: {e}", d.display()))?;
                    clap_mangen::generate_to(cmd, &d)
                        .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", d.display()))?;
                }
            }
        }
        Command::Diff { a, b, all, json } => {
            let (ia, ib) = (IsoImage::open(&a)?, IsoImage::open(&b)?);
            let opts = xiso::diff::DiffOptions {
                all,
                ..Default::default()
            };
            let report = xiso::diff::diff(&ia, &ib, &opts)?;
            for n in &report.notes {
                eprintln!("xiso: note: {n}");
            }
            if json {
                print_json(&mut out, &report)?;
            } else {
                write!(out, "{}", report.to_text())?;
            }
            out.flush()?;
            if !report.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Depmod { root, kver, json } => {
            let r = xiso::kmod::depmod(&root, &kver)?;
            print_depmod_report(&mut out, &r, json)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `ls -l` style: mode, links, uid, gid, size, mtime, path [-> target].
fn ls_line(e: &xiso::iso::Entry) -> String {
    let mut line = format!(
        "{} {:>3} {:>5} {:>5} {:>12} {} {}",
        e.mode_string(),
        e.nlink,
        e.uid,
        e.gid,
        e.size,
        e.mtime
            .map(xiso::iso::time::format_unix)
            .unwrap_or_else(|| "-".repeat(19)),
        e.path
    );
    if let EntryKind::Symlink { target } = &e.kind {
        line.push_str(" -> ");
        line.push_str(target);
    }
    line
}

/// Report of add-rpm / rm-rpm: warnings on stderr always, then JSON on stdout or a summary on stderr.
fn print_rpm_change(
    out: &mut dyn Write,
    r: &xiso::workspace::RpmChangeReport,
    json: bool,
) -> anyhow::Result<()> {
    for w in r.repodata.warnings.iter().chain(&r.warnings) {
        eprintln!("xiso: warning: {w}");
    }
    if let Some(first) = r.unresolved_before.first() {
        eprintln!(
            "xiso: warning: the repository already had {} unresolved require{} (not caused by this change), e.g. {first}",
            r.unresolved_before.len(),
            if r.unresolved_before.len() == 1 { "" } else { "s" }
        );
    }
    if r.repodata.signature_removed {
        eprintln!("xiso: warning: repodata/repomd.xml.asc was removed: the repository signature is no longer valid; re-sign the repository (`xiso sign`, coming) or disable the installer's repository check");
    }
    if json {
        print_json(&mut *out, r)?;
        return Ok(());
    }
    // One buffered handle: stderr is unbuffered, and a refresh lists hundreds of lines.
    let mut err = std::io::BufWriter::new(std::io::stderr().lock());
    for a in &r.added {
        writeln!(err, "added    {}-{}.{} ({})", a.name, a.evr, a.arch, a.href)?;
    }
    for d in &r.removed {
        writeln!(err, "removed  {}-{}.{} ({})", d.name, d.evr, d.arch, d.href)?;
    }
    for f in &r.refreshed {
        writeln!(
            err,
            "refreshed {} {} → {} ({})",
            f.package,
            f.old,
            f.new,
            f.source.display()
        )?;
    }
    if let Some(p) = &r.pulled_in {
        writeln!(
            err,
            "pulled in {} now requires {} (was {})",
            p.rewritten,
            p.requires.join(", "),
            p.target
        )?;
    }
    for u in &r.unchanged {
        writeln!(
            err,
            "present  {}-{}.{} (already in the repository)",
            u.name, u.evr, u.arch
        )?;
    }
    if r.added.is_empty() && r.removed.is_empty() {
        writeln!(err, "repository unchanged")?;
    } else {
        writeln!(
            err,
            "repodata: {} packages ({} entries reused, {} read); carried: {}; dropped: {}",
            r.repodata.packages,
            r.reused_entries,
            r.read_entries,
            if r.repodata.carried.is_empty() {
                "-".to_string()
            } else {
                r.repodata.carried.join(", ")
            },
            if r.repodata.dropped.is_empty() {
                "-".to_string()
            } else {
                r.repodata.dropped.join(", ")
            },
        )?;
    }
    err.flush()?;
    Ok(())
}

/// `xiso remaster`: progress on a terminal, a line per step, or the JSON report.
#[allow(clippy::too_many_arguments)]
fn remaster_cmd(
    out: &mut impl Write,
    input: &std::path::Path,
    output: &std::path::Path,
    plan: &xiso::remaster::Plan,
    mut opts: xiso::remaster::RemasterOptions,
    json: bool,
    quiet: bool,
    verbose: bool,
) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal;
    let bar = (!quiet && io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.enable_steady_tick(std::time::Duration::from_millis(120));
        b
    });
    opts.progress = bar.clone().map(|b| {
        Box::new(move |step: &str| b.set_message(format!("{step}…"))) as xiso::remaster::ProgressFn
    });
    let result = xiso::remaster::remaster(input, output, plan, &opts);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let r = result?;
    for w in &r.warnings {
        eprintln!("xiso: warning: {w}");
    }
    if let Some(t) = &r.truncation {
        eprintln!("xiso: warning: {t}");
    }
    if json {
        print_json(&mut *out, &r)?;
    } else if !quiet {
        for s in &r.steps {
            eprintln!("{:<18} {:>7.2} s", s.step, s.seconds);
            if verbose {
                eprintln!("{}", serde_json::to_string_pretty(&s.detail)?);
            }
        }
        let i = r
            .pack
            .installer
            .as_ref()
            .map_or("untouched".to_string(), |i| {
                format!("{} ({} bytes)", i.action, i.bytes)
            });
        eprintln!(
            "wrote {} ({} bytes) in {:.2} s: {} files streamed from {}, {} from the edits; install.img {}",
            r.output.display(),
            r.output_bytes,
            r.seconds,
            r.pack.tree.from_source,
            r.input.display(),
            r.pack.tree.from_workspace,
            i
        );
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The text (stderr) or JSON (stdout) form of a depmod report.
fn print_depmod_report(
    out: &mut impl Write,
    r: &xiso::kmod::DepmodReport,
    json: bool,
) -> io::Result<()> {
    if json {
        return print_json(out, r);
    }
    for u in &r.unresolved {
        eprintln!(
            "depmod: WARNING: {} needs unknown symbol {}",
            u.module, u.symbol
        );
    }
    eprintln!(
        "{}: {} modules; wrote {}{}",
        r.dir.display(),
        r.modules,
        r.files.join(", "),
        if r.kernel_symbols_checked {
            ""
        } else {
            " (no usable boot/System.map-KVER: unresolved symbols not checked)"
        }
    );
    Ok(())
}

/// Report of add-rpm --installer: warnings on stderr, then JSON or one block per package on stdout.
fn print_installer_rpm(
    out: &mut dyn Write,
    r: &xiso::workspace::InstallerRpmReport,
    json: bool,
) -> anyhow::Result<()> {
    for w in &r.warnings {
        eprintln!("xiso: warning: {w}");
    }
    if json {
        print_json(&mut *out, r)?;
        return Ok(());
    }
    for p in &r.packages {
        match (&p.replaced, &p.replaced_from) {
            (Some(old), Some(from)) => writeln!(
                out,
                "installed {}-{}.{} into the installer root, replacing {} (its file list from {from})",
                p.name, p.evr, p.arch, old
            )?,
            _ => writeln!(
                out,
                "installed {}-{}.{} into the installer root",
                p.name, p.evr, p.arch
            )?,
        }
        writeln!(out, "  {} paths written", p.written)?;
        for g in &p.ghosts {
            writeln!(out, "  %ghost not created: /{g}")?;
        }
        for c in &p.rpmnew {
            writeln!(out, "  %config kept: /{c} (new version in /{c}.rpmnew)")?;
        }
        for d in &p.removed {
            writeln!(out, "  removed (old version): /{d}")?;
        }
        if p.scriptlets.is_empty() {
            writeln!(out, "  scriptlets: none")?;
        } else {
            writeln!(out, "  scriptlets NOT run: {}", p.scriptlets.join(", "))?;
        }
    }
    for d in &r.depmod {
        writeln!(
            out,
            "kernel modules changed in {}: {} modules indexed ({})",
            d.dir.display(),
            d.modules,
            d.files.join(", ")
        )?;
    }
    writeln!(out, "rpmdb: {}", r.rpmdb)?;
    writeln!(out, "xiso pack rebuilds install.img with these files")?;
    Ok(())
}

/// A report as pretty JSON and a newline (every `--json`).
/// The first line of a passphrase file.
fn read_passphrase(path: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot read the passphrase: {e}", path.display()))?;
    Ok(text.lines().next().unwrap_or("").to_string())
}

fn print_json(out: &mut (impl Write + ?Sized), v: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, v)?;
    writeln!(out)
}
