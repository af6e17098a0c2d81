//! Tag numbers used by xiso (rpm's `include/rpm/rpmtag.h`).
#![allow(missing_docs)] // the names are rpm's own; rpmtag.h documents them

/// Tags of the main header.
pub mod main {
    pub const HEADERI18NTABLE: u32 = 100;
    pub const LONGARCHIVESIZE: u32 = 271;
    pub const NAME: u32 = 1000;
    pub const VERSION: u32 = 1001;
    pub const RELEASE: u32 = 1002;
    pub const EPOCH: u32 = 1003;
    pub const SUMMARY: u32 = 1004;
    pub const DESCRIPTION: u32 = 1005;
    pub const BUILDTIME: u32 = 1006;
    pub const BUILDHOST: u32 = 1007;
    pub const SIZE: u32 = 1009;
    pub const VENDOR: u32 = 1011;
    pub const LICENSE: u32 = 1014;
    pub const PACKAGER: u32 = 1015;
    pub const GROUP: u32 = 1016;
    pub const URL: u32 = 1020;
    pub const ARCH: u32 = 1022;
    pub const PREIN: u32 = 1023;
    pub const POSTIN: u32 = 1024;
    pub const PREUN: u32 = 1025;
    pub const POSTUN: u32 = 1026;
    pub const OLDFILENAMES: u32 = 1027;
    pub const FILESIZES: u32 = 1028;
    pub const FILEMODES: u32 = 1030;
    pub const FILERDEVS: u32 = 1033;
    pub const FILEMTIMES: u32 = 1034;
    pub const FILELINKTOS: u32 = 1036;
    pub const FILEFLAGS: u32 = 1037;
    pub const FILEUSERNAME: u32 = 1039;
    pub const FILEGROUPNAME: u32 = 1040;
    pub const SOURCERPM: u32 = 1044;
    pub const ARCHIVESIZE: u32 = 1046;
    pub const PROVIDENAME: u32 = 1047;
    pub const REQUIREFLAGS: u32 = 1048;
    pub const REQUIRENAME: u32 = 1049;
    pub const REQUIREVERSION: u32 = 1050;
    pub const CONFLICTFLAGS: u32 = 1053;
    pub const CONFLICTNAME: u32 = 1054;
    pub const CONFLICTVERSION: u32 = 1055;
    pub const TRIGGERSCRIPTS: u32 = 1065;
    pub const VERIFYSCRIPT: u32 = 1079;
    pub const CHANGELOGTIME: u32 = 1080;
    pub const CHANGELOGNAME: u32 = 1081;
    pub const CHANGELOGTEXT: u32 = 1082;
    pub const PREINPROG: u32 = 1085;
    pub const POSTINPROG: u32 = 1086;
    pub const PREUNPROG: u32 = 1087;
    pub const POSTUNPROG: u32 = 1088;
    pub const OBSOLETENAME: u32 = 1090;
    pub const FILEDEVICES: u32 = 1095;
    pub const FILEINODES: u32 = 1096;
    pub const SOURCEPACKAGE: u32 = 1106;
    pub const PROVIDEFLAGS: u32 = 1112;
    pub const PROVIDEVERSION: u32 = 1113;
    pub const OBSOLETEFLAGS: u32 = 1114;
    pub const OBSOLETEVERSION: u32 = 1115;
    pub const DIRINDEXES: u32 = 1116;
    pub const BASENAMES: u32 = 1117;
    pub const DIRNAMES: u32 = 1118;
    pub const PAYLOADFORMAT: u32 = 1124;
    pub const PAYLOADCOMPRESSOR: u32 = 1125;
    pub const PRETRANS: u32 = 1151;
    pub const POSTTRANS: u32 = 1152;
    pub const PRETRANSPROG: u32 = 1153;
    pub const POSTTRANSPROG: u32 = 1154;
    pub const LONGFILESIZES: u32 = 5008;
    pub const LONGSIZE: u32 = 5009;
    pub const RECOMMENDNAME: u32 = 5046;
    pub const RECOMMENDVERSION: u32 = 5047;
    pub const RECOMMENDFLAGS: u32 = 5048;
    pub const SUGGESTNAME: u32 = 5049;
    pub const SUGGESTVERSION: u32 = 5050;
    pub const SUGGESTFLAGS: u32 = 5051;
    pub const SUPPLEMENTNAME: u32 = 5052;
    pub const SUPPLEMENTVERSION: u32 = 5053;
    pub const SUPPLEMENTFLAGS: u32 = 5054;
    pub const ENHANCENAME: u32 = 5055;
    pub const ENHANCEVERSION: u32 = 5056;
    pub const ENHANCEFLAGS: u32 = 5057;
    pub const FILETRIGGERSCRIPTS: u32 = 5066;
    pub const TRANSFILETRIGGERSCRIPTS: u32 = 5076;
    /// Digest of the compressed payload (hex strings), algorithm in `PAYLOADDIGESTALGO`.
    pub const PAYLOADDIGEST: u32 = 5092;
    pub const PAYLOADDIGESTALGO: u32 = 5093;
    pub const PREUNTRANS: u32 = 5104;
    pub const POSTUNTRANS: u32 = 5105;
}

/// Tags of the signature header (`RPMSIGTAG_*`).
pub mod sig {
    /// `RPMTAG_HEADERSIGNATURES`: the signature header's immutable region.
    pub const HEADERSIGNATURES: u32 = 62;
    /// OpenPGP DSA signature of the main header.
    pub const DSA: u32 = 267;
    /// OpenPGP RSA (or EdDSA) signature of the main header.
    pub const RSA: u32 = 268;
    /// SHA-1 of the main header, hex.
    pub const SHA1: u32 = 269;
    pub const LONGSIZE: u32 = 270;
    pub const LONGARCHIVESIZE: u32 = 271;
    /// SHA-256 of the main header, hex.
    pub const SHA256: u32 = 273;
    /// rpm 6's OpenPGP signatures of the main header (string array).
    pub const OPENPGP: u32 = 278;
    pub const SIZE: u32 = 1000;
    /// OpenPGP RSA signature of the main header and the payload.
    pub const PGP: u32 = 1002;
    /// MD5 of the main header and the payload.
    pub const MD5: u32 = 1004;
    /// OpenPGP DSA signature of the main header and the payload.
    pub const GPG: u32 = 1005;
    pub const PGP5: u32 = 1006;
    pub const PAYLOADSIZE: u32 = 1007;
    /// Zeros rpmbuild leaves so that signing can rewrite the header in place.
    pub const RESERVEDSPACE: u32 = 1008;
}

/// `RPMSENSE_*` dependency flag bits.
pub mod sense {
    pub const LESS: u64 = 1 << 1;
    pub const GREATER: u64 = 1 << 2;
    pub const EQUAL: u64 = 1 << 3;
    pub const PREREQ: u64 = 1 << 6;
    pub const SCRIPT_PRE: u64 = 1 << 9;
    pub const SCRIPT_POST: u64 = 1 << 10;
}

/// `RPMFILE_*` file flag bits.
pub mod file {
    pub const CONFIG: u64 = 1;
    pub const GHOST: u64 = 1 << 6;
}
