//! Layered configuration: package defaults (`/usr/lib/ecs-anywhere/config.d/*.toml`), then
//! `/etc/ecs-anywhere/config.toml`, then `/etc/ecs-anywhere/config.d/*.toml`, all under the
//! host root; later files win key by key. Environment variables and flags are applied on top
//! by the command line (clap reads `ECS_ANYWHERE_*`), so the order is
//! flags > environment > files > built-in defaults.

mod file;
pub mod types;

use std::path::{Path, PathBuf};

pub use file::{ActivationSection, AwsSection, FileConfig, HostSection, RoleSection};

use crate::error::{Error, Result};

pub const MAIN_FILE: &str = "etc/ecs-anywhere/config.toml";
pub const DROPIN_DIR: &str = "etc/ecs-anywhere/config.d";
pub const VENDOR_DROPIN_DIR: &str = "usr/lib/ecs-anywhere/config.d";

/// The files that make up the configuration, lowest precedence first.
///
/// Drop-ins from `/etc` and `/usr/lib` are ordered together by file name; an `/etc` drop-in
/// masks the package's drop-in of the same name (the systemd convention).
pub fn config_files(root: &Path, explicit: Option<&Path>) -> Result<Vec<PathBuf>> {
    let etc = list_dropins(&root.join(DROPIN_DIR))?;
    let masked = |name: &String| etc.iter().any(|(n, _)| n == name);
    let mut files: Vec<PathBuf> = list_dropins(&root.join(VENDOR_DROPIN_DIR))?
        .into_iter()
        .filter(|(name, _)| !masked(name))
        .map(|(_, path)| path)
        .collect();
    match explicit {
        Some(path) if !path.is_file() => {
            return Err(Error::Usage(format!(
                "configuration file {} does not exist or is not a file",
                path.display()
            )));
        }
        Some(path) => files.push(path.to_path_buf()),
        None => {
            let main = root.join(MAIN_FILE);
            if main.is_file() {
                files.push(main);
            }
        }
    }
    files.extend(etc.into_iter().map(|(_, path)| path));
    Ok(files)
}

fn list_dropins(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".toml") && !name.starts_with('.') && entry.path().is_file() {
            out.push((name, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Reads and merges the files. Each file is validated on its own first, so an error names
/// the file, the line and key, and what is allowed.
pub fn load(files: &[PathBuf]) -> Result<FileConfig> {
    let mut merged = toml::Table::new();
    for path in files {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            path: path.clone(),
            message: format!("cannot read: {e}"),
        })?;
        parse_one(path, &text)?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| config_error(path, &text, e))?;
        merge(&mut merged, table);
    }
    toml::Value::Table(merged)
        .try_into()
        .map_err(|e: toml::de::Error| Error::Config {
            path: files.last().cloned().unwrap_or_default(),
            message: e.message().to_string(),
        })
}

fn parse_one(path: &Path, text: &str) -> Result<FileConfig> {
    toml::from_str(text).map_err(|e| config_error(path, text, e))
}

fn config_error(path: &Path, text: &str, e: toml::de::Error) -> Error {
    let mut message = e.message().trim().replace('\n', " ");
    if let Some(span) = e.span() {
        let line_no = text[..span.start.min(text.len())].matches('\n').count() + 1;
        let line = text.lines().nth(line_no - 1).unwrap_or("").trim();
        message = format!("line {line_no} (`{line}`): {message}");
    }
    Error::Config {
        path: path.to_path_buf(),
        message,
    }
}

fn merge(into: &mut toml::Table, from: toml::Table) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(root: &Path, rel: &str, text: &str) -> PathBuf {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn later_files_win_key_by_key_and_etc_masks_vendor() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "usr/lib/ecs-anywhere/config.d/10-defaults.toml",
            "region = \"eu-west-1\"\ncluster = \"vendor\"\n[role]\npolicy = \"minimal\"\n",
        );
        write(
            root,
            "usr/lib/ecs-anywhere/config.d/20-masked.toml",
            "profile = \"vendor\"\n",
        );
        write(
            root,
            MAIN_FILE,
            "cluster = \"main\"\n[role]\nname = \"r1\"\n",
        );
        write(root, "etc/ecs-anywhere/config.d/20-masked.toml", "");
        write(
            root,
            "etc/ecs-anywhere/config.d/50-site.toml",
            "[role]\nname = \"r2\"\n[activation.tags]\nteam = \"a\"\n",
        );
        let files = config_files(root, None).unwrap();
        assert_eq!(files.len(), 4, "{files:?}");
        let cfg = load(&files).unwrap();
        assert_eq!(cfg.region.as_deref(), Some("eu-west-1"));
        assert_eq!(cfg.cluster.as_deref(), Some("main"));
        assert_eq!(cfg.profile, None, "the /etc drop-in masks the vendor one");
        assert_eq!(cfg.role.name.as_deref(), Some("r2"));
        assert_eq!(cfg.role.policy, Some(types::PolicyMode::Minimal));
        assert_eq!(cfg.activation.tags.unwrap()["team"], "a");
    }

    #[test]
    fn errors_name_file_line_key_and_allowed_values() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("regoin = \"x\"\n", "unknown field `regoin`"),
            (
                "[role]\npolicy = \"wide\"\n",
                "expected `managed` or `minimal`",
            ),
            (
                "[activation]\nregistration_limit = 0\n",
                "allowed 1 to 1000",
            ),
            ("[activation]\nexpires_in = \"soon\"\n", "invalid duration"),
            ("region = [\n", "line"),
        ];
        for (text, expect) in cases {
            let p = write(dir.path(), "etc/ecs-anywhere/config.toml", text);
            let err = load(std::slice::from_ref(&p)).unwrap_err().to_string();
            assert!(err.contains(&p.display().to_string()), "{err}");
            assert!(err.contains(expect), "{text:?}: {err}");
            assert!(err.contains("line "), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn explicit_missing_file_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = config_files(dir.path(), Some(&dir.path().join("nope.toml"))).unwrap_err();
        assert_eq!(err.exit_code().code(), 2);
    }
}
