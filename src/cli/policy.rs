//! `vigil policy ...`: the policy author's tools, dispatched to their command files.

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
}

pub fn run(cmd: PolicyCommand) -> Result<i32, CliError> {
    match cmd {
        PolicyCommand::Lint(args) => policy_checks::lint(args),
        PolicyCommand::Test(args) => policy_checks::test(args),
        PolicyCommand::Diff(args) => policy_docs::diff(args),
        PolicyCommand::Catalog(args) => policy_docs::catalog(args),
    }
}
