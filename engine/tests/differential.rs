//! Differential test against the real Kafka Connect 4.3: `sluice differential` runs a fixed
//! seed of generated cases through sluice's production pipeline and through the Java oracle
//! (`engine/tests/oracle`, on the jars `scripts/kafka-connect.sh` installs) and fails on any
//! difference, printing each class and writing the differing cases as corpus lines.
//! Cases of `tests/differential-known.txt` (seed 1) may differ for now; the list only
//! shrinks. `SLUICE_DIFFERENTIAL_CASES` and `SLUICE_DIFFERENTIAL_SEED` change the run.

use std::path::Path;
use std::process::Command;

#[test]
fn sluice_and_kafka_connect_agree_on_generated_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cases = std::env::var("SLUICE_DIFFERENTIAL_CASES").unwrap_or_else(|_| "200000".into());
    let seed = std::env::var("SLUICE_DIFFERENTIAL_SEED").unwrap_or_else(|_| "1".into());
    let failures = std::env::temp_dir().join(format!("sluice-differential-{seed}.jsonl"));
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .current_dir(&root)
        .args([
            "differential",
            "--cases",
            &cases,
            "--seed",
            &seed,
            "--failures",
        ])
        .arg(&failures)
        .arg("--known")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential-known.txt"))
        .output()
        .expect("run sluice differential");
    let report = String::from_utf8_lossy(&out.stderr);
    println!("{report}");
    assert!(
        out.status.success(),
        "sluice and Kafka Connect differ (cases written to {}):\n{report}",
        failures.display()
    );
    assert!(
        report.contains(&format!("differential: {cases} cases")),
        "every case ran: {report}"
    );
}
