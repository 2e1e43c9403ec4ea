//! Discovery: the sorted, depth-first walk of a bundle folder and the dataset of every file.

use std::path::Path;

use walkdir::WalkDir;

use crate::bundle::BundleError;
use crate::bundle::read::Format;
use crate::bundle::schema::Dataset;

/// A data file found in the bundle, in walk order.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundFile {
    /// Path relative to the bundle root, `/`-separated.
    pub path: String,
    pub dataset: Dataset,
    pub format: Format,
    pub gzip: bool,
}

/// The walk's result: data files in walk order, and files that belong to no dataset.
#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<FoundFile>,
    pub ignored: Vec<String>,
}

/// Format and compression from a file name: `exams.csv.gz` -> (stem `exams`, Csv, gzip).
pub fn classify_name(name: &str) -> Option<(&str, Format, bool)> {
    let (name, gzip) = match name.strip_suffix(".gz") {
        Some(rest) => (rest, true),
        None => (name, false),
    };
    let (stem, ext) = name.rsplit_once('.')?;
    let format = match ext {
        "csv" => Format::Csv,
        "json" => Format::Json,
        "ndjson" | "jsonl" => Format::Ndjson,
        _ => return None,
    };
    Some((stem, format, gzip))
}

/// The dataset of a file at `components` (relative path split on `/`): the outermost folder
/// named after a dataset, else the file's stem.
fn dataset_of(components: &[&str], stem: &str) -> Option<Dataset> {
    let folders = &components[..components.len().saturating_sub(1)];
    folders
        .iter()
        .find_map(|c| Dataset::from_name(c))
        .or_else(|| Dataset::from_name(stem))
}

pub fn discover(root: &Path) -> Result<Discovery, BundleError> {
    let mut found = Discovery::default();
    let walk = WalkDir::new(root)
        .min_depth(1)
        .follow_links(true)
        .sort_by(|a, b| {
            a.file_name()
                .as_encoded_bytes()
                .cmp(b.file_name().as_encoded_bytes())
        });
    for entry in walk {
        let entry = entry.map_err(|e| BundleError::Walk {
            path: e
                .path()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| root.to_path_buf()),
            message: e.to_string(),
        })?;
        if entry.file_type().is_dir() {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let components: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let rel_path = components.join("/");
        if rel_path == "bundle.toml" {
            continue;
        }
        let parts: Vec<&str> = components.iter().map(String::as_str).collect();
        let name = parts.last().copied().unwrap_or_default();
        let classified = classify_name(name)
            .and_then(|(stem, format, gzip)| dataset_of(&parts, stem).map(|d| (d, format, gzip)));
        match classified {
            Some((dataset, format, gzip)) => found.files.push(FoundFile {
                path: rel_path,
                dataset,
                format,
                gzip,
            }),
            None => found.ignored.push(rel_path),
        }
    }
    Ok(found)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_and_folders_decide_the_dataset() {
        assert_eq!(
            classify_name("exams.csv.gz"),
            Some(("exams", Format::Csv, true))
        );
        assert_eq!(classify_name("a.jsonl"), Some(("a", Format::Ndjson, false)));
        assert_eq!(classify_name("notes.txt"), None);
        assert_eq!(
            dataset_of(&["exams", "late", "2026-04.csv"], "2026-04"),
            Some(Dataset::Exams)
        );
        assert_eq!(
            dataset_of(&["reference", "procedure_codes.csv"], "procedure_codes"),
            Some(Dataset::ProcedureCodes)
        );
        assert_eq!(dataset_of(&["misc", "x.csv"], "x"), None);
    }

    #[test]
    fn walks_sorted_depth_first_and_lists_ignored_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("exams")).unwrap();
        for f in [
            "bundle.toml",
            "exams.csv",
            "exams/b.csv",
            "exams/a.ndjson.gz",
            "exams/notes.txt",
            "zz.csv",
        ] {
            std::fs::write(root.join(f), "").unwrap();
        }
        let d = discover(root).unwrap();
        let paths: Vec<&str> = d.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["exams/a.ndjson.gz", "exams/b.csv", "exams.csv"]);
        assert_eq!(d.ignored, ["exams/notes.txt", "zz.csv"]);
    }
}
