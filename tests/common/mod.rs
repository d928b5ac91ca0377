//! The integration-test harness: starts the project's AWS emulator (`scripts/emulator`) on a
//! free loopback port for one test, runs the built binary against it with a clean
//! environment, and reads the emulator's ledger and control endpoints.

#![allow(dead_code)]

pub mod rig;
pub mod testhost;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

pub const ACCOUNT: &str = "123456789012";

/// A throwaway RSA public key (2048 bits, base64 DER) for registering test nodes.
pub const TEST_PUBLIC_KEY: &str = include_str!("../fixtures/node/public_key.b64");

pub struct Emulator {
    child: Child,
    pub endpoint: String,
    pub region: String,
    pub admin: (String, String),
    pub restricted: (String, String),
    /// HOME and --root of the binary under test.
    pub dir: tempfile::TempDir,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl Emulator {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_with(args: &[&str]) -> Self {
        let mut child = Command::new(repo().join("scripts/emulator"))
            .args(["--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start scripts/emulator");
        // Keep the emulator's log for a failing test, without blocking on a full pipe.
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if std::env::var_os("EMULATOR_LOG").is_some() {
                    eprintln!("emulator: {line}");
                }
            }
        });
        let mut vars = std::collections::HashMap::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while vars.len() < 6 {
            line.clear();
            if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.kill();
                panic!("scripts/emulator exited before printing its exports (EMULATOR_LOG=1 shows why)");
            }
            if let Some((k, v)) = line
                .trim()
                .strip_prefix("export ")
                .and_then(|l| l.split_once('='))
            {
                vars.insert(
                    k.to_string(),
                    v.trim_matches('\'').trim_matches('"').to_string(),
                );
            }
        }
        std::thread::spawn(move || {
            let mut sink = String::new();
            let _ = stdout.read_to_string(&mut sink);
        });
        let get = |k: &str| {
            vars.get(k)
                .cloned()
                .unwrap_or_else(|| panic!("missing {k}"))
        };
        Emulator {
            endpoint: get("AWS_ENDPOINT_URL"),
            region: get("AWS_REGION"),
            admin: (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")),
            restricted: (
                get("RESTRICTED_AWS_ACCESS_KEY_ID"),
                get("RESTRICTED_AWS_SECRET_ACCESS_KEY"),
            ),
            child,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The binary with the administrator's credentials and nothing from this machine's
    /// environment: no AWS config files, no instance metadata.
    pub fn cli(&self) -> Cli {
        self.cli_as(&self.admin)
    }

    pub fn cli_restricted(&self) -> Cli {
        self.cli_as(&self.restricted)
    }

    fn cli_as(&self, keys: &(String, String)) -> Cli {
        for f in ["aws-config", "aws-credentials"] {
            let p = self.root().join(f);
            if !p.exists() {
                std::fs::write(p, "").unwrap();
            }
        }
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecs-anywhere"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", self.root().join("aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.root().join("aws-credentials"),
            )
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_REGION", &self.region)
            .env("AWS_ACCESS_KEY_ID", &keys.0)
            .env("AWS_SECRET_ACCESS_KEY", &keys.1)
            .arg("--root")
            .arg(self.root())
            .stdin(Stdio::null());
        Cli { cmd }
    }

    /// One HTTP/1.1 request to the emulator: (status, JSON body or null).
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, Value) {
        let addr = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).expect("connect to the emulator");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        write!(stream, "{head}\r\n{body}").unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").expect("HTTP response");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_string()
        };
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    fn http(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let payload = body.map(|b| b.to_string()).unwrap_or_default();
        let (status, doc) = self.request(
            method,
            path,
            &[("Content-Type", "application/json")],
            &payload,
        );
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {doc}"
        );
        doc
    }

    /// An unsigned JSON 1.1 call, as the SSM agent makes `RegisterManagedInstance`.
    pub fn unsigned_ssm(&self, operation: &str, body: Value) -> (u16, Value) {
        let target = format!("AmazonSSM.{operation}");
        self.request(
            "POST",
            "/",
            &[
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", &target),
            ],
            &body.to_string(),
        )
    }

    /// Registers a node with an activation the way the SSM agent does; returns the status
    /// and the `mi-` id or the error code.
    pub fn register_node(&self, id: &str, code: &str) -> (u16, String) {
        let (status, doc) = self.unsigned_ssm(
            "RegisterManagedInstance",
            serde_json::json!({
                "ActivationId": id,
                "ActivationCode": code,
                "PublicKey": TEST_PUBLIC_KEY,
                "PublicKeyType": "Rsa",
                "Fingerprint": format!("fp-{}", std::process::id()),
            }),
        );
        let text = doc["InstanceId"]
            .as_str()
            .or(doc["__type"].as_str())
            .unwrap_or("")
            .to_string();
        (status, text)
    }

    pub fn get(&self, path: &str) -> Value {
        self.http("GET", path, None)
    }

    pub fn post(&self, path: &str, body: Value) -> Value {
        self.http("POST", path, Some(&body))
    }

    /// Every AWS call the emulator has seen, in order.
    pub fn ledger(&self) -> Vec<Value> {
        match self.get("/_emulator/ledger") {
            Value::Array(v) => v,
            other => panic!("ledger is not a list: {other}"),
        }
    }

    /// The ledger entries for one operation, in order.
    pub fn calls(&self, operation: &str) -> Vec<Value> {
        self.ledger()
            .into_iter()
            .filter(|e| e["operation"] == operation)
            .collect()
    }

    /// How many calls of `operation` succeeded.
    pub fn succeeded(&self, operation: &str) -> usize {
        self.calls(operation)
            .iter()
            .filter(|e| e["status"] == 200)
            .count()
    }

    pub fn faults(&self, rules: Value) {
        self.post(
            "/_emulator/faults",
            serde_json::json!({ "seed": 7, "rules": rules }),
        );
    }

    pub fn advance_clock(&self, seconds: u64) {
        self.post(
            "/_emulator/clock",
            serde_json::json!({ "advance": seconds }),
        );
    }

    /// An SDK configuration for the administrator, to look at or change AWS state the way
    /// another client would.
    pub fn sdk(&self) -> aws_config::SdkConfig {
        let creds = aws_credential_types::Credentials::new(
            &self.admin.0,
            &self.admin.1,
            None,
            None,
            "test",
        );
        block_on(
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new(self.region.clone()))
                .endpoint_url(&self.endpoint)
                .credentials_provider(creds)
                .load(),
        )
    }

    /// The emulator's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.endpoint.rsplit(':').next().unwrap().parse().unwrap()
    }

    pub fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&self.sdk())
    }

    pub fn create_cluster(&self, name: &str) {
        block_on(self.ecs().create_cluster().cluster_name(name).send()).unwrap();
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk())
    }

    pub fn ssm(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.sdk())
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&tail[..n]);
        rest = &tail[n + 2..];
    }
    out
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Calls that change AWS state (everything that is not a read).
pub fn is_write(entry: &Value) -> bool {
    let op = entry["operation"].as_str().unwrap_or("");
    !["Get", "List", "Describe"]
        .iter()
        .any(|p| op.starts_with(p))
}

pub fn writes(ledger: &[Value]) -> Vec<String> {
    ledger
        .iter()
        .filter(|e| is_write(e))
        .map(|e| {
            format!(
                "{}:{}",
                e["service"].as_str().unwrap_or(""),
                e["operation"].as_str().unwrap_or("")
            )
        })
        .collect()
}

pub struct Cli {
    pub cmd: Command,
}

impl Cli {
    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }

    pub fn env_remove(mut self, k: &str) -> Self {
        self.cmd.env_remove(k);
        self
    }

    pub fn run(mut self, args: &[&str]) -> Run {
        let out = self.cmd.args(args).output().expect("run ecs-anywhere");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The one JSON document on stdout.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {self:?}"))
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code; run: {self:#?}");
        self
    }

    /// The error line on stderr (the last line starting with `error:`).
    pub fn error_line(&self) -> String {
        self.stderr
            .lines()
            .rev()
            .find(|l| l.starts_with("error:"))
            .unwrap_or_else(|| panic!("no error line: {self:#?}"))
            .to_string()
    }
}
