//! Writing results out: CSV and JSON through arrow's own writers, TSV/Markdown/aligned table
//! for the rest. Everything streams batch by batch; files are written atomically.
//!
//! Faithfulness: CSV, TSV and JSON keep values as they are (TSV escapes only what its format
//! must). The human formats (`table`, `markdown`) make control characters visible instead.
//! CSV has no NULL: NULL and the empty string both become an empty field (RFC 4180, what
//! spreadsheets expect); TSV (`\N`) and JSON (`null`) keep the difference.

mod text;

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;

use crate::store::AtomicFile;

pub use text::{TABLE_MAX_PAD, TABLE_SAMPLE_ROWS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for reading in a terminal.
    Table,
    Csv,
    /// Tab-separated, PostgreSQL text-format escaping, NULL as `\N`.
    Tsv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// A GitHub-flavoured Markdown table.
    #[value(alias = "md")]
    Markdown,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Table,
        Format::Csv,
        Format::Tsv,
        Format::Json,
        Format::Jsonl,
        Format::Markdown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Markdown => "markdown",
        }
    }

    /// The usual file extension (`table` output is plain text).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Markdown => "md",
            other => other.name(),
        }
    }

    /// Guesses the format from a file name's extension (`.ndjson` counts as JSON lines).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "tsv" | "tab" => Some(Format::Tsv),
            "json" => Some(Format::Json),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "md" | "markdown" => Some(Format::Markdown),
            "txt" => Some(Format::Table),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("write failed: {0}")]
    Io(#[from] io::Error),
    #[error("cannot encode the result: {0}")]
    Arrow(#[from] ArrowError),
    #[error("a batch does not match the result's columns: expected {expected}, got {found}")]
    SchemaMismatch { expected: String, found: String },
    #[error("export to {} failed: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: Box<ExportError>,
    },
}

enum Inner<W: Write> {
    // Boxed: arrow's CSV writer is large and the enum lives as long as the export.
    Csv(Box<arrow::csv::Writer<W>>),
    Tsv(W),
    Json(arrow::json::ArrayWriter<W>),
    Jsonl(arrow::json::LineDelimitedWriter<W>),
    Markdown(W),
    Table(W, text::Table),
}

/// Streams record batches out in one format. Header-bearing formats print their header at
/// creation, so an empty result still gets one. `table` holds up to [`TABLE_SAMPLE_ROWS`] rows
/// to measure column widths before it prints.
pub struct BatchWriter<W: Write> {
    inner: Inner<W>,
    schema: SchemaRef,
    rows: u64,
}

impl<W: Write> BatchWriter<W> {
    pub fn new(mut out: W, format: Format, schema: SchemaRef) -> Result<Self, ExportError> {
        let flat = text::flat_schema(&schema);
        let inner = match format {
            Format::Csv => {
                let mut w = arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(out);
                // arrow writes the header with the first batch: an empty one prints it now.
                w.write(&RecordBatch::new_empty(flat))?;
                Inner::Csv(Box::new(w))
            }
            Format::Tsv => {
                text::Tsv::header(&mut out, &flat)?;
                Inner::Tsv(out)
            }
            Format::Json => Inner::Json(json_builder().build(out)),
            Format::Jsonl => Inner::Jsonl(json_builder().build(out)),
            Format::Markdown => {
                text::Markdown::header(&mut out, &flat)?;
                Inner::Markdown(out)
            }
            Format::Table => Inner::Table(out, text::Table::new(&flat)),
        };
        Ok(BatchWriter {
            inner,
            schema,
            rows: 0,
        })
    }

    /// Writes one batch. Its columns must match the schema given to [`BatchWriter::new`].
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        self.check_schema(batch)?;
        match &mut self.inner {
            Inner::Csv(w) => w.write(&text::nested_as_json(batch)?)?,
            Inner::Tsv(w) => text::Tsv::rows(w, &text::nested_as_json(batch)?)?,
            Inner::Json(w) => w.write(batch)?,
            Inner::Jsonl(w) => w.write(batch)?,
            Inner::Markdown(w) => text::Markdown::rows(w, &text::nested_as_json(batch)?)?,
            Inner::Table(w, t) => t.rows(w, &text::nested_as_json(batch)?)?,
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Completes the output (JSON's closing `]`, the held table rows), flushes and returns the
    /// writer.
    pub fn finish(self) -> Result<W, ExportError> {
        let mut out = match self.inner {
            Inner::Csv(w) => w.into_inner(),
            Inner::Tsv(w) | Inner::Markdown(w) => w,
            Inner::Json(mut w) => {
                w.finish()?;
                let mut out = w.into_inner();
                out.write_all(b"\n")?;
                out
            }
            Inner::Jsonl(mut w) => {
                w.finish()?;
                w.into_inner()
            }
            Inner::Table(mut w, mut t) => {
                t.finish(&mut w)?;
                w
            }
        };
        out.flush()?;
        Ok(out)
    }

    /// Rows accepted so far (for `table`, including rows held for measuring).
    pub fn rows_written(&self) -> u64 {
        self.rows
    }

    fn check_schema(&self, batch: &RecordBatch) -> Result<(), ExportError> {
        let want = self.schema.fields().iter().map(|f| f.data_type());
        let got = batch.schema_ref().fields().iter().map(|f| f.data_type());
        if batch.num_columns() == self.schema.fields().len() && want.eq(got) {
            return Ok(());
        }
        let describe = |s: &SchemaRef| {
            s.fields()
                .iter()
                .map(|f| format!("{} {}", f.name(), f.data_type()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Err(ExportError::SchemaMismatch {
            expected: describe(&self.schema),
            found: describe(batch.schema_ref()),
        })
    }
}

/// JSON keeps NULL as `null` (arrow leaves the key out by default).
fn json_builder() -> arrow::json::WriterBuilder {
    arrow::json::WriterBuilder::new().with_explicit_nulls(true)
}

/// Writes whole batches to `path`: into a temporary file next to it, renamed into place only
/// when everything was written, so a failure leaves neither a partial file nor a temp file.
/// Returns the number of rows written.
pub fn export_to_file(
    path: &Path,
    format: Format,
    schema: SchemaRef,
    batches: &[RecordBatch],
) -> Result<u64, ExportError> {
    write_file(path, format, schema, batches).map_err(|e| ExportError::File {
        path: path.to_path_buf(),
        source: Box::new(e),
    })
}

fn write_file(
    path: &Path,
    format: Format,
    schema: SchemaRef,
    batches: &[RecordBatch],
) -> Result<u64, ExportError> {
    let file = AtomicFile::create_shared(path)?;
    let mut writer = BatchWriter::new(file, format, schema)?;
    for batch in batches {
        writer.write(batch)?;
    }
    let rows = writer.rows_written();
    writer.finish()?.commit()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{
        Array, ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, StringArray,
    };
    use arrow::datatypes::{DataType, Field, Int64Type, Schema};

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("score", DataType::Float64, true),
        ]))
    }

    /// Row 1: plain; row 2: comma/quote/newline; row 3: NULL name; row 4: empty name;
    /// row 5: ESC and tab and backslash and pipe.
    fn batch() -> RecordBatch {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![
                Some(1),
                Some(22),
                Some(3),
                None,
                Some(5),
            ])),
            Arc::new(StringArray::from(vec![
                Some("plain"),
                Some("a,\"b\"\nc"),
                None,
                Some(""),
                Some("x\u{1b}[2Jy\tz\\|w"),
            ])),
            Arc::new(Float64Array::from(vec![
                Some(1.5),
                Some(-2.0),
                None,
                Some(0.25),
                Some(10.0),
            ])),
        ];
        RecordBatch::try_new(schema(), cols).unwrap()
    }

    fn render(format: Format, batches: &[RecordBatch]) -> String {
        let mut w = BatchWriter::new(Vec::new(), format, schema()).unwrap();
        for b in batches {
            w.write(b).unwrap();
        }
        assert_eq!(
            w.rows_written(),
            batches.iter().map(|b| b.num_rows() as u64).sum::<u64>()
        );
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    #[test]
    fn csv_quotes_and_keeps_values() {
        let out = render(Format::Csv, &[batch()]);
        assert_eq!(
            out,
            "id,name,score\n1,plain,1.5\n22,\"a,\"\"b\"\"\nc\",-2.0\n3,,\n,,0.25\n5,x\u{1b}[2Jy\tz\\|w,10.0\n"
        );
    }

    #[test]
    fn csv_and_friends_print_header_without_rows() {
        assert_eq!(render(Format::Csv, &[]), "id,name,score\n");
        assert_eq!(render(Format::Tsv, &[]), "id\tname\tscore\n");
        assert_eq!(
            render(Format::Markdown, &[]),
            "| id | name | score |\n| ---: | --- | ---: |\n"
        );
        assert_eq!(
            render(Format::Table, &[]),
            "id | name | score\n---+------+------\n"
        );
        assert_eq!(render(Format::Json, &[]), "[]\n");
        assert_eq!(render(Format::Jsonl, &[]), "");
    }

    #[test]
    fn tsv_escapes_and_marks_null() {
        let out = render(Format::Tsv, &[batch()]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 6, "{out}");
        assert_eq!(lines[2], "22\ta,\"b\"\\nc\t-2.0");
        assert_eq!(lines[3], "3\t\\N\t\\N");
        assert_eq!(lines[4], "\\N\t\t0.25");
        // Faithful: ESC stays (TSV is a data format), tab and backslash are escaped.
        assert_eq!(lines[5], "5\tx\u{1b}[2Jy\\tz\\\\|w\t10.0");
    }

    #[test]
    fn json_numbers_nulls_and_strings() {
        let out = render(Format::Json, &[batch(), batch()]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let rows = v.as_array().unwrap();
        assert_eq!(rows.len(), 10);
        assert_eq!(rows[0]["id"], serde_json::json!(1));
        assert!(rows[0]["id"].is_number() && rows[0]["score"].is_number());
        assert_eq!(rows[1]["name"], "a,\"b\"\nc");
        assert!(rows[2]["name"].is_null());
        assert_eq!(rows[3]["name"], "");
        assert!(rows[3]["id"].is_null());
        assert_eq!(rows[4]["name"], "x\u{1b}[2Jy\tz\\|w");
        // Raw ESC never appears: JSON escapes it.
        assert!(!out.contains('\u{1b}'));
    }

    #[test]
    fn jsonl_one_object_per_line() {
        let out = render(Format::Jsonl, &[batch()]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0], r#"{"id":1,"name":"plain","score":1.5}"#);
        assert_eq!(lines[2], r#"{"id":3,"name":null,"score":null}"#);
        assert_eq!(lines[3], r#"{"id":null,"name":"","score":0.25}"#);
    }

    #[test]
    fn markdown_escapes_and_neutralises() {
        let out = render(Format::Markdown, &[batch()]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[2], "| 1 | plain | 1.5 |");
        assert_eq!(lines[3], "| 22 | a,\"b\"<br>c | -2.0 |");
        assert_eq!(lines[4], "| 3 | *NULL* | *NULL* |");
        assert_eq!(lines[5], "| *NULL* |  | 0.25 |");
        assert_eq!(lines[6], "| 5 | x\u{241b}[2Jy\u{2409}z\\\\|w | 10.0 |");
        assert!(!out.contains('\u{1b}'));
    }

    #[test]
    fn table_aligns_and_neutralises() {
        let out = render(Format::Table, &[batch()]);
        let expected = [
            "  id | name        | score",
            "-----+-------------+------",
            "   1 | plain       |   1.5",
            "  22 | a,\"b\"\u{240a}c     |  -2.0",
            "   3 | NULL        |  NULL",
            "NULL |             |  0.25",
            "   5 | x\u{241b}[2Jy\u{2409}z\\|w |  10.0",
            "",
        ]
        .join("\n");
        assert_eq!(out, expected);
        assert!(!out.contains('\u{1b}'));
    }

    #[test]
    fn table_streams_after_sample() {
        let n = TABLE_SAMPLE_ROWS + 5;
        let ids: Vec<i64> = (0..n as i64).collect();
        let b = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)])),
            vec![Arc::new(Int64Array::from(ids))],
        )
        .unwrap();
        let mut out = Vec::new();
        let mut w = BatchWriter::new(&mut out, Format::Table, b.schema()).unwrap();
        w.write(&b).unwrap();
        w.finish().unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), n + 2);
        assert!(text.ends_with("1004\n"));
    }

    #[test]
    fn nested_values_become_json_in_text_formats() {
        let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(1), None]),
            None,
        ]);
        let b = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("l", list.data_type().clone(), true),
                Field::new("ok", DataType::Boolean, true),
            ])),
            vec![
                Arc::new(list),
                Arc::new(BooleanArray::from(vec![true, false])),
            ],
        )
        .unwrap();
        let run = |f: Format| {
            let mut w = BatchWriter::new(Vec::new(), f, b.schema()).unwrap();
            w.write(&b).unwrap();
            String::from_utf8(w.finish().unwrap()).unwrap()
        };
        assert_eq!(run(Format::Csv), "l,ok\n\"[1,null]\",true\n,false\n");
        assert_eq!(run(Format::Tsv), "l\tok\n[1,null]\ttrue\n\\N\tfalse\n");
        assert_eq!(
            run(Format::Jsonl),
            "{\"l\":[1,null],\"ok\":true}\n{\"l\":null,\"ok\":false}\n"
        );
    }

    #[test]
    fn mismatched_batch_is_rejected() {
        let other = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("x", DataType::Utf8, true)])),
            vec![Arc::new(StringArray::from(vec!["a"]))],
        )
        .unwrap();
        let mut w = BatchWriter::new(Vec::new(), Format::Csv, schema()).unwrap();
        let e = w.write(&other).unwrap_err();
        assert!(matches!(e, ExportError::SchemaMismatch { .. }), "{e}");
        assert_eq!(w.rows_written(), 0);
    }

    /// A sink that fails after `limit` bytes.
    struct Failing {
        written: usize,
        limit: usize,
    }
    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.written + buf.len() > self.limit {
                return Err(io::Error::other("disk full"));
            }
            self.written += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn writer_errors_propagate_in_every_format() {
        for f in Format::ALL {
            let sink = Failing {
                written: 0,
                limit: 20,
            };
            let result = BatchWriter::new(sink, f, schema())
                .and_then(|mut w| w.write(&batch()).map(|_| w))
                .and_then(|w| w.finish());
            assert!(result.is_err(), "{f} swallowed the write error");
        }
    }

    fn dir_entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn export_to_file_writes_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let rows = export_to_file(&path, Format::Csv, schema(), &[batch(), batch()]).unwrap();
        assert_eq!(rows, 10);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("id,name,score\n1,plain,1.5\n"));
        assert_eq!(dir_entries(dir.path()), vec!["out.csv"]);
    }

    #[test]
    fn failed_export_leaves_no_partial_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        let bad = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("x", DataType::Utf8, true)])),
            vec![Arc::new(StringArray::from(vec!["a"]))],
        )
        .unwrap();
        // The first batch is written, then the second fails.
        let e = export_to_file(&path, Format::Json, schema(), &[batch(), bad.clone()]).unwrap_err();
        assert!(e.to_string().contains("out.json"), "{e}");
        assert!(
            dir_entries(dir.path()).is_empty(),
            "{:?}",
            dir_entries(dir.path())
        );

        // An existing file survives a failed export untouched.
        std::fs::write(&path, "previous").unwrap();
        assert!(export_to_file(&path, Format::Csv, schema(), &[batch(), bad]).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous");
        assert_eq!(dir_entries(dir.path()), vec!["out.json"]);
    }

    #[test]
    fn export_into_missing_dir_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing/out.csv");
        let e = export_to_file(&path, Format::Csv, schema(), &[batch()]).unwrap_err();
        assert!(e.to_string().contains("missing/out.csv"), "{e}");
    }

    #[test]
    fn format_names_and_extensions() {
        for f in Format::ALL {
            assert_eq!(
                <Format as clap::ValueEnum>::from_str(f.name(), false).unwrap(),
                f
            );
        }
        assert_eq!(
            Format::from_path(Path::new("a/b.NDJSON")),
            Some(Format::Jsonl)
        );
        assert_eq!(Format::from_path(Path::new("x.md")), Some(Format::Markdown));
        assert_eq!(Format::from_path(Path::new("x")), None);
        assert_eq!(Format::Markdown.extension(), "md");
    }
}
