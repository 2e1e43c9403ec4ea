//! The command line: clap definitions and one function per command. Binary side only: it may
//! use every library module, and no library module uses it.

mod audit;
mod diff;
mod policy;
mod policy_checks;
mod policy_docs;
mod progress_line;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use clap::{Parser, Subcommand, ValueEnum};

use vigil::bundle::{Bundle, BundleError};
use vigil::eval::run::{EvalError, evaluate};
use vigil::eval::world::World;
use vigil::policy::error::PolicyError;
use vigil::policy::load::load_packs;
use vigil::policy::severity::Severity;
use vigil::report::document::{Document, Writer};
use vigil::report::shown::{SHOWN_CHARS, shown};
use vigil::report::{inspect, json, text};

#[derive(Debug, Parser)]
#[command(
    name = "vigil",
    version,
    about = "Audit remote contrast supervision records against versioned policy packs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

const CHECK_EXAMPLES: &str = "Examples:
  vigil check fixtures/bundles/demo
  vigil check export/ --format json -o findings.json --as-of 2026-04-02
  vigil check export/ --policies builtin --policies ./our-packs --fail-on critical
  vigil check export/ --policies ./only-this-pack      (export-integrity always runs too)

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 could not run.";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate the policy packs over a record bundle and report findings
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Read and type every file of a bundle without evaluating any rule
    #[command(
        after_help = "Examples:\n  vigil inspect fixtures/bundles/demo\n  vigil inspect export/ --format json"
    )]
    Inspect {
        bundle: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: OutputFormat,
        /// Write the output to FILE instead of standard output
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Write a deterministic synthetic bundle (for demos, tests and benchmarks)
    #[command(
        after_help = "Examples:\n  vigil gen --exams 500 --seed 7 --out /tmp/demo\n  vigil gen --exams 1000000 --seed 1 --out /tmp/big --defect-rate 0.01"
    )]
    Gen {
        #[arg(long, default_value_t = 500)]
        exams: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Share of records carrying a deliberate problem, spread over the rules
        #[arg(long, default_value_t = 0.02)]
        defect_rate: f64,
        /// Months of data, starting 2026-01
        #[arg(long, default_value_t = 3)]
        months: u32,
    },
    /// Reference data: procedure codes and their supervision levels
    #[command(subcommand)]
    Reference(ReferenceCommand),
    /// Write the evidence packet: report.html, findings, metrics, inputs and a manifest of hashes
    Audit(audit::AuditArgs),
    /// Check a packet against its manifest (and signature): exit 3 naming each difference
    Verify(audit::VerifyArgs),
    /// Create an Ed25519 key pair for signing packets
    Keygen(audit::KeygenArgs),
    /// Compare two findings.json files: new, resolved and persisting findings
    Diff(diff::DiffArgs),
    /// Tools for policy authors: lint, test, diff and catalogue packs
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// What a rule checks, why, its parameters and the pack versions that contain it
    Explain(policy_docs::ExplainArgs),
    /// Print a JSON Schema (`vigil schema policy`) for editors that complete and check files
    Schema(policy_checks::SchemaArgs),
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff)
    Man,
}

#[derive(Debug, Subcommand)]
pub enum ReferenceCommand {
    /// Turn the CMS physician fee schedule relative value file (PPRRVU CSV) into a procedure_codes file
    #[command(
        after_help = "Examples:\n  vigil reference import-rvu PPRRVU26_JAN.csv --year 2026 -o export/reference/procedure_codes.csv\n\nKeeps global and TC rows (the global row wins), skips other modifiers, and writes\nsupervision indicators as two characters. Unknown indicators are kept as found and listed."
    )]
    ImportRvu {
        /// The PPRRVU CSV file
        file: PathBuf,
        /// Fee schedule year the rows belong to
        #[arg(long, value_parser = clap::value_parser!(i32).range(1992..=2100))]
        year: i32,
        /// Write the procedure_codes CSV to FILE instead of standard output
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The bundle folder (holding bundle.toml)
    pub bundle: PathBuf,
    /// A pack folder, a folder of packs, or `builtin` (repeatable; default: the shipped packs)
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<String>,
    /// The "now" stamped on the output: RFC 3339, or a date (midnight UTC)
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: CheckFormat,
    /// Exit 1 when a finding is at or above this severity
    #[arg(long, value_name = "SEVERITY", default_value = "high", value_parser = ["critical", "high", "medium", "low", "info", "none"])]
    pub fail_on: String,
    /// Write the output to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A findings.json from an earlier run: only findings not in it can fail the run
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// A TOML waivers file: waived findings stay in the output but never fail the run
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// The Rhai operations the policies' scripts and expressions may take in all; past it the
    /// run stops (exit 2). Default: 10,000 per record of the bundle, at least 100,000,000
    #[arg(long, value_name = "OPERATIONS")]
    pub max_script_operations: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// The formats of `vigil check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    /// JUnit XML: one testsuite per pack, one testcase per rule
    Junit,
    /// SARIF 2.1.0
    Sarif,
    /// GitHub Actions workflow-command annotations
    Github,
    /// One finding per line
    Ndjson,
}

/// Why a command could not run (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("invalid policy: {0}")]
    Policy(#[from] PolicyError),
    #[error("policy script error: {0}")]
    Eval(#[from] EvalError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Gen(#[from] vigil::generate::GenError),
    #[error(transparent)]
    Reference(#[from] vigil::reference::ReferenceError),
    #[error(transparent)]
    Waiver(#[from] vigil::waiver::WaiverError),
    #[error(transparent)]
    Packet(#[from] vigil::packet::PacketError),
    #[error(transparent)]
    Baseline(#[from] vigil::baseline::BaselineError),
}

/// Runs a command; `Ok(code)` is 0 or 1.
pub fn run(cli: Cli) -> Result<i32, CliError> {
    match cli.command {
        Command::Check(args) => {
            let _line = progress_line::ProgressLine::start("check");
            check(args)
        }
        Command::Inspect {
            bundle,
            format,
            output,
        } => {
            let line = progress_line::ProgressLine::start("inspect");
            let bundle = Bundle::load(&bundle)?;
            drop(line);
            let report = inspect::inspect(&bundle);
            let out = match format {
                OutputFormat::Text => inspect::inspect_text(&report),
                OutputFormat::Json => to_json(&report)?,
            };
            emit(&out, output.as_deref())?;
            // The process ends here: freeing a large bundle record by record only costs time.
            std::mem::forget(bundle);
            Ok(0)
        }
        Command::Audit(args) => {
            let _line = progress_line::ProgressLine::start("audit");
            audit::audit(args)
        }
        Command::Verify(args) => audit::verify(args),
        Command::Keygen(args) => audit::keygen(args),
        Command::Diff(args) => diff::run(args),
        Command::Policy(cmd) => policy::run(cmd),
        Command::Explain(args) => policy_docs::explain(args),
        Command::Schema(args) => policy_checks::schema(args),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "vigil", &mut out);
            emit(&String::from_utf8_lossy(&out), None)?;
            Ok(0)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .map_err(|e| CliError::Usage(format!("cannot render the manual: {e}")))?;
            emit(&String::from_utf8_lossy(&out), None)?;
            Ok(0)
        }
        Command::Reference(ReferenceCommand::ImportRvu { file, year, output }) => {
            import_rvu(&file, year, output.as_deref())
        }
        Command::Gen {
            exams,
            seed,
            out,
            defect_rate,
            months,
        } => {
            let opts = vigil::generate::GenOptions {
                exams,
                seed,
                defect_rate,
                months,
                ..vigil::generate::GenOptions::default()
            };
            let summary = vigil::generate::generate(&opts, &out)?;
            let records: u64 = summary.files.iter().map(|(_, n)| n).sum();
            eprintln!(
                "wrote {} files, {records} records, to {}",
                summary.files.len(),
                out.display()
            );
            Ok(0)
        }
    }
}

fn import_rvu(file: &Path, year: i32, output: Option<&Path>) -> Result<i32, CliError> {
    let (csv, summary) = vigil::reference::read_rvu_file(file, year)?;
    emit(&csv, output)?;
    eprintln!(
        "imported {} codes for {year} from {} rows ({} other modifiers skipped, {} TC rows replaced by global, {} duplicates, {} rows without a code)",
        summary.written,
        summary.rows_read,
        summary.skipped_modifier,
        summary.replaced_by_global,
        summary.duplicates,
        summary.skipped_no_code
    );
    for (line, value) in &summary.bad_indicator {
        eprintln!(
            "warning: `{}`, line {line}: supervision indicator `{value}` is not a CMS code; kept as found (DQ-001 when a bundle uses it)",
            file.display()
        );
    }
    if summary.windows_1252_rows > 0 {
        eprintln!(
            "note: {} rows were read as Windows-1252",
            summary.windows_1252_rows
        );
    }
    Ok(0)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| CliError::Usage(format!("cannot serialise the output: {e}")))
}

fn emit(text: &str, output: Option<&Path>) -> Result<(), CliError> {
    progress_line::stop();
    match output {
        Some(path) => std::fs::write(path, text).map_err(|source| CliError::Write {
            path: path.to_path_buf(),
            source,
        }),
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
            Ok(())
        }
    }
}

/// `--as-of`: RFC 3339, or a date meaning midnight UTC; written as RFC 3339 UTC.
pub fn parse_as_of(s: &str) -> Result<DateTime<Utc>, CliError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    Err(CliError::Usage(format!(
        "`--as-of {s}` is neither an RFC 3339 time (2026-04-02T00:00:00Z) nor a date (2026-04-02)"
    )))
}

/// `--as-of` as an instant and as written into outputs (RFC 3339 UTC, seconds).
pub fn as_of(arg: Option<&str>) -> Result<(chrono::DateTime<Utc>, String), CliError> {
    let time = match arg {
        Some(s) => parse_as_of(s)?,
        None => Utc::now(),
    };
    Ok((time, time.to_rfc3339_opts(SecondsFormat::Secs, true)))
}

/// The packs of `--policies`, saying on stderr which shipped pack a pack from a folder replaces.
pub fn load_packs_noted(policies: &[String]) -> Result<Vec<vigil::policy::model::Pack>, CliError> {
    let packs = load_packs(policies)?;
    for p in &packs {
        if let Some(shipped) = &p.replaces {
            eprintln!(
                "note: pack `{}` from `{}` replaces the shipped pack (`{shipped}`)",
                p.id, p.source
            );
        }
    }
    Ok(packs)
}

/// The packs and the waivers file: read before any bundle, so a bad one fails fast.
pub fn load_policies(
    policies: &[String],
    waivers: Option<&Path>,
) -> Result<
    (
        Vec<vigil::policy::model::Pack>,
        Option<vigil::waiver::Waivers>,
    ),
    CliError,
> {
    let packs = load_packs_noted(policies)?;
    let waivers = match waivers {
        Some(path) => Some(vigil::waiver::load(path, &packs)?),
        None => None,
    };
    Ok((packs, waivers))
}

/// Reads the bundle, builds the world (redacted when asked), evaluates the packs and applies
/// the waivers: what `check` and `audit` share.
pub fn judge(
    bundle: &Path,
    packs: &[vigil::policy::model::Pack],
    waivers: Option<&vigil::waiver::Waivers>,
    redaction: Option<vigil::eval::redact::Redaction>,
    as_of: chrono::DateTime<Utc>,
    script_budget: Option<u64>,
) -> Result<(Arc<World>, vigil::eval::run::Evaluation), CliError> {
    let bundle = Bundle::load(bundle)?;
    let records = bundle.record_count() as u64;
    let mut world = World::new(bundle, vigil::eval::world::PackData::of(packs));
    if let Some(redaction) = redaction {
        world.set_redaction(redaction);
    }
    world.set_script_budget(script_budget.unwrap_or_else(|| default_script_budget(records)));
    let world = Arc::new(world);
    let mut eval = evaluate(&world, packs)?;
    if let Some(waivers) = waivers {
        vigil::waiver::apply(waivers, &mut eval, as_of);
    }
    Ok((world, eval))
}

/// The Rhai operations a run's scripts may take in all when `--max-script-operations` is not
/// given: [`SCRIPT_OPERATIONS_PER_RECORD`] per record of the bundle, and at least
/// [`MIN_SCRIPT_OPERATIONS`]. The shipped packs take about 2 per record (2.2M on a 1M-exam
/// bundle); a script that spends the per-evaluation limit on every record is stopped after
/// 1% of that work.
fn default_script_budget(records: u64) -> u64 {
    records
        .saturating_mul(SCRIPT_OPERATIONS_PER_RECORD)
        .max(MIN_SCRIPT_OPERATIONS)
}

/// See [`default_script_budget`].
pub const SCRIPT_OPERATIONS_PER_RECORD: u64 = 10_000;
/// See [`default_script_budget`].
pub const MIN_SCRIPT_OPERATIONS: u64 = 100_000_000;

/// Whether a finding fails the run: status `fail`, at or above `--fail-on`, and (with a
/// baseline) not accepted in it.
pub fn fails_run(
    eval: &vigil::eval::run::Evaluation,
    fail_on: &str,
    baseline: Option<&std::collections::BTreeSet<String>>,
) -> bool {
    Severity::parse(fail_on).is_some_and(|threshold| {
        eval.findings.iter().any(|f| {
            f.status == vigil::eval::model::Status::Fail
                && f.severity <= threshold
                && baseline.is_none_or(|b| !b.contains(&f.id))
        })
    })
}

/// The writer of a `check --format`.
fn check_writer(format: CheckFormat, style: text::Style) -> Box<dyn Writer> {
    match format {
        CheckFormat::Json => Box::new(json::FindingsJson),
        CheckFormat::Junit => Box::new(vigil::report::junit::Junit),
        CheckFormat::Sarif => Box::new(vigil::report::sarif::Sarif),
        CheckFormat::Github => Box::new(vigil::report::annotations::Github),
        CheckFormat::Ndjson => Box::new(vigil::report::ndjson::Ndjson),
        CheckFormat::Text => Box::new(text::CheckSummary { style }),
    }
}

fn check(args: CheckArgs) -> Result<i32, CliError> {
    let (as_of_time, as_of) = as_of(args.as_of.as_deref())?;
    // Policies, waivers and baseline first: a bad one should not wait for a large bundle.
    let (packs, waivers) = load_policies(&args.policies, args.waivers.as_deref())?;
    let baseline = match &args.baseline {
        Some(path) => Some(vigil::baseline::load_ids(path)?),
        None => None,
    };
    let (world, eval) = judge(
        &args.bundle,
        &packs,
        waivers.as_ref(),
        None,
        as_of_time,
        args.max_script_operations,
    )?;
    // Another export of the same network is a normal baseline (ids match by rule, subject and
    // evidence); another network's is a likely mistake: said, not silently accepted.
    if let Some(path) = &args.baseline
        && let Some(id) = vigil::baseline::bundle_id(path)
        && id != world.bundle.manifest.id
    {
        progress_line::stop();
        eprintln!(
            "warning: the baseline `{}` was written for bundle `{}`; this run reads `{}` (findings are matched by id all the same)",
            path.display(),
            shown(&id, SHOWN_CHARS),
            shown(&world.bundle.manifest.id, SHOWN_CHARS)
        );
    }
    let doc = Document::new(&as_of, &world.bundle, &packs, &eval);
    let color = args.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let out = check_writer(args.format, text::Style { color })
        .write(&doc)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    emit(&out, args.output.as_deref())?;
    // Waived findings never fail the run; with a baseline, only findings new since it do.
    let code = i32::from(fails_run(&eval, &args.fail_on, baseline.as_ref()));
    // The process ends here: freeing a large world record by record only costs time.
    std::mem::forget(world);
    Ok(code)
}
