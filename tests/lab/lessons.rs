//! Issue 19: bundled lessons run to their last step in the lab VM as a teacher runs them:
//! `vmtop lab --lesson NAME` in tmux, `n` typed for every page, the lesson pane read from the
//! screen; then the transcript the VM wrote (through its own serial port) is checked step by
//! step. On every 64-bit lab kernel (`make test` runs this file once per kernel).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::tmux::{widest, Tmux};
use crate::common::{temp_dir, vmtop};

/// The lesson pane's title line on `screen` ("Lesson · NAME · step k of n").
fn pane_title(screen: &str) -> Option<&str> {
    screen.lines().find(|l| l.contains(" Lesson · "))
}

/// The kernel has answered the step on screen.
fn answered(screen: &str) -> bool {
    ["The kernel agreed", "answered differently", "What happened"]
        .iter()
        .any(|w| screen.contains(w))
}

/// A screen that holds twice in a row 400 ms apart: the VM's frames come over a serial line,
/// and a capture in the middle of one mixes two pages.
fn settled(t: &Tmux, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let s = t.wait_for(
            what,
            secs.saturating_sub(start.elapsed().as_secs()).max(1),
            &pred,
        );
        std::thread::sleep(Duration::from_millis(400));
        let again = t.screen();
        if pred(&again) && pane_title(&again) == pane_title(&s) {
            return again;
        }
    }
}

/// Press `n` page after page until the lesson's end page; `on_page` sees each page once it
/// has settled, before `n` is pressed on it (the question before the action, the verdict
/// after it). Returns the end page.
fn to_the_end(t: &Tmux, lesson: &str, on_page: &mut dyn FnMut(&str)) -> String {
    let mut s = settled(t, "the lesson's first page", 240, |s| {
        s.contains(&format!("Lesson · {lesson} · start")) && s.contains("q quit")
    });
    for _ in 0..60 {
        on_page(&s);
        if s.contains("The lesson is over") {
            return s;
        }
        let title = pane_title(&s).unwrap_or_default().to_string();
        let was_answered = answered(&s);
        t.keys(&["n"]);
        s = settled(t, "the next page or the kernel's answer", 300, |now| {
            let moved = pane_title(now).is_some_and(|x| x != title);
            let verdict = !was_answered && answered(now) && !now.contains("running:");
            (moved || verdict) && now.contains("q quit")
        });
    }
    panic!("no end page after 60 presses of n:\n{s}");
}

fn transcript(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading the transcript {}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// (step, action's first word, outcome, cause) of each transcript line.
fn steps(t: &[Value]) -> Vec<(u64, String, String, String)> {
    t.iter()
        .map(|r| {
            (
                r["step"].as_u64().unwrap_or(0),
                r["action"]
                    .as_str()
                    .and_then(|a| a.split_whitespace().next())
                    .unwrap_or("-")
                    .to_string(),
                r["outcome"].as_str().unwrap_or("-").to_string(),
                r["cause"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

fn row(step: u64, action: &str, outcome: &str, cause: &str) -> (u64, String, String, String) {
    (step, action.into(), outcome.into(), cause.into())
}

/// Run a bundled lesson in the lab with keys; returns the transcript.
fn run_with_keys(lesson: &str, on_page: &mut dyn FnMut(&str)) -> Vec<Value> {
    let dir = temp_dir(&format!("lesson-{lesson}"));
    let path = dir.path().join("transcript.jsonl");
    let t = Tmux::start(
        &format!("vmtop-lesson-{lesson}"),
        100,
        30,
        &format!(
            "{} lab --lesson {lesson} --transcript {}; echo EXITED=$?",
            vmtop(),
            path.display()
        ),
    );
    let end = to_the_end(&t, lesson, on_page);
    assert!(widest(&end) <= 100, "{end}");
    assert!(end.contains("0 did not"), "every step agreed:\n{end}");
    t.keys(&["q"]);
    let s = t.wait_for("the VM to power off", 120, |s| s.contains("EXITED="));
    assert!(s.contains("EXITED=0"), "{s}");
    transcript(&path)
}

#[test]
fn why_vmalloc_to_the_last_step_with_keys() {
    let mut asked = false;
    let mut answered_b = false;
    let mut buddy = false;
    let t = run_with_keys("why-vmalloc", &mut |s| {
        // The first step opens the buddyinfo pane itself.
        buddy |= s.contains("step 1 of 10") && s.contains("Free blocks per order");
        // kmalloc of 8 MiB: the question before the action, its answer only after.
        if s.contains("step 4 of 10") {
            if answered(s) {
                answered_b |=
                    s.contains("Answer: B) no") && s.contains("KMALLOC_MAX_SIZE is 4 MiB");
            } else {
                asked |= s.contains("Will kmalloc give us 8 MiB?") && !s.contains("Answer:");
            }
        }
    });
    assert!(buddy, "step 1 showed the buddyinfo pane");
    assert!(asked, "the question was on screen before the load");
    assert!(answered_b, "the answer and notice after it");
    assert_eq!(
        steps(&t),
        vec![
            row(1, "-", "-", "-"),
            row(2, "load", "loaded", "-"),
            row(3, "unload", "unloaded", "-"),
            row(4, "load", "failed", "kmalloc_above_max"),
            row(5, "load", "failed", "order_above_max"),
            row(6, "load", "loaded", "-"),
            row(7, "unload", "unloaded", "-"),
            row(8, "load", "loaded", "-"),
            row(9, "unload", "unloaded", "-"),
            row(10, "probe", "done", "physical_memory_short"),
        ]
    );
    for r in &t {
        assert_ne!(r["agreed"], false, "{r}");
        assert_eq!(r["lesson"], "why-vmalloc");
    }
    // kvmalloc's 64 MiB went to vmalloc: VmallocUsed grew by it.
    let kv = &t[5];
    let used = kv["delta_mib"]["vmalloc_used"]
        .as_f64()
        .expect("VmallocUsed change");
    assert!((63.0..=66.0).contains(&used), "{kv}");
    // kmalloc's 4 MiB is one run; vmalloc's 256 MiB many.
    assert!(
        t[1]["layout"]
            .as_str()
            .is_some_and(|l| l.starts_with("1 run,")),
        "{}",
        t[1]
    );
    let runs: u64 = t[7]["layout"]
        .as_str()
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("the 256 MiB buffer's runs");
    assert!(runs > 1, "{}", t[7]);
}

#[test]
fn fragmentation_to_the_last_step_with_keys() {
    let mut zero_order_10 = false;
    let t = run_with_keys("fragmentation", &mut |s| {
        // While the vmalloc buffer and the fragments are held, order 10 has no free block
        // (the pane's last column reads the largest free order, 9).
        if s.contains("step 5 of 8") && s.contains("The kernel agreed") {
            zero_order_10 |= s
                .lines()
                .filter(|l| l.trim_start().starts_with("N0 DMA32"))
                .any(|l| l.trim_end().ends_with(" 9"));
        }
    });
    assert!(
        zero_order_10,
        "no order-10 block while the fragments were held"
    );
    assert_eq!(
        steps(&t),
        vec![
            row(1, "-", "-", "-"),
            row(2, "load", "loaded", "-"),
            row(3, "unload", "unloaded", "-"),
            row(4, "load", "failed", "no_contiguous_block"),
            row(5, "load", "loaded", "-"),
            row(6, "unload", "unloaded", "-"),
            row(7, "load", "loaded", "-"),
            row(8, "unload", "unloaded", "-"),
        ]
    );
    for r in &t {
        assert_ne!(r["agreed"], false, "{r}");
    }
    // The machine the part asked for, compaction off from the kernel command line.
    assert_eq!(t[1]["machine"]["mem_mib"], 1024);
    assert!(t[1]["machine"]["append"]
        .as_str()
        .is_some_and(|a| a.contains("sysctl.vm.extfrag_threshold=1000")));
    // Hundreds of MiB were free when the 4 MiB alloc_pages failed.
    let free = t[3]["figures_mib"]["MemFree"].as_f64().expect("MemFree");
    assert!(free > 300.0, "{}", t[3]);
}
