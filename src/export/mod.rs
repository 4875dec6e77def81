//! Writing results out: CSV and JSON through arrow's own writers, Parquet through the
//! `parquet` crate's `ArrowWriter`, Arrow IPC files through arrow's `FileWriter`,
//! TSV/Markdown/aligned table for the rest. Everything streams batch by batch; files are
//! written atomically.
//!
//! Faithfulness: CSV, TSV and JSON keep values as they are (TSV escapes only what its format
//! must; JSON writes decimals as exact number literals). The human formats (`table`,
//! `markdown`) make control characters visible instead; Markdown also escapes what GFM would
//! interpret, so a rendered table shows the values. CSV has no NULL: NULL and the empty
//! string both become an empty field (RFC 4180, what spreadsheets expect); TSV (`\N`) and
//! JSON (`null`) keep the difference. Parquet and Arrow keep the columns' types exactly.

mod binary;
mod text;

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;

use crate::store::AtomicFile;

pub use binary::PARQUET_ROW_GROUP_ROWS;
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
    /// Apache Parquet (zstd-compressed), types kept exactly. Binary: write it to a file.
    Parquet,
    /// An Arrow IPC file (Feather v2), types kept exactly. Binary: write it to a file.
    #[value(aliases = ["ipc", "feather"])]
    Arrow,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Table,
        Format::Csv,
        Format::Tsv,
        Format::Json,
        Format::Jsonl,
        Format::Markdown,
        Format::Parquet,
        Format::Arrow,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Markdown => "markdown",
            Format::Parquet => "parquet",
            Format::Arrow => "arrow",
        }
    }

    /// Binary formats are not for a terminal (and one output holds one result of them).
    pub fn is_binary(self) -> bool {
        matches!(self, Format::Parquet | Format::Arrow)
    }

    /// The usual file extension (`table` output is plain text).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Markdown => "md",
            other => other.name(),
        }
    }

    /// Guesses the format from a file name's extension (`.ndjson` counts as JSON lines;
    /// `.arrow`, `.ipc` and `.feather` are Arrow IPC files).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "tsv" | "tab" => Some(Format::Tsv),
            "json" => Some(Format::Json),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "md" | "markdown" => Some(Format::Markdown),
            "txt" => Some(Format::Table),
            "parquet" => Some(Format::Parquet),
            "arrow" | "ipc" | "feather" => Some(Format::Arrow),
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
    #[error("cannot encode the result as Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("a batch does not match the result's columns: expected {expected}, got {found}")]
    SchemaMismatch { expected: String, found: String },
    /// The destination exists and the caller asked not to replace it ([`Overwrite::Refuse`]).
    #[error("{} already exists (not overwritten)", path.display())]
    Exists { path: PathBuf },
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
    Parquet(Box<parquet::arrow::ArrowWriter<W>>),
    Arrow(Box<arrow::ipc::writer::FileWriter<W>>),
}

/// Streams record batches out in one format. Header-bearing formats print their header at
/// creation, so an empty result still gets one. `table` holds up to [`TABLE_SAMPLE_ROWS`] rows
/// to measure column widths before it prints; Parquet holds the current row group (at most
/// [`PARQUET_ROW_GROUP_ROWS`] rows, encoded and compressed) until it is complete.
///
/// `W: Send` because Parquet's writer requires it; an empty or failed Parquet/Arrow output is
/// not a valid file, so write them through [`AtomicFile`] (as [`export_file`] does).
pub struct BatchWriter<W: Write> {
    inner: Inner<W>,
    schema: SchemaRef,
    rows: u64,
}

impl<W: Write + Send> BatchWriter<W> {
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
            Format::Parquet => Inner::Parquet(Box::new(binary::parquet_writer(out, &schema)?)),
            Format::Arrow => Inner::Arrow(Box::new(binary::ipc_writer(out, &schema)?)),
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
            Inner::Parquet(w) => w.write(&binary::conform(batch, &self.schema)?)?,
            Inner::Arrow(w) => w.write(&binary::conform(batch, &self.schema)?)?,
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
            // Both write their footer, flush and hand the writer back.
            Inner::Parquet(w) => w.into_inner()?,
            Inner::Arrow(w) => w.into_inner()?,
        };
        out.flush()?;
        Ok(out)
    }

    /// The columns the output was started with.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
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

/// What [`export_file`] does when the destination already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Replace it (atomically, keeping its permissions): the user confirmed, or asked for it.
    Replace,
    /// Fail with [`ExportError::Exists`] and leave it untouched, also when it appears while
    /// the export runs.
    Refuse,
}

/// Writes whole batches to `path`: into a temporary file next to it, renamed into place only
/// when everything was written, so a failure leaves neither a partial file nor a temp file.
/// An existing file is replaced or kept as `overwrite` says; kept, the error is
/// [`ExportError::Exists`] (not wrapped in [`ExportError::File`], so a caller can match it
/// and ask before trying again with [`Overwrite::Replace`]). Returns the number of rows
/// written.
pub fn export_file(
    path: &Path,
    format: Format,
    schema: SchemaRef,
    batches: &[RecordBatch],
    overwrite: Overwrite,
) -> Result<u64, ExportError> {
    let mut file = FileExport::create(path, format, schema, overwrite)?;
    for batch in batches {
        file.write(batch)?;
    }
    file.finish()
}

/// [`export_file`] replacing any existing file (what the TUI's export did so far).
pub fn export_to_file(
    path: &Path,
    format: Format,
    schema: SchemaRef,
    batches: &[RecordBatch],
) -> Result<u64, ExportError> {
    export_file(path, format, schema, batches, Overwrite::Replace)
}

/// A file export fed batch by batch (rows can still be arriving from the service): written to
/// a temporary sibling that becomes `path` only in [`FileExport::finish`]. Dropped unfinished
/// (cancelled, failed), it leaves nothing behind. Errors are as [`export_file`] describes.
pub struct FileExport {
    path: PathBuf,
    writer: BatchWriter<Counting<AtomicFile>>,
    overwrite: Overwrite,
    bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Counts the bytes that go through it (for an export's progress).
struct Counting<W> {
    inner: W,
    bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl FileExport {
    pub fn create(
        path: &Path,
        format: Format,
        schema: SchemaRef,
        overwrite: Overwrite,
    ) -> Result<Self, ExportError> {
        // Checked first so nothing is encoded in vain; the final rename checks again. Only a
        // regular file (or a link to one) is "replaced": a directory is refused by
        // `AtomicFile`, and a device or FIFO is written into, not replaced.
        if overwrite == Overwrite::Refuse && std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            return Err(ExportError::Exists {
                path: path.to_path_buf(),
            });
        }
        let bytes = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let start = || -> Result<BatchWriter<Counting<AtomicFile>>, ExportError> {
            let inner = AtomicFile::create_shared(path)?;
            let counting = Counting {
                inner,
                bytes: bytes.clone(),
            };
            BatchWriter::new(counting, format, schema)
        };
        let writer = start().map_err(|e| Self::wrap(path, overwrite, e))?;
        Ok(FileExport {
            path: path.to_path_buf(),
            writer,
            overwrite,
            bytes,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        self.writer
            .write(batch)
            .map_err(|e| Self::wrap(&self.path, self.overwrite, e))
    }

    pub fn rows_written(&self) -> u64 {
        self.writer.rows_written()
    }

    /// Bytes encoded so far (Parquet's current row group is counted when it is flushed).
    pub fn bytes_written(&self) -> u64 {
        self.bytes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Completes the file and moves it into place; returns the number of rows written.
    pub fn finish(self) -> Result<u64, ExportError> {
        let FileExport {
            path,
            writer,
            overwrite,
            ..
        } = self;
        let rows = writer.rows_written();
        let done = writer.finish().and_then(|counting| {
            let file = counting.inner;
            match overwrite {
                Overwrite::Replace => file.commit()?,
                Overwrite::Refuse => file.commit_no_clobber()?,
            }
            Ok(())
        });
        done.map_err(|e| Self::wrap(&path, overwrite, e))?;
        Ok(rows)
    }

    fn wrap(path: &Path, overwrite: Overwrite, e: ExportError) -> ExportError {
        match e {
            ExportError::Io(e)
                if overwrite == Overwrite::Refuse && e.kind() == io::ErrorKind::AlreadyExists =>
            {
                ExportError::Exists {
                    path: path.to_path_buf(),
                }
            }
            e => ExportError::File {
                path: path.to_path_buf(),
                source: Box::new(e),
            },
        }
    }
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
        // The backslash and the pipe both escaped: GFM renders `z\|w` again.
        assert_eq!(lines[6], "| 5 | x\u{241b}\\[2Jy\u{2409}z\\\\\\|w | 10.0 |");
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
        assert_eq!(
            Format::from_path(Path::new("x.parquet")),
            Some(Format::Parquet)
        );
        for ext in ["arrow", "ipc", "Feather"] {
            let path = PathBuf::from(format!("x.{ext}"));
            assert_eq!(Format::from_path(&path), Some(Format::Arrow), "{ext}");
        }
        assert_eq!(Format::Parquet.extension(), "parquet");
        assert_eq!(Format::Arrow.extension(), "arrow");
        assert_eq!(Format::from_path(Path::new("x")), None);
        assert_eq!(Format::Markdown.extension(), "md");
    }

    fn read_parquet(bytes: Vec<u8>) -> Vec<RecordBatch> {
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(
            bytes,
        ))
        .unwrap()
        .build()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    fn read_ipc(bytes: Vec<u8>) -> Vec<RecordBatch> {
        arrow::ipc::reader::FileReader::try_new(io::Cursor::new(bytes), None)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn binary_formats_round_trip_nested_values() {
        let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(1), None]),
            None,
            Some(vec![]),
        ]);
        let b = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("l", list.data_type().clone(), true),
                Field::new("s", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(list),
                Arc::new(StringArray::from(vec![Some("a\n\"b\""), None, Some("")])),
            ],
        )
        .unwrap();
        for f in [Format::Parquet, Format::Arrow] {
            let mut w = BatchWriter::new(Vec::new(), f, b.schema()).unwrap();
            w.write(&b).unwrap();
            w.write(&b.slice(1, 2)).unwrap();
            assert_eq!(w.rows_written(), 5);
            let bytes = w.finish().unwrap();
            let read = match f {
                Format::Parquet => read_parquet(bytes),
                _ => read_ipc(bytes),
            };
            let read = arrow::compute::concat_batches(&b.schema(), &read).unwrap();
            let want =
                arrow::compute::concat_batches(&b.schema(), &[b.clone(), b.slice(1, 2)]).unwrap();
            assert_eq!(read, want, "{f}");
        }
    }

    #[test]
    fn binary_formats_write_a_valid_empty_file() {
        assert!(read_parquet(render_bytes(Format::Parquet, &[])).is_empty());
        assert!(read_ipc(render_bytes(Format::Arrow, &[])).is_empty());
        // The schema is there even without rows.
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            bytes::Bytes::from(render_bytes(Format::Parquet, &[])),
        )
        .unwrap();
        assert_eq!(reader.schema().fields().len(), 3);
    }

    fn render_bytes(format: Format, batches: &[RecordBatch]) -> Vec<u8> {
        let mut w = BatchWriter::new(Vec::new(), format, schema()).unwrap();
        for b in batches {
            w.write(b).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn binary_formats_store_the_declared_schema() {
        // A batch whose field names and nullability differ from the declared schema (as a
        // connector's may) is written under the declared one.
        let renamed = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("a", DataType::Int64, true),
                Field::new("b", DataType::Utf8, true),
                Field::new("c", DataType::Float64, true),
            ])),
            batch().columns().to_vec(),
        )
        .unwrap();
        for f in [Format::Parquet, Format::Arrow] {
            let bytes = render_bytes(f, std::slice::from_ref(&renamed));
            let read = match f {
                Format::Parquet => read_parquet(bytes),
                _ => read_ipc(bytes),
            };
            assert_eq!(read, vec![batch()], "{f}");
        }

        // A NULL where the declared schema says there is none is an error, not a bad file.
        let strict = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        let nulls = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)])),
            vec![Arc::new(Int64Array::from(vec![Some(1), None]))],
        )
        .unwrap();
        for f in [Format::Parquet, Format::Arrow] {
            let mut w = BatchWriter::new(Vec::new(), f, strict.clone()).unwrap();
            assert!(w.write(&nulls).is_err(), "{f}");
        }
    }

    #[test]
    fn parquet_splits_row_groups_and_compresses() {
        let n = PARQUET_ROW_GROUP_ROWS + 10;
        let b = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)])),
            vec![Arc::new(Int64Array::from_iter_values(0..n as i64))],
        )
        .unwrap();
        let mut w = BatchWriter::new(Vec::new(), Format::Parquet, b.schema()).unwrap();
        w.write(&b).unwrap();
        let bytes = w.finish().unwrap();
        let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            bytes::Bytes::from(bytes),
        )
        .unwrap();
        let meta = builder.metadata();
        assert_eq!(meta.num_row_groups(), 2);
        assert_eq!(meta.row_group(0).num_rows(), PARQUET_ROW_GROUP_ROWS as i64);
        assert!(matches!(
            meta.row_group(0).column(0).compression(),
            parquet::basic::Compression::ZSTD(_)
        ));
    }

    #[test]
    fn refused_overwrite_keeps_the_file_and_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keep.arrow");
        std::fs::write(&path, "previous").unwrap();
        let e = export_file(
            &path,
            Format::Arrow,
            schema(),
            &[batch()],
            Overwrite::Refuse,
        )
        .unwrap_err();
        assert!(matches!(e, ExportError::Exists { .. }), "{e:?}");
        assert!(e.to_string().contains("keep.arrow"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous");
        assert_eq!(dir_entries(dir.path()), vec!["keep.arrow"]);

        // A new file is fine with Refuse.
        let fresh = dir.path().join("new.arrow");
        assert_eq!(
            export_file(
                &fresh,
                Format::Arrow,
                schema(),
                &[batch()],
                Overwrite::Refuse
            )
            .unwrap(),
            5
        );
        assert_eq!(read_ipc(std::fs::read(&fresh).unwrap()), vec![batch()]);
    }
}
