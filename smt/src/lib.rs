//! Single message transforms and predicates over Arrow record batches (batch in, batch
//! out). Not built yet: Kafka's 16 SMTs and 3 predicates land here, checked against the
//! conformance corpus through `sluice pipe`, which today reports them as not implemented.
