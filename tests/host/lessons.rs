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
