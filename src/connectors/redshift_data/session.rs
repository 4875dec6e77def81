//! Data API sessions held for callers (an editor tab, a script): which session a caller's next
//! statement goes to, and whether it has idled out in the meantime.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One server-side session as Quarry knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    pub keep_alive: Duration,
    /// When its last statement ended; `None` while one runs (a busy session never idles out).
    pub idle_since: Option<Instant>,
}

impl Session {
    /// Idled out by the clock (the service may still say so first: see `SessionArg::Existing`).
    pub fn expired(&self, now: Instant) -> bool {
        self.idle_since
            .is_some_and(|since| now.duration_since(since) >= self.keep_alive)
    }
}

/// How a statement relates to its caller's session.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionArg {
    /// Run without a session.
    None,
    /// Open a session kept alive this many seconds after each statement.
    Open(i32),
    /// Run in this existing session.
    Existing(String),
}

/// Sessions by caller key (`tab-3`, `cli`).
#[derive(Debug, Default)]
pub struct Sessions {
    by_key: Mutex<HashMap<String, Session>>,
}

/// What `Sessions::take_for_run` found for a caller.
#[derive(Debug, PartialEq)]
pub enum Lookup {
    /// No session yet: open one.
    None,
    Live(String),
    /// It idled out (keep-alive seconds, id): open a new one and tell the user state was lost.
    Expired(u64, String),
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.by_key.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The caller's session for a statement about to run; a live one is marked busy.
    pub fn take_for_run(&self, key: &str, now: Instant) -> Lookup {
        let mut map = self.lock();
        let Some(session) = map.get_mut(key) else {
            return Lookup::None;
        };
        if session.expired(now) {
            let gone = map.remove(key).expect("present");
            return Lookup::Expired(gone.keep_alive.as_secs(), gone.id);
        }
        session.idle_since = None;
        Lookup::Live(session.id.clone())
    }

    /// Records (or re-records) the caller's session, busy.
    pub fn set(&self, key: &str, id: String, keep_alive: Duration) {
        self.lock().insert(
            key.to_string(),
            Session {
                id,
                keep_alive,
                idle_since: None,
            },
        );
    }

    /// The caller's statement ended: the session's idle clock starts now.
    pub fn mark_idle(&self, key: &str, id: &str, now: Instant) -> Option<Session> {
        let mut map = self.lock();
        let session = map.get_mut(key).filter(|s| s.id == id)?;
        session.idle_since = Some(now);
        Some(session.clone())
    }

    /// Forgets the caller's session (ended, or found gone on the server).
    pub fn remove(&self, key: &str) -> Option<Session> {
        self.lock().remove(key)
    }

    /// Forgets `id` if it is still the caller's session.
    pub fn remove_if(&self, key: &str, id: &str) {
        let mut map = self.lock();
        if map.get(key).is_some_and(|s| s.id == id) {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_idles_out_only_after_its_keep_alive_since_its_last_statement() {
        let sessions = Sessions::default();
        let t0 = Instant::now();
        assert_eq!(sessions.take_for_run("tab-1", t0), Lookup::None);
        sessions.set("tab-1", "s1".into(), Duration::from_secs(60));
        // Busy: no idle clock, however long it runs.
        assert_eq!(
            sessions.take_for_run("tab-1", t0 + Duration::from_secs(600)),
            Lookup::Live("s1".into())
        );
        let done = t0 + Duration::from_secs(700);
        sessions.mark_idle("tab-1", "s1", done).unwrap();
        assert_eq!(
            sessions.take_for_run("tab-1", done + Duration::from_secs(59)),
            Lookup::Live("s1".into())
        );
        sessions.mark_idle("tab-1", "s1", done).unwrap();
        assert_eq!(
            sessions.take_for_run("tab-1", done + Duration::from_secs(60)),
            Lookup::Expired(60, "s1".into())
        );
        assert_eq!(sessions.take_for_run("tab-1", done), Lookup::None);
    }

    #[test]
    fn sessions_belong_to_their_caller() {
        let sessions = Sessions::default();
        let now = Instant::now();
        sessions.set("tab-1", "s1".into(), Duration::from_secs(60));
        assert_eq!(sessions.take_for_run("tab-2", now), Lookup::None);
        assert!(sessions.mark_idle("tab-1", "other", now).is_none());
        sessions.remove_if("tab-1", "other");
        assert!(sessions.remove("tab-1").is_some());
    }
}
