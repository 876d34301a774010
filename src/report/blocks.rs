//! The document the review ([`super::review`]) is written as: headings, paragraphs, lists,
//! tables and folds of inline spans. It owns only the shape of a document; what goes in it is
//! the review's decision, and how it is written (and escaped) is the serializers'
//! ([`super::markdown`], [`super::html`]). Text here is as scanned: never pre-escaped.

use crate::severity::Severity;

/// Blocks a serializer writes in one piece: a longer list (a section of a large scan has a
/// block per object with findings) is written in pieces on every core.
pub(super) const PER_PIECE: usize = 64;

/// Pieces of a section written at once: a batch is all of a review's text that is held (a
/// 100,000-object review is some 250 MB of markdown).
const PIECES_PER_BATCH: usize = 16;

/// A writer that holds back the last byte written to it, so that a document written piece by
/// piece can still end without it (markdown drops a final paragraph's second line break).
pub(super) struct HoldLastByte<'a> {
    out: &'a mut dyn std::io::Write,
    held: Option<u8>,
}

impl<'a> HoldLastByte<'a> {
    pub(super) fn new(out: &'a mut dyn std::io::Write) -> Self {
        HoldLastByte { out, held: None }
    }

    /// Writes the byte held back if `keep`.
    pub(super) fn finish(self, keep: bool) -> std::io::Result<()> {
        match self.held.filter(|_| keep) {
            Some(b) => self.out.write_all(&[b]),
            None => Ok(()),
        }
    }
}

impl std::io::Write for HoldLastByte<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Some((&last, rest)) = buf.split_last() else {
            return Ok(0);
        };
        if let Some(held) = self.held.take() {
            self.out.write_all(&[held])?;
        }
        self.out.write_all(rest)?;
        self.held = Some(last);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Writes a document's top-level blocks to `out` after `text` (what goes before them), each
/// section's own blocks a batch of pieces at a time, rendered on every core, so that a large
/// review is never held whole as text. `render` appends blocks as the serializer writes them;
/// `open` appends a section's opening (id, level, title) and `close` ends it. What is left of
/// `text` is the caller's to write.
pub(super) fn write_sections(
    list: &[Block],
    text: &mut String,
    out: &mut dyn std::io::Write,
    render: impl Fn(&[Block], &mut String) + Sync,
    open: impl Fn(&str, u8, &str, &mut String),
    close: &str,
) -> std::io::Result<()> {
    for b in list {
        match b {
            Block::Section {
                id,
                level,
                title,
                blocks,
            } => {
                open(id, *level, title, text);
                out.write_all(text.as_bytes())?;
                text.clear();
                let pieces: Vec<&[Block]> = blocks.chunks(PER_PIECE).collect();
                super::write_in_batches(&pieces, PIECES_PER_BATCH, out, |piece, text| {
                    render(piece, text)
                })?;
                text.push_str(close);
            }
            b => render(std::slice::from_ref(b), text),
        }
    }
    Ok(())
}

/// A whole document: its title (the page's `<title>` and first heading) and its body.
pub struct Document {
    pub title: String,
    pub blocks: Vec<Block>,
}

pub enum Block {
    /// Level 1 is the document's title; sections are 2, their parts 3.
    Heading {
        level: u8,
        text: Vec<Inline>,
    },
    Paragraph(Vec<Inline>),
    List {
        ordered: bool,
        items: Vec<Vec<Inline>>,
    },
    Table(Table),
    /// A part that can be folded, open or closed at first.
    Details {
        open: bool,
        summary: Vec<Inline>,
        blocks: Vec<Block>,
    },
    /// A titled part others can link to by `id`.
    Section {
        id: &'static str,
        level: u8,
        title: String,
        blocks: Vec<Block>,
    },
    /// Links to the sections, for formats that have no outline of their own.
    Contents(Vec<Link>),
    /// Text shown as written, in a monospace block: a diff, a patch, a command. `language`
    /// names it for syntax highlighting (`diff`, `yaml`, `sh`).
    Code {
        language: &'static str,
        text: String,
    },
    /// A chart where a format can draw one; its numbers are its text alternative.
    Chart(Chart),
}

/// Stacked horizontal bars, one a row: what the HTML page draws as inline SVG.
pub struct Chart {
    /// Unique in the document: anchors the chart's title and description.
    pub id: &'static str,
    pub title: String,
    /// What the chart shows, in a sentence, for readers who cannot see it.
    pub description: String,
    /// The heading of the row labels' column.
    pub label: &'static str,
    /// The parts each bar is stacked from, in order: a name and a colour.
    pub series: Vec<(&'static str, Tone)>,
    /// A label and one count per series.
    pub rows: Vec<(String, Vec<usize>)>,
}

impl Chart {
    /// The chart's numbers as a table: a row per bar, a column per series, and the total.
    pub fn numbers(&self) -> Table {
        let mut columns = vec![(self.label, Align::Left)];
        columns.extend(self.series.iter().map(|(name, _)| (*name, Align::Right)));
        columns.push(("Total", Align::Right));
        let rows = self
            .rows
            .iter()
            .map(|(label, counts)| {
                let total: usize = counts.iter().sum();
                let mut row = vec![Cell::new(vec![Inline::Text(label.clone())])];
                row.extend(
                    counts
                        .iter()
                        .chain([&total])
                        .map(|n| Cell::new(vec![Inline::Text(n.to_string())])),
                );
                row
            })
            .collect();
        Table {
            wide: false,
            columns,
            rows,
        }
    }
}

/// A chart series' colour, by what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Severity(Severity),
    Pass,
    Fail,
    Muted,
}

pub struct Table {
    /// Spans the page (a table of findings, not of counts).
    pub wide: bool,
    /// One entry per column: its heading and alignment.
    pub columns: Vec<(&'static str, Align)>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table of text, every column aligned left.
    pub fn left(columns: &[&'static str], rows: Vec<Vec<Cell>>) -> Table {
        Table {
            wide: false,
            columns: columns.iter().map(|c| (*c, Align::Left)).collect(),
            rows,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    /// Numbers, so that digits line up.
    Right,
}

pub struct Cell {
    /// A heading of its row (a total, say) rather than data.
    pub heading: bool,
    pub content: Vec<Inline>,
}

impl Cell {
    pub fn new(content: Vec<Inline>) -> Cell {
        Cell {
            heading: false,
            content,
        }
    }

    pub fn heading(content: Vec<Inline>) -> Cell {
        Cell {
            heading: true,
            content,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// `#summary`: an anchor in the same document.
    pub href: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    /// Shown literally, in a monospace font: names, paths, fields, ids.
    Code(String),
    Strong(String),
    /// A remark beside the text it follows, set apart (emphasis, or dimmed).
    Note(String),
    /// An object's kind before its name: dimmed where a format can, so the name stands out.
    Kind(String),
    Link(Link),
    /// A severity on its own, as a table's first column shows it.
    Severity(Severity),
    /// A label in a severity's colour (`2 high`).
    Badge {
        severity: Severity,
        label: String,
    },
    /// A line break within a paragraph, list item or table cell.
    Break,
}

impl Inline {
    pub fn text(s: impl Into<String>) -> Inline {
        Inline::Text(s.into())
    }

    pub fn code(s: impl Into<String>) -> Inline {
        Inline::Code(s.into())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One of every block and span, with text markdown and HTML give meaning to.
    pub(crate) fn sample() -> Document {
        let text = |s: &str| Inline::Text(s.to_owned());
        let code = |s: &str| Inline::Code(s.to_owned());
        Document {
            title: "Review of a|b <c> & d".to_owned(),
            blocks: vec![
                Block::Paragraph(vec![
                    text("Text *x* & <y> "),
                    code("a|b"),
                    text(" "),
                    Inline::Strong("strong".to_owned()),
                    text(" "),
                    Inline::Note("note".to_owned()),
                    text(" "),
                    Inline::Kind("Pod".to_owned()),
                    text(" "),
                    Inline::Link(Link {
                        href: "#part".to_owned(),
                        text: "Part".to_owned(),
                    }),
                    Inline::Break,
                    Inline::Severity(Severity::Critical),
                    text(" "),
                    Inline::Badge {
                        severity: Severity::Low,
                        label: "2 low".to_owned(),
                    },
                ]),
                Block::Contents(vec![Link {
                    href: "#part".to_owned(),
                    text: "Part (1)".to_owned(),
                }]),
                Block::Section {
                    id: "part",
                    level: 2,
                    title: "Part".to_owned(),
                    blocks: vec![
                        Block::Heading {
                            level: 3,
                            text: vec![code("id"), text(" a_b")],
                        },
                        Block::List {
                            ordered: true,
                            items: vec![vec![text("one"), Inline::Break, text("more")]],
                        },
                        Block::List {
                            ordered: false,
                            items: vec![vec![text("a")], vec![text("b"), Inline::Break, text("c")]],
                        },
                        Block::Table(Table {
                            wide: true,
                            columns: vec![("Name", Align::Left), ("Count", Align::Right)],
                            rows: vec![
                                vec![
                                    Cell::new(vec![
                                        text("a|b\nc <d> & e"),
                                        Inline::Break,
                                        code("x|y\nz"),
                                    ]),
                                    Cell::new(vec![text("1")]),
                                ],
                                vec![
                                    Cell::heading(vec![text("Total")]),
                                    Cell::heading(vec![text("\u{a0}1")]),
                                ],
                            ],
                        }),
                        Block::Details {
                            open: true,
                            summary: vec![text("Fold <&>")],
                            blocks: vec![Block::Paragraph(vec![text("inside")])],
                        },
                        Block::Code {
                            language: "diff",
                            text: "-a: <b>\n+a: ```c```\n".to_owned(),
                        },
                        Block::Chart(Chart {
                            id: "chart",
                            title: "Bars <&>".to_owned(),
                            description: "Two rows".to_owned(),
                            label: "Name",
                            series: vec![
                                ("high", Tone::Severity(Severity::High)),
                                ("pass", Tone::Pass),
                            ],
                            rows: vec![
                                ("a<b".to_owned(), vec![2, 1]),
                                ("c".to_owned(), vec![0, 0]),
                            ],
                        }),
                        Block::Paragraph(vec![text("last")]),
                    ],
                },
            ],
        }
    }
}
