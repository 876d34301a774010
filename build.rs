// The policies and benchmarks are embedded with include_dir!, which cannot tell cargo to watch them on stable.
fn main() {
    println!("cargo:rerun-if-changed=policies");
    println!("cargo:rerun-if-changed=benchmarks");
}
