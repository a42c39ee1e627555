//! `vmtop __generate`: man pages and shell completions, from the clap definitions.

use anyhow::Context as _;

use crate::cli::{exit, Cli, Generated};

/// Man pages into `dir` (printing each path), or a shell's completion script on stdout,
/// generated from the command-line definitions.
pub(super) fn generate(what: Generated, dir: Option<std::path::PathBuf>) -> anyhow::Result<i32> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let shell = match what {
        Generated::Man => {
            let dir = dir.context("__generate man needs a folder to write the pages into")?;
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            // As clap_mangen::generate_to, but saying which files it wrote. Building the
            // command names the subcommands' pages vmtop-load.1 etc.
            let mut cmd = cmd.disable_help_subcommand(true);
            cmd.build();
            let subcommands: Vec<clap::Command> = cmd
                .get_subcommands()
                .filter(|s| !s.is_hide_set())
                .cloned()
                .collect();
            for page in std::iter::once(cmd).chain(subcommands) {
                let path = clap_mangen::Man::new(page)
                    .source(concat!("vmtop ", env!("CARGO_PKG_VERSION")))
                    .generate_to(&dir)
                    .with_context(|| format!("writing a man page into {}", dir.display()))?;
                println!("{}", path.display());
            }
            return Ok(exit::OK);
        }
        Generated::Bash => clap_complete::Shell::Bash,
        Generated::Zsh => clap_complete::Shell::Zsh,
        Generated::Fish => clap_complete::Shell::Fish,
    };
    // clap_complete offers hidden subcommands too: complete only the public ones.
    let mut public = clap::Command::new("vmtop")
        .version(env!("CARGO_PKG_VERSION"))
        .args(cmd.get_arguments().cloned())
        .subcommands(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    clap_complete::generate(shell, &mut public, "vmtop", &mut std::io::stdout());
    Ok(exit::OK)
}
