//! Each reader on small inputs written out in full: line numbers, cells, and the problems that
//! damaged files, bad rows and cut gzip streams become.

use std::io::Write;

use super::csv_reader::ends_inside_quotes;
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

/// A member whose deflate data is damaged mid-stream can decode to plausible rows before its
/// check fails: none of its rows is kept; the members before it, which verified, are.
#[test]
fn gzip_corrupt_member_keeps_only_verified_members() {
    let plain = long_csv();
    let mut damaged = gz(&plain);
    let mid = damaged.len() / 2;
    for b in &mut damaged[mid..mid + 8] {
        *b ^= 0x5a;
    }
    let r = read_bytes(&damaged, Format::Csv, true, fields());
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert!(
        r.problems[0].message.contains("failed its integrity check"),
        "{:?}",
        r.problems
    );
    assert!(r.records.is_empty(), "{} rows kept", r.records.len());
    assert_eq!(problem_lines(&r), vec![1]);
    // Two members, the second damaged: the first member's rows stay.
    let mut two = gz(b"facility_id\nF1\nF2\n");
    let second_at = two.len();
    let mut second = gz(&plain[12..]);
    let crc_at = second.len() - 8;
    second[crc_at] ^= 0xff; // the CRC of the second member no longer matches
    two.extend(second);
    let r = read_bytes(&two, Format::Csv, true, fields());
    assert_eq!(ids(&r), vec!["F1", "F2"], "{second_at}");
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert!(
        r.problems[0].message.contains("failed its integrity check"),
        "{:?}",
        r.problems
    );
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
