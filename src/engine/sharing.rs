//! What a worker's findings share: one copy of each field path they name, and the words of
//! their messages around object names ([`crate::message`]).
//!
//! A rule failing on many objects names the same few fields on each (a large scan holds
//! hundreds of thousands of findings and a few hundred distinct paths), and each finding held
//! its own copy: a vector of segments, ~140 bytes a finding. Only the vector is saved: the keys
//! were already the rule's strings.

use crate::message::SharedMessages;
use crate::resource::FieldPath;
use std::collections::HashSet;
use std::sync::Arc;

/// A worker's shared paths and messages, kept for a whole evaluation.
#[derive(Default)]
pub(crate) struct Sharing {
    pub(crate) paths: SharedPaths,
    pub(crate) messages: SharedMessages,
}

/// The paths a worker has handed out. Bounded: past [`SharedPaths::MAX`] distinct paths it
/// starts again, so that rules that name a new field on every object (list indices, map keys)
/// cost at most a pointer a path.
#[derive(Default)]
pub(crate) struct SharedPaths {
    paths: HashSet<Arc<FieldPath>>,
}

impl SharedPaths {
    const MAX: usize = 4096;

    /// The shared copy of `path`.
    pub(crate) fn share(&mut self, path: FieldPath) -> Arc<FieldPath> {
        if let Some(shared) = self.paths.get(&path) {
            return Arc::clone(shared);
        }
        if self.paths.len() >= SharedPaths::MAX {
            self.paths.clear();
        }
        let shared = Arc::new(path);
        self.paths.insert(Arc::clone(&shared));
        shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Segment;

    fn path(keys: &[&str]) -> FieldPath {
        FieldPath(keys.iter().map(|k| Segment::key(*k)).collect())
    }

    #[test]
    fn equal_paths_share_one_copy_and_the_cache_stays_bounded() {
        let mut shared = SharedPaths::default();
        let a = shared.share(path(&["spec", "hostPID"]));
        let b = shared.share(path(&["spec", "hostPID"]));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &shared.share(path(&["spec"]))));
        for i in 0..3 * SharedPaths::MAX {
            let p = shared.share(FieldPath(vec![Segment::Index(i)]));
            assert_eq!(*p, FieldPath(vec![Segment::Index(i)]));
            assert!(shared.paths.len() <= SharedPaths::MAX);
        }
    }
}
