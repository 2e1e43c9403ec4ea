//! JUnit XML for CI: one testsuite per pack, one testcase per rule, failures list the findings.
//!
//! The shape is the common denominator that GitLab, Jenkins, Azure DevOps and `junit2html` read:
//! `<testsuites>` with totals, a `<testsuite>` per pack id in `policies` order (a pack with several
//! versions appears once), and a `<testcase classname="PACK" name="RULE: title">` per entry of
//! `summary.rules`. A rule with findings of status `fail` has one `<failure>` whose text lists
//! them, `file:line key: message`, at most [`MAX_LISTED`] lines; waived findings do not fail the
//! testcase and are listed in its `<system-out>`; a rule that judged no record and found nothing
//! is `<skipped/>`. No timestamps or durations: the same findings give the same bytes.
//!
//! Record values are untrusted and reach messages, so every text and attribute goes through
//! [`escape_text`] / [`escape_attr`], which also replace characters XML 1.0 does not allow.

use std::fmt::Write as _;

use crate::eval::model::{Finding, RuleSummary, Status};
use crate::report::document::{Document, WriteError, Writer};

/// Findings listed in one `<failure>` or `<system-out>`; the rest are counted.
pub const MAX_LISTED: usize = 1000;

/// The `junit` writer.
pub struct Junit;

impl Writer for Junit {
    fn write(&self, doc: &Document<'_>) -> Result<String, WriteError> {
        Ok(junit(doc))
    }
}

fn junit(doc: &Document<'_>) -> String {
    let suites: Vec<Suite> = pack_ids(doc)
        .into_iter()
        .map(|pack| Suite::build(doc, pack))
        .collect();
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites.iter().map(Suite::failures).sum();
    let skipped: usize = suites.iter().map(Suite::skipped).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"vigil\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" \
         skipped=\"{skipped}\">"
    );
    for suite in &suites {
        suite.write(doc, &mut out);
    }
    out.push_str("</testsuites>\n");
    out
}

/// Pack ids in `policies` order, then any pack named only by a rule summary; each once.
fn pack_ids<'a>(doc: &Document<'a>) -> Vec<&'a str> {
    let from_policies = doc.versions().map(|v| v.pack_id.as_str());
    let from_rules = doc.rules().iter().map(|r| r.policy.as_str());
    let mut ids: Vec<&str> = Vec::new();
    for id in from_policies.chain(from_rules) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

struct Suite<'a> {
    pack: &'a str,
    cases: Vec<Case<'a>>,
}

struct Case<'a> {
    rule: &'a RuleSummary,
    failed: Vec<&'a Finding>,
    waived: Vec<&'a Finding>,
}

impl Case<'_> {
    fn is_skipped(&self) -> bool {
        self.failed.is_empty() && self.waived.is_empty() && self.rule.evaluated == 0
    }
}

impl<'a> Suite<'a> {
    fn build(doc: &Document<'a>, pack: &'a str) -> Suite<'a> {
        let findings = doc.findings();
        let cases = doc
            .rules()
            .iter()
            .filter(|r| r.policy == pack)
            .map(|rule| {
                let of_rule = |status: Status| -> Vec<&'a Finding> {
                    findings
                        .iter()
                        .filter(|f| f.rule == rule.rule && f.policy == pack && f.status == status)
                        .collect()
                };
                Case {
                    rule,
                    failed: of_rule(Status::Fail),
                    waived: of_rule(Status::Waived),
                }
            })
            .collect();
        Suite { pack, cases }
    }

    fn failures(&self) -> usize {
        self.cases.iter().filter(|c| !c.failed.is_empty()).count()
    }

    fn skipped(&self) -> usize {
        self.cases.iter().filter(|c| c.is_skipped()).count()
    }

    fn write(&self, doc: &Document<'_>, out: &mut String) {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">",
            escape_attr(self.pack),
            self.cases.len(),
            self.failures(),
            self.skipped()
        );
        self.write_properties(doc, out);
        for case in &self.cases {
            self.write_case(case, out);
        }
        out.push_str("  </testsuite>\n");
    }

    /// What the suite ran on: the bundle, `as_of` and the pack versions loaded.
    fn write_properties(&self, doc: &Document<'_>, out: &mut String) {
        let versions: Vec<&str> = doc
            .versions()
            .filter(|v| v.pack_id == self.pack)
            .map(|v| v.version.as_str())
            .collect();
        out.push_str("    <properties>\n");
        for (name, value) in [
            ("bundle", doc.bundle.manifest.id.as_str()),
            ("as_of", doc.as_of),
            ("versions", &versions.join(", ")),
        ] {
            let _ = writeln!(
                out,
                "      <property name=\"{name}\" value=\"{}\"/>",
                escape_attr(value)
            );
        }
        out.push_str("    </properties>\n");
    }

    fn write_case(&self, case: &Case, out: &mut String) {
        let rule = case.rule;
        let name = format!("{}: {}", rule.rule, rule.title);
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\"",
            escape_attr(self.pack),
            escape_attr(&name)
        );
        if case.is_skipped() {
            let _ = writeln!(
                out,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                escape_attr(&skip_reason(rule))
            );
            return;
        }
        if case.failed.is_empty() && case.waived.is_empty() {
            out.push_str("/>\n");
            return;
        }
        out.push_str(">\n");
        if !case.failed.is_empty() {
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                count_of(case.failed.len(), "finding"),
                escape_attr(rule.severity.name()),
                escape_text(&listing(&case.failed))
            );
        }
        if !case.waived.is_empty() {
            let text = format!(
                "{} waived:\n{}",
                count_of(case.waived.len(), "finding"),
                listing(&case.waived)
            );
            let _ = writeln!(out, "      <system-out>{}</system-out>", escape_text(&text));
        }
        out.push_str("    </testcase>\n");
    }
}

/// Why a rule judged nothing: the reasons its records were not applicable, if any.
fn skip_reason(rule: &RuleSummary) -> String {
    let reasons: Vec<String> = rule
        .reasons
        .iter()
        .map(|(k, v)| format!("{k} ({v})"))
        .collect();
    if reasons.is_empty() {
        "no record in scope".to_string()
    } else {
        format!("no record in scope: {}", reasons.join("; "))
    }
}

/// `file:line key: message`, one line a finding, capped at [`MAX_LISTED`].
fn listing(findings: &[&Finding]) -> String {
    let mut text = String::new();
    for f in findings.iter().take(MAX_LISTED) {
        let file = &f.location.file;
        let place = match f.location.line {
            0 => file.to_string(),
            line => format!("{file}:{line}"),
        };
        let _ = writeln!(text, "{place} {}: {}", f.subject.key, f.message);
    }
    if findings.len() > MAX_LISTED {
        let _ = writeln!(text, "... and {} more", findings.len() - MAX_LISTED);
    }
    text
}

fn count_of(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Escapes element text: `&`, `<` and `>` (so `]]>` never appears), and replaces characters
/// XML 1.0 does not allow with U+FFFD.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(xml_char(c)),
        }
    }
    out
}

/// Escapes a double-quoted attribute value: as text, plus both quotes, and tab, newline and
/// carriage return as character references (a parser would normalise them to spaces otherwise).
pub fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(xml_char(c)),
        }
    }
    out
}

/// `c`, or U+FFFD when XML 1.0 does not allow it (`Char` production; Rust has no surrogates).
fn xml_char(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' => c,
        '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::model::{Location, Subject};
    use crate::policy::severity::Severity;
    use crate::report::fixture::{self, Run};

    #[test]
    fn text_escapes_markup_and_replaces_forbidden_characters() {
        assert_eq!(
            escape_text("<script>&\"x\" ]]> a\u{0}b\u{1b}c\u{fffe}\td\n"),
            "&lt;script&gt;&amp;\"x\" ]]&gt; a\u{fffd}b\u{fffd}c\u{fffd}\td\n"
        );
    }

    #[test]
    fn attributes_escape_quotes_and_whitespace() {
        assert_eq!(
            escape_attr("<Lakeside & \"North\"> it's\n\r\t\u{7}"),
            "&lt;Lakeside &amp; &quot;North&quot;&gt; it&apos;s&#10;&#13;&#9;\u{fffd}"
        );
        assert_eq!(escape_attr("plain ünïcode 🙂"), "plain ünïcode 🙂");
    }

    fn finding(rule: &str, status: Status, line: u32, key: &str) -> Finding {
        Finding {
            policy: "p".into(),
            status,
            severity: Severity::High,
            subject: Subject {
                dataset: "exams".into(),
                key: key.into(),
            },
            location: Location {
                file: "exams.csv".into(),
                line,
            },
            message: "m <x>".into(),
            ..fixture::finding(rule)
        }
    }

    fn summary(rule: &str, title: &str, severity: Severity, evaluated: u64) -> RuleSummary {
        RuleSummary {
            rule: rule.into(),
            policy: "p".into(),
            title: title.into(),
            severity,
            evaluated,
            ..RuleSummary::default()
        }
    }

    fn run(findings: Vec<Finding>) -> Run {
        let mut run = Run::new(findings);
        run.packs = vec![fixture::pack("p", &["1.0.0", "2.0.0"])];
        let mut skipped = summary("R-2", "Two", Severity::Low, 0);
        skipped.not_applicable = 1;
        skipped.reasons.insert("`x` missing".into(), 1);
        run.eval.rules = vec![
            summary("R-1", "One", Severity::High, 3),
            skipped,
            summary("R-3", "Three", Severity::Low, 2),
        ];
        run
    }

    #[test]
    fn failures_skips_and_waivers() {
        let out = junit(
            &run(vec![
                finding("R-1", Status::Fail, 4, "E1"),
                finding("R-1", Status::Fail, 0, "F1"),
                finding("R-3", Status::Waived, 9, "E9"),
            ])
            .doc(),
        );
        assert!(out.contains(
            "<testsuites name=\"vigil\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\">"
        ));
        assert_eq!(
            out.matches("<testsuite ").count(),
            1,
            "one suite per pack id"
        );
        assert!(out.contains("value=\"1.0.0, 2.0.0\""));
        assert!(out.contains(
            "<failure message=\"2 findings\" type=\"high\">exams.csv:4 E1: m &lt;x&gt;\n\
             exams.csv F1: m &lt;x&gt;\n</failure>"
        ));
        assert!(out.contains("<skipped message=\"no record in scope: `x` missing (1)\"/>"));
        assert!(out.contains("<system-out>1 finding waived:\nexams.csv:9 E9: m &lt;x&gt;\n"));
        assert_eq!(
            out.matches("<failure").count(),
            1,
            "a waived finding does not fail"
        );
    }

    #[test]
    fn long_listings_are_capped() {
        let many: Vec<Finding> = (1..=MAX_LISTED as u32 + 5)
            .map(|i| finding("R-1", Status::Fail, i, "E"))
            .collect();
        let out = junit(&run(many).doc());
        assert!(out.contains("... and 5 more\n</failure>"));
        assert!(out.contains(&format!("message=\"{} findings\"", MAX_LISTED + 5)));
    }

    #[test]
    fn no_packs_is_an_empty_document() {
        assert_eq!(
            junit(&Run::new(vec![]).doc()),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"vigil\" tests=\"0\" \
             failures=\"0\" errors=\"0\" skipped=\"0\">\n</testsuites>\n"
        );
    }
}
