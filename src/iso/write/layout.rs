//! Layout: every structure of the new image gets its logical block address
//! before a single byte is written, so the caller can build a hybrid system
//! area (MBR/GPT) from the final addresses and the writer can stream.
//!
//! Order (as genisoimage): system area 0–15, PVD 16, El Torito boot record,
//! Joliet SVD, terminator, path tables (primary L, M, Joliet L, M), primary
//! directories, Joliet directories (each in path-table order), Rock Ridge
//! continuation areas, the boot catalog, the boot images, then every other
//! file in tree order (breadth-first, by name).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Range;

use super::catalog::CatalogEntry;
use super::dirrec::{record_len, FLAG_DIR, FLAG_MULTI_EXTENT, RECORD_HEADER, RECORD_MAX};
use super::names::{joliet_names, primary_cmp, primary_names, ucs2_be};
use super::rockridge::{self, Kind, RrRecord};
use super::tree::{components, Dir, FileData, IsoTree, Meta, Node};
use super::volume::{path_table_size, PathRow};
use super::{BootEntryReport, FileExtent, WriteOptions, WriteReport};
use crate::error::{Error, ErrorKind, Result};
use crate::source::SECTOR;

/// Largest extent of one directory record: 4 GiB − 2048 (as genisoimage and
/// libisofs); larger files are recorded as several extents (ECMA-119 6.5.1).
pub const MAX_EXTENT: u64 = 0xFFFF_F800;

/// LBA of the primary volume descriptor (ECMA-119 6.2.1: after the 16-sector system area).
pub const PVD_LBA: u32 = 16;

/// Where a file's bytes come from once laid out.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Payload<'a> {
    Data(&'a FileData),
    Catalog,
}

#[derive(Debug)]
pub(crate) enum ItemKind<'a> {
    Dir { children: Vec<usize>, subdirs: u32 },
    File { payload: Payload<'a>, size: u64 },
    Symlink { target: &'a str },
}

/// One node of the flattened tree; index 0 is the root.
#[derive(Debug)]
pub(crate) struct Item<'a> {
    pub name: &'a str,
    pub path: String,
    pub meta: Meta,
    pub parent: usize,
    pub kind: ItemKind<'a>,
}

impl Item<'_> {
    fn is_dir(&self) -> bool {
        matches!(self.kind, ItemKind::Dir { .. })
    }
}

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
    pub fn rows(&self) -> Vec<PathRow> {
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

/// The complete layout of a new image; see [`Layout::write`](super::Layout::write).
#[derive(Debug)]
pub struct Layout<'a> {
    pub(crate) opts: &'a WriteOptions,
    pub(crate) items: Vec<Item<'a>>,
    pub(crate) primary: Hierarchy,
    pub(crate) joliet: Option<Hierarchy>,
    pub(crate) areas: Vec<CeArea>,
    /// First LBA of each item's extent (0 for directories: see the hierarchies).
    pub(crate) extent: Vec<u32>,
    /// Items whose bytes are written, in LBA order.
    pub(crate) file_order: Vec<usize>,
    pub(crate) boot_record_lba: Option<u32>,
    pub(crate) svd_lba: Option<u32>,
    pub(crate) terminator_lba: u32,
    pub(crate) catalog_entries: Vec<CatalogEntry>,
    pub(crate) info_table_items: Vec<usize>,
    pub(crate) report: WriteReport,
}

fn add_lba(a: u32, b: u64, what: &str) -> Result<u32> {
    u64::from(a)
        .checked_add(b)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| Error::unsupported(format!("image too large: {what} beyond LBA 2^32")))
}

/// Sectors needed for `len` bytes.
pub(crate) fn sectors(len: u64) -> u64 {
    len.div_ceil(SECTOR)
}

fn file_size(data: &FileData, path: &str) -> Result<u64> {
    match data {
        FileData::Bytes(b) => Ok(b.len() as u64),
        FileData::SourceExtent { len, .. } => Ok(*len),
        FileData::Path(p) => {
            let m = std::fs::metadata(p)
                .map_err(|e| Error::io(e, "cannot stat").in_file(p).in_path(path))?;
            if !m.is_file() {
                return Err(Error::invalid("not a regular file")
                    .in_file(p)
                    .in_path(path));
            }
            Ok(m.len())
        }
    }
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

/// Flatten the tree breadth-first; the boot catalog path becomes `Payload::Catalog`.
fn flatten<'a>(tree: &'a IsoTree, catalog: Option<&str>) -> Result<Vec<Item<'a>>> {
    let mut items = vec![Item {
        name: "",
        path: String::new(),
        meta: tree.root().meta,
        parent: 0,
        kind: ItemKind::Dir {
            children: Vec::new(),
            subdirs: 0,
        },
    }];
    let mut queue: Vec<(usize, &'a Dir)> = vec![(0, tree.root())];
    let mut qi = 0;
    let mut catalog_found = false;
    while let Some(&(idx, dir)) = queue.get(qi) {
        qi += 1;
        let mut kids = Vec::with_capacity(dir.children.len());
        let mut subdirs = 0u32;
        for (name, node) in &dir.children {
            let path = join(&items[idx].path, name);
            let kind = match node {
                Node::Dir(_) => {
                    subdirs = subdirs.saturating_add(1);
                    ItemKind::Dir {
                        children: Vec::new(),
                        subdirs: 0,
                    }
                }
                Node::File { data, .. } => {
                    if catalog == Some(path.as_str()) {
                        catalog_found = true;
                        ItemKind::File {
                            payload: Payload::Catalog,
                            size: SECTOR,
                        }
                    } else {
                        ItemKind::File {
                            payload: Payload::Data(data),
                            size: file_size(data, &path)?,
                        }
                    }
                }
                Node::Symlink { target, .. } => {
                    if catalog == Some(path.as_str()) {
                        return Err(Error::invalid("boot catalog path is a symlink").in_path(path));
                    }
                    ItemKind::Symlink { target }
                }
            };
            if let (Node::Dir(_), Some(c)) = (node, catalog) {
                if c == path {
                    return Err(Error::invalid("boot catalog path is a directory").in_path(path));
                }
            }
            let child = items.len();
            items.push(Item {
                name,
                path,
                meta: *node.meta(),
                parent: idx,
                kind,
            });
            if let Node::Dir(d) = node {
                queue.push((child, d));
            }
            kids.push(child);
        }
        items[idx].kind = ItemKind::Dir {
            children: kids,
            subdirs,
        };
    }
    if let (Some(cat), false) = (catalog, catalog_found) {
        insert_catalog(&mut items, cat, tree.root().meta.mtime)?;
    }
    Ok(items)
}

/// Add the boot catalog as a new file when the tree has none at its path.
fn insert_catalog<'a>(items: &mut Vec<Item<'a>>, cat: &str, mtime: i64) -> Result<()> {
    let parts = components(cat)?;
    let Some((_, dirs)) = parts.split_last() else {
        return Err(Error::invalid("boot catalog path is empty"));
    };
    let parent_path = dirs.join("/");
    let parent = items
        .iter()
        .position(|it| it.is_dir() && it.path == parent_path)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                "directory of the boot catalog is not in the tree",
            )
            .in_path(cat)
        })?;
    let idx = items.len();
    let path = parts.join("/");
    // The name is left empty: `item_name` takes it from the owned path.
    items.push(Item {
        name: "",
        path,
        meta: Meta::new(0o444, 0, 0, mtime),
        parent,
        kind: ItemKind::File {
            payload: Payload::Catalog,
            size: SECTOR,
        },
    });
    let name_of = |items: &Vec<Item<'a>>, i: usize| -> String {
        items[i].path.rsplit('/').next().unwrap_or("").to_string()
    };
    let new_name = name_of(items, idx);
    if let ItemKind::Dir { children, .. } = &items[parent].kind {
        let pos = children
            .iter()
            .position(|&c| name_of(items, c) > new_name)
            .unwrap_or(children.len());
        let mut children = children.clone();
        children.insert(pos, idx);
        items[parent].kind = match &items[parent].kind {
            ItemKind::Dir { subdirs, .. } => ItemKind::Dir {
                children,
                subdirs: *subdirs,
            },
            _ => unreachable!("checked to be a directory above"),
        };
    }
    Ok(())
}

/// The real name of an item (the inserted catalog keeps its name in `path`).
pub(crate) fn item_name<'i>(item: &'i Item<'_>) -> &'i str {
    if item.name.is_empty() {
        item.path.rsplit('/').next().unwrap_or("")
    } else {
        item.name
    }
}

fn nlink(item: &Item<'_>) -> u32 {
    match item.kind {
        ItemKind::Dir { subdirs, .. } => subdirs.saturating_add(2),
        _ => 1,
    }
}

fn parts_of(item: &Item<'_>) -> u32 {
    match item.kind {
        ItemKind::File { size, .. } if size > 0 => size.div_ceil(MAX_EXTENT) as u32,
        _ => 1,
    }
}

/// Build one hierarchy's directories and records (addresses still unset).
fn build_hierarchy(
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
            .map(|&c| (item_name(&items[c]), items[c].is_dir()))
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
        named.sort_by(|a, b| {
            if joliet {
                a.0.cmp(&b.0)
            } else {
                primary_cmp(&a.1, &b.1)
            }
            .then(Ordering::Equal)
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
        name: (role == Role::Child).then(|| item_name(it)),
        target,
        root_dot: role == Role::Dot && item == 0,
    });
    let fixed = RECORD_HEADER + rec.ident.len() + usize::from(rec.ident.len() % 2 == 0);
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

    /// Lay out `tree` with `opts`: assign every address. Files given by path
    /// are stat'ed now and must keep their size until written.
    pub fn new<'a>(tree: &'a IsoTree, opts: &'a WriteOptions) -> Result<Layout<'a>> {
        let catalog_path = opts
            .boot
            .as_ref()
            .map(|b| components(&b.catalog_path).map(|c| c.join("/")))
            .transpose()?;
        let items = flatten(tree, catalog_path.as_deref())?;
        let mut areas = Vec::new();
        let mut primary = build_hierarchy(&items, false, opts.rock_ridge, &mut areas)?;
        let mut joliet = if opts.joliet {
            Some(build_hierarchy(&items, true, false, &mut areas)?)
        } else {
            None
        };

        // Volume descriptors.
        let mut cur = PVD_LBA + 1;
        let boot_record_lba = opts.boot.as_ref().map(|_| {
            cur += 1;
            cur - 1
        });
        let svd_lba = joliet.as_ref().map(|_| {
            cur += 1;
            cur - 1
        });
        let terminator_lba = cur;
        cur += 1;

        // Path tables, then directories, per hierarchy.
        for h in std::iter::once(&mut primary).chain(joliet.iter_mut()) {
            let pt = sectors(u64::from(h.path_table_size)).max(1);
            h.l_table = cur;
            cur = add_lba(cur, pt, "path table")?;
            h.m_table = cur;
            cur = add_lba(cur, pt, "path table")?;
        }
        // Directories, each followed by the Rock Ridge continuation areas of
        // its records: libarchive reads directories as a stream and only
        // picks up a continuation area in the blocks right after the
        // directory that refers to it.
        for h in std::iter::once(&mut primary).chain(joliet.iter_mut()) {
            for d in &mut h.dirs {
                d.lba = cur;
                cur = add_lba(cur, u64::from(d.size) / SECTOR, "directory")?;
                d.ce_sectors = pack_areas(&mut areas[d.areas.clone()], cur)?;
                cur = add_lba(cur, u64::from(d.ce_sectors), "continuation area")?;
            }
        }
        patch_continuations(&mut primary, &mut areas);

        // File data: catalog, boot images, then the rest in tree order.
        let mut files = Placer {
            extent: vec![0u32; items.len()],
            placed: vec![false; items.len()],
            order: Vec::new(),
            cur,
        };
        let mut catalog_entries = Vec::new();
        let mut info_table_items = Vec::new();
        let mut boot_reports = Vec::new();
        let mut catalog_lba = None;
        if let Some(boot) = &opts.boot {
            let cat = items
                .iter()
                .position(|it| {
                    matches!(
                        it.kind,
                        ItemKind::File {
                            payload: Payload::Catalog,
                            ..
                        }
                    )
                })
                .expect("flatten inserts the catalog when boot is set");
            catalog_lba = Some(files.place(&items, cat)?);
            for e in &boot.entries {
                let path = components(&e.boot_file)?.join("/");
                let i = items.iter().position(|it| it.path == path).ok_or_else(|| {
                    Error::new(ErrorKind::NotFound, "boot image is not in the tree").in_path(&path)
                })?;
                let ItemKind::File {
                    payload: Payload::Data(_),
                    size,
                } = items[i].kind
                else {
                    return Err(Error::invalid("boot image is not a regular file").in_path(&path));
                };
                let lba = files.place(&items, i)?;
                if e.patch_boot_info_table && !info_table_items.contains(&i) {
                    info_table_items.push(i);
                }
                let sector_count = e
                    .sector_count
                    .unwrap_or_else(|| u16::try_from(size.div_ceil(512)).unwrap_or(u16::MAX));
                catalog_entries.push(CatalogEntry {
                    platform_id: e.platform_id,
                    bootable: e.bootable,
                    media: e.media,
                    load_segment: e.load_segment,
                    system_type: e.system_type,
                    sector_count,
                    lba,
                });
                boot_reports.push(BootEntryReport {
                    boot_file: path,
                    platform_id: e.platform_id,
                    lba,
                    sector_count,
                    size,
                });
            }
            // Validate now so writing cannot fail on it later.
            super::catalog::catalog_sector(&catalog_entries)?;
        }
        for i in 0..items.len() {
            if !items[i].is_dir() {
                files.place(&items, i)?;
            }
        }
        let Placer {
            extent,
            order: file_order,
            cur,
            ..
        } = files;
        let volume_sectors = add_lba(cur, u64::from(opts.pad_sectors), "padding")?;

        let volume_bytes = u64::from(volume_sectors) * SECTOR;
        let mut image_len = volume_bytes
            .checked_add(opts.tail_len)
            .ok_or_else(|| Error::invalid("tail length overflows"))?;
        if opts.align > 1 {
            image_len = image_len
                .div_ceil(opts.align)
                .checked_mul(opts.align)
                .ok_or_else(|| Error::invalid("alignment overflows"))?;
        }

        let mut files = BTreeMap::new();
        for (i, it) in items.iter().enumerate() {
            if let ItemKind::File { size, .. } = it.kind {
                files.insert(
                    it.path.clone(),
                    FileExtent {
                        lba: extent[i],
                        size,
                    },
                );
            }
        }
        let report = WriteReport {
            files,
            volume_sectors,
            image_len,
            pvd_lba: PVD_LBA,
            catalog_lba,
            boot_entries: boot_reports,
        };
        Ok(Layout {
            opts,
            items,
            primary,
            joliet,
            areas,
            extent,
            file_order,
            boot_record_lba,
            svd_lba,
            terminator_lba,
            catalog_entries,
            info_table_items,
            report,
        })
    }

    /// Final addresses: what a hybrid MBR/GPT generator needs.
    pub fn report(&self) -> &WriteReport {
        &self.report
    }
}

/// Assigns file extents in order, each file once.
struct Placer {
    extent: Vec<u32>,
    placed: Vec<bool>,
    order: Vec<usize>,
    cur: u32,
}

impl Placer {
    /// Give item `i` the next free LBA (empty files and symlinks take no
    /// sectors, like genisoimage) and return it.
    fn place(&mut self, items: &[Item<'_>], i: usize) -> Result<u32> {
        if !self.placed[i] {
            self.placed[i] = true;
            self.extent[i] = self.cur;
            if let ItemKind::File { size, .. } = items[i].kind {
                if size > 0 {
                    self.order.push(i);
                    self.cur = add_lba(self.cur, sectors(size), &items[i].path)?;
                }
            }
        }
        Ok(self.extent[i])
    }
}

/// Give continuation areas addresses from `start` on, none crossing a block
/// (SUSP 5.1; Linux and libarchive reject areas that do). Returns the blocks used.
fn pack_areas(areas: &mut [CeArea], start: u32) -> Result<u32> {
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
fn patch_continuations(h: &mut Hierarchy, areas: &mut [CeArea]) {
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
