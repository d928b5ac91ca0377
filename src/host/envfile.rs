//! The ECS agent's `ecs.config`: systemd `EnvironmentFile` lines. We own a handful of keys
//! and merge them key by key, keeping every other line (and comments) as the operator wrote
//! it; the official installer appends instead, which duplicates keys on every re-run.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};

/// Reads an env file; `Ok(None)` when it does not exist.
pub fn read(path: &Path) -> Result<Option<EnvFile>> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(EnvFile::parse(&t))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvFile {
    lines: Vec<String>,
}

fn key_of(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
        return None;
    }
    let t = t.strip_prefix("export ").unwrap_or(t);
    t.split_once('=').map(|(k, _)| k.trim())
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        v[1..v.len() - 1].to_string()
    } else {
        v.to_string()
    }
}

impl EnvFile {
    pub fn parse(text: &str) -> Self {
        EnvFile {
            lines: text.lines().map(str::to_string).collect(),
        }
    }

    /// The value systemd would use: the last assignment wins.
    pub fn get(&self, key: &str) -> Option<String> {
        self.lines
            .iter()
            .rev()
            .find(|l| key_of(l) == Some(key))
            .and_then(|l| l.split_once('=').map(|(_, v)| unquote(v)))
    }

    pub fn entries(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for l in &self.lines {
            if let (Some(k), Some((_, v))) = (key_of(l), l.split_once('=')) {
                out.insert(k.to_string(), unquote(v));
            }
        }
        out
    }

    /// Sets `key` to `value`: the first assignment is replaced in place, duplicates removed.
    pub fn set(&mut self, key: &str, value: &str) {
        let line = format!("{key}={value}");
        let mut placed = false;
        self.lines.retain_mut(|l| {
            if key_of(l) != Some(key) {
                return true;
            }
            if placed {
                return false;
            }
            *l = line.clone();
            placed = true;
            true
        });
        if !placed {
            self.lines.push(line);
        }
    }

    pub fn remove(&mut self, key: &str) {
        self.lines.retain(|l| key_of(l) != Some(key));
    }

    pub fn render(&self) -> String {
        let mut s = self.lines.join("\n");
        if !s.is_empty() {
            s.push('\n');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_foreign_lines_and_dedupes_ours() {
        let mut f = EnvFile::parse(
            "# site settings\nECS_LOGLEVEL=debug\nECS_CLUSTER=old\nHTTP_PROXY=http://p:3128\nECS_CLUSTER=older\n",
        );
        assert_eq!(f.get("ECS_CLUSTER").as_deref(), Some("older"));
        f.set("ECS_CLUSTER", "prod");
        f.set("ECS_EXTERNAL", "true");
        assert_eq!(
            f.render(),
            "# site settings\nECS_LOGLEVEL=debug\nECS_CLUSTER=prod\nHTTP_PROXY=http://p:3128\nECS_EXTERNAL=true\n"
        );
        let again = EnvFile::parse(&f.render());
        assert_eq!(again, f);
    }

    #[test]
    fn json_values_and_quotes() {
        let f = EnvFile::parse("ECS_INSTANCE_ATTRIBUTES={\"a\":\"b\"}\nX=\"quoted value\"\n");
        assert_eq!(f.get("ECS_INSTANCE_ATTRIBUTES").unwrap(), "{\"a\":\"b\"}");
        assert_eq!(f.get("X").unwrap(), "quoted value");
        assert_eq!(f.entries().len(), 2);
    }
}
