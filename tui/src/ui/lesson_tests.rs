//! The lesson pane at 80x24 and 160x45, driven as a teacher drives it: keys through
//! `map_key` into `App::update`, the worker's answers (synthetic events: these test the
//! drawing and the runner, not that a load works; the lab tests do that) through the
//! handlers the dashboard's loop calls.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::tests::{app_with, fill, render};
use crate::app::lesson::LessonState;
use crate::app::state::tests::kernel;
use crate::app::{map_key, Action, App, Command};
use crate::diagnose::{Cause, Confidence, Diagnosis};
use crate::engine::{Event, EventKind, Outcome};
use crate::lesson::run::{Here, LessonRun, MachineFacts, Observation};
use crate::module::alloc::Allocator;
use crate::module::sysfs::ModuleStatus;
use crate::system::meminfo::Delta;
use crate::units::MIB;

fn with_lesson(name: &str) -> App {
    lesson_app(name, false)
}

/// `name` in the dashboard; `in_lab`: as in the lab VM, every part runs.
fn lesson_app(name: &str, in_lab: bool) -> App {
    let mut a = app_with(kernel(true, true));
    fill(&mut a, |_| 0);
    let lesson = crate::lesson::open(name).expect("bundled lesson");
    let here = Here {
        in_lab,
        only_part: None,
        facts: MachineFacts {
            arch: "x86_64".into(),
            mem_mib: 979,
            swap_mib: 0,
            append: None,
        },
        kernel: "6.1.0-56-amd64".into(),
        lesson_arg: name.into(),
    };
    a.lesson = Some(LessonState::new(LessonRun::new(lesson, here), None));
    a
}

/// Press `c` as the terminal sends it; returns the command for the worker, if any.
fn press(app: &mut App, c: char) -> Option<Command> {
    let mods = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    let action = map_key(KeyEvent::new(KeyCode::Char(c), mods), app.mode())
        .unwrap_or_else(|| panic!("{c:?} means nothing in {:?}", app.mode()));
    app.update(action)
}

fn event(
    kind: EventKind,
    mib: u64,
    alloc: Allocator,
    cause: Option<Cause>,
    held_mib: i64,
) -> Event {
    Event {
        t: 60.0,
        kind,
        memsize_mib: mib,
        oom_safe: true,
        outcome: match cause {
            None => Outcome::Ok,
            Some(cause) => Outcome::Failed {
                diagnosis: Diagnosis {
                    cause,
                    confidence: Confidence::Certain,
                    summary: format!("Asked {mib} MiB of kmalloc, above KMALLOC_MAX_SIZE (4 MiB)"),
                    detail: String::new(),
                    evidence: vec![],
                },
            },
        },
        wall_ns: 1_000_000,
        alloc_ns: None,
        fill_ns: None,
        module_line: None,
        delta: Some(Delta {
            mem_free: -held_mib * MIB as i64,
            mem_available: -held_mib * MIB as i64,
            vmalloc_used: if alloc == Allocator::Vmalloc {
                held_mib * MIB as i64
            } else {
                0
            },
        }),
        alloc: (kind == EventKind::Load).then_some(alloc),
    }
}

/// What the dashboard's worker does with a lesson command: the event, the answer, idle.
fn answer(app: &mut App, cmd: Option<Command>, e: Event) {
    assert!(matches!(cmd, Some(Command::Lesson(_))), "{cmd:?}");
    let loaded = !e.failed() && e.kind == EventKind::Load;
    app.on_event(e.clone());
    app.on_lesson_done(Observation::from_event(&e, None));
    app.on_status(ModuleStatus {
        loaded,
        memsize_mib: loaded.then_some(e.memsize_mib),
        ..Default::default()
    });
    app.on_idle();
}

/// why-vmalloc up to the kmalloc 8 MiB step, its question on screen.
fn at_kmalloc_8m() -> App {
    let mut a = with_lesson("why-vmalloc");
    // Title, part, the talk about orders (it opens the buddyinfo pane), then kmalloc 4 MiB.
    for _ in 0..3 {
        assert_eq!(press(&mut a, 'n'), None);
    }
    assert!(a.buddy_pane, "the step's show = [\"buddyinfo\"] opened it");
    press(&mut a, 'B');
    assert!(!a.buddy_pane, "B closes it in a lesson");
    let cmd = press(&mut a, ' ');
    answer(
        &mut a,
        cmd,
        event(EventKind::Load, 4, Allocator::Kmalloc, None, 4),
    );
    press(&mut a, 'n');
    let cmd = press(&mut a, 'n');
    answer(
        &mut a,
        cmd,
        event(EventKind::Unload, 4, Allocator::Kmalloc, None, -4),
    );
    press(&mut a, 'n');
    a
}

fn snap(name: &str, app: &App) -> Vec<String> {
    [(80, 24), (160, 45)]
        .into_iter()
        .map(|(w, h)| {
            let text = render(app, w, h);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), text);
            text
        })
        .collect()
}

#[test]
fn lesson_question_before_the_action() {
    let a = at_kmalloc_8m();
    for s in snap("lesson_question", &a) {
        assert!(s.contains("step 4 of 10"), "{s}");
        assert!(s.contains("Will kmalloc give us 8 MiB?"), "{s}");
        assert!(s.contains("n runs: load 8 MiB kmalloc, safe"), "{s}");
        assert!(!s.contains("Answer:"), "{s}");
    }
}

#[test]
fn lesson_the_kernel_agreed() {
    let mut a = at_kmalloc_8m();
    let cmd = press(&mut a, 'n');
    answer(
        &mut a,
        cmd,
        event(
            EventKind::Load,
            8,
            Allocator::Kmalloc,
            Some(Cause::KmallocAboveMax),
            0,
        ),
    );
    for s in snap("lesson_agreed", &a) {
        assert!(
            s.contains("The kernel agreed: failed (kmalloc_above_max"),
            "{s}"
        );
        assert!(s.contains("Answer: B) no"), "{s}");
        assert!(s.contains("Notice: KMALLOC_MAX_SIZE is 4 MiB"), "{s}");
    }
    // The transcript line.
    let l = a.lesson.as_mut().expect("lesson");
    let r = l.run.records.last().expect("a line");
    assert_eq!((r.part, r.step), (1, Some(4)));
    assert_eq!(r.agreed, Some(true));
}

#[test]
fn lesson_the_kernel_answered_differently() {
    let mut a = at_kmalloc_8m();
    let cmd = press(&mut a, 'n');
    // A kernel that gives kmalloc 8 MiB (say, bigger pages): not what the lesson says.
    answer(
        &mut a,
        cmd,
        event(EventKind::Load, 8, Allocator::Kmalloc, None, 8),
    );
    for s in snap("lesson_disagreed", &a) {
        assert!(s.contains("The kernel answered differently"), "{s}");
        assert!(s.contains("What happened: loaded"), "{s}");
        assert!(
            s.contains("The lesson expected: failed (kmalloc_above_max)"),
            "{s}"
        );
        // Never the expected result as if it had happened.
        assert!(!s.contains("Answer:"), "{s}");
        assert!(!s.contains("KMALLOC_MAX_SIZE is 4 MiB"), "{s}");
    }
    let r = a
        .lesson
        .as_ref()
        .and_then(|l| l.run.records.last())
        .expect("a line");
    assert_eq!(r.agreed, Some(false));
    // The next load step waits: the module is loaded, not by the lesson's plan.
    press(&mut a, 'n');
    assert_eq!(press(&mut a, 'n'), None);
    assert!(
        a.notice.as_deref().is_some_and(|n| n.contains("press u")),
        "{:?}",
        a.notice
    );
    // b goes back to look; nothing is rerun.
    press(&mut a, 'b');
    let s = render(&a, 80, 24);
    assert!(s.contains("The kernel answered differently"), "{s}");
}

#[test]
fn lesson_parts_for_another_machine_are_skipped_here() {
    let mut a = with_lesson("article-2009");
    press(&mut a, 'n');
    for s in snap("lesson_skipped", &a) {
        assert!(
            s.contains("vmtop lab --lesson article-2009 --part 1"),
            "{s}"
        );
        assert!(s.contains("i386 384 MiB, swap 512 MiB"), "{s}");
    }
}

#[test]
fn off_script_loads_are_noted() {
    let mut a = at_kmalloc_8m();
    // The teacher loads 300 MiB with the dashboard's own keys (--yes skips the dialog).
    a.yes = true;
    for c in ['3', '0', '0'] {
        press(&mut a, c);
    }
    a.update(Action::SubmitMemsize);
    let cmd = press(&mut a, 'l');
    assert!(matches!(cmd, Some(Command::Load(_))), "{cmd:?}");
    a.on_event(event(EventKind::Load, 300, Allocator::Vmalloc, None, 300));
    a.on_idle();
    let s = render(&a, 80, 24);
    assert!(
        s.contains("off script: load 300 MiB vmalloc: loaded"),
        "{s}"
    );
    let r = a
        .lesson
        .as_ref()
        .and_then(|l| l.run.records.last())
        .expect("a line");
    assert!(r.off_script);
}

/// Every bundled step, answered as its lesson expects (the longest the pane gets: the verdict,
/// the answer and the notice), shows its whole text at 80x24, the failure banner included.
#[test]
fn every_bundled_step_fits_the_pane_at_80x24() {
    use crate::lesson::run::Page;
    for b in crate::lesson::bundled::ALL {
        let mut a = lesson_app(b.name, true);
        let lesson = a.lesson.as_ref().expect("lesson").run.lesson.clone();
        for (p, part) in lesson.parts.iter().enumerate() {
            for (s, step) in part.steps.iter().enumerate() {
                let l = a.lesson.as_mut().expect("lesson");
                l.run.at = l
                    .run
                    .pages
                    .iter()
                    .position(|x| *x == Page::Step(p, s))
                    .expect("every step has its page in the lab");
                if let (Some(action), Some(e)) = (&step.action, &step.expect) {
                    // What the kernel answers when it agrees: each figure mid-range.
                    let mid = |r: Option<crate::lesson::Range>| {
                        r.map_or(0, |r| ((r.low + r.high) / 2.0 * MIB as f64) as i64)
                    };
                    let mut o = Observation::bare(e.outcome);
                    o.cause = e.cause;
                    o.summary = Some("x".repeat(60));
                    o.delta = Some(Delta {
                        mem_free: mid(e.mem_free_mib),
                        mem_available: mid(e.mem_available_mib),
                        vmalloc_used: mid(e.vmalloc_used_mib),
                    });
                    o.largest_mib = e.largest_mib.map(|r| ((r.low + r.high) / 2.0) as u64);
                    o.largest_loaded_mib = e.largest_loaded_mib.clone();
                    l.run.running = Some(((p, s), 0.0));
                    l.run.on_observation(o);
                    // A failure expected: the banner shows too, as it would.
                    if e.outcome == crate::lesson::Outcome::Failed {
                        a.on_event(event(EventKind::Load, 8, Allocator::Kmalloc, e.cause, 0));
                    }
                    let _ = action;
                    let agreed = a
                        .lesson
                        .as_ref()
                        .and_then(|l| l.run.answer(p, s))
                        .and_then(|x| x.verdict.as_ref())
                        .is_some_and(|v| v.agreed);
                    assert!(agreed, "{} part {} step {}", b.name, p + 1, s + 1);
                }
                let screen = render(&a, 80, 24);
                let last_words: String = step
                    .notice
                    .as_deref()
                    .filter(|_| step.expect.is_some() || step.action.is_none())
                    .unwrap_or(&step.say)
                    .split_whitespace()
                    .rev()
                    .take(2)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join(" ");
                let flat = screen.split_whitespace().collect::<Vec<_>>().join(" ");
                assert!(
                    flat.contains(&last_words),
                    "{} part {} step {}: {last_words:?} cut off:\n{screen}",
                    b.name,
                    p + 1,
                    s + 1
                );
                a.failure = None;
                // The kernel answering otherwise: the disagreement and what was expected show.
                if let (Some(_), Some(e)) = (&step.action, &step.expect) {
                    let other = if e.outcome == crate::lesson::Outcome::Loaded {
                        crate::lesson::Outcome::Failed
                    } else {
                        crate::lesson::Outcome::Loaded
                    };
                    let mut o = Observation::bare(other);
                    o.summary = Some("y".repeat(70));
                    let l = a.lesson.as_mut().expect("lesson");
                    l.run.answers[p][s] = None;
                    l.run.running = Some(((p, s), 0.0));
                    l.run.on_observation(o);
                    let screen = render(&a, 80, 24);
                    let flat = screen.split_whitespace().collect::<Vec<_>>().join(" ");
                    for want in ["answered differently", "The lesson expected:", "yyyy"] {
                        assert!(
                            flat.contains(want),
                            "{} part {} step {}: {want:?} cut off:\n{screen}",
                            b.name,
                            p + 1,
                            s + 1
                        );
                    }
                }
            }
        }
    }
}

/// On a machine that cannot load, a step's action still goes to the engine, which answers
/// "not attempted" with its cause: the lesson shows that rather than stall (`--auto` too).
#[test]
fn a_read_only_machine_gets_its_answer_not_a_stall() {
    let mut a = lesson_app("why-vmalloc", false);
    a.kernel = kernel(true, false);
    for _ in 0..3 {
        press(&mut a, 'n');
    }
    let cmd = press(&mut a, 'n');
    let refused = Event {
        outcome: Outcome::Failed {
            diagnosis: Diagnosis {
                cause: Cause::NoModuleSupport,
                confidence: Confidence::Certain,
                summary: "Kernel 6.1.0-56-amd64 cannot load modules".into(),
                detail: String::new(),
                evidence: vec![],
            },
        },
        ..event(EventKind::Load, 4, Allocator::Kmalloc, None, 0)
    };
    answer(&mut a, cmd, refused);
    let s = render(&a, 80, 24);
    assert!(
        s.contains("What happened: not attempted (no_module_support"),
        "{s}"
    );
    assert!(s.contains("answered differently"), "{s}");
}
