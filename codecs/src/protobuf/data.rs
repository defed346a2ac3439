//! Confluent's `ProtobufData` (7.0.16) towards Connect: a message descriptor becomes a
//! Connect schema (tags, Protobuf types and enum symbols as parameters, oneofs as
//! `io.confluent.connect.protobuf.Union.*` structs, wrappers and Confluent/Google logical
//! types unwrapped) and a parsed message becomes a Connect value of that schema.

use std::collections::HashMap;
use std::sync::Arc;

use super::schema::{
    FieldDesc, FieldType, Label, ProtoSchema, Syntax, upper_camel_to_lower_underscore,
};
use super::wire::{DynMsg, PValue, Slot};
use crate::error::ConnectError;
use crate::model::schema::{ConnectSchema, Field, SchemaType, logical};
use crate::model::value::{JavaMapInit, Struct, Value, java_hash_order};

const TAG: &str = "io.confluent.connect.protobuf.Tag";
const TYPE: &str = "io.confluent.connect.protobuf.Type";
const ENUM: &str = "io.confluent.connect.protobuf.Enum";
const UNION_PREFIX: &str = "io.confluent.connect.protobuf.Union.";
const PRECISION: &str = "connect.decimal.precision";

/// `ProtobufDataConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtobufDataConfig {
    pub enhanced_schema_support: bool,
    pub scrub_invalid_names: bool,
    pub optional_for_nullables: bool,
    pub optional_for_proto2: bool,
    pub wrapper_for_nullables: bool,
    pub wrapper_for_raw_primitives: bool,
    pub schemas_cache_size: i32,
}

impl Default for ProtobufDataConfig {
    fn default() -> Self {
        Self {
            enhanced_schema_support: false,
            scrub_invalid_names: false,
            optional_for_nullables: false,
            optional_for_proto2: true,
            wrapper_for_nullables: false,
            wrapper_for_raw_primitives: true,
            schemas_cache_size: 1000,
        }
    }
}

/// A recursive message type: Connect's schema would be cyclic, which the JsonConverter on the
/// other side overflows on (`StackOverflowError`).
fn recursion() -> ConnectError {
    ConnectError {
        exception: "java.lang.StackOverflowError",
        message: None,
    }
}

fn data(message: impl Into<String>) -> ConnectError {
    ConnectError::data(message)
}

/// A `SchemaBuilder` in progress. Message builders are shared through the context, as Java
/// shares one builder per message type (its `SchemaWrapper`).
#[derive(Debug, Clone)]
enum Builder {
    Plain(ConnectSchema),
    /// The shared builder of a message type.
    Message(usize),
    /// A later reference to a message type's builder, with parameters of its own.
    Wrapper(usize, Vec<(String, String)>),
}

/// The state of one message type's shared builder.
#[derive(Debug, Clone)]
struct MessageBuilder {
    name: String,
    fields: Vec<Field>,
    optional: bool,
    version: Option<i32>,
    params: Vec<(String, String)>,
    done: bool,
}

fn put_param(params: &mut Vec<(String, String)>, k: &str, v: String) {
    match params.iter_mut().find(|(pk, _)| pk == k) {
        Some(p) => p.1 = v,
        None => params.push((k.to_string(), v)),
    }
}

/// `toConnectSchema` over one descriptor set.
pub struct ToConnect<'a> {
    cfg: &'a ProtobufDataConfig,
    proto: &'a ProtoSchema,
    ctx: HashMap<usize, MessageBuilder>,
}

impl<'a> ToConnect<'a> {
    pub fn new(cfg: &'a ProtobufDataConfig, proto: &'a ProtoSchema) -> Self {
        Self {
            cfg,
            proto,
            ctx: HashMap::new(),
        }
    }

    /// The Connect schema of message `m` at registry version `version`.
    pub fn root_schema(
        mut self,
        m: usize,
        version: Option<i32>,
    ) -> Result<Arc<ConnectSchema>, ConnectError> {
        let mut b = self.message(m)?;
        if let Some(v) = version {
            match &mut b {
                Builder::Plain(s) => s.version = Some(v),
                Builder::Message(id) | Builder::Wrapper(id, _) => {
                    if let Some(mb) = self.ctx.get_mut(id) {
                        mb.version = Some(v);
                    }
                }
            }
        }
        Ok(Arc::new(self.build(&b)))
    }

    fn build(&self, b: &Builder) -> ConnectSchema {
        match b {
            Builder::Plain(s) => s.clone(),
            Builder::Message(id) | Builder::Wrapper(id, _) => {
                let mb = &self.ctx[id];
                let mut s = ConnectSchema::new(SchemaType::Struct, mb.optional);
                s.name = Some(mb.name.clone());
                s.version = mb.version;
                s.fields = mb.fields.clone();
                s.parameters = match b {
                    Builder::Wrapper(_, own) => {
                        // `SchemaWrapper.parameters()`: a HashMap of the shared builder's
                        // parameters overridden by the wrapper's.
                        let mut merged = mb.params.clone();
                        for (k, v) in own {
                            put_param(&mut merged, k, v.clone());
                        }
                        let entries = merged
                            .into_iter()
                            .map(|(k, v)| (Value::String(k), Value::String(v)))
                            .collect();
                        let ordered: Vec<(String, String)> =
                            java_hash_order(entries, JavaMapInit::Default)
                                .into_iter()
                                .filter_map(|(k, v)| match (k, v) {
                                    (Value::String(k), Value::String(v)) => Some((k, v)),
                                    _ => None,
                                })
                                .collect();
                        (!ordered.is_empty()).then_some(ordered)
                    }
                    _ => (!mb.params.is_empty()).then(|| mb.params.clone()),
                };
                s
            }
        }
    }

    fn optional(&mut self, b: &mut Builder) {
        match b {
            Builder::Plain(s) => s.optional = true,
            Builder::Message(id) | Builder::Wrapper(id, _) => {
                if let Some(mb) = self.ctx.get_mut(id) {
                    mb.optional = true;
                }
            }
        }
    }

    fn parameter(&mut self, b: &mut Builder, k: &str, v: String) {
        match b {
            Builder::Plain(s) => put_param(s.parameters.get_or_insert_with(Vec::new), k, v),
            Builder::Message(id) => {
                if let Some(mb) = self.ctx.get_mut(id) {
                    put_param(&mut mb.params, k, v);
                }
            }
            Builder::Wrapper(_, own) => put_param(own, k, v),
        }
    }

    fn is_map(b: &Builder) -> bool {
        matches!(b, Builder::Plain(s) if s.schema_type == SchemaType::Map)
    }

    /// `toUnwrappedSchema`: a wrapper message as its primitive.
    fn unwrapped(&self, m: usize) -> Option<ConnectSchema> {
        let t = match self.proto.messages[m].full_name.as_str() {
            "google.protobuf.DoubleValue" => SchemaType::Float64,
            "google.protobuf.FloatValue" => SchemaType::Float32,
            "google.protobuf.Int64Value"
            | "google.protobuf.UInt64Value"
            | "google.protobuf.UInt32Value" => SchemaType::Int64,
            "google.protobuf.Int32Value" => SchemaType::Int32,
            "google.protobuf.BoolValue" => SchemaType::Boolean,
            "google.protobuf.StringValue" => SchemaType::String,
            "google.protobuf.BytesValue" => SchemaType::Bytes,
            _ => return None,
        };
        Some(ConnectSchema::new(t, false))
    }

    /// The private `toConnectSchema(ctx, descriptor, version)`.
    fn message(&mut self, m: usize) -> Result<Builder, ConnectError> {
        if self.cfg.wrapper_for_raw_primitives
            && let Some(s) = self.unwrapped(m)
        {
            return Ok(Builder::Plain(s));
        }
        let desc = &self.proto.messages[m];
        let name = if self.cfg.enhanced_schema_support {
            desc.full_name.clone()
        } else {
            desc.name.clone()
        };
        self.ctx.insert(
            m,
            MessageBuilder {
                name,
                fields: Vec::new(),
                optional: false,
                version: None,
                params: Vec::new(),
                done: false,
            },
        );
        let proto = self.proto;
        let desc = &proto.messages[m];
        let mut fields: Vec<Field> = Vec::new();
        for (oi, oneof) in desc.real_oneofs() {
            let mut u = ConnectSchema::new(SchemaType::Struct, true);
            let oneof_name = if self.cfg.enhanced_schema_support {
                format!("{}.{}", desc.full_name, oneof.name)
            } else {
                oneof.name.clone()
            };
            u.name = Some(format!("{UNION_PREFIX}{oneof_name}"));
            for &fi in &oneof.fields {
                let s = self.field(&desc.fields[fi], desc.syntax)?;
                u.fields.push(Field {
                    name: desc.fields[fi].name.clone(),
                    index: u.fields.len(),
                    schema: Arc::new(s),
                });
            }
            fields.push(Field {
                name: format!("{}_{}", oneof.name, oi),
                index: fields.len(),
                schema: Arc::new(u),
            });
        }
        for (fi, f) in desc.fields.iter().enumerate() {
            if desc.in_real_oneof(fi) {
                continue;
            }
            let s = self.field(f, desc.syntax)?;
            fields.push(Field {
                name: f.name.clone(),
                index: fields.len(),
                schema: Arc::new(s),
            });
        }
        if let Some(mb) = self.ctx.get_mut(&m) {
            mb.fields = fields;
            mb.done = true;
        }
        Ok(Builder::Message(m))
    }

    /// `hasOptionalKeyword()`.
    fn optional_keyword(f: &FieldDesc, syntax: Syntax) -> bool {
        f.proto3_optional
            || (syntax == Syntax::Proto2 && f.label == Label::Optional && f.oneof.is_none())
    }

    /// The private `toConnectSchema(ctx, FieldDescriptor)`.
    fn field(&mut self, f: &FieldDesc, syntax: Syntax) -> Result<ConnectSchema, ConnectError> {
        let plain = |t: SchemaType| Builder::Plain(ConnectSchema::new(t, false));
        let mut b = match f.ty {
            FieldType::Int32 | FieldType::Sint32 | FieldType::Sfixed32 => {
                let connect_type = f
                    .meta_params
                    .iter()
                    .find(|(k, _)| k == "connect.type")
                    .map(|(_, v)| v.as_str());
                match connect_type {
                    Some("int8") => plain(SchemaType::Int8),
                    Some("int16") => plain(SchemaType::Int16),
                    _ => {
                        let mut b = plain(SchemaType::Int32);
                        if f.ty != FieldType::Int32 {
                            self.parameter(&mut b, TYPE, f.ty.proto_name().into());
                        }
                        b
                    }
                }
            }
            FieldType::Uint32
            | FieldType::Fixed32
            | FieldType::Int64
            | FieldType::Uint64
            | FieldType::Sint64
            | FieldType::Fixed64
            | FieldType::Sfixed64 => {
                let mut b = plain(SchemaType::Int64);
                if f.ty != FieldType::Int64 {
                    self.parameter(&mut b, TYPE, f.ty.proto_name().into());
                }
                b
            }
            FieldType::Float => plain(SchemaType::Float32),
            FieldType::Double => plain(SchemaType::Float64),
            FieldType::Bool => plain(SchemaType::Boolean),
            FieldType::String => plain(SchemaType::String),
            FieldType::Bytes => plain(SchemaType::Bytes),
            FieldType::Enum(e) => {
                let en = &self.proto.enums[e];
                let mut s = ConnectSchema::new(SchemaType::String, true);
                s.name = Some(if self.cfg.enhanced_schema_support {
                    en.full_name.clone()
                } else {
                    en.name.clone()
                });
                let mut params = vec![(ENUM.to_string(), en.name.clone())];
                for (sym, n) in &en.values {
                    put_param(&mut params, &format!("{ENUM}.{sym}"), n.to_string());
                }
                s.parameters = Some(params);
                Builder::Plain(s)
            }
            FieldType::Message(sub) => {
                let mut b = match self.proto.messages[sub].full_name.as_str() {
                    "confluent.type.Decimal" => {
                        let param = |k: &str| {
                            f.meta_params
                                .iter()
                                .find(|(pk, _)| pk == k)
                                .and_then(|(_, v)| v.parse::<i32>().ok())
                        };
                        let mut s = ConnectSchema::new(SchemaType::Bytes, false);
                        s.name = Some(logical::DECIMAL.into());
                        s.version = Some(1);
                        let mut params = vec![(
                            logical::SCALE_PARAM.to_string(),
                            param("scale").unwrap_or(0).to_string(),
                        )];
                        if let Some(p) = param("precision") {
                            params.push((PRECISION.to_string(), p.to_string()));
                        }
                        s.parameters = Some(params);
                        Builder::Plain(s)
                    }
                    "google.type.Date" => logical_builder(SchemaType::Int32, logical::DATE),
                    "google.type.TimeOfDay" => logical_builder(SchemaType::Int32, logical::TIME),
                    "google.protobuf.Timestamp" => {
                        logical_builder(SchemaType::Int64, logical::TIMESTAMP)
                    }
                    _ => self.unwrapped_or_struct(f, sub)?,
                };
                self.optional(&mut b);
                b
            }
        };
        if f.is_repeated() && !Self::is_map(&b) {
            self.optional(&mut b);
            let item = self.build(&b);
            let mut array = ConnectSchema::new(SchemaType::Array, true);
            array.value = Some(Arc::new(item));
            b = Builder::Plain(array);
        }
        if self.cfg.optional_for_nullables {
            if Self::optional_keyword(f, syntax) {
                self.optional(&mut b);
            }
        } else if !self.cfg.wrapper_for_nullables {
            self.optional(&mut b);
        }
        self.parameter(&mut b, TAG, f.number.to_string());
        Ok(self.build(&b))
    }

    fn unwrapped_or_struct(&mut self, f: &FieldDesc, sub: usize) -> Result<Builder, ConnectError> {
        if self.cfg.wrapper_for_nullables
            && let Some(s) = self.unwrapped(sub)
        {
            return Ok(Builder::Plain(s));
        }
        // `toStructSchema`.
        let entry = &self.proto.messages[sub];
        if f.is_repeated() && is_map_shape(self.proto, sub) {
            let syntax = entry.syntax;
            let key = self.field(&entry.fields[0], syntax)?;
            let value = self.field(&entry.fields[1], syntax)?;
            let mut s = ConnectSchema::new(SchemaType::Map, false);
            let name = if self.cfg.enhanced_schema_support {
                entry.full_name.clone()
            } else {
                entry.name.clone()
            };
            s.name = Some(to_map_field(&name));
            s.key = Some(Arc::new(key));
            s.value = Some(Arc::new(value));
            return Ok(Builder::Plain(s));
        }
        match self.ctx.get(&sub) {
            Some(mb) if !mb.done => Err(recursion()),
            Some(_) => Ok(Builder::Wrapper(sub, Vec::new())),
            None => self.message(sub),
        }
    }
}

fn logical_builder(t: SchemaType, name: &str) -> Builder {
    let mut s = ConnectSchema::new(t, false);
    s.name = Some(name.into());
    s.version = Some(1);
    Builder::Plain(s)
}

/// `isMapDescriptor`: an `…Entry` message of exactly `key` and `value`.
fn is_map_shape(proto: &ProtoSchema, m: usize) -> bool {
    let d = &proto.messages[m];
    d.name.ends_with("Entry")
        && d.fields.len() == 2
        && d.fields[0].name == "key"
        && d.fields[1].name == "value"
        && !d.fields[0].is_repeated()
        && !d.fields[1].is_repeated()
}

/// `ProtobufSchema.toMapField`: `a.b.BySkuEntry` → `a.b.by_sku`.
fn to_map_field(name: &str) -> String {
    let mut parts: Vec<String> = name.split('.').map(str::to_string).collect();
    if let Some(last) = parts.last_mut()
        && let Some(base) = last.strip_suffix("Entry")
    {
        *last = upper_camel_to_lower_underscore(base);
    }
    parts.join(".")
}

// ---------------------------------------------------------------------------------------
// Values.

/// `toConnectData` over one descriptor set.
pub struct ValueConverter<'a> {
    pub cfg: &'a ProtobufDataConfig,
    pub proto: &'a ProtoSchema,
}

/// A field's value as `getField` returns it: present, or the field's default.
enum Got<'m> {
    One(std::borrow::Cow<'m, PValue>),
    List(&'m [PValue]),
}

impl ValueConverter<'_> {
    /// The root message's Connect value.
    pub fn root(&self, schema: &Arc<ConnectSchema>, msg: &DynMsg) -> Result<Value, ConnectError> {
        match schema.schema_type {
            SchemaType::Struct => self.struct_value(schema, msg),
            // A wrapper read as its primitive, or a logical type at the root.
            _ => self.one(schema, &PValue::Msg(msg.clone()), None),
        }
    }

    fn default_of(&self, f: &FieldDesc) -> PValue {
        let d = f.default.as_deref();
        let int = |d: Option<&str>| d.and_then(parse_java_int).unwrap_or(0);
        match f.ty {
            FieldType::Int32
            | FieldType::Sint32
            | FieldType::Sfixed32
            | FieldType::Uint32
            | FieldType::Fixed32 => PValue::I32(int(d) as i32),
            FieldType::Int64
            | FieldType::Sint64
            | FieldType::Sfixed64
            | FieldType::Uint64
            | FieldType::Fixed64 => PValue::I64(int(d)),
            FieldType::Float => PValue::F32(d.and_then(parse_float).unwrap_or(0.0) as f32),
            FieldType::Double => PValue::F64(d.and_then(parse_float).unwrap_or(0.0)),
            FieldType::Bool => PValue::Bool(d == Some("true")),
            FieldType::String => PValue::Str(d.unwrap_or("").to_string()),
            FieldType::Bytes => PValue::Bytes(d.unwrap_or("").as_bytes().to_vec()),
            FieldType::Enum(e) => {
                let en = &self.proto.enums[e];
                let n = d
                    .and_then(|sym| en.values.iter().find(|(s, _)| s == sym))
                    .or_else(|| en.values.first())
                    .map_or(0, |(_, n)| *n);
                PValue::Enum(n)
            }
            FieldType::Message(m) => PValue::Msg(DynMsg {
                message: m,
                slots: vec![Slot::Unset; self.proto.messages[m].fields.len()],
            }),
        }
    }

    fn get<'m>(&self, msg: &'m DynMsg, fi: usize) -> Got<'m> {
        let f = &self.proto.messages[msg.message].fields[fi];
        match &msg.slots[fi] {
            Slot::One(v) => Got::One(std::borrow::Cow::Borrowed(v)),
            Slot::Many(vs) => Got::List(vs),
            Slot::Unset if f.is_repeated() => Got::List(&[]),
            Slot::Unset => Got::One(std::borrow::Cow::Owned(self.default_of(f))),
        }
    }

    /// `toConnectData(schema, value)` of a single value; `field` is the descriptor field the
    /// value came from (enum names need it).
    fn one(
        &self,
        schema: &ConnectSchema,
        value: &PValue,
        field: Option<&FieldDesc>,
    ) -> Result<Value, ConnectError> {
        if let Some(name) = schema.name.as_deref() {
            match name {
                logical::DECIMAL => return self.decimal(value),
                logical::DATE => return self.date(value),
                logical::TIME => return self.time(value),
                logical::TIMESTAMP => return self.timestamp(value),
                _ => {}
            }
        }
        let unwrap = |v: &PValue| -> PValue {
            match v {
                PValue::Msg(m) => self.wrapped(m),
                other => other.clone(),
            }
        };
        let invalid = |v: &PValue| {
            data(format!(
                "Invalid type for {}: {}",
                schema.schema_type.json_name_upper(),
                java_class(v)
            ))
        };
        Ok(match schema.schema_type {
            SchemaType::Int8 => {
                Value::I8(int_of(&unwrap(value)).ok_or_else(|| invalid(value))? as i8)
            }
            SchemaType::Int16 => {
                Value::I16(int_of(&unwrap(value)).ok_or_else(|| invalid(value))? as i16)
            }
            SchemaType::Int32 => {
                Value::I32(int_of(&unwrap(value)).ok_or_else(|| invalid(value))? as i32)
            }
            SchemaType::Int64 => match unwrap(value) {
                PValue::I64(n) => Value::I64(n),
                // An `Integer` (uint32, fixed32) is read unsigned.
                PValue::I32(n) | PValue::Enum(n) => Value::I64(i64::from(n as u32)),
                PValue::F32(f) => Value::I64(f as i64),
                PValue::F64(f) => Value::I64(f as i64),
                other => return Err(invalid(&other)),
            },
            SchemaType::Float32 => match unwrap(value) {
                PValue::F32(f) => Value::F32(f),
                PValue::F64(f) => Value::F32(f as f32),
                PValue::I32(n) => Value::F32(n as f32),
                PValue::I64(n) => Value::F32(n as f32),
                other => return Err(invalid(&other)),
            },
            SchemaType::Float64 => match unwrap(value) {
                PValue::F64(f) => Value::F64(f),
                PValue::F32(f) => Value::F64(f64::from(f)),
                PValue::I32(n) => Value::F64(f64::from(n)),
                PValue::I64(n) => Value::F64(n as f64),
                other => return Err(invalid(&other)),
            },
            SchemaType::Boolean => match unwrap(value) {
                PValue::Bool(b) => Value::Bool(b),
                other => return Err(invalid(&other)),
            },
            SchemaType::String => match unwrap(value) {
                PValue::Str(s) => Value::String(s),
                PValue::Enum(n) => Value::String(self.enum_name(field, n)),
                other => {
                    return Err(data(format!(
                        "Invalid class for string type, expecting String or CharSequence but found {}",
                        java_class(&other)
                    )));
                }
            },
            SchemaType::Bytes => match unwrap(value) {
                PValue::Bytes(b) => Value::Bytes(b),
                other => {
                    return Err(data(format!(
                        "Invalid class for bytes type, expecting byte[], ByteBuffer, or ByteString but found {}",
                        java_class(&other)
                    )));
                }
            },
            SchemaType::Array | SchemaType::Map | SchemaType::Struct => {
                return Err(invalid(value));
            }
        })
    }

    /// A field's Connect value (repeated fields as lists, maps from their entries).
    fn field_value(
        &self,
        schema: &Arc<ConnectSchema>,
        msg: &DynMsg,
        fi: usize,
    ) -> Result<Value, ConnectError> {
        let f = &self.proto.messages[msg.message].fields[fi];
        match (self.get(msg, fi), schema.schema_type) {
            (Got::List(items), SchemaType::Map) => {
                let ks = schema
                    .key
                    .as_ref()
                    .ok_or_else(|| data("map without key schema"))?;
                let vs = schema
                    .value
                    .as_ref()
                    .ok_or_else(|| data("map without value schema"))?;
                let mut out: Vec<(Value, Value)> = Vec::with_capacity(items.len());
                for item in items {
                    let PValue::Msg(entry) = item else {
                        return Err(data("map entry is not a message"));
                    };
                    let k = self.field_value(ks, entry, 0)?;
                    let v = self.field_value(vs, entry, 1)?;
                    Value::map_put(&mut out, k, v);
                }
                Ok(Value::Map(java_hash_order(out, JavaMapInit::Default)))
            }
            (Got::List(items), SchemaType::Array) => {
                let item_schema = schema
                    .value
                    .as_ref()
                    .ok_or_else(|| data("array without item schema"))?;
                items
                    .iter()
                    .map(|v| self.any(item_schema, v, Some(f)))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array)
            }
            (Got::List(_), _) => Err(data(format!(
                "Invalid type for {}: class java.util.Collections$UnmodifiableRandomAccessList",
                schema.schema_type.json_name_upper()
            ))),
            (Got::One(v), _) => self.any(schema, &v, Some(f)),
        }
    }

    fn any(
        &self,
        schema: &Arc<ConnectSchema>,
        value: &PValue,
        field: Option<&FieldDesc>,
    ) -> Result<Value, ConnectError> {
        match (schema.schema_type, value) {
            (SchemaType::Struct, PValue::Msg(m)) => self.struct_value(schema, m),
            _ => self.one(schema, value, field),
        }
    }

    fn struct_value(
        &self,
        schema: &Arc<ConnectSchema>,
        msg: &DynMsg,
    ) -> Result<Value, ConnectError> {
        let desc = &self.proto.messages[msg.message];
        let mut values = vec![Value::Null; schema.fields.len()];
        for (oi, oneof) in desc.real_oneofs() {
            let Some(&fi) = oneof.fields.iter().find(|&&fi| msg.has(fi)) else {
                continue;
            };
            let union_name = format!("{}_{}", oneof.name, oi);
            let Some(uf) = schema.field(&union_name) else {
                continue;
            };
            let us = &uf.schema;
            let member = &desc.fields[fi].name;
            let Some(mf) = us.field(member) else {
                continue;
            };
            let mut uvals = vec![Value::Null; us.fields.len()];
            uvals[mf.index] = self.field_value(&mf.schema, msg, fi)?;
            values[uf.index] = Value::Struct(Struct {
                schema: us.clone(),
                values: uvals,
            });
        }
        // The other fields follow the unions, in descriptor order (as `toConnectSchema`
        // added them).
        let mut next = desc.real_oneofs().count();
        for (fi, f) in desc.fields.iter().enumerate() {
            if desc.in_real_oneof(fi) {
                continue;
            }
            let at = next;
            next += 1;
            let Some(sf) = schema.fields.get(at).filter(|sf| sf.name == f.name) else {
                continue;
            };
            let primitive_or_repeated = !matches!(f.ty, FieldType::Message(_)) || f.is_repeated();
            let optional = f.proto3_optional
                || (self.cfg.optional_for_proto2 && ToConnect::optional_keyword(f, desc.syntax));
            if (primitive_or_repeated && !optional) || msg.has(fi) {
                values[sf.index] = self.field_value(&sf.schema, msg, fi)?;
            }
        }
        Ok(Value::Struct(Struct {
            schema: schema.clone(),
            values,
        }))
    }

    /// `getWrappedValue`: the `value` field of a wrapper message.
    fn wrapped(&self, m: &DynMsg) -> PValue {
        match self.proto.messages[m.message].field_by_name("value") {
            Some(fi) => match self.get(m, fi) {
                Got::One(v) => v.into_owned(),
                Got::List(_) => PValue::Msg(m.clone()),
            },
            None => PValue::Msg(m.clone()),
        }
    }

    fn enum_name(&self, field: Option<&FieldDesc>, n: i32) -> String {
        let en = field.and_then(|f| match f.ty {
            FieldType::Enum(e) => Some(&self.proto.enums[e]),
            _ => None,
        });
        match en {
            Some(en) => match en.name_of(n) {
                Some(s) => s.to_string(),
                None => format!("UNKNOWN_ENUM_VALUE_{}_{}", en.name, n),
            },
            None => n.to_string(),
        }
    }

    /// The present (`getAllFields`) fields of a message, by name.
    fn present<'m>(
        &'m self,
        value: &'m PValue,
        what: &str,
    ) -> Result<Vec<(&'m str, &'m PValue)>, ConnectError> {
        let PValue::Msg(m) = value else {
            return Err(data(format!(
                "Invalid type for {what}, expected Message but was {}",
                java_class(value)
            )));
        };
        let desc = &self.proto.messages[m.message];
        let fields = desc
            .fields
            .iter()
            .zip(&m.slots)
            .filter_map(|(f, s)| match s {
                Slot::One(v) => Some((f.name.as_str(), v)),
                _ => None,
            })
            .collect();
        Ok(fields)
    }

    fn decimal(&self, value: &PValue) -> Result<Value, ConnectError> {
        let fields = self.present(value, "Date")?;
        let mut bytes: &[u8] = &[];
        let mut precision: Option<i32> = None;
        let mut scale = 0i32;
        for (name, v) in fields {
            match (name, v) {
                ("value", PValue::Bytes(b)) => bytes = b,
                ("precision", PValue::I32(p)) => precision = Some(*p),
                ("scale", PValue::I32(s)) => scale = *s,
                _ => {}
            }
        }
        if bytes.is_empty() {
            return Err(ConnectError {
                exception: "java.lang.NumberFormatException",
                message: Some("Zero length BigInteger".into()),
            });
        }
        let mut unscaled = crate::json::connect::twos_complement_to_i128(bytes)
            .ok_or_else(|| data("Decimal values wider than 128 bits are not supported"))?;
        if let Some(p) = precision {
            if p < 0 {
                return Err(ConnectError {
                    exception: "java.lang.IllegalArgumentException",
                    message: Some("Digits < 0".into()),
                });
            }
            (unscaled, scale) = round_half_up(unscaled, scale, p as u32);
        }
        Ok(Value::Decimal { unscaled, scale })
    }

    fn date(&self, value: &PValue) -> Result<Value, ConnectError> {
        let fields = self.present(value, "Date")?;
        let (mut y, mut m, mut d) = (0i32, 0i32, 0i32);
        for (name, v) in fields {
            let n = int_of(v).unwrap_or(0) as i32;
            match name {
                "year" => y = n,
                "month" => m = n,
                "day" => d = n,
                _ => {}
            }
        }
        gregorian_date_millis(y, m, d).map(Value::Date)
    }

    fn time(&self, value: &PValue) -> Result<Value, ConnectError> {
        let fields = self.present(value, "Time")?;
        let (mut h, mut mi, mut s, mut n) = (0i64, 0i64, 0i64, 0i64);
        for (name, v) in fields {
            let x = i64::from(int_of(v).unwrap_or(0) as i32);
            match name {
                "hours" => h = x,
                "minutes" => mi = x,
                "seconds" => s = x,
                "nanos" => n = x,
                _ => {}
            }
        }
        let check = |field: &str, max: i64, v: i64| {
            if (0..=max).contains(&v) {
                Ok(())
            } else {
                Err(ConnectError {
                    exception: "java.time.DateTimeException",
                    message: Some(format!(
                        "Invalid value for {field} (valid values 0 - {max}): {v}"
                    )),
                })
            }
        };
        check("HourOfDay", 23, h)?;
        check("MinuteOfHour", 59, mi)?;
        check("SecondOfMinute", 59, s)?;
        check("NanoOfSecond", 999_999_999, n)?;
        let nanos = ((h * 60 + mi) * 60 + s) * 1_000_000_000 + n;
        Ok(Value::Date(nanos / 1_000_000))
    }

    fn timestamp(&self, value: &PValue) -> Result<Value, ConnectError> {
        let fields = self.present(value, "Timestamp")?;
        let (mut secs, mut nanos) = (0i64, 0i32);
        for (name, v) in fields {
            match name {
                "seconds" => secs = int_of(v).unwrap_or(0),
                "nanos" => nanos = int_of(v).unwrap_or(0) as i32,
                _ => {}
            }
        }
        // `Timestamps.toMillis` checks the range first.
        if !(-62_135_596_800..=253_402_300_799).contains(&secs)
            || !(0..=999_999_999).contains(&nanos)
        {
            return Err(ConnectError {
                exception: "java.lang.IllegalArgumentException",
                message: Some(format!(
                    "Timestamp is not valid. See proto definition for valid values. Seconds ({secs}) must be in range [-62,135,596,800, +253,402,300,799]. Nanos ({nanos}) must be in range [0, +999,999,999]."
                )),
            });
        }
        Ok(Value::Date(secs * 1000 + i64::from(nanos / 1_000_000)))
    }
}

fn int_of(v: &PValue) -> Option<i64> {
    Some(match v {
        PValue::I32(n) | PValue::Enum(n) => i64::from(*n),
        PValue::I64(n) => *n,
        PValue::F32(f) => *f as i64,
        PValue::F64(f) => *f as i64,
        _ => return None,
    })
}

fn java_class(v: &PValue) -> &'static str {
    match v {
        PValue::I32(_) => "class java.lang.Integer",
        PValue::I64(_) => "class java.lang.Long",
        PValue::F32(_) => "class java.lang.Float",
        PValue::F64(_) => "class java.lang.Double",
        PValue::Bool(_) => "class java.lang.Boolean",
        PValue::Str(_) => "class java.lang.String",
        PValue::Bytes(_) => "class com.google.protobuf.ByteString$LiteralByteString",
        PValue::Enum(_) => "class com.google.protobuf.Descriptors$EnumValueDescriptor",
        PValue::Msg(_) => "class com.google.protobuf.DynamicMessage",
    }
}

fn parse_java_int(s: &str) -> Option<i64> {
    let (neg, d) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let v = if let Some(h) = d.strip_prefix("0x").or_else(|| d.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()? as i64
    } else if d.len() > 1 && d.starts_with('0') {
        u64::from_str_radix(&d[1..], 8).ok()? as i64
    } else {
        d.parse::<u64>().ok()? as i64
    };
    Some(if neg { v.wrapping_neg() } else { v })
}

fn parse_float(s: &str) -> Option<f64> {
    match s {
        "inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        other => other.trim_end_matches(['f', 'F']).parse().ok(),
    }
}

/// `new BigDecimal(unscaled, scale, new MathContext(precision))`: rounds HALF_UP to at most
/// `precision` digits (0 = unlimited).
fn round_half_up(unscaled: i128, scale: i32, precision: u32) -> (i128, i32) {
    if precision == 0 {
        return (unscaled, scale);
    }
    let digits = |v: i128| v.unsigned_abs().checked_ilog10().map_or(1, |d| d + 1);
    let mut u = unscaled;
    let mut s = scale;
    while digits(u) > precision {
        let drop = digits(u) - precision;
        let p = 10i128.pow(drop);
        let q = u / p;
        let r = (u % p).abs();
        let half = p / 2;
        u = if r >= half { q + u.signum() } else { q };
        s = s.saturating_sub(drop as i32);
    }
    (u, s)
}

/// `Calendar` (UTC, non-lenient, Julian before 1582-10-15) midnight of a date, in epoch
/// milliseconds; Java's `IllegalArgumentException` naming the first bad field.
fn gregorian_date_millis(year: i32, month: i32, day: i32) -> Result<i64, ConnectError> {
    let bad = |f: &str| ConnectError {
        exception: "java.lang.IllegalArgumentException",
        message: Some(f.to_string()),
    };
    if !(1..=292_278_994).contains(&year) {
        return Err(bad("YEAR"));
    }
    if !(1..=12).contains(&month) {
        return Err(bad("MONTH"));
    }
    if !(1..=31).contains(&day) {
        return Err(bad("DAY_OF_MONTH"));
    }
    let (y, m, d) = (i64::from(year), i64::from(month), i64::from(day));
    let julian = (y, m, d) < (1582, 10, 15);
    let leap = if julian {
        y % 4 == 0
    } else {
        (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
    };
    let month_len = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if d > month_len[(m - 1) as usize] {
        // Non-lenient: the date rolls into the next month, and MONTH no longer matches.
        return Err(bad("MONTH"));
    }
    if (1582, 10, 5) <= (y, m, d) && (y, m, d) < (1582, 10, 15) {
        return Err(bad("DAY_OF_MONTH"));
    }
    // Days since 1970-01-01 through the Julian day number.
    let a = (14 - m) / 12;
    let yy = y + 4800 - a;
    let mm = m + 12 * a - 3;
    let jdn = if julian {
        d + (153 * mm + 2) / 5 + 365 * yy + yy / 4 - 32083
    } else {
        d + (153 * mm + 2) / 5 + 365 * yy + yy / 4 - yy / 100 + yy / 400 - 32045
    };
    (jdn - 2_440_588)
        .checked_mul(86_400_000)
        .ok_or_else(|| bad("YEAR"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_java_calendars() {
        assert_eq!(gregorian_date_millis(1970, 1, 1).unwrap(), 0);
        assert_eq!(
            gregorian_date_millis(2024, 2, 29).unwrap() / 86_400_000,
            19782
        );
        // The Julian calendar before the cutover: 1582-10-04 is the day before 1582-10-15.
        assert_eq!(
            gregorian_date_millis(1582, 10, 15).unwrap()
                - gregorian_date_millis(1582, 10, 4).unwrap(),
            86_400_000
        );
        assert_eq!(
            gregorian_date_millis(2023, 2, 29)
                .unwrap_err()
                .message
                .as_deref(),
            Some("MONTH")
        );
        assert_eq!(
            gregorian_date_millis(0, 1, 1)
                .unwrap_err()
                .message
                .as_deref(),
            Some("YEAR")
        );
    }

    #[test]
    fn decimals_round_to_their_precision() {
        assert_eq!(round_half_up(12345, 3, 8), (12345, 3));
        assert_eq!(round_half_up(12345, 3, 3), (123, 1));
        assert_eq!(round_half_up(12355, 3, 3), (124, 1));
        assert_eq!(round_half_up(-12355, 3, 3), (-124, 1));
    }

    #[test]
    fn map_fields_are_named_as_confluent_names_them() {
        assert_eq!(to_map_field("acme.Order.BySkuEntry"), "acme.Order.by_sku");
        assert_eq!(to_map_field("countsEntry"), "counts");
    }
}
