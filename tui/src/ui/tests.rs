//! Rendering snapshots at 80x24 and 160x45, from synthetic samples and events (these test the
//! drawing, not that a load works). The .snap files under `snapshots/` are the screenshots.

use std::time::Duration;

use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::draw;
use crate::app::config::AppConfig;
use crate::app::history::Retention;
use crate::app::state::tests::kernel;
use crate::app::{Action, App};
use crate::engine::{Event, EventKind, Outcome};
use crate::module::sysfs::ModuleStatus;
use crate::system::host::KernelInfo;
use crate::system::meminfo::{Delta, Point, Sample};
use crate::units::{KIB, MIB};
use ratatui::layout::Rect;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 45)];

/// The lab VM's figures (1024 MiB guest), idle.
fn base() -> Sample {
    Sample {
        mem_total: 1_002_084 * KIB,
        mem_free: 842_560 * KIB,
        mem_available: Some(858_380 * KIB),
        vmalloc_total: 13_743_895_347_199 * KIB,
        vmalloc_used: 14_512 * KIB,
        vmalloc_chunk: 0,
        highmem: None,
    }
}

/// The 32-bit lab's kernel, as vmtop reads it there (the i686 captures in testdata/ come
/// from Debian 6.1.0-57-686-pae; `uname -m` says i686).
fn kernel_i686() -> KernelInfo {
    KernelInfo {
        release: "6.1.0-57-686-pae".into(),
        machine: "i686".into(),
        ..kernel(true, true)
    }
}

pub(super) fn app_with(kernel: KernelInfo) -> App {
    let module = format!("/lib/modules/{}/extra/alloc_large_mem.ko", kernel.release);
    let mut a = App::new(
        kernel,
        Ok(module.into()),
        AppConfig {
            memsize_mib: 200,
            interval: Duration::from_millis(250),
            retention: Retention::Seconds(3600.0),
            ..AppConfig::default()
        },
    );
    a.no_color = true;
    a
}

/// 60 s of samples every 250 ms; `held(t)` gives the MiB the module holds at t; a read
/// failure (gap) from 50.0 to 51.0 s.
pub(super) fn fill(app: &mut App, held: impl Fn(f64) -> u64) {
    for i in 0..=240 {
        let t = i as f64 * 0.25;
        let mut s = base();
        // A little noise so the lines are not flat.
        let wiggle = ((i * 7) % 5) as u64 * 256 * KIB;
        let h = held(t) * MIB;
        s.mem_free = s.mem_free - h - h / 100 - wiggle;
        s.mem_available = s.mem_available.map(|a| a - h - wiggle);
        s.vmalloc_used += h + h / 500;
        let gap = (50.0..51.0).contains(&t);
        app.on_sample(Point {
            t,
            unix_ms: 1_700_000_000_000 + (t * 1000.0) as u64,
            sample: (!gap).then_some(s),
            vmalloc_largest_free: None,
        });
    }
    app.on_tick(60.0);
}

fn load_event(t: f64, mib: u64) -> Event {
    Event {
        t,
        kind: EventKind::Load,
        memsize_mib: mib,
        oom_safe: true,
        alloc: Some(crate::module::alloc::Allocator::Vmalloc),
        outcome: Outcome::Ok,
        wall_ns: 412_000_000,
        alloc_ns: Some(38_400_000),
        fill_ns: Some(301_700_000),
        module_line: None,
        delta: Some(Delta {
            mem_free: -(202 * MIB as i64),
            mem_available: -(200 * MIB as i64),
            vmalloc_used: (mib as f64 * 1.002 * MIB as f64) as i64,
        }),
    }
}

fn unload_event(t: f64, mib: u64) -> Event {
    Event {
        t,
        kind: EventKind::Unload,
        memsize_mib: mib,
        oom_safe: true,
        alloc: None,
        outcome: Outcome::Ok,
        wall_ns: 21_000_000,
        alloc_ns: None,
        fill_ns: None,
        module_line: None,
        delta: Some(Delta {
            mem_free: 201 * MIB as i64,
            mem_available: 200 * MIB as i64,
            vmalloc_used: -((mib as f64 * 1.002 * MIB as f64) as i64),
        }),
    }
}

/// A failed load as the engine reports it: the diagnosis is `diagnose()`'s, on the kernel
/// log captured in the lab for that load (testdata/kmsg-6.1-lab-safe-counted-earlier.txt, 940 MiB in
/// safe mode) and the lab's figures.
fn failed_event(t: f64, mib: u64) -> Event {
    let log: Vec<String> = include_str!("../../testdata/kmsg-6.1-lab-safe-counted-earlier.txt")
        .lines()
        .filter_map(crate::system::kmsg::parse_record)
        .map(|r| r.text)
        .filter(|l| l.contains(&format!("fail memsize_mib={mib} ")))
        .collect();
    assert_eq!(log.len(), 1, "the lab capture has the {mib} MiB attempt");
    let diagnosis = crate::diagnose::diagnose(&crate::diagnose::FailureInput {
        end: crate::diagnose::LoaderEnd::Errno(12),
        requested_mib: mib,
        oom_safe: true,
        log,
        before: Some(base()),
        after: Some(base()),
        privileges: crate::system::host::tests::with_root(true),
        signing: crate::system::host::tests::relaxed(),
        module_signed: Some(false),
        vmalloc_largest_free: None,
        loader_pid: Some(311),
        vmap_trace: None,
    });
    Event {
        t,
        kind: EventKind::Load,
        memsize_mib: mib,
        oom_safe: true,
        alloc: Some(crate::module::alloc::Allocator::Vmalloc),
        outcome: Outcome::Failed { diagnosis },
        wall_ns: 1_830_000_000,
        alloc_ns: None,
        fill_ns: None,
        module_line: None,
        delta: Some(Delta {
            mem_free: 0,
            mem_available: 0,
            vmalloc_used: 0,
        }),
    }
}

fn loaded_status(mib: u64) -> ModuleStatus {
    ModuleStatus {
        loaded: true,
        memsize_mib: Some(mib),
        oom_safe: Some(true),
        fill: Some(0xff),
        bytes: Some(mib * MIB),
        alloc_ns: Some(38_400_000),
        fill_ns: Some(301_700_000),
        layout: None,
        limits: None,
    }
}

pub(super) fn render(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    term.draw(|f| draw(f, app)).expect("draw");
    buffer_to_string(term.backend().buffer())
}

fn snap(name: &str, app: &App) {
    for (w, h) in SIZES {
        let text = render(app, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), text);
    }
}

fn idle() -> App {
    let mut a = app_with(kernel(true, true));
    fill(&mut a, |_| 0);
    a
}

fn loaded() -> App {
    let mut a = app_with(kernel(true, true));
    fill(&mut a, |t| if t >= 40.0 { 200 } else { 0 });
    a.on_event(load_event(40.0, 200));
    a.on_status(loaded_status(200));
    a.on_kmsg("[ 8123.456789] alloc_large_mem: load memsize_mib=200 bytes=209715200 oom_safe=Y alloc_ns=38400000 fill_ns=301700000".into());
    a
}

fn failure() -> App {
    let mut a = app_with(kernel(true, true));
    fill(&mut a, |t| if (12.0..35.0).contains(&t) { 200 } else { 0 });
    a.on_event(load_event(12.0, 200));
    a.on_event(unload_event(35.0, 200));
    a.on_event(failed_event(45.0, 940));
    a.on_kmsg("[ 8101.2] alloc_large_mem: load memsize_mib=200 bytes=209715200 oom_safe=Y alloc_ns=38400000 fill_ns=301700000".into());
    a.on_kmsg("[ 8124.0] alloc_large_mem: unload memsize_mib=200 bytes=209715200".into());
    a.on_kmsg("[    6.128149] alloc_large_mem: fail memsize_mib=940 bytes=985661440 oom_safe=Y err=-12 stage=vmalloc".into());
    a.memsize_mib = 940;
    a
}

#[test]
fn snapshot_idle() {
    snap("idle", &idle());
}

#[test]
fn snapshot_loaded() {
    snap("loaded", &loaded());
}

#[test]
fn snapshot_failure_banner() {
    snap("failure", &failure());
}

/// The styles a screen wears, each once in order of appearance, with the first text in it:
/// what a theme changes, for review (the text snapshot alone cannot show colours).
fn styles_of(buf: &ratatui::buffer::Buffer) -> String {
    let mut seen: Vec<(ratatui::style::Style, String)> = Vec::new();
    for y in buf.area.top()..buf.area.bottom() {
        for x in buf.area.left()..buf.area.right() {
            let c = &buf[(x, y)];
            let style = c.style();
            match seen.iter_mut().find(|(s, _)| *s == style) {
                Some((_, text)) if text.chars().count() < 24 => text.push_str(c.symbol()),
                Some(_) => {}
                None => seen.push((style, c.symbol().to_string())),
            }
        }
    }
    seen.iter()
        .map(|(s, text)| {
            let fg =
                s.fg.map(|c| format!("{c:?}"))
                    .unwrap_or_else(|| "default".into());
            format!(
                "fg={fg:<9} {:<22} {:?}\n",
                format!("{:?}", s.add_modifier),
                text.trim()
            )
        })
        .collect()
}

/// `--theme light|projector` and `--glyphs block|ascii` at 80x24 (the dark theme with
/// braille is every other snapshot): the screen of a failure, in colour, and the styles it
/// wears.
#[test]
fn snapshot_themes_and_glyphs() {
    use crate::cli::{Glyphs, ThemeName};
    for (name, theme, glyphs) in [
        ("theme_light", ThemeName::Light, Glyphs::Braille),
        ("theme_projector", ThemeName::Projector, Glyphs::Braille),
        ("glyphs_block", ThemeName::Dark, Glyphs::Block),
        ("glyphs_ascii", ThemeName::Dark, Glyphs::Ascii),
    ] {
        let mut a = failure();
        a.theme = theme;
        a.glyphs = glyphs;
        a.no_color = false;
        let mut term = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
        term.draw(|f| draw(f, &a)).expect("draw");
        let buf = term.backend().buffer();
        let text = format!(
            "{}--- styles ---\n{}",
            buffer_to_string(buf),
            styles_of(buf)
        );
        insta::assert_snapshot!(format!("{name}_80x24"), text);
        // What each promises, checked on the cells themselves.
        let symbols: String = buf.content.iter().map(|c| c.symbol()).collect();
        let braille = symbols
            .chars()
            .any(|c| ('\u{2800}'..='\u{28ff}').contains(&c));
        match (theme, glyphs) {
            (_, Glyphs::Ascii) => {
                let charts: String = symbols
                    .chars()
                    .filter(|c| "|-_'*^vX!:+".contains(*c))
                    .collect();
                assert!(!braille && charts.len() > 100, "ASCII charts");
            }
            (_, Glyphs::Block) => {
                assert!(!braille && symbols.contains('▄') || symbols.contains('▀'))
            }
            (ThemeName::Projector, _) => assert!(buf
                .content
                .iter()
                .all(|c| !c.modifier.contains(ratatui::style::Modifier::DIM))),
            (ThemeName::Light, _) => assert!(buf.content.iter().all(|c| !matches!(
                c.fg,
                ratatui::style::Color::Yellow | ratatui::style::Color::Cyan
            ))),
            _ => {}
        }
    }
}

/// The projector's thick lines: every column of a line has its dot and the one below.
#[test]
fn projector_lines_are_thick() {
    let mut a = failure();
    let thin = render(&a, 80, 24);
    a.theme = crate::cli::ThemeName::Projector;
    let thick = render(&a, 80, 24);
    let dots = |s: &str| -> u32 {
        s.chars()
            .filter(|c| ('\u{2801}'..='\u{28ff}').contains(c))
            .map(|c| (u32::from(c) - 0x2800).count_ones())
            .sum()
    };
    assert!(
        dots(&thick) > dots(&thin) * 3 / 2,
        "{} dots thick, {} thin",
        dots(&thick),
        dots(&thin)
    );
}

#[test]
fn snapshot_why() {
    let mut a = failure();
    a.update(Action::ToggleWhy);
    snap("why", &a);
}

#[test]
fn snapshot_help() {
    let mut a = idle();
    a.update(Action::ToggleHelp);
    snap("help", &a);
}

#[test]
fn snapshot_read_only() {
    let mut a = app_with(kernel(true, false));
    a.module_path = Err("no module file".into());
    fill(&mut a, |_| 0);
    snap("read_only", &a);
}

#[test]
fn snapshot_confirm_load() {
    let mut a = idle();
    a.update(Action::Load);
    snap("confirm_load", &a);
}

#[test]
fn snapshot_confirm_unsafe() {
    let mut a = idle();
    a.update(Action::ToggleMode);
    snap("confirm_unsafe", &a);
}

// ---- the allocator key, the buddyinfo pane, the buffer's contiguity ----

/// Type `keys` as the terminal delivers them: each through the key table (`map_key`, in the
/// mode the app is in), then `App::update`.
fn press(app: &mut App, keys: &str) {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    for c in keys.chars() {
        let code = if c == '\n' {
            KeyCode::Enter
        } else {
            KeyCode::Char(c)
        };
        let action = crate::app::map_key(KeyEvent::new(code, KeyModifiers::NONE), app.mode())
            .unwrap_or_else(|| panic!("{c:?} means nothing in {:?}", app.mode()));
        app.update(action);
    }
}

/// The kernel log of the lab boot that tried each allocator (testdata/kmsg-6.1-alloc-earlier.txt).
fn alloc_log() -> Vec<String> {
    include_str!("../../testdata/kmsg-6.1-alloc-earlier.txt")
        .lines()
        .filter_map(crate::system::kmsg::parse_record)
        .map(|r| r.text)
        .collect()
}

/// The 6.1 lab's /proc/buddyinfo just after boot (testdata/buddyinfo-6.1-lab-1g.txt).
fn lab_buddyinfo(app: &mut App, capture: &str) {
    app.on_buddyinfo(Ok(crate::system::buddyinfo::tests::capture(capture)));
}

/// The module's log line of a successful load, as the results/ it publishes.
fn layout_of(line: &str) -> crate::module::alloc::Layout {
    let field = |k: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{k} in {line}"))
            .to_string()
    };
    let num = |k: &str| field(k).parse::<u64>().expect("a number");
    crate::module::alloc::Layout {
        alloc: crate::module::alloc::Allocator::from_name(&field("alloc")),
        backing: field("backing"),
        bytes: num("bytes"),
        runs: num("runs"),
        largest_run_bytes: num("largest_run_kib") * KIB,
        nodes: field("nodes"),
        zones: field("zones"),
    }
}

/// The allocator picked with `a` (vmalloc → kvmalloc → kmalloc), 8 MiB typed, `l`: the
/// limits known from the module's log line in the lab, buddyinfo from the lab.
fn confirm_kmalloc_8m() -> App {
    let mut a = idle();
    for l in alloc_log().into_iter().take(5) {
        a.on_kmsg(l);
    }
    lab_buddyinfo(&mut a, crate::system::buddyinfo::tests::LAB_6_1);
    press(&mut a, "aa8\nl");
    a
}

#[test]
fn snapshot_confirm_kmalloc() {
    snap("confirm_kmalloc_8m", &confirm_kmalloc_8m());
}

#[test]
fn snapshot_alloc_in_header() {
    let mut a = idle();
    press(&mut a, "aaa");
    assert_eq!(a.alloc, crate::module::alloc::Allocator::Pages);
    snap("alloc_pages_header", &a);
}

#[test]
fn snapshot_buddyinfo_pane() {
    let mut a = idle();
    lab_buddyinfo(&mut a, crate::system::buddyinfo::tests::LAB_6_12);
    press(&mut a, "b");
    snap("buddyinfo", &a);
}

/// The 32-bit lab just booted: its kernel, 10 s of its /proc/meminfo
/// (testdata/meminfo-i686-lab-1g.txt) and the largest free vmalloc range it had (116 MiB).
fn idle_i686() -> App {
    let text = include_str!("../../testdata/meminfo-i686-lab-1g.txt");
    let s = Sample::parse_str(text.split_once('\n').map_or("", |(_, r)| r)).expect("parse");
    let mut a = app_with(kernel_i686());
    for i in 0..=40 {
        a.on_sample(Point {
            t: f64::from(i) * 0.25,
            unix_ms: 0,
            sample: Some(s),
            vmalloc_largest_free: Some(116 * MIB),
        });
    }
    a.on_tick(10.0);
    a
}

#[test]
fn snapshot_buddyinfo_pane_32bit() {
    let mut a = idle_i686();
    lab_buddyinfo(&mut a, crate::system::buddyinfo::tests::LAB_I686);
    press(&mut a, "b");
    let text = render(&a, 80, 24);
    insta::assert_snapshot!("buddyinfo_i686_80x24", text);
}

/// The areas pane from one lab boot's captures: /proc/vmallocinfo before and with the module
/// holding 100 MiB, /proc/meminfo and PSI of that boot.
fn with_areas(a: &mut App, before: &str, after: &str, meminfo: &str, pressure: &str, total: u64) {
    use crate::system::vmareas::{tests::body, ModuleHint};
    let hint = ModuleHint {
        name: "alloc_large_mem",
        bytes: 100 * MIB,
    };
    // Before the load the module is not loaded: no buffer to find (unless it is this reading).
    let before_hint = (before == after).then_some(hint);
    a.areas.refresh_from_text(&body(before), before_hint, total);
    a.areas.mark_load(40.0);
    a.areas.refresh_from_text(&body(after), Some(hint), total);
    let k = crate::system::meminfo::KernelMemory::parse_str(&body(meminfo)).expect("meminfo");
    let p = crate::system::pressure::Pressure::parse(&body(pressure)).expect("pressure");
    a.areas.set_figures(Some(k), Some(p));
    press(a, "v");
}

#[test]
fn snapshot_areas_pane() {
    use crate::system::vmareas::tests::X86_612_100M;
    let mut a = loaded();
    // No capture of the idle 6.12 lab: both baselines are the loaded reading (changes 0).
    with_areas(
        &mut a,
        X86_612_100M,
        X86_612_100M,
        include_str!("../../testdata/meminfo-6.12-x86_64-100m.txt"),
        include_str!("../../testdata/pressure-memory-6.12-x86_64.txt"),
        13_743_895_347_199 * 1024,
    );
    snap("areas", &a);
}

#[test]
fn snapshot_areas_pane_32bit_map() {
    use crate::system::vmareas::tests::{I686_100M, I686_IDLE};
    let mut a = loaded();
    with_areas(
        &mut a,
        I686_IDLE,
        I686_100M,
        include_str!("../../testdata/meminfo-i686-100m.txt"),
        include_str!("../../testdata/pressure-memory-i686.txt"),
        122_880 * 1024,
    );
    press(&mut a, "o");
    snap("areas_i686_by_count", &a);
}

/// Loaded with the buffer the lab's vmalloc 256 MiB load made (its log line).
fn loaded_with_layout() -> App {
    let line = alloc_log()
        .into_iter()
        .find(|l| l.contains("load memsize_mib=256") && l.contains("alloc=vmalloc "))
        .expect("the lab's vmalloc 256 MiB load");
    let mut a = app_with(kernel(true, true));
    fill(&mut a, |t| if t >= 40.0 { 256 } else { 0 });
    a.on_event(load_event(40.0, 256));
    let mut st = loaded_status(256);
    st.layout = Some(layout_of(&line));
    a.on_status(st);
    a.on_kmsg(line);
    a
}

#[test]
fn snapshot_loaded_with_contiguity() {
    snap("loaded_contiguity", &loaded_with_layout());
}

#[test]
fn snapshot_highmem() {
    snap("highmem", &idle_i686());
}

#[test]
fn screens_of_the_32bit_lab_name_its_kernel() {
    let mut buddy = idle_i686();
    lab_buddyinfo(&mut buddy, crate::system::buddyinfo::tests::LAB_I686);
    press(&mut buddy, "b");
    for (name, a) in [("highmem", idle_i686()), ("buddyinfo", buddy)] {
        for (w, h) in SIZES {
            let text = render(&a, w, h);
            let header = text.lines().next().unwrap_or_default();
            assert!(
                header.contains("6.1.0-57-686-pae"),
                "{name} {w}x{h}: {header}"
            );
            assert!(!text.contains("amd64"), "{name} {w}x{h}:\n{text}");
            assert!(
                text.contains("VmallocTotal 120 MiB"),
                "{name} {w}x{h}:\n{text}"
            );
            if w >= 100 {
                assert!(header.contains("i686"), "{name} {w}x{h}: {header}");
            }
        }
    }
}

#[test]
fn the_allocator_shows_in_header_and_confirmation() {
    let a = confirm_kmalloc_8m();
    for (w, h) in SIZES {
        let text = render(&a, w, h);
        assert!(text.contains("alloc=kmalloc"), "{w}x{h}:\n{text}");
    }
    let c = crate::ui::confirm::tests::open(&a).expect("a dialog");
    assert!(
        c.actions
            .iter()
            .any(|l| l.contains("memsize=8 ") && l.ends_with("alloc=kmalloc")),
        "{:?}",
        c.actions
    );
    let why = c.why.join("\n");
    assert!(
        why.contains("8 MiB is above KMALLOC_MAX_SIZE 4.00 MiB")
            && why.contains("expect kmalloc to fail"),
        "{why}"
    );
    assert!(!why.contains("VmallocUsed should rise"), "{why}");
    // Esc, then back to vmalloc: a (kmalloc → pages), a (→ vmalloc_huge), a (→ vmalloc).
    let mut a = a;
    a.update(Action::Cancel);
    press(&mut a, "aaa");
    assert_eq!(a.alloc, crate::module::alloc::Allocator::Vmalloc);
}

#[test]
fn pages_says_it_rounds_up_and_what_buddyinfo_has() {
    let mut a = idle();
    lab_buddyinfo(&mut a, crate::system::buddyinfo::tests::LAB_6_1);
    // Before any load the module has published nothing: the largest order is buddyinfo's.
    press(&mut a, "aaa5\nl");
    let why = crate::ui::confirm::tests::open(&a)
        .expect("a dialog")
        .why
        .join("\n");
    assert!(
        why.contains(
            "rounds 5 MiB up to the order that covers it: order 11, 2^11 pages = 8.00 MiB"
        ),
        "{why}"
    );
    assert!(
        why.contains("above the largest order 10 (4.00 MiB; the orders /proc/buddyinfo lists)"),
        "{why}"
    );
    assert!(why.contains("expect pages to fail"), "{why}");
    a.update(Action::Cancel);
    // 4 MiB: order 10, and the lab had 223 free blocks of it.
    press(&mut a, "4\nl");
    let why = crate::ui::confirm::tests::open(&a)
        .expect("a dialog")
        .why
        .join("\n");
    assert!(why.contains("one block of order 10"), "{why}");
    assert!(
        why.contains("223 free blocks of order 10 (4.00 MiB) or more now"),
        "{why}"
    );
    a.update(Action::Cancel);
    // None left of that order (the fragmentation demo's state): expect a failure.
    a.on_buddyinfo(Ok(
        "Node 0, zone DMA32 900 800 700 600 500 400 300 200 100 50 0\n",
    ));
    press(&mut a, "l");
    let why = crate::ui::confirm::tests::open(&a)
        .expect("a dialog")
        .why
        .join("\n");
    assert!(
        why.contains("no free block of order 10 (4.00 MiB) or more now"),
        "{why}"
    );
    assert!(
        a.wants_buddyinfo(),
        "a contiguous load's confirmation keeps buddyinfo fresh"
    );
}

#[test]
fn allocators_offered_follow_the_module() {
    let mut a = idle();
    let mut seen = vec![a.alloc];
    for _ in 0..5 {
        press(&mut a, "a");
        seen.push(a.alloc);
    }
    use crate::module::alloc::Allocator::*;
    assert_eq!(
        seen,
        [Vmalloc, Kvmalloc, Kmalloc, Pages, VmallocHuge, Vmalloc]
    );
    // The module says what it has (here: a build without vmalloc_huge).
    a.on_kmsg("[ 1.0] alloc_large_mem: limits page_size=4096 kmalloc_max_size=4194304 max_order=10 allocators=vmalloc,kvmalloc,kmalloc,pages".into());
    press(&mut a, "aaaa");
    assert_eq!(a.alloc, Vmalloc, "vmalloc_huge skipped");
}

#[test]
fn buddyinfo_pane_shows_the_numbers_and_empty_orders() {
    let mut a = idle();
    lab_buddyinfo(&mut a, crate::system::buddyinfo::tests::LAB_6_12);
    assert!(!render(&a, 80, 24).contains("Free blocks per order"));
    press(&mut a, "b");
    for (w, h) in SIZES {
        let text = render(&a, w, h);
        let row = text
            .lines()
            .find(|l| l.starts_with("N0 DMA32"))
            .unwrap_or_else(|| panic!("{w}x{h}:\n{text}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        // 6.12 lab: DMA32 2 1 2 1 2 2 2 0 1 1 223; order 7 empty.
        assert_eq!(
            &cells[2..13],
            ["2", "1", "2", "1", "2", "2", "2", "·", "1", "1", "223"],
            "{row}"
        );
        assert!(row.contains("10"), "largest free order: {row}");
    }
    press(&mut a, "b");
    assert!(!render(&a, 80, 24).contains("Free blocks per order"));
    // A failed read says why in place.
    press(&mut a, "b");
    a.on_buddyinfo(Err(anyhow::anyhow!(
        "opening /proc/buddyinfo: Permission denied"
    )));
    assert!(render(&a, 80, 24).contains("Permission denied"));
}

#[test]
fn loaded_buffer_contiguity_in_one_line() {
    let a = loaded_with_layout();
    // The figures of the lab's buffer, as the module logged them.
    let l = a.status.layout.clone().expect("a layout");
    assert_eq!((l.bytes, l.nodes.as_str()), (256 * MIB, "0:65536"));
    let runs = format!("vmalloc 256 MiB: {} runs", l.runs);
    let largest = format!("largest {}", crate::units::fmt_bytes(l.largest_run_bytes));
    let zones = l.zones.replace(':', " ");
    for (w, h) in SIZES {
        let text = render(&a, w, h);
        let line = text
            .lines()
            .find(|l| l.starts_with("buffer "))
            .unwrap_or_else(|| panic!("{w}x{h}:\n{text}"));
        assert!(
            line.contains(&runs)
                || line.contains(&runs.replace(" runs", " physically contiguous runs")),
            "{line}"
        );
        assert!(line.contains(&largest), "{line}");
        assert!(line.contains(&zones), "{line}");
        assert!(line.contains("node 0"), "{line}");
    }
    assert!(!render(&idle(), 80, 24).contains("buffer "));
}

// ---- small terminals: the newest kernel log line, the size the charts need ----

/// The rows of the kernel log pane (below its title, above the footer).
fn kmsg_pane(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let top = lines
        .iter()
        .position(|l| l.contains("Kernel log─"))
        .unwrap_or_else(|| panic!("no kernel log pane:\n{text}"));
    // The pane ends at the footer (the last row) or, when wide, at the screen's last rows.
    lines[top + 1..lines.len() - 1]
        .iter()
        .map(|l| l.split("Kernel log").last().unwrap_or(l))
        .collect()
}

#[test]
fn kernel_log_pane_shows_the_newest_line_even_when_it_is_taller_than_the_pane() {
    // The lab's 256 MiB load line is about 440 characters: 6 rows at 80 columns, and the
    // 80x24 pane has 2.
    let a = loaded_with_layout();
    let newest = a.kmsg.back().expect("a kernel log line").clone();
    assert!(newest.len() > 300, "{newest}");
    for (w, h) in [(80, 24), (100, 24), (60, 24), (80, 26)] {
        let text = render(&a, w, h);
        let pane = kmsg_pane(&text).join(" ");
        assert!(
            pane.contains("alloc_large_mem: load memsize_mib=256"),
            "{w}x{h}:\n{text}"
        );
        assert!(
            pane.trim_end().ends_with('…'),
            "{w}x{h} cut with …:\n{text}"
        );
    }
    // The whole line where the pane has the rows (160x45: the snapshot shows it whole).
    let text = render(&a, 160, 45);
    assert!(text.contains("nodes=0:65536 zones=DMA32:65536"), "{text}");
    assert!(!text.contains('…'), "{text}");
    // After a short line, the long one is still the newest: it shows, the older one goes.
    let mut b = loaded_with_layout();
    let mut c = loaded_with_layout();
    b.on_kmsg("[ 9000.0] an older short line".into());
    b.on_kmsg(newest.clone());
    c.on_kmsg("[ 9001.0] a newer short line".into());
    let pane_b = kmsg_pane(&render(&b, 80, 24)).join(" ");
    assert!(
        pane_b.contains("alloc_large_mem: load") && !pane_b.contains("older short"),
        "{pane_b}"
    );
    let pane_c = kmsg_pane(&render(&c, 80, 24)).join(" ");
    assert!(pane_c.contains("a newer short line"), "{pane_c}");
}

#[test]
fn tail_fit_cuts_only_a_line_taller_than_the_pane() {
    use ratatui::text::{Line, Span};
    let long = "word ".repeat(100);
    let cut = super::tail_fit([Line::from(long.clone())].into_iter(), 40, 3);
    assert_eq!(cut.len(), 1);
    let text: String = cut[0].spans.iter().map(|s| s.content.as_ref()).collect();
    assert!(
        text.starts_with("word word") && text.ends_with("word…"),
        "{text}"
    );
    assert!(super::wrapped_rows(&text, 40) <= 3, "{text}");
    // Styles survive the cut: the ellipsis takes the style of the span it ends.
    let bold = ratatui::style::Style::default().add_modifier(ratatui::style::Modifier::BOLD);
    let styled = Line::from(vec![Span::raw("[ 1.0] "), Span::styled(long, bold)]);
    let cut = super::tail_fit([styled].into_iter(), 40, 2);
    let last = cut[0].spans.last().expect("spans");
    assert_eq!((last.content.as_ref(), last.style), ("…", bold));
    // Lines that fit are kept whole; nothing to show in no rows.
    let short = [Line::from("a"), Line::from("b")];
    let kept = super::tail_fit(short.clone().into_iter(), 40, 3);
    assert_eq!(kept, short);
    assert!(super::tail_fit(short.into_iter(), 40, 0).is_empty());
}

/// The sizes where the charts just fit, and just do not, for each state.
#[test]
fn below_the_charts_size_one_centred_line_names_the_size_needed() {
    let mut failed = failure();
    failed.no_color = true;
    let states = [
        ("idle", idle()),
        ("loaded", loaded_with_layout()),
        ("failure", failed),
    ];
    for (name, a) in states {
        for (w, h) in [(40, 12), (80, 10), (30, 8), (100, 13), (12, 40), (11, 40)] {
            let text = render(&a, w, h);
            let shown: Vec<(usize, &str)> = text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .collect();
            let Some((need_w, need_h)) = super::too_small(&a, Rect::new(0, 0, w, h)) else {
                assert!(text.contains("Memory"), "{name} {w}x{h}:\n{text}");
                continue;
            };
            assert_eq!(shown.len(), 1, "{name} {w}x{h}: one line:\n{text}");
            let (row, line) = shown[0];
            assert_eq!(
                row,
                usize::from(h - 1) / 2,
                "{name} {w}x{h}: centred:\n{text}"
            );
            assert!(
                line.contains(&format!("{need_w}x{need_h}")),
                "{name} {w}x{h}: {line}"
            );
            let (left, right) = (
                line.len() - line.trim_start().len(),
                usize::from(w) - line.chars().count(),
            );
            assert!(
                left.abs_diff(right) <= 1,
                "{name} {w}x{h}: centred: {line:?}"
            );
            // The size it names is enough, and one row less is not.
            let fits = render(&a, need_w, need_h);
            assert!(
                fits.contains("Memory") && fits.contains("vmalloc ⣿") && !fits.contains("needs"),
                "{name} at {need_w}x{need_h}:\n{fits}"
            );
            if need_h > h {
                assert!(
                    render(&a, need_w, need_h - 1).contains(&format!("needs {need_w}x{need_h}")),
                    "{name} at {need_w}x{}",
                    need_h - 1
                );
            } else {
                assert_eq!((need_w, need_h), (12, h), "{name} {w}x{h}: too narrow only");
            }
        }
    }
    let text = render(&idle(), 40, 12);
    assert!(
        text.contains("too small: needs 40x13, has 40x12"),
        "the sentence as long as 40 columns take:\n{text}"
    );
}

#[test]
fn short_of_rows_a_failure_keeps_its_first_banner_line() {
    // 80x16: with the whole banner (5 rows) the charts would not fit.
    let a = failure();
    let text = render(&a, 80, 16);
    assert!(text.contains("✗ LOAD FAILED 940 MiB"), "{text}");
    assert!(
        text.contains("Memory") && text.contains("vmalloc ⣿"),
        "{text}"
    );
    // A confirmation stays visible on a terminal too small for the charts.
    let mut c = idle();
    c.update(Action::Load);
    let text = render(&c, 40, 12);
    assert!(text.contains("200 MiB"), "{text}");
    assert!(
        !text.contains("needs 40x"),
        "the dialog covers the line:\n{text}"
    );
}

#[test]
fn snapshot_too_small() {
    let text = render(&idle(), 40, 12);
    insta::assert_snapshot!("too_small_40x12", text);
    // One row more: the smallest terminal of that width that shows the charts.
    let text = render(&idle(), 40, 13);
    insta::assert_snapshot!("smallest_40x13", text);
}

#[test]
fn highmem_only_where_present() {
    assert!(!render(&idle(), 160, 45).contains("LowTotal"));
}

// ---- properties that must hold whatever the snapshots say ----

#[test]
fn failure_is_shown_in_words_everywhere() {
    for (w, h) in SIZES {
        let text = render(&failure(), w, h);
        assert!(text.contains("✗ LOAD FAILED"), "{w}x{h} banner:\n{text}");
        assert!(text.contains("FAILED"), "{w}x{h} header/events");
        assert!(text.contains("[likely]"), "{w}x{h} confidence");
        assert!(text.contains("940 MiB"), "{w}x{h} numbers");
        // The marker stays on both charts: at least two ✗ beyond the banner and event log.
        assert!(text.matches('✗').count() >= 4, "{w}x{h} markers:\n{text}");
    }
}

#[test]
fn loaded_shows_markers_on_both_charts_and_the_delta() {
    for (w, h) in SIZES {
        let text = render(&loaded(), w, h);
        assert!(text.matches('▲').count() >= 3, "{w}x{h}:\n{text}");
        assert!(text.contains("LOADED 200 MiB"), "{w}x{h}");
        assert!(
            text.contains("VmallocUsed +200.4 MiB for 200 MiB asked"),
            "{w}x{h}:\n{text}"
        );
    }
}

#[test]
fn read_only_says_why_and_what_to_do() {
    let mut a = app_with(kernel(false, true));
    fill(&mut a, |_| 0);
    for (w, h) in SIZES {
        let text = render(&a, w, h);
        assert!(text.contains("READ-ONLY"), "{w}x{h}");
        assert!(text.contains("sudo vmtop"), "{w}x{h}:\n{text}");
    }
}

#[test]
fn the_capability_decides_not_the_uid() {
    // Root in a container without CAP_SYS_MODULE: read-only, and the banner says how.
    let mut k = kernel(true, true);
    k.privileges.cap_sys_module = false;
    k.privileges.cap_sys_module_bounding = false;
    let mut a = app_with(k);
    fill(&mut a, |_| 0);
    assert!(a.read_only());
    let text = render(&a, 160, 45);
    assert!(text.contains("READ-ONLY"), "{text}");
    assert!(text.contains("without CAP_SYS_MODULE"), "{text}");
    assert!(text.contains("--cap-add SYS_MODULE"), "{text}");
    // Not root, with the capability: loading is on.
    let mut k = kernel(false, true);
    k.privileges.cap_sys_module = true;
    let mut a = app_with(k);
    fill(&mut a, |_| 0);
    assert!(!a.read_only());
    let text = render(&a, 160, 45);
    assert!(!text.contains("READ-ONLY"), "{text}");
    assert!(text.contains("uid 1000 CAP_SYS_MODULE"), "{text}");
}

#[test]
fn busy_shows_progress() {
    let mut a = idle();
    a.yes = true;
    a.now = 56.8;
    assert!(a.update(Action::Load).is_some());
    a.on_tick(60.0);
    let text = render(&a, 80, 24);
    assert!(text.contains("loading 200 MiB… 3.2 s"), "{text}");
}

#[test]
fn tiny_terminal_does_not_panic_and_says_so_in_place() {
    let a = failure();
    for (w, h) in [(1, 1), (10, 5), (40, 10), (80, 10), (20, 40)] {
        render(&a, w, h);
    }
    // Too narrow for a chart: one line says the size needed instead of a blank screen.
    let text = render(&idle(), 11, 40);
    assert_eq!(text.trim(), "needs 12x40", "{text}");
    // Wide enough: charts, no such words.
    assert!(!render(&idle(), 80, 24).contains("needs"));
    let mut b = idle();
    b.update(Action::ToggleHelp);
    render(&b, 30, 8);
    let mut c = idle();
    c.update(Action::Load);
    render(&c, 30, 8);
}

#[test]
fn empty_history_renders() {
    let a = app_with(kernel(true, true));
    let text = render(&a, 80, 24);
    assert!(text.contains("memsize 200 MiB"));
}

fn render_buffer(app: &App, w: u16, h: u16) -> ratatui::buffer::Buffer {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    term.draw(|f| draw(f, app)).expect("draw");
    term.backend().buffer().clone()
}

#[test]
fn no_color_draws_no_colour_and_colour_marks_failures_red() {
    use ratatui::style::{Color, Modifier};
    let mut a = failure();
    a.no_color = true;
    let buf = render_buffer(&a, 160, 45);
    assert!(
        buf.content()
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset),
        "NO_COLOR: no cell may carry a colour"
    );
    // Still unmissable without colour: the banner is in reverse video.
    assert!(buf
        .content()
        .iter()
        .any(|c| c.symbol() == "✗" && c.modifier.contains(Modifier::REVERSED)));

    a.no_color = false;
    let buf = render_buffer(&a, 160, 45);
    assert!(buf
        .content()
        .iter()
        .any(|c| c.symbol() == "✗" && c.fg == Color::Red));
    // Never a hard-coded background: readable on dark and light terminals.
    assert!(buf.content().iter().all(|c| c.bg == Color::Reset));
}

/// After a sample (and 1.5 s), every cell that differs from the frame before lies in a part
/// `damage::after_samples` names: the dashboard draws only those.
#[test]
fn sample_damage_covers_every_cell_a_sample_changes() {
    let mut busy = idle();
    busy.yes = true;
    busy.now = 56.8;
    assert!(busy.update(Action::Load).is_some());
    let mut logged = failure();
    for i in 0..40 {
        logged.on_kmsg(format!(
            "[ {i}.5] line {i} of the kernel log, some long enough to wrap in the narrow pane"
        ));
    }
    let mut read_only = app_with(kernel(false, true));
    fill(&mut read_only, |_| 0);
    let mut buddy = idle();
    lab_buddyinfo(&mut buddy, crate::system::buddyinfo::tests::LAB_6_1);
    press(&mut buddy, "b");
    // Read again, the same: the pane need not be drawn after the next sample.
    let mut buddy_same = buddy.clone();
    lab_buddyinfo(&mut buddy_same, crate::system::buddyinfo::tests::LAB_6_1);
    assert!(buddy.buddy_changed && !buddy_same.buddy_changed);
    let mut all = loaded();
    press(&mut all, "zzz");
    assert_eq!(all.window, crate::app::state::Window::All);
    let states = [
        ("idle", idle()),
        ("loaded", loaded()),
        ("loaded_layout", loaded_with_layout()),
        ("buddy", buddy),
        ("buddy_same", buddy_same),
        ("failure", failure()),
        ("busy", busy),
        ("logged", logged),
        ("read_only", read_only),
        ("all", all),
    ];
    for (name, before) in states {
        for (w, h) in [(80, 24), (160, 45), (120, 30), (100, 40), (40, 12)] {
            let mut after = before.clone();
            // 1.5 s later, 300 MiB less available: the charts and the controls line move.
            let mut s = base();
            s.mem_free -= 300 * MIB;
            s.mem_available = s.mem_available.map(|a| a - 300 * MIB);
            s.vmalloc_used += 300 * MIB;
            after.on_sample(Point {
                t: before.now + 1.5,
                unix_ms: 1_700_000_061_500,
                sample: Some(s),
                vmalloc_largest_free: Some(1 << 40),
            });
            after.on_tick(before.now + 1.5);
            let (a, b) = (render_buffer(&before, w, h), render_buffer(&after, w, h));
            if w >= 80 {
                assert_ne!(a, b, "{name} {w}x{h}: the sample shows");
            }
            let mut drawn = super::damage::Drawn::default();
            super::damage::after_full(&before, a.area, &mut drawn);
            let parts = super::damage::after_samples(&after, a.area, &mut drawn);
            if super::too_small(&before, a.area).is_some() {
                // The one line that says so is drawn whole.
                assert!(parts.is_none(), "{name} {w}x{h}: too small, drawn whole");
                continue;
            }
            let parts = parts.unwrap_or_else(|| panic!("{name} {w}x{h}: parts, not whole"));
            for pos in a.area.positions() {
                if a[pos] != b[pos] {
                    assert!(
                        parts.iter().any(|p| p.rect.contains(pos)),
                        "{name} {w}x{h}: {pos:?} changed outside {:?}",
                        parts.iter().map(|p| p.rect).collect::<Vec<_>>()
                    );
                }
            }
        }
    }
    // Overlays cover the charts: the whole screen is drawn.
    let mut help = idle();
    let area = ratatui::layout::Rect::new(0, 0, 160, 45);
    let mut drawn = super::damage::Drawn::default();
    super::damage::after_full(&help, area, &mut drawn);
    help.update(Action::ToggleHelp);
    assert!(super::damage::after_samples(&help, area, &mut drawn).is_none());
    // So is a screen never drawn whole, or of another size.
    let idle = idle();
    assert!(super::damage::after_samples(&idle, area, &mut Default::default()).is_none());
    super::damage::after_full(&idle, area, &mut drawn);
    assert!(super::damage::after_samples(
        &idle,
        ratatui::layout::Rect::new(0, 0, 80, 24),
        &mut drawn
    )
    .is_none());
}

/// A sample that moves nothing visible draws nothing: flat lines over a full window at
/// 10 Hz, each new sample a few KiB off the last (the same dot rows, the same figures). The
/// lines' ends still move now and then (the end buckets keep other samples): those samples
/// draw something, and only there.
#[test]
fn a_sample_that_moves_nothing_visible_draws_nothing() {
    let mut app = app_with(kernel(true, true));
    let sample = |i: u64| {
        let mut s = base();
        s.mem_free -= (i % 3) * 4 * KIB;
        s.vmalloc_used += (i % 2) * 8 * KIB;
        s
    };
    let point = |i: u64| Point {
        t: i as f64 * 0.1,
        unix_ms: 1_700_000_000_000 + i * 100,
        sample: Some(sample(i)),
        vmalloc_largest_free: Some(1 << 40),
    };
    for i in 0..400 {
        app.on_sample(point(i));
    }
    let mut still = 0;
    for (w, h) in [(160, 45), (80, 24), (120, 30)] {
        let area = ratatui::layout::Rect::new(0, 0, w, h);
        let mut drawn = super::damage::Drawn::default();
        let mut now = app.clone();
        super::damage::after_full(&now, area, &mut drawn);
        for i in 400..460 {
            let before = render_buffer(&now, w, h);
            now.on_sample(point(i));
            now.on_tick(i as f64 * 0.1 + 0.000_05);
            let after = render_buffer(&now, w, h);
            let parts = super::damage::after_samples(&now, area, &mut drawn).expect("parts");
            let rects: Vec<_> = parts.iter().map(|p| p.rect).collect();
            if before == after {
                still += 1;
                assert!(rects.is_empty(), "{w}x{h} sample {i}: {rects:?}");
            } else {
                // Only the columns at the lines' ends, a cell or two.
                assert!(
                    rects.iter().all(|r| r.width <= 2),
                    "{w}x{h} sample {i}: {rects:?}"
                );
            }
        }
    }
    assert!(still >= 90, "{still} of 180 samples moved nothing");
}

#[test]
fn box_rows_follow_word_wrapping() {
    use super::wrapped_rows;
    assert_eq!(wrapped_rows("", 10), 1);
    assert_eq!(wrapped_rows("abc def", 7), 1);
    assert_eq!(wrapped_rows("abc defg", 7), 2, "the word moves down whole");
    assert_eq!(
        wrapped_rows("abcdefghijklmnop", 7),
        3,
        "a long word is broken"
    );
}

/// The buffer's text, one line per row, trailing blanks trimmed (for snapshots).
fn buffer_to_string(buf: &ratatui::buffer::Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        for x in area.left()..area.right() {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `render_line` draws what `Line`'s widget draws: every character its fast path takes, in
/// spans of several styles, cut at the area's edge, and a line it leaves to the widget.
#[test]
fn render_line_is_the_line_widget() {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::style::{Color, Modifier, Style};
    use ratatui::text::{Line, Span};
    use ratatui::widgets::Widget as _;

    let fast: Vec<char> = (0..0x3000u32)
        .filter_map(char::from_u32)
        .filter(|&c| super::one_cell(c))
        .collect();
    assert!(fast.len() > 1000, "{}", fast.len());
    let mut lines: Vec<Line> = fast
        .chunks(40)
        .map(|chunk| {
            let text: String = chunk.iter().collect();
            let (a, b) = text.split_at(text.char_indices().nth(15).map_or(0, |(i, _)| i));
            Line::from(vec![
                Span::styled(a.to_string(), Style::new().fg(Color::Cyan)),
                Span::raw(""),
                Span::styled(
                    b.to_string(),
                    Style::new().add_modifier(Modifier::DIM).bg(Color::Red),
                ),
            ])
        })
        .collect();
    // Not for the fast path: a wide character, a combining accent, a styled line.
    lines.push(Line::from("日本 e\u{301} ok"));
    lines.push(Line::from(vec![Span::raw("x"), Span::raw("\u{2705}")]));
    lines.push(Line::styled("styled", Style::new().fg(Color::Green)));
    for line in &lines {
        for width in [3u16, 17, 40, 60] {
            let area = Rect::new(2, 1, width, 1);
            let whole = Rect::new(0, 0, 70, 3);
            let (mut ours, mut theirs) = (Buffer::empty(whole), Buffer::empty(whole));
            // Something underneath, as on a title rule.
            for b in [&mut ours, &mut theirs] {
                for x in 0..70 {
                    b[(x, 1)]
                        .set_symbol("─")
                        .set_style(Style::new().fg(Color::DarkGray));
                }
            }
            super::render_line(&mut ours, area, line);
            line.render(area, &mut theirs);
            assert_eq!(ours, theirs, "{line:?} in {width}");
        }
    }
}
