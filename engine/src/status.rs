//! Connector and task states as Kafka Connect reports them, kept on a board that the task
//! threads update and the worker (and later the REST API) reads.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

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

#[derive(Debug, Clone, Default)]
pub struct StatusBoard(Arc<Mutex<BTreeMap<(String, usize), TaskStatus>>>);

impl StatusBoard {
    pub fn set(&self, label: &TaskLabel, state: State, trace: Option<String>) {
        let mut board = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        board.insert(
            (label.connector.clone(), label.task),
            TaskStatus { state, trace },
        );
    }

    pub fn get(&self, connector: &str, task: usize) -> Option<TaskStatus> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(connector.to_string(), task))
            .cloned()
    }
}
