//! The record a transformation sees: topic, partition, offset, timestamp, key and value
//! with their schemas, and headers with theirs (Kafka's `SinkRecord`).

use std::sync::Arc;

use sluice_codecs::schema::ConnectSchema;
use sluice_codecs::value::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub key: String,
    pub schema: Option<Arc<ConnectSchema>>,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Epoch ms; `None` when the record has no timestamp.
    pub timestamp: Option<i64>,
    pub key_schema: Option<Arc<ConnectSchema>>,
    pub key: Value,
    pub value_schema: Option<Arc<ConnectSchema>>,
    pub value: Value,
    pub headers: Vec<Header>,
}

/// Which side of the record a `$Key`/`$Value` transformation works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Key,
    Value,
}

impl ConnectRecord {
    pub fn side(&self, side: Side) -> (Option<&Arc<ConnectSchema>>, &Value) {
        match side {
            Side::Key => (self.key_schema.as_ref(), &self.key),
            Side::Value => (self.value_schema.as_ref(), &self.value),
        }
    }

    /// `newRecord` with a new schema and value on one side.
    pub fn with_side(
        mut self,
        side: Side,
        schema: Option<Arc<ConnectSchema>>,
        value: Value,
    ) -> Self {
        match side {
            Side::Key => {
                self.key_schema = schema;
                self.key = value;
            }
            Side::Value => {
                self.value_schema = schema;
                self.value = value;
            }
        }
        self
    }
}
