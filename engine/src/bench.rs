//! In-process benchmark cases (no Kafka): the standard event generator feeds raw batches to
//! the pipeline of a named case, and the process's own CPU time, wall time and peak RSS are
//! reported, so a figure is reproducible from `sluice bench --case NAME --in-process`.

use std::collections::HashMap;
use std::time::Instant;

use serde::Serialize;
use sluice_codecs::RawBatchBuilder;
use sluice_codecs::events::OrderEvents;
use sluice_codecs::record::timestamp_type;

use crate::pipeline::Pipeline;

/// The batch size cases run with (the sink runtime's default).
pub const BATCH_ROWS: usize = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// Schemaless JSON → ReplaceField → InsertField → Cast → TimestampRouter → Filter → JSON.
    W1,
    /// W1 with JsonConverter envelopes.
    W2,
    /// JsonConverter round trip only (schemaless).
    W3,
}

impl Case {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_uppercase().as_str() {
            "W1" => Case::W1,
            "W2" => Case::W2,
            "W3" => Case::W3,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Case::W1 => "W1",
            Case::W2 => "W2",
            Case::W3 => "W3",
        }
    }

    /// The connector config of the case.
    pub fn props(self) -> HashMap<String, String> {
        let mut p: Vec<(&str, &str)> = vec![
            (
                "key.converter",
                "org.apache.kafka.connect.storage.StringConverter",
            ),
            (
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            (
                "value.converter.schemas.enable",
                if self == Case::W2 { "true" } else { "false" },
            ),
        ];
        if self != Case::W3 {
            p.extend([
                ("transforms", "drop,source,cast,route,filter"),
                (
                    "transforms.drop.type",
                    "org.apache.kafka.connect.transforms.ReplaceField$Value",
                ),
                ("transforms.drop.exclude", "note"),
                (
                    "transforms.source.type",
                    "org.apache.kafka.connect.transforms.InsertField$Value",
                ),
                ("transforms.source.static.field", "source"),
                ("transforms.source.static.value", "web"),
                (
                    "transforms.cast.type",
                    "org.apache.kafka.connect.transforms.Cast$Value",
                ),
                ("transforms.cast.spec", "amount:float32"),
                (
                    "transforms.route.type",
                    "org.apache.kafka.connect.transforms.TimestampRouter",
                ),
                ("transforms.route.topic.format", "${topic}-${timestamp}"),
                ("transforms.route.timestamp.format", "yyyyMMdd"),
                (
                    "transforms.filter.type",
                    "org.apache.kafka.connect.transforms.Filter",
                ),
                ("transforms.filter.predicate", "nomatch"),
                ("predicates", "nomatch"),
                (
                    "predicates.nomatch.type",
                    "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
                ),
                ("predicates.nomatch.pattern", "nomatch"),
            ]);
        }
        p.into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
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
}

/// User + system CPU seconds of this process (from /proc; 0 where unavailable).
pub fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Linux reports these in USER_HZ, which is 100 on every mainstream kernel build.
    (ticks(11) + ticks(12)) / 100.0
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

/// Runs `records` generated events through the case's pipeline; `progress` is called per batch.
pub fn run_in_process(
    case: Case,
    records: u64,
    mut progress: impl FnMut(u64),
) -> Result<Report, String> {
    let mut pipeline = Pipeline::new(&case.props()).map_err(|e| e.to_string())?;
    let mut generator = OrderEvents::new();
    let mut builder = RawBatchBuilder::with_capacity(BATCH_ROWS);
    let mut value = Vec::with_capacity(1200);
    let (mut done, mut bytes_in, mut bytes_out, mut batches, mut columnar) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut generate_cpu = 0.0;
    let cpu0 = process_cpu_seconds();
    let wall0 = Instant::now();
    while done < records {
        let n = (records - done).min(BATCH_ROWS as u64) as usize;
        // Event generation is not part of the measured work: its CPU time is subtracted.
        let g0 = process_cpu_seconds();
        for i in 0..n {
            value.clear();
            let ts = if case == Case::W2 {
                generator.write_next_envelope(&mut value)
            } else {
                generator.write_next(&mut value)
            };
            bytes_in += value.len() as u64;
            builder.append(
                "orders",
                (i % 4) as i32,
                (done + i as u64) as i64,
                Some(ts),
                timestamp_type::CREATE_TIME,
                None,
                Some(&value),
                [],
            );
        }
        let raw = builder.finish();
        generate_cpu += process_cpu_seconds() - g0;
        let out = pipeline.process(&raw);
        if !out.failures.is_empty() {
            return Err(format!(
                "{} records failed, first: {}",
                out.failures.len(),
                out.failures[0]
            ));
        }
        bytes_out += out
            .values
            .data_buffers()
            .iter()
            .map(|b| b.len() as u64)
            .sum::<u64>();
        columnar += u64::from(out.columnar);
        batches += 1;
        done += n as u64;
        progress(done);
    }
    let wall = wall0.elapsed().as_secs_f64();
    let cpu = (process_cpu_seconds() - cpu0 - generate_cpu).max(0.01);
    Ok(Report {
        case: case.name().into(),
        mode: "in-process".into(),
        records,
        bytes_in,
        bytes_out,
        cpu_seconds: cpu,
        wall_seconds: wall,
        records_per_cpu_second: records as f64 / cpu,
        records_per_second: records as f64 / wall,
        mb_per_cpu_second: bytes_in as f64 / 1e6 / cpu,
        peak_rss_bytes: peak_rss_bytes(),
        columnar_batches: columnar,
        batches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_run_and_report() {
        for case in [Case::W1, Case::W2, Case::W3] {
            let r = run_in_process(case, 20_000, |_| {}).unwrap();
            assert_eq!(r.records, 20_000);
            assert!(r.bytes_in > 20_000 * 190 && r.bytes_out > 0, "{r:?}");
            assert!(r.peak_rss_bytes > 0);
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

/// Cases run against a broker (`sluice bench --case P1|W1|W2|W3 --records N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerCase {
    /// Kafka topic of standard events → Parquet (zstd) on local disk.
    P1,
    /// The in-process cases, with Kafka in front and FileStreamSink behind.
    W(Case),
}

impl BrokerCase {
    pub fn parse(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("P1") {
            return Some(BrokerCase::P1);
        }
        Case::parse(name).map(BrokerCase::W)
    }

    pub fn name(self) -> &'static str {
        match self {
            BrokerCase::P1 => "P1",
            BrokerCase::W(c) => c.name(),
        }
    }

    fn envelope(self) -> bool {
        self == BrokerCase::W(Case::W2)
    }
}

/// Produces `records` standard events round-robin over `partitions`; returns the value bytes.
pub fn produce_events(
    bootstrap: &str,
    topic: &str,
    records: u64,
    partitions: i32,
    envelope: bool,
) -> Result<u64, String> {
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    let producer: ThreadedProducer<DefaultProducerContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "20")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "500000")
        .create()
        .map_err(|e| e.to_string())?;
    let mut events = OrderEvents::new();
    let mut v = Vec::with_capacity(1024);
    let mut bytes = 0u64;
    for i in 0..records {
        v.clear();
        if envelope {
            events.write_next_envelope(&mut v);
        } else {
            events.write_next(&mut v);
        }
        bytes += v.len() as u64;
        let partition = (i % partitions.max(1) as u64) as i32;
        let mut r: BaseRecord<'_, [u8], [u8]> =
            BaseRecord::to(topic).partition(partition).payload(&v[..]);
        loop {
            match producer.send(r) {
                Ok(()) => break,
                Err((_, back)) => {
                    r = back;
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
        }
    }
    producer
        .flush(std::time::Duration::from_secs(120))
        .map_err(|e| e.to_string())?;
    Ok(bytes)
}

fn create_topic(bootstrap: &str, topic: &str, partitions: i32) -> Result<(), String> {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<rdkafka::client::DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let results = rt
        .block_on(admin.create_topics(
            [&topic],
            &AdminOptions::new().operation_timeout(Some(std::time::Duration::from_secs(10))),
        ))
        .map_err(|e| e.to_string())?;
    for r in results {
        r.map_err(|(t, e)| format!("create topic {t}: {e}"))?;
    }
    Ok(())
}

/// Runs a case end to end against the broker at `bootstrap`: produces `records` events to a
/// fresh 3-partition topic (not measured), then runs the case's connector in this process until
/// the group has committed every record (for P1: every row is in a committed file). CPU is this
/// process's user+sys over that span; peak RSS is reset before it starts.
pub fn run_against_broker(
    case: BrokerCase,
    records: u64,
    bootstrap: &str,
    mut progress: impl FnMut(u64),
) -> Result<Report, String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = format!(
        "bench-{}-{}",
        case.name().to_ascii_lowercase(),
        nanos % 1_000_000_000
    );
    create_topic(bootstrap, &name, 3)?;
    let bytes_in = produce_events(bootstrap, &name, records, 3, case.envelope())?;
    let out = std::env::temp_dir().join(&name);
    let mut worker_props = crate::config::Props::new();
    for (k, v) in [
        ("bootstrap.servers", bootstrap),
        (
            "key.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        ),
        (
            "value.converter",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
        (
            "value.converter.schemas.enable",
            if case.envelope() { "true" } else { "false" },
        ),
        ("offset.flush.interval.ms", "1000"),
        ("consumer.session.timeout.ms", "6000"),
        ("consumer.heartbeat.interval.ms", "500"),
    ] {
        worker_props.insert(k.into(), v.into());
    }
    let worker_config =
        crate::config::WorkerConfig::parse(worker_props).map_err(|e| e.to_string())?;
    let mut props: Vec<(String, String)> = match case {
        BrokerCase::P1 => vec![
            ("connector.class".into(), "ParquetSink".into()),
            ("store.url".into(), format!("file://{}", out.display())),
            ("flush.size".into(), "100000".into()),
            ("rotate.schedule.interval.ms".into(), "2000".into()),
            ("timezone".into(), "UTC".into()),
            ("parquet.codec".into(), "zstd".into()),
        ],
        BrokerCase::W(c) => {
            let mut p: Vec<(String, String)> = vec![
                ("connector.class".into(), "FileStreamSink".into()),
                (
                    "file".into(),
                    out.with_extension("txt").display().to_string(),
                ),
            ];
            p.extend(c.props().into_iter().filter(|(k, _)| {
                !k.starts_with("key.converter") && !k.starts_with("value.converter")
            }));
            p
        }
    };
    props.push(("topics".into(), name.clone()));
    props.push(("name".into(), name.clone()));
    props.push(("tasks.max".into(), "1".into()));
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let cpu0 = process_cpu_seconds();
    let wall0 = Instant::now();
    let worker = crate::worker::Worker::new(worker_config).map_err(|e| e.to_string())?;
    worker
        .create(&name, props, crate::worker::TargetState::Started)
        .map_err(|e| e.to_string())?;
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
    let deadline = Instant::now() + std::time::Duration::from_secs(600);
    loop {
        if let Some(s) = worker.status(&name).ok().and_then(|s| {
            s.tasks
                .into_iter()
                .find(|t| t.state == crate::status::State::Failed)
        }) {
            let _ = worker.shutdown();
            return Err(format!("task failed: {}", s.trace.unwrap_or_default()));
        }
        let read = worker
            .metrics()
            .task(&name, 0, crate::metrics::TaskKind::Sink);
        let n = read
            .sink_record_read
            .load(std::sync::atomic::Ordering::Relaxed);
        progress(n.min(records));
        // The group's committed offsets are asked for only near the end: each ask is a
        // client of its own, which would otherwise weigh on the measurement.
        if n >= records && committed(&worker) >= records {
            break;
        }
        if Instant::now() > deadline {
            let _ = worker.shutdown();
            return Err(format!(
                "not all {records} records committed within 10 minutes"
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(if n >= records {
            250
        } else {
            100
        }));
    }
    let wall = wall0.elapsed().as_secs_f64();
    let cpu = (process_cpu_seconds() - cpu0).max(0.01);
    let peak = peak_rss_bytes();
    worker.shutdown().map_err(|e| e.to_string())?;
    let bytes_out =
        dir_size(&out) + std::fs::metadata(out.with_extension("txt")).map_or(0, |m| m.len());
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_file(out.with_extension("txt"));
    Ok(Report {
        case: case.name().into(),
        mode: "broker".into(),
        records,
        bytes_in,
        bytes_out,
        cpu_seconds: cpu,
        wall_seconds: wall,
        records_per_cpu_second: records as f64 / cpu,
        records_per_second: records as f64 / wall,
        mb_per_cpu_second: bytes_in as f64 / 1e6 / cpu,
        peak_rss_bytes: peak,
        columnar_batches: 0,
        batches: 0,
    })
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
