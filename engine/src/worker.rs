//! The standalone worker: validates every connector before starting any, runs each
//! connector's tasks on their own threads, and on shutdown stops them all (sinks flush and
//! commit, sources wait for acks and commit) before the offset store is flushed a last time.

use std::collections::BTreeMap;
use std::thread::JoinHandle;

use sluice_connectors::ConnectorKind;

use crate::config::{ConnectorConfig, WorkerConfig};
use crate::error::{EngineError, Result};
use crate::offsets::FileOffsetStore;
use crate::runtime::{StopSignal, sink, source};
use crate::status::StatusBoard;

struct RunningConnector {
    stop: StopSignal,
    threads: Vec<JoinHandle<()>>,
}

pub struct Worker {
    config: WorkerConfig,
    store: FileOffsetStore,
    board: StatusBoard,
    connectors: BTreeMap<String, RunningConnector>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("connectors", &self.connectors.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Worker {
    pub fn new(config: WorkerConfig) -> Result<Self> {
        let store = FileOffsetStore::open(config.offset_file.clone())?;
        Ok(Self {
            config,
            store,
            board: StatusBoard::default(),
            connectors: BTreeMap::new(),
        })
    }

    pub fn status(&self) -> &StatusBoard {
        &self.board
    }

    /// Starts all tasks of a validated connector.
    pub fn start_connector(&mut self, connector: ConnectorConfig) -> Result<()> {
        if self.connectors.contains_key(&connector.name) {
            return Err(EngineError::Connector {
                connector: connector.name.clone(),
                message: format!("Connector {} already exists", connector.name),
            });
        }
        let stop = StopSignal::default();
        let count = connector.spec.task_count(connector.tasks_max);
        tracing::info!(
            "Creating connector {} of type {} with {count} task(s)",
            connector.name,
            connector.plugin.class_name()
        );
        let mut threads = Vec::with_capacity(count);
        for task_id in 0..count {
            let (worker, conn, stop, board, store) = (
                self.config.clone(),
                connector.clone(),
                stop.clone(),
                self.board.clone(),
                self.store.clone(),
            );
            let thread = std::thread::Builder::new()
                .name(format!("{}-{task_id}", connector.name))
                .spawn(move || match conn.spec.kind() {
                    ConnectorKind::Sink => sink::run(&worker, &conn, task_id, stop, board),
                    ConnectorKind::Source => {
                        source::run(&worker, &conn, task_id, store, stop, board)
                    }
                })
                .map_err(|e| EngineError::Connector {
                    connector: connector.name.clone(),
                    message: format!("cannot start task thread: {e}"),
                })?;
            threads.push(thread);
        }
        self.connectors
            .insert(connector.name.clone(), RunningConnector { stop, threads });
        Ok(())
    }

    /// Stops every connector, waits for its tasks, and flushes source offsets.
    pub fn shutdown(mut self) -> Result<()> {
        for c in self.connectors.values() {
            c.stop.stop();
        }
        for (name, c) in std::mem::take(&mut self.connectors) {
            for t in c.threads {
                if t.join().is_err() {
                    tracing::error!("a task thread of connector {name} panicked");
                }
            }
        }
        self.store.flush()
    }
}
