//! `update.xml`, the file that makes a directory a driver disk (or supplemental
//! pack) for XCP-ng and XenServer.
//!
//! Two readers decide its shape:
//!
//! - the installer, host-installer `repository.py` `UpdateYumRepository`: the root
//!   element must be `<update>` (an `assert`), and its `name-label` and `control`
//!   attributes give the install targets `[control, "update-" + name-label]`
//!   (`DriverUpdateYumRepository` then installs `@drivers` instead);
//! - xapi, `xapi_pool_update.ml` `parse_update_info`, when the pack is applied to a
//!   running host: `uuid`, `name-label` and `version` are required, `key` names the
//!   key file (its basename, below `/etc/pki/rpm-gpg/`), `installation-size`,
//!   `after-apply-guidance` and `enforce-homogeneity` are optional, and a
//!   `<name-description>` child is required. With a key, xapi checks the detached
//!   signatures `update.xml.asc` and `repodata/repomd.xml.asc`.
//!
//! XenServer's `build-update` (used by xcp-ng/driver-disks' `create-driver-disk`)
//! writes all of these; the control package it names is the `update-<label>`
//! metapackage, the only package it adds.

use quick_xml::events::Event;
use quick_xml::Reader;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::repo::xml::{escape_attr, escape_text};

/// The file's name at the root of the media.
pub(crate) const UPDATE_XML: &str = "update.xml";

/// The prefix of the metapackage's name: `update-<name-label>`.
pub(crate) const METAPACKAGE_PREFIX: &str = "update-";

/// What `update.xml` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateXml {
    /// `name-label`: the pack's label; the installer installs `update-<label>`.
    pub name_label: String,
    /// `control`: a package the installer installs with the metapackage.
    pub control: String,
    /// `uuid`: links the successive versions of a pack (xapi).
    pub uuid: Option<String>,
    /// `version` (xapi).
    pub version: Option<String>,
    /// `key`: the key file on the media, when signed.
    pub key: Option<String>,
    /// `installation-size` in bytes (xapi's free-space check).
    pub installation_size: Option<u64>,
    /// `after-apply-guidance` (`restartHost`, …; xapi).
    pub after_apply_guidance: Option<String>,
    /// `<name-description>`'s text.
    pub description: Option<String>,
}

impl UpdateXml {
    /// The metapackage the installer installs: `update-<name-label>`.
    pub fn metapackage(&self) -> String {
        format!("{METAPACKAGE_PREFIX}{}", self.name_label)
    }

    /// The file's text, as build-update writes it (one `<update>` element with its
    /// attributes, a `<name-description>` child).
    pub fn to_xml(&self) -> String {
        let mut s = String::from("<?xml version=\"1.0\" ?>\n<update");
        let mut attr = |name: &str, value: &str| {
            s.push(' ');
            s.push_str(name);
            s.push_str("=\"");
            escape_attr(value, &mut s);
            s.push('"');
        };
        if let Some(g) = &self.after_apply_guidance {
            attr("after-apply-guidance", g);
        }
        attr("control", &self.control);
        if let Some(n) = self.installation_size {
            attr("installation-size", &n.to_string());
        }
        if let Some(k) = &self.key {
            attr("key", k);
        }
        attr("name-label", &self.name_label);
        if let Some(u) = &self.uuid {
            attr("uuid", u);
        }
        if let Some(v) = &self.version {
            attr("version", v);
        }
        s.push_str(">\n  <name-description>");
        escape_text(self.description.as_deref().unwrap_or(""), &mut s);
        s.push_str("</name-description>\n</update>\n");
        s
    }

    /// Read `update.xml` as the installer does: well-formed XML whose root is
    /// `<update>` with non-empty `name-label` and `control`. Anything else is
    /// [`crate::ErrorKind::Corrupt`] with the byte offset.
    pub fn parse(bytes: &[u8]) -> Result<UpdateXml> {
        let mut reader = Reader::from_reader(bytes);
        let mut root: Option<UpdateXml> = None;
        let mut depth = 0usize;
        let mut in_description = false;
        loop {
            let pos = reader.buffer_position();
            let event = reader.read_event().map_err(|e| {
                Error::corrupt(
                    reader.error_position(),
                    format!("update.xml: malformed XML: {e}"),
                )
            })?;
            let (element, empty) = match &event {
                Event::Start(e) => (Some(e), false),
                Event::Empty(e) => (Some(e), true),
                _ => (None, false),
            };
            if let (Some(e), 0) = (element, depth) {
                if root.is_some() {
                    return Err(Error::corrupt(pos, "update.xml: a second root element"));
                }
                if e.local_name().as_ref() != b"update" {
                    return Err(Error::corrupt(
                        pos,
                        format!(
                            "update.xml: the root element is <{}>, the installer needs <update>",
                            String::from_utf8_lossy(e.local_name().as_ref())
                        ),
                    ));
                }
                root = Some(Self::from_attributes(e, pos, reader.decoder())?);
                depth = usize::from(!empty);
                continue;
            }
            match event {
                Event::Start(e) => {
                    in_description = depth == 1 && e.local_name().as_ref() == b"name-description";
                    depth += 1;
                }
                Event::End(_) => {
                    depth = depth.saturating_sub(1);
                    in_description = false;
                }
                Event::Text(t) if in_description => {
                    let text = t
                        .xml10_content()
                        .map_err(|e| Error::corrupt(pos, format!("update.xml: {e}")))?;
                    if let Some(r) = root.as_mut() {
                        r.description
                            .get_or_insert_with(String::new)
                            .push_str(&text);
                    }
                }
                Event::GeneralRef(r) if in_description => {
                    let text = crate::repo::xml::resolve_reference(&r).ok_or_else(|| {
                        Error::corrupt(pos, "update.xml: unknown entity reference")
                    })?;
                    if let Some(u) = root.as_mut() {
                        u.description
                            .get_or_insert_with(String::new)
                            .push_str(&text);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        let root = root.ok_or_else(|| Error::corrupt(0, "update.xml: no <update> element"))?;
        if depth != 0 {
            return Err(Error::corrupt(
                reader.buffer_position(),
                "update.xml: unexpected end inside an element",
            ));
        }
        Ok(root)
    }

    fn from_attributes(
        e: &quick_xml::events::BytesStart<'_>,
        pos: u64,
        decoder: quick_xml::encoding::Decoder,
    ) -> Result<UpdateXml> {
        let mut u = UpdateXml {
            name_label: String::new(),
            control: String::new(),
            uuid: None,
            version: None,
            key: None,
            installation_size: None,
            after_apply_guidance: None,
            description: None,
        };
        for a in e.attributes() {
            let a =
                a.map_err(|err| Error::corrupt(pos, format!("update.xml: bad attribute: {err}")))?;
            let value = a
                .decoded_and_normalized_value(quick_xml::XmlVersion::Implicit1_0, decoder)
                .map_err(|err| Error::corrupt(pos, format!("update.xml: bad attribute: {err}")))?
                .into_owned();
            match a.key.local_name().as_ref() {
                b"name-label" => u.name_label = value,
                b"control" => u.control = value,
                b"uuid" => u.uuid = Some(value),
                b"version" => u.version = Some(value),
                b"key" => u.key = Some(value),
                b"after-apply-guidance" => u.after_apply_guidance = Some(value),
                b"installation-size" => {
                    u.installation_size = Some(value.trim().parse().map_err(|_| {
                        Error::corrupt(
                            pos,
                            format!("update.xml: installation-size={value:?} is not a number"),
                        )
                    })?)
                }
                _ => {}
            }
        }
        for (name, value) in [("name-label", &u.name_label), ("control", &u.control)] {
            if value.trim().is_empty() {
                return Err(Error::corrupt(
                    pos,
                    format!(
                        "update.xml: <update> has no {name} attribute (the installer reads it for its install targets)"
                    ),
                ));
            }
        }
        Ok(u)
    }
}
