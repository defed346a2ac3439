//! The transformation chain over 8192-row batches of the standard event: each batch kernel on
//! its own (`Throughput::Elements`), W4 and every SMT alone through the whole pipeline, and
//! the W1 pipeline end to end ([`Pipeline`]: schemaless JSON in →
//! ReplaceField → InsertField → Cast → TimestampRouter → Filter/TopicNameMatches → JSON out).

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice_benches::{BATCH_ROWS, order_batch, order_envelope_batch};
use sluice_codecs::error::Stage;
use sluice_codecs::json::columnar::SchemalessDecoder;
use sluice_codecs::json::connect::JsonConfig;
use sluice_smt::batch::ConnectBatch;
use sluice_smt::{Chain, Pipeline};

fn props(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn w1_props() -> HashMap<String, String> {
    sluice_engine::bench::Case::W1.props()
}

fn kernels(c: &mut Criterion) {
    let raw = order_batch(BATCH_ROWS, false);
    let cfg = JsonConfig {
        schemas_enable: false,
        ..JsonConfig::default()
    };
    let decoded = SchemalessDecoder::new(cfg).decode(raw.values(), Stage::ValueConverter);
    let batch = ConnectBatch::new(
        raw.clone(),
        sluice_codecs::ConnectColumn::nulls(BATCH_ROWS),
        decoded.runs[0].column.clone(),
    );
    let mut g = c.benchmark_group("smt_batch");
    g.throughput(Throughput::Elements(BATCH_ROWS as u64));
    let cases: [(&str, &[(&str, &str)]); 5] = [
        (
            "ReplaceField",
            &[
                ("transforms.t.type", "ReplaceField$Value"),
                ("transforms.t.exclude", "note"),
            ],
        ),
        (
            "InsertField",
            &[
                ("transforms.t.type", "InsertField$Value"),
                ("transforms.t.static.field", "source"),
                ("transforms.t.static.value", "web"),
            ],
        ),
        (
            "Cast",
            &[
                ("transforms.t.type", "Cast$Value"),
                ("transforms.t.spec", "amount:float32"),
            ],
        ),
        (
            "TimestampRouter",
            &[("transforms.t.type", "TimestampRouter")],
        ),
        (
            "Filter_TopicNameMatches",
            &[
                ("transforms.t.type", "Filter"),
                ("transforms.t.predicate", "p"),
                ("predicates", "p"),
                ("predicates.p.type", "TopicNameMatches"),
                ("predicates.p.pattern", "nomatch"),
            ],
        ),
    ];
    for (name, cfg) in cases {
        let mut p = props(cfg);
        p.insert("transforms".into(), "t".into());
        let chain = Chain::configure(&p).expect("chain");
        assert!(
            chain.apply_batch(batch.clone()).is_some(),
            "{name} runs column-wise"
        );
        g.bench_function(name, |b| {
            b.iter(|| black_box(chain.apply_batch(batch.clone())))
        });
    }
    g.finish();
}

/// One batch through the whole pipeline: decode, the chain, encode.
fn run(pipeline: &mut Pipeline, raw: &sluice_codecs::RawBatch) -> usize {
    let decoded = pipeline.decode(raw).expect("decode");
    let transformed = pipeline.transform(decoded).expect("transform");
    assert_eq!(transformed.per_record_rows, 0, "the chain runs column-wise");
    let encoded = pipeline.encode(&transformed).expect("encode");
    encoded.batches.iter().map(|b| b.batch.num_rows()).sum()
}

fn w1(c: &mut Criterion) {
    let raw = order_batch(BATCH_ROWS, false);
    let mut pipeline = Pipeline::configure(&w1_props(), None).expect("pipeline");
    assert!(run(&mut pipeline, &raw) > 0);
    let mut g = c.benchmark_group("w1");
    g.throughput(Throughput::Elements(BATCH_ROWS as u64));
    g.bench_function("pipeline_columnar", |b| {
        b.iter(|| black_box(run(&mut pipeline, &raw)))
    });
    g.finish();
}

/// W4 (every SMT kind, schemaless and envelopes) and the single-SMT sweep: each of Kafka's
/// 16 SMTs alone on the standard event, beside the no-transform pipeline.
fn w4_and_single_smts(c: &mut Criterion) {
    use sluice_engine::bench::{Case, Overrides, SINGLE_SMTS};
    let mut g = c.benchmark_group("w4");
    g.throughput(Throughput::Elements(BATCH_ROWS as u64));
    for (name, case, envelope) in [("W4", Case::W4, false), ("W4E", Case::W4E, true)] {
        let raw = if envelope {
            order_envelope_batch(BATCH_ROWS)
        } else {
            order_batch(BATCH_ROWS, false)
        };
        let mut pipeline = Pipeline::configure(&case.props(), None).expect("pipeline");
        assert!(run(&mut pipeline, &raw) > 0);
        g.bench_function(name, |b| b.iter(|| black_box(run(&mut pipeline, &raw))));
    }
    g.finish();
    let mut g = c.benchmark_group("single_smt");
    g.throughput(Throughput::Elements(BATCH_ROWS as u64));
    for (name, _) in std::iter::once(&("none", &[][..])).chain(SINGLE_SMTS) {
        let mut props = Case::W3.props();
        let mut o = Overrides::one("smt", name);
        let envelope = *name == "SetSchemaMetadata";
        if envelope {
            o.0.push(("value.converter.schemas.enable".into(), "true".into()));
        }
        o.apply(&mut props).expect("smt");
        let raw = if envelope {
            order_envelope_batch(BATCH_ROWS)
        } else {
            order_batch(BATCH_ROWS, false)
        };
        let mut pipeline = Pipeline::configure(&props, None).expect("pipeline");
        assert!(run(&mut pipeline, &raw) > 0, "{name}");
        g.bench_function(*name, |b| b.iter(|| black_box(run(&mut pipeline, &raw))));
    }
    g.finish();
}

criterion_group!(benches, kernels, w1, w4_and_single_smts);
criterion_main!(benches);
