//! `ecs-anywhere activation create | list | delete | prune`: SSM hybrid activations.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::SystemTime;

use aws_smithy_types::DateTime;
use clap::{Args, Subcommand};

use crate::activation::{self, Expiry};
use crate::aws::{iam, ssm};
use crate::cli::Context;
use crate::config::types::{validate_role_name, HumanDuration, KeyValue, RegistrationLimit};
use crate::error::{Error, Result};
use crate::host::fs::{check_writable_target, write_atomic};
use crate::output::Outcome;
use crate::role::{self, trust, MANAGED_TAG};

#[derive(Debug, Subcommand)]
pub enum ActivationCommand {
    /// Create an activation bound to the role; prints or writes its id and code
    Create(CreateArgs),
    /// List activations with their use and expiry
    List(ListArgs),
    /// Delete an activation (registered hosts stay registered)
    Delete(DeleteArgs),
    /// Delete activations created by ecs-anywhere that are expired or fully used
    Prune,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Role the registered hosts assume [config: role.name] [default: ecsAnywhereRole]
    #[arg(long, env = "ECS_ANYWHERE_ROLE_NAME", value_name = "NAME")]
    role_name: Option<String>,

    /// How many hosts may register with it, 1..1000 [config: activation.registration_limit] [default: 1]
    #[arg(long, value_name = "N")]
    registration_limit: Option<RegistrationLimit>,

    /// Lifetime, at most 30d, e.g. 90m, 24h, 7d [config: activation.expires_in] [default: 24h]
    #[arg(long, value_name = "DURATION", conflicts_with = "expires_at")]
    expires_in: Option<HumanDuration>,

    /// Expiry as an RFC 3339 time, at most 30 days ahead
    #[arg(long, value_name = "TIME", value_parser = activation::parse_time)]
    expires_at: Option<DateTime>,

    /// Default name of the hosts registered with it [config: activation.instance_name]
    #[arg(long, value_name = "NAME")]
    instance_name: Option<String>,

    /// Description [config: activation.description]
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,

    /// Tag copied onto every host registered with it (repeatable) [config: activation.tags]
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    tags: Vec<KeyValue>,

    /// Write {activation_id, activation_code, region, expires_at} to FILE (mode 0600) instead of stdout
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// How long to wait out IAM propagation of a new role [config: activation.propagation_timeout] [default: 2m]
    #[arg(long, value_name = "DURATION")]
    propagation_timeout: Option<HumanDuration>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only activations created by ecs-anywhere
    #[arg(long)]
    managed: bool,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Activation id (UUID)
    #[arg(value_name = "ID")]
    id: String,
}

impl ActivationCommand {
    pub async fn run(self, ctx: &Context) -> Result<Outcome> {
        match self {
            ActivationCommand::Create(args) => args.run(ctx).await,
            ActivationCommand::List(args) => list(ctx, args.managed).await,
            ActivationCommand::Delete(args) => delete(ctx, &args.id).await,
            ActivationCommand::Prune => prune(ctx).await,
        }
    }
}

impl CreateArgs {
    async fn run(self, ctx: &Context) -> Result<Outcome> {
        let cfg = &ctx.file.activation;
        let role_name = self
            .role_name
            .or_else(|| ctx.file.role.name.clone())
            .unwrap_or_else(|| role::DEFAULT_ROLE.to_string());
        validate_role_name(&role_name).map_err(Error::Usage)?;
        let limit = self
            .registration_limit
            .or(cfg.registration_limit)
            .map(|l| l.0)
            .unwrap_or(1);
        let expiry = match (self.expires_at, self.expires_in.or(cfg.expires_in)) {
            (Some(at), _) => Expiry::At(at),
            (None, Some(d)) => Expiry::In(d.0),
            (None, None) => Expiry::In(activation::DEFAULT_LIFETIME),
        };
        let expires_at = activation::expiry_time(expiry, SystemTime::now())?;
        let instance_name = self.instance_name.or_else(|| cfg.instance_name.clone());
        let description = self.description.or_else(|| cfg.description.clone());
        let mut tags: BTreeMap<String, String> = cfg.tags.clone().unwrap_or_default();
        for kv in self.tags {
            tags.insert(kv.key, kv.value);
        }
        activation::validate_fields(instance_name.as_deref(), description.as_deref(), &tags)?;
        tags.insert(MANAGED_TAG.0.into(), MANAGED_TAG.1.into());
        if let Some(out) = &self.out {
            check_writable_target(out)?;
        }
        let deadline = self
            .propagation_timeout
            .or(cfg.propagation_timeout)
            .map(|d| d.0)
            .unwrap_or(activation::DEFAULT_PROPAGATION_TIMEOUT);

        let clients = ctx.clients().await?;
        preflight_role(&clients.iam, &role_name).await?;

        let mut out = Outcome::new("activation create", ctx.dry_run());
        out.actions.push(format!(
            "create activation for role {role_name} (limit {limit}, expires {})",
            ssm::fmt_time(&expires_at)
        ));
        out.set("region", &clients.region);
        out.set("role", &role_name);
        out.set("registration_limit", limit);
        out.set("expires_at", ssm::fmt_time(&expires_at));
        if ctx.dry_run() {
            return Ok(out);
        }
        let req = ssm::NewActivation {
            role: &role_name,
            registration_limit: limit,
            expires_at,
            instance_name: instance_name.as_deref(),
            description: description.as_deref(),
            tags: &tags,
        };
        let created = activation::create(&clients.ssm, &req, deadline).await?;
        out.changed = true;
        tracing::debug!(activation_id = %created.id, role = %role_name, "activation created");
        out.set("activation_id", &created.id);
        match &self.out {
            Some(path) => {
                let doc = serde_json::json!({
                    "activation_id": created.id,
                    "activation_code": created.code.expose(),
                    "region": clients.region,
                    "expires_at": ssm::fmt_time(&expires_at),
                });
                write_atomic(path, format!("{doc:#}\n").as_bytes(), 0o600)?;
                out.set("out", path);
                out.text = format!(
                    "activation_id: {}\nwritten to {} (mode 0600)\n",
                    created.id,
                    path.display()
                );
            }
            None => {
                out.set("activation_code", created.code.expose());
                out.text = format!(
                    "activation_id: {}\nactivation_code: {}\nregion: {}\nexpires_at: {}\n",
                    created.id,
                    created.code.expose(),
                    clients.region,
                    ssm::fmt_time(&expires_at)
                );
            }
        }
        Ok(out)
    }
}

/// Fails fast when the role is missing or does not trust SSM, rather than waiting out a
/// propagation delay that will never end. Skipped when we may not read the role.
async fn preflight_role(client: &aws_sdk_iam::Client, name: &str) -> Result<()> {
    let found = match iam::get_role(client, name).await {
        Ok(found) => found,
        Err(Error::AccessDenied { .. }) => {
            tracing::debug!(
                role = name,
                "cannot read the role (iam:GetRole denied); not checked"
            );
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    match found {
        None => Err(Error::Usage(format!(
            "role {name} does not exist; create it with `ecs-anywhere role ensure --role-name {name}`"
        ))),
        Some(r) if !trust::allows(&r.trust_policy, trust::SSM) => Err(Error::Usage(format!(
            "role {name} does not trust ssm.amazonaws.com; repair it with `ecs-anywhere role ensure --role-name {name}`"
        ))),
        Some(_) => Ok(()),
    }
}

async fn list(ctx: &Context, managed_only: bool) -> Result<Outcome> {
    let clients = ctx.clients().await?;
    let mut all = ssm::describe_activations(&clients.ssm, &[]).await?;
    if managed_only {
        all.retain(|a| a.tags.get(MANAGED_TAG.0).map(String::as_str) == Some(MANAGED_TAG.1));
    }
    let mut out = Outcome::new("activation list", false);
    let mut rows = vec![[
        "ID", "ROLE", "LIMIT", "USED", "EXPIRES", "EXPIRED", "MANAGED",
    ]
    .map(str::to_string)];
    for a in &all {
        rows.push([
            a.id.clone(),
            a.role.clone(),
            a.registration_limit.to_string(),
            a.registrations.to_string(),
            a.expires_at.clone().unwrap_or_default(),
            if a.expired { "yes" } else { "no" }.into(),
            if a.tags.contains_key(MANAGED_TAG.0) {
                "yes"
            } else {
                "no"
            }
            .into(),
        ]);
    }
    out.text = table(&rows);
    out.set("activations", &all);
    Ok(out)
}

fn table(rows: &[[String; 7]]) -> String {
    let mut widths = [0usize; 7];
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut s = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        s.push_str(line.join("  ").trim_end());
        s.push('\n');
    }
    s
}

async fn delete(ctx: &Context, id: &str) -> Result<Outcome> {
    ssm::validate_activation_id(id)?;
    let clients = ctx.clients().await?;
    let mut out = Outcome::new("activation delete", ctx.dry_run());
    out.set("activation_id", id);
    if ctx.dry_run() {
        let exists = !ssm::describe_activations(&clients.ssm, &[id.to_string()])
            .await?
            .is_empty();
        if exists {
            out.actions.push(format!("delete activation {id}"));
        }
        return Ok(out);
    }
    if ssm::delete_activation(&clients.ssm, id).await? {
        out.actions.push(format!("delete activation {id}"));
        out.changed = true;
    } else {
        tracing::warn!(
            activation_id = id,
            "activation does not exist; nothing to delete"
        );
        out.text = format!("activation {id} does not exist; nothing to delete\n");
    }
    Ok(out)
}

async fn prune(ctx: &Context) -> Result<Outcome> {
    let clients = ctx.clients().await?;
    let all = ssm::describe_activations(&clients.ssm, &[]).await?;
    let mut out = Outcome::new("activation prune", ctx.dry_run());
    let mut pruned = Vec::new();
    for a in activation::prunable(&all) {
        let why = if a.expired { "expired" } else { "fully used" };
        let action = format!("delete activation {} ({why})", a.id);
        if ctx.dry_run() || ssm::delete_activation(&clients.ssm, &a.id).await? {
            out.actions.push(action);
            pruned.push(a.id.clone());
        }
    }
    out.changed = !ctx.dry_run() && !pruned.is_empty();
    if pruned.is_empty() {
        out.text = "no activation to prune\n".into();
    }
    out.set("pruned", pruned);
    Ok(out)
}
