//! `ecs-anywhere status`: observe only. Every finding about the host's SSM identity, its
//! credentials, the services, the ECS configuration, and local and remote membership. Exit 0
//! when healthy, 5 when not.

use std::time::Duration;

use clap::Args;

use crate::activation::parse_time;
use crate::cli::register::render_checks;
use crate::cli::Context;
use crate::error::{Error, Result};
use crate::host::ecs_agent::INTROSPECTION;
use crate::host::envfile;
use crate::host::paths::HostPaths;
use crate::host::ssm_agent;
use crate::host::systemd::{ssm_unit, ServiceManager, Systemctl, ECS_UNIT};
use crate::output::Outcome;
use crate::register::verify::{self, Check, Expect, Verdict};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The cluster the host should be in [config: cluster] [default: the one in ecs.config]
    #[arg(long, env = "ECS_ANYWHERE_CLUSTER", value_name = "NAME")]
    cluster: Option<String>,
}

fn check(name: &'static str, ok: bool, detail: impl Into<String>) -> Check {
    Check {
        name,
        result: if ok { Verdict::Pass } else { Verdict::Fail },
        detail: detail.into(),
    }
}

/// The node credentials the SSM agent maintains: fresh when they expire in the future.
pub fn credentials_check(paths: &HostPaths) -> Check {
    let Some((retrieved, expires)) = ssm_agent::credentials_times(paths) else {
        return check(
            "credentials",
            false,
            "the SSM agent has not fetched credentials (identity_config.json missing)",
        );
    };
    let parse = |s: &Option<String>| s.as_deref().and_then(|t| parse_time(t).ok());
    let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now()).secs();
    match parse(&expires) {
        Some(exp) if exp.secs() > now => check(
            "credentials",
            true,
            format!(
                "valid for {} more minutes (retrieved {})",
                (exp.secs() - now) / 60,
                retrieved.unwrap_or_default()
            ),
        ),
        Some(_) => check(
            "credentials",
            false,
            format!(
                "expired at {}: the SSM agent is not refreshing them (offline, hibernating, or deregistered)",
                expires.unwrap_or_default()
            ),
        ),
        None => check("credentials", false, "identity_config.json has no readable expiry"),
    }
}

impl StatusArgs {
    pub async fn run(self, ctx: &Context) -> Result<Outcome> {
        let paths = HostPaths::new(&ctx.global.root);
        let services = Systemctl;
        let mut checks = Vec::new();

        let registration = ssm_agent::registration(&paths)?;
        checks.push(match &registration {
            Some(r) => check(
                "ssm_identity",
                true,
                format!("{} in {}", r.managed_instance_id, r.region),
            ),
            None => check(
                "ssm_identity",
                false,
                "no SSM registration (/var/lib/amazon/ssm/registration)",
            ),
        });
        checks.push(credentials_check(&paths));
        let ssm_unit = ssm_unit(&services)?;
        for (name, unit) in [("ssm_service", ssm_unit), ("ecs_service", ECS_UNIT)] {
            let s = services.state(unit)?;
            checks.push(check(
                name,
                s.installed && s.active && s.enabled,
                format!(
                    "{unit}: {}, {}",
                    if s.active {
                        "active"
                    } else if s.failed {
                        "failed"
                    } else {
                        "inactive"
                    },
                    if s.enabled { "enabled" } else { "not enabled" }
                ),
            ));
        }
        let cfg = envfile::read(&paths.ecs_config())
            .ok()
            .flatten()
            .unwrap_or_default();
        let cluster = ctx
            .cluster(self.cluster.as_deref())
            .or_else(|| cfg.get("ECS_CLUSTER"));
        let region = cfg
            .get("AWS_DEFAULT_REGION")
            .or_else(|| registration.as_ref().map(|r| r.region.clone()));
        let mut problems = Vec::new();
        if cfg.get("ECS_EXTERNAL").as_deref() != Some("true") {
            problems.push("ECS_EXTERNAL is not true".to_string());
        }
        match (&cluster, cfg.get("ECS_CLUSTER")) {
            (_, None) => problems.push("ECS_CLUSTER is not set".into()),
            (Some(want), Some(have)) if *want != have => {
                problems.push(format!("ECS_CLUSTER is {have}, expected {want}"))
            }
            _ => {}
        }
        if region.is_none() || cfg.get("AWS_DEFAULT_REGION").is_none() {
            problems.push("AWS_DEFAULT_REGION is not set".into());
        }
        checks.push(check(
            "ecs_config",
            problems.is_empty(),
            if problems.is_empty() {
                "cluster, region and external flag set".to_string()
            } else {
                problems.join("; ")
            },
        ));

        let clients = ctx.host_clients(region.as_deref()).await;
        let cluster_name = cluster.clone().unwrap_or_default();
        let expect = Expect {
            cluster: &cluster_name,
            managed_instance_id: registration
                .as_ref()
                .map(|r| r.managed_instance_id.as_str()),
            role_name: None,
            introspection: INTROSPECTION,
            wait: Duration::ZERO,
        };
        let v = verify::verify(&expect, clients.as_ref()).await;
        checks.extend(v.checks);

        let mut out = Outcome::new("status", false);
        out.set(
            "managed_instance_id",
            registration.as_ref().map(|r| &r.managed_instance_id),
        );
        out.set("cluster", &cluster);
        out.set("region", &region);
        out.set("container_instance_arn", &v.container_instance_arn);
        let failed: Vec<&Check> = checks
            .iter()
            .filter(|c| c.result == Verdict::Fail)
            .collect();
        let healthy = failed.is_empty();
        out.set("healthy", healthy);
        out.text = render_checks(&checks);
        out.text.push_str(if healthy {
            "healthy\n"
        } else {
            "NOT healthy\n"
        });
        let summary = failed
            .iter()
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect::<Vec<_>>()
            .join("; ");
        out.set("checks", &checks);
        if !healthy {
            out.failure = Some(Error::Verification(format!(
                "host is not healthy: {summary}"
            )));
        }
        Ok(out)
    }
}
