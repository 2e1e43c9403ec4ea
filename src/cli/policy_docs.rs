//! `vigil policy diff`, `vigil policy catalog` and `vigil explain`.

use std::path::PathBuf;
use std::sync::Arc;

use vigil::author::catalog::{self, catalog_html, catalog_markdown, explain_text, rule_ids};
use vigil::author::compare::{self, LookupError, diff_text, diff_versions, find_version};
use vigil::bundle::Bundle;
use vigil::eval::world::{PackData, World};
use vigil::policy::error::suggestion;

use super::{CliError, OutputFormat, emit, to_json};

const DIFF_EXAMPLES: &str = "Examples:
  vigil policy diff cms-direct-supervision@2.0.0 cms-direct-supervision@3.0.0
  vigil policy diff cms-direct-supervision@2.0.0 cms-direct-supervision@3.0.0 --impact fixtures/bundles/demo
  vigil policy diff local@1.0.0 local@2.0.0 --policies ./our-packs --format json

With --impact, the bundle is judged twice, each time with one version forced on every record
whatever its date of service; findings are matched by rule, subject and evidence.
Exit codes: 0 the report was written; 2 a pack, version or bundle could not be read.";

#[derive(Debug, clap::Args)]
#[command(after_help = DIFF_EXAMPLES)]
pub struct DiffArgs {
    /// The older version, as PACK@VERSION (e.g. cms-direct-supervision@2.0.0)
    pub old: String,
    /// The newer version, as PACK@VERSION (may name another pack, e.g. a custom copy)
    pub new: String,
    /// Also show the findings that appear or disappear on this bundle when NEW takes OLD's dates of service (each record judged by the version in effect on its date)
    #[arg(long, value_name = "BUNDLE")]
    pub impact: Option<PathBuf>,
    /// Where to find the packs (default: the shipped packs)
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Write the output to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  vigil policy catalog > CATALOG.md\n  vigil policy catalog --format html -o catalog.html\n  vigil policy catalog --policies builtin --policies ./our-packs"
)]
pub struct CatalogArgs {
    #[arg(long, default_value = "md", value_parser = ["md", "html"])]
    pub format: String,
    /// Where to find the packs (default: the shipped packs)
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<String>,
    /// Write the output to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  vigil explain SUP-005\n  vigil explain LOCAL-001 --policies builtin --policies ./our-packs\n  vigil explain SUP-003 --format json"
)]
pub struct ExplainArgs {
    /// A rule id, e.g. SUP-005
    pub rule: String,
    /// Where to find the packs (default: the shipped packs)
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
}

/// The hint for a name not found when only the shipped packs were searched.
const BUILTIN_ONLY: &str = "(searched the built-in packs; add --policies DIR)";

fn lookup_error(e: LookupError, policies: &[String]) -> CliError {
    let searched = if policies.is_empty() {
        format!(" {BUILTIN_ONLY}")
    } else {
        String::new()
    };
    CliError::Usage(match e.help {
        Some(help) => format!("{}\nhelp: {help}{searched}", e.message),
        None => format!("{}{searched}", e.message),
    })
}

pub fn diff(args: DiffArgs) -> Result<i32, CliError> {
    let packs = super::load_packs_noted(&args.policies)?;
    let (old_pack, old) =
        find_version(&packs, &args.old).map_err(|e| lookup_error(e, &args.policies))?;
    let (new_pack, new) =
        find_version(&packs, &args.new).map_err(|e| lookup_error(e, &args.policies))?;
    let mut report = diff_versions(old, new);
    if let Some(path) = &args.impact {
        let bundle = Bundle::load(path)?;
        // The same procedure codes a `vigil check` with these packs would use.
        let world = Arc::new(World::new(bundle, PackData::of(&packs)));
        report.impact = Some(compare::impact(
            &world,
            &path.display().to_string(),
            (old_pack, old),
            (new_pack, new),
        )?);
    }
    let out = match args.format {
        OutputFormat::Text => diff_text(&report),
        OutputFormat::Json => to_json(&report)?,
    };
    emit(&out, args.output.as_deref())?;
    Ok(0)
}

pub fn catalog(args: CatalogArgs) -> Result<i32, CliError> {
    let packs = super::load_packs_noted(&args.policies)?;
    let cat = catalog::catalog(&packs);
    let out = if args.format == "html" {
        catalog_html(&cat).map_err(|e| CliError::Usage(e.to_string()))?
    } else {
        catalog_markdown(&cat)
    };
    emit(&out, args.output.as_deref())?;
    Ok(0)
}

pub fn explain(args: ExplainArgs) -> Result<i32, CliError> {
    let packs = super::load_packs_noted(&args.policies)?;
    let found = catalog::explain(&packs, &args.rule);
    if found.is_empty() {
        let ids = rule_ids(&packs);
        // Rule ids are upper case by convention; `sup-03` should still find `SUP-003`.
        let help = suggestion(&args.rule.to_uppercase(), ids.iter().map(String::as_str))
            .unwrap_or_else(|| "`vigil policy catalog` lists every rule".into());
        let searched = if args.policies.is_empty() {
            format!(" {BUILTIN_ONLY}")
        } else {
            String::new()
        };
        return Err(CliError::Usage(format!(
            "unknown rule `{}`\nhelp: {help}{searched}",
            args.rule
        )));
    }
    let out = match args.format {
        OutputFormat::Text => found
            .iter()
            .map(explain_text)
            .collect::<Vec<_>>()
            .join("\n"),
        OutputFormat::Json => to_json(&found)?,
    };
    emit(&out, None)?;
    Ok(0)
}
