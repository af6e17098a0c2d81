//! The package list of a primary.xml as the installer reads it: for every
//! `<package>`, its `<location href>`, `<size package>` and `<checksum type>`
//! (XCP-ng's installer pairs exactly these three to fetch and check each RPM).

use std::io::{BufReader, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde::Serialize;

use super::repomd::Checksum;
use crate::error::{Error, ErrorKind, Result};

/// One `<package>` of primary.xml, reduced to what locates and checks its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedPackage {
    /// `<name>`.
    pub name: String,
    /// `<location href>`, relative to the repository root.
    pub href: String,
    /// `<checksum type>` and value (createrepo_c: sha256 of the whole file).
    pub checksum: Option<Checksum>,
    /// `<size package>`: bytes of the file.
    pub size: Option<u64>,
    /// Byte offset of the `<package>` element in the decompressed XML.
    pub offset: u64,
}

/// Read the package list of an uncompressed primary.xml, streaming.
///
/// XML errors, a `<package>` without `<location href>` and numbers that are not
/// numbers are [`ErrorKind::Corrupt`] with the offset in the XML.
pub fn read_primary_packages(xml: impl Read) -> Result<Vec<ListedPackage>> {
    let mut xml = xml;
    read_dyn(&mut xml)
}

fn attr(
    e: &BytesStart<'_>,
    decoder: quick_xml::encoding::Decoder,
    name: &[u8],
    pos: u64,
) -> Result<Option<String>> {
    for a in e.attributes() {
        let a =
            a.map_err(|err| Error::corrupt(pos, format!("primary.xml: bad attribute: {err}")))?;
        if a.key.local_name().as_ref() == name {
            let v = a
                .decoded_and_normalized_value(quick_xml::XmlVersion::Implicit1_0, decoder)
                .map_err(|err| Error::corrupt(pos, format!("primary.xml: bad attribute: {err}")))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

fn read_dyn(xml: &mut dyn Read) -> Result<Vec<ListedPackage>> {
    let mut reader = Reader::from_reader(BufReader::new(xml));
    let mut buf = Vec::new();
    let mut out = Vec::new();
    // Element names from the root down to the current element.
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut current: Option<ListedPackage> = None;
    let mut checksum_type: Option<String> = None;
    // Text of the current child of `<package>`.
    let mut text = String::new();
    loop {
        buf.clear();
        let pos = reader.buffer_position();
        let event = reader.read_event_into(&mut buf).map_err(|e| match e {
            quick_xml::Error::Io(io) => Error::new(
                ErrorKind::Corrupt,
                format!("primary.xml: cannot read the stream: {io}"),
            ),
            other => Error::corrupt(reader.error_position(), format!("primary.xml: {other}")),
        })?;
        let decoder = reader.decoder();
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                text.clear();
                let name = e.local_name().as_ref().to_vec();
                match (stack.len(), name.as_slice()) {
                    (1, b"package") => {
                        current = Some(ListedPackage {
                            name: String::new(),
                            href: String::new(),
                            checksum: None,
                            size: None,
                            offset: pos,
                        })
                    }
                    (2, b"location") => {
                        if let (Some(p), Some(h)) =
                            (current.as_mut(), attr(e, decoder, b"href", pos)?)
                        {
                            p.href = h;
                        }
                    }
                    (2, b"size") => {
                        if let (Some(p), Some(s)) =
                            (current.as_mut(), attr(e, decoder, b"package", pos)?)
                        {
                            p.size = Some(s.trim().parse().map_err(|_| {
                                Error::corrupt(pos, "primary.xml: <size package> is not a number")
                            })?);
                        }
                    }
                    (2, b"checksum") => checksum_type = attr(e, decoder, b"type", pos)?,
                    _ => {}
                }
                if matches!(event, Event::Start(_)) {
                    stack.push(name);
                }
            }
            Event::Text(t) if stack.len() == 3 => text.push_str(
                &t.xml10_content()
                    .map_err(|err| Error::corrupt(pos, format!("primary.xml: {err}")))?,
            ),
            Event::CData(t) if stack.len() == 3 => text.push_str(
                &t.decode()
                    .map_err(|err| Error::corrupt(pos, format!("primary.xml: {err}")))?,
            ),
            Event::GeneralRef(r) if stack.len() == 3 => {
                let resolved = crate::repo::xml::resolve_reference(r);
                text.push_str(
                    &resolved.ok_or_else(|| {
                        Error::corrupt(pos, "primary.xml: unknown entity reference")
                    })?,
                );
            }
            Event::End(_) => {
                if stack.len() == 3 {
                    if let Some(p) = current.as_mut() {
                        let value = text.trim().to_string();
                        match stack[2].as_slice() {
                            b"name" => p.name = value,
                            b"checksum" => {
                                p.checksum = Some(Checksum {
                                    algorithm: checksum_type.take().unwrap_or_default(),
                                    value,
                                })
                            }
                            _ => {}
                        }
                    }
                }
                text.clear();
                stack.pop();
                if stack.len() == 1 {
                    if let Some(p) = current.take() {
                        if p.href.is_empty() {
                            return Err(Error::corrupt(
                                p.offset,
                                format!("primary.xml: package {:?} has no <location href>", p.name),
                            ));
                        }
                        out.push(p);
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(Error::corrupt(
            reader.buffer_position(),
            "primary.xml: unexpected end inside an element",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_location_size_and_checksum() {
        let xml = br#"<?xml version="1.0"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" packages="2">
<package type="rpm"><name>a</name><checksum type="sha256" pkgid="YES">ab12</checksum>
<size package="10" installed="1" archive="2"/><location href="Packages/a.rpm"/></package>
<package type="rpm"><name>b&amp;c</name><location href="Packages/b%2B.rpm"/></package>
</metadata>"#;
        let v = read_primary_packages(&xml[..]).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].name, "a");
        assert_eq!(v[0].href, "Packages/a.rpm");
        assert_eq!(v[0].size, Some(10));
        let c = v[0].checksum.as_ref().unwrap();
        assert_eq!((c.algorithm.as_str(), c.value.as_str()), ("sha256", "ab12"));
        assert_eq!(v[1].name, "b&c");
        assert_eq!(v[1].checksum, None);
    }

    #[test]
    fn package_without_location_is_corrupt() {
        let xml = b"<metadata><package><name>a</name></package></metadata>";
        let e = read_primary_packages(&xml[..]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt);
    }
}
