//! The benchmark harness behind `sluice bench`: a named case's pipeline fed by the standard
//! event generator in process, or its connector run against the broker, with the process's
//! own CPU time, wall time, peak RSS and time per stage reported, so a figure is reproducible
//! from its command. The cases and their settings are in [`cases`], the charts in [`plot`].

use std::collections::HashMap;
use std::time::Instant;

use serde::Serialize;
use sluice_codecs::RawBatchBuilder;
use sluice_codecs::events::Events;
use sluice_codecs::model::record::timestamp_type;

use crate::metrics::{LatencyHistogram, PipelineStage, StageTimes};
pub use cpu::process_cpu_seconds;
pub use error::BenchError;
use sluice_smt::Pipeline;

mod cases;
mod cpu;
mod error;
pub mod plot;

pub use cases::{Case, KeyDistribution, Overrides, SINGLE_SMTS};

/// The batch size cases run with (the sink runtime's default).
pub const BATCH_ROWS: usize = 8192;

/// Seconds of wall time per pipeline stage (summed over the case's tasks).
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageSeconds {
    pub fetch: f64,
    pub convert_in: f64,
    pub transforms: f64,
    pub convert_out: f64,
    pub write: f64,
    pub commit: f64,
}

impl StageSeconds {
    fn add(&mut self, times: &StageTimes) {
        for (stage, secs) in times.seconds() {
            *match stage {
                PipelineStage::Fetch => &mut self.fetch,
                PipelineStage::ConvertIn => &mut self.convert_in,
                PipelineStage::Transforms => &mut self.transforms,
                PipelineStage::ConvertOut => &mut self.convert_out,
                PipelineStage::Write => &mut self.write,
                PipelineStage::Commit => &mut self.commit,
            } += secs;
        }
    }

    /// (name, seconds) in pipeline order.
    pub fn entries(&self) -> [(&'static str, f64); 6] {
        [
            ("fetch", self.fetch),
            ("convert_in", self.convert_in),
            ("transforms", self.transforms),
            ("convert_out", self.convert_out),
            ("write", self.write),
            ("commit", self.commit),
        ]
    }
}

/// A run's figures (`--json` prints this).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub case: String,
    pub mode: String,
    pub records: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub cpu_seconds: f64,
    pub wall_seconds: f64,
    pub records_per_cpu_second: f64,
    pub records_per_second: f64,
    pub mb_per_cpu_second: f64,
    pub peak_rss_bytes: u64,
    /// Batches that took the columnar path (the rest ran per record).
    pub columnar_batches: u64,
    pub batches: u64,
    /// Per batch, from its first record fetched (in process: handed over) to written.
    pub batch_latency_p50_ms: Option<f64>,
    pub batch_latency_p99_ms: Option<f64>,
    pub stage_seconds: StageSeconds,
    /// The generator's event variant.
    pub event: String,
    /// The overrides this run used (`--sweep`).
    pub settings: std::collections::BTreeMap<String, String>,
}

impl Report {
    /// A report with the rates derived from the totals; the rest is filled in by the caller.
    fn measured(case: &str, mode: &str, records: u64, bytes_in: u64, cpu: f64, wall: f64) -> Self {
        Report {
            case: case.into(),
            mode: mode.into(),
            records,
            bytes_in,
            bytes_out: 0,
            cpu_seconds: cpu,
            wall_seconds: wall,
            records_per_cpu_second: records as f64 / cpu,
            records_per_second: records as f64 / wall,
            mb_per_cpu_second: bytes_in as f64 / 1e6 / cpu,
            peak_rss_bytes: 0,
            columnar_batches: 0,
            batches: 0,
            batch_latency_p50_ms: None,
            batch_latency_p99_ms: None,
            stage_seconds: StageSeconds::default(),
            event: String::new(),
            settings: Default::default(),
        }
    }
}

/// Peak resident set size of this process in bytes (VmHWM).
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// What one batch gave: the output batches, failed rows, and rows some stage ran per record.
struct BatchResult {
    batches: Vec<sluice_smt::pipeline::EncodedBatch>,
    failures: Vec<sluice_smt::Failure>,
    per_record_rows: usize,
}

/// One raw batch through the pipeline, each step timed as its stage.
fn run_pipeline(
    pipeline: &mut Pipeline,
    raw: &sluice_codecs::RawBatch,
    stages: &StageTimes,
) -> Result<BatchResult, sluice_codecs::CodecError> {
    let decoded = stages.time(PipelineStage::ConvertIn, || pipeline.decode(raw))?;
    let transformed = stages.time(PipelineStage::Transforms, || pipeline.transform(decoded))?;
    let encoded = stages.time(PipelineStage::ConvertOut, || pipeline.encode(&transformed))?;
    Ok(BatchResult {
        batches: encoded.batches,
        failures: encoded.failures,
        per_record_rows: transformed.per_record_rows,
    })
}

/// Input for a case whose value converter is an AvroConverter: the generated envelopes as
/// that converter writes them (JsonConverter in, AvroConverter out, topic `orders`), into the
/// registry the case's converter reads.
struct AvroInput {
    json: Box<dyn sluice_codecs::Converter>,
    avro: Box<dyn sluice_codecs::Converter>,
}

impl AvroInput {
    fn for_props(props: &HashMap<String, String>) -> Result<Option<Self>, BenchError> {
        let Some(class) = props.get("value.converter") else {
            return Ok(None);
        };
        if sluice_codecs::converter::ConverterKind::from_class(class)
            != Some(sluice_codecs::converter::ConverterKind::Avro)
        {
            return Ok(None);
        }
        let prefixed: HashMap<String, String> = props
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("value.converter.")
                    .map(|k| (k.to_string(), v.clone()))
            })
            .collect();
        let build = |class: &str, p: &HashMap<String, String>| {
            sluice_codecs::ConverterConfig::parse(
                "value.converter",
                class,
                p,
                sluice_codecs::ConverterRole::Value,
            )
            .map(|c| c.build())
        };
        let json = build(
            "JsonConverter",
            &[("schemas.enable".to_string(), "true".to_string())].into(),
        )?;
        Ok(Some(Self {
            json,
            avro: build(class, &prefixed)?,
        }))
    }

    fn encode(
        &mut self,
        envelopes: &arrow::array::BinaryViewArray,
    ) -> Result<arrow::array::BinaryViewArray, BenchError> {
        let decoded = self.json.decode(envelopes);
        if decoded.runs.len() != 1 || !decoded.failures.is_empty() {
            return Err(BenchError::RecordsFailed {
                count: decoded.failures.len(),
                first: decoded.failures.first().map_or_else(
                    || format!("{} schemas in one batch", decoded.runs.len()),
                    |f| f.to_string(),
                ),
            });
        }
        let column = &decoded.runs[0].column;
        let topics = arrow::array::DictionaryArray::<arrow::datatypes::Int32Type>::new(
            arrow::array::Int32Array::from(vec![0; column.len()]),
            std::sync::Arc::new(arrow::array::StringArray::from(vec!["orders"])),
        );
        let encoded = self.avro.encode_for(column, &topics)?;
        match encoded.failures.first() {
            Some(f) => Err(BenchError::RecordsFailed {
                count: encoded.failures.len(),
                first: format!("Avro encode: {f}"),
            }),
            None => Ok(encoded.bytes),
        }
    }
}

/// The connector config an in-process run of `case` uses (after `overrides`).
pub fn in_process_props(
    case: Case,
    overrides: &Overrides,
) -> Result<HashMap<String, String>, BenchError> {
    let mut props = case.props();
    overrides.apply(&mut props)?;
    props.remove("consumer.override.max.poll.records");
    Ok(props)
}

/// Runs `records` generated events through the case's pipeline; `progress` is called per batch.
pub fn run_in_process(
    case: Case,
    records: u64,
    overrides: &Overrides,
    mut progress: impl FnMut(u64),
) -> Result<Report, BenchError> {
    let props = in_process_props(case, overrides)?;
    // Events are envelopes when the value converter expects them (the case's, or a `--set`);
    // for an AvroConverter, envelopes re-encoded as it writes them (not measured).
    let mut to_avro = AvroInput::for_props(&props)?;
    let envelope = to_avro.is_some()
        || props
            .get("value.converter.schemas.enable")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let batch_rows = overrides.batch_rows()?.unwrap_or(BATCH_ROWS);
    let mut pipeline = Pipeline::configure(&props, None)?;
    let stages = StageTimes::default();
    let latency = LatencyHistogram::default();
    let event = overrides.event()?;
    let mut generator = Events::new(event);
    let keys = overrides.keys()?;
    let duration = overrides.duration()?;
    let (mut key, mut key_state) = (Vec::new(), 7u64);
    let mut builder = RawBatchBuilder::with_capacity(batch_rows);
    let mut value = Vec::with_capacity(1200);
    let (mut done, mut bytes_in, mut bytes_out, mut batches, mut columnar) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut generate_cpu = 0.0;
    let cpu0 = process_cpu_seconds();
    let wall0 = Instant::now();
    let more = |done: u64| match duration {
        Some(d) => wall0.elapsed() < d,
        None => done < records,
    };
    while more(done) {
        let n = match duration {
            Some(_) => batch_rows,
            None => (records - done).min(batch_rows as u64) as usize,
        };
        // Event generation is not part of the measured work: its CPU time is subtracted.
        let g0 = process_cpu_seconds();
        let mut values = arrow::array::BinaryViewBuilder::with_capacity(n);
        let mut stamps = Vec::with_capacity(n);
        for _ in 0..n {
            value.clear();
            stamps.push(if envelope {
                generator.write_next_envelope(&mut value)
            } else {
                generator.write_next(&mut value)
            });
            values.append_value(&value);
        }
        let values = match to_avro.as_mut() {
            Some(a) => a.encode(&values.finish())?,
            None => values.finish(),
        };
        for (i, ts) in stamps.into_iter().enumerate() {
            let value: &[u8] = if arrow::array::Array::is_valid(&values, i) {
                values.value(i)
            } else {
                &[]
            };
            bytes_in += value.len() as u64;
            let index = done + i as u64;
            let keyed = keys.write(index, &mut key_state, &mut key);
            builder.append(
                "orders",
                (i % 4) as i32,
                index as i64,
                Some(ts),
                timestamp_type::CREATE_TIME,
                keyed.then_some(key.as_slice()),
                Some(value),
                [],
            );
        }
        let raw = builder.finish();
        generate_cpu += process_cpu_seconds() - g0;
        let started = Instant::now();
        let out = run_pipeline(&mut pipeline, &raw, &stages)?;
        latency.record(started.elapsed());
        if let Some(f) = out.failures.first() {
            return Err(BenchError::RecordsFailed {
                count: out.failures.len(),
                first: f.trace(),
            });
        }
        bytes_out += out
            .batches
            .iter()
            .flat_map(|b| b.values.data_buffers().iter())
            .map(|b| b.len() as u64)
            .sum::<u64>();
        columnar += u64::from(out.per_record_rows == 0);
        batches += 1;
        done += n as u64;
        progress(done);
    }
    let wall = wall0.elapsed().as_secs_f64();
    let cpu = (process_cpu_seconds() - cpu0 - generate_cpu).max(0.01);
    let mut stage_seconds = StageSeconds::default();
    stage_seconds.add(&stages);
    Ok(Report {
        bytes_out,
        peak_rss_bytes: peak_rss_bytes(),
        columnar_batches: columnar,
        batches,
        batch_latency_p50_ms: latency.snapshot().quantile(0.5).map(|s| s * 1e3),
        batch_latency_p99_ms: latency.snapshot().quantile(0.99).map(|s| s * 1e3),
        stage_seconds,
        event: overrides.event()?.name(),
        settings: overrides.0.iter().cloned().collect(),
        ..Report::measured(case.name(), "in-process", done, bytes_in, cpu, wall)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_shorten_the_chain_and_set_consumer_keys() {
        let mut p = Case::W1.props();
        Overrides(vec![
            ("smt.count".into(), "2".into()),
            ("fetch.min.bytes".into(), "65536".into()),
            ("batch.size".into(), "500".into()),
            ("flush.size".into(), "7".into()),
        ])
        .apply(&mut p)
        .unwrap();
        assert_eq!(p["transforms"], "drop,source");
        assert_eq!(p["consumer.override.fetch.min.bytes"], "65536");
        assert_eq!(p["consumer.override.max.poll.records"], "500");
        assert_eq!(p["flush.size"], "7");
        let err = Overrides::one("smt.count", "9")
            .apply(&mut Case::W1.props())
            .unwrap_err()
            .to_string();
        assert!(err.contains("only 5 transforms"), "{err}");
        let err = Overrides::one("batch.size", "x")
            .batch_rows()
            .unwrap_err()
            .to_string();
        assert!(err.contains("batch.size: 'x'"), "{err}");
        assert!(parse_sweep("batch.size=").is_err());
        let err = Overrides::one("event", "huge")
            .apply(&mut Case::W1.props())
            .unwrap_err()
            .to_string();
        assert!(err.contains("event: 'huge'"), "{err}");
        assert_eq!(
            parse_sweep("smt.count=0, 5").unwrap(),
            (
                "smt.count".to_string(),
                vec!["0".to_string(), "5".to_string()]
            )
        );
    }

    #[test]
    fn keys_follow_their_distribution_and_duration_replaces_the_count() {
        let (mut key, mut state) = (Vec::new(), 7u64);
        assert!(!KeyDistribution::None.write(0, &mut state, &mut key));
        assert!(KeyDistribution::Sequential.write(41, &mut state, &mut key));
        assert_eq!(key, b"key-41");
        let distinct: std::collections::HashSet<Vec<u8>> = (0..2000)
            .map(|i| {
                KeyDistribution::Random(10).write(i, &mut state, &mut key);
                key.clone()
            })
            .collect();
        assert_eq!(
            distinct.len(),
            10,
            "2000 draws hit all 10 keys, and no other"
        );
        assert_eq!(
            Overrides::one("keys", "random:0")
                .keys()
                .unwrap_err()
                .to_string(),
            "keys: 'random:0' is not one of none, sequential, random:N (N > 0)"
        );
        // A duration instead of a count: the run reports what it generated in that time.
        let overrides = Overrides(vec![
            ("duration".into(), "0.3".into()),
            ("keys".into(), "random:100".into()),
        ]);
        let r = run_in_process(Case::W3, 0, &overrides, |_| {}).unwrap();
        assert!(r.records >= BATCH_ROWS as u64, "{r:?}");
        assert!(r.wall_seconds >= 0.3, "{r:?}");
    }

    #[test]
    fn w4_and_every_single_smt_run_column_wise() {
        // `columnar_batches` counts batches no stage ran per record: the chain touched no
        // Connect value per row.
        for case in [Case::W4, Case::W4E] {
            let before = sluice_codecs::model::column::rows_materialized();
            let r = run_in_process(case, 20_000, &Overrides::default(), |_| {}).unwrap();
            let read = sluice_codecs::model::column::rows_materialized() - before;
            assert_eq!(r.columnar_batches, r.batches, "{case:?}: {r:?}");
            assert_eq!(read, 0, "{case:?}: rows read out of the columns as values");
            assert!(r.bytes_out > 0);
        }
        for (name, _) in SINGLE_SMTS {
            let mut o = Overrides::one("smt", name);
            if *name == "SetSchemaMetadata" {
                // Kafka's SetSchemaMetadata needs a schema: on envelopes.
                o.0.push(("value.converter.schemas.enable".into(), "true".into()));
            }
            let r = run_in_process(Case::W3, 10_000, &o, |_| {}).unwrap();
            assert_eq!(r.columnar_batches, r.batches, "{name}: {r:?}");
        }
        let err = Overrides::one("smt", "Nope")
            .apply(&mut Case::W3.props())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("smt: 'Nope' is not one of none, Cast"),
            "{err}"
        );
    }

    #[test]
    fn event_variants_reach_the_pipeline() {
        for (event, min_bytes) in [("wide50", 900), ("1k", 1024), ("10k", 10 * 1024)] {
            for case in [Case::W3, Case::W2] {
                let r = run_in_process(case, 300, &Overrides::one("event", event), |_| {}).unwrap();
                assert_eq!(r.event, event);
                assert!(r.bytes_in >= 300 * min_bytes, "{event}: {r:?}");
                assert!(r.bytes_out > 300 * min_bytes / 2, "{event}: {r:?}");
            }
        }
    }

    #[test]
    fn a_sweep_over_the_chain_length_runs_each_point() {
        let mut points = Vec::new();
        for n in ["0", "5"] {
            let runs = (0..3)
                .map(|_| {
                    run_in_process(Case::W1, 10_000, &Overrides::one("smt.count", n), |_| {})
                        .unwrap()
                })
                .collect();
            points.push(Summary::of(runs).unwrap());
        }
        // Five transforms do more work than none: the chain length reached the pipeline.
        assert!(
            points[0].median.stage_seconds.transforms < points[1].median.stage_seconds.transforms
        );
        assert_eq!(points[1].median.settings["smt.count"], "5");
        assert_eq!(points[0].runs.len(), 3);
        assert!(best_point(&points).is_some());
    }

    #[test]
    fn the_avro_round_trip_case_writes_back_the_bytes_it_read() {
        let r = run_in_process(Case::AR, 20_000, &Overrides::default(), |_| {}).unwrap();
        assert_eq!(r.records, 20_000);
        assert!(r.bytes_in > 20_000 * 100, "{r:?}");
        assert_eq!(r.bytes_out, r.bytes_in, "{r:?}");
    }

    #[test]
    fn cases_run_and_report() {
        for case in [Case::W1, Case::W2, Case::W3, Case::BA] {
            let r = run_in_process(case, 20_000, &Overrides::default(), |_| {}).unwrap();
            assert_eq!(r.records, 20_000);
            assert!(r.bytes_in > 20_000 * 190 && r.bytes_out > 0, "{r:?}");
            assert!(r.peak_rss_bytes > 0);
            assert!(r.batch_latency_p50_ms.unwrap() <= r.batch_latency_p99_ms.unwrap());
            assert!(r.stage_seconds.convert_in > 0.0, "{r:?}");
            if case == Case::W1 {
                assert!(r.stage_seconds.transforms > 0.0, "{r:?}");
            }
            if case != Case::W2 {
                assert_eq!(
                    r.columnar_batches,
                    r.batches,
                    "{} runs column-wise",
                    case.name()
                );
            }
        }
    }
}

/// Cases run against a broker (`sluice bench --case P1|FS|BA|W1|W2|W3 --records N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerCase {
    /// Kafka topic of standard events → Parquet (zstd) on local disk.
    P1,
    /// P1 with the events as Avro framed for the Schema Registry (as AvroConverter writes
    /// the Connect order schema; an in-process `mock://` registry) and AvroConverter in.
    P2,
    /// Kafka's quickstart: FileStreamSource (a file of N event lines) → topic →
    /// FileStreamSink, with the quickstart worker's JsonConverter (schemas.enable=true).
    FS,
    /// W1–W3 with Kafka in front and FileStreamSink behind; BA: ByteArrayConverter →
    /// Parquet (the raw values as one binary column, snappy).
    W(Case),
}

impl BrokerCase {
    pub fn parse(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("P1") {
            return Some(BrokerCase::P1);
        }
        if name.eq_ignore_ascii_case("P2") {
            return Some(BrokerCase::P2);
        }
        if name.eq_ignore_ascii_case("FS") {
            return Some(BrokerCase::FS);
        }
        // AR is an in-process case only (P2 is its broker counterpart).
        Case::parse(name)
            .filter(|c| *c != Case::AR)
            .map(BrokerCase::W)
    }

    pub fn name(self) -> &'static str {
        match self {
            BrokerCase::P1 => "P1",
            BrokerCase::P2 => "P2",
            BrokerCase::FS => "FS",
            BrokerCase::W(c) => c.name(),
        }
    }

    fn envelope(self) -> bool {
        matches!(self, BrokerCase::W(c) if c.envelope())
    }

    /// The worker's default converters for the case.
    fn converters(self) -> [(&'static str, &'static str); 3] {
        let json = "org.apache.kafka.connect.json.JsonConverter";
        match self {
            BrokerCase::FS => [
                ("key.converter", json),
                ("value.converter", json),
                ("value.converter.schemas.enable", "true"),
            ],
            BrokerCase::P2 => [
                (
                    "key.converter",
                    "org.apache.kafka.connect.storage.StringConverter",
                ),
                ("value.converter", "io.confluent.connect.avro.AvroConverter"),
                ("value.converter.schema.registry.url", P2_REGISTRY),
            ],
            BrokerCase::W(Case::BA) => [
                (
                    "key.converter",
                    "org.apache.kafka.connect.converters.ByteArrayConverter",
                ),
                (
                    "value.converter",
                    "org.apache.kafka.connect.converters.ByteArrayConverter",
                ),
                ("value.converter.schemas.enable", "false"),
            ],
            _ => [
                (
                    "key.converter",
                    "org.apache.kafka.connect.storage.StringConverter",
                ),
                ("value.converter", json),
                (
                    "value.converter.schemas.enable",
                    if self.envelope() { "true" } else { "false" },
                ),
            ],
        }
    }

    /// The sink connector's config (the topic, name and overrides are added by the run).
    fn sink_props(self, out: &std::path::Path) -> HashMap<String, String> {
        let parquet = |codec: &str| -> HashMap<String, String> {
            [
                ("connector.class", "ParquetSink".to_string()),
                ("store.url", format!("file://{}", out.display())),
                ("flush.size", "100000".into()),
                ("rotate.schedule.interval.ms", "2000".into()),
                ("timezone", "UTC".into()),
                ("parquet.codec", codec.into()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
        };
        match self {
            BrokerCase::P1 | BrokerCase::P2 => parquet("zstd"),
            BrokerCase::W(Case::BA) => parquet("snappy"),
            BrokerCase::FS => file_sink(out),
            BrokerCase::W(c) => {
                let mut p = file_sink(out);
                p.extend(c.props().into_iter().filter(|(k, _)| {
                    !k.starts_with("key.converter") && !k.starts_with("value.converter")
                }));
                p
            }
        }
    }
}

fn file_sink(out: &std::path::Path) -> HashMap<String, String> {
    HashMap::from([
        ("connector.class".to_string(), "FileStreamSink".to_string()),
        (
            "file".to_string(),
            out.with_extension("txt").display().to_string(),
        ),
    ])
}

/// Produces `records` events (or, with `duration` set, as many as fit in that time) of the
/// overrides' variant and key distribution: without keys round-robin over `partitions`,
/// with keys by Java's murmur2 partitioner. Returns (records, value bytes) produced.
pub fn produce_events(
    bootstrap: &str,
    topic: &str,
    records: u64,
    partitions: i32,
    envelope: bool,
    overrides: &Overrides,
) -> Result<(u64, u64), BenchError> {
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    let mut config = rdkafka::ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "20")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "500000")
        .set("partitioner", "murmur2_random");
    for (k, v) in overrides.producer() {
        config.set(k, v);
    }
    let producer: ThreadedProducer<DefaultProducerContext> =
        config.create().map_err(BenchError::kafka("producer"))?;
    let mut events = Events::new(overrides.event()?);
    let keys = overrides.keys()?;
    let duration = overrides.duration()?;
    let started = Instant::now();
    let (mut v, mut key, mut key_state) = (Vec::with_capacity(1024), Vec::new(), 7u64);
    let (mut produced, mut bytes) = (0u64, 0u64);
    loop {
        let more = match duration {
            // The clock is read once per thousand records.
            Some(d) => !produced.is_multiple_of(1000) || started.elapsed() < d,
            None => produced < records,
        };
        if !more {
            break;
        }
        v.clear();
        if envelope {
            events.write_next_envelope(&mut v);
        } else {
            events.write_next(&mut v);
        }
        bytes += v.len() as u64;
        let keyed = keys.write(produced, &mut key_state, &mut key);
        let mut r: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic).payload(&v[..]);
        r = if keyed {
            r.key(&key[..])
        } else {
            r.partition((produced % partitions.max(1) as u64) as i32)
        };
        send_waiting(&producer, r);
        produced += 1;
    }
    producer
        .flush(std::time::Duration::from_secs(120))
        .map_err(BenchError::kafka("producer flush"))?;
    Ok((produced, bytes))
}

/// Sends a record, waiting for room while the producer's queue is full.
fn send_waiting(
    producer: &rdkafka::producer::ThreadedProducer<rdkafka::producer::DefaultProducerContext>,
    mut r: rdkafka::producer::BaseRecord<'_, [u8], [u8]>,
) {
    loop {
        match producer.send(r) {
            Ok(()) => return,
            Err((_, back)) => {
                r = back;
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    }
}

/// P2's registry: in this process, shared by the producer and the connector.
const P2_REGISTRY: &str = "mock://bench-p2";

/// Produces `records` standard events as AvroConverter writes the Connect order schema
/// (envelopes decoded by JsonConverter, encoded by AvroConverter, in batches), round-robin
/// over `partitions`. Returns (records, value bytes) produced.
fn produce_avro_events(
    bootstrap: &str,
    topic: &str,
    records: u64,
    partitions: i32,
) -> Result<(u64, u64), BenchError> {
    use arrow::array::{Array, BinaryViewBuilder};
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    use sluice_codecs::{ConverterConfig, ConverterRole};
    let converter = |class: &str, props: &[(&str, &str)]| {
        let props: HashMap<String, String> = props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ConverterConfig::parse("value.converter", class, &props, ConverterRole::Value)
            .map(|c| c.build())
    };
    let mut json = converter("JsonConverter", &[("schemas.enable", "true")])?;
    let avro = converter("AvroConverter", &[("schema.registry.url", P2_REGISTRY)])?;
    let producer: ThreadedProducer<DefaultProducerContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "20")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "500000")
        .create()
        .map_err(BenchError::kafka("producer"))?;
    let mut events = sluice_codecs::events::OrderEvents::new();
    let (mut produced, mut bytes) = (0u64, 0u64);
    let mut v = Vec::with_capacity(1200);
    while produced < records {
        let n = (records - produced).min(8192) as usize;
        let mut b = BinaryViewBuilder::with_capacity(n);
        for _ in 0..n {
            v.clear();
            events.write_next_envelope(&mut v);
            b.append_value(&v);
        }
        let decoded = json.decode(&b.finish());
        let column = &decoded
            .runs
            .first()
            .ok_or_else(|| BenchError::RecordsFailed {
                count: n,
                first: "no events decoded".into(),
            })?
            .column;
        // The subject is the topic's (`<topic>-value`), as the connector will look it up.
        let topics = arrow::array::DictionaryArray::<arrow::datatypes::Int32Type>::new(
            arrow::array::Int32Array::from(vec![0; column.len()]),
            std::sync::Arc::new(arrow::array::StringArray::from(vec![topic])),
        );
        let encoded = avro.encode_for(column, &topics)?;
        if let Some(f) = encoded.failures.first() {
            return Err(BenchError::RecordsFailed {
                count: encoded.failures.len(),
                first: format!("Avro encode: {f}"),
            });
        }
        for i in 0..encoded.bytes.len() {
            let payload = encoded.bytes.value(i);
            bytes += payload.len() as u64;
            let r: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic)
                .payload(payload)
                .partition((produced % partitions.max(1) as u64) as i32);
            send_waiting(&producer, r);
            produced += 1;
        }
    }
    producer
        .flush(std::time::Duration::from_secs(120))
        .map_err(BenchError::kafka("producer flush"))?;
    Ok((produced, bytes))
}

fn create_topic(bootstrap: &str, topic: &str, partitions: i32) -> Result<(), BenchError> {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<rdkafka::client::DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .map_err(BenchError::kafka("admin client"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| BenchError::Io {
            context: "admin runtime".into(),
            source,
        })?;
    let topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let results = rt
        .block_on(admin.create_topics(
            [&topic],
            &AdminOptions::new().operation_timeout(Some(std::time::Duration::from_secs(10))),
        ))
        .map_err(BenchError::kafka("create topics"))?;
    for r in results {
        r.map_err(|(t, code)| BenchError::Kafka {
            context: format!("create topic {t}"),
            source: rdkafka::error::KafkaError::AdminOp(code),
        })?;
    }
    Ok(())
}

/// Runs a case end to end against the broker at `bootstrap`: produces `records` events to a
/// fresh topic (3 partitions unless overridden; not measured), then runs the case's connector
/// in this process until the group has committed every record (P1/BA: every row is in a
/// committed file). FS instead writes the events as lines of a file and runs the quickstart
/// source and sink until the sink's file holds every line; both are measured. CPU is this
/// process's user+sys over that span; peak RSS is reset before it starts.
pub fn run_against_broker(
    case: BrokerCase,
    records: u64,
    bootstrap: &str,
    overrides: &Overrides,
    mut progress: impl FnMut(u64),
) -> Result<Report, BenchError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = format!(
        "bench-{}-{}",
        case.name().to_ascii_lowercase(),
        nanos % 1_000_000_000
    );
    let partitions: i32 = overrides.number("partitions")?.unwrap_or(3);
    create_topic(bootstrap, &name, partitions)?;
    let out = std::env::temp_dir().join(&name);
    let source_file = out.with_extension("in.txt");
    let (records, bytes_in) = if case == BrokerCase::FS {
        write_event_lines(&source_file, records, overrides)?
    } else if case == BrokerCase::P2 {
        produce_avro_events(bootstrap, &name, records, partitions)?
    } else {
        produce_events(
            bootstrap,
            &name,
            records,
            partitions,
            case.envelope(),
            overrides,
        )?
    };
    let mut worker_props = crate::config::Props::new();
    let offsets_file = out.with_extension("offsets");
    for (k, v) in case.converters().into_iter().chain([
        ("bootstrap.servers", bootstrap),
        ("offset.flush.interval.ms", "1000"),
        ("consumer.session.timeout.ms", "6000"),
        ("consumer.heartbeat.interval.ms", "500"),
    ]) {
        worker_props.insert(k.into(), v.into());
    }
    worker_props.insert(
        "offset.storage.file.filename".into(),
        offsets_file.display().to_string(),
    );
    let worker_config = crate::config::WorkerConfig::parse(worker_props)?;
    let mut props = case.sink_props(&out);
    props.insert("topics".into(), name.clone());
    props.insert("name".into(), name.clone());
    props.insert("tasks.max".into(), "1".into());
    overrides.apply(&mut props)?;
    props.remove("partitions");
    let tasks: usize = props
        .get("tasks.max")
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(1);
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let cpu0 = process_cpu_seconds();
    let wall0 = Instant::now();
    let worker = crate::worker::Worker::new(worker_config)?;
    let cleanup = || {
        let _ = std::fs::remove_dir_all(&out);
        for f in [
            out.with_extension("txt"),
            source_file.clone(),
            offsets_file.clone(),
        ] {
            let _ = std::fs::remove_file(f);
        }
    };
    let started = (|| {
        if case == BrokerCase::FS {
            let source = vec![
                ("name".to_string(), format!("{name}-source")),
                ("connector.class".into(), "FileStreamSource".into()),
                ("file".into(), source_file.display().to_string()),
                ("topic".into(), name.clone()),
                ("batch.size".into(), "2000".into()),
            ];
            worker.create(
                &format!("{name}-source"),
                source,
                crate::worker::TargetState::Started,
            )?;
        }
        worker.create(
            &name,
            props.into_iter().collect(),
            crate::worker::TargetState::Started,
        )
    })();
    if let Err(e) = started {
        let _ = worker.shutdown();
        cleanup();
        return Err(e.into());
    }
    let committed = |w: &crate::worker::Worker| -> u64 {
        w.offsets(&name)
            .map(|o| {
                o.iter()
                    .filter_map(|(_, off)| {
                        off.get("kafka_offset").and_then(serde_json::Value::as_u64)
                    })
                    .sum()
            })
            .unwrap_or(0)
    };
    let task_metrics: Vec<_> = (0..tasks)
        .map(|t| {
            worker
                .metrics()
                .task(&name, t, crate::metrics::TaskKind::Sink)
        })
        .collect();
    let sink_file = out.with_extension("txt");
    let done = |w: &crate::worker::Worker, read: u64| -> bool {
        if read < records {
            return false;
        }
        if case == BrokerCase::FS {
            // The sink writes each line as it was read: done when the file is complete.
            std::fs::metadata(&sink_file).map_or(0, |m| m.len()) >= bytes_in
        } else {
            committed(w) >= records
        }
    };
    let deadline = Instant::now() + std::time::Duration::from_secs(600);
    let outcome = loop {
        let failed = [name.clone(), format!("{name}-source")]
            .iter()
            .filter_map(|c| worker.status(c).ok())
            .flat_map(|s| s.tasks)
            .find(|t| t.state == crate::status::State::Failed);
        if let Some(t) = failed {
            break Err(BenchError::TaskFailed {
                trace: t.trace.unwrap_or_default(),
            });
        }
        let read: u64 = task_metrics
            .iter()
            .map(|m| {
                m.sink_record_read
                    .load(std::sync::atomic::Ordering::Relaxed)
            })
            .sum();
        progress(read.min(records));
        // The group's committed offsets are asked for only near the end: each ask is a
        // client of its own, which would otherwise weigh on the measurement.
        if done(&worker, read) {
            break Ok(());
        }
        if Instant::now() > deadline {
            break Err(BenchError::Timeout { records });
        }
        std::thread::sleep(std::time::Duration::from_millis(if read >= records {
            250
        } else {
            100
        }));
    };
    let wall = wall0.elapsed().as_secs_f64();
    let cpu = (process_cpu_seconds() - cpu0).max(0.01);
    let peak = peak_rss_bytes();
    let shut = worker.shutdown();
    let bytes_out = dir_size(&out) + std::fs::metadata(&sink_file).map_or(0, |m| m.len());
    cleanup();
    outcome?;
    shut?;
    let mut stage_seconds = StageSeconds::default();
    let mut latency = crate::metrics::LatencySnapshot::default();
    for m in &task_metrics {
        stage_seconds.add(&m.stages);
        latency.merge(&m.batch_latency.snapshot());
    }
    let batches = task_metrics.iter().map(|m| m.batch_latency.count()).sum();
    Ok(Report {
        bytes_out,
        peak_rss_bytes: peak,
        batches,
        batch_latency_p50_ms: latency.quantile(0.5).map(|s| s * 1e3),
        batch_latency_p99_ms: latency.quantile(0.99).map(|s| s * 1e3),
        stage_seconds,
        event: overrides.event()?.name(),
        settings: overrides.0.iter().cloned().collect(),
        ..Report::measured(case.name(), "broker", records, bytes_in, cpu, wall)
    })
}

/// Writes `records` standard events as lines of `path` (the FileStream case's input);
/// returns the bytes written.
fn write_event_lines(
    path: &std::path::Path,
    records: u64,
    overrides: &Overrides,
) -> Result<(u64, u64), BenchError> {
    use std::io::Write;
    let io = |source| BenchError::Io {
        context: path.display().to_string(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut events = Events::new(overrides.event()?);
    let duration = overrides.duration()?;
    let started = Instant::now();
    let mut written = 0u64;
    let mut line = Vec::with_capacity(1024);
    let mut bytes = 0u64;
    while match duration {
        Some(d) => !written.is_multiple_of(1000) || started.elapsed() < d,
        None => written < records,
    } {
        written += 1;
        line.clear();
        events.write_next(&mut line);
        line.push(b'\n');
        bytes += line.len() as u64;
        w.write_all(&line).map_err(io)?;
    }
    w.flush().map_err(io)?;
    Ok((written, bytes))
}

fn dir_size(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                dir_size(&p)
            } else {
                e.metadata().map_or(0, |m| m.len())
            }
        })
        .sum()
}

/// Runs of one setting, summarised by their median (by records per CPU-second).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    #[serde(flatten)]
    pub median: Report,
    pub runs: Vec<Report>,
    /// Runs more than 25% apart in records per CPU-second: the machine was busy elsewhere.
    pub noisy: bool,
}

impl Summary {
    /// `None` for no runs.
    pub fn of(runs: Vec<Report>) -> Option<Self> {
        let mut by_rate: Vec<&Report> = runs.iter().collect();
        by_rate.sort_by(|a, b| {
            a.records_per_cpu_second
                .total_cmp(&b.records_per_cpu_second)
        });
        let median = (*by_rate.get(by_rate.len() / 2)?).clone();
        let (lo, hi) = (
            by_rate[0].records_per_cpu_second,
            by_rate[by_rate.len() - 1].records_per_cpu_second,
        );
        let noisy = runs.len() > 1 && hi > lo * 1.25;
        Some(Self {
            median,
            runs,
            noisy,
        })
    }
}

/// `--sweep key=v1,v2,...` parsed.
pub fn parse_sweep(spec: &str) -> Result<(String, Vec<String>), String> {
    let (key, values) = spec
        .split_once('=')
        .ok_or_else(|| format!("--sweep: expected key=v1,v2,... but got '{spec}'"))?;
    let values: Vec<String> = values
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if key.trim().is_empty() || values.is_empty() {
        return Err(format!("--sweep: expected key=v1,v2,... but got '{spec}'"));
    }
    Ok((key.trim().to_string(), values))
}

/// The index of the best point of a sweep: most records per CPU-second (throughput per core
/// is what a shared machine measures reliably; wall throughput is shown next to it).
pub fn best_point(points: &[Summary]) -> Option<usize> {
    (0..points.len()).max_by(|&a, &b| {
        points[a]
            .median
            .records_per_cpu_second
            .total_cmp(&points[b].median.records_per_cpu_second)
    })
}
