//! The quit dialog: what still runs or is held on a server — queries, Redshift Data sessions,
//! Spark sessions started here — each with a box to stop it (all ticked: nothing keeps running
//! and billing after Quarry is gone unless the user says so). Open transactions are asked about
//! before this (commit or roll back), and runs on the embedded engine end with the process.

use super::State;
use super::monitor::{self, Entry, Subject};
use crate::model::action::Action;

#[derive(Debug, Clone, PartialEq)]
pub struct QuitItem {
    pub entry: Entry,
    /// Stop it on the server when quitting.
    pub stop: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QuitForm {
    pub items: Vec<QuitItem>,
    pub selected: usize,
    /// Runs that end with the process whatever is chosen (embedded engine, DynamoDB pages).
    pub local: usize,
}

pub enum QuitChoice {
    Stay,
    Editing(QuitForm),
    /// Quit, stopping the ticked items.
    Quit(QuitForm),
}

/// The dialog for the current state, or `None` when nothing runs or is held.
pub fn form(state: &State) -> Option<QuitForm> {
    let mut items = Vec::new();
    let mut local = 0;
    for entry in monitor::entries(state) {
        let on_server = match entry.subject {
            Subject::Job { tab, result } if entry.active => {
                let Some(t) = state.tab_by_id(tab) else {
                    continue;
                };
                let followed_only = t
                    .results
                    .iter()
                    .find(|r| r.id == result)
                    .is_some_and(|r| r.reopen.is_some());
                let server = state
                    .connection_kind(&t.connection)
                    .is_some_and(|k| k.capabilities().server_side_work);
                if !server || followed_only {
                    local += 1;
                    continue;
                }
                true
            }
            Subject::Session { .. } => entry.active,
            Subject::Spark { index } => state
                .spark
                .list
                .get(index)
                .is_some_and(|k| k.started_here && k.session.is_live()),
            _ => false,
        };
        if on_server {
            items.push(QuitItem { entry, stop: true });
        }
    }
    (!items.is_empty() || local > 0).then_some(QuitForm {
        items,
        selected: 0,
        local,
    })
}

impl QuitForm {
    /// `action` is what the key means in the `confirm` layer: yes (or Enter) quits stopping
    /// the ticked items, no stays; the list moves and ticks in between.
    pub fn on_key(mut self, action: Option<Action>) -> QuitChoice {
        let last = self.items.len().saturating_sub(1);
        match action {
            Some(Action::No) => return QuitChoice::Stay,
            Some(Action::Confirm | Action::Yes) => return QuitChoice::Quit(self),
            Some(Action::Up) => self.selected = self.selected.saturating_sub(1),
            Some(Action::Down) => self.selected = (self.selected + 1).min(last),
            Some(Action::Toggle) => {
                if let Some(item) = self.items.get_mut(self.selected) {
                    item.stop = !item.stop;
                }
            }
            // All on, or all off when all are on.
            Some(Action::ToggleAll) => {
                let all = self.items.iter().all(|i| i.stop);
                for item in &mut self.items {
                    item.stop = !all;
                }
            }
            // Leave everything running on the servers.
            Some(Action::LeaveRunning) => {
                for item in &mut self.items {
                    item.stop = false;
                }
                return QuitChoice::Quit(self);
            }
            _ => {}
        }
        QuitChoice::Editing(self)
    }

    /// How many items are ticked.
    pub fn stopping(&self) -> usize {
        self.items.iter().filter(|i| i.stop).count()
    }
}
