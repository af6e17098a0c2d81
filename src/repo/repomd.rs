//! `repomd.xml` reading.
//!
//! `repomd.xml` is the index of a yum repository: one `<data type="…">` record per
//! metadata file (`primary`, `filelists`, `other`, their `_db` sqlite variants,
//! `group`/`group_gz` comps, `updateinfo`, …), each with the file's location,
//! checksums, sizes and timestamp, as createrepo_c writes them
//! (`src/repomd.c`, `cr_repomd_xml_dump`). Unknown elements are skipped so that
//! records from newer tools survive a read.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde::Serialize;

use crate::error::{Error, Result};

/// A checksum as repomd.xml states it: algorithm (`sha256`, `sha1`, …) and hex value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checksum {
    /// The `type` attribute, e.g. `sha256` (old createrepo also wrote `sha`).
    pub algorithm: String,
    /// The digest in lower- or upper-case hex, as written.
    pub value: String,
}

/// One `<data>` record of repomd.xml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepomdRecord {
    /// The `type` attribute: `primary`, `filelists`, `other`, `primary_db`, `group`, …
    pub data_type: String,
    /// `<location href>`: the file, relative to the repository root (checked by
    /// [`validate_href`]).
    pub location_href: String,
    /// `<location xml:base>`, when the file lives elsewhere (rare; kept for round trips).
    pub location_base: Option<String>,
    /// `<checksum>`: of the file as stored (compressed).
    pub checksum: Option<Checksum>,
    /// `<open-checksum>`: of the decompressed content.
    pub open_checksum: Option<Checksum>,
    /// `<header-checksum>` (zchunk records only).
    pub header_checksum: Option<Checksum>,
    /// `<size>`: bytes of the file as stored.
    pub size: Option<u64>,
    /// `<open-size>`: bytes of the decompressed content.
    pub open_size: Option<u64>,
    /// `<header-size>` (zchunk records only).
    pub header_size: Option<u64>,
    /// `<timestamp>`: seconds since the epoch (fractions, written by old createrepo, dropped).
    pub timestamp: Option<u64>,
    /// `<database_version>` of sqlite records.
    pub database_version: Option<u64>,
    /// Byte offset of the `<data>` element in repomd.xml, for error messages.
    pub offset: u64,
}

/// A parsed repomd.xml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repomd {
    /// `<revision>`: createrepo_c writes the generation time in seconds unless told otherwise.
    pub revision: Option<String>,
    /// Every `<data>` record in file order.
    pub records: Vec<RepomdRecord>,
}

impl Repomd {
    /// Parse repomd.xml bytes.
    ///
    /// Malformed XML, a root element other than `<repomd>`, a `<data>` without
    /// `type` or `<location href>`, a number that is not one, or an href that
    /// leaves the repository root are [`crate::ErrorKind::Corrupt`] with the byte
    /// offset in the XML.
    pub fn parse(xml: &[u8]) -> Result<Repomd> {
        let mut reader = Reader::from_reader(xml);
        reader.config_mut().trim_text(true);
        let mut revision: Option<String> = None;
        let mut records: Vec<RepomdRecord> = Vec::new();
        // Local names of the open elements; `text` collects the current leaf's content.
        let mut stack: Vec<Vec<u8>> = Vec::new();
        let mut text = String::new();
        let mut saw_root = false;
        loop {
            let pos = reader.buffer_position();
            let event = reader.read_event().map_err(|e| xml_error(&reader, e))?;
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let name = e.local_name().as_ref().to_vec();
                    open_element(
                        &reader,
                        e,
                        &name,
                        stack.len(),
                        pos,
                        &mut records,
                        &mut saw_root,
                    )?;
                    text.clear();
                    if matches!(event, Event::Empty(_)) {
                        close_element(&name, stack.len(), "", pos, &mut revision, &mut records)?;
                    } else {
                        stack.push(name);
                    }
                }
                Event::Text(t) => {
                    let s = t
                        .xml10_content()
                        .map_err(|e| Error::corrupt(pos, format!("repomd.xml: {e}")))?;
                    text.push_str(&s);
                }
                Event::CData(t) => {
                    let s = t
                        .decode()
                        .map_err(|e| Error::corrupt(pos, format!("repomd.xml: {e}")))?;
                    text.push_str(&s);
                }
                Event::GeneralRef(r) => {
                    let resolved = crate::repo::xml::resolve_reference(&r);
                    let resolved = resolved.ok_or_else(|| {
                        Error::corrupt(pos, "repomd.xml: unknown entity reference")
                    })?;
                    text.push_str(&resolved);
                }
                Event::End(_) => {
                    let name = stack.pop().ok_or_else(|| {
                        Error::corrupt(pos, "repomd.xml: end tag without start tag")
                    })?;
                    close_element(
                        &name,
                        stack.len(),
                        text.trim(),
                        pos,
                        &mut revision,
                        &mut records,
                    )?;
                    text.clear();
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !saw_root {
            return Err(Error::corrupt(0, "repomd.xml: no <repomd> element"));
        }
        if !stack.is_empty() {
            return Err(Error::corrupt(
                reader.buffer_position(),
                "repomd.xml: unexpected end of file inside an element",
            ));
        }
        Ok(Repomd { revision, records })
    }

    /// The first record of `data_type` (`primary`, `filelists`, …).
    pub fn record(&self, data_type: &str) -> Option<&RepomdRecord> {
        self.records.iter().find(|r| r.data_type == data_type)
    }
}

/// Check that an href names a file inside the repository root: relative, no `..`
/// component, no URL scheme, no backslash or NUL. The installer and yum join it to
/// the media root, so anything else would read outside the ISO's repository.
pub fn validate_href(href: &str) -> Result<()> {
    let bad = |why: &str| Error::corrupt(0, format!("repomd.xml: location href {href:?} {why}"));
    if href.is_empty() {
        return Err(bad("is empty"));
    }
    if href.starts_with('/') {
        return Err(bad("is absolute"));
    }
    if href.contains("://") {
        return Err(bad("is a URL"));
    }
    if href.contains(['\\', '\0']) {
        return Err(bad("contains a backslash or NUL"));
    }
    if href.split('/').any(|c| c == "..") {
        return Err(bad("leaves the repository root"));
    }
    Ok(())
}

fn xml_error<R>(reader: &Reader<R>, e: quick_xml::Error) -> Error {
    Error::corrupt(
        reader.error_position(),
        format!("repomd.xml: malformed XML: {e}"),
    )
}

fn attr(
    reader: &Reader<&[u8]>,
    e: &BytesStart<'_>,
    local: &[u8],
    pos: u64,
) -> Result<Option<String>> {
    for a in e.attributes() {
        let a =
            a.map_err(|err| Error::corrupt(pos, format!("repomd.xml: bad attribute: {err}")))?;
        if a.key.local_name().as_ref() == local {
            let v = a
                .decoded_and_normalized_value(quick_xml::XmlVersion::Implicit1_0, reader.decoder())
                .map_err(|err| Error::corrupt(pos, format!("repomd.xml: bad attribute: {err}")))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

/// Handle a start (or empty) tag at nesting `depth` (0 = root).
fn open_element(
    reader: &Reader<&[u8]>,
    e: &BytesStart<'_>,
    name: &[u8],
    depth: usize,
    pos: u64,
    records: &mut Vec<RepomdRecord>,
    saw_root: &mut bool,
) -> Result<()> {
    match (depth, name) {
        (0, b"repomd") => *saw_root = true,
        (0, other) => {
            return Err(Error::corrupt(
                pos,
                format!(
                    "repomd.xml: root element is <{}>, not <repomd>",
                    String::from_utf8_lossy(other)
                ),
            ))
        }
        (1, b"data") => {
            let data_type = attr(reader, e, b"type", pos)?
                .ok_or_else(|| Error::corrupt(pos, "repomd.xml: <data> without type"))?;
            records.push(RepomdRecord {
                data_type,
                location_href: String::new(),
                location_base: None,
                checksum: None,
                open_checksum: None,
                header_checksum: None,
                size: None,
                open_size: None,
                header_size: None,
                timestamp: None,
                database_version: None,
                offset: pos,
            });
        }
        (2, b"location") => {
            if let Some(rec) = records.last_mut() {
                let href = attr(reader, e, b"href", pos)?
                    .ok_or_else(|| Error::corrupt(pos, "repomd.xml: <location> without href"))?;
                validate_href(&href).map_err(|err| Error::corrupt(pos, err.message()))?;
                rec.location_href = href;
                rec.location_base = attr(reader, e, b"base", pos)?;
            }
        }
        (2, b"checksum" | b"open-checksum" | b"header-checksum") => {
            if let Some(rec) = records.last_mut() {
                let algorithm = attr(reader, e, b"type", pos)?.unwrap_or_default();
                let sum = Some(Checksum {
                    algorithm,
                    value: String::new(),
                });
                match name {
                    b"checksum" => rec.checksum = sum,
                    b"open-checksum" => rec.open_checksum = sum,
                    _ => rec.header_checksum = sum,
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Handle an end tag at nesting `depth` (the depth of the element itself) with its text.
fn close_element(
    name: &[u8],
    depth: usize,
    text: &str,
    pos: u64,
    revision: &mut Option<String>,
    records: &mut [RepomdRecord],
) -> Result<()> {
    if depth == 1 && name == b"revision" {
        *revision = Some(text.to_string());
        return Ok(());
    }
    if depth == 1 && name == b"data" {
        if let Some(rec) = records.last() {
            if rec.location_href.is_empty() {
                return Err(Error::corrupt(
                    rec.offset,
                    format!(
                        "repomd.xml: <data type={:?}> has no <location>",
                        rec.data_type
                    ),
                ));
            }
        }
        return Ok(());
    }
    if depth != 2 {
        return Ok(());
    }
    let Some(rec) = records.last_mut() else {
        return Ok(());
    };
    let number = |what: &str| -> Result<u64> {
        // Old createrepo wrote `timestamp` as a float; keep the whole seconds.
        let whole = if what == "timestamp" {
            text.split('.').next().unwrap_or(text)
        } else {
            text
        };
        whole.parse::<u64>().map_err(|_| {
            Error::corrupt(
                pos,
                format!("repomd.xml: <{what}> {text:?} is not a number"),
            )
        })
    };
    match name {
        b"checksum" | b"open-checksum" | b"header-checksum" => {
            let slot = match name {
                b"checksum" => &mut rec.checksum,
                b"open-checksum" => &mut rec.open_checksum,
                _ => &mut rec.header_checksum,
            };
            if let Some(sum) = slot {
                sum.value = text.to_string();
            }
        }
        b"size" => rec.size = Some(number("size")?),
        b"open-size" => rec.open_size = Some(number("open-size")?),
        b"header-size" => rec.header_size = Some(number("header-size")?),
        b"timestamp" => rec.timestamp = Some(number("timestamp")?),
        b"database_version" => rec.database_version = Some(number("database_version")?),
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1700000000</revision>
  <tags><distro cpeid="x">XCP-ng &amp; friends</distro></tags>
  <data type="primary">
    <checksum type="sha256">aa</checksum>
    <open-checksum type="sha256">bb</open-checksum>
    <location href="repodata/aa-primary.xml.gz"/>
    <timestamp>1700000000.5</timestamp>
    <size>12</size>
    <open-size>34</open-size>
    <future-element a="1"><x/></future-element>
  </data>
  <data type="primary_db">
    <checksum type="sha256">cc</checksum>
    <location href="repodata/cc-primary.sqlite.bz2"/>
    <size>5</size>
    <database_version>10</database_version>
  </data>
</repomd>"#;

    #[test]
    fn parses_records() {
        let md = Repomd::parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(md.revision.as_deref(), Some("1700000000"));
        assert_eq!(md.records.len(), 2);
        let p = md.record("primary").unwrap();
        assert_eq!(p.location_href, "repodata/aa-primary.xml.gz");
        assert_eq!(p.checksum.as_ref().unwrap().value, "aa");
        assert_eq!(p.open_checksum.as_ref().unwrap().algorithm, "sha256");
        assert_eq!(
            (p.size, p.open_size, p.timestamp),
            (Some(12), Some(34), Some(1_700_000_000))
        );
        assert_eq!(md.record("primary_db").unwrap().database_version, Some(10));
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "<repomd><data type=\"primary\"><location href=\"../x\"/></data></repomd>",
            "<repomd><data type=\"primary\"><location href=\"/etc/x\"/></data></repomd>",
            "<repomd><data type=\"primary\"><location href=\"a/../../x\"/></data></repomd>",
            "<repomd><data type=\"primary\"><size>x</size><location href=\"a\"/></data></repomd>",
            "<repomd><data type=\"primary\"></data></repomd>",
            "<repomd><data><location href=\"a\"/></data></repomd>",
            "<repomd><data type=\"primary\">",
            "<repomd></data>",
            "<metadata/>",
            "",
            "not xml at all <<<",
        ] {
            let e = Repomd::parse(bad.as_bytes()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Corrupt, "{bad}: {e}");
        }
        let e =
            Repomd::parse(b"<repomd>\n<data type=\"p\"><location href=\"../x\"/></data></repomd>")
                .unwrap_err();
        // The offending `<location` starts after `<repomd>\n<data type="p">`.
        assert_eq!(e.offset(), Some(24), "{e}");
    }
}
