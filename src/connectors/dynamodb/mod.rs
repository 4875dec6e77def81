//! Amazon DynamoDB through PartiQL (ExecuteStatement): the connector, parameter literals and
//! item pages.

mod connector;
mod group;
pub mod items;
pub mod values;

pub use connector::{DynamoConnector, quote, statement_table};
