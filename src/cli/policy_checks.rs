//! `vigil policy lint`, `vigil policy test` and `vigil schema policy`.

use std::path::PathBuf;

use vigil::author::lint::LintReport;
use vigil::author::testing::{self, Outcome, PackResult};
use vigil::policy::model::Pack;
use vigil::policy::schema;

use super::{CliError, emit};

const LINT_EXAMPLES: &str = "Examples:
  vigil policy lint                 (the shipped packs)
  vigil policy lint ./our-packs     (a folder of packs, or one pack folder)

Exit codes: 0 the packs are clean (warnings allowed); 2 an error.";

const TEST_EXAMPLES: &str = "Examples:
  vigil policy test                 (the shipped packs' own cases)
  vigil policy test ./our-packs --junit policy-tests.xml

A case is a folder PACK/tests/CASE/ with a bundle/ and an expected.toml listing the findings
the pack must produce ([[finding]] rule, key; optional file, line, severity, policy_version;
absent = [rules that must not fire]).

Exit codes: 0 every case passes; 1 a case fails; 2 the cases cannot run.";

#[derive(Debug, clap::Args)]
#[command(after_help = LINT_EXAMPLES)]
pub struct LintArgs {
    /// Pack folders or folders of packs, or `builtin` (default: the shipped packs)
    pub dirs: Vec<String>,
}

#[derive(Debug, clap::Args)]
#[command(after_help = TEST_EXAMPLES)]
pub struct TestArgs {
    /// Pack folders or folders of packs, or `builtin` (default: the shipped packs)
    pub dirs: Vec<String>,
    /// Also write the results as JUnit XML to FILE
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Rewrite the `expected.toml` of every failing case from the findings, and say what changed
    #[arg(long)]
    pub bless: bool,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  vigil schema policy > policy.schema.json\n\nFor taplo / Even Better TOML, point a `[[rule]]` of .taplo.toml (or `#:schema policy.schema.json`\nat the top of a policy file) at the saved schema."
)]
pub struct SchemaArgs {
    /// What to describe: `policy` (the policy file format)
    #[arg(value_parser = schema::SCHEMA_NAMES)]
    pub what: String,
}

/// The packs named by DIRs; the export-integrity pack that loading always adds is kept only
/// when the shipped packs were asked for.
fn packs_of(dirs: &[String]) -> Result<Vec<Pack>, CliError> {
    let packs = super::load_packs_noted(dirs)?;
    let builtin = dirs.is_empty() || dirs.iter().any(|d| d == "builtin");
    Ok(packs
        .into_iter()
        .filter(|p| builtin || !p.source.starts_with("builtin:"))
        .collect())
}

pub fn lint(args: LintArgs) -> Result<i32, CliError> {
    let mut report = LintReport::default();
    let groups: Vec<Vec<String>> = if args.dirs.is_empty() {
        vec![Vec::new()]
    } else {
        args.dirs.iter().map(|d| vec![d.clone()]).collect()
    };
    // Each DIR on its own, so one broken pack does not hide the others' problems.
    let mut seen: Vec<String> = Vec::new();
    for dirs in &groups {
        match packs_of(dirs) {
            Ok(packs) => {
                for pack in &packs {
                    if !seen.contains(&pack.source) {
                        seen.push(pack.source.clone());
                        report.add_pack(pack);
                    }
                }
            }
            Err(CliError::Policy(e)) => report.errors.extend(e.flatten()),
            Err(e) => return Err(e),
        }
    }
    for w in &report.warnings {
        eprintln!("warning: {w}\n");
    }
    for e in &report.errors {
        eprintln!("error: {e}\n");
    }
    if !report.errors.is_empty() {
        eprintln!(
            "lint: {} error(s), {} warning(s)",
            report.errors.len(),
            report.warnings.len()
        );
        return Ok(2);
    }
    emit(
        &format!(
            "ok: {} packs, {} versions, {} rules{}\n",
            report.packs,
            report.versions,
            report.rules,
            match report.warnings.len() {
                0 => String::new(),
                n => format!(" ({n} warning(s))"),
            }
        ),
        None,
    )?;
    Ok(0)
}

pub fn test(args: TestArgs) -> Result<i32, CliError> {
    let packs = packs_of(&args.dirs)?;
    let data = vigil::eval::world::PackData::of(&packs);
    let results: Vec<PackResult> = packs
        .iter()
        .map(|p| testing::run_pack(p, &data, args.bless))
        .collect();
    let cases: usize = results.iter().map(|r| r.cases.len()).sum();
    if cases == 0 {
        return Err(CliError::Usage(
            "no policy test cases found (a case is a folder PACK/tests/CASE/ holding bundle/ and expected.toml)".into(),
        ));
    }
    emit(&test_text(&results), None)?;
    if let Some(path) = &args.junit {
        emit(&testing::junit(&results), Some(path))?;
    }
    let outcomes = || {
        results
            .iter()
            .flat_map(|r| r.cases.iter().map(|c| &c.outcome))
    };
    if outcomes().any(|o| matches!(o, Outcome::Error(_))) {
        return Ok(2);
    }
    Ok(i32::from(outcomes().any(|o| matches!(o, Outcome::Fail(_)))))
}

/// The report: PASS/FAIL/ERROR per case with the differences, then coverage per pack.
fn test_text(results: &[PackResult]) -> String {
    let mut out = String::new();
    let (mut passed, mut failed, mut errors, mut blessed) = (0, 0, 0, 0);
    for r in results {
        out.push_str(&format!("{} ({})\n", r.pack, r.source));
        if r.cases.is_empty() {
            out.push_str("  no test cases\n");
        }
        for c in &r.cases {
            match &c.outcome {
                Outcome::Pass => {
                    passed += 1;
                    out.push_str(&format!("  PASS  {}\n", c.name));
                }
                Outcome::Fail(diffs) => {
                    failed += 1;
                    out.push_str(&format!("  FAIL  {}  ({})\n", c.name, c.shown));
                    for d in diffs {
                        out.push_str(&format!("        {d}\n"));
                    }
                }
                Outcome::Error(e) => {
                    errors += 1;
                    out.push_str(&format!("  ERROR {}: {e}\n", c.name));
                }
                Outcome::Blessed(diffs) => {
                    blessed += 1;
                    out.push_str(&format!(
                        "  BLESS {}  ({}/expected.toml rewritten)\n",
                        c.name, c.shown
                    ));
                    for d in diffs {
                        out.push_str(&format!("        {d}\n"));
                    }
                }
            }
        }
        let uncovered = r.uncovered();
        out.push_str(&format!(
            "  coverage: {} of {} rules fire in some case",
            r.rules.len() - uncovered.len(),
            r.rules.len()
        ));
        if !uncovered.is_empty() {
            out.push_str(&format!("; never: {}", uncovered.join(", ")));
        }
        out.push('\n');
        let versions = r.uncovered_versions();
        out.push_str(&format!(
            "  versions: {} of {} have a finding in some case",
            r.versions.len() - versions.len(),
            r.versions.len()
        ));
        if !versions.is_empty() {
            out.push_str(&format!("; none: {}", versions.join(", ")));
        }
        out.push('\n');
    }
    let blessed_note = match blessed {
        0 => String::new(),
        n => format!(", {n} blessed"),
    };
    out.push_str(&format!(
        "\n{} cases: {passed} passed, {failed} failed, {errors} could not run{blessed_note}\n",
        passed + failed + errors + blessed
    ));
    out
}

pub fn schema(args: SchemaArgs) -> Result<i32, CliError> {
    let text = schema::schema(&args.what).ok_or_else(|| {
        CliError::Usage(format!(
            "no schema `{}`; known: {}",
            args.what,
            schema::SCHEMA_NAMES.join(", ")
        ))
    })?;
    emit(text, None)?;
    Ok(0)
}
