//! Packaging: `scripts/package` builds the .deb, the .rpm and the install.sh tarball from the
//! debug binary; their contents and metadata are checked, and each is installed, upgraded
//! and removed in a fresh test host (root needed; `rpm` on this machine).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

use common::testhost::TestHost;

/// The highest `systemd-analyze security` exposure accepted for ecs-anywhere.service.
/// It was 2.4 when this was written (runs as root with network access, by design).
const MAX_EXPOSURE: f64 = 3.0;

/// Every file of the packages, with its mode.
const FILES: &[(&str, u32)] = &[
    ("/usr/bin/ecs-anywhere", 0o755),
    ("/usr/lib/systemd/system/ecs-anywhere.service", 0o644),
    ("/usr/lib/systemd/system/ecs-anywhere.timer", 0o644),
    (
        "/usr/lib/systemd/system-preset/80-ecs-anywhere.preset",
        0o644,
    ),
    ("/etc/ecs-anywhere/config.toml", 0o644),
    ("/etc/default/ecs-anywhere", 0o644),
    ("/usr/share/man/man1/ecs-anywhere.1.gz", 0o644),
    ("/usr/share/bash-completion/completions/ecs-anywhere", 0o644),
    ("/usr/share/zsh/vendor-completions/_ecs-anywhere", 0o644),
    (
        "/usr/share/fish/vendor_completions.d/ecs-anywhere.fish",
        0o644,
    ),
    ("/usr/share/doc/ecs-anywhere/README.md", 0o644),
];
const CONFFILES: &[&str] = &["/etc/ecs-anywhere/config.toml", "/etc/default/ecs-anywhere"];

const TIMER: &str = "ecs-anywhere.timer";

struct Packages {
    deb: PathBuf,
    rpm: PathBuf,
    tarball: PathBuf,
    sums: PathBuf,
}

/// Built once per test run, shared by the tests (they run in parallel).
fn packages() -> &'static Packages {
    static PACKAGES: OnceLock<Packages> = OnceLock::new();
    PACKAGES.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("packages");
        let _ = std::fs::remove_dir_all(&out);
        let started = Instant::now();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/package");
        let built = run(Command::new(script)
            .args([
                "--binary",
                env!("CARGO_BIN_EXE_ecs-anywhere"),
                "--fast",
                "--out",
            ])
            .arg(&out));
        eprintln!("scripts/package took {:?}", started.elapsed());
        let paths: Vec<PathBuf> = built.lines().map(PathBuf::from).collect();
        let find = |suffix: &str| {
            paths
                .iter()
                .find(|p| p.to_string_lossy().ends_with(suffix))
                .unwrap_or_else(|| panic!("scripts/package printed no *{suffix}: {built}"))
                .clone()
        };
        let packages = Packages {
            deb: find("_amd64.deb"),
            rpm: find(".x86_64.rpm"),
            tarball: find("-linux.tar.gz"),
            sums: find("/SHA256SUMS"),
        };
        for p in [&packages.deb, &packages.rpm, &packages.tarball] {
            assert!(p.starts_with(&out), "{p:?} is not under --out {out:?}");
        }
        packages
    })
}

/// Runs a command on this machine, panics unless it succeeds, returns its stdout.
fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    ok(&format!("{cmd:?}"), &out)
}

fn ok(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn sh(host: &TestHost, script: &str) -> String {
    ok(script, &host.sh(script))
}

/// The modes of the given paths inside the host (absent paths are left out).
fn modes_in(host: &TestHost, paths: &[&str]) -> BTreeMap<String, u32> {
    paths
        .iter()
        .filter_map(|p| {
            let out = host.exec(&["stat", "-L", "-c", "%a", p]);
            out.status.success().then(|| {
                (
                    p.to_string(),
                    u32::from_str_radix(&stdout(&out), 8).unwrap(),
                )
            })
        })
        .collect()
}

fn all_files() -> Vec<&'static str> {
    FILES.iter().map(|(p, _)| *p).collect()
}

fn expected_modes() -> BTreeMap<String, u32> {
    FILES.iter().map(|(p, m)| (p.to_string(), *m)).collect()
}

fn sorted(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

fn is_enabled(host: &TestHost, unit: &str) -> String {
    stdout(&host.systemctl(&["is-enabled", unit]))
}

fn is_active(host: &TestHost, unit: &str) -> String {
    stdout(&host.systemctl(&["is-active", unit]))
}

/// A registration as the agents leave it, and the tool's state: never touched by packaging.
const REGISTRATION: &[(&str, &str)] = &[
    (
        "/var/lib/amazon/ssm/Vault/Store/RegistrationKey",
        "{\"instanceID\":\"mi-0123456789abcdef0\",\"region\":\"eu-west-1\"}",
    ),
    (
        "/etc/ecs/ecs.config",
        "ECS_CLUSTER=prod\nECS_EXTERNAL=true\n",
    ),
    ("/var/lib/ecs/data/agent.db", "not really a database\n"),
];
const STATE: (&str, &str) = (
    "/var/lib/ecs-anywhere/state.json",
    "{\"state\":\"registered\"}\n",
);

fn write_registration(host: &TestHost) {
    for (path, text) in REGISTRATION.iter().chain([&STATE]) {
        let file = host.root().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, text).unwrap();
    }
}

fn assert_registration_untouched(host: &TestHost, with_state: bool) {
    let mut files: Vec<&(&str, &str)> = REGISTRATION.iter().collect();
    if with_state {
        files.push(&STATE);
    }
    for (path, text) in files {
        let inside = host.exec(&["cat", path]);
        assert_eq!(
            String::from_utf8_lossy(&inside.stdout),
            *text,
            "{path} changed"
        );
    }
}

#[test]
fn package_script_writes_checksummed_deb_rpm_and_tarball() {
    let p = packages();
    let dir = p.sums.parent().unwrap();
    let checked = run(Command::new("sha256sum")
        .arg("-c")
        .arg(&p.sums)
        .current_dir(dir));
    assert_eq!(checked.lines().count(), 3, "{checked}");
    assert!(checked.lines().all(|l| l.ends_with(": OK")), "{checked}");

    let listing = run(Command::new("tar").arg("-tzf").arg(&p.tarball));
    let top = p
        .tarball
        .file_name()
        .unwrap()
        .to_string_lossy()
        .trim_end_matches(".tar.gz")
        .to_string();
    for f in [
        "ecs-anywhere",
        "install.sh",
        "SHA256SUMS",
        "README.md",
        "systemd/ecs-anywhere.service",
        "systemd/ecs-anywhere.timer",
        "packaging/80-ecs-anywhere.preset",
        "packaging/config.toml",
        "packaging/default",
        "man/ecs-anywhere.1.gz",
        "completions/ecs-anywhere.bash",
        "completions/_ecs-anywhere",
        "completions/ecs-anywhere.fish",
    ] {
        let entry = format!("{top}/{f}");
        assert!(
            listing.lines().any(|l| l == entry),
            "{entry} not in\n{listing}"
        );
    }
}

#[test]
fn deb_lists_the_files_modes_conffiles_dependencies_and_scripts() {
    let deb = &packages().deb;
    let field = |name: &str| run(Command::new("dpkg-deb").arg("-f").arg(deb).arg(name));
    assert_eq!(field("Package"), "ecs-anywhere");
    assert_eq!(field("Architecture"), "amd64");
    let depends = field("Depends");
    let depends: Vec<&str> = depends.split(", ").collect();
    assert!(
        depends.iter().any(|d| d.starts_with("libc6 (>= 2.")),
        "{depends:?}"
    );
    assert!(depends.contains(&"systemd"), "{depends:?}");
    assert_eq!(field("Recommends"), "", "the agents are not in Debian");
    assert_eq!(field("Suggests"), "amazon-ssm-agent, amazon-ecs-init");

    // `dpkg-deb -c`: "-rwxr-xr-x 0/0 SIZE DATE TIME ./path".
    let contents = run(Command::new("dpkg-deb").arg("-c").arg(deb));
    let files: BTreeMap<String, String> = contents
        .lines()
        .filter(|l| !l.starts_with('d'))
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(cols[1], "0/0", "owned by root: {l}");
            let path = cols.last().unwrap().trim_start_matches('.').to_string();
            (path, cols[0].to_string())
        })
        .collect();
    let mut expected: BTreeMap<String, String> = FILES
        .iter()
        .map(|(p, m)| {
            let perms = if *m == 0o755 {
                "-rwxr-xr-x"
            } else {
                "-rw-r--r--"
            };
            (p.to_string(), perms.to_string())
        })
        .collect();
    // Debian's copyright file, written by cargo-deb.
    expected.insert(
        "/usr/share/doc/ecs-anywhere/copyright".into(),
        "-rw-r--r--".into(),
    );
    assert_eq!(files, expected);

    let control = |member: &str| run(Command::new("dpkg-deb").arg("-I").arg(deb).arg(member));
    assert_eq!(control("conffiles"), CONFFILES.join("\n"));
    let postinst = control("postinst");
    assert!(
        postinst.contains("systemctl preset \"$timer\""),
        "{postinst}"
    );
    assert!(
        postinst.contains("[ -d /run/systemd/system ]"),
        "{postinst}"
    );
    let prerm = control("prerm");
    assert!(
        prerm.contains("systemctl disable --now \"$timer\""),
        "{prerm}"
    );
    assert!(
        prerm.contains("systemctl stop ecs-anywhere.service"),
        "{prerm}"
    );
    let postrm = control("postrm");
    assert!(
        postrm.contains("rm -rf /etc/ecs-anywhere /var/lib/ecs-anywhere"),
        "{postrm}"
    );
    // Only the comment names the agents' registration.
    let code = postrm.lines().filter(|l| !l.trim_start().starts_with('#'));
    assert!(
        !code
            .clone()
            .any(|l| l.contains("amazon") || l.contains("/etc/ecs ")),
        "{postrm}"
    );
}

#[test]
fn rpm_lists_the_files_config_noreplace_requires_and_scriptlets() {
    let rpm = &packages().rpm;
    let query = |args: &[&str]| run(Command::new("rpm").arg("-qp").args(args).arg(rpm));

    assert_eq!(query(&["--qf", "%{NAME}"]), "ecs-anywhere");
    let listed: Vec<String> = query(&["-l"]).lines().map(str::to_string).collect();
    let mut expected = all_files();
    expected.sort();
    assert_eq!(listed, expected);
    // Modes and flags per file: "c" config, "n" noreplace, "d" doc.
    let flags = query(&[
        "--qf",
        "[%{FILENAMES} %{FILEMODES:perms} %{FILEFLAGS:fflags}\n]",
    ]);
    for line in flags.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let (path, perms) = (cols[0], cols[1]);
        let fflags = cols.get(2).copied().unwrap_or("");
        let mode = FILES.iter().find(|(p, _)| *p == path).unwrap().1;
        let want = if mode == 0o755 {
            "-rwxr-xr-x"
        } else {
            "-rw-r--r--"
        };
        assert_eq!(perms, want, "{line}");
        if CONFFILES.contains(&path) {
            assert_eq!(fflags, "cn", "{path} is %config(noreplace): {line}");
        } else {
            assert!(!fflags.contains('c'), "{path} is not config: {line}");
        }
    }
    let config: Vec<String> = query(&["-c"]).lines().map(str::to_string).collect();
    let mut want_config: Vec<&str> = CONFFILES.to_vec();
    want_config.sort();
    assert_eq!(config, want_config);

    let requires = query(&["--requires"]);
    assert!(
        requires.lines().any(|l| l.trim() == "systemd"),
        "{requires}"
    );
    assert!(
        requires.lines().any(|l| l.starts_with("libc.so.6")),
        "{requires}"
    );

    let scripts = query(&["--scripts"]);
    // "postinstall scriptlet (using /bin/sh):" and the script's lines, up to the next header.
    let section = |name: &str| {
        let mut lines = scripts
            .lines()
            .skip_while(|l| !l.starts_with(&format!("{name} scriptlet")));
        assert!(lines.next().is_some(), "no {name} scriptlet in\n{scripts}");
        lines
            .take_while(|l| !(l.contains(" scriptlet") && l.ends_with(':')))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let post = section("postinstall");
    assert!(post.contains("if [ \"$1\" -eq 1 ]; then"), "{post}");
    assert!(
        post.contains("systemctl preset ecs-anywhere.timer"),
        "{post}"
    );
    let preun = section("preuninstall");
    assert!(preun.contains("if [ \"$1\" -eq 0 ]; then"), "{preun}");
    assert!(
        preun.contains("systemctl disable --now ecs-anywhere.timer"),
        "{preun}"
    );
    assert!(
        preun.contains("systemctl stop ecs-anywhere.service"),
        "{preun}"
    );
    let postun = section("postuninstall");
    assert!(postun.contains("systemctl daemon-reload"), "{postun}");
}

#[test]
fn rpm_scriptlets_enable_on_install_and_disable_on_erase_without_running_systemd() {
    // rpm --root runs the scriptlets chrooted into the host's files, from outside: no
    // systemd runs there, as in an image build. The host's own systemd then sees the result.
    let host = TestHost::start("pkg-rpm", &[]);
    let rpm = |args: &[&str]| {
        run(Command::new("rpm")
            .arg("--root")
            .arg(host.root())
            .args(args))
    };
    rpm(&[
        "-i",
        "--nodeps",
        "--nosignature",
        packages().rpm.to_str().unwrap(),
    ]);
    assert_eq!(modes_in(&host, &all_files()), expected_modes());
    ok("daemon-reload", &host.systemctl(&["daemon-reload"]));
    assert_eq!(is_enabled(&host, TIMER), "enabled");
    assert_eq!(is_active(&host, TIMER), "inactive");

    write_registration(&host);
    rpm(&["-e", "--nodeps", "ecs-anywhere"]);
    assert_eq!(modes_in(&host, &all_files()), BTreeMap::new());
    assert!(!host
        .root()
        .join("etc/systemd/system/timers.target.wants")
        .join(TIMER)
        .exists());
    assert_registration_untouched(&host, true);
}

#[test]
fn deb_install_upgrade_remove_purge_in_a_test_host() {
    let mut host = TestHost::start("pkg-deb", &[]);
    host.install(&packages().deb, "/var/tmp/ecs-anywhere.deb", 0o644);
    let dpkg = |args: &[&str]| {
        let mut all = vec!["dpkg"];
        all.extend_from_slice(args);
        ok(&format!("{all:?}"), &host.exec(&all))
    };

    // Install: every file with its mode; the timer enabled by the preset, not started.
    dpkg(&["-i", "/var/tmp/ecs-anywhere.deb"]);
    assert_eq!(modes_in(&host, &all_files()), expected_modes());
    assert!(sh(&host, "ecs-anywhere --version").starts_with("ecs-anywhere 0.1.0"));
    assert_eq!(is_enabled(&host, TIMER), "enabled");
    assert_eq!(is_active(&host, TIMER), "inactive");
    assert_eq!(is_active(&host, "ecs-anywhere.service"), "inactive");
    // No man in the test host: the page it names is the one installed.
    let docs = ok(
        "show",
        &host.systemctl(&["show", "-p", "Documentation", "ecs-anywhere.service"]),
    );
    assert!(docs.contains("man:ecs-anywhere(1)"), "{docs}");
    sh(
        &host,
        "gzip -dc /usr/share/man/man1/ecs-anywhere.1.gz | grep -q '^.TH ecs-anywhere 1'",
    );

    // The units as installed: verify (no warnings), and the hardening score.
    let verify = host.exec(&[
        "systemd-analyze",
        "verify",
        "--man=no",
        "/usr/lib/systemd/system/ecs-anywhere.service",
        "/usr/lib/systemd/system/ecs-anywhere.timer",
    ]);
    ok("systemd-analyze verify", &verify);
    let warnings = String::from_utf8_lossy(&verify.stderr);
    assert!(
        warnings.trim().is_empty(),
        "systemd-analyze verify: {warnings}"
    );
    let security = ok(
        "systemd-analyze security",
        &host.exec(&[
            "systemd-analyze",
            "security",
            "--no-pager",
            "ecs-anywhere.service",
        ]),
    );
    let exposure: f64 = security
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for ecs-anywhere.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no overall exposure in\n{security}"));
    eprintln!("systemd-analyze security: ecs-anywhere.service exposure {exposure}");
    assert!(
        exposure <= MAX_EXPOSURE,
        "exposure {exposure} > {MAX_EXPOSURE}:\n{security}"
    );

    // The next boot starts the timer (and nothing ran the service yet: OnBootSec=30s).
    host.reboot();
    assert_eq!(is_active(&host, TIMER), "active");
    let since = |host: &TestHost| {
        let p = [
            "show",
            "-p",
            "ActiveEnterTimestampMonotonic",
            "--value",
            TIMER,
        ];
        ok("show", &host.systemctl(&p))
    };
    let timer_since = since(&host);

    // Upgrade (same version again): nothing restarted, the operator's config kept.
    sh(
        &host,
        "echo 'cluster = \"edited\"' >> /etc/ecs-anywhere/config.toml",
    );
    dpkg(&["-i", "/var/tmp/ecs-anywhere.deb"]);
    assert_eq!(is_enabled(&host, TIMER), "enabled");
    assert_eq!(is_active(&host, TIMER), "active");
    assert_eq!(since(&host), timer_since, "the upgrade restarted the timer");
    assert!(sh(&host, "cat /etc/ecs-anywhere/config.toml").ends_with("cluster = \"edited\""));
    // An upgrade keeps a timer the operator disabled disabled.
    ok("disable", &host.systemctl(&["disable", "--now", TIMER]));
    dpkg(&["-i", "/var/tmp/ecs-anywhere.deb"]);
    assert_eq!(is_enabled(&host, TIMER), "disabled");
    ok("enable", &host.systemctl(&["enable", "--now", TIMER]));

    // Remove: binary, units and timer gone; configuration, registration and state kept.
    write_registration(&host);
    dpkg(&["-r", "ecs-anywhere"]);
    let left = modes_in(&host, &all_files());
    assert_eq!(
        left.keys().cloned().collect::<Vec<_>>(),
        sorted(CONFFILES),
        "only the conffiles stay"
    );
    assert_ne!(is_enabled(&host, TIMER), "enabled");
    assert_eq!(is_active(&host, TIMER), "inactive");
    assert!(!host
        .root()
        .join("etc/systemd/system/timers.target.wants")
        .join(TIMER)
        .exists());
    assert!(sh(&host, "cat /etc/ecs-anywhere/config.toml").ends_with("cluster = \"edited\""));
    assert_registration_untouched(&host, true);

    // Reinstalled after a removal, the timer is enabled again as it was.
    dpkg(&["-i", "/var/tmp/ecs-anywhere.deb"]);
    assert_eq!(is_enabled(&host, TIMER), "enabled");
    assert_eq!(is_active(&host, TIMER), "inactive");
    assert!(!host
        .root()
        .join("var/lib/ecs-anywhere/timer-enabled-before-remove")
        .exists());
    assert_registration_untouched(&host, true);

    // Purge: configuration and the tool's state gone, the agents' registration kept.
    dpkg(&["-P", "ecs-anywhere"]);
    for gone in [
        "/etc/ecs-anywhere",
        "/etc/default/ecs-anywhere",
        "/var/lib/ecs-anywhere",
    ] {
        assert!(
            !host.exec(&["test", "-e", gone]).status.success(),
            "{gone} survived the purge"
        );
    }
    assert_eq!(modes_in(&host, &all_files()), BTreeMap::new());
    assert!(!host.exec(&["dpkg", "-s", "ecs-anywhere"]).status.success());
    assert_registration_untouched(&host, false);
    host.stop().unwrap();
}

#[test]
fn install_sh_verifies_first_installs_enables_and_uninstalls() {
    let p = packages();
    let mut host = TestHost::start("pkg-sh", &[]);
    host.install(&p.tarball, "/tmp/ecs-anywhere.tar.gz", 0o644);
    sh(
        &host,
        "cd /opt && tar -xzf /tmp/ecs-anywhere.tar.gz && mv ecs-anywhere-*-linux dist",
    );
    let install_sh = |args: &str| host.sh(&format!("cd /opt/dist && sh ./install.sh {args}"));
    let nothing_installed = |host: &TestHost| {
        assert_eq!(modes_in(host, &all_files()), BTreeMap::new());
        assert!(!host
            .exec(&["test", "-e", "/etc/ecs-anywhere"])
            .status
            .success());
    };

    // A wrong checksum: one line naming the file, exit non-zero, nothing installed.
    let zeros = "0".repeat(64);
    let refused = install_sh(&format!("--binary ./ecs-anywhere --sha256 {zeros}"));
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr).to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("install.sh: error: checksum mismatch for ./ecs-anywhere: expected 0000"),
        "{err}"
    );
    nothing_installed(&host);
    // A unit that does not match SHA256SUMS: refused before the binary is installed.
    sh(
        &host,
        "cp -a /opt/dist /opt/tampered && echo '# x' >> /opt/tampered/systemd/ecs-anywhere.service",
    );
    let refused =
        host.sh("cd /opt/tampered && sh ./install.sh --binary ./ecs-anywhere --sums SHA256SUMS");
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("checksum mismatch for /opt/tampered/systemd/ecs-anywhere.service"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    nothing_installed(&host);

    // The right checksum: installed, timer enabled but not started.
    ok(
        "install.sh --sums",
        &install_sh("--binary ./ecs-anywhere --sums SHA256SUMS"),
    );
    assert_eq!(modes_in(&host, &all_files()), expected_modes());
    assert_eq!(is_enabled(&host, TIMER), "enabled");
    assert_eq!(is_active(&host, TIMER), "inactive");
    assert!(sh(&host, "ecs-anywhere --version").starts_with("ecs-anywhere 0.1.0"));

    // Again, with --sha256: the same result, the operator's config kept.
    sh(
        &host,
        "echo 'cluster = \"edited\"' >> /etc/ecs-anywhere/config.toml",
    );
    let sum = sh(&host, "sha256sum /opt/dist/ecs-anywhere | cut -d' ' -f1");
    ok(
        "install.sh --sha256",
        &install_sh(&format!("--binary ./ecs-anywhere --sha256 {sum}")),
    );
    assert_eq!(modes_in(&host, &all_files()), expected_modes());
    assert_eq!(is_enabled(&host, TIMER), "enabled");
    assert_eq!(is_active(&host, TIMER), "inactive");
    assert!(sh(&host, "cat /etc/ecs-anywhere/config.toml").ends_with("cluster = \"edited\""));

    // Uninstall (twice): files and timer gone, configuration and registration kept.
    write_registration(&host);
    ok("start", &host.systemctl(&["start", TIMER]));
    for _ in 0..2 {
        ok("install.sh --uninstall", &install_sh("--uninstall"));
        let left = modes_in(&host, &all_files());
        assert_eq!(left.keys().cloned().collect::<Vec<_>>(), sorted(CONFFILES));
        assert_ne!(is_enabled(&host, TIMER), "enabled");
        assert_eq!(is_active(&host, TIMER), "inactive");
        assert_registration_untouched(&host, true);
    }
    host.stop().unwrap();
}
