//! `vmtop areas`: who holds the vmalloc address space. Once (text or JSON), or live: the
//! dashboard's areas pane on the whole screen, re-read every `--interval`.

use std::io::IsTerminal as _;

use anyhow::Context as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::print_json;
use crate::app::areas::AreasView;
use crate::cli::exit;
use crate::system::vmareas::{
    group_filtered, summary_text, table_text, KindFilter, ModuleHint, SortBy, TableOptions,
};
use crate::units::KIB;

/// The largest saved copy `--file` reads (a busy machine's file is a few MiB).
const FILE_MAX: u64 = 64 << 20;

/// The command line's choices.
#[derive(Debug, Clone)]
pub(super) struct AreasArgs {
    pub sort: SortBy,
    pub kind: Option<KindFilter>,
    pub once: bool,
    pub map: bool,
    pub top: usize,
    pub json: bool,
    pub file: Option<PathBuf>,
    pub interval: Duration,
}

/// `VmallocTotal N kB` in a capture's `#` header (scripts/capture-fixtures.sh writes it), in
/// bytes: the map of a saved file needs the window of the machine it came from.
fn header_vmalloc_total(text: &str) -> Option<u64> {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| {
            let at = l.find("VmallocTotal ")? + "VmallocTotal ".len();
            let n: u64 = l[at..].split(' ').next()?.parse().ok()?;
            Some(n * KIB)
        })
}

pub(super) fn areas(a: AreasArgs) -> anyhow::Result<i32> {
    let sample = crate::system::meminfo::MeminfoReader::open(std::path::Path::new("/proc/meminfo"))
        .ok()
        .and_then(|mut r| r.read().ok().map(|s| (s, r.kernel_memory())));
    let (mut total, kernel) = match &sample {
        Some((s, k)) => (s.vmalloc_total, *k),
        None => (0, None),
    };
    // A saved copy is read as the user behind sudo (crate::files): root shows nothing of a
    // file the user could not read.
    let saved = match &a.file {
        Some(p) => {
            let bytes = crate::files::read(p, FILE_MAX)
                .with_context(|| format!("reading {}", p.display()))?
                .ok_or_else(|| anyhow::anyhow!("{}: no such file", p.display()))?;
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        None => None,
    };
    let mut view = match &saved {
        Some(text) => {
            if let Some(t) = header_vmalloc_total(text) {
                total = t;
            }
            AreasView::from_text(text.clone())
        }
        None => AreasView::default(),
    };
    view.sort = a.sort;
    view.map_wanted = a.map;
    // A saved file is another machine's: neither this machine's module nor its figures.
    let hint = || {
        if a.file.is_some() {
            None
        } else {
            crate::module::sysfs::buffer_hint()
        }
    };
    if a.file.is_none() {
        view.on_sample(kernel);
    }
    let live = !a.once && !a.json && std::io::stdout().is_terminal();
    if live {
        return live_view(view, &a, total, hint);
    }
    view.refresh(hint(), total);
    if let Some(e) = &view.error {
        eprintln!("vmtop: {e}");
        let denied = e.contains("root only");
        return Ok(if denied {
            exit::NOT_PERMITTED
        } else {
            exit::FAILED
        });
    }
    // A flag word (vpages) selects areas, not groups: group those areas alone.
    let filtered;
    let s = match a.kind {
        Some(f @ KindFilter::Flag(_)) => {
            let text = match &saved {
                Some(t) => t.clone(),
                None => std::fs::read_to_string(crate::system::vmareas::PATH)
                    .with_context(|| format!("reading {}", crate::system::vmareas::PATH))?,
            };
            filtered = group_filtered(&text, f, hint());
            &filtered
        }
        _ => view.snapshot(),
    };
    let opts = TableOptions {
        sort: a.sort,
        kind: a.kind,
        limit: a.top,
    };
    let map = if view.shows_map() {
        view.map.as_ref()
    } else {
        None
    };
    if a.json {
        let groups = crate::system::vmareas::select(s, &TableOptions { limit: 0, ..opts });
        print_json(&serde_json::json!({
            "source": a.file.clone().unwrap_or_else(|| crate::system::vmareas::PATH.into()),
            "addresses": s.addresses(),
            "areas": s.areas,
            "bytes": s.bytes,
            "pages": s.pages,
            "kinds": &s.kinds,
            "groups": groups,
            "module": s.module_group(),
            "vmalloc_total": (total > 0).then_some(total),
            "map": map.and_then(|m| m.as_ref().ok()),
            "map_unavailable": match map {
                Some(Err(why)) => Some(why.clone()),
                None if a.map => Some("no map: /proc/meminfo unreadable".to_string()),
                _ => None,
            },
            "kernel_memory": view.kernel,
            "pressure": match &view.pressure {
                Some(Ok(p)) => serde_json::to_value(p).ok(),
                _ => None,
            },
            "pressure_unavailable": match &view.pressure {
                Some(Err(e)) => Some(e.clone()),
                _ => None,
            },
        }))?;
        return Ok(exit::OK);
    }
    println!(
        "{}: {}",
        a.file
            .as_ref()
            .map_or(crate::system::vmareas::PATH.to_string(), |p| p
                .display()
                .to_string()),
        summary_text(s)
    );
    if let Some(k) = &view.kernel {
        let mut line = format!("kernel memory: {}", k.line());
        match &view.pressure {
            Some(Ok(p)) => line.push_str(&format!("; pressure (PSI avg10) {}", p.short())),
            Some(Err(e)) => line.push_str(&format!("; pressure: {e}")),
            None => {}
        }
        println!("{line}");
    }
    match map {
        Some(Ok(m)) => print!("{}", m.render_text(64, 4)),
        Some(Err(why)) => println!("{why}"),
        None => {}
    }
    if let Some(why) = (s.addresses() != crate::system::vmareas::Addresses::Real)
        .then(|| {
            s.addresses()
                .no_map_reason(crate::system::vmareas::kptr_restrict())
        })
        .flatten()
        .filter(|_| map.is_none())
    {
        println!("{why}");
    }
    print!("{}", table_text(s, &opts, None));
    Ok(exit::OK)
}

/// The pane on the whole screen: q/Esc quits, o changes the order, m draws the map. TERM, INT and HUP
/// end it as q does (the terminal restored).
fn live_view(
    mut view: AreasView,
    a: &AreasArgs,
    mut total: u64,
    hint: impl Fn() -> Option<ModuleHint>,
) -> anyhow::Result<i32> {
    use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    let mut term = ratatui::init();
    let th = crate::ui::theme::Theme::new(crate::ui::theme::no_color_requested());
    let mut meminfo =
        crate::system::meminfo::MeminfoReader::open(std::path::Path::new("/proc/meminfo")).ok();
    let mut next = Instant::now();
    let result = loop {
        if stop.load(Ordering::SeqCst) {
            break Ok(exit::OK);
        }
        if Instant::now() >= next {
            if a.file.is_none() {
                if let Some(r) = meminfo.as_mut() {
                    if let Ok(s) = r.read() {
                        total = s.vmalloc_total;
                    }
                    view.on_sample(r.kernel_memory());
                }
            }
            view.refresh(hint(), total);
            next = Instant::now() + a.interval;
        }
        let drawn = term.draw(|f| {
            let area = f.area();
            crate::ui::areas::render(
                f,
                area,
                &view,
                crate::ui::areas::PaneText {
                    close_hint: "m map · q quits",
                },
                &th,
            );
        });
        if let Err(e) = drawn {
            break Err(anyhow::Error::from(e).context("drawing vmtop areas"));
        }
        let wait = next
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(250));
        match event::poll(wait) {
            Ok(true) => match event::read() {
                Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => match k.code {
                    KeyCode::Char('q') | KeyCode::Esc => break Ok(exit::OK),
                    KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                        break Ok(exit::OK)
                    }
                    KeyCode::Char('o') => view.sort = view.sort.next(),
                    KeyCode::Char('m') => view.map_wanted = !view.map_wanted,
                    _ => {}
                },
                Ok(_) => {}
                Err(e) => break Err(anyhow::Error::from(e).context("reading the keyboard")),
            },
            Ok(false) => {}
            Err(e) => break Err(anyhow::Error::from(e).context("waiting for the keyboard")),
        }
    };
    ratatui::restore();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_captures_header_gives_its_vmalloc_total() {
        let t = include_str!("../../testdata/vmallocinfo-i686-100m.txt");
        assert_eq!(header_vmalloc_total(t), Some(122_880 * KIB));
        assert_eq!(header_vmalloc_total("0x1-0x2 4096 x\n"), None);
    }
}
