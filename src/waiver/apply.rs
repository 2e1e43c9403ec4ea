//! Judging waivers at `--as-of`: marking covered findings `waived`, and reporting expired
//! (WAIVER-001) and unmatched (WAIVER-002) waivers as findings of the `waivers` pseudo pack.

use chrono::NaiveDate;
use serde_json::{Map, Value as Json};

use crate::eval::model::{AppliedWaiver, Finding, Location, RuleSummary, Status, Subject};
use crate::eval::run::{Evaluation, finish_ids};
use crate::policy::severity::Severity;
use crate::waiver::file::Waiver;
use crate::waiver::{WAIVER_EXPIRED, WAIVER_UNMATCHED, Waivers};

/// Where a waiver stands on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// `created` is after the date: the waiver did not exist yet.
    NotYetInForce,
    InForce,
    /// The date is after `expires`.
    Expired,
}

impl Waiver {
    /// In force from `created` (inclusive) through the whole `expires` day.
    pub fn standing(&self, today: NaiveDate) -> Standing {
        if self.created.is_some_and(|c| today < c) {
            Standing::NotYetInForce
        } else if today > self.expires {
            Standing::Expired
        } else {
            Standing::InForce
        }
    }

    /// The `waiver` of a finding it covers.
    fn applied(&self, file: &str) -> AppliedWaiver {
        AppliedWaiver {
            file: file.into(),
            line: self.line,
            rule: self.rule.clone(),
            subject: self.subject.clone(),
            facility: self.facility.clone(),
            dos_from: self.dos_from.map(|d| d.to_string()),
            dos_to: self.dos_to.map(|d| d.to_string()),
            justification: self.justification.clone(),
            approver: self.approver.clone(),
            ticket: self.ticket.clone(),
            created: self.created.map(|d| d.to_string()),
            expires: self.expires.to_string(),
        }
    }

    /// How findings name it: its ticket, else `file:line`.
    fn name(&self, file: &str) -> String {
        self.ticket
            .clone()
            .unwrap_or_else(|| format!("{file}:{}", self.line))
    }
}

/// Marks the findings covered by a waiver in force `waived`, adds WAIVER-001/002 findings and
/// their rule summaries, and recomputes ids and order.
pub fn apply(waivers: &Waivers, eval: &mut Evaluation, today: NaiveDate) {
    let mut matched = vec![0u64; waivers.waivers.len()];
    for finding in eval
        .findings
        .iter_mut()
        .filter(|f| f.status == Status::Fail)
    {
        let mut winner: Option<usize> = None;
        for (i, w) in waivers.waivers.iter().enumerate() {
            if w.standing(today) == Standing::NotYetInForce || !covers(w, finding) {
                continue;
            }
            matched[i] += 1;
            if winner.is_none() && w.standing(today) == Standing::InForce {
                winner = Some(i);
            }
        }
        if let Some(w) = winner.and_then(|i| waivers.waivers.get(i)) {
            finding.status = Status::Waived;
            finding.waiver = Some(w.applied(&waivers.path));
        }
    }
    let mut expired = summary(WAIVER_EXPIRED, "Expired waiver still matches findings");
    let mut unmatched = summary(WAIVER_UNMATCHED, "Waiver matches no finding");
    for (w, &n) in waivers.waivers.iter().zip(&matched) {
        match w.standing(today) {
            Standing::NotYetInForce => {
                for s in [&mut expired, &mut unmatched] {
                    s.not_applicable += 1;
                    *s.reasons.entry("created after --as-of".into()).or_default() += 1;
                }
                continue;
            }
            Standing::InForce | Standing::Expired => {
                expired.evaluated += 1;
                unmatched.evaluated += 1;
            }
        }
        let file = waivers.path.as_str();
        let (rule, message) = if n == 0 {
            (
                WAIVER_UNMATCHED,
                format!(
                    "waiver `{}` for `{}` on `{}` (expires {}) matches no finding: {}; remove it or correct it",
                    w.name(file),
                    w.rule,
                    w.subject,
                    w.expires,
                    why_unmatched(w, &eval.findings)
                ),
            )
        } else if w.standing(today) == Standing::Expired {
            (
                WAIVER_EXPIRED,
                format!(
                    "waiver `{}` for `{}` on `{}` expired on {} and still matches {n} finding{}, which fail again; renew it or fix them",
                    w.name(file),
                    w.rule,
                    w.subject,
                    w.expires,
                    if n == 1 { "" } else { "s" }
                ),
            )
        } else {
            continue;
        };
        if rule == WAIVER_UNMATCHED {
            unmatched.failed += 1;
        } else {
            expired.failed += 1;
        }
        eval.findings.push(waiver_finding(w, file, rule, message));
    }
    eval.rules.push(expired);
    eval.rules.push(unmatched);
    finish_ids(&mut eval.findings);
}

fn summary(rule: &str, title: &str) -> RuleSummary {
    RuleSummary {
        rule: rule.into(),
        policy: super::PSEUDO_PACK.into(),
        title: title.into(),
        severity: Severity::Low,
        ..RuleSummary::default()
    }
}

fn waiver_finding(w: &Waiver, file: &str, rule: &str, message: String) -> Finding {
    let mut evidence = Map::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            evidence.insert(k.into(), Json::String(v));
        }
    };
    put("rule", Some(w.rule.clone()));
    put("subject", Some(w.subject.clone()));
    put("facility", w.facility.clone());
    put("dos_from", w.dos_from.map(|d| d.to_string()));
    put("dos_to", w.dos_to.map(|d| d.to_string()));
    put("justification", Some(w.justification.clone()));
    put("approver", Some(w.approver.clone()));
    put("ticket", w.ticket.clone());
    put("created", w.created.map(|d| d.to_string()));
    put("expires", Some(w.expires.to_string()));
    Finding {
        id: String::new(),
        rule: rule.into(),
        policy: super::PSEUDO_PACK.into(),
        policy_version: super::PSEUDO_PACK_VERSION.into(),
        severity: Severity::Low,
        status: Status::Fail,
        subject: Subject {
            dataset: super::PSEUDO_PACK.into(),
            key: w.name(file),
        },
        location: Location {
            file: file.into(),
            line: u32::try_from(w.line).unwrap_or(u32::MAX),
        },
        message,
        evidence,
        citation: String::new(),
        remediation: if rule == WAIVER_EXPIRED {
            "renew the waiver with a new expiry and approval, or correct the findings it covered"
                .into()
        } else {
            "remove the waiver, or correct its rule, subject, facility or date range".into()
        },
        waiver: None,
        // After every bundle file: the waivers file is not part of the bundle.
        file_order: u32::MAX,
        record: None,
        facility: None,
        dos: None,
    }
}

/// Whether waiver `w` covers `f` (rule, subject glob, facility, date of service).
/// Which of a waiver's criteria left no finding, narrowing in the order rule, subject, facility,
/// dates of service.
fn why_unmatched(w: &Waiver, findings: &[Finding]) -> String {
    let of_rule: Vec<&Finding> = findings.iter().filter(|f| f.rule == w.rule).collect();
    if of_rule.is_empty() {
        return format!("rule `{}` has no finding in this run", w.rule);
    }
    let of_subject: Vec<&&Finding> = of_rule
        .iter()
        .filter(|f| w.matcher.is_match(&f.subject.key))
        .collect();
    if of_subject.is_empty() {
        return format!(
            "rule `{}` has {} finding(s), none on a subject matching `{}`",
            w.rule,
            of_rule.len(),
            w.subject
        );
    }
    let at_facility: Vec<&&&Finding> = of_subject
        .iter()
        .filter(|f| {
            w.facility
                .as_deref()
                .is_none_or(|id| f.facility.as_deref() == Some(id))
        })
        .collect();
    if at_facility.is_empty() {
        return format!(
            "{} finding(s) of `{}` on `{}`, none at facility `{}`",
            of_subject.len(),
            w.rule,
            w.subject,
            w.facility.as_deref().unwrap_or_default()
        );
    }
    let range = |d: Option<NaiveDate>| d.map_or_else(|| "..".to_string(), |d| d.to_string());
    format!(
        "{} finding(s) of `{}` on `{}`{}, none with a date of service from {} to {}",
        at_facility.len(),
        w.rule,
        w.subject,
        w.facility
            .as_deref()
            .map(|f| format!(" at `{f}`"))
            .unwrap_or_default(),
        range(w.dos_from),
        range(w.dos_to)
    )
}

fn covers(w: &Waiver, f: &Finding) -> bool {
    if f.rule != w.rule || !w.matcher.is_match(&f.subject.key) {
        return false;
    }
    if let Some(facility) = &w.facility
        && f.facility.as_deref() != Some(facility.as_str())
    {
        return false;
    }
    if w.dos_from.is_some() || w.dos_to.is_some() {
        let Some(dos) = f.dos else {
            return false;
        };
        if w.dos_from.is_some_and(|from| dos < from) || w.dos_to.is_some_and(|to| dos > to) {
            return false;
        }
    }
    true
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use crate::waiver::file::parse;

    #[test]
    fn in_force_from_created_through_the_expiry_day() {
        let text = "[[waiver]]\nrule = \"SUP-002\"\nsubject = \"*\"\njustification = \"j\"\napprover = \"a\"\ncreated = 2026-02-03\nexpires = 2026-06-30\n";
        let rules = ["SUP-002".to_string()].into_iter().collect();
        let w = parse(text, "w.toml", &rules).unwrap().remove(0);
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        assert_eq!(w.standing(day(2, 2)), Standing::NotYetInForce);
        assert_eq!(w.standing(day(2, 3)), Standing::InForce);
        assert_eq!(w.standing(day(6, 30)), Standing::InForce);
        assert_eq!(w.standing(day(7, 1)), Standing::Expired);
    }
}
