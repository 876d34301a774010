//! Where a field of a rendered object is written in the Helm template it was rendered from.
//!
//! A template is YAML with `{{ }}` actions, so it cannot be parsed as YAML, but its layout is
//! YAML's: the key path of a field can be followed through the indentation of `key:` lines and
//! `- ` list items. [`Template::parse`] reads that layout once per template file: actions that
//! print nothing (`if`, `range`, `end`, comments, assignments) count as blank, actions that
//! print (`.Values.x`, `include`, `toYaml`) are opaque text, block scalars are skipped, and each
//! node remembers the control block (`if`/`else` branch, `range`, `with`) it is written in.
//! [`Template::locate`] then walks a rendered object's key path through that layout, matching a
//! list element by its `name` when it has one, else by index when the template lists exactly
//! the rendered elements. When the walk is ambiguous, or the field is printed by an action
//! (`toYaml`, `include`, a key written as `{{ $k }}:`), there is no answer: a wrong line would
//! be worse than none.
//!
//! Pure text processing over text read elsewhere; no I/O here.

use crate::resource::{FieldPath, Position, Segment, SourceMap, SourcePath, Written};
use serde_json::Value;
use std::sync::Arc;

/// Where the fields of an object rendered from one template are written in it.
#[derive(Debug)]
pub struct HelmSourceMap {
    pub file: SourcePath,
    pub template: Arc<Template>,
}

impl SourceMap for HelmSourceMap {
    fn written(&self, object: &Value, path: &FieldPath) -> Option<Written> {
        self.template.locate(object, path).map(|position| Written {
            file: self.file.clone(),
            position,
        })
    }
}

/// A template's layout: one tree of keys and list items per YAML document in it.
#[derive(Debug, Default)]
pub struct Template {
    docs: Vec<Doc>,
}

#[derive(Debug)]
struct Doc {
    /// `nodes[0]` is the document's root mapping.
    nodes: Vec<Node>,
}

#[derive(Debug)]
struct Node {
    position: Position,
    kind: NodeKind,
    value: Inline,
    children: Vec<usize>,
    /// A printing action writes text among the children, so they may hold keys or items the
    /// template does not show.
    opaque: bool,
    /// The control block (an `if` or `else` branch, a `range`, a `with`) the node is written
    /// in; 0 outside any.
    block: u32,
}

#[derive(Debug, PartialEq)]
enum NodeKind {
    Root,
    /// A mapping key; `None` when an action writes (part of) it.
    Key(Option<String>),
    /// A list item (`- `).
    Item,
}

/// What follows a key or a list item's dash on its own line.
#[derive(Debug, Clone)]
enum Inline {
    /// Nothing: the children are on the next lines.
    None,
    Scalar(Pattern),
    /// `{...}` or `[...]`: every descendant is written on this line.
    Flow,
    /// `|` or `>`: the text on the next lines is one string.
    Block,
}

/// A scalar as the template writes it: literal text with holes where actions print.
#[derive(Debug, Clone, PartialEq)]
struct Pattern(Vec<Piece>);

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Any,
}

/// Stands for a character of a printing action in a masked line.
const PRINTED: char = '\u{0}';
/// Stands for a character of an action that prints nothing: blank for the layout.
const SILENT: char = '\u{1}';

impl Pattern {
    /// `"{{ .a }}:{{ .b }}"` → `Any ":" Any`. Quotes around the whole scalar are dropped; a
    /// control action inside it makes the whole value unknown.
    fn of(text: &str) -> Pattern {
        if text.contains(SILENT) {
            return Pattern(vec![Piece::Any]);
        }
        let unquoted = unquote(text).unwrap_or_else(|| text.to_owned());
        let mut pieces = Vec::new();
        let mut literal = String::new();
        for c in unquoted.chars() {
            if c == PRINTED {
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                if pieces.last() != Some(&Piece::Any) {
                    pieces.push(Piece::Any);
                }
            } else {
                literal.push(c);
            }
        }
        if !literal.is_empty() || pieces.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Pattern(pieces)
    }

    /// Nothing but a hole: matches anything, so it tells nothing apart.
    fn is_any(&self) -> bool {
        self.0.iter().all(|p| *p == Piece::Any)
    }

    /// Whether `s` could be what the template printed here.
    fn matches(&self, s: &str) -> bool {
        fn go(pieces: &[Piece], s: &str) -> bool {
            match pieces.split_first() {
                None => s.is_empty(),
                Some((Piece::Text(t), rest)) => {
                    s.strip_prefix(t.as_str()).is_some_and(|r| go(rest, r))
                }
                Some((Piece::Any, rest)) => {
                    // Pieces alternate, so the next is text: try each place it occurs.
                    match rest.first() {
                        None => true,
                        Some(Piece::Text(t)) => s
                            .match_indices(t.as_str())
                            .any(|(at, _)| go(rest, &s[at..])),
                        Some(Piece::Any) => go(rest, s),
                    }
                }
            }
        }
        go(&self.0, s)
    }
}

/// The text of a YAML-quoted scalar, or `None` when `text` is not one quoted scalar.
fn unquote(text: &str) -> Option<String> {
    let inner = |q: char| {
        text.strip_prefix(q)
            .and_then(|t| t.strip_suffix(q))
            .filter(|_| text.len() >= 2)
    };
    if let Some(s) = inner('"') {
        return (!s.contains('"') || s.contains("\\\"")).then(|| s.replace("\\\"", "\""));
    }
    inner('\'').map(|s| s.replace("''", "'"))
}

/// A rendered scalar as text, to compare with a [`Pattern`].
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null => Some(String::new()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// An action found in the text: where it starts and whether it prints.
struct Action {
    line: usize,
    column: usize,
    effect: Effect,
    /// `nindent N` or `indent N`: the column its printed text starts at.
    indent: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Prints,
    Silent,
    Open(BlockKind),
    Else,
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Branch,
    Range,
    /// `define`: its text is a named template, not part of this file's output.
    Define,
}

fn classify(inner: &str) -> Effect {
    let inner = inner.trim_start_matches('-').trim_end_matches('-').trim();
    if inner.starts_with("/*") {
        return Effect::Silent;
    }
    let word = inner
        .split(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    match word {
        "if" | "with" => Effect::Open(BlockKind::Branch),
        // `block` defines a template and prints it here: its body is this file's text.
        "block" => Effect::Open(BlockKind::Branch),
        "range" => Effect::Open(BlockKind::Range),
        "define" => Effect::Open(BlockKind::Define),
        "else" => Effect::Else,
        "end" => Effect::End,
        "break" | "continue" => Effect::Silent,
        w if w.starts_with('$') && is_assignment(inner) => Effect::Silent,
        _ => Effect::Prints,
    }
}

/// `$x := ...` or `$x = ...`: sets a variable and prints nothing.
fn is_assignment(inner: &str) -> bool {
    let mut words = inner.split_whitespace();
    words.next();
    matches!(words.next(), Some(":=" | "="))
}

/// `... | nindent 8` → 8: where the printed text's lines start.
fn printed_indent(inner: &str) -> Option<usize> {
    let words: Vec<&str> = inner.split_whitespace().collect();
    words
        .windows(2)
        .rev()
        .find(|w| w[0] == "nindent" || w[0] == "indent")
        .and_then(|w| w[1].trim_end_matches(['}', ')', '-']).parse().ok())
}

/// The text's lines with every action masked ([`PRINTED`] or [`SILENT`] for each of its
/// characters, so columns stay), and the actions found.
fn mask(text: &str) -> (Vec<Vec<char>>, Vec<Action>) {
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let mut actions = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '{' && chars.get(i + 1) == Some(&'{') {
            // An action runs to the next `}}`, across lines if need be; an unclosed one to
            // the end of the text.
            let start = i;
            let mut end = i + 2;
            while end < chars.len() && !(chars[end] == '}' && chars.get(end + 1) == Some(&'}')) {
                end += 1;
            }
            let close = (end + 2).min(chars.len());
            let inner: String = chars[(start + 2).min(close)..end.min(chars.len())]
                .iter()
                .collect();
            let effect = classify(&inner);
            let stand_in = if effect == Effect::Prints {
                PRINTED
            } else {
                SILENT
            };
            let line = lines.len() - 1;
            actions.push(Action {
                line,
                column: lines[line].len(),
                effect,
                indent: printed_indent(&inner),
            });
            for &c in &chars[start..close] {
                if c == '\n' {
                    lines.push(Vec::new());
                } else if let Some(current) = lines.last_mut() {
                    current.push(stand_in);
                }
            }
            i = close;
            continue;
        }
        match chars[i] {
            '\n' => lines.push(Vec::new()),
            '\r' if chars.get(i + 1) == Some(&'\n') => {}
            c => {
                if let Some(current) = lines.last_mut() {
                    current.push(c);
                }
            }
        }
        i += 1;
    }
    (lines, actions)
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t' || c == SILENT || c == '\u{feff}'
}

/// One line's layout, from its first written character.
enum Token {
    Dash(usize),
    Key {
        column: usize,
        key: Option<String>,
        value: Inline,
    },
    Scalar {
        column: usize,
        value: Inline,
    },
}

/// Splits a line into `- ` dashes followed by a key or a scalar (nothing for a comment).
fn tokens(line: &[char], mut at: usize) -> Vec<Token> {
    let mut out = Vec::new();
    loop {
        while at < line.len() && is_blank(line[at]) {
            at += 1;
        }
        if at >= line.len() || line[at] == '#' {
            return out;
        }
        if line[at] == '-' && line.get(at + 1).is_none_or(|c| is_blank(*c)) {
            out.push(Token::Dash(at));
            at += 1;
            continue;
        }
        match key_end(line, at) {
            Some((key_to, value_from)) => {
                let raw: String = line[at..key_to].iter().collect();
                let raw = raw.trim_end();
                let key = if raw.contains(PRINTED) || raw.contains(SILENT) {
                    None
                } else {
                    Some(unquote(raw).unwrap_or_else(|| raw.to_owned()))
                };
                out.push(Token::Key {
                    column: at,
                    key,
                    value: inline(&line[value_from.min(line.len())..]),
                });
            }
            None => out.push(Token::Scalar {
                column: at,
                value: inline(&line[at..]),
            }),
        }
        return out;
    }
}

/// Where a key that starts at `at` ends and its value starts: the `:` followed by a blank or
/// the end of the line, outside quotes.
fn key_end(line: &[char], at: usize) -> Option<(usize, usize)> {
    let first = line[at];
    if first == '{' || first == '[' || first == '|' || first == '>' {
        return None;
    }
    let mut i = at;
    if first == '"' || first == '\'' {
        i += 1;
        while i < line.len() {
            if line[i] == '\\' && first == '"' {
                i += 2;
                continue;
            }
            if line[i] == first {
                if first == '\'' && line.get(i + 1) == Some(&'\'') {
                    i += 2;
                    continue;
                }
                break;
            }
            i += 1;
        }
        i += 1;
    }
    while i < line.len() {
        if line[i] == '#' && i > at && is_blank(line[i - 1]) {
            return None;
        }
        if line[i] == ':' && line.get(i + 1).is_none_or(|c| is_blank(*c)) {
            return Some((i, i + 1));
        }
        i += 1;
    }
    None
}

/// A value as written after `key:` or `- `.
fn inline(rest: &[char]) -> Inline {
    let text: String = rest.iter().collect();
    let text = strip_comment(&text);
    let text = text.trim_matches(is_blank);
    if text.is_empty() {
        return Inline::None;
    }
    if text.starts_with('{') || text.starts_with('[') {
        return Inline::Flow;
    }
    let indicator = text.trim_start_matches(['|', '>']);
    if text.len() != indicator.len()
        && indicator
            .chars()
            .all(|c| c == '-' || c == '+' || c.is_ascii_digit())
    {
        return Inline::Block;
    }
    Inline::Scalar(Pattern::of(text))
}

/// The text before a ` #` comment that is outside quotes.
fn strip_comment(text: &str) -> &str {
    let mut quote = None;
    let mut previous = ' ';
    for (i, c) in text.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' && is_blank(previous) => return &text[..i],
            None => {}
        }
        previous = c;
    }
    text
}

/// Builds one document's tree as lines arrive.
struct Builder {
    nodes: Vec<Node>,
    /// Open nodes with the column their children must be right of: keys at their key's
    /// column, items at their dash's, the root at -1.
    stack: Vec<(isize, usize)>,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            nodes: vec![Node {
                position: Position { line: 1, column: 1 },
                kind: NodeKind::Root,
                value: Inline::None,
                children: Vec::new(),
                opaque: false,
                block: 0,
            }],
            stack: vec![(-1, 0)],
        }
    }

    fn top(&self) -> usize {
        self.stack.last().map_or(0, |&(_, node)| node)
    }

    fn add(&mut self, parent: usize, node: Node) -> usize {
        let id = self.nodes.len();
        if parent == 0 && self.nodes[0].children.is_empty() {
            // The root is where the document's first key is.
            self.nodes[0].position = node.position;
        }
        self.nodes.push(node);
        self.nodes[parent].children.push(id);
        id
    }

    fn key(&mut self, column: usize, line: u32, key: Option<String>, value: Inline, block: u32) {
        let indent = column as isize;
        while self.stack.len() > 1 && self.stack.last().is_some_and(|&(i, _)| i >= indent) {
            self.stack.pop();
        }
        let parent = self.top();
        let id = self.add(
            parent,
            Node {
                position: at(line, column),
                kind: NodeKind::Key(key),
                value,
                children: Vec::new(),
                opaque: false,
                block,
            },
        );
        self.stack.push((indent, id));
    }

    fn item(&mut self, dash: usize, content: Option<usize>, line: u32, block: u32) -> usize {
        let indent = dash as isize;
        // A sibling item, or a deeper node, ends here; a key at the dash's column keeps its
        // items (`key:\n- a` is YAML too) unless it already has a value on its line.
        while self.stack.len() > 1 {
            let Some(&(i, node)) = self.stack.last() else {
                break;
            };
            let holds_items = self.nodes[node].kind != NodeKind::Item
                && matches!(self.nodes[node].value, Inline::None);
            if i > indent || (i == indent && !holds_items) {
                self.stack.pop();
            } else {
                break;
            }
        }
        let parent = self.top();
        let id = self.add(
            parent,
            Node {
                position: at(line, content.unwrap_or(dash)),
                kind: NodeKind::Item,
                value: Inline::None,
                children: Vec::new(),
                opaque: false,
                block,
            },
        );
        self.stack.push((indent, id));
        id
    }

    /// A printing action whose text lines start at `column`: it writes into the deepest open
    /// node left of it.
    fn opaque(&mut self, column: usize) {
        let node = self
            .stack
            .iter()
            .rev()
            .find(|&&(i, _)| i < column as isize)
            .map_or(0, |&(_, n)| n);
        self.nodes[node].opaque = true;
    }

    fn finish(self, docs: &mut Vec<Doc>) {
        if self.nodes.len() > 1 || self.nodes[0].opaque {
            docs.push(Doc { nodes: self.nodes });
        }
    }
}

fn at(line: u32, column: usize) -> Position {
    Position {
        line,
        column: u32::try_from(column + 1).unwrap_or(u32::MAX),
    }
}

/// The control blocks open at a line.
#[derive(Default)]
struct Blocks {
    open: Vec<(BlockKind, u32)>,
    next_id: u32,
}

impl Blocks {
    fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::Open(kind) => {
                self.next_id += 1;
                self.open.push((kind, self.next_id));
            }
            // Another branch: nodes in it are not the same as those of the first.
            Effect::Else => {
                self.next_id += 1;
                if let Some(last) = self.open.last_mut() {
                    last.1 = self.next_id;
                }
            }
            Effect::End => {
                self.open.pop();
            }
            Effect::Prints | Effect::Silent => {}
        }
    }

    fn current(&self) -> u32 {
        self.open.last().map_or(0, |&(_, id)| id)
    }

    fn in_define(&self) -> bool {
        self.open.iter().any(|&(k, _)| k == BlockKind::Define)
    }
}

impl Template {
    /// Reads a template's layout. Never fails: text it cannot follow yields fewer nodes, and
    /// so fewer answers.
    pub fn parse(text: &str) -> Template {
        let (lines, actions) = mask(text);
        let mut docs = Vec::new();
        let mut builder = Builder::new();
        let mut blocks = Blocks::default();
        let mut actions = actions.into_iter().peekable();
        // The column a block scalar's text must be right of, while in one.
        let mut block_scalar: Option<usize> = None;
        for (index, line) in lines.iter().enumerate() {
            let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let first = line.iter().position(|c| !is_blank(*c) && *c != PRINTED);
            let printed = line.iter().position(|c| *c == PRINTED);
            let mut here = Vec::new();
            while let Some(a) = actions.next_if(|a| a.line == index) {
                here.push(a);
            }
            // Actions left of the line's text (`{{- if .x }}key: v`) take effect before it.
            let content = first.unwrap_or(usize::MAX);
            for a in here.iter().filter(|a| a.column < content) {
                blocks.apply(a.effect);
            }
            if let Some(limit) = block_scalar {
                // Lines of nothing but actions do not end a block scalar: they print into it.
                if first.is_none_or(|c| c > limit) {
                    for a in here.iter().filter(|a| a.column >= content) {
                        blocks.apply(a.effect);
                    }
                    continue;
                }
                block_scalar = None;
            }
            if blocks.in_define() {
                for a in here.iter().filter(|a| a.column >= content) {
                    blocks.apply(a.effect);
                }
                continue;
            }
            match first {
                Some(c) if c == 0 && is_separator(line) => {
                    std::mem::replace(&mut builder, Builder::new()).finish(&mut docs);
                }
                Some(c) => {
                    if printed.is_some_and(|p| p < c) {
                        // `{{ .Values.key }}: v` or `{{ $x }}- a`: text an action prints
                        // comes first, so this line's place is unknown.
                        builder.opaque(printed.unwrap_or(c));
                    } else {
                        add_line(
                            &mut builder,
                            line,
                            c,
                            number,
                            blocks.current(),
                            &mut block_scalar,
                        );
                    }
                }
                None => {
                    if let Some(p) = printed {
                        let column = here
                            .iter()
                            .find(|a| a.effect == Effect::Prints)
                            .and_then(|a| a.indent)
                            .unwrap_or(p);
                        builder.opaque(column);
                    }
                }
            }
            for a in here.iter().filter(|a| a.column >= content) {
                blocks.apply(a.effect);
            }
        }
        builder.finish(&mut docs);
        Template { docs }
    }

    /// Where the field at `path` of `object` is written: the field, or the deepest parent of
    /// it that `object` has. `None` when no document of the template or more than one could
    /// hold `object`, or the field's line cannot be told for certain.
    pub fn locate(&self, object: &Value, path: &FieldPath) -> Option<Position> {
        let segments = existing(object, path);
        let doc = self.document_of(object)?;
        let mut found = Vec::new();
        doc.resolve(0, object, segments, &mut found);
        found.sort_unstable();
        found.dedup();
        match found[..] {
            [one] => Some(doc.nodes[one].position),
            _ => None,
        }
    }

    /// The one document whose `kind` (and, when several have it, `metadata.name`) can be the
    /// object's.
    fn document_of(&self, object: &Value) -> Option<&Doc> {
        let text = |v: Option<&Value>| v.and_then(scalar_text);
        let kind = text(object.get("kind"))?;
        let mut docs: Vec<&Doc> = self
            .docs
            .iter()
            .filter(|d| d.scalar(&[0], "kind").is_some_and(|p| p.matches(&kind)))
            .collect();
        if docs.len() > 1 {
            let name = text(object.pointer("/metadata/name")).unwrap_or_default();
            docs.retain(|d| {
                d.child(0, "metadata")
                    .and_then(|m| d.scalar(&[m], "name"))
                    .is_some_and(|p| p.matches(&name))
            });
        }
        match docs[..] {
            [one] => Some(one),
            _ => None,
        }
    }
}

/// `---` at the start of a line.
fn is_separator(line: &[char]) -> bool {
    line.len() >= 3
        && line[..3] == ['-', '-', '-']
        && line[3..].first().is_none_or(|c| is_blank(*c))
}

fn add_line(
    builder: &mut Builder,
    line: &[char],
    first: usize,
    number: u32,
    block: u32,
    block_scalar: &mut Option<usize>,
) {
    let tokens = tokens(line, first);
    let mut item = None;
    let mut last_dash = None;
    for (i, token) in tokens.iter().enumerate() {
        match *token {
            Token::Dash(dash) => {
                let content = match tokens.get(i + 1) {
                    Some(Token::Key { column, .. } | Token::Scalar { column, .. }) => Some(*column),
                    Some(Token::Dash(d)) => Some(*d),
                    None => None,
                };
                item = Some(builder.item(dash, content, number, block));
                last_dash = Some(dash);
            }
            Token::Key {
                column,
                ref key,
                ref value,
            } => {
                if matches!(value, Inline::Block) {
                    *block_scalar = Some(column);
                }
                builder.key(column, number, key.clone(), value.clone(), block);
            }
            Token::Scalar { ref value, .. } => {
                // A scalar item (`- a`); a scalar on a line of its own continues a multi-line
                // value and adds nothing to the layout.
                if let Some(id) = item {
                    if matches!(value, Inline::Block) {
                        *block_scalar = last_dash;
                    }
                    builder.nodes[id].value = value.clone();
                }
            }
        }
    }
}

/// The longest prefix of `path` that `object` has: the field a finding points at.
pub(super) fn existing<'p>(object: &Value, path: &'p FieldPath) -> &'p [Segment] {
    let mut node = object;
    for (i, segment) in path.0.iter().enumerate() {
        let next = match segment {
            Segment::Key(k) => node.as_object().and_then(|m| m.get(k.as_str())),
            Segment::Index(n) => node.as_array().and_then(|a| a.get(*n)),
        };
        match next {
            Some(n) => node = n,
            None => return &path.0[..i],
        }
    }
    &path.0
}

impl Doc {
    /// The child of `node` written as `key:`, when exactly one is.
    fn child(&self, node: usize, key: &str) -> Option<usize> {
        let mut found = self.keyed(node, key);
        match (found.next(), found.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    }

    fn keyed<'a>(&'a self, node: usize, key: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.nodes[node]
            .children
            .iter()
            .copied()
            .filter(move |&c| matches!(&self.nodes[c].kind, NodeKind::Key(Some(k)) if k == key))
    }

    /// The scalar pattern of `key:` under the last of `nodes`.
    fn scalar(&self, nodes: &[usize], key: &str) -> Option<&Pattern> {
        let node = *nodes.last()?;
        match &self.nodes[self.child(node, key)?].value {
            Inline::Scalar(p) => Some(p),
            _ => None,
        }
    }

    /// Adds to `found` every node that can be where `segments` below `node` is written.
    fn resolve(&self, node: usize, value: &Value, segments: &[Segment], found: &mut Vec<usize>) {
        let Some((segment, rest)) = segments.split_first() else {
            found.push(node);
            return;
        };
        if matches!(self.nodes[node].value, Inline::Flow) {
            // `{a: 1}` or `[a, b]`: all of it is written on this line.
            found.push(node);
            return;
        }
        match segment {
            Segment::Key(k) => {
                let Some(child) = value.get(k.as_str()) else {
                    return;
                };
                let mut candidates: Vec<usize> = self.keyed(node, k).collect();
                if candidates.len() > 1 && rest.is_empty() {
                    // `if`/`else` branches writing the same key: the value tells them apart.
                    if let Some(text) = scalar_text(child) {
                        candidates.retain(|&c| match &self.nodes[c].value {
                            Inline::Scalar(p) => p.matches(&text),
                            _ => true,
                        });
                    }
                }
                for c in candidates {
                    self.resolve(c, child, rest, found);
                }
            }
            Segment::Index(i) => {
                let Some(element) = value.get(*i) else { return };
                let items: Vec<usize> = self.nodes[node]
                    .children
                    .iter()
                    .copied()
                    .filter(|&c| self.nodes[c].kind == NodeKind::Item)
                    .collect();
                if let Some(name) = element.get("name").and_then(Value::as_str) {
                    let opaque = self.nodes[node].opaque;
                    for item in items {
                        let named = self.scalar(&[item], "name");
                        // A name the template leaves wholly to an action matches anything,
                        // which is no match when an action may print other items.
                        if named.is_some_and(|p| p.matches(name) && !(opaque && p.is_any())) {
                            self.resolve(item, element, rest, found);
                        }
                    }
                    return;
                }
                // By index only when the template writes exactly the rendered items, none of
                // them conditional or repeated.
                let holder = &self.nodes[node];
                let fixed = !holder.opaque
                    && items.len() == value.as_array().map_or(0, Vec::len)
                    && items.iter().all(|&c| self.nodes[c].block == holder.block);
                if let Some(&item) = items.get(*i).filter(|_| fixed) {
                    self.resolve(item, element, rest, found);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(text: &str) -> FieldPath {
        FieldPath::dotted(text)
    }

    fn locate(template: &str, object: &Value, at: &str) -> Option<(u32, u32)> {
        Template::parse(template)
            .locate(object, &path(at))
            .map(|p| (p.line, p.column))
    }

    const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "demo.fullname" . }}
  labels:
    {{- include "demo.labels" . | nindent 4 }}
spec:
  template:
    spec:
      {{- with .Values.podSecurityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: web
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          securityContext:
            privileged: {{ .Values.privileged }}
          args: ["--a", "--b"]
          env:
            {{- range $k, $v := .Values.env }}
            - name: {{ $k }}
              value: {{ $v | quote }}
            {{- end }}
        - name: sidecar
          command:
            - sleep
            - infinity
          ports:
            {{- toYaml .Values.ports | nindent 12 }}
"#;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "demo", "labels": {"app": "demo"}},
            "spec": {"template": {"spec": {
                "securityContext": {"runAsUser": 0},
                "containers": [
                    {"name": "sidecar", "command": ["sleep", "infinity"], "ports": [{"containerPort": 80}]},
                    {"name": "web", "image": "nginx:1", "securityContext": {"privileged": true},
                     "args": ["--a", "--b"],
                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                ],
            }}},
        })
    }

    #[test]
    fn keys_and_named_items_are_found_through_indentation() {
        let d = deployment();
        let t = DEPLOYMENT;
        assert_eq!(
            locate(
                t,
                &d,
                "spec.template.spec.containers.1.securityContext.privileged"
            ),
            Some((18, 13))
        );
        assert_eq!(
            locate(t, &d, "spec.template.spec.containers.1.image"),
            Some((16, 11))
        );
        // The element itself is where its first key is, as in the rendered output.
        assert_eq!(
            locate(t, &d, "spec.template.spec.containers.0"),
            Some((25, 11))
        );
        // A field the object lacks points at the parent it has.
        assert_eq!(
            locate(t, &d, "spec.template.spec.containers.1.resources.limits"),
            Some((15, 11))
        );
        assert_eq!(locate(t, &d, ""), Some((1, 1)));
        assert_eq!(locate(t, &d, "metadata.name"), Some((4, 3)));
        // Items of a list without names, written one by one.
        assert_eq!(
            locate(t, &d, "spec.template.spec.containers.0.command.1"),
            Some((28, 15))
        );
        // Inside a flow sequence, the line of the key.
        assert_eq!(
            locate(t, &d, "spec.template.spec.containers.1.args.1"),
            Some((19, 11))
        );
        // A field printed by `with`'s body is still under its key.
        assert_eq!(
            locate(t, &d, "spec.template.spec.securityContext.runAsNonRoot"),
            Some((11, 7))
        );
    }

    #[test]
    fn fields_printed_by_actions_have_no_line() {
        let d = deployment();
        let t = DEPLOYMENT;
        for at in [
            // toYaml
            "spec.template.spec.securityContext.runAsUser",
            "spec.template.spec.containers.0.ports.0",
            // include
            "metadata.labels.app",
        ] {
            assert_eq!(locate(t, &d, at), None, "{at}");
        }
        // `range` writes the items: the line of the item template, found by its name pattern.
        assert_eq!(
            locate(t, &d, "spec.template.spec.containers.1.env.1.value"),
            Some((23, 15))
        );
    }

    #[test]
    fn branches_are_told_apart_by_value_or_not_at_all() {
        let t = "kind: Pod\nspec:\n  {{- if .Values.a }}\n  hostNetwork: true\n  {{- else }}\n  hostNetwork: false\n  {{- end }}\n  {{- if .Values.b }}\n  hostPID: {{ .Values.b }}\n  {{- else }}\n  hostPID: {{ .Values.c }}\n  {{- end }}\n";
        let pod = json!({"kind": "Pod", "spec": {"hostNetwork": false, "hostPID": true}});
        assert_eq!(locate(t, &pod, "spec.hostNetwork"), Some((6, 3)));
        assert_eq!(locate(t, &pod, "spec.hostPID"), None);
    }

    #[test]
    fn documents_are_chosen_by_kind_and_name() {
        let t = "{{- define \"x\" }}\nkind: Service\n{{- end }}\napiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-api\nspec:\n  type: NodePort\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-web\nspec:\n  type: LoadBalancer\n---\nkind: ConfigMap\ndata:\n  script: |\n    a: b\n{{ .Files.Get \"x\" | indent 4 }}\n  other: x\n";
        let api =
            json!({"kind": "Service", "metadata": {"name": "r-api"}, "spec": {"type": "NodePort"}});
        let web = json!({"kind": "Service", "metadata": {"name": "r-web"}, "spec": {"type": "LoadBalancer"}});
        assert_eq!(locate(t, &api, "spec.type"), Some((9, 3)));
        assert_eq!(locate(t, &web, "spec.type"), Some((16, 3)));
        let cm = json!({"kind": "ConfigMap", "data": {"script": "a: b\n", "other": "x"}});
        assert_eq!(locate(t, &cm, "data.other"), Some((23, 3)));
        assert_eq!(
            locate(t, &cm, "data.script.x"),
            Some((20, 3)),
            "the nearest parent"
        );
        let secret = json!({"kind": "Secret"});
        assert_eq!(locate(t, &secret, ""), None, "no document writes a Secret");
    }

    #[test]
    fn items_by_index_only_when_the_template_lists_them_all() {
        let t = "kind: Pod\nspec:\n  args:\n  - a\n  {{- if .Values.b }}\n  - b\n  {{- end }}\n  ports:\n  - containerPort: 80\n  - containerPort: 443\n";
        let pod = json!({"kind": "Pod", "spec": {"args": ["a", "b"], "ports": [{"containerPort": 80}, {"containerPort": 443}]}});
        assert_eq!(locate(t, &pod, "spec.args.1"), None);
        assert_eq!(locate(t, &pod, "spec.ports.1.containerPort"), Some((10, 5)));
    }

    #[test]
    fn patterns_match_what_actions_could_print() {
        let p = Pattern::of("\"\u{0}\u{0}:\u{0}\"");
        assert!(p.matches("nginx:1.27"));
        assert!(!p.matches("nginx"));
        assert!(Pattern::of("true").matches("true"));
        assert!(Pattern::of("'it''s'").matches("it's"));
        assert!(Pattern::of("\u{0}-web").matches("demo-web"));
        assert!(!Pattern::of("\u{0}-web").matches("demo-api"));
        assert!(Pattern::of("\u{0}").is_any());
    }
}
