//! The dashboard used as a person would: in tmux, keys typed with send-keys, the screen read
//! with capture-pane (the host tests and the lab's dashboard tests).

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    name: String,
}

impl Tmux {
    pub fn start(name: &str, cols: u16, rows: u16, cmd: &str) -> Tmux {
        let name = format!("{name}-{}", std::process::id());
        // A tmux server started earlier runs commands with its own environment: pass on
        // which lab dir and kernel this test run uses.
        let env: Vec<String> = ["VMTOP_LAB_DIR", "VMTOP_LAB_KERNEL"]
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| format!("{k}={v}")))
            .flat_map(|kv| ["-e".to_string(), kv])
            .collect();
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                &cols.to_string(),
                "-y",
                &rows.to_string(),
            ])
            .args(&env)
            .arg(cmd)
            .env("TERM", "xterm-256color")
            .status()
            .expect("tmux installed (make test installs it)");
        assert!(ok.success());
        // Keep the pane (and its last screen) after the program exits.
        let _ = Command::new("tmux")
            .args(["set-option", "-t", &name, "remain-on-exit", "on"])
            .status();
        Tmux { name }
    }

    pub fn resize(&self, cols: u16, rows: u16) {
        let ok = Command::new("tmux")
            .args(["resize-window", "-t", &self.name, "-x", &cols.to_string()])
            .args(["-y", &rows.to_string()])
            .status()
            .expect("tmux resize-window");
        assert!(ok.success());
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The pane's whole history (scrollback included), oldest line first.
    pub fn history(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-S", "-", "-t", &self.name])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            let ok = Command::new("tmux")
                .args(["send-keys", "-t", &self.name, k])
                .status()
                .expect("send-keys");
            assert!(ok.success());
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Wait until `pred(screen)` holds; panics with the last screen after `secs`.
    pub fn wait_for(&self, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > Duration::from_secs(secs) {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    pub fn dead_status(&self) -> Option<i32> {
        let out = Command::new("tmux")
            .args([
                "display-message",
                "-p",
                "-t",
                &self.name,
                "#{pane_dead_status}",
            ])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    }

    pub fn dead(&self) -> bool {
        let out = Command::new("tmux")
            .args(["display-message", "-p", "-t", &self.name, "#{pane_dead}"])
            .output()
            .expect("display-message");
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}

/// Columns used by the widest line of a captured screen.
pub fn widest(screen: &str) -> usize {
    screen
        .lines()
        .map(|l| l.trim_end().chars().count())
        .max()
        .unwrap_or(0)
}

/// The figure after `label` on the screen in MiB, e.g. "VmallocUsed 205 MiB" (GiB and KiB
/// converted).
pub fn mib_after(screen: &str, label: &str) -> Option<f64> {
    let at = screen.find(label)? + label.len();
    let rest = screen[at..].trim_start();
    let num: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let v: f64 = num.parse().ok()?;
    let unit = rest[num.len()..].trim_start();
    if unit.starts_with("GiB") {
        Some(v * 1024.0)
    } else if unit.starts_with("MiB") {
        Some(v)
    } else if unit.starts_with("KiB") {
        Some(v / 1024.0)
    } else {
        None
    }
}
