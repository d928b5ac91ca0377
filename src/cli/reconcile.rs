//! `ecs-anywhere reconcile`: one observe-plan-apply-verify pass that also heals drift, safe
//! to run at any time; what the systemd timer runs. Transient failures are retried with
//! jitter until a deadline; failures a person must fix exit at once with their code.

use std::time::{Duration, SystemTime};

use clap::Args;
use tokio::time::Instant;

use crate::cli::register::{
    converge, must_be_root_under_systemd, must_support, Mode, RealHost, RegisterArgs,
};
use crate::cli::Context;
use crate::config::types::HumanDuration;
use crate::error::{ExitCode, Result};
use crate::host::lock;
use crate::host::paths::HostPaths;
use crate::output::Outcome;

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    #[command(flatten)]
    register: RegisterArgs,

    /// Keep retrying transient failures until this much time has passed
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    deadline: HumanDuration,
}

/// 2^n seconds, capped at 60, plus up to half again of jitter, so a fleet does not retry in step.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_secs(2u64.saturating_pow(attempt).min(60));
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    base + base.mul_f64(f64::from(nanos % 1000) / 2000.0)
}

impl ReconcileArgs {
    pub async fn run(self, ctx: &Context) -> Result<Outcome> {
        let paths = HostPaths::new(&ctx.global.root);
        must_be_root_under_systemd(&paths)?;
        // A host with the package but no cluster configured (a workstation, an image not yet
        // personalised) has nothing to converge to; the timer must not fail on it forever.
        if ctx.cluster(self.register.cluster()).is_none() {
            let mut out = Outcome::new("reconcile", ctx.dry_run());
            out.text = "not configured: set `cluster` in /etc/ecs-anywhere/config.toml to manage this host\n".into();
            out.set("configured", false);
            tracing::info!(
                "not configured: no cluster in /etc/ecs-anywhere/config.toml; nothing to do"
            );
            return Ok(out);
        }
        let req = self.register.request(ctx)?;
        let real = RealHost::new(&paths);
        let host = real.host();
        must_support(&host, &req)?;
        let deadline = Instant::now() + self.deadline.0;
        let run_lock = lock::acquire(&paths.lock_file(), self.deadline.0)?;
        run_lock.share_with_children()?;
        let mut attempt = 0;
        // What earlier passes did stays in the report of the last one.
        let mut earlier_actions: Vec<String> = Vec::new();
        let mut earlier_decisions: Vec<serde_json::Value> = Vec::new();
        loop {
            let mut result = converge(ctx, &req, &host, Mode::Reconcile).await;
            if let Ok(out) = &mut result {
                let mut actions = earlier_actions.clone();
                actions.append(&mut out.actions);
                out.actions = actions;
                out.changed = out.changed || !earlier_actions.is_empty();
                let mut decisions = earlier_decisions.clone();
                if let Some(serde_json::Value::Array(d)) = out.data.get("decisions") {
                    decisions.extend(d.iter().cloned());
                }
                out.set("decisions", &decisions);
                earlier_actions = out.actions.clone();
                earlier_decisions = decisions;
            }
            let transient = match &result {
                Err(e) => e.exit_code() == ExitCode::Failure,
                Ok(out) => out
                    .failure
                    .as_ref()
                    .is_some_and(|e| e.exit_code() == ExitCode::Verification),
            };
            let wait = backoff(attempt);
            if !transient || Instant::now() + wait >= deadline || req.dry_run {
                return result;
            }
            let why = match &result {
                Err(e) => e.one_line(),
                Ok(out) => out
                    .failure
                    .as_ref()
                    .map(|e| e.one_line())
                    .unwrap_or_default(),
            };
            tracing::warn!(attempt, wait_s = wait.as_secs(), "retrying after: {why}");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}
