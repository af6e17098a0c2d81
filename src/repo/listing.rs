//! The package list of a primary.xml as the installer reads it: for every
//! `<package>`, its `<location href>`, `<size package>` and `<checksum type>`
//! (XCP-ng's installer pairs exactly these three to fetch and check each RPM).

use std::io::{BufReader, Read};

use serde::Serialize;

use super::repomd::Checksum;
use super::stream::{self, local, Detail, Element, Source};
use crate::error::{Error, Result};

/// One `<package>` of primary.xml, reduced to what locates and checks its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ListedPackage {
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
/// numbers are [`ErrorKind::Corrupt`](crate::ErrorKind::Corrupt) with the offset in the XML.
pub(crate) fn read_primary_packages(xml: impl Read) -> Result<Vec<ListedPackage>> {
    let mut xml = xml;
    read_dyn(&mut xml)
}

fn read_dyn(xml: &mut dyn Read) -> Result<Vec<ListedPackage>> {
    let mut out = Vec::new();
    stream::for_each_package(
        &mut BufReader::new(xml),
        "primary.xml",
        Source::Plain,
        Detail::Tree,
        None,
        &mut |p| {
            out.push(listed(&p)?);
            Ok(())
        },
    )?;
    Ok(out)
}

/// The three children of `<package>` the installer reads (the last of each, when
/// repeated).
fn listed(p: &Element) -> Result<ListedPackage> {
    let mut l = ListedPackage {
        name: String::new(),
        href: String::new(),
        checksum: None,
        size: None,
        offset: p.offset,
    };
    for c in &p.children {
        let attr = |key: &str| {
            c.attrs
                .iter()
                .find(|(k, _)| local(k) == key)
                .map(|(_, v)| v)
        };
        match c.local_name() {
            "name" => l.name = c.text.trim().to_string(),
            "location" => {
                if let Some(h) = attr("href") {
                    l.href = h.clone();
                }
            }
            "size" => {
                if let Some(s) = attr("package") {
                    l.size = Some(s.trim().parse().map_err(|_| {
                        Error::corrupt(c.offset, "primary.xml: <size package> is not a number")
                    })?);
                }
            }
            "checksum" => {
                l.checksum = Some(Checksum {
                    algorithm: attr("type").cloned().unwrap_or_default(),
                    value: c.text.trim().to_string(),
                })
            }
            _ => {}
        }
    }
    if l.href.is_empty() {
        return Err(Error::corrupt(
            l.offset,
            format!("primary.xml: package {:?} has no <location href>", l.name),
        ));
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

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
