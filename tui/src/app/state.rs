//! The dashboard's state. It changes only in `App::update` (user actions) and the `on_*`
//! handlers (messages from the sampler, the worker and the kernel log).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use crate::engine::{Event, EventKind, LoadRequest};
use crate::module::alloc::{Allocator, Limits};
use crate::module::sysfs::ModuleStatus;
use crate::module::MODULE_NAME;
use crate::system::buddyinfo::BuddyInfo;
use crate::system::host::KernelInfo;
use crate::system::meminfo::{Point, Sample};
use crate::units::MIB;

use super::action::{Action, Command};
use super::config::AppConfig;
use super::history::History;
use super::keys::Mode;

/// Kernel log lines kept for the kmsg pane.
pub const KMSG_KEEP: usize = 500;
/// Longest memsize text accepted while typing.
const TYPING_MAX: usize = 24;

/// Time span shown by the charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Window {
    #[default]
    S30,
    M2,
    M10,
    All,
}

impl Window {
    pub fn next(self) -> Window {
        match self {
            Window::S30 => Window::M2,
            Window::M2 => Window::M10,
            Window::M10 => Window::All,
            Window::All => Window::S30,
        }
    }

    /// Span in seconds, None for all history.
    pub fn seconds(self) -> Option<f64> {
        match self {
            Window::S30 => Some(30.0),
            Window::M2 => Some(120.0),
            Window::M10 => Some(600.0),
            Window::All => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Window::S30 => "30 s",
            Window::M2 => "2 min",
            Window::M10 => "10 min",
            Window::All => "all",
        }
    }
}

/// What a "yes" in the open dialog will do (its text is drawn by `ui::confirm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    Load(LoadRequest),
    Reload(LoadRequest),
    Probe {
        oom_safe: bool,
    },
    /// Switch to unsafe mode (oom_safe=N) for the next loads.
    UnsafeMode,
    /// Quit with the module loaded: yes unloads first, no leaves it loaded.
    QuitUnload,
    /// Quit while an operation runs: yes stops the loader (and unloads whatever got loaded),
    /// no waits for it to finish.
    QuitBusy,
}

/// What covers the dashboard, and so what the keyboard talks to: one at a time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Overlay {
    #[default]
    None,
    /// A memsize being typed.
    Typing(Typing),
    Help,
    /// The whole diagnosis of the last failure.
    Why,
    /// A y/N dialog, over what was open when it was asked (quitting while typing, or while
    /// the diagnosis is open), which comes back when it is answered.
    Confirm {
        pending: Pending,
        behind: Behind,
    },
}

/// A memsize being typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Typing {
    pub text: String,
    /// Why the text was refused when Enter was pressed.
    pub error: Option<String>,
}

/// What a dialog covers, back when it is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behind {
    Nothing,
    Typing(Typing),
    Why,
}

/// A kernel operation in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy {
    /// e.g. "loading 2048 MiB (safe)".
    pub what: String,
    /// Session time it started.
    pub since_ms: u64,
    /// What it does to the module, for dialogs about it.
    pub op: Op,
}

/// The operation in flight, with its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Load(LoadRequest),
    /// Unload what is held (MiB, when known), then load.
    Reload {
        held_mib: Option<u64>,
        req: LoadRequest,
    },
    Unload {
        held_mib: Option<u64>,
    },
    Probe,
}

#[derive(Debug, Clone)]
pub struct App {
    pub kernel: KernelInfo,
    /// Module file that a load will use, or why there is none.
    pub module_path: Result<PathBuf, String>,
    pub status: ModuleStatus,
    /// Memsize for the next load, MiB.
    pub memsize_mib: u64,
    /// Mode for the next load: true = oom_safe=1.
    pub oom_safe: bool,
    /// Allocator for the next load (the module's `alloc=`).
    pub alloc: Allocator,
    /// The kernel's limits as the module last published them (its `limits` log line, or
    /// limits/ while loaded): which allocators it offers, KMALLOC_MAX_SIZE, the largest order.
    pub limits: Option<Limits>,
    /// The buddyinfo pane is open.
    pub buddy_pane: bool,
    /// The last /proc/buddyinfo reading (empty until read, or after a failed read).
    pub(crate) buddy: BuddyInfo,
    /// Why the last /proc/buddyinfo read failed.
    pub buddy_error: Option<String>,
    /// The last reading differed from the one before (the pane must be drawn again).
    pub buddy_changed: bool,
    /// The areas pane is open.
    pub areas_pane: bool,
    /// Who holds the vmalloc space (read while the pane is open), kernel memory and PSI.
    pub areas: crate::app::areas::AreasView,
    /// The areas pane shows something new since the last frame (a reading, or the kernel
    /// memory line reads differently): drawn again after samples only then.
    pub areas_changed: bool,
    /// PSI `some avg10` when the load in flight started, and whether it was marked since.
    pressure_at_load: Option<(f32, bool)>,
    /// Session times at which memory pressure rose during a load, with `some avg10` then:
    /// marked on the charts.
    pub pressure_marks: Vec<(f64, f32)>,
    /// Skip the engine's unsafe-mode guard.
    pub force: bool,
    pub interval: Duration,
    pub window: Window,
    /// Session time the charts are frozen at.
    pub frozen_at: Option<f64>,
    pub history: History,
    pub events: Vec<Event>,
    pub kmsg: VecDeque<String>,
    /// Help, the diagnosis, a dialog or the memsize being typed (changed by `update` only).
    overlay: Overlay,
    pub busy: Option<Busy>,
    /// Quit once the operation in flight has finished (the user chose to wait).
    pub quit_after_busy: bool,
    /// The last failed event, shown in the banner until dismissed or a load succeeds.
    pub failure: Option<Event>,
    /// One-line message for the footer (cleared by the next key).
    pub notice: Option<String>,
    /// Skip load confirmations (`--yes`).
    pub yes: bool,
    /// Quit without asking to unload (`--keep-loaded`).
    pub keep_loaded: bool,
    /// Session clock, seconds (same clock as samples and events).
    pub now: f64,
    pub should_quit: bool,
    /// No colours (NO_COLOR or --no-color).
    pub no_color: bool,
    /// Memsize steps of + - and ] [, MiB.
    pub step_mib: u64,
    pub big_step_mib: u64,
    pub theme: crate::cli::ThemeName,
    pub glyphs: crate::cli::Glyphs,
    /// Which kernel-log lines the pane keeps.
    pub kernel_log: crate::cli::KernelLog,
    /// Where `s` saves screenshots.
    pub screenshot_dir: PathBuf,
    /// `s` was pressed: the main loop saves the screen and says where (`on_screenshot`).
    pub screenshot_asked: bool,
    /// The lesson being run (`vmtop lesson`), if any.
    pub lesson: Option<super::lesson::LessonState>,
}

impl App {
    pub fn new(kernel: KernelInfo, module_path: Result<PathBuf, String>, cfg: AppConfig) -> App {
        App {
            kernel,
            module_path,
            status: ModuleStatus::default(),
            memsize_mib: cfg.memsize_mib.max(1),
            oom_safe: cfg.oom_safe,
            alloc: cfg.alloc,
            limits: None,
            buddy_pane: false,
            buddy: BuddyInfo::default(),
            buddy_error: None,
            buddy_changed: false,
            areas_pane: false,
            areas: crate::app::areas::AreasView::default(),
            areas_changed: false,
            pressure_at_load: None,
            pressure_marks: Vec::new(),
            force: cfg.force,
            interval: cfg.interval,
            window: Window::default(),
            frozen_at: None,
            history: History::new(cfg.retention),
            events: Vec::new(),
            kmsg: VecDeque::new(),
            overlay: Overlay::None,
            busy: None,
            quit_after_busy: false,
            failure: None,
            notice: None,
            yes: cfg.yes,
            keep_loaded: cfg.keep_loaded,
            now: 0.0,
            should_quit: false,
            no_color: false,
            step_mib: cfg.step_mib.max(1),
            big_step_mib: cfg.big_step_mib.max(1),
            theme: cfg.theme,
            glyphs: cfg.glyphs,
            kernel_log: cfg.kernel_log,
            screenshot_dir: cfg.screenshot_dir,
            screenshot_asked: false,
            lesson: None,
        }
    }

    /// What the keyboard is talking to.
    pub fn mode(&self) -> Mode {
        match self.overlay {
            Overlay::None if self.lesson.is_some() => Mode::Lesson,
            Overlay::None => Mode::Normal,
            Overlay::Typing(_) => Mode::Typing,
            Overlay::Help => Mode::Help,
            Overlay::Why => Mode::Why,
            Overlay::Confirm { .. } => Mode::Confirm,
        }
    }

    /// The memsize being typed, also while a dialog covers it.
    pub fn typing(&self) -> Option<&Typing> {
        match &self.overlay {
            Overlay::Typing(t)
            | Overlay::Confirm {
                behind: Behind::Typing(t),
                ..
            } => Some(t),
            _ => None,
        }
    }

    /// What a "yes" in the open dialog will do.
    pub fn pending(&self) -> Option<Pending> {
        match self.overlay {
            Overlay::Confirm { pending, .. } => Some(pending),
            _ => None,
        }
    }

    /// Open the dialog for `p` over what is open (the diagnosis only when `keep_why`; help
    /// never: it is closed).
    fn ask(&mut self, p: Pending, keep_why: bool) {
        let behind = match std::mem::take(&mut self.overlay) {
            Overlay::Typing(t) => Behind::Typing(t),
            Overlay::Why if keep_why => Behind::Why,
            Overlay::Confirm { behind, .. } if keep_why || behind != Behind::Why => behind,
            _ => Behind::Nothing,
        };
        self.overlay = Overlay::Confirm { pending: p, behind };
    }

    /// Close the dialog, if one is open: what it covered comes back.
    fn close_dialog(&mut self) -> Option<Pending> {
        let Overlay::Confirm { pending, behind } = std::mem::take(&mut self.overlay) else {
            return None;
        };
        self.overlay = match behind {
            Behind::Nothing => Overlay::None,
            Behind::Typing(t) => Overlay::Typing(t),
            Behind::Why => Overlay::Why,
        };
        Some(pending)
    }

    pub fn read_only(&self) -> bool {
        !self.kernel.can_load()
    }

    pub fn latest(&self) -> Option<&Sample> {
        self.history.latest_sample()
    }

    /// Right edge of the charts: the freeze time, or now.
    pub fn view_end(&self) -> f64 {
        self.frozen_at.unwrap_or(self.now)
    }

    /// Time range of the charts.
    pub fn view_range(&self) -> (f64, f64) {
        let x1 = self.view_end();
        let x0 = match self.window.seconds() {
            Some(s) => x1 - s,
            None => self.history.first_t().unwrap_or(x1).min(x1 - 10.0),
        };
        (x0, x1)
    }

    /// Seconds the current operation has been running.
    pub fn busy_for(&self) -> Option<f64> {
        self.busy
            .as_ref()
            .map(|b| (self.now - b.since_ms as f64 / 1000.0).max(0.0))
    }

    /// The parameters a load passes, as the engine passes them (e.g. `memsize=200 oom_safe=Y`).
    pub fn params(&self, req: &LoadRequest) -> String {
        req.params(self.latest().map(|s| s.mem_total)).to_string()
    }

    fn request(&self) -> LoadRequest {
        LoadRequest {
            memsize_mib: self.memsize_mib,
            oom_safe: self.oom_safe,
            force: self.force,
            alloc: self.alloc,
            fragment_order: 0,
        }
    }

    /// The kernel's limits: the loaded module's, else the last ones it logged.
    pub fn known_limits(&self) -> Option<&Limits> {
        self.status.limits.as_ref().or(self.limits.as_ref())
    }

    /// The allocators the `a` key cycles through: what this kernel's module offers.
    pub fn allocators(&self) -> Vec<Allocator> {
        crate::module::alloc::offered(self.known_limits(), &self.kernel.release)
    }

    /// The allocator `a` picks next.
    pub fn next_alloc(&self) -> Allocator {
        let offered = self.allocators();
        match offered.iter().position(|a| *a == self.alloc) {
            Some(i) => offered[(i + 1) % offered.len()],
            None => offered.first().copied().unwrap_or_default(),
        }
    }

    /// Whether the loop should read /proc/buddyinfo with the next sample: while the pane
    /// shows, while a confirmation of a physically contiguous load is open (its prediction
    /// counts the free blocks), and once at the start (the largest order, for predictions).
    pub fn wants_buddyinfo(&self) -> bool {
        let contiguous = matches!(
            self.pending(),
            Some(Pending::Load(r) | Pending::Reload(r)) if r.alloc.contiguous()
        );
        self.buddy_pane || contiguous || (self.buddy.zones.is_empty() && self.buddy_error.is_none())
    }

    /// Whether the loop should read /proc/vmallocinfo now: while the areas pane is open, at
    /// most once per `areas::PERIOD` (and at once when it opens).
    pub fn wants_areas(&self, now: std::time::Instant) -> bool {
        self.areas_pane && self.areas.due(now)
    }

    /// After a sample's kernel-memory and PSI figures (`AreasView::on_sample`): while a load
    /// runs, a rise of PSI `some avg10` by `PRESSURE_RISE` points or more over its value at
    /// the start is marked on the charts, once per load.
    pub fn on_pressure(&mut self) {
        let now = self.areas.some_avg10();
        let loading = matches!(
            self.busy.as_ref().map(|b| &b.op),
            Some(Op::Load(_) | Op::Reload { .. } | Op::Probe)
        );
        match (loading, self.pressure_at_load, now) {
            (true, None, Some(p)) => self.pressure_at_load = Some((p, false)),
            (true, Some((start, false)), Some(p))
                if p >= start + crate::app::areas::PRESSURE_RISE =>
            {
                self.pressure_marks.push((self.now, p));
                self.pressure_at_load = Some((start, true));
            }
            (false, Some(_), _) => self.pressure_at_load = None,
            _ => {}
        }
    }

    // ---- messages from the threads ----

    /// A /proc/buddyinfo reading (the text, or why it could not be read).
    pub fn on_buddyinfo(&mut self, text: anyhow::Result<&str>) {
        match text.and_then(|t| self.buddy.update(t)) {
            Ok(changed) => {
                self.buddy_changed = changed || self.buddy_error.is_some();
                self.buddy_error = None;
            }
            Err(e) => {
                self.buddy.zones.clear();
                let e = format!("{e:#}");
                self.buddy_changed = self.buddy_error.as_ref() != Some(&e);
                self.buddy_error = Some(e);
            }
        }
    }

    pub fn on_sample(&mut self, p: Point) {
        if p.t > self.now {
            self.now = p.t;
        }
        self.history.push(p);
    }

    /// Time passed (progress while busy).
    pub fn on_tick(&mut self, now: f64) {
        if now > self.now {
            self.now = now;
        }
    }

    /// The banner goes, and the whole diagnosis with it: a later failure must not open it.
    pub(super) fn clear_failure(&mut self) {
        self.failure = None;
        match &mut self.overlay {
            o @ Overlay::Why => *o = Overlay::None,
            Overlay::Confirm { behind, .. } if *behind == Behind::Why => *behind = Behind::Nothing,
            _ => {}
        }
    }

    pub fn on_event(&mut self, e: Event) {
        self.lesson_on_event(&e);
        if e.failed() {
            self.failure = Some(e.clone());
        } else if matches!(e.kind, EventKind::Load | EventKind::Adopt) {
            self.clear_failure();
        }
        self.events.push(e);
    }

    pub fn on_status(&mut self, s: ModuleStatus) {
        self.status = s;
    }

    /// The worker finished the current command. When the user chose to wait before
    /// quitting, the quit goes on now (asking about unloading with the figures of now).
    pub fn on_idle(&mut self) -> Option<Command> {
        self.busy = None;
        // Asked "stop or wait?" and it ended meanwhile: the question is moot; the quit goes
        // on as if it had been asked now.
        let asked = self.pending() == Some(Pending::QuitBusy);
        if asked {
            self.close_dialog();
        }
        if (std::mem::take(&mut self.quit_after_busy) || asked) && !self.should_quit {
            return self.quit();
        }
        None
    }

    /// The worker stopped: nothing is in flight any more.
    pub fn on_worker_exited(&mut self) {
        self.busy = None;
    }

    /// The worker says what it is doing now (e.g. a probe's attempt).
    pub fn on_progress(&mut self, what: String) {
        if let Some(b) = self.busy.as_mut() {
            b.what = what;
        }
    }

    /// A message for the footer from outside the user's actions (e.g. a probe's result).
    pub fn on_notice(&mut self, text: String) {
        self.notice = Some(text);
    }

    /// Whether the kernel-log pane shows `line` (`--kernel-log`).
    pub fn shows_kmsg(&self, line: &str) -> bool {
        match self.kernel_log {
            crate::cli::KernelLog::All => true,
            crate::cli::KernelLog::Memory => crate::system::kmsg::is_relevant(line),
            crate::cli::KernelLog::Module => line.contains(MODULE_NAME),
        }
    }

    pub fn on_kmsg(&mut self, line: String) {
        // Every load, failed or not, starts with the module's limits line.
        if let Some(l) = crate::module::log::limits(&line) {
            self.limits = Some(l);
        }
        if !self.shows_kmsg(&line) {
            return;
        }
        self.kmsg.push_back(line);
        while self.kmsg.len() > KMSG_KEEP {
            self.kmsg.pop_front();
        }
    }

    // ---- user actions ----

    /// Apply an action; returns what the worker must do, if anything.
    pub fn update(&mut self, action: Action) -> Option<Command> {
        if action != Action::Resize {
            self.notice = None;
        }
        match action {
            Action::Resize => None,
            Action::Quit => self.quit(),
            Action::Confirm(yes) => self.answer(yes),
            Action::Cancel => {
                self.cancel();
                None
            }
            Action::ToggleHelp => {
                self.toggle_help();
                None
            }
            Action::Screenshot => {
                // The main loop saves the screen as drawn now and says where (on_notice).
                self.screenshot_asked = true;
                None
            }
            Action::ToggleWhy => {
                self.toggle_why();
                None
            }
            // A dialog waits for its answer: nothing else happens meanwhile.
            _ if self.pending().is_some() => None,
            Action::LessonNext => self.lesson_next(),
            Action::LessonBack => {
                self.lesson_back();
                None
            }
            Action::Digit(_) | Action::Backspace | Action::SubmitMemsize => {
                self.type_memsize(action);
                None
            }
            Action::StepUp { big } => {
                let step = if big {
                    self.big_step_mib
                } else {
                    self.step_mib
                };
                self.memsize_mib = self.memsize_mib.saturating_add(step).min(u64::MAX / MIB);
                None
            }
            Action::StepDown { big } => {
                let step = if big {
                    self.big_step_mib
                } else {
                    self.step_mib
                };
                self.memsize_mib = self.memsize_mib.saturating_sub(step).max(1);
                None
            }
            Action::Freeze => {
                self.frozen_at = match self.frozen_at {
                    Some(_) => None,
                    None => Some(self.now),
                };
                None
            }
            Action::CycleWindow => {
                self.window = self.window.next();
                None
            }
            Action::CycleAlloc => {
                self.cycle_alloc();
                None
            }
            Action::ToggleBuddy => {
                self.buddy_pane = !self.buddy_pane;
                None
            }
            Action::ToggleAreas => {
                self.areas_pane = !self.areas_pane;
                None
            }
            Action::CycleAreasSort => {
                if self.areas_pane {
                    self.areas.sort = self.areas.sort.next();
                }
                None
            }
            Action::ToggleMode => {
                if self.oom_safe {
                    self.ask(Pending::UnsafeMode, true);
                } else {
                    self.oom_safe = true;
                    self.notice = Some("SAFE mode: next loads use oom_safe=Y".into());
                }
                None
            }
            Action::Load => self.kernel_action(Pending::Load(self.request())),
            Action::Reload => {
                if self.status.loaded {
                    self.kernel_action(Pending::Reload(self.request()))
                } else {
                    self.kernel_action(Pending::Load(self.request()))
                }
            }
            Action::Probe => self.kernel_action(Pending::Probe { oom_safe: true }),
            Action::Unload => self.unload(),
        }
    }

    /// Esc: close what is open, or dismiss the failure banner.
    fn cancel(&mut self) {
        match self.overlay {
            Overlay::Confirm { .. } => {
                self.close_dialog();
                self.notice = Some("cancelled: nothing was done".into());
            }
            Overlay::Help | Overlay::Why | Overlay::Typing(_) => self.overlay = Overlay::None,
            Overlay::None => self.clear_failure(),
        }
    }

    /// Help opens over the dashboard, and closes. (Its key is not bound where something else
    /// is open.)
    fn toggle_help(&mut self) {
        match self.overlay {
            Overlay::None => self.overlay = Overlay::Help,
            Overlay::Help => self.overlay = Overlay::None,
            _ => {}
        }
    }

    /// The whole diagnosis opens over the dashboard when something failed, and closes.
    fn toggle_why(&mut self) {
        if self.overlay == Overlay::Why {
            self.overlay = Overlay::None;
        } else if self.failure.is_none() {
            self.notice = Some("nothing has failed: w explains the last failure".into());
        } else if self.overlay == Overlay::None {
            self.overlay = Overlay::Why;
        }
    }

    /// A digit or unit typed, a character deleted, or Enter: the memsize field.
    fn type_memsize(&mut self, action: Action) {
        match (&mut self.overlay, action) {
            (Overlay::None, Action::Digit(c)) => {
                self.overlay = Overlay::Typing(Typing {
                    text: c.to_string(),
                    error: None,
                });
            }
            (Overlay::Typing(t), Action::Digit(c)) => {
                if t.text.len() < TYPING_MAX {
                    t.text.push(c);
                }
                t.error = None;
            }
            (Overlay::Typing(t), Action::Backspace) => {
                t.text.pop();
                t.error = None;
            }
            (Overlay::Typing(t), Action::SubmitMemsize) => {
                match crate::units::parse_memsize_mib(&t.text) {
                    Ok(mib) => {
                        self.memsize_mib = mib;
                        self.overlay = Overlay::None;
                    }
                    Err(e) => t.error = Some(e.to_string()),
                }
            }
            _ => {}
        }
    }

    /// The next allocator the module offers, for the next loads.
    fn cycle_alloc(&mut self) {
        self.alloc = self.next_alloc();
        self.notice = Some(format!(
            "next loads use alloc={}{}",
            self.alloc,
            if self.known_limits().is_none() {
                " (the kernel's limits known after the first load)"
            } else {
                ""
            }
        ));
    }

    /// `u`: unload at once (it frees memory: no question asked).
    fn unload(&mut self) -> Option<Command> {
        if let Some(why) = self.cannot_act() {
            self.notice = Some(why);
            return None;
        }
        if !self.status.loaded {
            self.notice = Some(format!("{MODULE_NAME} is not loaded: nothing to unload"));
            return None;
        }
        self.start_busy(
            format!(
                "unloading {}",
                self.status
                    .memsize_mib
                    .map(|m| format!("{m} MiB"))
                    .unwrap_or_else(|| MODULE_NAME.into())
            ),
            Op::Unload {
                held_mib: self.status.memsize_mib,
            },
        );
        Some(Command::Unload)
    }

    /// Why no kernel action can start now, if so.
    fn cannot_act(&self) -> Option<String> {
        if let Some(why) = self.kernel.why_read_only() {
            return Some(format!("READ-ONLY: {why}"));
        }
        if let Some(b) = &self.busy {
            return Some(format!("busy: {} (wait for it to finish)", b.what));
        }
        None
    }

    /// A load/reload/probe: ask first (unless --yes), then send.
    fn kernel_action(&mut self, p: Pending) -> Option<Command> {
        if let Some(why) = self.cannot_act() {
            self.notice = Some(why);
            return None;
        }
        match p {
            Pending::Load(_) | Pending::Probe { .. } if self.status.loaded => {
                self.notice = Some(format!(
                    "{MODULE_NAME} is already loaded ({}): r reloads with {} MiB, u unloads",
                    self.status
                        .memsize_mib
                        .map(|m| format!("{m} MiB"))
                        .unwrap_or_else(|| "size unknown".into()),
                    self.memsize_mib
                ));
                return None;
            }
            _ => {}
        }
        if self.yes {
            return self.start(p);
        }
        self.ask(p, true);
        None
    }

    pub(super) fn start_busy(&mut self, what: String, op: Op) {
        self.busy = Some(Busy {
            what,
            since_ms: (self.now * 1000.0).round() as u64,
            op,
        });
    }

    /// Send a confirmed kernel action.
    fn start(&mut self, p: Pending) -> Option<Command> {
        let mode = |safe: bool| if safe { "" } else { " UNSAFE" };
        match p {
            Pending::Load(req) => {
                self.clear_failure();
                self.start_busy(
                    format!("loading {} MiB{}", req.memsize_mib, mode(req.oom_safe)),
                    Op::Load(req),
                );
                Some(Command::Load(req))
            }
            Pending::Reload(req) => {
                self.clear_failure();
                self.start_busy(
                    format!(
                        "reloading with {} MiB{}",
                        req.memsize_mib,
                        mode(req.oom_safe)
                    ),
                    Op::Reload {
                        held_mib: self.status.memsize_mib,
                        req,
                    },
                );
                Some(Command::Reload(req))
            }
            Pending::Probe { oom_safe } => {
                self.start_busy("probing the largest memsize that loads".into(), Op::Probe);
                Some(Command::Probe { oom_safe })
            }
            Pending::UnsafeMode => {
                self.oom_safe = false;
                self.notice = Some("UNSAFE mode: next loads use oom_safe=N".into());
                None
            }
            Pending::QuitUnload => {
                self.should_quit = true;
                self.start_busy(
                    "unloading before quitting".into(),
                    Op::Unload {
                        held_mib: self.status.memsize_mib,
                    },
                );
                Some(Command::Quit { unload: true })
            }
            Pending::QuitBusy => self.stop_and_quit(),
        }
    }

    /// Stop the operation in flight and quit: the loader is stopped at once, and the worker
    /// unloads whatever got loaded before it exits.
    fn stop_and_quit(&mut self) -> Option<Command> {
        self.should_quit = true;
        self.close_dialog();
        if let Some(b) = self.busy.as_mut() {
            b.what = format!("stopping: {}", b.what);
        }
        Some(Command::CancelAndQuit)
    }

    fn answer(&mut self, yes: bool) -> Option<Command> {
        let c = self.close_dialog()?;
        match (c, yes) {
            (p, true) => self.start(p),
            (Pending::QuitUnload, false) => {
                self.should_quit = true;
                Some(Command::Quit { unload: false })
            }
            (Pending::QuitBusy, false) => {
                self.quit_after_busy = true;
                self.notice = Some(format!(
                    "waiting for {} to finish, then quitting (q again stops it)",
                    self.busy
                        .as_ref()
                        .map_or("the operation", |b| b.what.as_str())
                ));
                None
            }
            (_, false) => {
                self.notice = Some("cancelled: nothing was done".into());
                None
            }
        }
    }

    fn quit(&mut self) -> Option<Command> {
        // An operation in flight: ask whether to stop it or wait. Quit again (q, Ctrl-C)
        // while asked, or while waiting, takes the default: stop it.
        if self.busy.is_some() && !self.should_quit {
            if self.pending() == Some(Pending::QuitBusy) || self.quit_after_busy {
                self.quit_after_busy = false;
                return self.stop_and_quit();
            }
            // Over what is typed; help and the diagnosis close.
            self.ask(Pending::QuitBusy, false);
            return None;
        }
        if self.should_quit {
            return None;
        }
        // Quit pressed again while being asked about unloading: leave it loaded and go.
        let asked = self.pending() == Some(Pending::QuitUnload);
        if self.status.loaded && !self.keep_loaded && !asked {
            // Over what is typed or the diagnosis (back on Esc); help closes.
            self.ask(Pending::QuitUnload, true);
            return None;
        }
        self.close_dialog();
        self.should_quit = true;
        Some(Command::Quit { unload: false })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::diagnose::{Cause, Confidence, Diagnosis};
    use crate::engine::Outcome;

    pub(crate) fn kernel(root: bool, modules: bool) -> KernelInfo {
        KernelInfo {
            release: "6.1.0-56-amd64".into(),
            machine: "x86_64".into(),
            module_support: modules,
            privileges: crate::system::host::tests::with_root(root),
            signing: crate::system::host::tests::relaxed(),
        }
    }

    pub(crate) fn app() -> App {
        App::new(
            kernel(true, true),
            Ok("/tmp/alloc_large_mem.ko".into()),
            AppConfig::default(),
        )
    }

    pub(crate) fn loaded(app: &mut App, mib: u64) {
        app.on_status(ModuleStatus {
            loaded: true,
            memsize_mib: Some(mib),
            oom_safe: Some(true),
            ..Default::default()
        });
    }

    pub(crate) fn event(kind: EventKind, failed: bool) -> Event {
        Event {
            t: 1.0,
            kind,
            memsize_mib: 64,
            oom_safe: true,
            alloc: None,
            outcome: if failed {
                Outcome::Failed {
                    diagnosis: Diagnosis {
                        cause: Cause::PhysicalMemoryShort,
                        confidence: Confidence::Likely,
                        summary: "short".into(),
                        detail: String::new(),
                        evidence: vec![],
                    },
                }
            } else {
                Outcome::Ok
            },
            wall_ns: 0,
            alloc_ns: None,
            fill_ns: None,
            module_line: None,
            delta: None,
        }
    }

    #[test]
    fn typing_a_memsize_with_unit() {
        let mut a = app();
        assert_eq!(a.mode(), Mode::Normal);
        a.update(Action::Digit('2'));
        assert_eq!(a.mode(), Mode::Typing);
        a.update(Action::Digit('G'));
        assert_eq!(a.typing().map(|t| t.text.as_str()), Some("2G"));
        assert_eq!(a.update(Action::SubmitMemsize), None);
        assert_eq!(a.memsize_mib, 2048);
        assert_eq!(a.mode(), Mode::Normal);
    }

    #[test]
    fn typing_a_bad_memsize_keeps_the_old_one_and_says_why() {
        let mut a = app();
        for c in "1000K".chars() {
            a.update(Action::Digit(c));
        }
        a.update(Action::SubmitMemsize);
        assert_eq!(a.memsize_mib, 100);
        assert_eq!(a.mode(), Mode::Typing);
        let e = a
            .typing()
            .and_then(|t| t.error.clone())
            .expect("error shown");
        assert!(e.contains("not a whole number of MiB"), "{e}");
        a.update(Action::Backspace);
        assert_eq!(a.typing().map(|t| t.text.as_str()), Some("1000"));
        assert!(a.typing().is_some_and(|t| t.error.is_none()));
        a.update(Action::Cancel);
        assert_eq!(a.mode(), Mode::Normal);
        assert_eq!(a.memsize_mib, 100);
    }

    #[test]
    fn steps_never_reach_zero() {
        let mut a = app();
        a.update(Action::StepUp { big: false });
        assert_eq!(a.memsize_mib, 116);
        a.update(Action::StepUp { big: true });
        assert_eq!(a.memsize_mib, 372);
        a.update(Action::StepDown { big: true });
        a.update(Action::StepDown { big: true });
        assert_eq!(a.memsize_mib, 1);
        a.update(Action::StepDown { big: false });
        assert_eq!(a.memsize_mib, 1);
    }

    #[test]
    fn load_refused_with_no_or_esc() {
        let mut a = app();
        a.update(Action::Load);
        assert_eq!(a.update(Action::Confirm(false)), None);
        assert!(a.pending().is_none() && a.busy.is_none());
        a.update(Action::Load);
        assert_eq!(a.update(Action::Cancel), None);
        assert!(a.pending().is_none() && a.busy.is_none());
        // Keys other than y/n/Esc do not reach update in Confirm mode, but actions that do are
        // ignored while the dialog is open.
        a.update(Action::Load);
        assert_eq!(a.update(Action::Unload), None);
        assert_eq!(a.update(Action::StepUp { big: false }), None);
        assert_eq!(a.memsize_mib, 100);
    }

    #[test]
    fn yes_option_skips_confirmation() {
        let mut a = app();
        a.yes = true;
        assert!(matches!(a.update(Action::Load), Some(Command::Load(_))));
        assert!(a.pending().is_none());
        // Busy: a second load is refused with a notice.
        assert_eq!(a.update(Action::Load), None);
        assert!(a.notice.as_deref().unwrap().contains("busy"));
        a.on_idle();
        loaded(&mut a, 64);
        assert_eq!(a.update(Action::Load), None, "already loaded");
        assert!(a.notice.as_deref().unwrap().contains("already loaded"));
        a.memsize_mib = 128;
        assert_eq!(
            a.update(Action::Reload),
            Some(Command::Reload(LoadRequest {
                memsize_mib: 128,
                oom_safe: true,
                force: false,
                alloc: crate::module::alloc::Allocator::Vmalloc,
                fragment_order: 0,
            }))
        );
    }

    #[test]
    fn read_only_refuses_kernel_actions_and_says_why() {
        let mut a = App::new(kernel(false, true), Err("x".into()), AppConfig::default());
        a.yes = true;
        assert_eq!(a.update(Action::Load), None);
        assert!(a.notice.as_deref().unwrap().contains("CAP_SYS_MODULE"));
        assert_eq!(a.update(Action::Probe), None);
        assert_eq!(a.update(Action::Unload), None);
        let mut b = App::new(kernel(true, false), Err("x".into()), AppConfig::default());
        b.update(Action::Load);
        assert!(b
            .notice
            .as_deref()
            .unwrap()
            .contains("without module support"));
        assert!(b.pending().is_none());
    }

    #[test]
    fn quit_with_module_loaded_asks_to_unload() {
        let mut a = app();
        loaded(&mut a, 200);
        assert_eq!(a.update(Action::Quit), None);
        assert_eq!(a.mode(), Mode::Confirm);
        assert!(!a.should_quit);
        assert_eq!(
            a.update(Action::Confirm(true)),
            Some(Command::Quit { unload: true })
        );
        assert!(a.should_quit);

        let mut b = app();
        loaded(&mut b, 200);
        b.update(Action::Quit);
        assert_eq!(
            b.update(Action::Confirm(false)),
            Some(Command::Quit { unload: false })
        );
        assert!(b.should_quit);

        let mut c = app();
        loaded(&mut c, 200);
        c.update(Action::Quit);
        c.update(Action::Cancel);
        assert!(!c.should_quit && c.pending().is_none());
        // Quit twice (e.g. Ctrl-C Ctrl-C) leaves without unloading.
        c.update(Action::Quit);
        assert_eq!(
            c.update(Action::Quit),
            Some(Command::Quit { unload: false })
        );
        assert!(c.should_quit);
    }

    #[test]
    fn quit_without_module_or_with_keep_loaded_is_immediate() {
        let mut a = app();
        assert_eq!(
            a.update(Action::Quit),
            Some(Command::Quit { unload: false })
        );
        assert!(a.should_quit);
        let mut b = app();
        b.keep_loaded = true;
        loaded(&mut b, 200);
        assert_eq!(
            b.update(Action::Quit),
            Some(Command::Quit { unload: false })
        );
    }

    #[test]
    fn failure_banner_stays_until_dismissed_or_success() {
        let mut a = app();
        a.on_event(event(EventKind::Load, true));
        assert!(a.failure.is_some());
        a.on_event(event(EventKind::Unload, false));
        assert!(a.failure.is_some(), "an unload does not hide a failed load");
        a.update(Action::Cancel);
        assert!(a.failure.is_none());
        a.on_event(event(EventKind::Load, true));
        a.on_event(event(EventKind::Load, false));
        assert!(a.failure.is_none());
        assert_eq!(a.events.len(), 4, "the log keeps everything");
    }

    #[test]
    fn why_opens_only_for_a_failure_and_closes_with_it() {
        let mut a = app();
        a.update(Action::ToggleWhy);
        assert_eq!(a.mode(), Mode::Normal, "nothing to explain");
        assert!(a
            .notice
            .as_deref()
            .is_some_and(|n| n.contains("nothing has failed")));
        a.on_event(event(EventKind::Load, true));
        a.update(Action::ToggleWhy);
        assert_eq!(a.mode(), Mode::Why);
        a.update(Action::Cancel);
        assert_eq!(a.mode(), Mode::Normal);
        assert!(
            a.failure.is_some(),
            "Esc closes the overlay, not the banner"
        );
        a.update(Action::ToggleWhy);
        assert_eq!(a.mode(), Mode::Why);
        a.update(Action::ToggleWhy);
        assert_eq!(a.mode(), Mode::Normal);
        // A load that succeeds while it is open ends the failure, and the overlay with it.
        a.update(Action::ToggleWhy);
        a.on_event(event(EventKind::Load, false));
        assert_eq!(a.mode(), Mode::Normal);
        a.on_event(event(EventKind::Load, true));
        assert_eq!(
            a.mode(),
            Mode::Normal,
            "a new failure shows its banner, not the overlay"
        );
    }

    /// A dialog asked while typing or reading the diagnosis covers it, and Esc brings it
    /// back as it was; help never stays under a dialog, and a quit while busy closes the
    /// diagnosis.
    #[test]
    fn a_dialog_covers_what_was_open_and_gives_it_back() {
        let mut a = app();
        loaded(&mut a, 300);
        a.update(Action::Digit('5'));
        a.update(Action::Digit('1'));
        a.update(Action::Quit);
        assert_eq!(a.pending(), Some(Pending::QuitUnload));
        assert_eq!(
            a.typing().map(|t| t.text.as_str()),
            Some("51"),
            "shown under it"
        );
        a.update(Action::Cancel);
        assert_eq!(a.mode(), Mode::Typing);
        assert_eq!(a.typing().map(|t| t.text.as_str()), Some("51"));
        a.update(Action::Cancel);
        assert_eq!(a.mode(), Mode::Normal);

        a.on_event(event(EventKind::Load, true));
        a.update(Action::ToggleWhy);
        a.update(Action::Quit);
        assert_eq!(a.mode(), Mode::Confirm);
        a.update(Action::Cancel);
        assert_eq!(a.mode(), Mode::Why, "the diagnosis is back");
        // A success while asked ends the failure: Esc then comes back to the dashboard.
        a.update(Action::Quit);
        a.on_event(event(EventKind::Adopt, false));
        a.update(Action::Cancel);
        assert_eq!(a.mode(), Mode::Normal);

        a.update(Action::ToggleHelp);
        a.update(Action::Quit);
        a.update(Action::Cancel);
        assert_eq!(a.mode(), Mode::Normal, "help closed when asked");

        // Busy: "stop or wait?" closes the diagnosis, keeps what is typed.
        a.on_event(event(EventKind::Load, true));
        a.update(Action::ToggleWhy);
        a.on_status(ModuleStatus::default());
        a.update(Action::Load);
        a.update(Action::Confirm(true));
        assert!(a.busy.is_some());
        a.update(Action::ToggleWhy);
        assert_eq!(a.mode(), Mode::Normal, "the load cleared the failure");
        a.update(Action::Digit('7'));
        a.update(Action::Quit);
        assert_eq!(a.pending(), Some(Pending::QuitBusy));
        a.update(Action::Confirm(false));
        assert_eq!(a.typing().map(|t| t.text.as_str()), Some("7"));
        assert!(a.quit_after_busy);
    }

    #[test]
    fn freeze_window_help() {
        let mut a = app();
        a.now = 50.0;
        a.update(Action::Freeze);
        a.on_tick(60.0);
        assert_eq!(a.view_range(), (20.0, 50.0));
        a.update(Action::Freeze);
        assert_eq!(a.view_end(), 60.0);
        for w in [Window::M2, Window::M10, Window::All, Window::S30] {
            a.update(Action::CycleWindow);
            assert_eq!(a.window, w);
        }
        a.update(Action::ToggleHelp);
        assert_eq!(a.mode(), Mode::Help);
        a.update(Action::Cancel);
        assert_eq!(a.mode(), Mode::Normal);
    }

    #[test]
    fn busy_progress_uses_session_clock() {
        let mut a = app();
        a.yes = true;
        a.now = 10.0;
        a.update(Action::Load);
        a.on_tick(13.2);
        assert!((a.busy_for().unwrap() - 3.2).abs() < 1e-9);
        a.on_idle();
        assert_eq!(a.busy_for(), None);
    }

    /// PSI rising during a load is marked once, at the time it rose; before or after a load,
    /// or by less than `PRESSURE_RISE`, nothing is marked.
    #[test]
    fn pressure_rising_during_a_load_is_marked_once() {
        let psi = |some: f32| {
            Some(Ok(crate::system::pressure::Pressure {
                some_avg10: some,
                full_avg10: 0.0,
                some_total_us: 0,
                full_total_us: 0,
            }))
        };
        let mut a = app();
        a.areas.pressure = psi(5.0);
        a.on_pressure();
        assert!(a.pressure_marks.is_empty(), "no load: no mark");
        let req = LoadRequest {
            memsize_mib: 900,
            oom_safe: true,
            force: false,
            alloc: Allocator::Vmalloc,
            fragment_order: 0,
        };
        a.busy = Some(Busy {
            what: "loading".into(),
            since_ms: 0,
            op: Op::Load(req),
        });
        a.areas.pressure = psi(0.5);
        a.on_pressure();
        a.now = 3.0;
        a.areas.pressure = psi(1.2);
        a.on_pressure();
        assert!(
            a.pressure_marks.is_empty(),
            "risen by 0.7 points: {:?}",
            a.pressure_marks
        );
        a.now = 4.0;
        a.areas.pressure = psi(2.0);
        a.on_pressure();
        a.now = 5.0;
        a.areas.pressure = psi(9.0);
        a.on_pressure();
        assert_eq!(a.pressure_marks, vec![(4.0, 2.0)]);
        // The load ends; the next one starts from its own value.
        a.busy = None;
        a.on_pressure();
        a.busy = Some(Busy {
            what: "loading".into(),
            since_ms: 0,
            op: Op::Load(req),
        });
        a.now = 9.0;
        a.areas.pressure = psi(9.0);
        a.on_pressure();
        a.now = 10.0;
        a.areas.pressure = psi(10.5);
        a.on_pressure();
        assert_eq!(a.pressure_marks, vec![(4.0, 2.0), (10.0, 10.5)]);
    }
}
