//! Recursive functions in a user's policies, found before they run. Rego does not allow
//! recursion (OPA rejects it at compile time as `rego_recursion_error`), but regorus compiles
//! and runs it; on the VM it would grow until the time limit stops it, taking memory all along.
//!
//! The check reads regorus's AST (as JSON): a function calls another when its body has a call
//! whose name resolves, through the package, `data.` or an import alias, to a function of the
//! policies; a cycle of such calls is recursion. Calls to builtins resolve to nothing.

use serde_json::Value as J;
use std::collections::{BTreeMap, BTreeSet};

/// A function that takes part in recursion, and what reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Recursion {
    /// The cycle, as function paths (`pkg.f`, `pkg.g`, `pkg.f`).
    pub cycle: Vec<String>,
    /// Where the cycle's first function is defined: file and 1-based line.
    pub file: String,
    pub line: u32,
}

/// A rule or function: where it is defined and what it calls.
#[derive(Default)]
struct Node {
    file: String,
    line: u32,
    function: bool,
    calls: BTreeSet<String>,
}

/// The call graph of every module in `ast` (regorus's `get_ast_as_json`).
pub(super) struct Graph {
    nodes: BTreeMap<String, Node>,
}

impl Graph {
    pub fn of(ast: &str) -> Option<Graph> {
        let modules: Vec<J> = serde_json::from_str(ast).ok()?;
        let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
        let mut pending: Vec<(String, Vec<Vec<String>>, Context)> = Vec::new();
        for m in &modules {
            let file = m["source"]["file"].as_str().unwrap_or_default().to_owned();
            let text = m["source"]["contents"].as_str().unwrap_or_default();
            let module = &m["ast"];
            let Some(package) = path_of(&module["package"]["refr"]) else {
                continue;
            };
            let context = Context {
                package: package.join("."),
                aliases: aliases(module, text),
            };
            for rule in module["rules"].as_array().into_iter().flatten() {
                let Some(spec) = rule.get("Spec") else {
                    continue;
                };
                let Some((kind, head)) = spec["head"].as_object().and_then(|h| h.iter().next())
                else {
                    continue;
                };
                let Some(name) = path_of(&head["refr"]) else {
                    continue;
                };
                let key = format!("{}.{}", context.package, name.join("."));
                let node = nodes.entry(key.clone()).or_default();
                if node.file.is_empty() {
                    node.file = file.clone();
                    node.line = spec["span"]["line"].as_u64().unwrap_or(1) as u32;
                }
                node.function |= kind == "Func";
                let mut calls = Vec::new();
                collect_calls(spec, &mut calls);
                pending.push((key, calls, context.clone()));
            }
        }
        for (key, calls, context) in pending {
            let resolved: Vec<String> = calls
                .iter()
                .filter_map(|c| context.resolve(c, &nodes))
                .collect();
            if let Some(node) = nodes.get_mut(&key) {
                node.calls.extend(resolved);
            }
        }
        Some(Graph { nodes })
    }

    /// The first recursion reachable from `entry` (`pkg.deny`), if any.
    pub fn recursion_from(&self, entry: &str) -> Option<Recursion> {
        let mut path: Vec<&str> = Vec::new();
        let mut done: BTreeSet<&str> = BTreeSet::new();
        self.visit(entry, &mut path, &mut done)
    }

    fn visit<'a>(
        &'a self,
        key: &'a str,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Recursion> {
        if let Some(start) = path.iter().position(|k| *k == key) {
            let mut cycle: Vec<String> = path[start..].iter().map(|k| k.to_string()).collect();
            cycle.push(key.to_owned());
            let first = &self.nodes[path[start]];
            return Some(Recursion {
                cycle,
                file: first.file.clone(),
                line: first.line,
            });
        }
        if done.contains(key) {
            return None;
        }
        let node = self.nodes.get(key)?;
        path.push(key);
        for next in &node.calls {
            if let Some(r) = self.visit(next, path, done) {
                return Some(r);
            }
        }
        path.pop();
        done.insert(key);
        None
    }
}

/// How names in one module resolve: its package and its import aliases.
#[derive(Clone)]
struct Context {
    package: String,
    /// alias → `data.` path it stands for (without `data`).
    aliases: BTreeMap<String, Vec<String>>,
}

impl Context {
    /// The function a call names, if it is one of the policies' functions.
    fn resolve(&self, call: &[String], nodes: &BTreeMap<String, Node>) -> Option<String> {
        let (first, rest) = call.split_first()?;
        let key = if first == "data" {
            rest.join(".")
        } else if let Some(target) = self.aliases.get(first) {
            target
                .iter()
                .chain(rest)
                .cloned()
                .collect::<Vec<_>>()
                .join(".")
        } else {
            format!("{}.{}", self.package, call.join("."))
        };
        nodes.get(&key).is_some_and(|n| n.function).then_some(key)
    }
}

/// `import data.x.y` (alias `y`) and `import data.x.y as z` (alias `z`); other imports
/// (`input`, `rego.v1`, `future.keywords`) name no functions.
fn aliases(module: &J, text: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for import in module["imports"].as_array().into_iter().flatten() {
        let Some(path) = path_of(&import["refr"]) else {
            continue;
        };
        if path.first().map(String::as_str) != Some("data") || path.len() < 2 {
            continue;
        }
        // The AST keeps only the alias's span; its text is in the source.
        let alias = match (import["as"]["start"].as_u64(), import["as"]["end"].as_u64()) {
            (Some(start), Some(end)) => text.get(start as usize..end as usize).map(str::to_owned),
            _ => path.last().cloned(),
        };
        if let Some(alias) = alias {
            out.insert(alias, path[1..].to_vec());
        }
    }
    out
}

/// The names of a reference: `a`, `a.b.c`, `a["b"]`.
fn path_of(expr: &J) -> Option<Vec<String>> {
    if let Some(var) = expr.get("Var") {
        return Some(vec![var["value"].as_str()?.to_owned()]);
    }
    if let Some(dot) = expr.get("RefDot") {
        let mut path = path_of(&dot["refr"])?;
        path.push(dot["field"].get(1)?.as_str()?.to_owned());
        return Some(path);
    }
    if let Some(brack) = expr.get("RefBrack") {
        let mut path = path_of(&brack["refr"])?;
        path.push(brack["index"]["String"]["value"].as_str()?.to_owned());
        return Some(path);
    }
    None
}

/// Every call's function name anywhere below `value`.
fn collect_calls(value: &J, out: &mut Vec<Vec<String>>) {
    match value {
        J::Object(map) => {
            if let Some(call) = map.get("Call") {
                if let Some(path) = path_of(&call["fcn"]) {
                    out.push(path);
                }
            }
            for v in map.values() {
                collect_calls(v, out);
            }
        }
        J::Array(items) => {
            for v in items {
                collect_calls(v, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(modules: &[(&str, &str)]) -> Graph {
        let mut engine = regorus::Engine::new();
        for (path, text) in modules {
            engine
                .add_policy((*path).to_owned(), (*text).to_owned())
                .unwrap_or_else(|e| panic!("{path} parses: {e}"));
        }
        let ast = engine.get_ast_as_json().unwrap_or_default();
        Graph::of(&ast).unwrap_or_else(|| Graph {
            nodes: BTreeMap::new(),
        })
    }

    #[test]
    fn finds_self_mutual_and_cross_package_recursion() {
        let g = graph(&[
            (
                "a.rego",
                "package a\nimport rego.v1\nimport data.b as other\n\
                 f(x) := y if { y := g(x) }\ng(x) := y if { y := other.h(x) }\n\
                 deny contains 1 if f(1)\nok contains 1 if startswith(\"a\", \"a\")\n",
            ),
            (
                "b.rego",
                "package b\nimport rego.v1\nh(x) := y if { y := data.a.f(x + 1) }\n",
            ),
        ]);
        let r = g.recursion_from("a.deny").unwrap();
        assert_eq!(r.cycle, vec!["a.f", "a.g", "b.h", "a.f"]);
        assert_eq!((r.file.as_str(), r.line), ("a.rego", 4));
        assert_eq!(g.recursion_from("a.ok"), None);
    }

    #[test]
    fn calls_that_only_look_alike_are_not_recursion() {
        // Two packages each with `f`, one calling the other's: no cycle.
        let g = graph(&[
            (
                "a.rego",
                "package a\nimport rego.v1\nimport data.b\nf(x) := b.f(x)\ndeny contains 1 if f(1)\n",
            ),
            ("b.rego", "package b\nimport rego.v1\nf(x) := x + 1\n"),
        ]);
        assert_eq!(g.recursion_from("a.deny"), None);
    }
}
