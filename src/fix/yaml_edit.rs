//! Applying a [`Tree`] of wants to a YAML file's text, line by line, so that everything the
//! fix does not touch — comments, quoting, key order, blank lines, other documents — stays as
//! written. Block style is edited; a flow collection is edited only when it is empty (`{}`) or a
//! one-line sequence (`[NET_RAW]`); anything else is refused with the reason.

use super::desired::{display, holds, Node, Tree};
use crate::resource::{NodeView, Segment, Shape, SpanTree};
use serde_json::Value;
use std::collections::BTreeMap;

/// How far a new level is indented.
const STEP: usize = 2;

/// Edits to a file's lines, gathered before any is applied.
#[derive(Debug, Default)]
pub struct Edits {
    /// Per 1-based line: replacements of byte ranges of that line.
    replace: BTreeMap<u32, Vec<(usize, usize, String)>>,
    /// Per 1-based line: lines to insert after it, in order.
    insert: BTreeMap<u32, Vec<String>>,
}

impl Edits {
    /// `text` with every edit applied.
    pub fn apply(&self, text: &str) -> String {
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let mut out = String::with_capacity(text.len() + 256);
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let (body, ending) = match line.strip_suffix("\r\n") {
                Some(body) => (body, "\r\n"),
                None => match line.strip_suffix('\n') {
                    Some(body) => (body, "\n"),
                    None => (line, ""),
                },
            };
            match self.replace.get(&number) {
                Some(replacements) => {
                    let mut body = body.to_owned();
                    let mut sorted = replacements.clone();
                    sorted.sort_by_key(|r| std::cmp::Reverse(r.0));
                    for (start, end, with) in sorted {
                        body.replace_range(start..end, &with);
                    }
                    // `securityContext: {}` emptied for the block below leaves a space.
                    out.push_str(body.trim_end_matches(' '));
                }
                None => out.push_str(body),
            }
            out.push_str(if ending.is_empty() && self.insert.contains_key(&number) {
                newline
            } else {
                ending
            });
            for inserted in self.insert.get(&number).into_iter().flatten() {
                for l in inserted.lines() {
                    out.push_str(l);
                    out.push_str(newline);
                }
            }
        }
        out
    }

    /// Takes in another object's edits of the same file.
    pub fn absorb(&mut self, other: Edits) {
        for (line, r) in other.replace {
            self.replace.entry(line).or_default().extend(r);
        }
        for (line, i) in other.insert {
            self.insert.entry(line).or_default().extend(i);
        }
    }
}

/// A file's lines and the positions of one object in it.
pub struct Document<'a> {
    lines: &'a [&'a str],
    spans: &'a SpanTree,
    object: &'a Value,
}

impl<'a> Document<'a> {
    /// `lines` are the file's (`str::lines`), split once for all of its objects.
    pub fn new(lines: &'a [&'a str], spans: &'a SpanTree, object: &'a Value) -> Self {
        Document {
            lines,
            spans,
            object,
        }
    }

    /// Adds to `edits` what makes the object hold `tree`.
    pub fn edit(&self, tree: &Tree, edits: &mut Edits) -> Result<(), String> {
        self.edit_map(&[], tree, edits)
    }

    fn line(&self, number: u32) -> &str {
        self.lines
            .get(number.saturating_sub(1) as usize)
            .copied()
            .unwrap_or("")
    }

    fn value_at(&self, path: &[Segment]) -> Option<&Value> {
        path.iter().try_fold(self.object, |v, s| match s {
            Segment::Key(k) => v.get(k.as_str()),
            Segment::Index(i) => v.get(i),
        })
    }

    fn view(&self, path: &[Segment]) -> Result<NodeView, String> {
        self.spans
            .view(path)
            .ok_or_else(|| format!("posture cannot find {} in the file", display(path)))
    }

    fn edit_map(&self, path: &[Segment], tree: &Tree, edits: &mut Edits) -> Result<(), String> {
        let view = self.view(path)?;
        if view.shape != Shape::Mapping {
            return Err(format!("{} is not a mapping", display(path)));
        }
        let Some(first) = view.first_child else {
            return Err(format!(
                "{} is an empty flow mapping posture does not rewrite",
                display(path)
            ));
        };
        let mut missing = Tree::default();
        for (segment, node) in &tree.0 {
            let child: Vec<Segment> = path.iter().cloned().chain([segment.clone()]).collect();
            match self.spans.view(&child) {
                None => {
                    if matches!(segment, Segment::Index(_)) {
                        return Err(format!("{} is not in the file", display(&child)));
                    }
                    missing.0.insert(segment.clone(), node.clone());
                }
                Some(v) => self.edit_child(&child, v, node, edits)?,
            }
        }
        if !missing.0.is_empty() {
            let indent = (first.column as usize).saturating_sub(1);
            let end = self.block_end(view.last_line, indent);
            edits
                .insert
                .entry(end)
                .or_default()
                .push(render_tree(&missing, indent)?);
        }
        Ok(())
    }

    fn edit_child(
        &self,
        path: &[Segment],
        view: NodeView,
        node: &Node,
        edits: &mut Edits,
    ) -> Result<(), String> {
        let value = self.value_at(path);
        match (node, view.shape) {
            (Node::Map(tree), Shape::Mapping) if view.children > 0 => {
                if self.flow_after_key(view).is_some() {
                    return Err(format!(
                        "{} is written in flow style ({{...}}), which posture does not rewrite",
                        display(path)
                    ));
                }
                self.edit_map(path, tree, edits)
            }
            // `securityContext: {}` or `securityContext:` (null): the new entries replace it.
            (Node::Map(tree), Shape::Mapping | Shape::Scalar)
                if value.is_none_or(|v| v.is_null() || v == &Value::Object(Default::default())) =>
            {
                let indent = (view.position.column as usize).saturating_sub(1) + STEP;
                self.replace_with_block(view, path, render_tree(tree, indent)?, edits)
            }
            // Items of a sequence the fixes reach into by index (`containers[0]`).
            (Node::Map(tree), Shape::Sequence)
                if tree.0.keys().all(|s| matches!(s, Segment::Index(_))) =>
            {
                for (segment, node) in &tree.0 {
                    let item: Vec<Segment> =
                        path.iter().cloned().chain([segment.clone()]).collect();
                    let Node::Map(t) = node else {
                        return Err(format!("{} is replaced, not edited", display(&item)));
                    };
                    self.edit_map(&item, t, edits)?;
                }
                Ok(())
            }
            (Node::Scalar(v), Shape::Scalar) => {
                let (start, end) = self.value_token(view, path)?;
                edits
                    .replace
                    .entry(view.position.line)
                    .or_default()
                    .push((start, end, scalar(v)));
                Ok(())
            }
            (Node::Items(items), Shape::Sequence) => {
                let existing = value.and_then(Value::as_array).cloned().unwrap_or_default();
                let new: Vec<&Value> = items
                    .iter()
                    .filter(|(item, key)| !holds(&existing, item, *key))
                    .map(|(item, _)| item)
                    .collect();
                if new.is_empty() {
                    return Ok(());
                }
                self.append(path, view, &new, edits)
            }
            (Node::Items(items), Shape::Scalar | Shape::Mapping)
                if value.is_none_or(|v| v.is_null()) || view.children == 0 =>
            {
                let indent = (view.position.column as usize).saturating_sub(1) + STEP;
                let mut text = String::new();
                for (item, _) in items {
                    text.push_str(&render_item(item, indent)?);
                }
                self.replace_with_block(view, path, text, edits)
            }
            _ => Err(format!(
                "{} is not of the shape the fix expects",
                display(path)
            )),
        }
    }

    /// Empties the value after the key at `view` (`{}`, `[]`, `null` or nothing) and puts
    /// `block` on the lines below it.
    fn replace_with_block(
        &self,
        view: NodeView,
        path: &[Segment],
        block: String,
        edits: &mut Edits,
    ) -> Result<(), String> {
        let (start, end) = self.value_token(view, path)?;
        let line = view.position.line;
        edits
            .replace
            .entry(line)
            .or_default()
            .push((start, end, String::new()));
        edits.insert.entry(line).or_default().push(block);
        Ok(())
    }

    /// Appends `items` to the sequence at `path`.
    fn append(
        &self,
        path: &[Segment],
        view: NodeView,
        items: &[&Value],
        edits: &mut Edits,
    ) -> Result<(), String> {
        if let Some(column) = self.flow_after_key(view) {
            let line = self.line(view.position.line);
            let open = &line[column..];
            if !open.starts_with('[') {
                return Err(format!("{} is not a sequence", display(path)));
            }
            let Some(close) = open.find(']') else {
                return Err(format!(
                    "{} is a flow sequence over several lines, which posture does not rewrite",
                    display(path)
                ));
            };
            let inner = open[1..close].trim();
            let mut added: Vec<String> = Vec::new();
            for item in items {
                if item.is_object() || item.is_array() {
                    return Err(format!(
                        "{} is a flow sequence; posture adds only scalars to one",
                        display(path)
                    ));
                }
                added.push(scalar(item));
            }
            let text = if inner.is_empty() {
                added.join(", ")
            } else {
                format!(", {}", added.join(", "))
            };
            let at = column + close;
            let at = if inner.is_empty() { column + 1 } else { at };
            edits
                .replace
                .entry(view.position.line)
                .or_default()
                .push((at, at, text));
            return Ok(());
        }
        let Some(first) = view.first_child else {
            return Err(format!("{} has no items to align with", display(path)));
        };
        let line = self.line(first.line);
        let item_column = (first.column as usize).saturating_sub(1);
        let dash = line[..item_column.min(line.len())]
            .rfind('-')
            .ok_or_else(|| format!("{} is not a block sequence", display(path)))?;
        let end = self.block_end(view.last_line, dash);
        let mut text = String::new();
        for item in items {
            text.push_str(&render_item(item, dash)?);
        }
        edits.insert.entry(end).or_default().push(text);
        Ok(())
    }

    /// The byte column of a flow collection's opening bracket after the key on its line.
    fn flow_after_key(&self, view: NodeView) -> Option<usize> {
        let line = self.line(view.position.line);
        let colon = key_colon(line, view.position.column)?;
        let rest = &line[colon + 1..];
        let offset = rest.len() - rest.trim_start().len();
        let at = colon + 1 + offset;
        matches!(line.as_bytes().get(at), Some(b'{' | b'[')).then_some(at)
    }

    /// The byte range of a scalar value (or of `{}`, `[]`, `null`) after its key on one line.
    fn value_token(&self, view: NodeView, path: &[Segment]) -> Result<(usize, usize), String> {
        let line = self.line(view.position.line);
        let colon = key_colon(line, view.position.column).ok_or_else(|| {
            format!(
                "{} is not a `key: value` on one line, which posture does not rewrite",
                display(path)
            )
        })?;
        let rest = &line[colon + 1..];
        let start = colon + 1 + (rest.len() - rest.trim_start().len());
        let tail = &line[start..];
        let end = start
            + match tail.find(" #") {
                Some(comment) => tail[..comment].trim_end().len(),
                None => tail.trim_end().len(),
            };
        let token = &line[start..end];
        if token.starts_with('|') || token.starts_with('>') {
            return Err(format!(
                "{} is a block scalar, which posture does not rewrite",
                display(path)
            ));
        }
        let quoted = token.starts_with('"') || token.starts_with('\'');
        if quoted && (token.len() < 2 || !token.ends_with(&token[..1])) {
            return Err(format!(
                "{} is a quoted value over several lines, which posture does not rewrite",
                display(path)
            ));
        }
        // The value continues on the next line: a plain scalar folded over lines.
        if !token.is_empty() && view.last_line == view.position.line {
            let next = self.line(view.position.line + 1);
            let key_indent = (view.position.column as usize).saturating_sub(1);
            if !next.trim().is_empty()
                && !next.trim_start().starts_with('#')
                && indentation(next) > key_indent
                && !next.trim_start().starts_with('-')
            {
                return Err(format!(
                    "{} is a value over several lines, which posture does not rewrite",
                    display(path)
                ));
            }
        }
        Ok((start, end))
    }

    /// The last line of a block whose last node starts on `last_line` and whose entries are
    /// indented `indent`: lines indented deeper after it (a multi-line scalar) belong to it;
    /// blank lines and comments after it do not.
    fn block_end(&self, last_line: u32, indent: usize) -> u32 {
        let mut end = last_line;
        let mut n = last_line + 1;
        while (n as usize) <= self.lines.len() {
            let line = self.line(n);
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                n += 1;
                continue;
            }
            if line.starts_with("---") || line.starts_with("...") || indentation(line) <= indent {
                break;
            }
            end = n;
            n += 1;
        }
        end
    }
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The byte index of the `:` that ends the key starting at 1-based `column` of `line`.
fn key_colon(line: &str, column: u32) -> Option<usize> {
    let start = (column as usize).saturating_sub(1);
    let rest = line.get(start..)?;
    let bytes = rest.as_bytes();
    // A quoted key ends at its closing quote.
    let from = match bytes.first() {
        Some(q @ (b'"' | b'\'')) => 1 + rest[1..].find(*q as char)? + 1,
        _ => 0,
    };
    let mut i = from;
    while i < bytes.len() {
        if bytes[i] == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' ') {
            return Some(start + i);
        }
        i += 1;
    }
    None
}

/// A scalar as YAML: plain when that reads back as the same string, else double-quoted.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let plain = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
                && !s.starts_with('-')
                && !matches!(
                    s.to_ascii_lowercase().as_str(),
                    "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
                )
                && s.parse::<f64>().is_err();
            if plain {
                s.clone()
            } else {
                serde_json::to_string(s).unwrap_or_default()
            }
        }
        Value::Object(m) if m.is_empty() => "{}".to_owned(),
        Value::Array(a) if a.is_empty() => "[]".to_owned(),
        other => other.to_string(),
    }
}

fn render_tree(tree: &Tree, indent: usize) -> Result<String, String> {
    let pad = " ".repeat(indent);
    let mut out = String::new();
    for (segment, node) in &tree.0 {
        let Segment::Key(key) = segment else {
            return Err("a sequence item posture would add is not in the file".to_owned());
        };
        let key = scalar(&Value::String(key.to_string()));
        match node {
            Node::Map(t) => {
                out.push_str(&format!("{pad}{key}:\n"));
                out.push_str(&render_tree(t, indent + STEP)?);
            }
            Node::Scalar(v) => out.push_str(&format!("{pad}{key}: {}\n", scalar(v))),
            Node::Items(items) => {
                out.push_str(&format!("{pad}{key}:\n"));
                for (item, _) in items {
                    out.push_str(&render_item(item, indent + STEP)?);
                }
            }
        }
    }
    Ok(out)
}

/// One sequence item at `indent` (the dash's column).
fn render_item(item: &Value, indent: usize) -> Result<String, String> {
    let pad = " ".repeat(indent);
    match item {
        Value::Object(map) if !map.is_empty() => {
            let mut out = String::new();
            for (i, (k, v)) in map.iter().enumerate() {
                let lead = if i == 0 {
                    format!("{pad}- ")
                } else {
                    " ".repeat(indent + 2)
                };
                let key = scalar(&Value::String(k.clone()));
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        return Err("posture adds no nested mapping inside a sequence item".into())
                    }
                    Value::Array(a) if !a.is_empty() => {
                        return Err("posture adds no nested sequence inside a sequence item".into())
                    }
                    _ => out.push_str(&format!("{lead}{key}: {}\n", scalar(v))),
                }
            }
            Ok(out)
        }
        Value::Array(a) if !a.is_empty() => {
            Err("posture adds no nested sequence inside a sequence".into())
        }
        other => Ok(format!("{pad}- {}\n", scalar(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_plain_only_when_they_read_back_the_same() {
        assert_eq!(
            scalar(&Value::String("RuntimeDefault".into())),
            "RuntimeDefault"
        );
        assert_eq!(scalar(&Value::String("true".into())), "\"true\"");
        assert_eq!(scalar(&Value::String("1.0".into())), "\"1.0\"");
        assert_eq!(scalar(&Value::String("/tmp".into())), "/tmp");
        assert_eq!(scalar(&Value::Bool(false)), "false");
        assert_eq!(scalar(&serde_json::json!({})), "{}");
    }

    #[test]
    fn keys_end_at_their_colon_quoted_or_not() {
        assert_eq!(key_colon("  privileged: true", 3), Some(12));
        assert_eq!(key_colon("  \"a:b\": 1", 3), Some(7));
        assert_eq!(key_colon("  image: nginx:1.25", 3), Some(7));
    }
}
