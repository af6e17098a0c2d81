//! `xiso sign DIR`: make the repository signature check of the installer pass again
//! after `Packages/` or `repodata/` changed, or switch the check off.
//!
//! XCP-ng 8.3's installer verifies `repodata/repomd.xml.asc` (a detached signature
//! over `repomd.xml`) with the key file that `.treeinfo` `[keys] key1` names at the
//! root of the media (ARCHITECTURE.md §1). [`sign`] writes all three with the user's key:
//!
//! - `iso/repodata/repomd.xml.asc`: a detached, ASCII-armoured OpenPGP signature of
//!   type "binary document" with SHA-256 (RFC 9580 §5.2), made in pure Rust (rPGP);
//! - `iso/RPM-GPG-KEY-NAME`: the transferable public key (RFC 9580 §10.1), armoured;
//! - `.treeinfo`: `key1 = RPM-GPG-KEY-NAME`, every other byte kept.
//!
//! [`disable_gpgcheck`] does what XCP-ng's own build does for unsigned ISOs: the
//! `[keys]` entries become comments and the installer lines of every boot menu get
//! `no-repo-gpgcheck` (and `no-gpgcheck` on request).
//!
//! Everything is computed in memory first; files are written through a temporary file
//! and a rename.

use std::fs;
use std::path::{Path, PathBuf};

use pgp::types::KeyDetails;
use serde::Serialize;

use super::boot_args::{boot_args, replace_file, BootArgsOptions, BootArgsReport};
use super::handle::{tree_root, Workspace};
use super::pack::resolve_date;
use super::sign_packages;
use crate::bootcfg::{key_of, ArgEdit};
use crate::error::{Error, ErrorKind, Result, ResultExt};
use crate::openpgp::{armor_blocks, KeyInfo, KeyRing, SecretKey};
use crate::repo::update::RepodataReport;
use crate::treeinfo::TreeInfo;

/// The repository metadata index, below `DIR/iso/`.
pub(crate) const REPOMD_XML: &str = "repodata/repomd.xml";
/// The detached signature the installer checks, below `DIR/iso/`.
pub(crate) const REPOMD_ASC: &str = "repodata/repomd.xml.asc";
/// The media description, below `DIR/iso/`.
pub(crate) const TREEINFO: &str = ".treeinfo";
/// The installer option that skips the repository signature check.
pub(crate) const NO_REPO_GPGCHECK: &str = "no-repo-gpgcheck";
/// The installer option that skips the RPM signature check.
pub(crate) const NO_GPGCHECK: &str = "no-gpgcheck";

/// Options for [`sign`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignOptions {
    /// Name of the key file: `RPM-GPG-KEY-<nick>` (default: from the key's first user
    /// id, else `xiso`). Letters, digits, `.`, `_` and `-` only.
    pub nick: Option<String>,
    /// Passphrase of a protected secret key.
    pub passphrase: Option<String>,
    /// Signature creation time (Unix seconds; default `SOURCE_DATE_EPOCH`, else now).
    /// Never earlier than the key's own creation time: OpenPGP implementations reject
    /// a signature older than its key.
    pub date: Option<i64>,
    /// Drop the keys of the key files `.treeinfo` `[keys]` named before: the new key
    /// file holds the user's key alone (packages signed by those keys are then signed
    /// again, unless `no_sign_packages`).
    pub replace_keys: bool,
    /// Leave every package as it is, signed or not.
    pub no_sign_packages: bool,
}

/// What [`sign`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct SignReport {
    /// The signature, below `DIR/iso/`.
    pub signature: String,
    /// The exported public key, below `DIR/iso/` (what `.treeinfo` key1 names).
    pub key_file: String,
    /// Fingerprint of the primary key (upper-case hex), as `gpg --fingerprint` shows it.
    pub fingerprint: String,
    /// Fingerprint of the (sub)key that made the signature.
    pub signing_key: String,
    /// The key's first user id, if it has one.
    pub user_id: Option<String>,
    /// Signature creation time (Unix seconds).
    pub created: u32,
    /// The previous `[keys] key1` value, if any.
    pub previous_key1: Option<String>,
    /// Every key in the new key file: the user's first, then the ones kept.
    pub keys: Vec<KeyInfo>,
    /// Keys of the old key files left out (`replace_keys`).
    pub dropped_keys: Vec<KeyInfo>,
    /// Packages signed with the user's key (hrefs), because no key of the new key
    /// file verified them (unsigned, or signed by a key of neither the new nor the
    /// old key files).
    pub signed_packages: Vec<String>,
    /// Packages left byte for byte as they were: a key of the key file verifies them.
    pub verified_packages: usize,
    /// Packages left as they were that the new key file does not verify, each with
    /// why: with `no_sign_packages` every such package; with `replace_keys` those
    /// signed by a dropped key (the vendor's signature is never replaced by the
    /// user's). The installer's gpgcheck refuses them.
    pub unverified_packages: Vec<String>,
    /// The repository metadata rewritten for the signed packages, when any was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repodata: Option<RepodataReport>,
}

/// Sign the workspace's repository with the ASCII-armoured secret key `key_armored`:
///
/// 1. the key file `DIR/iso/RPM-GPG-KEY-NAME` gets the user's public key plus every
///    key of the files `.treeinfo` `[keys]` named before (not with `replace_keys`),
///    and `[keys] key1` names it;
/// 2. every package that no key of that file verifies is signed with the user's key
///    as `rpmsign --addsign --rpmv3` signs it ([`crate::rpm::sign`]), except those a
///    dropped old key signed (`replace_keys`: kept, and refused by the installer);
///    the others stay byte for byte; repodata is rewritten for the new bytes
///    (nothing of this with `no_sign_packages`);
/// 3. `repomd.xml` gets a new detached signature `repomd.xml.asc`.
///
/// Errors (nothing written): no workspace, no repomd.xml, no .treeinfo, a key that is
/// not an armoured secret key or that the installer cannot check (only RSA and DSA),
/// a protected key without (or with a wrong) passphrase, a key that cannot sign, an
/// invalid nick, an old key file that is missing or holds no key (unless
/// `replace_keys`), a package whose digests do not match.
pub fn sign(dir: &Path, key_armored: &[u8], opts: &SignOptions) -> Result<SignReport> {
    Workspace::edit(dir, |ws| sign_with(ws, key_armored, opts))
}

/// The `sign` edit: the armoured secret key in a file, and how to sign (see [`sign`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sign {
    /// The ASCII-armoured secret key.
    pub key: PathBuf,
    /// A file whose first line is the key's passphrase, used when
    /// `options.passphrase` is not set.
    pub passphrase_file: Option<PathBuf>,
    /// Nick, date, key file and package policy.
    pub options: SignOptions,
}

impl Sign {
    /// Read the key (and passphrase file) and sign `ws`'s repository (see [`sign`]).
    pub(crate) fn apply(&self, ws: &mut Workspace) -> Result<SignReport> {
        let key = &self.key;
        let armored =
            fs::read(key).map_err(|e| Error::io(e, "cannot read the key").in_file(key))?;
        let mut opts = self.options.clone();
        if let (None, Some(p)) = (&opts.passphrase, &self.passphrase_file) {
            opts.passphrase = Some(read_passphrase_file(p)?);
        }
        sign_with(ws, &armored, &opts).map_err(|e| e.in_file(key))
    }
}

/// The first line of a passphrase file (empty when the file is).
pub(crate) fn read_passphrase_file(path: &Path) -> Result<String> {
    Ok(fs::read_to_string(path)
        .map_err(|e| Error::io(e, "cannot read the passphrase").in_file(path))?
        .lines()
        .next()
        .unwrap_or("")
        .to_string())
}

fn sign_with(ws: &mut Workspace, key_armored: &[u8], opts: &SignOptions) -> Result<SignReport> {
    let root = ws.checked_tree()?;
    let repomd_path = root.join(REPOMD_XML);
    if !repomd_path.is_file() {
        return Err(Error::new(
            ErrorKind::NotFound,
            "no repository index to sign (make one with xiso add-rpm or createrepo)",
        )
        .in_file(&repomd_path));
    }
    let treeinfo_path = root.join(TREEINFO);
    let mut treeinfo = read_treeinfo(&treeinfo_path)?;

    let key = SecretKey::from_armor(key_armored, opts.passphrase.as_deref())?;
    key.check_el7()?;
    let user_id = key.user_id();
    let nick = match &opts.nick {
        Some(n) => check_nick(n)?,
        None => user_id
            .as_deref()
            .map(nick_from_user_id)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "xiso".to_string()),
    };
    let key_file = format!("RPM-GPG-KEY-{nick}");
    let (now, _) = resolve_date(opts.date)?;
    let created = key.signature_time(now)?;
    let signing_key = format!("{:X}", key.signer()?.fingerprint());
    // A passphrase problem shows here, before anything is written.
    key.detached_signature(created, b"")?;

    let public = key.public_armored()?;
    let (key_text, dropped) = key_file_text(&root, &treeinfo, &public, opts.replace_keys)?;
    let ring = KeyRing::parse(&key_text).map_err(|e| {
        Error::new(ErrorKind::Corrupt, format!("the new key file {e}"))
            .in_file(root.join(&key_file))
    })?;

    let mut report = SignReport {
        signature: REPOMD_ASC.to_string(),
        key_file: key_file.clone(),
        fingerprint: key.fingerprint(),
        signing_key,
        user_id,
        created,
        previous_key1: treeinfo.get("keys", "key1").map(str::to_string),
        keys: ring.infos(),
        dropped_keys: dropped.infos(),
        signed_packages: Vec::new(),
        verified_packages: 0,
        unverified_packages: Vec::new(),
        repodata: None,
    };
    treeinfo
        .set("keys", "key1", &key_file)
        .in_file(&treeinfo_path)?;
    let staged = sign_packages::stage(
        ws,
        &root,
        (&ring, &dropped),
        &key,
        created,
        opts.no_sign_packages,
    )?;
    report.verified_packages = staged.verified;
    report.unverified_packages = staged.unverified.clone();
    report.signed_packages = staged.signed.iter().map(|p| p.href.clone()).collect();
    if !staged.signed.is_empty() {
        report.repodata = Some(sign_packages::commit(ws, &root, staged, created)?);
    }
    let repomd = fs::read(&repomd_path)
        .map_err(|e| Error::io(e, "cannot read the repository index").in_file(&repomd_path))?;
    let asc = key.armored_signature(created, &repomd)?;
    replace_file(&root.join(&key_file), &key_text)?;
    replace_file(&root.join(REPOMD_ASC), &asc)?;
    replace_file(&treeinfo_path, treeinfo.to_string().as_bytes())?;
    Ok(report)
}

/// The new key file: the user's public key, then (unless `replace`) every armour
/// block of the key files `.treeinfo` `[keys]` names that brings a key not yet in
/// it, byte for byte. Also returns the keys left out.
fn key_file_text(
    root: &Path,
    treeinfo: &TreeInfo,
    public: &[u8],
    replace: bool,
) -> Result<(Vec<u8>, KeyRing)> {
    let mut text = public.to_vec();
    let mut ring = KeyRing::parse(public)
        .map_err(|e| Error::new(ErrorKind::Corrupt, format!("the exported public key {e}")))?;
    let mut dropped = KeyRing::default();
    for (name, value) in treeinfo.entries("keys") {
        let path = root.join(value.trim().trim_start_matches('/'));
        let hint = "(--replace-keys to drop the old keys)";
        let old = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if replace && e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(Error::io(
                    e,
                    format!(".treeinfo [keys] {name} names this file: cannot keep its keys {hint}"),
                )
                .in_file(&path))
            }
        };
        let blocks = armor_blocks(&old);
        if blocks.is_empty() && !replace {
            return Err(Error::new(
                ErrorKind::Corrupt,
                format!(
                    ".treeinfo [keys] {name}: this file holds no ASCII-armoured OpenPGP public key \
                     {hint}"
                ),
            )
            .in_file(&path));
        }
        for block in blocks {
            let keys = match KeyRing::parse(block) {
                Ok(k) => k,
                Err(_) if replace => continue,
                Err(why) => {
                    return Err(Error::new(
                        ErrorKind::Corrupt,
                        format!(".treeinfo [keys] {name}: this file {why} {hint}"),
                    )
                    .in_file(&path))
                }
            };
            let infos = keys.infos();
            if replace {
                dropped.keys.extend(
                    keys.keys
                        .into_iter()
                        .filter(|k| !ring.contains(&format!("{:X}", k.fingerprint()))),
                );
                continue;
            }
            if infos.iter().all(|k| ring.contains(&k.fingerprint)) {
                continue;
            }
            if !text.ends_with(b"\n") {
                text.push(b'\n');
            }
            text.extend(block);
            text.push(b'\n');
            ring.keys.extend(keys.keys);
        }
    }
    Ok((text, dropped))
}

/// `Jane Doe (release) <jane@example.org>` → `Jane-Doe`: the name part, spaces as
/// `-`, characters outside `[A-Za-z0-9._-]` dropped.
pub(crate) fn nick_from_user_id(uid: &str) -> String {
    let name = uid.split(['(', '<']).next().unwrap_or("").trim();
    let name = if name.is_empty() {
        // `<jane@example.org>` alone: the mailbox's local part.
        uid.trim_start_matches(|c| c != '<')
            .trim_start_matches('<')
            .split('@')
            .next()
            .unwrap_or("")
    } else {
        name
    };
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect()
}

fn check_nick(nick: &str) -> Result<String> {
    if nick.is_empty()
        || nick.starts_with('.')
        || !nick
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(Error::invalid(format!(
            "--nick {nick:?}: use letters, digits, '.', '_' and '-' (the key file is RPM-GPG-KEY-NICK)"
        )));
    }
    Ok(nick.to_string())
}

/// Options for [`disable_gpgcheck`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisableGpgcheckOptions {
    /// Also skip the RPM signature check (`no-gpgcheck`), not only the repository's.
    pub no_gpgcheck: bool,
    /// Modification time for the grub.cfg inside efiboot.img (see [`BootArgsOptions`]).
    pub date: Option<i64>,
}

/// What [`disable_gpgcheck`] did.
#[derive(Debug, Clone, Serialize)]
pub struct DisableGpgcheckReport {
    /// `.treeinfo` `[keys]` entries turned into comments (`key = value`).
    pub commented: Vec<String>,
    /// The boot menu edit.
    pub boot: BootArgsReport,
}

/// Comment out the `.treeinfo` `[keys]` entries and add `no-repo-gpgcheck` (and
/// `no-gpgcheck` with `opts.no_gpgcheck`) to the installer lines of every boot menu.
///
/// Refused (nothing written) when a boot line already carries `answerfile=`: the
/// installer refuses gpgcheck options on the command line together with an
/// answerfile; `xiso answerfile` puts them into the answerfile instead.
pub fn disable_gpgcheck(
    dir: &Path,
    opts: &DisableGpgcheckOptions,
) -> Result<DisableGpgcheckReport> {
    let edit = DisableGpgcheck {
        options: opts.clone(),
    };
    Workspace::edit(dir, |ws| edit.apply(ws))
}

/// The `disable-gpgcheck` edit (see [`disable_gpgcheck`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisableGpgcheck {
    /// Which checks, and the boot menus' date.
    pub options: DisableGpgcheckOptions,
}

impl DisableGpgcheck {
    /// Turn the signature checks of `ws`'s media off (see [`disable_gpgcheck`]).
    pub(crate) fn apply(&self, ws: &mut Workspace) -> Result<DisableGpgcheckReport> {
        disable(ws.dir(), &self.options)
    }
}

fn disable(dir: &Path, opts: &DisableGpgcheckOptions) -> Result<DisableGpgcheckReport> {
    let root = tree_root(dir)?;
    let treeinfo_path = root.join(TREEINFO);
    let mut treeinfo = read_treeinfo(&treeinfo_path)?;
    let mut add = vec![NO_REPO_GPGCHECK];
    if opts.no_gpgcheck {
        add.push(NO_GPGCHECK);
    }
    let mut boot_opts = BootArgsOptions {
        edit: ArgEdit::new(add, Vec::<String>::new())?,
        entry: None,
        date: opts.date,
        dry_run: true,
        ..Default::default()
    };
    let planned = boot_args(dir, &boot_opts)?;
    if let Some(m) = planned.menus.iter().find(|m| {
        m.changes.iter().any(|c| {
            c.before
                .split_whitespace()
                .any(|w| key_of(w) == "answerfile")
        })
    }) {
        return Err(Error::invalid(format!(
            "{}: the installer lines carry answerfile=, and the installer refuses gpgcheck options \
             on the command line together with an answerfile; run `xiso answerfile` again after \
             this command (it moves them into the answerfile), or set repo-gpgcheck=\"false\" \
             gpgcheck=\"false\" on the answerfile's <installation> element",
            m.path
        ))
        .in_file(dir));
    }

    let commented: Vec<String> = treeinfo
        .entries("keys")
        .into_iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    let keys: Vec<String> = treeinfo
        .entries("keys")
        .into_iter()
        .map(|(k, _)| k.to_string())
        .collect();
    for k in &keys {
        treeinfo.comment_out("keys", k).in_file(&treeinfo_path)?;
    }

    boot_opts.dry_run = false;
    let boot = boot_args(dir, &boot_opts)?;
    if !keys.is_empty() {
        replace_file(&treeinfo_path, treeinfo.to_string().as_bytes())?;
    }
    Ok(DisableGpgcheckReport { commented, boot })
}

fn read_treeinfo(path: &Path) -> Result<TreeInfo> {
    let bytes = fs::read(path).map_err(|e| {
        Error::io(
            e,
            "cannot read .treeinfo (the installer needs it to accept the media)",
        )
        .in_file(path)
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::new(ErrorKind::Corrupt, ".treeinfo is not UTF-8").in_file(path))?;
    TreeInfo::parse(&text).in_file(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nick_from_user_ids() {
        assert_eq!(
            nick_from_user_id("Jane Doe (release) <j@x.org>"),
            "Jane-Doe"
        );
        assert_eq!(nick_from_user_id("<builder@x.org>"), "builder");
        assert_eq!(nick_from_user_id("XCP-ng Builder"), "XCP-ng-Builder");
        assert_eq!(nick_from_user_id("Ünïcode"), "ncode");
        assert!(check_nick("../x").is_err());
        assert!(check_nick("a b").is_err());
        assert!(check_nick("xcpng").is_ok());
    }
}
