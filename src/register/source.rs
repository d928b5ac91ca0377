//! Where the activation comes from: given (id and code, from flags, a file, stdin or the
//! environment), minted by this tool for this host, or not needed (`--skip-registration`).

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::secret::Secret;

#[derive(Debug, Clone)]
pub enum ActivationSource {
    Given {
        id: String,
        code: Secret,
        region: Option<String>,
    },
    /// Ensure the role and create a single-use activation for this host.
    Mint,
    /// The host is registered with SSM by other means.
    Skip,
}

/// Activation codes are 20 or more printable characters without spaces; checked before use
/// so a truncated paste fails with exit 2 rather than at the agent. The code is never echoed.
pub fn validate_code(code: &str) -> Result<()> {
    let n = code.chars().count();
    if !(20..=250).contains(&n) || code.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::Usage(format!(
            "the activation code is malformed ({n} characters; expected 20 or more without spaces); copy it again from `activation create`"
        )));
    }
    Ok(())
}

/// Reads a code from a file, or standard input for `-`, trimming the trailing newline.
pub fn read_code_file(path: &Path) -> Result<Secret> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map_err(|e| {
            Error::Usage(format!("cannot read the activation code from stdin: {e}"))
        })?;
    } else {
        text = std::fs::read_to_string(path).map_err(|e| {
            Error::Usage(format!(
                "cannot read the activation code from {}: {e}",
                path.display()
            ))
        })?;
    }
    let code = text.trim().to_string();
    validate_code(&code)?;
    Ok(Secret::new(code))
}

#[derive(Deserialize)]
struct ActivationFile {
    activation_id: String,
    activation_code: String,
    region: Option<String>,
}

/// The file `ecs-anywhere activation create --out` writes.
pub fn read_activation_file(path: &Path) -> Result<ActivationSource> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Usage(format!(
            "cannot read activation file {}: {e}",
            path.display()
        ))
    })?;
    let f: ActivationFile = serde_json::from_str(&text).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        // serde's message could quote a value, and a value may be the code: say only which
        // kind of problem it is.
        message: format!(
            "not an activation file ({}); expected the JSON `activation create --out` writes",
            match e.classify() {
                serde_json::error::Category::Data => "missing or mistyped fields",
                _ => "not valid JSON",
            }
        ),
    })?;
    crate::aws::ssm::validate_activation_id(&f.activation_id)?;
    validate_code(&f.activation_code)?;
    Ok(ActivationSource::Given {
        id: f.activation_id,
        code: Secret::new(f.activation_code),
        region: f.region,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_files() {
        assert!(validate_code("abcdefghijklmnopqrst").is_ok());
        assert!(validate_code("short").is_err());
        assert!(validate_code("abcdefghij klmnopqrst").is_err());
        let err = validate_code("tooshortsecret").unwrap_err().to_string();
        assert!(!err.contains("tooshortsecret"));

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        std::fs::write(
            &p,
            r#"{"activation_id":"1b2c3d4e-0000-1111-2222-333344445555","activation_code":"abcdefghijklmnopqrst","region":"eu-west-1"}"#,
        )
        .unwrap();
        match read_activation_file(&p).unwrap() {
            ActivationSource::Given { id, region, .. } => {
                assert!(id.starts_with("1b2c"));
                assert_eq!(region.as_deref(), Some("eu-west-1"));
            }
            other => panic!("{other:?}"),
        }
        std::fs::write(&p, r#"{"activation_code":"abcdefghijklmnopqrst-secret"}"#).unwrap();
        let err = read_activation_file(&p).unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
    }
}
