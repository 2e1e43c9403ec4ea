//! Property tests (proptest) of the invariants the issue "Hostile input" names, over inputs the
//! fixtures do not spell out: every data line read is counted once, as a record or a DQ-007
//! problem, in CSV and NDJSON, plain or gzip; and the findings are the same bytes on a rerun and
//! on 1 or 4 threads. These drive the library, like the fuzz targets (fuzz/), not the binary.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::sync::Arc;

use proptest::prelude::*;
use vigil::bundle::Bundle;
use vigil::bundle::read::{FileRead, Format, read_bytes};
use vigil::bundle::schema::Dataset;
use vigil::eval::run::evaluate;
use vigil::eval::world::{PackData, World};
use vigil::policy::load::load_packs;
use vigil::report::document::{Document, Writer};
use vigil::report::json::FindingsJson;

/// A cell: text of the kinds a site's export holds (ids, codes, times, flags), sometimes empty,
/// sometimes not UTF-8.
fn cell() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => "[A-Za-z0-9 :./;+-]{0,10}".prop_map(String::into_bytes),
        2 => Just(Vec::new()),
        1 => Just(b"completed".to_vec()),
        1 => Just(b"2026-03-08T02:30:00".to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 1..4).prop_map(|mut b| {
            b.retain(|c| !matches!(c, b',' | b'"' | b'\r' | b'\n'));
            b.push(0xff);
            b
        }),
    ]
}

/// A line end: LF, CRLF or a bare CR.
fn line_end() -> impl Strategy<Value = &'static [u8]> {
    prop_oneof![Just(&b"\n"[..]), Just(&b"\r\n"[..]), Just(&b"\r"[..])]
}

/// The exams header, then rows of 0..20 cells (the header has 13), each row on one line.
fn csv_file() -> impl Strategy<Value = (Vec<u8>, Vec<Vec<Vec<u8>>>)> {
    let rows = proptest::collection::vec(proptest::collection::vec(cell(), 0..20), 0..40);
    (rows, line_end(), any::<bool>()).prop_map(|(rows, end, bom)| {
        let header: Vec<&str> = Dataset::Exams.fields().iter().map(|f| f.name).collect();
        let mut bytes = if bom {
            b"\xEF\xBB\xBF".to_vec()
        } else {
            Vec::new()
        };
        bytes.extend_from_slice(header.join(",").as_bytes());
        bytes.extend_from_slice(end);
        for row in &rows {
            bytes.extend_from_slice(&row.join(&b","[..]));
            bytes.extend_from_slice(end);
        }
        (bytes, rows)
    })
}

/// A row the reader skips: no cell, or one cell of spaces only.
fn blank(row: &[Vec<u8>]) -> bool {
    row.len() <= 1 && row.iter().all(|c| c.iter().all(|&b| b == b' '))
}

/// The lines of `read` that hold a record or a problem; panics when a line has both or two.
fn counted_lines(read: &FileRead) -> BTreeSet<u32> {
    let mut lines = BTreeSet::new();
    for line in read
        .records
        .iter()
        .map(|r| r.line)
        .chain(read.problems.iter().map(|p| p.line))
    {
        assert!(lines.insert(line), "line {line} counted twice: {read:?}");
    }
    lines
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Every non-blank data line of a CSV file is one record or one DQ-007 problem, at its own
    /// physical line, whatever the line ends, widths and bytes; gzip changes nothing.
    #[test]
    fn every_csv_line_is_a_record_or_a_problem((bytes, rows) in csv_file()) {
        let fields = Dataset::Exams.fields();
        let read = read_bytes(&bytes, Format::Csv, false, fields);
        let expected: BTreeSet<u32> = rows
            .iter()
            .enumerate()
            .filter(|(_, row)| !blank(row))
            .map(|(i, _)| i as u32 + 2)
            .collect();
        prop_assert_eq!(counted_lines(&read), expected);
        prop_assert_eq!(read_bytes(&gzip(&bytes), Format::Csv, true, fields), read);
    }

    /// Every non-blank line of an NDJSON file is one record or one DQ-007 problem.
    #[test]
    fn every_ndjson_line_is_a_record_or_a_problem(
        lines in proptest::collection::vec(prop_oneof![
            4 => ("[A-Z0-9-]{1,8}", "[a-z_]{0,10}").prop_map(|(id, status)|
                format!(r#"{{"exam_id":"{id}","status":"{status}","contrast":true}}"#)),
            1 => Just("{\"exam_id\": [1, {\"x\": null}]}".to_string()),
            1 => "[^\r\n]{0,12}",
            1 => Just("   ".to_string()),
        ], 0..40),
        // NDJSON's lines end at LF (a bare CR is JSON whitespace: docs/bundle-format.md).
        end in prop_oneof![Just(&b"\n"[..]), Just(&b"\r\n"[..])],
    ) {
        let text = lines.iter().map(|l| format!("{l}{}", String::from_utf8_lossy(end))).collect::<String>();
        let read = read_bytes(text.as_bytes(), Format::Ndjson, false, Dataset::Exams.fields());
        let expected: BTreeSet<u32> = lines
            .iter()
            .enumerate()
            // Blank: JSON whitespace only (a vertical tab is not: it is a DQ-007 line). The
            // file's leading byte order mark is no content.
            .map(|(i, l)| (i, if i == 0 { l.strip_prefix('\u{feff}').unwrap_or(l) } else { l }))
            .filter(|(_, l)| !l.trim_matches([' ', '\t', '\r', '\n']).is_empty())
            .map(|(i, _)| i as u32 + 1)
            .collect();
        prop_assert_eq!(counted_lines(&read), expected);
    }
}

/// findings.json of a bundle, judged on a pool of `threads` threads.
fn findings_json(bundle: &std::path::Path, threads: usize) -> Vec<u8> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let packs = load_packs(&[]).unwrap();
        let world = Arc::new(World::new(
            Bundle::load(bundle).unwrap(),
            PackData::of(&packs),
        ));
        let eval = evaluate(&world, &packs).unwrap();
        let doc = Document::new("2026-04-02T00:00:00Z", &world.bundle, &packs, &eval);
        FindingsJson.write(&doc).unwrap().into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// Generated bundles of any size, seed and share of defects: the same findings.json bytes on
    /// a rerun and on 1 or 4 threads.
    #[test]
    fn findings_are_the_same_bytes_on_any_thread_count(
        exams in 20usize..600,
        seed in any::<u64>(),
        defect_rate in 0.0f64..0.5,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let options = vigil::generate::GenOptions { exams, seed, defect_rate, ..Default::default() };
        vigil::generate::generate(&options, dir.path()).unwrap();
        let one = findings_json(dir.path(), 1);
        prop_assert!(one == findings_json(dir.path(), 4), "1 and 4 threads differ");
        prop_assert!(one == findings_json(dir.path(), 4), "two runs on 4 threads differ");
    }
}
