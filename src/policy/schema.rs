//! The JSON Schema of the policy file format (`vigil schema policy`), for editors that complete
//! and check policy files (taplo / Even Better TOML).
//!
//! Hand-written in `policy.schema.json` (draft-07, which taplo reads) and embedded in the binary.
//! TOML dates appear as `YYYY-MM-DD` strings, as taplo presents them. A tool that converts TOML
//! with the `toml` crate into `serde_json` gets `{"$__toml_private_datetime": "..."}` objects
//! instead and must turn them into strings before validating.

/// The schema, as JSON text.
pub const POLICY_SCHEMA: &str = include_str!("policy.schema.json");

/// What `vigil schema` can describe.
pub const SCHEMA_NAMES: [&str; 1] = ["policy"];

/// The schema named `what`, if there is one.
pub fn schema(what: &str) -> Option<&'static str> {
    match what {
        "policy" => Some(POLICY_SCHEMA),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_json_with_a_description_per_rule_key() {
        let v: serde_json::Value = serde_json::from_str(POLICY_SCHEMA).unwrap_or_default();
        let rule = &v["definitions"]["rule"]["properties"];
        assert!(rule.is_object(), "{v}");
        for key in ["id", "title", "when", "check", "message", "severity_by"] {
            assert!(rule.get(key).is_some(), "{key}");
        }
        assert_eq!(v["additionalProperties"], false);
    }
}
