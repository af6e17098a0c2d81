//! The ISO trees: paths added, removed, changed, and metadata-only changes.
//!
//! Content is compared by size, then by reading both files' extents in chunks side
//! by side; nothing larger than one chunk per side is held.

use std::collections::BTreeMap;
use std::io::Read;
use std::ops::Range;

use super::boot::ElTorito;
use super::{DiffOptions, FieldChange, MetadataChange, PathChanges};
use crate::boot::info_table::{CHECKSUM_START, TABLE_OFFSET};
use crate::error::{Error, Result};
use crate::iso::time::format_unix;
use crate::iso::ExtentReader;
use crate::iso::{mode_string, Entry, EntryKind, IsoImage};

/// Bytes read from each side at a time.
const CHUNK: usize = 1 << 20;

/// One image's tree: the walk, and an index by path without the leading `/`.
pub(super) struct Tree<'a> {
    pub iso: &'a IsoImage,
    /// Every entry in walk order (El Torito lookups take this list).
    pub list: Vec<Entry>,
    /// Index into `list` by path.
    entries: BTreeMap<String, usize>,
}

impl<'a> Tree<'a> {
    /// Walk `iso` (the whole tree is validated).
    pub(crate) fn read(iso: &'a IsoImage) -> Result<Tree<'a>> {
        let list = iso.walk()?;
        let entries = list
            .iter()
            .enumerate()
            .map(|(i, e)| (e.path.trim_start_matches('/').to_string(), i))
            .collect();
        Ok(Tree { iso, list, entries })
    }

    /// The entry at `path`.
    pub(crate) fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path).map(|&i| &self.list[i])
    }

    /// The regular file at `path`, if there is one.
    pub(crate) fn file(&self, path: &str) -> Option<&Entry> {
        self.get(path).filter(|e| e.is_file())
    }

    /// Every path with its entry, sorted by path.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.entries.iter().map(|(p, &i)| (p, &self.list[i]))
    }
}

/// Compare the trees. `el_torito` says which files hold writer-placed positions.
pub(super) fn compare(
    a: &Tree<'_>,
    b: &Tree<'_>,
    el_torito: &ElTorito,
    opts: &DiffOptions,
) -> Result<PathChanges> {
    let mut out = PathChanges::default();
    let same_file = same_file(a.iso, b.iso);
    for (path, ea) in a.iter() {
        let Some(eb) = b.get(path) else {
            out.removed.push(path.clone());
            continue;
        };
        let same = if el_torito.catalog_moved_only && el_torito.catalog.contains(path) {
            true
        } else if same_file && ea.extents == eb.extents {
            // One file opened twice: the same extents are the same bytes.
            true
        } else {
            let mask = el_torito
                .info_table
                .contains(path)
                .then_some(TABLE_OFFSET..CHECKSUM_START);
            same_content(a.iso, ea, b.iso, eb, mask)?
        };
        if !same {
            out.changed.push(path.clone());
        }
        let changes = metadata_changes(ea, eb, opts.all);
        if !changes.is_empty() {
            out.metadata.push(MetadataChange {
                path: path.clone(),
                changes,
            });
        }
    }
    out.added = b
        .entries
        .keys()
        .filter(|p| !a.entries.contains_key(*p))
        .cloned()
        .collect();
    Ok(out)
}

/// Whether both images are the same file on disk (`xiso diff A A`).
fn same_file(a: &IsoImage, b: &IsoImage) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (
        std::fs::metadata(a.source().path()),
        std::fs::metadata(b.source().path()),
    ) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Whether two entries have the same kind and content; `mask` is a byte range of
/// the files not compared (a boot info table).
fn same_content(
    a: &IsoImage,
    ea: &Entry,
    b: &IsoImage,
    eb: &Entry,
    mask: Option<Range<usize>>,
) -> Result<bool> {
    match (&ea.kind, &eb.kind) {
        (EntryKind::File, EntryKind::File) => {}
        (ka, kb) => return Ok(ka == kb),
    }
    if ea.size != eb.size {
        return Ok(false);
    }
    let mut ra = ExtentReader::new(a, ea);
    let mut rb = ExtentReader::new(b, eb);
    let mut ba = vec![0u8; CHUNK];
    let mut bb = vec![0u8; CHUNK];
    let mut left = ea.size;
    let mut first = true;
    while left > 0 {
        let n = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
        ra.read_exact(&mut ba[..n]).map_err(|e| {
            Error::io(e, "cannot read")
                .in_file(a.source().path())
                .in_path(ea.path.clone())
        })?;
        rb.read_exact(&mut bb[..n]).map_err(|e| {
            Error::io(e, "cannot read")
                .in_file(b.source().path())
                .in_path(eb.path.clone())
        })?;
        if first {
            if let Some(m) = &mask {
                let m = m.start.min(n)..m.end.min(n);
                ba[m.clone()].fill(0);
                bb[m].fill(0);
            }
            first = false;
        }
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
        left -= n as u64;
    }
    Ok(true)
}

/// Mode, owner and device differences (and the mtime when `all`).
fn metadata_changes(a: &Entry, b: &Entry, all: bool) -> Vec<FieldChange> {
    let mut v = Vec::new();
    if a.mode != b.mode {
        v.push(FieldChange::new(
            "mode",
            mode_string(a.mode),
            mode_string(b.mode),
        ));
    }
    if a.uid != b.uid {
        v.push(FieldChange::new("uid", a.uid, b.uid));
    }
    if a.gid != b.gid {
        v.push(FieldChange::new("gid", a.gid, b.gid));
    }
    if all && a.mtime != b.mtime {
        let t = |m: Option<i64>| m.map_or_else(|| "-".to_string(), format_unix);
        v.push(FieldChange::new("mtime", t(a.mtime), t(b.mtime)));
    }
    v
}
