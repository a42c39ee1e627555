use std::time::Duration;

use super::*;
use crate::diagnose::{Cause, Confidence, Diagnosis};
use crate::engine::Outcome as EngineOutcome;
use crate::lesson::{Load, Wait};

const LESSON: &str = r#"format_version = 1
title = "T"
summary = "S"

[[part]]
title = "Here"
machine = "this"

[[part.step]]
say = "Look."

[[part.step]]
say = "kmalloc 8 MiB."
question = { ask = "Loads?", choices = ["yes", "no"], answer = "B" }
action = { load = "8M", alloc = "kmalloc" }
notice = "It cannot."
expect = { outcome = "failed", cause = "kmalloc_above_max" }

[[part.step]]
say = "vmalloc 64 MiB."
action = { load = "64M" }
expect = { outcome = "loaded", vmalloc_used_mib = [63, 66] }

[[part.step]]
say = "Unload."
action = "unload"
expect = { outcome = "unloaded" }

[[part]]
title = "There"
machine = { arch = "i386", mem_mib = 384, swap_mib = 512 }

[[part.step]]
say = "Far away."
action = { load = "500M", mode = "unsafe", force = true }
expect = { outcome = "failed", cause = "exceeds_total_pages" }
"#;

fn facts() -> MachineFacts {
    MachineFacts {
        arch: "x86_64".into(),
        mem_mib: 978,
        swap_mib: 0,
        append: None,
    }
}

fn here(in_lab: bool, only_part: Option<usize>) -> Here {
    Here {
        in_lab,
        only_part,
        facts: facts(),
        kernel: "6.1.0-57-amd64".into(),
        lesson_arg: "t.toml".into(),
    }
}

fn lesson_run(in_lab: bool, only_part: Option<usize>) -> LessonRun {
    let l = crate::lesson::file::parse(LESSON, "t", "t.toml").expect("test lesson");
    LessonRun::new(l, here(in_lab, only_part))
}

fn event(kind: EventKind, mib: u64, cause: Option<Cause>, vmalloc_mib: i64) -> Event {
    Event {
        t: 1.0,
        kind,
        memsize_mib: mib,
        oom_safe: true,
        outcome: match cause {
            None => EngineOutcome::Ok,
            Some(cause) => EngineOutcome::Failed {
                diagnosis: Diagnosis {
                    cause,
                    confidence: Confidence::Certain,
                    summary: format!("diagnosis {cause:?}"),
                    detail: String::new(),
                    evidence: Vec::new(),
                },
            },
        },
        wall_ns: 1,
        alloc_ns: None,
        fill_ns: None,
        module_line: None,
        delta: Some(Delta {
            mem_free: -vmalloc_mib * MIB as i64,
            mem_available: -vmalloc_mib * MIB as i64,
            vmalloc_used: vmalloc_mib * MIB as i64,
        }),
        alloc: Some(Allocator::Vmalloc),
    }
}

fn expect(outcome: Outcome) -> Expect {
    Expect {
        outcome,
        cause: None,
        mem_free_mib: None,
        mem_available_mib: None,
        vmalloc_used_mib: None,
        largest_mib: None,
        largest_loaded_mib: Vec::new(),
    }
}

#[test]
fn observations_name_the_outcome_the_transcript_uses() {
    let o = Observation::from_event(&event(EventKind::Load, 64, None, 64), None);
    assert_eq!(o.outcome, Outcome::Loaded);
    assert_eq!(o.memsize_mib, Some(64));
    assert!(
        o.happened().starts_with("loaded: MemFree -64.0 MiB"),
        "{}",
        o.happened()
    );
    let o = Observation::from_event(&event(EventKind::Unload, 64, None, -64), None);
    assert_eq!(o.outcome, Outcome::Unloaded);
    let o = Observation::from_event(
        &event(EventKind::Load, 900, Some(Cause::RefusedByGuard), 0),
        None,
    );
    assert_eq!(o.outcome, Outcome::NotAttempted);
    let o = Observation::from_event(
        &event(EventKind::Load, 500, Some(Cause::ExceedsTotalPages), 0),
        None,
    );
    assert_eq!(o.outcome, Outcome::Failed);
    assert_eq!(o.cause, Some(Cause::ExceedsTotalPages));
    assert_eq!(o.happened(), "failed (exceeds_total_pages, certain)");
}

#[test]
fn judge_says_every_difference_and_only_those() {
    let loaded = Observation::from_event(&event(EventKind::Load, 64, None, 64), None);
    let mut e = expect(Outcome::Loaded);
    e.vmalloc_used_mib = Some(Range {
        low: 63.0,
        high: 66.0,
    });
    assert_eq!(
        judge(&e, &loaded),
        Verdict {
            agreed: true,
            differences: vec![]
        }
    );
    e.mem_free_mib = Some(Range {
        low: -10.0,
        high: 0.0,
    });
    let v = judge(&e, &loaded);
    assert!(!v.agreed);
    assert_eq!(
        v.differences,
        vec!["MemFree changed by -64.0 MiB, expected -10 to 0 MiB".to_string()]
    );
    // A different outcome is said alone (the figures of a load that did not happen are moot).
    let mut e = expect(Outcome::Failed);
    e.cause = Some(Cause::KmallocAboveMax);
    e.vmalloc_used_mib = Some(Range {
        low: 0.0,
        high: 1.0,
    });
    let v = judge(&e, &loaded);
    assert_eq!(
        v.differences,
        vec!["outcome: expected failed, the kernel answered loaded".to_string()]
    );
    // Same outcome, another cause.
    let failed = Observation::from_event(
        &event(EventKind::Load, 8, Some(Cause::NoContiguousBlock), 0),
        None,
    );
    let v = judge(&e, &failed);
    assert_eq!(
        v.differences,
        vec![
            "cause: expected kmalloc_above_max, vmtop's diagnosis is no_contiguous_block"
                .to_string()
        ]
    );
    // A figure that was not measured does not agree.
    let mut bare = Observation::bare(Outcome::Loaded);
    bare.delta = None;
    let mut e = expect(Outcome::Loaded);
    e.vmalloc_used_mib = Some(Range {
        low: 1.0,
        high: 2.0,
    });
    assert!(!judge(&e, &bare).agreed);
    // A probe's and a compare's answers.
    let mut probe = Observation::bare(Outcome::Done);
    probe.largest_mib = Some(116);
    probe.cause = Some(Cause::AddressSpaceExhausted);
    let mut e = expect(Outcome::Done);
    e.cause = Some(Cause::AddressSpaceExhausted);
    e.largest_mib = Some(Range {
        low: 100.0,
        high: 120.0,
    });
    assert!(judge(&e, &probe).agreed);
    probe.largest_mib = Some(788);
    assert_eq!(
        judge(&e, &probe).differences,
        vec!["the largest load was 788 MiB, expected 100 to 120 MiB".to_string()]
    );
    let mut cmp = Observation::bare(Outcome::Done);
    cmp.largest_loaded_mib = vec![(Allocator::Kmalloc, 4), (Allocator::Vmalloc, 64)];
    let mut e = expect(Outcome::Done);
    e.largest_loaded_mib = vec![(Allocator::Kmalloc, 4), (Allocator::Vmalloc, 8)];
    assert_eq!(
        judge(&e, &cmp).differences,
        vec!["vmalloc loaded up to 64 MiB, expected 8 MiB".to_string()]
    );
}

#[test]
fn on_this_machine_lab_parts_are_skipped_with_their_command() {
    let mut r = lesson_run(false, None);
    assert_eq!(
        r.pages,
        vec![
            Page::Title,
            Page::Part(0),
            Page::Step(0, 0),
            Page::Step(0, 1),
            Page::Step(0, 2),
            Page::Step(0, 3),
            Page::Skipped(1),
            Page::End
        ]
    );
    assert_eq!(r.position(), (0, 4));
    // Title, part: on.
    assert_eq!(r.next(false), Next::Moved);
    assert_eq!(r.next(false), Next::Moved);
    // A step that only speaks: a line with no action, and on.
    assert_eq!(r.next(false), Next::Moved);
    assert_eq!(r.take_new_records().len(), 1);
    assert_eq!(r.records[0].action, None);
    assert_eq!(r.records[0].step, Some(1));
    assert_eq!(r.position(), (2, 4));
    // The kmalloc step: runs its action, the answer agrees.
    let Next::Run(Action::Load(Load {
        memsize_mib: 8,
        alloc: Allocator::Kmalloc,
        ..
    })) = r.next(false)
    else {
        panic!("the kmalloc step runs its load")
    };
    // While it runs, n waits and b stays.
    r.started(3.0);
    assert!(matches!(r.next(false), Next::Wait(_)));
    assert!(!r.back());
    r.on_observation(Observation::from_event(
        &event(EventKind::Load, 8, Some(Cause::KmallocAboveMax), 0),
        None,
    ));
    let rec = r.take_new_records()[0].clone();
    assert_eq!(rec.outcome.as_deref(), Some("failed"));
    assert_eq!(rec.cause.as_deref(), Some("kmalloc_above_max"));
    assert_eq!(rec.agreed, Some(true));
    assert_eq!(rec.machine, facts());
    assert_eq!(
        rec.expected,
        Some(json!({"outcome": "failed", "cause": "kmalloc_above_max"}))
    );
    assert_eq!(rec.memsize_mib, Some(8));
    // Back to look, then forward: nothing is rerun.
    assert!(r.back());
    assert_eq!(r.page(), Page::Step(0, 0));
    assert_eq!(r.next(false), Next::Moved);
    assert_eq!(r.next(false), Next::Moved);
    assert_eq!(r.page(), Page::Step(0, 2));
    assert!(r.take_new_records().is_empty());
    // A load while the module is loaded (off script) waits.
    assert!(matches!(r.next(true), Next::Wait(w) if w.contains("press u")));
    // The 64 MiB load disagrees (VmallocUsed +10).
    assert!(matches!(r.next(false), Next::Run(_)));
    r.started(5.0);
    r.on_observation(Observation::from_event(
        &event(EventKind::Load, 64, None, 10),
        None,
    ));
    let rec = r.take_new_records()[0].clone();
    assert_eq!(rec.agreed, Some(false));
    assert_eq!(
        rec.differences,
        vec!["VmallocUsed changed by +10.0 MiB, expected 63 to 66 MiB".to_string()]
    );
    assert_eq!(r.tally(), (1, 1, 1));
    // Unload, then the lab part: skipped, with the command, once.
    assert_eq!(r.next(false), Next::Moved);
    assert_eq!(r.next(true), Next::Run(Action::Unload));
    r.started(6.0);
    r.on_observation(Observation::from_event(
        &event(EventKind::Unload, 64, None, -64),
        None,
    ));
    assert_eq!(r.next(false), Next::Moved);
    assert_eq!(r.page(), Page::Skipped(1));
    assert_eq!(r.next(false), Next::Moved);
    let recs = r.take_new_records().to_vec();
    let skipped = recs.last().expect("the skipped part's line");
    assert_eq!(skipped.outcome.as_deref(), Some("skipped"));
    assert_eq!(
        skipped.run_with.as_deref(),
        Some("vmtop lab --lesson t.toml --part 2")
    );
    assert_eq!(skipped.machine.arch, "i386");
    assert_eq!(skipped.machine.swap_mib, 512);
    assert!(r.back());
    assert_eq!(r.next(false), Next::Moved);
    assert!(r.take_new_records().is_empty(), "skipped once");
    assert!(r.finished());
    assert_eq!(r.next(false), Next::Finished);
}

#[test]
fn in_the_lab_a_part_runs_alone_on_its_machine() {
    let mut r = lesson_run(true, Some(1));
    assert_eq!(r.pages, vec![Page::Part(1), Page::Step(1, 0), Page::End]);
    assert_eq!(r.next(false), Next::Moved);
    assert!(matches!(r.next(false), Next::Run(Action::Load(_))));
    r.started(1.0);
    r.on_observation(Observation::from_event(
        &event(EventKind::Load, 500, Some(Cause::ExceedsTotalPages), 0),
        None,
    ));
    let rec = &r.take_new_records()[0];
    assert_eq!((rec.part, rec.step), (2, Some(1)));
    assert_eq!(
        rec.machine,
        MachineFacts {
            arch: "i386".into(),
            mem_mib: 384,
            swap_mib: 512,
            append: None
        }
    );
    assert_eq!(rec.agreed, Some(true));
    let line = serde_json::to_string(rec).expect("json");
    for key in [
        "\"part\":2",
        "\"step\":1",
        "\"machine\":{\"arch\":\"i386\",\"mem_mib\":384,\"swap_mib\":512,\"append\":null}",
        "\"memsize_mib\":500",
        "\"outcome\":\"failed\"",
        "\"cause\":\"exceeds_total_pages\"",
        "\"agreed\":true",
    ] {
        assert!(line.contains(key), "{key} in {line}");
    }
}

#[test]
fn loads_from_the_keys_are_off_script() {
    let mut r = lesson_run(false, None);
    r.next(false);
    r.on_off_script(&event(EventKind::Load, 300, None, 300));
    let rec = &r.take_new_records()[0];
    assert!(rec.off_script);
    assert_eq!(rec.action.as_deref(), Some("load 300 MiB vmalloc"));
    assert_eq!(rec.outcome.as_deref(), Some("loaded"));
    assert_eq!(rec.agreed, None);
    assert!(r.off_script[0].starts_with("off script: load 300 MiB vmalloc: loaded"));
}

#[test]
fn waits_and_pauses_end_on_time_or_on_the_figure() {
    let pause = Action::Pause(Duration::from_secs(2));
    assert_eq!(timer_observation(&pause, 1.0, None), None);
    assert_eq!(
        timer_observation(&pause, 2.0, None).map(|o| o.outcome),
        Some(Outcome::Done)
    );
    let wait = Action::Wait(Wait {
        figure: "MemAvailable".into(),
        above: false,
        mib: 200,
        timeout: Duration::from_secs(30),
    });
    assert_eq!(timer_observation(&wait, 1.0, Some(300.0)), None);
    let o = timer_observation(&wait, 1.0, Some(199.5)).expect("crossed");
    assert_eq!(o.outcome, Outcome::Reached);
    assert_eq!(o.summary.as_deref(), Some("MemAvailable at 199.5 MiB"));
    let o = timer_observation(&wait, 30.0, Some(300.0)).expect("timed out");
    assert_eq!(o.outcome, Outcome::TimedOut);
    // No reading is not a crossing.
    assert_eq!(timer_observation(&wait, 1.0, None), None);
}

#[test]
fn meminfo_figures_and_this_machine() {
    let text = "MemTotal:        1002084 kB\nMemFree:          842560 kB\nSwapTotal:        524284 kB\nCached: 10 kB\n";
    assert_eq!(figure_mib(text, "MemFree"), Some(842_560.0 / 1024.0));
    assert_eq!(figure_mib(text, "Mem"), None);
    assert_eq!(figure_mib(text, "Buffers"), None);
    assert_eq!(
        figures_json(text),
        json!({"MemTotal": 978.6, "MemFree": 822.8, "SwapTotal": 512.0})
    );
    assert_eq!(
        MachineFacts::here(text, "i686"),
        MachineFacts {
            arch: "i386".into(),
            mem_mib: 979,
            swap_mib: 512,
            append: None
        }
    );
}
