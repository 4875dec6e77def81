//! The `[keys.*]` tables: key overrides per context.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::value::{Error as ValueError, StrDeserializer};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::ConfigError;
use super::values::{Ctx, sorted};
use crate::model::action::Action;
use crate::model::keys::{KeyCombo, KeyContext, KeyOverrides, parse_key};

impl Ctx<'_> {
    pub(super) fn keys(&self, value: &Spanned<DeValue<'_>>) -> Result<KeyOverrides, ConfigError> {
        let mut overrides = KeyOverrides::new();
        for (key, value) in sorted(self.table("keys", value)?) {
            let name = key.get_ref().as_ref();
            let Some(context) = KeyContext::from_name(name) else {
                return Err(self.error(
                    key.span(),
                    format!(
                        "unknown key table `[keys.{name}]` (tables: {})",
                        KeyContext::table_list()
                    ),
                ));
            };
            let table_name = format!("keys.{name}");
            let bindings = self.bindings(&table_name, self.table(&table_name, value)?)?;
            overrides.insert(context, bindings);
        }
        Ok(overrides)
    }

    fn bindings(
        &self,
        table_name: &str,
        table: &DeTable<'_>,
    ) -> Result<BTreeMap<String, Action>, ConfigError> {
        let mut out = BTreeMap::new();
        let mut seen: Vec<(KeyCombo, String)> = Vec::new();
        for (key, value) in sorted(table) {
            let key_name = key.get_ref().as_ref();
            let combo = parse_key(key_name)
                .map_err(|m| self.error(key.span(), format!("in [{table_name}]: {m}")))?;
            if let Some((_, first)) = seen.iter().find(|(c, _)| *c == combo) {
                return Err(self.error(
                    key.span(),
                    format!("in [{table_name}]: `{key_name}` is the same key as `{first}`"),
                ));
            }
            seen.push((combo, key_name.to_string()));
            let action_name = self.string(key_name, value)?;
            let action = parse_action(&action_name).ok_or_else(|| {
                self.error(value.span(), unknown_action_message(key_name, &action_name))
            })?;
            out.insert(key_name.to_string(), action);
        }
        Ok(out)
    }
}

pub(super) fn parse_action(name: &str) -> Option<Action> {
    Action::deserialize(StrDeserializer::<ValueError>::new(name)).ok()
}

fn unknown_action_message(key: &str, name: &str) -> String {
    let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
    let hint = names
        .iter()
        .map(|n| (edit_distance(n, name), n))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| format!("did you mean `{n}`? "))
        .unwrap_or_default();
    format!(
        "unknown action `{name}` for key `{key}`; {hint}valid actions: {}",
        names.join(", ")
    )
}

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}
