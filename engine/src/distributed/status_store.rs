//! Connector and task statuses in the status topic (Kafka's `KafkaStatusBackingStore`):
//! each worker writes the states of what it runs, with its worker id and the group
//! generation; every worker reads the whole topic into the view `GET .../status` answers
//! from. A stale UNASSIGNED does not overwrite a RUNNING of the same or a newer generation.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

use super::kafka_log::{KafkaLog, LogError, LogWriter};
use super::records::{StatusKey, StatusValue, connector_status_key, task_status_key};
use crate::status::State;

#[derive(Debug, Default)]
struct View {
    connectors: BTreeMap<String, StatusValue>,
    tasks: BTreeMap<(String, u32), StatusValue>,
}

impl View {
    fn apply(&mut self, key: &str, value: Option<&[u8]>) {
        let Some(k) = StatusKey::parse(key) else {
            tracing::warn!("Discarding record with invalid key: {key}");
            return;
        };
        match (k, value) {
            (StatusKey::Connector(c), None) => {
                self.connectors.remove(&c);
                self.tasks.retain(|(tc, _), _| *tc != c);
            }
            (StatusKey::Task(c, t), None) => {
                self.tasks.remove(&(c, t));
            }
            (StatusKey::Topic { .. }, _) => {}
            (k, Some(v)) => {
                let status = match StatusValue::parse(key, v) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!("Failed to convert status record: {e}");
                        return;
                    }
                };
                match k {
                    StatusKey::Connector(c) => {
                        self.connectors.insert(c, status);
                    }
                    StatusKey::Task(c, t) => {
                        let key = (c, t);
                        let stale = status.state == "UNASSIGNED"
                            && self.tasks.get(&key).is_some_and(|cur| {
                                cur.state == "RUNNING" && cur.generation >= status.generation
                            });
                        if !stale {
                            self.tasks.insert(key, status);
                        }
                    }
                    StatusKey::Topic { .. } => {}
                }
            }
        }
    }
}

/// A write queued for the writer thread (`None` value: tombstone).
type Write = (String, Option<Vec<u8>>);

/// The status topic: a reader thread keeps the view, a writer thread sends.
#[derive(Clone)]
pub struct StatusStore {
    view: Arc<Mutex<View>>,
    queue: mpsc::Sender<Write>,
    worker_id: Arc<str>,
    generation: Arc<AtomicI32>,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for StatusStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusStore")
            .field("worker_id", &self.worker_id)
            .finish_non_exhaustive()
    }
}

fn kafka_version(state: &str) -> Option<String> {
    match state {
        "UNASSIGNED" | "RESTARTING" => None,
        _ => Some(crate::KAFKA_VERSION.to_string()),
    }
}

impl StatusStore {
    /// Reads the topic to its end, then keeps reading and writing in the background.
    pub fn start(mut log: KafkaLog, worker_id: &str) -> Result<Self, LogError> {
        let mut view = View::default();
        for r in log.read_to_end(Duration::from_secs(60))? {
            if let Some(k) = &r.key {
                view.apply(&String::from_utf8_lossy(k), r.value.as_deref());
            }
        }
        let view = Arc::new(Mutex::new(view));
        let stop = Arc::new(AtomicBool::new(false));
        let writer: LogWriter = log.writer();
        let (tx, rx) = mpsc::channel::<Write>();
        std::thread::Builder::new()
            .name("status-writer".into())
            .spawn(move || {
                for (key, value) in rx {
                    // Retried while the broker is unreachable, as Kafka's store retries
                    // retriable errors.
                    for attempt in 0..10 {
                        match writer.send(key.as_bytes(), value.as_deref()) {
                            Ok(_) => break,
                            Err(e) => {
                                tracing::warn!("Failed to write status update {key}: {e}");
                                std::thread::sleep(Duration::from_millis(200 << attempt.min(4)));
                            }
                        }
                    }
                }
            })
            .map_err(|e| LogError::Topic {
                key: "status.storage.topic",
                message: format!("cannot start the status writer: {e}"),
            })?;
        let (v, s) = (view.clone(), stop.clone());
        std::thread::Builder::new()
            .name("status-reader".into())
            .spawn(move || {
                while !s.load(Ordering::SeqCst) {
                    match log.poll(Duration::from_millis(200)) {
                        Ok(records) => {
                            let mut view = v.lock().unwrap_or_else(PoisonError::into_inner);
                            for r in records {
                                if let Some(k) = &r.key {
                                    view.apply(&String::from_utf8_lossy(k), r.value.as_deref());
                                }
                            }
                        }
                        Err(e) => {
                            tracing::warn!("reading the status topic: {e}");
                            std::thread::sleep(Duration::from_millis(500));
                        }
                    }
                }
            })
            .map_err(|e| LogError::Topic {
                key: "status.storage.topic",
                message: format!("cannot start the status reader: {e}"),
            })?;
        Ok(Self {
            view,
            queue: tx,
            worker_id: Arc::from(worker_id),
            generation: Arc::new(AtomicI32::new(-1)),
            stop,
        })
    }

    pub fn set_generation(&self, g: i32) {
        self.generation.store(g, Ordering::SeqCst);
    }

    pub fn generation(&self) -> i32 {
        self.generation.load(Ordering::SeqCst)
    }

    fn value(&self, state: State, trace: Option<&str>) -> Vec<u8> {
        let state = state.to_string();
        StatusValue {
            version: kafka_version(&state),
            state,
            trace: trace.map(str::to_string),
            worker_id: self.worker_id.to_string(),
            generation: self.generation(),
        }
        .to_bytes()
    }

    /// Kafka's `putSafe`: skipped when another worker wrote this key in a newer generation.
    fn safe(&self, current: Option<&StatusValue>) -> bool {
        current.is_none_or(|c| *c.worker_id == *self.worker_id || c.generation <= self.generation())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, View> {
        self.view.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn put_connector(&self, connector: &str, state: State, trace: Option<&str>) {
        if matches!(state, State::Unassigned | State::Failed)
            && !self.safe(self.lock().connectors.get(connector))
        {
            return;
        }
        let _ = self.queue.send((
            connector_status_key(connector),
            Some(self.value(state, trace)),
        ));
    }

    pub fn put_task(&self, connector: &str, task: u32, state: State, trace: Option<&str>) {
        if matches!(state, State::Unassigned | State::Failed)
            && !self.safe(self.lock().tasks.get(&(connector.to_string(), task)))
        {
            return;
        }
        let _ = self.queue.send((
            task_status_key(connector, task),
            Some(self.value(state, trace)),
        ));
    }

    /// Tombstones a deleted connector's task statuses, then its own.
    pub fn delete_connector(&self, connector: &str) {
        let tasks: Vec<u32> = self
            .lock()
            .tasks
            .keys()
            .filter(|(c, _)| c == connector)
            .map(|(_, t)| *t)
            .collect();
        for t in tasks {
            let _ = self.queue.send((task_status_key(connector, t), None));
        }
        let _ = self.queue.send((connector_status_key(connector), None));
    }

    pub fn delete_task(&self, connector: &str, task: u32) {
        let _ = self.queue.send((task_status_key(connector, task), None));
    }

    pub fn connector(&self, connector: &str) -> Option<StatusValue> {
        self.lock().connectors.get(connector).cloned()
    }

    pub fn tasks(&self, connector: &str) -> Vec<(u32, StatusValue)> {
        self.lock()
            .tasks
            .iter()
            .filter(|((c, _), _)| c == connector)
            .map(|((_, t), v)| (*t, v.clone()))
            .collect()
    }

    /// Connectors with a status (for the leader's cleanup of deleted ones).
    pub fn connectors(&self) -> Vec<String> {
        self.lock().connectors.keys().cloned().collect()
    }

    pub fn close(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// A status state name as the REST API's [`State`].
pub fn parse_state(s: &str) -> State {
    match s {
        "RUNNING" => State::Running,
        "PAUSED" => State::Paused,
        "FAILED" => State::Failed,
        "RESTARTING" => State::Restarting,
        "STOPPED" => State::Stopped,
        _ => State::Unassigned,
    }
}
