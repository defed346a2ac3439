//! The schema-lookup interface that converters of Schema Registry data (Confluent's wire
//! format: magic byte, 4-byte schema id, body) ask, and the in-process `mock://<scope>`
//! registry Confluent's serializers offer for tests. Codecs do no I/O: an HTTP client of a
//! real registry implements [`SchemaRegistry`] outside this crate and is installed with
//! [`set_client_factory`].

pub mod serde;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// `schemaType` of a registered schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaKind {
    Avro,
    Protobuf,
    Json,
}

impl SchemaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaKind::Avro => "AVRO",
            SchemaKind::Protobuf => "PROTOBUF",
            SchemaKind::Json => "JSON",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "AVRO" => SchemaKind::Avro,
            "PROTOBUF" => SchemaKind::Protobuf,
            "JSON" => SchemaKind::Json,
            _ => return None,
        })
    }
}

/// One version of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectVersion {
    pub subject: String,
    pub version: i32,
    pub id: i32,
    pub kind: SchemaKind,
    /// The schema's canonical text.
    pub schema: String,
}

/// What a registry answers when it cannot serve a request (Confluent's
/// `RestClientException`, or the connection failing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("Subject Not Found; error code: 40401")]
    SubjectNotFound { subject: String },
    #[error("Schema Not Found; error code: 40403")]
    SchemaNotFound { id: Option<i32> },
    #[error("Version Not Found; error code: 40402")]
    VersionNotFound { subject: String },
    #[error("{message}; error code: {code}")]
    Rest {
        status: u16,
        code: i32,
        message: String,
    },
    /// The client's settings cannot work (an unsupported URL scheme or credential source).
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Io(String),
}

/// A Schema Registry as a converter needs it. Schema texts are canonical strings; two schemas
/// are the same when their canonical strings are.
pub trait SchemaRegistry: Send + Sync + fmt::Debug {
    /// `getSchemaBySubjectAndId`: the schema registered under `id`.
    fn schema_by_id(&self, id: i32) -> Result<(SchemaKind, String), RegistryError>;
    /// `getVersion(subject, schema)`; `None` when the subject exists but lacks the schema
    /// and the registry answers that with no version (Confluent's mock client does).
    fn version(
        &self,
        subject: &str,
        kind: SchemaKind,
        schema: &str,
    ) -> Result<Option<i32>, RegistryError>;
    /// `register(subject, schema)`: its id, registering a new version when the subject does
    /// not have it.
    fn register(&self, subject: &str, kind: SchemaKind, schema: &str)
    -> Result<i32, RegistryError>;
    /// `getId(subject, schema)` without registering.
    fn id(&self, subject: &str, kind: SchemaKind, schema: &str) -> Result<i32, RegistryError>;
    /// `getLatestSchemaMetadata(subject)`.
    fn latest(&self, subject: &str) -> Result<SubjectVersion, RegistryError>;
    /// Every subject version held, sorted by subject then version.
    fn contents(&self) -> Vec<SubjectVersion>;
}

/// Confluent's `MockSchemaRegistryClient` semantics: ids from one counter over distinct
/// schemas, an equal schema reuses its id, versions per subject, no compatibility checks.
#[derive(Debug, Default)]
pub struct MockRegistry {
    entries: Mutex<Vec<SubjectVersion>>,
}

impl MockRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SubjectVersion>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds an entry as is (seeding a registry with a known state).
    pub fn insert(&self, entry: SubjectVersion) {
        let mut e = self.lock();
        e.retain(|x| !(x.subject == entry.subject && x.version == entry.version));
        e.push(entry);
    }

    pub fn clear(&self) {
        self.lock().clear();
    }
}

impl SchemaRegistry for MockRegistry {
    fn schema_by_id(&self, id: i32) -> Result<(SchemaKind, String), RegistryError> {
        self.lock()
            .iter()
            .find(|e| e.id == id)
            .map(|e| (e.kind, e.schema.clone()))
            .ok_or(RegistryError::SubjectNotFound {
                subject: String::new(),
            })
    }

    fn version(
        &self,
        subject: &str,
        _kind: SchemaKind,
        schema: &str,
    ) -> Result<Option<i32>, RegistryError> {
        let e = self.lock();
        if !e.iter().any(|x| x.subject == subject) {
            return Err(RegistryError::SubjectNotFound {
                subject: subject.to_string(),
            });
        }
        Ok(e.iter()
            .find(|x| x.subject == subject && x.schema == schema)
            .map(|x| x.version))
    }

    fn register(
        &self,
        subject: &str,
        kind: SchemaKind,
        schema: &str,
    ) -> Result<i32, RegistryError> {
        let mut e = self.lock();
        // The mock keys its subject's schemas by `ParsedSchema.equals`: for Avro, structural
        // equality with properties in any order.
        if let Some(x) = e
            .iter()
            .find(|x| x.subject == subject && x.schema == schema)
        {
            return Ok(x.id);
        }
        let parsed = (kind == SchemaKind::Avro)
            .then(|| crate::avro::AvroSchema::parse(schema).ok())
            .flatten();
        let same = |x: &SubjectVersion| {
            x.kind == kind
                && parsed.as_ref().is_some_and(|p| {
                    crate::avro::AvroSchema::parse(&x.schema).is_ok_and(|q| p.equivalent(&q))
                })
        };
        if let Some(x) = e.iter().find(|x| x.subject == subject && same(x)) {
            return Ok(x.id);
        }
        let id = e
            .iter()
            .find(|x| x.schema == schema)
            .map(|x| x.id)
            .unwrap_or_else(|| e.iter().map(|x| x.id).max().unwrap_or(0) + 1);
        let version = e
            .iter()
            .filter(|x| x.subject == subject)
            .map(|x| x.version)
            .max()
            .unwrap_or(0)
            + 1;
        e.push(SubjectVersion {
            subject: subject.to_string(),
            version,
            id,
            kind,
            schema: schema.to_string(),
        });
        Ok(id)
    }

    fn id(&self, subject: &str, _kind: SchemaKind, schema: &str) -> Result<i32, RegistryError> {
        let e = self.lock();
        if !e.iter().any(|x| x.subject == subject) {
            return Err(RegistryError::SubjectNotFound {
                subject: subject.to_string(),
            });
        }
        e.iter()
            .find(|x| x.subject == subject && x.schema == schema)
            .map(|x| x.id)
            .ok_or(RegistryError::SchemaNotFound { id: None })
    }

    fn latest(&self, subject: &str) -> Result<SubjectVersion, RegistryError> {
        self.lock()
            .iter()
            .filter(|x| x.subject == subject)
            .max_by_key(|x| x.version)
            .cloned()
            .ok_or(RegistryError::SubjectNotFound {
                subject: subject.to_string(),
            })
    }

    fn contents(&self) -> Vec<SubjectVersion> {
        let mut e = self.lock().clone();
        e.sort_by(|a, b| (&a.subject, a.version).cmp(&(&b.subject, b.version)));
        e
    }
}

/// The registry named by `mock://<scope>`: one per scope per process, shared by every
/// converter naming it.
pub fn mock_scope(scope: &str) -> Arc<MockRegistry> {
    static SCOPES: OnceLock<Mutex<HashMap<String, Arc<MockRegistry>>>> = OnceLock::new();
    SCOPES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(scope.to_string())
        .or_default()
        .clone()
}

/// Builds a client for real registry URLs from a converter's (un-prefixed) settings.
pub type ClientFactory = dyn Fn(&[String], &HashMap<String, String>) -> Result<Arc<dyn SchemaRegistry>, RegistryError>
    + Send
    + Sync;

static CLIENT_FACTORY: OnceLock<Box<ClientFactory>> = OnceLock::new();

/// Installs the process's client for `http(s)://` registries (once; later calls are ignored).
pub fn set_client_factory(factory: Box<ClientFactory>) {
    let _ = CLIENT_FACTORY.set(factory);
}

/// The registry `schema.registry.url` names: a `mock://` scope, or a client from the installed
/// factory.
pub fn resolve(
    urls: &[String],
    props: &HashMap<String, String>,
) -> Result<Arc<dyn SchemaRegistry>, RegistryError> {
    if let Some(scope) = urls.first().and_then(|u| u.strip_prefix("mock://")) {
        return Ok(mock_scope(scope));
    }
    match CLIENT_FACTORY.get() {
        Some(f) => f(urls, props),
        None => Err(RegistryError::Config(format!(
            "no Schema Registry client in this process for {}",
            urls.join(",")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_ids_versions_and_reuse() {
        let r = MockRegistry::new();
        assert_eq!(r.register("a-value", SchemaKind::Avro, "\"int\""), Ok(1));
        assert_eq!(r.register("b-value", SchemaKind::Avro, "\"int\""), Ok(1));
        assert_eq!(r.register("a-value", SchemaKind::Avro, "\"long\""), Ok(2));
        assert_eq!(r.register("a-value", SchemaKind::Avro, "\"int\""), Ok(1));
        assert_eq!(
            r.version("a-value", SchemaKind::Avro, "\"long\""),
            Ok(Some(2))
        );
        assert_eq!(r.latest("a-value").map(|v| v.id), Ok(2));
        assert!(r.version("c-value", SchemaKind::Avro, "\"int\"").is_err());
        assert_eq!(r.contents().len(), 3);
    }
}
