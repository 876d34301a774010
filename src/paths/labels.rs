//! Pod labels as the attack paths hold them while they search: the Services and network
//! policies that select a workload read them, for as long as the search lasts.

use crate::engine::network_policy::LabelLookup;
use serde_json::{Map, Value};

/// A workload's pod labels, in the order they are written: each key and value one string made
/// to its size, instead of a `serde_json` map (an index table and a 104-byte entry a label).
/// Only labels whose value is a string are kept: no other is valid, and no selector matches
/// one (`LabelLookup`).
#[derive(Debug, Default)]
pub struct Labels(Box<[(Box<str>, Box<str>)]>);

impl Labels {
    pub fn of(map: &Map<String, Value>) -> Labels {
        Labels(
            map.iter()
                .filter_map(|(k, v)| Some((k.as_str().into(), v.as_str()?.into())))
                .collect(),
        )
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&**k, &**v))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

impl LabelLookup for Labels {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key)
    }
}

/// Labels with some keys set over them, as Cilium and Calico name a pod's namespace to their
/// selectors: a key of `over` hides the same key of `base`.
pub struct Overlaid<'l, L: ?Sized> {
    pub base: &'l L,
    pub over: &'l [(&'l str, &'l str)],
}

impl<L: LabelLookup + ?Sized> LabelLookup for Overlaid<'_, L> {
    fn label(&self, key: &str) -> Option<&str> {
        match self.over.iter().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(v),
            None => self.base.label(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_string_labels_are_kept_in_order_and_an_overlay_hides_its_keys() {
        let map = json!({"app": "web", "tier": "front", "replicas": 2, "empty": ""});
        let labels = Labels::of(map.as_object().expect("a map"));
        assert_eq!(
            labels.iter().collect::<Vec<_>>(),
            [("app", "web"), ("tier", "front"), ("empty", "")]
        );
        assert_eq!(labels.get("replicas"), None);
        assert_eq!(labels.label("empty"), Some(""));
        let over = [("tier", "back"), ("ns", "shop")];
        let overlaid = Overlaid {
            base: &labels,
            over: &over,
        };
        assert_eq!(overlaid.label("tier"), Some("back"));
        assert_eq!(overlaid.label("ns"), Some("shop"));
        assert_eq!(overlaid.label("app"), Some("web"));
        assert_eq!(overlaid.label("replicas"), None);
    }
}
