//! Avro data framed for Confluent's Schema Registry: Avro schemas as Java's Avro prints them
//! ([`schema`]), the binary encoding ([`binary`]), Confluent's `AvroData` mapping to Connect
//! ([`data`]) and the `AvroConverter` batch converter ([`converter`]). Schemas come from a
//! [`crate::registry::SchemaRegistry`]; nothing here does I/O.

pub mod binary;
mod columnar;
mod columnar_encode;
pub mod compatibility;
pub mod converter;
pub mod data;
pub mod from_connect;
pub mod normalize;
pub mod schema;

pub use converter::{AvroConverter, AvroConverterConfig};
pub use schema::AvroSchema;
