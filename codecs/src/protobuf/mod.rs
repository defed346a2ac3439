//! Protobuf data framed for Confluent's Schema Registry: `.proto` schemas and their
//! descriptors ([`schema`], with the bundled [`well_known`] files), the binary encoding
//! ([`wire`]), Confluent's `ProtobufData` mapping to Connect ([`data`]) and the
//! `ProtobufConverter` batch converter ([`converter`]). Nothing here does I/O.

pub mod converter;
pub mod data;
pub mod descriptor;
pub mod schema;
mod well_known;
pub mod wire;

pub use converter::{ProtobufConverter, ProtobufConverterConfig};
pub use schema::ProtoSchema;
