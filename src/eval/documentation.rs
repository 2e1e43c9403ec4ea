//! Contrast-reaction documentation completeness, as the contrast-reactions pack declares it
//! (`[[parameters.documentation]]`): one decision shared by RXN-002 (through the
//! `documentation_missing` and `documentation_complete` facts), BEN-004 and the
//! `reactions.documentation_complete_share` metric, so all three agree. No element is named
//! here: the groups are pack data.

use crate::bundle::Record;
use crate::bundle::value::Value;
use crate::eval::condition;
use crate::policy::fields::FieldRef;
use crate::policy::model::DocumentationGroup;

/// What the documentation check found for one reaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Documentation<'g> {
    /// Elements missing (or not true, for boolean elements) from the groups known to apply, in
    /// declaration order, each once.
    pub missing: Vec<&'g str>,
    /// Whether every group's `applies` could be decided (no condition read a missing or
    /// invalid value without another condition already ruling the group out).
    pub decided: bool,
}

impl Documentation<'_> {
    /// `Some(true)` complete, `Some(false)` incomplete, `None` neither (nothing missing from
    /// the groups known to apply, but some group's applicability is unknown).
    pub fn complete(&self) -> Option<bool> {
        if !self.missing.is_empty() {
            Some(false)
        } else if self.decided {
            Some(true)
        } else {
            None
        }
    }
}

/// Whether a group applies to the reaction: `None` when that cannot be decided.
fn applies(record: &Record, group: &DocumentationGroup) -> Option<bool> {
    let mut unknown = false;
    for c in &group.applies {
        // The loader admits only the reaction's own fields.
        let FieldRef::Own(i) = c.field else {
            unknown = true;
            continue;
        };
        match condition::holds(record.get(i), &c.test) {
            Some(false) => return Some(false),
            None => unknown = true,
            Some(true) => {}
        }
    }
    (!unknown).then_some(true)
}

/// Whether an element is documented: present, and `true` for a boolean element.
fn present(record: &Record, index: usize) -> bool {
    match record.get(index) {
        Value::Bool(b) => *b,
        // A naive time in a DST gap is present (DQ-005 owns it), like any other value.
        v => v.is_present(),
    }
}

/// Checks one reaction against the documentation groups.
pub fn check<'g>(record: &Record, groups: &'g [DocumentationGroup]) -> Documentation<'g> {
    let mut missing: Vec<&'g str> = Vec::new();
    let mut decided = true;
    for group in groups {
        match applies(record, group) {
            Some(true) => {
                for (name, index) in &group.elements {
                    if !present(record, *index) && !missing.contains(&name.as_str()) {
                        missing.push(name);
                    }
                }
            }
            Some(false) => {}
            None => decided = false,
        }
    }
    Documentation { missing, decided }
}
