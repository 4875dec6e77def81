//! `kind = "local"`: the embedded engine over local files.

use std::path::PathBuf;

use toml::de::DeValue;

use super::ConfigError;
use super::ConnectionDetails;
use super::fields::{Fields, expand_path};
use super::kinds::KindConfig;
use super::values::find;

/// What a local-engine connection is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalConfig {
    /// Files and directories to register, `~` expanded, relative ones made relative to the
    /// config file's directory. They need not exist yet.
    pub paths: Vec<PathBuf>,
}

/// The keys only this kind takes (besides `name`, `kind` and the AWS keys), and its parser.
pub(super) const CONFIG: KindConfig = KindConfig {
    keys: &["paths"],
    parse,
};

fn parse(f: &Fields<'_, '_>) -> Result<ConnectionDetails, ConfigError> {
    let Some((_, value)) = find(f.table, "paths") else {
        return Ok(ConnectionDetails::Local(LocalConfig { paths: Vec::new() }));
    };
    let want = "an array of strings (e.g. paths = [\"~/data\"])";
    let DeValue::Array(items) = value.get_ref() else {
        return Err(f.ctx.type_error("paths", want, value));
    };
    let base = f.ctx.source.parent();
    let mut paths = Vec::with_capacity(items.len());
    for item in items.iter() {
        let DeValue::String(raw) = item.get_ref() else {
            return Err(f.ctx.type_error("paths", want, item));
        };
        let path = expand_path(raw, base).map_err(|m| f.ctx.error(item.span(), m))?;
        paths.push(path);
    }
    Ok(ConnectionDetails::Local(LocalConfig { paths }))
}
