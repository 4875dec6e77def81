use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::UNIX_EPOCH;

use super::records::{EndRecord, Event, Record, StartRecord, cap_sql, encode};
use super::*;

fn history(dir: &Path) -> History {
    History::open(dir.join("history.jsonl"), Retention::default()).unwrap()
}

fn run(connection: &str, sql: &str) -> NewRun {
    NewRun {
        connection: connection.into(),
        tab: None,
        sql: sql.into(),
        params: 0,
    }
}

fn stats() -> JobStats {
    JobStats {
        bytes_scanned: Some(1_300_000),
        cost_usd: Some(0.0065),
        server_id: Some("q-7f3a".into()),
        extra: vec![("engine".into(), "850 ms".into())],
    }
}

/// A start record line at `time` (for files written "in the past").
fn start_line(id: &str, time: SystemTime, sql: &str) -> String {
    let record = Record {
        v: 1,
        id: id.into(),
        event: Event::Start(StartRecord {
            time: format_time(time),
            pid: None,
            connection: "c".into(),
            tab: None,
            sql: sql.into(),
            sql_truncated: false,
            params: 0,
        }),
    };
    String::from_utf8(encode(&record).unwrap()).unwrap()
}

fn end_line(id: &str) -> String {
    let record = Record {
        v: 1,
        id: id.into(),
        event: Event::End(EndRecord {
            time: format_time(SystemTime::now()),
            status: Status::Succeeded,
            duration_ms: Some(5),
            rows: Some(1),
            bytes_scanned: None,
            cost_usd: None,
            server_id: None,
            extra: Vec::new(),
            error: None,
        }),
    };
    String::from_utf8(encode(&record).unwrap()).unwrap()
}

#[test]
fn time_round_trips() {
    for ms in [0u64, 1, 999, 1_714_564_800_123, 4_102_444_799_999] {
        let t = UNIX_EPOCH + Duration::from_millis(ms);
        let s = format_time(t);
        assert_eq!(parse_time(&s), Some(t), "{s}");
    }
    assert_eq!(
        format_time(UNIX_EPOCH + Duration::from_millis(1_714_564_800_123)),
        "2024-05-01T12:00:00.123Z"
    );
    assert_eq!(
        parse_time("2024-05-01T12:00:00Z"),
        Some(UNIX_EPOCH + Duration::from_secs(1_714_564_800))
    );
    for bad in [
        "",
        "2024-05-01",
        "2024-13-01T00:00:00Z",
        "x-05-01T00:00:00Z",
    ] {
        assert_eq!(parse_time(bad), None, "{bad}");
    }
}

#[test]
fn start_and_end_merge_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(dir.path());
    let a = h
        .record_start(NewRun {
            tab: Some("scratch".into()),
            params: 2,
            ..run("athena-prod", "SELECT 1")
        })
        .unwrap();
    let b = h.record_start(run("local", "SELECT 2")).unwrap();
    h.record_end(&a, RunEnd::succeeded(7, &stats())).unwrap();
    let c = h.record_start(run("local", "SELECT nope")).unwrap();
    h.record_end(&c, RunEnd::failed("no such column", &JobStats::default()))
        .unwrap();

    let entries = h.entries().unwrap();
    let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![c.as_str(), b.as_str(), a.as_str()],
        "newest first"
    );
    let (ec, eb, ea) = (&entries[0], &entries[1], &entries[2]);
    assert_eq!(ea.status, Status::Succeeded);
    assert_eq!(ea.rows, Some(7));
    assert_eq!(ea.tab.as_deref(), Some("scratch"));
    assert_eq!(ea.params, 2);
    assert_eq!(ea.bytes_scanned, Some(1_300_000));
    assert_eq!(ea.cost_usd, Some(0.0065));
    assert_eq!(ea.server_id.as_deref(), Some("q-7f3a"));
    assert_eq!(ea.extra, stats().extra);
    assert!(ea.duration.is_some());
    assert_eq!(eb.status, Status::Running);
    assert_eq!(eb.duration, None);
    assert_eq!(ec.status, Status::Failed);
    assert_eq!(ec.error.as_deref(), Some("no such column"));

    // Two lines a run (one for the unfinished one), each a complete JSON record.
    let text = fs::read_to_string(h.path()).unwrap();
    assert_eq!(text.lines().count(), 5);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["v"], 1);
        assert!(v["event"] == "start" || v["event"] == "end", "{line}");
    }
}

#[test]
fn params_are_stored_as_a_count_only() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(dir.path());
    h.record_start(NewRun {
        params: 1,
        ..run("c", "SELECT * FROM t WHERE token = ?")
    })
    .unwrap();
    let text = fs::read_to_string(h.path()).unwrap();
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["params"], 1);
}

#[test]
fn torn_last_line_is_skipped_and_the_next_record_starts_a_fresh_line() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(dir.path());
    let a = h.record_start(run("c", "SELECT 1")).unwrap();
    h.record_end(&a, RunEnd::cancelled(&JobStats::default()))
        .unwrap();
    // A crash mid-write: half a record, no newline.
    let mut f = OpenOptions::new().append(true).open(h.path()).unwrap();
    f.write_all(br#"{"v":1,"id":"torn","event":"start","time":"20"#)
        .unwrap();
    drop(f);
    let entries = h.entries().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].status, Status::Cancelled);

    let b = h.record_start(run("c", "SELECT 2")).unwrap();
    let text = fs::read_to_string(h.path()).unwrap();
    assert!(text.ends_with('\n'));
    let last = text.lines().last().unwrap();
    let v: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(v["id"], b.as_str());
    let entries = h.entries().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].sql, "SELECT 2");
}

#[test]
fn garbage_lines_and_orphan_ends_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    let now = SystemTime::now();
    let text = format!(
        "not json\n\n{}{}{}{{\"v\":1,\"id\":\"x\",\"event\":\"future\"}}\n",
        end_line("orphan"),
        start_line("a", now, "SELECT 1"),
        end_line("a"),
    );
    fs::write(&path, text).unwrap();
    let entries = History::open(&path, Retention::default())
        .unwrap()
        .entries()
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].id, "a");
    assert_eq!(entries[0].status, Status::Succeeded);
}

#[test]
fn compaction_keeps_the_newest_and_drops_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    let now = SystemTime::now();
    let mut text = start_line("ancient", now - Duration::from_secs(100 * 86_400), "OLD");
    text.push_str(&end_line("ancient"));
    for i in 0..30 {
        let t = now - Duration::from_secs(3600) + Duration::from_secs(i);
        text.push_str(&start_line(&format!("r{i}"), t, &format!("SELECT {i}")));
        text.push_str(&end_line(&format!("r{i}")));
    }
    text.push_str("torn{");
    fs::write(&path, &text).unwrap();
    let retention = Retention {
        max_entries: 10,
        max_age_days: 90,
    };
    let h = History::open(&path, retention).unwrap();
    let entries = h.entries().unwrap();
    let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
    let expected: Vec<String> = (20..30).rev().map(|i| format!("r{i}")).collect();
    assert_eq!(ids, expected);
    assert!(entries.iter().all(|e| e.status == Status::Succeeded));
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 20, "{text}");
    assert!(text.ends_with('\n'));
    // No temporary file is left behind.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    // Appending after a compaction goes to the new file.
    let id = h.record_start(run("c", "SELECT new")).unwrap();
    assert_eq!(h.entries().unwrap()[0].id, id.as_str());
}

#[test]
fn open_compacts_only_past_the_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    let retention = Retention {
        max_entries: 8,
        max_age_days: 90,
    };
    let now = SystemTime::now();
    let mut text = String::new();
    for i in 0..10 {
        text.push_str(&start_line(&format!("r{i}"), now, "SELECT 1"));
        text.push_str(&end_line(&format!("r{i}")));
    }
    fs::write(&path, &text).unwrap();
    // 10 ≤ 1.25 × 8: left alone.
    let h = History::open(&path, retention).unwrap();
    assert_eq!(h.entries().unwrap().len(), 10);
    text.push_str(&start_line("r10", now, "SELECT 1"));
    text.push_str(&end_line("r10"));
    fs::write(&path, &text).unwrap();
    // 11 > 10: compacted to 8.
    let h = History::open(&path, retention).unwrap();
    assert_eq!(h.entries().unwrap().len(), 8);

    // One run past the age: compacted even though few.
    let mut text = start_line("old", now - Duration::from_secs(91 * 86_400), "OLD");
    text.push_str(&start_line("new", now, "NEW"));
    fs::write(&path, &text).unwrap();
    let h = History::open(&path, retention).unwrap();
    let entries = h.entries().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].id, "new");
    assert_eq!(entries[0].status, Status::Running);
}

#[test]
fn zero_means_no_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    let now = SystemTime::now();
    let mut text = start_line("old", now - Duration::from_secs(1000 * 86_400), "OLD");
    for i in 0..5 {
        text.push_str(&start_line(&format!("r{i}"), now, "SELECT 1"));
    }
    fs::write(&path, &text).unwrap();
    let h = History::open(
        &path,
        Retention {
            max_entries: 0,
            max_age_days: 0,
        },
    )
    .unwrap();
    h.compact().unwrap();
    assert_eq!(h.entries().unwrap().len(), 6);
}

#[test]
fn filters() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(dir.path());
    let a = h
        .record_start(run("athena", "SELECT * FROM Trips"))
        .unwrap();
    h.record_end(&a, RunEnd::succeeded(3, &stats())).unwrap();
    let b = h.record_start(run("local", "SELECT nope")).unwrap();
    h.record_end(
        &b,
        RunEnd::failed("Column NOPE not found", &JobStats::default()),
    )
    .unwrap();
    let c = h.record_start(run("athena", "SELECT 2")).unwrap();
    h.record_end(&c, RunEnd::cancelled(&JobStats::default()))
        .unwrap();
    let all = h.entries().unwrap();
    let ids =
        |q: Query| -> Vec<String> { q.apply(all.clone()).into_iter().map(|e| e.sql).collect() };
    assert_eq!(
        ids(Query {
            connection: Some("athena".into()),
            ..Query::default()
        }),
        vec!["SELECT 2", "SELECT * FROM Trips"]
    );
    assert_eq!(
        ids(Query {
            grep: Some("trips".into()),
            ..Query::default()
        }),
        vec!["SELECT * FROM Trips"]
    );
    // The error text and the server id match too.
    assert_eq!(
        ids(Query {
            grep: Some("not found".into()),
            ..Query::default()
        }),
        vec!["SELECT nope"]
    );
    assert_eq!(
        ids(Query {
            grep: Some("Q-7F3A".into()),
            ..Query::default()
        }),
        vec!["SELECT * FROM Trips"]
    );
    assert_eq!(
        ids(Query {
            status: Some("ok".parse().unwrap()),
            ..Query::default()
        }),
        vec!["SELECT * FROM Trips"]
    );
    assert_eq!(
        ids(Query {
            status: Some(Status::Cancelled),
            connection: Some("athena".into()),
            ..Query::default()
        }),
        vec!["SELECT 2"]
    );
    assert_eq!(
        ids(Query {
            limit: Some(2),
            ..Query::default()
        }),
        vec!["SELECT 2", "SELECT nope"]
    );
    assert!("bogus".parse::<Status>().is_err());
}

#[test]
fn long_sql_is_capped_at_a_char_boundary() {
    let sql = "é".repeat(MAX_SQL_BYTES); // 2 bytes each
    let (capped, truncated) = cap_sql(sql);
    assert!(truncated);
    assert_eq!(capped.len(), MAX_SQL_BYTES);
    let (short, truncated) = cap_sql("SELECT 1".into());
    assert!(!truncated);
    assert_eq!(short, "SELECT 1");
}

#[test]
fn threads_append_without_losing_records() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(dir.path());
    std::thread::scope(|s| {
        for t in 0..4 {
            let h = h.clone();
            s.spawn(move || {
                for i in 0..50 {
                    let id = h
                        .record_start(run("c", &format!("SELECT {t}, {i}")))
                        .unwrap();
                    h.record_end(&id, RunEnd::succeeded(i, &JobStats::default()))
                        .unwrap();
                }
            });
        }
    });
    let entries = h.entries().unwrap();
    assert_eq!(entries.len(), 200);
    assert!(entries.iter().all(|e| e.status == Status::Succeeded));
}

#[test]
fn entry_json_and_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(dir.path());
    let a = h
        .record_start(run("c", "\n  -- count\nSELECT 1\nFROM t"))
        .unwrap();
    h.record_end(&a, RunEnd::succeeded(1, &stats())).unwrap();
    let e = &h.entries().unwrap()[0];
    assert_eq!(e.first_line(), "-- count");
    let v = serde_json::to_value(e).unwrap();
    assert_eq!(v["status"], "succeeded");
    assert_eq!(v["server_id"], "q-7f3a");
    assert!(v["duration_ms"].is_u64());
    assert!(v["time"].as_str().unwrap().ends_with('Z'));
    assert!(v.get("error").is_none());
}
