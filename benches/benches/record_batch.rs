//! Building raw record batches from client messages (the one copy of each payload byte) and
//! the pass-through stages that must not copy again: filter, route, String/ByteArray decode.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;

use arrow::array::{BooleanArray, StringArray};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice_benches::{BATCH_ROWS, order_batch, order_values};
use sluice_codecs::model::record::timestamp_type;
use sluice_codecs::{ConverterConfig, ConverterRole, RawBatchBuilder, RawHeader};

fn build(c: &mut Criterion) {
    let values = order_values(BATCH_ROWS);
    let bytes: usize = values.iter().map(|(_, v)| v.len()).sum();
    let mut g = c.benchmark_group("raw_batch");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("build_8192_orders", |b| {
        let mut builder = RawBatchBuilder::with_capacity(BATCH_ROWS);
        b.iter(|| {
            for (i, (ts, v)) in values.iter().enumerate() {
                builder.append(
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
            black_box(builder.finish())
        })
    });
    g.finish();
}

fn pass_through(c: &mut Criterion) {
    let batch = order_batch(BATCH_ROWS, true);
    let bytes = batch
        .values()
        .data_buffers()
        .iter()
        .map(|b| b.len())
        .sum::<usize>() as u64;
    let mask = BooleanArray::from_iter((0..BATCH_ROWS).map(|i| Some(i % 2 == 0)));
    let mut g = c.benchmark_group("pass_through");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("filter_half", |b| {
        b.iter(|| black_box(batch.filter(&mask).expect("filter")))
    });
    g.bench_function("route_topic", |b| {
        b.iter(|| {
            let routed = batch
                .topics()
                .with_values(Arc::new(StringArray::from(vec!["orders-routed"])));
            black_box(batch.with_topics(routed).expect("route"))
        })
    });
    for class in ["StringConverter", "ByteArrayConverter"] {
        let mut conv = ConverterConfig::parse(
            "value.converter",
            class,
            &HashMap::new(),
            ConverterRole::Value,
        )
        .expect("config")
        .build();
        g.bench_function(format!("{class}_decode"), |b| {
            b.iter(|| black_box(conv.decode(batch.values())))
        });
    }
    g.finish();
}

criterion_group!(benches, build, pass_through);
criterion_main!(benches);
