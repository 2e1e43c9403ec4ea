//! One finding per line, for streaming into other tools.
//!
//! Each line is a finding object exactly as in findings.json (same keys, same order, compact),
//! in findings.json order, each ending with `\n`; nothing else (no header line, no summary), so
//! a consumer needs no special case and `wc -l` counts findings. No findings: empty output.

use serde_json::Value as Json;

pub fn ndjson(doc: &Json) -> String {
    let mut out = String::new();
    for finding in doc["findings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        // A `Value` always serialises (its keys are strings).
        out.push_str(&serde_json::to_string(finding).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// The `ndjson` writer.
pub struct Ndjson;

impl crate::report::document::Writer for Ndjson {
    fn write(
        &self,
        doc: &crate::report::document::Document<'_>,
    ) -> Result<String, crate::report::document::WriteError> {
        let json = crate::report::json::findings_document(doc);
        Ok(ndjson(&json))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_line_a_finding() {
        let doc = json!({"findings": [{"id": "a", "message": "x\ny"}, {"id": "b"}]});
        assert_eq!(
            ndjson(&doc),
            "{\"id\":\"a\",\"message\":\"x\\ny\"}\n{\"id\":\"b\"}\n"
        );
        assert_eq!(ndjson(&json!({"findings": []})), "");
    }
}
