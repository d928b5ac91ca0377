//! Ensuring a service role: observe what IAM has, plan the smallest set of steps that makes
//! it right, apply them, verify. Used for `ecsAnywhereRole` and `ecsTaskExecutionRole`.

pub mod permissions;
pub mod trust;

use serde_json::Value;

use crate::aws::iam::{self, RoleRecord};
use crate::aws::sts::CallerIdentity;
use crate::config::types::PolicyMode;
use crate::error::{Error, Result};
use trust::TrustedService;

pub const DEFAULT_ROLE: &str = "ecsAnywhereRole";
pub const TASK_EXECUTION_ROLE: &str = "ecsTaskExecutionRole";
/// Tag on roles and activations this tool created.
pub const MANAGED_TAG: (&str, &str) = ("ecs-anywhere:managed", "true");

/// What a role must look like.
#[derive(Debug, Clone)]
pub struct RoleSpec {
    pub name: String,
    pub service: TrustedService,
    pub managed_policies: Vec<String>,
    /// The inline policy this tool owns on the role, when the mode has one.
    pub inline: Option<(String, Value)>,
    /// An inline policy this tool wrote in another mode, removed when present.
    pub retired_inline: Option<String>,
    pub description: &'static str,
}

impl RoleSpec {
    /// The ECS Anywhere role in the given mode.
    pub fn ecs_anywhere(
        name: &str,
        mode: PolicyMode,
        cluster: Option<&str>,
        who: &CallerIdentity,
    ) -> Self {
        let inline = (mode == PolicyMode::Minimal).then(|| {
            (
                permissions::MINIMAL_POLICY_NAME.to_string(),
                permissions::minimal_policy(who, cluster),
            )
        });
        RoleSpec {
            name: name.to_string(),
            service: trust::SSM,
            managed_policies: permissions::managed_policies(mode, who),
            retired_inline: (mode == PolicyMode::Managed)
                .then(|| permissions::MINIMAL_POLICY_NAME.to_string()),
            inline,
            description: "ECS Anywhere instance role (managed by ecs-anywhere)",
        }
    }

    pub fn task_execution(who: &CallerIdentity) -> Self {
        RoleSpec {
            name: TASK_EXECUTION_ROLE.to_string(),
            service: trust::ECS_TASKS,
            managed_policies: vec![who.managed_policy_arn(permissions::TASK_EXECUTION)],
            inline: None,
            retired_inline: None,
            description: "ECS task execution role (managed by ecs-anywhere)",
        }
    }
}

/// What IAM has for the role.
#[derive(Debug, Clone, Default)]
pub struct RoleState {
    pub record: Option<RoleRecord>,
    pub attached: Vec<String>,
    pub inline_names: Vec<String>,
    /// The document of our inline policy (or the retired one), when present.
    pub owned_inline: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Create { trust: Value },
    RepairTrust { trust: Value },
    Attach { arn: String },
    PutInline { name: String, doc: Value },
    DeleteInline { name: String },
}

impl Step {
    pub fn describe(&self, role: &str) -> String {
        match self {
            Step::Create { .. } => format!("create role {role} with the trust policy"),
            Step::RepairTrust { .. } => format!("repair the trust policy of role {role}"),
            Step::Attach { arn } => format!("attach {arn} to role {role}"),
            Step::PutInline { name, .. } => format!("write inline policy {name} on role {role}"),
            Step::DeleteInline { name } => {
                format!("delete inline policy {name} (written by ecs-anywhere in another mode) from role {role}")
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct RolePlan {
    pub role: String,
    pub arn: Option<String>,
    pub steps: Vec<Step>,
    /// Every way the role differs from the spec, in words.
    pub drift: Vec<String>,
    /// Policies on the role that this tool did not put there: reported, never removed.
    pub foreign_policies: Vec<String>,
    pub warnings: Vec<String>,
}

pub async fn observe(iam: &aws_sdk_iam::Client, spec: &RoleSpec) -> Result<RoleState> {
    let Some(record) = iam::get_role(iam, &spec.name).await? else {
        return Ok(RoleState::default());
    };
    let attached = iam::attached_policies(iam, &spec.name).await?;
    let inline_names = iam::inline_policy_names(iam, &spec.name).await?;
    let owned_name = spec
        .inline
        .as_ref()
        .map(|(n, _)| n.as_str())
        .or(spec.retired_inline.as_deref());
    let owned_inline = match owned_name {
        Some(name) if inline_names.iter().any(|n| n == name) => {
            Some(iam::inline_policy(iam, &spec.name, name).await?)
        }
        _ => None,
    };
    Ok(RoleState {
        record: Some(record),
        attached,
        inline_names,
        owned_inline,
    })
}

pub fn plan(spec: &RoleSpec, state: &RoleState, who: &CallerIdentity) -> RolePlan {
    let mut plan = RolePlan {
        role: spec.name.clone(),
        arn: state.record.as_ref().map(|r| r.arn.clone()),
        steps: Vec::new(),
        drift: Vec::new(),
        foreign_policies: Vec::new(),
        warnings: Vec::new(),
    };
    match &state.record {
        None => {
            plan.drift
                .push(format!("role {} does not exist", spec.name));
            plan.steps.push(Step::Create {
                trust: trust::document(spec.service, who),
            });
        }
        Some(record) => {
            let findings = trust::drift(&record.trust_policy, spec.service, who);
            if !findings.is_empty() {
                plan.drift.extend(findings);
                plan.steps.push(Step::RepairTrust {
                    trust: trust::repair(&record.trust_policy, spec.service, who),
                });
            }
        }
    }
    for arn in &spec.managed_policies {
        if !state.attached.contains(arn) {
            plan.drift.push(format!("policy {arn} is not attached"));
            plan.steps.push(Step::Attach { arn: arn.clone() });
        }
    }
    if let Some((name, doc)) = &spec.inline {
        match &state.owned_inline {
            None => {
                plan.drift.push(format!("inline policy {name} is missing"));
                plan.steps.push(Step::PutInline {
                    name: name.clone(),
                    doc: doc.clone(),
                });
            }
            Some(current) if current != doc => {
                plan.drift.push(format!(
                    "inline policy {name} differs from the expected one"
                ));
                plan.steps.push(Step::PutInline {
                    name: name.clone(),
                    doc: doc.clone(),
                });
            }
            Some(_) => {}
        }
    }
    if let Some(name) = &spec.retired_inline {
        if state.owned_inline.is_some() {
            plan.drift.push(format!(
                "inline policy {name} belongs to the other policy mode"
            ));
            plan.steps.push(Step::DeleteInline { name: name.clone() });
        }
    }
    let ours_inline = |n: &String| {
        spec.inline.as_ref().is_some_and(|(name, _)| name == n)
            || spec.retired_inline.as_ref() == Some(n)
    };
    plan.foreign_policies.extend(
        state
            .attached
            .iter()
            .filter(|a| !spec.managed_policies.contains(a))
            .cloned(),
    );
    plan.foreign_policies.extend(
        state
            .inline_names
            .iter()
            .filter(|n| !ours_inline(n))
            .map(|n| format!("inline:{n}")),
    );
    for p in &plan.foreign_policies {
        if p.ends_with(permissions::EC2_CONTAINER_SERVICE) {
            plan.warnings.push(format!(
                "{p} is attached to role {} but the minimal policy mode does not need it; detach it if nothing else relies on it",
                spec.name
            ));
        }
    }
    plan
}

pub async fn apply(iam: &aws_sdk_iam::Client, spec: &RoleSpec, plan: &RolePlan) -> Result<()> {
    for step in &plan.steps {
        tracing::debug!("applying: {}", step.describe(&spec.name));
        match step {
            Step::Create { trust } => {
                let tags = [(MANAGED_TAG.0.to_string(), MANAGED_TAG.1.to_string())];
                iam::create_role(iam, &spec.name, trust, spec.description, &tags).await?
            }
            Step::RepairTrust { trust } => iam::update_trust(iam, &spec.name, trust).await?,
            Step::Attach { arn } => iam::attach_policy(iam, &spec.name, arn).await?,
            Step::PutInline { name, doc } => {
                iam::put_inline_policy(iam, &spec.name, name, doc).await?
            }
            Step::DeleteInline { name } => iam::delete_inline_policy(iam, &spec.name, name).await?,
        }
    }
    Ok(())
}

/// Observe, plan and (unless `dry_run`) apply, then verify that a fresh observation needs no
/// further step.
pub async fn ensure(
    iam: &aws_sdk_iam::Client,
    spec: &RoleSpec,
    who: &CallerIdentity,
    dry_run: bool,
) -> Result<RolePlan> {
    let state = observe(iam, spec).await?;
    let mut plan = plan(spec, &state, who);
    if dry_run || plan.steps.is_empty() {
        return Ok(plan);
    }
    apply(iam, spec, &plan).await?;
    let after = observe(iam, spec).await?;
    let check = self::plan(spec, &after, who);
    if !check.steps.is_empty() {
        return Err(Error::Verification(format!(
            "role {} still differs after repair: {}",
            spec.name,
            check.drift.join("; ")
        )));
    }
    plan.arn = after.record.map(|r| r.arn);
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who() -> CallerIdentity {
        CallerIdentity {
            account: "123456789012".into(),
            arn: "arn:aws:iam::123456789012:user/admin".into(),
            partition: "aws".into(),
            region: "us-east-1".into(),
        }
    }

    fn converged(spec: &RoleSpec, w: &CallerIdentity) -> RoleState {
        RoleState {
            record: Some(RoleRecord {
                arn: "arn:aws:iam::123456789012:role/x".into(),
                trust_policy: trust::document(spec.service, w),
                tags: vec![],
            }),
            attached: spec.managed_policies.clone(),
            inline_names: spec.inline.iter().map(|(n, _)| n.clone()).collect(),
            owned_inline: spec.inline.as_ref().map(|(_, d)| d.clone()),
        }
    }

    #[test]
    fn missing_role_plans_create_attach_and_inline() {
        let w = who();
        let spec = RoleSpec::ecs_anywhere("r", PolicyMode::Minimal, Some("c"), &w);
        let p = plan(&spec, &RoleState::default(), &w);
        assert!(matches!(p.steps[0], Step::Create { .. }));
        assert_eq!(p.steps.len(), 3, "{:?}", p.steps);
    }

    #[test]
    fn converged_role_plans_nothing_and_reports_foreign_policies() {
        let w = who();
        let spec = RoleSpec::ecs_anywhere("r", PolicyMode::Minimal, None, &w);
        let mut state = converged(&spec, &w);
        state
            .attached
            .push(w.managed_policy_arn(permissions::EC2_CONTAINER_SERVICE));
        state.inline_names.push("someone-elses".into());
        let p = plan(&spec, &state, &w);
        assert!(p.steps.is_empty(), "{:?}", p.steps);
        assert_eq!(p.foreign_policies.len(), 2);
        assert_eq!(p.warnings.len(), 1);
    }

    #[test]
    fn switching_to_managed_retires_our_inline_policy() {
        let w = who();
        let minimal = RoleSpec::ecs_anywhere("r", PolicyMode::Minimal, None, &w);
        let state = converged(&minimal, &w);
        let managed = RoleSpec::ecs_anywhere("r", PolicyMode::Managed, None, &w);
        let p = plan(&managed, &state, &w);
        assert_eq!(
            p.steps,
            vec![
                Step::Attach {
                    arn: w.managed_policy_arn(permissions::EC2_CONTAINER_SERVICE)
                },
                Step::DeleteInline {
                    name: permissions::MINIMAL_POLICY_NAME.into()
                }
            ]
        );
        assert!(p.foreign_policies.is_empty());
    }
}
