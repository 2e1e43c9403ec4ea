//! `vigil explain`: one rule in every pack that has it, with its parameters and what changed
//! from version to version, as data and as text.

use std::collections::BTreeSet;

use serde::Serialize;

use super::facts::{RuleFacts, describe_version, effective_range, join_and};
use super::model::{ParamRow, param_rows};
use crate::policy::model::Pack;

/// A rule explained: what it checks, why, its parameters and the versions holding it.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub rule: String,
    pub pack: String,
    pub pack_title: String,
    pub regulatory: bool,
    pub source: String,
    /// The rule as the latest version holding it has it.
    pub latest: RuleFacts,
    /// The parameters the rule reads in any version, with their values in every version.
    pub parameters: Vec<ParamRow>,
    pub versions: Vec<ExplainedVersion>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExplainedVersion {
    pub version: String,
    pub range: String,
    pub contains: bool,
    /// What changed in the rule since the previous version holding it.
    pub changes: Vec<crate::author::compare::Change>,
}

/// Every rule id of `packs`, for suggestions.
pub fn rule_ids(packs: &[Pack]) -> BTreeSet<String> {
    packs
        .iter()
        .flat_map(|p| p.versions.iter())
        .flat_map(|v| v.rules.iter().map(|r| r.id.clone()))
        .collect()
}

/// Explains `rule_id` in every pack that has it (exact id first, else ignoring case).
pub fn explain(packs: &[Pack], rule_id: &str) -> Vec<Explanation> {
    let ids = rule_ids(packs);
    let id = if ids.contains(rule_id) {
        rule_id.to_string()
    } else {
        match ids.iter().find(|i| i.eq_ignore_ascii_case(rule_id)) {
            Some(i) => i.clone(),
            None => return Vec::new(),
        }
    };
    packs.iter().filter_map(|p| explain_in(p, &id)).collect()
}

fn explain_in(pack: &Pack, id: &str) -> Option<Explanation> {
    let mut versions = Vec::new();
    let mut latest: Option<RuleFacts> = None;
    let mut used = BTreeSet::new();
    for v in &pack.versions {
        let facts = describe_version(v).into_iter().find(|r| r.id == id);
        let changes = match (&latest, &facts) {
            (Some(old), Some(new)) => crate::author::compare::rule_changes(old, new),
            _ => Vec::new(),
        };
        versions.push(ExplainedVersion {
            version: v.version.clone(),
            range: effective_range(v),
            contains: facts.is_some(),
            changes,
        });
        if let Some(f) = facts {
            used.extend(f.parameters.keys().cloned());
            latest = Some(f);
        }
    }
    let latest = latest?;
    let head = pack.versions.last()?;
    Some(Explanation {
        rule: id.to_string(),
        pack: pack.id.clone(),
        pack_title: head.title.clone(),
        regulatory: head.regulatory,
        source: pack.source.clone(),
        latest,
        parameters: param_rows(pack, Some(&used)),
        versions,
    })
}

/// `vigil explain` as text.
pub fn explain_text(e: &Explanation) -> String {
    let r = &e.latest;
    let mut out = String::new();
    let line = |out: &mut String, label: &str, value: &str| {
        out.push_str(format!("{label:<12} {value}").trim_end());
        out.push('\n');
    };
    line(&mut out, &r.id, &r.title);
    let regulatory = if e.regulatory {
        "regulatory"
    } else {
        "not regulatory"
    };
    line(
        &mut out,
        "pack",
        &format!("{} ({regulatory}): {}", e.pack, e.pack_title),
    );
    let severity = match &r.severity_by {
        Some(by) => format!("{}, {by}", r.severity),
        None => r.severity.clone(),
    };
    line(&mut out, "severity", &severity);
    line(&mut out, "dataset", &r.dataset);
    let scope = if r.dataset == "*" {
        "every record of every dataset".to_string()
    } else if r.when.is_empty() {
        format!("every record of `{}`", r.dataset)
    } else {
        format!("{} where {}", r.dataset, join_and(&r.when))
    };
    line(&mut out, "applies to", &scope);
    if !r.requires.is_empty() {
        let names: Vec<String> = r.requires.iter().map(|n| format!("`{n}`")).collect();
        line(
            &mut out,
            "requires",
            &format!("{} (otherwise not applicable)", join_and(&names)),
        );
    }
    line(
        &mut out,
        "checks",
        &format!("{}: {}", r.check.kind, r.check.summary),
    );
    if let Some(sha) = r.check.settings.get("sha256") {
        line(&mut out, "", &format!("script sha256 {sha}"));
    }
    // Built-in checks write their own messages; their template is a placeholder.
    if r.check.kind != "builtin" {
        line(&mut out, "message", &r.message);
    }
    if !r.evidence.is_empty() {
        line(&mut out, "evidence", &r.evidence.join(", "));
    }
    for a in &r.addenda {
        line(&mut out, "addendum", a);
    }
    line(&mut out, "why", &r.citation);
    line(&mut out, "remediation", &r.remediation);
    if e.parameters.is_empty() {
        line(&mut out, "parameters", "none");
    } else {
        out.push_str("parameters\n");
        for p in &e.parameters {
            out.push_str(&format!("  {:<28} {}\n", p.name, p.text()));
        }
    }
    out.push_str("versions\n");
    for v in &e.versions {
        let held = if v.contains {
            ""
        } else {
            "  (not in this version)"
        };
        out.push_str(&format!("  {:<10} {}{held}\n", v.version, v.range));
        for c in &v.changes {
            crate::author::compare::push_change(&mut out, c, "    ");
        }
    }
    out.push_str(&format!("source       {}\n", e.source));
    out
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use crate::policy::load::load_packs;

    #[test]
    fn sup003_reads_the_virtual_presence_parameters() {
        let packs = load_packs(&[]).unwrap();
        let e = explain(&packs, "sup-003");
        assert_eq!(e.len(), 1);
        let names: Vec<&str> = e[0].parameters.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["excluded_global_days", "virtual_presence_allowed"]);
        assert!(explain(&packs, "NOPE-1").is_empty());
    }
}
