//! Checking a package's signatures and digests as the installer's yum does with
//! `gpgcheck=1` (rpm's `lib/package.c` `rpmpkgRead`, `rpmvs` in `lib/rpmvs.c`).
//!
//! The signature header may hold header-only signatures (`RPMSIGTAG_RSA` 268,
//! `RPMSIGTAG_DSA` 267) and header+payload signatures (`RPMSIGTAG_PGP` 1002,
//! `RPMSIGTAG_GPG` 1005), plus digests: SHA-1 (269) and SHA-256 (273) of the main
//! header, MD5 (1004) of header and payload; the main header may hold the payload
//! digest (`PAYLOADDIGEST` 5092). A package passes when it carries at least one
//! signature, every signature it carries is made by a key of the key file and
//! verifies, and every digest it carries matches. rpm 6's `OPENPGP` (278) is not
//! read by EL7's rpm and does not count.

use pgp::composed::{Deserializable, DetachedSignature};
use pgp::crypto::hash::HashAlgorithm;
use serde::Serialize;

use super::header::{read_lead, Header, LEAD_SIZE};
use super::package::read_headers;
use super::tag::{main, sig};
use crate::error::{Error, Result};
use crate::openpgp::{issuer_key_id, KeyRing};

/// The outcome of [`check_package`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub(crate) enum SignatureStatus {
    /// Every signature verifies with a key of the ring, every digest matches.
    Good {
        /// The key id that signed (upper-case hex).
        key_id: String,
        /// Fingerprint of the key in the ring that verified it.
        fingerprint: String,
    },
    /// No RSA/DSA signature at all (yum: "Package … is not signed").
    Unsigned,
    /// Signed by a key the ring does not hold (yum: "Public key for … is not installed").
    MissingKey {
        /// The key id of the signature.
        key_id: String,
    },
    /// A signature that does not verify or a digest that does not match (yum: "GPG check FAILED").
    Bad {
        /// What failed.
        reason: String,
    },
}

/// Check the package `rpm` (the whole file) against the keys of `ring`. `Err` only
/// when the file is not an RPM whose headers can be read.
pub(crate) fn check_package(rpm: &[u8], ring: &KeyRing) -> Result<SignatureStatus> {
    let (signature, header) = read_headers(&mut &rpm[..])?;
    let start = usize::try_from(header.start())
        .map_err(|_| Error::corrupt(header.start(), "main header offset too large"))?;
    let end = usize::try_from(header.end())
        .map_err(|_| Error::corrupt(header.end(), "main header end too large"))?;
    let (Some(main_header), Some(header_and_payload), Some(payload)) =
        (rpm.get(start..end), rpm.get(start..), rpm.get(end..))
    else {
        return Err(Error::corrupt(
            header.start(),
            "main header outside the file",
        ));
    };
    if let Some(reason) = digest_mismatch(
        &signature,
        &header,
        main_header,
        header_and_payload,
        payload,
    )? {
        return Ok(SignatureStatus::Bad { reason });
    }
    let mut good = None;
    let mut any = false;
    for (tag, what, data) in [
        (sig::RSA, "RSA header signature", main_header),
        (sig::DSA, "DSA header signature", main_header),
        (sig::PGP, "RSA header+payload signature", header_and_payload),
        (sig::GPG, "DSA header+payload signature", header_and_payload),
    ] {
        let Some(e) = signature.entry(tag) else {
            continue;
        };
        any = true;
        let bytes = signature.value_bytes(e);
        let parsed = match DetachedSignature::from_bytes(bytes) {
            Ok(s) => s.signature,
            Err(e) => {
                return Ok(SignatureStatus::Bad {
                    reason: format!("the {what} is not an OpenPGP signature: {e}"),
                })
            }
        };
        let Some(key_id) = issuer_key_id(&parsed) else {
            return Ok(SignatureStatus::Bad {
                reason: format!("the {what} names no issuer key"),
            });
        };
        let Some((fingerprint, result)) = ring.verify(&parsed, data) else {
            return Ok(SignatureStatus::MissingKey { key_id });
        };
        if let Err(e) = result {
            return Ok(SignatureStatus::Bad {
                reason: format!("the {what} by key {key_id} does not verify: {e}"),
            });
        }
        good.get_or_insert((key_id, fingerprint));
    }
    Ok(match good {
        Some((key_id, fingerprint)) => SignatureStatus::Good {
            key_id,
            fingerprint,
        },
        None if !any => SignatureStatus::Unsigned,
        None => unreachable!("every present signature returns or verifies"),
    })
}

/// The key ids that signed the package `rpm` reads (its lead and signature header
/// only; the rest is not read), without checking anything: what `xiso inspect` shows.
pub(crate) fn read_signer_key_ids(rpm: &mut dyn std::io::Read) -> Result<Vec<String>> {
    read_lead(rpm)?;
    Ok(signer_key_ids(&Header::read(rpm, LEAD_SIZE)?))
}

/// The key ids that signed a package, from its signature header alone (header-only
/// signatures first), without checking anything.
pub(crate) fn signer_key_ids(signature: &Header) -> Vec<String> {
    let mut ids = Vec::new();
    for tag in [sig::RSA, sig::DSA, sig::PGP, sig::GPG] {
        let Some(e) = signature.entry(tag) else {
            continue;
        };
        if let Ok(s) = DetachedSignature::from_bytes(signature.value_bytes(e)) {
            if let Some(id) = issuer_key_id(&s.signature) {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
    }
    ids
}

/// The first digest that does not match, described.
fn digest_mismatch(
    signature: &Header,
    header: &Header,
    main_header: &[u8],
    header_and_payload: &[u8],
    payload: &[u8],
) -> Result<Option<String>> {
    let hex = |alg: HashAlgorithm, data: &[u8]| -> Result<String> {
        let d = alg
            .digest(data)
            .map_err(|e| Error::unsupported(format!("digest {alg:?}: {e}")))?;
        Ok(d.iter().map(|b| format!("{b:02x}")).collect())
    };
    for (tag, alg, what) in [
        (sig::SHA256, HashAlgorithm::Sha256, "SHA-256 header digest"),
        (sig::SHA1, HashAlgorithm::Sha1, "SHA-1 header digest"),
    ] {
        if let Some(stated) = signature.string(tag)? {
            let actual = hex(alg, main_header)?;
            if !actual.eq_ignore_ascii_case(&String::from_utf8_lossy(stated)) {
                return Ok(Some(format!("{what} mismatch (the header was changed)")));
            }
        }
    }
    if let Some(e) = signature.entry(sig::MD5) {
        let stated = signature.value_bytes(e);
        let actual = HashAlgorithm::Md5
            .digest(header_and_payload)
            .map_err(|e| Error::unsupported(format!("digest MD5: {e}")))?;
        if stated != &actual[..] {
            return Ok(Some(
                "MD5 header+payload digest mismatch (the package was changed)".into(),
            ));
        }
    }
    if let Some(stated) = header.strings(main::PAYLOADDIGEST)? {
        // rpm's PGPHASHALGO numbers are OpenPGP's hash algorithm ids.
        let alg = match header.number(main::PAYLOADDIGESTALGO)? {
            Some(1) => Some(HashAlgorithm::Md5),
            Some(2) => Some(HashAlgorithm::Sha1),
            Some(8) | None => Some(HashAlgorithm::Sha256),
            Some(9) => Some(HashAlgorithm::Sha384),
            Some(10) => Some(HashAlgorithm::Sha512),
            Some(11) => Some(HashAlgorithm::Sha224),
            Some(_) => None,
        };
        if let (Some(alg), Some(first)) = (alg, stated.first()) {
            let actual = hex(alg, payload)?;
            if !actual.eq_ignore_ascii_case(&String::from_utf8_lossy(first)) {
                return Ok(Some(
                    "payload digest mismatch (the payload was changed)".into(),
                ));
            }
        }
    }
    Ok(None)
}
