//! Growable Arrow columns and typed column views that the decoders write into and the
//! writers read from; shared by the JSON, Java-text, Avro and Protobuf paths.

pub(crate) mod builders;
pub(crate) mod col;
pub mod runs;
pub(crate) mod typed_column;

pub use col::decimal_scale_differs;
