//! `ecs-anywhere generate man|bash|zsh|fish`: the man page and shell completions, generated
//! from the same clap definitions as `--help`, so the three cannot disagree. Used by the
//! packaging; hidden from `--help`.

use clap::{Args, CommandFactory, ValueEnum};

use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::output::Outcome;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Artifact {
    Man,
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[arg(value_enum)]
    what: Artifact,
}

impl GenerateArgs {
    pub fn run(self) -> Result<Outcome> {
        let mut cmd = Cli::command();
        let mut buf = Vec::new();
        let io = |e: std::io::Error| Error::Other(format!("cannot generate: {e}"));
        match self.what {
            Artifact::Man => clap_mangen::Man::new(cmd).render(&mut buf).map_err(io)?,
            Artifact::Bash => clap_complete::generate(
                clap_complete::Shell::Bash,
                &mut cmd,
                "ecs-anywhere",
                &mut buf,
            ),
            Artifact::Zsh => clap_complete::generate(
                clap_complete::Shell::Zsh,
                &mut cmd,
                "ecs-anywhere",
                &mut buf,
            ),
            Artifact::Fish => clap_complete::generate(
                clap_complete::Shell::Fish,
                &mut cmd,
                "ecs-anywhere",
                &mut buf,
            ),
        }
        let mut out = Outcome::new("generate", false);
        out.raw = Some(String::from_utf8_lossy(&buf).into_owned());
        Ok(out)
    }
}
