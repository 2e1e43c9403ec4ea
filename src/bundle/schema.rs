//! The datasets of bundle format 1 and the type of every field (docs/bundle-format.md, "Datasets
//! and fields").

use std::fmt;

/// The type a field's raw text or JSON value is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Str,
    Int,
    Float,
    Bool,
    Date,
    Ts,
    /// One of the listed lowercase values, matched case-insensitively.
    Enum(&'static [&'static str]),
    /// `;`-separated in CSV, an array in JSON.
    List,
}

impl FieldType {
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::Str => "text",
            FieldType::Int => "integer",
            FieldType::Float => "number",
            FieldType::Bool => "boolean",
            FieldType::Date => "date",
            FieldType::Ts => "timestamp",
            FieldType::Enum(_) => "enum",
            FieldType::List => "list",
        }
    }
}

/// When a field must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Required {
    No,
    Always,
    /// Required when the exam's `status` is `completed`.
    WhenCompleted,
    /// Required when the exam's `contrast` is true.
    WhenContrast,
}

#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    pub name: &'static str,
    pub ty: FieldType,
    pub required: Required,
}

const fn f(name: &'static str, ty: FieldType) -> FieldDef {
    FieldDef {
        name,
        ty,
        required: Required::No,
    }
}

const fn req(name: &'static str, ty: FieldType) -> FieldDef {
    FieldDef {
        name,
        ty,
        required: Required::Always,
    }
}

const fn req_if(name: &'static str, ty: FieldType, required: Required) -> FieldDef {
    FieldDef { name, ty, required }
}

use FieldType::{Bool, Date, Float, Int, List, Str, Ts};

pub const SETTINGS: &[&str] = &["office", "idtf", "hospital_outpatient"];
pub const ROLES: &[&str] = &[
    "radiologist",
    "physician",
    "np",
    "pa",
    "cns",
    "cnm",
    "crna",
    "rn",
    "technologist",
];
pub const EXAM_STATUSES: &[&str] = &["completed", "cancelled", "no_show"];
pub const CONTRAST_CLASSES: &[&str] = &["iodinated", "gadolinium"];
pub const SUPERVISION_MODES: &[&str] = &["onsite", "virtual", "none"];
pub const COVERAGE_MODES: &[&str] = &["onsite", "virtual"];
pub const REACTION_SEVERITIES: &[&str] = &["mild", "moderate", "severe"];
pub const REACTION_TYPES: &[&str] = &["allergic-like", "physiologic"];
pub const OUTCOMES: &[&str] = &["resolved", "observed", "ed_transfer", "admitted", "death"];

const FACILITIES: &[FieldDef] = &[
    req("facility_id", Str),
    f("name", Str),
    req("setting", FieldType::Enum(SETTINGS)),
    req("state", Str),
    f("timezone", Str),
    f("virtual_go_live", Date),
];

const PRACTITIONERS: &[FieldDef] = &[
    req("practitioner_id", Str),
    f("name", Str),
    req("role", FieldType::Enum(ROLES)),
    f("bls_expires", Date),
    f("acls_expires", Date),
    f("licensed_states", List),
];

const EXAMS: &[FieldDef] = &[
    req("exam_id", Str),
    req("facility_id", Str),
    f("accession", Str),
    f("patient_ref", Str),
    req("cpt_code", Str),
    f("modality", Str),
    req("status", FieldType::Enum(EXAM_STATUSES)),
    req("scheduled_at", Ts),
    req_if("started_at", Ts, Required::WhenCompleted),
    req_if("ended_at", Ts, Required::WhenCompleted),
    req("contrast", Bool),
    f("contrast_agent", Str),
    req_if(
        "contrast_class",
        FieldType::Enum(CONTRAST_CLASSES),
        Required::WhenContrast,
    ),
    f("contrast_dose_ml", Float),
    f("contrast_route", Str),
    f("contrast_lot", Str),
    f("contrast_at", Ts),
    f("supervision_mode", FieldType::Enum(SUPERVISION_MODES)),
    f("supervisor_id", Str),
    f("onsite_practitioner_id", Str),
    f("technologist_id", Str),
    f("session_id", Str),
    f("cancel_reason", Str),
    f("cancelled_at", Ts),
];

const SESSIONS: &[FieldDef] = &[
    req("session_id", Str),
    req("facility_id", Str),
    f("exam_id", Str),
    f("technologist_id", Str),
    f("supervisor_id", Str),
    req("requested_at", Ts),
    f("joined_at", Ts),
    f("ended_at", Ts),
    req("audio", Bool),
    req("video", Bool),
];

const COVERAGE: &[FieldDef] = &[
    f("coverage_id", Str),
    req("supervisor_id", Str),
    req("facility_id", Str),
    req("start", Ts),
    req("end", Ts),
    req("mode", FieldType::Enum(COVERAGE_MODES)),
];

const REACTIONS: &[FieldDef] = &[
    req("reaction_id", Str),
    req("exam_id", Str),
    req("onset_at", Ts),
    req("severity", FieldType::Enum(REACTION_SEVERITIES)),
    req("type", FieldType::Enum(REACTION_TYPES)),
    f("symptoms", Str),
    f("treatment", Str),
    f("epinephrine_at", Ts),
    f("notified_at", Ts),
    f("intervention_at", Ts),
    f("responder_id", Str),
    f("outcome", FieldType::Enum(OUTCOMES)),
    f("vitals_recorded", Bool),
    f("allergy_list_updated", Bool),
    f("patient_informed", Bool),
    f("referring_notified", Bool),
    f("protocol_steps_required", Int),
    f("protocol_steps_completed", Int),
    f("documented_at", Ts),
    f("documented_by", Str),
];

const PROCEDURE_CODES: &[FieldDef] = &[
    req("cpt_code", Str),
    req("year", Int),
    req("supervision_indicator", Str),
    f("global_days", Str),
    f("description", Str),
];

/// A dataset of bundle format 1. The order is the order datasets are typed in: a dataset's
/// time zones may depend on the ones before it (facilities, then exams, then reactions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dataset {
    Facilities,
    Practitioners,
    Exams,
    Sessions,
    Coverage,
    Reactions,
    ProcedureCodes,
}

impl Dataset {
    pub const ALL: [Dataset; 7] = [
        Dataset::Facilities,
        Dataset::Practitioners,
        Dataset::Exams,
        Dataset::Sessions,
        Dataset::Coverage,
        Dataset::Reactions,
        Dataset::ProcedureCodes,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Dataset::Facilities => "facilities",
            Dataset::Practitioners => "practitioners",
            Dataset::Exams => "exams",
            Dataset::Sessions => "sessions",
            Dataset::Coverage => "coverage",
            Dataset::Reactions => "reactions",
            Dataset::ProcedureCodes => "procedure_codes",
        }
    }

    pub fn from_name(name: &str) -> Option<Dataset> {
        Dataset::ALL.into_iter().find(|d| d.name() == name)
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn fields(self) -> &'static [FieldDef] {
        match self {
            Dataset::Facilities => FACILITIES,
            Dataset::Practitioners => PRACTITIONERS,
            Dataset::Exams => EXAMS,
            Dataset::Sessions => SESSIONS,
            Dataset::Coverage => COVERAGE,
            Dataset::Reactions => REACTIONS,
            Dataset::ProcedureCodes => PROCEDURE_CODES,
        }
    }

    /// The unique key field, if the dataset has one.
    pub fn key_field(self) -> Option<&'static str> {
        match self {
            Dataset::Facilities => Some("facility_id"),
            Dataset::Practitioners => Some("practitioner_id"),
            Dataset::Exams => Some("exam_id"),
            Dataset::Sessions => Some("session_id"),
            Dataset::Coverage => Some("coverage_id"),
            Dataset::Reactions => Some("reaction_id"),
            Dataset::ProcedureCodes => None,
        }
    }

    /// Whether repeats of the key are DQ-002 findings (coverage ids are informational).
    pub fn key_must_be_unique(self) -> bool {
        !matches!(self, Dataset::Coverage | Dataset::ProcedureCodes)
    }

    /// Position of `name` among the dataset's fields.
    pub fn field_index(self, name: &str) -> Option<usize> {
        self.fields().iter().position(|f| f.name == name)
    }

    pub fn required(self) -> bool {
        matches!(self, Dataset::Facilities | Dataset::Exams)
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Column positions of fields that the engine reads by position, checked against the tables
/// above by a unit test so a reordering cannot go unnoticed.
pub mod col {
    pub mod facility {
        pub const ID: usize = 0;
        pub const NAME: usize = 1;
        pub const SETTING: usize = 2;
        pub const STATE: usize = 3;
        pub const TIMEZONE: usize = 4;
        pub const VIRTUAL_GO_LIVE: usize = 5;
    }
    pub mod practitioner {
        pub const ID: usize = 0;
        pub const NAME: usize = 1;
        pub const ROLE: usize = 2;
        pub const BLS_EXPIRES: usize = 3;
        pub const LICENSED_STATES: usize = 5;
    }
    pub mod exam {
        pub const ID: usize = 0;
        pub const FACILITY_ID: usize = 1;
        pub const CPT_CODE: usize = 4;
        pub const STATUS: usize = 6;
        pub const SCHEDULED_AT: usize = 7;
        pub const STARTED_AT: usize = 8;
        pub const ENDED_AT: usize = 9;
        pub const CONTRAST: usize = 10;
        pub const CONTRAST_CLASS: usize = 12;
        pub const CONTRAST_AT: usize = 16;
        pub const SUPERVISION_MODE: usize = 17;
        pub const SUPERVISOR_ID: usize = 18;
        pub const ONSITE_PRACTITIONER_ID: usize = 19;
        pub const TECHNOLOGIST_ID: usize = 20;
        pub const SESSION_ID: usize = 21;
        pub const CANCEL_REASON: usize = 22;
    }
    pub mod session {
        pub const ID: usize = 0;
        pub const FACILITY_ID: usize = 1;
        pub const EXAM_ID: usize = 2;
        pub const TECHNOLOGIST_ID: usize = 3;
        pub const SUPERVISOR_ID: usize = 4;
        pub const REQUESTED_AT: usize = 5;
        pub const JOINED_AT: usize = 6;
        pub const ENDED_AT: usize = 7;
        pub const AUDIO: usize = 8;
        pub const VIDEO: usize = 9;
    }
    pub mod coverage {
        pub const SUPERVISOR_ID: usize = 1;
        pub const FACILITY_ID: usize = 2;
        pub const START: usize = 3;
        pub const END: usize = 4;
        pub const MODE: usize = 5;
    }
    pub mod reaction {
        pub const ID: usize = 0;
        pub const EXAM_ID: usize = 1;
        pub const ONSET_AT: usize = 2;
        pub const RESPONDER_ID: usize = 10;
        pub const DOCUMENTED_BY: usize = 19;
    }
    pub mod code {
        pub const CPT_CODE: usize = 0;
        pub const YEAR: usize = 1;
        pub const INDICATOR: usize = 2;
        pub const GLOBAL_DAYS: usize = 3;
    }
}

/// The "Physician Supervision of Diagnostic Procedures" codes a procedure_codes row may carry,
/// exactly as written (docs/bundle-format.md, "Datasets and fields"): the bundle format's vocabulary, checked by DQ-001 and
/// by `vigil reference import-rvu`.
pub const SUPERVISION_INDICATORS: &[&str] = &[
    "01", "02", "03", "04", "05", "06", "21", "22", "66", "6A", "77", "7A", "09",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_constants_match_the_field_tables() {
        let checks: &[(Dataset, usize, &str)] = &[
            (Dataset::Facilities, col::facility::ID, "facility_id"),
            (Dataset::Facilities, col::facility::NAME, "name"),
            (Dataset::Facilities, col::facility::SETTING, "setting"),
            (Dataset::Facilities, col::facility::STATE, "state"),
            (Dataset::Facilities, col::facility::TIMEZONE, "timezone"),
            (
                Dataset::Facilities,
                col::facility::VIRTUAL_GO_LIVE,
                "virtual_go_live",
            ),
            (
                Dataset::Practitioners,
                col::practitioner::ID,
                "practitioner_id",
            ),
            (Dataset::Practitioners, col::practitioner::NAME, "name"),
            (Dataset::Practitioners, col::practitioner::ROLE, "role"),
            (
                Dataset::Practitioners,
                col::practitioner::BLS_EXPIRES,
                "bls_expires",
            ),
            (
                Dataset::Practitioners,
                col::practitioner::LICENSED_STATES,
                "licensed_states",
            ),
            (Dataset::Exams, col::exam::ID, "exam_id"),
            (Dataset::Exams, col::exam::FACILITY_ID, "facility_id"),
            (Dataset::Exams, col::exam::CPT_CODE, "cpt_code"),
            (Dataset::Exams, col::exam::STATUS, "status"),
            (Dataset::Exams, col::exam::SCHEDULED_AT, "scheduled_at"),
            (Dataset::Exams, col::exam::STARTED_AT, "started_at"),
            (Dataset::Exams, col::exam::ENDED_AT, "ended_at"),
            (Dataset::Exams, col::exam::CONTRAST, "contrast"),
            (Dataset::Exams, col::exam::CONTRAST_CLASS, "contrast_class"),
            (Dataset::Exams, col::exam::CONTRAST_AT, "contrast_at"),
            (
                Dataset::Exams,
                col::exam::SUPERVISION_MODE,
                "supervision_mode",
            ),
            (Dataset::Exams, col::exam::SUPERVISOR_ID, "supervisor_id"),
            (
                Dataset::Exams,
                col::exam::ONSITE_PRACTITIONER_ID,
                "onsite_practitioner_id",
            ),
            (
                Dataset::Exams,
                col::exam::TECHNOLOGIST_ID,
                "technologist_id",
            ),
            (Dataset::Exams, col::exam::SESSION_ID, "session_id"),
            (Dataset::Exams, col::exam::CANCEL_REASON, "cancel_reason"),
            (Dataset::Sessions, col::session::ID, "session_id"),
            (Dataset::Sessions, col::session::FACILITY_ID, "facility_id"),
            (Dataset::Sessions, col::session::EXAM_ID, "exam_id"),
            (
                Dataset::Sessions,
                col::session::TECHNOLOGIST_ID,
                "technologist_id",
            ),
            (
                Dataset::Sessions,
                col::session::SUPERVISOR_ID,
                "supervisor_id",
            ),
            (
                Dataset::Sessions,
                col::session::REQUESTED_AT,
                "requested_at",
            ),
            (Dataset::Sessions, col::session::JOINED_AT, "joined_at"),
            (Dataset::Sessions, col::session::ENDED_AT, "ended_at"),
            (Dataset::Sessions, col::session::AUDIO, "audio"),
            (Dataset::Sessions, col::session::VIDEO, "video"),
            (
                Dataset::Coverage,
                col::coverage::SUPERVISOR_ID,
                "supervisor_id",
            ),
            (Dataset::Coverage, col::coverage::FACILITY_ID, "facility_id"),
            (Dataset::Coverage, col::coverage::START, "start"),
            (Dataset::Coverage, col::coverage::END, "end"),
            (Dataset::Coverage, col::coverage::MODE, "mode"),
            (Dataset::Reactions, col::reaction::ID, "reaction_id"),
            (Dataset::Reactions, col::reaction::EXAM_ID, "exam_id"),
            (Dataset::Reactions, col::reaction::ONSET_AT, "onset_at"),
            (
                Dataset::Reactions,
                col::reaction::RESPONDER_ID,
                "responder_id",
            ),
            (
                Dataset::Reactions,
                col::reaction::DOCUMENTED_BY,
                "documented_by",
            ),
            (Dataset::ProcedureCodes, col::code::CPT_CODE, "cpt_code"),
            (Dataset::ProcedureCodes, col::code::YEAR, "year"),
            (
                Dataset::ProcedureCodes,
                col::code::INDICATOR,
                "supervision_indicator",
            ),
            (
                Dataset::ProcedureCodes,
                col::code::GLOBAL_DAYS,
                "global_days",
            ),
        ];
        for (ds, idx, name) in checks {
            assert_eq!(ds.fields()[*idx].name, *name, "{ds}");
        }
    }
}
