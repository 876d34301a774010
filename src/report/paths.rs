//! Attack paths as text for the table and the summary: a heading, then per path its score,
//! title and the objects it goes through, best first. The table also explains every step.

use super::table::heading;
use super::Style;
use crate::paths::AttackPath;
use comfy_table::Color;
use std::io::{self, Write};

/// Writes `paths` (at most `limit` of them; with `steps`, each step's explanation too).
pub fn write(
    paths: &[AttackPath],
    limit: usize,
    steps: bool,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    let mut title = format!("ATTACK PATHS ({})", paths.len());
    if paths.len() > limit {
        title.push_str(&format!(", top {limit}"));
    }
    writeln!(out, "{}", heading(&title, Some(Color::Red), style))?;
    let width = usize::from(style.width).max(40);
    for p in paths.iter().take(limit) {
        let line = format!(
            "  {:>2}  {}  {}",
            p.score.value,
            p.id,
            super::terminal_safe(&p.title)
        );
        writeln!(out, "{}", cut(&line, width))?;
        // Several steps on one object (its weaknesses, its token) name it once.
        let mut route: Vec<String> = p
            .steps
            .iter()
            .map(|s| super::terminal_safe(&s.object.display_name()).into_owned())
            .chain(std::iter::once(
                super::terminal_safe(&p.target).into_owned(),
            ))
            .collect();
        route.dedup();
        writeln!(
            out,
            "{}",
            cut(&format!("      {}", route.join(" → ")), width)
        )?;
        if steps {
            for (i, s) in p.steps.iter().enumerate() {
                let lead = format!("      {}. ", i + 1);
                let text = super::terminal_safe(&s.explanation);
                for (n, line) in wrap(&text, width.saturating_sub(lead.len()))
                    .iter()
                    .enumerate()
                {
                    let pad = if n == 0 {
                        lead.clone()
                    } else {
                        " ".repeat(lead.len())
                    };
                    writeln!(out, "{pad}{line}")?;
                }
            }
        }
    }
    writeln!(out)
}

/// `text` in lines of at most `width` characters, broken between words (a word longer than
/// the width gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(20);
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("lines starts with one");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_owned());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// `s` cut to `width` characters, with `…` where it was cut.
fn cut(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let mut cut: String = s.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    #[test]
    fn explanations_wrap_between_words() {
        let lines = super::wrap("one two three four five six seven eight nine ten", 20);
        assert_eq!(
            lines,
            ["one two three four", "five six seven eight", "nine ten"]
        );
        assert!(lines.iter().all(|l| l.chars().count() <= 20));
    }
}
