//! The benchmark cases (W1..W4, BA, their connector configs and chains, the single-SMT
//! sweep) and the settings one run may vary ([`Overrides`]).

use std::collections::HashMap;

use sluice_codecs::events::EventShape;

use super::error::BenchError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// Schemaless JSON → ReplaceField → InsertField → Cast → TimestampRouter → Filter → JSON.
    W1,
    /// W1 with JsonConverter envelopes.
    W2,
    /// JsonConverter round trip only (schemaless).
    W3,
    /// ByteArrayConverter in and out, no transforms: the pipeline's own cost.
    BA,
    /// Schemaless JSON through a chain touching every kind of SMT: key SMTs (ValueToKey,
    /// ExtractField$Key), value SMTs, header SMTs, a predicate on a non-Filter stage, a
    /// router and Filter.
    W4,
    /// W4 with JsonConverter envelopes.
    W4E,
    /// AvroConverter in and out (a `mock://` registry), no transforms: the Avro round trip on
    /// the standard events as AvroConverter writes them.
    AR,
}

/// The registry scope of the AR case.
pub const AR_REGISTRY: &str = "mock://bench-ar";

/// W4's chain, on the standard event.
const W4_CHAIN: &[(&str, &str)] = &[
    (
        "transforms",
        "tokey,keyid,drop,source,cast,mask,flat,when,origin,user,unorigin,route,filter",
    ),
    (
        "transforms.tokey.type",
        "org.apache.kafka.connect.transforms.ValueToKey",
    ),
    ("transforms.tokey.fields", "id,user"),
    (
        "transforms.keyid.type",
        "org.apache.kafka.connect.transforms.ExtractField$Key",
    ),
    ("transforms.keyid.field", "id"),
    (
        "transforms.drop.type",
        "org.apache.kafka.connect.transforms.ReplaceField$Value",
    ),
    ("transforms.drop.exclude", "note"),
    (
        "transforms.source.type",
        "org.apache.kafka.connect.transforms.InsertField$Value",
    ),
    ("transforms.source.static.field", "source"),
    ("transforms.source.static.value", "web"),
    ("transforms.source.predicate", "tombstone"),
    ("transforms.source.negate", "true"),
    (
        "transforms.cast.type",
        "org.apache.kafka.connect.transforms.Cast$Value",
    ),
    ("transforms.cast.spec", "amount:float32"),
    (
        "transforms.mask.type",
        "org.apache.kafka.connect.transforms.MaskField$Value",
    ),
    ("transforms.mask.fields", "country"),
    (
        "transforms.flat.type",
        "org.apache.kafka.connect.transforms.Flatten$Value",
    ),
    ("transforms.flat.delimiter", "_"),
    (
        "transforms.when.type",
        "org.apache.kafka.connect.transforms.TimestampConverter$Value",
    ),
    ("transforms.when.field", "ts"),
    ("transforms.when.target.type", "string"),
    ("transforms.when.format", "yyyy-MM-dd'T'HH:mm:ss.SSS"),
    (
        "transforms.origin.type",
        "org.apache.kafka.connect.transforms.InsertHeader",
    ),
    ("transforms.origin.header", "origin"),
    ("transforms.origin.value.literal", "sluice"),
    (
        "transforms.user.type",
        "org.apache.kafka.connect.transforms.HeaderFrom$Value",
    ),
    ("transforms.user.fields", "user"),
    ("transforms.user.headers", "user"),
    ("transforms.user.operation", "copy"),
    (
        "transforms.unorigin.type",
        "org.apache.kafka.connect.transforms.DropHeaders",
    ),
    ("transforms.unorigin.headers", "origin"),
    (
        "transforms.route.type",
        "org.apache.kafka.connect.transforms.TimestampRouter",
    ),
    ("transforms.route.topic.format", "${topic}-${timestamp}"),
    ("transforms.route.timestamp.format", "yyyyMMdd"),
    (
        "transforms.filter.type",
        "org.apache.kafka.connect.transforms.Filter",
    ),
    ("transforms.filter.predicate", "nomatch"),
    ("predicates", "tombstone,nomatch"),
    (
        "predicates.tombstone.type",
        "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
    ),
    (
        "predicates.nomatch.type",
        "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
    ),
    ("predicates.nomatch.pattern", "nomatch"),
];

/// One natural configuration of each of Kafka's 16 SMTs on the standard event, for the
/// single-SMT sweep (`--sweep smt=none,Cast,...`).
pub const SINGLE_SMTS: &[(&str, &[(&str, &str)])] = &[
    (
        "Cast",
        &[("type", "Cast$Value"), ("spec", "amount:float32")],
    ),
    (
        "DropHeaders",
        &[("type", "DropHeaders"), ("headers", "trace")],
    ),
    (
        "ExtractField",
        &[("type", "ExtractField$Value"), ("field", "device")],
    ),
    ("Filter", &[("type", "Filter"), ("predicate", "nomatch")]),
    ("Flatten", &[("type", "Flatten$Value")]),
    (
        "HeaderFrom",
        &[
            ("type", "HeaderFrom$Value"),
            ("fields", "user"),
            ("headers", "user"),
            ("operation", "copy"),
        ],
    ),
    (
        "HoistField",
        &[("type", "HoistField$Value"), ("field", "order")],
    ),
    (
        "InsertField",
        &[
            ("type", "InsertField$Value"),
            ("static.field", "source"),
            ("static.value", "web"),
        ],
    ),
    (
        "InsertHeader",
        &[
            ("type", "InsertHeader"),
            ("header", "origin"),
            ("value.literal", "sluice"),
        ],
    ),
    (
        "MaskField",
        &[("type", "MaskField$Value"), ("fields", "country,amount")],
    ),
    (
        "RegexRouter",
        &[
            ("type", "RegexRouter"),
            ("regex", "(.*)"),
            ("replacement", "$1-copy"),
        ],
    ),
    (
        "ReplaceField",
        &[("type", "ReplaceField$Value"), ("exclude", "note")],
    ),
    (
        "SetSchemaMetadata",
        &[
            ("type", "SetSchemaMetadata$Value"),
            ("schema.name", "orders.Renamed"),
        ],
    ),
    (
        "TimestampConverter",
        &[
            ("type", "TimestampConverter$Value"),
            ("field", "ts"),
            ("target.type", "string"),
            ("format", "yyyy-MM-dd"),
        ],
    ),
    (
        "TimestampRouter",
        &[
            ("type", "TimestampRouter"),
            ("topic.format", "${topic}-${timestamp}"),
            ("timestamp.format", "yyyyMMdd"),
        ],
    ),
    (
        "ValueToKey",
        &[("type", "ValueToKey"), ("fields", "id,user")],
    ),
];

impl Case {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_uppercase().as_str() {
            "W1" => Case::W1,
            "W2" => Case::W2,
            "W3" => Case::W3,
            "BA" => Case::BA,
            "W4" => Case::W4,
            "W4E" => Case::W4E,
            "AR" => Case::AR,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Case::W1 => "W1",
            Case::W2 => "W2",
            Case::W3 => "W3",
            Case::BA => "BA",
            Case::W4 => "W4",
            Case::W4E => "W4E",
            Case::AR => "AR",
        }
    }

    /// Whether the case's events are JsonConverter envelopes.
    pub fn envelope(self) -> bool {
        matches!(self, Case::W2 | Case::W4E)
    }

    /// The connector config of the case.
    pub fn props(self) -> HashMap<String, String> {
        if self == Case::AR {
            return [
                (
                    "key.converter",
                    "org.apache.kafka.connect.storage.StringConverter",
                ),
                ("value.converter", "io.confluent.connect.avro.AvroConverter"),
                ("value.converter.schema.registry.url", AR_REGISTRY),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        }
        if self == Case::BA {
            return [
                (
                    "key.converter",
                    "org.apache.kafka.connect.converters.ByteArrayConverter",
                ),
                (
                    "value.converter",
                    "org.apache.kafka.connect.converters.ByteArrayConverter",
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        }
        let mut p: Vec<(&str, &str)> = vec![
            (
                "key.converter",
                "org.apache.kafka.connect.storage.StringConverter",
            ),
            (
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            (
                "value.converter.schemas.enable",
                if self.envelope() { "true" } else { "false" },
            ),
        ];
        if matches!(self, Case::W4 | Case::W4E) {
            p[0].1 = "org.apache.kafka.connect.json.JsonConverter";
            p.push((
                "key.converter.schemas.enable",
                if self.envelope() { "true" } else { "false" },
            ));
            p.extend_from_slice(W4_CHAIN);
        } else if self != Case::W3 {
            p.extend([
                ("transforms", "drop,source,cast,route,filter"),
                (
                    "transforms.drop.type",
                    "org.apache.kafka.connect.transforms.ReplaceField$Value",
                ),
                ("transforms.drop.exclude", "note"),
                (
                    "transforms.source.type",
                    "org.apache.kafka.connect.transforms.InsertField$Value",
                ),
                ("transforms.source.static.field", "source"),
                ("transforms.source.static.value", "web"),
                (
                    "transforms.cast.type",
                    "org.apache.kafka.connect.transforms.Cast$Value",
                ),
                ("transforms.cast.spec", "amount:float32"),
                (
                    "transforms.route.type",
                    "org.apache.kafka.connect.transforms.TimestampRouter",
                ),
                ("transforms.route.topic.format", "${topic}-${timestamp}"),
                ("transforms.route.timestamp.format", "yyyyMMdd"),
                (
                    "transforms.filter.type",
                    "org.apache.kafka.connect.transforms.Filter",
                ),
                ("transforms.filter.predicate", "nomatch"),
                ("predicates", "nomatch"),
                (
                    "predicates.nomatch.type",
                    "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
                ),
                ("predicates.nomatch.pattern", "nomatch"),
            ]);
        }
        p.into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// Settings one run varies (`sluice bench --sweep key=v1,v2` sets one per run), applied on
/// top of the case's connector config. Besides connector properties, these keys are known:
/// `batch.size` (records per batch: the in-process batch, or the consumer's
/// `max.poll.records`), `smt.count` (the first N transforms of the case's chain), `event`
/// (the generator's variant: `standard`, `wide50`, `wide200`, `1k`, `10k`), `keys` (record
/// keys: `none`, `sequential`, `random:N` for N distinct keys), `duration` (seconds to generate
/// for, instead of a record count), `producer.*` (the load generator's producer settings,
/// e.g. `producer.linger.ms`),
/// `smt` (the chain replaced by one SMT of [`SINGLE_SMTS`], or `none`),
/// `partitions` (of the benchmark topic), and the consumer's fetch settings (`fetch.min.bytes`,
/// `fetch.max.wait.ms`, `fetch.max.bytes`, `max.partition.fetch.bytes`, `max.poll.records`),
/// which become `consumer.override.*`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides(pub Vec<(String, String)>);

const CONSUMER_KEYS: [&str; 5] = [
    "fetch.min.bytes",
    "fetch.max.wait.ms",
    "fetch.max.bytes",
    "max.partition.fetch.bytes",
    "max.poll.records",
];

impl Overrides {
    pub fn one(key: &str, value: &str) -> Self {
        Self(vec![(key.to_string(), value.to_string())])
    }

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn number<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>, BenchError> {
        self.get(key)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| BenchError::setting(key, format!("'{v}' is not a valid number")))
            })
            .transpose()
    }

    /// The event variant (`event`), standard unless set.
    pub fn event(&self) -> Result<EventShape, BenchError> {
        match self.get("event") {
            None => Ok(EventShape::Standard),
            Some(v) => EventShape::parse(v).ok_or_else(|| {
                BenchError::setting(
                    "event",
                    format!("'{v}' is not one of standard, wideN (N > 10), Nk (1..1024)"),
                )
            }),
        }
    }

    /// How long to generate events for (`duration`, seconds), if set.
    pub fn duration(&self) -> Result<Option<std::time::Duration>, BenchError> {
        Ok(self
            .number::<f64>("duration")?
            .filter(|d| *d > 0.0)
            .map(std::time::Duration::from_secs_f64))
    }

    /// The record keys the generator writes (`keys`).
    pub fn keys(&self) -> Result<KeyDistribution, BenchError> {
        let Some(v) = self.get("keys") else {
            return Ok(KeyDistribution::None);
        };
        match v.trim() {
            "none" => Ok(KeyDistribution::None),
            "sequential" => Ok(KeyDistribution::Sequential),
            other => other
                .strip_prefix("random:")
                .and_then(|n| n.parse::<u64>().ok())
                .filter(|n| *n > 0)
                .map(KeyDistribution::Random)
                .ok_or_else(|| {
                    BenchError::setting(
                        "keys",
                        format!("'{v}' is not one of none, sequential, random:N (N > 0)"),
                    )
                }),
        }
    }

    /// The load generator's producer settings (`producer.*`, prefix removed).
    pub(super) fn producer(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("producer.")?.to_string(), v.clone())))
            .collect()
    }

    /// Records per batch (`batch.size`), if set.
    pub fn batch_rows(&self) -> Result<Option<usize>, BenchError> {
        match self.number::<usize>("batch.size")? {
            Some(0) => Err(BenchError::setting("batch.size", "must be at least 1")),
            n => Ok(n),
        }
    }

    /// Applies the overrides to a connector config.
    pub fn apply(&self, props: &mut HashMap<String, String>) -> Result<(), BenchError> {
        for (k, v) in &self.0 {
            match k.as_str() {
                "partitions" => {
                    self.number::<i32>("partitions")?;
                }
                "event" => {
                    self.event()?;
                }
                "keys" => {
                    self.keys()?;
                }
                "duration" => {
                    self.duration()?;
                }
                key if key.starts_with("producer.") => {}
                "batch.size" => {
                    self.batch_rows()?;
                    props.insert("consumer.override.max.poll.records".into(), v.clone());
                }
                "smt.count" => {
                    let n: usize = self.number("smt.count")?.unwrap_or(0);
                    let chain: Vec<String> = props
                        .get("transforms")
                        .map(|t| t.split(',').map(|a| a.trim().to_string()).collect())
                        .unwrap_or_default();
                    if n > chain.len() {
                        return Err(BenchError::setting(
                            "smt.count",
                            format!("the case has only {} transforms", chain.len()),
                        ));
                    }
                    props.insert("transforms".into(), chain[..n].join(","));
                }
                "smt" => {
                    props.retain(|k, _| {
                        k != "transforms"
                            && k != "predicates"
                            && !k.starts_with("transforms.")
                            && !k.starts_with("predicates.")
                    });
                    if v != "none" {
                        let (_, config) = SINGLE_SMTS
                            .iter()
                            .find(|(name, _)| name == v)
                            .ok_or_else(|| {
                                let names: Vec<&str> =
                                    SINGLE_SMTS.iter().map(|(n, _)| *n).collect();
                                BenchError::setting(
                                    "smt",
                                    format!("'{v}' is not one of none, {}", names.join(", ")),
                                )
                            })?;
                        props.insert("transforms".into(), "t".into());
                        for (k, x) in *config {
                            let x = if *k == "type" {
                                format!("org.apache.kafka.connect.transforms.{x}")
                            } else {
                                x.to_string()
                            };
                            props.insert(format!("transforms.t.{k}"), x);
                        }
                        props.insert("predicates".into(), "nomatch".into());
                        props.insert(
                            "predicates.nomatch.type".into(),
                            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches"
                                .into(),
                        );
                        props.insert("predicates.nomatch.pattern".into(), "nomatch".into());
                    }
                }
                key if CONSUMER_KEYS.contains(&key) => {
                    props.insert(format!("consumer.override.{key}"), v.clone());
                }
                _ => {
                    props.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(())
    }
}

/// Record keys the load generator writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDistribution {
    /// No keys; records go round-robin over the partitions.
    None,
    /// `key-<event index>`: every key distinct.
    Sequential,
    /// `key-<r mod N>` from a seeded stream: N distinct keys, uniformly.
    Random(u64),
}

impl KeyDistribution {
    /// The key of event `i`, written into `out` (cleared); `false` for no key.
    pub(super) fn write(self, i: u64, state: &mut u64, out: &mut Vec<u8>) -> bool {
        use std::io::Write;
        out.clear();
        let n = match self {
            KeyDistribution::None => return false,
            KeyDistribution::Sequential => i,
            KeyDistribution::Random(n) => {
                // splitmix64, as the event generator.
                *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = *state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                (z ^ (z >> 31)) % n
            }
        };
        let _ = write!(out, "key-{n}");
        true
    }
}
