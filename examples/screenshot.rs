//! Renders the README screenshot from the real app: the embedded engine runs a query on the
//! sample data, the state machine takes the results, the UI draws into a TestBackend, and the
//! buffer is written as SVG to `screenshots/quarry.svg`.
//!
//! `cargo run --example screenshot` (also: `scripts/screenshot`).

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use quarry::app::{Effect, Msg, State, StateInit, update};
use quarry::connectors::local::LocalConnector;
use quarry::connectors::{Connector, JobSink};
use quarry::ui::{Ui, draw, svg};
use quarry::worker::{JobOutcome, WorkerCmd, WorkerEvent};

const SQL: &str = "-- Trips and fares per vendor, from the bundled sample data\n\
SELECT v.name AS vendor, count(*) AS trips,\n       round(avg(t.distance_km), 2) AS avg_km,\n       sum(t.fare_amount) AS fares\n\
FROM trips t JOIN vendors v ON v.vendor_id = t.vendor_id\nGROUP BY v.name\nORDER BY trips DESC;";

fn key(code: KeyCode, m: KeyModifiers) -> Msg {
    Msg::Key(KeyEvent::new(code, m))
}

/// Answers the browser's requests for children, as the worker would.
async fn load_children(state: &mut State, connector: &LocalConnector, effects: Vec<Effect>) {
    for fx in effects {
        if let Effect::Worker(WorkerCmd::LoadChildren { connection, path }) = fx {
            let result = connector.children(&path).await.map_err(|e| e.to_string());
            let event = WorkerEvent::Children {
                connection,
                path,
                result,
            };
            update(state, Msg::Worker(event));
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (w, h) = (160, 45);
    let mut state = State::new(StateInit::first_start(
        Rect::new(0, 0, w, h),
        Instant::now(),
    ));
    let connector = LocalConnector::new(&[]).await?;
    // Browser: expand the connection and one table.
    let fx = quarry::app::update::on_start(&mut state);
    load_children(&mut state, &connector, fx).await;
    update(&mut state, key(KeyCode::Char('1'), KeyModifiers::ALT));
    for _ in 0..2 {
        update(&mut state, key(KeyCode::Down, KeyModifiers::NONE));
    }
    let fx = update(&mut state, key(KeyCode::Right, KeyModifiers::NONE));
    load_children(&mut state, &connector, fx).await;
    update(&mut state, key(KeyCode::Char('2'), KeyModifiers::ALT));
    update(&mut state, Msg::Paste(SQL.to_string()));
    update(&mut state, key(KeyCode::Up, KeyModifiers::NONE));
    // Run it for real on the embedded engine.
    let fx = update(&mut state, key(KeyCode::Char('j'), KeyModifiers::CONTROL));
    for effect in fx {
        if let Effect::Worker(WorkerCmd::Run { job, request, .. }) = effect {
            let (tx, mut rx) = mpsc::channel(16);
            let started = Instant::now();
            let exec = connector.execute(request, JobSink::new(job, tx), CancellationToken::new());
            let mut events = Vec::new();
            let collect = async {
                while let Some((job, ev)) = rx.recv().await {
                    events.push(WorkerEvent::Job(job, ev));
                }
            };
            let (summary, ()) = tokio::join!(exec, collect);
            for ev in events {
                update(&mut state, Msg::Worker(ev));
            }
            let outcome = match summary {
                Ok(s) => JobOutcome::Succeeded(s),
                Err(e) => JobOutcome::Failed(e.to_string()),
            };
            let elapsed = started.elapsed().max(Duration::from_millis(1));
            update(
                &mut state,
                Msg::Worker(WorkerEvent::JobFinished {
                    job,
                    outcome,
                    elapsed,
                }),
            );
        }
    }
    update(&mut state, key(KeyCode::Char('3'), KeyModifiers::ALT));
    update(&mut state, key(KeyCode::Down, KeyModifiers::NONE));
    let ui = Ui::loaded();
    let mut terminal = Terminal::new(TestBackend::new(w, h))?;
    terminal.draw(|f| draw(f, &state, &ui))?;
    let svg = svg::buffer_to_svg(terminal.backend().buffer());
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("screenshots/quarry.svg");
    std::fs::write(&out, svg)?;
    println!("wrote {}", out.display());
    Ok(())
}
