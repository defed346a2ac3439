//! Distributed mode against the real broker: three `sluice distributed` workers form a
//! group; a sink with `tasks.max=3` on a 6-partition topic runs one task per worker;
//! create, reconfigure, pause, resume, restart, stop and delete go through a non-leader and
//! are forwarded; a worker killed with -9 has its tasks moved within 30 s; the config
//! and status topics hold Kafka's records.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Sluice, get_json, http, unique, wait_for};
use serde_json::Value;

struct Cluster {
    group: String,
    dir: tempfile::TempDir,
}

impl Cluster {
    fn new() -> Self {
        Self {
            group: unique("sluice-dist"),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn worker_props(&self, n: u16, port: u16) -> PathBuf {
        let g = &self.group;
        let text = format!(
            "bootstrap.servers={}\ngroup.id={g}\n\
             key.converter=org.apache.kafka.connect.storage.StringConverter\n\
             value.converter=org.apache.kafka.connect.storage.StringConverter\n\
             config.storage.topic={g}-configs\noffset.storage.topic={g}-offsets\nstatus.storage.topic={g}-status\n\
             config.storage.replication.factor=1\noffset.storage.replication.factor=1\nstatus.storage.replication.factor=1\n\
             offset.storage.partitions=3\nstatus.storage.partitions=2\noffset.flush.interval.ms=1000\n\
             rest.advertised.host.name=127.0.0.1\nlisteners=http://127.0.0.1:{port}\n\
             scheduled.rebalance.max.delay.ms=5000\nsession.timeout.ms=6000\nheartbeat.interval.ms=2000\n",
            common::bootstrap()
        );
        common::write_file(&self.dir.path().join(format!("w{n}.properties")), &text)
    }

    /// Three workers on free ports, the first started alone so it leads; returns them with
    /// their ports and REST URLs once all answer.
    fn start_three(&self) -> ([Sluice; 3], [u16; 3], Vec<String>) {
        let ports = [free_port(), free_port(), free_port()];
        let urls: Vec<String> = ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect();
        let a = self.start(1, ports[0]);
        wait_for("worker 1 answers", Duration::from_secs(60), || {
            answers(&urls[0])
        });
        let b = self.start(2, ports[1]);
        let c = self.start(3, ports[2]);
        for u in &urls[1..] {
            wait_for("worker answers", Duration::from_secs(60), || answers(u));
        }
        ([a, b, c], ports, urls)
    }

    fn start(&self, n: u16, port: u16) -> Sluice {
        let props = self.worker_props(n, port);
        Sluice::distributed(self.dir.path(), &props, &[])
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The worker's REST server accepts connections and answers `GET /connectors`.
fn answers(url: &str) -> bool {
    let addr = url.trim_start_matches("http://");
    std::net::TcpStream::connect(addr).is_ok()
        && http("GET", &format!("{url}/connectors"), None).0 == 200
}

fn status(url: &str, c: &str) -> Option<Value> {
    let (code, _, body) = http("GET", &format!("{url}/connectors/{c}/status"), None);
    (code == 200).then(|| serde_json::from_str(&body).unwrap())
}

fn task_workers(s: &Value) -> Vec<(String, String)> {
    s["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["state"].as_str().unwrap().to_string(),
                t["worker_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Reads a whole topic as (partition, key, value).
fn dump(topic: &str, partitions: i32) -> Vec<(i32, String, Option<String>)> {
    let records = common::read_topic(topic, partitions);
    records
        .into_iter()
        .map(|(partition, _, key, value)| {
            (
                partition,
                String::from_utf8(key.unwrap_or_default()).unwrap(),
                value.map(|v| String::from_utf8(v).unwrap()),
            )
        })
        .collect()
}

fn wait_status(url: &str, c: &str, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    wait_for(what, Duration::from_secs(90), || match status(url, c) {
        Some(s) if cond(&s) => {
            last = s;
            true
        }
        Some(s) => {
            last = s;
            false
        }
        None => false,
    });
    last
}

/// Distinct lines of the sink file (at-least-once delivery may repeat some after a move).
fn distinct_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().collect::<BTreeSet<_>>().len())
        .unwrap_or(0)
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn three_workers_share_a_sink_through_a_non_leader() {
    common::require_broker();
    let cluster = Cluster::new();
    let topic = format!("{}-in", cluster.group);
    common::create_topic(&topic, 6);
    let ([a, b, c], ports, urls) = cluster.start_three();
    // A fresh name: the sink's consumer group `connect-<name>` is new on the broker (the
    // test broker keeps departed members of a group for minutes: broker.md).
    let sink = unique("sink");
    let out = cluster.dir.path().join("sink.out");
    let body = format!(
        r#"{{"name":"{sink}","config":{{"connector.class":"FileStreamSink","tasks.max":"3","topics":"{topic}","file":"{}"}}}}"#,
        out.display()
    );
    // Created through a non-leader: forwarded to the leader.
    let (code, _, resp) = http("POST", &format!("{}/connectors", urls[1]), Some(&body));
    assert_eq!(code, 201, "{resp}");
    let created: Value = serde_json::from_str(&resp).unwrap();
    assert_eq!(created["config"]["name"], sink.as_str());
    assert_eq!(created["tasks"], serde_json::json!([]));
    let (code, _, resp) = http("POST", &format!("{}/connectors", urls[2]), Some(&body));
    assert_eq!(code, 409, "{resp}");
    assert!(
        resp.contains(&format!("Connector {sink} already exists")),
        "{resp}"
    );

    let s = wait_status(&urls[2], &sink, "one task per worker", |s| {
        let t = task_workers(s);
        t.len() == 3
            && t.iter().all(|(st, _)| st == "RUNNING")
            && t.iter()
                .map(|(_, w)| w.clone())
                .collect::<BTreeSet<_>>()
                .len()
                == 3
    });
    let ids: BTreeSet<String> = task_workers(&s).into_iter().map(|(_, w)| w).collect();
    let expected: BTreeSet<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    assert_eq!(ids, expected, "{s}");

    common::produce(
        &topic,
        (0..600).map(|i| {
            (
                Some(format!("k{i}").into_bytes()),
                format!("v{i}").into_bytes(),
            )
        }),
    );
    wait_for(
        "600 lines in the sink file",
        Duration::from_secs(120),
        || lines(&out) == 600,
    );

    // Reconfigured through a non-leader: two tasks.
    let put = format!(
        r#"{{"connector.class":"FileStreamSink","tasks.max":"2","topics":"{topic}","file":"{}"}}"#,
        out.display()
    );
    let (code, _, resp) = http(
        "PUT",
        &format!("{}/connectors/{sink}/config", urls[2]),
        Some(&put),
    );
    assert_eq!(code, 200, "{resp}");
    wait_status(&urls[0], &sink, "two tasks", |s| {
        let t = task_workers(s);
        t.len() == 2 && t.iter().all(|(st, _)| st == "RUNNING")
    });

    // Pause and resume (any worker writes the target state).
    assert_eq!(
        http("PUT", &format!("{}/connectors/{sink}/pause", urls[1]), None).0,
        202
    );
    wait_status(&urls[0], &sink, "paused", |s| {
        s["connector"]["state"] == "PAUSED" && task_workers(s).iter().all(|(st, _)| st == "PAUSED")
    });
    assert_eq!(
        http(
            "PUT",
            &format!("{}/connectors/{sink}/resume", urls[2]),
            None
        )
        .0,
        202
    );
    wait_status(&urls[1], &sink, "resumed", |s| {
        s["connector"]["state"] == "RUNNING"
            && task_workers(s).iter().all(|(st, _)| st == "RUNNING")
    });

    // A restart of connector and tasks, asked of a non-leader.
    let (code, _, resp) = http(
        "POST",
        &format!(
            "{}/connectors/{sink}/restart?includeTasks=true&onlyFailed=false",
            urls[2]
        ),
        None,
    );
    assert_eq!(code, 202, "{resp}");
    let plan: Value = serde_json::from_str(&resp).unwrap();
    assert_eq!(plan["connector"]["state"], "RESTARTING");

    let alive_url = urls[1].clone();
    // Stop, then delete, through whichever worker is alive.
    assert_eq!(
        http("PUT", &format!("{alive_url}/connectors/{sink}/stop"), None).0,
        204
    );
    wait_status(&alive_url, &sink, "stopped", |s| {
        s["connector"]["state"] == "STOPPED" && s["tasks"].as_array().unwrap().is_empty()
    });
    assert_eq!(
        http("DELETE", &format!("{alive_url}/connectors/{sink}"), None).0,
        204
    );
    wait_for("the connector is gone", Duration::from_secs(60), || {
        get_json(&format!("{alive_url}/connectors")) == serde_json::json!([])
            && status(&alive_url, &sink).is_none()
    });

    // The config topic holds Kafka's records, in Kafka's formats.
    let configs = dump(&format!("{}-configs", cluster.group), 1);
    let keys: Vec<&str> = configs.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(keys.first(), Some(&"session-key"), "{keys:?}");
    let value_of = |key: &str| -> Vec<Option<String>> {
        configs
            .iter()
            .filter(|(_, k, _)| k == key)
            .map(|(_, _, v)| v.clone())
            .collect()
    };
    assert_eq!(
        value_of(&format!("connector-{sink}"))
            .first()
            .cloned()
            .flatten()
            .unwrap(),
        format!(
            r#"{{"properties":{{"connector.class":"FileStreamSink","tasks.max":"3","topics":"{topic}","file":"{}","name":"{sink}"}}}}"#,
            out.display()
        )
    );
    assert_eq!(
        value_of(&format!("connector-{sink}")).last().unwrap(),
        &None,
        "tombstone on delete"
    );
    let commits: Vec<String> = value_of(&format!("commit-{sink}"))
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(commits.first().unwrap(), r#"{"tasks":3}"#);
    assert!(commits.contains(&r#"{"tasks":2}"#.to_string()));
    assert_eq!(commits.last().unwrap(), r#"{"tasks":0}"#, "{commits:?}");
    let targets: Vec<Option<String>> = value_of(&format!("target-state-{sink}"));
    assert_eq!(
        targets,
        vec![
            Some(r#"{"state":"PAUSED","state.v2":"PAUSED"}"#.to_string()),
            Some(r#"{"state":"STARTED","state.v2":"STARTED"}"#.to_string()),
            Some(r#"{"state":"PAUSED","state.v2":"STOPPED"}"#.to_string()),
            None,
        ]
    );
    assert_eq!(
        value_of(&format!("restart-connector-{sink}")),
        vec![Some(
            r#"{"include-tasks":true,"only-failed":false}"#.to_string()
        )]
    );
    // The status topic: every record of a live connector names a worker and a generation.
    let statuses = dump(&format!("{}-status", cluster.group), 2);
    assert!(
        statuses
            .iter()
            .any(|(_, k, v)| *k == format!("status-task-{sink}-0")
                && v.as_deref().is_some_and(|v| {
                    v.contains(r#""state":"RUNNING","trace":null,"worker_id":"127.0.0.1:"#)
                }))
    );
    assert!(
        statuses
            .iter()
            .any(|(_, k, v)| *k == format!("status-connector-{sink}") && v.is_none()),
        "tombstoned on delete"
    );
    for w in [a, b, c] {
        let s = w.terminate();
        assert!(s.success(), "{s:?}");
    }
}

/// Starts three workers and a 3-task FileStreamSink on a fresh 6-partition topic; returns
/// (workers, their ports, urls, sink name, topic, output file) once every task runs.
fn sink_on_three_workers(
    cluster: &Cluster,
) -> ([Sluice; 3], [u16; 3], Vec<String>, String, String, PathBuf) {
    let topic = format!("{}-in", cluster.group);
    common::create_topic(&topic, 6);
    let ([a, b, c], ports, urls) = cluster.start_three();
    let sink = unique("sink");
    let out = cluster.dir.path().join("sink.out");
    let body = format!(
        r#"{{"name":"{sink}","config":{{"connector.class":"FileStreamSink","tasks.max":"3","topics":"{topic}","file":"{}"}}}}"#,
        out.display()
    );
    let (code, _, resp) = http("POST", &format!("{}/connectors", urls[2]), Some(&body));
    assert_eq!(code, 201, "{resp}");
    wait_status(&urls[0], &sink, "one task per worker", |s| {
        let t = task_workers(s);
        t.len() == 3
            && t.iter().all(|(st, _)| st == "RUNNING")
            && t.iter()
                .map(|(_, w)| w.clone())
                .collect::<BTreeSet<_>>()
                .len()
                == 3
    });
    ([a, b, c], ports, urls, sink, topic, out)
}

#[test]
fn a_killed_worker_s_tasks_run_elsewhere_and_no_record_is_lost() {
    common::require_broker();
    let cluster = Cluster::new();
    let ([a, b, c], ports, urls, sink, topic, out) = sink_on_three_workers(&cluster);
    common::produce(
        &topic,
        (0..600).map(|i| {
            (
                Some(format!("k{i}").into_bytes()),
                format!("v{i}").into_bytes(),
            )
        }),
    );
    wait_for(
        "600 lines in the sink file",
        Duration::from_secs(120),
        || lines(&out) == 600,
    );
    // kill -9 of a worker running a task: the task runs elsewhere after the delay.
    let s = status(&urls[0], &sink).unwrap();
    let victim = task_workers(&s)
        .into_iter()
        .map(|(_, w)| w)
        .find(|w| *w != format!("127.0.0.1:{}", ports[0]))
        .unwrap();
    let (dead, alive): (Vec<_>, Vec<_>) = [a, b, c]
        .into_iter()
        .zip(&ports)
        .partition(|(_, p)| format!("127.0.0.1:{p}") == victim);
    let alive_url = format!("http://127.0.0.1:{}", alive[0].1);
    for (w, _) in dead {
        w.kill9();
    }
    let started = std::time::Instant::now();
    wait_status(
        &alive_url,
        &sink,
        "tasks moved off the killed worker",
        |s| {
            let t = task_workers(s);
            t.len() == 3 && t.iter().all(|(st, w)| st == "RUNNING" && *w != victim)
        },
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    common::produce(
        &topic,
        (600..900).map(|i| {
            (
                Some(format!("k{i}").into_bytes()),
                format!("v{i}").into_bytes(),
            )
        }),
    );
    wait_for("900 lines after the move", Duration::from_secs(150), || {
        distinct_lines(&out) == 900
    });

    for (w, _) in alive {
        let s = w.terminate();
        assert!(s.success(), "{s:?}");
    }
}

/// The values of a topic's records, as text.
fn values(topic: &str, partitions: i32) -> BTreeSet<String> {
    common::read_topic(topic, partitions)
        .into_iter()
        .filter_map(|(_, _, _, v)| v.map(|v| String::from_utf8(v).unwrap()))
        .collect()
}

#[test]
fn a_source_moves_off_a_killed_leader_without_losing_a_line() {
    common::require_broker();
    let cluster = Cluster::new();
    let ([a, b, c], ports, urls) = cluster.start_three();
    let topic = format!("{}-out", cluster.group);
    common::create_topic(&topic, 1);
    let input = cluster.dir.path().join("src.in");
    common::append_lines(&input, (0..100).map(|i| format!("line-{i}")));
    let src = unique("src");
    let body = format!(
        r#"{{"name":"{src}","config":{{"connector.class":"FileStreamSource","tasks.max":"1","topic":"{topic}","file":"{}"}}}}"#,
        input.display()
    );
    let (code, _, resp) = http("POST", &format!("{}/connectors", urls[1]), Some(&body));
    assert_eq!(code, 201, "{resp}");
    let s = wait_status(&urls[2], &src, "the source task runs", |s| {
        let t = task_workers(s);
        t.len() == 1 && t[0].0 == "RUNNING"
    });
    let first_owner = task_workers(&s)[0].1.clone();
    wait_for("100 lines in the topic", Duration::from_secs(60), || {
        values(&topic, 1).len() == 100
    });
    // The source's offsets are in the offsets topic, in Kafka's key format.
    let (code, _, offsets) = http(
        "GET",
        &format!("{}/connectors/{src}/offsets", urls[2]),
        None,
    );
    assert_eq!(code, 200, "{offsets}");
    let o: Value = serde_json::from_str(&offsets).unwrap();
    assert_eq!(
        o["offsets"][0]["partition"]["filename"],
        input.display().to_string(),
        "{offsets}"
    );

    // kill -9 of the leader (worker 1); the new leader finds no previous assignment, so the
    // lost work is assigned at once.
    a.kill9();
    let leader_id = format!("127.0.0.1:{}", ports[0]);
    let started = std::time::Instant::now();
    let s = wait_status(&urls[1], &src, "everything off the killed leader", |s| {
        s["connector"]["state"] == "RUNNING"
            && s["connector"]["worker_id"] != leader_id.as_str()
            && task_workers(s)
                .iter()
                .all(|(st, w)| st == "RUNNING" && *w != leader_id)
    });
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    common::append_lines(&input, (100..200).map(|i| format!("line-{i}")));
    wait_for(
        "all 200 lines in the topic",
        Duration::from_secs(90),
        || values(&topic, 1).len() == 200,
    );
    let expected: BTreeSet<String> = (0..200).map(|i| format!("line-{i}")).collect();
    assert_eq!(
        values(&topic, 1),
        expected,
        "task moved from {first_owner}: {s}"
    );
    for w in [b, c] {
        let s = w.terminate();
        assert!(s.success(), "{s:?}");
    }
}
