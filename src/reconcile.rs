//! What `reconcile` looks for beyond `register`: the healing signals. Each is found from the
//! host first (files, the SSM agent's journal, the ECS agent's exit status) and from AWS where
//! the credentials allow; every finding becomes a decision that is logged and reported.

use crate::aws::{ecs, ssm, Clients};
use crate::error::{Error, Result};
use crate::host::ssm_agent;
use crate::register::source::ActivationSource;
use crate::register::{Heal, Host, Observed, Request};

/// The SSM agent's own words when its identity has been deregistered.
const HIBERNATE: &str = "hibernat";

pub async fn detect(
    req: &Request,
    host: &Host<'_>,
    obs: &Observed,
    clients: &Clients,
) -> Result<Heal> {
    let mut heal = Heal::default();
    let old_arn = obs
        .agent_db
        .as_ref()
        .and_then(|d| d.container_instance_arn.clone())
        .or_else(|| obs.state.container_instance_arn.clone());
    match &obs.registration {
        None => {
            if obs.agent_db.is_some() || obs.state.managed_instance_id.is_some() {
                heal.identity_lost = Some("the SSM registration files are gone".into());
                heal.dead_managed_instance = obs.state.managed_instance_id.clone();
            }
        }
        Some(reg) => {
            let mi = &reg.managed_instance_id;
            match ssm::managed_instance(&clients.ssm, mi).await {
                Ok(None) => {
                    heal.identity_lost =
                        Some(format!("SSM no longer knows {mi}: it was deregistered"));
                }
                Ok(Some(_)) => {}
                Err(Error::AccessDenied { .. } | Error::Credentials(_)) => {}
                Err(e) => return Err(e),
            }
            if heal.identity_lost.is_none() && obs.ssm.active {
                let journal = host.services.journal_of_current_run(obs.ssm_unit)?;
                if journal.to_ascii_lowercase().contains(HIBERNATE) {
                    heal.identity_lost = Some(format!(
                        "the SSM agent hibernates: the identity {mi} was deregistered"
                    ));
                } else if !ssm_agent::credentials_for(&host.paths, mi) {
                    heal.stale_credentials = true;
                }
            }
            if heal.identity_lost.is_some() {
                heal.dead_managed_instance = Some(mi.clone());
            }
        }
    }
    if heal.identity_lost.is_some() {
        heal.stale_container_instance = old_arn;
        if matches!(req.activation, ActivationSource::Mint) {
            usable_for_minting(clients).await?;
        }
        return Ok(heal);
    }
    if obs.registration.is_some() {
        if let Some(arn) = &old_arn {
            heal.container_instance_gone =
                container_instance_gone(req, host, obs, clients, arn).await?;
        }
    }
    Ok(heal)
}

/// Whether the container instance this host registered is INACTIVE or unknown to ECS. Asked
/// of ECS where permitted; otherwise read from the ECS agent: a terminal exit after ECS
/// refused its saved container instance.
async fn container_instance_gone(
    req: &Request,
    host: &Host<'_>,
    obs: &Observed,
    clients: &Clients,
    arn: &str,
) -> Result<Option<String>> {
    match ecs::describe(&clients.ecs, &req.cluster, &[arn.to_string()]).await {
        Ok(found) => match found.first() {
            Some(c) if c.status == "INACTIVE" => {
                Ok(Some(format!("container instance {arn} is INACTIVE")))
            }
            Some(_) => Ok(None),
            None => Ok(Some(format!("ECS does not know container instance {arn}"))),
        },
        Err(Error::AccessDenied { .. } | Error::Credentials(_)) => {
            if obs.ecs.exit_status != 5 {
                return Ok(None);
            }
            let journal = host.services.journal_of_current_run("ecs.service")?;
            let refused = ["INACTIVE", "ClientException", "deregistered"]
                .iter()
                .any(|w| journal.contains(w));
            Ok(refused
                .then(|| format!("the ECS agent stopped: ECS refused container instance {arn}")))
        }
        Err(e) => Err(e),
    }
}

/// Re-registering without an activation file needs credentials that can mint one; without
/// them a person has to provide an activation (exit 4).
async fn usable_for_minting(clients: &Clients) -> Result<()> {
    match crate::aws::sts::caller_identity(&clients.sts, &clients.region).await {
        Ok(who) if !who.arn.contains(":assumed-role/") => Ok(()),
        Ok(_) | Err(Error::Credentials(_)) | Err(Error::AccessDenied { .. }) => Err(Error::Activation(
            "this host must register again but has no usable activation: set `activation_file` in [host] of /etc/ecs-anywhere/config.toml to a file from `ecs-anywhere activation create --out` with registrations left, or give credentials that may create activations".into(),
        )),
        Err(e) => Err(e),
    }
}

/// The decisions, in words, for the report and the journal.
pub fn decisions(heal: &Heal) -> Vec<String> {
    let mut d = Vec::new();
    if let Some(why) = &heal.identity_lost {
        d.push(format!("register again: {why}"));
    }
    if heal.stale_credentials {
        d.push("restart the SSM agent: the node's credentials expired while it runs".into());
    }
    if let Some(why) = &heal.container_instance_gone {
        d.push(format!(
            "reset the ECS agent's state so it registers again: {why}"
        ));
    }
    for x in &d {
        tracing::info!("decision: {x}");
    }
    d
}
