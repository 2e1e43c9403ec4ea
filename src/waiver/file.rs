//! The waivers file as written (TOML) and its validation into [`Waiver`]s.

use std::collections::BTreeSet;
use std::ops::Range;

use chrono::NaiveDate;
use globset::{Glob, GlobMatcher};
use serde::Deserialize;
use toml::Spanned;

use crate::policy::error::{PolicyError, suggestion};
use crate::waiver::{WAIVER_EXPIRED, WAIVER_UNMATCHED};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiverFile {
    #[serde(default)]
    waiver: Vec<Spanned<WaiverSpec>>,
}

/// One `[[waiver]]` table; every key optional here so that a missing one gets its own message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiverSpec {
    rule: Option<Spanned<String>>,
    subject: Option<Spanned<String>>,
    facility: Option<Spanned<String>>,
    dos_from: Option<Spanned<toml::Value>>,
    dos_to: Option<Spanned<toml::Value>>,
    justification: Option<Spanned<String>>,
    approver: Option<Spanned<String>>,
    ticket: Option<Spanned<String>>,
    created: Option<Spanned<toml::Value>>,
    expires: Option<Spanned<toml::Value>>,
}

/// One validated waiver.
#[derive(Debug, Clone)]
pub struct Waiver {
    /// 1-based line of its `[[waiver]]` header.
    pub line: usize,
    pub rule: String,
    /// A record key or a glob over keys, as written.
    pub subject: String,
    pub matcher: GlobMatcher,
    pub facility: Option<String>,
    pub dos_from: Option<NaiveDate>,
    pub dos_to: Option<NaiveDate>,
    pub justification: String,
    pub approver: String,
    pub ticket: Option<String>,
    pub created: Option<NaiveDate>,
    pub expires: NaiveDate,
}

/// Parses and validates `text`; `path` is the file as shown to the user, `rules` the rule ids of
/// the loaded packs.
pub fn parse(text: &str, path: &str, rules: &BTreeSet<String>) -> Result<Vec<Waiver>, PolicyError> {
    let file: WaiverFile = toml::from_str(text).map_err(|e| toml_error(text, path, &e))?;
    let cx = Ctx { text, path, rules };
    file.waiver.iter().map(|w| cx.waiver(w)).collect()
}

struct Ctx<'a> {
    text: &'a str,
    path: &'a str,
    rules: &'a BTreeSet<String>,
}

impl Ctx<'_> {
    fn err(&self, message: String, span: Range<usize>) -> PolicyError {
        PolicyError::new(self.path, message).at(self.text, Some(span))
    }

    fn waiver(&self, spanned: &Spanned<WaiverSpec>) -> Result<Waiver, PolicyError> {
        let w = spanned.get_ref();
        let header = spanned.span();
        let rule = self.required(&w.rule, "rule", header.clone(), "rule = \"SUP-005\"")?;
        self.check_rule(rule)?;
        let subject = self.required(
            &w.subject,
            "subject",
            header.clone(),
            "subject = \"E-2026-0*\"",
        )?;
        let matcher = Glob::new(subject.get_ref())
            .map(|g| g.compile_matcher())
            .map_err(|e| {
                self.err(
                    format!("invalid glob `{}` in `subject`: {}", subject.get_ref(), glob_reason(&e)),
                    subject.span(),
                )
                .with_help(Some(
                    "a subject is a record key or a glob: `*` any text, `?` one character, `[0-9]` a class; write `[[]` for a literal `[`".into(),
                ))
            })?;
        let justification = self.required(
            &w.justification,
            "justification",
            header.clone(),
            "justification = \"why this exception is acceptable\"",
        )?;
        let approver = self.required(
            &w.approver,
            "approver",
            header.clone(),
            "approver = \"Director of Compliance\"",
        )?;
        let expires = self.required(
            &w.expires,
            "expires",
            header.clone(),
            "expires = 2026-06-30",
        )?;
        let expires = self.date(expires, "expires")?;
        let created = w
            .created
            .as_ref()
            .map(|d| self.date(d, "created"))
            .transpose()?;
        let dos_from = w
            .dos_from
            .as_ref()
            .map(|d| self.date(d, "dos_from"))
            .transpose()?;
        let dos_to = w
            .dos_to
            .as_ref()
            .map(|d| self.date(d, "dos_to"))
            .transpose()?;
        if let (Some(from), Some(to), Some(to_span)) = (dos_from, dos_to, w.dos_to.as_ref())
            && to < from
        {
            return Err(self.err(
                format!("`dos_to` {to} is before `dos_from` {from}"),
                to_span.span(),
            ));
        }
        if let (Some(c), Some(created_span)) = (created, w.created.as_ref())
            && expires < c
        {
            return Err(self.err(
                format!("`created` {c} is after `expires` {expires}"),
                created_span.span(),
            ));
        }
        let ticket = match &w.ticket {
            Some(t) if t.get_ref().trim().is_empty() => {
                return Err(self
                    .err("`ticket` is empty".into(), t.span())
                    .with_help(Some("leave `ticket` out, or name the ticket".into())));
            }
            Some(t) => Some(t.get_ref().clone()),
            None => None,
        };
        let facility = match &w.facility {
            Some(f) if f.get_ref().trim().is_empty() => {
                return Err(self
                    .err("`facility` is empty".into(), f.span())
                    .with_help(Some("leave `facility` out to waive every facility".into())));
            }
            Some(f) => Some(f.get_ref().clone()),
            None => None,
        };
        Ok(Waiver {
            line: crate::policy::error::Place::of(self.text, header).line,
            rule: rule.get_ref().clone(),
            subject: subject.get_ref().clone(),
            matcher,
            facility,
            dos_from,
            dos_to,
            justification: justification.get_ref().clone(),
            approver: approver.get_ref().clone(),
            ticket,
            created,
            expires,
        })
    }

    /// A key every waiver needs: present, and not blank when it is text.
    fn required<'s, T: Blank>(
        &self,
        value: &'s Option<Spanned<T>>,
        key: &str,
        header: Range<usize>,
        example: &str,
    ) -> Result<&'s Spanned<T>, PolicyError> {
        match value {
            None => Err(self
                .err(format!("waiver is missing `{key}`"), header)
                .with_help(Some(format!("add `{example}` to this waiver")))),
            Some(v) if v.get_ref().is_blank() => Err(self
                .err(format!("`{key}` is empty"), v.span())
                .with_help(Some(format!(
                    "every waiver needs a `{key}`, e.g. `{example}`"
                )))),
            Some(v) => Ok(v),
        }
    }

    fn check_rule(&self, rule: &Spanned<String>) -> Result<(), PolicyError> {
        let id = rule.get_ref();
        if id == WAIVER_EXPIRED || id == WAIVER_UNMATCHED {
            return Err(self
                .err(format!("`{id}` cannot be waived"), rule.span())
                .with_help(Some(
                    "WAIVER-001 and WAIVER-002 report on the waivers file itself: renew, fix or remove the waiver they name".into(),
                )));
        }
        if self.rules.contains(id) {
            return Ok(());
        }
        let help = suggestion(id, self.rules.iter().map(String::as_str))
            .or_else(|| Some("`vigil policy catalog` lists the rules of the loaded packs".into()));
        Err(self
            .err(
                format!("unknown rule `{id}`: no loaded pack has it"),
                rule.span(),
            )
            .with_help(help))
    }

    /// A TOML date (`2026-06-30`) or a string holding one.
    fn date(&self, value: &Spanned<toml::Value>, key: &str) -> Result<NaiveDate, PolicyError> {
        let parsed = match value.get_ref() {
            toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => {
                d.date.and_then(|d| {
                    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                })
            }
            toml::Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
            _ => None,
        };
        parsed.ok_or_else(|| {
            self.err(format!("`{key}` is not a date"), value.span())
                .with_help(Some(format!(
                    "write a date without time, e.g. `{key} = 2026-06-30`"
                )))
        })
    }
}

/// Values whose emptiness makes a required key useless.
trait Blank {
    fn is_blank(&self) -> bool;
}

impl Blank for String {
    fn is_blank(&self) -> bool {
        self.trim().is_empty()
    }
}

impl Blank for toml::Value {
    fn is_blank(&self) -> bool {
        matches!(self, toml::Value::String(s) if s.trim().is_empty())
    }
}

/// globset's error without the glob repeated ("unclosed character class; missing ']'").
fn glob_reason(e: &globset::Error) -> String {
    e.kind().to_string()
}

/// A located error for TOML syntax and shape, with a suggestion for an unknown key.
fn toml_error(text: &str, path: &str, e: &toml::de::Error) -> PolicyError {
    let message = e.message().trim().to_string();
    // serde's wording: "unknown field `justfication`, expected one of `rule`, ..."
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((unknown, expected)) = rest.split_once('`')
    {
        let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let help = suggestion(unknown, known.iter().copied())
            .or_else(|| Some(format!("known keys here: {}", known.join(", "))));
        return PolicyError::new(path, format!("unknown key `{unknown}`"))
            .at(text, e.span())
            .with_help(help);
    }
    PolicyError::new(path, message).at(text, e.span())
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    fn rules() -> BTreeSet<String> {
        ["SUP-001", "SUP-002", "SUP-005"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    const GOOD: &str = r#"
[[waiver]]
rule = "SUP-005"
subject = "E-2026-0*"
facility = "F-NORTH"
dos_from = 2026-01-01
dos_to = 2026-01-31
justification = "coverage log lost"
approver = "Director of Compliance"
ticket = "COMP-1182"
created = 2026-02-03
expires = 2026-06-30
"#;

    #[test]
    fn reads_every_key() {
        let ws = parse(GOOD, "w.toml", &rules()).unwrap();
        assert_eq!(ws.len(), 1);
        let w = &ws[0];
        assert_eq!(w.line, 2);
        assert_eq!(w.rule, "SUP-005");
        assert!(w.matcher.is_match("E-2026-042"));
        assert!(!w.matcher.is_match("E-2026-142"));
        assert_eq!(w.facility.as_deref(), Some("F-NORTH"));
        assert_eq!(w.dos_to, NaiveDate::from_ymd_opt(2026, 1, 31));
        assert_eq!(w.expires, NaiveDate::from_ymd_opt(2026, 6, 30).unwrap());
    }

    fn error(text: &str) -> PolicyError {
        parse(text, "w.toml", &rules()).unwrap_err()
    }

    #[test]
    fn missing_keys_point_at_the_waiver() {
        let text = GOOD.replace("justification = \"coverage log lost\"\n", "");
        let e = error(&text);
        assert_eq!(e.message, "waiver is missing `justification`");
        assert_eq!(e.place.unwrap().line, 2);
        let e = error(&GOOD.replace("expires = 2026-06-30\n", ""));
        assert_eq!(e.message, "waiver is missing `expires`");
        let e = error(&GOOD.replace("approver = \"Director of Compliance\"", "approver = \" \""));
        assert_eq!(e.message, "`approver` is empty");
        assert_eq!(e.place.unwrap().line, 9);
    }

    #[test]
    fn unknown_rule_suggests_the_nearest() {
        let e = error(&GOOD.replace("\"SUP-005\"", "\"SUP-05\""));
        assert!(e.message.contains("unknown rule `SUP-05`"), "{e}");
        assert_eq!(e.help.as_deref(), Some("did you mean `SUP-005`?"));
        assert_eq!(e.place.unwrap().line, 3);
        let e = error(&GOOD.replace("\"SUP-005\"", "\"WAIVER-001\""));
        assert!(e.message.contains("cannot be waived"), "{e}");
    }

    #[test]
    fn bad_glob_dates_and_keys() {
        let e = error(&GOOD.replace("E-2026-0*", "E-["));
        assert!(e.message.starts_with("invalid glob `E-[`"), "{e}");
        assert_eq!(e.place.unwrap().line, 4);
        let e = error(&GOOD.replace("dos_to = 2026-01-31", "dos_to = 2025-12-31"));
        assert!(e.message.contains("before `dos_from`"), "{e}");
        let e = error(&GOOD.replace("expires = 2026-06-30", "expires = \"soon\""));
        assert_eq!(e.message, "`expires` is not a date");
        let e = error(&GOOD.replace("ticket =", "tiket ="));
        assert_eq!(e.message, "unknown key `tiket`");
        assert_eq!(e.help.as_deref(), Some("did you mean `ticket`?"));
    }
}
