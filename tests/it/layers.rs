//! The architecture as a test: every module of `src/` uses only the layers below it, and no
//! source file holds more than 800 lines before its unit tests (docs/architecture.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::common::root;

/// Each top-level module of the library and the modules it may use. The order is the layering,
/// lowest first: a module may use only modules listed before it.
const LAYERS: &[(&str, &[&str])] = &[
    ("digest", &[]),
    ("suggest", &[]),
    // Counters for the terminal's progress line: the readers and the engine add to them.
    ("progress", &[]),
    ("bundle", &["digest", "suggest", "progress"]),
    ("reference", &["bundle", "digest", "suggest"]),
    ("generate", &["bundle", "digest", "suggest"]),
    ("policy", &["bundle", "digest", "suggest"]),
    (
        "eval",
        &["bundle", "policy", "digest", "suggest", "progress"],
    ),
    ("report", &["bundle", "policy", "eval", "digest", "suggest"]),
    ("waiver", &["bundle", "policy", "eval", "digest", "suggest"]),
    (
        "baseline",
        &["bundle", "policy", "eval", "digest", "suggest"],
    ),
    (
        "packet",
        &["bundle", "policy", "eval", "report", "digest", "suggest"],
    ),
    (
        "author",
        &[
            "bundle", "policy", "eval", "report", "waiver", "digest", "suggest",
        ],
    ),
];

/// The most lines a source file may have before its `#[cfg(test)]` unit tests.
const MAX_LINES: usize = 800;

/// Source files below `dir`, as (path relative to src/, text).
fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root().join("src")).unwrap();
            let rel = rel.to_string_lossy().replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// The text of a file before its unit tests (a trailing `#[cfg(test)]` module); test-only
/// files (`tests.rs`, files under a `tests/` folder) have none.
fn before_tests(rel: &str, text: &str) -> Option<String> {
    if rel.ends_with("/tests.rs") || rel.contains("/tests/") {
        return None;
    }
    Some(text.split("#[cfg(test)]").next().unwrap_or("").to_string())
}

/// The top-level modules a piece of code names with `crate::X` (in paths and `use crate::{..}`).
fn uses(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name = ident(part.trim());
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

#[test]
fn modules_use_only_the_layers_below_them() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = LAYERS
        .iter()
        .map(|(m, deps)| (*m, deps.iter().copied().collect()))
        .collect();
    // The table itself is a layering: each module may use only modules listed before it.
    for (i, (module, deps)) in LAYERS.iter().enumerate() {
        let below: BTreeSet<&str> = LAYERS[..i].iter().map(|(m, _)| *m).collect();
        for d in *deps {
            assert!(
                below.contains(d),
                "`{module}` may use `{d}`, which is not below it"
            );
        }
    }
    let mut files = Vec::new();
    sources(&root().join("src"), &mut files);
    let mut broken = Vec::new();
    for (rel, text) in &files {
        let Some(code) = before_tests(rel, text) else {
            continue;
        };
        let module = rel.split('/').next().unwrap().trim_end_matches(".rs");
        let Some(may) = allowed.get(module) else {
            // lib.rs, main.rs and the command line (which uses `vigil::`, not `crate::`).
            assert!(
                ["lib", "main", "cli"].contains(&module),
                "`src/{rel}`: module `{module}` has no place in the layers; add it to LAYERS"
            );
            continue;
        };
        for used in uses(&code) {
            if used != module && !may.contains(used.as_str()) {
                broken.push(format!("src/{rel}: `{module}` uses `{used}`"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports that break the layering:\n{}",
        broken.join("\n")
    );
}

#[test]
fn no_source_file_is_over_800_lines_before_its_tests() {
    let mut files = Vec::new();
    sources(&root().join("src"), &mut files);
    let large: Vec<String> = files
        .iter()
        .filter_map(|(rel, text)| {
            let lines = before_tests(rel, text)?.lines().count();
            (lines > MAX_LINES).then(|| format!("src/{rel}: {lines} lines"))
        })
        .collect();
    assert!(
        large.is_empty(),
        "files over {MAX_LINES} lines:\n{}",
        large.join("\n")
    );
}

#[test]
fn the_import_reader_sees_paths_and_groups() {
    let code = "use crate::bundle::Bundle;\nuse crate::{digest, policy::model::Pack};\nlet x = crate::eval::run::evaluate(w);";
    let found: Vec<String> = uses(code).into_iter().collect();
    assert_eq!(found, ["bundle", "digest", "eval", "policy"]);
}
