//! The world a rule sees: the bundle plus indexes built once (keys, links, coverage, codes) and
//! facts derived once per record (date of service, required supervision level, response time).

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::bundle::schema::{Dataset, col};
use crate::bundle::value::Value;
use crate::bundle::{Bundle, Record, ZoneLookup};
use crate::eval::coverage::CoverageIndex;
use crate::eval::documentation::{self, Documentation};
use crate::eval::dos;
use crate::eval::redact::Redaction;
use crate::policy::fields::{Derived, FieldRef, Join};
use crate::policy::model::{
    DocumentationGroup, Pack, PackVersion, SUPERVISION_LEVELS, SupervisionLevels,
};

/// Counts per facility for the aggregate rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FacilityStats {
    /// Completed exams with contrast, by class (`iodinated`, `gadolinium`).
    pub contrast_exams: HashMap<&'static str, u64>,
    /// Reactions on those exams, by the exam's class.
    pub contrast_reactions: HashMap<&'static str, u64>,
    /// Reactions whose exam is at the facility (any exam), and how many are documented completely.
    pub reactions: u64,
    pub documented: u64,
}

/// Facts derived once per exam.
#[derive(Debug, Clone, Default)]
pub struct ExamFacts {
    pub dos: Option<NaiveDate>,
    /// `Some(found)` when the exam has a code and a DOS to look it up with.
    pub code_found: Option<bool>,
    /// The supervision level the exam's code requires (one of the policy's
    /// `SUPERVISION_LEVELS`), by the supervision levels in effect on its DOS.
    pub level: Option<&'static &'static str>,
    /// The code row's global surgery indicator, as an index into [`World::global_days`].
    pub global_days: Option<u32>,
}

/// What the world takes from the packs that run: the procedure codes table a pack ships (for a
/// bundle without its own), and the documentation groups and supervision levels each version
/// declares, with the dates it governs.
#[derive(Debug, Clone, Default)]
pub struct PackData {
    pub procedure_codes: Option<Arc<Vec<Record>>>,
    pub documentation: Vec<Dated<Arc<[DocumentationGroup]>>>,
    pub supervision_levels: Vec<Dated<Arc<SupervisionLevels>>>,
}

/// Pack data of one version and the dates of service it governs.
#[derive(Debug, Clone)]
pub struct Dated<T> {
    pub effective_from: Option<NaiveDate>,
    pub effective_to: Option<NaiveDate>,
    pub value: T,
}

impl<T> Dated<T> {
    fn with<U>(self, value: U) -> Dated<U> {
        Dated {
            effective_from: self.effective_from,
            effective_to: self.effective_to,
            value,
        }
    }

    fn covers(&self, date: Option<NaiveDate>) -> bool {
        match date {
            Some(d) => {
                self.effective_from.is_none_or(|f| d >= f)
                    && self.effective_to.is_none_or(|t| d <= t)
            }
            // A record without a date: only a version open at both ends judges it.
            None => self.effective_from.is_none() && self.effective_to.is_none(),
        }
    }
}

impl PackData {
    /// The first procedure codes table any version ships, and every version's documentation
    /// groups and supervision levels.
    pub fn of(packs: &[Pack]) -> PackData {
        let versions = || packs.iter().flat_map(|p| p.versions.iter());
        let dated = |v: &PackVersion| Dated {
            effective_from: v.effective_from,
            effective_to: v.effective_to,
            value: (),
        };
        PackData {
            procedure_codes: versions().find_map(|v| v.procedure_codes.clone()),
            documentation: versions()
                .filter_map(|v| Some(dated(v).with(v.documentation.clone()?)))
                .collect(),
            supervision_levels: versions()
                .filter_map(|v| Some(dated(v).with(v.supervision_levels.clone()?)))
                .collect(),
        }
    }
}

/// Everything rules read. Built once per run; shared by reference (and by `Arc` with scripts).
pub struct World {
    pub bundle: Bundle,
    /// `Some("illustrative")` when codes come from a pack, `Some("bundle")` from the bundle.
    pub codes_source: &'static &'static str,
    keys: Vec<KeyIndex>,
    /// exam_id -> sessions whose `exam_id` is it.
    sessions_by_exam: HashMap<Box<str>, Vec<u32>>,
    /// session_id -> every session record carrying it (repeats included).
    sessions_by_id: HashMap<Box<str>, Vec<u32>>,
    /// exam_id -> reactions whose `exam_id` is it.
    reactions_by_exam: HashMap<Box<str>, Vec<u32>>,
    pub coverage: CoverageIndex,
    pub exam_facts: Vec<ExamFacts>,
    /// The distinct `global_days` values of the procedure code rows.
    global_days: Vec<Box<str>>,
    /// Aggregates per facility id (BEN-003, BEN-004).
    facility_stats: HashMap<Box<str>, FacilityStats>,
    /// `--redact`: applied to every value read through [`World::value`].
    redaction: Option<Redaction>,
    /// Where each join of each record leads (see [`World::with_links`]).
    links: Vec<Vec<u32>>,
    /// The zone of each facility record (its valid `timezone`, else the bundle's), parsed once.
    facility_zones: Vec<chrono_tz::Tz>,
    /// The documentation groups of the packs, by the dates they govern.
    documentation: Vec<Dated<Arc<[DocumentationGroup]>>>,
    /// The Rhai operations all scripts and expressions of the run may take together
    /// (`--max-script-operations`), and what they have taken so far.
    script_budget: u64,
    script_ops: AtomicU64,
}

impl World {
    /// Builds the indexes. `data.procedure_codes` is used when the bundle has no procedure_codes
    /// of its own; `data.documentation` decides reactions' documentation completeness.
    pub fn new(bundle: Bundle, data: PackData) -> World {
        let PackData {
            procedure_codes: pack_codes,
            documentation,
            supervision_levels,
        } = data;
        let collect = |dataset: Dataset, field: usize| {
            let mut map: HashMap<Box<str>, Vec<u32>> = HashMap::default();
            for (i, r) in bundle.table(dataset).iter().enumerate() {
                if let Some(k) = r.str(field) {
                    map.entry(k.into()).or_default().push(i as u32);
                }
            }
            map
        };
        // The indexes are independent: the key tables (one per dataset) are built beside the
        // link maps and the coverage index.
        let (keys, ((sessions_by_exam, sessions_by_id), (reactions_by_exam, coverage))) =
            rayon::join(
                || {
                    Dataset::ALL
                        .par_iter()
                        .map(|&d| {
                            let field = d.key_field().and_then(|k| d.field_index(k));
                            KeyIndex::new(bundle.table(d), field)
                        })
                        .collect::<Vec<_>>()
                },
                || {
                    rayon::join(
                        || {
                            rayon::join(
                                || collect(Dataset::Sessions, col::session::EXAM_ID),
                                || collect(Dataset::Sessions, col::session::ID),
                            )
                        },
                        || {
                            rayon::join(
                                || collect(Dataset::Reactions, col::reaction::EXAM_ID),
                                || CoverageIndex::new(bundle.table(Dataset::Coverage)),
                            )
                        },
                    )
                },
            );
        let bundle_has_codes = !bundle.absent.contains(&Dataset::ProcedureCodes);
        let (codes_source, code_rows): (&'static &'static str, Vec<&Record>) = if bundle_has_codes {
            (
                &"bundle",
                bundle.table(Dataset::ProcedureCodes).iter().collect(),
            )
        } else {
            (
                &"illustrative",
                pack_codes
                    .as_deref()
                    .map(|v| v.iter().collect())
                    .unwrap_or_default(),
            )
        };
        let mut codes: HashMap<(&str, i64), &Record> = HashMap::default();
        for r in code_rows {
            if let (Some(code), Some(year)) =
                (r.str(col::code::CPT_CODE), r.get(col::code::YEAR).as_int())
            {
                codes.entry((code, year)).or_insert(r);
            }
        }
        // The distinct global surgery indicators, which facts refer to by index.
        let mut global_days: Vec<Box<str>> = codes
            .values()
            .filter_map(|r| r.str(col::code::GLOBAL_DAYS))
            .map(Box::from)
            .collect();
        global_days.sort_unstable();
        global_days.dedup();
        let facility_zones = bundle
            .table(Dataset::Facilities)
            .iter()
            .map(|f| {
                f.str(col::facility::TIMEZONE)
                    .and_then(crate::bundle::time::parse_zone)
                    .unwrap_or(bundle.manifest.timezone)
            })
            .collect();
        let zones = ZoneLookup::new(&bundle);
        let exam_facts = bundle
            .table(Dataset::Exams)
            .par_iter()
            .with_min_len(1024)
            .map(|exam| exam_facts(exam, &zones, &codes, &global_days, &supervision_levels))
            .collect();
        drop(zones);
        drop(codes);
        World {
            bundle,
            codes_source,
            keys,
            sessions_by_exam,
            sessions_by_id,
            reactions_by_exam,
            coverage,
            exam_facts,
            global_days,
            facility_zones,
            facility_stats: HashMap::default(),
            redaction: None,
            links: Vec::new(),
            documentation,
            script_budget: u64::MAX,
            script_ops: AtomicU64::new(0),
        }
        .with_links()
        .with_facility_stats()
    }

    pub fn record(&self, dataset: Dataset, idx: u32) -> Option<&Record> {
        self.bundle.table(dataset).get(idx as usize)
    }

    /// Every record of `dataset` whose key an earlier record (walk order) already carries, with
    /// that first record, in record order.
    pub fn repeated_keys(&self, dataset: Dataset) -> &[(u32, u32)] {
        self.keys
            .get(dataset.index())
            .map(|k| k.repeats.as_slice())
            .unwrap_or(&[])
    }

    /// The first record of `dataset` whose key is `key`.
    pub fn lookup(&self, dataset: Dataset, key: &str) -> Option<u32> {
        let records = self.bundle.table(dataset);
        self.keys.get(dataset.index())?.get(records, key)
    }

    /// The record a join leads to from record `idx` of `dataset` (looked up once, when the
    /// world was built).
    pub fn join(&self, dataset: Dataset, idx: u32, join: Join) -> Option<u32> {
        let joins = Join::available(dataset);
        let k = joins.iter().position(|(j, _)| *j == join)?;
        let at = (idx as usize).checked_mul(joins.len())? + k;
        let target = *self.links.get(dataset.index())?.get(at)?;
        (target != NO_LINK).then_some(target)
    }

    /// [`World::join`] by looking the key up.
    fn look_up_join(&self, dataset: Dataset, idx: u32, join: Join) -> Option<u32> {
        let record = self.record(dataset, idx)?;
        let (_, field) = Join::available(dataset).iter().find(|(j, _)| *j == join)?;
        match field {
            Some(field) => self.lookup(join.target(), record.str(*field)?),
            // A reaction's facility: through its exam.
            None => {
                let exam = self.lookup(Dataset::Exams, record.str(col::reaction::EXAM_ID)?)?;
                self.look_up_join(Dataset::Exams, exam, Join::Facility)
            }
        }
    }

    /// The facility id a record belongs to, as it wrote it: a facility's own id; an exam's,
    /// session's or coverage window's `facility_id`; a reaction's exam's `facility_id`. None
    /// for other datasets and for a reaction whose exam is not in the bundle.
    pub fn facility_id(&self, dataset: Dataset, idx: u32) -> Option<&str> {
        let record = self.record(dataset, idx)?;
        match dataset {
            Dataset::Facilities => record.str(col::facility::ID),
            Dataset::Exams => record.str(col::exam::FACILITY_ID),
            Dataset::Sessions => record.str(col::session::FACILITY_ID),
            Dataset::Coverage => record.str(col::coverage::FACILITY_ID),
            Dataset::Reactions => {
                let exam = self.join(dataset, idx, Join::Exam)?;
                self.facility_id(Dataset::Exams, exam)
            }
            Dataset::Practitioners | Dataset::ProcedureCodes => None,
        }
    }

    /// Sessions linked to an exam: its `session_id`, and sessions whose `exam_id` is the exam.
    pub fn exam_sessions(&self, exam_idx: u32) -> Vec<u32> {
        let Some(exam) = self.record(Dataset::Exams, exam_idx) else {
            return Vec::new();
        };
        let mut out: Vec<u32> = exam
            .str(col::exam::ID)
            .and_then(|id| self.sessions_by_exam.get(id))
            .cloned()
            .unwrap_or_default();
        // A link that collects records takes every record carrying the key (docs/bundle-format.md,
        // "Repeated keys and links").
        if let Some(linked) = exam
            .str(col::exam::SESSION_ID)
            .and_then(|s| self.sessions_by_id.get(s))
        {
            out.extend(linked);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    pub fn exam_reactions(&self, exam_idx: u32) -> &[u32] {
        self.record(Dataset::Exams, exam_idx)
            .and_then(|e| e.str(col::exam::ID))
            .and_then(|id| self.reactions_by_exam.get(id))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The date a record is judged by: an exam's DOS; a reaction's exam's DOS; a session's
    /// linked exam's DOS, else the local date of `requested_at`; coverage's local start date.
    pub fn record_date(&self, dataset: Dataset, idx: u32) -> Option<NaiveDate> {
        match dataset {
            Dataset::Exams => self.exam_facts.get(idx as usize)?.dos,
            Dataset::Reactions => {
                let exam = self.join(dataset, idx, Join::Exam)?;
                self.exam_facts.get(exam as usize)?.dos
            }
            Dataset::Sessions => {
                if let Some(exam) = self.join(dataset, idx, Join::Exam)
                    && let Some(d) = self.exam_facts.get(exam as usize).and_then(|f| f.dos)
                {
                    return Some(d);
                }
                let r = self.record(dataset, idx)?;
                let t = r.get(col::session::REQUESTED_AT).instant()?;
                Some(crate::bundle::time::local_date(
                    t,
                    self.facility_zone(r.str(col::session::FACILITY_ID)),
                ))
            }
            Dataset::Coverage => {
                let r = self.record(dataset, idx)?;
                let t = r.get(col::coverage::START).instant()?;
                Some(crate::bundle::time::local_date(
                    t,
                    self.facility_zone(r.str(col::coverage::FACILITY_ID)),
                ))
            }
            _ => None,
        }
    }

    pub fn facility_zone(&self, facility_id: Option<&str>) -> chrono_tz::Tz {
        facility_id
            .and_then(|id| self.lookup(Dataset::Facilities, id))
            .and_then(|i| self.facility_zones.get(i as usize).copied())
            .unwrap_or(self.bundle.manifest.timezone)
    }

    /// The value of a resolved field on record `idx` of `dataset`.
    pub fn value(&self, dataset: Dataset, idx: u32, field: FieldRef) -> Cow<'_, Value> {
        static MISSING: Value = Value::Missing;
        let (target, i, value) = match field {
            FieldRef::Own(i) => (
                dataset,
                i,
                self.record(dataset, idx).map_or(&MISSING, |r| r.get(i)),
            ),
            FieldRef::Joined(join, i) => (
                join.target(),
                i,
                self.join(dataset, idx, join)
                    .and_then(|j| self.record(join.target(), j))
                    .map_or(&MISSING, |r| r.get(i)),
            ),
            FieldRef::Derived(d) => return Cow::Owned(self.derived(dataset, idx, d)),
        };
        // Borrowed on the hot path; redaction (rare) makes an owned copy.
        match &self.redaction {
            Some(r) => Cow::Owned(r.apply(target, i, value.clone())),
            None => Cow::Borrowed(value),
        }
    }

    /// The text of a record's own or linked field as the export holds it (never redacted);
    /// `None` for a derived fact, or a value that is not text.
    pub fn raw_str(&self, dataset: Dataset, idx: u32, field: FieldRef) -> Option<&str> {
        match field {
            FieldRef::Own(i) => self.record(dataset, idx)?.str(i),
            FieldRef::Joined(join, i) => {
                let j = self.join(dataset, idx, join)?;
                self.record(join.target(), j)?.str(i)
            }
            FieldRef::Derived(_) => None,
        }
    }

    /// Bounds the Rhai operations of the whole run (`--max-script-operations`); unbounded
    /// (each evaluation still stops at [`crate::policy::script::MAX_OPERATIONS`]) until set.
    pub fn set_script_budget(&mut self, operations: u64) {
        self.script_budget = operations;
    }

    /// The run's budget of Rhai operations.
    pub fn script_budget(&self) -> u64 {
        self.script_budget
    }

    /// Counts `operations` of one evaluation against the run's budget: `false` once the run
    /// has used more than its budget. Every thread adds to one total, so whether a run stays
    /// within its budget does not depend on the thread count.
    pub fn charge_script(&self, operations: u64) -> bool {
        let before = self.script_ops.fetch_add(operations, Ordering::Relaxed);
        before.saturating_add(operations) <= self.script_budget
    }

    /// The Rhai operations the run's scripts and expressions have taken so far.
    pub fn script_operations(&self) -> u64 {
        self.script_ops.load(Ordering::Relaxed)
    }

    /// Turns redaction on (`--redact`): every value read through [`World::value`] (messages,
    /// evidence, scripts) is redacted from then on.
    pub fn set_redaction(&mut self, redaction: Redaction) {
        self.redaction = Some(redaction);
    }

    pub fn redaction(&self) -> Option<&Redaction> {
        self.redaction.as_ref()
    }

    fn derived(&self, dataset: Dataset, idx: u32, d: Derived) -> Value {
        let exam_facts = || -> Option<&ExamFacts> {
            let exam = match dataset {
                Dataset::Exams => idx,
                Dataset::Reactions => self.join(dataset, idx, Join::Exam)?,
                _ => return None,
            };
            self.exam_facts.get(exam as usize)
        };
        let v = match d {
            Derived::Dos => self.record_date(dataset, idx).map(Value::Date),
            Derived::DosYear => self
                .record_date(dataset, idx)
                .map(|d| Value::Int(i64::from(d.year()))),
            Derived::RequiredLevel => exam_facts().and_then(|f| f.level).map(Value::Enum),
            Derived::GlobalDays => exam_facts()
                .and_then(|f| f.global_days)
                .and_then(|g| self.global_days.get(g as usize))
                .map(|g| Value::Str(g.as_ref().into())),
            Derived::CodeFound => exam_facts().and_then(|f| f.code_found).map(Value::Bool),
            Derived::CodesSource => Some(Value::Enum(self.codes_source)),
            Derived::ResponseS => self.response_s(idx).map(Value::Float),
            Derived::Unmeasured => self
                .record(dataset, idx)
                .map(|s| Value::Bool(!s.get(col::session::JOINED_AT).is_present())),
            Derived::ScheduledDate => self.record(dataset, idx).and_then(|e| {
                let t = e.get(col::exam::SCHEDULED_AT).instant()?;
                let zone = self.facility_zone(e.str(col::exam::FACILITY_ID));
                Some(Value::Date(crate::bundle::time::local_date(t, zone)))
            }),
            Derived::DocumentationMissing => self
                .documentation(idx)
                .map(|d| Value::List(d.missing.into_iter().map(Into::into).collect())),
            Derived::DocumentationComplete => self
                .documentation(idx)
                .and_then(|d| d.complete())
                .map(Value::Bool),
            // A facility without any aggregate has zero reactions, not an unknown count.
            Derived::ReactionsCount => self
                .record(dataset, idx)
                .and_then(|f| f.str(col::facility::ID))
                .map(|_| Value::Int(self.facility_stats(idx).map_or(0, |s| s.reactions as i64))),
            // No pack declares what complete means: no share, rather than a share of zero.
            Derived::DocumentationCompleteShare if self.documentation.is_empty() => None,
            Derived::DocumentationCompleteShare => self
                .facility_stats(idx)
                .filter(|s| s.reactions > 0)
                .map(|s| Value::Float(s.documented as f64 / s.reactions as f64)),
        };
        v.unwrap_or(Value::Missing)
    }

    /// Aggregates of the facility record `idx`, by its id.
    pub fn facility_stats(&self, idx: u32) -> Option<&FacilityStats> {
        let id = self
            .record(Dataset::Facilities, idx)?
            .str(col::facility::ID)?;
        self.facility_stats.get(id)
    }

    /// Looks up every join of every record once: `links[dataset][idx * joins + k]`.
    fn with_links(mut self) -> World {
        let world = &self;
        let links = Dataset::ALL
            .iter()
            .map(|&d| {
                let joins = Join::available(d);
                let n = self.bundle.table(d).len() as u32;
                (0..n)
                    .into_par_iter()
                    .with_min_len(4096)
                    .flat_map_iter(|i| {
                        joins
                            .iter()
                            .map(move |(j, _)| world.look_up_join(d, i, *j).unwrap_or(NO_LINK))
                    })
                    .collect()
            })
            .collect();
        self.links = links;
        self
    }

    fn with_facility_stats(mut self) -> World {
        let mut stats: HashMap<Box<str>, FacilityStats> = HashMap::default();
        let exams = self.bundle.table(Dataset::Exams);
        let contrast_class = |e: &Record| -> Option<&'static str> {
            let completed = e.get(col::exam::STATUS) == &Value::Enum(&"completed");
            let contrast = e.get(col::exam::CONTRAST).as_bool() == Some(true);
            match e.get(col::exam::CONTRAST_CLASS) {
                Value::Enum(c) if completed && contrast => Some(*c),
                _ => None,
            }
        };
        // Keyed by facility id; a key is copied only the first time it is met.
        fn update(
            stats: &mut HashMap<Box<str>, FacilityStats>,
            id: &str,
            f: impl FnOnce(&mut FacilityStats),
        ) {
            match stats.get_mut(id) {
                Some(s) => f(s),
                None => {
                    let mut s = FacilityStats::default();
                    f(&mut s);
                    stats.insert(id.into(), s);
                }
            }
        }
        for e in exams {
            if let (Some(f), Some(class)) = (e.str(col::exam::FACILITY_ID), contrast_class(e)) {
                update(&mut stats, f, |s| {
                    *s.contrast_exams.entry(class).or_default() += 1;
                });
            }
        }
        for (idx, r) in self.bundle.table(Dataset::Reactions).iter().enumerate() {
            let Some(exam) = r
                .str(col::reaction::EXAM_ID)
                .and_then(|id| self.lookup(Dataset::Exams, id))
                .and_then(|i| exams.get(i as usize))
            else {
                continue;
            };
            let Some(f) = exam.str(col::exam::FACILITY_ID) else {
                continue;
            };
            let entry = stats.entry(f.into()).or_default();
            entry.reactions += 1;
            if self.documentation(idx as u32).and_then(|d| d.complete()) == Some(true) {
                entry.documented += 1;
            }
            if let Some(class) = contrast_class(exam) {
                *entry.contrast_reactions.entry(class).or_default() += 1;
            }
        }
        self.facility_stats = stats;
        self
    }

    /// Why a derived fact has no value on any record, when no pack that runs provides what it
    /// is computed from (not the data's doing).
    pub fn why_absent(&self, field: FieldRef) -> Option<&'static str> {
        match field {
            FieldRef::Derived(
                Derived::DocumentationMissing
                | Derived::DocumentationComplete
                | Derived::DocumentationCompleteShare,
            ) if self.documentation.is_empty() => Some(
                "no pack that runs declares documentation completeness (`[[parameters.documentation]]`, shipped in contrast-reactions)",
            ),
            _ => None,
        }
    }

    /// The documentation check of reaction `idx` by the groups in effect on its date; `None`
    /// when no pack that runs declares documentation for that date.
    pub fn documentation(&self, idx: u32) -> Option<Documentation<'_>> {
        let record = self.record(Dataset::Reactions, idx)?;
        let date = self.record_date(Dataset::Reactions, idx);
        let dated = self.documentation.iter().find(|d| d.covers(date))?;
        Some(documentation::check(record, &dated.value))
    }

    /// `joined_at - requested_at` in seconds; `None` when unmeasured or out of order.
    pub fn response_s(&self, session_idx: u32) -> Option<f64> {
        let s = self.record(Dataset::Sessions, session_idx)?;
        let requested = s.get(col::session::REQUESTED_AT).instant()?;
        let joined = s.get(col::session::JOINED_AT).instant()?;
        let secs = seconds_between(requested, joined);
        (secs >= 0.0).then_some(secs)
    }
}

/// A join that names nobody, in [`World::links`].
const NO_LINK: u32 = u32::MAX;

/// Records of one dataset by their key: the first record carrying each key. Holds only record
/// indexes, hashed by the key text that stays in the record (no copy of a million keys).
struct KeyIndex {
    field: usize,
    table: hashbrown::HashTable<u32>,
    /// Every record whose key an earlier record already carries, with that first record, in
    /// record order.
    repeats: Vec<(u32, u32)>,
}

fn hash_key(key: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(key)
}

impl KeyIndex {
    fn new(records: &[Record], field: Option<usize>) -> KeyIndex {
        let Some(field) = field else {
            return KeyIndex {
                field: usize::MAX,
                table: hashbrown::HashTable::new(),
                repeats: Vec::new(),
            };
        };
        let mut table = hashbrown::HashTable::with_capacity(records.len());
        let mut repeats = Vec::new();
        let key_of = |i: u32| records.get(i as usize).and_then(|r| r.str(field));
        for (i, r) in records.iter().enumerate() {
            let Some(key) = r.str(field) else { continue };
            let entry = table.entry(
                hash_key(key),
                |&j| key_of(j) == Some(key),
                |&j| hash_key(key_of(j).unwrap_or_default()),
            );
            match entry {
                hashbrown::hash_table::Entry::Vacant(v) => {
                    v.insert(i as u32);
                }
                hashbrown::hash_table::Entry::Occupied(first) => {
                    repeats.push((i as u32, *first.get()));
                }
            }
        }
        KeyIndex {
            field,
            table,
            repeats,
        }
    }

    fn get(&self, records: &[Record], key: &str) -> Option<u32> {
        self.table
            .find(hash_key(key), |&j| {
                records.get(j as usize).and_then(|r| r.str(self.field)) == Some(key)
            })
            .copied()
    }
}

pub fn seconds_between(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 1000.0
}

/// A level of the policy vocabulary, as the `'static` name `required_level` shows (the loader
/// admits no other).
fn level_name(level: &str) -> Option<&'static &'static str> {
    SUPERVISION_LEVELS.iter().find(|l| **l == level)
}

fn exam_facts(
    exam: &Record,
    zones: &ZoneLookup<'_>,
    codes: &HashMap<(&str, i64), &Record>,
    global_days: &[Box<str>],
    supervision_levels: &[Dated<Arc<SupervisionLevels>>],
) -> ExamFacts {
    let dos = dos::exam_dos(exam, zones);
    let mut facts = ExamFacts {
        dos,
        ..ExamFacts::default()
    };
    let (Some(code), Some(dos)) = (exam.str(col::exam::CPT_CODE), dos) else {
        return facts;
    };
    // The levels of the version in effect on the DOS; none: every level unknown.
    let levels = supervision_levels
        .iter()
        .find(|l| l.covers(Some(dos)))
        .map(|l| &*l.value);
    match codes.get(&(code, i64::from(dos.year()))) {
        None => {
            facts.code_found = Some(false);
            // A contrast exam whose code is absent for the DOS year: the pack's
            // `unlisted_contrast_level`.
            if exam.get(col::exam::CONTRAST).as_bool() == Some(true) {
                facts.level = levels
                    .and_then(|l| l.unlisted_contrast.as_deref())
                    .and_then(level_name);
            }
        }
        Some(row) => {
            facts.code_found = Some(true);
            facts.level = row
                .str(col::code::INDICATOR)
                .and_then(|i| levels?.by_indicator.get(i))
                .and_then(|l| level_name(l));
            facts.global_days = row
                .str(col::code::GLOBAL_DAYS)
                .and_then(|g| global_days.iter().position(|x| &**x == g))
                .and_then(|g| u32::try_from(g).ok());
        }
    }
    facts
}
