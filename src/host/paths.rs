//! Every file the tool reads or writes on the host, resolved under one root (`--root`), so
//! tests and image builders can point the tool at a directory tree.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct HostPaths {
    root: PathBuf,
}

impl HostPaths {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        HostPaths { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `abs` (an absolute path on the host) under the root.
    pub fn under(&self, abs: &str) -> PathBuf {
        self.root.join(abs.trim_start_matches('/'))
    }

    pub fn ssm_registration(&self) -> PathBuf {
        self.under("/var/lib/amazon/ssm/registration")
    }
    pub fn ssm_registration_key(&self) -> PathBuf {
        self.under("/var/lib/amazon/ssm/Vault/Store/RegistrationKey")
    }
    pub fn ssm_identity_config(&self) -> PathBuf {
        self.under("/var/lib/amazon/ssm/runtimeconfig/identity_config.json")
    }
    pub fn ssm_agent_config(&self) -> PathBuf {
        self.under("/etc/amazon/ssm/amazon-ssm-agent.json")
    }
    pub fn node_credentials(&self) -> PathBuf {
        self.under("/root/.aws/credentials")
    }
    pub fn ecs_config(&self) -> PathBuf {
        self.under("/etc/ecs/ecs.config")
    }
    pub fn ecs_config_var(&self) -> PathBuf {
        self.under("/var/lib/ecs/ecs.config")
    }
    pub fn ecs_agent_db(&self) -> PathBuf {
        self.under("/var/lib/ecs/data/agent.db")
    }
    pub fn state_dir(&self) -> PathBuf {
        self.under("/var/lib/ecs-anywhere")
    }
    pub fn state_file(&self) -> PathBuf {
        self.under("/var/lib/ecs-anywhere/state.json")
    }
    pub fn lock_file(&self) -> PathBuf {
        self.under("/run/ecs-anywhere.lock")
    }
    pub fn machine_id(&self) -> PathBuf {
        self.under("/etc/machine-id")
    }
    pub fn systemd_runtime(&self) -> PathBuf {
        self.under("/run/systemd/system")
    }
}
