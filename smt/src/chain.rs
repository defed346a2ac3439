//! A connector's transformation chain, configured as Kafka's `ConnectorConfig` does:
//! `transforms=a,b` (trimmed, duplicates refused), `transforms.a.type`, the alias's other
//! keys passed to the transformation, and `transforms.a.predicate`/`negate` wiring a
//! predicate from `predicates.p.type` and `predicates.p.*`.

use std::collections::HashMap;

use sluice_codecs::error::ConnectError;

use crate::config::invalid_value;
use crate::predicates::{Predicate, predicate_class};
use crate::record::ConnectRecord;
use crate::transforms::{Transform, transform_class};

#[derive(Debug)]
pub(crate) struct ChainStage {
    pub(crate) transform: Transform,
    pub(crate) predicate: Option<(Predicate, bool)>,
    /// Java class name, e.g. `org.apache.kafka.connect.transforms.Cast$Value`, as the DLQ's
    /// `__connect.errors.class.name` reports a failing stage.
    pub(crate) class_name: String,
}

/// The configured chain.
#[derive(Debug, Default)]
pub struct Chain {
    pub(crate) stages: Vec<ChainStage>,
}

fn sub(props: &HashMap<String, String>, prefix: &str) -> HashMap<String, String> {
    props
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|s| (s.to_string(), v.clone())))
        .collect()
}

fn missing(key: &str) -> ConnectError {
    ConnectError::config(format!(
        "Missing required configuration \"{key}\" which has no default value."
    ))
}

impl Chain {
    pub fn configure(props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let aliases: Vec<String> = match props.get("transforms") {
            None => vec![],
            Some(t) if t.trim().is_empty() => vec![],
            Some(t) => t.split(',').map(|s| s.trim().to_string()).collect(),
        };
        let mut seen = std::collections::HashSet::new();
        if !aliases.iter().all(|a| seen.insert(a.clone())) {
            return Err(invalid_value(
                &format!("[{}]", aliases.join(", ")),
                "transforms",
                "Duplicate alias provided.",
            ));
        }
        let mut stages = Vec::with_capacity(aliases.len());
        for alias in &aliases {
            let prefix = format!("transforms.{alias}.");
            let type_key = format!("{prefix}type");
            let class = props.get(&type_key).ok_or_else(|| missing(&type_key))?;
            let resolved = transform_class(class).ok_or_else(|| {
                invalid_value(
                    class,
                    &type_key,
                    &format!("Class {class} could not be found."),
                )
            })?;
            let predicate_key = format!("{prefix}predicate");
            let negate_key = format!("{prefix}negate");
            let negate = match props.get(&negate_key).map(|v| v.trim()) {
                None => None,
                Some(v) if v.eq_ignore_ascii_case("true") => Some(true),
                Some(v) if v.eq_ignore_ascii_case("false") => Some(false),
                Some(v) => {
                    return Err(invalid_value(
                        v,
                        &negate_key,
                        "Expected value to be either true or false",
                    ));
                }
            };
            let predicate = match props.get(&predicate_key) {
                None => {
                    if negate.is_some() {
                        return Err(ConnectError::config(format!(
                            "Config '{negate_key}' was provided but there is no config '{predicate_key}' defining a predicate to be negated."
                        )));
                    }
                    None
                }
                Some(p) => {
                    let p_type_key = format!("predicates.{p}.type");
                    let p_class = props.get(&p_type_key).ok_or_else(|| missing(&p_type_key))?;
                    let simple = predicate_class(p_class).ok_or_else(|| {
                        invalid_value(
                            p_class,
                            &p_type_key,
                            &format!("Class {p_class} could not be found."),
                        )
                    })?;
                    let mut p_props = sub(props, &format!("predicates.{p}."));
                    p_props.remove("type");
                    Some((
                        Predicate::configure(simple, &p_props)?,
                        negate.unwrap_or(false),
                    ))
                }
            };
            let mut t_props = sub(props, &prefix);
            t_props.remove("predicate");
            t_props.remove("negate");
            let class_name = match resolved.side {
                None => format!("org.apache.kafka.connect.transforms.{}", resolved.name),
                Some(side) => format!(
                    "org.apache.kafka.connect.transforms.{}${}",
                    resolved.name,
                    match side {
                        crate::record::Side::Key => "Key",
                        crate::record::Side::Value => "Value",
                    }
                ),
            };
            stages.push(ChainStage {
                transform: Transform::configure(resolved, &t_props)?,
                predicate,
                class_name,
            });
        }
        Ok(Self { stages })
    }

    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Applies the chain; `Ok(None)` when a transformation drops the record.
    pub fn apply(&self, record: ConnectRecord) -> Result<Option<ConnectRecord>, ConnectError> {
        self.apply_traced(record).map_err(|(e, _)| e)
    }

    /// [`Chain::apply`], naming the class of the stage that failed.
    pub fn apply_traced(
        &self,
        mut record: ConnectRecord,
    ) -> Result<Option<ConnectRecord>, (ConnectError, &str)> {
        for stage in &self.stages {
            match stage
                .apply_record(record)
                .map_err(|e| (e, stage.class_name.as_str()))?
            {
                Some(r) => record = r,
                None => return Ok(None),
            }
        }
        Ok(Some(record))
    }
}

impl ChainStage {
    /// This stage on one record: the transformation if it has no predicate or
    /// `negate XOR predicate(record)` holds, otherwise the record unchanged.
    pub(crate) fn apply_record(
        &self,
        record: ConnectRecord,
    ) -> Result<Option<ConnectRecord>, ConnectError> {
        if let Some((p, negate)) = &self.predicate
            && p.test(&record) == *negate
        {
            return Ok(Some(record));
        }
        self.transform.apply(record)
    }
}
