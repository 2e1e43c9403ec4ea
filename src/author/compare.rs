//! Comparing two pack versions: rules added, removed and changed (aspect by aspect, with the
//! parameter values they read), and the findings that appear or disappear on a bundle.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use crate::author::catalog::{RuleFacts, describe_version, effective_range, value_text};
use crate::eval::model::Finding;
use crate::eval::run::{EvalError, evaluate};
use crate::eval::world::World;
use crate::policy::error::suggestion;
use crate::policy::model::{Pack, PackVersion};

/// `PACK@VERSION` names no loaded pack version.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct LookupError {
    pub message: String,
    pub help: Option<String>,
}

/// Finds `PACK@VERSION` among `packs`, suggesting the nearest pack or version when unknown.
pub fn find_version<'a>(
    packs: &'a [Pack],
    spec: &str,
) -> Result<(&'a Pack, &'a Arc<PackVersion>), LookupError> {
    let pack_ids = || packs.iter().map(|p| p.id.as_str());
    let versions_of = |p: &Pack| {
        p.versions
            .iter()
            .map(|v| v.version.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some((pack_id, version)) = spec.split_once('@') else {
        let help = match packs.iter().find(|p| p.id == spec) {
            Some(p) => format!("versions of `{}`: {}", p.id, versions_of(p)),
            None => "e.g. `cms-direct-supervision@2.0.0`".into(),
        };
        return Err(LookupError {
            message: format!("`{spec}` is not PACK@VERSION"),
            help: Some(help),
        });
    };
    let pack = packs.iter().find(|p| p.id == pack_id).ok_or_else(|| {
        let known: Vec<&str> = pack_ids().collect();
        LookupError {
            message: format!("unknown pack `{pack_id}`"),
            help: suggestion(pack_id, pack_ids())
                .or_else(|| Some(format!("packs: {}", known.join(", ")))),
        }
    })?;
    let found = pack
        .versions
        .iter()
        .find(|v| v.version == version)
        .ok_or_else(|| {
            let versions = pack.versions.iter().map(|v| v.version.as_str());
            let listed = format!("versions of `{}`: {}", pack.id, versions_of(pack));
            LookupError {
                message: format!("pack `{}` has no version `{version}`", pack.id),
                help: Some(match suggestion(version, versions) {
                    Some(s) => format!("{s} ({listed})"),
                    None => listed,
                }),
            }
        })?;
    Ok((pack, found))
}

/// One aspect that differs: `severity: high → critical`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub aspect: String,
    /// `None` when the aspect was absent (an added parameter, no `severity_by`).
    pub old: Option<String>,
    pub new: Option<String>,
}

impl Change {
    fn new(aspect: impl Into<String>, old: Option<String>, new: Option<String>) -> Change {
        Change {
            aspect: aspect.into(),
            old,
            new,
        }
    }

    /// `aspect: old → new`, with `(none)` for an absent side.
    pub fn text(&self) -> String {
        let side = |s: &Option<String>| s.clone().unwrap_or_else(|| "(none)".into());
        format!("{}: {} → {}", self.aspect, side(&self.old), side(&self.new))
    }
}

/// What differs between two descriptions of a rule, aspect by aspect.
pub fn rule_changes(old: &RuleFacts, new: &RuleFacts) -> Vec<Change> {
    let mut out = Vec::new();
    let mut text = |aspect: &str, a: &str, b: &str| {
        if a != b {
            out.push(Change::new(aspect, Some(a.into()), Some(b.into())));
        }
    };
    text("title", &old.title, &new.title);
    text("severity", &old.severity, &new.severity);
    text("dataset", &old.dataset, &new.dataset);
    text("when", &list(&old.when), &list(&new.when));
    text("requires", &list(&old.requires), &list(&new.requires));
    text("check kind", &old.check.kind, &new.check.kind);
    text("message", &old.message, &new.message);
    text("evidence", &list(&old.evidence), &list(&new.evidence));
    text("citation", &old.citation, &new.citation);
    text("remediation", &old.remediation, &new.remediation);
    if old.severity_by != new.severity_by {
        out.push(Change::new(
            "severity_by",
            old.severity_by.clone(),
            new.severity_by.clone(),
        ));
    }
    if old.addenda != new.addenda {
        let some = |a: &[String]| (!a.is_empty()).then(|| a.join("; "));
        out.push(Change::new(
            "addenda",
            some(&old.addenda),
            some(&new.addenda),
        ));
    }
    out.extend(map_changes(
        "check",
        &old.check.settings,
        &new.check.settings,
        |s| s.clone(),
    ));
    out.extend(map_changes(
        "parameter",
        &old.parameters,
        &new.parameters,
        value_text,
    ));
    out
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".into()
    } else {
        items.join(", ")
    }
}

/// Keys added, removed or changed between two maps, as `prefix key` changes.
fn map_changes<V: PartialEq>(
    prefix: &str,
    old: &BTreeMap<String, V>,
    new: &BTreeMap<String, V>,
    show: impl Fn(&V) -> String,
) -> Vec<Change> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| {
            Change::new(
                format!("{prefix} {k}"),
                old.get(k).map(&show),
                new.get(k).map(&show),
            )
        })
        .collect()
}

/// A pack version named in a diff.
#[derive(Debug, Clone, Serialize)]
pub struct VersionRef {
    pub pack: String,
    pub version: String,
    pub range: String,
    pub path: String,
}

impl VersionRef {
    fn of(v: &PackVersion) -> VersionRef {
        VersionRef {
            pack: v.pack_id.clone(),
            version: v.version.clone(),
            range: effective_range(v),
            path: v.path.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleBrief {
    pub id: String,
    pub title: String,
    pub severity: String,
}

impl RuleBrief {
    fn of(r: &RuleFacts) -> RuleBrief {
        RuleBrief {
            id: r.id.clone(),
            title: r.title.clone(),
            severity: r.severity.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleChange {
    pub id: String,
    pub title: String,
    pub changes: Vec<Change>,
}

/// What differs between two pack versions.
#[derive(Debug, Clone, Serialize)]
pub struct PackDiff {
    pub old: VersionRef,
    pub new: VersionRef,
    /// Title, description, dates of service, regulatory status, citations, metrics.
    pub pack: Vec<Change>,
    /// Parameters added, removed or changed (values as JSON text).
    pub parameters: Vec<Change>,
    pub added: Vec<RuleBrief>,
    pub removed: Vec<RuleBrief>,
    pub changed: Vec<RuleChange>,
    pub unchanged: Vec<String>,
    /// Findings that appear or disappear on a bundle, with `--impact`.
    pub impact: Option<Impact>,
}

/// Compares two versions (usually of one pack), rules matched by id.
pub fn diff_versions(old: &PackVersion, new: &PackVersion) -> PackDiff {
    let old_rules = describe_version(old);
    let new_rules = describe_version(new);
    let mut diff = PackDiff {
        old: VersionRef::of(old),
        new: VersionRef::of(new),
        pack: header_changes(old, new),
        parameters: map_changes(
            "parameter",
            &json_params(old),
            &json_params(new),
            value_text,
        ),
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
        unchanged: Vec::new(),
        impact: None,
    };
    for c in &mut diff.parameters {
        c.aspect = c.aspect.trim_start_matches("parameter ").to_string();
    }
    for o in &old_rules {
        match new_rules.iter().find(|n| n.id == o.id) {
            None => diff.removed.push(RuleBrief::of(o)),
            Some(n) => {
                let changes = rule_changes(o, n);
                if changes.is_empty() {
                    diff.unchanged.push(o.id.clone());
                } else {
                    diff.changed.push(RuleChange {
                        id: n.id.clone(),
                        title: n.title.clone(),
                        changes,
                    });
                }
            }
        }
    }
    for n in &new_rules {
        if !old_rules.iter().any(|o| o.id == n.id) {
            diff.added.push(RuleBrief::of(n));
        }
    }
    diff
}

fn json_params(v: &PackVersion) -> BTreeMap<String, serde_json::Value> {
    v.parameters
        .iter()
        .map(|(k, v)| (k.clone(), crate::author::catalog::toml_to_json(v)))
        .collect()
}

fn header_changes(old: &PackVersion, new: &PackVersion) -> Vec<Change> {
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string());
    let mut out = Vec::new();
    let mut push = |aspect: &str, a: Option<String>, b: Option<String>| {
        if a != b {
            out.push(Change::new(aspect, a, b));
        }
    };
    push("pack", Some(old.pack_id.clone()), Some(new.pack_id.clone()));
    push("title", Some(old.title.clone()), Some(new.title.clone()));
    push(
        "description",
        old.description.clone(),
        new.description.clone(),
    );
    push(
        "effective_from",
        date(old.effective_from),
        date(new.effective_from),
    );
    push(
        "effective_to",
        date(old.effective_to),
        date(new.effective_to),
    );
    push(
        "regulatory",
        Some(old.regulatory.to_string()),
        Some(new.regulatory.to_string()),
    );
    let joined = |l: &[String]| (!l.is_empty()).then(|| l.join("; "));
    push("citations", joined(&old.citations), joined(&new.citations));
    let ids = |v: &PackVersion| {
        v.declared_metrics
            .iter()
            .map(|m| m.id.clone())
            .collect::<Vec<_>>()
    };
    push("metrics", joined(&ids(old)), joined(&ids(new)));
    out
}

/// Findings that appear or disappear when `new` judges the bundle instead of `old`.
#[derive(Debug, Clone, Serialize)]
pub struct Impact {
    pub bundle: String,
    /// Findings under each version, every record judged by it whatever its date.
    pub old_findings: usize,
    pub new_findings: usize,
    pub appear: Vec<FindingBrief>,
    pub disappear: Vec<FindingBrief>,
    /// Findings under both (same rule, subject and evidence).
    pub unchanged: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingBrief {
    pub id: String,
    pub rule: String,
    pub severity: String,
    pub dataset: String,
    pub key: String,
    /// `file:line`.
    pub location: String,
    pub message: String,
}

impl FindingBrief {
    fn of(f: &Finding) -> FindingBrief {
        FindingBrief {
            id: f.id.clone(),
            rule: f.rule.clone(),
            severity: f.severity.name().into(),
            dataset: f.subject.dataset.clone(),
            key: f.subject.key.clone(),
            location: format!("{}:{}", f.location.file, f.location.line),
            message: f.message.clone(),
        }
    }
}

/// `old`'s pack with `new` in `old`'s place, for the dates `old` governs.
fn in_place(pack: &Pack, old: &PackVersion, new: &PackVersion) -> Pack {
    let mut swapped = new.clone();
    swapped.effective_from = old.effective_from;
    swapped.effective_to = old.effective_to;
    Pack {
        id: pack.id.clone(),
        source: pack.source.clone(),
        versions: pack
            .versions
            .iter()
            .map(|v| {
                if v.version == old.version {
                    Arc::new(swapped.clone())
                } else {
                    v.clone()
                }
            })
            .collect(),
        replaces: None,
    }
}

/// What replacing `old` by `new` changes on `world`: each record is judged by the version of
/// `old`'s pack in effect on its date of service, before and after `new` takes `old`'s dates (a
/// record another version governs is judged alike on both sides). Findings are matched by id
/// (rule, subject and evidence; the id does not include the version).
pub fn impact(
    world: &Arc<World>,
    bundle: &str,
    old: (&Pack, &PackVersion),
    new: (&Pack, &PackVersion),
) -> Result<Impact, EvalError> {
    let before = evaluate(world, std::slice::from_ref(old.0))?.findings;
    let after = evaluate(world, &[in_place(old.0, old.1, new.1)])?.findings;
    let ids = |fs: &[Finding]| fs.iter().map(|f| f.id.clone()).collect::<BTreeSet<_>>();
    let (before_ids, after_ids) = (ids(&before), ids(&after));
    Ok(Impact {
        bundle: bundle.to_string(),
        old_findings: before.len(),
        new_findings: after.len(),
        appear: after
            .iter()
            .filter(|f| !before_ids.contains(&f.id))
            .map(FindingBrief::of)
            .collect(),
        disappear: before
            .iter()
            .filter(|f| !after_ids.contains(&f.id))
            .map(FindingBrief::of)
            .collect(),
        unchanged: after.iter().filter(|f| before_ids.contains(&f.id)).count(),
    })
}

/// `vigil policy diff` as text.
pub fn diff_text(d: &PackDiff) -> String {
    let mut out = format!(
        "{}@{} ({}) → {}@{} ({})\n",
        d.old.pack, d.old.version, d.old.range, d.new.pack, d.new.version, d.new.range
    );
    let section = |out: &mut String, title: &str, changes: &[Change], indent: &str| {
        if changes.is_empty() {
            return;
        }
        out.push_str(&format!("\n{title}\n"));
        for c in changes {
            push_change(out, c, indent);
        }
    };
    section(&mut out, "pack", &d.pack, "  ");
    section(&mut out, "parameters", &d.parameters, "  ");
    out.push_str(&format!(
        "\nrules: {} added, {} removed, {} changed, {} unchanged\n",
        d.added.len(),
        d.removed.len(),
        d.changed.len(),
        d.unchanged.len()
    ));
    for r in &d.added {
        out.push_str(&format!("  + {}  {} [{}]\n", r.id, r.title, r.severity));
    }
    for r in &d.removed {
        out.push_str(&format!("  - {}  {} [{}]\n", r.id, r.title, r.severity));
    }
    for r in &d.changed {
        out.push_str(&format!("  ~ {}  {}\n", r.id, r.title));
        for c in &r.changes {
            push_change(&mut out, c, "      ");
        }
    }
    if let Some(i) = &d.impact {
        out.push_str(&format!(
            "\nimpact on {}: {} findings under {}, {} under {} ({} appear, {} disappear, {} in both)\n",
            i.bundle,
            i.old_findings,
            d.old.version,
            i.new_findings,
            d.new.version,
            i.appear.len(),
            i.disappear.len(),
            i.unchanged
        ));
        for (sign, list) in [("+", &i.appear), ("-", &i.disappear)] {
            for f in list {
                out.push_str(&format!(
                    "  {sign} {:<8} {:<9} {} {}  {}\n",
                    f.severity, f.rule, f.location, f.key, f.message
                ));
            }
        }
    }
    out
}

/// One change: on one line when short, else old and new on lines of their own.
pub fn push_change(out: &mut String, c: &Change, indent: &str) {
    let side = |s: &Option<String>| s.clone().unwrap_or_else(|| "(none)".into());
    let (old, new) = (side(&c.old), side(&c.new));
    if old.chars().count() + new.chars().count() <= 80 {
        out.push_str(&format!("{indent}{}: {old} → {new}\n", c.aspect));
    } else {
        out.push_str(&format!(
            "{indent}{}:\n{indent}  - {old}\n{indent}  + {new}\n",
            c.aspect
        ));
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use crate::policy::load::load_packs;

    #[test]
    fn cms_3_excludes_global_days_and_adds_addenda() {
        let packs = load_packs(&[]).unwrap();
        let (_, old) = find_version(&packs, "cms-direct-supervision@2.0.0").unwrap();
        let (_, new) = find_version(&packs, "cms-direct-supervision@3.0.0").unwrap();
        let d = diff_versions(old, new);
        let p = d
            .parameters
            .iter()
            .find(|c| c.aspect == "excluded_global_days")
            .unwrap();
        assert_eq!(p.old.as_deref(), Some("[]"));
        assert_eq!(p.new.as_deref(), Some(r#"["010","090"]"#));
        assert!(d.added.is_empty() && d.removed.is_empty());
        let sup003 = d.changed.iter().find(|r| r.id == "SUP-003").unwrap();
        let aspects: Vec<&str> = sup003.changes.iter().map(|c| c.aspect.as_str()).collect();
        assert_eq!(aspects, ["addenda", "parameter excluded_global_days"]);
    }

    #[test]
    fn unknown_versions_and_packs_suggest() {
        let packs = load_packs(&[]).unwrap();
        let e = find_version(&packs, "cms-direct-supervision@3.0.1").unwrap_err();
        assert!(e.help.unwrap().contains("1.0.0, 2.0.0, 3.0.0"));
        let e = find_version(&packs, "cms-direct-supervison@3.0.0").unwrap_err();
        assert_eq!(
            e.help.as_deref(),
            Some("did you mean `cms-direct-supervision`?")
        );
        assert!(find_version(&packs, "cms-direct-supervision").is_err());
    }
}
