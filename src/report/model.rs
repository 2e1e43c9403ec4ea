//! The audit report's content, computed once and handed to both renderers (HTML via minijinja,
//! PDF via typst) so the two always say the same thing. Built from the findings model (so
//! redaction and waivers are already applied) and the world (names, response times).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::bundle::schema::{Dataset, col};
use crate::eval::model::{Finding, Status};
use crate::eval::world::World;
use crate::policy::load::EXPORT_INTEGRITY;
use crate::policy::model::{Check, Pack};
use crate::policy::severity::Severity;
use crate::report::charts::{self, BEST_IN_CLASS_SHARE, RISK_SHARE};
use crate::report::document::Document;
use crate::report::shown::{SHOWN_CHARS, shown};

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
    /// `as_of` as an instant (the PDF's dates).
    #[serde(skip)]
    pub as_of_time: DateTime<Utc>,
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
    /// Rules and metrics that took no record of a dataset that has records.
    pub run_warnings: Vec<String>,
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
    /// When findings cite sources of their own (a state's law), each source with its number of
    /// findings, in order of first appearance; empty when every finding cites the rule's text.
    pub cited: Vec<Count>,
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

fn effective(from: Option<NaiveDate>, to: Option<NaiveDate>) -> String {
    match (from, to) {
        (None, None) => "every date".into(),
        (Some(f), None) => format!("from {f}"),
        (None, Some(t)) => format!("up to {t}"),
        (Some(f), Some(t)) => format!("{f} to {t}"),
    }
}

/// An evidence value as a cell shows it: text as is, null as nothing, the rest as JSON.
fn evidence_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn evidence_row(f: &Finding) -> EvidenceRow {
    EvidenceRow {
        key: shown(&f.subject.key, SHOWN_CHARS),
        location: format!(
            "{}:{}",
            shown(&f.location.file, SHOWN_CHARS),
            f.location.line
        ),
        severity: f.severity.name().into(),
        status: f.status.name().into(),
        message: shown(&f.message, SHOWN_CHARS),
        values: f
            .evidence
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    shown(k, SHOWN_CHARS),
                    shown(&evidence_text(v), SHOWN_CHARS)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
            // A script's map may hold thousands of entries: the row shows the start of them.
            .chars()
            .take(EVIDENCE_CHARS)
            .collect(),
    }
}

fn severity_counts<'a>(findings: impl Iterator<Item = &'a Finding>) -> Vec<Count> {
    let mut counts: BTreeMap<Severity, u64> = BTreeMap::new();
    for f in findings {
        *counts.entry(f.severity).or_default() += 1;
    }
    Severity::ALL
        .iter()
        .map(|s| Count {
            label: s.name().into(),
            count: counts.get(s).copied().unwrap_or(0),
        })
        .collect()
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

/// "Within 30 s": a share's label with the threshold it used, from its metric's parameters.
fn threshold_label(doc: &Document<'_>, id: &str, lead: &str, tail: &str, unknown: &str) -> String {
    match doc.metric_parameter(id, "threshold_s") {
        Some(s) => format!("{lead} {} s{tail}", charts::seconds_label(s)),
        None => format!("{lead} the {unknown}{tail}"),
    }
}

fn kpis(doc: &Document<'_>, group: &[(&str, &str)]) -> Vec<Kpi> {
    let with = |extra: (&'static str, &'static str)| {
        let mut g: Vec<(&str, &str)> = group.to_vec();
        g.push(extra);
        g.sort();
        g
    };
    let m = |id: &str| doc.metric(id, group);
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
            label: threshold_label(doc, BEST_IN_CLASS_SHARE, "Within", "", "best-in-class time"),
            value: share(m(BEST_IN_CLASS_SHARE)),
            detail: "share of sessions (best in class, vendor benchmark)".into(),
        },
        Kpi {
            label: threshold_label(doc, RISK_SHARE, "Over", " or unmeasured", "risk time"),
            value: share(m(RISK_SHARE)),
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
            value: per_1000(
                doc.metric("reactions.per_1000", &with(("contrast_class", "iodinated"))),
            ),
            detail: "completed iodinated contrast exams".into(),
        },
        Kpi {
            label: "Reactions per 1,000 (gadolinium)".into(),
            value: per_1000(doc.metric(
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

/// The report's inputs beside the findings model: the world (names, dates of service,
/// response times), the packet id of the cover, and whether values are redacted.
pub struct ReportContext<'a> {
    pub world: &'a World,
    /// The `--as-of` instant `doc.as_of` was written from.
    pub as_of: DateTime<Utc>,
    pub packet_id: &'a str,
    pub redacted: bool,
}

/// Builds the report from the findings model (redaction and waivers already applied).
pub fn build(doc: &Document<'_>, ctx: &ReportContext<'_>) -> ReportModel {
    let findings = doc.findings();
    let mut by_facility: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        if let Some(fac) = &f.facility {
            by_facility.entry(fac).or_default().push(f);
        }
    }
    let failing_by_facility: BTreeMap<String, u64> = by_facility
        .iter()
        .map(|(k, v)| {
            let failing = v.iter().filter(|f| f.status == Status::Fail).count() as u64;
            ((*k).to_string(), failing)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let m = &doc.bundle.manifest;
    let organization = shown(&m.organization, SHOWN_CHARS);
    ReportModel {
        title: format!("Remote contrast supervision audit: {organization}"),
        organization,
        bundle_id: shown(&m.id, SHOWN_CHARS),
        period_start: m.period_start.to_string(),
        period_end: m.period_end.to_string(),
        as_of: doc.as_of.into(),
        as_of_time: ctx.as_of,
        packet_id: ctx.packet_id.into(),
        tool_version: doc.tool_version().into(),
        redacted: ctx.redacted,
        versions: versions_applied(doc, ctx.world),
        verdicts: verdicts(doc),
        severity_counts: severity_counts(findings.iter().filter(|f| f.status == Status::Fail)),
        total_findings: findings.len() as u64,
        waived_findings: findings
            .iter()
            .filter(|f| f.status == Status::Waived)
            .count() as u64,
        kpis: kpis(doc, &[]),
        charts: charts::build(doc, ctx.world, &failing_by_facility),
        rules: rule_sections(doc),
        facilities: facility_pages(doc, ctx, &by_facility),
        methodology: methodology(doc.packs),
        run_warnings: doc.warnings().iter().map(|w| w.message.clone()).collect(),
        appendix: appendix(doc),
    }
}

/// Versions applied and the dates of service each governed in this bundle.
fn versions_applied(doc: &Document<'_>, world: &World) -> Vec<VersionApplied> {
    let mut versions = Vec::new();
    for pack in doc.packs {
        for v in &pack.versions {
            let judged = doc
                .findings()
                .iter()
                .filter(|f| f.policy == pack.id && f.policy_version == v.version)
                .count();
            let governed = if pack.is_timeless() {
                "every record".to_string()
            } else {
                let mut dates = world
                    .exam_facts
                    .iter()
                    .take(world.bundle.table(Dataset::Exams).len())
                    .filter_map(|f| f.dos)
                    .filter(|d| v.covers(*d));
                match dates.next() {
                    Some(first) => {
                        let (a, b) = dates.fold((first, first), |(a, b), d| (a.min(d), b.max(d)));
                        format!("exams with dates of service {a} to {b}")
                    }
                    None => "no exam in this bundle".to_string(),
                }
            };
            versions.push(VersionApplied {
                pack: pack.id.clone(),
                version: v.version.clone(),
                title: v.title.clone(),
                effective: effective(v.effective_from, v.effective_to),
                governed,
                findings: judged as u64,
            });
        }
    }
    versions
}

/// Each pack's verdict: `fail` with a critical or high finding, `attention` with others.
fn verdicts(doc: &Document<'_>) -> Vec<PackVerdict> {
    doc.packs
        .iter()
        .map(|pack| {
            let counts = severity_counts(
                doc.findings()
                    .iter()
                    .filter(|f| f.policy == pack.id && f.status == Status::Fail),
            );
            let serious = counts
                .iter()
                .any(|c| (c.label == "critical" || c.label == "high") && c.count > 0);
            let any = counts.iter().any(|c| c.count > 0);
            PackVerdict {
                pack: pack.id.clone(),
                title: latest_title(pack),
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
                rules_evaluated: doc
                    .rules()
                    .iter()
                    .filter(|r| r.policy == pack.id)
                    .map(|r| r.evaluated)
                    .sum(),
            }
        })
        .collect()
}

fn latest_title(pack: &Pack) -> String {
    pack.versions
        .last()
        .map(|v| v.title.clone())
        .unwrap_or_default()
}

/// A section per rule summary, with its first findings as evidence.
fn rule_sections(doc: &Document<'_>) -> Vec<RuleSection> {
    let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in doc.findings() {
        by_rule.entry(&f.rule).or_default().push(f);
    }
    doc.rules()
        .iter()
        .map(|r| {
            let mine = by_rule
                .get(r.rule.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let rule = doc.packs.iter().find(|p| p.id == r.policy).and_then(|p| {
                p.versions
                    .iter()
                    .rev()
                    .find_map(|v| v.rules.iter().find(|x| x.id == r.rule))
            });
            let with_status = |s: Status| mine.iter().filter(|f| f.status == s).count() as u64;
            RuleSection {
                pack: r.policy.clone(),
                rule: r.rule.clone(),
                title: r.title.clone(),
                severity: r.severity.name().into(),
                citation: rule.map(|x| x.citation.clone()).unwrap_or_default(),
                cited: cited(mine, rule.map(|x| x.citation.as_str())),
                remediation: rule.map(|x| x.remediation.clone()).unwrap_or_default(),
                evaluated: r.evaluated,
                failed: with_status(Status::Fail),
                waived: with_status(Status::Waived),
                not_applicable: r.not_applicable,
                reasons: reason_rows(&r.reasons),
                evidence: mine
                    .iter()
                    .take(EVIDENCE_ROWS)
                    .map(|f| evidence_row(f))
                    .collect(),
                more: mine.len().saturating_sub(EVIDENCE_ROWS) as u64,
            }
        })
        .collect()
}

/// The most characters of a finding's evidence shown in one report row.
const EVIDENCE_CHARS: usize = 2000;

/// The most not-applicable reasons a rule's section lists; the rest are summed in one row.
const REASON_ROWS: usize = 50;

/// A rule's not-applicable reasons as report rows: shown like values (a script's reason may
/// quote record data), at most [`REASON_ROWS`] of them.
fn reason_rows(reasons: &BTreeMap<String, u64>) -> Vec<Count> {
    let mut rows: Vec<Count> = reasons
        .iter()
        .take(REASON_ROWS)
        .map(|(k, v)| Count {
            label: shown(k, SHOWN_CHARS),
            count: *v,
        })
        .collect();
    if reasons.len() > REASON_ROWS {
        rows.push(Count {
            label: format!("{} other reasons", reasons.len() - REASON_ROWS),
            count: reasons.values().skip(REASON_ROWS).sum(),
        });
    }
    rows
}

/// The sources a rule's findings cite besides the rule's own citation, with their counts.
fn cited(findings: &[&Finding], own: Option<&str>) -> Vec<Count> {
    if findings.iter().all(|f| Some(f.citation.as_str()) == own) {
        return Vec::new();
    }
    let mut out: Vec<Count> = Vec::new();
    for f in findings {
        match out.iter_mut().find(|c| c.label == f.citation) {
            Some(c) => c.count += 1,
            None => out.push(Count {
                label: f.citation.clone(),
                count: 1,
            }),
        }
    }
    // A script's citation may quote record data: shown like any value.
    for c in &mut out {
        c.label = shown(&c.label, SHOWN_CHARS);
    }
    out
}

/// A page per facility (the first record of a repeated id), with its findings and KPIs.
fn facility_pages(
    doc: &Document<'_>,
    ctx: &ReportContext<'_>,
    by_facility: &BTreeMap<&str, Vec<&Finding>>,
) -> Vec<FacilityPage> {
    let mut seen = std::collections::BTreeSet::new();
    doc.bundle
        .table(Dataset::Facilities)
        .iter()
        .filter_map(|f| {
            let id = f.str(col::facility::ID)?;
            // A repeated facility id (DQ-002) gets one page, from its first record.
            if !seen.insert(id) {
                return None;
            }
            let mine = by_facility.get(id).map(Vec::as_slice).unwrap_or(&[]);
            let shown = |i: usize| -> String {
                shown(&f.get(i).display().unwrap_or_default(), SHOWN_CHARS)
            };
            Some(FacilityPage {
                id: crate::report::shown::shown(id, SHOWN_CHARS),
                name: if ctx.redacted {
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
        .collect()
}

/// What each pack checks: its versions with their parameters, its rules with their citations.
fn methodology(packs: &[Pack]) -> Vec<MethodPack> {
    packs
        .iter()
        .map(|pack| {
            let mut rules: BTreeMap<String, MethodRule> = BTreeMap::new();
            for v in &pack.versions {
                for r in &v.rules {
                    let entry = rules.entry(r.id.clone()).or_insert_with(|| MethodRule {
                        rule: r.id.clone(),
                        title: r.title.clone(),
                        severity: r.severity.name().into(),
                        dataset: if matches!(r.check, Check::Builtin(_)) {
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
                title: latest_title(pack),
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
                        effective: effective(v.effective_from, v.effective_to),
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
        .collect()
}

/// The bundle's files, record counts, ignored and absent datasets, and data-quality tallies.
fn appendix(doc: &Document<'_>) -> Appendix {
    let b = doc.bundle;
    Appendix {
        files: b
            .files
            .iter()
            .map(|f| AppendixFile {
                path: shown(&f.path, SHOWN_CHARS),
                dataset: f.dataset.name().into(),
                records: f.records as u64,
                sha256: f.sha256.clone(),
            })
            .collect(),
        datasets: doc
            .records_by_dataset()
            .into_iter()
            .map(|(k, v)| Count {
                label: k.into(),
                count: v as u64,
            })
            .collect(),
        ignored: b.ignored.iter().map(|n| shown(n, SHOWN_CHARS)).collect(),
        absent: b.absent.iter().map(|d| d.name().to_string()).collect(),
        data_quality: doc
            .rules()
            .iter()
            .filter(|r| r.policy == EXPORT_INTEGRITY)
            .map(|r| Count {
                label: format!("{} {}", r.rule, r.title),
                count: r.failed,
            })
            .collect(),
    }
}
