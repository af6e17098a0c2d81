//! Who signed the media: the keys of the file `.treeinfo [keys] key1` names (the only
//! file the installer's yum imports, ARCHITECTURE.md §1) and, for every package, the key ids
//! its RPM signature header names. Nothing is verified here (`xiso verify` does
//! that); a package's signature header is read, never its payload.

use serde::Serialize;

use crate::error::Result;
use crate::iso::{Entry, IsoImage};
use crate::openpgp::{KeyInfo, KeyRing};
use crate::rpm::signature::read_signer_key_ids;

/// Largest key file read.
const MAX_KEY_FILE: u64 = 1 << 20;

/// The signing facts of an image.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SigningSummary {
    /// The key file key1 names (absolute path on the media), when there is one.
    pub key_file: Option<String>,
    /// The public keys in it.
    pub keys: Vec<KeyInfo>,
    /// Why the key file cannot be imported (missing, not a key), when it cannot.
    pub key_problem: Option<String>,
    /// Every `.rpm` file of the tree, by path.
    pub packages: Vec<PackageSigner>,
}

/// The signer of one package.
#[derive(Debug, Clone, Serialize)]
pub struct PackageSigner {
    /// Absolute path on the media.
    pub path: String,
    /// Key ids its signature header names (upper-case hex); empty when unsigned.
    pub key_ids: Vec<String>,
    /// Fingerprint of the key of key1's file that holds the (first) signing key id,
    /// when key1's file holds it.
    pub key1_fingerprint: Option<String>,
    /// Why its signature header could not be read, when it could not.
    pub problem: Option<String>,
}

/// Read the signing facts. `key1` is the `.treeinfo` key1 value (relative to the root
/// of the media). A package whose header cannot be read is reported, not an error.
pub(crate) fn summarize(
    iso: &IsoImage,
    entries: &[Entry],
    key1: Option<&str>,
) -> Result<SigningSummary> {
    let mut summary = SigningSummary::default();
    let mut ring = KeyRing::default();
    if let Some(key1) = key1 {
        let path = format!("/{}", key1.trim().trim_start_matches('/'));
        match entries.iter().find(|e| e.path == path && e.is_file()) {
            None => summary.key_problem = Some(format!("{path} is not on the media")),
            Some(e) if e.size > MAX_KEY_FILE => {
                summary.key_problem = Some(format!("{path} is {} bytes, not a key file", e.size));
            }
            Some(_) => match KeyRing::parse(&iso.read_file(&path, MAX_KEY_FILE)?) {
                Ok(r) => ring = r,
                Err(why) => summary.key_problem = Some(format!("{path} {why}")),
            },
        }
        summary.keys = ring.infos();
        summary.key_file = Some(path);
    }
    let mut rpms: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.is_file() && e.path.ends_with(".rpm"))
        .collect();
    rpms.sort_by(|a, b| a.path.cmp(&b.path));
    for e in rpms {
        let read = iso
            .file_reader(e)
            .and_then(|mut r| read_signer_key_ids(&mut r));
        let (key_ids, problem) = match read {
            Ok(ids) => (ids, None),
            Err(err) => (Vec::new(), Some(err.to_string())),
        };
        summary.packages.push(PackageSigner {
            path: e.path.clone(),
            key1_fingerprint: key_ids.first().and_then(|id| ring.fingerprint_of(id)),
            key_ids,
            problem,
        });
    }
    Ok(summary)
}

impl SigningSummary {
    /// The packages grouped by what signed them, for the text report: one line per
    /// key id (or "unsigned"), with the count and whether key1's file holds the key.
    pub(crate) fn groups(&self) -> Vec<(String, usize)> {
        let mut groups: Vec<(String, usize)> = Vec::new();
        for p in &self.packages {
            let label = match (&p.problem, p.key_ids.first()) {
                (Some(_), _) => "unreadable".to_string(),
                (None, None) => "unsigned".to_string(),
                (None, Some(id)) if p.key1_fingerprint.is_some() => format!("key {id} (in key1)"),
                (None, Some(id)) => format!("key {id} (NOT in key1)"),
            };
            match groups.iter_mut().find(|(l, _)| *l == label) {
                Some((_, n)) => *n += 1,
                None => groups.push((label, 1)),
            }
        }
        groups
    }
}
