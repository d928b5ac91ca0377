//! Entry point: parse, set up logging, run, print, map the error to its exit code.

use std::io::Write;

use clap::Parser;

use ecs_anywhere::cli::{self, Cli, Context};
use ecs_anywhere::config::types::OutputFormat;
use ecs_anywhere::{logging, output};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if e.use_stderr() && wants_json() {
                let err = ecs_anywhere::error::Error::Usage(e.kind().to_string());
                print!("{}", output::error_json(&err));
            }
            e.exit();
        }
    };
    logging::init(cli.global.verbose, cli.global.quiet);
    let ctx = Context::load(cli.global.clone());
    let format = ctx
        .as_ref()
        .map(Context::output)
        .unwrap_or(cli.global.output.unwrap_or(OutputFormat::Text));
    let result = ctx.and_then(|ctx| cli::run(cli, &ctx));
    let code = match result {
        Ok(outcome) => {
            print!("{}", outcome.render(format));
            match &outcome.failure {
                Some(err) => {
                    eprintln!("error: {}", err.one_line());
                    err.exit_code().code()
                }
                None => 0,
            }
        }
        Err(err) => {
            if format == OutputFormat::Json {
                print!("{}", output::error_json(&err));
            }
            eprintln!("error: {}", err.one_line());
            err.exit_code().code()
        }
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

/// Whether the raw arguments ask for JSON, for errors found before parsing succeeds.
fn wants_json() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .any(|w| w[0] == "--output" && w[1] == "json")
        || args.iter().any(|a| a == "--output=json")
        || std::env::var("ECS_ANYWHERE_OUTPUT").as_deref() == Ok("json")
}
