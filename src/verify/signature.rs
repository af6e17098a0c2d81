//! `repodata/repomd.xml.asc`: a signed repository's installer imports the key file
//! the first `.treeinfo` `[keys]` entry names (a path from the root of the media) and
//! refuses the repository unless the detached signature verifies over the bytes of
//! `repomd.xml` (ARCHITECTURE.md §1, `repo_gpgcheck=1`). Checked here with rPGP, as `xiso
//! sign` writes it: an armoured detached signature, armoured transferable public
//! keys; the signature is good when a key of that file (primary or subkey) verifies it.

use pgp::composed::{Deserializable, DetachedSignature};

use super::gpgcheck::GpgConfig;
use super::{check, Ctx};
use crate::error::Result;
use crate::openpgp::issuer_key_id;

/// The detached signature of repomd.xml.
pub(super) const SIGNATURE: &str = "/repodata/repomd.xml.asc";
/// Largest signature or key file read (a real one is a few KiB).
const MAX_PGP: u64 = 1 << 20;

/// Check `SIGNATURE` against `repomd`, the bytes of repomd.xml, with the key file
/// the installer imports (the first `[keys]` entry, see [`super::gpgcheck`]). A
/// missing signature is an error when the installer's yum checks it (`repo_gpgcheck`).
pub(super) fn check(ctx: &mut Ctx<'_>, repomd: &[u8], gpg: &GpgConfig) -> Result<()> {
    check_detached(
        ctx,
        check::REPOMD_SIGNATURE,
        (SIGNATURE, "/repodata/repomd.xml"),
        repomd,
        gpg,
    )
}

/// Check the detached signature `sig_path` of the file `signed` (whose bytes are
/// `data`) with the key file `gpg` names; findings carry `check_id`.
pub(super) fn check_detached(
    ctx: &mut Ctx<'_>,
    check_id: &'static str,
    (sig_path, signed): (&str, &str),
    data: &[u8],
    gpg: &GpgConfig,
) -> Result<()> {
    let Some(entry) = ctx.file(sig_path).cloned() else {
        if gpg.repo_gpgcheck {
            let message = if gpg.source == super::gpgcheck::UPDATE_XML_KEY {
                format!(
                    "no {sig_path}, but {}: it refuses the pack (xiso driver-disk --sign writes it)",
                    gpg.why()
                )
            } else {
                format!(
                    "no {sig_path}, but the installer's yum checks it (repo_gpgcheck=1: {}): \
                     it will refuse the repository (xiso sign, or xiso sign --disable-gpgcheck)",
                    gpg.why()
                )
            };
            ctx.error(check_id, Some(sig_path), None, message);
        }
        return Ok(());
    };
    let offset = entry.extents.first().map(|x| x.offset());
    let fail = |ctx: &mut Ctx<'_>, m: String| {
        ctx.error(check_id, Some(sig_path), offset, m);
    };
    if entry.size > MAX_PGP {
        fail(
            ctx,
            format!("{sig_path} is {} bytes, not a signature", entry.size),
        );
        return Ok(());
    }
    let asc = ctx.iso.read_file(sig_path, MAX_PGP)?;
    let signature = match DetachedSignature::from_armor_single(&asc[..]) {
        Ok((s, _)) => s,
        Err(e) => {
            fail(
                ctx,
                format!("{sig_path} is not an ASCII-armoured OpenPGP signature: {e}"),
            );
            return Ok(());
        }
    };
    let (Some(path), Some(ring)) = (&gpg.key_path, &gpg.ring) else {
        fail(
            ctx,
            format!(
                "{sig_path} is present but {} names no key file: \
                 the installer cannot verify the repository",
                if gpg.source.is_empty() {
                    "/.treeinfo [keys]"
                } else {
                    gpg.source
                }
            ),
        );
        return Ok(());
    };
    let why = match ring {
        Err(why) => why.clone(),
        Ok(ring) => match ring.verify(&signature.signature, data) {
            Some((fingerprint, Ok(()))) => {
                ctx.notes.push(format!(
                    "{sig_path}: signature good, key {fingerprint} ({path})"
                ));
                return Ok(());
            }
            Some((fingerprint, Err(e))) => {
                format!("key {fingerprint} does not verify the signature: {e}")
            }
            None => format!(
                "made by key {}, which {path} does not hold",
                issuer_key_id(&signature.signature).unwrap_or_else(|| "(no issuer)".into())
            ),
        },
    };
    fail(
        ctx,
        format!(
            "{sig_path} does not verify {signed} with {path}, the key file the \
             installer imports (it will refuse the repository): {why}"
        ),
    );
    Ok(())
}
