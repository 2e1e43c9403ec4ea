//! One finding per line, for streaming into other tools.
//!
//! Each line is a finding object exactly as in findings.json (same keys, same order, compact),
//! in findings.json order, each ending with `\n`; nothing else (no header line, no summary), so
//! a consumer needs no special case and `wc -l` counts findings. No findings: empty output.

use crate::report::document::{Document, WriteError, Writer};

/// The `ndjson` writer.
pub struct Ndjson;

impl Writer for Ndjson {
    fn write(&self, doc: &Document<'_>) -> Result<String, WriteError> {
        let mut out = String::new();
        for finding in doc.findings() {
            // Through a `serde_json::Value`, whose maps keep keys sorted, as findings.json does.
            let value = serde_json::to_value(finding)?;
            out.push_str(&serde_json::to_string(&value)?);
            out.push('\n');
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![expect(
        clippy::unwrap_used,
        reason = "a test fails loudly on the first surprise"
    )]

    use super::*;
    use crate::eval::model::Finding;
    use crate::report::fixture::{Run, finding};

    #[test]
    fn a_line_a_finding() {
        let run = Run::new(vec![
            Finding {
                id: "a".into(),
                message: "x\ny".into(),
                ..finding("R-1")
            },
            Finding {
                id: "b".into(),
                ..finding("R-2")
            },
        ]);
        let line = |id: &str, message: &str, rule: &str| {
            format!(
                "{{\"citation\":\"\",\"evidence\":{{}},\"id\":\"{id}\",\
                 \"location\":{{\"file\":\"\",\"line\":0}},\"message\":\"{message}\",\
                 \"policy\":\"\",\"policy_version\":\"\",\"remediation\":\"\",\"rule\":\"{rule}\",\
                 \"severity\":\"info\",\"status\":\"fail\",\
                 \"subject\":{{\"dataset\":\"\",\"key\":\"\"}},\"waiver\":null}}\n"
            )
        };
        assert_eq!(
            Ndjson.write(&run.doc()).unwrap(),
            [line("a", "x\\ny", "R-1"), line("b", "", "R-2")].concat()
        );
        assert_eq!(Ndjson.write(&Run::new(vec![]).doc()).unwrap(), "");
    }
}
