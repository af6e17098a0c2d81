//! Layout: every structure of the new image gets its logical block address
//! before a single byte is written, so the caller can build a hybrid system
//! area (MBR/GPT) from the final addresses and the writer can stream.
//!
//! Order (as genisoimage): system area 0–15, PVD 16, El Torito boot record,
//! Joliet SVD, terminator, path tables (primary L, M, Joliet L, M), primary
//! directories each followed by its Rock Ridge continuation areas, Joliet
//! directories (each hierarchy in path-table order), the boot catalog, the
//! boot images, then every other file in tree order (breadth-first, by name).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::hierarchy::{build_hierarchy, pack_areas, patch_continuations, CeArea, Hierarchy};
use super::items::{flatten, Item, ItemKind, Payload};
use super::tree::{components, FileData, IsoTree};
use super::{FileExtent, PlacedBootEntry, WriteOptions, WriteReport};
use crate::error::{Error, ErrorKind, Result};
use crate::iso::eltorito::BootCatalog;
use crate::source::SECTOR;

/// Largest extent of one directory record: 4 GiB − 2048 (as genisoimage and
/// libisofs); larger files are recorded as several extents (ECMA-119 6.5.1).
pub const MAX_EXTENT: u64 = 0xFFFF_F800;

/// LBA of the primary volume descriptor (ECMA-119 6.2.1: after the 16-sector system area).
pub(crate) const PVD_LBA: u32 = 16;

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
    /// The boot catalog sector (empty without El Torito).
    pub(crate) catalog_sector: Vec<u8>,
    pub(crate) info_table_items: Vec<usize>,
    pub(crate) report: WriteReport,
}

pub(crate) fn add_lba(a: u32, b: u64, what: &str) -> Result<u32> {
    u64::from(a)
        .checked_add(b)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| Error::unsupported(format!("image too large: {what} beyond LBA 2^32")))
}

/// Sectors needed for `len` bytes.
pub(crate) fn sectors(len: u64) -> u64 {
    len.div_ceil(SECTOR)
}

impl Layout<'_> {
    /// Lay out `tree` with `opts`: assign every address. Files given by path
    /// are stat'ed now and must keep their size until written.
    pub fn new<'a>(tree: &'a IsoTree, opts: &'a WriteOptions) -> Result<Layout<'a>> {
        let items = flatten(tree, opts.boot.as_ref().map(|b| b.catalog_path.as_str()))?;
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
            shared: HashMap::new(),
            own_copy: HashSet::new(),
        };
        let mut catalog_entries = Vec::new();
        let mut catalog_sector = Vec::new();
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
                if e.patch_boot_info_table {
                    files.own_copy.insert(i);
                    if !info_table_items.contains(&i) {
                        info_table_items.push(i);
                    }
                }
                let lba = files.place(&items, i)?;
                let mut entry = e.entry.clone();
                entry.load_lba = lba;
                // What genisoimage writes, and so what the spec promises.
                entry.media_flags = 0;
                entry.selection_criteria_type = 0;
                entry.selection_criteria.clear();
                if e.sector_count_from_file {
                    entry.sector_count = u16::try_from(size.div_ceil(512)).unwrap_or(u16::MAX);
                }
                boot_reports.push(PlacedBootEntry {
                    boot_file: path,
                    entry: entry.clone(),
                    size,
                });
                catalog_entries.push(entry);
            }
            // Serialize now so writing cannot fail on it later.
            catalog_sector = BootCatalog::one_section_per_entry(&catalog_entries)?
                .to_sector()?
                .to_vec();
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
            catalog_sector,
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
    /// Source extents already placed: `(offset, len)` to LBA.
    shared: HashMap<(u64, u64), u32>,
    /// Items whose bytes are patched (boot info table): never shared.
    own_copy: HashSet<usize>,
}

impl Placer {
    /// Give item `i` the next free LBA (empty files and symlinks take no
    /// sectors, like genisoimage) and return it. Files that are the same
    /// extent of the source (hard links there, or extents the source shared)
    /// share one extent here too, unless one of them is patched.
    fn place(&mut self, items: &[Item<'_>], i: usize) -> Result<u32> {
        if self.placed[i] {
            return Ok(self.extent[i]);
        }
        self.placed[i] = true;
        self.extent[i] = self.cur;
        let ItemKind::File { size, payload } = items[i].kind else {
            return Ok(self.cur);
        };
        if size == 0 {
            return Ok(self.cur);
        }
        let key = match payload {
            Payload::Data(FileData::SourceExtent { offset, len })
                if !self.own_copy.contains(&i) =>
            {
                Some((*offset, *len))
            }
            _ => None,
        };
        if let Some(lba) = key.and_then(|k| self.shared.get(&k)) {
            self.extent[i] = *lba;
            return Ok(*lba);
        }
        if let Some(k) = key {
            self.shared.insert(k, self.cur);
        }
        self.order.push(i);
        self.cur = add_lba(self.cur, sectors(size), &items[i].path)?;
        Ok(self.extent[i])
    }
}
