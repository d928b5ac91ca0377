//! Did membership really succeed? Locally: the agent's introspection shows a container
//! instance ARN in the right cluster. Remotely, where the credentials allow: the container
//! instance found by `ec2InstanceId == mi-...` is ACTIVE and connected, and the managed
//! instance is Online with the expected role. Each check reports pass, fail or skipped.

use std::time::Duration;

use tokio::time::Instant;

use crate::aws::{ecs, ssm, Clients};
use crate::error::Error;
use crate::host::ecs_agent;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    Skipped,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub name: &'static str,
    pub result: Verdict,
    pub detail: String,
}

impl Check {
    fn new(name: &'static str, result: Verdict, detail: impl Into<String>) -> Self {
        Check {
            name,
            result,
            detail: detail.into(),
        }
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Verification {
    pub checks: Vec<Check>,
    pub container_instance_arn: Option<String>,
}

impl Verification {
    pub fn failed(&self) -> Vec<&Check> {
        self.checks
            .iter()
            .filter(|c| c.result == Verdict::Fail)
            .collect()
    }
}

/// A remote check that the credentials do not allow is skipped, not failed.
fn skipped_for(err: &Error) -> Option<String> {
    match err {
        Error::AccessDenied { action, .. } => Some(format!("not permitted ({action})")),
        Error::Credentials(_) => Some("no usable AWS credentials".into()),
        _ => None,
    }
}

pub struct Expect<'a> {
    pub cluster: &'a str,
    pub managed_instance_id: Option<&'a str>,
    pub role_name: Option<&'a str>,
    pub introspection: &'a str,
    /// How long to keep polling for a check that is converging (registration, heartbeats).
    pub wait: Duration,
}

pub async fn verify(expect: &Expect<'_>, clients: Option<&Clients>) -> Verification {
    let mut v = verify_local(expect).await;
    verify_remote(expect, clients, &mut v).await;
    v
}

/// The local check alone (the agent's introspection), polling until `expect.wait`.
pub async fn verify_local(expect: &Expect<'_>) -> Verification {
    let deadline = Instant::now() + expect.wait;
    let mut v = Verification::default();
    v.checks
        .push(local(expect, deadline, &mut v.container_instance_arn).await);
    v
}

/// The remote checks, after the local one: they compare against the ARN it found.
pub async fn verify_remote(expect: &Expect<'_>, clients: Option<&Clients>, v: &mut Verification) {
    let deadline = Instant::now() + expect.wait;
    let Some(mi) = expect.managed_instance_id else {
        v.checks.push(Check::new(
            "ecs_remote",
            Verdict::Fail,
            "the host has no SSM identity",
        ));
        return;
    };
    let Some(clients) = clients else {
        v.checks.push(Check::new(
            "ecs_remote",
            Verdict::Skipped,
            "no AWS configuration",
        ));
        v.checks.push(Check::new(
            "ssm_remote",
            Verdict::Skipped,
            "no AWS configuration",
        ));
        return;
    };
    v.checks
        .push(remote_ecs(expect, mi, clients, deadline, &v.container_instance_arn).await);
    v.checks
        .push(remote_ssm(expect, mi, clients, deadline).await);
}

async fn local(expect: &Expect<'_>, deadline: Instant, arn: &mut Option<String>) -> Check {
    let mut last = String::from("the ECS agent does not answer on its introspection endpoint");
    loop {
        match ecs_agent::metadata(expect.introspection) {
            Ok(Some(m)) => match (&m.cluster, &m.container_instance_arn) {
                (Some(c), Some(a)) if c == expect.cluster => {
                    *arn = Some(a.clone());
                    return Check::new("ecs_local", Verdict::Pass, format!("{a} in cluster {c}"));
                }
                (Some(c), _) if c != expect.cluster => {
                    last = format!("the ECS agent runs for cluster {c}, not {}", expect.cluster);
                }
                _ => last = "the ECS agent has not registered a container instance yet".into(),
            },
            Ok(None) => {}
            Err(e) => last = e.one_line(),
        }
        if Instant::now() >= deadline {
            return Check::new("ecs_local", Verdict::Fail, last);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn remote_ecs(
    expect: &Expect<'_>,
    mi: &str,
    clients: &Clients,
    deadline: Instant,
    local_arn: &Option<String>,
) -> Check {
    loop {
        let detail = match ecs::find_by_instance_id(&clients.ecs, expect.cluster, mi).await {
            Err(e) => match skipped_for(&e) {
                Some(why) => return Check::new("ecs_remote", Verdict::Skipped, why),
                None => e.one_line(),
            },
            Ok(found) => {
                let active: Vec<_> = found.iter().filter(|c| c.status == "ACTIVE").collect();
                match active.as_slice() {
                    [one]
                        if one.agent_connected
                            && local_arn.as_ref().is_none_or(|a| *a == one.arn) =>
                    {
                        return Check::new(
                            "ecs_remote",
                            Verdict::Pass,
                            format!("{} ACTIVE and connected", one.arn),
                        )
                    }
                    [one] if !one.agent_connected => {
                        format!("{} is ACTIVE but its agent is not connected", one.arn)
                    }
                    [one] => format!(
                        "{} is ACTIVE but the local agent reports another ARN",
                        one.arn
                    ),
                    [] => format!(
                        "no ACTIVE container instance for {mi} in cluster {}",
                        expect.cluster
                    ),
                    many => format!(
                        "{} ACTIVE container instances for {mi} in cluster {}",
                        many.len(),
                        expect.cluster
                    ),
                }
            }
        };
        if Instant::now() >= deadline {
            return Check::new("ecs_remote", Verdict::Fail, detail);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn remote_ssm(expect: &Expect<'_>, mi: &str, clients: &Clients, deadline: Instant) -> Check {
    loop {
        let detail = match ssm::managed_instance(&clients.ssm, mi).await {
            Err(e) => match skipped_for(&e) {
                Some(why) => return Check::new("ssm_remote", Verdict::Skipped, why),
                None => e.one_line(),
            },
            Ok(None) => format!("SSM does not know {mi}: it was deregistered"),
            Ok(Some(m)) => {
                let role_ok = match (expect.role_name, &m.iam_role) {
                    (Some(want), Some(have)) => want == have,
                    _ => true,
                };
                if m.ping_status == "Online" && role_ok {
                    return Check::new(
                        "ssm_remote",
                        Verdict::Pass,
                        format!("{mi} Online with role {}", m.iam_role.unwrap_or_default()),
                    );
                }
                if !role_ok {
                    // A role swapped by another tool does not heal by waiting.
                    return Check::new(
                        "ssm_remote",
                        Verdict::Fail,
                        format!(
                            "{mi} uses role {}, not {}",
                            m.iam_role.unwrap_or_default(),
                            expect.role_name.unwrap_or_default()
                        ),
                    );
                }
                format!("{mi} is {}", m.ping_status)
            }
        };
        if Instant::now() >= deadline {
            return Check::new("ssm_remote", Verdict::Fail, detail);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
