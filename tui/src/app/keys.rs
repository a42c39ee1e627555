//! Keys to actions, depending on what is on screen.
//!
//! Normal mode:
//! `l` load · `u` unload · `r` reload · `+`/`=`/`↑` +16 MiB · `-`/`↓` -16 MiB ·
//! `]`/`PgUp`/`Shift+↑` +256 MiB · `[`/`_`/`PgDn`/`Shift+↓` -256 MiB · digits start typing a
//! memsize · `p` probe · `m` safe/unsafe · `f` freeze · `z` window · `?` help · `q` quit ·
//! `Esc` dismiss the failure banner · `Ctrl-C` quit.
//!
//! Terminals report Shift on `+` inconsistently (`+` is already Shift+`=` on most layouts), so
//! the big steps have their own keys instead of depending on the modifier.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::Action;

/// Small memsize step, MiB.
pub const STEP_SMALL_MIB: u64 = 16;
/// Large memsize step, MiB.
pub const STEP_BIG_MIB: u64 = 256;

/// What the keyboard is talking to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing a memsize.
    Typing,
    /// A y/N dialog is open.
    Confirm,
    /// The help overlay is open.
    Help,
    /// The whole diagnosis of the last failure is open.
    Why,
}

/// Map a key press to an action; None when the key means nothing here.
pub fn map_key(key: KeyEvent, mode: Mode) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    // Ctrl-C arrives as a key in raw mode: always quit (which may still ask about unloading).
    if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C')) {
        return Some(Action::Quit);
    }
    if ctrl {
        return None;
    }
    match mode {
        Mode::Confirm => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => Some(Action::Confirm(true)),
            KeyCode::Char('n') | KeyCode::Char('N') => Some(Action::Confirm(false)),
            KeyCode::Esc => Some(Action::Cancel),
            _ => None,
        },
        Mode::Help => match key.code {
            KeyCode::Char('q') => Some(Action::Quit),
            KeyCode::Esc | KeyCode::Char('?') | KeyCode::Enter => Some(Action::ToggleHelp),
            _ => None,
        },
        Mode::Why => match key.code {
            KeyCode::Char('q') => Some(Action::Quit),
            KeyCode::Esc | KeyCode::Char('w') | KeyCode::Enter => Some(Action::ToggleWhy),
            _ => None,
        },
        Mode::Typing => match key.code {
            KeyCode::Enter => Some(Action::SubmitMemsize),
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Char(c) if c.is_ascii_digit() => Some(Action::Digit(c)),
            KeyCode::Char(c) if "kKmMgGtTiIbB".contains(c) => Some(Action::Digit(c)),
            _ => None,
        },
        Mode::Normal => match key.code {
            KeyCode::Char('l') => Some(Action::Load),
            KeyCode::Char('u') => Some(Action::Unload),
            KeyCode::Char('r') => Some(Action::Reload),
            KeyCode::Char('+') | KeyCode::Char('=') => Some(Action::StepUp { big: false }),
            KeyCode::Char('-') if shift => Some(Action::StepDown { big: true }),
            KeyCode::Char('-') => Some(Action::StepDown { big: false }),
            KeyCode::Char(']') | KeyCode::PageUp => Some(Action::StepUp { big: true }),
            KeyCode::Char('[') | KeyCode::Char('_') | KeyCode::PageDown => {
                Some(Action::StepDown { big: true })
            }
            KeyCode::Up => Some(Action::StepUp { big: shift }),
            KeyCode::Down => Some(Action::StepDown { big: shift }),
            KeyCode::Char(c) if c.is_ascii_digit() => Some(Action::Digit(c)),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Char('p') => Some(Action::Probe),
            KeyCode::Char('m') => Some(Action::ToggleMode),
            KeyCode::Char('f') => Some(Action::Freeze),
            KeyCode::Char('z') => Some(Action::CycleWindow),
            KeyCode::Char('?') | KeyCode::F(1) => Some(Action::ToggleHelp),
            KeyCode::Char('w') => Some(Action::ToggleWhy),
            KeyCode::Char('q') => Some(Action::Quit),
            KeyCode::Esc => Some(Action::Cancel),
            _ => None,
        },
    }
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

    #[test]
    fn key_release_is_ignored() {
        let mut k = key(KeyCode::Char('l'));
        k.kind = KeyEventKind::Release;
        assert_eq!(map_key(k, Mode::Normal), None);
    }
}
