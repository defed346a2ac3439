//! The settings every Schema Registry serializer and deserializer shares
//! (`AbstractKafkaSchemaSerDeConfig`): registry URLs, subject name strategies, registration
//! and lookup switches. Each converter parses these first, then its own format's keys.

use std::collections::HashMap;

use crate::error::ConnectError;

/// How a subject is named for a record (`*.subject.name.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectNameStrategy {
    /// `<topic>-key` / `<topic>-value`.
    Topic,
    /// The record's full name.
    Record,
    /// `<topic>-<record full name>`.
    TopicRecord,
}

impl SubjectNameStrategy {
    fn parse(key: &str, class: &str) -> std::result::Result<Self, ConnectError> {
        let c = class.trim();
        Ok(match c.rsplit('.').next().unwrap_or(c) {
            "TopicNameStrategy" if c.starts_with("io.confluent.kafka.serializers.subject.") => {
                Self::Topic
            }
            "RecordNameStrategy" if c.starts_with("io.confluent.kafka.serializers.subject.") => {
                Self::Record
            }
            "TopicRecordNameStrategy"
                if c.starts_with("io.confluent.kafka.serializers.subject.") =>
            {
                Self::TopicRecord
            }
            _ => {
                return Err(ConnectError::config(format!(
                    "Invalid value {c} for configuration {key}: Class {c} could not be found."
                )));
            }
        })
    }
}

pub(crate) fn bool_key(
    props: &HashMap<String, String>,
    key: &str,
    default: bool,
) -> std::result::Result<bool, ConnectError> {
    crate::json::connect::bool_config(props, key, default)
}

pub(crate) fn int_key(
    props: &HashMap<String, String>,
    key: &str,
    default: i32,
) -> std::result::Result<i32, ConnectError> {
    match props.get(key).map(|v| v.trim()) {
        None => Ok(default),
        Some(v) => v.parse::<i32>().map_err(|_| {
            ConnectError::config(format!(
                "Invalid value {v} for configuration {key}: Not a number of type INT"
            ))
        }),
    }
}

pub(crate) fn class_key(
    props: &HashMap<String, String>,
    key: &str,
    known: &[&str],
) -> std::result::Result<(), ConnectError> {
    match props.get(key).map(|v| v.trim()) {
        Some(v) if !known.contains(&v) => Err(ConnectError::config(format!(
            "Invalid value {v} for configuration {key}: Class {v} could not be found."
        ))),
        _ => Ok(()),
    }
}

/// The shared serde settings, un-prefixed.
#[derive(Debug, Clone)]
pub struct SerdeConfig {
    pub urls: Vec<String>,
    pub auto_register_schemas: bool,
    pub use_latest_version: bool,
    pub latest_compatibility_strict: bool,
    pub use_schema_id: i32,
    pub id_compatibility_strict: bool,
    pub normalize_schemas: bool,
    pub key_strategy: SubjectNameStrategy,
    pub value_strategy: SubjectNameStrategy,
    /// Every setting, for the registry client (auth, TLS, timeouts).
    pub props: HashMap<String, String>,
}

impl SerdeConfig {
    /// Parses and checks the keys in Confluent's `ConfigDef` order.
    pub fn parse(props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let urls: Vec<String> = match props.get("schema.registry.url") {
            None => {
                return Err(ConnectError::config(
                    "Missing required configuration \"schema.registry.url\" which has no default value.",
                ));
            }
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        };
        int_key(props, "max.schemas.per.subject", 1000)?;
        let normalize_schemas = bool_key(props, "normalize.schemas", false)?;
        let auto_register_schemas = bool_key(props, "auto.register.schemas", true)?;
        let use_schema_id = int_key(props, "use.schema.id", -1)?;
        let id_compatibility_strict = bool_key(props, "id.compatibility.strict", true)?;
        let use_latest_version = bool_key(props, "use.latest.version", false)?;
        let latest_compatibility_strict = bool_key(props, "latest.compatibility.strict", true)?;
        class_key(
            props,
            "context.name.strategy",
            &["io.confluent.kafka.serializers.context.NullContextNameStrategy"],
        )?;
        let strategy = |key: &str| match props.get(key) {
            None => Ok(SubjectNameStrategy::Topic),
            Some(c) => SubjectNameStrategy::parse(key, c),
        };
        let key_strategy = strategy("key.subject.name.strategy")?;
        let value_strategy = strategy("value.subject.name.strategy")?;
        int_key(props, "proxy.port", -1)?;
        int_key(props, "http.connect.timeout.ms", 60000)?;
        int_key(props, "http.read.timeout.ms", 60000)?;
        Ok(Self {
            urls,
            auto_register_schemas,
            use_latest_version,
            latest_compatibility_strict,
            use_schema_id,
            id_compatibility_strict,
            normalize_schemas,
            key_strategy,
            value_strategy,
            props: props.clone(),
        })
    }
}
