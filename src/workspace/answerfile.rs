//! `xiso answerfile DIR FILE.xml`: an unattended installation from the media alone.
//!
//! The answerfile goes into the installer root as `/answerfile.xml` (mode 0644,
//! root:root, recorded in the installer manifest as `patch-installer` records new
//! files), and the installer lines of the boot menus get `install
//! answerfile=file:///answerfile.xml` (`file:///` is the installer's own root, not
//! the CD; `install` must accompany `answerfile=`, ARCHITECTURE.md §1).
//!
//! The installer refuses gpgcheck options on the command line together with an
//! answerfile. XCP-ng's `answerfile.py` reads them as boolean attributes of the root
//! element (`getBoolAttribute(top_node, ['repo-gpgcheck'], default=True)`, the same
//! for `gpgcheck`), so `no-repo-gpgcheck` / `no-gpgcheck` found on the boot lines
//! are removed there and written into the answerfile as `repo-gpgcheck="false"` /
//! `gpgcheck="false"` on `<installation>`. Only the root start tag changes; every
//! other byte of the file is kept.

use std::fs;
use std::path::{Path, PathBuf};

use quick_xml::events::Event;
use quick_xml::Reader;
use serde::Serialize;

use super::boot_args::{boot_args, replace_file, BootArgsOptions, BootArgsReport};
use super::handle::Workspace;
use super::installer::INSTALLER_DIR;
use super::sign::{NO_GPGCHECK, NO_REPO_GPGCHECK};
use crate::bootcfg::{key_of, ArgEdit};
use crate::error::{Error, ErrorKind, Result};

/// The answerfile's path in the installer root.
pub(crate) const ANSWERFILE_NAME: &str = "answerfile.xml";
/// What the boot lines name: the installer root's copy.
pub(crate) const ANSWERFILE_URL: &str = "file:///answerfile.xml";

/// Options for [`answerfile`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnswerfileOptions {
    /// Only the entries with this isolinux `LABEL` / GRUB `menuentry` title
    /// (default: every kernel line).
    pub entry: Option<String>,
    /// Modification time for the grub.cfg inside efiboot.img (see [`BootArgsOptions`]).
    pub date: Option<i64>,
}

/// What [`answerfile`] did.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerfileReport {
    /// The answerfile's path in the installer root.
    pub path: String,
    /// Whether it replaced an answerfile already there.
    pub replaced: bool,
    /// Attributes set on the root element (from gpgcheck options moved off the boot lines).
    pub attributes: Vec<String>,
    /// The boot menu edit.
    pub boot: BootArgsReport,
}

/// The answerfile's root start tag.
#[derive(Debug)]
struct RootTag {
    /// Byte offset where new attributes go (before `>` or `/>`).
    insert_at: usize,
    /// Its attributes, decoded.
    attrs: Vec<(String, String)>,
}

/// Put `xml` into the installer root of `dir` as `/answerfile.xml` and point the boot
/// menus at it (see the module docs).
///
/// Errors (nothing written): `xml` not well-formed or its root not `<installation>`,
/// a workspace without installer root, a root attribute that contradicts a gpgcheck
/// option on the boot lines, or the boot menu errors of [`boot_args`].
pub fn answerfile(dir: &Path, xml: &[u8], opts: &AnswerfileOptions) -> Result<AnswerfileReport> {
    Workspace::edit(dir, |ws| put(ws, xml, opts))
}

/// The `answerfile` edit: the XML file, and which boot entries name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answerfile {
    /// The answerfile to put into the installer root.
    pub file: PathBuf,
    /// Boot entries and date.
    pub options: AnswerfileOptions,
}

impl Answerfile {
    /// Read the file and put it into `ws` (see [`answerfile`]); errors name the file.
    pub(crate) fn apply(&self, ws: &mut Workspace) -> Result<AnswerfileReport> {
        let f = &self.file;
        let xml = fs::read(f).map_err(|e| Error::io(e, "cannot read").in_file(f))?;
        put(ws, &xml, &self.options).map_err(|e| e.in_file(f))
    }
}

fn put(ws: &mut Workspace, xml: &[u8], opts: &AnswerfileOptions) -> Result<AnswerfileReport> {
    let root_tag = check(xml)?;
    let dir = &ws.dir().to_path_buf();
    let manifest = ws.require_installer(
        "this workspace has no installer root (.xiso/installer): unpack without --no-installer",
    )?;
    manifest.require_unpacked(dir, "answerfile")?;

    let mut boot_opts = BootArgsOptions {
        edit: ArgEdit::new(
            [
                "install".to_string(),
                format!("answerfile={ANSWERFILE_URL}"),
            ],
            [NO_REPO_GPGCHECK, NO_GPGCHECK],
        )?,
        entry: opts.entry.clone(),
        date: opts.date,
        dry_run: true,
        ..Default::default()
    };
    let planned = boot_args(dir, &boot_opts)?;
    let on_boot_lines = |key: &str| {
        planned
            .menus
            .iter()
            .flat_map(|m| &m.changes)
            .any(|c| c.before.split_whitespace().any(|w| key_of(w) == key))
    };

    let mut bytes = xml.to_vec();
    let mut attributes = Vec::new();
    let mut insert = String::new();
    for (option, attr) in [
        (NO_REPO_GPGCHECK, "repo-gpgcheck"),
        (NO_GPGCHECK, "gpgcheck"),
    ] {
        if !on_boot_lines(option) {
            continue;
        }
        match root_tag.attrs.iter().find(|(k, _)| k == attr) {
            // answerfile.py's getBoolAttribute: "no"/"false" (any case) is false.
            Some((_, v)) if matches!(v.to_ascii_lowercase().as_str(), "no" | "false") => {}
            Some((_, v)) => {
                return Err(Error::invalid(format!(
                    "the boot lines carry {option} but the answerfile sets {attr}=\"{v}\": \
                     the installer takes one or the other; remove one of them"
                )));
            }
            None => {
                insert.push_str(&format!(" {attr}=\"false\""));
                attributes.push(format!("{attr}=\"false\""));
            }
        }
    }
    bytes.splice(root_tag.insert_at..root_tag.insert_at, insert.into_bytes());

    let installer = dir.join(INSTALLER_DIR);
    let path = installer.join(ANSWERFILE_NAME);
    let replaced = match fs::symlink_metadata(&path) {
        Ok(md) if md.is_dir() => {
            return Err(Error::invalid(format!(
                "/{ANSWERFILE_NAME} is a directory in the installer root"
            ))
            .in_file(&path))
        }
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(Error::io(e, "cannot stat").in_file(&path)),
    };

    replace_file(&path, &bytes)?;
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io(e, "cannot set permissions").in_file(&path))?;
    }
    manifest.touch(ANSWERFILE_NAME);
    manifest.set_owner(ANSWERFILE_NAME, (0, 0), Some(0o644));
    // Saved before the boot menus change, as the file is in place now: a boot menu
    // error leaves the installer root and its manifest agreeing.
    ws.save()?;

    boot_opts.dry_run = false;
    let boot = boot_args(dir, &boot_opts)?;
    Ok(AnswerfileReport {
        path: format!("/{ANSWERFILE_NAME}"),
        replaced,
        attributes,
        boot,
    })
}

/// Check that `xml` is one well-formed element `<installation>` (tags balanced,
/// attributes unique and well-formed, only predefined or character entity
/// references) and locate its start tag.
fn check(xml: &[u8]) -> Result<RootTag> {
    let bad = |pos: u64, msg: String| {
        Error::new(ErrorKind::Corrupt, format!("answerfile: {msg}")).at(pos)
    };
    std::str::from_utf8(xml).map_err(|e| bad(e.valid_up_to() as u64, "not UTF-8".into()))?;
    let mut reader = Reader::from_reader(xml);
    let mut depth = 0usize;
    let mut root: Option<RootTag> = None;
    loop {
        let pos = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| bad(reader.error_position(), format!("malformed XML: {e}")))?;
        let end = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let mut attrs = Vec::new();
                for a in e.attributes() {
                    let a = a.map_err(|err| bad(pos, format!("bad attribute: {err}")))?;
                    let v = a
                        .decoded_and_normalized_value(
                            quick_xml::XmlVersion::Implicit1_0,
                            reader.decoder(),
                        )
                        .map_err(|err| bad(pos, format!("bad attribute: {err}")))?;
                    attrs.push((
                        String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                        v.into_owned(),
                    ));
                }
                if depth == 0 {
                    if root.is_some() {
                        return Err(bad(pos, "more than one root element".into()));
                    }
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    if name != "installation" {
                        return Err(bad(
                            pos,
                            format!(
                                "the root element is <{name}>, not <installation> (an upgrade or \
                                 restore answerfile is not what the install entries run)"
                            ),
                        ));
                    }
                    let close = if matches!(event, Event::Empty(_)) {
                        2
                    } else {
                        1
                    };
                    root = Some(RootTag {
                        insert_at: end
                            .checked_sub(close)
                            .ok_or_else(|| bad(pos, "start tag out of range".into()))?,
                        attrs,
                    });
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(t) if depth == 0 && !t.iter().all(u8::is_ascii_whitespace) => {
                return Err(bad(pos, "text outside the root element".into()));
            }
            Event::CData(_) if depth == 0 => {
                return Err(bad(pos, "CDATA outside the root element".into()));
            }
            Event::GeneralRef(r) => {
                let known = crate::repo::xml::resolve_reference(r).is_some();
                if !known || depth == 0 {
                    return Err(bad(pos, "unknown or misplaced entity reference".into()));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 {
        return Err(bad(xml.len() as u64, "unclosed element at the end".into()));
    }
    root.ok_or_else(|| bad(0, "no root element".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_installation_is_accepted() {
        let x = b"<?xml version=\"1.0\"?>\n<installation mode='fresh'>\n<primary-disk>sda</primary-disk>\n<!-- c -->&amp;</installation>\n";
        let r = check(x).unwrap();
        assert_eq!(&x[r.insert_at..r.insert_at + 1], b">");
        assert_eq!(r.attrs, vec![("mode".to_string(), "fresh".to_string())]);
        let e = check(b"<installation/>").unwrap();
        assert_eq!(e.insert_at, 13);
    }

    #[test]
    fn malformed_or_foreign_is_refused() {
        for x in [
            &b"<installation><a></installation>"[..],
            b"<installation>",
            b"<installation a='1' a='2'/>",
            b"<restore/>",
            b"<installation/><installation/>",
            b"<installation/>junk",
            b"<installation>&nbsp;</installation>",
            b"",
            b"\xff<installation/>",
        ] {
            assert!(check(x).is_err(), "{}", String::from_utf8_lossy(x));
        }
    }
}
