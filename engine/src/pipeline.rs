//! The in-process data path of a sink-side pipeline: raw batch → key/value converters →
//! transformation chain → output converters, as `sluice pipe`, the benchmarks and (soon)
//! the task runtimes run it. Whole batches go through the columnar converters and the
//! chain's batch kernels; a batch the kernels decline takes the per-record reference path,
//! which produces the same bytes.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, BinaryViewArray, BinaryViewBuilder};
use sluice_codecs::error::{ConnectError, RowFailure, Stage};
use sluice_codecs::record::timestamp_type;
use sluice_codecs::reference::RefConverter;
use sluice_codecs::schema::ConnectSchema;
use sluice_codecs::value::Value;
use sluice_codecs::{ConverterConfig, ConverterRole, RawBatch};
use sluice_smt::batch::ConnectBatch;
use sluice_smt::{Chain, ConnectRecord, Header};

use crate::config::{DEFAULT_CONVERTER, sub_props};
use crate::metrics::{PipelineStage, StageTimes};

/// The Connect record of raw row `i` with its converted key, value and headers.
pub(crate) fn record_of(
    raw: &RawBatch,
    i: usize,
    key: (Option<Arc<ConnectSchema>>, Value),
    value: (Option<Arc<ConnectSchema>>, Value),
    headers: Vec<Header>,
) -> ConnectRecord {
    let ts = raw.timestamps();
    ConnectRecord {
        topic: raw.topic(i).to_string(),
        original_topic: raw.topic(i).to_string(),
        partition: raw.partitions().value(i),
        offset: raw.offsets().value(i),
        timestamp: ts.is_valid(i).then(|| ts.value(i)),
        timestamp_type: match raw.timestamp_types().value(i) {
            timestamp_type::CREATE_TIME => "CreateTime".into(),
            timestamp_type::LOG_APPEND_TIME => "LogAppendTime".into(),
            _ => "NoTimestampType".into(),
        },
        key_schema: key.0,
        key: key.1,
        value_schema: value.0,
        value: value.1,
        headers,
    }
}

/// What came out of a batch: surviving records' routing columns and bytes, and failures.
#[derive(Debug)]
pub struct PipelineOutput {
    /// The surviving records (topic rewritten by routers), in input order.
    pub raw: RawBatch,
    pub keys: BinaryViewArray,
    pub values: BinaryViewArray,
    pub failures: Vec<RowFailure>,
    /// True when the whole batch took the columnar path.
    pub columnar: bool,
}

pub struct Pipeline {
    key_in: Box<dyn sluice_codecs::Converter>,
    value_in: Box<dyn sluice_codecs::Converter>,
    key_out: Box<dyn sluice_codecs::Converter>,
    value_out: Box<dyn sluice_codecs::Converter>,
    ref_key: (RefConverter, RefConverter),
    ref_value: (RefConverter, RefConverter),
    chain: Chain,
    /// Time per stage of the columnar path (the benchmark harness reports it).
    pub stages: StageTimes,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("chain", &self.chain)
            .finish_non_exhaustive()
    }
}

fn config_error(e: impl std::fmt::Display) -> ConnectError {
    ConnectError::config(e.to_string())
}

impl Pipeline {
    /// Builds the pipeline of a connector config (converters in and out are the same).
    pub fn new(props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let class = |role: &str| {
            props
                .get(role)
                .cloned()
                .unwrap_or_else(|| DEFAULT_CONVERTER.to_string())
        };
        let batch = |role: &str, r: ConverterRole| {
            ConverterConfig::parse(role, &class(role), &sub_props(props, role), r)
                .map(|c| c.build())
                .map_err(config_error)
        };
        let reference =
            |role: &str| RefConverter::configure(role, &class(role), &sub_props(props, role));
        Ok(Self {
            key_in: batch("key.converter", ConverterRole::Key)?,
            value_in: batch("value.converter", ConverterRole::Value)?,
            key_out: batch("key.converter", ConverterRole::Key)?,
            value_out: batch("value.converter", ConverterRole::Value)?,
            ref_key: (reference("key.converter")?, reference("key.converter")?),
            ref_value: (reference("value.converter")?, reference("value.converter")?),
            chain: Chain::configure(props)?,
            stages: StageTimes::default(),
        })
    }

    pub fn process(&mut self, raw: &RawBatch) -> PipelineOutput {
        self.process_columnar(raw)
            .unwrap_or_else(|| self.process_records(raw))
    }

    /// The columnar path, or `None` when any part of it declines the batch.
    pub fn process_columnar(&mut self, raw: &RawBatch) -> Option<PipelineOutput> {
        // Header converters may rewrite header bytes; batches with headers go per record.
        if !raw.headers().values().is_empty() {
            return None;
        }
        let stages = &self.stages;
        let (key, value) = stages.time(PipelineStage::ConvertIn, || {
            (
                self.key_in.decode(raw.keys()),
                self.value_in.decode(raw.values()),
            )
        });
        if !key.failures.is_empty()
            || !value.failures.is_empty()
            || key.runs.len() != 1
            || value.runs.len() != 1
        {
            return None;
        }
        let batch = ConnectBatch {
            raw: raw.clone(),
            key: key.runs[0].column.clone(),
            value: value.runs[0].column.clone(),
        };
        let out = stages.time(PipelineStage::Transforms, || self.chain.apply_batch(batch))?;
        let (keys, values) = stages.time(PipelineStage::ConvertOut, || {
            (
                self.key_out.encode(&out.key),
                self.value_out.encode(&out.value),
            )
        });
        let (keys, values) = (keys.ok()?, values.ok()?);
        if !keys.failures.is_empty() || !values.failures.is_empty() {
            return None;
        }
        Some(PipelineOutput {
            raw: out.raw,
            keys: keys.bytes,
            values: values.bytes,
            failures: vec![],
            columnar: true,
        })
    }

    /// The per-record reference path (Kafka's semantics, one record at a time).
    pub fn process_records(&mut self, raw: &RawBatch) -> PipelineOutput {
        let mut keep = Vec::with_capacity(raw.num_rows());
        let (mut keys, mut values) = (BinaryViewBuilder::new(), BinaryViewBuilder::new());
        let mut topics: Vec<String> = Vec::new();
        let mut failures = Vec::new();
        for i in 0..raw.num_rows() {
            let fail = |stage: Stage, e: ConnectError| RowFailure {
                row: i,
                stage,
                exception: e.exception,
                message: e.message.unwrap_or_default(),
            };
            let key_bytes = raw.keys().is_valid(i).then(|| raw.keys().value(i));
            let value_bytes = raw.values().is_valid(i).then(|| raw.values().value(i));
            let converted = self
                .ref_key
                .0
                .to_connect(key_bytes)
                .map_err(|e| fail(Stage::KeyConverter, e))
                .and_then(|k| {
                    self.ref_value
                        .0
                        .to_connect(value_bytes)
                        .map(|v| (k, v))
                        .map_err(|e| fail(Stage::ValueConverter, e))
                });
            let ((key_schema, key), (value_schema, value)) = match converted {
                Ok(kv) => kv,
                Err(f) => {
                    failures.push(f);
                    keep.push(false);
                    continue;
                }
            };
            let record = record_of(raw, i, (key_schema, key), (value_schema, value), vec![]);
            let record = match self.chain.apply(record) {
                Ok(Some(r)) => r,
                Ok(None) => {
                    keep.push(false);
                    continue;
                }
                Err(e) => {
                    failures.push(fail(Stage::Transformation, e));
                    keep.push(false);
                    continue;
                }
            };
            let out = self
                .ref_key
                .1
                .from_connect(record.key_schema.as_deref(), &record.key)
                .map_err(|e| fail(Stage::KeyConverter, e))
                .and_then(|k| {
                    self.ref_value
                        .1
                        .from_connect(record.value_schema.as_deref(), &record.value)
                        .map(|v| (k, v))
                        .map_err(|e| fail(Stage::ValueConverter, e))
                });
            match out {
                Ok((k, v)) => {
                    keys.append_option(k);
                    values.append_option(v);
                    topics.push(record.topic);
                    keep.push(true);
                }
                Err(f) => {
                    failures.push(f);
                    keep.push(false);
                }
            }
        }
        let mask = arrow::array::BooleanArray::from(keep);
        let mut kept = raw.filter(&mask).unwrap_or_else(|_| raw.slice(0, 0));
        let dict: arrow::array::DictionaryArray<arrow::datatypes::Int32Type> =
            topics.iter().map(String::as_str).collect();
        if let Ok(routed) = kept.with_topics(dict) {
            kept = routed;
        }
        PipelineOutput {
            raw: kept,
            keys: keys.finish(),
            values: values.finish(),
            failures,
            columnar: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_codecs::RawBatchBuilder;
    use sluice_codecs::events::OrderEvents;
    use sluice_codecs::record::timestamp_type;

    fn w1_props() -> HashMap<String, String> {
        crate::bench::Case::W1.props()
    }

    fn events(n: usize) -> RawBatch {
        events_of(n, false)
    }

    fn events_of(n: usize, envelope: bool) -> RawBatch {
        let mut g = OrderEvents::new();
        let mut b = RawBatchBuilder::with_capacity(n);
        let mut v = Vec::new();
        for i in 0..n {
            v.clear();
            let ts = if envelope {
                g.write_next_envelope(&mut v)
            } else {
                g.write_next(&mut v)
            };
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

    #[test]
    fn w1_columnar_equals_per_record_reference() {
        let raw = events(3000);
        let mut p = Pipeline::new(&w1_props()).unwrap();
        let columnar = p.process_columnar(&raw).expect("W1 runs column-wise");
        let reference = p.process_records(&raw);
        assert!(reference.failures.is_empty());
        assert_eq!(columnar.raw.num_rows(), reference.raw.num_rows());
        for i in 0..reference.raw.num_rows() {
            assert_eq!(
                columnar.raw.topic(i),
                reference.raw.topic(i),
                "topic of row {i}"
            );
            assert_eq!(
                columnar.values.value(i),
                reference.values.value(i),
                "value of row {i}"
            );
            assert_eq!(columnar.keys.is_null(i), reference.keys.is_null(i));
        }
        assert_eq!(reference.raw.topic(0), "orders-20240101");
    }

    #[test]
    fn w2_columnar_equals_per_record_reference() {
        let raw = events_of(2000, true);
        let mut p = Pipeline::new(&crate::bench::Case::W2.props()).unwrap();
        let columnar = p.process_columnar(&raw).expect("W2 runs column-wise");
        let reference = p.process_records(&raw);
        assert!(reference.failures.is_empty());
        assert_eq!(columnar.raw.num_rows(), reference.raw.num_rows());
        for i in 0..reference.raw.num_rows() {
            assert_eq!(
                columnar.raw.topic(i),
                reference.raw.topic(i),
                "topic of row {i}"
            );
            assert_eq!(
                String::from_utf8_lossy(columnar.values.value(i)),
                String::from_utf8_lossy(reference.values.value(i)),
                "value of row {i}"
            );
        }
    }

    #[test]
    fn filter_drops_matching_topics_in_both_paths() {
        let mut props = w1_props();
        props.insert(
            "predicates.nomatch.pattern".into(),
            "orders-2024010[1-3]".into(),
        );
        let raw = events(1000);
        let mut p = Pipeline::new(&props).unwrap();
        let columnar = p.process_columnar(&raw).expect("column-wise");
        let reference = p.process_records(&raw);
        assert_eq!(columnar.raw.num_rows(), reference.raw.num_rows());
        assert!(reference.raw.num_rows() < 1000);
        assert_eq!(
            columnar.raw.offsets().values(),
            reference.raw.offsets().values()
        );
    }
}
