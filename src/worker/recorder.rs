//! Recording runs in the history around the [`runner`](super::runner)'s calls: each run's start
//! before it is sent, its end when it is done, on a blocking thread. Recording is best effort:
//! a failure never fails the run, it is only reported (how depends on who runs: see
//! [`Failures`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::store::history::{History, NewRun, RunEnd, RunId};

/// How a failure to record is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failures {
    /// The TUI: logged once per process (`tracing::warn!`), recording goes on.
    Log,
    /// `quarry run`: one `quarry: note: history: …` line on stderr, and recording stops for the
    /// rest of the run.
    NoteAndStop,
}

/// Set once a history write of the TUI failed: later failures are not logged again.
static HISTORY_WARNED: AtomicBool = AtomicBool::new(false);

/// Where runs are recorded, if anywhere.
#[derive(Debug, Clone)]
pub struct RunRecorder {
    history: Option<Arc<History>>,
    failures: Failures,
    /// Set when a failure stopped the recording ([`Failures::NoteAndStop`]).
    stopped: Arc<AtomicBool>,
}

impl RunRecorder {
    pub fn new(history: Option<Arc<History>>, failures: Failures) -> RunRecorder {
        RunRecorder {
            history,
            failures,
            stopped: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The history to write to, unless there is none or a failure stopped the recording.
    fn history(&self) -> Option<&Arc<History>> {
        self.history
            .as_ref()
            .filter(|_| !self.stopped.load(Ordering::Relaxed))
    }

    /// Reports a failure to record `what` as the policy says.
    pub fn failed(&self, what: &str, e: impl std::fmt::Display) {
        match self.failures {
            Failures::Log => {
                if !HISTORY_WARNED.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        "history: cannot record {what}: {e} (further history errors not logged)"
                    );
                }
            }
            Failures::NoteAndStop => {
                if !self.stopped.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "quarry: note: history: {}",
                        crate::results::sanitize_line(&e.to_string())
                    );
                }
            }
        }
    }

    /// Records the starts of `runs` (`None`: a run not to record) before they are sent: one id
    /// per run, `None` when not recorded.
    pub async fn start(&self, runs: Vec<Option<NewRun>>) -> Vec<Option<RunId>> {
        let count = runs.len();
        let Some(history) = self.history().cloned() else {
            return vec![None; count];
        };
        if runs.iter().all(Option::is_none) {
            return vec![None; count];
        }
        let recorder = self.clone();
        let ids = tokio::task::spawn_blocking(move || {
            runs.into_iter()
                .map(|run| {
                    let run = run?;
                    // A failure of an earlier start may have stopped the recording.
                    recorder.history()?;
                    history
                        .record_start(run)
                        .map_err(|e| recorder.failed("a run's start", e))
                        .ok()
                })
                .collect::<Vec<_>>()
        })
        .await;
        ids.unwrap_or_else(|e| {
            self.failed("a run's start", e);
            vec![None; count]
        })
    }

    /// Records how runs ended (`None`: a run that was not recorded).
    pub async fn end(&self, ends: Vec<(Option<RunId>, RunEnd)>) {
        let ends: Vec<(RunId, RunEnd)> = ends
            .into_iter()
            .filter_map(|(id, end)| Some((id?, end)))
            .collect();
        if ends.is_empty() {
            return;
        }
        let Some(history) = self.history().cloned() else {
            return;
        };
        let recorder = self.clone();
        let written = tokio::task::spawn_blocking(move || {
            for (id, end) in ends {
                if recorder.history().is_none() {
                    return;
                }
                if let Err(e) = history.record_end(&id, end) {
                    recorder.failed("a run's end", e);
                }
            }
        })
        .await;
        if let Err(e) = written {
            self.failed("a run's end", e);
        }
    }
}
