//! Pictures and pages made from what vmtop shows and records (docs/export.md):
//!
//! - `screen`: the dashboard's screen (a ratatui `Buffer`) as SVG or PNG, cell for cell:
//!   text stays text (SVG), colours and bold are kept, and braille, box-drawing and block
//!   characters are drawn as dots, lines and rectangles, so that the charts do not depend on
//!   the viewer's fonts.
//! - `plot`: a recording as a chart for a slide (plotters: SVG, or PNG through `raster`).
//! - `report`: a recording as one self-contained HTML page with its charts inline.
//! - `palette`: the colours of each theme for pictures; `font`: the bundled fonts (subsets of
//!   DejaVu, assets/fonts), so that a PNG is the same on every machine; `raster`: pixels and
//!   PNG encoding.
//!
//! Nothing here reads the kernel or writes a file: callers write what these return through
//! `files`, whole or not at all.

pub mod font;
pub mod palette;
pub mod plot;
pub mod raster;
pub mod report;
pub mod screen;
