//! `vigil diff OLD.json NEW.json`: new, resolved and persisting findings by stable id.

use std::path::PathBuf;

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    pub old: PathBuf,
    pub new: PathBuf,
}

pub fn run(_args: DiffArgs) -> Result<i32, CliError> {
    Err(CliError::Usage("`vigil diff` is not built yet".into()))
}
