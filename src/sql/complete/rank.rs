//! Ordering candidates for what was typed: prefix matches first (case-insensitive, shorter
//! names first), then fuzzy matches (fzf's scoring, through nucleo) best first; nothing typed
//! keeps the order the candidates were gathered in. Runs on every keystroke, so it allocates
//! nothing per candidate.

use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
use nucleo_matcher::{Config as MatcherConfig, Matcher, Utf32Str};

use crate::model::completion::CompletionItem;

/// The indexes of the `items` whose label matches `typed`, best first.
pub fn rank(typed: &str, items: &[CompletionItem]) -> Vec<usize> {
    rank_labels(typed, items.iter().map(|i| i.label.as_str()))
}

/// [`rank`] over bare labels.
pub fn rank_labels<'a>(typed: &str, labels: impl Iterator<Item = &'a str>) -> Vec<usize> {
    if typed.is_empty() {
        return labels.enumerate().map(|(i, _)| i).collect();
    }
    let atom = Atom::new(
        typed,
        CaseMatching::Ignore,
        Normalization::Smart,
        AtomKind::Fuzzy,
        false,
    );
    let mut matcher = Matcher::new(MatcherConfig::DEFAULT);
    let mut buf = Vec::new();
    let lower_typed = typed.to_lowercase();
    let mut prefixed: Vec<(usize, usize)> = Vec::new();
    let mut fuzzy: Vec<(usize, u16)> = Vec::new();
    for (i, label) in labels.enumerate() {
        if starts_with_ignore_case(label, typed, &lower_typed) {
            prefixed.push((i, label.len()));
        } else if !may_match(label, typed) {
            // Most names of a large catalog end here, without the matcher's setup per name.
        } else if let Some(score) = atom.score(Utf32Str::new(label, &mut buf), &mut matcher) {
            fuzzy.push((i, score));
        }
    }
    // Stable sorts: equal candidates keep the order they were gathered in.
    prefixed.sort_by_key(|&(_, len)| len);
    fuzzy.sort_by_key(|&(_, score)| std::cmp::Reverse(score));
    prefixed
        .into_iter()
        .map(|(i, _)| i)
        .chain(fuzzy.into_iter().map(|(i, _)| i))
        .collect()
}

/// Whether `label` starts with `typed`, ignoring case; `lower_typed` is `typed` lower-cased.
fn starts_with_ignore_case(label: &str, typed: &str, lower_typed: &str) -> bool {
    if label.is_ascii() && typed.is_ascii() {
        label.len() >= typed.len()
            && label.as_bytes()[..typed.len()].eq_ignore_ascii_case(typed.as_bytes())
    } else {
        label.to_lowercase().starts_with(lower_typed)
    }
}

/// Whether `typed`'s characters occur in `label` in order, ignoring ASCII case: a fuzzy match
/// needs it. Non-ASCII text is left to the matcher (which folds Unicode case).
pub(super) fn may_match(label: &str, typed: &str) -> bool {
    if !(label.is_ascii() && typed.is_ascii()) {
        return true;
    }
    let mut haystack = label.bytes();
    typed
        .bytes()
        .all(|t| haystack.any(|h| h.eq_ignore_ascii_case(&t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranked<'a>(typed: &str, labels: &[&'a str]) -> Vec<&'a str> {
        rank_labels(typed, labels.iter().copied())
            .into_iter()
            .map(|i| labels[i])
            .collect()
    }

    #[test]
    fn prefix_matches_come_before_fuzzy_ones_shorter_first() {
        let labels = ["order_items", "customer_orders", "ORDERS", "o_r_d", "trips"];
        assert_eq!(
            ranked("ord", &labels),
            ["ORDERS", "order_items", "customer_orders", "o_r_d"]
        );
        assert_eq!(ranked("", &labels), labels, "nothing typed: natural order");
        assert_eq!(ranked("zzz", &labels), Vec::<&str>::new());
        assert_eq!(ranked("żó", &["Żółw", "x"]), ["Żółw"]);
    }

    #[test]
    fn twenty_thousand_names_rank_quickly() {
        let names: Vec<String> = (0..20_000)
            .map(|i| format!("sales_{}_q{}_orders_{i:04}", 2000 + i % 25, i % 4))
            .collect();
        let start = std::time::Instant::now();
        let order = rank_labels("sal", names.iter().map(String::as_str));
        assert_eq!(order.len(), 20_000);
        assert!(rank_labels("sq1o", names.iter().map(String::as_str)).len() > 1000);
        // Generous for an unoptimised build on a busy machine; the benchmark measures it.
        assert!(start.elapsed().as_millis() < 2_000);
    }
}
