//! What the dashboard starts with: the command line's options (`DashboardOptions`), and the
//! settings the app takes from them (`AppConfig`). The defaults are clap's, written once in
//! `cli`.

use std::path::PathBuf;
use std::time::Duration;

use super::history::Retention;
use crate::cli::MIN_INTERVAL;

/// How the dashboard starts.
#[derive(Debug, Clone)]
pub struct DashboardOptions {
    /// Sampling interval (at least `MIN_INTERVAL`; shorter is raised to it).
    pub interval: Duration,
    /// History kept for the charts' "all" window.
    pub retention: Retention,
    /// Skip load confirmations.
    pub yes: bool,
    /// On quit, leave the module loaded without asking.
    pub keep_loaded: bool,
    /// Mode for loads: true = oom_safe=Y.
    pub oom_safe: bool,
    /// Skip the engine's unsafe-mode guard.
    pub force: bool,
    /// Initial memsize, MiB.
    pub memsize_mib: u64,
    /// `--module PATH` override.
    pub module: Option<PathBuf>,
    /// `--allow-unsafe-file`.
    pub allow_unsafe_file: bool,
}

impl DashboardOptions {
    /// The options the command line gives.
    pub fn from_args(args: crate::cli::DashboardArgs) -> DashboardOptions {
        DashboardOptions {
            interval: args.interval,
            retention: args.retention.into(),
            yes: args.yes,
            keep_loaded: args.keep_loaded,
            oom_safe: args.mode == crate::cli::Mode::Safe,
            force: false,
            memsize_mib: args.memsize,
            module: args.module.module,
            allow_unsafe_file: args.module.allow_unsafe_file,
        }
    }

    /// What the app starts with.
    pub fn app_config(&self) -> AppConfig {
        AppConfig {
            memsize_mib: self.memsize_mib,
            oom_safe: self.oom_safe,
            force: self.force,
            interval: self.interval.max(MIN_INTERVAL),
            retention: self.retention,
            yes: self.yes,
            keep_loaded: self.keep_loaded,
        }
    }
}

impl Default for DashboardOptions {
    /// `vmtop` with no options: the defaults are the command line's (`cli::DashboardArgs`),
    /// the one place they are written.
    fn default() -> Self {
        use clap::Parser as _;
        let cli = crate::cli::Cli::try_parse_from(["vmtop"])
            .expect("the command line parses with no arguments (cli::tests::cli_is_consistent)");
        DashboardOptions::from_args(cli.dashboard)
    }
}

/// Settings the dashboard starts with.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub memsize_mib: u64,
    pub oom_safe: bool,
    pub force: bool,
    pub interval: Duration,
    pub retention: Retention,
    pub yes: bool,
    pub keep_loaded: bool,
}

impl Default for AppConfig {
    /// What `vmtop` with no options starts with (the command line's defaults).
    fn default() -> Self {
        DashboardOptions::default().app_config()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::App;

    /// `vmtop` alone starts the app with the defaults `vmtop --help` prints, read back from
    /// the clap definitions (not from a second copy of them): every one of them.
    #[test]
    fn defaults_match_the_cli() {
        let d = crate::cli::tests::defaults_of(None);
        let ids: Vec<&str> = d.keys().map(String::as_str).collect();
        assert_eq!(
            ids,
            ["interval", "memsize", "mode", "retention"],
            "an option with a default: check it here"
        );
        let opts = DashboardOptions::default();
        let cfg = AppConfig::default();
        let app = App::new(
            crate::app::state::tests::kernel(true, true),
            Err("none".into()),
            cfg.clone(),
        );
        assert_eq!(
            app.memsize_mib,
            crate::units::parse_memsize_mib(&d["memsize"]).expect("memsize default")
        );
        assert_eq!(
            app.interval,
            crate::cli::parse_duration(&d["interval"]).expect("interval default")
        );
        assert_eq!(
            cfg.retention,
            Retention::from(crate::cli::parse_duration(&d["retention"]).expect("retention"))
        );
        assert_eq!(app.oom_safe, d["mode"] == "safe");
        // Flags are off unless given.
        assert!(!app.yes && !app.keep_loaded && !opts.allow_unsafe_file);
        // Not an option of the dashboard: the guard is always on there.
        assert!(!app.force);
    }
}
