//! SQL completion (issue 18): what the cursor is in, which tables are in scope, which names and
//! words fit there, quoted and ranked. Pure: no I/O; the catalog is a snapshot the caller holds.

pub mod context;
pub mod dialect;
mod lex;
pub mod quote;
pub mod scope;
