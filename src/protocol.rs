//! The worker's protocol: what the app asks of the worker ([`WorkerCmd`], sent on an unbounded
//! channel, so the UI never waits) and what comes back ([`WorkerEvent`], on a bounded one). It
//! sits below both: the app builds commands and reads events without knowing the worker, and
//! the worker answers without knowing the app. Its payloads are values of the layers below
//! (result sets, snippets, history entries, the model's jobs and catalog nodes).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::export::{Format, Overwrite};
use crate::model::catalog::{CatalogNode, CatalogPath};
use crate::model::completion::{CatalogSnapshot, ColumnEntry};
use crate::model::job::{GroupMode, JobEvent, JobId, JobSummary, QueryRequest};
use crate::model::spark::{SparkOp, SparkReply};
use crate::results::{self, ResultSet, SortOrder};
use crate::store::history;
use crate::store::snippets::{self, SnippetMeta};

/// How a result view (sort or filter) is computed.
#[derive(Debug, Clone, PartialEq)]
pub enum ViewSpec {
    Sort { column: usize, order: SortOrder },
    Filter { needle: String },
}

#[derive(Debug)]
pub enum WorkerCmd {
    Run {
        job: JobId,
        connection: String,
        request: QueryRequest,
    },
    /// Statements run together in one service call (DynamoDB batch or transaction), one job
    /// (and result) each.
    RunGroup {
        jobs: Vec<JobId>,
        connection: String,
        mode: GroupMode,
        requests: Vec<QueryRequest>,
    },
    Cancel {
        job: JobId,
    },
    /// Tab completion of a typed path (the export form's): answered by `PathCompleted`.
    CompletePath {
        typed: String,
    },
    LoadChildren {
        connection: String,
        path: CatalogPath,
    },
    /// Ends the server-side session held for caller `key` (a tab) on `connection`.
    EndSession {
        connection: String,
        key: String,
    },
    /// A Spark session operation on `connection`; answered by [`WorkerEvent::Spark`].
    Spark {
        connection: String,
        op: SparkOp,
    },
    /// Commits (`commit`) or rolls back the transaction open on caller `key`'s connection;
    /// answered by [`WorkerEvent::TransactionEnded`].
    EndTransaction {
        connection: String,
        key: String,
        commit: bool,
    },
    /// A password the user typed for `connection` (kept in memory by its connector).
    SetPassword {
        connection: String,
        password: String,
    },
    /// Sorting or filtering a large result takes longer than a frame: done off the UI loop.
    ComputeView {
        result: u64,
        generation: u64,
        rows: Arc<ResultSet>,
        spec: ViewSpec,
    },
    /// Lays out one cell for the inspector (linear in its size, but it may be megabytes):
    /// answered by [`WorkerEvent::Inspected`] with the same `request`.
    Inspect {
        request: u64,
        rows: Arc<ResultSet>,
        row: usize,
        col: usize,
        /// Read Athena's `array`/`map`/`row` text back as JSON.
        trino_text: bool,
    },
    /// Writes rows of a result out in the background; `id` is a job id (`Cancel` stops it).
    Export {
        id: JobId,
        format: Format,
        rows: Arc<ResultSet>,
        pick: RowPick,
        target: ExportTarget,
        /// A paused run's connection and the request that goes on from its token: a
        /// whole-result export fetches the rest while writing.
        rest: Option<(String, QueryRequest)>,
    },
    /// What completion knows of `connection`'s catalog: answered by [`WorkerEvent::Catalog`],
    /// first from the on-disk cache when there is one, then listed again (through the same
    /// metadata calls the browser makes, never a statement) when `refresh` or the cache is
    /// stale or missing.
    LoadCatalog {
        connection: String,
        refresh: bool,
    },
    /// The columns of one table (its schema path, then its name): answered by
    /// [`WorkerEvent::Columns`]; the cache is updated too.
    LoadColumns {
        connection: String,
        table: Vec<String>,
    },
    /// Reads the run history; answered by [`WorkerEvent::History`].
    LoadHistory,
    /// Lists the snippet library; answered by [`WorkerEvent::Snippets`].
    LoadSnippets,
    /// Saves a snippet (see [`Library::save`]); answered by [`WorkerEvent::SnippetSaved`].
    SaveSnippet {
        name: String,
        text: String,
        meta: SnippetMeta,
        /// Replace an existing snippet file of that name; without it the answer is
        /// [`SaveFailure::Exists`].
        overwrite: bool,
    },
    Shutdown,
}

/// Why a snippet was not saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveFailure {
    /// The file exists and the request said not to replace it: ask, then try again.
    Exists(PathBuf),
    Failed(String),
}

impl std::fmt::Display for SaveFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SaveFailure::Exists(path) => write!(f, "{} already exists", path.display()),
            SaveFailure::Failed(e) => f.write_str(e),
        }
    }
}

/// What `LoadSnippets` and `SaveSnippet` answer when there is no snippet library.
pub const NO_SNIPPETS: &str = "no data directory: snippets are unavailable";

#[derive(Debug, Clone)]
pub enum JobOutcome {
    Succeeded(JobSummary),
    Failed(String),
    Cancelled,
}

#[derive(Debug)]
pub enum WorkerEvent {
    Job(JobId, JobEvent),
    /// The answer to [`WorkerCmd::CompletePath`]: `typed` completed as far as it is unique.
    PathCompleted {
        typed: String,
        completed: String,
    },
    JobFinished {
        job: JobId,
        outcome: JobOutcome,
        elapsed: Duration,
    },
    Children {
        connection: String,
        path: CatalogPath,
        result: Result<Vec<CatalogNode>, String>,
    },
    /// `Some(id)`: the session that was ended; `None`: the caller held none.
    /// The answer to [`WorkerCmd::Spark`].
    Spark {
        connection: String,
        op: SparkOp,
        /// Boxed: a session's details are large next to the other events.
        outcome: Result<Box<SparkReply>, String>,
    },
    SessionEnded {
        key: String,
        outcome: Result<Option<String>, String>,
    },
    /// The answer to [`WorkerCmd::EndTransaction`]: what happened, or why it failed.
    TransactionEnded {
        key: String,
        outcome: Result<String, String>,
    },
    /// `job` failed because the server asks a password for `connection` and none is known
    /// (its [`WorkerEvent::JobFinished`] follows).
    PasswordNeeded {
        job: JobId,
        connection: String,
    },
    ViewReady {
        result: u64,
        generation: u64,
        outcome: Result<Vec<u32>, String>,
    },
    /// The answer to [`WorkerCmd::Inspect`].
    Inspected {
        request: u64,
        outcome: Result<Arc<results::InspectText>, String>,
    },
    ExportProgress {
        id: JobId,
        rows: u64,
        bytes: u64,
    },
    ExportDone {
        id: JobId,
        outcome: Result<ExportOutcome, ExportFailure>,
    },
    /// The answer to [`WorkerCmd::LoadCatalog`]: `from_cache` when read from the disk cache (a
    /// fresher one may follow).
    Catalog {
        connection: String,
        snapshot: Result<Arc<CatalogSnapshot>, String>,
        from_cache: bool,
    },
    /// The answer to [`WorkerCmd::LoadColumns`]; `keys` are the table's key attributes
    /// (DynamoDB's key schema, Athena's partition keys), when it has any.
    Columns {
        connection: String,
        table: Vec<String>,
        columns: Result<Vec<ColumnEntry>, String>,
        keys: Vec<String>,
    },
    /// The run history, newest first; `Err` when it is unavailable or unreadable, saying why.
    History(Result<Vec<history::Entry>, String>),
    /// The snippet library, sorted by name; `errors` are the files that could not be read or
    /// parsed (one line each), or [`NO_SNIPPETS`] when there is no library.
    Snippets {
        snippets: Vec<snippets::Snippet>,
        errors: Vec<String>,
    },
    SnippetSaved {
        name: String,
        outcome: Result<snippets::Snippet, SaveFailure>,
    },
}

/// Which rows (global indices, in output order) and columns go out; `None`: all, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowPick {
    pub rows: Option<Vec<u32>>,
    pub columns: Option<Vec<usize>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExportTarget {
    File {
        path: PathBuf,
        overwrite: Overwrite,
    },
    /// The text comes back in [`ExportOutcome::clipboard`] (text formats only).
    Clipboard,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExportOutcome {
    pub rows: u64,
    pub bytes: u64,
    pub clipboard: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExportFailure {
    /// The file exists and the request said not to replace it: ask, then try again.
    Exists(PathBuf),
    Cancelled,
    Failed(String),
}
