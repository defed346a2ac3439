//! The standalone worker (Kafka's herder): keeps each connector's config and target state
//! (STARTED, PAUSED, STOPPED), runs its tasks on their own threads, and answers what the
//! REST API asks — create, reconfigure, pause, resume, stop, restart, delete, status,
//! offsets — with Kafka Connect's states and error messages.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::{Map, Value};
use sluice_connectors::{ConnectorKind, Plugin};

use crate::config::{ConnectorConfig, TopicSelection, WorkerConfig};
use crate::config_provider::has_placeholder;
use crate::error::Result;
use crate::metrics::{ConnectorTaskCounts, Metrics, TaskKind, WorkerGauges};
use crate::offsets::FileOffsetStore;
use crate::runtime::{TaskContext, sink, source};
use crate::signal::{PauseSignal, StopSignal};
use crate::status::{ActiveTopics, State, StatusBoard, TaskLabel};

const KAFKA_TIMEOUT: Duration = Duration::from_secs(10);

/// An error the REST API returns as `{"error_code": status, "message": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    /// Distributed mode: the request is for the worker at this REST URL (the leader, or
    /// the owner of a connector); the REST layer forwards it there.
    pub forward: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            forward: None,
        }
    }

    /// To be forwarded to `url` (Kafka's `NotLeaderException`/`NotAssignedException`).
    pub fn forward_to(url: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: 409,
            message: message.into(),
            forward: Some(url.into()),
        }
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, message)
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    fn internal(message: impl Into<String>) -> Self {
        Self::new(500, message)
    }
}

pub type ApiResult<T> = std::result::Result<T, ApiError>;

/// What the connector should be doing, as Kafka's `TargetState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    Started,
    Paused,
    Stopped,
}

impl TargetState {
    /// `initial_state` of `POST /connectors`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RUNNING" => Some(Self::Started),
            "PAUSED" => Some(Self::Paused),
            "STOPPED" => Some(Self::Stopped),
            _ => None,
        }
    }

    fn state(self) -> State {
        match self {
            Self::Started => State::Running,
            Self::Paused => State::Paused,
            Self::Stopped => State::Stopped,
        }
    }
}

/// Connector properties in the order they were given (Kafka echoes them in that order).
pub type OrderedProps = Vec<(String, String)>;

struct TaskRun {
    stop: StopSignal,
    thread: Option<JoinHandle<()>>,
}

/// A task started outside this worker's own connectors (distributed mode's assignment).
pub struct RunningTask(TaskRun);

impl std::fmt::Debug for RunningTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningTask").finish_non_exhaustive()
    }
}

struct Entry {
    props: OrderedProps,
    config: ConnectorConfig,
    target: TargetState,
    pause: PauseSignal,
    tasks: Vec<TaskRun>,
    /// Tasks the connector has while not STOPPED (kept when tasks are being restarted).
    task_count: usize,
}

/// A connector's description: `{"name","config","tasks","type"}`.
#[derive(Debug, Clone)]
pub struct ConnectorInfo {
    pub name: String,
    pub config: OrderedProps,
    pub tasks: Vec<usize>,
    pub kind: ConnectorKind,
}

#[derive(Debug, Clone)]
pub struct TaskState {
    pub id: usize,
    pub state: State,
    pub trace: Option<String>,
    /// The worker running it (distributed mode); `None`: this worker.
    pub worker_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ConnectorStatus {
    pub name: String,
    pub state: State,
    /// The worker running the connector (distributed mode); `None`: this worker.
    pub worker_id: Option<String>,
    pub tasks: Vec<TaskState>,
    pub kind: ConnectorKind,
}

/// One entry of `GET /connectors/{c}/offsets`.
pub type OffsetEntry = (Map<String, Value>, Map<String, Value>);
/// `PATCH /connectors/{c}/offsets`: partitions with their new offset (`None` removes it).
pub type OffsetPatch = Vec<(Map<String, Value>, Option<Map<String, Value>>)>;

struct Inner {
    config: WorkerConfig,
    worker_id: Mutex<String>,
    store: FileOffsetStore,
    board: StatusBoard,
    metrics: Metrics,
    topics: ActiveTopics,
    connectors: Mutex<BTreeMap<String, Entry>>,
    /// Serialises changes (which may wait for task threads) without blocking reads.
    ops: Mutex<()>,
    started: AtomicBool,
}

/// A handle on the worker; clones share it.
#[derive(Clone)]
pub struct Worker(Arc<Inner>);

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("connectors", &self.connector_names())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Worker {
    pub fn new(config: WorkerConfig) -> Result<Self> {
        let store = FileOffsetStore::open(config.offset_file.clone())?;
        let worker_id = config
            .listeners
            .first()
            .map(|l| {
                l.split("://")
                    .last()
                    .unwrap_or(l)
                    .trim_end_matches('/')
                    .to_string()
            })
            .unwrap_or_else(|| "127.0.0.1:8083".into());
        Ok(Self(Arc::new(Inner {
            config,
            worker_id: Mutex::new(worker_id),
            store,
            board: StatusBoard::default(),
            metrics: Metrics::default(),
            topics: ActiveTopics::default(),
            connectors: Mutex::new(BTreeMap::new()),
            ops: Mutex::new(()),
            started: AtomicBool::new(false),
        })))
    }

    pub fn config(&self) -> &WorkerConfig {
        &self.0.config
    }

    pub fn status_board(&self) -> &StatusBoard {
        &self.0.board
    }

    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// `host:port` of the REST listener, as Kafka reports `worker_id`.
    pub fn worker_id(&self) -> String {
        lock(&self.0.worker_id).clone()
    }

    pub fn set_worker_id(&self, id: String) {
        *lock(&self.0.worker_id) = id;
    }

    /// Startup is complete (`GET /health` answers healthy).
    pub fn mark_started(&self) {
        self.0.started.store(true, Ordering::SeqCst);
    }

    pub fn is_started(&self) -> bool {
        self.0.started.load(Ordering::SeqCst)
    }

    pub fn connector_names(&self) -> Vec<String> {
        lock(&self.0.connectors).keys().cloned().collect()
    }

    fn spawn_tasks(&self, name: &str, entry: &mut Entry) -> ApiResult<()> {
        self.0.board.remove_connector(name);
        let config = self.start_config(name, entry);
        for task in 0..entry.task_count {
            let run = match &config {
                Ok(c) => self.spawn_task(name, c, &entry.pause, task)?,
                Err(message) => self.failed_task(name, task, message),
            };
            entry.tasks.push(run);
        }
        Ok(())
    }

    /// The config tasks start with: with placeholders, resolved again from the stored
    /// properties, so a restart picks up a rotated secret; an error is the tasks' failure.
    fn start_config(&self, name: &str, e: &Entry) -> Result<ConnectorConfig, String> {
        if !e.props.iter().any(|(_, v)| has_placeholder(v)) {
            return Ok(e.config.clone());
        }
        self.validate(name, &e.props).map_err(|err| err.message)
    }

    /// A task that could not start: FAILED with the reason, no thread.
    fn failed_task(&self, name: &str, task: usize, message: &str) -> TaskRun {
        let label = TaskLabel {
            connector: name.to_string(),
            task,
        };
        tracing::error!("task {name}-{task} cannot start: {message}");
        self.0
            .board
            .set(&label, State::Failed, Some(message.to_string()));
        TaskRun {
            stop: StopSignal::default(),
            thread: None,
        }
    }

    fn spawn_task(
        &self,
        name: &str,
        config: &ConnectorConfig,
        pause: &PauseSignal,
        task: usize,
    ) -> ApiResult<TaskRun> {
        let kind = config.spec.kind();
        let label = TaskLabel {
            connector: name.to_string(),
            task,
        };
        self.0.board.set(&label, State::Unassigned, None);
        let stop = StopSignal::default();
        let ctx = TaskContext {
            worker: self.0.config.clone(),
            connector: config.clone(),
            label,
            stop: stop.clone(),
            pause: pause.clone(),
            board: self.0.board.clone(),
            metrics: self.0.metrics.task(
                name,
                task,
                match kind {
                    ConnectorKind::Sink => TaskKind::Sink,
                    ConnectorKind::Source => TaskKind::Source,
                },
            ),
            topics: self.0.topics.clone(),
        };
        let store = self.0.store.clone();
        let thread = std::thread::Builder::new()
            .name(format!("{name}-{task}"))
            .spawn(move || match kind {
                ConnectorKind::Sink => sink::run(ctx),
                ConnectorKind::Source => source::run(ctx, store),
            })
            .map_err(|e| ApiError::internal(format!("cannot start task thread: {e}")))?;
        Ok(TaskRun {
            stop,
            thread: Some(thread),
        })
    }

    /// Validates a connector config as `POST /connectors` does.
    pub fn validate_config(&self, name: &str, props: &OrderedProps) -> ApiResult<ConnectorConfig> {
        self.validate(name, props)
    }

    /// Starts one task of a connector on its own thread (distributed mode).
    pub fn start_task(
        &self,
        name: &str,
        config: &ConnectorConfig,
        pause: &PauseSignal,
        task: usize,
    ) -> ApiResult<RunningTask> {
        self.spawn_task(name, config, pause, task).map(RunningTask)
    }

    /// Stops tasks started by [`Worker::start_task`] and waits for them.
    pub fn stop_tasks(name: &str, tasks: Vec<RunningTask>) {
        Self::join_tasks(name, tasks.into_iter().map(|t| t.0).collect());
    }

    /// Topics this worker's tasks of a connector have used (distributed mode).
    pub fn status_topics(&self, name: &str) -> Vec<String> {
        self.0.topics.get(name)
    }

    pub fn reset_status_topics(&self, name: &str) {
        self.0.topics.reset(name);
    }

    /// The worker's source offset store (distributed mode loads it from the offsets topic).
    pub fn offset_store(&self) -> &FileOffsetStore {
        &self.0.store
    }

    /// `GET /connectors/{c}/offsets` of a sink connector: its consumer group's offsets.
    pub fn sink_offsets_of(&self, connector: &ConnectorConfig) -> ApiResult<Vec<OffsetEntry>> {
        self.sink_offsets(connector)
    }

    /// Stops the given tasks and waits for them (sinks flush and commit first).
    fn join_tasks(name: &str, tasks: Vec<TaskRun>) {
        for t in &tasks {
            t.stop.stop();
        }
        for mut t in tasks {
            if let Some(h) = t.thread.take()
                && h.join().is_err()
            {
                tracing::error!("a task thread of connector {name} panicked");
            }
        }
    }

    /// Validates props into a connector config, with Kafka's REST error messages.
    fn validate(&self, name: &str, props: &OrderedProps) -> ApiResult<ConnectorConfig> {
        let map: crate::config::Props = props.iter().cloned().collect();
        let class = map
            .get("connector.class")
            .map(|c| c.trim())
            .filter(|c| !c.is_empty());
        let Some(class) = class else {
            let shown: Vec<String> = props.iter().map(|(k, v)| format!("{k}={v}")).collect();
            return Err(ApiError::bad_request(format!(
                "Connector config {{{}}} contains no connector type",
                shown.join(", ")
            )));
        };
        if Plugin::from_class(class).is_none() {
            return Err(ApiError::bad_request(format!(
                "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
                plugin_descriptions()
            )));
        }
        if name.is_empty() {
            return Err(invalid_config(&[
                "Invalid value  for configuration name: String may not be empty".to_string(),
            ]));
        }
        let config = ConnectorConfig::parse(map, &self.0.config, name).map_err(|e| {
            let message = match e {
                crate::EngineError::Connector { message, .. } => message,
                other => other.to_string(),
            };
            invalid_config(&[message])
        })?;
        let refused: Vec<String> = config
            .override_refusals(&self.0.config)
            .into_iter()
            .map(|(_, message)| message)
            .collect();
        if !refused.is_empty() {
            return Err(invalid_config(&refused));
        }
        Ok(config)
    }

    /// `POST /connectors`: 409 when it exists.
    pub fn create(
        &self,
        name: &str,
        props: OrderedProps,
        initial: TargetState,
    ) -> ApiResult<ConnectorInfo> {
        let _ops = lock(&self.0.ops);
        if lock(&self.0.connectors).contains_key(name) {
            return Err(ApiError::new(
                409,
                format!("Connector {name} already exists"),
            ));
        }
        self.insert(name, props, initial)
    }

    fn insert(
        &self,
        name: &str,
        props: OrderedProps,
        target: TargetState,
    ) -> ApiResult<ConnectorInfo> {
        let config = self.validate(name, &props)?;
        let task_count = config.spec.task_count(config.tasks_max);
        tracing::info!(
            "Creating connector {name} of type {} with {task_count} task(s), target state {target:?}",
            config.plugin.class_name()
        );
        let mut entry = Entry {
            props,
            config,
            target,
            pause: PauseSignal::default(),
            tasks: Vec::new(),
            task_count,
        };
        entry.pause.set(target == TargetState::Paused);
        if target != TargetState::Stopped {
            self.spawn_tasks(name, &mut entry)?;
        }
        let info = info_of(name, &entry);
        lock(&self.0.connectors).insert(name.to_string(), entry);
        Ok(info)
    }

    /// `PUT /connectors/{c}/config`: creates (true) or reconfigures (false) the connector;
    /// reconfiguring restarts its tasks with the new config in the same target state.
    pub fn put_config(&self, name: &str, props: OrderedProps) -> ApiResult<(bool, ConnectorInfo)> {
        let _ops = lock(&self.0.ops);
        let existing = lock(&self.0.connectors).contains_key(name);
        if !existing {
            return self
                .insert(name, props, TargetState::Started)
                .map(|i| (true, i));
        }
        let config = self.validate(name, &props)?;
        let tasks = {
            let mut map = lock(&self.0.connectors);
            let Some(entry) = map.get_mut(name) else {
                return Err(ApiError::not_found(format!("Connector {name} not found")));
            };
            std::mem::take(&mut entry.tasks)
        };
        Self::join_tasks(name, tasks);
        let mut map = lock(&self.0.connectors);
        let Some(entry) = map.get_mut(name) else {
            return Err(ApiError::not_found(format!("Connector {name} not found")));
        };
        entry.task_count = config.spec.task_count(config.tasks_max);
        entry.config = config;
        entry.props = props;
        if entry.target != TargetState::Stopped {
            self.spawn_tasks(name, entry)?;
        }
        tracing::info!("Reconfigured connector {name}");
        Ok((false, info_of(name, entry)))
    }

    pub fn props(&self, name: &str) -> ApiResult<OrderedProps> {
        lock(&self.0.connectors)
            .get(name)
            .map(|e| e.props.clone())
            .ok_or_else(|| ApiError::not_found(format!("Connector {name} not found")))
    }

    pub fn info(&self, name: &str) -> ApiResult<ConnectorInfo> {
        lock(&self.0.connectors)
            .get(name)
            .map(|e| info_of(name, e))
            .ok_or_else(|| ApiError::not_found(format!("Connector {name} not found")))
    }

    /// `GET /connectors/{c}/tasks`: each task's id and config (the connector's plus
    /// `task.class`, as Kafka's FileStream connectors hand out).
    pub fn task_configs(&self, name: &str) -> ApiResult<Vec<(usize, OrderedProps)>> {
        let map = lock(&self.0.connectors);
        let e = map
            .get(name)
            .ok_or_else(|| ApiError::not_found(format!("Connector {name} not found")))?;
        let tasks = if e.target == TargetState::Stopped {
            0
        } else {
            e.task_count
        };
        let task_class = match e.config.plugin {
            Plugin::FileStreamSink => "org.apache.kafka.connect.file.FileStreamSinkTask",
            Plugin::FileStreamSource => "org.apache.kafka.connect.file.FileStreamSourceTask",
            Plugin::ParquetSink => "sluice.connect.parquet.ParquetSinkTask",
        };
        Ok((0..tasks)
            .map(|t| {
                let mut p = e.props.clone();
                p.push(("task.class".into(), task_class.into()));
                (t, p)
            })
            .collect())
    }

    pub fn status(&self, name: &str) -> ApiResult<ConnectorStatus> {
        let map = lock(&self.0.connectors);
        let e = map
            .get(name)
            .ok_or_else(|| ApiError::not_found(format!("No status found for connector {name}")))?;
        Ok(self.status_of(name, e))
    }

    fn status_of(&self, name: &str, e: &Entry) -> ConnectorStatus {
        let tasks = if e.target == TargetState::Stopped {
            Vec::new()
        } else {
            (0..e.task_count)
                .map(|id| {
                    let s = self.0.board.get(name, id);
                    TaskState {
                        id,
                        state: s.as_ref().map_or(State::Unassigned, |s| s.state),
                        trace: s.and_then(|s| s.trace),
                        worker_id: None,
                    }
                })
                .collect()
        };
        ConnectorStatus {
            name: name.to_string(),
            state: e.target.state(),
            worker_id: None,
            tasks,
            kind: e.config.spec.kind(),
        }
    }

    pub fn task_status(&self, name: &str, task: usize) -> ApiResult<TaskState> {
        let status = self
            .status(name)
            .map_err(|_| ApiError::not_found(format!("No status found for task {name}-{task}")))?;
        status
            .tasks
            .into_iter()
            .find(|t| t.id == task)
            .ok_or_else(|| ApiError::not_found(format!("No status found for task {name}-{task}")))
    }

    fn set_target(&self, name: &str, target: TargetState) -> ApiResult<()> {
        let _ops = lock(&self.0.ops);
        let stopped = {
            let mut map = lock(&self.0.connectors);
            let e = map
                .get_mut(name)
                .ok_or_else(|| ApiError::not_found(format!("Unknown connector {name}")))?;
            let was = e.target;
            e.target = target;
            e.pause.set(target == TargetState::Paused);
            match (was, target) {
                (TargetState::Stopped, TargetState::Stopped) => None,
                (_, TargetState::Stopped) => Some(std::mem::take(&mut e.tasks)),
                (TargetState::Stopped, _) => {
                    self.spawn_tasks(name, e)?;
                    None
                }
                _ => None,
            }
        };
        if let Some(tasks) = stopped {
            Self::join_tasks(name, tasks);
            self.0.board.remove_connector(name);
            // Source offsets reached so far are kept, as on a graceful worker stop.
            if let Err(e) = self.0.store.flush() {
                tracing::warn!("offset flush after stopping {name}: {e}");
            }
        }
        tracing::info!("Connector {name} target state set to {target:?}");
        Ok(())
    }

    pub fn pause(&self, name: &str) -> ApiResult<()> {
        self.set_target(name, TargetState::Paused)
    }

    pub fn resume(&self, name: &str) -> ApiResult<()> {
        self.set_target(name, TargetState::Started)
    }

    pub fn stop_connector(&self, name: &str) -> ApiResult<()> {
        self.set_target(name, TargetState::Stopped)
    }

    pub fn delete(&self, name: &str) -> ApiResult<()> {
        let _ops = lock(&self.0.ops);
        let entry = lock(&self.0.connectors)
            .remove(name)
            .ok_or_else(|| ApiError::not_found(format!("Connector {name} not found")))?;
        Self::join_tasks(name, entry.tasks);
        self.0.board.remove_connector(name);
        self.0.metrics.remove_connector(name);
        self.0.topics.reset(name);
        if let Err(e) = self.0.store.flush() {
            tracing::warn!("offset flush after deleting {name}: {e}");
        }
        tracing::info!("Deleted connector {name}");
        Ok(())
    }

    /// Restarts one task (`POST /connectors/{c}/tasks/{t}/restart`).
    pub fn restart_task(&self, name: &str, task: usize) -> ApiResult<()> {
        let _ops = lock(&self.0.ops);
        let run = {
            let mut map = lock(&self.0.connectors);
            let e = map
                .get_mut(name)
                .ok_or_else(|| ApiError::not_found(format!("Connector {name} not found")))?;
            if task >= e.tasks.len() {
                return Err(ApiError::not_found(format!("Task {name}-{task} not found")));
            }
            std::mem::replace(
                &mut e.tasks[task],
                TaskRun {
                    stop: StopSignal::default(),
                    thread: None,
                },
            )
        };
        Self::join_tasks(name, vec![run]);
        let mut map = lock(&self.0.connectors);
        let e = map
            .get_mut(name)
            .ok_or_else(|| ApiError::not_found(format!("Connector {name} not found")))?;
        self.respawn(name, e, task)
    }

    fn respawn(&self, name: &str, e: &mut Entry, task: usize) -> ApiResult<()> {
        e.tasks[task] = match self.start_config(name, e) {
            Ok(config) => self.spawn_task(name, &config, &e.pause, task)?,
            Err(message) => self.failed_task(name, task, &message),
        };
        Ok(())
    }

    /// `POST /connectors/{c}/restart`: without `include_tasks` only the connector object
    /// restarts (`None`: 204); otherwise the chosen tasks restart and the status is returned
    /// with them RESTARTING (202).
    pub fn restart_connector(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> ApiResult<Option<ConnectorStatus>> {
        let mut status = self
            .status(name)
            .map_err(|_| ApiError::not_found(format!("Unknown connector: {name}")))?;
        if !include_tasks {
            return Ok(None);
        }
        let chosen: Vec<usize> = status
            .tasks
            .iter()
            .filter(|t| !only_failed || t.state == State::Failed)
            .map(|t| t.id)
            .collect();
        for t in &mut status.tasks {
            if chosen.contains(&t.id) {
                t.state = State::Restarting;
            }
        }
        for &task in &chosen {
            self.0.board.set(
                &TaskLabel {
                    connector: name.to_string(),
                    task,
                },
                State::Restarting,
                self.0.board.get(name, task).and_then(|s| s.trace),
            );
        }
        let worker = self.clone();
        let name = name.to_string();
        // The answer reports RESTARTING; the restarts themselves follow.
        std::thread::spawn(move || {
            for task in chosen {
                if let Err(e) = worker.restart_task(&name, task) {
                    tracing::warn!("restart of {name}-{task} failed: {e}");
                }
            }
        });
        Ok(Some(status))
    }

    pub fn active_topics(&self, name: &str) -> ApiResult<Vec<String>> {
        if !lock(&self.0.connectors).contains_key(name) {
            return Err(ApiError::not_found(format!("Connector {name} not found")));
        }
        Ok(self.0.topics.get(name))
    }

    pub fn reset_active_topics(&self, name: &str) -> ApiResult<()> {
        if !lock(&self.0.connectors).contains_key(name) {
            return Err(ApiError::not_found(format!("Connector {name} not found")));
        }
        self.0.topics.reset(name);
        Ok(())
    }

    fn connector_config(&self, name: &str) -> ApiResult<(ConnectorConfig, TargetState)> {
        lock(&self.0.connectors)
            .get(name)
            .map(|e| (e.config.clone(), e.target))
            .ok_or_else(|| ApiError::not_found(format!("Connector {name} not found")))
    }

    /// `GET /connectors/{c}/offsets`: source offsets from the store; sink offsets are the
    /// consumer group's committed (next-to-read) offsets.
    pub fn offsets(&self, name: &str) -> ApiResult<Vec<OffsetEntry>> {
        let (config, _) = self.connector_config(name)?;
        match config.spec.kind() {
            ConnectorKind::Source => Ok(self.0.store.connector_offsets(name)),
            ConnectorKind::Sink => self.sink_offsets(&config),
        }
    }

    fn group_consumer(&self, connector: &ConnectorConfig) -> ApiResult<BaseConsumer> {
        let mut cfg: ClientConfig =
            crate::kafka::sink_consumer_config(&self.0.config, connector, 0)
                .map_err(|e| ApiError::internal(format!("Kafka client: {e}")))?;
        cfg.set("client.id", format!("connector-offsets-{}", connector.name));
        cfg.create()
            .map_err(|e| ApiError::internal(format!("Kafka client: {e}")))
    }

    fn sink_partitions(
        &self,
        consumer: &BaseConsumer,
        connector: &ConnectorConfig,
    ) -> ApiResult<TopicPartitionList> {
        let metadata = consumer
            .fetch_metadata(None, KAFKA_TIMEOUT)
            .map_err(|e| ApiError::internal(format!("Failed to fetch topic metadata: {e}")))?;
        let regex = match &connector.topics {
            Some(TopicSelection::Regex(r)) => regex::Regex::new(&format!("^(?:{r})$")).ok(),
            _ => None,
        };
        let mut tpl = TopicPartitionList::new();
        for t in metadata.topics() {
            let wanted = match &connector.topics {
                Some(TopicSelection::List(list)) => list.iter().any(|l| l == t.name()),
                Some(TopicSelection::Regex(_)) => {
                    regex.as_ref().is_some_and(|r| r.is_match(t.name()))
                }
                None => false,
            };
            if wanted {
                for p in t.partitions() {
                    tpl.add_partition(t.name(), p.id());
                }
            }
        }
        Ok(tpl)
    }

    fn sink_offsets(&self, connector: &ConnectorConfig) -> ApiResult<Vec<OffsetEntry>> {
        let consumer = self.group_consumer(connector)?;
        let tpl = self.sink_partitions(&consumer, connector)?;
        if tpl.count() == 0 {
            return Ok(Vec::new());
        }
        let committed = consumer
            .committed_offsets(tpl, KAFKA_TIMEOUT)
            .map_err(|e| {
                ApiError::internal(format!("Failed to retrieve consumer group offsets: {e}"))
            })?;
        let mut out: Vec<(String, i32, i64)> = committed
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some((e.topic().to_string(), e.partition(), o)),
                _ => None,
            })
            .collect();
        out.sort();
        Ok(out
            .into_iter()
            .map(|(t, p, o)| {
                let mut partition = Map::new();
                partition.insert("kafka_partition".into(), Value::from(p));
                partition.insert("kafka_topic".into(), Value::from(t));
                let mut offset = Map::new();
                offset.insert("kafka_offset".into(), Value::from(o));
                (partition, offset)
            })
            .collect())
    }

    fn require_stopped(&self, name: &str) -> ApiResult<ConnectorConfig> {
        let (config, target) = self.connector_config(name)?;
        if target != TargetState::Stopped {
            return Err(ApiError::bad_request(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
            )));
        }
        Ok(config)
    }

    /// `PATCH /connectors/{c}/offsets`: entries with a `null` offset are removed.
    pub fn alter_offsets(&self, name: &str, entries: OffsetPatch) -> ApiResult<String> {
        let _ops = lock(&self.0.ops);
        let config = self.require_stopped(name)?;
        if entries.is_empty() {
            return Err(ApiError::bad_request(
                "The offsets to be modified must not be empty",
            ));
        }
        match config.spec.kind() {
            ConnectorKind::Source => {
                for (partition, offset) in &entries {
                    validate_file_source_offset(partition, offset.as_ref())?;
                }
                for (partition, offset) in entries {
                    match offset {
                        Some(o) => self.0.store.put(name, [(partition, o)]),
                        None => self.0.store.remove(name, &partition),
                    }
                }
                self.0
                    .store
                    .flush()
                    .map_err(|e| ApiError::internal(e.to_string()))?;
            }
            ConnectorKind::Sink => self.alter_sink_offsets(&config, entries)?,
        }
        Ok("The offsets for this connector have been altered successfully".into())
    }

    fn alter_sink_offsets(
        &self,
        connector: &ConnectorConfig,
        entries: OffsetPatch,
    ) -> ApiResult<()> {
        let mut parsed = Vec::with_capacity(entries.len());
        for (partition, offset) in entries {
            let topic = partition
                .get("kafka_topic")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::bad_request("Kafka partitions must be specified with a 'kafka_topic' key whose value is a string"))?
                .to_string();
            let p = partition
                .get("kafka_partition")
                .and_then(Value::as_i64)
                .and_then(|p| i32::try_from(p).ok())
                .ok_or_else(|| ApiError::bad_request("Kafka partitions must be specified with a 'kafka_partition' key whose value is an integer"))?;
            let o = match offset {
                None => None,
                Some(o) => Some(
                    o.get("kafka_offset")
                        .and_then(Value::as_i64)
                        .filter(|o| *o >= 0)
                        .ok_or_else(|| ApiError::bad_request("Kafka offsets must be specified with a 'kafka_offset' key whose value is a non-negative integer"))?,
                ),
            };
            parsed.push((topic, p, o));
        }
        let consumer = self.group_consumer(connector)?;
        let removed: Vec<(String, i32)> = parsed
            .iter()
            .filter(|(_, _, o)| o.is_none())
            .map(|(t, p, _)| (t.clone(), *p))
            .collect();
        let mut commit: BTreeMap<(String, i32), i64> = BTreeMap::new();
        if !removed.is_empty() {
            // Kafka deletes single partitions' group offsets; without that admin call here,
            // the group is deleted and the offsets that stay are committed again.
            let current = self.sink_offsets(connector)?;
            for (p, o) in current {
                let t = p
                    .get("kafka_topic")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let part = p
                    .get("kafka_partition")
                    .and_then(Value::as_i64)
                    .unwrap_or(0) as i32;
                let off = o.get("kafka_offset").and_then(Value::as_i64).unwrap_or(0);
                commit.insert((t, part), off);
            }
            for k in &removed {
                commit.remove(k);
            }
            self.delete_group(&connector.name)?;
        }
        for (t, p, o) in parsed {
            if let Some(o) = o {
                commit.insert((t, p), o);
            }
        }
        if commit.is_empty() {
            return Ok(());
        }
        let mut tpl = TopicPartitionList::new();
        for ((t, p), o) in &commit {
            tpl.add_partition_offset(t, *p, Offset::Offset(*o))
                .map_err(|e| ApiError::internal(e.to_string()))?;
        }
        consumer.commit(&tpl, CommitMode::Sync).map_err(|e| {
            ApiError::internal(format!(
                "Failed to alter consumer group offsets for connector {}: {e}",
                connector.name
            ))
        })
    }

    fn delete_group(&self, connector: &str) -> ApiResult<()> {
        let cfg = crate::kafka::admin_config(&self.0.config)
            .map_err(|e| ApiError::internal(format!("Kafka admin client: {e}")))?;
        let admin: AdminClient<DefaultClientContext> = cfg
            .create()
            .map_err(|e| ApiError::internal(format!("Kafka admin client: {e}")))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let group = format!("connect-{connector}");
        let results = rt
            .block_on(admin.delete_groups(
                &[group.as_str()],
                &AdminOptions::new().operation_timeout(Some(KAFKA_TIMEOUT)),
            ))
            .map_err(|e| {
                ApiError::internal(format!("Failed to reset consumer group offsets: {e}"))
            })?;
        for r in results {
            match r {
                Ok(_) => {}
                // Nothing committed yet: nothing to reset.
                Err((_, rdkafka::types::RDKafkaErrorCode::GroupIdNotFound)) => {}
                Err((_, code)) => {
                    return Err(ApiError::internal(format!(
                        "Failed to reset consumer group offsets for connector {connector}: {code}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// `DELETE /connectors/{c}/offsets`.
    pub fn reset_offsets(&self, name: &str) -> ApiResult<String> {
        let _ops = lock(&self.0.ops);
        let config = self.require_stopped(name)?;
        match config.spec.kind() {
            ConnectorKind::Source => {
                for (p, _) in self.0.store.connector_offsets(name) {
                    self.0.store.remove(name, &p);
                }
                self.0
                    .store
                    .flush()
                    .map_err(|e| ApiError::internal(e.to_string()))?;
            }
            ConnectorKind::Sink => self.delete_group(name)?,
        }
        Ok("The offsets for this connector have been reset successfully".into())
    }

    /// Worker-level gauges for `/metrics`.
    pub fn gauges(&self) -> WorkerGauges {
        let map = lock(&self.0.connectors);
        let mut g = WorkerGauges {
            connectors: map.len(),
            ..Default::default()
        };
        for (name, e) in map.iter() {
            let s = self.status_of(name, e);
            let mut c = ConnectorTaskCounts {
                total: s.tasks.len(),
                ..Default::default()
            };
            for t in &s.tasks {
                match t.state {
                    State::Running => c.running += 1,
                    State::Paused => c.paused += 1,
                    State::Failed => c.failed += 1,
                    _ => {}
                }
            }
            g.tasks += c.total;
            g.per_connector.insert(name.clone(), c);
        }
        g
    }

    /// Stops every connector, waits for its tasks, and flushes source offsets.
    pub fn shutdown(&self) -> Result<()> {
        let _ops = lock(&self.0.ops);
        let all: Vec<(String, Vec<TaskRun>)> = lock(&self.0.connectors)
            .iter_mut()
            .map(|(n, e)| (n.clone(), std::mem::take(&mut e.tasks)))
            .collect();
        for (_, tasks) in &all {
            for t in tasks {
                t.stop.stop();
            }
        }
        for (name, tasks) in all {
            Self::join_tasks(&name, tasks);
        }
        self.0.store.flush()
    }
}

fn info_of(name: &str, e: &Entry) -> ConnectorInfo {
    let tasks = if e.target == TargetState::Stopped {
        Vec::new()
    } else {
        (0..e.task_count).collect()
    };
    ConnectorInfo {
        name: name.to_string(),
        config: e.props.clone(),
        tasks,
        kind: e.config.spec.kind(),
    }
}

fn invalid_config(errors: &[String]) -> ApiError {
    ApiError::bad_request(format!(
        "Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`",
        errors.len(),
        errors.join("\n")
    ))
}

/// Kafka's `PluginDesc` text for the "available connectors" list.
pub fn plugin_descriptions() -> String {
    Plugin::ALL
        .iter()
        .map(|p| {
            let kind = match p.kind() {
                ConnectorKind::Sink => "sink",
                ConnectorKind::Source => "source",
            };
            format!(
                "PluginDesc{{klass=class {c}, name='{c}', version='{v}', encodedVersion={v}, type={kind}, typeName='{kind}', location='classpath'}}",
                c = p.class_name(),
                v = crate::KAFKA_VERSION
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// FileStreamSourceConnector's `alterOffsets` checks.
fn validate_file_source_offset(
    partition: &Map<String, Value>,
    offset: Option<&Map<String, Value>>,
) -> ApiResult<()> {
    if !partition.get("filename").is_some_and(Value::is_string) {
        return Err(ApiError::bad_request(
            "The partition for FileStreamSourceConnector must contain the key 'filename' with a string value",
        ));
    }
    if let Some(o) = offset
        && o.get("position")
            .and_then(Value::as_i64)
            .is_none_or(|p| p < 0)
    {
        return Err(ApiError::bad_request(
            "The offset for FileStreamSourceConnector must contain the key 'position' with a non-negative integer value",
        ));
    }
    Ok(())
}
