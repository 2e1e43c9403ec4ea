//! `vigil gen`: deterministic synthetic bundles for the demo, tests and benchmarks.
//!
//! [`generate`] writes a complete bundle (docs/bundle-format.md) for a synthetic imaging network:
//! sites in several states and zones, their staff and remote radiologists, a daily coverage roster,
//! and the exams, live sessions and contrast reactions of the period. The data is clean except for
//! rare deliberate defects, one kind per rule of policies/README.md (see `defects.rs`), at about
//! `defect_rate` of the exams. Two defects are bundle-wide: the busiest site never exports its
//! reactions (BEN-003, which fails once that site has enough exams, about 1,000,000 in all), and a
//! few sessions lines (`defect_rate / 20` of them, at least one) are followed by a copy cut off
//! mid-line (DQ-007; the intact record stays, so no other count changes). The same options give
//! byte-identical files: everything comes from seeded random streams (one for the network, one per
//! month) and nothing reads the clock.
//!
//! Bundle layout:
//!
//! ```text
//! bundle.toml
//! facilities.csv
//! practitioners.csv
//! reference/procedure_codes.csv
//! exams/YYYY-MM.csv        one per calendar month of the period
//! sessions.ndjson          platform log, UTC
//! coverage.csv             facility windows in local time, `*` windows in UTC
//! reactions.ndjson
//! ```

mod catalog;
mod defects;
mod exam;
mod month;
mod reaction;
mod rng;
mod stamp;
mod world;
mod write;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use chrono::{Months, NaiveDate};
use rayon::prelude::*;

use defects::{Defect, Tally, UNDER_REPORTING_MIN_EXAMS};
use month::{MonthOut, MonthPlan, Shared, generate_month};
use rng::Rng;
use stamp::{civil, epoch_day, opening_weight};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Scheduled exams (every status), over the whole period.
    pub exams: usize,
    pub seed: u64,
    /// Share of exams that carry one deliberate defect, in [0, 1].
    pub defect_rate: f64,
    /// First day of the period.
    pub start: NaiveDate,
    /// Length of the period in calendar months.
    pub months: u32,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            exams: 500,
            seed: 1,
            defect_rate: 0.02,
            start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
            months: 3,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("cannot write `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct GenSummary {
    /// Every dataset file (path relative to the bundle, `/`-separated) with its record count, in
    /// the order written; the manifest `bundle.toml` is not listed.
    pub files: Vec<(String, u64)>,
    /// Deliberate defects injected, by the rule they make fail (in the order of the catalogue,
    /// policies/README.md; zero counts included).
    pub defects: Vec<(&'static str, u64)>,
}

/// Writes a synthetic bundle into `out` (created with its parents if needed).
pub fn generate(opts: &GenOptions, out: &Path) -> Result<GenSummary, GenError> {
    let (first_day, last_day) = period(opts)?;
    let mut rng = Rng::stream(opts.seed, 0);
    let world = world::build(&mut rng, opts.exams, first_day, last_day);
    let plans = plan_months(opts.exams, first_day, last_day);
    let years = code_years(first_day, last_day);

    std::fs::create_dir_all(out.join("exams")).map_err(write::io_error(out))?;
    {
        let path = out.join("bundle.toml");
        std::fs::write(&path, write::manifest(opts, first_day, last_day))
            .map_err(write::io_error(&path))?;
    }
    let mut files = vec![
        (
            "facilities.csv".to_string(),
            write::facilities(out, "facilities.csv", &world)?,
        ),
        (
            "practitioners.csv".to_string(),
            write::practitioners(out, "practitioners.csv", &world)?,
        ),
        (
            "reference/procedure_codes.csv".to_string(),
            write::procedure_codes(out, "reference/procedure_codes.csv", &years)?,
        ),
    ];

    // Out-of-period dates (DQ-006) stay in a year the reference table has, when one is adjacent.
    let outside_day =
        if years.contains(&civil(last_day + 1).0) || !years.contains(&civil(first_day - 1).0) {
            last_day + 1
        } else {
            first_day - 1
        };
    let shared = Shared {
        world: &world,
        seed: opts.seed,
        defect_rate: opts.defect_rate,
        outside_day,
        silent: (opts.defect_rate > 0.0).then(|| busiest(&world)).flatten(),
    };
    let mut months: Vec<MonthOut> = plans
        .par_iter()
        .map(|plan| {
            generate_month(
                shared,
                plan,
                &out.join("exams").join(format!("{}.csv", plan.label)),
            )
        })
        .collect::<Result<_, _>>()?;

    let mut tally = Tally::default();
    let mut silent_exams = [0u64; 2];
    for (plan, m) in plans.iter().zip(&months) {
        files.push((format!("exams/{}.csv", plan.label), m.exams));
        tally.merge(&m.tally);
        for (total, n) in silent_exams.iter_mut().zip(m.silent_exams) {
            *total += n;
        }
    }
    for ((_, min), n) in UNDER_REPORTING_MIN_EXAMS.iter().zip(silent_exams) {
        if n >= *min {
            tally.add(Defect::UnderReporting);
        }
    }
    // Any damage at all gets at least one unreadable line, when there is a line to copy.
    if opts.defect_rate > 0.0
        && tally.0[Defect::Unreadable.index()] == 0
        && let Some(m) = months.iter_mut().find(|m| m.session_count > 0)
    {
        let first = m.sessions.find('\n').map_or(m.sessions.len(), |i| i + 1);
        let mut cut = String::new();
        let mut rng = Rng::stream(opts.seed, month::UNREADABLE_STREAM - 1);
        month::push_cut_line(&mut rng, m.sessions[..first].trim_end(), &mut cut);
        m.sessions.insert_str(first, &cut);
        tally.add(Defect::Unreadable);
    }
    let part = |f: fn(&MonthOut) -> &str| months.iter().map(f).collect::<Vec<_>>();
    write::write_parts(out, "sessions.ndjson", "", &part(|m| &m.sessions))?;
    files.push((
        "sessions.ndjson".to_string(),
        months.iter().map(|m| m.session_count).sum(),
    ));
    write::write_parts(
        out,
        "coverage.csv",
        "coverage_id,supervisor_id,facility_id,start,end,mode\n",
        &part(|m| &m.coverage),
    )?;
    files.push((
        "coverage.csv".to_string(),
        months.iter().map(|m| m.coverage_count).sum(),
    ));
    write::write_parts(out, "reactions.ndjson", "", &part(|m| &m.reactions))?;
    files.push((
        "reactions.ndjson".to_string(),
        months.iter().map(|m| m.reaction_count).sum(),
    ));

    let defects = Defect::ALL
        .iter()
        .map(|d| (d.rule(), tally.0[d.index()]))
        .collect();
    Ok(GenSummary { files, defects })
}

/// The under-reporting site (BEN-003): the one with the largest share of the exams, so it is the
/// first to reach BEN-003's `min_exams` (5,000 completed iodinated exams, about 1,000,000 exams in
/// all over three months; smaller bundles drop its reactions but cannot make BEN-003 fail).
fn busiest(world: &world::World) -> Option<usize> {
    let w = &world.facility_weights;
    (0..w.len())
        .map(|i| (i, w[i] - if i == 0 { 0.0 } else { w[i - 1] }))
        .fold(None, |best: Option<(usize, f64)>, (i, x)| match best {
            Some((_, b)) if b >= x => best,
            _ => Some((i, x)),
        })
        .map(|(i, _)| i)
}

/// The period as epoch days, first and last inclusive.
fn period(opts: &GenOptions) -> Result<(i64, i64), GenError> {
    if !(0.0..=1.0).contains(&opts.defect_rate) {
        return Err(GenError::Invalid(format!(
            "defect rate must be between 0 and 1, got `{}`",
            opts.defect_rate
        )));
    }
    if opts.months == 0 {
        return Err(GenError::Invalid(
            "the period must last at least one month".to_string(),
        ));
    }
    let end = opts
        .start
        .checked_add_months(Months::new(opts.months))
        .and_then(|d| d.pred_opt())
        .ok_or_else(|| {
            GenError::Invalid(format!(
                "a period of {} months from {} is out of range",
                opts.months, opts.start
            ))
        })?;
    Ok((epoch_day(opts.start), epoch_day(end)))
}

/// Fee schedule years of the reference table: every year of the period, and 2026.
fn code_years(first_day: i64, last_day: i64) -> Vec<i64> {
    let mut years: Vec<i64> = (civil(first_day).0..=civil(last_day).0).collect();
    years.push(2026);
    years.sort_unstable();
    years.dedup();
    years
}

/// Splits the exams over the days (exactly, by cumulative rounding) and the days into months.
fn plan_months(exams: usize, first_day: i64, last_day: i64) -> Vec<MonthPlan> {
    let total: u128 = (first_day..=last_day)
        .map(opening_weight)
        .sum::<u128>()
        .max(1);
    let mut plans: Vec<MonthPlan> = Vec::new();
    let (mut cum, mut assigned, mut seq) = (0u128, 0usize, 0u64);
    for day in first_day..=last_day {
        cum += opening_weight(day);
        let upto = (exams as u128 * cum / total) as usize;
        let count = upto - assigned;
        assigned = upto;
        let (year, month, _) = civil(day);
        if plans
            .last()
            .is_none_or(|p| (p.year, p.month) != (year, month))
        {
            plans.push(MonthPlan {
                label: format!("{year:04}-{month:02}"),
                year,
                month,
                index: plans.len() as u64,
                days: Vec::new(),
                first_seq: seq,
            });
        }
        if let Some(plan) = plans.last_mut() {
            plan.days.push((day, count));
        }
        seq += count as u64;
    }
    plans
}
