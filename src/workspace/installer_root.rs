//! Looking things up in an installer root the way rpm does inside a chroot:
//! paths whose parents are symlinks, and user and group names.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::Path;

use super::installer::{disk_path, InstallerKind};
use crate::error::{Error, Result};

/// Follow symlinks among the parents of `rel` inside `root`, as rpm does in a
/// chroot: an absolute target restarts at the root, `..` stops at it. The last
/// component is not followed (a package's symlink replaces a symlink).
pub(crate) fn resolve_parents(root: &Path, rel: &str) -> Result<String> {
    let (parents, last) = rel.rsplit_once('/').unwrap_or(("", rel));
    let comps = crate::fs::resolve_in_root(root, Path::new(parents), "the installer root")?;
    let mut out = Vec::with_capacity(comps.len() + 1);
    for c in &comps {
        out.push(c.to_str().ok_or_else(|| {
            Error::unsupported(format!("{rel}: symlink target is not UTF-8"))
                .in_file(crate::fs::join_all(root, &comps))
        })?);
    }
    out.push(last);
    Ok(out.join("/"))
}

/// A directory cannot replace a file, nor a file a directory (rpm fails too).
pub(crate) fn check_type_on_disk(
    root: &Path,
    rel: &str,
    kind: InstallerKind,
    shown: &str,
) -> Result<()> {
    let p = disk_path(root, rel);
    let md = match fs::symlink_metadata(&p) {
        Ok(md) => md,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(e, "cannot stat").in_file(&p)),
    };
    let ft = md.file_type();
    if kind == InstallerKind::Dir && !ft.is_dir() && !ft.is_symlink() {
        return Err(Error::invalid(format!(
            "{shown}: the package has a directory where the installer root has a file"
        )));
    }
    if kind != InstallerKind::Dir && ft.is_dir() {
        return Err(Error::invalid(format!(
            "{shown}: the package has a file where the installer root has a directory"
        )));
    }
    Ok(())
}

/// User and group names of the installer root (`/etc/passwd`, `/etc/group`).
pub(crate) struct Ids {
    pub(crate) users: HashMap<String, u32>,
    pub(crate) groups: HashMap<String, u32>,
}

impl Ids {
    pub(crate) fn read(root: &Path) -> Ids {
        Ids {
            users: read_id_file(&root.join("etc/passwd")),
            groups: read_id_file(&root.join("etc/group")),
        }
    }
}

/// `name:x:id:…` lines; only a regular file is read (a symlink could point
/// outside the root).
fn read_id_file(p: &Path) -> HashMap<String, u32> {
    let mut out = HashMap::new();
    let ok = fs::symlink_metadata(p).is_ok_and(|md| md.is_file());
    let text = if ok {
        fs::read(p).unwrap_or_default()
    } else {
        Vec::new()
    };
    for line in String::from_utf8_lossy(&text).lines() {
        let mut f = line.split(':');
        if let (Some(name), Some(_), Some(id)) = (f.next(), f.next(), f.next()) {
            if let Ok(id) = id.trim().parse() {
                out.entry(name.to_string()).or_insert(id);
            }
        }
    }
    out.entry("root".into()).or_insert(0);
    out
}

pub(crate) fn lookup(
    map: &HashMap<String, u32>,
    name: &str,
    what: &str,
    file: &str,
    warnings: &mut Vec<String>,
) -> u32 {
    match map.get(name) {
        Some(&id) => id,
        None => {
            let w = format!(
                "{what} {name} does not exist in the installer root - using root (for {file})"
            );
            if !warnings.contains(&w) {
                warnings.push(w);
            }
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn parents_resolve_inside_the_root() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        fs::create_dir_all(root.join("usr/lib")).unwrap();
        symlink("usr/lib", root.join("lib")).unwrap();
        symlink("/usr/lib", root.join("abs")).unwrap();
        symlink("../../../../..", root.join("usr/up")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        let r = |rel: &str| resolve_parents(root, rel);
        assert_eq!(r("lib/modules/k/a.ko").unwrap(), "usr/lib/modules/k/a.ko");
        assert_eq!(r("abs/x").unwrap(), "usr/lib/x");
        assert_eq!(r("usr/up/etc/x").unwrap(), "etc/x");
        // The last component is not followed.
        assert_eq!(r("lib").unwrap(), "lib");
        assert!(r("loop/x").is_err());
    }

    #[test]
    fn ids_from_passwd_and_group() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir(t.path().join("etc")).unwrap();
        fs::write(
            t.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nada:x:1001:1001::/:\nbad line\n",
        )
        .unwrap();
        let ids = Ids::read(t.path());
        assert_eq!(ids.users.get("ada"), Some(&1001));
        assert_eq!(ids.groups.get("root"), Some(&0));
        let mut w = Vec::new();
        assert_eq!(lookup(&ids.users, "bob", "user", "/x", &mut w), 0);
        assert_eq!(w.len(), 1);
    }
}
