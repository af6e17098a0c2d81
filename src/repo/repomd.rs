//! `repomd.xml` reading and the repository summary.
