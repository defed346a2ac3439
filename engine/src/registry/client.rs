//! The HTTP client of a Confluent-compatible Schema Registry, as converters configure it
//! (`schema.registry.url` with fail-over across URLs, `basic.auth.*`, `bearer.auth.*`,
//! `http.*.timeout.ms`), with id → schema and subject/schema → id/version caches. Requests
//! are blocking and rare: each schema is fetched once per converter.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value as Json, json};
use sluice_codecs::registry::{RegistryError, SchemaKind, SchemaRegistry, SubjectVersion};

/// Why one registry URL gave no HTTP answer; the client tries the next URL.
#[derive(Debug, thiserror::Error)]
enum TransportError {
    #[error("{authority}: {source}")]
    Io {
        authority: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{authority}: no address")]
    NoAddress { authority: String },
    #[error("{authority}: malformed HTTP {what}")]
    Malformed {
        authority: String,
        what: &'static str,
    },
}

/// One registry endpoint: `host:port` and the credentials its URL carries.
#[derive(Debug, Clone)]
struct Endpoint {
    authority: String,
    url_user_info: Option<String>,
}

#[derive(Debug)]
pub struct HttpRegistry {
    endpoints: Vec<Endpoint>,
    authorization: Option<String>,
    connect_timeout: Duration,
    read_timeout: Duration,
    by_id: Mutex<HashMap<i32, (SchemaKind, String)>>,
    ids: Mutex<HashMap<(String, String), i32>>,
    versions: Mutex<HashMap<(String, String), i32>>,
}

fn config_error(m: impl Into<String>) -> RegistryError {
    RegistryError::Config(m.into())
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn basic(user_info: &str) -> String {
    let mut out = Vec::new();
    sluice_codecs::json::connect::base64_encode(user_info.as_bytes(), &mut out);
    format!("Basic {}", String::from_utf8_lossy(&out))
}

impl HttpRegistry {
    /// From the converter's settings (un-prefixed).
    pub fn configure(
        urls: &[String],
        props: &HashMap<String, String>,
    ) -> Result<Self, RegistryError> {
        let mut endpoints = Vec::new();
        for url in urls {
            let rest = match url.split_once("://") {
                Some(("http", rest)) => rest,
                Some(("https", _)) => {
                    return Err(config_error(format!(
                        "schema.registry.url {url}: https registries are not supported yet (TLS to the registry is not built)"
                    )));
                }
                _ => {
                    return Err(config_error(format!(
                        "schema.registry.url {url}: expected http://host:port"
                    )));
                }
            };
            let authority_part = rest.split('/').next().unwrap_or(rest);
            let (user_info, authority) = match authority_part.rsplit_once('@') {
                Some((u, a)) => (Some(u.to_string()), a.to_string()),
                None => (None, authority_part.to_string()),
            };
            endpoints.push(Endpoint {
                authority,
                url_user_info: user_info,
            });
        }
        if endpoints.is_empty() {
            return Err(config_error("schema.registry.url names no registry"));
        }
        let get = |k: &str| props.get(k).map(|v| v.trim().to_string());
        let authorization = match get("bearer.auth.credentials.source").as_deref() {
            Some("STATIC_TOKEN") | None
                if get("bearer.auth.token").is_some_and(|t| !t.is_empty()) =>
            {
                get("bearer.auth.token").map(|t| format!("Bearer {t}"))
            }
            Some(other) if other != "STATIC_TOKEN" => {
                return Err(config_error(format!(
                    "bearer.auth.credentials.source {other} is not supported (STATIC_TOKEN is)"
                )));
            }
            _ => match get("basic.auth.credentials.source")
                .as_deref()
                .unwrap_or("URL")
            {
                "USER_INFO" => get("basic.auth.user.info")
                    .or_else(|| get("schema.registry.basic.auth.user.info"))
                    .filter(|u| !u.is_empty())
                    .map(|u| basic(&u)),
                "URL" => None,
                "SASL_INHERIT" => {
                    return Err(config_error(
                        "basic.auth.credentials.source SASL_INHERIT is not supported yet",
                    ));
                }
                other => {
                    return Err(config_error(format!(
                        "basic.auth.credentials.source {other}: expected URL, USER_INFO or SASL_INHERIT"
                    )));
                }
            },
        };
        let ms = |k: &str, d: u64| {
            get(k)
                .and_then(|v| v.parse::<u64>().ok())
                .map_or(Duration::from_millis(d), Duration::from_millis)
        };
        Ok(Self {
            endpoints,
            authorization,
            connect_timeout: ms("http.connect.timeout.ms", 60_000),
            read_timeout: ms("http.read.timeout.ms", 60_000),
            by_id: Mutex::default(),
            ids: Mutex::default(),
            versions: Mutex::default(),
        })
    }

    fn once(
        &self,
        ep: &Endpoint,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<(u16, Json), TransportError> {
        let io = |source| TransportError::Io {
            authority: ep.authority.clone(),
            source,
        };
        let addr = ep
            .authority
            .to_socket_addrs()
            .map_err(io)?
            .next()
            .ok_or_else(|| TransportError::NoAddress {
                authority: ep.authority.clone(),
            })?;
        let mut stream = TcpStream::connect_timeout(&addr, self.connect_timeout).map_err(io)?;
        stream
            .set_read_timeout(Some(self.read_timeout))
            .map_err(io)?;
        let auth = self
            .authorization
            .clone()
            .or_else(|| ep.url_user_info.as_deref().map(basic));
        let body = body.unwrap_or("");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/vnd.schemaregistry.v1+json\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n",
            ep.authority,
            body.len()
        );
        if let Some(a) = auth {
            req.push_str(&format!("Authorization: {a}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        stream.write_all(req.as_bytes()).map_err(io)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).map_err(io)?;
        let malformed = |what| TransportError::Malformed {
            authority: ep.authority.clone(),
            what,
        };
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| malformed("answer"))?;
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut payload = raw[split + 4..].to_vec();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| malformed("status line"))?;
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            payload = dechunk(&payload);
        }
        let json = serde_json::from_slice(&payload)
            .unwrap_or(Json::String(String::from_utf8_lossy(&payload).into_owned()));
        Ok((status, json))
    }

    /// A request against each URL in turn (then again, twice, after a pause) until one
    /// answers; 5xx and 429 answers count as not answering.
    fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Json>,
    ) -> Result<Json, RegistryError> {
        let body = body.map(Json::to_string);
        let mut last = String::new();
        for attempt in 0..3u32 {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(100 << attempt));
            }
            for ep in &self.endpoints {
                match self.once(ep, method, path, body.as_deref()) {
                    Ok((status, json)) if (200..300).contains(&status) => return Ok(json),
                    Ok((status, json)) if status >= 500 || status == 429 => {
                        last = format!("{status} {json}");
                    }
                    Ok((status, json)) => {
                        let code = json
                            .get("error_code")
                            .and_then(Json::as_i64)
                            .unwrap_or(i64::from(status)) as i32;
                        let message = json
                            .get("message")
                            .and_then(Json::as_str)
                            .unwrap_or_default()
                            .to_string();
                        return Err(RegistryError::Rest {
                            status,
                            code,
                            message,
                        });
                    }
                    Err(e) => last = e.to_string(),
                }
            }
        }
        Err(RegistryError::Io(format!(
            "no Schema Registry answered: {last}"
        )))
    }

    /// A (subject, schema) answer from `cache`, else from `fetch` (then kept).
    fn cached(
        &self,
        cache: &Mutex<HashMap<(String, String), i32>>,
        subject: &str,
        schema: &str,
        fetch: impl FnOnce() -> Result<i32, RegistryError>,
    ) -> Result<i32, RegistryError> {
        let key = (subject.to_string(), schema.to_string());
        if let Some(hit) = cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(*hit);
        }
        let found = fetch()?;
        cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, found);
        Ok(found)
    }

    fn schema_body(kind: SchemaKind, schema: &str) -> Json {
        let mut b = json!({"schema": schema});
        if kind != SchemaKind::Avro {
            b["schemaType"] = json!(kind.as_str());
        }
        b
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&b[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        let end = (start + size).min(b.len());
        out.extend_from_slice(&b[start..end]);
        b = b.get(end + 2..).unwrap_or(&[]);
    }
    out
}

fn kind_of(v: &Json) -> SchemaKind {
    v.get("schemaType")
        .and_then(Json::as_str)
        .and_then(SchemaKind::parse)
        .unwrap_or(SchemaKind::Avro)
}

fn int(v: &Json, k: &str) -> Result<i32, RegistryError> {
    v.get(k)
        .and_then(Json::as_i64)
        .map(|n| n as i32)
        .ok_or_else(|| RegistryError::Io(format!("registry answer without {k}: {v}")))
}

impl SchemaRegistry for HttpRegistry {
    fn schema_by_id(&self, id: i32) -> Result<(SchemaKind, String), RegistryError> {
        if let Some(hit) = self
            .by_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
        {
            return Ok(hit.clone());
        }
        let v = self.request("GET", &format!("/schemas/ids/{id}"), None)?;
        let schema = v
            .get("schema")
            .and_then(Json::as_str)
            .ok_or_else(|| RegistryError::Io(format!("registry answer without schema: {v}")))?
            .to_string();
        let found = (kind_of(&v), schema);
        self.by_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, found.clone());
        Ok(found)
    }

    fn version(
        &self,
        subject: &str,
        kind: SchemaKind,
        schema: &str,
    ) -> Result<Option<i32>, RegistryError> {
        let path = format!("/subjects/{}", percent_encode(subject));
        self.cached(&self.versions, subject, schema, || {
            let v = self.request("POST", &path, Some(&Self::schema_body(kind, schema)))?;
            int(&v, "version")
        })
        .map(Some)
    }

    fn register(
        &self,
        subject: &str,
        kind: SchemaKind,
        schema: &str,
    ) -> Result<i32, RegistryError> {
        let path = format!("/subjects/{}/versions", percent_encode(subject));
        self.cached(&self.ids, subject, schema, || {
            let v = self.request("POST", &path, Some(&Self::schema_body(kind, schema)))?;
            int(&v, "id")
        })
    }

    fn id(&self, subject: &str, kind: SchemaKind, schema: &str) -> Result<i32, RegistryError> {
        let path = format!("/subjects/{}", percent_encode(subject));
        self.cached(&self.ids, subject, schema, || {
            let v = self.request("POST", &path, Some(&Self::schema_body(kind, schema)))?;
            int(&v, "id")
        })
    }

    fn latest(&self, subject: &str) -> Result<SubjectVersion, RegistryError> {
        let v = self.request(
            "GET",
            &format!("/subjects/{}/versions/latest", percent_encode(subject)),
            None,
        )?;
        Ok(SubjectVersion {
            subject: subject.to_string(),
            version: int(&v, "version")?,
            id: int(&v, "id")?,
            kind: kind_of(&v),
            schema: v
                .get("schema")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string(),
        })
    }

    fn contents(&self) -> Vec<SubjectVersion> {
        let Ok(subjects) = self.request("GET", "/subjects", None) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for s in subjects
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
        {
            let path = format!("/subjects/{}/versions", percent_encode(s));
            let Ok(versions) = self.request("GET", &path, None) else {
                continue;
            };
            for n in versions
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Json::as_i64)
            {
                if let Ok(v) = self.request("GET", &format!("{path}/{n}"), None) {
                    out.push(SubjectVersion {
                        subject: s.to_string(),
                        version: n as i32,
                        id: int(&v, "id").unwrap_or(0),
                        kind: kind_of(&v),
                        schema: v
                            .get("schema")
                            .and_then(Json::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    });
                }
            }
        }
        out
    }
}
