//! The one streaming reader of repository metadata XML (primary, filelists,
//! other): the root element, then each `<package>` child of it in turn, so a file
//! of tens of megabytes decompressed is never held whole in memory. What a
//! package means is the caller's: [`read`](super::read) builds entries,
//! [`listing`](super::listing) the installer's file list, [`summarize`](super::summarize)
//! counts.

use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::error::{Error, ErrorKind, Result};

/// One parsed element: qualified name, attributes, text, children, and the
/// offset of its start tag in the decompressed XML.
#[derive(Debug, Default)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) text: String,
    pub(crate) children: Vec<Element>,
    pub(crate) offset: u64,
}

impl Element {
    pub(crate) fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The name without its namespace prefix (`rpm:entry` → `entry`), as
    /// quick-xml's `local_name`.
    pub(crate) fn local_name(&self) -> &str {
        local(&self.name)
    }
}

/// `name` without its namespace prefix.
pub(crate) fn local(name: &str) -> &str {
    name.split_once(':').map_or(name, |(_, l)| l)
}

/// Where the XML comes from; only the error messages differ.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source {
    /// Decompressed here from `<what>.gz`: a read error is a damaged gzip stream.
    Gzip,
    /// Already-decompressed XML.
    Plain,
}

/// How much of each `<package>` is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detail {
    /// The `<package>` tag's name and offset only (counting): nothing below it is
    /// parsed beyond what well-formedness needs.
    Tag,
    /// The whole element with its attributes, text and descendants.
    Tree,
}

/// What [`for_each_package`] calls with the root element (before any package).
pub(crate) type RootCheck<'a> = &'a mut dyn FnMut(&Element) -> Result<()>;

/// Call `package` with every `<package>` child of the root element of `xml`,
/// in order, built as `detail` says; `root` (when given) first sees the root
/// element with its attributes but no children. `what` names the file in errors
/// ("primary.xml"), which are [`ErrorKind::Corrupt`] with the offset in the XML.
pub(crate) fn for_each_package(
    xml: &mut dyn BufRead,
    what: &str,
    source: Source,
    detail: Detail,
    mut root: Option<RootCheck<'_>>,
    package: &mut dyn FnMut(Element) -> Result<()>,
) -> Result<()> {
    let tree = detail == Detail::Tree;
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    // The open elements below the root that are built; the package is stack[0].
    let mut stack: Vec<Element> = Vec::new();
    let mut depth = 0usize;
    loop {
        buf.clear();
        let pos = reader.buffer_position();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| match (e, source) {
                (quick_xml::Error::Io(io), Source::Gzip) => Error::new(
                    ErrorKind::Corrupt,
                    format!("{what}.gz: gzip stream is damaged: {io}"),
                ),
                (quick_xml::Error::Io(io), Source::Plain) => Error::new(
                    ErrorKind::Corrupt,
                    format!("{what}: cannot read the stream: {io}"),
                ),
                (other, Source::Gzip) => Error::corrupt(
                    reader.error_position(),
                    format!("{what} (offset in the decompressed XML): {other}"),
                ),
                (other, Source::Plain) => {
                    Error::corrupt(reader.error_position(), format!("{what}: {other}"))
                }
            })?;
        let corrupt = |m: String| Error::corrupt(pos, format!("{what}: {m}"));
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if depth == 0 {
                    if let Some(root) = root.as_mut() {
                        root(&element_of(&reader, e, pos).map_err(corrupt)?)?;
                    }
                } else if tree {
                    stack.push(element_of(&reader, e, pos).map_err(corrupt)?);
                } else if depth == 1 {
                    stack.push(Element {
                        name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                        offset: pos,
                        ..Element::default()
                    });
                }
                depth += 1;
                if matches!(event, Event::Empty(_)) {
                    depth -= 1;
                    close(&mut stack, depth, detail, package)?;
                }
            }
            Event::End(_) => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| corrupt("end tag without start tag".to_string()))?;
                close(&mut stack, depth, detail, package)?;
            }
            Event::Text(t) if tree => {
                if let Some(n) = stack.last_mut() {
                    let s = t.xml10_content().map_err(|e| corrupt(e.to_string()))?;
                    n.text.push_str(&s);
                }
            }
            Event::CData(t) if tree => {
                if let Some(n) = stack.last_mut() {
                    let s = t.decode().map_err(|e| corrupt(e.to_string()))?;
                    n.text.push_str(&s);
                }
            }
            Event::GeneralRef(r) if tree => {
                let resolved = super::xml::resolve_reference(&r)
                    .ok_or_else(|| corrupt("unknown entity reference".to_string()))?;
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 || !stack.is_empty() {
        return Err(Error::corrupt(
            reader.buffer_position(),
            format!("{what}: unexpected end inside an element"),
        ));
    }
    Ok(())
}

/// An element ended at `depth` (0 = root): attach it to its parent, or hand a
/// whole package to `package`.
fn close(
    stack: &mut Vec<Element>,
    depth: usize,
    detail: Detail,
    package: &mut dyn FnMut(Element) -> Result<()>,
) -> Result<()> {
    // Only the built elements are on the stack: all below the root for a tree,
    // the root's children for tags.
    let built = match detail {
        Detail::Tree => depth >= 1,
        Detail::Tag => depth == 1,
    };
    if !built {
        return Ok(());
    }
    let node = stack
        .pop()
        .expect("one element per open, built element below the root");
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None if node.local_name() == "package" => package(node)?,
        None => {}
    }
    Ok(())
}

fn element_of<R>(
    reader: &Reader<R>,
    e: &BytesStart<'_>,
    offset: u64,
) -> std::result::Result<Element, String> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| format!("bad attribute: {err}"))?;
        let v = a
            .decoded_and_normalized_value(quick_xml::XmlVersion::Implicit1_0, reader.decoder())
            .map_err(|err| format!("bad attribute: {err}"))?;
        attrs.push((
            String::from_utf8_lossy(a.key.as_ref()).into_owned(),
            v.into_owned(),
        ));
    }
    Ok(Element {
        name,
        attrs,
        offset,
        ..Element::default()
    })
}
