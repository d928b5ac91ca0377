//! `ecs-anywhere preflight`: can this host join ECS Anywhere? Pass, warn or fail per check;
//! exit 6 when a check fails, 0 otherwise. Changes nothing.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use clap::Args;

use crate::aws::Clients;
use crate::cli::Context;
use crate::error::{Error, Result};
use crate::host::envfile;
use crate::host::paths::HostPaths;
use crate::host::ssm_agent::{SsmAgent, SsmAgentCli};
use crate::host::systemd::{ServiceManager, Systemctl, ECS_UNIT};
use crate::output::Outcome;

#[derive(Debug, Args)]
pub struct PreflightArgs {}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    pub name: &'static str,
    pub result: &'static str,
    pub detail: String,
}

fn f(name: &'static str, result: &'static str, detail: impl Into<String>) -> Finding {
    Finding {
        name,
        result,
        detail: detail.into(),
    }
}

/// Captures the `Date` header of an AWS response, for the clock skew check.
#[derive(Debug, Clone, Default)]
struct DateCapture(Arc<Mutex<Option<String>>>);

impl Intercept for DateCapture {
    fn name(&self) -> &'static str {
        "DateCapture"
    }
    fn read_before_deserialization(
        &self,
        ctx: &BeforeDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(d) = ctx.response().headers().get("date") {
            *self.0.lock().unwrap() = Some(d.to_string());
        }
        Ok(())
    }
}

/// Maximum clock skew before SigV4 requests are refused by AWS.
const MAX_SKEW_SECS: i64 = 300;

impl PreflightArgs {
    pub async fn run(self, ctx: &Context) -> Result<Outcome> {
        let paths = HostPaths::new(&ctx.global.root);
        let services = Systemctl;
        let mut out = Vec::new();

        out.push(if nix::unistd::geteuid().is_root() {
            f("root", "pass", "running as root")
        } else {
            f("root", "fail", "register and deregister must run as root")
        });
        out.push(if paths.systemd_runtime().is_dir() {
            f("systemd", "pass", "systemd is the init system")
        } else {
            f(
                "systemd",
                "fail",
                "systemd is not running as the init system",
            )
        });
        let arch = std::env::consts::ARCH;
        out.push(match arch {
            "x86_64" | "aarch64" => f("architecture", "pass", arch),
            other => f(
                "architecture",
                "fail",
                format!("{other}: ECS Anywhere supports x86_64 and aarch64"),
            ),
        });
        let os = format!(
            "{} {}",
            sysinfo::System::name().unwrap_or_default(),
            sysinfo::System::os_version().unwrap_or_default()
        );
        let known = [
            "Debian",
            "Ubuntu",
            "Amazon Linux",
            "Red Hat",
            "CentOS",
            "Fedora",
            "SUSE",
            "openSUSE",
            "Rocky",
            "AlmaLinux",
            "Oracle",
        ];
        out.push(if known.iter().any(|k| os.contains(k)) {
            f("os", "pass", os.trim().to_string())
        } else {
            f(
                "os",
                "warn",
                format!("{}: not an OS ECS Anywhere documents", os.trim()),
            )
        });
        let mut sys = sysinfo::System::new();
        sys.refresh_memory();
        sys.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
        let mem_mib = sys.total_memory() / (1024 * 1024);
        let cpus = sys.cpus().len();
        out.push(if mem_mib >= 1024 && cpus >= 1 {
            f(
                "resources",
                "pass",
                format!("{cpus} CPUs, {mem_mib} MiB memory"),
            )
        } else {
            f(
                "resources",
                "warn",
                format!("{cpus} CPUs, {mem_mib} MiB memory: tasks need at least 1 GiB"),
            )
        });
        let agent = SsmAgent {
            paths: paths.clone(),
        };
        out.push(match agent.binary() {
            Some(b) => f("ssm_agent", "pass", b.display().to_string()),
            None => f("ssm_agent", "fail", "amazon-ssm-agent is not installed"),
        });
        let ecs = services.state(ECS_UNIT)?;
        out.push(if ecs.installed {
            f("ecs_agent", "pass", "ecs.service is installed")
        } else {
            f(
                "ecs_agent",
                "fail",
                "ecs.service (amazon-ecs-init) is not installed",
            )
        });
        let docker = services.state("docker.service")?;
        out.push(match (docker.installed, docker.active) {
            (true, true) => f("docker", "pass", "docker.service is active"),
            (true, false) => f(
                "docker",
                "warn",
                "docker.service is installed but not active",
            ),
            _ => f(
                "docker",
                "warn",
                "docker.service is not installed: the ECS agent cannot run tasks",
            ),
        });
        out.extend(shadowing(&paths));
        out.extend(self.remote(ctx).await);

        let mut o = Outcome::new("preflight", false);
        o.text = out
            .iter()
            .map(|x| format!("{:<4}  {:<13} {}\n", x.result, x.name, x.detail))
            .collect();
        let failed: Vec<String> = out
            .iter()
            .filter(|x| x.result == "fail")
            .map(|x| format!("{}: {}", x.name, x.detail))
            .collect();
        o.set("checks", &out);
        o.set("passed", failed.is_empty());
        if !failed.is_empty() {
            o.failure = Some(Error::Unsupported(format!(
                "preflight failed: {}",
                failed.join("; ")
            )));
        }
        Ok(o)
    }

    /// Reachability of the SSM and ECS endpoints, and the clock against AWS's. The probes use
    /// a made-up key: any answer, even a refusal, proves the endpoint is reachable and carries
    /// a `Date` header, and no credentials are needed.
    async fn remote(&self, ctx: &Context) -> Vec<Finding> {
        let config = match crate::aws::sdk_config_probe(&ctx.aws_settings()).await {
            Ok(c) => c,
            Err(e) => {
                return vec![f(
                    "endpoints",
                    "warn",
                    format!("not checked: {}", e.one_line()),
                )]
            }
        };
        let clients = Clients::new(&config);
        let capture = DateCapture::default();
        let mut found = Vec::new();
        let ssm = clients
            .ssm
            .describe_activations()
            .max_results(1)
            .customize()
            .interceptor(capture.clone())
            .send()
            .await;
        let reach = |name: &'static str, ok: bool, err: String| {
            if ok {
                f(name, "pass", "reachable")
            } else {
                f(name, "fail", format!("unreachable: {err}"))
            }
        };
        let unreachable = |e: &aws_sdk_ssm::error::SdkError<_, _>| {
            matches!(
                e,
                aws_sdk_ssm::error::SdkError::DispatchFailure(_)
                    | aws_sdk_ssm::error::SdkError::TimeoutError(_)
            )
        };
        match &ssm {
            Ok(_) => found.push(reach("ssm_endpoint", true, String::new())),
            Err(e) => found.push(reach("ssm_endpoint", !unreachable(e), e.to_string())),
        }
        let ecs = clients.ecs.list_clusters().max_results(1).send().await;
        match &ecs {
            Ok(_) => found.push(reach("ecs_endpoint", true, String::new())),
            Err(
                aws_sdk_ecs::error::SdkError::DispatchFailure(_)
                | aws_sdk_ecs::error::SdkError::TimeoutError(_),
            ) => found.push(reach("ecs_endpoint", false, "no connection".into())),
            Err(_) => found.push(reach("ecs_endpoint", true, String::new())),
        }
        let date = capture.0.lock().unwrap().clone();
        found.push(match date.and_then(|d| DateTime::from_str(&d, Format::HttpDate).ok()) {
            Some(aws_now) => {
                let skew = DateTime::from(std::time::SystemTime::now()).secs() - aws_now.secs();
                if skew.abs() <= MAX_SKEW_SECS {
                    f("clock", "pass", format!("{skew:+}s from AWS"))
                } else {
                    f("clock", "fail", format!("{skew:+}s from AWS: more than 5 minutes, AWS will refuse signed requests; sync the clock (chrony, systemd-timesyncd)"))
                }
            }
            None => f("clock", "warn", "not checked: no answer from AWS"),
        });
        found
    }
}

/// Credentials that would make the ECS agent (or this tool) act as someone else than the
/// node's SSM identity.
fn shadowing(paths: &HostPaths) -> Vec<Finding> {
    let mut found = Vec::new();
    let cfg = envfile::read(&paths.ecs_config())
        .ok()
        .flatten()
        .unwrap_or_default();
    let keys: Vec<&str> = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ]
    .into_iter()
    .filter(|k| cfg.get(k).is_some())
    .collect();
    if !keys.is_empty() {
        found.push(f("credentials", "fail", format!("/etc/ecs/ecs.config sets {}: the ECS agent would use them instead of the node's identity", keys.join(", "))));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        found.push(f("credentials", "warn", "AWS_ACCESS_KEY_ID is set in this environment: ecs-anywhere itself uses those, not the node's identity"));
    }
    if let Ok(text) = std::fs::read_to_string(paths.under("/root/.aws/config")) {
        if text.contains("credential_process") || text.contains("role_arn") {
            found.push(f("credentials", "warn", "/root/.aws/config defines credential_process or role_arn: profiles there may shadow the node's identity"));
        }
    }
    if found.is_empty() {
        found.push(f(
            "credentials",
            "pass",
            "nothing shadows the node's identity",
        ));
    }
    found
}
