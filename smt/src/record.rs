//! The record a transformation sees: topic, partition, offset, timestamp, key and value
//! with their schemas, and headers with theirs (Kafka's `SinkRecord`).

use std::sync::Arc;

use sluice_codecs::model::schema::ConnectSchema;
use sluice_codecs::model::value::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub key: String,
    pub schema: Option<Arc<ConnectSchema>>,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectRecord {
    pub topic: String,
    /// The topic the record was consumed from (routers change `topic`).
    pub original_topic: String,
    /// `kafkaPartition`: `None` on a source record that names none.
    pub partition: Option<i32>,
    /// `kafkaOffset`: `None` on a source record (it has no Kafka offset yet).
    pub offset: Option<i64>,
    /// Epoch ms; `None` when the record has no timestamp.
    pub timestamp: Option<i64>,
    /// `CreateTime`, `LogAppendTime` or `NoTimestampType`.
    pub timestamp_type: String,
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

pub use sluice_codecs::model::schema::schema_to_string;

impl ConnectRecord {
    /// `SinkRecord.toString()` (or `SourceRecord`'s) as Kafka renders it in messages.
    pub fn to_java_string(&self) -> String {
        use sluice_codecs::reference::java_to_string;
        let headers = if self.headers.is_empty() {
            String::new()
        } else {
            let items: Vec<String> = self
                .headers
                .iter()
                .map(|h| {
                    format!(
                        "ConnectHeader(key={}, value={}, schema={})",
                        h.key,
                        java_to_string(&h.value),
                        schema_to_string(h.schema.as_ref())
                    )
                })
                .collect();
            format!("[{}]", items.join(", "))
        };
        let record = format!(
            "ConnectRecord{{topic='{}', kafkaPartition={}, key={}, keySchema={}, value={}, valueSchema={}, timestamp={}, headers=ConnectHeaders(headers={headers})}}",
            self.topic,
            self.partition.map_or("null".to_string(), |p| p.to_string()),
            java_to_string(&self.key),
            schema_to_string(self.key_schema.as_ref()),
            java_to_string(&self.value),
            schema_to_string(self.value_schema.as_ref()),
            self.timestamp.map_or("null".to_string(), |t| t.to_string()),
        );
        match (self.offset, self.partition) {
            (Some(offset), Some(partition)) => format!(
                "SinkRecord{{kafkaOffset={offset}, timestampType={}, originalTopic={}, originalKafkaPartition={partition}, originalKafkaOffset={offset}}} {record}",
                self.timestamp_type, self.original_topic,
            ),
            // The source partition and offset maps are not carried per record here.
            _ => format!("SourceRecord{{sourcePartition=null, sourceOffset=null}} {record}"),
        }
    }
}
