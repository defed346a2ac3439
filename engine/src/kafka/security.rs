//! Kafka's Java client security keys turned into librdkafka's: `security.protocol`,
//! `sasl.mechanism` and `sasl.jaas.config` (Plain, SCRAM and OAuthBearer login modules),
//! and Java keystores and truststores (JKS by the `jks` crate, PKCS12 by OpenSSL, PEM files
//! or inline PEM) read into PEM.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// The login modules `sasl.jaas.config` may name.
const PLAIN_MODULE: &str = "org.apache.kafka.common.security.plain.PlainLoginModule";
const SCRAM_MODULE: &str = "org.apache.kafka.common.security.scram.ScramLoginModule";
const OAUTH_MODULE: &str = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule";

/// Java-only TLS and SASL settings with nothing to set in librdkafka (JVM providers and
/// factories): dropped with a warning rather than failing the client.
const JAVA_ONLY: &[&str] = &[
    "ssl.keymanager.algorithm",
    "ssl.trustmanager.algorithm",
    "ssl.secure.random.implementation",
    "ssl.provider",
    "ssl.engine.factory.class",
    "ssl.protocol",
    "ssl.enabled.protocols",
    "sasl.login.class",
    "sasl.client.callback.handler.class",
    "sasl.login.refresh.window.factor",
    "sasl.login.refresh.window.jitter",
    "sasl.login.refresh.min.period.seconds",
    "sasl.login.refresh.buffer.seconds",
];

/// A security setting that cannot be applied, naming the key and the cause.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("Invalid value {value} for configuration {key}: {reason}")]
    Invalid {
        key: &'static str,
        value: String,
        reason: String,
    },
    #[error("{key}: cannot read {path}: {source}")]
    Read {
        key: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{key}: {path} is not a readable {kind} store with this password ({cause})")]
    Store {
        key: &'static str,
        path: String,
        kind: String,
        cause: String,
    },
    #[error(
        "sasl.jaas.config: login module {module} is not supported (use {PLAIN_MODULE}, {SCRAM_MODULE} or {OAUTH_MODULE})"
    )]
    LoginModule { module: String },
    #[error("sasl.jaas.config: {reason}")]
    Jaas { reason: String },
}

impl SecurityError {
    /// The configuration key the error is about.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Invalid { key, .. } | Self::Read { key, .. } | Self::Store { key, .. } => key,
            Self::LoginModule { .. } | Self::Jaas { .. } => "sasl.jaas.config",
        }
    }
}

/// The first error of a client that retrying cannot fix (a TLS handshake refused, failed
/// authentication): librdkafka would retry it forever, so the task fails with it instead.
#[derive(Debug, Clone, Default)]
pub struct ClientFailure(Arc<Mutex<Option<String>>>);

impl ClientFailure {
    /// Records `error` if it is such an error; whether it was.
    pub fn observe(&self, error: &KafkaError, reason: &str) -> bool {
        let fatal = matches!(
            error,
            KafkaError::Global(
                RDKafkaErrorCode::SSL
                    | RDKafkaErrorCode::Authentication
                    | RDKafkaErrorCode::SaslAuthenticationFailed
                    | RDKafkaErrorCode::UnsupportedSASLMechanism
                    | RDKafkaErrorCode::IllegalSASLState
            )
        );
        if fatal {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert_with(|| reason.to_string());
        }
        fatal
    }

    pub fn take(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// Whether `key` is a Java client TLS/SASL setting (what [`translate`] turns into librdkafka's).
pub fn is_security_key(key: &str) -> bool {
    key.starts_with("ssl.") || key.starts_with("sasl.") || key == "security.protocol"
}

/// The TLS/SASL settings among `props` (a worker's own, unprefixed ones).
pub fn security_settings(props: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    props
        .iter()
        .filter(|(k, _)| is_security_key(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// librdkafka settings for the Java client settings `java` (already layered: worker, then
/// prefixed client keys, then connector overrides): security keys translated, every other
/// key passed through as it is.
pub fn translate(java: &BTreeMap<String, String>) -> Result<Vec<(String, String)>, SecurityError> {
    let get = |k: &str| java.get(k).map(String::as_str);
    let mut out: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: String| out.push((k.to_string(), v));
    for (k, v) in java.iter().filter(|(k, _)| !is_security_key(k)) {
        set(k, v.clone());
    }
    if let Some(p) = get("security.protocol") {
        let upper = p.trim().to_ascii_uppercase();
        if !["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"].contains(&upper.as_str()) {
            return Err(SecurityError::Invalid {
                key: "security.protocol",
                value: p.to_string(),
                reason: format!(
                    "No enum constant org.apache.kafka.common.security.auth.SecurityProtocol.{upper}"
                ),
            });
        }
        set("security.protocol", upper);
    }
    if let Some(m) = get("sasl.mechanism") {
        set("sasl.mechanisms", m.trim().to_string());
    }
    for key in [
        "sasl.kerberos.service.name",
        "sasl.kerberos.kinit.cmd",
        "sasl.kerberos.min.time.before.relogin",
    ] {
        if let Some(v) = get(key) {
            set(key, v.to_string());
        }
    }
    if let Some(jaas) = get("sasl.jaas.config") {
        for (k, v) in login_settings(jaas, java)? {
            set(k, v);
        }
    }
    if let Some(v) = get("ssl.endpoint.identification.algorithm") {
        let v = v.trim();
        let mapped = match v.to_ascii_lowercase().as_str() {
            "" => "none",
            "https" => "https",
            _ => {
                return Err(SecurityError::Invalid {
                    key: "ssl.endpoint.identification.algorithm",
                    value: v.to_string(),
                    reason: "only https (the default) or an empty value is supported".into(),
                });
            }
        };
        set("ssl.endpoint.identification.algorithm", mapped.to_string());
    }
    if let Some(v) = get("ssl.cipher.suites").filter(|v| !v.trim().is_empty()) {
        set("ssl.cipher.suites", openssl_cipher_list(v));
    }
    for (k, v) in truststore(java)?.into_iter().chain(keystore(java)?) {
        set(k, v);
    }
    for k in JAVA_ONLY {
        if java.contains_key(*k) {
            tracing::warn!(
                "{k} is a Java TLS/SASL setting librdkafka has no equivalent of; ignored"
            );
        }
    }
    Ok(out)
}

/// `sasl.jaas.config`: one login module with `key="value"` options, ended by `;`.
fn login_settings(
    jaas: &str,
    java: &BTreeMap<String, String>,
) -> Result<Vec<(&'static str, String)>, SecurityError> {
    let (module, options) = parse_jaas(jaas)?;
    let opt = |k: &str| options.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let required = |k: &str| {
        opt(k).ok_or_else(|| SecurityError::Jaas {
            reason: format!("{module} needs the option {k}"),
        })
    };
    Ok(match module.as_str() {
        PLAIN_MODULE | SCRAM_MODULE => vec![
            ("sasl.username", required("username")?),
            ("sasl.password", required("password")?),
        ],
        OAUTH_MODULE => {
            if let Some(url) = java.get("sasl.oauthbearer.token.endpoint.url") {
                // librdkafka runs the OIDC client-credentials flow only when built with
                // libcurl; this build is not, so the flow is refused rather than half-set.
                return Err(SecurityError::Invalid {
                    key: "sasl.oauthbearer.token.endpoint.url",
                    value: url.clone(),
                    reason: "the OIDC client-credentials flow is not built into this sluice (librdkafka without libcurl); use an unsecured JWS or SASL/SCRAM".into(),
                });
            } else {
                // Kafka's unsecured JWS: `unsecuredLoginStringClaim_sub` names the principal.
                let mut config =
                    format!("principal={}", required("unsecuredLoginStringClaim_sub")?);
                if let Some(scope) = opt("unsecuredLoginListClaim_scope") {
                    config.push_str(&format!(" scope={scope}"));
                }
                if let Some(life) = opt("unsecuredLoginLifetimeSeconds") {
                    config.push_str(&format!(" lifeSeconds={life}"));
                }
                for (k, v) in &options {
                    if let Some(ext) = k.strip_prefix("unsecuredLoginExtension_") {
                        config.push_str(&format!(" extension_{ext}={v}"));
                    }
                }
                vec![
                    ("enable.sasl.oauthbearer.unsecure.jwt", "true".to_string()),
                    ("sasl.oauthbearer.config", config),
                ]
            }
        }
        _ => return Err(SecurityError::LoginModule { module }),
    })
}

/// The module class and options of a JAAS entry (`Module required a="x" b=y;`).
fn parse_jaas(text: &str) -> Result<(String, Vec<(String, String)>), SecurityError> {
    let bad = |reason: &str| SecurityError::Jaas {
        reason: reason.to_string(),
    };
    let text = text.trim();
    let body = text
        .strip_suffix(';')
        .ok_or_else(|| bad("the login module entry must end with ';'"))?;
    let mut rest = body.trim_start();
    let module_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let module = rest[..module_end].to_string();
    rest = rest[module_end..].trim_start();
    let flag_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let flag = &rest[..flag_end];
    if !["required", "requisite", "sufficient", "optional"]
        .contains(&flag.to_ascii_lowercase().as_str())
    {
        return Err(bad(&format!(
            "expected a control flag (required, requisite, sufficient or optional) after {module}"
        )));
    }
    rest = &rest[flag_end..];
    let mut options = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let eq = rest
            .find('=')
            .ok_or_else(|| bad(&format!("option without '=' near {rest}")))?;
        let name = rest[..eq].trim().to_string();
        rest = rest[eq + 1..].trim_start();
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = quoted.char_indices();
            let end = loop {
                match chars.next() {
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => {
                        if let Some((_, c)) = chars.next() {
                            v.push(c);
                        }
                    }
                    Some((_, c)) => v.push(c),
                    None => return Err(bad(&format!("unterminated quoted value of {name}"))),
                }
            };
            rest = &quoted[end + 1..];
            v
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let v = rest[..end].to_string();
            rest = &rest[end..];
            v
        };
        options.push((name, value));
    }
    Ok((module, options))
}

/// Java's IANA suite names (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`) are OpenSSL's names for
/// the common suites after this mapping; TLS 1.3 names are the same in both.
fn openssl_cipher_list(java: &str) -> String {
    java.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let Some(rest) = s.strip_prefix("TLS_") else {
                return s.to_string();
            };
            let Some((kx, cipher)) = rest.split_once("_WITH_") else {
                return s.to_string(); // TLS 1.3: TLS_AES_128_GCM_SHA256
            };
            let kx = match kx {
                "ECDHE_RSA" => "ECDHE-RSA",
                "ECDHE_ECDSA" => "ECDHE-ECDSA",
                "DHE_RSA" => "DHE-RSA",
                "RSA" => "",
                other => other,
            };
            let cipher = cipher
                .replace("AES_128_GCM", "AES128-GCM")
                .replace("AES_256_GCM", "AES256-GCM")
                .replace("AES_128_CBC", "AES128")
                .replace("AES_256_CBC", "AES256")
                .replace("CHACHA20_POLY1305", "CHACHA20-POLY1305")
                .replace('_', "-");
            if kx.is_empty() {
                cipher
            } else {
                format!("{kx}-{cipher}")
            }
        })
        .collect::<Vec<_>>()
        .join(":")
}

fn store_type(java: &BTreeMap<String, String>, key: &str, path: &str) -> String {
    java.get(key)
        .map(|t| t.trim().to_ascii_uppercase())
        .unwrap_or_else(|| {
            // Kafka's default is JKS; a `.pem` file is plainly PEM.
            if path.ends_with(".pem") {
                "PEM".into()
            } else {
                "JKS".into()
            }
        })
}

/// What a store holds: trusted certificates, and the first private key with its chain.
#[derive(Default)]
struct Store {
    trusted: Vec<Vec<u8>>,
    key: Option<(Vec<u8>, Vec<Vec<u8>>)>,
}

/// The keys a store's errors name: the truststore's or the keystore's.
struct StoreKeys {
    location: &'static str,
    password: &'static str,
}

const TRUSTSTORE: StoreKeys = StoreKeys {
    location: "ssl.truststore.location",
    password: "ssl.truststore.password",
};
const KEYSTORE: StoreKeys = StoreKeys {
    location: "ssl.keystore.location",
    password: "ssl.keystore.password",
};

/// Reads a JKS or PKCS12 store (certificates and keys as DER; a JKS key decrypted with
/// `key_password`).
fn load_store(
    keys: &StoreKeys,
    path: &str,
    kind: &str,
    password: &str,
    key_password: &str,
) -> Result<Store, SecurityError> {
    let password_key = keys.password;
    let bytes = std::fs::read(Path::new(path)).map_err(|source| SecurityError::Read {
        key: keys.location,
        path: path.to_string(),
        source,
    })?;
    let store_err = |key: &'static str, cause: String| SecurityError::Store {
        key,
        path: path.to_string(),
        kind: kind.to_string(),
        cause,
    };
    let mut out = Store::default();
    if kind == "PKCS12" {
        let parsed = openssl::pkcs12::Pkcs12::from_der(&bytes)
            .and_then(|p| p.parse2(password))
            .map_err(|e| {
                store_err(
                    password_key,
                    format!("wrong password or corrupt store: {e}"),
                )
            })?;
        let der = |c: &openssl::x509::X509Ref| {
            c.to_der()
                .map_err(|e| store_err(password_key, e.to_string()))
        };
        let mut others = Vec::new();
        if let Some(ca) = &parsed.ca {
            for c in ca {
                others.push(der(c)?);
            }
        }
        match (parsed.pkey, parsed.cert) {
            (Some(k), Some(cert)) => {
                let key = k
                    .private_key_to_pkcs8()
                    .map_err(|e| store_err(password_key, e.to_string()))?;
                let mut chain = vec![der(&cert)?];
                chain.extend(others);
                out.key = Some((key, chain));
            }
            (_, cert) => {
                if let Some(c) = cert {
                    out.trusted.push(der(&c)?);
                }
                out.trusted.extend(others);
            }
        }
        return Ok(out);
    }
    let mut store = jks::KeyStore::new();
    store
        .load(bytes.as_slice(), password.as_bytes())
        .map_err(|e| {
            store_err(
                password_key,
                match e {
                    jks::KeyStoreError::InvalidDigest => "wrong password or corrupt store".into(),
                    jks::KeyStoreError::InvalidMagic => "not a JKS file".into(),
                    other => other.to_string(),
                },
            )
        })?;
    let mut aliases = store.aliases();
    aliases.sort();
    for alias in aliases {
        if let Ok(e) = store.get_trusted_certificate_entry(&alias) {
            out.trusted.push(e.certificate.content);
        } else if out.key.is_none() && store.is_private_key_entry(&alias) {
            let e = store
                .get_private_key_entry(&alias, key_password.as_bytes())
                .map_err(|e| {
                    store_err(
                        "ssl.key.password",
                        format!("the key of {alias} cannot be read: {e}"),
                    )
                })?;
            let chain = e.certificate_chain.into_iter().map(|c| c.content).collect();
            out.key = Some((e.private_key, chain));
        }
    }
    Ok(out)
}

fn pem(label: &str, der: &[u8]) -> String {
    let mut b64 = Vec::new();
    sluice_codecs::json::connect::base64_encode(der, &mut b64);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn invalid_type(key: &'static str, value: &str) -> SecurityError {
    SecurityError::Invalid {
        key,
        value: value.to_string(),
        reason: "supported types are JKS, PKCS12 and PEM".into(),
    }
}

/// `ssl.truststore.*`: the certificates to trust, as `ssl.ca.location` or `ssl.ca.pem`.
fn truststore(
    java: &BTreeMap<String, String>,
) -> Result<Vec<(&'static str, String)>, SecurityError> {
    if let Some(pem_text) = java.get("ssl.truststore.certificates") {
        return Ok(vec![("ssl.ca.pem", pem_text.clone())]);
    }
    let Some(path) = java
        .get("ssl.truststore.location")
        .filter(|p| !p.is_empty())
    else {
        return Ok(Vec::new());
    };
    let kind = store_type(java, "ssl.truststore.type", path);
    match kind.as_str() {
        "PEM" => Ok(vec![("ssl.ca.location", path.clone())]),
        "JKS" | "PKCS12" => {
            let password = java
                .get("ssl.truststore.password")
                .map_or("", String::as_str);
            let store = load_store(&TRUSTSTORE, path, &kind, password, password)?;
            let mut certs: String = store
                .trusted
                .iter()
                .map(|c| pem("CERTIFICATE", c))
                .collect();
            if let Some((_, chain)) = &store.key {
                certs.extend(chain.iter().take(1).map(|c| pem("CERTIFICATE", c)));
            }
            if certs.is_empty() {
                return Err(SecurityError::Store {
                    key: TRUSTSTORE.location,
                    path: path.clone(),
                    kind,
                    cause: "it holds no certificate".into(),
                });
            }
            Ok(vec![("ssl.ca.pem", certs)])
        }
        _ => Err(invalid_type("ssl.truststore.type", &kind)),
    }
}

/// `ssl.keystore.*` and `ssl.key.password`: the client's key and certificate chain.
fn keystore(java: &BTreeMap<String, String>) -> Result<Vec<(&'static str, String)>, SecurityError> {
    let key_password = java.get("ssl.key.password").cloned();
    if let (Some(chain), Some(key)) = (
        java.get("ssl.keystore.certificate.chain"),
        java.get("ssl.keystore.key"),
    ) {
        let mut s = vec![
            ("ssl.certificate.pem", chain.clone()),
            ("ssl.key.pem", key.clone()),
        ];
        if let Some(p) = key_password {
            s.push(("ssl.key.password", p));
        }
        return Ok(s);
    }
    let Some(path) = java.get("ssl.keystore.location").filter(|p| !p.is_empty()) else {
        return Ok(Vec::new());
    };
    let kind = store_type(java, "ssl.keystore.type", path);
    match kind.as_str() {
        "PEM" => {
            // One file with the key (encrypted under ssl.key.password, if at all) and chain.
            let mut s = vec![
                ("ssl.key.location", path.clone()),
                ("ssl.certificate.location", path.clone()),
            ];
            if let Some(p) = key_password {
                s.push(("ssl.key.password", p));
            }
            Ok(s)
        }
        "JKS" | "PKCS12" => {
            let password = java.get("ssl.keystore.password").map_or("", String::as_str);
            // Java protects a JKS key with ssl.key.password, or else the store's password.
            let kp = key_password.as_deref().unwrap_or(password);
            let store = load_store(&KEYSTORE, path, &kind, password, kp)?;
            let (key, chain) = store.key.ok_or_else(|| SecurityError::Store {
                key: KEYSTORE.location,
                path: path.clone(),
                kind: kind.clone(),
                cause: "it holds no private key".into(),
            })?;
            Ok(vec![
                ("ssl.key.pem", pem("PRIVATE KEY", &key)),
                (
                    "ssl.certificate.pem",
                    chain.iter().map(|c| pem("CERTIFICATE", c)).collect(),
                ),
            ])
        }
        _ => Err(invalid_type("ssl.keystore.type", &kind)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn get<'a>(out: &'a [(String, String)], k: &str) -> Option<&'a str> {
        out.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn sasl_keys_and_login_modules() {
        let out = translate(&map(&[
            ("security.protocol", "sasl_ssl"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            (
                "sasl.jaas.config",
                r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="p\"w";"#,
            ),
            ("linger.ms", "5"),
        ]))
        .unwrap();
        assert_eq!(get(&out, "security.protocol"), Some("SASL_SSL"));
        assert_eq!(get(&out, "sasl.mechanisms"), Some("SCRAM-SHA-512"));
        assert_eq!(get(&out, "sasl.username"), Some("alice"));
        assert_eq!(get(&out, "sasl.password"), Some("p\"w"));
        assert_eq!(get(&out, "linger.ms"), Some("5"));
        assert_eq!(get(&out, "sasl.jaas.config"), None);

        let out = translate(&map(&[(
            "sasl.jaas.config",
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub=\"svc\";",
        )]))
        .unwrap();
        assert_eq!(get(&out, "sasl.oauthbearer.config"), Some("principal=svc"));
        assert_eq!(
            get(&out, "enable.sasl.oauthbearer.unsecure.jwt"),
            Some("true")
        );

        let e = translate(&map(&[(
            "sasl.jaas.config",
            "com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true;",
        )]))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains(
                "login module com.sun.security.auth.module.Krb5LoginModule is not supported"
            ),
            "{e}"
        );
        assert!(translate(&map(&[("security.protocol", "TLS")])).is_err());
        let e = translate(&map(&[(
            "sasl.jaas.config",
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"a\"",
        )]))
        .unwrap_err()
        .to_string();
        assert!(e.contains("must end with ';'"), "{e}");
    }

    #[test]
    fn endpoint_identification_and_ciphers() {
        let out = translate(&map(&[
            ("ssl.endpoint.identification.algorithm", ""),
            (
                "ssl.cipher.suites",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384",
            ),
        ]))
        .unwrap();
        assert_eq!(
            get(&out, "ssl.endpoint.identification.algorithm"),
            Some("none")
        );
        assert_eq!(
            get(&out, "ssl.cipher.suites"),
            Some("ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384")
        );
    }

    /// Stores made by the JDK's keytool and by openssl, read back into PEM.
    #[test]
    fn keytool_and_openssl_stores_read_into_pem() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let run = |cmd: &str, args: &[&str]| {
            let out = std::process::Command::new(cmd)
                .args(args)
                .current_dir(d)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{cmd} {args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(
            "openssl",
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "key.pem",
                "-out",
                "cert.pem",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
            ],
        );
        run(
            "openssl",
            &[
                "pkcs12",
                "-export",
                "-in",
                "cert.pem",
                "-inkey",
                "key.pem",
                "-out",
                "ks.p12",
                "-passout",
                "pass:storepw",
                "-name",
                "client",
            ],
        );
        run(
            "keytool",
            &[
                "-importkeystore",
                "-srckeystore",
                "ks.p12",
                "-srcstoretype",
                "PKCS12",
                "-srcstorepass",
                "storepw",
                "-destkeystore",
                "ks.jks",
                "-deststoretype",
                "JKS",
                "-deststorepass",
                "storepw",
                "-destkeypass",
                "keypass",
                "-noprompt",
            ],
        );
        for (file, kind) in [("ts.jks", "JKS"), ("ts.p12", "PKCS12")] {
            run(
                "keytool",
                &[
                    "-importcert",
                    "-noprompt",
                    "-alias",
                    "ca",
                    "-file",
                    "cert.pem",
                    "-keystore",
                    file,
                    "-storetype",
                    kind,
                    "-storepass",
                    "trustpw",
                ],
            );
        }
        let cert = std::fs::read_to_string(d.join("cert.pem")).unwrap();
        let p = |f: &str| d.join(f).display().to_string();
        for (file, kind) in [("ts.jks", "JKS"), ("ts.p12", "PKCS12")] {
            let out = translate(&map(&[
                ("ssl.truststore.location", &p(file)),
                ("ssl.truststore.type", kind),
                ("ssl.truststore.password", "trustpw"),
            ]))
            .unwrap();
            assert_eq!(
                get(&out, "ssl.ca.pem").map(str::trim),
                Some(cert.trim()),
                "{kind}"
            );
            let e = translate(&map(&[
                ("ssl.truststore.location", &p(file)),
                ("ssl.truststore.type", kind),
                ("ssl.truststore.password", "wrong"),
            ]))
            .unwrap_err()
            .to_string();
            assert!(e.starts_with("ssl.truststore.password: "), "{e}");
        }
        let out = translate(&map(&[
            ("ssl.keystore.location", &p("ks.jks")),
            ("ssl.keystore.password", "storepw"),
            ("ssl.key.password", "keypass"),
        ]))
        .unwrap();
        assert!(
            get(&out, "ssl.key.pem")
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        assert_eq!(
            get(&out, "ssl.certificate.pem").map(str::trim),
            Some(cert.trim())
        );
        let out = translate(&map(&[
            ("ssl.keystore.location", &p("ks.p12")),
            ("ssl.keystore.type", "PKCS12"),
            ("ssl.keystore.password", "storepw"),
        ]))
        .unwrap();
        assert_eq!(
            get(&out, "ssl.certificate.pem").map(str::trim),
            Some(cert.trim())
        );
        let e = translate(&map(&[
            ("ssl.keystore.location", &p("ks.p12")),
            ("ssl.keystore.type", "PKCS12"),
            ("ssl.keystore.password", "nope"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("ssl.keystore.password: "), "{e}");
        let e = translate(&map(&[
            ("ssl.keystore.location", &p("ks.jks")),
            ("ssl.keystore.password", "storepw"),
            ("ssl.key.password", "wrong"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("ssl.key.password: "), "{e}");
        let out = translate(&map(&[
            ("ssl.keystore.location", &p("key.pem")),
            ("ssl.keystore.type", "PEM"),
            ("ssl.truststore.location", &p("cert.pem")),
            ("ssl.truststore.type", "PEM"),
        ]))
        .unwrap();
        assert_eq!(get(&out, "ssl.key.location"), Some(p("key.pem").as_str()));
        assert_eq!(get(&out, "ssl.ca.location"), Some(p("cert.pem").as_str()));
    }
}
