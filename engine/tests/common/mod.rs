//! Helpers for integration tests against a real Kafka-protocol broker: the one
//! `scripts/broker.sh start` runs, or any broker named by `SLUICE_BOOTSTRAP`.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};

pub fn bootstrap() -> String {
    std::env::var("SLUICE_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

/// A name no other test run uses on a long-lived broker.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{}", std::process::id(), nanos % 1_000_000_000)
}

fn admin() -> AdminClient<DefaultClientContext> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("admin client")
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Fails with a clear message when no broker answers.
pub fn require_broker() {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .unwrap();
    if let Err(e) = consumer.fetch_metadata(None, Duration::from_secs(10)) {
        panic!(
            "no Kafka broker at {} ({e}); start one with scripts/broker.sh start or set SLUICE_BOOTSTRAP",
            bootstrap()
        );
    }
}

pub fn create_topic(name: &str, partitions: i32) {
    require_broker();
    let admin = admin();
    let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
    let res = block_on(admin.create_topics(
        [&topic],
        &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
    ))
    .expect("create topics");
    for r in res {
        if let Err((t, e)) = r {
            panic!("create topic {t}: {e}");
        }
    }
}

pub fn delete_topic(name: &str) {
    let admin = admin();
    let _ = block_on(admin.delete_topics(
        &[name],
        &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
    ));
}

/// Produces (key, value) records, one at a time so the broker's offsets stay simple.
pub fn produce(topic: &str, records: impl IntoIterator<Item = (Option<Vec<u8>>, Vec<u8>)>) {
    produce_nullable(topic, records.into_iter().map(|(k, v)| (k, Some(v))));
}

/// [`produce`] with values that may be null (tombstones).
pub fn produce_nullable(
    topic: &str,
    records: impl IntoIterator<Item = (Option<Vec<u8>>, Option<Vec<u8>>)>,
) {
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("linger.ms", "5")
        .create()
        .unwrap();
    for (k, v) in records {
        let mut r: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic);
        if let Some(v) = &v {
            r = r.payload(&v[..]);
        }
        if let Some(k) = &k {
            r = r.key(&k[..]);
        }
        let mut r = r;
        loop {
            match producer.send(r) {
                Ok(()) => break,
                Err((_, back)) => {
                    r = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(30)).expect("flush");
}

/// Every record of every partition of `topic` as (partition, offset, key, value), read until
/// nothing new arrives for a second.
/// (partition, offset, key, value) of one record read back.
pub type ReadRecord = (i32, i64, Option<Vec<u8>>, Option<Vec<u8>>);

pub fn read_topic(topic: &str, partitions: i32) -> Vec<ReadRecord> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("group.id", unique("reader"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let mut idle_since = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(60);
    while idle_since.elapsed() < Duration::from_secs(2) && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                out.push((
                    m.partition(),
                    m.offset(),
                    m.key().map(<[u8]>::to_vec),
                    m.payload().map(<[u8]>::to_vec),
                ));
                idle_since = Instant::now();
            }
            Some(Err(e)) => panic!("read {topic}: {e}"),
            None => {}
        }
    }
    out.sort_by_key(|r| (r.0, r.1));
    out
}

/// Waits for `cond`, polling; panics with `what` after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The offset a consumer group has committed for partition 0 of `topic`, if any.
pub fn committed_offset(group: &str, topic: &str) -> Option<i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("group.id", group)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, 0);
    let committed = consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .ok()?;
    match committed.find_partition(topic, 0)?.offset() {
        Offset::Offset(o) => Some(o),
        _ => None,
    }
}

/// The source position stored for `file` in a sluice offsets file.
pub fn source_position(offsets_file: &Path, file: &Path) -> Option<u64> {
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(offsets_file).ok()?).ok()?;
    let name = file.to_str()?;
    doc["offsets"]
        .as_array()?
        .iter()
        .find(|e| e["partition"]["filename"] == name)?["offset"]["position"]
        .as_u64()
}

pub fn lines(path: &Path) -> Vec<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => s.lines().map(str::to_string).collect(),
        Err(_) => vec![],
    }
}

pub fn append_lines(path: &Path, lines: impl IntoIterator<Item = String>) {
    let mut f = std::io::BufWriter::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap(),
    );
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    f.flush().unwrap();
}

/// Worker properties for tests: quickstart converters, a fast offset flush and group
/// settings that make the first join quick on Tansu (see shared broker notes).
pub fn worker_props(dir: &Path, flush_ms: u64) -> PathBuf {
    let path = dir.join("worker.properties");
    std::fs::write(
        &path,
        format!(
            "bootstrap.servers={}\nkey.converter=org.apache.kafka.connect.json.JsonConverter\n\
             value.converter=org.apache.kafka.connect.json.JsonConverter\nkey.converter.schemas.enable=true\n\
             value.converter.schemas.enable=true\noffset.storage.file.filename={}\noffset.flush.interval.ms={flush_ms}\n\
             consumer.session.timeout.ms=6000\nconsumer.heartbeat.interval.ms=500\nlisteners=http://127.0.0.1:0\n",
            bootstrap(),
            dir.join("connect.offsets").display()
        ),
    )
    .unwrap();
    path
}

pub fn write_file(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

/// A running `sluice standalone` process whose log goes to a file.
pub struct Sluice {
    pub child: Child,
    pub log: PathBuf,
}

impl Sluice {
    pub fn standalone(cwd: &Path, worker: &Path, connectors: &[&Path]) -> Self {
        Self::standalone_with_env(cwd, worker, connectors, &[])
    }

    /// As [`Sluice::standalone`], with extra environment variables (`RUST_LOG` among them
    /// overrides the default `info`).
    pub fn standalone_with_env(
        cwd: &Path,
        worker: &Path,
        connectors: &[&Path],
        env: &[(&str, &str)],
    ) -> Self {
        Self::spawn(cwd, "standalone", worker, connectors, env)
    }

    /// `sluice distributed WORKER` (connectors come over REST).
    pub fn distributed(cwd: &Path, worker: &Path, env: &[(&str, &str)]) -> Self {
        Self::spawn(cwd, "distributed", worker, &[], env)
    }

    fn spawn(
        cwd: &Path,
        mode: &str,
        worker: &Path,
        connectors: &[&Path],
        env: &[(&str, &str)],
    ) -> Self {
        let log = cwd.join(format!("sluice-{}.log", unique("run")));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .current_dir(cwd)
            .arg(mode)
            .arg(worker)
            .args(connectors)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        Self { child, log }
    }

    pub fn log_lines(&self) -> Vec<String> {
        std::fs::File::open(&self.log)
            .map(|f| {
                std::io::BufReader::new(f)
                    .lines()
                    .map_while(Result::ok)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// SIGTERM, then wait (bounded) for a clean exit.
    pub fn terminate(mut self) -> ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = self.child.kill();
                panic!(
                    "sluice did not stop within 60 s after SIGTERM; log:\n{}",
                    self.log_lines().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Sluice {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sluice {
    /// The REST base URL (`http://127.0.0.1:PORT`), read from the worker's log.
    pub fn rest_url(&self) -> String {
        let mut url = None;
        wait_for("the REST listener", Duration::from_secs(30), || {
            url = self.log_lines().iter().find_map(|l| {
                l.split("REST server listening at ")
                    .nth(1)
                    .map(|u| u.trim().trim_end_matches('/').to_string())
            });
            url.is_some()
        });
        url.unwrap()
    }
}

/// A minimal HTTP/1.1 client for the REST API: (status, headers lower-cased, body).
pub fn http(method: &str, url: &str, body: Option<&str>) -> (u16, Vec<(String, String)>, String) {
    use std::io::Read;
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let body = body.unwrap_or("");
    let content_type = if body.is_empty() {
        String::new()
    } else {
        "Content-Type: application/json\r\n".to_string()
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{content_type}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

/// `GET url` parsed as JSON (panics unless 200).
pub fn get_json(url: &str) -> serde_json::Value {
    let (status, _, body) = http("GET", url, None);
    assert_eq!(status, 200, "GET {url}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// A local s3s-fs server (S3 API with SigV4 checks) over a temp directory.
pub struct S3Server {
    child: std::process::Child,
    endpoint: String,
    root: tempfile::TempDir,
}

impl S3Server {
    pub const BUCKET: &str = "lake";

    pub fn start() -> Self {
        let bin = std::env::var("S3S_FS")
            .unwrap_or_else(|_| format!("{}/.cargo/bin/s3s-fs", std::env::var("HOME").unwrap()));
        assert!(
            Path::new(&bin).exists(),
            "no s3s-fs at {bin}: scripts/test.sh installs it (cargo install s3s-fs@0.14.1 --features binary --locked)"
        );
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join(Self::BUCKET)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(bin)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--access-key",
                "AKSLUICE",
                "--secret-key",
                "SKSLUICE",
            ])
            .arg(root.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        wait_for("s3s-fs to listen", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            root,
        }
    }

    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("store.url", format!("s3://{}/warehouse", Self::BUCKET)),
            ("s3.endpoint", self.endpoint.clone()),
            ("s3.region", "us-east-1".into()),
            ("aws.access.key.id", "AKSLUICE".into()),
            ("aws.secret.access.key", "SKSLUICE".into()),
            ("s3.part.size", "5242880".into()),
        ]
    }

    /// Where the server keeps the objects of the store.url prefix.
    pub fn data(&self) -> std::path::PathBuf {
        self.root.path().join(Self::BUCKET).join("warehouse")
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `tests/py/SCRIPT` with the independent readers (pyarrow, duckdb; installed by
/// `scripts/test.sh` into `$SLUICE_PYLIB`) on its path, and parses what it prints as JSON.
pub fn python_json<S: AsRef<std::ffi::OsStr>>(script: &str, args: &[S]) -> serde_json::Value {
    let pylib = std::env::var("SLUICE_PYLIB")
        .unwrap_or_else(|_| format!("{}/.cache/sluice/pylib", std::env::var("HOME").unwrap()));
    let out = Command::new("python3")
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/py")
                .join(script),
        )
        .args(args)
        .env("PYTHONPATH", &pylib)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script} failed (scripts/test.sh installs pyarrow/duckdb into {pylib}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
