//! Change data into Parquet without loss, end to end with real components: PostgreSQL
//! (`scripts/postgres.sh`, wal_level=logical), Debezium's PostgresConnector (pgoutput) run by
//! Debezium's embedded engine with Kafka Connect's JsonConverter (`tests/cdc/`, jars from
//! `scripts/kafka-connect.sh`), the broker, and sluice's ParquetSink with
//! `behavior.on.null.values=ignore` on the raw envelope and on `ExtractField$Value after`,
//! on local disk and on S3. Every PostgreSQL row's latest version must be in the files,
//! column for column (read back by duckdb), with the documented Parquet types, no file for a
//! tombstone, no all-null row for a delete, and no more files than `flush.size` calls for.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const SNAPSHOT_ROWS: u64 = 50_000;
/// Records Debezium writes: the snapshot, 500 updates, 500 deletes each followed by its
/// tombstone, 1,000 inserts and one more update (`tests/cdc/changes.sql`).
const RECORDS: u64 = SNAPSHOT_ROWS + 500 + 2 * 500 + 1_000 + 1;
const TOMBSTONES: u64 = 500;
const DELETES: u64 = 500;
const FLUSH_SIZE: u64 = 5_000;
/// `rotate.schedule.interval.ms`: commits the tail; each wall-clock boundary it crosses while
/// the backlog is read also closes a file early (Confluent's semantics).
const SCHEDULE_MS: u64 = 10_000;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn script(name: &str, args: &[&str]) -> String {
    let out = Command::new("bash")
        .arg(repo().join("scripts").join(name))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scripts/{name} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn pg_port() -> String {
    std::env::var("SLUICE_PG_PORT").unwrap_or_else(|_| "55432".into())
}

fn psql() -> String {
    ["/usr/bin/psql", "/usr/local/bin/psql"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .map(String::from)
        .unwrap_or_else(|| {
            let bin = std::fs::read_dir("/usr/lib/postgresql")
                .unwrap()
                .filter_map(|e| e.ok())
                .map(|e| e.path().join("bin/psql"))
                .find(|p| p.exists())
                .expect("psql (scripts/postgres.sh installs PostgreSQL)");
            bin.display().to_string()
        })
}

fn sql(db: &str, args: &[&str]) {
    let out = Command::new(psql())
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p"])
        .arg(pg_port())
        .args(["-U", "postgres", "-d", db])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "psql {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check(out: &Path, db: &str, mode: &str) -> Value {
    let args = [
        psql(),
        pg_port(),
        db.to_string(),
        out.display().to_string(),
        mode.to_string(),
    ];
    python_json("check_cdc.py", &args)
}

fn connector(dir: &Path, name: &str, topic: &str, extra: &[(&str, String)]) -> PathBuf {
    let mut config = json!({
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "format.class": "io.confluent.connect.s3.format.parquet.ParquetFormat",
        "tasks.max": "1",
        "topics": topic,
        "flush.size": FLUSH_SIZE.to_string(),
        "behavior.on.null.values": "ignore",
        "rotate.schedule.interval.ms": SCHEDULE_MS.to_string(),
        // Envelopes with their schema are ~3 KB: files of 5,000 hold more fetched bytes than
        // the default budget, which would close them early.
        "memory.budget.bytes": (512u64 << 20).to_string(),
        "timezone": "UTC",
        "consumer.override.session.timeout.ms": "6000",
    });
    for (k, v) in extra {
        config[*k] = json!(v);
    }
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, json!({"name": name, "config": config}).to_string()).unwrap();
    path
}

fn rows(out: &Path) -> u64 {
    if !out.exists() {
        return 0;
    }
    let mut n = 0;
    let mut stack = vec![out.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                let f = std::fs::File::open(&p).unwrap();
                if let Ok(r) = parquet::file::reader::SerializedFileReader::new(f) {
                    n += parquet::file::reader::FileReader::metadata(&r)
                        .file_metadata()
                        .num_rows() as u64;
                }
            }
        }
    }
    n
}

fn assert_lossless(report: &Value, label: &str, want_rows: u64, boundaries: u64) {
    eprintln!("{label}: {report}");
    assert_eq!(report["rows"], want_rows, "{label}: rows in the files");
    assert_eq!(
        report["mismatch_count"], 0,
        "{label}: {}",
        report["mismatches"]
    );
    assert_eq!(report["type_mismatches"], json!([]), "{label}");
    assert_eq!(
        report["null_images"], 0,
        "{label}: all-null rows for deletes"
    );
    assert_eq!(
        report["live_ids"].as_u64(),
        Some(if label.contains("envelope") {
            report["pg_rows"].as_u64().unwrap()
        } else {
            report["pg_rows"].as_u64().unwrap() + DELETES
        })
    );
    // Tombstones open no file (500 of them, each between a delete and the next change): the
    // files are full ones, bar one cut at each scheduled-rotation boundary of the run.
    let files = report["files"].as_u64().unwrap();
    let full = want_rows.div_ceil(FLUSH_SIZE);
    assert!(
        files <= full + boundaries,
        "{label}: {files} files for {want_rows} rows at flush.size {FLUSH_SIZE} and {boundaries} rotation boundaries: {}",
        report["file_rows"]
    );
}

#[test]
fn debezium_postgres_changes_reach_parquet_exactly_on_disk_and_s3() {
    require_broker();
    script("postgres.sh", &["start"]);
    let classes = script("kafka-connect.sh", &["compile", "engine/tests/cdc"]);
    let classpath = format!("{classes}:{}", script("kafka-connect.sh", &["classpath"]));

    let id = unique("cdc").replace('-', "_");
    let db = id.clone();
    sql("postgres", &["-c", &format!("CREATE DATABASE {db}")]);
    sql(
        &db,
        &[
            "-f",
            repo().join("engine/tests/cdc/setup.sql").to_str().unwrap(),
        ],
    );
    let topic = format!("{id}.public.t");
    create_topic(&topic, 1);

    // Debezium snapshots the table, runs the changes, and exits once all are acknowledged.
    let dbz = Command::new("java")
        .args([
            "-cp",
            &classpath,
            "DebeziumToKafka",
            &bootstrap(),
            &id,
            &pg_port(),
            &db,
            "t",
        ])
        .arg(SNAPSHOT_ROWS.to_string())
        .arg(RECORDS.to_string())
        .arg(repo().join("engine/tests/cdc/changes.sql"))
        .output()
        .unwrap();
    assert!(
        dbz.status.success(),
        "Debezium harness failed: {}\n{}",
        String::from_utf8_lossy(&dbz.stdout),
        String::from_utf8_lossy(&dbz.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let s3 = S3Server::start();
    let local = |sub: &str| {
        vec![(
            "store.url",
            format!("file://{}", dir.path().join(sub).display()),
        )]
    };
    let extract = |mut v: Vec<(&'static str, String)>| {
        v.push(("transforms", "after".into()));
        v.push((
            "transforms.after.type",
            "org.apache.kafka.connect.transforms.ExtractField$Value".into(),
        ));
        v.push(("transforms.after.field", "after".into()));
        v
    };
    let connectors = [
        connector(
            dir.path(),
            &unique("cdc-envelope"),
            &topic,
            &local("envelope"),
        ),
        connector(
            dir.path(),
            &unique("cdc-after"),
            &topic,
            &extract(local("after")),
        ),
        connector(
            dir.path(),
            &unique("cdc-after-s3"),
            &topic,
            &extract(s3.settings()),
        ),
    ];
    let w = worker_props(dir.path(), 500);
    let refs: Vec<&Path> = connectors.iter().map(PathBuf::as_path).collect();
    let sluice = Sluice::standalone(dir.path(), &w, &refs);
    let started = std::time::Instant::now();

    let envelope_rows = RECORDS - TOMBSTONES;
    let after_rows = envelope_rows - DELETES;
    let outs = [
        (dir.path().join("envelope"), envelope_rows),
        (dir.path().join("after"), after_rows),
        (s3.data(), after_rows),
    ];
    wait_for(
        "every change in committed files",
        Duration::from_secs(180),
        || outs.iter().all(|(out, want)| rows(out) >= *want),
    );
    assert!(sluice.terminate().success());
    let boundaries = started.elapsed().as_millis() as u64 / SCHEDULE_MS + 1;
    for (out, mode, label, want) in [
        (&outs[0].0, "envelope", "raw envelope", envelope_rows),
        (&outs[1].0, "after", "ExtractField after", after_rows),
        (&outs[2].0, "after", "ExtractField after on S3", after_rows),
    ] {
        assert_lossless(&check(out, &db, mode), label, want, boundaries);
    }
    sql(
        "postgres",
        &["-c", &format!("DROP DATABASE {db} WITH (FORCE)")],
    );
}

#[test]
fn a_null_under_fail_fails_the_task_with_confluents_message_and_commits_nothing_after_it() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("cdcfail");
    create_topic(&topic, 1);
    let schema = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"r"}"#;
    let value =
        |i: i32| Some(format!(r#"{{"schema":{schema},"payload":{{"id":{i}}}}}"#).into_bytes());
    // 0..9, a tombstone at offset 10, then 11..19.
    produce_nullable(
        &topic,
        (0..20).map(|i| (None, if i == 10 { None } else { value(i) })),
    );
    let name = unique("cdcfail");
    let c = connector(
        dir.path(),
        &name,
        &topic,
        &[
            (
                "store.url",
                format!("file://{}", dir.path().join("out").display()),
            ),
            ("behavior.on.null.values", "fail".into()),
            ("flush.size", "4".into()),
            ("errors.tolerance", "none".into()),
        ],
    );
    let w = worker_props(dir.path(), 500);
    let sluice = Sluice::standalone(dir.path(), &w, &[&c]);
    wait_for("the task to fail", Duration::from_secs(60), || {
        sluice.log_lines().iter().any(|l| {
            l.contains("Null valued records are not writeable with current behavior.on.null.values 'settings'.")
        })
    });
    std::thread::sleep(Duration::from_secs(2));
    let _ = sluice.terminate();
    // Files hold 0..7 (two full files); nothing at or after offset 10 is in any file, and
    // the group's committed offset is not past the null.
    let out = dir.path().join("out");
    assert_eq!(rows(&out), 8);
    let committed = committed_offset(&format!("connect-{name}"), &topic).unwrap_or(0);
    assert!(committed <= 10, "committed {committed}");
}
