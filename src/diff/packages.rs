//! Repository differences by NEVRA, from each image's `repodata/repomd.xml` and the
//! primary metadata it names.

use std::collections::BTreeMap;

use super::files::Tree;
use super::{PackageChanges, PackageUpdate};
use crate::error::Result;
use crate::iso::ExtentReader;
use crate::repo::{read_primary, PackageEntry, Repomd};
use crate::rpm::evr::Evr;

/// Largest repomd.xml read.
const MAX_REPOMD: u64 = 16 << 20;
const REPOMD: &str = "repodata/repomd.xml";

/// One package as the diff sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    /// `[epoch:]version-release`.
    evr: String,
    /// For ordering versions as rpm does.
    parsed: Evr,
    /// The package checksum (a rebuild of the same NEVRA has another).
    pkgid: String,
}

/// Packages by (name, arch).
type Listing = BTreeMap<(String, String), Vec<Listed>>;

/// Compare the repositories of both images (an image without one lists nothing).
pub(super) fn compare(
    a: &Tree<'_>,
    b: &Tree<'_>,
    notes: &mut Vec<String>,
) -> Result<PackageChanges> {
    let (la, lb) = (listing(a, notes)?, listing(b, notes)?);
    Ok(compare_listings(&la, &lb))
}

/// Pair the packages of two listings by name.arch and EVR.
fn compare_listings(la: &Listing, lb: &Listing) -> PackageChanges {
    let mut out = PackageChanges::default();
    let nevra = |(name, arch): &(String, String), l: &Listed| format!("{name}-{}.{arch}", l.evr);
    for (key, va) in la {
        let vb = lb.get(key).map(Vec::as_slice).unwrap_or_default();
        let mut only_a: Vec<&Listed> = Vec::new();
        for p in va {
            match vb.iter().find(|q| q.evr == p.evr) {
                None => only_a.push(p),
                Some(q) if q.pkgid != p.pkgid => out.rebuilt.push(nevra(key, p)),
                Some(_) => {}
            }
        }
        let mut only_b: Vec<&Listed> = vb
            .iter()
            .filter(|q| !va.iter().any(|p| p.evr == q.evr))
            .collect();
        // Oldest of A pairs with oldest of B: one version replaced by another is an update.
        only_a.sort_by(|x, y| x.parsed.compare(&y.parsed));
        only_b.sort_by(|x, y| x.parsed.compare(&y.parsed));
        let paired = only_a.len().min(only_b.len());
        for (p, q) in only_a.iter().zip(&only_b) {
            out.updated.push(PackageUpdate {
                name: key.0.clone(),
                arch: key.1.clone(),
                from: p.evr.clone(),
                to: q.evr.clone(),
            });
        }
        out.removed
            .extend(only_a[paired..].iter().map(|p| nevra(key, p)));
        out.added
            .extend(only_b[paired..].iter().map(|q| nevra(key, q)));
    }
    for (key, vb) in lb {
        if !la.contains_key(key) {
            out.added.extend(vb.iter().map(|q| nevra(key, q)));
        }
    }
    out.added.sort();
    out.removed.sort();
    out.rebuilt.sort();
    out
}

/// The packages primary.xml lists, or an empty listing (with a note) when the image
/// has no repository.
fn listing(t: &Tree<'_>, notes: &mut Vec<String>) -> Result<Listing> {
    let mut out = Listing::new();
    let Some(_) = t.file(REPOMD) else {
        notes.push(format!(
            "{}: no {REPOMD}: no packages listed",
            t.iso.source().path().display()
        ));
        return Ok(out);
    };
    let repomd = Repomd::parse(&t.iso.read_file(REPOMD, MAX_REPOMD)?)
        .map_err(|e| e.in_file(t.iso.source().path()).in_path(REPOMD))?;
    let Some(primary) = repomd.record("primary") else {
        notes.push(format!(
            "{}: {REPOMD} has no primary record: no packages listed",
            t.iso.source().path().display()
        ));
        return Ok(out);
    };
    let href = primary.location_href.trim_start_matches('/').to_string();
    let Some(entry) = t.file(&href) else {
        notes.push(format!(
            "{}: {href} (named by {REPOMD}) is not in the image: no packages listed",
            t.iso.source().path().display()
        ));
        return Ok(out);
    };
    let mut reader = ExtentReader::new(t.iso, entry);
    let entries = read_primary(&mut reader)
        .map_err(|e| e.in_file(t.iso.source().path()).in_path(href.clone()))?;
    for p in entries {
        out.entry((p.name.clone(), p.arch.clone()))
            .or_default()
            .push(listed(&p));
    }
    Ok(out)
}

fn listed(p: &PackageEntry) -> Listed {
    let epoch = p.epoch.trim();
    let evr = if epoch.is_empty() || epoch == "0" {
        format!("{}-{}", p.version, p.release)
    } else {
        format!("{epoch}:{}-{}", p.version, p.release)
    };
    Listed {
        parsed: Evr::new(
            epoch.parse().unwrap_or(0),
            p.version.clone(),
            p.release.clone(),
        ),
        evr,
        pkgid: p.pkgid.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(pkgs: &[(&str, &str, &str, &str)]) -> Listing {
        let mut l = Listing::new();
        for (name, version, release, pkgid) in pkgs {
            let evr = format!("{version}-{release}");
            l.entry((name.to_string(), "x86_64".to_string()))
                .or_default()
                .push(Listed {
                    evr,
                    parsed: Evr::new(0, *version, *release),
                    pkgid: pkgid.to_string(),
                });
        }
        l
    }

    #[test]
    fn added_removed_updated_rebuilt() {
        let a = listing(&[
            ("gone", "1", "1", "g"),
            ("kept", "1", "1", "k"),
            ("rebuilt", "1", "1", "r1"),
            ("up", "1.9", "1", "u"),
        ]);
        let b = listing(&[
            ("kept", "1", "1", "k"),
            ("new", "2", "1", "n"),
            ("rebuilt", "1", "1", "r2"),
            ("up", "1.10", "1", "u2"),
        ]);
        let c = compare_listings(&a, &b);
        assert_eq!(c.added, ["new-2-1.x86_64"]);
        assert_eq!(c.removed, ["gone-1-1.x86_64"]);
        assert_eq!(c.rebuilt, ["rebuilt-1-1.x86_64"]);
        assert_eq!(
            c.updated,
            [PackageUpdate {
                name: "up".into(),
                arch: "x86_64".into(),
                from: "1.9-1".into(),
                to: "1.10-1".into()
            }]
        );
    }

    #[test]
    fn a_second_version_installed_alongside_is_added_not_updated() {
        let a = listing(&[("kernel", "4.19", "1", "a")]);
        let b = listing(&[("kernel", "4.19", "1", "a"), ("kernel", "4.19", "2", "b")]);
        let c = compare_listings(&a, &b);
        assert_eq!(c.added, ["kernel-4.19-2.x86_64"]);
        assert!(c.updated.is_empty() && c.removed.is_empty());
    }
}
