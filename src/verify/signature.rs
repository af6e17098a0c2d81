//! `repodata/repomd.xml.asc`: a signed repository's installer imports the key files
//! `.treeinfo` `[keys]` names (paths from the root of the media) and refuses the
//! repository unless the detached signature verifies over the bytes of
//! `repomd.xml` (DESIGN §1). Checked here with rPGP, as `xiso sign` writes it:
//! an armoured detached signature, armoured transferable public keys; the signature
//! is good when the primary key or a subkey of any key named by `[keys]` verifies it.

use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::types::KeyDetails;

use super::{check, Ctx};
use crate::error::Result;
use crate::treeinfo::TreeInfo;

/// The detached signature of repomd.xml.
pub(super) const SIGNATURE: &str = "/repodata/repomd.xml.asc";
/// Largest signature or key file read (a real one is a few KiB).
const MAX_PGP: u64 = 1 << 20;

/// Check `SIGNATURE` (when present) against `repomd`, the bytes of repomd.xml.
pub(super) fn check(ctx: &mut Ctx<'_>, repomd: &[u8]) -> Result<()> {
    let Some(entry) = ctx.file(SIGNATURE).cloned() else {
        return Ok(());
    };
    let offset = entry.extents.first().map(|x| x.offset());
    let fail = |ctx: &mut Ctx<'_>, m: String| {
        ctx.error(check::REPOMD_SIGNATURE, Some(SIGNATURE), offset, m);
    };
    if entry.size > MAX_PGP {
        fail(
            ctx,
            format!("{SIGNATURE} is {} bytes, not a signature", entry.size),
        );
        return Ok(());
    }
    let asc = ctx.iso.read_file(SIGNATURE, MAX_PGP)?;
    let signature = match DetachedSignature::from_armor_single(&asc[..]) {
        Ok((s, _)) => s,
        Err(e) => {
            fail(
                ctx,
                format!("{SIGNATURE} is not an ASCII-armoured OpenPGP signature: {e}"),
            );
            return Ok(());
        }
    };

    let keys = key_paths(ctx)?;
    if keys.is_empty() {
        fail(
            ctx,
            format!(
                "{SIGNATURE} is present but /.treeinfo [keys] names no key file: \
                 the installer cannot verify the repository"
            ),
        );
        return Ok(());
    }
    let mut problems = Vec::new();
    for path in &keys {
        match verify_with(ctx, path, &signature, repomd)? {
            Ok(fingerprint) => {
                ctx.notes.push(format!(
                    "{SIGNATURE}: signature good, key {fingerprint} ({path})"
                ));
                return Ok(());
            }
            Err(why) => problems.push(format!("{path}: {why}")),
        }
    }
    fail(
        ctx,
        format!(
            "{SIGNATURE} does not verify /repodata/repomd.xml with the [keys] of /.treeinfo \
             (the installer will refuse the repository): {}",
            problems.join("; ")
        ),
    );
    Ok(())
}

/// The absolute paths `.treeinfo` `[keys]` names, in order (none when it is unreadable:
/// the media check reports that).
fn key_paths(ctx: &Ctx<'_>) -> Result<Vec<String>> {
    const TREEINFO: &str = "/.treeinfo";
    if ctx.file(TREEINFO).is_none_or(|e| e.size > MAX_PGP) {
        return Ok(Vec::new());
    }
    let bytes = ctx.iso.read_file(TREEINFO, MAX_PGP)?;
    let Ok(info) = TreeInfo::parse(&String::from_utf8_lossy(&bytes)) else {
        return Ok(Vec::new());
    };
    Ok(info
        .entries("keys")
        .into_iter()
        .map(|(_, v)| format!("/{}", v.trim().trim_start_matches('/')))
        .collect())
}

/// `Ok(Ok(fingerprint))` when a key in the file at `path` verifies the signature;
/// `Ok(Err(why))` when none does or the file is missing or not a key; `Err` only
/// when the ISO cannot be read.
fn verify_with(
    ctx: &Ctx<'_>,
    path: &str,
    signature: &DetachedSignature,
    data: &[u8],
) -> Result<std::result::Result<String, String>> {
    let Some(entry) = ctx.file(path) else {
        return Ok(Err("not on the media".into()));
    };
    if entry.size > MAX_PGP {
        return Ok(Err(format!("{} bytes, not a key file", entry.size)));
    }
    let text = ctx.iso.read_file(path, MAX_PGP)?;
    let keys = match SignedPublicKey::from_armor_many(&text[..]) {
        Ok((keys, _)) => keys,
        Err(e) => {
            return Ok(Err(format!(
                "not an ASCII-armoured OpenPGP public key: {e}"
            )))
        }
    };
    let mut why = "holds no public key".to_string();
    for key in keys {
        let key = match key {
            Ok(k) => k,
            Err(e) => {
                why = format!("not an ASCII-armoured OpenPGP public key: {e}");
                continue;
            }
        };
        let primary = format!("{:X}", key.fingerprint());
        let mut result = signature.verify(&key.primary_key, data);
        for sub in &key.public_subkeys {
            if result.is_ok() {
                break;
            }
            result = signature.verify(&sub.key, data);
        }
        match result {
            Ok(()) => return Ok(Ok(primary)),
            Err(e) => why = format!("key {primary} does not verify the signature: {e}"),
        }
    }
    Ok(Err(why))
}
