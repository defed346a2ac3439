//! The distributed herder (Kafka's `DistributedHerder`): one thread keeps this worker a
//! member of the group, reads the config topic, runs what the leader assigned (connectors
//! publish their task configs, tasks run on the local [`Worker`]) and, as leader, computes
//! the assignment and writes what only the leader writes. The REST API reaches it through
//! [`DistributedHerder`], which answers reads from the shared view and sends leader-only
//! writes to the leader.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, mpsc};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use sluice_connectors::{ConnectorKind, Plugin};

use super::assignor::{IncrementalAssignor, Round, assign_eager};
use super::config::DistributedConfig;
use super::config_state::{Change, ConfigState};
use super::group::{GroupMember, GroupSettings, Joined};
use super::http;
use super::kafka_log::{KafkaLog, LogError, LogSpec, LogWriter};
use super::protocol::{Assignment, CONFIG_MISMATCH, Protocol, TaskId, Work, WorkerMetadata};
use super::records::{
    ConfigRecord, Props, PropsInOrder, Target, base64, parse_offset_key, props_json,
    task_props_in_java_order,
};
use super::status_store::{StatusStore, parse_state};
use crate::herder::Herder;
use crate::signal::PauseSignal;
use crate::status::State;
use crate::worker::{
    ApiError, ApiResult, ConnectorInfo, ConnectorStatus, OffsetEntry, OffsetPatch, OrderedProps,
    RunningTask, TargetState, TaskState, Worker,
};

/// How long a REST call waits for the herder (Kafka: 90 s).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(90);
const LOG_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum DistributedError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("cannot start the {what} thread: {source}")]
    Thread {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start a runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// What the herder thread is asked from outside.
enum Wake {
    /// Restart an owned connector (`task` None) or task.
    Restart {
        connector: String,
        task: Option<u32>,
    },
    Stop(mpsc::Sender<()>),
}

/// What REST threads read, kept by the herder thread.
#[derive(Debug, Default)]
struct View {
    state: ConfigState,
    generation: i32,
    member_id: String,
    leader_id: String,
    leader_url: Option<String>,
    /// A completed assignment is in force (false while joining).
    stable: bool,
    protocol: Option<Protocol>,
    /// Leader only: who runs each connector (task -1) and task, by REST URL.
    owners: BTreeMap<(String, i32), String>,
    /// What this worker runs.
    mine: Work,
}

impl View {
    fn is_leader(&self) -> bool {
        self.stable && !self.member_id.is_empty() && self.member_id == self.leader_id
    }
}

struct Shared {
    worker: Worker,
    config: DistributedConfig,
    url: String,
    worker_id: String,
    view: Mutex<View>,
    changed: Condvar,
    status: StatusStore,
    config_writer: LogWriter,
    offsets: Mutex<KafkaLog>,
    wake: Mutex<mpsc::Sender<Wake>>,
    started: AtomicBool,
}

impl Shared {
    fn view(&self) -> MutexGuard<'_, View> {
        self.view.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wake(&self, w: Wake) {
        let _ = self
            .wake
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(w);
    }

    /// Waits until the herder has read the config topic past `offset` (our own write).
    fn wait_applied(&self, offset: i64) -> ApiResult<()> {
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        let mut view = self.view();
        while view.state.offset() <= offset {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ApiError::new(500, "Request timed out"));
            }
            view = self
                .changed
                .wait_timeout(view, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        Ok(())
    }

    /// Waits for a completed assignment; then this worker is the leader (`Ok`) or the
    /// request goes to the leader (`Err` with `forward`).
    fn leader_or_forward(&self, what: &str) -> ApiResult<()> {
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        let mut view = self.view();
        while !view.stable {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ApiError::new(
                    409,
                    "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.",
                ));
            }
            view = self
                .changed
                .wait_timeout(view, left.min(Duration::from_millis(200)))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        if view.is_leader() {
            return Ok(());
        }
        match &view.leader_url {
            Some(url) => Err(ApiError::forward_to(url.clone(), what.to_string())),
            None => Err(ApiError::new(
                409,
                "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.",
            )),
        }
    }

    fn write(&self, record: &ConfigRecord) -> ApiResult<i64> {
        let value = record.value();
        self.config_writer
            .send(record.key().as_bytes(), value.as_deref())
            .map(|(_, offset)| offset)
            .map_err(|e| ApiError::new(500, format!("Error writing to the config topic: {e}")))
    }

    /// Leader: task configs then their commit, as Kafka's `putTaskConfigs`.
    fn write_task_configs(&self, connector: &str, tasks: &[Props]) -> ApiResult<()> {
        let mut last = -1;
        for (i, props) in tasks.iter().enumerate() {
            last = self.write(&ConfigRecord::Task {
                connector: connector.to_string(),
                task: u32::try_from(i).unwrap_or(u32::MAX),
                props: props.clone(),
            })?;
        }
        if last >= 0 {
            self.wait_applied(last)?;
        }
        let commit = self.write(&ConfigRecord::Commit {
            connector: connector.to_string(),
            tasks: u32::try_from(tasks.len()).unwrap_or(u32::MAX),
        })?;
        self.wait_applied(commit)
    }

    fn session_key(&self) -> Option<Vec<u8>> {
        self.view().state.session_key().map(|k| k.key.clone())
    }
}

/// The REST API's handle on the distributed herder.
#[derive(Clone)]
pub struct DistributedHerder(Arc<Shared>);

impl std::fmt::Debug for DistributedHerder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DistributedHerder")
            .field("worker_id", &self.0.worker_id)
            .finish_non_exhaustive()
    }
}

fn internal_log(
    worker: &Worker,
    t: &super::config::TopicSettings,
    key: &'static str,
    purpose: &'static str,
    client_id: String,
    single: bool,
) -> Result<KafkaLog, LogError> {
    KafkaLog::open(
        worker.config(),
        &LogSpec {
            topic: t.topic.clone(),
            partitions: t.partitions,
            replication: t.replication,
            settings: t.configs.clone(),
            key,
            purpose,
            single_partition: single,
        },
        &client_id,
    )
}

impl DistributedHerder {
    /// Opens the internal topics, reads them, and starts the herder thread (which joins the
    /// group). `url` is this worker's advertised REST URL.
    pub fn start(
        worker: Worker,
        config: DistributedConfig,
        url: String,
    ) -> Result<Self, DistributedError> {
        let worker_id = url
            .split_once("://")
            .map(|(_, r)| r)
            .unwrap_or(&url)
            .trim_end_matches('/')
            .to_string();
        worker.set_worker_id(worker_id.clone());
        let base = format!("{}-", config.group_id);
        let mut config_log = internal_log(
            &worker,
            &config.configs,
            "config.storage.topic",
            "connector configurations",
            format!("{base}configs"),
            true,
        )?;
        let offsets_log = internal_log(
            &worker,
            &config.offsets,
            "offset.storage.topic",
            "source connector offsets",
            format!("{base}offsets"),
            false,
        )?;
        let status_log = internal_log(
            &worker,
            &config.statuses,
            "status.storage.topic",
            "connector and task statuses",
            format!("{base}statuses"),
            false,
        )?;
        let mut state = ConfigState::new();
        for r in config_log.read_to_end(Duration::from_secs(60))? {
            if let Some(k) = &r.key {
                state.apply(r.offset, &String::from_utf8_lossy(k), r.value.as_deref());
            }
        }
        let status = StatusStore::start(status_log, &worker_id)?;
        worker.offset_store().write_to_topic(offsets_log.writer());
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            worker: worker.clone(),
            config: config.clone(),
            url: url.clone(),
            worker_id: worker_id.clone(),
            view: Mutex::new(View {
                state,
                generation: -1,
                ..Default::default()
            }),
            changed: Condvar::new(),
            status: status.clone(),
            config_writer: config_log.writer(),
            offsets: Mutex::new(offsets_log),
            wake: Mutex::new(tx),
            started: AtomicBool::new(false),
        });
        // Task states go to the status topic; a task that stopped is UNASSIGNED there,
        // as Kafka's worker writes on shutdown.
        let st = status.clone();
        worker
            .status_board()
            .listen(Arc::new(move |label, state, trace| {
                let task = u32::try_from(label.task).unwrap_or(u32::MAX);
                match state {
                    State::Unassigned => {}
                    State::Stopped => st.put_task(&label.connector, task, State::Unassigned, None),
                    s => st.put_task(&label.connector, task, s, trace),
                }
            }));
        let settings = GroupSettings {
            bootstrap: worker
                .config()
                .bootstrap_servers
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            group_id: config.group_id.clone(),
            client_id: format!("connect-{worker_id}"),
            session_timeout: config.session_timeout,
            rebalance_timeout: config.rebalance_timeout,
            heartbeat_interval: config.heartbeat_interval,
            request_timeout: Duration::from_secs(40),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(DistributedError::Runtime)?;
        let max_delay =
            i32::try_from(config.scheduled_rebalance_max_delay.as_millis()).unwrap_or(i32::MAX);
        let mut herder = Loop {
            shared: shared.clone(),
            rt,
            member: GroupMember::new(settings),
            config_log,
            assignor: IncrementalAssignor::new(max_delay),
            last_completed_generation: -1,
            last_assignment: None,
            tasks: BTreeMap::new(),
            pauses: BTreeMap::new(),
            rejoin: Arc::new(AtomicBool::new(true)),
            heartbeat_epoch: Arc::new(AtomicU64::new(0)),
            scheduled_rejoin: None,
            wake: rx,
            joined_once: false,
        };
        std::thread::Builder::new()
            .name("herder".into())
            .spawn(move || herder.run())
            .map_err(|source| DistributedError::Thread {
                what: "herder",
                source,
            })?;
        Ok(Self(shared))
    }

    /// Stops every task (sinks commit what they flushed), leaves the group.
    pub fn stop(&self) {
        let (tx, rx) = mpsc::channel();
        self.0.wake(Wake::Stop(tx));
        let _ = rx.recv_timeout(Duration::from_secs(60));
        self.0.status.close();
    }

    pub fn worker_id(&self) -> &str {
        &self.0.worker_id
    }

    fn exists(&self, name: &str, message: impl FnOnce() -> String) -> ApiResult<()> {
        if self.0.view().state.contains(name) {
            Ok(())
        } else {
            Err(ApiError::new(404, message()))
        }
    }

    fn info_of(&self, name: &str, view: &View) -> ApiResult<ConnectorInfo> {
        let props = view
            .state
            .connector_config(name)
            .ok_or_else(|| ApiError::new(404, format!("Connector {name} not found")))?;
        let kind = kind_of(props);
        Ok(ConnectorInfo {
            name: name.to_string(),
            config: props.clone(),
            tasks: view
                .state
                .tasks(name)
                .into_iter()
                .map(|t| t as usize)
                .collect(),
            kind,
        })
    }

    fn put(
        &self,
        name: &str,
        props: OrderedProps,
        create_only: bool,
    ) -> ApiResult<(bool, ConnectorInfo)> {
        self.0.worker.validate_config(name, &props)?;
        let exists = self.0.view().state.contains(name);
        if create_only && exists {
            return Err(ApiError::new(
                409,
                format!("Connector {name} already exists"),
            ));
        }
        self.0
            .leader_or_forward("Only the leader can set connector configs.")?;
        let exists = self.0.view().state.contains(name);
        if create_only && exists {
            return Err(ApiError::new(
                409,
                format!("Connector {name} already exists"),
            ));
        }
        let offset = self.0.write(&ConfigRecord::Connector {
            name: name.to_string(),
            props: Some(props),
        })?;
        self.0.wait_applied(offset)?;
        let view = self.0.view();
        Ok((!exists, self.info_of(name, &view)?))
    }

    fn set_target(&self, name: &str, target: Target) -> ApiResult<()> {
        self.exists(name, || format!("Unknown connector {name}"))?;
        self.0.write(&ConfigRecord::TargetState {
            connector: name.to_string(),
            state: Some(target),
        })?;
        Ok(())
    }

    /// Kafka's routing of a single restart: done here by its owner; the leader sends it to
    /// the owner; anyone else sends it to the leader. `task` -1 is the connector.
    #[allow(clippy::too_many_arguments)]
    fn route_restart(
        &self,
        name: &str,
        task: i32,
        mine: bool,
        leader: bool,
        owner: Option<String>,
        not_assigned: &str,
        unknown: String,
    ) -> ApiResult<()> {
        if mine {
            self.0.restart_requests(name, u32::try_from(task).ok());
            return Ok(());
        }
        if leader {
            return match owner {
                Some(url) => Err(ApiError::forward_to(url, not_assigned)),
                None => Err(ApiError::new(404, unknown)),
            };
        }
        self.0
            .leader_or_forward("Only the leader can process restart requests.")?;
        Err(ApiError::new(
            409,
            "Cannot complete request because of a conflicting operation (e.g. worker rebalance)",
        ))
    }

    fn verify_signature(&self, body: &[u8], signature: Option<(&str, &str)>) -> ApiResult<()> {
        if self.0.view().protocol != Some(Protocol::Sessioned) {
            return Ok(());
        }
        let Some((algorithm, signature)) = signature else {
            return Err(ApiError::new(
                400,
                "Internal request missing required signature",
            ));
        };
        if !self
            .0
            .config
            .verification_algorithms
            .iter()
            .any(|a| a == algorithm)
        {
            return Err(ApiError::new(
                400,
                format!(
                    "This worker does not support the '{algorithm}' key signing algorithm used by other workers. This worker is currently configured to use: [{}]. Check that all workers' configuration files permit the same set of signature algorithms, and correct any misconfigured worker and restart it.",
                    self.0.config.verification_algorithms.join(", ")
                ),
            ));
        }
        let Some(key) = self.0.session_key() else {
            return Err(ApiError::new(
                503,
                "This worker is still starting up and has not been able to read a session key from the config topic yet",
            ));
        };
        let expected = hmac_sha256(&key, body).map_err(|e| ApiError::new(500, e))?;
        let given = super::records::unbase64(signature).unwrap_or_default();
        if !openssl::memcmp::eq(&expected, &given) || expected.len() != given.len() {
            return Err(ApiError::new(
                403,
                "Internal request contained invalid signature.",
            ));
        }
        Ok(())
    }
}

fn hmac_sha256(key: &[u8], body: &[u8]) -> Result<Vec<u8>, String> {
    let pkey = openssl::pkey::PKey::hmac(key).map_err(|e| e.to_string())?;
    let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &pkey)
        .map_err(|e| e.to_string())?;
    signer.update(body).map_err(|e| e.to_string())?;
    signer.sign_to_vec().map_err(|e| e.to_string())
}

fn kind_of(props: &Props) -> ConnectorKind {
    props
        .iter()
        .find(|(k, _)| k == "connector.class")
        .and_then(|(_, c)| Plugin::from_class(c))
        .map_or(ConnectorKind::Sink, |p| p.kind())
}

fn task_class(props: &Props) -> &'static str {
    match props
        .iter()
        .find(|(k, _)| k == "connector.class")
        .and_then(|(_, c)| Plugin::from_class(c))
    {
        Some(Plugin::FileStreamSource) => "org.apache.kafka.connect.file.FileStreamSourceTask",
        Some(Plugin::ParquetSink) => "sluice.connect.parquet.ParquetSinkTask",
        _ => "org.apache.kafka.connect.file.FileStreamSinkTask",
    }
}

/// JSON of task configs as a worker posts them to the leader (`[{...},...]`).
fn task_configs_json(tasks: &[Props]) -> Vec<u8> {
    let mut out = vec![b'['];
    for (i, props) in tasks.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        props_json(&mut out, props);
    }
    out.push(b']');
    out
}

fn parse_task_configs(body: &[u8]) -> Option<Vec<Props>> {
    serde_json::from_slice::<Vec<PropsInOrder>>(body)
        .ok()
        .map(|v| v.into_iter().map(|o| o.0).collect())
}

impl Herder for DistributedHerder {
    fn connector_names(&self) -> Vec<String> {
        self.0.view().state.connectors().cloned().collect()
    }

    fn info(&self, name: &str) -> ApiResult<ConnectorInfo> {
        let view = self.0.view();
        self.info_of(name, &view)
    }

    fn props(&self, name: &str) -> ApiResult<OrderedProps> {
        self.0
            .view()
            .state
            .connector_config(name)
            .cloned()
            .ok_or_else(|| ApiError::new(404, format!("Connector {name} not found")))
    }

    fn task_configs(&self, name: &str) -> ApiResult<Vec<(usize, OrderedProps)>> {
        let view = self.0.view();
        if !view.state.contains(name) {
            return Err(ApiError::new(404, format!("Connector {name} not found")));
        }
        Ok(view
            .state
            .tasks(name)
            .into_iter()
            .filter_map(|t| {
                view.state
                    .task_config(name, t)
                    .map(|p| (t as usize, p.clone()))
            })
            .collect())
    }

    fn status(&self, name: &str) -> ApiResult<ConnectorStatus> {
        let kind = {
            let view = self.0.view();
            view.state.connector_config(name).map(kind_of)
        };
        let connector = self.0.status.connector(name);
        let (Some(kind), Some(c)) = (kind, connector) else {
            return Err(ApiError::new(
                404,
                format!("No status found for connector {name}"),
            ));
        };
        Ok(ConnectorStatus {
            name: name.to_string(),
            state: parse_state(&c.state),
            worker_id: Some(c.worker_id),
            tasks: self
                .0
                .status
                .tasks(name)
                .into_iter()
                .map(|(id, s)| TaskState {
                    id: id as usize,
                    state: parse_state(&s.state),
                    trace: s.trace,
                    worker_id: Some(s.worker_id),
                })
                .collect(),
            kind,
        })
    }

    fn task_status(&self, name: &str, task: usize) -> ApiResult<TaskState> {
        let t = u32::try_from(task).unwrap_or(u32::MAX);
        self.0
            .status
            .tasks(name)
            .into_iter()
            .find(|(id, _)| *id == t)
            .map(|(id, s)| TaskState {
                id: id as usize,
                state: parse_state(&s.state),
                trace: s.trace,
                worker_id: Some(s.worker_id),
            })
            .ok_or_else(|| ApiError::new(404, format!("No status found for task {name}-{task}")))
    }

    fn create(
        &self,
        name: &str,
        props: OrderedProps,
        initial: TargetState,
    ) -> ApiResult<ConnectorInfo> {
        if initial != TargetState::Started {
            // The target state goes first, so the connector starts in it.
            self.0.worker.validate_config(name, &props)?;
            if self.0.view().state.contains(name) {
                return Err(ApiError::new(
                    409,
                    format!("Connector {name} already exists"),
                ));
            }
            self.0
                .leader_or_forward("Only the leader can set connector configs.")?;
            self.0.write(&ConfigRecord::TargetState {
                connector: name.to_string(),
                state: Some(match initial {
                    TargetState::Paused => Target::Paused,
                    _ => Target::Stopped,
                }),
            })?;
        }
        self.put(name, props, true).map(|(_, info)| info)
    }

    fn put_config(&self, name: &str, props: OrderedProps) -> ApiResult<(bool, ConnectorInfo)> {
        self.put(name, props, false)
    }

    fn delete(&self, name: &str) -> ApiResult<()> {
        self.0
            .leader_or_forward("Only the leader can delete connector configs.")?;
        self.exists(name, || format!("Connector {name} not found"))?;
        self.0.write(&ConfigRecord::Connector {
            name: name.to_string(),
            props: None,
        })?;
        let offset = self.0.write(&ConfigRecord::TargetState {
            connector: name.to_string(),
            state: None,
        })?;
        self.0.wait_applied(offset)
    }

    fn pause(&self, name: &str) -> ApiResult<()> {
        self.set_target(name, Target::Paused)
    }

    fn resume(&self, name: &str) -> ApiResult<()> {
        self.set_target(name, Target::Started)
    }

    fn stop_connector(&self, name: &str) -> ApiResult<()> {
        self.exists(name, || format!("Unknown connector {name}"))?;
        self.0
            .leader_or_forward("Only the leader can transition connectors to the STOPPED state.")?;
        // Tasks first: a RUNNING connector with no tasks is better than a STOPPED one
        // that still has them.
        self.0.write_task_configs(name, &[])?;
        let offset = self.0.write(&ConfigRecord::TargetState {
            connector: name.to_string(),
            state: Some(Target::Stopped),
        })?;
        self.0.wait_applied(offset)
    }

    fn restart_task(&self, name: &str, task: usize) -> ApiResult<()> {
        self.exists(name, || format!("Unknown connector: {name}"))?;
        let t = i32::try_from(task).unwrap_or(i32::MAX);
        let (mine, leader, owner) = {
            let v = self.0.view();
            if !v.state.tasks(name).contains(&(t as u32)) {
                return Err(ApiError::new(404, format!("Unknown task: {name}-{task}")));
            }
            (
                v.mine.tasks.contains(&TaskId::new(name, t)),
                v.is_leader(),
                v.owners.get(&(name.to_string(), t)).cloned(),
            )
        };
        self.route_restart(
            name,
            t,
            mine,
            leader,
            owner,
            "Cannot restart task since it is not assigned to this member",
            format!("Unknown task: {name}-{task}"),
        )
    }

    fn restart_connector(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> ApiResult<Option<ConnectorStatus>> {
        self.exists(name, || format!("Unknown connector: {name}"))?;
        if !include_tasks && !only_failed {
            let (mine, leader, owner) = {
                let v = self.0.view();
                (
                    v.mine.connectors.contains(name),
                    v.is_leader(),
                    v.owners.get(&(name.to_string(), -1)).cloned(),
                )
            };
            self.route_restart(
                name,
                -1,
                mine,
                leader,
                owner,
                "Cannot restart connector since it is not assigned to this member",
                format!("Unknown connector: {name}"),
            )?;
            return Ok(None);
        }
        self.0
            .leader_or_forward("Only the leader can process restart requests.")?;
        let offset = self.0.write(&ConfigRecord::Restart {
            connector: name.to_string(),
            include_tasks,
            only_failed,
        })?;
        self.0.wait_applied(offset)?;
        let mut status = self
            .status(name)
            .map_err(|_| ApiError::new(404, format!("Status for connector {name} not found")))?;
        if !only_failed || status.state == State::Failed {
            status.state = State::Restarting;
        }
        if include_tasks {
            for t in &mut status.tasks {
                if !only_failed || t.state == State::Failed {
                    t.state = State::Restarting;
                }
            }
        }
        Ok(Some(status))
    }

    fn active_topics(&self, name: &str) -> ApiResult<Vec<String>> {
        self.exists(name, || format!("Connector {name} not found"))?;
        Ok(self.0.worker.status_topics(name))
    }

    fn reset_active_topics(&self, name: &str) -> ApiResult<()> {
        self.exists(name, || format!("Connector {name} not found"))?;
        self.0.worker.reset_status_topics(name);
        Ok(())
    }

    fn offsets(&self, name: &str) -> ApiResult<Vec<OffsetEntry>> {
        let props = self.props(name)?;
        if kind_of(&props) == ConnectorKind::Sink {
            let config = self.0.worker.validate_config(name, &props)?;
            return self.0.worker.sink_offsets_of(&config);
        }
        self.0.load_offsets().map_err(|e| {
            ApiError::new(
                500,
                format!("Failed to retrieve offsets for source connector {name}: {e}"),
            )
        })?;
        Ok(self.0.worker.offset_store().connector_offsets(name))
    }

    fn alter_offsets(&self, name: &str, entries: OffsetPatch) -> ApiResult<String> {
        let _ = entries;
        self.exists(name, || format!("Connector {name} not found"))?;
        Err(ApiError::new(
            501,
            "Altering offsets is not supported by sluice's distributed mode yet",
        ))
    }

    fn reset_offsets(&self, name: &str) -> ApiResult<String> {
        self.exists(name, || format!("Connector {name} not found"))?;
        Err(ApiError::new(
            501,
            "Resetting offsets is not supported by sluice's distributed mode yet",
        ))
    }

    fn is_started(&self) -> bool {
        self.0.started.load(Ordering::SeqCst)
    }

    fn put_task_configs(
        &self,
        name: &str,
        body: &[u8],
        signature: Option<(&str, &str)>,
    ) -> ApiResult<()> {
        self.verify_signature(body, signature)?;
        let tasks = parse_task_configs(body).ok_or_else(|| {
            ApiError::new(400, "Task configs must be a JSON array of string maps")
        })?;
        self.0
            .leader_or_forward("Only the leader may write task configurations.")?;
        let target = {
            let v = self.0.view();
            if !v.state.contains(name) {
                return Err(ApiError::new(404, format!("Connector {name} not found")));
            }
            v.state.target(name)
        };
        if target == Some(Target::Stopped) && !tasks.is_empty() {
            return Err(ApiError::new(
                400,
                format!("Cannot submit non-empty set of task configs for stopped connector {name}"),
            ));
        }
        self.0.write_task_configs(name, &tasks)
    }
}

impl Shared {
    /// A restart of an owned connector (`task` None) or task, done by the herder thread.
    fn restart_requests(&self, connector: &str, task: Option<u32>) {
        self.wake(Wake::Restart {
            connector: connector.to_string(),
            task,
        });
    }

    /// Reads the offsets topic to its end into the worker's offset store (source tasks
    /// may have run elsewhere).
    fn load_offsets(&self) -> Result<(), LogError> {
        let mut log = self.offsets.lock().unwrap_or_else(PoisonError::into_inner);
        let store = self.worker.offset_store();
        for r in log.read_to_end(LOG_TIMEOUT)? {
            if let Some((c, p)) = r.key.as_deref().and_then(parse_offset_key) {
                let o = r
                    .value
                    .as_deref()
                    .and_then(|v| serde_json::from_slice::<Map<String, Value>>(v).ok());
                store.load(&c, p, o);
            }
        }
        Ok(())
    }
}

/// The herder thread.
struct Loop {
    shared: Arc<Shared>,
    rt: tokio::runtime::Runtime,
    member: GroupMember,
    config_log: KafkaLog,
    assignor: IncrementalAssignor,
    last_completed_generation: i32,
    last_assignment: Option<Assignment>,
    tasks: BTreeMap<(String, u32), RunningTask>,
    pauses: BTreeMap<String, PauseSignal>,
    rejoin: Arc<AtomicBool>,
    heartbeat_epoch: Arc<AtomicU64>,
    scheduled_rejoin: Option<Instant>,
    wake: mpsc::Receiver<Wake>,
    joined_once: bool,
}

impl Loop {
    fn run(&mut self) {
        loop {
            while let Ok(w) = self.wake.try_recv() {
                match w {
                    Wake::Restart { connector, task } => match task {
                        None => self.start_connector(&connector),
                        Some(t) => {
                            self.stop_task(&connector, t);
                            self.start_task(&connector, t);
                        }
                    },
                    Wake::Stop(done) => {
                        self.shutdown();
                        let _ = done.send(());
                        return;
                    }
                }
            }
            if self.scheduled_rejoin.is_some_and(|t| Instant::now() >= t) {
                self.scheduled_rejoin = None;
                tracing::info!(
                    "Requesting rebalance because scheduled rebalance timeout has been reached"
                );
                self.rejoin.store(true, Ordering::SeqCst);
            }
            if self.rejoin.swap(false, Ordering::SeqCst) {
                if let Err(e) = self.rebalance() {
                    tracing::warn!("rebalance failed: {e}; retrying");
                    self.rejoin.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(500));
                }
                continue;
            }
            self.read_config(Duration::from_millis(100));
        }
    }

    fn read_config(&mut self, wait: Duration) {
        let records = match self.config_log.poll(wait) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("reading the config topic: {e}");
                std::thread::sleep(Duration::from_millis(200));
                return;
            }
        };
        self.apply_records(records);
    }

    fn read_config_to_end(&mut self) -> bool {
        match self
            .config_log
            .read_to_end(self.shared.config.worker_sync_timeout)
        {
            Ok(records) => {
                self.apply_records(records);
                true
            }
            Err(e) => {
                tracing::warn!("Didn't reach end of config log quickly enough: {e}");
                false
            }
        }
    }

    fn apply_records(&mut self, records: Vec<super::kafka_log::LogRecord>) {
        if records.is_empty() {
            return;
        }
        let mut changes = Vec::new();
        {
            let mut view = self.shared.view();
            for r in records {
                if let Some(k) = &r.key {
                    changes.extend(view.state.apply(
                        r.offset,
                        &String::from_utf8_lossy(k),
                        r.value.as_deref(),
                    ));
                }
            }
        }
        self.shared.changed.notify_all();
        for c in changes {
            self.handle(c);
        }
    }

    fn handle(&mut self, change: Change) {
        match change {
            Change::ConnectorAdded(_) => self.rejoin.store(true, Ordering::SeqCst),
            Change::ConnectorRemoved(c) => {
                self.stop_connector_work(&c);
                self.rejoin.store(true, Ordering::SeqCst);
            }
            Change::ConnectorUpdated(c) => {
                if self.owns_connector(&c) {
                    self.shared
                        .status
                        .put_connector(&c, State::Unassigned, None);
                    self.start_connector(&c);
                }
            }
            Change::TargetState(c) => self.apply_target(&c),
            Change::TasksCommitted(c, _) => {
                // Tasks of this connector restart with their new configs after the rebalance.
                let mine = self.tasks_of(&c);
                for t in mine {
                    self.stop_task(&c, t);
                }
                self.rejoin.store(true, Ordering::SeqCst);
            }
            Change::Restart {
                connector,
                include_tasks,
                only_failed,
            } => self.restart(&connector, include_tasks, only_failed),
            Change::SessionKey => {}
            Change::LoggerLevel { namespace, level } => {
                tracing::info!("cluster logger level {namespace}={level}");
            }
        }
    }

    fn owns_connector(&self, c: &str) -> bool {
        self.shared.view().mine.connectors.contains(c)
    }

    fn pause_of(&mut self, c: &str) -> PauseSignal {
        let target = self.shared.view().state.target(c);
        let p = self.pauses.entry(c.to_string()).or_default();
        p.set(target == Some(Target::Paused));
        p.clone()
    }

    fn apply_target(&mut self, c: &str) {
        let target = self.shared.view().state.target(c);
        let pause = self.pause_of(c);
        pause.set(target == Some(Target::Paused));
        if self.owns_connector(c) {
            match target {
                Some(Target::Paused) => self.shared.status.put_connector(c, State::Paused, None),
                Some(Target::Stopped) => {
                    self.shared.status.put_connector(c, State::Stopped, None);
                }
                _ => {
                    self.shared.status.put_connector(c, State::Running, None);
                    self.reconfigure(c);
                }
            }
        }
        if target == Some(Target::Stopped) {
            let mine = self.tasks_of(c);
            for t in mine {
                self.stop_task(c, t);
            }
        }
    }

    /// Kafka's restart plan for this worker's share of a connector.
    fn restart(&mut self, c: &str, include_tasks: bool, only_failed: bool) {
        let failed =
            |s: Option<super::records::StatusValue>| s.is_some_and(|s| s.state == "FAILED");
        if self.owns_connector(c) && (!only_failed || failed(self.shared.status.connector(c))) {
            self.shared.status.put_connector(c, State::Restarting, None);
            self.start_connector(c);
        }
        if !include_tasks {
            return;
        }
        let statuses: BTreeMap<u32, _> = self.shared.status.tasks(c).into_iter().collect();
        let mine = self.tasks_of(c);
        for t in mine {
            if only_failed && !failed(statuses.get(&t).cloned()) {
                continue;
            }
            self.shared.status.put_task(c, t, State::Restarting, None);
            self.stop_task(c, t);
            self.start_task(c, t);
        }
    }

    fn stop_connector_work(&mut self, c: &str) {
        let mine = self.tasks_of(c);
        for t in mine {
            self.stop_task(c, t);
        }
        self.pauses.remove(c);
    }

    /// The connector instance: its status, and its task configs published if they changed.
    fn start_connector(&mut self, c: &str) {
        let target = self.shared.view().state.target(c);
        match target {
            Some(Target::Stopped) => {
                self.shared.status.put_connector(c, State::Stopped, None);
                return;
            }
            Some(Target::Paused) => self.shared.status.put_connector(c, State::Paused, None),
            _ => self.shared.status.put_connector(c, State::Running, None),
        }
        self.reconfigure(c);
    }

    fn reconfigure(&mut self, c: &str) {
        let (props, current) = {
            let v = self.shared.view();
            let Some(props) = v.state.connector_config(c).cloned() else {
                return;
            };
            let current: Vec<Option<Props>> = v
                .state
                .tasks(c)
                .into_iter()
                .map(|t| v.state.task_config(c, t).cloned())
                .collect();
            (props, current)
        };
        let config = match self.shared.worker.validate_config(c, &props) {
            Ok(cfg) => cfg,
            Err(e) => {
                self.shared
                    .status
                    .put_connector(c, State::Failed, Some(&e.message));
                return;
            }
        };
        let n = config.spec.task_count(config.tasks_max);
        let mut task = props.clone();
        task.push(("task.class".into(), task_class(&props).into()));
        let task = task_props_in_java_order(&task);
        let wanted: Vec<Props> = (0..n).map(|_| task.clone()).collect();
        let same = current.len() == wanted.len()
            && current
                .iter()
                .zip(&wanted)
                .all(|(have, want)| have.as_ref() == Some(want));
        if same {
            return;
        }
        self.publish(c, wanted);
    }

    /// Task configs to the config topic: written by the leader itself, or posted to it.
    fn publish(&mut self, c: &str, tasks: Vec<Props>) {
        let (leader, url, sessioned) = {
            let v = self.shared.view();
            (
                v.is_leader(),
                v.leader_url.clone(),
                v.protocol == Some(Protocol::Sessioned),
            )
        };
        let shared = self.shared.clone();
        let c = c.to_string();
        // Off the herder thread: the leader's write waits for the herder to read it back.
        let spawned = std::thread::Builder::new()
            .name(format!("publish-{c}"))
            .spawn(move || {
                if leader {
                    if let Err(e) = shared.write_task_configs(&c, &tasks) {
                        tracing::error!("writing task configs of {c}: {}", e.message);
                    }
                    return;
                }
                let Some(url) = url else {
                    tracing::error!("Request to leader to reconfigure connector tasks failed because the URL of the leader's REST interface is empty!");
                    return;
                };
                let body = task_configs_json(&tasks);
                let mut backoff = Duration::from_millis(250);
                for _ in 0..12 {
                    let key = shared.session_key();
                    let mut headers: Vec<(String, String)> = Vec::new();
                    if sessioned && let Some(key) = key {
                        match hmac_sha256(&key, &body) {
                            Ok(mac) => {
                                headers.push(("X-Connect-Authorization".into(), base64(&mac)));
                                headers.push((
                                    "X-Connect-Request-Signature-Algorithm".into(),
                                    "HmacSHA256".into(),
                                ));
                            }
                            Err(e) => tracing::error!("signing task configs: {e}"),
                        }
                    }
                    let h: Vec<(&str, &str)> =
                        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    let target = http::join(&url, &format!("/connectors/{c}/tasks"));
                    match http::request("POST", &target, &h, Some(&body), REQUEST_TIMEOUT) {
                        Ok(r) if r.status < 300 => return,
                        Ok(r) => tracing::warn!(
                            "posting task configs of {c} to the leader: HTTP {} {}",
                            r.status,
                            String::from_utf8_lossy(&r.body)
                        ),
                        Err(e) => tracing::warn!("posting task configs of {c} to the leader: {e}"),
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start publishing task configs: {e}");
        }
    }

    fn start_task(&mut self, c: &str, t: u32) {
        if self.tasks.contains_key(&(c.to_string(), t)) {
            return;
        }
        let props = self.shared.view().state.task_config(c, t).cloned();
        let Some(mut props) = props else {
            self.shared
                .status
                .put_task(c, t, State::Failed, Some("no task configuration"));
            return;
        };
        props.retain(|(k, _)| k != "task.class");
        let config = match self.shared.worker.validate_config(c, &props) {
            Ok(cfg) => cfg,
            Err(e) => {
                self.shared
                    .status
                    .put_task(c, t, State::Failed, Some(&e.message));
                return;
            }
        };
        if config.spec.kind() == ConnectorKind::Source {
            self.load_offsets();
        }
        let pause = self.pause_of(c);
        match self
            .shared
            .worker
            .start_task(c, &config, &pause, t as usize)
        {
            Ok(run) => {
                self.tasks.insert((c.to_string(), t), run);
            }
            Err(e) => self
                .shared
                .status
                .put_task(c, t, State::Failed, Some(&e.message)),
        }
    }

    /// Source tasks start from the offsets topic's latest (they may have run elsewhere).
    fn load_offsets(&self) {
        if let Err(e) = self.shared.load_offsets() {
            tracing::warn!("reading the offsets topic: {e}");
        }
    }

    /// This worker's tasks of connector `c`.
    fn tasks_of(&self, c: &str) -> Vec<u32> {
        self.tasks
            .keys()
            .filter(|(tc, _)| tc == c)
            .map(|(_, t)| *t)
            .collect()
    }

    fn stop_task(&mut self, c: &str, t: u32) {
        if let Some(run) = self.tasks.remove(&(c.to_string(), t)) {
            Worker::stop_tasks(c, vec![run]);
        }
        if let Err(e) = self.shared.worker.offset_store().flush() {
            tracing::warn!("offset flush after stopping {c}-{t}: {e}");
        }
    }

    fn metadata(&self) -> WorkerMetadata {
        let mine = self.shared.view().mine.clone();
        WorkerMetadata {
            url: self.shared.url.clone(),
            config_offset: self.shared.view().state.offset(),
            allocation: self.last_assignment.as_ref().map(|a| Assignment {
                assigned: mine.assigned_allocation(),
                revoked: Vec::new(),
                ..a.clone()
            }),
        }
    }

    fn rebalance(&mut self) -> Result<(), super::group::GroupError> {
        // Heartbeats of the old generation stop; the new one starts its own.
        self.heartbeat_epoch.fetch_add(1, Ordering::SeqCst);
        {
            let mut v = self.shared.view();
            v.stable = false;
        }
        let protocol = self.shared.config.protocol;
        if protocol == Protocol::Eager || self.shared.view().protocol == Some(Protocol::Eager) {
            self.revoke_all();
        }
        let meta = self.metadata();
        let offers: Vec<(Protocol, Vec<u8>)> = protocol
            .offered()
            .iter()
            .map(|p| (*p, meta.encode(*p)))
            .collect();
        let joined = self.rt.block_on(self.member.join(&offers))?;
        let assignments = if joined.is_leader() {
            self.read_config_to_end();
            self.lead(&joined)
        } else {
            Vec::new()
        };
        let bytes = match self.rt.block_on(self.member.sync(&joined, assignments)) {
            Ok(b) => b,
            Err(e) if e.needs_rejoin() => {
                self.rejoin.store(true, Ordering::SeqCst);
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let assignment = match Assignment::decode(&bytes) {
            Ok(a) => a,
            Err(e) => {
                tracing::error!("cannot read the leader's assignment: {e}");
                self.rejoin.store(true, Ordering::SeqCst);
                return Ok(());
            }
        };
        self.apply_assignment(&joined, assignment);
        Ok(())
    }

    /// The leader's assignments for every member, encoded.
    fn lead(&mut self, joined: &Joined) -> Vec<(String, Vec<u8>)> {
        let members: Vec<(String, WorkerMetadata)> = joined
            .members
            .iter()
            .filter_map(|(id, bytes)| match WorkerMetadata::decode(bytes) {
                Ok(m) => Some((id.clone(), m)),
                Err(e) => {
                    tracing::error!("member {id} sent metadata sluice cannot read: {e}");
                    None
                }
            })
            .collect();
        let configured = self.shared.view().state.configured();
        let now_ms = now_ms();
        let round = Round {
            leader_id: &joined.member_id,
            protocol: joined.protocol,
            members: &members,
            configured: &configured,
            last_completed_generation: self.last_completed_generation,
            generation: joined.generation,
            now_ms,
        };
        let out = if joined.protocol == Protocol::Eager {
            assign_eager(&round)
        } else {
            self.assignor.assign(&round)
        };
        // Who runs what, for restarts sent to the leader (everything each member reports
        // plus what it is given now, minus what it gives up).
        let url_of: BTreeMap<&str, &str> = members
            .iter()
            .map(|(id, m)| (id.as_str(), m.url.as_str()))
            .collect();
        let mut owners = BTreeMap::new();
        for (id, m) in &members {
            let mut w = m
                .allocation
                .as_ref()
                .map(|a| Work::from_allocation(&a.assigned))
                .unwrap_or_default();
            if let Some((_, a)) = out.iter().find(|(mid, _)| mid == id) {
                let added = Work::from_allocation(&a.assigned);
                if joined.protocol == Protocol::Eager {
                    w = added;
                } else {
                    w.connectors.extend(added.connectors);
                    w.tasks.extend(added.tasks);
                    let gone = Work::from_allocation(&a.revoked);
                    w.connectors.retain(|c| !gone.connectors.contains(c));
                    w.tasks.retain(|t| !gone.tasks.contains(t));
                }
            }
            let url = url_of.get(id.as_str()).copied().unwrap_or_default();
            for c in &w.connectors {
                owners.insert((c.clone(), -1), url.to_string());
            }
            for t in &w.tasks {
                owners.insert((t.connector.clone(), t.task), url.to_string());
            }
        }
        self.shared.view().owners = owners;
        out.into_iter()
            .map(|(id, a)| (id, a.encode(joined.protocol)))
            .collect()
    }

    fn apply_assignment(&mut self, joined: &Joined, a: Assignment) {
        if a.error == CONFIG_MISMATCH {
            tracing::info!(
                "The leader is behind the config topic; reading to its end and rejoining"
            );
            self.read_config_to_end();
            self.rejoin.store(true, Ordering::SeqCst);
            return;
        }
        if self.shared.view().state.offset() < a.config_offset && !self.read_config_to_end() {
            self.rejoin.store(true, Ordering::SeqCst);
            return;
        }
        let generation = joined.generation;
        tracing::info!(
            "Joined group at generation {generation} with protocol version {} and got assignment: {:?} revoked {:?} delay {} (leader {})",
            joined.protocol.version(),
            a.assigned,
            a.revoked,
            a.delay,
            a.leader
        );
        let added = Work::from_allocation(&a.assigned);
        let revoked = Work::from_allocation(&a.revoked);
        // Stop what is revoked (connectors, then tasks), before anything starts.
        for t in &revoked.tasks {
            let tid = u32::try_from(t.task).unwrap_or(u32::MAX);
            self.stop_task(&t.connector, tid);
        }
        let mut mine = self.shared.view().mine.clone();
        for c in &revoked.connectors {
            mine.connectors.shift_remove(c);
        }
        for t in &revoked.tasks {
            mine.tasks.shift_remove(t);
        }
        if joined.protocol == Protocol::Eager {
            mine = added.clone();
        } else {
            let mut next = added.clone();
            next.connectors.extend(mine.connectors);
            next.tasks.extend(mine.tasks);
            mine = next;
        }
        self.shared.status.set_generation(generation);
        {
            let mut v = self.shared.view();
            v.generation = generation;
            v.member_id = joined.member_id.clone();
            v.leader_id = a.leader.clone();
            v.leader_url = Some(a.leader_url.clone());
            v.protocol = Some(joined.protocol);
            v.mine = mine.clone();
            v.stable = true;
        }
        self.shared.changed.notify_all();
        self.last_completed_generation = generation;
        self.last_assignment = Some(a.clone());
        // Start what is new (connectors first: they may publish task configs).
        let state_tasks: BTreeSet<(String, u32)> = {
            let v = self.shared.view();
            mine.tasks
                .iter()
                .filter(|t| v.state.tasks(&t.connector).contains(&(t.task as u32)))
                .map(|t| (t.connector.clone(), t.task as u32))
                .collect()
        };
        for c in &added.connectors {
            self.start_connector(c);
        }
        for (c, t) in state_tasks {
            if self.shared.view().state.target(&c) != Some(Target::Stopped) {
                self.start_task(&c, t);
            }
        }
        if joined.is_leader() && joined.member_id == a.leader {
            self.leader_duties(joined.protocol);
        }
        if !revoked.is_empty() {
            // The revoked work is handed out in an immediate follow-up round.
            self.rejoin.store(true, Ordering::SeqCst);
        }
        if a.delay > 0 {
            self.scheduled_rejoin =
                Some(Instant::now() + Duration::from_millis(u64::try_from(a.delay).unwrap_or(0)));
        }
        self.start_heartbeats();
        if !self.joined_once {
            self.joined_once = true;
            self.shared.started.store(true, Ordering::SeqCst);
            self.shared.worker.mark_started();
        }
    }

    /// Leader: status records of deleted connectors and tasks go; the session key is kept
    /// fresh (sessioned protocol).
    fn leader_duties(&mut self, protocol: Protocol) {
        let (deleted, extra_tasks) = {
            let v = self.shared.view();
            let deleted: Vec<String> = self
                .shared
                .status
                .connectors()
                .into_iter()
                .filter(|c| !v.state.contains(c))
                .collect();
            let mut extra = Vec::new();
            for c in v.state.connectors() {
                let tasks = v.state.tasks(c);
                for (t, _) in self.shared.status.tasks(c) {
                    if !tasks.contains(&t) {
                        extra.push((c.clone(), t));
                    }
                }
            }
            (deleted, extra)
        };
        for c in deleted {
            self.shared.status.delete_connector(&c);
        }
        for (c, t) in extra_tasks {
            self.shared.status.delete_task(&c, t);
        }
        if protocol != Protocol::Sessioned {
            return;
        }
        let ttl = i64::try_from(self.shared.config.key_ttl.as_millis()).unwrap_or(i64::MAX);
        let now = now_ms();
        let fresh = self.shared.view().state.session_key().is_some_and(|k| {
            k.algorithm == "HmacSHA256"
                && k.key.len() == 32
                && k.created_ms.saturating_add(ttl) > now
        });
        if fresh {
            return;
        }
        let bytes = self
            .shared
            .config
            .key_size_bits
            .map_or(32, |b| (b / 8) as usize);
        let mut key = vec![0u8; bytes];
        if let Err(e) = openssl::rand::rand_bytes(&mut key) {
            tracing::error!("cannot generate a session key: {e}");
            return;
        }
        let record = ConfigRecord::SessionKey {
            key,
            algorithm: "HmacSHA256".into(),
            created_ms: now,
        };
        if let Err(e) = self.shared.write(&record) {
            tracing::error!("writing the session key: {}", e.message);
        }
    }

    fn start_heartbeats(&mut self) {
        let epoch = self.heartbeat_epoch.fetch_add(1, Ordering::SeqCst) + 1;
        let current = self.heartbeat_epoch.clone();
        let rejoin = self.rejoin.clone();
        let mut hb = self.member.heartbeat();
        let spawned = std::thread::Builder::new()
            .name("heartbeat".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                let interval = hb.interval();
                while current.load(Ordering::SeqCst) == epoch {
                    std::thread::sleep(interval.min(Duration::from_millis(500)));
                    if current.load(Ordering::SeqCst) != epoch {
                        return;
                    }
                    match rt.block_on(hb.beat()) {
                        Ok(()) => {}
                        Err(e) if e.needs_rejoin() => {
                            tracing::info!(
                                "Attempt to heartbeat failed since group is rebalancing"
                            );
                            rejoin.store(true, Ordering::SeqCst);
                            return;
                        }
                        Err(e) => tracing::warn!("heartbeat failed: {e}"),
                    }
                    let mut slept = Duration::from_millis(500);
                    while slept < interval && current.load(Ordering::SeqCst) == epoch {
                        std::thread::sleep(Duration::from_millis(100));
                        slept += Duration::from_millis(100);
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start heartbeats: {e}");
        }
    }

    fn revoke_all(&mut self) {
        let keys: Vec<(String, u32)> = self.tasks.keys().cloned().collect();
        for (c, t) in keys {
            self.stop_task(&c, t);
        }
        self.shared.view().mine = Work::default();
    }

    fn shutdown(&mut self) {
        self.heartbeat_epoch.fetch_add(1, Ordering::SeqCst);
        let keys: Vec<(String, u32)> = self.tasks.keys().cloned().collect();
        for (c, t) in keys {
            self.stop_task(&c, t);
        }
        let mine = self.shared.view().mine.clone();
        for c in &mine.connectors {
            self.shared.status.put_connector(c, State::Unassigned, None);
        }
        // Give the status writer a moment to send the last states.
        std::thread::sleep(Duration::from_millis(300));
        if let Err(e) = self
            .rt
            .block_on(self.member.leave("the consumer is being closed"))
        {
            tracing::warn!("leaving the group: {e}");
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
