//! Converters between raw Kafka bytes (a `BinaryView` column of the raw batch) and Connect
//! data columns, configured from Connect's properties (`key.converter`, `value.converter`
//! and their prefixed settings). Each converter works on a whole column at once and reports
//! rows it cannot convert as [`RowFailure`]s instead of failing the batch.
//!
//! The JSON converter here covers the quickstart (primitive schemas, envelopes on or off);
//! the full Connect type system lands with the converter work.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryViewArray, BinaryViewBuilder, BooleanBuilder, Float64Builder,
    Int64Builder, StringViewArray, StringViewBuilder,
};
use arrow::datatypes::DataType;

use crate::column::ConnectColumn;
use crate::error::{CodecError, Result, RowFailure, Stage};
use crate::json_text;
use crate::schema::{ConnectSchema, SchemaType};

/// Whether a converter handles record keys or values; decides the failure stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConverterRole {
    Key,
    Value,
}

impl ConverterRole {
    pub fn stage(self) -> Stage {
        match self {
            ConverterRole::Key => Stage::KeyConverter,
            ConverterRole::Value => Stage::ValueConverter,
        }
    }
}

/// Result of decoding a column: Connect data (null where a row failed) and the failures.
#[derive(Debug)]
pub struct Decoded {
    pub column: ConnectColumn,
    pub failures: Vec<RowFailure>,
}

/// Result of encoding a column: bytes (null where a row failed) and the failures.
#[derive(Debug)]
pub struct Encoded {
    pub bytes: BinaryViewArray,
    pub failures: Vec<RowFailure>,
}

/// A batch converter: `decode` is Kafka's `toConnectData`, `encode` is
/// `fromConnectData`, both over a whole column.
pub trait Converter: Send + Sync + fmt::Debug {
    fn decode(&self, input: &BinaryViewArray) -> Decoded;
    fn encode(&self, column: &ConnectColumn) -> Result<Encoded>;
}

/// Which converter a config names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConverterKind {
    Json,
    String,
    ByteArray,
}

impl ConverterKind {
    /// Accepts the Java class name or the short class name.
    pub fn from_class(class: &str) -> Option<Self> {
        let short = class.rsplit('.').next().unwrap_or(class);
        Some(match short {
            "JsonConverter" => ConverterKind::Json,
            "StringConverter" => ConverterKind::String,
            "ByteArrayConverter" => ConverterKind::ByteArray,
            _ => return None,
        })
    }
}

/// A typed converter configuration, parsed from the un-prefixed properties.
#[derive(Debug, Clone)]
pub struct ConverterConfig {
    pub kind: ConverterKind,
    pub role: ConverterRole,
    /// `schemas.enable` (JsonConverter; default true).
    pub schemas_enable: bool,
}

impl ConverterConfig {
    /// `key` is the property naming the class (for error messages), `props` the settings
    /// with the role prefix removed (`schemas.enable`, ...).
    pub fn parse(
        key: &str,
        class: &str,
        props: &HashMap<String, String>,
        role: ConverterRole,
    ) -> Result<Self> {
        let kind = ConverterKind::from_class(class.trim()).ok_or_else(|| {
            CodecError::UnknownConverter {
                key: key.to_string(),
                class: class.to_string(),
            }
        })?;
        let schemas_enable = match props
            .get("schemas.enable")
            .map(|v| v.trim().to_ascii_lowercase())
        {
            None => true,
            Some(v) if v == "true" => true,
            Some(v) if v == "false" => false,
            Some(v) => {
                return Err(CodecError::InvalidConfig {
                    key: format!("{key}.schemas.enable"),
                    value: v,
                    reason: "Expected value to be either true or false".into(),
                });
            }
        };
        Ok(Self {
            kind,
            role,
            schemas_enable,
        })
    }

    pub fn build(&self) -> Arc<dyn Converter> {
        match self.kind {
            ConverterKind::Json => Arc::new(JsonConverter {
                role: self.role,
                schemas_enable: self.schemas_enable,
            }),
            ConverterKind::String => Arc::new(StringConverter { role: self.role }),
            ConverterKind::ByteArray => Arc::new(ByteArrayConverter { role: self.role }),
        }
    }
}

/// `org.apache.kafka.connect.storage.StringConverter` (UTF-8).
#[derive(Debug)]
pub struct StringConverter {
    role: ConverterRole,
}

impl Converter for StringConverter {
    fn decode(&self, input: &BinaryViewArray) -> Decoded {
        // Valid UTF-8 (the common case) is re-typed in place, sharing the data blocks.
        let strings = match input.clone().to_string_view() {
            Ok(s) => s,
            Err(_) => input
                .iter()
                .map(|v| v.map(|b| String::from_utf8_lossy(b).into_owned()))
                .collect::<StringViewArray>(),
        };
        Decoded {
            column: ConnectColumn::new(Some(ConnectSchema::optional_string()), Arc::new(strings)),
            failures: vec![],
        }
    }

    fn encode(&self, column: &ConnectColumn) -> Result<Encoded> {
        let array = &column.array;
        let bytes = match array.data_type() {
            DataType::Utf8View => array.as_string_view().clone().to_binary_view(),
            DataType::BinaryView => array.as_binary_view().clone(),
            DataType::Null => BinaryViewArray::new_null(array.len()),
            _ => render_each(array, |out, i| {
                crate::display::write_java_display(out, array, i)
            })?,
        };
        let _ = self.role;
        Ok(Encoded {
            bytes,
            failures: vec![],
        })
    }
}

/// `org.apache.kafka.connect.converters.ByteArrayConverter`: the value column is the
/// fetched bytes, shared, not copied.
#[derive(Debug)]
pub struct ByteArrayConverter {
    role: ConverterRole,
}

impl Converter for ByteArrayConverter {
    fn decode(&self, input: &BinaryViewArray) -> Decoded {
        Decoded {
            column: ConnectColumn::new(
                Some(ConnectSchema::optional_bytes()),
                Arc::new(input.clone()),
            ),
            failures: vec![],
        }
    }

    fn encode(&self, column: &ConnectColumn) -> Result<Encoded> {
        let array = &column.array;
        match (column.schema.as_deref(), array.data_type()) {
            (_, DataType::Null) => Ok(Encoded {
                bytes: BinaryViewArray::new_null(array.len()),
                failures: vec![],
            }),
            (
                None
                | Some(ConnectSchema {
                    schema_type: SchemaType::Bytes,
                    ..
                }),
                DataType::BinaryView,
            ) => Ok(Encoded {
                bytes: array.as_binary_view().clone(),
                failures: vec![],
            }),
            (Some(s), _) => {
                let message = format!(
                    "Invalid schema type for ByteArrayConverter: {}",
                    s.schema_type.json_name().to_uppercase()
                );
                let failures = (0..array.len())
                    .filter(|&i| array.is_valid(i))
                    .map(|i| RowFailure::data(i, self.role.stage(), message.clone()))
                    .collect();
                Ok(Encoded {
                    bytes: BinaryViewArray::new_null(array.len()),
                    failures,
                })
            }
            (None, other) => Err(CodecError::UnsupportedColumn {
                converter: "ByteArrayConverter",
                found: other.to_string(),
            }),
        }
    }
}

/// `org.apache.kafka.connect.json.JsonConverter`, quickstart subset: primitive schemas.
#[derive(Debug)]
pub struct JsonConverter {
    role: ConverterRole,
    schemas_enable: bool,
}

enum JsonColumnBuilder {
    None,
    String(StringViewBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
}

impl JsonConverter {
    fn decode_one(
        &self,
        bytes: &[u8],
    ) -> std::result::Result<(Option<SchemaType>, serde_json::Value), String> {
        let doc: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            format!(
                "Converting byte[] to Kafka Connect data failed due to serialization error: {e}"
            )
        })?;
        if !self.schemas_enable {
            return Ok((None, doc));
        }
        let serde_json::Value::Object(mut envelope) = doc else {
            return Err(ENVELOPE_REQUIRED.into());
        };
        if envelope.len() != 2
            || !envelope.contains_key("schema")
            || !envelope.contains_key("payload")
        {
            return Err(ENVELOPE_REQUIRED.into());
        }
        let payload = envelope
            .remove("payload")
            .unwrap_or(serde_json::Value::Null);
        let schema_type = match envelope.get("schema") {
            Some(serde_json::Value::Null) | None => None,
            Some(serde_json::Value::Object(s)) => {
                let name = s
                    .get("type")
                    .and_then(|t| t.as_str())
                    .ok_or("Schema must contain 'type' field")?;
                Some(
                    SchemaType::from_json_name(name)
                        .ok_or_else(|| format!("Unknown schema type: {name}"))?,
                )
            }
            Some(_) => return Err("Schema must be an object".into()),
        };
        Ok((schema_type, payload))
    }
}

const ENVELOPE_REQUIRED: &str = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.";

impl Converter for JsonConverter {
    fn decode(&self, input: &BinaryViewArray) -> Decoded {
        let stage = self.role.stage();
        let mut failures = Vec::new();
        let mut schema: Option<SchemaType> = None;
        let mut builder = JsonColumnBuilder::None;
        let mut pending_nulls = 0usize;
        for i in 0..input.len() {
            let decoded = if input.is_null(i) {
                Ok((None, serde_json::Value::Null))
            } else {
                self.decode_one(input.value(i))
            };
            let (row_schema, value) = match decoded {
                Ok(v) => v,
                Err(message) => {
                    failures.push(RowFailure::data(i, stage, message));
                    append_null(&mut builder, &mut pending_nulls);
                    continue;
                }
            };
            let kind = row_schema.or_else(|| infer_kind(&value));
            if let (JsonColumnBuilder::None, Some(kind)) = (&builder, kind) {
                {
                    match new_builder(kind, input.len()) {
                        Some(mut b) => {
                            for _ in 0..pending_nulls {
                                append_null(&mut b, &mut 0);
                            }
                            builder = b;
                            schema = Some(kind);
                        }
                        None => {
                            failures.push(RowFailure::data(i, stage, format!("JSON of type {} is not supported by this build's JsonConverter yet", kind.json_name())));
                            pending_nulls += 1;
                            continue;
                        }
                    }
                }
            }
            if !append_value(&mut builder, &mut pending_nulls, &value) {
                failures.push(RowFailure::data(
                    i,
                    stage,
                    format!(
                        "JSON value {value} does not match the batch's schema type {}",
                        schema.map_or("null", |s| s.json_name())
                    ),
                ));
                append_null(&mut builder, &mut pending_nulls);
            }
        }
        let array: ArrayRef = match builder {
            JsonColumnBuilder::None => arrow::array::new_null_array(&DataType::Null, input.len()),
            JsonColumnBuilder::String(mut b) => Arc::new(b.finish()),
            JsonColumnBuilder::Int(mut b) => Arc::new(b.finish()),
            JsonColumnBuilder::Float(mut b) => Arc::new(b.finish()),
            JsonColumnBuilder::Bool(mut b) => Arc::new(b.finish()),
        };
        let schema = match (self.schemas_enable, schema) {
            (true, Some(t)) => Some(Arc::new(ConnectSchema::new(t, false))),
            _ => None,
        };
        Decoded {
            column: ConnectColumn::new(schema, array),
            failures,
        }
    }

    fn encode(&self, column: &ConnectColumn) -> Result<Encoded> {
        let array = &column.array;
        if column.schema.is_none() && array.data_type() == &DataType::Null {
            // fromConnectData(null schema, null value) is null bytes, envelope or not.
            return Ok(Encoded {
                bytes: BinaryViewArray::new_null(array.len()),
                failures: vec![],
            });
        }
        let schema_json = column.schema.as_deref().map(|s| {
            let mut v = Vec::new();
            v.extend_from_slice(b"{\"type\":\"");
            v.extend_from_slice(s.schema_type.json_name().as_bytes());
            v.extend_from_slice(if s.optional {
                b"\",\"optional\":true}"
            } else {
                b"\",\"optional\":false}"
            });
            v
        });
        let mut builder = BinaryViewBuilder::with_capacity(array.len());
        let mut buf = Vec::with_capacity(256);
        for i in 0..array.len() {
            if array.is_null(i) && schema_json.is_none() {
                builder.append_null();
                continue;
            }
            buf.clear();
            if self.schemas_enable {
                buf.extend_from_slice(b"{\"schema\":");
                match &schema_json {
                    Some(s) => buf.extend_from_slice(s),
                    None => buf.extend_from_slice(b"null"),
                }
                buf.extend_from_slice(b",\"payload\":");
            }
            write_json_value(&mut buf, array, i)?;
            if self.schemas_enable {
                buf.push(b'}');
            }
            builder.append_value(&buf);
        }
        Ok(Encoded {
            bytes: builder.finish(),
            failures: vec![],
        })
    }
}

fn infer_kind(value: &serde_json::Value) -> Option<SchemaType> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::Bool(_) => Some(SchemaType::Boolean),
        serde_json::Value::Number(n) if n.is_i64() => Some(SchemaType::Int64),
        serde_json::Value::Number(_) => Some(SchemaType::Float64),
        serde_json::Value::String(_) => Some(SchemaType::String),
        serde_json::Value::Array(_) => Some(SchemaType::Array),
        serde_json::Value::Object(_) => Some(SchemaType::Map),
    }
}

fn new_builder(kind: SchemaType, cap: usize) -> Option<JsonColumnBuilder> {
    Some(match kind {
        SchemaType::String => JsonColumnBuilder::String(StringViewBuilder::with_capacity(cap)),
        SchemaType::Int8 | SchemaType::Int16 | SchemaType::Int32 | SchemaType::Int64 => {
            JsonColumnBuilder::Int(Int64Builder::with_capacity(cap))
        }
        SchemaType::Float32 | SchemaType::Float64 => {
            JsonColumnBuilder::Float(Float64Builder::with_capacity(cap))
        }
        SchemaType::Boolean => JsonColumnBuilder::Bool(BooleanBuilder::with_capacity(cap)),
        _ => return None,
    })
}

fn append_null(b: &mut JsonColumnBuilder, pending: &mut usize) {
    match b {
        JsonColumnBuilder::None => *pending += 1,
        JsonColumnBuilder::String(b) => b.append_null(),
        JsonColumnBuilder::Int(b) => b.append_null(),
        JsonColumnBuilder::Float(b) => b.append_null(),
        JsonColumnBuilder::Bool(b) => b.append_null(),
    }
}

/// Appends `v`; false when it does not fit the column's type.
fn append_value(b: &mut JsonColumnBuilder, pending: &mut usize, v: &serde_json::Value) -> bool {
    use serde_json::Value as V;
    match (b, v) {
        (b, V::Null) => append_null(b, pending),
        (JsonColumnBuilder::String(b), V::String(s)) => b.append_value(s),
        (JsonColumnBuilder::Int(b), V::Number(n)) if n.is_i64() => b.append_option(n.as_i64()),
        (JsonColumnBuilder::Float(b), V::Number(n)) => b.append_option(n.as_f64()),
        (JsonColumnBuilder::Bool(b), V::Bool(x)) => b.append_value(*x),
        _ => return false,
    }
    true
}

fn write_json_value(out: &mut Vec<u8>, array: &ArrayRef, i: usize) -> Result<()> {
    use std::io::Write;
    if array.is_null(i) {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    match array.data_type() {
        DataType::Utf8View => json_text::write_string(out, array.as_string_view().value(i)),
        DataType::Int64 => {
            let _ = write!(
                out,
                "{}",
                array.as_primitive::<arrow::datatypes::Int64Type>().value(i)
            );
        }
        DataType::Boolean => out.extend_from_slice(if array.as_boolean().value(i) {
            b"true"
        } else {
            b"false"
        }),
        other => {
            return Err(CodecError::UnsupportedColumn {
                converter: "JsonConverter",
                found: other.to_string(),
            });
        }
    }
    Ok(())
}

fn render_each(
    array: &ArrayRef,
    mut f: impl FnMut(&mut Vec<u8>, usize) -> Result<()>,
) -> Result<BinaryViewArray> {
    let mut builder = BinaryViewBuilder::with_capacity(array.len());
    let mut buf = Vec::new();
    for i in 0..array.len() {
        if array.is_null(i) {
            builder.append_null();
            continue;
        }
        buf.clear();
        f(&mut buf, i)?;
        builder.append_value(&buf);
    }
    Ok(builder.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(class: &str, schemas: &str, role: ConverterRole) -> Arc<dyn Converter> {
        let props = HashMap::from([("schemas.enable".to_string(), schemas.to_string())]);
        ConverterConfig::parse("value.converter", class, &props, role)
            .expect("config")
            .build()
    }

    #[test]
    fn json_envelope_round_trip_of_strings() {
        let c = conv(
            "org.apache.kafka.connect.json.JsonConverter",
            "true",
            ConverterRole::Value,
        );
        let col = ConnectColumn::new(
            Some(ConnectSchema::string()),
            Arc::new(StringViewArray::from(vec!["foo", "bar \"q\""])),
        );
        let enc = c.encode(&col).expect("encode");
        assert_eq!(
            enc.bytes.value(0),
            br#"{"schema":{"type":"string","optional":false},"payload":"foo"}"#
        );
        assert_eq!(
            enc.bytes.value(1),
            br#"{"schema":{"type":"string","optional":false},"payload":"bar \"q\""}"#
        );
        let dec = c.decode(&enc.bytes);
        assert!(dec.failures.is_empty());
        assert_eq!(dec.column.array.as_string_view().value(1), "bar \"q\"");
        assert_eq!(
            dec.column.schema.as_deref().map(|s| s.schema_type),
            Some(SchemaType::String)
        );
    }

    #[test]
    fn json_failures_are_per_row() {
        let c = conv("JsonConverter", "true", ConverterRole::Key);
        let input = BinaryViewArray::from(vec![
            Some(&br#"{"schema":{"type":"int64","optional":false},"payload":7}"#[..]),
            Some(&b"not json"[..]),
            None,
            Some(&br#"{"payload":1}"#[..]),
        ]);
        let dec = c.decode(&input);
        assert_eq!(
            dec.failures
                .iter()
                .map(|f| (f.row, f.stage))
                .collect::<Vec<_>>(),
            vec![(1, Stage::KeyConverter), (3, Stage::KeyConverter)]
        );
        assert_eq!(
            dec.column
                .array
                .as_primitive::<arrow::datatypes::Int64Type>()
                .value(0),
            7
        );
        assert!(dec.column.array.is_null(2));
    }

    #[test]
    fn json_null_column_encodes_to_null_bytes() {
        for schemas in ["true", "false"] {
            let enc = conv("JsonConverter", schemas, ConverterRole::Key)
                .encode(&ConnectColumn::nulls(3))
                .expect("encode");
            assert_eq!(enc.bytes.null_count(), 3);
        }
    }

    #[test]
    fn string_and_bytes_share_buffers() {
        let long = "a string long enough to live in a data block";
        let input = BinaryViewArray::from(vec![Some(long.as_bytes()), None]);
        let s = conv("StringConverter", "true", ConverterRole::Value).decode(&input);
        assert_eq!(
            s.column.array.as_string_view().data_buffers()[0].as_ptr(),
            input.data_buffers()[0].as_ptr()
        );
        let b = conv(
            "org.apache.kafka.connect.converters.ByteArrayConverter",
            "true",
            ConverterRole::Value,
        )
        .decode(&input);
        assert_eq!(
            b.column.array.as_binary_view().data_buffers()[0].as_ptr(),
            input.data_buffers()[0].as_ptr()
        );
    }

    #[test]
    fn unknown_class_and_bad_flag_name_the_key() {
        let e = ConverterConfig::parse(
            "value.converter",
            "com.example.Nope",
            &HashMap::new(),
            ConverterRole::Value,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("value.converter") && e.to_string().contains("com.example.Nope")
        );
        let props = HashMap::from([("schemas.enable".to_string(), "maybe".to_string())]);
        let e = ConverterConfig::parse(
            "value.converter",
            "JsonConverter",
            &props,
            ConverterRole::Value,
        )
        .unwrap_err();
        assert!(e.to_string().contains("value.converter.schemas.enable"));
    }
}
