//! `ecs-anywhere role ensure | show`: the ECS Anywhere role (and optionally the task execution
//! role) exists with the right trust and policies.

use clap::{Args, Subcommand};

use crate::aws::sts;
use crate::cli::Context;
use crate::config::types::{validate_cluster_name, validate_role_name, PolicyMode};
use crate::error::{Error, Result};
use crate::output::Outcome;
use crate::role::{self, RolePlan, RoleSpec, Step};

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Create the role or repair its drift (trust policy, conditions, policies)
    Ensure(RoleArgs),
    /// Show the role's state and any drift; changes nothing
    Show(RoleArgs),
}

#[derive(Debug, Args)]
pub struct RoleArgs {
    /// Role name [config: role.name] [default: ecsAnywhereRole]
    #[arg(long, env = "ECS_ANYWHERE_ROLE_NAME", value_name = "NAME")]
    pub role_name: Option<String>,

    /// Permissions: AWS managed policies, or a least-privilege inline policy [config: role.policy] [default: managed]
    #[arg(long, env = "ECS_ANYWHERE_ROLE_POLICY", value_enum)]
    pub policy: Option<PolicyMode>,

    /// Scope the minimal policy to this ECS cluster [config: cluster]
    #[arg(long, env = "ECS_ANYWHERE_CLUSTER", value_name = "NAME")]
    pub cluster: Option<String>,

    /// Also ensure ecsTaskExecutionRole (awslogs, private ECR images) [config: role.task_execution_role]
    #[arg(long)]
    pub with_task_execution_role: bool,
}

impl RoleCommand {
    pub async fn run(self, ctx: &Context) -> Result<Outcome> {
        match self {
            RoleCommand::Ensure(args) => args.run(ctx, false).await,
            RoleCommand::Show(args) => args.run(ctx, true).await,
        }
    }
}

impl RoleArgs {
    async fn run(self, ctx: &Context, show_only: bool) -> Result<Outcome> {
        let name = self
            .role_name
            .clone()
            .or_else(|| ctx.file.role.name.clone())
            .unwrap_or_else(|| role::DEFAULT_ROLE.to_string());
        validate_role_name(&name).map_err(Error::Usage)?;
        let mode = self
            .policy
            .or(ctx.file.role.policy)
            .unwrap_or(PolicyMode::Managed);
        let cluster = ctx.cluster(self.cluster.as_deref());
        if let Some(c) = &cluster {
            validate_cluster_name(c).map_err(Error::Usage)?;
        }
        let with_exec =
            self.with_task_execution_role || ctx.file.role.task_execution_role.unwrap_or(false);

        let clients = ctx.clients().await?;
        let who = sts::caller_identity(&clients.sts, &clients.region).await?;
        let mut specs = vec![RoleSpec::ecs_anywhere(
            &name,
            mode,
            cluster.as_deref(),
            &who,
        )];
        if with_exec {
            specs.push(RoleSpec::task_execution(&who));
        }

        let command = if show_only {
            "role show"
        } else {
            "role ensure"
        };
        let dry_run = show_only || ctx.dry_run();
        let mut out = Outcome::new(command, ctx.dry_run() && !show_only);
        let mut reports = Vec::new();
        for spec in &specs {
            let plan = role::ensure(&clients.iam, spec, &who, dry_run).await?;
            for w in &plan.warnings {
                tracing::warn!("{w}");
            }
            if !show_only {
                out.actions
                    .extend(plan.steps.iter().map(|s| s.describe(&spec.name)));
            }
            out.text.push_str(&render(&plan, show_only, dry_run));
            reports.push(report(&plan, spec));
        }
        out.changed = !show_only && !ctx.dry_run() && !out.actions.is_empty();
        out.set("account", &who.account);
        out.set("partition", &who.partition);
        out.set("policy_mode", mode);
        out.set("roles", reports);
        Ok(out)
    }
}

fn report(plan: &RolePlan, spec: &RoleSpec) -> serde_json::Value {
    serde_json::json!({
        "name": plan.role,
        "arn": plan.arn,
        "trusted_service": spec.service.principal,
        "managed_policies": spec.managed_policies,
        "inline_policy": spec.inline.as_ref().map(|(n, _)| n),
        "drift": plan.drift,
        "foreign_policies": plan.foreign_policies,
        "warnings": plan.warnings,
    })
}

fn render(plan: &RolePlan, show_only: bool, dry_run: bool) -> String {
    let mut s = format!(
        "role {}: {}\n",
        plan.role,
        match (
            plan.drift.is_empty(),
            show_only || dry_run,
            plan.steps.first()
        ) {
            (true, _, _) => "converged",
            (false, true, _) => "drifted",
            (false, false, Some(Step::Create { .. })) => "created",
            (false, false, _) => "repaired",
        }
    );
    if let Some(arn) = &plan.arn {
        s.push_str(&format!("  arn: {arn}\n"));
    }
    for d in &plan.drift {
        s.push_str(&format!("  drift: {d}\n"));
    }
    for p in &plan.foreign_policies {
        s.push_str(&format!(
            "  not managed by ecs-anywhere (left alone): {p}\n"
        ));
    }
    s
}
