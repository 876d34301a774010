//! Amazon ECS task definitions: each becomes one [`Resource`] of input type `ecs`, shaped as
//! the `RegisterTaskDefinition` API takes it (camelCase, `containerDefinitions`, `volumes`,
//! `tags: [{key, value}]`), whatever it was read from, so one set of rules serves every shape:
//!
//! - the `register-task-definition` input JSON, and the `describe-task-definition` output (the
//!   definition under `taskDefinition`, its tags beside it);
//! - CloudFormation templates (YAML with short-form tags, or JSON), one resource per
//!   `AWS::ECS::TaskDefinition`, whose PascalCase properties are renamed;
//! - Terraform plans (`terraform show -json`), one resource per `aws_ecs_task_definition` of
//!   `planned_values`, whose `container_definitions` is a JSON text that is decoded and whose
//!   positions are mapped into the plan's file as far as its text allows.
//!
//! Every value keeps the line and column it was read from. Values that only CloudFormation can
//! resolve (`!Ref`, `!Sub`, `!GetAtt`) are kept as text with `${...}` placeholders, which rules
//! treat as unknown, and a note says so once per file; a plan leaves out what Terraform knows
//! only after apply, and a note says so when that is the containers.
//! Reading and shaping only; what is risky is the business of `policies/rules/ecs/`.

use super::spanned::{Node, Shape};
use super::yaml::Document;
use super::Collected;
use crate::problem::{Code, Level, Problem};
use crate::resource::{InputType, ObjectRef, Origin, Position, Resource, SourcePath};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// The `apiVersion` of a task definition: not a Kubernetes group, so no Kubernetes-only logic
/// takes one for a Kubernetes object.
pub const API_VERSION: &str = "ecs.amazonaws.com/v1";
/// The kind of every ECS resource.
pub const KIND: &str = "TaskDefinition";
/// The key under which a task definition's object carries what rules need besides it: its
/// `name` as findings show it and the `format` it was read from.
pub const CONTEXT_KEY: &str = "x-posture";

/// The shapes a task definition is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `register-task-definition` input (`--cli-input-json`), or a task definition as the
    /// console's JSON editor shows it.
    TaskDefinition,
    /// `describe-task-definition` output.
    Described,
    /// A list of container definitions alone, the file Terraform's
    /// `container_definitions = file("containers.json")` reads: one task definition named
    /// after the file.
    ContainerDefinitions,
    CloudFormation,
    TerraformPlan,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::TaskDefinition => "task-definition",
            Format::Described => "describe-task-definition",
            Format::ContainerDefinitions => "container-definitions",
            Format::CloudFormation => "cloudformation",
            Format::TerraformPlan => "terraform-plan",
        }
    }
}

/// Which of the shapes the documents of a file hold, if any: one document (a template or JSON
/// file is one) whose top level says so.
pub fn detect(documents: &[Document]) -> Option<Format> {
    let mut decoded = documents
        .iter()
        .filter_map(|d| d.content.as_ref().ok().and_then(Option::as_ref));
    let first = decoded.next()?;
    if decoded.next().is_some() {
        return None;
    }
    let v = &first.value;
    if let Some(items) = v.as_array() {
        // Every entry a container: a name and an image, as the API requires of each.
        let containers = !items.is_empty()
            && items.iter().all(|c| {
                c.get("name").is_some_and(Value::is_string)
                    && c.get("image").is_some_and(Value::is_string)
            });
        return containers.then_some(Format::ContainerDefinitions);
    }
    let v = v.as_object()?;
    if v.get("containerDefinitions").is_some_and(Value::is_array) {
        Some(Format::TaskDefinition)
    } else if v
        .get("taskDefinition")
        .is_some_and(|t| t.get("containerDefinitions").is_some_and(Value::is_array))
    {
        Some(Format::Described)
    } else if is_cloudformation(v) {
        Some(Format::CloudFormation)
    } else if v.contains_key("planned_values")
        || (v.contains_key("format_version") && v.contains_key("terraform_version"))
    {
        Some(Format::TerraformPlan)
    } else {
        None
    }
}

fn is_cloudformation(top: &serde_json::Map<String, Value>) -> bool {
    if top.contains_key("apiVersion") || top.contains_key("kind") {
        return false;
    }
    top.contains_key("AWSTemplateFormatVersion")
        || top
            .get("Resources")
            .and_then(Value::as_object)
            .is_some_and(|resources| {
                resources.values().any(|r| {
                    r.get("Type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.starts_with("AWS::"))
                })
            })
}

/// What reading one file gives, before it becomes resources.
struct Read {
    path: SourcePath,
    /// The file's text, for mapping positions into a Terraform plan's JSON strings.
    text: String,
    /// Whether some value depends on what only deployment resolves.
    placeholders: Option<Position>,
    out: Collected,
}

/// Turns the documents of the file at `path` (whose text is `text`) in `format` into one
/// resource per task definition.
pub fn decode(path: &Path, text: &str, documents: Vec<Document>, format: Format) -> Collected {
    let mut read = Read {
        path: SourcePath::new(path),
        text: text.to_owned(),
        placeholders: None,
        out: Collected::default(),
    };
    for doc in documents {
        let decoded = match doc.content {
            Ok(Some(d)) => d,
            Ok(None) => continue,
            Err(e) => {
                read.out.problems.push(
                    Problem::new(Level::Error, Code::ParseError, e.message)
                        .in_file(path, Some(e.position)),
                );
                continue;
            }
        };
        for w in decoded.warnings {
            read.out.problems.push(
                Problem::new(Level::Warning, Code::DuplicateKey, w.message)
                    .in_file(path, Some(w.position)),
            );
        }
        let root = Node::from_value(decoded.value, &decoded.spans, 0);
        match format {
            Format::TaskDefinition => read.push(None, root, format, doc.index),
            Format::Described => {
                let mut root = root;
                let tags = root.take("tags");
                if let Some(mut definition) = root.take("taskDefinition") {
                    if let Some(tags) = tags.filter(|_| definition.get("tags").is_none()) {
                        definition.set("tags", tags);
                    }
                    read.push(None, definition, format, doc.index);
                }
            }
            Format::ContainerDefinitions => {
                let at = root.at;
                let definition = Node {
                    at,
                    file: 0,
                    value: Shape::Map(vec![("containerDefinitions".to_owned(), root)]),
                };
                let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("-");
                read.push(Some(stem), definition, format, doc.index);
            }
            Format::CloudFormation => read.cloudformation(root, doc.index),
            Format::TerraformPlan => read.terraform(root, doc.index),
        }
    }
    if let Some(at) = read.placeholders {
        let what = "values of CloudFormation functions (`Ref`, `Fn::Sub`, `Fn::GetAtt`, ...) are \
                    scanned as written, with `${...}` for what only the stack resolves";
        read.out.problems.push(
            Problem::new(Level::Note, Code::Interpolation, what.to_owned()).in_file(path, Some(at)),
        );
    }
    read.out
}

impl Read {
    /// Adds the task definition `node` (already in the API's shape).
    fn push(&mut self, fallback_name: Option<&str>, node: Node, format: Format, document: usize) {
        let at = node.at;
        let Shape::Map(_) = node.value else {
            self.out.problems.push(
                Problem::new(
                    Level::Note,
                    Code::NotAnObject,
                    "skipped: the task definition is not a mapping",
                )
                .in_file(&self.path, Some(at)),
            );
            return;
        };
        let family = node
            .get("family")
            .and_then(Node::as_str)
            .filter(|f| !f.is_empty() && !f.contains("${"))
            .map(str::to_owned);
        let name = family
            .or_else(|| fallback_name.map(str::to_owned))
            .unwrap_or_else(|| "(unnamed)".to_owned());
        let mut node = node;
        let context = serde_json::json!({"name": name, "format": format.as_str()});
        node.set(CONTEXT_KEY, Node::leaf_tree(context, at, 0));
        let (object, spans, _) = node.finish(std::slice::from_ref(&self.path));
        self.out.resources.push(Resource {
            input: InputType::Ecs,
            id: Arc::new(ObjectRef {
                api_version: API_VERSION.to_owned(),
                kind: KIND.to_owned(),
                namespace: None,
                name,
            }),
            origin: Arc::new(Origin::File {
                path: self.path.clone(),
                document,
                item: None,
                helm_source: None,
            }),
            object,
            packed: None,
            spans: Some(spans),
            source_map: None,
        });
    }

    fn cloudformation(&mut self, mut root: Node, document: usize) {
        let Some(Node {
            value: Shape::Map(resources),
            ..
        }) = root.take("Resources")
        else {
            return;
        };
        for (logical_id, mut resource) in resources {
            if resource.get("Type").and_then(Node::as_str) != Some("AWS::ECS::TaskDefinition") {
                continue;
            }
            let at = resource.at;
            let properties = resource
                .take("Properties")
                .unwrap_or_else(|| Node::leaf_tree(Value::Object(Default::default()), at, 0));
            let definition = self.cloudformation_shape(properties, false);
            self.push(
                Some(&logical_id),
                definition,
                Format::CloudFormation,
                document,
            );
        }
    }

    /// CloudFormation's property names in the API's camelCase, and its functions as text.
    /// Under `keep_keys` (maps of user keys: log options, labels) keys stay as written.
    fn cloudformation_shape(&mut self, node: Node, keep_keys: bool) -> Node {
        if let Some(text) = function_text(&node) {
            self.placeholders.get_or_insert(node.at);
            return Node::scalar(Value::String(text), node.at, node.file);
        }
        let Node { at, file, value } = node;
        let value = match value {
            Shape::Map(entries) => Shape::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let user_keys = USER_KEYED.contains(&k.as_str());
                        let k = if keep_keys { k } else { camel_case(&k) };
                        (k, self.cloudformation_shape(v, user_keys))
                    })
                    .collect(),
            ),
            Shape::Seq(items) => Shape::Seq(
                items
                    .into_iter()
                    .map(|v| self.cloudformation_shape(v, false))
                    .collect(),
            ),
            scalar => scalar,
        };
        Node { at, file, value }
    }

    fn terraform(&mut self, mut root: Node, document: usize) {
        let Some(mut planned) = root.take("planned_values") else {
            return;
        };
        let Some(module) = planned.take("root_module") else {
            return;
        };
        let mut definitions = Vec::new();
        collect_module(module, &mut definitions);
        for (address, values) in definitions {
            if values.get("container_definitions").is_none() {
                // A plan leaves out what it knows only after apply (an image from a repository
                // the same plan creates makes the whole text unknown).
                self.out.problems.push(
                    Problem::new(
                        Level::Note,
                        Code::Interpolation,
                        format!(
                            "{address}: container_definitions is known only after apply, so its                              containers are not scanned; scan the plan of a later run, or the                              task definition after it is registered"
                        ),
                    )
                    .in_file(&self.path, Some(values.at)),
                );
            }
            let definition = self.terraform_shape(values);
            self.push(Some(&address), definition, Format::TerraformPlan, document);
        }
    }

    /// A Terraform `aws_ecs_task_definition`'s attributes in the API's shape.
    fn terraform_shape(&mut self, values: Node) -> Node {
        let at = values.at;
        let Shape::Map(entries) = values.value else {
            return values;
        };
        let mut out = Vec::new();
        for (key, value) in entries {
            if matches!(value.value, Shape::Scalar(Value::Null)) || key == "tags_all" {
                continue;
            }
            match key.as_str() {
                "container_definitions" => {
                    let containers = self.container_definitions(value);
                    out.push(("containerDefinitions".to_owned(), containers));
                }
                "volume" => {
                    out.push(("volumes".to_owned(), terraform_blocks(value, false)));
                }
                "tags" => out.push(("tags".to_owned(), tag_list(value))),
                _ => out.push((camel_case(&key), terraform_blocks(value, false))),
            }
        }
        Node {
            at,
            file: 0,
            value: Shape::Map(out),
        }
    }

    /// The containers of a plan's `container_definitions`, a JSON text: decoded, with the
    /// position of each value mapped from the text to the plan's file.
    fn container_definitions(&mut self, value: Node) -> Node {
        let at = value.at;
        let Some(json) = value.as_str().map(str::to_owned) else {
            // Already decoded (or unknown): taken as it is.
            return value;
        };
        let parsed = match super::yaml::parse_document(&json) {
            Ok(Some(d)) if d.value.is_array() => d,
            Ok(_) => {
                self.out.problems.push(
                    Problem::new(
                        Level::Error,
                        Code::ParseError,
                        "container_definitions is not a JSON list of container definitions",
                    )
                    .in_file(&self.path, Some(at)),
                );
                return Node::leaf_tree(Value::Array(Vec::new()), at, 0);
            }
            Err(e) => {
                let mapper = StringPositions::find(&self.text, at, &json);
                let position = mapper.as_ref().map_or(at, |m| m.map(e.position));
                self.out.problems.push(
                    Problem::new(
                        Level::Error,
                        Code::ParseError,
                        format!("container_definitions is not valid JSON: {}", e.message),
                    )
                    .in_file(&self.path, Some(position)),
                );
                return Node::leaf_tree(Value::Array(Vec::new()), at, 0);
            }
        };
        let mut node = Node::from_value(parsed.value, &parsed.spans, 0);
        match StringPositions::find(&self.text, at, &json) {
            Some(mapper) => map_positions(&mut node, &|p| mapper.map(p)),
            // The text could not be matched (a plan written on one line with escapes the
            // mapper does not follow): every value is shown at the attribute.
            None => map_positions(&mut node, &|_| at),
        }
        node
    }
}

/// Map-valued properties whose keys are the user's (log driver options, Docker labels,
/// driver options), not field names to rename.
const USER_KEYED: [&str; 6] = [
    "Options",
    "DockerLabels",
    "DriverOpts",
    "Labels",
    "options",
    "dockerLabels",
];

/// The text of a CloudFormation function (`{"Ref": x}`, `{"Fn::Sub": s}`, ...): what can be
/// told of the value, with `${...}` for what only the stack resolves. `None` when `node` is
/// no function.
fn function_text(node: &Node) -> Option<String> {
    let Shape::Map(entries) = &node.value else {
        return None;
    };
    let [(name, arg)] = entries.as_slice() else {
        return None;
    };
    if name != "Ref" && !name.starts_with("Fn::") {
        return None;
    }
    let text = |n: &Node| -> String {
        match &n.value {
            Shape::Scalar(Value::String(s)) => s.clone(),
            Shape::Scalar(v) => v.to_string(),
            _ => function_text(n).unwrap_or_else(|| "${...}".to_owned()),
        }
    };
    Some(match (name.as_str(), &arg.value) {
        ("Ref", _) => format!("${{{}}}", text(arg)),
        ("Fn::Sub", Shape::Seq(items)) => items.first().map(text).unwrap_or_default(),
        ("Fn::Sub", _) => text(arg),
        ("Fn::GetAtt", Shape::Seq(items)) => format!(
            "${{{}}}",
            items.iter().map(text).collect::<Vec<_>>().join(".")
        ),
        ("Fn::GetAtt", _) => format!("${{{}}}", text(arg)),
        ("Fn::Join", Shape::Seq(items)) if items.len() == 2 => {
            let separator = text(&items[0]);
            match &items[1].value {
                Shape::Seq(parts) => parts.iter().map(text).collect::<Vec<_>>().join(&separator),
                _ => format!("${{{name}}}"),
            }
        }
        _ => format!("${{{name}}}"),
    })
}

/// `PascalCase` (or `snake_case`) to the API's `camelCase`: `EFSVolumeConfiguration` →
/// `efsVolumeConfiguration`, `IAM` → `iam`, `host_path` → `hostPath`.
fn camel_case(name: &str) -> String {
    match name {
        // Where CloudFormation's and Terraform's names are not the API's in another case.
        "FilesystemId" => return "fileSystemId".to_owned(),
        "FSxWindowsFileServerVolumeConfiguration" => {
            return "fsxWindowsFileServerVolumeConfiguration".to_owned()
        }
        "size_in_gib" => return "sizeInGiB".to_owned(),
        _ => {}
    }
    if name.contains('_') {
        let mut out = String::with_capacity(name.len());
        let mut upper = false;
        for c in name.chars() {
            if c == '_' {
                upper = !out.is_empty();
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        return out;
    }
    let chars: Vec<char> = name.chars().collect();
    let run = chars.iter().take_while(|c| c.is_ascii_uppercase()).count();
    let lower = match run {
        0 => return name.to_owned(),
        _ if run == chars.len() => run,
        1 => 1,
        // `EFSVolume`: the last capital of the run starts the next word.
        _ => run - 1,
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < lower {
                c.to_ascii_lowercase()
            } else {
                *c
            }
        })
        .collect()
}

/// The `aws_ecs_task_definition` resources of a plan's module and its child modules, by
/// address.
fn collect_module(mut module: Node, out: &mut Vec<(String, Node)>) {
    if let Some(Node {
        value: Shape::Seq(resources),
        ..
    }) = module.take("resources")
    {
        for mut r in resources {
            let is_definition = r.get("type").and_then(Node::as_str)
                == Some("aws_ecs_task_definition")
                && r.get("mode").and_then(Node::as_str).unwrap_or("managed") == "managed";
            if !is_definition {
                continue;
            }
            let address = r
                .get("address")
                .and_then(Node::as_str)
                .unwrap_or("aws_ecs_task_definition")
                .to_owned();
            if let Some(values) = r.take("values") {
                out.push((address, values));
            }
        }
    }
    if let Some(Node {
        value: Shape::Seq(children),
        ..
    }) = module.take("child_modules")
    {
        for child in children {
            collect_module(child, out);
        }
    }
}

/// Terraform's nested blocks (lists of one for `efs_volume_configuration` and friends) and
/// snake_case names in the API's shape; `host_path` becomes `host: {sourcePath}`.
fn terraform_blocks(node: Node, keep_keys: bool) -> Node {
    let Node { at, file, value } = node;
    let value = match value {
        Shape::Map(entries) => {
            let mut out = Vec::new();
            for (k, v) in entries {
                if matches!(v.value, Shape::Scalar(Value::Null)) && !keep_keys {
                    continue;
                }
                if keep_keys {
                    out.push((k, v));
                    continue;
                }
                if k == "host_path" {
                    if v.as_str().is_some_and(|p| !p.is_empty()) {
                        let host = Node {
                            at: v.at,
                            file,
                            value: Shape::Map(vec![("sourcePath".to_owned(), v)]),
                        };
                        out.push(("host".to_owned(), host));
                    }
                    continue;
                }
                let single = SINGLE_BLOCKS.contains(&k.as_str());
                let user_keys = matches!(k.as_str(), "driver_opts" | "labels");
                let v = match v.value {
                    Shape::Seq(mut items) if single => match items.len() {
                        0 => continue,
                        _ => items.swap_remove(0),
                    },
                    other => Node {
                        at: v.at,
                        file: v.file,
                        value: other,
                    },
                };
                out.push((camel_case(&k), terraform_blocks(v, user_keys)));
            }
            Shape::Map(out)
        }
        Shape::Seq(items) => Shape::Seq(
            items
                .into_iter()
                .map(|v| terraform_blocks(v, false))
                .collect(),
        ),
        scalar => scalar,
    };
    Node { at, file, value }
}

/// Terraform blocks that hold at most one element, which the API writes as an object.
const SINGLE_BLOCKS: [&str; 7] = [
    "efs_volume_configuration",
    "authorization_config",
    "docker_volume_configuration",
    "fsx_windows_file_server_volume_configuration",
    "runtime_platform",
    "ephemeral_storage",
    "proxy_configuration",
];

/// Terraform's `tags` map as the API's `[{key, value}]`, each entry at its key.
fn tag_list(node: Node) -> Node {
    let Node { at, file, value } = node;
    let Shape::Map(entries) = value else {
        return Node { at, file, value };
    };
    let items = entries
        .into_iter()
        .map(|(k, v)| Node {
            at: v.at,
            file,
            value: Shape::Map(vec![
                ("key".to_owned(), Node::scalar(Value::String(k), v.at, file)),
                ("value".to_owned(), v),
            ]),
        })
        .collect();
    Node {
        at,
        file,
        value: Shape::Seq(items),
    }
}

fn map_positions(node: &mut Node, f: &dyn Fn(Position) -> Position) {
    node.at = f(node.at);
    match &mut node.value {
        Shape::Scalar(_) => {}
        Shape::Map(entries) => entries.iter_mut().for_each(|(_, v)| map_positions(v, f)),
        Shape::Seq(items) => items.iter_mut().for_each(|v| map_positions(v, f)),
    }
}

/// Maps positions in the decoded text of a JSON string literal of the file to positions in
/// the file: the literal is found after the attribute's key, and each decoded character is
/// traced back to the escape or character that wrote it.
struct StringPositions {
    /// For each line of the decoded text, the offset (in characters) of its start.
    decoded_lines: Vec<usize>,
    /// For each character of the decoded text, its position in the file.
    file_positions: Vec<Position>,
}

impl StringPositions {
    /// `key_at` is where the attribute's key is; `decoded` what the literal must decode to.
    fn find(text: &str, key_at: Position, decoded: &str) -> Option<StringPositions> {
        // Positions of every character of the file, from the key on.
        let line_start = text
            .split_inclusive('\n')
            .take(key_at.line.saturating_sub(1) as usize)
            .map(str::len)
            .sum::<usize>();
        let rest = &text[line_start..];
        let mut chars = rest.char_indices().peekable();
        let mut line = key_at.line;
        let mut column = 1u32;
        // Skip to the key's column, then past the key's literal and the colon.
        let advance = |c: char, line: &mut u32, column: &mut u32| {
            if c == '\n' {
                *line += 1;
                *column = 1;
            } else {
                *column += 1;
            }
        };
        while column < key_at.column {
            let (_, c) = chars.next()?;
            advance(c, &mut line, &mut column);
        }
        // Past the key (its literal holds no colon) to the colon, then to the opening quote.
        loop {
            let (_, c) = chars.next()?;
            advance(c, &mut line, &mut column);
            if c == ':' {
                break;
            }
        }
        loop {
            let (_, c) = chars.next()?;
            advance(c, &mut line, &mut column);
            match c {
                ' ' | '\t' | '\r' | '\n' => {}
                '"' => break,
                _ => return None,
            }
        }
        let mut file_positions = Vec::with_capacity(decoded.len());
        let mut out = String::with_capacity(decoded.len());
        loop {
            let at = Position { line, column };
            let (_, c) = chars.next()?;
            advance(c, &mut line, &mut column);
            let decoded_char = match c {
                '"' => break,
                '\\' => {
                    let (_, e) = chars.next()?;
                    advance(e, &mut line, &mut column);
                    match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        'u' => {
                            let mut code = 0u32;
                            for _ in 0..4 {
                                let (_, h) = chars.next()?;
                                advance(h, &mut line, &mut column);
                                code = code * 16 + h.to_digit(16)?;
                            }
                            if (0xD800..0xDC00).contains(&code) {
                                // A surrogate pair: `\uD83D\uDE00`.
                                let mut low = 0u32;
                                for expected in ['\\', 'u'] {
                                    let (_, c) = chars.next()?;
                                    advance(c, &mut line, &mut column);
                                    if c != expected {
                                        return None;
                                    }
                                }
                                for _ in 0..4 {
                                    let (_, h) = chars.next()?;
                                    advance(h, &mut line, &mut column);
                                    low = low * 16 + h.to_digit(16)?;
                                }
                                char::from_u32(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))?
                            } else {
                                char::from_u32(code)?
                            }
                        }
                        other => other,
                    }
                }
                other => other,
            };
            out.push(decoded_char);
            file_positions.push(at);
        }
        if out != decoded {
            return None;
        }
        let mut decoded_lines = vec![0];
        for (i, c) in out.chars().enumerate() {
            if c == '\n' {
                decoded_lines.push(i + 1);
            }
        }
        Some(StringPositions {
            decoded_lines,
            file_positions,
        })
    }

    /// The file position of a 1-based line and column of the decoded text.
    fn map(&self, p: Position) -> Position {
        let line_start = self
            .decoded_lines
            .get(p.line.saturating_sub(1) as usize)
            .copied()
            .unwrap_or(0);
        let index = line_start + p.column.saturating_sub(1) as usize;
        self.file_positions
            .get(index)
            .or(self.file_positions.last())
            .copied()
            .unwrap_or(p)
    }
}

/// The spans of a resource, for tests.
#[cfg(test)]
fn spans_of(r: &Resource) -> &crate::resource::SpanTree {
    r.spans.as_ref().expect("ECS resources have spans")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::yaml::parse_stream;
    use crate::resource::FieldPath;

    fn load(text: &str) -> Collected {
        let docs = parse_stream(text);
        let format = detect(&docs).expect("an ECS shape");
        decode(Path::new("t.json"), text, docs, format)
    }

    fn path(parts: &[&str]) -> FieldPath {
        FieldPath::of(parts)
    }

    #[test]
    fn a_list_of_container_definitions_is_a_task_definition_named_after_the_file() {
        let text = "[\n  {\"name\": \"api\", \"image\": \"a:1\", \"privileged\": true}\n]\n";
        let docs = parse_stream(text);
        assert_eq!(detect(&docs), Some(Format::ContainerDefinitions));
        let c = decode(
            Path::new("d/service.json"),
            text,
            docs,
            Format::ContainerDefinitions,
        );
        let r = &c.resources[0];
        assert_eq!(r.id.name, "service");
        assert_eq!(r.object["containerDefinitions"][0]["privileged"], true);
        let at = spans_of(r).locate(&path(&["containerDefinitions", "0", "privileged"]));
        assert_eq!(at.line, 2);
        assert_eq!(detect(&parse_stream("[{\"name\": \"x\"}]")), None);
    }

    #[test]
    fn containers_a_plan_knows_only_after_apply_are_a_note() {
        let text = "{\"format_version\": \"1.2\", \"planned_values\": {\"root_module\": {\"resources\": [{\"address\": \"aws_ecs_task_definition.a\", \"type\": \"aws_ecs_task_definition\", \"values\": {\"family\": \"a\"}}]}}}";
        let c = load(text);
        assert_eq!(c.resources.len(), 1);
        assert_eq!(c.problems.len(), 1);
        assert!(c.problems[0].message.contains("known only after apply"));
    }

    #[test]
    fn names_become_the_apis() {
        assert_eq!(
            camel_case("EFSVolumeConfiguration"),
            "efsVolumeConfiguration"
        );
        assert_eq!(camel_case("IAM"), "iam");
        assert_eq!(
            camel_case("ReadonlyRootFilesystem"),
            "readonlyRootFilesystem"
        );
        assert_eq!(camel_case("FilesystemId"), "fileSystemId");
        assert_eq!(camel_case("transit_encryption"), "transitEncryption");
        assert_eq!(camel_case("family"), "family");
    }

    #[test]
    fn a_registered_and_a_described_definition_are_one_resource_each() {
        let c = load("{\n  \"family\": \"web\",\n  \"containerDefinitions\": [\n    {\"name\": \"a\", \"privileged\": true}\n  ]\n}\n");
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        let r = &c.resources[0];
        assert_eq!((r.input, r.id.name.as_str()), (InputType::Ecs, "web"));
        let at = spans_of(r).locate(&path(&["containerDefinitions", "0", "privileged"]));
        assert_eq!(at.line, 4);
        let c = load("{\"taskDefinition\": {\"family\": \"x\", \"containerDefinitions\": []}, \"tags\": [{\"key\": \"a\", \"value\": \"b\"}]}");
        assert_eq!(c.resources[0].object["tags"][0]["key"], "a");
    }

    #[test]
    fn cloudformation_properties_are_renamed_and_functions_kept_as_text() {
        let text = "Resources:\n  Task:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      ContainerDefinitions:\n        - Name: api\n          Image: !Sub \"${AWS::AccountId}.dkr.ecr.eu-west-1.amazonaws.com/api:latest\"\n          User: !Ref User\n          LogConfiguration:\n            LogDriver: awslogs\n            Options:\n              awslogs-group: g\n      Volumes:\n        - Name: d\n          EFSVolumeConfiguration:\n            FilesystemId: !Ref Fs\n  Other:\n    Type: AWS::S3::Bucket\n";
        let c = load(text);
        assert_eq!(c.resources.len(), 1);
        let r = &c.resources[0];
        assert_eq!(r.id.name, "Task");
        let container = &r.object["containerDefinitions"][0];
        assert_eq!(container["name"], "api");
        assert!(container["image"].as_str().unwrap().ends_with("api:latest"));
        assert_eq!(container["user"], "${User}");
        assert_eq!(
            container["logConfiguration"]["options"]["awslogs-group"],
            "g"
        );
        assert_eq!(
            r.object["volumes"][0]["efsVolumeConfiguration"]["fileSystemId"],
            "${Fs}"
        );
        let at = spans_of(r).locate(&path(&["containerDefinitions", "0", "user"]));
        assert_eq!(at.line, 8);
        assert_eq!(c.problems.len(), 1, "the note on functions");
        assert_eq!(c.problems[0].code, Code::Interpolation);
    }

    #[test]
    fn a_plans_container_definitions_are_decoded_with_positions_in_the_plan() {
        let text = r#"{
  "format_version": "1.2",
  "planned_values": {"root_module": {"child_modules": [{"resources": [{
    "address": "module.app.aws_ecs_task_definition.web",
    "mode": "managed",
    "type": "aws_ecs_task_definition",
    "values": {
      "family": "web",
      "container_definitions": "[{\"name\":\"api\",\n\"privileged\":true}]",
      "volume": [{"name": "d", "host_path": "/etc", "efs_volume_configuration": []}],
      "tags": {"posture:ignore": "PST-0601"},
      "pid_mode": null
    }
  }]}]}}
}
"#;
        let c = load(text);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        let r = &c.resources[0];
        assert_eq!(r.id.name, "web");
        assert_eq!(r.object["containerDefinitions"][0]["privileged"], true);
        assert_eq!(r.object["volumes"][0]["host"]["sourcePath"], "/etc");
        assert!(r.object["volumes"][0]
            .get("efsVolumeConfiguration")
            .is_none());
        assert_eq!(r.object["tags"][0]["value"], "PST-0601");
        assert!(r.object.get("pidMode").is_none());
        let at = spans_of(r).locate(&path(&["containerDefinitions", "0", "privileged"]));
        let line = text.lines().nth(at.line as usize - 1).unwrap();
        let column = at.column as usize - 1;
        assert!(
            line[column..].starts_with("\\\"privileged"),
            "{at:?}: {line}"
        );
    }
}
