//! `activation create | list | delete | prune` against the emulator, including the IAM
//! propagation wait, bad input refused before any call, and the activation code never
//! reaching stderr.

mod common;

use std::os::unix::fs::MetadataExt;

use common::{block_on, Emulator};
use serde_json::{json, Value};

fn ready(emu: &Emulator) {
    emu.cli().run(&["role", "ensure"]).assert_code(0);
}

fn describe(emu: &Emulator, id: &str) -> aws_sdk_ssm::types::Activation {
    let out = block_on(
        emu.ssm()
            .describe_activations()
            .filters(
                aws_sdk_ssm::types::DescribeActivationsFilter::builder()
                    .filter_key(aws_sdk_ssm::types::DescribeActivationsFilterKeys::ActivationIds)
                    .filter_values(id)
                    .build(),
            )
            .send(),
    )
    .unwrap();
    out.activation_list()
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("activation {id} not found"))
}

fn create(emu: &Emulator, extra: &[&str]) -> Value {
    let mut args = vec!["activation", "create", "--output", "json"];
    args.extend_from_slice(extra);
    let run = emu.cli().run(&args);
    run.assert_code(0);
    run.json()
}

#[test]
fn create_honours_limit_expiry_name_and_tags() {
    let emu = Emulator::start();
    ready(&emu);
    let run = emu.cli().run(&[
        "activation",
        "create",
        "--output",
        "json",
        "-vvv",
        "--registration-limit",
        "25",
        "--expires-in",
        "7d",
        "--instance-name",
        "rack-4",
        "--description",
        "fleet 4",
        "--tag",
        "team=core",
        "--tag",
        "site=ams",
    ]);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(doc["changed"], true);
    let id = doc["activation_id"].as_str().unwrap();
    let code = doc["activation_code"].as_str().unwrap();
    assert!(code.len() >= 20);
    assert!(
        !run.stderr.contains(code),
        "the code reached stderr at -vvv"
    );

    let a = describe(&emu, id);
    assert_eq!(a.iam_role(), Some("ecsAnywhereRole"));
    assert_eq!(a.registration_limit(), Some(25));
    assert_eq!(a.default_instance_name(), Some("rack-4"));
    assert_eq!(a.description(), Some("fleet 4"));
    let expires = a.expiration_date().unwrap().secs();
    let want = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + 7 * 86_400;
    assert!((expires - want).abs() < 120, "expiry {expires} vs {want}");
    let tags: Vec<(String, String)> = a
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    for want in [
        ("team", "core"),
        ("site", "ams"),
        ("ecs-anywhere:managed", "true"),
    ] {
        assert!(
            tags.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} not in {tags:?}"
        );
    }
    // The code it printed really registers a host.
    let (status, mi) = emu.register_node(id, code);
    assert_eq!(status, 200, "{mi}");
    assert!(mi.starts_with("mi-"), "{mi}");
}

#[test]
fn out_file_holds_the_code_with_mode_0600_and_stdout_does_not() {
    let emu = Emulator::start();
    ready(&emu);
    let path = emu.root().join("activation.json");
    let run = emu.cli().run(&[
        "activation",
        "create",
        "-vv",
        "--out",
        path.to_str().unwrap(),
    ]);
    run.assert_code(0);
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let code = file["activation_code"].as_str().unwrap();
    assert_eq!(file["region"], "us-east-1");
    assert!(file["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
    assert!(!run.stdout.contains(code));
    assert!(!run.stderr.contains(code));
    assert!(run.stdout.contains(file["activation_id"].as_str().unwrap()));
    let (status, _) = emu.register_node(file["activation_id"].as_str().unwrap(), code);
    assert_eq!(status, 200);
}

#[test]
fn waits_out_iam_propagation_of_a_new_role() {
    let emu = Emulator::start_with(&["--iam-propagation-delay", "4"]);
    ready(&emu);
    let run = emu.cli().run(&["activation", "create", "--output", "json"]);
    run.assert_code(0);
    assert!(run.stderr.contains("IAM propagation"), "{}", run.stderr);
    let attempts: Vec<Value> = emu.calls("CreateActivation");
    assert!(attempts.len() >= 2, "{attempts:?}");
    assert_eq!(attempts[0]["error"], "ValidationException");
    assert_eq!(attempts.last().unwrap()["status"], 200);
    describe(&emu, run.json()["activation_id"].as_str().unwrap());
}

#[test]
fn gives_up_on_propagation_at_the_deadline() {
    let emu = Emulator::start_with(&["--iam-propagation-delay", "60"]);
    ready(&emu);
    let run = emu
        .cli()
        .run(&["activation", "create", "--propagation-timeout", "3s"]);
    run.assert_code(1);
    assert!(
        run.error_line().contains("activation.propagation_timeout"),
        "{run:?}"
    );
    assert_eq!(emu.succeeded("CreateActivation"), 0);
}

#[test]
fn missing_or_untrusting_role_fails_fast_with_the_fix() {
    let emu = Emulator::start();
    let run = emu.cli().run(&["activation", "create"]);
    run.assert_code(2);
    assert!(
        run.error_line().contains("ecs-anywhere role ensure"),
        "{run:?}"
    );
    block_on(
        emu.iam()
            .create_role()
            .role_name("ec2only")
            .assume_role_policy_document(
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}).to_string(),
            )
            .send(),
    )
    .unwrap();
    let run = emu
        .cli()
        .run(&["activation", "create", "--role-name", "ec2only"]);
    run.assert_code(2);
    assert!(
        run.error_line()
            .contains("does not trust ssm.amazonaws.com"),
        "{run:?}"
    );
    assert!(!emu
        .ledger()
        .iter()
        .any(|e| e["operation"] == "CreateActivation"));
}

#[test]
fn list_delete_and_idempotent_delete() {
    let emu = Emulator::start();
    ready(&emu);
    let id = create(&emu, &[])["activation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let list = emu.cli().run(&["activation", "list", "--output", "json"]);
    list.assert_code(0);
    let items = list.json()["activations"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["registration_limit"], 1);
    assert_eq!(items[0]["registrations"], 0);
    assert_eq!(items[0]["expired"], false);
    assert!(!list.stdout.contains("activation_code"));
    let text = emu.cli().run(&["activation", "list"]);
    assert!(text.stdout.starts_with("ID"), "{text:?}");
    assert!(text.stdout.contains(&id));

    let del = emu
        .cli()
        .run(&["activation", "delete", &id, "--output", "json"]);
    del.assert_code(0);
    assert_eq!(del.json()["changed"], true);
    let list = emu.cli().run(&["activation", "list", "--output", "json"]);
    assert_eq!(list.json()["activations"], json!([]));
    let again = emu
        .cli()
        .run(&["activation", "delete", &id, "--output", "json"]);
    again.assert_code(0);
    assert_eq!(again.json()["changed"], false);
}

#[test]
fn prune_removes_only_our_expired_and_used_up_activations() {
    let emu = Emulator::start();
    ready(&emu);
    let live = create(&emu, &["--expires-in", "30d"]);
    let used = create(&emu, &["--expires-in", "30d"]);
    let expiring = create(&emu, &["--expires-in", "1h"]);
    let (status, _) = emu.register_node(
        used["activation_id"].as_str().unwrap(),
        used["activation_code"].as_str().unwrap(),
    );
    assert_eq!(status, 200);
    // Someone else's activation, also expiring: never ours to delete.
    let foreign = block_on(
        emu.ssm()
            .create_activation()
            .iam_role("ecsAnywhereRole")
            .expiration_date(aws_smithy_types::DateTime::from_secs(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64
                    + 3600,
            ))
            .send(),
    )
    .unwrap();
    emu.advance_clock(2 * 3600);

    let dry = emu
        .cli()
        .run(&["activation", "prune", "--dry-run", "--output", "json"]);
    dry.assert_code(0);
    assert_eq!(
        dry.json()["actions"].as_array().unwrap().len(),
        2,
        "{dry:?}"
    );
    assert!(!emu
        .ledger()
        .iter()
        .any(|e| e["operation"] == "DeleteActivation"));

    let run = emu.cli().run(&["activation", "prune", "--output", "json"]);
    run.assert_code(0);
    let mut pruned: Vec<String> = serde_json::from_value(run.json()["pruned"].clone()).unwrap();
    pruned.sort();
    let mut want = vec![
        used["activation_id"].as_str().unwrap().to_string(),
        expiring["activation_id"].as_str().unwrap().to_string(),
    ];
    want.sort();
    assert_eq!(pruned, want);
    let left = emu
        .cli()
        .run(&["activation", "list", "--output", "json"])
        .json();
    let mut ids: Vec<&str> = left["activations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut expect = vec![
        live["activation_id"].as_str().unwrap(),
        foreign.activation_id().unwrap(),
    ];
    expect.sort();
    assert_eq!(ids, expect);
    let second = emu.cli().run(&["activation", "prune", "--output", "json"]);
    assert_eq!(second.json()["changed"], false);
}

#[test]
fn bad_input_exits_2_before_any_aws_call() {
    let emu = Emulator::start();
    let long = "x".repeat(257);
    let cases: Vec<Vec<&str>> = vec![
        vec!["activation", "create", "--registration-limit", "0"],
        vec!["activation", "create", "--registration-limit", "1001"],
        vec!["activation", "create", "--registration-limit", "many"],
        vec!["activation", "create", "--expires-in", "31d"],
        vec!["activation", "create", "--expires-in", "0s"],
        vec!["activation", "create", "--expires-in", "soon"],
        vec![
            "activation",
            "create",
            "--expires-at",
            "2001-01-01T00:00:00Z",
        ],
        vec!["activation", "create", "--expires-at", "next tuesday"],
        vec![
            "activation",
            "create",
            "--expires-in",
            "1h",
            "--expires-at",
            "2099-01-01T00:00:00Z",
        ],
        vec!["activation", "create", "--tag", "novalue"],
        vec!["activation", "create", "--tag", "aws:reserved=1"],
        vec!["activation", "create", "--instance-name", &long],
        vec!["activation", "create", "--description", &long],
        vec!["activation", "create", "--role-name", "path/role"],
        vec![
            "activation",
            "create",
            "--out",
            "/nonexistent/dir/activation.json",
        ],
        vec!["activation", "delete", "not-a-uuid"],
        vec!["role", "ensure", "--cluster", "bad name"],
        vec!["role", "ensure", "--policy", "wide"],
        vec!["role", "ensure", "--output", "xml"],
        vec!["role", "ensure", "--config", "/nonexistent.toml"],
        vec!["no-such-command"],
    ];
    for args in &cases {
        let run = emu.cli().run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(!run.stderr.trim().is_empty(), "{args:?}: no message");
        assert!(
            run.stderr
                .lines()
                .filter(|l| l.starts_with("error"))
                .count()
                == 1,
            "{args:?}: {run:?}"
        );
    }
    assert_eq!(emu.ledger(), Vec::<Value>::new(), "bad input reached AWS");
}

#[test]
fn restricted_identity_cannot_create_but_can_list() {
    let emu = Emulator::start();
    ready(&emu);
    let run = emu.cli_restricted().run(&["activation", "create"]);
    run.assert_code(3);
    assert!(run.error_line().contains("ssm:CreateActivation"), "{run:?}");
    emu.cli_restricted()
        .run(&["activation", "list"])
        .assert_code(0);
    assert_eq!(emu.succeeded("CreateActivation"), 0);
}

#[test]
fn throttled_create_is_retried_by_the_sdk() {
    let emu = Emulator::start();
    ready(&emu);
    emu.faults(json!([
        {"service": "ssm", "operation": "CreateActivation", "error": "ThrottlingException", "status": 400, "count": 2},
        {"service": "ssm", "operation": "DescribeActivations", "error": "InternalServerError", "status": 500, "count": 1}
    ]));
    let doc = create(&emu, &[]);
    let id = doc["activation_id"].as_str().unwrap();
    let list = emu.cli().run(&["activation", "list", "--output", "json"]);
    list.assert_code(0);
    assert_eq!(list.json()["activations"][0]["id"], id);
    let creates: Vec<_> = emu
        .calls("CreateActivation")
        .iter()
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    assert_eq!(creates, [400, 400, 200]);
}

#[test]
fn the_code_reaches_stdout_once_and_stderr_never_at_any_verbosity() {
    let emu = Emulator::start();
    ready(&emu);
    for v in ["-q", "-v", "-vv", "-vvv"] {
        let run = emu
            .cli()
            .run(&["activation", "create", v, "--output", "json"]);
        run.assert_code(0);
        let code = run.json()["activation_code"].as_str().unwrap().to_string();
        assert!(!run.stderr.contains(&code), "{v}: code on stderr");
        assert_eq!(run.stdout.matches(&code).count(), 1, "{v}");
    }
}
