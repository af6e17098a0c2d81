//! Extract `install.img` into `DIR/installer/` as an ordinary user.
//!
//! The archive is decoded as a stream (bounded buffers; a decompression bomb is
//! stopped by [`MAX_EXPANDED_DEFAULT`]) and every entry is checked before anything is
//! written: no absolute names, no `..`, no path through a symlink or a file. Later
//! entries with the same name replace earlier ones, as in the kernel.

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufReader, Read};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use super::installer::{
    check_parents_on_disk, disk_path, normalize_name, DiskState, InstallerEntry, InstallerKind,
    InstallerManifest, INSTALLER_VERSION,
};
use crate::error::{Error, Result};
use crate::initrd::bz2index::IndexedDecoder;
use crate::initrd::cpio::{mode, CpioHeader, CpioReader, MAX_LINK_TARGET};
use crate::initrd::stream::{decoder, Compression};
use crate::initrd::{detect, Codec};

/// Default cap on the uncompressed size of install.img (a real one is ~400 MB).
pub(crate) const MAX_EXPANDED_DEFAULT: u64 = 16 << 30;

/// What `extract_installer` did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct InstallerReport {
    /// Path of the image in the ISO tree.
    pub image: String,
    /// Its compression.
    pub compression: String,
    /// Entries in the archive (after later duplicates replaced earlier ones).
    pub entries: usize,
    /// Bytes of file data written.
    pub bytes: u64,
    /// Placeholders for device nodes, FIFOs and sockets.
    pub placeholders: usize,
    /// Concatenated archives found.
    pub archives: u32,
}

/// The manifest of an install.img that is not unpacked
/// ([`InstallerManifest::append_only`]): its codec from the image's first bytes
/// `head`, and `image_disk` the state of the tree's file. `None` for a codec xiso
/// cannot write (nothing can be appended to such an image).
pub(crate) fn append_only_manifest(
    head: &[u8],
    tree_path: &str,
    image_disk: DiskState,
) -> Option<InstallerManifest> {
    let mut m = empty_manifest(head, tree_path, image_disk).ok()?;
    m.append_only = true;
    Some(m)
}

/// The manifest of `tree_path` before any entry: the codec from the image's
/// first bytes `head` (an error naming it when xiso cannot write it), no entries.
fn empty_manifest(
    head: &[u8],
    tree_path: &str,
    image_disk: DiskState,
) -> Result<InstallerManifest> {
    let codec = detect(head);
    let compression = Compression::of(codec).ok_or_else(|| {
        Error::unsupported(format!(
            "install.img compression {} cannot be unpacked (xiso reads gzip, bzip2, xz, zstd and plain cpio)",
            codec.name()
        ))
    })?;
    let level = match codec {
        Codec::Bzip2 { level } => u32::from(level),
        _ => compression.default_level(),
    };
    Ok(InstallerManifest {
        format: "xiso-installer".into(),
        version: INSTALLER_VERSION,
        image: tree_path.to_string(),
        compression,
        level,
        archives: 0,
        cpio_bytes: 0,
        image_disk,
        entries: Vec::new(),
        overrides: Default::default(),
        touched: Default::default(),
        packages: Vec::new(),
        bz2_index: None,
        append_only: false,
    })
}

/// Extract `image` (the install.img file, `tree_path` its path in the ISO tree) into
/// `root`, which must not exist yet. Returns the manifest to save.
pub(crate) fn extract_installer(
    image: &Path,
    tree_path: &str,
    root: &Path,
    max_expanded: u64,
    origin: &Path,
) -> Result<(InstallerManifest, InstallerReport)> {
    // Errors about the archive name the ISO (`origin`) and the image's path in it.
    let ctx = |e: Error| e.in_file(origin).in_path(tree_path);
    let mut file = fs::File::open(image)
        .map_err(|e| Error::io(e, "cannot open install.img").in_file(image))?;
    let mut head = [0u8; crate::initrd::codec::DETECT_LEN];
    let n =
        read_full(&mut file, &mut head).map_err(|e| Error::io(e, "cannot read").in_file(image))?;
    let codec = detect(&head[..n]);
    let file = fs::File::open(image)
        .map_err(|e| Error::io(e, "cannot open install.img").in_file(image))?;
    let image_disk = DiskState::of(
        &file
            .metadata()
            .map_err(|e| Error::io(e, "cannot stat").in_file(image))?,
    );
    let mut m = empty_manifest(&head[..n], tree_path, image_disk).map_err(ctx)?;
    let compression = m.compression;
    // A single-stream bzip2 image is decoded by blocks we can name, so that pack can
    // copy the unchanged ones; anything else (and a multi-stream bzip2) the usual way.
    let mut bz2_index = None;
    let indexed = match codec {
        Codec::Bzip2 { .. } => {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let copy = file
                .try_clone()
                .map_err(|e| Error::io(e, "cannot open install.img").in_file(image))?;
            IndexedDecoder::start(copy, threads)
                .map_err(|e| Error::io(e, "cannot read install.img").in_file(image))?
        }
        _ => None,
    };
    let stream: Box<dyn Read + Send> = match indexed {
        Some(d) => {
            bz2_index = Some(d.index());
            Box::new(d)
        }
        None => decoder(codec, Box::new(BufReader::with_capacity(1 << 20, file))).map_err(ctx)?,
    };
    let stream = Labelled {
        inner: stream,
        codec: compression.name(),
    };
    let mut reader = CpioReader::new(BufReader::with_capacity(1 << 20, stream));
    fs::create_dir(root).map_err(|e| Error::io(e, "cannot create").in_file(root))?;

    let mut report = InstallerReport {
        image: tree_path.to_string(),
        compression: compression.name().into(),
        ..Default::default()
    };
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut links: HashMap<(u32, u32, u32, u32), String> = HashMap::new();
    let mut expanded: u64 = 0;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        crate::cleanup::check_interrupted()?;
        let entry = reader.next_entry().map_err(ctx)?;
        let Some(e) = entry else { break };
        let at = e.offset;
        let bad = |msg: String| {
            ctx(Error::corrupt(
                at,
                format!("{msg} (offset in the decompressed cpio stream)"),
            ))
        };
        let name = String::from_utf8(e.name.clone()).map_err(|_| {
            ctx(Error::unsupported(format!(
                "entry name {:?} is not UTF-8 (offset {at} in the decompressed cpio stream)",
                String::from_utf8_lossy(&e.name)
            )))
        })?;
        let path = normalize_name(&name).map_err(|m| bad(format!("unsafe entry: {m}")))?;
        let kind = InstallerKind::of_mode(e.header.mode).ok_or_else(|| {
            bad(format!(
                "{name}: unknown file type in mode {:o}",
                e.header.mode
            ))
        })?;
        expanded = expanded.saturating_add(u64::from(e.header.filesize));
        if expanded > max_expanded {
            return Err(bad(format!(
                "install.img expands beyond {max_expanded} bytes: refusing (decompression bomb?)"
            )));
        }
        // Every parent must be a directory the archive made (or one we make for it).
        ensure_parents(&path, &mut m, &mut index, root, e.archive).map_err(&bad)?;
        let dest = disk_path(root, &path);
        check_parents_on_disk(root, &path).map_err(ctx)?;

        let mut record = InstallerEntry {
            path: path.clone(),
            name: name.clone(),
            kind,
            header: e.header,
            archive: e.archive,
            target: None,
            implicit: false,
            disk: None,
            added: false,
            offset: Some(at),
        };
        let existing = index.get(&path).copied();
        if let Some(i) = existing {
            let old = &m.entries[i];
            if !(old.kind == InstallerKind::Dir && kind == InstallerKind::Dir) {
                remove_for_replace(&dest, old.kind).map_err(|msg| bad(format!("{name}: {msg}")))?;
            }
        }
        let werr = |err: io::Error| Error::io(err, "cannot write").in_file(&dest);
        match kind {
            InstallerKind::Dir if path.is_empty() => {}
            InstallerKind::Dir => match fs::create_dir(&dest) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists && dest.is_dir() => {}
                Err(err) => return Err(werr(err)),
            },
            InstallerKind::File => {
                let key = record.link_key();
                let linked = key.and_then(|k| links.get(&k)).cloned();
                let mut f = match linked {
                    Some(first) => {
                        fs::hard_link(disk_path(root, &first), &dest).map_err(werr)?;
                        fs::OpenOptions::new()
                            .write(true)
                            .truncate(e.header.filesize > 0)
                            .open(&dest)
                            .map_err(werr)?
                    }
                    None => {
                        if let Some(k) = key {
                            links.insert(k, path.clone());
                        }
                        fs::File::create(&dest).map_err(werr)?
                    }
                };
                copy_data(&mut reader, &mut f, &mut buf).map_err(|err| match err {
                    CopyError::Read(err) => bad(format!("{name}: {err}")),
                    CopyError::Write(err) => werr(err),
                })?;
                report.bytes += u64::from(e.header.filesize);
                f.set_permissions(fs::Permissions::from_mode((e.header.mode & 0o7777) | 0o600))
                    .map_err(werr)?;
                crate::fs::set_mtime(&f, Some(i64::from(e.header.mtime)));
            }
            InstallerKind::Symlink => {
                let data = reader
                    .read_data(MAX_LINK_TARGET)
                    .map_err(|err| ctx(err.at(at)))?;
                let target = String::from_utf8(data)
                    .map_err(|_| bad(format!("{name}: symlink target is not UTF-8")))?;
                symlink(&target, &dest).map_err(werr)?;
                record.target = Some(target);
            }
            _ => {
                // A placeholder: the manifest recreates the node at pack time.
                fs::File::create(&dest).map_err(werr)?;
                report.placeholders += 1;
            }
        }
        match existing {
            Some(i) => {
                m.entries[i] = record;
                if kind != InstallerKind::File {
                    // A replaced hard-link member can no longer be linked to.
                    links.retain(|_, p| p != &path);
                }
            }
            None => {
                index.insert(path, m.entries.len());
                m.entries.push(record);
            }
        }
        if e.archive + 1 > m.archives {
            m.archives = e.archive + 1;
        }
    }
    m.cpio_bytes = reader.position();
    drop(reader);
    m.bz2_index = bz2_index.and_then(|slot| slot.lock().ok().and_then(|mut i| i.take()));
    finish_disk(root, &mut m)?;
    report.entries = m.entries.iter().filter(|e| !e.implicit).count();
    report.archives = m.archives;
    // Packages an earlier `add-rpm --installer` put in this image (its record travels
    // inside the installer root), so a later one can replace them.
    if let Some(packages) = super::installer::read_installed_record(root) {
        m.packages = packages;
    }
    Ok((m, report))
}

/// Says which codec failed: a decoder error reaches the user through the cpio reader.
struct Labelled<R> {
    inner: R,
    codec: &'static str,
}

impl<R: Read> Read for Labelled<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "{} data is damaged (the offset counts decompressed bytes): {e}",
                    self.codec
                ),
            )
        })
    }
}

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

fn copy_data<R: Read>(
    reader: &mut CpioReader<R>,
    out: &mut fs::File,
    buf: &mut [u8],
) -> std::result::Result<(), CopyError> {
    use std::io::Write;
    let mut data = reader.data();
    loop {
        let n = match data.read(buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        out.write_all(&buf[..n]).map_err(CopyError::Write)?;
    }
}

/// Make sure every parent of `path` is a directory entry, creating implicit ones
/// (on disk only) for parents the archive did not list.
fn ensure_parents(
    path: &str,
    m: &mut InstallerManifest,
    index: &mut HashMap<String, usize>,
    root: &Path,
    archive: u32,
) -> std::result::Result<(), String> {
    let mut prefix = String::new();
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    for c in comps.iter().take(comps.len().saturating_sub(1)) {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(c);
        match index.get(prefix.as_str()).map(|&i| m.entries[i].kind) {
            Some(InstallerKind::Dir) => {}
            Some(InstallerKind::Symlink) => {
                return Err(format!(
                    "unsafe entry: {path:?} goes through the symlink {prefix:?}"
                ))
            }
            Some(_) => return Err(format!("{path:?}: parent {prefix:?} is not a directory")),
            None => {
                let dest = root.join(&prefix);
                fs::create_dir(&dest).map_err(|e| format!("cannot create {prefix}: {e}"))?;
                index.insert(prefix.clone(), m.entries.len());
                m.entries.push(InstallerEntry {
                    path: prefix.clone(),
                    name: prefix.clone(),
                    kind: InstallerKind::Dir,
                    header: CpioHeader {
                        mode: mode::S_IFDIR | 0o755,
                        nlink: 2,
                        ..CpioHeader::default()
                    },
                    archive,
                    target: None,
                    implicit: true,
                    disk: None,
                    added: false,
                    offset: None,
                });
            }
        }
    }
    Ok(())
}

/// Remove what an earlier entry put at `dest` before a later entry replaces it.
fn remove_for_replace(dest: &Path, old: InstallerKind) -> std::result::Result<(), String> {
    let r = if old == InstallerKind::Dir {
        fs::remove_dir(dest)
    } else {
        fs::remove_file(dest)
    };
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) if old == InstallerKind::Dir => Err(format!(
            "a later entry replaces a non-empty directory with another type ({e})"
        )),
        Err(e) => Err(format!("cannot replace the earlier entry: {e}")),
    }
}

/// Directory modes and times (deepest first, so setting a parent's time last sticks),
/// then the state of every entry on disk.
fn finish_disk(root: &Path, m: &mut InstallerManifest) -> Result<()> {
    let mut dirs: Vec<usize> = (0..m.entries.len())
        .filter(|&i| m.entries[i].kind == InstallerKind::Dir)
        .collect();
    dirs.sort_by_key(|&i| {
        std::cmp::Reverse(
            m.entries[i].path.matches('/').count() + usize::from(!m.entries[i].path.is_empty()),
        )
    });
    for i in dirs {
        let e = &m.entries[i];
        let p = disk_path(root, &e.path);
        let perm = (e.header.mode & 0o7777) | 0o700;
        fs::set_permissions(&p, fs::Permissions::from_mode(perm))
            .map_err(|err| Error::io(err, "cannot set permissions").in_file(&p))?;
        if !e.implicit {
            if let Ok(f) = fs::File::open(&p) {
                crate::fs::set_mtime(&f, Some(i64::from(e.header.mtime)));
            }
        }
    }
    for e in &mut m.entries {
        let p = disk_path(root, &e.path);
        let md =
            fs::symlink_metadata(&p).map_err(|err| Error::io(err, "cannot stat").in_file(&p))?;
        e.disk = Some(DiskState::of(&md));
    }
    Ok(())
}
