//! Readers for CSV, JSON and NDJSON files, each optionally gzip-compressed.
//!
//! A reader never fails: whatever it cannot read becomes a [`ReadProblem`] (a DQ-007 finding at
//! a physical line) and the records before it are kept (bundle-v1.md, "Reading rules that settle
//! edge cases"). JSON is parsed by a small scanner of our own, so that numbers keep the text they
//! were written with and every object knows the line it starts on.

use std::io::Read;

use super::schema::FieldDef;
use super::value::{RawRecord, RawValue};

/// The syntax of a dataset file, from its extension (`.csv`, `.json`, `.ndjson`/`.jsonl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Csv,
    Json,
    Ndjson,
}

/// An unreadable record or damaged file: becomes a DQ-007 finding at `line` (1-based physical line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadProblem {
    pub line: u32,
    pub message: String,
}

/// What one file yielded: its records in file order and the problems met on the way.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileRead {
    pub records: Vec<RawRecord>,
    pub problems: Vec<ReadProblem>,
}

/// Where a reader puts the records it reads, in file order.
pub trait Sink {
    /// A JSON or NDJSON record: exactly one cell per field of the schema.
    fn cells(&mut self, line: u32, cells: Vec<Option<RawValue>>);
    /// A CSV row whose cell `i` belongs to field `columns[i]` (`None`: not in the schema); the
    /// row is as wide as the header or narrower. `false` when a cell is not valid UTF-8: the row
    /// is then a problem, and the sink must not have kept it.
    fn csv_row(&mut self, line: u32, row: &csv::ByteRecord, columns: &[Option<usize>]) -> bool;
}

/// Collects [`RawRecord`]s: what [`read_bytes`] returns.
struct RawSink {
    records: Vec<RawRecord>,
    fields: usize,
}

impl Sink for RawSink {
    fn cells(&mut self, line: u32, cells: Vec<Option<RawValue>>) {
        self.records.push(RawRecord { line, cells });
    }

    fn csv_row(&mut self, line: u32, row: &csv::ByteRecord, columns: &[Option<usize>]) -> bool {
        let mut cells = vec![None; self.fields];
        for (cell, column) in row.iter().zip(columns) {
            let Ok(text) = std::str::from_utf8(cell) else {
                return false;
            };
            match *column {
                Some(idx) if !text.is_empty() => {
                    cells[idx] = Some(RawValue::Text(text.to_owned()));
                }
                _ => {}
            }
        }
        self.records.push(RawRecord { line, cells });
        true
    }
}

/// Reads one file's bytes as stored. `gzip`: the bytes are gzip-compressed.
/// `fields`: the dataset's schema; each record's `cells` has exactly `fields.len()` entries,
/// `cells[i]` for `fields[i]`; columns or keys not in the schema are ignored.
pub fn read_bytes(bytes: &[u8], format: Format, gzip: bool, fields: &[FieldDef]) -> FileRead {
    let mut sink = RawSink {
        records: Vec::new(),
        fields: fields.len(),
    };
    let problems = read_into(bytes, format, gzip, fields, &mut sink);
    FileRead {
        records: sink.records,
        problems,
    }
}

/// Reads one file's bytes as stored into `sink` (see [`read_bytes`]), returning the problems.
/// The bundle loader's sink types each record as it is read, so no file is ever held as text
/// cells ([`crate::bundle::typing::TypingSink`]).
pub fn read_into<S: Sink>(
    bytes: &[u8],
    format: Format,
    gzip: bool,
    fields: &[FieldDef],
    sink: &mut S,
) -> Vec<ReadProblem> {
    // A zero-byte file is a present dataset with no records, compressed or not.
    if bytes.is_empty() {
        return Vec::new();
    }
    let (data, damage) = if gzip {
        let (data, damage) = gunzip(bytes);
        (std::borrow::Cow::Owned(data), damage)
    } else {
        (std::borrow::Cow::Borrowed(bytes), None)
    };
    let text = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&data);
    let mut parsed = Parsed::new(sink);
    match format {
        Format::Csv => read_csv(text, fields, &mut parsed),
        Format::Json => read_json(text, fields, &mut parsed),
        Format::Ndjson => read_ndjson(text, fields, &mut parsed),
    }
    if let Some(damage) = damage {
        // The end of the kept bytes is where the damage is, not where the file ends: a quote or
        // an array left open there is the same damage, reported once.
        if parsed.stopped_at_eof {
            parsed.problems.pop();
        }
        parsed.problems.push(damage);
    }
    parsed.problems
}

/// A reader's state: its sink, the problems met, and whether the last problem is only the input
/// ending too early.
struct Parsed<'s, S: Sink> {
    sink: &'s mut S,
    problems: Vec<ReadProblem>,
    stopped_at_eof: bool,
}

impl<'s, S: Sink> Parsed<'s, S> {
    fn new(sink: &'s mut S) -> Parsed<'s, S> {
        Parsed {
            sink,
            problems: Vec::new(),
            stopped_at_eof: false,
        }
    }

    fn problem(&mut self, line: u32, message: impl Into<String>) {
        self.problems.push(ReadProblem {
            line,
            message: message.into(),
        });
    }

    fn record(&mut self, line: u32, cells: Vec<Option<RawValue>>) {
        self.sink.cells(line, cells);
    }
}

fn to_line(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn count_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// Decompresses a whole (possibly multi-member) gzip stream. When the stream is truncated or
/// corrupt, keeps the output up to and including its last complete line and returns the problem,
/// placed on the line after that one.
fn gunzip(bytes: &[u8]) -> (Vec<u8>, Option<ReadProblem>) {
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4));
    match flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out) {
        Ok(_) => (out, None),
        Err(err) => {
            let keep = out.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            out.truncate(keep);
            let line = to_line(count_newlines(&out) as u64 + 1);
            let problem = ReadProblem {
                line,
                message: format!("gzip stream is truncated or corrupt: {err}"),
            };
            (out, Some(problem))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CSV

fn read_csv<S: Sink>(data: &[u8], fields: &[FieldDef], out: &mut Parsed<'_, S>) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut rec = csv::ByteRecord::new();
    // Column position -> field index, from the header row.
    let mut columns: Option<Vec<Option<usize>>> = None;
    loop {
        let before = rdr.position().clone();
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) => {
                out.problem(to_line(before.line()), format!("cannot read CSV: {err}"));
                break;
            }
        }
        let end = usize::try_from(rdr.position().byte()).unwrap_or(data.len());
        // The reader's position is where the previous row ended: skip the line ends (and the
        // blank lines) it passed over to find the line where this row starts.
        let mut start = usize::try_from(before.byte()).unwrap_or(end);
        let mut line = before.line();
        while let Some(&b) = data.get(start).filter(|_| start < end) {
            if b != b'\r' && b != b'\n' {
                break;
            }
            line += u64::from(b == b'\n');
            start += 1;
        }
        let line = to_line(line);
        let raw = data.get(start..end).unwrap_or_default();
        if end >= data.len() && ends_inside_quotes(raw) {
            out.problem(line, "unterminated quoted field");
            out.stopped_at_eof = true;
            break;
        }
        if rec.len() == 1
            && raw
                .iter()
                .all(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            continue; // a blank line of spaces
        }
        let Some(columns) = &columns else {
            if std::str::from_utf8(raw).is_err() {
                out.problem(line, "header row is not valid UTF-8");
            }
            columns = Some(header_columns(&rec, fields));
            continue;
        };
        if rec.len() > columns.len() {
            out.problem(
                line,
                format!(
                    "row has {} cells but the header has {}",
                    rec.len(),
                    columns.len()
                ),
            );
            continue;
        }
        if !out.sink.csv_row(line, &rec, columns) {
            out.problem(line, "row is not valid UTF-8");
        }
    }
}

/// Maps each header column to the schema field of the same name; the first column of a name wins.
/// A header that is not valid UTF-8 is read lossily, so its other columns still count.
fn header_columns(header: &csv::ByteRecord, fields: &[FieldDef]) -> Vec<Option<usize>> {
    let mut taken = vec![false; fields.len()];
    header
        .iter()
        .map(|name| {
            let name = String::from_utf8_lossy(name);
            let idx = fields.iter().position(|f| f.name == name)?;
            if std::mem::replace(&mut taken[idx], true) {
                None
            } else {
                Some(idx)
            }
        })
        .collect()
}

/// Whether the raw bytes of a row (from its first byte to the end of the input) end inside a
/// quoted field: the csv crate silently closes such a field at the end of the input. Follows
/// csv-core's reading: a quote opens a quoted field only at the start of a field, `""` inside
/// one is a quote, and text after the closing quote continues the field unquoted.
fn ends_inside_quotes(raw: &[u8]) -> bool {
    #[derive(PartialEq)]
    enum S {
        StartField,
        InField,
        InQuoted,
        QuoteInQuoted,
    }
    let mut s = S::StartField;
    for &b in raw {
        s = match s {
            S::StartField if b == b'"' => S::InQuoted,
            S::StartField | S::InField | S::QuoteInQuoted if matches!(b, b',' | b'\r' | b'\n') => {
                S::StartField
            }
            S::QuoteInQuoted if b == b'"' => S::InQuoted,
            S::StartField | S::InField | S::QuoteInQuoted => S::InField,
            S::InQuoted if b == b'"' => S::QuoteInQuoted,
            S::InQuoted => S::InQuoted,
        };
    }
    s == S::InQuoted
}

// ---------------------------------------------------------------------------------------------
// NDJSON

fn read_ndjson<S: Sink>(data: &[u8], fields: &[FieldDef], out: &mut Parsed<'_, S>) {
    let mut line_no: u64 = 0;
    for line in data.split(|&b| b == b'\n') {
        line_no += 1;
        let line_at = to_line(line_no);
        if line.iter().all(u8::is_ascii_whitespace) {
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

fn read_json<S: Sink>(data: &[u8], fields: &[FieldDef], out: &mut Parsed<'_, S>) {
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
    } else {
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
                    return;
                }
                Err(JsonErr::Syntax { at, msg }) => {
                    let line = lines.at(at);
                    out.problem(
                        line,
                        format!("invalid JSON: {msg} at column {}", lines.column(at)),
                    );
                    return;
                }
            }
            p.ws();
            match p.peek() {
                Some(b',') => p.pos += 1,
                Some(b']') => {
                    p.pos += 1;
                    break;
                }
                None => {
                    let last = data.trim_ascii_end().len().saturating_sub(1);
                    out.problem(
                        lines.at(last),
                        "truncated JSON: the file ends before the array is closed",
                    );
                    out.stopped_at_eof = true;
                    return;
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
                    return;
                }
            }
        }
    }
    p.ws();
    if p.pos < data.len() {
        out.problem(lines.at(p.pos), "unexpected text after the JSON array");
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

const MAX_DEPTH: u32 = 128;

#[derive(Debug, PartialEq)]
enum JsonErr {
    /// The input ended inside a value.
    Eof,
    /// A syntax error at a byte offset.
    Syntax { at: usize, msg: &'static str },
}

fn syntax<T>(at: usize, msg: &'static str) -> Result<T, JsonErr> {
    Err(JsonErr::Syntax { at, msg })
}

/// A JSON scanner over bytes that converts values straight into [`RawValue`]s.
struct Json<'a> {
    s: &'a [u8],
    pos: usize,
    depth: u32,
    /// Offset of the first invalid UTF-8 byte met in a string since this was last cleared.
    bad_utf8: Option<usize>,
}

impl<'a> Json<'a> {
    fn new(s: &'a [u8]) -> Json<'a> {
        Json {
            s,
            pos: 0,
            depth: 0,
            bad_utf8: None,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn enter(&mut self) -> Result<(), JsonErr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return syntax(self.pos, "values are nested too deeply");
        }
        self.pos += 1;
        Ok(())
    }

    /// One element: `Some(cells)` for an object, `None` for any other (valid) value.
    fn element(&mut self, fields: &[FieldDef]) -> Result<Option<Vec<Option<RawValue>>>, JsonErr> {
        if self.peek() == Some(b'{') {
            self.record(fields).map(Some)
        } else {
            self.raw(None).map(|()| None)
        }
    }

    /// An object read as a record: known keys fill their cells (the first of repeated keys
    /// wins), other keys are skipped.
    fn record(&mut self, fields: &[FieldDef]) -> Result<Vec<Option<RawValue>>, JsonErr> {
        self.enter()?;
        let mut cells = vec![None; fields.len()];
        let mut seen = vec![false; fields.len()];
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(cells);
        }
        loop {
            self.ws();
            match self.peek() {
                Some(b'"') => {}
                Some(_) => return syntax(self.pos, "expected a string key"),
                None => return Err(JsonErr::Eof),
            }
            let (start, end, escaped) = self.string()?;
            let idx = if escaped {
                let key = self.decode(start, end, true);
                fields.iter().position(|f| f.name == key)
            } else {
                let key = self.s.get(start..end).unwrap_or_default();
                fields.iter().position(|f| f.name.as_bytes() == key)
            };
            self.colon()?;
            match idx {
                Some(i) if !seen[i] => {
                    seen[i] = true;
                    cells[i] = self.value()?;
                }
                _ => self.raw(None)?,
            }
            if self.close(b'}')? {
                return Ok(cells);
            }
        }
    }

    fn colon(&mut self) -> Result<(), JsonErr> {
        self.ws();
        match self.peek() {
            Some(b':') => {
                self.pos += 1;
                self.ws();
                Ok(())
            }
            Some(_) => syntax(self.pos, "expected `:`"),
            None => Err(JsonErr::Eof),
        }
    }

    /// After a member or item: `,` (false, more follow) or the closing bracket (true).
    fn close(&mut self, bracket: u8) -> Result<bool, JsonErr> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(false)
            }
            Some(b) if b == bracket => {
                self.pos += 1;
                self.depth -= 1;
                Ok(true)
            }
            Some(_) if bracket == b'}' => syntax(self.pos, "expected `,` or `}`"),
            Some(_) => syntax(self.pos, "expected `,` or `]`"),
            None => Err(JsonErr::Eof),
        }
    }

    /// A value converted to a raw cell: `null` and `""` are missing.
    fn value(&mut self) -> Result<Option<RawValue>, JsonErr> {
        match self.peek() {
            None => Err(JsonErr::Eof),
            Some(b'"') => {
                let (start, end, escaped) = self.string()?;
                if start == end {
                    Ok(None)
                } else {
                    Ok(Some(RawValue::Text(self.decode(start, end, escaped))))
                }
            }
            Some(b'[') => {
                self.enter()?;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    self.depth -= 1;
                } else {
                    loop {
                        self.ws();
                        if let Some(item) = self.value()? {
                            items.push(item);
                        }
                        if self.close(b']')? {
                            break;
                        }
                    }
                }
                Ok(Some(RawValue::Array(items)))
            }
            Some(b'{') => {
                let mut text = String::new();
                self.raw(Some(&mut text))?;
                Ok(Some(RawValue::Other(text)))
            }
            Some(b't') => self.literal("true").map(|()| Some(RawValue::Bool(true))),
            Some(b'f') => self.literal("false").map(|()| Some(RawValue::Bool(false))),
            Some(b'n') => self.literal("null").map(|()| None),
            Some(b'-' | b'0'..=b'9') => {
                let (start, end) = self.number()?;
                let text = String::from_utf8_lossy(self.s.get(start..end).unwrap_or_default());
                Ok(Some(RawValue::Number(text.into_owned())))
            }
            Some(_) => syntax(self.pos, "expected a value"),
        }
    }

    /// Scans any value; writes it as compact JSON to `out` when given (strings keep their
    /// escapes as written, numbers their text).
    fn raw(&mut self, mut out: Option<&mut String>) -> Result<(), JsonErr> {
        let start = self.pos;
        match self.peek() {
            None => return Err(JsonErr::Eof),
            Some(b'"') => {
                self.string()?;
            }
            Some(open @ (b'[' | b'{')) => {
                let close = if open == b'[' { b']' } else { b'}' };
                self.enter()?;
                if let Some(out) = out.as_deref_mut() {
                    out.push(char::from(open));
                }
                self.ws();
                if self.peek() == Some(close) {
                    self.pos += 1;
                    self.depth -= 1;
                } else {
                    loop {
                        self.ws();
                        if open == b'{' {
                            if self.peek() != Some(b'"') {
                                return match self.peek() {
                                    None => Err(JsonErr::Eof),
                                    Some(_) => syntax(self.pos, "expected a string key"),
                                };
                            }
                            self.raw(out.as_deref_mut())?;
                            self.colon()?;
                            if let Some(out) = out.as_deref_mut() {
                                out.push(':');
                            }
                        }
                        self.raw(out.as_deref_mut())?;
                        let done = self.close(close)?;
                        if let Some(out) = out.as_deref_mut() {
                            out.push(if done { char::from(close) } else { ',' });
                        }
                        if done {
                            break;
                        }
                    }
                    return Ok(());
                }
                if let Some(out) = out.as_deref_mut() {
                    out.push(char::from(close));
                }
                return Ok(());
            }
            Some(b't') => self.literal("true")?,
            Some(b'f') => self.literal("false")?,
            Some(b'n') => self.literal("null")?,
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
            }
            Some(_) => return syntax(self.pos, "expected a value"),
        }
        if let Some(out) = out {
            out.push_str(&String::from_utf8_lossy(
                self.s.get(start..self.pos).unwrap_or_default(),
            ));
        }
        Ok(())
    }

    fn literal(&mut self, word: &'static str) -> Result<(), JsonErr> {
        let rest = self.s.get(self.pos..).unwrap_or_default();
        if rest.starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else if word.as_bytes().starts_with(rest) {
            Err(JsonErr::Eof)
        } else {
            syntax(self.pos, "expected a value")
        }
    }

    /// A number per the JSON grammar; returns its byte range.
    fn number(&mut self) -> Result<(usize, usize), JsonErr> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            Some(_) => return syntax(self.pos, "invalid number"),
            None => return Err(JsonErr::Eof),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        Ok((start, self.pos))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Result<(), JsonErr> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            Some(_) => syntax(self.pos, "invalid number"),
            None => Err(JsonErr::Eof),
        }
    }

    /// Scans a string at its opening quote; returns the byte range between the quotes and
    /// whether it holds escapes. Invalid UTF-8 is noted in `bad_utf8`, not an error.
    fn string(&mut self) -> Result<(usize, usize, bool), JsonErr> {
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        loop {
            let rest = self.s.get(self.pos..).unwrap_or_default();
            let Some(i) = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            else {
                return Err(JsonErr::Eof);
            };
            self.pos += i;
            match rest[i] {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    match rest.get(i + 1) {
                        None => return Err(JsonErr::Eof),
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 2;
                        }
                        Some(b'u') => {
                            for k in 2..6 {
                                match rest.get(i + k) {
                                    None => return Err(JsonErr::Eof),
                                    Some(b) if b.is_ascii_hexdigit() => {}
                                    Some(_) => {
                                        return syntax(self.pos + k, "invalid `\\u` escape");
                                    }
                                }
                            }
                            self.pos += 6;
                        }
                        Some(_) => return syntax(self.pos + 1, "invalid escape in a string"),
                    }
                }
                _ => return syntax(self.pos, "control character in a string"),
            }
        }
        let end = self.pos;
        self.pos += 1;
        if self.bad_utf8.is_none()
            && let Err(err) = std::str::from_utf8(self.s.get(start..end).unwrap_or_default())
        {
            self.bad_utf8 = Some(start + err.valid_up_to());
        }
        Ok((start, end, escaped))
    }

    /// The text of a scanned string (escapes already checked by [`Json::string`]).
    fn decode(&self, start: usize, end: usize, escaped: bool) -> String {
        let raw = self.s.get(start..end).unwrap_or_default();
        if !escaped {
            return String::from_utf8_lossy(raw).into_owned();
        }
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while let Some(&b) = raw.get(i) {
            if b != b'\\' {
                out.push(b);
                i += 1;
                continue;
            }
            let unescaped = match raw.get(i + 1) {
                Some(b'b') => b'\x08',
                Some(b'f') => b'\x0c',
                Some(b'n') => b'\n',
                Some(b'r') => b'\r',
                Some(b't') => b'\t',
                Some(b'u') => {
                    let mut code = hex4(raw, i + 2);
                    i += 6;
                    if (0xD800..0xDC00).contains(&code) && raw.get(i..i + 2) == Some(b"\\u") {
                        let low = hex4(raw, i + 2);
                        if (0xDC00..0xE000).contains(&low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                            i += 6;
                        }
                    }
                    let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    continue;
                }
                Some(&other) => other,
                None => break,
            };
            out.push(unescaped);
            i += 2;
        }
        String::from_utf8(out)
            .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned())
    }
}

fn hex4(raw: &[u8], at: usize) -> u32 {
    raw.get(at..at + 4)
        .and_then(|h| std::str::from_utf8(h).ok())
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .unwrap_or(0xFFFD)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::bundle::schema::Dataset;

    // facility_id, name, setting, state, timezone, virtual_go_live
    fn fields() -> &'static [FieldDef] {
        Dataset::Facilities.fields()
    }

    fn read(bytes: &[u8], format: Format) -> FileRead {
        read_bytes(bytes, format, false, fields())
    }

    fn text(s: &str) -> Option<RawValue> {
        Some(RawValue::Text(s.to_owned()))
    }

    fn num(s: &str) -> Option<RawValue> {
        Some(RawValue::Number(s.to_owned()))
    }

    fn lines(r: &FileRead) -> Vec<u32> {
        r.records.iter().map(|rec| rec.line).collect()
    }

    fn problem_lines(r: &FileRead) -> Vec<u32> {
        r.problems.iter().map(|p| p.line).collect()
    }

    fn ids(r: &FileRead) -> Vec<String> {
        r.records
            .iter()
            .map(|rec| match &rec.cells[0] {
                Some(v) => v.display(),
                None => "-".to_owned(),
            })
            .collect()
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    // ---- CSV

    #[test]
    fn csv_basic_with_line_numbers() {
        let r = read(
            b"facility_id,name,setting,state\nF1,North,office,IL\nF2, South ,idtf,WI\n",
            Format::Csv,
        );
        assert_eq!(r.problems, vec![]);
        assert_eq!(lines(&r), vec![2, 3]);
        assert_eq!(
            r.records[0].cells,
            vec![
                text("F1"),
                text("North"),
                text("office"),
                text("IL"),
                None,
                None
            ]
        );
        assert_eq!(r.records[1].cells[1], text(" South "));
    }

    #[test]
    fn csv_columns_in_any_order_and_empty_cells_missing() {
        let r = read(b"state,facility_id,name\nIL,F1,\n", Format::Csv);
        assert_eq!(
            r.records[0].cells,
            vec![text("F1"), None, None, text("IL"), None, None]
        );
    }

    #[test]
    fn csv_crlf_and_no_final_newline() {
        let r = read(b"facility_id,name\r\nF1,a\r\nF2,b\r\n\r\nF3,c", Format::Csv);
        assert_eq!(r.problems, vec![]);
        assert_eq!(lines(&r), vec![2, 3, 5]);
        assert_eq!(r.records[1].cells[1], text("b"));
        assert_eq!(r.records[2].cells[1], text("c"));
    }

    #[test]
    fn csv_bom_is_stripped_from_the_header() {
        let r = read(b"\xEF\xBB\xBFfacility_id,name\nF1,a\n", Format::Csv);
        assert_eq!(r.records[0].cells[0], text("F1"));
        assert_eq!(lines(&r), vec![2]);
    }

    #[test]
    fn csv_quoted_field_with_newline_comma_and_quote() {
        let r = read(
            b"facility_id,name\nF1,\"two\nlines, \"\"quoted\"\"\"\nF2,b\n",
            Format::Csv,
        );
        assert_eq!(r.problems, vec![]);
        assert_eq!(lines(&r), vec![2, 4]);
        assert_eq!(r.records[0].cells[1], text("two\nlines, \"quoted\""));
    }

    #[test]
    fn csv_short_row_has_last_fields_missing() {
        let r = read(b"facility_id,name,setting\nF1\n", Format::Csv);
        assert_eq!(r.problems, vec![]);
        assert_eq!(
            r.records[0].cells,
            vec![text("F1"), None, None, None, None, None]
        );
    }

    #[test]
    fn csv_long_row_is_a_problem_and_skipped() {
        let r = read(b"facility_id,name\nF1,a\nF2,b,c\nF3,d\n", Format::Csv);
        assert_eq!(ids(&r), vec!["F1", "F3"]);
        assert_eq!(
            r.problems,
            vec![ReadProblem {
                line: 3,
                message: "row has 3 cells but the header has 2".to_owned()
            }]
        );
    }

    #[test]
    fn csv_invalid_utf8_row_is_a_problem_and_skipped() {
        let r = read(b"facility_id,name\nF1,caf\xE9\nF2,b\n", Format::Csv);
        assert_eq!(ids(&r), vec!["F2"]);
        assert_eq!(problem_lines(&r), vec![2]);
        assert_eq!(r.problems[0].message, "row is not valid UTF-8");
    }

    #[test]
    fn csv_invalid_utf8_in_header_keeps_the_other_columns() {
        let r = read(b"facility_id,n\xE9me\nF1,a\n", Format::Csv);
        assert_eq!(problem_lines(&r), vec![1]);
        assert_eq!(
            r.records[0].cells,
            vec![text("F1"), None, None, None, None, None]
        );
    }

    #[test]
    fn csv_unterminated_quote_stops_at_the_row() {
        let r = read(
            b"facility_id,name\nF1,a\nF2,\"open\nF3,c\nF4,d\n",
            Format::Csv,
        );
        assert_eq!(ids(&r), vec!["F1"]);
        assert_eq!(
            r.problems,
            vec![ReadProblem {
                line: 3,
                message: "unterminated quoted field".to_owned()
            }]
        );
    }

    #[test]
    fn csv_quotes_that_close_are_not_unterminated() {
        for input in [
            &b"facility_id,name\nF1,\"a\"\"\"\n"[..],
            b"facility_id,name\nF1,\"a\"",
            b"facility_id,name\nF1,a\"b",
            b"facility_id,name\nF1,\"a\"b\"",
        ] {
            let r = read(input, Format::Csv);
            assert_eq!(r.problems, vec![], "{}", String::from_utf8_lossy(input));
            assert_eq!(ids(&r), vec!["F1"]);
        }
        assert!(ends_inside_quotes(b"F1,\"a\"\"\n"));
        assert!(ends_inside_quotes(b"\""));
        assert!(!ends_inside_quotes(b"F1,\"\""));
    }

    #[test]
    fn csv_blank_lines_are_skipped() {
        let r = read(
            b"\n\nfacility_id,name\n\nF1,a\n   \n\r\nF2,b\n\n",
            Format::Csv,
        );
        assert_eq!(r.problems, vec![]);
        assert_eq!(lines(&r), vec![5, 8]);
        assert_eq!(ids(&r), vec!["F1", "F2"]);
    }

    #[test]
    fn csv_unknown_and_duplicate_columns() {
        let r = read(
            b"extra,facility_id,name,facility_id\nx,F1,a,F9\n",
            Format::Csv,
        );
        assert_eq!(r.problems, vec![]);
        assert_eq!(
            r.records[0].cells,
            vec![text("F1"), text("a"), None, None, None, None]
        );
    }

    #[test]
    fn csv_empty_and_header_only() {
        for input in [
            &b""[..],
            b"\n\n",
            b"facility_id,name\n",
            b"facility_id,name",
        ] {
            let r = read(input, Format::Csv);
            assert_eq!(r, FileRead::default());
        }
    }

    #[test]
    fn every_record_has_one_cell_per_field() {
        let r = read(b"name\na\n", Format::Csv);
        assert_eq!(r.records[0].cells.len(), fields().len());
        let r = read(b"{\"name\":\"a\"}\n", Format::Ndjson);
        assert_eq!(r.records[0].cells.len(), fields().len());
    }

    // ---- NDJSON

    #[test]
    fn ndjson_values_are_converted() {
        let r = read(
            b"{\"facility_id\":\"F1\",\"name\":70460,\"setting\":true,\"state\":[\"IL\",null,\"\",1.50],\"timezone\":{\"a\": [1, {\"b\" : \"x\\\"y\"}]},\"virtual_go_live\":null,\"other\":{\"deep\":[1]}}\n",
            Format::Ndjson,
        );
        assert_eq!(r.problems, vec![]);
        assert_eq!(
            r.records[0].cells,
            vec![
                text("F1"),
                num("70460"),
                Some(RawValue::Bool(true)),
                Some(RawValue::Array(vec![
                    RawValue::Text("IL".to_owned()),
                    RawValue::Number("1.50".to_owned())
                ])),
                Some(RawValue::Other("{\"a\":[1,{\"b\":\"x\\\"y\"}]}".to_owned())),
                None,
            ]
        );
    }

    #[test]
    fn ndjson_missing_values_and_numbers_as_written() {
        let r = read(
            b"{\"facility_id\":\"\",\"name\":3.0,\"setting\":-1e3,\"state\":\"\\u00e9\\ud83d\\ude00\\n\"}",
            Format::Ndjson,
        );
        assert_eq!(r.problems, vec![]);
        assert_eq!(r.records[0].cells[0], None);
        assert_eq!(r.records[0].cells[1], num("3.0"));
        assert_eq!(r.records[0].cells[2], num("-1e3"));
        assert_eq!(r.records[0].cells[3], text("\u{e9}\u{1F600}\n"));
    }

    #[test]
    fn ndjson_escaped_key_and_first_repeated_key_wins() {
        let r = read(
            b"{\"facility\\u005fid\":\"F1\",\"facility_id\":\"F2\"}\n",
            Format::Ndjson,
        );
        assert_eq!(ids(&r), vec!["F1"]);
    }

    #[test]
    fn ndjson_bad_lines_are_problems_and_skipped() {
        let r = read(
            b"\xEF\xBB\xBF{\"facility_id\":\"F1\"}\r\n\n  \t\n{\"facility_id\":\nnot json\n[1,2]\n\"s\"\n{\"facility_id\":\"caf\xE9\"}\n{\"facility_id\":\"F2\"} x\n{\"facility_id\":\"F3\"}\n",
            Format::Ndjson,
        );
        assert_eq!(ids(&r), vec!["F1", "F3"]);
        assert_eq!(lines(&r), vec![1, 10]);
        assert_eq!(problem_lines(&r), vec![4, 5, 6, 7, 8, 9]);
        let messages: Vec<&str> = r.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages[0],
            "line is not valid JSON: it ends inside a value"
        );
        assert_eq!(
            messages[1],
            "line is not valid JSON: expected a value at column 1"
        );
        assert_eq!(messages[2], "not a JSON object");
        assert_eq!(messages[3], "not a JSON object");
        assert_eq!(messages[4], "line is not valid UTF-8");
        assert!(
            messages[5].contains("unexpected text after the object"),
            "{}",
            messages[5]
        );
    }

    #[test]
    fn ndjson_rejects_invalid_json_strictly() {
        for line in [
            &b"{\"facility_id\":NaN}"[..],
            b"{\"facility_id\":01}",
            b"{\"facility_id\":1.}",
            b"{\"facility_id\":\"a\tb\"}",
            b"{\"facility_id\":\"\\x\"}",
            b"{\"facility_id\":\"a\",}",
            b"{facility_id:1}",
            b"{\"facility_id\" 1}",
            b"{\"facility_id\":[1,]}",
            b"{\"facility_id\":tru}",
        ] {
            let r = read(line, Format::Ndjson);
            assert_eq!(r.records, vec![], "{}", String::from_utf8_lossy(line));
            assert_eq!(problem_lines(&r), vec![1]);
        }
    }

    #[test]
    fn deep_nesting_is_a_problem_not_a_crash() {
        let mut line = b"{\"name\":".to_vec();
        line.extend(std::iter::repeat_n(b'[', 100_000));
        let r = read(&line, Format::Ndjson);
        assert_eq!(problem_lines(&r), vec![1]);
        assert!(r.problems[0].message.contains("nested too deeply"));
    }

    // ---- JSON

    #[test]
    fn json_array_records_start_on_their_lines() {
        let r = read(
            b"\xEF\xBB\xBF[\n  {\"facility_id\": \"F1\",\n   \"name\": \"a\"},\n  {\"facility_id\": \"F2\"}, {\"facility_id\": \"F3\"},\n\n  {\n    \"facility_id\": \"F4\"\n  }\n]\n",
            Format::Json,
        );
        assert_eq!(r.problems, vec![]);
        assert_eq!(ids(&r), vec!["F1", "F2", "F3", "F4"]);
        assert_eq!(lines(&r), vec![2, 4, 4, 6]);
        assert_eq!(r.records[0].cells[1], text("a"));
    }

    #[test]
    fn json_non_object_element_is_skipped() {
        let r = read(
            b"[{\"facility_id\":\"F1\"},\n42,\n[\"x\"],\n{\"facility_id\":\"F2\"}]",
            Format::Json,
        );
        assert_eq!(ids(&r), vec!["F1", "F2"]);
        assert_eq!(problem_lines(&r), vec![2, 3]);
        assert_eq!(r.problems[0].message, "not a JSON object");
    }

    #[test]
    fn json_top_level_object_is_one_problem() {
        let r = read(b"\n{\"facility_id\":\"F1\"}\n", Format::Json);
        assert_eq!(r.records, vec![]);
        assert_eq!(problem_lines(&r), vec![2]);
        assert!(r.problems[0].message.contains("not a JSON array"));
    }

    #[test]
    fn json_truncated_array_keeps_records_before() {
        let r = read(
            b"[\n{\"facility_id\":\"F1\"},\n{\"facility_id\":\"F2\"},\n{\"facility_id\":\n\"F3\"",
            Format::Json,
        );
        assert_eq!(ids(&r), vec!["F1", "F2"]);
        assert_eq!(problem_lines(&r), vec![4]);
        assert!(r.problems[0].message.contains("truncated"));

        let r = read(b"[\n{\"facility_id\":\"F1\"}\n\n", Format::Json);
        assert_eq!(ids(&r), vec!["F1"]);
        assert_eq!(problem_lines(&r), vec![2]);
    }

    #[test]
    fn json_syntax_error_stops_at_its_line() {
        let r = read(
            b"[\n{\"facility_id\":\"F1\"},\n{\"facility_id\":\"F2\"}\n{\"facility_id\":\"F3\"}]",
            Format::Json,
        );
        assert_eq!(ids(&r), vec!["F1", "F2"]);
        assert_eq!(problem_lines(&r), vec![4]);
        assert_eq!(
            r.problems[0].message,
            "invalid JSON: expected `,` or `]` at column 1"
        );
    }

    #[test]
    fn json_invalid_utf8_skips_only_that_record() {
        let r = read(
            b"[{\"facility_id\":\"F1\"},\n{\"facility_id\":\"F2\",\n\"name\":\"caf\xE9\"},\n{\"facility_id\":\"F3\"}]",
            Format::Json,
        );
        assert_eq!(ids(&r), vec!["F1", "F3"]);
        assert_eq!(problem_lines(&r), vec![3]);
        assert_eq!(r.problems[0].message, "record is not valid UTF-8");
    }

    #[test]
    fn json_empty_files_and_arrays() {
        for input in [&b""[..], b"  \n", b"[]", b" [ \n ] \n", b"\xEF\xBB\xBF"] {
            assert_eq!(read(input, Format::Json), FileRead::default());
        }
        let r = read(b"[] x", Format::Json);
        assert_eq!(problem_lines(&r), vec![1]);
    }

    // ---- gzip

    #[test]
    fn gzip_of_each_format() {
        let csv = gz(b"facility_id,name\nF1,a\n\nF2,b\n");
        let r = read_bytes(&csv, Format::Csv, true, fields());
        assert_eq!(
            (ids(&r), lines(&r)),
            (vec!["F1".into(), "F2".into()], vec![2, 4])
        );
        let nd = gz(b"{\"facility_id\":\"F1\"}\n{\"facility_id\":\"F2\"}\n");
        let r = read_bytes(&nd, Format::Ndjson, true, fields());
        assert_eq!(
            (ids(&r), lines(&r)),
            (vec!["F1".into(), "F2".into()], vec![1, 2])
        );
        let js = gz(b"[\n{\"facility_id\":\"F1\"},\n{\"facility_id\":\"F2\"}\n]\n");
        let r = read_bytes(&js, Format::Json, true, fields());
        assert_eq!(
            (ids(&r), lines(&r)),
            (vec!["F1".into(), "F2".into()], vec![2, 3])
        );
        assert!(r.problems.is_empty());
    }

    #[test]
    fn gzip_of_concatenated_members() {
        let mut both = gz(b"facility_id\nF1\n");
        both.extend(gz(b"F2\n"));
        let r = read_bytes(&both, Format::Csv, true, fields());
        assert_eq!(ids(&r), vec!["F1", "F2"]);
        assert!(r.problems.is_empty());
    }

    /// Many lines of hard-to-compress text, so that cutting the stream short loses lines.
    fn long_csv() -> Vec<u8> {
        let mut out = b"facility_id,name\n".to_vec();
        let mut x: u64 = 7;
        for i in 0..5000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            out.extend(format!("F{i},{x:x}{:x}\n", x.rotate_left(17)).bytes());
        }
        out
    }

    #[test]
    fn gzip_truncated_keeps_complete_lines() {
        let plain = long_csv();
        let full = gz(&plain);
        let cut = &full[..full.len() / 2];
        let r = read_bytes(cut, Format::Csv, true, fields());
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        let problem = &r.problems[0];
        assert!(
            problem
                .message
                .starts_with("gzip stream is truncated or corrupt: ")
        );
        assert!(!r.records.is_empty() && r.records.len() < 5000);
        // The problem is on the line after the last complete line, and every line before it
        // (all but the header) became a record.
        let last = r.records.last().unwrap().line;
        assert_eq!(problem.line, last + 1);
        assert_eq!(r.records.len() as u32, last - 1);
        assert_eq!(ids(&r)[r.records.len() - 1], format!("F{}", last - 2));
    }

    #[test]
    fn gzip_truncated_in_the_trailer_keeps_everything() {
        let full = gz(b"facility_id\nF1\nF2\n");
        let r = read_bytes(&full[..full.len() - 4], Format::Csv, true, fields());
        assert_eq!(ids(&r), vec!["F1", "F2"]);
        assert_eq!(problem_lines(&r), vec![4]);
    }

    #[test]
    fn gzip_truncated_json_and_ndjson_report_once() {
        let mut json = b"[\n".to_vec();
        let mut nd = Vec::new();
        let plain = long_csv();
        for line in plain
            .split(|&b| b == b'\n')
            .skip(1)
            .filter(|l| !l.is_empty())
        {
            let id = String::from_utf8_lossy(line);
            let rec = format!("{{\"facility_id\":\"{id}\"}}");
            json.extend(format!("{rec},\n").bytes());
            nd.extend(format!("{rec}\n").bytes());
        }
        json.extend(b"{}]\n");
        for (bytes, format) in [(json, Format::Json), (nd, Format::Ndjson)] {
            let full = gz(&bytes);
            let r = read_bytes(&full[..full.len() / 2], format, true, fields());
            assert_eq!(r.problems.len(), 1, "{format:?}: {:?}", r.problems);
            assert!(r.problems[0].message.starts_with("gzip stream"));
            let last = r.records.last().unwrap().line;
            assert_eq!(r.problems[0].line, last + 1, "{format:?}");
        }
    }

    #[test]
    fn gzip_cut_inside_a_quoted_field_reports_once() {
        let mut plain = b"facility_id,name\nF1,a\nF2,\"".to_vec();
        let plain_len_before = plain.len();
        let mut x: u64 = 3;
        for _ in 0..4000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            plain.extend(format!("{x:x}\n").bytes());
        }
        plain.extend(b"\"\n");
        let full = gz(&plain);
        let r = read_bytes(&full[..full.len() / 2], Format::Csv, true, fields());
        assert!(plain_len_before > 0);
        assert_eq!(ids(&r), vec!["F1"]);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(r.problems[0].message.starts_with("gzip stream"));
        assert!(r.problems[0].line > 4);
    }

    #[test]
    fn not_gzip_at_all_is_one_problem_at_line_1() {
        let r = read_bytes(b"facility_id\nF1\n", Format::Csv, true, fields());
        assert_eq!(r.records, vec![]);
        assert_eq!(problem_lines(&r), vec![1]);
    }

    #[test]
    fn zero_bytes_is_empty_even_when_gzip() {
        assert_eq!(
            read_bytes(b"", Format::Json, true, fields()),
            FileRead::default()
        );
    }
}
