//! Connector and task states as Kafka Connect reports them, kept on a board that the task
//! threads update and the worker (and later the REST API) reads.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Unassigned,
    Running,
    Paused,
    Failed,
    Restarting,
    Stopped,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Unassigned => "UNASSIGNED",
            State::Running => "RUNNING",
            State::Paused => "PAUSED",
            State::Failed => "FAILED",
            State::Restarting => "RESTARTING",
            State::Stopped => "STOPPED",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskStatus {
    pub state: State,
    /// The failure's description when `state` is FAILED.
    pub trace: Option<String>,
}

/// The `[connector|task-N]` context every task log line carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskLabel {
    pub connector: String,
    pub task: usize,
}

impl fmt::Display for TaskLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}|task-{}]", self.connector, self.task)
    }
}

/// Told of every task state change (distributed mode writes them to the status topic).
pub type StatusListener = Arc<dyn Fn(&TaskLabel, State, Option<&str>) + Send + Sync>;

#[derive(Clone, Default)]
pub struct StatusBoard {
    tasks: Arc<Mutex<BTreeMap<(String, usize), TaskStatus>>>,
    listener: Arc<OnceLock<StatusListener>>,
}

impl fmt::Debug for StatusBoard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusBoard")
            .field("tasks", &self.tasks)
            .finish_non_exhaustive()
    }
}

impl StatusBoard {
    pub fn set(&self, label: &TaskLabel, state: State, trace: Option<String>) {
        if let Some(l) = self.listener.get() {
            l(label, state, trace.as_deref());
        }
        let mut board = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        board.insert(
            (label.connector.clone(), label.task),
            TaskStatus { state, trace },
        );
    }

    /// Installs the listener (once; later calls are ignored).
    pub fn listen(&self, listener: StatusListener) {
        let _ = self.listener.set(listener);
    }

    pub fn get(&self, connector: &str, task: usize) -> Option<TaskStatus> {
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(connector.to_string(), task))
            .cloned()
    }
}

impl StatusBoard {
    /// Forgets every task of a connector (deleted, stopped, or before new tasks start).
    pub fn remove_connector(&self, connector: &str) {
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(c, _), _| c != connector);
    }
}

/// Topics each connector has used (`GET /connectors/{c}/topics`), recorded per batch.
#[derive(Debug, Clone, Default)]
pub struct ActiveTopics(Arc<Mutex<BTreeMap<String, BTreeSet<String>>>>);

impl ActiveTopics {
    pub fn record<'a>(&self, connector: &str, topics: impl IntoIterator<Item = &'a str>) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let set = map.entry(connector.to_string()).or_default();
        for t in topics {
            if !set.contains(t) {
                set.insert(t.to_string());
            }
        }
    }

    pub fn get(&self, connector: &str) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(connector)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn reset(&self, connector: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(connector);
    }
}
