//! Baselines: the findings of an earlier run, by stable id, so CI fails only on new ones; and
//! the comparison of two findings.json files behind `vigil diff`.
//!
//! A baseline is any findings.json (`format = "vigil.findings/1"`) written by `vigil check
//! --format json` or inside a packet. Findings are compared by `id` only (docs/outputs.md,
//! "Finding ids": the same rule, subject and evidence give the same id across runs), whatever
//! their status.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value as Json;

/// The format a baseline must declare.
pub const FINDINGS_FORMAT: &str = "vigil.findings/1";

/// A findings.json that cannot be used: unreadable, not JSON, or not `vigil.findings/1`.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read findings file `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not a findings.json: {reason}")]
    Invalid { path: String, reason: String },
}

/// The findings of a findings.json, in file order.
pub fn load_findings(path: &Path) -> Result<Vec<Json>, BaselineError> {
    let shown = path.display().to_string();
    let invalid = |reason: String| BaselineError::Invalid {
        path: shown.clone(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|source| BaselineError::Read {
        path: shown.clone(),
        source,
    })?;
    let doc: Json = serde_json::from_slice(&bytes).map_err(|e| invalid(format!("{e}")))?;
    match doc.get("format").and_then(Json::as_str) {
        Some(FINDINGS_FORMAT) => {}
        Some(other) => {
            return Err(invalid(format!(
                "its format is `{other}`, expected `{FINDINGS_FORMAT}` (write one with `vigil check --format json`)"
            )));
        }
        None => {
            return Err(invalid(format!(
                "it has no `format`, expected `{FINDINGS_FORMAT}` (write one with `vigil check --format json`)"
            )));
        }
    }
    let findings = doc
        .get("findings")
        .and_then(Json::as_array)
        .ok_or_else(|| invalid("it has no `findings` array".into()))?;
    for (i, f) in findings.iter().enumerate() {
        if f.get("id").and_then(Json::as_str).is_none() {
            return Err(invalid(format!("finding {} has no string `id`", i + 1)));
        }
    }
    Ok(findings.clone())
}

/// The ids of the findings of a findings.json.
/// The `bundle.id` a findings file was written for, when it says.
pub fn bundle_id(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let doc: Json = serde_json::from_slice(&bytes).ok()?;
    doc.get("bundle")?.get("id")?.as_str().map(String::from)
}

pub fn load_ids(path: &Path) -> Result<BTreeSet<String>, BaselineError> {
    // Only failing findings are accepted history: a finding that was waived when the baseline
    // was written must fail again once its waiver expires.
    Ok(load_findings(path)?
        .iter()
        .filter(|f| f.get("status").and_then(Json::as_str) != Some("waived"))
        .filter_map(id)
        .map(String::from)
        .collect())
}

fn id(f: &Json) -> Option<&str> {
    f.get("id").and_then(Json::as_str)
}

/// Two findings files compared by id; each list keeps its file's order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Diff {
    /// In NEW, not in OLD.
    pub new: Vec<Json>,
    /// In OLD, not in NEW.
    pub resolved: Vec<Json>,
    /// In both, as NEW has them (their status may have changed).
    pub persisting: Vec<Json>,
}

pub fn diff(old: &[Json], new: &[Json]) -> Diff {
    let old_ids: BTreeSet<&str> = old.iter().filter_map(id).collect();
    let new_ids: BTreeSet<&str> = new.iter().filter_map(id).collect();
    let (persisting, fresh): (Vec<&Json>, Vec<&Json>) = new
        .iter()
        .partition(|f| id(f).is_some_and(|i| old_ids.contains(i)));
    Diff {
        new: fresh.into_iter().cloned().collect(),
        resolved: old
            .iter()
            .filter(|f| id(f).is_some_and(|i| !new_ids.contains(i)))
            .cloned()
            .collect(),
        persisting: persisting.into_iter().cloned().collect(),
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compares_by_id() {
        let old = vec![json!({"id": "a"}), json!({"id": "b"})];
        let new = vec![json!({"id": "b", "status": "waived"}), json!({"id": "c"})];
        let d = diff(&old, &new);
        assert_eq!(d.new, vec![json!({"id": "c"})]);
        assert_eq!(d.resolved, vec![json!({"id": "a"})]);
        assert_eq!(d.persisting, vec![json!({"id": "b", "status": "waived"})]);
    }

    #[test]
    fn rejects_other_formats() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("diff.json");
        std::fs::write(&path, r#"{"format": "vigil.diff/1", "findings": []}"#).unwrap();
        let e = load_ids(&path).unwrap_err().to_string();
        assert!(e.contains("format is `vigil.diff/1`"), "{e}");
        std::fs::write(
            &path,
            r#"{"format": "vigil.findings/1", "findings": [{"id": "x"}]}"#,
        )
        .unwrap();
        assert_eq!(load_ids(&path).unwrap(), BTreeSet::from(["x".to_string()]));
        std::fs::write(&path, "not json").unwrap();
        assert!(
            load_ids(&path)
                .unwrap_err()
                .to_string()
                .contains("is not a findings.json")
        );
    }
}
