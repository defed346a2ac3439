//! Codecs for sluice, grouped by concern:
//! - [`model`]: the Kafka record batch in Arrow, the Connect schema, value and column model;
//! - [`converter`]: batch converters between raw Kafka bytes and Connect columns, by name;
//! - [`json`], [`avro`], [`protobuf`]: the formats (Avro and Protobuf framed for a Schema
//!   Registry that [`registry`] describes as an interface);
//! - [`java`]: Java's text renderings Kafka's output depends on;
//! - [`reference`]: the Kafka-exact one-record converters that the batch ones are checked
//!   against.
//!
//! Nothing in this crate does I/O.

pub mod avro;
pub mod columnar;
pub mod converter;
pub mod error;
pub mod events;
pub mod java;
pub mod json;
pub mod model;
pub mod protobuf;
pub mod reference;
pub mod registry;

pub use converter::{Converter, ConverterConfig, ConverterRole};
pub use error::{CodecError, RowFailure, Stage};
pub use model::column::ConnectColumn;
pub use model::record::{RawBatch, RawBatchBuilder, RawHeader};
pub use model::schema::{ConnectSchema, SchemaType};
