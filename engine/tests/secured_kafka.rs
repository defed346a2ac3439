//! Kafka over TLS and mutual TLS (stunnel4 in front of the test broker,
//! `scripts/tls-broker.sh`): every trust- and keystore type Kafka's clients take, a sink
//! and a source connector end to end, and the clear failures of a wrong CA or password.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use common::*;
use sluice_engine::config::WorkerConfig;

struct Tls {
    bootstrap: String,
    mutual: String,
    dir: PathBuf,
}

/// The TLS brokers, started once per test process (stunnel4 must be installed).
fn tls() -> &'static Tls {
    static TLS: OnceLock<Tls> = OnceLock::new();
    TLS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let status = Command::new("bash")
            .arg(root.join("scripts/tls-broker.sh"))
            .arg("status")
            .output()
            .unwrap();
        let out = if status.status.success() {
            status
        } else {
            let started = Command::new("bash")
                .arg(root.join("scripts/tls-broker.sh"))
                .arg("start")
                .output()
                .unwrap();
            assert!(
                started.status.success(),
                "scripts/tls-broker.sh start: {}",
                String::from_utf8_lossy(&started.stderr)
            );
            started
        };
        let env: BTreeMap<String, String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Tls {
            bootstrap: env["SLUICE_TLS_BOOTSTRAP"].clone(),
            mutual: env["SLUICE_MTLS_BOOTSTRAP"].clone(),
            dir: PathBuf::from(&env["SLUICE_TLS_DIR"]),
        }
    })
}

fn run(d: &Path, cmd: &str, args: &[&str]) {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Client trust- and keystores of every type, from the test CA and client certificate,
/// and a CA the brokers do not use.
fn stores(d: &Path) {
    let t = &tls().dir;
    let p = |f: &str| t.join(f).display().to_string();
    std::fs::copy(t.join("ca.pem"), d.join("ts.pem")).unwrap();
    for (file, kind) in [("ts.jks", "JKS"), ("ts.p12", "PKCS12")] {
        run(
            d,
            "keytool",
            &[
                "-importcert",
                "-noprompt",
                "-alias",
                "ca",
                "-file",
                &p("ca.pem"),
                "-keystore",
                file,
                "-storetype",
                kind,
                "-storepass",
                "trustpass",
            ],
        );
    }
    run(
        d,
        "openssl",
        &[
            "pkcs12",
            "-export",
            "-in",
            &p("client.pem"),
            "-inkey",
            &p("client.key"),
            "-out",
            "ks.p12",
            "-passout",
            "pass:storepass",
            "-name",
            "client",
        ],
    );
    run(
        d,
        "keytool",
        &[
            "-importkeystore",
            "-srckeystore",
            "ks.p12",
            "-srcstoretype",
            "PKCS12",
            "-srcstorepass",
            "storepass",
            "-destkeystore",
            "ks.jks",
            "-deststoretype",
            "JKS",
            "-deststorepass",
            "storepass",
            "-destkeypass",
            "keypass",
            "-noprompt",
        ],
    );
    let pem = std::fs::read_to_string(t.join("client.key")).unwrap()
        + &std::fs::read_to_string(t.join("client.pem")).unwrap();
    std::fs::write(d.join("ks.pem"), pem).unwrap();
    run(
        d,
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=another CA",
            "-keyout",
            "other.key",
            "-out",
            "other-ca.pem",
        ],
    );
}

fn truststore(d: &Path, kind: &str) -> Vec<(String, String)> {
    let file = match kind {
        "JKS" => "ts.jks",
        "PKCS12" => "ts.p12",
        _ => "ts.pem",
    };
    let mut v = vec![
        ("security.protocol".into(), "SSL".into()),
        (
            "ssl.truststore.location".into(),
            d.join(file).display().to_string(),
        ),
        ("ssl.truststore.type".into(), kind.into()),
    ];
    if kind != "PEM" {
        v.push(("ssl.truststore.password".into(), "trustpass".into()));
    }
    v
}

fn keystore(d: &Path, kind: &str) -> Vec<(String, String)> {
    match kind {
        "JKS" => vec![
            (
                "ssl.keystore.location".into(),
                d.join("ks.jks").display().to_string(),
            ),
            ("ssl.keystore.type".into(), "JKS".into()),
            ("ssl.keystore.password".into(), "storepass".into()),
            ("ssl.key.password".into(), "keypass".into()),
        ],
        "PKCS12" => vec![
            (
                "ssl.keystore.location".into(),
                d.join("ks.p12").display().to_string(),
            ),
            ("ssl.keystore.type".into(), "PKCS12".into()),
            ("ssl.keystore.password".into(), "storepass".into()),
        ],
        _ => vec![
            (
                "ssl.keystore.location".into(),
                d.join("ks.pem").display().to_string(),
            ),
            ("ssl.keystore.type".into(), "PEM".into()),
        ],
    }
}

/// The cluster id through the worker's own client, or `None` when it cannot connect.
fn cluster_id(bootstrap: &str, security: Vec<(String, String)>) -> Option<String> {
    let mut props: BTreeMap<String, String> = security.into_iter().collect();
    props.insert("bootstrap.servers".into(), bootstrap.into());
    let worker = WorkerConfig::parse(props).unwrap();
    let consumer: rdkafka::consumer::BaseConsumer =
        sluice_engine::kafka::worker_client_config(&worker)
            .unwrap()
            .create()
            .unwrap();
    rdkafka::consumer::Consumer::client(&consumer).fetch_cluster_id(Duration::from_secs(5))
}

#[test]
fn every_store_type_connects_and_a_wrong_ca_or_no_certificate_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    stores(d);
    let t = tls();
    for kind in ["PEM", "JKS", "PKCS12"] {
        assert!(
            cluster_id(&t.bootstrap, truststore(d, kind)).is_some(),
            "truststore {kind}"
        );
        let mut with_key = truststore(d, "PEM");
        with_key.extend(keystore(d, kind));
        assert!(cluster_id(&t.mutual, with_key).is_some(), "keystore {kind}");
    }
    // Inline PEM (Kafka's ssl.truststore.certificates / ssl.keystore.key + certificate.chain).
    let read = |f: &Path| std::fs::read_to_string(f).unwrap();
    let inline = vec![
        ("security.protocol".to_string(), "SSL".to_string()),
        ("ssl.truststore.type".into(), "PEM".into()),
        (
            "ssl.truststore.certificates".into(),
            read(&t.dir.join("ca.pem")),
        ),
        ("ssl.keystore.type".into(), "PEM".into()),
        ("ssl.keystore.key".into(), read(&t.dir.join("client.key"))),
        (
            "ssl.keystore.certificate.chain".into(),
            read(&t.dir.join("client.pem")),
        ),
    ];
    assert!(cluster_id(&t.mutual, inline).is_some(), "inline PEM");
    // The mutual-TLS listener refuses a client without a certificate; a CA that did not
    // sign the broker's certificate is refused by the client.
    assert!(cluster_id(&t.mutual, truststore(d, "PEM")).is_none());
    let mut other = truststore(d, "PEM");
    other[1].1 = d.join("other-ca.pem").display().to_string();
    assert!(cluster_id(&t.bootstrap, other).is_none());
}

#[test]
fn connectors_over_mutual_tls_and_clear_failures() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    stores(d);
    let t = tls();
    let topic = unique("tls");
    // Created on the Tansu behind the mutual-TLS proxy, so the sink finds it at once.
    let created = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/broker.sh"))
        .args(["create-topic", &topic, "1"])
        .env(
            "SLUICE_BROKER_PORT",
            t.mutual
                .rsplit(':')
                .next()
                .unwrap()
                .parse::<u16>()
                .map(|p| p - 1)
                .unwrap()
                .to_string(),
        )
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    // Producer: JKS trust- and keystore; consumer: PKCS12 both; both through mutual TLS.
    let mut text = std::fs::read_to_string(worker_props(d, 500))
        .unwrap()
        .replace(
            &format!("bootstrap.servers={}", bootstrap()),
            &format!("bootstrap.servers={}", t.mutual),
        );
    for (prefix, kind) in [("producer.", "JKS"), ("consumer.", "PKCS12")] {
        for (k, v) in truststore(d, kind).into_iter().chain(keystore(d, kind)) {
            text.push_str(&format!("{prefix}{k}={v}\n"));
        }
    }
    // The worker's own clients: PEM.
    for (k, v) in truststore(d, "PEM").into_iter().chain(keystore(d, "PEM")) {
        text.push_str(&format!("{k}={v}\n"));
    }
    let worker = write_file(&d.join("worker.properties"), &text);
    let (input, output) = (d.join("in.txt"), d.join("out.txt"));
    let source = write_file(
        &d.join("source.properties"),
        &format!(
            "name=tls-source\nconnector.class=FileStreamSource\nfile={}\ntopic={topic}\n",
            input.display()
        ),
    );
    let sink = write_file(
        &d.join("sink.properties"),
        &format!(
            "name=tls-sink\nconnector.class=FileStreamSink\nfile={}\ntopics={topic}\n",
            output.display()
        ),
    );
    let sluice = Sluice::standalone(d, &worker, &[&source, &sink]);
    let url = sluice.rest_url();
    append_lines(&input, ["over".to_string(), "tls".to_string()]);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while lines(&output) != ["over", "tls"] {
        assert!(
            std::time::Instant::now() < deadline,
            "both lines through Kafka over mutual TLS; worker log:\n{}",
            sluice.log_lines().join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        get_json(&format!("{url}/"))["kafka_cluster_id"].is_string(),
        "the worker's own client connects with its PEM stores"
    );

    // A connector whose consumer trusts another CA, and one with a wrong keystore
    // password: each task FAILED with one clear reason; the worker keeps answering.
    let bad = |name: &str, overrides: &[(&str, String)]| {
        let mut config = serde_json::json!({
            "connector.class": "FileStreamSink",
            "topics": topic,
            "file": d.join(format!("{name}.txt")).display().to_string(),
        });
        for (k, v) in overrides {
            config[format!("consumer.override.{k}")] = serde_json::Value::String(v.clone());
        }
        let body = serde_json::json!({"name": name, "config": config}).to_string();
        let (status, _, answer) = http("POST", &format!("{url}/connectors"), Some(&body));
        assert_eq!(status, 201, "{answer}");
        let mut trace = String::new();
        wait_for(&format!("{name} FAILED"), Duration::from_secs(60), || {
            let s = get_json(&format!("{url}/connectors/{name}/status"));
            trace = s["tasks"][0]["trace"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            s["tasks"][0]["state"] == "FAILED"
        });
        trace
    };
    let trace = bad(
        "bad-ca",
        &[
            (
                "ssl.truststore.location",
                d.join("other-ca.pem").display().to_string(),
            ),
            ("ssl.truststore.type", "PEM".into()),
            ("ssl.truststore.password", String::new()),
        ],
    );
    assert!(trace.contains("certificate verify failed"), "{trace}");
    assert_eq!(trace.lines().count(), 1, "{trace}");
    let trace = bad("bad-password", &[("ssl.keystore.password", "wrong".into())]);
    assert!(trace.contains("ssl.keystore.password"), "{trace}");
    assert!(trace.contains("ks.p12"), "{trace}");
    assert_eq!(trace.lines().count(), 1, "{trace}");
    let (status, _, _) = http("GET", &format!("{url}/connectors"), None);
    assert_eq!(status, 200, "the worker still answers");
    assert_eq!(
        get_json(&format!("{url}/connectors/tls-sink/status"))["tasks"][0]["state"],
        "RUNNING"
    );
    assert!(sluice.terminate().success());

    // The worker's own keystore password wrong: exit code 2 at start, one line naming it.
    let wrong = text
        .replace(
            "ssl.keystore.type=PEM\n",
            "ssl.keystore.type=PKCS12\nssl.keystore.password=wrong\n",
        )
        .replace(
            &format!("ssl.keystore.location={}", d.join("ks.pem").display()),
            &format!("ssl.keystore.location={}", d.join("ks.p12").display()),
        );
    let worker = write_file(&d.join("wrong.properties"), &wrong);
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("standalone")
        .arg(&worker)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("ssl.keystore.password"), "{stderr}");
}
