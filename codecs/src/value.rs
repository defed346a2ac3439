//! Connect values (`Object`s in Kafka's API): the reference, row-at-a-time model used for
//! schema defaults, configuration literals, `sluice pipe` and as the oracle that the
//! columnar fast paths are checked against. Not used per record on hot paths.

use std::sync::Arc;

use crate::schema::ConnectSchema;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    String(String),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    /// Entries in insertion order; keys are unique.
    Map(Vec<(Value, Value)>),
    Struct(Struct),
    /// `java.math.BigDecimal`: unscaled × 10^-scale.
    Decimal {
        unscaled: i128,
        scale: i32,
    },
    /// `java.util.Date` (Date, Time and Timestamp logical values): epoch milliseconds.
    Date(i64),
}

/// A struct value: its schema and one value per field (`Null` when unset).
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    pub schema: Arc<ConnectSchema>,
    pub values: Vec<Value>,
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The Java class Kafka would report for this value (`value.getClass()` rendering).
    pub fn java_class(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "class java.lang.Boolean",
            Value::I8(_) => "class java.lang.Byte",
            Value::I16(_) => "class java.lang.Short",
            Value::I32(_) => "class java.lang.Integer",
            Value::I64(_) => "class java.lang.Long",
            Value::F32(_) => "class java.lang.Float",
            Value::F64(_) => "class java.lang.Double",
            Value::String(_) => "class java.lang.String",
            Value::Bytes(_) => "class [B",
            Value::Array(_) => "class java.util.ArrayList",
            Value::Map(_) => "class java.util.HashMap",
            Value::Struct(_) => "class org.apache.kafka.connect.data.Struct",
            Value::Decimal { .. } => "class java.math.BigDecimal",
            Value::Date(_) => "class java.util.Date",
        }
    }

    /// Inserts or replaces a map entry (Java `Map.put`).
    pub fn map_put(entries: &mut Vec<(Value, Value)>, key: Value, value: Value) {
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => entries.push((key, value)),
        }
    }
}
