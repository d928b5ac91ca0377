//! Test hosts: Debian bookworm systems booted with systemd as PID 1 in their own PID, mount,
//! network, UTS, IPC and cgroup namespaces, driven through `scripts/testhost` (root only).
//!
//! ```ignore
//! testhost::available().unwrap_or_else(|why| panic!("test hosts cannot run here: {why}"));
//! let host = TestHost::start("activate", &[emulator_port]);
//! host.install(&binary, "/usr/local/bin/ecs-anywhere", 0o755);
//! let out = host.exec_env(&[("AWS_ENDPOINT_URL", &endpoint)], &["ecs-anywhere", "--help"]);
//! host.cut();      // inside the host, 127.0.0.1:PORT now refuses connections
//! host.restore();  // and reaches the machine's 127.0.0.1:PORT again
//! host.reboot();   // a new boot on the same files (/run is empty again)
//! // dropped: the host is stopped, unmounted and removed
//! ```
//!
//! See tests/testhost/README.md.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// `scripts/testhost` of this repository.
pub fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/testhost")
}

/// The directory that holds one sub-directory per running host.
pub fn run_dir() -> PathBuf {
    std::env::var_os("ECS_ANYWHERE_TESTHOST_RUN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/run/ecs-anywhere-testhosts"))
}

/// Ok when test hosts can run on this machine, else why not. Tests that need hosts call
/// this and fail with the reason (they do not skip silently).
pub fn available() -> Result<(), String> {
    if !cfg!(target_os = "linux") {
        return Err("test hosts need Linux namespaces".into());
    }
    let euid = nix::unistd::Uid::effective();
    if !euid.is_root() {
        return Err(format!(
            "test hosts need root (to create namespaces and mounts); running as uid {euid}"
        ));
    }
    let out = Command::new(script())
        .arg("check")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script().display()))?;
    if out.status.success() {
        Ok(())
    } else {
        let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
        Err(if why.is_empty() {
            format!("scripts/testhost check failed ({})", out.status)
        } else {
            why
        })
    }
}

/// Panics with the reason when test hosts cannot run here.
pub fn require() {
    if let Err(why) = available() {
        panic!("test hosts cannot run here: {why}");
    }
}

/// A booted test host; dropping it stops and removes it.
pub struct TestHost {
    name: String,
    root: PathBuf,
    stopped: bool,
}

/// A host name from a prefix: lower-case letters, digits and '-', made unique by the test
/// process's PID and a counter.
fn unique_name(prefix: &str) -> String {
    let mut clean: String = prefix
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    clean.truncate(32);
    let clean = clean.trim_matches('-');
    let clean = if clean.is_empty() { "host" } else { clean };
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{clean}-{}-{n}", std::process::id())
}

fn testhost(args: &[&str]) -> Output {
    Command::new(script())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script().display()))
}

fn expect_ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl TestHost {
    /// Boots a host named after `name_prefix` (waits until systemd reports `running`). Inside
    /// it, 127.0.0.1:PORT of each port in `forwards` reaches this machine's 127.0.0.1:PORT.
    /// Panics with the reason when hosts cannot run here or the boot fails.
    pub fn start(name_prefix: &str, forwards: &[u16]) -> TestHost {
        require();
        let name = unique_name(name_prefix);
        let ports: Vec<String> = forwards.iter().map(|p| p.to_string()).collect();
        let mut args = vec!["start", name.as_str()];
        for p in &ports {
            args.push("--forward");
            args.push(p);
        }
        let out = testhost(&args);
        expect_ok(&format!("scripts/testhost start {name}"), &out);
        let root = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        assert!(
            root.is_dir(),
            "scripts/testhost start printed no root dir: {root:?}"
        );
        TestHost {
            name,
            root,
            stopped: false,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host's file system as seen from outside (for asserting files).
    pub fn root(&self) -> PathBuf {
        self.root.clone()
    }

    /// The host's run dir (holds `root/`, `pid`, `console.log`, forwarder logs).
    pub fn dir(&self) -> PathBuf {
        run_dir().join(&self.name)
    }

    /// PID of the host's PID 1 (systemd) as seen from outside.
    pub fn pid(&self) -> u32 {
        let text = std::fs::read_to_string(self.dir().join("pid"))
            .unwrap_or_else(|e| panic!("read pid of host {}: {e}", self.name));
        text.trim()
            .parse()
            .unwrap_or_else(|e| panic!("bad pid file of host {}: {e}", self.name))
    }

    /// Runs a command inside the host (cwd /, clean environment: PATH, HOME=/root, ...).
    pub fn exec(&self, args: &[&str]) -> Output {
        self.exec_env(&[], args)
    }

    /// Runs a command inside the host with extra environment variables.
    pub fn exec_env(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        assert!(!args.is_empty(), "exec needs a command");
        let mut cmd = Command::new(script());
        cmd.arg("exec").arg(&self.name);
        for (k, v) in env {
            cmd.arg("--env").arg(format!("{k}={v}"));
        }
        cmd.arg("--").args(args).stdin(Stdio::null());
        cmd.output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script().display()))
    }

    /// Runs `bash -c script` inside the host.
    pub fn sh(&self, script: &str) -> Output {
        self.exec(&["bash", "-c", script])
    }

    /// Runs a command inside the host, panics unless it succeeds, returns its stdout.
    pub fn check(&self, args: &[&str]) -> String {
        let out = self.exec(args);
        expect_ok(&format!("{args:?} in host {}", self.name), &out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Copies a file into the host (`dest_in_host` is a path inside it), with `mode`.
    pub fn install(&self, src: &Path, dest_in_host: &str, mode: u32) {
        let src = src.to_str().expect("source path is UTF-8");
        let mode = format!("{mode:o}");
        let out = testhost(&["cp-in", &self.name, src, dest_in_host, &mode]);
        expect_ok(&format!("installing {src} as {dest_in_host}"), &out);
    }

    /// Stops the forwarders: inside the host, connections to 127.0.0.1:PORT are refused.
    pub fn cut(&self) {
        expect_ok("scripts/testhost cut", &testhost(&["cut", &self.name]));
    }

    /// Starts the forwarders again.
    pub fn restore(&self) {
        expect_ok(
            "scripts/testhost restore",
            &testhost(&["restore", &self.name]),
        );
    }

    /// Shuts the host down (systemd stops its units) and boots it again on the same file
    /// system: files written before persist, /run and /tmp start empty, units enabled
    /// before start on the new boot, and the forwarders come back. Returns when the new
    /// boot is `running`; panics if it is not.
    pub fn reboot(&self) {
        let out = testhost(&["reboot", &self.name]);
        expect_ok(&format!("scripts/testhost reboot {}", self.name), &out);
    }

    /// `systemctl --no-pager ARGS` inside the host.
    pub fn systemctl(&self, args: &[&str]) -> Output {
        let mut all = vec!["systemctl", "--no-pager"];
        all.extend_from_slice(args);
        self.exec(&all)
    }

    /// Stops the host: kills everything in it, stops forwarders, unmounts and removes its
    /// run dir. Idempotent; also done on drop.
    pub fn stop(&mut self) -> Result<(), String> {
        if self.stopped {
            return Ok(());
        }
        let out = testhost(&["stop", &self.name]);
        if out.status.success() {
            self.stopped = true;
            Ok(())
        } else {
            Err(format!(
                "scripts/testhost stop {} failed ({}): {}",
                self.name,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            if std::thread::panicking() {
                eprintln!("{e}");
            } else {
                panic!("{e}");
            }
        }
    }
}
