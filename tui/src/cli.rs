//! Command-line interface (clap). `vmtop` alone opens the dashboard.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit codes, documented in README.md.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// The operation failed (load refused, module not loaded, VM error...).
    pub const FAILED: i32 = 1;
    /// Bad command line or bad value (memsize, interval...): nothing was done.
    pub const USAGE: i32 = 2;
    /// This kernel cannot load modules at all (built without CONFIG_MODULES).
    pub const NO_MODULE_SUPPORT: i32 = 3;
    /// Not permitted: loading needs CAP_SYS_MODULE (root has it, except in most containers).
    pub const NOT_PERMITTED: i32 = 4;
}

/// `vmtop load --force` in safe mode.
pub const FORCE_NEEDS_UNSAFE: &str = "--force only applies with --mode unsafe (it skips the unsafe-mode check of MemAvailable minus the reserve); safe mode never needs it: drop --force, or add --mode unsafe";

const EXAMPLES: &str = "Examples:\n  sudo vmtop                      dashboard\n  sudo vmtop load --memsize 300M  load 300 MiB, print what changed\n  sudo vmtop unload\n  vmtop status --json\n  sudo vmtop probe --to 2G        largest memsize that loads\n  vmtop record --duration 30s --interval 250ms --format csv --out mem.csv\n  vmtop lab                       the dashboard in a sandbox VM\n  vmtop lab --exec 'vmtop load --memsize 64 && vmtop status'";

/// The codes of `exit`, for --help and the man page.
const EXIT_STATUS: &str = "Exit status:\n  0  success\n  1  the operation failed (the message names the errno and vmtop's diagnosis)\n  2  bad command line or value, or a file vmtop will not trust or use (a module file or helper others could change, a helper that gave no answer): nothing was done\n  3  this kernel cannot load modules (built without CONFIG_MODULES)\n  4  not permitted: no CAP_SYS_MODULE (or only in a user namespace, or kernel.modules_disabled=1)";

fn parse_memsize(s: &str) -> Result<u64, String> {
    crate::units::parse_memsize_mib(s).map_err(|e| e.to_string())
}

/// Shortest sampling interval accepted (the dashboard's and `record`'s; their `--interval`
/// help says "minimum 50ms": `tests::the_minimum_interval_is_the_one_in_the_help`).
pub const MIN_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

fn parse_interval(s: &str) -> Result<std::time::Duration, String> {
    let d = parse_duration(s)?;
    if d < MIN_INTERVAL {
        return Err(format!(
            "interval {s:?} is below the {} ms minimum: use e.g. 250ms or 1s",
            MIN_INTERVAL.as_millis()
        ));
    }
    Ok(d)
}

/// Longest duration accepted, seconds.
const MAX_DURATION_S: f64 = 1e9;

/// `250ms`, `1s`, `1.5s`, `2m`, or a bare number of milliseconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration {s:?}: use e.g. 250ms, 1s, 2m"))?;
    let secs = match unit.trim() {
        "ms" | "" => v / 1000.0,
        "s" => v,
        "m" | "min" => v * 60.0,
        "h" => v * 3600.0,
        _ => return Err(format!("invalid duration {s:?}: use e.g. 250ms, 1s, 2m")),
    };
    if !secs.is_finite() || secs > MAX_DURATION_S {
        return Err(format!(
            "duration {s:?} is too large: at most {MAX_DURATION_S} s (about 31 years), e.g. 10m, 2h"
        ));
    }
    if secs <= 0.0 {
        return Err(format!(
            "invalid duration {s:?}: it must be positive, e.g. 250ms, 1s"
        ));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// Smallest VM the lab kernel boots in: measured, 96 MiB panics before /init, 128 boots
/// (6.1.0-57-amd64 with vmtop's initramfs).
const LAB_MIN_MEM_MIB: u64 = 128;
const LAB_MAX_MEM_MIB: u64 = 65536;

fn parse_lab_mem(s: &str) -> Result<u64, String> {
    let v: u64 = s
        .trim()
        .parse()
        .map_err(|_| format!("invalid --mem {s:?}: a whole number of MiB, e.g. 1024"))?;
    if !(LAB_MIN_MEM_MIB..=LAB_MAX_MEM_MIB).contains(&v) {
        return Err(format!(
            "--mem {v} MiB cannot boot the lab: use {LAB_MIN_MEM_MIB} to {LAB_MAX_MEM_MIB} MiB (the kernel and vmtop's initramfs need {LAB_MIN_MEM_MIB})"
        ));
    }
    Ok(v)
}

fn parse_lab_cpus(s: &str) -> Result<u32, String> {
    let v: u32 = s
        .trim()
        .parse()
        .map_err(|_| format!("invalid --cpus {s:?}: a whole number, e.g. 2"))?;
    if !(1..=64).contains(&v) {
        return Err(format!("--cpus {v}: use 1 to 64"));
    }
    Ok(v)
}

fn parse_copy(s: &str) -> Result<(PathBuf, String), String> {
    match s.rsplit_once(':') {
        Some((host, guest)) if !host.is_empty() && guest.starts_with('/') => {
            Ok((PathBuf::from(host), guest.to_string()))
        }
        _ => Err(format!(
            "invalid --copy {s:?}: use HOST_PATH:/GUEST/PATH, e.g. ./my.ko:/lab/my.ko"
        )),
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "vmtop",
    version,
    about = "Load a vmalloc kernel module and watch what the kernel does",
    long_about = "vmtop loads alloc_large_mem (a module that vmalloc()s MEMSIZE MiB and fills it), \
unloads it, and shows MemFree/MemAvailable and VmallocUsed live, explaining every failure.\n\n\
Run without a subcommand for the dashboard (loading needs CAP_SYS_MODULE, which root has; \
read-only otherwise).",
    after_help = EXAMPLES,
    after_long_help = format!("{EXAMPLES}\n\n{EXIT_STATUS}")
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Cmd>,
    #[command(flatten)]
    pub dashboard: DashboardArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Fail with ENOMEM instead of waking the OOM killer (oom_safe=Y).
    Safe,
    /// Plain vmalloc() as the original article: the OOM killer may kill processes.
    Unsafe,
}

#[derive(Debug, Args, Clone)]
pub struct ModuleArgs {
    /// The module file (default: $VMTOP_MODULE, the checkout's kmod-src build, then the installed module)
    #[arg(long, value_name = "PATH")]
    pub module: Option<PathBuf>,
    /// As root, load a module file even if a user other than root or you could change it
    /// (writable by group or others, owned by another user, or in such a folder)
    #[arg(long)]
    pub allow_unsafe_file: bool,
}

/// Which allocator the module uses, and whether it fragments memory first.
#[derive(Debug, Args, Clone, Copy)]
pub struct AllocArgs {
    /// The module's allocator (kmod-src/README.md)
    #[arg(long, value_enum, default_value_t = crate::module::alloc::Allocator::Vmalloc)]
    pub alloc: crate::module::alloc::Allocator,
    /// First leave no free block of order K or more (the fragmentation demo)
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub fragment_order: u32,
}

#[derive(Debug, Args, Clone)]
pub struct DashboardArgs {
    /// Sampling interval (minimum 50ms)
    #[arg(long, default_value = "250ms", value_parser = parse_interval, global = false)]
    pub interval: std::time::Duration,
    /// Initial memsize for the dashboard
    #[arg(long, default_value = "100", value_parser = parse_memsize, allow_negative_numbers = true)]
    pub memsize: u64,
    /// Allocation mode for loads
    #[arg(long, value_enum, default_value_t = Mode::Safe)]
    pub mode: Mode,
    /// Load without asking for confirmation (demos)
    #[arg(long)]
    pub yes: bool,
    /// On quit, leave the module loaded without asking
    #[arg(long)]
    pub keep_loaded: bool,
    /// How much history to keep
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub retention: std::time::Duration,
    #[command(flatten)]
    pub module: ModuleArgs,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Load alloc_large_mem with MEMSIZE and report what changed
    #[command(
        after_help = "Examples:\n  sudo vmtop load --memsize 64\n  sudo vmtop load --memsize 2G --json\n  sudo vmtop load --memsize 900 --mode unsafe --force"
    )]
    Load {
        /// Size to allocate: MiB, or with a unit (300, 300M, 2G, 512MiB)
        #[arg(long, value_parser = parse_memsize, allow_negative_numbers = true)]
        memsize: u64,
        /// Allocation mode
        #[arg(long, value_enum, default_value_t = Mode::Safe)]
        mode: Mode,
        /// In unsafe mode, load even above MemAvailable minus the reserve
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        alloc: AllocArgs,
        #[command(flatten)]
        module: ModuleArgs,
        /// Print the event (figures, diagnosis) as JSON
        #[arg(long)]
        json: bool,
    },
    /// Unload alloc_large_mem
    #[command(after_help = "Example:\n  sudo vmtop unload")]
    Unload {
        /// Print the event as JSON
        #[arg(long)]
        json: bool,
    },
    /// Show whether the kernel can load modules and whether alloc_large_mem is loaded
    #[command(
        after_help = "Examples:\n  vmtop status\n  vmtop status --json\n\nExit code 3: this kernel cannot load modules."
    )]
    Status {
        #[command(flatten)]
        module: ModuleArgs,
        /// Print kernel, privileges, signing state, module and memory as JSON
        #[arg(long)]
        json: bool,
    },
    /// Find the largest memsize that loads (safe mode, starting from what the figures predict)
    #[command(
        after_help = "Examples:\n  sudo vmtop probe\n  sudo vmtop probe --from 64 --to 4G --precision 1\n  sudo vmtop probe --strategy bisect   (the first search: from, to, then halves)\n\nSizes above MemTotal are not tried: vmalloc() refuses more than all RAM."
    )]
    Probe {
        /// Lower bound
        #[arg(long, default_value = "16", value_parser = parse_memsize)]
        from: u64,
        /// Upper bound (default: MemTotal)
        #[arg(long, value_parser = parse_memsize)]
        to: Option<u64>,
        /// Stop when the largest size that loads is known to within this much
        #[arg(long, default_value = "1", value_parser = parse_memsize)]
        precision: u64,
        /// How the sizes are picked (both stay within ceil(log2(range / precision)) + 2 loads)
        #[arg(long, value_enum, default_value_t)]
        strategy: crate::probe::Strategy,
        #[command(flatten)]
        module: ModuleArgs,
        /// Print the attempts and the answer as JSON
        #[arg(long)]
        json: bool,
    },
    /// Every allocator at every size, each loaded then unloaded: where each one stops
    #[command(
        after_help = "Examples:\n  sudo vmtop compare\n  sudo vmtop compare --memsize 1M,4M,16M,1G --json\n  sudo vmtop compare --fragment-order 10   (in the lab: see kmod-src/README.md, Fragmentation)\n\nSafe mode only. Failures are results: the exit code is 0 when every attempt ran."
    )]
    Compare {
        /// Sizes to try, comma-separated (default crosses the kmalloc and page-order limits)
        #[arg(long, value_delimiter = ',', default_value = "4M,8M,64M,256M", value_parser = parse_memsize)]
        memsize: Vec<u64>,
        /// Allocators to try, comma-separated (default: all)
        #[arg(long, value_delimiter = ',', value_enum)]
        alloc: Vec<crate::module::alloc::Allocator>,
        /// Load each with fragment_order=K (no free block of order K or more)
        #[arg(long, value_name = "K")]
        fragment_order: Option<u32>,
        #[command(flatten)]
        module: ModuleArgs,
        /// Print the kernel's limits and every attempt (layout, cause, log line) as JSON
        #[arg(long)]
        json: bool,
    },
    /// Record memory samples for plotting elsewhere
    #[command(
        after_help = "Examples:\n  vmtop record --duration 30s --interval 250ms --out mem.csv\n  vmtop record --duration 1m --format jsonl"
    )]
    Record {
        /// How long to record (250ms, 30s, 2m)
        #[arg(long, value_parser = parse_duration)]
        duration: std::time::Duration,
        /// Sampling interval (minimum 50ms)
        #[arg(long, default_value = "250ms", value_parser = parse_interval)]
        interval: std::time::Duration,
        /// Output format
        #[arg(long, value_enum, default_value_t = RecordFormat::Csv)]
        format: RecordFormat,
        /// Output file (default: standard output)
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print a summary as JSON on stderr when done
        #[arg(long)]
        json: bool,
    },
    /// Boot a sandbox VM with a real Debian kernel and run vmtop inside it
    #[command(
        after_help = "Examples:\n  vmtop lab\n  vmtop lab --mem 512 --append lockdown=integrity\n  vmtop lab --exec 'vmtop load --memsize 64; grep Vmalloc /proc/meminfo'\n\nInside the VM the module is at /lab/alloc_large_mem.ko (also $VMTOP_MODULE)."
    )]
    Lab(LabArgs),
    /// Rerun the 2009 article's experiment in 32-bit lab VMs and explain each failure
    #[command(
        after_help = "Boots four 32-bit VMs (the article's 384 MiB machine, then with vmalloc=768M, then 1 GiB with and without it), about a minute under software emulation.\nNeeds the 32-bit lab: make lab LAB_ARCH=i386.\n\nExamples:\n  vmtop replay\n  vmtop replay --json"
    )]
    Replay {
        /// Print the machines, their figures and each load's diagnosis as JSON
        #[arg(long)]
        json: bool,
    },
    /// Check and list lessons: a teacher's script run against the live kernel (docs/lessons.md)
    #[command(
        after_help = "Examples:\n  vmtop lesson --list\n  vmtop lesson --check my-lesson.toml\n  vmtop lesson --check why-vmalloc\n\nExit code 2: the file cannot run (FILE:LINE:COLUMN says why and what is accepted)."
    )]
    Lesson(LessonArgs),
    /// (internal) man pages into DIR, or a shell's completions on stdout; used by make install
    #[command(hide = true, name = "__generate")]
    Generate {
        what: Generated,
        /// Folder for the man pages: vmtop.1 and vmtop-SUBCOMMAND.1
        #[arg(required_if_eq("what", "man"))]
        dir: Option<PathBuf>,
    },
}

/// What `vmtop __generate` writes, from these very definitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generated {
    Man,
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordFormat {
    /// Comma-separated values, a header line then one row per sample
    Csv,
    /// One JSON object per sample and line
    Jsonl,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["check", "list"])))]
pub struct LessonArgs {
    /// Check a lesson (a .toml file or a bundled name) without running it: `ok` and exit 0,
    /// or FILE:LINE:COLUMN, what is wrong and what is accepted, and exit 2
    #[arg(long, value_name = "FILE")]
    pub check: Option<String>,
    /// List the bundled lessons, one line each: name, steps, where they run, title
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, Args)]
pub struct LabArgs {
    /// VM memory in MiB, 128 to 65536 (below 128 MiB the lab kernel panics before /init)
    /// [default: 1024, 2048 with --root debian]
    #[arg(long, value_parser = parse_lab_mem)]
    pub mem: Option<u64>,
    /// VM CPUs (1 to 64)
    #[arg(long, default_value_t = 2, value_parser = parse_lab_cpus)]
    pub cpus: u32,
    /// Kernel image (default: the lab kernel from `make lab`)
    #[arg(long)]
    pub kernel: Option<PathBuf>,
    /// Kernel headers folder for building the module (default: matching the kernel)
    #[arg(long)]
    pub kdir: Option<PathBuf>,
    /// Boot the fetched kernel whose release starts with PREFIX, e.g. 6.1 or 6.12
    /// [default: $VMTOP_LAB_KERNEL, else the newest fetched]
    #[arg(long, value_name = "PREFIX", conflicts_with_all = ["kernel", "kdir"])]
    pub kernel_release: Option<String>,
    /// Architecture of the lab kernel: x86_64 (default) or i386, the 32-bit lab where the
    /// vmalloc address space is the limit (fetch it with `make lab LAB_ARCH=i386`)
    #[arg(long, value_parser = crate::lab::kernel::Arch::parse)]
    pub arch: Option<crate::lab::kernel::Arch>,
    /// List the lab kernels found (release, architecture, image, headers) and exit
    #[arg(long)]
    pub list_kernels: bool,
    /// QEMU accelerator: auto uses KVM when a quick probe boot works, else TCG
    #[arg(long, value_enum, default_value_t = crate::lab::Accel::Auto)]
    pub accel: crate::lab::Accel,
    /// Extra kernel arguments, e.g. "lockdown=integrity" (vmalloc=SIZE: 32-bit kernels only)
    #[arg(long)]
    pub append: Option<String>,
    /// Run this shell command line in the VM, print its output, exit with its status
    #[arg(long)]
    pub exec: Option<String>,
    /// Stop the VM after this long (with --exec)
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    /// Copy a host file into the VM (repeatable), e.g. --copy ./my.ko:/lab/my.ko
    #[arg(long, value_name = "HOST:GUEST", value_parser = parse_copy)]
    pub copy: Vec<(PathBuf, String)>,
    /// Root file system: busybox (small, fast) or debian (bookworm from `make lab`, with
    /// make, gcc, sudo, a user `dev`, the kernel's headers, this checkout at /src)
    #[arg(long, value_enum, default_value_t = crate::lab::Root::Busybox)]
    pub root: crate::lab::Root,
    /// Print a JSON summary (with --exec)
    #[arg(long)]
    pub json: bool,
    /// Arguments for the dashboard inside the VM (after --)
    #[arg(last = true)]
    pub vmtop_args: Vec<String>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every option of `cmd` (the top level: None; else the subcommand) that has a default,
    /// with it as `--help` prints it.
    pub(crate) fn defaults_of(sub: Option<&str>) -> std::collections::BTreeMap<String, String> {
        let cli = Cli::command();
        let cmd = match sub {
            Some(name) => cli.find_subcommand(name).expect("a subcommand").clone(),
            None => cli.clone(),
        };
        cmd.get_arguments()
            .filter(|a| !a.get_default_values().is_empty())
            .map(|a| {
                let v = a.get_default_values();
                assert_eq!(v.len(), 1, "--{} has one default", a.get_id());
                (a.get_id().to_string(), v[0].to_string_lossy().into_owned())
            })
            .collect()
    }

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    /// The man pages and completions are generated from these definitions: every public
    /// option says what it does.
    #[test]
    fn every_public_option_is_described() {
        let cli = Cli::command();
        let subs = cli.get_subcommands().filter(|s| !s.is_hide_set());
        for cmd in std::iter::once(&cli).chain(subs) {
            for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                assert!(
                    arg.get_help().is_some(),
                    "vmtop {}: --{} has no doc comment",
                    cmd.get_name(),
                    arg.get_id()
                );
            }
        }
    }

    #[test]
    fn the_minimum_interval_is_the_one_in_the_help() {
        let cli = Cli::command();
        let record = cli.find_subcommand("record").expect("record");
        let words = format!("minimum {}ms", MIN_INTERVAL.as_millis());
        for cmd in [&cli, record] {
            let arg = cmd
                .get_arguments()
                .find(|a| a.get_id() == "interval")
                .expect("--interval");
            let help = arg.get_help().expect("described").to_string();
            assert!(help.contains(&words), "{}: {help}", cmd.get_name());
        }
        let at = format!("{}ms", MIN_INTERVAL.as_millis());
        assert_eq!(parse_interval(&at), Ok(MIN_INTERVAL));
        let below = format!("{}ms", MIN_INTERVAL.as_millis() - 1);
        assert!(parse_interval(&below).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("250ms"),
            Ok(std::time::Duration::from_millis(250))
        );
        assert_eq!(
            parse_duration("1.5s"),
            Ok(std::time::Duration::from_millis(1500))
        );
        assert_eq!(
            parse_duration("2m"),
            Ok(std::time::Duration::from_secs(120))
        );
        assert!(parse_duration("soon").is_err());
        for big in ["99999999999999999999999s", "1000000000000000h"] {
            let e = parse_duration(big).expect_err(big);
            assert!(e.contains("too large"), "{big}: {e}");
        }
        assert!(parse_duration("-1s").is_err());
        assert!(parse_interval("10ms").is_err());
    }

    #[test]
    fn lab_sizes_that_cannot_boot_are_refused() {
        for (opt, bad, want) in [
            ("--mem", "0", "128 to 65536"),
            ("--mem", "64", "128 to 65536"),
            ("--mem", "junk", "whole number"),
            ("--cpus", "0", "1 to 64"),
        ] {
            let e = Cli::try_parse_from(["vmtop", "lab", opt, bad]).expect_err(bad);
            assert_eq!(e.exit_code(), exit::USAGE, "{opt} {bad}");
            assert!(e.to_string().contains(want), "{opt} {bad}: {e}");
        }
        assert!(Cli::try_parse_from(["vmtop", "lab", "--mem", "128", "--cpus", "1"]).is_ok());
    }

    #[test]
    fn memsize_errors_exit_2_with_forms() {
        for bad in ["0", "-1", "1.5", "", "junk", "99999999999999999999999"] {
            let e = Cli::try_parse_from(["vmtop", "load", "--memsize", bad]).expect_err(bad);
            assert_eq!(e.exit_code(), exit::USAGE, "{bad}");
            assert!(e.to_string().contains("300M"), "{bad}: {e}");
        }
    }
}
