//! Logs go to stderr: plain lines (no colour, no timestamps) when stderr is not a terminal,
//! which is what journald wants. Verbosity comes from -v/-q only; the SDK's own crates are
//! capped at `debug` because their `trace` output can include response bodies, and a
//! response body can hold an activation code.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(verbose: u8, quiet: bool) {
    let ours = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let deps = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0 | 1) => "warn",
        (false, 2) => "info",
        (false, _) => "debug",
    };
    let filter = EnvFilter::new(format!("{deps},ecs_anywhere={ours}"));
    let tty = std::io::stderr().is_terminal();
    // journald stamps every line itself; a terminal user does not need the time either.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(tty)
        .with_target(verbose > 0)
        .without_time()
        .init();
}
