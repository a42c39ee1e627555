//! `vmtop lab --lesson`: each part of a lesson in a VM shaped as the part asks (architecture,
//! RAM, swap, kernel arguments, kernel release), booted in turn, with the dashboard and the
//! lesson inside (`vmtop lesson --part K --in-lab`). The guest writes its transcript lines to
//! a serial port of its own, which QEMU writes to a host file; they are gathered here.
//! Without a terminal (`vmtop replay`, tests) each VM runs the part unattended instead.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use super::{Lesson, Machine};
use crate::lab::kernel::Arch;
use crate::lab::{LabOptions, ReleaseFrom};

/// How the parts run.
#[derive(Debug, Clone)]
pub struct LabLesson {
    /// What `vmtop lab --lesson` was given: a bundled name or a file.
    pub arg: String,
    /// Only this part (0-based).
    pub part: Option<usize>,
    /// `--auto`, with the pause between pages (in the dashboard).
    pub auto: Option<Duration>,
    /// No terminal: each part unattended, its lines on `out`.
    pub unattended: bool,
}

/// One part as it ran.
#[derive(Debug, Clone)]
pub struct PartRun {
    /// 0-based.
    pub part: usize,
    /// The VM's exit status (vmtop's in it).
    pub status: i32,
    pub kernel: String,
    pub boot_to_exit: Option<Duration>,
}

/// The VM for part `p` of `lesson`, from the `vmtop lab` options given (`base`).
pub fn options(lesson: &Lesson, p: usize, base: &LabOptions) -> LabOptions {
    let mut o = base.clone();
    if let Some(Machine::Lab(m)) = lesson.parts.get(p).map(|x| &x.machine) {
        o.arch = Some(m.arch);
        o.mem_mib = m.mem_mib;
        o.swap_mib = m.swap_mib;
        o.append = match (&base.append, &m.append) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            (a, b) => b.clone().or(a.clone()),
        };
        // The part's kernel; else the one asked for on the command line; a release from
        // $VMTOP_LAB_KERNEL names a kernel of this machine's architecture only.
        o.kernel_release = match &m.kernel {
            Some(k) => Some((k.clone(), ReleaseFrom::Flag)),
            None => base
                .kernel_release
                .clone()
                .filter(|(_, from)| *from == ReleaseFrom::Flag || m.arch == Arch::HOST),
        };
    }
    o
}

/// The guest's command line for part `p` (`tty`: its transcript port).
pub fn guest_args(guest_lesson: &str, p: usize, auto: Option<Duration>, tty: &str) -> Vec<String> {
    let mut v = vec![
        "lesson".to_string(),
        guest_lesson.to_string(),
        "--part".to_string(),
        (p + 1).to_string(),
        "--in-lab".to_string(),
        "--transcript".to_string(),
        tty.to_string(),
    ];
    if let Some(d) = auto {
        v.push("--auto".into());
        v.push("--step-delay".into());
        v.push(format!("{}ms", d.as_millis().max(1)));
    }
    v
}

/// Transcript lines from the guest's serial port (the tty adds a carriage return).
pub fn parse_records(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| l.trim_matches(['\r', '\n', ' ', '\0']))
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Boot each part's machine in turn and run it; `out` gets the unattended lines and a line
/// per VM; `on_records` each part's transcript lines as they come back.
pub fn run(
    spec: &LabLesson,
    base: &LabOptions,
    out: &mut dyn Write,
    on_records: &mut dyn FnMut(&[serde_json::Value]) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<PartRun>> {
    let lesson = match super::open(&spec.arg) {
        Ok(l) => l,
        Err(e) => anyhow::bail!("{e}"),
    };
    let parts: Vec<usize> = match spec.part {
        Some(p) if p < lesson.parts.len() => vec![p],
        Some(p) => anyhow::bail!(
            "--part {}: {} has parts 1 to {}",
            p + 1,
            lesson.source,
            lesson.parts.len()
        ),
        None => (0..lesson.parts.len()).collect(),
    };
    // A lesson file goes into the VM under its own name (its stem names the lesson); a
    // bundled lesson is in the binary already. /srv: /tmp is a fresh tmpfs in the VM.
    let bundled = super::bundled::get(&spec.arg).is_some() && !spec.arg.contains('/');
    let (guest_lesson, file) = if bundled {
        (spec.arg.clone(), None)
    } else {
        let path = PathBuf::from(&spec.arg);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("lesson.toml")
            .to_string();
        let guest = format!("/srv/{name}");
        (guest.clone(), Some((path, guest)))
    };
    let tmp = crate::lab::TempDir::new("vmtop-lesson")?;
    let mut runs = Vec::new();
    for p in parts {
        let mut o = options(&lesson, p, base);
        o.files.extend(file.clone());
        let transcript = tmp.path.join(format!("part-{}.jsonl", p + 1));
        o.transcript = Some(transcript.clone());
        let interactive = !spec.unattended;
        let args = guest_args(
            &guest_lesson,
            p,
            if spec.unattended { None } else { spec.auto },
            crate::lab::transcript_tty(interactive),
        );
        writeln!(
            out,
            "vmtop lab: part {} of {}: {} ({})",
            p + 1,
            lesson.parts.len(),
            lesson.parts[p].title,
            lesson.parts[p].machine.describe()
        )?;
        let (status, kernel, boot_to_exit) = if interactive {
            // `vmtop lab --lesson X -- --theme projector`: the dashboard's options, after --.
            let mut args = args;
            if !base.vmtop_args.is_empty() {
                args.push("--".into());
                args.extend(base.vmtop_args.iter().cloned());
            }
            o.vmtop_args = args;
            let status = crate::lab::run_interactive(&o)?;
            (status, String::new(), None)
        } else {
            let mut cmd = String::from("vmtop");
            for a in args.iter().chain(["--auto".to_string()].iter()) {
                cmd.push(' ');
                cmd.push_str(&crate::lab::shell_quote(a));
            }
            o.exec = Some(cmd);
            let r = crate::lab::run_exec(&o, out)?;
            (r.status, r.kernel, Some(r.boot_to_exit))
        };
        let text = std::fs::read_to_string(&transcript).with_context(|| {
            format!(
                "reading part {}'s transcript from {}",
                p + 1,
                transcript.display()
            )
        })?;
        let records = parse_records(&text);
        on_records(&records)?;
        runs.push(PartRun {
            part: p,
            status,
            kernel,
            boot_to_exit,
        });
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_part_boots_the_machine_it_names() {
        let l = super::super::open("article-2009").expect("bundled");
        let base = LabOptions {
            kernel_release: Some(("6.12".into(), ReleaseFrom::Env)),
            append: Some("lockdown=none".into()),
            ..crate::commands::lab_defaults()
        };
        let o = options(&l, 1, &base);
        assert_eq!(o.arch, Some(Arch::I386));
        assert_eq!((o.mem_mib, o.swap_mib), (384, 512));
        assert_eq!(o.append.as_deref(), Some("lockdown=none vmalloc=768M"));
        // $VMTOP_LAB_KERNEL names a 64-bit kernel: not for the 32-bit machine.
        assert_eq!(o.kernel_release, None);
        let flag = LabOptions {
            kernel_release: Some(("6.1".into(), ReleaseFrom::Flag)),
            ..crate::commands::lab_defaults()
        };
        assert_eq!(
            options(&l, 2, &flag).kernel_release,
            Some(("6.1".into(), ReleaseFrom::Flag))
        );
        // A part on "this" machine boots the lab as given.
        let w = super::super::open("why-vmalloc").expect("bundled");
        let o = options(&w, 0, &base);
        assert_eq!((o.arch, o.mem_mib, o.swap_mib), (None, 1024, 0));
        assert_eq!(o.kernel_release, Some(("6.12".into(), ReleaseFrom::Env)));
    }

    #[test]
    fn the_guest_runs_its_part_and_writes_the_transcript_to_its_port() {
        assert_eq!(
            guest_args(
                "article-2009",
                2,
                Some(Duration::from_millis(500)),
                "/dev/ttyS2"
            ),
            [
                "lesson",
                "article-2009",
                "--part",
                "3",
                "--in-lab",
                "--transcript",
                "/dev/ttyS2",
                "--auto",
                "--step-delay",
                "500ms"
            ]
        );
        let text = "{\"part\":1,\"step\":1}\r\n\r\n{\"part\":1,\"step\":2}\r\nnoise\n";
        let r = parse_records(text);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1]["step"], 2);
    }
}
