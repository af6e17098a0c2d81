//! The `xiso inspect` report: everything about an installer ISO a release
//! engineer wants at a glance, as a struct (JSON via serde) and as text.

mod menus;

use std::fmt::Write as _;

use serde::Serialize;

use crate::boot::info_table::InfoTableState;
use crate::boot::sysarea::{self, BootPointer, PartitionCoverage, SystemArea};
use crate::error::{Error, Result};
use crate::initrd::Codec;
use crate::iso::boot_entries::{boot_image_state, file_at_lba as find_file, read_catalog};
use crate::iso::eltorito::{ElToritoEntry, Platform};
use crate::iso::time::VolumeDate;
use crate::iso::{ExtentReader, IsoImage, Namespace};
use crate::repo::{self, RepoSummary, Repomd};
use crate::treeinfo::{TreeInfo, TreeInfoSummary};

pub mod signing;

pub use signing::SigningSummary;

pub(crate) use menus::boot_menus;
pub use menus::{BootEntryArgs, BootMenu};

/// Largest text file (.treeinfo, repomd.xml) read whole.
const MAX_TEXT: u64 = 16 << 20;

/// Volume facts from the primary volume descriptor.
#[derive(Debug, Clone, Serialize)]
pub struct VolumeSummary {
    /// Volume identifier.
    pub volume_id: String,
    /// System identifier.
    pub system_id: String,
    /// Publisher identifier.
    pub publisher_id: String,
    /// Data preparer identifier.
    pub preparer_id: String,
    /// Application identifier.
    pub application_id: String,
    /// Volume set identifier.
    pub volume_set_id: String,
    /// Volume space size in 2048-byte sectors.
    pub space_sectors: u32,
    /// Volume space size in bytes.
    pub space_bytes: u64,
    /// Size of the file (larger than the volume when hybrid padding follows it).
    pub file_bytes: u64,
    /// Creation date.
    pub created: VolumeDate,
    /// Modification date.
    pub modified: VolumeDate,
    /// Expiration date.
    pub expires: VolumeDate,
    /// Effective date.
    pub effective: VolumeDate,
    /// Rock Ridge extensions present.
    pub rock_ridge: bool,
    /// Joliet UCS-2 level, when a Joliet tree exists.
    pub joliet_level: Option<u8>,
}

/// One El Torito entry with what it points to.
#[derive(Debug, Clone, Serialize)]
pub struct BootEntryReport {
    /// The catalog entry.
    #[serde(flatten)]
    pub entry: ElToritoEntry,
    /// File in the tree starting at the entry's LBA.
    pub file: Option<String>,
    /// That file's size.
    pub file_size: Option<u64>,
    /// Boot info table state (BIOS no-emulation images only).
    pub boot_info_table: Option<InfoTableState>,
    /// Hybrid partitions that start at the image.
    pub partitions: PartitionCoverage,
}

/// The El Torito part of the report.
#[derive(Debug, Clone, Serialize)]
pub struct ElToritoReport {
    /// LBA of the boot record volume descriptor.
    pub boot_record_lba: u32,
    /// LBA of the catalog.
    pub catalog_lba: u32,
    /// The catalog file in the tree, if visible.
    pub catalog_file: Option<String>,
    /// Validation entry platform.
    pub validation_platform: Platform,
    /// Validation entry id string.
    pub id: String,
    /// Every entry, default first.
    pub entries: Vec<BootEntryReport>,
}

/// `install.img` facts.
#[derive(Debug, Clone, Serialize)]
pub struct InstallImageSummary {
    /// Path in the image.
    pub path: String,
    /// Compressed size.
    pub size: u64,
    /// Compression detected from the magic bytes.
    pub codec: Codec,
}

/// The packages `xiso add-rpm --installer` put into an image's installer root, from
/// the record it keeps there (`crate::workspace::installer::INSTALLED_RECORD`);
/// empty when there is none. install.img is decoded as a stream (capped at
/// `crate::workspace::MAX_EXPANDED_DEFAULT`); later cpio entries win, as in the kernel.
pub fn installer_packages(
    iso: &IsoImage,
) -> Result<Vec<crate::workspace::installer::InstalledPackage>> {
    use crate::workspace::installer::INSTALLED_RECORD;
    let entries = iso.walk()?;
    let Some(img) = entries
        .iter()
        .find(|e| e.path == "/install.img" && e.is_file())
    else {
        return Ok(Vec::new());
    };
    let record = crate::initrd::media::read_installer_file(
        iso,
        img,
        INSTALLED_RECORD,
        64 << 20,
        crate::workspace::MAX_EXPANDED_DEFAULT,
    )?;
    match record {
        None => Ok(Vec::new()),
        Some((offset, data)) => serde_json::from_slice(&data).map_err(|err| {
            crate::initrd::media::in_install_img(
                iso,
                Error::corrupt(
                    offset,
                    format!("{INSTALLED_RECORD} is not a package record: {err}"),
                ),
            )
        }),
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    /// The file inspected.
    pub file: String,
    /// Name space used for names.
    pub namespace: Namespace,
    /// Volume facts.
    pub volume: VolumeSummary,
    /// El Torito, when the image has a boot record.
    pub el_torito: Option<ElToritoReport>,
    /// MBR/GPT system area.
    pub system_area: SystemArea,
    /// What the MBR's boot pointer (bytes 432..436) points at, when it names the BIOS image.
    pub mbr_boot_pointer: Option<BootPointer>,
    /// `.treeinfo` summary.
    pub treeinfo: Option<TreeInfoSummary>,
    /// A driver disk's `update.xml` (media with it and no `.treeinfo`).
    pub driver_disk: Option<crate::driver_disk::UpdateXml>,
    /// `repodata/` summary.
    pub repodata: Option<RepoSummary>,
    /// `install.img` facts.
    pub install_image: Option<InstallImageSummary>,
    /// key1's keys and every package's signer.
    pub signing: SigningSummary,
    /// Number of files, directories and other entries.
    pub counts: Counts,
    /// Things that look wrong but did not stop the report.
    pub warnings: Vec<String>,
    /// Every boot menu (isolinux.cfg, the tree's grub configs, those inside
    /// efiboot.img) with each entry's Xen and dom0 kernel words apart.
    pub boot_menus: Vec<BootMenu>,
    /// The file is shorter than its tables say (a cut download), when it is.
    pub truncation: Option<crate::truncation::Truncation>,
}

/// Entry counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    /// Regular files.
    pub files: usize,
    /// Directories (root excluded).
    pub directories: usize,
    /// Symlinks and special files.
    pub other: usize,
    /// Bytes in regular files.
    pub file_bytes: u64,
}

/// Build the report. Only an unreadable image is an error; damaged optional parts
/// (`.treeinfo`, repodata) become warnings.
pub fn inspect(iso: &IsoImage) -> Result<InspectReport> {
    let entries = iso.walk()?;
    let pvd = iso.primary();
    let mut warnings = Vec::new();
    let system_area = sysarea::read_system_area(iso.source())?;
    warnings.extend(
        system_area
            .problems
            .iter()
            .map(|p| format!("system area: {p}")),
    );

    let catalog = read_catalog(iso)?;
    let mbr_boot_pointer = catalog.as_ref().and_then(|c| system_area.boot_pointer(c));
    let el_torito = match catalog {
        None => None,
        Some(cat) => {
            let mut reports = Vec::new();
            for e in &cat.entries {
                let file = find_file(&entries, e.load_lba);
                let state = boot_image_state(iso, e, file)?;
                if let Some(InfoTableState::Stale { reasons, .. }) = &state {
                    warnings.push(format!(
                        "boot info table of the BIOS image is stale: {reasons:?}"
                    ));
                }
                reports.push(BootEntryReport {
                    entry: e.clone(),
                    file: file.map(|f| f.path.clone()),
                    file_size: file.map(|f| f.size),
                    boot_info_table: state,
                    partitions: system_area.partitions_for(e),
                });
            }
            Some(ElToritoReport {
                boot_record_lba: iso.descriptors().boot_record_lba.unwrap_or(0),
                catalog_lba: cat.lba,
                catalog_file: find_file(&entries, cat.lba).map(|f| f.path.clone()),
                validation_platform: cat.validation_platform,
                id: cat.id.clone(),
                entries: reports,
            })
        }
    };

    let text_file = |path: &str| -> Option<Result<Vec<u8>>> {
        entries
            .iter()
            .find(|e| e.path == path && e.is_file())
            .map(|_| iso.read_file(path, MAX_TEXT))
    };
    // The installer tries `.treeinfo` (main media) before `update.xml` (a driver disk).
    let driver_disk = match text_file("/.treeinfo")
        .is_none()
        .then(|| text_file("/update.xml"))
    {
        Some(Some(r)) => match r.and_then(|b| crate::driver_disk::UpdateXml::parse(&b)) {
            Ok(u) => Some(u),
            Err(e) => {
                warnings.push(format!("update.xml: {e}"));
                None
            }
        },
        _ => None,
    };
    let treeinfo = match text_file("/.treeinfo") {
        None if driver_disk.is_some() => None,
        None => {
            warnings.push("no /.treeinfo: the XCP-ng installer will not accept this media".into());
            None
        }
        Some(Err(e)) => {
            warnings.push(format!(".treeinfo: {e}"));
            None
        }
        Some(Ok(bytes)) => match TreeInfo::parse(&String::from_utf8_lossy(&bytes)) {
            Ok(t) => Some(t.summary()),
            Err(e) => {
                warnings.push(format!(".treeinfo: {e}"));
                None
            }
        },
    };

    let repodata = match text_file("/repodata/repomd.xml") {
        None => None,
        Some(r) => match r.and_then(|x| Repomd::parse(&x)) {
            Err(e) => {
                warnings.push(format!("repodata/repomd.xml: {e}"));
                None
            }
            Ok(md) => {
                let signed = entries.iter().any(|e| e.path == "/repodata/repomd.xml.asc");
                let primary = md.record("primary").and_then(|r| {
                    entries
                        .iter()
                        .find(|e| e.path == format!("/{}", r.location_href))
                });
                let summary = match primary {
                    Some(p) => {
                        let mut reader = ExtentReader::new(iso, p);
                        repo::summarize(&md, Some(&mut reader), signed)
                    }
                    None => repo::summarize(&md, None, signed),
                };
                match summary {
                    Ok(s) => {
                        warnings.extend(s.warnings.iter().map(|w| format!("repodata: {w}")));
                        Some(s)
                    }
                    Err(e) => {
                        warnings.push(format!("repodata: {e}"));
                        None
                    }
                }
            }
        },
    };

    let install_image = match entries
        .iter()
        .find(|e| e.path == "/install.img" && e.is_file())
    {
        None => None,
        Some(e) => {
            let n = e.size.min(crate::initrd::codec::DETECT_LEN as u64) as usize;
            let head = match e.extents.first() {
                Some(x) => iso.source().read_vec(x.offset(), n, "install.img head")?,
                None => Vec::new(),
            };
            Some(InstallImageSummary {
                path: e.path.clone(),
                size: e.size,
                codec: crate::initrd::detect(&head),
            })
        }
    };

    let signing = signing::summarize(
        iso,
        &entries,
        treeinfo.as_ref().and_then(|t| t.key1.as_deref()),
    )?;
    if let Some(why) = &signing.key_problem {
        warnings.push(format!(
            ".treeinfo key1: {why}: the installer cannot import it"
        ));
    }

    let mut counts = Counts::default();
    for e in &entries {
        match e.kind {
            crate::iso::EntryKind::File => {
                counts.files += 1;
                counts.file_bytes += e.size;
            }
            crate::iso::EntryKind::Directory => counts.directories += 1,
            _ => counts.other += 1,
        }
    }

    let boot_menus = menus::boot_menus(iso, &entries, &mut warnings);

    let rock_ridge = iso.namespace() == Namespace::RockRidge;
    Ok(InspectReport {
        file: iso.source().path().display().to_string(),
        namespace: iso.namespace(),
        volume: VolumeSummary {
            volume_id: pvd.volume_id.clone(),
            system_id: pvd.system_id.clone(),
            publisher_id: pvd.ids.publisher_id.clone(),
            preparer_id: pvd.ids.preparer_id.clone(),
            application_id: pvd.ids.application_id.clone(),
            volume_set_id: pvd.ids.volume_set_id.clone(),
            space_sectors: pvd.space_size,
            space_bytes: u64::from(pvd.space_size) * 2048,
            file_bytes: iso.source().len(),
            created: pvd.created.clone(),
            modified: pvd.modified.clone(),
            expires: pvd.expires.clone(),
            effective: pvd.effective.clone(),
            rock_ridge,
            joliet_level: iso
                .descriptors()
                .joliet
                .as_ref()
                .and_then(|j| j.joliet_level),
        },
        el_torito,
        system_area,
        mbr_boot_pointer,
        treeinfo,
        driver_disk,
        repodata,
        install_image,
        signing,
        counts,
        warnings,
        truncation: crate::truncation::check(iso),
        boot_menus,
    })
}

fn date(d: &VolumeDate) -> String {
    match d.unix {
        Some(t) => format!("{} UTC ({})", crate::iso::time::format_unix(t), d.text),
        None => format!("not set ({})", d.text),
    }
}

fn platform(p: &Platform) -> String {
    match p {
        Platform::X86 => "BIOS (x86)".into(),
        Platform::Efi => "UEFI (0xEF)".into(),
        other => format!("{other:?}"),
    }
}

impl InspectReport {
    /// One line per package: its path and the key ids that signed it.
    pub fn package_signers_text(&self) -> String {
        let mut s = String::new();
        for p in &self.signing.packages {
            let signer = match (&p.problem, p.key_ids.is_empty()) {
                (Some(why), _) => format!("unreadable: {why}"),
                (None, true) => "unsigned".to_string(),
                (None, false) => format!(
                    "key {}{}",
                    p.key_ids.join(", "),
                    if p.key1_fingerprint.is_some() {
                        " (in key1)"
                    } else {
                        " (NOT in key1)"
                    }
                ),
            };
            let _ = writeln!(s, "package: {} {signer}", p.path);
        }
        s
    }

    /// Human-readable rendering.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let v = &self.volume;
        let _ = writeln!(s, "File:            {} ({} bytes)", self.file, v.file_bytes);
        let _ = writeln!(s, "Volume id:       {}", v.volume_id);
        let _ = writeln!(
            s,
            "Volume size:     {} sectors ({} bytes)",
            v.space_sectors, v.space_bytes
        );
        let _ = writeln!(s, "System id:       {}", v.system_id);
        let _ = writeln!(s, "Application id:  {}", v.application_id);
        let _ = writeln!(s, "Publisher id:    {}", v.publisher_id);
        let _ = writeln!(s, "Preparer id:     {}", v.preparer_id);
        let _ = writeln!(s, "Created:         {}", date(&v.created));
        let _ = writeln!(s, "Modified:        {}", date(&v.modified));
        let _ = writeln!(s, "Expires:         {}", date(&v.expires));
        let _ = writeln!(s, "Effective:       {}", date(&v.effective));
        let _ = writeln!(
            s,
            "Extensions:      Rock Ridge {}, Joliet {}",
            if v.rock_ridge { "yes" } else { "no" },
            v.joliet_level
                .map(|l| format!("level {l}"))
                .unwrap_or_else(|| "no".into())
        );
        let c = &self.counts;
        let _ = writeln!(
            s,
            "Tree:            {} files ({} bytes), {} directories, {} other",
            c.files, c.file_bytes, c.directories, c.other
        );
        match &self.el_torito {
            None => {
                let _ = writeln!(s, "El Torito:       none (not bootable from CD)");
            }
            Some(et) => {
                let _ = writeln!(
                    s,
                    "El Torito:       catalog at LBA {} ({}), boot record at LBA {}, id {:?}",
                    et.catalog_lba,
                    et.catalog_file.as_deref().unwrap_or("hidden"),
                    et.boot_record_lba,
                    et.id
                );
                for (i, b) in et.entries.iter().enumerate() {
                    let e = &b.entry;
                    let _ = writeln!(
                        s,
                        "  entry {}:       {} {} {:?} load_seg 0x{:04x} sys_type 0x{:02x} load_size {} x 512 LBA {} -> {}{}",
                        i + 1,
                        platform(&e.platform),
                        if e.bootable { "bootable" } else { "not-bootable" },
                        e.media,
                        e.load_segment,
                        e.system_type,
                        e.sector_count,
                        e.load_lba,
                        b.file.as_deref().unwrap_or("(no file)"),
                        b.file_size.map(|n| format!(" ({n} bytes)")).unwrap_or_default()
                    );
                    if let Some(st) = &b.boot_info_table {
                        let text = match st {
                            InfoTableState::Absent => "absent".to_string(),
                            InfoTableState::Unpatched(_) => {
                                "not patched (pristine isolinux.bin table)".to_string()
                            }
                            InfoTableState::Valid(t) => format!(
                                "valid (pvd {}, file LBA {}, len {}, checksum 0x{:08x})",
                                t.pvd_lba, t.file_lba, t.file_len, t.checksum
                            ),
                            InfoTableState::Stale { reasons, .. } => format!("STALE: {reasons:?}"),
                        };
                        let _ = writeln!(s, "    boot info table: {text}");
                    }
                    if b.partitions.mbr.is_some() || b.partitions.gpt.is_some() {
                        let _ = writeln!(
                            s,
                            "    hybrid partitions: MBR {:?}, GPT {:?}",
                            b.partitions.mbr, b.partitions.gpt
                        );
                    }
                }
            }
        }
        let sa = &self.system_area;
        match &sa.mbr {
            None => {
                let _ = writeln!(
                    s,
                    "MBR:             none (not bootable from USB in BIOS mode)"
                );
            }
            Some(m) => {
                let _ = writeln!(
                    s,
                    "MBR:             boot code {}, boot pointer {} ({}), disk id 0x{:08x}",
                    if m.boot_code_present {
                        "present"
                    } else {
                        "absent"
                    },
                    m.boot_pointer_block,
                    match self.mbr_boot_pointer {
                        Some(BootPointer::Isohybrid) => "isohybrid: BIOS image LBA x 4",
                        Some(BootPointer::Grub2) => "grub2-mbr: BIOS image LBA x 4 + 4",
                        None => "does not point at the BIOS image",
                    },
                    m.disk_id
                );
                for p in m.used_partitions() {
                    let _ = writeln!(
                        s,
                        "  partition {}:   status 0x{:02x} type 0x{:02x} start {} count {} (512-byte blocks)",
                        p.number, p.status, p.partition_type, p.start_lba, p.sector_count
                    );
                }
            }
        }
        match &sa.gpt {
            None => {
                let _ = writeln!(s, "GPT:             none");
            }
            Some(g) => {
                let h = &g.header;
                let _ = writeln!(
                    s,
                    "GPT:             disk GUID {}, {} entries at LBA {}, usable {}..{}, backup at LBA {} ({})",
                    h.disk_guid,
                    h.entry_count,
                    h.entries_lba,
                    h.first_usable_lba,
                    h.last_usable_lba,
                    h.backup_lba,
                    if g.backup.is_some() { "present" } else { "MISSING" }
                );
                for p in &g.partitions {
                    let _ = writeln!(
                        s,
                        "  partition {}:   {:?} type {} blocks {}..{} attrs 0x{:x} guid {}",
                        p.number,
                        p.name,
                        p.type_guid,
                        p.first_lba,
                        p.last_lba,
                        p.attributes,
                        p.unique_guid
                    );
                }
            }
        }
        if sa.apm {
            let _ = writeln!(s, "APM:             present");
        }
        match &self.treeinfo {
            None => {
                let _ = writeln!(s, ".treeinfo:       none");
            }
            Some(t) => {
                let _ = writeln!(
                    s,
                    ".treeinfo:       platform {} {}, product {} {}, build {}, key1 {}",
                    t.platform_name.as_deref().unwrap_or("?"),
                    t.platform_version.as_deref().unwrap_or("?"),
                    t.product_brand.as_deref().unwrap_or("?"),
                    t.product_version.as_deref().unwrap_or("?"),
                    t.build_number.as_deref().unwrap_or("?"),
                    t.key1.as_deref().unwrap_or("(none)")
                );
            }
        }
        if let Some(u) = &self.driver_disk {
            let _ = writeln!(
                s,
                "Driver disk:     {} version {}, installs {} (@drivers), control {}, uuid {}, key {}",
                u.name_label,
                u.version.as_deref().unwrap_or("?"),
                u.metapackage(),
                u.control,
                u.uuid.as_deref().unwrap_or("?"),
                u.key.as_deref().unwrap_or("(none)")
            );
        }
        match &self.repodata {
            None => {
                let _ = writeln!(s, "repodata:        none");
            }
            Some(r) => {
                let types: Vec<&str> = r.records.iter().map(|x| x.data_type.as_str()).collect();
                let _ = writeln!(
                    s,
                    "repodata:        {} packages, records [{}], {}",
                    r.package_count
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "?".into()),
                    types.join(", "),
                    if r.signed {
                        "signed (repomd.xml.asc)"
                    } else {
                        "unsigned"
                    }
                );
            }
        }
        for k in &self.signing.keys {
            let _ = writeln!(
                s,
                "key1 key:        {} {} {}",
                k.algorithm,
                k.key_id,
                k.user_id.as_deref().unwrap_or("(no user id)")
            );
        }
        if !self.signing.packages.is_empty() {
            let groups: Vec<String> = self
                .signing
                .groups()
                .iter()
                .map(|(label, n)| format!("{n} {label}"))
                .collect();
            let _ = writeln!(s, "package signers: {}", groups.join(", "));
        }
        match &self.install_image {
            None => {
                let _ = writeln!(s, "install.img:     none");
            }
            Some(i) => {
                let _ = writeln!(s, "install.img:     {} bytes, {}", i.size, i.codec.name());
            }
        }
        for m in &self.boot_menus {
            let _ = writeln!(
                s,
                "boot menu:       {} ({}, {} kernel lines)",
                m.path,
                match m.kind {
                    crate::bootcfg::ConfigKind::Isolinux => "isolinux",
                    crate::bootcfg::ConfigKind::Grub => "grub",
                },
                m.entries.len()
            );
            for e in &m.entries {
                // Xen's words, then the kernel it starts as dom0; an entry without
                // Xen starts its kernel directly.
                if let (Some(h), Some(x)) = (&e.hypervisor, &e.xen_args) {
                    let _ = writeln!(s, "  {:?} Xen  {h} {x}", e.entry);
                    let _ = writeln!(s, "  {:?} dom0 {} {}", e.entry, e.kernel, e.kernel_args);
                } else {
                    let _ = writeln!(s, "  {:?} kernel {} {}", e.entry, e.kernel, e.kernel_args);
                }
            }
        }
        for w in &self.warnings {
            let _ = writeln!(s, "warning: {w}");
        }
        s
    }
}
