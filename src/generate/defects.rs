//! The deliberate problems the generator can inject, one kind per rule of the catalogue
//! (policies/README.md).
//!
//! An exam draws a defect with probability `defect_rate`, and then one kind uniformly among the
//! kinds that fit it (a cancelled exam cannot have an audio-only session), so no single rule fails
//! for more than about `defect_rate` of the records it applies to. A reaction on an exam without
//! contrast (RXN-007) is further gated so it stays rarer than real reactions. Reactions are few,
//! so each draws a documentation defect with probability `min(1, 3 * defect_rate)` among six kinds
//! (about 1% per kind by default).
//!
//! Two kinds are not drawn per exam but applied to the bundle as a whole (see `mod.rs`):
//! [`Defect::UnderReporting`] (BEN-003) silences one site's reactions, and
//! [`Defect::Unreadable`] (DQ-007) adds cut-off copies of a few sessions lines.

/// A kind of defect; the discriminant indexes [`Defect::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Defect {
    /// SUP-001: the exam's code is missing from the reference table.
    UnlistedCode,
    /// SUP-002: a contrast exam without supervision mode or supervisor.
    NoSupervision,
    /// SUP-003: a virtual exam of a procedure with a 010 global period.
    GlobalPeriodVirtual,
    /// SUP-004: the live session had audio but no video.
    AudioOnly,
    /// SUP-005: supervised by a panel radiologist who had no coverage that day.
    CoverageGap,
    /// SUP-006: an RN supervises, or an NP at an IDTF.
    UnqualifiedSupervisor,
    /// SUP-007: the supervisor is not licensed in the facility's state.
    Unlicensed,
    /// ACR-001: virtual contrast supervision by an NP or PA.
    NonPhysicianVirtual,
    /// ACR-002: no on-site practitioner besides the technologist.
    NoOnsitePractitioner,
    /// ACR-003: the on-site practitioner's BLS had expired.
    BlsExpired,
    /// RXN-001: reaction severity missing or type misspelled.
    ReactionUnclassified,
    /// RXN-002: a required documentation element is missing.
    ReactionIncomplete,
    /// RXN-003: allergic-like reaction without the allergy list updated.
    AllergyListNotUpdated,
    /// RXN-004: intervention started too late.
    SlowIntervention,
    /// RXN-005: patient not informed.
    PatientNotInformed,
    /// RXN-006: fewer protocol steps completed than required.
    ProtocolIncomplete,
    /// RXN-007: a reaction recorded on an exam without contrast.
    ReactionWithoutContrast,
    /// BEN-001: the supervisor never joined, or joined after more than 90 s.
    SessionAtRisk,
    /// BEN-002: the supervisor joined after 31-90 s.
    SessionSlow,
    /// BEN-003: a site whose reactions are never exported; counted once per contrast class in
    /// which the site reaches BEN-003's default `min_exams`, so only at large sizes.
    UnderReporting,
    /// BEN-005: cancelled for lack of coverage after virtual go-live.
    CoverageCancellation,
    /// DQ-001: a value that does not parse (status `complete`, a time without seconds, ...).
    BadValue,
    /// DQ-002: the exam reuses the previous exam's id.
    DuplicateId,
    /// DQ-003: a reference names no record.
    DanglingReference,
    /// DQ-004: started after it ended.
    TimeOrder,
    /// DQ-005: a naive time in a DST gap or overlap.
    DstAmbiguous,
    /// DQ-006: date of service outside the period.
    OutsidePeriod,
    /// DQ-007: a sessions line cut off mid-record (not JSON), next to the intact record.
    Unreadable,
}

impl Defect {
    pub(crate) const ALL: [Defect; 28] = [
        Defect::UnlistedCode,
        Defect::NoSupervision,
        Defect::GlobalPeriodVirtual,
        Defect::AudioOnly,
        Defect::CoverageGap,
        Defect::UnqualifiedSupervisor,
        Defect::Unlicensed,
        Defect::NonPhysicianVirtual,
        Defect::NoOnsitePractitioner,
        Defect::BlsExpired,
        Defect::ReactionUnclassified,
        Defect::ReactionIncomplete,
        Defect::AllergyListNotUpdated,
        Defect::SlowIntervention,
        Defect::PatientNotInformed,
        Defect::ProtocolIncomplete,
        Defect::ReactionWithoutContrast,
        Defect::SessionAtRisk,
        Defect::SessionSlow,
        Defect::UnderReporting,
        Defect::CoverageCancellation,
        Defect::BadValue,
        Defect::DuplicateId,
        Defect::DanglingReference,
        Defect::TimeOrder,
        Defect::DstAmbiguous,
        Defect::OutsidePeriod,
        Defect::Unreadable,
    ];

    /// The rule of the catalogue (policies/README.md) this defect makes fail.
    pub(crate) fn rule(self) -> &'static str {
        match self {
            Defect::UnlistedCode => "SUP-001",
            Defect::NoSupervision => "SUP-002",
            Defect::GlobalPeriodVirtual => "SUP-003",
            Defect::AudioOnly => "SUP-004",
            Defect::CoverageGap => "SUP-005",
            Defect::UnqualifiedSupervisor => "SUP-006",
            Defect::Unlicensed => "SUP-007",
            Defect::NonPhysicianVirtual => "ACR-001",
            Defect::NoOnsitePractitioner => "ACR-002",
            Defect::BlsExpired => "ACR-003",
            Defect::ReactionUnclassified => "RXN-001",
            Defect::ReactionIncomplete => "RXN-002",
            Defect::AllergyListNotUpdated => "RXN-003",
            Defect::SlowIntervention => "RXN-004",
            Defect::PatientNotInformed => "RXN-005",
            Defect::ProtocolIncomplete => "RXN-006",
            Defect::ReactionWithoutContrast => "RXN-007",
            Defect::SessionAtRisk => "BEN-001",
            Defect::SessionSlow => "BEN-002",
            Defect::UnderReporting => "BEN-003",
            Defect::CoverageCancellation => "BEN-005",
            Defect::BadValue => "DQ-001",
            Defect::DuplicateId => "DQ-002",
            Defect::DanglingReference => "DQ-003",
            Defect::TimeOrder => "DQ-004",
            Defect::DstAmbiguous => "DQ-005",
            Defect::OutsidePeriod => "DQ-006",
            Defect::Unreadable => "DQ-007",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Counts of injected defects, by kind.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally(pub(crate) [u64; Defect::ALL.len()]);

impl Tally {
    pub(crate) fn add(&mut self, defect: Defect) {
        self.0[defect.index()] += 1;
    }

    pub(crate) fn merge(&mut self, other: &Tally) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}

/// What an exam looks like before a defect is chosen for it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExamShape {
    pub(crate) completed: bool,
    pub(crate) cancelled: bool,
    pub(crate) contrast: bool,
    pub(crate) is_virtual: bool,
    pub(crate) ct: bool,
    pub(crate) idtf: bool,
    pub(crate) virtual_live: bool,
    pub(crate) has_previous: bool,
    pub(crate) dst_candidate: bool,
    /// Drawn with probability [`REACTION_GATE`] for completed exams without contrast.
    pub(crate) reaction_gate: bool,
}

/// Share of defect draws on a non-contrast exam that may become a reaction (RXN-007): without
/// it, such reactions would outnumber the real ones (contrast reactions are rare).
pub(crate) const REACTION_GATE: f64 = 0.02;

/// BEN-003's default `min_exams` (policies/README.md): completed contrast exams of a class a site
/// needs before zero reactions fail, as (class, exams). The under-reporting site is tallied once
/// per class it reaches, so the tally matches the findings under default parameters.
pub(crate) const UNDER_REPORTING_MIN_EXAMS: [(&str, u64); 2] =
    [("iodinated", 5_000), ("gadolinium", 20_000)];

/// Sessions lines that get a cut-off copy (DQ-007), as a share of `defect_rate`: 0.1% of the
/// lines at the default 2%.
pub(crate) const UNREADABLE_SHARE: f64 = 1.0 / 20.0;

/// The kinds that fit an exam of this shape, in a fixed order.
pub(crate) fn exam_kinds(s: ExamShape) -> Vec<Defect> {
    let virtual_contrast = s.is_virtual && s.contrast;
    let checks = [
        (Defect::UnlistedCode, s.completed),
        (Defect::NoSupervision, s.completed && s.contrast),
        (Defect::GlobalPeriodVirtual, virtual_contrast && s.ct),
        (Defect::AudioOnly, s.is_virtual),
        (Defect::CoverageGap, virtual_contrast),
        (Defect::UnqualifiedSupervisor, s.completed && !s.contrast),
        (Defect::Unlicensed, virtual_contrast),
        (Defect::NonPhysicianVirtual, virtual_contrast && !s.idtf),
        (Defect::NoOnsitePractitioner, virtual_contrast),
        (Defect::BlsExpired, virtual_contrast),
        (Defect::ReactionWithoutContrast, s.reaction_gate),
        (Defect::SessionAtRisk, s.is_virtual),
        (Defect::SessionSlow, s.is_virtual),
        (Defect::CoverageCancellation, s.cancelled && s.virtual_live),
        (Defect::BadValue, true),
        (Defect::DuplicateId, s.has_previous),
        (Defect::DanglingReference, s.completed),
        (Defect::TimeOrder, s.completed),
        (Defect::DstAmbiguous, s.dst_candidate),
        (Defect::OutsidePeriod, !s.contrast),
    ];
    checks
        .into_iter()
        .filter_map(|(d, fits)| fits.then_some(d))
        .collect()
}

/// Documentation defects of a reaction.
pub(crate) fn reaction_kinds(allergic: bool, moderate_or_severe: bool) -> Vec<Defect> {
    let checks = [
        (Defect::ReactionUnclassified, true),
        (Defect::ReactionIncomplete, true),
        (Defect::AllergyListNotUpdated, allergic),
        (Defect::SlowIntervention, moderate_or_severe),
        (Defect::PatientNotInformed, true),
        (Defect::ProtocolIncomplete, true),
    ];
    checks
        .into_iter()
        .filter_map(|(d, fits)| fits.then_some(d))
        .collect()
}
