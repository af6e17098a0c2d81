//! Edits as values: one [`Edit`] per change a remaster makes, each applied to a
//! [`Workspace`]. A plan file ([`crate::remaster::Plan::edits`]), the CLI's flags and
//! a library caller build the same values; each variant's options live in the
//! edit's own module (`overlay`, `add_rpm`, …).

use serde::Serialize;

use super::handle::Workspace;
use super::{
    AddRpm, AddRpmInstaller, Answerfile, AnswerfileReport, BootArgs, BootArgsReport,
    DisableGpgcheck, DisableGpgcheckReport, InstallerRpmReport, Netinstall, NetinstallReport,
    Overlay, OverlayReport, PatchInstaller, PatchReport, RpmChangeReport, Sign, SignReport,
};
use crate::error::Result;

/// One edit of a workspace.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Copy a directory onto the ISO tree (`xiso overlay`).
    Overlay(Overlay),
    /// Add packages to the ISO repository (`xiso add-rpm`).
    AddRpm(AddRpm),
    /// Install packages into the installer root (`xiso add-rpm --installer`).
    AddRpmInstaller(AddRpmInstaller),
    /// Copy an overlay onto the installer root, delete paths (`xiso patch-installer`).
    PatchInstaller(PatchInstaller),
    /// An answerfile for unattended installs (`xiso answerfile`).
    Answerfile(Answerfile),
    /// Netinstall media (`xiso netinstall`).
    Netinstall(Netinstall),
    /// Kernel and Xen arguments of the boot menus (`xiso boot-args`).
    BootArgs(BootArgs),
    /// Sign the repository (`xiso sign`).
    Sign(Sign),
    /// Turn the signature checks off (`xiso sign --disable-gpgcheck`).
    DisableGpgcheck(DisableGpgcheck),
}

/// What an [`Edit`] did: the edit's own report, serialized as the single command's
/// `--json` prints it.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum EditReport {
    /// Of [`Edit::Overlay`].
    Overlay(OverlayReport),
    /// Of [`Edit::AddRpm`].
    AddRpm(RpmChangeReport),
    /// Of [`Edit::AddRpmInstaller`].
    AddRpmInstaller(InstallerRpmReport),
    /// Of [`Edit::PatchInstaller`].
    PatchInstaller(PatchReport),
    /// Of [`Edit::Answerfile`].
    Answerfile(AnswerfileReport),
    /// Of [`Edit::Netinstall`].
    Netinstall(NetinstallReport),
    /// Of [`Edit::BootArgs`].
    BootArgs(BootArgsReport),
    /// Of [`Edit::Sign`].
    Sign(SignReport),
    /// Of [`Edit::DisableGpgcheck`].
    DisableGpgcheck(DisableGpgcheckReport),
}

impl Edit {
    /// The step name (the subcommand's, as `remaster`'s report lists it).
    pub fn name(&self) -> &'static str {
        match self {
            Edit::Overlay(_) => "overlay",
            Edit::AddRpm(_) => "add-rpm",
            Edit::AddRpmInstaller(_) => "add-rpm-installer",
            Edit::PatchInstaller(_) => "patch-installer",
            Edit::Answerfile(_) => "answerfile",
            Edit::Netinstall(_) => "netinstall",
            Edit::BootArgs(_) => "boot-args",
            Edit::Sign(_) => "sign",
            Edit::DisableGpgcheck(_) => "disable-gpgcheck",
        }
    }

    /// Apply the edit to `ws`. The manifests change in `ws` only:
    /// [`Workspace::save`] writes them.
    pub fn apply(&self, ws: &mut Workspace) -> Result<EditReport> {
        Ok(match self {
            Edit::Overlay(e) => EditReport::Overlay(e.apply(ws)?),
            Edit::AddRpm(e) => EditReport::AddRpm(e.apply(ws)?),
            Edit::AddRpmInstaller(e) => EditReport::AddRpmInstaller(e.apply(ws)?),
            Edit::PatchInstaller(e) => EditReport::PatchInstaller(e.apply(ws)?),
            Edit::Answerfile(e) => EditReport::Answerfile(e.apply(ws)?),
            Edit::Netinstall(e) => EditReport::Netinstall(e.apply(ws)?),
            Edit::BootArgs(e) => EditReport::BootArgs(e.apply(ws)?),
            Edit::Sign(e) => EditReport::Sign(e.apply(ws)?),
            Edit::DisableGpgcheck(e) => EditReport::DisableGpgcheck(e.apply(ws)?),
        })
    }

    /// Whether the edit rewrites the ISO repository's metadata (and so reads every
    /// package it cannot reuse an entry for).
    pub(crate) fn edits_repository(&self) -> bool {
        matches!(self, Edit::AddRpm(_))
    }
}

impl EditReport {
    /// The report as JSON (`remaster`'s `StepReport::detail`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}
