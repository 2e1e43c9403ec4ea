//! A run held in memory for the writers' tests: an empty bundle, no packs, and the findings,
//! rule summaries and metrics a test puts in.

use std::path::PathBuf;
use std::sync::Arc;

use crate::bundle::Bundle;
use crate::bundle::manifest::Manifest;
use crate::eval::model::{Finding, Location, Status, Subject};
use crate::eval::run::Evaluation;
use crate::policy::model::{Pack, PackVersion};
use crate::policy::severity::Severity;
use crate::report::document::Document;

pub const AS_OF: &str = "2026-04-02T00:00:00Z";

pub struct Run {
    pub bundle: Bundle,
    pub packs: Vec<Pack>,
    pub eval: Evaluation,
}

impl Run {
    pub fn new(findings: Vec<Finding>) -> Run {
        let manifest = Manifest {
            limits: Default::default(),
            id: "b".into(),
            organization: "o".into(),
            period_start: chrono::NaiveDate::default(),
            period_end: chrono::NaiveDate::default(),
            timezone_name: "UTC".into(),
            timezone: chrono_tz::UTC,
            source: None,
            exported_at: None,
            warnings: Vec::new(),
        };
        Run {
            bundle: Bundle {
                root: PathBuf::new(),
                manifest,
                files: Vec::new(),
                ignored: Vec::new(),
                absent: Vec::new(),
                tables: Vec::new(),
            },
            packs: Vec::new(),
            eval: Evaluation {
                findings,
                ..Evaluation::default()
            },
        }
    }

    pub fn doc(&self) -> Document<'_> {
        Document::new(AS_OF, &self.bundle, &self.packs, &self.eval)
    }
}

/// A failing finding of `rule` with empty text fields, to fill in with struct update.
pub fn finding(rule: &str) -> Finding {
    Finding {
        id: String::new(),
        rule: rule.into(),
        policy: String::new(),
        policy_version: String::new(),
        severity: Severity::Info,
        status: Status::Fail,
        subject: Subject {
            dataset: String::new(),
            key: String::new(),
        },
        location: Location {
            file: String::new(),
            line: 0,
        },
        message: String::new(),
        evidence: serde_json::Map::new(),
        citation: String::new(),
        remediation: String::new(),
        waiver: None,
        file_order: 0,
        record: None,
        facility: None,
        dos: None,
    }
}

/// A pack with one (empty) version per name in `versions`.
pub fn pack(id: &str, versions: &[&str]) -> Pack {
    let version = |v: &&str| {
        Arc::new(PackVersion {
            version_place: None,
            pack_id: id.into(),
            version: (*v).into(),
            title: String::new(),
            description: None,
            effective_from: None,
            effective_to: None,
            supersedes: None,
            regulatory: false,
            citations: Vec::new(),
            changelog: Vec::new(),
            path: String::new(),
            sha256: String::new(),
            bytes: 0,
            parameters: Default::default(),
            rules: Vec::new(),
            procedure_codes: None,
            scripts: Vec::new(),
            documentation: None,
            supervision_levels: None,
            declared_metrics: Vec::new(),
        })
    };
    Pack {
        id: id.into(),
        source: String::new(),
        versions: versions.iter().map(version).collect(),
        replaces: None,
    }
}
