//! `vigil policy init DIR [--pack ID]`: the shipped packs, with their tests and the catalogue's
//! README, written out as an editable copy. `vigil check --policies DIR` on the copy judges
//! exactly as the built-in packs do, and each pack of the copy replaces the shipped pack of its
//! id (the run says so), so a compliance officer starts from the real thing.

use std::path::{Path, PathBuf};

use include_dir::Dir;

use crate::policy::load::BUILTIN_PACKS;
use crate::suggest::did_you_mean;

/// Why no copy was written (exit 2). Nothing is overwritten: a file that exists stops the copy
/// before anything is written.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("no shipped pack `{id}`{}", .suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownPack {
        id: String,
        suggestion: Option<String>,
    },
    #[error("`{}` already exists; choose an empty folder (nothing was written)", .0.display())]
    Exists(PathBuf),
    #[error("cannot write `{}`", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The ids of the shipped packs, sorted.
pub fn shipped_pack_ids() -> Vec<String> {
    let mut ids: Vec<String> = BUILTIN_PACKS
        .dirs()
        .filter_map(|d| d.path().file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids
}

/// Writes the shipped packs (or only `pack`) under `dir`, with the catalogue's README when all
/// packs are written; returns the files written, in order.
pub fn write_packs(dir: &Path, pack: Option<&str>) -> Result<Vec<PathBuf>, InitError> {
    let mut files: Vec<(PathBuf, &'static [u8])> = Vec::new();
    match pack {
        Some(id) => {
            let source = BUILTIN_PACKS.get_dir(id).ok_or_else(|| {
                let ids = shipped_pack_ids();
                InitError::UnknownPack {
                    id: id.to_string(),
                    suggestion: did_you_mean(id, ids.iter().map(String::as_str))
                        .map(str::to_string),
                }
            })?;
            collect(source, dir, &mut files);
        }
        None => collect(&BUILTIN_PACKS, dir, &mut files),
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some((path, _)) = files.iter().find(|(p, _)| p.exists()) {
        return Err(InitError::Exists(path.clone()));
    }
    let mut written = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| InitError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, bytes).map_err(|source| InitError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// Every file below `source`, at its path relative to the shipped packs' root (a single pack
/// keeps its own folder), under `dir`.
fn collect(source: &'static Dir<'static>, dir: &Path, out: &mut Vec<(PathBuf, &'static [u8])>) {
    for f in source.files() {
        out.push((dir.join(f.path()), f.contents()));
    }
    for d in source.dirs() {
        collect(d, dir, out);
    }
}
