//! The worker end to end: jobs, cancellation, views and the stores.

#[cfg(feature = "local")]
mod jobs {
    use std::time::Duration;

    use std::sync::Arc;

    use crate::connectors::{JobEvent, JobId, QueryRequest};
    use crate::results::ResultSet;
    use crate::results::SortOrder;
    use crate::store::config::Config;
    use crate::store::config::ConnectionConfig;
    use crate::worker::{JobOutcome, Stores, ViewSpec, WorkerCmd, WorkerEvent, WorkerHandle};

    /// The worker on the test's own runtime.
    fn spawn(connections: Vec<ConnectionConfig>, stores: Stores) -> WorkerHandle {
        crate::worker::spawn(
            &tokio::runtime::Handle::current(),
            connections,
            Vec::new(),
            stores,
        )
    }

    async fn next_finished(h: &mut WorkerHandle) -> (JobId, JobOutcome, usize) {
        let mut batches = 0;
        loop {
            match tokio::time::timeout(Duration::from_secs(20), h.events.recv()).await {
                Ok(Some(WorkerEvent::JobFinished { job, outcome, .. })) => {
                    return (job, outcome, batches);
                }
                Ok(Some(WorkerEvent::Job(_, JobEvent::Batch(_)))) => batches += 1,
                Ok(Some(_)) => {}
                other => panic!("no JobFinished: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn runs_a_job_and_streams_its_batches() {
        let mut h = spawn(vec![Config::builtin_local()], Stores::default());
        let sql = "SELECT * FROM trips".to_string();
        h.commands
            .send(WorkerCmd::Run {
                job: 7,
                connection: "local".into(),
                request: QueryRequest::new(sql),
            })
            .unwrap();
        let (job, outcome, batches) = next_finished(&mut h).await;
        assert_eq!(job, 7);
        assert!(matches!(outcome, JobOutcome::Succeeded(s) if s.rows == 30_000));
        assert!(batches > 1);
    }

    #[tokio::test]
    async fn cancel_reaches_the_running_job() {
        let mut h = spawn(vec![Config::builtin_local()], Stores::default());
        let sql = crate::connectors::local::tests::ENDLESS;
        h.commands
            .send(WorkerCmd::Run {
                job: 1,
                connection: "local".into(),
                request: QueryRequest::new(sql),
            })
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        h.commands.send(WorkerCmd::Cancel { job: 1 }).unwrap();
        let (job, outcome, _) = next_finished(&mut h).await;
        assert_eq!(job, 1);
        assert!(matches!(outcome, JobOutcome::Cancelled), "{outcome:?}");
    }

    #[tokio::test]
    async fn an_unknown_connection_fails_the_job_clearly() {
        let mut h = spawn(vec![Config::builtin_local()], Stores::default());
        h.commands
            .send(WorkerCmd::Run {
                job: 2,
                connection: "prod".into(),
                request: QueryRequest::new("SELECT 1"),
            })
            .unwrap();
        let (_, outcome, _) = next_finished(&mut h).await;
        assert!(matches!(outcome, JobOutcome::Failed(e) if e.contains("prod")));
    }

    #[tokio::test]
    async fn sorts_off_the_loop() {
        let mut h = spawn(vec![], Stores::default());
        let mut rs = ResultSet::new(crate::results::fixtures::batch(3).schema());
        rs.push_batch(crate::results::fixtures::batch(5));
        let spec = ViewSpec::Sort {
            column: 0,
            order: SortOrder::Descending,
        };
        h.commands
            .send(WorkerCmd::ComputeView {
                result: 9,
                generation: 4,
                rows: Arc::new(rs),
                spec,
            })
            .unwrap();
        match tokio::time::timeout(Duration::from_secs(10), h.events.recv()).await {
            Ok(Some(WorkerEvent::ViewReady {
                result: 9,
                generation: 4,
                outcome: Ok(ix),
            })) => assert_eq!(ix, vec![4, 3, 2, 1, 0]),
            other => panic!("{other:?}"),
        }
    }
}

mod stores {
    use std::path::Path;
    use std::time::Duration;

    use std::sync::Arc;

    use crate::connectors::{GroupMode, JobId, QueryRequest};
    use crate::store::config::ConnectionConfig;
    use crate::store::history;
    use crate::store::history::Status;
    use crate::store::history::{History, Retention};
    use crate::store::snippets::{Library, SnippetMeta};
    use crate::worker::{
        JobOutcome, NO_SNIPPETS, SaveFailure, Stores, WorkerCmd, WorkerEvent, WorkerHandle,
    };

    /// The worker on the test's own runtime.
    fn spawn(connections: Vec<ConnectionConfig>, stores: Stores) -> WorkerHandle {
        crate::worker::spawn(
            &tokio::runtime::Handle::current(),
            connections,
            Vec::new(),
            stores,
        )
    }

    fn stores(dir: &Path) -> Stores {
        let history = History::open(dir.join("history.jsonl"), Retention::default()).unwrap();
        Stores {
            history: Some(Arc::new(history)),
            snippets: Some(Library::open(dir.join("snippets"))),
            history_error: None,
        }
    }

    async fn next_event(h: &mut WorkerHandle) -> WorkerEvent {
        match tokio::time::timeout(Duration::from_secs(20), h.events.recv()).await {
            Ok(Some(ev)) => ev,
            other => panic!("no event: {other:?}"),
        }
    }

    async fn finished(h: &mut WorkerHandle) -> (JobId, JobOutcome) {
        loop {
            if let WorkerEvent::JobFinished { job, outcome, .. } = next_event(h).await {
                return (job, outcome);
            }
        }
    }

    async fn load_history(h: &mut WorkerHandle) -> Result<Vec<history::Entry>, String> {
        h.commands.send(WorkerCmd::LoadHistory).unwrap();
        match next_event(h).await {
            WorkerEvent::History(entries) => entries,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_run_is_recorded_start_then_end_and_a_reopen_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = spawn(vec![], stores(dir.path()));
        let mut request = QueryRequest::new("SELECT *\nFROM t WHERE a = ?");
        request.params = vec!["1".into()];
        request.label = Some("tab-2".into());
        h.commands
            .send(WorkerCmd::Run {
                job: 3,
                connection: "prod".into(),
                request: request.clone(),
            })
            .unwrap();
        let (job, outcome) = finished(&mut h).await;
        assert_eq!(job, 3);
        assert!(matches!(&outcome, JobOutcome::Failed(e) if e.contains("prod")));

        // Start then end, both written by the time JobFinished arrived.
        let file = std::fs::read_to_string(dir.path().join("history.jsonl")).unwrap();
        let lines: Vec<&str> = file.lines().collect();
        assert_eq!(lines.len(), 2, "{file}");
        assert!(lines[0].contains(r#""event":"start""#), "{file}");
        assert!(lines[1].contains(r#""event":"end""#), "{file}");

        let entries = load_history(&mut h).await.unwrap();
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(e.connection, "prod");
        assert_eq!(e.tab.as_deref(), Some("tab-2"));
        assert_eq!(e.sql, "SELECT *\nFROM t WHERE a = ?");
        assert_eq!(e.params, 1);
        assert_eq!(e.status, Status::Failed);
        assert!(e.error.as_deref().is_some_and(|m| m.contains("prod")));
        assert!(e.duration.is_some());

        // Following an existing execution again is not a new run.
        request.reopen = Some("q-1".into());
        h.commands
            .send(WorkerCmd::Run {
                job: 4,
                connection: "prod".into(),
                request,
            })
            .unwrap();
        assert_eq!(finished(&mut h).await.0, 4);
        assert_eq!(load_history(&mut h).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_group_records_each_statement() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = spawn(vec![], stores(dir.path()));
        h.commands
            .send(WorkerCmd::RunGroup {
                jobs: vec![5, 6],
                connection: "dynamo".into(),
                mode: GroupMode::Batch,
                requests: vec![QueryRequest::new("SELECT 1"), QueryRequest::new("SELECT 2")],
            })
            .unwrap();
        finished(&mut h).await;
        finished(&mut h).await;
        let entries = load_history(&mut h).await.unwrap();
        let mut sqls: Vec<&str> = entries.iter().map(|e| e.sql.as_str()).collect();
        sqls.sort();
        assert_eq!(sqls, ["SELECT 1", "SELECT 2"]);
        assert!(entries.iter().all(|e| e.status == Status::Failed));
    }

    #[tokio::test]
    async fn without_stores_runs_go_on_and_loads_say_why() {
        let mut h = spawn(
            vec![],
            Stores {
                history_error: Some("cannot create /nowhere: denied".into()),
                ..Stores::default()
            },
        );
        h.commands
            .send(WorkerCmd::Run {
                job: 1,
                connection: "prod".into(),
                request: QueryRequest::new("SELECT 1"),
            })
            .unwrap();
        assert!(matches!(finished(&mut h).await.1, JobOutcome::Failed(_)));
        let e = load_history(&mut h).await.unwrap_err();
        assert!(e.contains("unavailable") && e.contains("/nowhere"), "{e}");
        h.commands.send(WorkerCmd::LoadSnippets).unwrap();
        match next_event(&mut h).await {
            WorkerEvent::Snippets { snippets, errors } => {
                assert!(snippets.is_empty());
                assert_eq!(errors, [NO_SNIPPETS]);
            }
            other => panic!("{other:?}"),
        }
        h.commands
            .send(WorkerCmd::SaveSnippet {
                name: "x".into(),
                text: "SELECT 1".into(),
                meta: SnippetMeta::default(),
                overwrite: false,
            })
            .unwrap();
        match next_event(&mut h).await {
            WorkerEvent::SnippetSaved { name, outcome } => {
                assert_eq!(name, "x");
                assert_eq!(
                    outcome.unwrap_err(),
                    SaveFailure::Failed(NO_SNIPPETS.into())
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn snippets_save_load_and_refuse_to_clobber() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = spawn(vec![], stores(dir.path()));
        let meta = SnippetMeta {
            description: Some("Sales per day".into()),
            tags: vec!["daily".into()],
            ..SnippetMeta::default()
        };
        let save = |text: &str, overwrite| WorkerCmd::SaveSnippet {
            name: "Daily Sales".into(),
            text: text.into(),
            meta: meta.clone(),
            overwrite,
        };
        // Sent back to back: answered in order, so the load sees the save.
        h.commands.send(save("SELECT 1", false)).unwrap();
        h.commands.send(WorkerCmd::LoadSnippets).unwrap();
        let first = match next_event(&mut h).await {
            WorkerEvent::SnippetSaved { name, outcome } => {
                assert_eq!(name, "Daily Sales");
                outcome.unwrap()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(first.name, "Daily Sales");
        assert_eq!(first.meta, meta);
        assert!(first.path.ends_with("daily-sales.sql"));
        match next_event(&mut h).await {
            WorkerEvent::Snippets { snippets, errors } => {
                assert!(errors.is_empty(), "{errors:?}");
                assert_eq!(snippets, std::slice::from_ref(&first));
            }
            other => panic!("{other:?}"),
        }

        h.commands.send(save("SELECT 2", false)).unwrap();
        match next_event(&mut h).await {
            WorkerEvent::SnippetSaved { outcome, .. } => {
                assert_eq!(
                    outcome.unwrap_err(),
                    SaveFailure::Exists(first.path.clone())
                );
            }
            other => panic!("{other:?}"),
        }
        h.commands.send(save("SELECT 2", true)).unwrap();
        h.commands.send(WorkerCmd::LoadSnippets).unwrap();
        match next_event(&mut h).await {
            WorkerEvent::SnippetSaved { outcome, .. } => {
                assert_eq!(outcome.unwrap().text.trim(), "SELECT 2")
            }
            other => panic!("{other:?}"),
        }
        match next_event(&mut h).await {
            WorkerEvent::Snippets { snippets, .. } => {
                assert_eq!(snippets.len(), 1);
                assert_eq!(snippets[0].text.trim(), "SELECT 2");
            }
            other => panic!("{other:?}"),
        }
    }
}
