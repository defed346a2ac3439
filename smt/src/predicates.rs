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

/// Compiles a Java regex for a full match, reporting Kafka's `RegexValidator` message (Java's
/// wording of a syntax error, [`crate::java_regex`]).
pub fn full_match_regex(pattern: &str, key: &str) -> Result<Regex, ConnectError> {
    let invalid = |reason: String| invalid_value(pattern, key, &format!("Invalid regex: {reason}"));
    if let Some(java) = crate::java_regex::syntax_error(pattern) {
        return Err(invalid(java));
    }
    // A pattern Java accepts that the regex crate cannot compile (look-around, back
    // references) is refused with the regex crate's reason rather than run differently.
    Regex::new(pattern).map_err(|e| invalid(e.to_string()))?;
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| invalid(e.to_string()))
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
