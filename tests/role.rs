//! `role ensure` and `role show` against the emulator: creation, every kind of drift made
//! by another client, the read-only second run, dry-run, permissions and faults.

mod common;

use common::{block_on, writes, Emulator, ACCOUNT};
use serde_json::{json, Value};

const SSM_CORE: &str = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";
const EC2_ROLE: &str = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role";

fn trust_of(emu: &Emulator, role: &str) -> Value {
    let out = block_on(emu.iam().get_role().role_name(role).send()).unwrap();
    let raw = out
        .role()
        .unwrap()
        .assume_role_policy_document()
        .unwrap()
        .to_string();
    let decoded = urlencoding::decode(&raw).unwrap().into_owned();
    serde_json::from_str(&decoded).unwrap()
}

fn attached(emu: &Emulator, role: &str) -> Vec<String> {
    let out = block_on(
        emu.iam()
            .list_attached_role_policies()
            .role_name(role)
            .send(),
    )
    .unwrap();
    out.attached_policies()
        .iter()
        .map(|p| p.policy_arn().unwrap().to_string())
        .collect()
}

/// The statement that trusts `principal`, asserting the confused-deputy conditions.
fn assert_trusts(doc: &Value, principal: &str, source_arn: &str) {
    let stmts = doc["Statement"].as_array().expect("statement list");
    let s = stmts
        .iter()
        .find(|s| s["Principal"]["Service"] == json!(principal))
        .unwrap_or_else(|| panic!("no statement for {principal}: {doc}"));
    assert_eq!(s["Effect"], "Allow");
    assert_eq!(s["Action"], "sts:AssumeRole");
    assert_eq!(s["Condition"]["StringEquals"]["aws:SourceAccount"], ACCOUNT);
    assert_eq!(
        s["Condition"]["ArnLike"]["aws:SourceArn"],
        json!(source_arn)
    );
}

#[test]
fn creates_the_role_from_nothing_then_second_run_only_reads() {
    let emu = Emulator::start();
    let run = emu.cli().run(&["role", "ensure", "--output", "json"]);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(doc["changed"], true);
    assert_eq!(doc["actions"].as_array().unwrap().len(), 3, "{doc}");
    assert_eq!(
        doc["roles"][0]["arn"],
        format!("arn:aws:iam::{ACCOUNT}:role/ecsAnywhereRole")
    );

    assert_trusts(
        &trust_of(&emu, "ecsAnywhereRole"),
        "ssm.amazonaws.com",
        &format!("arn:aws:ssm:us-east-1:{ACCOUNT}:*"),
    );
    let mut policies = attached(&emu, "ecsAnywhereRole");
    policies.sort();
    assert_eq!(policies, [SSM_CORE, EC2_ROLE]);
    let tags = block_on(
        emu.iam()
            .list_role_tags()
            .role_name("ecsAnywhereRole")
            .send(),
    )
    .unwrap();
    assert!(tags
        .tags()
        .iter()
        .any(|t| t.key() == "ecs-anywhere:managed" && t.value() == "true"));

    let before = emu.ledger().len();
    let again = emu.cli().run(&["role", "ensure", "--output", "json"]);
    again.assert_code(0);
    assert_eq!(again.json()["changed"], false);
    assert_eq!(again.json()["actions"], json!([]));
    let calls = emu.ledger()[before..].to_vec();
    assert!(!calls.is_empty());
    assert_eq!(
        writes(&calls),
        Vec::<String>::new(),
        "second run wrote: {calls:?}"
    );
}

#[test]
fn repairs_each_kind_of_trust_drift() {
    let emu = Emulator::start();
    emu.cli().run(&["role", "ensure"]).assert_code(0);
    let iam = emu.iam();
    let region_arn = format!("arn:aws:ssm:us-east-1:{ACCOUNT}:*");
    let drifts = [
        // The right principal, but not allowed to assume the role.
        json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":["ssm.amazonaws.com"]},"Action":"sts:TagSession"}}),
        // The wrong service.
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}),
        // Right principal, no confused-deputy conditions.
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}),
        // Conditions for another account.
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole",
            "Condition":{"StringEquals":{"aws:SourceAccount":"999999999999"},"ArnLike":{"aws:SourceArn":region_arn}}}]}),
    ];
    for drift in drifts {
        block_on(
            iam.update_assume_role_policy()
                .role_name("ecsAnywhereRole")
                .policy_document(drift.to_string())
                .send(),
        )
        .unwrap();
        let show = emu.cli().run(&["role", "show", "--output", "json"]);
        show.assert_code(0);
        assert!(
            !show.json()["roles"][0]["drift"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{drift}"
        );
        let run = emu.cli().run(&["role", "ensure", "--output", "json"]);
        run.assert_code(0);
        assert_eq!(run.json()["changed"], true, "{drift}");
        assert_eq!(
            run.json()["actions"],
            json!(["repair the trust policy of role ecsAnywhereRole"])
        );
        assert_trusts(
            &trust_of(&emu, "ecsAnywhereRole"),
            "ssm.amazonaws.com",
            &region_arn,
        );
    }
    // A statement for another principal survives the repair.
    let wrong = json!({"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]});
    block_on(
        iam.update_assume_role_policy()
            .role_name("ecsAnywhereRole")
            .policy_document(wrong.to_string())
            .send(),
    )
    .unwrap();
    emu.cli().run(&["role", "ensure"]).assert_code(0);
    let doc = trust_of(&emu, "ecsAnywhereRole");
    assert!(doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["Principal"]["Service"] == "ec2.amazonaws.com"));
}

#[test]
fn keeps_other_regions_when_adding_this_one() {
    let emu = Emulator::start();
    emu.cli().run(&["role", "ensure"]).assert_code(0);
    let eu = format!("arn:aws:ssm:eu-west-1:{ACCOUNT}:*");
    let doc = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole",
        "Condition":{"StringEquals":{"aws:SourceAccount":ACCOUNT},"ArnLike":{"aws:SourceArn":eu}}}]});
    block_on(
        emu.iam()
            .update_assume_role_policy()
            .role_name("ecsAnywhereRole")
            .policy_document(doc.to_string())
            .send(),
    )
    .unwrap();
    emu.cli().run(&["role", "ensure"]).assert_code(0);
    let after = trust_of(&emu, "ecsAnywhereRole");
    assert_eq!(
        after["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"],
        json!([eu, format!("arn:aws:ssm:us-east-1:{ACCOUNT}:*")])
    );
}

#[test]
fn reattaches_missing_policies_and_leaves_foreign_ones() {
    let emu = Emulator::start();
    emu.cli().run(&["role", "ensure"]).assert_code(0);
    let iam = emu.iam();
    block_on(
        iam.detach_role_policy()
            .role_name("ecsAnywhereRole")
            .policy_arn(SSM_CORE)
            .send(),
    )
    .unwrap();
    let foreign = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
    block_on(
        iam.attach_role_policy()
            .role_name("ecsAnywhereRole")
            .policy_arn(foreign)
            .send(),
    )
    .unwrap();
    let run = emu.cli().run(&["role", "ensure", "--output", "json"]);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(
        doc["actions"],
        json!([format!("attach {SSM_CORE} to role ecsAnywhereRole")])
    );
    assert_eq!(doc["roles"][0]["foreign_policies"], json!([foreign]));
    let now = attached(&emu, "ecsAnywhereRole");
    assert!(now.contains(&SSM_CORE.to_string()));
    assert!(
        now.contains(&foreign.to_string()),
        "a foreign policy was removed"
    );
}

#[test]
fn minimal_mode_writes_a_scoped_inline_policy_and_repairs_it() {
    let emu = Emulator::start();
    emu.cli()
        .run(&["role", "ensure", "--policy", "minimal", "--cluster", "prod"])
        .assert_code(0);
    assert_eq!(attached(&emu, "ecsAnywhereRole"), [SSM_CORE]);
    let get = || {
        let out = block_on(
            emu.iam()
                .get_role_policy()
                .role_name("ecsAnywhereRole")
                .policy_name("ecs-anywhere-minimal")
                .send(),
        )
        .unwrap();
        let doc = urlencoding::decode(out.policy_document())
            .unwrap()
            .into_owned();
        serde_json::from_str::<Value>(&doc).unwrap()
    };
    let doc = get();
    let text = doc.to_string();
    assert!(
        text.contains(&format!("arn:aws:ecs:*:{ACCOUNT}:cluster/prod")),
        "{text}"
    );
    assert!(text.contains("ecs:RegisterContainerInstance"));
    assert!(!text.contains("ecs:CreateCluster"));

    // Another client widens the policy: it is put back.
    let widened = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*"}]});
    block_on(
        emu.iam()
            .put_role_policy()
            .role_name("ecsAnywhereRole")
            .policy_name("ecs-anywhere-minimal")
            .policy_document(widened.to_string())
            .send(),
    )
    .unwrap();
    let run = emu.cli().run(&[
        "role",
        "ensure",
        "--policy",
        "minimal",
        "--cluster",
        "prod",
        "--output",
        "json",
    ]);
    run.assert_code(0);
    assert_eq!(
        run.json()["actions"],
        json!(["write inline policy ecs-anywhere-minimal on role ecsAnywhereRole"])
    );
    assert_eq!(get(), doc);

    // Switching to managed mode retires our inline policy.
    emu.cli()
        .run(&["role", "ensure", "--policy", "managed"])
        .assert_code(0);
    let names = block_on(
        emu.iam()
            .list_role_policies()
            .role_name("ecsAnywhereRole")
            .send(),
    )
    .unwrap();
    assert!(names.policy_names().is_empty());
    assert_eq!(attached(&emu, "ecsAnywhereRole").len(), 2);
}

#[test]
fn dry_run_and_show_change_nothing() {
    let emu = Emulator::start();
    let run = emu
        .cli()
        .run(&["role", "ensure", "--dry-run", "--output", "json"]);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(doc["changed"], false);
    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["actions"].as_array().unwrap().len(), 3);
    let show = emu.cli().run(&["role", "show"]);
    show.assert_code(0);
    assert!(
        show.stdout.contains("role ecsAnywhereRole does not exist"),
        "{show:?}"
    );
    assert_eq!(writes(&emu.ledger()), Vec::<String>::new());
    assert!(block_on(emu.iam().get_role().role_name("ecsAnywhereRole").send()).is_err());
}

#[test]
fn task_execution_role_on_request() {
    let emu = Emulator::start();
    emu.cli()
        .run(&["role", "ensure", "--with-task-execution-role"])
        .assert_code(0);
    assert_trusts(
        &trust_of(&emu, "ecsTaskExecutionRole"),
        "ecs-tasks.amazonaws.com",
        &format!("arn:aws:ecs:us-east-1:{ACCOUNT}:*"),
    );
    assert_eq!(
        attached(&emu, "ecsTaskExecutionRole"),
        ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"]
    );
}

#[test]
fn restricted_identity_gets_exit_3_naming_the_action() {
    let emu = Emulator::start();
    let run = emu.cli_restricted().run(&["role", "ensure"]);
    run.assert_code(3);
    let line = run.error_line();
    assert!(line.contains("iam:CreateRole"), "{line}");
    assert!(line.contains("role ecsAnywhereRole"), "{line}");
    let ok_writes: Vec<_> = emu
        .ledger()
        .into_iter()
        .filter(|e| common::is_write(e) && e["status"] == 200)
        .collect();
    assert!(ok_writes.is_empty(), "{ok_writes:?}");
    // Reading is allowed, so show works.
    emu.cli_restricted().run(&["role", "show"]).assert_code(0);
}

#[test]
fn survives_throttling_and_server_errors() {
    let emu = Emulator::start();
    emu.faults(json!([
        {"service": "iam", "operation": "GetRole", "error": "Throttling", "status": 400, "count": 2},
        {"service": "iam", "operation": "CreateRole", "error": "ServiceFailure", "status": 500, "count": 1},
        {"service": "sts", "operation": "GetCallerIdentity", "error": "Throttling", "status": 400, "count": 1}
    ]));
    let run = emu.cli().run(&["role", "ensure", "--output", "json"]);
    run.assert_code(0);
    assert_eq!(run.json()["changed"], true);
    let ledger = emu.ledger();
    let faulted = ledger.iter().filter(|e| e["fault"] == true).count();
    assert_eq!(faulted, 4, "{ledger:?}");
    assert_eq!(emu.succeeded("CreateRole"), 1);
}

#[test]
fn persistent_server_errors_exit_1_in_one_line() {
    let emu = Emulator::start();
    emu.faults(json!([{"service": "iam", "operation": "GetRole", "error": "ServiceUnavailable", "status": 503}]));
    // Fewer attempts keep the test short; the setting comes from the host's config file.
    let cfg = emu.root().join("etc/ecs-anywhere/config.toml");
    std::fs::create_dir_all(cfg.parent().unwrap()).unwrap();
    std::fs::write(&cfg, "[aws]\nmax_attempts = 2\n").unwrap();
    let run = emu.cli().run(&["role", "ensure"]);
    run.assert_code(1);
    let attempts = emu.calls("GetRole").len();
    assert_eq!(attempts, 2);
    let line = run.error_line();
    assert!(
        line.contains("iam:GetRole on role ecsAnywhereRole failed"),
        "{line}"
    );
    assert!(line.contains("ServiceUnavailable"), "{line}");
}
