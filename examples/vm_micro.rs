use std::time::Instant;
fn main() {
    let lib = std::fs::read_to_string("policies/lib/k8s.rego").unwrap();
    let rule = std::env::var("RULE").map(|r| format!("package posture.rules.pod_security.privileged_container\nimport rego.v1\nimport data.posture.lib.k8s\n{r}\n")).unwrap_or_else(|_| std::fs::read_to_string("policies/rules/pod_security/privileged_container.rego").unwrap());
    let mut e = regorus::Engine::new();
    e.add_policy("k8s.rego".into(), lib).unwrap();
    e.add_policy("r.rego".into(), rule).unwrap();
    let copies: usize = std::env::var("COPIES").ok().and_then(|c| c.parse().ok()).unwrap_or(1);
    let r = std::env::var("COPYRULE").map(|r| format!("package posture.rules.pod_security.privileged_container\nimport rego.v1\nimport data.posture.lib.k8s\n{r}\n")).unwrap_or_else(|_| std::fs::read_to_string("policies/rules/pod_security/privileged_container.rego").unwrap());
    let mut plan = String::from("plan_0 := {\"0\": data.posture.rules.pod_security.privileged_container.deny");
    for i in 1..copies {
        e.add_policy(format!("c{i}.rego"), r.replace("package posture.rules.pod_security.privileged_container", &format!("package copy{i}"))).unwrap();
        plan.push_str(&format!(",\n\"{i}\": data.copy{i}.deny"));
    }
    plan.push_str("}\n");
    e.add_policy("d.rego".into(), format!("package posture.dispatch\nimport rego.v1\nwarm_up := true\n{plan}trivial := {{\"0\": 1}}\n")).unwrap();
    e.add_data(regorus::Value::from_json_str(r#"{"inventory": {}}"#).unwrap()).unwrap();
    let text = std::fs::read_to_string("fixtures/ratings/ratings-api.yaml").unwrap();
    let c = posture::collect::manifests::load_text(std::path::Path::new("x.yaml"), &text);
    let obj = c.resources[0].object.clone();
    let n = 5000;
    let t = Instant::now();
    for _ in 0..n { let _v = regorus::Value::from(obj.clone()); }
    println!("convert {:?}/obj", t.elapsed() / n);
    let policy = e.compile_with_entrypoint(&"data.posture.dispatch.warm_up".into()).unwrap();
    let program = regorus::languages::rego::compiler::Compiler::compile_from_policy(&policy, &["data.posture.dispatch.plan_0", "data.posture.dispatch.trivial"]).unwrap();
    let mut vm = regorus::rvm::RegoVM::new_with_policy(policy.clone());
    vm.load_program(program.clone());
    vm.set_data(regorus::Value::from_json_str(r#"{"inventory": {}}"#).unwrap()).unwrap();
    let input = regorus::Value::from(obj.clone());
    for entry in ["data.posture.dispatch.trivial", "data.posture.dispatch.plan_0"] {
        let t = Instant::now();
        for _ in 0..n { vm.set_input(input.clone()); let _ = vm.execute_entry_point_by_name(entry).unwrap(); }
        println!("{entry} vm {:?}/obj", t.elapsed() / n);
    }
    let t = Instant::now();
    for _ in 0..n { let mut vm = regorus::rvm::RegoVM::new_with_policy(policy.clone()); vm.load_program(program.clone()); }
    println!("vm new {:?}", t.elapsed() / n);
    e.set_input(input.clone());
    let t = Instant::now();
    for _ in 0..n { e.set_input(input.clone()); let _ = e.eval_rule("data.posture.dispatch.plan_0".into()).unwrap(); }
    println!("interp {:?}/obj", t.elapsed() / n);
}
