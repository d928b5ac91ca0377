//! `register`: lock, preflight, observe, plan, apply, verify. Takes the host from nothing to a
//! verified member of an ECS cluster; a second run finds nothing to do.

pub mod source;
pub mod verify;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::aws::{ecs, ssm, sts, Clients};
use crate::config::types::PolicyMode;
use crate::error::{Error, Result};
use crate::host::ecs_agent;
use crate::host::envfile;
use crate::host::envfile::EnvFile;
use crate::host::fs::{remove_if_exists, write_atomic};
use crate::host::paths::HostPaths;
use crate::host::ssm_agent::{self, RegisterFailure, Registration, SsmAgentCli};
use crate::host::systemd::{ServiceManager, UnitState, ECS_UNIT};
use crate::role::{self, RoleSpec, MANAGED_TAG};
use crate::secret::Secret;
use crate::state::{HostState, Phase};
use source::ActivationSource;

/// Tag naming the host a minted activation belongs to (its machine id), so an activation
/// left behind by a killed run is found and deleted by the next one.
pub const HOST_TAG: &str = "ecs-anywhere:host";

/// What the operator asked for, validated.
#[derive(Debug, Clone)]
pub struct Request {
    pub cluster: String,
    pub region: String,
    pub activation: ActivationSource,
    pub instance_name: String,
    pub role_name: String,
    pub policy: PolicyMode,
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub enable_gpu: bool,
    pub ecs_endpoint: Option<String>,
    pub no_start: bool,
    pub move_cluster: bool,
    pub create_cluster: bool,
    pub wait: Duration,
    pub dry_run: bool,
}

/// The machine: files under the root, the service manager and the SSM agent's CLI.
pub struct Host<'a> {
    pub paths: HostPaths,
    pub services: &'a dyn ServiceManager,
    pub agent: &'a dyn SsmAgentCli,
    pub introspection: String,
}

#[derive(Debug, Clone)]
pub struct Observed {
    pub registration: Option<Registration>,
    pub ecs_config: EnvFile,
    pub agent_db: Option<ecs_agent::AgentState>,
    pub ssm_unit: &'static str,
    pub ssm: UnitState,
    pub ecs: UnitState,
    pub state: HostState,
    /// Whether the cluster exists; `None` when the credentials cannot tell.
    pub cluster_exists: Option<bool>,
    /// Healing signals, found by `reconcile` (always false for `register`).
    pub heal: Heal,
}

/// What `reconcile` found wrong beyond what `register` looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Heal {
    /// The SSM identity is dead (files gone with an old ECS state, deregistered remotely, or
    /// the agent hibernating): register again and reset the ECS agent's state.
    pub identity_lost: Option<String>,
    /// The node's credentials expired while the SSM agent runs: restart it.
    pub stale_credentials: bool,
    /// The container instance is INACTIVE or gone while the identity is fine.
    pub container_instance_gone: Option<String>,
    /// The old identity and container instance, to clean up where credentials allow.
    pub dead_managed_instance: Option<String>,
    pub stale_container_instance: Option<String>,
}

pub fn observe(host: &Host) -> Result<Observed> {
    let ecs_config = envfile::read(&host.paths.ecs_config())?.unwrap_or_default();
    let ssm_unit = crate::host::systemd::ssm_unit(host.services)?;
    Ok(Observed {
        registration: ssm_agent::registration(&host.paths)?,
        ecs_config,
        agent_db: ecs_agent::saved_state(&host.paths),
        ssm_unit,
        ssm: host.services.state(ssm_unit)?,
        ecs: host.services.state(ECS_UNIT)?,
        state: HostState::load(&host.paths)?,
        cluster_exists: None,
        heal: Heal::default(),
    })
}

/// One step of the plan. Each is idempotent and described for the report.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    DeleteLeftoverActivation(String),
    CreateCluster,
    EnsureRole,
    MintActivation,
    RegisterSsm,
    RestartSsmAgent,
    StartSsmAgent,
    StopEcsForMove {
        from: String,
    },
    ResetAgentState,
    DeregisterOldContainerInstance {
        cluster: String,
        arn: String,
    },
    WriteEcsConfig(String),
    StartEcs,
    RestartEcs,
    DeleteMintedActivation,
    /// Stop ecs before its state is reset for a new identity or a lost container instance.
    StopEcs,
    /// Wait until the SSM agent holds credentials for the current identity, so the ECS agent
    /// does not register with the old identity's still-valid credentials.
    WaitForNodeCredentials,
    DeregisterDeadManagedInstance(String),
}

impl Step {
    pub fn describe(&self, req: &Request, unit: &str) -> String {
        match self {
            Step::DeleteLeftoverActivation(id) => {
                format!("delete activation {id} left by an interrupted run")
            }
            Step::CreateCluster => format!("create ECS cluster {}", req.cluster),
            Step::EnsureRole => format!("ensure role {}", req.role_name),
            Step::MintActivation => format!(
                "create a single-use activation for {} (role {})",
                req.instance_name, req.role_name
            ),
            Step::RegisterSsm => "register the host with SSM (amazon-ssm-agent -register)".into(),
            Step::RestartSsmAgent => format!("restart {unit} to load the new identity"),
            Step::StartSsmAgent => format!("enable and start {unit}"),
            Step::StopEcsForMove { from } => {
                format!(
                    "stop {ECS_UNIT} to move the host from cluster {from} to {}",
                    req.cluster
                )
            }
            Step::ResetAgentState => "remove /var/lib/ecs/data/agent.db".into(),
            Step::DeregisterOldContainerInstance { cluster, arn } => {
                format!("deregister container instance {arn} from cluster {cluster}")
            }
            Step::WriteEcsConfig(_) => "write /etc/ecs/ecs.config".into(),
            Step::StartEcs => format!("enable and start {ECS_UNIT}"),
            Step::RestartEcs => format!("restart {ECS_UNIT} to apply the new configuration"),
            Step::DeleteMintedActivation => "delete the single-use activation".into(),
            Step::StopEcs => format!("stop {ECS_UNIT}"),
            Step::WaitForNodeCredentials => {
                "wait for the SSM agent to fetch the new identity's credentials".into()
            }
            Step::DeregisterDeadManagedInstance(mi) => {
                format!("deregister the dead managed instance {mi}")
            }
        }
    }
}

/// The ecs.config keys this tool writes (and `deregister` removes); every other line is the
/// operator's and stays.
pub const OWNED_ECS_KEYS: &[&str] = &[
    "ECS_CLUSTER",
    "AWS_DEFAULT_REGION",
    "ECS_EXTERNAL",
    "ECS_BACKEND_HOST",
    "ECS_ENABLE_GPU_SUPPORT",
    "ECS_INSTANCE_ATTRIBUTES",
    "ECS_CONTAINER_INSTANCE_TAGS",
];

/// The ECS agent configuration this host needs, merged into what is there.
pub fn desired_ecs_config(req: &Request, current: &EnvFile) -> Result<EnvFile> {
    let mut cfg = current.clone();
    cfg.set("ECS_CLUSTER", &req.cluster);
    cfg.set("AWS_DEFAULT_REGION", &req.region);
    cfg.set("ECS_EXTERNAL", "true");
    match &req.ecs_endpoint {
        Some(url) => cfg.set("ECS_BACKEND_HOST", url),
        None => cfg.remove("ECS_BACKEND_HOST"),
    }
    if req.enable_gpu {
        cfg.set("ECS_ENABLE_GPU_SUPPORT", "true");
    }
    let json = |m: &BTreeMap<String, String>| {
        serde_json::to_string(m).map_err(|e| Error::Other(format!("cannot encode: {e}")))
    };
    if !req.attributes.is_empty() {
        cfg.set("ECS_INSTANCE_ATTRIBUTES", &json(&req.attributes)?);
    }
    if !req.tags.is_empty() {
        cfg.set("ECS_CONTAINER_INSTANCE_TAGS", &json(&req.tags)?);
    }
    Ok(cfg)
}

/// The cluster the host is in now, from its config or the agent's saved state.
pub fn current_cluster(obs: &Observed) -> Option<String> {
    obs.agent_db
        .as_ref()
        .and_then(|d| d.cluster.clone())
        .or_else(|| obs.ecs_config.get("ECS_CLUSTER"))
}

pub fn plan(req: &Request, obs: &Observed) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    if let Some(reg) = &obs.registration {
        if reg.region != req.region {
            return Err(Error::Usage(format!(
                "this host is registered with SSM as {} in {}, not {}; run `ecs-anywhere deregister` first, or use --region {}",
                reg.managed_instance_id, reg.region, req.region, reg.region
            )));
        }
    }
    let moving = match current_cluster(obs) {
        Some(c) if c != req.cluster => {
            if !req.move_cluster {
                return Err(Error::Usage(format!(
                    "this host is in ECS cluster {c}, not {}; re-run with --move-cluster to move it (stops ecs, resets the agent's state, registers it in {})",
                    req.cluster, req.cluster
                )));
            }
            Some(c)
        }
        _ => None,
    };
    if let Some(id) = &obs.state.pending_activation {
        steps.push(Step::DeleteLeftoverActivation(id.clone()));
    }
    if obs.cluster_exists == Some(false) {
        if !req.create_cluster {
            return Err(Error::Usage(format!(
                "ECS cluster {} does not exist in {}; create it, or re-run with --create-cluster",
                req.cluster, req.region
            )));
        }
        steps.push(Step::CreateCluster);
    }
    let heal = &obs.heal;
    let reset_ecs = heal.identity_lost.is_some() || heal.container_instance_gone.is_some();
    let needs_ssm = obs.registration.is_none() || heal.identity_lost.is_some();
    if reset_ecs && obs.ecs.active {
        steps.push(Step::StopEcs);
    }
    if needs_ssm {
        match req.activation {
            ActivationSource::Skip => {
                return Err(Error::Unsupported(
                    "--skip-registration was given but the host has no SSM registration (/var/lib/amazon/ssm/registration)".into(),
                ))
            }
            ActivationSource::Mint => {
                steps.push(Step::EnsureRole);
                steps.push(Step::MintActivation);
            }
            ActivationSource::Given { .. } => {}
        }
        steps.push(Step::RegisterSsm);
        steps.push(if obs.ssm.active {
            Step::RestartSsmAgent
        } else {
            Step::StartSsmAgent
        });
        if heal.identity_lost.is_some() {
            steps.push(Step::WaitForNodeCredentials);
        }
    } else if !obs.ssm.active || !obs.ssm.enabled {
        steps.push(Step::StartSsmAgent);
    } else if heal.stale_credentials {
        steps.push(Step::RestartSsmAgent);
        steps.push(Step::WaitForNodeCredentials);
    }
    if reset_ecs && obs.agent_db.is_some() {
        steps.push(Step::ResetAgentState);
    }
    if let Some(from) = moving {
        steps.push(Step::StopEcsForMove { from: from.clone() });
        if let Some(arn) = obs
            .agent_db
            .as_ref()
            .and_then(|d| d.container_instance_arn.clone())
        {
            steps.push(Step::DeregisterOldContainerInstance { cluster: from, arn });
        }
        steps.push(Step::ResetAgentState);
    }
    let cfg = desired_ecs_config(req, &obs.ecs_config)?;
    let cfg_changed = cfg != obs.ecs_config;
    if cfg_changed {
        steps.push(Step::WriteEcsConfig(cfg.render()));
    }
    if !req.no_start {
        let restarted_for_move = steps
            .iter()
            .any(|s| matches!(s, Step::StopEcsForMove { .. } | Step::StopEcs));
        if !obs.ecs.active || !obs.ecs.enabled || restarted_for_move {
            steps.push(Step::StartEcs);
        } else if cfg_changed {
            steps.push(Step::RestartEcs);
        }
    }
    if steps.contains(&Step::MintActivation) {
        steps.push(Step::DeleteMintedActivation);
    }
    if let Some(arn) = &heal.stale_container_instance {
        steps.push(Step::DeregisterOldContainerInstance {
            cluster: req.cluster.clone(),
            arn: arn.clone(),
        });
    }
    if let Some(mi) = &heal.dead_managed_instance {
        steps.push(Step::DeregisterDeadManagedInstance(mi.clone()));
    }
    Ok(steps)
}

/// The AWS clients `apply` uses. Building them makes no call and needs no credentials; only
/// the steps that call AWS (minting, clean-ups) need them, and a host registering with a
/// given activation may have none at all.
pub struct Aws<'a> {
    pub clients: &'a Clients,
}

pub struct Applied {
    pub managed_instance_id: Option<String>,
}

pub async fn apply(
    req: &Request,
    host: &Host<'_>,
    obs: &Observed,
    steps: &[Step],
    aws: &Aws<'_>,
) -> Result<Applied> {
    let mut state = obs.state.clone();
    let mut minted: Option<(String, Secret)> = None;
    for step in steps {
        tracing::info!("{}", step.describe(req, obs.ssm_unit));
        match step {
            Step::DeleteLeftoverActivation(id) => {
                ssm::delete_activation(&aws.clients.ssm, id).await?;
                state.pending_activation = None;
                state.save(&host.paths)?;
            }
            Step::CreateCluster => ecs::create_cluster(&aws.clients.ecs, &req.cluster).await?,
            Step::EnsureRole => {
                let who = sts::caller_identity(&aws.clients.sts, &req.region).await?;
                let spec =
                    RoleSpec::ecs_anywhere(&req.role_name, req.policy, Some(&req.cluster), &who);
                role::ensure(&aws.clients.iam, &spec, &who, false).await?;
            }
            Step::MintActivation => {
                delete_leftovers(host, aws).await?;
                let created = mint(req, host, aws).await?;
                state.phase = Phase::ActivationCreated;
                state.pending_activation = Some(created.0.clone());
                state.save(&host.paths)?;
                minted = Some(created);
            }
            Step::RegisterSsm => {
                let (id, code) = match (&req.activation, &minted) {
                    (_, Some((id, code))) => (id.clone(), code.clone()),
                    (ActivationSource::Given { id, code, .. }, None) => (id.clone(), code.clone()),
                    _ => return Err(Error::Other("no activation to register with".into())),
                };
                register_ssm(host, &id, &code, &req.region)?;
                state.phase = Phase::SsmRegistered;
                state.region = Some(req.region.clone());
                state.managed_instance_id =
                    ssm_agent::registration(&host.paths)?.map(|r| r.managed_instance_id);
                state.save(&host.paths)?;
            }
            Step::RestartSsmAgent => host.services.restart(obs.ssm_unit)?,
            Step::StartSsmAgent => host.services.enable_and_start(obs.ssm_unit)?,
            Step::StopEcsForMove { .. } => host.services.stop(ECS_UNIT)?,
            Step::DeregisterOldContainerInstance { cluster, arn } => {
                // Best effort: the node's own credentials may not allow it.
                if let Err(e) = ecs::deregister(&aws.clients.ecs, cluster, arn).await {
                    tracing::warn!(
                        "could not deregister the old container instance: {}",
                        e.one_line()
                    );
                }
            }
            Step::ResetAgentState => {
                remove_if_exists(&host.paths.ecs_agent_db())?;
            }
            Step::WriteEcsConfig(text) => {
                let path = host.paths.ecs_config();
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                }
                write_atomic(&path, text.as_bytes(), 0o644)?;
            }
            Step::StartEcs => host.services.enable_and_start(ECS_UNIT)?,
            Step::RestartEcs => host.services.restart(ECS_UNIT)?,
            Step::DeleteMintedActivation => {
                if let Some((id, _)) = &minted {
                    ssm::delete_activation(&aws.clients.ssm, id).await?;
                    state.pending_activation = None;
                }
            }
            Step::StopEcs => host.services.stop(ECS_UNIT)?,
            Step::WaitForNodeCredentials => wait_for_node_credentials(host).await?,
            Step::DeregisterDeadManagedInstance(mi) => {
                // Best effort: only an operator's credentials may do this.
                match ssm::deregister_managed_instance(&aws.clients.ssm, mi).await {
                    Ok(_) => {}
                    Err(e) => tracing::warn!(
                        "could not deregister the dead managed instance {mi}: {}",
                        e.one_line()
                    ),
                }
            }
        }
    }
    if steps
        .iter()
        .any(|s| matches!(s, Step::StartEcs | Step::RestartEcs))
    {
        state.phase = Phase::AgentsStarted;
    }
    state.cluster = Some(req.cluster.clone());
    state.region = Some(req.region.clone());
    let registration = ssm_agent::registration(&host.paths)?;
    state.managed_instance_id = registration.as_ref().map(|r| r.managed_instance_id.clone());
    if state.phase == Phase::Unregistered && registration.is_some() {
        state.phase = Phase::SsmRegistered;
    }
    state.save(&host.paths)?;
    Ok(Applied {
        managed_instance_id: state.managed_instance_id,
    })
}

/// Polls `identity_config.json` until it names the registered instance with unexpired
/// credentials (the SSM agent writes it after fetching them).
async fn wait_for_node_credentials(host: &Host<'_>) -> Result<()> {
    let Some(reg) = ssm_agent::registration(&host.paths)? else {
        return Ok(());
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        if ssm_agent::credentials_for(&host.paths, &reg.managed_instance_id) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::Other(format!(
                "the SSM agent did not fetch credentials for {} within 90s; see `journalctl -u amazon-ssm-agent`",
                reg.managed_instance_id
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn register_ssm(host: &Host, id: &str, code: &Secret, region: &str) -> Result<()> {
    match host.agent.register(code, id, region) {
        Ok(()) => {}
        Err(RegisterFailure::Activation(name)) => {
            let why = match name.as_str() {
                "ActivationExpired" => "has expired",
                "RegistrationLimitExceeded" => "has no registrations left",
                _ => "is unknown or the code does not match",
            };
            return Err(Error::Activation(format!(
                "activation {id} {why} ({name}); nothing was changed on this host; create a new one with `ecs-anywhere activation create`"
            )));
        }
        Err(RegisterFailure::Other(msg)) => return Err(Error::Other(msg)),
    }
    if ssm_agent::registration(&host.paths)?.is_none() {
        return Err(Error::Other(
            "amazon-ssm-agent -register succeeded but wrote no registration file".into(),
        ));
    }
    Ok(())
}

pub fn machine_id(paths: &HostPaths) -> String {
    std::fs::read_to_string(paths.machine_id())
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Deletes single-use activations an interrupted run minted for this host and never used or
/// recorded (killed between CreateActivation and the state write).
async fn delete_leftovers(host: &Host<'_>, aws: &Aws<'_>) -> Result<()> {
    let mid = machine_id(&host.paths);
    for a in ssm::describe_activations(&aws.clients.ssm, &[]).await? {
        let ours = a.tags.get(MANAGED_TAG.0).map(String::as_str) == Some(MANAGED_TAG.1)
            && a.tags.get(HOST_TAG) == Some(&mid);
        if ours {
            tracing::info!(activation_id = %a.id, "deleting an activation left by an interrupted run");
            ssm::delete_activation(&aws.clients.ssm, &a.id).await?;
        }
    }
    Ok(())
}

async fn mint(req: &Request, host: &Host<'_>, aws: &Aws<'_>) -> Result<(String, Secret)> {
    let mut tags = BTreeMap::new();
    tags.insert(MANAGED_TAG.0.to_string(), MANAGED_TAG.1.to_string());
    tags.insert(HOST_TAG.to_string(), machine_id(&host.paths));
    let expires =
        aws_smithy_types::DateTime::from(std::time::SystemTime::now() + Duration::from_secs(3600));
    let new = ssm::NewActivation {
        role: &req.role_name,
        registration_limit: 1,
        expires_at: expires,
        instance_name: Some(&req.instance_name),
        description: Some("single-use activation minted by ecs-anywhere register"),
        tags: &tags,
    };
    let created = crate::activation::create(
        &aws.clients.ssm,
        &new,
        crate::activation::DEFAULT_PROPAGATION_TIMEOUT,
    )
    .await?;
    Ok((created.id, created.code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::systemd::SSM_UNIT;

    fn req() -> Request {
        Request {
            cluster: "prod".into(),
            region: "us-east-1".into(),
            activation: ActivationSource::Given {
                id: "1b2c3d4e-0000-1111-2222-333344445555".into(),
                code: Secret::new("abcdefghijklmnopqrst"),
                region: None,
            },
            instance_name: "web-1".into(),
            role_name: "ecsAnywhereRole".into(),
            policy: PolicyMode::Managed,
            attributes: BTreeMap::from([("rack".to_string(), "4".to_string())]),
            tags: BTreeMap::new(),
            enable_gpu: false,
            ecs_endpoint: None,
            no_start: false,
            move_cluster: false,
            create_cluster: false,
            wait: Duration::from_secs(1),
            dry_run: false,
        }
    }

    fn fresh() -> Observed {
        let off = UnitState {
            installed: true,
            enabled: false,
            active: false,
            failed: false,
            exit_status: 0,
        };
        Observed {
            registration: None,
            ecs_config: EnvFile::default(),
            agent_db: None,
            ssm_unit: SSM_UNIT,
            ssm: off,
            ecs: off,
            state: HostState::default(),
            cluster_exists: None,
            heal: Heal::default(),
        }
    }

    fn converged(req: &Request) -> Observed {
        let on = UnitState {
            installed: true,
            enabled: true,
            active: true,
            failed: false,
            exit_status: 0,
        };
        Observed {
            registration: Some(Registration {
                managed_instance_id: "mi-0123456789abcdef0".into(),
                region: "us-east-1".into(),
            }),
            ecs_config: desired_ecs_config(req, &EnvFile::default()).unwrap(),
            ssm: on,
            ecs: on,
            ..fresh()
        }
    }

    #[test]
    fn a_fresh_host_registers_configures_then_starts() {
        let r = req();
        let steps = plan(&r, &fresh()).unwrap();
        let names: Vec<String> = steps.iter().map(|s| format!("{s:?}")).collect();
        assert_eq!(steps[0], Step::RegisterSsm, "{names:?}");
        assert_eq!(steps[1], Step::StartSsmAgent);
        assert!(
            matches!(&steps[2], Step::WriteEcsConfig(t) if t.contains("ECS_INSTANCE_ATTRIBUTES={\"rack\":\"4\"}"))
        );
        // The attributes are on disk before the agent first starts.
        assert_eq!(steps[3], Step::StartEcs);
        assert_eq!(steps.len(), 4);
    }

    #[test]
    fn a_converged_host_plans_nothing() {
        let r = req();
        assert_eq!(plan(&r, &converged(&r)).unwrap(), vec![]);
    }

    #[test]
    fn another_cluster_is_refused_unless_moving() {
        let mut r = req();
        let mut obs = converged(&r);
        r.cluster = "dev".into();
        let err = plan(&r, &obs).unwrap_err();
        assert_eq!(err.exit_code().code(), 2);
        assert!(err.to_string().contains("--move-cluster"));
        r.move_cluster = true;
        obs.agent_db = Some(ecs_agent::AgentState {
            cluster: Some("prod".into()),
            container_instance_arn: Some("arn:old".into()),
        });
        let steps = plan(&r, &obs).unwrap();
        assert_eq!(
            steps,
            vec![
                Step::StopEcsForMove {
                    from: "prod".into()
                },
                Step::DeregisterOldContainerInstance {
                    cluster: "prod".into(),
                    arn: "arn:old".into()
                },
                Step::ResetAgentState,
                Step::WriteEcsConfig(desired_ecs_config(&r, &obs.ecs_config).unwrap().render()),
                Step::StartEcs,
            ]
        );
    }

    #[test]
    fn minting_cleans_up_and_missing_clusters_need_consent() {
        let mut r = req();
        r.activation = ActivationSource::Mint;
        let mut obs = fresh();
        obs.state.pending_activation = Some("1b2c3d4e-0000-1111-2222-333344445555".into());
        let steps = plan(&r, &obs).unwrap();
        assert!(matches!(steps[0], Step::DeleteLeftoverActivation(_)));
        assert_eq!(&steps[1..3], &[Step::EnsureRole, Step::MintActivation]);
        assert_eq!(steps.last(), Some(&Step::DeleteMintedActivation));
        obs.cluster_exists = Some(false);
        assert!(plan(&r, &obs)
            .unwrap_err()
            .to_string()
            .contains("--create-cluster"));
        r.create_cluster = true;
        assert!(plan(&r, &obs).unwrap().contains(&Step::CreateCluster));
    }

    #[test]
    fn skip_registration_needs_an_identity_and_regions_must_match() {
        let mut r = req();
        r.activation = ActivationSource::Skip;
        assert_eq!(plan(&r, &fresh()).unwrap_err().exit_code().code(), 6);
        let mut obs = converged(&r);
        obs.registration.as_mut().unwrap().region = "eu-west-1".into();
        assert!(plan(&r, &obs)
            .unwrap_err()
            .to_string()
            .contains("deregister"));
    }
}
