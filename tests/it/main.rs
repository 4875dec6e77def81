//! Integration tests: one binary (fast to link) with a module per area. They run the real
//! `quarry` binary in an isolated HOME; see `common`.

mod athena;
mod athena_spark;
mod aws_json_server;
mod catalog;
mod cli;
mod common;
mod config_errors;
mod crash;
mod dynamo_local;
mod dynamodb;
mod dynamodb_groups;
mod export;
mod fake_athena;
mod fake_athena_spark;
mod fake_redshift_data;
mod fake_redshift_iam;
mod file_safety;
mod history;
mod layers;
mod local_cancel;
mod moto;
mod output_errors;
mod postgres;
mod pty;
mod redshift_data;
mod redshift_data_server;
mod redshift_iam;
mod redshift_pg;
mod redshift_pg_catalog;
mod snippets;
mod snippets_athena;
mod terminal_output;
