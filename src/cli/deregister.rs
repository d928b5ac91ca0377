//! `ecs-anywhere deregister`: drain and deregister the container instance, deregister the
//! managed instance (where the credentials allow), stop and disable the agents, and remove
//! their registration state and ours. Idempotent; `--dry-run` shows the plan.

use std::time::Duration;

use clap::Args;
use tokio::time::Instant;

use crate::aws::{ecs, ssm, Clients};
use crate::cli::Context;
use crate::config::types::HumanDuration;
use crate::error::{Error, Result};
use crate::host::ecs_agent::{self, INTROSPECTION};
use crate::host::envfile;
use crate::host::fs::{remove_if_exists, write_atomic};
use crate::host::lock;
use crate::host::paths::HostPaths;
use crate::host::ssm_agent;
use crate::host::systemd::{ssm_unit, ServiceManager, Systemctl, ECS_UNIT};
use crate::output::Outcome;
use crate::register::OWNED_ECS_KEYS;
use crate::state::HostState;

#[derive(Debug, Args)]
pub struct DeregisterArgs {
    /// How long to wait for tasks to drain before deregistering anyway
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    drain_timeout: HumanDuration,
}

impl DeregisterArgs {
    pub async fn run(self, ctx: &Context) -> Result<Outcome> {
        let paths = HostPaths::new(&ctx.global.root);
        let dry = ctx.dry_run();
        let _lock = if dry {
            None
        } else {
            Some(lock::acquire(&paths.lock_file(), Duration::from_secs(60))?)
        };
        let services = Systemctl;
        let mut out = Outcome::new("deregister", dry);
        let registration = ssm_agent::registration(&paths)?;
        // An unreadable ecs.config must not block leaving: treat it as absent.
        let cfg_file = envfile::read(&paths.ecs_config()).ok().flatten();
        let cfg = cfg_file.clone().unwrap_or_default();
        let cluster = cfg.get("ECS_CLUSTER").or_else(|| ctx.cluster(None));
        let region = cfg
            .get("AWS_DEFAULT_REGION")
            .or_else(|| registration.as_ref().map(|r| r.region.clone()));
        let arn = ecs_agent::metadata(INTROSPECTION)
            .ok()
            .flatten()
            .and_then(|m| m.container_instance_arn)
            .or_else(|| ecs_agent::saved_state(&paths).and_then(|s| s.container_instance_arn))
            .or_else(|| {
                HostState::load(&paths)
                    .ok()
                    .and_then(|s| s.container_instance_arn)
            });

        // Remote first, while the node's credentials still exist.
        let clients = ctx.host_clients(region.as_deref()).await;
        let mut skipped = Vec::new();
        if let (Some(clients), Some(cluster), Some(arn)) = (&clients, &cluster, &arn) {
            let live = ecs::describe(&clients.ecs, cluster, std::slice::from_ref(arn)).await;
            match live {
                Ok(found) if found.iter().any(|c| c.status != "INACTIVE") => {
                    out.actions.push(format!("drain container instance {arn}"));
                    out.actions.push(format!(
                        "deregister container instance {arn} from cluster {cluster}"
                    ));
                    if !dry {
                        self.drain_and_deregister(clients, cluster, arn).await?;
                    }
                }
                Ok(_) => {}
                // The node's own policies may allow deregistering but not describing: try.
                Err(Error::AccessDenied { .. }) => {
                    out.actions.push(format!("deregister container instance {arn} from cluster {cluster} (not drained: describing it is not permitted)"));
                    if !dry {
                        if let Err(e) = ecs::deregister(&clients.ecs, cluster, arn).await {
                            out.actions.pop();
                            skipped.push(format!("container instance: {}", e.one_line()));
                        }
                    }
                }
                Err(e) => skipped.push(format!("container instance: {}", e.one_line())),
            }
        }
        if let (Some(clients), Some(reg)) = (&clients, &registration) {
            let mi = &reg.managed_instance_id;
            match ssm::managed_instance(&clients.ssm, mi).await {
                Ok(Some(_)) => {
                    out.actions
                        .push(format!("deregister managed instance {mi}"));
                    if !dry {
                        ssm::deregister_managed_instance(&clients.ssm, mi).await?;
                    }
                }
                Ok(None) => {}
                Err(e) => skipped.push(format!("managed instance: {}", e.one_line())),
            }
        }
        let ssm_unit = ssm_unit(&services)?;
        for unit in [ECS_UNIT, ssm_unit] {
            let s = services.state(unit)?;
            if s.installed && (s.active || s.enabled) {
                out.actions.push(format!("stop and disable {unit}"));
                if !dry {
                    services.disable_and_stop(unit)?;
                }
            }
        }
        for path in [
            paths.ssm_registration(),
            paths.ssm_registration_key(),
            paths.ssm_identity_config(),
            paths.node_credentials(),
            paths.ecs_agent_db(),
            paths.state_file(),
        ] {
            if path.exists() {
                out.actions.push(format!("remove {}", path.display()));
                if !dry {
                    remove_if_exists(&path)?;
                }
            }
        }
        if cfg_file.is_some() && OWNED_ECS_KEYS.iter().any(|k| cfg.get(k).is_some()) {
            out.actions.push(format!(
                "remove the registration settings from {}",
                paths.ecs_config().display()
            ));
            if !dry {
                let mut cleaned = cfg.clone();
                for k in OWNED_ECS_KEYS {
                    cleaned.remove(k);
                }
                write_atomic(&paths.ecs_config(), cleaned.render().as_bytes(), 0o644)?;
            }
        }
        for s in &skipped {
            tracing::warn!("skipped {s}");
        }
        out.set("skipped", &skipped);
        out.changed = !dry && !out.actions.is_empty();
        if out.actions.is_empty() {
            out.text = "nothing to deregister\n".into();
        }
        Ok(out)
    }

    async fn drain_and_deregister(
        &self,
        clients: &Clients,
        cluster: &str,
        arn: &str,
    ) -> Result<()> {
        ecs::drain(&clients.ecs, cluster, arn).await?;
        let deadline = Instant::now() + self.drain_timeout.0;
        loop {
            let found = ecs::describe(&clients.ecs, cluster, &[arn.to_string()]).await?;
            let busy = found
                .iter()
                .map(|c| c.running_tasks + c.pending_tasks)
                .sum::<i32>();
            if busy == 0 {
                break;
            }
            if Instant::now() >= deadline {
                tracing::warn!(
                    arn,
                    busy,
                    "drain timed out; deregistering with tasks still running"
                );
                break;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        ecs::deregister(&clients.ecs, cluster, arn).await
    }
}
