//! One error type for the whole library.
//!
//! Every error names the file it is about and, where it applies, the path inside
//! the image and the byte offset, so the CLI can print a single line such as
//! `fixture.iso: offset 0x8800: directory record length 3 is shorter than 34`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// What went wrong, in categories a caller can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Reading or writing a file failed at the operating-system level.
    Io,
    /// The caller asked for something that cannot be done (bad argument, non-empty target).
    InvalidInput,
    /// The input is damaged or not what it claims to be.
    Corrupt,
    /// The input is valid but uses a feature xiso does not handle.
    Unsupported,
    /// A path that was asked for does not exist in the image.
    NotFound,
}

/// The library's error: a kind, a message, and where it happened.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    file: Option<PathBuf>,
    inner_path: Option<String>,
    offset: Option<u64>,
    source: Option<io::Error>,
}

/// Short alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with a message.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            file: None,
            inner_path: None,
            offset: None,
            source: None,
        }
    }

    /// Damaged input at a byte offset.
    pub(crate) fn corrupt(offset: u64, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Corrupt, message).at(offset)
    }

    /// Caller misuse.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }

    /// Feature not handled.
    pub(crate) fn unsupported(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Unsupported, message)
    }

    /// An operating-system error with what was being done.
    pub fn io(err: io::Error, message: impl Into<String>) -> Self {
        let mut e = Error::new(ErrorKind::Io, message);
        e.source = Some(err);
        e
    }

    /// Attach the byte offset (kept if already set: the innermost offset is the precise one).
    pub(crate) fn at(mut self, offset: u64) -> Self {
        self.offset.get_or_insert(offset);
        self
    }

    /// Attach the file the error is about (kept if already set).
    pub fn in_file(mut self, file: impl AsRef<Path>) -> Self {
        if self.file.is_none() {
            self.file = Some(file.as_ref().to_path_buf());
        }
        self
    }

    /// Attach the path inside the image (kept if already set).
    pub(crate) fn in_path(mut self, path: impl Into<String>) -> Self {
        if self.inner_path.is_none() {
            self.inner_path = Some(path.into());
        }
        self
    }

    /// The category.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The byte offset, when known.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }

    /// The file, when known.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The message without location.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}: ", file.display())?;
        }
        if let Some(p) = &self.inner_path {
            write!(f, "{p}: ")?;
        }
        if let Some(off) = self.offset {
            write!(f, "offset {off} (0x{off:x}): ")?;
        }
        f.write_str(&self.message)?;
        if let Some(src) = &self.source {
            write!(f, ": {src}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Adds file context to results, like ripgrep's `WithPath`.
pub(crate) trait ResultExt<T> {
    /// Attach the file name to an error.
    fn in_file(self, file: impl AsRef<Path>) -> Result<T>;
    /// Attach the inner image path to an error.
    fn in_path(self, path: impl Into<String>) -> Result<T>;
}

impl<T> ResultExt<T> for Result<T> {
    fn in_file(self, file: impl AsRef<Path>) -> Result<T> {
        self.map_err(|e| e.in_file(file))
    }
    fn in_path(self, path: impl Into<String>) -> Result<T> {
        self.map_err(|e| e.in_path(path))
    }
}
