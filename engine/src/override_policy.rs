//! `connector.client.config.override.policy` (KIP-458, and the Allowlist policy of Kafka
//! 4.2): which `*.override.*` client settings a connector may give, checked when its config
//! is validated, with Kafka's policy names and messages.

use crate::config::Props;
use crate::error::{EngineError, Result};

pub const POLICY: &str = "connector.client.config.override.policy";
pub const ALLOWLIST: &str = "connector.client.config.override.allowlist";

const PACKAGE: &str = "org.apache.kafka.connect.connector.policy.";
const SUFFIX: &str = "ConnectorClientConfigOverridePolicy";

/// What the Principal policy lets through (Kafka's `PrincipalConnectorClientConfigOverridePolicy`).
const PRINCIPAL_KEYS: [&str; 3] = ["sasl.jaas.config", "sasl.mechanism", "security.protocol"];

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum OverridePolicy {
    /// Kafka's default: every client setting may be overridden.
    #[default]
    All,
    None,
    /// Deprecated in Kafka 4.2: the SASL principal settings only.
    Principal,
    /// The client keys listed in `connector.client.config.override.allowlist`.
    Allowlist(Vec<String>),
}

impl OverridePolicy {
    /// The worker's policy: Kafka's class names, simple names and aliases (`All`, `None`,
    /// `Principal`, `Allowlist`).
    pub fn parse(worker: &Props) -> Result<Self> {
        let Some(class) = worker.get(POLICY).map(|c| c.trim()) else {
            return Ok(Self::All);
        };
        let alias = class.strip_prefix(PACKAGE).unwrap_or(class);
        let alias = alias.strip_suffix(SUFFIX).unwrap_or(alias);
        let known = !class.contains('.') || class.starts_with(PACKAGE);
        Ok(match alias {
            "All" if known => Self::All,
            "None" if known => Self::None,
            "Principal" if known => {
                tracing::warn!(
                    "The Principal ConnectorClientConfigOverridePolicy is deprecated, use the Allowlist policy instead. To replicate the Principal policy behavior, set the {ALLOWLIST} configuration to \"{}\"",
                    PRINCIPAL_KEYS.join(",")
                );
                Self::Principal
            }
            "Allowlist" if known => Self::Allowlist(
                worker
                    .get(ALLOWLIST)
                    .map(|l| {
                        l.split(',')
                            .map(str::trim)
                            .filter(|k| !k.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => {
                return Err(EngineError::Worker {
                    key: POLICY.into(),
                    message: format!(
                        "Invalid value {class} for configuration {POLICY}: Class {class} could not be found."
                    ),
                });
            }
        })
    }

    fn name(&self) -> &'static str {
        match self {
            Self::All => "All",
            Self::None => "None",
            Self::Principal => "Principal",
            Self::Allowlist(_) => "Allowlist",
        }
    }

    fn allows(&self, client_key: &str) -> bool {
        match self {
            Self::All => true,
            Self::None => false,
            Self::Principal => PRINCIPAL_KEYS.contains(&client_key),
            Self::Allowlist(keys) => keys.iter().any(|k| k == client_key),
        }
    }

    /// Kafka's errors for the overrides under `prefix` (`consumer.override.`, ...) that the
    /// policy refuses, as (connector key, message), in key order.
    pub fn refusals(&self, props: &Props, prefix: &str) -> Vec<(String, String)> {
        props
            .keys()
            .filter_map(|k| Some((k, k.strip_prefix(prefix)?)))
            .filter(|(_, client)| !self.allows(client))
            .map(|(k, client)| {
                (
                    k.clone(),
                    format!(
                        "The '{}' policy does not allow '{client}' to be overridden in the connector configuration.",
                        self.name()
                    ),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(pairs: &[(&str, &str)]) -> Result<OverridePolicy> {
        OverridePolicy::parse(
            &pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn policies_by_class_name_and_alias() {
        assert_eq!(policy(&[]).unwrap(), OverridePolicy::All);
        assert_eq!(policy(&[(POLICY, "None")]).unwrap(), OverridePolicy::None);
        assert_eq!(
            policy(&[(POLICY, "org.apache.kafka.connect.connector.policy.PrincipalConnectorClientConfigOverridePolicy")]).unwrap(),
            OverridePolicy::Principal
        );
        assert_eq!(
            policy(&[
                (POLICY, "AllowlistConnectorClientConfigOverridePolicy"),
                (ALLOWLIST, "client.id, max.poll.records")
            ])
            .unwrap(),
            OverridePolicy::Allowlist(vec!["client.id".into(), "max.poll.records".into()])
        );
        let e = policy(&[(POLICY, "com.example.Mine")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Class com.example.Mine could not be found"),
            "{e}"
        );
    }

    #[test]
    fn refusals_carry_kafkas_message() {
        let props: Props = [
            ("consumer.override.max.poll.records", "10"),
            ("consumer.override.sasl.mechanism", "PLAIN"),
            ("producer.override.acks", "1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let p = OverridePolicy::Principal;
        assert_eq!(
            p.refusals(&props, "consumer.override."),
            [(
                "consumer.override.max.poll.records".to_string(),
                "The 'Principal' policy does not allow 'max.poll.records' to be overridden in the connector configuration.".to_string()
            )]
        );
        assert!(
            OverridePolicy::All
                .refusals(&props, "consumer.override.")
                .is_empty()
        );
        let allow = OverridePolicy::Allowlist(vec!["acks".into()]);
        assert!(allow.refusals(&props, "producer.override.").is_empty());
        assert_eq!(
            OverridePolicy::None
                .refusals(&props, "consumer.override.")
                .len(),
            2
        );
    }
}
