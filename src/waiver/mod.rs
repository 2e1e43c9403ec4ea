//! Waivers: justified, approved, expiring exceptions that mark findings `waived`.
//!
//! May use: `bundle`, `policy` (error locations, rule ids), `eval` (the findings model it
//! amends). Never `report`, `packet`, `author` or the command line.
//!
//! A waivers file (`--waivers FILE`) holds `[[waiver]]` tables:
//!
//! ```toml
//! [[waiver]]
//! rule = "SUP-005"                 # a rule id of a loaded pack (required)
//! subject = "E-2026-0*"            # a record key, or a glob over keys (required; `*` for all)
//! facility = "F-NORTH"             # optional: the finding's record's facility id
//! dos_from = 2026-01-01            # optional, inclusive: the record's date of service
//! dos_to = 2026-01-31              # optional, inclusive
//! justification = "coverage log lost in the January platform outage; paper log on file"
//! approver = "Director of Compliance"
//! ticket = "COMP-1182"             # optional
//! created = 2026-02-03             # optional: in force from this day
//! expires = 2026-06-30             # required: in force through this day
//! ```
//!
//! Decisions:
//! - The file is checked before any bundle is read; a missing `rule`, `subject`,
//!   `justification`, `approver` or `expires`, an unknown rule (with "did you mean"), a bad
//!   glob, a bad date or an unknown key stops the run (exit 2) with file, line and a help line.
//!   `WAIVER-001`/`WAIVER-002` cannot be waived.
//! - "Today" is the UTC date of `--as-of`. A waiver is in force from `created` (when given)
//!   through the whole `expires` day: `expires = 2026-06-30` applies while today <= 2026-06-30.
//! - A waiver whose `created` is after today did not exist yet: it waives nothing and is not
//!   reported as a finding (a run `--as-of` a past date looks as it did then); it is counted
//!   as not applicable, reason `created after --as-of`, in the WAIVER-001/002 rule summaries.
//! - A waiver covers a finding of its rule whose `subject.key` the glob matches, whose record
//!   belongs to `facility` (exams, sessions, coverage: their `facility_id`; reactions: their
//!   exam's; facilities: their key; other datasets: none), and whose record's date of service
//!   (`World::record_date`) lies in `dos_from..=dos_to`. A record with no facility or date never
//!   matches a waiver that asks for one. The record is the one the finding judged (the engine
//!   records its facility and date of service with the finding).
//! - Several waivers covering one finding: the first in force in file order wins.
//! - Each expired waiver that still covers a finding is one WAIVER-001 (low); each waiver in force
//!   or expired that covers nothing is one WAIVER-002 (low). Both belong to the `waivers` pseudo
//!   pack, subject `waivers` / the ticket (else `file:line`), located at the waiver's header.

mod apply;
mod error;
mod file;

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::eval::run::Evaluation;
use crate::policy::model::Pack;

pub use apply::Standing;
pub use error::WaiverError;
pub use file::Waiver;

/// An expired waiver that still matches findings.
pub const WAIVER_EXPIRED: &str = "WAIVER-001";
/// A waiver that matches no finding.
pub const WAIVER_UNMATCHED: &str = "WAIVER-002";
/// The `policy` of WAIVER-001/002 findings.
pub const PSEUDO_PACK: &str = "waivers";
/// The `policy_version` of WAIVER-001/002 findings.
pub const PSEUDO_PACK_VERSION: &str = "1";

/// A loaded waivers file.
#[derive(Debug, Default)]
pub struct Waivers {
    /// The file as given on the command line; findings and `waiver` objects name it so.
    pub path: String,
    /// In file order.
    pub waivers: Vec<Waiver>,
}

/// Reads and validates a waivers file against the rule ids of `packs`.
pub fn load(path: &Path, packs: &[Pack]) -> Result<Waivers, WaiverError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| WaiverError::Read {
        path: shown.clone(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        WaiverError::Invalid(crate::policy::error::PolicyError::new(
            &shown,
            "the waivers file is not UTF-8",
        ))
    })?;
    let rules: BTreeSet<String> = packs
        .iter()
        .flat_map(|p| p.versions.iter())
        .flat_map(|v| v.rules.iter().map(|r| r.id.clone()))
        .collect();
    let waivers = file::parse(&text, &shown, &rules).map_err(WaiverError::Invalid)?;
    Ok(Waivers {
        path: shown,
        waivers,
    })
}

/// Judges the waivers at `as_of` (its UTC date): see the module docs.
pub fn apply(waivers: &Waivers, eval: &mut Evaluation, as_of: DateTime<Utc>) {
    apply::apply(waivers, eval, as_of.date_naive());
}
