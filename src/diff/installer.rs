//! The files of `install.img` on both sides: each image is decoded as a stream and
//! read as cpio newc, later entries with a name replacing earlier ones as the kernel
//! does; only a small summary per path (type, mode, owner, device, size, sha256 of
//! the data, symlink target) is kept.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use sha2::{Digest, Sha256};

use super::files::Tree;
use super::{DiffOptions, FieldChange, MetadataChange, PathChanges};
use crate::error::{Error, Result};
use crate::initrd::cpio::{mode, MAX_LINK_TARGET};
use crate::initrd::media;
use crate::iso::mode_string;
use crate::iso::time::format_unix;
use crate::iso::Entry;
use crate::workspace::installer::normalize_name;

const INSTALL_IMG: &str = "install.img";

/// A hard-link group: archive index, inode, device major and minor.
type LinkKey = (u32, u32, u32, u32);

/// One path of the installer root.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    mode: u32,
    uid: u32,
    gid: u32,
    rdev: (u32, u32),
    mtime: u32,
    size: u64,
    digest: [u8; 32],
    target: Option<String>,
    /// Hard-link group (archive, ino, devmajor, devminor) of a file with nlink > 1.
    link: Option<LinkKey>,
}

/// Compare the installer roots, unless `install.img` is absent on a side or its
/// bytes are the same on both (`files` already compared them).
pub(super) fn compare(
    a: &Tree<'_>,
    b: &Tree<'_>,
    files: &PathChanges,
    opts: &DiffOptions,
    notes: &mut Vec<String>,
) -> Result<PathChanges> {
    let (Some(ea), Some(eb)) = (a.file(INSTALL_IMG), b.file(INSTALL_IMG)) else {
        return Ok(PathChanges::default());
    };
    if !files.changed.iter().any(|p| p == INSTALL_IMG) {
        return Ok(PathChanges::default());
    }
    let (Some(ra), Some(rb)) = (root(a, ea, opts, notes)?, root(b, eb, opts, notes)?) else {
        return Ok(PathChanges::default());
    };
    let mut out = PathChanges::default();
    for (path, na) in &ra {
        let Some(nb) = rb.get(path) else {
            out.removed.push(path.clone());
            continue;
        };
        let kind = |n: &Node| n.mode & mode::S_IFMT;
        if kind(na) != kind(nb)
            || na.size != nb.size
            || na.digest != nb.digest
            || na.target != nb.target
        {
            out.changed.push(path.clone());
        }
        let mut v = Vec::new();
        if na.mode != nb.mode {
            v.push(FieldChange::new(
                "mode",
                mode_string(na.mode),
                mode_string(nb.mode),
            ));
        }
        if na.uid != nb.uid {
            v.push(FieldChange::new("uid", na.uid, nb.uid));
        }
        if na.gid != nb.gid {
            v.push(FieldChange::new("gid", na.gid, nb.gid));
        }
        if na.rdev != nb.rdev {
            let d = |r: (u32, u32)| format!("{},{}", r.0, r.1);
            v.push(FieldChange::new("rdev", d(na.rdev), d(nb.rdev)));
        }
        if opts.all && na.mtime != nb.mtime {
            let t = |m: u32| format_unix(i64::from(m));
            v.push(FieldChange::new("mtime", t(na.mtime), t(nb.mtime)));
        }
        if !v.is_empty() {
            out.metadata.push(MetadataChange {
                path: path.clone(),
                changes: v,
            });
        }
    }
    out.added = rb
        .keys()
        .filter(|p| !ra.contains_key(*p))
        .cloned()
        .collect();
    Ok(out)
}

/// The installer root of one image, or `None` (with a note) when its compression is
/// not one xiso reads.
fn root(
    t: &Tree<'_>,
    image: &Entry,
    opts: &DiffOptions,
    notes: &mut Vec<String>,
) -> Result<Option<BTreeMap<String, Node>>> {
    let iso_path = t.iso.source().path();
    let ctx = |e: Error| e.in_file(iso_path).in_path(INSTALL_IMG);
    let mut reader = match media::open_cpio(t.iso, image)? {
        Ok(reader) => reader,
        Err(codec) => {
            notes.push(format!(
                "{}: {INSTALL_IMG} is {}: installer files not compared",
                iso_path.display(),
                codec.name()
            ));
            return Ok(None);
        }
    };
    let mut out: BTreeMap<String, Node> = BTreeMap::new();
    let mut expanded = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    while let Some(e) = reader.next_entry().map_err(ctx)? {
        let raw_name = String::from_utf8_lossy(&e.name).into_owned();
        let path = normalize_name(&raw_name).unwrap_or(raw_name);
        let h = e.header;
        expanded = expanded.saturating_add(u64::from(h.filesize));
        if expanded > opts.max_expanded {
            return Err(ctx(Error::corrupt(
                e.offset,
                format!(
                    "install.img expands beyond {} bytes: refusing (decompression bomb?)",
                    opts.max_expanded
                ),
            )));
        }
        let bad = |err: std::io::Error| {
            ctx(Error::corrupt(
                e.offset,
                format!("{path}: cannot read the entry's data (offset in the decompressed cpio stream): {err}"),
            ))
        };
        let mut target = None;
        let mut hasher = Sha256::new();
        if h.file_type() == mode::S_IFLNK {
            let data = reader.read_data(MAX_LINK_TARGET).map_err(ctx)?;
            target = Some(String::from_utf8_lossy(&data).into_owned());
        } else {
            let mut data = reader.data();
            loop {
                let n = data.read(&mut buf).map_err(bad)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
        }
        let link = (h.file_type() == mode::S_IFREG && h.nlink > 1)
            .then_some((e.archive, h.ino, h.devmajor, h.devminor));
        if path.is_empty() {
            continue;
        }
        out.insert(
            path,
            Node {
                mode: h.mode,
                uid: h.uid,
                gid: h.gid,
                rdev: (h.rdevmajor, h.rdevminor),
                mtime: h.mtime,
                size: u64::from(h.filesize),
                digest: hasher.finalize().into(),
                target,
                link,
            },
        );
    }
    share_link_data(&mut out);
    Ok(Some(out))
}

/// newc stores a hard-link group's data once (usually with its last member, others
/// empty): give every member of a group the data of the member that has it, so two
/// writers that choose different members compare equal.
fn share_link_data(nodes: &mut BTreeMap<String, Node>) {
    let mut data: HashMap<LinkKey, (u64, [u8; 32])> = HashMap::new();
    for n in nodes.values() {
        if let (Some(k), true) = (n.link, n.size > 0) {
            data.insert(k, (n.size, n.digest));
        }
    }
    for n in nodes.values_mut() {
        if let Some((size, digest)) = n.link.and_then(|k| data.get(&k)) {
            n.size = *size;
            n.digest = *digest;
        }
    }
}
