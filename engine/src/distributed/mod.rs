//! Distributed mode (`sluice distributed`): workers form a group through Kafka's group
//! coordinator ([`group`], wire format [`protocol`]), and keep connector configs, source
//! offsets and statuses in Kafka's internal topics, as Kafka Connect's distributed herder.

pub mod assignor;
pub mod config;
pub mod config_state;
pub mod group;
pub mod herder;
pub mod http;
pub mod java_order;
pub mod kafka_log;
pub mod protocol;
pub mod records;
pub mod status_store;
pub mod watermarks;
pub mod wire;
