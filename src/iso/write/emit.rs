//! Writing a laid-out image front to back. Every structure is checked to
//! start at the byte its LBA says, so a layout bug is an error, not a
//! silently shifted image.

use std::fs::File;
use std::io::{Read, Seek, Write};

use super::dirrec::{encode, RECORD_HEADER};
use super::hierarchy::Hierarchy;
use super::items::{ItemKind, Payload};
use super::layout::{sectors, Layout, PVD_LBA};
use super::sink::Sink;
use super::volume::{descriptor, path_table, terminator, HierarchyPlace};
use crate::error::{Error, ErrorKind, Result};
use crate::iso::eltorito::boot_record_sector;
use crate::source::{Source, SECTOR};

use super::tree::FileData;

/// Size of the system area (ECMA-119 6.2.1: sectors 0–15).
pub(crate) const SYSTEM_AREA_LEN: usize = 16 * SECTOR as usize;

/// A boot image with a boot info table is read whole; bound it.
const INFO_TABLE_MAX: u64 = 64 << 20;

const CHUNK: usize = 1 << 20;

fn io_err(e: std::io::Error) -> Error {
    Error::io(e, "writing the image")
}

fn expect_at(sink: &Sink<'_>, lba: u32, what: &str) -> Result<()> {
    let want = u64::from(lba) * SECTOR;
    if sink.pos() != want {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "internal layout error: {what} belongs at byte {want} but the output is at {}",
                sink.pos()
            ),
        ));
    }
    Ok(())
}

fn pad_sector(sink: &mut Sink<'_>) -> Result<()> {
    let rem = sink.pos() % SECTOR;
    if rem != 0 {
        sink.zeros(SECTOR - rem).map_err(io_err)?;
    }
    Ok(())
}

fn root_record(layout: &Layout<'_>, h: &Hierarchy) -> [u8; 34] {
    let root = &h.dirs[0];
    let r = encode(
        root.lba,
        root.size,
        layout.items[0].meta.mtime,
        0x02,
        &[0],
        &[],
    );
    let mut b = [0u8; 34];
    b.copy_from_slice(&r[..34]);
    b
}

fn place_of(layout: &Layout<'_>, h: &Hierarchy) -> HierarchyPlace {
    HierarchyPlace {
        path_table_size: h.path_table_size,
        l_table: h.l_table,
        m_table: h.m_table,
        root_record: root_record(layout, h),
    }
}

fn write_dirs(layout: &Layout<'_>, h: &Hierarchy, sink: &mut Sink<'_>) -> Result<()> {
    for (d, dir) in h.dirs.iter().enumerate() {
        let path = &layout.items[dir.item].path;
        expect_at(sink, dir.lba, path)?;
        sink.track(
            &format!("directory {path:?}"),
            u64::from(dir.lba) * SECTOR,
            u64::from(dir.size),
        );
        let mut buf = Vec::with_capacity(dir.size as usize);
        let mut used = 0usize;
        for rec in &dir.records {
            let r = layout.resolve(h, d, rec);
            let bytes = encode(r.lba, r.size, r.mtime, r.flags, &rec.ident, &rec.su);
            debug_assert!(bytes.len() >= RECORD_HEADER);
            if used + bytes.len() > SECTOR as usize {
                buf.resize(buf.len() + SECTOR as usize - used, 0);
                used = 0;
            }
            used += bytes.len();
            buf.extend_from_slice(&bytes);
        }
        buf.resize(dir.size as usize, 0);
        sink.write_all(&buf).map_err(io_err)?;
        if dir.ce_sectors > 0 {
            let start = dir.lba + dir.size / SECTOR as u32;
            expect_at(sink, start, "Rock Ridge continuation areas")?;
            sink.track(
                &format!("Rock Ridge continuation areas of {path:?}"),
                u64::from(start) * SECTOR,
                u64::from(dir.ce_sectors) * SECTOR,
            );
            let mut ce = vec![0u8; dir.ce_sectors as usize * SECTOR as usize];
            for a in &layout.areas[dir.areas.clone()] {
                let at = (a.lba - start) as usize * SECTOR as usize + a.offset as usize;
                ce[at..at + a.bytes.len()].copy_from_slice(&a.bytes);
            }
            sink.write_all(&ce).map_err(io_err)?;
        }
    }
    Ok(())
}

fn write_path_tables(h: &Hierarchy, sink: &mut Sink<'_>) -> Result<()> {
    let rows = h.rows();
    for (lba, be) in [(h.l_table, false), (h.m_table, true)] {
        expect_at(sink, lba, "path table")?;
        sink.track(
            if be {
                "path table (M)"
            } else {
                "path table (L)"
            },
            u64::from(lba) * SECTOR,
            sectors(u64::from(h.path_table_size)).max(1) * SECTOR,
        );
        let t = path_table(&rows, be);
        sink.write_all(&t).map_err(io_err)?;
        let want = sectors(t.len() as u64).max(1) * SECTOR;
        sink.zeros(want - t.len() as u64).map_err(io_err)?;
    }
    Ok(())
}

/// Read a whole (small) file's bytes, for the boot info table.
fn read_small(data: &FileData, size: u64, source: Option<&Source>, path: &str) -> Result<Vec<u8>> {
    if size > INFO_TABLE_MAX {
        return Err(Error::unsupported(format!(
            "boot image with a boot info table is {size} bytes; at most {INFO_TABLE_MAX} supported"
        ))
        .in_path(path));
    }
    let mut v = Vec::with_capacity(size as usize);
    copy_data(data, size, source, &mut v, path)?;
    Ok(v)
}

/// Stream a file's bytes into `out` in bounded chunks.
fn copy_data(
    data: &FileData,
    size: u64,
    source: Option<&Source>,
    out: &mut dyn Write,
    path: &str,
) -> Result<()> {
    match data {
        FileData::Bytes(b) => out.write_all(b).map_err(io_err),
        FileData::SourceExtent { offset, len } => {
            let src = source.ok_or_else(|| {
                Error::invalid("file data is an extent of the source, but no source was given")
                    .in_path(path)
            })?;
            src.copy_range(*offset, *len, out, path)
                .map_err(|e| e.in_path(path))
        }
        FileData::Path(p) => {
            let mut f = File::open(p).map_err(|e| Error::io(e, "cannot open").in_file(p))?;
            copy_file_rest(&mut f, size, size, out, p, path)
        }
        FileData::Concat(parts) => {
            for part in parts {
                let part_size = super::items::file_size(part, path)?;
                copy_data(part, part_size, source, out, path)?;
            }
            Ok(())
        }
        FileData::Generated(g) => g.0.write_to(out).map_err(|e| {
            if super::sink::output_full(&e) {
                io_err(e)
            } else {
                Error::io(e, "cannot make the file's bytes").in_path(path)
            }
        }),
    }
}

/// Write one file's `size` bytes (as laid out) at the sink's position: extents of
/// the source and workspace files by kernel copy when the sink is a file.
fn emit_data(
    sink: &mut Sink<'_>,
    data: &FileData,
    size: u64,
    source: Option<&Source>,
    path: &str,
) -> Result<()> {
    crate::cleanup::check_interrupted()?;
    match (data, source) {
        (FileData::SourceExtent { offset, len }, Some(src)) => sink
            .copy_source(src, *offset, *len, path)
            .map_err(|e| e.in_path(path)),
        (FileData::Path(p), _) if sink.is_file() => {
            let mut f = File::open(p).map_err(|e| Error::io(e, "cannot open").in_file(p))?;
            let done = sink.copy_file(&f, size).map_err(|e| {
                if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    shrank(p, path, size, size)
                } else if super::sink::output_full(&e) {
                    io_err(e)
                } else {
                    Error::io(e, "reading").in_file(p).in_path(path)
                }
            })?;
            f.seek(std::io::SeekFrom::Start(done))
                .map_err(|e| Error::io(e, "seeking").in_file(p))?;
            copy_file_rest(&mut f, size - done, size, sink, p, path)
        }
        (FileData::Concat(parts), _) => {
            // Each part as laid out now; a part that changed size since the layout
            // shows as a wrong total, which the caller checks.
            for part in parts {
                let part_size = super::items::file_size(part, path)?;
                emit_data(sink, part, part_size, source, path)?;
            }
            Ok(())
        }
        (data, _) => copy_data(data, size, source, sink, path),
    }
}

/// The file's size changed between layout and writing.
fn shrank(p: &std::path::Path, path: &str, left: u64, size: u64) -> Error {
    Error::invalid(format!(
        "file shrank after layout: {left} of {size} bytes missing"
    ))
    .in_file(p)
    .in_path(path)
}

/// Write the last `left` of the `size` bytes of `f` (read from its current offset)
/// to `out`, then check the file did not grow.
fn copy_file_rest(
    f: &mut File,
    mut left: u64,
    size: u64,
    out: &mut dyn Write,
    p: &std::path::Path,
    path: &str,
) -> Result<()> {
    let mut buf = vec![0u8; usize::try_from(left).map_or(CHUNK, |l| l.clamp(1, CHUNK))];
    while left > 0 {
        let want = left.min(buf.len() as u64) as usize;
        let n = f
            .read(&mut buf[..want])
            .map_err(|e| Error::io(e, "reading").in_file(p))?;
        if n == 0 {
            return Err(shrank(p, path, left, size));
        }
        out.write_all(&buf[..n]).map_err(io_err)?;
        left -= n as u64;
    }
    let mut probe = [0u8; 1];
    if f.read(&mut probe)
        .map_err(|e| Error::io(e, "reading").in_file(p))?
        != 0
    {
        return Err(
            Error::invalid(format!("file grew after layout beyond {size} bytes"))
                .in_file(p)
                .in_path(path),
        );
    }
    Ok(())
}

/// Write the image described by `layout` into `sink`.
pub(crate) fn emit(
    layout: &Layout<'_>,
    source: Option<&Source>,
    system_area: &[u8],
    tail: &[u8],
    sink: &mut Sink<'_>,
) -> Result<()> {
    let opts = layout.opts;
    if system_area.len() > SYSTEM_AREA_LEN {
        return Err(Error::invalid(format!(
            "system area is {} bytes; at most {SYSTEM_AREA_LEN}",
            system_area.len()
        )));
    }
    if tail.len() as u64 != opts.tail_len {
        return Err(Error::invalid(format!(
            "tail is {} bytes but the layout reserved {}",
            tail.len(),
            opts.tail_len
        )));
    }
    let report = &layout.report;
    sink.track("system area", 0, SYSTEM_AREA_LEN as u64);
    sink.write_all(system_area).map_err(io_err)?;
    sink.zeros((SYSTEM_AREA_LEN - system_area.len()) as u64)
        .map_err(io_err)?;

    // Volume descriptor set.
    expect_at(sink, PVD_LBA, "primary volume descriptor")?;
    sink.track(
        "primary volume descriptor",
        u64::from(PVD_LBA) * SECTOR,
        SECTOR,
    );
    let prim_place = place_of(layout, &layout.primary);
    sink.write_all(&descriptor(opts, report.volume_sectors, &prim_place, false))
        .map_err(io_err)?;
    if let (Some(lba), Some(cat)) = (layout.boot_record_lba, report.catalog_lba) {
        expect_at(sink, lba, "boot record")?;
        sink.track("boot record", u64::from(lba) * SECTOR, SECTOR);
        sink.write_all(&boot_record_sector(cat)).map_err(io_err)?;
    }
    if let (Some(lba), Some(j)) = (layout.svd_lba, &layout.joliet) {
        expect_at(sink, lba, "Joliet volume descriptor")?;
        sink.track("Joliet volume descriptor", u64::from(lba) * SECTOR, SECTOR);
        let place = place_of(layout, j);
        sink.write_all(&descriptor(opts, report.volume_sectors, &place, true))
            .map_err(io_err)?;
    }
    expect_at(
        sink,
        layout.terminator_lba,
        "volume descriptor set terminator",
    )?;
    sink.track(
        "volume descriptor set terminator",
        u64::from(layout.terminator_lba) * SECTOR,
        SECTOR,
    );
    sink.write_all(&terminator()).map_err(io_err)?;

    let hierarchies: Vec<&Hierarchy> = std::iter::once(&layout.primary)
        .chain(layout.joliet.iter())
        .collect();
    for h in &hierarchies {
        write_path_tables(h, sink)?;
    }
    for h in &hierarchies {
        write_dirs(layout, h, sink)?;
    }

    // File data.
    for &i in &layout.file_order {
        let item = &layout.items[i];
        let lba = layout.extent[i];
        expect_at(sink, lba, &item.path)?;
        let ItemKind::File { payload, size } = item.kind else {
            unreachable!("only files are in file_order")
        };
        sink.track(
            &format!("file {:?}", item.path),
            u64::from(lba) * SECTOR,
            sectors(size) * SECTOR,
        );
        match payload {
            Payload::Catalog => {
                sink.write_all(&layout.catalog_sector).map_err(io_err)?;
            }
            Payload::Data(data) if layout.info_table_items.contains(&i) => {
                let mut bytes = read_small(data, size, source, &item.path)?;
                crate::boot::info_table::patch(&mut bytes, PVD_LBA, lba)
                    .map_err(|e| e.in_path(&item.path))?;
                sink.write_all(&bytes).map_err(io_err)?;
            }
            Payload::Data(data) => emit_data(sink, data, size, source, &item.path)?,
        }
        let end = u64::from(lba) * SECTOR + size;
        if sink.pos() != end {
            return Err(Error::invalid(format!(
                "wrote {} bytes but {size} were laid out",
                sink.pos() - u64::from(lba) * SECTOR
            ))
            .in_path(&item.path));
        }
        pad_sector(sink)?;
    }

    // Padding inside the volume, then up to the tail, then the tail.
    let volume_end = u64::from(report.volume_sectors) * SECTOR;
    let tail_at = report.image_len.checked_sub(opts.tail_len);
    let (Some(volume_pad), Some(tail_at)) = (volume_end.checked_sub(sink.pos()), tail_at) else {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "internal layout error: the volume's structures end at byte {} past its size {volume_end}, or the tail ({} bytes) does not fit the image ({} bytes)",
                sink.pos(),
                opts.tail_len,
                report.image_len
            ),
        ));
    };
    sink.track(VOLUME_PADDING, sink.pos(), volume_pad);
    sink.zeros(volume_pad).map_err(io_err)?;
    let align_pad = tail_at.checked_sub(volume_end).ok_or_else(|| {
        Error::new(
            ErrorKind::Io,
            format!("internal layout error: the tail at byte {tail_at} starts inside the volume ({volume_end} bytes)"),
        )
    })?;
    sink.track(ALIGNMENT_PADDING, volume_end, align_pad);
    sink.zeros(align_pad).map_err(io_err)?;
    sink.track(TAIL, tail_at, opts.tail_len);
    sink.write_all(tail).map_err(io_err)?;
    sink.check_writes(volume_end, report.image_len, |what| {
        what != ALIGNMENT_PADDING && what != TAIL
    })
}

/// Names of the tracked regions after the volume's structures (files are named
/// `file "path"`, so these cannot collide with them).
const VOLUME_PADDING: &str = "padding of the volume";
const ALIGNMENT_PADDING: &str = "alignment padding after the volume";
const TAIL: &str = "tail after the volume";
