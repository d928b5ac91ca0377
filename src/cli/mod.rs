//! The command line: global options, the subcommands (one file each), and the context they
//! share (resolved configuration, AWS clients).

mod activation;
mod deregister;
mod generate;
mod preflight;
mod reconcile;
mod register;
mod role;
mod status;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::aws::{self, AwsSettings, Clients};
use crate::config::types::OutputFormat;
use crate::config::{self, FileConfig};
use crate::error::{Result, EXIT_CODES_HELP};
use crate::output::Outcome;

#[derive(Debug, Parser)]
#[command(
    name = "ecs-anywhere",
    version,
    about = "Puts this server or VM into Amazon ECS Anywhere and keeps it there",
    long_about = "Puts this server or VM into Amazon ECS Anywhere and keeps it there: the IAM role, \
SSM hybrid activations, registration of the host, and verification of its ECS cluster membership.\n\n\
Configuration: /etc/ecs-anywhere/config.toml and /etc/ecs-anywhere/config.d/*.toml (package \
defaults in /usr/lib/ecs-anywhere/config.d/), under --root. Precedence: flags > ECS_ANYWHERE_* \
environment variables > files (later fragments win) > built-in defaults.",
    after_help = EXIT_CODES_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// AWS region [config: region]
    #[arg(
        long,
        global = true,
        env = "ECS_ANYWHERE_REGION",
        value_name = "REGION"
    )]
    pub region: Option<String>,

    /// Named profile from the shared AWS config files [config: profile]
    #[arg(long, global = true, env = "ECS_ANYWHERE_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// Endpoint for every AWS service (else AWS_ENDPOINT_URL) [config: endpoint_url]
    #[arg(
        long,
        global = true,
        env = "ECS_ANYWHERE_ENDPOINT_URL",
        value_name = "URL"
    )]
    pub endpoint_url: Option<String>,

    /// Configuration file instead of /etc/ecs-anywhere/config.toml
    #[arg(long, global = true, env = "ECS_ANYWHERE_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Root of the host's file system; every host path is taken under it
    #[arg(
        long,
        global = true,
        env = "ECS_ANYWHERE_ROOT",
        value_name = "PATH",
        default_value = "/"
    )]
    pub root: PathBuf,

    /// Output format on stdout [config: output]
    #[arg(long, global = true, env = "ECS_ANYWHERE_OUTPUT", value_enum)]
    pub output: Option<OutputFormat>,

    /// More log detail on stderr (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Observe and plan only: show what would change, change nothing
    #[arg(long, global = true, env = "ECS_ANYWHERE_DRY_RUN")]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The IAM role the host's SSM identity uses (ecsAnywhereRole)
    #[command(subcommand)]
    Role(role::RoleCommand),
    /// SSM hybrid activations that register hosts
    #[command(subcommand)]
    Activation(activation::ActivationCommand),
    /// Register this host: SSM identity, ECS agent configuration, services, verification
    Register(register::RegisterArgs),
    /// One pass that keeps the host registered and heals drift (what the systemd timer runs)
    Reconcile(reconcile::ReconcileArgs),
    /// Report the host's health (observe only); exit 5 when unhealthy
    Status(status::StatusArgs),
    /// Leave ECS and SSM: drain, deregister, stop the agents, remove their state
    Deregister(deregister::DeregisterArgs),
    /// Check whether this host can join ECS Anywhere; changes nothing
    Preflight(preflight::PreflightArgs),
    /// Print the man page or a shell completion script (for packaging)
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
}

/// What every command gets: the resolved configuration and a way to reach AWS.
pub struct Context {
    pub global: GlobalArgs,
    pub file: FileConfig,
}

impl Context {
    pub fn load(global: GlobalArgs) -> Result<Self> {
        let files = config::config_files(&global.root, global.config.as_deref())?;
        let file = config::load(&files)?;
        tracing::debug!(files = ?files, "configuration loaded");
        Ok(Context { global, file })
    }

    pub fn output(&self) -> OutputFormat {
        self.global
            .output
            .or(self.file.output)
            .unwrap_or(OutputFormat::Text)
    }

    pub fn dry_run(&self) -> bool {
        self.global.dry_run
    }

    pub fn cluster(&self, flag: Option<&str>) -> Option<String> {
        flag.map(str::to_string)
            .or_else(|| self.file.cluster.clone())
    }

    pub fn aws_settings(&self) -> AwsSettings {
        let d = AwsSettings::default();
        let a = &self.file.aws;
        AwsSettings {
            region: self.global.region.clone().or(self.file.region.clone()),
            profile: self.global.profile.clone().or(self.file.profile.clone()),
            endpoint_url: self
                .global
                .endpoint_url
                .clone()
                .or(self.file.endpoint_url.clone()),
            max_attempts: a.max_attempts.unwrap_or(d.max_attempts),
            connect_timeout: a.connect_timeout.map(|t| t.0).unwrap_or(d.connect_timeout),
            attempt_timeout: a.attempt_timeout.map(|t| t.0).unwrap_or(d.attempt_timeout),
            operation_timeout: a
                .operation_timeout
                .map(|t| t.0)
                .unwrap_or(d.operation_timeout),
        }
    }

    /// Clients for observing this host: the configured region, else the one the host itself
    /// records (ecs.config, the SSM registration). `None` without either: remote checks are
    /// then skipped, not failed.
    pub async fn host_clients(&self, host_region: Option<&str>) -> Option<Clients> {
        let mut settings = self.aws_settings();
        settings.region = settings.region.or_else(|| host_region.map(str::to_string));
        settings.region.as_ref()?;
        let config = aws::sdk_config(&settings).await.ok()?;
        Some(Clients::new(&config))
    }

    pub async fn clients(&self) -> Result<Clients> {
        let config = aws::sdk_config(&self.aws_settings()).await?;
        Ok(Clients::new(&config))
    }
}

/// Runs the parsed command on a single-threaded runtime: the work is sequential I/O.
pub fn run(cli: Cli, ctx: &Context) -> Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| crate::error::Error::Other(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        match cli.command {
            Command::Role(cmd) => cmd.run(ctx).await,
            Command::Activation(cmd) => cmd.run(ctx).await,
            Command::Register(cmd) => cmd.run(ctx).await,
            Command::Status(cmd) => cmd.run(ctx).await,
            Command::Reconcile(cmd) => cmd.run(ctx).await,
            Command::Deregister(cmd) => cmd.run(ctx).await,
            Command::Preflight(cmd) => cmd.run(ctx).await,
            Command::Generate(cmd) => cmd.run(),
        }
    })
}
