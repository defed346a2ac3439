//! `io.confluent.connect.protobuf.ProtobufConverter`: its settings (the serde keys, the
//! Protobuf serializer/deserializer keys and `ProtobufDataConfig`, checked as Confluent's
//! `ConfigDef`s check them) and the batch converter over Schema Registry framed Protobuf.
//! Per schema id the schema text is fetched and parsed once; per (id, subject, message) the
//! Connect schema is derived once, and rows decode against that cache.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, BinaryViewArray, DictionaryArray};
use arrow::datatypes::Int32Type;

use super::data::{ProtobufDataConfig, ToConnect, ValueConverter};
use super::schema::ProtoSchema;
use super::wire;
use crate::columnar::runs::RunsBuilder;
use crate::converter::contract::{Converter, ConverterRole, Decoded, Encoded};
use crate::error::{ConnectError, Result, RowFailure};
use crate::model::column::ConnectColumn;
use crate::model::schema::ConnectSchema;
use crate::model::value::Value;
use crate::registry::serde::{SerdeConfig, SubjectNameStrategy, bool_key, class_key, int_key};
use crate::registry::{SchemaKind, SchemaRegistry};

pub const CLASS: &str = "io.confluent.connect.protobuf.ProtobufConverter";

/// The settings of one ProtobufConverter (un-prefixed).
#[derive(Debug, Clone)]
pub struct ProtobufConverterConfig {
    pub serde: SerdeConfig,
    pub data: ProtobufDataConfig,
    /// `derive.type`: parse into generated Java classes, which a Connect worker lacks.
    pub derive_type: bool,
}

impl ProtobufConverterConfig {
    /// Parses in Confluent's order: the serde base config, the serializer's, the
    /// deserializer's, then `ProtobufDataConfig`.
    pub fn parse(props: &HashMap<String, String>) -> std::result::Result<Self, ConnectError> {
        let serde = SerdeConfig::parse(props)?;
        bool_key(props, "reference.lookup.only", false)?;
        bool_key(props, "skip.known.types", false)?;
        class_key(
            props,
            "reference.subject.name.strategy",
            &["io.confluent.kafka.serializers.subject.DefaultReferenceSubjectNameStrategy"],
        )?;
        // The deserializer's specific classes must load; a Connect worker has none of them.
        for key in ["specific.protobuf.key.type", "specific.protobuf.value.type"] {
            if props.get(key).is_some_and(|v| !v.trim().is_empty()) {
                class_key(props, key, &[])?;
            }
        }
        let derive_type = bool_key(props, "derive.type", false)?;
        let data = ProtobufDataConfig {
            enhanced_schema_support: bool_key(props, "enhanced.protobuf.schema.support", false)?,
            scrub_invalid_names: bool_key(props, "scrub.invalid.names", false)?,
            optional_for_nullables: bool_key(props, "optional.for.nullables", false)?,
            optional_for_proto2: bool_key(props, "optional.for.proto2", true)?,
            wrapper_for_nullables: bool_key(props, "wrapper.for.nullables", false)?,
            wrapper_for_raw_primitives: bool_key(props, "wrapper.for.raw.primitives", true)?,
            schemas_cache_size: int_key(props, "schemas.cache.config", 1000)?,
        };
        Ok(Self {
            serde,
            data,
            derive_type,
        })
    }
}

/// What one (schema id, subject, message) derives: the Connect schema and the message.
#[derive(Debug)]
struct Derived {
    subject: String,
    indexes: Vec<i32>,
    message: usize,
    schema: std::result::Result<Arc<ConnectSchema>, ConnectError>,
}

#[derive(Debug)]
struct CachedSchema {
    text: Arc<str>,
    proto: Arc<ProtoSchema>,
    derived: Vec<Arc<Derived>>,
}

/// The batch ProtobufConverter.
#[derive(Debug)]
pub struct ProtobufConverter {
    cfg: ProtobufConverterConfig,
    role: ConverterRole,
    registry: Arc<dyn SchemaRegistry>,
    topic: String,
    schemas: HashMap<i32, std::result::Result<Arc<CachedSchema>, ConnectError>>,
    /// The previous row's framing (id and message-index bytes) and topic, and what they
    /// derived: consecutive rows of one schema skip the lookups.
    last: Option<LastFraming>,
}

/// The framing bytes (magic, id, message indexes) and topic of the previous row, and what
/// they derived.
#[derive(Debug)]
struct LastFraming {
    framing: Vec<u8>,
    topic: String,
    cached: Arc<CachedSchema>,
    derived: Arc<Derived>,
}

impl ProtobufConverter {
    pub fn new(
        cfg: ProtobufConverterConfig,
        role: ConverterRole,
        registry: Arc<dyn SchemaRegistry>,
    ) -> Self {
        Self {
            cfg,
            role,
            registry,
            topic: String::new(),
            schemas: HashMap::new(),
            last: None,
        }
    }

    fn deserialize_error(&self) -> ConnectError {
        ConnectError::data(format!(
            "Failed to deserialize data for topic {} to Protobuf: ",
            self.topic
        ))
    }

    fn strategy(&self) -> SubjectNameStrategy {
        match self.role {
            ConverterRole::Key => self.cfg.serde.key_strategy,
            ConverterRole::Value => self.cfg.serde.value_strategy,
        }
    }

    /// The subject for message `name` under the configured strategy.
    fn subject(&self, name: &str) -> String {
        let suffix = match self.role {
            ConverterRole::Key => "key",
            ConverterRole::Value => "value",
        };
        match self.strategy() {
            SubjectNameStrategy::Topic => format!("{}-{suffix}", self.topic),
            SubjectNameStrategy::Record => name.to_string(),
            SubjectNameStrategy::TopicRecord => format!("{}-{name}", self.topic),
        }
    }

    fn schema(&mut self, id: i32) -> std::result::Result<Arc<CachedSchema>, ConnectError> {
        if let Some(c) = self.schemas.get(&id) {
            return c.clone();
        }
        let fetched = match self.registry.schema_by_id(id) {
            Ok((SchemaKind::Protobuf, text)) => ProtoSchema::parse(&text)
                .map(|proto| {
                    Arc::new(CachedSchema {
                        text: text.into(),
                        proto: Arc::new(proto),
                        derived: Vec::new(),
                    })
                })
                .map_err(|_| self.deserialize_error()),
            Ok(_) => Err(self.deserialize_error()),
            // A registry that did not answer may answer the next record: not cached.
            Err(_) => return Err(self.deserialize_error()),
        };
        self.schemas.insert(id, fetched.clone());
        fetched
    }

    /// The message, subject and Connect schema of schema `id` read with `indexes`.
    fn derived(
        &mut self,
        id: i32,
        indexes: &[i32],
    ) -> std::result::Result<(Arc<CachedSchema>, Arc<Derived>), ConnectError> {
        let cached = self.schema(id)?;
        let message = cached
            .proto
            .message_at(indexes)
            .ok_or_else(|| self.deserialize_error())?;
        let subject = self.subject(&cached.proto.messages[message].full_name);
        if let Some(d) = cached
            .derived
            .iter()
            .find(|d| d.subject == subject && d.indexes == indexes)
        {
            return Ok((cached.clone(), d.clone()));
        }
        // The deserializer asks the registry for the schema's version under the subject.
        let version = match self
            .registry
            .version(&subject, SchemaKind::Protobuf, &cached.text)
        {
            Ok(Some(v)) => v,
            Ok(None) | Err(_) => return Err(self.deserialize_error()),
        };
        let schema =
            ToConnect::new(&self.cfg.data, &cached.proto).root_schema(message, Some(version));
        let derived = Arc::new(Derived {
            subject,
            indexes: indexes.to_vec(),
            message,
            schema,
        });
        let mut updated = CachedSchema {
            text: Arc::clone(&cached.text),
            proto: Arc::clone(&cached.proto),
            derived: cached.derived.clone(),
        };
        updated.derived.push(derived.clone());
        let updated = Arc::new(updated);
        self.schemas.insert(id, Ok(updated.clone()));
        Ok((updated, derived))
    }

    /// `toConnectData` of one framed value.
    fn decode_one(
        &mut self,
        bytes: &[u8],
    ) -> std::result::Result<(Arc<ConnectSchema>, Value), ConnectError> {
        if bytes.len() < 5 || bytes[0] != 0 {
            return Err(self.deserialize_error());
        }
        let id = i32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
        let (cached, derived, used) = match &self.last {
            Some(last)
                if last.topic == self.topic
                    && bytes.len() >= last.framing.len()
                    && bytes[..last.framing.len()] == last.framing[..] =>
            {
                (
                    last.cached.clone(),
                    last.derived.clone(),
                    last.framing.len() - 5,
                )
            }
            _ => {
                // The schema is fetched before the message indexes are read.
                self.schema(id)?;
                let (indexes, used) =
                    wire::message_indexes(&bytes[5..]).map_err(|_| self.deserialize_error())?;
                let (cached, derived) = self.derived(id, &indexes)?;
                self.last = Some(LastFraming {
                    framing: bytes[..5 + used].to_vec(),
                    topic: self.topic.clone(),
                    cached: cached.clone(),
                    derived: derived.clone(),
                });
                (cached, derived, used)
            }
        };
        if self.cfg.derive_type {
            // `derive.type` loads a generated class, which a Connect worker does not have.
            return Err(self.deserialize_error());
        }
        let body = &bytes[5 + used..];
        let msg = wire::parse(&cached.proto, derived.message, body)
            .map_err(|_| self.deserialize_error())?;
        let schema = derived.schema.clone()?;
        let values = ValueConverter {
            cfg: &self.cfg.data,
            proto: &cached.proto,
        };
        let value = values.root(&schema, &msg)?;
        Ok((schema, value))
    }

    fn decode_rows(
        &mut self,
        input: &BinaryViewArray,
        topics: Option<&DictionaryArray<Int32Type>>,
    ) -> Decoded {
        let stage = self.role.stage();
        let mut runs = RunsBuilder::with_capacity(input.len());
        let mut failures = Vec::new();
        let names = topics.map(|t| (t.keys(), t.values().as_string::<i32>()));
        for row in 0..input.len() {
            if let Some((keys, values)) = names {
                let topic = values.value(keys.value(row) as usize);
                if self.topic != topic {
                    self.topic = topic.to_string();
                }
            }
            if input.is_null(row) {
                runs.push(None, Value::Null);
                continue;
            }
            match self.decode_one(input.value(row)) {
                Ok((schema, value)) => runs.push(Some(schema), value),
                Err(e) => {
                    failures.push(RowFailure::from_error(row, stage, e));
                    runs.push(None, Value::Null);
                }
            }
        }
        Decoded {
            runs: runs.finish(),
            failures,
        }
    }
}

impl Converter for ProtobufConverter {
    fn decode(&mut self, input: &BinaryViewArray) -> Decoded {
        self.decode_rows(input, None)
    }

    fn decode_from(
        &mut self,
        input: &BinaryViewArray,
        topics: &DictionaryArray<Int32Type>,
    ) -> Decoded {
        self.decode_rows(input, Some(topics))
    }

    fn encode(&self, column: &ConnectColumn) -> Result<Encoded> {
        // Writing Protobuf (`fromConnectData`) is not built yet: every row fails with a
        // clear message instead of being written in another format.
        let failures = (0..column.len())
            .map(|row| {
                RowFailure::from_error(
                    row,
                    self.role.stage(),
                    ConnectError::data(
                        "ProtobufConverter cannot write Protobuf data yet (fromConnectData is not supported)",
                    ),
                )
            })
            .collect();
        Ok(Encoded {
            bytes: BinaryViewArray::from_iter(std::iter::repeat_n(None::<&[u8]>, column.len())),
            failures,
        })
    }
}
