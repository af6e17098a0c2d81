//! Temporary outputs to delete when the process is interrupted.
//!
//! Every output is written to a temporary file (or directory) next to its
//! destination and renamed into place at the end. The paths are registered here
//! while they exist, so a Ctrl-C handler (the CLI installs one) can delete them before
//! exiting: an interrupted run leaves neither a partial output nor a temporary. After
//! a `SIGKILL` nothing can run; the next run removes temporaries whose process is gone.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// `(directory, tag)` pairs [`temp_sibling`] has swept in this process.
static SWEPT: Mutex<std::collections::BTreeSet<(PathBuf, String)>> =
    Mutex::new(std::collections::BTreeSet::new());
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Note that the process is being interrupted (signal handlers call this first): an
/// error the main thread meets from now on is a consequence of the cleanup.
pub fn set_interrupted() {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Whether [`set_interrupted`] was called.
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// Stop a long loop once the process is being interrupted, so it does not recreate
/// what the handler is deleting.
pub(crate) fn check_interrupted() -> crate::error::Result<()> {
    if interrupted() {
        return Err(crate::error::Error::new(
            crate::error::ErrorKind::Io,
            "interrupted",
        ));
    }
    Ok(())
}

/// Remember `path` as a temporary to delete on interruption.
pub(crate) fn register(path: &Path) {
    let mut p = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    p.push(path.to_path_buf());
}

/// Forget `path` (it was renamed into place or removed).
pub(crate) fn forget(path: &Path) {
    let mut p = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    p.retain(|x| x != path);
}

/// Delete every registered temporary (files and directories). For signal handlers.
/// The list is kept, so a second call (after the main thread stopped) removes what
/// was recreated in between.
pub fn remove_all() {
    let p = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    for path in p.iter() {
        match std::fs::symlink_metadata(path) {
            Ok(md) if md.is_dir() => {
                let _ = std::fs::remove_dir_all(path);
            }
            Ok(_) => {
                let _ = std::fs::remove_file(path);
            }
            Err(_) => {}
        }
    }
}

/// A temporary next to `out`: `(parent, ".NAME<tag>PID")` for this process. Leftovers
/// `.ANY<tag>PID` with the id of a process that is gone (a `SIGKILL`ed run) are
/// removed first, files and directories alike. Each directory is swept once per
/// tag and process: staging 200 packages into a 1,000-file `Packages/` would
/// otherwise read the directory 200 times.
pub(crate) fn temp_sibling(out: &Path, tag: &str) -> crate::error::Result<PathBuf> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .ok_or_else(|| crate::error::Error::invalid("output path has no file name").in_file(out))?
        .to_string_lossy()
        .into_owned();
    let prefix = format!(".{name}{tag}");
    let first = SWEPT
        .lock()
        .map(|mut s| s.insert((parent.to_path_buf(), tag.to_string())))
        .unwrap_or(true);
    if first {
        sweep(parent, tag);
    }
    Ok(parent.join(format!("{prefix}{}", std::process::id())))
}

/// Remove `.ANY<tag>PID` entries of `dir` whose process is gone.
fn sweep(dir: &Path, tag: &str) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        let Some((_, pid)) = n.strip_prefix('.').and_then(|n| n.rsplit_once(tag)) else {
            continue;
        };
        let alive = pid
            .parse::<u32>()
            .is_ok_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if !alive && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) {
            let p = e.path();
            if p.is_dir() {
                let _ = std::fs::remove_dir_all(&p);
            } else {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
}
