//! The NDJSON and JSON-array readers, record by record over the JSON scanner: a bad NDJSON line
//! costs only that line, while a JSON array stops at the first break in its syntax and keeps the
//! records before it.

use super::json_scanner::{Json, JsonErr};
use super::{Parsed, Sink, count_newlines, to_line};
use crate::bundle::schema::FieldDef;

// ---------------------------------------------------------------------------------------------
// NDJSON

pub(super) fn read_ndjson<S: Sink>(data: &[u8], fields: &[FieldDef], out: &mut Parsed<'_, S>) {
    let mut line_no: u64 = 0;
    for line in data.split(|&b| b == b'\n') {
        line_no += 1;
        let line_at = to_line(line_no);
        // Blank: JSON whitespace only. A form feed is not (`is_ascii_whitespace` says it is):
        // a line of form feeds is not valid JSON and is a problem, not skipped unseen.
        if line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
            continue;
        }
        if std::str::from_utf8(line).is_err() {
            out.problem(line_at, "line is not valid UTF-8");
            continue;
        }
        let mut p = Json::new(line);
        p.ws();
        match p.element(fields) {
            Ok(Some(cells)) => {
                p.ws();
                if p.pos < line.len() {
                    out.problem(
                        line_at,
                        format!(
                            "line is not valid JSON: unexpected text after the object at column {}",
                            p.pos + 1
                        ),
                    );
                } else {
                    out.record(line_at, cells);
                }
            }
            Ok(None) => out.problem(line_at, "not a JSON object"),
            Err(JsonErr::Eof) => {
                out.problem(line_at, "line is not valid JSON: it ends inside a value")
            }
            Err(JsonErr::Syntax { at, msg }) => out.problem(
                line_at,
                format!("line is not valid JSON: {msg} at column {}", at + 1),
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JSON

pub(super) fn read_json<S: Sink>(data: &[u8], fields: &[FieldDef], out: &mut Parsed<'_, S>) {
    let mut lines = Lines::new(data);
    let mut p = Json::new(data);
    p.ws();
    match p.peek() {
        None => return,
        Some(b'[') => p.pos += 1,
        Some(b) => {
            let found = match b {
                b'{' => "an object",
                b'"' => "a string",
                _ => "something else",
            };
            out.problem(
                lines.at(p.pos),
                format!("file is not a JSON array of objects: it holds {found}"),
            );
            return;
        }
    }
    p.ws();
    if p.peek() == Some(b']') {
        p.pos += 1;
    } else if !read_elements(&mut p, &mut lines, data, fields, out) {
        return;
    }
    p.ws();
    if p.pos < data.len() {
        out.problem(lines.at(p.pos), "unexpected text after the JSON array");
    }
}

/// The elements of a JSON array whose `[` has been read, each object a record: `true` once its
/// `]` is read, `false` when a problem stops the file before that.
fn read_elements<S: Sink>(
    p: &mut Json<'_>,
    lines: &mut Lines<'_>,
    data: &[u8],
    fields: &[FieldDef],
    out: &mut Parsed<'_, S>,
) -> bool {
    loop {
        p.ws();
        let line = lines.at(p.pos);
        p.bad_utf8 = None;
        match p.element(fields) {
            Ok(Some(cells)) => match p.bad_utf8 {
                Some(at) => out.problem(lines.at(at), "record is not valid UTF-8"),
                None => out.record(line, cells),
            },
            Ok(None) => out.problem(line, "not a JSON object"),
            Err(JsonErr::Eof) => {
                out.problem(line, "truncated JSON: the file ends inside this record");
                out.stopped_at_eof = true;
                return false;
            }
            Err(JsonErr::Syntax { at, msg }) => {
                let line = lines.at(at);
                out.problem(
                    line,
                    format!("invalid JSON: {msg} at column {}", lines.column(at)),
                );
                return false;
            }
        }
        p.ws();
        match p.peek() {
            Some(b',') => p.pos += 1,
            Some(b']') => {
                p.pos += 1;
                return true;
            }
            None => {
                let last = data.trim_ascii_end().len().saturating_sub(1);
                out.problem(
                    lines.at(last),
                    "truncated JSON: the file ends before the array is closed",
                );
                out.stopped_at_eof = true;
                return false;
            }
            Some(_) => {
                let at = p.pos;
                out.problem(
                    lines.at(at),
                    format!(
                        "invalid JSON: expected `,` or `]` at column {}",
                        lines.column(at)
                    ),
                );
                return false;
            }
        }
    }
}

/// Line numbers of byte offsets, counted incrementally (offsets mostly come in order).
struct Lines<'a> {
    s: &'a [u8],
    pos: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(s: &'a [u8]) -> Lines<'a> {
        Lines { s, pos: 0, line: 1 }
    }

    fn at(&mut self, pos: usize) -> u32 {
        let pos = pos.min(self.s.len());
        if pos < self.pos {
            self.pos = 0;
            self.line = 1;
        }
        let skipped = self.s.get(self.pos..pos).unwrap_or_default();
        self.line += count_newlines(skipped) as u64;
        self.pos = pos;
        to_line(self.line)
    }

    /// 1-based byte column of an offset.
    fn column(&self, pos: usize) -> usize {
        let before = self.s.get(..pos).unwrap_or(self.s);
        match before.iter().rposition(|&b| b == b'\n') {
            Some(nl) => pos - nl,
            None => pos + 1,
        }
    }
}
