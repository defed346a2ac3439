//! Shared fixtures for the criterion benches: batches of the standard order event.

use sluice_codecs::events::OrderEvents;
use sluice_codecs::record::timestamp_type;
use sluice_codecs::{RawBatch, RawBatchBuilder, RawHeader};

/// Rows per batch in every bench (the engine's default batch size).
pub const BATCH_ROWS: usize = 8192;

/// `n` schemaless order events as separate byte vectors (as a client's messages arrive).
pub fn order_values(n: usize) -> Vec<(i64, Vec<u8>)> {
    let mut g = OrderEvents::new();
    (0..n)
        .map(|_| {
            let mut v = Vec::with_capacity(384);
            let ts = g.write_next(&mut v);
            (ts, v)
        })
        .collect()
}

/// A raw batch of `n` order events on topic `orders`, one header each.
pub fn order_batch(n: usize) -> RawBatch {
    let mut b = RawBatchBuilder::with_capacity(n);
    for (i, (ts, v)) in order_values(n).iter().enumerate() {
        b.append(
            "orders",
            (i % 4) as i32,
            i as i64,
            Some(*ts),
            timestamp_type::CREATE_TIME,
            None,
            Some(v),
            [RawHeader {
                key: "source",
                value: Some(b"bench"),
            }],
        );
    }
    b.finish()
}

/// A raw batch of `n` order events on topic `orders` without headers (as W1 reads them).
pub fn order_batch_without_headers(n: usize) -> RawBatch {
    let mut b = RawBatchBuilder::with_capacity(n);
    for (i, (ts, v)) in order_values(n).iter().enumerate() {
        b.append(
            "orders",
            (i % 4) as i32,
            i as i64,
            Some(*ts),
            timestamp_type::CREATE_TIME,
            None,
            Some(v),
            [],
        );
    }
    b.finish()
}
