//! `xiso sign DIR`: make the repository signature check of the installer pass again
//! after `Packages/` or `repodata/` changed, or switch the check off.
//!
//! XCP-ng 8.3's installer verifies `repodata/repomd.xml.asc` (a detached signature
//! over `repomd.xml`) with the key file that `.treeinfo` `[keys] key1` names at the
//! root of the media (DESIGN §1). [`sign`] writes all three with the user's key:
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

use pgp::composed::{ArmorOptions, Deserializable, DetachedSignature, SignedSecretKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{SignatureConfig, SignatureType, Subpacket, SubpacketData};
use pgp::types::{KeyDetails, KeyVersion, Password, SigningKey, Timestamp};
use serde::Serialize;

use super::boot_args::{boot_args, replace_file, BootArgsOptions, BootArgsReport};
use super::manifest::TREE_DIR;
use super::pack::resolve_date;
use crate::bootcfg::{key_of, ArgEdit};
use crate::error::{Error, ErrorKind, Result, ResultExt};
use crate::treeinfo::TreeInfo;

/// The repository metadata index, below `DIR/iso/`.
pub const REPOMD_XML: &str = "repodata/repomd.xml";
/// The detached signature the installer checks, below `DIR/iso/`.
pub const REPOMD_ASC: &str = "repodata/repomd.xml.asc";
/// The media description, below `DIR/iso/`.
pub const TREEINFO: &str = ".treeinfo";
/// The installer option that skips the repository signature check.
pub const NO_REPO_GPGCHECK: &str = "no-repo-gpgcheck";
/// The installer option that skips the RPM signature check.
pub const NO_GPGCHECK: &str = "no-gpgcheck";

/// Options for [`sign`].
#[derive(Debug, Clone, Default)]
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
}

/// Sign `DIR/iso/repodata/repomd.xml` with the ASCII-armoured secret key `key_armored`,
/// export its public key to `DIR/iso/RPM-GPG-KEY-NAME` and point `.treeinfo`
/// `[keys] key1` at it.
///
/// Errors (nothing written): no workspace, no repomd.xml, no .treeinfo, a key that is
/// not an armoured secret key, a protected key without (or with a wrong) passphrase,
/// a key that cannot sign, an invalid nick.
pub fn sign(dir: &Path, key_armored: &[u8], opts: &SignOptions) -> Result<SignReport> {
    let root = tree_root(dir)?;
    let repomd_path = root.join(REPOMD_XML);
    let repomd = fs::read(&repomd_path).map_err(|e| {
        Error::io(
            e,
            "cannot read the repository index (make one with xiso add-rpm or createrepo)",
        )
        .in_file(&repomd_path)
    })?;
    let treeinfo_path = root.join(TREEINFO);
    let mut treeinfo = read_treeinfo(&treeinfo_path)?;

    let (key, _headers) = SignedSecretKey::from_armor_single(key_armored)
        .map_err(|e| Error::invalid(format!("not an ASCII-armoured OpenPGP secret key: {e}")))?;
    let user_id = key
        .details
        .users
        .first()
        .map(|u| String::from_utf8_lossy(u.id.id()).into_owned());
    let nick = match &opts.nick {
        Some(n) => check_nick(n)?,
        None => user_id
            .as_deref()
            .map(nick_from_user_id)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "xiso".to_string()),
    };
    let key_file = format!("RPM-GPG-KEY-{nick}");
    let password = opts
        .passphrase
        .as_deref()
        .map_or_else(Password::empty, Password::from);

    let (now, _) = resolve_date(opts.date)?;
    let signer = signing_key(&key)?;
    let created = u32::try_from(now)
        .map_err(|_| Error::invalid(format!("signature time {now} is outside 1970..2106")))?
        .max(signer.created_at().as_secs());
    let signature = detached_signature(signer, &password, created, &repomd)?;
    let asc = signature
        .to_armored_bytes(ArmorOptions::default())
        .map_err(|e| {
            Error::new(
                ErrorKind::Corrupt,
                format!("cannot armour the signature: {e}"),
            )
        })?;
    let public = key
        .to_public_key()
        .to_armored_bytes(ArmorOptions::default())
        .map_err(|e| {
            Error::new(
                ErrorKind::Corrupt,
                format!("cannot export the public key: {e}"),
            )
        })?;

    let previous_key1 = treeinfo.get("keys", "key1").map(str::to_string);
    treeinfo
        .set("keys", "key1", &key_file)
        .in_file(&treeinfo_path)?;

    replace_file(&root.join(&key_file), &public)?;
    replace_file(&root.join(REPOMD_ASC), &asc)?;
    replace_file(&treeinfo_path, treeinfo.to_string().as_bytes())?;
    Ok(SignReport {
        signature: REPOMD_ASC.to_string(),
        key_file,
        fingerprint: format!("{:X}", key.fingerprint()),
        signing_key: format!("{:X}", signer.fingerprint()),
        user_id,
        created,
        previous_key1,
    })
}

/// The key that signs: the primary key when its self-signature allows signing (or
/// says nothing), else the first subkey bound for signing.
fn signing_key(key: &SignedSecretKey) -> Result<&dyn SigningKey> {
    let primary_flags = key
        .details
        .users
        .iter()
        .flat_map(|u| &u.signatures)
        .chain(&key.details.direct_signatures)
        .map(|s| s.key_flags())
        .find(|f| f.sign() || f.certify() || f.encrypt_comms() || f.encrypt_storage());
    if primary_flags.is_none_or(|f| f.sign()) {
        return Ok(&key.primary_key);
    }
    key.secret_subkeys
        .iter()
        .find(|s| s.signatures.iter().any(|sig| sig.key_flags().sign()))
        .map(|s| &s.key as &dyn SigningKey)
        .ok_or_else(|| {
            Error::invalid(
                "this key cannot sign: neither the primary key nor a subkey has the sign flag",
            )
        })
}

/// A v4 (or v6) detached binary signature over `data` made at `created`, with the
/// subpackets GnuPG writes: issuer fingerprint and creation time hashed, issuer key
/// id unhashed (v4). RSA PKCS#1 v1.5 and EdDSA signatures are deterministic, so the
/// same key, data and time give the same bytes.
fn detached_signature(
    signer: &dyn SigningKey,
    password: &Password,
    created: u32,
    data: &[u8],
) -> Result<DetachedSignature> {
    let pgp_err = |what: &str, e: pgp::errors::Error| Error::invalid(format!("{what}: {e}"));
    let hash = HashAlgorithm::Sha256;
    let mut config = match signer.version() {
        KeyVersion::V4 => SignatureConfig::v4(SignatureType::Binary, signer.algorithm(), hash),
        KeyVersion::V6 => SignatureConfig::v6_with_salt(
            SignatureType::Binary,
            signer.algorithm(),
            hash,
            random_salt(hash.salt_len().unwrap_or(16))?,
        ),
        v => return Err(Error::unsupported(format!("OpenPGP key version {v:?}"))),
    };
    config.hashed_subpackets = vec![
        Subpacket::regular(SubpacketData::IssuerFingerprint(signer.fingerprint()))
            .map_err(|e| pgp_err("signature subpacket", e))?,
        Subpacket::regular(SubpacketData::SignatureCreationTime(Timestamp::from_secs(
            created,
        )))
        .map_err(|e| pgp_err("signature subpacket", e))?,
    ];
    if signer.version() == KeyVersion::V4 {
        config.unhashed_subpackets =
            vec![
                Subpacket::regular(SubpacketData::IssuerKeyId(signer.legacy_key_id()))
                    .map_err(|e| pgp_err("signature subpacket", e))?,
            ];
    }
    let sig = config
        .sign(&Box::new(signer), password, data)
        .map_err(|e| {
            let msg = if password.read().is_empty() {
                format!("cannot sign (a passphrase-protected key needs --passphrase-file): {e}")
            } else {
                format!("cannot sign (wrong passphrase?): {e}")
            };
            Error::invalid(msg)
        })?;
    Ok(DetachedSignature::new(sig))
}

/// A v6 signature's salt must be unpredictable (RFC 9580 §5.2.4): read it from the
/// kernel's random source.
fn random_salt(len: usize) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut salt = vec![0; len];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut salt))
        .map_err(|e| Error::io(e, "cannot read /dev/urandom"))?;
    Ok(salt)
}

/// `Jane Doe (release) <jane@example.org>` → `Jane-Doe`: the name part, spaces as
/// `-`, characters outside `[A-Za-z0-9._-]` dropped.
fn nick_from_user_id(uid: &str) -> String {
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
#[derive(Debug, Clone, Default)]
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

fn tree_root(dir: &Path) -> Result<PathBuf> {
    let root = dir.join(TREE_DIR);
    if !root.is_dir() {
        return Err(Error::invalid(
            "not a workspace: no iso/ directory (make one with xiso unpack)",
        )
        .in_file(dir));
    }
    Ok(root)
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
