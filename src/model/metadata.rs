//! Keys of the Arrow field metadata connectors attach to result columns, read by the layers above
//! (the inspector shows a column's service type).

/// Field metadata key holding Athena's own type name (`array(varchar)`, `decimal(10,2)`, …).
pub const ATHENA_TYPE: &str = "athena.type";
