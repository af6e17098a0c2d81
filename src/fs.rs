//! Filesystem helpers shared by the edits: staged outputs (a temporary sibling
//! renamed into place, a file or a directory), paths inside a root that a symlink
//! can never leave, and file times.

use std::ffi::OsString;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use crate::error::{Error, Result};

/// An output being written: a temporary file next to its destination (same file
/// system, so [`StagedFile::commit`]'s rename is atomic), registered with
/// [`crate::cleanup`] so a Ctrl-C removes it, and removed when dropped without a
/// commit. Stale temporaries of killed runs are removed when the next one is created.
#[derive(Debug)]
pub(crate) struct StagedFile {
    tmp: PathBuf,
    dest: PathBuf,
    file: Option<fs::File>,
}

impl StagedFile {
    /// A new, empty temporary for `dest` (opened for reading and writing).
    pub(crate) fn new(dest: &Path) -> Result<StagedFile> {
        let tmp = crate::cleanup::temp_sibling(dest, ".xiso-tmp-")?;
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| Error::io(e, "cannot create the output file").in_file(&tmp))?;
        crate::cleanup::register(&tmp);
        Ok(StagedFile {
            tmp,
            dest: dest.to_path_buf(),
            file: Some(file),
        })
    }

    /// A temporary for `dest` that is a hard link to the regular file `src` (no bytes
    /// copied, same mtime and mode), or `None` when it cannot be one (`src` is a
    /// symlink, on another file system, or the link is refused): the caller copies
    /// instead. Only for outputs nothing writes into in place afterwards; it has no
    /// open file ([`StagedFile::file`] must not be called).
    pub(crate) fn hard_link(dest: &Path, src: &Path) -> Result<Option<StagedFile>> {
        if !fs::symlink_metadata(src).is_ok_and(|m| m.is_file()) {
            return Ok(None);
        }
        let tmp = crate::cleanup::temp_sibling(dest, ".xiso-tmp-")?;
        if fs::hard_link(src, &tmp).is_err() {
            return Ok(None);
        }
        crate::cleanup::register(&tmp);
        Ok(Some(StagedFile {
            tmp,
            dest: dest.to_path_buf(),
            file: None,
        }))
    }

    /// The temporary's path (errors while writing name it).
    pub(crate) fn path(&self) -> &Path {
        &self.tmp
    }

    /// The open temporary.
    pub(crate) fn file(&mut self) -> &mut fs::File {
        self.file.as_mut().expect("the file is open until commit")
    }

    /// Write all of `bytes`, keep `mode` (when given) and flush to disk.
    pub(crate) fn write_all_synced(
        &mut self,
        bytes: &[u8],
        mode: Option<fs::Permissions>,
    ) -> Result<()> {
        use std::io::Write;
        let tmp = self.tmp.clone();
        let f = self.file();
        f.write_all(bytes)
            .and_then(|_| mode.map_or(Ok(()), |m| f.set_permissions(m)))
            .and_then(|_| f.sync_all())
            .map_err(|e| Error::io(e, "cannot write").in_file(&tmp))
    }

    /// Close the temporary and rename it onto the destination.
    pub(crate) fn commit(self) -> Result<()> {
        let dest = self.dest.clone();
        self.commit_to(&dest)
    }

    /// [`StagedFile::commit`] to another name in the same directory (one known only
    /// once the content is, such as a checksum-named metadata file).
    pub(crate) fn commit_to(mut self, dest: &Path) -> Result<()> {
        drop(self.file.take());
        fs::rename(&self.tmp, dest)
            .map_err(|e| Error::io(e, "cannot move the new file into place").in_file(dest))?;
        crate::cleanup::forget(&self.tmp);
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            drop(self.file.take());
            let _ = fs::remove_file(&self.tmp);
            crate::cleanup::forget(&self.tmp);
        }
    }
}

/// A directory being built where nothing else looks: registered with
/// [`crate::cleanup`] so a Ctrl-C removes it, and removed with its contents when
/// dropped, unless [`StagedDir::commit_to`] renamed it into place. The directory is
/// named here, not created: whoever writes into it creates it.
#[derive(Debug)]
pub(crate) struct StagedDir {
    path: PathBuf,
}

impl StagedDir {
    /// A hidden sibling of `dest`, `.NAME<tag>PID` ([`crate::cleanup::temp_sibling`],
    /// which also removes the leftovers of killed runs).
    pub(crate) fn sibling(dest: &Path, tag: &str) -> Result<StagedDir> {
        Ok(StagedDir::at(crate::cleanup::temp_sibling(dest, tag)?))
    }

    /// The directory at `path`, which the caller named.
    pub(crate) fn at(path: PathBuf) -> StagedDir {
        crate::cleanup::register(&path);
        StagedDir { path }
    }

    /// The directory's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Rename the directory onto `dest`. On failure it is removed as on drop; the
    /// caller says what failed.
    pub(crate) fn commit_to(mut self, dest: &Path) -> std::io::Result<()> {
        fs::rename(&self.path, dest)?;
        crate::cleanup::forget(&self.path);
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_dir_all(&self.path);
            crate::cleanup::forget(&self.path);
        }
    }
}

/// Remove `paths` (files), several at a time ([`for_each_io`]): an unlink of a file
/// whose blocks are on disk waits for the file system to free them (about 3.5 ms each
/// on ext4 on a virtual disk, measured), and concurrent unlinks share that wait, so
/// removing the 200 packages a refresh replaced takes 0.15 s instead of 0.7 s.
pub(crate) fn remove_files(paths: &[PathBuf], what: &str) -> Result<()> {
    for_each_io(paths, |p| remove_one(p, what)).map(drop)
}

/// `f` over `items` on up to 8 threads, results in order; the first error is
/// returned. For file operations that mostly wait for the file system (creating,
/// copying, removing many files), not for CPU work.
pub(crate) fn for_each_io<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    const WORKERS: usize = 8;
    if items.len() < 2 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(WORKERS);
    let f = &f;
    let parts: Vec<Result<Vec<R>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Result<Vec<R>>>()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::invalid("a file operation thread panicked")))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(items.len());
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

fn remove_one(path: &Path, what: &str) -> Result<()> {
    fs::remove_file(path).map_err(|e| Error::io(e, format!("removing {what}")).in_file(path))
}

/// Symlinks followed while resolving one path, as Linux's `MAXSYMLINKS`.
pub(crate) const MAX_SYMLINKS: usize = 40;

/// The components of `rel` below `root` with every symlink among them resolved the
/// way the kernel resolves them inside a chroot at `root`: an absolute target starts
/// again at `root`, and `..` stops there, so the result never leaves `root`.
/// Components that do not exist are kept as they are. `what` names the root in
/// errors ("the installer root").
pub(crate) fn resolve_in_root(root: &Path, rel: &Path, what: &str) -> Result<Vec<OsString>> {
    let mut todo: Vec<OsString> = Vec::new();
    push_components(&mut todo, rel);
    let mut cur: Vec<OsString> = Vec::new();
    let mut links = 0;
    while let Some(c) = todo.pop() {
        if c == ".." {
            cur.pop();
            continue;
        }
        let mut here = root.to_path_buf();
        here.extend(&cur);
        here.push(&c);
        match fs::symlink_metadata(&here) {
            Ok(md) if md.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Error::invalid(format!(
                        "{}: too many levels of symbolic links in {what}",
                        rel.display()
                    ))
                    .in_file(&here));
                }
                let target = fs::read_link(&here)
                    .map_err(|e| Error::io(e, "cannot read the symbolic link").in_file(&here))?;
                if target.is_absolute() {
                    cur.clear();
                }
                push_components(&mut todo, &target);
            }
            _ => cur.push(c),
        }
    }
    Ok(cur)
}

/// `root` joined with components from [`resolve_in_root`].
pub(crate) fn join_all(root: &Path, comps: &[OsString]) -> PathBuf {
    let mut p = root.to_path_buf();
    p.extend(comps);
    p
}

/// Push `path`'s components so that popping yields them in order (`.` and `/` dropped).
fn push_components(todo: &mut Vec<OsString>, path: &Path) {
    for c in path.components().rev() {
        match c {
            Component::Normal(n) => todo.push(n.to_os_string()),
            Component::ParentDir => todo.push("..".into()),
            _ => {}
        }
    }
}

/// Set a file's mtime to `t` (Unix seconds; negative before 1970), ignoring failure:
/// the time on disk is a courtesy, the manifests keep the truth.
pub(crate) fn set_mtime(f: &fs::File, t: Option<i64>) {
    if let Some(t) = t {
        let when = if t >= 0 {
            UNIX_EPOCH + Duration::from_secs(t as u64)
        } else {
            UNIX_EPOCH - Duration::from_secs(t.unsigned_abs())
        };
        let _ = f.set_modified(when);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_files_appear_only_on_commit() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("out.bin");
        let mut staged = StagedFile::new(&dest).unwrap();
        staged.write_all_synced(b"new", None).unwrap();
        assert!(!dest.exists());
        let tmp = staged.path().to_path_buf();
        assert!(tmp.exists());
        staged.commit().unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"new");
        assert!(!tmp.exists());

        let mut dropped = StagedFile::new(&dest).unwrap();
        dropped.write_all_synced(b"lost", None).unwrap();
        let tmp = dropped.path().to_path_buf();
        drop(dropped);
        assert!(!tmp.exists());
        assert_eq!(fs::read(&dest).unwrap(), b"new");
    }

    #[test]
    fn staged_dirs_appear_only_on_commit() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("tree");
        let staged = StagedDir::sibling(&dest, ".xiso-tmp-").unwrap();
        let tmp = staged.path().to_path_buf();
        assert_eq!(tmp.parent(), Some(t.path()));
        assert!(tmp
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".tree.xiso-tmp-"));
        fs::create_dir_all(tmp.join("a/b")).unwrap();
        fs::write(tmp.join("a/b/f"), b"x").unwrap();
        staged.commit_to(&dest).unwrap();
        assert_eq!(fs::read(dest.join("a/b/f")).unwrap(), b"x");
        assert!(!tmp.exists());

        let dropped = StagedDir::sibling(&dest, ".xiso-tmp-").unwrap();
        let tmp = dropped.path().to_path_buf();
        fs::create_dir_all(tmp.join("c")).unwrap();
        drop(dropped);
        assert!(!tmp.exists());
        assert!(dest.join("a/b/f").exists());

        // A failed rename (onto a non-empty directory) removes the temporary too.
        let failed = StagedDir::sibling(&dest, ".xiso-tmp-").unwrap();
        let tmp = failed.path().to_path_buf();
        fs::create_dir_all(&tmp).unwrap();
        assert!(failed.commit_to(&dest).is_err());
        assert!(!tmp.exists());
    }

    #[test]
    fn symlinks_never_leave_the_root() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        fs::create_dir_all(root.join("usr/lib")).unwrap();
        std::os::unix::fs::symlink("usr/lib", root.join("lib")).unwrap();
        std::os::unix::fs::symlink("/../../etc", root.join("usr/up")).unwrap();
        std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
        let r =
            |p: &str| resolve_in_root(root, Path::new(p), "the root").map(|c| join_all(root, &c));
        assert_eq!(r("lib/modules/1").unwrap(), root.join("usr/lib/modules/1"));
        assert_eq!(r("usr/up/passwd").unwrap(), root.join("etc/passwd"));
        assert_eq!(r("../../x").unwrap(), root.join("x"));
        // An absolute path is taken inside the root, and a relative link that climbs
        // past the root stops at it.
        assert_eq!(r("/lib/x").unwrap(), root.join("usr/lib/x"));
        std::os::unix::fs::symlink("../../../../..", root.join("usr/lib/out")).unwrap();
        assert_eq!(r("lib/out/etc").unwrap(), root.join("etc"));
        let e = r("loop/x").unwrap_err().to_string();
        assert!(
            e.contains("too many levels of symbolic links in the root"),
            "{e}"
        );
    }
}
