//! Where packs come from: `--policies` arguments (`builtin`, a pack folder or a folder of packs)
//! resolved to pack folders on disk or packs built into the binary, with the export-integrity
//! pack added when it is not among them.

use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use super::pack::load_pack;
use crate::policy::error::{Collect, PolicyError};
use crate::policy::model::Pack;

/// The shipped packs, embedded so they work from any directory and after `cargo install`.
pub static BUILTIN_PACKS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/policies");

/// The pack that always runs: the reader's contract.
pub const EXPORT_INTEGRITY: &str = "export-integrity";

/// Where a pack's files live.
#[derive(Debug, Clone)]
pub enum PackSource {
    Disk(PathBuf),
    Builtin(&'static Dir<'static>),
}

impl PackSource {
    /// How a file of the pack is named to users.
    pub(super) fn display(&self, name: &str) -> String {
        match self {
            PackSource::Disk(dir) => dir.join(name).display().to_string(),
            PackSource::Builtin(dir) => format!("builtin:{}", dir.path().join(name).display()),
        }
    }

    pub(super) fn label(&self) -> String {
        match self {
            PackSource::Disk(dir) => dir.display().to_string(),
            PackSource::Builtin(dir) => format!("builtin:{}", dir.path().display()),
        }
    }

    pub(super) fn read(&self, name: &str) -> Option<Vec<u8>> {
        match self {
            PackSource::Disk(dir) => std::fs::read(dir.join(name)).ok(),
            PackSource::Builtin(dir) => dir
                .get_file(dir.path().join(name))
                .map(|f| f.contents().to_vec()),
        }
    }

    /// The pack's TOML files, sorted by name.
    pub(super) fn toml_files(&self) -> Result<Vec<String>, PolicyError> {
        let mut names: Vec<String> = match self {
            PackSource::Disk(dir) => std::fs::read_dir(dir)
                .map_err(|e| {
                    PolicyError::new(
                        dir.display().to_string(),
                        format!("cannot read the pack folder: {e}"),
                    )
                })?
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".toml"))
                .collect(),
            PackSource::Builtin(dir) => dir
                .files()
                .filter_map(|f| f.path().file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".toml"))
                .collect(),
        };
        names.sort();
        Ok(names)
    }
}

/// Resolves `--policies` arguments (`builtin`, a pack folder, or a folder of packs) to packs,
/// adding the export-integrity pack when it is not among them.
pub fn load_packs(args: &[String]) -> Result<Vec<Pack>, PolicyError> {
    let mut sources = Vec::new();
    let args: Vec<String> = if args.is_empty() {
        vec!["builtin".to_string()]
    } else {
        args.to_vec()
    };
    // Every argument is resolved before any pack loads, so a mistyped folder is reported first.
    for arg in &args {
        sources.extend(sources_of(arg)?);
    }
    let mut packs: Vec<Pack> = Vec::new();
    let mut errors = Collect::default();
    for source in sources {
        let Some(mut pack) = errors.take(load_pack(&source)) else {
            continue;
        };
        // A pack from a folder replaces the shipped pack of its id (an edited copy, as
        // `vigil policy init` writes), in the shipped pack's place; the run says so.
        let shipped = packs.iter().position(|p| {
            p.id == pack.id
                && p.source.starts_with("builtin:")
                && !pack.source.starts_with("builtin:")
        });
        if let Some(i) = shipped {
            let old = packs.remove(i);
            pack.replaces = Some(old.source);
            packs.insert(i, pack);
            continue;
        }
        // The same, the other way round: the folder's pack came first.
        if pack.source.starts_with("builtin:")
            && let Some(copy) = packs
                .iter_mut()
                .find(|p| p.id == pack.id && !p.source.starts_with("builtin:"))
        {
            copy.replaces = Some(pack.source);
            continue;
        }
        if let Some(other) = packs.iter().find(|p| p.id == pack.id) {
            errors.push(
                PolicyError::new(
                    pack.source.clone(),
                    format!(
                        "two packs have the id `{}`: `{}` and `{}`",
                        pack.id, other.source, pack.source
                    ),
                )
                .with_help(Some(
                    "give the custom pack its own `pack.id`, or pass only one of the two".into(),
                )),
            );
            continue;
        }
        packs.push(pack);
    }
    unique_rule_ids(&packs, &mut errors);
    errors.finish()?;
    match packs.iter_mut().find(|p| p.id == EXPORT_INTEGRITY) {
        None => packs.insert(0, export_integrity_pack()?),
        // A copy of the pack that always runs replaces the shipped one.
        Some(copy) if !copy.source.starts_with("builtin:") && copy.replaces.is_none() => {
            copy.replaces = Some(format!("builtin:{EXPORT_INTEGRITY}"));
        }
        Some(_) => {}
    }
    Ok(packs)
}

/// A rule id names one rule across every pack of a run (waivers, baselines and reports key on
/// it); the versions of one pack share their rule ids.
fn unique_rule_ids(packs: &[Pack], errors: &mut Collect) {
    let mut owner: std::collections::BTreeMap<&str, &Pack> = std::collections::BTreeMap::new();
    for pack in packs {
        for version in &pack.versions {
            for rule in &version.rules {
                match owner.get(rule.id.as_str()) {
                    Some(other) if other.id != pack.id => {
                        let mut e = PolicyError::new(
                            version.path.clone(),
                            format!(
                                "rule `{}` is also defined by pack `{}` ({}): a rule id names one rule across every pack",
                                rule.id, other.id, other.source
                            ),
                        )
                        .with_help(Some(
                            "give this rule an id of its own pack's prefix, or remove one of the two packs from `--policies`".into(),
                        ));
                        e.place = rule.id_place.clone();
                        errors.push(e);
                    }
                    Some(_) => {}
                    None => {
                        owner.insert(&rule.id, pack);
                    }
                }
            }
        }
    }
}

/// The packs one `--policies` argument names, in name order.
fn sources_of(arg: &str) -> Result<Vec<PackSource>, PolicyError> {
    if arg == "builtin" {
        let mut dirs: Vec<&'static Dir<'static>> = BUILTIN_PACKS.dirs().collect();
        dirs.sort_by_key(|d| d.path());
        return Ok(dirs.into_iter().map(PackSource::Builtin).collect());
    }
    let path = PathBuf::from(arg);
    if !path.is_dir() {
        return Err(PolicyError::new(
            arg,
            format!("policy folder `{arg}` does not exist or is not a folder"),
        )
        .with_help(Some(
            "pass a pack folder, a folder of packs, or `builtin`".into(),
        )));
    }
    if is_pack_folder(&path) {
        return Ok(vec![PackSource::Disk(path)]);
    }
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(&path)
        .map_err(|e| PolicyError::new(arg, format!("cannot read the folder: {e}")))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && is_pack_folder(p))
        .collect();
    subdirs.sort();
    if subdirs.is_empty() {
        return Err(PolicyError::new(
            arg,
            format!("`{arg}` holds no policy pack (no `*.toml` files, nor folders of them)"),
        ));
    }
    Ok(subdirs.into_iter().map(PackSource::Disk).collect())
}

fn is_pack_folder(path: &Path) -> bool {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.path().is_file() && e.file_name().to_string_lossy().ends_with(".toml"))
        })
        .unwrap_or(false)
}

fn export_integrity_pack() -> Result<Pack, PolicyError> {
    let dir = BUILTIN_PACKS.get_dir(EXPORT_INTEGRITY).ok_or_else(|| {
        PolicyError::new(
            "builtin:export-integrity",
            "the built-in export-integrity pack is missing",
        )
    })?;
    load_pack(&PackSource::Builtin(dir))
}
