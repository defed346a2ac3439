//! Logging with levels that change while the worker runs (`/admin/loggers`): a root level
//! plus per-logger levels, where a logger is a module path (`sluice_engine::runtime::sink`;
//! Kafka-style dotted names are accepted and mapped to `::`), rebuilt into the tracing
//! filter on every change.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::reload;
use tracing_subscriber::util::SubscriberInitExt;

/// Log4j levels as Kafka's REST API names them.
pub const LEVELS: [&str; 7] = ["OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"];

fn tracing_level(level: &str) -> &'static str {
    match level {
        "OFF" => "off",
        "FATAL" | "ERROR" => "error",
        "WARN" => "warn",
        "INFO" => "info",
        "DEBUG" => "debug",
        _ => "trace",
    }
}

#[derive(Debug, Clone)]
struct LoggerLevel {
    level: String,
    last_modified: Option<u64>,
}

#[derive(Debug)]
struct State {
    root: String,
    loggers: BTreeMap<String, LoggerLevel>,
}

type Handle = reload::Handle<EnvFilter, tracing_subscriber::Registry>;

/// The live log levels; clones share them.
#[derive(Clone)]
pub struct LogLevels {
    state: Arc<Mutex<State>>,
    handle: Option<Handle>,
}

impl std::fmt::Debug for LogLevels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogLevels").finish_non_exhaustive()
    }
}

/// Client libraries stay quiet unless a logger names them.
const QUIET: &str = "librdkafka=warn,rdkafka=warn";

impl LogLevels {
    /// Installs the global subscriber; `RUST_LOG` (if set) gives the initial root filter.
    pub fn init() -> Self {
        let root = std::env::var("RUST_LOG").ok();
        let filter = EnvFilter::try_new(root.clone().unwrap_or_else(|| format!("info,{QUIET}")))
            .unwrap_or_else(|_| EnvFilter::new(format!("info,{QUIET}")));
        let (layer, handle) = reload::Layer::new(filter);
        let fmt = tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr);
        let _ = tracing_subscriber::registry()
            .with(layer)
            .with(fmt)
            .try_init();
        Self {
            state: Arc::new(Mutex::new(State {
                root: "INFO".into(),
                loggers: BTreeMap::new(),
            })),
            handle: Some(handle),
        }
    }

    /// Levels kept without a subscriber (tests of the REST API).
    pub fn detached() -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                root: "INFO".into(),
                loggers: BTreeMap::new(),
            })),
            handle: None,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `GET /admin/loggers`: `(name, level, last_modified)` with `root` first.
    pub fn all(&self) -> Vec<(String, String, Option<u64>)> {
        let s = self.lock();
        let mut out = vec![("root".to_string(), s.root.clone(), None)];
        out.extend(
            s.loggers
                .iter()
                .map(|(n, l)| (n.clone(), l.level.clone(), l.last_modified)),
        );
        out
    }

    /// The effective level of a logger: its own, its nearest ancestor's, or root's.
    pub fn level(&self, name: &str) -> Option<(String, Option<u64>)> {
        let s = self.lock();
        if name == "root" {
            return Some((s.root.clone(), None));
        }
        s.loggers
            .get(name)
            .map(|l| (l.level.clone(), l.last_modified))
    }

    /// `PUT /admin/loggers/{name}`: sets the level of `name` and of every logger below it;
    /// returns the names changed. `None` when the level is not a log4j level.
    pub fn set(&self, name: &str, level: &str) -> Option<Vec<String>> {
        let level = level.trim().to_ascii_uppercase();
        if !LEVELS.contains(&level.as_str()) {
            return None;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let mut s = self.lock();
        let mut changed = Vec::new();
        if name == "root" {
            s.root = level.clone();
            for (n, l) in s.loggers.iter_mut() {
                l.level = level.clone();
                l.last_modified = Some(now);
                changed.push(n.clone());
            }
            changed.insert(0, "root".into());
        } else {
            let prefix = format!("{name}.");
            let prefix_mod = format!("{name}::");
            for (n, l) in s.loggers.iter_mut() {
                if n.starts_with(&prefix) || n.starts_with(&prefix_mod) {
                    l.level = level.clone();
                    l.last_modified = Some(now);
                    changed.push(n.clone());
                }
            }
            s.loggers.insert(
                name.to_string(),
                LoggerLevel {
                    level: level.clone(),
                    last_modified: Some(now),
                },
            );
            changed.push(name.to_string());
            changed.sort();
        }
        let directives = std::iter::once(format!("{},{QUIET}", tracing_level(&s.root)))
            .chain(
                s.loggers
                    .iter()
                    .map(|(n, l)| format!("{}={}", n.replace('.', "::"), tracing_level(&l.level))),
            )
            .collect::<Vec<_>>()
            .join(",");
        drop(s);
        if let Some(h) = &self.handle {
            match EnvFilter::try_new(&directives) {
                Ok(f) => {
                    if let Err(e) = h.reload(f) {
                        tracing::warn!("could not change log levels: {e}");
                    }
                }
                Err(e) => tracing::warn!("could not change log levels to {directives}: {e}"),
            }
        }
        Some(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_levels_for_a_logger_and_its_children() {
        let l = LogLevels::detached();
        assert_eq!(
            l.set("sluice_engine::runtime::sink", "debug").unwrap(),
            vec!["sluice_engine::runtime::sink"]
        );
        let changed = l.set("sluice_engine", "WARN").unwrap();
        assert_eq!(
            changed,
            vec!["sluice_engine", "sluice_engine::runtime::sink"]
        );
        assert_eq!(l.level("sluice_engine::runtime::sink").unwrap().0, "WARN");
        assert!(l.set("x", "LOUD").is_none());
        assert_eq!(l.all()[0].0, "root");
    }
}
