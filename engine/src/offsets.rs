//! Source offsets stored in `offset.storage.file.filename`, as standalone Kafka Connect does,
//! or, in distributed mode, in the offsets topic (each flush writes what changed, keyed
//! `["<connector>",{partition}]` as Kafka's workers write it).
//!
//! Format (ours; Kafka's is a Java-serialized map): one JSON document
//! `{"format":"sluice-offsets-v1","offsets":[{"connector":C,"partition":{..},"offset":{..}}]}`,
//! replaced atomically (write temp file, fsync, rename) on every flush, so a crash leaves
//! either the previous or the new complete set.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde_json::{Map, Value, json};
use sluice_connectors::task::OffsetReader;

use crate::error::{EngineError, Result};

const FORMAT: &str = "sluice-offsets-v1";

type Key = (String, String); // (connector, canonical partition JSON)
type Entry = (Map<String, Value>, Map<String, Value>); // (partition, offset)
/// A change not yet written to the offsets topic: (partition, offset or removed).
type Change = (Map<String, Value>, Option<Map<String, Value>>);

#[derive(Debug, Default)]
struct Inner {
    offsets: BTreeMap<Key, Entry>,
    dirty: bool,
    /// Changed since the last flush, for the offsets topic (`None` offset: removed).
    changed: BTreeMap<Key, Change>,
}

/// A shared offset store for all source tasks of a worker: a file, memory only, or the
/// offsets topic.
#[derive(Debug, Clone)]
pub struct FileOffsetStore {
    path: Option<PathBuf>,
    inner: Arc<Mutex<Inner>>,
    topic: Arc<OnceLock<crate::distributed::kafka_log::LogWriter>>,
}

impl FileOffsetStore {
    /// Loads the store; a missing file is an empty store. `None` keeps offsets in memory
    /// only (no `offset.storage.file.filename` configured).
    pub fn open(path: Option<PathBuf>) -> Result<Self> {
        let mut inner = Inner::default();
        if let Some(p) = &path {
            match std::fs::read(p) {
                Ok(bytes) if !bytes.is_empty() => inner.offsets = parse(p, &bytes)?,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(EngineError::Offsets {
                        path: p.clone(),
                        message: e.to_string(),
                    });
                }
            }
        }
        Ok(Self {
            path,
            inner: Arc::new(Mutex::new(inner)),
            topic: Arc::default(),
        })
    }

    /// From now on flushes write to the offsets topic (distributed mode).
    pub fn write_to_topic(&self, writer: crate::distributed::kafka_log::LogWriter) {
        let _ = self.topic.set(writer);
    }

    /// Takes an offset read from the offsets topic (`None`: a tombstone) without marking
    /// it to be written again.
    pub fn load(
        &self,
        connector: &str,
        partition: Map<String, Value>,
        offset: Option<Map<String, Value>>,
    ) {
        let key = (
            connector.to_string(),
            Value::Object(partition.clone()).to_string(),
        );
        let mut inner = self.lock();
        if inner.changed.contains_key(&key) {
            // Our own newer write is not flushed yet.
            return;
        }
        match offset {
            Some(o) => {
                inner.offsets.insert(key, (partition, o));
            }
            None => {
                inner.offsets.remove(&key);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn get(
        &self,
        connector: &str,
        partition: &Map<String, Value>,
    ) -> Option<Map<String, Value>> {
        let key = (
            connector.to_string(),
            Value::Object(partition.clone()).to_string(),
        );
        self.lock().offsets.get(&key).map(|(_, o)| o.clone())
    }

    /// Records offsets (in memory) for a connector; [`FileOffsetStore::flush`] persists them.
    pub fn put(
        &self,
        connector: &str,
        offsets: impl IntoIterator<Item = (Map<String, Value>, Map<String, Value>)>,
    ) {
        let mut inner = self.lock();
        for (partition, offset) in offsets {
            let key = (
                connector.to_string(),
                Value::Object(partition.clone()).to_string(),
            );
            inner
                .changed
                .insert(key.clone(), (partition.clone(), Some(offset.clone())));
            inner.offsets.insert(key, (partition, offset));
            inner.dirty = true;
        }
    }

    /// Forgets one source partition's offset (REST `PATCH` with a null offset, `DELETE`).
    pub fn remove(&self, connector: &str, partition: &Map<String, Value>) {
        let key = (
            connector.to_string(),
            Value::Object(partition.clone()).to_string(),
        );
        let mut inner = self.lock();
        if inner.offsets.remove(&key).is_some() {
            inner.dirty = true;
        }
        inner.changed.insert(key, (partition.clone(), None));
    }

    /// All offsets of one connector.
    pub fn connector_offsets(
        &self,
        connector: &str,
    ) -> Vec<(Map<String, Value>, Map<String, Value>)> {
        self.lock()
            .offsets
            .iter()
            .filter(|((c, _), _)| c == connector)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Writes the store if anything changed since the last flush.
    pub fn flush(&self) -> Result<()> {
        if let Some(writer) = self.topic.get() {
            let changed: Vec<_> = std::mem::take(&mut self.lock().changed)
                .into_iter()
                .collect();
            for (i, ((connector, _), (partition, offset))) in changed.iter().enumerate() {
                let key = crate::distributed::records::offset_key(connector, partition);
                let value = crate::distributed::records::offset_value(offset.as_ref());
                if let Err(e) = writer.send(&key, value.as_deref()) {
                    // Kept for the next flush, unless a newer offset came meanwhile.
                    let mut inner = self.lock();
                    for (k, v) in changed.into_iter().skip(i) {
                        inner.changed.entry(k).or_insert(v);
                    }
                    return Err(EngineError::Offsets {
                        path: PathBuf::from(writer.topic()),
                        message: e.to_string(),
                    });
                }
            }
            return Ok(());
        }
        self.lock().changed.clear();
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut inner = self.lock();
        if !inner.dirty {
            return Ok(());
        }
        let entries: Vec<Value> = inner
            .offsets
            .iter()
            .map(|((c, _), (p, o))| json!({"connector": c, "partition": p, "offset": o}))
            .collect();
        let doc = json!({"format": FORMAT, "offsets": entries});
        write_atomically(path, doc.to_string().as_bytes()).map_err(|e| EngineError::Offsets {
            path: path.clone(),
            message: e.to_string(),
        })?;
        inner.dirty = false;
        Ok(())
    }

    /// An [`OffsetReader`] for one connector's tasks.
    pub fn reader(&self, connector: &str) -> ConnectorOffsets {
        ConnectorOffsets {
            store: self.clone(),
            connector: connector.to_string(),
        }
    }
}

fn parse(path: &Path, bytes: &[u8]) -> Result<BTreeMap<Key, Entry>> {
    let bad = |message: String| EngineError::Offsets {
        path: path.into(),
        message,
    };
    let doc: Value = serde_json::from_slice(bytes)
        .map_err(|e| bad(format!("not a sluice offsets file: {e}")))?;
    if doc.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(bad(format!(
            "not a sluice offsets file (expected \"format\":\"{FORMAT}\")"
        )));
    }
    let mut out = BTreeMap::new();
    for e in doc
        .get("offsets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match (
            e.get("connector").and_then(Value::as_str),
            e.get("partition").and_then(Value::as_object),
            e.get("offset").and_then(Value::as_object),
        ) {
            (Some(c), Some(p), Some(o)) => {
                out.insert(
                    (c.to_string(), Value::Object(p.clone()).to_string()),
                    (p.clone(), o.clone()),
                );
            }
            _ => return Err(bad(format!("malformed entry {e}"))),
        }
    }
    Ok(out)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Make the rename itself durable.
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct ConnectorOffsets {
    store: FileOffsetStore,
    connector: String,
}

impl OffsetReader for ConnectorOffsets {
    fn offset(&self, partition: &Map<String, Value>) -> Option<Map<String, Value>> {
        self.store.get(&self.connector, partition)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn round_trips_through_the_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("connect.offsets");
        let store = FileOffsetStore::open(Some(path.clone())).expect("open");
        store.put(
            "src",
            [(m(json!({"filename": "a.txt"})), m(json!({"position": 42})))],
        );
        store.flush().expect("flush");
        let again = FileOffsetStore::open(Some(path.clone())).expect("reopen");
        assert_eq!(
            again.reader("src").offset(&m(json!({"filename": "a.txt"}))),
            Some(m(json!({"position": 42})))
        );
        assert_eq!(
            again
                .reader("other")
                .offset(&m(json!({"filename": "a.txt"}))),
            None
        );
        std::fs::write(&path, b"garbage").expect("write");
        assert!(FileOffsetStore::open(Some(path)).is_err());
    }
}
