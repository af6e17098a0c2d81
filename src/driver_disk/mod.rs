//! `xiso driver-disk`: the driver disk XCP-ng 8.3's installer accepts (since 8.3 its
//! only kind of supplemental media), as XenServer's `build-update` writes it for
//! xcp-ng/driver-disks' `create-driver-disk`:
//!
//! ```text
//! /update.xml            <update name-label=LABEL control=update-LABEL uuid version key …> (update_xml)
//! /update.xml.asc        detached signature (signed disks; xapi checks it)
//! /RPM-GPG-KEY-NICK      the public key (signed disks; update.xml key= names it)
//! /Packages/*.rpm        the driver packages and update-LABEL-VERSION-1.noarch.rpm (metapackage)
//! /repodata/             primary/filelists/other .xml.gz, comps (group, group_gz), repomd.xml(.asc)
//! ```
//!
//! How the installer reads it (host-installer `repository.py`): the media is an
//! `UpdateYumRepository` because `update.xml` and `repodata/repomd.xml` exist;
//! `DriverUpdateYumRepository.isRepo` then asks `yum group summary drivers` for
//! one group, and the installer installs `@drivers` (gpgcheck off in its own
//! root). Both comps groups, `update` and `drivers`, have the metapackage as
//! their one mandatory package, as `create-driver-disk`'s group file does; the
//! metapackage requires every driver package at its exact version.
//!
//! Everything is computed in memory (the packages are small), then written as
//! one Rock Ridge + Joliet ISO (no El Torito: the disk is not booted) through a
//! temporary file renamed onto the output. Times come from `SOURCE_DATE_EPOCH`
//! (or an explicit date): the same inputs give the same bytes.

pub(crate) mod metapackage;
pub(crate) mod update_xml;

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result, ResultExt};
use crate::fs::StagedFile;
use crate::iso::write::{FileData, IsoTree, Layout, Meta, WriteOptions};
use crate::openpgp::SecretKey;
use crate::repo::{MetadataOptions, PackageEntry};
use crate::rpm::Package;
pub use update_xml::UpdateXml;
pub(crate) use update_xml::{METAPACKAGE_PREFIX, UPDATE_XML};

/// The comps group the installer checks (`yum group summary drivers`) and installs.
pub(crate) const DRIVERS_GROUP: &str = "drivers";
/// The comps group `xe-install-supplemental-pack` / xapi install.
pub(crate) const UPDATE_GROUP: &str = "update";
/// The ISO 9660 volume identifier's limit (ECMA-119 8.4.6).
const VOLUME_ID_MAX: usize = 32;

/// Options for [`build`].
#[derive(Debug, Clone, Default)]
pub struct DriverDiskOptions {
    /// The pack's label (`update.xml` name-label; the metapackage is
    /// `update-<label>`). Default: the first package's name, as
    /// `create-driver-disk` does.
    pub label: Option<String>,
    /// The pack version. Default: the first package's `VERSION.RELEASE`
    /// (`create-driver-disk` appends a pack build to that).
    pub version: Option<String>,
    /// `<name-description>` and the metapackage's summary. Default: "Driver disk LABEL".
    pub description: Option<String>,
    /// The pack's uuid. Default: derived from the label and version, so a rebuild
    /// of the same pack keeps it.
    pub uuid: Option<String>,
    /// ASCII-armoured secret key to sign with (RSA or DSA: what EL7 checks).
    pub key: Option<Vec<u8>>,
    /// Passphrase of a protected key.
    pub passphrase: Option<String>,
    /// Every time in the output (Unix seconds). Default: `SOURCE_DATE_EPOCH`, else now.
    pub date: Option<i64>,
    /// ISO volume identifier. Default: the label (its first 32 characters).
    pub volume_id: Option<String>,
}

/// A driver package going onto the disk.
#[derive(Debug, Clone)]
pub(crate) struct DriverPackage {
    /// The RPM's name.
    pub name: String,
    /// `[epoch:]version-release`.
    pub evr: String,
    /// `name-[epoch:]version-release.arch`.
    pub nevra: String,
    /// Below the disk's root: `Packages/<file name>`.
    pub href: String,
    bytes: Vec<u8>,
}

/// What [`build`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct DriverDiskReport {
    /// The ISO written.
    pub output: PathBuf,
    /// The disk's `update.xml`.
    pub update: UpdateXml,
    /// The metapackage, below the disk's root.
    pub metapackage: String,
    /// The driver packages, below the disk's root.
    pub packages: Vec<String>,
    /// ISO volume identifier.
    pub volume_id: String,
    /// Fingerprint of the signing key, when signed.
    pub signed_by: Option<String>,
    /// The time every date in the output is (Unix seconds).
    pub date: i64,
    /// Size of the ISO in bytes.
    pub size: u64,
}

/// Build the driver disk `out` from the RPM files `packages`.
///
/// Refused, with nothing written: no package, a file that is not a binary RPM
/// (named with the byte offset at fault), two packages of the same file name, a
/// label or version an RPM name or version cannot carry, a uuid that is not one,
/// a key that is not an armoured RSA/DSA secret key (or a wrong passphrase).
pub fn build(
    out: &Path,
    packages: &[PathBuf],
    opts: &DriverDiskOptions,
) -> Result<DriverDiskReport> {
    if packages.is_empty() {
        return Err(Error::invalid("a driver disk needs at least one package"));
    }
    let (now, _) = crate::workspace::resolve_date(opts.date)?;
    let time = u32::try_from(now)
        .map_err(|_| Error::invalid(format!("date {now} is outside 1970..2106")))?;
    let mut drivers = Vec::new();
    for path in packages {
        let d = read_driver(path, now)?;
        if drivers.iter().any(|o: &DriverPackage| o.href == d.href) {
            return Err(Error::invalid(format!(
                "two packages are named {}: a driver disk holds each file name once",
                d.href
            ))
            .in_file(path));
        }
        drivers.push(d);
    }
    let first = &drivers[0];
    let label = match &opts.label {
        Some(l) => check_label(l)?,
        None => first.name.clone(),
    };
    let version = match &opts.version {
        Some(v) => check_version(v)?,
        None => default_version(first),
    };
    let uuid = match &opts.uuid {
        Some(u) => check_uuid(u)?,
        None => derived_uuid(&label, &version),
    };
    let description = opts
        .description
        .clone()
        .unwrap_or_else(|| format!("Driver disk {label}"));
    let meta_name = format!("{METAPACKAGE_PREFIX}{label}");

    let key = match &opts.key {
        Some(armored) => {
            let key = SecretKey::from_armor(armored, opts.passphrase.as_deref())?;
            key.check_el7()?;
            let created = key.signature_time(now)?;
            // A passphrase problem shows here, before anything is built.
            key.detached_signature(created, b"")?;
            Some((key, created))
        }
        None => None,
    };

    let mut meta_bytes = metapackage::build(&meta_name, &version, &description, &drivers, time)?;
    let meta_href = format!(
        "Packages/{meta_name}-{version}-{}.noarch.rpm",
        metapackage::RELEASE
    );
    if let Some((key, created)) = &key {
        meta_bytes = crate::rpm::sign::sign_package(&meta_bytes, key, *created)?;
        for d in &mut drivers {
            d.bytes = crate::rpm::sign::sign_package(&d.bytes, key, *created).in_path(&d.href)?;
        }
    }

    let mut files: Vec<(String, Vec<u8>)> = drivers
        .iter()
        .map(|d| (d.href.clone(), d.bytes.clone()))
        .collect();
    files.push((meta_href.clone(), meta_bytes));
    files.sort();
    let mut entries = Vec::new();
    let mut installation_size = 0u64;
    for (href, bytes) in &files {
        let pkg = Package::from_reader(&bytes[..], now).in_path(href)?;
        installation_size = installation_size.saturating_add(pkg.installed_size().in_path(href)?);
        entries.push(PackageEntry::from_package(&pkg, href).in_path(href)?);
    }
    let comps = groups_xml(&meta_name);
    let staging = crate::cleanup::temp_sibling(out, ".xiso-repodata-")?;
    let metadata = crate::repo::metadata_files(
        &staging,
        &entries,
        Some(comps.as_bytes()),
        &MetadataOptions {
            timestamp: time.into(),
            unique_md_filenames: true,
        },
    )?;

    let key_file = match &key {
        Some((k, _)) => {
            let nick = k
                .user_id()
                .as_deref()
                .map(crate::workspace::nick_from_user_id)
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "xiso".to_string());
            Some(format!("RPM-GPG-KEY-{nick}"))
        }
        None => None,
    };
    let update = UpdateXml {
        name_label: label.clone(),
        control: meta_name.clone(),
        uuid: Some(uuid),
        version: Some(version),
        key: key_file.clone(),
        installation_size: Some(installation_size),
        after_apply_guidance: Some("restartHost".to_string()),
        description: Some(description),
    };
    let update_text = update.to_xml();

    let mut tree = IsoTree::new(Meta::new(0o555, 0, 0, now));
    let dir = Meta::new(0o555, 0, 0, now);
    let file = Meta::new(0o444, 0, 0, now);
    tree.add_dir("Packages", dir)?;
    tree.add_dir("repodata", dir)?;
    if let (Some((k, created)), Some(key_file)) = (&key, &key_file) {
        tree.add_file(key_file, FileData::Bytes(k.public_armored()?), file)?;
        tree.add_file(
            "update.xml.asc",
            FileData::Bytes(k.armored_signature(*created, update_text.as_bytes())?),
            file,
        )?;
        let repomd = metadata
            .iter()
            .find(|(h, _)| h == crate::workspace::REPOMD_XML)
            .map(|(_, b)| b.as_slice())
            .expect("metadata_files returns repomd.xml");
        tree.add_file(
            crate::workspace::REPOMD_ASC,
            FileData::Bytes(k.armored_signature(*created, repomd)?),
            file,
        )?;
    }
    tree.add_file(UPDATE_XML, FileData::Bytes(update_text.into_bytes()), file)?;
    for (href, bytes) in files.into_iter().chain(metadata) {
        tree.add_file(&href, FileData::Bytes(bytes), file)?;
    }

    let volume_id = opts
        .volume_id
        .clone()
        .unwrap_or_else(|| label.chars().take(VOLUME_ID_MAX).collect());
    let mut wopts = WriteOptions::new(&volume_id, now);
    wopts.ids.application_id = "xiso driver-disk".into();
    let layout = Layout::new(&tree, &wopts)?;
    let mut staged = StagedFile::new(out)?;
    layout.write_file(None, &[], &[], staged.file())?;
    let size = layout.report().image_len;
    staged.commit()?;
    Ok(DriverDiskReport {
        output: out.to_path_buf(),
        metapackage: meta_href,
        packages: drivers.iter().map(|d| d.href.clone()).collect(),
        update,
        volume_id,
        signed_by: key.map(|(k, _)| k.fingerprint()),
        date: now,
        size,
    })
}

/// Read one driver package: a binary RPM whose size its signature header confirms.
fn read_driver(path: &Path, now: i64) -> Result<DriverPackage> {
    let bytes = fs::read(path)
        .map_err(|e| Error::io(e, "cannot read the package"))
        .in_file(path)?;
    let pkg = Package::from_reader(&bytes[..], now).in_file(path)?;
    pkg.check_size().in_file(path)?;
    if pkg.is_source().in_file(path)? {
        return Err(Error::invalid("a source package cannot go onto a driver disk").in_file(path));
    }
    let name = pkg.name().in_file(path)?;
    let (epoch, version, release) = pkg.evr().in_file(path)?;
    let arch = pkg.arch().in_file(path)?;
    let evr = match epoch {
        Some(e) => format!("{e}:{version}-{release}"),
        None => format!("{version}-{release}"),
    };
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::invalid("the package's file name is not UTF-8").in_file(path))?;
    Ok(DriverPackage {
        nevra: format!("{name}-{evr}.{arch}"),
        name,
        evr,
        href: format!("Packages/{file_name}"),
        bytes,
    })
}

/// The first package's `VERSION.RELEASE` with `-`, `+` and `~` as `.` (an RPM
/// version cannot hold `-`; build-update writes `3.8.7+1.xcpng8.2+pack.0.1` as
/// `3.8.7.1.xcpng8.2.pack.0.1`).
fn default_version(first: &DriverPackage) -> String {
    let vr = first
        .evr
        .split_once(':')
        .map_or(first.evr.as_str(), |(_, vr)| vr);
    vr.replace(['-', '+', '~'], ".")
}

/// A label makes the package name `update-<label>`: RPM name characters only.
fn check_label(label: &str) -> Result<String> {
    check_chars(
        label,
        &['.', '_', '+', '-'],
        !label.starts_with(['-', '.']),
        "--label",
        "the metapackage is update-LABEL",
    )
}

/// A version is the metapackage's RPM version: no `-`, no spaces.
fn check_version(version: &str) -> Result<String> {
    check_chars(
        version,
        &['.', '_', '+', '~'],
        true,
        "--pack-version",
        "it is an RPM version",
    )
}

/// `value` non-empty, `ok`, and made of ASCII letters, digits and `extra` only.
fn check_chars(value: &str, extra: &[char], ok: bool, flag: &str, why: &str) -> Result<String> {
    if value.is_empty()
        || !ok
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
    {
        let list: Vec<String> = extra.iter().map(|c| format!("'{c}'")).collect();
        return Err(Error::invalid(format!(
            "{flag} {value:?}: use letters, digits and {} ({why})",
            list.join(", ")
        )));
    }
    Ok(value.to_string())
}

fn check_uuid(uuid: &str) -> Result<String> {
    let groups: Vec<&str> = uuid.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    let ok = groups.len() == lens.len()
        && groups
            .iter()
            .zip(lens)
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()));
    if !ok {
        return Err(Error::invalid(format!(
            "--uuid {uuid:?} is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
        )));
    }
    Ok(uuid.to_ascii_lowercase())
}

/// A name-based UUID (RFC 9562 §5.8, version 8: SHA-256 of the label and version),
/// so that rebuilding the same pack gives the same uuid.
fn derived_uuid(label: &str, version: &str) -> String {
    let digest = Sha256::digest(format!("xiso driver-disk\0{label}\0{version}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The comps file of `create-driver-disk`: groups `update` and `drivers`, each
/// with the metapackage as its one mandatory package.
pub(crate) fn groups_xml(metapackage: &str) -> String {
    let mut name = String::new();
    crate::repo::xml::escape_text(metapackage, &mut name);
    let group = |id: &str, title: &str| {
        format!(
            "  <group>\n    <id>{id}</id>\n    <default>false</default>\n    <uservisible>true</uservisible>\n    \
             <name>{title}</name>\n    <description></description>\n    <packagelist>\n      \
             <packagereq type=\"mandatory\">{name}</packagereq>\n    </packagelist>\n  </group>\n"
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE comps PUBLIC \"-//Red Hat, Inc.//DTD Comps info//EN\" \"comps.dtd\">\n<comps>\n{}{}</comps>\n",
        group(UPDATE_GROUP, "Driver Update"),
        group(DRIVERS_GROUP, "Host Installer Driver Update")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_xml_round_trips_and_names_its_metapackage() {
        let u = UpdateXml {
            name_label: "intel-ixgbe".into(),
            control: "update-intel-ixgbe".into(),
            uuid: Some(derived_uuid("intel-ixgbe", "6.2.5.1")),
            version: Some("6.2.5.1".into()),
            key: Some("RPM-GPG-KEY-test".into()),
            installation_size: Some(1234),
            after_apply_guidance: Some("restartHost".into()),
            description: Some("Driver <pack> & co".into()),
        };
        let parsed = UpdateXml::parse(u.to_xml().as_bytes()).unwrap();
        assert_eq!(parsed, u);
        assert_eq!(parsed.metapackage(), "update-intel-ixgbe");
        let err = UpdateXml::parse(b"<updates name-label=\"x\" control=\"y\"/>").unwrap_err();
        assert!(err.to_string().contains("<updates>"), "{err}");
        let err = UpdateXml::parse(b"<update name-label=\"x\"/>").unwrap_err();
        assert!(err.to_string().contains("control"), "{err}");
        assert!(UpdateXml::parse(b"<update name-label=\"x\" control=\"y\">").is_err());
        let empty = UpdateXml::parse(b"<update name-label=\"x\" control=\"y\"/>").unwrap();
        assert_eq!(empty.control, "y");
    }

    #[test]
    fn groups_have_the_metapackage_mandatory() {
        let groups = crate::repo::comps::parse_groups(groups_xml("update-x").as_bytes()).unwrap();
        let ids: Vec<&str> = groups.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, [UPDATE_GROUP, DRIVERS_GROUP]);
        assert!(groups.iter().all(|g| g.mandatory == ["update-x"]));
    }

    #[test]
    fn labels_versions_and_uuids_are_checked() {
        assert!(check_label("intel-e1000e-alt").is_ok());
        assert!(check_label("bad label").is_err());
        assert!(check_label("-x").is_err());
        assert!(check_version("1.2-3").is_err());
        assert!(check_uuid("bc6d3286-fa6d-48fb-895f-eb1c114b0bcb").is_ok());
        assert!(check_uuid("bc6d3286").is_err());
        let u = derived_uuid("a", "1");
        assert!(check_uuid(&u).is_ok());
        assert_eq!(u, derived_uuid("a", "1"));
        assert_ne!(u, derived_uuid("a", "2"));
    }
}
