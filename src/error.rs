//! The error type every command returns, and the exit-code table operators script against.
//! Each variant renders as one actionable line; none of them can carry a secret, because
//! secrets only travel as [`crate::secret::Secret`], whose `Display` redacts.

use std::path::PathBuf;

/// Documented exit codes (README "Exit codes", `ecs-anywhere --help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitCode {
    /// Done, or already converged.
    Ok = 0,
    /// Unexpected or transient failure; retrying later may succeed.
    Failure = 1,
    /// Usage or configuration error; nothing was changed.
    Usage = 2,
    /// AWS credentials missing or invalid, or a permission is missing.
    Permission = 3,
    /// The activation cannot be used: expired, invalid or exhausted.
    Activation = 4,
    /// Verification failed: the host is not what it should be.
    Verification = 5,
    /// The host is not supported (not root, no systemd, agent missing, ...).
    Unsupported = 6,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// The table printed in `--help` and the README; one source so they cannot disagree.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  done, or already converged (nothing to do)
  1  unexpected or transient failure (network, throttling, AWS server error); safe to retry
  2  usage or configuration error; nothing was changed
  3  AWS credentials missing or invalid, or a permission is missing (the action is named)
  4  activation unusable: expired, invalid or exhausted
  5  verification failed
  6  host not supported";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),

    #[error("configuration error in {}: {message}", path.display())]
    Config { path: PathBuf, message: String },

    #[error("{0}")]
    Credentials(String),

    #[error("access denied: {action} on {object}: {detail}; grant {action} to the calling identity or use credentials that have it")]
    AccessDenied {
        action: String,
        object: String,
        detail: String,
    },

    #[error("{0}")]
    Activation(String),

    #[error("{0}")]
    Verification(String),

    #[error("{0}")]
    Unsupported(String),

    /// An AWS call failed for a reason that retrying later may fix, or that we do not classify.
    #[error("{action} on {object} failed: {detail}")]
    Aws {
        action: String,
        object: String,
        detail: String,
    },

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) | Error::Config { .. } => ExitCode::Usage,
            Error::Credentials(_) | Error::AccessDenied { .. } => ExitCode::Permission,
            Error::Activation(_) => ExitCode::Activation,
            Error::Verification(_) => ExitCode::Verification,
            Error::Unsupported(_) => ExitCode::Unsupported,
            Error::Aws { .. } | Error::Io { .. } | Error::Other(_) => ExitCode::Failure,
        }
    }

    /// A short stable name for the class of failure, used in JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Usage(_) => "usage",
            Error::Config { .. } => "config",
            Error::Credentials(_) => "credentials",
            Error::AccessDenied { .. } => "access_denied",
            Error::Activation(_) => "activation",
            Error::Verification(_) => "verification",
            Error::Unsupported(_) => "unsupported",
            Error::Aws { .. } => "aws",
            Error::Io { .. } => "io",
            Error::Other(_) => "other",
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The message as one line: AWS messages sometimes carry newlines.
    pub fn one_line(&self) -> String {
        self.to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_maps_to_its_documented_code() {
        let cases = [
            (Error::Usage("x".into()), 2),
            (
                Error::Config {
                    path: "/etc/x".into(),
                    message: "m".into(),
                },
                2,
            ),
            (Error::Credentials("x".into()), 3),
            (
                Error::AccessDenied {
                    action: "iam:GetRole".into(),
                    object: "role r".into(),
                    detail: "d".into(),
                },
                3,
            ),
            (Error::Activation("x".into()), 4),
            (Error::Verification("x".into()), 5),
            (Error::Unsupported("x".into()), 6),
            (Error::Other("x".into()), 1),
        ];
        for (err, code) in cases {
            assert_eq!(err.exit_code().code(), code, "{err}");
            assert!(EXIT_CODES_HELP.contains(&format!("  {code}  ")));
        }
    }

    #[test]
    fn one_line_folds_newlines() {
        let e = Error::Other("first\nsecond\r\n third".into());
        assert_eq!(e.one_line(), "first second third");
    }
}
