//! The CSV reader: the csv crate splits rows, and this file adds what it leaves out, the physical
//! line each row starts on, a quoted field left open at the end of the input, and header columns
//! matched to schema fields by name.

use super::{Parsed, Sink, to_line};
use crate::bundle::schema::FieldDef;

pub(super) fn read_csv<S: Sink>(data: &[u8], fields: &[FieldDef], out: &mut Parsed<'_, S>) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut rec = csv::ByteRecord::new();
    // Column position -> field index, from the header row.
    let mut columns: Option<Vec<Option<usize>>> = None;
    // Physical lines, counted here: the csv crate ends a row at CR, LF or CRLF but counts only LF,
    // so a file with bare-CR line ends would put every row on line 1.
    let mut lines = Lines::default();
    loop {
        let before = usize::try_from(rdr.position().byte()).unwrap_or(data.len());
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) => {
                let line = lines.at(data, before);
                out.problem(to_line(line), format!("cannot read CSV: {err}"));
                break;
            }
        }
        let end = usize::try_from(rdr.position().byte()).unwrap_or(data.len());
        // The reader's position is where the previous row ended: skip the line ends (and the
        // blank lines) it passed over to find the line where this row starts.
        let mut start = before.min(end);
        while let Some(&b) = data.get(start).filter(|_| start < end) {
            if b != b'\r' && b != b'\n' {
                break;
            }
            start += 1;
        }
        let line = to_line(lines.at(data, start));
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

/// The physical line of a byte offset, counted forward as the reader goes: LF, CRLF and a bare
/// CR each end one line.
#[derive(Default)]
struct Lines {
    /// Bytes counted so far, and the 0-based number of line ends among them.
    counted: usize,
    ends: u64,
}

impl Lines {
    /// The 1-based line that byte `at` is on (`at` never goes backwards).
    fn at(&mut self, data: &[u8], at: usize) -> u64 {
        let at = at.min(data.len());
        let span = data.get(self.counted..at).unwrap_or_default();
        if !span.contains(&b'\r') {
            // The common case, LF only: a count the compiler vectorizes.
            self.ends += span.iter().filter(|&&b| b == b'\n').count() as u64;
        } else {
            for (i, &b) in span.iter().enumerate() {
                let end = match b {
                    b'\n' => true,
                    b'\r' => data.get(self.counted + i + 1) != Some(&b'\n'),
                    _ => false,
                };
                self.ends += u64::from(end);
            }
        }
        self.counted = self.counted.max(at);
        self.ends + 1
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
pub(super) fn ends_inside_quotes(raw: &[u8]) -> bool {
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
