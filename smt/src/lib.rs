//! Single message transforms and predicates with Kafka Connect 3.8's classes, config keys
//! and semantics. This first layer works on one [`record::ConnectRecord`] at a time (the
//! reference model that `sluice pipe` runs and the batch kernels are checked against);
//! [`chain`] configures a connector's `transforms`/`predicates` exactly as Kafka's runtime.

pub mod batch;
pub mod bridge;
pub mod chain;
pub mod config;
pub mod header_rows;
pub mod java_regex;
mod kernels;
pub mod pipeline;
pub mod predicates;
pub mod record;
pub mod reference;
pub mod transforms;
mod util;

pub use chain::Chain;
pub use pipeline::{Failure, Pipeline};
pub use record::{ConnectRecord, Header};
