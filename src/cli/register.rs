//! `ecs-anywhere register`: this host, from nothing to a verified member of an ECS cluster.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::aws::{ecs, Clients};
use crate::cli::Context;
use crate::config::types::{
    validate_cluster_name, validate_role_name, HumanDuration, KeyValue, PolicyMode,
};
use crate::error::{Error, Result};
use crate::host::ecs_agent::INTROSPECTION;
use crate::host::lock;
use crate::host::paths::HostPaths;
use crate::host::ssm_agent::SsmAgent;
use crate::host::systemd::{Systemctl, ECS_UNIT};
use crate::output::Outcome;
use crate::register::source::{self, ActivationSource};
use crate::register::verify::{self, Expect, Verdict};
use crate::register::{self, Aws, Host, Request};
use crate::role;
use crate::secret::Secret;
use crate::state::{HostState, Phase};

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// ECS cluster to join [config: cluster]
    #[arg(long, env = "ECS_ANYWHERE_CLUSTER", value_name = "NAME")]
    cluster: Option<String>,

    /// Activation id (with an activation code)
    #[arg(long, value_name = "ID")]
    activation_id: Option<String>,

    /// Activation code on the command line (visible in the process list: prefer the file or environment)
    #[arg(long, value_name = "CODE", hide_env_values = true)]
    activation_code: Option<String>,

    /// Read the activation code from a file, or `-` for stdin
    #[arg(long, value_name = "PATH", conflicts_with = "activation_code")]
    activation_code_file: Option<PathBuf>,

    /// The file `activation create --out` wrote (id, code, region) [config: host.activation_file]
    #[arg(long, value_name = "PATH", conflicts_with_all = ["activation_id", "activation_code", "activation_code_file"])]
    activation_file: Option<PathBuf>,

    /// Name of the managed instance [config: host.instance_name] [default: the host name]
    #[arg(long, value_name = "NAME")]
    instance_name: Option<String>,

    /// Custom attribute of the container instance, set at first registration (repeatable)
    #[arg(long = "attribute", value_name = "KEY=VALUE")]
    attributes: Vec<KeyValue>,

    /// Tag of the container instance, set at first registration (repeatable)
    #[arg(long = "container-instance-tag", value_name = "KEY=VALUE")]
    container_instance_tags: Vec<KeyValue>,

    /// Let the ECS agent use the host's GPUs [config: host.enable_gpu]
    #[arg(long)]
    enable_gpu: bool,

    /// ECS endpoint for the agent (ECS_BACKEND_HOST) [config: host.ecs_endpoint]
    #[arg(long, value_name = "URL")]
    ecs_endpoint: Option<String>,

    /// Configure everything but do not start the ECS agent (and skip verification)
    #[arg(long)]
    no_start: bool,

    /// The host is already registered with SSM by other means
    #[arg(long)]
    skip_registration: bool,

    /// Move the host from the cluster it is in to --cluster
    #[arg(long)]
    move_cluster: bool,

    /// Create the cluster if it does not exist
    #[arg(long)]
    create_cluster: bool,

    /// How long verification waits for the agent to register and connect [config: host.wait] [default: 2m]
    #[arg(long, value_name = "DURATION")]
    wait: Option<HumanDuration>,

    /// Role for an activation minted by this command [config: role.name] [default: ecsAnywhereRole]
    #[arg(long, env = "ECS_ANYWHERE_ROLE_NAME", value_name = "NAME")]
    role_name: Option<String>,

    /// Policy mode if the role has to be ensured [config: role.policy] [default: managed]
    #[arg(long, env = "ECS_ANYWHERE_ROLE_POLICY", value_enum)]
    policy: Option<PolicyMode>,
}

fn to_map(kvs: Vec<KeyValue>, base: Option<BTreeMap<String, String>>) -> BTreeMap<String, String> {
    let mut m = base.unwrap_or_default();
    for kv in kvs {
        m.insert(kv.key, kv.value);
    }
    m
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "ecs-anywhere-host".into())
}

impl RegisterArgs {
    pub(crate) fn cluster(&self) -> Option<&str> {
        self.cluster.as_deref()
    }

    fn activation_source(&self, ctx: &Context) -> Result<ActivationSource> {
        if self.skip_registration {
            return Ok(ActivationSource::Skip);
        }
        if let Some(path) = self
            .activation_file
            .clone()
            .or_else(|| ctx.file.host.activation_file.clone())
        {
            return source::read_activation_file(&path);
        }
        let env_code = std::env::var("ECS_ANYWHERE_ACTIVATION_CODE").ok();
        let code = match (&self.activation_code, &self.activation_code_file, env_code) {
            (Some(c), _, _) => {
                tracing::warn!("--activation-code is visible in the process list; prefer --activation-code-file or ECS_ANYWHERE_ACTIVATION_CODE");
                source::validate_code(c)?;
                Some(Secret::new(c.clone()))
            }
            (None, Some(path), _) => Some(source::read_code_file(path)?),
            (None, None, Some(c)) => {
                source::validate_code(c.trim())?;
                Some(Secret::new(c.trim()))
            }
            (None, None, None) => None,
        };
        match (&self.activation_id, code) {
            (Some(id), Some(code)) => {
                crate::aws::ssm::validate_activation_id(id)?;
                Ok(ActivationSource::Given {
                    id: id.clone(),
                    code,
                    region: None,
                })
            }
            (Some(_), None) => Err(Error::Usage(
                "--activation-id needs the code: --activation-code-file, ECS_ANYWHERE_ACTIVATION_CODE or --activation-code".into(),
            )),
            (None, Some(_)) => Err(Error::Usage(
                "an activation code needs its --activation-id".into(),
            )),
            (None, None) => Ok(ActivationSource::Mint),
        }
    }

    pub(crate) fn request(&self, ctx: &Context) -> Result<Request> {
        let cluster = ctx.cluster(self.cluster.as_deref()).ok_or_else(|| {
            Error::Usage("no cluster: pass --cluster or set `cluster` in the config file".into())
        })?;
        validate_cluster_name(&cluster).map_err(Error::Usage)?;
        let activation = self.activation_source(ctx)?;
        let file_region = match &activation {
            ActivationSource::Given { region, .. } => region.clone(),
            _ => None,
        };
        let region = ctx
            .aws_settings()
            .region
            .or(file_region)
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .ok_or_else(|| {
                Error::Usage(
                    "no AWS region: pass --region or set `region` in the config file".into(),
                )
            })?;
        let role_name = self
            .role_name
            .clone()
            .or_else(|| ctx.file.role.name.clone())
            .unwrap_or_else(|| role::DEFAULT_ROLE.to_string());
        validate_role_name(&role_name).map_err(Error::Usage)?;
        let host = &ctx.file.host;
        let instance_name = self
            .instance_name
            .clone()
            .or_else(|| host.instance_name.clone())
            .unwrap_or_else(hostname);
        let ecs_endpoint = self
            .ecs_endpoint
            .clone()
            .or_else(|| host.ecs_endpoint.clone());
        if let Some(url) = &ecs_endpoint {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(Error::Usage(format!(
                    "--ecs-endpoint `{url}` is not an http(s) URL"
                )));
            }
        }
        Ok(Request {
            cluster,
            region,
            activation,
            instance_name,
            role_name,
            policy: self
                .policy
                .or(ctx.file.role.policy)
                .unwrap_or(PolicyMode::Managed),
            attributes: to_map(self.attributes.clone(), host.attributes.clone()),
            tags: to_map(
                self.container_instance_tags.clone(),
                host.container_instance_tags.clone(),
            ),
            enable_gpu: self.enable_gpu || host.enable_gpu.unwrap_or(false),
            ecs_endpoint,
            no_start: self.no_start,
            move_cluster: self.move_cluster || host.move_cluster.unwrap_or(false),
            create_cluster: self.create_cluster,
            wait: self
                .wait
                .or(host.wait)
                .map(|w| w.0)
                .unwrap_or(Duration::from_secs(120)),
            dry_run: ctx.dry_run(),
        })
    }

    pub async fn run(self, ctx: &Context) -> Result<Outcome> {
        let paths = HostPaths::new(&ctx.global.root);
        must_be_root_under_systemd(&paths)?;
        let req = self.request(ctx)?;
        let real = RealHost::new(&paths);
        let host = real.host();
        must_support(&host, &req)?;
        let run_lock = lock::acquire(&paths.lock_file(), Duration::from_secs(300))?;
        run_lock.share_with_children()?;
        converge(ctx, &req, &host, Mode::Register).await
    }
}

/// The machine this runs on: systemctl and the installed SSM agent.
pub(crate) struct RealHost {
    paths: HostPaths,
    services: Systemctl,
    agent: SsmAgent,
}

impl RealHost {
    pub(crate) fn new(paths: &HostPaths) -> Self {
        RealHost {
            paths: paths.clone(),
            services: Systemctl,
            agent: SsmAgent {
                paths: paths.clone(),
            },
        }
    }

    pub(crate) fn host(&self) -> Host<'_> {
        Host {
            paths: self.paths.clone(),
            services: &self.services,
            agent: &self.agent,
            introspection: INTROSPECTION.to_string(),
        }
    }
}

/// `register` converges to what was asked; `reconcile` also looks for what went wrong since
/// (a dead identity, stale credentials, a lost container instance) and heals it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Register,
    Reconcile,
}

/// Observe, plan, apply, verify: the one path shared by `register` and `reconcile`.
pub(crate) async fn converge(
    ctx: &Context,
    req: &Request,
    host: &Host<'_>,
    mode: Mode,
) -> Result<Outcome> {
    let paths = host.paths.clone();
    let services = host.services;
    let req = req.clone();
    let mut settings = ctx.aws_settings();
    settings.region = Some(req.region.clone());
    let clients = Clients::new(&crate::aws::sdk_config(&settings).await?);

    let mut obs = register::observe(host)?;
    obs.cluster_exists = match ecs::cluster_exists(&clients.ecs, &req.cluster).await {
        Ok(b) => Some(b),
        Err(e @ (Error::AccessDenied { .. } | Error::Credentials(_))) => {
            tracing::debug!("cannot check the cluster: {}", e.one_line());
            None
        }
        Err(e) => return Err(e),
    };
    if mode == Mode::Reconcile {
        obs.heal = crate::reconcile::detect(&req, host, &obs, &clients).await?;
    }
    let steps = register::plan(&req, &obs)?;
    let command = match mode {
        Mode::Register => "register",
        Mode::Reconcile => "reconcile",
    };
    let mut out = Outcome::new(command, req.dry_run);
    out.set("decisions", crate::reconcile::decisions(&obs.heal));
    out.actions = steps
        .iter()
        .map(|s| s.describe(&req, obs.ssm_unit))
        .collect();
    out.set("cluster", &req.cluster);
    out.set("region", &req.region);
    if req.dry_run {
        out.set(
            "managed_instance_id",
            obs.registration.as_ref().map(|r| &r.managed_instance_id),
        );
        return Ok(out);
    }
    let applied = register::apply(&req, host, &obs, &steps, &Aws { clients: &clients }).await?;
    out.changed = !steps.is_empty();
    out.set("managed_instance_id", &applied.managed_instance_id);

    if req.no_start {
        out.set(
            "verification",
            serde_json::json!({"checks": [], "skipped": "--no-start"}),
        );
        out.text = "registered; the ECS agent was not started (--no-start)\n".into();
        return Ok(out);
    }
    let expect = Expect {
        cluster: &req.cluster,
        managed_instance_id: applied.managed_instance_id.as_deref(),
        // Only a minted activation tells us the role; a given one carries its own.
        role_name: matches!(req.activation, ActivationSource::Mint)
            .then_some(req.role_name.as_str()),
        introspection: &host.introspection,
        wait: req.wait,
    };
    let mut v = verify::verify_local(&expect).await;
    // The SDK reads the shared credentials file once; after a registration the SSM agent
    // has written the node's credentials there since, so look again for the remote checks.
    let clients = if steps.contains(&register::Step::RegisterSsm) {
        Clients::new(&crate::aws::sdk_config(&settings).await?)
    } else {
        clients
    };
    verify::verify_remote(&expect, Some(&clients), &mut v).await;
    out.set("container_instance_arn", &v.container_instance_arn);
    out.set("checks", &v.checks);
    out.text = render_checks(&v.checks);
    let mut state = HostState::load(&paths)?;
    state.container_instance_arn = v.container_instance_arn.clone();
    let failed = v.failed();
    if failed.is_empty() {
        state.phase = Phase::Verified;
    }
    state.save(&paths)?;
    if let Some(first) = failed.first() {
        // Debian's ecs.service restarts the agent even after a terminal exit 5, so the
        // exit status says more than the unit's state.
        let unit = services.state(ECS_UNIT).ok();
        let hint = match unit {
                Some(u) if u.exit_status == 5 => "; the ECS agent stopped with a terminal error (exit 5: missing cluster, access denied, or a cluster mismatch in agent.db): see `journalctl -u ecs`",
                Some(u) if u.failed => "; ecs.service has failed: see `journalctl -u ecs`",
                _ => "",
            };
        out.failure = Some(Error::Verification(format!(
            "registration not verified: {}: {}{hint}",
            first.name, first.detail
        )));
    }
    Ok(out)
}

pub fn render_checks(checks: &[verify::Check]) -> String {
    checks
        .iter()
        .map(|c| {
            let mark = match c.result {
                Verdict::Pass => "pass",
                Verdict::Fail => "FAIL",
                Verdict::Skipped => "skip",
            };
            format!("{mark}  {:<11} {}\n", c.name, c.detail)
        })
        .collect()
}

/// Checked before reading anything: a user without root would only meet confusing
/// permission errors on the activation file and the agents' files.
pub(crate) fn must_be_root_under_systemd(paths: &HostPaths) -> Result<()> {
    if !nix::unistd::geteuid().is_root() {
        return Err(Error::Unsupported(
            "register must run as root (it manages services and /var/lib/amazon)".into(),
        ));
    }
    if !paths.systemd_runtime().is_dir() {
        return Err(Error::Unsupported(
            "systemd is not running as the init system; ECS Anywhere needs systemd".into(),
        ));
    }
    Ok(())
}

/// What registration cannot do without: the agents.
pub(crate) fn must_support(host: &Host, req: &Request) -> Result<()> {
    if !matches!(req.activation, ActivationSource::Skip) && host.agent.binary().is_none() {
        return Err(Error::Unsupported(
            "amazon-ssm-agent is not installed; install it (deb, rpm or snap) and run again".into(),
        ));
    }
    if !host.services.state(ECS_UNIT)?.installed {
        return Err(Error::Unsupported(
            "ecs.service is not installed; install amazon-ecs-init and run again".into(),
        ));
    }
    Ok(())
}
