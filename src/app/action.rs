//! What a key means. `Action` names are kebab-case so the keymap TOML can name them
//! (`"ctrl-r" = "run-statement"`).

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    // Everywhere
    Quit,
    Help,
    FocusBrowser,
    FocusEditor,
    FocusResults,
    CycleFocus,
    NewTab,
    CloseTab,
    NextTab,
    PrevTab,
    RunStatement,
    RunAll,
    RunTransaction,
    Cancel,
    Export,
    NextResultTab,
    PrevResultTab,
    ChooseConnection,
    ToggleResultReuse,
    ToggleConsistentRead,
    ToggleIndexCapacity,
    SetRunLimit,
    ToggleSession,
    EndSession,
    History,
    SaveSnippet,
    Snippets,
    Monitor,
    // Lists, grid and browser
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    FirstColumn,
    LastColumn,
    Inspect,
    Sort,
    Filter,
    CopyCell,
    CopyRow,
    SelectRange,
    WidenColumn,
    NarrowColumn,
    LoadMore,
    // Browser
    Activate,
    RunTable,
    Expand,
    Collapse,
    Refresh,
}

impl Action {
    /// Every action, in the order the help popup lists them.
    pub const ALL: &'static [Action] = &[
        Action::Quit,
        Action::Help,
        Action::FocusBrowser,
        Action::FocusEditor,
        Action::FocusResults,
        Action::CycleFocus,
        Action::NewTab,
        Action::CloseTab,
        Action::NextTab,
        Action::PrevTab,
        Action::RunStatement,
        Action::RunAll,
        Action::RunTransaction,
        Action::Cancel,
        Action::Export,
        Action::NextResultTab,
        Action::PrevResultTab,
        Action::ChooseConnection,
        Action::ToggleResultReuse,
        Action::ToggleConsistentRead,
        Action::ToggleIndexCapacity,
        Action::SetRunLimit,
        Action::ToggleSession,
        Action::EndSession,
        Action::History,
        Action::SaveSnippet,
        Action::Snippets,
        Action::Monitor,
        Action::Up,
        Action::Down,
        Action::Left,
        Action::Right,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::FirstColumn,
        Action::LastColumn,
        Action::Inspect,
        Action::Sort,
        Action::Filter,
        Action::CopyCell,
        Action::CopyRow,
        Action::SelectRange,
        Action::WidenColumn,
        Action::NarrowColumn,
        Action::LoadMore,
        Action::Activate,
        Action::RunTable,
        Action::Expand,
        Action::Collapse,
        Action::Refresh,
    ];

    /// The name the keymap TOML uses (`run-statement`): the variant in kebab case, as serde
    /// reads it.
    pub fn name(self) -> String {
        let mut out = String::new();
        for (i, c) in format!("{self:?}").chars().enumerate() {
            if c.is_ascii_uppercase() {
                if i > 0 {
                    out.push('-');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }

    /// One line for the help popup.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit (asks first while jobs run)",
            Action::Help => "show this help",
            Action::FocusBrowser => "focus the browser",
            Action::FocusEditor => "focus the editor",
            Action::FocusResults => "focus the results",
            Action::CycleFocus => "focus the next pane",
            Action::NewTab => "new editor tab (same connection)",
            Action::CloseTab => "close the editor tab",
            Action::NextTab => "next editor tab",
            Action::PrevTab => "previous editor tab",
            Action::RunStatement => "run the statement under the cursor, or the selection",
            Action::RunAll => {
                "run every statement of the tab, one result tab each (DynamoDB: as a batch)"
            }
            Action::RunTransaction => "run all as one transaction (DynamoDB, Redshift, PostgreSQL)",
            Action::Cancel => "cancel the tab's running job (editor: copy when none runs)",
            Action::Export => {
                "export: format, scope (whole, view, selection, column, row), file or clipboard"
            }
            Action::NextResultTab => "next result tab",
            Action::PrevResultTab => "previous result tab",
            Action::ChooseConnection => "choose the tab's connection",
            Action::ToggleResultReuse => "Athena result reuse for this tab (on/off)",
            Action::ToggleConsistentRead => "DynamoDB consistent reads for this tab (on/off)",
            Action::ToggleIndexCapacity => "DynamoDB capacity per index for this tab (on/off)",
            Action::SetRunLimit => "DynamoDB: items per run before pausing, for this tab",
            Action::ToggleSession => "Redshift Data: run this tab in a session or without (on/off)",
            Action::EndSession => "Redshift Data: end this tab's session (temp tables go with it)",
            Action::History => "run history: search, Enter into the editor, Ctrl-O reopens results",
            Action::SaveSnippet => "save the tab's text (or selection) as a snippet",
            Action::Snippets => "snippets: search, Enter inserts, Ctrl-O opens a tab, Ctrl-R runs",
            Action::Monitor => "jobs and sessions: cancel, end, show, copy the id, run again",
            Action::Up => "up",
            Action::Down => "down",
            Action::Left => "left / previous column",
            Action::Right => "right / next column",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "first row",
            Action::Bottom => "last row",
            Action::FirstColumn => "first column",
            Action::LastColumn => "last column",
            Action::Inspect => "inspect the cell (pretty JSON, scrollable)",
            Action::Sort => "sort by the column (asc, desc, off)",
            Action::Filter => "filter rows (grid) / filter the tree (browser)",
            Action::CopyCell => "copy the cell, or the selected range as TSV with its header",
            Action::CopyRow => "copy the row as TSV with its header",
            Action::SelectRange => "start (or drop) a range selection at the cursor",
            Action::WidenColumn => "widen the column",
            Action::NarrowColumn => "narrow the column",
            Action::LoadMore => "DynamoDB: load the items after a paused result",
            Action::Activate => "insert a table's SELECT, use a workgroup, reopen a past query",
            Action::RunTable => "table: run SELECT * … LIMIT 100 at once",
            Action::Expand => "expand the node",
            Action::Collapse => "collapse the node / go to parent",
            Action::Refresh => "reload the node's children",
        }
    }
}
