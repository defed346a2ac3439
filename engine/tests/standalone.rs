//! The standalone worker against a real broker: Kafka's quickstart configs unchanged,
//! graceful stop/restart exactly once, kill -9 at-least-once, sink tasks sharing
//! partitions, and bad configs refused before anything starts.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use common::*;

const STRING_ENVELOPE: &str = r#"{"schema":{"type":"string","optional":false},"payload":"#;

fn source_props(dir: &Path, name: &str, file: &str, topic: &str) -> std::path::PathBuf {
    write_file(
        &dir.join(format!("{name}.properties")),
        &format!(
            "name={name}\nconnector.class=FileStreamSource\ntasks.max=1\nfile={file}\ntopic={topic}\n"
        ),
    )
}

fn sink_props(dir: &Path, name: &str, file: &str, topic: &str, tasks: usize) -> std::path::PathBuf {
    write_file(
        &dir.join(format!("{name}.properties")),
        &format!(
            "name={name}\nconnector.class=FileStreamSink\ntasks.max={tasks}\nfile={file}\ntopics={topic}\n"
        ),
    )
}

/// Kafka's quickstart files as shipped in `config/`, with only bootstrap and the offsets
/// path adjusted; relative `file=` paths resolve in the worker's directory.
#[test]
fn kafka_quickstart_configs_run_unchanged() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("config");
    let worker_text = std::fs::read_to_string(root.join("connect-standalone.properties"))
        .unwrap()
        .replace(
            "bootstrap.servers=127.0.0.1:9092",
            &format!("bootstrap.servers={}", bootstrap()),
        )
        .replace(
            "/tmp/connect.offsets",
            &dir.path().join("connect.offsets").display().to_string(),
        );
    let worker = write_file(
        &dir.path().join("connect-standalone.properties"),
        &format!("{worker_text}\nconsumer.session.timeout.ms=6000\n"),
    );
    // The topic is recreated with one partition so line order is kept end to end.
    delete_topic("connect-test");
    create_topic("connect-test", 1);
    append_lines(
        &dir.path().join("test.txt"),
        ["foo".to_string(), "bar".to_string()],
    );

    let sluice = Sluice::standalone(
        dir.path(),
        &worker,
        &[
            &root.join("connect-file-source.properties"),
            &root.join("connect-file-sink.properties"),
        ],
    );
    let sink = dir.path().join("test.sink.txt");
    wait_for(
        "foo and bar in test.sink.txt",
        Duration::from_secs(60),
        || lines(&sink) == ["foo", "bar"],
    );
    append_lines(
        &dir.path().join("test.txt"),
        ["a line appended later".to_string()],
    );
    wait_for("the appended line", Duration::from_secs(30), || {
        lines(&sink).len() == 3
    });
    assert_eq!(lines(&sink), ["foo", "bar", "a line appended later"]);
    let status = sluice.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status}");

    let records = read_topic("connect-test", 1);
    let values: Vec<String> = records
        .iter()
        .map(|r| String::from_utf8(r.3.clone().unwrap()).unwrap())
        .collect();
    assert_eq!(
        values,
        [
            format!("{STRING_ENVELOPE}\"foo\"}}"),
            format!("{STRING_ENVELOPE}\"bar\"}}"),
            format!("{STRING_ENVELOPE}\"a line appended later\"}}"),
        ]
    );
    assert!(
        records.iter().all(|r| r.2.is_none()),
        "FileStreamSource writes null keys"
    );
}

#[test]
fn graceful_stop_and_restart_delivers_every_line_exactly_once_in_order() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("graceful");
    create_topic(&topic, 1);
    let worker = worker_props(dir.path(), 2000);
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    let src = source_props(dir.path(), &unique("src"), input.to_str().unwrap(), &topic);
    let snk = sink_props(
        dir.path(),
        &unique("snk"),
        output.to_str().unwrap(),
        &topic,
        1,
    );
    append_lines(&input, (0..5_000).map(|i| format!("line {i:06}")));

    let first = Sluice::standalone(dir.path(), &worker, &[&src, &snk]);
    wait_for("first 5,000 lines", Duration::from_secs(90), || {
        lines(&output).len() >= 5_000
    });
    assert!(first.terminate().success());
    append_lines(&input, (5_000..25_000).map(|i| format!("line {i:06}")));

    let second = Sluice::standalone(dir.path(), &worker, &[&src, &snk]);
    wait_for("all 25,000 lines", Duration::from_secs(120), || {
        lines(&output).len() >= 25_000
    });
    // Give a duplicate, if any, time to show up before judging.
    std::thread::sleep(Duration::from_secs(3));
    assert!(second.terminate().success());
    let expected: Vec<String> = (0..25_000).map(|i| format!("line {i:06}")).collect();
    let got = lines(&output);
    assert_eq!(
        got.len(),
        expected.len(),
        "no line lost or duplicated across a graceful restart"
    );
    assert!(got == expected, "lines out of order");
}

#[test]
fn kill_9_loses_nothing_and_duplicates_only_the_uncommitted_window() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("kill9");
    create_topic(&topic, 1);
    let worker = worker_props(dir.path(), 1000);
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    let src = source_props(dir.path(), &unique("src"), input.to_str().unwrap(), &topic);
    let snk = sink_props(
        dir.path(),
        &unique("snk"),
        output.to_str().unwrap(),
        &topic,
        1,
    );
    const N: usize = 100_000;
    // Smaller source batches so the crash lands mid-stream.
    std::fs::write(
        &src,
        std::fs::read_to_string(&src).unwrap() + "batch.size=500\n",
    )
    .unwrap();
    // The input grows while the worker runs (2,000 lines every 100 ms), like a live log.
    append_lines(&input, (0..2_000).map(|i| format!("line {i:06}")));
    let writer = {
        let input = input.clone();
        std::thread::spawn(move || {
            for chunk in 1..N / 2_000 {
                std::thread::sleep(Duration::from_millis(100));
                append_lines(
                    &input,
                    (chunk * 2_000..(chunk + 1) * 2_000).map(|i| format!("line {i:06}")),
                );
            }
        })
    };

    let snk_name = snk.file_stem().unwrap().to_str().unwrap().to_string();
    let group = format!("connect-{snk_name}");

    let first = Sluice::standalone(dir.path(), &worker, &[&src, &snk]);
    // Kill only once the sink has committed part of the stream, so the crash lands between
    // commits rather than before the first one.
    wait_for(
        "a sink offset commit mid-stream",
        Duration::from_secs(120),
        || committed_offset(&group, &topic).is_some_and(|c| c > 0) && lines(&output).len() < N,
    );
    let sink_committed = committed_offset(&group, &topic).unwrap();
    let source_committed_line =
        source_position(&dir.path().join("connect.offsets"), &input).map_or(0, |p| p / 12) as usize;
    first.kill9();
    let at_kill = lines(&output).len();
    writer.join().unwrap();

    let second = Sluice::standalone(dir.path(), &worker, &[&src, &snk]);
    wait_for("every line after restart", Duration::from_secs(180), || {
        lines(&output).iter().collect::<BTreeSet<_>>().len() >= N
    });
    std::thread::sleep(Duration::from_secs(3));
    assert!(second.terminate().success());

    let got = lines(&output);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for l in &got {
        *counts.entry(l.as_str()).or_default() += 1;
    }
    let missing: Vec<usize> = (0..N)
        .filter(|i| !counts.contains_key(format!("line {i:06}").as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "lost {} lines, first {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert_eq!(counts.len(), N, "only input lines in the output");
    let duplicated: Vec<usize> = counts
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(l, _)| l[5..].parse().unwrap())
        .collect();
    println!(
        "kill -9 with {at_kill} lines in the sink, sink committed up to offset {sink_committed}, source up to line \
         {source_committed_line}: {} lines duplicated, {} written in total",
        duplicated.len(),
        got.len()
    );
    // Replays start at the sink's committed offset (the topic holds one record per line, in
    // order) or at the source's committed position; nothing before both is written twice.
    let window_start = (sink_committed as usize).min(source_committed_line);
    assert!(
        duplicated.iter().all(|&i| i >= window_start),
        "a line before the last commits was duplicated: {:?}",
        duplicated.first()
    );
    assert!(
        counts.values().all(|c| *c <= 3),
        "a line replayed more than the two windows allow"
    );
}

#[test]
fn two_sink_tasks_share_four_partitions() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("shared");
    create_topic(&topic, 4);
    let worker = worker_props(dir.path(), 1000);
    let output = dir.path().join("out.txt");
    let name = unique("snk");
    let snk = sink_props(dir.path(), &name, output.to_str().unwrap(), &topic, 2);
    let sluice = Sluice::standalone(dir.path(), &worker, &[&snk]);

    let log = sluice.log.clone();
    let assigned = |task: usize| -> Option<BTreeSet<String>> {
        let marker = format!("[{name}|task-{task}] partitions assigned: [");
        let line = lines(&log)
            .into_iter()
            .rev()
            .find(|l| l.contains(&marker))?;
        let list = line.split(&marker).nth(1)?.trim_end_matches(']');
        Some(
            list.split(", ")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        )
    };
    let balanced = || matches!((assigned(0), assigned(1)), (Some(a), Some(b)) if a.len() == 2 && b.len() == 2 && a.is_disjoint(&b));
    wait_for(
        "both tasks to own two partitions",
        Duration::from_secs(90),
        balanced,
    );

    let n = 4_000;
    produce(
        &topic,
        (0..n).map(|i| {
            (
                Some(format!("{STRING_ENVELOPE}\"k{i}\"}}").into_bytes()),
                format!("{STRING_ENVELOPE}\"v{i:05}\"}}").into_bytes(),
            )
        }),
    );
    wait_for(
        "all records in the sink file",
        Duration::from_secs(60),
        || lines(&output).len() >= n,
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(balanced(), "assignment stayed two and two");
    assert!(sluice.terminate().success());
    let got: Vec<String> = lines(&output);
    let unique_lines: BTreeSet<&String> = got.iter().collect();
    assert_eq!(got.len(), n, "each record delivered once");
    assert_eq!(unique_lines.len(), n);
    let all: BTreeSet<String> = assigned(0)
        .unwrap()
        .union(&assigned(1).unwrap())
        .cloned()
        .collect();
    assert_eq!(all.len(), 4);
}

fn run_bad(dir: &Path, connector: &str) -> (i32, String) {
    let worker = worker_props(dir, 1000);
    let c = write_file(&dir.join("bad.properties"), connector);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .current_dir(dir)
        .args(["standalone".as_ref(), worker.as_os_str(), c.as_os_str()])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_configs_exit_2_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("name=x\ntopic=t\nfile=in.txt\n", "connector.class"),
        (
            "name=x\nconnector.class=com.example.NoSuchConnector\n",
            "com.example.NoSuchConnector",
        ),
        (
            "name=x\nconnector.class=FileStreamSource\nfile=in.txt\n",
            "\"topic\"",
        ),
        (
            &format!(
                "name=x\nconnector.class=FileStreamSource\ntopic=t\nfile={}\n",
                dir.path().display()
            ),
            "file",
        ),
        (
            "name=x\nconnector.class=FileStreamSink\ntopics=t\nfile=/nonexistent-dir/out.txt\n",
            "/nonexistent-dir/out.txt",
        ),
        (
            "name=x\nconnector.class=FileStreamSink\nfile=out.txt\n",
            "topics",
        ),
    ];
    for (config, needle) in cases {
        let (code, stderr) = run_bad(dir.path(), config);
        assert_eq!(code, 2, "exit code for {config:?}: stderr {stderr}");
        assert_eq!(
            stderr.lines().count(),
            1,
            "one line for {config:?}: {stderr}"
        );
        assert!(
            stderr.starts_with("error: ") && stderr.contains(needle),
            "{needle} named in {stderr}"
        );
        assert!(!stderr.contains("panicked"));
    }
    let (code, stderr) = run_bad(dir.path(), "");
    assert_eq!(code, 2);
    assert!(stderr.contains("name"), "{stderr}");
    // Nothing was started: no offsets file was written.
    assert!(!dir.path().join("connect.offsets").exists());
}

/// Sink connectors apply their transformation chain: InsertField adds a static field and Filter
/// with RecordIsTombstone drops tombstones. One record of another shape makes the batch take
/// the per-record path; either way the file shows Kafka's `Map.toString()` in HashMap order.
#[test]
fn sink_applies_transforms() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("smt");
    create_topic(&topic, 1);
    let worker = worker_props(dir.path(), 1000);
    let output = dir.path().join("out.txt");
    let name = unique("snk");
    let connector = write_file(
        &dir.path().join("sink.properties"),
        &format!(
            "name={name}\nconnector.class=FileStreamSink\nfile={}\ntopics={topic}\n\
             value.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=false\n\
             transforms=ins,drop\ntransforms.ins.type=org.apache.kafka.connect.transforms.InsertField$Value\n\
             transforms.ins.static.field=src\ntransforms.ins.static.value=x\n\
             transforms.drop.type=Filter\ntransforms.drop.predicate=tomb\n\
             predicates=tomb\npredicates.tomb.type=RecordIsTombstone\n",
            output.display()
        ),
    );
    let sluice = Sluice::standalone(dir.path(), &worker, &[&connector]);
    produce(
        &topic,
        [
            (None, br#"{"a":1}"#.to_vec()),
            (None, br#"{"a":2}"#.to_vec()),
        ],
    );
    wait_for("the first two records", Duration::from_secs(60), || {
        lines(&output).len() >= 2
    });
    // A tombstone (dropped by the filter) and a record of another shape.
    {
        use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
        let p: ThreadedProducer<DefaultProducerContext> = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", bootstrap())
            .create()
            .unwrap();
        p.send::<[u8], [u8]>(BaseRecord::to(&topic))
            .map_err(|(e, _)| e)
            .unwrap();
        p.send(BaseRecord::<[u8], [u8]>::to(&topic).payload(&br#"{"b":"y"}"#[..]))
            .map_err(|(e, _)| e)
            .unwrap();
        p.flush(Duration::from_secs(10)).unwrap();
    }
    wait_for("the other-shaped record", Duration::from_secs(60), || {
        lines(&output).len() >= 3
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(sluice.terminate().success());
    // `new HashMap<>(value)` of a one-entry map grows to 4 buckets: "src" (bucket 1) iterates
    // before "b" (bucket 2), while "a" and "src" share bucket 1 in insertion order.
    assert_eq!(
        lines(&output),
        ["{a=1, src=x}", "{a=2, src=x}", "{src=x, b=y}"]
    );
}

/// `errors.tolerance=all` skips a record that fails conversion and goes on; the default
/// (`none`) fails the task before putting it and never commits past it.
#[test]
fn errors_tolerance_all_skips_and_none_fails() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("tolerance");
    create_topic(&topic, 1);
    produce(
        &topic,
        [
            (None, br#"{"a":1}"#.to_vec()),
            (None, b"not json".to_vec()),
            (None, br#"{"a":3}"#.to_vec()),
        ],
    );
    let worker = worker_props(dir.path(), 1000);
    let sink = |name: &str, file: &Path, extra: &str| {
        write_file(
            &dir.path().join(format!("{name}.properties")),
            &format!(
                "name={name}\nconnector.class=FileStreamSink\nfile={}\ntopics={topic}\n\
                 value.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=false\n{extra}",
                file.display()
            ),
        )
    };
    let (all_out, none_out) = (dir.path().join("all.txt"), dir.path().join("none.txt"));
    let (all_name, none_name) = (unique("all"), unique("none"));
    let all = sink(
        &all_name,
        &all_out,
        "errors.tolerance=all\nerrors.log.enable=true\n",
    );
    let none = sink(&none_name, &none_out, "");
    let sluice = Sluice::standalone(dir.path(), &worker, &[&all, &none]);
    wait_for(
        "the tolerant sink to pass the bad record",
        Duration::from_secs(60),
        || lines(&all_out).len() >= 2,
    );
    wait_for("the strict task to fail", Duration::from_secs(60), || {
        sluice
            .log_lines()
            .iter()
            .any(|l| l.contains(&none_name) && l.contains("Tolerance exceeded"))
    });
    std::thread::sleep(Duration::from_secs(2));
    let log = sluice.log_lines();
    assert!(
        sluice.terminate().success(),
        "a failed task does not take the worker down"
    );
    assert_eq!(lines(&all_out), ["{a=1}", "{a=3}"]);
    assert!(
        log.iter()
            .any(|l| l.contains(&all_name) && l.contains("skipped")),
        "errors.log.enable logs the skipped record"
    );
    assert!(
        !lines(&none_out).contains(&"{a=3}".to_string()),
        "nothing after the bad record is put"
    );
    let committed = committed_offset(&format!("connect-{none_name}"), &topic);
    assert!(
        committed.is_none_or(|c| c <= 1),
        "committed offset {committed:?} is not past the bad record at offset 1"
    );
}

/// A FileStreamSource with a chain: each line is hoisted into a struct, gets a static
/// field, becomes the key too, and goes to the topic the router names, as Kafka's
/// `WorkerSourceTask` applies transforms before the converters.
#[test]
fn source_applies_transforms() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let base = unique("srcsmt");
    let (topic_in, topic_out) = (format!("{base}-in"), format!("{base}-out"));
    create_topic(&topic_out, 1);
    let worker = worker_props(dir.path(), 500);
    let input = dir.path().join("in.txt");
    append_lines(&input, ["alpha".to_string(), "beta".to_string()]);
    let name = unique("src");
    let connector = write_file(
        &dir.path().join("source.properties"),
        &format!(
            "name={name}\nconnector.class=FileStreamSource\nfile={}\ntopic={topic_in}\n\
             transforms=hoist,ins,key,route\n\
             transforms.hoist.type=org.apache.kafka.connect.transforms.HoistField$Value\ntransforms.hoist.field=line\n\
             transforms.ins.type=org.apache.kafka.connect.transforms.InsertField$Value\ntransforms.ins.static.field=src\ntransforms.ins.static.value=file\n\
             transforms.key.type=ValueToKey\ntransforms.key.fields=line\n\
             transforms.route.type=RegexRouter\ntransforms.route.regex=(.*)-in\ntransforms.route.replacement=$1-out\n",
            input.display()
        ),
    );
    let sluice = Sluice::standalone(dir.path(), &worker, &[&connector]);
    wait_for(
        "both lines on the routed topic",
        Duration::from_secs(60),
        || read_topic(&topic_out, 1).len() >= 2,
    );
    assert!(sluice.terminate().success());
    let text = |b: &Option<Vec<u8>>| String::from_utf8(b.clone().unwrap()).unwrap();
    let records = read_topic(&topic_out, 1);
    let got: Vec<(String, String)> = records.iter().map(|r| (text(&r.2), text(&r.3))).collect();
    let key_schema = r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"line"}],"optional":false}"#;
    let value_schema = r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"line"},{"type":"string","optional":true,"field":"src"}],"optional":false}"#;
    let want: Vec<(String, String)> = ["alpha", "beta"]
        .iter()
        .map(|l| {
            (
                format!(r#"{{"schema":{key_schema},"payload":{{"line":"{l}"}}}}"#),
                format!(r#"{{"schema":{value_schema},"payload":{{"line":"{l}","src":"file"}}}}"#),
            )
        })
        .collect();
    assert_eq!(got, want);
}
