//! Readers for CSV, JSON and NDJSON files, each optionally gzip-compressed.
//!
//! A reader never fails: whatever it cannot read becomes a [`ReadProblem`] (a DQ-007 finding at
//! a physical line) and the records before it are kept, as the bundle format's rules for the
//! edge cases of reading ask. JSON is parsed by a small scanner of our own, so that numbers keep
//! the text they were written with and every object knows the line it starts on.
//!
//! This module holds what every format shares: the entry points, the [`Sink`] a reader fills
//! and the problems it collects; each format's reader sits in its own file.

mod csv_reader;
mod gzip;
mod json_reader;
mod json_scanner;

use super::schema::FieldDef;
use super::value::{RawRecord, RawValue};
use csv_reader::read_csv;
use gzip::gunzip;
use json_reader::{read_json, read_ndjson};

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
    let limit = crate::bundle::manifest::Limits::default().gzip_output(bytes.len() as u64);
    let (problems, _) = read_into(bytes, format, gzip, fields, limit, &mut sink);
    FileRead {
        records: sink.records,
        problems,
    }
}

/// Reads one file's bytes as stored into `sink` (see [`read_bytes`]), returning the problems
/// and, for a gzip file, how many bytes it decompressed, kept or not (0 otherwise;
/// `gzip_limit + 1` when it would decompress past the limit, having been cut there). A gzip file
/// decompresses to at most `gzip_limit` bytes ([`crate::bundle::manifest::Limits::gzip_output`]).
/// The bundle loader's sink types each record as it is read, so no file is ever held as text
/// cells ([`crate::bundle::typing::TypingSink`]).
pub fn read_into<S: Sink>(
    bytes: &[u8],
    format: Format,
    gzip: bool,
    fields: &[FieldDef],
    gzip_limit: u64,
    sink: &mut S,
) -> (Vec<ReadProblem>, u64) {
    // A zero-byte file is a present dataset with no records, compressed or not.
    if bytes.is_empty() {
        return (Vec::new(), 0);
    }
    let mut decompressed = 0;
    let (data, damage) = if gzip {
        let (data, damage, produced) = gunzip(bytes, gzip_limit);
        decompressed = produced;
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
    (parsed.problems, decompressed)
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
