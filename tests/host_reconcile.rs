//! `reconcile` on test hosts: a healthy host is left alone, and each kind of drift is healed.
//! Every scenario asserts the emulator's state and the host's files, not only exit codes.

mod common;

use common::rig::{unit_started, write, Rig, STALE};
use common::{block_on, Run};
use serde_json::Value;

/// A host configured the way an operator would for systemd mode: a config file naming the
/// cluster and a fleet activation file, registered by a first reconcile.
fn configured(rig: &mut Rig, limit: &str) -> usize {
    rig.emu.create_cluster("prod");
    rig.emu.create_cluster("dev");
    let h = rig.host("reconcile");
    let act = rig.activation(limit, &[]);
    let doc = serde_json::json!({
        "activation_id": act["activation_id"],
        "activation_code": act["activation_code"],
        "region": "us-east-1",
    });
    write(
        &rig.hosts[h],
        "/etc/ecs-anywhere/activation.json",
        &doc.to_string(),
    );
    write(&rig.hosts[h], "/etc/ecs-anywhere/config.toml", &format!(
        "region = \"us-east-1\"\ncluster = \"prod\"\n[host]\nactivation_file = \"/etc/ecs-anywhere/activation.json\"\necs_endpoint = \"{}\"\nwait = \"90s\"\n",
        rig.endpoint()
    ));
    let first = reconcile(rig, h);
    first.assert_code(0);
    assert_eq!(first.json()["changed"], true);
    h
}

fn reconcile(rig: &Rig, h: usize) -> Run {
    rig.run(h, &["reconcile", "--output", "json", "--deadline", "180s"])
}

#[test]
fn a_healthy_host_is_left_alone() {
    let mut rig = Rig::new();
    let h = configured(&mut rig, "1");
    let ecs = unit_started(&rig.hosts[h], "ecs.service");
    let ledger = rig.emu.ledger().len();
    let run = reconcile(&rig, h);
    run.assert_code(0);
    assert_eq!(run.json()["changed"], false, "{run:?}");
    assert_eq!(run.json()["decisions"], serde_json::json!([]));
    assert_eq!(ecs, unit_started(&rig.hosts[h], "ecs.service"));
    let ours: Vec<Value> = rig.emu.ledger()[ledger..]
        .iter()
        .filter(|e| common::is_write(e))
        .filter(|e| {
            ![
                "UpdateInstanceInformation",
                "DiscoverPollEndpoint",
                "RequestManagedInstanceRoleToken",
            ]
            .contains(&e["operation"].as_str().unwrap())
        })
        .cloned()
        .collect();
    assert!(ours.is_empty(), "{ours:?}");
}

#[test]
fn a_stopped_agent_is_started_and_config_drift_is_rewritten() {
    let mut rig = Rig::new();
    let h = configured(&mut rig, "1");
    rig.hosts[h].systemctl(&["stop", "ecs.service"]);
    let run = reconcile(&rig, h);
    run.assert_code(0);
    assert!(
        run.json()["actions"]
            .to_string()
            .contains("start ecs.service"),
        "{run:?}"
    );
    let active = rig.hosts[h].systemctl(&["is-active", "ecs.service"]);
    assert_eq!(String::from_utf8_lossy(&active.stdout).trim(), "active");

    // Someone edits ecs.config: the external flag and the region drift.
    let path = rig.hosts[h].root().join("etc/ecs/ecs.config");
    let cfg = std::fs::read_to_string(&path)
        .unwrap()
        .replace("ECS_EXTERNAL=true", "ECS_EXTERNAL=false")
        .replace(
            "AWS_DEFAULT_REGION=us-east-1",
            "AWS_DEFAULT_REGION=eu-west-1",
        );
    std::fs::write(&path, format!("{cfg}ECS_LOGLEVEL=debug\n")).unwrap();
    let before = unit_started(&rig.hosts[h], "ecs.service");
    let run = reconcile(&rig, h);
    run.assert_code(0);
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(
        after.contains("ECS_EXTERNAL=true") && after.contains("AWS_DEFAULT_REGION=us-east-1"),
        "{after}"
    );
    assert!(
        after.contains("ECS_LOGLEVEL=debug"),
        "the operator's line was lost: {after}"
    );
    assert_ne!(
        before,
        unit_started(&rig.hosts[h], "ecs.service"),
        "ecs was not restarted"
    );
    assert_eq!(rig.active_in("prod").len(), 1);
}

#[test]
fn a_remotely_deregistered_identity_is_replaced_and_membership_restored() {
    let mut rig = Rig::new();
    let h = configured(&mut rig, "2");
    let old_mi = rig.mi_of(h).unwrap();
    let old_arn = rig.active_in("prod")[0]
        .container_instance_arn()
        .unwrap()
        .to_string();
    block_on(
        rig.emu
            .ssm()
            .deregister_managed_instance()
            .instance_id(&old_mi)
            .send(),
    )
    .unwrap();
    // The SSM agent notices at its next ping and hibernates.
    std::thread::sleep(std::time::Duration::from_secs(4));
    let run = reconcile(&rig, h);
    run.assert_code(0);
    let doc = run.json();
    assert!(
        doc["decisions"][0]
            .as_str()
            .unwrap()
            .contains("register again"),
        "{doc}"
    );
    let new_mi = rig.mi_of(h).unwrap();
    assert_ne!(new_mi, old_mi);
    assert_eq!(doc["managed_instance_id"], new_mi.as_str());
    let nodes = rig.managed_instances();
    assert_eq!(nodes.len(), 1, "{nodes:?}");
    assert_eq!(nodes[0].instance_id(), Some(new_mi.as_str()));
    let active = rig.active_in("prod");
    assert_eq!(active.len(), 1, "{active:?}");
    assert_eq!(active[0].ec2_instance_id(), Some(new_mi.as_str()));
    assert_eq!(
        rig.container_instance_status("prod", &old_arn).as_deref(),
        Some("INACTIVE"),
        "the stale container instance is still there"
    );
    rig.run(h, &["status"]).assert_code(0);
}

#[test]
fn without_a_usable_activation_a_lost_identity_exits_4_with_the_fix() {
    let mut rig = Rig::new();
    let h = configured(&mut rig, "1");
    let mi = rig.mi_of(h).unwrap();
    block_on(
        rig.emu
            .ssm()
            .deregister_managed_instance()
            .instance_id(&mi)
            .send(),
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(4));
    let run = reconcile(&rig, h);
    run.assert_code(4);
    let line = run.error_line();
    assert!(
        line.contains("RegistrationLimitExceeded") && line.contains("activation create"),
        "{line}"
    );
}

#[test]
fn stale_credentials_restart_the_ssm_agent() {
    let mut rig = Rig::new();
    let h = configured(&mut rig, "1");
    let host = &rig.hosts[h];
    // The agent is alive but stuck, and its credentials ran out while the host was offline.
    let p = rig.make_credentials_stale(h);
    rig.run(h, &["status"]).assert_code(5);
    let before = unit_started(host, "amazon-ssm-agent.service");
    let run = reconcile(&rig, h);
    run.assert_code(0);
    assert!(
        run.json()["decisions"]
            .to_string()
            .contains("restart the SSM agent"),
        "{run:?}"
    );
    assert_ne!(before, unit_started(host, "amazon-ssm-agent.service"));
    let ic: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    assert_ne!(ic["CredentialsExpiresAt"], STALE);
    rig.run(h, &["status"]).assert_code(0);
    assert_eq!(rig.managed_instances().len(), 1);
}

#[test]
fn a_deregistered_container_instance_registers_again() {
    let mut rig = Rig::new();
    let h = configured(&mut rig, "1");
    let mi = rig.mi_of(h).unwrap();
    let arn = rig.active_in("prod")[0]
        .container_instance_arn()
        .unwrap()
        .to_string();
    block_on(
        rig.emu
            .ecs()
            .deregister_container_instance()
            .cluster("prod")
            .container_instance(&arn)
            .force(true)
            .send(),
    )
    .unwrap();
    // The agent finds out when it restarts with its saved ARN, and stops (exit 5).
    rig.hosts[h].systemctl(&["restart", "ecs.service"]);
    std::thread::sleep(std::time::Duration::from_secs(3));
    let run = reconcile(&rig, h);
    run.assert_code(0);
    assert!(
        run.json()["decisions"]
            .to_string()
            .contains("reset the ECS agent"),
        "{run:?}"
    );
    let active = rig.active_in("prod");
    assert_eq!(active.len(), 1);
    assert_ne!(active[0].container_instance_arn(), Some(arn.as_str()));
    assert_eq!(active[0].ec2_instance_id(), Some(mi.as_str()));
    assert_eq!(
        rig.managed_instances().len(),
        1,
        "the identity was fine and must be kept"
    );
}

#[test]
fn a_cluster_changed_in_the_config_is_handled_as_the_config_says() {
    let mut rig = Rig::new();
    let h = configured(&mut rig, "1");
    let cfg_path = rig.hosts[h].root().join("etc/ecs-anywhere/config.toml");
    let cfg = std::fs::read_to_string(&cfg_path)
        .unwrap()
        .replace("cluster = \"prod\"", "cluster = \"dev\"");
    std::fs::write(&cfg_path, &cfg).unwrap();
    let run = reconcile(&rig, h);
    run.assert_code(2);
    assert!(run.error_line().contains("move"), "{run:?}");
    assert_eq!(rig.active_in("prod").len(), 1);
    std::fs::write(&cfg_path, format!("{cfg}move_cluster = true\n")).unwrap();
    let run = reconcile(&rig, h);
    run.assert_code(0);
    assert_eq!(rig.active_in("dev").len(), 1);
    assert!(rig.active_in("prod").is_empty());
    assert_eq!(rig.managed_instances().len(), 1);
}
