//! Typed access to one `[[connection]]`'s keys, shared by the kinds' parsers.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use super::ConfigError;
use super::values::{Ctx, find};
use crate::model::connection::ConnectionKind;
use crate::store::paths::home_dir;

/// A value read from the file and where it was.
pub(super) type WithSpan<T> = (T, Range<usize>);

/// Typed access to one connection's keys.
pub(super) struct Fields<'a, 'i> {
    pub(super) ctx: &'a Ctx<'a>,
    pub(super) table: &'a DeTable<'i>,
    /// The `[[connection]]` table, where "missing key" errors point.
    pub(super) span: Range<usize>,
    /// The connection's name and kind, for messages.
    pub(super) conn: &'a str,
    pub(super) kind: ConnectionKind,
}

impl Fields<'_, '_> {
    pub(super) fn opt_string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        find(self.table, key)
            .map(|(_, v)| self.ctx.string(key, v))
            .transpose()
    }

    pub(super) fn spanned_string(
        &self,
        key: &str,
    ) -> Result<Option<(String, Range<usize>)>, ConfigError> {
        find(self.table, key)
            .map(|(_, v)| Ok((self.ctx.string(key, v)?, v.span())))
            .transpose()
    }

    pub(super) fn required(&self, key: &str) -> Result<String, ConfigError> {
        self.opt_string(key)?.ok_or_else(|| {
            self.ctx.error(
                self.span.clone(),
                format!(
                    "connection `{}` (kind `{}`) is missing the required key `{key}`",
                    self.conn, self.kind
                ),
            )
        })
    }

    /// An optional string that must be one of `allowed`.
    pub(super) fn choice(
        &self,
        key: &str,
        allowed: &[&str],
    ) -> Result<Option<String>, ConfigError> {
        match self.spanned_string(key)? {
            Some((v, span)) if !allowed.contains(&v.as_str()) => Err(self.ctx.error(
                span,
                format!("`{key}` must be one of {}, found `{v}`", allowed.join(", ")),
            )),
            other => Ok(other.map(|(v, _)| v)),
        }
    }

    pub(super) fn int_in(&self, key: &str, range: Range<i64>) -> Result<Option<i64>, ConfigError> {
        let Some((_, v)) = find(self.table, key) else {
            return Ok(None);
        };
        let n = self.ctx.integer(key, v)?;
        if !range.contains(&n) {
            return Err(self.ctx.error(
                v.span(),
                format!(
                    "`{key}` must be between {} and {}, found {n}",
                    range.start,
                    range.end - 1
                ),
            ));
        }
        Ok(Some(n))
    }

    /// A non-negative amount of money (an integer or a float).
    pub(super) fn price(&self, key: &str) -> Result<Option<f64>, ConfigError> {
        let Some((_, v)) = find(self.table, key) else {
            return Ok(None);
        };
        let amount = match v.get_ref() {
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            DeValue::Integer(_) => Some(self.ctx.integer(key, v)? as f64),
            _ => return Err(self.ctx.type_error(key, "a number (USD)", v)),
        };
        match amount {
            Some(a) if a.is_finite() && a >= 0.0 => Ok(Some(a)),
            _ => Err(self.ctx.error(
                v.span(),
                format!("`{key}` must be a non-negative number of USD"),
            )),
        }
    }

    pub(super) fn bool_or_false(
        &self,
        key: &str,
    ) -> Result<(bool, Option<Range<usize>>), ConfigError> {
        match find(self.table, key) {
            Some((_, v)) => Ok((self.ctx.boolean(key, v)?, Some(v.span()))),
            None => Ok((false, None)),
        }
    }

    pub(super) fn endpoint_url(&self) -> Result<Option<String>, ConfigError> {
        self.url("endpoint_url")
    }

    /// An http(s) URL under `key`.
    pub(super) fn url(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.spanned_string(key)? {
            Some((url, span)) if !(url.starts_with("http://") || url.starts_with("https://")) => {
                Err(self.ctx.error(
                    span,
                    format!("`{key}` must start with http:// or https://, found `{url}`"),
                ))
            }
            other => Ok(other.map(|(u, _)| u)),
        }
    }

    /// An optional array of strings, with its span.
    pub(super) fn string_list(
        &self,
        key: &str,
    ) -> Result<Option<WithSpan<Vec<String>>>, ConfigError> {
        let Some((_, value)) = find(self.table, key) else {
            return Ok(None);
        };
        let want = "an array of strings";
        let DeValue::Array(items) = value.get_ref() else {
            return Err(self.ctx.type_error(key, want, value));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items.iter() {
            let DeValue::String(s) = item.get_ref() else {
                return Err(self.ctx.type_error(key, want, item));
            };
            out.push(s.to_string());
        }
        Ok(Some((out, value.span())))
    }
}

/// `~` and `~/…` become the home directory; relative paths are taken relative to `base` (the
/// config file's directory), so the file means the same thing whatever the working directory.
pub(super) fn expand_path(raw: &str, base: Option<&Path>) -> Result<PathBuf, String> {
    if raw.trim().is_empty() {
        return Err("`paths` entries must not be empty".to_string());
    }
    let path = if raw == "~" || raw.starts_with("~/") {
        let home = home_dir().ok_or("cannot expand `~`: no home directory is known")?;
        match raw.strip_prefix("~/") {
            Some(rest) => home.join(rest),
            None => home,
        }
    } else if raw.starts_with('~') {
        return Err(format!(
            "`{raw}`: only `~` and `~/…` are expanded; write the full path"
        ));
    } else {
        PathBuf::from(raw)
    };
    if path.is_absolute() {
        return Ok(path);
    }
    let base = base
        .filter(|b| !b.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let joined = base.join(path);
    Ok(std::path::absolute(&joined).unwrap_or(joined))
}
