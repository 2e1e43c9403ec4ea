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
    use rayon::prelude::*;
    findings.sort_by_key(|f| (f.file_order, f.location.line));
    // What each id hashes but the occurrence number, in parallel; the numbers in walk order.
    let bases: Vec<String> = findings
        .par_iter()
        .map(|f| {
            let evidence = serde_json::to_string(&f.evidence).unwrap_or_default();
            format!(
                "{}\n{}\n{}\n{}",
                f.rule, f.subject.dataset, f.subject.key, evidence
            )
        })
        .collect();
    let mut seen: HashMap<&str, u64> = HashMap::with_capacity(bases.len());
    let occurrences: Vec<u64> = bases
        .iter()
        .map(|basis| {
            let n = seen.entry(basis.as_str()).or_insert(0);
            *n += 1;
            *n - 1
        })
        .collect();
    findings
        .par_iter_mut()
        .zip(bases.par_iter().zip(occurrences.par_iter()))
        .for_each(|(f, (basis, n))| {
            f.id = sha256_hex(format!("{basis}\n{n}").as_bytes())[..16].to_string();
        });
    drop(seen);
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
    // The report order, each finding's tiebreak computed once.
    let tiebreaks: Vec<String> = findings.par_iter().map(tiebreak).collect();
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.par_sort_by(|&a, &b| {
        let (fa, fb) = (&findings[a], &findings[b]);
        (
            fa.severity,
            &fa.rule,
            fa.file_order,
            fa.location.line,
            &fa.subject.key,
            &tiebreaks[a],
            &fa.id,
        )
            .cmp(&(
                fb.severity,
                &fb.rule,
                fb.file_order,
                fb.location.line,
                &fb.subject.key,
                &tiebreaks[b],
                &fb.id,
            ))
    });
    apply_order(findings, order);
}

/// Puts `items` in `order`: slot `i` gets the item at `order[i]` (a permutation of the
/// indexes), following each cycle of the permutation with swaps.
fn apply_order<T>(items: &mut [T], mut order: Vec<usize>) {
    const DONE: usize = usize::MAX;
    for start in 0..order.len() {
        let mut at = start;
        loop {
            let from = std::mem::replace(&mut order[at], DONE);
            if from == DONE || from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::apply_order;

    #[test]
    fn apply_order_moves_each_item_to_its_slot() {
        let orders: [&[usize]; 5] = [&[], &[0], &[2, 0, 1], &[1, 0, 3, 2, 4], &[5, 4, 3, 2, 1, 0]];
        for order in orders {
            let mut items: Vec<usize> = (0..order.len()).map(|i| i * 10).collect();
            apply_order(&mut items, order.to_vec());
            let want: Vec<usize> = order.iter().map(|i| i * 10).collect();
            assert_eq!(items, want, "{order:?}");
        }
    }
}
