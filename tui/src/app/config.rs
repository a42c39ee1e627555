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
    /// Allocator for the first loads (`--alloc`).
    pub alloc: crate::module::alloc::Allocator,
    /// Memsize steps, MiB (`--step`, `--big-step`).
    pub step_mib: u64,
    pub big_step_mib: u64,
    pub theme: crate::cli::ThemeName,
    pub glyphs: crate::cli::Glyphs,
    pub kernel_log: crate::cli::KernelLog,
    /// Where `s` saves screenshots.
    pub screenshot_dir: PathBuf,
    /// `--record FILE`.
    pub record: Option<PathBuf>,
    /// The lesson to run beside the charts (`vmtop lesson`).
    pub lesson: Option<super::lesson::LessonLaunch>,
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
            alloc: args.alloc,
            step_mib: args.step,
            big_step_mib: args.big_step,
            theme: args.theme,
            glyphs: args.glyphs,
            kernel_log: args.kernel_log,
            screenshot_dir: args.screenshot_dir,
            record: args.record,
            lesson: None,
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
            alloc: self.alloc,
            step_mib: self.step_mib,
            big_step_mib: self.big_step_mib,
            theme: self.theme,
            glyphs: self.glyphs,
            kernel_log: self.kernel_log,
            screenshot_dir: self.screenshot_dir.clone(),
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
    pub alloc: crate::module::alloc::Allocator,
    pub step_mib: u64,
    pub big_step_mib: u64,
    pub theme: crate::cli::ThemeName,
    pub glyphs: crate::cli::Glyphs,
    pub kernel_log: crate::cli::KernelLog,
    pub screenshot_dir: PathBuf,
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
            [
                "alloc",
                "big_step",
                "glyphs",
                "interval",
                "kernel_log",
                "memsize",
                "mode",
                "retention",
                "screenshot_dir",
                "step",
                "theme"
            ],
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
        assert_eq!(app.alloc.name(), d["alloc"]);
        assert_eq!(
            app.step_mib,
            crate::units::parse_memsize_mib(&d["step"]).expect("step")
        );
        assert_eq!(
            app.big_step_mib,
            crate::units::parse_memsize_mib(&d["big_step"]).expect("big step")
        );
        use clap::ValueEnum as _;
        let name =
            |v: Option<clap::builder::PossibleValue>| v.expect("a value").get_name().to_string();
        assert_eq!(name(app.theme.to_possible_value()), d["theme"]);
        assert_eq!(name(app.glyphs.to_possible_value()), d["glyphs"]);
        assert_eq!(name(app.kernel_log.to_possible_value()), d["kernel_log"]);
        assert_eq!(app.screenshot_dir, PathBuf::from(&d["screenshot_dir"]));
        assert_eq!(opts.record, None, "no recording unless asked");
        // Flags are off unless given.
        assert!(!app.yes && !app.keep_loaded && !opts.allow_unsafe_file);
        // Not an option of the dashboard: the guard is always on there.
        assert!(!app.force);
    }
}
