//! Regenerating an existing repository's metadata after its packages changed.
//!
//! [`OldRepo::load`] reads what `repodata/` says now; [`scan`] lists the
//! packages on disk, reusing the old entry of every package that did not
//! change; [`replace_repodata`] writes the new metadata into a temporary
//! directory next to `repodata/` and swaps it in with renames.
//!
//! The reuse rule (createrepo_c `--update` decides on mtime and size alone;
//! xiso is stricter): an old entry is reused for the file at its
//! `<location href>` when its checksum type is sha256 and the file's size
//! equals `<size package>`; if the file's mtime also equals `<time file>` the
//! entry is taken as it is, otherwise the file is hashed and the entry is
//! reused only if the hash equals the `pkgid` (with `<time file>` set to the
//! new mtime, as createrepo_c would write it). Any other file is read as an RPM.
//!
//! A file that is still as the source ISO had it (its size and mtime equal what
//! `xiso unpack` recorded, the [`Pristine`] map) keeps its old entry as it is,
//! without hashing, when the size matches: xiso changes the metadata of the
//! packages it was asked to change, not of the ones it only carried (`xiso verify`
//! checks the source's entries against its files). This is what lets `remaster`
//! stream every untouched package from the source ISO without reading it.
//!
//! Records of the old repomd.xml other than primary, filelists and other are
//! carried with their files unchanged (group/comps, updateinfo, modules…),
//! except the sqlite `*_db` and zchunk `*_zck` variants, which would describe
//! the old package set (EL7 yum falls back to the XML). Files in `repodata/`
//! that no record names are dropped, and so is `repomd.xml.asc`: the old
//! signature does not sign the new repomd.xml.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::entry::PackageEntry;
use super::read::read_entries_concurrently;
use super::repomd::{Repomd, RepomdRecord};
pub(crate) use super::write::{list, Listed};
use super::write::{repomd_xml, write_metadata, MetadataOptions};
use crate::error::{Error, Result, ResultExt};
use crate::rpm::Package;

/// The metadata a repository has before a change.
#[derive(Debug, Clone, Default)]
pub(crate) struct OldRepo {
    /// The parsed repomd.xml (`None`: the repository had no metadata).
    pub repomd: Option<Repomd>,
    /// The entries read from primary/filelists/other, by location href.
    pub entries: HashMap<String, PackageEntry>,
    /// Whether `repodata/repomd.xml.asc` exists.
    pub signed: bool,
}

impl OldRepo {
    /// Read `root/repodata/`. A missing repomd.xml is an empty repository; a
    /// repomd.xml that does not parse is an error; primary, filelists or other
    /// that cannot be read only cost the reuse of entries (every package is then read
    /// again).
    pub(crate) fn load(root: &Path) -> Result<OldRepo> {
        let repodata = root.join("repodata");
        let repomd_path = repodata.join("repomd.xml");
        let signed = repodata.join("repomd.xml.asc").exists();
        let bytes = match fs::read(&repomd_path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(OldRepo {
                    signed,
                    ..OldRepo::default()
                })
            }
            Err(e) => return Err(Error::io(e, "reading repomd.xml").in_file(&repomd_path)),
        };
        let repomd = Repomd::parse(&bytes).in_file(&repomd_path)?;
        let entries = match read_old_entries(root, &repomd) {
            Ok(list) => list
                .into_iter()
                .map(|e| (e.location_href.clone(), e))
                .collect(),
            Err(_) => HashMap::new(),
        };
        Ok(OldRepo {
            repomd: Some(repomd),
            entries,
            signed,
        })
    }

    /// Whether the old metadata files were named `<checksum>-<type>.xml.gz`
    /// (`None` when there was no primary record to tell).
    pub(crate) fn unique_md_filenames(&self) -> Option<bool> {
        let primary = self.repomd.as_ref()?.record("primary")?;
        let name = primary.location_href.rsplit('/').next().unwrap_or("");
        let prefix = name.split('-').next().unwrap_or("");
        Some(
            name.contains('-')
                && prefix.len() >= 32
                && prefix.bytes().all(|b| b.is_ascii_hexdigit()),
        )
    }
}

fn read_old_entries(root: &Path, repomd: &Repomd) -> Result<Vec<PackageEntry>> {
    let open = |data_type: &str| -> Result<(PathBuf, File)> {
        let rec = repomd
            .record(data_type)
            .ok_or_else(|| Error::invalid(format!("repomd.xml has no {data_type} record")))?;
        let path = root.join(&rec.location_href);
        let f = File::open(&path)
            .map_err(|e| Error::io(e, format!("opening the {data_type} metadata")))
            .in_file(&path)?;
        Ok((path, f))
    };
    let (pp, p) = open("primary")?;
    let (_, f) = open("filelists")?;
    let (_, o) = open("other")?;
    read_entries_concurrently(
        &mut BufReader::new(p),
        &mut BufReader::new(f),
        &mut BufReader::new(o),
    )
    .in_file(pp)
}

/// Files as the source ISO had them, by href: `(size, mtime)` as `xiso unpack`
/// wrote them (see the module docs).
pub(crate) type Pristine = HashMap<String, (u64, Option<i64>)>;

/// The packages on disk and how their entries were obtained.
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    /// One entry per `*.rpm` below the root, sorted by href.
    pub entries: Vec<PackageEntry>,
    /// Entries taken from the old metadata.
    pub reused: usize,
    /// Of those, how many were taken because the file is as the source had it
    /// (its mtime differs from `<time file>`, no hashing needed).
    pub pristine: usize,
    /// Of those, how many needed the file hashed (the mtime did not settle it).
    pub hashed: usize,
    /// Entries built by reading the RPM (new, changed, or not in the old metadata).
    pub read: usize,
}

/// The entries of every package below `root` (see the module docs for the
/// reuse rule): [`list`] and then [`scan_listed`].
pub(crate) fn scan(
    root: &Path,
    old: &mut OldRepo,
    known: &HashMap<String, PackageEntry>,
    pristine: &Pristine,
) -> Result<Scan> {
    scan_listed(list(root)?, old, known, pristine)
}

/// The entries of the `listed` packages. `known` holds entries the caller
/// already built (packages it just read), by href; they are used as they are.
/// `pristine` lists the files still as the source ISO had them (empty outside
/// a workspace). The entries reused are moved out of `old.entries`.
pub(crate) fn scan_listed(
    listed: Vec<Listed>,
    old: &mut OldRepo,
    known: &HashMap<String, PackageEntry>,
    pristine: &Pristine,
) -> Result<Scan> {
    let mut scan = Scan {
        entries: Vec::with_capacity(listed.len()),
        reused: 0,
        pristine: 0,
        hashed: 0,
        read: 0,
    };
    for Listed {
        href,
        path,
        size,
        mtime,
    } in listed
    {
        if let Some(e) = known.get(&href) {
            scan.entries.push(e.clone());
            scan.read += 1;
            continue;
        }
        if let Some(e) = reusable(&path, &href, size, mtime, old, pristine, &mut scan)? {
            scan.entries.push(e);
            scan.reused += 1;
            continue;
        }
        let pkg = Package::open(&path)?;
        scan.entries
            .push(PackageEntry::from_package(&pkg, &href).in_file(&path)?);
        scan.read += 1;
    }
    Ok(scan)
}

/// The old entry of `href` when it may stand for a file of `size` bytes: the
/// first test of [`scan`]'s reuse rule (then the file's mtime, or its hash, must
/// agree too). A file failing it is read whole.
pub(crate) fn reusable_entry<'a>(
    old: &'a OldRepo,
    href: &str,
    size: u64,
) -> Option<&'a PackageEntry> {
    old.entries.get(href).filter(|e| may_stand_for(e, size))
}

fn may_stand_for(e: &PackageEntry, size: u64) -> bool {
    e.checksum_type == "sha256" && e.size_package == size
}

/// The old entry of the file at `path` (moved out of `old`), when the reuse
/// rule allows.
fn reusable(
    path: &Path,
    href: &str,
    size: u64,
    mtime: i64,
    old: &mut OldRepo,
    pristine: &Pristine,
    scan: &mut Scan,
) -> Result<Option<PackageEntry>> {
    let Some(mut old) = old.entries.remove(href).filter(|e| may_stand_for(e, size)) else {
        return Ok(None);
    };
    if mtime == old.time_file {
        return Ok(Some(old));
    }
    if pristine.get(href) == Some(&(size, Some(mtime))) {
        scan.pristine += 1;
        return Ok(Some(old));
    }
    scan.hashed += 1;
    if file_sha256(path)? != old.pkgid.to_ascii_lowercase() {
        return Ok(None);
    }
    old.time_file = mtime;
    Ok(Some(old))
}

/// SHA-256 of a file as lower-case hex.
pub(crate) fn file_sha256(path: &Path) -> Result<String> {
    let mut f = File::open(path)
        .map_err(|e| Error::io(e, "opening the package"))
        .in_file(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| Error::io(e, "reading the package"))
            .in_file(path)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// What `replace_repodata` wrote and dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RepodataReport {
    /// Packages listed.
    pub packages: usize,
    /// `<revision>` written.
    pub revision: String,
    /// Data types of the old records carried over with their files.
    pub carried: Vec<String>,
    /// Data types of the old records dropped (`*_db`, `*_zck`).
    pub dropped: Vec<String>,
    /// Whether an old `repomd.xml.asc` was removed (the repository must be signed again).
    pub signature_removed: bool,
    /// Problems that did not stop the update (a carried record whose file is missing).
    pub warnings: Vec<String>,
}

/// Whether an old record is rewritten (`primary` …), dropped (`*_db`, `*_zck`) or carried.
fn regenerated(data_type: &str) -> bool {
    matches!(data_type, "primary" | "filelists" | "other")
}

fn stale(data_type: &str) -> bool {
    data_type.ends_with("_db") || data_type.ends_with("_zck")
}

/// Write metadata for `entries` as `root/repodata/`, carrying the old
/// records that are neither regenerated nor stale, and swap it in: the new
/// directory is built as `root/.repodata.xiso-tmp` and renamed over the old one,
/// so a failure leaves the old `repodata/` as it was.
///
/// `opts.unique_md_filenames` is overridden by what the old repository used.
pub(crate) fn replace_repodata<E: Borrow<PackageEntry> + Sync>(
    root: &Path,
    entries: &[E],
    old: &OldRepo,
    opts: &MetadataOptions,
) -> Result<RepodataReport> {
    prepare_repodata(root, entries, old, opts)?.swap_in()
}

/// New metadata written beside `repodata/` by [`prepare_repodata`], not yet in
/// place: [`PreparedRepodata::swap_in`] renames it over the old one; dropping it
/// removes it and leaves `repodata/` as it was.
#[derive(Debug)]
pub(crate) struct PreparedRepodata {
    root: PathBuf,
    staged: crate::fs::StagedDir,
    report: RepodataReport,
}

/// The first half of [`replace_repodata`]: the new `repodata/` written as
/// `root/.repodata.xiso-tmp`, nothing visible changed yet (so that an edit can
/// stage its package files meanwhile and swap only when both are ready).
pub(crate) fn prepare_repodata<E: Borrow<PackageEntry> + Sync>(
    root: &Path,
    entries: &[E],
    old: &OldRepo,
    opts: &MetadataOptions,
) -> Result<PreparedRepodata> {
    let tmp = root.join(".repodata.xiso-tmp");
    let retired = root.join(".repodata.xiso-old");
    for stale_dir in [&tmp, &retired] {
        if stale_dir.exists() {
            fs::remove_dir_all(stale_dir)
                .map_err(|e| Error::io(e, "removing an earlier run's leftovers"))
                .in_file(stale_dir)?;
        }
    }
    let staged = crate::fs::StagedDir::at(tmp);
    let report = build(root, staged.path(), entries, old, opts)?;
    Ok(PreparedRepodata {
        root: root.to_path_buf(),
        staged,
        report,
    })
}

impl PreparedRepodata {
    /// Rename the new metadata over `repodata/` (the old one is moved aside first
    /// and put back if that fails), then remove the old one.
    pub(crate) fn swap_in(self) -> Result<RepodataReport> {
        let PreparedRepodata {
            root,
            staged,
            report,
        } = self;
        let retired = root.join(".repodata.xiso-old");
        let repodata = root.join("repodata");
        let had_old = repodata.exists();
        if had_old {
            fs::rename(&repodata, &retired)
                .map_err(|e| Error::io(e, "moving the old repodata aside"))
                .in_file(&repodata)?;
        }
        if let Err(e) = staged.commit_to(&repodata) {
            if had_old {
                let _ = fs::rename(&retired, &repodata);
            }
            return Err(Error::io(e, "moving the new repodata into place").in_file(&repodata));
        }
        if had_old {
            // The files first, concurrently (`crate::fs::remove_files`), then the rest.
            let files: Vec<PathBuf> = fs::read_dir(&retired)
                .map_err(|e| Error::io(e, "reading the old repodata"))
                .in_file(&retired)?
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path())
                .collect();
            crate::fs::remove_files(&files, "the old repodata")?;
            fs::remove_dir_all(&retired)
                .map_err(|e| Error::io(e, "removing the old repodata"))
                .in_file(&retired)?;
        }
        Ok(report)
    }
}

fn build<E: Borrow<PackageEntry> + Sync>(
    root: &Path,
    tmp: &Path,
    entries: &[E],
    old: &OldRepo,
    opts: &MetadataOptions,
) -> Result<RepodataReport> {
    let mut opts = opts.clone();
    if let Some(unique) = old.unique_md_filenames() {
        opts.unique_md_filenames = unique;
    }
    let mut repomd = write_metadata(tmp, entries, &opts)?;
    let mut report = RepodataReport {
        packages: entries.len(),
        revision: repomd.revision.clone().unwrap_or_default(),
        signature_removed: old.signed,
        ..RepodataReport::default()
    };
    let old_records: &[RepomdRecord] = old.repomd.as_ref().map_or(&[], |r| &r.records);
    for rec in old_records {
        if regenerated(&rec.data_type) {
            continue;
        }
        if stale(&rec.data_type) {
            report.dropped.push(rec.data_type.clone());
            continue;
        }
        if let Some(inside) = rec.location_href.strip_prefix("repodata/") {
            let from = root.join(&rec.location_href);
            let to = tmp.join(inside);
            if !from.is_file() {
                report.warnings.push(format!(
                    "repomd.xml record {:?} names {}, which does not exist: dropped",
                    rec.data_type, rec.location_href
                ));
                continue;
            }
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent)
                    .map_err(|e| Error::io(e, "creating a metadata directory"))
                    .in_file(parent)?;
            }
            fs::copy(&from, &to)
                .map_err(|e| Error::io(e, "copying a carried metadata file"))
                .in_file(&from)?;
        }
        // A record whose file lives outside repodata/ keeps pointing at it.
        report.carried.push(rec.data_type.clone());
        repomd.records.push(rec.clone());
    }
    let path = tmp.join("repomd.xml");
    fs::write(&path, repomd_xml(&repomd))
        .map_err(|e| Error::io(e, "writing repomd.xml"))
        .in_file(&path)?;
    Ok(report)
}
