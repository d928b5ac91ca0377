//! systemd mode, end to end: a test host gets only the .deb and a config file, reboots, and
//! registers by itself from the timer; then each drift is healed by the timer alone. The
//! timer's intervals are shortened by a drop-in, as an operator could.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::block_on;
use common::rig::{wait_until, write, Rig, STALE};
use serde_json::Value;

/// Builds the .deb once per test process from the debug binary.
fn deb() -> PathBuf {
    static DEB: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DEB.get_or_init(|| {
        let out = tempfile::tempdir().unwrap().keep();
        let run = std::process::Command::new(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/package"),
        )
        .args([
            "--binary",
            env!("CARGO_BIN_EXE_ecs-anywhere"),
            "--fast",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
        assert!(
            run.status.success(),
            "scripts/package: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "deb"))
            .expect("a .deb")
    })
    .clone()
}

fn active_in(rig: &Rig, cluster: &str) -> Vec<aws_sdk_ecs::types::ContainerInstance> {
    rig.container_instances(cluster)
        .into_iter()
        .filter(|c| c.status() == Some("ACTIVE") && c.agent_connected())
        .collect()
}

/// A host with the package installed, a config file and an activation file, rebooted.
fn packaged_host(rig: &mut Rig) -> usize {
    rig.emu.create_cluster("prod");
    rig.emu.create_cluster("dev");
    let h = rig.host("systemd");
    let host = &rig.hosts[h];
    host.install(&deb(), "/root/ecs-anywhere.deb", 0o644);
    let out = host.exec(&["dpkg", "-i", "/root/ecs-anywhere.deb"]);
    assert!(out.status.success(), "dpkg -i: {out:?}");
    let act = rig.activation("3", &[]);
    write(host, "/etc/ecs-anywhere/activation.json", &serde_json::json!({
        "activation_id": act["activation_id"], "activation_code": act["activation_code"], "region": "us-east-1",
    }).to_string());
    write(host, "/etc/ecs-anywhere/config.toml", &format!(
        "region = \"us-east-1\"\ncluster = \"prod\"\nendpoint_url = \"{e}\"\n[host]\nactivation_file = \"/etc/ecs-anywhere/activation.json\"\necs_endpoint = \"{e}\"\nwait = \"90s\"\n",
        e = rig.endpoint()
    ));
    write(
        host,
        "/etc/systemd/system/ecs-anywhere.timer.d/test.conf",
        // An empty OnBootSec= clears every time trigger of the timer; then set ours.
        "[Timer]\nOnBootSec=\nOnBootSec=1s\nOnUnitInactiveSec=3s\nRandomizedDelaySec=0\n",
    );
    host.reboot();
    h
}

fn healthy(rig: &Rig, h: usize) -> bool {
    rig.run(h, &["status", "--quiet"]).code == 0
}

#[test]
fn a_packaged_host_registers_at_boot_and_the_timer_heals_every_drift() {
    let mut rig = Rig::new();
    let h = packaged_host(&mut rig);
    let enabled = rig.hosts[h].systemctl(&["is-enabled", "ecs-anywhere.timer"]);
    assert_eq!(String::from_utf8_lossy(&enabled.stdout).trim(), "enabled");
    wait_until(
        "the host registers by itself after boot",
        Duration::from_secs(90),
        || healthy(&rig, h),
    );
    let first = rig.mi_of(h).unwrap();
    assert_eq!(active_in(&rig, "prod").len(), 1);
    let state_path = rig.hosts[h].root().join("var/lib/ecs-anywhere/state.json");
    wait_until(
        "the reconcile run records the host as verified",
        Duration::from_secs(60),
        || {
            std::fs::read_to_string(&state_path)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|s| s["phase"] == "verified")
        },
    );

    // ecs stopped -> started by the timer.
    rig.hosts[h].systemctl(&["stop", "ecs.service"]);
    wait_until("ecs.service started again", Duration::from_secs(60), || {
        String::from_utf8_lossy(&rig.hosts[h].systemctl(&["is-active", "ecs.service"]).stdout)
            .trim()
            == "active"
    });
    let journal = rig.hosts[h].exec(&[
        "journalctl",
        "-u",
        "ecs-anywhere.service",
        "--no-pager",
        "-o",
        "cat",
    ]);
    assert!(String::from_utf8_lossy(&journal.stdout).contains("enable and start ecs.service"));

    // The managed instance deregistered in the emulator -> a new identity, ECS membership
    // restored, the old container instance gone.
    let old_arn = active_in(&rig, "prod")[0]
        .container_instance_arn()
        .unwrap()
        .to_string();
    block_on(
        rig.emu
            .ssm()
            .deregister_managed_instance()
            .instance_id(&first)
            .send(),
    )
    .unwrap();
    wait_until("a new identity", Duration::from_secs(120), || {
        rig.mi_of(h).is_some_and(|m| m != first)
    });
    let second = rig.mi_of(h).unwrap();
    wait_until(
        "membership restored with the new identity",
        Duration::from_secs(90),
        || {
            let a = active_in(&rig, "prod");
            a.len() == 1 && a[0].ec2_instance_id() == Some(second.as_str())
        },
    );
    assert_eq!(
        rig.container_instance_status("prod", &old_arn).as_deref(),
        Some("INACTIVE")
    );
    let nodes = rig.managed_instances();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].instance_id(), Some(second.as_str()));

    // Credentials made stale while the SSM agent is stuck -> the agent is restarted.
    let ic_path = rig.hosts[h]
        .root()
        .join("var/lib/amazon/ssm/runtimeconfig/identity_config.json");
    wait_until("the node credentials", Duration::from_secs(30), || {
        ic_path.exists()
    });
    rig.make_credentials_stale(h);
    wait_until(
        "fresh credentials after the SSM agent restarts",
        Duration::from_secs(90),
        || {
            std::fs::read_to_string(&ic_path)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|v| v["CredentialsExpiresAt"] != STALE)
        },
    );
    assert_eq!(
        rig.mi_of(h).unwrap(),
        second,
        "stale credentials must not cost the identity"
    );

    // The cluster edited in the config, with moves allowed: the host moves.
    let cfg = rig.hosts[h].root().join("etc/ecs-anywhere/config.toml");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("cluster = \"prod\"", "cluster = \"dev\"");
    std::fs::write(&cfg, format!("{text}move_cluster = true\n")).unwrap();
    wait_until("the host in cluster dev", Duration::from_secs(90), || {
        active_in(&rig, "dev").len() == 1
    });
    assert!(active_in(&rig, "prod").is_empty());
    assert_eq!(rig.mi_of(h).unwrap(), second);
}

#[test]
fn a_person_is_needed_for_an_exhausted_activation_and_systemd_does_not_loop() {
    let mut rig = Rig::new();
    rig.emu.create_cluster("prod");
    let h = rig.host("noloop");
    let host = &rig.hosts[h];
    host.install(&deb(), "/root/ecs-anywhere.deb", 0o644);
    assert!(host
        .exec(&["dpkg", "-i", "/root/ecs-anywhere.deb"])
        .status
        .success());
    // An activation someone else already used up.
    let act = rig.activation("1", &[]);
    let (status, _) = rig.emu.register_node(
        act["activation_id"].as_str().unwrap(),
        act["activation_code"].as_str().unwrap(),
    );
    assert_eq!(status, 200);
    write(host, "/etc/ecs-anywhere/activation.json", &serde_json::json!({
        "activation_id": act["activation_id"], "activation_code": act["activation_code"], "region": "us-east-1",
    }).to_string());
    write(host, "/etc/ecs-anywhere/config.toml", &format!(
        "region = \"us-east-1\"\ncluster = \"prod\"\nendpoint_url = \"{e}\"\n[host]\nactivation_file = \"/etc/ecs-anywhere/activation.json\"\necs_endpoint = \"{e}\"\n",
        e = rig.endpoint()
    ));
    host.systemctl(&["daemon-reload"]);
    let run = host.systemctl(&["start", "ecs-anywhere.service"]);
    assert!(!run.status.success());
    std::thread::sleep(Duration::from_secs(3));
    let show = host.systemctl(&[
        "show",
        "ecs-anywhere.service",
        "--property=ExecMainStatus,NRestarts,ActiveState",
    ]);
    let show = String::from_utf8_lossy(&show.stdout).into_owned();
    assert!(show.contains("ExecMainStatus=4"), "{show}");
    assert!(
        show.contains("NRestarts=0"),
        "systemd restarted a failure that needs a person: {show}"
    );
    let journal = host.exec(&[
        "journalctl",
        "-u",
        "ecs-anywhere.service",
        "--no-pager",
        "-o",
        "cat",
    ]);
    let journal = String::from_utf8_lossy(&journal.stdout);
    assert!(
        journal.contains("RegistrationLimitExceeded") && journal.contains("activation create"),
        "{journal}"
    );
    assert!(
        !journal.contains(act["activation_code"].as_str().unwrap()),
        "the code reached the journal"
    );
}
