//! What the installer's yum will check, decided as XCP-ng 8.3's installer decides it
//! (host-installer `repository.py` `_repo_config`, `install.py`, `answerfile.py`):
//!
//! - only the FIRST `.treeinfo` `[keys]` entry counts; with none, no gpg lines are
//!   written and yum checks nothing (its `[main]` has `gpgcheck=0`);
//! - with one, the repository gets `gpgcheck=1 repo_gpgcheck=1 gpgkey=file:///root/KEY`
//!   unless the installer was told otherwise: `no-gpgcheck` / `no-repo-gpgcheck` on the
//!   installer's kernel line, or `gpgcheck="false"` / `repo-gpgcheck="false"` on an
//!   answerfile's root element. A listed key file that is missing makes the installer
//!   raise.
//!
//! Each boot entry can say otherwise, so a check is off only when EVERY installer line
//! (the `vmlinuz` lines of isolinux.cfg and the tree's `EFI/*/grub*.cfg`) turns it off.
//! A line that boots an answerfile (`answerfile=`) takes the options from that
//! answerfile ([`super::answerfile`]): a `file:///` one is read from install.img; one
//! fetched at install time counts as checking (the installer's default), and a note
//! says so.

use std::collections::HashMap;

use super::answerfile::{self, AnswerfileChecks};
use super::{check, Ctx, INSTALL_IMG};
use crate::bootcfg::{key_of, BootConfig, ConfigKind};
use crate::error::Result;
use crate::initrd::media::read_installer_file;
use crate::openpgp::KeyRing;
use crate::treeinfo::TreeInfo;
use crate::workspace::{MAX_EXPANDED_DEFAULT, NO_GPGCHECK, NO_REPO_GPGCHECK};

/// Largest boot menu or key file read.
const MAX_TEXT: u64 = 1 << 20;
const TREEINFO: &str = "/.treeinfo";
const TREEINFO_KEYS: &str = "/.treeinfo [keys]";
/// What names a driver disk's key file.
pub(super) const UPDATE_XML_KEY: &str = "/update.xml key=";
const ISOLINUX_CFG: &str = "/boot/isolinux/isolinux.cfg";
/// Largest answerfile read (a real one is a few KiB).
const MAX_ANSWERFILE: u32 = 1 << 20;

/// The installer's yum settings for the media.
#[derive(Debug, Default)]
pub(super) struct GpgConfig {
    /// The key file (absolute path on the media) of the first `[keys]` entry.
    pub key_path: Option<String>,
    /// Its keys, or why yum cannot import them (missing, not a key).
    pub ring: Option<std::result::Result<KeyRing, String>>,
    /// Whether yum checks every package's signature.
    pub gpgcheck: bool,
    /// Whether yum checks `repomd.xml.asc`.
    pub repo_gpgcheck: bool,
    /// What names the key file: `/.treeinfo [keys]`, or a driver disk's `/update.xml key=`.
    pub source: &'static str,
}

impl GpgConfig {
    /// Why the checks are on, for messages.
    pub(crate) fn why(&self) -> String {
        let key = self.key_path.as_deref().unwrap_or("a key");
        if self.source == UPDATE_XML_KEY {
            // A driver disk: no boot lines; xapi checks the signatures of a pack
            // whose update.xml names a key when the pack is applied.
            return format!(
                "{} names {key}, so xapi checks the pack's signatures",
                self.source
            );
        }
        format!(
            "{} names {key} and no installer line turns the check off",
            self.source
        )
    }
}

pub(super) fn config(ctx: &mut Ctx<'_>) -> Result<GpgConfig> {
    let lines = installer_lines(ctx)?;
    let settings = line_settings(ctx, &lines)?;
    let (key_path, source) = match first_key(ctx)? {
        Some(k) => (k, TREEINFO_KEYS),
        None => match driver_disk_key(ctx) {
            Some(k) => (k, UPDATE_XML_KEY),
            None => return Ok(GpgConfig::default()),
        },
    };
    let ring = match ctx.file(&key_path) {
        None => Err(format!("{key_path} is not on the media")),
        Some(e) if e.size > MAX_TEXT => {
            Err(format!("{key_path} is {} bytes, not a key file", e.size))
        }
        Some(_) => {
            let text = ctx.iso.read_file(&key_path, MAX_TEXT)?;
            KeyRing::parse(&text).map_err(|why| format!("{key_path} {why}"))
        }
    };
    // A check is off only when every installer line turns it off.
    let on = |f: fn(&LineChecks) -> bool| settings.is_empty() || settings.iter().any(f);
    Ok(GpgConfig {
        key_path: Some(key_path),
        ring: Some(ring),
        gpgcheck: on(|s| s.gpgcheck),
        repo_gpgcheck: on(|s| s.repo_gpgcheck),
        source,
    })
}

/// The checks one installer line leaves on.
#[derive(Debug, Clone, Copy)]
struct LineChecks {
    gpgcheck: bool,
    repo_gpgcheck: bool,
}

/// The checks of every installer line: its own `no-gpgcheck`/`no-repo-gpgcheck`
/// words, or the settings of the answerfile it boots. A line with both is an error
/// (the installer raises "Using answerfile, gpgcheck settings on CLI would be
/// ignored", `install.py`), and so is an answerfile the installer cannot read.
fn line_settings(ctx: &mut Ctx<'_>, lines: &[Vec<String>]) -> Result<Vec<LineChecks>> {
    let mut read: HashMap<String, Option<AnswerfileChecks>> = HashMap::new();
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let has = |word: &str| line.iter().any(|w| w == word);
        let answerfile = line
            .iter()
            .find(|w| matches!(key_of(w), "answerfile" | "answerfile_generator"));
        let Some(answerfile) = answerfile else {
            out.push(LineChecks {
                gpgcheck: !has(NO_GPGCHECK),
                repo_gpgcheck: !has(NO_REPO_GPGCHECK),
            });
            continue;
        };
        if has(NO_GPGCHECK) || has(NO_REPO_GPGCHECK) {
            ctx.error(
                check::INSTALLER_OPTIONS,
                None,
                None,
                format!(
                    "an installer line boots {answerfile} and carries {NO_GPGCHECK} or \
                     {NO_REPO_GPGCHECK}: the installer refuses both together (\"gpgcheck \
                     settings on CLI would be ignored\"); set gpgcheck=\"false\" in the \
                     answerfile instead (xiso answerfile moves them there)"
                ),
            );
        }
        let address = answerfile.split_once('=').map_or("", |(_, v)| v);
        let path = (key_of(answerfile) == "answerfile")
            .then(|| answerfile::local_path(address))
            .flatten();
        let Some(path) = path else {
            ctx.notes.push(format!(
                "an installer line boots {answerfile}, fetched at install time: its gpgcheck \
                 settings are not read here; checked as the installer's default, gpgcheck on"
            ));
            out.push(LineChecks {
                gpgcheck: true,
                repo_gpgcheck: true,
            });
            continue;
        };
        if !read.contains_key(path) {
            let checks = embedded_answerfile(ctx, path)?;
            read.insert(path.to_string(), checks);
        }
        let checks = read.get(path).copied().flatten().unwrap_or_default();
        out.push(LineChecks {
            gpgcheck: checks.gpgcheck.unwrap_or(true),
            repo_gpgcheck: checks.repo_gpgcheck.unwrap_or(true),
        });
    }
    Ok(out)
}

/// The settings of the answerfile at `path` of the installer root (inside
/// install.img); `None`, with an error finding, when the installer cannot read it.
fn embedded_answerfile(ctx: &mut Ctx<'_>, path: &str) -> Result<Option<AnswerfileChecks>> {
    let url = format!("file:///{path}");
    let Some(img) = ctx.file(INSTALL_IMG).cloned() else {
        return Ok(None);
    };
    let offset = img.extents.first().map(|x| x.offset());
    let found = match read_installer_file(ctx.iso, &img, path, MAX_ANSWERFILE, MAX_EXPANDED_DEFAULT)
    {
        Ok(found) => found,
        Err(e) => {
            ctx.error(
                check::INSTALLER_ANSWERFILE,
                Some(INSTALL_IMG),
                offset,
                format!("the installer lines boot answerfile={url}, but install.img cannot be read for it: {e}"),
            );
            return Ok(None);
        }
    };
    let Some((at, xml)) = found else {
        ctx.error(
            check::INSTALLER_ANSWERFILE,
            Some(INSTALL_IMG),
            offset,
            format!(
                "the installer lines boot answerfile={url}, but install.img holds no /{path}: \
                 the installer cannot read its answerfile"
            ),
        );
        return Ok(None);
    };
    match answerfile::checks(&xml) {
        Ok(checks) => {
            ctx.notes.push(format!(
                "answerfile {url} (install.img): gpgcheck {}, repo-gpgcheck {}",
                on_off(checks.gpgcheck),
                on_off(checks.repo_gpgcheck)
            ));
            Ok(Some(checks))
        }
        Err(why) => {
            ctx.error(
                check::INSTALLER_ANSWERFILE,
                Some(INSTALL_IMG),
                offset,
                format!(
                    "answerfile {url} (cpio entry at offset {at} of the decoded install.img) \
                     cannot be read by the installer: {why}"
                ),
            );
            Ok(None)
        }
    }
}

fn on_off(v: Option<bool>) -> &'static str {
    match v {
        Some(false) => "off",
        Some(true) => "on",
        None => "on (default)",
    }
}

/// A driver disk's key file: `update.xml` `key=`, as xapi reads it when the pack
/// is applied (it then checks `repomd.xml.asc` and `update.xml.asc`; the
/// installer itself installs driver disks with gpgcheck off).
fn driver_disk_key(ctx: &Ctx<'_>) -> Option<String> {
    ctx.driver_disk
        .as_ref()
        .and_then(|u| u.key.as_deref())
        .map(|k| format!("/{}", k.trim().trim_start_matches('/')))
}

/// The file the first `[keys]` entry names, as an absolute path on the media.
fn first_key(ctx: &Ctx<'_>) -> Result<Option<String>> {
    if ctx.file(TREEINFO).is_none_or(|e| e.size > MAX_TEXT) {
        return Ok(None);
    }
    let bytes = ctx.iso.read_file(TREEINFO, MAX_TEXT)?;
    let Ok(info) = TreeInfo::parse(&String::from_utf8_lossy(&bytes)) else {
        return Ok(None);
    };
    Ok(info
        .entries("keys")
        .first()
        .map(|(_, v)| format!("/{}", v.trim().trim_start_matches('/'))))
}

/// The words of every installer kernel line (the `vmlinuz` ones) of the boot menus
/// in the tree.
fn installer_lines(ctx: &Ctx<'_>) -> Result<Vec<Vec<String>>> {
    let mut menus: Vec<(String, ConfigKind)> = Vec::new();
    if ctx.file(ISOLINUX_CFG).is_some() {
        menus.push((ISOLINUX_CFG.to_string(), ConfigKind::Isolinux));
    }
    let mut grub: Vec<String> = ctx
        .files
        .keys()
        .filter(|p| {
            p.strip_prefix("/EFI/").is_some_and(|rest| {
                rest.split('/').count() == 2
                    && rest
                        .rsplit('/')
                        .next()
                        .is_some_and(|n| n.starts_with("grub") && n.ends_with(".cfg"))
            })
        })
        .cloned()
        .collect();
    grub.sort();
    menus.extend(grub.into_iter().map(|p| (p, ConfigKind::Grub)));
    let mut lines = Vec::new();
    for (path, kind) in menus {
        if ctx.file(&path).is_none_or(|e| e.size > MAX_TEXT) {
            continue;
        }
        let bytes = ctx.iso.read_file(&path, MAX_TEXT)?;
        let Ok(cfg) = BootConfig::parse(kind, &bytes) else {
            continue;
        };
        for k in cfg.kernel_lines() {
            if k.kernel.contains("vmlinuz") {
                lines.push(
                    cfg.args(k)
                        .split_ascii_whitespace()
                        .map(str::to_string)
                        .collect(),
                );
            }
        }
    }
    Ok(lines)
}
