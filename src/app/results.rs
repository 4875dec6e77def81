//! The state of one result tab: the job behind it, the rows that arrived, the grid's cursor and
//! scroll position, and the active sort or filter view.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::model::job::{GroupMode, JobId, JobStats};
use crate::results::{ResultSet, SortOrder};

/// Where a result tab's job is in its life.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// Waiting for the statement before it (run all).
    Queued,
    Running {
        service_state: Option<String>,
    },
    Succeeded {
        message: Option<String>,
    },
    Failed {
        error: String,
    },
    Cancelled,
    /// Not run because an earlier statement of the same run failed.
    Skipped,
}

impl RunState {
    pub fn is_active(&self) -> bool {
        matches!(self, RunState::Queued | RunState::Running { .. })
    }

    pub fn label(&self) -> &'static str {
        match self {
            RunState::Queued => "QUEUED",
            RunState::Running { .. } => "RUNNING",
            RunState::Succeeded { .. } => "SUCCEEDED",
            RunState::Failed { .. } => "FAILED",
            RunState::Cancelled => "CANCELLED",
            RunState::Skipped => "SKIPPED",
        }
    }
}

/// A sort or filter over the loaded rows: display row `i` is data row `indices[i]`.
#[derive(Debug, Clone, PartialEq)]
pub enum ViewKind {
    Sort { column: usize, order: SortOrder },
    Filter { needle: String },
}

#[derive(Debug, Clone)]
pub struct View {
    pub kind: ViewKind,
    /// None while the worker computes it.
    pub indices: Option<Arc<Vec<u32>>>,
    /// Rows loaded when it was computed; rows that arrive later trigger a recompute at the end.
    pub rows_seen: usize,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct GridState {
    pub row: usize,
    pub col: usize,
    pub top: usize,
    pub left: usize,
    pub widths: Vec<usize>,
    /// Where a `v` range selection started (display row, column); the cursor is its other end.
    pub anchor: Option<(usize, usize)>,
}

#[derive(Debug, Clone)]
pub struct ResultTab {
    /// Unique for the process: sort/filter results come back addressed to it.
    pub id: u64,
    /// The run it belongs to: "run all" starts the next queued tab of its group when one ends.
    pub group: u64,
    pub sql: String,
    /// Values for the statement's `?` placeholders, as the user typed them.
    pub params: Vec<String>,
    /// Follow this existing server execution instead of starting the statement.
    pub reopen: Option<String>,
    /// Ran in one service call with the rest of its group (DynamoDB batch or transaction).
    pub service_group: Option<GroupMode>,
    /// Where a paused run goes on (DynamoDB `NextToken`): "load more" starts from it.
    pub resume: Option<String>,
    /// Loading stopped at `[ui] max_loaded_rows`: the result has more rows than it holds.
    pub truncated: bool,
    pub job: Option<JobId>,
    pub state: RunState,
    pub rows: Option<Arc<ResultSet>>,
    pub stats: JobStats,
    pub started: Option<Instant>,
    pub elapsed: Option<Duration>,
    pub grid: GridState,
    pub view: Option<View>,
    /// Bumped on every view change, so a late sort result for an old request is dropped.
    pub view_generation: u64,
}

impl ResultTab {
    pub fn new(id: u64, group: u64, sql: String) -> Self {
        ResultTab {
            id,
            group,
            sql,
            params: Vec::new(),
            reopen: None,
            service_group: None,
            resume: None,
            truncated: false,
            job: None,
            state: RunState::Queued,
            rows: None,
            stats: JobStats::default(),
            started: None,
            elapsed: None,
            grid: GridState::default(),
            view: None,
            view_generation: 0,
        }
    }

    /// A short title: the statement's first line that is not blank or a comment.
    pub fn title(&self) -> String {
        let first = self
            .sql
            .lines()
            .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
            .or_else(|| self.sql.lines().find(|l| !l.trim().is_empty()))
            .unwrap_or("");
        let mut t: String = first.trim().chars().take(24).collect();
        if first.trim().chars().count() > 24 {
            t.push('…');
        }
        t
    }

    /// A schema after rows arrived widens them (new columns, wider types) instead of starting
    /// over; a widening that cannot be done fails the result rather than dropping rows.
    pub fn widen_schema(&mut self, schema: SchemaRef, max_width: usize) -> Result<(), String> {
        let Some(rows) = self.rows.as_mut().filter(|r| r.num_rows() > 0) else {
            self.set_schema(schema, max_width);
            return Ok(());
        };
        // A run that goes on (load more) may describe fewer or other columns: keep them all.
        let merged = crate::results::merge_schemas(rows.schema(), &schema);
        Arc::make_mut(rows)
            .widen(merged)
            .map_err(|e| format!("the result changed shape in a way Quarry cannot show: {e}"))?;
        let widths = rows.column_widths(100, max_width);
        self.grid.widths.resize(widths.len(), 0);
        for (w, s) in self.grid.widths.iter_mut().zip(widths) {
            *w = (*w).max(s);
        }
        Ok(())
    }

    pub fn set_schema(&mut self, schema: SchemaRef, max_width: usize) {
        let rs = ResultSet::new(schema);
        self.grid.widths = rs.column_widths(0, max_width);
        self.rows = Some(Arc::new(rs));
    }

    /// Appends a batch; the first rows also size the columns. A batch of another shape than the
    /// result's (after a widening) is fitted to it by column name.
    pub fn push_batch(&mut self, batch: RecordBatch, max_width: usize) -> Result<(), String> {
        let Some(rows) = self.rows.as_mut() else {
            let mut rs = ResultSet::new(batch.schema());
            rs.push_batch(batch);
            self.grid.widths = rs.column_widths(100, max_width);
            self.rows = Some(Arc::new(rs));
            return Ok(());
        };
        let batch = if batch.schema().fields() == rows.schema().fields() {
            batch
        } else {
            crate::results::widen_batch(&batch, rows.schema())
                .map_err(|e| format!("rows of another shape could not be shown: {e}"))?
        };
        let first = rows.num_rows() == 0;
        // Cheap: a ResultSet is a list of Arc'd batches; clones only if a sort task holds it.
        Arc::make_mut(rows).push_batch(batch);
        if first {
            let widths = rows.column_widths(100, max_width);
            self.grid.widths = widths;
        }
        Ok(())
    }

    /// Widens columns to fit the rows that arrived after the first batch (the first and last
    /// rows are sampled); a width the user set wider is kept.
    pub fn refresh_widths(&mut self, max_width: usize) {
        if let Some(rows) = &self.rows {
            let sampled = rows.column_widths(100, max_width);
            for (w, s) in self.grid.widths.iter_mut().zip(sampled) {
                *w = (*w).max(s);
            }
        }
    }

    pub fn loaded_rows(&self) -> usize {
        self.rows.as_ref().map(|r| r.num_rows()).unwrap_or(0)
    }

    pub fn num_columns(&self) -> usize {
        self.rows.as_ref().map(|r| r.num_columns()).unwrap_or(0)
    }

    /// Rows the grid shows: the view's rows when a view is ready, else all loaded rows.
    pub fn visible_rows(&self) -> usize {
        match self.view.as_ref().and_then(|v| v.indices.as_ref()) {
            Some(ix) => ix.len(),
            None => self.loaded_rows(),
        }
    }

    /// The selected range as display rows and columns, inclusive (`row_lo, row_hi, col_lo,
    /// col_hi`): between the `v` anchor and the cursor, or the cursor's cell alone.
    pub fn selection(&self) -> (usize, usize, usize, usize) {
        let (r, c) = (self.grid.row, self.grid.col);
        let (ar, ac) = self.grid.anchor.unwrap_or((r, c));
        (ar.min(r), ar.max(r), ac.min(c), ac.max(c))
    }

    /// The data row shown at display row `display`.
    pub fn data_row(&self, display: usize) -> usize {
        match self.view.as_ref().and_then(|v| v.indices.as_ref()) {
            Some(ix) => ix.get(display).map(|&r| r as usize).unwrap_or(display),
            None => display,
        }
    }

    /// Keeps the cursor inside the data and on screen, for a grid of `page` rows and `width`
    /// columns of text.
    pub fn clamp_cursor(&mut self, page: usize, width: usize) {
        let rows = self.visible_rows();
        let cols = self.num_columns();
        let g = &mut self.grid;
        g.row = g.row.min(rows.saturating_sub(1));
        g.col = g.col.min(cols.saturating_sub(1));
        let page = page.max(1);
        if g.row < g.top {
            g.top = g.row;
        } else if g.row >= g.top + page {
            g.top = g.row + 1 - page;
        }
        g.top = g.top.min(rows.saturating_sub(1));
        if g.col < g.left {
            g.left = g.col;
        }
        // Scroll right until the cursor's column fits after the row-number gutter.
        let gutter = gutter_width(rows) + 1;
        while g.left < g.col {
            let used: usize = gutter
                + g.widths
                    .get(g.left..=g.col)
                    .map_or(0, |w| w.iter().map(|w| w + 1).sum());
            if used <= width {
                break;
            }
            g.left += 1;
        }
    }
}

/// Width of the row-number column for `rows` rows.
pub fn gutter_width(rows: usize) -> usize {
    rows.max(1).to_string().len().max(1)
}
