//! Quarry: a keyboard-driven terminal workbench for AWS data services and an embedded engine.
//!
//! Data flows one way: terminal and worker events become `app::Msg`s, `app::update` changes the
//! `app::State` and returns `app::Effect`s, the worker performs them, `ui::draw` paints the state.

// Input, the network and the file system can make anything fail: outside tests, no unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod app;
pub mod cli;
pub mod connectors;
pub mod export;
pub mod model;
pub mod panics;
pub mod protocol;
pub mod results;
pub mod sql;
pub mod store;
pub mod tui;
pub mod ui;
pub mod worker;

/// Stack of each runtime thread (the shared runtime's and the embedded engine's). Deeply nested
/// SQL (generated `CASE` chains, `IN` lists, thousands of `+` terms) is planned and evaluated
/// recursively by the engine, and trees that deep are dropped and compared recursively too:
/// 2 MiB (tokio's default) overflows on a few thousand terms. The memory is reserved, not used,
/// until a statement needs it.
pub const THREAD_STACK: usize = 256 * 1024 * 1024;

#[cfg(test)]
mod fuzz_tests;
