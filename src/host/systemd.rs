//! The service manager, behind a trait so the workflow can be unit-tested with a fake and
//! run for real (`systemctl`) on a host.

use std::process::Command;

use crate::error::{Error, Result};

pub const SSM_UNIT: &str = "amazon-ssm-agent.service";
pub const SSM_SNAP_UNIT: &str = "snap.amazon-ssm-agent.amazon-ssm-agent.service";
pub const ECS_UNIT: &str = "ecs.service";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct UnitState {
    pub installed: bool,
    pub enabled: bool,
    pub active: bool,
    pub failed: bool,
    /// Exit status of the main process's last run (0 when it has not exited).
    pub exit_status: i32,
}

/// The SSM agent's unit: the snap's when that is the one installed.
pub fn ssm_unit(services: &dyn ServiceManager) -> Result<&'static str> {
    if !services.state(SSM_UNIT)?.installed && services.state(SSM_SNAP_UNIT)?.installed {
        return Ok(SSM_SNAP_UNIT);
    }
    Ok(SSM_UNIT)
}

pub trait ServiceManager {
    fn state(&self, unit: &str) -> Result<UnitState>;
    fn enable_and_start(&self, unit: &str) -> Result<()>;
    fn restart(&self, unit: &str) -> Result<()>;
    fn stop(&self, unit: &str) -> Result<()>;
    fn disable_and_stop(&self, unit: &str) -> Result<()>;
    /// The journal of the unit's current run (its present invocation), as plain text.
    fn journal_of_current_run(&self, unit: &str) -> Result<String>;
}

/// `systemctl` on the running system.
pub struct Systemctl;

impl Systemctl {
    fn query(&self, args: &[&str]) -> Result<String> {
        let out = Command::new("systemctl")
            .args(args)
            .output()
            .map_err(|e| Error::Unsupported(format!("cannot run systemctl: {e}")))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn act(&self, args: &[&str]) -> Result<()> {
        tracing::debug!(?args, "systemctl");
        let out = Command::new("systemctl")
            .args(args)
            .output()
            .map_err(|e| Error::Unsupported(format!("cannot run systemctl: {e}")))?;
        if out.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(Error::Other(format!(
            "systemctl {} failed: {}; see `journalctl -u {}`",
            args.join(" "),
            stderr.trim().replace('\n', " "),
            args.last().unwrap_or(&"")
        )))
    }
}

impl ServiceManager for Systemctl {
    fn state(&self, unit: &str) -> Result<UnitState> {
        let load = self.query(&["show", "--property=LoadState", "--value", unit])?;
        let enabled = self.query(&["is-enabled", unit])?;
        let active = self.query(&["is-active", unit])?;
        let exit_status = self
            .query(&["show", "--property=ExecMainStatus", "--value", unit])?
            .parse()
            .unwrap_or(0);
        Ok(UnitState {
            exit_status,
            installed: load == "loaded",
            enabled: matches!(
                enabled.as_str(),
                "enabled" | "enabled-runtime" | "static" | "alias"
            ),
            active: active == "active" || active == "activating" || active == "reloading",
            failed: active == "failed",
        })
    }

    fn enable_and_start(&self, unit: &str) -> Result<()> {
        self.act(&["enable", "--now", unit])
    }

    fn restart(&self, unit: &str) -> Result<()> {
        self.act(&["restart", unit])
    }

    fn stop(&self, unit: &str) -> Result<()> {
        self.act(&["stop", unit])
    }

    fn disable_and_stop(&self, unit: &str) -> Result<()> {
        self.act(&["disable", "--now", unit])
    }

    fn journal_of_current_run(&self, unit: &str) -> Result<String> {
        let id = self.query(&["show", "--property=InvocationID", "--value", unit])?;
        if id.is_empty() {
            return Ok(String::new());
        }
        let out = Command::new("journalctl")
            .args(["--no-pager", "-o", "cat", "-n", "500"])
            .arg(format!("_SYSTEMD_INVOCATION_ID={id}"))
            .output()
            .map_err(|e| Error::Unsupported(format!("cannot run journalctl: {e}")))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}
