//! The leaf layer: plain values and their display that every other layer may use. It imports
//! nothing else from the crate (and no tokio, ratatui or SDK types), so anything can depend on it
//! without pulling a layer in. Today: actions and keys (the keymap's vocabulary), the theme
//! names, and how figures read. (Issue 17 moves the connection, job and worker-protocol types
//! here step by step.)

pub mod action;
pub mod catalog;
pub mod completion;
pub mod connection;
pub mod format;
pub mod job;
pub mod keys;
pub mod metadata;
pub mod spark;
pub mod themes;
