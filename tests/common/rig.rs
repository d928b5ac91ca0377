//! A rig for host tests: one emulator and test hosts with the binary and the stand-in agents
//! installed, the SSM agent pointed at the emulator.

use std::path::Path;

use serde_json::Value;

use super::testhost::TestHost;
use super::{block_on, Emulator, Run};

pub const BIN_IN_HOST: &str = "/usr/local/bin/ecs-anywhere";

pub struct Rig {
    pub emu: Emulator,
    pub hosts: Vec<TestHost>,
}

impl Rig {
    pub fn new() -> Rig {
        super::testhost::require();
        Rig {
            emu: Emulator::start_with(&["--heartbeat-timeout", "30"]),
            hosts: Vec::new(),
        }
    }

    /// Boots a host with the binary, the stand-in agents, and the SSM agent pointed at the
    /// emulator (as an operator with VPC endpoints would configure it).
    pub fn host(&mut self, prefix: &str) -> usize {
        let host = TestHost::start(prefix, &[self.emu.port()]);
        host.install(
            Path::new(env!("CARGO_BIN_EXE_ecs-anywhere")),
            BIN_IN_HOST,
            0o755,
        );
        let standins =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/standins/install-into");
        let out = std::process::Command::new(standins)
            .arg(host.root())
            .output()
            .unwrap();
        assert!(out.status.success(), "install-into: {out:?}");
        let endpoint = format!("http://127.0.0.1:{}", self.emu.port());
        write(
            &host,
            "/etc/amazon/ssm/amazon-ssm-agent.json",
            &format!(
                r#"{{"Agent": {{"Region": "us-east-1"}}, "Ssm": {{"Endpoint": "{endpoint}"}}}}"#
            ),
        );
        write(
            &host,
            "/etc/systemd/system/amazon-ssm-agent.service.d/test.conf",
            "[Service]\nEnvironment=STANDIN_PING_INTERVAL=2 STANDIN_REFRESH_POLL=1\n",
        );
        write(
            &host,
            "/etc/systemd/system/ecs.service.d/test.conf",
            "[Service]\nEnvironment=STANDIN_HEARTBEAT_INTERVAL=2\n",
        );
        let reload = host.systemctl(&["daemon-reload"]);
        assert!(reload.status.success(), "{reload:?}");
        self.hosts.push(host);
        self.hosts.len() - 1
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.emu.port())
    }

    /// Runs the binary inside host `i` with no AWS credentials of its own: only what the
    /// host has (the node's, once registered).
    pub fn run(&self, i: usize, args: &[&str]) -> Run {
        self.run_env(i, &[], args)
    }

    pub fn run_admin(&self, i: usize, args: &[&str]) -> Run {
        let keys = self.emu.admin.clone();
        self.run_env(
            i,
            &[
                ("AWS_ACCESS_KEY_ID", &keys.0),
                ("AWS_SECRET_ACCESS_KEY", &keys.1),
            ],
            args,
        )
    }

    pub fn run_env(&self, i: usize, extra: &[(&str, &str)], args: &[&str]) -> Run {
        let endpoint = self.endpoint();
        let mut env = vec![
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ];
        env.extend_from_slice(extra);
        let mut argv = vec![BIN_IN_HOST];
        argv.extend_from_slice(args);
        let out = self.hosts[i].exec_env(&env, &argv);
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// A fleet activation written into host `i` at /root/activation.json.
    pub fn activation(&self, limit: &str, extra: &[&str]) -> Value {
        self.emu.cli().run(&["role", "ensure"]).assert_code(0);
        let mut args = vec![
            "activation",
            "create",
            "--output",
            "json",
            "--registration-limit",
            limit,
        ];
        args.extend_from_slice(extra);
        let run = self.emu.cli().run(&args);
        run.assert_code(0);
        run.json()
    }

    pub fn give_activation(&self, i: usize, act: &Value) {
        let doc = serde_json::json!({
            "activation_id": act["activation_id"],
            "activation_code": act["activation_code"],
            "region": "us-east-1",
        });
        write(&self.hosts[i], "/root/activation.json", &doc.to_string());
    }

    pub fn register_args(&self) -> Vec<String> {
        vec![
            "register".into(),
            "--cluster".into(),
            "prod".into(),
            "--activation-file".into(),
            "/root/activation.json".into(),
            "--ecs-endpoint".into(),
            self.endpoint(),
            "--wait".into(),
            "90s".into(),
            "--output".into(),
            "json".into(),
        ]
    }

    pub fn register(&self, i: usize) -> Run {
        let args = self.register_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(i, &args)
    }

    pub fn managed_instances(&self) -> Vec<aws_sdk_ssm::types::InstanceInformation> {
        let out = block_on(self.emu.ssm().describe_instance_information().send()).unwrap();
        out.instance_information_list().to_vec()
    }

    pub fn container_instances(&self, cluster: &str) -> Vec<aws_sdk_ecs::types::ContainerInstance> {
        let ecs = self.emu.ecs();
        let arns = block_on(ecs.list_container_instances().cluster(cluster).send()).unwrap();
        if arns.container_instance_arns().is_empty() {
            return Vec::new();
        }
        let out = block_on(
            ecs.describe_container_instances()
                .cluster(cluster)
                .set_container_instances(Some(arns.container_instance_arns().to_vec()))
                .send(),
        )
        .unwrap();
        out.container_instances().to_vec()
    }
}

impl Rig {
    /// The host's managed instance id, from its registration file.
    pub fn mi_of(&self, i: usize) -> Option<String> {
        let t =
            std::fs::read_to_string(self.hosts[i].root().join("var/lib/amazon/ssm/registration"))
                .ok()?;
        serde_json::from_str::<Value>(&t).ok()?["ManagedInstanceID"]
            .as_str()
            .map(str::to_string)
    }

    /// The ACTIVE container instances of `cluster`.
    pub fn active_in(&self, cluster: &str) -> Vec<aws_sdk_ecs::types::ContainerInstance> {
        self.container_instances(cluster)
            .into_iter()
            .filter(|c| c.status() == Some("ACTIVE"))
            .collect()
    }

    /// The status of one container instance by ARN (INACTIVE ones are not listed, but stay
    /// describable for a while).
    pub fn container_instance_status(&self, cluster: &str, arn: &str) -> Option<String> {
        let out = block_on(
            self.emu
                .ecs()
                .describe_container_instances()
                .cluster(cluster)
                .container_instances(arn)
                .send(),
        )
        .unwrap();
        out.container_instances()
            .first()
            .and_then(|c| c.status().map(str::to_string))
    }

    /// Freezes the SSM agent and moves its credentials' expiry into the past: an agent alive
    /// but stale, as after an offline period. Returns the identity_config.json path.
    pub fn make_credentials_stale(&self, i: usize) -> std::path::PathBuf {
        let host = &self.hosts[i];
        host.systemctl(&["kill", "--signal=SIGSTOP", "amazon-ssm-agent.service"]);
        let p = host
            .root()
            .join("var/lib/amazon/ssm/runtimeconfig/identity_config.json");
        let mut ic: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        ic["CredentialsExpiresAt"] = Value::String(STALE.into());
        std::fs::write(&p, ic.to_string()).unwrap();
        p
    }
}

/// The expiry `make_credentials_stale` writes.
pub const STALE: &str = "2020-01-01T00:00:00Z";

pub fn wait_until(what: &str, timeout: std::time::Duration, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

pub fn write(host: &TestHost, path: &str, text: &str) {
    let p = host.root().join(path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

pub fn mtime(host: &TestHost, path: &str) -> Option<std::time::SystemTime> {
    std::fs::metadata(host.root().join(path.trim_start_matches('/')))
        .and_then(|m| m.modified())
        .ok()
}

pub fn unit_started(host: &TestHost, unit: &str) -> String {
    let out = host.systemctl(&[
        "show",
        unit,
        "--property=ActiveEnterTimestampMonotonic,InvocationID",
    ]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}
