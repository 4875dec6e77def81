//! The `[history]` section: how much run history to keep.

use toml::Spanned;
use toml::de::DeValue;

use super::ConfigError;
use super::values::{Ctx, sorted};

/// The default `[history] max_entries`.
pub const DEFAULT_HISTORY_MAX_ENTRIES: usize = 10_000;

/// The default `[history] max_age_days` (0 would keep runs forever).
pub const DEFAULT_HISTORY_MAX_AGE_DAYS: u32 = 90;

const HISTORY_ENTRIES_RANGE: std::ops::RangeInclusive<i64> = 1..=10_000_000;
const HISTORY_AGE_RANGE: std::ops::RangeInclusive<i64> = 0..=36_500;

/// `[history]`: how much of the run history (`history.jsonl`) to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryConfig {
    /// The newest runs kept (1..=10 000 000).
    pub max_entries: usize,
    /// Runs older than this many days are dropped (0..=36 500); 0 keeps them forever.
    pub max_age_days: u32,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            max_entries: DEFAULT_HISTORY_MAX_ENTRIES,
            max_age_days: DEFAULT_HISTORY_MAX_AGE_DAYS,
        }
    }
}

impl HistoryConfig {
    /// The history store's retention.
    pub fn retention(self) -> crate::store::history::Retention {
        crate::store::history::Retention {
            max_entries: self.max_entries,
            max_age_days: self.max_age_days,
        }
    }
}

impl From<HistoryConfig> for crate::store::history::Retention {
    fn from(h: HistoryConfig) -> Self {
        h.retention()
    }
}

impl Ctx<'_> {
    pub(super) fn history(
        &self,
        value: &Spanned<DeValue<'_>>,
    ) -> Result<HistoryConfig, ConfigError> {
        let mut history = HistoryConfig::default();
        for (key, value) in sorted(self.table("history", value)?) {
            match key.get_ref().as_ref() {
                "max_entries" => {
                    let n = self.int_within("max_entries", value, &HISTORY_ENTRIES_RANGE)?;
                    history.max_entries = usize::try_from(n).unwrap_or(DEFAULT_HISTORY_MAX_ENTRIES);
                }
                "max_age_days" => {
                    let n = self.int_within("max_age_days", value, &HISTORY_AGE_RANGE)?;
                    history.max_age_days = u32::try_from(n).unwrap_or(DEFAULT_HISTORY_MAX_AGE_DAYS);
                }
                other => {
                    return Err(self.error(
                        key.span(),
                        format!(
                            "unknown key `{other}` in [history] (keys: max_entries, max_age_days)"
                        ),
                    ));
                }
            }
        }
        Ok(history)
    }
}
