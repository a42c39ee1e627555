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

const EXAMPLES: &str = "Examples:\n  sudo vmtop                      dashboard\n  sudo vmtop load --memsize 300M  load 300 MiB, print what changed\n  sudo vmtop unload\n  vmtop status --json\n  sudo vmtop probe --to 2G        largest memsize that loads\n  sudo vmtop areas --once         who holds the vmalloc address space\n  vmtop record --duration 30s --interval 250ms --format csv --out mem.csv\n  vmtop lab                       the dashboard in a sandbox VM\n  vmtop lab --exec 'vmtop load --memsize 64 && vmtop status'";

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
    /// Allocator for the dashboard's loads (`a` then cycles through those the module offers)
    #[arg(long, value_enum, default_value_t = crate::module::alloc::Allocator::Vmalloc)]
    pub alloc: crate::module::alloc::Allocator,
    /// Memsize step of + and - (and the arrow keys)
    #[arg(long, value_name = "MEMSIZE", default_value = "16", value_parser = parse_memsize)]
    pub step: u64,
    /// Memsize step of ] and [ (and PgUp, PgDn)
    #[arg(long, value_name = "MEMSIZE", default_value = "256", value_parser = parse_memsize)]
    pub big_step: u64,
    /// Colours for a dark or a light terminal, or for a projector (high contrast, bold,
    /// thick chart lines, meaning never carried by colour alone); NO_COLOR wins over it
    #[arg(long, value_enum, default_value_t = ThemeName::Dark)]
    pub theme: ThemeName,
    /// How the charts draw: braille (2x4 dots a cell), block (half blocks, for fonts without
    /// braille: the Linux console, some projectors' PCs), ascii (plain ASCII)
    #[arg(long, value_enum, default_value_t = Glyphs::Braille)]
    pub glyphs: Glyphs,
    /// Which kernel-log lines the pane shows: all, memory (memory and modules), module
    /// (alloc_large_mem's own)
    #[arg(long, value_enum, default_value_t = KernelLog::All)]
    pub kernel_log: KernelLog,
    /// Folder where `s` saves screenshots (SVG and PNG)
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub screenshot_dir: PathBuf,
    /// Record what the dashboard shows and does to FILE (.csv or .jsonl): samples, every
    /// load, unload and failure with its diagnosis, the kernel-log lines shown
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Settings file [default: ~/.config/vmtop/config.toml, the invoking user's under sudo]
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub module: ModuleArgs,
}

/// `--theme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ThemeName {
    /// For a dark terminal background
    #[default]
    Dark,
    /// For a light terminal background: no yellow or cyan text, no dim text
    Light,
    /// For a projector: high contrast, bold, thick lines, symbols and words beside every colour
    Projector,
}

/// `--glyphs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Glyphs {
    /// Braille dots: 2x4 points a cell
    #[default]
    Braille,
    /// Half blocks (upper, lower, full): 1x2 points a cell, in every console font
    Block,
    /// ASCII only: ' - _ | and + for the axes
    Ascii,
}

/// `--kernel-log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelLog {
    /// Every line the kernel logs
    #[default]
    All,
    /// Lines about memory, vmalloc, the OOM killer and modules
    Memory,
    /// alloc_large_mem's own lines
    Module,
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
    /// Who holds the vmalloc address space: /proc/vmallocinfo by caller and kind (root)
    #[command(
        after_help = "Examples:\n  sudo vmtop areas                    live (q quits, o changes the order, m draws the map)\n  sudo vmtop areas --once --sort count\n  sudo vmtop areas --once --kind ioremap --json\n  sudo vmtop areas --once --map       the vmalloc window as a strip (the default on 32-bit)\n\n/proc/vmallocinfo is root's. With kernel.kptr_restrict=0 its addresses are hashed and 2 hides them: the table still works, the map needs kptr_restrict=1 and root."
    )]
    Areas {
        /// Order of the rows
        #[arg(long, value_enum, default_value_t)]
        sort: crate::system::vmareas::SortBy,
        /// Only one kind: vmalloc, vmap, ioremap, user, vpages, unpurged, vm_map_ram, sparse, dma-coherent, other
        #[arg(long, value_parser = crate::system::vmareas::KindFilter::parse)]
        kind: Option<crate::system::vmareas::KindFilter>,
        /// Print once and exit (the default when standard output is not a terminal)
        #[arg(long)]
        once: bool,
        /// Draw the vmalloc window as a map of used and free ranges (the default on 32-bit kernels)
        #[arg(long)]
        map: bool,
        /// Rows of the table at most (0: every group)
        #[arg(long, default_value_t = 20)]
        top: usize,
        /// Print totals, kinds, groups (and with --map the ranges) as JSON; implies --once
        #[arg(long)]
        json: bool,
        /// Read a saved copy of /proc/vmallocinfo instead (a capture from another machine)
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// Refresh interval of the live view (minimum 50ms)
        #[arg(long, default_value = "1s", value_parser = parse_interval)]
        interval: std::time::Duration,
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
    /// Plot a recording: memory and vmalloc with every load, unload and failure marked
    #[command(
        after_help = "Examples:\n  vmtop plot mem.jsonl --out chart.svg\n  vmtop plot mem.csv --out chart.png --size 1920x1080\n  vmtop plot mem.jsonl --out vmalloc.svg --series vmalloc --title \"vmalloc during the lab\"\n\nExit code 2: FILE is not a recording (the line and what was expected), or --out has no .svg or .png."
    )]
    Plot(PlotArgs),
    /// A self-contained HTML page from a recording: the machine, charts, every load, each
    /// failure's diagnosis with the kernel's lines, a lesson's transcript
    #[command(
        after_help = "Examples:\n  vmtop report mem.jsonl --out report.html\n  vmtop report class.jsonl --transcript lesson.jsonl --out report.html\n\nThe page needs no network: its charts are inline SVG. Print it, or save it as PDF from a browser."
    )]
    Report(ReportArgs),
    /// The settings file: its path, the settings it gives, or a commented default
    #[command(
        after_help = "Examples:\n  vmtop config                      the file read and the settings it gives\n  vmtop config --default > ~/.config/vmtop/config.toml\n\nvmtop reads the file and never writes it. Flags given on the command line win over it."
    )]
    Config(ConfigArgs),
    /// Boot a sandbox VM with a real Debian kernel and run vmtop inside it
    #[command(
        after_help = "Examples:\n  vmtop lab\n  vmtop lab --mem 512 --append lockdown=integrity\n  vmtop lab --arch i386 --mem 384 --swap 512M\n  vmtop lab --lesson article-2009\n  vmtop lab --exec 'vmtop load --memsize 64; grep Vmalloc /proc/meminfo'\n\nInside the VM the module is at /lab/alloc_large_mem.ko (also $VMTOP_MODULE)."
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
    /// A lesson for a class: narration, questions and the live kernel's answers (docs/lessons.md)
    #[command(
        after_help = "Keys in a lesson: n or Space runs the step's action or goes on, b goes back, B opens the buddyinfo pane; the dashboard's other keys work as usual (loads made with them are noted as off script).\nParts that need a lab machine are skipped here, with the command that runs them.\n\nExamples:\n  vmtop lesson --list\n  sudo vmtop lesson why-vmalloc\n  sudo vmtop lesson why-vmalloc -- --theme projector\n  sudo vmtop lesson my-lesson.toml --transcript class.jsonl\n  vmtop lab --lesson article-2009          (each part in its own VM)\n  vmtop lesson --check my-lesson.toml\n\nExit code 2: the lesson cannot run (FILE:LINE:COLUMN says why and what is accepted)."
    )]
    Lesson(LessonArgs),
    /// (internal) read or write a file as the user behind sudo: root's dashboard saves its
    /// pictures and recordings, and reads its settings, through this
    #[command(hide = true, name = "__as-user")]
    AsUser { what: AsUserOp, path: PathBuf },
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

/// What `vmtop __as-user` does with its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AsUserOp {
    /// Print the file (at most `settings::MAX_BYTES`)
    Read,
    /// Write standard input to the file: a temporary file beside it, renamed at the end
    Write,
    /// Write standard input to the file as it comes (a recording)
    Stream,
}

/// Which charts `vmtop plot` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Series {
    /// MemTotal, MemFree and MemAvailable
    Memory,
    /// VmallocUsed
    Vmalloc,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("invalid --size {s:?}: WIDTHxHEIGHT in pixels, e.g. 1600x900");
    let (w, h) = s.trim().split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
    if !(320..=8000).contains(&w) || !(240..=8000).contains(&h) {
        return Err(format!(
            "--size {w}x{h}: use 320 to 8000 pixels across and 240 to 8000 down, e.g. 1600x900"
        ));
    }
    Ok((w, h))
}

#[derive(Debug, Args)]
pub struct PlotArgs {
    /// A recording: `vmtop record` or `vmtop --record` output, CSV or JSON lines
    pub file: PathBuf,
    /// The picture to write: .svg or .png (written whole or not at all)
    #[arg(long, value_name = "CHART")]
    pub out: PathBuf,
    /// Picture size in pixels (a 16:9 slide by default)
    #[arg(long, value_name = "WxH", default_value = "1600x900", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Charts to draw, comma-separated
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "memory,vmalloc"
    )]
    pub series: Vec<Series>,
    /// Title [default: vmtop on KERNEL (MACHINE), the recording's date]
    #[arg(long)]
    pub title: Option<String>,
    /// Colours: light (slides, print) or dark (dark slides)
    #[arg(long, value_enum, default_value_t = ThemeName::Light)]
    pub theme: ThemeName,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A recording: `vmtop record` or `vmtop --record` output, CSV or JSON lines
    pub file: PathBuf,
    /// The page to write (written whole or not at all)
    #[arg(long, value_name = "HTML")]
    pub out: PathBuf,
    /// A lesson's transcript (`vmtop lesson ... --transcript FILE`) to add to the page
    #[arg(long, value_name = "FILE")]
    pub transcript: Option<PathBuf>,
    /// Title [default: vmtop on KERNEL (MACHINE)]
    #[arg(long)]
    pub title: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("print").args(["default", "path"])))]
pub struct ConfigArgs {
    /// Print a commented default file with every setting (each line commented out)
    #[arg(long)]
    pub default: bool,
    /// Print only the path of the file vmtop reads
    #[arg(long)]
    pub path: bool,
    /// The file to read instead of the default one
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordFormat {
    /// Comma-separated values, a header line then one row per sample
    Csv,
    /// One JSON object per sample and line
    Jsonl,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["lesson", "check", "list"])))]
pub struct LessonArgs {
    /// The lesson to run beside the live charts: a bundled name (vmtop lesson --list) or a
    /// .toml file (docs/lessons.md)
    #[arg(value_name = "NAME|FILE", conflicts_with_all = ["check", "list"])]
    pub lesson: Option<String>,
    /// Check a lesson (a .toml file or a bundled name) without running it: `ok` and its
    /// steps, exit 0; or FILE:LINE:COLUMN, what is wrong and what is accepted, exit 2
    #[arg(long, value_name = "FILE")]
    pub check: Option<String>,
    /// List the bundled lessons, one line each: name, steps, where they run, title
    #[arg(long)]
    pub list: bool,
    /// Run the steps one after another without keys (a kiosk screen, tests): in the
    /// dashboard when there is a terminal, else one line per step
    #[arg(long, requires = "lesson")]
    pub auto: bool,
    /// With --auto, how long each page stays before the next
    #[arg(long, default_value = "3s", value_parser = parse_duration, requires = "auto")]
    pub step_delay: std::time::Duration,
    /// Write one JSON line per step to FILE: part, step, machine, action, outcome, cause,
    /// expected, agreed
    #[arg(long, value_name = "FILE", requires = "lesson")]
    pub transcript: Option<PathBuf>,
    /// Run only part K (1-based)
    #[arg(long, value_name = "K", requires = "lesson")]
    pub part: Option<usize>,
    /// (internal) this is the lab VM booted for --part: its machine is the part's
    #[arg(long, hide = true, requires = "part")]
    pub in_lab: bool,
    #[command(flatten)]
    pub module: ModuleArgs,
    /// Options for the lesson's dashboard, after -- (as `vmtop`'s: --theme projector,
    /// --glyphs block, --screenshot-dir DIR...); the settings file applies as to `vmtop`
    #[arg(last = true, value_name = "DASHBOARD OPTIONS")]
    pub dashboard_args: Vec<String>,
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
    /// Real swap in the VM: a virtio disk of SIZE (300, 512M, 1G), made swap at boot
    #[arg(long, value_name = "SIZE", value_parser = parse_memsize)]
    pub swap: Option<u64>,
    /// Run a lesson (a bundled name or a .toml file): each part boots its own machine in
    /// turn (architecture, RAM, swap, kernel arguments), the dashboard and the lesson inside
    #[arg(long, value_name = "NAME|FILE", conflicts_with_all = ["exec", "json"])]
    pub lesson: Option<String>,
    /// With --lesson: only part K (1-based)
    #[arg(long, value_name = "K", requires = "lesson")]
    pub part: Option<usize>,
    /// With --lesson: run the steps one after another without keys (with no terminal, one
    /// line per step instead of the dashboard)
    #[arg(long, requires = "lesson")]
    pub auto: bool,
    /// With --lesson --auto: how long each page stays before the next
    #[arg(long, default_value = "3s", value_parser = parse_duration, requires = "auto")]
    pub step_delay: std::time::Duration,
    /// With --lesson: one JSON line per step of every part to FILE
    #[arg(long, value_name = "FILE", requires = "lesson")]
    pub transcript: Option<PathBuf>,
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

    /// The names `files` runs its child with are this subcommand's.
    #[test]
    fn the_as_user_child_parses() {
        for (op, want) in [
            (crate::files::AS_USER_READ, AsUserOp::Read),
            (crate::files::AS_USER_WRITE, AsUserOp::Write),
            (crate::files::AS_USER_STREAM, AsUserOp::Stream),
        ] {
            let cli = Cli::try_parse_from(["vmtop", crate::files::AS_USER, op, "/x/y"]).expect(op);
            match cli.command {
                Some(Cmd::AsUser { what, path }) => {
                    assert_eq!((what, path), (want, PathBuf::from("/x/y")));
                }
                other => panic!("{other:?}"),
            }
        }
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
