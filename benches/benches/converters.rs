//! JsonConverter throughput on 8192-row batches of the standard order event: envelope
//! decode with a schema-cache hit (columnar fast path), Arrow → JSON envelope encode, and
//! the schemaless round trip through the reference model (Kafka's per-record semantics).

use std::hint::black_box;

use arrow::array::{Array, ArrayRef, AsArray, BinaryViewArray, BinaryViewBuilder, StringViewArray};
use arrow::datatypes::DataType;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice_benches::BATCH_ROWS;
use sluice_codecs::error::Stage;
use sluice_codecs::events::OrderEvents;
use sluice_codecs::json::columnar::{EnvelopeDecoder, SchemalessDecoder};
use sluice_codecs::json::connect::{self, JsonConfig};
use sluice_codecs::json::encode::encode;

fn batch(envelope: bool) -> BinaryViewArray {
    let mut g = OrderEvents::new();
    let mut b = BinaryViewBuilder::new();
    let mut v = Vec::with_capacity(1200);
    for _ in 0..BATCH_ROWS {
        v.clear();
        if envelope {
            g.write_next_envelope(&mut v);
        } else {
            g.write_next(&mut v);
        }
        b.append_value(&v);
    }
    b.finish()
}

fn input_bytes(a: &BinaryViewArray) -> u64 {
    (0..a.len()).map(|i| a.value(i).len() as u64).sum()
}

fn envelope(c: &mut Criterion) {
    let cfg = JsonConfig::default();
    let input = batch(true);
    let mut g = c.benchmark_group("json_envelope");
    g.throughput(Throughput::Bytes(input_bytes(&input)));
    let mut dec = EnvelopeDecoder::new(cfg.clone());
    g.bench_function("decode_cache_hit", |b| {
        b.iter(|| black_box(dec.decode(&input, Stage::ValueConverter)))
    });
    let decoded = EnvelopeDecoder::new(cfg.clone()).decode(&input, Stage::ValueConverter);
    assert_eq!(decoded.fast_rows, BATCH_ROWS);
    let column = &decoded.runs[0].column;
    let (out, _) = encode(&cfg, column, Stage::ValueConverter);
    g.throughput(Throughput::Bytes(input_bytes(&out)));
    g.bench_function("encode", |b| {
        b.iter(|| black_box(encode(&cfg, column, Stage::ValueConverter)))
    });
    g.finish();
}

fn schemaless(c: &mut Criterion) {
    let cfg = JsonConfig {
        schemas_enable: false,
        ..JsonConfig::default()
    };
    let input = batch(false);
    let mut g = c.benchmark_group("json_schemaless");
    g.throughput(Throughput::Bytes(input_bytes(&input)));
    let mut dec = SchemalessDecoder::new(cfg.clone());
    g.bench_function("decode", |b| {
        b.iter(|| black_box(dec.decode(&input, Stage::ValueConverter)))
    });
    let decoded = SchemalessDecoder::new(cfg.clone()).decode(&input, Stage::ValueConverter);
    let column = &decoded.runs[0].column;
    let (out, _) = encode(&cfg, column, Stage::ValueConverter);
    g.throughput(Throughput::Bytes(input_bytes(&out)));
    g.bench_function("encode", |b| {
        b.iter(|| black_box(encode(&cfg, column, Stage::ValueConverter)))
    });
    g.throughput(Throughput::Bytes(input_bytes(&input)));
    g.bench_function("round_trip", |b| {
        b.iter(|| {
            let d = dec.decode(&input, Stage::ValueConverter);
            black_box(encode(&cfg, &d.runs[0].column, Stage::ValueConverter))
        })
    });
    g.finish();
}

fn schemaless_reference(c: &mut Criterion) {
    let cfg = JsonConfig {
        schemas_enable: false,
        ..JsonConfig::default()
    };
    let input = batch(false);
    let mut g = c.benchmark_group("json_schemaless_reference");
    g.throughput(Throughput::Bytes(input_bytes(&input)));
    g.sample_size(20);
    g.bench_function("round_trip", |b| {
        b.iter(|| {
            for i in 0..input.len() {
                let (s, v) =
                    connect::to_connect_data(&cfg, Some(input.value(i))).expect("valid event");
                black_box(connect::from_connect_data(&cfg, s.as_deref(), &v).expect("encodes"));
            }
        })
    });
    g.finish();
}

/// What the decoder's unchecked string views save: validating the decoded batch's string
/// columns again, as `StringViewArray::try_new` would (UTF-8 and bounds of every view).
fn string_view_validation(c: &mut Criterion) {
    let cfg = JsonConfig {
        schemas_enable: false,
        ..JsonConfig::default()
    };
    let input = batch(false);
    let decoded = SchemalessDecoder::new(cfg).decode(&input, Stage::ValueConverter);
    let mut strings: Vec<StringViewArray> = Vec::new();
    let mut pending: Vec<ArrayRef> = vec![decoded.runs[0].column.array.clone()];
    while let Some(a) = pending.pop() {
        match a.data_type() {
            DataType::Utf8View => strings.push(a.as_string_view().clone()),
            DataType::Struct(_) => pending.extend(a.as_struct().columns().iter().cloned()),
            DataType::List(_) => pending.push(a.as_list::<i32>().values().clone()),
            _ => {}
        }
    }
    let mut g = c.benchmark_group("string_views");
    g.throughput(Throughput::Bytes(input_bytes(&input)));
    g.bench_function("validate_decoded_columns", |b| {
        b.iter(|| {
            for s in &strings {
                let (views, buffers, nulls) = s.clone().into_parts();
                black_box(StringViewArray::try_new(views, buffers, nulls).expect("valid"));
            }
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    envelope,
    schemaless,
    schemaless_reference,
    string_view_validation
);
criterion_main!(benches);
