//! `vigil policy ...`: the policy author's tools, dispatched to their command files.

use std::path::PathBuf;

use clap::Subcommand;

use super::{CliError, policy_checks, policy_docs};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check packs: they load, versions chain, scripts compile, templates and parameters are used
    Lint(policy_checks::LintArgs),
    /// Run the test cases kept beside the packs and report rule coverage
    Test(policy_checks::TestArgs),
    /// Rules added, removed and changed between two pack versions (PACK@VERSION)
    Diff(policy_docs::DiffArgs),
    /// The rule catalogue, generated from the packs (Markdown or HTML)
    Catalog(policy_docs::CatalogArgs),
    /// Write the shipped packs, with their tests and README, as an editable copy
    Init(InitArgs),
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  vigil policy init my-policies
  vigil check export/ --policies my-policies    (each copied pack replaces the shipped one)")]
pub struct InitArgs {
    /// The folder to write (created; no file in it is overwritten)
    pub dir: PathBuf,
    /// Only this pack (e.g. network-benchmarks)
    #[arg(long, value_name = "ID")]
    pub pack: Option<String>,
}

pub fn run(cmd: PolicyCommand) -> Result<i32, CliError> {
    match cmd {
        PolicyCommand::Lint(args) => policy_checks::lint(args),
        PolicyCommand::Test(args) => policy_checks::test(args),
        PolicyCommand::Diff(args) => policy_docs::diff(args),
        PolicyCommand::Catalog(args) => policy_docs::catalog(args),
        PolicyCommand::Init(args) => init(args),
    }
}

fn init(args: InitArgs) -> Result<i32, CliError> {
    let files = vigil::author::init::write_packs(&args.dir, args.pack.as_deref())
        .map_err(|e| CliError::Usage(error_chain(&e)))?;
    eprintln!(
        "wrote {} files to {}; edit them, then run `vigil check BUNDLE --policies {}`",
        files.len(),
        args.dir.display(),
        args.dir.display()
    );
    Ok(0)
}

/// An error and its sources, on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}
