//! On the build host: the man pages and shell completions generated from the clap
//! definitions cover every public subcommand, render, complete, and `make` installs and
//! uninstalls them.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory;

use crate::common::{repo, temp_dir, vmtop};

/// The public subcommands, from the definitions themselves.
fn subcommands() -> Vec<clap::Command> {
    vmtop::cli::Cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect()
}

fn long_options(cmd: &clap::Command) -> Vec<String> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long())
        .map(|l| format!("--{l}"))
        .collect()
}

fn generate(what: &str) -> String {
    let out = Command::new(vmtop())
        .args(["__generate", what])
        .output()
        .expect("running vmtop __generate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The page as text, with groff's warnings (all of them) as an error.
fn render(page: &Path) -> String {
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-P-cbou", "-rLL=200n"])
        .arg(page)
        .output()
        .expect("running groff (package groff-base, which man-db needs)");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.is_empty(),
        "{}: {err}",
        page.display()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn man_pages_cover_every_subcommand_and_render() {
    let tmp = temp_dir("man");
    let dir = tmp.path();
    let out = Command::new(vmtop())
        .args(["__generate", "man"])
        .arg(dir)
        .output()
        .expect("running vmtop __generate man");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written: Vec<PathBuf> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(PathBuf::from)
        .collect();
    let subs = subcommands();
    let mut expected = vec![dir.join("vmtop.1")];
    expected.extend(
        subs.iter()
            .map(|s| dir.join(format!("vmtop-{}.1", s.get_name()))),
    );
    assert_eq!(written, expected);

    let main = render(&dir.join("vmtop.1"));
    for word in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "Examples:",
        "Exit status:",
    ] {
        assert!(main.contains(word), "{word} missing:\n{main}");
    }
    assert!(
        main.contains("4  not permitted: no CAP_SYS_MODULE"),
        "{main}"
    );
    for opt in long_options(&vmtop::cli::Cli::command()) {
        assert!(main.contains(&opt), "{opt} missing from vmtop.1:\n{main}");
    }
    for sub in &subs {
        let name = sub.get_name();
        assert!(
            main.contains(&format!("vmtop-{name}(1)")),
            "vmtop.1 does not list {name}:\n{main}"
        );
        let page = render(&dir.join(format!("vmtop-{name}.1")));
        assert!(page.contains(&format!("vmtop {name}")), "{page}");
        assert!(
            page.contains(concat!("vmtop ", env!("CARGO_PKG_VERSION"))),
            "the version in the footer: {page}"
        );
        for opt in long_options(sub) {
            assert!(
                page.contains(&opt),
                "{opt} missing from vmtop-{name}.1:\n{page}"
            );
        }
    }
    // `man` itself reads it (what a user types after make install).
    let man = Command::new("man")
        .arg("-l")
        .arg(dir.join("vmtop-load.1"))
        .env("MANWIDTH", "100")
        .output()
        .expect("running man -l");
    assert!(
        man.status.success(),
        "{}",
        String::from_utf8_lossy(&man.stderr)
    );
    assert!(String::from_utf8_lossy(&man.stdout).contains("--memsize"));
}

/// What bash offers for the words typed so far (the last one being completed), with the
/// generated script loaded as bash-completion would.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let tmp = temp_dir("bash");
    let dir = tmp.path();
    let script = dir.join("vmtop.bash");
    std::fs::write(&script, generate("bash")).expect("writing the script");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let prev = if cword > 0 { words[cword - 1] } else { "" };
    let body = format!(
        "source '{}'\n\
         complete -p vmtop >/dev/null || exit 9\n\
         COMP_WORDS=({})\nCOMP_CWORD={cword}\nCOMP_LINE='{}'\nCOMP_POINT=${{#COMP_LINE}}\n\
         _vmtop vmtop '{}' '{prev}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.join(" "),
        words[cword],
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &body])
        .output()
        .expect("running bash");
    assert!(
        out.status.success(),
        "{words:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completion_offers_subcommands_options_and_values() {
    let offered = bash_complete(&["vmtop", ""]);
    for sub in subcommands() {
        assert!(
            offered.iter().any(|o| o == sub.get_name()),
            "{} not offered: {offered:?}",
            sub.get_name()
        );
    }
    assert!(offered.iter().any(|o| o == "load") && offered.iter().any(|o| o == "probe"));
    assert!(
        !offered.iter().any(|o| o.starts_with("__")),
        "internal subcommands offered: {offered:?}"
    );
    let offered = bash_complete(&["vmtop", "lo"]);
    assert_eq!(offered, ["load"]);
    let offered = bash_complete(&["vmtop", "load", "--m"]);
    for opt in ["--memsize", "--mode", "--module"] {
        assert!(offered.iter().any(|o| o == opt), "{opt}: {offered:?}");
    }
    let offered = bash_complete(&["vmtop", "load", "--mode", ""]);
    assert_eq!(offered, ["safe", "unsafe"]);
}

#[test]
fn zsh_and_fish_scripts_name_every_subcommand() {
    // Only read here (zsh and fish are not build dependencies); bash runs its script above.
    let zsh = generate("zsh");
    let fish = generate("fish");
    assert!(zsh.starts_with("#compdef vmtop"), "{zsh}");
    for sub in subcommands() {
        let name = sub.get_name();
        assert!(
            zsh.contains(&format!("'{name}:")),
            "{name} missing from zsh"
        );
        assert!(
            fish.contains(&format!("-a \"{name}\"")),
            "{name} missing from fish"
        );
    }
    assert!(!zsh.contains("__generate") && !fish.contains("__generate"));
}

/// Every file and symbolic link under `dir`, relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("listing").flatten() {
            let p = e.path();
            if e.file_type().expect("file type").is_dir() {
                todo.push(p);
            } else {
                found.push(
                    p.strip_prefix(dir)
                        .expect("under dir")
                        .display()
                        .to_string(),
                );
            }
        }
    }
    found.sort();
    found
}

fn make(target: &str, prefix: &Path) -> String {
    // -o vmtop: use the binary this test run built instead of building the release one.
    let out = Command::new("make")
        .arg("-C")
        .arg(repo())
        .args(["--no-print-directory", "-o", "vmtop", target])
        .arg(format!("PREFIX={}", prefix.display()))
        .arg(format!("VMTOP={}", vmtop()))
        .output()
        .expect("running make");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "make {target}: {text}");
    text
}

#[test]
fn make_installs_and_uninstalls_man_pages_and_completions() {
    let tmp = temp_dir("prefix");
    let prefix = tmp.path();
    make("install-man-completions", prefix);
    let mut expected: Vec<String> = vec![
        "share/bash-completion/completions/vmtop".into(),
        "share/fish/vendor_completions.d/vmtop.fish".into(),
        "share/man/man1/vmtop.1".into(),
        "share/zsh/site-functions/_vmtop".into(),
    ];
    expected.extend(
        subcommands()
            .iter()
            .map(|s| format!("share/man/man1/vmtop-{}.1", s.get_name())),
    );
    expected.sort();
    assert_eq!(files_under(prefix), expected);
    // What bash-completion would load finds the completion function.
    let installed = prefix.join("share/bash-completion/completions/vmtop");
    let status = Command::new("bash")
        .args(["--norc", "-c", "source \"$0\" && complete -p vmtop"])
        .arg(&installed)
        .output()
        .expect("bash");
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("-F _vmtop"),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    make("uninstall-man-completions", prefix);
    assert_eq!(files_under(prefix), Vec::<String>::new());
}
