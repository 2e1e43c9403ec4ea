//! The small files of a bundle (manifest, facilities, practitioners, procedure codes) and the
//! helpers every writer shares.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use super::catalog::CODES;
use super::stamp::{DAY, HOUR, push_date, push_utc};
use super::world::World;
use super::{GenError, GenOptions};

pub(crate) fn io_error(path: &Path) -> impl Fn(std::io::Error) -> GenError + '_ {
    move |source| GenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `out/rel` (and its folder) for writing.
pub(crate) fn create(out: &Path, rel: &str) -> Result<BufWriter<File>, GenError> {
    let path = out.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    let file = File::create(&path).map_err(io_error(&path))?;
    Ok(BufWriter::with_capacity(1 << 20, file))
}

/// Writes `out/rel` from a header and the parts, in order.
pub(crate) fn write_parts(
    out: &Path,
    rel: &str,
    header: &str,
    parts: &[&str],
) -> Result<(), GenError> {
    let path = out.join(rel);
    let mut w = create(out, rel)?;
    let io = io_error(&path);
    w.write_all(header.as_bytes()).map_err(&io)?;
    for part in parts {
        w.write_all(part.as_bytes()).map_err(&io)?;
    }
    w.flush().map_err(&io)
}

fn date(day: i64) -> String {
    let mut s = String::with_capacity(10);
    push_date(&mut s, day);
    s
}

fn opt_date(day: Option<i64>) -> String {
    day.map(date).unwrap_or_default()
}

pub(crate) fn manifest(opts: &GenOptions, first_day: i64, last_day: i64) -> String {
    let mut exported = String::new();
    push_utc(&mut exported, (last_day + 2) * DAY + 8 * HOUR);
    format!(
        "[bundle]\n\
         id = \"lakeside-synthetic-{start}-{months}m-seed{seed}\"\n\
         organization = \"Lakeside Imaging Network (synthetic)\"\n\
         period_start = {start}\n\
         period_end = {end}\n\
         timezone = \"America/Chicago\"\n\
         source = \"vigil gen: synthetic RIS export and supervision platform log \
         (seed {seed}, {exams} exams, defect rate {rate})\"\n\
         exported_at = {exported}\n\
         format_version = 1\n",
        start = date(first_day),
        end = date(last_day),
        months = opts.months,
        seed = opts.seed,
        exams = opts.exams,
        rate = opts.defect_rate,
    )
}

fn csv_file<F>(out: &Path, rel: &str, fill: F) -> Result<u64, GenError>
where
    F: FnOnce(&mut csv::Writer<BufWriter<File>>) -> csv::Result<u64>,
{
    let path = out.join(rel);
    let mut w = csv::Writer::from_writer(create(out, rel)?);
    let rows = fill(&mut w).map_err(|e| io_error(&path)(e.into()))?;
    w.flush().map_err(io_error(&path))?;
    Ok(rows)
}

pub(crate) fn facilities(out: &Path, rel: &str, world: &World) -> Result<u64, GenError> {
    csv_file(out, rel, |w| {
        w.write_record([
            "facility_id",
            "name",
            "setting",
            "state",
            "timezone",
            "virtual_go_live",
        ])?;
        for f in &world.facilities {
            let zone = if f.writes_zone { f.zone_name } else { "" };
            w.write_record([
                f.id.as_str(),
                &f.name,
                f.setting,
                f.state,
                zone,
                &opt_date(f.go_live),
            ])?;
        }
        Ok(world.facilities.len() as u64)
    })
}

pub(crate) fn practitioners(out: &Path, rel: &str, world: &World) -> Result<u64, GenError> {
    csv_file(out, rel, |w| {
        w.write_record([
            "practitioner_id",
            "name",
            "role",
            "bls_expires",
            "acls_expires",
            "licensed_states",
        ])?;
        for p in &world.practitioners {
            w.write_record([
                p.id.as_str(),
                &p.name,
                p.role,
                &opt_date(p.bls_expires),
                &opt_date(p.acls_expires),
                &p.states.join(";"),
            ])?;
        }
        Ok(world.practitioners.len() as u64)
    })
}

pub(crate) fn procedure_codes(out: &Path, rel: &str, years: &[i64]) -> Result<u64, GenError> {
    csv_file(out, rel, |w| {
        w.write_record([
            "cpt_code",
            "year",
            "supervision_indicator",
            "global_days",
            "description",
        ])?;
        let mut rows = 0;
        for year in years {
            let year = year.to_string();
            for c in CODES {
                w.write_record([c.cpt, &year, c.indicator, c.global_days, c.description])?;
                rows += 1;
            }
        }
        Ok(rows)
    })
}
