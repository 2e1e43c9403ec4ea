//! Waivers: justified, approved, expiring exceptions that mark findings `waived`.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::eval::run::Evaluation;
use crate::eval::world::World;
use crate::policy::model::Pack;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WaiverError(pub String);

#[derive(Debug, Default)]
pub struct Waivers {}

pub fn load(_path: &Path, _packs: &[Pack]) -> Result<Waivers, WaiverError> {
    Err(WaiverError("waivers are not built yet".into()))
}

pub fn apply(_waivers: &Waivers, _eval: &mut Evaluation, _world: &World, _as_of: DateTime<Utc>) {}
