//! A review [`Document`] as one self-contained HTML page: inline CSS, no script, no external
//! asset. It knows blocks and spans only; what the review says is decided in
//! [`super::review`]. Every string is escaped here; a Content-Security-Policy that allows
//! nothing but the inline style keeps a page that a bug let markup into from loading or running
//! anything.

use super::blocks::{Align, Block, Chart, Document, Inline, Table, Tone};
use super::review::{self, Flavor};
use crate::scan::ScanReport;
use crate::severity::Severity;
use rayon::prelude::*;
use std::io::{self, Write};

const STYLE: &str = "
body { font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1f2328;
  margin: 0 auto; padding: 1.5em; max-width: 72em; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2em; margin-top: 2em; }
nav a { margin-right: 1em; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f6f8fa;
  padding: .1em .3em; border-radius: 4px; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .8em 0; }
th, td { border: 1px solid #d0d7de; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.n { text-align: right; font-variant-numeric: tabular-nums; }
table.findings { width: 100%; }
table.findings td:last-child { width: 30%; }
.badge { display: inline-block; color: #fff; border-radius: 1em; padding: 0 .6em; font-size: .85em;
  font-weight: 600; white-space: nowrap; }
.critical { background: #6f1d8a; } .high { background: #c62828; }
.medium { background: #a35200; } .low { background: #2f5fb3; }
details { border: 1px solid #d0d7de; border-radius: 6px; margin: .6em 0; padding: .3em .8em; }
summary { cursor: pointer; font-weight: 600; }
summary .badge { margin-left: .3em; }
.kind { color: #59636e; font-weight: 400; }
.muted { color: #59636e; }
li { margin: .3em 0; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: .6em .8em;
  overflow-x: auto; }
pre code { background: none; padding: 0; overflow-wrap: normal; }
figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-weight: 600; }
";

pub fn write(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let doc = review::document(report, Flavor::Html);
    write_document(&doc, out)
}

pub fn render(doc: &Document) -> String {
    let mut out = Vec::new();
    write_document(doc, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("the page is text")
}

/// Writes [`render`]'s page as it is made ([`super::blocks::write_sections`]).
fn write_document(doc: &Document, out: &mut dyn Write) -> io::Result<()> {
    let title = esc(&doc.title);
    let mut text = String::with_capacity(1 << 16);
    text.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\">\n<title>{title}</title>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n<h1>{title}</h1>\n"
    ));
    super::blocks::write_sections(
        &doc.blocks,
        &mut text,
        out,
        blocks,
        |id, level, title, text| text.push_str(&section_open(id, level, title)),
        SECTION_CLOSE,
    )?;
    text.push_str("</body>\n</html>\n");
    out.write_all(text.as_bytes())
}

const SECTION_CLOSE: &str = "</section>\n";

fn section_open(id: &str, level: u8, title: &str) -> String {
    format!(
        "<section id=\"{}\">\n<h{level}>{}</h{level}>\n",
        esc(id),
        esc(title)
    )
}

fn blocks(list: &[Block], out: &mut String) {
    if list.len() > super::blocks::PER_PIECE {
        let pieces: Vec<String> = list
            .par_chunks(super::blocks::PER_PIECE)
            .map(|piece| {
                let mut out = String::new();
                blocks(piece, &mut out);
                out
            })
            .collect();
        out.extend(pieces);
        return;
    }
    for b in list {
        match b {
            Block::Heading { level, text } => {
                out.push_str(&format!("<h{level}>{}</h{level}>\n", spans(text)));
            }
            Block::Paragraph(line) => out.push_str(&format!("<p>{}</p>\n", spans(line))),
            Block::List { ordered, items } => {
                let tag = if *ordered { "ol" } else { "ul" };
                out.push_str(&format!("<{tag}>\n"));
                for item in items {
                    out.push_str(&format!("<li>{}</li>\n", spans(item)));
                }
                out.push_str(&format!("</{tag}>\n"));
            }
            Block::Table(t) => table(t, out),
            Block::Details {
                open,
                summary,
                blocks: inner,
            } => {
                let open = if *open { " open" } else { "" };
                out.push_str(&format!(
                    "<details{open}>\n<summary>{}</summary>\n",
                    spans(summary)
                ));
                blocks(inner, out);
                out.push_str("</details>\n");
            }
            Block::Section {
                id,
                level,
                title,
                blocks: inner,
            } => {
                out.push_str(&section_open(id, *level, title));
                blocks(inner, out);
                out.push_str(SECTION_CLOSE);
            }
            Block::Contents(links) => {
                out.push_str("<nav>");
                for l in links {
                    out.push_str(&format!(
                        "<a href=\"{}\">{}</a>",
                        esc(&l.href),
                        esc(&l.text)
                    ));
                }
                out.push_str("</nav>\n");
            }
            Block::Code { language, text } => out.push_str(&format!(
                "<pre><code class=\"language-{}\">{}</code></pre>\n",
                esc(language),
                esc(text)
            )),
            Block::Chart(c) => chart(c, out),
        }
    }
}

fn table(t: &Table, out: &mut String) {
    out.push_str(if t.wide {
        "<table class=\"findings\">\n"
    } else {
        "<table>\n"
    });
    out.push_str("<thead><tr>");
    for (name, _) in &t.columns {
        out.push_str(&format!("<th>{}</th>", esc(name)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (cell, (_, align)) in row.iter().zip(&t.columns) {
            let tag = if cell.heading { "th" } else { "td" };
            let class = match align {
                Align::Right => " class=\"n\"",
                Align::Left => "",
            };
            out.push_str(&format!("<{tag}{class}>{}</{tag}>", spans(&cell.content)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

/// The chart's drawing area and rows, in SVG user units (pixels at 100%).
const CHART_WIDTH: usize = 640;
const LABEL_WIDTH: usize = 190;
const BAR_WIDTH: usize = 380;
const ROW: usize = 22;
const LEGEND: usize = 30;
/// Labels longer than this are cut (the row's tooltip and the table keep them whole).
const LABEL_CHARS: usize = 28;

fn tone_color(tone: Tone) -> &'static str {
    match tone {
        Tone::Severity(Severity::Critical) => "#6f1d8a",
        Tone::Severity(Severity::High) | Tone::Fail => "#c62828",
        Tone::Severity(Severity::Medium) => "#a35200",
        Tone::Severity(Severity::Low) => "#2f5fb3",
        Tone::Pass => "#2e7d32",
        Tone::Muted => "#8c959f",
    }
}

/// A chart as inline SVG (no script, no external font or image), its title and description
/// for assistive technology, and its numbers in a table beneath.
fn chart(c: &Chart, out: &mut String) {
    let id = esc(c.id);
    let height = LEGEND + c.rows.len() * ROW + 8;
    let max = c
        .rows
        .iter()
        .map(|(_, n)| n.iter().sum::<usize>())
        .max()
        .unwrap_or(0);
    out.push_str(&format!(
        "<figure class=\"chart\">\n<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" \
         aria-labelledby=\"{id}-title {id}-desc\" width=\"{CHART_WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {CHART_WIDTH} {height}\" font-family=\"system-ui, sans-serif\" \
         font-size=\"12\">\n<title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>\n",
        esc(&c.title),
        esc(&c.description)
    ));
    let mut x = LABEL_WIDTH + 10;
    for (name, tone) in &c.series {
        out.push_str(&format!(
            "<rect x=\"{x}\" y=\"8\" width=\"12\" height=\"12\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"18\">{}</text>\n",
            tone_color(*tone),
            x + 16,
            esc(name)
        ));
        x += 16 + name.chars().count() * 7 + 18;
    }
    for (i, (label, counts)) in c.rows.iter().enumerate() {
        let y = LEGEND + i * ROW;
        let parts: Vec<String> = counts
            .iter()
            .zip(&c.series)
            .filter(|(n, _)| **n > 0)
            .map(|(n, (name, _))| format!("{n} {name}"))
            .collect();
        let total: usize = counts.iter().sum();
        let tip = match parts.is_empty() {
            true => format!("{label}: none"),
            false => format!("{label}: {}", parts.join(", ")),
        };
        let shown: String = match label.chars().count() > LABEL_CHARS {
            true => label.chars().take(LABEL_CHARS - 1).chain(['…']).collect(),
            false => label.clone(),
        };
        out.push_str(&format!(
            "<g><title>{}</title><text x=\"{LABEL_WIDTH}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            esc(&tip),
            y + 14,
            esc(&shown)
        ));
        let mut x = LABEL_WIDTH + 10;
        for (n, (_, tone)) in counts.iter().zip(&c.series) {
            let width = (n * BAR_WIDTH).checked_div(max).unwrap_or(0);
            if *n == 0 {
                continue;
            }
            // At least a pixel, so a count of one beside hundreds is still seen.
            let width = width.max(1);
            out.push_str(&format!(
                "<rect x=\"{x}\" y=\"{}\" width=\"{width}\" height=\"16\" fill=\"{}\"/>",
                y + 2,
                tone_color(*tone)
            ));
            x += width;
        }
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\">{total}</text></g>\n",
            x + 6,
            y + 14
        ));
    }
    out.push_str(&format!(
        "</svg>\n<figcaption>{}</figcaption>\n<details>\n<summary>The numbers</summary>\n",
        esc(&c.title)
    ));
    table(&c.numbers(), out);
    out.push_str("</details>\n</figure>\n");
}

/// Spans as HTML; also the summary of markdown's `<details>`, which GitHub reads as HTML.
pub(super) fn spans(line: &[Inline]) -> String {
    line.iter()
        .map(|span| match span {
            Inline::Text(s) => esc(s),
            Inline::Code(s) => format!("<code>{}</code>", esc(s)),
            Inline::Strong(s) => format!("<strong>{}</strong>", esc(s)),
            Inline::Note(s) => format!("<span class=\"muted\">{}</span>", esc(s)),
            Inline::Kind(s) => format!("<span class=\"kind\">{}</span>", esc(s)),
            Inline::Link(l) => format!("<a href=\"{}\">{}</a>", esc(&l.href), esc(&l.text)),
            Inline::Severity(s) => badge(*s, s.as_str()),
            Inline::Badge { severity, label } => badge(*severity, label),
            Inline::Break => "<br>".to_owned(),
        })
        .collect()
}

fn badge(severity: Severity, label: &str) -> String {
    format!(
        "<span class=\"badge {}\">{}</span>",
        severity.as_str(),
        esc(label)
    )
}

/// Text and attribute values alike: the five characters HTML gives meaning to become
/// references, NUL (which parsers drop or replace) becomes U+FFFD, and a non-breaking space is
/// written `&nbsp;` so that the source shows it.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{FFFD}'),
            '\u{a0}' => out.push_str("&nbsp;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::blocks::tests::sample;
    use super::*;

    /// A long section is written a batch of pieces at a time: the same page as each of its
    /// blocks in turn.
    #[test]
    fn a_long_section_is_written_as_its_blocks_in_turn() {
        let inner = || -> Vec<Block> { (0..2000).flat_map(|_| sample().blocks).collect() };
        assert!(inner().len() > 2 * 64 * 16);
        let mut section = section_open("s", 2, "S");
        for b in inner().chunks(1) {
            blocks(b, &mut section);
        }
        section.push_str(SECTION_CLOSE);
        let page = render(&Document {
            title: "t".into(),
            blocks: vec![Block::Section {
                id: "s",
                level: 2,
                title: "S".into(),
                blocks: inner(),
            }],
        });
        let body = page.split_once("<h1>t</h1>\n").unwrap().1;
        assert_eq!(body, format!("{section}</body>\n</html>\n"));
    }

    /// A long list of blocks is written in pieces on every core: the same page as each block
    /// written in turn.
    #[test]
    fn blocks_written_in_pieces_are_the_blocks_in_turn() {
        let many: Vec<Block> = (0..200).flat_map(|_| sample().blocks).collect();
        assert!(many.len() > 3 * crate::report::blocks::PER_PIECE);
        let mut whole = String::new();
        blocks(&many, &mut whole);
        let mut in_turn = String::new();
        for b in many.chunks(1) {
            blocks(b, &mut in_turn);
        }
        assert_eq!(whole, in_turn);
    }

    /// A line break in a cell's text is only whitespace to HTML; `Inline::Break` is `<br>`.
    const SAMPLE: &str = r##"<body>
<h1>Review of a|b &lt;c&gt; &amp; d</h1>
<p>Text *x* &amp; &lt;y&gt; <code>a|b</code> <strong>strong</strong> <span class="muted">note</span> <span class="kind">Pod</span> <a href="#part">Part</a><br><span class="badge critical">critical</span> <span class="badge low">2 low</span></p>
<nav><a href="#part">Part (1)</a></nav>
<section id="part">
<h2>Part</h2>
<h3><code>id</code> a_b</h3>
<ol>
<li>one<br>more</li>
</ol>
<ul>
<li>a</li>
<li>b<br>c</li>
</ul>
<table class="findings">
<thead><tr><th>Name</th><th>Count</th></tr></thead>
<tbody>
<tr><td>a|b
c &lt;d&gt; &amp; e<br><code>x|y
z</code></td><td class="n">1</td></tr>
<tr><th>Total</th><th class="n">&nbsp;1</th></tr>
</tbody>
</table>
<details open>
<summary>Fold &lt;&amp;&gt;</summary>
<p>inside</p>
</details>
<pre><code class="language-diff">-a: &lt;b&gt;
+a: ```c```
</code></pre>
<figure class="chart">
<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-title chart-desc" width="640" height="82" viewBox="0 0 640 82" font-family="system-ui, sans-serif" font-size="12">
<title id="chart-title">Bars &lt;&amp;&gt;</title>
<desc id="chart-desc">Two rows</desc>
<rect x="200" y="8" width="12" height="12" fill="#c62828"/><text x="216" y="18">high</text>
<rect x="262" y="8" width="12" height="12" fill="#2e7d32"/><text x="278" y="18">pass</text>
<g><title>a&lt;b: 2 high, 1 pass</title><text x="190" y="44" text-anchor="end">a&lt;b</text><rect x="200" y="32" width="253" height="16" fill="#c62828"/><rect x="453" y="32" width="126" height="16" fill="#2e7d32"/><text x="585" y="44">3</text></g>
<g><title>c: none</title><text x="190" y="66" text-anchor="end">c</text><text x="206" y="66">0</text></g>
</svg>
<figcaption>Bars &lt;&amp;&gt;</figcaption>
<details>
<summary>The numbers</summary>
<table>
<thead><tr><th>Name</th><th>high</th><th>pass</th><th>Total</th></tr></thead>
<tbody>
<tr><td>a&lt;b</td><td class="n">2</td><td class="n">1</td><td class="n">3</td></tr>
<tr><td>c</td><td class="n">0</td><td class="n">0</td><td class="n">0</td></tr>
</tbody>
</table>
</details>
</figure>
<p>last</p>
</section>
</body>
</html>
"##;

    #[test]
    fn every_block_and_span_as_html() {
        let page = render(&sample());
        assert!(page.contains("<title>Review of a|b &lt;c&gt; &amp; d</title>"));
        let body = page.find("<body>").map_or("", |i| &page[i..]);
        assert_eq!(body, SAMPLE);
    }

    #[test]
    fn esc_leaves_no_markup_or_nul() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>\0"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\u{FFFD}"
        );
    }
}
