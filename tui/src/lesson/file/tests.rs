use super::*;
use crate::diagnose::Cause;
use crate::lesson::bundled;

/// A minimal good lesson; `{STEPS}` is replaced by the steps under test.
const HEAD: &str = r#"format_version = 1
title = "T"
summary = "S"

[[part]]
title = "P"
machine = "this"
"#;

fn parse_text(text: &str) -> Result<Lesson, LessonError> {
    parse(text, "t", "t.toml")
}

/// The error for `text`, which must fail.
fn error(text: &str) -> LessonError {
    match parse_text(text) {
        Ok(l) => panic!("accepted a bad lesson: {l:?}\n{text}"),
        Err(e) => e,
    }
}

/// The 1-based line of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} not in the text"))
}

/// `steps` under the good head fails on the line holding `at`, with `words` in the message.
fn fails_at(steps: &str, at: &str, words: &[&str]) {
    let text = format!("{HEAD}{steps}");
    let e = error(&text);
    assert_eq!(e.file, "t.toml");
    assert_eq!(e.line, line_of(&text, at), "{e}\n{text}");
    let shown = e.to_string();
    assert!(shown.starts_with(&format!("t.toml:{}:", e.line)), "{shown}");
    assert!(!shown.contains('\n'), "one line: {shown}");
    for w in words {
        assert!(shown.contains(w), "{w:?} not in {shown}");
    }
}

#[test]
fn every_bundled_lesson_parses() {
    assert_eq!(
        bundled::names(),
        [
            "meminfo",
            "why-vmalloc",
            "fragmentation",
            "oom",
            "article-2009"
        ]
    );
    for b in bundled::ALL {
        let l = crate::lesson::open(b.name).unwrap_or_else(|e| panic!("{}: {e}", b.name));
        assert_eq!(l.name, b.name);
        assert_eq!(l.source, format!("bundled:{}", b.name));
        assert!(l.step_count() >= 5, "{}: {} steps", b.name, l.step_count());
        // Every question is checked by an expectation (the parser insists).
        for s in l.parts.iter().flat_map(|p| &p.steps) {
            if s.question.is_some() {
                assert!(
                    s.expect.is_some() && s.action.is_some(),
                    "{}:{}",
                    b.name,
                    s.line
                );
            }
        }
    }
}

#[test]
fn the_article_lesson_is_the_articles_machine_and_steps() {
    let l = crate::lesson::open("article-2009").expect("bundled");
    let Machine::Lab(m) = &l.parts[0].machine else {
        panic!("part 1 is a lab machine")
    };
    assert_eq!((m.arch, m.mem_mib, m.swap_mib), (Arch::I386, 384, 512));
    // The article's order: 100, 300, 500, 400; plain vmalloc, no reserve.
    let loads: Vec<(u64, bool, Option<Outcome>, Option<Cause>)> = l.parts[0]
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            Some(Action::Load(ld)) => Some((
                ld.memsize_mib,
                ld.oom_safe,
                s.expect.as_ref().map(|e| e.outcome),
                s.expect.as_ref().and_then(|e| e.cause),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        loads,
        vec![
            (100, false, Some(Outcome::Loaded), None),
            (300, false, Some(Outcome::Loaded), None),
            (
                500,
                false,
                Some(Outcome::Failed),
                Some(Cause::ExceedsTotalPages)
            ),
            (
                400,
                false,
                Some(Outcome::Failed),
                Some(Cause::ExceedsTotalPages)
            ),
        ]
    );
    // Then 1 GiB 32-bit with and without vmalloc=768M.
    let shapes: Vec<(u64, Option<&str>)> = l
        .parts
        .iter()
        .filter_map(|p| match &p.machine {
            Machine::Lab(m) => Some((m.mem_mib, m.append.as_deref())),
            Machine::This => None,
        })
        .collect();
    assert_eq!(
        shapes,
        vec![
            (384, None),
            (384, Some("vmalloc=768M")),
            (1024, None),
            (1024, Some("vmalloc=768M"))
        ]
    );
}

#[test]
fn a_good_file_gives_every_field() {
    let text = format!(
        r#"{HEAD}
[[part.step]]
title = "One"
say = "Look at the charts."
show = ["buddyinfo"]

[[part.step]]
say = "Load."
question = {{ ask = "Will it load?", choices = ["yes", "no"], answer = "b" }}
action = {{ load = "8M", alloc = "kmalloc" }}
notice = "It did not."
expect = {{ outcome = "failed", cause = "kmalloc_above_max" }}

[[part.step]]
say = "Compare."
action = {{ compare = {{ sizes = ["4M", 8], allocs = ["kmalloc", "vmalloc"] }} }}
expect = {{ outcome = "done", largest_loaded_mib = {{ kmalloc = 4, vmalloc = 8 }} }}

[[part.step]]
say = "Wait."
action = {{ wait = "MemAvailable > 100M", timeout = "5s" }}
expect = {{ outcome = "reached" }}

[[part.step]]
say = "Load again."
action = {{ load = 64 }}
expect = {{ outcome = "loaded", mem_free_mib = [-70, -50.5], vmalloc_used_mib = [63, 66] }}

[[part.step]]
say = "Unload."
action = "unload"

[[part.step]]
say = "Pause."
action = {{ pause = "2s" }}

[[part]]
title = "Lab"
machine = {{ arch = "i386", mem_mib = 384, swap_mib = 512, append = "vmalloc=768M", kernel = "6.1" }}

[[part.step]]
say = "Probe."
action = {{ probe = {{ to = "512M" }} }}
expect = {{ outcome = "done", largest_mib = [100, 120], cause = "address_space_exhausted" }}

[[part.step]]
say = "Forced."
action = {{ load = "900M", mode = "unsafe", force = true }}
"#
    );
    let l = parse_text(&text).expect("good file");
    assert_eq!(l.name, "t");
    assert_eq!(l.parts.len(), 2);
    let s = &l.parts[0].steps;
    assert_eq!(s.len(), 7);
    assert_eq!(s[0].title.as_deref(), Some("One"));
    assert_eq!(s[0].show, vec![Pane::Buddyinfo]);
    assert_eq!(s[0].line, line_of(&text, "title = \"One\"") - 1);
    let q = s[1].question.as_ref().expect("question");
    assert_eq!((q.answer, q.choices.len()), (1, 2));
    assert_eq!(
        s[1].action,
        Some(Action::Load(Load {
            memsize_mib: 8,
            alloc: Allocator::Kmalloc,
            oom_safe: true,
            force: false,
            fragment_order: 0
        }))
    );
    assert_eq!(
        s[1].expect.as_ref().and_then(|e| e.cause),
        Some(Cause::KmallocAboveMax)
    );
    assert_eq!(
        s[2].action,
        Some(Action::Compare {
            sizes_mib: vec![4, 8],
            allocs: vec![Allocator::Kmalloc, Allocator::Vmalloc],
            fragment_order: 0
        })
    );
    assert_eq!(
        s[2].expect.as_ref().map(|e| e.largest_loaded_mib.clone()),
        Some(vec![(Allocator::Kmalloc, 4), (Allocator::Vmalloc, 8)])
    );
    assert_eq!(
        s[3].action,
        Some(Action::Wait(Wait {
            figure: "MemAvailable".into(),
            above: true,
            mib: 100,
            timeout: Duration::from_secs(5)
        }))
    );
    let e = s[4].expect.as_ref().expect("expect");
    assert_eq!(
        e.mem_free_mib,
        Some(Range {
            low: -70.0,
            high: -50.5
        })
    );
    assert_eq!(
        e.vmalloc_used_mib,
        Some(Range {
            low: 63.0,
            high: 66.0
        })
    );
    assert_eq!(s[5].action, Some(Action::Unload));
    assert_eq!(s[6].action, Some(Action::Pause(Duration::from_secs(2))));
    assert_eq!(
        l.parts[1].machine,
        Machine::Lab(LabMachine {
            arch: Arch::I386,
            mem_mib: 384,
            swap_mib: 512,
            append: Some("vmalloc=768M".into()),
            kernel: Some("6.1".into())
        })
    );
    assert!(matches!(
        l.parts[1].steps[1].action,
        Some(Action::Load(Load {
            force: true,
            oom_safe: false,
            ..
        }))
    ));
}

#[test]
fn toml_syntax_errors_name_their_line() {
    fails_at("[[part.step]]\nsay = \"unterminated\n", "unterminated", &[]);
}

#[test]
fn unknown_keys_list_what_is_accepted() {
    fails_at(
        "[[part.step]]\nnarration = \"hi\"\n",
        "narration",
        &["unknown field `narration`", "`say`", "`expect`"],
    );
    fails_at(
        "[[part.step]]\nsay = \"x\"\naction = { lod = \"4M\" }\n",
        "lod",
        &["unknown field `lod`", "`load`", "`unload`"],
    );
    fails_at(
        "[[part.step]]\nsay = \"x\"\naction = { load = \"4M\" }\nexpect = { outcome = \"loaded\", memfree = [1, 2] }\n",
        "memfree",
        &["unknown field `memfree`", "`mem_free_mib`"],
    );
}

#[test]
fn bad_values_say_what_is_accepted() {
    fails_at(
        "[[part.step]]\nsay = \"x\"\naction = { load = \"4M\", alloc = \"slab\" }\n",
        "slab",
        &[
            "\"slab\"",
            "vmalloc, kvmalloc, kmalloc, pages, vmalloc_huge",
        ],
    );
    fails_at(
        "[[part.step]]\nsay = \"x\"\naction = { load = \"300X\" }\n",
        "300X",
        &["invalid memsize", "300M"],
    );
    fails_at(
        "[[part.step]]\nsay = \"x\"\naction = { load = \"4M\", mode = \"risky\" }\n",
        "risky",
        &["\"safe\"", "\"unsafe\""],
    );
    fails_at(
        "[[part.step]]\nsay = \"x\"\naction = { load = \"4M\" }\nexpect = { outcome = \"worked\" }\n",
        "worked",
        &["loaded, failed, not_attempted"],
    );
    fails_at(
        "[[part.step]]\nsay = \"x\"\naction = { load = \"4M\" }\nexpect = { outcome = \"failed\", cause = \"too_big\" }\n",
        "too_big",
        &["exceeds_total_pages", "address_space_exhausted"],
    );
    fails_at(
        "[[part.step]]\nsay = \"x\"\naction = { pause = \"soon\" }\n",
        "soon",
        &["250ms"],
    );
    fails_at(
        "[[part.step]]\nsay = \"x\"\naction = { wait = \"MemFrei < 100M\" }\n",
        "MemFrei",
        &["MemAvailable"],
    );
    fails_at(
        "[[part.step]]\nsay = \"x\"\nshow = [\"slabtop\"]\n",
        "slabtop",
        &["buddyinfo"],
    );
    fails_at(
        "[[part.step]]\nsay = \"x\"\naction = { load = \"4M\" }\nexpect = { outcome = \"loaded\", mem_free_mib = [-50, -70] }\n",
        "mem_free_mib",
        &["lowest first"],
    );
}

#[test]
fn wrong_types_name_their_line() {
    let text = r#"format_version = 1
title = "T"
summary = "S"

[[part]]
title = "P"
machine = { mem_mib = "lots" }

[[part.step]]
say = "x"
"#;
    let e = error(text);
    assert_eq!(e.line, line_of(text, "lots"), "{e}");
    let e = error(&text.replace("{ mem_mib = \"lots\" }", "\"that\""));
    assert_eq!(e.line, line_of(text, "machine ="), "{e}");
    assert!(e.message.contains("\"this\""), "{e}");
}

#[test]
fn machines_that_cannot_boot_or_mean_nothing_are_refused() {
    let head = "format_version = 1\ntitle = \"T\"\nsummary = \"S\"\n[[part]]\ntitle = \"P\"\n";
    let step = "\n[[part.step]]\nsay = \"x\"\n";
    for (machine, words) in [
        ("{ mem_mib = 64 }", &["128 to 65536"][..]),
        (
            "{ mem_mib = 1024, append = \"vmalloc=768M\" }",
            &["32-bit", "arch = \"i386\""][..],
        ),
        (
            "{ arch = \"arm64\", mem_mib = 512 }",
            &["\"x86_64\" or \"i386\""][..],
        ),
        ("{ mem_mib = 512, swap_mib = 100000 }", &["0 (no swap)"][..]),
        (
            "{ mem_mib = 512, kernel = \"6.1 please\" }",
            &["release prefix"][..],
        ),
        (
            "{ mem_mib = 512, append = \"console=tty0\" }",
            &["set by the lab"][..],
        ),
    ] {
        let text = format!("{head}machine = {machine}{step}");
        let e = error(&text);
        assert_eq!(e.line, line_of(&text, "machine ="), "{e}");
        for w in words {
            assert!(e.message.contains(w), "{w:?} not in {e}");
        }
    }
}

#[test]
fn impossible_steps_are_refused_before_anything_runs() {
    // A load while the module is still loaded by an earlier step.
    fails_at(
        "[[part.step]]\nsay = \"a\"\naction = { load = \"4M\" }\nexpect = { outcome = \"loaded\" }\n[[part.step]] # second\nsay = \"b\"\naction = { load = \"8M\" }\n",
        "# second",
        &["line 8", "unload"],
    );
    // Unload with nothing loaded.
    fails_at(
        "[[part.step]] # here\nsay = \"a\"\naction = \"unload\"\n",
        "# here",
        &["nothing to unload"],
    );
    // A failed load leaves nothing to unload.
    fails_at(
        "[[part.step]]\nsay = \"a\"\naction = { load = \"8M\", alloc = \"kmalloc\" }\nexpect = { outcome = \"failed\" }\n[[part.step]] # here\nsay = \"b\"\naction = \"unload\"\n",
        "# here",
        &["nothing to unload"],
    );
    // Two actions in one step.
    fails_at(
        "[[part.step]]\nsay = \"a\"\naction = { load = \"4M\",\n unload = true }\n",
        "unload = true",
        &["load and unload"],
    );
    // A modifier of another verb.
    fails_at(
        "[[part.step]]\nsay = \"a\"\naction = { pause = \"1s\",\n alloc = \"kmalloc\" }\n",
        "alloc =",
        &["alloc goes with load"],
    );
    // force in safe mode; force on this machine.
    fails_at(
        "[[part.step]]\nsay = \"a\"\naction = { load = \"4M\",\n force = true }\n",
        "force",
        &["--mode unsafe"],
    );
    fails_at(
        "[[part.step]]\nsay = \"a\"\naction = { load = \"4M\", mode = \"unsafe\",\n force = true }\n",
        "force",
        &["OOM killer", "lab VM"],
    );
    // fragment_order beyond the largest order, or below the pageblock order.
    fails_at(
        "[[part.step]]\nsay = \"a\"\naction = { load = \"4M\",\n fragment_order = 8 }\n",
        "fragment_order",
        &["use 9", "pageblock"],
    );
    fails_at(
        "[[part.step]]\nsay = \"a\"\naction = { load = \"4M\",\n fragment_order = 11 }\n",
        "fragment_order",
        &["use 9", "to 10"],
    );
    // An outcome the action cannot have, a cause that contradicts it.
    fails_at(
        "[[part.step]]\nsay = \"a\"\naction = { pause = \"1s\" }\nexpect = { outcome = \"loaded\" }\n",
        "outcome",
        &["a pause cannot end loaded", "done"],
    );
    fails_at(
        "[[part.step]]\nsay = \"a\"\naction = { load = \"4M\" }\nexpect = { outcome = \"loaded\", cause = \"oom_killed\" }\n",
        "oom_killed",
        &["has no cause"],
    );
    fails_at(
        "[[part.step]]\nsay = \"a\"\naction = { load = \"4M\" }\nexpect = { outcome = \"failed\", cause = \"refused_by_guard\" }\n",
        "refused_by_guard",
        &["not_attempted"],
    );
    fails_at(
        "[[part.step]]\nsay = \"a\"\naction = { pause = \"1s\" }\nexpect = { outcome = \"done\",\n mem_free_mib = [1, 2] }\n",
        "mem_free_mib",
        &["a pause has none"],
    );
    // A compare's expectation about a size it does not try.
    fails_at(
        "[[part.step]]\nsay = \"a\"\naction = { compare = { sizes = [\"4M\", \"8M\"] } }\nexpect = { outcome = \"done\", largest_loaded_mib = { kmalloc =\n 16 } }\n",
        " 16 }",
        &["4, 8 MiB"],
    );
}

#[test]
fn questions_need_a_checked_answer() {
    fails_at(
        "[[part.step]]\nsay = \"a\"\nquestion = { ask = \"?\", choices = [\"x\", \"y\"], answer = \"A\" }\n",
        "question",
        &["expect"],
    );
    fails_at(
        "[[part.step]]\nsay = \"a\"\naction = { load = \"4M\" }\nexpect = { outcome = \"loaded\" }\nquestion = { ask = \"?\", choices = [\"x\", \"y\"], answer = \"C\" }\n",
        "question",
        &["\"C\"", "A, B"],
    );
    fails_at(
        "[[part.step]]\nsay = \"a\"\naction = { load = \"4M\" }\nexpect = { outcome = \"loaded\" }\nquestion = { ask = \"?\", choices = [\"x\"], answer = \"A\" }\n",
        "question",
        &["2 to 4"],
    );
}

#[test]
fn a_notice_after_an_action_needs_an_expectation() {
    fails_at(
        "[[part.step]]\nsay = \"a\"\naction = { load = \"4M\" }\nnotice = \"it loaded\"\n",
        "notice",
        &["expect"],
    );
    // Without an action the notice is said at once.
    let text = format!("{HEAD}[[part.step]]\nsay = \"a\"\nnotice = \"look\"\n");
    assert!(parse_text(&text).is_ok());
}

#[test]
fn texts_must_fit_the_pane() {
    let long = "word ".repeat(80);
    fails_at(
        &format!("[[part.step]]\nsay = \"{long}\"\n"),
        "word word",
        &["at most 360", "split the step"],
    );
    fails_at("[[part.step]]\nsay = \"  \"\n", "say =", &["empty"]);
}

#[test]
fn the_lesson_level_is_checked_too() {
    let e = error("format_version = 2\ntitle = \"T\"\nsummary = \"S\"\npart = []\n");
    assert_eq!(e.line, 1);
    assert!(e.message.contains("format_version = 1"), "{e}");
    let e = error("format_version = 1\ntitle = \"T\"\nsummary = \"S\"\npart = []\n");
    assert_eq!(e.line, 4);
    assert!(e.message.contains("at least one [[part]]"), "{e}");
    let e = error(&format!("{HEAD}step = []\n"));
    assert!(e.message.contains("at least one step"), "{e}");
    let e = error("title = \"T\"\n");
    assert!(e.message.contains("format_version"), "{e}");
}

#[test]
fn opening_by_name_or_path() {
    let e = crate::lesson::open("no-such-lesson").expect_err("unknown");
    assert!(e.to_string().contains("article-2009"), "{e}");
    assert_eq!(e.line, 0);
    let e = crate::lesson::open("/nonexistent/x.toml").expect_err("missing");
    assert!(
        e.to_string()
            .starts_with("/nonexistent/x.toml: cannot read"),
        "{e}"
    );
}

#[test]
fn line_and_column_count_characters() {
    assert_eq!(line_col("ab\ncd", 0), (1, 1));
    assert_eq!(line_col("ab\ncd", 4), (2, 2));
    assert_eq!(line_col("é\nx", 3), (2, 1));
    assert_eq!(line_col("ab", 99), (1, 3));
}

/// The complete example in docs/lessons.md is a good lesson: the documentation cannot rot.
#[test]
fn the_documented_example_parses() {
    let doc = include_str!("../../../../docs/lessons.md");
    let start = doc
        .find("```toml\n")
        .expect("docs/lessons.md has a ```toml example")
        + 8;
    let len = doc[start..].find("```").expect("the example ends");
    let l = parse(&doc[start..start + len], "example", "docs/lessons.md").expect("example parses");
    assert!(l.step_count() >= 4);
    assert!(l
        .parts
        .iter()
        .flat_map(|p| &p.steps)
        .any(|s| s.question.is_some()));
}
