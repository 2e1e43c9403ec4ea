//! Policy errors: they stop the run (exit 2) and point into the file with line, column and excerpt.

use std::fmt;
use std::ops::Range;

/// An error in a policy pack, located in its file.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyError {
    /// The file, as shown to the user (`policies/x/1.0.0.toml` or `builtin:x/1.0.0.toml`).
    pub path: String,
    pub message: String,
    /// 1-based line and column, with the text of that line, when the error has a place.
    pub place: Option<Box<Place>>,
    pub help: Option<String>,
    /// Further errors of the same run, reported after this one (see [`Collect`]).
    pub more: Vec<PolicyError>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub line: usize,
    pub column: usize,
    pub excerpt: String,
    /// Width of the underline (at least 1).
    pub width: usize,
}

impl Place {
    /// The place of byte range `span` in `source`.
    pub fn of(source: &str, span: Range<usize>) -> Place {
        let start = span.start.min(source.len());
        let before = &source[..floor_char_boundary(source, start)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = before[line_start..].chars().count() + 1;
        let line_end = source[line_start..]
            .find('\n')
            .map(|i| line_start + i)
            .unwrap_or(source.len());
        let excerpt = source[line_start..line_end]
            .trim_end_matches('\r')
            .to_string();
        let end = span.end.min(line_end).max(start);
        let width = source[floor_char_boundary(source, start)..floor_char_boundary(source, end)]
            .chars()
            .count()
            .max(1);
        Place {
            line,
            column,
            excerpt,
            width,
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl PolicyError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> PolicyError {
        PolicyError {
            path: path.into(),
            message: message.into(),
            place: None,
            help: None,
            more: Vec::new(),
        }
    }

    /// This error and the ones it carries, each on its own.
    pub fn flatten(mut self) -> Vec<PolicyError> {
        let more = std::mem::take(&mut self.more);
        let mut out = vec![self];
        out.extend(more.into_iter().flat_map(PolicyError::flatten));
        out
    }

    /// How many errors this one stands for.
    pub fn count(&self) -> usize {
        1 + self.more.iter().map(PolicyError::count).sum::<usize>()
    }

    pub fn at(mut self, source: &str, span: Option<Range<usize>>) -> PolicyError {
        self.place = span.map(|s| Box::new(Place::of(source, s)));
        self
    }

    pub fn with_help(mut self, help: Option<String>) -> PolicyError {
        self.help = help;
        self
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.message)?;
        match &self.place {
            Some(p) => {
                let gutter = p.line.to_string().len();
                writeln!(f, "{:gutter$}--> {}:{}:{}", "", self.path, p.line, p.column)?;
                writeln!(f, "{:gutter$} |", "")?;
                writeln!(f, "{} | {}", p.line, p.excerpt)?;
                write!(
                    f,
                    "{:gutter$} | {}{}",
                    "",
                    " ".repeat(p.column.saturating_sub(1)),
                    "^".repeat(p.width)
                )?;
            }
            None => write!(f, "  --> {}", self.path)?,
        }
        if let Some(help) = &self.help {
            write!(f, "\nhelp: {help}")?;
        }
        for more in &self.more {
            write!(f, "\n\nerror: invalid policy: {more}")?;
        }
        if !self.more.is_empty() && self.more.iter().all(|m| m.more.is_empty()) {
            write!(f, "\n\n{} errors in the policies", self.count())?;
        }
        Ok(())
    }
}

/// Errors gathered while loading goes on, so one run reports every mistake, not the first.
#[derive(Debug, Default)]
pub struct Collect {
    errors: Vec<PolicyError>,
}

impl Collect {
    /// The value, or `None` with its error kept.
    pub fn take<T>(&mut self, r: Result<T, PolicyError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.extend(e.flatten());
                None
            }
        }
    }

    pub fn push(&mut self, e: PolicyError) {
        self.errors.extend(e.flatten());
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Err` with every error kept (the first carrying the others), or `Ok`.
    pub fn finish(self) -> Result<(), PolicyError> {
        let mut errors = self.errors.into_iter();
        match errors.next() {
            None => Ok(()),
            Some(mut first) => {
                first.more = errors.collect();
                Err(first)
            }
        }
    }

    /// Like [`Collect::finish`], for a caller that holds an error already.
    pub fn into_error(self, fallback: PolicyError) -> PolicyError {
        match self.finish() {
            Ok(()) => fallback,
            Err(e) => e,
        }
    }
}

impl std::error::Error for PolicyError {}

/// A help line suggesting the nearest known name, if one is close.
pub fn suggestion<'a>(unknown: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    crate::suggest::did_you_mean(unknown, known).map(|s| format!("did you mean `{s}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_line_column_and_excerpt() {
        let src = "a = 1\nkind = \"requird\"\n";
        let e = PolicyError::new("p/1.toml", "unknown check kind `requird`")
            .at(src, Some(13..22))
            .with_help(Some("did you mean `required`?".into()));
        let text = e.to_string();
        assert!(text.contains("--> p/1.toml:2:8"), "{text}");
        assert!(text.contains("2 | kind = \"requird\""), "{text}");
        assert!(text.contains("^^^^^^^^^"), "{text}");
        assert!(text.ends_with("help: did you mean `required`?"), "{text}");
    }
}
