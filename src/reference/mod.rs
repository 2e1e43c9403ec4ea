//! Reference tables from public sources: the CMS physician fee schedule relative value file
//! (PPRRVU) turned into a bundle's `procedure_codes` file (`vigil reference import-rvu`).
//!
//! The import is a pure function of the bytes, the year and a path used only in messages;
//! [`read_rvu_file`] is the one place here that touches the disk.

mod header;
mod text;

use std::collections::HashMap;
use std::path::Path;

use header::{Columns, MAX_STACKED_ROWS, find_columns, is_header_row};
use text::decode_cell;

/// The supervision indicators a bundle accepts (`procedure_codes.supervision_indicator`).
pub use crate::bundle::schema::SUPERVISION_INDICATORS as VALID_INDICATORS;

/// The header of the file [`import_rvu`] writes, the bundle's `procedure_codes` columns.
pub const OUTPUT_HEADER: [&str; 5] = [
    "cpt_code",
    "year",
    "supervision_indicator",
    "global_days",
    "description",
];

/// Why no procedure_codes file could be made (exit 2). Odd rows are never errors: they are counted
/// in [`ImportSummary`].
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error("cannot read `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "no header row (`HCPCS`) found in `{path}`\nhelp: the header row is the first row whose first cell is `HCPCS`; is this the PPRRVU CSV of the relative value file?"
    )]
    NoHeader { path: String },
    #[error("`{path}`, line {line}: header lacks column `{name}`{}", did_you_mean(.suggestion))]
    MissingColumn {
        path: String,
        line: usize,
        name: &'static str,
        suggestion: Option<String>,
    },
    #[error(
        "`{path}`, line {line}: quoted field is never closed, the file is truncated or damaged"
    )]
    UnterminatedQuote { path: String, line: usize },
    #[error("`{path}`, line {line}: cannot read CSV: {message}")]
    Csv {
        path: String,
        line: usize,
        message: String,
    },
    #[error("cannot write the procedure_codes CSV: {0}")]
    Write(String),
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

/// What the import did with the rows of the file.
///
/// Every non-blank row after the header is counted once:
/// `rows_read == written + skipped_modifier + replaced_by_global + duplicates + skipped_no_code`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Non-blank rows after the header row (rows of only empty cells are blank).
    pub rows_read: usize,
    /// Rows written, one per code.
    pub written: usize,
    /// Rows with a modifier other than `TC` (`26`, `53`, ...).
    pub skipped_modifier: usize,
    /// `TC` rows of a code that also has a global row (empty `MOD`), in either order.
    pub replaced_by_global: usize,
    /// Repeats of a code and modifier kind already read (the first one is kept).
    pub duplicates: usize,
    /// Rows with text but an empty `HCPCS` cell (footnotes, stray lines).
    pub skipped_no_code: usize,
    /// Written rows whose indicator is not a bundle code after padding: (1-based physical
    /// line of the row, the value as written).
    pub bad_indicator: Vec<(usize, String)>,
    /// Rows with a cell that was not UTF-8 and was read as Windows-1252.
    pub windows_1252_rows: usize,
}

/// Reads and imports a PPRRVU CSV file; see [`import_rvu`].
pub fn read_rvu_file(path: &Path, year: i32) -> Result<(String, ImportSummary), ReferenceError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ReferenceError::Read {
        path: shown.clone(),
        source,
    })?;
    import_rvu(&bytes, &shown, year)
}

/// Reads a PPRRVU CSV (bytes) and returns the procedure_codes CSV text (header
/// `cpt_code,year,supervision_indicator,global_days,description`, LF line ends, RFC 4180 quoting
/// via the `csv` crate, rows in first-seen code order) and a summary.
///
/// - Title lines before the header are skipped; the header row is the first row whose first cell
///   is `HCPCS` (trimmed, any case). Columns are found by name (see `header.rs`), never by position.
/// - Global rows (empty `MOD`) and `TC` rows are kept, any other modifier is skipped. When a code
///   has both, the global row wins, in its first-seen place; otherwise the first row of a code wins.
/// - Indicators are trimmed and a single digit is padded (`2` -> `02`). An indicator that is then
///   not one of [`VALID_INDICATORS`] (empty, `X`, `6a`) is **written as found** and listed in
///   [`ImportSummary::bad_indicator`]: the row is not dropped and not guessed at, so a bundle or
///   pack using the file reports it (DQ-001 on that row, level unknown for exams with the code).
/// - Codes, modifiers, global days and descriptions are trimmed; nothing else is changed.
/// - A UTF-8 BOM is skipped; a cell that is not UTF-8 is read as Windows-1252. Blank lines and
///   rows of empty cells are skipped; rows shorter than the header read missing cells as empty.
///
/// Errors: no header row, a required column missing, a quoted field never closed.
pub fn import_rvu(
    bytes: &[u8],
    path_for_messages: &str,
    year: i32,
) -> Result<(String, ImportSummary), ReferenceError> {
    let data = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rows = Rows::new(data, path_for_messages);
    let mut stacked: Vec<Vec<String>> = Vec::new();
    let columns = loop {
        let Some(row) = rows.next_row()? else {
            return Err(ReferenceError::NoHeader {
                path: path_for_messages.to_owned(),
            });
        };
        // Only the rows directly above the header can hold parts of its titles.
        if row.blank || !row.follows_previous {
            stacked.clear();
        }
        if is_header_row(&row.cells) {
            let columns =
                find_columns(&row.cells, &stacked).map_err(|m| ReferenceError::MissingColumn {
                    path: path_for_messages.to_owned(),
                    line: row.line,
                    name: m.name,
                    suggestion: m.suggestion,
                })?;
            break columns;
        }
        if !row.blank {
            stacked.push(row.cells);
            if stacked.len() > MAX_STACKED_ROWS {
                stacked.remove(0);
            }
        }
    };
    let mut table = CodeTable::default();
    while let Some(row) = rows.next_row()? {
        if !row.blank {
            table.add(&row, &columns);
        }
    }
    table.summary.windows_1252_rows = rows.windows_1252_rows;
    table.finish(year)
}

/// A CSV row with its cells decoded.
struct Row {
    /// 1-based physical line where the row starts.
    line: usize,
    cells: Vec<String>,
    /// Every cell is empty or spaces.
    blank: bool,
    /// No blank physical line between this row and the one before it.
    follows_previous: bool,
}

/// The rows of a file, with the physical line each starts on.
struct Rows<'a> {
    data: &'a [u8],
    path: &'a str,
    reader: csv::Reader<&'a [u8]>,
    record: csv::ByteRecord,
    /// The physical line after the previous row's last line.
    after_previous: u64,
    windows_1252_rows: usize,
}

impl<'a> Rows<'a> {
    fn new(data: &'a [u8], path: &'a str) -> Rows<'a> {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(data);
        Rows {
            data,
            path,
            reader,
            record: csv::ByteRecord::new(),
            after_previous: 1,
            windows_1252_rows: 0,
        }
    }

    fn next_row(&mut self) -> Result<Option<Row>, ReferenceError> {
        let before = self.reader.position().clone();
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(err) => {
                return Err(ReferenceError::Csv {
                    path: self.path.to_owned(),
                    line: to_usize(before.line()),
                    message: err.to_string(),
                });
            }
        }
        let end = usize::try_from(self.reader.position().byte()).unwrap_or(self.data.len());
        // The reader's position is where the previous row ended: skip the line ends (and blank
        // lines) it passed over to find the line where this row starts.
        let mut start = usize::try_from(before.byte()).unwrap_or(end);
        let mut line = before.line();
        while let Some(&b) = self.data.get(start).filter(|_| start < end) {
            if b != b'\r' && b != b'\n' {
                break;
            }
            line += u64::from(b == b'\n');
            start += 1;
        }
        let raw = self.data.get(start..end).unwrap_or_default();
        if end >= self.data.len() && ends_inside_quotes(raw) {
            return Err(ReferenceError::UnterminatedQuote {
                path: self.path.to_owned(),
                line: to_usize(line),
            });
        }
        let follows_previous = line == self.after_previous;
        let inner = raw
            .iter()
            .rposition(|&b| b != b'\r' && b != b'\n')
            .map_or(&[][..], |last| raw.get(..=last).unwrap_or_default());
        self.after_previous = line + 1 + count_newlines(inner);
        let mut any_1252 = false;
        let cells: Vec<String> = self
            .record
            .iter()
            .map(|cell| {
                let (text, fallback) = decode_cell(cell);
                any_1252 |= fallback;
                text
            })
            .collect();
        self.windows_1252_rows += usize::from(any_1252);
        let blank = cells.iter().all(|c| c.trim().is_empty());
        Ok(Some(Row {
            line: to_usize(line),
            cells,
            blank,
            follows_previous,
        }))
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| u64::from(b == b'\n')).sum()
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Whether a row's raw bytes stop inside a quoted field (RFC 4180 quoting).
fn ends_inside_quotes(raw: &[u8]) -> bool {
    let mut at_field_start = true;
    let mut in_quotes = false;
    let mut quote_in_quotes = false;
    for &b in raw {
        if in_quotes {
            if quote_in_quotes {
                quote_in_quotes = false;
                if b != b'"' {
                    in_quotes = false;
                    at_field_start = matches!(b, b',' | b'\r' | b'\n');
                }
            } else if b == b'"' {
                quote_in_quotes = true;
            }
        } else if at_field_start && b == b'"' {
            in_quotes = true;
            at_field_start = false;
        } else {
            at_field_start = matches!(b, b',' | b'\r' | b'\n');
        }
    }
    in_quotes && !quote_in_quotes
}

/// One code as it will be written.
struct CodeRow {
    line: usize,
    code: String,
    global: bool,
    indicator: String,
    global_days: String,
    description: String,
}

/// Rows kept so far, one per code, in first-seen order.
#[derive(Default)]
struct CodeTable {
    rows: Vec<CodeRow>,
    index: HashMap<String, usize>,
    summary: ImportSummary,
}

impl CodeTable {
    fn add(&mut self, row: &Row, columns: &Columns) {
        let cell = |i: usize| row.cells.get(i).map_or("", |c| c.trim());
        self.summary.rows_read += 1;
        let code = cell(columns.hcpcs);
        if code.is_empty() {
            self.summary.skipped_no_code += 1;
            return;
        }
        let modifier = cell(columns.modifier);
        let global = modifier.is_empty();
        if !global && !modifier.eq_ignore_ascii_case("TC") {
            self.summary.skipped_modifier += 1;
            return;
        }
        let new = CodeRow {
            line: row.line,
            code: code.to_owned(),
            global,
            indicator: pad_indicator(cell(columns.indicator)),
            global_days: cell(columns.global_days).to_owned(),
            description: cell(columns.description).to_owned(),
        };
        match self.index.get(code).and_then(|&i| self.rows.get_mut(i)) {
            None => {
                self.index.insert(new.code.clone(), self.rows.len());
                self.rows.push(new);
            }
            Some(kept) if kept.global == global => self.summary.duplicates += 1,
            Some(kept) => {
                self.summary.replaced_by_global += 1;
                if global {
                    *kept = new;
                }
            }
        }
    }

    fn finish(mut self, year: i32) -> Result<(String, ImportSummary), ReferenceError> {
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let year = year.to_string();
        let write_err = |e: csv::Error| ReferenceError::Write(e.to_string());
        out.write_record(OUTPUT_HEADER).map_err(write_err)?;
        for row in &self.rows {
            if !VALID_INDICATORS.contains(&row.indicator.as_str()) {
                self.summary
                    .bad_indicator
                    .push((row.line, row.indicator.clone()));
            }
            out.write_record([
                row.code.as_str(),
                year.as_str(),
                row.indicator.as_str(),
                row.global_days.as_str(),
                row.description.as_str(),
            ])
            .map_err(write_err)?;
        }
        self.summary.written = self.rows.len();
        let bytes = out
            .into_inner()
            .map_err(|e| ReferenceError::Write(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|e| ReferenceError::Write(e.to_string()))?;
        Ok((text, self.summary))
    }
}

/// A single digit is the indicator with its leading zero lost (`2` is `02`, as spreadsheets
/// write it); anything else is kept as found.
fn pad_indicator(value: &str) -> String {
    match value.as_bytes() {
        [d] if d.is_ascii_digit() => format!("0{value}"),
        _ => value.to_owned(),
    }
}

#[cfg(test)]
mod tests;
