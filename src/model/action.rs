//! What a key means, defined once: each action's variant, the kebab-case name the keymap TOML
//! uses (`"ctrl-r" = "run-statement"`), its line in the help popup and its default keys per
//! context come from one table, so adding an action is one entry.

use serde::Deserialize;

use super::keys::KeyContext;

/// Declares `Action` (deserialized by its name), `Action::ALL` (the table's order, which the help
/// popup follows), `name`, `describe` and [`DEFAULT_KEYS`] from one table:
/// `Variant "name" "help text" [Context "key", …],`.
macro_rules! actions {
    ($(
        $variant:ident $name:literal $help:literal [$($context:ident $key:literal),* $(,)?],
    )*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, PartialOrd, Ord)]
        pub enum Action {
            $( #[serde(rename = $name)] $variant, )*
        }

        impl Action {
            /// Every action, in the order the help popup lists them.
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The name the keymap TOML uses (`run-statement`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// One line for the help popup.
            pub fn describe(self) -> &'static str {
                match self {
                    $(Action::$variant => $help,)*
                }
            }
        }

        /// The default bindings: context, key, action.
        pub const DEFAULT_KEYS: &[(KeyContext, &str, Action)] = &[
            $($( (KeyContext::$context, $key, Action::$variant), )*)*
        ];
    };
}

actions! {
    // Everywhere
    Quit "quit"
        "quit (asks first while jobs run)"
        [Global "ctrl-q", Grid "q", Browser "q"],
    Help "help"
        "show this help"
        [Global "f1", Browser "?", Grid "?"],
    FocusBrowser "focus-browser"
        "focus the browser"
        [Global "alt-1"],
    FocusEditor "focus-editor"
        "focus the editor"
        [Global "alt-2"],
    FocusResults "focus-results"
        "focus the results"
        [Global "alt-3"],
    CycleFocus "cycle-focus"
        "focus the next pane"
        [Browser "tab", Grid "tab"],
    NewTab "new-tab"
        "new editor tab (same connection)"
        [Global "ctrl-n"],
    CloseTab "close-tab"
        "close the editor tab"
        [Global "ctrl-w"],
    NextTab "next-tab"
        "next editor tab"
        [Global "alt-right"],
    PrevTab "prev-tab"
        "previous editor tab"
        [Global "alt-left"],
    RunStatement "run-statement"
        "run the statement under the cursor, or the selection"
        [Global "ctrl-j", Global "ctrl-enter", Global "f5"],
    RunAll "run-all"
        "run every statement of the tab, one result tab each (DynamoDB: as a batch)"
        [Global "f6"],
    RunTransaction "run-transaction"
        "run all as one transaction (DynamoDB, Redshift, PostgreSQL)"
        [Global "f7"],
    Cancel "cancel"
        "cancel the tab's running job (editor: copy when none runs)"
        [Global "ctrl-c"],
    Export "export"
        "export: format, scope (whole, view, selection, column, row), file or clipboard"
        [Global "ctrl-e"],
    NextResultTab "next-result-tab"
        "next result tab"
        [Global "alt-]", Grid "]"],
    PrevResultTab "prev-result-tab"
        "previous result tab"
        [Global "alt-[", Grid "["],
    ChooseConnection "choose-connection"
        "choose the tab's connection"
        [Global "f4", Global "ctrl-o"],
    ToggleResultReuse "toggle-result-reuse"
        "Athena result reuse for this tab (on/off)"
        [Global "alt-r"],
    ToggleConsistentRead "toggle-consistent-read"
        "DynamoDB consistent reads for this tab (on/off)"
        [Global "alt-c"],
    ToggleIndexCapacity "toggle-index-capacity"
        "DynamoDB capacity per index for this tab (on/off)"
        [Global "alt-i"],
    SetRunLimit "set-run-limit"
        "DynamoDB: items per run before pausing, for this tab"
        [Global "alt-l"],
    ToggleSession "toggle-session"
        "Redshift Data: run this tab in a session or without (on/off)"
        [Global "alt-s"],
    EndSession "end-session"
        "Redshift Data: end this tab's session (temp tables go with it)"
        [Global "alt-e"],
    History "history"
        "run history: search, Enter into the editor, Ctrl-O reopens results"
        [Global "f8"],
    SaveSnippet "save-snippet"
        "save the tab's text (or selection) as a snippet"
        [Global "ctrl-s"],
    Snippets "snippets"
        "snippets: search, Enter inserts, Ctrl-O opens a tab, Ctrl-R runs"
        [Global "ctrl-p"],
    Monitor "monitor"
        "jobs and sessions: cancel, end, show, copy the id, run again"
        [Global "f9"],
    // Lists, grid and browser
    Up "up"
        "up"
        [Grid "up", Grid "k", Browser "up", Browser "k", List "up", List "k", Picker "up",
         Monitor "up", Monitor "k", Scroll "up", Scroll "k", Confirm "up", Confirm "k",
         Completion "up"],
    Down "down"
        "down"
        [Grid "down", Grid "j", Browser "down", Browser "j", List "down", List "j",
         Picker "down", Monitor "down", Monitor "j", Scroll "down", Scroll "j", Confirm "down",
         Confirm "j", Completion "down"],
    Left "left"
        "left / previous column"
        [Grid "left", Grid "h", Scroll "left", Scroll "h"],
    Right "right"
        "right / next column"
        [Grid "right", Grid "l", Scroll "right", Scroll "l"],
    PageUp "page-up"
        "page up"
        [Grid "pgup", Browser "pgup", Scroll "pgup"],
    PageDown "page-down"
        "page down"
        [Grid "pgdn", Browser "pgdn", Scroll "pgdn", Scroll "space"],
    Top "top"
        "first row"
        [Grid "g", Browser "g", Scroll "home", Scroll "g"],
    Bottom "bottom"
        "last row"
        [Grid "G", Browser "G", Scroll "end", Scroll "G"],
    FirstColumn "first-column"
        "first column"
        [Grid "home", Grid "0", Scroll "0"],
    LastColumn "last-column"
        "last column"
        [Grid "end", Grid "$", Scroll "$"],
    Inspect "inspect"
        "inspect the cell (pretty JSON, scrollable)"
        [Grid "enter"],
    Sort "sort"
        "sort by the column (asc, desc, off)"
        [Grid "s"],
    Filter "filter"
        "filter rows (grid) / filter the tree (browser)"
        [Grid "/", Browser "/"],
    CopyCell "copy-cell"
        "copy the cell, or the selected range as TSV with its header"
        [Grid "y"],
    CopyRow "copy-row"
        "copy the row as TSV with its header"
        [Grid "Y"],
    SelectRange "select-range"
        "start (or drop) a range selection at the cursor"
        [Grid "v"],
    WidenColumn "widen-column"
        "widen the column"
        [Grid ">", Grid "+"],
    NarrowColumn "narrow-column"
        "narrow the column"
        [Grid "<", Grid "-"],
    LoadMore "load-more"
        "DynamoDB: load the items after a paused result"
        [Grid "m"],
    // Browser
    Activate "activate"
        "insert a table's SELECT, use a workgroup, reopen a past query"
        [Browser "enter"],
    RunTable "run-table"
        "table: run SELECT * … LIMIT 100 at once"
        [Browser "r"],
    Expand "expand"
        "expand the node"
        [Browser "right", Browser "l"],
    Collapse "collapse"
        "collapse the node / go to parent"
        [Browser "left", Browser "h"],
    Refresh "refresh"
        "reload the node's children"
        [Browser "R"],
    // Popups
    Confirm "confirm"
        "confirm, choose the selected line (questions: the default answer, if any)"
        [Input "enter", Confirm "enter", List "enter", Picker "enter", Monitor "enter",
         Form "enter", Completion "enter"],
    Close "close"
        "close the popup"
        [Input "esc", List "esc", List "q", Picker "esc", Monitor "esc", Monitor "q", Monitor "f9",
         Scroll "esc", Scroll "q", Scroll "f1", Scroll "enter", Form "esc", Completion "esc"],
    Yes "yes"
        "answer yes"
        [Confirm "y", Confirm "Y"],
    Toggle "toggle"
        "quit dialog: tick or untick the line (stop it on the server or not)"
        [Confirm "space"],
    ToggleAll "toggle-all"
        "quit dialog: tick every line, or none when all are"
        [Confirm "a"],
    LeaveRunning "leave-running"
        "quit dialog: quit leaving everything running on the servers"
        [Confirm "l", Confirm "L"],
    No "no"
        "answer no"
        [Confirm "n", Confirm "N", Confirm "esc"],
    Commit "commit"
        "open transactions: commit"
        [Confirm "c", Confirm "C"],
    Rollback "rollback"
        "open transactions: roll back"
        [Confirm "r", Confirm "R"],
    ClearInput "clear-input"
        "clear the text"
        [Input "ctrl-u", Picker "ctrl-u", Form "ctrl-u"],
    NextField "next-field"
        "the next field"
        [Form "down"],
    PrevField "prev-field"
        "the previous field"
        [Form "up", Form "shift-tab"],
    Complete "complete"
        "complete: the export path from the directory's files, the name chosen in the editor's \
         list (forms elsewhere: the next field)"
        [Form "tab", Completion "tab"],
    CompleteHere "complete-here"
        "complete the name under the cursor (the list also opens by itself while typing a name)"
        [Editor "ctrl-space"],
    NextChoice "next-choice"
        "the field's next choice (export format, scope, destination)"
        [Form "right"],
    PrevChoice "prev-choice"
        "the field's previous choice"
        [Form "left"],
    Open "open"
        "history: reopen the results; snippets: open in a new tab"
        [Picker "ctrl-o"],
    Run "run"
        "snippets: open in a new tab and run"
        [Picker "ctrl-r"],
    Stop "stop"
        "cancel the job, end the session or transaction, terminate the Spark session"
        [Monitor "c"],
    CopyValue "copy-value"
        "copy the line's server id (monitor), value (Spark session details) or text (inspector)"
        [Monitor "y", List "y", Scroll "y"],
    RunAgain "run-again"
        "run the line's statement again"
        [Monitor "r"],
}
