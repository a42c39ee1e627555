//! The subcommands: each turns parsed arguments into calls on the engine, lab or dashboard,
//! prints the result (text or `--json`) and returns the exit code.

use std::io::Write;

use clap::Parser;

use crate::cli::{exit, Cli, Cmd, LabArgs};

/// Parse the command line and run; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return usage_error(e),
    };
    let result = match cli.command {
        Some(Cmd::Lab(args)) => lab(args),
        _ => {
            eprintln!("vmtop: not implemented yet");
            Ok(exit::FAILED)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vmtop: {e:#}");
            exit::FAILED
        }
    }
}

/// Bad values get one line naming the problem and the accepted forms, exit code 2;
/// --help and --version print as clap does.
fn usage_error(e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            exit::OK
        }
        ErrorKind::ValueValidation | ErrorKind::InvalidValue => {
            let text = e.to_string();
            let line = text.lines().next().unwrap_or("invalid value");
            eprintln!("vmtop: {}", line.trim_start_matches("error: "));
            exit::USAGE
        }
        _ => {
            let _ = e.print();
            exit::USAGE
        }
    }
}

fn lab(args: LabArgs) -> anyhow::Result<i32> {
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    let opts = crate::lab::LabOptions {
        mem_mib: args.mem,
        cpus: args.cpus,
        kernel: args.kernel,
        kdir: args.kdir,
        append: args.append,
        exec: args.exec.clone(),
        timeout: args.timeout,
        rows,
        cols,
        vmtop_args: args.vmtop_args,
        ..Default::default()
    };
    if opts.exec.is_some() {
        let mut stdout = std::io::stdout();
        let r = crate::lab::run_exec(&opts, &mut stdout)?;
        if args.json {
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::json!({"status": r.status, "boot_to_exit_s": r.boot_to_exit.as_secs_f64()})
            );
        }
        Ok(r.status)
    } else {
        crate::lab::run_interactive(&opts)
    }
}
