//! The tree flattened into a list of items (index 0 is the root), in
//! breadth-first order with children by name, which is the order file data
//! is laid out in. The boot catalog becomes an item of its own kind.

use super::layout::MAX_EXTENT;
use super::tree::{components, Dir, FileData, IsoTree, Meta, Node};
use crate::error::{Error, ErrorKind, Result};
use crate::source::SECTOR;

/// Where a file's bytes come from once laid out.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Payload<'a> {
    Data(&'a FileData),
    Catalog,
}

/// What an item is.
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
    pub(crate) fn is_dir(&self) -> bool {
        matches!(self.kind, ItemKind::Dir { .. })
    }
}

pub(super) fn file_size(data: &FileData, path: &str) -> Result<u64> {
    match data {
        FileData::Concat(parts) => parts.iter().try_fold(0u64, |sum, part| {
            if matches!(part, FileData::Concat(_)) {
                return Err(Error::invalid("file data nests Concat in Concat").in_path(path));
            }
            sum.checked_add(file_size(part, path)?)
                .ok_or_else(|| Error::invalid("file size overflows").in_path(path))
        }),
        FileData::Bytes(b) => Ok(b.len() as u64),
        FileData::SourceExtent { len, .. } => Ok(*len),
        FileData::Generated(g) => Ok(g.0.len()),
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

/// The boot catalog's place: normalized path, name and parent directory path.
struct CatalogPath<'a> {
    path: String,
    name: &'a str,
    parent: String,
}

/// Flatten the tree breadth-first; the file at the boot catalog path (the
/// source's old catalog) becomes `Payload::Catalog`, or one is added.
pub(crate) fn flatten<'a>(tree: &'a IsoTree, catalog: Option<&'a str>) -> Result<Vec<Item<'a>>> {
    let catalog = match catalog {
        Some(raw) => {
            let parts = components(raw)?;
            let Some((name, dirs)) = parts.split_last() else {
                return Err(Error::invalid("boot catalog path is empty"));
            };
            Some(CatalogPath {
                path: parts.join("/"),
                name,
                parent: dirs.join("/"),
            })
        }
        None => None,
    };
    let is_catalog = |path: &str| catalog.as_ref().is_some_and(|c| c.path == path);
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
                Node::Dir(_) if is_catalog(&path) => {
                    return Err(Error::invalid("boot catalog path is a directory").in_path(path));
                }
                Node::Symlink { .. } if is_catalog(&path) => {
                    return Err(Error::invalid("boot catalog path is a symlink").in_path(path));
                }
                Node::File { .. } if is_catalog(&path) => {
                    catalog_found = true;
                    ItemKind::File {
                        payload: Payload::Catalog,
                        size: SECTOR,
                    }
                }
                Node::Dir(_) => {
                    subdirs = subdirs.saturating_add(1);
                    ItemKind::Dir {
                        children: Vec::new(),
                        subdirs: 0,
                    }
                }
                Node::File { data, .. } => ItemKind::File {
                    payload: Payload::Data(data),
                    size: file_size(data, &path)?,
                },
                Node::Symlink { target, .. } => ItemKind::Symlink { target },
            };
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

/// Add the boot catalog as a new file (mode 0444) when the tree has none.
fn insert_catalog<'a>(items: &mut Vec<Item<'a>>, cat: CatalogPath<'a>, mtime: i64) -> Result<()> {
    let parent = items
        .iter()
        .position(|it| it.is_dir() && it.path == cat.parent)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                "directory of the boot catalog is not in the tree",
            )
            .in_path(&cat.path)
        })?;
    let idx = items.len();
    let ItemKind::Dir { children, .. } = &items[parent].kind else {
        unreachable!("found as a directory above")
    };
    let pos = children
        .iter()
        .position(|&c| items[c].name > cat.name)
        .unwrap_or(children.len());
    items.push(Item {
        name: cat.name,
        path: cat.path,
        meta: Meta::new(0o444, 0, 0, mtime),
        parent,
        kind: ItemKind::File {
            payload: Payload::Catalog,
            size: SECTOR,
        },
    });
    if let ItemKind::Dir { children, .. } = &mut items[parent].kind {
        children.insert(pos, idx);
    }
    Ok(())
}

pub(crate) fn nlink(item: &Item<'_>) -> u32 {
    match item.kind {
        ItemKind::Dir { subdirs, .. } => subdirs.saturating_add(2),
        _ => 1,
    }
}

pub(crate) fn parts_of(item: &Item<'_>) -> u32 {
    match item.kind {
        ItemKind::File { size, .. } if size > 0 => size.div_ceil(MAX_EXTENT) as u32,
        _ => 1,
    }
}
