//! One generated exam and its live session, and how they are written (a CSV row, an NDJSON line).

use std::borrow::Cow;
use std::fmt::Write as _;

use super::catalog::{Agent, Modality};
use super::stamp::{DAY, push_naive, push_naive_minutes, push_offset, push_utc};
use super::world::Facility;

pub(crate) const EXAM_HEADER: &str = "exam_id,facility_id,accession,patient_ref,cpt_code,modality,\
status,scheduled_at,started_at,ended_at,contrast,contrast_agent,contrast_class,contrast_dose_ml,\
contrast_route,contrast_lot,contrast_at,supervision_mode,supervisor_id,onsite_practitioner_id,\
technologist_id,session_id,cancel_reason,cancelled_at\n";

#[derive(Debug)]
pub(crate) struct Session<'w> {
    pub(crate) requested: i64,
    pub(crate) joined: Option<i64>,
    pub(crate) ended: i64,
    pub(crate) audio: bool,
    pub(crate) video: bool,
    pub(crate) supervisor: Cow<'w, str>,
    pub(crate) technologist: Cow<'w, str>,
    /// False when the exam points at a session the export lacks (DQ-003).
    pub(crate) written: bool,
}

/// Times are local seconds in the facility's zone.
#[derive(Debug)]
pub(crate) struct Exam<'w> {
    pub(crate) seq: u64,
    pub(crate) id: Cow<'w, str>,
    pub(crate) facility: &'w Facility,
    pub(crate) cpt: &'static str,
    pub(crate) modality: Modality,
    pub(crate) status: &'static str,
    pub(crate) scheduled: i64,
    pub(crate) started: Option<i64>,
    pub(crate) ended: Option<i64>,
    /// Write `started_at` without seconds (DQ-001).
    pub(crate) started_unparseable: bool,
    pub(crate) contrast: bool,
    pub(crate) agent: Option<&'static Agent>,
    pub(crate) dose_tenths: Option<i64>,
    /// Write the dose with a unit (DQ-001).
    pub(crate) dose_unparseable: bool,
    pub(crate) lot: Option<(i64, u64)>,
    pub(crate) contrast_at: Option<i64>,
    pub(crate) mode: Option<&'static str>,
    pub(crate) supervisor: Option<Cow<'w, str>>,
    pub(crate) onsite: Option<Cow<'w, str>>,
    pub(crate) technologist: Option<Cow<'w, str>>,
    pub(crate) session: Option<Session<'w>>,
    pub(crate) cancel_reason: Option<&'static str>,
    pub(crate) cancelled_at: Option<i64>,
}

fn push_time(buf: &mut String, facility: &Facility, local: i64) {
    if facility.rfc3339 {
        push_offset(buf, local, facility.zone.offset(local.div_euclid(DAY)));
    } else {
        push_naive(buf, local);
    }
}

fn push_opt_time(buf: &mut String, facility: &Facility, local: Option<i64>) {
    if let Some(t) = local {
        push_time(buf, facility, t);
    }
}

fn push_opt(buf: &mut String, value: Option<&str>) {
    if let Some(v) = value {
        buf.push_str(v);
    }
}

pub(crate) fn session_id(seq: u64) -> String {
    format!("SS{seq:07}")
}

impl Exam<'_> {
    /// Appends the exam's CSV row (no field needs quoting: ids and codes are plain).
    pub(crate) fn push_row(&self, buf: &mut String) {
        let f = self.facility;
        buf.push_str(&self.id);
        buf.push(',');
        buf.push_str(&f.id);
        let _ = write!(
            buf,
            ",ACC{:09},PT{:08X},",
            self.seq,
            (self.seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32)
        );
        buf.push_str(self.cpt);
        buf.push(',');
        buf.push_str(self.modality.name());
        buf.push(',');
        buf.push_str(self.status);
        buf.push(',');
        push_time(buf, f, self.scheduled);
        buf.push(',');
        match self.started {
            Some(t) if self.started_unparseable => push_naive_minutes(buf, t),
            other => push_opt_time(buf, f, other),
        }
        buf.push(',');
        push_opt_time(buf, f, self.ended);
        buf.push_str(if self.contrast { ",true," } else { ",false," });
        push_opt(buf, self.agent.map(|a| a.name));
        buf.push(',');
        push_opt(buf, self.agent.map(|a| a.class));
        buf.push(',');
        if let Some(d) = self.dose_tenths {
            let _ = write!(buf, "{}.{}", d / 10, d % 10);
            if self.dose_unparseable {
                buf.push_str(" mL");
            }
        }
        buf.push(',');
        if self.dose_tenths.is_some() {
            buf.push_str("IV");
        }
        buf.push(',');
        if let (Some(agent), Some((month, n))) = (self.agent, self.lot) {
            let _ = write!(buf, "{}{month:04}-{n}", agent.lot_prefix);
        }
        buf.push(',');
        push_opt_time(buf, f, self.contrast_at);
        buf.push(',');
        push_opt(buf, self.mode);
        buf.push(',');
        push_opt(buf, self.supervisor.as_deref());
        buf.push(',');
        push_opt(buf, self.onsite.as_deref());
        buf.push(',');
        push_opt(buf, self.technologist.as_deref());
        buf.push(',');
        if self.session.is_some() {
            buf.push_str(&session_id(self.seq));
        }
        buf.push(',');
        push_opt(buf, self.cancel_reason);
        buf.push(',');
        push_opt_time(buf, f, self.cancelled_at);
        buf.push('\n');
    }

    /// Appends the session's NDJSON line (platform logs are in UTC), if it is exported.
    pub(crate) fn push_session(&self, buf: &mut String) -> bool {
        let Some(s) = self.session.as_ref().filter(|s| s.written) else {
            return false;
        };
        let zone = &self.facility.zone;
        let _ = write!(
            buf,
            "{{\"session_id\":\"{}\",\"facility_id\":\"{}\",\"exam_id\":\"{}\",\"technologist_id\":\"{}\",\"supervisor_id\":\"{}\",\"requested_at\":\"",
            session_id(self.seq),
            self.facility.id,
            self.id,
            s.technologist,
            s.supervisor
        );
        push_utc(buf, zone.to_utc(s.requested));
        buf.push_str("\",\"joined_at\":");
        match s.joined {
            Some(t) => {
                buf.push('"');
                push_utc(buf, zone.to_utc(t));
                buf.push('"');
            }
            None => buf.push_str("null"),
        }
        buf.push_str(",\"ended_at\":\"");
        push_utc(buf, zone.to_utc(s.ended));
        let _ = writeln!(buf, "\",\"audio\":{},\"video\":{}}}", s.audio, s.video);
        true
    }
}

/// Appends a facility-styled time (naive local or RFC 3339 with offset) for the reaction writer.
pub(crate) fn push_facility_time(buf: &mut String, facility: &Facility, local: i64) {
    push_time(buf, facility, local);
}
