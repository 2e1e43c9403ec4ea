//! inputs.json: every file the packet was computed from, with its sha256 and size.

use serde::Serialize;

/// One input of an audit: a bundle file, a policy TOML, a Rhai script, a report template or a
/// reference table. `path` is relative to the bundle with `/`, or `builtin:...` when shipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputEntry {
    /// `bundle`, `policy`, `script`, `template` or `reference`.
    pub kind: &'static str,
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// inputs.json: a JSON array of `{kind, path, sha256, bytes}` sorted by kind then path (exact
/// duplicates, e.g. one script used by two versions, written once), pretty-printed with a
/// trailing newline.
pub fn inputs_json(entries: &[InputEntry]) -> Vec<u8> {
    let mut sorted: Vec<&InputEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| {
        (a.kind, &a.path, &a.sha256, a.bytes).cmp(&(b.kind, &b.path, &b.sha256, b.bytes))
    });
    sorted.dedup();
    super::pretty_json(&sorted)
}
