//! Kafka's predicates: `HasHeaderKey` (`name`), `RecordIsTombstone`, `TopicNameMatches`
//! (`pattern`, a full match as Java's `Matcher.matches()`).

use std::collections::HashMap;

use regex::Regex;
use sluice_codecs::error::ConnectError;

use crate::config::{Props, invalid_value};
use crate::record::ConnectRecord;

#[derive(Debug, Clone)]
pub enum Predicate {
    HasHeaderKey(String),
    RecordIsTombstone,
    TopicNameMatches(Regex),
}

/// Compiles a Java regex for a full match, reporting Kafka's `RegexValidator` message.
pub fn full_match_regex(pattern: &str, key: &str) -> Result<Regex, ConnectError> {
    // Check the pattern alone first, so error positions refer to what the user wrote.
    Regex::new(pattern).map_err(|e| {
        invalid_value(
            pattern,
            key,
            &format!("Invalid regex: {}", java_regex_error(pattern, &e)),
        )
    })?;
    Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|e| invalid_value(pattern, key, &format!("Invalid regex: {e}")))
}

/// Java's `PatternSyntaxException.getMessage()` for the errors both engines agree on:
/// `<description> near index <i>` + the pattern + a caret line when `i` is inside it.
fn java_regex_error(pattern: &str, e: &regex::Error) -> String {
    let text = e.to_string();
    let chars: Vec<char> = pattern.chars().collect();
    let java = |desc: String, index: usize| {
        let caret = if index < chars.len() {
            format!("\n{}^", " ".repeat(index))
        } else {
            String::new()
        };
        format!("{desc} near index {index}\n{pattern}{caret}")
    };
    if text.contains("unclosed group") {
        return java("Unclosed group".into(), chars.len());
    }
    if text.contains("repetition operator missing expression") {
        let dangling = (0..chars.len()).find(|&i| {
            matches!(chars[i], '*' | '+' | '?') && (i == 0 || matches!(chars[i - 1], '(' | '|'))
        });
        if let Some(i) = dangling {
            return java(format!("Dangling meta character '{}'", chars[i]), i);
        }
    }
    text
}

impl Predicate {
    /// `class` is the simple class name already resolved.
    pub fn configure(class: &str, props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let p = Props(props);
        Ok(match class {
            "HasHeaderKey" => Predicate::HasHeaderKey(p.required_non_empty("name")?.to_string()),
            "RecordIsTombstone" => Predicate::RecordIsTombstone,
            "TopicNameMatches" => {
                let pattern = p.required_non_empty("pattern")?;
                Predicate::TopicNameMatches(full_match_regex(pattern, "pattern")?)
            }
            other => return Err(ConnectError::config(format!("unknown predicate {other}"))),
        })
    }

    pub fn test(&self, r: &ConnectRecord) -> bool {
        match self {
            Predicate::HasHeaderKey(name) => r.headers.iter().any(|h| h.key == *name),
            Predicate::RecordIsTombstone => r.value.is_null(),
            Predicate::TopicNameMatches(re) => re.is_match(&r.topic),
        }
    }
}

/// Resolves a predicate class name (full, or simple).
pub fn predicate_class(class: &str) -> Option<&'static str> {
    let class = class.trim();
    let simple = match class.strip_prefix("org.apache.kafka.connect.transforms.predicates.") {
        Some(rest) => rest,
        None if class.contains('.') => return None,
        None => class,
    };
    ["HasHeaderKey", "RecordIsTombstone", "TopicNameMatches"]
        .into_iter()
        .find(|c| *c == simple)
}
