//! Kafka Connect's `JsonConverter` semantics on the reference model: envelope schemas to and
//! from [`ConnectSchema`], JSON nodes to Connect values (`convertToConnect`) and values to
//! JSON bytes (`convertToJson` + Jackson's writer), with the exact exceptions and messages.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::ConnectError;
use crate::java;
use crate::json::jackson::{self, Node};
use crate::json::text;
use crate::model::schema::{ConnectSchema, Field, SchemaType, logical};
use crate::model::value::{Struct, Value};

/// `decimal.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalFormat {
    Base64,
    Numeric,
}

/// `JsonConverterConfig`.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonConfig {
    pub schemas_enable: bool,
    pub decimal_format: DecimalFormat,
    pub replace_null_with_default: bool,
    pub schemas_cache_size: i32,
    /// `schema.content` (Kafka 4.x, KIP-1054): with `schemas.enable`, every value read is a
    /// bare payload of this schema, no envelope.
    pub schema_content: Option<Arc<ConnectSchema>>,
}

impl Default for JsonConfig {
    fn default() -> Self {
        Self {
            schemas_enable: true,
            decimal_format: DecimalFormat::Base64,
            replace_null_with_default: true,
            schemas_cache_size: 1000,
            schema_content: None,
        }
    }
}

pub(crate) fn bool_config(
    props: &HashMap<String, String>,
    key: &str,
    default: bool,
) -> Result<bool, ConnectError> {
    match props.get(key).map(|v| v.trim()) {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(ConnectError::config(format!(
            "Invalid value {v} for configuration {key}: Expected value to be either true or false"
        ))),
    }
}

impl JsonConfig {
    /// Parses the converter's un-prefixed properties.
    pub fn parse(props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        // In the order of JsonConverterConfig's ConfigDef, which reports the first bad key.
        let schemas_enable = bool_config(props, "schemas.enable", true)?;
        let schemas_cache_size = match props.get("schemas.cache.size") {
            None => 1000,
            Some(v) => v.trim().parse::<i32>().map_err(|_| ConnectError::config(format!("Invalid value {v} for configuration schemas.cache.size: Not a number of type INT")))?,
        };
        let decimal_format = match props.get("decimal.format").map(|v| v.trim()) {
            None => DecimalFormat::Base64,
            Some(v) if v.eq_ignore_ascii_case("BASE64") => DecimalFormat::Base64,
            Some(v) if v.eq_ignore_ascii_case("NUMERIC") => DecimalFormat::Numeric,
            Some(v) => {
                return Err(ConnectError::config(format!(
                    "Invalid value {v} for configuration decimal.format: String must be one of (case insensitive): NUMERIC, BASE64"
                )));
            }
        };
        let replace_null_with_default = bool_config(props, "replace.null.with.default", true)?;
        let mut cfg = Self {
            schemas_enable,
            decimal_format,
            replace_null_with_default,
            schemas_cache_size,
            schema_content: None,
        };
        // Kafka parses the schema at configure time, whether or not schemas are enabled.
        if let Some(text) = props.get("schema.content") {
            let node = jackson::parse(text.as_bytes()).map_err(|_| {
                ConnectError::data(
                    "Failed to parse schema in converter config due to serialization error: ",
                )
            })?;
            cfg.schema_content = as_connect_schema(&cfg, &node)?;
        }
        Ok(cfg)
    }
}

const ENVELOPE_REQUIRED: &str = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.";

/// `toConnectData`: bytes (`None` = Kafka null) to schema and value.
pub fn to_connect_data(
    cfg: &JsonConfig,
    bytes: Option<&[u8]>,
) -> Result<(Option<Arc<ConnectSchema>>, Value), ConnectError> {
    let Some(bytes) = bytes else {
        return Ok((None, Value::Null));
    };
    let node = jackson::parse(bytes).map_err(|_| {
        ConnectError::data(
            "Converting byte[] to Kafka Connect data failed due to serialization error: ",
        )
    })?;
    if cfg.schemas_enable {
        if let Some(schema) = &cfg.schema_content {
            let value = convert_to_connect(cfg, Some(schema), &node)?;
            return Ok((Some(schema.clone()), value));
        }
        let ok = matches!(&node, Node::Object(m) if m.len() == 2)
            && node.get("schema").is_some()
            && node.get("payload").is_some();
        if !ok {
            return Err(ConnectError::data(ENVELOPE_REQUIRED));
        }
        let schema = as_connect_schema(cfg, node.get("schema").unwrap_or(&Node::Null))?;
        let value = convert_to_connect(
            cfg,
            schema.as_deref(),
            node.get("payload").unwrap_or(&Node::Null),
        )?;
        Ok((schema, value))
    } else {
        Ok((None, convert_to_connect(cfg, None, &node)?))
    }
}

/// `asConnectSchema`.
pub fn as_connect_schema(
    cfg: &JsonConfig,
    node: &Node,
) -> Result<Option<Arc<ConnectSchema>>, ConnectError> {
    if matches!(node, Node::Null) {
        return Ok(None);
    }
    let type_name = node
        .get("type")
        .and_then(Node::text_value)
        .ok_or_else(|| ConnectError::data("Schema must contain 'type' field"))?;
    let schema_type = SchemaType::from_json_name(type_name)
        .ok_or_else(|| ConnectError::data(format!("Unknown schema type: {type_name}")))?;
    let mut schema = ConnectSchema::new(schema_type, false);
    match schema_type {
        SchemaType::Array => {
            let items = node
                .get("items")
                .filter(|n| !matches!(n, Node::Null))
                .ok_or_else(|| {
                    ConnectError::data("Array schema did not specify the element type")
                })?;
            schema.value = Some(required_schema(as_connect_schema(cfg, items)?)?);
        }
        SchemaType::Map => {
            let keys = node
                .get("keys")
                .ok_or_else(|| ConnectError::data("Map schema did not specify the key type"))?;
            let values = node
                .get("values")
                .ok_or_else(|| ConnectError::data("Map schema did not specify the value type"))?;
            schema.key = Some(required_schema(as_connect_schema(cfg, keys)?)?);
            schema.value = Some(required_schema(as_connect_schema(cfg, values)?)?);
        }
        SchemaType::Struct => {
            let Some(Node::Array(fields)) = node.get("fields") else {
                return Err(ConnectError::data(
                    "Struct schema's \"fields\" argument is not an array.",
                ));
            };
            for f in fields {
                let name = f.get("field").and_then(Node::text_value).ok_or_else(|| {
                    ConnectError::data("Struct schema's field name not specified properly")
                })?;
                if schema.field(name).is_some() {
                    return Err(ConnectError::schema_builder(format!(
                        "Cannot create field because of field name duplication {name}"
                    )));
                }
                let field_schema = required_schema(as_connect_schema(cfg, f)?)?;
                let index = schema.fields.len();
                schema.fields.push(Field {
                    name: name.to_string(),
                    index,
                    schema: field_schema,
                });
            }
        }
        _ => {}
    }
    schema.optional = matches!(node.get("optional"), Some(Node::Bool(true)));
    if let Some(Node::String(n)) = node.get("name") {
        schema.name = Some(n.clone());
    }
    if let Some(v @ Node::Int(_)) = node.get("version") {
        schema.version = Some(v.int_value());
    }
    if let Some(Node::String(d)) = node.get("doc") {
        schema.doc = Some(d.clone());
    }
    if let Some(Node::Object(params)) = node.get("parameters") {
        let mut out = Vec::with_capacity(params.len());
        for (k, v) in params {
            let Node::String(v) = v else {
                return Err(ConnectError::data(
                    "Schema parameters must have string values.",
                ));
            };
            out.push((k.clone(), v.clone()));
        }
        schema.parameters = Some(out);
    }
    if let Some(default) = node.get("default") {
        let value = convert_to_connect(cfg, Some(&schema), default)?;
        if !value.is_null() {
            // Kafka converts a struct default against the unfinished builder, so the struct's
            // schema never equals the schema being built: such defaults are always invalid.
            if matches!(value, Value::Struct(_)) {
                return Err(ConnectError::schema_builder("Invalid default value"));
            }
            crate::model::schema::validate_put(None, &schema, &value)
                .map_err(|_| ConnectError::schema_builder("Invalid default value"))?;
            schema.default = Some(value);
        }
    }
    Ok(Some(Arc::new(schema)))
}

fn required_schema(s: Option<Arc<ConnectSchema>>) -> Result<Arc<ConnectSchema>, ConnectError> {
    // A null nested schema: Connect's builders reject it when building.
    s.ok_or_else(|| ConnectError::schema_builder("Invalid null schema"))
}

/// `convertToConnect`.
pub fn convert_to_connect(
    cfg: &JsonConfig,
    schema: Option<&ConnectSchema>,
    node: &Node,
) -> Result<Value, ConnectError> {
    let Some(schema) = schema else {
        return schemaless_to_connect(node);
    };
    if node.is_null_or_missing() {
        if let (Some(d), true) = (&schema.default, cfg.replace_null_with_default) {
            return Ok(d.clone());
        }
        if schema.optional {
            return Ok(Value::Null);
        }
        return Err(ConnectError::data(format!(
            "Invalid null value for required {} field",
            schema.type_name()
        )));
    }
    match schema.logical() {
        Some(logical::DECIMAL) => {
            return match node {
                Node::Int(t) | Node::Decimal(t) => parse_decimal(t).map(|(u, s)| Value::Decimal {
                    unscaled: u,
                    scale: s,
                }),
                Node::Utf16(_) => Err(ConnectError::data("Invalid bytes for Decimal field")),
                Node::String(s) => {
                    let invalid = || ConnectError::data("Invalid bytes for Decimal field");
                    let scale = schema.decimal_scale().ok_or_else(invalid)?;
                    let bytes = base64_decode(s).ok_or_else(invalid)?;
                    Ok(Value::Decimal {
                        unscaled: twos_complement_to_i128(&bytes).ok_or_else(invalid)?,
                        scale,
                    })
                }
                other => Err(ConnectError::data(format!(
                    "Invalid type for Decimal, underlying representation should be numeric or bytes but was {}",
                    other.node_type()
                ))),
            };
        }
        Some(logical::DATE) => {
            if !node.is_int() {
                return Err(ConnectError::data(format!(
                    "Invalid type for Date, underlying representation should be integer but was {}",
                    node.node_type()
                )));
            }
            return Ok(Value::Date(i64::from(node.int_value()) * 86_400_000));
        }
        Some(logical::TIME) => {
            if !node.is_int() {
                return Err(ConnectError::data(format!(
                    "Invalid type for Time, underlying representation should be integer but was {}",
                    node.node_type()
                )));
            }
            let ms = node.int_value();
            if !(0..=86_400_000).contains(&ms) {
                return Err(ConnectError::data(
                    "Time values must use number of milliseconds greater than 0 and less than 86400000",
                ));
            }
            return Ok(Value::Date(i64::from(ms)));
        }
        Some(logical::TIMESTAMP) => {
            if !node.is_integral() {
                return Err(ConnectError::data(format!(
                    "Invalid type for Timestamp, underlying representation should be integral but was {}",
                    node.node_type()
                )));
            }
            return Ok(Value::Date(node.long_value()));
        }
        _ => {}
    }
    Ok(match schema.schema_type {
        SchemaType::Boolean => Value::Bool(node.boolean_value()),
        SchemaType::Int8 => Value::I8(node.int_value() as i8),
        SchemaType::Int16 => Value::I16(node.int_value() as i16),
        SchemaType::Int32 => Value::I32(node.int_value()),
        SchemaType::Int64 => Value::I64(node.long_value()),
        SchemaType::Float32 => Value::F32(node.float_value()),
        SchemaType::Float64 => Value::F64(node.double_value()),
        SchemaType::String => match node.text_value() {
            Some(s) => Value::String(s.to_string()),
            None => match node {
                Node::Utf16(units) => Value::Utf16(units.clone()),
                _ => Value::Null,
            },
        },
        SchemaType::Bytes => match node {
            Node::String(s) => Value::Bytes(
                base64_decode(s).ok_or_else(|| ConnectError::data("Invalid bytes field"))?,
            ),
            // A surrogate is not a base64 character.
            Node::Utf16(_) => return Err(ConnectError::data("Invalid bytes field")),
            _ => Value::Null,
        },
        SchemaType::Array => {
            // Iterating a JsonNode yields array elements, or an object's member values.
            let items: Vec<&Node> = match node {
                Node::Array(items) => items.iter().collect(),
                Node::Object(members) => members.iter().map(|(_, v)| v).collect(),
                _ => vec![],
            };
            let item_schema = schema.value.as_deref();
            Value::Array(
                items
                    .into_iter()
                    .map(|n| convert_to_connect(cfg, item_schema, n))
                    .collect::<Result<_, _>>()?,
            )
        }
        SchemaType::Map => {
            let (ks, vs) = (schema.key.as_deref(), schema.value.as_deref());
            let mut entries = Vec::new();
            if ks.is_some_and(|k| k.schema_type == SchemaType::String) {
                let Node::Object(members) = node else {
                    return Err(ConnectError::data(format!(
                        "Maps with string fields should be encoded as JSON objects, but found {}",
                        node.node_type()
                    )));
                };
                for (k, v) in members {
                    Value::map_put(
                        &mut entries,
                        Value::String(k.clone()),
                        convert_to_connect(cfg, vs, v)?,
                    );
                }
            } else {
                let Node::Array(items) = node else {
                    return Err(ConnectError::data(format!(
                        "Maps with non-string fields should be encoded as JSON array of tuples, but found {}",
                        node.node_type()
                    )));
                };
                for entry in items {
                    let Node::Array(pair) = entry else {
                        return Err(ConnectError::data(format!(
                            "Found invalid map entry instead of array tuple: {}",
                            entry.node_type()
                        )));
                    };
                    if pair.len() != 2 {
                        return Err(ConnectError::data(format!(
                            "Found invalid map entry, expected length 2 but found :{}",
                            pair.len()
                        )));
                    }
                    Value::map_put(
                        &mut entries,
                        convert_to_connect(cfg, ks, &pair[0])?,
                        convert_to_connect(cfg, vs, &pair[1])?,
                    );
                }
            }
            Value::Map(crate::model::value::java_hash_order(
                entries,
                crate::model::value::JavaMapInit::Default,
            ))
        }
        SchemaType::Struct => {
            if !matches!(node, Node::Object(_)) {
                return Err(ConnectError::data(format!(
                    "Structs should be encoded as JSON objects, but found {}",
                    node.node_type()
                )));
            }
            let mut values = Vec::with_capacity(schema.fields.len());
            for f in &schema.fields {
                let v = convert_to_connect(
                    cfg,
                    Some(&f.schema),
                    node.get(&f.name).unwrap_or(&Node::Null),
                )?;
                // Kafka's Struct.put validates the field (ConnectSchema.validateValue).
                validate_nulls(&f.schema, &v, &|| format!("field: \"{}\"", f.name))?;
                values.push(v);
            }
            Value::Struct(Struct {
                schema: Arc::new(schema.clone()),
                values,
            })
        }
    })
}

/// The null checks of Kafka's `ConnectSchema.validateValue`: a null under a required schema
/// fails, in arrays and maps too, with Kafka's message naming where (`location`, built only
/// for the message). Nested structs were checked when they were built.
pub fn validate_nulls(
    s: &ConnectSchema,
    v: &Value,
    location: &dyn Fn() -> String,
) -> Result<(), ConnectError> {
    match v {
        Value::Null if !s.optional => Err(ConnectError::data(format!(
            "Invalid value: null used for required {}, schema type: {}",
            location(),
            s.type_name()
        ))),
        Value::Array(items) => {
            let Some(item) = s.value.as_deref() else {
                return Ok(());
            };
            let at = || format!("element of array {}", location());
            items.iter().try_for_each(|x| validate_nulls(item, x, &at))
        }
        Value::Map(entries) => {
            let (Some(ks), Some(vs)) = (s.key.as_deref(), s.value.as_deref()) else {
                return Ok(());
            };
            let at_key = || format!("key of map {}", location());
            let at_value = || format!("value of map {}", location());
            entries.iter().try_for_each(|(k, x)| {
                validate_nulls(ks, k, &at_key)?;
                validate_nulls(vs, x, &at_value)
            })
        }
        _ => Ok(()),
    }
}

fn schemaless_to_connect(node: &Node) -> Result<Value, ConnectError> {
    Ok(match node {
        Node::Null | Node::Missing => Value::Null,
        Node::Bool(b) => Value::Bool(*b),
        Node::Int(_) => Value::I64(node.long_value()),
        Node::Decimal(_) => Value::F64(node.double_value()),
        Node::String(s) => Value::String(s.clone()),
        Node::Utf16(units) => Value::Utf16(units.clone()),
        Node::Array(items) => Value::Array(
            items
                .iter()
                .map(schemaless_to_connect)
                .collect::<Result<_, _>>()?,
        ),
        Node::Object(members) => {
            let mut entries = Vec::with_capacity(members.len());
            for (k, v) in members {
                Value::map_put(
                    &mut entries,
                    Value::String(k.clone()),
                    schemaless_to_connect(v)?,
                );
            }
            Value::Map(crate::model::value::java_hash_order(
                entries,
                crate::model::value::JavaMapInit::Default,
            ))
        }
    })
}

/// Exact decimal text to (unscaled, scale), as `BigDecimal` reads it.
pub fn parse_decimal(text: &str) -> Result<(i128, i32), ConnectError> {
    let bad = || ConnectError::data(format!("Decimal value out of range: {text}"));
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().map_err(|_| bad())?),
        None => (text, 0),
    };
    let (int_part, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int_part}{frac}");
    let unscaled: i128 = digits.parse().map_err(|_| bad())?;
    Ok((unscaled, frac.len() as i32 - exp))
}

/// Java's `new BigInteger(bytes)` (big-endian two's complement), when it fits an i128.
pub(crate) fn twos_complement_to_i128(bytes: &[u8]) -> Option<i128> {
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let mut v: i128 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
    for b in bytes {
        v = (v << 8) | i128::from(*b);
    }
    Some(v)
}

pub(crate) fn i128_to_twos_complement(v: i128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 15 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0x00 && next & 0x80 == 0) || (b == 0xFF && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    bytes[start..].to_vec()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(bytes: &[u8], out: &mut Vec<u8>) {
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        out.push(B64[(n >> 18) as usize & 63]);
        out.push(B64[(n >> 12) as usize & 63]);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63]
        } else {
            b'='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63]
        } else {
            b'='
        });
    }
}

/// Jackson's base64 (`binaryValue()` of a text node): standard alphabet, padding required.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    // Jackson's `TextNode.binaryValue()`: the text trimmed, then `Base64Variant.decode` of
    // the MIME-without-linefeeds variant: characters up to a space are skipped only before a
    // group of four, padding is required, and a padded group may be followed by more groups.
    let t = s.trim_matches(|c: char| c <= ' ').as_bytes();
    let value = |c: u8| -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let mut out = Vec::with_capacity(t.len() / 4 * 3);
    let mut i = 0;
    loop {
        while i < t.len() && t[i] <= b' ' {
            i += 1;
        }
        if i >= t.len() {
            return Some(out);
        }
        let a = value(t[i])?;
        let b = value(*t.get(i + 1)?)?;
        let third = *t.get(i + 2)?;
        let fourth = *t.get(i + 3)?;
        i += 4;
        if third == b'=' {
            if fourth != b'=' {
                return None;
            }
            out.push(((a << 6 | b) >> 4) as u8);
            continue;
        }
        let c = value(third)?;
        if fourth == b'=' {
            let v = ((a << 6 | b) << 6 | c) >> 2;
            out.extend_from_slice(&[(v >> 8) as u8, v as u8]);
            continue;
        }
        let v = ((a << 6 | b) << 6 | c) << 6 | value(fourth)?;
        out.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]);
    }
}

/// How many arrays, maps and structs nest in `value`, itself included.
fn nesting(value: &Value) -> usize {
    let deepest = |items: &mut dyn Iterator<Item = &Value>| items.map(nesting).max().unwrap_or(0);
    match value {
        Value::Array(items) => 1 + deepest(&mut items.iter()),
        Value::Map(entries) => 1 + deepest(&mut entries.iter().map(|(_, v)| v)),
        Value::Struct(st) => 1 + deepest(&mut st.values.iter()),
        _ => 0,
    }
}

/// `fromConnectData`: schema and value to bytes (`None` = Kafka null).
pub fn from_connect_data(
    cfg: &JsonConfig,
    schema: Option<&ConnectSchema>,
    value: &Value,
) -> Result<Option<Vec<u8>>, ConnectError> {
    if schema.is_none() && value.is_null() {
        return Ok(None);
    }
    // Jackson's StreamWriteConstraints: at most 1000 nested arrays and objects (the
    // envelope is one of them).
    if nesting(value) + usize::from(cfg.schemas_enable) > 1000 {
        return Err(ConnectError::data(
            "Converting Kafka Connect data to byte[] failed due to serialization error: ",
        ));
    }
    let mut out = Vec::with_capacity(128);
    if cfg.schemas_enable {
        out.extend_from_slice(b"{\"schema\":");
        match schema {
            Some(s) => write_json_schema(cfg, s, &mut out)?,
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"payload\":");
        write_json(cfg, schema, value, &mut out)?;
        out.push(b'}');
    } else {
        write_json(cfg, schema, value, &mut out)?;
    }
    Ok(Some(out))
}

/// `asJsonSchema`, written as Jackson would serialize it.
pub fn write_json_schema(
    cfg: &JsonConfig,
    s: &ConnectSchema,
    out: &mut Vec<u8>,
) -> Result<(), ConnectError> {
    out.extend_from_slice(b"{\"type\":");
    text::write_string(out, s.schema_type.json_name());
    match s.schema_type {
        SchemaType::Array => {
            out.extend_from_slice(b",\"items\":");
            write_opt_schema(cfg, s.value.as_deref(), out)?;
        }
        SchemaType::Map => {
            out.extend_from_slice(b",\"keys\":");
            write_opt_schema(cfg, s.key.as_deref(), out)?;
            out.extend_from_slice(b",\"values\":");
            write_opt_schema(cfg, s.value.as_deref(), out)?;
        }
        SchemaType::Struct => {
            out.extend_from_slice(b",\"fields\":[");
            for (i, f) in s.fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_schema(cfg, &f.schema, out)?;
                // The field's own schema object, with "field" appended last.
                out.pop();
                out.extend_from_slice(b",\"field\":");
                text::write_string(out, &f.name);
                out.push(b'}');
            }
            out.push(b']');
        }
        _ => {}
    }
    out.extend_from_slice(if s.optional {
        b",\"optional\":true"
    } else {
        b",\"optional\":false"
    });
    if let Some(n) = &s.name {
        out.extend_from_slice(b",\"name\":");
        text::write_string(out, n);
    }
    if let Some(v) = s.version {
        out.extend_from_slice(format!(",\"version\":{v}").as_bytes());
    }
    if let Some(d) = &s.doc {
        out.extend_from_slice(b",\"doc\":");
        text::write_string(out, d);
    }
    if let Some(params) = &s.parameters {
        out.extend_from_slice(b",\"parameters\":{");
        for (i, (k, v)) in params.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            text::write_string(out, k);
            out.push(b':');
            text::write_string(out, v);
        }
        out.push(b'}');
    }
    if let Some(d) = &s.default {
        out.extend_from_slice(b",\"default\":");
        write_json(cfg, Some(s), d, out)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_opt_schema(
    cfg: &JsonConfig,
    s: Option<&ConnectSchema>,
    out: &mut Vec<u8>,
) -> Result<(), ConnectError> {
    match s {
        Some(s) => write_json_schema(cfg, s, out),
        None => {
            out.extend_from_slice(b"null");
            Ok(())
        }
    }
}

/// `convertToJson`, written as Jackson would serialize the node.
pub fn write_json(
    cfg: &JsonConfig,
    schema: Option<&ConnectSchema>,
    value: &Value,
    out: &mut Vec<u8>,
) -> Result<(), ConnectError> {
    if value.is_null() {
        let Some(s) = schema else {
            out.extend_from_slice(b"null");
            return Ok(());
        };
        if let (Some(d), true) = (&s.default, cfg.replace_null_with_default) {
            return write_json(cfg, schema, d, out);
        }
        if s.optional {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        return Err(ConnectError::data(
            "Conversion error: null value for field that is required and has no default value",
        ));
    }
    let invalid = |type_name: String| {
        ConnectError::data(format!(
            "Invalid type for {type_name}: {}",
            value.java_class()
        ))
    };
    if let Some(s) = schema {
        match (s.logical(), value) {
            (Some(logical::DECIMAL), Value::Decimal { unscaled, scale }) => {
                match cfg.decimal_format {
                    DecimalFormat::Numeric => out.extend_from_slice(
                        java::big_decimal_to_string(&unscaled.to_string(), *scale).as_bytes(),
                    ),
                    DecimalFormat::Base64 => {
                        // Decimal.fromLogical rescales to the schema's scale first.
                        let target = s.decimal_scale().unwrap_or(0);
                        if target != *scale {
                            return Err(ConnectError::data(format!(
                                "Decimal value has mismatching scale for given Decimal schema. Schema has scale {target}, value has scale {scale}."
                            )));
                        }
                        out.push(b'"');
                        base64_encode(&i128_to_twos_complement(*unscaled), out);
                        out.push(b'"');
                    }
                }
                return Ok(());
            }
            (Some(logical::DATE), Value::Date(ms)) => {
                if ms.rem_euclid(86_400_000) != 0 {
                    return Err(ConnectError::data(
                        "Kafka Connect Date type should not have any time fields set to non-zero values.",
                    ));
                }
                out.extend_from_slice(((ms / 86_400_000) as i32).to_string().as_bytes());
                return Ok(());
            }
            (Some(logical::TIME), Value::Date(ms)) => {
                if !(0..=86_400_000).contains(ms) {
                    return Err(ConnectError::data(
                        "Kafka Connect time type should not have any date fields set to non-zero values.",
                    ));
                }
                out.extend_from_slice(ms.to_string().as_bytes());
                return Ok(());
            }
            (Some(logical::TIMESTAMP), Value::Date(ms)) => {
                out.extend_from_slice(ms.to_string().as_bytes());
                return Ok(());
            }
            (Some(l), _) => {
                let short = l.rsplit('.').next().unwrap_or(l);
                let expected = if l == logical::DECIMAL {
                    "BigDecimal"
                } else {
                    "Date"
                };
                return Err(ConnectError::data(format!(
                    "Invalid type for {short}, expected {expected} but was {}",
                    value.java_class()
                )));
            }
            _ => {}
        }
    }
    let schema_type = match schema {
        Some(s) => s.schema_type,
        None => value.schema_type().ok_or_else(|| {
            ConnectError::data(format!(
                "Java class {} does not have corresponding schema type.",
                value.java_class()
            ))
        })?,
    };
    let type_label = || schema.map_or("unknown schema".to_string(), |s| s.type_name());
    match (schema_type, value) {
        (SchemaType::Int8, Value::I8(v)) => out.extend_from_slice(v.to_string().as_bytes()),
        (SchemaType::Int16, Value::I16(v)) => out.extend_from_slice(v.to_string().as_bytes()),
        (SchemaType::Int32, Value::I32(v)) => out.extend_from_slice(v.to_string().as_bytes()),
        (SchemaType::Int64, Value::I64(v)) => out.extend_from_slice(v.to_string().as_bytes()),
        (SchemaType::Float32, Value::F32(v)) => {
            write_float(out, java::float_to_string(*v), v.is_finite())
        }
        (SchemaType::Float64, Value::F64(v)) if v.is_finite() => java::write_double(out, *v),
        (SchemaType::Float64, Value::F64(v)) => write_float(out, java::double_to_string(*v), false),
        (SchemaType::Boolean, Value::Bool(b)) => {
            out.extend_from_slice(if *b { b"true" } else { b"false" })
        }
        (SchemaType::String, Value::String(s)) => text::write_string(out, s),
        (SchemaType::String, Value::Utf16(units)) => text::write_utf16(out, units),
        (SchemaType::Bytes, Value::Bytes(b)) => {
            out.push(b'"');
            base64_encode(b, out);
            out.push(b'"');
        }
        (SchemaType::Bytes, other) => {
            return Err(ConnectError::data(format!(
                "Invalid type for bytes type: {}",
                other.java_class()
            )));
        }
        (SchemaType::Array, Value::Array(items)) => {
            out.push(b'[');
            let item_schema = schema.and_then(|s| s.value.as_deref());
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(cfg, item_schema, v, out)?;
            }
            out.push(b']');
        }
        (SchemaType::Map, Value::Map(entries)) => {
            let (ks, vs) = (
                schema.and_then(|s| s.key.as_deref()),
                schema.and_then(|s| s.value.as_deref()),
            );
            let object_mode = match schema {
                None => entries.iter().all(|(k, _)| matches!(k, Value::String(_))),
                // Kafka reads `schema.keySchema().type()`: a map schema without a key schema
                // (Values' parse of `{}` or of mixed keys) is a NullPointerException.
                Some(_) if ks.is_none() => {
                    return Err(ConnectError {
                        exception: "java.lang.NullPointerException",
                        message: None,
                    });
                }
                Some(_) => ks.is_some_and(|k| k.schema_type == SchemaType::String),
            };
            if object_mode {
                // Jackson's ObjectNode: a repeated key text keeps the first position, last value.
                let mut members: Vec<(String, Vec<u8>)> = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let mut key_json = Vec::new();
                    write_json(cfg, ks, k, &mut key_json)?;
                    let key_text = as_text(k, &key_json);
                    let mut val = Vec::new();
                    write_json(cfg, vs, v, &mut val)?;
                    match members.iter_mut().find(|(mk, _)| *mk == key_text) {
                        Some(slot) => slot.1 = val,
                        None => members.push((key_text, val)),
                    }
                }
                out.push(b'{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    text::write_string(out, k);
                    out.push(b':');
                    out.extend_from_slice(v);
                }
                out.push(b'}');
            } else {
                out.push(b'[');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.push(b'[');
                    write_json(cfg, ks, k, out)?;
                    out.push(b',');
                    write_json(cfg, vs, v, out)?;
                    out.push(b']');
                }
                out.push(b']');
            }
        }
        (SchemaType::Struct, Value::Struct(st)) => {
            let Some(s) = schema else {
                return Err(invalid(type_label()));
            };
            if *st.schema != *s {
                return Err(ConnectError::data("Mismatching schema."));
            }
            out.push(b'{');
            for (i, f) in s.fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                text::write_string(out, &f.name);
                out.push(b':');
                write_json(cfg, Some(&f.schema), &st.values[i], out)?;
            }
            out.push(b'}');
        }
        _ => return Err(invalid(type_label())),
    }
    Ok(())
}

fn write_float(out: &mut Vec<u8>, text: String, finite: bool) {
    // Jackson writes NaN and infinities as strings.
    if finite {
        out.extend_from_slice(text.as_bytes());
    } else {
        text::write_string(out, &text);
    }
}

/// Jackson's `asText()` of a converted key node.
fn as_text(key: &Value, key_json: &[u8]) -> String {
    match key {
        Value::String(s) => s.clone(),
        _ => String::from_utf8_lossy(key_json).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_reads_as_jacksons_text_node_does() {
        assert_eq!(base64_decode("YWJj"), Some(b"abc".to_vec()));
        assert_eq!(base64_decode(" YWI= \n"), Some(b"ab".to_vec()));
        // White space only between groups of four; a padded group may be followed by more.
        assert_eq!(base64_decode("YQ== YWI="), Some(b"aab".to_vec()));
        assert_eq!(base64_decode("Z9Z Z"), None);
        assert_eq!(base64_decode("YWJ"), None);
        assert_eq!(base64_decode("YQ=a"), None);
        assert_eq!(base64_decode("=YWJ"), None);
        assert_eq!(base64_decode(""), Some(Vec::new()));
    }
}
