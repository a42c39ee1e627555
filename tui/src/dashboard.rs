//! The dashboard's terminal loop and threads.
//!
//! The main loop takes a `meminfo::Sampler` sample every `interval` itself (the sampler
//! shares its start instant with the engine) and waits on one `Msg` channel in between, fed by
//! threads:
//! - input: crossterm key and resize events;
//! - worker: owns the `Engine`, runs `Command`s (blocking loads in a child process), sends
//!   back events, status and "idle"; polls the status every few seconds while idle;
//! - kernel log: `kmsg::spawn_reader_with`, sending text lines;
//! - signals: SIGTERM/SIGINT/SIGHUP end the loop and restore the terminal.
//!
//! /proc/buddyinfo is read in the loop with the samples too, only while something shown
//! needs it (the buddyinfo pane, a contiguous load's confirmation).
//!
//! The loop redraws after each sample and when a message arrives; while an operation runs it
//! also wakes every 250 ms to move the progress indicator. Sampling in the loop rather than in
//! a thread of its own saves a thread (its stack and malloc arena) and, per sample, a wake-up
//! and a hand-off through the channel; the read itself takes tens of microseconds. The terminal is restored on quit, on signals and on
//! panic (a panic hook restores it before the panic message is printed).

use std::io::{IsTerminal as _, Stdout, Write as _};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use crossterm::event::{Event as TermEvent, KeyEvent};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

use crate::app::config::DashboardOptions;
use crate::app::{map_key, Action, App, Command};
use crate::cli::MIN_INTERVAL;
use crate::engine::{Engine, Event};
use crate::module::sysfs::ModuleStatus;
use crate::module::MODULE_NAME;
use crate::system::host::KernelInfo;
use crate::system::meminfo::Sampler;

/// How often the progress indicator moves while an operation runs.
const PROGRESS_TICK: Duration = Duration::from_millis(250);
/// How often the worker re-reads the module status while idle (someone may rmmod by hand).
const STATUS_POLL: Duration = Duration::from_secs(2);
/// How long vmtop waits, on a signal, for a stopped loader to be reaped and reported.
const WORKER_STOP_WAIT: Duration = Duration::from_secs(30);
/// Probe precision, MiB: the same answer as `vmtop probe` gives by default.
const PROBE_PRECISION_MIB: u64 = 1;

/// Everything the main loop wakes up for.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal's new size, columns and rows.
    Resize(u16, u16),
    /// A load/unload finished (from the worker).
    EngineEvent(Event),
    Status(ModuleStatus),
    /// What the worker is doing now (probe attempts).
    Progress(String),
    /// The worker finished a command.
    Idle,
    /// What the kernel answered to a lesson step's action (from the worker).
    LessonDone(crate::lesson::run::Observation),
    /// A message for the footer.
    Notice(String),
    /// One kernel log line.
    Kmsg(String),
    Signal(i32),
    /// The worker stopped (after `Command::Quit`).
    WorkerExited,
    /// The terminal input failed; nothing more will come from it.
    InputClosed(String),
}

/// Run the dashboard until the user quits or a signal arrives.
pub fn run(opts: DashboardOptions) -> anyhow::Result<()> {
    if let Some(path) = &opts.record {
        crate::record::Live::format_of(path)?;
    }
    anyhow::ensure!(
        std::io::stdout().is_terminal() && std::io::stdin().is_terminal(),
        "the dashboard needs a terminal; for a log of samples use `vmtop record`"
    );
    let interval = opts.interval.max(MIN_INTERVAL);
    crate::footprint::tune_malloc();
    let sampler = Sampler::new();
    let start = sampler.start();
    let mut engine =
        Engine::new(start, opts.module.clone()).allow_unsafe_file(opts.allow_unsafe_file);
    // vmtop's tracefs instance for the session (the kernel's vmap-area events during loads),
    // a crashed vmtop's removed first; removed on quit, signal and panic (`tracefs::cleanup`).
    let stale_trace = engine.prepare_tracing();
    let kernel = KernelInfo::detect();
    let module_path = engine.module_path().map_err(|e| format!("{e:#}"));
    let initial_status = engine.status();

    // The recording's files are created before the screen is taken: a path that cannot be
    // written is one line on the command line.
    let mut recording = match &opts.record {
        Some(path) => Some(crate::record::Live::start(path)?),
        None => None,
    };
    let mut app = App::new(kernel, module_path, opts.app_config());
    app.no_color = crate::ui::theme::no_color_requested();
    // The transcript is opened before the screen is taken: a path that cannot be written is
    // said on the terminal, not lost behind the dashboard.
    // Written as the lesson goes (`write_transcript`, appending).
    if let Some(path) = opts.lesson.as_ref().and_then(|l| l.transcript.as_ref()) {
        std::fs::File::create(path)
            .with_context(|| format!("creating the transcript {}", path.display()))?;
    }
    if let Some(l) = opts.lesson {
        let mut state = crate::app::lesson::LessonState::new(l.run, l.auto);
        state.transcript = l.transcript;
        app.lesson = Some(state);
    }
    match initial_status {
        Ok(s) => app.on_status(s),
        Err(e) => app.on_notice(format!("module status unknown: {e:#}")),
    }
    // Loaded before this session (an earlier vmtop, or insmod by hand): say so in the log,
    // mark it on the charts, and let `u` unload it.
    if let Some(adopted) = engine.adopt_existing() {
        if let Some(r) = recording.as_mut() {
            r.event(&adopted);
        }
        app.on_event(adopted);
    }
    if let Some(n) = stale_trace {
        app.on_notice(n);
    }
    // The areas pane's "since vmtop started": one read now (root only; nothing otherwise).
    let total = crate::system::meminfo::Sample::read().map_or(0, |s| s.vmalloc_total);
    app.areas
        .refresh(crate::module::sysfs::buffer_hint(), total);

    let (tx, rx) = mpsc::channel::<Msg>();
    spawn_signals(tx.clone())?;
    if let Err(e) = spawn_kmsg_feed(tx.clone()) {
        app.on_kmsg(format!("(kernel log unavailable: {e})"));
    }
    let (cmd_tx, cmd_rx) = mpsc::channel::<Command>();
    std::thread::Builder::new()
        .name("engine".into())
        .spawn({
            let tx = tx.clone();
            move || worker(engine, cmd_rx, tx)
        })
        .context("starting the engine thread")?;

    let mut term = TerminalGuard::enter()?;
    spawn_input(tx.clone())?;
    drop(tx);

    let end = main_loop(
        &mut term,
        &mut app,
        &rx,
        &cmd_tx,
        &sampler,
        interval,
        &mut recording,
    );
    drop(term);

    // A signal or a closed terminal ends the loop at once: an operation in flight is
    // stopped (the loader killed), and what it left behind is reported below.
    if app.busy.is_some() && !matches!(end, Ok(End::Quit)) {
        crate::helper::cancel();
        let _ = cmd_tx.send(Command::Quit { unload: false });
        let deadline = Instant::now() + WORKER_STOP_WAIT;
        while let Ok(msg) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            match msg {
                Msg::EngineEvent(e) => {
                    if let Some(r) = recording.as_mut() {
                        r.event(&e);
                    }
                    app.on_event(e)
                }
                Msg::Status(s) => app.on_status(s),
                Msg::WorkerExited => break,
                _ => {}
            }
        }
    }

    // The worker is done or stopped: vmtop's tracefs instance goes (the worker's engine may
    // not be dropped before the process ends).
    crate::tracefs::cleanup();

    // After the terminal is back: say what was left behind.
    let mut err = std::io::stderr();
    if let Some(r) = recording {
        match r.finish() {
            Ok(path) => {
                let _ = writeln!(err, "vmtop: recorded to {}", path.display());
            }
            Err(e) => {
                let _ = writeln!(err, "vmtop: {e:#}");
            }
        }
    }
    match &end {
        Ok(End::Signal(sig)) => {
            let _ = writeln!(err, "vmtop: stopped by signal {sig}");
        }
        Ok(End::InputClosed(why)) => {
            let _ = writeln!(err, "vmtop: terminal input closed: {why}");
        }
        _ => {}
    }
    if let Some(d) = app
        .events
        .last()
        .and_then(|e| e.diagnosis())
        .filter(|d| d.cause == crate::diagnose::Cause::Cancelled)
    {
        let _ = writeln!(err, "vmtop: {}", d.summary);
    }
    if app.status.loaded {
        let _ = writeln!(
            err,
            "vmtop: {MODULE_NAME} is still loaded{}; unload it with: sudo rmmod {MODULE_NAME}",
            app.status
                .memsize_mib
                .map(|m| format!(" (holding {m} MiB)"))
                .unwrap_or_default()
        );
    }
    end.map(|_| ())
}

/// Why the loop ended.
enum End {
    Quit,
    Signal(i32),
    InputClosed(String),
}

fn main_loop(
    term: &mut TerminalGuard,
    app: &mut App,
    rx: &Receiver<Msg>,
    cmd_tx: &Sender<Command>,
    sampler: &Sampler,
    interval: Duration,
    recording: &mut Option<crate::record::Live>,
) -> anyhow::Result<End> {
    let start = sampler.start();
    let mut lp = Loop {
        cmd_tx,
        recording,
        waiting_for_worker: false,
        next_sample: Instant::now(),
        buddy: crate::system::buddyinfo::BuddyReader::new(),
        wanted_buddy: false,
    };
    // A message (key, event, log line, resize...) arrived since the last frame: anything on
    // the screen may have changed. Otherwise only samples and time did.
    let mut messages = true;
    let mut trimmed = false;
    loop {
        lp.sample_if_due(app, sampler, interval);
        app.on_tick(start.elapsed().as_secs_f64());
        // A lesson's wait or pause may be over, or --auto's next page due.
        let (lesson_changed, cmd) = app.lesson_due();
        messages |= lesson_changed;
        if let Some(cmd) = cmd {
            lp.send(app, cmd);
        }
        write_transcript(app);
        term.draw(app, !messages)?;
        messages = false;
        app.areas_changed = false;
        if !trimmed {
            // Start-up is over: unmap the code it alone ran (see `footprint`).
            crate::footprint::trim_code_pages();
            trimmed = true;
        }
        if app.should_quit && !lp.waiting_for_worker {
            return Ok(End::Quit);
        }

        let mut wait = lp.next_sample.saturating_duration_since(Instant::now());
        if app.busy.is_some() {
            wait = wait.min(PROGRESS_TICK);
        }
        let first = match rx.recv_timeout(wait) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return Ok(End::Quit),
        };
        // Handle everything already queued, then draw once.
        let pending = first
            .into_iter()
            .chain(std::iter::from_fn(|| rx.try_recv().ok()));
        for msg in pending.take(10_000) {
            messages = true;
            if let Some(end) = lp.handle(msg, term, app)? {
                return Ok(end);
            }
        }
        if std::mem::take(&mut app.screenshot_asked) {
            let text = match save_screenshot(app, term.area()) {
                Ok(text) => text,
                Err(e) => format!("screen not saved: {e:#}"),
            };
            app.on_notice(text);
        }
    }
}

/// Save the screen as `app` draws it at `area`'s size (the same cells as the terminal
/// shows), as SVG and PNG in the screenshot folder; returns the footer's words.
fn save_screenshot(app: &App, area: Rect) -> anyhow::Result<String> {
    let mut t = Terminal::new(ratatui::backend::TestBackend::new(area.width, area.height))
        .context("drawing the screen for the picture")?;
    t.draw(|f| crate::ui::draw(f, app))
        .context("drawing the screen for the picture")?;
    let buf = t.backend().buffer();
    let palette = crate::export::palette::Palette::of(app.theme);
    let stamp = crate::units::utc_stamp(crate::units::unix_ms_now());
    let dir = &app.screenshot_dir;
    let base = (1..100)
        .map(|n| match n {
            1 => format!("vmtop-{stamp}"),
            n => format!("vmtop-{stamp}-{n}"),
        })
        .find(|b| !dir.join(format!("{b}.svg")).exists() && !dir.join(format!("{b}.png")).exists())
        .unwrap_or_else(|| format!("vmtop-{stamp}"));
    let title = format!(
        "vmtop on Linux {} ({}), {}x{}",
        app.kernel.release, app.kernel.machine, area.width, area.height
    );
    let svg = crate::export::screen::svg(buf, &palette, &title);
    let png = crate::export::screen::png(buf, &palette)?;
    let svg_path = dir.join(format!("{base}.svg"));
    crate::files::save(&svg_path, svg.as_bytes())?;
    crate::files::save(&dir.join(format!("{base}.png")), &png)?;
    Ok(format!("screen saved: {} and .png", svg_path.display()))
}

/// The main loop's own state between frames.
struct Loop<'a> {
    cmd_tx: &'a Sender<Command>,
    /// `--record`: what the dashboard shows and does, as it happens.
    recording: &'a mut Option<crate::record::Live>,
    /// Set when a Quit{unload: true} was sent: wait for the worker before leaving.
    waiting_for_worker: bool,
    /// Deadlines, not sleeps, so the interval does not drift with the read and draw time; a
    /// deadline missed (the machine stalled) is skipped, not caught up in a burst.
    next_sample: Instant,
    /// /proc/buddyinfo, read with the samples while the app wants it (see
    /// `App::wants_buddyinfo`), and at once when it starts wanting it (the pane opens).
    buddy: crate::system::buddyinfo::BuddyReader,
    wanted_buddy: bool,
}

impl Loop<'_> {
    /// A sample when one is due, and /proc/buddyinfo with it while the app wants it;
    /// /proc/vmallocinfo while the areas pane is open, at most once a second.
    fn sample_if_due(&mut self, app: &mut App, sampler: &Sampler, interval: Duration) {
        let now = Instant::now();
        let sampled = now >= self.next_sample;
        if sampled {
            let p = sampler.sample();
            self.record(app, |r| r.point(&p));
            app.on_sample(p);
            // Kernel memory (from the same /proc/meminfo read) and PSI (one small read).
            app.areas_changed |= app.areas.on_sample(sampler.kernel_memory());
            app.on_pressure();
            while self.next_sample <= now {
                self.next_sample += interval;
            }
            // A lesson's wait watches a /proc/meminfo figure the samples do not carry.
            if let Some(name) = app.lesson_figure_wanted() {
                let v = std::fs::read_to_string("/proc/meminfo")
                    .ok()
                    .and_then(|t| crate::lesson::run::figure_mib(&t, &name));
                app.on_lesson_figure(v);
            }
        }
        let wants_buddy = app.wants_buddyinfo();
        if wants_buddy && (sampled || !self.wanted_buddy) {
            app.on_buddyinfo(self.buddy.read());
        }
        self.wanted_buddy = wants_buddy;
        if app.wants_areas(now) {
            let total = app.latest().map_or(0, |s| s.vmalloc_total);
            app.areas
                .refresh(crate::module::sysfs::buffer_hint(), total);
            app.areas_changed = true;
        }
    }

    /// Into the recording (`--record`); a write that fails stops it and says so in the
    /// footer, once.
    fn record(
        &mut self,
        app: &mut App,
        f: impl FnOnce(&mut crate::record::Live) -> Option<String>,
    ) {
        if let Some(why) = self.recording.as_mut().and_then(f) {
            app.on_notice(why);
        }
    }

    fn send(&mut self, app: &mut App, cmd: Command) {
        send_command(self.cmd_tx, app, cmd, &mut self.waiting_for_worker);
    }

    /// One message into the app; Some when the loop must end.
    fn handle(
        &mut self,
        msg: Msg,
        term: &mut TerminalGuard,
        app: &mut App,
    ) -> anyhow::Result<Option<End>> {
        let action = match msg {
            Msg::Key(k) => map_key(k, app.mode()),
            Msg::Resize(cols, rows) => {
                term.resize(cols, rows)?;
                Some(Action::Resize)
            }
            Msg::EngineEvent(e) => {
                self.record(app, |r| r.event(&e));
                app.on_event(e);
                None
            }
            Msg::Status(s) => {
                app.on_status(s);
                None
            }
            Msg::Progress(what) => {
                app.on_progress(what);
                None
            }
            Msg::LessonDone(o) => {
                app.on_lesson_done(o);
                None
            }
            Msg::Idle => {
                // The quit the user waited for goes on now.
                if let Some(cmd) = app.on_idle() {
                    self.send(app, cmd);
                }
                None
            }
            Msg::Notice(n) => {
                app.on_notice(n);
                None
            }
            Msg::Kmsg(line) => {
                if app.shows_kmsg(&line) {
                    let t = app.now;
                    self.record(app, |r| r.kmsg(t, &line));
                }
                app.on_kmsg(line);
                None
            }
            Msg::Signal(sig) => return Ok(Some(End::Signal(sig))),
            Msg::WorkerExited => {
                app.on_worker_exited();
                if self.waiting_for_worker {
                    return Ok(Some(End::Quit));
                }
                None
            }
            Msg::InputClosed(why) => return Ok(Some(End::InputClosed(why))),
        };
        if let Some(cmd) = action.and_then(|a| app.update(a)) {
            self.send(app, cmd);
        }
        Ok(None)
    }
}

/// The lesson's new transcript lines, appended to its file (`--transcript`, created before
/// the screen was taken); a write that fails is said once, in the footer, and writing stops.
fn write_transcript(app: &mut App) {
    let Some(l) = app.lesson.as_mut() else {
        return;
    };
    let text: String = l
        .run
        .take_new_records()
        .iter()
        .filter_map(|r| serde_json::to_string(r).ok())
        .map(|line| line + "\n")
        .collect();
    let Some(path) = l.transcript.clone().filter(|_| !text.is_empty()) else {
        return;
    };
    let written = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        l.transcript = None;
        app.on_notice(format!(
            "the transcript {} cannot be written: {e}",
            path.display()
        ));
    }
}

/// Hand a command to the worker; stopping the loader happens here and now, since the worker
/// is blocked in the very load being stopped.
fn send_command(
    cmd_tx: &Sender<Command>,
    app: &mut App,
    cmd: Command,
    waiting_for_worker: &mut bool,
) {
    let cmd = match cmd {
        Command::CancelAndQuit => {
            crate::helper::cancel();
            Command::Quit { unload: true }
        }
        c => c,
    };
    if matches!(cmd, Command::Quit { unload: true }) {
        *waiting_for_worker = true;
    }
    // The areas pane's "since the load": a reading just before it (root only).
    if matches!(
        cmd,
        Command::Load(_) | Command::Reload(_) | Command::Probe { .. }
    ) {
        app.areas
            .before_load(app.now, crate::module::sysfs::buffer_hint());
    }
    if cmd_tx.send(cmd).is_err() {
        // The worker is gone: nothing can act on the kernel.
        app.on_worker_exited();
        app.on_notice("the engine thread stopped: loading is unavailable".into());
        *waiting_for_worker = false;
    }
}

/// Raw mode + alternate screen, restored on drop and by the panic hook.
///
/// The viewport is the whole screen, but `Viewport::Fixed`: with `Viewport::Fullscreen` ratatui
/// asks the backend for the terminal size before every frame, and crossterm answers by opening
/// /dev/tty, an ioctl and a close, every time; that was a third of the dashboard's system time
/// at 10 Hz. The size changes only with a resize event, which `resize` applies.
struct TerminalGuard {
    terminal: Terminal<CrosstermBackend<Stdout>>,
    screen: Screen,
}

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Held while a frame is drawn. A panic in another thread takes it for good before it
/// restores the terminal, so the main thread cannot draw over the cooked main screen.
static DRAWING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The panic hook: from any thread, the terminal is restored before the message is printed.
/// A panic outside the main thread (the engine, input, signals or kernel-log thread) ends
/// the process after its message: the dashboard cannot go on without the thread, and must
/// not go on drawing. The loader is stopped first; it also dies with its parent thread.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let main = std::thread::current().name() == Some("main");
        let _frozen = (!main).then(|| DRAWING.lock().unwrap_or_else(|e| e.into_inner()));
        restore_terminal();
        // vmtop's tracefs instance: the thread that owns it may never drop it now.
        crate::tracefs::cleanup();
        previous(info);
        if !main {
            crate::helper::cancel_from_panic();
            let _ = writeln!(
                std::io::stderr(),
                "vmtop: the {} thread panicked; the dashboard stopped",
                std::thread::current().name().unwrap_or("unnamed")
            );
            std::process::exit(PANIC_EXIT);
        }
    }));
}

/// Exit status after a panic (as Rust's own for a panicking main thread).
const PANIC_EXIT: i32 = 101;

impl TerminalGuard {
    fn enter() -> anyhow::Result<TerminalGuard> {
        install_panic_hook();
        enable_raw_mode().context("switching the terminal to raw mode")?;
        let setup = crossterm::execute!(
            std::io::stdout(),
            EnterAlternateScreen,
            crossterm::cursor::Hide
        );
        if let Err(e) = setup {
            restore_terminal();
            return Err(e).context("entering the alternate screen");
        }
        let opened = crossterm::terminal::size()
            .context("reading the terminal size")
            .and_then(|(cols, rows)| {
                Terminal::with_options(
                    CrosstermBackend::new(std::io::stdout()),
                    TerminalOptions {
                        viewport: Viewport::Fixed(Rect::new(0, 0, cols, rows)),
                    },
                )
                .context("opening the terminal")
            });
        match opened {
            Ok(mut terminal) => {
                release_buffers(&mut terminal);
                Ok(TerminalGuard {
                    screen: Screen::new(terminal.get_frame().area()),
                    terminal,
                })
            }
            Err(e) => {
                restore_terminal();
                Err(e)
            }
        }
    }

    /// Draw a frame (see `draw_frame`).
    fn draw(&mut self, app: &App, samples_only: bool) -> anyhow::Result<()> {
        let _drawing = DRAWING.lock().unwrap_or_else(|e| e.into_inner());
        draw_frame(&mut self.terminal, &mut self.screen, app, samples_only)
    }

    /// The screen's size.
    fn area(&mut self) -> Rect {
        self.screen.shown.area
    }

    /// The terminal now has `cols` x `rows` cells: redraw everything at that size.
    fn resize(&mut self, cols: u16, rows: u16) -> anyhow::Result<()> {
        // Clears the screen (and sizes the terminal's buffers again).
        let area = Rect::new(0, 0, cols, rows);
        self.terminal
            .resize(area)
            .context("resizing the dashboard to the terminal")?;
        release_buffers(&mut self.terminal);
        self.screen = Screen::new(area);
        Ok(())
    }
}

/// What the terminal shows, cell for cell, and what it was drawn from.
///
/// ratatui's `Terminal` keeps two buffers of the whole screen, the frame being drawn and the
/// last one, and compares every cell of the two on each frame. vmtop keeps one, `shown`, and
/// draws into the terminal's current buffer only what it draws: a whole frame into a fresh
/// buffer, compared with `shown` and then kept as it; after samples only, the parts that can
/// have changed (`ui::damage`) into `shown` itself, each compared with what it held there.
/// The terminal's own buffers stay empty (`release_buffers`): 0.3 MiB less at 160x45.
struct Screen {
    shown: Buffer,
    drawn: crate::ui::damage::Drawn,
}

impl Screen {
    /// A cleared screen of `area`.
    fn new(area: Rect) -> Screen {
        Screen {
            shown: Buffer::empty(area),
            drawn: Default::default(),
        }
    }
}

/// Empty the terminal's two buffers (`Screen` keeps what the screen shows).
fn release_buffers<B: ratatui::backend::Backend>(t: &mut Terminal<B>) {
    for _ in 0..2 {
        t.swap_buffers();
        *t.current_buffer_mut() = Buffer::default();
    }
}

/// Draw a frame: the whole screen, or after samples only (`samples_only`) the parts that can
/// have changed (`ui::damage::after_samples`), none when nothing visible moved. Only cells
/// that differ from what the terminal shows are sent.
fn draw_frame<B>(
    t: &mut Terminal<B>,
    screen: &mut Screen,
    app: &App,
    samples_only: bool,
) -> anyhow::Result<()>
where
    B: ratatui::backend::Backend,
    B::Error: Send + Sync + 'static,
{
    let area = t.get_frame().area();
    if samples_only {
        if let Some(parts) = crate::ui::damage::after_samples(app, area, &mut screen.drawn) {
            // Chart columns, cell by cell on what the screen shows...
            let mut cells = Vec::new();
            for part in parts.iter().filter(|p| p.by_cells()) {
                crate::ui::damage::draw_cells(
                    &mut screen.shown,
                    app,
                    &mut screen.drawn,
                    part,
                    &mut cells,
                );
            }
            let shown = &screen.shown;
            let mut sent = !cells.is_empty();
            if sent {
                t.backend_mut()
                    .draw(cells.iter().map(|&(x, y)| (x, y, &shown[(x, y)])))
                    .context("drawing the dashboard")?;
            }
            // ... the other parts through a frame on it.
            let framed: Vec<_> = parts.iter().filter(|p| !p.by_cells()).collect();
            if !framed.is_empty() {
                std::mem::swap(&mut screen.shown, t.current_buffer_mut());
                let mut drew = Ok(false);
                for part in framed {
                    let drawn = &screen.drawn;
                    drew = redraw(t, part.rect, |f| {
                        crate::ui::damage::draw_part(f, app, drawn, part)
                    })
                    .map(|s| s || matches!(drew, Ok(true)));
                    if drew.is_err() {
                        break;
                    }
                }
                std::mem::swap(&mut screen.shown, t.current_buffer_mut());
                sent |= drew.context("drawing the dashboard")?;
            }
            if sent {
                t.backend_mut()
                    .flush()
                    .context("writing the dashboard to the terminal")?;
            }
            return Ok(());
        }
    }
    *t.current_buffer_mut() = Buffer::empty(area);
    crate::ui::draw(&mut t.get_frame(), app);
    let frame = std::mem::take(t.current_buffer_mut());
    t.backend_mut()
        .draw(screen.shown.diff(&frame).into_iter())
        .context("drawing the dashboard")?;
    t.backend_mut()
        .flush()
        .context("writing the dashboard to the terminal")?;
    screen.shown = frame;
    crate::ui::damage::after_full(app, area, &mut screen.drawn);
    Ok(())
}

/// Draw `rect` of the terminal's current buffer again with `draw` (which draws nothing
/// outside it): blank it, draw, and send the cells that now differ. Whether any was sent.
fn redraw<B: ratatui::backend::Backend>(
    t: &mut Terminal<B>,
    rect: Rect,
    draw: impl FnOnce(&mut ratatui::Frame),
) -> Result<bool, B::Error> {
    let rect = rect.intersection(t.current_buffer_mut().area);
    if rect.is_empty() {
        return Ok(false);
    }
    // Rows of `rect` in `from`, into the same rows of `to`.
    let copy = |from: &mut Buffer, to: &mut Buffer, blank: bool| {
        let w = usize::from(rect.width);
        for y in rect.top()..rect.bottom() {
            let (i, j) = (from.index_of(rect.x, y), to.index_of(rect.x, y));
            to.content[j..j + w].clone_from_slice(&from.content[i..i + w]);
            if blank {
                from.content[i..i + w].fill(ratatui::buffer::Cell::EMPTY);
            }
        }
    };
    let mut before = Buffer::empty(rect);
    copy(t.current_buffer_mut(), &mut before, true);
    draw(&mut t.get_frame());
    let mut after = Buffer::empty(rect);
    copy(t.current_buffer_mut(), &mut after, false);
    let updates = before.diff(&after);
    if updates.is_empty() {
        return Ok(false);
    }
    t.backend_mut().draw(updates.into_iter())?;
    Ok(true)
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

fn spawn_signals(tx: Sender<Msg>) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
        .context("installing signal handlers")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                if tx.send(Msg::Signal(sig)).is_err() {
                    return;
                }
            }
        })
        .context("starting the signal thread")?;
    Ok(())
}

fn spawn_input(tx: Sender<Msg>) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("input".into())
        .spawn(move || loop {
            let msg = match crossterm::event::read() {
                Ok(TermEvent::Key(k)) => Msg::Key(k),
                Ok(TermEvent::Resize(cols, rows)) => Msg::Resize(cols, rows),
                Ok(_) => continue,
                Err(e) => {
                    let _ = tx.send(Msg::InputClosed(e.to_string()));
                    return;
                }
            };
            if tx.send(msg).is_err() {
                return;
            }
        })
        .context("starting the input thread")?;
    Ok(())
}

/// Kernel log lines, `dmesg`-style, into the dashboard: formatted in the reader's thread.
fn spawn_kmsg_feed(tx: Sender<Msg>) -> std::io::Result<()> {
    crate::system::kmsg::spawn_reader_with(move |r| {
        let line = format!("[{:>12.6}] {}", r.ts_secs(), r.text);
        tx.send(Msg::Kmsg(line)).is_ok()
    })?;
    Ok(())
}

/// A load's event, and a note in the footer when the loader was killed after the module's
/// init had returned (loaded all the same: `u` unloads it).
fn send_loaded(loaded: crate::engine::Loaded, tx: &Sender<Msg>) {
    if let Some(note) = loaded.loader_killed_note("u") {
        let _ = tx.send(Msg::Notice(note));
    }
    let _ = tx.send(Msg::EngineEvent(loaded.event));
}

/// The engine's thread: runs commands one at a time.
fn worker(mut engine: Engine, rx: Receiver<Command>, tx: Sender<Msg>) {
    let send = |m: Msg| tx.send(m).is_ok();
    let mut last_status: Option<ModuleStatus> = None;
    let send_status = |engine: &Engine, last: &mut Option<ModuleStatus>| {
        if let Ok(s) = engine.status() {
            if last.as_ref() != Some(&s) {
                *last = Some(s.clone());
                let _ = tx.send(Msg::Status(s));
            }
        }
    };
    loop {
        let cmd = match rx.recv_timeout(STATUS_POLL) {
            Ok(c) => c,
            Err(RecvTimeoutError::Timeout) => {
                test_hook_panic();
                send_status(&engine, &mut last_status);
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        match cmd {
            Command::Load(req) => {
                send_loaded(engine.load(&req), &tx);
            }
            Command::Reload(req) => {
                let unload = engine.unload();
                let ok = !unload.failed();
                send(Msg::EngineEvent(unload));
                if ok {
                    send_loaded(engine.load(&req), &tx);
                }
            }
            Command::Unload => {
                send(Msg::EngineEvent(engine.unload()));
            }
            Command::Probe { oom_safe } => run_probe(&mut engine, oom_safe, &tx),
            Command::Lesson(action) => {
                let o = crate::lesson::exec::perform(&mut engine, &action, &mut |e| {
                    let _ = tx.send(Msg::EngineEvent(e.clone()));
                });
                send(Msg::LessonDone(o));
            }
            Command::Quit { .. } | Command::CancelAndQuit => {
                let unload = !matches!(cmd, Command::Quit { unload: false });
                if unload && engine.status().is_ok_and(|s| s.loaded) {
                    send(Msg::EngineEvent(engine.unload()));
                }
                last_status = None;
                send_status(&engine, &mut last_status);
                send(Msg::WorkerExited);
                return;
            }
        }
        last_status = None;
        send_status(&engine, &mut last_status);
        if !send(Msg::Idle) {
            return;
        }
    }
}

/// Largest memsize that loads, between 1 MiB and MemTotal, to within 1 MiB, as `vmtop probe`
/// finds it (the same strategy: from the figures first): each attempt is a real load (and
/// unload after success), shown as events. A failure that is not about size (say the module
/// file went missing) stops the probe, as in `vmtop probe`.
fn run_probe(engine: &mut Engine, oom_safe: bool, tx: &Sender<Msg>) {
    let strategy = crate::probe::Strategy::Estimate;
    let start = match crate::probe::Start::read(strategy) {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Msg::Notice(format!("probe: cannot read MemTotal: {e:#}")));
            return;
        }
    };
    let plan = start.plan(1, start.cap_mib.max(1), PROBE_PRECISION_MIB, strategy);
    let _ = tx.send(Msg::Progress(match plan.estimate {
        Some(e) => format!("probing: first guess {e} MiB, from the figures"),
        None => "probing".into(),
    }));
    let result = crate::probe::run(
        engine,
        &plan,
        oom_safe,
        |e| {
            let _ = tx.send(Msg::EngineEvent(e.clone()));
        },
        |a| {
            let range = match (a.lo, a.hi) {
                (Some(lo), Some(hi)) => format!("between {lo} and {hi} MiB"),
                (Some(lo), None) => format!("at least {lo} MiB"),
                (None, Some(hi)) => format!("below {hi} MiB"),
                (None, None) => "unknown".into(),
            };
            let next = a
                .estimate
                .map(|e| format!(", guess {e} MiB"))
                .unwrap_or_default();
            let _ = tx.send(Msg::Progress(format!(
                "probe attempt {}: {} MiB {}; largest {range}{next}",
                a.index,
                a.size,
                if a.loaded { "loaded" } else { "failed" }
            )));
        },
    );
    let text = match result {
        Ok(r) => match (r.largest_ok, r.smallest_failed) {
            (Some(ok), Some(bad)) => format!(
                "probe: {ok} MiB loaded, {bad} MiB failed ({} attempts)",
                r.attempts.len()
            ),
            (Some(ok), None) => format!("probe: even {ok} MiB (MemTotal) loaded"),
            (None, _) => "probe: not even 1 MiB loaded (see the failure banner)".into(),
        },
        Err(e) => format!("probe stopped: {e:#}"),
    };
    let _ = tx.send(Msg::Notice(text));
}

/// How the tests make a worker thread panic (tests/host/dashboard.rs): `VMTOP_TEST_PANIC=engine`.
/// Compiled only into debug builds and builds with the `test-hooks` feature (`make test`), never
/// into the release binary users run, as root among others.
#[cfg(any(debug_assertions, feature = "test-hooks"))]
fn test_hook_panic() {
    if std::env::var_os(crate::env::TEST_PANIC).is_some_and(|v| v == "engine") {
        panic!("VMTOP_TEST_PANIC=engine: a panic in the engine thread");
    }
}

#[cfg(not(any(debug_assertions, feature = "test-hooks")))]
fn test_hook_panic() {}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the terminal shows after frames drawn with `samples_only` is what a full redraw
    /// of the same state shows, and stays so when full frames follow.
    #[test]
    fn frames_after_samples_only_show_the_same_as_full_frames() {
        use ratatui::backend::TestBackend;

        use crate::system::host::KernelInfo;
        use crate::system::meminfo::Point;
        use crate::units::{KIB, MIB};

        let sample = |free_mib: u64| crate::system::meminfo::Sample {
            mem_total: 1_002_084 * KIB,
            mem_free: free_mib * MIB,
            mem_available: Some((free_mib + 20) * MIB),
            vmalloc_total: 13_743_895_347_199 * KIB,
            vmalloc_used: (1000 - free_mib) * MIB,
            vmalloc_chunk: 0,
            highmem: None,
        };
        let mut app = App::new(
            KernelInfo {
                release: "6.1.0-56-amd64".into(),
                machine: "x86_64".into(),
                module_support: false,
                privileges: crate::system::host::tests::with_root(false),
                signing: crate::system::host::tests::relaxed(),
            },
            Err("no module".into()),
            crate::app::config::AppConfig::default(),
        );
        let (w, h) = (160, 45);
        let mut screen = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
        let mut state = Screen::new(Rect::new(0, 0, w, h));
        // What the terminal shows: TestBackend also keeps the cells' diff option, which is
        // not shown.
        let shown = |t: &Terminal<TestBackend>| {
            let mut b = t.backend().buffer().clone();
            for c in &mut b.content {
                c.set_diff_option(ratatui::buffer::CellDiffOption::None);
            }
            b
        };
        let full = |app: &App| {
            let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
            t.draw(|f| crate::ui::draw(f, app)).expect("draw");
            t.backend().buffer().clone()
        };
        for i in 0..120u64 {
            let t = i as f64 * 0.1;
            app.on_sample(Point {
                t,
                unix_ms: 1_700_000_000_000 + i * 100,
                sample: Some(sample(400 + (i * 7 % 300))),
                vmalloc_largest_free: None,
            });
            app.on_tick(t);
            // Now and then a message: kernel log lines, keys (the help covers the charts), a
            // failed load (the banner grows: the layout moves), an operation running (its
            // header moves with time) and ending.
            let message = i % 25 == 0 || [30, 40, 61, 70, 80, 90, 95, 112].contains(&i);
            if i % 25 == 0 {
                app.on_kmsg(format!("[ {t:>10.6}] alloc_large_mem: line {i}"));
            }
            // The buddyinfo pane, open from frame 30: read with every sample, a new state
            // every 7th (the pane is drawn then, and kept as it was otherwise).
            let buddy = [
                crate::system::buddyinfo::tests::LAB_6_1,
                crate::system::buddyinfo::tests::LAB_6_12,
            ][usize::from(i % 14 >= 7)];
            app.on_buddyinfo(Ok(crate::system::buddyinfo::tests::capture(buddy)));
            if i == 30 {
                app.update(Action::ToggleBuddy);
            }
            // The areas pane, open from frame 40 (the 32-bit lab's reading, with its map); its
            // kernel-memory line reads differently every 5th sample; a pressure mark from
            // frame 100 (the charts are drawn whole while it shows).
            if i == 40 {
                use crate::system::vmareas::tests::{body, I686_100M};
                app.areas
                    .refresh_from_text(&body(I686_100M), None, 120 * crate::units::MIB);
                app.update(Action::ToggleAreas);
            }
            let kernel = crate::system::meminfo::KernelMemory {
                slab: (9 + i / 5) * crate::units::MIB,
                s_unreclaim: Some(3 * crate::units::MIB),
                kernel_stack: Some(448 * 1024),
                page_tables: Some(104 * 1024),
                percpu: Some(264 * 1024),
                vmalloc_used: 100 * crate::units::MIB,
            };
            app.areas_changed = app.areas.set_figures(Some(kernel), None);
            assert_eq!(app.areas_changed, i % 5 == 0, "frame {i}: the line's text");
            if i == 100 {
                app.pressure_marks.push((t, 3.0));
            }
            match i {
                61 => {
                    app.update(Action::CycleWindow);
                }
                70 | 80 => {
                    app.update(Action::ToggleHelp);
                }
                90 => app.on_event(crate::engine::Event {
                    t,
                    kind: crate::engine::EventKind::Load,
                    memsize_mib: 2048,
                    oom_safe: true,
                    alloc: None,
                    outcome: crate::engine::Outcome::Failed {
                        diagnosis: crate::diagnose::Diagnosis {
                            cause: crate::diagnose::Cause::PhysicalMemoryShort,
                            confidence: crate::diagnose::Confidence::Likely,
                            summary: "Physical memory short: asked 2048 MiB".into(),
                            detail: "RAM ran out first. Try 700 MiB or less.".into(),
                            evidence: Vec::new(),
                        },
                    },
                    wall_ns: 1_000_000,
                    alloc_ns: None,
                    fill_ns: None,
                    delta: None,
                    module_line: None,
                }),
                95 => {
                    app.busy = Some(crate::app::state::Busy {
                        what: "loading 64 MiB".into(),
                        since_ms: 9_500,
                        op: crate::app::state::Op::Probe,
                    })
                }
                112 => {
                    app.on_idle();
                }
                _ => {}
            }
            draw_frame(&mut screen, &mut state, &app, i > 0 && !message).expect("frame");
            app.areas_changed = false;
            assert_eq!(shown(&screen), full(&app), "frame {i}");
        }
    }

    /// A small deterministic random number generator (splitmix64) for the tests below.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// Uniform in `[0, n)`.
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        /// True with probability `p` in a thousand.
        fn chance(&mut self, per_mille: u64) -> bool {
            self.below(1000) < per_mille
        }
    }

    /// The figures of a machine whose memory wanders: flat stretches with KiB-sized noise
    /// (the idle case), walks, steps (loads and unloads), failed reads and, now and then, a
    /// figure missing or MemTotal changing (the y axis moves).
    struct Machine {
        rng: Rng,
        total_kib: u64,
        free_kib: u64,
        used_kib: u64,
        /// 0: flat, 1: walk, 2: steps.
        mood: u64,
        highmem: bool,
        /// Slab, for the kernel-memory line: a walk of a few KiB a sample, so that its text
        /// (three figures) changes now and then, mostly when the charts do not.
        slab_kib: u64,
        psi: Option<crate::system::pressure::Pressure>,
    }

    impl Machine {
        /// The kernel-memory line's figures (PSI's now and then).
        fn kernel(
            &mut self,
        ) -> (
            crate::system::meminfo::KernelMemory,
            Option<crate::system::pressure::Pressure>,
        ) {
            use crate::units::KIB;
            self.slab_kib = (self.slab_kib + self.rng.below(9)).saturating_sub(4);
            let k = crate::system::meminfo::KernelMemory {
                slab: self.slab_kib * KIB,
                s_unreclaim: Some(self.slab_kib * KIB / 2),
                kernel_stack: Some(448 * KIB),
                page_tables: Some(104 * KIB),
                percpu: Some(264 * KIB),
                vmalloc_used: self.used_kib * KIB,
            };
            // PSI: some avg10 0.0 to 1.5 %, a new figure now and then, unread now and then.
            if self.rng.chance(20) {
                let some = self.rng.below(4) as f32 / 2.0;
                self.psi = (!self.rng.chance(4)).then_some(crate::system::pressure::Pressure {
                    some_avg10: some,
                    full_avg10: some / 2.0,
                    some_total_us: self.rng.below(1000),
                    full_total_us: 0,
                });
            }
            let psi = self.psi;
            (k, psi)
        }

        fn sample(&mut self) -> Option<crate::system::meminfo::Sample> {
            use crate::units::KIB;
            let r = &mut self.rng;
            if r.chance(20) {
                self.mood = r.below(3);
            }
            match self.mood {
                0 => {
                    self.free_kib = (self.free_kib + r.below(9)).saturating_sub(4);
                    self.used_kib = (self.used_kib + r.below(5)).saturating_sub(2);
                }
                1 => {
                    self.free_kib = (self.free_kib + r.below(40_001)).saturating_sub(20_000);
                    self.used_kib = (self.used_kib + r.below(8_001)).saturating_sub(4_000);
                }
                _ => {
                    if r.chance(100) {
                        let step = r.below(600_000);
                        if r.chance(500) {
                            self.free_kib = self.free_kib.saturating_sub(step);
                            self.used_kib += step;
                        } else {
                            self.free_kib += step;
                            self.used_kib = self.used_kib.saturating_sub(step);
                        }
                    }
                }
            }
            self.free_kib = self.free_kib.clamp(10_000, self.total_kib - 10_000);
            self.used_kib = self.used_kib.clamp(1_000, 3_000_000);
            if r.chance(3) {
                self.total_kib += 65_536;
            }
            if r.chance(25) {
                return None;
            }
            Some(crate::system::meminfo::Sample {
                mem_total: self.total_kib * KIB,
                mem_free: self.free_kib * KIB,
                mem_available: (!r.chance(15)).then(|| (self.free_kib + 90_000) * KIB),
                vmalloc_total: if self.highmem {
                    120 * 1024 * KIB
                } else {
                    13_743_895_347_199 * KIB
                },
                vmalloc_used: if self.highmem {
                    self.used_kib % (120 * 1024)
                } else {
                    self.used_kib
                } * KIB,
                vmalloc_chunk: if r.chance(5) { 4096 * KIB } else { 0 },
                highmem: if self.highmem {
                    crate::system::meminfo::Highmem::from_bytes(
                        self.total_kib * KIB * 7 / 8,
                        self.free_kib * KIB * 7 / 8,
                        self.total_kib * KIB / 8,
                        self.free_kib * KIB / 8,
                    )
                } else {
                    None
                },
            })
        }
    }

    /// Over random sample sequences in every chart window (30 s, 2 and 10 min, all the
    /// history), frozen or not, with markers moving through, operations running and the
    /// retention dropping points under the window: what the terminal shows after each frame
    /// drawn after samples only is what a whole frame of the same state shows, and so is what
    /// the dashboard believes it shows.
    #[test]
    fn partial_frames_equal_full_frames_over_random_samples() {
        use ratatui::backend::TestBackend;

        use crate::system::host::KernelInfo;
        use crate::system::meminfo::Point;

        let full = |app: &App, w: u16, h: u16| {
            let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
            t.draw(|f| crate::ui::draw(f, app)).expect("draw");
            t.backend().buffer().clone()
        };
        let mut partial_frames = 0;
        let mut drawn_nothing = 0;
        use crate::cli::{Glyphs, ThemeName};
        for (seed, (w, h), retention, highmem, theme, glyphs) in [
            (
                1u64,
                (160u16, 45u16),
                3600.0,
                false,
                ThemeName::Dark,
                Glyphs::Braille,
            ),
            (2, (80, 24), 3600.0, false, ThemeName::Dark, Glyphs::Braille),
            (3, (160, 45), 90.0, false, ThemeName::Light, Glyphs::Braille),
            (4, (100, 40), 400.0, true, ThemeName::Dark, Glyphs::Braille),
            // Thick lines (a dot and the one below), half blocks, ASCII.
            (
                5,
                (120, 30),
                3600.0,
                false,
                ThemeName::Projector,
                Glyphs::Braille,
            ),
            (
                6,
                (100, 40),
                3600.0,
                false,
                ThemeName::Projector,
                Glyphs::Block,
            ),
            (7, (160, 45), 3600.0, false, ThemeName::Dark, Glyphs::Ascii),
        ] {
            let mut rng = Rng(seed);
            let mut machine = Machine {
                rng: Rng(seed * 7919),
                total_kib: 1_002_084,
                free_kib: 600_000,
                used_kib: 20_000,
                mood: 0,
                highmem,
                slab_kib: 9 * 1024,
                psi: None,
            };
            let mut app = App::new(
                KernelInfo {
                    release: "6.1.0-56-amd64".into(),
                    machine: "x86_64".into(),
                    module_support: false,
                    privileges: crate::system::host::tests::with_root(false),
                    signing: crate::system::host::tests::relaxed(),
                },
                Err("no module".into()),
                crate::app::config::AppConfig {
                    retention: crate::app::history::Retention::Seconds(retention),
                    ..crate::app::config::AppConfig::default()
                },
            );
            app.theme = theme;
            app.glyphs = glyphs;
            // Twelve minutes of history first, so that every window is full.
            let (mut t, mut i) = (0.0f64, 0u64);
            let sample = |app: &mut App, t: f64, i: &mut u64, machine: &mut Machine| {
                *i += 1;
                app.on_sample(Point {
                    t,
                    unix_ms: 1_700_000_000_000 + *i,
                    sample: machine.sample(),
                    vmalloc_largest_free: Some(1 << (30 + (t as u64 / 20) % 4)),
                });
                // The kernel-memory line on the controls line: PSI moves rarely.
                let (k, psi) = machine.kernel();
                let psi = psi.filter(|_| machine.rng.chance(20)).or(app
                    .areas
                    .pressure
                    .clone()
                    .and_then(Result::ok));
                app.areas_changed |= app.areas.set_figures(Some(k), psi);
            };
            while t < 720.0 {
                t += 0.05 + rng.below(1000) as f64 / 1000.0;
                sample(&mut app, t, &mut i, &mut machine);
            }
            let mut screen = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
            let mut state = Screen::new(Rect::new(0, 0, w, h));
            // Each window in turn (the `z` key), 60 frames each, one run frozen for a while.
            for window in 0..4 {
                if window > 0 {
                    app.update(Action::CycleWindow);
                }
                for frame in 0..60u64 {
                    let mut message = frame == 0;
                    // Time passes: a sample 50 ms to 1.2 s on (now and then a stall of 20 s),
                    // or an operation's progress tick.
                    let busy_tick = app.busy.is_some() && rng.chance(300);
                    t += if rng.chance(10) {
                        20.0
                    } else {
                        0.05 + rng.below(1150) as f64 / 1000.0
                    };
                    if !busy_tick {
                        sample(&mut app, t, &mut i, &mut machine);
                    }
                    // The loop's clock runs a little ahead of the sample's.
                    app.on_tick(t + rng.below(3) as f64 / 10_000.0);
                    if rng.chance(40) {
                        message = true;
                        let kind = match rng.below(3) {
                            0 => crate::engine::EventKind::Load,
                            1 => crate::engine::EventKind::Unload,
                            _ => crate::engine::EventKind::Adopt,
                        };
                        let outcome = if rng.chance(200) {
                            crate::engine::Outcome::Failed {
                                diagnosis: crate::diagnose::Diagnosis {
                                    cause: crate::diagnose::Cause::PhysicalMemoryShort,
                                    confidence: crate::diagnose::Confidence::Likely,
                                    summary: "Physical memory short".into(),
                                    detail: "RAM ran out first.".into(),
                                    evidence: Vec::new(),
                                },
                            }
                        } else {
                            crate::engine::Outcome::Ok
                        };
                        app.on_event(crate::engine::Event {
                            t: app.now - rng.below(20) as f64,
                            kind,
                            memsize_mib: 64,
                            oom_safe: true,
                            alloc: None,
                            outcome,
                            wall_ns: 1_000_000,
                            alloc_ns: None,
                            fill_ns: None,
                            delta: None,
                            module_line: None,
                        });
                    }
                    if rng.chance(20) {
                        message = true;
                        app.busy = match app.busy {
                            Some(_) => None,
                            None => Some(crate::app::state::Busy {
                                what: "loading 64 MiB".into(),
                                since_ms: (app.now * 1000.0) as u64,
                                op: crate::app::state::Op::Probe,
                            }),
                        };
                    }
                    if window == 1 && (frame == 20 || frame == 45) {
                        message = true;
                        app.update(Action::Freeze);
                    }
                    if rng.chance(15) {
                        message = true;
                        app.on_kmsg(format!("[{t:>12.6}] a line"));
                    }
                    let before = screen.backend().buffer().clone();
                    draw_frame(&mut screen, &mut state, &app, !message).expect("frame");
                    let whole = full(&app, w, h);
                    let ctx = format!("seed {seed} {w}x{h} window {window} frame {frame}");
                    assert_eq!(state.shown, whole, "{ctx}: what the dashboard believes");
                    let mut shows = screen.backend().buffer().clone();
                    for c in &mut shows.content {
                        c.set_diff_option(ratatui::buffer::CellDiffOption::None);
                    }
                    assert_eq!(shows, whole, "{ctx}: what the terminal shows");
                    if !message {
                        partial_frames += 1;
                        drawn_nothing += usize::from(before == *screen.backend().buffer());
                    }
                }
            }
            assert!(app.frozen_at.is_none());
        }
        // The sequences did draw partial frames, and some drew nothing.
        assert!(partial_frames > 1000, "{partial_frames}");
        assert!(drawn_nothing > 10, "{drawn_nothing}");
    }
}
