//! Rebuild when the shipped packs or templates change: they are embedded in the binary.
fn main() {
    println!("cargo:rerun-if-changed=policies");
    println!("cargo:rerun-if-changed=report-templates");
}
