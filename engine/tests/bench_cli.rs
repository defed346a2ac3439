//! `sluice bench` against the real broker: P1 and W1 run end to end and `--json` parses with
//! the fields the harness promises.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

#[test]
fn bench_runs_p1_and_w1_against_the_broker() {
    require_broker();
    for case in ["P1", "W1"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args([
                "bench",
                "--case",
                case,
                "--records",
                "5000",
                "--runs",
                "2",
                "--json",
                "--bootstrap",
            ])
            .arg(bootstrap())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{case}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["case"], case);
        assert_eq!(v["mode"], "broker");
        assert_eq!(v["records"], 5000);
        for field in [
            "bytes_in",
            "cpu_seconds",
            "wall_seconds",
            "records_per_cpu_second",
            "mb_per_cpu_second",
            "peak_rss_bytes",
        ] {
            assert!(
                v[field].as_f64().is_some_and(|x| x > 0.0),
                "{case}: {field} in {v}"
            );
        }
        assert_eq!(v["runs"].as_array().unwrap().len(), 2);
        assert!(v["noisy"].is_boolean());
        assert_stages_and_latency(case, &v);
    }
}

/// Every batch went through the measured stages and has a latency.
fn assert_stages_and_latency(case: &str, v: &serde_json::Value) {
    let p50 = v["batch_latency_p50_ms"].as_f64().unwrap();
    let p99 = v["batch_latency_p99_ms"].as_f64().unwrap();
    assert!(0.0 < p50 && p50 <= p99, "{case}: {v}");
    let stages = &v["stage_seconds"];
    for stage in ["fetch", "convert_in", "write", "commit"] {
        assert!(
            stages[stage].as_f64().is_some_and(|x| x > 0.0),
            "{case}: {stage} in {stages}"
        );
    }
}

fn run_json(args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .args(["--json", "--bootstrap"])
        .arg(bootstrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn quickstart_filestream_and_bytearray_cases_run_against_the_broker() {
    require_broker();
    for case in ["FS", "BA"] {
        let v = run_json(&[
            "bench",
            "--case",
            case,
            "--records",
            "3000",
            // Keyed records over two partitions, with the generator's producer tuned.
            "--set",
            "keys=random:10",
            "--set",
            "partitions=2",
            "--set",
            "producer.linger.ms=5",
        ]);
        assert_eq!(v["settings"]["keys"], "random:10", "{v}");
        assert_eq!(v["case"], case);
        assert_eq!(v["records"], 3000);
        // FS reads a file of the events' lines; BA gets them from the producer.
        assert!(v["bytes_in"].as_u64().unwrap() > 3000 * 190, "{v}");
        assert!(v["bytes_out"].as_u64().unwrap() > 0, "{v}");
        assert_stages_and_latency(case, &v);
    }
}

#[test]
fn a_sweep_marks_the_best_point_and_plots_it() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("batch.svg");
    let v = run_json(&[
        "bench",
        "--case",
        "W1",
        "--in-process",
        "--records",
        "20000",
        "--sweep",
        "batch.size=500,8192",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert_eq!(v["sweep"], "batch.size");
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    let rates: Vec<f64> = points
        .iter()
        .map(|p| p["records_per_cpu_second"].as_f64().unwrap())
        .collect();
    // Ties go to the later point.
    let best = if rates[0] > rates[1] { "500" } else { "8192" };
    assert_eq!(v["best"], best);
    assert_eq!(points[0]["settings"]["batch.size"], "500");
    // 20,000 records in batches of 500 are 40 batches.
    assert_eq!(points[0]["batches"], 40);
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.contains("W1: throughput against batch.size"));
}
