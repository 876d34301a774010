//! GitHub-flavoured markdown: a review [`Document`] written out, with markdown's escaping. It
//! knows blocks and spans only; what the review says, and in which order, is decided in
//! [`super::review`].

use super::blocks::{Align, Block, Cell, Document, Inline, Table};
use super::review::{self, Flavor};
use crate::scan::ScanReport;
use crate::severity::Severity;
use rayon::prelude::*;
use std::io::{self, Write};

/// The report as a standalone document, its title a level-1 heading.
pub fn write(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    write_at(report, 1, out)
}

/// The report with its title at heading `level` (1–4), to be embedded in a larger document.
pub fn write_at(report: &ScanReport, level: usize, out: &mut dyn Write) -> io::Result<()> {
    let doc = review::document(report, Flavor::Markdown);
    write_document(&doc, level.clamp(1, 4), out)
}

/// `doc` with its title at heading `level`, and every other heading as much deeper.
pub fn render(doc: &Document, level: usize) -> String {
    let mut out = Vec::new();
    write_document(doc, level, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("the document is text")
}

/// Writes [`render`]'s text as it is made ([`super::blocks::write_sections`]).
fn write_document(doc: &Document, level: usize, out: &mut dyn Write) -> io::Result<()> {
    let shift = level.saturating_sub(1);
    let mut out = super::blocks::HoldLastByte::new(out);
    let mut text = String::new();
    heading(1 + shift, &[Inline::Text(doc.title.clone())], &mut text);
    super::blocks::write_sections(
        &doc.blocks,
        &mut text,
        &mut out,
        |list, text| blocks(list, shift, text),
        |_, level, title, text| section_heading(level, title, shift, text),
        "",
    )?;
    out.write_all(text.as_bytes())?;
    // A final paragraph ends with one line break, a final table or list with the blank line
    // after it: the reviews embedded one after another in docs/ratings-review.md are written
    // that way, and the output stays byte for byte what it was.
    out.finish(!ends_in_paragraph(&doc.blocks))
}

/// Where spans are written, for what a line break and a code span become.
#[derive(Clone, Copy)]
enum Place {
    Paragraph,
    /// A list item whose continuation lines are indented this far.
    Item(usize),
    /// A table cell, which must stay on one line.
    Cell,
}

fn blocks(list: &[Block], shift: usize, out: &mut String) {
    if list.len() > super::blocks::PER_PIECE {
        let pieces: Vec<String> = list
            .par_chunks(super::blocks::PER_PIECE)
            .map(|piece| {
                let mut out = String::new();
                blocks(piece, shift, &mut out);
                out
            })
            .collect();
        out.extend(pieces);
        return;
    }
    for b in list {
        match b {
            Block::Heading { level, text } => heading(usize::from(*level) + shift, text, out),
            Block::Paragraph(line) => {
                spans(line, Place::Paragraph, out);
                out.push_str("\n\n");
            }
            Block::List { ordered, items } => {
                for (i, item) in items.iter().enumerate() {
                    // Continuation lines are indented as far as `1. `; those of later items are
                    // lazy continuations, which CommonMark keeps in the item.
                    let (marker, indent) = match ordered {
                        true => (format!("{}. ", i + 1), 3),
                        false => ("- ".to_owned(), 2),
                    };
                    out.push_str(&marker);
                    spans(item, Place::Item(indent), out);
                    out.push('\n');
                }
                out.push('\n');
            }
            Block::Table(t) => table(t, out),
            Block::Details {
                open,
                summary,
                blocks: inner,
            } => {
                // Raw HTML to GitHub, so the summary is written as HTML; markdown inside is read
                // after a blank line.
                out.push_str(if *open { "<details open>" } else { "<details>" });
                out.push_str(&format!(
                    "<summary>{}</summary>\n\n",
                    super::html::spans(summary)
                ));
                blocks(inner, shift, out);
                out.push_str("</details>\n\n");
            }
            Block::Section {
                level,
                title,
                blocks: inner,
                ..
            } => {
                section_heading(*level, title, shift, out);
                blocks(inner, shift, out);
            }
            // GitHub shows a document's outline itself, and markdown has no portable anchors.
            Block::Contents(_) => {}
            Block::Code { language, text } => {
                // A fence longer than any run of backticks inside (CommonMark 4.5).
                let mut longest = 0;
                let mut run = 0;
                for c in text.chars() {
                    run = if c == '`' { run + 1 } else { 0 };
                    longest = longest.max(run);
                }
                let fence = "`".repeat((longest + 1).max(3));
                out.push_str(&format!("{fence}{language}\n{text}"));
                if !text.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&format!("{fence}\n\n"));
            }
            // Markdown draws no chart: its numbers are the chart.
            Block::Chart(chart) => table(&chart.numbers(), out),
        }
    }
}

/// A section's title: its blocks follow.
fn section_heading(level: u8, title: &str, shift: usize, out: &mut String) {
    heading(
        usize::from(level) + shift,
        &[Inline::Text(title.to_owned())],
        out,
    );
}

fn heading(level: usize, text: &[Inline], out: &mut String) {
    out.push_str(&"#".repeat(level));
    out.push(' ');
    spans(text, Place::Paragraph, out);
    out.push_str("\n\n");
}

fn table(t: &Table, out: &mut String) {
    out.push('|');
    for (name, _) in &t.columns {
        out.push_str(&format!(" {} |", text(name)));
    }
    out.push_str("\n|");
    for (_, align) in &t.columns {
        out.push_str(match align {
            Align::Left => " --- |",
            Align::Right => " ---: |",
        });
    }
    out.push('\n');
    for row in &t.rows {
        out.push('|');
        for Cell { heading, content } in row {
            out.push(' ');
            let mut cell = String::new();
            spans(content, Place::Cell, &mut cell);
            match heading {
                true => out.push_str(&format!("**{cell}**")),
                false => out.push_str(&cell),
            }
            out.push_str(" |");
        }
        out.push('\n');
    }
    out.push('\n');
}

fn spans(line: &[Inline], place: Place, out: &mut String) {
    for span in line {
        match span {
            Inline::Text(s) | Inline::Kind(s) => out.push_str(&text(s)),
            Inline::Code(s) => out.push_str(&match place {
                Place::Cell => cell_code(s),
                _ => code(s),
            }),
            Inline::Strong(s) => out.push_str(&format!("**{}**", text(s))),
            Inline::Note(s) => out.push_str(&format!("*{}*", text(s))),
            // See `Block::Contents`: the text is all markdown can show of an anchor.
            Inline::Link(link) => out.push_str(&text(&link.text)),
            Inline::Severity(s) => out.push_str(severity_word(*s)),
            Inline::Badge { label, .. } => out.push_str(&text(label)),
            Inline::Break => match place {
                // A backslash at the end of a line is CommonMark's hard line break.
                Place::Paragraph => out.push_str("\\\n"),
                Place::Item(indent) => {
                    out.push('\n');
                    out.push_str(&" ".repeat(indent));
                }
                // GFM cells cannot hold a line break, but GitHub renders this tag in them.
                Place::Cell => out.push_str("<br>"),
            },
        }
    }
}

fn ends_in_paragraph(list: &[Block]) -> bool {
    match list.last() {
        Some(Block::Paragraph(_)) => true,
        Some(Block::Section { blocks, .. }) => ends_in_paragraph(blocks),
        _ => false,
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "**Critical**",
        Severity::High => "**High**",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
    }
}

/// Text that markdown must show as written: characters that would start emphasis, code, links,
/// HTML or a table cell are backslash-escaped (CommonMark allows it before any ASCII
/// punctuation), and line breaks become spaces so that a cell or list item stays one line.
/// `_` inside a word (`MONGODB_PASSWORD`) cannot start emphasis in GFM, so it stays readable.
/// A non-breaking space is written `&nbsp;`: a table cell's edges are trimmed of whitespace,
/// and the reference shows in the source what a bare U+00A0 hides.
pub fn text(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\u{a0}' => out.push_str("&nbsp;"),
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '_' => {
                let inside_word = i > 0
                    && chars[i - 1].is_alphanumeric()
                    && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
                if !inside_word {
                    out.push('\\');
                }
                out.push('_');
            }
            c => out.push(c),
        }
    }
    out
}

/// A code span showing `s` literally: the fence is one backtick longer than any run inside,
/// padded with a space when `s` starts or ends with a backtick.
pub fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    if s.is_empty() {
        return String::new();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A code span inside a table cell: GFM splits cells at `|` before it reads code spans, so a
/// pipe needs its backslash even there (and the backslash is not shown).
pub fn cell_code(s: &str) -> String {
    code(s).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::super::blocks::tests::sample;
    use super::*;

    /// In a cell, `|` is escaped even inside code, and a line break must not end the row.
    const SAMPLE: &str = r#"# Review of a\|b \<c\> \& d

Text \*x\* \& \<y\> `a|b` **strong** *note* Pod Part\
**Critical** 2 low

## Part

### `id` a_b

1. one
   more

- a
- b
  c

| Name | Count |
| --- | ---: |
| a\|b c \<d\> \& e<br>`x\|y z` | 1 |
| **Total** | **&nbsp;1** |

<details open><summary>Fold &lt;&amp;&gt;</summary>

inside

</details>

````diff
-a: <b>
+a: ```c```
````

| Name | high | pass | Total |
| --- | ---: | ---: | ---: |
| a\<b | 2 | 1 | 3 |
| c | 0 | 0 | 0 |

last
"#;

    /// A long list of blocks is written in pieces on every core: the same text as each block
    /// written in turn.
    #[test]
    fn blocks_written_in_pieces_are_the_blocks_in_turn() {
        let many: Vec<Block> = (0..200).flat_map(|_| sample().blocks).collect();
        assert!(many.len() > 3 * crate::report::blocks::PER_PIECE);
        let mut whole = String::new();
        blocks(&many, 1, &mut whole);
        let mut in_turn = String::new();
        for b in many.chunks(1) {
            blocks(b, 1, &mut in_turn);
        }
        assert_eq!(whole, in_turn);
    }

    /// A long section is written a batch of pieces at a time, and a final paragraph's last line
    /// break still dropped: the same text as the title, then each block in turn.
    #[test]
    fn a_long_section_is_written_as_its_blocks_in_turn() {
        let inner = || -> Vec<Block> { (0..2000).flat_map(|_| sample().blocks).collect() };
        assert!(inner().len() > 2 * 64 * 16);
        let end = || Block::Paragraph(vec![Inline::Text("end".into())]);
        let mut expected = String::new();
        heading(2, &[Inline::Text("t".into())], &mut expected);
        heading(3, &[Inline::Text("S".into())], &mut expected);
        for b in inner().chunks(1) {
            blocks(b, 1, &mut expected);
        }
        blocks(&[end()], 1, &mut expected);
        assert_eq!(expected.pop(), Some('\n'));
        let doc = Document {
            title: "t".into(),
            blocks: vec![
                Block::Section {
                    id: "s",
                    level: 2,
                    title: "S".into(),
                    blocks: inner(),
                },
                end(),
            ],
        };
        assert_eq!(render(&doc, 2), expected);
    }

    #[test]
    fn every_block_and_span_as_markdown() {
        assert_eq!(render(&sample(), 1), SAMPLE);
    }

    #[test]
    fn embedded_documents_shift_every_heading() {
        let doc = render(&sample(), 3);
        assert!(doc.starts_with("### Review of"), "{doc}");
        assert!(doc.contains("\n#### Part\n\n##### `id` a_b\n"), "{doc}");
    }

    #[test]
    fn a_final_table_keeps_its_blank_line() {
        let mut doc = sample();
        doc.blocks.truncate(1);
        assert!(render(&doc, 1).ends_with("2 low\n"));
        doc.blocks.push(Block::Table(Table::left(&["A"], vec![])));
        assert!(render(&doc, 1).ends_with("| --- |\n\n"));
    }

    #[test]
    fn text_escapes_what_markdown_would_interpret() {
        assert_eq!(text("a|b"), "a\\|b");
        assert_eq!(text("<script>x</script>"), "\\<script\\>x\\</script\\>");
        assert_eq!(text("`*[x]*`"), "\\`\\*\\[x\\]\\*\\`");
        assert_eq!(text("MONGODB_PASSWORD"), "MONGODB_PASSWORD");
        assert_eq!(text("_x_"), "\\_x\\_");
        assert_eq!(text("one\ntwo"), "one two");
    }

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("a.b"), "`a.b`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(cell_code("a|b"), "`a\\|b`");
        assert_eq!(code(""), "");
    }
}
