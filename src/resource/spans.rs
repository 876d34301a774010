//! Source positions for every node of an object, so a finding can point at a line and column.

use super::{FieldPath, Segment};
use serde::Serialize;

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// Positions of a node and its children. For a mapping entry the position is that of its key,
/// which is where an editor should put the cursor for `privileged: true`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanTree {
    position: Position,
    children: Children,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Children {
    Leaf,
    Map(Vec<(String, SpanTree)>),
    Seq(Vec<SpanTree>),
}

impl SpanTree {
    pub fn leaf(position: Position) -> Self {
        SpanTree {
            position,
            children: Children::Leaf,
        }
    }

    pub fn map(position: Position, entries: Vec<(String, SpanTree)>) -> Self {
        SpanTree {
            position,
            children: Children::Map(entries),
        }
    }

    pub fn seq(position: Position, items: Vec<SpanTree>) -> Self {
        SpanTree {
            position,
            children: Children::Seq(items),
        }
    }

    pub fn position(&self) -> Position {
        self.position
    }

    /// The child at one step, if present.
    pub fn child(&self, segment: &Segment) -> Option<&SpanTree> {
        match (&self.children, segment) {
            // Last wins, as for duplicate keys in the decoded object.
            (Children::Map(entries), Segment::Key(k)) => entries
                .iter()
                .rev()
                .find(|(key, _)| key == k)
                .map(|(_, t)| t),
            (Children::Seq(items), Segment::Index(i)) => items.get(*i),
            _ => None,
        }
    }

    /// Position of `path`, or of the deepest parent that exists.
    pub fn locate(&self, path: &FieldPath) -> Position {
        let mut node = self;
        for segment in &path.0 {
            match node.child(segment) {
                Some(next) => node = next,
                None => break,
            }
        }
        node.position
    }

    /// Moves every position down by `lines` (documents parsed out of a larger file).
    pub fn shift_lines(&mut self, lines: u32) {
        self.position.line += lines;
        match &mut self.children {
            Children::Leaf => {}
            Children::Map(entries) => entries.iter_mut().for_each(|(_, t)| t.shift_lines(lines)),
            Children::Seq(items) => items.iter_mut().for_each(|t| t.shift_lines(lines)),
        }
    }
}

impl SpanTree {
    /// The same subtree, located at `position` (a mapping entry is located at its key).
    pub(crate) fn relocated(mut tree: SpanTree, position: Position) -> SpanTree {
        tree.position = position;
        tree
    }
}
