//! A review [`Document`] as one self-contained HTML page: inline CSS, no script, no external
//! asset. It knows blocks and spans only; what the review says is decided in
//! [`super::review`]. Every string is escaped here; a Content-Security-Policy that allows
//! nothing but the inline style keeps a page that a bug let markup into from loading or running
//! anything.

use super::blocks::{Align, Block, Document, Inline, Table};
use super::review::{self, Flavor};
use crate::scan::ScanReport;
use crate::severity::Severity;
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
";

pub fn write(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let doc = review::document(report, Flavor::Html);
    out.write_all(render(&doc).as_bytes())
}

pub fn render(doc: &Document) -> String {
    let title = esc(&doc.title);
    let mut out = String::with_capacity(1 << 16);
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\">\n<title>{title}</title>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n<h1>{title}</h1>\n"
    ));
    blocks(&doc.blocks, &mut out);
    out.push_str("</body>\n</html>\n");
    out
}

fn blocks(list: &[Block], out: &mut String) {
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
                out.push_str(&format!(
                    "<section id=\"{}\">\n<h{level}>{}</h{level}>\n",
                    esc(id),
                    esc(title)
                ));
                blocks(inner, out);
                out.push_str("</section>\n");
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
