//! One policy file to one [`PackVersion`]: the TOML, the format version, the `[pack]` header
//! (id, version, effective dates, metric families, the procedure codes table it names), then its
//! rules.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use toml::Spanned;

use super::context::FileCtx;
use super::literal::toml_date;
use super::metric::build_metrics;
use super::pack_data::{documentation, supervision_levels};
use super::rule::build_rules;
use super::source::PackSource;
use crate::bundle::Record;
use crate::bundle::read::{Format, read_bytes};
use crate::bundle::schema::Dataset;
use crate::bundle::typing::type_value;
use crate::bundle::value::Value;
use crate::digest::sha256_hex;
use crate::policy::error::{Collect, PolicyError, suggestion};
use crate::policy::file::{POLICY_FORMAT_VERSION, PackDataFile, PackHeader, PolicyFile};
use crate::policy::model::PackVersion;

/// Parses and validates one policy file.
pub fn load_version(
    text: &str,
    path: &str,
    source: &PackSource,
) -> Result<PackVersion, PolicyError> {
    let file: PolicyFile = toml::from_str(text).map_err(|e| toml_error(text, path, &e))?;
    let data: PackDataFile = toml::from_str(text).map_err(|e| toml_error(text, path, &e))?;
    let ctx = FileCtx {
        text,
        path,
        source,
        params: &file.parameters,
        param_spans: param_spans(text),
    };
    let mut e = Collect::default();
    e.take(check_format_version(&file.format_version, &ctx));
    let header = file.pack.get_ref();
    let id = e.take(pack_id(header, &ctx));
    let version = e.take(pack_version(header, &ctx));
    let dates = e.take(effective_dates(header, &ctx));
    e.take(no_metric_families(header, &ctx));
    let procedure_codes = e.take(procedure_codes(header, &ctx));
    let mut scripts = Vec::new();
    let rules = e.take(build_rules(&file.rules, &ctx, &mut scripts));
    let documentation = e.take(documentation(&data, &ctx));
    let supervision_levels = e.take(supervision_levels(&data, &ctx));
    let declared_metrics = e.take(build_metrics(&file.metrics, &ctx));
    for unused in super::unused::unused_parameters(&file, &ctx) {
        e.push(unused);
    }
    for wrong in super::types::check_types(&file.types, &ctx) {
        e.push(wrong);
    }
    let (
        Some(id),
        Some(version),
        Some((effective_from, effective_to)),
        Some(procedure_codes),
        Some(rules),
        Some(documentation),
        Some(supervision_levels),
        Some(declared_metrics),
    ) = (
        id,
        version,
        dates,
        procedure_codes,
        rules,
        documentation,
        supervision_levels,
        declared_metrics,
    )
    else {
        return Err(e.into_error(PolicyError::new(path, "invalid policy file")));
    };
    e.finish()?;
    Ok(PackVersion {
        pack_id: id,
        version,
        version_place: Some(Box::new(crate::policy::error::Place::of(
            text,
            header.version.span(),
        ))),
        title: header.title.clone(),
        description: header.description.clone(),
        effective_from,
        effective_to,
        supersedes: header.supersedes.as_ref().map(|s| s.get_ref().clone()),
        regulatory: header.regulatory,
        citations: header.citations.clone(),
        changelog: header.changelog.clone(),
        path: path.to_string(),
        sha256: sha256_hex(text.as_bytes()),
        bytes: text.len() as u64,
        parameters: file.parameters.clone(),
        rules,
        procedure_codes,
        scripts,
        documentation,
        supervision_levels,
        declared_metrics,
    })
}

fn check_format_version(format: &Spanned<i64>, ctx: &FileCtx<'_>) -> Result<(), PolicyError> {
    if *format.get_ref() != POLICY_FORMAT_VERSION {
        return Err(ctx.err(
            format!(
                "unsupported policy `format_version = {}`: this vigil reads format {POLICY_FORMAT_VERSION}",
                format.get_ref()
            ),
            format.span(),
        ));
    }
    Ok(())
}

fn pack_id(header: &PackHeader, ctx: &FileCtx<'_>) -> Result<String, PolicyError> {
    let id = header.id.get_ref().clone();
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(ctx.err(
            format!("pack id `{id}` must be lowercase letters, digits and `-`"),
            header.id.span(),
        ));
    }
    Ok(id)
}

fn pack_version(header: &PackHeader, ctx: &FileCtx<'_>) -> Result<String, PolicyError> {
    let version = header.version.get_ref().clone();
    if !is_semver(&version) {
        return Err(ctx.err(
            format!("pack version `{version}` is not a semantic version like `1.0.0`"),
            header.version.span(),
        ));
    }
    Ok(version)
}

fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// `effective_from` and `effective_to`, plain dates in that order.
fn effective_dates(
    header: &PackHeader,
    ctx: &FileCtx<'_>,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), PolicyError> {
    let effective_from = plain_date(&header.effective_from, ctx)?;
    let effective_to = plain_date(&header.effective_to, ctx)?;
    if let (Some(f), Some(t)) = (effective_from, effective_to)
        && f > t
    {
        let span = header
            .effective_to
            .as_ref()
            .map(Spanned::span)
            .unwrap_or(0..0);
        return Err(ctx.err(
            format!("`effective_to` ({t}) is before `effective_from` ({f})"),
            span,
        ));
    }
    Ok((effective_from, effective_to))
}

fn plain_date(
    d: &Option<Spanned<toml::value::Datetime>>,
    ctx: &FileCtx<'_>,
) -> Result<Option<NaiveDate>, PolicyError> {
    let Some(d) = d else { return Ok(None) };
    toml_date(d.get_ref()).map(Some).ok_or_else(|| {
        ctx.err(
            format!("`{}` must be a plain date like 2026-01-01", d.get_ref()),
            d.span(),
        )
    })
}

/// Where each `[parameters]` key is written (empty when the file does not parse, which the
/// full parse reports).
fn param_spans(text: &str) -> BTreeMap<String, std::ops::Range<usize>> {
    #[derive(serde::Deserialize)]
    struct Keys {
        #[serde(default)]
        parameters: BTreeMap<toml::Spanned<String>, serde::de::IgnoredAny>,
    }
    toml::from_str::<Keys>(text)
        .map(|k| {
            k.parameters
                .into_keys()
                .map(|k| (k.get_ref().clone(), k.span()))
                .collect()
        })
        .unwrap_or_default()
}

/// `pack.metrics` named metric families computed in Rust before metrics were declared in packs.
fn no_metric_families(header: &PackHeader, ctx: &FileCtx<'_>) -> Result<(), PolicyError> {
    match &header.metrics {
        None => Ok(()),
        Some(m) => Err(ctx
            .err(
                "`pack.metrics` (metric families) is gone: a pack declares its metrics as `[[metric]]` tables".into(),
                m.span(),
            )
            .with_help(Some(
                "`vigil policy init DIR` writes the shipped packs with their `[[metric]]` tables to copy from".into(),
            ))),
    }
}

/// The table `pack.procedure_codes` names, if any; errors point at that key.
fn procedure_codes(
    header: &PackHeader,
    ctx: &FileCtx<'_>,
) -> Result<Option<Arc<Vec<Record>>>, PolicyError> {
    let Some(codes) = &header.procedure_codes else {
        return Ok(None);
    };
    let name = codes.get_ref();
    let bytes = ctx.source.read(name).ok_or_else(|| {
        ctx.err(
            format!("procedure codes file `{name}` not found in the pack folder"),
            codes.span(),
        )
    })?;
    let records = read_codes(&bytes, name).map_err(|m| ctx.err(m, codes.span()))?;
    Ok(Some(Arc::new(records)))
}

/// A typed table of procedure codes shipped with a pack: a CSV with the columns of the bundle's
/// `procedure_codes` dataset.
fn read_codes(bytes: &[u8], name: &str) -> Result<Vec<Record>, String> {
    let fields = Dataset::ProcedureCodes.fields();
    let read = read_bytes(bytes, Format::Csv, name.ends_with(".gz"), fields);
    if let Some(p) = read.problems.first() {
        return Err(format!(
            "procedure codes file `{name}` line {}: {}",
            p.line, p.message
        ));
    }
    let mut records = Vec::with_capacity(read.records.len());
    for raw in read.records {
        let values: Vec<Value> = fields
            .iter()
            .zip(raw.cells.iter())
            .map(|(f, c)| {
                c.as_ref()
                    .map(|c| type_value(c, f.ty))
                    .unwrap_or(Value::Missing)
            })
            .collect();
        if let Some((f, v)) = fields
            .iter()
            .zip(&values)
            .find(|(_, v)| matches!(v, Value::Invalid(_)))
        {
            return Err(format!(
                "procedure codes file `{name}` line {}: field `{}` has the invalid value `{}`",
                raw.line,
                f.name,
                v.display().unwrap_or_default()
            ));
        }
        records.push(Record {
            file: u32::MAX,
            line: raw.line,
            values: values.into_boxed_slice(),
        });
    }
    Ok(records)
}

/// Turns a TOML/serde error into a located policy error, with a suggestion for unknown keys.
fn toml_error(text: &str, path: &str, e: &toml::de::Error) -> PolicyError {
    let message = e.message().trim().to_string();
    // serde's wording: "unknown field `sevrity`, expected one of `id`, `title`, ..."
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((unknown, expected)) = rest.split_once('`')
    {
        let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let mut help = suggestion(unknown, known.iter().copied());
        if help.is_none() && !known.is_empty() {
            help = Some(format!("known keys here: {}", known.join(", ")));
        }
        return PolicyError::new(path, format!("unknown key `{unknown}`"))
            .at(text, e.span())
            .with_help(help);
    }
    PolicyError::new(path, message).at(text, e.span())
}
