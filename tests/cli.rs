//! The command line's contract: help and exit codes, configuration precedence (flags >
//! environment > files > defaults), and exactly one JSON document on stdout.

mod common;

use common::Emulator;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ecs-anywhere"))
}

#[test]
fn help_documents_the_exit_codes() {
    let out = bin().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "0  done, or already converged",
        "2  usage or configuration error",
        "3  AWS credentials missing or invalid",
        "4  activation unusable",
        "5  verification failed",
        "6  host not supported",
    ] {
        assert!(text.contains(line), "--help lacks `{line}`");
    }
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for code in 0..=6 {
        assert!(
            readme.contains(&format!("| {code} |")),
            "README lacks exit code {code}"
        );
    }
}

fn role_name_used(emu: &Emulator, cli: common::Cli, args: &[&str]) -> String {
    let mut all = vec!["role", "ensure", "--dry-run", "--output", "json"];
    all.extend_from_slice(args);
    let run = cli.run(&all);
    run.assert_code(0);
    let _ = emu;
    run.json()["roles"][0]["name"].as_str().unwrap().to_string()
}

#[test]
fn flags_beat_environment_beat_files_beat_defaults() {
    let emu = Emulator::start();
    assert_eq!(role_name_used(&emu, emu.cli(), &[]), "ecsAnywhereRole");

    let etc = emu.root().join("etc/ecs-anywhere");
    std::fs::create_dir_all(etc.join("config.d")).unwrap();
    let vendor = emu.root().join("usr/lib/ecs-anywhere/config.d");
    std::fs::create_dir_all(&vendor).unwrap();
    std::fs::write(
        vendor.join("00-package.toml"),
        "[role]\nname = \"vendorRole\"\n",
    )
    .unwrap();
    assert_eq!(role_name_used(&emu, emu.cli(), &[]), "vendorRole");
    std::fs::write(etc.join("config.toml"), "[role]\nname = \"mainRole\"\n").unwrap();
    assert_eq!(role_name_used(&emu, emu.cli(), &[]), "mainRole");
    std::fs::write(
        etc.join("config.d/50-site.toml"),
        "[role]\nname = \"dropinRole\"\n",
    )
    .unwrap();
    assert_eq!(role_name_used(&emu, emu.cli(), &[]), "dropinRole");
    let env = emu.cli().env("ECS_ANYWHERE_ROLE_NAME", "envRole");
    assert_eq!(role_name_used(&emu, env, &[]), "envRole");
    let both = emu.cli().env("ECS_ANYWHERE_ROLE_NAME", "envRole");
    assert_eq!(
        role_name_used(&emu, both, &["--role-name", "flagRole"]),
        "flagRole"
    );

    // The region follows the same order, and the file's output format applies.
    emu.cli().run(&["role", "ensure"]).assert_code(0);
    std::fs::write(
        etc.join("config.d/60-region.toml"),
        "region = \"eu-west-1\"\noutput = \"json\"\n",
    )
    .unwrap();
    let run = emu.cli().run(&["activation", "create", "--dry-run"]);
    run.assert_code(0);
    assert_eq!(run.json()["region"], "eu-west-1");
    let run = emu.cli().env("ECS_ANYWHERE_REGION", "eu-central-1").run(&[
        "activation",
        "create",
        "--dry-run",
    ]);
    assert_eq!(run.json()["region"], "eu-central-1");
    let run = emu.cli().env("ECS_ANYWHERE_REGION", "eu-central-1").run(&[
        "activation",
        "create",
        "--dry-run",
        "--region",
        "ap-south-1",
    ]);
    assert_eq!(run.json()["region"], "ap-south-1");
}

#[test]
fn a_bad_config_file_names_file_line_and_key() {
    let emu = Emulator::start();
    let dir = emu.root().join("etc/ecs-anywhere/config.d");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("10-bad.toml");
    std::fs::write(&file, "[activation]\nregistration_limit = 5000\n").unwrap();
    let run = emu.cli().run(&["role", "show", "--output", "json"]);
    run.assert_code(2);
    let line = run.error_line();
    assert!(line.contains(&file.display().to_string()), "{line}");
    assert!(line.contains("registration_limit = 5000"), "{line}");
    assert!(line.contains("allowed 1 to 1000"), "{line}");
    let doc = run.json();
    assert_eq!(doc["error"]["exit_code"], 2);
    assert_eq!(doc["error"]["kind"], "config");
    std::fs::write(&file, "[role]\nnmae = \"x\"\n").unwrap();
    let run = emu.cli().run(&["role", "show"]);
    run.assert_code(2);
    assert!(run.error_line().contains("unknown field `nmae`"), "{run:?}");
    assert!(emu.ledger().is_empty());
}

#[test]
fn json_output_is_one_document_even_on_failure() {
    let emu = Emulator::start();
    let run = emu
        .cli_restricted()
        .run(&["role", "ensure", "--output", "json"]);
    run.assert_code(3);
    let doc = run.json();
    assert_eq!(doc["error"]["exit_code"], 3);
    assert_eq!(doc["error"]["kind"], "access_denied");
    assert!(doc["error"]["message"]
        .as_str()
        .unwrap()
        .contains("iam:CreateRole"));
    let run = emu.cli().run(&[
        "activation",
        "create",
        "--registration-limit",
        "0",
        "--output",
        "json",
    ]);
    run.assert_code(2);
    assert_eq!(run.json()["error"]["exit_code"], 2);
}

#[test]
fn missing_credentials_and_region_are_explained() {
    let emu = Emulator::start();
    let run = emu
        .cli()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .run(&["role", "show"]);
    run.assert_code(3);
    assert!(run.error_line().contains("no AWS credentials"), "{run:?}");
    let run = emu.cli().env_remove("AWS_REGION").run(&["role", "show"]);
    run.assert_code(2);
    assert!(run.error_line().contains("no AWS region"), "{run:?}");
    let run = emu
        .cli()
        .env("AWS_SECRET_ACCESS_KEY", "wrong")
        .run(&["role", "show"]);
    run.assert_code(3);
    assert!(
        run.error_line().contains("rejected the credentials"),
        "{run:?}"
    );
}
