//! Connector classes sluice knows, by Java class name, short name or `...Connector` alias,
//! and the typed, validated spec each one's config parses into.

use std::collections::HashMap;

use crate::Result;
use crate::file::{FileStreamSinkConfig, FileStreamSourceConfig};
use crate::task::{SinkTask, SourceTask};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorKind {
    Source,
    Sink,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plugin {
    FileStreamSource,
    FileStreamSink,
    ParquetSink,
}

impl Plugin {
    /// The plugin's own config keys, as its `ConfigDef` defines them.
    pub fn config_def(self) -> &'static [crate::config_def::ConfigKey] {
        match self {
            Plugin::FileStreamSource => crate::file::SOURCE_CONFIG_DEF,
            Plugin::FileStreamSink => crate::file::SINK_CONFIG_DEF,
            Plugin::ParquetSink => crate::parquet::CONFIG_DEF,
        }
    }

    pub const ALL: [Plugin; 3] = [
        Plugin::FileStreamSource,
        Plugin::FileStreamSink,
        Plugin::ParquetSink,
    ];

    /// Other connector classes this plugin answers to (Confluent's storage sinks).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Plugin::ParquetSink => &[
                "io.confluent.connect.s3.S3SinkConnector",
                "io.confluent.connect.hdfs.HdfsSinkConnector",
                "io.confluent.connect.hdfs3.Hdfs3SinkConnector",
                "S3SinkConnector",
                "HdfsSinkConnector",
            ],
            _ => &[],
        }
    }

    pub fn class_name(self) -> &'static str {
        match self {
            Plugin::FileStreamSource => "org.apache.kafka.connect.file.FileStreamSourceConnector",
            Plugin::FileStreamSink => "org.apache.kafka.connect.file.FileStreamSinkConnector",
            Plugin::ParquetSink => "sluice.connect.parquet.ParquetSinkConnector",
        }
    }

    pub fn kind(self) -> ConnectorKind {
        match self {
            Plugin::FileStreamSource => ConnectorKind::Source,
            Plugin::FileStreamSink | Plugin::ParquetSink => ConnectorKind::Sink,
        }
    }

    /// Resolves a `connector.class` value the way Connect's plugin aliases do: the full
    /// class name, the simple name, or the simple name without the `Connector` suffix.
    pub fn from_class(class: &str) -> Option<Self> {
        let class = class.trim();
        Self::ALL.into_iter().find(|p| {
            let full = p.class_name();
            let simple = full.rsplit('.').next().unwrap_or(full);
            class == full
                || class == simple
                || Some(class) == simple.strip_suffix("Connector")
                || p.aliases().contains(&class)
        })
    }

    /// Parses and validates the connector's own keys.
    pub fn parse(self, props: &HashMap<String, String>) -> Result<ConnectorSpec> {
        Ok(match self {
            Plugin::FileStreamSource => {
                ConnectorSpec::FileStreamSource(FileStreamSourceConfig::parse(props)?)
            }
            Plugin::FileStreamSink => {
                ConnectorSpec::FileStreamSink(FileStreamSinkConfig::parse(props)?)
            }
            Plugin::ParquetSink => ConnectorSpec::ParquetSink(Box::new(
                crate::parquet::ParquetSinkConfig::parse(props)?,
            )),
        })
    }
}

/// A connector's validated configuration, ready to create tasks.
#[derive(Debug, Clone)]
pub enum ConnectorSpec {
    FileStreamSource(FileStreamSourceConfig),
    FileStreamSink(FileStreamSinkConfig),
    ParquetSink(Box<crate::parquet::ParquetSinkConfig>),
}

impl ConnectorSpec {
    pub fn kind(&self) -> ConnectorKind {
        match self {
            ConnectorSpec::FileStreamSource(_) => ConnectorKind::Source,
            ConnectorSpec::FileStreamSink(_) | ConnectorSpec::ParquetSink(_) => ConnectorKind::Sink,
        }
    }

    /// How many tasks to run for `tasks.max` (Kafka's `taskConfigs(maxTasks).size()`).
    pub fn task_count(&self, max_tasks: usize) -> usize {
        match self {
            // FileStreamSourceConnector always returns a single task config.
            ConnectorSpec::FileStreamSource(_) => 1,
            ConnectorSpec::FileStreamSink(_) | ConnectorSpec::ParquetSink(_) => max_tasks,
        }
    }

    /// A source task; `label` (`[connector|task-N]`) prefixes its log lines.
    pub fn source_task(&self, label: &str) -> Option<Box<dyn SourceTask>> {
        match self {
            ConnectorSpec::FileStreamSource(c) => Some(Box::new(c.build(label))),
            ConnectorSpec::FileStreamSink(_) | ConnectorSpec::ParquetSink(_) => None,
        }
    }

    pub fn sink_task(&self) -> Option<Result<Box<dyn SinkTask>>> {
        match self {
            ConnectorSpec::FileStreamSink(c) => {
                Some(c.build().map(|t| Box::new(t) as Box<dyn SinkTask>))
            }
            ConnectorSpec::ParquetSink(c) => {
                Some(c.build().map(|t| Box::new(t) as Box<dyn SinkTask>))
            }
            ConnectorSpec::FileStreamSource(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_aliases() {
        for c in [
            "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "FileStreamSourceConnector",
            "FileStreamSource",
        ] {
            assert_eq!(Plugin::from_class(c), Some(Plugin::FileStreamSource), "{c}");
        }
        assert_eq!(
            Plugin::from_class("FileStreamSink"),
            Some(Plugin::FileStreamSink)
        );
        assert_eq!(Plugin::from_class("com.example.Nope"), None);
    }
}
