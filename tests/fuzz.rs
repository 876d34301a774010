//! A random mutator over the YAML and JSON fixtures, run as a test on stable Rust: each mutant
//! (lines deleted, duplicated, swapped or re-indented, random bytes and unicode inserted, the
//! text cut short, deep nesting, `{{ }}` actions, document separators) goes through the
//! manifest loader, the span mapper and the Helm template locator, none of which may panic,
//! and every problem with a position must have a line and column of at least 1.
//!
//! Bounded and replayable: `POSTURE_FUZZ_ITERATIONS` (default [`DEFAULT_ITERATIONS`], a few
//! seconds) and `POSTURE_FUZZ_SEED` (default fixed). A failure names its seed and iteration and
//! writes the mutant under `target/fuzz/`. A long run:
//! `POSTURE_FUZZ_ITERATIONS=200000 cargo test --release --test main fuzz -- --nocapture`.

use crate::common::repo;
use posture::collect::manifests;
use posture::collect::template_lines::Template;
use posture::resource::{FieldPath, Segment};
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

const DEFAULT_ITERATIONS: u64 = 500;
const DEFAULT_SEED: u64 = 0x5eed_2024;

/// Characters YAML, JSON and templates give meaning to, plus a few that break things.
const SPECIAL: &[char] = &[
    ':', '-', ' ', ' ', '\n', '\t', '#', '{', '}', '[', ']', ',', '&', '*', '!', '|', '>', '\'',
    '"', '%', '@', '`', '?', '\\', '~', '.', '0', '1', 'a', '\r', '\u{0}', '\u{feff}',
];
const UNICODE: &[&str] = &[
    "é",
    "漢字",
    "🦀",
    "\u{200b}",
    "\u{301}",
    "\u{2028}",
    "\u{fffd}",
    "ß",
    "\u{10ffff}",
];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Every `.yaml`, `.yml`, `.json` and `.tpl` file under `fixtures/`, sorted, with its text.
fn corpus() -> Vec<(PathBuf, String)> {
    let mut files: Vec<(PathBuf, String)> = walkdir::WalkDir::new(repo().join("fixtures"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            e.path()
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| matches!(x, "yaml" | "yml" | "json" | "tpl"))
        })
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path()).ok()?;
            Some((e.into_path(), text))
        })
        .collect();
    files.sort();
    files
}

/// A char boundary of `text` near `at`.
fn boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn mutate(rng: &mut fastrand::Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let pick = |rng: &mut fastrand::Rng, n: usize| rng.usize(..n.max(1));
    match rng.u8(..11) {
        0 if lines.len() > 1 => {
            let i = pick(rng, lines.len());
            lines.remove(i);
        }
        1 => {
            let i = pick(rng, lines.len());
            let copy = lines[i].clone();
            lines.insert(i, copy);
        }
        2 => {
            let (a, b) = (pick(rng, lines.len()), pick(rng, lines.len()));
            lines.swap(a, b);
        }
        3 => {
            // Indentation: more, less, or a tab.
            let i = pick(rng, lines.len());
            match rng.u8(..3) {
                0 => lines[i].insert_str(0, &" ".repeat(rng.usize(1..5))),
                1 => {
                    let trimmed = lines[i].trim_start().to_owned();
                    lines[i] = trimmed;
                }
                _ => lines[i].insert(0, '\t'),
            }
        }
        4 => {
            // Deep nesting: a tower of mappings, sequences or flow brackets.
            let depth = rng.usize(1..200);
            let i = pick(rng, lines.len());
            let tower = match rng.u8(..3) {
                0 => (0..depth)
                    .map(|d| format!("{}k{d}:", " ".repeat(d * 2)))
                    .collect::<Vec<_>>()
                    .join("\n"),
                1 => (0..depth)
                    .map(|d| format!("{}- ", " ".repeat(d * 2)))
                    .collect::<String>(),
                _ => format!(
                    "x: {}{}",
                    "[".repeat(depth),
                    "]".repeat(rng.usize(..=depth))
                ),
            };
            lines.insert(i, tower);
        }
        5 => {
            let i = pick(rng, lines.len());
            lines.insert(i, "---".to_owned());
        }
        6 => {
            // A template action, closed or not.
            let i = pick(rng, lines.len());
            let action = [
                "{{- if .x }}",
                "{{ end }}",
                "{{ toYaml . | nindent 4 }}",
                "{{",
                "}}",
                "{{/* c */}}",
                "{{ range . }}- a",
            ];
            let at = boundary(&lines[i], pick(rng, lines[i].len() + 1));
            lines[i].insert_str(at, action[pick(rng, action.len())]);
        }
        _ => {}
    }
    let mut out = lines.join("\n");
    match rng.u8(..4) {
        0 => {
            let at = boundary(&out, pick(rng, out.len() + 1));
            for _ in 0..rng.usize(1..8) {
                out.insert(at, SPECIAL[pick(rng, SPECIAL.len())]);
            }
        }
        1 => {
            let at = boundary(&out, pick(rng, out.len() + 1));
            out.insert_str(at, UNICODE[pick(rng, UNICODE.len())]);
        }
        2 if !out.is_empty() => {
            let at = boundary(&out, pick(rng, out.len()));
            out.truncate(at);
        }
        _ => {}
    }
    out
}

/// A path into `object` that mostly follows it and sometimes leaves it.
fn random_path(rng: &mut fastrand::Rng, object: &Value) -> FieldPath {
    let mut segments = Vec::new();
    let mut node = Some(object);
    for _ in 0..rng.usize(..12) {
        let segment = match node {
            Some(Value::Object(m)) if !m.is_empty() && rng.u8(..8) > 0 => {
                let key = m
                    .keys()
                    .nth(rng.usize(..m.len()))
                    .cloned()
                    .unwrap_or_default();
                Segment::key(key)
            }
            Some(Value::Array(a)) if !a.is_empty() && rng.u8(..8) > 0 => {
                Segment::Index(rng.usize(..a.len() + 1))
            }
            _ if rng.bool() => {
                Segment::Key(["spec", "name", "", "containers"][rng.usize(..4)].into())
            }
            _ => Segment::Index(rng.usize(..4)),
        };
        node = node.and_then(|n| match &segment {
            Segment::Key(k) => n.get(k.as_str()),
            Segment::Index(i) => n.get(*i),
        });
        segments.push(segment);
    }
    FieldPath(segments)
}

/// Loads one mutant and looks it up at random paths, checking what can be checked.
fn exercise(rng: &mut fastrand::Rng, path: &Path, text: &str, objects: &[Value]) {
    let collected = manifests::load_text(path, text);
    for p in &collected.problems {
        if let Some(at) = p.position {
            assert!(at.line >= 1 && at.column >= 1, "{p:?}");
        }
    }
    for r in &collected.resources {
        for _ in 0..4 {
            let field = random_path(rng, &r.object);
            if let Some(at) = r.position_of(&field) {
                assert!(at.line >= 1 && at.column >= 1, "{field} at {at:?}");
            }
        }
    }
    // The same text as a Helm template, looked up with objects of the fixtures.
    let template = Template::parse(text);
    for object in objects
        .iter()
        .chain(collected.resources.iter().map(|r| &r.object))
    {
        let field = random_path(rng, object);
        if let Some(at) = template.locate(object, &field) {
            assert!(at.line >= 1 && at.column >= 1, "{field} at {at:?}");
            let lines = text.split('\n').count();
            assert!(at.line as usize <= lines, "line {} of {lines}", at.line);
        }
    }
}

#[test]
fn mutated_fixtures_never_panic_the_loader_or_the_locators() {
    let iterations = env_number("POSTURE_FUZZ_ITERATIONS", DEFAULT_ITERATIONS);
    let seed = env_number("POSTURE_FUZZ_SEED", DEFAULT_SEED);
    let files = corpus();
    assert!(files.len() > 50, "the fixtures are there: {}", files.len());
    // A few real objects for the template locator to look up.
    let objects: Vec<Value> = files
        .iter()
        .filter(|(p, _)| p.to_string_lossy().contains("fixtures/rules/"))
        .take(40)
        .flat_map(|(p, t)| manifests::load_text(p, t).resources)
        .map(|r| r.object)
        .collect();
    let mut rng = fastrand::Rng::with_seed(seed);
    let started = std::time::Instant::now();
    for iteration in 0..iterations {
        let (path, original) = &files[rng.usize(..files.len())];
        let mut text = original.clone();
        for _ in 0..rng.usize(1..4) {
            text = mutate(&mut rng, &text);
        }
        let mut inner = fastrand::Rng::with_seed(rng.u64(..));
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            exercise(&mut inner, path, &text, &objects)
        }));
        if let Err(panic) = outcome {
            let dir = repo().join("target/fuzz");
            let _ = std::fs::create_dir_all(&dir);
            let saved = dir.join(format!("seed-{seed}-iteration-{iteration}.txt"));
            let _ = std::fs::write(&saved, &text);
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            panic!(
                "iteration {iteration} (POSTURE_FUZZ_SEED={seed}) panicked on a mutant of {}: \
                 {message}; the mutant is in {}",
                path.display(),
                saved.display()
            );
        }
    }
    eprintln!(
        "fuzz: {iterations} mutants of {} files, seed {seed}, no panic, in {:.1?}",
        files.len(),
        started.elapsed()
    );
}
