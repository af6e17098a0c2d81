//! One function per command: arguments in, a library call, the report out through
//! [`crate::cli::render`].

pub mod docs;
pub mod image;
pub mod media;
pub mod menus;
pub mod remaster;
pub mod rpm;
pub mod workspace;
