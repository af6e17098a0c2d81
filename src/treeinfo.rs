//! `.treeinfo`: the INI file the installer needs to accept the media.
