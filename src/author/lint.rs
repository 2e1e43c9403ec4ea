//! `vigil policy lint`: the loading gate that `check`, `audit` and `policy test` go through
//! (syntax, keys, names, types, the version chain, Rhai names and parameters, unused
//! parameters: `policy/load/`), with every error of every folder, plus a warning for a pack
//! folder named unlike its `pack.id`.

use std::collections::BTreeSet;

use crate::policy::error::PolicyError;
use crate::policy::load::BUILTIN_PACKS;
use crate::policy::model::Pack;

/// What lint found in some packs.
#[derive(Debug, Default)]
pub struct LintReport {
    pub packs: usize,
    pub versions: usize,
    /// Distinct rule ids, summed over packs.
    pub rules: usize,
    pub errors: Vec<PolicyError>,
    pub warnings: Vec<PolicyError>,
}

impl LintReport {
    /// Adds what lint finds in `pack` (a pack that loaded).
    pub fn add_pack(&mut self, pack: &Pack) {
        self.packs += 1;
        self.versions += pack.versions.len();
        let ids: BTreeSet<&str> = pack
            .versions
            .iter()
            .flat_map(|v| v.rules.iter().map(|r| r.id.as_str()))
            .collect();
        self.rules += ids.len();
        if let Some(w) = folder_name_warning(pack) {
            self.warnings.push(w);
        }
    }
}

/// The text of a file as shown to users: `builtin:x/1.0.0.toml` or a path on disk.
pub fn read_shown(path: &str) -> Option<String> {
    match path.strip_prefix("builtin:") {
        Some(inner) => BUILTIN_PACKS
            .get_file(inner)
            .and_then(|f| f.contents_utf8())
            .map(str::to_string),
        None => std::fs::read_to_string(path).ok(),
    }
}

fn folder_name_warning(pack: &Pack) -> Option<PolicyError> {
    let folder = pack
        .source
        .trim_start_matches("builtin:")
        .trim_end_matches(['/', '\\']);
    let name = std::path::Path::new(folder).file_name()?.to_string_lossy();
    (name != pack.id).then(|| {
        PolicyError::new(
            pack.source.clone(),
            format!(
                "the pack folder `{name}` is not named after its `pack.id = \"{}\"`",
                pack.id
            ),
        )
        .with_help(Some(format!("rename the folder to `{}`", pack.id)))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::policy::load::load_packs;

    #[test]
    fn the_shipped_packs_lint_clean() {
        let mut report = LintReport::default();
        for pack in load_packs(&[]).unwrap() {
            report.add_pack(&pack);
        }
        let errors: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        assert_eq!(report.packs, 6);
    }
}
