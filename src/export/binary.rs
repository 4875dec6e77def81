//! The binary formats: Parquet (the `parquet` crate's `ArrowWriter`) and Arrow IPC files
//! (arrow's `FileWriter`). Both keep every column's type as it is, nested ones included.

use std::io::Write;

use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::ipc::writer::FileWriter;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::ExportError;

/// Most rows in one Parquet row group. The writer holds the current row group (encoded and
/// compressed) in memory, so this bounds memory with [`PARQUET_ROW_GROUP_BYTES`]; 128 Ki rows
/// still make row groups large enough for readers to skip and scan efficiently.
pub const PARQUET_ROW_GROUP_ROWS: usize = 128 * 1024;
/// Most (estimated, encoded) bytes in one Parquet row group, for wide rows.
const PARQUET_ROW_GROUP_BYTES: usize = 128 * 1024 * 1024;

pub(super) fn parquet_writer<W: Write + Send>(
    out: W,
    schema: &SchemaRef,
) -> Result<ArrowWriter<W>, ExportError> {
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(PARQUET_ROW_GROUP_ROWS))
        .set_max_row_group_bytes(Some(PARQUET_ROW_GROUP_BYTES))
        .set_created_by(concat!("quarry ", env!("CARGO_PKG_VERSION")).to_string())
        .build();
    Ok(ArrowWriter::try_new(out, schema.clone(), Some(props))?)
}

pub(super) fn ipc_writer<W: Write>(
    out: W,
    schema: &SchemaRef,
) -> Result<FileWriter<W>, ExportError> {
    Ok(FileWriter::try_new(out, schema)?)
}

/// The batch under the writer's schema (the caller checked the column types). Field names,
/// nullability and metadata may differ between a connector's declared schema and its
/// batches; the binary formats store one schema for the whole file, so every batch must
/// match it. A NULL in a column the schema declares non-nullable is an error here rather than
/// a file that readers reject.
pub(super) fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    if batch.schema_ref() == schema {
        return Ok(batch.clone());
    }
    RecordBatch::try_new_with_options(
        schema.clone(),
        batch.columns().to_vec(),
        &arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
}
