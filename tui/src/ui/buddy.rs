//! The buddyinfo pane: /proc/buddyinfo as the page allocator keeps it, one row per zone,
//! one column per order (free blocks of 2^order pages). An order with no free block shows
//! `·` (dim), the largest free order of each zone is bold, and the row ends with that
//! order: the largest physically contiguous block the zone can give now.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::theme::Theme;
use crate::app::App;
use crate::units::fmt_bytes;

/// Rows the pane takes: its title, the order header, one per zone (one for a message when
/// there is no reading).
pub fn height(app: &App) -> u16 {
    let zones = u16::try_from(app.buddy.zones.len()).unwrap_or(u16::MAX);
    zones.max(1).saturating_add(2)
}

/// Bytes of a block of `order`, short: "4K", "2M".
fn block(order: usize, page: u64) -> String {
    let b = page
        .checked_shl(u32::try_from(order).unwrap_or(u32::MAX))
        .unwrap_or(u64::MAX);
    let (v, unit) = if b >= 1 << 30 {
        (b >> 30, "G")
    } else if b >= 1 << 20 {
        (b >> 20, "M")
    } else {
        (b >> 10, "K")
    };
    format!("{v}{unit}")
}

/// A count in at most `width` characters (the k, M, G forms where it must): 56753 in 4 is "56k".
fn count(n: u64, width: usize) -> String {
    let plain = n.to_string();
    if plain.len() <= width {
        return plain;
    }
    [(1_000, "k"), (1_000_000, "M"), (1_000_000_000, "G")]
        .iter()
        .map(|(d, unit)| format!("{}{unit}", n / d))
        .find(|t| t.len() <= width)
        .unwrap_or_else(|| format!("{}G", n / 1_000_000_000))
}

/// The page size the counts are in: the module's, else this process's.
fn page_size(app: &App) -> u64 {
    app.known_limits()
        .map(|l| l.page_size)
        .unwrap_or_else(procfs::page_size)
}

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let b = &app.buddy;
    let page = page_size(app);
    let orders = b.orders();
    let wide = area.width >= 120;
    let title = Line::from(vec![
        Span::styled("Free blocks per order ", th.title()),
        Span::styled(
            format!(
                "{}{} hides ",
                if wide {
                    "/proc/buddyinfo · none free · largest free order bold · "
                } else {
                    "/proc/buddyinfo · none · "
                },
                // In a lesson `b` goes back a page and `B` is this pane's key.
                if app.mode() == crate::app::Mode::Lesson {
                    "B"
                } else {
                    "b"
                }
            ),
            th.dim(),
        ),
    ]);
    let inner = super::title_rule(f, area, title, th);
    if inner.height == 0 {
        return;
    }
    if b.zones.is_empty() {
        let why = app
            .buddy_error
            .clone()
            .unwrap_or_else(|| "(not read yet)".into());
        f.render_widget(Line::styled(why, th.dim()), inner);
        return;
    }
    let name_w = b
        .zones
        .iter()
        .map(|z| z.name.chars().count() + 3)
        .max()
        .unwrap_or(8)
        .max(5);
    let tail_w = if wide { 34 } else { 8 };
    let cell =
        (usize::from(inner.width).saturating_sub(name_w + tail_w) / orders.max(1)).clamp(4, 9);
    let sizes = cell >= 7;

    let mut rows: Vec<Line> = Vec::with_capacity(b.zones.len() + 1);
    let mut head = vec![Span::styled(format!("{:<name_w$}", "order"), th.dim())];
    for k in 0..orders {
        let label = if sizes {
            format!("{k}:{}", block(k, page))
        } else {
            k.to_string()
        };
        head.push(Span::styled(format!("{label:>cell$}"), th.dim()));
    }
    head.push(Span::styled(
        if wide {
            "  largest free block, zone free"
        } else {
            "  max"
        },
        th.dim(),
    ));
    rows.push(Line::from(head));

    for z in &b.zones {
        let top = z.largest_free_order();
        let mut spans = vec![Span::styled(
            format!("{:<name_w$}", format!("N{} {}", z.node, z.name)),
            th.bold(),
        )];
        for k in 0..orders {
            let n = z.free.get(k).copied().unwrap_or(0);
            let (text, style) = if n == 0 {
                ("·".to_string(), th.dim())
            } else if top.is_some_and(|t| usize::try_from(t).ok() == Some(k)) {
                (count(n, cell - 1), th.bold())
            } else {
                (count(n, cell - 1), th.plain())
            };
            spans.push(Span::styled(format!("{text:>cell$}"), style));
        }
        let tail = match top {
            None => "  none free".to_string(),
            Some(t) if wide => format!(
                "  order {t} ({}), {} free",
                fmt_bytes(page.checked_shl(t).unwrap_or(u64::MAX)),
                fmt_bytes(z.free_pages().saturating_mul(page))
            ),
            Some(t) => format!("  {t}"),
        };
        spans.push(Span::styled(tail, th.bold()));
        rows.push(Line::from(spans));
    }
    super::render_wrapped(f, inner, rows);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_sizes_and_counts() {
        assert_eq!(block(0, 4096), "4K");
        assert_eq!(block(9, 4096), "2M");
        assert_eq!(block(10, 4096), "4M");
        assert_eq!(count(220, 4), "220");
        assert_eq!(count(56_753, 4), "56k");
        assert_eq!(count(56_753, 5), "56753");
        assert_eq!(count(123_456, 4), "123k");
        assert_eq!(count(12_345_678, 4), "12M");
        assert_eq!(count(12_345_678, 3), "12M");
    }
}
