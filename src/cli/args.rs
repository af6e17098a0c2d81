//! The command line's grammar: one clap `Args` struct per command, with the help
//! text that `xiso COMMAND --help`, the man pages and the completions are made of.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Remaster XCP-ng installer ISOs without root.
///
/// xiso reads and writes ISO 9660 images with Rock Ridge, Joliet, El Torito and
/// isohybrid MBR/GPT boot records, in pure Rust, as an ordinary user.
#[derive(Parser)]
#[command(name = "xiso", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once; boxing would only obscure the clap derive
pub enum Command {
    /// Describe an ISO: volume, El Torito boot entries, hybrid MBR/GPT, .treeinfo, key1's keys and package signers, repodata, install.img.
    ///
    /// Example: xiso inspect xcp-ng-8.3.0.iso --json
    Inspect(InspectArgs),
    /// Check an ISO: boot records, hybrid MBR/GPT, efiboot.img, .treeinfo, repodata, packages.
    ///
    /// Exit 0 when clean, 1 with a list of findings (check id, severity, message naming the
    /// file, LBA or offset), 2 when the ISO cannot be read.
    /// Example: xiso verify remastered.iso --json
    Verify(VerifyArgs),
    /// List files (Rock Ridge names, modes, owners, sizes, symlink targets).
    ///
    /// Lists the whole tree below PATH (default: the root), hidden files included.
    /// Example: xiso ls xcp-ng.iso /boot/isolinux
    Ls(LsArgs),
    /// Write one file from the image to standard output.
    ///
    /// Example: xiso cat xcp-ng.iso /.treeinfo
    Cat(CatArgs),
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
    Unpack(UnpackArgs),
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
    PatchInstaller(PatchInstallerArgs),
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
    BootArgs(BootArgsArgs),
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
    Sign(SignArgs),
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
    Answerfile(AnswerfileArgs),
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
    AddRpm(AddRpmArgs),
    /// Remove RPMs by NAME or NAME.ARCH from the ISO repository of a workspace and
    /// regenerate DIR/iso/repodata/ (as add-rpm does).
    ///
    /// Every NAME must match a package, and no remaining package may be left with a
    /// require nothing provides (--no-deps-check skips this), or nothing changes (exit 2).
    /// Example: xiso rm-rpm work/ xcp-ng-pv-tools vendor-tool.noarch
    RmRpm(RmRpmArgs),
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
    DriverDisk(DriverDiskArgs),
    /// Run the whole job on a built-in sample: build an XCP-ng-shaped ISO, inspect,
    /// unpack, edit, pack as hybrid BIOS/UEFI, and show what changed.
    ///
    /// Needs nothing but xiso. The sample's boot binaries are placeholders (it shows
    /// the structure; it does not boot). Example: xiso demo /tmp/xiso-demo
    Demo(DemoArgs),
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
    Pack(PackArgs),
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
    Remaster(RemasterArgs),
    /// Copy a directory tree onto a workspace's ISO tree (DIR/iso/).
    ///
    /// Files replace files, directories merge, symlinks are copied as symlinks; new
    /// entries are root:root with the overlay's permissions. Nothing is written when
    /// a path would go through a symlink or replace a directory by a file.
    /// Example: xiso overlay work/ branding/
    Overlay(OverlayArgs),
    /// Print a shell completion script.
    ///
    /// Example: xiso completions bash > /etc/bash_completion.d/xiso
    Completions(CompletionsArgs),
    /// Print the man page (xiso.1), or write one page per command into a directory.
    ///
    /// Example: xiso man --out-dir /usr/local/share/man/man1
    Man(ManArgs),
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
    Diff(DiffArgs),
    /// Regenerate a kernel's module indexes (modules.dep, .alias, .symbols, … and
    /// their .bin files) in ROOT/lib/modules/KVER, like `depmod -b ROOT KVER` with
    /// ROOT's own depmod.d configuration.
    #[command(hide = true)]
    Depmod(DepmodArgs),
}

#[derive(Args)]
pub struct InspectArgs {
    /// The ISO image.
    pub iso: PathBuf,
    /// Also decode install.img and list the packages `xiso add-rpm --installer`
    /// put into the installer root (from its /var/lib/xiso/installed-rpms.json).
    #[arg(long)]
    pub installer: bool,
    /// Also list every package with the key ids that signed it and whether
    /// key1's file holds that key (`--json` always has them, under
    /// `signing.packages`).
    #[arg(long)]
    pub packages: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The ISO image.
    pub iso: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct LsArgs {
    /// The ISO image.
    pub iso: PathBuf,
    /// Directory or file inside the image.
    #[arg(default_value = "/")]
    pub path: String,
    /// Only the entries directly in PATH, not the whole subtree.
    #[arg(short = 'd', long)]
    pub no_recurse: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct CatArgs {
    /// The ISO image.
    pub iso: PathBuf,
    /// File inside the image.
    pub path: String,
}

#[derive(Args)]
pub struct UnpackArgs {
    /// The ISO image.
    pub iso: PathBuf,
    /// The workspace directory to create.
    pub dir: PathBuf,
    /// Unpack into a non-empty directory.
    #[arg(long)]
    pub force: bool,
    /// Do not extract install.img into DIR/installer/ (it is then copied as is;
    /// patch-installer overlays can still be added, with pack --installer-append).
    #[arg(long)]
    pub no_installer: bool,
    /// Refuse an install.img that expands beyond this many bytes (default 16 GiB).
    #[arg(long, value_name = "BYTES")]
    pub max_installer_bytes: Option<u64>,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct PatchInstallerArgs {
    /// The workspace made by `xiso unpack`.
    pub dir: PathBuf,
    /// Directory whose contents are copied over the installer root (optional with --remove).
    pub overlay: Option<PathBuf>,
    /// Delete this installer path (repeatable; a directory goes with its contents).
    #[arg(long, value_name = "PATH")]
    pub remove: Vec<String>,
    /// Owner of the files the overlay adds or replaces, as UID:GID.
    #[arg(long, value_name = "UID:GID", value_parser = parse_owner)]
    pub owner: Option<(u32, u32)>,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct BootArgsArgs {
    /// The workspace made by `xiso unpack`.
    pub dir: PathBuf,
    /// Add this kernel argument (repeatable): KEY=VALUE or a bare word.
    #[arg(long, value_name = "ARG")]
    pub add: Vec<String>,
    /// Remove KEY and every KEY=VALUE (repeatable).
    #[arg(long, value_name = "KEY")]
    pub remove: Vec<String>,
    /// Add this Xen argument (repeatable): KEY=VALUE or a bare word, e.g. dom0_mem=max:4096M.
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    pub xen_add: Vec<String>,
    /// Remove Xen's KEY and every KEY=VALUE (repeatable), e.g. dom0_max_vcpus.
    #[arg(long, value_name = "KEY")]
    pub xen_remove: Vec<String>,
    /// Move Xen's serial console to another port: com1..com4, optionally with a
    /// baud rate (com2 or com2,115200).
    #[arg(long, value_name = "comN[,BAUD]")]
    pub serial: Option<String>,
    #[command(flatten)]
    pub menu: MenuEditArgs,
}

#[derive(Args)]
pub struct SignArgs {
    /// The workspace made by `xiso unpack`.
    pub dir: PathBuf,
    /// ASCII-armoured OpenPGP secret key to sign with.
    #[arg(
        long,
        value_name = "KEY.asc",
        required_unless_present = "disable_gpgcheck",
        conflicts_with = "disable_gpgcheck"
    )]
    pub key: Option<PathBuf>,
    /// Key file name suffix: iso/RPM-GPG-KEY-NICK (default: from the key's user id, else "xiso").
    #[arg(long, value_name = "NICK", requires = "key")]
    pub nick: Option<String>,
    /// File whose first line is the passphrase of a protected key.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub passphrase_file: Option<PathBuf>,
    /// Do not keep the keys of the old [keys] files in the new key file (packages they signed are signed again).
    #[arg(long, requires = "key")]
    pub replace_keys: bool,
    /// Sign only repomd.xml; leave every package as it is.
    #[arg(long, requires = "key")]
    pub no_sign_packages: bool,
    /// Instead of signing: comment out the .treeinfo keys and add no-repo-gpgcheck to the boot menus.
    #[arg(long)]
    pub disable_gpgcheck: bool,
    /// With --disable-gpgcheck: also add no-gpgcheck (skip RPM signature checks).
    #[arg(long, requires = "disable_gpgcheck")]
    pub no_gpgcheck: bool,
    /// Signature time, or the mtime of the grub.cfg inside efiboot.img (Unix seconds; overrides SOURCE_DATE_EPOCH).
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub date: Option<i64>,
    /// Print a JSON report on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct AnswerfileArgs {
    /// The workspace made by `xiso unpack` (with its installer root).
    pub dir: PathBuf,
    /// The answerfile (XML, root element <installation>).
    pub file: PathBuf,
    #[command(flatten)]
    pub menu: MenuEditArgs,
}

#[derive(Args)]
pub struct AddRpmArgs {
    /// The workspace made by `xiso unpack`.
    pub dir: PathBuf,
    /// The packages to add.
    #[arg(required_unless_present = "refresh_from", value_name = "PKG.rpm")]
    pub packages: Vec<PathBuf>,
    /// Replace a newer package, or the same version with different bytes.
    #[arg(long)]
    pub allow_downgrade: bool,
    /// Accept source packages.
    #[arg(long)]
    pub allow_src: bool,
    /// Accept packages built for ARCH (besides x86_64, noarch and the repository's arches).
    #[arg(long, value_name = "ARCH")]
    pub allow_arch: Vec<String>,
    /// Do not refuse packages whose requires nothing in the repository provides.
    #[arg(long)]
    pub no_deps_check: bool,
    /// Make the installer install the added packages: the install target
    /// (xcp-ng-deps, or the first comps mandatory package) is rewritten to also
    /// `Requires:` each added package it does not reach, with release R.xisoN
    /// (e.g. 8.3-1 -> 8.3-1.xiso1) and new digests; its old signature is dropped
    /// (`xiso sign` signs it). The added packages' requires are then checked too.
    #[arg(long, conflicts_with = "installer")]
    pub pull_in: bool,
    /// Replace each package of the repository by the newest package of the same
    /// name and arch under DIR (recursive, e.g. a reposync of the updates
    /// repository) when that one is newer. Other packages in DIR are not added.
    #[arg(long, value_name = "DIR", conflicts_with = "installer")]
    pub refresh_from: Option<PathBuf>,
    /// Install into the installer root (DIR/installer/) instead of the ISO repository.
    #[arg(long)]
    pub installer: bool,
    /// With --installer: overwrite existing %config files (default: keep them, write PATH.rpmnew).
    #[arg(long, requires = "installer")]
    pub replace_config: bool,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct RmRpmArgs {
    /// The workspace made by `xiso unpack`.
    pub dir: PathBuf,
    /// Package names, optionally with .ARCH.
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Do not refuse a removal that leaves requires of other packages unresolved.
    #[arg(long)]
    pub no_deps_check: bool,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct DriverDiskArgs {
    /// The ISO to write (through a temporary file renamed at the end).
    pub out: PathBuf,
    /// The driver RPMs.
    #[arg(required = true, value_name = "PKG.rpm")]
    pub packages: Vec<PathBuf>,
    /// The pack's label: update.xml name-label, metapackage update-LABEL (default: the first package's name).
    #[arg(long, value_name = "NAME")]
    pub label: Option<String>,
    /// The pack version (default: the first package's VERSION.RELEASE).
    #[arg(long, value_name = "VERSION")]
    pub pack_version: Option<String>,
    /// update.xml <name-description> and the metapackage's summary (default: "Driver disk LABEL").
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// The pack's uuid (default: derived from LABEL and VERSION, stable across rebuilds).
    #[arg(long)]
    pub uuid: Option<String>,
    /// ASCII-armoured OpenPGP secret key (RSA or DSA) to sign packages, repomd.xml and update.xml with.
    #[arg(long, value_name = "KEY.asc")]
    pub sign: Option<PathBuf>,
    /// File whose first line is the passphrase of a protected key.
    #[arg(long, value_name = "FILE", requires = "sign")]
    pub passphrase_file: Option<PathBuf>,
    /// ISO volume identifier (default: LABEL, at most 32 characters).
    #[arg(long, value_name = "ID")]
    pub volume_id: Option<String>,
    /// Every time in the output (Unix seconds; overrides SOURCE_DATE_EPOCH).
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub date: Option<i64>,
    /// Print a JSON report on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Directory for sample.iso, workspace/ and remastered.iso.
    pub outdir: PathBuf,
}

#[derive(Args)]
pub struct PackArgs {
    /// The workspace made by `xiso unpack`.
    pub dir: PathBuf,
    /// The ISO to write.
    pub out: PathBuf,
    /// Timestamp for every date and seed for every id (Unix seconds; overrides SOURCE_DATE_EPOCH).
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub date: Option<i64>,
    /// Add the UEFI boot entry and EFI partition for boot/efiboot.img even if the source had none.
    #[arg(long)]
    pub uefi: bool,
    /// MBR boot code to use when the source was not hybrid (e.g. /usr/lib/ISOLINUX/isohdpfx.bin).
    #[arg(long, value_name = "FILE")]
    pub mbr_template: Option<PathBuf>,
    /// Write no hybrid MBR/GPT: the image boots from CD/DVD only.
    #[arg(long, conflicts_with = "mbr_template")]
    pub no_hybrid: bool,
    /// New volume id (default: the source's).
    #[arg(long, value_name = "ID")]
    pub volid: Option<String>,
    /// Compression of a rebuilt install.img (default: the source's).
    #[arg(long, value_name = "CODEC", value_parser = ["gzip", "bzip2", "xz", "zstd", "none"])]
    pub compress: Option<String>,
    /// Compression level (gzip/bzip2 1-9, xz 0-9, zstd 1-22; default: the source's bzip2 level, else 9/6/19).
    #[arg(long, value_name = "N")]
    pub level: Option<u32>,
    /// Append one compressed cpio archive holding only the changed and new installer
    /// files to the unchanged install.img, instead of rebuilding it (fast; no deletions).
    #[arg(long)]
    pub installer_append: bool,
    /// fsync the ISO before renaming it into place, so it survives a power loss
    /// right after xiso returns (off by default, as in cp, genisoimage and xorriso;
    /// the output is only renamed into place once complete either way).
    #[arg(long)]
    pub fsync: bool,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct RemasterArgs {
    /// The source ISO (never modified).
    pub input: PathBuf,
    /// The ISO to write (temporary file next to it, renamed at the end).
    pub output: PathBuf,
    /// TOML plan file with the edits (paths in it are relative to the file).
    #[arg(long, value_name = "PLAN.toml")]
    pub plan: Option<PathBuf>,
    // The edits: one flag per field of the plan (its help texts are in remaster.rs).
    #[command(flatten)]
    pub edits: xiso::remaster::Plan,
    /// fsync the ISO before renaming it into place, so it survives a power loss
    /// right after xiso returns (off by default, as in cp, genisoimage and xorriso;
    /// the output is only renamed into place once complete either way).
    #[arg(long)]
    pub fsync: bool,
    /// Timestamp for every date and seed for every id (Unix seconds; overrides SOURCE_DATE_EPOCH).
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub date: Option<i64>,
    /// Print a JSON summary (steps, sizes, timings) on stdout.
    #[arg(long)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print each step's full report.
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Args)]
pub struct OverlayArgs {
    /// The workspace made by `xiso unpack`.
    pub dir: PathBuf,
    /// The directory to copy.
    pub src: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

#[derive(Args)]
pub struct ManArgs {
    /// Write xiso.1 and xiso-COMMAND.1 here instead of printing xiso.1.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Args)]
pub struct DiffArgs {
    /// The image before.
    pub a: PathBuf,
    /// The image after.
    pub b: PathBuf,
    /// Report modification-time-only changes too.
    #[arg(long)]
    pub all: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct DepmodArgs {
    /// The root holding lib/modules/KVER (e.g. DIR/installer).
    pub root: PathBuf,
    /// The kernel version.
    pub kver: String,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
}
// Which entries a boot-menu edit touches, the time of the grub.cfg it rewrites in
// efiboot.img, and `--json` (boot-args, answerfile). No doc comment: clap would
// take it for the command's about text.
#[derive(Args)]
pub struct MenuEditArgs {
    /// Only the entries with this isolinux LABEL / GRUB menuentry title (default: every entry).
    #[arg(long, value_name = "LABEL")]
    pub entry: Option<String>,
    /// Modification time for the grub.cfg inside efiboot.img (Unix seconds; overrides SOURCE_DATE_EPOCH).
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub date: Option<i64>,
    /// Print a JSON report on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `--owner UID:GID` of patch-installer.
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
