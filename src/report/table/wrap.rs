//! Fitting text into table columns: column widths from the cells' content, and line breaks at
//! spaces and at path boundaries (`/`, `.`, `[`), never inside an identifier unless the
//! identifier alone is wider than its column. comfy-table only breaks at spaces and splits any
//! longer word where the column ends (`allowPrivileg|eEscalation`), so the tables wrap their
//! cells here and draw lines that already fit (`draw.rs`, or comfy-table).

use rayon::prelude::*;
use std::borrow::Cow;

/// Display width. Kubernetes names, field paths and rule messages are ASCII, so a char count
/// is exact for them; a table with a double-width character is left to comfy-table, which
/// breaks its lines again (see `draw.rs`).
pub(in crate::report) fn width(s: &str) -> usize {
    s.chars().count()
}

/// The prefix of a field-path line; its continuation lines are indented under the path.
const ARROW: &str = "→ ";
const HANG: &str = "  ";

/// Where a word may break, coarsest first: a file path at `/` before its `.`s (so
/// `ratings-api.yaml` stays whole), a field path at `.` and before `[`, then at `-`, `_`, `:`
/// and `,` inside a name, and finally anywhere.
fn tiers(word: &str) -> &'static [&'static str] {
    if word.contains('/') {
        &["/[", ".", "-_:,", ""]
    } else {
        &[".[", "-_:,", ""]
    }
}

/// A file or field path (`a/b`, `spec.containers[0]`), as opposed to a word of prose that may
/// end with a full stop.
fn is_path(word: &str) -> bool {
    word.contains('/')
        || word.contains('[')
        || word
            .split_once('.')
            .is_some_and(|(_, after)| after.starts_with(|c: char| c.is_alphanumeric()))
}

/// `word` split after each boundary character in `at` (before `[`); by character when `at` is
/// empty.
fn split<'a>(word: &'a str, at: &'a str) -> Pieces<'a> {
    Pieces {
        word,
        at,
        start: 0,
        chars: word.char_indices(),
    }
}

/// The pieces of [`split`], made as they are asked for: column widths look at every word of
/// every cell, and gathering each word's pieces in a vector took an allocation a word.
struct Pieces<'a> {
    word: &'a str,
    at: &'a str,
    start: usize,
    chars: std::str::CharIndices<'a>,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        for (i, c) in self.chars.by_ref() {
            let cut = if self.at.is_empty() {
                i + c.len_utf8()
            } else if !self.at.contains(c) {
                continue;
            } else if c == '[' {
                i
            } else {
                i + c.len_utf8()
            };
            if cut > self.start {
                let piece = &self.word[self.start..cut];
                self.start = cut;
                return Some(piece);
            }
        }
        (self.start < self.word.len()).then(|| {
            let piece = &self.word[self.start..];
            self.start = self.word.len();
            piece
        })
    }
}

/// Where a column's words may break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::report) enum Breaks {
    /// At spaces, and paths at their boundaries.
    Paths,
    /// At spaces only, so that identifiers such as `cis-aks-1.8/3.2.6` stay whole; a word wider
    /// than the column still breaks at its boundaries.
    Words,
}

/// One column's cells, header first, and how its words may break.
pub(in crate::report) struct Column<'a> {
    pub cells: Vec<&'a str>,
    pub breaks: Breaks,
}

/// The narrowest column that holds every unbreakable piece of `text` (words, and with
/// [`Breaks::Paths`] the segments of paths between their coarsest boundaries).
fn min_width(text: &str, breaks: Breaks) -> usize {
    text.lines()
        .map(|line| {
            let (indent, body) = match line.strip_prefix(ARROW) {
                Some(body) => (width(ARROW), body),
                None => (0, line),
            };
            body.split(' ')
                .filter_map(|w| match breaks {
                    // An empty word (two spaces) has no pieces.
                    Breaks::Paths => split(w, tiers(w)[0]).map(width).max(),
                    Breaks::Words => Some(width(w)),
                })
                .map(|w| indent + w)
                .max()
                .unwrap_or(0)
        })
        .max()
        .unwrap_or(0)
}

/// The width `text` takes unwrapped.
pub(in crate::report) fn max_width(text: &str) -> usize {
    text.lines().map(width).max().unwrap_or(0)
}

struct Lines {
    width: usize,
    breaks: Breaks,
    /// Whether to build the lines or only count them (to choose column widths).
    keep: bool,
    done: Vec<String>,
    count: usize,
    line: String,
    used: usize,
    /// What a continuation line starts with.
    indent: &'static str,
}

impl Lines {
    fn new(width: usize, breaks: Breaks, keep: bool, first: &str, indent: &'static str) -> Self {
        let mut lines = Lines {
            width,
            breaks,
            keep,
            done: Vec::new(),
            count: 0,
            line: String::new(),
            used: 0,
            indent,
        };
        lines.push(first);
        lines
    }

    fn fresh(&self) -> usize {
        width(self.indent)
    }

    fn push(&mut self, s: &str) {
        if self.keep {
            self.line.push_str(s);
        }
        self.used += width(s);
    }

    fn break_line(&mut self) {
        self.count += 1;
        if self.keep {
            let line = std::mem::take(&mut self.line);
            self.done.push(line.trim_end().to_owned());
        }
        self.used = 0;
        self.push(self.indent);
    }

    /// Places `word` (a `whole` word, or a piece of one), after a space when `space`: on this
    /// line if it fits, else on the next if it fits there, else broken at the coarsest
    /// boundaries that make its pieces fit.
    fn place(&mut self, word: &str, whole: bool, space: bool, tiers: &[&str]) {
        let gap = usize::from(space && self.used > self.fresh());
        let w = width(word);
        if self.used + gap + w <= self.width {
            if gap == 1 {
                self.push(" ");
            }
            self.push(word);
            return;
        }
        // A word of prose, or a piece of a path, moves whole to the next line; a whole path
        // fills this one up to a boundary.
        let fill = whole && self.breaks == Breaks::Paths && is_path(word);
        if self.used > self.fresh() && self.fresh() + w <= self.width && !fill {
            self.break_line();
            self.push(word);
            return;
        }
        match tiers.split_first() {
            Some((at, finer)) => {
                for (i, piece) in split(word, at).enumerate() {
                    self.place(piece, false, space && i == 0, finer);
                }
            }
            // A single character wider than the column: it goes on a line of its own.
            None => {
                if self.used > self.fresh() {
                    self.break_line();
                }
                self.push(word);
            }
        }
    }

    /// Lays out one line of the text. A field-path line (`→ spec.containers[0]...`) continues
    /// indented under the path; the arrow counts as the first line's indent, so the path never
    /// leaves it alone on a line.
    fn paragraph(width: usize, breaks: Breaks, keep: bool, line: &str) -> Lines {
        let (first, indent, body) = match line.strip_prefix(ARROW) {
            Some(body) => (ARROW, HANG, body),
            None => ("", "", line),
        };
        let mut lines = Lines::new(width.max(1), breaks, keep, first, indent);
        for word in body.split(' ').filter(|w| !w.is_empty()) {
            lines.place(word, true, true, tiers(word));
        }
        lines.break_line();
        lines
    }
}

/// `text` wrapped to `width` columns; the lines of the text stay lines.
pub(in crate::report) fn wrap(text: &str, width: usize, breaks: Breaks) -> Cow<'_, str> {
    // Most cells fit as they are; laying them out word by word would give the same text.
    let whole_lines = !text.ends_with('\n') && !text.contains('\r');
    if whole_lines && text.lines().all(|line| fits(line, width)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(laid_out(text, width, breaks))
}

/// `text` laid out line by line and word by word.
fn laid_out(text: &str, width: usize, breaks: Breaks) -> String {
    let lines: Vec<String> = text
        .lines()
        .flat_map(|line| Lines::paragraph(width, breaks, true, line).done)
        .collect();
    lines.join("\n")
}

/// Whether [`Lines::paragraph`] leaves `line` (one of `str::lines`) as it is: it fits, and its
/// words are one space apart with no space before them and no white space after them (the
/// layout drops both).
fn fits(line: &str, columns: usize) -> bool {
    let body = line.strip_prefix(ARROW).unwrap_or(line);
    width(line) <= columns.max(1)
        && !body.starts_with(' ')
        && line.trim_end().len() == line.len()
        && !body.contains("  ")
}

/// How many lines [`wrap`] makes of `text`.
fn line_count(text: &str, width: usize, breaks: Breaks) -> usize {
    text.lines()
        .map(|line| Lines::paragraph(width, breaks, false, line).count)
        .sum()
}

/// Rows looked at to choose column widths: every row of a short table, an even sample of a long
/// one, so that choosing stays fast for a 10,000-finding cluster.
const SAMPLE: usize = 200;

/// The most width moved from one column to another in one step of improving the greedy choice.
const MOVE: usize = 16;

/// Column widths for `columns` (each a column's cells, header first) within `budget`: each
/// column its widest line when everything fits. Otherwise each column starts at its unbreakable
/// minimum (the widest minimums cut down to one level when even those do not fit); the spare
/// width goes, step by step, where it saves the most table lines (then cell lines) per
/// character, and what saves nothing goes to the columns that want least more first.
pub(in crate::report) fn column_widths(columns: &[Column<'_>], budget: usize) -> Vec<usize> {
    let n = columns.len();
    // Each column's unbreakable minimum and widest line, in one pass over its cells.
    let (min, max): (Vec<usize>, Vec<usize>) = columns
        .iter()
        .map(|c| {
            let (min, max) = c
                .cells
                .par_iter()
                .map(|t| (min_width(t, c.breaks), max_width(t)))
                .reduce(|| (0, 0), |a, b| (a.0.max(b.0), a.1.max(b.1)));
            let min = min.max(1);
            (min, max.max(min))
        })
        .unzip();
    if max.iter().sum::<usize>() <= budget {
        return max;
    }
    let mut level = min.iter().copied().max().unwrap_or(1);
    while level > 1 && min.iter().map(|m| (*m).min(level)).sum::<usize>() > budget {
        level -= 1;
    }
    let mut widths: Vec<usize> = min.iter().map(|m| (*m).min(level)).collect();
    let mut spare = budget.saturating_sub(widths.iter().sum());

    let rows = columns.iter().map(|c| c.cells.len()).max().unwrap_or(0);
    let step = rows.div_ceil(SAMPLE).max(1);
    let sample: Vec<usize> = (0..rows).step_by(step).collect();
    // heights[j][k][r]: lines of sampled row r in column j at width widths[j] + k.
    let heights: Vec<Vec<Vec<usize>>> = (0..n)
        .map(|j| {
            (0..=max[j].saturating_sub(widths[j]).min(spare))
                .map(|k| {
                    sample
                        .iter()
                        .map(|r| {
                            let c = &columns[j];
                            c.cells
                                .get(*r)
                                .map_or(0, |t| line_count(t, widths[j] + k, c.breaks))
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    // What a choice of widths costs: the table's lines, then its cells' lines (a cell broken
    // for nothing reads worse even when its row is no taller).
    let total = |grown: &[usize]| -> (usize, usize) {
        (0..sample.len())
            .map(|r| {
                let hs = (0..n).map(|j| heights[j][grown[j]][r]);
                (hs.clone().max().unwrap_or(0), hs.sum::<usize>())
            })
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    };
    let mut grown = vec![0; n];
    loop {
        let (rows_now, cells_now) = total(&grown);
        // (column, extra, whether it saves table lines, lines saved)
        let mut best: Option<(usize, usize, bool, usize)> = None;
        for j in 0..n {
            // Each row without column j: its tallest other cell, and the other cells' lines.
            let others: Vec<(usize, usize)> = (0..sample.len())
                .map(|r| {
                    let hs = (0..n).filter(|l| *l != j).map(|l| heights[l][grown[l]][r]);
                    (hs.clone().max().unwrap_or(0), hs.sum())
                })
                .collect();
            let steps = heights[j].len() - 1 - grown[j];
            for k in 1..=steps.min(spare) {
                let (rows, cells) = others
                    .iter()
                    .enumerate()
                    .map(|(r, (max, sum))| {
                        let h = heights[j][grown[j] + k][r];
                        (h.max(*max), h + sum)
                    })
                    .fold((0, 0), |(a, b), (c, d)| (a + c, b + d));
                let rows_saved = rows_now.saturating_sub(rows);
                let (table, saved) = match rows_saved {
                    0 => (false, cells_now.saturating_sub(cells)),
                    n => (true, n),
                };
                // Table lines before cell lines, then most saved per character; on a tie the
                // smaller step, then the earlier column.
                let better = match best {
                    None => saved > 0,
                    Some((_, bk, bt, bs)) => (table && !bt) || (table == bt && saved * bk > bs * k),
                };
                if better {
                    best = Some((j, k, table, saved));
                }
            }
        }
        let Some((j, k, _, _)) = best else { break };
        grown[j] += k;
        spare -= k;
    }
    // Greedy steps can overshoot: a row is only shorter when all its tall cells are, so moving
    // a little width from one column to another may still save lines.
    loop {
        let now = total(&grown);
        let mut best: Option<(usize, usize, usize, (usize, usize))> = None; // (from, to, amount, cost)
        for from in 0..n {
            for to in (0..n).filter(|to| *to != from) {
                let room = heights[to].len() - 1 - grown[to];
                for amount in 1..=grown[from].min(room).min(MOVE) {
                    let mut moved = grown.clone();
                    moved[from] -= amount;
                    moved[to] += amount;
                    let after = total(&moved);
                    if after < now && best.is_none_or(|b| after < b.3) {
                        best = Some((from, to, amount, after));
                    }
                }
            }
        }
        let Some((from, to, amount, _)) = best else {
            break;
        };
        grown[from] -= amount;
        grown[to] += amount;
    }
    for (w, g) in widths.iter_mut().zip(&grown) {
        *w += g;
    }
    // Width that saves no line still goes to the columns that could use it, the ones that
    // then fit whole first (fewer broken cells), so that the tables of one report fill the
    // same width.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|i| (max[*i] - widths[*i], *i));
    for i in order {
        let give = (max[i] - widths[i]).min(spare);
        widths[i] += give;
        spare -= give;
    }
    widths
}

#[cfg(test)]
mod tests {
    use super::*;
    use Breaks::{Paths, Words};

    fn columns<'a>(cells: &[&[&'a str]]) -> Vec<Column<'a>> {
        cells
            .iter()
            .map(|c| Column {
                cells: c.to_vec(),
                breaks: Paths,
            })
            .collect()
    }

    #[test]
    fn field_paths_break_at_dots_and_brackets_and_hang() {
        let text = "→ spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation";
        assert_eq!(
            wrap(text, 36, Paths),
            "→ spec.template.spec.containers[0].\n  securityContext.\n  allowPrivilegeEscalation"
        );
    }

    #[test]
    fn words_move_whole_to_the_next_line() {
        assert_eq!(
            wrap("does not set allowPrivilegeEscalation to false", 30, Paths),
            "does not set\nallowPrivilegeEscalation to\nfalse"
        );
    }

    #[test]
    fn file_paths_break_at_slashes_before_dots() {
        assert_eq!(
            wrap("fixtures/ratings/ratings-api.yaml:19:11", 24, Paths),
            "fixtures/ratings/\nratings-api.yaml:19:11"
        );
        assert_eq!(
            min_width("fixtures/ratings/ratings-api.yaml:19:11", Paths),
            22
        );
    }

    #[test]
    fn a_path_fills_the_line_and_its_pieces_stay_whole() {
        assert_eq!(
            wrap(
                "(template mongodb/templates/standalone/dep-sts.yaml)",
                26,
                Paths
            ),
            "(template mongodb/\ntemplates/standalone/\ndep-sts.yaml)"
        );
    }

    #[test]
    fn identifiers_stay_whole_in_a_column_of_words() {
        assert_eq!(
            wrap("cis-aks-1.8/3.2.6 title", 20, Words),
            "cis-aks-1.8/3.2.6\ntitle"
        );
        assert_eq!(min_width("cis-aks-1.8/3.2.6", Words), 17);
        assert_eq!(min_width("cis-aks-1.8/3.2.6", Paths), 12);
    }

    #[test]
    fn only_a_word_wider_than_the_column_is_cut() {
        assert_eq!(
            wrap("node-debugger-aks-nodepool1", 12, Paths),
            "node-\ndebugger-\naks-\nnodepool1"
        );
        assert_eq!(wrap("abcdefghij", 4, Paths), "abcd\nefgh\nij");
    }

    /// Texts made of the characters the layout treats apart, at every width up to one wider
    /// than the text: what fits is returned as it is only where laying it out gives the same.
    #[test]
    fn a_text_that_fits_is_what_its_layout_gives() {
        let alphabet = [
            "a", "bc", " ", "  ", "\n", "→ ", "→", ".", "/", "[0]", "-", "\t", "\r",
        ];
        let mut rng = fastrand::Rng::with_seed(0x2545_f491_4f6c_dd1d);
        let mut fast = 0;
        for _ in 0..4000 {
            let len = rng.usize(..9);
            let text: String = (0..len)
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect();
            for w in 0..=width(&text) + 1 {
                for breaks in [Paths, Words] {
                    let laid = laid_out(&text, w, breaks);
                    fast += usize::from(laid == text);
                    assert_eq!(wrap(&text, w, breaks), laid, "{text:?} at {w}");
                }
            }
        }
        assert!(fast > 1000, "too few texts fit as they are: {fast}");
    }

    #[test]
    fn everything_fits_at_its_widest() {
        let columns = columns(&[&["Rule", "PST-0021"], &["Finding", "a short one"]]);
        assert_eq!(column_widths(&columns, 40), vec![8, 11]);
    }

    #[test]
    fn spare_width_goes_where_it_saves_lines() {
        // The second column's cells need 8 more characters to fit on one line each; the third
        // is one long text that every character shortens a little.
        let long = "word ".repeat(40);
        let columns = columns(&[
            &["Rule", "PST-0021", "PST-0022"],
            &["Object", "Deployment ratingsapp/ratings-mongodb", "Pod a/b"],
            &["Finding", long.as_str(), "short"],
        ]);
        let widths = column_widths(&columns, 70);
        assert_eq!(widths.iter().sum::<usize>(), 70);
        let lines = |w: &[usize]| -> usize {
            (1..3)
                .map(|r| {
                    (0..3)
                        .map(|j| line_count(columns[j].cells[r], w[j], Paths))
                        .max()
                        .unwrap()
                })
                .sum()
        };
        // No other split of the same width is shorter.
        for object in 16..=40 {
            let other = [8, object, 70 - 8 - object];
            assert!(lines(&widths) <= lines(&other), "{widths:?} vs {other:?}");
        }
    }

    #[test]
    fn minimums_wider_than_the_budget_are_cut_to_one_level() {
        let long = "x".repeat(50);
        let columns = columns(&[&["PST-0021"], &[long.as_str()], &[long.as_str()]]);
        assert_eq!(column_widths(&columns, 60), vec![8, 26, 26]);
    }
}
