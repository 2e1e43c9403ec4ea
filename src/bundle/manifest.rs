//! `bundle.toml`: the manifest that names a bundle, its period and its default time zone.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::bundle::BundleError;
use crate::bundle::time::parse_zone;
use crate::suggest::did_you_mean;

/// The bundle format version this build reads.
pub const FORMAT_VERSION: i64 = 1;

const KNOWN_KEYS: &[&str] = &[
    "id",
    "organization",
    "period_start",
    "period_end",
    "timezone",
    "source",
    "exported_at",
    "format_version",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub id: String,
    pub organization: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The zone name as written (`UTC` when the manifest has none).
    pub timezone_name: String,
    pub timezone: Tz,
    pub source: Option<String>,
    pub exported_at: Option<String>,
    /// Unknown keys: reported as warnings, never errors.
    pub warnings: Vec<String>,
    /// `[limits]`: how far the reader goes before it stops a file.
    pub limits: Limits,
}

/// Resource limits of the reader, each raised in bundle.toml under `[limits]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A gzip file may decompress to this many times its compressed size (`gzip_expansion`).
    pub gzip_expansion: u64,
    /// And to at most this many bytes (`max_decompressed_bytes`).
    pub max_decompressed_bytes: u64,
    /// All gzip files of the bundle together may decompress to at most this many bytes
    /// (`max_bundle_decompressed_bytes`): past it the bundle is refused.
    pub max_bundle_decompressed_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            gzip_expansion: 64,
            max_decompressed_bytes: 8 << 30,
            max_bundle_decompressed_bytes: 8 << 30,
        }
    }
}

impl Limits {
    /// The most a gzip file of `compressed` bytes may decompress to (at least 1 MiB, so a
    /// small file is never cut by the ratio alone).
    pub fn gzip_output(&self, compressed: u64) -> u64 {
        compressed
            .saturating_mul(self.gzip_expansion)
            .max(1 << 20)
            .min(self.max_decompressed_bytes)
    }
}

const LIMIT_KEYS: [&str; 3] = [
    "gzip_expansion",
    "max_decompressed_bytes",
    "max_bundle_decompressed_bytes",
];

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest, BundleError> {
        let text = std::fs::read_to_string(path).map_err(|e| BundleError::Manifest {
            path: path.to_path_buf(),
            message: format!("cannot read it: {e}"),
        })?;
        Manifest::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Manifest, BundleError> {
        let err = |message: String| BundleError::Manifest {
            path: PathBuf::from(path),
            message,
        };
        let doc: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| err(format!("not valid TOML: {}", e.message().trim())))?;
        let Some(bundle) = doc.get("bundle").and_then(|v| v.as_table()) else {
            return Err(err("missing the `[bundle]` table".into()));
        };
        let mut warnings = Vec::new();
        for key in doc.keys().filter(|k| *k != "bundle" && *k != "limits") {
            warnings.push(format!("unknown table `{key}` ignored"));
        }
        let mut limits = Limits::default();
        if let Some(table) = doc.get("limits") {
            let Some(table) = table.as_table() else {
                return Err(err("`limits` must be a table: `[limits]`".into()));
            };
            for (key, value) in table {
                let n = match value {
                    toml::Value::Integer(n) if *n > 0 => *n as u64,
                    _ => {
                        return Err(err(format!(
                            "`limits.{key}` must be a positive whole number, found `{value}`"
                        )));
                    }
                };
                match key.as_str() {
                    "gzip_expansion" => limits.gzip_expansion = n,
                    "max_decompressed_bytes" => limits.max_decompressed_bytes = n,
                    "max_bundle_decompressed_bytes" => limits.max_bundle_decompressed_bytes = n,
                    other => {
                        let hint = did_you_mean(other, LIMIT_KEYS.iter().copied())
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default();
                        return Err(err(format!("unknown key `limits.{other}`{hint}")));
                    }
                }
            }
        }
        for key in bundle.keys() {
            if !KNOWN_KEYS.contains(&key.as_str()) {
                let hint = did_you_mean(key, KNOWN_KEYS.iter().copied())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                warnings.push(format!("unknown key `bundle.{key}` ignored{hint}"));
            }
        }
        let version = match bundle.get("format_version") {
            None => return Err(err("missing required key `bundle.format_version`".into())),
            Some(toml::Value::Integer(v)) => *v,
            Some(other) => {
                return Err(err(format!(
                    "`bundle.format_version` must be an integer, found `{other}`"
                )));
            }
        };
        if version != FORMAT_VERSION {
            return Err(err(format!(
                "unsupported `format_version = {version}`: this vigil reads bundle format {FORMAT_VERSION}"
            )));
        }
        let text_key = |key: &str| -> Result<String, BundleError> {
            match bundle.get(key) {
                None => Err(err(format!("missing required key `bundle.{key}`"))),
                Some(toml::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                Some(other) => Err(err(format!(
                    "`bundle.{key}` must be a non-empty string, found `{other}`"
                ))),
            }
        };
        let date_key = |key: &str| -> Result<NaiveDate, BundleError> {
            let value = bundle
                .get(key)
                .ok_or_else(|| err(format!("missing required key `bundle.{key}`")))?;
            let parsed = match value {
                toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
                    dt.date.and_then(|d| {
                        NaiveDate::from_ymd_opt(
                            i32::from(d.year),
                            u32::from(d.month),
                            u32::from(d.day),
                        )
                    })
                }
                toml::Value::String(s) => crate::bundle::time::parse_date(s),
                _ => None,
            };
            parsed.ok_or_else(|| {
                err(format!(
                    "`bundle.{key}` must be a date like 2026-01-01, found `{value}`"
                ))
            })
        };
        let id = text_key("id")?;
        let organization = text_key("organization")?;
        let period_start = date_key("period_start")?;
        let period_end = date_key("period_end")?;
        if period_start > period_end {
            return Err(err(format!(
                "`period_start` ({period_start}) is after `period_end` ({period_end})"
            )));
        }
        let timezone_name = match bundle.get("timezone") {
            None => "UTC".to_string(),
            Some(toml::Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(err(format!(
                    "`bundle.timezone` must be an IANA zone name, found `{other}`"
                )));
            }
        };
        let timezone = parse_zone(&timezone_name).ok_or_else(|| {
            err(format!(
                "unknown time zone `{timezone_name}` in `bundle.timezone` (use an IANA name such as `America/Chicago`)"
            ))
        })?;
        let optional = |key: &str| {
            bundle.get(key).map(|v| match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        };
        Ok(Manifest {
            limits,
            id,
            organization,
            period_start,
            period_end,
            timezone_name,
            timezone,
            source: optional("source"),
            exported_at: optional("exported_at"),
            warnings,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[bundle]
id = "lakeside"
organization = "Lakeside Imaging"
period_start = 2026-01-01
period_end = 2026-03-31
timezone = "America/Chicago"
format_version = 1
colour = "blue"
"#;

    fn parse(text: &str) -> Result<Manifest, String> {
        Manifest::parse(text, Path::new("b/bundle.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_a_good_manifest_and_warns_on_unknown_keys() {
        let m = parse(GOOD).unwrap();
        assert_eq!(m.id, "lakeside");
        assert_eq!(m.timezone, chrono_tz::America::Chicago);
        assert_eq!(
            m.warnings,
            vec!["unknown key `bundle.colour` ignored".to_string()]
        );
    }

    #[test]
    fn refuses_other_format_versions() {
        let e = parse(&GOOD.replace("format_version = 1", "format_version = 2")).unwrap_err();
        assert!(e.contains("b/bundle.toml"), "{e}");
        assert!(e.contains("format_version = 2"), "{e}");
    }

    #[test]
    fn refuses_missing_keys_bad_periods_and_zones() {
        let e = parse(&GOOD.replace("id = \"lakeside\"", "")).unwrap_err();
        assert!(e.contains("`bundle.id`"), "{e}");
        let e = parse(&GOOD.replace("2026-03-31", "2025-03-31")).unwrap_err();
        assert!(e.contains("after `period_end`"), "{e}");
        let e = parse(&GOOD.replace("America/Chicago", "America/Chicgo")).unwrap_err();
        assert!(e.contains("unknown time zone `America/Chicgo`"), "{e}");
        let e = parse("[bundle\nid=").unwrap_err();
        assert!(e.contains("not valid TOML"), "{e}");
    }

    #[test]
    fn no_timezone_means_utc() {
        let m = parse(&GOOD.replace("timezone = \"America/Chicago\"", "")).unwrap();
        assert_eq!(m.timezone, chrono_tz::UTC);
    }
}
