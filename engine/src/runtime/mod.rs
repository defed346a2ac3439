//! Task runtimes: one OS thread per task drives its batch loop (poll → convert →
//! deliver → commit) until the worker asks it to stop. Blocking client calls stay on these
//! threads, so the control plane never waits on data.

mod fetch;
pub mod sink;
pub mod source;

use std::sync::Arc;

use crate::config::{ConnectorConfig, WorkerConfig};
use crate::error::Result;
use crate::metrics::TaskMetrics;
use crate::signal::{PauseSignal, StopSignal};
use crate::status::{ActiveTopics, State, StatusBoard, TaskLabel};

/// Everything a task thread needs from its worker.
#[derive(Debug, Clone)]
pub struct TaskContext {
    pub worker: WorkerConfig,
    pub connector: ConnectorConfig,
    pub label: TaskLabel,
    pub stop: StopSignal,
    pub pause: PauseSignal,
    pub board: StatusBoard,
    pub metrics: Arc<TaskMetrics>,
    pub topics: ActiveTopics,
}

/// Runs a task body, keeping its state on the board: RUNNING while it runs, STOPPED when it
/// returns, FAILED with the error as trace when it fails. A failure stays with the task; the
/// worker goes on (failed tasks are not restarted automatically, as in Kafka).
pub(crate) fn supervise(label: &TaskLabel, board: &StatusBoard, body: impl FnOnce() -> Result<()>) {
    board.set(label, State::Running, None);
    match body() {
        Ok(()) => {
            tracing::info!("{label} stopped");
            board.set(label, State::Stopped, None);
        }
        Err(e) => {
            tracing::error!(
                "{label} Task threw an uncaught and unrecoverable exception. Task is being killed and will not recover until manually restarted: {e}"
            );
            board.set(label, State::Failed, Some(e.to_string()));
        }
    }
}

/// Records a task's switch between PAUSED and RUNNING (board and log).
pub(crate) fn report_pause(board: &StatusBoard, label: &TaskLabel, paused: bool) {
    board.set(
        label,
        if paused {
            State::Paused
        } else {
            State::Running
        },
        None,
    );
    tracing::info!("{label} {}", if paused { "paused" } else { "resumed" });
}
