//! `sluice pipe`: runs records through a connector's converters (and, as they land, its
//! transformation chain) offline, in the line formats of the conformance corpus:
//! configure → key, value, header converters in → transforms → header, key, value
//! converters out; the first failure is the outcome.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value as Json, json};
use sluice_codecs::error::ConnectError;
use sluice_codecs::reference::{RefConverter, RefHeaderConverter};
use sluice_codecs::schema::ConnectSchema;
use sluice_codecs::value::Value;

use crate::config::{DEFAULT_CONVERTER, sub_props};

/// One input record (`input` in the corpus format).
#[derive(Debug, Clone)]
pub struct PipeRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<i64>,
    pub timestamp_type: String,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// What happened to a record (`expect` in the corpus format).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Record(PipeRecord),
    Dropped,
    Error {
        stage: &'static str,
        exception: &'static str,
        message: Option<String>,
    },
}

impl PartialEq for PipeRecord {
    fn eq(&self, o: &Self) -> bool {
        (self.topic == o.topic)
            && self.partition == o.partition
            && self.timestamp == o.timestamp
            && self.key == o.key
            && self.value == o.value
            && self.headers == o.headers
    }
}

fn bytes_to_json(b: &Option<Vec<u8>>) -> Json {
    match b {
        None => Json::Null,
        Some(b) => match std::str::from_utf8(b) {
            Ok(s) => json!({"utf8": s}),
            Err(_) => {
                let mut out = Vec::new();
                sluice_codecs::connect_json::base64_encode(b, &mut out);
                json!({"base64": String::from_utf8_lossy(&out)})
            }
        },
    }
}

/// Decodes a corpus `BYTES` value.
pub fn json_to_bytes(v: &Json) -> Result<Option<Vec<u8>>, String> {
    match v {
        Json::Null => Ok(None),
        Json::Object(m) => {
            if let Some(Json::String(s)) = m.get("utf8") {
                Ok(Some(s.as_bytes().to_vec()))
            } else if let Some(Json::String(s)) = m.get("base64") {
                sluice_codecs::connect_json::base64_decode(s)
                    .map(Some)
                    .ok_or_else(|| format!("invalid base64 {s:?}"))
            } else {
                Err(format!(
                    "expected {{\"utf8\"}} or {{\"base64\"}}, found {v}"
                ))
            }
        }
        other => Err(format!("expected bytes, found {other}")),
    }
}

impl Outcome {
    pub fn to_json(&self) -> Json {
        match self {
            Outcome::Dropped => json!({"dropped": true}),
            Outcome::Error {
                stage,
                exception,
                message,
            } => json!({"error": {"stage": stage, "exception": exception, "message": message}}),
            Outcome::Record(r) => json!({
                "topic": r.topic,
                "partition": r.partition,
                "timestamp": r.timestamp,
                "key": bytes_to_json(&r.key),
                "value": bytes_to_json(&r.value),
                "headers": r.headers.iter().map(|(k, v)| json!({"key": k, "value": bytes_to_json(v)})).collect::<Vec<_>>(),
            }),
        }
    }
}

impl PipeRecord {
    pub fn from_json(v: &Json) -> Result<Self, String> {
        let o = v.as_object().ok_or("input must be an object")?;
        let headers = match o.get("headers") {
            None | Some(Json::Null) => vec![],
            Some(Json::Array(hs)) => hs
                .iter()
                .map(|h| {
                    Ok((
                        h.get("key")
                            .and_then(Json::as_str)
                            .ok_or("header without key")?
                            .to_string(),
                        json_to_bytes(h.get("value").unwrap_or(&Json::Null))?,
                    ))
                })
                .collect::<Result<_, String>>()?,
            Some(other) => return Err(format!("headers must be an array, found {other}")),
        };
        let timestamp = o
            .get("timestamp")
            .and_then(Json::as_i64)
            .filter(|t| *t >= 0);
        Ok(Self {
            topic: o
                .get("topic")
                .and_then(Json::as_str)
                .unwrap_or("topic")
                .to_string(),
            partition: o.get("partition").and_then(Json::as_i64).unwrap_or(0) as i32,
            offset: o.get("offset").and_then(Json::as_i64).unwrap_or(0),
            timestamp,
            timestamp_type: o
                .get("timestamp_type")
                .and_then(Json::as_str)
                .unwrap_or("CreateTime")
                .to_string(),
            key: json_to_bytes(o.get("key").unwrap_or(&Json::Null))?,
            value: json_to_bytes(o.get("value").unwrap_or(&Json::Null))?,
            headers,
        })
    }
}

fn err(stage: &'static str, e: ConnectError) -> Outcome {
    Outcome::Error {
        stage,
        exception: e.exception,
        message: e.message,
    }
}

const SIMPLE_HEADER_CONVERTER: &str = "org.apache.kafka.connect.storage.SimpleHeaderConverter";

struct Converters {
    key: RefConverter,
    value: RefConverter,
    header: RefHeaderConverter,
}

fn configure(props: &HashMap<String, String>) -> Result<Converters, ConnectError> {
    let class = |role: &str| {
        props
            .get(role)
            .cloned()
            .unwrap_or_else(|| DEFAULT_CONVERTER.to_string())
    };
    let key = RefConverter::configure(
        "key.converter",
        &class("key.converter"),
        &sub_props(props, "key.converter"),
    )?;
    let value = RefConverter::configure(
        "value.converter",
        &class("value.converter"),
        &sub_props(props, "value.converter"),
    )?;
    let header_class = props
        .get("header.converter")
        .cloned()
        .unwrap_or_else(|| SIMPLE_HEADER_CONVERTER.into());
    let mut header_props = sub_props(props, "header.converter");
    header_props.insert("converter.type".into(), "header".into());
    let header = RefHeaderConverter::configure(&header_class, &header_props)?;
    Ok(Converters { key, value, header })
}

/// Runs one record through a connector config (`out` names different output converters).
pub fn run(
    config: &HashMap<String, String>,
    out: Option<&HashMap<String, String>>,
    input: &PipeRecord,
) -> Outcome {
    let inbound = match configure(config) {
        Ok(c) => c,
        Err(e) => return err("CONFIG", e),
    };
    let outbound = match out {
        None => None,
        Some(o) => {
            // Roles the output side does not name keep the input side's converter.
            let mut merged: HashMap<String, String> = HashMap::new();
            for role in ["key.converter", "value.converter", "header.converter"] {
                let source = if o.contains_key(role) { o } else { config };
                for (k, v) in source
                    .iter()
                    .filter(|(k, _)| *k == role || k.starts_with(&format!("{role}.")))
                {
                    merged.insert(k.clone(), v.clone());
                }
            }
            match configure(&merged) {
                Ok(c) => Some(c),
                Err(e) => return err("CONFIG", e),
            }
        }
    };
    let chain = match sluice_smt::Chain::configure(config) {
        Ok(c) => c,
        Err(e) => return err("CONFIG", e),
    };
    let outbound = outbound.as_ref().unwrap_or(&inbound);

    let (key_schema, key) = match inbound.key.to_connect(input.key.as_deref()) {
        Ok(kv) => kv,
        Err(e) => return err("KEY_CONVERTER", e),
    };
    let (value_schema, value) = match inbound.value.to_connect(input.value.as_deref()) {
        Ok(kv) => kv,
        Err(e) => return err("VALUE_CONVERTER", e),
    };
    let headers = match convert_headers_in(&inbound.header, &input.headers) {
        Ok(h) => h,
        Err(e) => return err("HEADER_CONVERTER", e),
    };
    let record = sluice_smt::ConnectRecord {
        topic: input.topic.clone(),
        original_topic: input.topic.clone(),
        partition: input.partition,
        offset: input.offset,
        timestamp: input.timestamp,
        timestamp_type: input.timestamp_type.clone(),
        key_schema,
        key,
        value_schema,
        value,
        headers: headers
            .into_iter()
            .map(|(key, schema, value)| sluice_smt::Header { key, schema, value })
            .collect(),
    };
    let record = match chain.apply(record) {
        Ok(Some(r)) => r,
        Ok(None) => return Outcome::Dropped,
        Err(e) => return err("TRANSFORMATION", e),
    };
    let headers: Vec<ConnectHeader> = record
        .headers
        .iter()
        .map(|h| (h.key.clone(), h.schema.clone(), h.value.clone()))
        .collect();
    let headers_out = match convert_headers_out(&outbound.header, &headers) {
        Ok(h) => h,
        Err(e) => return err("HEADER_CONVERTER", e),
    };
    let key_out = match outbound
        .key
        .from_connect(record.key_schema.as_deref(), &record.key)
    {
        Ok(b) => b,
        Err(e) => return err("KEY_CONVERTER", e),
    };
    let value_out = match outbound
        .value
        .from_connect(record.value_schema.as_deref(), &record.value)
    {
        Ok(b) => b,
        Err(e) => return err("VALUE_CONVERTER", e),
    };
    Outcome::Record(PipeRecord {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        timestamp: record.timestamp,
        timestamp_type: record.timestamp_type,
        key: key_out,
        value: value_out,
        headers: headers_out,
    })
}

type ConnectHeader = (String, Option<Arc<ConnectSchema>>, Value);
type RawHeader = (String, Option<Vec<u8>>);

fn convert_headers_in(
    conv: &RefHeaderConverter,
    headers: &[RawHeader],
) -> Result<Vec<ConnectHeader>, ConnectError> {
    headers
        .iter()
        .map(|(k, v)| {
            conv.to_connect(v.as_deref())
                .map(|(s, v)| (k.clone(), s, v))
        })
        .collect()
}

fn convert_headers_out(
    conv: &RefHeaderConverter,
    headers: &[ConnectHeader],
) -> Result<Vec<RawHeader>, ConnectError> {
    headers
        .iter()
        .map(|(k, s, v)| conv.from_connect(s.as_deref(), v).map(|b| (k.clone(), b)))
        .collect()
}

/// Parses a flat string map (`connector_config`, `out_converters`).
pub fn string_map(v: &Json) -> Result<HashMap<String, String>, String> {
    let o: &Map<String, Json> = v.as_object().ok_or("expected an object of strings")?;
    Ok(o.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            )
        })
        .collect())
}

/// Runs one corpus case line: `{"id": .., "actual": <outcome>}`.
pub fn run_case_line(line: &str) -> Result<(String, Outcome), String> {
    let case: Json =
        serde_json::from_str(line).map_err(|e| format!("not a JSON case line: {e}"))?;
    let id = case
        .get("id")
        .and_then(Json::as_str)
        .unwrap_or("?")
        .to_string();
    let config = string_map(
        case.get("connector_config")
            .ok_or("case without connector_config")?,
    )?;
    let out = case.get("out_converters").map(string_map).transpose()?;
    let input = PipeRecord::from_json(case.get("input").ok_or("case without input")?)?;
    Ok((id, run(&config, out.as_ref(), &input)))
}
