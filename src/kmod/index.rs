//! kmod's index file format (`modules.*.bin`): a prefix-compressed trie.
//!
//! The file starts with the magic `0xB007F457`, the version `0x00020001` and the
//! offset of the root node, all big-endian. Nodes are written children first
//! (post-order), so every offset points backwards. A node offset's high bits say what
//! the node holds: `0x80000000` a prefix (NUL-terminated string), `0x20000000` children
//! (first and last child character, then one offset per character in that range, 0
//! where there is none), `0x40000000` values (a count, then for each a priority and a
//! NUL-terminated string). Values of one key are kept sorted by priority; a value
//! inserted with the priority of one already there goes before it. Building the trie
//! the way depmod does (splitting a node's prefix where a new key departs from it)
//! gives the same bytes as depmod.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use crate::error::{Error, Result};

const MAGIC: u32 = 0xB007_F457;
const VERSION: u32 = 0x0002_0001;
const FLAG_PREFIX: u32 = 0x8000_0000;
const FLAG_VALUES: u32 = 0x4000_0000;
const FLAG_CHILDS: u32 = 0x2000_0000;

/// An in-memory index, built by [`Index::insert`] and serialised by [`Index::write`].
#[derive(Debug, Default)]
pub(crate) struct Index {
    root: Node,
}

#[derive(Debug, Default)]
struct Node {
    prefix: Vec<u8>,
    values: Vec<(u32, Vec<u8>)>,
    children: BTreeMap<u8, Node>,
}

fn check_ascii(s: &str) -> Result<()> {
    if s.is_ascii() {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "module index: {s:?} is not 7-bit ASCII (kmod's index cannot hold it)"
        )))
    }
}

impl Index {
    /// An empty index.
    pub(crate) fn new() -> Index {
        Index::default()
    }

    /// Add `value` under `key` with `priority`; both must be 7-bit ASCII.
    pub(crate) fn insert(&mut self, key: &str, value: &str, priority: u32) -> Result<()> {
        check_ascii(key)?;
        check_ascii(value)?;
        let key = key.as_bytes();
        let mut node = &mut self.root;
        let mut i = 0;
        loop {
            // Split the node where the key departs from its prefix.
            if let Some(j) =
                (0..node.prefix.len()).find(|&j| key.get(i + j) != Some(&node.prefix[j]))
            {
                let ch = node.prefix[j];
                let tail = node.prefix.split_off(j + 1);
                node.prefix.truncate(j);
                let child = Node {
                    prefix: tail,
                    values: std::mem::take(&mut node.values),
                    children: std::mem::take(&mut node.children),
                };
                node.children.insert(ch, child);
            }
            i += node.prefix.len();
            let Some(&ch) = key.get(i) else {
                add_value(&mut node.values, value, priority);
                return Ok(());
            };
            match node.children.entry(ch) {
                Entry::Vacant(slot) => {
                    let mut child = Node {
                        prefix: key[i + 1..].to_vec(),
                        ..Node::default()
                    };
                    add_value(&mut child.values, value, priority);
                    slot.insert(child);
                    return Ok(());
                }
                Entry::Occupied(child) => node = child.into_mut(),
            }
            i += 1;
        }
    }

    /// The index file's bytes.
    pub(crate) fn write(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC.to_be_bytes());
        out.extend_from_slice(&VERSION.to_be_bytes());
        out.extend_from_slice(&[0; 4]);
        let root = write_node(&self.root, &mut out);
        out[8..12].copy_from_slice(&root.to_be_bytes());
        out
    }
}

/// Insert before the first value whose priority is not lower (depmod's order).
fn add_value(values: &mut Vec<(u32, Vec<u8>)>, value: &str, priority: u32) {
    let at = values
        .iter()
        .position(|(p, _)| *p >= priority)
        .unwrap_or(values.len());
    values.insert(at, (priority, value.as_bytes().to_vec()));
}

fn write_node(node: &Node, out: &mut Vec<u8>) -> u32 {
    let mut child_offs = Vec::new();
    let range = node
        .children
        .first_key_value()
        .zip(node.children.last_key_value())
        .map(|((&f, _), (&l, _))| (f, l));
    if let Some((first, last)) = range {
        for c in first..=last {
            child_offs.push(node.children.get(&c).map_or(0, |n| write_node(n, out)));
        }
    }
    let mut offset = out.len() as u32;
    if !node.prefix.is_empty() {
        out.extend_from_slice(&node.prefix);
        out.push(0);
        offset |= FLAG_PREFIX;
    }
    if let Some((first, last)) = range {
        out.push(first);
        out.push(last);
        for o in child_offs {
            out.extend_from_slice(&o.to_be_bytes());
        }
        offset |= FLAG_CHILDS;
    }
    if !node.values.is_empty() {
        out.extend_from_slice(&(node.values.len() as u32).to_be_bytes());
        for (p, v) in &node.values {
            out.extend_from_slice(&p.to_be_bytes());
            out.extend_from_slice(v);
            out.push(0);
        }
        offset |= FLAG_VALUES;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_index_is_a_header_and_an_empty_root() {
        let b = Index::new().write();
        assert_eq!(b, [0xb0, 0x07, 0xf4, 0x57, 0, 2, 0, 1, 0, 0, 0, 12]);
    }

    #[test]
    fn split_prefix_and_value_order() {
        let mut idx = Index::new();
        idx.insert("abc", "x", 1).unwrap();
        idx.insert("abd", "y", 0).unwrap();
        idx.insert("abd", "z", 0).unwrap();
        let root = &idx.root;
        assert_eq!(root.prefix, b"");
        let a = &root.children[&b'a'];
        assert_eq!(a.prefix, b"b");
        assert_eq!(a.children[&b'd'].values[0].1, b"z");
        assert_eq!(a.children[&b'd'].values[1].1, b"y");
        assert!(idx.insert("é", "x", 0).is_err());
    }
}
