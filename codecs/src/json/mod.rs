//! Kafka Connect's JsonConverter: the exact reference semantics ([`connect`], [`jackson`]),
//! the batch decoder and encoder over Arrow ([`columnar`]), and the byte-level helpers they
//! share (JSON text escaping, SIMD byte classes, the shape-directed reader).

pub mod columnar;
pub mod connect;
pub mod converter;
pub(crate) mod direct;
pub mod encode;
pub mod jackson;
pub(crate) mod simd;
pub(crate) mod text;

pub use text::write_string;
