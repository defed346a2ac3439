//! Kafka `ConfigDef` parsing for transformation and predicate settings, with Kafka's exact
//! `ConfigException` messages (the corpus compares them).

use std::collections::HashMap;

use sluice_codecs::error::ConnectError;

/// A transformation's or predicate's own properties (prefix removed).
#[derive(Debug, Clone, Copy)]
pub struct Props<'a>(pub &'a HashMap<String, String>);

fn invalid(value: &str, key: &str, reason: &str) -> ConnectError {
    ConnectError::config(format!(
        "Invalid value {value} for configuration {key}: {reason}"
    ))
}

impl Props<'_> {
    /// The value as `ConfigDef` parses STRING (and LIST, INT, BOOLEAN) types: trimmed as
    /// Java's `String.trim()` does (every character up to U+0020, control characters too).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| java_trim(v))
    }

    pub fn required(&self, key: &str) -> Result<&str, ConnectError> {
        self.get(key).ok_or_else(|| {
            ConnectError::config(format!(
                "Missing required configuration \"{key}\" which has no default value."
            ))
        })
    }

    /// `Type.STRING` with `NonEmptyString` validation.
    pub fn required_non_empty(&self, key: &str) -> Result<&str, ConnectError> {
        let v = self.required(key)?;
        if v.is_empty() {
            return Err(invalid(v, key, "String must be non-empty"));
        }
        Ok(v)
    }

    /// `Type.LIST`: comma-separated, items trimmed, empty string is an empty list.
    pub fn list(&self, key: &str, default: Option<&[&str]>) -> Result<Vec<String>, ConnectError> {
        match self.get(key) {
            None => default
                .map(|d| d.iter().map(|s| s.to_string()).collect())
                .ok_or_else(|| {
                    ConnectError::config(format!(
                        "Missing required configuration \"{key}\" which has no default value."
                    ))
                }),
            Some(v) if v.trim().is_empty() => Ok(vec![]),
            Some(v) => Ok(v.split(',').map(|s| s.trim().to_string()).collect()),
        }
    }

    /// A list that must not be empty (`NonEmptyList`).
    pub fn non_empty_list(&self, key: &str) -> Result<Vec<String>, ConnectError> {
        let l = self.list(key, None)?;
        if l.is_empty() {
            return Err(invalid("[]", key, "Empty list"));
        }
        Ok(l)
    }

    /// A list under Kafka 4.x's `ValidList.anyNonDuplicateValues` (KIP-1161): no empty
    /// items, empty only if `empty_allowed`, duplicates dropped (first occurrence kept).
    pub fn unique_list(&self, key: &str, empty_allowed: bool) -> Result<Vec<String>, ConnectError> {
        let default: Option<&[&str]> = empty_allowed.then_some(&[]);
        let list = self.list(key, default)?;
        if list.is_empty() && !empty_allowed {
            return Err(ConnectError::config(format!(
                "Configuration '{key}' must not be empty. Valid values include: any non-empty value"
            )));
        }
        if list.iter().any(String::is_empty) {
            return Err(ConnectError::config(format!(
                "Configuration '{key}' values must not be empty."
            )));
        }
        let mut unique: Vec<String> = Vec::with_capacity(list.len());
        for item in list {
            if !unique.contains(&item) {
                unique.push(item);
            }
        }
        Ok(unique)
    }

    pub fn int(&self, key: &str) -> Result<Option<i32>, ConnectError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| invalid(v, key, "Not a number of type INT")),
        }
    }

    pub fn boolean(&self, key: &str, default: bool) -> Result<bool, ConnectError> {
        match self.get(key).map(str::trim) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(invalid(v, key, "Expected value to be either true or false")),
        }
    }

    /// `ValidString.in(...)` (case-sensitive).
    pub fn one_of<'b>(
        &self,
        key: &str,
        default: &'b str,
        allowed: &[&'b str],
    ) -> Result<&'b str, ConnectError> {
        let v = self.get(key).unwrap_or(default);
        allowed.iter().find(|a| **a == v).copied().ok_or_else(|| {
            invalid(
                v,
                key,
                &format!("String must be one of: {}", allowed.join(", ")),
            )
        })
    }

    /// `CaseInsensitiveValidString.in(...)`.
    pub fn one_of_ci<'b>(
        &self,
        key: &str,
        default: &'b str,
        allowed: &[&'b str],
    ) -> Result<&'b str, ConnectError> {
        let v = self.get(key).unwrap_or(default);
        allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(v))
            .copied()
            .ok_or_else(|| {
                invalid(
                    v,
                    key,
                    &format!(
                        "String must be one of (case insensitive): {}",
                        allowed.join(", ")
                    ),
                )
            })
    }
}

/// Java's `String.trim()`.
pub fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

pub(crate) fn invalid_value(value: &str, key: &str, reason: &str) -> ConnectError {
    invalid(value, key, reason)
}
