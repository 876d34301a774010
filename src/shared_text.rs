//! Text that many values repeat (a rule's id and title in each of its findings), stored once.
//!
//! A scan of 100,000 objects makes half a million findings; each carried its own copy of its
//! rule's id and title. A [`SharedText`] is a counted reference to one copy: cloning it copies a
//! pointer, and it reads, compares, orders, hashes and serializes as the text itself.

use serde::Serialize;
use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(transparent)]
pub struct SharedText(Arc<str>);

impl SharedText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for SharedText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SharedText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for SharedText {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SharedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl fmt::Debug for SharedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<&str> for SharedText {
    fn from(s: &str) -> Self {
        SharedText(Arc::from(s))
    }
}

impl From<String> for SharedText {
    fn from(s: String) -> Self {
        SharedText(Arc::from(s))
    }
}

impl From<&String> for SharedText {
    fn from(s: &String) -> Self {
        SharedText(Arc::from(s.as_str()))
    }
}

/// Shares the allocation (regorus's strings are `Arc<str>` too).
impl From<Arc<str>> for SharedText {
    fn from(s: Arc<str>) -> Self {
        SharedText(s)
    }
}

impl From<SharedText> for String {
    fn from(s: SharedText) -> Self {
        s.0.to_string()
    }
}

impl PartialEq<str> for SharedText {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for SharedText {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for SharedText {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<SharedText> for str {
    fn eq(&self, other: &SharedText) -> bool {
        self == &*other.0
    }
}

impl PartialEq<SharedText> for &str {
    fn eq(&self, other: &SharedText) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<SharedText> for String {
    fn eq(&self, other: &SharedText) -> bool {
        **self == *other.0
    }
}

#[cfg(test)]
mod tests {
    use super::SharedText;

    #[test]
    fn clones_share_one_copy_and_read_as_the_text() {
        let a = SharedText::from("PST-0001");
        let b = a.clone();
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert_eq!(a, "PST-0001");
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"PST-0001\"");
        let later = SharedText::from(String::from("PST-0002"));
        assert!(a < later);
    }
}
