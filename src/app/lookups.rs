//! Finding a tab, a result or a connection's capabilities by id or name: the lookups every
//! feature needs, written once.

use super::editor::EditorTab;
use super::results::ResultTab;
use super::{ConnectionInfo, JobTarget, State};
use crate::model::connection::Capabilities;

impl State {
    /// The tab of that id, wherever it is in the tab bar.
    pub fn tab_by_id(&self, id: u64) -> Option<&EditorTab> {
        self.tabs.iter().find(|t| t.id == id)
    }

    pub fn tab_by_id_mut(&mut self, id: u64) -> Option<&mut EditorTab> {
        self.tabs.iter_mut().find(|t| t.id == id)
    }

    /// The tab whose server-side session (or direct connection) has that key.
    pub fn tab_by_session_key_mut(&mut self, key: &str) -> Option<&mut EditorTab> {
        self.tabs.iter_mut().find(|t| t.session_key() == key)
    }

    /// Where the tab of that id is in the tab bar.
    pub fn tab_index(&self, id: u64) -> Option<usize> {
        self.tabs.iter().position(|t| t.id == id)
    }

    /// The result a job writes into, if its tab and result are still there.
    pub fn result(&self, target: JobTarget) -> Option<&ResultTab> {
        self.tab_by_id(target.tab)?.result_by_id(target.result)
    }

    pub fn result_mut(&mut self, target: JobTarget) -> Option<&mut ResultTab> {
        self.tab_by_id_mut(target.tab)?
            .result_by_id_mut(target.result)
    }

    /// The result of that id in whichever tab holds it.
    pub fn any_result_mut(&mut self, id: u64) -> Option<&mut ResultTab> {
        self.tabs
            .iter_mut()
            .flat_map(|t| t.results.iter_mut())
            .find(|r| r.id == id)
    }

    /// The configured connection of that name.
    pub fn connection(&self, name: &str) -> Option<&ConnectionInfo> {
        self.connections.iter().find(|c| c.name == name)
    }

    /// What the named connection can do (`None` when no such connection is configured).
    pub fn capabilities(&self, connection: &str) -> Option<Capabilities> {
        self.connection_kind(connection).map(|k| k.capabilities())
    }

    /// What the active tab's connection can do.
    pub fn tab_capabilities(&self) -> Option<Capabilities> {
        self.capabilities(&self.tab().connection)
    }
}
