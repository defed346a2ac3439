//! Worker and connector configuration, parsed from Kafka Connect's string properties into
//! typed structs with errors that name the key. `connect-standalone.properties` and
//! connector `.properties`/`.json` files run unchanged.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;
use sluice_codecs::{ConverterConfig, ConverterRole};
use sluice_connectors::{ConnectorKind, ConnectorSpec, Plugin};

use crate::config_provider::{CONFIG_PROVIDERS, ConfigProviders};
use crate::error::{EngineError, Result};
use crate::override_policy::OverridePolicy;
use crate::properties;

pub use crate::properties::Props;

pub use sluice_smt::pipeline::{DEFAULT_CONVERTER, DEFAULT_HEADER_CONVERTER, sub_props};

/// Reads a `.properties` file, or a `.json` connector file (`{"name":..,"config":{..}}` as
/// POSTed to the REST API, or a flat object of properties).
pub fn read_props(path: &Path) -> Result<Props> {
    let text = std::fs::read_to_string(path).map_err(|source| EngineError::ReadConfig {
        path: path.into(),
        source,
    })?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('{');
    if !is_json {
        return Ok(properties::parse(&text));
    }
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| EngineError::ConfigJson {
            path: path.into(),
            source,
        })?;
    let shape = |message: &str| EngineError::ConfigShape {
        path: path.into(),
        message: message.into(),
    };
    let obj = doc
        .as_object()
        .ok_or_else(|| shape("expected a JSON object"))?;
    let (name, config) = match obj.get("config") {
        Some(serde_json::Value::Object(c)) => (obj.get("name").and_then(|n| n.as_str()), c),
        Some(_) => return Err(shape("\"config\" must be an object of strings")),
        None => (None, obj),
    };
    let mut props = Props::new();
    for (k, v) in config {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => continue,
            other => other.to_string(),
        };
        props.insert(k.clone(), v);
    }
    if let Some(name) = name {
        props
            .entry("name".into())
            .or_insert_with(|| name.to_string());
    }
    Ok(props)
}

/// Keys of a Kafka Connect worker that sluice reads.
const WORKER_KEYS: &[&str] = &[
    "bootstrap.servers",
    "key.converter",
    "value.converter",
    "header.converter",
    "offset.storage.file.filename",
    "offset.flush.interval.ms",
    "offset.flush.timeout.ms",
    "listeners",
    "plugin.path",
    "config.providers",
    "security.protocol",
    crate::rest_auth::REST_EXTENSION_CLASSES,
    crate::override_policy::POLICY,
    crate::override_policy::ALLOWLIST,
];
/// Prefixes of worker keys that are passed on (converters, clients).
const WORKER_PREFIXES: &[&str] = &[
    "key.converter.",
    "value.converter.",
    "header.converter.",
    "producer.",
    "consumer.",
    "admin.",
    "config.providers.",
    "ssl.",
    "sasl.",
];

/// Typed worker config (`connect-standalone.properties`).
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub bootstrap_servers: String,
    pub offset_file: Option<PathBuf>,
    pub offset_flush_interval: Duration,
    pub listeners: Vec<String>,
    /// The worker's properties, placeholders resolved.
    pub props: Props,
    /// Keys sluice does not know; warned about once at start.
    pub unknown_keys: Vec<String>,
    /// `config.providers`, for the placeholders of connector configs.
    pub providers: ConfigProviders,
    /// `connector.client.config.override.policy`.
    pub override_policy: OverridePolicy,
    /// Kafka's basic-auth REST extension, when `rest.extension.classes` names it.
    pub rest_auth: Option<crate::rest_auth::BasicAuth>,
}

impl WorkerConfig {
    pub fn parse(props: Props) -> Result<Self> {
        // As Kafka's `AbstractConfig`: the worker's own placeholders resolve with the
        // providers it defines.
        let providers = ConfigProviders::parse(&props)?;
        let props = providers.resolve(&props).map_err(|e| EngineError::Worker {
            key: CONFIG_PROVIDERS.into(),
            message: e.to_string(),
        })?;
        let bootstrap_servers = props
            .get("bootstrap.servers")
            .cloned()
            .unwrap_or_else(|| "localhost:9092".into());
        let offset_flush_interval = Duration::from_millis(parse_u64(
            &props,
            "offset.flush.interval.ms",
            60_000,
            |k, m| EngineError::Worker { key: k, message: m },
        )?);
        let offset_file = props
            .get("offset.storage.file.filename")
            .filter(|s| !s.trim().is_empty())
            .map(PathBuf::from);
        let listeners = props
            .get("listeners")
            .map(|l| {
                l.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_else(|| vec!["http://127.0.0.1:8083".to_string()]);
        for role in ["key.converter", "value.converter"] {
            let class = props
                .get(role)
                .map(String::as_str)
                .unwrap_or(DEFAULT_CONVERTER);
            ConverterConfig::parse(role, class, &sub_props(&props, role), converter_role(role))
                .map_err(|e| EngineError::Worker {
                    key: role.into(),
                    message: e.to_string(),
                })?;
        }
        let override_policy = OverridePolicy::parse(&props)?;
        let rest_auth = crate::rest_auth::BasicAuth::from_worker(&props)?;
        // The worker's own clients' TLS/SASL settings: a wrong keystore password or an
        // unreadable truststore stops the worker at start (exit code 2), naming the key.
        let own_security = crate::kafka::security::security_settings(&props);
        crate::kafka::security::translate(&own_security).map_err(|e| EngineError::Worker {
            key: e.key().to_string(),
            message: e.to_string(),
        })?;
        let unknown_keys = props
            .keys()
            .filter(|k| {
                !WORKER_KEYS.contains(&k.as_str())
                    && !WORKER_PREFIXES.iter().any(|p| k.starts_with(p))
            })
            .cloned()
            .collect();
        Ok(Self {
            bootstrap_servers,
            offset_file,
            offset_flush_interval,
            listeners,
            props,
            unknown_keys,
            override_policy,
            rest_auth,
            providers,
        })
    }

    /// `producer.*` / `consumer.*` client settings, prefix removed.
    pub fn client_overrides(&self, prefix: &str) -> HashMap<String, String> {
        sub_props(&self.props, prefix)
    }
}

fn converter_role(key: &str) -> ConverterRole {
    if key.starts_with("key") {
        ConverterRole::Key
    } else {
        ConverterRole::Value
    }
}

fn parse_u64(
    props: &Props,
    key: &str,
    default: u64,
    err: impl Fn(String, String) -> EngineError,
) -> Result<u64> {
    match props.get(key) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| {
            err(
                key.into(),
                format!("Invalid value {v} for configuration {key}: Not a number of type LONG"),
            )
        }),
    }
}

/// `header.converter` class and its `header.converter.*` settings (validated at parse).
#[derive(Debug, Clone)]
pub struct HeaderConverterConfig {
    pub class: String,
    pub props: HashMap<String, String>,
}

impl HeaderConverterConfig {
    pub fn build(&self) -> sluice_codecs::reference::RefHeaderConverter {
        sluice_codecs::reference::RefHeaderConverter::configure(&self.class, &self.props)
            .unwrap_or(sluice_codecs::reference::RefHeaderConverter::Simple)
    }
}

/// Which topics a sink consumes.
#[derive(Debug, Clone)]
pub enum TopicSelection {
    List(Vec<String>),
    Regex(String),
}

/// Typed connector config: the Connect-level keys plus the plugin's validated spec.
#[derive(Debug, Clone)]
pub struct ConnectorConfig {
    pub name: String,
    pub plugin: Plugin,
    pub spec: ConnectorSpec,
    pub tasks_max: usize,
    pub key_converter: ConverterConfig,
    pub value_converter: ConverterConfig,
    pub topics: Option<TopicSelection>,
    /// `errors.*`: retries, tolerance, logging and the dead letter queue.
    pub errors: crate::errors::policy::ErrorsConfig,
    pub header_converter: HeaderConverterConfig,
    pub props: Props,
}

impl ConnectorConfig {
    /// The connector's key, value and header converters, built.
    pub fn converters(&self) -> sluice_smt::pipeline::ConverterSet {
        sluice_smt::pipeline::ConverterSet::new(
            &self.key_converter,
            &self.value_converter,
            self.header_converter.build(),
            &self.header_converter.class,
        )
    }

    /// The `*.override.*` client settings the worker's override policy refuses, as
    /// (connector key, Kafka's message): the consumer's of a sink (and the DLQ producer's and
    /// admin's when it has one), the producer's of a source, as Kafka's herder checks them.
    pub fn override_refusals(&self, worker: &WorkerConfig) -> Vec<(String, String)> {
        let prefixes: &[&str] = match (self.spec.kind(), &self.errors.dlq) {
            (ConnectorKind::Sink, None) => &["consumer.override."],
            (ConnectorKind::Sink, Some(_)) => &[
                "consumer.override.",
                "admin.override.",
                "producer.override.",
            ],
            (ConnectorKind::Source, _) => &["producer.override."],
        };
        prefixes
            .iter()
            .flat_map(|p| worker.override_policy.refusals(&self.props, p))
            .collect()
    }

    /// Validates a connector's properties against the worker's; `source` names the file for
    /// messages.
    pub fn parse(props: Props, worker: &WorkerConfig, source: &str) -> Result<Self> {
        let name = props
            .get("name")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| EngineError::Connector {
                connector: source.into(),
                message: "Missing required configuration \"name\" which has no default value."
                    .into(),
            })?;
        let err = |message: String| EngineError::Connector {
            connector: name.clone(),
            message,
        };
        // Placeholders resolve at each start (a rotated secret is read again); the caller
        // keeps the unresolved properties for `GET /connectors/{c}/config`.
        let props = worker
            .providers
            .resolve(&props)
            .map_err(|e| err(e.to_string()))?;
        let class = props.get("connector.class").map(|s| s.trim()).filter(|s| !s.is_empty()).ok_or_else(|| {
            err("Missing required configuration \"connector.class\" which has no default value.".into())
        })?;
        let plugin = Plugin::from_class(class).ok_or_else(|| {
            let known: Vec<_> = Plugin::ALL.iter().map(|p| p.class_name()).collect();
            err(format!("connector.class: Failed to find any class that implements Connector and which name matches {class}; available: {}", known.join(", ")))
        })?;
        let tasks_max = match props.get("tasks.max") {
            None => 1,
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    err(format!(
                        "Invalid value {v} for configuration tasks.max: Value must be at least 1"
                    ))
                })?,
        };
        let converter = |role: &str| -> Result<ConverterConfig> {
            // As in Kafka, a connector that names a converter class configures it from its
            // own prefixed keys; otherwise the worker's converter and settings apply.
            let from = if props.contains_key(role) {
                &props
            } else {
                &worker.props
            };
            let class = from
                .get(role)
                .map(String::as_str)
                .unwrap_or(DEFAULT_CONVERTER);
            ConverterConfig::parse(role, class, &sub_props(from, role), converter_role(role))
                .map_err(|e| err(e.to_string()))
        };
        let header_converter = {
            let from = if props.contains_key("header.converter") {
                &props
            } else {
                &worker.props
            };
            let class = from
                .get("header.converter")
                .map(|c| c.trim().to_string())
                .unwrap_or_else(|| DEFAULT_HEADER_CONVERTER.to_string());
            let sub = sub_props(from, "header.converter");
            sluice_codecs::reference::RefHeaderConverter::configure(&class, &sub)
                .map_err(|e| err(format!("header.converter: {e}")))?;
            HeaderConverterConfig { class, props: sub }
        };
        let key_converter = converter("key.converter")?;
        let value_converter = converter("value.converter")?;
        let topics = match plugin.kind() {
            ConnectorKind::Source => None,
            ConnectorKind::Sink => Some(sink_topics(&props).map_err(|e| err(e.to_string()))?),
        };
        let plugin_props: HashMap<String, String> =
            props.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let spec = plugin
            .parse(&plugin_props)
            .map_err(|e| err(e.to_string()))?;
        // The chain is validated like Kafka does at connector start; tasks apply it.
        sluice_smt::Chain::configure(&plugin_props).map_err(|e| err(e.to_string()))?;
        let errors = crate::errors::policy::ErrorsConfig::parse(&props)
            .map_err(|(_, message)| err(message))?;
        if errors.dlq.is_some() && plugin.kind() == ConnectorKind::Source {
            tracing::warn!(
                "connector {name}: errors.deadletterqueue.* applies to sink connectors only; ignored"
            );
        }
        Ok(Self {
            name,
            plugin,
            spec,
            tasks_max,
            key_converter,
            value_converter,
            topics,
            errors,
            header_converter,
            props,
        })
    }

    pub fn client_overrides(&self, prefix: &str) -> HashMap<String, String> {
        sub_props(&self.props, prefix)
    }
}

/// Why a sink connector's `topics` / `topics.regex` select nothing usable (Kafka's messages).
#[derive(Debug, thiserror::Error)]
enum TopicsError {
    #[error("topics and topics.regex are mutually exclusive options, but both are set.")]
    Both,
    #[error("Must configure one of topics or topics.regex")]
    Neither,
    #[error("Invalid value {regex} for configuration topics.regex: {source}")]
    Regex {
        regex: String,
        #[source]
        source: regex::Error,
    },
}

fn sink_topics(props: &Props) -> std::result::Result<TopicSelection, TopicsError> {
    let list: Vec<String> = props
        .get("topics")
        .map(|t| {
            t.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let regex = props
        .get("topics.regex")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    match (list.is_empty(), regex) {
        (false, Some(_)) => Err(TopicsError::Both),
        (true, None) => Err(TopicsError::Neither),
        (false, None) => Ok(TopicSelection::List(list)),
        (true, Some(r)) => {
            if let Err(source) = Regex::new(&r) {
                return Err(TopicsError::Regex { regex: r, source });
            }
            Ok(TopicSelection::Regex(r))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(kv: &[(&str, &str)]) -> Props {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn worker() -> WorkerConfig {
        WorkerConfig::parse(props(&[
            ("bootstrap.servers", "127.0.0.1:9092"),
            (
                "key.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            (
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            ("key.converter.schemas.enable", "true"),
            ("value.converter.schemas.enable", "false"),
            ("offset.flush.interval.ms", "10000"),
            ("some.unknown.key", "x"),
        ]))
        .expect("worker")
    }

    #[test]
    fn worker_keys_and_unknowns() {
        let w = worker();
        assert_eq!(w.offset_flush_interval, Duration::from_secs(10));
        assert_eq!(w.unknown_keys, vec!["some.unknown.key".to_string()]);
        let e = WorkerConfig::parse(props(&[("offset.flush.interval.ms", "soon")])).unwrap_err();
        assert!(e.to_string().contains("offset.flush.interval.ms"));
    }

    #[test]
    fn connector_converters_fall_back_to_worker() {
        let w = worker();
        let c = ConnectorConfig::parse(
            props(&[
                ("name", "s"),
                ("connector.class", "FileStreamSink"),
                ("topics", "a, b"),
            ]),
            &w,
            "f",
        )
        .expect("cfg");
        assert!(!c.value_converter.json.schemas_enable);
        assert!(matches!(c.topics, Some(TopicSelection::List(ref l)) if l == &["a", "b"]));
        let c = ConnectorConfig::parse(
            props(&[
                ("name", "s"),
                ("connector.class", "FileStreamSink"),
                ("topics.regex", "a.*"),
                ("value.converter", "JsonConverter"),
            ]),
            &w,
            "f",
        )
        .expect("cfg");
        assert!(
            c.value_converter.json.schemas_enable,
            "connector-level converter uses its own (default) settings"
        );
    }

    #[test]
    fn connector_errors_name_the_key() {
        let w = worker();
        let e = ConnectorConfig::parse(
            props(&[
                ("name", "x"),
                ("connector.class", "FileStreamSink"),
                ("topics", "t"),
                ("transforms", "c"),
                (
                    "transforms.c.type",
                    "org.apache.kafka.connect.transforms.Cast$Value",
                ),
            ]),
            &w,
            "f",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("\"spec\""),
            "a bad SMT config names its key: {e}"
        );
        // Source tasks apply transforms: a source's chain is accepted, and validated.
        let source = |t: &str| {
            ConnectorConfig::parse(
                props(&[
                    ("name", "x"),
                    ("connector.class", "FileStreamSource"),
                    ("topic", "t"),
                    ("transforms", "f"),
                    ("transforms.f.type", t),
                ]),
                &w,
                "f",
            )
        };
        assert!(source("Filter").is_ok());
        let e = source("Nope").unwrap_err().to_string();
        assert!(e.contains("transforms.f.type"), "{e}");
        let e = ConnectorConfig::parse(props(&[("name", "x")]), &w, "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"connector.class\""), "{e}");
        let e = ConnectorConfig::parse(
            props(&[("name", "x"), ("connector.class", "com.acme.Nope")]),
            &w,
            "f",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("connector.class") && e.contains("com.acme.Nope"),
            "{e}"
        );
        let e = ConnectorConfig::parse(
            props(&[("name", "x"), ("connector.class", "FileStreamSource")]),
            &w,
            "f",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("\"topic\""), "{e}");
        let e = ConnectorConfig::parse(
            props(&[("name", "x"), ("connector.class", "FileStreamSink")]),
            &w,
            "f",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("topics.regex"), "{e}");
        let e = ConnectorConfig::parse(
            props(&[
                ("name", "x"),
                ("connector.class", "FileStreamSink"),
                ("topics", "t"),
                ("tasks.max", "0"),
            ]),
            &w,
            "f",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("tasks.max"), "{e}");
    }

    #[test]
    fn reads_json_connector_files() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("c.json");
        std::fs::write(&p, r#"{"name":"n","config":{"connector.class":"FileStreamSink","tasks.max":2,"topics":"t"}}"#).expect("write");
        let props = read_props(&p).expect("read");
        assert_eq!(props["name"], "n");
        assert_eq!(props["tasks.max"], "2");
    }
}
