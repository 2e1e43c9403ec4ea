//! Contrast-reaction documentation completeness (RXN-002), shared by the rule, BEN-004 and the
//! `reactions.documentation_complete_share` metric so all three agree.

use crate::bundle::Record;
use crate::bundle::schema::Dataset;
use crate::bundle::value::Value;

/// Elements every reaction record needs.
pub const ALL_TIERS: &[&str] = &[
    "onset_at",
    "symptoms",
    "outcome",
    "documented_at",
    "documented_by",
];
/// Added for moderate and severe reactions (`vitals_recorded` must be true).
pub const MODERATE_AND_SEVERE: &[&str] = &[
    "treatment",
    "notified_at",
    "intervention_at",
    "responder_id",
    "vitals_recorded",
];
/// Added for severe reactions (`referring_notified` must be true).
pub const SEVERE: &[&str] = &["referring_notified"];
/// Added for severe allergic-like reactions.
pub const SEVERE_ALLERGIC: &[&str] = &["epinephrine_at"];

/// What the documentation check found for one reaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Documentation {
    /// Elements missing (or not true, for the boolean elements), in catalogue order.
    pub missing: Vec<&'static str>,
    /// Whether every element the reaction's tier needs could be checked: false when severity
    /// is missing or invalid, or a severe reaction's type is.
    pub tier_known: bool,
}

impl Documentation {
    /// `Some(true)` complete, `Some(false)` incomplete, `None` neither (nothing missing from
    /// the known tier, but the tier itself is unknown).
    pub fn complete(&self) -> Option<bool> {
        if !self.missing.is_empty() {
            Some(false)
        } else if self.tier_known {
            Some(true)
        } else {
            None
        }
    }
}

fn present(record: &Record, name: &str) -> bool {
    let field = Dataset::Reactions.field_index(name);
    match field.map(|i| record.get(i)) {
        // Boolean elements must be true, not merely present.
        Some(Value::Bool(b)) => *b,
        // A naive time in a DST gap is present (DQ-005 owns it), like any other value.
        Some(v) => v.is_present(),
        None => false,
    }
}

pub fn check(record: &Record) -> Documentation {
    let text = |name: &str| {
        Dataset::Reactions
            .field_index(name)
            .and_then(|i| record.str(i))
    };
    let severity = text("severity");
    let kind = text("type");
    let mut needed: Vec<&'static str> = ALL_TIERS.to_vec();
    let mut tier_known = severity.is_some();
    if matches!(severity, Some("moderate" | "severe")) {
        needed.extend_from_slice(MODERATE_AND_SEVERE);
    }
    if severity == Some("severe") {
        needed.extend_from_slice(SEVERE);
        match kind {
            Some("allergic-like") => needed.extend_from_slice(SEVERE_ALLERGIC),
            Some(_) => {}
            None => tier_known = false,
        }
    }
    Documentation {
        missing: needed.into_iter().filter(|n| !present(record, n)).collect(),
        tier_known,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn reaction(pairs: &[(&str, Value)]) -> Record {
        let mut values = vec![Value::Missing; Dataset::Reactions.fields().len()];
        for (name, v) in pairs {
            values[Dataset::Reactions.field_index(name).unwrap()] = v.clone();
        }
        Record {
            file: 0,
            line: 2,
            values: values.into_boxed_slice(),
        }
    }

    fn base(severity: Option<&'static str>) -> Vec<(&'static str, Value)> {
        let mut v = vec![
            ("onset_at", Value::Str("x".into())),
            ("symptoms", Value::Str("hives".into())),
            ("outcome", Value::Enum("resolved")),
            ("documented_at", Value::Str("x".into())),
            ("documented_by", Value::Str("P1".into())),
            ("type", Value::Enum("allergic-like")),
        ];
        if let Some(s) = severity {
            v.push(("severity", Value::Enum(s)));
        }
        v
    }

    #[test]
    fn mild_needs_the_base_elements_only() {
        let d = check(&reaction(&base(Some("mild"))));
        assert_eq!(d.complete(), Some(true));
    }

    #[test]
    fn severe_allergic_needs_everything_and_booleans_must_be_true() {
        let mut v = base(Some("severe"));
        v.push(("vitals_recorded", Value::Bool(false)));
        let d = check(&reaction(&v));
        assert_eq!(
            d.missing,
            [
                "treatment",
                "notified_at",
                "intervention_at",
                "responder_id",
                "vitals_recorded",
                "referring_notified",
                "epinephrine_at"
            ]
        );
        assert_eq!(d.complete(), Some(false));
    }

    #[test]
    fn unknown_severity_is_neither_unless_a_base_element_is_missing() {
        assert_eq!(check(&reaction(&base(None))).complete(), None);
        let mut v = base(None);
        v.retain(|(n, _)| *n != "symptoms");
        assert_eq!(check(&reaction(&v)).complete(), Some(false));
    }
}
