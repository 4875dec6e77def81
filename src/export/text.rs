//! The text formats arrow has no writer for: TSV (PostgreSQL text-format escaping), Markdown
//! and the aligned `table`, plus the cell formatting they share.

use std::borrow::Cow;
use std::io::Write;
use std::sync::Arc;

use super::ExportError;
use crate::results::{display_width, settle_clusters};
use arrow::array::{Array, ArrayRef, StringBuilder};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::json::writer::{EncoderOptions, make_encoder};
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};

/// How NULL reads in the `table` format.
pub(super) const TABLE_NULL: &str = "NULL";
/// How NULL reads in Markdown (italic, so it differs from the string "NULL").
pub(super) const MARKDOWN_NULL: &str = "*NULL*";
/// How NULL reads in TSV (PostgreSQL's text format).
pub(super) const TSV_NULL: &str = "\\N";

/// Rows the `table` format holds to measure column widths before it starts printing. Later
/// rows are printed as they come with the widths measured so far, so memory stays bounded
/// whatever the result size.
pub const TABLE_SAMPLE_ROWS: usize = 1000;
/// Widest a `table` column is padded to. Longer values are printed in full (nothing is cut)
/// and push the rest of their row to the right, instead of padding every row to their width.
pub const TABLE_MAX_PAD: usize = 80;

/// Replaces nested columns (lists, structs, maps) by their JSON text, since CSV and the text
/// formats have no nested values. Other columns are untouched.
pub(super) fn nested_as_json(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    if !batch.columns().iter().any(|c| c.data_type().is_nested()) {
        return Ok(batch.clone());
    }
    let schema = batch.schema();
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if column.data_type().is_nested() {
            columns.push(json_column(field, column)?);
            fields.push(Field::new(field.name(), DataType::Utf8, true));
        } else {
            columns.push(column.clone());
            fields.push(field.as_ref().clone());
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// The schema a batch has after [`nested_as_json`].
pub(super) fn flat_schema(schema: &SchemaRef) -> SchemaRef {
    if !schema.fields().iter().any(|f| f.data_type().is_nested()) {
        return schema.clone();
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            if f.data_type().is_nested() {
                Field::new(f.name(), DataType::Utf8, true)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    Arc::new(Schema::new(fields))
}

fn json_column(field: &Arc<Field>, column: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    let options = EncoderOptions::default().with_explicit_nulls(true);
    let mut encoder = make_encoder(field, column.as_ref(), &options)?;
    let nulls = column.logical_nulls();
    let mut out = StringBuilder::with_capacity(column.len(), column.len() * 16);
    let mut buf = Vec::new();
    for row in 0..column.len() {
        if is_null(&nulls, row) {
            out.append_null();
            continue;
        }
        buf.clear();
        encoder.encode(row, &mut buf);
        out.append_value(String::from_utf8_lossy(&buf));
    }
    Ok(Arc::new(out.finish()))
}

fn is_null(nulls: &Option<NullBuffer>, row: usize) -> bool {
    nulls.as_ref().is_some_and(|n| n.is_null(row))
}

/// Every cell of a (flattened) batch as text, `None` for NULL.
fn rows(batch: &RecordBatch) -> Result<Vec<Vec<Option<String>>>, ArrowError> {
    let options = FormatOptions::default();
    let formatters = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
        .collect::<Result<Vec<_>, _>>()?;
    let nulls: Vec<Option<NullBuffer>> =
        batch.columns().iter().map(|c| c.logical_nulls()).collect();
    let mut out = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut cells = Vec::with_capacity(formatters.len());
        for (f, n) in formatters.iter().zip(&nulls) {
            cells.push(if is_null(n, row) {
                None
            } else {
                Some(f.value(row).try_to_string()?)
            });
        }
        out.push(cells);
    }
    Ok(out)
}

/// Makes control characters visible (ESC → ␛, NUL → ␀, DEL → ␡) and replaces C1 controls, the
/// line and paragraph separators and bidirectional controls with �, so untrusted values cannot
/// drive or garble a terminal.
pub(crate) fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_stand_in) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(stand_in).collect())
}

fn needs_stand_in(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// A `table` cell: [`visible`], then settled so that it is as wide on every terminal as it
/// measures ([`settle_clusters`]: emoji ZWJ sequences apart, stacked marks capped).
fn table_cell(s: &str) -> String {
    settle_clusters(&visible(s)).into_owned()
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{61C}')
}

fn stand_in(c: char) -> char {
    match c {
        '\0'..='\x1f' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}'),
        '\x7f' => '\u{2421}',
        c if needs_stand_in(c) => '\u{FFFD}',
        c => c,
    }
}

fn numeric(dt: &DataType) -> bool {
    dt.is_numeric()
}

// ---------------------------------------------------------------------------------------------
// TSV

/// TSV as PostgreSQL's text format writes it: tab, newline, CR and backslash inside values
/// become `\t`, `\n`, `\r`, `\\`; NULL is `\N`. Every line is one row, whatever the data.
pub(super) struct Tsv;

impl Tsv {
    pub(super) fn header(out: &mut impl Write, schema: &Schema) -> Result<(), ExportError> {
        let names: Vec<Cow<'_, str>> = schema
            .fields()
            .iter()
            .map(|f| tsv_escape(f.name()))
            .collect();
        writeln!(out, "{}", names.join("\t"))?;
        Ok(())
    }

    pub(super) fn rows(out: &mut impl Write, batch: &RecordBatch) -> Result<(), ExportError> {
        let mut text = String::new();
        for row in rows(batch)? {
            text.clear();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    text.push('\t');
                }
                match cell {
                    None => text.push_str(TSV_NULL),
                    Some(v) => text.push_str(&tsv_escape(v)),
                }
            }
            text.push('\n');
            out.write_all(text.as_bytes())?;
        }
        Ok(())
    }
}

fn tsv_escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['\t', '\n', '\r', '\\']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

// ---------------------------------------------------------------------------------------------
// Markdown

/// A GitHub-flavoured Markdown table; numeric columns are right-aligned.
pub(super) struct Markdown;

impl Markdown {
    pub(super) fn header(out: &mut impl Write, schema: &Schema) -> Result<(), ExportError> {
        let names: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| md_escape(f.name()))
            .collect();
        let rule: Vec<&str> = schema
            .fields()
            .iter()
            .map(|f| {
                if numeric(f.data_type()) {
                    "---:"
                } else {
                    "---"
                }
            })
            .collect();
        writeln!(out, "| {} |", names.join(" | "))?;
        writeln!(out, "| {} |", rule.join(" | "))?;
        Ok(())
    }

    pub(super) fn rows(out: &mut impl Write, batch: &RecordBatch) -> Result<(), ExportError> {
        for row in rows(batch)? {
            let cells: Vec<String> = row
                .iter()
                .map(|c| match c {
                    None => MARKDOWN_NULL.to_string(),
                    Some(v) => md_escape(v),
                })
                .collect();
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
        Ok(())
    }
}

/// A value as GFM table-cell text that renders as the value: line breaks become `<br>`,
/// control characters become visible, and the backslash, the pipe and what GFM would read as
/// inline markup (emphasis, code, strikethrough, links, HTML, entities) are backslash-escaped.
/// So `a\|b` stays `a\|b` when rendered, and the string `*NULL*` differs from NULL.
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            '\\' | '|' | '*' | '_' | '`' | '~' | '[' | ']' | '<' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(stand_in(c)),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Table

/// Aligned text for humans: a header, a rule, one line per row, numbers right-aligned. Holds
/// up to [`TABLE_SAMPLE_ROWS`] rows to measure widths, then streams.
pub(super) struct Table {
    right: Vec<bool>,
    header: Vec<String>,
    widths: Vec<usize>,
    pending: Vec<Vec<String>>,
    started: bool,
}

impl Table {
    pub(super) fn new(schema: &Schema) -> Table {
        let header: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| table_cell(f.name()))
            .collect();
        Table {
            right: schema
                .fields()
                .iter()
                .map(|f| numeric(f.data_type()))
                .collect(),
            widths: header.iter().map(|h| display_width(h)).collect(),
            header,
            pending: Vec::new(),
            started: false,
        }
    }

    pub(super) fn rows(
        &mut self,
        out: &mut impl Write,
        batch: &RecordBatch,
    ) -> Result<(), ExportError> {
        for row in rows(batch)? {
            let cells: Vec<String> = row
                .into_iter()
                .map(|c| match c {
                    None => TABLE_NULL.to_string(),
                    Some(v) => table_cell(&v),
                })
                .collect();
            if self.started {
                self.line(out, &cells)?;
            } else {
                for (w, c) in self.widths.iter_mut().zip(&cells) {
                    *w = (*w).max(display_width(c).min(TABLE_MAX_PAD));
                }
                self.pending.push(cells);
                if self.pending.len() >= TABLE_SAMPLE_ROWS {
                    self.flush_pending(out)?;
                }
            }
        }
        Ok(())
    }

    /// Prints whatever is held (at least the header).
    pub(super) fn finish(&mut self, out: &mut impl Write) -> Result<(), ExportError> {
        self.flush_pending(out)
    }

    fn flush_pending(&mut self, out: &mut impl Write) -> Result<(), ExportError> {
        if !self.started {
            self.started = true;
            let header = std::mem::take(&mut self.header);
            self.line(out, &header)?;
            let rule: Vec<String> = self.widths.iter().map(|w| "-".repeat(*w)).collect();
            writeln!(out, "{}", rule.join("-+-"))?;
        }
        for cells in std::mem::take(&mut self.pending) {
            self.line(out, &cells)?;
        }
        Ok(())
    }

    fn line(&self, out: &mut impl Write, cells: &[String]) -> Result<(), ExportError> {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                line.push_str(" | ");
            }
            let pad = self.widths[i].saturating_sub(display_width(cell));
            let last = i + 1 == cells.len();
            if self.right[i] {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if !last {
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        writeln!(out, "{line}")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_replaces_controls() {
        assert_eq!(visible("a\u{1b}[31mb"), "a\u{241b}[31mb");
        assert_eq!(
            visible("\0\x7f\u{9b}\u{202e}"),
            "\u{2400}\u{2421}\u{FFFD}\u{FFFD}"
        );
        assert!(matches!(visible("plain ünï"), Cow::Borrowed(_)));
        assert_eq!(visible("a\u{2028}b\u{2029}"), "a\u{FFFD}b\u{FFFD}");
    }

    #[test]
    fn table_cells_are_settled() {
        assert_eq!(table_cell("👨\u{200d}👩\u{200d}👧\u{1b}"), "👨👩👧\u{241b}");
        assert_eq!(table_cell("e\u{301}"), "e\u{301}");
    }

    #[test]
    fn tsv_escape_like_postgres() {
        assert_eq!(tsv_escape("a\tb\nc\rd\\e"), "a\\tb\\nc\\rd\\\\e");
    }

    #[test]
    fn md_escape_pipes_and_newlines() {
        assert_eq!(md_escape("a|b\r\nc\nd\u{7}"), "a\\|b<br>c<br>d\u{2407}");
        assert_eq!(md_escape("a\rb\r\r\nc"), "a<br>b<br><br>c");
    }

    #[test]
    fn md_escape_markup_and_backslashes() {
        assert_eq!(md_escape(r"C:\x|y"), r"C:\\x\|y");
        assert_eq!(md_escape("*NULL*"), r"\*NULL\*");
        assert_eq!(
            md_escape("_a_ `b` ~~c~~ [d](e) <br> &amp;"),
            r"\_a\_ \`b\` \~\~c\~\~ \[d\](e) \<br> \&amp;"
        );
        assert_eq!(md_escape("ünï 3.5 a-b #1"), "ünï 3.5 a-b #1");
    }
}
