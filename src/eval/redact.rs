//! Redaction (`--redact`): patient references and accessions become salted hashes, free text
//! is left out. Applied where values leave the world, so messages, evidence and scripts all see
//! the redacted value and no output can carry the original.

use crate::bundle::schema::Dataset;
use crate::bundle::value::Value;
use crate::digest::salted_ref;

/// What a free-text field shows under redaction.
pub const REDACTED: &str = "[redacted]";

/// How a field is treated under redaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treatment {
    Keep,
    /// Identifiers of people: replaced by a salted hash.
    Hash,
    /// Free text (symptoms, treatment, names): left out.
    Drop,
}

pub fn treatment(dataset: Dataset, field: &str) -> Treatment {
    match (dataset, field) {
        (Dataset::Exams, "patient_ref" | "accession") => Treatment::Hash,
        (Dataset::Reactions, "symptoms" | "treatment")
        | (Dataset::Facilities | Dataset::Practitioners, "name") => Treatment::Drop,
        _ => Treatment::Keep,
    }
}

/// The salt and the treatment of every field, looked up by position.
#[derive(Debug, Clone)]
pub struct Redaction {
    pub salt: Vec<u8>,
    treatments: Vec<Vec<Treatment>>,
}

impl Redaction {
    pub fn new(salt: Vec<u8>) -> Redaction {
        let treatments = Dataset::ALL
            .iter()
            .map(|d| d.fields().iter().map(|f| treatment(*d, f.name)).collect())
            .collect();
        Redaction { salt, treatments }
    }

    /// The value of field `i` of `dataset` as outputs may show it.
    pub fn apply(&self, dataset: Dataset, i: usize, value: Value) -> Value {
        let t = self
            .treatments
            .get(dataset.index())
            .and_then(|f| f.get(i))
            .copied()
            .unwrap_or(Treatment::Keep);
        match (t, &value) {
            (Treatment::Keep, _) | (_, Value::Missing) => value,
            (Treatment::Hash, v) => match v.display() {
                Some(text) => Value::Str(salted_ref(&self.salt, &text).into()),
                None => value,
            },
            (Treatment::Drop, _) => Value::Str(REDACTED.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_identifiers_and_drops_free_text() {
        let r = Redaction::new(b"salt".to_vec());
        let patient = Dataset::Exams.field_index("patient_ref").unwrap_or(0);
        let v = r.apply(Dataset::Exams, patient, Value::Str("PT-1".into()));
        assert_eq!(v, Value::Str(salted_ref(b"salt", "PT-1").into()));
        assert_ne!(salted_ref(b"salt", "PT-1"), salted_ref(b"pepper", "PT-1"));
        let symptoms = Dataset::Reactions.field_index("symptoms").unwrap_or(0);
        let v = r.apply(Dataset::Reactions, symptoms, Value::Str("hives".into()));
        assert_eq!(v, Value::Str(REDACTED.into()));
        let status = Dataset::Exams.field_index("status").unwrap_or(0);
        let v = r.apply(Dataset::Exams, status, Value::Enum(&"completed"));
        assert_eq!(v, Value::Enum(&"completed"));
    }
}
