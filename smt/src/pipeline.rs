//! The one data path every mode runs (sink and source tasks, `sluice pipe`, the benchmarks):
//! raw batch → key, value and header converters → the chain stage by stage (a stage's
//! batch kernel where it takes the batch, otherwise that stage alone record by record,
//! written back into typed columns) → output converters. Failed rows are data: each is a
//! [`Failure`] naming its input row, stage and class, and the batch goes on without it.

use std::collections::HashMap;
use std::fmt;

use arrow::array::{Array, AsArray, BinaryViewArray, BooleanArray};
use sluice_codecs::error::{ConnectError, RowFailure};
use sluice_codecs::reference::{RefConverter, RefHeaderConverter};
use sluice_codecs::{CodecError, Converter, ConverterConfig, ConverterRole, RawBatch, Stage};

use crate::batch::ConnectBatch;
use crate::bridge::{run_slice, segments, stage_per_record};
use crate::chain::Chain;
use crate::header_rows::{EncodedHeaders, HeaderRows};
use crate::record::Header;

/// Kafka's default key and value converter.
pub const DEFAULT_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
/// Kafka's default header converter.
pub const DEFAULT_HEADER_CONVERTER: &str = "org.apache.kafka.connect.storage.SimpleHeaderConverter";

/// One failed row: where it failed and what Kafka Connect would have thrown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Row in the raw batch the pipeline was given.
    pub row: usize,
    pub stage: Stage,
    /// Class of the failing stage (converter, transformation or task).
    pub class_name: String,
    pub exception: String,
    pub message: Option<String>,
}

impl Failure {
    /// `ExceptionClass: message`, the first line of a Java stack trace.
    pub fn exception_line(&self) -> String {
        match &self.message {
            Some(m) => format!("{}: {m}", self.exception),
            None => self.exception.clone(),
        }
    }

    /// The trace text: the exception line, then where in sluice it was raised (Java frames
    /// do not exist here).
    pub fn trace(&self) -> String {
        format!(
            "{}\n\tin stage {} of class {}",
            self.exception_line(),
            self.stage,
            self.class_name
        )
    }

    fn of_row(f: &RowFailure, row: usize, class_name: &str) -> Self {
        Self {
            row,
            stage: f.stage,
            class_name: class_name.to_string(),
            exception: f.exception.to_string(),
            message: Some(f.message.clone()).filter(|m| !m.is_empty()),
        }
    }

    fn of_error(e: ConnectError, row: usize, stage: Stage, class_name: &str) -> Self {
        Self {
            row,
            stage,
            class_name: class_name.to_string(),
            exception: e.exception.to_string(),
            message: e.message,
        }
    }
}

/// The `key.converter`, `value.converter` and `header.converter` of one side.
pub struct ConverterSet {
    key: Box<dyn Converter>,
    value: Box<dyn Converter>,
    header: RefHeaderConverter,
    key_class: String,
    value_class: String,
    header_class: String,
}

impl fmt::Debug for ConverterSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConverterSet")
            .field("key", &self.key_class)
            .field("value", &self.value_class)
            .field("header", &self.header_class)
            .finish()
    }
}

/// The settings under `prefix.` with the prefix removed.
pub fn sub_props<'a>(
    props: impl IntoIterator<Item = (&'a String, &'a String)>,
    prefix: &str,
) -> HashMap<String, String> {
    let dotted = format!("{prefix}.");
    props
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix(&dotted).map(|s| (s.to_string(), v.clone())))
        .collect()
}

/// Kafka's class name for a (possibly short) converter class.
fn converter_class_name(class: &str) -> String {
    if class.contains('.') {
        return class.to_string();
    }
    match class {
        "JsonConverter" => format!("org.apache.kafka.connect.json.{class}"),
        "SimpleHeaderConverter" | "StringConverter" => {
            format!("org.apache.kafka.connect.storage.{class}")
        }
        _ => format!("org.apache.kafka.connect.converters.{class}"),
    }
}

impl ConverterSet {
    /// From already parsed key and value configs and a header converter.
    pub fn new(
        key: &ConverterConfig,
        value: &ConverterConfig,
        header: RefHeaderConverter,
        header_class: &str,
    ) -> Self {
        Self {
            key: key.build(),
            value: value.build(),
            header,
            key_class: key.kind.class_name().to_string(),
            value_class: value.kind.class_name().to_string(),
            header_class: converter_class_name(header_class.trim()),
        }
    }

    /// From a connector config's own keys, with Kafka's defaults; the error is what the
    /// converter's `configure` throws (key, then value, then header converter).
    pub fn configure(props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let class = |role: &str| {
            props
                .get(role)
                .map_or(DEFAULT_CONVERTER, String::as_str)
                .to_string()
        };
        let parse = |role: &str, r: ConverterRole| {
            let (class, sub) = (class(role), sub_props(props, role));
            ConverterConfig::parse(role, &class, &sub, r).map_err(|e| match e {
                CodecError::Configure(exact) => exact,
                // The per-record model's configure names Kafka's exact error.
                e => RefConverter::configure(role, &class, &sub)
                    .err()
                    .unwrap_or_else(|| ConnectError::config(e.to_string())),
            })
        };
        let key = parse("key.converter", ConverterRole::Key)?;
        let value = parse("value.converter", ConverterRole::Value)?;
        let header_class = props
            .get("header.converter")
            .map_or(DEFAULT_HEADER_CONVERTER, String::as_str);
        let mut header_props = sub_props(props, "header.converter");
        header_props.insert("converter.type".into(), "header".into());
        let header = RefHeaderConverter::configure(header_class, &header_props)?;
        Ok(Self::new(&key, &value, header, header_class))
    }

    /// The connector-level check of the three converter classes (Kafka's `ConnectorConfig`
    /// refuses an unknown class before configuring any plugin).
    pub fn check_classes(props: &HashMap<String, String>) -> Result<(), ConnectError> {
        for (role, default) in [
            ("key.converter", DEFAULT_CONVERTER),
            ("value.converter", DEFAULT_CONVERTER),
            ("header.converter", DEFAULT_HEADER_CONVERTER),
        ] {
            let class = props.get(role).map_or(default, String::as_str);
            match sluice_codecs::reference::converter_class(class) {
                None => {
                    return Err(ConnectError::config(format!(
                        "Invalid value {} for configuration {role}: Class {} could not be found.",
                        class.trim(),
                        class.trim()
                    )));
                }
                Some("SimpleHeaderConverter") if role != "header.converter" => {
                    return Err(ConnectError::config(
                        "Class class org.apache.kafka.connect.storage.SimpleHeaderConverter does not implement the Converter interface",
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    pub fn key_class(&self) -> &str {
        &self.key_class
    }

    pub fn value_class(&self) -> &str {
        &self.value_class
    }
}

/// Records after a pipeline step: batches of one key and one value schema each, in input
/// order, and the rows that failed so far.
#[derive(Debug, Default)]
pub struct Converted {
    pub batches: Vec<ConnectBatch>,
    pub failures: Vec<Failure>,
    /// Rows that some stage ran record by record (0 when the whole chain ran column-wise).
    pub per_record_rows: usize,
}

/// One output batch: its records and their converted key, value and header bytes.
#[derive(Debug)]
pub struct EncodedBatch {
    pub batch: ConnectBatch,
    pub keys: BinaryViewArray,
    pub values: BinaryViewArray,
    /// Each row's headers as bytes.
    pub headers: EncodedHeaders,
}

/// What comes out of the output converters.
#[derive(Debug, Default)]
pub struct Encoded {
    pub batches: Vec<EncodedBatch>,
    pub failures: Vec<Failure>,
}

/// A connector's data path: its converters and its chain (and, for `sluice pipe`, other
/// converters on the way out).
#[derive(Debug)]
pub struct Pipeline {
    input: ConverterSet,
    chain: Chain,
    output: Option<ConverterSet>,
}

impl Pipeline {
    pub fn new(input: ConverterSet, chain: Chain, output: Option<ConverterSet>) -> Self {
        Self {
            input,
            chain,
            output,
        }
    }

    /// From a connector config (`out` names other output converters; a role it does not
    /// name keeps the input side's), each step failing with what Kafka throws, in Kafka's
    /// order: the connector-level checks (converter classes, aliases and plugin classes), the
    /// input converters, each transformation with its predicate, the output converters.
    pub fn configure(
        props: &HashMap<String, String>,
        out: Option<&HashMap<String, String>>,
    ) -> Result<Self, ConnectError> {
        ConverterSet::check_classes(props)?;
        let chain = crate::chain::ChainSpec::check(props)?;
        let input = ConverterSet::configure(props)?;
        let chain = chain.build(props)?;
        let output = match out {
            None => None,
            Some(o) => {
                let mut merged = HashMap::new();
                for role in ["key.converter", "value.converter", "header.converter"] {
                    let source = if o.contains_key(role) { o } else { props };
                    let prefix = format!("{role}.");
                    for (k, v) in source
                        .iter()
                        .filter(|(k, _)| *k == role || k.starts_with(&prefix))
                    {
                        merged.insert(k.clone(), v.clone());
                    }
                }
                Some(ConverterSet::configure(&merged)?)
            }
        };
        Ok(Self::new(input, chain, output))
    }

    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    pub fn input(&self) -> &ConverterSet {
        &self.input
    }

    /// Converts raw records to Connect data: key, then value, then headers (a row failing
    /// one is reported once, at the first). The batches exclude failed rows.
    pub fn decode(&mut self, raw: &RawBatch) -> Result<Converted, CodecError> {
        let n = raw.num_rows();
        let input = &mut self.input;
        let key = input.key.decode_from(raw.keys(), raw.topics());
        let value = input.value.decode_from(raw.values(), raw.topics());
        let mut failures: Vec<Failure> = key
            .failures
            .iter()
            .map(|f| Failure::of_row(f, f.row, &input.key_class))
            .collect();
        failures.extend(
            value
                .failures
                .iter()
                .map(|f| Failure::of_row(f, f.row, &input.value_class)),
        );
        failures.sort_by_key(|f| f.row);
        failures.dedup_by_key(|f| f.row);
        let mut failed = vec![false; n];
        for f in &failures {
            failed[f.row] = true;
        }
        let headers = if raw.headers().values().is_empty() {
            HeaderRows::none(n)
        } else {
            let mut rows = Vec::with_capacity(n);
            for (i, done) in failed.iter_mut().enumerate() {
                let mut headers = Vec::new();
                if !*done {
                    for h in raw.row_headers(i) {
                        match input.header.to_connect(h.value) {
                            Ok((schema, value)) => headers.push(Header {
                                key: h.key.to_string(),
                                schema,
                                value,
                            }),
                            Err(e) => {
                                failures.push(Failure::of_error(
                                    e,
                                    i,
                                    Stage::HeaderConverter,
                                    &input.header_class,
                                ));
                                *done = true;
                                break;
                            }
                        }
                    }
                }
                rows.push(headers);
            }
            failures.sort_by_key(|f| f.row);
            HeaderRows::from_rows(rows)
        };
        let mut whole = ConnectBatch::new(
            raw.clone(),
            sluice_codecs::ConnectColumn::nulls(n),
            sluice_codecs::ConnectColumn::nulls(n),
        );
        whole.headers = headers;
        let mut batches = Vec::new();
        for (start, len) in segments(&key.runs, &value.runs, n) {
            let mut part = if len == n {
                whole.clone()
            } else {
                whole.slice(start, len)
            };
            part.key = run_slice(&key.runs, start, len);
            part.value = run_slice(&value.runs, start, len);
            if failed[start..start + len].iter().any(|f| *f) {
                let keep =
                    BooleanArray::from_iter(failed[start..start + len].iter().map(|f| Some(!f)));
                part = part.filter(&keep)?;
            }
            if part.num_rows() > 0 {
                batches.push(part);
            }
        }
        Ok(Converted {
            batches,
            failures,
            per_record_rows: 0,
        })
    }

    /// Runs the chain over the batches, stage by stage: a stage whose kernel declines a
    /// batch runs record by record over that batch only, and the stages after it take its
    /// output column-wise again.
    pub fn transform(&self, mut converted: Converted) -> Result<Converted, CodecError> {
        for stage in &self.chain.stages {
            let mut next = Vec::with_capacity(converted.batches.len());
            for whole in converted.batches {
                if let Some(out) = stage.apply_kernel(whole.clone()) {
                    next.push(out);
                    continue;
                }
                // A predicate true for some rows only: the stretches it selects take the
                // kernel, the others pass unchanged.
                let parts = match stage.predicate_runs(&whole) {
                    Some(runs) if runs.len() > 1 => runs,
                    _ => vec![(0, whole.num_rows(), true)],
                };
                for (start, len, applies) in parts {
                    let batch = if len == whole.num_rows() {
                        whole.clone()
                    } else {
                        whole.slice(start, len)
                    };
                    if !applies {
                        next.push(batch);
                        continue;
                    }
                    if len < whole.num_rows()
                        && let Some(out) =
                            crate::kernels::transform_kernel(&stage.transform, batch.clone())
                    {
                        next.push(out);
                        continue;
                    }
                    // Null keys or values (tombstones) among others: the kernel takes the
                    // stretches of non-null rows, only the null ones go per record.
                    for (from, n, null) in null_runs(&stage.transform, &batch) {
                        let part = if n == batch.num_rows() {
                            batch.clone()
                        } else {
                            batch.slice(from, n)
                        };
                        if !null
                            && n < batch.num_rows()
                            && let Some(out) =
                                crate::kernels::transform_kernel(&stage.transform, part.clone())
                        {
                            next.push(out);
                            continue;
                        }
                        run_per_record(stage, &part, &mut converted.failures, &mut next)?;
                        converted.per_record_rows += part.num_rows();
                    }
                }
            }
            next.retain(|b| b.num_rows() > 0);
            converted.batches = next;
        }
        converted.failures.sort_by_key(|f| f.row);
        Ok(converted)
    }

    /// A source task's records (already Connect data): the chain, then the converters to
    /// bytes, as Kafka's `WorkerSourceTask` does.
    pub fn run_source(&self, batch: ConnectBatch) -> Result<Encoded, CodecError> {
        let transformed = self.transform(Converted {
            batches: vec![batch],
            ..Converted::default()
        })?;
        self.encode(&transformed)
    }

    /// Converts the records back to bytes with the output converters: per record, its
    /// headers in order, then the key, then the value; the first failure is the record's.
    pub fn encode(&self, converted: &Converted) -> Result<Encoded, CodecError> {
        let out = self.output.as_ref().unwrap_or(&self.input);
        let mut encoded = Encoded {
            batches: Vec::with_capacity(converted.batches.len()),
            failures: converted.failures.clone(),
        };
        for batch in &converted.batches {
            let n = batch.num_rows();
            // The first failure of each failed row, by batch row (few or none: no per-row
            // slot is allocated for the rows that succeed).
            let mut failed: std::collections::BTreeMap<usize, Failure> = Default::default();
            let headers = if batch.headers.is_empty() {
                EncodedHeaders::default()
            } else {
                let (headers, errors) = batch.headers.encode(&out.header);
                for (i, e) in errors {
                    failed.entry(i).or_insert_with(|| {
                        Failure::of_error(
                            e,
                            batch.rows.value(i) as usize,
                            Stage::HeaderConverter,
                            &out.header_class,
                        )
                    });
                }
                headers
            };
            let keys = out.key.encode_for(&batch.key, batch.raw.topics())?;
            let values = out.value.encode_for(&batch.value, batch.raw.topics())?;
            for (fs, class) in [
                (&keys.failures, &out.key_class),
                (&values.failures, &out.value_class),
            ] {
                for f in fs {
                    failed.entry(f.row).or_insert_with(|| {
                        Failure::of_row(f, batch.rows.value(f.row) as usize, class)
                    });
                }
            }
            if failed.is_empty() {
                encoded.batches.push(EncodedBatch {
                    batch: batch.clone(),
                    keys: keys.bytes,
                    values: values.bytes,
                    headers,
                });
                continue;
            }
            let keep = BooleanArray::from_iter((0..n).map(|i| Some(!failed.contains_key(&i))));
            let kept_headers = headers.filter(&keep)?;
            encoded.failures.extend(failed.into_values());
            encoded.batches.push(EncodedBatch {
                batch: batch.filter(&keep)?,
                keys: arrow::compute::filter(&keys.bytes, &keep)?
                    .as_binary_view()
                    .clone(),
                values: arrow::compute::filter(&values.bytes, &keep)?
                    .as_binary_view()
                    .clone(),
                headers: kept_headers,
            });
        }
        encoded.batches.retain(|b| b.batch.num_rows() > 0);
        encoded.failures.sort_by_key(|f| f.row);
        Ok(encoded)
    }
}

/// (start, len, null) stretches of the column a transformation reads, split where a row's
/// value turns null or back; one stretch when it reads none or has no nulls.
fn null_runs(t: &crate::transforms::Transform, batch: &ConnectBatch) -> Vec<(usize, usize, bool)> {
    let n = batch.num_rows();
    let Some(side) = crate::kernels::operated_side(t) else {
        return vec![(0, n, false)];
    };
    let column = batch.side(side);
    let mut runs: Vec<(usize, usize, bool)> = Vec::new();
    for i in 0..n {
        let null = column.is_null(i);
        match runs.last_mut() {
            Some((_, len, was)) if *was == null => *len += 1,
            _ => runs.push((i, 1, null)),
        }
    }
    if runs.is_empty() {
        runs.push((0, 0, false));
    }
    runs
}

/// `stage` record by record over `batch`: outputs to `next`, failures to `failures`.
fn run_per_record(
    stage: &crate::chain::ChainStage,
    batch: &ConnectBatch,
    failures: &mut Vec<Failure>,
    next: &mut Vec<ConnectBatch>,
) -> Result<(), CodecError> {
    let (out, failed) = stage_per_record(stage, batch)?;
    failures.extend(failed.into_iter().map(|f| Failure {
        row: batch.rows.value(f.row) as usize,
        stage: Stage::Transformation,
        class_name: stage.class_name.clone(),
        exception: f.error.exception.to_string(),
        message: f.error.message,
    }));
    next.extend(out);
    Ok(())
}
