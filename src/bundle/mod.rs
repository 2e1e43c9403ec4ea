//! Record bundles: manifest, discovery, readers, typing and time zones (docs/bundle-format.md).
//!
//! [`Bundle::load`] does all the work up to typed, zoned records and nothing after: it is what
//! `vigil inspect` runs, and what every audit starts with.

pub mod discover;
pub mod manifest;
pub mod read;
pub mod schema;
pub mod time;
pub mod typing;
pub mod value;

use rustc_hash::FxHashMap as HashMap;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use rayon::prelude::*;

use crate::bundle::discover::{FoundFile, discover};
use crate::bundle::manifest::Manifest;
use crate::bundle::read::{Format, ReadProblem, read_into};
use crate::bundle::schema::{Dataset, col};
use crate::bundle::typing::TypingSink;
use crate::bundle::value::Value;
use crate::digest::sha256_hex;

/// What makes a whole run impossible (exit 2). Bad records are never errors: they are findings.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("bundle folder `{0}` does not exist")]
    NotFound(PathBuf),
    #[error("`{0}` is not a folder: a bundle is a folder holding `bundle.toml` and data files")]
    NotAFolder(PathBuf),
    #[error("`{path}`: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error(
        "`{path}`: required dataset `{dataset}` is missing (no `{dataset}.csv`, `.json`, `.ndjson` or `{dataset}/` folder)"
    )]
    MissingDataset { path: PathBuf, dataset: Dataset },
    #[error("cannot walk `{path}`: {message}")]
    Walk { path: PathBuf, message: String },
    #[error(
        "`{path}`: the bundle's gzip files decompress to more than {max} bytes in all: the bundle \
         is not read (raise `[limits] max_bundle_decompressed_bytes` in bundle.toml if it is genuine)"
    )]
    TooLarge { path: PathBuf, max: u64 },
}

/// One record: where it was read and its typed values, one per field of its dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Index into [`Bundle::files`].
    pub file: u32,
    /// 1-based physical line where the record starts.
    pub line: u32,
    pub values: Box<[Value]>,
}

impl Record {
    /// A record of the values `row` holds (taken: `row` is left all missing), missing values at
    /// its end left out: [`Record::get`] reads them as missing all the same, and exports often
    /// leave their last columns (a cancellation's reason and time) empty.
    pub fn new(file: u32, line: u32, row: &mut [Value]) -> Record {
        let kept = row
            .iter()
            .rposition(|v| !matches!(v, Value::Missing))
            .map_or(0, |last| last + 1);
        let values = row.iter_mut().take(kept).map(std::mem::take).collect();
        Record { file, line, values }
    }

    pub fn get(&self, field: usize) -> &Value {
        self.values.get(field).unwrap_or(&Value::Missing)
    }

    pub fn str(&self, field: usize) -> Option<&str> {
        self.get(field).as_str()
    }
}

/// A data file of the bundle, in walk order.
#[derive(Debug, Clone)]
pub struct BundleFile {
    pub path: String,
    pub dataset: Dataset,
    pub format: Format,
    pub gzip: bool,
    pub bytes: u64,
    pub sha256: String,
    pub records: usize,
    /// Unreadable records and damage (DQ-007).
    pub problems: Vec<ReadProblem>,
}

#[derive(Debug)]
pub struct Bundle {
    pub root: PathBuf,
    pub manifest: Manifest,
    pub files: Vec<BundleFile>,
    /// Files that belong to no dataset, relative paths in walk order.
    pub ignored: Vec<String>,
    /// Optional datasets with no file at all.
    pub absent: Vec<Dataset>,
    /// Records per dataset (index [`Dataset::index`]), in walk order.
    pub tables: Vec<Vec<Record>>,
}

/// Lowercase hex of a SHA-256 digest.
impl Bundle {
    pub fn load(root: &Path) -> Result<Bundle, BundleError> {
        if !root.exists() {
            return Err(BundleError::NotFound(root.to_path_buf()));
        }
        if !root.is_dir() {
            return Err(BundleError::NotAFolder(root.to_path_buf()));
        }
        let manifest_path = root.join("bundle.toml");
        if !manifest_path.is_file() {
            return Err(BundleError::Manifest {
                path: manifest_path,
                message: "missing: every bundle needs a `bundle.toml` manifest".into(),
            });
        }
        let manifest = Manifest::load(&manifest_path)?;
        let discovery = discover(root)?;
        for dataset in Dataset::ALL.into_iter().filter(|d| d.required()) {
            if !discovery.files.iter().any(|f| f.dataset == dataset) {
                return Err(BundleError::MissingDataset {
                    path: root.to_path_buf(),
                    dataset,
                });
            }
        }
        let absent = Dataset::ALL
            .into_iter()
            .filter(|d| !discovery.files.iter().any(|f| f.dataset == *d))
            .collect();
        // Each file is read and typed in one pass, in parallel; only its typed records are kept.
        let budget = Decompressed::new(manifest.limits.max_bundle_decompressed_bytes);
        crate::progress::add(&crate::progress::FILES_FOUND, discovery.files.len() as u64);
        let read: Vec<(BundleFile, Vec<Record>)> = discovery
            .files
            .par_iter()
            .enumerate()
            .map(|(index, found)| {
                let index = u32::try_from(index).unwrap_or(u32::MAX);
                read_one(root, found, index, &manifest.limits, &budget)
            })
            .collect();
        if budget.exceeded() {
            return Err(BundleError::TooLarge {
                path: manifest_path,
                max: manifest.limits.max_bundle_decompressed_bytes,
            });
        }
        let mut files = Vec::with_capacity(read.len());
        let mut tables: Vec<Vec<Record>> = vec![Vec::new(); Dataset::ALL.len()];
        for (file, records) in read {
            let table = &mut tables[file.dataset.index()];
            if table.is_empty() {
                *table = records;
            } else {
                table.extend(records);
            }
            files.push(file);
        }
        let mut bundle = Bundle {
            root: root.to_path_buf(),
            manifest,
            files,
            ignored: discovery.ignored,
            absent,
            tables: vec![Vec::new(); Dataset::ALL.len()],
        };
        // Zoned in schema order: a dataset's zones depend on the datasets before it.
        for dataset in Dataset::ALL {
            let mut records = std::mem::take(&mut tables[dataset.index()]);
            {
                let zones = if dataset == Dataset::Reactions {
                    ZoneLookup::build(&bundle, &records)
                } else {
                    ZoneLookup::new(&bundle)
                };
                records
                    .par_iter_mut()
                    .with_min_len(1024)
                    .for_each(|r| place_in_zone(dataset, r, &zones));
            }
            bundle.tables[dataset.index()] = records;
        }
        Ok(bundle)
    }

    pub fn table(&self, dataset: Dataset) -> &[Record] {
        self.tables
            .get(dataset.index())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn file_path(&self, file: u32) -> &str {
        self.files
            .get(file as usize)
            .map(|f| f.path.as_str())
            .unwrap_or("?")
    }

    /// Every record read, all datasets.
    pub fn record_count(&self) -> usize {
        self.tables.iter().map(Vec::len).sum()
    }
}

/// The bytes the bundle's gzip files have decompressed to so far, against the bundle's limit.
/// Files are read in parallel, so each may use what the others have not used yet; whether the
/// total passes the limit does not depend on the order (a file cut by what was left means the
/// total was over), so neither does the outcome.
struct Decompressed {
    max: u64,
    used: std::sync::atomic::AtomicU64,
}

impl Decompressed {
    fn new(max: u64) -> Decompressed {
        Decompressed {
            max,
            used: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn left(&self) -> u64 {
        self.max
            .saturating_sub(self.used.load(std::sync::atomic::Ordering::Relaxed))
    }

    fn add(&self, bytes: u64) {
        self.used
            .fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    fn exceeded(&self) -> bool {
        self.used.load(std::sync::atomic::Ordering::Relaxed) > self.max
    }
}

fn read_one(
    root: &Path,
    found: &FoundFile,
    index: u32,
    limits: &manifest::Limits,
    budget: &Decompressed,
) -> (BundleFile, Vec<Record>) {
    let mut file = BundleFile {
        path: found.path.clone(),
        dataset: found.dataset,
        format: found.format,
        gzip: found.gzip,
        bytes: 0,
        sha256: String::new(),
        records: 0,
        problems: Vec::new(),
    };
    let path = root.join(&found.path);
    // A FIFO, socket or device is never opened: reading one could block forever. (Links to
    // regular files are followed, as the walk follows them.)
    if std::fs::metadata(&path).is_ok_and(|m| !m.is_file()) {
        file.problems.push(ReadProblem {
            line: 1,
            message: "not a regular file (a FIFO, socket or device): skipped, not read".into(),
        });
        return (file, Vec::new());
    }
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            file.problems.push(ReadProblem {
                line: 1,
                message: format!("cannot read the file: {e}"),
            });
            return (file, Vec::new());
        }
    };
    file.bytes = bytes.len() as u64;
    file.sha256 = sha256_hex(&bytes);
    let mut sink = TypingSink::new(found.dataset.fields(), index);
    // A gzip file may use what is left of the bundle's budget, at most its own limit. Cut by
    // what was left, it reports one byte past it, so the total passes the limit.
    let gzip_limit = limits.gzip_output(file.bytes).min(budget.left());
    let (problems, decompressed) = read_into(
        &bytes,
        found.format,
        found.gzip,
        sink.fields,
        gzip_limit,
        &mut sink,
    );
    file.problems = problems;
    budget.add(decompressed);
    crate::progress::add(&crate::progress::FILES_READ, 1);
    crate::progress::add(&crate::progress::RECORDS_READ, sink.records.len() as u64);
    file.records = sink.records.len();
    (file, sink.records)
}

/// The zone a record's naive local times are read in (docs/bundle-format.md, "Timestamps").
pub struct ZoneLookup<'a> {
    default: Tz,
    facilities: HashMap<&'a str, Tz>,
    exam_facility: HashMap<&'a str, &'a str>,
}

impl<'a> ZoneLookup<'a> {
    /// Facility zones only: enough for every dataset but reactions.
    pub fn new(bundle: &'a Bundle) -> ZoneLookup<'a> {
        Self::build(bundle, &[])
    }

    /// Facility zones and the facility of each exam a reaction names, for reactions (read in
    /// their exam's zone).
    pub fn with_exams(bundle: &'a Bundle) -> ZoneLookup<'a> {
        Self::build(bundle, bundle.table(Dataset::Reactions))
    }

    fn build(bundle: &'a Bundle, reactions: &[Record]) -> ZoneLookup<'a> {
        let default = bundle.manifest.timezone;
        let mut facilities = HashMap::default();
        for r in bundle.table(Dataset::Facilities) {
            if let Some(id) = r.str(col::facility::ID) {
                let zone = r
                    .str(col::facility::TIMEZONE)
                    .and_then(time::parse_zone)
                    .unwrap_or(default);
                facilities.entry(id).or_insert(zone);
            }
        }
        // Only the exams reactions name: a reaction is read in its exam's zone.
        let mut wanted: HashMap<&str, ()> = HashMap::default();
        for r in reactions {
            if let Some(id) = r.str(col::reaction::EXAM_ID) {
                wanted.insert(id, ());
            }
        }
        let mut exam_facility: HashMap<&'a str, &'a str> = HashMap::default();
        if !wanted.is_empty() {
            for r in bundle.table(Dataset::Exams) {
                if let (Some(id), Some(fac)) = (r.str(col::exam::ID), r.str(col::exam::FACILITY_ID))
                    && wanted.contains_key(id)
                {
                    exam_facility.entry(id).or_insert(fac);
                }
            }
        }
        ZoneLookup {
            default,
            facilities,
            exam_facility,
        }
    }

    pub fn facility(&self, facility_id: Option<&str>) -> Tz {
        facility_id
            .and_then(|id| self.facilities.get(id))
            .copied()
            .unwrap_or(self.default)
    }

    pub fn exam(&self, exam_id: Option<&str>) -> Tz {
        self.facility(exam_id.and_then(|id| self.exam_facility.get(id)).copied())
    }

    /// The zone for a record of `dataset` whose raw facility/exam reference is `reference`.
    fn for_record(&self, dataset: Dataset, values: &[Value]) -> Tz {
        let text = |i: usize| values.get(i).and_then(Value::as_str);
        match dataset {
            Dataset::Exams => self.facility(text(col::exam::FACILITY_ID)),
            Dataset::Sessions => self.facility(text(col::session::FACILITY_ID)),
            Dataset::Coverage => self.facility(text(col::coverage::FACILITY_ID)),
            Dataset::Reactions => self.exam(text(col::reaction::EXAM_ID)),
            Dataset::Facilities | Dataset::Practitioners | Dataset::ProcedureCodes => self.default,
        }
    }
}

/// Gives a typed record's naive local times their instants in the record's zone (and marks a
/// facility's unknown zone invalid).
fn place_in_zone(dataset: Dataset, record: &mut Record, zones: &ZoneLookup<'_>) {
    let values = &mut record.values;
    if dataset == Dataset::Facilities
        && let Some(zone) = values.get_mut(col::facility::TIMEZONE)
        && let Some(name) = zone.as_str()
        && time::parse_zone(name).is_none()
    {
        // An unknown zone is DQ-001 on the field; the bundle zone is used instead.
        *zone = Value::Invalid(name.into());
    }
    if values.iter().any(|v| matches!(v, Value::Local(_))) {
        let zone = zones.for_record(dataset, values);
        for v in values.iter_mut() {
            if let Value::Local(t) = v {
                *v = time::resolve_local(*t, zone);
            }
        }
    }
}
