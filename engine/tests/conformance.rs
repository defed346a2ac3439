//! Conformance against Apache Kafka Connect, from the recorded corpus in
//! `../shared/conformance/` (Kafka 3.8; see its README) and our own in `tests/corpus/`
//! (cases checked against Kafka 4.3 by the oracle, `tests/oracle`). Every `*.jsonl` in
//! both is discovered and run through `sluice pipe`'s runner; each file is one test. Where
//! Kafka 4.3 behaves differently from the recorded 3.8 (the README's table), a case of our
//! own with the same id carries 4.3's outcome and replaces the recorded one. A case listed in
//! `tests/conformance-known-failures.txt` is expected to fail for now (work not yet done):
//! a file fails when a case outside that list fails, or when a listed case passes (so the
//! list only ever shrinks). `SLUICE_UPDATE_KNOWN_FAILURES=1` rewrites the list.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use sluice_engine::pipe;
use sluice_engine::pipe::compare::{expected_outcome, outcomes_match};

fn corpus_dir() -> PathBuf {
    std::env::var_os("SLUICE_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"))
}

fn known_failures_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance-known-failures.txt")
}

fn own_corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn jsonl_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The `.jsonl` files in `dir` and every folder below it.
fn jsonl_files_under(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(jsonl_files_under(&path)?);
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            out.push(path);
        }
    }
    Ok(out)
}

/// Registry contents equal as the schema-registry README says: the same entries, order ignored.
fn same_entries(want: &Json, got: Option<&Json>) -> bool {
    let key = |v: &Json| -> Vec<String> {
        let mut e: Vec<String> = v
            .as_array()
            .map(|a| a.iter().map(Json::to_string).collect())
            .unwrap_or_default();
        e.sort();
        e
    };
    let normal = |v: &Json| -> Json {
        Json::Array(
            v.as_array()
                .map(|a| {
                    a.iter()
                        .map(|e| {
                            serde_json::json!({
                                "subject": e.get("subject"), "version": e.get("version"),
                                "id": e.get("id"), "schemaType": e.get("schemaType"),
                                "schema": e.get("schema")})
                        })
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    got.is_some_and(|g| key(&normal(want)) == key(&normal(g)))
}

fn main() {
    let dir = corpus_dir();
    let own = jsonl_files(&own_corpus_dir());
    // Our cases by id: those sharing an id with a recorded case supersede it (Kafka 4.3).
    let superseding: std::collections::HashMap<String, String> = own
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter_map(|l| {
            let id = serde_json::from_str::<Json>(&l)
                .ok()?
                .get("id")?
                .as_str()?
                .to_string();
            Some((id, l))
        })
        .collect();
    // Every corpus file, subfolders included (`schema-registry/`: Confluent's converters).
    let mut files = match jsonl_files_under(&dir) {
        Ok(files) => files,
        Err(e) => {
            eprintln!(
                "conformance corpus not found at {} ({e}); set SLUICE_CONFORMANCE_DIR",
                dir.display()
            );
            std::process::exit(1);
        }
    };
    files.sort();
    files.extend(own);
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
        let own_file = file.starts_with(own_corpus_dir());
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            n += 1;
            let line = match serde_json::from_str::<Json>(line)
                .ok()
                .and_then(|c| c.get("id").and_then(Json::as_str).map(str::to_string))
            {
                Some(id) if !own_file => superseding.get(&id).map_or(line, String::as_str),
                _ => line,
            };
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
            let run = pipe::run_case(line);
            let expected = case.get("expect").map(expected_outcome);
            let registry_ok = |run: &pipe::CaseRun| match case.get("expect_registry") {
                None => true,
                Some(want) => same_entries(want, run.registry.as_ref()),
            };
            match (run, expected) {
                (Ok(run), Some(Ok(expected)))
                    if outcomes_match(&expected, &run.outcome, json) && registry_ok(&run) => {}
                (Ok(run), Some(Ok(_))) => failing.push((id, format!("got {}", run.actual_json()))),
                (Err(e), _) | (_, Some(Err(e))) => failing.push((id, e.to_string())),
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
