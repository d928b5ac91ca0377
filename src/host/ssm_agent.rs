//! The SSM agent on the host: its registration files (read only) and its `-register` CLI,
//! behind a trait so the workflow can be tested with a fake.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::host::paths::HostPaths;
use crate::secret::Secret;

/// Where the agent's binary may be: deb/rpm installs, then the snap.
pub const AGENT_BINARIES: &[&str] = &[
    "/usr/bin/amazon-ssm-agent",
    "/usr/sbin/amazon-ssm-agent",
    "/snap/amazon-ssm-agent/current/amazon-ssm-agent",
];

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Registration {
    pub managed_instance_id: String,
    pub region: String,
}

#[derive(Deserialize)]
struct RegistrationFile {
    #[serde(rename = "ManagedInstanceID")]
    id: String,
    #[serde(rename = "Region")]
    region: String,
}

/// The host's SSM identity from `/var/lib/amazon/ssm/registration`. A file that exists but
/// cannot be read as a registration is an error naming the file, not "unregistered": the
/// operator has to look before we overwrite an identity.
pub fn registration(paths: &HostPaths) -> Result<Option<Registration>> {
    let path = paths.ssm_registration();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&path, e)),
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    let f: RegistrationFile = serde_json::from_str(&text).map_err(|e| Error::Config {
        path: path.clone(),
        message: format!(
            "corrupt SSM registration ({e}); inspect it, then remove it or run `ecs-anywhere deregister` before registering again"
        ),
    })?;
    if !valid_instance_id(&f.id) {
        return Err(Error::Config {
            path,
            message: format!(
                "`{}` is not a managed instance id (mi- and 17 hex digits); inspect the file before registering again",
                f.id
            ),
        });
    }
    Ok(Some(Registration {
        managed_instance_id: f.id,
        region: f.region,
    }))
}

pub fn valid_instance_id(id: &str) -> bool {
    id.strip_prefix("mi-")
        .is_some_and(|h| h.len() == 17 && h.chars().all(|c| c.is_ascii_hexdigit()))
}

#[derive(Deserialize)]
struct IdentityConfig {
    #[serde(rename = "InstanceId")]
    instance_id: Option<String>,
    #[serde(rename = "CredentialsExpiresAt")]
    expires_at: Option<String>,
    #[serde(rename = "CredentialsRetrievedAt")]
    retrieved_at: Option<String>,
}

/// When the agent last fetched the node's credentials and when they expire (RFC 3339).
pub fn credentials_times(paths: &HostPaths) -> Option<(Option<String>, Option<String>)> {
    let text = std::fs::read_to_string(paths.ssm_identity_config()).ok()?;
    let c: IdentityConfig = serde_json::from_str(&text).ok()?;
    Some((c.retrieved_at, c.expires_at))
}

/// Whether the agent holds unexpired credentials for `instance_id`.
pub fn credentials_for(paths: &HostPaths, instance_id: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(paths.ssm_identity_config()) else {
        return false;
    };
    let Ok(c) = serde_json::from_str::<IdentityConfig>(&text) else {
        return false;
    };
    c.instance_id.as_deref() == Some(instance_id) && !expired(c.expires_at.as_deref())
}

/// True when the RFC 3339 time is missing, unreadable or in the past.
pub fn expired(at: Option<&str>) -> bool {
    let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now()).secs();
    at.and_then(|t| crate::activation::parse_time(t).ok())
        .is_none_or(|t| t.secs() <= now)
}

/// Why the agent refused an activation, from its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterFailure {
    /// InvalidActivation, ActivationExpired or RegistrationLimitExceeded.
    Activation(String),
    Other(String),
}

pub trait SsmAgentCli {
    /// The agent's binary, if installed.
    fn binary(&self) -> Option<PathBuf>;
    /// `amazon-ssm-agent -register -code CODE -id ID -region REGION -y`.
    fn register(&self, code: &Secret, id: &str, region: &str) -> Result<(), RegisterFailure>;
}

pub struct SsmAgent {
    pub paths: HostPaths,
}

impl SsmAgentCli for SsmAgent {
    fn binary(&self) -> Option<PathBuf> {
        AGENT_BINARIES
            .iter()
            .map(|b| self.paths.under(b))
            .find(|p| is_executable(p))
    }

    fn register(&self, code: &Secret, id: &str, region: &str) -> Result<(), RegisterFailure> {
        let bin = self
            .binary()
            .ok_or_else(|| RegisterFailure::Other("amazon-ssm-agent is not installed".into()))?;
        // The agent's output goes to an unlinked file, not a pipe: if this process is killed
        // mid-registration, the agent must not die of SIGPIPE between registering with SSM
        // and writing its files, which would leave an identity nobody holds.
        let spawn_err = |e: std::io::Error| {
            RegisterFailure::Other(format!("cannot run {}: {e}", bin.display()))
        };
        let mut log = tempfile_in(&self.paths.under("/run")).map_err(spawn_err)?;
        // The agent's CLI takes the code only as an argument; it is visible in the process
        // list for the second the registration takes, to root's processes only.
        let status = Command::new(&bin)
            .args([
                "-register",
                "-code",
                code.expose(),
                "-id",
                id,
                "-region",
                region,
                "-y",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(spawn_err)?)
            .stderr(log.try_clone().map_err(spawn_err)?)
            .status()
            .map_err(spawn_err)?;
        if status.success() {
            return Ok(());
        }
        let code_of = status.code().unwrap_or(-1);
        let mut raw = String::new();
        use std::io::{Read, Seek};
        let _ = log.rewind();
        let _ = log.read_to_string(&mut raw);
        let text = raw.replace(code.expose(), "[redacted]");
        for name in [
            "InvalidActivation",
            "ActivationExpired",
            "RegistrationLimitExceeded",
        ] {
            if text.contains(name) {
                return Err(RegisterFailure::Activation(name.to_string()));
            }
        }
        let summary: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        Err(RegisterFailure::Other(format!(
            "amazon-ssm-agent -register exited with {}: {}",
            code_of,
            summary.chars().take(400).collect::<String>()
        )))
    }
}

/// An anonymous file (O_TMPFILE) in `dir`: never visible by name, gone when closed.
fn tempfile_in(dir: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_TMPFILE)
        .open(dir)
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_registration_and_rejects_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let paths = HostPaths::new(dir.path());
        assert_eq!(registration(&paths).unwrap(), None);
        let p = paths.ssm_registration();
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            &p,
            r#"{"ManagedInstanceID":"mi-0123456789abcdef0","Region":"eu-west-1"}"#,
        )
        .unwrap();
        assert_eq!(
            registration(&paths).unwrap().unwrap().managed_instance_id,
            "mi-0123456789abcdef0"
        );
        std::fs::write(&p, "{not json").unwrap();
        let err = registration(&paths).unwrap_err();
        assert!(err.to_string().contains("corrupt"), "{err}");
        std::fs::write(&p, r#"{"ManagedInstanceID":"i-123","Region":"x"}"#).unwrap();
        assert!(registration(&paths).is_err());
    }
}
