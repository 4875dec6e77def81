//! Reading typed values out of the parsed file. Every error names the file, line and column
//! of the value (or key) it is about, and escapes control characters echoed from the file.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::ConfigError;

pub(super) type Entry<'a, 'i> = (
    &'a Spanned<std::borrow::Cow<'i, str>>,
    &'a Spanned<DeValue<'i>>,
);

/// A table's entries in file order, so the first error reported is the first in the file
/// whatever map type toml was built with.
pub(super) fn sorted<'a, 'i>(table: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
    let mut entries: Vec<Entry<'a, 'i>> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

pub(super) fn find<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<Entry<'a, 'i>> {
    table.iter().find(|(k, _)| k.get_ref().as_ref() == key)
}

/// The text being parsed, to turn byte spans into `file:line:column` errors.
pub(super) struct Ctx<'a> {
    pub(super) text: &'a str,
    pub(super) source: &'a Path,
}

impl Ctx<'_> {
    pub(super) fn error(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        let (line, column) = line_column(self.text, span.start);
        ConfigError::Invalid {
            path: self.source.to_path_buf(),
            line,
            column,
            message: escape_controls(&message.into()),
        }
    }

    pub(super) fn toml_error(&self, e: &toml::de::Error) -> ConfigError {
        let span = e.span().unwrap_or(0..0);
        let mut message = format!("invalid TOML: {}", e.message().trim_end());
        // Name what the error points at ("duplicate key" alone does not say which).
        if let Some(at) = self.text.get(span.clone()).map(str::trim)
            && !at.is_empty()
            && at.len() <= 40
            && !at.contains('\n')
        {
            message.push_str(&format!(" (at `{at}`)"));
        }
        self.error(span, message)
    }

    pub(super) fn type_error(
        &self,
        key: &str,
        want: &str,
        value: &Spanned<DeValue<'_>>,
    ) -> ConfigError {
        self.error(
            value.span(),
            format!(
                "`{key}` must be {want}, found {}",
                value.get_ref().type_str()
            ),
        )
    }

    pub(super) fn string(
        &self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
    ) -> Result<String, ConfigError> {
        match value.get_ref() {
            DeValue::String(s) if s.trim().is_empty() => {
                Err(self.error(value.span(), format!("`{key}` must not be empty")))
            }
            DeValue::String(s) => Ok(s.to_string()),
            _ => Err(self.type_error(key, "a string", value)),
        }
    }

    pub(super) fn integer(
        &self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
    ) -> Result<i64, ConfigError> {
        match value.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .map_err(|_| self.error(value.span(), format!("`{key}` is out of range"))),
            _ => Err(self.type_error(key, "an integer", value)),
        }
    }

    pub(super) fn boolean(
        &self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
    ) -> Result<bool, ConfigError> {
        match value.get_ref() {
            DeValue::Boolean(b) => Ok(*b),
            _ => Err(self.type_error(key, "true or false", value)),
        }
    }

    pub(super) fn table<'a, 'i>(
        &self,
        key: &str,
        value: &'a Spanned<DeValue<'i>>,
    ) -> Result<&'a DeTable<'i>, ConfigError> {
        match value.get_ref() {
            DeValue::Table(t) => Ok(t),
            _ => Err(self.type_error(key, &format!("a table ([{key}])"), value)),
        }
    }

    /// An integer of `key` within `range`, else an error at the value.
    pub(super) fn int_within(
        &self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
        range: &std::ops::RangeInclusive<i64>,
    ) -> Result<i64, ConfigError> {
        let n = self.integer(key, value)?;
        if !range.contains(&n) {
            return Err(self.error(
                value.span(),
                format!(
                    "`{key}` must be between {} and {}, found {n}",
                    range.start(),
                    range.end()
                ),
            ));
        }
        Ok(n)
    }
}

/// 1-based line and column (in characters) of byte `offset`.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Config errors echo keys and values from the file; keep terminal control bytes out.
fn escape_controls(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}
