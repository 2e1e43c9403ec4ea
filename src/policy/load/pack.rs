//! One pack: its files load as versions of a single pack id that chain without overlap or gap.

use std::sync::Arc;

use super::source::PackSource;
use super::version::load_version;
use crate::policy::error::{Collect, PolicyError};
use crate::policy::model::{Pack, PackVersion};

/// Loads every version of one pack and checks that they chain without overlap or gap.
pub fn load_pack(source: &PackSource) -> Result<Pack, PolicyError> {
    let names = source.toml_files()?;
    if names.is_empty() {
        return Err(PolicyError::new(
            source.label(),
            "the pack folder holds no `*.toml` policy file",
        ));
    }
    let mut versions = Vec::new();
    let mut errors = Collect::default();
    for name in &names {
        let path = source.display(name);
        let Some(bytes) = source.read(name) else {
            errors.push(PolicyError::new(path, "cannot read the policy file"));
            continue;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            errors.push(PolicyError::new(path, "the file is not valid UTF-8"));
            continue;
        };
        if let Some(v) = errors.take(load_version(&text, &path, source)) {
            versions.push(v);
        }
    }
    errors.finish()?;
    let Some(id) = versions.first().map(|v| v.pack_id.clone()) else {
        return Err(PolicyError::new(source.label(), "the pack has no version"));
    };
    for v in &versions {
        if v.pack_id != id {
            return Err(PolicyError::new(
                v.path.clone(),
                format!(
                    "`pack.id = \"{}\"` differs from `{id}` in the other files of this folder",
                    v.pack_id
                ),
            ));
        }
    }
    versions.sort_by(|a, b| {
        a.effective_from
            .cmp(&b.effective_from)
            .then(a.version.cmp(&b.version))
    });
    check_chain(&versions)?;
    Ok(Pack {
        id,
        source: source.label(),
        versions: versions.into_iter().map(Arc::new).collect(),
        replaces: None,
    })
}

/// Versions sorted by start date follow each other: each ends the day before the next begins.
fn check_chain(versions: &[PackVersion]) -> Result<(), PolicyError> {
    let undated: Vec<&PackVersion> = versions
        .iter()
        .filter(|v| v.effective_from.is_none())
        .collect();
    if let [first, second, ..] = undated[..] {
        let mut e = PolicyError::new(
            second.path.clone(),
            format!(
                "versions {} and {} of pack `{}` both have no `effective_from`: with several versions, only the first may be undated",
                first.version, second.version, second.pack_id
            ),
        )
        .with_help(Some(format!(
            "give version {} the first date of service it judges (`effective_from = YYYY-MM-DD` under `[pack]`), and version {} the day before as `effective_to`",
            second.version, first.version
        )));
        e.place = second.version_place.clone();
        return Err(e);
    }
    for pair in versions.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        // Each error points at the `version` line of the file it names.
        pair_chain(a, b).map_err(|mut e| {
            let at = if e.path == a.path { a } else { b };
            e.place = at.version_place.clone();
            e
        })?;
    }
    Ok(())
}

/// Two versions next to each other by start date: `a` ends the day before `b` begins.
fn pair_chain(a: &PackVersion, b: &PackVersion) -> Result<(), PolicyError> {
    if a.version == b.version {
        return Err(PolicyError::new(
            b.path.clone(),
            format!(
                "version `{}` of pack `{}` is defined twice (also in `{}`)",
                b.version, b.pack_id, a.path
            ),
        ));
    }
    let Some(a_to) = a.effective_to else {
        return Err(PolicyError::new(
            a.path.clone(),
            format!(
                "version {} is open-ended (no `effective_to`) but version {} starts later: the versions overlap",
                a.version, b.version
            ),
        ));
    };
    let Some(b_from) = b.effective_from else {
        return Err(PolicyError::new(
            b.path.clone(),
            format!(
                "version {} has no `effective_from` but is not the first version",
                b.version
            ),
        ));
    };
    if b_from <= a_to {
        return Err(PolicyError::new(
            b.path.clone(),
            format!(
                "versions {} (to {a_to}) and {} (from {b_from}) overlap",
                a.version, b.version
            ),
        )
        .with_help(Some(format!(
            "set `effective_from` of {} to the day after {a_to}",
            b.version
        ))));
    }
    if a_to.succ_opt() != Some(b_from) {
        return Err(PolicyError::new(
            b.path.clone(),
            format!(
                "versions {} (to {a_to}) and {} (from {b_from}) leave a gap: no version is in effect between them",
                a.version, b.version
            ),
        )
        .with_help(Some(format!("set `effective_from` of {} to the day after {a_to}", b.version))));
    }
    Ok(())
}
