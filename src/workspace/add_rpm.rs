//! `xiso add-rpm` / `xiso rm-rpm`: change the packages of the ISO repository in
//! a workspace (`DIR/iso/Packages/`) and regenerate `DIR/iso/repodata/`.
//!
//! Every package is read and every rule checked before anything is written,
//! so a bad package, a downgrade or a foreign arch leaves `Packages/` and
//! `repodata/` as they were. The rules (ARCHITECTURE.md §2 "RPMs"):
//! * a package replaces the packages of the same name and arch; it must be
//!   newer (rpm's EVR comparison) unless `allow_downgrade`, which also allows
//!   replacing the same version by different bytes; the same file again is a no-op;
//! * source packages are refused unless `allow_src`; arches other than
//!   `x86_64`, `noarch`, those already in the repository and `allow_arch` are refused;
//! * a package whose file is shorter than its signature header says is refused;
//! * the change must not leave a require unresolved that the repository did
//!   not already miss ([`crate::repo::closure`], from `xcp-ng-deps`, the comps
//!   mandatory packages or every package); requires that were already
//!   unresolved before are reported, not refused. `deps_check: false` skips this;
//! * an added package the install target does not reach is added, with a
//!   warning: the installer installs only what `xcp-ng-deps` (or the comps
//!   mandatory packages) pulls in (`reached_by_installer` in the report).
//!
//! The new files are copied next to their final names first, the repodata is
//! swapped in ([`crate::repo::replace_repodata`]), then the copies are renamed
//! into place and the replaced packages deleted.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, ErrorKind, Result, ResultExt};
use crate::fs::StagedFile;
use crate::repo::closure::{StartFrom, INSTALL_TARGET};
use crate::repo::comps::read_comps;
use crate::repo::update::{list, prepare_repodata, scan_listed, Pristine};
use crate::repo::{
    check_closure, replace_repodata, scan, ClosureReport, MetadataOptions, OldRepo, PackageEntry,
    RepodataReport,
};
use crate::rpm::{Evr, Package};
use crate::workspace::handle::{tree_root, Workspace};
use crate::workspace::manifest::RecordKind;
use crate::workspace::pull_in::{rewrite_target, PullInReport};
use crate::workspace::refresh::{candidates, newer_packages, Refreshed};

/// Arches the XCP-ng installer installs from its repository.
pub(crate) const DEFAULT_ARCHES: [&str; 2] = ["x86_64", "noarch"];

/// What `add-rpm` may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddRpmOptions {
    /// Replace a newer (or equally versioned, different) package by the given one.
    pub allow_downgrade: bool,
    /// Accept source packages (`arch` `src`).
    pub allow_src: bool,
    /// Accept these arches besides x86_64, noarch and the repository's own.
    pub allow_arch: Vec<String>,
    /// Refuse a change that leaves requires unresolved (`--no-deps-check` clears it).
    pub deps_check: bool,
    /// Revision, timestamps and file naming of the new metadata.
    pub metadata: MetadataOptions,
    /// Rewrite the install target to require every added package the installer
    /// would not install otherwise (`workspace::pull_in`).
    pub pull_in: bool,
    /// Replace each package by the newest of the same name and arch under this
    /// directory when it is newer (`workspace::refresh`).
    pub refresh_from: Option<PathBuf>,
}

/// One package of the repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RpmRef {
    /// Name.
    pub name: String,
    /// Arch (`src` for source packages).
    pub arch: String,
    /// `epoch:version-release` (epoch omitted when 0).
    pub evr: String,
    /// The file, relative to the ISO root (`Packages/…`).
    pub href: String,
    /// For an added package: whether the installer installs it (the install
    /// target reaches it, `crate::repo::ClosureReport::installs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reached_by_installer: Option<bool>,
}

impl RpmRef {
    fn of(e: &PackageEntry) -> RpmRef {
        let evr = if e.epoch == "0" || e.epoch.is_empty() {
            format!("{}-{}", e.version, e.release)
        } else {
            format!("{}:{}-{}", e.epoch, e.version, e.release)
        };
        RpmRef {
            name: e.name.clone(),
            arch: e.arch.clone(),
            evr,
            href: e.location_href.clone(),
            reached_by_installer: None,
        }
    }
}

/// What `add-rpm` or `rm-rpm` changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RpmChangeReport {
    /// Packages added (new name.arch, or replacing the ones in `replaced`).
    pub added: Vec<RpmRef>,
    /// Packages replaced by an added one, or removed by rm-rpm.
    pub removed: Vec<RpmRef>,
    /// Packages given that were already in the repository, byte for byte.
    pub unchanged: Vec<RpmRef>,
    /// Entries of the packages kept, taken from the old metadata without reading the RPM.
    pub reused_entries: usize,
    /// Of those, entries of files still as the source ISO had them, taken
    /// without hashing although their mtime is not `<time file>`.
    pub pristine_entries: usize,
    /// Of those, entries whose file had to be hashed (mtime changed).
    pub hashed_entries: usize,
    /// Entries built by reading an RPM.
    pub read_entries: usize,
    /// The new repodata.
    pub repodata: RepodataReport,
    /// Requires the repository already left unresolved before the change
    /// (chains as `crate::repo::Unresolved` prints them); empty when not checked.
    pub unresolved_before: Vec<String>,
    /// Things the user should know: one line per added package the installer
    /// will not install.
    pub warnings: Vec<String>,
    /// With `refresh_from`: the packages replaced by newer ones, old → new.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refreshed: Vec<Refreshed>,
    /// With `pull_in`: how the install target was rewritten (absent when every
    /// added package was reached already).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pulled_in: Option<PullInReport>,
}

/// The workspace's packages as `xiso unpack` wrote them, for
/// [`crate::repo::update::scan`]; empty when the manifest cannot be read (every
/// package is then checked by mtime or hash).
pub(super) fn pristine_packages(ws: &Workspace) -> Pristine {
    let Some(m) = ws.manifest_if_any() else {
        return Pristine::new();
    };
    m.entries
        .iter()
        .filter(|e| e.kind == RecordKind::File && e.path.ends_with(".rpm"))
        .map(|e| (e.path.clone(), (e.size, e.mtime)))
        .collect()
}

/// An entry's epoch:version-release (an epoch that is not a number counts as 0).
pub(super) fn evr_of(e: &PackageEntry) -> Evr {
    Evr::new(
        e.epoch.parse().unwrap_or(0),
        e.version.clone(),
        e.release.clone(),
    )
}

/// A package given on the command line, read and checked.
struct Incoming {
    source: PathBuf,
    entry: PackageEntry,
    mtime: i64,
}

fn read_incoming(path: &Path) -> Result<Incoming> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| n.ends_with(".rpm"))
        .ok_or_else(|| {
            Error::invalid("a package file name must be UTF-8 and end in .rpm").in_file(path)
        })?;
    let pkg = Package::open(path)?;
    pkg.check_size().in_file(path)?;
    let entry = PackageEntry::from_package(&pkg, &format!("Packages/{name}")).in_file(path)?;
    Ok(Incoming {
        source: path.to_path_buf(),
        entry,
        mtime: pkg.file_mtime,
    })
}

/// `inc`'s file staged next to its place in the repository: a hard link to the source
/// when the file system allows it (a refresh of 200 packages then copies no bytes;
/// nothing in xiso writes into a repository's package in place: signing and pull-in
/// write new files and rename them), else a copy that keeps the source's mtime (the
/// entry's `<time file>` was read from it).
fn stage_package(root: &Path, inc: &Incoming) -> Result<StagedFile> {
    let dest = root.join(&inc.entry.location_href);
    if let Some(linked) = StagedFile::hard_link(&dest, &inc.source)? {
        return Ok(linked);
    }
    let mut copy = StagedFile::new(&dest)?;
    fs::copy(&inc.source, copy.path())
        .map_err(|e| Error::io(e, "copying the package into Packages/"))
        .in_file(copy.path())?;
    let tmp = copy.path().to_path_buf();
    copy.file()
        .set_modified(unix_time(inc.mtime))
        .map_err(|e| Error::io(e, "setting the copied package's mtime"))
        .in_file(&tmp)?;
    Ok(copy)
}

/// Add `packages` to the workspace's ISO repository (see the module docs).
pub fn add_rpms(dir: &Path, packages: &[PathBuf], opts: &AddRpmOptions) -> Result<RpmChangeReport> {
    let edit = AddRpm {
        packages: packages.to_vec(),
        options: opts.clone(),
    };
    Workspace::edit(dir, |ws| edit.apply(ws))
}

/// The `add-rpm` edit: packages to add to the ISO repository, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddRpm {
    /// The RPM files to add.
    pub packages: Vec<PathBuf>,
    /// What the edit may do.
    pub options: AddRpmOptions,
}

impl AddRpm {
    /// Add the packages to `ws`'s ISO repository (see the module docs).
    pub(crate) fn apply(&self, ws: &mut Workspace) -> Result<RpmChangeReport> {
        add(ws, &self.packages, &self.options)
    }
}

fn add(ws: &mut Workspace, packages: &[PathBuf], opts: &AddRpmOptions) -> Result<RpmChangeReport> {
    if packages.is_empty() && opts.refresh_from.is_none() {
        return Err(Error::invalid("no packages to add"));
    }
    let root = ws.checked_tree()?;
    // Parsing the old metadata is most of a +1's CPU time: it runs on another thread
    // while the given packages and the refresh candidates' headers are read (errors
    // are reported in that order all the same).
    // The packages on disk are listed (and stat'ed) meanwhile too.
    let pristine = pristine_packages(ws);
    let (incoming, loaded, candidates, listed) = std::thread::scope(|s| {
        let loading = s.spawn(|| ws.take_old_repo());
        let incoming = packages
            .iter()
            .map(|p| read_incoming(p))
            .collect::<Result<Vec<_>>>();
        let candidates = opts.refresh_from.as_deref().map(candidates).transpose();
        let listed = list(&root);
        let loaded: Result<_> = loading
            .join()
            .unwrap_or_else(|_| Err(Error::invalid("the metadata loading thread panicked")));
        (incoming, loaded, candidates, listed)
    });
    let ws = &*ws;
    let mut incoming = incoming?;
    let mut old = loaded?;
    let current = scan_listed(listed?, &mut old, &HashMap::new(), &pristine)?;
    let refreshed = match candidates? {
        Some(found) => {
            let given: Vec<(String, String)> = incoming
                .iter()
                .map(|i| (i.entry.name.clone(), i.entry.arch.clone()))
                .collect();
            newer_packages(found, &current.entries, &given)
        }
        None => Vec::new(),
    };
    // Read whole (hashed) like the given packages, several at a time; the first
    // error in order is reported, as when they were read one by one.
    incoming.extend(crate::fs::for_each_io(&refreshed, |r| {
        read_incoming(&r.source)
    })?);

    let mut arches: HashSet<&str> = DEFAULT_ARCHES.into_iter().collect();
    arches.extend(current.entries.iter().map(|e| e.arch.as_str()));
    arches.extend(opts.allow_arch.iter().map(String::as_str));
    arches.remove("src");
    let mut seen: HashMap<(&str, &str), &Path> = HashMap::new();
    let mut new_hrefs: HashMap<&str, &Path> = HashMap::new();
    for inc in &incoming {
        let e = &inc.entry;
        let refuse = |msg: String| Err(Error::invalid(msg).in_file(&inc.source));
        if e.arch == "src" {
            if !opts.allow_src {
                return refuse(format!(
                    "{} is a source package; the installer cannot use it (--allow-src to add it anyway)",
                    e.name
                ));
            }
        } else if !arches.contains(e.arch.as_str()) {
            return refuse(format!(
                "{} is built for {}, not x86_64, noarch or an arch already in the repository (--allow-arch {} to add it anyway)",
                e.name, e.arch, e.arch
            ));
        }
        if let Some(other) = seen.insert((&e.name, &e.arch), &inc.source) {
            return refuse(format!(
                "{}.{} is given twice (also {})",
                e.name,
                e.arch,
                other.display()
            ));
        }
        if let Some(other) = new_hrefs.insert(&e.location_href, &inc.source) {
            return refuse(format!(
                "the file name is given twice (also {})",
                other.display()
            ));
        }
    }

    let mut report = RpmChangeReport {
        added: Vec::new(),
        removed: Vec::new(),
        unchanged: Vec::new(),
        reused_entries: current.reused,
        pristine_entries: current.pristine,
        hashed_entries: current.hashed,
        read_entries: current.read,
        repodata: RepodataReport::default(),
        unresolved_before: Vec::new(),
        warnings: Vec::new(),
        refreshed,
        pulled_in: None,
    };
    let mut removed_hrefs: HashSet<String> = HashSet::new();
    let mut to_copy: Vec<&Incoming> = Vec::new();
    // The current entries by href and by name.arch: a given package is compared with
    // those of its href or its name.arch only (the others cannot match), in their order.
    let mut by_href: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_package: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, c) in current.entries.iter().enumerate() {
        by_href.entry(&c.location_href).or_default().push(i);
        by_package.entry((&c.name, &c.arch)).or_default().push(i);
    }
    let no_entries: Vec<usize> = Vec::new();
    for inc in &incoming {
        let e = &inc.entry;
        let same_href = by_href.get(e.location_href.as_str()).unwrap_or(&no_entries);
        if let Some(same) = same_href
            .iter()
            .map(|&i| &current.entries[i])
            .find(|c| c.pkgid == e.pkgid)
        {
            report.unchanged.push(RpmRef::of(same));
            continue;
        }
        let mut related: Vec<usize> = same_href.clone();
        related.extend(
            by_package
                .get(&(e.name.as_str(), e.arch.as_str()))
                .unwrap_or(&no_entries),
        );
        related.sort_unstable();
        related.dedup();
        for c in related.into_iter().map(|i| &current.entries[i]) {
            let same_package = c.name == e.name && c.arch == e.arch;
            if !same_package {
                if c.location_href == e.location_href {
                    return Err(Error::invalid(format!(
                        "{} would overwrite {} of the different package {}.{}",
                        e.location_href, c.location_href, c.name, c.arch
                    ))
                    .in_file(&inc.source));
                }
                continue;
            }
            let order = evr_of(e).compare(&evr_of(c));
            if order != std::cmp::Ordering::Greater && !opts.allow_downgrade {
                let what = if order.is_eq() {
                    "replace the same version of"
                } else {
                    "downgrade"
                };
                let (new, old) = (RpmRef::of(e), RpmRef::of(c));
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "{}-{}.{} would {what} {}-{}.{} ({}); --allow-downgrade to do it anyway",
                        new.name, new.evr, new.arch, old.name, old.evr, old.arch, old.href
                    ),
                )
                .in_file(&inc.source));
            }
            if removed_hrefs.insert(c.location_href.clone()) {
                report.removed.push(RpmRef::of(c));
            }
        }
        report.added.push(RpmRef::of(e));
        to_copy.push(inc);
    }
    if to_copy.is_empty() {
        report.repodata.packages = current.entries.len();
        return Ok(report);
    }

    let new_entries: HashMap<&str, &PackageEntry> = to_copy
        .iter()
        .map(|i| (i.entry.location_href.as_str(), &i.entry))
        .collect();
    // The package set after the change, borrowed from the current entries and the
    // given packages (no entry is copied).
    let mut entries: Vec<&PackageEntry> = current
        .entries
        .iter()
        .filter(|c| {
            !removed_hrefs.contains(&c.location_href)
                && !new_entries.contains_key(c.location_href.as_str())
        })
        .collect();
    entries.extend(new_entries.values().copied());
    report.read_entries += to_copy.len();
    let comps = read_old_comps(&root, &old)?;
    let target = if opts.pull_in {
        let reach = check_closure(&entries, comps.as_deref())?;
        let added: Vec<&str> = to_copy
            .iter()
            .map(|i| i.entry.location_href.as_str())
            .collect();
        let sources: Vec<(&str, &Path)> = to_copy
            .iter()
            .map(|i| (i.entry.location_href.as_str(), i.source.as_path()))
            .collect();
        let time = i64::try_from(opts.metadata.timestamp).unwrap_or(i64::MAX);
        rewrite_target(ws, &entries, &added, &sources, &reach, time)?
    } else {
        None
    };
    if let Some(t) = &target {
        entries.retain(|e| e.location_href != t.old.location_href);
        entries.push(&t.entry);
        report.read_entries += 1;
        if removed_hrefs.insert(t.old.location_href.clone()) {
            report.removed.push(RpmRef::of(&t.old));
        }
        report.added.retain(|a| a.href != t.old.location_href);
        report.added.push(RpmRef::of(&t.entry));
        report.pulled_in = Some(t.report.clone());
    }
    entries.sort_by(|a, b| a.location_href.cmp(&b.location_href));
    // The replaced packages' entries were taken from the old metadata too (they
    // are only read again when that metadata was stale): count the kept ones.
    report.reused_entries = report.reused_entries.saturating_sub(removed_hrefs.len());

    // Stage next to the final names first: nothing visible changes until repodata is ready.
    // (A staged file that is not committed is removed when dropped.) The staging (mostly
    // waiting for the file system) and the metadata writing (mostly CPU) run beside the
    // dependency check; its error is reported first, then a staging error, as when they
    // ran one after the other, and nothing is swapped in until all three are done.
    let stage_all = || -> Result<Vec<StagedFile>> {
        let packages_dir = root.join("Packages");
        fs::create_dir_all(&packages_dir)
            .map_err(|e| Error::io(e, "creating Packages/"))
            .in_file(&packages_dir)?;
        let mut staged = crate::fs::for_each_io(&to_copy, |inc| stage_package(&root, inc))?;
        if let Some(t) = &target {
            let mut file = StagedFile::new(&root.join(&t.entry.location_href))?;
            let time = u32::try_from(t.entry.time_file).unwrap_or(0);
            crate::rpm::sign::write_with_mtime(&mut file, &t.bytes, time)?;
            staged.push(file);
        }
        Ok(staged)
    };
    let (checked, staged, prepared) = std::thread::scope(|s| {
        let staging = s.spawn(stage_all);
        let writing = s.spawn(|| prepare_repodata(&root, &entries, &old, &opts.metadata));
        let checked = if opts.deps_check {
            check_dependencies(&current.entries, &entries, comps.as_deref())
        } else {
            check_closure(&entries, comps.as_deref()).map(|after| (Vec::new(), after))
        };
        let staged = staging
            .join()
            .unwrap_or_else(|_| Err(Error::invalid("the package staging thread panicked")));
        let prepared = writing
            .join()
            .unwrap_or_else(|_| Err(Error::invalid("the metadata writing thread panicked")));
        (checked, staged, prepared)
    });
    let (before, after) = checked?;
    report.unresolved_before = before;
    for a in &mut report.added {
        let installed = after.installs(&a.href);
        a.reached_by_installer = Some(installed);
        if !installed {
            report.warnings.push(not_installed_warning(a, &after));
        }
    }
    let staged = staged?;
    report.repodata = prepared?.swap_in()?;
    staged.into_iter().try_for_each(StagedFile::commit)?;
    let replaced: Vec<PathBuf> = removed_hrefs
        .iter()
        .filter(|href| !new_entries.contains_key(href.as_str()))
        .map(|href| root.join(href))
        .collect();
    crate::fs::remove_files(&replaced, "the replaced package")?;
    Ok(report)
}

/// Remove packages by `name` or `name.arch` from the workspace's ISO
/// repository and regenerate its metadata. Every argument must match a
/// package; otherwise nothing changes.
/// With `deps_check`, a removal that leaves a require unresolved is refused
/// as in [`add_rpms`].
pub fn remove_rpms(
    dir: &Path,
    names: &[String],
    deps_check: bool,
    metadata: &MetadataOptions,
) -> Result<RpmChangeReport> {
    if names.is_empty() {
        return Err(Error::invalid("no packages to remove"));
    }
    let root = tree_root(dir)?;
    let mut old = OldRepo::load(&root)?;
    let ws = Workspace::open(dir)?;
    let current = scan(&root, &mut old, &HashMap::new(), &pristine_packages(&ws))?;
    let matches = |e: &PackageEntry, n: &str| e.name == n || format!("{}.{}", e.name, e.arch) == n;
    for n in names {
        if !current.entries.iter().any(|e| matches(e, n)) {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("no package {n:?} in {}", root.display()),
            ));
        }
    }
    let (gone, kept): (Vec<PackageEntry>, Vec<PackageEntry>) = current
        .entries
        .into_iter()
        .partition(|e| names.iter().any(|n| matches(e, n)));
    let unresolved_before = if deps_check {
        let mut before = kept.clone();
        before.extend(gone.iter().cloned());
        check_dependencies(&before, &kept, read_old_comps(&root, &old)?.as_deref())?.0
    } else {
        Vec::new()
    };
    let repodata = replace_repodata(&root, &kept, &old, metadata)?;
    for e in &gone {
        let path = root.join(&e.location_href);
        fs::remove_file(&path)
            .map_err(|err| Error::io(err, "removing the package"))
            .in_file(&path)?;
    }
    Ok(RpmChangeReport {
        added: Vec::new(),
        removed: gone.iter().map(RpmRef::of).collect(),
        unchanged: Vec::new(),
        reused_entries: current.reused,
        pristine_entries: current.pristine,
        hashed_entries: current.hashed,
        read_entries: current.read,
        repodata,
        unresolved_before,
        warnings: Vec::new(),
        refreshed: Vec::new(),
        pulled_in: None,
    })
}

/// The one-line warning for an added package the install target does not reach.
fn not_installed_warning(a: &RpmRef, after: &ClosureReport) -> String {
    let nevra = format!("{}-{}.{}", a.name, a.evr, a.arch);
    match after.start_from {
        StartFrom::AllPackages => format!(
            "{nevra} will not be installed: the repository has no install target \
             (no {INSTALL_TARGET} package, no comps mandatory packages), so the installer installs nothing from it"
        ),
        StartFrom::InstallTarget => format!(
            "{nevra} will not be installed: nothing {INSTALL_TARGET} pulls in requires it; \
             make {INSTALL_TARGET} (or a package it pulls in) require {}",
            a.name
        ),
        StartFrom::CompsMandatory => format!(
            "{nevra} will not be installed: no mandatory package of the comps groups ({}) requires it; \
             make one of them require {}, or list it as mandatory in comps",
            after.start.join(", "),
            a.name
        ),
    }
}

fn read_old_comps(root: &Path, old: &OldRepo) -> Result<Option<Vec<u8>>> {
    match &old.repomd {
        Some(repomd) => read_comps(root, repomd),
        None => Ok(None),
    }
}

/// Check the closure of the package set `after` against `before`: requires
/// unresolved after but not before (same package name.arch, same require) are
/// an error listing each with its chain; the ones unresolved already are
/// returned, with the closure of `after`.
fn check_dependencies<B: Borrow<PackageEntry> + Sync, A: Borrow<PackageEntry>>(
    before: &[B],
    after: &[A],
    comps: Option<&[u8]>,
) -> Result<(Vec<String>, ClosureReport)> {
    // The two closures are independent: the one before on another thread.
    let (was, now) = std::thread::scope(|s| {
        let was = s.spawn(|| check_closure(before, comps));
        let now = check_closure(after, comps);
        let was = was
            .join()
            .unwrap_or_else(|_| Err(Error::invalid("the dependency check thread panicked")));
        (was, now)
    });
    let (was, now) = (was?, now?);
    let known: HashSet<(&str, &str)> = was
        .unresolved
        .iter()
        .map(|u| (u.key.as_str(), u.requirement.as_str()))
        .collect();
    let new: Vec<String> = now
        .unresolved
        .iter()
        .filter(|u| !known.contains(&(u.key.as_str(), u.requirement.as_str())))
        .map(|u| u.to_string())
        .collect();
    if !new.is_empty() {
        const SHOWN: usize = 20;
        let mut list = new
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        if new.len() > SHOWN {
            list.push_str(&format!("; and {} more", new.len() - SHOWN));
        }
        return Err(Error::invalid(format!(
            "the repository would have {} unresolved require{} (--no-deps-check to do it anyway): {list}",
            new.len(),
            if new.len() == 1 { "" } else { "s" }
        )));
    }
    Ok((was.unresolved.iter().map(|u| u.to_string()).collect(), now))
}

fn unix_time(t: i64) -> std::time::SystemTime {
    let d = std::time::Duration::from_secs(t.unsigned_abs());
    if t >= 0 {
        std::time::UNIX_EPOCH + d
    } else {
        std::time::UNIX_EPOCH - d
    }
}
