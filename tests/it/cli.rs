//! `quarry run`, `quarry connections` and `quarry config …` driven as a script would: the real
//! binary, stdout a pipe, an isolated HOME.

use std::sync::Arc;

use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};

use crate::common::{Output, Sandbox};

/// `quarry run <args…>` in a fresh sandbox.
fn run(args: &[&str]) -> Output {
    let mut full = vec!["run"];
    full.extend_from_slice(args);
    Sandbox::new().run(full)
}

/// The config text of one `local` connection named `name` reading `dir`.
pub fn local_connection_toml(name: &str, dir: &std::path::Path) -> String {
    format!(
        "[[connection]]\nname = \"{name}\"\nkind = \"local\"\npaths = [{}]\n",
        toml_string(&dir.to_string_lossy())
    )
}

/// A TOML basic string (the temp dir path has no quotes or backslashes, but be exact).
fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Parses the first stdout line that looks like a number.
fn single_number(out: &Output) -> i64 {
    let lines = out.lines();
    assert_eq!(lines.len(), 2, "expected a header and one value\n{out}");
    lines[1]
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("not a number ({e})\n{out}"))
}

#[test]
fn select_one_as_csv() {
    let out = run(&["SELECT 1 AS one", "--format", "csv"]);
    out.assert_ok().assert_no_panic();
    assert_eq!(out.lines(), vec!["one", "1"], "{out}");
}

#[test]
fn piped_default_format_is_csv() {
    let out = run(&["SELECT 1 AS one, 'x' AS s"]);
    out.assert_ok();
    assert_eq!(out.lines(), vec!["one,s", "1,x"], "{out}");
}

#[test]
fn tsv_and_markdown_formats() {
    let out = run(&["SELECT 1 AS a, 'b c' AS b", "--format", "tsv"]);
    out.assert_ok();
    assert_eq!(out.lines(), vec!["a\tb", "1\tb c"], "{out}");

    let out = run(&["SELECT 1 AS a, 'x' AS b", "--format", "markdown"]);
    out.assert_ok();
    let lines = out.lines();
    assert_eq!(lines.len(), 3, "header, separator, one row\n{out}");
    assert!(lines[0].starts_with('|') && lines[0].contains('a') && lines[0].contains('b'));
    assert!(lines[1].contains("---"), "{out}");
    assert!(lines[2].contains('1') && lines[2].contains('x'), "{out}");
}

#[test]
fn json_is_one_array_with_numbers_and_nulls() {
    let sql = "SELECT 1 AS i, 2.5 AS f, CAST(NULL AS BIGINT) AS n, 'a' AS s, true AS t \
               UNION ALL SELECT 2, NULL, 3, NULL, false";
    let out = run(&[sql, "--format", "json"]);
    out.assert_ok();
    let value = out.json();
    let rows = value
        .as_array()
        .unwrap_or_else(|| panic!("not an array\n{out}"));
    assert_eq!(rows.len(), 2, "{out}");
    let mut rows = rows.clone();
    rows.sort_by_key(|r| r["i"].as_i64());
    let (first, second) = (&rows[0], &rows[1]);
    assert_eq!(first["i"], serde_json::json!(1), "{out}");
    assert!(first["i"].is_number() && first["f"].is_number(), "{out}");
    assert_eq!(first["f"].as_f64(), Some(2.5), "{out}");
    assert!(
        first.get("n").is_some_and(|n| n.is_null()),
        "NULL must be an explicit null\n{out}"
    );
    assert_eq!(first["s"], serde_json::json!("a"), "{out}");
    assert_eq!(first["t"], serde_json::json!(true), "{out}");
    assert!(second.get("f").is_some_and(|f| f.is_null()), "{out}");
    assert!(second.get("s").is_some_and(|s| s.is_null()), "{out}");
    assert_eq!(second["n"], serde_json::json!(3), "{out}");
}

#[test]
fn json_of_an_empty_result_is_an_empty_array() {
    let out = run(&["SELECT 1 AS a WHERE 1 = 0", "--format", "json"]);
    out.assert_ok();
    assert_eq!(out.json(), serde_json::json!([]), "{out}");
}

#[test]
fn json_decimals_are_numbers() {
    let sql = "SELECT fare_amount FROM trips WHERE fare_amount > 0 ORDER BY trip_id LIMIT 1";
    let out = run(&[sql, "--format", "json"]);
    out.assert_ok();
    let fare = &out.json()[0]["fare_amount"];
    assert!(
        fare.is_number(),
        "decimal(10,2) must be a JSON number, got {fare}\n{out}"
    );
}

#[test]
fn jsonl_is_one_object_per_line() {
    let sql = "SELECT id, name FROM (VALUES (1, 'a'), (2, NULL)) AS t(id, name) ORDER BY id";
    let out = run(&[sql, "--format", "jsonl"]);
    out.assert_ok();
    let rows: Vec<serde_json::Value> = out
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}\n{out}")))
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!(rows[0], serde_json::json!({"id": 1, "name": "a"}), "{out}");
    assert_eq!(rows[1]["id"], serde_json::json!(2), "{out}");
    assert!(rows[1].get("name").is_some_and(|n| n.is_null()), "{out}");
}

#[test]
fn file_with_two_statements_runs_both_in_order() {
    let sb = Sandbox::new();
    let file = sb.write(
        "two.sql",
        "-- first\nSELECT 1 AS first_col;\n\n/* second */\nSELECT 'two' AS second_col;\n",
    );
    let out = sb.run([
        "run",
        "-f",
        file.to_str().unwrap_or_default(),
        "--format",
        "csv",
    ]);
    out.assert_ok();
    let lines = out.lines();
    let pos = |needle: &str| {
        lines
            .iter()
            .position(|l| l.trim() == needle)
            .unwrap_or_else(|| panic!("{needle:?} missing\n{out}"))
    };
    assert!(pos("first_col") < pos("1"), "{out}");
    assert!(pos("1") < pos("second_col"), "{out}");
    assert!(pos("second_col") < pos("two"), "{out}");
}

#[test]
fn output_file_gets_the_result() {
    let sb = Sandbox::new();
    let target = sb.work().join("out.csv");
    let out = sb.run([
        "run",
        "SELECT 1 AS one",
        "--format",
        "csv",
        "-o",
        target.to_str().unwrap_or_default(),
    ]);
    out.assert_ok();
    let written = std::fs::read_to_string(&target)
        .unwrap_or_else(|e| panic!("{} not written: {e}\n{out}", target.display()));
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines, vec!["one", "1"]);
    assert!(
        !out.stdout.contains("one"),
        "the result went to stdout too\n{out}"
    );
}

#[test]
fn output_file_is_not_created_when_planning_fails() {
    let sb = Sandbox::new();
    let target = sb.work().join("out.csv");
    let out = sb.run([
        "run",
        "SELECT * FROM no_such_table",
        "--format",
        "csv",
        "-o",
        target.to_str().unwrap_or_default(),
    ]);
    out.assert_code(1).assert_no_panic();
    assert!(
        !target.exists(),
        "a failed query left {}\n{out}",
        target.display()
    );
}

#[test]
fn output_file_is_not_left_partial_when_execution_fails_midway() {
    // No ORDER BY: the batches before trip 15000 stream out, then the division by zero fails
    // the query.
    let sb = Sandbox::new();
    let target = sb.work().join("partial.csv");
    let out = sb.run([
        "run",
        "SELECT trip_id, 100 / (trip_id - 15000) AS boom FROM trips",
        "--format",
        "csv",
        "-o",
        target.to_str().unwrap_or_default(),
    ]);
    out.assert_code(1).assert_no_panic();
    assert!(
        !target.exists(),
        "a failed query left {}\n{out}",
        target.display()
    );
    let leftovers: Vec<_> = std::fs::read_dir(sb.work())
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        leftovers.is_empty(),
        "temporary files left behind: {leftovers:?}"
    );
}

#[test]
fn query_error_exits_1_and_names_the_error() {
    let out = run(&["SELECT * FROM no_such_table", "--format", "csv"]);
    out.assert_code(1).assert_no_panic();
    assert!(out.stderr.contains("no_such_table"), "{out}");
    assert!(out.stdout.trim().is_empty(), "{out}");
}

#[test]
fn second_statement_failing_still_exits_1_after_the_first_result() {
    let out = run(&[
        "SELECT 1 AS ok; SELECT nope FROM nowhere",
        "--format",
        "csv",
    ]);
    out.assert_code(1).assert_no_panic();
    assert!(
        out.stdout.contains("ok"),
        "the first result is written\n{out}"
    );
    assert!(out.stderr.contains("nowhere"), "{out}");
}

#[test]
fn unknown_connection_exits_2() {
    let out = run(&["-c", "no-such-connection", "SELECT 1", "--format", "csv"]);
    out.assert_code(2).assert_no_panic();
    assert!(out.stderr.contains("no-such-connection"), "{out}");
}

#[test]
fn bad_usage_exits_2() {
    run(&["SELECT 1", "--format", "yaml"]).assert_code(2);
    Sandbox::new()
        .run(["--no-such-flag"])
        .assert_code(2)
        .assert_no_panic();
}

#[test]
fn sample_tables_are_registered() {
    let sb = Sandbox::new();
    for (table, min) in [
        ("trips", 1000),
        ("zones", 50),
        ("vendors", 3),
        ("events", 100),
    ] {
        let sql = format!("SELECT count(*) AS n FROM {table}");
        let out = sb.run(["run", sql.as_str(), "--format", "csv"]);
        out.assert_ok();
        let n = single_number(&out);
        assert!(n > min, "{table} has {n} rows, expected more than {min}");
    }
}

#[test]
fn sample_tables_join() {
    let sql = "SELECT z.borough, v.name, count(*) AS trips, sum(t.fare_amount) AS fares \
               FROM trips t JOIN zones z ON t.pickup_zone_id = z.zone_id \
               JOIN vendors v ON t.vendor_id = v.vendor_id \
               GROUP BY 1, 2 ORDER BY 3 DESC";
    let out = run(&[sql, "--format", "csv"]);
    out.assert_ok();
    assert!(out.lines().len() > 5, "{out}");
    assert!(out.stdout.contains("Manhattan"), "{out}");
    // Every trip joins: the per-group counts add up to the whole table.
    let total: i64 = out.lines()[1..]
        .iter()
        .filter_map(|l| l.rsplit(',').nth(1)?.parse::<i64>().ok())
        .sum();
    let all = run(&["SELECT count(*) FROM trips", "--format", "csv"]);
    assert_eq!(total, single_number(&all), "{out}");
}

#[test]
fn sample_events_have_nested_fields() {
    let sql = "SELECT count(*) AS n FROM events \
               WHERE \"user\"['platform'] IN ('ios', 'android', 'web') \
               AND array_length(tags) IS NOT NULL";
    let out = run(&[sql, "--format", "csv"]);
    out.assert_ok();
    assert!(single_number(&out) > 0, "{out}");
}

/// Writes `people.csv` and `metrics.parquet` into a fresh directory of the sandbox.
fn write_data_dir(sb: &Sandbox) -> std::path::PathBuf {
    sb.write(
        "data/people.csv",
        "id,name,city\n1,Ada,London\n2,Grace,Arlington\n3,Linus,Helsinki\n",
    );
    let schema = Arc::new(Schema::new(vec![
        Field::new("person_id", DataType::Int64, false),
        Field::new("metric", DataType::Utf8, false),
        Field::new("value", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![1, 1, 2, 3])),
            Arc::new(StringArray::from(vec![
                "commits", "reviews", "commits", "commits",
            ])),
            Arc::new(Float64Array::from(vec![
                Some(10.0),
                Some(2.5),
                Some(7.0),
                None,
            ])),
        ],
    )
    .expect("build batch");
    let path = sb.work().join("data/metrics.parquet");
    let file = std::fs::File::create(&path).expect("create metrics.parquet");
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(file, schema, None).expect("parquet writer");
    writer.write(&batch).expect("write parquet");
    writer.close().expect("close parquet");
    sb.work().join("data")
}

/// Issue 16.6: one undecodable file in a `paths` directory made every query and `quarry ls`
/// of the connection fail. It is listed as broken, named whole when queried, and the rest works.
#[test]
fn one_undecodable_file_leaves_the_rest_of_the_directory_working() {
    let sb = Sandbox::new();
    let dir = write_data_dir(&sb);
    let bad = dir.join("broken.csv");
    std::fs::write(&bad, b"id,name\n1,\xff\xfe\x00\n").expect("write the bad file");
    let config = sb.config("quarry.toml", &local_connection_toml("files", &dir));
    let cfg = config.to_str().unwrap_or_default();
    let listed = sb.run(["--config", cfg, "ls", "-c", "files"]);
    listed.assert_ok();
    let row = listed
        .stdout
        .lines()
        .find(|l| l.starts_with("broken\t"))
        .unwrap_or_else(|| panic!("the bad file is not listed\n{listed}"));
    assert!(row.contains("\tbroken\t"), "{listed}");
    assert!(row.contains(&format!("`{}`", bad.display())), "{listed}");
    assert!(listed.stdout.contains("people\ttable"), "{listed}");
    let good = sb.run([
        "--config",
        cfg,
        "run",
        "-c",
        "files",
        "SELECT count(*) AS n FROM people",
    ]);
    good.assert_ok();
    let queried = sb.run([
        "--config",
        cfg,
        "run",
        "-c",
        "files",
        "SELECT * FROM broken",
    ]);
    queried.assert_code(1).assert_no_panic();
    assert!(
        queried.stderr.contains(&format!("`{}`", bad.display())),
        "the whole path, leading `/` included\n{queried}"
    );
}

#[test]
fn local_connection_reads_files_from_its_paths() {
    let sb = Sandbox::new();
    let dir = write_data_dir(&sb);
    let config = sb.config("quarry.toml", &local_connection_toml("files", &dir));
    let cfg = config.to_str().unwrap_or_default();

    let out = sb.run([
        "--config",
        cfg,
        "run",
        "-c",
        "files",
        "SELECT name FROM people ORDER BY id",
        "--format",
        "csv",
    ]);
    out.assert_ok();
    assert_eq!(out.lines(), vec!["name", "Ada", "Grace", "Linus"], "{out}");

    let sql = "SELECT p.name, sum(m.value) AS total FROM people p \
               JOIN metrics m ON m.person_id = p.id GROUP BY p.name ORDER BY p.name";
    let out = sb.run([
        "--config", cfg, "run", "-c", "files", sql, "--format", "jsonl",
    ]);
    out.assert_ok();
    let rows: Vec<serde_json::Value> = out
        .lines()
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(rows.len(), 3, "{out}");
    assert_eq!(rows[0]["name"], serde_json::json!("Ada"), "{out}");
    assert_eq!(rows[0]["total"].as_f64(), Some(12.5), "{out}");
    assert!(rows[2].get("total").is_some_and(|t| t.is_null()), "{out}");

    // The sample tables are there too.
    let out = sb.run([
        "--config",
        cfg,
        "run",
        "-c",
        "files",
        "SELECT count(*) FROM zones",
        "--format",
        "csv",
    ]);
    out.assert_ok();
}

#[test]
fn table_format_strips_escape_sequences() {
    let sql = "SELECT chr(27) || '[31mred' || chr(7) AS s";
    let out = run(&[sql, "--format", "table"]);
    out.assert_ok();
    assert!(out.stdout.contains("red"), "{out}");
    assert!(
        !out.stdout.contains('\x1b'),
        "raw ESC reached the output\n{out:?}"
    );
    assert!(
        !out.stdout.contains('\x07'),
        "raw BEL reached the output\n{out:?}"
    );
}

#[test]
fn error_messages_carry_no_raw_escapes() {
    let sql = "SELECT * FROM \"evil\x1b[2Jtable\"";
    let out = run(&[sql, "--format", "csv"]);
    out.assert_code(1);
    assert!(
        !out.stderr.contains('\x1b'),
        "raw ESC in the error message\n{out:?}"
    );
}

#[test]
fn connections_lists_the_builtin_local() {
    let out = Sandbox::new().run(["connections"]);
    out.assert_ok().assert_no_panic();
    let line = out
        .lines()
        .into_iter()
        .find(|l| l.split_whitespace().next() == Some("local"))
        .unwrap_or_else(|| panic!("no `local` line\n{out}"))
        .to_string();
    assert!(line.contains("local"), "{out}");
}

#[test]
fn connections_lists_configured_ones_with_kind_and_detail() {
    let sb = Sandbox::new();
    let dir = write_data_dir(&sb);
    let config = sb.config("quarry.toml", &local_connection_toml("files", &dir));
    let out = sb.run([
        "--config",
        config.to_str().unwrap_or_default(),
        "connections",
    ]);
    out.assert_ok();
    let line = out
        .lines()
        .into_iter()
        .find(|l| l.split_whitespace().next() == Some("files"))
        .unwrap_or_else(|| panic!("no `files` line\n{out}"))
        .to_string();
    assert!(line.contains("local"), "kind missing\n{out}");
    assert!(line.contains("data"), "detail (the path) missing\n{out}");
    assert!(out.lines().iter().any(|l| l.starts_with("local")), "{out}");
}

#[test]
fn config_init_writes_a_valid_example_and_refuses_to_overwrite() {
    let sb = Sandbox::new();
    let path = sb.work().join("new/quarry.toml");
    let p = path.to_str().unwrap_or_default();
    sb.run(["config", "init", p]).assert_ok().assert_no_panic();
    let written = std::fs::read_to_string(&path).expect("config init wrote the file");
    assert!(
        written.contains("[") && written.contains("local"),
        "{written}"
    );

    // The example it writes is a config Quarry accepts.
    sb.run(["--config", p, "connections"]).assert_ok();

    std::fs::write(&path, "# mine\n").expect("overwrite with own content");
    let out = sb.run(["config", "init", p]);
    out.assert_code(2).assert_no_panic();
    assert!(out.stderr.contains("quarry.toml"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap_or_default(),
        "# mine\n"
    );
}

#[test]
fn config_init_without_path_uses_the_default_location() {
    let sb = Sandbox::new();
    sb.run(["config", "init"]).assert_ok();
    let expected = sb.config_home().join("quarry/config.toml");
    assert!(expected.is_file(), "{} not written", expected.display());
}

#[test]
fn config_path_prints_the_path_in_use() {
    let sb = Sandbox::new();
    let out = sb.run(["config", "path"]);
    out.assert_ok();
    let expected = sb.config_home().join("quarry/config.toml");
    assert_eq!(out.stdout.trim(), expected.to_string_lossy(), "{out}");

    let custom = sb.config("elsewhere.toml", "");
    let custom = custom.to_str().unwrap_or_default();
    let out = sb.run(["--config", custom, "config", "path"]);
    out.assert_ok();
    assert_eq!(out.stdout.trim(), custom, "{out}");

    let out = sb
        .command(["config", "path"])
        .env("QUARRY_CONFIG", custom)
        .output()
        .expect("run quarry");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), custom);
}

/// `config path` is how a user finds the file to fix or create: it must work when the file is
/// broken or does not exist yet.
#[test]
fn config_path_works_when_the_config_is_broken_or_missing() {
    let sb = Sandbox::new();
    let broken = sb.config(
        "broken.toml",
        "[[connection]]\nname = \"x\"\nkind = \"oracle\"\n",
    );
    let broken = broken.to_str().unwrap_or_default();
    let out = sb.run(["--config", broken, "config", "path"]);
    out.assert_ok().assert_no_panic();
    assert_eq!(out.stdout.trim(), broken, "{out}");

    let missing = sb.work().join("not-yet.toml");
    let missing = missing.to_str().unwrap_or_default();
    let out = sb.run(["--config", missing, "config", "path"]);
    out.assert_ok().assert_no_panic();
    assert_eq!(out.stdout.trim(), missing, "{out}");
}
