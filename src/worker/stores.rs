//! The on-disk stores the worker owns for the TUI (the history and the snippet library), and
//! the queue that answers the app's store requests one at a time, on blocking threads.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{NO_SNIPPETS, SaveFailure, WorkerCmd, WorkerEvent};
use crate::store::history::{History, Retention};
use crate::store::snippets::{Library, LibraryError, SnippetMeta};

/// The on-disk stores the worker uses; a store that could not be opened is `None` (the app runs
/// without it).
#[derive(Debug, Clone, Default)]
pub struct Stores {
    /// Every TUI run is recorded here (not reopened runs).
    pub history: Option<Arc<History>>,
    pub snippets: Option<Library>,
    /// Why `history` is `None`, for [`WorkerEvent::History`]'s error.
    pub history_error: Option<String>,
}

impl Stores {
    /// Opens the default history (with `retention`) and snippet library. Blocking file I/O
    /// (the history may be compacted): call it at startup or on a blocking thread. A store that
    /// cannot be opened is logged (`tracing::warn!`) and left out: this never fails.
    pub fn open_default(retention: Retention) -> Stores {
        let (history, history_error) = match History::open_default(retention) {
            Ok(h) => (Some(Arc::new(h)), None),
            Err(e) => {
                tracing::warn!("history unavailable: {e}");
                (None, Some(e.to_string()))
            }
        };
        let snippets = match Library::open_default() {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::warn!("snippets unavailable: {e}");
                None
            }
        };
        Stores {
            history,
            snippets,
            history_error,
        }
    }
}

/// A store request of the app.
pub(super) enum StoreOp {
    LoadHistory,
    LoadSnippets,
    SaveSnippet {
        name: String,
        text: String,
        meta: SnippetMeta,
        overwrite: bool,
    },
}

impl StoreOp {
    /// The store request a command of the app is, if it is one.
    pub(super) fn of(cmd: WorkerCmd) -> Option<StoreOp> {
        match cmd {
            WorkerCmd::LoadHistory => Some(StoreOp::LoadHistory),
            WorkerCmd::LoadSnippets => Some(StoreOp::LoadSnippets),
            WorkerCmd::SaveSnippet {
                name,
                text,
                meta,
                overwrite,
            } => Some(StoreOp::SaveSnippet {
                name,
                text,
                meta,
                overwrite,
            }),
            _ => None,
        }
    }

    /// Does the file I/O (blocking) and returns the answer.
    fn run(self, stores: &Stores) -> WorkerEvent {
        match self {
            StoreOp::LoadHistory => WorkerEvent::History(match &stores.history {
                Some(h) => h.entries().map_err(|e| e.to_string()),
                None => Err(history_unavailable(stores)),
            }),
            StoreOp::LoadSnippets => match &stores.snippets {
                Some(lib) => {
                    let (snippets, errors) = lib.list();
                    WorkerEvent::Snippets {
                        snippets,
                        errors: errors.iter().map(ToString::to_string).collect(),
                    }
                }
                None => WorkerEvent::Snippets {
                    snippets: Vec::new(),
                    errors: vec![NO_SNIPPETS.to_string()],
                },
            },
            StoreOp::SaveSnippet {
                name,
                text,
                meta,
                overwrite,
            } => {
                let outcome = match &stores.snippets {
                    Some(lib) => lib
                        .save(&name, &text, &meta, overwrite)
                        .map_err(|e| match e {
                            LibraryError::Exists { path } => SaveFailure::Exists(path),
                            e => SaveFailure::Failed(e.to_string()),
                        }),
                    None => Err(SaveFailure::Failed(NO_SNIPPETS.to_string())),
                };
                WorkerEvent::SnippetSaved { name, outcome }
            }
        }
    }

    /// The answer when the request's task failed (panicked) with `why`.
    fn failed(&self, why: String) -> WorkerEvent {
        match self {
            StoreOp::LoadHistory => WorkerEvent::History(Err(why)),
            StoreOp::LoadSnippets => WorkerEvent::Snippets {
                snippets: Vec::new(),
                errors: vec![why],
            },
            StoreOp::SaveSnippet { name, .. } => WorkerEvent::SnippetSaved {
                name: name.clone(),
                outcome: Err(SaveFailure::Failed(why)),
            },
        }
    }
}

fn history_unavailable(stores: &Stores) -> String {
    match &stores.history_error {
        Some(e) => format!("history is unavailable: {e}"),
        None => "history is unavailable: it was not opened".to_string(),
    }
}

/// Answers store requests one at a time, in order (a `LoadSnippets` after a `SaveSnippet` sees
/// the saved snippet), each on a blocking thread.
pub(super) fn spawn_store_queue(
    stores: Stores,
    events: mpsc::Sender<WorkerEvent>,
) -> mpsc::UnboundedSender<StoreOp> {
    let (tx, mut rx) = mpsc::unbounded_channel::<StoreOp>();
    let stores = Arc::new(stores);
    tokio::spawn(async move {
        while let Some(op) = rx.recv().await {
            // Kept to answer if the blocking task panics (its op is gone then).
            let fallback = match &op {
                StoreOp::SaveSnippet { name, .. } => StoreOp::SaveSnippet {
                    name: name.clone(),
                    text: String::new(),
                    meta: SnippetMeta::default(),
                    overwrite: false,
                },
                StoreOp::LoadHistory => StoreOp::LoadHistory,
                StoreOp::LoadSnippets => StoreOp::LoadSnippets,
            };
            let stores = stores.clone();
            let event = match tokio::task::spawn_blocking(move || op.run(&stores)).await {
                Ok(event) => event,
                Err(e) => fallback.failed(format!("the store task failed: {e}")),
            };
            if events.send(event).await.is_err() {
                break;
            }
        }
    });
    tx
}
