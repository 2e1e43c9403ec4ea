//! Findings from failures: subject, location, message rendered from the rule's template, the
//! record's facility and date of service; then stable ids and report order.

use std::collections::HashMap;

use super::{Evidence, Said};
use crate::bundle::schema::Dataset;
use crate::bundle::value::Value;
use crate::digest::sha256_hex;
use crate::eval::condition;
use crate::eval::model::{Finding, Location, RecordRef, Status, Subject};
use crate::eval::quality::Observation;
use crate::eval::world::World;
use crate::policy::model::*;
use crate::policy::severity::Severity;

fn subject_key(world: &World, dataset: Dataset, idx: u32) -> (String, u32, u32) {
    let Some(r) = world.record(dataset, idx) else {
        return (String::new(), 0, 0);
    };
    let key = dataset
        .key_field()
        .and_then(|k| dataset.field_index(k))
        .and_then(|i| r.str(i))
        .map(String::from)
        .unwrap_or_else(|| format!("{}:{}", world.bundle.file_path(r.file), r.line));
    (key, r.file, r.line)
}

fn render(
    world: &World,
    rule: &Rule,
    version: &PackVersion,
    idx: u32,
    evidence: &Evidence,
) -> String {
    let mut out = String::new();
    for part in &rule.message.parts {
        match part {
            TemplatePart::Text(t) => out.push_str(t),
            TemplatePart::Field(f) => match &*world.value(rule.dataset, idx, *f) {
                Value::Invalid(raw) => out.push_str(raw),
                v => out.push_str(&v.display().unwrap_or_else(|| "(missing)".into())),
            },
            TemplatePart::Param(p) => out.push_str(
                &version
                    .parameters
                    .get(p)
                    .map(|v| match v {
                        toml::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .unwrap_or_default(),
            ),
            TemplatePart::Evidence(k) => match evidence.get(k) {
                Some(serde_json::Value::String(s)) => out.push_str(s),
                Some(serde_json::Value::Array(items)) => out.push_str(
                    &items
                        .iter()
                        .map(|i| {
                            i.as_str()
                                .map(String::from)
                                .unwrap_or_else(|| i.to_string())
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Some(v) => out.push_str(&v.to_string()),
                None => out.push_str("(missing)"),
            },
        }
    }
    out
}

fn severity_of(world: &World, rule: &Rule, idx: u32) -> Severity {
    rule.severity_by
        .as_ref()
        .and_then(|(field, map)| {
            let v = world.value(rule.dataset, idx, *field);
            map.get(v.as_str()?).copied()
        })
        .unwrap_or(rule.severity)
}

pub(super) fn rule_finding(
    world: &World,
    pack: &Pack,
    version: &PackVersion,
    rule: &Rule,
    idx: u32,
    evidence: Evidence,
    said: Said,
) -> Finding {
    let (key, file, line) = subject_key(world, rule.dataset, idx);
    let mut message = said
        .message
        .unwrap_or_else(|| render(world, rule, version, idx, &evidence));
    for (conditions, text) in &rule.addenda {
        let applies = conditions
            .iter()
            .all(|c| condition::holds_at(world, rule.dataset, idx, c) == Some(true));
        if applies {
            message.push_str(text);
        }
    }
    Finding {
        id: String::new(),
        rule: rule.id.clone(),
        policy: pack.id.clone(),
        policy_version: version.version.clone(),
        severity: severity_of(world, rule, idx),
        status: Status::Fail,
        subject: Subject {
            dataset: rule.dataset.name().into(),
            key,
        },
        location: Location {
            file: world.bundle.file_path(file).into(),
            line,
        },
        message,
        evidence,
        citation: said.citation.unwrap_or_else(|| rule.citation.clone()),
        remediation: rule.remediation.clone(),
        waiver: None,
        file_order: file,
        record: Some(RecordRef {
            dataset: rule.dataset,
            index: idx,
        }),
        facility: world.facility_id(rule.dataset, idx).map(String::from),
        dos: world.record_date(rule.dataset, idx),
    }
}

pub(super) fn quality_finding(
    world: &World,
    pack: &Pack,
    version: &PackVersion,
    rule: &Rule,
    obs: &Observation,
) -> Finding {
    let record = obs.record.and_then(|i| {
        Some(RecordRef {
            dataset: obs.dataset,
            index: u32::try_from(i).ok()?,
        })
    });
    Finding {
        id: String::new(),
        rule: rule.id.clone(),
        policy: pack.id.clone(),
        policy_version: version.version.clone(),
        severity: rule.severity,
        status: Status::Fail,
        subject: Subject {
            dataset: obs.dataset.name().into(),
            key: obs.key.clone(),
        },
        location: Location {
            file: world.bundle.file_path(obs.file).into(),
            line: obs.line,
        },
        message: obs.message.clone(),
        evidence: obs.evidence.clone(),
        citation: rule.citation.clone(),
        remediation: rule.remediation.clone(),
        waiver: None,
        file_order: obs.file,
        record,
        facility: record.and_then(|r| world.facility_id(r.dataset, r.index).map(String::from)),
        dos: record.and_then(|r| world.record_date(r.dataset, r.index)),
    }
}

/// Stable ids (docs/outputs.md, "Finding ids"): sha256 over rule, dataset, key, canonical
/// evidence and the occurrence number in walk order; then the report order ("Report order").
pub fn finish_ids(findings: &mut [Finding]) {
    findings.sort_by_key(|f| (f.file_order, f.location.line));
    let mut seen: HashMap<String, u64> = HashMap::new();
    for f in findings.iter_mut() {
        let evidence = serde_json::to_string(&f.evidence).unwrap_or_default();
        let basis = format!(
            "{}\n{}\n{}\n{}",
            f.rule, f.subject.dataset, f.subject.key, evidence
        );
        let n = seen.entry(basis.clone()).or_insert(0);
        f.id = sha256_hex(format!("{basis}\n{n}").as_bytes())[..16].to_string();
        *n += 1;
    }
    let tiebreak = |f: &Finding| -> String {
        f.evidence
            .get("field")
            .or_else(|| f.evidence.get("contrast_class"))
            .map(|v| {
                v.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default()
    };
    findings.sort_by(|a, b| {
        (
            a.severity,
            &a.rule,
            a.file_order,
            a.location.line,
            &a.subject.key,
            tiebreak(a),
            &a.id,
        )
            .cmp(&(
                b.severity,
                &b.rule,
                b.file_order,
                b.location.line,
                &b.subject.key,
                tiebreak(b),
                &b.id,
            ))
    });
}
