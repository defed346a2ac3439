//! The Parquet sink (`ParquetSink`; Confluent's S3/HDFS sink class names with `ParquetFormat`
//! accepted): records are grouped per Kafka partition and encoded partition into open files,
//! rotated by `flush.size`, `rotate.interval.ms`, `rotate.schedule.interval.ms` (fires without
//! new records) and a memory budget, and committed atomically as
//! `<topics.dir>/<topic>/<encoded partition>/<topic>+<partition>+<start>+<end>.parquet`.
//! Offsets are committed only below the oldest open file; on (re)assignment the offsets already
//! in committed files are recovered from their names and metadata and skipped: exactly-once
//! output across crashes.

mod column_error;
pub mod columns;
mod field_column;
mod memory;
pub mod partitioner;
pub mod store;
pub mod timezone;
pub mod types;

use crate::config_def::{ConfigKey, config_key};
use std::collections::{BTreeSet, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use sluice_codecs::model::value::Value;

use crate::task::{ErrantRecords, SinkBatch, SinkTask, TopicPartition};
use crate::{ConnectorError, Result};
use field_column::FieldColumn;
use partitioner::{PartitionError, Partitioner, TimestampExtractor, file_name, parse_file_name};
use store::{LocalStore, Store};

pub const STORE_URL: &str = "store.url";
pub const TOPICS_DIR: &str = "topics.dir";
pub const FLUSH_SIZE: &str = "flush.size";
pub const ROTATE_INTERVAL_MS: &str = "rotate.interval.ms";
pub const ROTATE_SCHEDULE_INTERVAL_MS: &str = "rotate.schedule.interval.ms";
pub const PARTITIONER_CLASS: &str = "partitioner.class";
pub const PARQUET_CODEC: &str = "parquet.codec";
pub const AWS_ACCESS_KEY_ID: &str = "aws.access.key.id";
pub const AWS_SECRET_ACCESS_KEY: &str = "aws.secret.access.key";

const STORAGE: Option<&str> = Some("Storage");
const CONNECTOR: Option<&str> = Some("Connector");

/// The Parquet sink's `CONFIG_DEF` (the keys of Confluent's storage sinks it reads).
pub const CONFIG_DEF: &[ConfigKey] = &[
    config_key(
        STORE_URL,
        "STRING",
        true,
        None,
        "HIGH",
        "Where files go: file:///path.",
        STORAGE,
        1,
        "LONG",
        "Store URL",
    ),
    config_key(
        TOPICS_DIR,
        "STRING",
        false,
        Some("topics"),
        "HIGH",
        "Top level directory to store the data ingested from Kafka.",
        STORAGE,
        2,
        "NONE",
        "Topics directory",
    ),
    config_key(
        FLUSH_SIZE,
        "INT",
        true,
        None,
        "HIGH",
        "Number of records written to store before invoking file commits.",
        CONNECTOR,
        1,
        "SHORT",
        "Flush Size",
    ),
    config_key(
        ROTATE_INTERVAL_MS,
        "LONG",
        false,
        Some("-1"),
        "HIGH",
        "The time interval in milliseconds to invoke file commits, measured on the records' timestamps.",
        CONNECTOR,
        2,
        "SHORT",
        "Rotate Interval (ms)",
    ),
    config_key(
        ROTATE_SCHEDULE_INTERVAL_MS,
        "LONG",
        false,
        Some("-1"),
        "MEDIUM",
        "The time interval in milliseconds to periodically invoke file commits on the wall clock, also without new records.",
        CONNECTOR,
        3,
        "SHORT",
        "Rotate Schedule Interval (ms)",
    ),
    config_key(
        PARTITIONER_CLASS,
        "CLASS",
        false,
        Some("io.confluent.connect.storage.partitioner.DefaultPartitioner"),
        "HIGH",
        "The partitioner to use when writing data to the store.",
        Some("Partitioner"),
        1,
        "LONG",
        "Partitioner Class",
    ),
    config_key(
        PARQUET_CODEC,
        "STRING",
        false,
        Some("snappy"),
        "LOW",
        "The Parquet compression codec: snappy, zstd, gzip, lz4 or none.",
        CONNECTOR,
        4,
        "SHORT",
        "Parquet Compression Codec",
    ),
    config_key(
        AWS_ACCESS_KEY_ID,
        "STRING",
        false,
        Some(""),
        "HIGH",
        "The AWS access key ID for an s3:// store.url; empty uses the environment's credentials.",
        STORAGE,
        5,
        "LONG",
        "AWS Access Key ID",
    ),
    config_key(
        AWS_SECRET_ACCESS_KEY,
        "PASSWORD",
        false,
        None,
        "HIGH",
        "The secret access key that goes with aws.access.key.id.",
        STORAGE,
        6,
        "LONG",
        "AWS Secret Access Key",
    ),
];

/// Parquet key-value metadata holding the Kafka offsets a file contains (`s-e,s-e,...`).
pub const OFFSETS_KEY: &str = "sluice.kafka.offsets";
/// Default of `local.io.uring`, the faster of the two on the benchmark (perf/RESULTS.md).
pub const DEFAULT_IO_URING: &str = "true";
const DATA_EXCEPTION: &str = "org.apache.kafka.connect.errors.DataException";

/// What `behavior.on.null.values` does with tombstones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullBehavior {
    /// Report the record as errant (the task fails unless errors.tolerance=all).
    Fail,
    Ignore,
}

/// `schema.compatibility`: NONE starts a new file on any schema change; BACKWARD (and the
/// others, treated alike) widens the open file's schema when the new one can be merged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compatibility {
    None,
    Backward,
}

/// Where files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Local(std::path::PathBuf),
    S3(store::S3Settings),
}

/// Typed config of the Parquet sink, with Confluent's storage-connector keys and defaults.
#[derive(Debug, Clone)]
pub struct ParquetSinkConfig {
    pub store: StoreUrl,
    pub topics_dir: String,
    pub directory_delim: String,
    pub file_delim: String,
    pub flush_size: usize,
    pub rotate_interval_ms: i64,
    pub rotate_schedule_interval_ms: i64,
    /// `timezone` (UTC when empty).
    pub zone: timezone::Zone,
    pub partitioner: Partitioner,
    pub zero_pad: usize,
    pub codec: Compression,
    pub compatibility: Compatibility,
    pub null_behavior: NullBehavior,
    pub row_group_rows: usize,
    pub memory_budget: usize,
    /// `local.io.uring`: write local files through io_uring (falls back when refused).
    pub io_uring: bool,
}

fn get<'a>(props: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    props.get(key).map(|s| s.trim()).filter(|s| !s.is_empty())
}

fn invalid(key: &str, value: &str, reason: &str) -> ConnectorError {
    ConnectorError::InvalidConfig {
        key: key.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

fn long(props: &HashMap<String, String>, key: &str, default: i64) -> Result<i64> {
    match get(props, key) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| invalid(key, v, "Not a number of type LONG")),
    }
}

impl ParquetSinkConfig {
    pub fn parse(props: &HashMap<String, String>) -> Result<Self> {
        if let Some(f) = get(props, "format.class")
            && !f.ends_with("ParquetFormat")
        {
            return Err(invalid(
                "format.class",
                f,
                "this sink writes Parquet only (ParquetFormat)",
            ));
        }
        let store_url = get(props, STORE_URL).or_else(|| get(props, "hdfs.url"));
        // Confluent's S3 sink names the bucket in s3.bucket.name and a custom endpoint in
        // store.url; `s3://bucket/prefix` in store.url works too.
        let endpoint = get(props, "s3.endpoint").map(str::to_string).or_else(|| {
            store_url
                .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
                .map(str::to_string)
        });
        let url = match store_url {
            Some(u) if !u.starts_with("http") => u.to_string(),
            _ => get(props, "s3.bucket.name")
                .map(|b| format!("s3://{b}"))
                .ok_or(ConnectorError::MissingConfig {
                    key: STORE_URL.into(),
                })?,
        };
        let store = if let Some(path) = url.strip_prefix("file://") {
            StoreUrl::Local(std::path::PathBuf::from(path))
        } else if url.starts_with("hdfs://") {
            return Err(invalid(
                STORE_URL,
                &url,
                "hdfs:// is not supported yet (file:// and s3:// are)",
            ));
        } else if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(invalid(STORE_URL, &url, "expected s3://bucket/prefix"));
            }
            let part_size = long(props, "s3.part.size", 25 << 20)?;
            if part_size < 5 << 20 {
                return Err(invalid(
                    "s3.part.size",
                    &part_size.to_string(),
                    "Value must be at least 5242880",
                ));
            }
            let path_style = match get(props, "s3.path.style.access.enabled").unwrap_or("true") {
                v if v.eq_ignore_ascii_case("true") => true,
                v if v.eq_ignore_ascii_case("false") => false,
                v => {
                    return Err(invalid(
                        "s3.path.style.access.enabled",
                        v,
                        "Expected value to be either true or false",
                    ));
                }
            };
            StoreUrl::S3(store::S3Settings {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
                region: get(props, "s3.region").unwrap_or("us-west-2").to_string(),
                endpoint,
                path_style,
                access_key: get(props, AWS_ACCESS_KEY_ID).map(str::to_string),
                secret_key: get(props, AWS_SECRET_ACCESS_KEY).map(str::to_string),
                part_size: part_size as usize,
            })
        } else {
            return Err(invalid(
                STORE_URL,
                &url,
                "expected file:///path or s3://bucket/prefix",
            ));
        };
        let flush_size = match get(props, FLUSH_SIZE) {
            None => {
                return Err(ConnectorError::MissingConfig {
                    key: FLUSH_SIZE.into(),
                });
            }
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| invalid(FLUSH_SIZE, v, "Value must be at least 1"))?,
        };
        let timezone = get(props, "timezone").unwrap_or("");
        let rotate_schedule_interval_ms = long(props, ROTATE_SCHEDULE_INTERVAL_MS, -1)?;
        let zone = if timezone.is_empty() {
            if rotate_schedule_interval_ms > 0 {
                return Err(invalid(
                    "timezone",
                    "",
                    "Timezone cannot be empty when using scheduled file rotation.",
                ));
            }
            timezone::Zone::fixed(0)
        } else {
            timezone::Zone::parse(timezone).ok_or_else(|| {
                invalid(
                    "timezone",
                    timezone,
                    &format!("Unknown time zone {timezone}"),
                )
            })?
        };
        let extractor = match get(props, "timestamp.extractor").unwrap_or("Wallclock") {
            "Wallclock" => TimestampExtractor::Wallclock,
            "Record" => TimestampExtractor::Record,
            "RecordField" => TimestampExtractor::RecordField(
                get(props, "timestamp.field")
                    .unwrap_or("timestamp")
                    .to_string(),
            ),
            other => {
                return Err(invalid(
                    "timestamp.extractor",
                    other,
                    "one of Wallclock, Record, RecordField",
                ));
            }
        };
        let fields: Vec<String> = get(props, "partition.field.name")
            .map(|f| {
                f.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let partitioner = Partitioner::configure(
            get(props, PARTITIONER_CLASS).unwrap_or("DefaultPartitioner"),
            &fields,
            get(props, "path.format").unwrap_or(""),
            long(props, "partition.duration.ms", -1)?,
            timezone,
            extractor,
        )?;
        // Names in `path.format` follow `locale` in Confluent's partitioners; ours are English.
        if let (Partitioner::TimeBased { format, .. }, Some(locale)) =
            (&partitioner, get(props, "locale"))
        {
            let language = locale.split(['_', '-']).next().unwrap_or("");
            if format.has_locale_text() && !language.eq_ignore_ascii_case("en") {
                return Err(invalid(
                    "locale",
                    locale,
                    "path.format has month, day, am/pm, era or zone names, which are written in English only; use numeric fields or an English locale",
                ));
            }
        }
        let codec = match get(props, PARQUET_CODEC)
            .unwrap_or("snappy")
            .to_ascii_lowercase()
            .as_str()
        {
            "snappy" => Compression::SNAPPY,
            "zstd" => Compression::ZSTD(ZstdLevel::default()),
            "gzip" => Compression::GZIP(GzipLevel::default()),
            "lz4" => Compression::LZ4_RAW,
            "none" | "uncompressed" => Compression::UNCOMPRESSED,
            other => {
                return Err(invalid(
                    PARQUET_CODEC,
                    other,
                    "one of snappy, zstd, gzip, lz4, none",
                ));
            }
        };
        let compatibility = match get(props, "schema.compatibility")
            .unwrap_or("NONE")
            .to_ascii_uppercase()
            .as_str()
        {
            "NONE" => Compatibility::None,
            "BACKWARD" | "FORWARD" | "FULL" => Compatibility::Backward,
            other => {
                return Err(invalid(
                    "schema.compatibility",
                    other,
                    "one of NONE, BACKWARD, FORWARD, FULL",
                ));
            }
        };
        let null_behavior = match get(props, "behavior.on.null.values")
            .unwrap_or("fail")
            .to_ascii_lowercase()
            .as_str()
        {
            "fail" => NullBehavior::Fail,
            "ignore" => NullBehavior::Ignore,
            "write" => {
                return Err(invalid(
                    "behavior.on.null.values",
                    "write",
                    "write is not supported: Confluent's S3 sink writes tombstones only with the records' Kafka keys (store.kafka.keys), which this sink does not store; use fail or ignore",
                ));
            }
            other => {
                return Err(invalid(
                    "behavior.on.null.values",
                    other,
                    "one of fail, ignore",
                ));
            }
        };
        let zero_pad = long(props, "filename.offset.zero.pad.width", 10)?;
        let row_group_rows = long(props, "parquet.row.group.rows", 1 << 20)?;
        let memory_budget = long(props, "memory.budget.bytes", 64 << 20)?;
        let io_uring = match get(props, "local.io.uring").unwrap_or(DEFAULT_IO_URING) {
            v if v.eq_ignore_ascii_case("true") => true,
            v if v.eq_ignore_ascii_case("false") => false,
            v => {
                return Err(invalid(
                    "local.io.uring",
                    v,
                    "Expected value to be either true or false",
                ));
            }
        };
        Ok(Self {
            store,
            topics_dir: get(props, TOPICS_DIR).unwrap_or("topics").to_string(),
            directory_delim: get(props, "directory.delim").unwrap_or("/").to_string(),
            file_delim: get(props, "file.delim").unwrap_or("+").to_string(),
            flush_size,
            rotate_interval_ms: long(props, ROTATE_INTERVAL_MS, -1)?,
            rotate_schedule_interval_ms,
            zone,
            partitioner,
            zero_pad: usize::try_from(zero_pad).map_err(|_| {
                invalid(
                    "filename.offset.zero.pad.width",
                    &zero_pad.to_string(),
                    "Value must be at least 0",
                )
            })?,
            codec,
            compatibility,
            null_behavior,
            row_group_rows: usize::try_from(row_group_rows)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    invalid(
                        "parquet.row.group.rows",
                        &row_group_rows.to_string(),
                        "Value must be at least 1",
                    )
                })?,
            io_uring,
            memory_budget: usize::try_from(memory_budget)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    invalid(
                        "memory.budget.bytes",
                        &memory_budget.to_string(),
                        "Value must be at least 1",
                    )
                })?,
        })
    }

    pub fn build(&self) -> Result<ParquetSinkTask> {
        let store: Box<dyn Store> = match &self.store {
            StoreUrl::Local(p) => {
                std::fs::create_dir_all(p).map_err(|source| ConnectorError::File {
                    key: STORE_URL.into(),
                    path: p.clone(),
                    source,
                })?;
                Box::new(LocalStore::with_uring(p.clone(), self.io_uring))
            }
            StoreUrl::S3(settings) => Box::new(store::S3Store::connect(settings)?),
        };
        Ok(ParquetSinkTask {
            config: self.clone(),
            store,
            open: HashMap::new(),
            skip: HashMap::new(),
            held: Default::default(),
            writer_bytes: 0,
            files_written: 0,
        })
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Records of one file not yet committed: Arrow batches until the file's schema settles,
/// then Parquet pages encoded as records arrive (a fraction of the memory, touched once).
struct OpenFile {
    /// Batches not yet in the writer.
    batches: Vec<RecordBatch>,
    /// The file's writer and its schema, once `SETTLE_ROWS` rows set the schema.
    writer: Option<(ArrowWriter<Vec<u8>>, SchemaRef)>,
    offsets: Vec<i64>,
    rows: usize,
    /// Rows in `batches`.
    pending_rows: usize,
    /// Bytes of the batches' buffers (shared ones included) and of the writer, to pick the
    /// largest file.
    bytes: usize,
    /// Bytes the writer holds (encoded pages and its output so far).
    writer_bytes: usize,
    /// The batches' buffers, released from the task's count when they go.
    buffers: Vec<memory::BufferId>,
    /// Timestamp (extractor's) of the first record, for `rotate.interval.ms`.
    first_ts: i64,
    /// Wall-clock time at which `rotate.schedule.interval.ms` closes the file.
    deadline: Option<i64>,
    /// Whether the values carried a Connect schema (NONE compatibility rotates on change).
    schemaed: bool,
    /// The schema of the last chunk taken, as it came (the writer's schema has its
    /// top-level fields widened to nullable, so it cannot tell a change of schema).
    chunk_schema: Option<SchemaRef>,
}

/// Offsets of a partition already in committed files.
#[derive(Debug, Default)]
struct Skip {
    /// Every offset below this is committed (contiguous files).
    floor: i64,
    /// Committed offsets at or above `floor` (files of other encoded partitions).
    offsets: BTreeSet<i64>,
}

type FileKey = (TopicPartition, String);

fn parquet_error(path: &str, e: parquet::errors::ParquetError) -> ConnectorError {
    ConnectorError::Io {
        path: path.into(),
        source: std::io::Error::other(e.to_string()),
    }
}

impl OpenFile {
    /// Writes `batch` (conformed to the writer's schema) into the file's writer.
    fn write(&mut self, batch: &RecordBatch, path: &str) -> Result<()> {
        let Some((w, schema)) = self.writer.as_mut() else {
            // `settle` starts the writer first; never drop records quietly should it not.
            return Err(ConnectorError::Io {
                path: path.into(),
                source: std::io::Error::other("file has no writer"),
            });
        };
        let b = columns::conform(batch, schema).map_err(|e| ConnectorError::Io {
            path: path.into(),
            source: std::io::Error::other(e),
        })?;
        w.write(&b).map_err(|e| parquet_error(path, e))
    }

    /// Re-reads what the writer holds; returns it.
    fn refresh_bytes(&mut self) -> usize {
        self.writer_bytes = self
            .writer
            .as_ref()
            .map_or(0, |(w, _)| w.memory_size() + w.inner().capacity());
        self.writer_bytes
    }
}

/// A file's chunk of a batch shares the batch's buffers when it is at least this part of it
/// (1/8); smaller chunks copy their strings out.
const SHARE_MIN_PART: usize = 8;

/// Rows a file holds as Arrow batches before its schema is fixed and its rows are encoded as
/// they come: schemaless records widen the file's schema across these; a later record that
/// needs a wider schema starts a new file.
const SETTLE_ROWS: usize = 4096;

/// Bytes of dictionary per column chunk before the writer falls back to plain encoding.
const DICTIONARY_PAGE_LIMIT: usize = 64 << 10;

pub struct ParquetSinkTask {
    config: ParquetSinkConfig,
    store: Box<dyn Store>,
    open: HashMap<FileKey, OpenFile>,
    skip: HashMap<TopicPartition, Skip>,
    held: memory::HeldBuffers,
    /// Bytes held by all open files' writers.
    writer_bytes: usize,
    files_written: u64,
}

impl std::fmt::Debug for ParquetSinkTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetSinkTask")
            .field("open_files", &self.open.len())
            .field("store", &self.store.describe())
            .finish_non_exhaustive()
    }
}

fn encode_ranges(offsets: &[i64]) -> String {
    let mut sorted = offsets.to_vec();
    sorted.sort_unstable();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out.join(",")
}

fn decode_ranges(text: &str) -> Vec<(i64, i64)> {
    text.split(',')
        .filter_map(|r| match r.split_once('-') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => r.parse().ok().map(|n| (n, n)),
        })
        .collect()
}

impl ParquetSinkTask {
    fn topic_prefix(&self, topic: &str) -> String {
        format!(
            "{}{}{}",
            self.config.topics_dir, self.config.directory_delim, topic
        )
    }

    fn schedule_deadline(&self, now: i64) -> Option<i64> {
        let every = self.config.rotate_schedule_interval_ms;
        (every > 0).then(|| {
            let offset = self.config.zone.offset_ms(now);
            let local = now + offset;
            local - local.rem_euclid(every) + every - offset
        })
    }

    /// A writer for one file of `schema`.
    fn writer(&self, schema: SchemaRef, path: &str) -> Result<ArrowWriter<Vec<u8>>> {
        let props = WriterProperties::builder()
            .set_compression(self.config.codec)
            .set_max_row_group_row_count(Some(self.config.row_group_rows))
            // Columns of mostly distinct values (ids, timestamps, amounts, user names) fall
            // back to plain encoding after a small dictionary rather than hashing a
            // megabyte's worth of values first; low-cardinality columns fit well within it.
            .set_dictionary_page_size_limit(DICTIONARY_PAGE_LIMIT)
            .set_write_batch_size(8192)
            .build();
        ArrowWriter::try_new_with_options(
            Vec::new(),
            schema,
            // Plain Parquet logical types only (as Confluent's files): no embedded Arrow schema,
            // so every reader sees `string`, `timestamp[ms, UTC]`, ... not Arrow view types.
            parquet::arrow::arrow_writer::ArrowWriterOptions::new()
                .with_properties(props)
                .with_skip_arrow_metadata(true),
        )
        .map_err(|e| parquet_error(path, e))
    }

    /// Moves the file's held batches into its writer (started on their merged schema).
    fn settle(&mut self, key: &FileKey) -> Result<()> {
        let Some(file) = self.open.get(key) else {
            return Ok(());
        };
        let encoded = &key.1;
        let writer = match &file.writer {
            Some(_) => None,
            None => {
                let schemas: Vec<_> = file.batches.iter().map(RecordBatch::schema).collect();
                let schema =
                    columns::merge_schemas(&schemas).ok_or_else(|| ConnectorError::Io {
                        path: encoded.into(),
                        source: std::io::Error::other(
                            "batches of one file have incompatible schemas",
                        ),
                    })?;
                Some((self.writer(schema.clone(), encoded)?, schema))
            }
        };
        let Some(file) = self.open.get_mut(key) else {
            return Ok(());
        };
        if let Some(w) = writer {
            file.writer = Some(w);
        }
        let batches = std::mem::take(&mut file.batches);
        let buffers = std::mem::take(&mut file.buffers);
        file.pending_rows = 0;
        file.bytes = 0;
        for b in &batches {
            file.write(b, encoded)?;
        }
        self.held.release(&buffers);
        self.writer_bytes =
            self.writer_bytes.saturating_sub(file.writer_bytes) + file.refresh_bytes();
        Ok(())
    }

    /// Writes one open file as Parquet and commits it.
    fn commit(&mut self, key: &FileKey) -> Result<()> {
        if self.open.get(key).is_some_and(|f| f.rows > 0) {
            self.settle(key)?;
        }
        let Some(file) = self.open.remove(key) else {
            return Ok(());
        };
        self.held.release(&file.buffers);
        self.writer_bytes = self.writer_bytes.saturating_sub(file.writer_bytes);
        let Some((mut writer, _)) = file.writer else {
            return Ok(());
        };
        let ((topic, partition), encoded) = key;
        let start = file.offsets.iter().copied().min().unwrap_or(0);
        let end = file.offsets.iter().copied().max().unwrap_or(0);
        let name = file_name(
            topic,
            *partition,
            start,
            end,
            self.config.zero_pad,
            &self.config.file_delim,
        );
        let path = format!(
            "{}{d}{encoded}{d}{name}",
            self.topic_prefix(topic),
            d = self.config.directory_delim
        );
        writer.append_key_value_metadata(KeyValue::new(
            OFFSETS_KEY.to_string(),
            encode_ranges(&file.offsets),
        ));
        let buf = writer.into_inner().map_err(|e| parquet_error(&path, e))?;
        let size = buf.len();
        self.store.put(&path, buf)?;
        self.files_written += 1;
        tracing::debug!("committed {path}: {} rows, {size} bytes", file.rows);
        Ok(())
    }

    fn largest_open(&self) -> Option<FileKey> {
        self.open
            .iter()
            .max_by_key(|(_, f)| f.bytes + f.writer_bytes)
            .map(|(k, _)| k.clone())
    }

    fn timestamp_of(
        &self,
        batch: &SinkBatch<'_>,
        ts_field: Option<&FieldColumn<'_>>,
        row: usize,
        now: i64,
    ) -> std::result::Result<i64, PartitionError> {
        match self.config.partitioner.extractor() {
            None | Some(TimestampExtractor::Wallclock) => Ok(now),
            Some(TimestampExtractor::Record) => {
                let ts = batch.raw.timestamps();
                if ts.is_null(row) || ts.value(row) < 0 {
                    Err(PartitionError::NoRecordTimestamp)
                } else {
                    Ok(ts.value(row))
                }
            }
            Some(TimestampExtractor::RecordField(f)) => match ts_field.and_then(|c| c.get(row)) {
                Some(Value::I64(n)) | Some(Value::Date(n)) => Ok(n),
                Some(Value::I32(n)) => Ok(i64::from(n)),
                other => Err(PartitionError::TimestampField {
                    field: f.clone(),
                    value: format!("{other:?}"),
                }),
            },
        }
    }
}

/// Why a schema'd value is not in its typed column, in Kafka's words where Kafka has them.
fn misfit_reason(schema: &sluice_codecs::ConnectSchema, v: &Value) -> String {
    if sluice_codecs::columnar::decimal_scale_differs(schema, v) {
        "BigDecimal has mismatching scale value for given Decimal schema".to_string()
    } else {
        format!(
            "A value ({}) cannot be written as its schema's Parquet type: a string with an unpaired surrogate, or a value that does not match its schema",
            v.java_class()
        )
    }
}

impl SinkTask for ParquetSinkTask {
    fn class_name(&self) -> &'static str {
        "sluice.parquet.ParquetSinkTask"
    }

    fn put(&mut self, batch: &SinkBatch<'_>, errant: &mut ErrantRecords) -> Result<()> {
        let raw = batch.raw;
        let now = now_ms();
        let (partitions, offsets) = (raw.partitions(), raw.offsets());
        // Group rows by file, keeping offset order within each group. Keys are built once
        // per (topic, partition, encoded partition), not per record.
        let mut groups: Vec<(FileKey, Vec<u32>)> = Vec::new();
        let mut index: HashMap<(i32, i32, String), usize> = HashMap::new();
        let mut default_slots: Vec<(i32, i32, usize)> = Vec::new();
        let mut row_ts: Vec<i64> = vec![now; raw.num_rows()];
        let topic_keys = raw.topics().keys();
        let mut skip_of: Vec<(i32, i32, Option<&Skip>)> = Vec::new();
        // Decimals wider than their declared precision are errant (a file never holds a
        // cut value); found once per batch, column-wise.
        let value_field = match &batch.value.schema {
            Some(s) => sluice_codecs::model::arrow_map::arrow_field("value", s),
            None => {
                arrow::datatypes::Field::new("value", batch.value.array.data_type().clone(), true)
            }
        };
        let too_wide = types::precision_failures(&value_field, &batch.value.array);
        let mut too_wide = too_wide.into_iter().peekable();
        // The fields the partitioner and the timestamp extractor read, found in the value
        // column once per batch.
        let ts_field = match self.config.partitioner.extractor() {
            Some(TimestampExtractor::RecordField(f)) => Some(FieldColumn::resolve(batch.value, f)),
            _ => None,
        };
        let partition_fields: Vec<FieldColumn<'_>> = self
            .config
            .partitioner
            .field_names()
            .iter()
            .map(|f| FieldColumn::resolve(batch.value, f))
            .collect();
        for (row, ts_slot) in row_ts.iter_mut().enumerate() {
            let (topic_key, partition) = (topic_keys.value(row), partitions.value(row));
            let offset = offsets.value(row);
            let skip = match skip_of
                .iter()
                .find(|(t, p, _)| *t == topic_key && *p == partition)
            {
                Some((_, _, s)) => *s,
                None => {
                    let s = self.skip.get(&(raw.topic(row).to_string(), partition));
                    skip_of.push((topic_key, partition, s));
                    s
                }
            };
            if let Some(s) = skip
                && (offset < s.floor || s.offsets.contains(&offset))
            {
                continue; // already in a committed file
            }
            while too_wide.next_if(|(r, _)| *r < row).is_some() {}
            if let Some((_, message)) = too_wide.next_if(|(r, _)| *r == row) {
                errant.report(row, DATA_EXCEPTION, message);
                continue;
            }
            // A schema'd value the typed column could not hold (a decimal of another scale
            // than its schema's) fails as Confluent's AvroData fails it; it is never written
            // with an inferred type.
            if let (Some(schema), Some(v)) = (&batch.value.schema, batch.value.exact_value(row)) {
                errant.report(row, DATA_EXCEPTION, misfit_reason(schema, v));
                continue;
            }
            // A null value (a tombstone, or a value a transformation made null) never
            // reaches a file: it opens none and changes no open file's schema.
            if batch.value.is_null(row) {
                if self.config.null_behavior == NullBehavior::Fail {
                    errant.report(row, DATA_EXCEPTION, "Null valued records are not writeable with current behavior.on.null.values 'settings'.");
                }
                continue;
            }
            let ts = match self.timestamp_of(batch, ts_field.as_ref(), row, now) {
                Ok(t) => t,
                Err(e) => {
                    errant.report(row, DATA_EXCEPTION, e.to_string());
                    continue;
                }
            };
            *ts_slot = ts;
            let slot = if self.config.partitioner.is_default() {
                match default_slots
                    .iter()
                    .find(|(t, p, _)| *t == topic_key && *p == partition)
                {
                    Some((_, _, slot)) => *slot,
                    None => {
                        let key = (
                            (raw.topic(row).to_string(), partition),
                            format!("partition={partition}"),
                        );
                        groups.push((key, Vec::new()));
                        default_slots.push((topic_key, partition, groups.len() - 1));
                        groups.len() - 1
                    }
                }
            } else {
                let encoded = match self.config.partitioner.encode(
                    partition,
                    &|i| partition_fields.get(i).and_then(|c| c.get(row)),
                    ts,
                    &self.config.directory_delim,
                ) {
                    Ok(e) => e,
                    Err(e) => {
                        errant.report(
                            row,
                            "org.apache.kafka.connect.errors.PartitionException",
                            e.to_string(),
                        );
                        continue;
                    }
                };
                let k = (topic_key, partition, encoded);
                match index.get(&k) {
                    Some(slot) => *slot,
                    None => {
                        let key = ((raw.topic(row).to_string(), partition), k.2.clone());
                        groups.push((key, Vec::new()));
                        index.insert(k, groups.len() - 1);
                        groups.len() - 1
                    }
                }
            };
            groups[slot].1.push(row as u32);
        }
        if let Some(stop) = errant.stop_row() {
            // errors.tolerance=none: the task fails at that row; the rows before it are
            // taken as Kafka's put would have taken them, none after it.
            for (_, rows) in &mut groups {
                rows.retain(|&r| (r as usize) < stop);
            }
        }
        for (key, rows) in groups {
            let mut rest: &[u32] = &rows;
            while !rest.is_empty() {
                // Close the open file first when this chunk's schema or time says so.
                let first_ts = row_ts[rest[0] as usize];
                let room = self
                    .open
                    .get(&key)
                    .map_or(self.config.flush_size, |f| self.config.flush_size - f.rows);
                let mut take = rest.len().min(room);
                if self.config.rotate_interval_ms > 0 {
                    let start_ts = self.open.get(&key).map_or(first_ts, |f| f.first_ts);
                    if let Some(cut) = rest[..take].iter().position(|&r| {
                        row_ts[r as usize] - start_ts >= self.config.rotate_interval_ms
                    }) {
                        if cut == 0 {
                            self.commit(&key)?;
                            continue;
                        }
                        take = cut;
                    }
                }
                let chunk = &rest[..take];
                // A chunk that is a small part of the batch gets its own copy of its strings
                // (see `columns::compact`); large ones share the fetched bytes.
                let share = chunk.len() * SHARE_MIN_PART >= raw.num_rows();
                let values = columns::value_batch(batch.value, chunk, share)
                    .and_then(|v| if share { Ok(v) } else { columns::compact(&v) })
                    .map_err(|e| ConnectorError::Io {
                        path: key.1.clone().into(),
                        source: std::io::Error::other(e),
                    })?;
                let schemaed = batch.value.schema.is_some();
                if let Some(f) = self.open.get(&key) {
                    let current = match &f.writer {
                        Some((_, schema)) => Some(schema.clone()),
                        None => f.batches.last().map(RecordBatch::schema),
                    };
                    let changed = f
                        .chunk_schema
                        .as_ref()
                        .is_some_and(|s| s.as_ref() != values.schema().as_ref());
                    let merged = current
                        .as_ref()
                        .and_then(|c| columns::merge_schemas(&[c.clone(), values.schema()]));
                    // A written file's schema is fixed: records that need a wider one start
                    // the next file.
                    let widens = f.writer.is_some()
                        && merged.as_ref().is_some_and(|m| {
                            current.as_ref().is_some_and(|c| m.as_ref() != c.as_ref())
                        });
                    let rotate = changed
                        && ((self.config.compatibility == Compatibility::None
                            && (schemaed || f.schemaed))
                            || merged.is_none()
                            || widens);
                    if rotate {
                        self.commit(&key)?;
                        continue;
                    }
                }
                let deadline = self.schedule_deadline(now);
                let file = self.open.entry(key.clone()).or_insert_with(|| OpenFile {
                    batches: Vec::new(),
                    writer: None,
                    offsets: Vec::new(),
                    rows: 0,
                    pending_rows: 0,
                    bytes: 0,
                    writer_bytes: 0,
                    buffers: Vec::new(),
                    first_ts,
                    deadline,
                    schemaed,
                    chunk_schema: None,
                });
                file.chunk_schema = Some(values.schema());
                file.offsets
                    .extend(chunk.iter().map(|&r| offsets.value(r as usize)));
                file.rows += chunk.len();
                file.pending_rows += chunk.len();
                let buffers = memory::buffers_of(&values);
                file.bytes += buffers.iter().map(|b| b.1).sum::<usize>();
                self.held.hold(&buffers);
                file.buffers.extend(buffers);
                file.batches.push(values);
                if file.pending_rows >= SETTLE_ROWS {
                    self.settle(&key)?;
                }
                if self
                    .open
                    .get(&key)
                    .is_some_and(|f| f.rows >= self.config.flush_size)
                {
                    self.commit(&key)?;
                }
                rest = &rest[take..];
            }
        }
        // Memory is bounded whatever the number of open files: flush the largest.
        while self.held.total() + self.writer_bytes > self.config.memory_budget {
            let Some(key) = self.largest_open() else {
                break;
            };
            self.commit(&key)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    fn tick(&mut self) -> Result<()> {
        if self.config.rotate_schedule_interval_ms <= 0 {
            return Ok(());
        }
        let now = now_ms();
        let due: Vec<FileKey> = self
            .open
            .iter()
            .filter(|(_, f)| f.deadline.is_some_and(|d| d <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            self.commit(&key)?;
        }
        Ok(())
    }

    fn pre_commit(
        &mut self,
        offsets: &HashMap<TopicPartition, i64>,
    ) -> Result<HashMap<TopicPartition, i64>> {
        let mut out = offsets.clone();
        for ((tp, _), f) in &self.open {
            if let Some(first) = f.offsets.iter().min()
                && let Some(slot) = out.get_mut(tp)
            {
                *slot = (*slot).min(*first);
            }
        }
        Ok(out)
    }

    fn open(
        &mut self,
        partitions: &[(TopicPartition, Option<i64>)],
    ) -> Result<Vec<(TopicPartition, i64)>> {
        let mut seeks = Vec::new();
        let mut listed: HashMap<String, Vec<String>> = HashMap::new();
        for ((topic, partition), committed) in partitions {
            let prefix = self.topic_prefix(topic);
            if !listed.contains_key(topic) {
                let removed = self.store.remove_temp(&prefix)?;
                if removed > 0 {
                    tracing::info!("removed {removed} uncommitted temp file(s) under {prefix}");
                }
                listed.insert(topic.clone(), self.store.list(&prefix)?);
            }
            let mut files: Vec<(i64, i64, &String)> = listed[topic]
                .iter()
                .filter_map(|k| {
                    let name = k.rsplit('/').next()?;
                    let (p, s, e) = parse_file_name(name, topic, &self.config.file_delim)?;
                    (p == *partition).then_some((s, e, k))
                })
                .collect();
            files.sort();
            let mut skip = Skip::default();
            if self.config.partitioner.is_default() {
                // One file at a time per partition: committed files are contiguous.
                skip.floor = files.iter().map(|(_, e, _)| e + 1).max().unwrap_or(0);
                if skip.floor > committed.unwrap_or(0) {
                    seeks.push(((topic.clone(), *partition), skip.floor));
                }
            } else {
                let from = committed.unwrap_or(0);
                skip.floor = from;
                for (_, e, key) in files.iter().filter(|(_, e, _)| *e >= from) {
                    let _ = e;
                    let bytes = bytes::Bytes::from(self.store.read(key)?);
                    let reader = parquet::file::serialized_reader::SerializedFileReader::new(bytes)
                        .map_err(|e| ConnectorError::Io {
                            path: (*key).clone().into(),
                            source: std::io::Error::other(e.to_string()),
                        })?;
                    let meta = parquet::file::reader::FileReader::metadata(&reader);
                    let ranges = meta
                        .file_metadata()
                        .key_value_metadata()
                        .and_then(|kv| kv.iter().find(|k| k.key == OFFSETS_KEY))
                        .and_then(|k| k.value.clone())
                        .unwrap_or_default();
                    for (a, b) in decode_ranges(&ranges) {
                        skip.offsets.extend(a.max(from)..=b);
                    }
                }
            }
            tracing::info!(
                "{topic}-{partition}: {} committed file(s); resuming after offset {}",
                files.len(),
                skip.floor
                    .max(skip.offsets.iter().next_back().map_or(0, |o| o + 1))
                    - 1
            );
            self.skip.insert((topic.clone(), *partition), skip);
        }
        Ok(seeks)
    }

    fn close(&mut self, partitions: &[TopicPartition]) -> Result<()> {
        let keys: Vec<FileKey> = self
            .open
            .keys()
            .filter(|(tp, _)| partitions.contains(tp))
            .cloned()
            .collect();
        for k in keys {
            if let Some(f) = self.open.remove(&k) {
                self.held.release(&f.buffers);
                self.writer_bytes = self.writer_bytes.saturating_sub(f.writer_bytes);
            }
        }
        for tp in partitions {
            self.skip.remove(tp);
        }
        Ok(())
    }

    fn stop(&mut self) -> Result<()> {
        // Open files are dropped, not committed: their records are above the committed
        // offsets and are read again, so files keep their configured size.
        self.open.clear();
        self.held = Default::default();
        self.writer_bytes = 0;
        Ok(())
    }
}

impl ParquetSinkTask {
    /// How many files this task has committed.
    pub fn files_written(&self) -> u64 {
        self.files_written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_ranges_round_trip() {
        assert_eq!(encode_ranges(&[5, 1, 2, 3, 9]), "1-3,5,9");
        assert_eq!(decode_ranges("1-3,5,9"), vec![(1, 3), (5, 5), (9, 9)]);
    }
}

#[cfg(test)]
mod task_tests {
    use super::*;
    use arrow::array::AsArray;
    use arrow::datatypes::DataType;
    use sluice_codecs::{ConverterConfig, ConverterRole, RawBatchBuilder};

    #[test]
    fn a_non_english_locale_is_refused_only_where_path_format_has_names() {
        let dir = tempfile::tempdir().unwrap();
        let time = |format: &str, locale: &str| {
            props(
                &[
                    ("partitioner.class", "TimeBasedPartitioner"),
                    ("path.format", format),
                    ("partition.duration.ms", "3600000"),
                    ("timezone", "UTC"),
                    ("flush.size", "10"),
                    ("locale", locale),
                ],
                dir.path(),
            )
        };
        let Err(err) = ParquetSinkConfig::parse(&time("'month'=MMM", "de_DE")) else {
            panic!("German month names are refused");
        };
        assert!(err.to_string().contains("locale"), "{err}");
        for (format, locale) in [
            ("'month'=MMM", "en_US"),
            ("'month'=MMM", "en"),
            ("'year'=YYYY/'month'=MM", "de_DE"),
        ] {
            assert!(
                ParquetSinkConfig::parse(&time(format, locale)).is_ok(),
                "{format} {locale}"
            );
        }
    }

    fn props(kv: &[(&str, &str)], dir: &std::path::Path) -> HashMap<String, String> {
        let mut p: HashMap<String, String> = kv
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        p.insert("store.url".into(), format!("file://{}", dir.display()));
        p
    }

    /// Puts `values` (JSON, schemaless) as records of `orders` partition 1 from offset 100,
    /// with record timestamps 2024-01-01T13:45:00Z + i minutes.
    fn put(task: &mut ParquetSinkTask, values: &[&str]) -> ErrantRecords {
        put_from(task, 100, values)
    }

    /// [`put`] with the first record at `first_offset`.
    fn put_from(task: &mut ParquetSinkTask, first_offset: i64, values: &[&str]) -> ErrantRecords {
        let (raw, decoded) = orders_batch(
            values,
            first_offset,
            |i| 1_704_116_700_000 + i as i64 * 60_000,
            false,
        );
        let value = decoded.runs[0].column.clone();
        let key = sluice_codecs::ConnectColumn::nulls(raw.num_rows());
        let mut errant = ErrantRecords::default();
        task.put(
            &SinkBatch {
                raw: &raw,
                key: &key,
                value: &value,
            },
            &mut errant,
        )
        .unwrap();
        errant
    }

    /// `values` as records of `orders` partition 1 from `first_offset`, the `i`th stamped
    /// `timestamp(i)`, with their values decoded by JsonConverter (`schemas.enable=schemas`).
    fn orders_batch(
        values: &[&str],
        first_offset: i64,
        timestamp: impl Fn(usize) -> i64,
        schemas: bool,
    ) -> (sluice_codecs::RawBatch, sluice_codecs::converter::Decoded) {
        let mut b = RawBatchBuilder::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            b.append(
                "orders",
                1,
                first_offset + i as i64,
                Some(timestamp(i)),
                0,
                None,
                Some(v.as_bytes()),
                std::iter::empty(),
            );
        }
        let raw = b.finish();
        let json = HashMap::from([("schemas.enable".to_string(), schemas.to_string())]);
        let mut conv = ConverterConfig::parse(
            "value.converter",
            "JsonConverter",
            &json,
            ConverterRole::Value,
        )
        .unwrap()
        .build();
        let decoded = conv.decode(raw.values());
        (raw, decoded)
    }

    fn files(dir: &std::path::Path) -> Vec<String> {
        let mut out = LocalStore::new(dir.to_path_buf()).list("").unwrap();
        out.sort();
        out
    }

    #[test]
    fn memory_budget_counts_shared_buffers_once_and_flushes_the_largest() {
        let rows: Vec<String> = (0..40)
            .map(|i| {
                format!(
                    r#"{{"country":"C{}","note":"a note long enough to live in a data buffer {i}"}}"#,
                    i % 4
                )
            })
            .collect();
        let values: Vec<&str> = rows.iter().map(String::as_str).collect();
        let dir = tempfile::tempdir().unwrap();
        let field = [
            (
                "partitioner.class",
                "io.confluent.connect.storage.partitioner.FieldPartitioner",
            ),
            ("partition.field.name", "country"),
            ("flush.size", "1000"),
        ];
        let mut task = ParquetSinkConfig::parse(&props(&field, dir.path()))
            .unwrap()
            .build()
            .unwrap();
        put(&mut task, &values);
        assert_eq!(task.open.len(), 4);
        assert!(files(dir.path()).is_empty());
        // Four chunks, each with string columns on the decoded batch's shared buffers.
        let per_column: usize = task
            .open
            .values()
            .flat_map(|f| &f.batches)
            .map(RecordBatch::get_array_memory_size)
            .sum();
        let held = task.held.total();
        assert!(
            held > 0 && held < per_column,
            "held {held} vs {per_column} counted per column"
        );
        // Over budget: the largest files are committed until the rest fits.
        let mut tight = props(&field, dir.path());
        tight.insert("memory.budget.bytes".into(), "1".into());
        let mut task = ParquetSinkConfig::parse(&tight).unwrap().build().unwrap();
        put_from(&mut task, 200, &values);
        assert!(task.open.is_empty());
        assert_eq!(task.held.total(), 0);
        assert_eq!(files(dir.path()).len(), 4);
        // Many small chunks (here 20 files of 2 rows): each copies its strings out, so no
        // file keeps the whole batch's input alive.
        let rows: Vec<String> = (0..40)
            .map(|i| format!(r#"{{"country":"C{}","note":"{}"}}"#, i % 20, "x".repeat(40)))
            .collect();
        let values: Vec<&str> = rows.iter().map(String::as_str).collect();
        let mut task = ParquetSinkConfig::parse(&props(&field, dir.path()))
            .unwrap()
            .build()
            .unwrap();
        put_from(&mut task, 300, &values);
        assert_eq!(task.open.len(), 20);
        let mut seen = std::collections::HashSet::new();
        for f in task.open.values() {
            for b in f.batches.iter().flat_map(memory::buffers_of) {
                assert!(seen.insert(b.0), "a buffer shared between small chunks");
            }
        }
    }

    #[test]
    fn files_encode_once_settled_and_a_wider_record_starts_the_next_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut task = ParquetSinkConfig::parse(&props(&[("flush.size", "100000")], dir.path()))
            .unwrap()
            .build()
            .unwrap();
        // Early batches widen the file's schema as they come.
        put_from(&mut task, 0, &[r#"{"a":1}"#, r#"{"a":2,"b":"x"}"#]);
        let rows: Vec<String> = (2..5000).map(|i| format!(r#"{{"a":{i}}}"#)).collect();
        let values: Vec<&str> = rows.iter().map(String::as_str).collect();
        put_from(&mut task, 2, &values);
        let file = task.open.values().next().unwrap();
        assert!(file.batches.is_empty() && file.writer.is_some(), "settled");
        assert_eq!(task.held.total(), 0, "no Arrow batches held once settled");
        assert!(task.writer_bytes > 0);
        // Narrower records go on into the same file; a wider one starts the next.
        put_from(&mut task, 5000, &[r#"{"a":5000}"#]);
        assert!(files(dir.path()).is_empty());
        put_from(&mut task, 5001, &[r#"{"a":5001,"c":true}"#]);
        assert_eq!(
            files(dir.path()),
            vec!["topics/orders/partition=1/orders+1+0000000000+0000005000.parquet"]
        );
        task.flush().unwrap();
        let file = std::fs::File::open(
            dir.path()
                .join("topics/orders/partition=1/orders+1+0000000000+0000005000.parquet"),
        )
        .unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
        assert_eq!(
            batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
            5001
        );
        let names: Vec<String> = batches[0]
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn partitioner_paths_and_names_match_confluent() {
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
        let cases: [Case<'_>; 5] = [
            (
                &[],
                &["topics/orders/partition=1/orders+1+0000000100+0000000101.parquet"],
            ),
            (
                &[
                    (
                        "partitioner.class",
                        "io.confluent.connect.storage.partitioner.FieldPartitioner",
                    ),
                    ("partition.field.name", "country"),
                ],
                &[
                    "topics/orders/country=DE/orders+1+0000000100+0000000100.parquet",
                    "topics/orders/country=FR/orders+1+0000000101+0000000101.parquet",
                ],
            ),
            (
                &[
                    (
                        "partitioner.class",
                        "io.confluent.connect.storage.partitioner.DailyPartitioner",
                    ),
                    ("timezone", "UTC"),
                    ("timestamp.extractor", "Record"),
                ],
                &[
                    "topics/orders/year=2024/month=01/day=01/orders+1+0000000100+0000000100.parquet",
                    "topics/orders/year=2024/month=01/day=01/orders+1+0000000101+0000000101.parquet",
                ],
            ),
            (
                &[
                    (
                        "partitioner.class",
                        "io.confluent.connect.storage.partitioner.HourlyPartitioner",
                    ),
                    ("timezone", "UTC"),
                    ("timestamp.extractor", "Record"),
                    ("topics.dir", "out"),
                ],
                &[
                    "out/orders/year=2024/month=01/day=01/hour=13/orders+1+0000000100+0000000100.parquet",
                    "out/orders/year=2024/month=01/day=01/hour=13/orders+1+0000000101+0000000101.parquet",
                ],
            ),
            (
                &[
                    (
                        "partitioner.class",
                        "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
                    ),
                    ("path.format", "'dt'=YYYY-MM-dd/'hm'=HHmm"),
                    ("partition.duration.ms", "60000"),
                    ("timezone", "UTC"),
                    ("timestamp.extractor", "Record"),
                    ("filename.offset.zero.pad.width", "4"),
                ],
                &[
                    "topics/orders/dt=2024-01-01/hm=1345/orders+1+0100+0100.parquet",
                    "topics/orders/dt=2024-01-01/hm=1346/orders+1+0101+0101.parquet",
                ],
            ),
        ];
        for (kv, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            let mut p = props(kv, dir.path());
            p.insert("flush.size".into(), "1".into());
            let mut task = ParquetSinkConfig::parse(&p).unwrap().build().unwrap();
            // flush.size=1 commits every record; Default gets 2 to show a range.
            if kv.is_empty() {
                task.config.flush_size = 2;
            }
            let errant = put(
                &mut task,
                &[r#"{"id":1,"country":"DE"}"#, r#"{"id":2,"country":"FR"}"#],
            );
            assert!(errant.is_empty(), "{errant:?}");
            assert_eq!(files(dir.path()), expected, "{kv:?}");
        }
    }

    #[test]
    fn scheduled_rotation_fires_without_new_records() {
        let dir = tempfile::tempdir().unwrap();
        let p = props(
            &[
                ("flush.size", "1000"),
                ("rotate.schedule.interval.ms", "1000"),
                ("timezone", "UTC"),
            ],
            dir.path(),
        );
        let mut task = ParquetSinkConfig::parse(&p).unwrap().build().unwrap();
        put(&mut task, &[r#"{"id":1}"#, r#"{"id":2}"#]);
        let deadline = task.open.values().next().unwrap().deadline.unwrap();
        assert!(
            deadline - now_ms() <= 1000,
            "closes at the next interval boundary"
        );
        task.tick().unwrap();
        if now_ms() < deadline {
            assert!(files(dir.path()).is_empty(), "not before the boundary");
        }
        while now_ms() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        task.tick().unwrap();
        assert_eq!(files(dir.path()).len(), 1, "rotated by the schedule alone");
    }

    #[test]
    fn recovery_skips_offsets_already_committed() {
        let dir = tempfile::tempdir().unwrap();
        let p = props(
            &[
                ("flush.size", "2"),
                ("partitioner.class", "FieldPartitioner"),
                ("partition.field.name", "country"),
            ],
            dir.path(),
        );
        let mut task = ParquetSinkConfig::parse(&p).unwrap().build().unwrap();
        // DE: 100, 102 → committed; FR: 101 stays open, then the task dies.
        put(
            &mut task,
            &[
                r#"{"c":1,"country":"DE"}"#,
                r#"{"c":2,"country":"FR"}"#,
                r#"{"c":3,"country":"DE"}"#,
            ],
        );
        assert_eq!(files(dir.path()).len(), 1);
        assert_eq!(
            task.pre_commit(&HashMap::from([(("orders".to_string(), 1), 103)]))
                .unwrap()[&("orders".to_string(), 1)],
            101
        );
        drop(task);
        // A new task resumes from the committed offset 101 and gets 101..103 again.
        let mut task = ParquetSinkConfig::parse(&p).unwrap().build().unwrap();
        task.open(&[(("orders".to_string(), 1), Some(101))])
            .unwrap();
        put_from(
            &mut task,
            101,
            &[r#"{"c":2,"country":"FR"}"#, r#"{"c":3,"country":"DE"}"#],
        );
        let open: Vec<_> = task.open.values().flat_map(|f| f.offsets.clone()).collect();
        assert_eq!(open, vec![101], "102 is already in a committed file");
    }

    /// The path the P1 benchmark takes (the standard event, schemaless and as envelopes,
    /// JsonConverter into Parquet), under each partitioner and timestamp extractor that reads
    /// the value: no row is read out of the columns as a whole Connect value.
    #[test]
    fn standard_events_reach_files_without_a_value_per_row() {
        let mut events = sluice_codecs::events::OrderEvents::new();
        let (mut plain, mut envelopes) = (Vec::new(), Vec::new());
        for _ in 0..2_000 {
            let mut line = Vec::new();
            events.write_next(&mut line);
            plain.push(String::from_utf8(line).unwrap());
            let mut line = Vec::new();
            events.write_next_envelope(&mut line);
            envelopes.push(String::from_utf8(line).unwrap());
        }
        let field = [
            ("partitioner.class", "FieldPartitioner"),
            ("partition.field.name", "country,device.os,flag"),
        ];
        let time = [
            ("partitioner.class", "TimeBasedPartitioner"),
            ("path.format", "'day'=yyyy-MM-dd/'hour'=HH"),
            ("partition.duration.ms", "3600000"),
            ("timezone", "UTC"),
            ("timestamp.extractor", "RecordField"),
            ("timestamp.field", "ts"),
        ];
        for (label, kv) in [
            ("default", &[][..]),
            ("field", &field[..]),
            ("time", &time[..]),
        ] {
            for (schemas, lines) in [(false, &plain), (true, &envelopes)] {
                let mut kv = kv.to_vec();
                kv.push(("flush.size", "10"));
                let (dir, mut task) = task_with(&kv);
                let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
                let (raw, decoded) = orders_batch(&lines, 0, |_| 1, schemas);
                assert_eq!(decoded.runs.len(), 1, "{label}");
                let value = &decoded.runs[0].column;
                assert!(
                    value.exact.is_empty(),
                    "{label}: every event is on the typed path"
                );
                let key = sluice_codecs::ConnectColumn::nulls(raw.num_rows());
                let before = sluice_codecs::model::column::rows_materialized();
                let mut errant = ErrantRecords::default();
                task.put(
                    &SinkBatch {
                        raw: &raw,
                        key: &key,
                        value,
                    },
                    &mut errant,
                )
                .unwrap();
                task.flush().unwrap();
                let read = sluice_codecs::model::column::rows_materialized() - before;
                assert!(errant.rows.is_empty(), "{label}: {:?}", errant.rows);
                assert_eq!(read, 0, "{label} schemas={schemas}: rows read as values");
                let written: usize = files(dir.path())
                    .iter()
                    .map(|f| {
                        let file = std::fs::File::open(dir.path().join(f)).unwrap();
                        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                            .unwrap()
                            .build()
                            .unwrap()
                            .map(|b| b.unwrap().num_rows())
                            .sum::<usize>()
                    })
                    .sum();
                let open: usize = task.open.values().map(|f| f.rows).sum();
                assert!(
                    written > 0,
                    "{label}: files were committed: {:?} open {:?}",
                    files(dir.path()),
                    task.open.keys().take(3).collect::<Vec<_>>()
                );
                assert_eq!(written + open, lines.len(), "{label} schemas={schemas}");
                if label != "default" {
                    assert!(
                        files(dir.path()).len() > 4,
                        "{label}: {:?}",
                        files(dir.path())
                    );
                }
            }
        }
    }

    /// A task writing under a fresh temp directory with `kv` on top of `store.url`.
    fn task_with(kv: &[(&str, &str)]) -> (tempfile::TempDir, ParquetSinkTask) {
        let dir = tempfile::tempdir().unwrap();
        let task = ParquetSinkConfig::parse(&props(kv, dir.path()))
            .unwrap()
            .build()
            .unwrap();
        (dir, task)
    }

    /// Puts envelope values (`None`: a tombstone) as records of `orders` partition 1 from
    /// offset 0, each run of one schema as its own segment, as the sink runtime hands them.
    fn put_envelopes(
        task: &mut ParquetSinkTask,
        values: &[Option<String>],
        stop_at_first: bool,
    ) -> ErrantRecords {
        let mut b = RawBatchBuilder::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            b.append(
                "orders",
                1,
                i as i64,
                Some(1_704_116_700_000),
                0,
                None,
                v.as_deref().map(str::as_bytes),
                std::iter::empty(),
            );
        }
        let raw = b.finish();
        let mut conv = ConverterConfig::parse(
            "value.converter",
            "JsonConverter",
            &HashMap::new(),
            ConverterRole::Value,
        )
        .unwrap()
        .build();
        let decoded = conv.decode(raw.values());
        assert!(decoded.failures.is_empty());
        let mut errant = ErrantRecords {
            stop_at_first,
            ..ErrantRecords::default()
        };
        for (i, run) in decoded.runs.iter().enumerate() {
            let end = decoded.runs.get(i + 1).map_or(raw.num_rows(), |r| r.start);
            let seg = raw.slice(run.start, end - run.start);
            let key = sluice_codecs::ConnectColumn::nulls(seg.num_rows());
            let mut seg_errant = ErrantRecords {
                stop_at_first,
                ..ErrantRecords::default()
            };
            task.put(
                &SinkBatch {
                    raw: &seg,
                    key: &key,
                    value: &run.column,
                },
                &mut seg_errant,
            )
            .unwrap();
            let failed = !seg_errant.is_empty();
            errant.rows.extend(seg_errant.rows.into_iter().map(|mut r| {
                r.row += run.start;
                r
            }));
            if failed && stop_at_first {
                break;
            }
        }
        errant
    }

    const DEC_SCHEMA: &str = r#"{"type":"struct","fields":[{"type":"int16","optional":false,"field":"id"},{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"12"},"field":"price"}],"optional":false,"name":"t.Value"}"#;

    /// A change event with decimal `price` (unscaled `cents`, base64 big-endian bytes).
    fn dec_envelope(id: i16, cents: i64) -> String {
        // Minimal two's complement, as Java's BigInteger.toByteArray writes it.
        let bytes = cents.to_be_bytes();
        let skip = (0..7)
            .take_while(|&i| {
                (bytes[i] == 0 && bytes[i + 1] < 0x80) || (bytes[i] == 0xFF && bytes[i + 1] >= 0x80)
            })
            .count();
        let mut b64 = Vec::new();
        sluice_codecs::json::connect::base64_encode(&bytes[skip..], &mut b64);
        format!(
            r#"{{"schema":{DEC_SCHEMA},"payload":{{"id":{id},"price":"{}"}}}}"#,
            String::from_utf8(b64).unwrap()
        )
    }

    fn read_back(dir: &std::path::Path) -> Vec<RecordBatch> {
        files(dir)
            .iter()
            .map(|f| {
                let bytes = bytes::Bytes::from(std::fs::read(dir.join(f)).unwrap());
                let mut reader =
                    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
                        .unwrap()
                        .build()
                        .unwrap();
                reader.next().unwrap().unwrap()
            })
            .collect()
    }

    #[test]
    fn tombstones_open_no_file_and_keep_the_files_schema_under_ignore() {
        let (dir, mut task) =
            task_with(&[("flush.size", "4"), ("behavior.on.null.values", "ignore")]);
        // Each delete event is followed by its tombstone, as Debezium writes them.
        let mut values = Vec::new();
        for i in 0..8i16 {
            values.push(Some(dec_envelope(i, 1000 * i64::from(i) + 5)));
            if i % 2 == 1 {
                values.push(None);
            }
        }
        let errant = put_envelopes(&mut task, &values, false);
        assert!(errant.is_empty());
        // 8 change events, flush.size 4: two files, the tombstones in neither.
        let batches = read_back(dir.path());
        assert_eq!(batches.len(), 2, "{:?}", files(dir.path()));
        for b in &batches {
            assert_eq!(b.num_rows(), 4);
            let schema = b.schema();
            assert_eq!(schema.fields().len(), 2);
            assert_eq!(schema.field(0).data_type(), &DataType::Int16);
            assert_eq!(schema.field(1).data_type(), &DataType::Decimal128(12, 2));
        }
        let prices = batches[1]
            .column(1)
            .as_primitive::<arrow::datatypes::Decimal128Type>();
        assert_eq!(prices.value(3), 7005);
    }

    #[test]
    fn a_file_past_its_settled_schema_keeps_filling_across_tombstones() {
        let (dir, mut task) = task_with(&[
            ("flush.size", "9000"),
            ("behavior.on.null.values", "ignore"),
        ]);
        // Three runs of 3,000 change events split by tombstones: the file's schema settles
        // (SETTLE_ROWS) during the second, and the third must still go into the same file.
        let mut values = Vec::new();
        for run in 0..3i16 {
            values.extend((0..3000).map(|i| Some(dec_envelope(run, i))));
            values.push(None);
        }
        assert!(put_envelopes(&mut task, &values, false).is_empty());
        // One file of all 9,000 events (offsets 0..=9001, tombstones between), none open.
        assert_eq!(
            files(dir.path()),
            vec!["topics/orders/partition=1/orders+1+0000000000+0000009001.parquet"]
        );
        assert!(task.open.is_empty());
        let batches = read_back(dir.path());
        assert_eq!(
            batches[0].schema().field(1).data_type(),
            &DataType::Decimal128(12, 2)
        );
    }

    #[test]
    fn a_decimal_of_another_scale_is_errant_and_the_rest_keep_their_types() {
        let (dir, mut task) = task_with(&[("flush.size", "2")]);
        // A numeric decimal keeps the scale of its text (Kafka's JsonConverter), 3 here
        // against the schema's 2; Confluent's AvroData fails such a record.
        let numeric = format!(r#"{{"schema":{DEC_SCHEMA},"payload":{{"id":9,"price":1.234}}}}"#);
        let values = vec![
            Some(dec_envelope(0, 100)),
            Some(numeric),
            Some(dec_envelope(2, 300)),
        ];
        let errant = put_envelopes(&mut task, &values, false);
        assert_eq!(errant.rows.len(), 1);
        assert_eq!(errant.rows[0].row, 1);
        assert_eq!(
            errant.rows[0].message,
            "BigDecimal has mismatching scale value for given Decimal schema"
        );
        let batches = read_back(dir.path());
        assert_eq!(batches.len(), 1);
        let schema = batches[0].schema();
        assert_eq!(schema.field(0).data_type(), &DataType::Int16);
        assert_eq!(schema.field(1).data_type(), &DataType::Decimal128(12, 2));
        let prices = batches[0]
            .column(1)
            .as_primitive::<arrow::datatypes::Decimal128Type>();
        assert_eq!((prices.value(0), prices.value(1)), (100, 300));
    }

    #[test]
    fn a_null_under_fail_stops_the_batch_at_that_record() {
        let (dir, mut task) = task_with(&[("flush.size", "2")]);
        let values = vec![
            Some(dec_envelope(0, 1)),
            Some(dec_envelope(1, 2)),
            Some(dec_envelope(2, 3)),
            None,
            Some(dec_envelope(3, 4)),
            Some(dec_envelope(4, 5)),
        ];
        let errant = put_envelopes(&mut task, &values, true);
        assert_eq!(errant.rows.len(), 1);
        assert_eq!(errant.rows[0].row, 3);
        assert_eq!(
            errant.rows[0].message,
            "Null valued records are not writeable with current behavior.on.null.values 'settings'."
        );
        // Offsets 0-1 filled a file; 2 is open; nothing at or after the null was taken.
        assert_eq!(
            files(dir.path()),
            vec!["topics/orders/partition=1/orders+1+0000000000+0000000001.parquet"]
        );
        let open: Vec<_> = task.open.values().flat_map(|f| f.offsets.clone()).collect();
        assert_eq!(open, vec![2]);
    }

    #[test]
    fn a_decimal_wider_than_its_precision_is_errant_not_cut() {
        let (dir, mut task) = task_with(&[("flush.size", "2")]);
        // 10^12 cents = 10^10 units: 13 digits in all, over precision 12.
        let values = vec![
            Some(dec_envelope(0, 99_999_999_999)),
            Some(dec_envelope(1, 1_000_000_000_000)),
            Some(dec_envelope(2, -7)),
        ];
        let errant = put_envelopes(&mut task, &values, false);
        assert_eq!(errant.rows.len(), 1);
        assert_eq!(errant.rows[0].row, 1);
        assert!(
            errant.rows[0].message.contains("precision 12"),
            "{}",
            errant.rows[0].message
        );
        let batches = read_back(dir.path());
        let prices = batches[0]
            .column(1)
            .as_primitive::<arrow::datatypes::Decimal128Type>();
        assert_eq!((prices.value(0), prices.value(1)), (99_999_999_999, -7));
    }
}
