//! Renders a ratatui [`Buffer`] (e.g. a `TestBackend`'s) as a standalone SVG picture.
//!
//! Screens in docs and review artefacts are then real renders of the UI, not hand-drawn mock-ups,
//! and a reviewer can look at a snapshot without a terminal. Every cell is placed on a fixed grid;
//! each run of same-style cells becomes one `<text>` squeezed to its exact cell width
//! (`textLength`), so a font whose glyphs are not exactly 0.6 em wide still lines up.

use std::fmt::Write as _;

use ratatui::buffer::{Buffer, Cell};
use ratatui::style::{Color, Modifier};
use unicode_width::UnicodeWidthStr;

/// Width of one terminal cell in SVG user units (0.6 em of the font size: a typical monospace
/// advance).
const CELL_W: f32 = 9.0;
/// Height of one terminal cell in SVG user units.
const CELL_H: f32 = 18.0;
/// Distance from a cell's top edge to the text baseline.
const BASELINE: f32 = 13.5;
const FONT_SIZE: f32 = 15.0;
const FONT_FAMILY: &str = "'DejaVu Sans Mono', 'Cascadia Mono', Menlo, Consolas, monospace";
/// The terminal's default background and foreground (`Color::Reset`).
const DEFAULT_BG: Rgb = Rgb(0x1e, 0x1e, 0x2e);
const DEFAULT_FG: Rgb = Rgb(0xd4, 0xd4, 0xd4);

/// The 16 ANSI colours of a dark theme, indexed like xterm's palette 0–15.
const ANSI: [Rgb; 16] = [
    Rgb(0x1e, 0x1e, 0x1e),
    Rgb(0xe0, 0x55, 0x61),
    Rgb(0x8c, 0xc2, 0x65),
    Rgb(0xd1, 0x8f, 0x52),
    Rgb(0x4a, 0xa5, 0xf0),
    Rgb(0xc1, 0x62, 0xde),
    Rgb(0x42, 0xb3, 0xc2),
    Rgb(0xc8, 0xc8, 0xc8),
    Rgb(0x5c, 0x63, 0x70),
    Rgb(0xff, 0x61, 0x6e),
    Rgb(0xa5, 0xe0, 0x75),
    Rgb(0xf0, 0xa4, 0x5d),
    Rgb(0x4d, 0xc4, 0xff),
    Rgb(0xde, 0x73, 0xff),
    Rgb(0x4c, 0xd1, 0xe0),
    Rgb(0xf2, 0xf2, 0xf2),
];

/// A colour, displayed as CSS `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rgb(u8, u8, u8);

impl std::fmt::Display for Rgb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// Returns a standalone SVG document showing `buffer` as a dark-themed terminal would.
pub fn buffer_to_svg(buffer: &Buffer) -> String {
    let area = buffer.area;
    let (width, height) = (
        f32::from(area.width) * CELL_W,
        f32::from(area.height) * CELL_H,
    );
    let rows: Vec<Vec<Run>> = (0..area.height)
        .map(|dy| row_runs(buffer, area.y + dy))
        .collect();
    let mut svg = String::with_capacity(usize::from(area.width) * usize::from(area.height) * 4);
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"{FONT_FAMILY}\" font-size=\"{FONT_SIZE}\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"{DEFAULT_BG}\"/>\n"
    );
    svg.push_str("<g shape-rendering=\"crispEdges\">\n");
    for (dy, runs) in rows.iter().enumerate() {
        for run in runs.iter().filter(|r| r.look.bg != DEFAULT_BG) {
            write_rect(&mut svg, run, dy);
        }
    }
    svg.push_str("</g>\n<g xml:space=\"preserve\">\n");
    for (dy, runs) in rows.iter().enumerate() {
        for run in runs.iter().filter(|r| r.is_visible()) {
            write_text(&mut svg, run, dy);
        }
    }
    svg.push_str("</g>\n</svg>\n");
    svg
}

/// How a cell looks once reversal and defaults are resolved: what decides a run's boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Look {
    fg: Rgb,
    bg: Rgb,
    bold: bool,
    italic: bool,
    dim: bool,
    underline: bool,
    crossed: bool,
    hidden: bool,
}

impl Look {
    fn of(cell: &Cell) -> Self {
        let m = cell.modifier;
        let mut fg = colour(cell.fg).unwrap_or(DEFAULT_FG);
        let mut bg = colour(cell.bg).unwrap_or(DEFAULT_BG);
        if m.contains(Modifier::REVERSED) {
            std::mem::swap(&mut fg, &mut bg);
        }
        Look {
            fg,
            bg,
            bold: m.contains(Modifier::BOLD),
            italic: m.contains(Modifier::ITALIC),
            dim: m.contains(Modifier::DIM),
            underline: m.contains(Modifier::UNDERLINED),
            crossed: m.contains(Modifier::CROSSED_OUT),
            hidden: m.contains(Modifier::HIDDEN),
        }
    }
}

/// Consecutive cells of one row sharing a [`Look`].
#[derive(Debug)]
struct Run {
    /// Column of the first cell, relative to the buffer's area.
    x: u16,
    /// Number of cells covered (a wide glyph covers two).
    cells: u16,
    text: String,
    look: Look,
}

impl Run {
    /// Whether drawing its text would change any pixel: blank runs only need their background.
    fn is_visible(&self) -> bool {
        let decorated = self.look.underline || self.look.crossed;
        !self.look.hidden && (decorated || !self.text.chars().all(char::is_whitespace))
    }
}

/// Splits row `y` into runs of same-look cells. A wide glyph swallows the cells it covers, so
/// their (reset) style never splits the run it belongs to.
fn row_runs(buffer: &Buffer, y: u16) -> Vec<Run> {
    let area = buffer.area;
    let mut runs: Vec<Run> = Vec::new();
    let mut x = area.x;
    while x < area.right() {
        let Some(cell) = buffer.cell((x, y)) else {
            break;
        };
        let symbol = cell.symbol();
        let width = u16::try_from(symbol.width())
            .unwrap_or(1)
            .clamp(1, area.right() - x);
        let look = Look::of(cell);
        match runs.last_mut() {
            Some(run) if run.look == look => {
                run.cells += width;
                push_escaped(&mut run.text, symbol);
            }
            _ => {
                let mut text = String::new();
                push_escaped(&mut text, symbol);
                runs.push(Run {
                    x: x - area.x,
                    cells: width,
                    text,
                    look,
                });
            }
        }
        x += width;
    }
    runs
}

fn write_rect(svg: &mut String, run: &Run, row: usize) {
    let _ = writeln!(
        svg,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{CELL_H}\" fill=\"{}\"/>",
        f32::from(run.x) * CELL_W,
        row as f32 * CELL_H,
        f32::from(run.cells) * CELL_W,
        run.look.bg,
    );
}

fn write_text(svg: &mut String, run: &Run, row: usize) {
    let look = &run.look;
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{}\" textLength=\"{}\" lengthAdjust=\"spacingAndGlyphs\" fill=\"{}\"",
        f32::from(run.x) * CELL_W,
        row as f32 * CELL_H + BASELINE,
        f32::from(run.cells) * CELL_W,
        look.fg,
    );
    if look.bold {
        svg.push_str(" font-weight=\"bold\"");
    }
    if look.italic {
        svg.push_str(" font-style=\"italic\"");
    }
    if look.dim {
        svg.push_str(" opacity=\"0.6\"");
    }
    match (look.underline, look.crossed) {
        (true, true) => svg.push_str(" text-decoration=\"underline line-through\""),
        (true, false) => svg.push_str(" text-decoration=\"underline\""),
        (false, true) => svg.push_str(" text-decoration=\"line-through\""),
        (false, false) => {}
    }
    let _ = writeln!(svg, ">{}</text>", run.text);
}

/// Appends `s` XML-escaped. Control characters are not allowed in XML 1.0 at all (not even as
/// character references), and cell text may come from untrusted data: they become U+FFFD.
fn push_escaped(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// Maps a ratatui colour to the dark palette; `None` for `Reset` (the terminal default).
fn colour(color: Color) -> Option<Rgb> {
    let named = |i: usize| Some(ANSI[i]);
    match color {
        Color::Reset => None,
        Color::Black => named(0),
        Color::Red => named(1),
        Color::Green => named(2),
        Color::Yellow => named(3),
        Color::Blue => named(4),
        Color::Magenta => named(5),
        Color::Cyan => named(6),
        Color::Gray => named(7),
        Color::DarkGray => named(8),
        Color::LightRed => named(9),
        Color::LightGreen => named(10),
        Color::LightYellow => named(11),
        Color::LightBlue => named(12),
        Color::LightMagenta => named(13),
        Color::LightCyan => named(14),
        Color::White => named(15),
        Color::Indexed(i) => Some(indexed(i)),
        Color::Rgb(r, g, b) => Some(Rgb(r, g, b)),
    }
}

/// xterm's 256-colour palette: 16 theme colours, a 6×6×6 cube, then 24 greys.
fn indexed(i: u8) -> Rgb {
    match i {
        0..=15 => ANSI[usize::from(i)],
        16..=231 => {
            let n = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
            Rgb(level(n / 36), level(n / 6 % 6), level(n % 6))
        }
        232..=255 => {
            let v = 8 + 10 * (i - 232);
            Rgb(v, v, v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    fn buffer(width: u16, height: u16) -> Buffer {
        Buffer::empty(Rect::new(0, 0, width, height))
    }

    #[test]
    fn coloured_span_is_escaped_and_coloured() {
        let mut buf = buffer(20, 2);
        buf.set_string(0, 0, "a<b & \"c\"", Style::default().fg(Color::Red));
        buf.set_string(0, 1, "plain", Style::default());
        let svg = buffer_to_svg(&buf);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("a&lt;b &amp; &quot;c&quot;"), "{svg}");
        let red_text = format!("fill=\"{}\">a&lt;b", ANSI[1]);
        assert!(svg.contains(&red_text), "{svg}");
        assert!(
            svg.contains(&format!("fill=\"{DEFAULT_FG}\">plain")),
            "{svg}"
        );
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        // 180 x 36 for 20 x 2 cells.
        assert!(svg.contains("width=\"180\" height=\"36\""), "{svg}");
    }

    #[test]
    fn background_reversal_and_modifiers() {
        let mut buf = buffer(10, 1);
        let style = Style::default()
            .fg(Color::Rgb(1, 2, 3))
            .bg(Color::Indexed(196))
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED | Modifier::ITALIC);
        buf.set_string(0, 0, "ab", style);
        buf.set_string(
            2,
            0,
            "cd",
            Style::default().add_modifier(Modifier::REVERSED),
        );
        let svg = buffer_to_svg(&buf);
        // Indexed 196 is pure red in the cube.
        assert!(
            svg.contains("<rect x=\"0\" y=\"0\" width=\"18\" height=\"18\" fill=\"#ff0000\"/>"),
            "{svg}"
        );
        assert!(svg.contains("fill=\"#010203\" font-weight=\"bold\" font-style=\"italic\" text-decoration=\"underline\">ab</text>"), "{svg}");
        // Reversed default colours: light background, dark text.
        assert!(
            svg.contains(&format!(
                "width=\"18\" height=\"18\" fill=\"{DEFAULT_FG}\"/>"
            )),
            "{svg}"
        );
        assert!(
            svg.contains(&format!("fill=\"{DEFAULT_BG}\">cd</text>")),
            "{svg}"
        );
    }

    #[test]
    fn control_characters_and_blank_runs() {
        let mut buf = buffer(6, 1);
        buf[(0, 0)].set_symbol("\u{1b}");
        let svg = buffer_to_svg(&buf);
        assert!(!svg.contains('\u{1b}'));
        assert!(svg.contains('\u{FFFD}'));
        // An all-blank buffer draws no text at all.
        assert!(!buffer_to_svg(&buffer(4, 2)).contains("<text"));
    }

    #[test]
    fn wide_glyph_keeps_following_cells_aligned() {
        let mut buf = buffer(6, 1);
        buf.set_string(0, 0, "日x", Style::default().fg(Color::Green));
        buf.set_string(3, 0, "y", Style::default().fg(Color::Blue));
        let svg = buffer_to_svg(&buf);
        // "日" covers cells 0-1, "x" cell 2: one run 3 cells wide; "y" starts at cell 3.
        assert!(
            svg.contains(
                "textLength=\"27\" lengthAdjust=\"spacingAndGlyphs\" fill=\"#8cc265\">日x</text>"
            ),
            "{svg}"
        );
        assert!(svg.contains("<text x=\"27\""), "{svg}");
    }

    #[test]
    fn indexed_palette_edges() {
        assert_eq!(indexed(16).to_string(), "#000000");
        assert_eq!(indexed(231).to_string(), "#ffffff");
        assert_eq!(indexed(232).to_string(), "#080808");
        assert_eq!(indexed(255).to_string(), "#eeeeee");
        assert_eq!(indexed(9), ANSI[9]);
    }
}
