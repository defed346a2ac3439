//! The per-record reference model of the pipeline: Kafka Connect's semantics for one record
//! at a time (converters in, the chain, converters out; the first failure ends the record).
//! The batch [`Pipeline`](crate::Pipeline) is checked against it row by row; nothing in a
//! task runs it.

use std::collections::HashMap;

use arrow::array::Array;
use sluice_codecs::error::ConnectError;
use sluice_codecs::reference::{RefConverter, RefHeaderConverter};
use sluice_codecs::{RawBatch, Stage};

use crate::batch::ConnectBatch;
use crate::bridge::record_of;
use crate::chain::Chain;
use crate::pipeline::{DEFAULT_CONVERTER, DEFAULT_HEADER_CONVERTER, Encoded, sub_props};
use crate::record::Header;

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    Record {
        topic: String,
        partition: i32,
        timestamp: Option<i64>,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
        headers: Vec<(String, Option<Vec<u8>>)>,
    },
    Dropped,
    Failed {
        stage: Stage,
        exception: String,
        message: Option<String>,
    },
}

impl RecordOutcome {
    fn failed(stage: Stage, e: ConnectError) -> Self {
        RecordOutcome::Failed {
            stage,
            exception: e.exception.to_string(),
            message: e.message,
        }
    }
}

impl Encoded {
    /// The outcome of each of the `n` input rows, in input order.
    pub fn outcomes(&self, n: usize) -> Vec<RecordOutcome> {
        let mut out = vec![RecordOutcome::Dropped; n];
        for f in &self.failures {
            out[f.row] = RecordOutcome::Failed {
                stage: f.stage,
                exception: f.exception.clone(),
                message: f.message.clone(),
            };
        }
        for b in &self.batches {
            let raw = &b.batch.raw;
            let ts = raw.timestamps();
            for i in 0..raw.num_rows() {
                out[b.batch.rows.value(i) as usize] = RecordOutcome::Record {
                    topic: raw.topic(i).to_string(),
                    partition: raw.partitions().value(i),
                    timestamp: ts.is_valid(i).then(|| ts.value(i)),
                    key: b.keys.is_valid(i).then(|| b.keys.value(i).to_vec()),
                    value: b.values.is_valid(i).then(|| b.values.value(i).to_vec()),
                    headers: b
                        .headers
                        .row(i)
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v.map(<[u8]>::to_vec)))
                        .collect(),
                };
            }
        }
        out
    }
}

struct Side {
    key: RefConverter,
    value: RefConverter,
    header: RefHeaderConverter,
}

fn side(props: &HashMap<String, String>) -> Result<Side, ConnectError> {
    let class = |role: &str| {
        props
            .get(role)
            .map_or(DEFAULT_CONVERTER, String::as_str)
            .to_string()
    };
    let key = RefConverter::configure(
        "key.converter",
        &class("key.converter"),
        &sub_props(props, "key.converter"),
    )?;
    let value = RefConverter::configure(
        "value.converter",
        &class("value.converter"),
        &sub_props(props, "value.converter"),
    )?;
    let mut header_props = sub_props(props, "header.converter");
    header_props.insert("converter.type".into(), "header".into());
    let header = RefHeaderConverter::configure(
        props
            .get("header.converter")
            .map_or(DEFAULT_HEADER_CONVERTER, String::as_str),
        &header_props,
    )?;
    Ok(Side { key, value, header })
}

/// A connector config's converters and chain, run one record at a time.
pub struct ReferencePipeline {
    input: Side,
    chain: Chain,
}

impl std::fmt::Debug for ReferencePipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReferencePipeline")
            .field("chain", &self.chain)
            .finish_non_exhaustive()
    }
}

impl ReferencePipeline {
    pub fn configure(props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        Ok(Self {
            input: side(props)?,
            chain: Chain::configure(props)?,
        })
    }

    /// Row `i` of `raw`, as Kafka Connect runs it.
    pub fn run(&self, raw: &RawBatch, i: usize) -> RecordOutcome {
        fn bytes(a: &arrow::array::BinaryViewArray, i: usize) -> Option<&[u8]> {
            a.is_valid(i).then(|| a.value(i))
        }
        let key = match self.input.key.to_connect(bytes(raw.keys(), i)) {
            Ok(k) => k,
            Err(e) => return RecordOutcome::failed(Stage::KeyConverter, e),
        };
        let value = match self.input.value.to_connect(bytes(raw.values(), i)) {
            Ok(v) => v,
            Err(e) => return RecordOutcome::failed(Stage::ValueConverter, e),
        };
        let mut headers = Vec::new();
        for h in raw.row_headers(i) {
            match self.input.header.to_connect(h.value) {
                Ok((schema, value)) => headers.push(Header {
                    key: h.key.to_string(),
                    schema,
                    value,
                }),
                Err(e) => return RecordOutcome::failed(Stage::HeaderConverter, e),
            }
        }
        let one = ConnectBatch::new(
            raw.slice(i, 1),
            sluice_codecs::ConnectColumn::nulls(1),
            sluice_codecs::ConnectColumn::nulls(1),
        );
        let mut record = record_of(&one, 0);
        (record.key_schema, record.key) = key;
        (record.value_schema, record.value) = value;
        record.headers = headers;
        let record = match self.chain.apply(record) {
            Ok(Some(r)) => r,
            Ok(None) => return RecordOutcome::Dropped,
            Err(e) => return RecordOutcome::failed(Stage::Transformation, e),
        };
        let mut headers_out = Vec::with_capacity(record.headers.len());
        for h in &record.headers {
            match self
                .input
                .header
                .from_connect(h.schema.as_deref(), &h.value)
            {
                Ok(b) => headers_out.push((h.key.clone(), b)),
                Err(e) => return RecordOutcome::failed(Stage::HeaderConverter, e),
            }
        }
        let key = match self
            .input
            .key
            .from_connect(record.key_schema.as_deref(), &record.key)
        {
            Ok(b) => b,
            Err(e) => return RecordOutcome::failed(Stage::KeyConverter, e),
        };
        let value = match self
            .input
            .value
            .from_connect(record.value_schema.as_deref(), &record.value)
        {
            Ok(b) => b,
            Err(e) => return RecordOutcome::failed(Stage::ValueConverter, e),
        };
        RecordOutcome::Record {
            topic: record.topic,
            partition: record.partition.unwrap_or_default(),
            timestamp: record.timestamp,
            key,
            value,
            headers: headers_out,
        }
    }
}
