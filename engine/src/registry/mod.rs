//! Schema Registry for Confluent-framed data: a durable store with Confluent's subjects,
//! versions, global ids and compatibility levels ([`store`]), its REST API as Confluent's
//! server answers it (`sluice schema-registry`, [`server`]), and the HTTP client converters
//! use for `schema.registry.url` ([`client`]).

pub mod client;
pub mod server;
pub mod store;

/// Makes `http://` registry URLs work in every converter of this process.
pub fn install_client() {
    sluice_codecs::registry::set_client_factory(Box::new(|urls, props| {
        client::HttpRegistry::configure(urls, props).map(|c| {
            std::sync::Arc::new(c) as std::sync::Arc<dyn sluice_codecs::registry::SchemaRegistry>
        })
    }));
}
