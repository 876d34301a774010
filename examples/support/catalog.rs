//! The rule catalog the examples run, chosen by the environment (shared by `timing` and
//! `rvm_listing`; included with `#[path]`, since examples are separate crates).
//!
//! - `POLICIES=DIR` reads the built-in rules from DIR (e.g. `policies`) instead of the copy
//!   embedded in the binary.
//! - `ONLY=group,slug,id` keeps the rules whose group, slug or id is listed.

pub fn from_env() -> posture::policy::Catalog {
    let mut catalog = match std::env::var_os("POLICIES") {
        Some(dir) => posture::policy::Catalog::builtin_from_dir(dir.as_ref()).unwrap(),
        None => posture::scan::load_catalog(&[]).unwrap(),
    };
    if let Ok(only) = std::env::var("ONLY") {
        let ids: Vec<&str> = only.split(',').collect();
        catalog.rules.retain(|r| {
            ids.iter()
                .any(|i| r.id == *i || r.slug == *i || r.group == *i)
        });
    }
    catalog
}
