//! The `[ui]` section: column width, loaded rows, theme.

use toml::Spanned;
use toml::de::DeValue;

use super::ConfigError;
use super::values::{Ctx, sorted};

/// The default `[ui] max_column_width`.
pub const DEFAULT_MAX_COLUMN_WIDTH: usize = 40;

/// The default `[ui] max_loaded_rows`: rows a result keeps in memory for the grid.
pub const DEFAULT_MAX_LOADED_ROWS: usize = 2_000_000;

const COLUMN_WIDTH_RANGE: std::ops::RangeInclusive<i64> = 3..=1000;
const LOADED_ROWS_RANGE: std::ops::RangeInclusive<i64> = 1..=1_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiConfig {
    /// Widest a result column is drawn initially, in terminal cells.
    pub max_column_width: usize,
    /// Highlighting theme name; `None` uses the built-in default.
    pub theme: Option<String>,
    /// Rows a result keeps for the grid; beyond them the query stops loading (the export of the
    /// whole result fetches it again from the service).
    pub max_loaded_rows: usize,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            max_column_width: DEFAULT_MAX_COLUMN_WIDTH,
            theme: None,
            max_loaded_rows: DEFAULT_MAX_LOADED_ROWS,
        }
    }
}

impl Ctx<'_> {
    pub(super) fn ui(&self, value: &Spanned<DeValue<'_>>) -> Result<UiConfig, ConfigError> {
        let mut ui = UiConfig::default();
        for (key, value) in sorted(self.table("ui", value)?) {
            match key.get_ref().as_ref() {
                "max_column_width" => {
                    let n = self.integer("max_column_width", value)?;
                    if !COLUMN_WIDTH_RANGE.contains(&n) {
                        return Err(self.error(
                            value.span(),
                            format!(
                                "`max_column_width` must be between {} and {}, found {n}",
                                COLUMN_WIDTH_RANGE.start(),
                                COLUMN_WIDTH_RANGE.end()
                            ),
                        ));
                    }
                    ui.max_column_width = usize::try_from(n).unwrap_or(DEFAULT_MAX_COLUMN_WIDTH);
                }
                "max_loaded_rows" => {
                    let n = self.integer("max_loaded_rows", value)?;
                    if !LOADED_ROWS_RANGE.contains(&n) {
                        return Err(self.error(
                            value.span(),
                            format!(
                                "`max_loaded_rows` must be between {} and {}, found {n}",
                                LOADED_ROWS_RANGE.start(),
                                LOADED_ROWS_RANGE.end()
                            ),
                        ));
                    }
                    ui.max_loaded_rows = usize::try_from(n).unwrap_or(DEFAULT_MAX_LOADED_ROWS);
                }
                "theme" => {
                    let theme = self.string("theme", value)?;
                    if !crate::model::themes::THEMES.contains(&theme.as_str()) {
                        return Err(self.error(
                            value.span(),
                            format!(
                                "unknown theme for `theme`: choose one of {}",
                                crate::model::themes::THEMES.join(", ")
                            ),
                        ));
                    }
                    ui.theme = Some(theme);
                }
                other => {
                    return Err(self.error(
                        key.span(),
                        format!(
                            "unknown key `{other}` in [ui] (keys: max_column_width, max_loaded_rows, theme)"
                        ),
                    ));
                }
            }
        }
        Ok(ui)
    }
}
