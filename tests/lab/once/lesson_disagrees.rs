//! Issue 19: a lesson whose expectations are wrong, run in the lab VM with keys. The kernel's
//! answer wins: the pane says the kernel answered differently, shows what happened and
//! vmtop's diagnosis, and never says the lesson's answer or notice; the transcript marks the
//! steps as not agreed, with what differed.

use crate::common::tmux::Tmux;
use crate::common::{temp_dir, vmtop};

const WRONG: &str = r#"format_version = 1
title = "A lesson that expects the wrong things"
summary = "Each expectation here is wrong on purpose: the kernel must be shown to disagree."

[[part]]
title = "Wrong on purpose"
machine = "this"

[[part.step]]
say = "kmalloc of 8 MiB; this lesson wrongly expects it to load."
question = { ask = "Will kmalloc give us 8 MiB?", choices = ["yes", "no"], answer = "A" }
action = { load = "8M", alloc = "kmalloc" }
notice = "WRONG-NOTICE-ONE"
expect = { outcome = "loaded" }

[[part.step]]
say = "Unload what the lesson thinks is loaded."
action = "unload"
expect = { outcome = "unloaded" }

[[part.step]]
say = "vmalloc of 64 MiB, with a wrong VmallocUsed range."
action = { load = "64M" }
notice = "WRONG-NOTICE-TWO"
expect = { outcome = "loaded", vmalloc_used_mib = [200, 300] }

[[part.step]]
say = "Unload it."
action = "unload"
expect = { outcome = "unloaded" }
"#;

#[test]
fn a_lesson_whose_expectation_is_wrong_shows_the_disagreement() {
    let dir = temp_dir("lesson-wrong");
    let file = dir.path().join("wrong.toml");
    std::fs::write(&file, WRONG).expect("writing the lesson");
    let transcript = dir.path().join("wrong.jsonl");
    let t = Tmux::start(
        "vmtop-lesson-wrong",
        100,
        30,
        &format!(
            "{} lab --lesson {} --transcript {}; echo EXITED=$?",
            vmtop(),
            file.display(),
            transcript.display()
        ),
    );
    t.wait_for("the lesson in the VM", 240, |s| {
        s.contains("Lesson · wrong · start")
    });
    // Title, part, then the kmalloc step: its question, then the kernel's answer.
    t.keys(&["n", "n"]);
    let s = t.wait_for("the question", 60, |s| {
        s.contains("Will kmalloc give us 8 MiB?") && s.contains("q quit")
    });
    assert!(!s.contains("answered differently"), "{s}");
    t.keys(&["n"]);
    let s = t.wait_for("the kernel's answer", 120, |s| {
        s.contains("answered differently")
            && s.contains("The lesson expected")
            && s.contains("q quit")
    });
    assert!(
        s.contains("What happened: failed (kmalloc_above_max"),
        "{s}"
    );
    assert!(s.contains("vmtop's diagnosis:"), "{s}");
    assert!(s.contains("The lesson expected: loaded"), "{s}");
    assert!(
        !s.contains("Answer:"),
        "the lesson's answer is not said:\n{s}"
    );
    assert!(!s.contains("WRONG-NOTICE-ONE"), "nor its notice:\n{s}");
    // The unload has nothing to unload: said, not sent to the kernel as if it were loaded.
    t.keys(&["n", "n"]);
    let s = t.wait_for("the unload's answer", 120, |s| {
        s.contains("step 2 of 4") && s.contains("answered differently") && s.contains("q quit")
    });
    assert!(s.contains("nothing to unload"), "{s}");
    // The 64 MiB load works, but not as the lesson says.
    t.keys(&["n", "n"]);
    let s = t.wait_for("the vmalloc load's answer", 120, |s| {
        s.contains("step 3 of 4") && s.contains("answered differently") && s.contains("q quit")
    });
    assert!(s.contains("VmallocUsed changed by +6"), "{s}");
    assert!(s.contains("expected 200 to 300 MiB"), "{s}");
    assert!(!s.contains("WRONG-NOTICE-TWO"), "{s}");
    t.keys(&["n", "n"]);
    t.wait_for("the unload's answer", 120, |s| {
        s.contains("step 4 of 4") && s.contains("The kernel agreed") && s.contains("q quit")
    });
    t.keys(&["n"]);
    let s = t.wait_for("the end page", 60, |s| s.contains("The lesson is over"));
    assert!(
        s.contains("1 steps agreed with the kernel, 3 did not"),
        "{s}"
    );
    t.keys(&["q"]);
    let s = t.wait_for("the VM to power off", 120, |s| s.contains("EXITED="));
    assert!(s.contains("EXITED=0"), "{s}");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&transcript)
        .expect("the transcript")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let agreed: Vec<&serde_json::Value> = lines.iter().map(|r| &r["agreed"]).collect();
    assert_eq!(
        agreed,
        [
            &serde_json::json!(false),
            &serde_json::json!(false),
            &serde_json::json!(false),
            &serde_json::json!(true)
        ]
    );
    assert_eq!(lines[0]["outcome"], "failed");
    assert_eq!(lines[0]["cause"], "kmalloc_above_max");
    assert_eq!(
        lines[0]["differences"][0],
        "outcome: expected loaded, the kernel answered failed"
    );
    assert_eq!(lines[0]["expected"]["outcome"], "loaded");
    assert_eq!(lines[0]["lesson"], "wrong");
}
