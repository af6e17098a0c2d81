//! Compression detection by magic bytes (gzip, bzip2, xz, zstd).
