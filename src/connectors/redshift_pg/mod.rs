//! Amazon Redshift (and any PostgreSQL server) directly over the PostgreSQL wire protocol
//! (tokio-postgres): one connection per caller (editor tab, script), rows streamed from the
//! server and converted to Arrow as they arrive, the protocol's cancel request, transactions
//! followed per connection, IAM sign-in with temporary credentials.

pub mod catalog;
pub mod connect;
mod connector;
pub mod error;
pub mod iam;
mod session;
pub mod values;

pub use connector::RedshiftPgConnector;
