//! Saved snippets through the real binary: `quarry snippets list` and `quarry run --snippet`.

use std::path::PathBuf;

use crate::common::{Output, Sandbox};

/// Writes `<data dir>/snippets/<rel>` and returns its path.
fn snippet(sb: &Sandbox, rel: &str, content: &str) -> PathBuf {
    let path = sb.data_dir().join("snippets").join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("create the folder");
    std::fs::write(&path, content).expect("write the snippet");
    path
}

fn jsonl(out: &Output) -> Vec<serde_json::Value> {
    out.lines()
        .into_iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{out}")))
        .collect()
}

const MALFORMED: &str = "-- name: broken\n-- tags: fine, not fine\nSELECT 1\n";

/// A library with a header, a header-less file in a sub-folder and a malformed file.
fn library(sb: &Sandbox) -> PathBuf {
    snippet(
        sb,
        "trips.sql",
        "-- name: Trips per vendor\n-- description: Busiest vendors first\n\
         -- connection: athena-prod\n-- tags: trips, daily\n\n\
         SELECT vendor, count(*) FROM trips GROUP BY 1\n",
    );
    snippet(sb, "reports/weekly.sql", "-- a plain comment\nSELECT 2\n");
    snippet(sb, "notes.txt", "not a snippet");
    snippet(sb, "bad.sql", MALFORMED)
}

#[test]
fn list_as_table_with_errors_on_stderr() {
    let sb = Sandbox::new();
    let bad = library(&sb);
    let out = sb.run(["snippets", "list"]);
    out.assert_ok().assert_no_panic();
    let lines = out.lines();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].starts_with("NAME") && lines[0].ends_with("PATH"),
        "{out}"
    );
    let cols = |l: &str| -> Vec<String> {
        l.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(cols(lines[1])[0], "reports/weekly", "{out}");
    assert_eq!(cols(lines[1])[1], "reports/weekly.sql", "{out}");
    assert_eq!(
        cols(lines[2]),
        [
            "Trips per vendor",
            "athena-prod",
            "trips, daily",
            "Busiest vendors first",
            "trips.sql"
        ],
        "{out}"
    );
    // Columns line up: PATH starts at the same place on every line.
    let at = lines[0].find("PATH").unwrap();
    assert_eq!(&lines[2][at..], "trips.sql", "{out}");
    // The malformed file is named with its line, and kept byte for byte.
    assert!(
        out.stderr.contains("bad.sql:2: ") && out.stderr.contains("tag `not fine`"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), MALFORMED);
}

#[test]
fn list_as_jsonl() {
    let sb = Sandbox::new();
    library(&sb);
    let out = sb.run(["snippets", "list", "--format", "jsonl"]);
    out.assert_ok();
    let rows = jsonl(&out);
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!(rows[0]["name"], "reports/weekly");
    assert_eq!(rows[0]["connection"], serde_json::Value::Null);
    assert_eq!(rows[0]["tags"], serde_json::json!([]));
    assert_eq!(rows[1]["name"], "Trips per vendor");
    assert_eq!(rows[1]["connection"], "athena-prod");
    assert_eq!(rows[1]["tags"], serde_json::json!(["trips", "daily"]));
    assert_eq!(rows[1]["description"], "Busiest vendors first");
    assert_eq!(rows[1]["path"], "trips.sql");
    let file = rows[1]["file"].as_str().unwrap();
    assert!(
        std::path::Path::new(file).ends_with("snippets/trips.sql"),
        "{out}"
    );
    assert!(out.stderr.contains("bad.sql:2:"), "{out}");
}

#[test]
fn empty_and_all_broken_libraries() {
    let sb = Sandbox::new();
    let out = sb.run(["snippets", "list"]);
    out.assert_ok();
    assert!(out.stdout.is_empty(), "{out}");
    assert!(out.stderr.contains("no snippets in"), "{out}");

    snippet(&sb, "bad.sql", MALFORMED);
    let out = sb.run(["snippets", "list", "--format", "jsonl"]);
    out.assert_code(1).assert_no_panic();
    assert!(out.stdout.is_empty(), "{out}");
    assert!(out.stderr.contains("bad.sql:2:"), "{out}");
}

#[test]
fn run_snippet_usage_errors_exit_2() {
    let sb = Sandbox::new();
    snippet(
        &sb,
        "greet.sql",
        "-- name: greet\nSELECT ${who} AS who, ${n:41} + 1 AS n\n",
    );
    snippet(&sb, "elsewhere.sql", "-- connection: nowhere\nSELECT 1\n");
    snippet(&sb, "bad.sql", MALFORMED);

    let out = sb.run(["run", "--snippet", "greet"]);
    out.assert_code(2).assert_no_panic();
    assert!(
        out.stderr.contains("${who}") && out.stderr.contains("--set who="),
        "{out}"
    );

    let out = sb.run(["run", "--snippet", "greet", "--set", "whom=x"]);
    out.assert_code(2);
    assert!(out.stderr.contains("no ${whom} placeholder"), "{out}");

    let out = sb.run(["run", "--snippet", "greet", "--set", "who"]);
    out.assert_code(2);
    assert!(out.stderr.contains("NAME=VALUE"), "{out}");

    let out = sb.run(["run", "--snippet", "nope"]);
    out.assert_code(2);
    assert!(out.stderr.contains("no snippet named `nope`"), "{out}");

    let out = sb.run(["run", "--snippet", "bad"]);
    out.assert_code(2);
    assert!(out.stderr.contains("bad.sql:2:"), "{out}");

    // The snippet's connection is the default, and it must exist.
    let out = sb.run(["run", "--snippet", "elsewhere"]);
    out.assert_code(2);
    assert!(out.stderr.contains("`nowhere`"), "{out}");

    // --snippet replaces the SQL, a file and --param; --set needs --snippet.
    for args in [
        &["run", "--snippet", "greet", "SELECT 1"][..],
        &["run", "--snippet", "greet", "-f", "x.sql"],
        &["run", "--snippet", "greet", "--param", "1"],
        &["run", "SELECT 1", "--set", "a=b"],
    ] {
        sb.run(args).assert_code(2);
    }
}

#[cfg(feature = "local")]
#[test]
fn run_snippet_with_values_and_defaults_on_the_local_engine() {
    let sb = Sandbox::new();
    snippet(
        &sb,
        "people/greet.sql",
        "-- name: greet\n-- connection: local\n\
         SELECT ${who} AS who, ${n:41} + 1 AS n, '${who}!' AS shout;\nSELECT ${n:41} AS again\n",
    );
    let out = sb.run([
        "run",
        "--snippet",
        "greet",
        "--set",
        "who=O'Brien",
        "--format",
        "csv",
    ]);
    out.assert_ok().assert_no_panic();
    assert_eq!(
        out.lines(),
        ["who,n,shout", "O'Brien,42,O'Brien!", "again", "41"],
        "{out}"
    );

    // By path, with the default overridden and -c given explicitly.
    let out = sb.run([
        "-c",
        "local",
        "run",
        "--snippet",
        "people/greet.sql",
        "--set",
        "who=x",
        "--set",
        "n=1",
        "--format",
        "csv",
    ]);
    out.assert_ok();
    assert_eq!(
        out.lines(),
        ["who,n,shout", "x,2,x!", "again", "1"],
        "{out}"
    );
}
