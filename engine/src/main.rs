//! The `sluice` command line: `sluice standalone WORKER.properties CONNECTOR...` runs a
//! standalone worker like `connect-standalone.sh`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sluice_engine::config::{ConnectorConfig, WorkerConfig, read_props};
use sluice_engine::worker::Worker;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "sluice",
    version,
    about = "Kafka Connect's data plane as a columnar batch engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a standalone worker, like connect-standalone.sh.
    Standalone {
        /// Worker properties (e.g. connect-standalone.properties).
        worker: PathBuf,
        /// Connector configs, as .properties or .json (more can be created over REST).
        connectors: Vec<PathBuf>,
    },
    /// Run a distributed worker, like connect-distributed.sh: it joins the group named by
    /// `group.id`, keeps configs, offsets and statuses in the internal topics, and takes
    /// connectors over REST (no connector files, as in Kafka).
    Distributed {
        /// Worker properties (e.g. connect-distributed.properties).
        worker: PathBuf,
        /// Not accepted in distributed mode (Kafka takes connectors over REST only).
        #[arg(hide = true)]
        connectors: Vec<PathBuf>,
    },
    /// Run a named benchmark case and report throughput per CPU-second, peak RSS, batch
    /// latency and where the time goes per stage.
    ///
    /// Cases: W1 (schemaless JSON through the 5-SMT chain), W2 (W1 with JsonConverter
    /// envelopes), W3 (JsonConverter round trip only), BA (ByteArrayConverter pass-through),
    /// each also `--in-process` (generator → pipeline, no Kafka); against the broker also P1
    /// (Kafka → Parquet, zstd) and FS (Kafka's quickstart: FileStreamSource → Kafka →
    /// FileStreamSink). Against the broker the events are produced first (not measured) to
    /// a fresh topic, then the connector runs in this process until every record is committed.
    ///
    /// `--sweep key=v1,v2,...` repeats the run for each value and marks the best (most records
    /// per CPU-second). Keys: any connector property (e.g. `flush.size`, `tasks.max`,
    /// `parquet.codec`), `batch.size` (records per batch), `smt.count` (first N transforms of
    /// the case's chain), `partitions` (of the topic) and consumer fetch settings
    /// (`fetch.min.bytes`, `fetch.max.wait.ms`, `fetch.max.bytes`, `max.partition.fetch.bytes`,
    /// `max.poll.records`). `--plot FILE.svg` draws the sweep.
    Bench {
        /// Case name: W1, W2, W3, BA (also --in-process), P1, FS.
        #[arg(long)]
        case: String,
        /// Run without Kafka: generator → in-process pipeline.
        #[arg(long)]
        in_process: bool,
        /// Broker for cases run against Kafka (default: $SLUICE_BOOTSTRAP or 127.0.0.1:9092).
        #[arg(long)]
        bootstrap: Option<String>,
        /// Repeat the run and report each plus the median (by records per CPU-second).
        #[arg(long, default_value_t = 1)]
        runs: u32,
        /// Number of events.
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
        /// Repeat the run over the values of one setting: key=v1,v2,...
        #[arg(long)]
        sweep: Option<String>,
        /// Event variant: standard, wide50, wide200 (wideN), 1k, 10k (Nk).
        #[arg(long, default_value = "standard")]
        event: String,
        /// With --sweep: write an SVG chart of throughput against the setting.
        #[arg(long, requires = "sweep")]
        plot: Option<PathBuf>,
        /// Generate for this many seconds instead of --records.
        #[arg(long)]
        duration: Option<f64>,
        /// A setting for every run, KEY=VALUE (repeatable; the keys --sweep takes, e.g.
        /// partitions=6, keys=random:1000, producer.linger.ms=5, fetch.min.bytes=65536).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Print the in-process case's connector config (after --set) as one JSON object and
        /// exit: the same config runs Kafka Connect's side (`scripts/kafka-connect.sh bench`).
        #[arg(long)]
        print_config: bool,
    },
    /// Load generator: produce N standard order events (schemaless JSON, or JsonConverter
    /// envelopes with --envelope) to a topic, round-robin over its partitions.
    Produce {
        #[arg(long)]
        topic: String,
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
        #[arg(long, default_value_t = 1)]
        partitions: i32,
        #[arg(long, default_value = "127.0.0.1:9092")]
        bootstrap: String,
        #[arg(long)]
        envelope: bool,
        /// Event variant: standard, wide50, wide200 (wideN), 1k, 10k (Nk).
        #[arg(long, default_value = "standard")]
        event: String,
        /// Record keys: none (round-robin partitions), sequential, random:N.
        #[arg(long, default_value = "none")]
        keys: String,
        /// Produce for this many seconds instead of --records.
        #[arg(long)]
        duration: Option<f64>,
        /// Producer settings, producer.KEY=VALUE (repeatable, e.g. producer.linger.ms=5).
        #[arg(long = "set", value_name = "producer.KEY=VALUE")]
        set: Vec<String>,
    },
    /// A small client for a running worker's REST API (curl works just as well).
    ///
    /// `sluice connectors list|status C|config C|create FILE|pause C|resume C|stop C|restart C|delete C|offsets C`
    Connectors {
        /// REST base URL of the worker.
        #[arg(long, default_value = "http://127.0.0.1:8083")]
        url: String,
        /// list, status, config, create, pause, resume, stop, restart, delete, offsets.
        action: String,
        /// Connector name, or for `create` a connector file (.json or .properties).
        target: Option<String>,
    },
    /// Run records through a connector's converters and transforms offline.
    ///
    /// `sluice pipe --config CONNECTOR [--out-config FILE] < records.jsonl` reads one record per
    /// line: {"topic","partition","offset","timestamp" (epoch ms, -1 = none),"timestamp_type",
    /// "key","value","headers":[{"key","value"}]}, where bytes are {"utf8": ".."}, {"base64": ".."}
    /// or null; it writes one line per record: the record after the chain
    /// {"topic","partition","timestamp","key","value","headers"}, {"dropped": true}, or
    /// {"error": {"stage","exception","message"}}.
    ///
    /// `sluice pipe --cases FILE.jsonl` reads conformance case lines (each with its own
    /// "connector_config", optional "out_converters" and "input") and writes
    /// {"id": .., "actual": <outcome as above>} per case.
    Pipe {
        /// Conformance case lines to run.
        #[arg(long, conflicts_with_all = ["config", "out_config"])]
        cases: Option<PathBuf>,
        /// Connector config (.properties or .json) for records on standard input.
        #[arg(long, required_unless_present = "cases")]
        config: Option<PathBuf>,
        /// Config naming different output converters.
        #[arg(long = "out-config")]
        out_config: Option<PathBuf>,
    },
    /// Differential test against the real Kafka Connect: generated cases run through sluice's
    /// pipeline and through the Java oracle; every difference is written as a corpus line
    /// (Kafka's outcome as `expect`) to --failures, and a summary by class to stderr.
    /// Exits 1 when any case differs.
    Differential {
        /// How many cases.
        #[arg(long, default_value_t = 200_000)]
        cases: u64,
        /// Generator seed: a seed gives the same cases on every machine.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The oracle's command line (case lines in, expect lines out).
        #[arg(long, default_value = "scripts/kafka-connect.sh oracle")]
        oracle: String,
        /// Where to write the differing cases (corpus lines).
        #[arg(long)]
        failures: Option<PathBuf>,
        /// Only print the generated cases (corpus lines without `expect`) on stdout.
        #[arg(long)]
        print_cases: bool,
        /// Case ids known to differ, one per line (`#` comments): not failures, but a listed
        /// case that no longer differs is one (the list only shrinks).
        #[arg(long)]
        known: Option<PathBuf>,
    },
    /// Run a Confluent-compatible Schema Registry (its REST API; subjects, versions, ids and
    /// compatibility levels kept durably in --data).
    SchemaRegistry {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: String,
        /// Directory of the registry's log (created if missing).
        #[arg(long)]
        data: PathBuf,
    },
}

/// Exit code for configuration errors: nothing was started.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    sluice_engine::allocator::keep_freed_memory();
    let cli = Cli::parse();
    let logs = sluice_engine::logging::LogLevels::init();
    sluice_engine::registry::install_client();
    match cli.command {
        Command::SchemaRegistry { listen, data } => match schema_registry(&listen, data) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Bench {
            case,
            in_process,
            bootstrap,
            runs,
            records,
            json,
            sweep,
            plot,
            event,
            duration,
            set,
            print_config,
        } => match bench(BenchArgs {
            case,
            in_process,
            bootstrap: bootstrap
                .or_else(|| std::env::var("SLUICE_BOOTSTRAP").ok())
                .unwrap_or_else(|| "127.0.0.1:9092".into()),
            runs,
            records,
            json,
            sweep,
            plot,
            event,
            duration,
            set,
            print_config,
        }) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(EXIT_CONFIG)
            }
        },
        Command::Pipe {
            cases,
            config,
            out_config,
        } => match pipe(cases, config, out_config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(EXIT_CONFIG)
            }
        },
        Command::Differential {
            cases,
            seed,
            oracle,
            failures,
            print_cases,
            known,
        } => match if print_cases {
            print_cases_of(seed, cases).map(|()| 0)
        } else {
            differential(cases, seed, &oracle, failures, known)
        } {
            Ok(0) => ExitCode::SUCCESS,
            Ok(_) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(EXIT_CONFIG)
            }
        },
        Command::Produce {
            topic,
            records,
            partitions,
            bootstrap,
            envelope,
            event,
            keys,
            duration,
            mut set,
        } => match {
            set.push(format!("keys={keys}"));
            base_overrides(&event, duration, &set)
        }
        .and_then(|o| produce(&topic, records, partitions, &bootstrap, envelope, &o))
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Connectors {
            url,
            action,
            target,
        } => match connectors_client(&url, &action, target.as_deref()) {
            Ok(ok) => {
                if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(EXIT_CONFIG)
            }
        },
        Command::Distributed { worker, connectors } => {
            if !connectors.is_empty() {
                eprintln!(
                    "error: distributed mode takes connectors over REST only; connector files on the command line ({}) are not accepted",
                    connectors
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                return ExitCode::from(EXIT_CONFIG);
            }
            match distributed(&worker, logs) {
                Ok(()) => ExitCode::SUCCESS,
                Err(Failure::Config(e)) => {
                    eprintln!("error: {e}");
                    ExitCode::from(EXIT_CONFIG)
                }
                Err(Failure::Runtime(e)) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Standalone { worker, connectors } => {
            match standalone(&worker, &connectors, logs) {
                Ok(()) => ExitCode::SUCCESS,
                Err(Failure::Config(e)) => {
                    eprintln!("error: {e}");
                    ExitCode::from(EXIT_CONFIG)
                }
                Err(Failure::Runtime(e)) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

enum Failure {
    Config(String),
    Runtime(anyhow::Error),
}

fn distributed(worker_path: &Path, logs: sluice_engine::logging::LogLevels) -> Result<(), Failure> {
    use sluice_engine::distributed::config::{DistributedConfig, KEYS, PREFIXES};
    use sluice_engine::distributed::herder::DistributedHerder;
    let config_err = |e: sluice_engine::EngineError| Failure::Config(e.to_string());
    let worker_props = read_props(worker_path).map_err(config_err)?;
    let mut worker = WorkerConfig::parse(worker_props)
        .map_err(|e| Failure::Config(format!("{}: {e}", worker_path.display())))?;
    let dconfig = DistributedConfig::parse(&worker)
        .map_err(|e| Failure::Config(format!("{}: {e}", worker_path.display())))?;
    worker
        .unknown_keys
        .retain(|k| !KEYS.contains(&k.as_str()) && !PREFIXES.iter().any(|p| k.starts_with(p)));
    if !worker.unknown_keys.is_empty() {
        tracing::warn!(
            "worker config {}: ignoring keys sluice does not use: {}",
            worker_path.display(),
            worker.unknown_keys.join(", ")
        );
    }
    let listeners = worker.listeners.clone();
    let running = Worker::new(worker).map_err(config_err)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(e.into()))?;
    let mut bound = Vec::new();
    for listener in &listeners {
        let addr = rest_address(listener)?;
        let l = runtime
            .block_on(tokio::net::TcpListener::bind(&addr))
            .map_err(|e| Failure::Config(format!("listeners: cannot listen on {listener}: {e}")))?;
        bound.push(l);
    }
    let first = bound
        .first()
        .and_then(|l| l.local_addr().ok())
        .ok_or_else(|| Failure::Config("listeners: no REST listener".into()))?;
    let url = dconfig.advertised_url(listeners.first().map(String::as_str).unwrap_or(""), first);
    let herder = DistributedHerder::start(running.clone(), dconfig, url.clone())
        .map_err(|e| Failure::Config(e.to_string()))?;
    let state = sluice_engine::rest::RestState::with_herder(
        running.clone(),
        std::sync::Arc::new(herder.clone()),
        logs,
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut servers = Vec::new();
    for l in bound {
        let mut rx = stop_rx.clone();
        let shutdown = async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        if let Ok(local) = l.local_addr() {
            tracing::info!("REST server listening at http://{local}/");
        }
        servers.push(runtime.spawn(sluice_engine::rest::serve(l, state.clone(), shutdown)));
    }
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])
    .map_err(|e| Failure::Runtime(e.into()))?;
    tracing::info!(
        "sluice distributed worker {} started, advertising {url}",
        herder.worker_id()
    );
    if let Some(sig) = signals.forever().next() {
        tracing::info!(
            "received signal {sig}, stopping: tasks commit, then the worker leaves the group"
        );
    }
    herder.stop();
    let _ = stop_tx.send(true);
    running.shutdown().map_err(|e| Failure::Runtime(e.into()))?;
    for s in servers {
        let _ = runtime.block_on(s);
    }
    Ok(())
}

fn standalone(
    worker_path: &Path,
    connector_paths: &[PathBuf],
    logs: sluice_engine::logging::LogLevels,
) -> Result<(), Failure> {
    let config_err = |e: sluice_engine::EngineError| Failure::Config(e.to_string());
    let worker_props = read_props(worker_path).map_err(config_err)?;
    let worker = WorkerConfig::parse(worker_props)
        .map_err(|e| Failure::Config(format!("{}: {e}", worker_path.display())))?;
    // Validate every connector before starting anything.
    let mut connectors = Vec::new();
    for path in connector_paths {
        let props = read_props(path).map_err(config_err)?;
        let c = ConnectorConfig::parse(props.clone(), &worker, &path.display().to_string())
            .map_err(|e| Failure::Config(format!("{}: {e}", path.display())))?;
        if let Some((key, message)) = c.override_refusals(&worker).into_iter().next() {
            return Err(Failure::Config(format!(
                "{}: connector {}: {key}: {message}",
                path.display(),
                c.name
            )));
        }
        if connectors
            .iter()
            .any(|(o, _, _): &(ConnectorConfig, PathBuf, _)| o.name == c.name)
        {
            return Err(Failure::Config(format!(
                "{}: Connector {} already exists",
                path.display(),
                c.name
            )));
        }
        // The worker keeps the file's properties, placeholders unresolved.
        connectors.push((c, path.clone(), props));
    }
    if !worker.unknown_keys.is_empty() {
        tracing::warn!(
            "worker config {}: ignoring keys sluice does not use: {}",
            worker_path.display(),
            worker.unknown_keys.join(", ")
        );
    }
    if worker.props.contains_key("plugin.path") {
        tracing::info!("plugin.path is accepted but not needed: sluice's connectors are built in");
    }
    let listeners = worker.listeners.clone();
    let running = Worker::new(worker).map_err(config_err)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(e.into()))?;
    let state = sluice_engine::rest::RestState::new(running.clone(), logs);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut servers = Vec::new();
    for (i, listener) in listeners.iter().enumerate() {
        let addr = rest_address(listener)?;
        let bound = runtime
            .block_on(tokio::net::TcpListener::bind(&addr))
            .map_err(|e| Failure::Config(format!("listeners: cannot listen on {listener}: {e}")))?;
        let local = bound.local_addr().map_err(|e| Failure::Runtime(e.into()))?;
        if i == 0 {
            running.set_worker_id(local.to_string());
        }
        tracing::info!("REST server listening at http://{local}/");
        let mut rx = stop_rx.clone();
        let shutdown = async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        servers.push(runtime.spawn(sluice_engine::rest::serve(bound, state.clone(), shutdown)));
    }
    let signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])
    .map_err(|e| Failure::Runtime(e.into()))?;
    for (c, path, props) in connectors {
        let props: Vec<(String, String)> = props.into_iter().collect();
        running
            .create(&c.name, props, sluice_engine::worker::TargetState::Started)
            .map_err(|e| Failure::Config(format!("{}: {e}", path.display())))?;
    }
    running.mark_started();
    tracing::info!("sluice standalone worker started");
    let mut signals = signals;
    if let Some(sig) = signals.forever().next() {
        tracing::info!("received signal {sig}, stopping: flushing sinks and committing offsets");
    }
    let _ = stop_tx.send(true);
    running.shutdown().map_err(|e| Failure::Runtime(e.into()))?;
    for s in servers {
        let _ = runtime.block_on(s);
    }
    tracing::info!("sluice stopped cleanly");
    Ok(())
}

fn produce(
    topic: &str,
    records: u64,
    partitions: i32,
    bootstrap: &str,
    envelope: bool,
    overrides: &sluice_engine::bench::Overrides,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let (records, bytes) = sluice_engine::bench::produce_events(
        bootstrap, topic, records, partitions, envelope, overrides,
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    eprintln!(
        "produced {records} records ({:.1} MB) to {topic} in {:.1}s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Sends one request to the REST API and prints the answer; true on a 2xx status.
fn connectors_client(url: &str, action: &str, target: Option<&str>) -> anyhow::Result<bool> {
    let need = || target.ok_or_else(|| anyhow::anyhow!("{action}: a connector name is required"));
    let (method, path, body) = match action {
        "list" => ("GET", "/connectors?expand=status".to_string(), None),
        "status" => ("GET", format!("/connectors/{}/status", need()?), None),
        "config" => ("GET", format!("/connectors/{}/config", need()?), None),
        "offsets" => ("GET", format!("/connectors/{}/offsets", need()?), None),
        "pause" | "resume" | "stop" => ("PUT", format!("/connectors/{}/{action}", need()?), None),
        "restart" => (
            "POST",
            format!("/connectors/{}/restart?includeTasks=true", need()?),
            None,
        ),
        "delete" => ("DELETE", format!("/connectors/{}", need()?), None),
        "create" => {
            let file = PathBuf::from(need()?);
            let props = read_props(&file)?;
            let name = props.get("name").cloned().unwrap_or_default();
            let body = serde_json::json!({"name": name, "config": props});
            ("POST", "/connectors".to_string(), Some(body.to_string()))
        }
        other => anyhow::bail!(
            "unknown action '{other}' (list, status, config, create, pause, resume, stop, restart, delete, offsets)"
        ),
    };
    let (status, text) = http_request(url, method, &path, body.as_deref())?;
    if !text.is_empty() {
        println!("{text}");
    } else {
        println!("HTTP {status}");
    }
    Ok((200..300).contains(&status))
}

/// One HTTP/1.1 request over a plain TCP connection (the REST API is loopback HTTP).
fn http_request(
    base: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> anyhow::Result<(u16, String)> {
    use std::io::{Read, Write};
    let host = base
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("--url: only http:// URLs are supported"))?
        .trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(host)
        .map_err(|e| anyhow::anyhow!("cannot reach the worker at {base}: {e}"))?;
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, payload) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("malformed HTTP answer"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("malformed HTTP status line"))?;
    Ok((status, payload.to_string()))
}

/// `http://host:port` (Kafka's `listeners` form) to a socket address to bind.
fn rest_address(listener: &str) -> Result<String, Failure> {
    let rest = listener.strip_prefix("http://").ok_or_else(|| {
        Failure::Config(format!(
            "listeners: {listener}: only http:// listeners are supported"
        ))
    })?;
    let rest = rest.trim_end_matches('/');
    let (host, port) = rest.rsplit_once(':').ok_or_else(|| {
        Failure::Config(format!("listeners: {listener}: expected http://host:port"))
    })?;
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    Ok(format!("{host}:{port}"))
}

/// Records per batch of `sluice pipe --config`.
const PIPE_BATCH_ROWS: usize = 4096;

fn print_cases_of(seed: u64, cases: u64) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in sluice_engine::differential::cases(seed, cases) {
        writeln!(out, "{line}")?;
    }
    Ok(out.flush()?)
}

/// Runs the differential test; the number of differing cases.
fn differential(
    cases: u64,
    seed: u64,
    oracle: &str,
    failures: Option<PathBuf>,
    known: Option<PathBuf>,
) -> anyhow::Result<u64> {
    use sluice_engine::differential::{Options, run};
    use std::io::Write;
    let mut file = failures
        .as_ref()
        .map(|p| {
            std::fs::File::create(p)
                .map(std::io::BufWriter::new)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))
        })
        .transpose()?;
    let mut write_error = None;
    let known = match known {
        None => Default::default(),
        Some(path) => std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?
            .lines()
            .filter_map(|l| l.split('#').next())
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
    };
    let options = Options {
        cases,
        seed,
        oracle: oracle.split_whitespace().map(str::to_string).collect(),
        known,
    };
    let summary = run(&options, |d| {
        if let Some(f) = file.as_mut()
            && let Err(e) = writeln!(f, "{}", {
                // The corpus line, plus what sluice did and the class, for whoever fixes it.
                let mut line = d.line.clone();
                line["sluice"] = d.sluice.clone();
                line["class"] = serde_json::Value::from(d.class.as_str());
                line
            })
        {
            write_error.get_or_insert(e);
        }
    })?;
    if let Some(e) = write_error {
        anyhow::bail!("writing the failures file: {e}");
    }
    if let Some(mut f) = file {
        f.flush()?;
    }
    eprintln!(
        "differential: {} cases, seed {seed}, {} differ ({} classes); sluice {:.1} s, wall {:.1} s",
        summary.cases,
        summary.differences,
        summary.classes.len(),
        summary.sluice_seconds,
        summary.wall_seconds
    );
    if summary.known > 0 {
        eprintln!(
            "  known:     {:>7}  listed in --known (not yet fixed)",
            summary.known
        );
    }
    for id in &summary.no_longer_differ {
        eprintln!("  no longer differs, remove from --known: {id}");
    }
    for (reason, count) in &summary.explained {
        eprintln!("  explained: {count:>7}  {reason} (README: differences that remain)");
    }
    let mut classes: Vec<_> = summary.classes.iter().collect();
    classes.sort_by_key(|c| std::cmp::Reverse(c.1.0));
    for (class, (count, first)) in classes {
        eprintln!("  {count:>7}  {class}  (first: {first})");
    }
    Ok(summary.differences + summary.no_longer_differ.len() as u64)
}

fn pipe(
    cases: Option<PathBuf>,
    config: Option<PathBuf>,
    out_config: Option<PathBuf>,
) -> anyhow::Result<()> {
    use sluice_engine::pipe;
    use std::io::{BufRead, Write};
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if let Some(path) = cases {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let run = pipe::run_case(line)
                .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), n + 1))?;
            writeln!(
                out,
                "{}",
                serde_json::json!({"id": run.id, "actual": run.actual_json()})
            )?;
        }
        return Ok(());
    }
    let Some(config) = config else {
        anyhow::bail!("--config or --cases is required")
    };
    let props: std::collections::HashMap<String, String> =
        read_props(&config)?.into_iter().collect();
    let out_props: Option<std::collections::HashMap<String, String>> = out_config
        .map(|p| read_props(&p).map(|m| m.into_iter().collect()))
        .transpose()?;
    // One pipeline for the whole input, as a task has, fed in batches of records.
    let mut pipeline = sluice_smt::Pipeline::configure(&props, out_props.as_ref());
    let mut records = Vec::new();
    let mut flush =
        |records: &mut Vec<pipe::PipeRecord>, out: &mut dyn Write| -> anyhow::Result<()> {
            let outcomes = match &mut pipeline {
                Ok(p) => pipe::run_records(p, records),
                Err(e) => records
                    .iter()
                    .map(|_| pipe::Outcome::Error {
                        stage: "CONFIG",
                        exception: e.exception,
                        message: e.message.clone(),
                    })
                    .collect(),
            };
            for o in outcomes {
                writeln!(out, "{}", o.to_json())?;
            }
            records.clear();
            Ok(())
        };
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| anyhow::anyhow!("stdin line {}: {e}", n + 1))?;
        records.push(
            pipe::PipeRecord::from_json(&value)
                .map_err(|e| anyhow::anyhow!("stdin line {}: {e}", n + 1))?,
        );
        if records.len() == PIPE_BATCH_ROWS {
            flush(&mut records, &mut out)?;
        }
    }
    flush(&mut records, &mut out)?;
    Ok(())
}

struct BenchArgs {
    case: String,
    in_process: bool,
    bootstrap: String,
    runs: u32,
    records: u64,
    json: bool,
    sweep: Option<String>,
    plot: Option<PathBuf>,
    event: String,
    duration: Option<f64>,
    set: Vec<String>,
    print_config: bool,
}

/// `--event`, `--duration` and `--set KEY=VALUE` as the overrides of every run.
fn base_overrides(
    event: &str,
    duration: Option<f64>,
    set: &[String],
) -> anyhow::Result<sluice_engine::bench::Overrides> {
    let mut o = sluice_engine::bench::Overrides::one("event", event);
    if let Some(d) = duration {
        o.0.push(("duration".into(), d.to_string()));
    }
    for kv in set {
        let Some((k, v)) = kv.split_once('=') else {
            anyhow::bail!("--set: expected KEY=VALUE but got '{kv}'")
        };
        o.0.push((k.trim().to_string(), v.trim().to_string()));
    }
    o.apply(&mut Default::default())
        .map_err(|e| anyhow::anyhow!("--{e}"))?;
    Ok(o)
}

fn bench(args: BenchArgs) -> anyhow::Result<()> {
    use sluice_engine::bench::{
        BrokerCase, Case, Overrides, Summary, best_point, parse_sweep, run_against_broker,
        run_in_process,
    };
    use std::io::Write;
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let run_case = |overrides: &Overrides, label: &str| -> anyhow::Result<Summary> {
        let mut reports = Vec::new();
        for run in 1..=args.runs.max(1) {
            let start = std::time::Instant::now();
            let records = args.records;
            let show = |done: u64| {
                if tty {
                    let pct = done as f64 * 100.0 / records.max(1) as f64;
                    let bar = "#".repeat((pct / 4.0) as usize);
                    eprint!(
                        "\r{label}[{bar:<25}] {pct:5.1}%  {done} records  {:.1}s",
                        start.elapsed().as_secs_f64()
                    );
                    let _ = std::io::stderr().flush();
                }
            };
            let report = if args.in_process {
                let Some(c) = Case::parse(&args.case) else {
                    anyhow::bail!(
                        "--case: unknown in-process case '{}' (known: W1, W2, W3, BA)",
                        args.case
                    )
                };
                run_in_process(c, records, overrides, show)
            } else {
                let Some(c) = BrokerCase::parse(&args.case) else {
                    anyhow::bail!(
                        "--case: unknown case '{}' (known: P1, FS, BA, W1, W2, W3)",
                        args.case
                    )
                };
                run_against_broker(c, records, &args.bootstrap, overrides, show)
            }
            .map_err(|e| anyhow::anyhow!(e))?;
            if tty {
                eprintln!("  run {run} done");
            }
            reports.push(report);
        }
        Summary::of(reports).ok_or_else(|| anyhow::anyhow!("no runs"))
    };
    let base = base_overrides(&args.event, args.duration, &args.set)?;
    if args.print_config {
        let case = Case::parse(&args.case)
            .ok_or_else(|| anyhow::anyhow!("--case: unknown in-process case '{}'", args.case))?;
        let props =
            sluice_engine::bench::in_process_props(case, &base).map_err(|e| anyhow::anyhow!(e))?;
        let sorted: std::collections::BTreeMap<_, _> = props.into_iter().collect();
        println!("{}", serde_json::to_value(sorted)?);
        return Ok(());
    }
    let Some(spec) = &args.sweep else {
        let summary = run_case(&base, "")?;
        if args.json {
            println!("{}", serde_json::to_value(&summary)?);
        } else {
            print_runs(&summary);
        }
        return Ok(());
    };
    let (key, values) = parse_sweep(spec).map_err(|e| anyhow::anyhow!(e))?;
    let mut points = Vec::new();
    for v in &values {
        let mut overrides = base.clone();
        overrides.0.push((key.clone(), v.clone()));
        points.push(run_case(&overrides, &format!("{key}={v} "))?);
    }
    let best = best_point(&points);
    if let Some(path) = &args.plot {
        sluice_engine::bench::plot::sweep_chart(
            path,
            &args.case.to_ascii_uppercase(),
            &key,
            &points,
        )
        .map_err(|e| anyhow::anyhow!(e))?;
    }
    if args.json {
        let v = serde_json::json!({
            "case": args.case.to_ascii_uppercase(),
            "sweep": key,
            "best": best.map(|i| values[i].clone()),
            "points": points,
        });
        println!("{v}");
        return Ok(());
    }
    println!(
        "| {key} | records/CPU-s (median) | records/s | MB/CPU-s | CPU s/GB | p50 batch ms | p99 batch ms | peak RSS MB | noisy | |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (i, (v, p)) in values.iter().zip(&points).enumerate() {
        let r = &p.median;
        println!(
            "| {v} | {} | {:.1} | {} | {} |",
            rate_cells(r),
            r.peak_rss_bytes as f64 / 1e6,
            if p.noisy { "yes" } else { "" },
            if Some(i) == best { "**best**" } else { "" },
        );
    }
    Ok(())
}

fn fmt_ms(ms: Option<f64>) -> String {
    ms.map_or_else(|| "-".into(), |m| format!("{m:.1}"))
}

/// records/CPU-s | records/s | MB/CPU-s | CPU s/GB | p50 batch ms | p99 batch ms
fn rate_cells(r: &sluice_engine::bench::Report) -> String {
    format!(
        "{:.0} | {:.0} | {:.1} | {:.2} | {} | {}",
        r.records_per_cpu_second,
        r.records_per_second,
        r.mb_per_cpu_second,
        r.cpu_seconds / (r.bytes_in as f64 / 1e9),
        fmt_ms(r.batch_latency_p50_ms),
        fmt_ms(r.batch_latency_p99_ms),
    )
}

fn print_runs(summary: &sluice_engine::bench::Summary) {
    let reports = &summary.runs;
    println!(
        "| case | mode | records | MB in | CPU s | wall s | records/CPU-s | records/s | MB/CPU-s | CPU s/GB | p50 batch ms | p99 batch ms | peak RSS MB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (i, r) in reports.iter().enumerate() {
        let is_median = reports.len() > 1
            && r.records_per_cpu_second == summary.median.records_per_cpu_second
            && r.cpu_seconds == summary.median.cpu_seconds;
        println!(
            "| {}{} | {} | {} | {:.1} | {:.2} | {:.2} | {} | {:.1} |",
            if reports.len() > 1 {
                format!("{} #{}", r.case, i + 1)
            } else {
                r.case.clone()
            },
            if is_median { " (median)" } else { "" },
            r.mode,
            r.records,
            r.bytes_in as f64 / 1e6,
            r.cpu_seconds,
            r.wall_seconds,
            rate_cells(r),
            r.peak_rss_bytes as f64 / 1e6,
        );
    }
    let m = &summary.median;
    let total: f64 = m.stage_seconds.entries().iter().map(|e| e.1).sum();
    println!();
    println!("time per stage (median run, wall seconds summed over tasks):");
    for (name, secs) in m.stage_seconds.entries() {
        println!(
            "  {name:<12} {secs:8.3} s  {:5.1}%",
            if total > 0.0 {
                secs * 100.0 / total
            } else {
                0.0
            }
        );
    }
    if summary.noisy {
        println!("noisy: runs differ by more than 25% in records per CPU-second");
    }
}

/// `sluice schema-registry`: serves the registry until SIGINT or SIGTERM.
fn schema_registry(listen: &str, data: PathBuf) -> anyhow::Result<()> {
    let store = std::sync::Arc::new(
        sluice_engine::registry::store::Store::open(data.clone())
            .map_err(|e| anyhow::anyhow!("cannot open the registry in {}: {e}", data.display()))?,
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
        tracing::info!(address = %listen, data = %data.display(), "schema registry listening");
        let shutdown = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
        };
        sluice_engine::registry::server::serve(listener, store, shutdown).await?;
        Ok(())
    })
}
