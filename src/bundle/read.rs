//! Readers for CSV, JSON and NDJSON files, each optionally gzip-compressed.
