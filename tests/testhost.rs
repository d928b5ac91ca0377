//! The test-host harness itself (scripts/testhost + tests/common/testhost.rs): hosts boot
//! systemd as PID 1, are separate from each other, reach the machine's loopback only
//! through their forwarders, and leave nothing behind when stopped. Needs root; fails
//! (does not skip) with the reason where test hosts cannot run.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::testhost::{self, TestHost};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(out)
}

fn pid_ns_of(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok()
}

#[test]
fn host_boots_systemd_with_its_own_hostname_and_runs_units() {
    let host = TestHost::start("boot", &[]);

    assert_eq!(ok(&host.exec(&["ps", "-p", "1", "-o", "comm="])), "systemd");
    assert_eq!(ok(&host.systemctl(&["is-system-running"])), "running");
    assert_eq!(ok(&host.exec(&["hostname"])), host.name());
    assert_eq!(ok(&host.exec(&["cat", "/etc/hostname"])), host.name());
    let machine = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_ne!(machine.trim(), host.name());

    // Clean environment, cwd /, exit codes passed through.
    let env = host.exec_env(
        &[("GREETING", "hello there")],
        &[
            "sh",
            "-c",
            "echo \"$GREETING|$HOME|${CARGO_MANIFEST_DIR:-none}|$(pwd)\"",
        ],
    );
    assert_eq!(ok(&env), "hello there|/root|none|/");
    assert_eq!(host.sh("exit 7").status.code(), Some(7));

    // A oneshot unit written into the host runs through systemctl.
    let unit = "[Unit]\nDescription=test oneshot\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\n\
                ExecStart=/bin/sh -c 'echo \"ran as pid $$ on $(hostname)\" > /var/lib/hello.out'\n";
    let dir = tempfile::tempdir().unwrap();
    let unit_file = dir.path().join("hello.service");
    std::fs::write(&unit_file, unit).unwrap();
    host.install(&unit_file, "/etc/systemd/system/hello.service", 0o644);
    ok(&host.systemctl(&["daemon-reload"]));
    ok(&host.systemctl(&["start", "hello.service"]));
    assert_eq!(
        ok(&host.systemctl(&["is-active", "hello.service"])),
        "active"
    );
    // Seen from outside through the host's root.
    let written = std::fs::read_to_string(host.root().join("var/lib/hello.out")).unwrap();
    assert!(
        written.ends_with(&format!("on {}\n", host.name())),
        "{written:?}"
    );

    // An executable installed from outside runs inside.
    let tool = dir.path().join("tool");
    std::fs::write(&tool, "#!/bin/sh\necho tool says $1\n").unwrap();
    host.install(&tool, "/usr/local/bin/tool", 0o755);
    assert_eq!(ok(&host.exec(&["tool", "hi"])), "tool says hi");
}

#[test]
fn two_hosts_run_at_once_and_are_separate() {
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| TestHost::start("twin-a", &[]));
        let b = s.spawn(|| TestHost::start("twin-b", &[]));
        (a.join().unwrap(), b.join().unwrap())
    });

    let (ns_a, ns_b) = (pid_ns_of(a.pid()).unwrap(), pid_ns_of(b.pid()).unwrap());
    assert_ne!(ns_a, ns_b);
    assert_ne!(ns_a, std::fs::read_link("/proc/self/ns/pid").unwrap());
    // Inside, each sees its own namespace (the one of its PID 1).
    assert_eq!(
        ok(&a.exec(&["readlink", "/proc/self/ns/pid"])),
        ns_a.to_str().unwrap()
    );
    assert_eq!(
        ok(&b.exec(&["readlink", "/proc/self/ns/pid"])),
        ns_b.to_str().unwrap()
    );
    assert_eq!(ok(&a.exec(&["ps", "-p", "1", "-o", "comm="])), "systemd");
    assert_eq!(ok(&b.exec(&["ps", "-p", "1", "-o", "comm="])), "systemd");
    assert_eq!(ok(&a.exec(&["hostname"])), a.name());
    assert_eq!(ok(&b.exec(&["hostname"])), b.name());

    ok(&a.sh("echo only-in-a > /etc/marker"));
    assert_eq!(ok(&a.exec(&["cat", "/etc/marker"])), "only-in-a");
    assert!(!b.exec(&["test", "-e", "/etc/marker"]).status.success());
    assert!(a.root().join("etc/marker").exists());
    assert!(!b.root().join("etc/marker").exists());
    assert_ne!(a.root(), b.root());
}

/// A tiny HTTP server on the machine's 127.0.0.1 (random port), serving until dropped.
struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !flag.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        conn.set_nonblocking(false).unwrap();
                        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                        let mut buf = [0u8; 4096];
                        let _ = conn.read(&mut buf);
                        let body = "hello from the machine\n";
                        let _ = write!(
                            conn,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Server {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn forwarder_reaches_the_machine_loopback_and_cut_refuses() {
    let server = Server::start();
    let host = TestHost::start("fwd", &[server.port]);
    let url = format!("http://127.0.0.1:{}/", server.port);
    let curl = |host: &TestHost| host.exec(&["curl", "-sS", "--max-time", "5", &url]);

    assert_eq!(ok(&curl(&host)), "hello from the machine");
    // The host has only its own loopback.
    let links = ok(&host.exec(&["ip", "-o", "link", "show"]));
    assert_eq!(links.lines().count(), 1, "{links}");
    assert!(links.contains(": lo:"), "{links}");

    host.cut();
    let started = Instant::now();
    let refused = curl(&host);
    assert_eq!(
        refused.status.code(),
        Some(7),
        "curl: {}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a cut host fails fast"
    );

    host.restore();
    assert_eq!(ok(&curl(&host)), "hello from the machine");
}

fn mounts_under(dir: &Path) -> Vec<String> {
    let dir = dir.to_str().unwrap();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| {
            let mount_point = l.split(' ').nth(4).unwrap_or("");
            mount_point == dir || mount_point.starts_with(&format!("{dir}/"))
        })
        .map(str::to_string)
        .collect()
}

fn pids_in_ns(ns: &Path) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| std::fs::read_link(e.path().join("ns/pid")).ok().as_deref() == Some(ns))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn stop_leaves_no_process_mount_or_directory() {
    let server = Server::start();
    let mut host = TestHost::start("stop", &[server.port]);
    let pid = host.pid();
    let ns = pid_ns_of(pid).unwrap();
    let dir = host.dir();
    // Processes outside systemd's units too, and a running service.
    ok(&host.sh("nohup sleep 1000 >/dev/null 2>&1 &"));
    ok(&host.exec(&["systemd-run", "--unit=sleeper", "sleep", "1000"]));
    assert!(pids_in_ns(&ns).len() >= 3);
    assert!(!mounts_under(&dir).is_empty());

    host.stop().unwrap();

    assert!(
        pid_ns_of(pid).as_ref() != Some(&ns),
        "PID 1 {pid} of the host is still there"
    );
    assert_eq!(
        pids_in_ns(&ns),
        Vec::<String>::new(),
        "processes left in {ns:?}"
    );
    assert_eq!(mounts_under(&dir), Vec::<String>::new());
    assert_eq!(
        mounts_under(&testhost::run_dir().join(host.name())),
        Vec::<String>::new()
    );
    assert!(!dir.exists(), "{dir:?} still exists");
    // Idempotent.
    host.stop().unwrap();
    let out = std::process::Command::new(testhost::script())
        .args(["stop", host.name()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn reboot_keeps_files_empties_run_and_starts_enabled_units() {
    let server = Server::start();
    let host = TestHost::start("reboot", &[server.port]);
    let url = format!("http://127.0.0.1:{}/", server.port);
    // PID 1's start time (clock ticks since the machine booted): PIDs and namespace inode
    // numbers can be reused, this cannot go back.
    let pid1_started = |host: &TestHost| -> u64 {
        let stat = ok(&host.exec(&["cat", "/proc/1/stat"]));
        let after_comm = stat.rsplit(") ").next().unwrap();
        after_comm.split(' ').nth(19).unwrap().parse().unwrap()
    };
    let old_start = pid1_started(&host);
    let machine_id = ok(&host.exec(&["cat", "/etc/machine-id"]));

    // Enabled, not started: a oneshot wanted by multi-user.target and a timer that fires
    // one second after boot (AccuracySec, else systemd may delay it by up to a minute).
    // A started service whose ExecStop shows that the shutdown stopped units in order.
    let dir = tempfile::tempdir().unwrap();
    let units = [
        (
            "stamp.service",
            "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo booted > /run/stamp'\n\n\
             [Install]\nWantedBy=multi-user.target\n",
        ),
        (
            "late.timer",
            "[Timer]\nOnBootSec=1s\nAccuracySec=1ms\n\n[Install]\nWantedBy=timers.target\n",
        ),
        (
            "late.service",
            "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo fired >> /var/lib/late.log'\n",
        ),
        (
            "stopper.service",
            "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n\
             ExecStop=/bin/sh -c 'echo stopped > /var/lib/stopper.out'\n",
        ),
    ];
    for (name, text) in units {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        host.install(&path, &format!("/etc/systemd/system/{name}"), 0o644);
    }
    ok(&host.systemctl(&["daemon-reload"]));
    ok(&host.systemctl(&["enable", "stamp.service", "late.timer"]));
    ok(&host.systemctl(&["start", "stopper.service"]));
    ok(&host.sh("echo kept > /var/lib/kept; echo volatile > /run/volatile"));
    assert!(!host.root().join("var/lib/late.log").exists());

    host.reboot();

    assert!(
        pid1_started(&host) > old_start,
        "a reboot starts a new PID 1"
    );
    assert_eq!(ok(&host.exec(&["ps", "-p", "1", "-o", "comm="])), "systemd");
    assert_eq!(ok(&host.systemctl(&["is-system-running"])), "running");
    assert_eq!(ok(&host.exec(&["hostname"])), host.name());
    assert_eq!(ok(&host.exec(&["cat", "/etc/machine-id"])), machine_id);
    // The disk persists, /run does not, and the old boot was shut down in order.
    assert_eq!(ok(&host.exec(&["cat", "/var/lib/kept"])), "kept");
    assert!(!host.exec(&["test", "-e", "/run/volatile"]).status.success());
    assert_eq!(ok(&host.exec(&["cat", "/var/lib/stopper.out"])), "stopped");
    // What was enabled before the reboot started on the new boot.
    assert_eq!(ok(&host.exec(&["cat", "/run/stamp"])), "booted");
    assert_eq!(ok(&host.systemctl(&["is-active", "late.timer"])), "active");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !host.root().join("var/lib/late.log").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(ok(&host.exec(&["cat", "/var/lib/late.log"])), "fired");
    // The forwarders are back.
    let curl = host.exec(&["curl", "-sS", "--max-time", "5", &url]);
    assert_eq!(ok(&curl), "hello from the machine");
}
