//! The `xiso inspect` report.
