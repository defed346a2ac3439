//! Confluent's `AvroData` from Avro to Connect (7.0.16 semantics): an Avro schema becomes a
//! Connect schema (names, versions, docs, parameters, defaults, unions as
//! `io.confluent.connect.avro.Union` structs, enums as annotated strings) and generic Avro
//! data becomes Connect values, with the exact `DataException`s of `toConnectData`.

use std::sync::Arc;

use super::binary::Datum;
use super::schema::{AvroSchema, Kind, NodeId, java_object_string};
use crate::error::ConnectError;
use crate::json::jackson::Node as Json;
use crate::model::schema::{ConnectSchema, Field, SchemaType, logical};
use crate::model::value::{Struct, Value};

pub const NAMESPACE: &str = "io.confluent.connect.avro";
pub const DEFAULT_SCHEMA_FULL_NAME: &str = "io.confluent.connect.avro.ConnectDefault";
pub const AVRO_TYPE_UNION: &str = "io.confluent.connect.avro.Union";
pub const AVRO_TYPE_ENUM: &str = "io.confluent.connect.avro.Enum";
pub const AVRO_TYPE_ANYTHING: &str = "io.confluent.connect.avro.Anything";
pub const AVRO_RECORD_DOC_PROP: &str = "io.confluent.connect.avro.record.doc";
pub const AVRO_ENUM_DOC_PREFIX_PROP: &str = "io.confluent.connect.avro.enum.doc.";
pub const AVRO_FIELD_DOC_PREFIX_PROP: &str = "io.confluent.connect.avro.field.doc.";
pub const AVRO_FIELD_DEFAULT_FLAG_PROP: &str = "io.confluent.connect.avro.field.default";
pub const AVRO_ENUM_DEFAULT_PREFIX_PROP: &str = "io.confluent.connect.avro.enum.default.";
pub const CONNECT_NAME_PROP: &str = "connect.name";
pub const CONNECT_DOC_PROP: &str = "connect.doc";
pub const CONNECT_RECORD_DOC_PROP: &str = "connect.record.doc";
pub const CONNECT_ENUM_DOC_PROP: &str = "connect.enum.doc";
pub const CONNECT_VERSION_PROP: &str = "connect.version";
pub const CONNECT_DEFAULT_VALUE_PROP: &str = "connect.default";
pub const CONNECT_PARAMETERS_PROP: &str = "connect.parameters";
pub const CONNECT_INTERNAL_TYPE_NAME: &str = "connect.internal.type";
pub const CONNECT_TYPE_PROP: &str = "connect.type";
pub const CONNECT_AVRO_FIXED_SIZE_PROP: &str = "connect.fixed.size";
pub const CONNECT_AVRO_DECIMAL_PRECISION_PROP: &str = "connect.decimal.precision";
pub const CONNECT_AVRO_DECIMAL_PRECISION_DEFAULT: i64 = 64;
pub const MAP_ENTRY_TYPE_NAME: &str = "MapEntry";

/// `AvroDataConfig` plus the deserializer settings that change what Avro hands to AvroData.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvroDataConfig {
    pub enhanced_schema_support: bool,
    pub connect_meta_data: bool,
    pub scrub_invalid_names: bool,
    pub discard_type_doc_default: bool,
    pub allow_optional_map_keys: bool,
    pub schemas_cache_size: i32,
    /// `avro.use.logical.type.converters`: Avro then hands `java.time` objects and
    /// `BigDecimal`s to AvroData, which rejects them.
    pub use_logical_type_converters: bool,
}

impl Default for AvroDataConfig {
    fn default() -> Self {
        Self {
            enhanced_schema_support: false,
            connect_meta_data: true,
            scrub_invalid_names: false,
            discard_type_doc_default: false,
            allow_optional_map_keys: false,
            schemas_cache_size: 1000,
            use_logical_type_converters: false,
        }
    }
}

/// A Java object as Avro hands it to AvroData: decoded data, or a field default from
/// `JacksonUtils.toObject`.
#[derive(Debug, Clone, PartialEq)]
pub enum JavaObject {
    /// Java `null`.
    Null,
    /// `JsonProperties.NULL_VALUE` (a JSON `null` default).
    NullValue,
    Boolean(bool),
    Integer(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    String(String),
    /// `ByteBuffer` / `byte[]`.
    Bytes(Vec<u8>),
    /// `GenericRecord` of a record node.
    Record(NodeId, Vec<JavaObject>),
    /// `GenericEnumSymbol` of an enum node.
    Enum(NodeId, String),
    /// `GenericFixed` of a fixed node.
    Fixed(NodeId, Vec<u8>),
    List(Vec<JavaObject>),
    /// A `Map` (Avro map data, or a record/map default), keys in order.
    Map(Vec<(String, JavaObject)>),
    /// A `java.time`/`BigDecimal`/`UUID` object from a logical-type conversion.
    Converted(&'static str),
}

impl JavaObject {
    fn class(&self) -> String {
        match self {
            JavaObject::Null | JavaObject::NullValue => "null".into(),
            JavaObject::Boolean(_) => "class java.lang.Boolean".into(),
            JavaObject::Integer(_) => "class java.lang.Integer".into(),
            JavaObject::Long(_) => "class java.lang.Long".into(),
            JavaObject::Float(_) => "class java.lang.Float".into(),
            JavaObject::Double(_) => "class java.lang.Double".into(),
            JavaObject::String(_) => "class org.apache.avro.util.Utf8".into(),
            JavaObject::Bytes(_) => "class java.nio.HeapByteBuffer".into(),
            JavaObject::Record(..) => "class org.apache.avro.generic.GenericData$Record".into(),
            JavaObject::Enum(..) => "class org.apache.avro.generic.GenericData$EnumSymbol".into(),
            JavaObject::Fixed(..) => "class org.apache.avro.generic.GenericData$Fixed".into(),
            JavaObject::List(_) => "class org.apache.avro.generic.GenericData$Array".into(),
            JavaObject::Map(_) => "class java.util.HashMap".into(),
            JavaObject::Converted(c) => format!("class {c}"),
        }
    }
}

fn data(message: impl Into<String>) -> ConnectError {
    ConnectError::data(message)
}

/// `SchemaBuilder.parameter`: replaces in place, else appends.
fn set_param(schema: &mut ConnectSchema, key: &str, value: &str) {
    let params = schema.parameters.get_or_insert_with(Vec::new);
    match params.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value.to_string(),
        None => params.push((key.to_string(), value.to_string())),
    }
}

/// `AvroData.doScrubName`: invalid characters become `_`, a bad first character gets a
/// leading `x`.
pub fn scrub_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    for (i, c) in name.chars().enumerate() {
        let ok = c.is_ascii_alphanumeric() || c == '_';
        if i == 0 && !(c.is_ascii_alphabetic() || c == '_') {
            out.push('x');
            out.push(if ok { c } else { '_' });
        } else {
            out.push(if ok { c } else { '_' });
        }
    }
    out
}

/// Converts Avro schemas and data to Connect.
#[derive(Debug, Clone)]
pub struct ToConnect<'a> {
    pub cfg: &'a AvroDataConfig,
    pub avro: &'a AvroSchema,
}

impl<'a> ToConnect<'a> {
    pub fn new(cfg: &'a AvroDataConfig, avro: &'a AvroSchema) -> Self {
        Self { cfg, avro }
    }

    fn scrub(&self, name: &str) -> String {
        if self.cfg.scrub_invalid_names {
            scrub_name(name)
        } else {
            name.to_string()
        }
    }

    /// `splitName(name)[1]` (each dotted part scrubbed when configured).
    fn simple_name(&self, full: &str) -> String {
        let last = full.rsplit('.').next().unwrap_or(full);
        self.scrub(last)
    }

    /// `unionMemberFieldName(avroSchema)`.
    fn union_member_name(&self, id: NodeId) -> String {
        let node = self.avro.node(id);
        match node.name() {
            Some(n) if self.cfg.enhanced_schema_support => n.full(),
            Some(n) => self.simple_name(&n.name),
            None => node.type_name().to_string(),
        }
    }

    /// `unionMemberFieldName(connectSchema)`.
    fn connect_union_member_name(&self, s: &ConnectSchema) -> String {
        let is_enum = s.schema_type == SchemaType::String && s.parameter(AVRO_TYPE_ENUM).is_some();
        let is_fixed = s.schema_type == SchemaType::Bytes
            && s.name.is_some()
            && s.parameter(CONNECT_AVRO_FIXED_SIZE_PROP).is_some();
        if s.schema_type == SchemaType::Struct || is_enum || is_fixed {
            let name = s.name.clone().unwrap_or_default();
            if self.cfg.enhanced_schema_support {
                if self.cfg.scrub_invalid_names {
                    return name
                        .split('.')
                        .map(scrub_name)
                        .collect::<Vec<_>>()
                        .join(".");
                }
                return name;
            }
            return self.simple_name(&name);
        }
        match s.schema_type {
            SchemaType::Int32 => "int",
            SchemaType::Int64 => "long",
            SchemaType::Float32 => "float",
            SchemaType::Float64 => "double",
            SchemaType::Boolean => "boolean",
            SchemaType::String => "string",
            SchemaType::Bytes => "bytes",
            SchemaType::Array => "array",
            SchemaType::Map => "map",
            _ => "null",
        }
        .to_string()
    }

    fn is_map_entry(&self, id: NodeId) -> bool {
        let node = self.avro.node(id);
        let Kind::Record { name, .. } = &node.kind else {
            return false;
        };
        (name.space.as_deref() == Some(NAMESPACE) && name.name == MAP_ENTRY_TYPE_NAME)
            || node.text_prop(CONNECT_INTERNAL_TYPE_NAME) == Some(MAP_ENTRY_TYPE_NAME)
    }

    /// `toConnectSchema(schema, version)` of the root: `None` for the schemaless `Anything`.
    pub fn root_schema(
        &self,
        version: Option<i32>,
    ) -> Result<Option<Arc<ConnectSchema>>, ConnectError> {
        let root = self.avro.root_node();
        if root.name().is_some_and(|n| n.full() == AVRO_TYPE_ANYTHING) {
            return Ok(None);
        }
        if self.avro.has_recursion() {
            return Err(ConnectError {
                exception: "java.lang.StackOverflowError",
                message: None,
            });
        }
        self.schema(self.avro.root, false, None, None, version)
            .map(|s| Some(Arc::new(s)))
    }

    /// The private `toConnectSchema(schema, forceOptional, fieldDefaultVal, docDefaultVal,
    /// version)`.
    fn schema(
        &self,
        id: NodeId,
        force_optional: bool,
        field_default: Option<JavaObject>,
        doc_default: Option<&str>,
        version: Option<i32>,
    ) -> Result<ConnectSchema, ConnectError> {
        let node = self.avro.node(id);
        let connect_type = node.text_prop(CONNECT_TYPE_PROP);
        let logical_type = node.text_prop("logicalType");
        let is = |l: &str| logical_type.is_some_and(|t| t.eq_ignore_ascii_case(l));
        let cfg = self.cfg;
        let mut b: ConnectSchema;
        match &node.kind {
            Kind::Boolean => b = ConnectSchema::new(SchemaType::Boolean, false),
            Kind::Bytes | Kind::Fixed { .. } => {
                if is("decimal") {
                    let scale = match node.prop("scale") {
                        Some(n @ (Json::Int(_) | Json::Decimal(_))) => number_int_value(n),
                        _ => 0,
                    };
                    b = ConnectSchema::new(SchemaType::Bytes, false);
                    b.name = Some(logical::DECIMAL.into());
                    b.version = Some(1);
                    set_param(&mut b, logical::SCALE_PARAM, &scale.to_string());
                    if let Some(p) = node.prop("precision") {
                        if !matches!(p, Json::Int(_) | Json::Decimal(_)) {
                            return Err(data(
                                "precision property must be a JSON Integer. https://avro.apache.org/docs/1.9.1/spec.html#Decimal",
                            ));
                        }
                        let precision = number_int_value(p);
                        if i64::from(precision) != CONNECT_AVRO_DECIMAL_PRECISION_DEFAULT {
                            set_param(
                                &mut b,
                                CONNECT_AVRO_DECIMAL_PRECISION_PROP,
                                &precision.to_string(),
                            );
                        }
                    }
                } else {
                    b = ConnectSchema::new(SchemaType::Bytes, false);
                }
                if let Kind::Fixed { size, .. } = &node.kind {
                    set_param(&mut b, CONNECT_AVRO_FIXED_SIZE_PROP, &size.to_string());
                }
            }
            Kind::Double => b = ConnectSchema::new(SchemaType::Float64, false),
            Kind::Float => b = ConnectSchema::new(SchemaType::Float32, false),
            Kind::Int => {
                if connect_type.is_none() && logical_type.is_none() {
                    b = ConnectSchema::new(SchemaType::Int32, false);
                } else if logical_type.is_some() {
                    b = ConnectSchema::new(SchemaType::Int32, false);
                    if is("date") {
                        b.name = Some(logical::DATE.into());
                        b.version = Some(1);
                    } else if is("time-millis") {
                        b.name = Some(logical::TIME.into());
                        b.version = Some(1);
                    }
                } else {
                    b = match connect_type {
                        Some("int8") => ConnectSchema::new(SchemaType::Int8, false),
                        Some("int16") => ConnectSchema::new(SchemaType::Int16, false),
                        _ => {
                            return Err(data("Connect type annotation for Avro int field is null"));
                        }
                    };
                }
            }
            Kind::Long => {
                b = ConnectSchema::new(SchemaType::Int64, false);
                if is("timestamp-millis") {
                    b.name = Some(logical::TIMESTAMP.into());
                    b.version = Some(1);
                }
            }
            Kind::String => b = ConnectSchema::new(SchemaType::String, false),
            Kind::Array(items) => {
                if self.is_map_entry(*items) {
                    let Kind::Record { fields, .. } = &self.avro.node(*items).kind else {
                        return Err(data("not a record"));
                    };
                    let key = fields.iter().find(|f| f.name == "key");
                    let value = fields.iter().find(|f| f.name == "value");
                    let (Some(key), Some(value), 2) = (key, value, fields.len()) else {
                        return Err(data(
                            "Found map encoded as array of key-value pairs, but array elements do not match the expected format.",
                        ));
                    };
                    b = ConnectSchema::new(SchemaType::Map, false);
                    b.key = Some(Arc::new(self.schema(key.schema, false, None, None, None)?));
                    b.value = Some(Arc::new(self.schema(
                        value.schema,
                        false,
                        None,
                        None,
                        None,
                    )?));
                } else {
                    b = ConnectSchema::new(SchemaType::Array, false);
                    b.value = Some(Arc::new(self.schema(*items, false, None, None, None)?));
                }
            }
            Kind::Map(values) => {
                b = ConnectSchema::new(SchemaType::Map, false);
                b.key = Some(ConnectSchema::string());
                b.value = Some(Arc::new(self.schema(*values, false, None, None, None)?));
            }
            Kind::Record { doc, fields, .. } => {
                b = ConnectSchema::new(SchemaType::Struct, false);
                if !cfg.discard_type_doc_default
                    && cfg.connect_meta_data
                    && let Some(d) = doc
                {
                    set_param(&mut b, AVRO_RECORD_DOC_PROP, d);
                }
                for f in fields {
                    if !cfg.discard_type_doc_default
                        && cfg.connect_meta_data
                        && let Some(d) = &f.doc
                    {
                        set_param(
                            &mut b,
                            &format!("{AVRO_FIELD_DOC_PREFIX_PROP}{}", f.name),
                            d,
                        );
                    }
                    // `field.defaultVal()`: a default Avro cannot read as the field's type is
                    // no default (Java null, or an exception AvroData ignores).
                    let default = f
                        .default
                        .as_ref()
                        .and_then(|d| to_object(self.avro, d, Some(f.schema)))
                        .filter(|o| !matches!(o, JavaObject::Null));
                    let fs = self.schema(f.schema, false, default, f.doc.as_deref(), None)?;
                    let index = b.fields.len();
                    b.fields.push(Field {
                        name: f.name.clone(),
                        index,
                        schema: Arc::new(fs),
                    });
                }
            }
            Kind::Enum {
                name,
                doc,
                symbols,
                default,
                ..
            } => {
                b = ConnectSchema::new(SchemaType::String, false);
                if cfg.connect_meta_data {
                    if let Some(d) = doc {
                        let key = if cfg.discard_type_doc_default {
                            CONNECT_ENUM_DOC_PROP.to_string()
                        } else {
                            format!("{AVRO_ENUM_DOC_PREFIX_PROP}{}", name.name)
                        };
                        set_param(&mut b, &key, d);
                    }
                    if !cfg.discard_type_doc_default
                        && let Some(d) = default
                    {
                        set_param(
                            &mut b,
                            &format!("{AVRO_ENUM_DEFAULT_PREFIX_PROP}{}", name.name),
                            d,
                        );
                    }
                }
                set_param(&mut b, AVRO_TYPE_ENUM, &name.full());
                for s in symbols {
                    set_param(&mut b, &format!("{AVRO_TYPE_ENUM}.{s}"), s);
                }
            }
            Kind::Union(types) => {
                let null_member = types
                    .iter()
                    .position(|t| matches!(self.avro.node(*t).kind, Kind::Null));
                if types.len() == 2
                    && let Some(n) = null_member
                {
                    let other = types[1 - n];
                    return self.schema(other, true, None, doc_default, None);
                }
                b = ConnectSchema::new(SchemaType::Struct, false);
                b.name = Some(AVRO_TYPE_UNION.into());
                let mut names: Vec<String> = Vec::new();
                for t in types {
                    if matches!(self.avro.node(*t).kind, Kind::Null) {
                        b.optional = true;
                    } else {
                        let field_name = self.union_member_name(*t);
                        if names.contains(&field_name) {
                            return Err(data(
                                "Multiple union schemas map to the Connect union field name",
                            ));
                        }
                        names.push(field_name.clone());
                        let fs = self.schema(*t, true, None, None, None)?;
                        let index = b.fields.len();
                        b.fields.push(Field {
                            name: field_name,
                            index,
                            schema: Arc::new(fs),
                        });
                    }
                }
            }
            Kind::Null => {
                return Err(data(
                    "Standalone null schemas are not supported by this converter",
                ));
            }
        }

        if cfg.discard_type_doc_default {
            let doc = doc_default
                .map(str::to_string)
                .or_else(|| node.doc().map(str::to_string))
                .or_else(|| node.text_prop(CONNECT_DOC_PROP).map(str::to_string));
            if doc.is_some() {
                b.doc = doc;
            }
            if cfg.connect_meta_data
                && let Some(d) = node.doc()
            {
                set_param(&mut b, CONNECT_RECORD_DOC_PROP, d);
            }
        } else if let Some(d) = node.text_prop(CONNECT_DOC_PROP)
            && cfg.connect_meta_data
        {
            b.doc = Some(d.to_string());
        }

        let mut version_int: i64 = -1;
        if let Some(v) = node.prop(CONNECT_VERSION_PROP) {
            if !matches!(v, Json::Int(_) | Json::Decimal(_)) {
                return Err(data(format!(
                    "Invalid Connect version found: {}",
                    java_object_string(v)
                )));
            }
            version_int = i64::from(number_int_value(v));
        } else if let Some(v) = version {
            version_int = i64::from(v);
        }
        if version_int >= 0 {
            let v = version_int as i32;
            match b.version {
                Some(existing) if existing != v => {
                    return Err(data(format!(
                        "Mismatched versions: version already added to SchemaBuilder ({existing}) differs from version in source schema ({v})"
                    )));
                }
                _ => b.version = Some(v),
            }
        }

        if let Some(p) = node.prop(CONNECT_PARAMETERS_PROP)
            && cfg.connect_meta_data
        {
            let Json::Object(members) = p else {
                return Err(data(format!(
                    "Expected JSON object for schema parameters but found: {}",
                    java_object_string(p)
                )));
            };
            for (k, v) in members {
                let Json::String(s) = v else {
                    return Err(data(format!(
                        "Expected schema parameter values to be strings but found: {}",
                        java_object_string(v)
                    )));
                };
                set_param(&mut b, k, s);
            }
        }
        for (k, v) in &node.props {
            if k.starts_with("avro") {
                set_param(&mut b, k, &java_object_string(v));
            }
        }

        let connect_default = node.prop(CONNECT_DEFAULT_VALUE_PROP);
        let default_source = match field_default {
            None => connect_default.cloned().map(DefaultSource::Json),
            Some(obj) => {
                if !cfg.discard_type_doc_default
                    && cfg.connect_meta_data
                    && connect_default.is_none()
                {
                    set_param(&mut b, AVRO_FIELD_DEFAULT_FLAG_PROP, "true");
                }
                Some(DefaultSource::Object(obj))
            }
        };
        if let Some(src) = default_source {
            // An invalid default is ignored (AvroData logs and goes on).
            if let Ok(Some(v)) = self.default_value(&b, id, src)
                && (crate::model::schema::validate_put(None, &b, &v).is_ok()
                    || matches!(v, Value::Struct(_)))
            {
                b.default = Some(v);
            }
        }

        let name = match node.prop(CONNECT_NAME_PROP) {
            Some(Json::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(data(format!(
                    "Invalid schema name: {}",
                    java_object_string(other)
                )));
            }
            None => node.name().map(super::schema::Name::full),
        };
        if let Some(name) = name
            && !name.starts_with(DEFAULT_SCHEMA_FULL_NAME)
        {
            match &b.name {
                Some(existing) if *existing != name => {
                    return Err(data(format!(
                        "Mismatched names: name already added to SchemaBuilder ({existing}) differs from name in source schema ({name})"
                    )));
                }
                _ => b.name = Some(name),
            }
        }
        if force_optional {
            b.optional = true;
        }
        Ok(b)
    }

    /// `defaultValueFromAvro`: a default against the schema being built (`builder`, whose
    /// snapshot a struct default keeps: JsonConverter later finds it is not the final
    /// schema, as Kafka does with the unfinished `SchemaBuilder`).
    fn default_value(
        &self,
        builder: &ConnectSchema,
        id: NodeId,
        src: DefaultSource,
    ) -> Result<Option<Value>, ConnectError> {
        let snapshot = Arc::new(builder.clone());
        let raw = match src {
            DefaultSource::Object(obj) => self.value(&snapshot, &obj, false)?,
            DefaultSource::Json(json) => self.default_from_json(&snapshot, id, &json)?,
        };
        Ok(Some(to_logical(builder, raw)?).filter(|v| !v.is_null()))
    }

    fn default_from_json(
        &self,
        schema: &Arc<ConnectSchema>,
        id: NodeId,
        json: &Json,
    ) -> Result<Value, ConnectError> {
        let node = self.avro.node(id);
        if matches!(json, Json::Null) {
            return Ok(Value::Null);
        }
        Ok(match &node.kind {
            Kind::Int => match schema.schema_type {
                SchemaType::Int8 => Value::I8(json.int_value() as i8),
                SchemaType::Int16 => Value::I16(json.int_value() as i16),
                SchemaType::Int32 => Value::I32(json.int_value()),
                _ => Value::Null,
            },
            Kind::Long => Value::I64(json.long_value()),
            Kind::Float => Value::F32(json.double_value() as f32),
            Kind::Double => Value::F64(json.double_value()),
            Kind::Boolean => Value::Bool(matches!(json, Json::Bool(true))),
            Kind::Null => Value::Null,
            Kind::String | Kind::Enum { .. } => Value::String(match json {
                Json::String(s) => s.clone(),
                other => java_object_string(other),
            }),
            Kind::Bytes | Kind::Fixed { .. } => match json {
                Json::String(s) => Value::Bytes(s.chars().map(|c| c as u32 as u8).collect()),
                _ => return Err(data("Invalid binary data in default value")),
            },
            Kind::Array(items) => {
                let Json::Array(elems) = json else {
                    return Err(data("Invalid JSON for array default value"));
                };
                let vs = schema.value.clone().unwrap_or_else(ConnectSchema::string);
                let mut out = Vec::with_capacity(elems.len());
                for e in elems {
                    let v = self.default_from_json(&vs, *items, e)?;
                    out.push(to_logical(&vs, v)?);
                }
                Value::Array(out)
            }
            Kind::Map(values) => {
                let Json::Object(members) = json else {
                    return Err(data("Invalid JSON for map default value"));
                };
                let vs = schema.value.clone().unwrap_or_else(ConnectSchema::string);
                let mut out = Vec::with_capacity(members.len());
                for (k, e) in members {
                    let v = self.default_from_json(&vs, *values, e)?;
                    out.push((Value::String(k.clone()), to_logical(&vs, v)?));
                }
                Value::Map(out)
            }
            Kind::Record { fields, .. } => {
                let Json::Object(_) = json else {
                    return Err(data("Invalid JSON for record default value"));
                };
                let mut values = vec![Value::Null; schema.fields.len()];
                for f in fields {
                    let Some(field) = schema.field(&f.name) else {
                        return Err(data(format!("{} is not a valid field name", f.name)));
                    };
                    let v = match json.get(&field.name) {
                        Some(j) => {
                            let v = self.default_from_json(&field.schema, f.schema, j)?;
                            to_logical(&field.schema, v)?
                        }
                        None => Value::Null,
                    };
                    values[field.index] = v;
                }
                Value::Struct(Struct {
                    schema: schema.clone(),
                    values,
                })
            }
            Kind::Union(types) => {
                let first = types[0];
                if matches!(self.avro.node(first).kind, Kind::Null) {
                    return Ok(Value::Null);
                }
                let name = self.union_member_name(first);
                let Some(field) = schema.field(&name) else {
                    return Ok(Value::Null);
                };
                let v = self.default_from_json(&field.schema, first, json)?;
                to_logical(&field.schema, v)?
            }
        })
    }

    /// `toConnectData(schema, value)` with the logical conversion (`do_logical`).
    pub fn value(
        &self,
        schema: &Arc<ConnectSchema>,
        value: &JavaObject,
        do_logical: bool,
    ) -> Result<Value, ConnectError> {
        if matches!(value, JavaObject::Null) && !schema.optional {
            return Err(data("Found null value for non-optional schema"));
        }
        if matches!(value, JavaObject::Null | JavaObject::NullValue) {
            return Ok(Value::Null);
        }
        let cast = || {
            data(format!(
                "Invalid type for {}: {}",
                schema.type_name(),
                value.class()
            ))
        };
        let converted = match schema.schema_type {
            SchemaType::Int32 => match value {
                JavaObject::Integer(v) => Value::I32(*v),
                _ => return Err(cast()),
            },
            SchemaType::Int64 => match value {
                JavaObject::Long(v) => Value::I64(*v),
                _ => return Err(cast()),
            },
            SchemaType::Float32 => match value {
                JavaObject::Float(v) => Value::F32(*v),
                _ => return Err(cast()),
            },
            SchemaType::Float64 => match value {
                JavaObject::Double(v) => Value::F64(*v),
                _ => return Err(cast()),
            },
            SchemaType::Boolean => match value {
                JavaObject::Boolean(v) => Value::Bool(*v),
                _ => return Err(cast()),
            },
            SchemaType::Int8 => match value {
                JavaObject::Integer(v) => Value::I8(*v as i8),
                _ => return Err(cast()),
            },
            SchemaType::Int16 => match value {
                JavaObject::Integer(v) => Value::I16(*v as i16),
                _ => return Err(cast()),
            },
            SchemaType::String => match value {
                JavaObject::String(s) | JavaObject::Enum(_, s) => Value::String(s.clone()),
                other => {
                    return Err(data(format!(
                        "Invalid class for string type, expecting String or CharSequence but found {}",
                        other.class()
                    )));
                }
            },
            SchemaType::Bytes => match value {
                JavaObject::Bytes(b) | JavaObject::Fixed(_, b) => Value::Bytes(b.clone()),
                other => {
                    return Err(data(format!(
                        "Invalid class for bytes type, expecting byte[] or ByteBuffer but found {}",
                        other.class()
                    )));
                }
            },
            SchemaType::Array => {
                let JavaObject::List(items) = value else {
                    return Err(cast());
                };
                let vs = schema.value.clone().unwrap_or_else(ConnectSchema::string);
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.value(&vs, i, true)?);
                }
                Value::Array(out)
            }
            SchemaType::Map => {
                let ks = schema.key.clone().unwrap_or_else(ConnectSchema::string);
                let vs = schema.value.clone().unwrap_or_else(ConnectSchema::string);
                if ks.schema_type == SchemaType::String && !ks.optional {
                    let JavaObject::Map(entries) = value else {
                        return Err(cast());
                    };
                    let mut out = Vec::with_capacity(entries.len());
                    for (k, v) in entries {
                        out.push((Value::String(k.clone()), self.value(&vs, v, true)?));
                    }
                    Value::Map(out)
                } else {
                    let JavaObject::List(entries) = value else {
                        return Err(cast());
                    };
                    let mut out: Vec<(Value, Value)> = Vec::with_capacity(entries.len());
                    for e in entries {
                        let JavaObject::Record(rid, fields) = e else {
                            return Err(cast());
                        };
                        let Kind::Record { fields: defs, .. } = &self.avro.node(*rid).kind else {
                            return Err(cast());
                        };
                        let pos = |n: &str| defs.iter().position(|f| f.name == n);
                        let (Some(kp), Some(vp)) = (pos("key"), pos("value")) else {
                            return Err(ConnectError {
                                exception: "java.lang.NullPointerException",
                                message: None,
                            });
                        };
                        let k = self.value(&ks, &fields[kp], true)?;
                        let v = self.value(&vs, &fields[vp], true)?;
                        Value::map_put(&mut out, k, v);
                    }
                    Value::Map(out)
                }
            }
            SchemaType::Struct => {
                if schema.name.as_deref() == Some(AVRO_TYPE_UNION) {
                    let record_schema = match value {
                        JavaObject::Record(rid, _) => {
                            Some(self.schema(*rid, true, None, None, None)?)
                        }
                        _ => None,
                    };
                    let mut found = None;
                    for f in &schema.fields {
                        if self.is_instance_for_simple_schema(&f.schema, value)?
                            || record_schema
                                .as_ref()
                                .is_some_and(|r| schema_equals(r, &f.schema))
                        {
                            let name = self.connect_union_member_name(&f.schema);
                            let v = self.value(&f.schema, value, true)?;
                            let mut values = vec![Value::Null; schema.fields.len()];
                            let Some(target) = schema.field(&name) else {
                                return Err(data(format!("{name} is not a valid field name")));
                            };
                            values[target.index] = v;
                            found = Some(Value::Struct(Struct {
                                schema: schema.clone(),
                                values,
                            }));
                            break;
                        }
                    }
                    match found {
                        Some(v) => v,
                        None => return Err(data("Did not find matching union field for data")),
                    }
                } else {
                    match value {
                        JavaObject::Map(entries) => {
                            let mut values = Vec::with_capacity(schema.fields.len());
                            for f in &schema.fields {
                                let name = self.scrub(&f.name);
                                let v = match entries.iter().find(|(k, _)| *k == name) {
                                    Some((_, v)) => self.value(&f.schema, v, true)?,
                                    None => match &f.schema.default {
                                        Some(d) => d.clone(),
                                        None => self.value(&f.schema, &JavaObject::Null, true)?,
                                    },
                                };
                                values.push(v);
                            }
                            return Ok(Value::Struct(Struct {
                                schema: schema.clone(),
                                values,
                            }));
                        }
                        JavaObject::Record(rid, fields) => {
                            let Kind::Record { fields: defs, .. } = &self.avro.node(*rid).kind
                            else {
                                return Err(cast());
                            };
                            let mut values = Vec::with_capacity(schema.fields.len());
                            for f in &schema.fields {
                                let name = self.scrub(&f.name);
                                let Some(pos) = defs.iter().position(|d| d.name == name) else {
                                    return Err(ConnectError {
                                        exception: "java.lang.NullPointerException",
                                        message: None,
                                    });
                                };
                                values.push(self.value(&f.schema, &fields[pos], true)?);
                            }
                            Value::Struct(Struct {
                                schema: schema.clone(),
                                values,
                            })
                        }
                        _ => return Err(cast()),
                    }
                }
            }
        };
        if do_logical {
            return to_logical(schema, converted);
        }
        Ok(converted)
    }

    /// `isInstanceOfAvroSchemaTypeForSimpleSchema`.
    fn is_instance_for_simple_schema(
        &self,
        field: &ConnectSchema,
        value: &JavaObject,
    ) -> Result<bool, ConnectError> {
        if field.schema_type == SchemaType::String
            && let Some(enum_name) = field.parameter(AVRO_TYPE_ENUM)
        {
            return Ok(match value {
                JavaObject::Enum(id, _) => self.avro.node(*id).full_name() == enum_name,
                _ => false,
            });
        }
        let is_fixed = field.schema_type == SchemaType::Bytes
            && field.name.is_some()
            && field.parameter(CONNECT_AVRO_FIXED_SIZE_PROP).is_some();
        let matches = matches!(
            (field.schema_type, value),
            (SchemaType::Int32, JavaObject::Integer(_))
                | (SchemaType::Int64, JavaObject::Long(_))
                | (SchemaType::Float32, JavaObject::Float(_))
                | (SchemaType::Float64, JavaObject::Double(_))
                | (SchemaType::Boolean, JavaObject::Boolean(_))
                | (
                    SchemaType::String,
                    JavaObject::String(_) | JavaObject::Enum(..)
                )
                | (
                    SchemaType::Bytes,
                    JavaObject::Bytes(_) | JavaObject::Fixed(..)
                )
                | (SchemaType::Array, JavaObject::List(_))
                | (SchemaType::Map, JavaObject::Map(_))
        );
        if !matches {
            return Ok(false);
        }
        if is_fixed {
            let size: usize = field
                .parameter(CONNECT_AVRO_FIXED_SIZE_PROP)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            return Ok(match value {
                JavaObject::Bytes(b) => b.len() == size,
                JavaObject::Fixed(id, _) => {
                    self.union_member_name(*id) == self.connect_union_member_name(field)
                }
                _ => false,
            });
        }
        Ok(true)
    }

    /// Generic Avro data read for node `id` as the Java objects Avro's reader makes.
    pub fn object(&self, id: NodeId, datum: Datum, top_level: bool) -> JavaObject {
        let node = self.avro.node(id);
        if self.cfg.use_logical_type_converters
            && let Some(class) = self.converted_class(id, top_level)
        {
            return JavaObject::Converted(class);
        }
        match (datum, &node.kind) {
            (Datum::Null, _) => JavaObject::Null,
            (Datum::Boolean(b), _) => JavaObject::Boolean(b),
            (Datum::Int(v), _) => JavaObject::Integer(v),
            (Datum::Long(v), _) => JavaObject::Long(v),
            (Datum::Float(v), _) => JavaObject::Float(v),
            (Datum::Double(v), _) => JavaObject::Double(v),
            (Datum::Bytes(b), _) => JavaObject::Bytes(b),
            (Datum::String(s), _) => JavaObject::String(s),
            (Datum::Record(values), Kind::Record { fields, .. }) => JavaObject::Record(
                id,
                values
                    .into_iter()
                    .zip(fields)
                    .map(|(v, f)| self.object(f.schema, v, false))
                    .collect(),
            ),
            (Datum::Enum(i), Kind::Enum { symbols, .. }) => {
                JavaObject::Enum(id, symbols.get(i).cloned().unwrap_or_default())
            }
            (Datum::Array(items), Kind::Array(item)) => JavaObject::List(
                items
                    .into_iter()
                    .map(|d| self.object(*item, d, false))
                    .collect(),
            ),
            (Datum::Map(entries), Kind::Map(vs)) => JavaObject::Map(
                entries
                    .into_iter()
                    .map(|(k, d)| (k, self.object(*vs, d, false)))
                    .collect(),
            ),
            (Datum::Union(i, d), Kind::Union(types)) => self.object(types[i], *d, top_level),
            (Datum::Fixed(b), _) => JavaObject::Fixed(id, b),
            _ => JavaObject::Null,
        }
    }

    /// The class a logical-type conversion turns node `id`'s data into, when Avro's
    /// `GenericData` with AvroData's conversions has one for it.
    fn converted_class(&self, id: NodeId, top_level: bool) -> Option<&'static str> {
        let node = self.avro.node(id);
        let logical = node.text_prop("logicalType")?;
        Some(match (&node.kind, logical) {
            // A top-level bytes value is read raw, a top-level string by toString().
            (Kind::Bytes, _) | (Kind::String, _) if top_level => return None,
            (Kind::Bytes | Kind::Fixed { .. }, "decimal") if valid_decimal(node) => {
                "java.math.BigDecimal"
            }
            (Kind::String, "uuid") => "java.util.UUID",
            (Kind::Int, "date") => "java.time.LocalDate",
            (Kind::Int, "time-millis") => "java.time.LocalTime",
            (Kind::Long, "time-micros") => "java.time.LocalTime",
            (Kind::Long, "timestamp-millis" | "timestamp-micros") => "java.time.Instant",
            (Kind::Long, "local-timestamp-millis" | "local-timestamp-micros") => {
                "java.time.LocalDateTime"
            }
            _ => return None,
        })
    }
}

enum DefaultSource {
    Object(JavaObject),
    Json(Json),
}

/// Whether a decimal logical type is valid as Avro's `LogicalTypes.Decimal.validate` checks.
fn valid_decimal(node: &super::schema::SchemaNode) -> bool {
    let precision = match node.prop("precision") {
        Some(p @ Json::Int(_)) if p.is_int() => p.int_value(),
        _ => return false,
    };
    let scale = match node.prop("scale") {
        None => 0,
        Some(s @ Json::Int(_)) if s.is_int() => s.int_value(),
        _ => return false,
    };
    if precision <= 0 || scale < 0 || scale > precision {
        return false;
    }
    if let Kind::Fixed { size, .. } = &node.kind {
        let max = ((2f64.powi(8 * *size as i32 - 1) - 1.0).log10()).floor() as i32;
        return precision <= max;
    }
    true
}

/// `Number.intValue()` of a JSON number property.
fn number_int_value(n: &Json) -> i32 {
    match n {
        Json::Decimal(t) => t.parse::<f64>().map_or(0, |d| d as i32),
        other => other.int_value(),
    }
}

/// The logical conversion of `TO_CONNECT_LOGICAL_CONVERTERS`.
fn to_logical(schema: &ConnectSchema, value: Value) -> Result<Value, ConnectError> {
    if value.is_null() {
        return Ok(value);
    }
    Ok(match (schema.name.as_deref(), value) {
        (Some(logical::DECIMAL), Value::Bytes(b)) => {
            let scale = schema.decimal_scale().unwrap_or(0);
            if b.is_empty() {
                return Err(ConnectError {
                    exception: "java.lang.NumberFormatException",
                    message: Some("Zero length BigInteger".into()),
                });
            }
            let unscaled = crate::json::connect::twos_complement_to_i128(&b)
                .ok_or_else(|| data("Decimal values wider than 128 bits are not supported"))?;
            Value::Decimal { unscaled, scale }
        }
        (Some(logical::DECIMAL), other) => {
            return Err(data(format!(
                "Invalid type for Decimal, underlying representation should be bytes but was {}",
                other.java_class()
            )));
        }
        (Some(logical::DATE), Value::I32(days)) => Value::Date(i64::from(days) * 86_400_000),
        (Some(logical::TIME), Value::I32(ms)) => Value::Date(i64::from(ms)),
        (Some(logical::TIMESTAMP), Value::I64(ms)) => Value::Date(ms),
        (Some(name @ (logical::DATE | logical::TIME)), other) => {
            return Err(data(format!(
                "Invalid type for {}, underlying representation should be int32 but was {}",
                name.rsplit('.').next().unwrap_or(name),
                other.java_class()
            )));
        }
        (Some(logical::TIMESTAMP), other) => {
            return Err(data(format!(
                "Invalid type for Timestamp, underlying representation should be int64 but was {}",
                other.java_class()
            )));
        }
        (_, v) => v,
    })
}

/// AvroData's `schemaEquals`: Connect schemas equal in every attribute, fields compared by
/// name, index and schema.
fn schema_equals(a: &ConnectSchema, b: &ConnectSchema) -> bool {
    let params_equal = {
        let mut x = a.parameters.clone().unwrap_or_default();
        let mut y = b.parameters.clone().unwrap_or_default();
        x.sort();
        y.sort();
        x == y && a.parameters.is_some() == b.parameters.is_some()
    };
    a.optional == b.optional
        && a.version == b.version
        && a.name == b.name
        && a.doc == b.doc
        && a.schema_type == b.schema_type
        && a.default == b.default
        && params_equal
        && a.fields.len() == b.fields.len()
        && a.fields.iter().zip(&b.fields).all(|(x, y)| {
            x.name == y.name && x.index == y.index && schema_equals(&x.schema, &y.schema)
        })
        && match (&a.value, &b.value) {
            (Some(x), Some(y)) => schema_equals(x, y),
            (None, None) => true,
            _ => false,
        }
        && match (&a.key, &b.key) {
            (Some(x), Some(y)) => schema_equals(x, y),
            (None, None) => true,
            _ => false,
        }
}

/// `JacksonUtils.toObject(node, schema)`: a field default as the Java object Avro returns
/// (`None` where Avro throws: a record default naming a field the record lacks).
pub fn to_object(avro: &AvroSchema, json: &Json, schema: Option<NodeId>) -> Option<JavaObject> {
    let kind = schema.map(|s| &avro.node(s).kind);
    if let Some(Kind::Union(types)) = kind {
        return to_object(avro, json, types.first().copied());
    }
    Some(match json {
        Json::Missing => JavaObject::Null,
        Json::Null => JavaObject::NullValue,
        Json::Bool(b) => JavaObject::Boolean(*b),
        Json::Int(_) if json.is_int() => match kind {
            None | Some(Kind::Int) => JavaObject::Integer(json.int_value()),
            Some(Kind::Long) => JavaObject::Long(json.long_value()),
            Some(Kind::Float) => JavaObject::Float(json.double_value() as f32),
            Some(Kind::Double) => JavaObject::Double(json.double_value()),
            _ => JavaObject::Null,
        },
        Json::Int(t) if t.parse::<i64>().is_ok() => match kind {
            None | Some(Kind::Long | Kind::Int) => JavaObject::Long(json.long_value()),
            Some(Kind::Float) => JavaObject::Float(json.double_value() as f32),
            Some(Kind::Double) => JavaObject::Double(json.double_value()),
            _ => JavaObject::Null,
        },
        Json::Int(_) => JavaObject::Null,
        Json::Decimal(_) => match kind {
            None | Some(Kind::Double) => JavaObject::Double(json.double_value()),
            Some(Kind::Float) => JavaObject::Float(json.double_value() as f32),
            _ => JavaObject::Null,
        },
        Json::String(s) => match kind {
            None | Some(Kind::String | Kind::Enum { .. }) => JavaObject::String(s.clone()),
            Some(Kind::Bytes | Kind::Fixed { .. }) => {
                JavaObject::Bytes(s.chars().map(|c| c as u32 as u8).collect())
            }
            _ => JavaObject::Null,
        },
        Json::Utf16(u) => JavaObject::String(crate::java::utf16_lossy(u, '\u{fffd}')),
        Json::Array(items) => {
            let item = match kind {
                Some(Kind::Array(i)) => Some(*i),
                _ => None,
            };
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                out.push(to_object(avro, i, item)?);
            }
            JavaObject::List(out)
        }
        Json::Object(members) => {
            let mut out = Vec::with_capacity(members.len());
            for (k, v) in members {
                let s = match kind {
                    Some(Kind::Map(vs)) => Some(*vs),
                    Some(Kind::Record { fields, .. }) => {
                        Some(fields.iter().find(|f| f.name == *k)?.schema)
                    }
                    _ => None,
                };
                out.push((k.clone(), to_object(avro, v, s)?));
            }
            JavaObject::Map(out)
        }
    })
}
