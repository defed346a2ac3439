//! The records of Kafka Connect's three internal topics, byte for byte as its internal
//! JsonConverter (schemas disabled) writes them: the config topic (`connector-`, `task-`,
//! `commit-`, `target-state-`, `session-key`, `restart-connector-`, `logger-cluster-`,
//! `tasks-fencing-`), the status topic (`status-connector-`, `status-task-`,
//! `status-topic-`) and the offsets topic (`["<connector>",{partition}]` → offset).

use serde_json::{Map, Value};
use sluice_codecs::json::write_string;

use super::java_order::{capacity_grown, hash_order, string_hash};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecordError {
    #[error("record {key}: value is not JSON: {message}")]
    Json { key: String, message: String },
    #[error("record {key}: {message}")]
    Shape { key: String, message: String },
}

/// `TargetState` as the config topic stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Started,
    Paused,
    Stopped,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Self::Started => "STARTED",
            Self::Paused => "PAUSED",
            Self::Stopped => "STOPPED",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "STARTED" => Some(Self::Started),
            "PAUSED" => Some(Self::Paused),
            "STOPPED" => Some(Self::Stopped),
            _ => None,
        }
    }
}

/// Properties in the order the worker holds them.
pub type Props = Vec<(String, String)>;

/// One record of the config topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigRecord {
    /// `None`: the connector was deleted (tombstone).
    Connector {
        name: String,
        props: Option<Props>,
    },
    Task {
        connector: String,
        task: u32,
        props: Props,
    },
    Commit {
        connector: String,
        tasks: u32,
    },
    /// `None`: tombstone (on delete).
    TargetState {
        connector: String,
        state: Option<Target>,
    },
    SessionKey {
        key: Vec<u8>,
        algorithm: String,
        created_ms: i64,
    },
    Restart {
        connector: String,
        include_tasks: bool,
        only_failed: bool,
    },
    LoggerLevel {
        namespace: String,
        level: String,
    },
    TaskCount {
        connector: String,
        count: u32,
    },
}

/// `{"k":"v",...}` in the given order.
pub(crate) fn props_json(out: &mut Vec<u8>, props: &Props) {
    out.push(b'{');
    for (i, (k, v)) in props.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, k);
        out.push(b':');
        write_string(out, v);
    }
    out.push(b'}');
}

/// A task's config as Kafka's worker builds it (a `HashMap` of the connector's task
/// properties plus `task.class`): the `HashMap`'s iteration order.
pub fn task_props_in_java_order(props: &Props) -> Props {
    // Last value wins for a repeated key, at the key's first place, as `HashMap.put` does.
    let mut merged: Props = Vec::with_capacity(props.len());
    for (k, v) in props {
        match merged.iter_mut().find(|(mk, _)| mk == k) {
            Some(slot) => slot.1 = v.clone(),
            None => merged.push((k.clone(), v.clone())),
        }
    }
    let n = merged.len();
    hash_order(
        &merged,
        |(k, _)| k.clone(),
        |(k, _)| string_hash(k),
        capacity_grown(n),
    )
}

impl ConfigRecord {
    pub fn key(&self) -> String {
        match self {
            Self::Connector { name, .. } => format!("connector-{name}"),
            Self::Task {
                connector, task, ..
            } => format!("task-{connector}-{task}"),
            Self::Commit { connector, .. } => format!("commit-{connector}"),
            Self::TargetState { connector, .. } => format!("target-state-{connector}"),
            Self::SessionKey { .. } => "session-key".into(),
            Self::Restart { connector, .. } => format!("restart-connector-{connector}"),
            Self::LoggerLevel { namespace, .. } => format!("logger-cluster-{namespace}"),
            Self::TaskCount { connector, .. } => format!("tasks-fencing-{connector}"),
        }
    }

    /// The value bytes; `None` is a tombstone.
    pub fn value(&self) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(128);
        match self {
            Self::Connector { props: None, .. } | Self::TargetState { state: None, .. } => {
                return None;
            }
            Self::Connector {
                props: Some(props), ..
            }
            | Self::Task { props, .. } => {
                out.extend_from_slice(b"{\"properties\":");
                props_json(&mut out, props);
                out.push(b'}');
            }
            Self::Commit { tasks, .. } => {
                out.extend_from_slice(format!("{{\"tasks\":{tasks}}}").as_bytes());
            }
            Self::TargetState { state: Some(s), .. } => {
                // Workers that predate STOPPED read `state`: they see PAUSED.
                let v1 = if *s == Target::Stopped {
                    Target::Paused
                } else {
                    *s
                };
                out.extend_from_slice(
                    format!(
                        "{{\"state\":\"{}\",\"state.v2\":\"{}\"}}",
                        v1.name(),
                        s.name()
                    )
                    .as_bytes(),
                );
            }
            Self::SessionKey {
                key,
                algorithm,
                created_ms,
            } => {
                out.extend_from_slice(b"{\"key\":");
                write_string(&mut out, &base64(key));
                out.extend_from_slice(b",\"algorithm\":");
                write_string(&mut out, algorithm);
                out.extend_from_slice(format!(",\"creation-timestamp\":{created_ms}}}").as_bytes());
            }
            Self::Restart {
                include_tasks,
                only_failed,
                ..
            } => {
                out.extend_from_slice(
                    format!("{{\"include-tasks\":{include_tasks},\"only-failed\":{only_failed}}}")
                        .as_bytes(),
                );
            }
            Self::LoggerLevel { level, .. } => {
                out.extend_from_slice(b"{\"level\":");
                write_string(&mut out, level);
                out.push(b'}');
            }
            Self::TaskCount { count, .. } => {
                out.extend_from_slice(format!("{{\"task-count\":{count}}}").as_bytes());
            }
        }
        Some(out)
    }

    /// Reads a record; `Ok(None)` for keys Kafka discards ("invalid key") and for records it
    /// ignores (a null task config, a null restart request).
    pub fn parse(key: &str, value: Option<&[u8]>) -> Result<Option<Self>, RecordError> {
        let json = match value {
            None => None,
            Some(v) => Some(
                serde_json::from_slice::<Value>(v).map_err(|e| RecordError::Json {
                    key: key.to_string(),
                    message: e.to_string(),
                })?,
            ),
        };
        let shape = |message: &str| RecordError::Shape {
            key: key.to_string(),
            message: message.to_string(),
        };
        let obj = json.as_ref().and_then(Value::as_object);
        if let Some(name) = key.strip_prefix("target-state-") {
            let Some(v) = json else {
                return Ok(Some(Self::TargetState {
                    connector: name.into(),
                    state: None,
                }));
            };
            let o = v
                .as_object()
                .ok_or_else(|| shape("target state is not an object"))?;
            let s = match o.get("state.v2") {
                Some(Value::String(s)) => s.as_str(),
                _ => o
                    .get("state")
                    .and_then(Value::as_str)
                    .ok_or_else(|| shape("no target state"))?,
            };
            let state = Target::parse(s).ok_or_else(|| shape("unknown target state"))?;
            return Ok(Some(Self::TargetState {
                connector: name.into(),
                state: Some(state),
            }));
        }
        if let Some(name) = key.strip_prefix("connector-") {
            if json.is_none() {
                return Ok(Some(Self::Connector {
                    name: name.into(),
                    props: None,
                }));
            }
            let props = value
                .and_then(properties)
                .ok_or_else(|| shape("no properties map"))?;
            return Ok(Some(Self::Connector {
                name: name.into(),
                props: Some(props),
            }));
        }
        if let Some(rest) = key.strip_prefix("task-") {
            let Some((connector, task)) = rest.rsplit_once('-') else {
                return Ok(None);
            };
            let Ok(task) = task.parse::<u32>() else {
                return Ok(None);
            };
            if json.is_none() {
                return Ok(None);
            }
            let props = value
                .and_then(properties)
                .ok_or_else(|| shape("no properties map"))?;
            return Ok(Some(Self::Task {
                connector: connector.into(),
                task,
                props,
            }));
        }
        if let Some(name) = key.strip_prefix("commit-") {
            let o = obj.ok_or_else(|| shape("commit record is not an object"))?;
            let tasks = int_field(o, "tasks").ok_or_else(|| shape("no task count"))?;
            return Ok(Some(Self::Commit {
                connector: name.into(),
                tasks,
            }));
        }
        if let Some(name) = key.strip_prefix("restart-connector-") {
            let Some(o) = obj else { return Ok(None) };
            let flag = |f: &str| o.get(f).and_then(Value::as_bool).unwrap_or(false);
            return Ok(Some(Self::Restart {
                connector: name.into(),
                include_tasks: flag("include-tasks"),
                only_failed: flag("only-failed"),
            }));
        }
        if let Some(name) = key.strip_prefix("tasks-fencing-") {
            let o = obj.ok_or_else(|| shape("task count record is not an object"))?;
            let count = int_field(o, "task-count").ok_or_else(|| shape("no task count"))?;
            return Ok(Some(Self::TaskCount {
                connector: name.into(),
                count,
            }));
        }
        if key == "session-key" {
            let o = obj.ok_or_else(|| shape("session key is not an object"))?;
            let key_b64 = o
                .get("key")
                .and_then(Value::as_str)
                .ok_or_else(|| shape("no key"))?;
            let bytes = unbase64(key_b64).ok_or_else(|| shape("key is not base64"))?;
            let algorithm = o
                .get("algorithm")
                .and_then(Value::as_str)
                .ok_or_else(|| shape("no algorithm"))?;
            let created_ms = o
                .get("creation-timestamp")
                .and_then(Value::as_i64)
                .ok_or_else(|| shape("no creation timestamp"))?;
            return Ok(Some(Self::SessionKey {
                key: bytes,
                algorithm: algorithm.into(),
                created_ms,
            }));
        }
        if let Some(ns) = key.strip_prefix("logger-cluster-") {
            let Some(o) = obj else { return Ok(None) };
            let Some(level) = o.get("level").and_then(Value::as_str) else {
                return Ok(None);
            };
            return Ok(Some(Self::LoggerLevel {
                namespace: ns.into(),
                level: level.into(),
            }));
        }
        Ok(None)
    }
}

fn int_field(o: &Map<String, Value>, f: &str) -> Option<u32> {
    o.get(f)
        .and_then(Value::as_i64)
        .and_then(|n| u32::try_from(n).ok())
}

/// `{"properties":{...}}` read in the order written (serde_json's map would sort it); a
/// null value (possible in Kafka's schema, never written by the REST API) is left out.
fn properties(raw: &[u8]) -> Option<Props> {
    #[derive(serde::Deserialize)]
    struct Wrapper {
        properties: PropsInOrder,
    }
    serde_json::from_slice::<Wrapper>(raw)
        .ok()
        .map(|w| w.properties.0)
}

/// A JSON object of strings read in its written order (serde_json's map would sort it).
pub(crate) struct PropsInOrder(pub(crate) Props);

impl<'de> serde::Deserialize<'de> for PropsInOrder {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = PropsInOrder;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of string properties")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<PropsInOrder, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Option<String>>()? {
                    match v {
                        Some(v) => out.push((k, v)),
                        None => tracing::warn!("config record property {k} is null; left out"),
                    }
                }
                Ok(PropsInOrder(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// A status value (`status-connector-*`, `status-task-*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusValue {
    pub state: String,
    pub trace: Option<String>,
    pub worker_id: String,
    pub generation: i32,
    pub version: Option<String>,
}

impl StatusValue {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        out.extend_from_slice(b"{\"state\":");
        write_string(&mut out, &self.state);
        out.extend_from_slice(b",\"trace\":");
        match &self.trace {
            Some(t) => write_string(&mut out, t),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"worker_id\":");
        write_string(&mut out, &self.worker_id);
        out.extend_from_slice(format!(",\"generation\":{}", self.generation).as_bytes());
        out.extend_from_slice(b",\"version\":");
        match &self.version {
            Some(v) => write_string(&mut out, v),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
        out
    }

    pub fn parse(key: &str, value: &[u8]) -> Result<Self, RecordError> {
        let v: Value = serde_json::from_slice(value).map_err(|e| RecordError::Json {
            key: key.to_string(),
            message: e.to_string(),
        })?;
        let shape = |message: &str| RecordError::Shape {
            key: key.to_string(),
            message: message.to_string(),
        };
        let o = v
            .as_object()
            .ok_or_else(|| shape("status is not an object"))?;
        let text = |f: &str| o.get(f).and_then(Value::as_str).map(str::to_string);
        Ok(Self {
            state: text("state").ok_or_else(|| shape("no state"))?,
            trace: text("trace"),
            worker_id: text("worker_id").ok_or_else(|| shape("no worker_id"))?,
            generation: o
                .get("generation")
                .and_then(Value::as_i64)
                .and_then(|g| i32::try_from(g).ok())
                .ok_or_else(|| shape("no generation"))?,
            version: text("version"),
        })
    }
}

pub fn connector_status_key(connector: &str) -> String {
    format!("status-connector-{connector}")
}

pub fn task_status_key(connector: &str, task: u32) -> String {
    format!("status-task-{connector}-{task}")
}

pub fn topic_status_key(topic: &str, connector: &str) -> String {
    format!("status-topic-{topic}:connector-{connector}")
}

/// `{"topic":{"name":..,"connector":..,"task":..,"discoverTimestamp":..}}`.
pub fn topic_status_value(topic: &str, connector: &str, task: u32, discovered_ms: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(96);
    out.extend_from_slice(b"{\"topic\":{\"name\":");
    write_string(&mut out, topic);
    out.extend_from_slice(b",\"connector\":");
    write_string(&mut out, connector);
    out.extend_from_slice(
        format!(",\"task\":{task},\"discoverTimestamp\":{discovered_ms}}}}}").as_bytes(),
    );
    out
}

/// What a status-topic key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusKey {
    Connector(String),
    Task(String, u32),
    Topic { topic: String, connector: String },
}

impl StatusKey {
    pub fn parse(key: &str) -> Option<Self> {
        if let Some(c) = key.strip_prefix("status-connector-") {
            return (!c.is_empty()).then(|| Self::Connector(c.to_string()));
        }
        if let Some(rest) = key.strip_prefix("status-task-") {
            let (c, t) = rest.rsplit_once('-')?;
            let t = t.parse().ok()?;
            return (!c.is_empty()).then(|| Self::Task(c.to_string(), t));
        }
        if let Some(rest) = key.strip_prefix("status-topic-") {
            let (topic, after) = rest.split_once(':')?;
            let connector = after.get(":connector-".len() - 1..)?;
            return (!topic.is_empty() && !connector.is_empty()).then(|| Self::Topic {
                topic: topic.to_string(),
                connector: connector.to_string(),
            });
        }
        None
    }
}

/// Writes a JSON value compactly, as Jackson does (object entries in the map's order).
pub fn write_json(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.extend_from_slice(i.to_string().as_bytes());
            } else if let Some(u) = n.as_u64() {
                out.extend_from_slice(u.to_string().as_bytes());
            } else if let Some(f) = n.as_f64() {
                sluice_codecs::java::write_double(out, f);
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(out, x);
            }
            out.push(b']');
        }
        Value::Object(o) => write_object(out, o),
    }
}

fn write_object(out: &mut Vec<u8>, o: &Map<String, Value>) {
    out.push(b'{');
    for (i, (k, x)) in o.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, k);
        out.push(b':');
        write_json(out, x);
    }
    out.push(b'}');
}

/// Offsets topic key: `["<connector>",{partition}]`.
pub fn offset_key(connector: &str, partition: &Map<String, Value>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(b'[');
    write_string(&mut out, connector);
    out.push(b',');
    write_object(&mut out, partition);
    out.push(b']');
    out
}

/// Offsets topic value (`None`: tombstone).
pub fn offset_value(offset: Option<&Map<String, Value>>) -> Option<Vec<u8>> {
    offset.map(|o| {
        let mut out = Vec::with_capacity(32);
        write_object(&mut out, o);
        out
    })
}

/// Reads an offsets-topic key: `Some((connector, partition))` for a well-formed one.
pub fn parse_offset_key(key: &[u8]) -> Option<(String, Map<String, Value>)> {
    let v: Value = serde_json::from_slice(key).ok()?;
    let a = v.as_array()?;
    if a.len() != 2 {
        return None;
    }
    Some((a[0].as_str()?.to_string(), a[1].as_object()?.clone()))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (`java.util.Base64.getEncoder()`).
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn unbase64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = B64.iter().position(|&b| b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(r: &ConfigRecord) -> String {
        String::from_utf8(r.value().unwrap()).unwrap()
    }

    fn props(list: &[(&str, &str)]) -> Props {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // Values below are copied from the reference transcript's config topic.
    #[test]
    fn config_records_equal_the_reference_bytes() {
        let sink = props(&[
            ("connector.class", "FileStreamSink"),
            ("tasks.max", "2"),
            ("topics", "sink-in"),
            ("file", "/tmp/connect-run1/sink1.out"),
            ("name", "sink1"),
        ]);
        let c = ConfigRecord::Connector {
            name: "sink1".into(),
            props: Some(sink.clone()),
        };
        assert_eq!(c.key(), "connector-sink1");
        assert_eq!(
            text(&c),
            r#"{"properties":{"connector.class":"FileStreamSink","tasks.max":"2","topics":"sink-in","file":"/tmp/connect-run1/sink1.out","name":"sink1"}}"#
        );
        let mut task = sink.clone();
        task.push((
            "task.class".into(),
            "org.apache.kafka.connect.file.FileStreamSinkTask".into(),
        ));
        let t = ConfigRecord::Task {
            connector: "sink1".into(),
            task: 0,
            props: task_props_in_java_order(&task),
        };
        assert_eq!(t.key(), "task-sink1-0");
        assert_eq!(
            text(&t),
            r#"{"properties":{"connector.class":"FileStreamSink","file":"/tmp/connect-run1/sink1.out","task.class":"org.apache.kafka.connect.file.FileStreamSinkTask","tasks.max":"2","topics":"sink-in","name":"sink1"}}"#
        );
        let src = props(&[
            ("connector.class", "FileStreamSource"),
            ("tasks.max", "1"),
            ("topic", "src-out"),
            ("file", "/tmp/connect-run1/src1.in"),
            ("name", "src1"),
            (
                "task.class",
                "org.apache.kafka.connect.file.FileStreamSourceTask",
            ),
        ]);
        assert_eq!(
            text(&ConfigRecord::Task {
                connector: "src1".into(),
                task: 0,
                props: task_props_in_java_order(&src)
            }),
            r#"{"properties":{"connector.class":"FileStreamSource","file":"/tmp/connect-run1/src1.in","task.class":"org.apache.kafka.connect.file.FileStreamSourceTask","tasks.max":"1","name":"src1","topic":"src-out"}}"#
        );
        assert_eq!(
            text(&ConfigRecord::Commit {
                connector: "sink1".into(),
                tasks: 2
            }),
            r#"{"tasks":2}"#
        );
        let stop = ConfigRecord::TargetState {
            connector: "src1".into(),
            state: Some(Target::Stopped),
        };
        assert_eq!(stop.key(), "target-state-src1");
        assert_eq!(text(&stop), r#"{"state":"PAUSED","state.v2":"STOPPED"}"#);
        assert_eq!(
            text(&ConfigRecord::Restart {
                connector: "sink1".into(),
                include_tasks: true,
                only_failed: false
            }),
            r#"{"include-tasks":true,"only-failed":false}"#
        );
        assert_eq!(
            text(&ConfigRecord::LoggerLevel {
                namespace: "org.apache.kafka.connect.file".into(),
                level: "DEBUG".into()
            }),
            r#"{"level":"DEBUG"}"#
        );
        let key = unbase64("PQTPG/0cavHLiJJ12XG23sTokFEB7Npe/XoHnyI3twE=").unwrap();
        assert_eq!(key.len(), 32);
        let sk = ConfigRecord::SessionKey {
            key,
            algorithm: "HmacSHA256".into(),
            created_ms: 1_796_157_941_426,
        };
        assert_eq!(
            text(&sk),
            r#"{"key":"PQTPG/0cavHLiJJ12XG23sTokFEB7Npe/XoHnyI3twE=","algorithm":"HmacSHA256","creation-timestamp":1796157941426}"#
        );
        assert!(
            ConfigRecord::Connector {
                name: "x".into(),
                props: None
            }
            .value()
            .is_none()
        );
    }

    #[test]
    fn config_records_parse_back_in_order() {
        let raw = br#"{"properties":{"connector.class":"FileStreamSink","tasks.max":"2","topics":"sink-in","file":"/f","name":"sink1"}}"#;
        let r = ConfigRecord::parse("connector-sink1", Some(raw))
            .unwrap()
            .unwrap();
        assert_eq!(
            String::from_utf8(r.value().unwrap()).unwrap().as_bytes(),
            raw
        );
        let t = ConfigRecord::parse("task-my-conn-12", Some(raw))
            .unwrap()
            .unwrap();
        assert!(
            matches!(t, ConfigRecord::Task { ref connector, task: 12, .. } if connector == "my-conn")
        );
        assert_eq!(
            ConfigRecord::parse("target-state-a", Some(br#"{"state":"PAUSED"}"#)).unwrap(),
            Some(ConfigRecord::TargetState {
                connector: "a".into(),
                state: Some(Target::Paused)
            })
        );
        assert_eq!(ConfigRecord::parse("bogus", Some(b"{}")).unwrap(), None);
        assert!(matches!(
            ConfigRecord::parse("commit-a", Some(b"{")),
            Err(RecordError::Json { .. })
        ));
        assert_eq!(
            ConfigRecord::parse(
                "session-key",
                Some(br#"{"key":"AAEC","algorithm":"HmacSHA256","creation-timestamp":5}"#)
            )
            .unwrap(),
            Some(ConfigRecord::SessionKey {
                key: vec![0, 1, 2],
                algorithm: "HmacSHA256".into(),
                created_ms: 5
            })
        );
    }

    #[test]
    fn status_and_offset_records_equal_the_reference_bytes() {
        let s = StatusValue {
            state: "RUNNING".into(),
            trace: None,
            worker_id: "127.0.0.1:28083".into(),
            generation: 2,
            version: Some("4.3.0".into()),
        };
        assert_eq!(
            String::from_utf8(s.to_bytes()).unwrap(),
            r#"{"state":"RUNNING","trace":null,"worker_id":"127.0.0.1:28083","generation":2,"version":"4.3.0"}"#
        );
        assert_eq!(StatusValue::parse("k", &s.to_bytes()).unwrap(), s);
        assert_eq!(task_status_key("sink1", 1), "status-task-sink1-1");
        assert_eq!(
            StatusKey::parse("status-task-my-conn-3"),
            Some(StatusKey::Task("my-conn".into(), 3))
        );
        assert_eq!(
            StatusKey::parse(&topic_status_key("sink-in", "sink1")),
            Some(StatusKey::Topic {
                topic: "sink-in".into(),
                connector: "sink1".into()
            })
        );
        assert_eq!(
            String::from_utf8(topic_status_value("src-out", "src1", 0, 1_796_158_103_599)).unwrap(),
            r#"{"topic":{"name":"src-out","connector":"src1","task":0,"discoverTimestamp":1796158103599}}"#
        );
        let mut part = Map::new();
        part.insert("filename".into(), Value::from("/tmp/connect-run1/src1.in"));
        let mut off = Map::new();
        off.insert("position".into(), Value::from(21));
        assert_eq!(
            String::from_utf8(offset_key("src1", &part)).unwrap(),
            r#"["src1",{"filename":"/tmp/connect-run1/src1.in"}]"#
        );
        assert_eq!(offset_value(Some(&off)).unwrap(), br#"{"position":21}"#);
        assert_eq!(
            parse_offset_key(&offset_key("src1", &part)),
            Some(("src1".to_string(), part))
        );
    }

    #[test]
    fn base64_round_trips() {
        for n in 0..40u8 {
            let b: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(unbase64(&base64(&b)).unwrap(), b);
        }
        assert_eq!(base64(b"ab"), "YWI=");
    }
}
