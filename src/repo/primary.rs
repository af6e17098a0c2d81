//! A package's `<package>` element of primary.xml, as createrepo_c writes it
//! (`src/xml_dump_primary.c`).

use std::io::Write;

use super::entry::{DepKind, FileKind, PackageEntry, PackageFile};
use super::xml::XmlOut;
use crate::error::{Error, Result};

impl PackageEntry {
    /// The `<package type="rpm">` element, formatted and ending in a newline.
    pub fn primary_xml(&self) -> String {
        let mut x = XmlOut::new();
        x.start(0, "package", &[("type", "rpm")]);
        x.text(1, "name", &[], &self.name);
        x.text(1, "arch", &[], &self.arch);
        x.empty(
            1,
            "version",
            &[
                ("epoch", &self.epoch),
                ("ver", &self.version),
                ("rel", &self.release),
            ],
        );
        x.text(
            1,
            "checksum",
            &[("type", &self.checksum_type), ("pkgid", "YES")],
            &self.pkgid,
        );
        x.text(1, "summary", &[], &self.summary);
        x.text(1, "description", &[], &self.description);
        x.text(1, "packager", &[], &self.packager);
        x.text(1, "url", &[], &self.url);
        x.empty(
            1,
            "time",
            &[
                ("file", &self.time_file.to_string()),
                ("build", &self.time_build.to_string()),
            ],
        );
        x.empty(
            1,
            "size",
            &[
                ("package", &self.size_package.to_string()),
                ("installed", &self.size_installed.to_string()),
                ("archive", &self.size_archive.to_string()),
            ],
        );
        match self.location_base.as_deref().filter(|b| !b.is_empty()) {
            Some(base) => {
                // createrepo_c's cr_prepend_protocol: an absolute path becomes a file:// URL.
                let base = if base.starts_with('/') {
                    format!("file://{base}")
                } else {
                    base.to_string()
                };
                x.empty(
                    1,
                    "location",
                    &[("xml:base", &base), ("href", &self.location_href)],
                )
            }
            None => x.empty(1, "location", &[("href", &self.location_href)]),
        }
        x.start(1, "format", &[]);
        x.text(2, "rpm:license", &[], &self.license);
        x.text(2, "rpm:vendor", &[], &self.vendor);
        x.text(2, "rpm:group", &[], &self.group);
        x.text(2, "rpm:buildhost", &[], &self.buildhost);
        x.text(2, "rpm:sourcerpm", &[], &self.sourcerpm);
        x.empty(
            2,
            "rpm:header-range",
            &[
                ("start", &self.header_start.to_string()),
                ("end", &self.header_end.to_string()),
            ],
        );
        for kind in DepKind::PRIMARY_ORDER {
            let deps = self.dependencies(kind);
            if deps.is_empty() {
                continue;
            }
            x.start(2, kind.element(), &[]);
            for d in deps.iter().filter(|d| !d.name.is_empty()) {
                let mut attrs: Vec<(&str, &str)> = vec![("name", &d.name)];
                if let Some(flags) = d.flags.as_deref().filter(|f| !f.is_empty()) {
                    attrs.push(("flags", flags));
                    for (k, v) in [
                        ("epoch", &d.epoch),
                        ("ver", &d.version),
                        ("rel", &d.release),
                    ] {
                        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                            attrs.push((k, v));
                        }
                    }
                }
                if kind == DepKind::Requires && d.pre {
                    attrs.push(("pre", "1"));
                }
                x.empty(3, "rpm:entry", &attrs);
            }
            x.end(2, kind.element());
        }
        write_files(
            &mut x,
            2,
            self.files
                .iter()
                .filter(|f| super::is_primary_file(&f.path)),
        );
        x.end(1, "format");
        x.end(0, "package");
        x.buf
    }

    /// Write [`primary_xml`](Self::primary_xml) to `out`.
    pub fn write_primary(&self, out: &mut dyn Write) -> Result<()> {
        out.write_all(self.primary_xml().as_bytes())
            .map_err(|e| Error::io(e, "writing primary.xml"))
    }
}

/// `<file>` elements, `type` only for directories and ghosts (`cr_xml_dump_files`).
pub(crate) fn write_files<'a>(
    x: &mut XmlOut,
    depth: usize,
    files: impl Iterator<Item = &'a PackageFile>,
) {
    for f in files {
        match f.kind {
            FileKind::File => x.text(depth, "file", &[], &f.path),
            FileKind::Dir => x.text(depth, "file", &[("type", "dir")], &f.path),
            FileKind::Ghost => x.text(depth, "file", &[("type", "ghost")], &f.path),
        }
    }
}
