//! OpenPGP keys and signatures, shared by repository signing (`repomd.xml.asc`),
//! package signing ([`crate::rpm::sign`]) and their checks ([`mod@crate::verify`]).
//!
//! Everything is rPGP (pure Rust). A [`SecretKey`] is the user's armoured secret key
//! with its passphrase; `SecretKey::detached_signature` makes the v4 binary
//! signature GnuPG's `gpg --detach-sign` makes (RFC 9580 §5.2: SHA-256, issuer
//! fingerprint and creation time hashed, issuer key id unhashed), deterministic for
//! RSA PKCS#1 v1.5 and EdDSA. A `KeyRing` is what one key file holds: one or more
//! armoured transferable public keys, as yum imports them from the file `.treeinfo`
//! `[keys] key1` names.

use std::fs;

use pgp::composed::{
    ArmorOptions, Deserializable, DetachedSignature, SignedPublicKey, SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::crypto::public_key::PublicKeyAlgorithm;
use pgp::packet::{Signature, SignatureConfig, SignatureType, Subpacket, SubpacketData};
use pgp::types::{KeyDetails, KeyVersion, Password, SigningKey, Timestamp};
use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};

/// A secret key to sign with, and its passphrase.
pub struct SecretKey {
    key: SignedSecretKey,
    password: Password,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({:X})", self.key.fingerprint())
    }
}

impl SecretKey {
    /// Parse an ASCII-armoured secret key (`gpg --export-secret-keys --armor`).
    pub fn from_armor(armored: &[u8], passphrase: Option<&str>) -> Result<SecretKey> {
        let (key, _headers) = SignedSecretKey::from_armor_single(armored).map_err(|e| {
            Error::invalid(format!("not an ASCII-armoured OpenPGP secret key: {e}"))
        })?;
        let password = passphrase.map_or_else(Password::empty, Password::from);
        Ok(SecretKey { key, password })
    }

    /// The key's first user id, if it has one.
    pub(crate) fn user_id(&self) -> Option<String> {
        self.key
            .details
            .users
            .first()
            .map(|u| String::from_utf8_lossy(u.id.id()).into_owned())
    }

    /// Fingerprint of the primary key, upper-case hex as `gpg --fingerprint` shows it.
    pub(crate) fn fingerprint(&self) -> String {
        format!("{:X}", self.key.fingerprint())
    }

    /// The (sub)key that signs: the primary key when its self-signature allows
    /// signing (or says nothing), else the first subkey bound for signing.
    pub(crate) fn signer(&self) -> Result<&dyn SigningKey> {
        let key = &self.key;
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

    /// Refuse a key whose signatures the XCP-ng 8.3 installer cannot check: its
    /// rpm 4.11 and GnuPG 2.0 verify v4 RSA and DSA signatures only (no EdDSA,
    /// ECDSA or v6 keys).
    pub(crate) fn check_el7(&self) -> Result<()> {
        let signer = self.signer()?;
        let algorithm = signer.algorithm();
        let ok_algorithm = matches!(
            algorithm,
            PublicKeyAlgorithm::RSA | PublicKeyAlgorithm::RSASign | PublicKeyAlgorithm::DSA
        );
        if !ok_algorithm || signer.version() != KeyVersion::V4 {
            return Err(Error::unsupported(format!(
                "key {:X} signs with {algorithm:?} (OpenPGP {:?}): the XCP-ng 8.3 installer's rpm 4.11 \
                 and GnuPG 2.0 verify only v4 RSA and DSA signatures; use an RSA key \
                 (gpg --quick-gen-key NAME rsa3072 sign)",
                signer.fingerprint(),
                signer.version()
            )));
        }
        Ok(())
    }

    /// The transferable public key, armoured.
    pub(crate) fn public_armored(&self) -> Result<Vec<u8>> {
        self.key
            .to_public_key()
            .to_armored_bytes(ArmorOptions::default())
            .map_err(|e| {
                Error::new(
                    ErrorKind::Corrupt,
                    format!("cannot export the public key: {e}"),
                )
            })
    }

    /// A signature time for this key: `when`, never earlier than the signing key
    /// itself (OpenPGP implementations reject a signature older than its key).
    pub(crate) fn signature_time(&self, when: i64) -> Result<u32> {
        let signer = self.signer()?;
        Ok(u32::try_from(when)
            .map_err(|_| Error::invalid(format!("signature time {when} is outside 1970..2106")))?
            .max(signer.created_at().as_secs()))
    }

    /// A v4 (or v6) detached binary signature over `data` made at `created`, with
    /// the subpackets GnuPG writes: issuer fingerprint and creation time hashed,
    /// issuer key id unhashed (v4). RSA PKCS#1 v1.5 and EdDSA signatures are
    /// deterministic, so the same key, data and time give the same bytes.
    pub(crate) fn detached_signature(
        &self,
        created: u32,
        data: &[u8],
    ) -> Result<DetachedSignature> {
        let signer = self.signer()?;
        let password = &self.password;
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

    /// [`SecretKey::detached_signature`], ASCII-armoured: the `.asc` file yum and
    /// xapi check.
    pub(crate) fn armored_signature(&self, created: u32, data: &[u8]) -> Result<Vec<u8>> {
        self.detached_signature(created, data)?
            .to_armored_bytes(ArmorOptions::default())
            .map_err(|e| {
                Error::new(
                    ErrorKind::Corrupt,
                    format!("cannot armour the signature: {e}"),
                )
            })
    }
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

/// One public key of a key file, as reports list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// Fingerprint of the primary key (upper-case hex).
    pub fingerprint: String,
    /// Its 64-bit key id (upper-case hex), as rpm and yum name keys.
    pub key_id: String,
    /// The first user id.
    pub user_id: Option<String>,
    /// The primary key's algorithm (`RSA`, `DSA`, `EdDSALegacy`, …).
    pub algorithm: String,
}

/// The public keys of one key file.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyRing {
    /// The keys, in file order.
    pub keys: Vec<SignedPublicKey>,
}

impl KeyRing {
    /// Every armoured public key in `text`: one armour block may hold several keys,
    /// and a file may hold several blocks (yum and dnf import them all).
    pub(crate) fn parse(text: &[u8]) -> std::result::Result<KeyRing, String> {
        let mut keys = Vec::new();
        for block in armor_blocks(text) {
            let (parsed, _) = SignedPublicKey::from_armor_many(block)
                .map_err(|e| format!("is not an ASCII-armoured OpenPGP public key: {e}"))?;
            for k in parsed {
                keys.push(
                    k.map_err(|e| format!("is not an ASCII-armoured OpenPGP public key: {e}"))?,
                );
            }
        }
        if keys.is_empty() {
            return Err(
                "is not an ASCII-armoured OpenPGP public key (no BEGIN PGP PUBLIC KEY BLOCK)"
                    .into(),
            );
        }
        Ok(KeyRing { keys })
    }

    /// What the file holds, for reports.
    pub(crate) fn infos(&self) -> Vec<KeyInfo> {
        self.keys.iter().map(key_info).collect()
    }

    /// Whether a key with this primary fingerprint is in the ring.
    pub(crate) fn contains(&self, fingerprint: &str) -> bool {
        self.keys
            .iter()
            .any(|k| format!("{:X}", k.fingerprint()) == fingerprint)
    }

    /// Verify `sig` over `data` with the (sub)key it names as its issuer (by key id
    /// or fingerprint): `None` when the ring has no such key, else the fingerprint
    /// of the primary key and the result.
    pub(crate) fn verify(
        &self,
        sig: &Signature,
        data: &[u8],
    ) -> Option<(String, std::result::Result<(), String>)> {
        let (primary, key) = self.find(&issuer_key_id(sig)?)?;
        let verified = match key {
            RingKey::Primary(k) => sig.verify(k, data),
            RingKey::Subkey(k) => sig.verify(k, data),
        };
        Some((primary, verified.map_err(|e| e.to_string())))
    }

    /// The fingerprint of the key (primary key or subkey) with the 64-bit key id
    /// `key_id` (upper-case hex): what signed a package, as rpm looks it up.
    pub(crate) fn fingerprint_of(&self, key_id: &str) -> Option<String> {
        self.find(key_id).map(|(primary, _)| primary)
    }

    /// The primary fingerprint and the (sub)key whose key id is `key_id`.
    fn find(&self, key_id: &str) -> Option<(String, RingKey<'_>)> {
        for k in &self.keys {
            let primary = || format!("{:X}", k.fingerprint());
            if key_id_hex(&k.primary_key) == key_id {
                return Some((primary(), RingKey::Primary(&k.primary_key)));
            }
            for sub in &k.public_subkeys {
                if key_id_hex(&sub.key) == key_id {
                    return Some((primary(), RingKey::Subkey(&sub.key)));
                }
            }
        }
        None
    }
}

/// A key of a [`KeyRing`] that can verify: a primary key or one of its subkeys.
enum RingKey<'a> {
    Primary(&'a pgp::packet::PublicKey),
    Subkey(&'a pgp::packet::PublicSubkey),
}

/// The armour blocks of a text, each from its BEGIN line to its END line.
pub(crate) fn armor_blocks(text: &[u8]) -> Vec<&[u8]> {
    const BEGIN: &[u8] = b"-----BEGIN PGP PUBLIC KEY BLOCK-----";
    const END: &[u8] = b"-----END PGP PUBLIC KEY BLOCK-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = find(rest, BEGIN) {
        let Some(end) = find(&rest[start..], END) else {
            out.push(&rest[start..]);
            break;
        };
        let stop = start + end + END.len();
        out.push(&rest[start..stop]);
        rest = &rest[stop..];
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn key_info(k: &SignedPublicKey) -> KeyInfo {
    KeyInfo {
        fingerprint: format!("{:X}", k.fingerprint()),
        key_id: key_id_hex(&k.primary_key),
        user_id: k
            .details
            .users
            .first()
            .map(|u| String::from_utf8_lossy(u.id.id()).into_owned()),
        algorithm: format!("{:?}", k.primary_key.algorithm()),
    }
}

/// The 64-bit key id of a key, upper-case hex.
pub(crate) fn key_id_hex(key: &impl KeyDetails) -> String {
    hex_upper(key.legacy_key_id().as_ref())
}

/// The key id a signature names: its issuer key id subpacket, else the low 64 bits
/// of its issuer fingerprint (v4), upper-case hex.
pub(crate) fn issuer_key_id(sig: &Signature) -> Option<String> {
    if let Some(id) = sig.issuer_key_id().first() {
        return Some(hex_upper(id.as_ref()));
    }
    sig.issuer_fingerprint().first().and_then(|fp| {
        let bytes = fp.as_bytes();
        (bytes.len() == 20).then(|| hex_upper(&bytes[12..]))
    })
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
