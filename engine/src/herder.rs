//! What the REST API asks of a worker, whatever its mode: the standalone [`Worker`] answers
//! from its own connectors, the distributed herder from the cluster's internal topics
//! (and by forwarding to the group's leader what only the leader may do).

use crate::worker::{
    ApiResult, ConnectorInfo, ConnectorStatus, OffsetEntry, OffsetPatch, OrderedProps, TargetState,
    TaskState, Worker,
};

/// The REST API's view of connectors and their tasks.
pub trait Herder: Send + Sync {
    fn connector_names(&self) -> Vec<String>;
    fn info(&self, name: &str) -> ApiResult<ConnectorInfo>;
    fn props(&self, name: &str) -> ApiResult<OrderedProps>;
    fn task_configs(&self, name: &str) -> ApiResult<Vec<(usize, OrderedProps)>>;
    fn status(&self, name: &str) -> ApiResult<ConnectorStatus>;
    fn task_status(&self, name: &str, task: usize) -> ApiResult<TaskState>;
    fn create(
        &self,
        name: &str,
        props: OrderedProps,
        initial: TargetState,
    ) -> ApiResult<ConnectorInfo>;
    /// `(created, info)`.
    fn put_config(&self, name: &str, props: OrderedProps) -> ApiResult<(bool, ConnectorInfo)>;
    fn delete(&self, name: &str) -> ApiResult<()>;
    fn pause(&self, name: &str) -> ApiResult<()>;
    fn resume(&self, name: &str) -> ApiResult<()>;
    fn stop_connector(&self, name: &str) -> ApiResult<()>;
    fn restart_task(&self, name: &str, task: usize) -> ApiResult<()>;
    fn restart_connector(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> ApiResult<Option<ConnectorStatus>>;
    fn active_topics(&self, name: &str) -> ApiResult<Vec<String>>;
    fn reset_active_topics(&self, name: &str) -> ApiResult<()>;
    fn offsets(&self, name: &str) -> ApiResult<Vec<OffsetEntry>>;
    fn alter_offsets(&self, name: &str, entries: OffsetPatch) -> ApiResult<String>;
    fn reset_offsets(&self, name: &str) -> ApiResult<String>;
    /// Startup is complete (`GET /health`).
    fn is_started(&self) -> bool;
    /// The internal `POST /connectors/{c}/tasks` of distributed mode (task configs from the
    /// worker running the connector, signed); a standalone worker has no such endpoint.
    fn put_task_configs(
        &self,
        name: &str,
        body: &[u8],
        signature: Option<(&str, &str)>,
    ) -> ApiResult<()> {
        let _ = (name, body, signature);
        Err(crate::worker::ApiError::new(404, "HTTP 404 Not Found"))
    }
}

impl Herder for Worker {
    fn connector_names(&self) -> Vec<String> {
        Worker::connector_names(self)
    }
    fn info(&self, name: &str) -> ApiResult<ConnectorInfo> {
        Worker::info(self, name)
    }
    fn props(&self, name: &str) -> ApiResult<OrderedProps> {
        Worker::props(self, name)
    }
    fn task_configs(&self, name: &str) -> ApiResult<Vec<(usize, OrderedProps)>> {
        Worker::task_configs(self, name)
    }
    fn status(&self, name: &str) -> ApiResult<ConnectorStatus> {
        Worker::status(self, name)
    }
    fn task_status(&self, name: &str, task: usize) -> ApiResult<TaskState> {
        Worker::task_status(self, name, task)
    }
    fn create(
        &self,
        name: &str,
        props: OrderedProps,
        initial: TargetState,
    ) -> ApiResult<ConnectorInfo> {
        Worker::create(self, name, props, initial)
    }
    fn put_config(&self, name: &str, props: OrderedProps) -> ApiResult<(bool, ConnectorInfo)> {
        Worker::put_config(self, name, props)
    }
    fn delete(&self, name: &str) -> ApiResult<()> {
        Worker::delete(self, name)
    }
    fn pause(&self, name: &str) -> ApiResult<()> {
        Worker::pause(self, name)
    }
    fn resume(&self, name: &str) -> ApiResult<()> {
        Worker::resume(self, name)
    }
    fn stop_connector(&self, name: &str) -> ApiResult<()> {
        Worker::stop_connector(self, name)
    }
    fn restart_task(&self, name: &str, task: usize) -> ApiResult<()> {
        Worker::restart_task(self, name, task)
    }
    fn restart_connector(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> ApiResult<Option<ConnectorStatus>> {
        Worker::restart_connector(self, name, include_tasks, only_failed)
    }
    fn active_topics(&self, name: &str) -> ApiResult<Vec<String>> {
        Worker::active_topics(self, name)
    }
    fn reset_active_topics(&self, name: &str) -> ApiResult<()> {
        Worker::reset_active_topics(self, name)
    }
    fn offsets(&self, name: &str) -> ApiResult<Vec<OffsetEntry>> {
        Worker::offsets(self, name)
    }
    fn alter_offsets(&self, name: &str, entries: OffsetPatch) -> ApiResult<String> {
        Worker::alter_offsets(self, name, entries)
    }
    fn reset_offsets(&self, name: &str) -> ApiResult<String> {
        Worker::reset_offsets(self, name)
    }
    fn is_started(&self) -> bool {
        Worker::is_started(self)
    }
}
