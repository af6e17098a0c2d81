//! The one streaming reader of repository metadata XML (primary, filelists,
//! other): the root element, then each `<package>` child of it in turn, so a file
//! of tens of megabytes decompressed is never held whole in memory. What a
//! package means is the caller's [`Build`]: [`read`](super::read) builds entries
//! from the events, [`listing`](super::listing) the installer's file list and
//! [`summarize`](super::summarize) counts from [`for_each_package`]'s element trees.

use std::borrow::Cow;
use std::io::BufRead;

use quick_xml::encoding::Decoder;
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
    #[cfg(test)]
    pub(crate) fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[cfg(test)]
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
    let l = local_bytes(name.as_bytes());
    &name[name.len() - l.len()..]
}

/// [`local`] of a name as the reader gives it (bytes).
pub(crate) fn local_bytes(name: &[u8]) -> &[u8] {
    match name.iter().position(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
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

/// What the reader hands the elements below the root to: [`for_each_package`]'s
/// element trees, or a reader that builds its values straight from the events
/// (primary.xml's entries, [`read`](super::read)).
pub(crate) trait Build {
    /// Whether text is decoded and handed to [`Build::text`] (and entity
    /// references resolved, an unknown one being an error); otherwise text is skipped.
    const TEXT: bool;
    /// A start tag at `depth` (1: a child of the root). Every attribute must be
    /// read through [`attributes`], so that a malformed one is an error wherever it is.
    fn open(
        &mut self,
        depth: usize,
        tag: &BytesStart<'_>,
        decoder: Decoder,
        offset: u64,
    ) -> std::result::Result<(), String>;
    /// Whether an element below the root is open (text is decoded only then).
    fn inside(&self) -> bool;
    /// Text of the innermost open element.
    fn text(&mut self, text: &str);
    /// The element opened at `depth` ended.
    fn close(&mut self, depth: usize) -> Result<()>;
}

/// The attributes of `tag`, each as its key and its decoded, normalized value
/// (or why it is malformed, as the message of a [`Build::open`] error).
pub(crate) fn attributes<'a>(
    tag: &'a BytesStart<'a>,
    decoder: Decoder,
) -> impl Iterator<Item = std::result::Result<(&'a [u8], Cow<'a, str>), String>> + 'a {
    tag.attributes().map(move |a| {
        let a = a.map_err(|err| format!("bad attribute: {err}"))?;
        let v = a
            .decoded_and_normalized_value(quick_xml::XmlVersion::Implicit1_0, decoder)
            .map_err(|err| format!("bad attribute: {err}"))?;
        Ok((a.key.into_inner(), v))
    })
}

/// Call `package` with every `<package>` child of the root element of `xml`,
/// in order, built as `detail` says; `root` (when given) first sees the root
/// element with its attributes but no children. `what` names the file in errors
/// ("primary.xml"), which are [`ErrorKind::Corrupt`] with the offset in the XML.
pub(crate) fn for_each_package(
    xml: &mut dyn BufRead,
    what: &str,
    source: Source,
    detail: Detail,
    root: Option<RootCheck<'_>>,
    package: &mut dyn FnMut(Element) -> Result<()>,
) -> Result<()> {
    match detail {
        Detail::Tree => read(
            xml,
            what,
            source,
            root,
            &mut Trees::<true> {
                stack: Vec::new(),
                package,
            },
        ),
        Detail::Tag => read(
            xml,
            what,
            source,
            root,
            &mut Trees::<false> {
                stack: Vec::new(),
                package,
            },
        ),
    }
}

/// Read `xml` (see [`for_each_package`] for `what`, `source`, `root` and the
/// errors), handing every element below the root to `build`.
pub(crate) fn read<B: Build>(
    xml: &mut dyn BufRead,
    what: &str,
    source: Source,
    mut root: Option<RootCheck<'_>>,
    build: &mut B,
) -> Result<()> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
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
                        root(&element_of(e, reader.decoder(), pos).map_err(corrupt)?)?;
                    }
                } else {
                    build
                        .open(depth, e, reader.decoder(), pos)
                        .map_err(corrupt)?;
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                } else if depth > 0 {
                    build.close(depth)?;
                }
            }
            Event::End(_) => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| corrupt("end tag without start tag".to_string()))?;
                if depth > 0 {
                    build.close(depth)?;
                }
            }
            Event::Text(t) if B::TEXT && build.inside() => {
                let s = t.xml10_content().map_err(|e| corrupt(e.to_string()))?;
                build.text(&s);
            }
            Event::CData(t) if B::TEXT && build.inside() => {
                let s = t.decode().map_err(|e| corrupt(e.to_string()))?;
                build.text(&s);
            }
            Event::GeneralRef(r) if B::TEXT => {
                let resolved = super::xml::resolve_reference(&r)
                    .ok_or_else(|| corrupt("unknown entity reference".to_string()))?;
                if build.inside() {
                    build.text(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 || build.inside() {
        return Err(Error::corrupt(
            reader.buffer_position(),
            format!("{what}: unexpected end inside an element"),
        ));
    }
    Ok(())
}

/// [`for_each_package`]'s builder: with `TREE`, every element below the root as
/// an [`Element`]; without, the root's children's names and offsets only.
struct Trees<'p, const TREE: bool> {
    /// The open elements that are built; the package is `stack[0]`.
    stack: Vec<Element>,
    package: &'p mut dyn FnMut(Element) -> Result<()>,
}

impl<const TREE: bool> Build for Trees<'_, TREE> {
    const TEXT: bool = TREE;

    fn open(
        &mut self,
        depth: usize,
        tag: &BytesStart<'_>,
        decoder: Decoder,
        offset: u64,
    ) -> std::result::Result<(), String> {
        if TREE {
            self.stack.push(element_of(tag, decoder, offset)?);
        } else if depth == 1 {
            self.stack.push(Element {
                name: String::from_utf8_lossy(tag.name().as_ref()).into_owned(),
                offset,
                ..Element::default()
            });
        }
        Ok(())
    }

    fn inside(&self) -> bool {
        !self.stack.is_empty()
    }

    fn text(&mut self, text: &str) {
        if let Some(n) = self.stack.last_mut() {
            n.text.push_str(text);
        }
    }

    /// Attach the element to its parent, or hand a whole package to `package`.
    fn close(&mut self, depth: usize) -> Result<()> {
        if !TREE && depth != 1 {
            return Ok(());
        }
        let node = self
            .stack
            .pop()
            .expect("one element per open, built element below the root");
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(node),
            None if node.local_name() == "package" => (self.package)(node)?,
            None => {}
        }
        Ok(())
    }
}

fn element_of(
    e: &BytesStart<'_>,
    decoder: Decoder,
    offset: u64,
) -> std::result::Result<Element, String> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for a in attributes(e, decoder) {
        let (key, value) = a?;
        attrs.push((
            String::from_utf8_lossy(key).into_owned(),
            value.into_owned(),
        ));
    }
    Ok(Element {
        name,
        attrs,
        offset,
        ..Element::default()
    })
}
