//! The two directory hierarchies (primary with Rock Ridge, Joliet): their
//! directories in path-table order (ECMA-119 9.4: by level, parent, name),
//! each directory's records sorted per ECMA-119 9.3, and the Rock Ridge
//! continuation areas those records spill into.

use std::ops::Range;

use super::dirrec::{record_len, FLAG_DIR, FLAG_MULTI_EXTENT, RECORD_HEADER, RECORD_MAX};
use super::items::{nlink, parts_of, Item, ItemKind};
use super::layout::{add_lba, Layout, MAX_EXTENT};
use super::names::{joliet_names, primary_cmp, primary_names, ucs2_be};
use super::rockridge::{self, Kind, RrRecord};
use super::volume::{path_table_size, PathRow};
use crate::error::{Error, Result};
use crate::source::SECTOR;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Dot,
    DotDot,
    Child,
}

/// One directory record, addresses resolved when it is encoded.
#[derive(Debug)]
pub(crate) struct Rec {
    pub item: usize,
    pub role: Role,
    pub ident: Vec<u8>,
    /// Which extent of a multi-extent file this record describes.
    pub part: u32,
    pub parts: u32,
    pub su: Vec<u8>,
    /// `CE` entry offset in `su` and the continuation area it points to.
    pub ce: Option<(usize, usize)>,
}

/// A directory of one hierarchy (primary or Joliet).
#[derive(Debug)]
pub(crate) struct HDir {
    pub item: usize,
    /// Index of the parent in `Hierarchy::dirs` (the root is its own parent).
    pub parent: usize,
    pub ident: Vec<u8>,
    pub records: Vec<Rec>,
    pub size: u32,
    pub lba: u32,
    /// Continuation areas of this directory's records (indexes into `Layout::areas`).
    pub areas: Range<usize>,
    /// Sectors holding them, right after the directory extent.
    pub ce_sectors: u32,
}

/// One directory hierarchy and its path tables.
#[derive(Debug)]
pub(crate) struct Hierarchy {
    pub dirs: Vec<HDir>,
    pub dir_of_item: Vec<Option<usize>>,
    pub path_table_size: u32,
    pub l_table: u32,
    pub m_table: u32,
}

impl Hierarchy {
    pub(crate) fn rows(&self) -> Vec<PathRow> {
        self.dirs
            .iter()
            .map(|d| PathRow {
                ident: d.ident.clone(),
                lba: d.lba,
                parent: (d.parent + 1) as u16,
            })
            .collect()
    }
}

/// A Rock Ridge continuation area and its address.
#[derive(Debug)]
pub(crate) struct CeArea {
    pub bytes: Vec<u8>,
    pub ce_at: Option<usize>,
    pub next: Option<usize>,
    pub lba: u32,
    pub offset: u32,
}

/// Build one hierarchy's directories and records (addresses still unset).
pub(crate) fn build_hierarchy(
    items: &[Item<'_>],
    joliet: bool,
    rock_ridge: bool,
    areas: &mut Vec<CeArea>,
) -> Result<Hierarchy> {
    let mut h = Hierarchy {
        dirs: vec![HDir {
            item: 0,
            parent: 0,
            ident: vec![0],
            records: Vec::new(),
            size: 0,
            lba: 0,
            areas: 0..0,
            ce_sectors: 0,
        }],
        dir_of_item: vec![None; items.len()],
        path_table_size: 0,
        l_table: 0,
        m_table: 0,
    };
    h.dir_of_item[0] = Some(0);
    let mut i = 0;
    while i < h.dirs.len() {
        let item_idx = h.dirs[i].item;
        let ItemKind::Dir { children, .. } = &items[item_idx].kind else {
            unreachable!("hierarchy directories are directory items")
        };
        let input: Vec<(&str, bool)> = children
            .iter()
            .map(|&c| (items[c].name, items[c].is_dir()))
            .collect();
        let mut named: Vec<(Vec<u8>, String, usize)> = if joliet {
            let names = joliet_names(&input);
            children
                .iter()
                .zip(names)
                .map(|(&c, n)| (ucs2_be(&n), String::new(), c))
                .collect()
        } else {
            let names = primary_names(&input);
            children
                .iter()
                .zip(names)
                .map(|(&c, n)| (n.as_bytes().to_vec(), n, c))
                .collect()
        };
        // ECMA-119 9.3 for the primary names; Joliet by UCS-2 code units
        // (big-endian bytes compare the same way), as genisoimage.
        named.sort_by(|a, b| {
            if joliet {
                a.0.cmp(&b.0)
            } else {
                primary_cmp(&a.1, &b.1)
            }
        });
        let parent_item = items[item_idx].parent;
        let mut records = Vec::with_capacity(named.len() + 2);
        let rr = rock_ridge && !joliet;
        let first_area = areas.len();
        records.push(make_record(
            items,
            item_idx,
            Role::Dot,
            vec![0],
            0,
            1,
            rr,
            areas,
        ));
        records.push(make_record(
            items,
            parent_item,
            Role::DotDot,
            vec![1],
            0,
            1,
            rr,
            areas,
        ));
        for (ident, _, c) in named {
            let parts = parts_of(&items[c]);
            for part in 0..parts {
                records.push(make_record(
                    items,
                    c,
                    Role::Child,
                    ident.clone(),
                    part,
                    parts,
                    rr,
                    areas,
                ));
            }
            if items[c].is_dir() {
                let d = h.dirs.len();
                h.dir_of_item[c] = Some(d);
                h.dirs.push(HDir {
                    item: c,
                    parent: i,
                    ident,
                    records: Vec::new(),
                    size: 0,
                    lba: 0,
                    areas: 0..0,
                    ce_sectors: 0,
                });
            }
        }
        h.dirs[i].size = dir_size(&records)?;
        h.dirs[i].areas = first_area..areas.len();
        h.dirs[i].records = records;
        i += 1;
    }
    if h.dirs.len() > usize::from(u16::MAX) {
        return Err(Error::unsupported(format!(
            "{} directories: a path table holds at most 65535",
            h.dirs.len()
        )));
    }
    h.path_table_size = u32::try_from(path_table_size(&h.rows()))
        .map_err(|_| Error::unsupported("path table larger than 4 GiB"))?;
    Ok(h)
}

#[allow(clippy::too_many_arguments)]
fn make_record(
    items: &[Item<'_>],
    item: usize,
    role: Role,
    ident: Vec<u8>,
    part: u32,
    parts: u32,
    rr: bool,
    areas: &mut Vec<CeArea>,
) -> Rec {
    let mut rec = Rec {
        item,
        role,
        ident,
        part,
        parts,
        su: Vec::new(),
        ce: None,
    };
    if !rr {
        return rec;
    }
    let it = &items[item];
    let (kind, target) = match &it.kind {
        ItemKind::Dir { .. } => (Kind::Dir, None),
        ItemKind::File { .. } => (Kind::File, None),
        ItemKind::Symlink { target } => (Kind::Symlink, Some(*target)),
    };
    let entries = rockridge::entries(&RrRecord {
        kind,
        meta: &it.meta,
        nlink: nlink(it),
        name: (role == Role::Child).then_some(it.name),
        target,
        root_dot: role == Role::Dot && item == 0,
    });
    let fixed = RECORD_HEADER + rec.ident.len() + usize::from(rec.ident.len().is_multiple_of(2));
    let plan = rockridge::place(entries, RECORD_MAX - fixed);
    rec.su = plan.inline;
    let first = areas.len();
    let n = plan.areas.len();
    for (k, a) in plan.areas.into_iter().enumerate() {
        areas.push(CeArea {
            bytes: a.bytes,
            ce_at: a.ce_at,
            next: (k + 1 < n).then_some(first + k + 1),
            lba: 0,
            offset: 0,
        });
    }
    rec.ce = plan.inline_ce.map(|at| (at, first));
    rec
}

/// Bytes of a directory extent: records never cross a sector (ECMA-119 6.8.1.1).
fn dir_size(records: &[Rec]) -> Result<u32> {
    let mut sectors_used: u64 = 1;
    let mut used = 0usize;
    for r in records {
        let len = record_len(r.ident.len(), r.su.len());
        if used + len > SECTOR as usize {
            sectors_used += 1;
            used = 0;
        }
        used += len;
    }
    u32::try_from(sectors_used * SECTOR)
        .map_err(|_| Error::unsupported("directory larger than 4 GiB"))
}

/// Attributes of each directory record, resolved at write time.
pub(crate) struct Resolved {
    pub lba: u32,
    pub size: u32,
    pub flags: u8,
    pub mtime: i64,
}

impl Layout<'_> {
    /// Address, size and flags of one record of hierarchy `h`, directory `d`.
    pub(crate) fn resolve(&self, h: &Hierarchy, d: usize, rec: &Rec) -> Resolved {
        let item = &self.items[rec.item];
        let target_dir = match rec.role {
            Role::Dot => Some(d),
            Role::DotDot => Some(h.dirs[d].parent),
            Role::Child => h.dir_of_item[rec.item],
        };
        if let Some(td) = target_dir {
            let dir = &h.dirs[td];
            return Resolved {
                lba: dir.lba,
                size: dir.size,
                flags: FLAG_DIR,
                mtime: self.items[dir.item].meta.mtime,
            };
        }
        let base = self.extent[rec.item];
        match item.kind {
            ItemKind::File { size, .. } => {
                let done = u64::from(rec.part) * MAX_EXTENT;
                let this = (size - done).min(MAX_EXTENT);
                let last = rec.part + 1 == rec.parts;
                Resolved {
                    lba: base + rec.part * (MAX_EXTENT / SECTOR) as u32,
                    size: this as u32,
                    flags: if last { 0 } else { FLAG_MULTI_EXTENT },
                    mtime: item.meta.mtime,
                }
            }
            _ => Resolved {
                lba: base,
                size: 0,
                flags: 0,
                mtime: item.meta.mtime,
            },
        }
    }
}

/// Give continuation areas addresses from `start` on, none crossing a block
/// (SUSP 5.1; Linux and libarchive reject areas that do). Returns the blocks used.
pub(crate) fn pack_areas(areas: &mut [CeArea], start: u32) -> Result<u32> {
    if areas.is_empty() {
        return Ok(0);
    }
    let mut block = 0u32;
    let mut off = 0usize;
    for a in areas {
        if off + a.bytes.len() > SECTOR as usize {
            block += 1;
            off = 0;
        }
        a.lba = add_lba(start, u64::from(block), "continuation area")?;
        a.offset = off as u32;
        off += a.bytes.len();
    }
    Ok(block + 1)
}

/// Point every `CE` entry at its continuation area.
pub(crate) fn patch_continuations(h: &mut Hierarchy, areas: &mut [CeArea]) {
    for d in &mut h.dirs {
        for r in &mut d.records {
            if let Some((at, a)) = r.ce {
                let area = &areas[a];
                rockridge::patch_ce(
                    &mut r.su,
                    at,
                    area.lba,
                    area.offset,
                    area.bytes.len() as u32,
                );
            }
        }
    }
    for i in 0..areas.len() {
        if let (Some(at), Some(n)) = (areas[i].ce_at, areas[i].next) {
            let (lba, offset, len) = (areas[n].lba, areas[n].offset, areas[n].bytes.len() as u32);
            rockridge::patch_ce(&mut areas[i].bytes, at, lba, offset, len);
        }
    }
}
