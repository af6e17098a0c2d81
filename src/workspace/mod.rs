//! The on-disk workspace written by `xiso unpack`, and its manifest.
//!
//! Layout:
//!
//! ```text
//! DIR/iso/                 the ISO tree as ordinary files (editable)
//! DIR/.xiso/manifest       JSON, versioned: source identity, volume descriptors,
//!                          El Torito entries, and every entry's ISO metadata
//! DIR/.xiso/system-area    the source's first 32 KiB (MBR boot code, partition tables)
//! DIR/installer/           the files of install.img (editable; device nodes are
//!                          empty placeholders)
//! DIR/.xiso/installer      JSON: every cpio header of install.img (owners, modes,
//!                          device numbers, hard links) and the state on disk after unpack
//! ```
//!
//! A filesystem owned by an ordinary user cannot hold everything an ISO can (owners,
//! device nodes, read-only modes that would block edits), so the manifest keeps the
//! truth and the files on disk are the editable copy.

mod add_rpm;
mod add_rpm_installer;
mod answerfile;
mod boot_args;
mod dom0_kernel;
mod edit;
mod handle;
pub(crate) mod installer;
mod installer_pack;
mod installer_root;
mod installer_unpack;
pub mod manifest;
mod netinstall;
mod overlay;
mod pack;
mod pack_tree;
mod patch;
mod pull_in;
mod refresh;
mod sign;
mod sign_packages;
mod unpack;

pub use add_rpm::{add_rpms, remove_rpms, AddRpm, AddRpmOptions, RpmChangeReport, RpmRef};
pub use add_rpm_installer::{
    add_rpms_installer, AddRpmInstaller, InstallerRpm, InstallerRpmOptions, InstallerRpmReport,
};
pub use answerfile::{answerfile, Answerfile, AnswerfileOptions, AnswerfileReport};
pub use boot_args::{boot_args, BootArgs, BootArgsOptions, BootArgsReport, BootMenuReport};
pub(crate) use boot_args::{EFIBOOT_IMG, ISOLINUX_CFG};
pub(crate) use dom0_kernel::{every_kernel_reads, DOM0_KERNELS};
pub use edit::{Edit, EditReport};
pub use handle::Workspace;
pub use installer::InstalledPackage;
pub use installer_pack::{InstallerPackOptions, InstallerPackReport};
pub use installer_unpack::InstallerReport;
pub(crate) use installer_unpack::MAX_EXPANDED_DEFAULT;
pub use manifest::Manifest;
pub(crate) use netinstall::NETINSTALL;
pub use netinstall::{Netinstall, NetinstallOptions, NetinstallReport};
pub use overlay::{overlay, Overlay, OverlayReport};
pub(crate) use pack::{isohybrid_parts, resolve_date};
pub use pack::{pack, PackOptions, PackReport};
pub use pack_tree::TreeStats;
pub use patch::{patch_installer, PatchInstaller, PatchOptions, PatchReport};
pub use pull_in::PullInReport;
pub use refresh::Refreshed;
pub use sign::{
    disable_gpgcheck, sign, DisableGpgcheck, DisableGpgcheckOptions, DisableGpgcheckReport, Sign,
    SignOptions, SignReport,
};
pub(crate) use sign::{nick_from_user_id, NO_GPGCHECK, NO_REPO_GPGCHECK, REPOMD_ASC, REPOMD_XML};
pub use unpack::{unpack, UnpackOptions, UnpackReport};
