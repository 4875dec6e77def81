//! The small form that asks for the values of `?` placeholders (Athena, DynamoDB) or `:name`
//! parameters (Redshift Data) before a run. Values are written as the service expects them (see
//! `ValueSyntax`). What was typed for a statement is offered again the next time it runs.

use std::collections::HashMap;

use crossterm::event::KeyEvent;

use super::popups::text_field;
use crate::model::action::Action;

use crate::sql::{PlaceholderKind, named_params, placeholders};

#[derive(Debug, Clone, PartialEq)]
pub struct ParamField {
    /// The text just before the placeholder, so the user knows which `?` it is.
    pub label: String,
    /// Index of the statement of the run the placeholder belongs to.
    pub statement: usize,
    pub value: String,
}

/// How the service wants the values written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueSyntax {
    /// Athena: SQL literals (`'abc'`, `42`, `DATE '2024-01-02'`).
    Sql,
    /// DynamoDB: JSON-ish literals that become AttributeValues (`42`, `"x"`, `{"a": 1}`).
    Json,
    /// Redshift Data: `:name` parameters, asked once per name for the whole run, as plain text
    /// the server casts to the column's type.
    Named,
    /// A snippet's `${name}` placeholders (one statement: the snippet's text), rendered with the
    /// rules of `sql::template` for the tab's connection.
    Template,
}

impl ValueSyntax {
    pub fn hint(self) -> &'static str {
        match self {
            ValueSyntax::Sql => "Values are SQL literals: 'text', 42, DATE '2024-01-02'",
            ValueSyntax::Json => "Values are JSON: 42, \"text\", true, null, [1, 2], {\"a\": 1}",
            ValueSyntax::Named => "Values are plain text (no quotes): 42, abc, 2024-01-02",
            ValueSyntax::Template => {
                "Plain values: numbers go in bare, text is quoted for you; ${x!raw} goes in verbatim"
            }
        }
    }
}

/// A run waiting for its placeholder values.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamForm {
    pub statements: Vec<String>,
    pub fields: Vec<ParamField>,
    pub focus: usize,
    pub syntax: ValueSyntax,
    /// The run goes as one batch or transaction once the values are in.
    pub group: Option<crate::model::job::GroupMode>,
}

/// What a key did to the form.
pub enum FormOutcome {
    Editing(ParamForm),
    Submitted(ParamForm),
    Cancelled,
}

/// How much text before a `?` labels it.
const LABEL_CHARS: usize = 28;

impl ParamForm {
    /// The form for `statements`, or `None` when none of them has a `?` placeholder.
    pub fn for_run(
        statements: &[String],
        remembered: &HashMap<String, Vec<String>>,
        syntax: ValueSyntax,
    ) -> Option<Self> {
        if syntax == ValueSyntax::Named {
            return Self::for_named(statements, remembered);
        }
        let mut fields = Vec::new();
        for (i, sql) in statements.iter().enumerate() {
            let previous = remembered.get(sql);
            let positional = placeholders(sql)
                .into_iter()
                .filter(|p| matches!(p.kind, PlaceholderKind::Positional(_)));
            for (n, p) in positional.enumerate() {
                let before = sql[..p.start]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                let tail: String = before.chars().rev().take(LABEL_CHARS).collect();
                let tail: String = tail.chars().rev().collect();
                let ellipsis = if before.chars().count() > LABEL_CHARS {
                    "…"
                } else {
                    ""
                };
                let prefix = if statements.len() > 1 {
                    format!("#{} ", i + 1)
                } else {
                    String::new()
                };
                fields.push(ParamField {
                    label: format!("{prefix}{ellipsis}{tail} ?"),
                    statement: i,
                    value: previous.and_then(|v| v.get(n)).cloned().unwrap_or_default(),
                });
            }
        }
        (!fields.is_empty()).then(|| ParamForm {
            statements: statements.to_vec(),
            fields,
            focus: 0,
            syntax,
            group: None,
        })
    }

    /// One field per `${name}` of a snippet, filled with what was typed last time or its
    /// default; `None` when it has none.
    pub fn for_template(text: &str, remembered: &HashMap<String, Vec<String>>) -> Option<Self> {
        let fields: Vec<ParamField> = crate::sql::template::template_params(text)
            .into_iter()
            .map(|p| {
                let label = format!("${{{}}}", p.name);
                let value = remembered
                    .get(&label)
                    .and_then(|v| v.first().cloned())
                    .or(p.default)
                    .unwrap_or_default();
                ParamField {
                    label,
                    statement: 0,
                    value,
                }
            })
            .collect();
        (!fields.is_empty()).then(|| ParamForm {
            statements: vec![text.to_string()],
            fields,
            focus: 0,
            syntax: ValueSyntax::Template,
            group: None,
        })
    }

    /// One field per distinct `:name` of the run, filled from what was typed last time.
    fn for_named(statements: &[String], remembered: &HashMap<String, Vec<String>>) -> Option<Self> {
        let mut fields: Vec<ParamField> = Vec::new();
        for sql in statements {
            let names = named_params(sql);
            for (n, name) in names.iter().enumerate() {
                let label = format!(":{name}");
                if fields.iter().any(|f| f.label == label) {
                    continue;
                }
                let previous = remembered.get(sql).and_then(|v| v.get(n)).cloned();
                fields.push(ParamField {
                    label,
                    statement: 0,
                    value: previous.unwrap_or_default(),
                });
            }
        }
        (!fields.is_empty()).then(|| ParamForm {
            statements: statements.to_vec(),
            fields,
            focus: 0,
            syntax: ValueSyntax::Named,
            group: None,
        })
    }

    /// Each statement's values, in placeholder order (`:name`s: in order of first appearance).
    pub fn values_by_statement(&self) -> Vec<Vec<String>> {
        if self.syntax == ValueSyntax::Named {
            let value = |name: &str| {
                let label = format!(":{name}");
                self.fields
                    .iter()
                    .find(|f| f.label == label)
                    .map(|f| f.value.trim().to_string())
                    .unwrap_or_default()
            };
            return self
                .statements
                .iter()
                .map(|sql| named_params(sql).iter().map(|n| value(n)).collect())
                .collect();
        }
        let mut values = vec![Vec::new(); self.statements.len()];
        for f in &self.fields {
            values[f.statement].push(f.value.trim().to_string());
        }
        values
    }

    /// `action` is what the key means in the `form` layer: Tab/↓ and Shift-Tab/↑ move between
    /// fields, Enter runs, Esc cancels; other keys edit the focused field.
    pub fn on_key(mut self, key: &KeyEvent, action: Option<Action>) -> FormOutcome {
        let n = self.fields.len();
        match action {
            Some(Action::Close) => return FormOutcome::Cancelled,
            Some(Action::Confirm) => {
                match self.fields.iter().position(|f| f.value.trim().is_empty()) {
                    // Athena refuses empty values: go to the first one instead of failing later.
                    Some(empty) => self.focus = empty,
                    None => return FormOutcome::Submitted(self),
                }
            }
            Some(Action::NextField | Action::Complete) => self.focus = (self.focus + 1) % n,
            Some(Action::PrevField) => self.focus = (self.focus + n - 1) % n,
            _ => {
                text_field::edit(&mut self.fields[self.focus].value, key, action);
            }
        }
        FormOutcome::Editing(self)
    }

    /// Pasted text goes into the focused field (on one line).
    pub fn paste(&mut self, text: &str) {
        text_field::paste(&mut self.fields[self.focus].value, text, " ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_field_per_question_mark_labelled_by_its_context() {
        let sql = vec!["SELECT * FROM t WHERE id = ? AND name = '?' AND d > ?".to_string()];
        let form = ParamForm::for_run(&sql, &HashMap::new(), ValueSyntax::Sql).unwrap();
        assert_eq!(
            form.fields.len(),
            2,
            "the ? inside a string is not a placeholder"
        );
        assert!(
            form.fields[0].label.ends_with("WHERE id = ?"),
            "{}",
            form.fields[0].label
        );
        assert!(form.fields[1].label.starts_with('…'));
    }

    #[test]
    fn named_parameters_are_asked_once_per_name_for_the_whole_run() {
        let run = vec![
            "INSERT INTO t VALUES (:id, :name)".to_string(),
            "SELECT * FROM t WHERE id = :id AND x::int > 0".to_string(),
        ];
        let remembered = HashMap::from([(run[1].clone(), vec!["7".to_string()])]);
        let mut form = ParamForm::for_run(&run, &remembered, ValueSyntax::Named).unwrap();
        let labels: Vec<_> = form.fields.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(
            labels,
            [":id", ":name"],
            "`::int` is a cast, not a parameter"
        );
        form.fields[0].value = "42".into();
        form.fields[1].value = " O'Brien ".into();
        assert_eq!(
            form.values_by_statement(),
            vec![
                vec!["42".to_string(), "O'Brien".into()],
                vec!["42".to_string()]
            ]
        );
        assert!(
            ParamForm::for_run(&["SELECT ?".into()], &HashMap::new(), ValueSyntax::Named).is_none()
        );
    }

    #[test]
    fn no_placeholders_no_form_and_remembered_values_come_back() {
        assert!(
            ParamForm::for_run(&["SELECT 1".into()], &HashMap::new(), ValueSyntax::Sql).is_none()
        );
        let sql = "SELECT ?, ?".to_string();
        let remembered = HashMap::from([(sql.clone(), vec!["1".into(), "'x'".into()])]);
        let form =
            ParamForm::for_run(std::slice::from_ref(&sql), &remembered, ValueSyntax::Json).unwrap();
        assert_eq!(
            form.values_by_statement(),
            vec![vec!["1".to_string(), "'x'".into()]]
        );
    }
}
