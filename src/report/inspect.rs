//! `vigil inspect`: what an export holds, from typed records only (no rule is evaluated).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::bundle::schema::Dataset;
use crate::bundle::value::Value;
use crate::bundle::{Bundle, ZoneLookup};
use crate::report::shown::{SHOWN_CHARS, shown};

#[derive(Debug, Serialize)]
pub struct Inspection {
    pub format: &'static str,
    pub bundle: BundleInfo,
    pub datasets: Vec<DatasetInfo>,
    pub ignored: Vec<String>,
    pub absent: Vec<&'static str>,
    pub records: usize,
}

#[derive(Debug, Serialize)]
pub struct BundleInfo {
    pub id: String,
    pub organization: String,
    pub period_start: String,
    pub period_end: String,
    pub timezone: String,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct DatasetInfo {
    pub dataset: &'static str,
    pub records: usize,
    pub files: Vec<FileInfo>,
    /// Earliest and latest date of service (exams only).
    pub dos_first: Option<String>,
    pub dos_last: Option<String>,
    /// field -> values present but unparseable.
    pub unparseable: BTreeMap<&'static str, u64>,
    /// field -> naive local times in a DST gap or overlap.
    pub no_instant: BTreeMap<&'static str, u64>,
    /// field -> required values missing (unconditionally required fields only).
    pub missing_required: BTreeMap<&'static str, u64>,
    pub unreadable_lines: u64,
}

#[derive(Debug, Serialize)]
pub struct FileInfo {
    pub path: String,
    pub format: String,
    pub gzip: bool,
    pub bytes: u64,
    pub records: usize,
    pub unreadable_lines: usize,
}

pub fn inspect(bundle: &Bundle) -> Inspection {
    let zones = ZoneLookup::new(bundle);
    let datasets = Dataset::ALL
        .iter()
        .filter(|d| !bundle.absent.contains(d))
        .map(|&d| {
            let fields = d.fields();
            let mut unparseable = BTreeMap::new();
            let mut no_instant = BTreeMap::new();
            let mut missing_required = BTreeMap::new();
            for r in bundle.table(d) {
                for (i, f) in fields.iter().enumerate() {
                    let v = r.get(i);
                    match v {
                        Value::Invalid(_) => *unparseable.entry(f.name).or_insert(0) += 1,
                        Value::NoInstant(..) => *no_instant.entry(f.name).or_insert(0) += 1,
                        Value::Missing if f.required == crate::bundle::schema::Required::Always => {
                            *missing_required.entry(f.name).or_insert(0) += 1
                        }
                        _ => {}
                    }
                }
            }
            let (mut first, mut last) = (None, None);
            if d == Dataset::Exams {
                for r in bundle.table(d) {
                    if let Some(dos) = crate::eval::dos::exam_dos(r, &zones) {
                        first = Some(first.map_or(dos, |f: chrono::NaiveDate| f.min(dos)));
                        last = Some(last.map_or(dos, |l: chrono::NaiveDate| l.max(dos)));
                    }
                }
            }
            let files: Vec<FileInfo> = bundle
                .files
                .iter()
                .filter(|f| f.dataset == d)
                .map(|f| FileInfo {
                    path: f.path.clone(),
                    format: format!("{:?}", f.format).to_lowercase(),
                    gzip: f.gzip,
                    bytes: f.bytes,
                    records: f.records,
                    unreadable_lines: f.problems.len(),
                })
                .collect();
            DatasetInfo {
                dataset: d.name(),
                records: bundle.table(d).len(),
                unreadable_lines: files.iter().map(|f| f.unreadable_lines as u64).sum(),
                files,
                dos_first: first.map(|d| d.to_string()),
                dos_last: last.map(|d| d.to_string()),
                unparseable,
                no_instant,
                missing_required,
            }
        })
        .collect();
    let m = &bundle.manifest;
    Inspection {
        format: "vigil.inspect/1",
        bundle: BundleInfo {
            id: m.id.clone(),
            organization: m.organization.clone(),
            period_start: m.period_start.to_string(),
            period_end: m.period_end.to_string(),
            timezone: m.timezone_name.clone(),
            warnings: m.warnings.clone(),
        },
        datasets,
        ignored: bundle.ignored.clone(),
        absent: bundle.absent.iter().map(|d| d.name()).collect(),
        records: bundle.record_count(),
    }
}

pub fn inspect_text(i: &Inspection) -> String {
    let mut out = String::new();
    let b = &i.bundle;
    let _ = writeln!(
        out,
        "{} — {} (declared period {} to {}, zone {}): {} records",
        shown(&b.id, SHOWN_CHARS),
        shown(&b.organization, SHOWN_CHARS),
        b.period_start,
        b.period_end,
        b.timezone,
        i.records
    );
    for w in &b.warnings {
        let _ = writeln!(out, "warning: bundle.toml: {}", shown(w, SHOWN_CHARS));
    }
    for d in &i.datasets {
        let _ = write!(
            out,
            "\n{} — {} records in {} file(s)",
            d.dataset,
            d.records,
            d.files.len()
        );
        if let (Some(a), Some(z)) = (&d.dos_first, &d.dos_last) {
            let _ = write!(out, ", dates of service {a} to {z}");
        }
        let _ = writeln!(out);
        for f in &d.files {
            let gz = if f.gzip { "+gzip" } else { "" };
            let _ = writeln!(
                out,
                "  {}  {}{gz}, {} bytes, {} records{}",
                shown(&f.path, SHOWN_CHARS),
                f.format,
                f.bytes,
                f.records,
                if f.unreadable_lines > 0 {
                    format!(", {} unreadable line(s)", f.unreadable_lines)
                } else {
                    String::new()
                }
            );
        }
        for (label, map) in [
            ("unparseable", &d.unparseable),
            ("DST gap/overlap", &d.no_instant),
            ("required but missing", &d.missing_required),
        ] {
            if !map.is_empty() {
                let parts: Vec<String> = map.iter().map(|(f, n)| format!("{f} {n}")).collect();
                let _ = writeln!(out, "  {label}: {}", parts.join(", "));
            }
        }
    }
    if !i.absent.is_empty() {
        let _ = writeln!(
            out,
            "\nabsent datasets (not exported): {}",
            i.absent.join(", ")
        );
    }
    if !i.ignored.is_empty() {
        let names: Vec<String> = i.ignored.iter().map(|n| shown(n, SHOWN_CHARS)).collect();
        let _ = writeln!(out, "ignored files: {}", names.join(", "));
    }
    out
}
