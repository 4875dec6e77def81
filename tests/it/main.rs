//! Integration tests: one binary (fast to link) with a module per area. They run the real
//! `quarry` binary in an isolated HOME; see `common`.

mod athena;
mod cli;
mod common;
mod config_errors;
mod dynamo_local;
mod dynamodb;
mod dynamodb_groups;
mod fake_athena;
mod moto;
mod pty;
