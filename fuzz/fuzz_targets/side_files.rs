//! The files beside a bundle: a waivers file (checked against the built-in packs' rule ids), a
//! baseline findings.json (loaded, its ids, and diffed against itself), and bundle.toml. The
//! first byte picks which.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vigil::bundle::manifest::Manifest;
use vigil::policy::load::load_packs;
use vigil::policy::model::Pack;

fn folder() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}")))
}

fn packs() -> &'static [Pack] {
    static PACKS: OnceLock<Vec<Pack>> = OnceLock::new();
    PACKS.get_or_init(|| load_packs(&[]).unwrap_or_else(|e| panic!("built-in packs: {e}")))
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let file = folder().path().join("input");
    std::fs::write(&file, bytes).unwrap_or_else(|e| panic!("write: {e}"));
    match pick % 3 {
        0 => {
            let _ = vigil::waiver::load(&file, packs());
        }
        1 => {
            let _ = vigil::baseline::bundle_id(&file);
            let _ = vigil::baseline::load_ids(&file);
            if let Ok(findings) = vigil::baseline::load_findings(&file) {
                let diff = vigil::baseline::diff(&findings, &findings);
                assert!(diff.new.is_empty(), "a baseline diffed against itself has new findings");
            }
        }
        _ => {
            if let Ok(text) = std::str::from_utf8(bytes) {
                let _ = Manifest::parse(text, Path::new("bundle.toml"));
            }
        }
    }
});
