//! The embedded registry's state: subjects with versions, schemas with global ids (one id per
//! distinct schema, shared across subjects), compatibility levels, soft and permanent
//! deletes. Every change is appended to a log and synced before it is answered, so a killed
//! registry restarts with every subject, version and id.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use serde_json::{Value as Json, json};
use sluice_codecs::avro::AvroSchema;
use sluice_codecs::registry::SchemaKind;

/// A failed request, with Confluent's HTTP status, error code and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (error code {code})")]
pub struct StoreError {
    pub status: u16,
    pub code: i32,
    pub message: String,
}

impl StoreError {
    fn new(status: u16, code: i32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn subject_not_found(subject: &str) -> Self {
        Self::new(404, 40401, format!("Subject '{subject}' not found."))
    }

    pub fn version_not_found(version: &str) -> Self {
        Self::new(404, 40402, format!("Version {version} not found."))
    }

    pub fn schema_not_found(id: Option<i32>) -> Self {
        match id {
            Some(id) => Self::new(404, 40403, format!("Schema {id} not found")),
            None => Self::new(404, 40403, "Schema not found"),
        }
    }

    pub fn invalid_schema(detail: &str) -> Self {
        Self::new(422, 42201, format!("Invalid schema {detail}"))
    }

    pub fn invalid_version(v: &str) -> Self {
        Self::new(
            422,
            42202,
            format!(
                "The specified version '{v}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
            ),
        )
    }

    pub fn invalid_compatibility() -> Self {
        Self::new(
            422,
            42203,
            "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive",
        )
    }

    pub fn body(&self) -> Json {
        json!({"error_code": self.code, "message": self.message})
    }
}

/// `compatibilityLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compatibility {
    None,
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
}

impl Compatibility {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().as_str() {
            "NONE" => Self::None,
            "BACKWARD" => Self::Backward,
            "BACKWARD_TRANSITIVE" => Self::BackwardTransitive,
            "FORWARD" => Self::Forward,
            "FORWARD_TRANSITIVE" => Self::ForwardTransitive,
            "FULL" => Self::Full,
            "FULL_TRANSITIVE" => Self::FullTransitive,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Backward => "BACKWARD",
            Self::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Self::Forward => "FORWARD",
            Self::ForwardTransitive => "FORWARD_TRANSITIVE",
            Self::Full => "FULL",
            Self::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    fn transitive(self) -> bool {
        matches!(
            self,
            Self::BackwardTransitive | Self::ForwardTransitive | Self::FullTransitive
        )
    }

    fn backward(self) -> bool {
        matches!(
            self,
            Self::Backward | Self::BackwardTransitive | Self::Full | Self::FullTransitive
        )
    }

    fn forward(self) -> bool {
        matches!(
            self,
            Self::Forward | Self::ForwardTransitive | Self::Full | Self::FullTransitive
        )
    }
}

/// One version of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub version: i32,
    pub id: i32,
    pub deleted: bool,
}

#[derive(Debug, Clone)]
pub struct StoredSchema {
    pub id: i32,
    pub kind: SchemaKind,
    /// Canonical text (Avro: `Schema.toString()`).
    pub schema: String,
}

#[derive(Debug, Default)]
struct State {
    schemas: Vec<StoredSchema>,
    subjects: BTreeMap<String, Vec<Version>>,
    global: Option<Compatibility>,
    per_subject: BTreeMap<String, Compatibility>,
}

/// The registry's store.
#[derive(Debug)]
pub struct Store {
    log: Option<Mutex<std::fs::File>>,
    state: Mutex<State>,
}

/// The canonical text a registry keeps for a schema of `kind`, or why it is invalid.
pub fn canonical(kind: SchemaKind, text: &str) -> Result<String, StoreError> {
    match kind {
        SchemaKind::Avro => AvroSchema::parse(text)
            .map(|s| s.canonical())
            .map_err(|e| StoreError::invalid_schema(&format!("{text}, details: {e}"))),
        SchemaKind::Json => serde_json::from_str::<Json>(text)
            .map(|_| text.to_string())
            .map_err(|e| StoreError::invalid_schema(&format!("{text}, details: {e}"))),
        SchemaKind::Protobuf => protobuf_text(text),
    }
}

/// A Protobuf schema as text: `.proto` text as given, or a base64 `FileDescriptorProto`
/// (what Confluent's Python and Go serializers register) printed as `.proto` text.
fn protobuf_text(text: &str) -> Result<String, StoreError> {
    use sluice_codecs::protobuf::{ProtoSchema, descriptor};
    let parsed = ProtoSchema::parse(text);
    if parsed.is_ok() {
        return Ok(text.to_string());
    }
    let from_descriptor = sluice_codecs::json::connect::base64_decode(text.trim())
        .ok_or_else(|| descriptor::DescriptorError("not base64".into()))
        .and_then(|bytes| descriptor::to_proto_text(&bytes));
    match from_descriptor {
        Ok(proto) => match ProtoSchema::parse(&proto) {
            Ok(_) => Ok(proto),
            Err(e) => Err(StoreError::invalid_schema(&format!("{text}, details: {e}"))),
        },
        Err(_) => {
            let e = parsed.err().map(|e| e.to_string()).unwrap_or_default();
            Err(StoreError::invalid_schema(&format!("{text}, details: {e}")))
        }
    }
}

fn same_schema(kind: SchemaKind, a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    kind == SchemaKind::Avro
        && matches!((AvroSchema::parse(a), AvroSchema::parse(b)), (Ok(x), Ok(y)) if x.equivalent(&y))
}

impl State {
    fn apply(&mut self, op: &Json) {
        let s = |k: &str| {
            op.get(k)
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let i = |k: &str| op.get(k).and_then(Json::as_i64).unwrap_or(0) as i32;
        match op.get("op").and_then(Json::as_str) {
            Some("register") => {
                let id = i("id");
                if !self.schemas.iter().any(|x| x.id == id) {
                    self.schemas.push(StoredSchema {
                        id,
                        kind: SchemaKind::parse(&s("schemaType")).unwrap_or(SchemaKind::Avro),
                        schema: s("schema"),
                    });
                }
                self.subjects
                    .entry(s("subject"))
                    .or_default()
                    .push(Version {
                        version: i("version"),
                        id,
                        deleted: false,
                    });
            }
            Some("delete") => {
                let subject = s("subject");
                let permanent = op.get("permanent").and_then(Json::as_bool).unwrap_or(false);
                let version = op.get("version").and_then(Json::as_i64).map(|v| v as i32);
                if let Some(versions) = self.subjects.get_mut(&subject) {
                    for v in versions.iter_mut() {
                        if version.is_none_or(|x| x == v.version) {
                            v.deleted = true;
                        }
                    }
                    if permanent {
                        versions.retain(|v| version.is_some_and(|x| x != v.version));
                    }
                    if versions.is_empty() {
                        self.subjects.remove(&subject);
                    }
                }
            }
            Some("config") => {
                let level = op
                    .get("compatibility")
                    .and_then(Json::as_str)
                    .and_then(Compatibility::parse);
                match op.get("subject").and_then(Json::as_str) {
                    Some(subject) => match level {
                        Some(l) => {
                            self.per_subject.insert(subject.to_string(), l);
                        }
                        None => {
                            self.per_subject.remove(subject);
                        }
                    },
                    None => self.global = level,
                }
            }
            _ => {}
        }
    }

    fn live(&self, subject: &str) -> Vec<&Version> {
        self.subjects
            .get(subject)
            .map(|v| v.iter().filter(|x| !x.deleted).collect())
            .unwrap_or_default()
    }

    fn schema(&self, id: i32) -> Option<&StoredSchema> {
        self.schemas.iter().find(|s| s.id == id)
    }
}

impl Store {
    /// An in-memory store (tests).
    pub fn in_memory() -> Self {
        Self {
            log: None,
            state: Mutex::new(State::default()),
        }
    }

    /// Opens (or creates) the store kept in `dir`, replaying its log.
    pub fn open(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("registry.log");
        let mut state = State::default();
        if let Ok(text) = std::fs::read_to_string(&path) {
            // A line cut short by a crash is the last one and was never acknowledged.
            for line in text.lines() {
                if let Ok(op) = serde_json::from_str::<Json>(line) {
                    state.apply(&op);
                }
            }
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        Ok(Self {
            log: Some(Mutex::new(file)),
            state: Mutex::new(state),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends and syncs a change, then applies it.
    fn commit(&self, state: &mut State, op: Json) -> Result<(), StoreError> {
        if let Some(log) = &self.log {
            let mut f = log.lock().unwrap_or_else(PoisonError::into_inner);
            let line = format!("{op}\n");
            f.write_all(line.as_bytes())
                .and_then(|()| f.sync_data())
                .map_err(|e| {
                    StoreError::new(500, 50001, format!("Error while storing the schema: {e}"))
                })?;
        }
        state.apply(&op);
        Ok(())
    }

    pub fn compatibility(&self, subject: Option<&str>) -> Option<Compatibility> {
        let s = self.lock();
        match subject {
            Some(subject) => s.per_subject.get(subject).copied(),
            None => Some(s.global.unwrap_or(Compatibility::Backward)),
        }
    }

    pub fn set_compatibility(
        &self,
        subject: Option<&str>,
        level: Option<Compatibility>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        self.commit(
            &mut s,
            json!({"op": "config", "subject": subject, "compatibility": level.map(Compatibility::as_str)}),
        )
    }

    fn effective(&self, s: &State, subject: &str) -> Compatibility {
        s.per_subject
            .get(subject)
            .copied()
            .or(s.global)
            .unwrap_or(Compatibility::Backward)
    }

    /// Why `schema` may not join `subject` under `level` (empty when it may).
    fn incompatibilities(
        s: &State,
        subject: &str,
        level: Compatibility,
        kind: SchemaKind,
        schema: &str,
    ) -> Vec<String> {
        if level == Compatibility::None || kind != SchemaKind::Avro {
            return Vec::new();
        }
        let Ok(new) = AvroSchema::parse(schema) else {
            return Vec::new();
        };
        let live = s.live(subject);
        let against: Vec<&&Version> = if level.transitive() {
            live.iter().collect()
        } else {
            live.last().into_iter().collect()
        };
        let mut problems = Vec::new();
        for v in against {
            let Some(old) = s
                .schema(v.id)
                .and_then(|x| AvroSchema::parse(&x.schema).ok())
            else {
                continue;
            };
            if level.backward() && !sluice_codecs::avro::compatibility::can_read(&new, &old) {
                problems.push(format!(
                    "{{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The new schema cannot read data written with version {}', additionalInfo:'BACKWARD'}}",
                    v.version
                ));
            }
            if level.forward() && !sluice_codecs::avro::compatibility::can_read(&old, &new) {
                problems.push(format!(
                    "{{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'Version {} cannot read data written with the new schema', additionalInfo:'FORWARD'}}",
                    v.version
                ));
            }
        }
        problems
    }

    /// `POST /subjects/{subject}/versions`: the schema's id (an existing version's when the
    /// subject has it).
    pub fn register(&self, subject: &str, kind: SchemaKind, text: &str) -> Result<i32, StoreError> {
        let schema = canonical(kind, text)?;
        let mut s = self.lock();
        if let Some(v) = s.live(subject).into_iter().find(|v| {
            s.schema(v.id)
                .is_some_and(|x| x.kind == kind && same_schema(kind, &x.schema, &schema))
        }) {
            return Ok(v.id);
        }
        let level = self.effective(&s, subject);
        let problems = Self::incompatibilities(&s, subject, level, kind, &schema);
        if !problems.is_empty() {
            return Err(StoreError::new(
                409,
                409,
                format!(
                    "Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{}]",
                    problems.join(", ")
                ),
            ));
        }
        let id = s
            .schemas
            .iter()
            .find(|x| x.kind == kind && x.schema == schema)
            .map(|x| x.id)
            .unwrap_or_else(|| s.schemas.iter().map(|x| x.id).max().unwrap_or(0) + 1);
        let version = s
            .subjects
            .get(subject)
            .and_then(|v| v.iter().map(|x| x.version).max())
            .unwrap_or(0)
            + 1;
        self.commit(
            &mut s,
            json!({"op": "register", "subject": subject, "version": version, "id": id,
                   "schemaType": kind.as_str(), "schema": schema}),
        )?;
        Ok(id)
    }

    /// `POST /subjects/{subject}`: the version of `subject` holding the schema.
    pub fn lookup(
        &self,
        subject: &str,
        kind: SchemaKind,
        text: &str,
    ) -> Result<(Version, StoredSchema), StoreError> {
        let schema = canonical(kind, text)?;
        let s = self.lock();
        let live = s.live(subject);
        if live.is_empty() {
            return Err(StoreError::subject_not_found(subject));
        }
        live.into_iter()
            .find_map(|v| {
                let x = s.schema(v.id)?;
                (x.kind == kind && same_schema(kind, &x.schema, &schema))
                    .then(|| (v.clone(), x.clone()))
            })
            .ok_or_else(|| StoreError::schema_not_found(None))
    }

    pub fn schema_by_id(&self, id: i32) -> Result<StoredSchema, StoreError> {
        self.lock()
            .schema(id)
            .cloned()
            .ok_or_else(|| StoreError::schema_not_found(Some(id)))
    }

    /// Subjects and versions using schema `id`.
    pub fn versions_of_id(&self, id: i32) -> Vec<(String, i32)> {
        let s = self.lock();
        s.subjects
            .iter()
            .flat_map(|(subject, vs)| {
                vs.iter()
                    .filter(|v| v.id == id && !v.deleted)
                    .map(|v| (subject.clone(), v.version))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    pub fn subjects(&self) -> Vec<String> {
        let s = self.lock();
        s.subjects
            .iter()
            .filter(|(_, v)| v.iter().any(|x| !x.deleted))
            .map(|(k, _)| k.clone())
            .collect()
    }

    pub fn versions(&self, subject: &str) -> Result<Vec<i32>, StoreError> {
        let s = self.lock();
        let live = s.live(subject);
        if live.is_empty() {
            return Err(StoreError::subject_not_found(subject));
        }
        Ok(live.iter().map(|v| v.version).collect())
    }

    /// A version (`latest` or a number) of a subject.
    pub fn version(
        &self,
        subject: &str,
        version: &str,
    ) -> Result<(Version, StoredSchema), StoreError> {
        let s = self.lock();
        let live = s.live(subject);
        if live.is_empty() {
            return Err(StoreError::subject_not_found(subject));
        }
        let found = if version == "latest" || version == "-1" {
            live.last().copied()
        } else {
            let n: i32 = version
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| StoreError::invalid_version(version))?;
            live.iter().find(|v| v.version == n).copied()
        };
        let v = found.ok_or_else(|| StoreError::version_not_found(version))?;
        let schema = s
            .schema(v.id)
            .cloned()
            .ok_or_else(|| StoreError::schema_not_found(Some(v.id)))?;
        Ok((v.clone(), schema))
    }

    /// `DELETE /subjects/{subject}[/versions/{v}]`: the versions deleted.
    pub fn delete(
        &self,
        subject: &str,
        version: Option<&str>,
        permanent: bool,
    ) -> Result<Vec<i32>, StoreError> {
        let mut s = self.lock();
        let all: Vec<Version> = s.subjects.get(subject).cloned().unwrap_or_default();
        if all.is_empty() {
            return Err(StoreError::subject_not_found(subject));
        }
        let target: Vec<Version> = match version {
            None => all.clone(),
            Some(v) => {
                let live: Vec<&Version> = all.iter().filter(|x| !x.deleted || permanent).collect();
                let found = if v == "latest" {
                    live.last().copied()
                } else {
                    let n: i32 = v.parse().map_err(|_| StoreError::invalid_version(v))?;
                    all.iter().find(|x| x.version == n)
                };
                vec![
                    found
                        .cloned()
                        .ok_or_else(|| StoreError::version_not_found(v))?,
                ]
            }
        };
        if permanent && target.iter().any(|v| !v.deleted) {
            return Err(match version {
                None => StoreError::new(
                    404,
                    40405,
                    format!(
                        "Subject '{subject}' was not deleted first before being permanently deleted"
                    ),
                ),
                Some(v) => StoreError::new(
                    404,
                    40407,
                    format!(
                        "Subject '{subject}' Version {v} was not deleted first before being permanently deleted"
                    ),
                ),
            });
        }
        if !permanent && version.is_none() && target.iter().all(|v| v.deleted) {
            return Err(StoreError::new(
                404,
                40404,
                format!(
                    "Subject '{subject}' was soft deleted.Set permanent=true to delete permanently"
                ),
            ));
        }
        let deleted: Vec<i32> = target.iter().map(|v| v.version).collect();
        let op = json!({"op": "delete", "subject": subject,
                        "version": version.and(deleted.first().copied()), "permanent": permanent});
        self.commit(&mut s, op)?;
        Ok(deleted)
    }

    /// `POST /compatibility/subjects/{subject}/versions/{version}`.
    pub fn is_compatible(
        &self,
        subject: &str,
        version: &str,
        kind: SchemaKind,
        text: &str,
    ) -> Result<bool, StoreError> {
        let schema = canonical(kind, text)?;
        let s = self.lock();
        let level = self.effective(&s, subject);
        if level == Compatibility::None || kind != SchemaKind::Avro {
            return Ok(true);
        }
        let live = s.live(subject);
        if live.is_empty() {
            return Err(StoreError::subject_not_found(subject));
        }
        let Ok(new) = AvroSchema::parse(&schema) else {
            return Ok(true);
        };
        let against: Vec<&Version> = if version == "latest" {
            if level.transitive() {
                live.clone()
            } else {
                live.last().copied().into_iter().collect()
            }
        } else {
            let n: i32 = version
                .parse()
                .map_err(|_| StoreError::invalid_version(version))?;
            live.iter().filter(|v| v.version == n).copied().collect()
        };
        Ok(against.iter().all(|v| {
            let Some(old) = s
                .schema(v.id)
                .and_then(|x| AvroSchema::parse(&x.schema).ok())
            else {
                return true;
            };
            (!level.backward() || sluice_codecs::avro::compatibility::can_read(&new, &old))
                && (!level.forward() || sluice_codecs::avro::compatibility::can_read(&old, &new))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = r#"{"type":"record","name":"E","fields":[{"name":"id","type":"long"}]}"#;
    const V2: &str = r#"{"type":"record","name":"E","fields":[{"name":"id","type":"long"},{"name":"note","type":["null","string"],"default":null}]}"#;
    const BAD: &str = r#"{"type":"record","name":"E","fields":[{"name":"id","type":"long"},{"name":"must","type":"string"}]}"#;

    #[test]
    fn versions_ids_and_backward_compatibility() {
        let st = Store::in_memory();
        assert_eq!(st.register("t-value", SchemaKind::Avro, V1), Ok(1));
        assert_eq!(st.register("t-value", SchemaKind::Avro, V1), Ok(1));
        assert_eq!(st.register("t-value", SchemaKind::Avro, V2), Ok(2));
        let e = st.register("t-value", SchemaKind::Avro, BAD).unwrap_err();
        assert_eq!((e.status, e.code), (409, 409));
        // Another subject reuses the id of an equal schema.
        assert_eq!(st.register("u-value", SchemaKind::Avro, V2), Ok(2));
        assert_eq!(st.versions("t-value"), Ok(vec![1, 2]));
        assert_eq!(st.version("t-value", "latest").map(|(v, _)| v.id), Ok(2));
        assert_eq!(
            st.lookup("t-value", SchemaKind::Avro, V1)
                .map(|(v, _)| v.version),
            Ok(1)
        );
    }

    #[test]
    fn a_restarted_store_keeps_everything() {
        let dir = tempfile::tempdir().expect("dir");
        {
            let st = Store::open(dir.path().to_path_buf()).expect("open");
            st.register("a", SchemaKind::Avro, V1).expect("v1");
            st.register("a", SchemaKind::Avro, V2).expect("v2");
            st.set_compatibility(Some("a"), Some(Compatibility::None))
                .expect("config");
            st.delete("a", Some("1"), false).expect("delete");
        }
        let st = Store::open(dir.path().to_path_buf()).expect("reopen");
        assert_eq!(st.versions("a"), Ok(vec![2]));
        assert_eq!(st.schema_by_id(1).map(|s| s.id), Ok(1));
        assert_eq!(st.compatibility(Some("a")), Some(Compatibility::None));
        assert_eq!(st.register("a", SchemaKind::Avro, BAD), Ok(3));
    }
}
