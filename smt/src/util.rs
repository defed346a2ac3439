//! Kafka's `Requirements` checks and small helpers shared by the transformations.

use std::sync::Arc;

use sluice_codecs::error::ConnectError;
use sluice_codecs::model::schema::{ConnectSchema, SchemaType};
use sluice_codecs::model::value::{Struct, Value};

/// `value.getClass().getName()` (no `class ` prefix), `null` for null.
pub fn class_name(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        other => other.java_class().trim_start_matches("class ").to_string(),
    }
}

pub fn require_map<'a>(
    v: &'a Value,
    purpose: &str,
) -> Result<&'a Vec<(Value, Value)>, ConnectError> {
    match v {
        Value::Map(m) => Ok(m),
        other => Err(ConnectError::data(format!(
            "Only Map objects supported in absence of schema for [{purpose}], found: {}",
            class_name(other)
        ))),
    }
}

pub fn require_struct<'a>(v: &'a Value, purpose: &str) -> Result<&'a Struct, ConnectError> {
    match v {
        Value::Struct(s) => Ok(s),
        other => Err(ConnectError::data(format!(
            "Only Struct objects supported for [{purpose}], found: {}",
            class_name(other)
        ))),
    }
}

pub fn require_schema<'a>(
    s: Option<&'a Arc<ConnectSchema>>,
    purpose: &str,
) -> Result<&'a Arc<ConnectSchema>, ConnectError> {
    s.ok_or_else(|| ConnectError::data(format!("Schema required for [{purpose}]")))
}

/// A map lookup by string key.
pub fn map_get<'a>(m: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    m.iter()
        .find(|(k, _)| matches!(k, Value::String(s) if s == key))
        .map(|(_, v)| v)
}

/// A copy of `schema` without fields and default: the start of a rebuilt struct schema
/// (`SchemaUtil.copySchemaBasics`).
pub fn copy_basics(schema: &ConnectSchema) -> ConnectSchema {
    let mut s = ConnectSchema::new(schema.schema_type, schema.optional);
    s.name = schema.name.clone();
    s.version = schema.version;
    s.doc = schema.doc.clone();
    s.parameters = schema.parameters.clone();
    if schema.schema_type != SchemaType::Struct {
        s.key = schema.key.clone();
        s.value = schema.value.clone();
    }
    s
}

/// `SchemaBuilder.field`: appends a field; empty names and duplicates are refused.
pub fn push_field(
    s: &mut ConnectSchema,
    name: &str,
    schema: Arc<ConnectSchema>,
) -> Result<(), ConnectError> {
    if name.is_empty() {
        return Err(ConnectError::schema_builder("fieldName cannot be null."));
    }
    if s.field(name).is_some() {
        return Err(ConnectError::schema_builder(format!(
            "Cannot create field because of field name duplication {name}"
        )));
    }
    let index = s.fields.len();
    s.fields.push(sluice_codecs::model::schema::Field {
        name: name.to_string(),
        index,
        schema,
    });
    Ok(())
}
