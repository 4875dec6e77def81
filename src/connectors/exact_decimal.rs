//! Decimals that arrive as text (Athena, the Redshift Data API) are cast to their declared
//! `decimal(p, s)`, and Arrow's cast rounds what has more fractional digits than the scale.
//! A value must never change silently: a column with such a value is kept as text (exactly
//! as the service wrote it), and the result's notes say why.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::{ConnectorError, JobEvent, JobSink};

/// A decimal column's first value that its declared type cannot hold exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Misfit {
    pub column: usize,
    pub value: String,
}

/// The decimal columns of `schema` with a value their type would change; `text_of(column)`
/// gives that column's non-NULL values as text.
pub fn misfits<'a, I>(schema: &SchemaRef, mut text_of: impl FnMut(usize) -> I) -> Vec<Misfit>
where
    I: Iterator<Item = &'a str>,
{
    let mut found = Vec::new();
    for (column, field) in schema.fields().iter().enumerate() {
        let DataType::Decimal128(precision, scale) = *field.data_type() else {
            continue;
        };
        if let Some(value) = text_of(column).find(|t| !fits(t.trim(), precision, scale)) {
            found.push(Misfit {
                column,
                value: value.chars().take(60).collect(),
            });
        }
    }
    found
}

/// Whether `text` (plain decimal notation) is exactly a `decimal(precision, scale)`: no more
/// fractional digits than the scale (trailing zeros aside), no more integral digits than
/// precision − scale. Other spellings (an exponent, stray characters) are left to the cast,
/// which reports what it cannot read.
pub fn fits(text: &str, precision: u8, scale: i8) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return true;
    }
    let scale = usize::try_from(scale).unwrap_or(0);
    let frac_needed = frac.trim_end_matches('0').len();
    let int_needed = int.trim_start_matches('0').len();
    frac_needed <= scale && int_needed <= usize::from(precision).saturating_sub(scale)
}

/// `schema` with the misfits' columns as text (their metadata, the service's type, kept).
fn with_text_columns(schema: &SchemaRef, misfits: &[Misfit]) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| match misfits.iter().any(|m| m.column == i) {
            true => Field::new(f.name(), DataType::Utf8, true).with_metadata(f.metadata().clone()),
            false => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Notes each misfit in the result and returns the schema with those columns as text, or
/// `None` when every decimal fits. `type_key`: the metadata key of the service's type name.
async fn keep_exact(
    schema: &SchemaRef,
    misfits: Vec<Misfit>,
    type_key: &str,
    sink: &JobSink,
) -> Result<Option<SchemaRef>, ConnectorError> {
    if misfits.is_empty() {
        return Ok(None);
    }
    for misfit in &misfits {
        let field = schema.field(misfit.column);
        let declared = field
            .metadata()
            .get(type_key)
            .map_or(String::new(), |t| format!(" ({t})"));
        let note = format!(
            "column `{}`{declared}: the value `{}` has more digits than its declared type \
             holds; the column is shown as text so that no value is rounded",
            field.name(),
            misfit.value
        );
        sink.send(JobEvent::Notice(note)).await?;
    }
    Ok(Some(with_text_columns(schema, &misfits)))
}

/// The schema a result page is converted with: the one already sent (`None` before the first
/// page: `declared()`), with the columns that would round one of this page's values as text.
/// Sends it as a [`JobEvent::Schema`] when it is new or changed.
pub async fn page_schema(
    sent: &Option<SchemaRef>,
    declared: impl FnOnce() -> SchemaRef,
    misfits_of: impl FnOnce(&SchemaRef) -> Vec<Misfit>,
    type_key: &str,
    sink: &JobSink,
) -> Result<SchemaRef, ConnectorError> {
    let (mut schema, mut changed) = match sent {
        Some(s) => (s.clone(), false),
        None => (declared(), true),
    };
    let misfits = misfits_of(&schema);
    if let Some(widened) = keep_exact(&schema, misfits, type_key, sink).await? {
        schema = widened;
        changed = true;
    }
    if changed {
        sink.send(JobEvent::Schema(schema.clone())).await?;
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_that_fit_and_values_a_cast_would_round() {
        assert!(fits("12", 10, 0));
        assert!(fits("-0012", 4, 0));
        assert!(fits("12.500", 4, 2));
        assert!(fits("-99.99", 4, 2));
        assert!(!fits("12.50", 10, 0));
        assert!(!fits("1.005", 4, 2));
        assert!(!fits("123.4", 4, 2));
        // Not plain notation: the cast decides (and reports what it cannot read).
        assert!(fits("1e5", 4, 2));
    }

    #[test]
    fn misfit_columns_become_text_with_their_type_kept() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("whole", DataType::Decimal128(10, 0), true)
                .with_metadata([("t".to_string(), "decimal(10,0)".to_string())].into()),
            Field::new("name", DataType::Utf8, true),
        ]));
        let columns = [vec!["12", "12.50", "13.7"], vec!["a.123"]];
        let found = misfits(&schema, |i| columns[i].iter().copied());
        assert_eq!(
            found,
            vec![Misfit {
                column: 0,
                value: "12.50".into()
            }]
        );
        let text = with_text_columns(&schema, &found);
        assert_eq!(text.field(0).data_type(), &DataType::Utf8);
        assert_eq!(text.field(0).metadata()["t"], "decimal(10,0)");
        assert_eq!(text.field(1), schema.field(1));
    }
}
