//! A finding's message, held so that the messages of many objects share their words.
//!
//! A message names its object ("Container 'api-7' of Deployment 'api-7' runs as root"), so no
//! two findings of a scan have the same one, yet a rule's messages mostly differ only by that
//! name. A message that holds its object's name is kept as the text around the name, one copy
//! shared by every finding with the same words ([`SharedMessages`]), and the name, one copy per
//! object: a large scan held ~110 bytes of message per finding, half a million findings. Messages read,
//! compare, order, hash, display and serialize as their text.

use crate::shared_text::SharedText;
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

#[derive(Clone)]
pub struct Message(Repr);

#[derive(Clone)]
enum Repr {
    Text(Box<str>),
    /// `name` goes at each of `around.holes` in `around.text`.
    Named {
        around: Arc<Around>,
        name: SharedText,
    },
}

/// A message with its object's name cut out at `holes` (ascending byte offsets of `text`).
#[derive(PartialEq, Eq, Hash)]
struct Around {
    text: Box<str>,
    holes: Box<[usize]>,
}

/// The pieces of a message's text, in order: the words, and the object's name at each hole.
pub struct Pieces<'a> {
    rest: &'a str,
    holes: &'a [usize],
    /// Where `rest` starts in the text around the name.
    offset: usize,
    name: &'a str,
    name_next: bool,
    done: bool,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.name_next {
            self.name_next = false;
            return Some(self.name);
        }
        match self.holes.split_first() {
            Some((&hole, holes)) => {
                let (piece, rest) = self.rest.split_at(hole - self.offset);
                (self.rest, self.holes, self.offset) = (rest, holes, hole);
                self.name_next = true;
                Some(piece)
            }
            None if self.done => None,
            None => {
                self.done = true;
                Some(self.rest)
            }
        }
    }
}

impl Message {
    /// The pieces of the text, in order (one, when the message is held whole).
    pub fn pieces(&self) -> Pieces<'_> {
        let (rest, holes, name): (&str, &[usize], &str) = match &self.0 {
            Repr::Text(t) => (t, &[], ""),
            Repr::Named { around, name } => (&around.text, &around.holes, name),
        };
        Pieces {
            rest,
            holes,
            offset: 0,
            name,
            name_next: false,
            done: false,
        }
    }

    /// The text, made whole when it is held in pieces.
    pub fn text(&self) -> Cow<'_, str> {
        match &self.0 {
            Repr::Text(t) => Cow::Borrowed(t),
            Repr::Named { .. } => Cow::Owned(self.pieces().collect()),
        }
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Text(t) => t.len(),
            Repr::Named { around, name } => around.text.len() + around.holes.len() * name.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The part of the text at `range` (byte offsets), when it lies within one piece.
    pub fn get(&self, range: std::ops::Range<usize>) -> Option<&str> {
        let mut start = 0;
        for piece in self.pieces() {
            if range.start >= start && range.end <= start + piece.len() {
                return piece.get(range.start - start..range.end - start);
            }
            start += piece.len();
        }
        None
    }

    pub fn contains(&self, pattern: &str) -> bool {
        self.text().contains(pattern)
    }

    fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        self.pieces().flat_map(str::bytes)
    }
}

impl Default for Message {
    fn default() -> Message {
        Message(Repr::Text(Box::default()))
    }
}

impl From<String> for Message {
    fn from(text: String) -> Message {
        Message(Repr::Text(text.into_boxed_str()))
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Message {
        Message(Repr::Text(text.into()))
    }
}

impl From<&Message> for String {
    fn from(m: &Message) -> String {
        m.text().into_owned()
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        self.len() == other.len() && self.bytes().eq(other.bytes())
    }
}

impl Eq for Message {}

impl PartialEq<str> for Message {
    fn eq(&self, other: &str) -> bool {
        self.len() == other.len() && self.bytes().eq(other.bytes())
    }
}

impl PartialEq<&str> for Message {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl PartialOrd for Message {
    fn partial_cmp(&self, other: &Message) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// As the texts order (byte-wise, as `str` does).
impl Ord for Message {
    fn cmp(&self, other: &Message) -> std::cmp::Ordering {
        self.bytes().cmp(other.bytes())
    }
}

/// As the text hashes.
impl Hash for Message {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text().hash(state);
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Text(t) => f.pad(t),
            Repr::Named { .. } if f.width().is_some() || f.precision().is_some() => {
                f.pad(&self.text())
            }
            Repr::Named { .. } => self.pieces().try_for_each(|p| f.write_str(p)),
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text(), f)
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Text(t) => serializer.serialize_str(t),
            Repr::Named { .. } => serializer.serialize_str(&self.text()),
        }
    }
}

/// The words around object names that a worker's messages share. Bounded: past
/// [`SharedMessages::MAX`] distinct ones it starts again.
#[derive(Default)]
pub(crate) struct SharedMessages {
    around: HashSet<Arc<Around>>,
}

impl SharedMessages {
    const MAX: usize = 4096;

    /// `text`, the message of a finding on the object named `name`. The name is cut out where
    /// it is quoted, as messages name objects (and a container often has its object's name).
    pub(crate) fn message(&mut self, text: &str, name: &SharedText) -> Message {
        let quoted =
            |at: usize| text[..at].ends_with('\'') && text[at + name.len()..].starts_with('\'');
        let mut holes = Vec::new();
        let mut cut = String::new();
        let mut from = 0;
        if !name.is_empty() {
            for (at, _) in text
                .match_indices(name.as_str())
                .filter(|&(at, _)| quoted(at))
            {
                cut.push_str(&text[from..at]);
                holes.push(cut.len());
                from = at + name.len();
            }
        }
        if holes.is_empty() {
            return Message::from(text);
        }
        cut.push_str(&text[from..]);
        let around = Around {
            text: cut.into_boxed_str(),
            holes: holes.into_boxed_slice(),
        };
        let around = match self.around.get(&around) {
            Some(shared) => Arc::clone(shared),
            None => {
                if self.around.len() >= SharedMessages::MAX {
                    self.around.clear();
                }
                let shared = Arc::new(around);
                self.around.insert(Arc::clone(&shared));
                shared
            }
        };
        Message(Repr::Named {
            around,
            name: name.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_in_pieces_reads_as_its_text() {
        let mut shared = SharedMessages::default();
        let api: SharedText = "api-7".into();
        let m = shared.message("Deployment 'api-7' shares the host's PID namespace", &api);
        assert_eq!(m.get(12..17), Some("api-7"));
        assert_eq!(m.get(0..12), Some("Deployment '"));
        assert_eq!(m.get(11..13), None);
        let whole = Message::from("Deployment 'api-7' shares the host's PID namespace");
        assert!(matches!(m.0, Repr::Named { .. }));
        assert_eq!(m.pieces().nth(1), Some("api-7"));
        assert_eq!(m.to_string(), whole.to_string());
        assert_eq!(format!("{m:?}"), format!("{whole:?}"));
        assert_eq!(format!("{m:>60}"), format!("{whole:>60}"));
        assert_eq!(m, whole);
        assert_eq!(m, "Deployment 'api-7' shares the host's PID namespace");
        assert_eq!(m.len(), whole.len());
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            serde_json::to_string(&whole).unwrap()
        );
        use std::hash::BuildHasher;
        let state = std::collections::hash_map::RandomState::new();
        assert_eq!(state.hash_one(&m), state.hash_one(&whole));
        assert!(m.contains("host's PID"));
    }

    #[test]
    fn messages_of_one_rule_on_many_objects_share_their_words() {
        let mut shared = SharedMessages::default();
        let (a, b): (SharedText, SharedText) = ("web".into(), "db".into());
        let ma = shared.message("Pod 'web' runs as root", &a);
        let mb = shared.message("Pod 'db' runs as root", &b);
        match (&ma.0, &mb.0) {
            (Repr::Named { around: x, .. }, Repr::Named { around: y, .. }) => {
                assert!(Arc::ptr_eq(x, y))
            }
            _ => panic!("both messages name their object"),
        }
        // Without the name quoted, or with an empty one, the message is held whole.
        for text in [
            "no name here",
            "Pod web runs as root",
            "Pod 'webapp' runs as root",
        ] {
            assert!(
                matches!(shared.message(text, &a).0, Repr::Text(_)),
                "{text}"
            );
        }
        // Each quoted name is cut: a container often has its object's name.
        let m = shared.message("Container 'web' of Pod 'web' runs as root", &a);
        assert_eq!(
            m.pieces().collect::<Vec<_>>(),
            ["Container '", "web", "' of Pod '", "web", "' runs as root"]
        );
        assert_eq!(m.get(11..14), Some("web"));
        assert_eq!(m, "Container 'web' of Pod 'web' runs as root");
        assert_eq!(m.len(), "Container 'web' of Pod 'web' runs as root".len());
        let whole = Message::from("Container 'web' of Pod 'web' runs as root");
        assert_eq!(whole.pieces().collect::<Vec<_>>(), [whole.text()]);
        assert!(matches!(
            shared.message("Pod '' x", &"".into()).0,
            Repr::Text(_)
        ));
        assert!(ma < mb.clone() || ma > mb);
        assert_eq!(
            ma.cmp(&mb),
            "Pod 'web' runs as root".cmp("Pod 'db' runs as root")
        );
    }

    #[test]
    fn messages_order_as_their_texts() {
        let mut shared = SharedMessages::default();
        let texts = [
            "a",
            "ab",
            "b",
            "Pod 'x' y",
            "Pod 'xy' y",
            "Pod 'x'",
            "'xy'",
            "'x' 'x''x'",
            "",
        ];
        for a in texts {
            for b in texts {
                let ma = shared.message(a, &"x".into());
                let mb = shared.message(b, &"xy".into());
                assert_eq!(ma.cmp(&mb), a.cmp(b), "{a:?} {b:?}");
                assert_eq!(ma == mb, a == b);
            }
        }
    }
}
