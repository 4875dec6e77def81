//! Where `quarry run` writes a statement's result, and how the result's events become it.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use tokio::sync::mpsc;

use super::{RunError, inert};
use crate::connectors::{JobEvent, JobId, JobStats};
use crate::export::{BatchWriter, Format};
use crate::results::{merge_schemas, sanitize_multiline, widen_batch};
use crate::store::AtomicFile;

/// Set once a write to stdout found its reader gone (`quarry run … | head -2`).
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether stdout's reader went away: the run ends quietly then, as Unix tools do.
pub(super) fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// The status a shell reports for a tool stopped by a closed pipe: 128 + SIGPIPE (13).
pub(super) const EXIT_CLOSED_PIPE: i32 = 141;

/// Bytes of rows held while a result's columns may still grow (see [`Rows`]).
const HOLD_LIMIT: usize = 256 << 20;

/// Where `quarry run` writes: stdout (made inert when it is a terminal), or a file that
/// appears only when everything succeeded.
pub(super) enum Output {
    Stdout(inert::Inert<io::BufWriter<io::Stdout>>),
    File(AtomicFile),
}

impl Output {
    pub(super) fn stdout(format: Format) -> Output {
        Output::Stdout(inert::stdout(inert::escape_for(format)))
    }

    pub(super) fn commit(self) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.finish().map(drop).inspect_err(note_closed_pipe),
            Output::File(f) => f.commit(),
        }
    }
}

fn note_closed_pipe(e: &io::Error) {
    if e.kind() == io::ErrorKind::BrokenPipe {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf).inspect_err(note_closed_pipe),
            Output::File(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush().inspect_err(note_closed_pipe),
            Output::File(f) => f.flush(),
        }
    }
}

fn output_error(e: impl std::fmt::Display) -> RunError {
    RunError::Output(e.to_string())
}

/// Writes one statement's events into `output` in `format`: batches through the format's
/// writer, or items already rendered as JSON (`item_mode`, DynamoDB). `grows`: the
/// connector's columns can grow as pages arrive. Returns the output for the next statement.
pub(super) async fn write_events(
    mut rx: mpsc::Receiver<(JobId, JobEvent)>,
    format: Format,
    output: Output,
    (item_mode, grows): (bool, bool),
    last_stats: &mut JobStats,
) -> Result<Output, RunError> {
    let mut rows = Rows::Waiting(output);
    let mut json_items = 0usize;
    while let Some((_, event)) = rx.recv().await {
        match event {
            JobEvent::Json(lines) => {
                let Rows::Waiting(out) = &mut rows else {
                    return Err(output_error("items and rows mixed in one result"));
                };
                for line in lines {
                    let sep = match (format, json_items) {
                        (Format::Json, 0) => "[\n",
                        (Format::Json, _) => ",\n",
                        _ => "",
                    };
                    let end = if format == Format::Json { "" } else { "\n" };
                    write!(out, "{sep}{line}{end}").map_err(output_error)?;
                    json_items += 1;
                }
            }
            JobEvent::Schema(schema) if !schema.fields().is_empty() => {
                rows = rows.schema(schema, format, grows)?;
            }
            JobEvent::Batch(batch) => rows = rows.batch(batch, format)?,
            JobEvent::Stats(stats) => *last_stats = stats,
            JobEvent::Notice(text) => eprintln!("quarry: note: {}", sanitize_multiline(&text)),
            _ => {}
        }
    }
    match rows {
        Rows::Waiting(mut out) if format == Format::Json && item_mode => {
            let close = if json_items > 0 { "\n]" } else { "[]" };
            writeln!(out, "{close}").map_err(output_error)?;
            Ok(out)
        }
        Rows::Waiting(_) if format.is_binary() => Err(output_error(format!(
            "the statement returned no rows and columns to write as {format}"
        ))),
        rows => rows.finish(format),
    }
}

/// A result's rows on their way into the format's writer, which needs the columns before the
/// first row. A result whose columns grow (DynamoDB items need not share attributes) is held
/// until it ends — up to [`HOLD_LIMIT`] bytes — so the one header names every column, as the
/// TUI's grid does; past the limit the rows go out under the columns known then, and a column
/// that appears later ends the run with a message saying what to do.
enum Rows {
    /// No columns yet.
    Waiting(Output),
    Holding {
        out: Output,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        bytes: usize,
    },
    Writing(BatchWriter<Output>),
}

impl Rows {
    fn schema(self, schema: SchemaRef, format: Format, grows: bool) -> Result<Rows, RunError> {
        Ok(match self {
            Rows::Waiting(out) if grows => Rows::Holding {
                out,
                schema,
                batches: Vec::new(),
                bytes: 0,
            },
            Rows::Waiting(out) => {
                Rows::Writing(BatchWriter::new(out, format, schema).map_err(output_error)?)
            }
            Rows::Holding {
                out,
                schema: known,
                batches,
                bytes,
            } => Rows::Holding {
                out,
                schema: merge_schemas(&known, &schema),
                batches,
                bytes,
            },
            Rows::Writing(writer) => {
                let known = writer.schema();
                let merged = merge_schemas(known, &schema);
                let changed = changed_columns(known, &merged);
                if !changed.is_empty() {
                    let rows = writer.rows_written();
                    return Err(changed_too_late(&changed, rows, grows));
                }
                Rows::Writing(writer)
            }
        })
    }

    fn batch(self, batch: RecordBatch, format: Format) -> Result<Rows, RunError> {
        match self {
            Rows::Holding {
                out,
                schema,
                mut batches,
                bytes,
            } => {
                let bytes = bytes + batch.get_array_memory_size();
                batches.push(batch);
                let holding = Rows::Holding {
                    out,
                    schema,
                    batches,
                    bytes,
                };
                if bytes > HOLD_LIMIT {
                    return holding.start_writing(format);
                }
                Ok(holding)
            }
            Rows::Writing(mut writer) => {
                // Rows from before a widening that added nothing new still fit by name.
                let fitted = widen_batch(&batch, writer.schema()).map_err(output_error)?;
                writer.write(&fitted).map_err(output_error)?;
                Ok(Rows::Writing(writer))
            }
            // Rows without columns (a statement with no result set) have nothing to write.
            waiting @ Rows::Waiting(_) => Ok(waiting),
        }
    }

    /// Starts the writer under the columns known now and writes the held rows.
    fn start_writing(self, format: Format) -> Result<Rows, RunError> {
        let Rows::Holding {
            out,
            schema,
            batches,
            ..
        } = self
        else {
            return Ok(self);
        };
        let mut writer = BatchWriter::new(out, format, schema).map_err(output_error)?;
        for batch in batches {
            let fitted = widen_batch(&batch, writer.schema()).map_err(output_error)?;
            writer.write(&fitted).map_err(output_error)?;
        }
        Ok(Rows::Writing(writer))
    }

    fn finish(self, format: Format) -> Result<Output, RunError> {
        match self {
            Rows::Waiting(out) => Ok(out),
            Rows::Writing(writer) => writer.finish().map_err(output_error),
            holding @ Rows::Holding { .. } => holding.start_writing(format)?.finish(format),
        }
    }
}

/// The columns of `merged` that `known` lacks or types differently, as `name` list items.
fn changed_columns(known: &SchemaRef, merged: &SchemaRef) -> Vec<String> {
    merged
        .fields()
        .iter()
        .filter(|f| {
            known.field_with_name(f.name()).ok().map(|k| k.data_type()) != Some(f.data_type())
        })
        .map(|f| format!("`{}`", f.name()))
        .collect()
}

/// A column (or a wider type) that arrived after the header went out. `grows`: the new
/// attributes of later DynamoDB items; else a column that became text so as to keep a value
/// exact (an Athena decimal wider than its declared type; a note said which).
fn changed_too_late(changed: &[String], rows: u64, grows: bool) -> RunError {
    let changed = changed.join(", ");
    RunError::Query(if grows {
        format!(
            "items after the first {rows} rows have attributes the header was written without \
             ({changed}; {} MiB of rows are held to find every column first): use --format \
             jsonl or json (each item with its own attributes), or name the attributes in the \
             SELECT",
            HOLD_LIMIT >> 20
        )
    } else {
        format!(
            "column(s) {changed} became text after the first {rows} rows were written, so that \
             no value is changed (see the note above): cast them in the SELECT, e.g. \
             CAST(col AS varchar), to write them whole"
        )
    })
}
