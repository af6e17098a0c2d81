//! ISO 9660 reading: volume descriptors (ECMA-119 8), directory records (9.1),
//! Rock Ridge (SUSP/RRIP 1.12), Joliet, and the El Torito boot catalog.
//!
//! [`IsoImage`] opens a file, reads the descriptor set, and walks the directory
//! tree on demand. File data is never read during a walk: an [`Entry`] carries the
//! extents where its bytes live so callers can stream them.

pub mod boot_entries;
pub(crate) mod ecma119;
pub mod eltorito;
mod extent_reader;
mod rockridge;
pub mod time;
pub(crate) mod volume;
pub mod write;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};
use crate::source::{Source, SECTOR};
use ecma119::{
    DR_DATE, DR_EXTENT, DR_FLAGS, DR_LEN, DR_NAME_LEN, DR_SIZE, FLAG_DIR, FLAG_HIDDEN,
    FLAG_MULTI_EXTENT, RECORD_HEADER,
};
pub(crate) use extent_reader::ExtentReader;
pub use volume::{DescriptorSet, VolumeDescriptor, VolumeIds};

/// Deepest directory nesting accepted (ECMA-119 allows 8; Rock Ridge trees go deeper).
const MAX_DEPTH: usize = 64;
/// Most entries accepted in one image, so a crafted image cannot exhaust memory.
const MAX_ENTRIES: usize = 4_000_000;
/// Largest directory accepted (bytes).
const MAX_DIR_SIZE: u32 = 64 << 20;

/// Which name space a walk reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Namespace {
    /// Primary tree with Rock Ridge POSIX names and attributes.
    RockRidge,
    /// Joliet supplementary tree (UCS-2 names, no attributes).
    Joliet,
    /// Plain ISO 9660 names (version suffix stripped).
    Iso9660,
}

/// One contiguous piece of a file's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Extent {
    /// First logical block.
    pub lba: u32,
    /// Length in bytes.
    pub len: u64,
}

impl Extent {
    /// Byte offset of the extent in the image.
    pub fn offset(&self) -> u64 {
        u64::from(self.lba) * SECTOR
    }
}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum EntryKind {
    /// Regular file.
    File,
    /// Directory.
    Directory,
    /// Symbolic link (Rock Ridge SL).
    Symlink {
        /// Link target as stored.
        target: String,
    },
    /// Character or block device, FIFO or socket (Rock Ridge PX mode + PN).
    Special {
        /// Device numbers (major, minor) when PN is present.
        rdev: Option<(u32, u32)>,
    },
}

/// A file, directory or link in the image.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Absolute path inside the image, `/` for the root.
    pub path: String,
    /// Last path component (empty for the root).
    pub name: String,
    /// Kind of entry.
    #[serde(flatten)]
    pub kind: EntryKind,
    /// Size in bytes (sum of extents).
    pub size: u64,
    /// Where the data lives.
    pub extents: Vec<Extent>,
    /// POSIX st_mode from Rock Ridge, or a default derived from the kind.
    pub mode: u32,
    /// Owner (Rock Ridge), 0 otherwise.
    pub uid: u32,
    /// Group (Rock Ridge), 0 otherwise.
    pub gid: u32,
    /// Link count (Rock Ridge), 1 otherwise.
    pub nlink: u32,
    /// Modification time, Unix seconds.
    pub mtime: Option<i64>,
    /// The ISO 9660 hidden (existence) flag.
    pub hidden: bool,
    /// The raw ISO 9660 file identifier of the (first) record.
    pub iso_name: String,
    /// Byte offset of the (first) directory record, for error messages and edits.
    pub record_offset: u64,
}

impl Entry {
    /// `ls -l` style type and permission string, e.g. `-r--r--r--`.
    pub fn mode_string(&self) -> String {
        mode_string(self.mode)
    }

    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.kind == EntryKind::Directory
    }

    /// True for a regular file.
    pub fn is_file(&self) -> bool {
        self.kind == EntryKind::File
    }
}

/// An opened ISO image.
#[derive(Debug)]
pub struct IsoImage {
    src: Source,
    descriptors: DescriptorSet,
    namespace: Namespace,
    /// SUSP skip length from the root's SP entry.
    sp_skip: usize,
    /// Rock Ridge attributes of the root directory's "." record.
    root_rr: Option<rockridge::RrInfo>,
}

/// `ls -l` style type and permission string of a POSIX `st_mode`.
pub fn mode_string(mode: u32) -> String {
    let t = match mode & 0o170000 {
        0o040000 => 'd',
        0o120000 => 'l',
        0o020000 => 'c',
        0o060000 => 'b',
        0o010000 => 'p',
        0o140000 => 's',
        _ => '-',
    };
    let mut s = String::from(t);
    for (i, c) in "rwxrwxrwx".chars().enumerate() {
        s.push(if mode & (1 << (8 - i)) != 0 { c } else { '-' });
    }
    s
}

/// One parsed directory record.
struct Record {
    len: usize,
    lba: u32,
    size: u32,
    flags: u8,
    ident: Vec<u8>,
    date: [u8; 7],
    system_use: std::ops::Range<usize>,
}

fn parse_record(buf: &[u8], at: usize, offset: u64) -> Result<Option<Record>> {
    let len = usize::from(buf[at + DR_LEN]);
    if len == 0 {
        return Ok(None);
    }
    if len < 34 || at + len > buf.len() {
        return Err(Error::corrupt(
            offset,
            format!("directory record length {len} is invalid (minimum 34, {} bytes left in the sector)", buf.len() - at),
        ));
    }
    let r = &buf[at..at + len];
    let name_len = usize::from(r[DR_NAME_LEN]);
    if RECORD_HEADER + name_len > len {
        return Err(Error::corrupt(
            offset,
            format!("file identifier length {name_len} overruns record of {len} bytes"),
        ));
    }
    let su_start = RECORD_HEADER + name_len + usize::from(name_len % 2 == 0);
    let mut date = [0u8; 7];
    date.copy_from_slice(&r[DR_DATE]);
    let le32 = |at: usize| u32::from_le_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]]);
    Ok(Some(Record {
        len,
        lba: le32(DR_EXTENT),
        size: le32(DR_SIZE),
        flags: r[DR_FLAGS],
        ident: r[RECORD_HEADER..RECORD_HEADER + name_len].to_vec(),
        date,
        system_use: at + su_start.min(len)..at + len,
    }))
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// Strip the `;1` version and a trailing dot from an ISO 9660 identifier (ECMA-119 7.5).
fn plain_name(ident: &str) -> String {
    let base = ident.split(';').next().unwrap_or(ident);
    base.strip_suffix('.').unwrap_or(base).to_string()
}

impl IsoImage {
    /// Open an image and read its volume descriptors. Prefers Rock Ridge names,
    /// then Joliet, then plain ISO 9660.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_source(Source::open(path)?)
    }

    /// Read an image from an already open [`Source`] (a file, or bytes in memory
    /// through [`Source::from_bytes`]).
    pub fn from_source(src: Source) -> Result<Self> {
        let descriptors = volume::read_descriptors(&src)?;
        // ECMA-119 8.4.8: the volume space size covers every sector of the volume.
        let volume_bytes = u64::from(descriptors.primary.space_size) * SECTOR;
        if src.len() < volume_bytes {
            return Err(Error::corrupt(
                src.len(),
                format!(
                    "image is truncated: the volume space size is {volume_bytes} bytes ({} sectors) but the file ends here",
                    descriptors.primary.space_size
                ),
            )
            .in_file(src.path()));
        }
        let mut img = IsoImage {
            src,
            descriptors,
            namespace: Namespace::Iso9660,
            sp_skip: 0,
            root_rr: None,
        };
        img.namespace = img.detect_namespace()?;
        Ok(img)
    }

    /// The underlying file.
    pub fn source(&self) -> &Source {
        &self.src
    }

    /// Volume descriptors.
    pub fn descriptors(&self) -> &DescriptorSet {
        &self.descriptors
    }

    /// The primary volume descriptor.
    pub fn primary(&self) -> &VolumeDescriptor {
        &self.descriptors.primary
    }

    /// The name space walks use.
    pub fn namespace(&self) -> Namespace {
        self.namespace
    }

    /// Read a different name space from now on (Joliet must exist).
    pub fn set_namespace(&mut self, ns: Namespace) -> Result<()> {
        if ns == Namespace::Joliet && self.descriptors.joliet.is_none() {
            return Err(Error::invalid("the image has no Joliet tree").in_file(self.src.path()));
        }
        if ns == Namespace::RockRidge && self.detect_namespace()? != Namespace::RockRidge {
            return Err(
                Error::invalid("the image has no Rock Ridge extensions").in_file(self.src.path())
            );
        }
        self.namespace = ns;
        Ok(())
    }

    fn detect_namespace(&mut self) -> Result<Namespace> {
        let pvd = &self.descriptors.primary;
        let root_off = u64::from(pvd.root_lba) * SECTOR;
        let sector = self.src.read_sector(pvd.root_lba, "root directory")?;
        let dot = parse_record(&sector, 0, root_off)
            .map_err(|e| e.in_file(self.src.path()))?
            .ok_or_else(|| {
                Error::corrupt(root_off, "root directory is empty (no \".\" record)")
                    .in_file(self.src.path())
            })?;
        let rr = rockridge::parse(&self.src, &sector[dot.system_use.clone()], root_off)
            .map_err(|e| e.in_file(self.src.path()))?;
        if let Some(skip) = rr.sp_skip {
            self.sp_skip = usize::from(skip);
            self.root_rr = Some(rr);
            return Ok(Namespace::RockRidge);
        }
        Ok(if self.descriptors.joliet.is_some() {
            Namespace::Joliet
        } else {
            Namespace::Iso9660
        })
    }

    fn root_extent(&self) -> (u32, u32) {
        match (&self.namespace, &self.descriptors.joliet) {
            (Namespace::Joliet, Some(j)) => (j.root_lba, j.root_size),
            _ => (
                self.descriptors.primary.root_lba,
                self.descriptors.primary.root_size,
            ),
        }
    }

    /// The root directory entry.
    pub fn root(&self) -> Entry {
        let (lba, size) = self.root_extent();
        let rr = self
            .root_rr
            .as_ref()
            .filter(|_| self.namespace == Namespace::RockRidge);
        Entry {
            path: "/".into(),
            name: String::new(),
            kind: EntryKind::Directory,
            size: u64::from(size),
            extents: vec![Extent {
                lba,
                len: u64::from(size),
            }],
            mode: rr.and_then(|r| r.mode).unwrap_or(0o40555),
            uid: rr.and_then(|r| r.uid).unwrap_or(0),
            gid: rr.and_then(|r| r.gid).unwrap_or(0),
            nlink: rr.and_then(|r| r.nlink).unwrap_or(1),
            mtime: rr.and_then(|r| r.mtime),
            hidden: false,
            iso_name: String::new(),
            record_offset: u64::from(self.descriptors.primary.lba) * SECTOR + 156,
        }
    }

    /// The entries of directory `dir`, in on-disc order, without `.` and `..`.
    pub fn read_dir(&self, dir: &Entry) -> Result<Vec<Entry>> {
        self.read_dir_inner(dir)
            .map_err(|e| e.in_path(dir.path.clone()).in_file(self.src.path()))
    }

    fn read_dir_inner(&self, dir: &Entry) -> Result<Vec<Entry>> {
        let Some(ext) = dir.extents.first() else {
            return Ok(Vec::new());
        };
        if dir.size > u64::from(MAX_DIR_SIZE) {
            return Err(Error::corrupt(
                dir.record_offset,
                format!("directory size {} is implausibly large", dir.size),
            ));
        }
        let base = ext.offset();
        let sectors = dir.size.div_ceil(SECTOR);
        let mut out: Vec<Entry> = Vec::new();
        let mut names: HashSet<String> = HashSet::new();
        // A multi-extent file (flag 0x80) continues in the following records of the same name.
        let mut pending_multi = false;
        for s in 0..sectors {
            let sec_off = base + s * SECTOR;
            let mut buf = [0u8; SECTOR as usize];
            self.src
                .read_exact_at(sec_off, &mut buf, "directory sector")?;
            let limit = if s + 1 == sectors && !dir.size.is_multiple_of(SECTOR) {
                (dir.size % SECTOR) as usize
            } else {
                SECTOR as usize
            };
            let mut at = 0usize;
            while at < limit {
                let rec_off = sec_off + at as u64;
                let Some(rec) = parse_record(&buf[..limit], at, rec_off)? else {
                    break;
                };
                at += rec.len;
                if rec.ident == [0] || rec.ident == [1] {
                    continue;
                }
                let is_dir = rec.flags & FLAG_DIR != 0;
                let raw_name = match self.namespace {
                    Namespace::Joliet => {
                        let units: Vec<u16> = rec
                            .ident
                            .chunks_exact(2)
                            .map(|c| u16::from_be_bytes([c[0], c[1]]))
                            .collect();
                        String::from_utf16_lossy(&units)
                    }
                    _ => String::from_utf8_lossy(&rec.ident).into_owned(),
                };
                let rr = if self.namespace == Namespace::RockRidge {
                    let su = &buf[rec.system_use.clone()];
                    let su = su.get(self.sp_skip..).unwrap_or(&[]);
                    Some(rockridge::parse(&self.src, su, rec_off)?)
                } else {
                    None
                };
                if rr.as_ref().is_some_and(|r| r.relocated) {
                    continue;
                }
                let mut name = match rr.as_ref().and_then(|r| r.name.clone()) {
                    Some(n) => n,
                    None if self.namespace == Namespace::Joliet => {
                        raw_name.split(';').next().unwrap_or("").to_string()
                    }
                    None => plain_name(&raw_name),
                };
                if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                    return Err(Error::corrupt(
                        rec_off,
                        format!("invalid file name {name:?}"),
                    ));
                }
                name = name.replace('\0', "");
                let extent = Extent {
                    lba: rec.lba,
                    len: u64::from(rec.size),
                };
                if pending_multi {
                    if let Some(last) = out.last_mut() {
                        if last.iso_name == raw_name {
                            last.extents.push(extent);
                            last.size = last.size.checked_add(extent.len).ok_or_else(|| {
                                Error::corrupt(rec_off, "multi-extent file size overflows")
                            })?;
                            pending_multi = rec.flags & FLAG_MULTI_EXTENT != 0;
                            continue;
                        }
                    }
                    return Err(Error::corrupt(
                        rec_off,
                        "multi-extent file is not continued by a record of the same name",
                    ));
                }
                pending_multi = rec.flags & FLAG_MULTI_EXTENT != 0;
                // Two entries of one name would let a symlink redirect the other's
                // extraction outside the workspace: refuse.
                if !names.insert(name.clone()) {
                    return Err(Error::corrupt(
                        rec_off,
                        format!("duplicate name {name:?} in directory"),
                    ));
                }
                let (mut kind, mut lba) = (
                    if is_dir {
                        EntryKind::Directory
                    } else {
                        EntryKind::File
                    },
                    rec.lba,
                );
                let mut mode = if is_dir { 0o40555 } else { 0o100444 };
                let (mut uid, mut gid, mut nlink, mut mtime) =
                    (0, 0, 1, crate::iso::time::record_date_to_unix(&rec.date));
                if let Some(rr) = &rr {
                    if let Some(cl) = rr.child_link {
                        kind = EntryKind::Directory;
                        lba = cl;
                    }
                    if let Some(m) = rr.mode {
                        mode = m;
                        kind = match m & 0o170000 {
                            0o040000 => EntryKind::Directory,
                            0o120000 => EntryKind::Symlink {
                                target: rr.symlink.clone().unwrap_or_default(),
                            },
                            0o100000 => kind,
                            0o020000 | 0o060000 | 0o010000 | 0o140000 => {
                                EntryKind::Special { rdev: rr.rdev }
                            }
                            _ => kind,
                        };
                    } else if let Some(t) = &rr.symlink {
                        kind = EntryKind::Symlink { target: t.clone() };
                    }
                    uid = rr.uid.unwrap_or(0);
                    gid = rr.gid.unwrap_or(0);
                    nlink = rr.nlink.unwrap_or(1);
                    mtime = rr.mtime.or(mtime);
                }
                let mut size = u64::from(rec.size);
                let mut extents = vec![Extent { lba, len: size }];
                if rr.as_ref().is_some_and(|r| r.child_link.is_some()) {
                    // The relocated directory's size lives in its own "." record.
                    let sec = self.src.read_sector(lba, "relocated directory")?;
                    let dot = parse_record(&sec, 0, u64::from(lba) * SECTOR)?.ok_or_else(|| {
                        Error::corrupt(
                            u64::from(lba) * SECTOR,
                            "relocated directory has no \".\" record",
                        )
                    })?;
                    size = u64::from(dot.size);
                    extents = vec![Extent { lba, len: size }];
                }
                if !matches!(kind, EntryKind::File | EntryKind::Directory) {
                    size = 0;
                    extents.clear();
                }
                out.push(Entry {
                    path: join(&dir.path, &name),
                    name,
                    kind,
                    size,
                    extents,
                    mode,
                    uid,
                    gid,
                    nlink,
                    mtime,
                    hidden: rec.flags & FLAG_HIDDEN != 0,
                    iso_name: raw_name,
                    record_offset: rec_off,
                });
            }
        }
        if pending_multi {
            return Err(Error::corrupt(
                base,
                "directory ends inside a multi-extent file",
            ));
        }
        Ok(out)
    }

    /// Every entry below the root, depth first, parents before children, each
    /// directory's entries in on-disc order. Validates the whole tree: directory
    /// loops, extents past the end of the file, absurd sizes.
    pub fn walk(&self) -> Result<Vec<Entry>> {
        self.walk_under(&self.root())
    }

    /// Every entry below the directory `dir` (not `dir` itself), depth first, in
    /// the order [`IsoImage::walk`] lists them: `xiso ls DIR` reads only that subtree.
    pub fn walk_under(&self, dir: &Entry) -> Result<Vec<Entry>> {
        let mut out = Vec::new();
        let mut seen: HashSet<u32> = HashSet::new();
        if let Some(first) = dir.extents.first() {
            seen.insert(first.lba);
        }
        let depth = dir.path.split('/').filter(|c| !c.is_empty()).count();
        self.walk_dir(dir, depth, &mut seen, &mut out)?;
        Ok(out)
    }

    fn walk_dir(
        &self,
        dir: &Entry,
        depth: usize,
        seen: &mut HashSet<u32>,
        out: &mut Vec<Entry>,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::corrupt(
                dir.record_offset,
                format!("directory nesting deeper than {MAX_DEPTH}"),
            )
            .in_path(dir.path.clone())
            .in_file(self.src.path()));
        }
        self.check_extents(dir)?;
        let children = self.read_dir(dir)?;
        for child in children {
            self.check_extents(&child)?;
            if out.len() >= MAX_ENTRIES {
                return Err(Error::corrupt(
                    child.record_offset,
                    format!("more than {MAX_ENTRIES} entries"),
                )
                .in_file(self.src.path()));
            }
            let is_dir = child.is_dir();
            if is_dir {
                let lba = child.extents.first().map(|e| e.lba).unwrap_or(0);
                if !seen.insert(lba) {
                    return Err(Error::corrupt(
                        child.record_offset,
                        format!(
                            "directory loop: {} points to LBA {lba}, already visited",
                            child.path
                        ),
                    )
                    .in_file(self.src.path()));
                }
            }
            out.push(child);
            if is_dir {
                let child = out.last().expect("just pushed").clone();
                self.walk_dir(&child, depth + 1, seen, out)?;
            }
        }
        Ok(())
    }

    fn check_extents(&self, e: &Entry) -> Result<()> {
        for ext in &e.extents {
            if ext.len == 0 {
                continue;
            }
            let end = ext.offset().checked_add(ext.len);
            if end.is_none_or(|end| end > self.src.len()) {
                return Err(Error::corrupt(
                    e.record_offset,
                    format!(
                        "{} extent at LBA {} ({} bytes) ends past the end of the file ({} bytes)",
                        e.path,
                        ext.lba,
                        ext.len,
                        self.src.len()
                    ),
                )
                .in_file(self.src.path()));
            }
        }
        Ok(())
    }

    /// Find the entry at `path` (absolute or relative to the root).
    pub fn lookup(&self, path: &str) -> Result<Entry> {
        let mut cur = self.root();
        for comp in path.split('/').filter(|c| !c.is_empty() && *c != ".") {
            if !cur.is_dir() {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!("{} is not a directory", cur.path),
                )
                .in_file(self.src.path()));
            }
            let children = self.read_dir(&cur)?;
            cur = children
                .into_iter()
                .find(|c| c.name == comp)
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::NotFound,
                        format!("no such file in the image: {path}"),
                    )
                    .in_file(self.src.path())
                })?;
        }
        Ok(cur)
    }

    /// Stream a file's bytes to `out`.
    pub fn copy_file(&self, entry: &Entry, out: &mut dyn Write) -> Result<()> {
        if !entry.is_file() {
            return Err(
                Error::invalid(format!("{} is not a regular file", entry.path))
                    .in_file(self.src.path()),
            );
        }
        for ext in &entry.extents {
            self.src
                .copy_range(ext.offset(), ext.len, out, &entry.path)?;
        }
        Ok(())
    }

    /// Read a whole (small) file into memory, refusing files over `limit` bytes.
    pub fn read_file(&self, path: &str, limit: u64) -> Result<Vec<u8>> {
        let e = self.lookup(path)?;
        if e.size > limit {
            return Err(Error::unsupported(format!(
                "{path} is {} bytes, more than the {limit} expected",
                e.size
            ))
            .in_file(self.src.path()));
        }
        let mut v = Vec::with_capacity(e.size as usize);
        self.copy_file(&e, &mut v)?;
        Ok(v)
    }

    /// Map from extent LBA to the path of the file that starts there (for El Torito and
    /// hybrid reports).
    pub(crate) fn files_by_lba(entries: &[Entry]) -> HashMap<u32, String> {
        entries
            .iter()
            .filter(|e| e.is_file())
            .filter_map(|e| Some((e.extents.first()?.lba, e.path.clone())))
            .collect()
    }
}
