//! DynamoDB statement groups through the real binary against DynamoDB Local:
//! `quarry run --batch` (BatchExecuteStatement, at most 25 statements a call, reads and writes
//! in separate calls) and `quarry run --transaction` (one ExecuteTransaction, all or nothing).
//!
//! The contract: each statement's rows on stdout in order (a batch SELECT names the full key,
//! so at most one item); on stderr a line `statement N: <Code>: <message>` per failed statement
//! (a failed condition adds ` (item: {json})` with the old item), then the summary
//! `batch: X succeeded, Y failed` or `transaction: X succeeded, Y failed`. A cancelled
//! transaction reports every statement: its cancellation reason, or
//! `statement N: not applied (the transaction was cancelled)` for reason `None`. Exit code 0
//! when all succeeded, 1 when any failed, 2 for usage errors.
//!
//! What DynamoDB Local answers here (checked by hand with raw requests): an INSERT of an
//! existing key fails with `DuplicateItem`, a false `WHERE` condition of an UPDATE with
//! `ConditionalCheckFailed` (carrying the old item when asked with `ALL_OLD`), a batch mixing
//! reads and writes is a `ValidationException`, and a cancelled transaction lists one reason a
//! statement (`None` for those that were fine).

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Output, run_command};
use crate::dynamo_local::DynamoLocal;

const TIMEOUT: Duration = Duration::from_secs(120);

/// The table every test uses, keyed by the string `pk`.
const TABLE: &str = "grp";

/// The `ddb` connection of `dynamodb.rs`, with the group helpers below.
struct Dynamo {
    base: crate::dynamodb::Dynamo,
}

impl Dynamo {
    fn new(db: &DynamoLocal) -> Self {
        Dynamo {
            base: crate::dynamodb::Dynamo::new(db, ""),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        self.base.command(args)
    }

    /// `quarry run -c CONNECTION ARGS…`.
    #[track_caller]
    fn run_on(&self, connection: &str, args: &[&str]) -> Output {
        let mut full = vec!["run", "-c", connection];
        full.extend_from_slice(args);
        let out = run_command(&mut self.command(&full), TIMEOUT);
        out.assert_no_panic();
        out
    }

    /// `quarry run -c ddb --format jsonl ARGS…`.
    #[track_caller]
    fn run(&self, args: &[&str]) -> Output {
        let mut full = vec!["--format", "jsonl"];
        full.extend_from_slice(args);
        self.run_on("ddb", &full)
    }

    /// `--batch` (or `--transaction`) with `params` (`--param` values, in order) and the
    /// statements joined by `; `.
    #[track_caller]
    fn group(&self, flag: &str, params: &[&str], statements: &[String]) -> Output {
        let mut args = Vec::new();
        for p in params {
            args.extend(["--param", p]);
        }
        let sql = statements.join("; ");
        args.extend([flag, sql.as_str()]);
        self.run(&args)
    }

    /// Every item of [`TABLE`] (an ordinary scan, which must succeed), ordered by `pk`.
    #[track_caller]
    fn table(&self) -> Vec<Value> {
        let out = self.run(&[&format!("SELECT * FROM \"{TABLE}\"")]);
        out.assert_ok();
        let mut items = items(&out);
        items.sort_by(|a, b| a["pk"].as_str().cmp(&b["pk"].as_str()));
        items
    }
}

/// Starts DynamoDB Local with [`TABLE`] holding `{pk: "a", v: 1}` and `{pk: "b", v: 1}`.
fn seeded() -> DynamoLocal {
    let db = DynamoLocal::start();
    db.create_table(TABLE, ("pk", "S"), None);
    db.put_items(
        TABLE,
        &[
            json!({"pk": {"S": "a"}, "v": {"N": "1"}}),
            json!({"pk": {"S": "b"}, "v": {"N": "1"}}),
        ],
    );
    db
}

/// The seed items as `quarry` prints them (plain JSON), ordered by `pk`.
fn seed() -> Vec<Value> {
    vec![json!({"pk": "a", "v": 1}), json!({"pk": "b", "v": 1})]
}

/// stdout's jsonl lines, parsed.
#[track_caller]
fn items(out: &Output) -> Vec<Value> {
    out.lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{out}")))
        .collect()
}

/// `INSERT INTO "grp" VALUE {'pk': '<pk>', 'v': <v>}`.
fn insert(pk: &str, v: i64) -> String {
    format!("INSERT INTO \"{TABLE}\" VALUE {{'pk': '{pk}', 'v': {v}}}")
}

/// The stderr lines reporting statement `n` (`statement N: …`).
fn statement_lines(out: &Output, n: usize) -> Vec<&str> {
    let prefix = format!("statement {n}: ");
    out.stderr
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .collect()
}

/// The one stderr line reporting statement `n`; panics unless there is exactly one.
#[track_caller]
fn statement_line(out: &Output, n: usize) -> &str {
    match statement_lines(out, n)[..] {
        [line] => line,
        ref lines => panic!("expected one `statement {n}:` line, got {lines:?}\n{out}"),
    }
}

/// Panics unless stderr has the line `summary` exactly.
#[track_caller]
fn assert_summary(out: &Output, summary: &str) {
    assert!(
        out.stderr.lines().any(|l| l.trim_end() == summary),
        "no summary line `{summary}`\n{out}"
    );
}

/// The old item a ` (item: {json})` suffix carries, parsed.
#[track_caller]
fn old_item(line: &str) -> Value {
    let (_, rest) = line
        .split_once(" (item: ")
        .unwrap_or_else(|| panic!("no ` (item: ` in `{line}`"));
    let json = rest
        .strip_suffix(')')
        .unwrap_or_else(|| panic!("` (item: …` does not end with `)`: `{line}`"));
    serde_json::from_str(json).unwrap_or_else(|e| panic!("the item is not JSON ({e}): `{line}`"))
}

#[test]
fn a_batch_of_30_writes_takes_two_calls_and_writes_every_item() {
    let db = DynamoLocal::start();
    db.create_table(TABLE, ("pk", "S"), None);
    let ddb = Dynamo::new(&db);
    // More than BatchExecuteStatement's 25: one call with all 30 would be a
    // ValidationException, so success means the statements were split.
    let statements: Vec<String> = (0..30).map(|i| insert(&format!("k{i:02}"), i)).collect();
    let out = ddb.group("--batch", &[], &statements);
    out.assert_ok();
    assert!(out.lines().is_empty(), "writes print no rows\n{out}");
    assert!(
        !out.stderr.lines().any(|l| l.starts_with("statement ")),
        "no statement failed\n{out}"
    );
    assert_summary(&out, "batch: 30 succeeded, 0 failed");

    let expected: Vec<Value> = (0..30)
        .map(|i| json!({"pk": format!("k{i:02}"), "v": i}))
        .collect();
    assert_eq!(ddb.table(), expected);
}

#[test]
fn a_batch_mixing_reads_and_writes_reports_each_failure_and_keeps_the_successes() {
    let db = seeded();
    let ddb = Dynamo::new(&db);
    let statements = [
        // 1: a new key (write call 1).
        insert("x", 5),
        // 2: a point read of a seeded item (read call).
        format!("SELECT * FROM \"{TABLE}\" WHERE pk = 'a'"),
        // 3: an existing key (write call 2): DuplicateItem.
        insert("b", 9),
        // 4: a false condition on another item (write call 2): ConditionalCheckFailed.
        format!("UPDATE \"{TABLE}\" SET v = 2 WHERE pk = 'a' AND v = 99"),
    ];
    let out = ddb.group("--batch", &[], &statements);
    out.assert_code(1);
    assert_eq!(
        items(&out),
        vec![json!({"pk": "a", "v": 1})],
        "the selected item, as plain JSON\n{out}"
    );

    assert!(statement_lines(&out, 1).is_empty(), "{out}");
    assert!(statement_lines(&out, 2).is_empty(), "{out}");
    let duplicate = statement_line(&out, 3);
    assert!(
        duplicate.starts_with("statement 3: DuplicateItem: "),
        "{duplicate}\n{out}"
    );
    assert!(
        duplicate.len() > "statement 3: DuplicateItem: ".len(),
        "with DynamoDB's message\n{out}"
    );
    let condition = statement_line(&out, 4);
    assert!(
        condition.starts_with("statement 4: ConditionalCheckFailed: "),
        "{condition}\n{out}"
    );
    let item = old_item(condition);
    // The old item, as plain JSON or as DynamoDB JSON.
    assert!(
        item == json!({"pk": "a", "v": 1}) || item == json!({"pk": {"S": "a"}, "v": {"N": "1"}}),
        "the item before the update: {item}\n{out}"
    );
    assert_summary(&out, "batch: 2 succeeded, 2 failed");

    // The INSERT was written; the failed statements changed nothing.
    let mut expected = seed();
    expected.push(json!({"pk": "x", "v": 5}));
    assert_eq!(ddb.table(), expected, "{out}");
}

#[test]
fn a_transaction_with_a_failing_condition_applies_nothing() {
    let db = seeded();
    let ddb = Dynamo::new(&db);
    let statements = [
        insert("c", 3),
        insert("d", 4),
        format!("UPDATE \"{TABLE}\" SET v = 2 WHERE pk = 'a' AND v = 99"),
    ];
    let out = ddb.group("--transaction", &[], &statements);
    out.assert_code(1);
    assert!(out.lines().is_empty(), "{out}");
    for n in [1, 2] {
        assert_eq!(
            statement_line(&out, n),
            format!("statement {n}: not applied (the transaction was cancelled)"),
            "{out}"
        );
    }
    let condition = statement_line(&out, 3);
    assert!(
        condition.starts_with("statement 3: ConditionalCheckFailed: "),
        "{condition}\n{out}"
    );
    assert_summary(&out, "transaction: 0 succeeded, 3 failed");

    assert_eq!(ddb.table(), seed(), "nothing written\n{out}");
}

#[test]
fn a_transaction_that_succeeds_applies_every_statement_with_its_parameters() {
    let db = seeded();
    let ddb = Dynamo::new(&db);
    let statements = [
        format!("INSERT INTO \"{TABLE}\" VALUE {{'pk': ?, 'v': ?}}"),
        insert("d", 4),
        format!("UPDATE \"{TABLE}\" SET v = ? WHERE pk = ?"),
    ];
    // `?` are filled across the statements in order: c, 3, then 7 and a.
    let out = ddb.group("--transaction", &["\"c\"", "3", "7", "\"a\""], &statements);
    out.assert_ok();
    assert!(out.lines().is_empty(), "writes print no rows\n{out}");
    assert!(
        !out.stderr.lines().any(|l| l.starts_with("statement ")),
        "no statement failed\n{out}"
    );
    assert_summary(&out, "transaction: 3 succeeded, 0 failed");

    assert_eq!(
        ddb.table(),
        vec![
            json!({"pk": "a", "v": 7}),
            json!({"pk": "b", "v": 1}),
            json!({"pk": "c", "v": 3}),
            json!({"pk": "d", "v": 4}),
        ],
        "{out}"
    );
}

#[test]
fn batch_and_transaction_usage_errors() {
    let db = seeded();
    let ddb = Dynamo::new(&db);

    // A connection that is not DynamoDB.
    let out = ddb.run_on("local", &["--batch", "SELECT 1; SELECT 2"]);
    out.assert_code(2);
    assert!(out.stdout.trim().is_empty(), "nothing ran\n{out}");
    assert!(
        !out.stderr.contains("unexpected argument"),
        "--batch is a known option, refused for this connection\n{out}"
    );

    // Both at once.
    let out = ddb.run(&["--batch", "--transaction", &insert("c", 3)]);
    out.assert_code(2);
    assert!(out.stdout.trim().is_empty(), "nothing ran\n{out}");
    assert!(
        !out.stderr.contains("unexpected argument"),
        "both options are known, refused together\n{out}"
    );
    assert_eq!(ddb.table(), seed(), "nothing written\n{out}");
}
