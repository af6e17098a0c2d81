//! The rpmdb of an installed root, read-only: which version of a package is
//! installed and the files it owns.
//!
//! rpm keeps one header blob per installed package: the main header as
//! `headerExport` writes it, i.e. without the 8-byte magic and reserved bytes
//! that start a header in a package file. Roots made by rpm ≥ 4.16 hold them in
//! SQLite (`var/lib/rpm/rpmdb.sqlite`, table `Packages(hnum, blob)`), read by
//! [`super::sqlite`]; EL7 roots (the XCP-ng 8 installer) in a Berkeley DB hash
//! (`var/lib/rpm/Packages`, keyed by the 4-byte header number; number 0 holds
//! rpm's counter, not a header), read by [`super::bdb`]. SQLite wins when a
//! root has both. xiso never writes an rpmdb.

use std::fs;
use std::io;
use std::path::Path;

use super::header::Header;
use super::payload::file_list;
use super::sqlite::{Database, Value};
use super::tag::main as t;
use crate::error::{Error, Result};

/// Path of the SQLite rpmdb inside a root.
pub(crate) const SQLITE_PATH: &str = "var/lib/rpm/rpmdb.sqlite";
/// Path of the Berkeley DB rpmdb inside a root.
pub(crate) const BDB_PATH: &str = "var/lib/rpm/Packages";

/// A package as the rpmdb records it.
#[derive(Debug, Clone)]
pub(crate) struct InstalledHeader {
    /// Name.
    pub name: String,
    /// `[epoch:]version-release`.
    pub evr: String,
    /// Absolute paths the package owns.
    pub files: Vec<String>,
    /// Which database it came from (`rpmdb-sqlite`, `rpmdb-bdb`).
    pub source: &'static str,
}

/// Every package of the rpmdb under `root` (empty when the root has none).
/// A database xiso cannot read is an error naming it: replacing a package
/// without its old file list would leave stale files behind.
pub(crate) fn packages(root: &Path) -> Result<Vec<InstalledHeader>> {
    let path = root.join(SQLITE_PATH);
    let Some(data) = read_regular(&path)? else {
        let bdb = root.join(BDB_PATH);
        return match read_regular(&bdb)? {
            Some(d) => bdb_packages(&d).map_err(|e| e.in_file(&bdb)),
            None => Ok(Vec::new()),
        };
    };
    let wal = root.join(format!("{SQLITE_PATH}-wal"));
    if read_regular(&wal)?.is_some_and(|w| !w.is_empty()) {
        return Err(Error::unsupported(
            "the rpmdb has uncommitted changes in rpmdb.sqlite-wal (open it with rpm once to checkpoint it)",
        )
        .in_file(&wal));
    }
    sqlite_packages(data).map_err(|e| e.in_file(&path))
}

/// A regular file's bytes; `None` when absent. A symlink is not followed: it
/// could point outside the root.
fn read_regular(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::symlink_metadata(path) {
        Ok(md) if md.is_file() => fs::read(path)
            .map(Some)
            .map_err(|e| Error::io(e, "cannot read the rpmdb").in_file(path)),
        Ok(_) => Err(Error::unsupported("the rpmdb is not a regular file").in_file(path)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(e, "cannot stat the rpmdb").in_file(path)),
    }
}

fn sqlite_packages(data: Vec<u8>) -> Result<Vec<InstalledHeader>> {
    let db = Database::new(data)?;
    let Some(root) = db.table_root("Packages")? else {
        return Err(Error::corrupt(0, "the rpmdb has no Packages table"));
    };
    let mut out = Vec::new();
    for (hnum, row) in db.rows(root)? {
        let Some(Value::Blob(blob)) = row.get(1) else {
            return Err(Error::corrupt(
                0,
                format!("Packages row {hnum} has no header blob"),
            ));
        };
        out.push(from_blob(blob, "rpmdb-sqlite").map_err(|e| {
            Error::corrupt(
                e.offset().unwrap_or(0),
                format!("Packages row {hnum}: {}", e.message()),
            )
        })?);
    }
    Ok(out)
}

fn bdb_packages(data: &[u8]) -> Result<Vec<InstalledHeader>> {
    let mut out = Vec::new();
    for (key, blob) in super::bdb::hash_pairs(data)? {
        if key.iter().all(|&b| b == 0) {
            continue; // rpm's instance counter
        }
        out.push(from_blob(&blob, "rpmdb-bdb").map_err(|e| {
            Error::corrupt(
                e.offset().unwrap_or(0),
                format!("Packages record {key:02x?}: {}", e.message()),
            )
        })?);
    }
    Ok(out)
}

/// Parse a header blob as the rpmdb stores it (no magic) into a package;
/// `source` names the database.
pub(crate) fn from_blob(blob: &[u8], source: &'static str) -> Result<InstalledHeader> {
    // Give it the intro a package file has, and read it as one.
    let mut bytes = Vec::with_capacity(blob.len() + 8);
    bytes.extend_from_slice(&[0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]);
    bytes.extend_from_slice(blob);
    let h = Header::read(&mut &bytes[..], 0)?;
    let text = |tag: u32| -> Result<String> {
        Ok(h.string(tag)?
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default())
    };
    let v = format!("{}-{}", text(t::VERSION)?, text(t::RELEASE)?);
    let evr = match h.number(t::EPOCH)? {
        Some(e) => format!("{e}:{v}"),
        None => v,
    };
    Ok(InstalledHeader {
        name: text(t::NAME)?,
        evr,
        files: file_list(&h)?.into_iter().map(|f| f.path).collect(),
        source,
    })
}
