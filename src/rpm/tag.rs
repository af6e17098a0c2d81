//! Tag numbers used by xiso (rpm's `include/rpm/rpmtag.h`).
#![allow(missing_docs)] // the names are rpm's own; rpmtag.h documents them

/// Tags of the main header.
pub(crate) mod main {
    pub(crate) const LONGARCHIVESIZE: u32 = 271;
    pub(crate) const NAME: u32 = 1000;
    pub(crate) const VERSION: u32 = 1001;
    pub(crate) const RELEASE: u32 = 1002;
    pub(crate) const EPOCH: u32 = 1003;
    pub(crate) const SUMMARY: u32 = 1004;
    pub(crate) const DESCRIPTION: u32 = 1005;
    pub(crate) const BUILDTIME: u32 = 1006;
    pub(crate) const BUILDHOST: u32 = 1007;
    pub(crate) const SIZE: u32 = 1009;
    pub(crate) const VENDOR: u32 = 1011;
    pub(crate) const LICENSE: u32 = 1014;
    pub(crate) const PACKAGER: u32 = 1015;
    pub(crate) const GROUP: u32 = 1016;
    pub(crate) const URL: u32 = 1020;
    pub(crate) const ARCH: u32 = 1022;
    pub(crate) const PREIN: u32 = 1023;
    pub(crate) const POSTIN: u32 = 1024;
    pub(crate) const PREUN: u32 = 1025;
    pub(crate) const POSTUN: u32 = 1026;
    pub(crate) const OLDFILENAMES: u32 = 1027;
    pub(crate) const FILESIZES: u32 = 1028;
    pub(crate) const FILEMODES: u32 = 1030;
    pub(crate) const FILERDEVS: u32 = 1033;
    pub(crate) const FILEMTIMES: u32 = 1034;
    pub(crate) const FILELINKTOS: u32 = 1036;
    pub(crate) const FILEFLAGS: u32 = 1037;
    pub(crate) const FILEUSERNAME: u32 = 1039;
    pub(crate) const FILEGROUPNAME: u32 = 1040;
    pub(crate) const SOURCERPM: u32 = 1044;
    pub(crate) const ARCHIVESIZE: u32 = 1046;
    pub(crate) const PROVIDENAME: u32 = 1047;
    pub(crate) const REQUIREFLAGS: u32 = 1048;
    pub(crate) const REQUIRENAME: u32 = 1049;
    pub(crate) const REQUIREVERSION: u32 = 1050;
    pub(crate) const CONFLICTFLAGS: u32 = 1053;
    pub(crate) const CONFLICTNAME: u32 = 1054;
    pub(crate) const CONFLICTVERSION: u32 = 1055;
    pub(crate) const TRIGGERSCRIPTS: u32 = 1065;
    pub(crate) const VERIFYSCRIPT: u32 = 1079;
    pub(crate) const CHANGELOGTIME: u32 = 1080;
    pub(crate) const CHANGELOGNAME: u32 = 1081;
    pub(crate) const CHANGELOGTEXT: u32 = 1082;
    pub(crate) const PREINPROG: u32 = 1085;
    pub(crate) const POSTINPROG: u32 = 1086;
    pub(crate) const PREUNPROG: u32 = 1087;
    pub(crate) const POSTUNPROG: u32 = 1088;
    pub(crate) const OBSOLETENAME: u32 = 1090;
    pub(crate) const FILEDEVICES: u32 = 1095;
    pub(crate) const FILEINODES: u32 = 1096;
    pub(crate) const SOURCEPACKAGE: u32 = 1106;
    pub(crate) const PROVIDEFLAGS: u32 = 1112;
    pub(crate) const PROVIDEVERSION: u32 = 1113;
    pub(crate) const OBSOLETEFLAGS: u32 = 1114;
    pub(crate) const OBSOLETEVERSION: u32 = 1115;
    pub(crate) const DIRINDEXES: u32 = 1116;
    pub(crate) const BASENAMES: u32 = 1117;
    pub(crate) const DIRNAMES: u32 = 1118;
    pub(crate) const PAYLOADFORMAT: u32 = 1124;
    pub(crate) const PAYLOADCOMPRESSOR: u32 = 1125;
    pub(crate) const PRETRANS: u32 = 1151;
    pub(crate) const POSTTRANS: u32 = 1152;
    pub(crate) const PRETRANSPROG: u32 = 1153;
    pub(crate) const POSTTRANSPROG: u32 = 1154;
    pub(crate) const LONGFILESIZES: u32 = 5008;
    pub(crate) const LONGSIZE: u32 = 5009;
    pub(crate) const RECOMMENDNAME: u32 = 5046;
    pub(crate) const RECOMMENDVERSION: u32 = 5047;
    pub(crate) const RECOMMENDFLAGS: u32 = 5048;
    pub(crate) const SUGGESTNAME: u32 = 5049;
    pub(crate) const SUGGESTVERSION: u32 = 5050;
    pub(crate) const SUGGESTFLAGS: u32 = 5051;
    pub(crate) const SUPPLEMENTNAME: u32 = 5052;
    pub(crate) const SUPPLEMENTVERSION: u32 = 5053;
    pub(crate) const SUPPLEMENTFLAGS: u32 = 5054;
    pub(crate) const ENHANCENAME: u32 = 5055;
    pub(crate) const ENHANCEVERSION: u32 = 5056;
    pub(crate) const ENHANCEFLAGS: u32 = 5057;
    pub(crate) const FILETRIGGERSCRIPTS: u32 = 5066;
    pub(crate) const TRANSFILETRIGGERSCRIPTS: u32 = 5076;
    /// Digest of the compressed payload (hex strings), algorithm in `PAYLOADDIGESTALGO`.
    pub(crate) const PAYLOADDIGEST: u32 = 5092;
    pub(crate) const PAYLOADDIGESTALGO: u32 = 5093;
    pub(crate) const PREUNTRANS: u32 = 5104;
    pub(crate) const POSTUNTRANS: u32 = 5105;
}

/// Tags of the signature header (`RPMSIGTAG_*`).
pub(crate) mod sig {
    /// `RPMTAG_HEADERSIGNATURES`: the signature header's immutable region.
    pub(crate) const HEADERSIGNATURES: u32 = 62;
    /// OpenPGP DSA signature of the main header.
    pub(crate) const DSA: u32 = 267;
    /// OpenPGP RSA (or EdDSA) signature of the main header.
    pub(crate) const RSA: u32 = 268;
    /// SHA-1 of the main header, hex.
    pub(crate) const SHA1: u32 = 269;
    pub(crate) const LONGSIZE: u32 = 270;
    pub(crate) const LONGARCHIVESIZE: u32 = 271;
    /// SHA-256 of the main header, hex.
    pub(crate) const SHA256: u32 = 273;
    /// rpm 6's OpenPGP signatures of the main header (string array).
    pub(crate) const OPENPGP: u32 = 278;
    pub(crate) const SIZE: u32 = 1000;
    /// OpenPGP RSA signature of the main header and the payload.
    pub(crate) const PGP: u32 = 1002;
    /// MD5 of the main header and the payload.
    pub(crate) const MD5: u32 = 1004;
    /// OpenPGP DSA signature of the main header and the payload.
    pub(crate) const GPG: u32 = 1005;
    pub(crate) const PGP5: u32 = 1006;
    pub(crate) const PAYLOADSIZE: u32 = 1007;
    /// Zeros rpmbuild leaves so that signing can rewrite the header in place.
    pub(crate) const RESERVEDSPACE: u32 = 1008;
}

/// `RPMSENSE_*` dependency flag bits.
pub(crate) mod sense {
    pub(crate) const PREREQ: u64 = 1 << 6;
    pub(crate) const SCRIPT_PRE: u64 = 1 << 9;
    pub(crate) const SCRIPT_POST: u64 = 1 << 10;
}

/// `RPMFILE_*` file flag bits.
pub(crate) mod file {
    pub(crate) const CONFIG: u64 = 1;
    pub(crate) const GHOST: u64 = 1 << 6;
}
