//! Differential test of the batch pipeline against the per-record reference model: every
//! SMT (both `$Key` and `$Value` variants where Kafka has them) and every predicate (plain
//! and negated, on Filter and on other stages) over one batch mixing schema'd structs,
//! schemaless maps, null payloads, tombstones, headers and missing timestamps. Each row's
//! outcome (bytes out, dropped, or the failure's stage, exception and message) must be the
//! reference model's. A kernel that differs from Kafka's semantics fails here.

use std::collections::HashMap;

use sluice_codecs::model::record::timestamp_type;
use sluice_codecs::{RawBatch, RawBatchBuilder, RawHeader};
use sluice_smt::Pipeline;
use sluice_smt::reference::{RecordOutcome, ReferencePipeline};

const VALUE_SCHEMA: &str = r#"{"type":"struct","name":"shop.Order","version":1,"optional":false,"fields":[{"field":"id","type":"int64","optional":false},{"field":"user","type":"string","optional":false},{"field":"amount","type":"double","optional":false},{"field":"note","type":"string","optional":true},{"field":"ts","type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},{"field":"device","type":"struct","optional":false,"fields":[{"field":"os","type":"string","optional":false},{"field":"version","type":"int32","optional":true}]},{"field":"flag","type":"boolean","optional":true}]}"#;
const OPTIONAL_VALUE_SCHEMA: &str = r#"{"type":"struct","name":"shop.Order","optional":true,"fields":[{"field":"id","type":"int64","optional":false}]}"#;
const KEY_SCHEMA: &str = r#"{"type":"struct","name":"shop.Key","optional":false,"fields":[{"field":"id","type":"int64","optional":false},{"field":"region","type":"string","optional":true}]}"#;

struct Row {
    topic: &'static str,
    timestamp: Option<i64>,
    key: Option<String>,
    value: Option<String>,
    headers: Vec<(&'static str, Option<&'static str>)>,
}

fn schemad_value(i: i64) -> String {
    format!(
        r#"{{"schema":{VALUE_SCHEMA},"payload":{{"id":{i},"user":"user-{i}","amount":{}.25,"note":{},"ts":{},"device":{{"os":"ios","version":{}}},"flag":{}}}}}"#,
        i * 3,
        if i % 3 == 0 {
            "null".to_string()
        } else {
            format!("\"note {i}\"")
        },
        1_700_000_000_000 + i * 86_400_000,
        if i % 2 == 0 {
            "17".into()
        } else {
            "null".to_string()
        },
        if i % 4 == 0 { "true" } else { "null" },
    )
}

fn schemaless_value(i: i64) -> String {
    format!(
        r#"{{"schema":null,"payload":{{"id":{i},"user":"user-{i}","amount":{}.5,"ts":{},"device":{{"os":"android"}},"tags":["a","b"]}}}}"#,
        i,
        1_700_000_000_000 + i
    )
}

fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for i in 0..24i64 {
        let topic = if i % 5 == 0 { "users" } else { "orders" };
        let key = match i % 4 {
            0 => Some(format!(
                r#"{{"schema":{KEY_SCHEMA},"payload":{{"id":{i},"region":"eu"}}}}"#
            )),
            1 => Some(format!(
                r#"{{"schema":{{"type":"int64","optional":false}},"payload":{i}}}"#
            )),
            2 => Some(format!(r#"{{"schema":null,"payload":{{"id":{i}}}}}"#)),
            _ => None,
        };
        let value = match i % 6 {
            0..=2 => Some(schemad_value(i)),
            3 => Some(schemaless_value(i)),
            4 => Some(format!(
                r#"{{"schema":{OPTIONAL_VALUE_SCHEMA},"payload":null}}"#
            )),
            _ => None,
        };
        let headers = match i % 7 {
            0 => vec![("h1", Some("one")), ("h2", Some("42"))],
            3 => vec![("h2", None), ("h1", Some("[1, 2]"))],
            _ => vec![],
        };
        rows.push(Row {
            topic,
            timestamp: (i % 11 != 10).then_some(1_700_000_000_000 + i * 3_600_000),
            key,
            value,
            headers,
        });
    }
    rows
}

/// Schemaless JSON (`schemas.enable=false`): maps, other JSON values, null and tombstones,
/// in runs long enough for the kernels to take.
fn schemaless_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for i in 0..40i64 {
        let value = match i {
            17 => Some("\"just a string\"".to_string()),
            23 => Some("[1,2,3]".to_string()),
            29 => Some("null".to_string()),
            31 => None,
            _ => Some(format!(
                r#"{{"id":{i},"user":"user-{i}","amount":{}.5,"note":"n{i}","ts":{},"device":{{"os":"ios","version":{}}},"flag":{}}}"#,
                i * 7,
                1_700_000_000_000 + i * 86_400_000,
                i % 3,
                i % 2 == 0
            )),
        };
        rows.push(Row {
            topic: if i < 20 { "orders" } else { "users" },
            timestamp: (i != 35).then_some(1_700_000_000_000 + i * 3_600_000),
            key: (i % 9 != 4).then(|| format!(r#"{{"id":{i},"region":"eu"}}"#)),
            value,
            headers: if i % 13 == 5 {
                vec![("h1", Some("x"))]
            } else {
                vec![]
            },
        });
    }
    rows
}

/// Uniform rows a kernel takes whole: every value the same shape, every row timestamped.
fn uniform_rows(schemaless: bool) -> Vec<Row> {
    (0..32i64)
        .map(|i| Row {
            topic: if i < 16 { "orders" } else { "users" },
            timestamp: Some(1_700_000_000_000 + i * 3_600_000),
            key: Some(if schemaless {
                format!(r#"{{"id":{i},"region":"eu"}}"#)
            } else {
                format!(r#"{{"schema":{KEY_SCHEMA},"payload":{{"id":{i},"region":"eu"}}}}"#)
            }),
            value: Some(if schemaless {
                format!(
                    r#"{{"id":{i},"user":"user-{i}","amount":{}.5,"note":"n{i}","ts":{},"device":{{"os":"ios","version":{}}},"flag":{}}}"#,
                    i * 7,
                    1_700_000_000_000 + i * 86_400_000,
                    i % 3,
                    i % 2 == 0
                )
            } else {
                schemad_value(i)
            }),
            headers: vec![],
        })
        .collect()
}

fn batch(rows: &[Row]) -> RawBatch {
    let mut b = RawBatchBuilder::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        b.append(
            r.topic,
            (i % 3) as i32,
            100 + i as i64,
            r.timestamp,
            timestamp_type::CREATE_TIME,
            r.key.as_deref().map(str::as_bytes),
            r.value.as_deref().map(str::as_bytes),
            r.headers.iter().map(|(k, v)| RawHeader {
                key: k,
                value: v.map(str::as_bytes),
            }),
        );
    }
    b.finish()
}

/// A connector config from the table's pairs: plugin types by simple name (`Cast$Value`,
/// `TopicNameMatches`) become Kafka's full class names, which Kafka requires for nested
/// classes; listed predicates are declared in `predicates`.
fn config(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    let mut p: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| {
            let v = match (k.starts_with("transforms."), k.starts_with("predicates.")) {
                // Only `transforms.<alias>.type` (not e.g. `transforms.t.target.type`).
                _ if !k.ends_with(".type") || k.split('.').count() != 3 || v.contains('.') => {
                    v.to_string()
                }
                (true, _) => format!("org.apache.kafka.connect.transforms.{v}"),
                (_, true) => format!("org.apache.kafka.connect.transforms.predicates.{v}"),
                _ => v.to_string(),
            };
            (k.to_string(), v)
        })
        .collect();
    p.entry("transforms".into()).or_insert_with(|| "t".into());
    let predicates: Vec<String> = p
        .keys()
        .filter_map(|k| k.strip_prefix("predicates.")?.strip_suffix(".type"))
        .map(str::to_string)
        .collect();
    if !predicates.is_empty() {
        p.entry("predicates".into())
            .or_insert_with(|| predicates.join(","));
    }
    p
}

/// Runs `props` both ways over the envelope batch and (JsonConverter with
/// `schemas.enable=false`) the schemaless one; returns rows some stage ran per record.
fn check(name: &str, props: &HashMap<String, String>) -> usize {
    let mut schemaless = props.clone();
    for role in ["key", "value"] {
        schemaless.insert(format!("{role}.converter.schemas.enable"), "false".into());
    }
    check_batch(name, props, &batch(&rows()))
        + check_batch(
            &format!("{name} (schemaless)"),
            &schemaless,
            &batch(&schemaless_rows()),
        )
}

fn check_batch(name: &str, props: &HashMap<String, String>, raw: &RawBatch) -> usize {
    let mut pipeline = Pipeline::configure(props, None).unwrap_or_else(|e| panic!("{name}: {e}"));
    let reference = ReferencePipeline::configure(props).expect("reference");
    let decoded = pipeline.decode(raw).expect("decode");
    let transformed = pipeline.transform(decoded).expect("transform");
    let per_record = transformed.per_record_rows;
    let outcomes = pipeline
        .encode(&transformed)
        .expect("encode")
        .outcomes(raw.num_rows());
    let mut kept = 0;
    for (i, got) in outcomes.iter().enumerate() {
        let want = reference.run(raw, i);
        assert!(
            got == &want,
            "{name}: row {i} differs from the reference model\n  batch:     {}\n  reference: {}",
            show(got),
            show(&want)
        );
        kept += usize::from(matches!(want, RecordOutcome::Record { .. }));
    }
    assert!(
        kept > 0 || name.starts_with("Filter"),
        "{name}: no row survived"
    );
    per_record
}

/// An outcome with its bytes as text, for failure messages.
fn show(o: &RecordOutcome) -> String {
    let text = |b: &Option<Vec<u8>>| {
        b.as_deref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    match o {
        RecordOutcome::Record {
            topic,
            key,
            value,
            headers,
            ..
        } => format!(
            "topic={topic} key={:?} value={:?} headers={:?}",
            text(key),
            text(value),
            headers
                .iter()
                .map(|(k, v)| (k, text(v)))
                .collect::<Vec<_>>()
        ),
        other => format!("{other:?}"),
    }
}

const SMTS: &[(&str, &[(&str, &str)])] = &[
    (
        "Cast$Value",
        &[
            (
                "transforms.t.type",
                "org.apache.kafka.connect.transforms.Cast$Value",
            ),
            ("transforms.t.spec", "amount:float32,id:string,flag:int8"),
        ],
    ),
    (
        "Cast$Value numeric",
        &[
            ("transforms.t.type", "Cast$Value"),
            ("transforms.t.spec", "amount:float32,id:int32"),
        ],
    ),
    (
        "Cast$Key",
        &[
            ("transforms.t.type", "Cast$Key"),
            ("transforms.t.spec", "id:int32"),
        ],
    ),
    (
        "DropHeaders",
        &[
            ("transforms.t.type", "DropHeaders"),
            ("transforms.t.headers", "h1"),
        ],
    ),
    (
        "ExtractField$Value",
        &[
            ("transforms.t.type", "ExtractField$Value"),
            ("transforms.t.field", "device"),
        ],
    ),
    (
        "ExtractField$Key",
        &[
            ("transforms.t.type", "ExtractField$Key"),
            ("transforms.t.field", "id"),
        ],
    ),
    ("Filter", &[("transforms.t.type", "Filter")]),
    (
        "Flatten$Value",
        &[
            ("transforms.t.type", "Flatten$Value"),
            ("transforms.t.delimiter", "_"),
        ],
    ),
    ("Flatten$Key", &[("transforms.t.type", "Flatten$Key")]),
    (
        "HeaderFrom$Value",
        &[
            ("transforms.t.type", "HeaderFrom$Value"),
            ("transforms.t.fields", "user"),
            ("transforms.t.headers", "u"),
            ("transforms.t.operation", "copy"),
        ],
    ),
    (
        "HeaderFrom$Key",
        &[
            ("transforms.t.type", "HeaderFrom$Key"),
            ("transforms.t.fields", "id"),
            ("transforms.t.headers", "k"),
            ("transforms.t.operation", "move"),
        ],
    ),
    (
        "HoistField$Value",
        &[
            ("transforms.t.type", "HoistField$Value"),
            ("transforms.t.field", "wrapped"),
        ],
    ),
    (
        "HoistField$Key",
        &[
            ("transforms.t.type", "HoistField$Key"),
            ("transforms.t.field", "k"),
        ],
    ),
    (
        "InsertField$Value",
        &[
            ("transforms.t.type", "InsertField$Value"),
            ("transforms.t.topic.field", "topic"),
            ("transforms.t.partition.field", "part"),
            ("transforms.t.offset.field", "off"),
            ("transforms.t.timestamp.field", "when"),
            ("transforms.t.static.field", "src"),
            ("transforms.t.static.value", "web"),
        ],
    ),
    (
        "InsertField$Key",
        &[
            ("transforms.t.type", "InsertField$Key"),
            ("transforms.t.static.field", "src"),
            ("transforms.t.static.value", "web"),
        ],
    ),
    (
        "InsertHeader",
        &[
            ("transforms.t.type", "InsertHeader"),
            ("transforms.t.header", "src"),
            ("transforms.t.value.literal", "web"),
        ],
    ),
    (
        "MaskField$Value",
        &[
            ("transforms.t.type", "MaskField$Value"),
            ("transforms.t.fields", "user,amount"),
        ],
    ),
    (
        "MaskField$Key",
        &[
            ("transforms.t.type", "MaskField$Key"),
            ("transforms.t.fields", "region"),
            ("transforms.t.replacement", "xx"),
        ],
    ),
    (
        "RegexRouter",
        &[
            ("transforms.t.type", "RegexRouter"),
            ("transforms.t.regex", "(.*)s"),
            ("transforms.t.replacement", "$1-routed"),
        ],
    ),
    (
        "ReplaceField$Value",
        &[
            ("transforms.t.type", "ReplaceField$Value"),
            ("transforms.t.exclude", "note"),
            ("transforms.t.renames", "user:customer"),
        ],
    ),
    (
        "ReplaceField$Key",
        &[
            ("transforms.t.type", "ReplaceField$Key"),
            ("transforms.t.include", "id"),
        ],
    ),
    (
        "SetSchemaMetadata$Value",
        &[
            ("transforms.t.type", "SetSchemaMetadata$Value"),
            ("transforms.t.schema.name", "shop.Renamed"),
            ("transforms.t.schema.version", "3"),
        ],
    ),
    (
        "SetSchemaMetadata$Key",
        &[
            ("transforms.t.type", "SetSchemaMetadata$Key"),
            ("transforms.t.schema.name", "shop.K"),
        ],
    ),
    (
        "TimestampConverter$Value",
        &[
            ("transforms.t.type", "TimestampConverter$Value"),
            ("transforms.t.field", "ts"),
            ("transforms.t.target.type", "string"),
            ("transforms.t.format", "yyyy-MM-dd HH:mm"),
        ],
    ),
    (
        "TimestampConverter$Key",
        &[
            ("transforms.t.type", "TimestampConverter$Key"),
            ("transforms.t.target.type", "Timestamp"),
        ],
    ),
    (
        "TimestampRouter",
        &[
            ("transforms.t.type", "TimestampRouter"),
            ("transforms.t.topic.format", "${topic}-${timestamp}"),
            ("transforms.t.timestamp.format", "yyyyMMdd"),
        ],
    ),
    (
        "ValueToKey",
        &[
            ("transforms.t.type", "ValueToKey"),
            ("transforms.t.fields", "id,user"),
        ],
    ),
];

#[test]
fn every_smt_matches_the_reference_model_row_by_row() {
    let mut names = Vec::new();
    for (name, pairs) in SMTS {
        check(name, &config(pairs));
        names.push(name.split(['$', ' ']).next().unwrap_or(name));
    }
    names.dedup();
    assert_eq!(names.len(), 16, "every Kafka SMT is covered: {names:?}");
}

const PREDICATES: &[(&str, &[(&str, &str)])] = &[
    (
        "TopicNameMatches",
        &[
            ("predicates.p.type", "TopicNameMatches"),
            ("predicates.p.pattern", "use.*"),
        ],
    ),
    (
        "HasHeaderKey",
        &[
            (
                "predicates.p.type",
                "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
            ),
            ("predicates.p.name", "h1"),
        ],
    ),
    (
        "RecordIsTombstone",
        &[("predicates.p.type", "RecordIsTombstone")],
    ),
];

#[test]
fn every_predicate_matches_on_filter_and_other_stages() {
    for (name, pairs) in PREDICATES {
        for negate in ["false", "true"] {
            for stage in [
                &[("transforms.t.type", "Filter")][..],
                &[
                    ("transforms.t.type", "InsertField$Value"),
                    ("transforms.t.static.field", "src"),
                    ("transforms.t.static.value", "web"),
                ][..],
                &[
                    ("transforms.t.type", "RegexRouter"),
                    ("transforms.t.regex", "orders"),
                    ("transforms.t.replacement", "o"),
                ][..],
                &[
                    ("transforms.t.type", "InsertHeader"),
                    ("transforms.t.header", "seen"),
                    ("transforms.t.value.literal", "1"),
                ][..],
            ] {
                let mut p = config(stage);
                p.extend(config(pairs));
                p.insert("predicates".into(), "p".into());
                p.insert("transforms.t.predicate".into(), "p".into());
                p.insert("transforms.t.negate".into(), negate.into());
                check(&format!("{name} negate={negate} on {}", stage[0].1), &p);
            }
        }
    }
}

#[test]
fn a_chain_of_every_kind_matches_and_runs_its_kernels_column_wise() {
    let p = config(&[
        ("transforms", "route,insert,cast,drop,hoist,head,keyed"),
        ("transforms.route.type", "TimestampRouter"),
        ("transforms.insert.type", "InsertField$Value"),
        ("transforms.insert.static.field", "src"),
        ("transforms.insert.static.value", "web"),
        ("transforms.cast.type", "Cast$Value"),
        ("transforms.cast.spec", "amount:float32"),
        ("transforms.drop.type", "ReplaceField$Value"),
        ("transforms.drop.exclude", "note"),
        ("transforms.hoist.type", "HoistField$Value"),
        ("transforms.hoist.field", "order"),
        ("transforms.hoist.predicate", "tomb"),
        ("transforms.hoist.negate", "true"),
        ("transforms.head.type", "InsertHeader"),
        ("transforms.head.header", "via"),
        ("transforms.head.value.literal", "sluice"),
        ("transforms.keyed.type", "ValueToKey"),
        ("transforms.keyed.fields", "order"),
        ("predicates", "tomb"),
        ("predicates.tomb.type", "RecordIsTombstone"),
    ]);
    check("chain", &p);
}

/// SMT configs (names from [`SMTS`]) whose kernels take uniform batches whole, schemaless
/// and schema'd: on those batches nothing may run per record.
const COLUMN_WISE: &[(&str, bool)] = &[
    ("Cast$Value", true),
    ("Cast$Value", false),
    ("Cast$Value numeric", true),
    ("Cast$Value numeric", false),
    ("InsertField$Value", true),
    ("InsertField$Value", false),
    ("InsertField$Key", true),
    ("InsertField$Key", false),
    ("ReplaceField$Value", true),
    ("ReplaceField$Value", false),
    ("ReplaceField$Key", true),
    ("ReplaceField$Key", false),
    ("RegexRouter", true),
    ("RegexRouter", false),
    ("TimestampRouter", true),
    ("TimestampRouter", false),
    ("Filter", true),
    ("Filter", false),
    ("DropHeaders", true),
    ("DropHeaders", false),
    ("InsertHeader", true),
    ("InsertHeader", false),
    ("HeaderFrom$Value", true),
    ("HeaderFrom$Value", false),
    ("HeaderFrom$Key", true),
    ("HeaderFrom$Key", false),
    ("HoistField$Value", true),
    ("HoistField$Value", false),
    ("HoistField$Key", true),
    ("HoistField$Key", false),
    ("ExtractField$Value", true),
    ("ExtractField$Value", false),
    ("ExtractField$Key", true),
    ("ExtractField$Key", false),
    ("SetSchemaMetadata$Value", false),
    ("SetSchemaMetadata$Key", false),
    ("ValueToKey", true),
    ("ValueToKey", false),
    ("MaskField$Value", true),
    ("MaskField$Value", false),
    ("MaskField$Key", true),
    ("MaskField$Key", false),
    ("Flatten$Value", true),
    ("Flatten$Value", false),
    ("Flatten$Key", true),
    ("Flatten$Key", false),
    ("TimestampConverter$Value", true),
    ("TimestampConverter$Value", false),
];

#[test]
fn kernels_take_uniform_batches_whole_and_match_the_reference() {
    let mut declined = Vec::new();
    for (name, schemaless) in COLUMN_WISE {
        let pairs = SMTS
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| *p)
            .unwrap_or_else(|| panic!("{name} is not in SMTS"));
        let mut props = config(pairs);
        if *schemaless {
            for role in ["key", "value"] {
                props.insert(format!("{role}.converter.schemas.enable"), "false".into());
            }
        }
        let label = format!("{name} (uniform, schemaless={schemaless})");
        if check_batch(&label, &props, &batch(&uniform_rows(*schemaless))) > 0 {
            declined.push(label);
        }
    }
    assert!(declined.is_empty(), "rows ran per record: {declined:#?}");
}

/// Tombstones among otherwise uniform rows: the kernel takes the stretches between them and
/// only the tombstones run per record.
#[test]
fn only_the_null_rows_run_per_record() {
    for name in [
        "InsertField$Value",
        "ReplaceField$Value",
        "Cast$Value numeric",
        "MaskField$Value",
        "Flatten$Value",
        "HoistField$Value",
    ] {
        for schemaless in [true, false] {
            let pairs = SMTS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, p)| *p)
                .unwrap_or_else(|| panic!("{name} is not in SMTS"));
            let mut props = config(pairs);
            if schemaless {
                for role in ["key", "value"] {
                    props.insert(format!("{role}.converter.schemas.enable"), "false".into());
                }
            }
            let mut rows = uniform_rows(schemaless);
            let mut nulls = 0;
            for (i, r) in rows.iter_mut().enumerate() {
                if i % 9 == 4 {
                    r.value = None;
                    nulls += 1;
                }
            }
            let label = format!("{name} with tombstones (schemaless={schemaless})");
            let per_record = check_batch(&label, &props, &batch(&rows));
            assert!(
                per_record <= nulls,
                "{label}: {per_record} rows ran per record, {nulls} are null"
            );
        }
    }
}
