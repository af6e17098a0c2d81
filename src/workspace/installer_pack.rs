//! Turn `DIR/installer/` back into `install.img`: notice what changed since unpack,
//! then either rebuild the whole archive (source order and metadata, new entries
//! after) or append one archive of the changes (`--installer-append`).
//!
//! A rebuild of a bzip2 image at the source's level copies the source's unchanged
//! bzip2 blocks bit for bit and compresses only the bytes around the edits
//! ([`crate::initrd::bz2splice`], with the block index unpack recorded): the result is
//! still one standard stream, and it decompresses to the same cpio as a full rebuild.
//!
//! The kernel's initramfs unpacker (`init/initramfs.c`) reads one or more cpio
//! archives, each optionally compressed, one after the other; later entries replace
//! earlier ones. A rebuilt image is ONE compressed stream holding ONE archive; an
//! appended image is the source bytes followed by one more compressed archive.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::installer::{disk_path, DiskState, InstallerKind, InstallerManifest, INSTALLER_DIR};
use crate::error::{Error, Result};
use crate::initrd::bz2splice::{Bz2Index, SpliceEncoder, Spliced};
use crate::initrd::cpio::{mode, CpioHeader, CpioWriter};
use crate::initrd::stream::{CompressSettings, Compression, Encoder};

/// How to write install.img when the installer root changed.
#[derive(Debug, Clone, Default)]
pub struct InstallerPackOptions {
    /// Compression for a rebuilt image (default: the source's).
    pub compress: Option<Compression>,
    /// Compression level (default: the source's bzip2 block size, else xiso's default).
    pub level: Option<u32>,
    /// Append one archive with the changes instead of rebuilding.
    pub append: bool,
    /// Fixed time for changed and new entries (SOURCE_DATE_EPOCH); else their mtime.
    pub date: Option<i64>,
}

/// What happened to install.img.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct InstallerPackReport {
    /// `copied` (nothing changed), `rebuilt` or `appended`.
    pub action: String,
    /// Compression of the written image.
    pub compression: String,
    /// Entries whose content or metadata changed.
    pub changed: Vec<String>,
    /// New entries.
    pub added: Vec<String>,
    /// Deleted entries.
    pub removed: Vec<String>,
    /// Entries in the written archive.
    pub entries: usize,
    /// Size of the written image.
    pub bytes: u64,
    /// bzip2 blocks copied unchanged from the source image.
    #[serde(skip_serializing_if = "is_zero")]
    pub reused_blocks: usize,
    /// bzip2 blocks compressed anew when the other blocks were copied.
    #[serde(skip_serializing_if = "is_zero")]
    pub compressed_blocks: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The state of one manifest entry in the workspace now.
#[derive(Debug, Clone)]
enum Status {
    Unchanged,
    /// Content, type or metadata differ.
    Changed,
    Removed,
}

/// A path on disk the manifest does not know.
#[derive(Debug, Clone)]
struct NewEntry {
    path: String,
    md: fs::Metadata,
}

/// What differs between the workspace and the manifest.
pub(crate) struct InstallerChanges {
    status: Vec<Status>,
    disk: Vec<Option<fs::Metadata>>,
    new: Vec<NewEntry>,
}

impl InstallerChanges {
    /// Whether anything changed.
    pub(crate) fn any(&self) -> bool {
        !self.new.is_empty() || self.status.iter().any(|s| !matches!(s, Status::Unchanged))
    }
}

fn kind_matches(kind: InstallerKind, md: &fs::Metadata) -> bool {
    let ft = md.file_type();
    match kind {
        InstallerKind::File => ft.is_file(),
        InstallerKind::Dir => ft.is_dir(),
        InstallerKind::Symlink => ft.is_symlink(),
        // Placeholders are regular files on disk.
        _ => ft.is_file(),
    }
}

/// Compare the workspace's installer root with its manifest.
pub(crate) fn scan_installer(dir: &Path, m: &InstallerManifest) -> Result<InstallerChanges> {
    let root = dir.join(INSTALLER_DIR);
    let mut status = Vec::with_capacity(m.entries.len());
    let mut disk = Vec::with_capacity(m.entries.len());
    for e in &m.entries {
        let p = disk_path(&root, &e.path);
        let md = match fs::symlink_metadata(&p) {
            Ok(md) => md,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                status.push(if e.implicit {
                    Status::Unchanged
                } else {
                    Status::Removed
                });
                disk.push(None);
                continue;
            }
            Err(err) => return Err(Error::io(err, "cannot stat").in_file(&p)),
        };
        let now = DiskState::of(&md);
        let changed = !kind_matches(e.kind, &md)
            || m.touched.contains(&e.path)
            || m.overrides.contains_key(&e.path)
            || match e.disk {
                None => true,
                Some(then) => {
                    then.perm != now.perm
                        || match e.kind {
                            InstallerKind::File => !then.same_content(&now),
                            InstallerKind::Symlink => {
                                fs::read_link(&p)
                                    .ok()
                                    .and_then(|t| t.into_os_string().into_string().ok())
                                    != e.target
                            }
                            _ => false,
                        }
                }
            };
        status.push(if changed && !e.implicit {
            Status::Changed
        } else {
            Status::Unchanged
        });
        disk.push(Some(md));
    }
    let known: HashSet<&str> = m.entries.iter().map(|e| e.path.as_str()).collect();
    let mut new = Vec::new();
    walk_new(&root, "", &known, &mut new)?;
    Ok(InstallerChanges { status, disk, new })
}

/// Paths under `root/rel` that the manifest does not list, parents first, sorted.
fn walk_new(root: &Path, rel: &str, known: &HashSet<&str>, out: &mut Vec<NewEntry>) -> Result<()> {
    let abs = disk_path(root, rel);
    let rd = fs::read_dir(&abs).map_err(|e| Error::io(e, "cannot read directory").in_file(&abs))?;
    let mut names = Vec::new();
    for d in rd {
        let d = d.map_err(|e| Error::io(e, "cannot read directory").in_file(&abs))?;
        let name = d.file_name().into_string().map_err(|n| {
            Error::unsupported(format!("file name {n:?} is not UTF-8")).in_file(&abs)
        })?;
        // The type from the directory listing (no stat for the thousands of known
        // paths); stat only where the file system does not say.
        let is_dir = match d.file_type() {
            Ok(t) => Some(t.is_dir()),
            Err(_) => None,
        };
        names.push((name, is_dir));
    }
    names.sort();
    for (name, is_dir) in names {
        let child = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let p = root.join(&child);
        let stat = || fs::symlink_metadata(&p).map_err(|e| Error::io(e, "cannot stat").in_file(&p));
        let is_dir = if known.contains(child.as_str()) {
            match is_dir {
                Some(d) => d,
                None => stat()?.is_dir(),
            }
        } else {
            let md = stat()?;
            let dir = md.is_dir();
            out.push(NewEntry {
                path: child.clone(),
                md,
            });
            dir
        };
        if is_dir {
            walk_new(root, &child, known, out)?;
        }
    }
    Ok(())
}

/// Build the new install.img into `out` (a fresh file). `original` is the unchanged
/// image. When appending, `out` receives only the bytes that follow `original`'s
/// (padding and the new archive) and the report's `bytes` counts both. When the
/// rebuild copies the source's bzip2 blocks, `out` receives only the blocks
/// compressed anew, and the image is the returned [`SplicedImage`], which must be
/// written from `original` and `out` while both stay as they are. Returns the
/// report; `out` is left at its end.
pub(crate) fn write_installer(
    dir: &Path,
    m: &InstallerManifest,
    changes: &InstallerChanges,
    opts: &InstallerPackOptions,
    original: &Path,
    out: &mut fs::File,
) -> Result<(InstallerPackReport, Option<SplicedImage>)> {
    let root = dir.join(INSTALLER_DIR);
    let mut report = InstallerPackReport {
        action: if opts.append { "appended" } else { "rebuilt" }.into(),
        ..Default::default()
    };
    for (e, s) in m.entries.iter().zip(&changes.status) {
        match s {
            Status::Changed => report.changed.push(e.path.clone()),
            Status::Removed => report.removed.push(e.path.clone()),
            Status::Unchanged => {}
        }
    }
    report.added = changes.new.iter().map(|n| n.path.clone()).collect();

    let compression = opts.compress.unwrap_or(m.compression);
    if opts.append {
        if !report.removed.is_empty() {
            let list: Vec<&str> = report.removed.iter().take(5).map(String::as_str).collect();
            return Err(Error::invalid(format!(
                "--installer-append cannot delete files, and {} entr{} of install.img {} removed ({}{}); pack without --installer-append to rebuild the image",
                report.removed.len(),
                if report.removed.len() == 1 { "y" } else { "ies" },
                if report.removed.len() == 1 { "was" } else { "were" },
                list.join(", "),
                if report.removed.len() > 5 { ", …" } else { "" }
            ))
            .in_file(&root));
        }
        if compression != m.compression {
            return Err(Error::invalid(format!(
                "--installer-append keeps the source's compression ({}); --compress {} needs a rebuild",
                m.compression.name(),
                compression.name()
            )));
        }
    }
    let level = match (opts.level, opts.compress) {
        (Some(l), _) => Some(l),
        (None, Some(c)) if c != m.compression => None,
        (None, _) => Some(m.level),
    };
    let settings = CompressSettings::new(compression, level)?;
    report.compression = compression.name().into();

    let werr = |e: io::Error| Error::io(e, "cannot write the new install.img");
    // Appending: `out` gets only what follows the source image's bytes, which the
    // ISO writer copies from where they are (see [`write_installer`]).
    let mut head = 0;
    if opts.append {
        head = fs::metadata(original)
            .map_err(|e| Error::io(e, "cannot read install.img").in_file(original))?
            .len();
        out.write_all(append_padding(compression, head))
            .map_err(werr)?;
    }
    let sink = BufWriter::with_capacity(1 << 20, out.try_clone().map_err(werr)?);
    let plan = Plan::new(m, changes, &root, opts)?;
    let mut spliced = None;
    let mut sink = match splice_source(m, &settings, opts, original) {
        Some((index, source)) => {
            // The same codec and level as the source: copy its unchanged blocks.
            // `out` gets only the blocks compressed anew; the image is made from
            // them and the source's blocks when the ISO is written.
            let encoder = SpliceEncoder::new(sink, index, settings.threads).map_err(werr)?;
            let mut cpio = CpioWriter::new(encoder);
            report.entries = write_items_spliced(&mut cpio, &plan)?;
            let encoder = cpio.finish().map_err(werr)?;
            let (stream, sink, stats) = encoder.finish().map_err(werr)?;
            report.reused_blocks = stats.reused;
            report.compressed_blocks = stats.compressed;
            report.bytes = stream.len();
            spliced = Some(SplicedImage {
                stream,
                old: source,
                fresh: out.try_clone().map_err(werr)?,
            });
            sink
        }
        None => {
            let mut cpio = CpioWriter::new(Encoder::new(&settings, sink)?);
            report.entries = write_items(&mut cpio, &plan)?;
            let encoder = cpio.finish().map_err(werr)?;
            encoder.finish().map_err(werr)?
        }
    };
    sink.flush().map_err(werr)?;
    drop(sink);
    if spliced.is_none() {
        report.bytes = head + out.metadata().map_err(werr)?.len();
    }
    Ok((report, spliced))
}

/// A rebuilt bzip2 install.img that copies the source's blocks, made while the ISO
/// is written (no copy of it on disk): the source image and the fresh blocks are
/// read then.
#[derive(Debug)]
pub(crate) struct SplicedImage {
    stream: Spliced,
    old: fs::File,
    fresh: fs::File,
}

impl crate::iso::write::Generate for SplicedImage {
    fn len(&self) -> u64 {
        self.stream.len()
    }

    fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        self.stream.write_to(&self.old, &self.fresh, out)
    }
}

/// What goes between an image of `len` bytes and an archive appended to it. The
/// kernel needs an uncompressed archive 4-byte aligned (it skips the NULs before
/// it); a compressed one may start anywhere, and no padding keeps `bunzip2`/`gzip -d`
/// (which take NULs for garbage) reading both streams.
pub(crate) fn append_padding(compression: Compression, len: u64) -> &'static [u8] {
    if compression == Compression::None {
        &[0u8; 3][..((4 - len % 4) % 4) as usize]
    } else {
        &[]
    }
}

/// The source image and its block index, when a rebuild may copy its unchanged
/// bzip2 blocks: bzip2 in and out at the same level, an index made at unpack, and
/// the image still the one that was unpacked.
fn splice_source<'a>(
    m: &'a InstallerManifest,
    settings: &CompressSettings,
    opts: &InstallerPackOptions,
    original: &Path,
) -> Option<(&'a Bz2Index, fs::File)> {
    let index = m.bz2_index.as_ref()?;
    let same_codec = settings.compression == Compression::Bzip2
        && m.compression == Compression::Bzip2
        && settings.level == m.level
        && u32::from(index.level) == m.level;
    if opts.append || !same_codec {
        return None;
    }
    let source = fs::File::open(original).ok()?;
    let md = source.metadata().ok()?;
    (md.len() == index.image_bytes && DiskState::of(&md).same_content(&m.image_disk))
        .then_some((index, source))
}

/// Write the plan's entries. Returns how many entries were written.
fn write_items<W: Write>(cpio: &mut CpioWriter<W>, plan: &Plan) -> Result<usize> {
    for item in &plan.items {
        write_item(cpio, item)?;
    }
    Ok(plan.items.len())
}

fn write_item<W: Write>(cpio: &mut CpioWriter<W>, item: &Item) -> Result<()> {
    crate::cleanup::check_interrupted()?;
    let h = &item.header;
    let name = item.name.as_bytes();
    let result = match &item.data {
        Data::None => cpio.write_entry(name, h, &mut io::empty()),
        Data::Bytes(b) => cpio.write_entry(name, h, &mut &b[..]),
        Data::File(p) => {
            let mut f = fs::File::open(p).map_err(|e| Error::io(e, "cannot read").in_file(p))?;
            cpio.write_entry(name, h, &mut f)
        }
    };
    result.map_err(|e| match &item.data {
        Data::File(p) => Error::io(e, "cannot add to install.img").in_file(p),
        _ => Error::io(e, "cannot write the new install.img"),
    })
}

/// [`write_items`] into a splice encoder. A run of entries that are unchanged
/// since unpack (their size, mtime and mode as recorded, the same header) and that
/// followed each other in the source is the source stream's bytes: the old bzip2
/// blocks lying wholly inside it are copied without reading those files, and only
/// the bytes at the run's two ends, which share a block with other entries, are
/// read and compressed (the same size-and-mtime trust as `scan_installer`'s).
fn write_items_spliced<W: Write>(
    cpio: &mut CpioWriter<SpliceEncoder<'_, W>>,
    plan: &Plan,
) -> Result<usize> {
    let items = &plan.items;
    let mut i = 0;
    while i < items.len() {
        let Some(old) = items[i].old else {
            cpio.get_mut().fresh();
            write_item(cpio, &items[i])?;
            i += 1;
            continue;
        };
        let mut len = 0u64;
        let mut j = i;
        while j < items.len() && items[j].old == old.checked_add(len) {
            let it = &items[j];
            len += CpioWriter::<W>::entry_len(it.name.as_bytes(), &it.header);
            j += 1;
        }
        write_trusted_run(cpio, &items[i..j], old, len)?;
        i = j;
    }
    Ok(items.len())
}

/// One run of [`write_items_spliced`]: `items` are the source stream's `len` bytes
/// from `old`.
fn write_trusted_run<W: Write>(
    cpio: &mut CpioWriter<SpliceEncoder<'_, W>>,
    items: &[Item],
    old: u64,
    len: u64,
) -> Result<()> {
    let werr = |e: io::Error| Error::io(e, "cannot write the new install.img");
    let enc = cpio.get_mut();
    enc.expect_old(old);
    let (head, skip) = enc.trusted_run(old, len);
    let tail = head + skip;
    // Past `head`: whether the old blocks up to `tail` are copied unread (decided
    // once `head` is written and has proved the offsets right), or all is written.
    let mut skipping = (skip == 0).then_some(false);
    let mut buf = Vec::new();
    let mut at = 0u64; // run offset of the current piece
    for item in items {
        crate::cleanup::check_interrupted()?;
        let hdr =
            CpioWriter::<W>::header_bytes(item.name.as_bytes(), &item.header).map_err(werr)?;
        let size = u64::from(item.header.filesize);
        let pad = (4 - size % 4) % 4;
        let pieces = [
            (hdr.len() as u64, Piece::Bytes(&hdr)),
            (size, Piece::Data(&item.data)),
            (pad, Piece::Bytes(&[0u8; 3])),
        ];
        for (n, piece) in pieces {
            let (s, e) = (at, at + n);
            at = e;
            if s < head {
                put_piece(cpio.get_mut(), &piece, 0, e.min(head) - s, &mut buf)?;
            }
            if e <= head {
                continue;
            }
            let skip_now = match skipping {
                Some(v) => v,
                None => {
                    let enc = cpio.get_mut();
                    let v = enc.in_step_with(old + head);
                    if v {
                        enc.skip_trusted(old + head, skip).map_err(werr)?;
                        enc.expect_old(old + tail);
                    }
                    skipping = Some(v);
                    v
                }
            };
            let from = if skip_now { tail } else { head }.max(s);
            if e > from {
                put_piece(cpio.get_mut(), &piece, from - s, e - from, &mut buf)?;
            }
        }
    }
    if at != len {
        return Err(Error::invalid(format!(
            "install.img: a run of unchanged entries measured {len} bytes but has {at}"
        )));
    }
    cpio.advance(len);
    Ok(())
}

/// Part of an entry written by [`write_trusted_run`].
enum Piece<'a> {
    Bytes(&'a [u8]),
    Data(&'a Data),
}

/// Write bytes `[from, from + n)` of `piece` into `out`.
fn put_piece(
    out: &mut impl Write,
    piece: &Piece<'_>,
    from: u64,
    n: u64,
    buf: &mut Vec<u8>,
) -> Result<()> {
    let werr = |e: io::Error| Error::io(e, "cannot write the new install.img");
    if n == 0 {
        return Ok(());
    }
    let (start, end) = (from as usize, (from + n) as usize);
    match piece {
        Piece::Bytes(b) => out.write_all(&b[start..end]).map_err(werr),
        Piece::Data(Data::Bytes(b)) => out.write_all(&b[start..end]).map_err(werr),
        Piece::Data(Data::None) => Err(Error::invalid(
            "install.img: an entry without data was given data bytes",
        )),
        Piece::Data(Data::File(p)) => {
            use std::os::unix::fs::FileExt;
            let f = fs::File::open(p).map_err(|e| Error::io(e, "cannot read").in_file(p))?;
            buf.resize((n as usize).min(1 << 20), 0);
            let mut done = 0u64;
            while done < n {
                let want = ((n - done) as usize).min(buf.len());
                f.read_exact_at(&mut buf[..want], from + done)
                    .map_err(|e| Error::io(e, "cannot read (changed since unpack?)").in_file(p))?;
                out.write_all(&buf[..want]).map_err(werr)?;
                done += want as u64;
            }
            Ok(())
        }
    }
}

enum Data {
    None,
    Bytes(Vec<u8>),
    File(PathBuf),
}

struct Item {
    name: String,
    header: CpioHeader,
    data: Data,
    /// Where the source's stream had these same bytes (an unchanged entry).
    old: Option<u64>,
}

struct Plan {
    items: Vec<Item>,
}

fn to_u32(v: u64, what: &str, p: &Path) -> Result<u32> {
    u32::try_from(v).map_err(|_| {
        Error::unsupported(format!(
            "{what} {v} does not fit a cpio newc header (4 GiB limit)"
        ))
        .in_file(p)
    })
}

impl Plan {
    fn new(
        m: &InstallerManifest,
        changes: &InstallerChanges,
        root: &Path,
        opts: &InstallerPackOptions,
    ) -> Result<Plan> {
        let new_mtime = |md: &fs::Metadata| -> u32 {
            match opts.date {
                Some(t) => t.clamp(0, i64::from(u32::MAX)) as u32,
                None => md.mtime().clamp(0, i64::from(u32::MAX)) as u32,
            }
        };
        let mut next_ino = m.entries.iter().map(|e| e.header.ino).max().unwrap_or(0);
        let mut fresh_ino = || {
            next_ino = next_ino.wrapping_add(1).max(1);
            next_ino
        };
        let dev = m.archive_dev();
        let dot_slash = m.uses_dot_slash();
        let name_of = |path: &str| -> String {
            if path.is_empty() {
                ".".into()
            } else if dot_slash {
                format!("./{path}")
            } else {
                path.to_string()
            }
        };

        // Hard-link groups: members present on disk, split by the inode they share now.
        let mut groups: HashMap<(u32, u32, u32, u32), Vec<usize>> = HashMap::new();
        for (i, e) in m.entries.iter().enumerate() {
            if let (Some(k), Some(md)) = (e.link_key(), &changes.disk[i]) {
                if md.is_file() && !matches!(changes.status[i], Status::Removed) {
                    groups.entry(k).or_default().push(i);
                }
            }
        }
        // For each member: (nlink, ino, carries data).
        let mut link_role: HashMap<usize, (u32, u32, bool)> = HashMap::new();
        for (k, members) in &groups {
            let all_present = m
                .entries
                .iter()
                .filter(|e| e.link_key() == Some(*k))
                .count()
                == members.len();
            let untouched = members
                .iter()
                .all(|&i| matches!(changes.status[i], Status::Unchanged));
            if all_present && untouched {
                continue; // written exactly as the source had it
            }
            let mut by_ino: Vec<(u64, Vec<usize>)> = Vec::new();
            for &i in members {
                let ino = changes.disk[i].as_ref().map(|md| md.ino()).unwrap_or(0);
                match by_ino.iter_mut().find(|(x, _)| *x == ino) {
                    Some((_, v)) => v.push(i),
                    None => by_ino.push((ino, vec![i])),
                }
            }
            for (n, (_, part)) in by_ino.iter().enumerate() {
                let nlink = part.len() as u32;
                let ino = if n == 0 { k.3 } else { fresh_ino() };
                let last = *part.last().expect("non-empty partition");
                for &i in part {
                    link_role.insert(i, (nlink, ino, i == last));
                }
            }
        }

        let mut items = Vec::new();
        for (i, e) in m.entries.iter().enumerate() {
            if e.implicit {
                continue;
            }
            let unchanged = matches!(changes.status[i], Status::Unchanged);
            let Some(md) = &changes.disk[i] else { continue };
            if opts.append && unchanged {
                continue;
            }
            let p = disk_path(root, &e.path);
            if !kind_matches(e.kind, md) {
                // The type changed on disk: write what is there now.
                items.push(new_item(
                    &e.path,
                    &name_of(&e.path),
                    md,
                    root,
                    e.header.ino,
                    dev,
                    new_mtime(md),
                    m,
                )?);
                continue;
            }
            let mut h = e.header;
            if !unchanged {
                let then = e.disk.map(|d| d.perm);
                if then != Some(md.mode() & 0o7777) {
                    h.mode = (h.mode & mode::S_IFMT) | (md.mode() & 0o7777);
                }
                if let Some(o) = m.overrides.get(&e.path) {
                    h.uid = o.uid.unwrap_or(h.uid);
                    h.gid = o.gid.unwrap_or(h.gid);
                    if let Some(perm) = o.perm {
                        h.mode = (h.mode & mode::S_IFMT) | (perm & 0o7777);
                    }
                }
            }
            let content_changed = !unchanged
                && match (e.kind, e.disk) {
                    (InstallerKind::File, Some(then)) => {
                        !then.same_content(&DiskState::of(md)) || m.touched.contains(&e.path)
                    }
                    (InstallerKind::Symlink, _) => true,
                    (InstallerKind::File, None) => true,
                    _ => false,
                };
            if content_changed {
                h.mtime = new_mtime(md);
            }
            let data = match e.kind {
                InstallerKind::File => {
                    let size = to_u32(md.len(), "file size", &p)?;
                    if let Some(&(nlink, ino, carries)) = link_role.get(&i) {
                        h.nlink = nlink;
                        h.ino = ino;
                        h.filesize = if carries { size } else { 0 };
                    } else if e.link_key().is_some() && !opts.append {
                        // Untouched group: as the source had it.
                        if h.filesize > 0 {
                            h.filesize = size;
                        }
                    } else {
                        h.filesize = size;
                    }
                    if opts.append && h.nlink >= 2 {
                        // An appended archive carries one member; the others are
                        // links to the same inode in the unpacked root already.
                        h.nlink = 1;
                        h.filesize = size;
                    }
                    if h.filesize > 0 {
                        Data::File(p)
                    } else {
                        Data::None
                    }
                }
                InstallerKind::Symlink => {
                    let t = fs::read_link(&p)
                        .map_err(|err| Error::io(err, "cannot read link").in_file(&p))?;
                    let t = t.into_os_string().into_string().map_err(|t| {
                        Error::unsupported(format!("symlink target {t:?} is not UTF-8")).in_file(&p)
                    })?;
                    h.filesize = to_u32(t.len() as u64, "symlink target length", &p)?;
                    Data::Bytes(t.into_bytes())
                }
                _ => {
                    h.filesize = 0;
                    Data::None
                }
            };
            let old = if unchanged && h == e.header {
                e.offset
            } else {
                None
            };
            items.push(Item {
                name: e.name.clone(),
                header: h,
                data,
                old,
            });
        }
        for n in &changes.new {
            let ino = fresh_ino();
            items.push(new_item(
                &n.path,
                &name_of(&n.path),
                &n.md,
                root,
                ino,
                dev,
                new_mtime(&n.md),
                m,
            )?);
        }
        Ok(Plan { items })
    }
}

/// An entry for a path the source did not have (or whose type changed): root:root
/// unless `patch-installer` said otherwise, the disk's permission bits.
#[allow(clippy::too_many_arguments)]
fn new_item(
    rel: &str,
    name: &str,
    md: &fs::Metadata,
    root: &Path,
    ino: u32,
    dev: (u32, u32),
    mtime: u32,
    m: &InstallerManifest,
) -> Result<Item> {
    let p = disk_path(root, rel);
    let ft = md.file_type();
    let (kind_bits, nlink, data, size) = if ft.is_dir() {
        (mode::S_IFDIR, 2, Data::None, 0)
    } else if ft.is_file() {
        let size = to_u32(md.len(), "file size", &p)?;
        let data = if size > 0 {
            Data::File(p.clone())
        } else {
            Data::None
        };
        (mode::S_IFREG, 1, data, size)
    } else if ft.is_symlink() {
        let t = fs::read_link(&p).map_err(|e| Error::io(e, "cannot read link").in_file(&p))?;
        let t = t.into_os_string().into_string().map_err(|t| {
            Error::unsupported(format!("symlink target {t:?} is not UTF-8")).in_file(&p)
        })?;
        let size = to_u32(t.len() as u64, "symlink target length", &p)?;
        (mode::S_IFLNK, 1, Data::Bytes(t.into_bytes()), size)
    } else if ft.is_fifo() {
        (mode::S_IFIFO, 1, Data::None, 0)
    } else {
        return Err(Error::unsupported(
            "device nodes and sockets cannot be added from the workspace (only files, directories, symlinks and FIFOs)",
        )
        .in_file(&p));
    };
    let perm = if ft.is_symlink() {
        0o777
    } else {
        md.mode() & 0o7777
    };
    let mut h = CpioHeader {
        ino,
        mode: kind_bits | perm,
        uid: 0,
        gid: 0,
        nlink,
        mtime,
        filesize: size,
        devmajor: dev.0,
        devminor: dev.1,
        ..CpioHeader::default()
    };
    if let Some(o) = m.overrides.get(rel) {
        h.uid = o.uid.unwrap_or(0);
        h.gid = o.gid.unwrap_or(0);
        if let Some(perm) = o.perm {
            h.mode = kind_bits | (perm & 0o7777);
        }
    }
    Ok(Item {
        name: name.to_string(),
        header: h,
        data,
        old: None,
    })
}
