//! Codecs for sluice: the Kafka record-batch model in Arrow ([`record`]), the Connect
//! schema and value model ([`schema`], [`value`], [`column`]), batch converters between raw
//! Kafka bytes and Connect columns ([`converter`]), and the Kafka-exact reference converters
//! ([`reference`], [`connect_json`], [`jackson`]) that `sluice pipe` runs and the batch
//! converters are checked against. Nothing in this crate does I/O.

pub mod arrow_map;
pub mod avro;
mod builders;
pub mod cells;
mod col;
pub mod column;
pub mod connect_json;
pub mod converter;
pub mod error;
pub mod events;
pub mod jackson;
pub mod java;
pub mod java_text;
pub mod json_columnar;
mod json_direct;
mod json_encode;
mod json_text;
pub mod protobuf;
pub mod record;
pub mod reference;
pub mod registry;
pub mod schema;
mod simd;
pub mod simple_date_format;
mod typed_column;
pub mod value;
pub mod values;

pub use column::ConnectColumn;
pub use converter::{Converter, ConverterConfig, ConverterRole};
pub use error::{CodecError, RowFailure, Stage};
pub use record::{RawBatch, RawBatchBuilder, RawHeader};
pub use schema::{ConnectSchema, SchemaType};
