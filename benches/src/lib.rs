//! Shared fixtures for the criterion benches: batches of the standard order event.

use sluice_codecs::events::OrderEvents;
use sluice_codecs::model::record::timestamp_type;
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

/// A raw batch of `n` order events on topic `orders`; `with_header` adds one header to each
/// record (W1-style pipelines read records without headers).
pub fn order_batch(n: usize, with_header: bool) -> RawBatch {
    let header = [RawHeader {
        key: "source",
        value: Some(b"bench"),
    }];
    let headers: &[RawHeader<'_>] = if with_header { &header } else { &[] };
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
            headers.iter().copied(),
        );
    }
    b.finish()
}

/// A raw batch of `n` order events as JsonConverter envelopes (W2, W4E).
pub fn order_envelope_batch(n: usize) -> RawBatch {
    let mut g = OrderEvents::new();
    let mut b = RawBatchBuilder::with_capacity(n);
    let mut v = Vec::with_capacity(1200);
    for i in 0..n {
        v.clear();
        let ts = g.write_next_envelope(&mut v);
        b.append(
            "orders",
            (i % 4) as i32,
            i as i64,
            Some(ts),
            timestamp_type::CREATE_TIME,
            None,
            Some(&v),
            [],
        );
    }
    b.finish()
}
