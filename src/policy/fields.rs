//! The names a rule may use for a record's values: its own fields, fields of linked records
//! (`facility.state`), and facts the engine derives (`required_level`, `response_s`).

use crate::bundle::schema::{Dataset, col};

/// A link from a record to one other record, by the first record with the referenced key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Join {
    Facility,
    Supervisor,
    Onsite,
    Technologist,
    Session,
    Exam,
    Responder,
    Documenter,
}

impl Join {
    pub fn name(self) -> &'static str {
        match self {
            Join::Facility => "facility",
            Join::Supervisor => "supervisor",
            Join::Onsite => "onsite",
            Join::Technologist => "technologist",
            Join::Session => "session",
            Join::Exam => "exam",
            Join::Responder => "responder",
            Join::Documenter => "documenter",
        }
    }

    pub fn target(self) -> Dataset {
        match self {
            Join::Facility => Dataset::Facilities,
            Join::Session => Dataset::Sessions,
            Join::Exam => Dataset::Exams,
            Join::Supervisor
            | Join::Onsite
            | Join::Technologist
            | Join::Responder
            | Join::Documenter => Dataset::Practitioners,
        }
    }

    /// The joins a record of `dataset` has, with the field holding the reference (`None` for
    /// a reaction's facility, which goes through its exam).
    pub fn available(dataset: Dataset) -> &'static [(Join, Option<usize>)] {
        match dataset {
            Dataset::Exams => &[
                (Join::Facility, Some(col::exam::FACILITY_ID)),
                (Join::Supervisor, Some(col::exam::SUPERVISOR_ID)),
                (Join::Onsite, Some(col::exam::ONSITE_PRACTITIONER_ID)),
                (Join::Technologist, Some(col::exam::TECHNOLOGIST_ID)),
                (Join::Session, Some(col::exam::SESSION_ID)),
            ],
            Dataset::Sessions => &[
                (Join::Facility, Some(col::session::FACILITY_ID)),
                (Join::Exam, Some(col::session::EXAM_ID)),
                (Join::Supervisor, Some(col::session::SUPERVISOR_ID)),
                (Join::Technologist, Some(col::session::TECHNOLOGIST_ID)),
            ],
            Dataset::Coverage => &[
                (Join::Facility, Some(col::coverage::FACILITY_ID)),
                (Join::Supervisor, Some(col::coverage::SUPERVISOR_ID)),
            ],
            Dataset::Reactions => &[
                (Join::Exam, Some(col::reaction::EXAM_ID)),
                (Join::Facility, None),
                (Join::Responder, Some(col::reaction::RESPONDER_ID)),
                (Join::Documenter, Some(col::reaction::DOCUMENTED_BY)),
            ],
            Dataset::Facilities | Dataset::Practitioners | Dataset::ProcedureCodes => &[],
        }
    }
}

/// Facts the engine derives once per record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Derived {
    /// Date of service (exams; a reaction's is its exam's).
    Dos,
    DosYear,
    /// `general`, `direct`, `personal` or `not_applicable`; missing when unknown.
    RequiredLevel,
    /// The code row's global surgery indicator; missing when no row or empty.
    GlobalDays,
    /// Whether the exam's code has a procedure_codes row for the DOS year.
    CodeFound,
    /// `bundle` or `illustrative`: where the procedure codes came from.
    CodesSource,
    /// Session response time in seconds; missing when unmeasured or out of order.
    ResponseS,
    /// Whether a session is unmeasured: `joined_at` missing or unparseable.
    Unmeasured,
    /// Local date (facility zone) of an exam's `scheduled_at`.
    ScheduledDate,
    /// Reaction documentation elements missing for its tier (RXN-002), as a list.
    DocumentationMissing,
    /// Whether the reaction's documentation is complete; missing when neither (tier unknown).
    DocumentationComplete,
    /// A facility's reactions (those whose exam is at the facility).
    ReactionsCount,
    /// Share of a facility's reactions whose documentation is complete; missing without reactions.
    DocumentationCompleteShare,
}

impl Derived {
    pub fn name(self) -> &'static str {
        match self {
            Derived::Dos => "dos",
            Derived::DosYear => "dos_year",
            Derived::RequiredLevel => "required_level",
            Derived::GlobalDays => "global_days",
            Derived::CodeFound => "code_found",
            Derived::CodesSource => "codes_source",
            Derived::ResponseS => "response_s",
            Derived::Unmeasured => "unmeasured",
            Derived::ScheduledDate => "scheduled_date",
            Derived::DocumentationMissing => "documentation_missing",
            Derived::DocumentationComplete => "documentation_complete",
            Derived::ReactionsCount => "reactions_count",
            Derived::DocumentationCompleteShare => "documentation_complete_share",
        }
    }

    pub fn available(dataset: Dataset) -> &'static [Derived] {
        match dataset {
            Dataset::Exams => &[
                Derived::Dos,
                Derived::DosYear,
                Derived::RequiredLevel,
                Derived::GlobalDays,
                Derived::CodeFound,
                Derived::CodesSource,
                Derived::ScheduledDate,
            ],
            Dataset::Sessions => &[Derived::Dos, Derived::ResponseS, Derived::Unmeasured],
            Dataset::Reactions => &[
                Derived::Dos,
                Derived::DosYear,
                Derived::DocumentationMissing,
                Derived::DocumentationComplete,
            ],
            Dataset::Coverage => &[Derived::Dos],
            Dataset::Facilities => &[Derived::ReactionsCount, Derived::DocumentationCompleteShare],
            _ => &[],
        }
    }
}

/// A resolved field name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldRef {
    Own(usize),
    Joined(Join, usize),
    Derived(Derived),
}

/// Every name usable on records of `dataset`, for suggestions and documentation.
pub fn known_names(dataset: Dataset) -> Vec<String> {
    let mut names: Vec<String> = dataset
        .fields()
        .iter()
        .map(|f| f.name.to_string())
        .collect();
    names.extend(
        Derived::available(dataset)
            .iter()
            .map(|d| d.name().to_string()),
    );
    for (join, _) in Join::available(dataset) {
        names.extend(
            join.target()
                .fields()
                .iter()
                .map(|f| format!("{}.{}", join.name(), f.name)),
        );
    }
    names
}

/// Resolves `name` on records of `dataset`; `Err` carries the known names for a suggestion.
pub fn resolve(dataset: Dataset, name: &str) -> Result<FieldRef, Vec<String>> {
    if let Some((join_name, field)) = name.split_once('.') {
        let join = Join::available(dataset)
            .iter()
            .find(|(j, _)| j.name() == join_name)
            .map(|(j, _)| *j);
        if let Some(join) = join
            && let Some(i) = join.target().field_index(field)
        {
            return Ok(FieldRef::Joined(join, i));
        }
    } else if let Some(i) = dataset.field_index(name) {
        return Ok(FieldRef::Own(i));
    } else if let Some(d) = Derived::available(dataset)
        .iter()
        .find(|d| d.name() == name)
    {
        return Ok(FieldRef::Derived(*d));
    }
    Err(known_names(dataset))
}

/// The type of a resolved field, where the schema gives one (derived facts included).
pub fn field_type(dataset: Dataset, field: FieldRef) -> Option<crate::bundle::schema::FieldType> {
    use crate::bundle::schema::FieldType;
    Some(match field {
        FieldRef::Own(i) => dataset.fields().get(i)?.ty,
        FieldRef::Joined(join, i) => join.target().fields().get(i)?.ty,
        FieldRef::Derived(d) => match d {
            Derived::Dos | Derived::ScheduledDate => FieldType::Date,
            Derived::ResponseS | Derived::DocumentationCompleteShare => FieldType::Float,
            Derived::DosYear | Derived::ReactionsCount => FieldType::Int,
            Derived::CodeFound | Derived::Unmeasured | Derived::DocumentationComplete => {
                FieldType::Bool
            }
            Derived::RequiredLevel => FieldType::Enum(&crate::policy::model::SUPERVISION_LEVELS),
            Derived::CodesSource => FieldType::Enum(&["bundle", "illustrative"]),
            Derived::GlobalDays => FieldType::Str,
            Derived::DocumentationMissing => FieldType::List,
        },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn resolves_own_joined_and_derived_names() {
        assert_eq!(
            resolve(Dataset::Exams, "status"),
            Ok(FieldRef::Own(col::exam::STATUS))
        );
        assert_eq!(
            resolve(Dataset::Exams, "facility.state"),
            Ok(FieldRef::Joined(Join::Facility, col::facility::STATE))
        );
        assert_eq!(
            resolve(Dataset::Sessions, "response_s"),
            Ok(FieldRef::Derived(Derived::ResponseS))
        );
        let known = resolve(Dataset::Exams, "facilty.state").unwrap_err();
        assert!(known.contains(&"facility.state".to_string()));
    }
}
