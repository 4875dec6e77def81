//! The "start a Spark session" form (DPU sizes, idle timeout, description), prefilled with the
//! workgroup's defaults.

use crossterm::event::{KeyCode, KeyEvent};

use super::popups::text_field;
use crate::model::action::Action;
use crate::model::spark::{SessionSettings, SparkOp};

/// The fields of the start form, in order.
pub const FIELDS: [&str; 5] = [
    "coordinator DPU",
    "executor DPU",
    "max concurrent DPUs",
    "idle timeout (minutes)",
    "description",
];

/// The "start a Spark session" form: DPU sizes, idle timeout and a description, prefilled with
/// the workgroup's defaults once they arrive.
#[derive(Debug, Clone, PartialEq)]
pub struct StartForm {
    pub connection: String,
    pub workgroup: String,
    pub values: [String; 5],
    pub focus: usize,
    /// The workgroup's defaults were asked for and have not arrived.
    pub loading: bool,
    /// The user typed something: arriving defaults no longer overwrite the fields.
    pub touched: bool,
    pub error: Option<String>,
    /// The ClientRequestToken of this form's start: submitting twice starts one session.
    pub token: String,
}

pub enum FormOutcome {
    Editing(StartForm),
    Cancelled,
    Submitted { connection: String, op: SparkOp },
}

impl StartForm {
    pub fn new(connection: String, workgroup: String) -> StartForm {
        let mut form = StartForm {
            connection,
            workgroup,
            values: Default::default(),
            focus: 0,
            loading: true,
            touched: false,
            error: None,
            token: uuid::Uuid::new_v4().to_string(),
        };
        form.fill(SessionSettings::default());
        form
    }

    /// Puts `settings` into the number fields (unless the user already edited them).
    pub fn fill(&mut self, settings: SessionSettings) {
        self.loading = false;
        if self.touched {
            return;
        }
        self.values[0] = settings.coordinator_dpu.to_string();
        self.values[1] = settings.executor_dpu.to_string();
        self.values[2] = settings.max_concurrent_dpus.to_string();
        self.values[3] = settings.idle_timeout_minutes.to_string();
    }

    pub fn on_key(mut self, key: &KeyEvent, action: Option<Action>) -> FormOutcome {
        match action {
            Some(Action::Close) => return FormOutcome::Cancelled,
            Some(Action::PrevField) => self.focus = self.focus.saturating_sub(1),
            Some(Action::NextField | Action::Complete) => {
                self.focus = (self.focus + 1).min(FIELDS.len() - 1)
            }
            Some(Action::Confirm) => return self.submit(),
            _ => {
                if let KeyCode::Char(c) = key.code
                    && self.focus < 4
                    && !c.is_ascii_digit()
                    && !c.is_control()
                    && action != Some(Action::ClearInput)
                {
                    self.error = Some(format!("{} takes a whole number", FIELDS[self.focus]));
                    return FormOutcome::Editing(self);
                }
                let value = &mut self.values[self.focus];
                let full = value.chars().count() >= 200
                    && matches!(key.code, KeyCode::Char(_))
                    && action != Some(Action::ClearInput);
                if !full && text_field::edit(value, key, action) {
                    self.touched = true;
                }
            }
        }
        self.error = None;
        FormOutcome::Editing(self)
    }

    /// Enter: the session to start, or why the values do not do.
    fn submit(mut self) -> FormOutcome {
        match self.settings() {
            Ok(settings) => {
                let description = self.values[4].trim();
                let op = SparkOp::Start {
                    workgroup: self.workgroup.clone(),
                    settings,
                    description: (!description.is_empty()).then(|| description.to_string()),
                    token: self.token.clone(),
                };
                FormOutcome::Submitted {
                    connection: self.connection,
                    op,
                }
            }
            Err(e) => {
                self.error = Some(e);
                FormOutcome::Editing(self)
            }
        }
    }

    /// The numbers, checked against the service's limits.
    fn settings(&self) -> Result<SessionSettings, String> {
        let number = |i: usize, range: std::ops::RangeInclusive<i32>| {
            let v: i32 = self.values[i]
                .trim()
                .parse()
                .map_err(|_| format!("{}: a whole number, please", FIELDS[i]))?;
            if range.contains(&v) {
                Ok(v)
            } else {
                Err(format!(
                    "{} must be {} to {}",
                    FIELDS[i],
                    range.start(),
                    range.end()
                ))
            }
        };
        Ok(SessionSettings {
            coordinator_dpu: number(0, 1..=1)?,
            executor_dpu: number(1, 1..=1)?,
            max_concurrent_dpus: number(2, 2..=5000)?,
            idle_timeout_minutes: number(3, 1..=480)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::keymap::Keymap;
    use crate::model::keys::KeyContext;
    use crossterm::event::KeyModifiers;

    /// A key as the popup router hands it over: with its meaning in the `form` layer.
    fn press(form: StartForm, code: KeyCode) -> FormOutcome {
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        let action = Keymap::default().action(KeyContext::Form, &key);
        form.on_key(&key, action)
    }

    #[test]
    fn the_form_starts_with_the_workgroup_defaults_and_checks_the_limits() {
        let mut form = StartForm::new("athena".into(), "spark-wg".into());
        form.fill(SessionSettings {
            max_concurrent_dpus: 60,
            ..SessionSettings::default()
        });
        assert_eq!(form.values[2], "60");
        // Max concurrent DPUs: clear and type 1 (below the service's minimum of 2).
        form.focus = 2;
        for _ in 0..2 {
            form = match press(form, KeyCode::Backspace) {
                FormOutcome::Editing(f) => f,
                _ => panic!("still editing"),
            };
        }
        form = match press(form, KeyCode::Char('1')) {
            FormOutcome::Editing(f) => f,
            _ => panic!("still editing"),
        };
        form = match press(form, KeyCode::Enter) {
            FormOutcome::Editing(f) => f,
            _ => panic!("refused"),
        };
        assert!(form.error.as_deref().unwrap().contains("2 to 5000"));
        // Late defaults do not overwrite what was typed.
        form.fill(SessionSettings::default());
        assert_eq!(form.values[2], "1");
        form = match press(form, KeyCode::Char('0')) {
            FormOutcome::Editing(f) => f,
            _ => panic!("still editing"),
        };
        match press(form.clone(), KeyCode::Enter) {
            FormOutcome::Submitted {
                op:
                    SparkOp::Start {
                        workgroup,
                        settings,
                        token,
                        ..
                    },
                ..
            } => {
                assert_eq!(workgroup, "spark-wg");
                assert_eq!(settings.max_concurrent_dpus, 10);
                assert_eq!(token, form.token);
            }
            _ => panic!("submitted"),
        }
    }
}
