//! `xiso verify`: catch a broken installer ISO before it reaches a server room.
//!
//! Every check is a small function that reads the image through [`IsoImage`]
//! (file data streams from the ISO; nothing is extracted) and appends
//! [`Finding`]s. A finding names its check ([`check`]), a severity, and the file,
//! LBA or byte offset at fault. Only an image that cannot be read at all (not an
//! ISO, truncated volume, I/O error) is an `Err`; everything else is a finding.
//!
//! | area | checks |
//! | --- | --- |
//! | boot ([`boot`](self)) | El Torito catalog and entries; the BIOS image's boot info table; the isohybrid MBR boot pointer, EFI partition, GPT CRCs and backup, padded file size; `efiboot.img` a FAT holding `EFI/BOOT/BOOTX64.EFI`, its grub.cfg the same kernel lines as the tree's |
//! | installer ([`dom0_kernel`](self), [`gpgcheck`](self)) | `install.img`'s codec one that `/boot/vmlinuz` (its boot protocol header's version) decompresses; an answerfile a line boots (`file:///`) present in install.img and readable, and no gpgcheck words beside it on the line |
//! | media | `.treeinfo` present and readable; its `[keys]` files present |
//! | repository | every repomd.xml record's size, checksum, open-size and open-checksum; every `Packages/*.rpm` listed in primary.xml with the right size and sha256; nothing listed missing; what the installer's yum checks with gpgcheck and repo_gpgcheck on ([`gpgcheck`](self)): `repomd.xml.asc` and every package's signatures and digests, with key1's file ([`signature`](self)) |
//! | closure ([`closure`](self)) | every Requires reached from the install target provided inside the repository |
//! | driver disk ([`driver_disk`](self)) | media with `update.xml` and no `.treeinfo`: `update.xml` as the installer reads it, comps groups `drivers` and `update` with the `update-<label>` metapackage mandatory, the metapackage requiring the disk's packages, `update.xml.asc` when update.xml names a key; then the repository checks, the closure's requires outside the disk (the host's kernel, …) as notes |
//! | netinstall | media without `.treeinfo` and repodata whose boot lines carry `netinstall`: instead of the media and repository checks, every installer line of every menu must carry it |
//!
//! The install target is `xcp-ng-deps` when present, else the comps mandatory
//! packages; unresolved requires are then errors. A repository with neither has no
//! install target: its closure is walked from every package and what is unresolved
//! goes into [`VerifyReport::notes`], not the findings (every finding, warnings
//! included, makes `xiso verify` exit 1).

mod answerfile;
mod boot;
mod closure;
mod dom0_kernel;
mod driver_disk;
mod gpgcheck;
mod media;
mod netinstall;
mod packages;
mod repodata;
mod signature;

use std::collections::HashMap;

use serde::Serialize;

use crate::error::Result;
use crate::iso::{Entry, IsoImage};

/// Check identifiers: stable names a finding carries (and scripts can match).
pub mod check {
    /// El Torito: boot record and catalog readable, validation entry checksum right.
    pub const ELTORITO_CATALOG: &str = "eltorito.catalog";
    /// El Torito: an entry that does not point at a file of the tree inside the volume,
    /// or a BIOS/UEFI entry missing.
    pub const ELTORITO_ENTRY: &str = "eltorito.entry";
    /// The BIOS boot image's boot info table (absent, unpatched or stale).
    pub const BOOT_INFO_TABLE: &str = "boot.info-table";
    /// The isohybrid MBR's boot pointer is not the BIOS boot image's LBA × 4.
    pub const HYBRID_BOOT_POINTER: &str = "hybrid.mbr-boot-pointer";
    /// The MBR/GPT EFI partition does not cover the catalog's EFI image.
    pub const HYBRID_EFI_PARTITION: &str = "hybrid.efi-partition";
    /// GPT header or entry CRCs wrong, backup GPT missing or not at the end of the file.
    pub const HYBRID_GPT: &str = "hybrid.gpt";
    /// The file is not padded as isohybrid pads it, or a partition runs past its end.
    pub const HYBRID_SIZE: &str = "hybrid.size";
    /// `efiboot.img` missing, not a FAT file system, or without `EFI/BOOT/BOOTX64.EFI`.
    pub const EFIBOOT_FAT: &str = "efiboot.fat";
    /// A grub.cfg inside `efiboot.img` differs in its kernel lines from the tree's.
    pub const EFIBOOT_GRUB_CFG: &str = "efiboot.grub-cfg";
    /// `/.treeinfo` missing or unreadable, or without a section layout the installer reads.
    pub const TREEINFO: &str = "treeinfo";
    /// A `.treeinfo` `[keys]` entry names a file that is not on the media.
    pub const TREEINFO_KEY_FILE: &str = "treeinfo.key-file";
    /// `repodata/repomd.xml` missing or unreadable.
    pub const REPOMD: &str = "repodata.repomd";
    /// A repomd.xml record whose file is missing or has the wrong size or checksum.
    pub const REPOMD_RECORD: &str = "repodata.record";
    /// A listed package whose size or checksum is wrong, or that is not an RPM.
    pub const PACKAGE_CHECKSUM: &str = "packages.checksum";
    /// A `Packages/*.rpm` that primary.xml does not list.
    pub const PACKAGE_UNLISTED: &str = "packages.unlisted";
    /// A package primary.xml lists that is not on the media.
    pub const PACKAGE_MISSING: &str = "packages.missing";
    /// `repodata/repomd.xml.asc` present but not a signature that a key of key1's file
    /// verifies over repomd.xml, or missing while the installer checks it.
    pub const REPOMD_SIGNATURE: &str = "repodata.signature";
    /// With gpgcheck on (an active `.treeinfo` key1, no `no-gpgcheck`): a listed package
    /// that no key of key1's file verifies (unsigned, unknown key, bad signature or
    /// digest), or a key file yum cannot import.
    pub const PACKAGE_SIGNATURE: &str = "packages.signature";
    /// A Requires of the install target's closure that nothing in the repository
    /// provides (or metadata too broken to tell).
    pub const PACKAGE_CLOSURE: &str = "packages.closure";
    /// A driver disk's `/update.xml` is not what the installer reads (root `<update>`
    /// with `name-label` and `control`), or `/update.xml.asc` does not verify it.
    pub const DRIVER_DISK_UPDATE_XML: &str = "driver-disk.update-xml";
    /// A driver disk's comps groups `drivers` and `update` missing or without the
    /// `update-<label>` metapackage as a mandatory package.
    pub const DRIVER_DISK_GROUPS: &str = "driver-disk.groups";
    /// A driver disk's `update-<label>` metapackage missing, or not requiring the
    /// disk's packages.
    pub const DRIVER_DISK_METAPACKAGE: &str = "driver-disk.metapackage";
    /// Netinstall media (no repository, `netinstall` on an installer line): an
    /// installer line without `netinstall`.
    pub const NETINSTALL: &str = "netinstall";
    /// `install.img` is compressed with a codec its dom0 kernel (`/boot/vmlinuz`)
    /// cannot decompress (zstd before Linux 5.9).
    pub const INSTALLER_CODEC: &str = "installer.codec";
    /// An installer line that boots an answerfile and also carries `no-gpgcheck` or
    /// `no-repo-gpgcheck` (the installer refuses the combination).
    pub const INSTALLER_OPTIONS: &str = "installer.options";
    /// An installer line boots `answerfile=file:///PATH`, and install.img holds no such
    /// file, or one that is not XML the installer reads.
    pub const INSTALLER_ANSWERFILE: &str = "installer.answerfile";
    /// A dom0 kernel whose boot protocol header (version) cannot be read, where the
    /// installer's codec depends on it.
    pub const KERNEL_HEADER: &str = "kernel.header";
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The ISO will not boot or install in some mode.
    Error,
    /// Suspicious, probably harmless (e.g. a table in an unusual but readable form).
    Warning,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check that found it (a [`check`] constant).
    pub check: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// The file in the ISO it is about (absolute path), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Byte offset in the ISO file, when the problem has a place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// What is wrong, naming file, LBA or offset.
    pub message: String,
}

/// What `xiso verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// The ISO file.
    pub file: String,
    /// Every problem, in check order. Empty: the ISO is clean.
    pub findings: Vec<Finding>,
    /// What was not checked, and why (signature, dependency closure, non-hybrid image).
    pub notes: Vec<String>,
}

impl VerifyReport {
    /// True when nothing was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// Human-readable rendering: one line per finding, then the notes.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for f in &self.findings {
            let sev = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            s.push_str(&format!("{sev}[{}]: {}\n", f.check, f.message));
        }
        for n in &self.notes {
            s.push_str(&format!("note: {n}\n"));
        }
        if self.is_clean() {
            s.push_str(&format!("{}: ok\n", self.file));
        } else {
            s.push_str(&format!(
                "{}: {} finding{}\n",
                self.file,
                self.findings.len(),
                if self.findings.len() == 1 { "" } else { "s" }
            ));
        }
        s
    }
}

/// The installer root image: the dom0 initrd every installer line boots.
const INSTALL_IMG: &str = "/install.img";

/// The image, its walked tree and the findings so far, handed to every check.
struct Ctx<'a> {
    iso: &'a IsoImage,
    files: HashMap<String, Entry>,
    entries: Vec<Entry>,
    findings: Vec<Finding>,
    notes: Vec<String>,
    /// A driver disk's `update.xml`, once read.
    driver_disk: Option<crate::driver_disk::UpdateXml>,
}

impl Ctx<'_> {
    /// The regular file at absolute `path`.
    fn file(&self, path: &str) -> Option<&Entry> {
        self.files.get(path)
    }

    fn push(
        &mut self,
        check: &'static str,
        severity: Severity,
        path: Option<&str>,
        offset: Option<u64>,
        message: String,
    ) {
        self.findings.push(Finding {
            check,
            severity,
            path: path.map(str::to_string),
            offset,
            message,
        });
    }

    fn error(&mut self, check: &'static str, path: Option<&str>, offset: Option<u64>, m: String) {
        self.push(check, Severity::Error, path, offset, m);
    }

    /// The bytes of the small text file `entry` (at `path`): `None`, with a `check`
    /// error naming its offset, when it is over `limit` bytes ("not `what`").
    fn small_file(
        &mut self,
        entry: &Entry,
        path: &str,
        limit: u64,
        check: &'static str,
        what: &str,
    ) -> Result<Option<Vec<u8>>> {
        if entry.size > limit {
            let offset = entry.extents.first().map(|x| x.offset());
            let m = format!("{path} is {} bytes, not {what}", entry.size);
            self.error(check, Some(path), offset, m);
            return Ok(None);
        }
        self.iso.read_file(path, limit).map(Some)
    }
}

/// Run every check on `iso`.
///
/// `Err` only when the image cannot be read (its tree cannot be walked, or reading
/// file data fails); problems in what was read are findings.
pub fn verify(iso: &IsoImage) -> Result<VerifyReport> {
    let entries = iso.walk()?;
    let files = entries
        .iter()
        .filter(|e| e.is_file())
        .map(|e| (e.path.clone(), e.clone()))
        .collect();
    let mut ctx = Ctx {
        iso,
        files,
        entries,
        findings: Vec::new(),
        notes: Vec::new(),
        driver_disk: None,
    };
    let is_driver_disk = driver_disk::is_driver_disk(&ctx);
    if is_driver_disk && iso.descriptors().boot_catalog_lba.is_none() {
        ctx.notes.push(
            "driver disk: no El Torito record, boot checks skipped (the installer reads \
             driver disks once it runs; they are not booted)"
                .into(),
        );
    } else {
        boot::check(&mut ctx)?;
    }
    dom0_kernel::check(&mut ctx)?;
    if is_driver_disk {
        driver_disk::read_update_xml(&mut ctx)?;
        driver_disk::check(&mut ctx)?;
        repodata::check(&mut ctx)?;
    } else if netinstall::is_netinstall(&ctx)? {
        netinstall::check(&mut ctx)?;
    } else {
        media::check(&mut ctx)?;
        repodata::check(&mut ctx)?;
    }
    Ok(VerifyReport {
        file: iso.source().path().display().to_string(),
        findings: ctx.findings,
        notes: ctx.notes,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::source::Source;

    /// Regression (fuzz target `iso_image`): an efiboot.img whose directory entry
    /// names cluster 0 makes fatfs compute `cluster - 2`. With overflow checks (debug
    /// builds, the fuzz build) that panics inside fatfs, which xiso turns into a
    /// "damaged" error; without them it wraps and the file is not found. Either way
    /// `verify` reports the efiboot image as an error and goes on, never panics.
    #[test]
    fn fuzz_efiboot_naming_cluster_0_is_a_finding_not_a_panic() {
        let path = format!(
            "{}/testdata/fuzz/iso-image-efiboot-cluster0.bin.gz",
            env!("CARGO_MANIFEST_DIR")
        );
        let gz = std::fs::read(path).unwrap();
        // The fuzz input is the image from sector 16 on.
        let mut image = vec![0u8; 16 * 2048];
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut image)
            .unwrap();
        let iso = IsoImage::from_source(Source::from_bytes("fuzz.iso", image)).unwrap();
        let report = verify(&iso).unwrap();
        let efiboot: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.check.starts_with("efiboot"))
            .collect();
        assert!(
            efiboot.iter().any(|f| f.severity == Severity::Error),
            "{:?}",
            report.findings
        );
        if cfg!(debug_assertions) {
            assert!(
                efiboot.iter().any(|f| f.message.contains("damaged")),
                "the guarded panic: {efiboot:?}"
            );
        }
    }
}
