//! Task runtimes: one OS thread per task drives its batch loop (poll → convert →
//! deliver → commit) until the worker asks it to stop. Blocking client calls stay on these
//! threads, so the control plane never waits on data.

mod fetch;
pub mod sink;
pub mod source;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::config::{ConnectorConfig, WorkerConfig};
use crate::error::Result;
use crate::metrics::TaskMetrics;
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

/// The connector's target state PAUSED, as seen by its tasks: they stop moving records
/// (sinks pause their partitions but stay in the group) until resumed.
#[derive(Debug, Clone, Default)]
pub struct PauseSignal(Arc<AtomicBool>);

impl PauseSignal {
    pub fn set(&self, paused: bool) {
        self.0.store(paused, Ordering::SeqCst);
    }

    pub fn is_paused(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
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

/// A stop request shared by a connector's tasks.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sleeps up to `d`, waking early on stop; true when stopped.
    pub fn sleep(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if self.is_stopped() {
                return true;
            }
            std::thread::sleep(
                Duration::from_millis(10).min(until.saturating_duration_since(Instant::now())),
            );
        }
        self.is_stopped()
    }
}
