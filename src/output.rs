//! What a command reports: data on stdout (text for people, exactly one JSON document with
//! `--output json`), logs on stderr.

use serde_json::{Map, Value};

use crate::config::types::OutputFormat;
use crate::error::Error;

/// The result of a command. Mutating commands say whether they changed anything and list
/// the actions taken (or, with `--dry-run`, the actions they would take).
pub struct Outcome {
    pub command: &'static str,
    pub changed: bool,
    pub dry_run: bool,
    pub actions: Vec<String>,
    /// Command-specific fields of the JSON document.
    pub data: Map<String, Value>,
    /// The text rendering, printed after the list of actions.
    pub text: String,
    /// A command that completed its report but found the host wanting (verification,
    /// status) still exits non-zero: the report is printed, then this error.
    pub failure: Option<Error>,
    /// Printed as is in every output format (generated man pages, completions).
    pub raw: Option<String>,
}

impl Outcome {
    pub fn new(command: &'static str, dry_run: bool) -> Self {
        Outcome {
            command,
            changed: false,
            dry_run,
            actions: Vec::new(),
            data: Map::new(),
            text: String::new(),
            failure: None,
            raw: None,
        }
    }

    pub fn set(&mut self, key: &str, value: impl serde::Serialize) {
        let v = serde_json::to_value(value).unwrap_or(Value::Null);
        self.data.insert(key.to_string(), v);
    }

    pub fn to_json(&self) -> Value {
        let mut doc = Map::new();
        doc.insert("command".into(), self.command.into());
        doc.insert("changed".into(), self.changed.into());
        doc.insert("dry_run".into(), self.dry_run.into());
        doc.insert("actions".into(), self.actions.clone().into());
        for (k, v) in &self.data {
            doc.insert(k.clone(), v.clone());
        }
        if let Some(err) = &self.failure {
            doc.insert("error".into(), error_value(err));
        }
        Value::Object(doc)
    }

    pub fn render(&self, format: OutputFormat) -> String {
        if let Some(raw) = &self.raw {
            return raw.clone();
        }
        match format {
            OutputFormat::Json => format!("{}\n", self.to_json()),
            OutputFormat::Text => {
                let mut out = String::new();
                let verb = if self.dry_run { "would" } else { "done" };
                for a in &self.actions {
                    out.push_str(&format!("{verb}: {a}\n"));
                }
                out.push_str(&self.text);
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                out
            }
        }
    }
}

/// The JSON document printed on stdout when a command fails under `--output json`.
pub fn error_json(err: &Error) -> String {
    let doc = serde_json::json!({ "error": error_value(err) });
    format!("{doc}\n")
}

fn error_value(err: &Error) -> Value {
    serde_json::json!({
        "exit_code": err.exit_code().code(),
        "kind": err.kind(),
        "message": err.one_line(),
    })
}
