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
///
/// Stored flat, one small record per node in document order and every mapping key in one
/// string, rather than as a tree of vectors with a `String` per key: a large scan holds the
/// positions of every node of every object until the end, and this layout takes a fraction of
/// the allocations and memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanTree {
    /// Pre-order: a node's descendants follow it, up to its `end`.
    nodes: Vec<SpanNode>,
    /// The keys of mapping entries, concatenated; a node names its key by range.
    keys: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SpanNode {
    position: Position,
    /// Range of this node's key in `keys`, when it is a mapping entry.
    key_start: u32,
    key_len: u32,
    /// Index one past this node's last descendant.
    end: u32,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Leaf,
    Map,
    Seq,
}

/// A node's shape, as [`SpanTree::view`] tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Scalar,
    Mapping,
    Sequence,
}

/// One node of a [`SpanTree`], for an editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeView {
    /// Its key's position for a mapping entry, else its own.
    pub position: Position,
    pub shape: Shape,
    pub first_child: Option<Position>,
    pub children: usize,
    /// The last line on which the node or a descendant starts (a multi-line scalar goes on).
    pub last_line: u32,
}

/// A node of a [`SpanTree`] under construction, to be closed after its children.
#[must_use = "an opened node must be closed"]
#[derive(Debug)]
pub struct Open(usize);

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("a document has fewer than 4 Gi nodes and key bytes")
}

/// Building, in document order: open a node, add its children, close it. (The loader's API;
/// the type stays the one `Resource` holds.)
impl SpanTree {
    /// A tree with no node yet; [`SpanTree::finish`] says whether one was added.
    pub(crate) fn building() -> Self {
        SpanTree {
            nodes: Vec::new(),
            keys: String::new(),
        }
    }

    fn open(&mut self, position: Position, key: Option<&str>, kind: Kind) -> Open {
        let (key_start, key_len) = match key {
            Some(k) => {
                let start = self.keys.len();
                self.keys.push_str(k);
                (to_u32(start), to_u32(k.len()))
            }
            None => (0, 0),
        };
        let index = self.nodes.len();
        self.nodes.push(SpanNode {
            position,
            key_start,
            key_len,
            end: 0,
            kind,
        });
        Open(index)
    }

    /// Starts a mapping; a mapping entry passes its key.
    pub(crate) fn open_map(&mut self, position: Position, key: Option<&str>) -> Open {
        self.open(position, key, Kind::Map)
    }

    /// Starts a sequence; a mapping entry passes its key.
    pub(crate) fn open_seq(&mut self, position: Position, key: Option<&str>) -> Open {
        self.open(position, key, Kind::Seq)
    }

    /// Adds a scalar; a mapping entry passes its key.
    pub(crate) fn push_leaf(&mut self, position: Position, key: Option<&str>) {
        let leaf = self.open(position, key, Kind::Leaf);
        self.close(leaf);
    }

    /// Ends a node after all its children.
    pub(crate) fn close(&mut self, node: Open) {
        let end = to_u32(self.nodes.len());
        self.nodes[node.0].end = end;
    }

    /// The finished tree; `None` when no node was added.
    pub(crate) fn finish(mut self) -> Option<SpanTree> {
        if self.nodes.is_empty() {
            return None;
        }
        self.nodes.shrink_to_fit();
        self.keys.shrink_to_fit();
        Some(self)
    }
}

impl SpanTree {
    /// A single node with no children.
    pub fn leaf(position: Position) -> Self {
        let mut t = SpanTree::building();
        t.push_leaf(position, None);
        // A pushed list holds four: a reduced object keeps its leaf to the end of a scan.
        t.nodes.shrink_to_fit();
        t
    }

    pub fn position(&self) -> Position {
        self.nodes[0].position
    }

    fn key(&self, node: &SpanNode) -> &str {
        let start = node.key_start as usize;
        &self.keys[start..start + node.key_len as usize]
    }

    /// Index of the child of node `at` at one step, if present.
    fn child_index(&self, at: usize, segment: &Segment) -> Option<usize> {
        let node = &self.nodes[at];
        let end = node.end as usize;
        let mut child = at + 1;
        match (node.kind, segment) {
            // Last wins, as for duplicate keys in the decoded object.
            (Kind::Map, Segment::Key(k)) => {
                let mut found = None;
                while child < end {
                    if self.key(&self.nodes[child]) == k {
                        found = Some(child);
                    }
                    child = self.nodes[child].end as usize;
                }
                found
            }
            (Kind::Seq, Segment::Index(i)) => {
                for _ in 0..*i {
                    if child >= end {
                        return None;
                    }
                    child = self.nodes[child].end as usize;
                }
                (child < end).then_some(child)
            }
            _ => None,
        }
    }

    /// The positions of the node at `path`, if it exists, as a tree of its own.
    pub fn subtree(&self, path: &[Segment]) -> Option<SpanTree> {
        let mut at = 0;
        for segment in path {
            at = self.child_index(at, segment)?;
        }
        Some(self.subtree_at(at))
    }

    /// The subtrees of every element of the sequence at `path`, in order, found in one pass:
    /// asking [`SpanTree::subtree`] for each index in turn would walk the earlier siblings
    /// again each time, which made a 40,000-item `kind: List` take half a minute.
    pub fn elements(&self, path: &[Segment]) -> Vec<SpanTree> {
        let mut at = 0;
        for segment in path {
            match self.child_index(at, segment) {
                Some(next) => at = next,
                None => return Vec::new(),
            }
        }
        if self.nodes[at].kind != Kind::Seq {
            return Vec::new();
        }
        let end = self.nodes[at].end as usize;
        let mut child = at + 1;
        let mut out = Vec::new();
        while child < end {
            out.push(self.subtree_at(child));
            child = self.nodes[child].end as usize;
        }
        out
    }

    fn subtree_at(&self, at: usize) -> SpanTree {
        let end = self.nodes[at].end as usize;
        let base = to_u32(at);
        // Keys are copied with their nodes; offsets shift to the copy's start.
        let key_base = self.nodes[at..end]
            .iter()
            .filter(|n| n.key_len > 0)
            .map(|n| n.key_start)
            .min()
            .unwrap_or(0);
        let key_end = self.nodes[at..end]
            .iter()
            .map(|n| n.key_start + n.key_len)
            .max()
            .unwrap_or(0)
            .max(key_base);
        let nodes = self.nodes[at..end]
            .iter()
            .map(|n| SpanNode {
                end: n.end - base,
                key_start: if n.key_len > 0 {
                    n.key_start - key_base
                } else {
                    0
                },
                ..*n
            })
            .collect();
        SpanTree {
            nodes,
            keys: self.keys[key_base as usize..key_end as usize].to_owned(),
        }
    }

    /// Position of `path`, or of the deepest parent that exists.
    pub fn locate(&self, path: &FieldPath) -> Position {
        let mut at = 0;
        for segment in &path.0 {
            match self.child_index(at, segment) {
                Some(next) => at = next,
                None => break,
            }
        }
        self.nodes[at].position
    }

    /// The children of node `at` (0 is the root), each with its index and, for a mapping
    /// entry, its key: for walking the tree beside its value without copying subtrees.
    pub(crate) fn children_at(&self, at: usize) -> Vec<(usize, &str)> {
        let end = self.nodes[at].end as usize;
        let mut child = at + 1;
        let mut out = Vec::new();
        while child < end {
            out.push((child, self.key(&self.nodes[child])));
            child = self.nodes[child].end as usize;
        }
        out
    }

    /// The position of node `at` (0 is the root).
    pub(crate) fn position_at(&self, at: usize) -> Position {
        self.nodes[at].position
    }

    /// The node at `path`, as an editor sees it: where it starts, its shape, where its first
    /// child starts and the last line any of it starts on.
    pub fn view(&self, path: &[Segment]) -> Option<NodeView> {
        let mut at = 0;
        for segment in path {
            at = self.child_index(at, segment)?;
        }
        let node = &self.nodes[at];
        let end = node.end as usize;
        let mut children = 0;
        let mut child = at + 1;
        while child < end {
            children += 1;
            child = self.nodes[child].end as usize;
        }
        Some(NodeView {
            position: node.position,
            shape: match node.kind {
                Kind::Leaf => Shape::Scalar,
                Kind::Map => Shape::Mapping,
                Kind::Seq => Shape::Sequence,
            },
            first_child: (at + 1 < end).then(|| self.nodes[at + 1].position),
            children,
            last_line: self.nodes[at..end]
                .iter()
                .map(|n| n.position.line)
                .max()
                .unwrap_or(node.position.line),
        })
    }

    /// Moves every position down by `lines` (documents parsed out of a larger file).
    pub fn shift_lines(&mut self, lines: u32) {
        for node in &mut self.nodes {
            node.position.line += lines;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32, column: u32) -> Position {
        Position { line, column }
    }

    /// `a: {b: 1, c: [x, y]}`, `d: 2`, with a duplicate `d`.
    fn sample() -> SpanTree {
        let mut b = SpanTree::building();
        let root = b.open_map(at(1, 1), None);
        let a = b.open_map(at(1, 1), Some("a"));
        b.push_leaf(at(2, 3), Some("b"));
        let c = b.open_seq(at(3, 3), Some("c"));
        for line in [4, 5] {
            b.push_leaf(at(line, 5), None);
        }
        b.close(c);
        b.close(a);
        for line in [6, 7] {
            b.push_leaf(at(line, 1), Some("d"));
        }
        b.close(root);
        b.finish().unwrap()
    }

    fn path(segments: &[Segment]) -> FieldPath {
        FieldPath(segments.to_vec())
    }

    #[test]
    fn locate_walks_keys_and_indices_and_stops_at_the_nearest_parent() {
        let t = sample();
        let key = |k: &str| Segment::key(k);
        assert_eq!(
            t.locate(&path(&[key("a"), key("c"), Segment::Index(1)])),
            at(5, 5)
        );
        assert_eq!(t.locate(&path(&[key("a"), key("b")])), at(2, 3));
        assert_eq!(
            t.locate(&path(&[key("a"), key("c"), Segment::Index(2)])),
            at(3, 3)
        );
        assert_eq!(t.locate(&path(&[key("a"), Segment::Index(0)])), at(1, 1));
        assert_eq!(t.locate(&path(&[key("x")])), at(1, 1));
        // The last of duplicate keys wins, as in the decoded object.
        assert_eq!(t.locate(&path(&[key("d")])), at(7, 1));
    }

    #[test]
    fn subtree_keeps_its_own_keys_and_positions() {
        let t = sample();
        let key = |k: &str| Segment::key(k);
        let a = t.subtree(&[key("a")]).unwrap();
        assert_eq!(a.position(), at(1, 1));
        assert_eq!(a.locate(&path(&[key("c"), Segment::Index(0)])), at(4, 5));
        assert_eq!(a.locate(&path(&[key("b")])), at(2, 3));
        assert!(t.subtree(&[key("a"), key("z")]).is_none());
        let elements = t.elements(&[key("a"), key("c")]);
        assert_eq!(elements.len(), 2, "c has two elements");
        assert_eq!(elements[0].position(), at(4, 5));
        assert!(
            t.elements(&[key("a"), key("b")]).is_empty(),
            "b is no sequence"
        );
        let mut shifted = a.clone();
        shifted.shift_lines(10);
        assert_eq!(shifted.locate(&path(&[key("b")])), at(12, 3));
    }
}
