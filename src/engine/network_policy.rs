//! NetworkPolicies of every flavour the inventory knows, reduced to one form that rules can
//! evaluate without recursion: which pods a policy selects, as a disjunction of conjunctions
//! of label requirements, and which directions it isolates.
//!
//! - Kubernetes `networking.k8s.io/v1` NetworkPolicy: `podSelector`, `policyTypes`.
//! - Cilium `cilium.io/v2` CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy:
//!   `endpointSelector` (a label selector whose keys may carry a `k8s:`/`any:` source prefix),
//!   in `spec` or each of `specs`; a rule list under `ingress`/`ingressDeny` or
//!   `egress`/`egressDeny` isolates that direction unless `enableDefaultDeny` turns it off.
//! - Calico `projectcalico.org/v3` and `crd.projectcalico.org/v1` NetworkPolicy and
//!   GlobalNetworkPolicy: `selector` and `namespaceSelector` in Calico's selector language,
//!   parsed here (bounded in length, nesting and expansion), and `types`.
//!
//! Pure data: no I/O, no knowledge of any rule.

use serde_json::{json, Value};

/// A selector no longer than this is parsed; a longer one selects nothing.
const MAX_SELECTOR_LEN: usize = 4096;
/// Deepest nesting of parentheses and `!` the parser follows.
const MAX_DEPTH: usize = 32;
/// Most conjunctions a selector may expand to; beyond it the selector selects nothing.
const MAX_TERMS: usize = 256;

/// One label requirement. `op` is one of In, NotIn, Exists, DoesNotExist, Contains,
/// NotContains, StartsWith, NotStartsWith, EndsWith, NotEndsWith.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Req {
    pub key: String,
    pub op: &'static str,
    pub values: Vec<String>,
}

impl Req {
    fn new(key: &str, op: &'static str, values: Vec<String>) -> Req {
        Req {
            key: key.to_owned(),
            op,
            values,
        }
    }

    fn negated(&self) -> Req {
        let op = match self.op {
            "In" => "NotIn",
            "NotIn" => "In",
            "Exists" => "DoesNotExist",
            "DoesNotExist" => "Exists",
            "Contains" => "NotContains",
            "NotContains" => "Contains",
            "StartsWith" => "NotStartsWith",
            "NotStartsWith" => "StartsWith",
            "EndsWith" => "NotEndsWith",
            _ => "EndsWith",
        };
        Req { op, ..self.clone() }
    }

    fn to_json(&self) -> Value {
        json!({"key": self.key, "operator": self.op, "values": self.values})
    }
}

/// A disjunction of conjunctions: `[[]]` selects everything, `[]` nothing.
pub type Dnf = Vec<Vec<Req>>;

impl Req {
    /// Whether a pod with `labels` meets the requirement, as the Kubernetes API and Calico read
    /// it: a negative requirement (NotIn, DoesNotExist, Not...) holds for a pod without the key.
    pub fn holds(&self, labels: &(impl LabelLookup + ?Sized)) -> bool {
        let value = labels.label(&self.key);
        let first = self.values.first().map(String::as_str).unwrap_or_default();
        match (self.op, value) {
            ("In", Some(v)) => self.values.iter().any(|x| x == v),
            ("NotIn", Some(v)) => !self.values.iter().any(|x| x == v),
            ("Exists", v) => v.is_some(),
            ("DoesNotExist", v) => v.is_none(),
            ("Contains", Some(v)) => v.contains(first),
            ("StartsWith", Some(v)) => v.starts_with(first),
            ("EndsWith", Some(v)) => v.ends_with(first),
            ("NotContains", Some(v)) => !v.contains(first),
            ("NotStartsWith", Some(v)) => !v.starts_with(first),
            ("NotEndsWith", Some(v)) => !v.ends_with(first),
            ("NotIn" | "NotContains" | "NotStartsWith" | "NotEndsWith", None) => true,
            _ => false,
        }
    }
}

/// Whether `dnf` selects a pod with `labels` (the Rust twin of `dnf_selects` in
/// policies/lib/network.rego).
pub fn dnf_matches(dnf: &Dnf, labels: &(impl LabelLookup + ?Sized)) -> bool {
    dnf.iter().any(|c| c.iter().all(|r| r.holds(labels)))
}

/// What a selector reads of a pod's (or a namespace's) labels: the value of a key, if it is
/// a string (the API server refuses a label whose value is not).
pub trait LabelLookup {
    fn label(&self, key: &str) -> Option<&str>;
}

impl LabelLookup for serde_json::Map<String, Value> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }
}

pub fn dnf_json(dnf: &Dnf) -> Value {
    Value::Array(
        dnf.iter()
            .map(|c| Value::Array(c.iter().map(Req::to_json).collect()))
            .collect(),
    )
}

/// A Kubernetes label selector: an empty or null one selects everything; an unknown operator
/// selects nothing, as the API server would refuse it. Cilium's source prefixes are removed
/// from keys when `cilium` is set.
pub fn label_selector(selector: &Value, cilium: bool) -> Dnf {
    let key_of = |k: &str| -> Option<String> {
        if !cilium {
            return Some(k.to_owned());
        }
        match k.split_once(':') {
            None => Some(k.to_owned()),
            Some(("k8s" | "any", rest)) => Some(rest.to_owned()),
            // reserved:, cidr:, fqdn:... labels never belong to a pod.
            Some(_) => None,
        }
    };
    let mut conj = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in labels {
            let (Some(key), Some(v)) = (key_of(k), v.as_str()) else {
                return Vec::new();
            };
            conj.push(Req::new(&key, "In", vec![v.to_owned()]));
        }
    }
    for e in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let k = e.get("key").and_then(Value::as_str).unwrap_or_default();
        let values: Vec<String> = e
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let op = match e.get("operator").and_then(Value::as_str) {
            Some("In") => "In",
            Some("NotIn") => "NotIn",
            Some("Exists") => "Exists",
            Some("DoesNotExist") => "DoesNotExist",
            _ => return Vec::new(),
        };
        match key_of(k) {
            Some(key) => conj.push(Req::new(&key, op, values)),
            // A pod has no label of another source: only the negative requirements hold.
            None if matches!(op, "NotIn" | "DoesNotExist") => {}
            None => return Vec::new(),
        }
    }
    vec![conj]
}

/// A Calico selector expression; `None` when it cannot be parsed within the bounds.
pub fn calico_selector(text: &str) -> Option<Dnf> {
    if text.len() > MAX_SELECTOR_LEN {
        return None;
    }
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let expr = p.or(0)?;
    p.ws();
    if p.i != p.s.len() {
        return None;
    }
    to_dnf(&expr, false)
}

#[derive(Debug)]
enum Expr {
    All,
    Req(Req),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.ws();
        if self.s[self.i..].starts_with(token.as_bytes()) {
            self.i += token.len();
            true
        } else {
            false
        }
    }

    /// A keyword such as `in`, not the start of a longer word.
    fn eat_word(&mut self, word: &str) -> bool {
        self.ws();
        let end = self.i + word.len();
        if self.s[self.i..].starts_with(word.as_bytes())
            && self.s.get(end).is_none_or(|c| !is_key_char(*c))
        {
            self.i = end;
            true
        } else {
            false
        }
    }

    fn or(&mut self, depth: usize) -> Option<Expr> {
        let mut parts = vec![self.and(depth)?];
        while self.eat("||") {
            parts.push(self.and(depth)?);
        }
        Some(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self, depth: usize) -> Option<Expr> {
        let mut parts = vec![self.unary(depth)?];
        while self.eat("&&") {
            parts.push(self.unary(depth)?);
        }
        Some(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn unary(&mut self, depth: usize) -> Option<Expr> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        if self.s.get(self.i) == Some(&b'!') && self.s.get(self.i + 1) != Some(&b'=') {
            self.i += 1;
            return Some(Expr::Not(Box::new(self.unary(depth + 1)?)));
        }
        if self.eat("(") {
            let e = self.or(depth + 1)?;
            return self.eat(")").then_some(e);
        }
        self.term()
    }

    fn key(&mut self) -> Option<String> {
        self.ws();
        let start = self.i;
        while self.i < self.s.len() && is_key_char(self.s[self.i]) {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn string(&mut self) -> Option<String> {
        self.ws();
        let quote = *self.s.get(self.i)?;
        if quote != b'\'' && quote != b'"' {
            return None;
        }
        let start = self.i + 1;
        let len = self.s[start..].iter().position(|c| *c == quote)?;
        self.i = start + len + 1;
        Some(String::from_utf8_lossy(&self.s[start..start + len]).into_owned())
    }

    fn set(&mut self) -> Option<Vec<String>> {
        if !self.eat("{") {
            return None;
        }
        let mut values = Vec::new();
        if self.eat("}") {
            return Some(values);
        }
        loop {
            values.push(self.string()?);
            if self.eat("}") {
                return Some(values);
            }
            if !self.eat(",") {
                return None;
            }
        }
    }

    fn term(&mut self) -> Option<Expr> {
        if self.eat_word("all") {
            return (self.eat("(") && self.eat(")")).then_some(Expr::All);
        }
        if self.eat_word("global") {
            // Selects non-namespaced resources (host endpoints, network sets), never a pod.
            return (self.eat("(") && self.eat(")")).then_some(Expr::Not(Box::new(Expr::All)));
        }
        if self.eat_word("has") {
            if !self.eat("(") {
                return None;
            }
            let key = self.key()?;
            return self
                .eat(")")
                .then(|| Expr::Req(Req::new(&key, "Exists", vec![])));
        }
        let key = self.key()?;
        let req = |op, values| Some(Expr::Req(Req::new(&key, op, values)));
        if self.eat("==") {
            let v = self.string()?;
            return req("In", vec![v]);
        }
        if self.eat("!=") {
            let v = self.string()?;
            return req("NotIn", vec![v]);
        }
        if self.eat_word("not") {
            if !self.eat_word("in") {
                return None;
            }
            let values = self.set()?;
            return req("NotIn", values);
        }
        if self.eat_word("in") {
            let values = self.set()?;
            return req("In", values);
        }
        if self.eat_word("contains") {
            let v = self.string()?;
            return req("Contains", vec![v]);
        }
        if self.eat_word("starts") {
            if !self.eat_word("with") {
                return None;
            }
            let v = self.string()?;
            return req("StartsWith", vec![v]);
        }
        if self.eat_word("ends") {
            if !self.eat_word("with") {
                return None;
            }
            let v = self.string()?;
            return req("EndsWith", vec![v]);
        }
        None
    }
}

fn is_key_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'/')
}

/// Negations pushed to the requirements (De Morgan), then AND distributed over OR.
fn to_dnf(e: &Expr, negate: bool) -> Option<Dnf> {
    match (e, negate) {
        (Expr::All, false) => Some(vec![vec![]]),
        (Expr::All, true) => Some(vec![]),
        (Expr::Req(r), false) => Some(vec![vec![r.clone()]]),
        (Expr::Req(r), true) => Some(vec![vec![r.negated()]]),
        (Expr::Not(inner), n) => to_dnf(inner, !n),
        (Expr::Or(parts), false) | (Expr::And(parts), true) => {
            let mut out = Vec::new();
            for p in parts {
                out.extend(to_dnf(p, negate)?);
                if out.len() > MAX_TERMS {
                    return None;
                }
            }
            Some(out)
        }
        (Expr::And(parts), false) | (Expr::Or(parts), true) => {
            let mut out: Dnf = vec![vec![]];
            for p in parts {
                let next = to_dnf(p, negate)?;
                let mut product = Vec::new();
                for a in &out {
                    for b in &next {
                        let mut c = a.clone();
                        c.extend(b.iter().cloned());
                        product.push(c);
                        if product.len() > MAX_TERMS {
                            return None;
                        }
                    }
                }
                out = product;
            }
            Some(out)
        }
    }
}

/// A policy reduced for the inventory: the pods it selects (within its namespace, or in the
/// namespaces `namespaces` selects for a cluster-wide one) and the directions it isolates.
pub struct Normalized {
    pub namespaced: bool,
    pub value: Value,
}

/// Normalises a policy object of a known flavour; `None` for other kinds and for a policy that
/// applies to no pod (a Cilium host policy with a `nodeSelector`).
pub fn normalize(group: &str, kind: &str, name: &str, o: &Value) -> Option<Normalized> {
    let spec = o.get("spec").unwrap_or(&Value::Null);
    let (namespaced, flavour, selects, namespaces, isolates) = match (group, kind) {
        ("networking.k8s.io", "NetworkPolicy") => {
            let selects = label_selector(spec.get("podSelector").unwrap_or(&Value::Null), false);
            (true, "NetworkPolicy", selects, None, k8s_directions(spec))
        }
        ("cilium.io", "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy") => {
            let specs: Vec<&Value> = spec_list(o);
            let mut selects = Vec::new();
            let mut isolates = Vec::new();
            for s in specs {
                let Some(selector) = s.get("endpointSelector") else {
                    continue;
                };
                let dirs = cilium_directions(s);
                if dirs.is_empty() {
                    continue;
                }
                selects.extend(label_selector(selector, true));
                for d in dirs {
                    if !isolates.contains(&d) {
                        isolates.push(d);
                    }
                }
            }
            if isolates.is_empty() {
                return None;
            }
            (kind == "CiliumNetworkPolicy", kind, selects, None, isolates)
        }
        (
            "projectcalico.org" | "crd.projectcalico.org",
            "NetworkPolicy" | "GlobalNetworkPolicy",
        ) => {
            let selects = calico_field(spec, "selector");
            let namespaces = calico_namespaces(kind, spec);
            let flavour = if kind == "NetworkPolicy" {
                "Calico NetworkPolicy"
            } else {
                "GlobalNetworkPolicy"
            };
            (
                kind == "NetworkPolicy",
                flavour,
                selects,
                namespaces,
                calico_directions(spec),
            )
        }
        _ => return None,
    };
    let mut value = json!({
        "name": name,
        "kind": flavour,
        "selects": dnf_json(&selects),
        "isolates": isolates,
    });
    if group == "networking.k8s.io" {
        // Kept for rules written against the earlier shape of this bucket.
        value["podSelector"] = spec.get("podSelector").cloned().unwrap_or(json!({}));
        value["policyTypes"] = spec.get("policyTypes").cloned().unwrap_or(Value::Null);
    }
    if !namespaced {
        value["namespaces"] = namespaces.map_or(Value::Null, |d| dnf_json(&d));
    }
    Some(Normalized { namespaced, value })
}

/// A Calico GlobalNetworkPolicy's `namespaceSelector` (the namespaces whose pods it may
/// select); `None` for every namespace, and for a namespaced policy.
pub fn calico_namespaces(kind: &str, spec: &Value) -> Option<Dnf> {
    (kind == "GlobalNetworkPolicy")
        .then(|| spec.get("namespaceSelector").and_then(Value::as_str))
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .map(|s| calico_selector(s).unwrap_or_default())
}

/// A Cilium policy's rule sets: `spec` and each of `specs`.
pub fn spec_list(o: &Value) -> Vec<&Value> {
    let mut out: Vec<&Value> = o
        .get("spec")
        .filter(|s| s.is_object())
        .into_iter()
        .collect();
    out.extend(
        o.get("specs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten(),
    );
    out
}

/// A Calico selector field; absent or empty means `all()`, unparseable selects nothing.
pub fn calico_field(spec: &Value, field: &str) -> Dnf {
    match spec.get(field).and_then(Value::as_str).map(str::trim) {
        None | Some("") => vec![vec![]],
        Some(s) => calico_selector(s).unwrap_or_default(),
    }
}

fn has_rules(spec: &Value, key: &str) -> bool {
    spec.get(key)
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

fn k8s_directions(spec: &Value) -> Vec<&'static str> {
    match spec.get("policyTypes").and_then(Value::as_array) {
        Some(types) if !types.is_empty() => ["Ingress", "Egress"]
            .into_iter()
            .filter(|d| types.iter().any(|t| t == d))
            .collect(),
        // Default: Ingress, plus Egress when the policy has egress rules.
        _ if spec.get("egress").is_some_and(|e| !e.is_null()) => vec!["Ingress", "Egress"],
        _ => vec!["Ingress"],
    }
}

/// The directions one Cilium rule set isolates.
pub fn cilium_directions(spec: &Value) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (dir, keys, flag) in [
        ("Ingress", ["ingress", "ingressDeny"], "ingress"),
        ("Egress", ["egress", "egressDeny"], "egress"),
    ] {
        let off = spec.pointer(&format!("/enableDefaultDeny/{flag}")) == Some(&Value::Bool(false));
        if !off && keys.iter().any(|k| has_rules(spec, k)) {
            out.push(dir);
        }
    }
    out
}

/// The directions a Calico policy isolates.
pub fn calico_directions(spec: &Value) -> Vec<&'static str> {
    match spec.get("types").and_then(Value::as_array) {
        Some(types) if !types.is_empty() => ["Ingress", "Egress"]
            .into_iter()
            .filter(|d| types.iter().any(|t| t == d))
            .collect(),
        // Calico's default: Ingress, plus Egress when the policy has egress rules.
        _ if has_rules(spec, "egress") => vec!["Ingress", "Egress"],
        _ => vec!["Ingress"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(dnf: &Dnf) -> String {
        dnf.iter()
            .map(|c| {
                c.iter()
                    .map(|r| format!("{} {} {:?}", r.key, r.op, r.values))
                    .collect::<Vec<_>>()
                    .join(" & ")
            })
            .collect::<Vec<_>>()
            .join(" | ")
    }

    #[test]
    fn calico_selectors_parse_into_dnf() {
        let cases = [
            ("all()", ""),
            ("app == 'web'", r#"app In ["web"]"#),
            (
                "app == \"web\" && tier != 'db'",
                r#"app In ["web"] & tier NotIn ["db"]"#,
            ),
            (
                "has(role) || env in {'prod', 'stage'}",
                r#"role Exists [] | env In ["prod", "stage"]"#,
            ),
            (
                "!(a == 'x' || has(b))",
                r#"a NotIn ["x"] & b DoesNotExist []"#,
            ),
            (
                "(a == '1' || a == '2') && k8s-app not in {'x'}",
                r#"a In ["1"] & k8s-app NotIn ["x"] | a In ["2"] & k8s-app NotIn ["x"]"#,
            ),
            (
                "projectcalico.org/namespace starts with 'team-'",
                r#"projectcalico.org/namespace StartsWith ["team-"]"#,
            ),
            (
                "name contains 'db' && !has(x)",
                r#"name Contains ["db"] & x DoesNotExist []"#,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(show(&calico_selector(text).unwrap()), expected, "{text}");
        }
        assert_eq!(calico_selector("!all()").unwrap(), Vec::<Vec<Req>>::new());
        assert_eq!(calico_selector("global()").unwrap(), Vec::<Vec<Req>>::new());
    }

    #[test]
    fn bad_or_unbounded_selectors_are_refused() {
        for bad in [
            "app ==",
            "app = 'x'",
            "(a == 'x'",
            "a in {'x'",
            "has(a",
            "a == 'x' b",
            "&&",
        ] {
            assert!(calico_selector(bad).is_none(), "{bad}");
        }
        let deep = format!("{}a == 'x'{}", "(".repeat(100), ")".repeat(100));
        assert!(calico_selector(&deep).is_none());
        // 2^10 conjunctions.
        let wide: Vec<String> = (0..10)
            .map(|i| format!("(a{i} == 'x' || b{i} == 'y')"))
            .collect();
        assert!(calico_selector(&wide.join(" && ")).is_none());
        assert!(calico_selector(&"a".repeat(MAX_SELECTOR_LEN + 1)).is_none());
    }

    #[test]
    fn cilium_keys_lose_their_source_prefix() {
        let sel = json!({"matchLabels": {"k8s:app": "web", "any:tier": "front"}});
        assert_eq!(
            show(&label_selector(&sel, true)),
            r#"app In ["web"] & tier In ["front"]"#
        );
        let host = json!({"matchLabels": {"reserved:host": ""}});
        assert!(label_selector(&host, true).is_empty());
    }

    #[test]
    fn directions_follow_each_flavour() {
        let cnp = json!({"spec": {"endpointSelector": {}, "ingress": [{}]}});
        let n = normalize("cilium.io", "CiliumNetworkPolicy", "deny", &cnp).unwrap();
        assert_eq!(n.value["isolates"], json!(["Ingress"]));
        let off = json!({"spec": {"endpointSelector": {}, "ingress": [{}], "enableDefaultDeny": {"ingress": false}}});
        assert!(normalize("cilium.io", "CiliumNetworkPolicy", "x", &off).is_none());
        let host = json!({"spec": {"nodeSelector": {}, "ingress": [{}]}});
        assert!(normalize("cilium.io", "CiliumClusterwideNetworkPolicy", "h", &host).is_none());
        let calico = json!({"spec": {"selector": "all()", "types": ["Ingress", "Egress"]}});
        let n = normalize("projectcalico.org", "GlobalNetworkPolicy", "d", &calico).unwrap();
        assert!(!n.namespaced);
        assert_eq!(n.value["isolates"], json!(["Ingress", "Egress"]));
        assert_eq!(n.value["namespaces"], Value::Null);
    }
}
