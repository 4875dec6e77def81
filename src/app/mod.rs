//! The pure state machine: `State`, `Msg`, `update()`, `Effect`. No I/O, no async: everything
//! that must happen outside (run a query, cancel, write a file) is returned as an `Effect`.

pub mod browser;
mod browser_actions;
pub mod completion;
mod editing;
pub mod editor;
mod export;
pub mod export_form;
mod grid;
pub mod inspector;
mod job_events;
pub mod keymap;
pub mod layout;
mod lookups;
pub mod monitor;
pub mod params;
pub mod pickers;
pub mod popups;
pub mod quit;
mod quitting;
pub mod results;
mod run;
mod sessions;
mod snippets;
pub mod spark;
mod spark_form;
mod tab_settings;
mod tabs;
mod transactions;
mod worker_events;

pub mod update;

use std::collections::HashMap;
use std::time::Instant;

use ratatui::layout::Rect;

use crate::model::connection::ConnectionKind;
use crate::model::job::JobId;
use crate::protocol::{WorkerCmd, WorkerEvent};
use crate::store::drafts::Draft;
use browser::{BrowserState, TreeNode};
use editor::EditorTab;
use keymap::Keymap;

pub use popups::{InputPurpose, Popup};
pub use update::update;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Browser,
    Editor,
    Results,
}

/// An export running in the background (one at a time), as the status bar shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRun {
    pub id: JobId,
    pub form: export_form::ExportForm,
    pub rows: u64,
    pub bytes: u64,
    pub started: Instant,
}

/// An event the loop feeds to `update`.
#[derive(Debug)]
pub enum Msg {
    Key(crossterm::event::KeyEvent),
    Paste(String),
    Resize(u16, u16),
    Tick(Instant),
    Worker(WorkerEvent),
    /// SIGTERM/SIGHUP: leave now, saving drafts and stopping jobs.
    Terminate,
}

/// What must happen outside the state machine.
// Effects live for one turn of the loop and are moved once or twice: not worth boxing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Effect {
    Worker(WorkerCmd),
    SaveDrafts(Vec<Draft>),
    CopyToClipboard(String),
    Quit,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionInfo {
    pub name: String,
    pub kind: ConnectionKind,
    pub detail: String,
    /// Athena: result reuse is on by default for this connection.
    pub result_reuse: bool,
    /// Redshift Data: tabs run in sessions by default (`session_keep_alive_seconds` is set).
    pub sessions: bool,
    /// Broken in the config: why (`file:line:column: message`). Listed, never run.
    pub broken: Option<String>,
}

/// What the browser shows after a connection's name: its kind, and the detail when there is one.
fn root_detail(c: &ConnectionInfo) -> String {
    let kind = if c.kind.capabilities().embedded {
        "embedded".to_string()
    } else {
        c.kind.to_string()
    };
    if c.detail.is_empty() {
        kind
    } else {
        format!("{kind} · {}", c.detail)
    }
}

/// A short message in the status bar until the next key.
#[derive(Debug, Clone, PartialEq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
}

/// Which result tab a running job writes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobTarget {
    pub tab: u64,
    pub result: u64,
}

/// What happens once the open transactions of [`Popup::ConfirmTransactions`] are ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterTransactions {
    Quit,
    CloseTab(u64),
    /// Nothing more (ended from the monitor).
    Stay,
}

/// Transactions being committed or rolled back, and what follows when all are.
#[derive(Debug, Clone, PartialEq)]
pub struct EndingTransactions {
    /// Session keys of the tabs still waiting for the server's answer.
    pub keys: Vec<String>,
    pub then: AfterTransactions,
}

pub struct State {
    pub focus: Focus,
    pub tabs: Vec<EditorTab>,
    pub active_tab: usize,
    pub browser: BrowserState,
    pub popup: Option<Popup>,
    pub keymap: Keymap,
    pub connections: Vec<ConnectionInfo>,
    /// Terminal size: `update` needs the pane sizes for paging and scrolling.
    pub area: Rect,
    pub now: Instant,
    pub jobs: HashMap<JobId, JobTarget>,
    pub flash: Option<Flash>,
    pub max_column_width: usize,
    /// Rows a result keeps (`[ui] max_loaded_rows`).
    pub max_loaded_rows: usize,
    pub spinner: usize,
    pub quitting: bool,
    pub ending_transactions: Option<EndingTransactions>,
    /// Server-side stops asked for when quitting (sessions ended, Spark sessions terminated)
    /// whose answers the exit waits for, briefly.
    pub stops_pending: usize,
    /// Athena Spark sessions seen, started or bound by tabs.
    pub spark: spark::SparkSessions,
    /// When the expanded Spark workgroups of the browser were last listed again.
    pub spark_refreshed: Option<Instant>,
    /// Finished runs whose result tab is gone, for the monitor.
    pub past_jobs: std::collections::VecDeque<monitor::PastJob>,
    past_serial: u64,
    /// Placeholder values last typed per statement text, offered again (this session only).
    pub param_memory: HashMap<String, Vec<String>>,
    pub export: Option<ExportRun>,
    /// The text of a snippet being saved (asked again when the name exists).
    pub snippet_save: Option<String>,
    /// The editor's completion list and what it asked the worker for.
    pub completion: completion::CompletionState,
    /// What each connection's catalog is known to hold (for completion), as the worker sent it.
    pub catalogs: HashMap<String, std::sync::Arc<crate::model::completion::CatalogSnapshot>>,
    /// Names of the snippet library's snippets, offered by completion (once it was loaded).
    pub snippet_names: Vec<String>,
    next_id: u64,
    drafts_dirty: bool,
    last_edit: Option<Instant>,
}

/// Everything `State::new` needs, gathered by `main` from the config and the drafts.
pub struct StateInit {
    pub connections: Vec<ConnectionInfo>,
    pub keymap: Keymap,
    pub drafts: Vec<Draft>,
    /// `-c CONNECTION`: the first tab opens on it.
    pub initial_connection: Option<String>,
    pub area: Rect,
    pub now: Instant,
    pub max_column_width: usize,
    pub max_loaded_rows: usize,
    /// A problem found while starting that the user should see once (e.g. a data directory
    /// that cannot be written), shown in the status bar.
    pub notice: Option<String>,
}

impl StateInit {
    /// Only the built-in embedded connection, default keys, no drafts: what a first start
    /// looks like (tests, benchmarks and the screenshot use it).
    pub fn first_start(area: Rect, now: Instant) -> StateInit {
        StateInit {
            connections: vec![ConnectionInfo {
                name: "local".into(),
                kind: ConnectionKind::Local,
                detail: "sample data".into(),
                result_reuse: false,
                sessions: false,
                broken: None,
            }],
            keymap: Keymap::default(),
            drafts: Vec::new(),
            initial_connection: None,
            area,
            now,
            max_column_width: crate::store::config::DEFAULT_MAX_COLUMN_WIDTH,
            max_loaded_rows: crate::store::config::DEFAULT_MAX_LOADED_ROWS,
            notice: None,
        }
    }
}

impl State {
    pub fn new(init: StateInit) -> State {
        let default_conn = init
            .initial_connection
            .clone()
            .or_else(|| init.connections.first().map(|c| c.name.clone()))
            .unwrap_or_else(|| "local".to_string());
        let mut state = State {
            focus: Focus::Editor,
            tabs: Vec::new(),
            active_tab: 0,
            browser: BrowserState {
                roots: init
                    .connections
                    .iter()
                    .map(|c| match &c.broken {
                        // Shown failed from the start, with the config's `file:line` error.
                        Some(error) => TreeNode::broken_connection_root(&c.name, error),
                        None => TreeNode::connection_root(&c.name, root_detail(c)),
                    })
                    .collect(),
                ..Default::default()
            },
            popup: None,
            keymap: init.keymap,
            connections: init.connections,
            area: init.area,
            now: init.now,
            jobs: HashMap::new(),
            param_memory: HashMap::new(),
            export: None,
            snippet_save: None,
            completion: completion::CompletionState::default(),
            catalogs: HashMap::new(),
            snippet_names: Vec::new(),
            flash: init.notice.map(|text| Flash { text, error: true }),
            max_column_width: init.max_column_width.max(4),
            max_loaded_rows: init.max_loaded_rows.max(1),
            spinner: 0,
            quitting: false,
            ending_transactions: None,
            stops_pending: 0,
            spark: spark::SparkSessions::default(),
            spark_refreshed: None,
            past_jobs: std::collections::VecDeque::new(),
            past_serial: 0,
            next_id: 1,
            drafts_dirty: false,
            last_edit: None,
        };
        for d in init.drafts {
            let conn = if state.has_connection(&d.connection) {
                d.connection
            } else {
                default_conn.clone()
            };
            let id = state.next_id();
            state
                .tabs
                .push(EditorTab::new(id, d.title, conn, &d.text, d.cursor));
        }
        if init.initial_connection.is_some() || state.tabs.is_empty() {
            let id = state.next_id();
            let tab = EditorTab::new(id, format!("tab {id}"), default_conn, "", (0, 0));
            state.tabs.insert(0, tab);
        }
        state
    }

    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn has_connection(&self, name: &str) -> bool {
        self.connections.iter().any(|c| c.name == name)
    }

    pub fn tab(&self) -> &EditorTab {
        // `State::new` creates one tab and closing the last tab opens a fresh one.
        &self.tabs[self.active_tab.min(self.tabs.len() - 1)]
    }

    pub fn tab_mut(&mut self) -> &mut EditorTab {
        let i = self.active_tab.min(self.tabs.len() - 1);
        &mut self.tabs[i]
    }

    pub fn panes(&self) -> layout::Panes {
        layout::panes(self.area)
    }

    /// Jobs still queued or running, across all tabs.
    pub fn active_jobs(&self) -> usize {
        self.tabs
            .iter()
            .flat_map(|t| t.results.iter())
            .filter(|r| r.state.is_active())
            .count()
    }

    pub fn connection_kind(&self, name: &str) -> Option<ConnectionKind> {
        self.connections
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.kind)
    }

    /// The editor tabs as drafts, for autosave (empty tabs are not kept).
    pub fn drafts(&self) -> Vec<Draft> {
        self.tabs
            .iter()
            .filter(|t| !t.contents().trim().is_empty())
            .map(|t| Draft {
                title: t.title.clone(),
                connection: t.connection.clone(),
                text: t.contents(),
                cursor: t.cursor(),
            })
            .collect()
    }

    /// Whether something on screen moves by itself (spinners, elapsed time).
    pub fn is_animating(&self) -> bool {
        fn loading(nodes: &[browser::TreeNode]) -> bool {
            nodes.iter().any(|n| match &n.children {
                browser::Children::Loading => true,
                browser::Children::Loaded(c) => loading(c),
                _ => false,
            })
        }
        self.active_jobs() > 0 || loading(&self.browser.roots) || self.completion.pending.is_some()
    }

    /// Keeps the monitor's lines of results that are being dropped from `tab`.
    fn archive_results(&mut self, tab: &EditorTab, results: &[results::ResultTab]) {
        monitor::archive(
            &mut self.past_jobs,
            &mut self.past_serial,
            tab,
            results,
            self.now,
        );
    }

    /// Adds a result to the active tab, keeping the monitor's line of any it drops.
    fn push_result(&mut self, result: results::ResultTab) {
        let i = self.active_tab.min(self.tabs.len() - 1);
        let dropped = self.tabs[i].push_result(result);
        if !dropped.is_empty() {
            let tab = &self.tabs[i];
            monitor::archive(
                &mut self.past_jobs,
                &mut self.past_serial,
                tab,
                &dropped,
                self.now,
            );
        }
    }

    fn mark_edited(&mut self) {
        self.drafts_dirty = true;
        self.last_edit = Some(self.now);
    }

    fn flash(&mut self, text: impl Into<String>, error: bool) {
        self.flash = Some(Flash {
            text: text.into(),
            error,
        });
    }
}

#[cfg(test)]
pub(crate) mod tests;
