//! `FileStreamSource` and `FileStreamSink`, Kafka's quickstart connectors, with Kafka's keys:
//! the source reads lines of `file` (stdin when unset) into `topic`, `batch.size` lines per
//! poll, and stores `{"filename": F}` → `{"position": byte offset}`; the sink appends each
//! record value's `toString()` and a newline to `file` (stdout when unset).
//!
//! The source reads the file in large chunks into one buffer that becomes an Arrow data
//! block; each line is a string view into it, so a line's bytes are copied only by `read`.

use crate::config_def::{ConfigKey, config_key};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{Array, StringViewBuilder};
use arrow::buffer::Buffer;
use serde_json::{Map, Value};
use sluice_codecs::{ConnectColumn, ConnectSchema};

use crate::task::{ErrantRecords, OffsetReader, SinkBatch, SinkTask, SourceBatch, SourceTask};
use crate::{ConnectorError, Result};

pub const FILE_CONFIG: &str = "file";
pub const TOPIC_CONFIG: &str = "topic";
pub const BATCH_SIZE_CONFIG: &str = "batch.size";

/// FileStreamSinkConnector's `CONFIG_DEF`.
pub const SINK_CONFIG_DEF: &[ConfigKey] = &[config_key(
    FILE_CONFIG,
    "STRING",
    false,
    None,
    "HIGH",
    "Destination filename. If not specified, the standard output will be used",
    None,
    -1,
    "NONE",
    "file",
)];

/// FileStreamSourceConnector's `CONFIG_DEF`.
pub const SOURCE_CONFIG_DEF: &[ConfigKey] = &[
    config_key(
        FILE_CONFIG,
        "STRING",
        false,
        None,
        "HIGH",
        "Source filename. If not specified, the standard input will be used",
        None,
        -1,
        "NONE",
        "file",
    ),
    config_key(
        TOPIC_CONFIG,
        "LIST",
        false,
        None,
        "HIGH",
        "The topic to publish data to",
        None,
        -1,
        "NONE",
        "topic",
    ),
    config_key(
        BATCH_SIZE_CONFIG,
        "INT",
        false,
        Some("2000"),
        "LOW",
        "The maximum number of records the source task can read from the file each time it is polled",
        None,
        -1,
        "NONE",
        "batch.size",
    ),
];
const DEFAULT_BATCH_SIZE: usize = 2000;
const FILENAME_FIELD: &str = "filename";
const POSITION_FIELD: &str = "position";
/// Bytes read per `read` call; large reads keep syscalls per line low.
const READ_CHUNK: usize = 1 << 20;

fn non_empty(props: &HashMap<String, String>, key: &str) -> Option<String> {
    props
        .get(key)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Typed config of `FileStreamSourceConnector`.
#[derive(Debug, Clone, PartialEq)]
pub struct FileStreamSourceConfig {
    pub file: Option<PathBuf>,
    pub topic: String,
    pub batch_size: usize,
}

impl FileStreamSourceConfig {
    pub fn parse(props: &HashMap<String, String>) -> Result<Self> {
        let topic = non_empty(props, TOPIC_CONFIG).ok_or(ConnectorError::MissingConfig {
            key: TOPIC_CONFIG.into(),
        })?;
        if topic.contains(',') {
            return Err(ConnectorError::InvalidConfig {
                key: TOPIC_CONFIG.into(),
                value: topic,
                reason: "FileStreamSourceConnector should only have a single topic when used as a source.".into(),
            });
        }
        let batch_size = match props.get(BATCH_SIZE_CONFIG) {
            None => DEFAULT_BATCH_SIZE,
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConnectorError::InvalidConfig {
                    key: BATCH_SIZE_CONFIG.into(),
                    value: v.clone(),
                    reason: "Value must be a positive integer".into(),
                })?,
        };
        let file = non_empty(props, FILE_CONFIG).map(PathBuf::from);
        if let Some(path) = &file {
            // A missing file is waited for (as Kafka does); one that exists but cannot be
            // read (a directory, no permission) is a configuration error.
            if path.exists() {
                File::open(path)
                    .and_then(|f| {
                        if f.metadata()?.is_dir() {
                            Err(std::io::Error::new(
                                std::io::ErrorKind::IsADirectory,
                                "is a directory",
                            ))
                        } else {
                            Ok(())
                        }
                    })
                    .map_err(|source| ConnectorError::File {
                        key: FILE_CONFIG.into(),
                        path: path.clone(),
                        source,
                    })?;
            }
        }
        Ok(Self {
            file,
            topic,
            batch_size,
        })
    }

    /// The task; `label` (`[connector|task-N]`) prefixes its log lines.
    pub fn build(&self, label: &str) -> FileStreamSourceTask {
        FileStreamSourceTask {
            config: self.clone(),
            label: label.to_string(),
            input: None,
            buf: Vec::new(),
            position: 0,
            waiting_logged: false,
        }
    }
}

enum Input {
    File(File),
    Stdin(std::io::Stdin),
}

pub struct FileStreamSourceTask {
    config: FileStreamSourceConfig,
    label: String,
    input: Option<Input>,
    /// Bytes read but not yet emitted (a partial last line).
    buf: Vec<u8>,
    /// Byte position in the file of `buf[0]`.
    position: u64,
    waiting_logged: bool,
}

impl FileStreamSourceTask {
    fn source_partition(&self) -> Option<Map<String, Value>> {
        let file = self.config.file.as_ref()?;
        let mut m = Map::new();
        m.insert(
            FILENAME_FIELD.into(),
            Value::String(file.to_string_lossy().into_owned()),
        );
        Some(m)
    }

    fn open(&mut self, start_position: u64) -> Result<bool> {
        let Some(path) = self.config.file.clone() else {
            self.input = Some(Input::Stdin(std::io::stdin()));
            return Ok(true);
        };
        match File::open(&path) {
            Ok(mut f) => {
                if start_position > 0 {
                    f.seek(SeekFrom::Start(start_position)).map_err(|source| {
                        ConnectorError::Io {
                            path: path.clone(),
                            source,
                        }
                    })?;
                }
                tracing::info!(
                    "{} reading {} from byte position {start_position}",
                    self.label,
                    path.display()
                );
                self.position = start_position;
                self.input = Some(Input::File(f));
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !self.waiting_logged {
                    tracing::warn!(
                        "Couldn't find file {} for FileStreamSourceTask, sleeping to wait for it to be created",
                        path.display()
                    );
                    self.waiting_logged = true;
                }
                Ok(false)
            }
            Err(source) => Err(ConnectorError::File {
                key: FILE_CONFIG.into(),
                path,
                source,
            }),
        }
    }
}

impl SourceTask for FileStreamSourceTask {
    fn start(&mut self, offsets: &dyn OffsetReader) -> Result<()> {
        let start = self
            .source_partition()
            .and_then(|p| offsets.offset(&p))
            .and_then(|o| o.get(POSITION_FIELD).and_then(Value::as_u64))
            .unwrap_or(0);
        self.position = start;
        self.open(start)?;
        Ok(())
    }

    fn poll(&mut self) -> Result<Option<SourceBatch>> {
        if self.input.is_none() && !self.open(self.position)? {
            return Ok(None);
        }
        // Read only while no complete line is buffered, so a poll returns promptly.
        let batch_size = self.config.batch_size;
        let lines_buffered = memchr_count_lines(&self.buf, batch_size);
        if lines_buffered < batch_size {
            let old = self.buf.len();
            self.buf.resize(old + READ_CHUNK, 0);
            let read = match self.input.as_mut() {
                Some(Input::File(f)) => f.read(&mut self.buf[old..]),
                Some(Input::Stdin(s)) => s.lock().read(&mut self.buf[old..]),
                None => Ok(0),
            };
            let n = read.map_err(|source| ConnectorError::Io {
                path: self
                    .config
                    .file
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("<stdin>")),
                source,
            })?;
            self.buf.truncate(old + n);
        }
        let (lines, consumed) = split_lines(&self.buf, batch_size);
        if lines.is_empty() {
            return Ok(None);
        }
        // The consumed prefix becomes one Arrow block; the rest (a partial line) is kept.
        let rest = self.buf.split_off(consumed);
        let block = Buffer::from_vec(std::mem::replace(&mut self.buf, rest));
        let mut builder = StringViewBuilder::with_capacity(lines.len());
        let block_id = builder.append_block(block.clone());
        for &(start, len) in &lines {
            let bytes = &block.as_slice()[start..start + len];
            if std::str::from_utf8(bytes).is_ok() {
                builder
                    .try_append_view(block_id, start as u32, len as u32)
                    .map_err(|e| ConnectorError::Codec(e.into()))?;
            } else {
                // InputStreamReader(UTF-8) replaces malformed input; do the same.
                builder.append_value(String::from_utf8_lossy(bytes));
            }
        }
        self.position += consumed as u64;
        let mut offsets = Vec::new();
        if let Some(p) = self.source_partition() {
            let mut o = Map::new();
            o.insert(POSITION_FIELD.into(), Value::from(self.position));
            offsets.push((p, o));
        }
        let n = lines.len();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .ok();
        Ok(Some(SourceBatch {
            topic: self.config.topic.clone(),
            key: ConnectColumn::nulls(n),
            value: ConnectColumn::new(Some(ConnectSchema::string()), Arc::new(builder.finish())),
            timestamp: now,
            offsets,
        }))
    }

    fn stop(&mut self) {
        self.input = None;
    }
}

fn memchr_count_lines(buf: &[u8], limit: usize) -> usize {
    buf.iter()
        .filter(|&&b| b == b'\n' || b == b'\r')
        .take(limit)
        .count()
}

/// Splits complete lines (ended by `\n`, `\r\n` or `\r`) off the front of `buf`, at most
/// `limit`. Returns (start, len) of each line and the bytes consumed. A `\r` at the very end
/// is not a line end yet: the next byte may be `\n` (Kafka waits the same way).
fn split_lines(buf: &[u8], limit: usize) -> (Vec<(usize, usize)>, usize) {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < buf.len() && lines.len() < limit {
        match buf[i] {
            b'\n' => {
                lines.push((start, i - start));
                i += 1;
                start = i;
            }
            b'\r' => {
                if i + 1 >= buf.len() {
                    break;
                }
                lines.push((start, i - start));
                i += if buf[i + 1] == b'\n' { 2 } else { 1 };
                start = i;
            }
            _ => i += 1,
        }
    }
    (lines, start)
}

/// Typed config of `FileStreamSinkConnector`.
#[derive(Debug, Clone, PartialEq)]
pub struct FileStreamSinkConfig {
    pub file: Option<PathBuf>,
}

impl FileStreamSinkConfig {
    pub fn parse(props: &HashMap<String, String>) -> Result<Self> {
        let file = non_empty(props, FILE_CONFIG).map(PathBuf::from);
        if let Some(path) = &file {
            // Fail at validation, not in the task, when the file can never be written.
            open_append(path)?;
        }
        Ok(Self { file })
    }

    pub fn build(&self) -> Result<FileStreamSinkTask> {
        let out: Box<dyn Write + Send> = match &self.file {
            Some(path) => Box::new(open_append(path)?),
            None => Box::new(std::io::stdout()),
        };
        Ok(FileStreamSinkTask {
            out: BufWriter::with_capacity(1 << 20, out),
            path: self.file.clone(),
            line: Vec::new(),
        })
    }
}

fn open_append(path: &PathBuf) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| ConnectorError::File {
            key: FILE_CONFIG.into(),
            path: path.clone(),
            source,
        })
}

pub struct FileStreamSinkTask {
    out: BufWriter<Box<dyn Write + Send>>,
    path: Option<PathBuf>,
    line: Vec<u8>,
}

impl FileStreamSinkTask {
    fn io_error(&self, source: std::io::Error) -> ConnectorError {
        ConnectorError::Io {
            path: self
                .path
                .clone()
                .unwrap_or_else(|| PathBuf::from("<stdout>")),
            source,
        }
    }
}

impl FileStreamSinkTask {
    /// Appends `text` and a newline. Whole lines per write keep concurrent appenders (several
    /// tasks) from interleaving.
    fn write_line(&mut self, text: &[u8]) -> Result<()> {
        if self.out.buffer().len() + text.len() + 1 > self.out.capacity() {
            self.out.flush().map_err(|e| self.io_error(e))?;
        }
        let written = if text.len() < self.out.capacity() {
            self.out
                .write_all(text)
                .and_then(|()| self.out.write_all(b"\n"))
        } else {
            // Larger than the buffer: one write of the whole line, newline included.
            let mut line = Vec::with_capacity(text.len() + 1);
            line.extend_from_slice(text);
            line.push(b'\n');
            self.out.write_all(&line)
        };
        written.map_err(|e| self.io_error(e))
    }
}

impl SinkTask for FileStreamSinkTask {
    fn class_name(&self) -> &'static str {
        "org.apache.kafka.connect.file.FileStreamSinkTask"
    }

    fn put(&mut self, batch: &SinkBatch<'_>, _errant: &mut ErrantRecords) -> Result<()> {
        let values = batch.value;
        // Schemaless values (JSON maps, lists, scalars) print column-wise.
        let mut failed = None;
        let columnar = sluice_codecs::java::text::for_each_schemaless(values, |_, text| {
            if failed.is_none()
                && let Err(e) = self.write_line(text)
            {
                failed = Some(e);
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        if columnar.is_some() {
            return self.out.flush().map_err(|e| self.io_error(e));
        }
        for i in 0..values.len() {
            self.line.clear();
            // `PrintStream.println(record.value())`: Java's String.valueOf of the value.
            match values.array.data_type() {
                arrow::datatypes::DataType::Utf8View
                    if values.exact.is_empty() && values.array.is_valid(i) =>
                {
                    self.line.extend_from_slice(
                        arrow::array::AsArray::as_string_view(&values.array)
                            .value(i)
                            .as_bytes(),
                    )
                }
                _ => self.line.extend_from_slice(
                    sluice_codecs::reference::java_to_string(&values.value(i)).as_bytes(),
                ),
            }
            let line = std::mem::take(&mut self.line);
            let written = self.write_line(&line);
            self.line = line;
            written?;
        }
        // Kafka's PrintStream hands every line to the file at once; one write per batch
        // keeps readers of the file as current without a syscall per line.
        self.out.flush().map_err(|e| self.io_error(e))
    }

    fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(|e| self.io_error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};

    struct NoOffsets;
    impl OffsetReader for NoOffsets {
        fn offset(&self, _: &Map<String, Value>) -> Option<Map<String, Value>> {
            None
        }
    }

    struct At(u64);
    impl OffsetReader for At {
        fn offset(&self, _: &Map<String, Value>) -> Option<Map<String, Value>> {
            let mut m = Map::new();
            m.insert("position".into(), Value::from(self.0));
            Some(m)
        }
    }

    fn props(kv: &[(&str, &str)]) -> HashMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn splits_lines_like_kafka() {
        assert_eq!(
            split_lines(b"a\nbb\r\nc\rd", 10),
            (vec![(0, 1), (2, 2), (6, 1)], 8)
        );
        assert_eq!(split_lines(b"a\r", 10), (vec![], 0));
        assert_eq!(split_lines(b"\n\nx", 10), (vec![(0, 0), (1, 0)], 2));
        assert_eq!(split_lines(b"a\nb\nc\n", 2), (vec![(0, 1), (2, 1)], 4));
    }

    #[test]
    fn source_reads_batches_and_resumes_at_position() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("in.txt");
        std::fs::write(&path, "foo\nbar\nbaz\npartial").expect("write");
        let cfg = FileStreamSourceConfig::parse(&props(&[
            ("file", path.to_str().expect("utf8")),
            ("topic", "t"),
            ("batch.size", "2"),
        ]))
        .expect("cfg");
        let mut task = cfg.build("[t|task-0]");
        task.start(&NoOffsets).expect("start");
        let b1 = task.poll().expect("poll").expect("batch");
        assert_eq!(
            b1.value
                .array
                .as_string_view()
                .iter()
                .flatten()
                .collect::<Vec<_>>(),
            ["foo", "bar"]
        );
        assert_eq!(b1.offsets[0].1["position"], 8);
        let b2 = task.poll().expect("poll").expect("batch");
        assert_eq!(b2.value.array.as_string_view().value(0), "baz");
        assert_eq!(b2.offsets[0].1["position"], 12);
        assert!(task.poll().expect("poll").is_none());

        let mut resumed = cfg.build("[t|task-0]");
        resumed.start(&At(8)).expect("start");
        let b = resumed.poll().expect("poll").expect("batch");
        assert_eq!(
            b.value
                .array
                .as_string_view()
                .iter()
                .flatten()
                .collect::<Vec<_>>(),
            ["baz"]
        );
    }

    #[test]
    fn source_config_errors_name_the_key() {
        let e = FileStreamSourceConfig::parse(&props(&[("file", "/tmp/x")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Missing required configuration \"topic\" which has no default value."
        );
        let dir = tempfile::tempdir().expect("tmp");
        let e = FileStreamSourceConfig::parse(&props(&[
            ("file", dir.path().to_str().expect("utf8")),
            ("topic", "t"),
        ]))
        .unwrap_err();
        assert!(e.to_string().starts_with("file: cannot use file"), "{e}");
        let e = FileStreamSourceConfig::parse(&props(&[("topic", "t"), ("batch.size", "zero")]))
            .unwrap_err();
        assert!(e.to_string().contains("batch.size"));
    }

    #[test]
    fn sink_appends_values_as_lines() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("out.txt");
        let cfg = FileStreamSinkConfig::parse(&props(&[("file", path.to_str().expect("utf8"))]))
            .expect("cfg");
        let mut task = cfg.build().expect("build");
        let mut b = sluice_codecs::RawBatchBuilder::with_capacity(2);
        b.append("t", 0, 0, None, 0, None, Some(b"x"), []);
        b.append("t", 0, 1, None, 0, None, None, []);
        let raw = b.finish();
        let value = ConnectColumn::new(
            None,
            Arc::new(arrow::array::StringViewArray::from(vec![Some("foo"), None])),
        );
        let key = ConnectColumn::nulls(2);
        let mut errant = ErrantRecords::default();
        task.put(
            &SinkBatch {
                raw: &raw,
                key: &key,
                value: &value,
            },
            &mut errant,
        )
        .expect("put");
        assert!(errant.is_empty());
        task.flush().expect("flush");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "foo\nnull\n");
        assert!(value.array.is_valid(0));
    }
}
