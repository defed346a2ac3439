//! Conformance against Apache Kafka Connect 3.8, from the recorded corpus in
//! `../shared/conformance/` (see its README). Every `*.jsonl` there is discovered and run
//! through `sluice pipe`'s runner; each file is one test. A case listed in
//! `tests/conformance-known-failures.txt` is expected to fail for now (work not yet done):
//! a file fails when a case outside that list fails, or when a listed case passes (so the
//! list only ever shrinks). `SLUICE_UPDATE_KNOWN_FAILURES=1` rewrites the list.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use sluice_codecs::jackson::{self, Node};
use sluice_engine::pipe::{self, Outcome};

fn corpus_dir() -> PathBuf {
    std::env::var_os("SLUICE_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"))
}

fn known_failures_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance-known-failures.txt")
}

/// Structural JSON equality as the corpus README defines it for `"compare":"json"`.
fn json_equal(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Object(x), Node::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| k == k2 && json_equal(v, v2)))
        }
        (Node::Array(x), Node::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q))
        }
        _ => a == b,
    }
}

fn bytes_equal(expected: &Option<Vec<u8>>, actual: &Option<Vec<u8>>, json: bool) -> bool {
    if !json {
        return expected == actual;
    }
    match (expected, actual) {
        (Some(e), Some(a)) => match (jackson::parse(e), jackson::parse(a)) {
            (Ok(en), Ok(an)) if !matches!(en, Node::Missing) => json_equal(&en, &an),
            _ => e == a,
        },
        _ => expected == actual,
    }
}

fn expected_outcome(v: &Json) -> Result<Outcome, String> {
    if v.get("dropped").is_some() {
        return Ok(Outcome::Dropped);
    }
    if let Some(e) = v.get("error") {
        let s = |k: &str| e.get(k).and_then(Json::as_str).map(str::to_string);
        // Leak the two small identifiers: Outcome keeps them as static strings.
        let stage: &'static str = Box::leak(s("stage").unwrap_or_default().into_boxed_str());
        let exception: &'static str =
            Box::leak(s("exception").unwrap_or_default().into_boxed_str());
        return Ok(Outcome::Error {
            stage,
            exception,
            message: s("message"),
        });
    }
    let mut input = v.clone();
    if input.get("timestamp").is_some_and(Json::is_null) {
        input["timestamp"] = Json::from(-1);
    }
    pipe::PipeRecord::from_json(&input).map(Outcome::Record)
}

fn matches(expected: &Outcome, actual: &Outcome, json: bool) -> bool {
    match (expected, actual) {
        (Outcome::Record(e), Outcome::Record(a)) => {
            e.topic == a.topic
                && e.partition == a.partition
                && e.timestamp == a.timestamp
                && bytes_equal(&e.key, &a.key, json)
                && bytes_equal(&e.value, &a.value, json)
                && e.headers.len() == a.headers.len()
                && e.headers
                    .iter()
                    .zip(&a.headers)
                    .all(|((ek, ev), (ak, av))| ek == ak && bytes_equal(ev, av, json))
        }
        _ => expected == actual,
    }
}

fn main() {
    let dir = corpus_dir();
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect(),
        Err(e) => {
            eprintln!(
                "conformance corpus not found at {} ({e}); set SLUICE_CONFORMANCE_DIR",
                dir.display()
            );
            std::process::exit(1);
        }
    };
    files.sort();
    let known: BTreeSet<String> = std::fs::read_to_string(known_failures_path())
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let update = std::env::var_os("SLUICE_UPDATE_KNOWN_FAILURES").is_some();
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut all_failing = BTreeSet::new();
    let (mut passed, mut failed) = (0usize, 0usize);
    let (mut cases_total, mut cases_passing) = (0usize, 0usize);
    println!("\nrunning {} tests", files.len());
    for file in &files {
        let suite = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if filter.as_ref().is_some_and(|f| !suite.contains(f.as_str())) {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let mut failing: Vec<(String, String)> = Vec::new();
        let mut n = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            n += 1;
            let case: Json = match serde_json::from_str(line) {
                Ok(c) => c,
                Err(e) => {
                    failing.push((format!("{suite}:line{n}"), format!("unreadable case: {e}")));
                    continue;
                }
            };
            let id = case
                .get("id")
                .and_then(Json::as_str)
                .unwrap_or("?")
                .to_string();
            let json = case.get("compare").and_then(Json::as_str) == Some("json");
            let outcome = pipe::run_case_line(line).map(|(_, o)| o);
            let expected = case.get("expect").map(expected_outcome);
            match (outcome, expected) {
                (Ok(actual), Some(Ok(expected))) if matches(&expected, &actual, json) => {}
                (Ok(actual), Some(Ok(_))) => {
                    failing.push((id, format!("got {}", actual.to_json())))
                }
                (Err(e), _) | (_, Some(Err(e))) => failing.push((id, e)),
                (_, None) => failing.push((id, "case without expect".into())),
            }
        }
        cases_total += n;
        cases_passing += n - failing.len();
        let failing_ids: BTreeSet<String> = failing.iter().map(|(id, _)| id.clone()).collect();
        all_failing.extend(failing_ids.iter().cloned());
        let unexpected: Vec<&(String, String)> = failing
            .iter()
            .filter(|(id, _)| !known.contains(id))
            .collect();
        let fixed: Vec<&String> = known
            .iter()
            .filter(|id| id.starts_with(&format!("{suite}/")) && !failing_ids.contains(*id))
            .collect();
        let ok = update || (unexpected.is_empty() && fixed.is_empty());
        println!(
            "test conformance::{suite} ... {} ({}/{} cases pass)",
            if ok { "ok" } else { "FAILED" },
            n - failing.len(),
            n
        );
        for (id, why) in unexpected.iter().take(20) {
            println!(
                "    new failure {id}: {}",
                why.chars().take(300).collect::<String>()
            );
        }
        for id in fixed.iter().take(20) {
            println!("    now passing, remove from known failures: {id}");
        }
        if ok { passed += 1 } else { failed += 1 }
    }
    if update && filter.is_none() {
        let body: String = all_failing.iter().map(|id| format!("{id}\n")).collect();
        let header = "# Conformance cases sluice does not pass yet (see tests/conformance.rs). Only ever shrinks.\n";
        std::fs::write(known_failures_path(), format!("{header}{body}"))
            .unwrap_or_else(|e| panic!("write known failures: {e}"));
        println!(
            "rewrote {} with {} ids",
            known_failures_path().display(),
            all_failing.len()
        );
    }
    println!("conformance: {cases_passing}/{cases_total} cases pass");
    println!(
        "\ntest result: {}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out\n",
        if failed == 0 { "ok" } else { "FAILED" }
    );
    if failed > 0 {
        std::process::exit(101);
    }
}
