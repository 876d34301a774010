//! Prints the bytecode (RVM) listing of rules, to see what a rule costs the VM per object:
//! `ONLY=slug cargo run --release --example rvm_listing`. `ONLY` and `POLICIES` are as in `examples/timing.rs`.
fn main() {
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
    let mut engine = regorus::Engine::new();
    for s in catalog
        .libraries
        .iter()
        .chain(catalog.rules.iter().map(|r| &r.source))
    {
        engine.add_policy(s.path.clone(), s.text.clone()).unwrap();
    }
    let entries: Vec<String> = catalog.rules.iter().map(|r| r.entry_point()).collect();
    let first = entries.first().expect("ONLY matches at least one rule");
    let policy = engine
        .compile_with_entrypoint(&first.as_str().into())
        .unwrap();
    let refs: Vec<&str> = entries.iter().map(String::as_str).collect();
    let program =
        regorus::languages::rego::compiler::Compiler::compile_from_policy(&policy, &refs).unwrap();
    print!(
        "{}",
        regorus::rvm::generate_assembly_listing(&program, &Default::default())
    );
}
