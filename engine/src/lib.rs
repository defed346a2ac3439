//! The sluice engine: worker and connector configuration ([`config`]), the task runtimes
//! that move Arrow record batches between Kafka and connectors ([`runtime`]), source offset
//! storage ([`offsets`]) and the standalone [`worker`]. The record-batch model itself is
//! documented in `sluice_codecs::record`.

pub mod bench;
pub mod config;
pub mod error;
pub mod kafka;
pub mod offsets;
pub mod pipe;
pub mod pipeline;
pub mod properties;
pub mod runtime;
pub mod status;
pub mod worker;

pub use error::{EngineError, Result};
