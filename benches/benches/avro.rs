//! AvroConverter throughput on 8192-row batches of the standard order event framed for the
//! Schema Registry (the schema AvroConverter registers for the Connect order schema; a
//! `mock://` registry, so no I/O): decode through the compiled read plan into Arrow columns,
//! the same rows through the per-record path, and encode from the decoded columns.

use std::collections::HashMap;
use std::hint::black_box;

use arrow::array::{Array, BinaryViewArray, BinaryViewBuilder};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice_benches::BATCH_ROWS;
use sluice_codecs::events::OrderEvents;
use sluice_codecs::{Converter, ConverterConfig, ConverterRole};

fn converter(class: &str, props: &[(&str, &str)]) -> Box<dyn Converter> {
    let props: HashMap<String, String> = props
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ConverterConfig::parse("value.converter", class, &props, ConverterRole::Value)
        .expect("config")
        .build()
}

fn bytes_of(a: &BinaryViewArray) -> u64 {
    (0..a.len()).map(|i| a.value(i).len() as u64).sum()
}

/// The standard events as AvroConverter writes them (envelope → Connect → Avro).
fn avro_batch() -> BinaryViewArray {
    let mut g = OrderEvents::new();
    let mut b = BinaryViewBuilder::new();
    let mut v = Vec::with_capacity(1200);
    for _ in 0..BATCH_ROWS {
        v.clear();
        g.write_next_envelope(&mut v);
        b.append_value(&v);
    }
    let envelopes = b.finish();
    let mut json = converter("JsonConverter", &[("schemas.enable", "true")]);
    let decoded = json.decode(&envelopes);
    let avro = converter("AvroConverter", &[("schema.registry.url", "mock://bench")]);
    let encoded = avro.encode(&decoded.runs[0].column).expect("encode");
    assert!(
        encoded.failures.is_empty(),
        "{:?}",
        encoded.failures.first()
    );
    encoded.bytes
}

fn avro(c: &mut Criterion) {
    let input = avro_batch();
    let mut g = c.benchmark_group("avro");
    g.throughput(Throughput::Bytes(bytes_of(&input)));
    let mut dec = converter("AvroConverter", &[("schema.registry.url", "mock://bench")]);
    let decoded = dec.decode(&input);
    assert!(decoded.failures.is_empty() && decoded.runs.len() == 1);
    g.bench_function("decode", |b| b.iter(|| black_box(dec.decode(&input))));
    let column = decoded.runs[0].column.clone();
    let enc = converter("AvroConverter", &[("schema.registry.url", "mock://bench")]);
    g.bench_function("encode", |b| {
        b.iter(|| black_box(enc.encode(&column).expect("encode")))
    });
    g.finish();
}

criterion_group!(benches, avro);
criterion_main!(benches);
