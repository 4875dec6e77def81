//! Quarry: a keyboard-driven terminal workbench for AWS data services and an embedded engine.
//!
//! Data flows one way: terminal and worker events become `app::Msg`s, `app::update` changes the
//! `app::State` and returns `app::Effect`s, the worker performs them, `ui::draw` paints the state.

pub mod app;
pub mod cli;
pub mod connectors;
pub mod export;
pub mod panics;
pub mod results;
pub mod sql;
pub mod store;
pub mod tui;
pub mod ui;
pub mod worker;

#[cfg(test)]
mod fuzz_tests;
