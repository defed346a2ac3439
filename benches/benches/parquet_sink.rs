//! The Parquet sink's own work for P1 without Kafka: decoded batches of standard order
//! events (schemaless JSON, 3 partitions) put into the sink and committed as zstd files of
//! 100,000 rows, as `perf/cases/P1` runs it. Throughput is bytes of JSON input.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice_benches::BATCH_ROWS;
use sluice_codecs::events::OrderEvents;
use sluice_codecs::{ConnectColumn, ConverterConfig, ConverterRole, RawBatch, RawBatchBuilder};
use sluice_connectors::parquet::ParquetSinkConfig;
use sluice_connectors::{ErrantRecords, SinkBatch, SinkTask};

const FILE_ROWS: usize = 100_000;
const PARTITIONS: i32 = 3;

/// One file's worth of records per partition, in fetched batches, decoded.
fn batches() -> (Vec<(RawBatch, ConnectColumn)>, u64) {
    let mut events = OrderEvents::new();
    let mut json = HashMap::new();
    json.insert("schemas.enable".to_string(), "false".to_string());
    let mut conv = ConverterConfig::parse(
        "value.converter",
        "JsonConverter",
        &json,
        ConverterRole::Value,
    )
    .expect("converter config")
    .build();
    let (mut out, mut bytes, mut offset) = (Vec::new(), 0u64, 0i64);
    let mut line = Vec::new();
    while (offset as usize) < FILE_ROWS * PARTITIONS as usize {
        let mut b = RawBatchBuilder::with_capacity(BATCH_ROWS);
        for _ in 0..BATCH_ROWS {
            line.clear();
            let ts = events.write_next(&mut line);
            bytes += line.len() as u64;
            let partition = (offset % i64::from(PARTITIONS)) as i32;
            b.append(
                "orders",
                partition,
                offset / i64::from(PARTITIONS),
                Some(ts),
                0,
                None,
                Some(&line),
                std::iter::empty(),
            );
            offset += 1;
        }
        let raw = b.finish();
        let value = conv.decode(raw.values()).runs.remove(0).column;
        out.push((raw, value));
    }
    (out, bytes)
}

fn put_and_commit(c: &mut Criterion) {
    let (input, bytes) = batches();
    let key = ConnectColumn::nulls(BATCH_ROWS);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut g = c.benchmark_group("parquet_sink");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    let mut run = 0;
    g.bench_function("put_commit_zstd_100k_rows_x3", |b| {
        b.iter(|| {
            run += 1;
            let props: HashMap<String, String> = [
                (
                    "store.url",
                    format!("file://{}/{run}", dir.path().display()),
                ),
                ("flush.size", FILE_ROWS.to_string()),
                ("parquet.codec", "zstd".to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            let mut task = ParquetSinkConfig::parse(&props)
                .expect("sink config")
                .build()
                .expect("sink");
            let mut errant = ErrantRecords::default();
            for (raw, value) in &input {
                let batch = SinkBatch {
                    raw,
                    key: &key,
                    value,
                };
                task.put(&batch, &mut errant).expect("put");
            }
            task.flush().expect("flush");
            black_box(task.files_written())
        })
    });
    g.finish();
}

criterion_group!(benches, put_and_commit);
criterion_main!(benches);
