//! The catalogue model: every pack with its versions, parameters and rules, each rule merged
//! across the versions that hold it.

use std::collections::BTreeSet;

use serde::Serialize;

use super::facts::{RuleFacts, describe_version, effective_range, toml_to_json, value_text};
use crate::policy::model::{Pack, PackVersion};

/// The catalogue of every loaded pack, in pack id order.
#[derive(Debug, Clone, Serialize)]
pub struct Catalog {
    pub packs: Vec<PackEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackEntry {
    pub id: String,
    /// Title, description and regulatory status of the latest version.
    pub title: String,
    pub description: Option<String>,
    pub regulatory: bool,
    pub citations: Vec<String>,
    pub source: String,
    pub versions: Vec<VersionEntry>,
    pub parameters: Vec<ParamRow>,
    pub rules: Vec<RuleRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VersionEntry {
    pub version: String,
    pub effective_from: Option<String>,
    pub effective_to: Option<String>,
    /// `up to 2020-02-29`, `2020-03-01..2025-12-31`, `from 2026-01-01`, `every record`.
    pub range: String,
    pub supersedes: Option<String>,
    pub changelog: Vec<String>,
    pub path: String,
    pub sha256: String,
}

/// One parameter and its value in each version (`None` where a version lacks it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamRow {
    pub name: String,
    pub values: Vec<ParamValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamValue {
    pub version: String,
    pub value: Option<serde_json::Value>,
}

impl ParamRow {
    /// `1.0.0 false; 2.0.0, 3.0.0 true`, or just the value when every version agrees.
    pub fn text(&self) -> String {
        let texts: Vec<(String, String)> = self
            .values
            .iter()
            .map(|v| {
                let t = v.value.as_ref().map_or("(none)".into(), value_text);
                (v.version.clone(), t)
            })
            .collect();
        by_version(&texts)
    }
}

/// One rule across the versions of its pack.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRow {
    pub id: String,
    /// Each field is the latest version's value, or `1.0.0: a; 2.0.0: b` when versions differ.
    pub title: String,
    pub severity: String,
    pub dataset: String,
    pub check_kind: String,
    pub checks: String,
    pub citation: String,
    pub remediation: String,
    pub parameters: Vec<String>,
    pub versions: Vec<String>,
}

/// Merges per-version texts: `x` when all agree, else `1.0.0: x; 2.0.0, 3.0.0: y`.
pub fn by_version(texts: &[(String, String)]) -> String {
    let mut groups: Vec<(Vec<&str>, &str)> = Vec::new();
    for (version, text) in texts {
        match groups.last_mut() {
            Some((vs, t)) if *t == text.as_str() => vs.push(version),
            _ => groups.push((vec![version], text)),
        }
    }
    match groups.as_slice() {
        [(_, only)] => (*only).to_string(),
        _ => groups
            .iter()
            .map(|(vs, t)| format!("{}: {t}", vs.join(", ")))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// Builds the catalogue of `packs` (sorted by id).
pub fn catalog(packs: &[Pack]) -> Catalog {
    let mut packs: Vec<&Pack> = packs.iter().collect();
    packs.sort_by(|a, b| a.id.cmp(&b.id));
    Catalog {
        packs: packs.into_iter().filter_map(pack_entry).collect(),
    }
}

fn pack_entry(pack: &Pack) -> Option<PackEntry> {
    let latest = pack.versions.last()?;
    let facts: Vec<(String, Vec<RuleFacts>)> = pack
        .versions
        .iter()
        .map(|v| (v.version.clone(), describe_version(v)))
        .collect();
    let mut order: Vec<String> = Vec::new();
    for (_, rules) in &facts {
        for r in rules {
            if !order.contains(&r.id) {
                order.push(r.id.clone());
            }
        }
    }
    order.sort();
    let rules = order
        .iter()
        .map(|id| {
            let present: Vec<(&str, &RuleFacts)> = facts
                .iter()
                .filter_map(|(v, rs)| rs.iter().find(|r| &r.id == id).map(|r| (v.as_str(), r)))
                .collect();
            rule_row(id, &present)
        })
        .collect();
    Some(PackEntry {
        id: pack.id.clone(),
        title: latest.title.clone(),
        description: latest.description.clone(),
        regulatory: latest.regulatory,
        citations: latest.citations.clone(),
        source: pack.source.clone(),
        versions: pack.versions.iter().map(|v| version_entry(v)).collect(),
        parameters: param_rows(pack, None),
        rules,
    })
}

fn version_entry(v: &PackVersion) -> VersionEntry {
    VersionEntry {
        version: v.version.clone(),
        effective_from: v.effective_from.map(|d| d.to_string()),
        effective_to: v.effective_to.map(|d| d.to_string()),
        range: effective_range(v),
        supersedes: v.supersedes.clone(),
        changelog: v.changelog.clone(),
        path: v.path.clone(),
        sha256: v.sha256.clone(),
    }
}

/// The parameters of `pack` (only `names` when given), with values in each version.
pub(super) fn param_rows(pack: &Pack, names: Option<&BTreeSet<String>>) -> Vec<ParamRow> {
    let all: BTreeSet<&String> = pack
        .versions
        .iter()
        .flat_map(|v| v.parameters.keys())
        .filter(|n| names.is_none_or(|names| names.contains(*n)))
        .collect();
    all.into_iter()
        .map(|name| ParamRow {
            name: name.clone(),
            values: pack
                .versions
                .iter()
                .map(|v| ParamValue {
                    version: v.version.clone(),
                    value: v.parameters.get(name).map(toml_to_json),
                })
                .collect(),
        })
        .collect()
}

fn rule_row(id: &str, present: &[(&str, &RuleFacts)]) -> RuleRow {
    let merged = |f: &dyn Fn(&RuleFacts) -> String| {
        let texts: Vec<(String, String)> = present
            .iter()
            .map(|(v, r)| ((*v).to_string(), f(r)))
            .collect();
        by_version(&texts)
    };
    let parameters: BTreeSet<String> = present
        .iter()
        .flat_map(|(_, r)| r.parameters.keys().cloned())
        .collect();
    RuleRow {
        id: id.to_string(),
        title: merged(&|r| r.title.clone()),
        severity: merged(&|r| match &r.severity_by {
            Some(by) => format!("{} ({by})", r.severity),
            None => r.severity.clone(),
        }),
        dataset: merged(&|r| r.dataset.clone()),
        check_kind: merged(&|r| r.check.kind.clone()),
        checks: merged(&|r| r.check.summary.clone()),
        citation: merged(&|r| r.citation.clone()),
        remediation: merged(&|r| r.remediation.clone()),
        parameters: parameters.into_iter().collect(),
        versions: present.iter().map(|(v, _)| (*v).to_string()).collect(),
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use crate::policy::load::load_packs;

    #[test]
    fn merges_equal_texts_by_version() {
        let t = |v: &str, s: &str| (v.to_string(), s.to_string());
        assert_eq!(by_version(&[t("1", "a"), t("2", "a")]), "a");
        assert_eq!(
            by_version(&[t("1", "a"), t("2", "b"), t("3", "b")]),
            "1: a; 2, 3: b"
        );
    }

    #[test]
    fn compare_check_names_its_parameter() {
        let packs = load_packs(&[]).unwrap();
        let cat = catalog(&packs);
        let all: Vec<&RuleRow> = cat.packs.iter().flat_map(|p| p.rules.iter()).collect();
        assert_eq!(all.len(), 30);
        let ben002 = all.iter().find(|r| r.id == "BEN-002").unwrap();
        assert!(!ben002.parameters.is_empty(), "{ben002:?}");
    }
}
