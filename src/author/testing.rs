//! `vigil policy test`: the test cases kept beside a pack, each a small bundle and the findings
//! the pack must produce on it, with rule coverage and a JUnit report.
//!
//! A case is a folder `<pack-folder>/tests/<case>/` holding
//!
//! - `bundle/`: a bundle (with its `bundle.toml`), as `vigil check` reads it;
//! - `expected.toml`:
//!
//! ```toml
//! description = "SUP-004 fires on an audio-only session"   # optional
//! absent = ["SUP-005"]          # optional: rules of the pack that must not fire at all
//!
//! [[finding]]
//! rule = "SUP-004"              # required
//! key = "E2"                    # required: the subject key (`file:line` for a record without one)
//! file = "exams.csv"            # optional: the location's file
//! line = 3                      # optional: the location's line
//! severity = "critical"         # optional
//! policy_version = "3.0.0"      # optional: the pack version that judged the record
//! ```
//!
//! The case runs the pack alone (not the other packs, nor export-integrity unless it is the pack
//! under test) over the bundle. It passes when the pack's findings are exactly the listed ones,
//! matched by rule and key (a finding listed twice must occur twice), with the optional
//! attributes equal. A rule is covered when it fires in at least one case.
//!
//! The shipped packs' cases are embedded in the binary with the packs; their bundles are
//! written to a temporary folder for the run and removed afterwards.

use crate::report::junit::escape_attr;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use include_dir::Dir;
use serde::Deserialize;

use crate::bundle::Bundle;
use crate::eval::model::Finding;
use crate::eval::run::evaluate;
use crate::eval::world::{PackData, World};
use crate::policy::error::suggestion;
use crate::policy::load::BUILTIN_PACKS;
use crate::policy::model::Pack;

/// The expectations of one case (`expected.toml`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub absent: Vec<String>,
    #[serde(default, rename = "finding")]
    pub findings: Vec<ExpectedFinding>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedFinding {
    pub rule: String,
    pub key: String,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub line: Option<u32>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub policy_version: Option<String>,
}

/// How a case ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pass,
    /// The differences between the expected and the actual findings.
    Fail(Vec<String>),
    /// The case could not run: a bad `expected.toml`, a bundle that does not load, a script error.
    Error(String),
    /// `--bless`: `expected.toml` was rewritten from the findings; what changed.
    Blessed(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    pub name: String,
    /// The case folder as shown to users.
    pub shown: String,
    pub outcome: Outcome,
    /// Rules of the pack that fired in this case.
    pub fired: BTreeSet<String>,
    /// Versions of the pack that judged a finding in this case.
    pub versions: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct PackResult {
    pub pack: String,
    pub source: String,
    /// The pack's rule ids, over all versions, in file order.
    pub rules: Vec<String>,
    /// The pack's versions, oldest first.
    pub versions: Vec<String>,
    pub cases: Vec<CaseResult>,
}

impl PackResult {
    /// The rules no case made fire.
    pub fn uncovered(&self) -> Vec<&str> {
        self.rules
            .iter()
            .filter(|r| !self.cases.iter().any(|c| c.fired.contains(*r)))
            .map(String::as_str)
            .collect()
    }

    /// The versions no case has a finding of.
    pub fn uncovered_versions(&self) -> Vec<&str> {
        self.versions
            .iter()
            .filter(|v| !self.cases.iter().any(|c| c.versions.contains(*v)))
            .map(String::as_str)
            .collect()
    }
}

/// Where a case's files are.
enum CaseDir {
    Disk(PathBuf),
    Builtin(&'static Dir<'static>),
}

struct Case {
    name: String,
    shown: String,
    dir: CaseDir,
}

/// Runs every case of `pack`, with the pack data (procedure codes, documentation groups) of
/// `data`: the packs the command loaded, so a rule that reads another pack's data (BEN-004
/// reads contrast-reactions' documentation) is tested as `vigil check` runs it.
///
/// With `bless`, a case on disk whose findings differ gets its `expected.toml` rewritten from
/// them (its description and the `absent` rules that still do not fire are kept).
pub fn run_pack(pack: &Pack, data: &PackData, bless: bool) -> PackResult {
    let mut rules: Vec<String> = Vec::new();
    for rule in pack.versions.iter().flat_map(|v| v.rules.iter()) {
        if !rules.contains(&rule.id) {
            rules.push(rule.id.clone());
        }
    }
    let cases = match cases_of(pack) {
        Ok(cases) => cases
            .iter()
            .map(|c| run_case(pack, &rules, c, data, bless))
            .collect(),
        Err(e) => vec![CaseResult {
            name: "tests".into(),
            shown: Path::new(&pack.source).join("tests").display().to_string(),
            outcome: Outcome::Error(e),
            fired: BTreeSet::new(),
            versions: BTreeSet::new(),
        }],
    };
    PackResult {
        pack: pack.id.clone(),
        source: pack.source.clone(),
        rules,
        versions: pack.versions.iter().map(|v| v.version.clone()).collect(),
        cases,
    }
}

/// The case folders of a pack, by name.
fn cases_of(pack: &Pack) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    if let Some(inner) = pack.source.strip_prefix("builtin:") {
        let Some(tests) = BUILTIN_PACKS.get_dir(Path::new(inner).join("tests")) else {
            return Ok(cases);
        };
        for dir in tests.dirs() {
            let name = dir
                .path()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            cases.push(Case {
                shown: format!("builtin:{}", dir.path().display()),
                name,
                dir: CaseDir::Builtin(dir),
            });
        }
    } else {
        let tests = PathBuf::from(&pack.source).join("tests");
        if !tests.is_dir() {
            return Ok(cases);
        }
        let entries = std::fs::read_dir(&tests)
            .map_err(|e| format!("cannot read `{}`: {e}", tests.display()))?;
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                cases.push(Case {
                    name: entry.file_name().to_string_lossy().into_owned(),
                    shown: path.display().to_string(),
                    dir: CaseDir::Disk(path),
                });
            }
        }
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(cases)
}

fn run_case(
    pack: &Pack,
    rules: &[String],
    case: &Case,
    data: &PackData,
    bless: bool,
) -> CaseResult {
    let mut result = CaseResult {
        name: case.name.clone(),
        shown: case.shown.clone(),
        outcome: Outcome::Pass,
        fired: BTreeSet::new(),
        versions: BTreeSet::new(),
    };
    match case_findings(pack, rules, case, data) {
        Err(e) => result.outcome = Outcome::Error(e),
        Ok((expected, actual)) => {
            result.fired = actual.iter().map(|f| f.rule.clone()).collect();
            result.versions = actual.iter().map(|f| f.policy_version.clone()).collect();
            let differences = compare(&expected, &actual);
            result.outcome = match (differences.is_empty(), bless, &case.dir) {
                (true, _, _) => Outcome::Pass,
                (false, false, _) => Outcome::Fail(differences),
                (false, true, CaseDir::Builtin(_)) => Outcome::Error(
                    "the shipped packs' cases are built into vigil: bless a copy written by `vigil policy init`".into(),
                ),
                (false, true, CaseDir::Disk(dir)) => {
                    let path = dir.join("expected.toml");
                    match std::fs::write(&path, render_expected(&expected, &actual)) {
                        Ok(()) => Outcome::Blessed(differences),
                        Err(e) => Outcome::Error(format!("cannot write `{}`: {e}", path.display())),
                    }
                }
            };
        }
    }
    result
}

/// `expected.toml` listing `actual` (what `--bless` writes): each finding with its rule, key,
/// file, line, severity and version, under a comment with the start of its message.
fn render_expected(old: &Expected, actual: &[Finding]) -> String {
    let text = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = String::new();
    if let Some(d) = &old.description {
        out.push_str(&format!("description = {}\n", text(d)));
    }
    let absent: Vec<String> = old
        .absent
        .iter()
        .filter(|r| !actual.iter().any(|f| &f.rule == *r))
        .map(|r| text(r))
        .collect();
    if !absent.is_empty() {
        out.push_str(&format!("absent = [{}]\n", absent.join(", ")));
    }
    for f in actual {
        let message: String = f
            .message
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        let more = if f.message.chars().count() > 100 {
            "..."
        } else {
            ""
        };
        out.push_str(&format!("\n# {message}{more}\n[[finding]]\n"));
        out.push_str(&format!(
            "rule = {}\nkey = {}\n",
            text(&f.rule),
            text(&f.subject.key)
        ));
        out.push_str(&format!(
            "file = {}\nline = {}\n",
            text(&f.location.file),
            f.location.line
        ));
        out.push_str(&format!(
            "severity = {}\npolicy_version = {}\n",
            text(f.severity.name()),
            text(&f.policy_version)
        ));
    }
    out
}

/// The case's expectations (checked against the pack's rules) and the pack's findings.
fn case_findings(
    pack: &Pack,
    rules: &[String],
    case: &Case,
    data: &PackData,
) -> Result<(Expected, Vec<Finding>), String> {
    let expected_shown = format!("{}/expected.toml", case.shown);
    let text = match &case.dir {
        CaseDir::Disk(dir) => std::fs::read_to_string(dir.join("expected.toml")).ok(),
        CaseDir::Builtin(dir) => dir
            .get_file(dir.path().join("expected.toml"))
            .and_then(|f| f.contents_utf8())
            .map(str::to_string),
    }
    .ok_or_else(|| format!("`{expected_shown}` is missing"))?;
    let expected: Expected =
        toml::from_str(&text).map_err(|e| format!("`{expected_shown}`: {}", e.message().trim()))?;
    let known = |rule: &str, what: &str| -> Result<(), String> {
        if rules.iter().any(|r| r == rule) {
            return Ok(());
        }
        let help = suggestion(rule, rules.iter().map(String::as_str))
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        Err(format!(
            "`{expected_shown}`: {what} `{rule}` is not a rule of pack `{}`{help}",
            pack.id
        ))
    };
    for f in &expected.findings {
        known(&f.rule, "finding rule")?;
        if expected.absent.contains(&f.rule) {
            return Err(format!(
                "`{expected_shown}`: `{}` is both expected and `absent`",
                f.rule
            ));
        }
    }
    for rule in &expected.absent {
        known(rule, "absent rule")?;
    }
    let bundle = load_bundle(case)?;
    // The pack's own procedure codes first, as when it runs alone.
    let mut data = data.clone();
    if let Some(codes) = pack.versions.iter().find_map(|v| v.procedure_codes.clone()) {
        data.procedure_codes = Some(codes);
    }
    let world = Arc::new(World::new(bundle, data));
    let eval = evaluate(&world, std::slice::from_ref(pack))
        .map_err(|e| format!("policy script error: {e}"))?;
    let actual = eval
        .findings
        .into_iter()
        .filter(|f| f.policy == pack.id)
        .collect();
    Ok((expected, actual))
}

fn load_bundle(case: &Case) -> Result<Bundle, String> {
    let bundle_shown = format!("{}/bundle", case.shown);
    match &case.dir {
        CaseDir::Disk(dir) => Bundle::load(&dir.join("bundle"))
            .map_err(|e| format!("the bundle does not load: {}", chain(&e))),
        CaseDir::Builtin(dir) => {
            let files = dir
                .get_dir(dir.path().join("bundle"))
                .ok_or_else(|| format!("`{bundle_shown}` is missing"))?;
            let temp = TempBundle::write(files)
                .map_err(|e| format!("cannot write `{bundle_shown}` to a temporary folder: {e}"))?;
            // The temporary path means nothing to the user: show the embedded one.
            Bundle::load(&temp.path).map_err(|e| {
                let text = chain(&e).replace(&temp.path.display().to_string(), &bundle_shown);
                format!("the bundle does not load: {text}")
            })
        }
    }
}

/// An error and its sources, as `main` prints them.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(&format!(": {more}"));
        }
        source = cause.source();
    }
    text
}

/// How a found finding differs from an expected one with the same rule and key.
fn attributes(e: &ExpectedFinding, f: &Finding) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(file) = &e.file
        && *file != f.location.file
    {
        out.push(format!("file `{}`, expected `{file}`", f.location.file));
    }
    if let Some(line) = e.line
        && line != f.location.line
    {
        out.push(format!("line {}, expected {line}", f.location.line));
    }
    if let Some(sev) = &e.severity
        && sev != f.severity.name()
    {
        out.push(format!("severity {}, expected {sev}", f.severity.name()));
    }
    if let Some(v) = &e.policy_version
        && *v != f.policy_version
    {
        out.push(format!("version {}, expected {v}", f.policy_version));
    }
    out
}

/// The differences between what a case expects and what the pack found, in words.
fn compare(expected: &Expected, actual: &[Finding]) -> Vec<String> {
    let mut differences = Vec::new();
    let mut matched = vec![false; actual.len()];
    for e in &expected.findings {
        let free = |i: &usize| {
            !matched[*i] && actual[*i].rule == e.rule && actual[*i].subject.key == e.key
        };
        let exact = (0..actual.len()).find(|i| free(i) && attributes(e, &actual[*i]).is_empty());
        match exact.or_else(|| (0..actual.len()).find(free)) {
            Some(i) => {
                matched[i] = true;
                let diff = attributes(e, &actual[i]);
                if !diff.is_empty() {
                    differences.push(format!(
                        "different: {} on {}: {}",
                        e.rule,
                        e.key,
                        diff.join(", ")
                    ));
                }
            }
            None => differences.push(format!("missing: {} on {}", e.rule, e.key)),
        }
    }
    for (f, _) in actual.iter().zip(&matched).filter(|(_, m)| !**m) {
        let note = if expected.absent.contains(&f.rule) {
            ", a rule listed in `absent`"
        } else {
            ""
        };
        differences.push(format!(
            "unexpected: {} on {} ({}:{}, {}{note})",
            f.rule,
            f.subject.key,
            f.location.file,
            f.location.line,
            f.severity.name()
        ));
    }
    differences
}

/// A bundle embedded in the binary, written to a temporary folder that is removed on drop.
struct TempBundle {
    path: PathBuf,
}

impl TempBundle {
    fn write(dir: &'static Dir<'static>) -> std::io::Result<TempBundle> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "vigil-policy-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let temp = TempBundle { path };
        std::fs::create_dir_all(&temp.path)?;
        write_dir(dir, dir.path(), &temp.path)?;
        Ok(temp)
    }
}

fn write_dir(dir: &Dir<'_>, base: &Path, to: &Path) -> std::io::Result<()> {
    for file in dir.files() {
        let relative = file.path().strip_prefix(base).unwrap_or(file.path());
        let dest = to.join(relative);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(dest, file.contents())?;
    }
    for sub in dir.dirs() {
        write_dir(sub, base, to)?;
    }
    Ok(())
}

impl Drop for TempBundle {
    fn drop(&mut self) {
        // Best effort: a leftover temporary folder is not worth failing the run.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The results as JUnit XML: one testsuite per pack, one testcase per case.
pub fn junit(results: &[PackResult]) -> String {
    let fails = |r: &PackResult| {
        r.cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Fail(_)))
            .count()
    };
    let errors = |r: &PackResult| {
        r.cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Error(_)))
            .count()
    };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"vigil policy test\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
        results.iter().map(|r| r.cases.len()).sum::<usize>(),
        results.iter().map(fails).sum::<usize>(),
        results.iter().map(errors).sum::<usize>()
    ));
    for r in results {
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
            escape_attr(&r.pack),
            r.cases.len(),
            fails(r),
            errors(r)
        ));
        out.push_str(&format!(
            "    <properties>\n      <property name=\"source\" value=\"{}\"/>\n      <property name=\"uncovered_rules\" value=\"{}\"/>\n    </properties>\n",
            escape_attr(&r.source),
            escape_attr(&r.uncovered().join(" "))
        ));
        for c in &r.cases {
            let open = format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                escape_attr(&r.pack),
                escape_attr(&c.name)
            );
            match &c.outcome {
                // A blessed case now expects what the pack found.
                Outcome::Pass | Outcome::Blessed(_) => out.push_str(&format!("{open}/>\n")),
                Outcome::Fail(diffs) => out.push_str(&format!(
                    "{open}>\n      <failure message=\"{} difference(s)\">{}</failure>\n    </testcase>\n",
                    diffs.len(),
                    escape_attr(&diffs.join("\n"))
                )),
                Outcome::Error(e) => out.push_str(&format!(
                    "{open}>\n      <error message=\"{}\"/>\n    </testcase>\n",
                    escape_attr(e)
                )),
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_case_format() {
        let e: Expected = toml::from_str(
            "absent = [\"X-2\"]\n[[finding]]\nrule = \"X-1\"\nkey = \"E1\"\nline = 2\n",
        )
        .unwrap();
        assert_eq!(e.findings.len(), 1);
        assert_eq!(e.findings[0].line, Some(2));
        assert!(toml::from_str::<Expected>("[[finding]]\nrule = \"X\"\nkye = \"E1\"\n").is_err());
    }
}
