//! `vmtop lesson --check` and `--list` on the host: nothing runs, nothing needs a kernel.
//! A broken lesson file is one line naming the file, the line and what is accepted, exit 2.

use std::process::Command;

use crate::common::{temp_dir, vmtop};

/// `vmtop ARGS` (common::run): exit code (None for a signal), stdout, stderr.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let o = crate::common::run(Command::new(vmtop()).args(args));
    ((o.status >= 0).then_some(o.status), o.stdout, o.stderr)
}

#[test]
fn the_bundled_lessons_are_listed_and_check() {
    let (code, list, err) = run(&["lesson", "--list"]);
    assert_eq!(code, Some(0), "{err}");
    let names: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        names,
        [
            "meminfo",
            "why-vmalloc",
            "fragmentation",
            "oom",
            "article-2009"
        ],
        "{list}"
    );
    for name in names {
        let (code, out, err) = run(&["lesson", "--check", name]);
        assert_eq!(code, Some(0), "{name}: {err}");
        assert!(out.starts_with(&format!("ok: bundled:{name}:")), "{out}");
    }
}

#[test]
fn a_checked_file_from_the_checkout_is_the_bundled_text() {
    // The file a teacher copies and edits is the one the binary carries.
    let dir = crate::common::repo().join("lessons");
    let path = dir.join("why-vmalloc.toml");
    let (code, out, err) = run(&["lesson", "--check", path.to_str().expect("utf-8 path")]);
    assert_eq!(code, Some(0), "{err}");
    let (_, bundled, _) = run(&["lesson", "--check", "why-vmalloc"]);
    let plan = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(plan(&out), plan(&bundled));
    assert!(
        out.contains("load 8 MiB kmalloc, safe: expect failed (kmalloc_above_max)"),
        "{out}"
    );
}

#[test]
fn a_broken_file_gets_its_line_and_exit_2() {
    let dir = temp_dir("lesson-check");
    let good = std::fs::read_to_string(crate::common::repo().join("lessons/fragmentation.toml"))
        .expect("reading the bundled fragmentation lesson");
    // A typo in an allocator's name, on a known line.
    let bad = good.replacen("alloc = \"vmalloc\"", "alloc = \"vmaloc\"", 1);
    assert_ne!(bad, good);
    let line = bad
        .lines()
        .position(|l| l.contains("vmaloc"))
        .expect("the typo's line")
        + 1;
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, &bad).expect("writing the broken lesson");
    let shown = path.display().to_string();
    let (code, out, err) = run(&["lesson", "--check", &shown]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("vmtop: {shown}:{line}:")),
        "line {line} expected: {err}"
    );
    assert!(err.contains("vmalloc, kvmalloc, kmalloc, pages"), "{err}");
}

#[test]
fn a_missing_lesson_names_the_bundled_ones() {
    let (code, _, err) = run(&["lesson", "--check", "no-such-lesson"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("article-2009"), "{err}");
    let (code, _, err) = run(&["lesson"]);
    assert_eq!(code, Some(2), "{err}");
}

/// A broken file is refused with its line by every command that takes a lesson, before
/// anything runs (no VM boots, no dashboard opens).
#[test]
fn a_broken_lesson_is_refused_before_anything_runs() {
    let dir = temp_dir("lesson-broken");
    let path = dir.path().join("broken.toml");
    let text = "format_version = 1\ntitle = \"T\"\nsummary = \"S\"\n\n[[part]]\ntitle = \"P\"\nmachine = \"this\"\n\n[[part.step]]\nsay = \"x\"\naction = { load = \"4M\", mode = \"reckless\" }\n";
    std::fs::write(&path, text).expect("writing the lesson");
    let shown = path.display().to_string();
    for args in [
        vec!["lesson", shown.as_str()],
        vec!["lesson", shown.as_str(), "--auto"],
        vec!["lab", "--lesson", shown.as_str()],
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, Some(2), "{args:?}: {out}{err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with(&format!("vmtop: {shown}:11:")),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("\"safe\"") && err.contains("\"unsafe\""),
            "{err}"
        );
    }
}

/// Unattended on this machine: nothing is loaded (the module file given does not exist, and
/// the build machines cannot load modules at all), so every load is "not attempted" and the
/// lesson says the kernel's answer differs; lab parts are skipped with their command.
#[test]
fn an_unattended_lesson_here_says_what_it_could_not_do() {
    let dir = temp_dir("lesson-auto");
    let t = dir.path().join("t.jsonl");
    let (code, out, err) = run(&[
        "lesson",
        "why-vmalloc",
        "--auto",
        "--module",
        "/nonexistent/vmtop-test.ko",
        "--transcript",
        t.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        code,
        Some(1),
        "disagreements are reported by the exit code: {out}{err}"
    );
    assert!(
        out.contains("part 1 step 2: load 4 MiB kmalloc, safe: not_attempted"),
        "{out}"
    );
    assert!(
        out.contains("DIFFERENT: outcome: expected loaded, the kernel answered not_attempted"),
        "{out}"
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&t)
        .expect("the transcript")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 10);
    let load = &lines[1];
    assert_eq!(load["outcome"], "not_attempted");
    assert!(
        ["no_module_support", "module_file_missing"]
            .contains(&load["cause"].as_str().unwrap_or("")),
        "{load}"
    );
    assert_eq!(load["agreed"], false);
    // The unload after it is not sent to the kernel: nothing was loaded.
    assert_eq!(lines[2]["outcome"], "failed");
    assert!(lines[2]["summary"]
        .as_str()
        .is_some_and(|s| s.contains("nothing to unload")));

    // A lesson for other machines: every part skipped, with the command that runs it.
    let (code, out, err) = run(&[
        "lesson",
        "article-2009",
        "--auto",
        "--transcript",
        t.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    for k in 1..=4 {
        assert!(
            out.contains(&format!("vmtop lab --lesson article-2009 --part {k}")),
            "{out}"
        );
    }
    let skipped = std::fs::read_to_string(&t).expect("the transcript");
    assert_eq!(skipped.lines().count(), 4);
    assert!(
        skipped
            .lines()
            .all(|l| l.contains("\"outcome\":\"skipped\"")),
        "{skipped}"
    );
}

/// The lesson's dashboard takes `vmtop`'s options after `--`, checked before anything runs.
#[test]
fn dashboard_options_after_the_lesson_are_checked() {
    let (code, _, err) = run(&["lesson", "why-vmalloc", "--", "--theme", "neon"]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("dark, light, projector"), "{err}");
    let (code, _, err) = run(&["lesson", "why-vmalloc", "--", "load", "--memsize", "8"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not a command"), "{err}");
}
