//! Drawing a table whose cells [`super::wrap`] has already fitted to their columns, in the bytes
//! comfy-table would write for them (`UTF8_FULL_CONDENSED`, a space of padding either side of a
//! cell, a cell's colour around its whole padded line).
//!
//! Given such cells, comfy-table still measures every line again, pads each into a string of its
//! own and gathers a row's lines in vectors before joining them: about half the time a table of
//! 52,000 findings took to lay out. Here each piece of rows is drawn straight into one string.
//! A line wider than its column (only a double-width character makes one; the wrap counts
//! characters) is what comfy-table would break again, so then the caller leaves the table to
//! comfy-table ([`TooWide`]). The unit tests hold the two to the same bytes.

use comfy_table::{presets, Cell, Color, Table};
use unicode_width::UnicodeWidthStr;

/// A border line: left end, fill, junction between columns, right end.
type Rule = [char; 4];

/// `UTF8_FULL_CONDENSED`'s lines.
pub(super) const TOP: Rule = ['┌', '─', '┬', '┐'];
pub(super) const UNDER_HEADER: Rule = ['╞', '═', '╪', '╡'];
pub(super) const BOTTOM: Rule = ['└', '─', '┴', '┘'];
/// The borders of a line of cells: left, between columns, right.
const SIDES: [char; 3] = ['│', '┆', '│'];

/// A line of a cell is wider than its column.
#[derive(Debug)]
pub(super) struct TooWide;

/// A border line across columns of `widths` (each without its padding), ending in `\n`.
pub(super) fn rule(out: &mut String, widths: &[usize], [left, fill, junction, right]: Rule) {
    out.push(left);
    for (i, w) in widths.iter().enumerate() {
        if i > 0 {
            out.push(junction);
        }
        out.extend(std::iter::repeat_n(fill, w + 2));
    }
    out.push(right);
    out.push('\n');
}

/// The codes comfy-table writes before and after a line of a cell of each colour, asked of
/// comfy-table once per colour, so the bytes are its own (the unit tests compare coloured
/// tables too, should its way of writing them change).
#[derive(Default)]
pub(super) struct Palette(Vec<(Color, String, String)>);

impl Palette {
    fn codes(&mut self, color: Color) -> (&str, &str) {
        let i = match self.0.iter().position(|(c, _, _)| *c == color) {
            Some(i) => i,
            None => {
                let mut table = Table::new();
                table.load_style(presets::NOTHING).enforce_styling();
                table.add_row([Cell::new("x").fg(color)]);
                let line = table.to_string();
                let (before, after) = line.split_once(" x ").unwrap_or(("", ""));
                self.0.push((color, before.to_owned(), after.to_owned()));
                self.0.len() - 1
            }
        };
        let (_, before, after) = &self.0[i];
        (before, after)
    }
}

/// Display width, as comfy-table measures it.
fn width(line: &str) -> usize {
    if line.bytes().all(crate::report::printable_ascii) {
        line.len()
    } else {
        line.width()
    }
}

/// One row: as many lines as its tallest cell, each line of each cell padded to its column, a
/// cell with fewer lines filled with spaces below (uncoloured, as comfy-table leaves them).
pub(super) fn row<S: AsRef<str>>(
    out: &mut String,
    cells: &[(S, Option<Color>)],
    widths: &[usize],
    palette: &mut Palette,
) -> Result<(), TooWide> {
    debug_assert_eq!(cells.len(), widths.len(), "a cell for every column");
    let height = cells
        .iter()
        .map(|(text, _)| text.as_ref().bytes().filter(|b| *b == b'\n').count() + 1)
        .max()
        .unwrap_or(0);
    let mut lines: Vec<_> = cells
        .iter()
        .map(|(text, _)| text.as_ref().split('\n'))
        .collect();
    let [left, between, right] = SIDES;
    for _ in 0..height {
        out.push(left);
        for (i, ((column, (_, color)), w)) in lines.iter_mut().zip(cells).zip(widths).enumerate() {
            if i > 0 {
                out.push(between);
            }
            let Some(line) = column.next() else {
                out.extend(std::iter::repeat_n(' ', w + 2));
                continue;
            };
            let pad = w.checked_sub(width(line)).ok_or(TooWide)?;
            let (before, after) = match color {
                Some(c) => palette.codes(*c),
                None => ("", ""),
            };
            out.push_str(before);
            out.push(' ');
            out.push_str(line);
            out.extend(std::iter::repeat_n(' ', pad + 1));
            out.push_str(after);
        }
        out.push(right);
        out.push('\n');
    }
    Ok(())
}
