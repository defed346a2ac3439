//! The Kafka Connect schema model (`org.apache.kafka.connect.data.Schema`) and its mapping
//! onto Arrow types. A schema travels with a column; schemaless data has no schema.

use std::sync::Arc;

use arrow::datatypes::DataType;

use crate::model::value::Value;

/// Connect's `Schema.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaType {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Bytes,
    Array,
    Map,
    Struct,
}

impl SchemaType {
    /// The name JsonConverter writes in an envelope's `type` member.
    pub fn json_name(self) -> &'static str {
        match self {
            SchemaType::Int8 => "int8",
            SchemaType::Int16 => "int16",
            SchemaType::Int32 => "int32",
            SchemaType::Int64 => "int64",
            SchemaType::Float32 => "float",
            SchemaType::Float64 => "double",
            SchemaType::Boolean => "boolean",
            SchemaType::String => "string",
            SchemaType::Bytes => "bytes",
            SchemaType::Array => "array",
            SchemaType::Map => "map",
            SchemaType::Struct => "struct",
        }
    }

    pub fn from_json_name(name: &str) -> Option<Self> {
        Some(match name {
            "int8" => SchemaType::Int8,
            "int16" => SchemaType::Int16,
            "int32" => SchemaType::Int32,
            "int64" => SchemaType::Int64,
            "float" => SchemaType::Float32,
            "double" => SchemaType::Float64,
            "boolean" => SchemaType::Boolean,
            "string" => SchemaType::String,
            "bytes" => SchemaType::Bytes,
            "array" => SchemaType::Array,
            "map" => SchemaType::Map,
            "struct" => SchemaType::Struct,
            _ => return None,
        })
    }

    /// The Arrow type that holds values of a primitive schema type.
    pub fn primitive_arrow_type(self) -> Option<DataType> {
        Some(match self {
            SchemaType::Int8 => DataType::Int8,
            SchemaType::Int16 => DataType::Int16,
            SchemaType::Int32 => DataType::Int32,
            SchemaType::Int64 => DataType::Int64,
            SchemaType::Float32 => DataType::Float32,
            SchemaType::Float64 => DataType::Float64,
            SchemaType::Boolean => DataType::Boolean,
            SchemaType::String => DataType::Utf8View,
            SchemaType::Bytes => DataType::BinaryView,
            SchemaType::Array | SchemaType::Map | SchemaType::Struct => return None,
        })
    }
}

/// A Connect schema (`ConnectSchema`): type, optionality, default, name, version, doc,
/// parameters, and the nested schemas of structs (fields), arrays (items) and maps.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectSchema {
    pub schema_type: SchemaType,
    pub optional: bool,
    pub default: Option<crate::model::value::Value>,
    pub name: Option<String>,
    pub version: Option<i32>,
    pub doc: Option<String>,
    /// In insertion order, as Connect's `SchemaBuilder` keeps them.
    pub parameters: Option<Vec<(String, String)>>,
    pub fields: Vec<Field>,
    /// Map key schema.
    pub key: Option<Arc<ConnectSchema>>,
    /// Map value schema or array item schema.
    pub value: Option<Arc<ConnectSchema>>,
}

/// A struct field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub index: usize,
    pub schema: Arc<ConnectSchema>,
}

/// Logical type names (`org.apache.kafka.connect.data.*`).
pub mod logical {
    pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
    pub const DATE: &str = "org.apache.kafka.connect.data.Date";
    pub const TIME: &str = "org.apache.kafka.connect.data.Time";
    pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
    pub const SCALE_PARAM: &str = "scale";
}

impl ConnectSchema {
    pub fn new(schema_type: SchemaType, optional: bool) -> Self {
        Self {
            schema_type,
            optional,
            default: None,
            name: None,
            version: None,
            doc: None,
            parameters: None,
            fields: Vec::new(),
            key: None,
            value: None,
        }
    }

    /// `Schema.STRING_SCHEMA`.
    pub fn string() -> Arc<Self> {
        Arc::new(Self::new(SchemaType::String, false))
    }

    /// `Schema.STRING_SCHEMA` (required), as a fresh `Arc`.
    pub fn string_required() -> Arc<Self> {
        Self::string()
    }

    /// `Schema.OPTIONAL_BYTES_SCHEMA`.
    pub fn optional_bytes() -> Arc<Self> {
        Arc::new(Self::new(SchemaType::Bytes, true))
    }

    /// `Schema.OPTIONAL_STRING_SCHEMA`.
    pub fn optional_string() -> Arc<Self> {
        Arc::new(Self::new(SchemaType::String, true))
    }

    /// A primitive optional schema (`Schema.OPTIONAL_INT64_SCHEMA`, ...).
    pub fn optional(t: SchemaType) -> Arc<Self> {
        Arc::new(Self::new(t, true))
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn parameter(&self, key: &str) -> Option<&str> {
        self.parameters
            .as_ref()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The logical type name when this schema is one of Connect's logical types.
    pub fn logical(&self) -> Option<&'static str> {
        let name = self.name.as_deref()?;
        [
            logical::DECIMAL,
            logical::DATE,
            logical::TIME,
            logical::TIMESTAMP,
        ]
        .into_iter()
        .find(|l| *l == name)
    }

    /// The `scale` parameter of a Decimal schema.
    pub fn decimal_scale(&self) -> Option<i32> {
        self.parameter(logical::SCALE_PARAM)?.parse().ok()
    }

    /// Connect's `Schema.Type` name, e.g. `INT32`, as used in messages.
    pub fn type_name(&self) -> String {
        self.schema_type.json_name_upper()
    }
}

impl SchemaType {
    /// The upper-case `Schema.Type` name (`FLOAT32`, not JSON's `float`).
    pub fn json_name_upper(self) -> String {
        match self {
            SchemaType::Float32 => "FLOAT32".into(),
            SchemaType::Float64 => "FLOAT64".into(),
            other => other.json_name().to_ascii_uppercase(),
        }
    }
}

/// `Schema.toString()`: `Schema{NAME:TYPE}` or `Schema{TYPE}`; `null` without a schema.
pub fn schema_to_string(s: Option<&Arc<ConnectSchema>>) -> String {
    match s {
        None => "null".into(),
        // Kafka 4.x's Values parser leaves a map of keys with a common schema and values
        // without one as an unbuilt `SchemaBuilder`, which prints its identity (a hash).
        Some(s) if s.schema_type == SchemaType::Map && s.key.is_some() && s.value.is_none() => {
            format!(
                "org.apache.kafka.connect.data.SchemaBuilder@{:x}",
                Arc::as_ptr(s) as usize as u32
            )
        }
        Some(s) => match &s.name {
            Some(n) => format!("Schema{{{n}:{}}}", s.type_name()),
            None => format!("Schema{{{}}}", s.type_name()),
        },
    }
}

/// `ConnectSchema.validateValue(field, schema, value)`, worded as Kafka 4.x words it: what
/// `Struct.put` checks of every value it is given (`field: None` checks a whole value).
pub fn validate_put(
    field: Option<&str>,
    schema: &ConnectSchema,
    value: &Value,
) -> Result<(), crate::error::ConnectError> {
    let location = match field {
        Some(f) => format!("field: \"{f}\""),
        None => "value".to_string(),
    };
    validate_at(schema, value, &location)
}

fn validate_at(
    schema: &ConnectSchema,
    value: &Value,
    location: &str,
) -> Result<(), crate::error::ConnectError> {
    use crate::error::ConnectError;
    if value.is_null() {
        return if schema.optional {
            Ok(())
        } else {
            Err(ConnectError::data(format!(
                "Invalid value: null used for required {location}, schema type: {}",
                schema.type_name()
            )))
        };
    }
    let class_fits = match (schema.logical(), value) {
        (Some(logical::DECIMAL), v) => matches!(v, Value::Decimal { .. }),
        (Some(logical::DATE | logical::TIME | logical::TIMESTAMP), v) => {
            matches!(v, Value::Date(_))
        }
        (_, v) => matches!(
            (schema.schema_type, v),
            (SchemaType::Int8, Value::I8(_))
                | (SchemaType::Int16, Value::I16(_))
                | (SchemaType::Int32, Value::I32(_))
                | (SchemaType::Int64, Value::I64(_))
                | (SchemaType::Float32, Value::F32(_))
                | (SchemaType::Float64, Value::F64(_))
                | (SchemaType::Boolean, Value::Bool(_))
                | (SchemaType::String, Value::String(_) | Value::Utf16(_))
                | (SchemaType::Bytes, Value::Bytes(_))
                | (SchemaType::Array, Value::Array(_))
                | (SchemaType::Map, Value::Map(_))
                | (SchemaType::Struct, Value::Struct(_))
        ),
    };
    if !class_fits {
        let name = schema
            .name
            .as_deref()
            .map(|n| format!(" \"{n}\""))
            .unwrap_or_default();
        return Err(ConnectError::data(format!(
            "Invalid Java object for schema{name} with type {}: {} for {location}",
            schema.type_name(),
            value.java_class()
        )));
    }
    let missing =
        |what: &str| ConnectError::data(format!("No schema defined for {what} {location}"));
    match value {
        Value::Struct(s) => {
            if *s.schema != *schema {
                return Err(ConnectError::data("Struct schemas do not match."));
            }
            // `Struct.validate()`: every field against its schema.
            for f in &s.schema.fields {
                let v = s.values.get(f.index).unwrap_or(&Value::Null);
                validate_at(&f.schema, v, &format!("field: \"{}\"", f.name))?;
            }
            Ok(())
        }
        Value::Array(items) => {
            let at = format!("element of array {location}");
            let item = schema
                .value
                .as_deref()
                .ok_or_else(|| missing("element of array"))?;
            items.iter().try_for_each(|v| validate_at(item, v, &at))
        }
        Value::Map(entries) => {
            let (key_at, value_at) = (
                format!("key of map {location}"),
                format!("value of map {location}"),
            );
            let ks = schema.key.as_deref().ok_or_else(|| missing("key of map"))?;
            let vs = schema
                .value
                .as_deref()
                .ok_or_else(|| missing("value of map"))?;
            entries.iter().try_for_each(|(k, v)| {
                validate_at(ks, k, &key_at).and_then(|()| validate_at(vs, v, &value_at))
            })
        }
        _ => Ok(()),
    }
}
