//! The `errors.*` connector keys with Kafka's defaults: tolerance, logging, retries and the
//! dead letter queue ([`ErrorsConfig`]), parsed apart from the reporter that applies them.

use std::time::Duration;

use crate::properties::Props;

/// The dead letter queue keys of a sink connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DlqConfig {
    pub topic: String,
    pub replication_factor: i16,
    pub context_headers: bool,
}

/// `errors.*` keys with Kafka's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorsConfig {
    pub retry: RetryPolicy,
    pub tolerate_all: bool,
    pub log_enable: bool,
    pub log_include_messages: bool,
    pub dlq: Option<DlqConfig>,
}

impl Default for ErrorsConfig {
    fn default() -> Self {
        Self {
            retry: RetryPolicy {
                timeout: Some(Duration::ZERO),
                delay_max: Duration::from_millis(60_000),
            },
            tolerate_all: false,
            log_enable: false,
            log_include_messages: false,
            dlq: None,
        }
    }
}

fn invalid(key: &str, value: &str, reason: &str) -> (String, String) {
    (
        key.to_string(),
        format!("Invalid value {value} for configuration {key}: {reason}"),
    )
}

fn parse_bool(props: &Props, key: &str, default: bool) -> Result<bool, (String, String)> {
    match props.get(key).map(|v| v.trim()) {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(invalid(key, v, "Expected value to be either true or false")),
    }
}

fn parse_long(props: &Props, key: &str, default: i64) -> Result<i64, (String, String)> {
    match props.get(key).map(|v| v.trim()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| invalid(key, v, "Not a number of type LONG")),
    }
}

impl ErrorsConfig {
    /// Parses the keys; an error is `(key, Kafka's ConfigException message)`.
    pub fn parse(props: &Props) -> Result<Self, (String, String)> {
        let timeout = parse_long(props, "errors.retry.timeout", 0)?;
        let delay_max = parse_long(props, "errors.retry.delay.max.ms", 60_000)?;
        let tolerate_all = match props.get("errors.tolerance").map(|v| v.trim()) {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("none") => false,
            Some(v) if v.eq_ignore_ascii_case("all") => true,
            Some(v) => {
                return Err(invalid(
                    "errors.tolerance",
                    v,
                    "String must be one of: none, all",
                ));
            }
        };
        let dlq_topic = props
            .get("errors.deadletterqueue.topic.name")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        let rf_key = "errors.deadletterqueue.topic.replication.factor";
        let replication_factor = match props.get(rf_key).map(|v| v.trim()) {
            None => 3,
            Some(v) => v
                .parse::<i16>()
                .map_err(|_| invalid(rf_key, v, "Not a number of type SHORT"))?,
        };
        let context_headers = parse_bool(
            props,
            "errors.deadletterqueue.context.headers.enable",
            false,
        )?;
        Ok(Self {
            retry: RetryPolicy {
                // -1 (any negative value) retries without end, as in Kafka.
                timeout: u64::try_from(timeout).ok().map(Duration::from_millis),
                delay_max: Duration::from_millis(u64::try_from(delay_max).unwrap_or(0)),
            },
            tolerate_all,
            log_enable: parse_bool(props, "errors.log.enable", false)?,
            log_include_messages: parse_bool(props, "errors.log.include.messages", false)?,
            dlq: dlq_topic.map(|topic| DlqConfig {
                topic,
                replication_factor,
                context_headers,
            }),
        })
    }
}

/// `errors.retry.timeout` / `errors.retry.delay.max.ms`: how long a retriable failure is
/// retried, with delays 300 ms, 600 ms, ... capped at `delay_max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// `None` retries until the task is stopped (`-1`).
    pub timeout: Option<Duration>,
    pub delay_max: Duration,
}
