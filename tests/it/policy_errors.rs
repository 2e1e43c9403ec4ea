//! Data-driven: each `fixtures/cases/packs/NAME.toml` runs `vigil check BUNDLE --policies
//! fixtures/packs/NAME` (keys: `bundle`, default `custom_pack`; `policies`, default just that
//! pack; `stderr`, substrings; `max_seconds`, a time limit) and expects exit 2. A mistake found
//! at load (every case but `runtime = true`) is found before any record is read: the same run on
//! a bundle folder that does not exist gives the same error.

use std::time::{Duration, Instant};

use crate::common::{bundle, run};

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PackCase {
    #[serde(default)]
    bundle: Option<String>,
    #[serde(default)]
    policies: Option<Vec<String>>,
    stderr: Vec<String>,
    #[serde(default)]
    max_seconds: Option<u64>,
    /// The mistake shows only when records are judged (a script that never ends).
    #[serde(default)]
    runtime: bool,
}

#[test]
fn every_pack_case() {
    let dir = crate::common::root().join("fixtures/cases/packs");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let case: PackCase = toml::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let bundle = bundle(case.bundle.as_deref().unwrap_or("custom_pack"));
        let policies = case
            .policies
            .unwrap_or_else(|| vec![format!("fixtures/packs/{name}")]);
        let mut args = vec!["check".to_string(), bundle];
        for p in policies {
            args.push("--policies".into());
            args.push(p);
        }
        if !case.runtime {
            let mut no_bundle = args.clone();
            no_bundle[1] = "fixtures/bundles/no-such-bundle".into();
            let no_bundle: Vec<&str> = no_bundle.iter().map(String::as_str).collect();
            let r = run(&no_bundle);
            assert_eq!(r.code, 2, "{name}: {}", r.stderr);
            for s in &case.stderr {
                assert!(
                    r.stderr.contains(s.as_str()),
                    "{name}: without a bundle, stderr lacks `{s}`:\n{}",
                    r.stderr
                );
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let start = Instant::now();
        let r = run(&args);
        let took = start.elapsed();
        assert_eq!(r.code, 2, "{name}: stderr:\n{}", r.stderr);
        assert!(r.stdout.is_empty(), "{name}: output despite exit 2");
        for s in &case.stderr {
            assert!(
                r.stderr.contains(s.as_str()),
                "{name}: stderr lacks `{s}`:\n{}",
                r.stderr
            );
        }
        if let Some(max) = case.max_seconds {
            assert!(took < Duration::from_secs(max), "{name}: took {took:?}");
        }
        // Scripts run in parallel: which record hits the limit first may vary between runs.
        let stable: Vec<&str> = r
            .stderr
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("while judging ") {
                    "  while judging [RECORD]"
                } else {
                    l
                }
            })
            .collect();
        insta::assert_snapshot!(format!("pack_{name}"), stable.join("\n"));
        names.push(name);
    }
    names.sort();
    // every err_ pack folder has a case
    for entry in std::fs::read_dir(crate::common::root().join("fixtures/packs")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with("err_") {
            assert!(
                names.contains(&name),
                "fixtures/packs/{name} has no case file"
            );
        }
    }
    assert!(names.len() >= 10, "{names:?}");
}
