//! ProtobufConverter decode throughput on 8192-row batches of order-shaped messages framed
//! for the Schema Registry (schema id, message index, body; a `mock://` registry, so no
//! I/O): the per-record path from the wire into Connect values and Arrow columns.

use std::collections::HashMap;
use std::hint::black_box;

use std::sync::Arc;

use arrow::array::{
    Array, BinaryViewArray, BinaryViewBuilder, DictionaryArray, Int32Array, StringArray,
};
use arrow::datatypes::Int32Type;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice_benches::BATCH_ROWS;
use sluice_codecs::registry::{SchemaKind, SchemaRegistry, mock_scope};
use sluice_codecs::{ConverterConfig, ConverterRole};

const SCHEMA: &str = "syntax = \"proto3\";\npackage orders;\n\nmessage Order {\n  int64 id = 1;\n  string user = 2;\n  double amount = 3;\n  string currency = 4;\n  int64 ts = 5;\n  string country = 6;\n  repeated string tags = 7;\n  Device device = 8;\n  bool flag = 9;\n  optional string note = 10;\n}\nmessage Device {\n  string os = 1;\n  string version = 2;\n}\n";

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn text(out: &mut Vec<u8>, field: u64, s: &str) {
    varint(out, field << 3 | 2);
    varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// One framed order message.
fn order(i: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(&[0, 0, 0, 0, 1, 0]);
    varint(out, 1 << 3);
    varint(out, 1_000_000 + i);
    text(out, 2, &format!("user-{:05}", i % 50_000));
    out.push(3 << 3 | 1);
    out.extend_from_slice(&((i % 100_000) as f64 / 100.0).to_le_bytes());
    text(out, 4, ["EUR", "USD", "GBP"][(i % 3) as usize]);
    varint(out, 5 << 3);
    varint(out, 1_700_000_000_000 + i * 7);
    text(out, 6, ["DE", "FR", "US", "GB", "JP"][(i % 5) as usize]);
    for t in 0..i % 4 {
        text(out, 7, ["new", "promo", "mobile"][t as usize % 3]);
    }
    let mut device = Vec::new();
    text(&mut device, 1, ["ios", "android", "web"][(i % 3) as usize]);
    text(&mut device, 2, &format!("{}.{}", i % 9, i % 17));
    varint(out, 8 << 3 | 2);
    varint(out, device.len() as u64);
    out.extend_from_slice(&device);
    varint(out, 9 << 3);
    varint(out, i % 2);
    if i.is_multiple_of(5) {
        text(out, 10, "gift wrap");
    }
}

fn batch() -> BinaryViewArray {
    let mut b = BinaryViewBuilder::new();
    let mut v = Vec::with_capacity(200);
    for i in 0..BATCH_ROWS as u64 {
        v.clear();
        order(i, &mut v);
        b.append_value(&v);
    }
    b.finish()
}

fn protobuf(c: &mut Criterion) {
    let registry = mock_scope("bench-protobuf");
    let id = registry
        .register("orders-value", SchemaKind::Protobuf, SCHEMA)
        .expect("register");
    assert_eq!(id, 1);
    let props: HashMap<String, String> = [(
        "schema.registry.url".to_string(),
        "mock://bench-protobuf".to_string(),
    )]
    .into();
    let mut dec = ConverterConfig::parse(
        "value.converter",
        "io.confluent.connect.protobuf.ProtobufConverter",
        &props,
        ConverterRole::Value,
    )
    .expect("config")
    .build();
    let input = batch();
    let bytes: u64 = (0..input.len()).map(|i| input.value(i).len() as u64).sum();
    // Every row from topic `orders` (the subject is `orders-value`).
    let topics = DictionaryArray::<Int32Type>::new(
        Int32Array::from(vec![0; input.len()]),
        Arc::new(StringArray::from(vec!["orders"])),
    );
    let decoded = dec.decode_from(&input, &topics);
    assert!(
        decoded.failures.is_empty() && decoded.runs.len() == 1,
        "{:?}",
        decoded.failures.first()
    );
    let mut g = c.benchmark_group("protobuf");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("decode", |b| {
        b.iter(|| black_box(dec.decode_from(&input, &topics)))
    });
    g.finish();
}

criterion_group!(benches, protobuf);
criterion_main!(benches);
