//! `register`, `status` and `deregister` on real test hosts (Debian, systemd as PID 1) with
//! the stand-in SSM and ECS agents, against the emulator. Each assertion looks at the
//! emulator's state, the host's files and the exit code and message.

mod common;

use std::path::Path;

use common::rig::{mtime, unit_started, write, Rig, BIN_IN_HOST};
use common::testhost::TestHost;
use common::{block_on, Emulator, Run};
use serde_json::Value;

#[test]
fn a_fresh_host_registers_is_verified_and_a_rerun_changes_nothing() {
    let mut rig = Rig::new();
    rig.emu.create_cluster("prod");
    let h = rig.host("fresh");
    let act = rig.activation("1", &[]);
    rig.give_activation(h, &act);

    let run = rig.register(h);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(doc["changed"], true);
    let mi = doc["managed_instance_id"].as_str().unwrap().to_string();
    assert!(mi.starts_with("mi-"), "{doc}");
    let arn = doc["container_instance_arn"].as_str().unwrap().to_string();
    let checks = doc["checks"].as_array().unwrap();
    let local = checks.iter().find(|c| c["name"] == "ecs_local").unwrap();
    assert_eq!(local["result"], "pass", "{doc}");

    // AWS agrees: one managed instance, one ACTIVE connected container instance for it.
    let nodes = rig.managed_instances();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].instance_id(), Some(mi.as_str()));
    let cis = rig.container_instances("prod");
    assert_eq!(cis.len(), 1);
    assert_eq!(cis[0].ec2_instance_id(), Some(mi.as_str()));
    assert_eq!(cis[0].container_instance_arn(), Some(arn.as_str()));
    assert_eq!(cis[0].status(), Some("ACTIVE"));

    // The host's files.
    let host = &rig.hosts[h];
    let cfg = std::fs::read_to_string(host.root().join("etc/ecs/ecs.config")).unwrap();
    for line in [
        "ECS_CLUSTER=prod",
        "AWS_DEFAULT_REGION=us-east-1",
        "ECS_EXTERNAL=true",
    ] {
        assert_eq!(
            cfg.lines().filter(|l| *l == line).count(),
            1,
            "{line} in {cfg}"
        );
    }
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(host.root().join("var/lib/ecs-anywhere/state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["phase"], "verified");
    assert_eq!(state["managed_instance_id"], mi.as_str());

    // Re-run: nothing to do, no AWS write, no restart, no file rewritten.
    let files = [
        "/etc/ecs/ecs.config",
        "/var/lib/ecs-anywhere/state.json",
        "/var/lib/amazon/ssm/registration",
    ];
    let before: Vec<_> = files.iter().map(|f| mtime(host, f)).collect();
    let ecs_before = unit_started(host, "ecs.service");
    let ssm_before = unit_started(host, "amazon-ssm-agent.service");
    let ledger_before = rig.emu.ledger().len();
    let again = rig.register(h);
    again.assert_code(0);
    assert_eq!(again.json()["changed"], false, "{again:?}");
    assert_eq!(again.json()["actions"], serde_json::json!([]));
    let after: Vec<_> = files.iter().map(|f| mtime(host, f)).collect();
    assert_eq!(before, after, "a file was rewritten");
    assert_eq!(
        ecs_before,
        unit_started(host, "ecs.service"),
        "ecs restarted"
    );
    assert_eq!(
        ssm_before,
        unit_started(host, "amazon-ssm-agent.service"),
        "ssm agent restarted"
    );
    let new_calls = rig.emu.ledger()[ledger_before..].to_vec();
    let our_writes: Vec<_> = new_calls
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
        .collect();
    assert!(our_writes.is_empty(), "re-run wrote: {our_writes:?}");
    assert_eq!(rig.managed_instances().len(), 1);

    // status agrees, and exits 0.
    let status = rig.run(h, &["status", "--output", "json"]);
    status.assert_code(0);
    assert_eq!(status.json()["healthy"], true);
}

#[test]
fn hosts_share_a_fleet_activation_and_the_one_past_the_limit_is_refused_untouched() {
    let mut rig = Rig::new();
    rig.emu.create_cluster("prod");
    let act = rig.activation("2", &[]);
    let mut ids = Vec::new();
    for name in ["fleet-a", "fleet-b", "fleet-c"] {
        let h = rig.host(name);
        rig.give_activation(h, &act);
    }
    for h in 0..2 {
        let run = rig.register(h);
        run.assert_code(0);
        ids.push(
            run.json()["managed_instance_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_ne!(ids[0], ids[1]);
    let third = rig.register(2);
    third.assert_code(4);
    let line = third.error_line();
    assert!(
        line.contains("RegistrationLimitExceeded") && line.contains("nothing was changed"),
        "{line}"
    );
    let root = rig.hosts[2].root();
    for f in [
        "var/lib/amazon/ssm/registration",
        "etc/ecs/ecs.config",
        "var/lib/ecs-anywhere/state.json",
    ] {
        assert!(!root.join(f).exists(), "{f} was written on a refused host");
    }
    assert_eq!(rig.managed_instances().len(), 2);
    assert_eq!(rig.container_instances("prod").len(), 2);
}

#[test]
fn unusable_activations_exit_4_and_leave_the_host_untouched() {
    let mut rig = Rig::new();
    rig.emu.create_cluster("prod");
    let h = rig.host("badact");
    let good = rig.activation("1", &["--expires-in", "1h"]);

    let mut wrong = good.clone();
    wrong["activation_code"] = Value::String("WRONGWRONGWRONGWRONG1".into());
    rig.give_activation(h, &wrong);
    let run = rig.register(h);
    run.assert_code(4);
    assert!(run.error_line().contains("InvalidActivation"), "{run:?}");
    assert!(
        !run.stderr.contains("WRONGWRONG"),
        "the code reached stderr"
    );

    rig.emu.advance_clock(2 * 3600);
    rig.give_activation(h, &good);
    let run = rig.register(h);
    run.assert_code(4);
    assert!(run.error_line().contains("ActivationExpired"), "{run:?}");
    assert!(!run
        .stderr
        .contains(good["activation_code"].as_str().unwrap()));

    let root = rig.hosts[h].root();
    for f in [
        "var/lib/amazon/ssm/registration",
        "etc/ecs/ecs.config",
        "var/lib/ecs-anywhere/state.json",
    ] {
        assert!(!root.join(f).exists(), "{f} was written");
    }
    assert!(rig.managed_instances().is_empty());
}

#[test]
fn without_an_activation_admin_credentials_mint_one_and_delete_it() {
    let mut rig = Rig::new();
    rig.emu.create_cluster("prod");
    let h = rig.host("mint");
    let endpoint = rig.endpoint();
    let run = rig.run_admin(
        h,
        &[
            "register",
            "--cluster",
            "prod",
            "--ecs-endpoint",
            &endpoint,
            "--wait",
            "90s",
            "--output",
            "json",
            "--attribute",
            "rack=4",
            "--container-instance-tag",
            "team=core",
        ],
    );
    run.assert_code(0);
    let doc = run.json();
    // The attributes and tags were in ecs.config before the agent first started, so its
    // first (and only) registration carried them.
    let ci = &rig.container_instances("prod")[0];
    assert!(
        ci.attributes()
            .iter()
            .any(|a| a.name() == "rack" && a.value() == Some("4")),
        "{ci:?}"
    );
    let tagged = block_on(
        rig.emu
            .ecs()
            .list_tags_for_resource()
            .resource_arn(ci.container_instance_arn().unwrap())
            .send(),
    )
    .unwrap();
    assert!(tagged
        .tags()
        .iter()
        .any(|t| t.key() == Some("team") && t.value() == Some("core")));
    let checks: Vec<(String, String)> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().into(),
                c["result"].as_str().unwrap().into(),
            )
        })
        .collect();
    for name in ["ecs_local", "ecs_remote", "ssm_remote"] {
        assert!(checks.contains(&(name.into(), "pass".into())), "{checks:?}");
    }
    assert_eq!(rig.emu.succeeded("CreateActivation"), 1);
    assert_eq!(rig.emu.succeeded("DeleteActivation"), 1);
    let left = block_on(rig.emu.ssm().describe_activations().send()).unwrap();
    assert!(left.activation_list().is_empty(), "activation left behind");
    assert_eq!(rig.managed_instances().len(), 1);
}

#[test]
fn a_missing_cluster_is_refused_with_the_fix_then_created_on_request() {
    let mut rig = Rig::new();
    let h = rig.host("nocluster");
    let endpoint = rig.endpoint();
    let args = [
        "register",
        "--cluster",
        "prod",
        "--ecs-endpoint",
        &endpoint,
        "--wait",
        "90s",
    ];
    let run = rig.run_admin(h, &args);
    run.assert_code(2);
    assert!(run.error_line().contains("--create-cluster"), "{run:?}");
    assert!(!rig.hosts[h]
        .root()
        .join("var/lib/amazon/ssm/registration")
        .exists());
    let mut with = args.to_vec();
    with.push("--create-cluster");
    rig.run_admin(h, &with).assert_code(0);
    assert_eq!(rig.container_instances("prod").len(), 1);
}

#[test]
fn restricted_credentials_cannot_mint_and_say_which_action() {
    let mut rig = Rig::new();
    rig.emu.create_cluster("prod");
    let h = rig.host("restricted");
    let keys = rig.emu.restricted.clone();
    let endpoint = rig.endpoint();
    let run = rig.run_env(
        h,
        &[
            ("AWS_ACCESS_KEY_ID", &keys.0),
            ("AWS_SECRET_ACCESS_KEY", &keys.1),
        ],
        &["register", "--cluster", "prod", "--ecs-endpoint", &endpoint],
    );
    run.assert_code(3);
    assert!(run.error_line().contains("iam:"), "{run:?}");
    assert!(!rig.hosts[h]
        .root()
        .join("var/lib/amazon/ssm/registration")
        .exists());
}

#[test]
fn status_sees_remote_deregistration_and_a_stopped_agent_and_deregister_cleans_up() {
    let mut rig = Rig::new();
    rig.emu.create_cluster("prod");
    let h = rig.host("lifecycle");
    let act = rig.activation("1", &[]);
    rig.give_activation(h, &act);
    rig.register(h).assert_code(0);
    let mi = rig.managed_instances()[0]
        .instance_id()
        .unwrap()
        .to_string();

    // A stopped ECS agent.
    let stop = rig.hosts[h].systemctl(&["stop", "ecs.service"]);
    assert!(stop.status.success());
    let status = rig.run(h, &["status", "--output", "json"]);
    status.assert_code(5);
    let checks = status.json()["checks"].clone();
    let failed: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] == "fail")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        failed.contains(&"ecs_service") && failed.contains(&"ecs_local"),
        "{failed:?}"
    );
    rig.hosts[h].systemctl(&["start", "ecs.service"]);

    // Deregistered remotely: the admin's view sees it.
    block_on(
        rig.emu
            .ssm()
            .deregister_managed_instance()
            .instance_id(&mi)
            .send(),
    )
    .unwrap();
    let status = rig.run_admin(h, &["status", "--output", "json"]);
    status.assert_code(5);
    assert!(status.stdout.contains("deregistered"), "{status:?}");

    // deregister leaves nothing behind, and a second run has nothing to do.
    let run = rig.run_admin(h, &["deregister", "--output", "json"]);
    run.assert_code(0);
    assert_eq!(run.json()["changed"], true);
    let root = rig.hosts[h].root();
    for f in [
        "var/lib/amazon/ssm/registration",
        "var/lib/amazon/ssm/Vault/Store/RegistrationKey",
        "var/lib/ecs/data/agent.db",
        "var/lib/ecs-anywhere/state.json",
        "root/.aws/credentials",
    ] {
        assert!(!root.join(f).exists(), "{f} left behind");
    }
    let cfg = std::fs::read_to_string(root.join("etc/ecs/ecs.config")).unwrap_or_default();
    assert!(!cfg.contains("ECS_CLUSTER"), "{cfg}");
    let cis = rig.container_instances("prod");
    assert!(
        cis.iter().all(|c| c.status() == Some("INACTIVE")),
        "{cis:?}"
    );
    let ssm = rig.hosts[h].systemctl(&["is-active", "amazon-ssm-agent.service"]);
    assert_eq!(String::from_utf8_lossy(&ssm.stdout).trim(), "inactive");
    let again = rig.run_admin(h, &["deregister", "--output", "json"]);
    again.assert_code(0);
    assert_eq!(again.json()["changed"], false);
}

#[test]
fn register_killed_at_any_step_then_rerun_leaves_exactly_one_identity() {
    let mut rig = Rig::new();
    let endpoint = rig.endpoint();
    let keys = rig.emu.admin.clone();
    let env = [
        ("AWS_ACCESS_KEY_ID", keys.0.as_str()),
        ("AWS_SECRET_ACCESS_KEY", keys.1.as_str()),
    ];
    let args = [
        "register",
        "--cluster",
        "prod",
        "--ecs-endpoint",
        &endpoint,
        "--wait",
        "90s",
        "--output",
        "json",
    ];
    // Every AWS call takes 300 ms, and the kill comes right after the emulator has answered
    // the named call: one round per step of the flow (role, activation, SSM registration,
    // ECS registration, activation deletion, verification).
    let mut phases = std::collections::BTreeSet::new();
    let kill_points = [
        "CreateRole",
        "CreateActivation",
        "RegisterManagedInstance",
        "RegisterContainerInstance",
        "DeleteActivation",
        "ListContainerInstances",
    ];
    for (round, kill_after) in kill_points.into_iter().enumerate() {
        rig.emu.post("/_emulator/reset", serde_json::json!({}));
        rig.emu.create_cluster("prod");
        rig.emu.faults(serde_json::json!([{ "latency_ms": 300 }]));
        let h = rig.host(&format!("kill{round}"));
        let host = &rig.hosts[h];
        let mut argv = vec![BIN_IN_HOST];
        argv.extend_from_slice(&args);
        let mut cmd = std::process::Command::new(common::testhost::script());
        cmd.args(["exec", host.name()]);
        for (k, v) in env.iter().chain(
            [
                ("AWS_ENDPOINT_URL", endpoint.as_str()),
                ("AWS_REGION", "us-east-1"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ]
            .iter(),
        ) {
            cmd.arg("--env").arg(format!("{k}={v}"));
        }
        let mut child = cmd
            .arg("--")
            .args(&argv)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while rig.emu.calls(kill_after).is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "round {round}: {kill_after} never came"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        host.exec(&[
            "pkill",
            "-KILL",
            "-f",
            "^/usr/local/bin/ecs-anywhere register",
        ]);
        let _ = child.wait();
        let killed_in =
            std::fs::read_to_string(rig.hosts[h].root().join("var/lib/ecs-anywhere/state.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .map(|s| s["phase"].as_str().unwrap_or("").to_string())
                .unwrap_or_else(|| "no state yet".into());
        eprintln!("round {round}: killed after {kill_after} in phase {killed_in}");
        phases.insert(killed_in);

        rig.emu.faults(serde_json::json!([]));
        let run = rig.run_env(h, &env, &args);
        run.assert_code(0);
        let mi = run.json()["managed_instance_id"]
            .as_str()
            .unwrap()
            .to_string();
        let nodes = rig.managed_instances();
        assert_eq!(
            nodes.len(),
            1,
            "round {round} (killed after {kill_after}): {nodes:?}"
        );
        assert_eq!(nodes[0].instance_id(), Some(mi.as_str()));
        let active: Vec<_> = rig
            .container_instances("prod")
            .into_iter()
            .filter(|c| c.status() == Some("ACTIVE"))
            .collect();
        assert_eq!(active.len(), 1, "round {round}: {active:?}");
        assert_eq!(active[0].ec2_instance_id(), Some(mi.as_str()));
        let left = block_on(rig.emu.ssm().describe_activations().send()).unwrap();
        assert!(
            left.activation_list().is_empty(),
            "round {round}: activation left: {:?}",
            left.activation_list()
        );
        let state: Value = serde_json::from_str(
            &std::fs::read_to_string(rig.hosts[h].root().join("var/lib/ecs-anywhere/state.json"))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(state["phase"], "verified", "round {round}");
        assert_eq!(state["pending_activation"], Value::Null);
        // Stop this round's host before the next one.
        rig.hosts.pop();
    }
    // The kills really landed in different steps of the lifecycle.
    assert!(
        phases.len() >= 3,
        "kills landed in too few phases: {phases:?}"
    );
}

#[test]
fn a_host_in_another_cluster_moves_only_when_asked() {
    let mut rig = Rig::new();
    rig.emu.create_cluster("prod");
    rig.emu.create_cluster("dev");
    let h = rig.host("mover");
    let act = rig.activation("1", &[]);
    rig.give_activation(h, &act);
    rig.register(h).assert_code(0);
    let old = rig.container_instances("prod");
    assert_eq!(old.len(), 1);

    let endpoint = rig.endpoint();
    let args = [
        "register",
        "--cluster",
        "dev",
        "--activation-file",
        "/root/activation.json",
        "--ecs-endpoint",
        &endpoint,
        "--wait",
        "90s",
        "--output",
        "json",
    ];
    let refused = rig.run_admin(h, &args);
    refused.assert_code(2);
    assert!(
        refused.error_line().contains("--move-cluster"),
        "{refused:?}"
    );
    let cfg = std::fs::read_to_string(rig.hosts[h].root().join("etc/ecs/ecs.config")).unwrap();
    assert!(
        cfg.contains("ECS_CLUSTER=prod"),
        "a refused move changed the config"
    );

    let mut moving = args.to_vec();
    moving.push("--move-cluster");
    let run = rig.run_admin(h, &moving);
    run.assert_code(0);
    let mi = run.json()["managed_instance_id"]
        .as_str()
        .unwrap()
        .to_string();
    let dev = rig.container_instances("dev");
    assert_eq!(dev.len(), 1);
    assert_eq!(dev[0].ec2_instance_id(), Some(mi.as_str()));
    let prod = rig.container_instances("prod");
    assert!(
        prod.iter().all(|c| c.status() == Some("INACTIVE")),
        "{prod:?}"
    );
    assert_eq!(
        rig.managed_instances().len(),
        1,
        "a move must keep the SSM identity"
    );
}

#[test]
fn unsupported_hosts_exit_6_with_the_reason() {
    let mut rig = Rig::new();
    rig.emu.create_cluster("prod");
    let act = rig.activation("1", &[]);
    // A host without the agents.
    let bare = TestHost::start("bare", &[rig.emu.port()]);
    bare.install(
        Path::new(env!("CARGO_BIN_EXE_ecs-anywhere")),
        BIN_IN_HOST,
        0o755,
    );
    rig.hosts.push(bare);
    rig.give_activation(0, &act);
    let run = rig.register(0);
    run.assert_code(6);
    assert!(
        run.error_line()
            .contains("amazon-ssm-agent is not installed"),
        "{run:?}"
    );

    // Not root.
    let h = rig.host("notroot");
    rig.give_activation(h, &act);
    let mut argv = vec!["runuser", "-u", "nobody", "--", BIN_IN_HOST];
    let args = rig.register_args();
    argv.extend(args.iter().map(String::as_str));
    let out = rig.hosts[h].exec(&argv);
    assert_eq!(out.status.code(), Some(6), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("must run as root"));
    assert!(rig.managed_instances().is_empty());
}

#[test]
fn no_systemd_exits_6() {
    let emu = Emulator::start();
    let code = emu.root().join("code");
    std::fs::write(&code, "abcdefghijklmnopqrstuv\n").unwrap();
    let run = emu.cli().run(&[
        "register",
        "--cluster",
        "prod",
        "--activation-id",
        "1b2c3d4e-0000-1111-2222-333344445555",
        "--activation-code-file",
        code.to_str().unwrap(),
    ]);
    run.assert_code(6);
    assert!(!run.stderr.contains("abcdefghijklmnopqrstuv"));
    assert!(emu.ledger().is_empty());
}

#[test]
fn preflight_reports_pass_warn_and_fail_per_check() {
    let mut rig = Rig::new();
    let h = rig.host("preflight");
    let results = |run: &Run| -> Vec<(String, String)> {
        run.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["result"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let run = rig.run(h, &["preflight", "--output", "json"]);
    run.assert_code(0);
    let got = results(&run);
    for (name, want) in [
        ("root", "pass"),
        ("systemd", "pass"),
        ("architecture", "pass"),
        ("os", "pass"),
        ("ssm_agent", "pass"),
        ("ecs_agent", "pass"),
        ("docker", "warn"),
        ("credentials", "pass"),
        ("ssm_endpoint", "pass"),
        ("ecs_endpoint", "pass"),
        ("clock", "pass"),
    ] {
        assert!(
            got.contains(&(name.to_string(), want.to_string())),
            "{name} {want}: {got:?}"
        );
    }
    write(
        &rig.hosts[h],
        "/etc/ecs/ecs.config",
        "AWS_ACCESS_KEY_ID=AKIAEXAMPLE\nAWS_SECRET_ACCESS_KEY=x\n",
    );
    rig.hosts[h].cut();
    let run = rig.run(h, &["preflight", "--output", "json"]);
    run.assert_code(6);
    let got = results(&run);
    for name in ["credentials", "ssm_endpoint", "ecs_endpoint"] {
        assert!(
            got.contains(&(name.to_string(), "fail".to_string())),
            "{name}: {got:?}"
        );
    }
    assert!(run.error_line().contains("AWS_ACCESS_KEY_ID"), "{run:?}");
}

#[test]
fn a_terminal_ecs_agent_error_fails_verification_with_the_hint() {
    let mut rig = Rig::new();
    // No cluster, and no credentials on the host to check for it first: the agent finds out.
    let h = rig.host("terminal");
    let act = rig.activation("1", &[]);
    rig.give_activation(h, &act);
    let mut args = rig.register_args();
    let wait = args.iter().position(|a| a == "--wait").unwrap();
    args[wait + 1] = "8s".into();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = rig.run(h, &argv);
    run.assert_code(5);
    let line = run.error_line();
    assert!(
        line.contains("ecs_local") && line.contains("exit 5"),
        "{line}"
    );
    assert!(run.json()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "ecs_local" && c["result"] == "fail"));
}

#[test]
fn deregister_with_only_the_nodes_credentials_does_what_they_allow_and_says_what_not() {
    let mut rig = Rig::new();
    rig.emu.create_cluster("prod");
    let h = rig.host("nodederegister");
    let act = rig.activation("1", &[]);
    rig.give_activation(h, &act);
    rig.register(h).assert_code(0);
    let dry = rig.run(h, &["deregister", "--dry-run", "--output", "json"]);
    dry.assert_code(0);
    assert!(!dry.json()["actions"].as_array().unwrap().is_empty());
    assert!(
        rig.hosts[h]
            .root()
            .join("var/lib/amazon/ssm/registration")
            .exists(),
        "dry-run changed the host"
    );
    let run = rig.run(h, &["deregister", "--output", "json"]);
    run.assert_code(0);
    let doc = run.json();
    // The managed policies let the node deregister its container instance, not itself.
    let cis = rig.container_instances("prod");
    assert!(
        cis.iter().all(|c| c.status() == Some("INACTIVE")),
        "{cis:?}"
    );
    assert!(
        doc["skipped"].to_string().contains("managed instance"),
        "{doc}"
    );
    assert!(!rig.hosts[h]
        .root()
        .join("var/lib/amazon/ssm/registration")
        .exists());
}
