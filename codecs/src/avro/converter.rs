//! `io.confluent.connect.avro.AvroConverter`: its settings (the serde, deserializer and
//! `AvroDataConfig` keys, checked as Confluent's `ConfigDef`s check them) and the batch
//! converter over Schema Registry framed Avro. Per schema id the writer schema is fetched
//! and parsed once and its Connect schema derived once; rows then decode against the cache.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, BinaryViewArray, BinaryViewBuilder, DictionaryArray};
use arrow::datatypes::Int32Type;

use super::binary::Reader;
use super::columnar::Stop;
use super::data::{AvroDataConfig, JavaObject, ToConnect};
use super::from_connect::{AvroValue, FromConnect, to_avro};
use super::schema::{AvroSchema, Kind};
use crate::columnar::runs::{OpenRun, Run};
use crate::converter::contract::{Converter, ConverterRole, Decoded, Encoded};
use crate::error::{ConnectError, Result, RowFailure};
use crate::model::column::ConnectColumn;
use crate::model::schema::ConnectSchema;
use crate::model::value::Value;
use crate::registry::serde::{SerdeConfig, SubjectNameStrategy, bool_key, int_key};
use crate::registry::{SchemaKind, SchemaRegistry};

pub const CLASS: &str = "io.confluent.connect.avro.AvroConverter";

/// The settings of one AvroConverter (un-prefixed), as parsed by `AvroConverterConfig`,
/// `KafkaAvroSerializerConfig`, `KafkaAvroDeserializerConfig` and `AvroDataConfig`.
#[derive(Debug, Clone)]
pub struct AvroConverterConfig {
    /// The settings every Schema Registry serde shares.
    pub serde: SerdeConfig,
    pub data: AvroDataConfig,
    pub remove_java_properties: bool,
    /// `schema.reflection` / `specific.avro.reader`: read named types into Java classes
    /// (which a Connect worker does not have).
    pub class_reader: Option<&'static str>,
}

impl AvroConverterConfig {
    /// Parses and checks the settings in Confluent's order: the serde base config, the
    /// serializer's, the deserializer's, then `AvroDataConfig`.
    pub fn parse(props: &HashMap<String, String>) -> std::result::Result<Self, ConnectError> {
        let serde = SerdeConfig::parse(props)?;
        let reflection = bool_key(props, "schema.reflection", false)?;
        bool_key(props, "avro.reflection.allow.null", false)?;
        let use_logical_type_converters =
            bool_key(props, "avro.use.logical.type.converters", false)?;
        let remove_java_properties = bool_key(props, "avro.remove.java.properties", false)?;
        let specific = bool_key(props, "specific.avro.reader", false)?;
        let class_reader = if reflection {
            Some("a reflected class")
        } else if specific {
            Some("a SpecificRecord")
        } else {
            None
        };
        let data = AvroDataConfig {
            enhanced_schema_support: bool_key(props, "enhanced.avro.schema.support", false)?,
            scrub_invalid_names: bool_key(props, "scrub.invalid.names", false)?,
            connect_meta_data: bool_key(props, "connect.meta.data", true)?,
            schemas_cache_size: int_key(props, "schemas.cache.config", 1000)?,
            discard_type_doc_default: bool_key(props, "discard.type.doc.default", false)?,
            allow_optional_map_keys: bool_key(props, "allow.optional.map.keys", false)?,
            use_logical_type_converters,
        };
        Ok(Self {
            serde,
            data,
            remove_java_properties,
            class_reader,
        })
    }
}

/// A writer schema fetched for one id, with its Connect schema per registry version.
#[derive(Debug)]
struct CachedSchema {
    avro: AvroSchema,
    /// Per subject: the Connect schema at the subject's version and its read plan.
    connect: Vec<Arc<Derived>>,
}

/// What a writer schema becomes under one subject.
#[derive(Debug)]
struct Derived {
    subject: String,
    schema: DerivedSchema,
    /// The fast path's plan, when the schema has one.
    plan: Option<super::columnar::Plan>,
}

#[derive(Debug)]
struct LastDerived {
    subject_topic: String,
    derived: Arc<Derived>,
}

/// A writer schema's Connect schema, or why AvroData cannot derive one.
type DerivedSchema = std::result::Result<Option<Arc<ConnectSchema>>, ConnectError>;

/// The batch AvroConverter.
#[derive(Debug)]
pub struct AvroConverter {
    cfg: AvroConverterConfig,
    role: ConverterRole,
    registry: Arc<dyn SchemaRegistry>,
    /// The topic the rows come from (the subject name needs it).
    topic: String,
    schemas: HashMap<i32, std::result::Result<Arc<CachedSchema>, ConnectError>>,
    /// The schema id and topic of the previous fast row, and what they derived.
    last: Option<(i32, LastDerived)>,
    /// Rows the fast path read straight into columns (the rest went per record).
    fast_rows: usize,
    /// Connect schema → the Avro schema written for it (bounded by `schemas.cache.config`).
    encode_cache: EncodeCache,
    /// (topic, Avro schema) → the id and schema written with.
    writers: WriterCache,
    /// Avro schema → its write plan from the Connect schema's columns.
    write_plans: WritePlanCache,
    /// Rows the encode fast path wrote.
    fast_encoded: std::sync::atomic::AtomicUsize,
}

type WritePlanCache = std::sync::Mutex<
    Vec<(
        Arc<AvroSchema>,
        Option<Arc<super::columnar_encode::WritePlan>>,
    )>,
>;

type WriterCache = std::sync::Mutex<Vec<(String, Arc<AvroSchema>, i32, Arc<AvroSchema>)>>;

type EncodeCache = std::sync::Mutex<
    Vec<(
        Option<Arc<ConnectSchema>>,
        std::result::Result<Arc<AvroSchema>, ConnectError>,
    )>,
>;

fn deserialize_failure(topic: &str) -> String {
    format!("Failed to deserialize data for topic {topic} to Avro: ")
}

fn npe() -> ConnectError {
    ConnectError {
        exception: "java.lang.NullPointerException",
        message: None,
    }
}

impl AvroConverter {
    pub fn new(
        cfg: AvroConverterConfig,
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
            fast_rows: 0,
            encode_cache: EncodeCache::default(),
            writers: WriterCache::default(),
            write_plans: std::sync::Mutex::default(),
            fast_encoded: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Rows encoded by the fast path so far.
    pub fn fast_encoded(&self) -> usize {
        self.fast_encoded.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The write plan of `avro` from columns of `s`, compiled once per Avro schema.
    fn write_plan(
        &self,
        avro: &Arc<AvroSchema>,
        s: &ConnectSchema,
    ) -> Option<Arc<super::columnar_encode::WritePlan>> {
        let mut plans = self
            .write_plans
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, p)) = plans.iter().find(|(a, _)| Arc::ptr_eq(a, avro)) {
            return p.clone();
        }
        let p = super::columnar_encode::compile(&self.cfg.data, avro, s).map(Arc::new);
        if plans.len() >= self.cfg.data.schemas_cache_size.max(1) as usize {
            let _evicted = plans.remove(0);
        }
        plans.push((avro.clone(), p.clone()));
        p
    }

    /// Rows decoded by the fast path so far.
    pub fn fast_rows(&self) -> usize {
        self.fast_rows
    }

    /// Sets the topic of the rows that follow.
    pub fn set_topic(&mut self, topic: &str) {
        if self.topic != topic {
            self.topic = topic.to_string();
        }
    }

    fn strategy(&self) -> SubjectNameStrategy {
        match self.role {
            ConverterRole::Key => self.cfg.serde.key_strategy,
            ConverterRole::Value => self.cfg.serde.value_strategy,
        }
    }

    fn suffix(&self) -> &'static str {
        match self.role {
            ConverterRole::Key => "key",
            ConverterRole::Value => "value",
        }
    }

    /// The subject of a schema under the configured strategy.
    fn subject(&self, avro: &AvroSchema) -> std::result::Result<String, ConnectError> {
        let record_name = || match &avro.root_node().kind {
            Kind::Record { name, .. } => Ok(name.full()),
            _ => Err(self.deserialize_error()),
        };
        Ok(match self.strategy() {
            SubjectNameStrategy::Topic => format!("{}-{}", self.topic, self.suffix()),
            SubjectNameStrategy::Record => record_name()?,
            SubjectNameStrategy::TopicRecord => format!("{}-{}", self.topic, record_name()?),
        })
    }

    /// What AvroConverter throws for any deserializer failure: a fixed message (the cause,
    /// a registry or Avro error, only in Java's stack trace).
    fn deserialize_error(&self) -> ConnectError {
        ConnectError::data(deserialize_failure(&self.topic))
    }

    fn writer_schema(&mut self, id: i32) -> std::result::Result<Arc<CachedSchema>, ConnectError> {
        if let Some(cached) = self.schemas.get(&id) {
            return cached.clone();
        }
        let fetched = match self.registry.schema_by_id(id) {
            Ok((SchemaKind::Avro, text)) => AvroSchema::parse(&text)
                .map(|avro| {
                    Arc::new(CachedSchema {
                        avro,
                        connect: Vec::new(),
                    })
                })
                .map_err(|_| self.deserialize_error()),
            Ok(_) => Err(self.deserialize_error()),
            Err(_) => Err(self.deserialize_error()),
        };
        self.schemas.insert(id, fetched.clone());
        fetched
    }

    /// The Connect schema of writer schema `id` at the version its subject gives it.
    fn connect_schema(
        &mut self,
        id: i32,
        cached: &Arc<CachedSchema>,
    ) -> std::result::Result<Option<Arc<ConnectSchema>>, ConnectError> {
        self.derived(id, cached).and_then(|d| d.schema.clone())
    }

    /// The derived Connect schema and plan of writer schema `id` under the current subject.
    fn derived(
        &mut self,
        id: i32,
        cached: &Arc<CachedSchema>,
    ) -> std::result::Result<Arc<Derived>, ConnectError> {
        let subject = self.subject(&cached.avro)?;
        if let Some(d) = cached.connect.iter().find(|d| d.subject == subject) {
            return Ok(d.clone());
        }
        let canonical = cached.avro.canonical();
        let version = match self
            .registry
            .version(&subject, SchemaKind::Avro, &canonical)
        {
            Ok(Some(v)) => v,
            // The mock registry answers null for a schema its subject lacks; the deserializer
            // then unboxes it.
            Ok(None) => {
                return Err(ConnectError {
                    exception: "java.lang.NullPointerException",
                    message: Some(
                        "Cannot invoke \"java.lang.Integer.intValue()\" because the return value of \"java.util.Map.get(Object)\" is null"
                            .into(),
                    ),
                });
            }
            Err(_) => return Err(self.deserialize_error()),
        };
        let schema = ToConnect::new(&self.cfg.data, &cached.avro).root_schema(Some(version));
        let root = cached.avro.root_node();
        // The fast path reads datums with a length-prefixed body and a non-null root: a raw
        // top-level bytes value, a nullable root (a null datum fails the record) and the
        // class readers stay on the per-record path.
        let root_ok =
            !matches!(root.kind, Kind::Bytes | Kind::Union(_)) && self.cfg.class_reader.is_none();
        let plan = match &schema {
            Ok(Some(s)) if root_ok => super::columnar::compile(&self.cfg.data, &cached.avro, s),
            _ => None,
        };
        let derived = Arc::new(Derived {
            subject,
            schema,
            plan,
        });
        let mut updated = CachedSchema {
            avro: cached.avro.clone(),
            connect: cached.connect.clone(),
        };
        updated.connect.push(derived.clone());
        self.schemas.insert(id, Ok(Arc::new(updated)));
        Ok(derived)
    }

    /// The fast path's view of a framed value: its derived schema (with a plan) and body,
    /// or `None` when the row goes the per-record way.
    fn prepare<'b>(&mut self, bytes: &'b [u8]) -> Option<(Arc<Derived>, &'b [u8])> {
        if bytes.len() < 5 || bytes[0] != 0 {
            return None;
        }
        let id = i32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
        if let Some((last_id, d)) = &self.last
            && *last_id == id
            && d.subject_topic == self.topic
        {
            return Some((d.derived.clone(), &bytes[5..]));
        }
        let cached = self.writer_schema(id).ok()?;
        let derived = self.derived(id, &cached).ok()?;
        derived.plan.as_ref()?;
        derived.schema.as_ref().ok()?.as_ref()?;
        self.last = Some((
            id,
            LastDerived {
                subject_topic: self.topic.clone(),
                derived: derived.clone(),
            },
        ));
        Some((derived, &bytes[5..]))
    }

    /// `toConnectData` of one framed value.
    fn decode_one(
        &mut self,
        bytes: &[u8],
    ) -> std::result::Result<(Option<Arc<ConnectSchema>>, Value), ConnectError> {
        let underflow = || ConnectError {
            exception: "java.nio.BufferUnderflowException",
            message: None,
        };
        let magic = *bytes.first().ok_or_else(underflow)?;
        if magic != 0 {
            return Err(self.deserialize_error());
        }
        let id_bytes: [u8; 4] = bytes
            .get(1..5)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(underflow)?;
        let id = i32::from_be_bytes(id_bytes);
        let body = &bytes[5..];
        let cached = self.writer_schema(id)?;
        let avro = &cached.avro;
        let root = avro.root_node();
        let to = ToConnect::new(&self.cfg.data, avro);
        let read_failure = |_: super::binary::ReadError| self.deserialize_error();
        if let (Some(what), Kind::Record { name, .. }) = (self.cfg.class_reader, &root.kind) {
            return Err(read_failure(super::binary::ReadError(format!(
                "Could not find class {} specified in writer's schema whilst finding reader's schema for {what}.",
                name.full()
            ))));
        }
        // A top-level bytes schema is the raw rest of the message.
        let object = if matches!(root.kind, Kind::Bytes) {
            JavaObject::Bytes(body.to_vec())
        } else {
            let datum = Reader::new(body)
                .read(avro, avro.root)
                .map_err(read_failure)?;
            to.object(avro.root, datum, true)
        };
        let schema = self.connect_schema(id, &cached)?;
        if matches!(object, JavaObject::Null) {
            // AvroConverter returns null for a null datum; the worker then fails.
            return Err(npe());
        }
        let to = ToConnect::new(&self.cfg.data, &cached.avro);
        match &schema {
            Some(s) => Ok((schema.clone(), to.value(s, &object, true)?)),
            None => Err(ConnectError::data(
                "schemaless Avro data is not supported yet",
            )),
        }
    }

    fn decode_rows(
        &mut self,
        input: &BinaryViewArray,
        topics: Option<&DictionaryArray<Int32Type>>,
    ) -> Decoded {
        let stage = self.role.stage();
        let rows = input.len();
        let mut out: Vec<Run> = Vec::new();
        let mut run: Option<OpenRun> = None;
        let mut failures = Vec::new();
        let names = topics.map(|t| (t.keys(), t.values().as_string::<i32>()));
        // A row with no value of its own (a tombstone, or a failed row) joins the open run,
        // or one without a schema.
        let push_null =
            |run: &mut Option<OpenRun>, out: &mut Vec<Run>, row: usize, tombstone: bool| {
                if tombstone
                    && run.as_ref().is_some_and(|r| r.schema.is_some())
                    && let Some(done) = run.take()
                {
                    done.close_into(out);
                }
                run.get_or_insert_with(|| OpenRun::new(row, None, rows - row))
                    .push_null();
            };
        for row in 0..rows {
            if let Some((keys, values)) = names {
                let topic = values.value(keys.value(row) as usize);
                self.set_topic(topic);
            }
            if input.is_null(row) {
                push_null(&mut run, &mut out, row, true);
                continue;
            }
            let bytes = input.value(row);
            if let Some((derived, body)) = self.prepare(bytes)
                && let (Ok(Some(schema)), Some(plan)) = (&derived.schema, &derived.plan)
            {
                let open = OpenRun::continue_or_start(&mut run, &mut out, row, rows - row, schema);
                if let Some(col) = open.col.as_mut() {
                    let len = col.len();
                    match plan.read(&mut Reader::new(body), col) {
                        Ok(()) => {
                            open.count_row(rows - row - 1);
                            self.fast_rows += 1;
                            continue;
                        }
                        Err(Stop::Failed) => {
                            col.truncate(len);
                            failures.push(RowFailure::from_error(
                                row,
                                stage,
                                self.deserialize_error(),
                            ));
                            open.push_null();
                            continue;
                        }
                        // Read again below, value by value.
                        Err(Stop::PerRecord) => col.truncate(len),
                    }
                }
            }
            match self.decode_one(bytes) {
                Ok((Some(s), v)) => {
                    OpenRun::continue_or_start(&mut run, &mut out, row, rows - row, &s).push_any(v);
                }
                Ok((None, v)) => {
                    if run.as_ref().is_some_and(|r| r.schema.is_some())
                        && let Some(done) = run.take()
                    {
                        done.close_into(&mut out);
                    }
                    run.get_or_insert_with(|| OpenRun::new(row, None, rows - row))
                        .push_any(v);
                }
                Err(e) => {
                    failures.push(RowFailure::from_error(row, stage, e));
                    push_null(&mut run, &mut out, row, false);
                }
            }
        }
        if let Some(done) = run.take() {
            done.close_into(&mut out);
        }
        Decoded {
            runs: out,
            failures,
        }
    }

    fn serialize_error(topic: &str) -> ConnectError {
        ConnectError::data(format!(
            "Failed to serialize Avro data from topic {topic} :"
        ))
    }

    /// The Avro schema `fromConnectSchema` makes of a Connect schema, cached per schema.
    fn avro_schema(
        &self,
        schema: Option<&Arc<ConnectSchema>>,
    ) -> std::result::Result<Arc<AvroSchema>, ConnectError> {
        let mut cache = self
            .encode_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, a)) = cache.iter().find(|(s, _)| match (s, schema) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
            (None, None) => true,
            _ => false,
        }) {
            return a.clone();
        }
        let made = FromConnect::new(&self.cfg.data)
            .root(schema.map(|s| &**s))
            .map(Arc::new);
        if cache.len() >= self.cfg.data.schemas_cache_size.max(1) as usize {
            let _evicted = cache.remove(0);
        }
        cache.push((schema.cloned(), made.clone()));
        made
    }

    /// `fromConnectData(topic, schema, value)`.
    fn encode_one(
        &self,
        topic: &str,
        schema: Option<&Arc<ConnectSchema>>,
        value: &Value,
    ) -> std::result::Result<Option<Vec<u8>>, ConnectError> {
        let avro = self.avro_schema(schema)?;
        let datum = to_avro(
            &self.cfg.data,
            &avro,
            schema.map(|s| &**s),
            avro.root,
            value,
        )?;
        if datum == AvroValue::Null {
            return Ok(None);
        }
        let failed = || Self::serialize_error(topic);
        let (id, writer) = self.writer_for(topic, &avro)?;
        let mut out = Vec::with_capacity(64);
        out.push(0);
        out.extend_from_slice(&id.to_be_bytes());
        if matches!(writer.root_node().kind, Kind::Bytes) {
            match &datum {
                AvroValue::Bytes(b) => out.extend_from_slice(b),
                _ => return Err(failed()),
            }
        } else {
            super::from_connect::write(&mut out, &writer, writer.root, &datum)
                .map_err(|_| failed())?;
        }
        Ok(Some(out))
    }

    /// The id and writer schema for `avro` on `topic`: registered, looked up by id, or the
    /// subject's latest, as configured; once per topic and schema.
    fn writer_for(
        &self,
        topic: &str,
        avro: &Arc<AvroSchema>,
    ) -> std::result::Result<(i32, Arc<AvroSchema>), ConnectError> {
        let mut cache = self
            .writers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, _, id, w)) = cache
            .iter()
            .rev()
            .find(|(t, a, _, _)| t == topic && Arc::ptr_eq(a, avro))
        {
            return Ok((*id, w.clone()));
        }
        let found = self.resolve_writer(topic, avro)?;
        if cache.len() >= self.cfg.data.schemas_cache_size.max(1) as usize {
            let _evicted = cache.remove(0);
        }
        cache.push((topic.to_string(), avro.clone(), found.0, found.1.clone()));
        Ok(found)
    }

    fn resolve_writer(
        &self,
        topic: &str,
        avro: &Arc<AvroSchema>,
    ) -> std::result::Result<(i32, Arc<AvroSchema>), ConnectError> {
        let failed = || Self::serialize_error(topic);
        let subject = match self.strategy() {
            SubjectNameStrategy::Topic => format!("{topic}-{}", self.suffix()),
            strategy => {
                let Kind::Record { name, .. } = &avro.root_node().kind else {
                    return Err(failed());
                };
                if strategy == SubjectNameStrategy::Record {
                    name.full()
                } else {
                    format!("{topic}-{}", name.full())
                }
            }
        };
        let canonical = if self.cfg.serde.normalize_schemas {
            super::normalize::normalized(avro)
        } else {
            avro.canonical()
        };
        let (id, writer) = if self.cfg.serde.auto_register_schemas {
            let id = self
                .registry
                .register(&subject, SchemaKind::Avro, &canonical)
                .map_err(|_| failed())?;
            (id, avro.clone())
        } else if self.cfg.serde.use_schema_id >= 0 {
            let (kind, text) = self
                .registry
                .schema_by_id(self.cfg.serde.use_schema_id)
                .map_err(|_| failed())?;
            if kind != SchemaKind::Avro {
                return Err(failed());
            }
            let looked_up = Arc::new(AvroSchema::parse(&text).map_err(|_| failed())?);
            if self.cfg.serde.id_compatibility_strict
                && !super::compatibility::can_read(&looked_up, avro)
            {
                return Err(failed());
            }
            // The lookup by subject and id makes the id known under the subject.
            (self.cfg.serde.use_schema_id, looked_up)
        } else if self.cfg.serde.use_latest_version {
            let latest = self.registry.latest(&subject).map_err(|_| failed())?;
            let looked_up = Arc::new(AvroSchema::parse(&latest.schema).map_err(|_| failed())?);
            if self.cfg.serde.latest_compatibility_strict
                && !super::compatibility::can_read(&looked_up, avro)
            {
                return Err(failed());
            }
            (latest.id, looked_up)
        } else {
            let id = self
                .registry
                .id(&subject, SchemaKind::Avro, &canonical)
                .map_err(|_| failed())?;
            (id, avro.clone())
        };
        Ok((id, writer))
    }

    fn encode_rows(
        &self,
        column: &ConnectColumn,
        topics: Option<&DictionaryArray<Int32Type>>,
    ) -> Result<Encoded> {
        let stage = self.role.stage();
        let mut bytes = BinaryViewBuilder::with_capacity(column.len());
        let mut failures = Vec::new();
        let names = topics.map(|t| (t.keys(), t.values().as_string::<i32>()));
        // The fast path: the column's Avro schema, its write plan bound to the arrays, and
        // per topic the id to frame with (when the writer schema is that Avro schema).
        let fast = column.schema.as_ref().and_then(|s| {
            let avro = self.avro_schema(Some(s)).ok()?;
            let plan = self.write_plan(&avro, s)?;
            Some((avro, plan))
        });
        let bound = fast
            .as_ref()
            .and_then(|(_, plan)| super::columnar_encode::bind(plan, &column.array));
        let mut framing: Option<(&str, Option<i32>)> = None;
        let mut exact = column.exact.iter().map(|(r, _)| *r).peekable();
        let mut buf = Vec::with_capacity(512);
        for row in 0..column.len() {
            let topic = names.map_or("", |(keys, values)| values.value(keys.value(row) as usize));
            let is_exact = exact.next_if_eq(&row).is_some();
            if let (Some(b), Some((avro, _)), false) =
                (&bound, &fast, is_exact || column.is_null(row))
            {
                buf.clear();
                buf.extend_from_slice(&[0; 5]);
                // The row is written before its schema is registered: a row Java fails in
                // `fromConnectData` registers nothing (the per-record path fails it).
                if b.write(row, &mut buf).is_ok() {
                    let id = match framing {
                        Some((t, id)) if t == topic => id,
                        _ => {
                            let id = self
                                .writer_for(topic, avro)
                                .ok()
                                .filter(|(_, w)| Arc::ptr_eq(w, avro))
                                .map(|(id, _)| id);
                            framing = Some((topic, id));
                            id
                        }
                    };
                    if let Some(id) = id {
                        buf[1..5].copy_from_slice(&id.to_be_bytes());
                        bytes.append_value(&buf);
                        self.fast_encoded
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        continue;
                    }
                }
            }
            match self.encode_one(topic, column.schema.as_ref(), &column.value(row)) {
                Ok(b) => bytes.append_option(b),
                Err(e) => {
                    failures.push(RowFailure::from_error(row, stage, e));
                    bytes.append_null();
                }
            }
        }
        Ok(Encoded {
            bytes: bytes.finish(),
            failures,
        })
    }
}

impl Converter for AvroConverter {
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
        self.encode_rows(column, None)
    }

    fn encode_for(
        &self,
        column: &ConnectColumn,
        topics: &DictionaryArray<Int32Type>,
    ) -> Result<Encoded> {
        self.encode_rows(column, Some(topics))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::avro::binary::{Datum, write};
    use crate::registry::MockRegistry;

    const SCHEMA: &str = r#"{"type":"record","name":"Row","namespace":"t","fields":[
        {"name":"i","type":"int"},
        {"name":"b8","type":{"type":"int","connect.type":"int8"}},
        {"name":"l","type":"long"},
        {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
        {"name":"d","type":{"type":"int","logicalType":"date"}},
        {"name":"f","type":"float"},
        {"name":"db","type":"double"},
        {"name":"s","type":"string"},
        {"name":"opt","type":["null","string"],"default":null},
        {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
        {"name":"u","type":["null","int","string"]},
        {"name":"a","type":{"type":"array","items":"long"}},
        {"name":"m","type":{"type":"map","values":"int"}},
        {"name":"fx","type":{"type":"fixed","name":"F3","size":3}},
        {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
        {"name":"n","type":{"type":"record","name":"N","fields":[{"name":"x","type":"string"}]}},
        {"name":"bo","type":"boolean"}]}"#;
    const OTHER: &str = r#"{"type":"record","name":"Other","fields":[{"name":"k","type":"long"}]}"#;

    fn row(i: i32, map: Vec<(&str, i32)>) -> Datum {
        Datum::Record(vec![
            Datum::Int(i),
            Datum::Int(i * 37),
            Datum::Long(i64::from(i) << 40),
            Datum::Long(1_700_000_000_000 + i64::from(i)),
            Datum::Int(19_000 + i),
            Datum::Float(i as f32 / 3.0),
            Datum::Double(f64::from(i) * 1.5),
            Datum::String(format!("s{i} with a longer tail so it is not inline")),
            if i % 2 == 0 {
                Datum::Union(0, Box::new(Datum::Null))
            } else {
                Datum::Union(1, Box::new(Datum::String(format!("o{i}"))))
            },
            Datum::Enum((i % 2) as usize),
            match i % 3 {
                0 => Datum::Union(0, Box::new(Datum::Null)),
                1 => Datum::Union(1, Box::new(Datum::Int(i))),
                _ => Datum::Union(2, Box::new(Datum::String("u".into()))),
            },
            Datum::Array((0..i64::from(i % 4)).map(Datum::Long).collect()),
            Datum::Map(
                map.into_iter()
                    .map(|(k, v)| (k.to_string(), Datum::Int(v)))
                    .collect(),
            ),
            Datum::Fixed(vec![1, 2, i as u8]),
            Datum::Bytes(vec![0x01, i as u8]),
            Datum::Record(vec![Datum::String(format!("x{i}"))]),
            Datum::Boolean(i % 2 == 1),
        ])
    }

    fn framed(id: i32, schema: &AvroSchema, d: &Datum) -> Vec<u8> {
        let mut out = vec![0];
        out.extend_from_slice(&id.to_be_bytes());
        write(&mut out, schema, schema.root, d);
        out
    }

    fn converter(registry: &Arc<MockRegistry>) -> AvroConverter {
        let props = HashMap::from([("schema.registry.url".to_string(), "mock://unit".to_string())]);
        let cfg = AvroConverterConfig::parse(&props).expect("config");
        let mut c = AvroConverter::new(cfg, ConverterRole::Value, registry.clone());
        c.set_topic("orders");
        c
    }

    /// The per-record path alone, as the reference the fast path must equal.
    fn per_record(
        c: &mut AvroConverter,
        input: &BinaryViewArray,
    ) -> Vec<std::result::Result<Value, &'static str>> {
        (0..input.len())
            .map(|r| {
                if input.is_null(r) {
                    return Ok(Value::Null);
                }
                c.decode_one(input.value(r))
                    .map(|(_, v)| v)
                    .map_err(|e| e.exception)
            })
            .collect()
    }

    #[test]
    fn the_fast_path_reads_what_the_per_record_path_reads() {
        let registry = Arc::new(MockRegistry::new());
        let main = AvroSchema::parse(SCHEMA).expect("schema");
        let other = AvroSchema::parse(OTHER).expect("other");
        assert_eq!(
            registry.register("orders-value", SchemaKind::Avro, &main.canonical()),
            Ok(1)
        );
        assert_eq!(
            registry.register("orders-value", SchemaKind::Avro, &other.canonical()),
            Ok(2)
        );
        let mut rows: Vec<Option<Vec<u8>>> = Vec::new();
        for i in 0..6 {
            rows.push(Some(framed(1, &main, &row(i, vec![("a", i), ("b", 2)]))));
        }
        rows.push(None);
        let mut cut = framed(1, &main, &row(7, vec![]));
        cut.truncate(cut.len() - 3);
        rows.push(Some(cut));
        // A duplicate map key: Java's map keeps the last value, so this row goes per record.
        rows.push(Some(framed(1, &main, &row(8, vec![("k", 1), ("k", 2)]))));
        rows.push(Some(framed(1, &main, &row(9, vec![]))));
        rows.push(Some(vec![1, 0, 0, 0, 1, 0]));
        rows.push(Some(framed(
            2,
            &other,
            &Datum::Record(vec![Datum::Long(5)]),
        )));
        rows.push(Some(framed(1, &main, &row(11, vec![("z", 26)]))));
        let input = BinaryViewArray::from_iter(rows.iter().map(|r| r.as_deref()));

        let mut fast = converter(&registry);
        let decoded = Converter::decode(&mut fast, &input);
        let want = per_record(&mut converter(&registry), &input);
        let failed: Vec<usize> = decoded.failures.iter().map(|f| f.row).collect();
        let want_failed: Vec<usize> = (0..want.len()).filter(|r| want[*r].is_err()).collect();
        assert_eq!(failed, want_failed);
        for run in &decoded.runs {
            for r in 0..run.column.len() {
                let row = run.start + r;
                match &want[row] {
                    Ok(v) => assert_eq!(&run.column.value(r), v, "row {row}"),
                    Err(_) => assert!(run.column.is_null(r), "row {row}"),
                }
            }
        }
        let covered: usize = decoded.runs.iter().map(|r| r.column.len()).sum();
        assert_eq!(covered, input.len());
        // Every well-formed row but the duplicate-key one was read fast (both schemas).
        assert_eq!(fast.fast_rows(), 9, "{:?}", decoded.failures);
        let dup = decoded
            .runs
            .iter()
            .find(|r| (r.start..r.start + r.column.len()).contains(&8))
            .expect("row 8");
        let Value::Struct(st) = dup.column.value(8 - dup.start) else {
            panic!("row 8 is a struct")
        };
        assert_eq!(
            st.values[12],
            Value::Map(vec![(Value::String("k".into()), Value::I32(2))])
        );
    }

    #[test]
    fn the_encode_fast_path_writes_what_the_per_record_path_writes() {
        let registry = Arc::new(MockRegistry::new());
        let main = AvroSchema::parse(SCHEMA).expect("schema");
        assert_eq!(
            registry.register("orders-value", SchemaKind::Avro, &main.canonical()),
            Ok(1)
        );
        let rows: Vec<Vec<u8>> = (0..6)
            .map(|i| framed(1, &main, &row(i, vec![("a", i)])))
            .collect();
        let input = BinaryViewArray::from_iter_values(rows.iter());
        let decoded = Converter::decode(&mut converter(&registry), &input);
        assert_eq!(decoded.runs.len(), 1);
        let column = &decoded.runs[0].column;
        let enc = converter(&registry);
        let fast = Converter::encode(&enc, column).expect("encode");
        assert!(fast.failures.is_empty(), "{:?}", fast.failures);
        assert_eq!(enc.fast_encoded(), 6);
        let reference = converter(&registry);
        for r in 0..6 {
            let want = reference
                .encode_one("", column.schema.as_ref(), &column.value(r))
                .expect("per record");
            assert_eq!(Some(fast.bytes.value(r)), want.as_deref(), "row {r}");
        }
    }
}
