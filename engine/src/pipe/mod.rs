//! `sluice pipe`: runs records offline through the production pipeline
//! ([`sluice_smt::Pipeline`]), in the line formats of the conformance corpus: configure →
//! key, value, header converters in → transforms → header, key, value converters out; a
//! record's first failure is its outcome.

use std::collections::HashMap;

use serde_json::{Map, Value as Json, json};
use sluice_codecs::error::ConnectError;
use sluice_codecs::model::record::timestamp_type;
use sluice_codecs::registry::{SchemaKind, SchemaRegistry, SubjectVersion};
use sluice_codecs::{RawBatchBuilder, RawHeader};
use sluice_smt::Pipeline;
use sluice_smt::reference::RecordOutcome;

pub mod compare;

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

/// Encodes corpus `BYTES`: `{"utf8"}` when valid UTF-8, else `{"base64"}`, or null.
pub(crate) fn bytes_to_json(b: &Option<Vec<u8>>) -> Json {
    match b {
        None => Json::Null,
        Some(b) => match std::str::from_utf8(b) {
            Ok(s) => json!({"utf8": s}),
            Err(_) => {
                let mut out = Vec::new();
                sluice_codecs::json::connect::base64_encode(b, &mut out);
                json!({"base64": String::from_utf8_lossy(&out)})
            }
        },
    }
}

/// Why a case line (the corpus format, `../shared/conformance/README.md`) cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("not a JSON case line: {0}")]
    NotJson(#[from] serde_json::Error),
    /// A required member is absent (`case without input`, `header without key`).
    #[error("{within} without {member}")]
    Missing {
        within: &'static str,
        member: String,
    },
    /// A member has another shape than the format gives it.
    #[error("{member}: expected {expected}, found {found}")]
    Shape {
        member: &'static str,
        expected: &'static str,
        found: String,
    },
    #[error("invalid base64 {0:?}")]
    Base64(String),
}

impl CaseError {
    fn missing(within: &'static str, member: &str) -> Self {
        CaseError::Missing {
            within,
            member: member.to_string(),
        }
    }
}

/// Decodes a corpus `BYTES` value.
pub fn json_to_bytes(v: &Json) -> Result<Option<Vec<u8>>, CaseError> {
    match v {
        Json::Null => Ok(None),
        Json::Object(m) => {
            if let Some(Json::String(s)) = m.get("utf8") {
                Ok(Some(s.as_bytes().to_vec()))
            } else if let Some(Json::String(s)) = m.get("base64") {
                sluice_codecs::json::connect::base64_decode(s)
                    .map(Some)
                    .ok_or_else(|| CaseError::Base64(s.clone()))
            } else {
                Err(CaseError::Shape {
                    member: "bytes",
                    expected: "{\"utf8\"} or {\"base64\"}",
                    found: v.to_string(),
                })
            }
        }
        other => Err(CaseError::Shape {
            member: "bytes",
            expected: "null, {\"utf8\"} or {\"base64\"}",
            found: other.to_string(),
        }),
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
    pub fn from_json(v: &Json) -> Result<Self, CaseError> {
        let o = v.as_object().ok_or_else(|| CaseError::Shape {
            member: "input",
            expected: "an object",
            found: v.to_string(),
        })?;
        let headers = match o.get("headers") {
            None | Some(Json::Null) => vec![],
            Some(Json::Array(hs)) => hs
                .iter()
                .map(|h| {
                    Ok((
                        h.get("key")
                            .and_then(Json::as_str)
                            .ok_or_else(|| CaseError::missing("header", "key"))?
                            .to_string(),
                        json_to_bytes(h.get("value").unwrap_or(&Json::Null))?,
                    ))
                })
                .collect::<Result<_, CaseError>>()?,
            Some(other) => {
                return Err(CaseError::Shape {
                    member: "headers",
                    expected: "an array",
                    found: other.to_string(),
                });
            }
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

/// Runs one record through a connector config (`out` names different output converters),
/// with a pipeline of its own, as the corpus defines each case.
pub fn run(
    config: &HashMap<String, String>,
    out: Option<&HashMap<String, String>>,
    input: &PipeRecord,
) -> Outcome {
    run_group(config, out, std::slice::from_ref(input))
        .pop()
        .unwrap_or(Outcome::Dropped)
}

/// Runs records sharing one connector config as one batch through a pipeline of their own;
/// a config that fails fails every record at `CONFIG`.
pub fn run_group(
    config: &HashMap<String, String>,
    out: Option<&HashMap<String, String>>,
    inputs: &[PipeRecord],
) -> Vec<Outcome> {
    match Pipeline::configure(config, out) {
        Ok(mut pipeline) => run_records(&mut pipeline, inputs),
        Err(e) => inputs.iter().map(|_| err("CONFIG", e.clone())).collect(),
    }
}

fn timestamp_type_code(name: &str) -> i8 {
    match name {
        "CreateTime" => timestamp_type::CREATE_TIME,
        "LogAppendTime" => timestamp_type::LOG_APPEND_TIME,
        _ => timestamp_type::NO_TIMESTAMP_TYPE,
    }
}

/// Runs records as one batch through the pipeline, as a task would; one outcome per input,
/// in order.
pub fn run_records(pipeline: &mut Pipeline, inputs: &[PipeRecord]) -> Vec<Outcome> {
    let mut builder = RawBatchBuilder::with_capacity(inputs.len());
    for r in inputs {
        builder.append(
            &r.topic,
            r.partition,
            r.offset,
            r.timestamp,
            timestamp_type_code(&r.timestamp_type),
            r.key.as_deref(),
            r.value.as_deref(),
            r.headers.iter().map(|(key, value)| RawHeader {
                key,
                value: value.as_deref(),
            }),
        );
    }
    let raw = builder.finish();
    let encoded = pipeline
        .decode(&raw)
        .and_then(|d| pipeline.transform(d))
        .and_then(|t| pipeline.encode(&t));
    let encoded = match encoded {
        Ok(e) => e,
        Err(e) => {
            let message = e.to_string();
            return inputs
                .iter()
                .map(|_| Outcome::Error {
                    stage: "PIPELINE",
                    exception: "org.apache.kafka.connect.errors.ConnectException",
                    message: Some(message.clone()),
                })
                .collect();
        }
    };
    encoded
        .outcomes(inputs.len())
        .into_iter()
        .zip(inputs)
        .map(|(o, input)| match o {
            RecordOutcome::Dropped => Outcome::Dropped,
            RecordOutcome::Failed {
                stage,
                exception,
                message,
            } => Outcome::Error {
                stage: stage.as_str(),
                exception: intern(&exception),
                message,
            },
            RecordOutcome::Record {
                topic,
                partition,
                timestamp,
                key,
                value,
                headers,
            } => Outcome::Record(PipeRecord {
                topic,
                partition,
                offset: input.offset,
                timestamp,
                timestamp_type: input.timestamp_type.clone(),
                key,
                value,
                headers,
            }),
        })
        .collect()
}

/// A stage or exception class name as the static string `Outcome` keeps: each distinct
/// name is leaked once (there are a few dozen), so long differential runs do not grow.
pub(crate) fn intern(name: &str) -> &'static str {
    static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut names = NAMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = names.iter().find(|n| **n == name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.push(leaked);
    leaked
}

/// Parses a flat string map (`connector_config`, `out_converters`).
pub fn string_map(v: &Json) -> Result<HashMap<String, String>, CaseError> {
    let o: &Map<String, Json> = v.as_object().ok_or_else(|| CaseError::Shape {
        member: "config",
        expected: "an object of strings",
        found: v.to_string(),
    })?;
    Ok(o.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            )
        })
        .collect())
}

/// One corpus case run: its id, outcome and, for cases naming a `mock://` Schema Registry,
/// what that registry holds afterwards (`expect_registry`'s shape).
#[derive(Debug, Clone)]
pub struct CaseRun {
    pub id: String,
    pub outcome: Outcome,
    pub registry: Option<Json>,
}

impl CaseRun {
    /// The result line's `actual`: the outcome, plus `registry` when there is one.
    pub fn actual_json(&self) -> Json {
        let mut actual = self.outcome.to_json();
        if let (Some(r), Json::Object(o)) = (&self.registry, &mut actual) {
            o.insert("registry".into(), r.clone());
        }
        actual
    }
}

/// The `mock://` scopes a case's converters name.
fn mock_scopes<'a>(configs: impl IntoIterator<Item = &'a HashMap<String, String>>) -> Vec<String> {
    let mut scopes: Vec<String> = configs
        .into_iter()
        .flat_map(|c| c.iter())
        .filter(|(k, _)| k.ends_with("schema.registry.url"))
        .filter_map(|(_, v)| {
            v.split(',')
                .next()?
                .trim()
                .strip_prefix("mock://")
                .map(str::to_string)
        })
        .collect();
    scopes.sort();
    scopes.dedup();
    scopes
}

/// Registry content as the corpus writes it: `[{"subject","version","id","schemaType","schema"}]`.
pub fn registry_json(entries: &[SubjectVersion]) -> Json {
    Json::Array(
        entries
            .iter()
            .map(|e| {
                json!({"subject": e.subject, "version": e.version, "id": e.id,
                       "schemaType": e.kind.as_str(), "schema": e.schema})
            })
            .collect(),
    )
}

/// Parses a corpus `registry` list.
pub fn registry_entries(v: &Json) -> Result<Vec<SubjectVersion>, CaseError> {
    let list = v.as_array().ok_or_else(|| CaseError::Shape {
        member: "registry",
        expected: "a list",
        found: v.to_string(),
    })?;
    list.iter()
        .map(|e| {
            let text = |k: &str| {
                e.get(k)
                    .and_then(Json::as_str)
                    .ok_or_else(|| CaseError::missing("registry entry", k))
            };
            let int = |k: &str| {
                e.get(k)
                    .and_then(Json::as_i64)
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(|| CaseError::missing("registry entry", k))
            };
            Ok(SubjectVersion {
                subject: text("subject")?.to_string(),
                version: int("version")?,
                id: int("id")?,
                kind: {
                    let kind = text("schemaType")?;
                    SchemaKind::parse(kind).ok_or_else(|| CaseError::Shape {
                        member: "schemaType",
                        expected: "AVRO, PROTOBUF or JSON",
                        found: kind.to_string(),
                    })?
                },
                schema: text("schema")?.to_string(),
            })
        })
        .collect()
}

/// Runs one corpus case line; a `registry` in the case seeds the `mock://` scopes its
/// converters name (emptied first: each case has a registry of its own).
pub fn run_case(line: &str) -> Result<CaseRun, CaseError> {
    let case: Json = serde_json::from_str(line)?;
    let id = case
        .get("id")
        .and_then(Json::as_str)
        .unwrap_or("?")
        .to_string();
    let config = string_map(
        case.get("connector_config")
            .ok_or_else(|| CaseError::missing("case", "connector_config"))?,
    )?;
    let out = case.get("out_converters").map(string_map).transpose()?;
    let input = PipeRecord::from_json(
        case.get("input")
            .ok_or_else(|| CaseError::missing("case", "input"))?,
    )?;
    let scopes = mock_scopes(std::iter::once(&config).chain(out.as_ref()));
    let seed = case.get("registry").map(registry_entries).transpose()?;
    for scope in &scopes {
        let registry = sluice_codecs::registry::mock_scope(scope);
        registry.clear();
        for e in seed.iter().flatten() {
            registry.insert(e.clone());
        }
    }
    let outcome = run(&config, out.as_ref(), &input);
    let registry = match (scopes.first(), &seed) {
        (Some(scope), _) => Some(registry_json(
            &sluice_codecs::registry::mock_scope(scope).contents(),
        )),
        (None, Some(_)) => Some(Json::Array(Vec::new())),
        (None, None) => None,
    };
    Ok(CaseRun {
        id,
        outcome,
        registry,
    })
}

/// Runs one corpus case line: `(id, outcome)`.
pub fn run_case_line(line: &str) -> Result<(String, Outcome), CaseError> {
    run_case(line).map(|r| (r.id, r.outcome))
}
