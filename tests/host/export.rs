//! Issue 20 on the build host: the pictures, plots and report as a person gets them (the
//! report opened in a real browser, headless Chromium, and its screenshot decoded), the
//! screen saved from the dashboard with `s`, bad recordings and bad settings refused with one
//! line and nothing left behind.

use std::path::Path;
use std::process::Command;

use crate::common::tmux::Tmux;
use crate::common::{repo, run, temp_dir, vmtop};

/// The lab recording committed as a fixture (`vmtop record` in the 6.12 lab VM while vmtop
/// loaded 64 MiB, unloaded, and failed 5000 MiB and 8 MiB kmalloc: tests/lab/record.rs).
fn lab_recording() -> std::path::PathBuf {
    repo().join("tui/testdata/record-lab-6.12.jsonl")
}

/// RGB pixels of a PNG file, with its size.
fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut r = png::Decoder::new(std::io::BufReader::new(f))
        .read_info()
        .expect("a PNG");
    let mut buf = vec![0; r.output_buffer_size().expect("size")];
    let info = r.next_frame(&mut buf).expect("a frame");
    let rgb = match info.color_type {
        png::ColorType::Rgb => buf,
        png::ColorType::Rgba => buf.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        other => panic!("{other:?}"),
    };
    (info.width, info.height, rgb)
}

/// Pixels within a few levels of `rgb`.
fn count(px: &[u8], rgb: [u8; 3]) -> usize {
    px.chunks(3)
        .filter(|p| p.iter().zip(rgb).all(|(a, b)| a.abs_diff(b) <= 6))
        .count()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Headless Chromium from Debian's package (make test installs it), in a profile of its own,
/// with nothing that would reach the network.
fn chromium(profile: &Path, args: &[&str]) {
    let o = run(Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args));
    assert_eq!(o.status, 0, "chromium {args:?}: {}", o.stderr);
}

#[test]
fn the_report_renders_in_chromium_and_prints() {
    let tmp = temp_dir("report");
    let html = tmp.path().join("report.html");
    let o = run(Command::new(vmtop())
        .arg("report")
        .arg(lab_recording())
        .arg("--out")
        .arg(&html));
    assert_eq!(o.status, 0, "{}", o.stderr);
    let page = std::fs::read_to_string(&html).expect("the page");
    assert!(page.contains("Linux 6.12.95+deb12-amd64"));
    let profile = tmp.path().join("profile");
    std::fs::create_dir(&profile).expect("profile dir");
    let shot = tmp.path().join("report.png");
    chromium(
        &profile,
        &[
            "--window-size=1280,2400",
            &format!("--screenshot={}", shot.display()),
            &format!("file://{}", html.display()),
        ],
    );
    let (w, h, px) = decode(&shot);
    assert_eq!((w, h), (1280, 2400));
    // What Chromium drew: the failures' red border (CSS), the chart's VmallocUsed line and the
    // failure markers (inline SVG), on the white page.
    assert!(
        count(&px, [0xc1, 0x27, 0x2d]) > 2000,
        "the failure boxes' red"
    );
    assert!(
        count(&px, [0x82, 0x50, 0xdf]) > 300,
        "the chart's VmallocUsed purple"
    );
    assert!(
        count(&px, [255, 255, 255]) > px.len() / 3 / 2,
        "a white page"
    );
    // Print: the print CSS gives pages (A4 by default), the chart among them.
    let pdf = tmp.path().join("report.pdf");
    chromium(
        &profile,
        &[
            "--no-pdf-header-footer",
            &format!("--print-to-pdf={}", pdf.display()),
            &format!("file://{}", html.display()),
        ],
    );
    let bytes = std::fs::read(&pdf).expect("the PDF");
    assert!(bytes.starts_with(b"%PDF"));
    let pages = bytes
        .windows(b"/Type /Page\n".len())
        .filter(|w| w.starts_with(b"/Type /Page") && !w.starts_with(b"/Type /Pages"))
        .count();
    assert!((2..=6).contains(&pages), "{pages} pages");
}

/// A lesson's transcript, as `vmtop lesson --auto --transcript` writes it here (this machine
/// cannot load: every action answers not_attempted), becomes the report's lesson table.
#[test]
fn the_report_carries_a_lessons_transcript() {
    let tmp = temp_dir("transcript");
    let t = tmp.path().join("lesson.jsonl");
    let o = run(Command::new(vmtop())
        .args([
            "lesson",
            "why-vmalloc",
            "--auto",
            "--step-delay",
            "50ms",
            "--transcript",
        ])
        .arg(&t)
        .stdin(std::process::Stdio::null()));
    let lines = std::fs::read_to_string(&t)
        .expect("the transcript")
        .lines()
        .count();
    assert!(lines >= 5, "{lines} lines: {}", o.stdout);
    let html = tmp.path().join("report.html");
    let o = run(Command::new(vmtop())
        .arg("report")
        .arg(lab_recording())
        .arg("--transcript")
        .arg(&t)
        .arg("--out")
        .arg(&html));
    assert_eq!(o.status, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!("{lines} transcript lines")),
        "{}",
        o.stderr
    );
    let page = std::fs::read_to_string(&html).expect("page");
    assert!(page.contains("<h2>The lesson: why-vmalloc</h2>"), "{page}");
    assert!(page.contains("<td>load 4 MiB kmalloc, safe</td>"), "{page}");
    // A transcript that is not one: the line, exit 2, no page.
    std::fs::write(&t, "{\"lesson\":\"x\"}\nnot json\n").expect("write");
    std::fs::remove_file(&html).expect("rm");
    let o = run(Command::new(vmtop())
        .arg("report")
        .arg(lab_recording())
        .arg("--transcript")
        .arg(&t)
        .arg("--out")
        .arg(&html));
    assert_eq!(o.status, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("line 2: expected a transcript line"),
        "{}",
        o.stderr
    );
    assert!(!html.exists());
}

#[test]
fn plot_writes_svg_and_png_of_the_asked_size() {
    let tmp = temp_dir("plot");
    for (name, size) in [("chart.svg", "1600x900"), ("chart.png", "1280x720")] {
        let out = tmp.path().join(name);
        let o = run(Command::new(vmtop())
            .arg("plot")
            .arg(lab_recording())
            .args(["--out"])
            .arg(&out)
            .args(["--size", size]));
        assert_eq!(o.status, 0, "{}", o.stderr);
        if name.ends_with(".png") {
            let (w, h, px) = decode(&out);
            assert_eq!((w, h), (1280, 720));
            // The failures' red lines and the load's green one are drawn.
            assert!(count(&px, [0xc1, 0x27, 0x2d]) > 200, "red failure lines");
            assert!(count(&px, [0x1a, 0x7f, 0x37]) > 200, "green load line");
        } else {
            let svg = std::fs::read_to_string(&out).expect("svg");
            assert!(svg.contains("5000 MiB: more than all RAM"), "{svg}");
            // plotters writes the apostrophe as an entity.
            assert!(
                svg.contains("8 MiB kmalloc: above kmalloc&apos;s limit"),
                "{svg}"
            );
            assert!(svg.contains("64 MiB") && svg.contains("unload"));
        }
    }
    assert_eq!(files_in(tmp.path()), ["chart.png", "chart.svg"]);
}

/// A file that is not a recording: one line naming the line and what was expected, exit 2,
/// and no output file, not even a temporary one.
#[test]
fn not_a_recording_is_one_line_and_nothing_is_written() {
    let tmp = temp_dir("badrec");
    let good = std::fs::read_to_string(lab_recording()).expect("fixture");
    let cut = &good[..good.match_indices('\n').nth(9).expect("ten lines").0 + 40];
    let cases: [(&str, &[u8], &str); 4] = [
        ("empty.jsonl", b"", "line 1: expected a vmtop recording"),
        (
            "truncated.jsonl",
            cut.as_bytes(),
            "line 11: expected a line {\"type\"",
        ),
        (
            "picture.png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            "line 1: expected text (UTF-8)",
        ),
        (
            "other.csv",
            b"name,age\nada,36\n",
            "line 1: expected a vmtop recording",
        ),
    ];
    for (name, bytes, want) in cases {
        let file = tmp.path().join(name);
        std::fs::write(&file, bytes).expect("write");
        for cmd in ["plot", "report"] {
            let out = tmp
                .path()
                .join(if cmd == "plot" { "out.svg" } else { "out.html" });
            let o = run(Command::new(vmtop())
                .arg(cmd)
                .arg(&file)
                .arg("--out")
                .arg(&out));
            assert_eq!(o.status, 2, "{cmd} {name}: {}", o.stderr);
            let lines: Vec<&str> = o.stderr.lines().collect();
            assert_eq!(lines.len(), 1, "one line: {}", o.stderr);
            assert!(
                lines[0].starts_with(&format!("vmtop: {}: {want}", file.display())),
                "{cmd} {name}: {}",
                lines[0]
            );
            assert!(!out.exists());
        }
    }
    let left = files_in(tmp.path());
    assert_eq!(
        left,
        ["empty.jsonl", "other.csv", "picture.png", "truncated.jsonl"]
    );
    // An output that is neither .svg nor .png.
    let o = run(Command::new(vmtop())
        .arg("plot")
        .arg(lab_recording())
        .args(["--out", "chart.jpg"]));
    assert_eq!(o.status, 2);
    assert!(
        o.stderr.contains("name a .svg or .png file"),
        "{}",
        o.stderr
    );
}

/// A bad settings file stops the dashboard before the terminal is touched: one line,
/// FILE:LINE:COLUMN, the accepted values, exit 2 (no terminal here: a good file would end in
/// "the dashboard needs a terminal" instead).
#[test]
fn a_bad_settings_file_is_one_line_before_the_terminal() {
    let tmp = temp_dir("settings");
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, "interval = \"100ms\"\ntheme = \"neon\"\n").expect("write");
    let o = run(Command::new(vmtop())
        .arg("--config")
        .arg(&cfg)
        .stdin(std::process::Stdio::null()));
    assert_eq!(o.status, 2, "{}", o.stderr);
    assert_eq!(
        o.stderr.trim(),
        format!(
            "vmtop: {}:2:9: theme = \"neon\": use one of dark, light, projector",
            cfg.display()
        )
    );
    std::fs::write(&cfg, "theme = \"projector\"\n").expect("write");
    let o = run(Command::new(vmtop())
        .arg("--config")
        .arg(&cfg)
        .stdin(std::process::Stdio::null()));
    assert!(
        o.stderr.contains("needs a terminal"),
        "a good file: {}",
        o.stderr
    );
    // What it gives, and that vmtop never wrote it.
    let o = run(Command::new(vmtop()).args(["config", "--config"]).arg(&cfg));
    assert_eq!(o.status, 0, "{}", o.stderr);
    assert!(
        o.stdout.contains("theme = \"projector\"    # the file"),
        "{}",
        o.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&cfg).expect("read"),
        "theme = \"projector\"\n"
    );
    let o = run(Command::new(vmtop())
        .args(["config", "--config"])
        .arg(tmp.path().join("none.toml")));
    assert_eq!(o.status, 2, "{}", o.stderr);
    assert!(o.stderr.contains("no such file"), "{}", o.stderr);
    // The default file is the one the tests parse uncommented; here it is printed whole.
    let o = run(Command::new(vmtop()).args(["config", "--default"]));
    assert_eq!(o.status, 0);
    assert!(o.stdout.contains("\n#theme = \"dark\"\n"), "{}", o.stdout);
}

/// `s` in the dashboard (read-only here) saves the screen as SVG and PNG in
/// --screenshot-dir and says where in the footer.
#[test]
fn s_saves_the_screen_as_svg_and_png() {
    let tmp = temp_dir("shots");
    let t = Tmux::start(
        "vmtop-shot",
        100,
        30,
        &format!(
            "{} --screenshot-dir {} --glyphs block; echo EXITED=$?",
            vmtop(),
            tmp.path().display()
        ),
    );
    t.wait_for("the dashboard", 10, |s| s.contains("VmallocUsed"));
    t.keys(&["s"]);
    let s = t.wait_for("the footer's answer", 10, |s| s.contains("» screen saved:"));
    let files = files_in(tmp.path());
    assert_eq!(files.len(), 2, "{files:?}\n{s}");
    assert!(
        files[0].starts_with("vmtop-") && files[0].ends_with(".png"),
        "{files:?}"
    );
    assert!(files[1].ends_with(".svg"));
    assert!(s.contains(&files[1]), "the footer names the file:\n{s}");
    let svg = std::fs::read_to_string(tmp.path().join(&files[1])).expect("svg");
    assert!(svg.starts_with("<svg"));
    assert!(
        svg.contains(">VmallocUsed") || svg.contains("VmallocUsed "),
        "text stays text"
    );
    assert!(
        svg.contains(r#"width="1200" height="720""#),
        "100x30 cells of 12x24"
    );
    let (w, h, px) = decode(&tmp.path().join(&files[0]));
    assert_eq!((w, h), (1200, 720));
    assert!(
        px.chunks(3).any(|p| p != [0x15, 0x17, 0x1c]),
        "something drawn on the dark background"
    );
    t.keys(&["q"]);
    // The pane may be gone before its last line shows (as in tests/host/dashboard.rs).
    let s = t.wait_for("vmtop to end", 10, |s| s.contains("EXITED=") || t.dead());
    assert!(t.dead_status() == Some(0) || s.contains("EXITED=0"), "{s}");
}

/// Under sudo, the settings file is read and the pictures written as the user who ran sudo,
/// by a child vmtop with that user's uid: a settings file only root may read is refused by
/// the kernel (its text never shows in an error), and what is written belongs to the user.
/// Simulated as root with the variables sudo sets (SUDO_COMMAND naming this vmtop); not
/// root, there is no one else to read or write as.
#[test]
fn under_sudo_files_are_read_and_written_as_the_user() {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    let tmp = temp_dir("sudo");
    let dir = tmp.path().join("shared");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let secret = dir.join("secret.toml");
    std::fs::write(&secret, "theme = \"neon-SECRET\"\n").expect("write");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let root = nix::unistd::geteuid().is_root();
    let as_sudo = |args: &[&str]| {
        let mut c = Command::new(vmtop());
        c.args(args)
            .env("SUDO_UID", "65534")
            .env("SUDO_GID", "65534")
            .env("SUDO_USER", "nobody")
            .env("SUDO_COMMAND", format!("{} {}", vmtop(), args.join(" ")));
        run(&mut c)
    };
    let secret_arg = secret.display().to_string();
    // As root itself: root's own file, read (its bad value shown, as for any file of one's own).
    let o = run(Command::new(vmtop()).args(["config", "--config", &secret_arg]));
    assert_eq!(o.status, 2, "{}", o.stderr);
    if !root {
        // Not root: the file is not readable at all; nothing more to compare.
        assert!(o.stderr.contains("ermission denied"), "{}", o.stderr);
        return;
    }
    assert!(
        o.stderr.contains("neon-SECRET"),
        "root reads root's file: {}",
        o.stderr
    );
    // Through sudo: read as uid 65534, who may not read it.
    let o = as_sudo(&["config", "--config", &secret_arg]);
    assert_ne!(o.status, 0);
    assert!(o.stderr.contains("ermission denied"), "{}", o.stderr);
    assert!(
        !o.stderr.contains("SECRET") && !o.stdout.contains("SECRET"),
        "{}",
        o.stderr
    );

    // Writes: where the user may not write, nothing is written (root could have); where the
    // user may, the picture is the user's.
    let rec = dir.join("rec.jsonl");
    std::fs::copy(lab_recording(), &rec).expect("copy");
    let chart = dir.join("chart.svg");
    let o = as_sudo(&[
        "plot",
        &rec.display().to_string(),
        "--out",
        &chart.display().to_string(),
    ]);
    assert_ne!(o.status, 0, "{}", o.stderr);
    assert!(o.stderr.contains("cannot write in"), "{}", o.stderr);
    assert!(!chart.exists());
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let o = as_sudo(&[
        "plot",
        &rec.display().to_string(),
        "--out",
        &chart.display().to_string(),
    ]);
    assert_eq!(o.status, 0, "{}", o.stderr);
    let meta = std::fs::metadata(&chart).expect("written");
    assert_eq!((meta.uid(), meta.gid()), (65534, 65534), "the user's file");
    assert_eq!(
        files_in(&dir),
        ["chart.svg", "rec.jsonl", "secret.toml"],
        "no temporary file left"
    );
}

/// `--record`: the dashboard's recording is readable while it runs (written as it goes) and
/// whole after SIGTERM, which ends the dashboard cleanly; the header names this machine.
#[test]
fn the_dashboards_recording_survives_sigterm() {
    let tmp = temp_dir("record");
    let rec = tmp.path().join("class.jsonl");
    let t = Tmux::start(
        "vmtop-rec",
        100,
        30,
        &format!(
            "{} --interval 100ms --record {}; echo EXITED=$?; sleep 30",
            vmtop(),
            rec.display()
        ),
    );
    t.wait_for("the dashboard", 10, |s| s.contains("VmallocUsed"));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // Read while it grows: whole lines only.
    let growing = std::fs::read_to_string(&rec).expect("the recording exists at once");
    let partial = vmtop::record::read(&growing).expect("reads while recording");
    assert!(
        partial.points.len() >= 5,
        "{} samples",
        partial.points.len()
    );
    let pid = Command::new("pgrep")
        // The dashboard itself, not the shell that started it.
        .args(["-f", &format!("^{} .*--record {}", vmtop(), rec.display())])
        .output()
        .expect("pgrep");
    let pid = String::from_utf8_lossy(&pid.stdout)
        .lines()
        .next()
        .map(str::to_string)
        .expect("the dashboard's pid");
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill")
        .success());
    let s = t.wait_for("the end", 10, |s| s.contains("EXITED="));
    assert!(s.contains("vmtop: stopped by signal 15"), "{s}");
    assert!(
        s.contains(&format!("vmtop: recorded to {}", rec.display())),
        "{s}"
    );
    let whole = vmtop::record::read(&std::fs::read_to_string(&rec).expect("read")).expect("whole");
    // What was read while it ran is the start of the whole: nothing rewritten.
    assert!(whole.points.starts_with(&partial.points));
    assert_eq!(whole.header.source.as_deref(), Some("dashboard"));
    let here = std::fs::read_to_string("/proc/sys/kernel/osrelease").expect("release");
    assert_eq!(
        whole.header.machine.map(|m| m.kernel),
        Some(here.trim().to_string())
    );
}
