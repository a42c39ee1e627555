//! Keys to actions, depending on what is on screen: one table per mode (`table`), read by
//! `map_key`, by the footer (`ui::footer`) and by the help (`ui::help`). A new key is one
//! `Binding` here and, if it shows, one `Group` with its glyphs (`glyphs`, beside the table:
//! `tests::every_glyph_is_a_key_of_its_group` checks that each names a key bound to that
//! group) and its words (in `ui`).
//!
//! Terminals report Shift on `+` inconsistently (`+` is already Shift+`=` on most layouts), so
//! the big steps have their own keys instead of depending on the modifier.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::Action;

/// What the keyboard is talking to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// A lesson runs (`vmtop lesson`): its keys first, then every key of `Normal` but `b`.
    Lesson,
    /// Typing a memsize.
    Typing,
    /// A y/N dialog is open.
    Confirm,
    /// The help overlay is open.
    Help,
    /// The whole diagnosis of the last failure is open.
    Why,
}

/// Which key presses a binding takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chord {
    /// This key, with or without Shift.
    Key(KeyCode),
    /// This key without Shift.
    Plain(KeyCode),
    /// This key with Shift only.
    Shift(KeyCode),
    /// Any digit; the action gets the character.
    Digit,
    /// A unit letter of a memsize (K M G T, i, B); the action gets the character.
    Unit,
}

/// How the footer and the help show a set of bindings (the words are in `ui`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Load,
    Unload,
    Reload,
    Step,
    BigStep,
    Type,
    Probe,
    Mode,
    Alloc,
    Buddy,
    Areas,
    AreasSort,
    Freeze,
    Window,
    Why,
    Screenshot,
    Help,
    Quit,
    Dismiss,
    // In a lesson.
    LessonNext,
    LessonBack,
    // In the other modes.
    Yes,
    No,
    Close,
    TypeDigits,
    Set,
    Delete,
    Cancel,
}

/// One row of the key table. The first binding that takes a key wins.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub chords: &'static [Chord],
    pub action: Action,
    pub group: Group,
}

const fn b(chords: &'static [Chord], action: Action, group: Group) -> Binding {
    Binding {
        chords,
        action,
        group,
    }
}

use Chord::{Digit, Key, Plain, Shift, Unit};
use KeyCode::Char;

const NORMAL: &[Binding] = &[
    b(&[Key(Char('l'))], Action::Load, Group::Load),
    b(&[Key(Char('u'))], Action::Unload, Group::Unload),
    b(&[Key(Char('r'))], Action::Reload, Group::Reload),
    b(
        &[Key(Char('+')), Key(Char('=')), Plain(KeyCode::Up)],
        Action::StepUp { big: false },
        Group::Step,
    ),
    b(
        &[Plain(Char('-')), Plain(KeyCode::Down)],
        Action::StepDown { big: false },
        Group::Step,
    ),
    b(
        &[Key(Char(']')), Key(KeyCode::PageUp), Shift(KeyCode::Up)],
        Action::StepUp { big: true },
        Group::BigStep,
    ),
    b(
        &[
            Key(Char('[')),
            Key(Char('_')),
            Key(KeyCode::PageDown),
            Shift(Char('-')),
            Shift(KeyCode::Down),
        ],
        Action::StepDown { big: true },
        Group::BigStep,
    ),
    b(&[Digit], Action::Digit('0'), Group::Type),
    b(&[Key(KeyCode::Backspace)], Action::Backspace, Group::Type),
    b(&[Key(Char('p'))], Action::Probe, Group::Probe),
    b(&[Key(Char('m'))], Action::ToggleMode, Group::Mode),
    b(&[Key(Char('a'))], Action::CycleAlloc, Group::Alloc),
    b(&[Key(Char('b'))], Action::ToggleBuddy, Group::Buddy),
    b(&[Key(Char('v'))], Action::ToggleAreas, Group::Areas),
    b(&[Key(Char('o'))], Action::CycleAreasSort, Group::AreasSort),
    b(&[Key(Char('f'))], Action::Freeze, Group::Freeze),
    b(&[Key(Char('z'))], Action::CycleWindow, Group::Window),
    b(&[Key(Char('w'))], Action::ToggleWhy, Group::Why),
    b(&[Key(Char('s'))], Action::Screenshot, Group::Screenshot),
    b(
        &[Key(Char('?')), Key(KeyCode::F(1))],
        Action::ToggleHelp,
        Group::Help,
    ),
    b(&[Key(Char('q'))], Action::Quit, Group::Quit),
    b(&[Key(KeyCode::Esc)], Action::Cancel, Group::Dismiss),
];

/// A lesson's keys, before the dashboard's (the first binding that takes a key wins): `n`
/// and Space go on, `b` goes back, so the buddyinfo pane moves to `B` (a step can also open
/// it itself: `show = ["buddyinfo"]`).
const LESSON: &[Binding] = &[
    b(
        &[Key(Char('n')), Key(Char(' '))],
        Action::LessonNext,
        Group::LessonNext,
    ),
    b(&[Plain(Char('b'))], Action::LessonBack, Group::LessonBack),
    b(&[Key(Char('B'))], Action::ToggleBuddy, Group::Buddy),
];

const CONFIRM: &[Binding] = &[
    b(
        &[Key(Char('y')), Key(Char('Y'))],
        Action::Confirm(true),
        Group::Yes,
    ),
    b(
        &[Key(Char('n')), Key(Char('N'))],
        Action::Confirm(false),
        Group::No,
    ),
    b(&[Key(KeyCode::Esc)], Action::Cancel, Group::No),
    // Quit again while asked: what quitting twice means there (see `App::quit`).
    b(&[Key(Char('q'))], Action::Quit, Group::Quit),
];

const HELP: &[Binding] = &[
    b(
        &[Key(KeyCode::Esc), Key(Char('?')), Key(KeyCode::Enter)],
        Action::ToggleHelp,
        Group::Close,
    ),
    // What the help and the diagnosis show is worth a picture too (a lab report).
    b(&[Key(Char('s'))], Action::Screenshot, Group::Screenshot),
    b(&[Key(Char('q'))], Action::Quit, Group::Quit),
];

const WHY: &[Binding] = &[
    b(
        &[Key(KeyCode::Esc), Key(Char('w')), Key(KeyCode::Enter)],
        Action::ToggleWhy,
        Group::Close,
    ),
    b(&[Key(Char('s'))], Action::Screenshot, Group::Screenshot),
    b(&[Key(Char('q'))], Action::Quit, Group::Quit),
];

const TYPING: &[Binding] = &[
    b(&[Digit, Unit], Action::Digit('0'), Group::TypeDigits),
    b(&[Key(KeyCode::Enter)], Action::SubmitMemsize, Group::Set),
    b(&[Key(KeyCode::Backspace)], Action::Backspace, Group::Delete),
    b(&[Key(KeyCode::Esc)], Action::Cancel, Group::Cancel),
];

/// The key table of `mode`.
pub fn table(mode: Mode) -> Vec<&'static Binding> {
    let t: &[&[Binding]] = match mode {
        Mode::Normal => &[NORMAL],
        Mode::Lesson => &[LESSON, NORMAL],
        Mode::Typing => &[TYPING],
        Mode::Confirm => &[CONFIRM],
        Mode::Help => &[HELP],
        Mode::Why => &[WHY],
    };
    t.iter().flat_map(|t| t.iter()).collect()
}

/// How a group's keys are written on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Glyphs {
    /// In the footer: the main ones, short.
    pub footer: &'static str,
    /// In the help: the main ones and the arrows and page keys.
    pub help: &'static str,
    /// Also in the help, after the words: the keys that do the same.
    pub also: &'static str,
}

/// The glyphs of `group`'s keys in `mode` (the help lists the normal mode's).
pub fn glyphs(group: Group, mode: Mode) -> Glyphs {
    let g = |footer, help, also| Glyphs { footer, help, also };
    let same = |k| g(k, k, "");
    match group {
        Group::Load => same("l"),
        Group::Unload => same("u"),
        Group::Reload => same("r"),
        Group::Step => g("+-", "+ - ↑ ↓", ""),
        Group::BigStep => g("][", "] [ PgUp/Dn", " (also Shift+↑/↓, _)"),
        Group::Type | Group::TypeDigits => same("0-9 K M G"),
        Group::Probe => same("p"),
        Group::Mode => same("m"),
        Group::Alloc => same("a"),
        // In a lesson `b` goes back a page: the pane is `B` there.
        Group::Buddy if mode == Mode::Lesson => same("B"),
        Group::Buddy => same("b"),
        Group::LessonNext => g("n", "n Space", ""),
        Group::LessonBack => same("b"),
        Group::Areas => same("v"),
        Group::AreasSort => same("o"),
        Group::Freeze => same("f"),
        Group::Window => same("z"),
        Group::Why => same("w"),
        Group::Screenshot => same("s"),
        Group::Help => same("?"),
        Group::Quit => g("q", "q Ctrl-C", ""),
        Group::Dismiss | Group::Cancel => same("Esc"),
        Group::Yes => same("y"),
        Group::No => same("n/Esc"),
        Group::Close if mode == Mode::Help => same("Esc/?"),
        Group::Close => same("Esc/w"),
        Group::Set => same("Enter"),
        Group::Delete => same("Bksp"),
    }
}

/// The groups of `mode`'s table in table order, each once (what the footer lists).
pub fn groups(mode: Mode) -> Vec<Group> {
    let mut v: Vec<Group> = Vec::new();
    for b in table(mode) {
        if !v.contains(&b.group) {
            v.push(b.group);
        }
    }
    v
}

impl Chord {
    fn takes(self, code: KeyCode, shift: bool) -> Option<Option<char>> {
        match (self, code) {
            (Chord::Key(k), c) if k == c => Some(None),
            (Chord::Plain(k), c) if k == c && !shift => Some(None),
            (Chord::Shift(k), c) if k == c && shift => Some(None),
            (Chord::Digit, Char(c)) if c.is_ascii_digit() => Some(Some(c)),
            (Chord::Unit, Char(c)) if "kKmMgGtTiIbB".contains(c) => Some(Some(c)),
            _ => None,
        }
    }
}

/// Map a key press to an action; None when the key means nothing here.
pub fn map_key(key: KeyEvent, mode: Mode) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    // Ctrl-C arrives as a key in raw mode: always quit (which may still ask about unloading).
    if ctrl && matches!(key.code, Char('c') | Char('C')) {
        return Some(Action::Quit);
    }
    if ctrl {
        return None;
    }
    table(mode).iter().find_map(|b| {
        let typed = b.chords.iter().find_map(|c| c.takes(key.code, shift))?;
        Some(match (b.action, typed) {
            (Action::Digit(_), Some(c)) => Action::Digit(c),
            (a, _) => a,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn with(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn normal_mode_keys() {
        let n = Mode::Normal;
        assert_eq!(map_key(key(KeyCode::Char('l')), n), Some(Action::Load));
        assert_eq!(map_key(key(KeyCode::Char('u')), n), Some(Action::Unload));
        assert_eq!(map_key(key(KeyCode::Char('r')), n), Some(Action::Reload));
        assert_eq!(map_key(key(KeyCode::Char('p')), n), Some(Action::Probe));
        assert_eq!(
            map_key(key(KeyCode::Char('m')), n),
            Some(Action::ToggleMode)
        );
        assert_eq!(
            map_key(key(KeyCode::Char('a')), n),
            Some(Action::CycleAlloc)
        );
        assert_eq!(
            map_key(key(KeyCode::Char('b')), n),
            Some(Action::ToggleBuddy)
        );
        assert_eq!(
            map_key(key(KeyCode::Char('v')), n),
            Some(Action::ToggleAreas)
        );
        assert_eq!(
            map_key(key(KeyCode::Char('o')), n),
            Some(Action::CycleAreasSort)
        );
        assert_eq!(map_key(key(KeyCode::Char('f')), n), Some(Action::Freeze));
        assert_eq!(
            map_key(key(KeyCode::Char('z')), n),
            Some(Action::CycleWindow)
        );
        assert_eq!(
            map_key(key(KeyCode::Char('?')), n),
            Some(Action::ToggleHelp)
        );
        assert_eq!(map_key(key(KeyCode::Char('q')), n), Some(Action::Quit));
        assert_eq!(map_key(key(KeyCode::Char('w')), n), Some(Action::ToggleWhy));
        assert_eq!(
            map_key(key(KeyCode::Char('s')), n),
            Some(Action::Screenshot)
        );
        // A picture of the help and of the diagnosis too; never as an answer to a dialog.
        assert_eq!(
            map_key(key(KeyCode::Char('s')), Mode::Help),
            Some(Action::Screenshot)
        );
        assert_eq!(
            map_key(key(KeyCode::Char('s')), Mode::Why),
            Some(Action::Screenshot)
        );
        assert_eq!(map_key(key(KeyCode::Char('s')), Mode::Confirm), None);
        assert_eq!(map_key(key(KeyCode::Char('s')), Mode::Typing), None);
        assert_eq!(map_key(key(KeyCode::Esc), n), Some(Action::Cancel));
        assert_eq!(
            map_key(key(KeyCode::Char('7')), n),
            Some(Action::Digit('7'))
        );
        assert_eq!(map_key(key(KeyCode::Char('x')), n), None);
        // 'm' is the mode key in normal mode, not a unit.
        assert_ne!(
            map_key(key(KeyCode::Char('m')), n),
            Some(Action::Digit('m'))
        );
    }

    #[test]
    fn steps_small_and_big() {
        let n = Mode::Normal;
        let up = Some(Action::StepUp { big: false });
        let down = Some(Action::StepDown { big: false });
        let big_up = Some(Action::StepUp { big: true });
        let big_down = Some(Action::StepDown { big: true });
        assert_eq!(map_key(key(KeyCode::Char('+')), n), up);
        // Shift on '+' is reported by some terminals and not others: same meaning either way.
        assert_eq!(
            map_key(with(KeyCode::Char('+'), KeyModifiers::SHIFT), n),
            up
        );
        assert_eq!(map_key(key(KeyCode::Char('=')), n), up);
        assert_eq!(map_key(key(KeyCode::Char('-')), n), down);
        assert_eq!(
            map_key(with(KeyCode::Char('-'), KeyModifiers::SHIFT), n),
            big_down
        );
        assert_eq!(map_key(key(KeyCode::Char('_')), n), big_down);
        assert_eq!(map_key(key(KeyCode::Char(']')), n), big_up);
        assert_eq!(map_key(key(KeyCode::Char('[')), n), big_down);
        assert_eq!(map_key(key(KeyCode::PageUp), n), big_up);
        assert_eq!(map_key(key(KeyCode::PageDown), n), big_down);
        assert_eq!(map_key(key(KeyCode::Up), n), up);
        assert_eq!(map_key(with(KeyCode::Up, KeyModifiers::SHIFT), n), big_up);
        assert_eq!(
            map_key(with(KeyCode::Down, KeyModifiers::SHIFT), n),
            big_down
        );
    }

    #[test]
    fn ctrl_c_quits_in_every_mode() {
        for mode in [
            Mode::Normal,
            Mode::Typing,
            Mode::Confirm,
            Mode::Help,
            Mode::Why,
        ] {
            assert_eq!(
                map_key(with(KeyCode::Char('c'), KeyModifiers::CONTROL), mode),
                Some(Action::Quit),
                "{mode:?}"
            );
        }
        // Ctrl-L is not a load.
        assert_eq!(
            map_key(
                with(KeyCode::Char('l'), KeyModifiers::CONTROL),
                Mode::Normal
            ),
            None
        );
    }

    #[test]
    fn typing_accepts_units_and_enter() {
        let t = Mode::Typing;
        assert_eq!(
            map_key(key(KeyCode::Char('2')), t),
            Some(Action::Digit('2'))
        );
        assert_eq!(
            map_key(key(KeyCode::Char('G')), t),
            Some(Action::Digit('G'))
        );
        assert_eq!(
            map_key(key(KeyCode::Char('m')), t),
            Some(Action::Digit('m'))
        );
        assert_eq!(map_key(key(KeyCode::Enter), t), Some(Action::SubmitMemsize));
        assert_eq!(map_key(key(KeyCode::Backspace), t), Some(Action::Backspace));
        assert_eq!(map_key(key(KeyCode::Esc), t), Some(Action::Cancel));
        // Commands do not fire while typing.
        assert_eq!(map_key(key(KeyCode::Char('l')), t), None);
        assert_eq!(map_key(key(KeyCode::Char('q')), t), None);
    }

    #[test]
    fn confirm_and_help_modes() {
        let c = Mode::Confirm;
        assert_eq!(
            map_key(key(KeyCode::Char('y')), c),
            Some(Action::Confirm(true))
        );
        assert_eq!(
            map_key(key(KeyCode::Char('N')), c),
            Some(Action::Confirm(false))
        );
        assert_eq!(map_key(key(KeyCode::Esc), c), Some(Action::Cancel));
        // Nothing else answers a dialog: not Enter, not 'l'.
        assert_eq!(map_key(key(KeyCode::Enter), c), None);
        assert_eq!(map_key(key(KeyCode::Char('l')), c), None);
        // q again while asked (stop a load and quit, or leave the module loaded).
        assert_eq!(map_key(key(KeyCode::Char('q')), c), Some(Action::Quit));
        let h = Mode::Help;
        assert_eq!(map_key(key(KeyCode::Esc), h), Some(Action::ToggleHelp));
        assert_eq!(
            map_key(key(KeyCode::Char('?')), h),
            Some(Action::ToggleHelp)
        );
        assert_eq!(map_key(key(KeyCode::Char('l')), h), None);
        let w = Mode::Why;
        assert_eq!(map_key(key(KeyCode::Esc), w), Some(Action::ToggleWhy));
        assert_eq!(map_key(key(KeyCode::Char('w')), w), Some(Action::ToggleWhy));
        assert_eq!(map_key(key(KeyCode::Char('q')), w), Some(Action::Quit));
        assert_eq!(
            map_key(key(KeyCode::Char('l')), w),
            None,
            "no load from behind it"
        );
    }

    /// The key a glyph names ("l", "Esc", "PgUp", "Shift+↑", "0-9", ...), None for words.
    fn key_of(glyph: &str) -> Vec<KeyEvent> {
        let (shift, name) = match glyph.strip_prefix("Shift+") {
            Some(n) => (KeyModifiers::SHIFT, n),
            None => (KeyModifiers::NONE, glyph),
        };
        let code = match name {
            "Esc" => KeyCode::Esc,
            "Enter" => KeyCode::Enter,
            "Bksp" => KeyCode::Backspace,
            "PgUp" => KeyCode::PageUp,
            "PgDn" => KeyCode::PageDown,
            "↑" => KeyCode::Up,
            "↓" => KeyCode::Down,
            "0-9" => return vec![key(Char('0')), key(Char('9'))],
            n if n.chars().count() == 1 => Char(n.chars().next().unwrap_or(' ')),
            other => panic!("glyph {other:?} names no key"),
        };
        vec![with(code, shift)]
    }

    /// Every glyph the footer and the help show names a key that `map_key` gives to that
    /// group, in that mode: rebinding a key without its glyph fails here.
    #[test]
    fn every_glyph_is_a_key_of_its_group() {
        let group_of = |k: KeyEvent, mode: Mode| {
            table(mode).iter().find_map(|b| {
                b.chords
                    .iter()
                    .any(|c| {
                        c.takes(k.code, k.modifiers.contains(KeyModifiers::SHIFT))
                            .is_some()
                    })
                    .then_some(b.group)
            })
        };
        for mode in [
            Mode::Normal,
            Mode::Typing,
            Mode::Confirm,
            Mode::Help,
            Mode::Why,
        ] {
            for group in groups(mode) {
                let gl = glyphs(group, mode);
                let shown = if mode == Mode::Normal {
                    vec![gl.footer, gl.help, gl.also]
                } else {
                    vec![gl.footer]
                };
                for text in shown {
                    let items = text
                        .split([' ', ','])
                        .map(|w| w.trim_matches(['(', ')']))
                        .filter(|w| !w.is_empty() && *w != "also");
                    for item in items {
                        // "PgUp/Dn", "Shift+↑/↓": the alternatives after the first keep its
                        // prefix; "+-", "][": two keys in two characters.
                        let mut alts: Vec<String> = Vec::new();
                        for (i, a) in item.split('/').enumerate() {
                            let first = alts.first().cloned().unwrap_or_default();
                            alts.push(match (i, a) {
                                (0, _) => a.to_string(),
                                (_, "Dn") if first == "PgUp" => "PgDn".into(),
                                _ if first.starts_with("Shift+") => format!("Shift+{a}"),
                                _ => a.to_string(),
                            });
                        }
                        if item.chars().count() == 2 && item.chars().all(|c| !c.is_alphanumeric()) {
                            alts = item.chars().map(String::from).collect();
                        }
                        for a in alts {
                            if a == "Ctrl-C" {
                                assert_eq!(group, Group::Quit, "{mode:?}: {text}");
                                continue;
                            }
                            // The help's typing line is about the typing mode's keys.
                            let (modes, want) = match group {
                                Group::Type => (
                                    vec![Mode::Normal, Mode::Typing],
                                    vec![Group::Type, Group::TypeDigits],
                                ),
                                g => (vec![mode], vec![g]),
                            };
                            for k in key_of(&a) {
                                assert!(
                                    modes.iter().any(|m| group_of(k, *m).is_some_and(|g| want.contains(&g))),
                                    "{mode:?} {group:?}: {a:?} (in {text:?}) is not one of its keys"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn key_release_is_ignored() {
        let mut k = key(KeyCode::Char('l'));
        k.kind = KeyEventKind::Release;
        assert_eq!(map_key(k, Mode::Normal), None);
    }
}
