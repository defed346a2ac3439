//! Differential testing against the real Kafka Connect: generated cases ([`generate`]) run
//! through sluice's production pipeline (a group of cases sharing a config as one batch) and
//! through the Java oracle (`engine/tests/oracle`, Kafka Connect 4.3's own classes); every
//! difference is reported as a corpus line carrying Kafka's outcome as its `expect`.

pub mod generate;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use serde_json::Value as Json;

use crate::pipe::compare::{expected_outcome, outcomes_match};
use crate::pipe::{self, Outcome, PipeRecord};

/// Cases sent to the oracle at a time; sluice runs them while the oracle works.
const CHUNK: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum DifferentialError {
    #[error("cannot start the oracle `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("talking to the oracle: {0}")]
    Io(#[from] std::io::Error),
    #[error("the oracle stopped answering after {answered} of {sent} cases")]
    OracleStopped { answered: u64, sent: u64 },
    #[error("the oracle's answer for case {id} is unreadable: {reason}")]
    OracleAnswer { id: String, reason: String },
    #[error("generated case {id} is unreadable: {source}")]
    Case {
        id: String,
        #[source]
        source: crate::pipe::CaseError,
    },
}

pub struct Options {
    pub cases: u64,
    pub seed: u64,
    /// The oracle's command line: case lines on stdin, `{"id","expect"}` lines on stdout.
    pub oracle: Vec<String>,
    /// Case ids known to differ (not yet fixed): counted apart, and reported when they
    /// stop differing, so the list only shrinks.
    pub known: std::collections::BTreeSet<String>,
}

/// One case where sluice and Kafka Connect differ.
pub struct Difference {
    /// The case as a corpus line, with Kafka Connect's outcome as `expect`.
    pub line: Json,
    /// What sluice did, in the corpus `expect` format.
    pub sluice: Json,
    /// A short description that groups differences of one kind.
    pub class: String,
}

#[derive(Debug, Default)]
pub struct Summary {
    pub cases: u64,
    pub differences: u64,
    /// Per class of difference: how many, and the first case id.
    pub classes: BTreeMap<String, (u64, String)>,
    /// Differences of a kind the README lists as known, by reason: not failures.
    pub explained: BTreeMap<&'static str, u64>,
    /// Differences in cases of the known list.
    pub known: u64,
    /// Cases of the known list that ran and no longer differ.
    pub no_longer_differ: Vec<String>,
    pub sluice_seconds: f64,
    pub wall_seconds: f64,
}

/// The first `cases` generated cases of `seed`, as corpus lines without `expect`.
pub fn cases(seed: u64, cases: u64) -> impl Iterator<Item = Json> {
    let mut generator = generate::Generator::new(seed);
    std::iter::from_fn(move || Some(generator.next_group()))
        .flatten()
        .take(cases as usize)
}

/// Runs `cases` generated cases through both sides; `on_difference` sees each difference.
pub fn run(
    options: &Options,
    mut on_difference: impl FnMut(&Difference),
) -> Result<Summary, DifferentialError> {
    let command = options.oracle.join(" ");
    let (program, args) = options
        .oracle
        .split_first()
        .ok_or_else(|| DifferentialError::Spawn {
            command: command.clone(),
            source: std::io::Error::other("empty command"),
        })?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| DifferentialError::Spawn {
            command: command.clone(),
            source,
        })?;
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(DifferentialError::Io(std::io::Error::other(
            "the oracle has no pipes",
        )));
    };
    let mut answers = BufReader::new(stdout);
    // A writer thread feeds the oracle so that neither side blocks on a full pipe.
    let (tx, rx) = sync_channel::<String>(2);
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        for chunk in rx {
            stdin.write_all(chunk.as_bytes())?;
            stdin.flush()?;
        }
        Ok(())
    });
    let started = Instant::now();
    let mut summary = Summary::default();
    let mut generator = generate::Generator::new(options.seed);
    let mut pending: Vec<Json> = Vec::new();
    let mut answer = String::new();
    while summary.cases < options.cases {
        let mut chunk: Vec<Json> = std::mem::take(&mut pending);
        while chunk.len() < CHUNK {
            chunk.extend(generator.next_group());
        }
        let room = (options.cases - summary.cases) as usize;
        if chunk.len() > room {
            chunk.truncate(room);
        }
        let mut text = String::with_capacity(chunk.len() * 600);
        for line in &chunk {
            text.push_str(&line.to_string());
            text.push('\n');
        }
        if tx.send(text).is_err() {
            break;
        }
        let t0 = Instant::now();
        let outcomes = run_sluice(&chunk)?;
        summary.sluice_seconds += t0.elapsed().as_secs_f64();
        for (line, actual) in chunk.iter_mut().zip(outcomes) {
            let id = line["id"].as_str().unwrap_or("?").to_string();
            answer.clear();
            if answers.read_line(&mut answer)? == 0 {
                return Err(DifferentialError::OracleStopped {
                    answered: summary.cases,
                    sent: options.cases,
                });
            }
            let reply: Json =
                serde_json::from_str(&answer).map_err(|e| DifferentialError::OracleAnswer {
                    id: id.clone(),
                    reason: e.to_string(),
                })?;
            if reply["id"].as_str() != Some(id.as_str()) {
                return Err(DifferentialError::OracleAnswer {
                    id,
                    reason: format!("the answer is for {}", reply["id"]),
                });
            }
            let Some(expect) = reply.get("expect") else {
                return Err(DifferentialError::OracleAnswer {
                    id,
                    reason: format!("no expect: {answer}"),
                });
            };
            let expected =
                expected_outcome(expect).map_err(|e| DifferentialError::OracleAnswer {
                    id: id.clone(),
                    reason: e.to_string(),
                })?;
            summary.cases += 1;
            let json = line["compare"].as_str() == Some("json");
            if outcomes_match(&expected, &actual, json) {
                if options.known.contains(&id) {
                    summary.no_longer_differ.push(id);
                }
                continue;
            }
            if let Some(reason) = explained(&expected, &actual) {
                *summary.explained.entry(reason).or_insert(0) += 1;
                continue;
            }
            if options.known.contains(&id) {
                summary.known += 1;
                continue;
            }
            {
                summary.differences += 1;
                line["expect"] = expect.clone();
                let class = classify(line, &expected, &actual);
                let entry = summary.classes.entry(class.clone()).or_insert((0, id));
                entry.0 += 1;
                on_difference(&Difference {
                    line: line.clone(),
                    sluice: actual.to_json(),
                    class,
                });
            }
        }
    }
    drop(tx);
    writer
        .join()
        .map_err(|_| std::io::Error::other("the oracle writer panicked"))??;
    child.wait()?;
    summary.wall_seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Runs a chunk through sluice: each run of cases with one config is one batch.
fn run_sluice(chunk: &[Json]) -> Result<Vec<Outcome>, DifferentialError> {
    let mut outcomes = Vec::with_capacity(chunk.len());
    let mut start = 0;
    while start < chunk.len() {
        let same = |l: &Json| {
            l["connector_config"] == chunk[start]["connector_config"]
                && l.get("out_converters") == chunk[start].get("out_converters")
        };
        let end = start + chunk[start..].iter().take_while(|l| same(l)).count();
        let bad = |id: &Json, source: crate::pipe::CaseError| DifferentialError::Case {
            id: id.as_str().unwrap_or("?").to_string(),
            source,
        };
        let first = &chunk[start];
        let config =
            pipe::string_map(&first["connector_config"]).map_err(|r| bad(&first["id"], r))?;
        let out = first
            .get("out_converters")
            .map(pipe::string_map)
            .transpose()
            .map_err(|r| bad(&first["id"], r))?;
        let inputs = chunk[start..end]
            .iter()
            .map(|l| PipeRecord::from_json(&l["input"]).map_err(|r| bad(&l["id"], r)))
            .collect::<Result<Vec<_>, _>>()?;
        outcomes.extend(pipe::run_group(&config, out.as_ref(), &inputs));
        start = end;
    }
    Ok(outcomes)
}

/// A difference of a kind the README's table lists (and why), or `None`.
fn explained(expected: &Outcome, actual: &Outcome) -> Option<&'static str> {
    if crate::pipe::compare::differ_only_in_pair_order(expected, actual) {
        return Some("map entries keyed by bytes or Decimal in another order");
    }
    let (m, m2) = crate::pipe::compare::same_failure(expected, actual)?;
    // Both refuse the same pattern; only the regex engines' words differ.
    let prefix = |m: &str| m.find("Invalid regex: ").map(|i| m[..i].to_string());
    if prefix(m).is_some() && prefix(m) == prefix(m2) {
        return Some("regex syntax error worded by the regex crate");
    }
    // Flatten builds a LinkedHashMap; sluice's maps name one Java class.
    (m.replace("java.util.LinkedHashMap", "java.util.HashMap") == m2)
        .then_some("a LinkedHashMap named HashMap in a message")
}

fn kind(o: &Outcome) -> String {
    match o {
        Outcome::Record(_) => "record".into(),
        Outcome::Dropped => "dropped".into(),
        Outcome::Error {
            stage, exception, ..
        } => format!(
            "{stage} {}",
            exception.rsplit('.').next().unwrap_or(exception)
        ),
    }
}

/// Groups a difference: both outcomes' kinds, the part of a record that differs, and the
/// plugins the case involves (the converters of a converter stage, else the chain).
fn classify(line: &Json, expected: &Outcome, actual: &Outcome) -> String {
    let config = &line["connector_config"];
    let short = |v: &Json| {
        v.as_str()
            .map(|s| s.rsplit('.').next().unwrap_or(s).to_string())
            .unwrap_or_default()
    };
    let part = match (expected, actual) {
        (Outcome::Record(e), Outcome::Record(a)) => {
            let mut parts = Vec::new();
            if e.topic != a.topic {
                parts.push("topic");
            }
            if e.partition != a.partition || e.timestamp != a.timestamp {
                parts.push("partition/timestamp");
            }
            if e.key != a.key {
                parts.push("key");
            }
            if e.value != a.value {
                parts.push("value");
            }
            if e.headers != a.headers {
                parts.push("headers");
            }
            format!(" ({})", parts.join(","))
        }
        (Outcome::Error { message: m1, .. }, Outcome::Error { message: m2, .. })
            if kind(expected) == kind(actual) && m1 != m2 =>
        {
            " (message)".into()
        }
        _ => String::new(),
    };
    let stage = match (expected, actual) {
        (Outcome::Error { stage, .. }, _) | (_, Outcome::Error { stage, .. }) => *stage,
        _ => "TRANSFORMATION",
    };
    let involved = match stage {
        "KEY_CONVERTER" => short(&config["key.converter"]),
        "VALUE_CONVERTER" => short(&config["value.converter"]),
        "HEADER_CONVERTER" => short(&config["header.converter"]),
        _ => {
            let aliases = config["transforms"].as_str().unwrap_or("");
            let mut smts: Vec<String> = aliases
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|a| short(&config[format!("transforms.{a}.type")]))
                .collect();
            smts.sort();
            smts.dedup();
            smts.join("+")
        }
    };
    format!(
        "kafka {} / sluice {}{part} [{involved}]",
        kind(expected),
        kind(actual)
    )
}
