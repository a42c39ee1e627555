//! The y/N dialog: exactly what will be done to the kernel, and why / what can happen.
//! Its words are built here from the state's `Pending` and the figures of the state it
//! describes (what is loaded, what is loading, what a reload frees first).

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::centered;
use super::theme::{sym, Theme};
use crate::app::state::{Op, Pending};
use crate::app::App;
use crate::diagnose::checks;
use crate::engine::LoadRequest;
use crate::module::alloc::Allocator;
use crate::module::MODULE_NAME;
use crate::system::meminfo::Sample;
use crate::units::{fmt_bytes, MIB};

/// A dialog's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub title: String,
    /// What will be done (module path, parameters), one line each.
    pub actions: Vec<String>,
    /// Why, and what can happen.
    pub why: Vec<String>,
    /// What `y` and `n` mean.
    pub yes: String,
    pub no: String,
}

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let Some(pending) = app.pending() else {
        return;
    };
    let c = dialog(app, pending);
    let dangerous = match pending {
        Pending::UnsafeMode | Pending::QuitBusy => true,
        Pending::Load(r) | Pending::Reload(r) => !r.oom_safe,
        Pending::Probe { oom_safe } => !oom_safe,
        Pending::QuitUnload => false,
    };
    let mut lines = vec![Line::styled("Will do:", th.bold())];
    for a in &c.actions {
        lines.push(Line::styled(format!("  {a}"), th.key()));
    }
    lines.push(Line::raw(""));
    for w in &c.why {
        let style = if w.starts_with(sym::WARN) || w.contains("KILL") {
            th.warn()
        } else {
            th.plain()
        };
        lines.push(Line::styled(w.clone(), style));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(" y ", th.alert()),
        Span::raw(format!(" {}    ", c.yes)),
        Span::styled(" n ", th.bold()),
        Span::raw(format!(" {}", c.no)),
    ]));

    let width = area.width.saturating_sub(4).clamp(20, 100);
    let needed = super::boxed_height(&lines, width);
    let rect = centered(area, width, needed.min(area.height));
    let title_style = if dangerous { th.alert() } else { th.title() };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(if dangerous { th.warn() } else { th.plain() })
        .title(Line::styled(format!(" {} ", c.title), title_style));
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

fn module_line(app: &App) -> String {
    match &app.module_path {
        Ok(p) => format!("module  {}", p.display()),
        Err(e) => format!("module  NOT FOUND: {e}"),
    }
}

fn params_line(app: &App, req: &LoadRequest) -> String {
    format!("params  {}", app.params(req))
}

/// What the figures say of a load of `req`, `freed` bytes being given back first (a reload).
fn avail_lines(app: &App, req: &LoadRequest, freed: u64) -> Vec<String> {
    let Some(now) = app.latest() else {
        return vec![];
    };
    // The figures the load will meet: a reload unloads first.
    let s = Sample {
        mem_free: now.mem_free.saturating_add(freed),
        mem_available: now.mem_available.map(|a| a.saturating_add(freed)),
        ..*now
    };
    let asked = req.memsize_mib.saturating_mul(MIB);
    let mut v = Vec::new();
    if let Some(refusal) = crate::engine::guard(req, Some(&s)) {
        v.push(format!("{} vmtop will refuse this: {refusal}", sym::WARN));
    }
    let after = if freed > 0 {
        format!(
            " ({} after the unload frees {})",
            fmt_bytes(s.available()),
            fmt_bytes(freed)
        )
    } else {
        String::new()
    };
    let taken = req.alloc.bytes_for(req.memsize_mib);
    v.push(format!(
        "MemAvailable is {}{after} of MemTotal {}; {} and MemAvailable fall by as much until unload.",
        fmt_bytes(now.available()),
        fmt_bytes(s.mem_total),
        match req.alloc {
            Allocator::Kmalloc | Allocator::Pages => format!(
                "VmallocUsed should stay ({} is not vmalloc), MemFree fall by about {}",
                req.alloc,
                fmt_bytes(taken)
            ),
            _ => format!("VmallocUsed should rise by about {} MiB", req.memsize_mib),
        }
    ));
    if checks::over_total_ram(asked, s.mem_total) {
        v.push(format!(
            "{} {} MiB is more than all RAM (MemTotal {}): expect the kernel to refuse it.",
            sym::WARN,
            req.memsize_mib,
            fmt_bytes(s.mem_total)
        ));
    } else if asked > s.available() {
        v.push(format!(
            "{} {} MiB is more than MemAvailable ({}): expect {}.",
            sym::WARN,
            req.memsize_mib,
            fmt_bytes(s.available()),
            if req.oom_safe {
                "the load to fail with ENOMEM"
            } else {
                "the OOM killer to act"
            }
        ));
    }
    // The kernel checks RAM first, then looks for one free range of addresses as big as
    // the request plus a guard page: on 32-bit kernels that range is the usual limit.
    let largest = app
        .history
        .points()
        .iter()
        .rev()
        .find_map(|p| p.vmalloc_largest_free);
    if !checks::over_total_ram(asked, s.mem_total) && !req.alloc.contiguous() {
        match largest {
            Some(g) if checks::gap_too_small(asked, g) => v.push(format!(
                "{} {} MiB is more than the largest free range of the vmalloc address space ({}; VmallocTotal {}): expect ENOMEM, address space (vmalloc=SIZE at boot on 32-bit).",
                sym::WARN,
                req.memsize_mib,
                fmt_bytes(g),
                fmt_bytes(s.vmalloc_total)
            )),
            None if checks::over_address_space(asked, s.vmalloc_total) => v.push(format!(
                "{} {} MiB is more than the whole vmalloc address space (VmallocTotal {}): expect ENOMEM, address space.",
                sym::WARN,
                req.memsize_mib,
                fmt_bytes(s.vmalloc_total)
            )),
            _ => {}
        }
    }
    v
}

/// What the page allocator's limits and free blocks say of a physically contiguous request
/// (kmalloc, alloc_pages; kvmalloc's first try): the limits the module published (else the
/// largest order /proc/buddyinfo prints), and the free blocks of the order now.
fn contiguous_lines(app: &App, req: &LoadRequest) -> Vec<String> {
    let mut v = Vec::new();
    let limits = app.known_limits();
    let buddy = (!app.buddy.zones.is_empty()).then_some(&app.buddy);
    let page = limits.map_or_else(procfs::page_size, |l| l.page_size);
    let asked = req.memsize_mib.saturating_mul(MIB);
    let bytes = req.alloc.bytes_for(req.memsize_mib);
    let order = Allocator::order_for(bytes, page);
    let (max_order, whose) = match (limits, buddy.and_then(|b| b.max_order())) {
        (Some(l), _) => (Some(l.max_order), "as the module was built for this kernel"),
        (None, Some(m)) => (Some(m), "the orders /proc/buddyinfo lists"),
        (None, None) => (None, ""),
    };
    let block = |k: u32| fmt_bytes(page.checked_shl(k).unwrap_or(u64::MAX));
    if req.alloc == Allocator::Pages {
        v.push(if bytes > asked {
            format!(
                "pages rounds {} MiB up to the order that covers it: order {order}, 2^{order} pages = {}.",
                req.memsize_mib,
                fmt_bytes(bytes)
            )
        } else {
            format!("pages asks one block of order {order}: 2^{order} pages = {}.", fmt_bytes(bytes))
        });
    }
    let kmalloc_max = limits.map(|l| l.kmalloc_max_size);
    match req.alloc {
        Allocator::Kmalloc | Allocator::Kvmalloc
            if kmalloc_max.is_some_and(|m| checks::above_kmalloc_max(asked, m)) =>
        {
            let m = kmalloc_max.unwrap_or(0);
            v.push(if req.alloc == Allocator::Kmalloc {
                format!(
                    "{} {} MiB is above KMALLOC_MAX_SIZE {} ({whose}): expect kmalloc to fail (ENOMEM), however much is free.",
                    sym::WARN,
                    req.memsize_mib,
                    fmt_bytes(m)
                )
            } else {
                format!(
                    "{} MiB is above KMALLOC_MAX_SIZE {}: kvmalloc goes straight to vmalloc (pages from anywhere).",
                    req.memsize_mib,
                    fmt_bytes(m)
                )
            });
            return v;
        }
        _ => {}
    }
    if let Some(m) = max_order.filter(|m| checks::order_above_max(order, *m)) {
        if req.alloc == Allocator::Kvmalloc {
            v.push(format!(
                "{} MiB is more than one block of the largest order {m} ({}): kvmalloc will fall back to vmalloc.",
                req.memsize_mib,
                block(m)
            ));
        } else {
            v.push(format!(
                "{} {} MiB needs one block of order {order}, above the largest order {m} ({}; {whose}): expect {} to fail (ENOMEM), however much is free.",
                sym::WARN,
                req.memsize_mib,
                block(m),
                req.alloc
            ));
        }
        return v;
    }
    if req.alloc == Allocator::Kmalloc && kmalloc_max.is_none() {
        v.push("KMALLOC_MAX_SIZE is not known yet: the module publishes the kernel's limits at its first load.".into());
    }
    match buddy {
        Some(b) => {
            let n = b.blocks_at_least(order);
            if n == 0 {
                v.push(format!(
                    "{} /proc/buddyinfo has no free block of order {order} ({}) or more now ({} free in smaller blocks): expect {} unless the kernel can compact memory.",
                    sym::WARN,
                    block(order),
                    fmt_bytes(b.free_pages().saturating_mul(page)),
                    if req.alloc == Allocator::Kvmalloc {
                        "the vmalloc fallback"
                    } else {
                        "ENOMEM"
                    }
                ));
            } else {
                v.push(format!(
                    "/proc/buddyinfo: {n} free {} of order {order} ({}) or more now.",
                    if n == 1 { "block" } else { "blocks" },
                    block(order)
                ));
            }
        }
        None => v.push(format!(
            "/proc/buddyinfo unread: whether a free block of order {order} exists is not known."
        )),
    }
    v
}

/// " (kmalloc)" for a title; nothing for the default allocator (as in the parameters).
fn alloc_suffix(req: &LoadRequest) -> String {
    if req.alloc == Allocator::default() {
        String::new()
    } else {
        format!(" ({})", req.alloc)
    }
}

/// What the module does with `req`, in one sentence.
fn what_it_does(req: &LoadRequest) -> String {
    let n = req.memsize_mib;
    match req.alloc {
        Allocator::Vmalloc => format!(
            "The module vmalloc()s {n} MiB and writes to every byte of it, so the pages are really used."
        ),
        Allocator::VmallocHuge => format!(
            "The module vmalloc_huge()s {n} MiB (PMD-sized pages where it can, else 4 KiB ones) and writes to every byte of it."
        ),
        Allocator::Kvmalloc => format!(
            "The module kvmalloc()s {n} MiB: one physically contiguous block if kmalloc finds it at once, else vmalloc; it writes to every byte."
        ),
        Allocator::Kmalloc => format!(
            "The module kmalloc()s {n} MiB: one physically contiguous block, or nothing; it writes to every byte."
        ),
        Allocator::Pages => format!(
            "The module asks alloc_pages() for {n} MiB as one physically contiguous block of 2^order pages; it writes to every byte."
        ),
    }
}

fn mode_line(oom_safe: bool) -> String {
    if oom_safe {
        format!("SAFE mode (oom_safe=Y): refused before allocating if it would leave less available than the reserve ({}, passed as reserve_mib); the OOM killer can still run at the very edge (vmalloc's page tables).", crate::module::RESERVE_POLICY)
    } else {
        "UNSAFE mode (oom_safe=N): plain vmalloc(); if memory runs short the OOM killer may KILL PROCESSES (maybe this dashboard or your shell).".into()
    }
}

fn mib_or(m: Option<u64>, other: &str) -> String {
    m.map(|m| format!("{m} MiB"))
        .unwrap_or_else(|| other.into())
}

/// The words of the dialog for `p` in the state `app`.
pub fn dialog(app: &App, p: Pending) -> Confirmation {
    match p {
        Pending::Load(req) => {
            let mut why = vec![what_it_does(&req)];
            if req.alloc.contiguous() || req.alloc == Allocator::Kvmalloc {
                why.extend(contiguous_lines(app, &req));
            }
            why.extend(avail_lines(app, &req, 0));
            why.push(mode_line(req.oom_safe));
            Confirmation {
                title: format!(
                    "Load {MODULE_NAME} with {} MiB{}?",
                    req.memsize_mib,
                    alloc_suffix(&req)
                ),
                actions: vec![module_line(app), params_line(app, &req)],
                why,
                yes: "load it".into(),
                no: "/ Esc  do nothing".into(),
            }
        }
        Pending::Reload(req) => {
            let held = app.status.memsize_mib;
            let mut why = vec![
                format!(
                    "Unloading frees the {} held now; then:",
                    mib_or(held, "memory")
                ),
                what_it_does(&req),
            ];
            if req.alloc.contiguous() || req.alloc == Allocator::Kvmalloc {
                why.extend(contiguous_lines(app, &req));
            }
            why.extend(avail_lines(
                app,
                &req,
                held.unwrap_or(0).saturating_mul(MIB),
            ));
            why.push(mode_line(req.oom_safe));
            Confirmation {
                title: format!(
                    "Reload {MODULE_NAME} with {} MiB{}?",
                    req.memsize_mib,
                    alloc_suffix(&req)
                ),
                actions: vec![
                    format!("unload  {MODULE_NAME} (rmmod)"),
                    module_line(app),
                    params_line(app, &req),
                ],
                why,
                yes: "unload, then load".into(),
                no: "/ Esc  do nothing".into(),
            }
        }
        Pending::Probe { oom_safe } => Confirmation {
            title: "Probe the largest memsize that loads?".into(),
            actions: vec![
                module_line(app),
                format!(
                    "params  memsize=N oom_safe={} for a few N (a guess from the figures, then checks around it), unloading after each success",
                    if oom_safe { 'Y' } else { 'N' }
                ),
            ],
            why: vec![
                "Each try allocates and fills N MiB, then frees it: memory pressure comes in bursts.".into(),
                mode_line(oom_safe),
            ],
            yes: "probe".into(),
            no: "/ Esc  do nothing".into(),
        },
        Pending::UnsafeMode => Confirmation {
            title: "Switch to UNSAFE mode?".into(),
            actions: vec!["params  oom_safe=N on the next loads (nothing is loaded now)".into()],
            why: vec![
                "The module will use plain vmalloc() (GFP_KERNEL) instead of failing early.".into(),
                "If memory runs short, the kernel's OOM killer may KILL PROCESSES to free memory: possibly this dashboard, your shell or your editor. Unsaved work can be lost.".into(),
                "SAFE mode (oom_safe=Y) makes the load fail with ENOMEM instead.".into(),
            ],
            yes: "switch to UNSAFE".into(),
            no: "/ Esc  stay SAFE".into(),
        },
        Pending::QuitUnload => Confirmation {
            title: format!("Unload {MODULE_NAME} before quitting?"),
            actions: vec![format!("unload  {MODULE_NAME} (rmmod)")],
            why: vec![
                format!(
                    "The module holds {}; it stays allocated until the module is unloaded.",
                    mib_or(app.status.memsize_mib, "its memory")
                ),
                format!("To unload later: sudo rmmod {MODULE_NAME}"),
            ],
            yes: "unload and quit".into(),
            no: "/ Esc  quit, leave it loaded / stay".into(),
        },
        Pending::QuitBusy => {
            let what = app
                .busy
                .as_ref()
                .map_or("an operation".to_string(), |b| b.what.clone());
            let op = app.busy.as_ref().map(|b| b.op);
            let stop = match op {
                Some(Op::Load(req)) => format!(
                    "stop   the loader (vmtop-kmod) of {} MiB: the module's fill loop gives up on the signal and frees what it took",
                    req.memsize_mib
                ),
                Some(Op::Reload { req, .. }) => format!(
                    "stop   the reload: the loader of {} MiB is stopped (the old buffer is freed or being freed)",
                    req.memsize_mib
                ),
                Some(Op::Probe) => "stop   the probe: its running load is stopped, no further size is tried".into(),
                Some(Op::Unload { .. }) | None => "finish the unload (it cannot be stopped half-way)".into(),
            };
            Confirmation {
                title: format!("Quit while {what}?"),
                actions: vec![
                    stop,
                    format!("unload  {MODULE_NAME} if the load finished before it was stopped"),
                    "quit".into(),
                ],
                why: vec![
                    "Nothing vmtop started outlives it: no loader keeps running, nothing stays loaded unannounced.".into(),
                    "q again does the same as y.".into(),
                ],
                yes: "stop it and quit".into(),
                no: "wait for it to finish, then quit    Esc  keep going".into(),
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::app::keys::Mode;
    use crate::app::state::tests::{app, loaded};
    use crate::app::{Action, Command};
    use crate::system::meminfo::Point;

    /// The words of the dialog open in `app`, if any.
    pub(crate) fn open(app: &App) -> Option<Confirmation> {
        app.pending().map(|p| dialog(app, p))
    }

    #[test]
    fn confirmation_predicts_the_address_space_limit() {
        // The 32-bit lab's figures (1024 MiB, default window): VmallocTotal 120 MiB, the
        // largest free range 116 MiB, MemTotal 998 MiB.
        let mut a = app();
        let mib = crate::units::MIB;
        a.on_sample(crate::system::meminfo::Point {
            t: 0.0,
            unix_ms: 0,
            sample: Some(crate::system::meminfo::Sample {
                mem_total: 998 * mib,
                mem_free: 956 * mib,
                mem_available: Some(884 * mib),
                vmalloc_total: 120 * mib,
                vmalloc_used: 544 * 1024,
                vmalloc_chunk: 0,
                highmem: None,
            }),
            vmalloc_largest_free: Some(116 * mib),
        });
        let why = |a: &mut App, size: u64| {
            a.memsize_mib = size;
            a.update(Action::Load);
            let text = open(a).map(|c| c.why.join("\n")).unwrap_or_default();
            a.update(Action::Cancel);
            text
        };
        let big = why(&mut a, 300);
        assert!(
            big.contains("largest free range of the vmalloc address space (116 MiB"),
            "{big}"
        );
        assert!(big.contains("expect ENOMEM, address space"), "{big}");
        let small = why(&mut a, 100);
        assert!(!small.contains("address space"), "{small}");
    }

    #[test]
    fn load_asks_first_and_shows_module_and_params() {
        let mut a = app();
        a.memsize_mib = 200;
        assert_eq!(
            a.update(Action::Load),
            None,
            "nothing sent before the answer"
        );
        assert_eq!(a.mode(), Mode::Confirm);
        let c = open(&a).expect("a dialog");
        let text = c.actions.join("\n");
        assert!(text.contains("/tmp/alloc_large_mem.ko"), "{text}");
        assert!(text.contains("memsize=200 oom_safe=Y"), "{text}");
        assert!(a.busy.is_none());
        let cmd = a.update(Action::Confirm(true));
        assert_eq!(
            cmd,
            Some(Command::Load(LoadRequest {
                memsize_mib: 200,
                oom_safe: true,
                force: false,
                alloc: crate::module::alloc::Allocator::Vmalloc,
                fragment_order: 0,
            }))
        );
        assert!(a.busy.as_ref().unwrap().what.contains("200 MiB"));
        assert_eq!(a.mode(), Mode::Normal);
    }

    #[test]
    fn unsafe_mode_needs_confirmation_safe_does_not() {
        let mut a = app();
        a.update(Action::ToggleMode);
        assert!(a.oom_safe, "not switched before the answer");
        let c = open(&a).expect("a dialog");
        assert!(c.why.join(" ").contains("OOM killer"));
        assert!(c.why.join(" ").contains("KILL PROCESSES"));
        a.update(Action::Confirm(false));
        assert!(a.oom_safe);
        a.update(Action::ToggleMode);
        a.update(Action::Confirm(true));
        assert!(!a.oom_safe);
        a.update(Action::Load);
        assert!(open(&a)
            .expect("a dialog")
            .actions
            .join(" ")
            .contains("oom_safe=N"));
        a.update(Action::Cancel);
        // Back to safe: no question.
        a.update(Action::ToggleMode);
        assert!(a.oom_safe);
        assert!(a.pending().is_none());
    }

    #[test]
    fn quit_during_a_load_asks_stop_or_wait_with_the_loads_figures() {
        // Stop (y, or q again): the loader is stopped at once, the worker then unloads
        // whatever got loaded.
        let mut a = app();
        loaded(&mut a, 300);
        a.yes = true;
        a.memsize_mib = 700;
        assert!(matches!(a.update(Action::Reload), Some(Command::Reload(_))));
        assert_eq!(a.update(Action::Quit), None, "asks first");
        assert_eq!(a.pending(), Some(Pending::QuitBusy));
        let c = open(&a).expect("a dialog");
        let text = format!("{} {}", c.title, c.actions.join(" "));
        assert!(text.contains("700 MiB"), "{text}");
        assert!(!text.contains("holds 300"), "{text}");
        assert_eq!(
            a.update(Action::Confirm(true)),
            Some(Command::CancelAndQuit)
        );
        assert!(a.should_quit);
        let mut b = app();
        b.yes = true;
        b.update(Action::Load);
        b.update(Action::Quit);
        assert_eq!(
            b.update(Action::Quit),
            Some(Command::CancelAndQuit),
            "q q stops"
        );
        // Wait (n): nothing now; when it is done, the usual quit, with the figures of then.
        let mut w = app();
        w.yes = true;
        w.memsize_mib = 700;
        w.update(Action::Load);
        w.update(Action::Quit);
        assert_eq!(w.update(Action::Confirm(false)), None);
        assert!(!w.should_quit && w.quit_after_busy);
        assert!(w
            .notice
            .as_deref()
            .unwrap_or("")
            .contains("waiting for loading 700 MiB"));
        loaded(&mut w, 700);
        assert_eq!(w.on_idle(), None, "loaded: asks whether to unload");
        assert_eq!(w.pending(), Some(Pending::QuitUnload));
        let c = open(&w).expect("a dialog");
        assert!(c.why.join(" ").contains("holds 700 MiB"), "{:?}", c.why);
        let mut x = app();
        x.yes = true;
        x.update(Action::Load);
        x.update(Action::Quit);
        x.update(Action::Confirm(false));
        assert_eq!(
            x.on_idle(),
            Some(Command::Quit { unload: false }),
            "the load failed"
        );
    }

    #[test]
    fn reload_counts_what_the_unload_frees_first() {
        let mut a = app();
        let mib = |m: u64| m * MIB;
        a.on_sample(Point {
            t: 1.0,
            unix_ms: 0,
            sample: Some(Sample {
                mem_total: mib(1000),
                mem_free: mib(450),
                mem_available: Some(mib(500)),
                vmalloc_total: mib(1 << 30),
                vmalloc_used: mib(300),
                vmalloc_chunk: 0,
                highmem: None,
            }),
            vmalloc_largest_free: None,
        });
        loaded(&mut a, 300);
        a.memsize_mib = 700;
        a.update(Action::Reload);
        let why = open(&a).expect("a dialog").why.join(" ");
        assert!(
            why.contains("800 MiB after the unload frees 300 MiB"),
            "{why}"
        );
        assert!(!why.contains("more than MemAvailable"), "{why}");
        a.update(Action::Cancel);
        a.memsize_mib = 900;
        a.update(Action::Reload);
        let why = open(&a).expect("a dialog").why.join(" ");
        assert!(why.contains("more than MemAvailable (800 MiB)"), "{why}");
    }
}
