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

/// The connector-level part of a chain's configuration, as Kafka's `ConnectorConfig`
/// checks it before any plugin is configured: the aliases, each transformation's class and
/// `negate`, the `predicates` aliases and their classes.
#[derive(Debug)]
pub struct ChainSpec {
    stages: Vec<StageSpec>,
    predicates: Vec<(String, &'static str)>,
}

#[derive(Debug)]
struct StageSpec {
    alias: String,
    /// The class, or Kafka's error for one of its classes of another kind (raised when the
    /// stage is instantiated, after the connector-level checks).
    resolved: Result<crate::transforms::TransformClass, ConnectError>,
    /// The predicate alias and `negate`.
    predicate: Option<(String, bool)>,
}

fn aliases(props: &HashMap<String, String>, key: &str) -> Result<Vec<String>, ConnectError> {
    let aliases: Vec<String> = match props.get(key) {
        None => vec![],
        Some(t) if t.trim().is_empty() => vec![],
        Some(t) => t.split(',').map(|s| s.trim().to_string()).collect(),
    };
    let mut seen = std::collections::HashSet::new();
    if !aliases.iter().all(|a| seen.insert(a.clone())) {
        return Err(invalid_value(
            &format!("[{}]", aliases.join(", ")),
            key,
            "Duplicate alias provided.",
        ));
    }
    Ok(aliases)
}

impl ChainSpec {
    /// Checks what Kafka's `ConnectorConfig` checks, in its order: the alias lists (after
    /// the converter classes, [`crate::pipeline::ConverterSet::check_classes`]); then, as it
    /// enriches its definition, a missing `type` of any transformation, then of any
    /// predicate; then, parsing the enriched definition key by key, each transformation's
    /// class and `negate`, then each predicate's class.
    pub fn check(props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let transforms = aliases(props, "transforms")?;
        let predicate_aliases = aliases(props, "predicates")?;
        for (kind, list, what) in [
            ("transforms", &transforms, "Transformation"),
            ("predicates", &predicate_aliases, "Predicate"),
        ] {
            for alias in list {
                let type_key = format!("{kind}.{alias}.type");
                if !props.contains_key(&type_key) {
                    return Err(invalid_value("null", &type_key, &format!("Not a {what}")));
                }
            }
        }
        let mut stages = Vec::new();
        for alias in transforms {
            let prefix = format!("transforms.{alias}.");
            let type_key = format!("{prefix}type");
            let class = props.get(&type_key).map_or("", String::as_str);
            let Some(resolved) = transform_class(class) else {
                // Kafka's class of the wrong kind fails when it is instantiated, after the
                // connector-level checks; an unknown class fails here.
                if let Some(e) = crate::transforms::not_a_transformation(class) {
                    stages.push(StageSpec {
                        alias,
                        resolved: Err(e),
                        predicate: None,
                    });
                    continue;
                }
                return Err(invalid_value(
                    class.trim(),
                    &type_key,
                    &format!("Class {} could not be found.", class.trim()),
                ));
            };
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
                None if negate.is_some() => {
                    return Err(ConnectError::config(format!(
                        "Config '{negate_key}' was provided but there is no config '{predicate_key}' defining a predicate to be negated."
                    )));
                }
                None => None,
                Some(p) => Some((p.trim().to_string(), negate.unwrap_or(false))),
            };
            stages.push(StageSpec {
                alias,
                resolved: Ok(resolved),
                predicate,
            });
        }
        let mut predicates = Vec::new();
        for alias in predicate_aliases {
            let type_key = format!("predicates.{alias}.type");
            let class = props.get(&type_key).map_or("", String::as_str);
            let simple = predicate_class(class).ok_or_else(|| {
                invalid_value(
                    class.trim(),
                    &type_key,
                    &format!("Class {} could not be found.", class.trim()),
                )
            })?;
            predicates.push((alias, simple));
        }
        Ok(Self { stages, predicates })
    }

    /// Configures each transformation and then its predicate, in chain order, as Kafka's
    /// `ConnectorConfig.transformationStages` does (a predicate no stage uses is never
    /// configured).
    pub fn build(self, props: &HashMap<String, String>) -> Result<Chain, ConnectError> {
        let mut stages = Vec::with_capacity(self.stages.len());
        for spec in self.stages {
            let resolved = spec.resolved?;
            let prefix = format!("transforms.{}.", spec.alias);
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
            let transform = Transform::configure(resolved, &t_props)?;
            let predicate = match spec.predicate {
                None => None,
                Some((alias, negate)) => {
                    let Some((_, simple)) = self.predicates.iter().find(|(a, _)| *a == alias)
                    else {
                        return Err(ConnectError::config(format!(
                            "Unknown configuration 'predicates.{alias}.type'"
                        )));
                    };
                    let mut p_props = sub(props, &format!("predicates.{alias}."));
                    p_props.remove("type");
                    Some((Predicate::configure(simple, &p_props)?, negate))
                }
            };
            stages.push(ChainStage {
                transform,
                predicate,
                class_name,
            });
        }
        Ok(Chain { stages })
    }
}

impl Chain {
    /// Checks and builds the chain (`ChainSpec::check`, then `build`).
    pub fn configure(props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        ChainSpec::check(props)?.build(props)
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
