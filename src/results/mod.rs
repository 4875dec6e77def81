//! Query results: an Arrow schema plus the record batches appended as they stream in.
//!
//! The grid draws only the visible window of a result that may hold millions of rows, so every
//! per-cell operation here is O(log batches) to find the batch plus work bounded by the
//! `MAX_CELL_CHARS` budget; nothing formats the whole result per frame. Sorting and filtering are
//! vectorised over whole columns with arrow's kernels and return row permutations, leaving the
//! batches untouched.

mod filter;
mod format;
mod inspect;
pub(crate) use format::write_json_str;
mod sanitize;
mod sort;
mod temporal;
pub mod trino_text;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

pub use filter::filter_indices;
pub use inspect::{INDENT_CAP, InspectText};
pub use sanitize::{
    MAX_CLUSTER_MARKS, display_line, display_width, is_terminal_unsafe, sanitize_line,
    sanitize_multiline, settle_clusters, stand_in, truncate_to_width,
};
pub use sort::{SortOrder, sort_indices};

/// Longest one-line cell text, in chars (including the trailing '…' of a cut value).
pub const MAX_CELL_CHARS: usize = 512;

/// A cell's one-line display text and what kind of value it is (for styling and alignment).
#[derive(Debug, Clone, PartialEq)]
pub struct CellText {
    pub text: String,
    pub kind: CellKind,
}

impl CellText {
    fn null() -> Self {
        CellText {
            text: format::NULL_TEXT.to_string(),
            kind: CellKind::Null,
        }
    }
}

/// The union of two schemas by field name: `old`'s fields first, in their order, then the new
/// ones; a field whose type differs becomes text (every Arrow type casts to Utf8), and the newer
/// metadata wins. Rows of either fit the result ([`widen_batch`]).
pub fn merge_schemas(old: &SchemaRef, new: &SchemaRef) -> SchemaRef {
    use arrow::datatypes::{DataType, Field, Schema};
    let mut fields: Vec<Field> = old
        .fields()
        .iter()
        .map(|f| match new.field_with_name(f.name()) {
            Ok(n) if n.data_type() == f.data_type() => n.clone(),
            Ok(n) => Field::new(f.name(), DataType::Utf8, true).with_metadata(n.metadata().clone()),
            Err(_) => f.as_ref().clone(),
        })
        .collect();
    for f in new.fields() {
        if old.field_with_name(f.name()).is_err() {
            fields.push(f.as_ref().clone());
        }
    }
    std::sync::Arc::new(Schema::new(fields))
}

/// Re-expresses `batch` in a later, wider `schema`: columns matched by name, cast where the
/// type changed (Arrow writes `42` and `true`, the text a connector would have produced), and
/// all-null where the batch lacks them.
pub fn widen_batch(
    batch: &RecordBatch,
    schema: &SchemaRef,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let columns = schema
        .fields()
        .iter()
        .map(|field| match batch.column_by_name(field.name()) {
            Some(col) if col.data_type() == field.data_type() => Ok(col.clone()),
            Some(col) => arrow::compute::cast(col, field.data_type()),
            None => Ok(arrow::array::new_null_array(
                field.data_type(),
                batch.num_rows(),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let options =
        arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(schema.clone(), columns, &options)
}

/// Field metadata key: `"true"` when a NULL in the column means the value is absent.
pub const MISSING_KEY: &str = "quarry.missing";
/// How an absent value is shown (dim, like NULL, but not the word NULL).
pub const MISSING_TEXT: &str = "—";

/// What a cell holds, so the UI can style NULL apart from the text "NULL" and align numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    Null,
    Number,
    Bool,
    Text,
    Temporal,
    Nested,
    Binary,
}

/// A streamed query result. Cheap to clone (batches are reference-counted) and `Send + Sync`,
/// so the UI can keep it behind an `Arc`.
#[derive(Debug, Clone)]
pub struct ResultSet {
    schema: SchemaRef,
    /// Column names with control characters made visible: they are server-supplied.
    names: Vec<String>,
    batches: Vec<RecordBatch>,
    /// `starts[i]` is the global row number of the first row of `batches[i]`.
    starts: Vec<usize>,
    num_rows: usize,
}

impl ResultSet {
    pub fn new(schema: SchemaRef) -> Self {
        let names = schema
            .fields()
            .iter()
            .map(|f| sanitize_line(f.name()).into_owned())
            .collect();
        ResultSet {
            schema,
            names,
            batches: Vec::new(),
            starts: Vec::new(),
            num_rows: 0,
        }
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Appends a batch; empty batches are ignored. The batch is expected to have the result's
    /// schema: a batch lacking a column shows empty cells there rather than failing.
    pub fn push_batch(&mut self, batch: RecordBatch) {
        if batch.num_rows() == 0 {
            return;
        }
        self.starts.push(self.num_rows);
        self.num_rows += batch.num_rows();
        self.batches.push(batch);
    }

    /// Whether a NULL in `col` means "attribute absent" (field metadata [`MISSING_KEY`]), as in
    /// DynamoDB items, where a stored NULL is a value of its own.
    fn missing_means_absent(&self, col: usize) -> bool {
        self.schema
            .fields()
            .get(col)
            .is_some_and(|f| f.metadata().get(MISSING_KEY).is_some_and(|v| v == "true"))
    }

    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// Re-expresses the loaded rows in a wider `schema` (a source whose rows have no fixed
    /// shape, like DynamoDB, grows columns and widens types as pages arrive): columns are
    /// matched by name, cast where the type changed, and new columns are all NULL.
    pub fn widen(&mut self, schema: SchemaRef) -> Result<(), arrow::error::ArrowError> {
        let widened = self
            .batches
            .iter()
            .map(|b| widen_batch(b, &schema))
            .collect::<Result<Vec<_>, _>>()?;
        *self = ResultSet {
            names: ResultSet::new(schema.clone()).names,
            schema,
            batches: widened,
            starts: std::mem::take(&mut self.starts),
            num_rows: self.num_rows,
        };
        Ok(())
    }

    pub fn num_rows(&self) -> usize {
        self.num_rows
    }

    pub fn num_columns(&self) -> usize {
        self.schema.fields().len()
    }

    /// The column's name, already sanitised for the terminal; "" past the last column.
    pub fn column_name(&self, col: usize) -> &str {
        self.names.get(col).map_or("", String::as_str)
    }

    /// Integers, floats and decimals, which the grid right-aligns.
    pub fn is_numeric_column(&self, col: usize) -> bool {
        self.schema
            .fields()
            .get(col)
            .is_some_and(|f| format::is_numeric(f.data_type()))
    }

    /// The array holding global row `row` of column `col`, and the row's index in it.
    fn locate(&self, row: usize, col: usize) -> Option<(&dyn arrow::array::Array, usize)> {
        if row >= self.num_rows {
            return None;
        }
        // `starts[0] == 0 <= row`, so the partition point is at least 1.
        let b = self.starts.partition_point(|&start| start <= row) - 1;
        let batch = self.batches.get(b)?;
        let array = batch.columns().get(col)?;
        Some((array.as_ref(), row - self.starts[b]))
    }

    /// One-line display text for the grid: sanitised, at most `MAX_CELL_CHARS` chars (a cut
    /// value ends in '…'). NULL is the text "NULL" with kind `Null`; an empty string is "" with
    /// kind `Text`. Nested values are compact JSON, binary is `0x…` hex, floats shortest
    /// round-trip, decimals exact, dates and timestamps ISO-8601. Out-of-range cells are "".
    pub fn cell(&self, row: usize, col: usize) -> CellText {
        match self.locate(row, col) {
            Some((array, i)) if array.is_null(i) && self.missing_means_absent(col) => CellText {
                text: MISSING_TEXT.to_string(),
                kind: CellKind::Null,
            },
            Some((array, i)) => format::line(array, i),
            None => CellText {
                text: String::new(),
                kind: CellKind::Text,
            },
        }
    }

    /// Full value for the cell inspector as one string: see [`ResultSet::cell_inspect`].
    pub fn cell_full(&self, row: usize, col: usize) -> String {
        self.cell_inspect(row, col, false).to_text()
    }

    /// The cell laid out for the inspector: nested values and strings holding a JSON object or
    /// array pretty-printed (key order and number text kept; nesting beyond
    /// [`INDENT_CAP`] levels compact), otherwise the full text; every control
    /// character but '\n' made visible. NULL is "NULL", out-of-range cells "". With
    /// `trino_text`, a string in Athena's `array`/`map`/`row` text form is read back as JSON
    /// (best effort, see [`trino_text`]). Linear in the value's size: run it off the UI loop.
    pub fn cell_inspect(&self, row: usize, col: usize, trino_text: bool) -> InspectText {
        let Some((array, i)) = self.locate(row, col) else {
            return InspectText::default();
        };
        if trino_text
            && let Some(json) = format::raw(array, i).and_then(|raw| trino_text::to_json(&raw))
            && let Ok(compact) = serde_json::to_string(&json)
        {
            return InspectText::json(&compact);
        }
        format::inspect(array, i)
    }

    /// Raw text for copying one cell: `None` for NULL (and out-of-range cells). Not sanitised:
    /// it must not be written to the terminal as is.
    pub fn cell_raw(&self, row: usize, col: usize) -> Option<String> {
        let (array, i) = self.locate(row, col)?;
        format::raw(array, i)
    }

    /// Display width of each column from its header and a sample of rows (the first `sample`
    /// and the last `sample`), each capped at `cap` and at least 1 and at least
    /// min(header width, cap).
    pub fn column_widths(&self, sample: usize, cap: usize) -> Vec<usize> {
        let head = 0..sample.min(self.num_rows);
        let tail = self.num_rows.saturating_sub(sample).max(head.end)..self.num_rows;
        (0..self.num_columns())
            .map(|col| {
                let header = display_width(self.column_name(col));
                let widest = head
                    .clone()
                    .chain(tail.clone())
                    .map(|row| display_width(&self.cell(row, col).text))
                    .fold(header, usize::max);
                widest.min(cap).max(1)
            })
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
