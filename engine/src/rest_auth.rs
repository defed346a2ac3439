//! Kafka's basic-auth REST extension (`BasicAuthSecurityRestExtension`): a JAAS file's
//! `KafkaConnect` entry names a `PropertyFileLoginModule` users file (`user=password`); every
//! request but the internal task-config POST needs those credentials, checked in constant
//! time, or is answered 401 with Kafka's body.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::Props;
use crate::error::{EngineError, Result};

pub const REST_EXTENSION_CLASSES: &str = "rest.extension.classes";
const BASIC_AUTH_EXTENSION: &str =
    "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension";
const PROPERTY_FILE_MODULE: &str =
    "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule";
const JAAS_PROPERTY: &str = "-Djava.security.auth.login.config=";

/// The users the REST API lets in.
#[derive(Clone)]
pub struct BasicAuth {
    users: Arc<BTreeMap<String, String>>,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the passwords.
        f.debug_struct("BasicAuth")
            .field("users", &self.users.len())
            .finish()
    }
}

impl BasicAuth {
    /// The extension, when `rest.extension.classes` names it: the JAAS file from
    /// `SLUICE_JAAS_CONFIG`, or `-Djava.security.auth.login.config=` in `KAFKA_OPTS`, as
    /// Kafka's scripts pass it.
    pub fn from_worker(props: &Props) -> Result<Option<Self>> {
        let err = |message: String| EngineError::Worker {
            key: REST_EXTENSION_CLASSES.into(),
            message: if message.contains(REST_EXTENSION_CLASSES) {
                message
            } else {
                format!("{REST_EXTENSION_CLASSES}: {message}")
            },
        };
        let Some(classes) = props.get(REST_EXTENSION_CLASSES) else {
            return Ok(None);
        };
        let mut wanted = false;
        for class in classes.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if class == BASIC_AUTH_EXTENSION || class == "BasicAuthSecurityRestExtension" {
                wanted = true;
            } else {
                return Err(err(format!(
                    "Invalid value {class} for configuration {REST_EXTENSION_CLASSES}: Class {class} could not be found."
                )));
            }
        }
        if !wanted {
            return Ok(None);
        }
        let jaas = std::env::var("SLUICE_JAAS_CONFIG")
            .ok()
            .or_else(|| {
                std::env::var("KAFKA_OPTS").ok().and_then(|opts| {
                    opts.split_whitespace()
                        .find_map(|o| o.strip_prefix(JAAS_PROPERTY).map(str::to_string))
                })
            })
            .ok_or_else(|| {
                err(format!("{BASIC_AUTH_EXTENSION} needs a JAAS file: set SLUICE_JAAS_CONFIG, or {JAAS_PROPERTY}PATH in KAFKA_OPTS"))
            })?;
        let jaas = PathBuf::from(jaas.trim_matches('"'));
        let text = std::fs::read_to_string(&jaas)
            .map_err(|e| err(format!("cannot read the JAAS file {}: {e}", jaas.display())))?;
        let users_file =
            users_file(&text).map_err(|m| err(format!("JAAS file {}: {m}", jaas.display())))?;
        let users = std::fs::read_to_string(&users_file).map_err(|e| {
            err(format!(
                "cannot read the users file {}: {e}",
                users_file.display()
            ))
        })?;
        Ok(Some(Self {
            users: Arc::new(crate::properties::parse(&users)),
        }))
    }

    /// Whether an `Authorization` header names a user with that password.
    fn admits(&self, authorization: Option<&HeaderValue>) -> bool {
        let Some((user, password)) = authorization
            .and_then(|h| h.to_str().ok())
            .and_then(credentials)
        else {
            return false;
        };
        let expected = self.users.get(&user);
        // Compared in full even for an unknown user, so timing tells nothing.
        let reference = expected.map_or("", String::as_str);
        constant_time_eq(reference.as_bytes(), password.as_bytes()) && expected.is_some()
    }
}

/// The `file` option of the `KafkaConnect` entry's `PropertyFileLoginModule`.
fn users_file(jaas: &str) -> std::result::Result<PathBuf, String> {
    let start = jaas.find("KafkaConnect").ok_or("no KafkaConnect entry")?;
    let body = &jaas[start..];
    let open = body.find('{').ok_or("the KafkaConnect entry has no '{'")?;
    let close = body.find('}').ok_or("the KafkaConnect entry has no '}'")?;
    let entry = body[open + 1..close].trim();
    let module = entry.split_whitespace().next().unwrap_or_default();
    if module != PROPERTY_FILE_MODULE {
        return Err(format!(
            "login module {module} is not supported (only {PROPERTY_FILE_MODULE})"
        ));
    }
    let at = entry
        .find("file")
        .ok_or("the login module has no file option")?;
    let value = entry[at + 4..]
        .trim_start()
        .strip_prefix('=')
        .ok_or("file option without '='")?;
    let value = value.trim_start();
    let path = match value.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next().unwrap_or_default(),
        None => value
            .split(|c: char| c.is_whitespace() || c == ';')
            .next()
            .unwrap_or_default(),
    };
    if path.is_empty() {
        return Err("the file option is empty".into());
    }
    Ok(PathBuf::from(path))
}

/// `Basic base64(user:password)`, as Kafka's `BasicAuthCallBackHandler` reads it.
fn credentials(header: &str) -> Option<(String, String)> {
    let (method, rest) = header.split_once(' ')?;
    if !method.eq_ignore_ascii_case("basic") || method.is_empty() {
        return None;
    }
    let decoded = sluice_codecs::json::connect::base64_decode(rest.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    (!user.is_empty()).then(|| (user.to_string(), password.to_string()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

/// The middleware: Kafka skips authentication for the internal `POST /connectors/{c}/tasks`.
pub async fn require(auth: BasicAuth, request: Request, next: Next) -> Response {
    let path = request.uri().path().trim_start_matches('/');
    let internal = request.method() == Method::POST && {
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        parts.len() == 3 && parts[0] == "connectors" && parts[2] == "tasks"
    };
    if internal || auth.admits(request.headers().get(header::AUTHORIZATION)) {
        return next.run(request).await;
    }
    tracing::debug!("REST request failed authentication");
    let mut response =
        (StatusCode::UNAUTHORIZED, "User cannot access the resource.").into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"KafkaConnect\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaas_entry_and_credentials() {
        let jaas = "KafkaConnect {\n  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required\n  file=\"/etc/connect/users.properties\";\n};\n";
        assert_eq!(
            users_file(jaas).unwrap(),
            PathBuf::from("/etc/connect/users.properties")
        );
        assert!(users_file("KafkaConnect { com.example.Other required; };").is_err());
        assert_eq!(
            credentials("Basic YWxpY2U6czNjcjN0"),
            Some(("alice".into(), "s3cr3t".into()))
        );
        assert_eq!(credentials("Bearer abc"), None);
        assert_eq!(credentials("Basic OnB3"), None, "no user before the colon");
        let auth = BasicAuth {
            users: Arc::new(BTreeMap::from([(
                "alice".to_string(),
                "s3cr3t".to_string(),
            )])),
        };
        let h = |s: &str| HeaderValue::from_str(s).unwrap();
        assert!(auth.admits(Some(&h("Basic YWxpY2U6czNjcjN0"))));
        assert!(
            !auth.admits(Some(&h("Basic YWxpY2U6czNjcjN4"))),
            "wrong password"
        );
        assert!(
            !auth.admits(Some(&h("Basic Ym9iOg=="))),
            "unknown user, empty password"
        );
        assert!(!auth.admits(None));
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abcd"));
    }
}
