//! The cluster's connector configs as the config topic says (Kafka's
//! `KafkaConfigBackingStore` reader): task configs apply only when their `commit-` record
//! arrives with every task present; target states, session key, restart requests and
//! cluster logger levels; the config offset (last record read + 1) the group compares.

use std::collections::{BTreeMap, BTreeSet};

use super::assignor::Configured;
use super::records::{ConfigRecord, Props, Target};

/// What a record changed, for the herder to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    ConnectorAdded(String),
    ConnectorUpdated(String),
    ConnectorRemoved(String),
    TargetState(String),
    /// Task configs committed; the task ids whose config was (re)written.
    TasksCommitted(String, Vec<u32>),
    SessionKey,
    Restart {
        connector: String,
        include_tasks: bool,
        only_failed: bool,
    },
    LoggerLevel {
        namespace: String,
        level: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKey {
    pub key: Vec<u8>,
    pub algorithm: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone, Default)]
pub struct ConfigState {
    offset: i64,
    connectors: BTreeMap<String, Props>,
    targets: BTreeMap<String, Target>,
    task_counts: BTreeMap<String, u32>,
    task_configs: BTreeMap<String, BTreeMap<u32, Props>>,
    deferred: BTreeMap<String, BTreeMap<u32, Props>>,
    inconsistent: BTreeSet<String>,
    session_key: Option<SessionKey>,
}

impl ConfigState {
    pub fn new() -> Self {
        Self {
            offset: -1,
            ..Default::default()
        }
    }

    /// Offset of the next record to read (-1 before any).
    pub fn offset(&self) -> i64 {
        self.offset
    }

    pub fn connectors(&self) -> impl Iterator<Item = &String> {
        self.connectors.keys()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.connectors.contains_key(name)
    }

    pub fn connector_config(&self, name: &str) -> Option<&Props> {
        self.connectors.get(name)
    }

    pub fn target(&self, name: &str) -> Option<Target> {
        self.targets.get(name).copied()
    }

    /// Task ids of a connector (none while its task configs are inconsistent).
    pub fn tasks(&self, name: &str) -> Vec<u32> {
        if self.inconsistent.contains(name) {
            return Vec::new();
        }
        (0..self.task_counts.get(name).copied().unwrap_or(0)).collect()
    }

    pub fn task_config(&self, name: &str, task: u32) -> Option<&Props> {
        self.task_configs.get(name).and_then(|t| t.get(&task))
    }

    pub fn session_key(&self) -> Option<&SessionKey> {
        self.session_key.as_ref()
    }

    /// The view the leader assigns from.
    pub fn configured(&self) -> Configured {
        Configured {
            offset: self.offset,
            tasks: self
                .connectors
                .keys()
                .map(|c| {
                    let n = u32::try_from(self.tasks(c).len()).unwrap_or(u32::MAX);
                    (c.clone(), n)
                })
                .collect(),
        }
    }

    /// Applies the record at `offset`; a record that does not parse is skipped without
    /// advancing the offset, as Kafka's reader does.
    pub fn apply(&mut self, offset: i64, key: &str, value: Option<&[u8]>) -> Vec<Change> {
        let record = match ConfigRecord::parse(key, value) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("Failed to convert config data to Kafka Connect format: {e}");
                return Vec::new();
            }
        };
        self.offset = offset + 1;
        let Some(record) = record else {
            tracing::error!("Discarding config update record with invalid key: {key}");
            return Vec::new();
        };
        match record {
            ConfigRecord::TargetState { connector, state } => match state {
                None => {
                    self.targets.remove(&connector);
                    if self.connectors.contains_key(&connector) {
                        self.targets.insert(connector, Target::Started);
                    }
                    Vec::new()
                }
                Some(s) => {
                    let changed = self.targets.insert(connector.clone(), s) != Some(s);
                    if changed && self.connectors.contains_key(&connector) {
                        vec![Change::TargetState(connector)]
                    } else {
                        Vec::new()
                    }
                }
            },
            ConfigRecord::Connector { name, props: None } => {
                self.remove_connector(&name);
                vec![Change::ConnectorRemoved(name)]
            }
            ConfigRecord::Connector {
                name,
                props: Some(props),
            } => {
                let existed = self.connectors.insert(name.clone(), props).is_some();
                self.targets.entry(name.clone()).or_insert(Target::Started);
                if existed {
                    vec![Change::ConnectorUpdated(name)]
                } else {
                    vec![Change::ConnectorAdded(name)]
                }
            }
            ConfigRecord::Task {
                connector,
                task,
                props,
            } => {
                self.deferred
                    .entry(connector)
                    .or_default()
                    .insert(task, props);
                Vec::new()
            }
            ConfigRecord::Commit { connector, tasks } => {
                if !self.connectors.contains_key(&connector) {
                    self.remove_connector(&connector);
                    return Vec::new();
                }
                let deferred = self.deferred.remove(&connector).unwrap_or_default();
                let complete = (0..tasks).all(|t| deferred.contains_key(&t));
                self.task_counts.insert(connector.clone(), tasks);
                if !complete {
                    tracing::warn!(
                        "Skipping task configuration update for {connector}: commit of {tasks} tasks without all their configs"
                    );
                    self.inconsistent.insert(connector.clone());
                    return vec![Change::TasksCommitted(connector, Vec::new())];
                }
                let updated: Vec<u32> = deferred.keys().copied().collect();
                self.task_configs
                    .entry(connector.clone())
                    .or_default()
                    .extend(deferred);
                self.inconsistent.remove(&connector);
                vec![Change::TasksCommitted(connector, updated)]
            }
            ConfigRecord::SessionKey {
                key,
                algorithm,
                created_ms,
            } => {
                self.session_key = Some(SessionKey {
                    key,
                    algorithm,
                    created_ms,
                });
                vec![Change::SessionKey]
            }
            ConfigRecord::Restart {
                connector,
                include_tasks,
                only_failed,
            } => vec![Change::Restart {
                connector,
                include_tasks,
                only_failed,
            }],
            ConfigRecord::LoggerLevel { namespace, level } => {
                vec![Change::LoggerLevel { namespace, level }]
            }
            ConfigRecord::TaskCount { .. } => Vec::new(),
        }
    }

    fn remove_connector(&mut self, name: &str) {
        self.connectors.remove(name);
        self.task_counts.remove(name);
        self.task_configs.remove(name);
        self.deferred.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(s: &mut ConfigState, off: i64, r: &ConfigRecord) -> Vec<Change> {
        s.apply(off, &r.key(), r.value().as_deref())
    }

    fn props(n: &str) -> Props {
        vec![("name".to_string(), n.to_string())]
    }

    #[test]
    fn task_configs_apply_at_their_commit_only_when_complete() {
        let mut s = ConfigState::new();
        assert_eq!(s.offset(), -1);
        let c = ConfigRecord::Connector {
            name: "c".into(),
            props: Some(props("c")),
        };
        assert_eq!(put(&mut s, 0, &c), vec![Change::ConnectorAdded("c".into())]);
        assert_eq!(s.target("c"), Some(Target::Started));
        for t in 0..2 {
            put(
                &mut s,
                1 + i64::from(t),
                &ConfigRecord::Task {
                    connector: "c".into(),
                    task: t,
                    props: props("c"),
                },
            );
        }
        assert!(s.tasks("c").is_empty(), "not before the commit");
        let commit = |n| ConfigRecord::Commit {
            connector: "c".into(),
            tasks: n,
        };
        assert_eq!(
            put(&mut s, 3, &commit(2)),
            vec![Change::TasksCommitted("c".into(), vec![0, 1])]
        );
        assert_eq!(s.tasks("c"), vec![0, 1]);
        assert_eq!(s.offset(), 4);
        // A commit of 3 with only 2 new configs: inconsistent, no tasks assigned.
        put(
            &mut s,
            4,
            &ConfigRecord::Task {
                connector: "c".into(),
                task: 0,
                props: props("c"),
            },
        );
        put(&mut s, 5, &commit(3));
        assert!(s.tasks("c").is_empty());
        assert_eq!(s.configured().tasks.get("c"), Some(&0));
        // Stop: zero tasks.
        put(&mut s, 6, &commit(0));
        assert!(s.tasks("c").is_empty());
    }

    #[test]
    fn delete_and_target_states() {
        let mut s = ConfigState::new();
        // A target state before the connector exists (initial_state) is kept silently.
        let paused = ConfigRecord::TargetState {
            connector: "c".into(),
            state: Some(Target::Paused),
        };
        assert!(put(&mut s, 0, &paused).is_empty());
        put(
            &mut s,
            1,
            &ConfigRecord::Connector {
                name: "c".into(),
                props: Some(props("c")),
            },
        );
        assert_eq!(s.target("c"), Some(Target::Paused));
        let stop = ConfigRecord::TargetState {
            connector: "c".into(),
            state: Some(Target::Stopped),
        };
        assert_eq!(put(&mut s, 2, &stop), vec![Change::TargetState("c".into())]);
        assert_eq!(
            put(
                &mut s,
                3,
                &ConfigRecord::Connector {
                    name: "c".into(),
                    props: None
                }
            ),
            vec![Change::ConnectorRemoved("c".into())]
        );
        assert!(!s.contains("c"));
        // Unknown keys and bad JSON are skipped; only the former advances the offset.
        assert!(s.apply(4, "bogus-key", Some(b"{}")).is_empty());
        assert_eq!(s.offset(), 5);
        assert!(s.apply(5, "commit-c", Some(b"{")).is_empty());
        assert_eq!(s.offset(), 5);
    }
}
