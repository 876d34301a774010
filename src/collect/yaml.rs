//! Span-aware YAML decoding: every node of a document comes back with its line and column.
//!
//! Files are split into documents the way kubectl's YAML reader does (a line starting with
//! `---`), so one malformed document does not hide the others, and each is decoded into a
//! [`Node`] tree whose children carry `serde_saphyr::Spanned` positions.

use crate::resource::{Position, SpanTree};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;
use std::fmt;

/// A YAML node whose children keep their source positions.
#[derive(Debug)]
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<Node>, Spanned<Node>)>),
    /// A CloudFormation short-form function (`!Ref x`), with the long form's key (`Ref`,
    /// `Fn::Sub`) and the argument.
    Function(&'static str, Box<Node>),
}

/// CloudFormation's short-form tags and the keys of their long forms
/// (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html>).
const CFN_FUNCTIONS: [(&str, &str); 20] = [
    ("!Ref", "Ref"),
    ("!Condition", "Condition"),
    ("!Sub", "Fn::Sub"),
    ("!GetAtt", "Fn::GetAtt"),
    ("!Join", "Fn::Join"),
    ("!Select", "Fn::Select"),
    ("!Split", "Fn::Split"),
    ("!If", "Fn::If"),
    ("!Equals", "Fn::Equals"),
    ("!Not", "Fn::Not"),
    ("!And", "Fn::And"),
    ("!Or", "Fn::Or"),
    ("!FindInMap", "Fn::FindInMap"),
    ("!ImportValue", "Fn::ImportValue"),
    ("!Base64", "Fn::Base64"),
    ("!Cidr", "Fn::Cidr"),
    ("!GetAZs", "Fn::GetAZs"),
    ("!Transform", "Fn::Transform"),
    ("!ToJsonString", "Fn::ToJsonString"),
    ("!Length", "Fn::Length"),
];

thread_local! {
    /// Whether the document being decoded uses CloudFormation's short-form tags, which are
    /// then kept (as their long forms). Set per document by [`decode_document`], so that
    /// documents without them take the parser's plain, faster path.
    static KEEP_CFN_TAGS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether `text` may use a CloudFormation short-form tag.
fn has_cfn_tags(text: &str) -> bool {
    text.contains('!')
        && CFN_FUNCTIONS.iter().any(|(tag, _)| {
            text.match_indices(tag)
                .any(|(i, _)| !text[..i].ends_with('!'))
        })
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if KEEP_CFN_TAGS.with(std::cell::Cell::get) {
            // serde-saphyr hands a node's tag to a visitor of this newtype as `[value, tag]`.
            d.deserialize_newtype_struct("__yaml_tagged", TaggedVisitor)
        } else {
            d.deserialize_any(NodeVisitor)
        }
    }
}

/// A node read without looking at its own tag (its children still are).
struct Untagged(Node);

impl<'de> Deserialize<'de> for Untagged {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor).map(Untagged)
    }
}

struct TaggedVisitor;

impl<'de> Visitor<'de> for TaggedVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let Untagged(node) = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let tag: Option<String> = seq.next_element()?;
        let function = tag.and_then(|t| {
            CFN_FUNCTIONS
                .iter()
                .find(|(short, _)| *short == t)
                .map(|(_, long)| *long)
        });
        Ok(match function {
            Some(long) => Node::Function(long, Box::new(node)),
            None => node,
        })
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::UInt(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Float(v as f64))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Float(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Node, E> {
        Ok(Node::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(key) = map.next_key::<Spanned<Node>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

fn position(loc: &serde_saphyr::Location) -> Position {
    Position {
        line: u32::try_from(loc.line()).unwrap_or(u32::MAX).max(1),
        column: u32::try_from(loc.column()).unwrap_or(u32::MAX).max(1),
    }
}

/// Map keys are strings in Kubernetes objects; other scalars are spelled as YAML wrote them
/// (sigs.k8s.io/yaml does the same), and a mapping or sequence as a key is an error.
fn key_text(node: Node) -> Option<String> {
    match node {
        Node::Str(s) => Some(s),
        Node::Function(_, inner) => key_text(*inner),
        Node::Null => Some("null".to_owned()),
        Node::Bool(b) => Some(b.to_string()),
        Node::Int(i) => Some(i.to_string()),
        Node::UInt(u) => Some(u.to_string()),
        Node::Float(f) => Some(f.to_string()),
        Node::Seq(_) | Node::Map(_) => None,
    }
}

/// Converts a decoded node into JSON, adding its positions to `spans`; duplicate keys become
/// `warnings`. A mapping entry (`entry`: its key and the key's position) is located at its key;
/// its children keep their own positions.
fn convert(
    node: Spanned<Node>,
    entry: Option<(Position, &str)>,
    spans: &mut SpanTree,
    warnings: &mut Vec<SyntaxError>,
) -> Result<Value, SyntaxError> {
    let (at, key) = match entry {
        Some((at, key)) => (at, Some(key)),
        None => (position(&node.referenced), None),
    };
    let leaf = |spans: &mut SpanTree, value| {
        spans.push_leaf(at, key);
        value
    };
    Ok(match node.value {
        Node::Null => leaf(spans, Value::Null),
        Node::Bool(b) => leaf(spans, Value::Bool(b)),
        Node::Int(i) => leaf(spans, Value::Number(i.into())),
        Node::UInt(u) => leaf(spans, Value::Number(u.into())),
        Node::Float(f) => leaf(
            spans,
            Number::from_f64(f).map_or_else(|| Value::String(f.to_string()), Value::Number),
        ),
        Node::Str(s) => leaf(spans, Value::String(s)),
        Node::Function(name, inner) => {
            // `!Ref x` is `{"Ref": x}`, both at the tag's place.
            let open = spans.open_map(at, key);
            let inner = Spanned::new(*inner, node.referenced, node.defined);
            let value = convert(inner, Some((at, name)), spans, warnings)?;
            spans.close(open);
            let mut map = Map::with_capacity(1);
            map.insert(name.to_owned(), value);
            Value::Object(map)
        }
        Node::Seq(items) => {
            let open = spans.open_seq(at, key);
            let mut values = Vec::with_capacity(items.len());
            for item in items {
                values.push(convert(item, None, spans, warnings)?);
            }
            spans.close(open);
            Value::Array(values)
        }
        Node::Map(entries) => {
            let open = spans.open_map(at, key);
            let mut values = Map::with_capacity(entries.len());
            for (key, value) in entries {
                let key_at = position(&key.referenced);
                let key = key_text(key.value).ok_or_else(|| SyntaxError {
                    position: key_at,
                    message: "a mapping key must be a string, not a mapping or list \
                              (is this a template with unrendered {{ }} placeholders?)"
                        .to_owned(),
                })?;
                let v = convert(value, Some((key_at, &key)), spans, warnings)?;
                match values.entry(key) {
                    serde_json::map::Entry::Vacant(e) => {
                        e.insert(v);
                    }
                    serde_json::map::Entry::Occupied(mut e) => {
                        warnings.push(SyntaxError {
                            position: key_at,
                            message: format!(
                                "duplicate key '{}': the last value is used, as kubectl's \
                                 decoder does, but `kubectl apply --validate=strict` rejects \
                                 the object",
                                e.key()
                            ),
                        });
                        e.insert(v);
                    }
                }
            }
            spans.close(open);
            Value::Object(values)
        }
    })
}

/// A YAML syntax or structure error with its position in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub position: Position,
    pub message: String,
}

/// A decoded document: the object, its positions, and warnings (duplicate keys).
#[derive(Debug)]
pub struct Decoded {
    pub value: Value,
    pub spans: SpanTree,
    pub warnings: Vec<SyntaxError>,
}

/// One document of a file: its 0-based index, first line, Helm `# Source:` and decoded content.
#[derive(Debug)]
pub struct Document {
    pub index: usize,
    pub start_line: u32,
    pub helm_source: Option<String>,
    /// `None` when the document holds only comments or whitespace.
    pub content: Result<Option<Decoded>, SyntaxError>,
}

fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    // Rendered charts put hundreds of documents in one file, and one CRD can be megabytes.
    budget.max_documents = usize::MAX;
    budget.max_nodes = budget.max_nodes.max(50_000_000);
    budget.max_events = budget.max_events.max(100_000_000);
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(1 << 30);
    serde_saphyr::options! {
        // kubectl reads `0644` as octal (420): defaultMode and friends depend on it.
        legacy_octal_numbers: true,
        budget: Some(budget),
        // Duplicates reach our visitor, which keeps the last and warns.
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
    }
}

/// Nesting [`decode_document`] may meet on the caller's stack. The decoder recurses once or
/// twice per level, with frames of tens of KiB in an unoptimised build: 40 levels overflowed
/// the 2 MiB that rayon's workers and test threads get (found by tests/fuzz.rs).
const SHALLOW: usize = 24;
/// Stack for decoding a deeper document; the parser's budget stops at 64 levels.
const DEEP_STACK: usize = 64 << 20;

/// Decodes one document's text; positions are relative to `text`. A document that may nest
/// deeper than [`SHALLOW`] levels is decoded on a thread with a stack of its own.
pub fn parse_document(text: &str) -> Result<Option<Decoded>, SyntaxError> {
    if nesting_bound(text) <= SHALLOW {
        return decode_document(text);
    }
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .stack_size(DEEP_STACK)
            .spawn_scoped(scope, || decode_document(text))
        {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to be had: decode here, as before.
            Err(_) => decode_document(text),
        }
    })
}

/// An upper bound on how deep `text` nests: each level is indented further than the one it
/// is in, or is a `- ` item or a flow bracket. Levels are counted as the distinct indentations
/// open at a line, not as spaces: a manifest indented by two spaces a level nests half as deep
/// as its columns, and counting columns sent ordinary documents to a thread of their own.
/// Cheap, and generous where text is odd (brackets in strings count).
fn nesting_bound(text: &str) -> usize {
    let mut flow: usize = 0;
    let mut deepest = 0;
    let mut open: Vec<usize> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let column = line.len() - line.trim_start().len();
        while open.last().is_some_and(|&c| c >= column) {
            open.pop();
        }
        open.push(column);
        let indent = open.len();
        let dashes = line.matches("- ").count() + usize::from(line.trim_end().ends_with('-'));
        let mut line_flow = flow;
        for c in line.chars() {
            match c {
                '[' | '{' => {
                    flow += 1;
                    line_flow = line_flow.max(flow);
                }
                ']' | '}' => flow = flow.saturating_sub(1),
                _ => {}
            }
        }
        deepest = deepest.max(indent + dashes + line_flow + 2);
    }
    deepest
}

fn decode_document(text: &str) -> Result<Option<Decoded>, SyntaxError> {
    if text.lines().all(|l| {
        matches!(l.trim_start().chars().next(), None | Some('#'))
            || l.trim() == "---"
            || l.trim() == "..."
    }) {
        return Ok(None);
    }
    KEEP_CFN_TAGS.with(|keep| keep.set(has_cfn_tags(text)));
    let parsed = serde_saphyr::from_str_with_options::<Option<Spanned<Node>>>(text, options());
    KEEP_CFN_TAGS.with(|keep| keep.set(false));
    match parsed {
        Ok(Some(node)) => {
            let mut warnings = Vec::new();
            let mut spans = SpanTree::building();
            let value = convert(node, None, &mut spans, &mut warnings)?;
            Ok(Some(Decoded {
                value,
                spans: spans.finish().expect("the document's root node was added"),
                warnings,
            }))
        }
        Ok(None) => Ok(None),
        Err(err) => Err(SyntaxError {
            position: err
                .location()
                .filter(|l| l.line() > 0)
                .map(|l| position(&l))
                .unwrap_or(Position { line: 1, column: 1 }),
            message: parser_message(&err),
        }),
    }
}

/// The parser's error in words a user can act on, never quoting the document: a parse error
/// can sit inside a Secret, whose values must not reach any output.
fn parser_message(err: &serde_saphyr::Error) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    let mut inner = err.without_snippet();
    while let serde_saphyr::Error::AliasError { error, .. } = inner {
        inner = error.without_snippet();
    }
    if let serde_saphyr::Error::Budget { breach, .. } = inner {
        let what = match breach {
            B::Aliases { .. }
            | B::RecordedAnchorEvents { .. }
            | B::RecordedAnchorBytes { .. }
            | B::AliasAnchorRatio { .. } => "too many alias expansions (a YAML alias bomb?)",
            B::Anchors { .. } => "too many anchors",
            B::Depth { .. } | B::InclusionDepth { .. } => "nesting too deep",
            B::Documents { .. } => "too many documents",
            B::Events { .. } | B::Nodes { .. } => "too many nodes",
            B::ScalarBytes { .. } | B::InputBytes { .. } => "too much text",
            B::MergeKeys { .. } => "too many merge keys (<<)",
            _ => "a structure the parser refuses",
        };
        return format!("the document is beyond the YAML parser's safety limits: {what}");
    }
    redact_quoted(&first_line(&err.to_string()))
}

/// The message with every backtick-quoted part (the parser quotes offending values that way)
/// replaced by `…`.
fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut parts = message.split('`');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let rest: Vec<&str> = parts.collect();
    // An odd number of backticks leaves the tail unquoted; keep it as text.
    for (i, part) in rest.iter().enumerate() {
        if i % 2 == 0 && i + 1 < rest.len() {
            out.push_str("(value not shown)");
        } else if i % 2 == 1 {
            out.push_str(part);
        } else {
            out.push('`');
            out.push_str(part);
        }
    }
    out
}

/// The parser's message without its snippet and position prefix: we print our own
/// file:line:column, and the parser's position is relative to the document, not the file.
fn first_line(message: &str) -> String {
    let line = message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("invalid YAML");
    let line = line
        .strip_prefix("error:")
        .map(str::trim_start)
        .unwrap_or(line);
    let without_position = line
        .strip_prefix("line ")
        .and_then(|rest| rest.split_once(": "))
        .filter(|(pos, _)| pos.contains("column"))
        .map(|(_, msg)| msg);
    without_position.unwrap_or(line).to_owned()
}

/// Splits a multi-document YAML file and decodes each document.
pub fn parse_stream(text: &str) -> Vec<Document> {
    let mut documents = Vec::new();
    let mut start = 0usize; // byte offset of the current document
    let mut start_line = 0u32; // 0-based line of the current document
    let mut offset = 0usize;
    let push = |chunk: &str, first_line: u32, documents: &mut Vec<Document>| {
        let content = parse_document(chunk).map(|c| {
            c.map(|mut d| {
                d.spans.shift_lines(first_line);
                for w in &mut d.warnings {
                    w.position.line += first_line;
                }
                d
            })
        });
        let content = content.map_err(|mut e| {
            e.position.line += first_line;
            e
        });
        // Comment-only chunks (Helm renders many) are not documents and take no index.
        if !matches!(content, Ok(None)) {
            documents.push(Document {
                index: documents.len(),
                start_line: first_line + 1,
                helm_source: helm_source(chunk),
                content,
            });
        }
    };
    for (line_no, line) in (0u32..).zip(text.split_inclusive('\n')) {
        if is_separator(line) && offset > start {
            push(&text[start..offset], start_line, &mut documents);
            start = offset;
            start_line = line_no;
        }
        offset += line.len();
    }
    if start < text.len() {
        push(&text[start..], start_line, &mut documents);
    }
    documents
}

fn is_separator(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
}

/// `# Source: chart/templates/deployment.yaml`, as `helm template` writes above each document.
fn helm_source(chunk: &str) -> Option<String> {
    chunk
        .lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with('#') || l.starts_with("---"))
        .find_map(|l| l.strip_prefix("# Source:").map(|s| s.trim().to_owned()))
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::FieldPath;

    fn path(parts: &[&str]) -> FieldPath {
        FieldPath::of(parts)
    }

    #[test]
    fn cloudformation_short_forms_become_long_forms_in_place() {
        let text = "Resources:\n  T:\n    Image: !Sub \"${Repo}:1\"\n    Role: !GetAtt [R, Arn]\n    Num: !!str 5\n    Name: !Ref Name\n";
        let d = parse_document(text).unwrap().unwrap();
        let t = &d.value["Resources"]["T"];
        assert_eq!(t["Image"], serde_json::json!({"Fn::Sub": "${Repo}:1"}));
        assert_eq!(t["Role"], serde_json::json!({"Fn::GetAtt": ["R", "Arn"]}));
        assert_eq!(t["Name"], serde_json::json!({"Ref": "Name"}));
        assert_eq!(t["Num"], "5", "{t}");
        let at = d
            .spans
            .locate(&path(&["Resources", "T", "Image", "Fn::Sub"]));
        assert_eq!((at.line, at.column), (3, 5));
        let at = d
            .spans
            .locate(&path(&["Resources", "T", "Role", "Fn::GetAtt", "1"]));
        assert_eq!(at.line, 4);
        assert!(!has_cfn_tags("a: !!str x"));
        assert!(has_cfn_tags("a: !Ref x"));
    }

    #[test]
    fn positions_point_at_keys_and_items() {
        let text = "a: 1\n---\n# Source: chart/templates/x.yaml\nkind: Pod\nspec:\n  containers:\n    - name: c\n      image: nginx\n";
        let docs = parse_stream(text);
        assert_eq!(docs.len(), 2);
        let d = docs[1].content.as_ref().unwrap().as_ref().unwrap();
        let (value, spans) = (&d.value, &d.spans);
        assert_eq!(value["spec"]["containers"][0]["image"], "nginx");
        assert_eq!(
            docs[1].helm_source.as_deref(),
            Some("chart/templates/x.yaml")
        );
        let at = spans.locate(&path(&["spec", "containers", "0", "image"]));
        assert_eq!((at.line, at.column), (8, 7));
        // A missing field maps to its nearest existing parent.
        let at = spans.locate(&path(&[
            "spec",
            "containers",
            "0",
            "securityContext",
            "privileged",
        ]));
        assert_eq!(at.line, 7);
    }

    #[test]
    fn legacy_octal_reads_like_kubectl() {
        let d = parse_document("mode: 0644\n").unwrap().unwrap();
        assert_eq!(d.value["mode"], 420);
    }

    #[test]
    fn bad_document_does_not_hide_the_next() {
        let text = "kind: A\n---\nkind: [unclosed\n---\nkind: C\n";
        let docs = parse_stream(text);
        assert_eq!(docs.len(), 3);
        let err = docs[1].content.as_ref().unwrap_err();
        assert!(err.position.line >= 3, "{err:?}");
        assert!(docs[2].content.is_ok());
    }

    #[test]
    fn bare_equals_sign_is_a_string() {
        // prometheus-operator CRDs contain `enum: ['!=', =, =~, '!~']`.
        let d = parse_document("enum: ['!=', =, =~, '!~']\n")
            .unwrap()
            .unwrap();
        assert_eq!(d.value["enum"][1], "=");
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_and_warn() {
        let d = parse_document("a: 1\nb: 2\na: 3\n").unwrap().unwrap();
        assert_eq!(d.value["a"], 3);
        assert_eq!(d.warnings.len(), 1);
        let w = d.warnings[0].position;
        assert_eq!((w.line, w.column), (3, 1));
    }

    /// Regression: 40 levels of nesting overflowed a 2 MiB stack (rayon's workers, test
    /// threads) in the decoder's recursion, aborting the whole process.
    #[test]
    fn deeply_nested_document_does_not_overflow_a_worker_stack() {
        let mapping = (0..70)
            .map(|d| format!("{}k{d}:", " ".repeat(d * 2)))
            .collect::<Vec<_>>()
            .join("\n");
        let flow = format!("x: {}{}", "[".repeat(60), "]".repeat(60));
        let one_space = (0..60)
            .map(|d| format!("{}- a{d}:", " ".repeat(d)))
            .collect::<Vec<_>>()
            .join("\n");
        let worker = std::thread::Builder::new().stack_size(2 << 20);
        let outcome = worker
            .spawn(move || {
                [mapping, flow, one_space]
                    .iter()
                    .map(|text| parse_stream(text).len())
                    .collect::<Vec<_>>()
            })
            .unwrap()
            .join()
            .expect("no overflow");
        assert_eq!(outcome, [1, 1, 1]);
        assert!(nesting_bound("a:\n  b:\n    - c\n") <= SHALLOW);
        // Twelve levels written with two spaces each reach column 22, yet nest twelve deep.
        let wide = (0..12)
            .map(|d| format!("{}k{d}:", " ".repeat(d * 2)))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(nesting_bound(&wide) <= SHALLOW, "{}", nesting_bound(&wide));
    }

    #[test]
    fn template_placeholder_key_is_an_error_at_its_line() {
        let err =
            parse_document("kind: ConfigMap\ndata:\n  config: {{config_data}}\n").unwrap_err();
        assert_eq!(err.position.line, 3);
        assert!(err.message.contains("placeholders"), "{}", err.message);
    }
}

#[cfg(test)]
mod message_tests {
    use super::*;

    /// `pin: 9e99999` inside a Secret was quoted in the parse error.
    #[test]
    fn parse_errors_never_quote_the_document() {
        let text = "apiVersion: v1\nkind: Secret\nstringData:\n  pin: 9e99999\n";
        let err = parse_document(text).unwrap_err();
        assert!(!err.message.contains("9e99999"), "{}", err.message);
        assert_eq!(err.position.line, 4, "{err:?}");
    }

    #[test]
    fn quoted_parts_are_replaced() {
        assert_eq!(
            redact_quoted("non-finite float `9e99999` rejected"),
            "non-finite float (value not shown) rejected"
        );
        assert_eq!(redact_quoted("no quotes"), "no quotes");
        assert_eq!(redact_quoted("odd ` tail"), "odd ` tail");
    }

    /// A parser budget breach was shown as `RecordedAnchorEvents { recorded_anchor_events: .. }`.
    #[test]
    fn parser_limits_are_said_in_words() {
        // What an alias bomb ends in; building one takes the parser a million events.
        let breach = serde_saphyr::budget::BudgetBreach::RecordedAnchorEvents {
            recorded_anchor_events: 1_000_001,
        };
        let err = serde_saphyr::Error::Budget {
            breach,
            location: serde_saphyr::Location::UNKNOWN,
        };
        let message = parser_message(&err);
        assert_eq!(
            message,
            "the document is beyond the YAML parser's safety limits: too many alias expansions \
             (a YAML alias bomb?)"
        );
    }
}
