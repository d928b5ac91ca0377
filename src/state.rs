//! What this tool remembers about the host, in `/var/lib/ecs-anywhere/state.json` (0600,
//! written atomically). The registration lifecycle is an explicit state machine:
//!
//! ```text
//! Unregistered --mint--> ActivationCreated --agent -register--> SsmRegistered
//!      |                                                            ^
//!      +------------------- agent -register (given activation) -----+
//! SsmRegistered --ecs.config written, agents started--> AgentsStarted --checks pass--> Verified
//! any --deregister--> Unregistered (state file removed)
//! ```
//!
//! A re-run observes the host first and resumes from what it finds; the state adds what the
//! host cannot tell: the single-use activation this tool minted and must delete, even after
//! being killed between creating it and using it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::host::fs::write_atomic;
use crate::host::paths::HostPaths;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Unregistered,
    /// A single-use activation exists for this host; the SSM agent has not used it yet.
    ActivationCreated,
    /// The SSM agent holds an identity for this host.
    SsmRegistered,
    /// ecs.config is written and the agents are enabled and started.
    AgentsStarted,
    /// The local and remote membership checks passed.
    Verified,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostState {
    pub phase: Phase,
    pub cluster: Option<String>,
    pub region: Option<String>,
    pub managed_instance_id: Option<String>,
    pub container_instance_arn: Option<String>,
    /// A single-use activation minted for this host and not yet deleted.
    pub pending_activation: Option<String>,
}

impl HostState {
    pub fn load(paths: &HostPaths) -> Result<Self> {
        let path = paths.state_file();
        match std::fs::read(&path) {
            Ok(raw) => serde_json::from_slice(&raw).map_err(|e| Error::Config {
                path: path.clone(),
                message: format!(
                    "corrupt state ({e}); remove the file and run again: the host is observed afresh"
                ),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HostState::default()),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Writes the state if it differs from what is on disk; a converged host is not rewritten.
    pub fn save(&self, paths: &HostPaths) -> Result<bool> {
        if *self == Self::load(paths).unwrap_or_default() && paths.state_file().exists() {
            return Ok(false);
        }
        let dir = paths.state_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Other(format!("cannot encode state: {e}")))?;
        text.push('\n');
        write_atomic(&paths.state_file(), text.as_bytes(), 0o600)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn round_trip_mode_and_no_rewrite_when_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let paths = HostPaths::new(dir.path());
        assert_eq!(HostState::load(&paths).unwrap(), HostState::default());
        let s = HostState {
            phase: Phase::SsmRegistered,
            managed_instance_id: Some("mi-0123456789abcdef0".into()),
            ..Default::default()
        };
        assert!(s.save(&paths).unwrap());
        assert!(!s.save(&paths).unwrap());
        assert_eq!(HostState::load(&paths).unwrap(), s);
        let meta = std::fs::metadata(paths.state_file()).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);
        std::fs::write(paths.state_file(), "{").unwrap();
        assert_eq!(HostState::load(&paths).unwrap_err().exit_code().code(), 2);
    }
}
