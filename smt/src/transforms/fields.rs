//! Field-level transformations on structs (schema'd) and maps (schemaless):
//! ReplaceField, InsertField, MaskField. Rebuilt struct schemas start from
//! `SchemaUtil.copySchemaBasics` (name, version, doc, parameters; not optionality).

use sluice_codecs::model::schema::validate_put;
use std::collections::HashMap;
use std::sync::Arc;

use sluice_codecs::error::ConnectError;
use sluice_codecs::model::schema::{ConnectSchema, SchemaType, logical};
use sluice_codecs::model::value::{JavaMapInit, Struct, Value, java_hash_order};

use crate::config::{Props, invalid_value};
use crate::record::{ConnectRecord, Side};
use crate::util::{copy_basics, map_get, push_field, require_map, require_struct};

fn struct_basics(schema: &ConnectSchema) -> ConnectSchema {
    let mut s = copy_basics(schema);
    s.optional = false;
    s
}

fn add_field(
    s: &mut ConnectSchema,
    name: &str,
    schema: Arc<ConnectSchema>,
) -> Result<(), ConnectError> {
    push_field(s, name, schema)
}

/// `Struct.get(field)`: a null falls back to the field's default; with
/// `replace.null.with.default=false` (Kafka 4.x, KIP-1040), `getWithoutDefault`.
pub(crate) fn get_with_default(
    st: &Struct,
    index: usize,
    replace_null_with_default: bool,
) -> Value {
    match &st.values[index] {
        Value::Null if replace_null_with_default => st.schema.fields[index]
            .schema
            .default
            .clone()
            .unwrap_or(Value::Null),
        v => v.clone(),
    }
}

/// `ReplaceField$Key/$Value`: `exclude`, `include`, `renames` (and the deprecated
/// `blacklist`/`whitelist`).
#[derive(Debug)]
pub struct ReplaceField {
    pub(crate) side: Side,
    pub(crate) exclude: Vec<String>,
    pub(crate) include: Vec<String>,
    pub(crate) renames: Vec<(String, String)>,
    pub(crate) replace_null_with_default: bool,
}

impl ReplaceField {
    pub fn configure(side: Side, props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let p = Props(props);
        // Kafka 4.0 removed the `blacklist`/`whitelist` aliases (KAFKA-17530): ignored.
        let exclude = p.unique_list("exclude", true)?;
        let include = p.unique_list("include", true)?;
        let raw = p.list("renames", Some(&[]))?;
        let mut renames = Vec::new();
        for r in &raw {
            match r.split(':').collect::<Vec<_>>().as_slice() {
                [a, b] => renames.push((a.to_string(), b.to_string())),
                _ => {
                    return Err(invalid_value(
                        &format!("[{}]", raw.join(", ")),
                        "renames",
                        &format!("Invalid rename mapping: {r}"),
                    ));
                }
            }
        }
        Ok(Self {
            side,
            exclude,
            include,
            renames,
            replace_null_with_default: p.boolean("replace.null.with.default", true)?,
        })
    }

    fn keep(&self, name: &str) -> bool {
        !self.exclude.iter().any(|e| e == name)
            && (self.include.is_empty() || self.include.iter().any(|i| i == name))
    }

    fn renamed<'a>(&'a self, name: &'a str) -> &'a str {
        self.renames
            .iter()
            .find(|(a, _)| a == name)
            .map_or(name, |(_, b)| b.as_str())
    }

    pub fn apply(&self, r: ConnectRecord) -> Result<ConnectRecord, ConnectError> {
        const PURPOSE: &str = "field replacement";
        let (schema, value) = r.side(self.side);
        if value.is_null() {
            return Ok(r);
        }
        match schema {
            None => {
                let m = require_map(value, PURPOSE)?;
                let mut out = Vec::with_capacity(m.len());
                for (k, v) in m {
                    let name = match k {
                        Value::String(s) => s.as_str(),
                        _ => continue,
                    };
                    if self.keep(name) {
                        Value::map_put(
                            &mut out,
                            Value::String(self.renamed(name).to_string()),
                            v.clone(),
                        );
                    }
                }
                let out = java_hash_order(out, JavaMapInit::Capacity(m.len()));
                Ok(r.clone().with_side(self.side, None, Value::Map(out)))
            }
            Some(_) => {
                let st = require_struct(value, PURPOSE)?;
                let mut ns = struct_basics(&st.schema);
                for f in &st.schema.fields {
                    if self.keep(&f.name) {
                        add_field(&mut ns, self.renamed(&f.name), f.schema.clone())?;
                    }
                }
                // Kafka fills each output field from the input field its name renames back
                // to (`Struct.get(reverseRenamed(name))`), which must exist.
                let mut values = Vec::with_capacity(ns.fields.len());
                for out in &ns.fields {
                    let source = self
                        .renames
                        .iter()
                        .find(|(_, to)| *to == out.name)
                        .map_or(out.name.as_str(), |(from, _)| from.as_str());
                    let f = st.schema.field(source).ok_or_else(|| {
                        ConnectError::data(format!("{source} is not a valid field name"))
                    })?;
                    let v = get_with_default(st, f.index, self.replace_null_with_default);
                    validate_put(Some(&out.name), &out.schema, &v)?;
                    values.push(v);
                }
                let ns = Arc::new(ns);
                Ok(r.clone().with_side(
                    self.side,
                    Some(ns.clone()),
                    Value::Struct(Struct { schema: ns, values }),
                ))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Insertion {
    pub(crate) name: String,
    pub(crate) optional: bool,
}

fn insertion(p: Props<'_>, key: &str) -> Option<Insertion> {
    // An empty name is a field named "" in Kafka, not an absent setting.
    let spec = p.get(key)?;
    Some(if let Some(n) = spec.strip_suffix('?') {
        Insertion {
            name: n.into(),
            optional: true,
        }
    } else if let Some(n) = spec.strip_suffix('!') {
        Insertion {
            name: n.into(),
            optional: false,
        }
    } else {
        Insertion {
            name: spec.into(),
            optional: true,
        }
    })
}

fn timestamp_schema(optional: bool) -> Arc<ConnectSchema> {
    let mut s = ConnectSchema::new(SchemaType::Int64, optional);
    s.name = Some(logical::TIMESTAMP.into());
    s.version = Some(1);
    Arc::new(s)
}

/// `InsertField$Key/$Value`: adds topic, partition, offset, timestamp and a static field.
#[derive(Debug)]
pub struct InsertField {
    pub(crate) side: Side,
    pub(crate) topic: Option<Insertion>,
    pub(crate) partition: Option<Insertion>,
    pub(crate) offset: Option<Insertion>,
    pub(crate) timestamp: Option<Insertion>,
    pub(crate) static_field: Option<Insertion>,
    pub(crate) static_value: Option<String>,
    pub(crate) replace_null_with_default: bool,
}

impl InsertField {
    pub fn configure(side: Side, props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let p = Props(props);
        let spec = |key| insertion(p, key);
        let (topic, partition, offset, timestamp, static_field) = (
            spec("topic.field"),
            spec("partition.field"),
            spec("offset.field"),
            spec("timestamp.field"),
            spec("static.field"),
        );
        let static_value = p.get("static.value").map(str::to_string);
        let replace_null_with_default = p.boolean("replace.null.with.default", true)?;
        // Kafka 4.x checks the insertion specs at configure time.
        if [&topic, &partition, &offset, &timestamp, &static_field]
            .iter()
            .all(|s| s.is_none())
        {
            return Err(ConnectError::config("No field insertion configured"));
        }
        if let (Some(field), None) = (&static_field, &static_value) {
            // Kafka's message names the spec by its Java identity hash (`InsertionSpec@1b6d3586`),
            // which is arbitrary: ours is the name's String.hashCode.
            let hash = field
                .name
                .encode_utf16()
                .fold(0u32, |h, u| h.wrapping_mul(31).wrapping_add(u32::from(u)));
            return Err(ConnectError::config(format!(
                "Invalid value null for configuration static.value: No value specified for static field: org.apache.kafka.connect.transforms.InsertField$InsertionSpec@{hash:x}"
            )));
        }
        Ok(Self {
            side,
            topic,
            partition,
            offset,
            timestamp,
            static_field,
            static_value,
            replace_null_with_default,
        })
    }

    pub fn apply(&self, r: ConnectRecord) -> Result<ConnectRecord, ConnectError> {
        const PURPOSE: &str = "field insertion";
        let (schema, value) = r.side(self.side);
        if value.is_null() {
            return Ok(r);
        }
        match schema {
            None => {
                let mut m = require_map(value, PURPOSE)?.clone();
                let mut put = |k: &Insertion, v: Value| {
                    Value::map_put(&mut m, Value::String(k.name.clone()), v)
                };
                if let Some(f) = &self.topic {
                    put(f, Value::String(r.topic.clone()));
                }
                if let (Some(f), Some(p)) = (&self.partition, r.partition) {
                    put(f, Value::I32(p));
                }
                if let Some(f) = &self.offset {
                    put(f, Value::I64(sink_offset(&r)?));
                }
                if let (Some(f), Some(ts)) = (&self.timestamp, r.timestamp) {
                    put(f, Value::I64(ts));
                }
                if let (Some(f), Some(v)) = (&self.static_field, &self.static_value) {
                    put(f, Value::String(v.clone()));
                }
                let n = require_map(value, PURPOSE)?.len();
                Ok(r.clone().with_side(
                    self.side,
                    None,
                    Value::Map(java_hash_order(m, JavaMapInit::CopyOf(n))),
                ))
            }
            Some(_) => {
                let st = require_struct(value, PURPOSE)?;
                let mut ns = struct_basics(&st.schema);
                let mut values: Vec<Value> = Vec::new();
                for f in &st.schema.fields {
                    add_field(&mut ns, &f.name, f.schema.clone())?;
                    values.push(get_with_default(
                        st,
                        f.index,
                        self.replace_null_with_default,
                    ));
                }
                let string = |o: bool| Arc::new(ConnectSchema::new(SchemaType::String, o));
                let mut extra: Vec<(&Insertion, Arc<ConnectSchema>, Value)> = Vec::new();
                if let Some(f) = &self.topic {
                    extra.push((f, string(f.optional), Value::String(r.topic.clone())));
                }
                if let Some(f) = &self.partition {
                    extra.push((
                        f,
                        Arc::new(ConnectSchema::new(SchemaType::Int32, f.optional)),
                        r.partition.map_or(Value::Null, Value::I32),
                    ));
                }
                if let Some(f) = &self.offset {
                    extra.push((
                        f,
                        Arc::new(ConnectSchema::new(SchemaType::Int64, f.optional)),
                        Value::I64(sink_offset(&r)?),
                    ));
                }
                if let Some(f) = &self.timestamp {
                    extra.push((
                        f,
                        timestamp_schema(f.optional),
                        r.timestamp.map_or(Value::Null, Value::Date),
                    ));
                }
                if let Some(f) = &self.static_field {
                    extra.push((
                        f,
                        string(f.optional),
                        self.static_value.clone().map_or(Value::Null, Value::String),
                    ));
                }
                for (f, s, _) in &extra {
                    add_field(&mut ns, &f.name, s.clone())?;
                }
                // Kafka builds the whole schema first, then puts the record's own fields and
                // the insertions, each checked by `Struct.put`; a null insertion (no
                // partition, no timestamp) is not put at all.
                for (f, v) in st.schema.fields.iter().zip(&values) {
                    validate_put(Some(&f.name), &f.schema, v)?;
                }
                for (f, s, v) in extra {
                    if !v.is_null() {
                        validate_put(Some(&f.name), &s, &v)?;
                    }
                    values.push(v);
                }
                let ns = Arc::new(ns);
                Ok(r.clone().with_side(
                    self.side,
                    Some(ns.clone()),
                    Value::Struct(Struct { schema: ns, values }),
                ))
            }
        }
    }
}

/// The record's Kafka offset; a source record has none, and Kafka refuses to insert it.
fn sink_offset(r: &ConnectRecord) -> Result<i64, ConnectError> {
    r.offset.ok_or_else(|| {
        ConnectError::data(
            "Offset insertion is only supported for sink connectors, record is of type: class org.apache.kafka.connect.source.SourceRecord",
        )
    })
}

/// `MaskField$Key/$Value`: replaces listed fields with the type's zero value or `replacement`.
#[derive(Debug)]
pub struct MaskField {
    pub(crate) side: Side,
    pub(crate) fields: Vec<String>,
    pub(crate) replacement: Option<String>,
    pub(crate) replace_null_with_default: bool,
}

impl MaskField {
    pub fn configure(side: Side, props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let p = Props(props);
        let fields = p.unique_list("fields", false)?;
        // Kafka keeps the fields in a `HashSet` (sized for the list, 16 buckets at least), so
        // a schemaless value gets its masked members put in that set's iteration order.
        let capacity = ((fields.len() as f32 / 0.75) as usize + 1).max(16);
        let fields = java_hash_order(
            fields
                .into_iter()
                .map(|f| (Value::String(f), Value::Null))
                .collect(),
            JavaMapInit::Capacity(capacity),
        )
        .into_iter()
        .filter_map(|(k, _)| match k {
            Value::String(f) => Some(f),
            _ => None,
        })
        .collect();
        let replacement = p.get("replacement").map(str::to_string);
        if replacement.as_deref() == Some("") {
            return Err(invalid_value("", "replacement", "String must be non-empty"));
        }
        Ok(Self {
            side,
            fields,
            replacement,
            replace_null_with_default: p.boolean("replace.null.with.default", true)?,
        })
    }

    fn masked(&self, v: &Value) -> Result<Value, ConnectError> {
        if v.is_null() {
            return Ok(Value::Null);
        }
        match &self.replacement {
            None => Ok(match v {
                Value::Bool(_) => Value::Bool(false),
                Value::I8(_) => Value::I8(0),
                Value::I16(_) => Value::I16(0),
                Value::I32(_) => Value::I32(0),
                Value::I64(_) => Value::I64(0),
                Value::F32(_) => Value::F32(0.0),
                Value::F64(_) => Value::F64(0.0),
                Value::Decimal { .. } => Value::Decimal {
                    unscaled: 0,
                    scale: 0,
                },
                Value::Date(_) => Value::Date(0),
                Value::String(_) => Value::String(String::new()),
                Value::Array(_) => Value::Array(vec![]),
                Value::Map(_) => Value::Map(vec![]),
                other => {
                    return Err(ConnectError::data(format!(
                        "Cannot mask value of type: {}",
                        other.java_class()
                    )));
                }
            }),
            Some(rep) => {
                let number = || -> Result<(i128, i32), ConnectError> {
                    sluice_codecs::json::connect::parse_decimal(rep.trim()).map_err(|_| {
                        ConnectError::data(format!(
                            "Unable to convert {rep} (class java.lang.String) to a number"
                        ))
                    })
                };
                let long = || -> Result<i64, ConnectError> {
                    let (u, s) = number()?;
                    let div = 10i128.checked_pow(s.max(0) as u32).unwrap_or(i128::MAX);
                    let mul = 10i128.checked_pow((-s).max(0) as u32).unwrap_or(1);
                    Ok((u / div).wrapping_mul(mul) as i64)
                };
                let double = || -> Result<f64, ConnectError> {
                    number()?;
                    Ok(rep.trim().parse::<f64>().unwrap_or(0.0))
                };
                Ok(match v {
                    Value::I8(_) => Value::I8(long()? as i8),
                    Value::I16(_) => Value::I16(long()? as i16),
                    Value::I32(_) => Value::I32(long()? as i32),
                    Value::I64(_) => Value::I64(long()?),
                    Value::F32(_) => Value::F32(double()? as f32),
                    Value::F64(_) => Value::F64(double()?),
                    Value::String(_) => Value::String(rep.clone()),
                    Value::Decimal { .. } => {
                        let (unscaled, scale) = sluice_codecs::json::connect::parse_decimal(rep)
                            .map_err(|_| {
                                ConnectError::data(format!(
                                    "Unable to convert {rep} (class java.lang.String) to number"
                                ))
                            })?;
                        Value::Decimal { unscaled, scale }
                    }
                    other => {
                        return Err(ConnectError::data(format!(
                            "Cannot mask value of type {} with custom replacement.",
                            other.java_class()
                        )));
                    }
                })
            }
        }
    }

    pub fn apply(&self, r: ConnectRecord) -> Result<ConnectRecord, ConnectError> {
        const PURPOSE: &str = "mask fields";
        let (schema, value) = r.side(self.side);
        match schema {
            None => {
                let m = require_map(value, PURPOSE)?;
                let mut out = m.clone();
                for f in &self.fields {
                    let masked = self.masked(map_get(m, f).unwrap_or(&Value::Null))?;
                    Value::map_put(&mut out, Value::String(f.clone()), masked);
                }
                let out = java_hash_order(out, JavaMapInit::CopyOf(m.len()));
                Ok(r.clone().with_side(self.side, None, Value::Map(out)))
            }
            Some(s) => {
                let st = require_struct(value, PURPOSE)?;
                let mut values = Vec::with_capacity(st.values.len());
                for f in &st.schema.fields {
                    let orig = get_with_default(st, f.index, self.replace_null_with_default);
                    let v = if self.fields.contains(&f.name) {
                        self.masked(&orig)?
                    } else {
                        orig
                    };
                    validate_put(Some(&f.name), &f.schema, &v)?;
                    values.push(v);
                }
                let schema = s.clone();
                Ok(r.clone().with_side(
                    self.side,
                    Some(schema),
                    Value::Struct(Struct {
                        schema: st.schema.clone(),
                        values,
                    }),
                ))
            }
        }
    }
}
