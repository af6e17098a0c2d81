//! comps (the repository's `group` record): which packages a group installs.
//!
//! Only what the closure check needs: for every `<group>`, its `<id>` and the
//! `<packagereq>` names of type `mandatory` (a `packagereq` without `type` is
//! mandatory, as yum and dnf read it). The file is the comps XML itself or,
//! for the `group_gz` record, its gzip.

use std::io::Read;

use flate2::read::MultiGzDecoder;
use quick_xml::events::Event;
use quick_xml::Reader;

use super::repomd::Repomd;
use crate::error::{Error, Result, ResultExt};

/// One comps group's mandatory packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompsGroup {
    /// `<id>`
    pub id: String,
    /// Names of the `<packagereq type="mandatory">` entries, in file order.
    pub mandatory: Vec<String>,
}

/// Parse comps XML (plain or gzip) into its groups.
pub fn parse_groups(comps: &[u8]) -> Result<Vec<CompsGroup>> {
    let mut plain = Vec::new();
    let xml: &[u8] = if comps.starts_with(&[0x1f, 0x8b]) {
        MultiGzDecoder::new(comps)
            .read_to_end(&mut plain)
            .map_err(|e| Error::corrupt(0, format!("comps: gzip stream is damaged: {e}")))?;
        &plain
    } else {
        comps
    };
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut groups = Vec::new();
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut current: Option<CompsGroup> = None;
    let mut mandatory_req = false;
    let mut text = String::new();
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            Error::corrupt(
                reader.error_position(),
                format!("comps: malformed XML: {e}"),
            )
        })?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_vec();
                match name.as_slice() {
                    b"group" => current = Some(CompsGroup::default_named()),
                    b"packagereq" => {
                        let mut kind = None;
                        for a in e.attributes() {
                            let a = a.map_err(|err| {
                                Error::corrupt(pos, format!("comps: bad attribute: {err}"))
                            })?;
                            if a.key.local_name().as_ref() == b"type" {
                                kind = Some(a.value.into_owned());
                            }
                        }
                        mandatory_req = kind.as_deref().is_none_or(|k| k == b"mandatory");
                    }
                    _ => {}
                }
                stack.push(name);
                text.clear();
            }
            Event::Text(t) => {
                let s = t
                    .xml10_content()
                    .map_err(|e| Error::corrupt(pos, format!("comps: {e}")))?;
                text.push_str(&s);
            }
            Event::End(_) => {
                let name = stack
                    .pop()
                    .ok_or_else(|| Error::corrupt(pos, "comps: end tag without start tag"))?;
                let parent = stack.last().map(Vec::as_slice);
                match (name.as_slice(), current.as_mut()) {
                    (b"id", Some(g)) if parent == Some(b"group") => g.id = text.trim().to_string(),
                    (b"packagereq", Some(g)) if mandatory_req => {
                        g.mandatory.push(text.trim().to_string())
                    }
                    (b"group", Some(_)) => groups.extend(current.take()),
                    _ => {}
                }
                text.clear();
            }
            Event::Eof if stack.is_empty() => break,
            Event::Eof => {
                return Err(Error::corrupt(
                    reader.buffer_position(),
                    "comps: unexpected end inside an element",
                ))
            }
            _ => {}
        }
    }
    Ok(groups)
}

impl CompsGroup {
    fn default_named() -> CompsGroup {
        CompsGroup {
            id: String::new(),
            mandatory: Vec::new(),
        }
    }
}

/// The comps file of a repository (`group`, else `group_gz`), if its
/// repomd.xml has one, read from below `root`.
pub(crate) fn read_comps(root: &std::path::Path, repomd: &Repomd) -> Result<Option<Vec<u8>>> {
    let Some(rec) = repomd.record("group").or_else(|| repomd.record("group_gz")) else {
        return Ok(None);
    };
    let path = root.join(&rec.location_href);
    let bytes = std::fs::read(&path)
        .map_err(|e| Error::io(e, "reading the comps (group) file"))
        .in_file(&path)?;
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">
<comps>
  <group>
    <id>core</id>
    <name>Core</name>
    <name xml:lang="de">Kern</name>
    <packagelist>
      <packagereq type="mandatory">xcp-ng-release</packagereq>
      <packagereq type="default">vim-minimal</packagereq>
      <packagereq>kernel</packagereq>
      <packagereq type="optional">emacs</packagereq>
      <packagereq type="conditional" requires="x">x-extra</packagereq>
    </packagelist>
  </group>
  <group><id>empty</id></group>
  <category><id>cat</id><grouplist><groupid>core</groupid></grouplist></category>
</comps>"#;

    #[test]
    fn mandatory_packages_of_every_group() {
        let groups = parse_groups(COMPS.as_bytes()).unwrap();
        assert_eq!(
            groups,
            [
                CompsGroup {
                    id: "core".into(),
                    mandatory: vec!["xcp-ng-release".into(), "kernel".into()],
                },
                CompsGroup {
                    id: "empty".into(),
                    mandatory: vec![],
                },
            ]
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, COMPS.as_bytes()).unwrap();
        assert_eq!(parse_groups(&gz.finish().unwrap()).unwrap(), groups);
        assert!(parse_groups(b"<comps><group></comps>").is_err());
    }
}
