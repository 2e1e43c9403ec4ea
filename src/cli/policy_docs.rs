//! `vigil policy diff`, `vigil policy catalog` and `vigil explain`.

use std::path::PathBuf;

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The older version, as PACK@VERSION (e.g. cms-direct-supervision@2.0.0)
    pub old: String,
    /// The newer version, as PACK@VERSION
    pub new: String,
    /// Also show the findings that appear or disappear on this bundle between the two versions
    #[arg(long, value_name = "BUNDLE")]
    pub impact: Option<PathBuf>,
    /// Where to find the packs (default: the shipped packs)
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct CatalogArgs {
    #[arg(long, default_value = "md", value_parser = ["md", "html"])]
    pub format: String,
    /// Where to find the packs (default: the shipped packs)
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A rule id, e.g. SUP-005
    pub rule: String,
    /// Where to find the packs (default: the shipped packs)
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<String>,
}

pub fn diff(_args: DiffArgs) -> Result<i32, CliError> {
    Err(CliError::Usage(
        "`vigil policy diff` is not built yet".into(),
    ))
}

pub fn catalog(_args: CatalogArgs) -> Result<i32, CliError> {
    Err(CliError::Usage(
        "`vigil policy catalog` is not built yet".into(),
    ))
}

pub fn explain(_args: ExplainArgs) -> Result<i32, CliError> {
    Err(CliError::Usage("`vigil explain` is not built yet".into()))
}
