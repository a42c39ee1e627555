//! The settings file, `~/.config/vmtop/config.toml`: the dashboard's options under the names
//! of its flags (`interval = "100ms"`, `theme = "projector"`), read before the terminal is
//! touched, never written by vmtop.
//!
//! A setting is checked by the flag's own value parser (`cli`, where every default and
//! accepted value is written once) and becomes that flag, placed before the command line's
//! flags: the flags given win (`Command::args_override_self`). An unknown key or a bad value
//! is one error, `FILE:LINE:COLUMN: what is wrong; what is accepted`.
//!
//! Where: `--config PATH`, else `$XDG_CONFIG_HOME/vmtop/config.toml`, else
//! `~/.config/vmtop/config.toml`. Under sudo, the file of the user who ran sudo (their home
//! from the passwd database), read as that user (`files::read`).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{CommandFactory as _, FromArgMatches as _};
use toml::Spanned;

use crate::cli::Cli;

/// The settings a file may give, in the order `vmtop config --default` lists them: the
/// dashboard's flags with these long names. `--module` and `--allow-unsafe-file` are not
/// among them: as root, which module file runs is chosen on the command line, where it is
/// checked, not by a file; nor are `--record` (one recording per run) and `--config`.
pub const KEYS: [&str; 13] = [
    "interval",
    "retention",
    "memsize",
    "step",
    "big-step",
    "mode",
    "alloc",
    "theme",
    "glyphs",
    "kernel-log",
    "screenshot-dir",
    "yes",
    "keep-loaded",
];

/// Largest settings file read.
pub const MAX_BYTES: u64 = 64 * 1024;

/// A settings file vmtop will not start with: `FILE:LINE:COLUMN: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", file.display())]
pub struct SettingsError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The flags `text` (the file `file`) stands for, each checked by the flag's own parser.
pub fn args_from(text: &str, file: &Path) -> Result<Vec<OsString>, SettingsError> {
    let at = |offset: usize, message: String| {
        let (line, column) = line_col(text, offset);
        SettingsError {
            file: file.to_path_buf(),
            line,
            column,
            message,
        }
    };
    let table: BTreeMap<Spanned<String>, Spanned<toml::Value>> =
        toml::from_str(text).map_err(|e| {
            let msg = e.message().trim().to_string();
            at(e.span().map_or(0, |s| s.start), format!("not TOML: {msg}"))
        })?;
    let mut entries: Vec<_> = table.into_iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    let cmd = Cli::command();
    let mut args = Vec::new();
    for (key, value) in entries {
        let name = key.get_ref().as_str();
        if !KEYS.contains(&name) {
            let hint = KEYS
                .iter()
                .find(|k| k.replace('-', "_") == name || name.replace('_', "-") == **k)
                .map(|k| format!(" (the name is {k})"))
                .unwrap_or_default();
            return Err(at(
                key.span().start,
                format!(
                    "unknown setting `{name}`{hint}: the settings are {}",
                    KEYS.join(", ")
                ),
            ));
        }
        let arg = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some(name))
            .expect("every key is a flag of the dashboard (settings::tests)");
        let flag = format!("--{name}");
        let vat = value.span().start;
        let v = value.get_ref();
        // The value as written, for messages.
        let shown = text[value.span()].trim();
        if !arg.get_action().takes_values() {
            match v {
                toml::Value::Boolean(true) => args.push(OsString::from(&flag)),
                toml::Value::Boolean(false) => {}
                _ => return Err(at(vat, format!("{name} = {shown}: use true or false"))),
            }
            continue;
        }
        let text_value = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            _ => {
                return Err(at(
                    vat,
                    format!(
                        "{name} = {shown}: a string or a whole number, e.g. {name} = {}",
                        example(arg)
                    ),
                ))
            }
        };
        // The flag's own parser, through clap, as the command line would be checked.
        if let Err(e) = cmd.clone().try_get_matches_from([
            OsString::from("vmtop"),
            OsString::from(&flag),
            OsString::from(&text_value),
        ]) {
            return Err(at(
                vat,
                format!("{name} = {shown}: {}", value_error(&e, arg)),
            ));
        }
        args.push(OsString::from(&flag));
        args.push(OsString::from(text_value));
    }
    Ok(args)
}

/// A value `arg` takes, for messages: its default, quoted as TOML.
fn example(arg: &clap::Arg) -> String {
    let v = arg
        .get_default_values()
        .first()
        .map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_default();
    quoted(&v)
}

/// `s` as a TOML basic string.
fn quoted(s: &str) -> String {
    // JSON's escapes are TOML's for a basic string.
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// What is wrong with a value, and what is accepted, from clap's error for it.
fn value_error(e: &clap::Error, arg: &clap::Arg) -> String {
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|p| !p.is_hide_set())
        .map(|p| p.get_name().to_string())
        .collect();
    if !values.is_empty() {
        return format!("use one of {}", values.join(", "));
    }
    // "invalid value 'X' for '--flag <V>': WHY": the parser's own words say what is accepted.
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    let first = first.trim_start_matches("error: ");
    match first.split_once("': ") {
        Some((_, why)) => why.to_string(),
        None => first.to_string(),
    }
}

/// The file vmtop reads when no `--config` is given; None when no home is known.
pub fn default_path() -> Option<PathBuf> {
    let sudo_home = match crate::files::other_user() {
        Some((uid, _)) => Some(crate::files::home_of(uid)?),
        None => None,
    };
    default_path_for(
        sudo_home,
        std::env::var_os("XDG_CONFIG_HOME"),
        std::env::var_os("HOME"),
    )
}

/// `default_path` from its facts: the home of the user behind sudo (whatever root's
/// environment says), else `$XDG_CONFIG_HOME` when absolute, else `$HOME/.config`.
fn default_path_for(
    sudo_home: Option<PathBuf>,
    xdg: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    let config_home = match sudo_home {
        Some(h) => h.join(".config"),
        None => match xdg.map(PathBuf::from) {
            Some(p) if p.is_absolute() => p,
            _ => PathBuf::from(home.filter(|h| !h.is_empty())?).join(".config"),
        },
    };
    Some(config_home.join("vmtop").join("config.toml"))
}

/// The settings file's path and text: `explicit` (`--config`) must exist; the default file
/// may not (None).
pub fn read(explicit: Option<&Path>) -> anyhow::Result<Option<(PathBuf, String)>> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match default_path() {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let bytes = match crate::files::read(&path, MAX_BYTES)? {
        Some(b) => b,
        None if explicit.is_some() => {
            return Err(crate::refused::Refused(format!(
                "--config {}: no such file (vmtop config --default prints one to start from)",
                path.display()
            ))
            .into())
        }
        None => return Ok(None),
    };
    let text = String::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("{}: not UTF-8 text ({e})", path.display()))?;
    Ok(Some((path, text)))
}

/// The command line `argv` with the settings file's flags before its own: parsed again, so
/// that flags given win. The settings file is the one `--config` names, or the default.
pub fn apply(argv: &[OsString], explicit: Option<&Path>) -> anyhow::Result<(Cli, Option<PathBuf>)> {
    let Some((path, text)) = read(explicit)? else {
        return Ok((parse(argv, &[])?, None));
    };
    let args = args_from(&text, &path).map_err(|e| crate::refused::Refused(e.to_string()))?;
    Ok((parse(argv, &args)?, Some(path)))
}

/// `argv` with `before` inserted after the program name, the last of a flag given twice
/// winning.
pub fn parse(argv: &[OsString], before: &[OsString]) -> Result<Cli, clap::Error> {
    let mut all: Vec<OsString> = argv.iter().take(1).cloned().collect();
    if all.is_empty() {
        all.push("vmtop".into());
    }
    all.extend(before.iter().cloned());
    all.extend(argv.iter().skip(1).cloned());
    let matches = Cli::command()
        .args_override_self(true)
        .try_get_matches_from(all)?;
    Cli::from_arg_matches(&matches)
}

/// The commented default file: every setting with its help, accepted values and default,
/// each commented out (`#name = value`), from the clap definitions.
pub fn default_text() -> String {
    let cmd = Cli::command();
    let mut out = String::from(
        "# vmtop settings (vmtop config --default). vmtop reads this file and never writes it.\n\
         # Each setting is a flag of `vmtop` under the same name; a flag given on the command line\n\
         # wins over the file. Remove the # before a setting to change it.\n\
         # Under sudo, vmtop reads the file of the user who ran sudo, as that user.\n",
    );
    for key in KEYS {
        let arg = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some(key))
            .expect("every key is a flag of the dashboard (settings::tests)");
        out.push('\n');
        let help = arg
            .get_long_help()
            .or(arg.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        for line in wrap(&help, 88) {
            out.push_str(&format!("# {line}\n"));
        }
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|p| !p.is_hide_set())
            .map(|p| match p.get_help() {
                Some(h) => format!("{}: {h}", p.get_name()),
                None => p.get_name().to_string(),
            })
            .collect();
        if !values.is_empty() {
            out.push_str("# Accepted:\n");
            for v in values {
                out.push_str(&format!("#   {v}\n"));
            }
        }
        let value = if !arg.get_action().takes_values() {
            "false".to_string()
        } else {
            example(arg)
        };
        out.push_str(&format!("#{key} = {value}\n"));
    }
    out
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `vmtop config` without --default or --path: each setting, its value and where it comes
/// from (the file, the default).
pub fn describe(cli_args: &[OsString], file: Option<(&Path, &str)>) -> anyhow::Result<String> {
    let from_file = match file {
        Some((path, text)) => {
            args_from(text, path).map_err(|e| crate::refused::Refused(e.to_string()))?
        }
        None => Vec::new(),
    };
    // The command line's own flags are checked too, though only the file's are listed.
    parse(cli_args, &from_file)?;
    let in_file: Vec<String> = from_file
        .iter()
        .filter_map(|a| a.to_str()?.strip_prefix("--").map(str::to_string))
        .collect();
    let matches = Cli::command()
        .args_override_self(true)
        .try_get_matches_from(
            std::iter::once(OsString::from("vmtop")).chain(from_file.iter().cloned()),
        )?;
    let cmd = Cli::command();
    let mut out = String::new();
    for key in KEYS {
        let id = key.replace('-', "_");
        let takes_values = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some(key))
            .is_some_and(|a| a.get_action().takes_values());
        let value = if takes_values {
            matches
                .get_raw(&id)
                .and_then(|mut v| v.next())
                .map(|v| quoted(&v.to_string_lossy()))
                .unwrap_or_default()
        } else {
            matches.get_flag(&id).to_string()
        };
        let from = if in_file.iter().any(|k| k == key) {
            "the file"
        } else {
            "default"
        };
        out.push_str(&format!("{key} = {value}    # {from}\n"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> PathBuf {
        PathBuf::from("/home/u/.config/vmtop/config.toml")
    }

    fn err(text: &str) -> SettingsError {
        args_from(text, &file()).expect_err(text)
    }

    /// Every key is a flag of the dashboard, and every option of the dashboard that makes
    /// sense in a file is a key.
    #[test]
    fn the_keys_are_the_dashboards_flags() {
        let cmd = Cli::command();
        for key in KEYS {
            assert!(
                cmd.get_arguments().any(|a| a.get_long() == Some(key)),
                "{key} is not a flag"
            );
        }
        let left_out = [
            "module",
            "allow-unsafe-file",
            "record",
            "config",
            "help",
            "version",
        ];
        for a in cmd.get_arguments() {
            let Some(long) = a.get_long() else { continue };
            assert!(
                KEYS.contains(&long) || left_out.contains(&long),
                "--{long}: a setting, or left out on purpose (say why in KEYS's doc)"
            );
        }
    }

    /// The default file, with every setting uncommented, parses, and gives what no file
    /// gives: the defaults.
    #[test]
    fn the_default_file_uncommented_parses_to_the_defaults() {
        let text = default_text();
        let mut uncommented = 0;
        let live: String = text
            .lines()
            .map(|l| match l.strip_prefix('#') {
                Some(rest) if rest.starts_with(|c: char| c.is_ascii_lowercase()) => {
                    uncommented += 1;
                    format!("{rest}\n")
                }
                _ => format!("{l}\n"),
            })
            .collect();
        assert_eq!(
            uncommented,
            KEYS.len(),
            "one commented setting per key:\n{text}"
        );
        let args = args_from(&live, &file()).expect("the default parses");
        let argv = [OsString::from("vmtop")];
        let with = parse(&argv, &args).expect("the flags parse");
        let without = parse(&argv, &[]).expect("no flags");
        assert_eq!(
            format!("{:?}", with.dashboard),
            format!("{:?}", without.dashboard)
        );
        // And the file is what the tests say: every key once, commented out.
        for key in KEYS {
            assert_eq!(text.matches(&format!("\n#{key} = ")).count(), 1, "{key}");
        }
        assert!(args_from(&text, &file()).expect("all commented").is_empty());
    }

    #[test]
    fn settings_become_flags_and_flags_win() {
        let text = "theme = \"projector\"\nmemsize = \"2G\"\ninterval = 100\nyes = true\nkeep-loaded = false\n";
        let args = args_from(text, &file()).expect("parses");
        let strs: Vec<&str> = args.iter().map(|a| a.to_str().expect("utf-8")).collect();
        assert_eq!(
            strs,
            [
                "--theme",
                "projector",
                "--memsize",
                "2G",
                "--interval",
                "100",
                "--yes"
            ]
        );
        let cli = parse(&["vmtop".into()], &args).expect("parse");
        assert_eq!(cli.dashboard.theme, crate::cli::ThemeName::Projector);
        assert_eq!(cli.dashboard.memsize, 2048);
        assert_eq!(
            cli.dashboard.interval,
            std::time::Duration::from_millis(100)
        );
        assert!(cli.dashboard.yes);
        let argv: Vec<OsString> = ["vmtop", "--theme", "light", "--memsize", "300"]
            .iter()
            .map(OsString::from)
            .collect();
        let cli = parse(&argv, &args).expect("parse");
        assert_eq!(
            cli.dashboard.theme,
            crate::cli::ThemeName::Light,
            "the flag wins"
        );
        assert_eq!(cli.dashboard.memsize, 300);
        assert_eq!(
            cli.dashboard.interval,
            std::time::Duration::from_millis(100)
        );
    }

    #[test]
    fn an_unknown_key_names_its_place_and_the_keys() {
        let e = err("interval = \"1s\"\n\n  colour = \"dark\"\n");
        assert_eq!((e.line, e.column), (3, 3));
        assert!(e.message.starts_with("unknown setting `colour`"), "{e}");
        assert!(e.message.contains("interval, retention, memsize"), "{e}");
        assert_eq!(
            e.to_string().split(": ").next(),
            Some("/home/u/.config/vmtop/config.toml:3:3")
        );
        let e = err("kernel_log = \"all\"\n");
        assert!(e.message.contains("(the name is kernel-log)"), "{e}");
    }

    #[test]
    fn a_bad_value_names_its_place_and_what_is_accepted() {
        let e = err("# mine\ntheme = \"neon\"\n");
        assert_eq!((e.line, e.column), (2, 9));
        assert_eq!(
            e.message,
            "theme = \"neon\": use one of dark, light, projector"
        );
        let e = err("interval = \"10ms\"\n");
        assert!(e.message.contains("below the 50 ms minimum"), "{e}");
        assert!(e.message.contains("250ms"), "{e}");
        let e = err("memsize = \"lots\"\n");
        assert!(e.message.contains("300M"), "{e}");
        let e = err("memsize = 1.5\n");
        assert!(e.message.contains("a string or a whole number"), "{e}");
        let e = err("yes = \"please\"\n");
        assert_eq!(e.message, "yes = \"please\": use true or false");
        let e = err("glyphs = [\"ascii\"]\n");
        assert!(e.message.contains("a string or a whole number"), "{e}");
    }

    #[test]
    fn broken_toml_names_its_place() {
        let e = err("interval = \"1s\"\ntheme = \n");
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.starts_with("not TOML"), "{e}");
        let e = err("theme = \"dark\"\ntheme = \"light\"\n");
        assert_eq!(e.line, 2, "a key given twice: {e}");
    }

    #[test]
    fn describe_says_where_each_value_comes_from() {
        let text = "glyphs = \"ascii\"\n";
        let d = describe(&["vmtop".into()], Some((&file(), text))).expect("describe");
        assert!(d.contains("glyphs = \"ascii\"    # the file"), "{d}");
        assert!(d.contains("interval = \"250ms\"    # default"), "{d}");
        assert!(d.contains("yes = false    # default"), "{d}");
    }

    #[test]
    fn the_config_path_follows_xdg_and_sudo() {
        let p = |sudo: Option<&str>, xdg: Option<&str>, home: Option<&str>| {
            default_path_for(
                sudo.map(PathBuf::from),
                xdg.map(OsString::from),
                home.map(OsString::from),
            )
        };
        let cfg = |d: &str| Some(PathBuf::from(d).join("vmtop/config.toml"));
        assert_eq!(p(None, Some("/x/cfg"), Some("/home/u")), cfg("/x/cfg"));
        assert_eq!(
            p(None, Some("rel"), Some("/home/u")),
            cfg("/home/u/.config")
        );
        assert_eq!(p(None, None, Some("/home/u")), cfg("/home/u/.config"));
        assert_eq!(p(None, None, None), None);
        // Under sudo: the user's home, not root's environment.
        assert_eq!(
            p(Some("/home/u"), Some("/root/x"), Some("/root")),
            cfg("/home/u/.config")
        );
    }
}
