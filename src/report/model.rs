//! The audit report's content, computed once and handed to both renderers (HTML via minijinja,
//! PDF via typst) so the two always say the same thing. Built from findings.json (so redaction
//! and waivers are already applied), the packs, and the world (names, response times).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value as Json;

use crate::bundle::schema::{Dataset, col};
use crate::eval::world::World;
use crate::policy::model::Pack;
use crate::report::charts;

/// How many evidence rows a rule shows before "N more in findings.csv".
pub const EVIDENCE_ROWS: usize = 25;
/// How many findings a facility page lists.
pub const FACILITY_ROWS: usize = 10;

#[derive(Debug, Clone, Serialize)]
pub struct ReportModel {
    pub title: String,
    pub organization: String,
    pub bundle_id: String,
    pub period_start: String,
    pub period_end: String,
    pub as_of: String,
    pub packet_id: String,
    pub tool_version: String,
    pub redacted: bool,
    pub versions: Vec<VersionApplied>,
    pub verdicts: Vec<PackVerdict>,
    pub severity_counts: Vec<Count>,
    pub total_findings: u64,
    pub waived_findings: u64,
    pub kpis: Vec<Kpi>,
    pub charts: Charts,
    pub rules: Vec<RuleSection>,
    pub facilities: Vec<FacilityPage>,
    pub methodology: Vec<MethodPack>,
    pub appendix: Appendix,
}

#[derive(Debug, Clone, Serialize)]
pub struct Count {
    pub label: String,
    pub count: u64,
}

/// A pack version applied in this run, with the dates of service it actually judged.
#[derive(Debug, Clone, Serialize)]
pub struct VersionApplied {
    pub pack: String,
    pub version: String,
    pub title: String,
    pub effective: String,
    pub governed: String,
    pub findings: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackVerdict {
    pub pack: String,
    pub title: String,
    pub regulatory: bool,
    /// `pass`, `attention` (only medium/low/info findings) or `fail` (critical or high).
    pub verdict: String,
    pub counts: Vec<Count>,
    pub rules_evaluated: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Kpi {
    pub label: String,
    pub value: String,
    pub detail: String,
}

/// Inline SVG documents, built by vigil (values escaped), ready to embed.
#[derive(Debug, Clone, Serialize)]
pub struct Charts {
    pub response_histogram: String,
    pub monthly_trend: String,
    pub facility_comparison: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleSection {
    pub pack: String,
    pub rule: String,
    pub title: String,
    pub severity: String,
    pub citation: String,
    pub remediation: String,
    pub evaluated: u64,
    pub failed: u64,
    pub waived: u64,
    pub not_applicable: u64,
    pub reasons: Vec<Count>,
    pub evidence: Vec<EvidenceRow>,
    pub more: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRow {
    pub key: String,
    pub location: String,
    pub severity: String,
    pub status: String,
    pub message: String,
    /// `name=value` pairs of the evidence, in key order.
    pub values: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FacilityPage {
    pub id: String,
    pub name: String,
    pub setting: String,
    pub state: String,
    pub virtual_go_live: String,
    pub counts: Vec<Count>,
    pub total: u64,
    pub kpis: Vec<Kpi>,
    pub findings: Vec<EvidenceRow>,
    pub more: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MethodPack {
    pub pack: String,
    pub title: String,
    pub regulatory: bool,
    pub citations: Vec<String>,
    pub versions: Vec<MethodVersion>,
    pub rules: Vec<MethodRule>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MethodVersion {
    pub version: String,
    pub effective: String,
    pub parameters: Vec<Count2>,
    pub sha256: String,
}

/// A name and a text value.
#[derive(Debug, Clone, Serialize)]
pub struct Count2 {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MethodRule {
    pub rule: String,
    pub title: String,
    pub severity: String,
    pub dataset: String,
    pub versions: String,
    pub citation: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Appendix {
    pub files: Vec<AppendixFile>,
    pub datasets: Vec<Count>,
    pub ignored: Vec<String>,
    pub absent: Vec<String>,
    pub data_quality: Vec<Count>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppendixFile {
    pub path: String,
    pub dataset: String,
    pub records: u64,
    pub sha256: String,
}

fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

fn effective(from: &Json, to: &Json) -> String {
    match (from.as_str(), to.as_str()) {
        (None, None) => "every date".into(),
        (Some(f), None) => format!("from {f}"),
        (None, Some(t)) => format!("up to {t}"),
        (Some(f), Some(t)) => format!("{f} to {t}"),
    }
}

fn evidence_row(f: &Json) -> EvidenceRow {
    let values = f["evidence"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", text(v)))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    EvidenceRow {
        key: text(&f["subject"]["key"]),
        location: format!(
            "{}:{}",
            text(&f["location"]["file"]),
            text(&f["location"]["line"])
        ),
        severity: text(&f["severity"]),
        status: text(&f["status"]),
        message: text(&f["message"]),
        values,
    }
}

const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

fn severity_counts<'a>(findings: impl Iterator<Item = &'a Json>) -> Vec<Count> {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for f in findings {
        if let Some(s) = f["severity"].as_str() {
            *counts.entry(s).or_default() += 1;
        }
    }
    SEVERITIES
        .iter()
        .map(|s| Count {
            label: (*s).into(),
            count: counts.get(s).copied().unwrap_or(0),
        })
        .collect()
}

/// A metric's overall value (group `{}`), or with `group` exactly.
fn metric(doc: &Json, id: &str, group: &[(&str, &str)]) -> Option<f64> {
    doc["metrics"].as_array()?.iter().find_map(|m| {
        let g = m["group"].as_object()?;
        let same = g.len() == group.len()
            && group
                .iter()
                .all(|(k, v)| g.get(*k).and_then(Json::as_str) == Some(*v));
        (m["id"] == id && same)
            .then(|| m["value"].as_f64())
            .flatten()
    })
}

fn seconds(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.1} s"))
        .unwrap_or_else(|| "n/a".into())
}

fn share(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "n/a".into())
}

fn per_1000(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.2}")).unwrap_or_else(|| "n/a".into())
}

fn kpis(doc: &Json, group: &[(&str, &str)]) -> Vec<Kpi> {
    let with = |extra: (&'static str, &'static str)| {
        let mut g: Vec<(&str, &str)> = group.to_vec();
        g.push(extra);
        g.sort();
        g
    };
    let m = |id: &str| metric(doc, id, group);
    vec![
        Kpi {
            label: "Response median".into(),
            value: seconds(m("response.median_s")),
            detail: "technologist request to supervisor join, measured sessions".into(),
        },
        Kpi {
            label: "Response p90".into(),
            value: seconds(m("response.p90_s")),
            detail: "90th percentile".into(),
        },
        Kpi {
            label: "Within 30 s".into(),
            value: share(m("response.share_within_30s")),
            detail: "share of sessions (best in class, vendor benchmark)".into(),
        },
        Kpi {
            label: "Over 90 s or unmeasured".into(),
            value: share(m("response.share_over_90s")),
            detail: "share of sessions (risk, vendor benchmark)".into(),
        },
        Kpi {
            label: "Unmeasured sessions".into(),
            value: m("response.unmeasured")
                .map(|v| format!("{v:.0}"))
                .unwrap_or_else(|| "n/a".into()),
            detail: "no join time recorded".into(),
        },
        Kpi {
            label: "Reactions per 1,000 (iodinated)".into(),
            value: per_1000(metric(
                doc,
                "reactions.per_1000",
                &with(("contrast_class", "iodinated")),
            )),
            detail: "completed iodinated contrast exams".into(),
        },
        Kpi {
            label: "Reactions per 1,000 (gadolinium)".into(),
            value: per_1000(metric(
                doc,
                "reactions.per_1000",
                &with(("contrast_class", "gadolinium")),
            )),
            detail: "completed gadolinium contrast exams".into(),
        },
        Kpi {
            label: "Documentation complete".into(),
            value: share(m("reactions.documentation_complete_share")),
            detail: "reactions passing RXN-002".into(),
        },
        Kpi {
            label: "Protocol adherence".into(),
            value: share(m("reactions.protocol_adherence_share")),
            detail: "emergency protocol steps completed".into(),
        },
        Kpi {
            label: "Cancellations before go-live".into(),
            value: share(m("cancellations.rate_before")),
            detail: format!(
                "for lack of coverage: {}",
                share(m("cancellations.coverage_gap_before"))
            ),
        },
        Kpi {
            label: "Cancellations after go-live".into(),
            value: share(m("cancellations.rate_after")),
            detail: format!(
                "for lack of coverage: {}",
                share(m("cancellations.coverage_gap_after"))
            ),
        },
    ]
}

/// Builds the report from findings.json (`doc`), the packs and the world.
pub fn build(
    doc: &Json,
    packs: &[Pack],
    world: &World,
    packet_id: &str,
    redacted: bool,
) -> ReportModel {
    let empty = Vec::new();
    let findings = doc["findings"].as_array().unwrap_or(&empty);
    let bundle = &doc["bundle"];
    let summary_rules = doc["summary"]["rules"].as_array().unwrap_or(&empty);

    // Versions applied and the dates of service each governed in this bundle.
    let mut versions = Vec::new();
    for pack in packs {
        for v in &pack.versions {
            let judged: Vec<&Json> = findings
                .iter()
                .filter(|f| {
                    f["policy"] == pack.id.as_str() && f["policy_version"] == v.version.as_str()
                })
                .collect();
            let mut dates: Vec<chrono::NaiveDate> = Vec::new();
            if !pack.is_timeless() {
                for (i, _) in world.bundle.table(Dataset::Exams).iter().enumerate() {
                    if let Some(d) = world.exam_facts.get(i).and_then(|f| f.dos)
                        && v.covers(d)
                    {
                        dates.push(d);
                    }
                }
            }
            let governed = match (dates.iter().min(), dates.iter().max()) {
                _ if pack.is_timeless() => "every record".to_string(),
                (Some(a), Some(b)) => format!("exams with dates of service {a} to {b}"),
                _ => "no exam in this bundle".to_string(),
            };
            versions.push(VersionApplied {
                pack: pack.id.clone(),
                version: v.version.clone(),
                title: v.title.clone(),
                effective: effective(
                    &v.effective_from.map(|d| d.to_string()).into(),
                    &v.effective_to.map(|d| d.to_string()).into(),
                ),
                governed,
                findings: judged.len() as u64,
            });
        }
    }

    let verdicts = packs
        .iter()
        .map(|pack| {
            let mine: Vec<&Json> = findings
                .iter()
                .filter(|f| f["policy"] == pack.id.as_str() && f["status"] == "fail")
                .collect();
            let counts = severity_counts(mine.iter().copied());
            let serious = counts
                .iter()
                .any(|c| (c.label == "critical" || c.label == "high") && c.count > 0);
            let any = counts.iter().any(|c| c.count > 0);
            PackVerdict {
                pack: pack.id.clone(),
                title: pack
                    .versions
                    .last()
                    .map(|v| v.title.clone())
                    .unwrap_or_default(),
                regulatory: pack.versions.iter().any(|v| v.regulatory),
                verdict: if serious {
                    "fail"
                } else if any {
                    "attention"
                } else {
                    "pass"
                }
                .into(),
                counts,
                rules_evaluated: summary_rules
                    .iter()
                    .filter(|r| r["policy"] == pack.id.as_str())
                    .map(|r| r["evaluated"].as_u64().unwrap_or(0))
                    .sum(),
            }
        })
        .collect();

    let rules = summary_rules
        .iter()
        .map(|r| {
            let id = text(&r["rule"]);
            let mine: Vec<&Json> = findings
                .iter()
                .filter(|f| f["rule"] == id.as_str())
                .collect();
            let pack = packs.iter().find(|p| p.id == text(&r["policy"]));
            let rule = pack.and_then(|p| {
                p.versions
                    .iter()
                    .rev()
                    .find_map(|v| v.rules.iter().find(|x| x.id == id))
            });
            RuleSection {
                pack: text(&r["policy"]),
                rule: id.clone(),
                title: text(&r["title"]),
                severity: text(&r["severity"]),
                citation: rule.map(|x| x.citation.clone()).unwrap_or_default(),
                remediation: rule.map(|x| x.remediation.clone()).unwrap_or_default(),
                evaluated: r["evaluated"].as_u64().unwrap_or(0),
                failed: mine.iter().filter(|f| f["status"] == "fail").count() as u64,
                waived: mine.iter().filter(|f| f["status"] == "waived").count() as u64,
                not_applicable: r["not_applicable"].as_u64().unwrap_or(0),
                reasons: r["reasons"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| Count {
                                label: k.clone(),
                                count: v.as_u64().unwrap_or(0),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                evidence: mine
                    .iter()
                    .take(EVIDENCE_ROWS)
                    .map(|f| evidence_row(f))
                    .collect(),
                more: mine.len().saturating_sub(EVIDENCE_ROWS) as u64,
            }
        })
        .collect();

    // Each finding's facility, found once.
    let mut by_facility: BTreeMap<String, Vec<&Json>> = BTreeMap::new();
    for f in findings {
        if let Some(fac) = facility_of(world, f) {
            by_facility.entry(fac).or_default().push(f);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    let facilities = world
        .bundle
        .table(Dataset::Facilities)
        .iter()
        .filter_map(|f| {
            let id = f.str(col::facility::ID)?;
            // A repeated facility id (DQ-002) gets one page, from its first record.
            if !seen.insert(id) {
                return None;
            }
            let mine: Vec<&Json> = by_facility.get(id).cloned().unwrap_or_default();
            let shown = |i: usize| -> String { f.get(i).display().unwrap_or_default() };
            Some(FacilityPage {
                id: id.to_string(),
                name: if redacted {
                    String::new()
                } else {
                    shown(col::facility::NAME)
                },
                setting: shown(col::facility::SETTING),
                state: shown(col::facility::STATE),
                virtual_go_live: shown(col::facility::VIRTUAL_GO_LIVE),
                counts: severity_counts(mine.iter().copied()),
                total: mine.len() as u64,
                kpis: kpis(doc, &[("facility_id", id)]),
                findings: mine
                    .iter()
                    .take(FACILITY_ROWS)
                    .map(|x| evidence_row(x))
                    .collect(),
                more: mine.len().saturating_sub(FACILITY_ROWS) as u64,
            })
        })
        .collect();

    let methodology = packs
        .iter()
        .map(|pack| {
            let mut rules: BTreeMap<String, MethodRule> = BTreeMap::new();
            for v in &pack.versions {
                for r in &v.rules {
                    let entry = rules.entry(r.id.clone()).or_insert_with(|| MethodRule {
                        rule: r.id.clone(),
                        title: r.title.clone(),
                        severity: r.severity.name().into(),
                        dataset: if matches!(r.check, crate::policy::model::Check::Builtin(_)) {
                            "every dataset".into()
                        } else {
                            r.dataset.name().into()
                        },
                        versions: String::new(),
                        citation: r.citation.clone(),
                    });
                    if !entry.versions.is_empty() {
                        entry.versions.push_str(", ");
                    }
                    entry.versions.push_str(&v.version);
                }
            }
            MethodPack {
                pack: pack.id.clone(),
                title: pack
                    .versions
                    .last()
                    .map(|v| v.title.clone())
                    .unwrap_or_default(),
                regulatory: pack.versions.iter().any(|v| v.regulatory),
                citations: pack
                    .versions
                    .last()
                    .map(|v| v.citations.clone())
                    .unwrap_or_default(),
                versions: pack
                    .versions
                    .iter()
                    .map(|v| MethodVersion {
                        version: v.version.clone(),
                        effective: effective(
                            &v.effective_from.map(|d| d.to_string()).into(),
                            &v.effective_to.map(|d| d.to_string()).into(),
                        ),
                        parameters: v
                            .parameters
                            .iter()
                            .map(|(k, val)| Count2 {
                                name: k.clone(),
                                value: val.to_string(),
                            })
                            .collect(),
                        sha256: v.sha256.clone(),
                    })
                    .collect(),
                rules: rules.into_values().collect(),
            }
        })
        .collect();

    let appendix = Appendix {
        files: bundle["files"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .map(|f| AppendixFile {
                path: text(&f["path"]),
                dataset: text(&f["dataset"]),
                records: f["records"].as_u64().unwrap_or(0),
                sha256: text(&f["sha256"]),
            })
            .collect(),
        datasets: doc["summary"]["records"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| Count {
                        label: k.clone(),
                        count: v.as_u64().unwrap_or(0),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        ignored: bundle["ignored"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .map(text)
            .collect(),
        absent: bundle["absent"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .map(text)
            .collect(),
        data_quality: summary_rules
            .iter()
            .filter(|r| r["policy"] == "export-integrity")
            .map(|r| Count {
                label: format!("{} {}", text(&r["rule"]), text(&r["title"])),
                count: r["failed"].as_u64().unwrap_or(0),
            })
            .collect(),
    };

    let failing: Vec<&Json> = findings.iter().filter(|f| f["status"] == "fail").collect();
    let failing_by_facility: BTreeMap<String, u64> = by_facility
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.iter().filter(|f| f["status"] == "fail").count() as u64,
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    ReportModel {
        title: format!(
            "Remote contrast supervision audit: {}",
            text(&bundle["organization"])
        ),
        organization: text(&bundle["organization"]),
        bundle_id: text(&bundle["id"]),
        period_start: text(&bundle["period_start"]),
        period_end: text(&bundle["period_end"]),
        as_of: text(&doc["as_of"]),
        packet_id: packet_id.into(),
        tool_version: text(&doc["tool"]["version"]),
        redacted,
        versions,
        verdicts,
        severity_counts: severity_counts(failing.iter().copied()),
        total_findings: findings.len() as u64,
        waived_findings: findings.iter().filter(|f| f["status"] == "waived").count() as u64,
        kpis: kpis(doc, &[]),
        charts: charts::build(doc, world, &failing_by_facility),
        rules,
        facilities,
        methodology,
        appendix,
    }
}

/// The facility a finding belongs to: its record's facility (an exam's, a session's, a
/// reaction's exam's), or the facility itself for aggregate findings.
pub fn facility_of(world: &World, finding: &Json) -> Option<String> {
    let key = finding["subject"]["key"].as_str()?;
    let dataset = Dataset::from_name(finding["subject"]["dataset"].as_str()?)?;
    match dataset {
        Dataset::Facilities => Some(key.to_string()),
        Dataset::Exams | Dataset::Sessions | Dataset::Coverage => {
            let idx = world.lookup(dataset, key)?;
            let field = match dataset {
                Dataset::Exams => col::exam::FACILITY_ID,
                Dataset::Sessions => col::session::FACILITY_ID,
                _ => col::coverage::FACILITY_ID,
            };
            world.record(dataset, idx)?.str(field).map(String::from)
        }
        Dataset::Reactions => {
            let idx = world.lookup(dataset, key)?;
            let exam = world.join(dataset, idx, crate::policy::fields::Join::Exam)?;
            world
                .record(Dataset::Exams, exam)?
                .str(col::exam::FACILITY_ID)
                .map(String::from)
        }
        Dataset::Practitioners | Dataset::ProcedureCodes => None,
    }
}
