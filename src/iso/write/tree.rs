//! The tree to be written: directories, files and symbolic links with their
//! POSIX metadata, and where each file's bytes come from.
//!
//! Paths are `/`-separated and relative to the root (a leading `/` is
//! ignored). Names are the real (Rock Ridge) names; the ISO 9660 and Joliet
//! names are derived from them when the image is laid out.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::{Error, ErrorKind, Result};

/// Longest name component accepted (Linux `NAME_MAX`; Rock Ridge `NM` could
/// hold more, but no reader would accept it).
pub(crate) const MAX_NAME_BYTES: usize = 255;

/// POSIX metadata recorded in Rock Ridge `PX` and `TF` entries.
///
/// `mode` holds the permission bits (`0o7777`); the file type bits are taken
/// from the node kind. Times are Unix seconds, written in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Meta {
    /// Permission bits (`mode & 0o7777` is used).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Modification time; also the ISO 9660 directory record date.
    pub mtime: i64,
    /// Access time.
    pub atime: i64,
    /// Attribute change time.
    pub ctime: i64,
}

impl Meta {
    /// Metadata with all three times set to `mtime`.
    pub(crate) fn new(mode: u32, uid: u32, gid: u32, mtime: i64) -> Meta {
        Meta {
            mode,
            uid,
            gid,
            mtime,
            atime: mtime,
            ctime: mtime,
        }
    }

    /// `root:root 0755`, the usual directory metadata (`genisoimage -r`).
    pub fn dir(mtime: i64) -> Meta {
        Meta::new(0o755, 0, 0, mtime)
    }

    /// `root:root 0644`, the usual file metadata.
    pub fn file(mtime: i64) -> Meta {
        Meta::new(0o644, 0, 0, mtime)
    }
}

/// Where a file's bytes come from. Only `Bytes` lives in memory; the others
/// are streamed in bounded chunks when the image is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileData {
    /// `len` bytes at byte `offset` of the source image (an untouched extent).
    SourceExtent {
        /// Byte offset in the source.
        offset: u64,
        /// Length in bytes.
        len: u64,
    },
    /// A file on disk; its size is taken when the image is laid out and must
    /// not change before it is written.
    Path(PathBuf),
    /// New bytes held in memory.
    Bytes(Vec<u8>),
    /// The parts' bytes one after the other (an install.img with one more archive
    /// appended: the source's extent, then a file). Parts must not be `Concat`.
    Concat(Vec<FileData>),
    /// Bytes made while the image is written, straight into it (an install.img
    /// spliced from the source's bzip2 blocks).
    Generated(Generated),
}

/// Bytes of a known size, made on demand: see [`FileData::Generated`].
pub trait Generate: std::fmt::Debug + Send + Sync {
    /// How many bytes [`write_to`](Self::write_to) writes (asked at layout).
    fn len(&self) -> u64;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Write exactly [`len`](Self::len) bytes into `out`.
    fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()>;
}

/// A shared [`Generate`]; two are equal when they are the same object.
#[derive(Debug, Clone)]
pub struct Generated(pub std::sync::Arc<dyn Generate>);

impl PartialEq for Generated {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(
            std::sync::Arc::as_ptr(&self.0),
            std::sync::Arc::as_ptr(&other.0),
        )
    }
}

impl Eq for Generated {}

/// One entry of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A directory and its children, sorted by name.
    Dir(Dir),
    /// A regular file.
    File {
        /// Its bytes.
        data: FileData,
        /// Its metadata.
        meta: Meta,
    },
    /// A symbolic link (Rock Ridge `SL`).
    Symlink {
        /// The link target, as `readlink` returns it.
        target: String,
        /// Its metadata.
        meta: Meta,
    },
}

impl Node {
    /// The node's metadata.
    pub(crate) fn meta(&self) -> &Meta {
        match self {
            Node::Dir(d) => &d.meta,
            Node::File { meta, .. } | Node::Symlink { meta, .. } => meta,
        }
    }
}

/// A directory: metadata and children keyed by their real name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dir {
    /// The directory's metadata.
    pub meta: Meta,
    /// Children by name; a `BTreeMap` so iteration (and thus layout) is deterministic.
    pub children: BTreeMap<String, Node>,
}

impl Dir {
    /// An empty directory.
    pub(crate) fn new(meta: Meta) -> Dir {
        Dir {
            meta,
            children: BTreeMap::new(),
        }
    }
}

/// The file tree of a new image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoTree {
    root: Dir,
}

/// Split a tree path into validated components.
pub(crate) fn components(path: &str) -> Result<Vec<&str>> {
    let trimmed = path.trim_start_matches('/');
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<&str> = trimmed.split('/').collect();
    for p in &parts {
        if p.is_empty() || *p == "." || *p == ".." {
            return Err(Error::invalid(format!("bad component {p:?} in tree path")).in_path(path));
        }
        if p.len() > MAX_NAME_BYTES {
            return Err(Error::invalid(format!(
                "name is {} bytes, longer than {MAX_NAME_BYTES}",
                p.len()
            ))
            .in_path(path));
        }
        if p.contains('\0') {
            return Err(Error::invalid("name contains a NUL byte").in_path(path));
        }
    }
    Ok(parts)
}

impl IsoTree {
    /// An empty tree whose root directory has `root_meta`.
    pub fn new(root_meta: Meta) -> IsoTree {
        IsoTree {
            root: Dir::new(root_meta),
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Dir {
        &self.root
    }

    /// Add a directory, or update the metadata of an existing one. The parent
    /// must exist.
    pub fn add_dir(&mut self, path: &str, meta: Meta) -> Result<()> {
        let (parent, name) = self.parent_mut(path)?;
        let Some(name) = name else {
            self.root.meta = meta;
            return Ok(());
        };
        match parent.children.get_mut(name) {
            Some(Node::Dir(d)) => d.meta = meta,
            Some(_) => {
                return Err(Error::invalid("exists and is not a directory").in_path(path));
            }
            None => {
                parent
                    .children
                    .insert(name.to_string(), Node::Dir(Dir::new(meta)));
            }
        }
        Ok(())
    }

    /// Add a regular file, replacing a file or symlink of the same name. The
    /// parent must exist.
    pub fn add_file(&mut self, path: &str, data: FileData, meta: Meta) -> Result<()> {
        self.insert_leaf(path, Node::File { data, meta })
    }

    /// Add a symbolic link, replacing a file or symlink of the same name.
    pub fn add_symlink(&mut self, path: &str, target: &str, meta: Meta) -> Result<()> {
        if target.is_empty() || target.contains('\0') {
            return Err(Error::invalid("empty symlink target or NUL in it").in_path(path));
        }
        self.insert_leaf(
            path,
            Node::Symlink {
                target: target.to_string(),
                meta,
            },
        )
    }

    /// Remove an entry (a directory with everything below it) and return it.
    pub fn remove(&mut self, path: &str) -> Option<Node> {
        let (parent, name) = self.parent_mut(path).ok()?;
        parent.children.remove(name?)
    }

    /// The entry at `path`; `None` if absent. The root is not a `Node`: use [`IsoTree::root`].
    pub fn get(&self, path: &str) -> Option<&Node> {
        let parts = components(path).ok()?;
        let (last, dirs) = parts.split_last()?;
        let mut dir = &self.root;
        for p in dirs {
            match dir.children.get(*p)? {
                Node::Dir(d) => dir = d,
                _ => return None,
            }
        }
        dir.children.get(*last)
    }

    fn insert_leaf(&mut self, path: &str, node: Node) -> Result<()> {
        let (parent, name) = self.parent_mut(path)?;
        let Some(name) = name else {
            return Err(Error::invalid("the root can only be a directory").in_path(path));
        };
        if let Some(Node::Dir(_)) = parent.children.get(name) {
            return Err(Error::invalid("exists and is a directory").in_path(path));
        }
        parent.children.insert(name.to_string(), node);
        Ok(())
    }

    /// The parent directory of `path` and the last component (`None` for the root).
    fn parent_mut<'p>(&mut self, path: &'p str) -> Result<(&mut Dir, Option<&'p str>)> {
        let parts = components(path)?;
        let Some((last, dirs)) = parts.split_last() else {
            return Ok((&mut self.root, None));
        };
        let mut dir = &mut self.root;
        for p in dirs {
            match dir.children.get_mut(*p) {
                Some(Node::Dir(d)) => dir = d,
                Some(_) => {
                    return Err(Error::invalid(format!("{p} is not a directory")).in_path(path));
                }
                None => {
                    return Err(Error::new(
                        ErrorKind::NotFound,
                        format!("parent directory {p} does not exist"),
                    )
                    .in_path(path));
                }
            }
        }
        Ok((dir, Some(*last)))
    }
}
