//! `PUT /connector-plugins/{p}/config/validate` and `GET /connector-plugins/{p}/config`:
//! Kafka Connect's config definitions (the common connector keys of 3.8, the sink/source
//! keys, and each plugin's own) and a `ConfigInfos` answer with per-key errors.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sluice_connectors::config_def::ConfigKey;
use sluice_connectors::{ConnectorKind, Plugin};

use crate::config::{ConnectorConfig, WorkerConfig};

/// One `ConfigDef` entry (the type lives with the connectors, which define their keys).
pub type KeyDef = ConfigKey;

/// An entry of a `ConfigInfos` answer: the key's definition, `default` overriding its own.
fn definition(k: &KeyDef, default: Option<String>) -> Value {
    json!({
        "name": k.name,
        "type": k.kind,
        "required": k.required,
        "default_value": default.or(k.default.map(str::to_string)),
        "importance": k.importance,
        "documentation": k.doc,
        "group": k.group,
        "order_in_group": k.order,
        "width": k.width,
        "display_name": k.display,
        "dependents": [],
    })
}

/// The entry of `GET /connector-plugins/{p}/config`.
pub fn plugin_json(k: &KeyDef) -> Value {
    definition(k, None)
}

use sluice_connectors::config_def::config_key as def;

const COMMON: Option<&str> = Some("Common");
const ERRORS: Option<&str> = Some("Error Handling");

const CONVERTER_DOC: &str = "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the keys in messages written to or read from Kafka, and since this is independent of connectors it allows any connector to work with any serialization format. Examples of common formats include JSON and Avro.";
const VALUE_CONVERTER_DOC: &str = "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the values in messages written to or read from Kafka, and since this is independent of connectors it allows any connector to work with any serialization format. Examples of common formats include JSON and Avro.";

fn common_keys() -> Vec<KeyDef> {
    vec![
        def(
            "name",
            "STRING",
            true,
            None,
            "HIGH",
            "Globally unique name to use for this connector.",
            COMMON,
            1,
            "MEDIUM",
            "Connector name",
        ),
        def(
            "connector.class",
            "STRING",
            true,
            None,
            "HIGH",
            "Name or alias of the class for this connector. Must be a subclass of org.apache.kafka.connect.connector.Connector. If the connector is org.apache.kafka.connect.file.FileStreamSinkConnector, you can either specify this full name,  or use \"FileStreamSink\" or \"FileStreamSinkConnector\" to make the configuration a bit shorter",
            COMMON,
            2,
            "LONG",
            "Connector class",
        ),
        def(
            "tasks.max",
            "INT",
            false,
            Some("1"),
            "HIGH",
            "Maximum number of tasks to use for this connector.",
            COMMON,
            3,
            "SHORT",
            "Tasks max",
        ),
        def(
            "tasks.max.enforce",
            "BOOLEAN",
            false,
            Some("true"),
            "LOW",
            "(Deprecated) Whether to enforce that the tasks.max property is respected by the connector. By default, connectors that generate too many tasks will fail, and existing sets of tasks that exceed the tasks.max property will also be failed. If this property is set to false, then connectors will be allowed to generate more than the maximum number of tasks, and existing sets of tasks that exceed the tasks.max property will be allowed to run. This property is deprecated and will be removed in an upcoming major release.",
            COMMON,
            4,
            "SHORT",
            "Enforce tasks max",
        ),
        def(
            "key.converter",
            "CLASS",
            false,
            None,
            "LOW",
            CONVERTER_DOC,
            COMMON,
            5,
            "SHORT",
            "Key converter class",
        ),
        def(
            "value.converter",
            "CLASS",
            false,
            None,
            "LOW",
            VALUE_CONVERTER_DOC,
            COMMON,
            6,
            "SHORT",
            "Value converter class",
        ),
        def(
            "header.converter",
            "CLASS",
            false,
            Some("Inherited from Connect config"),
            "LOW",
            "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the header values in messages written to or read from Kafka, and since this is independent of connectors it allows any connector to work with any serialization format. Examples of common formats include JSON and Avro. By default, the value will be inherited from the <a href=\"https://kafka.apache.org/documentation/#header.converter\">Connect config</a>.",
            COMMON,
            7,
            "SHORT",
            "Header converter class",
        ),
        def(
            "transforms",
            "LIST",
            false,
            Some(""),
            "LOW",
            "Aliases for the transformations to be applied to records.",
            Some("Transforms"),
            8,
            "LONG",
            "Transforms",
        ),
        def(
            "predicates",
            "LIST",
            false,
            Some(""),
            "LOW",
            "Aliases for the predicates used by transformations.",
            Some("Predicates"),
            9,
            "LONG",
            "Predicates",
        ),
        def(
            "config.action.reload",
            "STRING",
            false,
            Some("restart"),
            "LOW",
            "The action that Connect should take on the connector when changes in external configuration providers result in a change in the connector's configuration properties. A value of 'none' indicates that Connect will do nothing. A value of 'restart' indicates that Connect should restart/reload the connector with the updated configuration properties.The restart may actually be scheduled in the future if the external configuration provider indicates that a configuration value will expire in the future.",
            COMMON,
            10,
            "MEDIUM",
            "Reload Action",
        ),
        def(
            "errors.retry.timeout",
            "LONG",
            false,
            Some("0"),
            "MEDIUM",
            "The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries will be attempted. Use -1 for infinite retries.",
            ERRORS,
            1,
            "MEDIUM",
            "Retry Timeout for Errors",
        ),
        def(
            "errors.retry.delay.max.ms",
            "LONG",
            false,
            Some("60000"),
            "MEDIUM",
            "The maximum duration in milliseconds between consecutive retry attempts. Jitter will be added to the delay once this limit is reached to prevent thundering herd issues.",
            ERRORS,
            2,
            "MEDIUM",
            "Maximum Delay Between Retries for Errors",
        ),
        def(
            "errors.tolerance",
            "STRING",
            false,
            Some("none"),
            "MEDIUM",
            "Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will result in an immediate connector task failure; 'all' changes the behavior to skip over problematic records.",
            ERRORS,
            3,
            "SHORT",
            "Error Tolerance",
        ),
        def(
            "errors.log.enable",
            "BOOLEAN",
            false,
            Some("false"),
            "MEDIUM",
            "If true, write each error and the details of the failed operation and problematic record to the Connect application log. This is 'false' by default, so that only errors that are not tolerated are reported.",
            ERRORS,
            4,
            "SHORT",
            "Log Errors",
        ),
        def(
            "errors.log.include.messages",
            "BOOLEAN",
            false,
            Some("false"),
            "MEDIUM",
            "Whether to the include in the log the Connect record that resulted in a failure. This is 'false' by default, which will prevent record keys, values, and headers from being written to log files, although some information such as topic and partition number will still be logged.",
            ERRORS,
            5,
            "SHORT",
            "Log Error Details",
        ),
    ]
}

fn sink_keys() -> Vec<KeyDef> {
    vec![
        def(
            "topics",
            "LIST",
            false,
            Some(""),
            "HIGH",
            "List of topics to consume, separated by commas",
            COMMON,
            4,
            "LONG",
            "Topics",
        ),
        def(
            "topics.regex",
            "STRING",
            false,
            Some(""),
            "HIGH",
            "Regular expression giving topics to consume. Under the hood, the regex is compiled to a <code>java.util.regex.Pattern</code>. Only one of topics or topics.regex should be specified.",
            COMMON,
            4,
            "LONG",
            "Topics regex",
        ),
        def(
            "errors.deadletterqueue.topic.name",
            "STRING",
            false,
            Some(""),
            "MEDIUM",
            "The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink connector, or its transformations or converters. The topic name is blank by default, which means that no messages are to be recorded in the DLQ.",
            ERRORS,
            6,
            "MEDIUM",
            "Dead Letter Queue Topic Name",
        ),
        def(
            "errors.deadletterqueue.topic.replication.factor",
            "SHORT",
            false,
            Some("3"),
            "MEDIUM",
            "Replication factor used to create the dead letter queue topic when it doesn't already exist.",
            ERRORS,
            7,
            "MEDIUM",
            "Dead Letter Queue Topic Replication Factor",
        ),
        def(
            "errors.deadletterqueue.context.headers.enable",
            "BOOLEAN",
            false,
            Some("false"),
            "MEDIUM",
            "If true, add headers containing error context to the messages written to the dead letter queue. To avoid clashing with headers from the original record, all error context header keys, all error context header keys will start with <code>__connect.errors.</code>",
            ERRORS,
            8,
            "MEDIUM",
            "Enable Error Context Headers",
        ),
    ]
}

/// The plugin's own keys, as its `config()` ConfigDef defines them.
/// The plugin's own keys, defined next to the plugin.
pub fn plugin_keys(plugin: Plugin) -> Vec<KeyDef> {
    plugin.config_def().to_vec()
}

fn type_error(d: &KeyDef, v: &str) -> Option<String> {
    let t = v.trim();
    let bad = |what: &str| {
        Some(format!(
            "Invalid value {v} for configuration {}: {what}",
            d.name
        ))
    };
    match d.kind {
        "INT" => t
            .parse::<i32>()
            .is_err()
            .then(|| bad("Not a number of type INT"))
            .flatten(),
        "SHORT" => t
            .parse::<i16>()
            .is_err()
            .then(|| bad("Not a number of type SHORT"))
            .flatten(),
        "LONG" => t
            .parse::<i64>()
            .is_err()
            .then(|| bad("Not a number of type LONG"))
            .flatten(),
        "BOOLEAN" => (!t.eq_ignore_ascii_case("true") && !t.eq_ignore_ascii_case("false"))
            .then(|| bad("Expected value to be either true or false"))
            .flatten(),
        _ => None,
    }
}

/// The `ConfigInfos` answer for `props` validated as a `plugin` connector.
pub fn validate(plugin: Plugin, props: &BTreeMap<String, String>, worker: &WorkerConfig) -> Value {
    let mut defs = common_keys();
    if plugin.kind() == ConnectorKind::Sink {
        defs.extend(sink_keys());
    }
    let own = plugin_keys(plugin);
    let mut errors: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut typed_bad: Vec<&str> = Vec::new();
    for d in defs.iter().chain(&own) {
        let value = props.get(d.name);
        if let Some(e) = value.and_then(|v| type_error(d, v)) {
            errors.entry(d.name).or_default().push(e);
            errors.entry(d.name).or_default().push(format!(
                "Invalid value null for configuration {}: Value must be non-null",
                d.name
            ));
            typed_bad.push(d.name);
        } else if d.required && value.is_none_or(|v| v.trim().is_empty()) {
            let msg = if d.name == "name" {
                "Invalid value  for configuration name: String may not be empty".to_string()
            } else {
                format!(
                    "Missing required configuration \"{}\" which has no default value.",
                    d.name
                )
            };
            errors.entry(d.name).or_default().push(msg);
        }
    }
    // Client overrides the worker's policy refuses, each under its own key (Kafka's
    // `prefixedConfigInfos`; sluice has no client `ConfigDef`, so their definition is null).
    let mut refusals: Vec<(String, String)> = Vec::new();
    // The full parse catches what per-key checks cannot (ranges, converter classes, the
    // plugin's own rules, transformation chains); its message goes to the key it names.
    if errors.is_empty() {
        let mut full = props.clone();
        full.entry("name".into())
            .or_insert_with(|| "validate".into());
        let parsed = ConnectorConfig::parse(full, worker, "validate");
        if let Ok(config) = &parsed {
            refusals = config.override_refusals(worker);
        }
        if let Err(e) = parsed {
            let message = match e {
                crate::EngineError::Connector { message, .. } => message,
                other => other.to_string(),
            };
            let key = defs
                .iter()
                .chain(&own)
                .map(|d| d.name)
                .filter(|n| {
                    message.contains(&format!("configuration {n}"))
                        || message.contains(&format!("\"{n}\""))
                        || message.starts_with(&format!("{n}:"))
                })
                .max_by_key(|n| n.len())
                .unwrap_or("connector.class");
            errors.entry(key).or_default().push(message);
        }
    }
    let converter_default = |role: &str| {
        worker
            .props
            .get(role)
            .cloned()
            .or_else(|| Some(crate::config::DEFAULT_CONVERTER.to_string()))
    };
    let configs: Vec<Value> = defs
        .iter()
        .chain(&own)
        .map(|d| {
            let default = match d.name {
                "key.converter" | "value.converter" => converter_default(d.name),
                _ => None,
            };
            let value = if typed_bad.contains(&d.name) {
                None
            } else if d.kind == "PASSWORD" {
                // Kafka's `Password.toString()`: a secret never leaves in a validation answer.
                props.get(d.name).map(|_| "[hidden]".to_string())
            } else {
                props
                    .get(d.name)
                    .cloned()
                    .or_else(|| default.clone())
                    .or(d.default.map(str::to_string))
            };
            json!({
                "definition": definition(d, default),
                "value": {
                    "name": d.name,
                    "value": value,
                    "recommended_values": [],
                    "errors": errors.get(d.name).cloned().unwrap_or_default(),
                    "visible": true,
                }
            })
        })
        .collect();
    let configs: Vec<Value> = configs
        .into_iter()
        .chain(refusals.iter().map(|(key, message)| {
            json!({
                "definition": null,
                "value": {
                    "name": key,
                    "value": props.get(key),
                    "recommended_values": [],
                    "errors": [message],
                    "visible": true,
                }
            })
        }))
        .collect();
    let mut groups: Vec<&str> = vec!["Common", "Transforms", "Predicates", "Error Handling"];
    if own.iter().any(|d| d.group.is_some()) {
        groups.extend(own.iter().filter_map(|d| d.group));
    }
    json!({
        "name": plugin.class_name(),
        "error_count": errors.values().map(Vec::len).sum::<usize>() + refusals.len(),
        "groups": groups,
        "configs": configs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker() -> WorkerConfig {
        WorkerConfig::parse(BTreeMap::from([(
            "bootstrap.servers".to_string(),
            "127.0.0.1:1".to_string(),
        )]))
        .unwrap()
    }

    #[test]
    fn bad_tasks_max_reports_two_messages_like_kafka() {
        let props: BTreeMap<String, String> = [
            ("connector.class", "FileStreamSink"),
            ("name", "v1"),
            ("tasks.max", "x"),
            ("topics", "t"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let v = validate(Plugin::FileStreamSink, &props, &worker());
        assert_eq!(v["error_count"], 2);
        let tm = v["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["definition"]["name"] == "tasks.max")
            .unwrap();
        assert_eq!(tm["value"]["value"], Value::Null);
        assert_eq!(
            tm["value"]["errors"][0],
            "Invalid value x for configuration tasks.max: Not a number of type INT"
        );
        let names: Vec<&str> = v["configs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["definition"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.first(), Some(&"name"));
        assert_eq!(names.last(), Some(&"file"));
    }

    #[test]
    fn plugin_rule_errors_land_on_their_key() {
        let props: BTreeMap<String, String> = [
            ("connector.class", "FileStreamSink"),
            ("name", "v1"),
            ("errors.tolerance", "some"),
            ("topics", "t"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let v = validate(Plugin::FileStreamSink, &props, &worker());
        assert_eq!(v["error_count"], 1);
        let et = v["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["definition"]["name"] == "errors.tolerance")
            .unwrap();
        assert!(
            et["value"]["errors"][0]
                .as_str()
                .unwrap()
                .contains("none, all")
        );
    }
}
