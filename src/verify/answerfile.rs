//! The gpgcheck settings of an answerfile an installer line boots, as XCP-ng 8.3's
//! installer reads them (host-installer `answerfile.py` `processAnswerfile` and
//! `parseSource`, `backend.py` `add_repos`):
//!
//! - `gpgcheck` / `repo-gpgcheck` on the root element (`<installation>`) are the
//!   defaults, true when absent;
//! - the same attributes on a `<source>` element override them for that source; the
//!   media's own repository is `<source type="local">`;
//! - a boolean attribute is true when its value, lower-cased, is `yes` or `true`
//!   (python-libs `xcp/xmlunwrap.py` `getBoolAttribute`), false for any other value.
//!
//! `answerfile=file:///PATH` names a file of the installer's own root, i.e. inside
//! install.img; it is read from there. Other addresses (http, nfs, a generator) are
//! fetched at install time and cannot be read here.

use quick_xml::encoding::Decoder;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// What an answerfile sets for the media's repository (`None`: not set, the
/// installer's default: on).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct AnswerfileChecks {
    /// `gpgcheck`: RPM signatures.
    pub gpgcheck: Option<bool>,
    /// `repo-gpgcheck`: `repomd.xml.asc`.
    pub repo_gpgcheck: Option<bool>,
}

/// The installer-root path an `answerfile=` address names, when it is a `file://`
/// address (`file:///answerfile.xml` → `answerfile.xml`).
pub(super) fn local_path(address: &str) -> Option<&str> {
    address
        .strip_prefix("file://")
        .map(|p| p.trim_start_matches('/'))
        .filter(|p| !p.is_empty())
}

/// Read the checks out of an answerfile's XML. `Err` says why it cannot be read (the
/// installer fails on it too).
pub(super) fn checks(xml: &[u8]) -> std::result::Result<AnswerfileChecks, String> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut root: Option<AnswerfileChecks> = None;
    let mut local: Option<AnswerfileChecks> = None;
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            format!(
                "not well-formed XML at byte {}: {e}",
                reader.error_position()
            )
        })?;
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let decoder = reader.decoder();
                if root.is_none() {
                    root = Some(attributes(&e, decoder)?);
                } else if e.local_name().as_ref() == b"source"
                    && local.is_none()
                    && attribute(&e, decoder, b"type")?.as_deref() == Some("local")
                {
                    local = Some(attributes(&e, decoder)?);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let root = root.ok_or("no root element")?;
    let local = local.unwrap_or_default();
    Ok(AnswerfileChecks {
        gpgcheck: local.gpgcheck.or(root.gpgcheck),
        repo_gpgcheck: local.repo_gpgcheck.or(root.repo_gpgcheck),
    })
}

fn attributes(e: &BytesStart<'_>, d: Decoder) -> std::result::Result<AnswerfileChecks, String> {
    let boolean =
        |v: Option<String>| v.map(|v| matches!(v.to_lowercase().as_str(), "yes" | "true"));
    Ok(AnswerfileChecks {
        gpgcheck: boolean(attribute(e, d, b"gpgcheck")?),
        repo_gpgcheck: boolean(attribute(e, d, b"repo-gpgcheck")?),
    })
}

fn attribute(
    e: &BytesStart<'_>,
    d: Decoder,
    name: &[u8],
) -> std::result::Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| format!("bad attribute: {err}"))?;
        if a.key.as_ref() == name {
            let v = a
                .decoded_and_normalized_value(quick_xml::XmlVersion::Implicit1_0, d)
                .map_err(|err| format!("bad attribute value: {err}"))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_attributes_are_the_defaults_and_a_local_source_overrides_them() {
        let off = checks(br#"<installation gpgcheck="false" repo-gpgcheck="no"><primary-disk>sda</primary-disk></installation>"#).unwrap();
        assert_eq!(off.gpgcheck, Some(false));
        assert_eq!(off.repo_gpgcheck, Some(false));
        let unset = checks(b"<installation><source type=\"local\"/></installation>").unwrap();
        assert_eq!(unset, AnswerfileChecks::default());
        let yes = checks(br#"<installation gpgcheck="YES"/>"#).unwrap();
        assert_eq!(yes.gpgcheck, Some(true));
        // Any value other than yes/true is false, as getBoolAttribute reads it.
        let other = checks(br#"<installation gpgcheck="0"/>"#).unwrap();
        assert_eq!(other.gpgcheck, Some(false));
        let src = checks(
            br#"<installation gpgcheck="false"><source type="url">http://x/</source><source type="local" gpgcheck="true"/></installation>"#,
        )
        .unwrap();
        assert_eq!(
            src.gpgcheck,
            Some(true),
            "the local source's own setting wins"
        );
        assert!(checks(b"<installation").is_err());
        assert!(checks(b"").is_err());
    }

    #[test]
    fn only_file_addresses_name_a_file_of_the_installer_root() {
        assert_eq!(local_path("file:///answerfile.xml"), Some("answerfile.xml"));
        assert_eq!(local_path("file:///etc/a.xml"), Some("etc/a.xml"));
        assert_eq!(local_path("http://host/a.xml"), None);
        assert_eq!(local_path("file:///"), None);
    }
}
