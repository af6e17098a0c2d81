//! `xiso add-rpm --installer DIR PKG.rpm…`: install RPM payloads into the
//! installer root `DIR/installer/` as an ordinary user, recording in
//! `DIR/.xiso/installer` what the file system cannot hold (owners, modes,
//! device nodes), so `xiso pack` rebuilds install.img with them.
//!
//! What rpm would do, without root and without running anything:
//!
//! * files, directories, symlinks and hard links are written with the header's
//!   modes; owners are the header's user and group names looked up in the
//!   root's `/etc/passwd` and `/etc/group` (an unknown name becomes root, with a
//!   warning, as rpm does); device nodes, FIFOs and sockets become placeholders
//!   recorded with their device numbers, as `unpack` records them;
//! * `%ghost` files are owned but not created; a `%config` file that already
//!   exists is kept and the new one written next to it as `PATH.rpmnew`
//!   (`--replace-config` overwrites it);
//! * a symlink among a path's parents (`/lib -> usr/lib`) is followed inside the
//!   root as rpm follows it in a chroot: absolute targets start at the root and
//!   `..` stops there, so nothing lands outside `DIR/installer/`;
//! * when a package of the same name is installed, the files the old version
//!   owned and the new one does not are removed. The old file list comes from
//!   xiso's own record of the packages it installed, else from the root's rpmdb
//!   ([`crate::rpm::rpmdb`]: SQLite `rpmdb.sqlite`, else the EL7 Berkeley DB
//!   `Packages`);
//! * scriptlets are not run: the report lists them per package; the kernel
//!   versions whose `lib/modules/KVER/` received files are reported so their
//!   module indexes can be regenerated.
//!
//! **rpmdb policy.** The installer's rpmdb is left byte-for-byte untouched
//! (`rpm --root DIR/installer -qa` keeps listing what the image was built with);
//! the installed package is recorded in `DIR/.xiso/installer` and listed by the
//! report. Writing the EL7 Berkeley DB from scratch risks a database rpm reads
//! as corrupt; an untouched one is at least truthful about the image's origin.
//!
//! Every package is read completely (headers, file list, the whole payload) and
//! every path checked before anything is written: a damaged package changes
//! nothing.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::io;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::handle::Workspace;
use super::installer::{
    check_parents_on_disk, disk_path, normalize_name, DiskState, InstalledPackage, InstallerEntry,
    InstallerKind, InstallerManifest, INSTALLER_DIR,
};
use super::installer_root::{check_type_on_disk, lookup, resolve_parents, Ids};
use crate::error::{Error, Result};
use crate::initrd::cpio::{mode, CpioHeader};
use crate::rpm::payload::{Payload, RpmFile, PAYLOAD};
use crate::rpm::{rpmdb, tag};

/// Options for [`add_rpms_installer`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallerRpmOptions {
    /// Overwrite existing `%config` files instead of writing `PATH.rpmnew`.
    pub replace_config: bool,
}

/// What happened to one package.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct InstallerRpm {
    /// The package file.
    pub file: PathBuf,
    /// Name.
    pub name: String,
    /// `[epoch:]version-release`.
    pub evr: String,
    /// Architecture.
    pub arch: String,
    /// The version it replaced, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced: Option<String>,
    /// Where the replaced version's file list came from: `xiso` (its own
    /// record), `rpmdb-sqlite` or `rpmdb-bdb`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced_from: Option<String>,
    /// Paths written (files, directories, links, placeholders).
    pub written: usize,
    /// `%ghost` files not created.
    pub ghosts: Vec<String>,
    /// `%config` files kept, the new version written as `PATH.rpmnew`.
    pub rpmnew: Vec<String>,
    /// Paths of the replaced version removed.
    pub removed: Vec<String>,
    /// Scriptlets the package has, not run (`%pre`, `%post`, `%triggerin (2)`…).
    pub scriptlets: Vec<String>,
}

/// What [`add_rpms_installer`] did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct InstallerRpmReport {
    /// One record per package, in the order given.
    pub packages: Vec<InstallerRpm>,
    /// Kernel versions whose `lib/modules/KVER/` (or `usr/lib/modules/KVER/`)
    /// received or lost files: their module indexes were regenerated (`depmod`).
    pub kernel_modules: Vec<String>,
    /// The `depmod` run for each of those kernels.
    pub depmod: Vec<crate::kmod::DepmodReport>,
    /// Unknown users and groups (mapped to root) and similar notes.
    pub warnings: Vec<String>,
    /// What happened to the installer's rpmdb (always: left untouched).
    pub rpmdb: String,
}

/// The rpmdb policy, as the report states it.
pub(crate) const RPMDB_POLICY: &str = "left untouched (xiso records the installed packages in .xiso/installer; `rpm --root DIR/installer -qa` still lists the image's original packages)";

/// One file of a package, checked and placed.
struct Planned {
    file: RpmFile,
    /// Normalized path under the root, symlinked parents resolved.
    rel: String,
    kind: InstallerKind,
}

struct PackagePlan {
    path: PathBuf,
    name: String,
    evr: String,
    arch: String,
    files: Vec<Planned>,
    scriptlets: Vec<String>,
    /// The version it replaces: evr, where the list came from, its files.
    old: Option<(String, String, Vec<String>)>,
    /// Paths other packages of the rpmdb own: never removed with the old version.
    protected: HashSet<String>,
}

/// Install `pkgs` into the installer root of the workspace `dir`.
pub fn add_rpms_installer(
    dir: &Path,
    pkgs: &[PathBuf],
    opts: &InstallerRpmOptions,
) -> Result<InstallerRpmReport> {
    Workspace::edit(dir, |ws| install_all(ws, pkgs, opts))
}

/// The `add-rpm --installer` edit: packages to install into the installer root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddRpmInstaller {
    /// The RPM files, installed in this order.
    pub packages: Vec<PathBuf>,
    /// How configuration files are treated.
    pub options: InstallerRpmOptions,
}

impl AddRpmInstaller {
    /// Install the packages into `ws`'s installer root (see [`add_rpms_installer`]).
    pub(crate) fn apply(&self, ws: &mut Workspace) -> Result<InstallerRpmReport> {
        install_all(ws, &self.packages, &self.options)
    }
}

fn install_all(
    ws: &mut Workspace,
    pkgs: &[PathBuf],
    opts: &InstallerRpmOptions,
) -> Result<InstallerRpmReport> {
    let dir = &ws.dir().to_path_buf();
    let m = ws.require_installer(
        "this workspace has no installer root (.xiso/installer): unpack the ISO without --no-installer",
    )?;
    m.require_unpacked(dir, "add-rpm --installer")?;
    let root = dir.join(INSTALLER_DIR);
    let mut report = InstallerRpmReport {
        rpmdb: RPMDB_POLICY.to_string(),
        ..Default::default()
    };

    // Check everything first.
    let mut plans = Vec::with_capacity(pkgs.len());
    let mut names = HashSet::new();
    // Path -> (is a directory, package): packages checked against the disk alone
    // could still disagree with each other.
    let mut kinds: HashMap<String, (bool, String)> = HashMap::new();
    for p in pkgs {
        let plan = plan_package(&root, p, m).map_err(|e| e.in_file(p))?;
        if !names.insert(plan.name.clone()) {
            return Err(Error::invalid(format!("package {} is given twice", plan.name)).in_file(p));
        }
        check_against_earlier(&plan, &mut kinds).map_err(|e| e.in_file(p))?;
        plans.push(plan);
    }

    let ids = Ids::read(&root);
    let mut kvers = BTreeSet::new();
    for plan in plans {
        let r = install(&root, m, plan, opts, &ids, &mut report.warnings)?;
        // Modules added and modules of the old version removed both change the index.
        let added = m.packages.last().map(|p| &p.files).into_iter().flatten();
        for f in added.chain(&r.removed) {
            if let Some(k) = kernel_version(f) {
                kvers.insert(k.to_string());
            }
        }
        report.packages.push(r);
    }
    report.kernel_modules = kvers.into_iter().collect();
    write_installed_record(&root, m)?;
    // Saved before depmod: the packages are installed whether or not it succeeds.
    ws.save()?;
    // Modules landed or went: regenerate that kernel's indexes so modprobe in the
    // installer finds them (the packages stay installed if this fails; the error says so).
    for k in &report.kernel_modules {
        let r = crate::kmod::depmod(&root, k).map_err(|e| {
            Error::invalid(format!(
                "the packages were installed, but the module indexes of kernel {k} could not be regenerated: {e}"
            ))
        })?;
        for u in &r.unresolved {
            report.warnings.push(format!(
                "kernel {k}: {} needs unknown symbol {}",
                u.module, u.symbol
            ));
        }
        report.depmod.push(r);
    }
    Ok(report)
}

/// Refuse a package whose file is a directory in an earlier package of the same
/// command, or the reverse, or whose path goes through a file of one.
fn check_against_earlier(
    plan: &PackagePlan,
    kinds: &mut HashMap<String, (bool, String)>,
) -> Result<()> {
    let conflict = |path: &str, other: &str| {
        Err(Error::invalid(format!(
            "/{path}: {} needs a directory where {other} has a file, or the reverse",
            plan.name
        )))
    };
    for f in plan.files.iter().filter(|f| !f.rel.is_empty()) {
        let is_dir = f.kind == InstallerKind::Dir;
        if let Some((d, other)) = kinds.get(&f.rel) {
            if *d != is_dir && other != &plan.name {
                return conflict(&f.rel, other);
            }
        }
        let mut prefix = f.rel.as_str();
        while let Some((parent, _)) = prefix.rsplit_once('/') {
            if let Some((false, other)) = kinds.get(parent) {
                if other != &plan.name {
                    return conflict(parent, other);
                }
            }
            prefix = parent;
        }
    }
    for f in plan.files.iter().filter(|f| !f.rel.is_empty()) {
        kinds.insert(
            f.rel.clone(),
            (f.kind == InstallerKind::Dir, plan.name.clone()),
        );
        let mut prefix = f.rel.as_str();
        while let Some((parent, _)) = prefix.rsplit_once('/') {
            kinds
                .entry(parent.to_string())
                .or_insert_with(|| (true, plan.name.clone()));
            prefix = parent;
        }
    }
    Ok(())
}

/// `KVER` when `rel` lies under `lib/modules/KVER/` or `usr/lib/modules/KVER/`.
fn kernel_version(rel: &str) -> Option<&str> {
    let rest = rel
        .strip_prefix("lib/modules/")
        .or_else(|| rel.strip_prefix("usr/lib/modules/"))?;
    let (kver, below) = rest.split_once('/')?;
    (!kver.is_empty() && !below.is_empty()).then_some(kver)
}

/// Read and check one package completely; nothing is written.
fn plan_package(root: &Path, path: &Path, m: &InstallerManifest) -> Result<PackagePlan> {
    let mut payload = Payload::open(path)?;
    let h = &payload.header;
    let text = |tag: u32| -> Result<String> {
        Ok(h.string(tag)?
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default())
    };
    let name = text(tag::main::NAME)?;
    if name.is_empty() {
        return Err(Error::corrupt(h.start(), "the package has no name"));
    }
    if h.has(tag::main::SOURCEPACKAGE) || !h.has(tag::main::SOURCERPM) {
        return Err(Error::invalid(
            "a source package cannot be installed into the installer root",
        ));
    }
    let evr = {
        let v = format!(
            "{}-{}",
            text(tag::main::VERSION)?,
            text(tag::main::RELEASE)?
        );
        match h.number(tag::main::EPOCH)? {
            Some(e) => format!("{e}:{v}"),
            None => v,
        }
    };
    let arch = text(tag::main::ARCH)?;
    let scriptlets = scriptlets(h)?;

    let mut files = Vec::with_capacity(payload.files.len());
    for f in &payload.files {
        let rel = normalize_name(f.path.trim_start_matches('/'))
            .map_err(|msg| Error::corrupt(h.start(), format!("file list: {msg}")))?;
        let kind = InstallerKind::of_mode(f.mode).ok_or_else(|| {
            Error::corrupt(
                h.start(),
                format!(
                    "file list: {} has unknown file type in mode {:o}",
                    f.path, f.mode
                ),
            )
        })?;
        let rel = if rel.is_empty() {
            rel
        } else {
            resolve_parents(root, &rel)?
        };
        if !rel.is_empty() {
            check_parents_on_disk(root, &rel)?;
            check_type_on_disk(root, &rel, kind, &f.path)?;
        }
        files.push(Planned {
            file: f.clone(),
            rel,
            kind,
        });
    }

    // The whole payload: every member a non-ghost file of the header, of its type.
    let mut seen = vec![false; files.len()];
    while let Some(e) = payload.next_entry()? {
        let f = &files[e.file];
        if f.file.mode & mode::S_IFMT != e.header.mode & mode::S_IFMT {
            return Err(Error::corrupt(
                e.offset,
                format!(
                    "member {} has mode {:o} but the header says {:o}",
                    f.file.path, e.header.mode, f.file.mode
                ),
            )
            .in_path(PAYLOAD));
        }
        seen[e.file] = true;
        let at = payload.position();
        io::copy(&mut payload.data(), &mut io::sink()).map_err(|err| {
            Error::corrupt(at, format!("{}: {err}", f.file.path)).in_path(PAYLOAD)
        })?;
    }
    if let Some(missing) = files
        .iter()
        .zip(&seen)
        .find(|(f, s)| !**s && !f.file.is_ghost())
    {
        return Err(Error::corrupt(
            payload.position(),
            format!(
                "the payload ends without {} (listed by the header)",
                missing.0.file.path
            ),
        )
        .in_path(PAYLOAD));
    }

    // The file as long as its signature header says (rpm refuses a short one);
    // after the payload, whose damage is told more precisely.
    crate::rpm::Package::open(path)?.check_size()?;

    // The rpmdb is read whenever it exists: it names the old version when xiso
    // did not install one, and the files other packages own, which stay.
    let db = rpmdb::packages(root)?;
    let resolved = |files: &[String]| -> Vec<String> {
        files
            .iter()
            .filter_map(|f| normalize_name(f.trim_start_matches('/')).ok())
            .filter(|rel| !rel.is_empty())
            .filter_map(|rel| resolve_parents(root, &rel).ok())
            .collect()
    };
    let old = match m.packages.iter().find(|p| p.name == name) {
        Some(p) => Some((p.evr.clone(), "xiso".to_string(), p.files.clone())),
        None => {
            let mut found: Option<(String, String, Vec<String>)> = None;
            for p in db.iter().filter(|p| p.name == name) {
                let files = resolved(&p.files);
                match &mut found {
                    Some(f) => f.2.extend(files),
                    None => found = Some((p.evr.clone(), p.source.to_string(), files)),
                }
            }
            found
        }
    };
    let protected: HashSet<String> = if old.is_some() {
        db.iter()
            .filter(|p| p.name != name)
            .flat_map(|p| resolved(&p.files))
            .collect()
    } else {
        HashSet::new()
    };
    Ok(PackagePlan {
        path: path.to_path_buf(),
        protected,
        name,
        evr,
        arch,
        files,
        scriptlets,
        old,
    })
}

/// The scriptlets of a header, by their spec-file names.
fn scriptlets(h: &crate::rpm::Header) -> Result<Vec<String>> {
    use tag::main as t;
    let mut out = Vec::new();
    for (script, prog, name) in [
        (t::PRETRANS, Some(t::PRETRANSPROG), "%pretrans"),
        (t::PREIN, Some(t::PREINPROG), "%pre"),
        (t::POSTIN, Some(t::POSTINPROG), "%post"),
        (t::PREUN, Some(t::PREUNPROG), "%preun"),
        (t::POSTUN, Some(t::POSTUNPROG), "%postun"),
        (t::POSTTRANS, Some(t::POSTTRANSPROG), "%posttrans"),
        (t::PREUNTRANS, None, "%preuntrans"),
        (t::POSTUNTRANS, None, "%postuntrans"),
        (t::VERIFYSCRIPT, None, "%verifyscript"),
    ] {
        if h.has(script) || prog.is_some_and(|p| h.has(p)) {
            out.push(name.to_string());
        }
    }
    for (tag, name) in [
        (t::TRIGGERSCRIPTS, "%trigger"),
        (t::FILETRIGGERSCRIPTS, "%filetrigger"),
        (t::TRANSFILETRIGGERSCRIPTS, "%transfiletrigger"),
    ] {
        if let Some(e) = h.entry(tag) {
            out.push(format!("{name} ({})", e.count));
        }
    }
    Ok(out)
}

/// Manifest bookkeeping while a package is written.
struct Recorder<'a> {
    m: &'a mut InstallerManifest,
    index: HashMap<String, usize>,
    next_ino: u32,
    dev: (u32, u32),
    dot_slash: bool,
}

impl<'a> Recorder<'a> {
    fn new(m: &'a mut InstallerManifest) -> Recorder<'a> {
        let index = m
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.path.clone(), i))
            .collect();
        let next_ino = m.entries.iter().map(|e| e.header.ino).max().unwrap_or(0);
        let dev = m.archive_dev();
        let dot_slash = m.uses_dot_slash();
        Recorder {
            m,
            index,
            next_ino,
            dev,
            dot_slash,
        }
    }

    fn fresh_ino(&mut self) -> u32 {
        self.next_ino = self.next_ino.wrapping_add(1).max(1);
        self.next_ino
    }

    /// Record `rel` with `header` (ino, dev filled in here) and mark it touched so
    /// `pack` writes it (also into an appended archive).
    fn record(&mut self, rel: &str, kind: InstallerKind, mut header: CpioHeader, ino: u32) {
        header.ino = ino;
        header.devmajor = self.dev.0;
        header.devminor = self.dev.1;
        let target = None;
        match self.index.get(rel).copied() {
            Some(i) => {
                let e = &mut self.m.entries[i];
                e.kind = kind;
                e.header = header;
                e.archive = 0;
                e.target = target;
                e.implicit = false;
            }
            None => {
                let name = if self.dot_slash {
                    format!("./{rel}")
                } else {
                    rel.to_string()
                };
                self.index.insert(rel.to_string(), self.m.entries.len());
                self.m.entries.push(InstallerEntry {
                    path: rel.to_string(),
                    name,
                    kind,
                    header,
                    archive: 0,
                    target,
                    implicit: false,
                    disk: None,
                    added: true,
                    offset: None,
                });
            }
        }
        self.m.overrides.remove(rel);
        self.m.touch(rel);
    }

    /// Refresh the on-disk state of the recorded paths.
    fn refresh(&mut self, root: &Path, paths: &[String]) -> Result<()> {
        for rel in paths {
            if let Some(&i) = self.index.get(rel) {
                let p = disk_path(root, rel);
                let md = fs::symlink_metadata(&p)
                    .map_err(|e| Error::io(e, "cannot stat").in_file(&p))?;
                self.m.entries[i].disk = Some(DiskState::of(&md));
            }
        }
        Ok(())
    }
}

/// Make the missing parents of `rel` (0755 root:root, as rpm's `fsmMkdirs`;
/// the time of the file that needs them).
fn make_parents(
    root: &Path,
    rel: &str,
    mtime: u32,
    rec: &mut Recorder,
    made: &mut Vec<String>,
) -> Result<()> {
    let comps: Vec<&str> = rel.split('/').collect();
    for n in 1..comps.len() {
        let prefix = comps[..n].join("/");
        let p = disk_path(root, &prefix);
        if fs::symlink_metadata(&p).is_ok() {
            continue;
        }
        fs::create_dir(&p).map_err(|e| Error::io(e, "cannot create").in_file(&p))?;
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io(e, "cannot set permissions").in_file(&p))?;
        let ino = rec.fresh_ino();
        rec.record(
            &prefix,
            InstallerKind::Dir,
            CpioHeader {
                mode: mode::S_IFDIR | 0o755,
                nlink: 2,
                mtime,
                ..CpioHeader::default()
            },
            ino,
        );
        made.push(prefix);
    }
    Ok(())
}

/// Whether two files hold the same bytes (`%config` files are small).
fn same_bytes(a: &Path, b: &Path) -> Result<bool> {
    let read = |p: &Path| fs::read(p).map_err(|e| Error::io(e, "cannot read").in_file(p));
    Ok(read(a)? == read(b)?)
}

/// Remove whatever is at `p` unless it is a directory.
fn remove_non_dir(p: &Path) -> Result<()> {
    match fs::symlink_metadata(p) {
        Ok(md) if !md.is_dir() => {
            fs::remove_file(p).map_err(|e| Error::io(e, "cannot replace").in_file(p))
        }
        _ => Ok(()),
    }
}

fn install(
    root: &Path,
    m: &mut InstallerManifest,
    plan: PackagePlan,
    opts: &InstallerRpmOptions,
    ids: &Ids,
    warnings: &mut Vec<String>,
) -> Result<InstallerRpm> {
    let mut out = InstallerRpm {
        file: plan.path.clone(),
        name: plan.name.clone(),
        evr: plan.evr.clone(),
        arch: plan.arch.clone(),
        scriptlets: plan.scriptlets.clone(),
        ..Default::default()
    };
    let mut payload = Payload::open(&plan.path)?;
    let mut rec = Recorder::new(m);
    let mut written: Vec<String> = Vec::new();
    // Hard-link sets: (dev, inode) -> (first path written, ino in the manifest, members).
    let mut links: HashMap<(u64, u64), (String, u32)> = HashMap::new();
    let mut link_count: HashMap<(u64, u64), u32> = HashMap::new();
    for f in &plan.files {
        if f.kind == InstallerKind::File && !f.file.is_ghost() {
            *link_count.entry(f.file.inode).or_default() += 1;
        }
    }
    for f in &plan.files {
        if f.file.is_ghost() {
            out.ghosts.push(f.rel.clone());
        }
    }
    let werr = |p: &Path| {
        let p = p.to_path_buf();
        move |e: io::Error| Error::io(e, "cannot write").in_file(&p)
    };
    while let Some(e) = payload.next_entry().map_err(|e| e.in_file(&plan.path))? {
        let f = &plan.files[e.file];
        if f.rel.is_empty() {
            continue; // the root directory itself: the image's own stays
        }
        make_parents(root, &f.rel, f.file.mtime, &mut rec, &mut written)?;
        let uid = lookup(&ids.users, &f.file.user, "user", &f.file.path, warnings);
        let gid = lookup(&ids.groups, &f.file.group, "group", &f.file.path, warnings);
        let mut header = CpioHeader {
            mode: f.file.mode,
            uid,
            gid,
            nlink: 1,
            mtime: f.file.mtime,
            ..CpioHeader::default()
        };
        let mut rel = f.rel.clone();
        let p = disk_path(root, &rel);
        match f.kind {
            InstallerKind::Dir => {
                match fs::symlink_metadata(&p) {
                    // A symlink to a directory stays, as rpm keeps it.
                    Ok(md) if md.file_type().is_symlink() => continue,
                    Ok(_) => {}
                    Err(_) => fs::create_dir(&p).map_err(werr(&p))?,
                }
                fs::set_permissions(
                    &p,
                    fs::Permissions::from_mode((f.file.mode & 0o7777) | 0o700),
                )
                .map_err(werr(&p))?;
                header.nlink = 2;
                let ino = rec.fresh_ino();
                rec.record(&rel, InstallerKind::Dir, header, ino);
            }
            InstallerKind::File => {
                let exists = fs::symlink_metadata(&p).is_ok_and(|md| md.is_file());
                let rpmnew = f.file.is_config() && exists && !opts.replace_config;
                if rpmnew {
                    rel = format!("{rel}.rpmnew");
                }
                let p = disk_path(root, &rel);
                let count = link_count.get(&f.file.inode).copied().unwrap_or(1);
                let linked = if count > 1 {
                    links.get(&f.file.inode).cloned()
                } else {
                    None
                };
                // A lone regular file is rewritten in place; anything else (a link
                // of a hard-link set, a symlink) is replaced by a new inode.
                let lone = fs::symlink_metadata(&p).is_ok_and(|md| md.is_file() && md.nlink() == 1);
                if linked.is_some() || !lone {
                    remove_non_dir(&p)?;
                }
                let ino = match &linked {
                    Some((first, ino)) => {
                        fs::hard_link(disk_path(root, first), &p).map_err(werr(&p))?;
                        *ino
                    }
                    None => {
                        let ino = rec.fresh_ino();
                        if count > 1 {
                            links.insert(f.file.inode, (rel.clone(), ino));
                        }
                        ino
                    }
                };
                if linked.is_none() || e.header.filesize > 0 {
                    let mut file = fs::OpenOptions::new()
                        .write(true)
                        .create(true)
                        .truncate(true)
                        .open(&p)
                        .map_err(werr(&p))?;
                    let at = payload.position();
                    io::copy(&mut payload.data(), &mut file).map_err(|err| {
                        Error::corrupt(at, format!("{}: {err}", f.file.path))
                            .in_path(PAYLOAD)
                            .in_file(&plan.path)
                    })?;
                    file.set_permissions(fs::Permissions::from_mode(
                        (f.file.mode & 0o7777) | 0o600,
                    ))
                    .map_err(werr(&p))?;
                    crate::fs::set_mtime(&file, Some(i64::from(f.file.mtime)));
                }
                if rpmnew {
                    // rpm writes no .rpmnew when the kept file is the same.
                    let kept = disk_path(root, &f.rel);
                    if count == 1 && same_bytes(&p, &kept)? {
                        fs::remove_file(&p).map_err(werr(&p))?;
                        rel = f.rel.clone();
                    } else {
                        out.rpmnew.push(f.rel.clone());
                    }
                }
                header.nlink = count;
                rec.record(&rel, InstallerKind::File, header, ino);
            }
            InstallerKind::Symlink => {
                let data = payload
                    .link_target(e.offset)
                    .map_err(|e| e.in_file(&plan.path))?;
                let target = if f.file.link_to.is_empty() {
                    data
                } else {
                    f.file.link_to.clone()
                };
                remove_non_dir(&p)?;
                symlink(&target, &p).map_err(werr(&p))?;
                header.mode = mode::S_IFLNK | (f.file.mode & 0o7777);
                let ino = rec.fresh_ino();
                rec.record(&rel, InstallerKind::Symlink, header, ino);
                let i = rec.index[&rel];
                rec.m.entries[i].target = Some(target);
            }
            kind => {
                // Device nodes, FIFOs, sockets: a placeholder; `pack` makes the node.
                remove_non_dir(&p)?;
                fs::File::create(&p).map_err(werr(&p))?;
                header.rdevmajor = e.header.rdevmajor;
                header.rdevminor = e.header.rdevminor;
                let ino = rec.fresh_ino();
                rec.record(&rel, kind, header, ino);
            }
        }
        written.push(rel);
    }
    out.written = written.len();

    // The replaced version: its files the new one does not own go away.
    let new_files: Vec<String> = plan
        .files
        .iter()
        .filter(|f| !f.rel.is_empty())
        .map(|f| f.rel.clone())
        .collect();
    if let Some((old_evr, source, old_files)) = &plan.old {
        out.replaced = Some(old_evr.clone());
        out.replaced_from = Some(source.clone());
        let keep: HashSet<&str> = new_files.iter().map(String::as_str).collect();
        let others: HashSet<&str> = rec
            .m
            .packages
            .iter()
            .filter(|p| p.name != plan.name)
            .flat_map(|p| p.files.iter().map(String::as_str))
            .chain(plan.protected.iter().map(String::as_str))
            .collect();
        let mut gone: Vec<&String> = old_files
            .iter()
            .filter(|f| !keep.contains(f.as_str()) && !others.contains(f.as_str()))
            .collect();
        // Deepest first, so directories are empty when their turn comes.
        gone.sort_by(|a, b| b.cmp(a));
        gone.dedup();
        let mut removed = Vec::new();
        for rel in gone {
            if check_parents_on_disk(root, rel).is_err() {
                continue;
            }
            let p = disk_path(root, rel);
            let r = match fs::symlink_metadata(&p) {
                Ok(md) if md.is_dir() => fs::remove_dir(&p),
                Ok(_) => fs::remove_file(&p),
                Err(_) => continue,
            };
            if r.is_ok() {
                removed.push(rel.clone());
            }
        }
        let gone: HashSet<&str> = removed.iter().map(String::as_str).collect();
        let m = &mut *rec.m;
        m.entries
            .retain(|e| !(e.added && gone.contains(e.path.as_str())));
        m.touched.retain(|t| !gone.contains(t.as_str()));
        m.overrides.retain(|t, _| !gone.contains(t.as_str()));
        removed.sort();
        out.removed = removed;
    }
    let mut rec = Recorder::new(m);
    rec.refresh(root, &written)?;
    m.packages.retain(|p| p.name != plan.name);
    m.packages.push(InstalledPackage {
        name: plan.name,
        evr: plan.evr,
        arch: plan.arch,
        files: new_files,
        scriptlets: plan.scriptlets,
    });
    Ok(out)
}

/// Keep the list of installed packages inside the installer root too
/// ([`super::installer::INSTALLED_RECORD`]), so it travels with install.img.
fn write_installed_record(root: &Path, m: &InstallerManifest) -> Result<()> {
    let p = root.join(super::installer::INSTALLED_RECORD);
    let parent = p.parent().unwrap_or(root);
    let rel_parent = parent.strip_prefix(root).unwrap_or(parent);
    check_parents_on_disk(root, &format!("{}/x", rel_parent.display()))?;
    fs::create_dir_all(parent).map_err(|e| Error::io(e, "cannot create").in_file(parent))?;
    let json = serde_json::to_vec_pretty(&m.packages)
        .map_err(|e| Error::invalid(format!("cannot serialize the package record: {e}")))?;
    let mut staged = crate::fs::StagedFile::new(&p)?;
    staged.write_all_synced(&json, None)?;
    staged.commit()
}
