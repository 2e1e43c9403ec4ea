//! Loading policy packs from folders or from the packs built into the binary, and validating
//! every file with errors that point into it.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use include_dir::{Dir, include_dir};
use toml::Spanned;

use crate::bundle::Record;
use crate::bundle::read::{Format, read_bytes};
use crate::bundle::schema::Dataset;
use crate::bundle::typing::type_value;
use crate::bundle::value::Value;
use crate::digest::sha256_hex;
use crate::policy::error::{PolicyError, suggestion};
use crate::policy::fields::{self, FieldRef};
use crate::policy::file::{CheckSpec, POLICY_FORMAT_VERSION, PolicyFile, RuleSpec};
use crate::policy::model::*;
use crate::policy::script;

/// The shipped packs, embedded so they work from any directory and after `cargo install`.
pub static BUILTIN_PACKS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/policies");

/// Metric families a pack may compute (rules-v1.md "Metrics").
pub const METRIC_FAMILIES: [&str; 3] = ["response", "reactions", "cancellations"];

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
    fn display(&self, name: &str) -> String {
        match self {
            PackSource::Disk(dir) => dir.join(name).display().to_string(),
            PackSource::Builtin(dir) => format!("builtin:{}", dir.path().join(name).display()),
        }
    }

    fn label(&self) -> String {
        match self {
            PackSource::Disk(dir) => dir.display().to_string(),
            PackSource::Builtin(dir) => format!("builtin:{}", dir.path().display()),
        }
    }

    fn read(&self, name: &str) -> Option<Vec<u8>> {
        match self {
            PackSource::Disk(dir) => std::fs::read(dir.join(name)).ok(),
            PackSource::Builtin(dir) => dir
                .get_file(dir.path().join(name))
                .map(|f| f.contents().to_vec()),
        }
    }

    /// The pack's TOML files, sorted by name.
    fn toml_files(&self) -> Result<Vec<String>, PolicyError> {
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
    for arg in &args {
        if arg == "builtin" {
            let mut dirs: Vec<&'static Dir<'static>> = BUILTIN_PACKS.dirs().collect();
            dirs.sort_by_key(|d| d.path());
            sources.extend(dirs.into_iter().map(PackSource::Builtin));
            continue;
        }
        let path = PathBuf::from(arg);
        if !path.is_dir() {
            return Err(PolicyError::new(
                arg.clone(),
                format!("policy folder `{arg}` does not exist or is not a folder"),
            )
            .with_help(Some(
                "pass a pack folder, a folder of packs, or `builtin`".into(),
            )));
        }
        if is_pack_folder(&path) {
            sources.push(PackSource::Disk(path));
        } else {
            let mut subdirs: Vec<PathBuf> = std::fs::read_dir(&path)
                .map_err(|e| PolicyError::new(arg.clone(), format!("cannot read the folder: {e}")))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir() && is_pack_folder(p))
                .collect();
            subdirs.sort();
            if subdirs.is_empty() {
                return Err(PolicyError::new(
                    arg.clone(),
                    format!(
                        "`{arg}` holds no policy pack (no `*.toml` files, nor folders of them)"
                    ),
                ));
            }
            sources.extend(subdirs.into_iter().map(PackSource::Disk));
        }
    }
    let mut packs: Vec<Pack> = Vec::new();
    for source in sources {
        let pack = load_pack(&source)?;
        if let Some(other) = packs.iter().find(|p| p.id == pack.id) {
            return Err(PolicyError::new(
                pack.source.clone(),
                format!(
                    "two packs have the id `{}`: `{}` and `{}`",
                    pack.id, other.source, pack.source
                ),
            )
            .with_help(Some(
                "give the custom pack its own `pack.id`, or leave out the one you replace".into(),
            )));
        }
        packs.push(pack);
    }
    if !packs.iter().any(|p| p.id == EXPORT_INTEGRITY) {
        let dir = BUILTIN_PACKS.get_dir(EXPORT_INTEGRITY).ok_or_else(|| {
            PolicyError::new(
                "builtin:export-integrity",
                "the built-in export-integrity pack is missing",
            )
        })?;
        packs.insert(0, load_pack(&PackSource::Builtin(dir))?);
    }
    Ok(packs)
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
    for name in &names {
        let bytes = source.read(name).unwrap_or_default();
        let path = source.display(name);
        let text = String::from_utf8(bytes)
            .map_err(|_| PolicyError::new(path.clone(), "the file is not valid UTF-8"))?;
        versions.push(load_version(&text, &path, source)?);
    }
    let id = versions[0].pack_id.clone();
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
    })
}

fn check_chain(versions: &[PackVersion]) -> Result<(), PolicyError> {
    for pair in versions.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
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
    }
    Ok(())
}

/// Parses and validates one policy file.
pub fn load_version(
    text: &str,
    path: &str,
    source: &PackSource,
) -> Result<PackVersion, PolicyError> {
    let file: PolicyFile = toml::from_str(text).map_err(|e| toml_error(text, path, &e))?;
    let err =
        |message: String, span: Range<usize>| PolicyError::new(path, message).at(text, Some(span));
    if *file.format_version.get_ref() != POLICY_FORMAT_VERSION {
        return Err(err(
            format!(
                "unsupported policy `format_version = {}`: this vigil reads format {POLICY_FORMAT_VERSION}",
                file.format_version.get_ref()
            ),
            file.format_version.span(),
        ));
    }
    let header = file.pack.get_ref();
    let id = header.id.get_ref().clone();
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(err(
            format!("pack id `{id}` must be lowercase letters, digits and `-`"),
            header.id.span(),
        ));
    }
    let version = header.version.get_ref().clone();
    if !is_semver(&version) {
        return Err(err(
            format!("pack version `{version}` is not a semantic version like `1.0.0`"),
            header.version.span(),
        ));
    }
    let date =
        |d: &Option<Spanned<toml::value::Datetime>>| -> Result<Option<NaiveDate>, PolicyError> {
            let Some(d) = d else { return Ok(None) };
            toml_date(d.get_ref()).map(Some).ok_or_else(|| {
                err(
                    format!("`{}` must be a plain date like 2026-01-01", d.get_ref()),
                    d.span(),
                )
            })
        };
    let effective_from = date(&header.effective_from)?;
    let effective_to = date(&header.effective_to)?;
    if let (Some(f), Some(t)) = (effective_from, effective_to)
        && f > t
    {
        let span = header
            .effective_to
            .as_ref()
            .map(Spanned::span)
            .unwrap_or(0..0);
        return Err(err(
            format!("`effective_to` ({t}) is before `effective_from` ({f})"),
            span,
        ));
    }
    let mut version_out = PackVersion {
        pack_id: id,
        version,
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
        rules: Vec::new(),
        procedure_codes: None,
        metrics: Vec::new(),
        scripts: Vec::new(),
    };
    for m in &header.metrics {
        if !METRIC_FAMILIES.contains(&m.get_ref().as_str()) {
            return Err(
                err(format!("unknown metric family `{}`", m.get_ref()), m.span()).with_help(
                    suggestion(m.get_ref(), METRIC_FAMILIES).or(Some(format!(
                        "metric families: {}",
                        METRIC_FAMILIES.join(", ")
                    ))),
                ),
            );
        }
        version_out.metrics.push(m.get_ref().clone());
    }
    if let Some(codes) = &header.procedure_codes {
        let name = codes.get_ref();
        let bytes = source.read(name).ok_or_else(|| {
            err(
                format!("procedure codes file `{name}` not found in the pack folder"),
                codes.span(),
            )
        })?;
        version_out.procedure_codes = Some(Arc::new(
            read_codes(&bytes, name).map_err(|m| err(m, codes.span()))?,
        ));
    }
    let mut seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
    for rule in &file.rules {
        let rule_id = rule.get_ref().id.get_ref().clone();
        if let Some(first) = seen.get(&rule_id) {
            let first_line = crate::policy::error::Place::of(text, first.clone()).line;
            return Err(err(
                format!(
                    "rule `{rule_id}` is defined twice in this version (first on line {first_line})"
                ),
                rule.get_ref().id.span(),
            ));
        }
        seen.insert(rule_id, rule.get_ref().id.span());
        let ctx = RuleCtx {
            text,
            path,
            source,
            params: &file.parameters,
        };
        let built = build_rule(rule.get_ref(), &ctx, &mut version_out.scripts)?;
        version_out.rules.push(built);
    }
    Ok(version_out)
}

/// A typed table of procedure codes shipped with a pack (CSV, bundle-v1 columns).
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

fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn toml_date(d: &toml::value::Datetime) -> Option<NaiveDate> {
    if d.time.is_some() || d.offset.is_some() {
        return None;
    }
    let date = d.date?;
    NaiveDate::from_ymd_opt(
        i32::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    )
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

struct RuleCtx<'a> {
    text: &'a str,
    path: &'a str,
    source: &'a PackSource,
    params: &'a BTreeMap<String, toml::Value>,
}

impl RuleCtx<'_> {
    fn err(&self, message: String, span: Range<usize>) -> PolicyError {
        PolicyError::new(self.path, message).at(self.text, Some(span))
    }

    fn field(
        &self,
        dataset: Dataset,
        name: &Spanned<String>,
    ) -> Result<(String, FieldRef), PolicyError> {
        let n = name.get_ref();
        fields::resolve(dataset, n)
            .map(|r| (n.clone(), r))
            .map_err(|known| {
                self.err(
                    format!("unknown field `{n}` for dataset `{dataset}`"),
                    name.span(),
                )
                .with_help(suggestion(n, known.iter().map(String::as_str)))
            })
    }

    fn param(&self, name: &Spanned<String>) -> Result<&toml::Value, PolicyError> {
        self.params.get(name.get_ref()).ok_or_else(|| {
            self.err(
                format!("unknown parameter `{}`", name.get_ref()),
                name.span(),
            )
            .with_help(suggestion(
                name.get_ref(),
                self.params.keys().map(String::as_str),
            ))
        })
    }
}

fn build_rule(
    spec: &RuleSpec,
    ctx: &RuleCtx<'_>,
    scripts: &mut Vec<(String, String, u64)>,
) -> Result<Rule, PolicyError> {
    let id = spec.id.get_ref().clone();
    if id.is_empty() || id.contains(char::is_whitespace) {
        return Err(ctx.err(
            format!("rule id `{id}` must be non-empty without spaces"),
            spec.id.span(),
        ));
    }
    let severity = parse_severity(&spec.severity, ctx)?;
    let dataset_name = spec.dataset.get_ref();
    let builtin = spec.check.get_ref().kind.get_ref() == "builtin";
    // Builtin checks (the export-integrity rules) read every dataset: `dataset = "*"`.
    let dataset = if builtin && dataset_name == "*" {
        Some(Dataset::Facilities)
    } else {
        Dataset::from_name(dataset_name)
    };
    let dataset = dataset.ok_or_else(|| {
        ctx.err(
            format!("unknown dataset `{dataset_name}`"),
            spec.dataset.span(),
        )
        .with_help(suggestion(
            dataset_name,
            Dataset::ALL.iter().map(|d| d.name()),
        ))
    })?;
    let when = conditions(&spec.when, dataset, ctx)?;
    let mut addenda = Vec::new();
    for a in &spec.addendum {
        let a = a.get_ref();
        addenda.push((conditions(&a.when, dataset, ctx)?, a.text.clone()));
    }
    let requires = spec
        .requires
        .iter()
        .map(|n| ctx.field(dataset, n))
        .collect::<Result<Vec<_>, _>>()?;
    let evidence = spec
        .evidence
        .iter()
        .map(|n| ctx.field(dataset, n))
        .collect::<Result<Vec<_>, _>>()?;
    let check = build_check(
        spec.check.get_ref(),
        spec.check.span(),
        dataset,
        &id,
        ctx,
        scripts,
    )?;
    let message = parse_template(&spec.message, dataset, ctx)?;
    let severity_by = match &spec.severity_by {
        None => None,
        Some(by) => {
            let by = by.get_ref();
            let (_, field) = ctx.field(dataset, &by.field)?;
            let mut map = BTreeMap::new();
            for (value, sev) in &by.values {
                map.insert(value.clone(), parse_severity(sev, ctx)?);
            }
            Some((field, map))
        }
    };
    Ok(Rule {
        id,
        title: spec.title.clone(),
        severity,
        severity_by,
        dataset,
        when,
        requires,
        check,
        message,
        evidence,
        citation: spec.citation.clone(),
        remediation: spec.remediation.clone(),
        addenda,
    })
}

fn conditions(
    table: &BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    dataset: Dataset,
    ctx: &RuleCtx<'_>,
) -> Result<Vec<Condition>, PolicyError> {
    let mut out = Vec::new();
    for (name, value) in table {
        let (field_name, field) = ctx.field(dataset, name)?;
        out.push(Condition {
            name: field_name,
            field,
            test: condition_test(value, ctx)?,
        });
    }
    Ok(out)
}

fn parse_severity(s: &Spanned<String>, ctx: &RuleCtx<'_>) -> Result<Severity, PolicyError> {
    Severity::parse(s.get_ref()).ok_or_else(|| {
        ctx.err(format!("unknown severity `{}`", s.get_ref()), s.span())
            .with_help(
                suggestion(s.get_ref(), Severity::ALL.iter().map(|v| v.name()))
                    .or(Some("one of critical, high, medium, low, info".into())),
            )
    })
}

fn literal(v: &toml::Value) -> Option<Literal> {
    Some(match v {
        toml::Value::String(s) => Literal::Str(s.clone()),
        toml::Value::Integer(i) => Literal::Int(*i),
        toml::Value::Float(f) => Literal::Float(*f),
        toml::Value::Boolean(b) => Literal::Bool(*b),
        toml::Value::Datetime(d) => Literal::Date(toml_date(d)?),
        _ => return None,
    })
}

fn literals(v: &toml::Value) -> Option<Vec<Literal>> {
    match v {
        toml::Value::Array(items) => items.iter().map(literal).collect(),
        other => literal(other).map(|l| vec![l]),
    }
}

fn condition_test(
    value: &Spanned<toml::Value>,
    ctx: &RuleCtx<'_>,
) -> Result<ConditionTest, PolicyError> {
    let bad = || {
        ctx.err(
            "a `when` condition is a value, a list of values, `{ present = true|false }`, `{ not = value|[values] }` or `{ gt|ge|lt|le = value }`".into(),
            value.span(),
        )
    };
    match value.get_ref() {
        toml::Value::Table(t) => {
            if t.len() != 1 {
                return Err(bad());
            }
            match t.iter().next() {
                Some((k, toml::Value::Boolean(b))) if k == "present" => {
                    Ok(ConditionTest::Present(*b))
                }
                Some((k, v)) if k == "not" => {
                    literals(v).map(ConditionTest::NoneOf).ok_or_else(bad)
                }
                Some((k, v)) if ["gt", "ge", "lt", "le"].contains(&k.as_str()) => {
                    let op = match k.as_str() {
                        "gt" => CompareOp::Gt,
                        "ge" => CompareOp::Ge,
                        "lt" => CompareOp::Lt,
                        _ => CompareOp::Le,
                    };
                    literal(v)
                        .map(|l| ConditionTest::Compare(op, l))
                        .ok_or_else(bad)
                }
                Some((k, _)) => Err(ctx
                    .err(format!("unknown condition `{k}`"), value.span())
                    .with_help(suggestion(k, ["present", "not", "gt", "ge", "lt", "le"]))),
                None => Err(bad()),
            }
        }
        other => literals(other).map(ConditionTest::OneOf).ok_or_else(bad),
    }
}

/// Which keys each check kind takes (besides `kind`).
fn allowed_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "required" => &["fields"],
        "compare" => &["field", "op", "value", "param", "other"],
        "one_of" => &["field", "values", "param"],
        "duration" => &["from", "to", "max_s", "param"],
        "reference" => &["field", "dataset"],
        "expr" => &["expr"],
        "script" => &["file"],
        "builtin" => &["name"],
        _ => &[],
    }
}

fn build_check(
    spec: &CheckSpec,
    span: Range<usize>,
    dataset: Dataset,
    rule_id: &str,
    ctx: &RuleCtx<'_>,
    scripts: &mut Vec<(String, String, u64)>,
) -> Result<Check, PolicyError> {
    let kind = spec.kind.get_ref().as_str();
    if !CHECK_KINDS.contains(&kind) {
        return Err(ctx
            .err(format!("unknown check kind `{kind}`"), spec.kind.span())
            .with_help(
                suggestion(kind, CHECK_KINDS)
                    .or(Some(format!("check kinds: {}", CHECK_KINDS.join(", ")))),
            ));
    }
    for (key, key_span) in spec.set_keys() {
        if !allowed_keys(kind).contains(&key) {
            return Err(ctx
                .err(
                    format!("key `{key}` does not belong to a `{kind}` check"),
                    key_span,
                )
                .with_help(Some(format!(
                    "a `{kind}` check takes: {}",
                    allowed_keys(kind).join(", ")
                ))));
        }
    }
    let need = |name: &str| ctx.err(format!("a `{kind}` check needs `{name}`"), span.clone());
    let field =
        |f: &Option<Spanned<String>>, name: &str| -> Result<(String, FieldRef), PolicyError> {
            ctx.field(dataset, f.as_ref().ok_or_else(|| need(name))?)
        };
    Ok(match kind {
        "required" => {
            let fields = spec.fields.as_ref().ok_or_else(|| need("fields"))?;
            if fields.is_empty() {
                return Err(need("fields"));
            }
            Check::Required(
                fields
                    .iter()
                    .map(|f| ctx.field(dataset, f))
                    .collect::<Result<_, _>>()?,
            )
        }
        "compare" => {
            let op_s = spec.op.as_ref().ok_or_else(|| need("op"))?;
            let op = CompareOp::parse(op_s.get_ref()).ok_or_else(|| {
                ctx.err(
                    format!("unknown operator `{}`", op_s.get_ref()),
                    op_s.span(),
                )
                .with_help(Some(format!("operators: {}", CompareOp::NAMES.join(" "))))
            })?;
            let operand = match (&spec.value, &spec.param, &spec.other) {
                (Some(v), None, None) => {
                    Operand::Literal(literal(v.get_ref()).ok_or_else(|| {
                        ctx.err(
                            "`value` must be a string, number, boolean or date".into(),
                            v.span(),
                        )
                    })?)
                }
                (None, Some(p), None) => {
                    let v = ctx.param(p)?;
                    Operand::Literal(literal(v).ok_or_else(|| {
                        ctx.err(
                            format!(
                                "parameter `{}` must be a string, number, boolean or date",
                                p.get_ref()
                            ),
                            p.span(),
                        )
                    })?)
                }
                (None, None, Some(o)) => {
                    let (n, r) = ctx.field(dataset, o)?;
                    Operand::Field(n, r)
                }
                _ => {
                    return Err(ctx.err(
                        "a `compare` check needs exactly one of `value`, `param` or `other`".into(),
                        span,
                    ));
                }
            };
            Check::Compare {
                field: field(&spec.field, "field")?,
                op,
                operand,
            }
        }
        "one_of" => {
            let values = match (&spec.values, &spec.param) {
                (Some(v), None) => v
                    .get_ref()
                    .iter()
                    .map(literal)
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        ctx.err(
                            "`values` must hold strings, numbers, booleans or dates".into(),
                            v.span(),
                        )
                    })?,
                (None, Some(p)) => literals(ctx.param(p)?).ok_or_else(|| {
                    ctx.err(
                        format!("parameter `{}` must be a list of values", p.get_ref()),
                        p.span(),
                    )
                })?,
                _ => {
                    return Err(ctx.err(
                        "a `one_of` check needs exactly one of `values` or `param`".into(),
                        span,
                    ));
                }
            };
            Check::OneOf {
                field: field(&spec.field, "field")?,
                values,
            }
        }
        "duration" => {
            let max_s = match (&spec.max_s, &spec.param) {
                (Some(m), None) => *m.get_ref(),
                (None, Some(p)) => match ctx.param(p)? {
                    toml::Value::Integer(i) => *i as f64,
                    toml::Value::Float(f) => *f,
                    _ => {
                        return Err(ctx.err(
                            format!("parameter `{}` must be a number of seconds", p.get_ref()),
                            p.span(),
                        ));
                    }
                },
                _ => {
                    return Err(ctx.err(
                        "a `duration` check needs exactly one of `max_s` or `param`".into(),
                        span,
                    ));
                }
            };
            Check::Duration {
                from: field(&spec.from, "from")?,
                to: field(&spec.to, "to")?,
                max_s,
            }
        }
        "reference" => {
            let ds = spec.dataset.as_ref().ok_or_else(|| need("dataset"))?;
            let target = Dataset::from_name(ds.get_ref())
                .filter(|d| d.key_field().is_some())
                .ok_or_else(|| {
                    ctx.err(
                        format!("`{}` is not a dataset with a key", ds.get_ref()),
                        ds.span(),
                    )
                    .with_help(suggestion(
                        ds.get_ref(),
                        Dataset::ALL.iter().map(|d| d.name()),
                    ))
                })?;
            Check::Reference {
                field: field(&spec.field, "field")?,
                dataset: target,
            }
        }
        "expr" => {
            let expr = spec.expr.as_ref().ok_or_else(|| need("expr"))?;
            let ast = script::compile_expr(expr.get_ref()).map_err(|e| {
                ctx.err(
                    format!(
                        "rule `{rule_id}`: the expression does not compile: {}",
                        e.message
                    ),
                    expr.span(),
                )
            })?;
            Check::Expr {
                source: expr.get_ref().clone(),
                ast: Arc::new(ast),
            }
        }
        "script" => {
            let file = spec.file.as_ref().ok_or_else(|| need("file"))?;
            let name = file.get_ref();
            let shown = ctx.source.display(name);
            let bytes = ctx.source.read(name).ok_or_else(|| {
                ctx.err(
                    format!("script `{name}` not found in the pack folder"),
                    file.span(),
                )
            })?;
            let text = String::from_utf8(bytes)
                .map_err(|_| ctx.err(format!("script `{name}` is not valid UTF-8"), file.span()))?;
            let ast = script::compile_script(&text).map_err(|e| {
                let mut pe = PolicyError::new(
                    shown.clone(),
                    format!("rule `{rule_id}`: script does not compile: {}", e.message),
                );
                if let Some((line, col)) = e.position {
                    pe = pe.at(
                        &text,
                        Some(offset_of(&text, line, col)..offset_of(&text, line, col) + 1),
                    );
                }
                pe
            })?;
            if !script::defines_check(&ast) {
                return Err(PolicyError::new(shown, format!("rule `{rule_id}`: script defines no `fn check(r, params)`"))
                    .with_help(Some("a rule script defines `fn check(r, params) { ... }` returning pass(), fail(#{...}) or not_applicable(\"reason\")".into())));
            }
            if !scripts.iter().any(|(p, _, _)| *p == shown) {
                scripts.push((
                    shown.clone(),
                    sha256_hex(text.as_bytes()),
                    text.len() as u64,
                ));
            }
            Check::Script {
                path: shown,
                ast: Arc::new(ast),
                source: text.into(),
            }
        }
        _ => {
            let name = spec.name.as_ref().ok_or_else(|| need("name"))?;
            if !BUILTIN_CHECKS.contains(&name.get_ref().as_str()) {
                return Err(ctx
                    .err(
                        format!("unknown builtin check `{}`", name.get_ref()),
                        name.span(),
                    )
                    .with_help(suggestion(name.get_ref(), BUILTIN_CHECKS.iter().copied())));
            }
            Check::Builtin(name.get_ref().clone())
        }
    })
}

fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset + col.saturating_sub(1).min(l.len());
        }
        offset += l.len();
    }
    text.len()
}

/// `{name}` placeholders: a field name, `param.x` or `evidence.x`; `{{` and `}}` escape braces.
fn parse_template(
    spec: &Spanned<String>,
    dataset: Dataset,
    ctx: &RuleCtx<'_>,
) -> Result<Template, PolicyError> {
    let text = spec.get_ref();
    let mut parts = Vec::new();
    let mut literal_text = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                chars.next();
                literal_text.push('{');
            }
            '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                chars.next();
                literal_text.push('}');
            }
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed {
                    return Err(ctx.err(
                        "unclosed `{` in message (write `{{` for a literal brace)".into(),
                        spec.span(),
                    ));
                }
                if !literal_text.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut literal_text)));
                }
                let name = name.trim();
                if let Some(p) = name.strip_prefix("param.") {
                    if !ctx.params.contains_key(p) {
                        return Err(ctx
                            .err(format!("message uses unknown parameter `{p}`"), spec.span())
                            .with_help(suggestion(p, ctx.params.keys().map(String::as_str))));
                    }
                    parts.push(TemplatePart::Param(p.to_string()));
                } else if let Some(e) = name.strip_prefix("evidence.") {
                    parts.push(TemplatePart::Evidence(e.to_string()));
                } else {
                    let r = fields::resolve(dataset, name).map_err(|known| {
                        ctx.err(
                            format!("message uses unknown field `{name}` of dataset `{dataset}`"),
                            spec.span(),
                        )
                        .with_help(suggestion(name, known.iter().map(String::as_str)))
                    })?;
                    parts.push(TemplatePart::Field(r));
                }
            }
            c => literal_text.push(c),
        }
    }
    if !literal_text.is_empty() {
        parts.push(TemplatePart::Text(literal_text));
    }
    Ok(Template { parts })
}
