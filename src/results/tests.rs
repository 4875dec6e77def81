//! Tests of the result set's formatting, sorting and filtering.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Decimal128Array, DictionaryArray, Float64Array,
    Int32Array, Int32Builder, Int64Array, ListArray, MapBuilder, StringArray, StringBuilder,
    StructArray, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Int8Type, Int32Type, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;

use super::*;

/// A one-column result made of one batch per slice in `parts`.
fn one_column(field: Field, parts: Vec<ArrayRef>) -> ResultSet {
    let schema = Arc::new(Schema::new(vec![field]));
    let mut rs = ResultSet::new(schema.clone());
    for array in parts {
        rs.push_batch(RecordBatch::try_new(schema.clone(), vec![array]).unwrap());
    }
    rs
}

fn strings(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn ints(values: &[Option<i64>]) -> ArrayRef {
    Arc::new(Int64Array::from(values.to_vec()))
}

fn has_no_controls(s: &str) -> bool {
    !s.chars()
        .any(|c| c < ' ' || ('\u{7f}'..='\u{9f}').contains(&c))
}

/// A two-batch result: id (Int64), name (Utf8), score (Float64).
fn people() -> ResultSet {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("score", DataType::Float64, true),
    ]));
    let mut rs = ResultSet::new(schema.clone());
    let batch = |ids: &[i64], names: &[Option<&str>], scores: &[Option<f64>]| {
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(ids.to_vec())) as ArrayRef,
                strings(names),
                Arc::new(Float64Array::from(scores.to_vec())),
            ],
        )
        .unwrap()
    };
    rs.push_batch(batch(&[1, 2], &[Some("Alice"), None], &[Some(1.5), None]));
    rs.push_batch(RecordBatch::new_empty(schema.clone()));
    rs.push_batch(batch(
        &[3, 4, 5],
        &[Some("bob"), Some(""), Some("ALIcia")],
        &[Some(0.1), Some(1e300), Some(-2.0)],
    ));
    rs
}

#[test]
fn result_set_is_send_sync_and_clone() {
    fn check<T: Send + Sync + Clone>() {}
    check::<ResultSet>();
}

#[test]
fn rows_are_found_across_batches_and_empty_batches_ignored() {
    let rs = people();
    assert_eq!(rs.num_rows(), 5);
    assert_eq!(rs.batches().len(), 2);
    assert_eq!(rs.num_columns(), 3);
    assert_eq!(rs.column_name(1), "name");
    let ids: Vec<String> = (0..5).map(|r| rs.cell(r, 0).text).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
    assert_eq!(rs.cell(5, 0).text, "");
    assert_eq!(rs.cell(0, 9).text, "");
    assert_eq!(rs.cell_raw(9, 0), None);
}

#[test]
fn null_is_distinct_from_empty_string() {
    let rs = people();
    let null = rs.cell(1, 1);
    assert_eq!(
        null,
        CellText {
            text: "NULL".into(),
            kind: CellKind::Null
        }
    );
    let empty = rs.cell(3, 1);
    assert_eq!(
        empty,
        CellText {
            text: String::new(),
            kind: CellKind::Text
        }
    );
    assert_eq!(rs.cell_raw(1, 1), None);
    assert_eq!(rs.cell_raw(3, 1), Some(String::new()));
    assert_eq!(rs.cell_full(1, 1), "NULL");
    // The string "NULL" is text, not a null.
    let rs = one_column(
        Field::new("s", DataType::Utf8, true),
        vec![strings(&[Some("NULL")])],
    );
    assert_eq!(rs.cell(0, 0).kind, CellKind::Text);
    assert_eq!(rs.cell_raw(0, 0).as_deref(), Some("NULL"));
}

#[test]
fn numeric_columns_are_flagged_for_right_alignment() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("i", DataType::Int32, true),
        Field::new("f", DataType::Float32, true),
        Field::new("d", DataType::Decimal128(10, 2), true),
        Field::new("s", DataType::Utf8, true),
        Field::new("b", DataType::Boolean, true),
        Field::new("t", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        Field::new(
            "di",
            DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Int64)),
            true,
        ),
    ]));
    let rs = ResultSet::new(schema);
    let flags: Vec<bool> = (0..8).map(|c| rs.is_numeric_column(c)).collect();
    assert_eq!(flags, [true, true, true, false, false, false, true, false]);
}

#[test]
fn scalars_are_formatted_exactly() {
    let rs = people();
    assert_eq!(
        rs.cell(0, 2),
        CellText {
            text: "1.5".into(),
            kind: CellKind::Number
        }
    );
    assert_eq!(rs.cell(2, 2).text, "0.1");
    assert_eq!(rs.cell(3, 2).text, "1e300");
    assert_eq!(rs.cell(4, 2).text, "-2.0");

    let dec = Decimal128Array::from(vec![Some(12345), Some(-5), None])
        .with_precision_and_scale(10, 2)
        .unwrap();
    let rs = one_column(
        Field::new("d", DataType::Decimal128(10, 2), true),
        vec![Arc::new(dec)],
    );
    assert_eq!(rs.cell(0, 0).text, "123.45");
    assert_eq!(rs.cell(1, 0).text, "-0.05");
    assert_eq!(rs.cell(2, 0).kind, CellKind::Null);

    let ts = TimestampMillisecondArray::from(vec![1_700_000_000_123]);
    let rs = one_column(
        Field::new("t", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        vec![Arc::new(ts)],
    );
    assert_eq!(
        rs.cell(0, 0),
        CellText {
            text: "2023-11-14T22:13:20.123".into(),
            kind: CellKind::Temporal
        }
    );

    let bools = BooleanArray::from(vec![Some(true), Some(false)]);
    let rs = one_column(
        Field::new("b", DataType::Boolean, true),
        vec![Arc::new(bools)],
    );
    assert_eq!(
        rs.cell(1, 0),
        CellText {
            text: "false".into(),
            kind: CellKind::Bool
        }
    );
}

#[test]
fn binary_is_hex_and_cut() {
    let big = vec![0xffu8; 100_000];
    let bin = BinaryArray::from(vec![Some(&[0xde_u8, 0xad, 0x01][..]), Some(&big[..])]);
    let rs = one_column(Field::new("b", DataType::Binary, true), vec![Arc::new(bin)]);
    assert_eq!(
        rs.cell(0, 0),
        CellText {
            text: "0xdead01".into(),
            kind: CellKind::Binary
        }
    );
    let cut = rs.cell(1, 0).text;
    assert!(cut.chars().count() <= MAX_CELL_CHARS && cut.ends_with('…'));
    assert_eq!(rs.cell_raw(1, 0).map(|s| s.len()), Some(2 + 200_000));
}

#[test]
fn hostile_strings_are_sanitised_and_cut() {
    let huge = "x\x1b".repeat(50_000); // 100 KB
    let values = [
        Some("red \x1b[31mALERT\x1b[0m"),
        Some("over\rwrite"),
        Some("tab\tbed\nline"),
        Some("c1 \u{9b}31m and \u{202e}bidi"),
        Some(huge.as_str()),
    ];
    let rs = one_column(
        Field::new("s", DataType::Utf8, true),
        vec![strings(&values)],
    );
    for row in 0..values.len() {
        let text = rs.cell(row, 0).text;
        assert!(has_no_controls(&text), "row {row}: {text:?}");
        assert!(!text.contains('\u{202e}'));
        assert!(text.chars().count() <= MAX_CELL_CHARS, "row {row}");
    }
    assert_eq!(rs.cell(0, 0).text, "red ␛[31mALERT␛[0m");
    assert_eq!(rs.cell(1, 0).text, "over␍write");
    assert_eq!(rs.cell(2, 0).text, "tab→bed↵line");
    let cut = rs.cell(4, 0).text;
    assert_eq!(cut.chars().count(), MAX_CELL_CHARS);
    assert!(cut.ends_with('…'));
    // Raw keeps everything; full keeps newlines only.
    assert_eq!(rs.cell_raw(4, 0).map(|s| s.len()), Some(100_000));
    assert_eq!(rs.cell_full(2, 0), "tab    bed\nline");
    assert!(has_no_controls(&rs.cell_full(0, 0).replace('\n', "")));
}

#[test]
fn column_names_are_sanitised() {
    let rs = ResultSet::new(Arc::new(Schema::new(vec![Field::new(
        "evil\x1b[2J",
        DataType::Utf8,
        true,
    )])));
    assert_eq!(rs.column_name(0), "evil␛[2J");
}

fn struct_list_result() -> ResultSet {
    let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), None, Some(3)]),
        Some(vec![]),
        None,
    ]);
    let names = strings(&[Some("a\"b"), None, Some("c")]);
    let nums = Arc::new(Int32Array::from(vec![1, 2, 3])) as ArrayRef;
    let st = StructArray::from(vec![
        (Arc::new(Field::new("name", DataType::Utf8, true)), names),
        (Arc::new(Field::new("n", DataType::Int32, false)), nums),
    ]);
    let schema = Arc::new(Schema::new(vec![
        Field::new("l", list.data_type().clone(), true),
        Field::new("s", st.data_type().clone(), true),
    ]));
    let mut rs = ResultSet::new(schema.clone());
    rs.push_batch(RecordBatch::try_new(schema, vec![Arc::new(list), Arc::new(st)]).unwrap());
    rs
}

#[test]
fn nested_values_are_compact_json_in_the_grid() {
    let rs = struct_list_result();
    assert_eq!(
        rs.cell(0, 0),
        CellText {
            text: "[1,null,3]".into(),
            kind: CellKind::Nested
        }
    );
    assert_eq!(rs.cell(1, 0).text, "[]");
    assert_eq!(rs.cell(2, 0).kind, CellKind::Null);
    assert_eq!(rs.cell(0, 1).text, r#"{"name":"a\"b","n":1}"#);
    assert_eq!(rs.cell(1, 1).text, r#"{"name":null,"n":2}"#);
    assert_eq!(
        rs.cell_raw(0, 1).as_deref(),
        Some(r#"{"name":"a\"b","n":1}"#)
    );
}

#[test]
fn huge_nested_values_are_cut() {
    let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(
        (0..200_000).map(Some).collect::<Vec<_>>(),
    )]);
    let rs = one_column(
        Field::new("l", list.data_type().clone(), true),
        vec![Arc::new(list)],
    );
    let text = rs.cell(0, 0).text;
    assert_eq!(text.chars().count(), MAX_CELL_CHARS);
    assert!(text.starts_with("[0,1,2,") && text.ends_with('…'));
}

#[test]
fn cell_full_pretty_prints_nested_values() {
    let rs = struct_list_result();
    assert_eq!(rs.cell_full(0, 0), "[\n  1,\n  null,\n  3\n]");
    assert_eq!(
        rs.cell_full(0, 1),
        "{\n  \"name\": \"a\\\"b\",\n  \"n\": 1\n}"
    );
}

#[test]
fn cell_full_pretty_prints_json_strings_only() {
    let rs = one_column(
        Field::new("j", DataType::Utf8, true),
        vec![strings(&[
            Some(r#" {"z":1,"a":[true,{"k":"v"}],"big":12345678901234567890123}"#),
            Some("{not json"),
            Some("42"),
        ])],
    );
    let pretty = rs.cell_full(0, 0);
    assert_eq!(
        pretty,
        "{\n  \"z\": 1,\n  \"a\": [\n    true,\n    {\n      \"k\": \"v\"\n    }\n  ],\n  \"big\": 12345678901234567890123\n}"
    );
    assert_eq!(rs.cell_full(1, 0), "{not json");
    assert_eq!(rs.cell_full(2, 0), "42");
    // The grid still shows the one-line original.
    assert!(rs.cell(0, 0).text.starts_with(r#" {"z":1"#));
}

#[test]
fn maps_and_dictionaries_are_shown_by_value() {
    let mut builder = MapBuilder::new(None, StringBuilder::new(), Int32Builder::new());
    builder.keys().append_value("k1");
    builder.values().append_value(7);
    builder.append(true).unwrap();
    builder.append(false).unwrap();
    let map = builder.finish();
    let rs = one_column(
        Field::new("m", map.data_type().clone(), true),
        vec![Arc::new(map)],
    );
    assert_eq!(
        rs.cell(0, 0),
        CellText {
            text: r#"{"k1":7}"#.into(),
            kind: CellKind::Nested
        }
    );
    assert_eq!(rs.cell(1, 0).kind, CellKind::Null);

    let dict: DictionaryArray<Int8Type> = vec![Some("red"), None, Some("blue"), Some("red")]
        .into_iter()
        .collect();
    let rs = one_column(
        Field::new("c", dict.data_type().clone(), true),
        vec![Arc::new(dict)],
    );
    let texts: Vec<String> = (0..4).map(|r| rs.cell(r, 0).text).collect();
    assert_eq!(texts, ["red", "NULL", "blue", "red"]);
}

#[test]
fn sort_puts_nulls_last_in_both_orders_across_batches() {
    let rs = one_column(
        Field::new("n", DataType::Int64, true),
        vec![
            ints(&[Some(3), None, Some(1)]),
            ints(&[Some(2), None]),
            ints(&[Some(5)]),
        ],
    );
    let asc = sort_indices(&rs, 0, SortOrder::Ascending).unwrap();
    assert_eq!(asc, [2, 3, 0, 5, 1, 4]);
    let desc = sort_indices(&rs, 0, SortOrder::Descending).unwrap();
    assert_eq!(desc, [5, 0, 3, 2, 1, 4]);
}

#[test]
fn sort_is_stable() {
    let rs = one_column(
        Field::new("s", DataType::Utf8, true),
        vec![
            strings(&[Some("b"), Some("a"), Some("b")]),
            strings(&[Some("a"), None, Some("b")]),
        ],
    );
    assert_eq!(
        sort_indices(&rs, 0, SortOrder::Ascending).unwrap(),
        [1, 3, 0, 2, 5, 4]
    );
    assert_eq!(
        sort_indices(&rs, 0, SortOrder::Descending).unwrap(),
        [0, 2, 5, 1, 3, 4]
    );
}

#[test]
fn sort_handles_structs_maps_and_errors() {
    let rs = struct_list_result();
    // Lists: [] < [1, null, 3]; NULL last.
    assert_eq!(
        sort_indices(&rs, 0, SortOrder::Ascending).unwrap(),
        [1, 0, 2]
    );
    // Structs compare field by field; a NULL name sorts after "a\"b" and "c" (nulls last).
    assert_eq!(
        sort_indices(&rs, 1, SortOrder::Ascending).unwrap(),
        [0, 2, 1]
    );

    let mut builder = MapBuilder::new(None, StringBuilder::new(), Int32Builder::new());
    for (k, v) in [("b", 1), ("a", 2)] {
        builder.keys().append_value(k);
        builder.values().append_value(v);
        builder.append(true).unwrap();
    }
    builder.append(false).unwrap();
    let map = builder.finish();
    let rs = one_column(
        Field::new("m", map.data_type().clone(), true),
        vec![Arc::new(map)],
    );
    // Maps have no arrow ordering: sorted by display text.
    assert_eq!(
        sort_indices(&rs, 0, SortOrder::Ascending).unwrap(),
        [1, 0, 2]
    );
    assert!(sort_indices(&rs, 3, SortOrder::Ascending).is_err());
}

#[test]
fn filter_is_case_insensitive_across_batches_and_types() {
    let rs = people();
    assert_eq!(filter_indices(&rs, "ALI").unwrap(), [0, 4]);
    assert_eq!(filter_indices(&rs, "BoB").unwrap(), [2]);
    // Numbers match through their text, in any batch.
    assert_eq!(filter_indices(&rs, "1.5").unwrap(), [0]);
    assert_eq!(filter_indices(&rs, "4").unwrap(), [3]);
    assert_eq!(filter_indices(&rs, "e300").unwrap(), [3]);
    assert_eq!(filter_indices(&rs, "zzz").unwrap(), Vec::<u32>::new());
    assert_eq!(filter_indices(&rs, "").unwrap(), [0, 1, 2, 3, 4]);
}

#[test]
fn filter_nulls_match_only_the_word_null() {
    let rs = people();
    assert_eq!(filter_indices(&rs, "null").unwrap(), [1]);
    assert_eq!(filter_indices(&rs, "NUL").unwrap(), [1]);
    assert_eq!(filter_indices(&rs, "nullx").unwrap(), Vec::<u32>::new());
}

#[test]
fn filter_treats_wildcards_literally_and_sees_nested_and_binary() {
    let rs = one_column(
        Field::new("s", DataType::Utf8, true),
        vec![strings(&[
            Some("100%"),
            Some("1000"),
            Some("a_b"),
            Some("axb"),
        ])],
    );
    assert_eq!(filter_indices(&rs, "0%").unwrap(), [0]);
    assert_eq!(filter_indices(&rs, "_").unwrap(), [2]);

    let rs = struct_list_result();
    assert_eq!(filter_indices(&rs, "\"NAME\":\"C").unwrap(), [2]);
    assert_eq!(filter_indices(&rs, "null,3").unwrap(), [0]);

    let bin = BinaryArray::from(vec![Some(&[0xde_u8, 0xad][..]), Some(&[0x01_u8][..])]);
    let rs = one_column(Field::new("b", DataType::Binary, true), vec![Arc::new(bin)]);
    assert_eq!(filter_indices(&rs, "DEAD").unwrap(), [0]);
}

#[test]
fn filter_matches_text_beyond_the_display_cut() {
    let long = format!("{}needle", "x".repeat(10_000));
    let rs = one_column(
        Field::new("s", DataType::Utf8, true),
        vec![strings(&[Some("x"), Some(&long)])],
    );
    assert_eq!(filter_indices(&rs, "NEEDLE").unwrap(), [1]);
}

#[test]
fn column_widths_use_header_sample_and_cap() {
    let rs = people();
    // id: header 2, values 1; name: "ALIcia" 6; score: "1e300" 5.
    assert_eq!(rs.column_widths(10, 100), [2, 6, 5]);
    assert_eq!(rs.column_widths(10, 3), [2, 3, 3]);
    assert_eq!(rs.column_widths(10, 0), [1, 1, 1]);
    // Sample 1 sees rows 0 and 4 only: "Alice"(5)/"ALIcia"(6), "1.5"/"-2.0".
    assert_eq!(rs.column_widths(1, 100), [2, 6, 5]);

    let rs = one_column(
        Field::new("wide", DataType::Utf8, true),
        vec![strings(&[Some("漢字漢字漢字"), Some(&"y".repeat(5000))])],
    );
    assert_eq!(rs.column_widths(5, 1000), [MAX_CELL_CHARS]);
    assert_eq!(rs.column_widths(5, 40), [40]);
    let first_only = one_column(
        Field::new("w", DataType::Utf8, true),
        vec![strings(&[Some("漢字漢字漢字")])],
    );
    assert_eq!(first_only.column_widths(5, 40), [12]);
}

#[test]
fn absent_values_are_not_shown_as_null_where_the_column_says_so() {
    let meta = [(MISSING_KEY.to_string(), "true".to_string())];
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Utf8, true).with_metadata(meta.into()),
        Field::new("b", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec![None, Some("null")])),
            Arc::new(StringArray::from(vec![None::<&str>, None])),
        ],
    )
    .unwrap();
    let mut rs = ResultSet::new(schema);
    rs.push_batch(batch);
    assert_eq!(rs.cell(0, 0).text, MISSING_TEXT);
    assert_eq!(rs.cell(0, 0).kind, CellKind::Null);
    assert_eq!(rs.cell(1, 0).text, "null");
    assert_eq!(rs.cell(0, 1).text, "NULL");
}
