//! The policy loader: a pack folder with one version file (TOML) and one script (Rhai), split
//! at the first `#--rhai--` line of the input, through every load-time check of the gate.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vigil::policy::load::{PackSource, load_pack};

const SPLIT: &[u8] = b"\n#--rhai--\n";

fn folder() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}")))
}

fuzz_target!(|data: &[u8]| {
    let (toml, rhai) = match data.windows(SPLIT.len()).position(|w| w == SPLIT) {
        Some(at) => (&data[..at], &data[at + SPLIT.len()..]),
        None => (data, &b""[..]),
    };
    let dir = folder().path();
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("write {name}: {e}"))
    };
    write("1.0.0.toml", toml);
    write("fuzz.rhai", rhai);
    let _ = load_pack(&PackSource::Disk(dir.to_path_buf()));
});
