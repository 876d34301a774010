//! Prints the bytecode (RVM) listing of rules, to see what a rule costs the VM per object:
//! `ONLY=slug cargo run --release --example rvm_listing`. `ONLY` and `POLICIES` are described in `examples/support/catalog.rs`.

#[path = "support/catalog.rs"]
mod support;
fn main() {
    let catalog = support::from_env();
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
