//! The embedded engine: Apache DataFusion over CSV/TSV/Parquet/JSON files and the bundled
//! sample data. Results stream: each `RecordBatch` goes to the sink as DataFusion produces it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use datafusion::datasource::MemTable;
use datafusion::prelude::{
    CsvReadOptions, JsonReadOptions, ParquetReadOptions, SessionConfig, SessionContext,
};
use tokio_util::sync::CancellationToken;

use super::local_engine::{EngineOutput, EngineRun};
use super::{
    CatalogNode, CatalogPath, Connector, ConnectorError, JobEvent, JobSink, JobSummary, NodeKind,
    QueryRequest,
};
use crate::sql::quote_ident;

/// The bundled sample tables, compiled into the binary so they work wherever it runs.
const SAMPLES: &[(&str, &[u8])] = &[
    (
        "trips.parquet",
        include_bytes!("../../assets/sample/trips.parquet"),
    ),
    ("zones.csv", include_bytes!("../../assets/sample/zones.csv")),
    (
        "vendors.csv",
        include_bytes!("../../assets/sample/vendors.csv"),
    ),
    (
        "events.json",
        include_bytes!("../../assets/sample/events.json"),
    ),
];

/// Names of the sample tables, for help texts and tests.
pub fn sample_table_names() -> Vec<String> {
    SAMPLES.iter().map(|(f, _)| table_name_for(f)).collect()
}

pub struct LocalConnector {
    ctx: SessionContext,
    /// What could not be registered (a malformed file, a missing path): its table name (or
    /// path) and why. Listed in the catalog and named when queried; the rest works.
    broken: BTreeMap<String, String>,
    /// The file behind each table registered from `paths`, to name it in the engine's errors.
    files: BTreeMap<String, PathBuf>,
}

impl LocalConnector {
    /// A context with the sample tables and every data file found in `paths` (directories are
    /// scanned one level deep; a path may also name a single file).
    pub async fn new(paths: &[PathBuf]) -> Result<Self, ConnectorError> {
        let config = SessionConfig::new().with_information_schema(true);
        let ctx = SessionContext::new_with_config(config);
        let mut taken = BTreeSet::new();
        for (file, bytes) in SAMPLES {
            let name = table_name_for(file);
            let batches = decode_embedded(file, bytes).map_err(|e| {
                ConnectorError::Config(format!("sample table `{name}` could not be read: {e}"))
            })?;
            let schema = batches
                .first()
                .map(|b| b.schema())
                .ok_or_else(|| ConnectorError::Config(format!("sample table `{name}` is empty")))?;
            let table = MemTable::try_new(schema, vec![batches])
                .map_err(|e| ConnectorError::Config(e.to_string()))?;
            ctx.register_table(name.as_str(), Arc::new(table))
                .map_err(|e| ConnectorError::Config(e.to_string()))?;
            taken.insert(name);
        }
        let mut broken = BTreeMap::new();
        let mut files = BTreeMap::new();
        for path in paths {
            let found = match data_files(path) {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!("local path skipped: {e}");
                    broken.insert(path.display().to_string(), e.to_string());
                    continue;
                }
            };
            for file in found {
                let name = unique_name(&table_name_for(&file.to_string_lossy()), &mut taken);
                // A malformed file may panic inside a reader: that is this file's error.
                let registered = crate::panics::contained(register_file(&ctx, &name, &file))
                    .await
                    .unwrap_or_else(|panic| {
                        Err(ConnectorError::Config(format!(
                            "`{}`: the file could not be read: {panic}",
                            file.display()
                        )))
                    });
                match registered {
                    Ok(()) => {
                        files.insert(name, file);
                    }
                    // One bad file is its own table's problem, never the connection's.
                    Err(e) => {
                        tracing::warn!("local file skipped: {e}");
                        broken.insert(name, e.to_string());
                    }
                }
            }
        }
        Ok(LocalConnector { ctx, broken, files })
    }
}

#[async_trait]
impl Connector for LocalConnector {
    async fn children(&self, path: &CatalogPath) -> Result<Vec<CatalogNode>, ConnectorError> {
        let schema = self
            .ctx
            .catalog("datafusion")
            .and_then(|c| c.schema("public"))
            .ok_or_else(|| ConnectorError::Query("the local catalog is missing".into()))?;
        match path.as_slice() {
            [] => {
                let mut names = schema.table_names();
                names.sort();
                let tables = names.into_iter().map(|name| CatalogNode {
                    query: Some(format!("SELECT * FROM {} LIMIT 100", quote_ident(&name))),
                    name,
                    kind: NodeKind::Table,
                    detail: None,
                    has_children: true,
                    action: None,
                });
                let broken = self.broken.iter().map(|(name, error)| {
                    CatalogNode::new(name.clone(), NodeKind::Broken).with_detail(error.clone())
                });
                Ok(tables.chain(broken).collect())
            }
            [table] => {
                if let Some(error) = self.broken.get(table) {
                    return Err(ConnectorError::Query(error.clone()));
                }
                let provider = schema
                    .table(table)
                    .await
                    .map_err(|e| ConnectorError::Query(e.to_string()))?
                    .ok_or_else(|| ConnectorError::Query(format!("table `{table}` is gone")))?;
                Ok(provider
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| CatalogNode {
                        name: f.name().clone(),
                        kind: NodeKind::Column,
                        detail: Some(format!(
                            "{}{}",
                            f.data_type(),
                            if f.is_nullable() { "" } else { " NOT NULL" }
                        )),
                        has_children: false,
                        query: None,
                        action: None,
                    })
                    .collect())
            }
            _ => Ok(Vec::new()),
        }
    }

    async fn execute(
        &self,
        req: QueryRequest,
        sink: JobSink,
        cancel: CancellationToken,
    ) -> Result<JobSummary, ConnectorError> {
        super::local_limits::check_statement(&req.sql).map_err(ConnectorError::Query)?;
        sink.send(JobEvent::Status("RUNNING".into())).await?;
        let mut run = EngineRun::start(&self.ctx, req.sql.clone(), cancel.clone())
            .map_err(|e| self.explained(e, &req.sql))?;
        let mut schema: Option<SchemaRef> = None;
        let mut rows = 0u64;
        loop {
            // Returning drops the run, which stops the engine's work.
            let next = tokio::select! {
                _ = cancel.cancelled() => return Err(ConnectorError::Cancelled),
                next = run.output.recv() => next,
            };
            match next {
                None => break,
                Some(EngineOutput::Schema(s)) => {
                    sink.send(JobEvent::Schema(s.clone())).await?;
                    schema = Some(s);
                }
                Some(EngineOutput::Batch(batch)) => {
                    rows += batch.num_rows() as u64;
                    sink.send(JobEvent::Batch(batch)).await?;
                }
            }
        }
        run.finish()
            .await
            .map_err(|e| self.explained(e, &req.sql))?;
        let message = schema
            .is_some_and(|s| s.fields().is_empty())
            .then(|| "statement executed (no result set)".to_string());
        Ok(JobSummary {
            rows,
            message,
            ..JobSummary::default()
        })
    }
}

impl LocalConnector {
    /// The engine's error with what it cannot know: a table it does not find that is a file
    /// which could not be read says so; files are named by their whole path (the engine names
    /// them as object-store paths, without the leading `/`), and an error that names no file
    /// (a value that does not parse, deep in a CSV) says which files `sql` reads.
    fn explained(&self, e: ConnectorError, sql: &str) -> ConnectorError {
        let ConnectorError::Query(text) = e else {
            return e;
        };
        if text.contains("not found") {
            for (name, error) in &self.broken {
                if text.contains(&format!("'datafusion.public.{name}'"))
                    || text.contains(&format!("'{name}'"))
                {
                    return ConnectorError::Query(format!(
                        "table `{name}` could not be read, so it is not registered: {error}"
                    ));
                }
            }
        }
        let text = with_whole_paths(&text, self.files.values());
        let read = self.files_read_by(sql);
        let named = read
            .iter()
            .any(|(_, file)| text.contains(&*file.to_string_lossy()));
        if read.is_empty() || named {
            return ConnectorError::Query(text);
        }
        let list: Vec<String> = read
            .iter()
            .map(|(table, file)| format!("`{table}` = {}", file.display()))
            .collect();
        ConnectorError::Query(format!("{text}\n(the statement reads {})", list.join(", ")))
    }

    /// The tables from `paths` that `sql` reads, with their files (none when it does not parse).
    fn files_read_by(&self, sql: &str) -> Vec<(&str, &Path)> {
        let state = self.ctx.state();
        let dialect = state.config().options().sql_parser.dialect;
        let Ok(statement) = state.sql_to_statement(sql, &dialect) else {
            return Vec::new();
        };
        let references = state
            .resolve_table_references(&statement)
            .unwrap_or_default();
        let mut read: Vec<(&str, &Path)> = references
            .iter()
            .filter_map(|r| self.files.get_key_value(r.table()))
            .map(|(table, file)| (table.as_str(), file.as_path()))
            .collect();
        read.dedup();
        read
    }
}

/// `text` with each of `files` that appears without its leading `/` written whole.
fn with_whole_paths<'a>(text: &str, files: impl Iterator<Item = &'a PathBuf>) -> String {
    let mut out = text.to_string();
    for file in files {
        let whole = file.to_string_lossy();
        let Some(relative) = whole.strip_prefix('/') else {
            continue;
        };
        let mut fixed = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find(relative) {
            let (before, after) = rest.split_at(at);
            fixed.push_str(before);
            if !fixed.ends_with('/') {
                fixed.push('/');
            }
            fixed.push_str(relative);
            rest = &after[relative.len()..];
        }
        fixed.push_str(rest);
        out = fixed;
    }
    out
}

/// The engine's planning error, in words where its own are a debug form.
pub(super) fn planning_error(e: datafusion::error::DataFusionError) -> ConnectorError {
    let text = e.to_string();
    match text.split_once("RecursionLimitExceeded (current limit: ") {
        Some((_, rest)) => {
            let limit = rest.trim_end_matches(')');
            ConnectorError::Query(format!(
                "the statement nests deeper than the SQL parser allows ({limit} levels of \
                 parentheses, subqueries or function calls): flatten it, e.g. with CTEs"
            ))
        }
        None => ConnectorError::Query(text),
    }
}

/// A table name from a file name: the stem, lower-cased, anything but `[a-z0-9_]` as `_`,
/// prefixed with `t_` when it would start with a digit.
pub fn table_name_for(file: &str) -> String {
    let stem = Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        name = "table".into();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "t_");
    }
    name
}

fn unique_name(base: &str, taken: &mut BTreeSet<String>) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}_{n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Csv,
    Tsv,
    Parquet,
    Json,
}

fn file_kind(path: &Path) -> Option<FileKind> {
    let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
    match ext.as_str() {
        "csv" => Some(FileKind::Csv),
        "tsv" => Some(FileKind::Tsv),
        "parquet" | "pq" => Some(FileKind::Parquet),
        "json" | "ndjson" | "jsonl" => Some(FileKind::Json),
        _ => None,
    }
}

/// Data files directly in `path` (or `path` itself when it is a file), sorted by name.
fn data_files(path: &Path) -> Result<Vec<PathBuf>, ConnectorError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| ConnectorError::Config(format!("local path `{}`: {e}", path.display())))?;
    if meta.is_file() {
        return Ok(file_kind(path)
            .map(|_| vec![path.to_path_buf()])
            .unwrap_or_default());
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| ConnectorError::Config(format!("local path `{}`: {e}", path.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && file_kind(p).is_some())
        .collect();
    files.sort();
    Ok(files)
}

async fn register_file(
    ctx: &SessionContext,
    name: &str,
    file: &Path,
) -> Result<(), ConnectorError> {
    let location = file.to_string_lossy().to_string();
    let ext = file
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let result = match file_kind(file) {
        // Quoted values may hold line breaks (RFC 4180; Python's `csv`, Excel): the engine must
        // not split such a file at an arbitrary newline to read it in parallel.
        Some(kind @ (FileKind::Csv | FileKind::Tsv)) => {
            let delimiter = if kind == FileKind::Tsv { b'\t' } else { b',' };
            // The engine infers a schema from byte chunks read one by one, and a chunk that
            // ends inside a quoted value breaks it: the schema is inferred here, from records.
            let schema = infer_csv_schema(file, delimiter)?;
            let options = CsvReadOptions::new()
                .delimiter(delimiter)
                .file_extension(&ext)
                .schema(&schema)
                .newlines_in_values(true);
            ctx.register_csv(name, &location, options).await
        }
        Some(FileKind::Parquet) => {
            check_parquet(file)?;
            let options = ParquetReadOptions {
                file_extension: &ext,
                ..Default::default()
            };
            ctx.register_parquet(name, &location, options).await
        }
        Some(FileKind::Json) => {
            let options = JsonReadOptions::default().file_extension(&ext);
            ctx.register_json(name, &location, options).await
        }
        None => return Ok(()),
    };
    result.map_err(|e| ConnectorError::Config(format!("`{}`: {e}", file.display())))
}

/// Records read to infer a CSV file's column types (the engine's own default).
const CSV_INFER_RECORDS: usize = 1_000;

/// A CSV/TSV file's schema from its header and first records, quoted line breaks included.
fn infer_csv_schema(
    file: &Path,
    delimiter: u8,
) -> Result<arrow::datatypes::Schema, ConnectorError> {
    let bad = |why: String| ConnectorError::Config(format!("`{}`: {why}", file.display()));
    let reader = std::fs::File::open(file).map_err(|e| bad(format!("cannot be read: {e}")))?;
    let format = arrow::csv::reader::Format::default()
        .with_header(true)
        .with_delimiter(delimiter);
    format
        .infer_schema(std::io::BufReader::new(reader), Some(CSV_INFER_RECORDS))
        .map(|(schema, _)| schema)
        .map_err(|e| bad(format!("is not a readable CSV file: {e}")))
}

/// Checks a Parquet file's frame before any reader sees it: `PAR1` at both ends and a footer
/// length that fits in the file. (A reader trusting a bad footer length panicked.)
fn check_parquet(file: &Path) -> Result<(), ConnectorError> {
    use std::io::{Read, Seek, SeekFrom};
    const MAGIC: &[u8; 4] = b"PAR1";
    let bad = |why: String| ConnectorError::Config(format!("`{}`: {why}", file.display()));
    let io_error = |e: std::io::Error| bad(format!("cannot be read: {e}"));
    let mut f = std::fs::File::open(file).map_err(io_error)?;
    let size = f.metadata().map_err(io_error)?.len();
    if size < 12 {
        return Err(bad(format!(
            "is not a Parquet file ({size} bytes, too short for one)"
        )));
    }
    let mut head = [0u8; 4];
    f.read_exact(&mut head).map_err(io_error)?;
    let mut tail = [0u8; 8];
    f.seek(SeekFrom::End(-8)).map_err(io_error)?;
    f.read_exact(&mut tail).map_err(io_error)?;
    if &head != MAGIC || &tail[4..] != MAGIC {
        return Err(bad(
            "is not a Parquet file (no `PAR1` marker at its start and end)".into(),
        ));
    }
    let footer = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if footer + 12 > size {
        return Err(bad(format!(
            "is not a valid Parquet file: its footer claims {footer} bytes, the file has {size}"
        )));
    }
    Ok(())
}

/// Decodes one embedded sample file into record batches.
fn decode_embedded(file: &str, bytes: &'static [u8]) -> Result<Vec<RecordBatch>, String> {
    match file_kind(Path::new(file)) {
        Some(FileKind::Parquet) => {
            let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                bytes::Bytes::from_static(bytes),
            )
            .and_then(|b| b.build())
            .map_err(|e| e.to_string())?;
            reader
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())
        }
        Some(FileKind::Csv) => {
            let format = arrow::csv::reader::Format::default().with_header(true);
            let (schema, _) = format
                .infer_schema(Cursor::new(bytes), Some(1000))
                .map_err(|e| e.to_string())?;
            arrow::csv::ReaderBuilder::new(Arc::new(schema))
                .with_format(format)
                .build(Cursor::new(bytes))
                .map_err(|e| e.to_string())?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())
        }
        Some(FileKind::Json) => {
            let (schema, _) =
                arrow::json::reader::infer_json_schema_from_seekable(Cursor::new(bytes), None)
                    .map_err(|e| e.to_string())?;
            arrow::json::ReaderBuilder::new(Arc::new(schema))
                .build(Cursor::new(bytes))
                .map_err(|e| e.to_string())?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())
        }
        _ => Err(format!("unsupported sample file `{file}`")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::{Duration, Instant};
    use tokio::sync::mpsc;

    /// A scan of 10^11 generated rows: only a cancel ends it quickly.
    pub(crate) const ENDLESS: &str = "SELECT sum(value % 7) FROM range(100000000000)";

    async fn run(
        c: &LocalConnector,
        sql: &str,
        cancel: CancellationToken,
    ) -> (Result<JobSummary, ConnectorError>, Vec<JobEvent>) {
        let (tx, mut rx) = mpsc::channel(4);
        let exec = c.execute(QueryRequest::new(sql), JobSink::new(1, tx), cancel);
        let collect = async {
            let mut events = Vec::new();
            while let Some((_, ev)) = rx.recv().await {
                events.push(ev);
            }
            events
        };
        tokio::join!(exec, collect)
    }

    #[tokio::test]
    async fn sample_tables_are_browsable() {
        let c = LocalConnector::new(&[]).await.unwrap();
        let tables = c.children(&vec![]).await.unwrap();
        let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        for t in sample_table_names() {
            assert!(names.contains(&t.as_str()), "{t} missing from {names:?}");
        }
        let trips = tables.iter().find(|t| t.name == "trips").unwrap();
        assert_eq!(
            trips.query.as_deref(),
            Some("SELECT * FROM trips LIMIT 100")
        );
        let cols = c.children(&vec!["trips".into()]).await.unwrap();
        let fare = cols.iter().find(|c| c.name == "fare_amount").unwrap();
        assert_eq!(fare.kind, NodeKind::Column);
        assert!(
            fare.detail
                .as_deref()
                .unwrap_or("")
                .starts_with("Decimal128"),
            "{fare:?}"
        );
    }

    #[tokio::test]
    async fn results_stream_in_several_batches() {
        let c = LocalConnector::new(&[]).await.unwrap();
        let (result, events) = run(&c, "SELECT * FROM trips", CancellationToken::new()).await;
        assert_eq!(result.unwrap().rows, 30_000);
        let batches = events
            .iter()
            .filter(|e| matches!(e, JobEvent::Batch(_)))
            .count();
        assert!(batches > 1, "{batches} batch(es)");
        assert!(matches!(events.first(), Some(JobEvent::Status(_))));
        assert!(
            events
                .iter()
                .any(|e| matches!(e, JobEvent::Schema(s) if s.fields().len() == 11))
        );
    }

    #[tokio::test]
    async fn a_query_error_is_the_engines_message() {
        let c = LocalConnector::new(&[]).await.unwrap();
        let (result, _) = run(&c, "SELECT * FROM no_such_table", CancellationToken::new()).await;
        let e = result.unwrap_err().to_string();
        assert!(e.contains("no_such_table"), "{e}");
    }

    #[tokio::test]
    async fn cancel_stops_a_long_scan() {
        let c = LocalConnector::new(&[]).await.unwrap();
        let cancel = CancellationToken::new();
        let later = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            later.cancel();
        });
        let started = Instant::now();
        let (result, _) = run(&c, ENDLESS, cancel).await;
        assert!(
            matches!(result, Err(ConnectorError::Cancelled)),
            "{result:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "took {:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn files_in_configured_paths_become_tables() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("My People.csv"),
            "id,name\n1,ada\n2,grace\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("events.ndjson"), "{\"a\":1}\n{\"a\":2}\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not data").unwrap();
        let c = LocalConnector::new(&[dir.path().to_path_buf()])
            .await
            .unwrap();
        let (result, _) = run(
            &c,
            "SELECT count(*) FROM my_people",
            CancellationToken::new(),
        )
        .await;
        assert_eq!(result.unwrap().rows, 1);
        // `events` is a sample table already: the file's table gets a suffix.
        let (result, _) = run(&c, "SELECT sum(a) FROM events_2", CancellationToken::new()).await;
        assert!(result.is_ok(), "{result:?}");
        // A missing path is listed as broken; the connection still works.
        let missing = LocalConnector::new(&[dir.path().join("nope")])
            .await
            .unwrap();
        let nodes = missing.children(&vec![]).await.unwrap();
        assert!(
            nodes
                .iter()
                .any(|n| n.kind == NodeKind::Broken && n.name.ends_with("nope")),
            "{nodes:?}"
        );
    }

    /// The error of the table `name` of a connection holding a broken file.
    async fn broken_table_error(c: &LocalConnector, name: &str) -> String {
        let nodes = c.children(&vec![]).await.unwrap();
        let node = nodes.iter().find(|n| n.name == name).expect("listed");
        assert_eq!(node.kind, NodeKind::Broken, "{node:?}");
        let sql = format!("SELECT * FROM {name}");
        let (result, _) = run(c, &sql, CancellationToken::new()).await;
        let queried = result.unwrap_err().to_string();
        assert!(
            queried.contains(node.detail.as_deref().unwrap()),
            "{queried}"
        );
        queried
    }

    #[tokio::test]
    async fn a_malformed_parquet_file_is_an_error_naming_it() {
        // Issue 15: these made the Parquet reader panic, whatever the query.
        let cases: [(&str, &[u8], &str); 3] = [
            (
                "bad.parquet",
                b"PAR1 this is not parquet at all PAR1",
                "footer claims",
            ),
            ("short.parquet", b"PAR1PAR1", "too short"),
            (
                "text.parquet",
                b"id,name\n1,ada\n2,grace\n",
                "no `PAR1` marker",
            ),
        ];
        for (name, bytes, why) in cases {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let c = LocalConnector::new(std::slice::from_ref(&path))
                .await
                .unwrap();
            let table = table_name_for(name);
            let m = broken_table_error(&c, &table).await;
            assert!(m.contains(&*path.to_string_lossy()), "{m}");
            assert!(m.contains(why), "{m}");
        }
    }

    #[tokio::test]
    async fn one_bad_file_is_its_own_tables_problem() {
        // Issue 16.6: one undecodable file made every query of the connection fail.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("good.csv"), "id,name\n1,ada\n").unwrap();
        std::fs::write(dir.path().join("bad.csv"), b"id,name\n1,\xff\xfe\x00ab\n").unwrap();
        let c = LocalConnector::new(&[dir.path().to_path_buf()])
            .await
            .unwrap();
        let (good, _) = run(&c, "SELECT * FROM good", CancellationToken::new()).await;
        assert_eq!(good.unwrap().rows, 1);
        let m = broken_table_error(&c, "bad").await;
        let whole = dir.path().join("bad.csv");
        assert!(m.contains(&format!("`{}`", whole.display())), "{m}");
    }

    #[tokio::test]
    async fn a_bad_value_deep_in_a_file_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("id,name\n");
        for i in 0..3000 {
            text.push_str(&format!("{i},n{i}\n"));
        }
        text.push_str("oops,x\n");
        let file = dir.path().join("late.csv");
        std::fs::write(&file, text).unwrap();
        let c = LocalConnector::new(&[dir.path().to_path_buf()])
            .await
            .unwrap();
        let (result, _) = run(&c, "SELECT sum(id) FROM late", CancellationToken::new()).await;
        let e = result.unwrap_err().to_string();
        assert!(e.contains("oops"), "{e}");
        assert!(e.contains(&format!("`late` = {}", file.display())), "{e}");
    }

    #[test]
    fn engine_paths_get_their_leading_slash_back() {
        let files = [PathBuf::from("/data/in/a.csv")];
        assert_eq!(
            with_whole_paths(
                "reading data/in/a.csv failed at /data/in/a.csv",
                files.iter()
            ),
            "reading /data/in/a.csv failed at /data/in/a.csv"
        );
    }

    #[test]
    fn table_names_are_sanitised() {
        assert_eq!(table_name_for("/x/Trip Data-2024.csv"), "trip_data_2024");
        assert_eq!(table_name_for("2024.parquet"), "t_2024");
        let mut taken = BTreeSet::from(["a".to_string()]);
        assert_eq!(unique_name("a", &mut taken), "a_2");
    }
}
