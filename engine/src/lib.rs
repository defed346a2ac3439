//! The sluice engine: worker and connector configuration ([`config`]), the task runtimes
//! that move Arrow record batches between Kafka and connectors ([`runtime`]), source offset
//! storage ([`offsets`]) and the standalone [`worker`]. The record-batch model itself is
//! documented in `sluice_codecs::model::record`.

pub mod allocator;
pub mod bench;
pub mod config;
pub mod config_provider;
pub mod differential;
pub mod distributed;
pub mod error;
pub mod errors;
pub mod herder;
pub mod kafka;
pub mod logging;
pub mod metrics;
pub mod offsets;
pub mod override_policy;
pub mod pipe;
pub mod properties;
pub mod registry;
pub mod rest;
pub mod rest_auth;
pub mod runtime;
pub mod signal;
pub mod status;
pub mod validate;
pub mod worker;

pub use error::{EngineError, Result};

/// The Kafka Connect version whose behaviour sluice follows (reported by `GET /` and the
/// plugin listings).
pub const KAFKA_VERSION: &str = "4.3.0";
