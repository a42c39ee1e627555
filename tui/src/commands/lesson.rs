//! `vmtop lesson`: check a lesson file, list the bundled lessons.

use crate::cli::{exit, LessonArgs};

use crate::lesson::{bundled, Lesson, Machine};

pub fn run(args: LessonArgs) -> anyhow::Result<i32> {
    if args.list {
        print!("{}", list());
        return Ok(exit::OK);
    }
    if let Some(what) = args.check {
        return Ok(match crate::lesson::open(&what) {
            Ok(l) => {
                println!("{}", checked_line(&l));
                print!("{}", plan(&l));
                exit::OK
            }
            Err(e) => {
                eprintln!("vmtop: {e}");
                exit::USAGE
            }
        });
    }
    match args.lesson.clone() {
        Some(name) => run_lesson(&name, args),
        // clap requires one of them (the "what" group).
        None => Ok(exit::USAGE),
    }
}

/// `vmtop lesson NAME|FILE`: in the dashboard, or unattended without a terminal.
fn run_lesson(name: &str, args: LessonArgs) -> anyhow::Result<i32> {
    use std::io::IsTerminal as _;
    let lesson = match crate::lesson::open(name) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("vmtop: {e}");
            return Ok(exit::USAGE);
        }
    };
    let only_part = match args.part {
        None => None,
        Some(k) if (1..=lesson.parts.len()).contains(&k) => Some(k - 1),
        Some(k) => {
            eprintln!(
                "vmtop: --part {k}: {} has parts 1 to {}",
                lesson.source,
                lesson.parts.len()
            );
            return Ok(exit::USAGE);
        }
    };
    // The dashboard as `vmtop` would start it with the options after `--`: the settings
    // file's (themes, glyphs...) first, those given winning; checked before the screen.
    let argv: Vec<std::ffi::OsString> = std::iter::once("vmtop".to_string())
        .chain(args.dashboard_args.iter().cloned())
        .map(Into::into)
        .collect();
    let with_settings = crate::settings::parse(&argv, &[])
        .map_err(anyhow::Error::from)
        .and_then(|cli| {
            if cli.command.is_some() {
                anyhow::bail!(
                    "after -- come the dashboard's options (--theme, --glyphs, ...), not a command"
                );
            }
            crate::settings::apply(&argv, cli.dashboard.config.as_deref()).map(|(c, _)| c)
        });
    let cli = match with_settings {
        Ok(c) => c,
        Err(e) => {
            match e.downcast_ref::<clap::Error>() {
                Some(c) => eprintln!("vmtop: {}", super::usage_line(c)),
                None => eprintln!("vmtop: {e:#}"),
            }
            return Ok(exit::USAGE);
        }
    };
    let kernel = crate::system::host::KernelInfo::detect();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let here = crate::lesson::run::Here {
        in_lab: args.in_lab,
        only_part,
        facts: crate::lesson::run::MachineFacts::here(&meminfo, &kernel.machine),
        kernel: kernel.release.clone(),
        lesson_arg: name.to_string(),
    };
    let run = crate::lesson::run::LessonRun::new(lesson, here);
    let terminal = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    if !terminal && !args.auto {
        eprintln!("vmtop: a lesson runs in the dashboard, which needs a terminal: add --auto to run it unattended (one line per step)");
        return Ok(exit::USAGE);
    }
    if !terminal {
        return unattended(run, &args);
    }
    let mut opts = crate::app::config::DashboardOptions::from_args(cli.dashboard);
    if args.module.module.is_some() {
        opts.module = args.module.module.clone();
    }
    opts.allow_unsafe_file |= args.module.allow_unsafe_file;
    opts.lesson = Some(crate::app::lesson::LessonLaunch {
        run,
        auto: args.auto.then_some(args.step_delay),
        transcript: args.transcript.clone(),
    });
    crate::dashboard::run(opts)?;
    Ok(exit::OK)
}

/// Every step in turn, one line each on standard output.
fn unattended(mut run: crate::lesson::run::LessonRun, args: &LessonArgs) -> anyhow::Result<i32> {
    use anyhow::Context as _;
    use std::io::Write as _;
    let mut file = match &args.transcript {
        Some(p) => Some(
            std::fs::File::create(p)
                .with_context(|| format!("creating the transcript {}", p.display()))?,
        ),
        None => None,
    };
    let mut engine =
        crate::engine::Engine::new(std::time::Instant::now(), args.module.module.clone())
            .allow_unsafe_file(args.module.allow_unsafe_file);
    let mut out = std::io::stdout();
    let (_, disagreed, _) =
        crate::lesson::headless::run(&mut run, &mut engine, &mut out, &mut |line| {
            if let Some(f) = file.as_mut() {
                writeln!(f, "{line}")
                    .and_then(|()| f.flush())
                    .context("writing the transcript")?;
            }
            Ok(())
        })?;
    // Disagreements are results, not errors: the exit code says whether they happened.
    Ok(if disagreed == 0 {
        exit::OK
    } else {
        exit::FAILED
    })
}

/// `ok: NAME: N parts, M steps (machines)`.
fn checked_line(l: &Lesson) -> String {
    format!(
        "ok: {}: {} {}, {} steps ({})",
        l.source,
        l.parts.len(),
        if l.parts.len() == 1 { "part" } else { "parts" },
        l.step_count(),
        l.machines().join("; ")
    )
}

/// The steps that act, one line each, with what they expect: what a teacher checks before
/// class.
fn plan(l: &Lesson) -> String {
    let mut out = String::new();
    for (i, p) in l.parts.iter().enumerate() {
        out.push_str(&format!(
            "part {}: {} ({})\n",
            i + 1,
            p.title,
            p.machine.describe()
        ));
        for (k, s) in p.steps.iter().enumerate() {
            let Some(a) = &s.action else { continue };
            let expect = s
                .expect
                .as_ref()
                .map(|e| format!(": expect {}", e.describe()))
                .unwrap_or_default();
            out.push_str(&format!(
                "  step {} (line {}): {}{expect}\n",
                k + 1,
                s.line,
                a.describe()
            ));
        }
    }
    out
}

/// Where a lesson's parts run, in a few words.
fn where_it_runs(l: &Lesson) -> String {
    let this = l.parts.iter().any(|p| p.machine == Machine::This);
    let mut archs: Vec<&str> = l
        .parts
        .iter()
        .filter_map(|p| match &p.machine {
            Machine::Lab(m) => Some(m.arch.name()),
            Machine::This => None,
        })
        .collect();
    archs.dedup();
    match (this, archs.is_empty()) {
        (true, true) => "this machine".to_string(),
        (false, _) => format!("lab only ({})", archs.join(", ")),
        (true, false) => format!("this machine + lab ({})", archs.join(", ")),
    }
}

/// One line per bundled lesson.
pub fn list() -> String {
    let mut out = String::new();
    for b in bundled::ALL {
        match crate::lesson::open(b.name) {
            Ok(l) => out.push_str(&format!(
                "{:<14} {:>2} steps  {:<22} {}\n",
                l.name,
                l.step_count(),
                where_it_runs(&l),
                l.title
            )),
            // Cannot happen for a release (a unit test parses every bundled lesson), but a
            // broken one is named rather than hidden.
            Err(e) => out.push_str(&format!("{:<14} broken: {e}\n", b.name)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_has_one_line_per_bundled_lesson() {
        let l = list();
        assert_eq!(l.lines().count(), bundled::ALL.len());
        let article = l
            .lines()
            .find(|x| x.starts_with("article-2009 "))
            .expect("article-2009 listed");
        assert!(article.contains("lab only (i386)"), "{article}");
        assert!(!l.contains("broken"), "{l}");
        let why = l
            .lines()
            .find(|x| x.starts_with("why-vmalloc "))
            .expect("why-vmalloc listed");
        assert!(why.contains("this machine"), "{why}");
        assert!(l.lines().all(|x| x.chars().count() <= 100), "{l}");
    }

    #[test]
    fn a_checked_lesson_says_its_parts_and_machines() {
        let l = crate::lesson::open("article-2009").expect("bundled");
        let line = checked_line(&l);
        assert!(
            line.starts_with("ok: bundled:article-2009: 4 parts,"),
            "{line}"
        );
        assert!(line.contains("lab i386 384 MiB, swap 512 MiB"), "{line}");
        let p = plan(&l);
        assert!(p.starts_with("part 1: The article's machine"), "{p}");
        assert!(
            p.contains(
                "load 500 MiB vmalloc, unsafe (forced): expect failed (exceeds_total_pages)"
            ),
            "{p}"
        );
        assert!(
            p.contains(
                "probe 16..512 MiB: expect done (address_space_exhausted), largest 100 to 120 MiB"
            ),
            "{p}"
        );
    }
}
