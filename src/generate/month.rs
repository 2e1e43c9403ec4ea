//! One calendar month of the period: its exams file, and its share of sessions, coverage and
//! reactions, from the month's own random stream (so months generate in parallel).

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;

use super::GenError;
use super::catalog::{
    CANCEL_REASONS, CODES, COVERAGE_REASONS, GADOLINIUM, GLOBAL_010, IODINATED, Modality,
    UNLISTED_CT, UNLISTED_MR,
};
use super::defects::{
    Defect, ExamShape, REACTION_GATE, Tally, UNDER_REPORTING_MIN_EXAMS, UNREADABLE_SHARE,
    exam_kinds,
};
use super::exam::{EXAM_HEADER, Exam, Session};
use super::reaction::{push_reaction, rate};
use super::rng::{Rng, cumulative};
use super::stamp::{DAY, HOUR, MINUTE, is_dst_edge, opening_weight, push_naive, push_utc};
use super::world::{Facility, World};

/// The days of one month, with the number of exams scheduled on each.
#[derive(Debug, Clone)]
pub(crate) struct MonthPlan {
    /// `YYYY-MM`, the exams file's stem.
    pub(crate) label: String,
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) index: u64,
    /// (epoch day, exams) for each day of the month inside the period.
    pub(crate) days: Vec<(i64, usize)>,
    /// Sequence number of the month's first exam, minus one.
    pub(crate) first_seq: u64,
}

/// What the whole bundle shares with every month.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shared<'w> {
    pub(crate) world: &'w World,
    pub(crate) seed: u64,
    pub(crate) defect_rate: f64,
    /// A day just outside the period, for DQ-006 defects.
    pub(crate) outside_day: i64,
    /// The under-reporting site (BEN-003): its reactions are generated but never exported.
    pub(crate) silent: Option<usize>,
}

#[derive(Debug, Default)]
pub(crate) struct MonthOut {
    pub(crate) exams: u64,
    pub(crate) sessions: String,
    pub(crate) session_count: u64,
    pub(crate) coverage: String,
    pub(crate) coverage_count: u64,
    pub(crate) reactions: String,
    pub(crate) reaction_count: u64,
    /// Completed contrast exams of the under-reporting site, as BEN-003 counts them, by class in
    /// the order of [`UNDER_REPORTING_MIN_EXAMS`].
    pub(crate) silent_exams: [u64; 2],
    pub(crate) tally: Tally,
}

struct MonthGen<'w> {
    shared: Shared<'w>,
    rng: Rng,
    /// Draws for DQ-007 lines, apart from `rng` so they leave every record as it would be.
    unreadable_rng: Rng,
    code_weights: Vec<f64>,
    reason_weights: Vec<f64>,
    plan: &'w MonthPlan,
    seq: u64,
    /// Sequence number in the id of the last exam written (for DQ-002 defects).
    last_id: Option<u64>,
    coverage_seq: u64,
    out: MonthOut,
}

/// Writes `exams_path` and returns the month's other records.
pub(crate) fn generate_month(
    shared: Shared<'_>,
    plan: &MonthPlan,
    exams_path: &Path,
) -> Result<MonthOut, GenError> {
    let io = |source| GenError::Io {
        path: exams_path.to_path_buf(),
        source,
    };
    let mut file = BufWriter::with_capacity(1 << 20, File::create(exams_path).map_err(io)?);
    file.write_all(EXAM_HEADER.as_bytes()).map_err(io)?;
    let mut g = MonthGen {
        shared,
        rng: Rng::stream(shared.seed, 1 + plan.index),
        unreadable_rng: Rng::stream(shared.seed, UNREADABLE_STREAM + plan.index),
        code_weights: cumulative(CODES.iter().map(|c| c.weight)),
        reason_weights: cumulative(CANCEL_REASONS.iter().map(|r| r.1)),
        plan,
        seq: plan.first_seq,
        last_id: None,
        coverage_seq: 0,
        out: MonthOut::default(),
    };
    let mut line = String::with_capacity(512);
    for &(day, count) in &plan.days {
        g.base_coverage(day);
        let world = shared.world;
        let mut drafts: Vec<(i64, usize)> = (0..count)
            .map(|_| {
                let sod = 7 * HOUR + 5 * MINUTE * g.rng.range(0, 129);
                (sod, g.rng.weighted(&world.facility_weights))
            })
            .collect();
        drafts.sort_unstable();
        for (sod, facility) in drafts {
            line.clear();
            g.exam(facility, day, sod, &mut line);
            file.write_all(line.as_bytes()).map_err(io)?;
        }
    }
    file.flush().map_err(io)?;
    Ok(g.out)
}

/// First random stream of the DQ-007 draws (one per month); streams below are the network's and
/// the months'.
pub(crate) const UNREADABLE_STREAM: u64 = 1 << 32;

/// Appends a copy of `line` (one NDJSON record, without its newline) cut off partway, as an
/// export interrupted mid-line leaves it: a strict prefix of an object, so never JSON, and
/// never blank.
pub(crate) fn push_cut_line(rng: &mut Rng, line: &str, buf: &mut String) {
    let len = line.len();
    let mut cut = (len / 4 + rng.index(len / 2 + 1)).clamp(1, len.saturating_sub(1).max(1));
    while !line.is_char_boundary(cut) {
        cut -= 1;
    }
    buf.push_str(&line[..cut]);
    buf.push('\n');
}

/// Seconds from request to join: median about 17 s; the tail past 30 s comes only from
/// BEN-001/BEN-002 defects, so a bundle without defects meets every benchmark.
fn response_time(rng: &mut Rng) -> i64 {
    (17.0 * (0.35 * rng.normal()).exp())
        .round()
        .clamp(4.0, 30.0) as i64
}

fn pick<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    items[rng.index(items.len())]
}

impl<'w> MonthGen<'w> {
    fn world(&self) -> &'w World {
        self.shared.world
    }

    fn coverage_id(&mut self) {
        self.coverage_seq += 1;
        self.out.coverage_count += 1;
        let _ = std::fmt::Write::write_fmt(
            &mut self.out.coverage,
            format_args!("CV{:02}-{:05},", self.plan.index + 1, self.coverage_seq),
        );
    }

    /// A window for one facility, in its local time.
    fn local_window(&mut self, who: usize, f: &Facility, start: i64, end: i64, mode: &str) {
        self.coverage_id();
        let world = self.world();
        let buf = &mut self.out.coverage;
        buf.push_str(world.id(who));
        buf.push(',');
        buf.push_str(&f.id);
        buf.push(',');
        push_naive(buf, start);
        buf.push(',');
        push_naive(buf, end);
        buf.push(',');
        buf.push_str(mode);
        buf.push('\n');
    }

    /// A window for every facility (`*`), in UTC.
    fn network_window(&mut self, who: usize, start: i64, end: i64) {
        self.coverage_id();
        let world = self.world();
        let buf = &mut self.out.coverage;
        buf.push_str(world.id(who));
        buf.push_str(",*,");
        push_utc(buf, start);
        buf.push(',');
        push_utc(buf, end);
        buf.push_str(",virtual\n");
    }

    /// The day's shifts: sites open 07:00-19:00 local on opening days.
    fn base_coverage(&mut self, day: i64) {
        if opening_weight(day) == 0 {
            return;
        }
        let world = self.world();
        let hub = world.hub_on_duty(day);
        // 11:00Z to 03:00Z covers 07:00-19:00 in every US zone from New York to Los Angeles.
        let (start, end) = (day * DAY + 11 * HOUR, (day + 1) * DAY + 3 * HOUR);
        if self.rng.chance(0.25) {
            self.network_window(hub, start, day * DAY + 19 * HOUR);
            self.network_window(hub, day * DAY + 19 * HOUR, end);
        } else {
            self.network_window(hub, start, end);
        }
        for f in &world.facilities {
            let (open, close) = (day * DAY + 7 * HOUR, day * DAY + 19 * HOUR);
            self.local_window(f.physician, f, open, close, "onsite");
            if f.virtual_live(day) {
                let rad = f.on_duty(day);
                if self.rng.chance(0.25) {
                    let noon = day * DAY + 13 * HOUR;
                    self.local_window(rad, f, open, noon, "virtual");
                    self.local_window(rad, f, noon, close, "virtual");
                } else {
                    self.local_window(rad, f, open, close, "virtual");
                }
            }
        }
    }

    fn exam(&mut self, facility: usize, day: i64, sod: i64, line: &mut String) {
        let world = self.world();
        let f = &world.facilities[facility];
        let silent = self.shared.silent == Some(facility);
        self.seq += 1;
        let seq = self.seq;
        let rng = &mut self.rng;
        let code_index = rng.weighted(&self.code_weights);
        let code = &CODES[code_index];
        let status = match rng.unit() {
            u if u < 0.85 => "completed",
            u if u < 0.955 => "cancelled",
            _ => "no_show",
        };
        let completed = status == "completed";
        let live = f.virtual_live(day);
        let agent = code.contrast.then(|| match code.modality {
            Modality::Ct => &IODINATED[rng.index(IODINATED.len())],
            Modality::Mr => &GADOLINIUM[rng.index(GADOLINIUM.len())],
        });
        let scheduled = day * DAY + sod;
        let mut e = Exam {
            seq,
            id: Cow::Owned(format!("EX{seq:07}")),
            facility: f,
            cpt: code.cpt,
            modality: code.modality,
            status,
            scheduled,
            started: None,
            ended: None,
            started_unparseable: false,
            contrast: code.contrast,
            agent,
            dose_tenths: None,
            dose_unparseable: false,
            lot: None,
            contrast_at: None,
            mode: None,
            supervisor: None,
            onsite: None,
            technologist: None,
            session: None,
            cancel_reason: None,
            cancelled_at: None,
        };
        if completed {
            let start = scheduled + rng.range(0, 15 * MINUTE);
            let end = start + rng.range(10 * MINUTE, 40 * MINUTE);
            e.started = Some(start);
            e.ended = Some(end);
            let tech = world.id(pick(rng, &f.techs));
            e.technologist = Some(Cow::Borrowed(tech));
            let onsite = if !f.apps.is_empty() && rng.chance(0.2) {
                pick(rng, &f.apps)
            } else {
                pick(rng, &f.rns)
            };
            e.onsite = Some(Cow::Borrowed(world.id(onsite)));
            if code.contrast && live && code_index != GLOBAL_010 && rng.chance(0.9) {
                let who = if rng.chance(0.3) {
                    world.hub_on_duty(day)
                } else {
                    f.on_duty(day)
                };
                let supervisor = world.id(who);
                e.mode = Some("virtual");
                e.supervisor = Some(Cow::Borrowed(supervisor));
                let requested = start + rng.range(0, 60);
                let joined = requested + response_time(rng);
                e.contrast_at = Some((joined + rng.range(15, 90)).clamp(start + 60, end - 60));
                e.session = Some(Session {
                    requested,
                    joined: Some(joined),
                    ended: end + rng.range(0, 90),
                    audio: true,
                    video: true,
                    supervisor: Cow::Borrowed(supervisor),
                    technologist: Cow::Borrowed(tech),
                    written: true,
                });
            } else {
                e.mode = Some("onsite");
                e.supervisor = Some(Cow::Borrowed(world.id(f.physician)));
                if code.contrast {
                    e.contrast_at = Some(start + rng.range(60, 300));
                }
            }
            if let Some(a) = agent {
                e.dose_tenths = Some(rng.range(a.dose_tenths.0, a.dose_tenths.1) / 5 * 5);
                let yymm = self.plan.year % 100 * 100 + i64::from(self.plan.month);
                e.lot = Some((yymm, rng.below(4) + 1));
            }
        } else if status == "cancelled" {
            e.cancel_reason = Some(if code.contrast && !live && rng.chance(0.12) {
                pick(rng, COVERAGE_REASONS)
            } else {
                CANCEL_REASONS[rng.weighted(&self.reason_weights)].0
            });
            e.cancelled_at = Some(if rng.chance(0.25) {
                scheduled - rng.range(30 * MINUTE, 2 * HOUR)
            } else {
                (day - rng.range(1, 4)) * DAY + rng.range(6 * HOUR, 22 * HOUR)
            });
        }

        let mut reaction_forced = false;
        let mut reused_id = false;
        if self.shared.defect_rate > 0.0 && self.rng.chance(self.shared.defect_rate) {
            let shape = ExamShape {
                completed,
                cancelled: status == "cancelled",
                contrast: code.contrast,
                is_virtual: e.mode == Some("virtual"),
                ct: code.modality == Modality::Ct,
                idtf: f.setting == "idtf",
                virtual_live: live,
                has_previous: self.last_id.is_some(),
                dst_candidate: status == "cancelled"
                    && !f.rfc3339
                    && f.dst_days.iter().any(|&t| t < day && day - t <= 45),
                // The under-reporting site exports no reaction, so it gets no RXN-007 either.
                reaction_gate: completed
                    && !code.contrast
                    && self.rng.chance(REACTION_GATE)
                    && !silent,
            };
            let kinds = exam_kinds(shape);
            if !kinds.is_empty() {
                let defect = kinds[self.rng.index(kinds.len())];
                reaction_forced = self.damage(&mut e, defect, day);
                reused_id = defect == Defect::DuplicateId;
                self.out.tally.add(defect);
            }
        }

        e.push_row(line);
        self.out.exams += 1;
        if !reused_id {
            self.last_id = Some(seq);
        }
        if silent
            && e.status == "completed"
            && e.contrast
            && let Some(class) = UNDER_REPORTING_MIN_EXAMS
                .iter()
                .position(|(c, _)| agent.is_some_and(|a| a.class == *c))
        {
            self.out.silent_exams[class] += 1;
        }
        let start = self.out.sessions.len();
        if e.push_session(&mut self.out.sessions) {
            self.out.session_count += 1;
            let rate = self.shared.defect_rate * UNREADABLE_SHARE;
            if rate > 0.0 && self.unreadable_rng.chance(rate) {
                let written = self.out.sessions[start..].trim_end().to_string();
                push_cut_line(&mut self.unreadable_rng, &written, &mut self.out.sessions);
                self.out.tally.add(Defect::Unreadable);
            }
        }
        let reacts =
            reaction_forced || (completed && agent.is_some_and(|a| self.rng.chance(rate(a.class))));
        if reacts {
            let fallback = world.id(f.physician);
            // The under-reporting site's reactions are drawn as usual, so the stream stays the
            // same, then dropped with their defects. So is a reaction on an exam that reuses
            // another's id (DQ-002): it would name the other exam (perhaps without contrast, or
            // at the under-reporting site), failing a rule the tally does not count.
            if silent || reused_id {
                push_reaction(
                    &mut self.rng,
                    &e,
                    fallback,
                    self.shared.defect_rate,
                    &mut Tally::default(),
                    &mut String::new(),
                );
            } else {
                push_reaction(
                    &mut self.rng,
                    &e,
                    fallback,
                    self.shared.defect_rate,
                    &mut self.out.tally,
                    &mut self.out.reactions,
                );
                self.out.reaction_count += 1;
            }
        }
    }

    /// Applies `defect` to `e`; true when the exam must get a reaction (RXN-007).
    fn damage(&mut self, e: &mut Exam<'w>, defect: Defect, day: i64) -> bool {
        let world = self.world();
        let f = e.facility;
        let rng = &mut self.rng;
        match defect {
            Defect::UnlistedCode => {
                e.cpt = pick(
                    rng,
                    match e.modality {
                        Modality::Ct => UNLISTED_CT,
                        Modality::Mr => UNLISTED_MR,
                    },
                );
            }
            Defect::NoSupervision => match rng.index(3) {
                0 => {
                    e.mode = Some("none");
                    e.supervisor = None;
                    e.session = None;
                }
                1 => e.supervisor = None,
                _ => e.mode = None,
            },
            Defect::GlobalPeriodVirtual => e.cpt = CODES[GLOBAL_010].cpt,
            Defect::AudioOnly => {
                if let Some(s) = e.session.as_mut() {
                    s.video = false;
                }
            }
            Defect::CoverageGap => set_supervisor(e, world.id(f.off_duty(day))),
            Defect::UnqualifiedSupervisor => {
                let who = if f.setting == "idtf" && rng.chance(0.5) {
                    world.remote_apps[0]
                } else {
                    pick(rng, &f.rns)
                };
                e.supervisor = Some(Cow::Borrowed(world.id(who)));
            }
            Defect::Unlicensed => {
                set_supervisor(e, world.id(world.locum));
                self.fill_in_shift(world.locum, e);
            }
            Defect::NonPhysicianVirtual => {
                let app = pick(rng, &world.remote_apps);
                set_supervisor(e, world.id(app));
                self.fill_in_shift(app, e);
            }
            Defect::NoOnsitePractitioner => {
                e.onsite = if rng.chance(0.5) {
                    None
                } else {
                    e.technologist.clone()
                };
            }
            Defect::BlsExpired => {
                e.onsite = Some(Cow::Borrowed(world.id(pick(rng, &world.lapsed_rns))));
            }
            Defect::ReactionWithoutContrast => return true,
            Defect::SessionAtRisk | Defect::SessionSlow => {
                if let Some(s) = e.session.as_mut() {
                    let delay = if defect == Defect::SessionSlow {
                        Some(rng.range(31, 90))
                    } else if rng.chance(0.5) {
                        None
                    } else {
                        Some(rng.range(91, 600))
                    };
                    s.joined = delay.map(|d| s.requested + d);
                    if let Some(j) = s.joined {
                        s.ended = s.ended.max(j + 60);
                    }
                }
            }
            Defect::CoverageCancellation => e.cancel_reason = Some(pick(rng, COVERAGE_REASONS)),
            Defect::BadValue => match e.status {
                "completed" => match rng.index(3) {
                    0 => e.status = "complete",
                    1 => e.started_unparseable = true,
                    _ if e.dose_tenths.is_some() => e.dose_unparseable = true,
                    _ => e.status = "Complete.",
                },
                "cancelled" => e.status = "canceled",
                _ => e.status = "noshow",
            },
            Defect::DuplicateId => {
                if let Some(previous) = self.last_id {
                    e.id = Cow::Owned(format!("EX{previous:07}"));
                }
            }
            Defect::DanglingReference => match e.session.as_mut() {
                Some(s) if rng.chance(0.5) => s.written = false,
                _ => e.technologist = Some(Cow::Owned(format!("TEC-X{:06}", e.seq % 1_000_000))),
            },
            Defect::TimeOrder => std::mem::swap(&mut e.started, &mut e.ended),
            Defect::DstAmbiguous => {
                // 02:30 on the day clocks spring forward does not exist; 01:30 on the day they
                // fall back happens twice.
                if let Some(&t) = f.dst_days.iter().rev().find(|&&t| t < day) {
                    e.cancelled_at = [2 * HOUR + 30 * MINUTE, HOUR + 30 * MINUTE]
                        .into_iter()
                        .map(|clock| t * DAY + clock)
                        .find(|&local| is_dst_edge(f.zone.tz, local))
                        .or(e.cancelled_at);
                }
            }
            Defect::OutsidePeriod => {
                let shift = (self.shared.outside_day - day) * DAY;
                for t in [
                    Some(&mut e.scheduled),
                    e.started.as_mut(),
                    e.ended.as_mut(),
                    e.contrast_at.as_mut(),
                    e.cancelled_at.as_mut(),
                ]
                .into_iter()
                .flatten()
                {
                    *t += shift;
                }
            }
            Defect::ReactionUnclassified
            | Defect::ReactionIncomplete
            | Defect::AllergyListNotUpdated
            | Defect::SlowIntervention
            | Defect::PatientNotInformed
            | Defect::ProtocolIncomplete
            | Defect::UnderReporting
            | Defect::Unreadable => {}
        }
        false
    }

    /// An extra virtual window for one exam's ad hoc supervisor, so only the intended rule fails.
    fn fill_in_shift(&mut self, who: usize, e: &Exam<'w>) {
        if let (Some(start), Some(end)) = (e.started, e.ended) {
            let before = self.rng.range(10, 30) * MINUTE;
            let after = self.rng.range(10, 30) * MINUTE;
            self.local_window(who, e.facility, start - before, end + after, "virtual");
        }
    }
}

fn set_supervisor<'w>(e: &mut Exam<'w>, id: &'w str) {
    e.supervisor = Some(Cow::Borrowed(id));
    if let Some(s) = e.session.as_mut() {
        s.supervisor = Cow::Borrowed(id);
    }
}
