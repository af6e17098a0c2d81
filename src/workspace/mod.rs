//! The on-disk workspace written by `xiso unpack` and its manifest.
