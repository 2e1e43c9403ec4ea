//! `vigil policy lint`, `vigil policy test` and `vigil schema policy`.

use std::path::PathBuf;

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Pack folders or folders of packs (default: the shipped packs)
    pub dirs: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Pack folders or folders of packs (default: the shipped packs)
    pub dirs: Vec<String>,
    /// Also write the results as JUnit XML to FILE
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// What to describe: `policy` (the policy file format)
    pub what: String,
}

pub fn lint(_args: LintArgs) -> Result<i32, CliError> {
    Err(CliError::Usage(
        "`vigil policy lint` is not built yet".into(),
    ))
}

pub fn test(_args: TestArgs) -> Result<i32, CliError> {
    Err(CliError::Usage(
        "`vigil policy test` is not built yet".into(),
    ))
}

pub fn schema(_args: SchemaArgs) -> Result<i32, CliError> {
    Err(CliError::Usage("`vigil schema` is not built yet".into()))
}
