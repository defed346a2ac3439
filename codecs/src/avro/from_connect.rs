//! Confluent's `AvroData` from Connect to Avro (7.0.16 semantics): a Connect schema becomes an
//! Avro schema (what AvroConverter registers: `connect.*` properties, `ConnectDefault` names,
//! optional as `["null", T]` unions, maps with non-string keys as `MapEntry` arrays) and a
//! Connect value becomes Avro data, written as Java's `GenericDatumWriter` writes it.

use super::binary::{write_bytes, write_long};
use super::data::{
    AVRO_ENUM_DEFAULT_PREFIX_PROP, AVRO_ENUM_DOC_PREFIX_PROP, AVRO_FIELD_DEFAULT_FLAG_PROP,
    AVRO_FIELD_DOC_PREFIX_PROP, AVRO_RECORD_DOC_PROP, AVRO_TYPE_ENUM, AVRO_TYPE_UNION,
    AvroDataConfig, CONNECT_AVRO_DECIMAL_PRECISION_DEFAULT, CONNECT_AVRO_DECIMAL_PRECISION_PROP,
    CONNECT_AVRO_FIXED_SIZE_PROP, CONNECT_DEFAULT_VALUE_PROP, CONNECT_DOC_PROP,
    CONNECT_ENUM_DOC_PROP, CONNECT_INTERNAL_TYPE_NAME, CONNECT_NAME_PROP, CONNECT_PARAMETERS_PROP,
    CONNECT_RECORD_DOC_PROP, CONNECT_TYPE_PROP, CONNECT_VERSION_PROP, DEFAULT_SCHEMA_FULL_NAME,
    MAP_ENTRY_TYPE_NAME, NAMESPACE, scrub_name,
};
use super::schema::{AvroField, AvroSchema, Kind, Name, NodeId, SchemaNode, SchemaParseError};
use crate::error::ConnectError;
use crate::json::jackson::Node as Json;
use crate::model::schema::{ConnectSchema, SchemaType, logical};
use crate::model::value::Value;

/// The Avro schema of schemaless Connect data (`io.confluent.connect.avro.Anything`).
pub const ANYTHING_SCHEMA: &str = r#"{"type":"record","name":"Anything","namespace":"io.confluent.connect.avro","fields":[{"name":"boolean","type":["null","boolean"],"default":null},{"name":"bytes","type":["null","bytes"],"default":null},{"name":"double","type":["null","double"],"default":null},{"name":"float","type":["null","float"],"default":null},{"name":"int","type":["null","int"],"default":null},{"name":"long","type":["null","long"],"default":null},{"name":"string","type":["null","string"],"default":null},{"name":"array","type":["null",{"type":"array","items":"Anything"}],"default":null},{"name":"map","type":["null",{"type":"array","items":{"type":"record","name":"MapEntry","fields":[{"name":"key","type":"Anything"},{"name":"value","type":"Anything"}]}}],"default":null}]}"#;

/// Avro data as `fromConnectData` builds it (named types carry their full names, which is
/// how the writer picks a union branch).
#[derive(Debug, Clone, PartialEq)]
pub enum AvroValue {
    Null,
    Boolean(bool),
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    String(String),
    Bytes(Vec<u8>),
    Enum {
        name: String,
        symbol: String,
    },
    Fixed {
        name: String,
        bytes: Vec<u8>,
    },
    Record {
        name: String,
        fields: Vec<AvroValue>,
    },
    Array(Vec<AvroValue>),
    Map(Vec<(String, AvroValue)>),
}

impl AvroValue {
    /// `GenericData.getSchemaName(datum)`.
    fn schema_name(&self) -> &str {
        match self {
            AvroValue::Null => "null",
            AvroValue::Boolean(_) => "boolean",
            AvroValue::Int(_) => "int",
            AvroValue::Long(_) => "long",
            AvroValue::Float(_) => "float",
            AvroValue::Double(_) => "double",
            AvroValue::String(_) => "string",
            AvroValue::Bytes(_) => "bytes",
            AvroValue::Enum { name, .. }
            | AvroValue::Fixed { name, .. }
            | AvroValue::Record { name, .. } => name,
            AvroValue::Array(_) => "array",
            AvroValue::Map(_) => "map",
        }
    }
}

fn data(m: impl Into<String>) -> ConnectError {
    ConnectError::data(m)
}

fn parse_error(e: SchemaParseError) -> ConnectError {
    ConnectError {
        exception: e.exception,
        message: Some(e.message),
    }
}

fn validate_name(name: &str) -> Result<(), ConnectError> {
    // Avro's own checks, through a throwaway schema.
    let probe = format!(
        r#"{{"type":"fixed","name":{},"size":1}}"#,
        json_string(name)
    );
    AvroSchema::parse(&probe).map(|_| ()).map_err(parse_error)
}

fn json_string(s: &str) -> String {
    let mut out = Vec::new();
    crate::json::text::write_string(&mut out, s);
    String::from_utf8(out).unwrap_or_default()
}

/// Builds the Avro schema of a Connect schema.
#[derive(Debug)]
pub struct FromConnect<'a> {
    cfg: &'a AvroDataConfig,
    nodes: Vec<SchemaNode>,
    default_name_index: usize,
    /// Non-optional Connect schemas converted so far (Java's `schemaMap`).
    seen: Vec<(ConnectSchema, NodeId)>,
}

fn set_prop(node: &mut SchemaNode, key: &str, value: Json) {
    if !node.props.iter().any(|(k, _)| k == key) {
        node.props.push((key.to_string(), value));
    }
}

fn int_json(v: i64) -> Json {
    Json::Int(v.to_string())
}

/// A Java `float` default as Avro re-reads it (a `double`).
fn float_json(f: f32) -> Json {
    Json::Decimal(crate::java::double_to_string(f64::from(f)))
}

fn double_json(d: f64) -> Json {
    if d.is_finite() {
        Json::Decimal(crate::java::double_to_string(d))
    } else {
        // Jackson writes non-finite doubles as quoted strings.
        Json::String(crate::java::double_to_string(d))
    }
}

impl<'a> FromConnect<'a> {
    pub fn new(cfg: &'a AvroDataConfig) -> Self {
        Self {
            cfg,
            nodes: Vec::new(),
            default_name_index: 0,
            seen: Vec::new(),
        }
    }

    fn push(&mut self, kind: Kind) -> NodeId {
        self.nodes.push(SchemaNode {
            kind,
            props: Vec::new(),
        });
        self.nodes.len() - 1
    }

    fn scrub(&self, name: &str) -> String {
        if self.cfg.scrub_invalid_names {
            scrub_name(name)
        } else {
            name.to_string()
        }
    }

    /// `getNameOrDefault`: (namespace, name), or the next `ConnectDefault` name.
    fn name_or_default(&mut self, name: Option<&str>) -> (Option<String>, String) {
        match name {
            Some(n) if !n.is_empty() => {
                let parts: Vec<String> = n.split('.').map(|p| self.scrub(p)).collect();
                if parts.len() <= 1 {
                    (None, parts.first().cloned().unwrap_or_default())
                } else {
                    (
                        Some(parts[..parts.len() - 1].join(".")),
                        parts[parts.len() - 1].clone(),
                    )
                }
            }
            Some(n) => (None, n.to_string()),
            None => {
                self.default_name_index += 1;
                let i = self.default_name_index;
                (
                    Some(NAMESPACE.to_string()),
                    if i > 1 {
                        format!("ConnectDefault{i}")
                    } else {
                        "ConnectDefault".into()
                    },
                )
            }
        }
    }

    fn make_name(space: Option<String>, name: &str) -> Result<Name, ConnectError> {
        validate_name(name)?;
        Ok(Name {
            name: name.to_string(),
            space: space.filter(|s| !s.is_empty()),
        })
    }

    /// `fromConnectSchema(schema)` of the root: the finished Avro schema.
    pub fn root(mut self, schema: Option<&ConnectSchema>) -> Result<AvroSchema, ConnectError> {
        let Some(schema) = schema else {
            return AvroSchema::parse(ANYTHING_SCHEMA).map_err(parse_error);
        };
        let root = self.schema(schema, false)?;
        Ok(AvroSchema {
            nodes: self.nodes,
            root,
        })
    }

    fn schema(&mut self, s: &ConnectSchema, ignore_optional: bool) -> Result<NodeId, ConnectError> {
        let cfg = self.cfg;
        if s.name.as_deref() != Some(AVRO_TYPE_UNION)
            && !s.optional
            && let Some((_, id)) = self.seen.iter().find(|(c, _)| c == s)
        {
            return Ok(*id);
        }
        let params = s.parameters.as_deref().unwrap_or(&[]);
        let param = |k: &str| params.iter().find(|(p, _)| p == k).map(|(_, v)| v.as_str());
        let mut connect_type = None;
        let base = match s.schema_type {
            SchemaType::Int8 => {
                connect_type = Some("int8");
                self.push(Kind::Int)
            }
            SchemaType::Int16 => {
                connect_type = Some("int16");
                self.push(Kind::Int)
            }
            SchemaType::Int32 => self.push(Kind::Int),
            SchemaType::Int64 => self.push(Kind::Long),
            SchemaType::Float32 => self.push(Kind::Float),
            SchemaType::Float64 => self.push(Kind::Double),
            SchemaType::Boolean => self.push(Kind::Boolean),
            SchemaType::String => {
                if cfg.enhanced_schema_support
                    && let Some(enum_name) = param(AVRO_TYPE_ENUM)
                {
                    let prefix = format!("{AVRO_TYPE_ENUM}.");
                    let symbols: Vec<String> = params
                        .iter()
                        .filter(|(k, _)| k.starts_with(&prefix))
                        .map(|(_, v)| v.clone())
                        .collect();
                    let (_, name) = self.name_or_default(s.name.as_deref());
                    let (doc, default) = if cfg.discard_type_doc_default {
                        (param(CONNECT_ENUM_DOC_PROP).map(str::to_string), None)
                    } else {
                        (
                            param(&format!("{AVRO_ENUM_DOC_PREFIX_PROP}{name}"))
                                .map(str::to_string),
                            param(&format!("{AVRO_ENUM_DEFAULT_PREFIX_PROP}{name}"))
                                .map(str::to_string),
                        )
                    };
                    // Validated through Avro's parser, as SchemaBuilder's checks would.
                    let mut members = vec![
                        ("type".to_string(), Json::String("enum".into())),
                        ("name".to_string(), Json::String(enum_name.to_string())),
                        (
                            "symbols".to_string(),
                            Json::Array(symbols.iter().cloned().map(Json::String).collect()),
                        ),
                    ];
                    if let Some(d) = &default {
                        members.push(("default".into(), Json::String(d.clone())));
                    }
                    let mut text = Vec::new();
                    super::schema::write_json(&mut text, &Json::Object(members));
                    let parsed =
                        AvroSchema::parse(&String::from_utf8_lossy(&text)).map_err(parse_error)?;
                    let Kind::Enum { name, .. } = parsed.root_node().kind.clone() else {
                        return Err(data("not an enum"));
                    };
                    self.push(Kind::Enum {
                        name,
                        doc,
                        symbols,
                        default,
                        aliases: Vec::new(),
                    })
                } else {
                    self.push(Kind::String)
                }
            }
            SchemaType::Bytes => {
                let id = if s.schema_type == SchemaType::Bytes
                    && s.name.is_some()
                    && let Some(size) = param(CONNECT_AVRO_FIXED_SIZE_PROP)
                {
                    let (space, name) = self.name_or_default(s.name.as_deref());
                    let size: usize = size.parse().map_err(|_| ConnectError {
                        exception: "java.lang.NumberFormatException",
                        message: Some(format!("For input string: \"{size}\"")),
                    })?;
                    let name = Self::make_name(space, &name)?;
                    self.push(Kind::Fixed {
                        name,
                        doc: None,
                        size,
                        aliases: Vec::new(),
                    })
                } else {
                    self.push(Kind::Bytes)
                };
                if s.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(logical::DECIMAL))
                {
                    let scale: i64 = param(logical::SCALE_PARAM)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    set_prop(&mut self.nodes[id], "scale", int_json(scale));
                    let precision = param(CONNECT_AVRO_DECIMAL_PRECISION_PROP)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(CONNECT_AVRO_DECIMAL_PRECISION_DEFAULT);
                    set_prop(&mut self.nodes[id], "precision", int_json(precision));
                }
                id
            }
            SchemaType::Array => {
                let items = s
                    .value
                    .as_deref()
                    .ok_or_else(|| data("array schema without items"))?;
                let items = self.schema(items, false)?;
                self.push(Kind::Array(items))
            }
            SchemaType::Map => {
                let ks = s
                    .key
                    .as_deref()
                    .ok_or_else(|| data("map schema without keys"))?;
                let vs = s
                    .value
                    .as_deref()
                    .ok_or_else(|| data("map schema without values"))?;
                if ks.schema_type == SchemaType::String
                    && (!ks.optional || cfg.allow_optional_map_keys)
                {
                    let values = self.schema(vs, false)?;
                    self.push(Kind::Map(values))
                } else {
                    let (name, internal) = match &s.name {
                        None => (
                            Name {
                                name: MAP_ENTRY_TYPE_NAME.into(),
                                space: Some(NAMESPACE.into()),
                            },
                            false,
                        ),
                        Some(n) => {
                            let (space, name) = self.name_or_default(Some(n));
                            (Self::make_name(space, &name)?, true)
                        }
                    };
                    let record = self.push(Kind::Record {
                        name,
                        doc: None,
                        fields: Vec::new(),
                        aliases: Vec::new(),
                        error: false,
                    });
                    if internal {
                        set_prop(
                            &mut self.nodes[record],
                            CONNECT_INTERNAL_TYPE_NAME,
                            Json::String(MAP_ENTRY_TYPE_NAME.into()),
                        );
                    }
                    let key = self.field("key", ks, None)?;
                    let value = self.field("value", vs, None)?;
                    if let Kind::Record { fields, .. } = &mut self.nodes[record].kind {
                        *fields = vec![key, value];
                    }
                    self.push(Kind::Array(record))
                }
            }
            SchemaType::Struct => {
                if s.name.as_deref() == Some(AVRO_TYPE_UNION) {
                    let mut types = Vec::new();
                    if s.optional {
                        types.push(self.push(Kind::Null));
                    }
                    for f in &s.fields {
                        let mut member = (*f.schema).clone();
                        member.optional = false;
                        types.push(self.schema(&member, true)?);
                    }
                    self.union(types)?
                } else if s.optional {
                    let null = self.push(Kind::Null);
                    let mut inner = s.clone();
                    inner.optional = false;
                    let inner = self.schema(&inner, false)?;
                    self.union(vec![null, inner])?
                } else {
                    let (space, name) = self.name_or_default(s.name.as_deref());
                    let doc = param(if cfg.discard_type_doc_default {
                        CONNECT_RECORD_DOC_PROP
                    } else {
                        AVRO_RECORD_DOC_PROP
                    })
                    .map(str::to_string);
                    let name = Self::make_name(space, &name)?;
                    let record = self.push(Kind::Record {
                        name,
                        doc,
                        fields: Vec::new(),
                        aliases: Vec::new(),
                        error: false,
                    });
                    let mut fields = Vec::with_capacity(s.fields.len());
                    for f in &s.fields {
                        let field_name = self.scrub(&f.name);
                        let doc = if cfg.discard_type_doc_default {
                            None
                        } else {
                            param(&format!("{AVRO_FIELD_DOC_PREFIX_PROP}{}", f.name))
                                .map(str::to_string)
                        };
                        fields.push(self.field(&field_name, &f.schema, doc)?);
                    }
                    let mut names: Vec<&str> = Vec::new();
                    for f in &fields {
                        if names.contains(&f.name.as_str()) {
                            return Err(parse_error(SchemaParseError {
                                exception: super::schema::AVRO_RUNTIME_EXCEPTION,
                                message: format!("Duplicate field {} in record", f.name),
                            }));
                        }
                        names.push(&f.name);
                    }
                    if let Kind::Record { fields: slot, .. } = &mut self.nodes[record].kind {
                        *slot = fields;
                    }
                    record
                }
            }
        };

        let mut final_id = base;
        if !matches!(self.nodes[base].kind, Kind::Union(_)) {
            let mut props: Vec<(String, Json)> = Vec::new();
            if cfg.connect_meta_data {
                if let Some(d) = &s.doc {
                    props.push((CONNECT_DOC_PROP.into(), Json::String(d.clone())));
                }
                if let Some(v) = s.version {
                    props.push((CONNECT_VERSION_PROP.into(), int_json(i64::from(v))));
                }
                if s.parameters.is_some() {
                    let members: Vec<(String, Json)> = params
                        .iter()
                        .filter(|(k, _)| {
                            cfg.discard_type_doc_default || k != AVRO_FIELD_DEFAULT_FLAG_PROP
                        })
                        .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                        .collect();
                    if !members.is_empty() {
                        props.push((CONNECT_PARAMETERS_PROP.into(), Json::Object(members)));
                    }
                }
                if let Some(d) = &s.default
                    && (cfg.discard_type_doc_default
                        || param(AVRO_FIELD_DEFAULT_FLAG_PROP).is_none())
                {
                    props.push((CONNECT_DEFAULT_VALUE_PROP.into(), self.default_json(s, d)?));
                }
                if let Some(n) = &s.name {
                    props.push((CONNECT_NAME_PROP.into(), Json::String(n.clone())));
                }
                if let Some(t) = connect_type {
                    props.push((CONNECT_TYPE_PROP.into(), Json::String(t.into())));
                }
            }
            let name = s.name.as_deref().unwrap_or_default();
            let is = |l: &str| name.eq_ignore_ascii_case(l);
            if is(logical::DECIMAL) {
                let precision: i64 = param(CONNECT_AVRO_DECIMAL_PRECISION_PROP)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(CONNECT_AVRO_DECIMAL_PRECISION_DEFAULT);
                let scale: i64 = param(logical::SCALE_PARAM)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                // Outside Avro's spec (negative scale, scale > precision) only the legacy
                // `logicalType` property is written.
                let legacy = scale < 0 || scale > precision;
                props.push(("logicalType".into(), Json::String("decimal".into())));
                if !legacy {
                    props.push(("precision".into(), int_json(precision)));
                    props.push(("scale".into(), int_json(scale)));
                }
            } else if is(logical::TIME) {
                props.push(("logicalType".into(), Json::String("time-millis".into())));
            } else if is(logical::TIMESTAMP) {
                props.push((
                    "logicalType".into(),
                    Json::String("timestamp-millis".into()),
                ));
            } else if is(logical::DATE) {
                props.push(("logicalType".into(), Json::String("date".into())));
            }
            for (k, v) in params {
                if k.starts_with("avro") {
                    props.push((k.clone(), Json::String(v.clone())));
                }
            }
            for (k, v) in props {
                set_prop(&mut self.nodes[base], &k, v);
            }
            if !ignore_optional && s.optional {
                let null = self.push(Kind::Null);
                final_id = if s.default.is_some() {
                    self.union(vec![base, null])?
                } else {
                    self.union(vec![null, base])?
                };
            }
        }
        if !s.optional {
            self.seen.push((s.clone(), final_id));
        }
        Ok(final_id)
    }

    fn union(&mut self, types: Vec<NodeId>) -> Result<NodeId, ConnectError> {
        let mut seen: Vec<String> = Vec::new();
        for t in &types {
            let n = self.nodes[*t].full_name();
            if seen.contains(&n) {
                return Err(ConnectError {
                    exception: super::schema::AVRO_RUNTIME_EXCEPTION,
                    message: Some(format!("Duplicate in union:{n}")),
                });
            }
            seen.push(n);
        }
        Ok(self.push(Kind::Union(types)))
    }

    /// `addAvroRecordField`: the field with its default (dropped when Avro finds it invalid).
    fn field(
        &mut self,
        name: &str,
        s: &ConnectSchema,
        doc: Option<String>,
    ) -> Result<AvroField, ConnectError> {
        let default = match &s.default {
            Some(d) => Some(self.default_json(s, d)?),
            None if s.optional => Some(Json::Null),
            None => None,
        };
        let schema = self.schema(s, false)?;
        validate_name(name)?;
        let doc = if self.cfg.discard_type_doc_default {
            s.doc.clone()
        } else {
            doc
        };
        let probe = AvroSchema {
            nodes: self.nodes.clone(),
            root: schema,
        };
        let default = default.filter(|d| valid_default(&probe, schema, d));
        Ok(AvroField {
            name: name.to_string(),
            schema,
            doc,
            default,
            order: None,
            aliases: Vec::new(),
            props: Vec::new(),
        })
    }

    /// `defaultValueFromConnect`: a Connect default as Avro JSON.
    fn default_json(&self, s: &ConnectSchema, v: &Value) -> Result<Json, ConnectError> {
        if v.is_null() {
            return Ok(Json::Null);
        }
        let invalid = || {
            data(format!(
                "Invalid type used for default value of {} field: {}",
                s.type_name(),
                s.default.as_ref().map_or("null", Value::java_class)
            ))
        };
        let logical = to_avro_logical(s, v)?;
        let v = logical.as_ref().unwrap_or(v);
        Ok(match (s.schema_type, v) {
            (SchemaType::Int8, Value::I8(x)) => int_json(i64::from(*x)),
            (SchemaType::Int16, Value::I16(x)) => int_json(i64::from(*x)),
            (SchemaType::Int32, Value::I32(x)) => int_json(i64::from(*x)),
            (SchemaType::Int64, Value::I64(x)) => int_json(*x),
            (SchemaType::Float32, Value::F32(x)) => float_json(*x),
            (SchemaType::Float64, Value::F64(x)) => double_json(*x),
            (SchemaType::Boolean, Value::Bool(b)) => Json::Bool(*b),
            (SchemaType::String, Value::String(t)) => Json::String(t.clone()),
            (SchemaType::Bytes, Value::Bytes(b)) => {
                Json::String(b.iter().map(|c| char::from(*c)).collect())
            }
            (SchemaType::Array, Value::Array(items)) => {
                let is = s.value.as_deref().ok_or_else(invalid)?;
                Json::Array(
                    items
                        .iter()
                        .map(|i| self.default_json(is, i))
                        .collect::<Result<_, _>>()?,
                )
            }
            (SchemaType::Map, Value::Map(entries)) => {
                let ks = s.key.as_deref().ok_or_else(invalid)?;
                let vs = s.value.as_deref().ok_or_else(invalid)?;
                if ks.schema_type == SchemaType::String
                    && (!ks.optional || self.cfg.allow_optional_map_keys)
                {
                    let mut members: Vec<(String, Json)> = Vec::new();
                    for (k, x) in entries {
                        let Value::String(k) = k else {
                            return Err(invalid());
                        };
                        members.push((k.clone(), self.default_json(vs, x)?));
                    }
                    Json::Object(members)
                } else {
                    let mut pairs = Vec::new();
                    for (k, x) in entries {
                        pairs.push(Json::Array(vec![
                            self.default_json(ks, k)?,
                            self.default_json(vs, x)?,
                        ]));
                    }
                    Json::Array(pairs)
                }
            }
            (SchemaType::Struct, Value::Struct(st)) => {
                let union = s.name.as_deref() == Some(AVRO_TYPE_UNION);
                let mut members = Vec::new();
                for f in &s.fields {
                    let fv = st.values.get(f.index).cloned().unwrap_or(Value::Null);
                    let j = self.default_json(&f.schema, &fv)?;
                    if union {
                        return Ok(j);
                    }
                    members.push((self.scrub(&f.name), j));
                }
                Json::Object(members)
            }
            _ => return Err(invalid()),
        })
    }
}

/// `Schema.isValidDefault`.
fn valid_default(avro: &AvroSchema, id: NodeId, d: &Json) -> bool {
    match &avro.node(id).kind {
        Kind::String | Kind::Bytes | Kind::Enum { .. } | Kind::Fixed { .. } => {
            matches!(d, Json::String(_))
        }
        Kind::Int => matches!(d, Json::Int(_)) && d.is_int(),
        Kind::Long => matches!(d, Json::Int(t) if t.parse::<i64>().is_ok()),
        Kind::Float | Kind::Double => matches!(d, Json::Int(_) | Json::Decimal(_)),
        Kind::Boolean => matches!(d, Json::Bool(_)),
        Kind::Null => matches!(d, Json::Null),
        Kind::Array(items) => match d {
            Json::Array(xs) => xs.iter().all(|x| valid_default(avro, *items, x)),
            _ => false,
        },
        Kind::Map(values) => match d {
            Json::Object(m) => m.iter().all(|(_, x)| valid_default(avro, *values, x)),
            _ => false,
        },
        Kind::Union(types) => types.first().is_some_and(|t| valid_default(avro, *t, d)),
        Kind::Record { fields, .. } => match d {
            Json::Object(m) => fields.iter().all(|f| {
                match m
                    .iter()
                    .find(|(k, _)| *k == f.name)
                    .map(|(_, v)| v)
                    .or(f.default.as_ref())
                {
                    Some(v) => valid_default(avro, f.schema, v),
                    None => false,
                }
            }),
            _ => false,
        },
    }
}

/// `TO_AVRO_LOGICAL_CONVERTERS`: a logical value as its underlying Connect value.
fn to_avro_logical(s: &ConnectSchema, v: &Value) -> Result<Option<Value>, ConnectError> {
    let Some(name) = s.name.as_deref() else {
        return Ok(None);
    };
    Ok(Some(match (name, v) {
        (logical::DECIMAL, Value::Decimal { unscaled, scale }) => {
            let target = s.decimal_scale().unwrap_or(0);
            if target != *scale {
                return Err(data(format!(
                    "Decimal value has mismatching scale for given Decimal schema. Schema has scale {target}, value has scale {scale}."
                )));
            }
            Value::Bytes(crate::json::connect::i128_to_twos_complement(*unscaled))
        }
        (logical::DATE, Value::Date(ms)) => {
            if ms.rem_euclid(86_400_000) != 0 {
                return Err(data(
                    "Kafka Connect Date type should not have any time fields set to non-zero values.",
                ));
            }
            Value::I32((ms / 86_400_000) as i32)
        }
        (logical::TIME, Value::Date(ms)) => {
            if !(0..86_400_000).contains(ms) {
                return Err(data(
                    "Kafka Connect time type should not have any date fields set to non-zero values.",
                ));
            }
            Value::I32(*ms as i32)
        }
        (logical::TIMESTAMP, Value::Date(ms)) => Value::I64(*ms),
        (logical::DECIMAL, other) => {
            return Err(data(format!(
                "Invalid type for Decimal, expected BigDecimal but was {}",
                other.java_class()
            )));
        }
        (l @ (logical::DATE | logical::TIME | logical::TIMESTAMP), other) => {
            return Err(data(format!(
                "Invalid type for {}, expected Date but was {}",
                l.rsplit('.').next().unwrap_or(l),
                other.java_class()
            )));
        }
        _ => return Ok(None),
    }))
}

/// `fromConnectData`: Connect data as Avro data for `avro` (the schema `fromConnectSchema`
/// made of `schema`).
pub fn to_avro(
    cfg: &AvroDataConfig,
    avro: &AvroSchema,
    schema: Option<&ConnectSchema>,
    node: NodeId,
    value: &Value,
) -> Result<AvroValue, ConnectError> {
    let Some(s) = schema else {
        return schemaless(value, false);
    };
    if value.is_null() && !s.optional {
        return Err(data("Found null value for non-optional schema"));
    }
    if value.is_null() {
        return Ok(AvroValue::Null);
    }
    let logical = to_avro_logical(s, value)?;
    let v = logical.as_ref().unwrap_or(value);
    let cast = || {
        data(format!(
            "Invalid type for {}: {}",
            s.type_name(),
            v.java_class()
        ))
    };
    let scrub = |n: &str| {
        if cfg.scrub_invalid_names {
            scrub_name(n)
        } else {
            n.to_string()
        }
    };
    Ok(match s.schema_type {
        SchemaType::Int8 => match v {
            Value::I8(x) => AvroValue::Int(i32::from(*x)),
            _ => return Err(cast()),
        },
        SchemaType::Int16 => match v {
            Value::I16(x) => AvroValue::Int(i32::from(*x)),
            _ => return Err(cast()),
        },
        SchemaType::Int32 => match v {
            Value::I32(x) => AvroValue::Int(*x),
            _ => return Err(cast()),
        },
        SchemaType::Int64 => match v {
            Value::I64(x) => AvroValue::Long(*x),
            _ => return Err(cast()),
        },
        SchemaType::Float32 => match v {
            Value::F32(x) => AvroValue::Float(*x),
            _ => return Err(cast()),
        },
        SchemaType::Float64 => match v {
            Value::F64(x) => AvroValue::Double(*x),
            _ => return Err(cast()),
        },
        SchemaType::Boolean => match v {
            Value::Bool(x) => AvroValue::Boolean(*x),
            _ => return Err(cast()),
        },
        SchemaType::String => {
            let text = match v {
                Value::String(t) => t.clone(),
                Value::Utf16(u) => crate::java::utf16_lossy(u, '?'),
                _ => return Err(cast()),
            };
            match s.parameter(AVRO_TYPE_ENUM) {
                Some(enum_name) if cfg.enhanced_schema_support => AvroValue::Enum {
                    name: enum_name.to_string(),
                    symbol: text,
                },
                _ => AvroValue::String(text),
            }
        }
        SchemaType::Bytes => {
            let Value::Bytes(b) = v else {
                return Err(cast());
            };
            let fixed = s.name.is_some() && s.parameter(CONNECT_AVRO_FIXED_SIZE_PROP).is_some();
            if fixed {
                let size: usize = s
                    .parameter(CONNECT_AVRO_FIXED_SIZE_PROP)
                    .and_then(|x| x.parse().ok())
                    .unwrap_or(0);
                let member = match &avro.node(node).kind {
                    // The last fixed member of that size and name (Java's loop keeps the last).
                    Kind::Union(types) => types
                        .iter()
                        .rev()
                        .copied()
                        .find(|t| {
                            let m = avro.node(*t);
                            matches!(m.kind, Kind::Fixed { size: n, .. } if n == size)
                                && m.name().is_some_and(|n| {
                                    let want = s.name.as_deref().unwrap_or_default();
                                    if cfg.enhanced_schema_support {
                                        n.full() == want
                                    } else {
                                        Some(n.name.as_str()) == want.rsplit('.').next()
                                    }
                                })
                        })
                        .ok_or_else(|| data(format!("Fixed size {size} not in union {avro}")))?,
                    _ => node,
                };
                AvroValue::Fixed {
                    name: avro.node(member).full_name(),
                    bytes: b.clone(),
                }
            } else {
                AvroValue::Bytes(b.clone())
            }
        }
        SchemaType::Array => {
            let Value::Array(items) = v else {
                return Err(cast());
            };
            let under = underlying(cfg, avro, s, node)?;
            let Kind::Array(item_node) = avro.node(under).kind else {
                return Err(cast());
            };
            let is = s.value.as_deref();
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                out.push(to_avro(cfg, avro, is, item_node, i)?);
            }
            AvroValue::Array(out)
        }
        SchemaType::Map => {
            let Value::Map(entries) = v else {
                return Err(cast());
            };
            let ks = s.key.as_deref();
            let vs = s.value.as_deref();
            let string_keys = ks.is_some_and(|k| {
                k.schema_type == SchemaType::String && (!k.optional || cfg.allow_optional_map_keys)
            });
            if string_keys {
                let under = underlying(cfg, avro, s, node)?;
                let Kind::Map(value_node) = avro.node(under).kind else {
                    return Err(cast());
                };
                let mut out: Vec<(String, AvroValue)> = Vec::with_capacity(entries.len());
                for (k, x) in entries {
                    let key = match k {
                        Value::String(t) => t.clone(),
                        Value::Null => {
                            return Err(ConnectError {
                                exception: "java.lang.NullPointerException",
                                message: None,
                            });
                        }
                        other => {
                            return Err(data(format!(
                                "Invalid type for MAP: {}",
                                other.java_class()
                            )));
                        }
                    };
                    out.push((key, to_avro(cfg, avro, vs, value_node, x)?));
                }
                AvroValue::Map(out)
            } else {
                let array = match &avro.node(node).kind {
                    Kind::Union(types) if s.optional => types
                        .iter()
                        .copied()
                        .find(|t| matches!(avro.node(*t).kind, Kind::Array(_)))
                        .unwrap_or(node),
                    _ => node,
                };
                let Kind::Array(entry) = avro.node(array).kind else {
                    return Err(cast());
                };
                let Kind::Record { name, fields, .. } = &avro.node(entry).kind else {
                    return Err(cast());
                };
                let kn = fields.iter().find(|f| f.name == "key").map(|f| f.schema);
                let vn = fields.iter().find(|f| f.name == "value").map(|f| f.schema);
                let (Some(kn), Some(vn)) = (kn, vn) else {
                    return Err(cast());
                };
                let mut out = Vec::with_capacity(entries.len());
                for (k, x) in entries {
                    out.push(AvroValue::Record {
                        name: name.full(),
                        fields: vec![
                            to_avro(cfg, avro, ks, kn, k)?,
                            to_avro(cfg, avro, vs, vn, x)?,
                        ],
                    });
                }
                AvroValue::Array(out)
            }
        }
        SchemaType::Struct => {
            let Value::Struct(st) = v else {
                return Err(cast());
            };
            if *st.schema != *s {
                return Err(data("Mismatching struct schema"));
            }
            if s.name.as_deref() == Some(AVRO_TYPE_UNION) {
                for f in &s.fields {
                    let fv = st.values.get(f.index).unwrap_or(&Value::Null);
                    if !fv.is_null() {
                        return to_avro(cfg, avro, Some(&f.schema), node, fv);
                    }
                }
                return to_avro(cfg, avro, Some(s), node, &Value::Null);
            }
            let under = underlying(cfg, avro, s, node)?;
            let Kind::Record { name, fields, .. } = &avro.node(under).kind else {
                return Err(cast());
            };
            let mut out = vec![AvroValue::Null; fields.len()];
            for f in &s.fields {
                let field_name = scrub(&f.name);
                let Some(pos) = fields.iter().position(|af| af.name == field_name) else {
                    return Err(ConnectError {
                        exception: "java.lang.NullPointerException",
                        message: None,
                    });
                };
                let fv = st.values.get(f.index).unwrap_or(&Value::Null);
                out[pos] = to_avro(cfg, avro, Some(&f.schema), fields[pos].schema, fv)?;
            }
            AvroValue::Record {
                name: name.full(),
                fields: out,
            }
        }
    })
}

/// `avroSchemaForUnderlyingTypeIfOptional`: the member of an optional schema's union that is
/// the schema itself.
fn underlying(
    cfg: &AvroDataConfig,
    avro: &AvroSchema,
    s: &ConnectSchema,
    node: NodeId,
) -> Result<NodeId, ConnectError> {
    if !s.optional {
        return Ok(node);
    }
    let Kind::Union(types) = &avro.node(node).kind else {
        return Err(data(format!(
            "An optional schema should have an Avro Union type, not {}",
            s.type_name()
        )));
    };
    let full = s.name.as_deref().map(|n| {
        if cfg.scrub_invalid_names {
            n.split('.').map(scrub_name).collect::<Vec<_>>().join(".")
        } else {
            n.to_string()
        }
    });
    let connect_type = s.schema_type.json_name();
    Ok(types
        .iter()
        .copied()
        .find(|t| {
            let m = avro.node(*t);
            !matches!(m.kind, Kind::Null)
                && (Some(m.full_name()) == full
                    || m.type_name() == connect_type
                    || (s.name.is_none() && m.full_name().starts_with(DEFAULT_SCHEMA_FULL_NAME)))
        })
        .unwrap_or(node))
}

/// Schemaless data as an `Anything` record.
fn schemaless(value: &Value, container_null: bool) -> Result<AvroValue, ConnectError> {
    const FIELDS: usize = 9;
    let record = |slot: Option<(usize, AvroValue)>| {
        let mut fields = vec![AvroValue::Null; FIELDS];
        if let Some((i, v)) = slot {
            fields[i] = v;
        }
        AvroValue::Record {
            name: "io.confluent.connect.avro.Anything".into(),
            fields,
        }
    };
    Ok(match value {
        Value::Null if container_null => record(None),
        Value::Null => AvroValue::Null,
        Value::Bool(b) => record(Some((0, AvroValue::Boolean(*b)))),
        Value::F64(d) => record(Some((2, AvroValue::Double(*d)))),
        Value::F32(f) => record(Some((3, AvroValue::Float(*f)))),
        Value::I8(x) => record(Some((4, AvroValue::Int(i32::from(*x))))),
        Value::I16(x) => record(Some((4, AvroValue::Int(i32::from(*x))))),
        Value::I32(x) => record(Some((4, AvroValue::Int(*x)))),
        Value::I64(x) => record(Some((5, AvroValue::Long(*x)))),
        Value::String(t) => record(Some((6, AvroValue::String(t.clone())))),
        Value::Utf16(u) => record(Some((
            6,
            AvroValue::String(crate::java::utf16_lossy(u, '?')),
        ))),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                out.push(schemaless(i, true)?);
            }
            record(Some((7, AvroValue::Array(out))))
        }
        Value::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                out.push(AvroValue::Record {
                    name: "io.confluent.connect.avro.MapEntry".into(),
                    fields: vec![schemaless(k, true)?, schemaless(v, true)?],
                });
            }
            record(Some((8, AvroValue::Array(out))))
        }
        other => {
            return Err(data(format!(
                "Unknown Java type for schemaless data: {}",
                other.java_class().trim_start_matches("class ")
            )));
        }
    })
}

/// Why Avro's writer failed (the serializer wraps it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteError(pub String);

/// `GenericDatumWriter.write`: `value` against node `id` of `avro`; records by field
/// position, unions by the datum's schema name.
pub fn write(
    out: &mut Vec<u8>,
    avro: &AvroSchema,
    id: NodeId,
    value: &AvroValue,
) -> Result<(), WriteError> {
    let node = avro.node(id);
    let wrong = || {
        WriteError(format!(
            "{} is not a {}",
            value.schema_name(),
            node.type_name()
        ))
    };
    match (&node.kind, value) {
        (Kind::Union(types), v) => {
            let name = v.schema_name();
            let Some(i) = types.iter().position(|t| avro.node(*t).full_name() == name) else {
                return Err(WriteError(format!("Not in union {avro}: {name}")));
            };
            write_long(out, i as i64);
            write(out, avro, types[i], v)
        }
        (Kind::Null, AvroValue::Null) => Ok(()),
        (_, AvroValue::Null) => Err(WriteError("null of non-nullable type".into())),
        (Kind::Boolean, AvroValue::Boolean(b)) => {
            out.push(u8::from(*b));
            Ok(())
        }
        (Kind::Int, AvroValue::Int(x)) => {
            write_long(out, i64::from(*x));
            Ok(())
        }
        (Kind::Long, AvroValue::Int(x)) => {
            write_long(out, i64::from(*x));
            Ok(())
        }
        (Kind::Long, AvroValue::Long(x)) => {
            write_long(out, *x);
            Ok(())
        }
        (Kind::Int, AvroValue::Long(x)) => {
            write_long(out, i64::from(*x as i32));
            Ok(())
        }
        (Kind::Float, AvroValue::Float(x)) => {
            out.extend_from_slice(&x.to_le_bytes());
            Ok(())
        }
        (Kind::Float, AvroValue::Int(x)) => {
            out.extend_from_slice(&(*x as f32).to_le_bytes());
            Ok(())
        }
        (Kind::Float, AvroValue::Long(x)) => {
            out.extend_from_slice(&(*x as f32).to_le_bytes());
            Ok(())
        }
        (Kind::Float, AvroValue::Double(x)) => {
            out.extend_from_slice(&(*x as f32).to_le_bytes());
            Ok(())
        }
        (Kind::Double, AvroValue::Double(x)) => {
            out.extend_from_slice(&x.to_le_bytes());
            Ok(())
        }
        (Kind::Double, AvroValue::Float(x)) => {
            out.extend_from_slice(&f64::from(*x).to_le_bytes());
            Ok(())
        }
        (Kind::Double, AvroValue::Int(x)) => {
            out.extend_from_slice(&f64::from(*x).to_le_bytes());
            Ok(())
        }
        (Kind::Double, AvroValue::Long(x)) => {
            out.extend_from_slice(&(*x as f64).to_le_bytes());
            Ok(())
        }
        (Kind::String, AvroValue::String(s)) => {
            write_bytes(out, s.as_bytes());
            Ok(())
        }
        (Kind::Bytes, AvroValue::Bytes(b)) => {
            write_bytes(out, b);
            Ok(())
        }
        (
            Kind::Enum { symbols, .. },
            AvroValue::Enum { symbol, .. } | AvroValue::String(symbol),
        ) => {
            let Some(i) = symbols.iter().position(|s| s == symbol) else {
                return Err(WriteError(format!("unknown enum symbol {symbol}")));
            };
            write_long(out, i as i64);
            Ok(())
        }
        (Kind::Fixed { size, .. }, AvroValue::Fixed { bytes, .. } | AvroValue::Bytes(bytes)) => {
            // Java copies `size` bytes: a longer value is cut, a shorter one fails.
            let Some(b) = bytes.get(..*size) else {
                return Err(WriteError("fixed value too short".into()));
            };
            out.extend_from_slice(b);
            Ok(())
        }
        (Kind::Record { fields, .. }, AvroValue::Record { fields: values, .. }) => {
            for (i, f) in fields.iter().enumerate() {
                let Some(v) = values.get(i) else {
                    return Err(WriteError(format!(
                        "Index {i} out of bounds for length {}",
                        values.len()
                    )));
                };
                write(out, avro, f.schema, v)?;
            }
            Ok(())
        }
        (Kind::Array(items), AvroValue::Array(values)) => {
            if !values.is_empty() {
                write_long(out, values.len() as i64);
                for v in values {
                    write(out, avro, *items, v)?;
                }
            }
            out.push(0);
            Ok(())
        }
        (Kind::Map(vs), AvroValue::Map(entries)) => {
            if !entries.is_empty() {
                write_long(out, entries.len() as i64);
                for (k, v) in entries {
                    write_bytes(out, k.as_bytes());
                    write(out, avro, *vs, v)?;
                }
            }
            out.push(0);
            Ok(())
        }
        _ => Err(wrong()),
    }
}
