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
    }
}
