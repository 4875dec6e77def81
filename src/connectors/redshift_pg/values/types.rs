//! Which decoder a column gets: its PostgreSQL type (domains resolved to their base type) as a
//! `Scalar` or an array of one, and the type's name as `format_type` writes it.

use tokio_postgres::types::{Kind, Type};

/// The value types this module decodes; everything else is `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scalar {
    Bool,
    Int2,
    Int4,
    Int8,
    /// oid, xid, cid and the reg* types: unsigned 32-bit on the wire.
    Oid,
    Float4,
    Float8,
    Numeric,
    /// Text on the wire: text, varchar, bpchar, name, xml, citext, enums, Redshift's SUPER.
    Text,
    /// The one-byte `"char"`.
    Char,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    Json,
    Jsonb,
    Bytea,
    Uuid,
    Inet,
    Cidr,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    Scalar(Scalar),
    Array(Scalar),
}

/// Domains nest at most this deep here (a guard, not a PostgreSQL limit).
const MAX_DOMAIN_DEPTH: u8 = 16;

pub(super) fn shape(ty: &Type, depth: u8) -> Shape {
    match ty.kind() {
        Kind::Domain(base) if depth < MAX_DOMAIN_DEPTH => shape(base, depth + 1),
        Kind::Array(elem) => Shape::Array(scalar(elem, depth)),
        _ => Shape::Scalar(scalar(ty, depth)),
    }
}

fn scalar(ty: &Type, depth: u8) -> Scalar {
    match ty.kind() {
        Kind::Domain(base) if depth < MAX_DOMAIN_DEPTH => scalar(base, depth + 1),
        Kind::Enum(_) => Scalar::Text,
        Kind::Simple | Kind::Pseudo => match ty.oid() {
            16 => Scalar::Bool,
            21 => Scalar::Int2,
            23 => Scalar::Int4,
            20 => Scalar::Int8,
            // oid, regproc, xid, cid, regprocedure, regoper, regoperator, regclass, regtype,
            // regconfig, regdictionary, regnamespace, regrole, regcollation.
            26 | 24 | 28 | 29 | 2202..=2206 | 3734 | 3769 | 4089 | 4096 | 4191 => Scalar::Oid,
            700 => Scalar::Float4,
            701 => Scalar::Float8,
            1700 => Scalar::Numeric,
            // text, varchar, bpchar, name, unknown, xml.
            25 | 1043 | 1042 | 19 | 705 | 142 => Scalar::Text,
            18 => Scalar::Char,
            1082 => Scalar::Date,
            1083 => Scalar::Time,
            1266 => Scalar::TimeTz,
            1114 => Scalar::Timestamp,
            1184 => Scalar::TimestampTz,
            1186 => Scalar::Interval,
            114 => Scalar::Json,
            3802 => Scalar::Jsonb,
            17 => Scalar::Bytea,
            2950 => Scalar::Uuid,
            869 => Scalar::Inet,
            650 => Scalar::Cidr,
            // Extension and Redshift types have no fixed OID: known by name.
            _ => match ty.name() {
                "citext" | "super" => Scalar::Text,
                _ => Scalar::Unknown,
            },
        },
        _ => Scalar::Unknown,
    }
}

/// The type as PostgreSQL's `format_type` would name it (with precision and length).
pub(super) fn type_label(ty: &Type, typmod: i32, depth: u8) -> String {
    match ty.kind() {
        // An array column's modifier is its elements'.
        Kind::Array(elem) if depth < MAX_DOMAIN_DEPTH => {
            format!("{}[]", type_label(elem, typmod, depth + 1))
        }
        _ => match (ty.oid(), typmod) {
            (1700, 4..) => {
                let (p, s) = numeric_typmod(typmod);
                format!("numeric({p},{s})")
            }
            (1043 | 1042, 4..) => format!("{}({})", ty.name(), typmod - 4),
            _ => ty.name().to_string(),
        },
    }
}

/// (precision, scale) of a numeric type modifier (at least 4).
pub(super) fn numeric_typmod(typmod: i32) -> (i32, i32) {
    let t = typmod - 4;
    ((t >> 16) & 0xffff, t & 0xffff)
}
