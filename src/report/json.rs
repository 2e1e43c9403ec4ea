//! findings.json (`vigil.findings/1`, outputs-v1.md).

use serde_json::{Value as Json, json};

use crate::bundle::Bundle;
use crate::eval::run::Evaluation;
use crate::policy::model::Pack;
use crate::report::{counts_by_severity, records_by_dataset};

/// The findings document. Deterministic: the same inputs and `as_of` give the same bytes.
pub fn findings_document(bundle: &Bundle, packs: &[Pack], eval: &Evaluation, as_of: &str) -> Json {
    let m = &bundle.manifest;
    let files: Vec<Json> = bundle
        .files
        .iter()
        .map(|f| json!({"path": f.path, "dataset": f.dataset.name(), "records": f.records, "sha256": f.sha256}))
        .collect();
    let policies: Vec<Json> = packs
        .iter()
        .flat_map(|p| p.versions.iter())
        .map(|v| {
            json!({
                "id": v.pack_id,
                "version": v.version,
                "title": v.title,
                "effective_from": v.effective_from.map(|d| d.to_string()),
                "effective_to": v.effective_to.map(|d| d.to_string()),
                "path": v.path,
                "sha256": v.sha256,
            })
        })
        .collect();
    let findings_by_severity: serde_json::Map<String, Json> = counts_by_severity(eval)
        .into_iter()
        .map(|(s, n)| (s.name().to_string(), n.into()))
        .collect();
    json!({
        "format": "vigil.findings/1",
        "tool": {"name": "vigil", "version": env!("CARGO_PKG_VERSION")},
        "as_of": as_of,
        "bundle": {
            "id": m.id,
            "organization": m.organization,
            "period_start": m.period_start.to_string(),
            "period_end": m.period_end.to_string(),
            "timezone": m.timezone_name,
            "ignored": bundle.ignored,
            "absent": bundle.absent.iter().map(|d| d.name()).collect::<Vec<_>>(),
            "files": files,
            "warnings": m.warnings,
        },
        "policies": policies,
        "summary": {
            "records": records_by_dataset(bundle),
            "findings": findings_by_severity,
            "rules": eval.rules,
        },
        "findings": eval.findings,
        "metrics": eval.metrics,
    })
}
