//! The Kafka Connect schema model (`org.apache.kafka.connect.data.Schema`) and its mapping
//! onto Arrow types. A schema travels with a column; schemaless data has no schema.

use std::sync::Arc;

use arrow::datatypes::DataType;

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

/// A Connect schema. Only the parts the current converters use are modelled so far.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectSchema {
    pub schema_type: SchemaType,
    pub optional: bool,
    pub name: Option<String>,
    pub version: Option<i32>,
    pub doc: Option<String>,
}

impl ConnectSchema {
    pub fn new(schema_type: SchemaType, optional: bool) -> Self {
        Self {
            schema_type,
            optional,
            name: None,
            version: None,
            doc: None,
        }
    }

    /// `Schema.STRING_SCHEMA`.
    pub fn string() -> Arc<Self> {
        Arc::new(Self::new(SchemaType::String, false))
    }

    /// `Schema.OPTIONAL_BYTES_SCHEMA`.
    pub fn optional_bytes() -> Arc<Self> {
        Arc::new(Self::new(SchemaType::Bytes, true))
    }

    /// `Schema.OPTIONAL_STRING_SCHEMA`.
    pub fn optional_string() -> Arc<Self> {
        Arc::new(Self::new(SchemaType::String, true))
    }
}
