//! `vigil verify`'s reading of a packet: the input is manifest.json of a packet folder that
//! also holds two small files (one listed in the seed manifests, one not).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn folder() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        std::fs::write(dir.path().join("findings.json"), b"{\"format\":\"x\"}\n")
            .unwrap_or_else(|e| panic!("write: {e}"));
        std::fs::create_dir_all(dir.path().join("evidence"))
            .unwrap_or_else(|e| panic!("mkdir: {e}"));
        std::fs::write(dir.path().join("evidence/a.csv"), b"a,b\n1,2\n")
            .unwrap_or_else(|e| panic!("write: {e}"));
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = folder().path();
    std::fs::write(dir.join("manifest.json"), data).unwrap_or_else(|e| panic!("write: {e}"));
    let _ = vigil::packet::verify(dir, None);
});
