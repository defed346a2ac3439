//! The bytes workers exchange through the group coordinator, as Kafka's `ConnectProtocol`
//! (v0, sub-protocol `default`, eager) and `IncrementalCooperativeConnectProtocol` (v1
//! `compatible`, v2 `sessioned`): member metadata in JoinGroup, assignments in SyncGroup.
//! Classic Kafka types: STRING = i16 length + UTF-8, NULLABLE_BYTES = i32 length or -1,
//! ARRAY = i32 count; all big-endian.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use indexmap::IndexSet;

use super::java_order::{cmp_str, copied_set_order};

/// Task id on the wire that stands for the connector instance itself.
pub const CONNECTOR_TASK: i32 = -1;

/// The group sub-protocol, chosen by `connect.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// v0, named `default` on the wire: stop everything, then assign everything.
    Eager,
    /// v1: incremental cooperative rebalancing.
    Compatible,
    /// v2: v1 plus signed internal requests (KIP-507).
    Sessioned,
}

impl Protocol {
    /// The `connect.protocol` value.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "eager" => Some(Self::Eager),
            "compatible" => Some(Self::Compatible),
            "sessioned" => Some(Self::Sessioned),
            _ => None,
        }
    }

    /// The protocol name in JoinGroup.
    pub fn wire_name(self) -> &'static str {
        match self {
            Self::Eager => "default",
            Self::Compatible => "compatible",
            Self::Sessioned => "sessioned",
        }
    }

    pub fn from_wire_name(name: &str) -> Option<Self> {
        match name {
            "default" => Some(Self::Eager),
            "compatible" => Some(Self::Compatible),
            "sessioned" => Some(Self::Sessioned),
            _ => None,
        }
    }

    pub fn version(self) -> i16 {
        match self {
            Self::Eager => 0,
            Self::Compatible => 1,
            Self::Sessioned => 2,
        }
    }

    /// The protocols offered in JoinGroup, most preferred first: a worker configured for
    /// `sessioned` still joins a group of `compatible` or `eager` workers.
    pub fn offered(self) -> &'static [Protocol] {
        match self {
            Self::Eager => &[Self::Eager],
            Self::Compatible => &[Self::Compatible, Self::Eager],
            Self::Sessioned => &[Self::Sessioned, Self::Compatible, Self::Eager],
        }
    }

    pub fn is_incremental(self) -> bool {
        self != Self::Eager
    }
}

/// Assignment error codes (`ConnectProtocol.Assignment`).
pub const NO_ERROR: i16 = 0;
/// The leader could not read the config topic up to the offset another member reported.
pub const CONFIG_MISMATCH: i16 = 1;

/// Connectors (task [`CONNECTOR_TASK`]) and tasks, per connector; ordered by connector name
/// in memory, written in the order given.
pub type Allocation = Vec<(String, Vec<i32>)>;

/// What a member reports in JoinGroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerMetadata {
    /// The member's REST URL (`http://host:port/`).
    pub url: String,
    /// Offset of the config topic the member has read up to.
    pub config_offset: i64,
    /// v1/v2 only: everything the member runs now (null before its first assignment).
    pub allocation: Option<Assignment>,
}

/// The leader's answer to one member (SyncGroup).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assignment {
    pub error: i16,
    pub leader: String,
    pub leader_url: String,
    pub config_offset: i64,
    /// Added in this generation (eager: everything the member runs).
    pub assigned: Allocation,
    /// v1/v2: to stop now.
    pub revoked: Allocation,
    /// v1/v2: ms until the leader expects to redistribute lost work (0: none scheduled).
    pub delay: i32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtocolError {
    #[error("{what}: truncated at byte {at}")]
    Truncated { what: &'static str, at: usize },
    #[error("{what}: unsupported Connect protocol version {version}")]
    Version { what: &'static str, version: i16 },
    #[error("{what}: string is not UTF-8 at byte {at}")]
    Utf8 { what: &'static str, at: usize },
    #[error("{what}: negative length {length} at byte {at}")]
    Length {
        what: &'static str,
        length: i32,
        at: usize,
    },
}

impl WorkerMetadata {
    pub fn encode(&self, protocol: Protocol) -> Vec<u8> {
        let mut w = Writer::default();
        w.i16(protocol.version());
        w.string(&self.url);
        w.i64(self.config_offset);
        if protocol.is_incremental() {
            match &self.allocation {
                None => w.i32(-1),
                Some(a) => {
                    let bytes = a.encode(protocol);
                    w.i32(len_i32(bytes.len()));
                    w.0.extend_from_slice(&bytes);
                }
            }
        }
        w.0
    }

    /// Decodes metadata of any version: higher versions than ours read as v1, as Kafka does.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(bytes, "member metadata");
        let version = r.i16()?;
        if version < 0 {
            return Err(ProtocolError::Version {
                what: "member metadata",
                version,
            });
        }
        let url = r.string()?;
        let config_offset = r.i64()?;
        let allocation = if version >= 1 {
            match r.nullable_bytes()? {
                None => None,
                Some(b) => Some(Assignment::decode(b)?),
            }
        } else {
            None
        };
        Ok(Self {
            url,
            config_offset,
            allocation,
        })
    }
}

impl Assignment {
    pub fn encode(&self, protocol: Protocol) -> Vec<u8> {
        let mut w = Writer::default();
        w.i16(protocol.version());
        w.i16(self.error);
        w.string(&self.leader);
        w.string(&self.leader_url);
        w.i64(self.config_offset);
        w.allocation(&self.assigned);
        if protocol.is_incremental() {
            w.allocation(&self.revoked);
            w.i32(self.delay);
        }
        w.0
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(bytes, "assignment");
        let version = r.i16()?;
        if version < 0 {
            return Err(ProtocolError::Version {
                what: "assignment",
                version,
            });
        }
        let error = r.i16()?;
        let leader = r.string()?;
        let leader_url = r.string()?;
        let config_offset = r.i64()?;
        let assigned = r.allocation()?;
        let (revoked, delay) = if version >= 1 {
            (r.allocation()?, r.i32()?)
        } else {
            (Vec::new(), 0)
        };
        Ok(Self {
            error,
            leader,
            leader_url,
            config_offset,
            assigned,
            revoked,
            delay,
        })
    }

    /// Connector names assigned (task id -1), in wire order.
    pub fn connectors(&self) -> impl Iterator<Item = &str> {
        connectors_of(&self.assigned)
    }
}

/// Connectors of an allocation (entries holding [`CONNECTOR_TASK`]).
pub fn connectors_of(a: &Allocation) -> impl Iterator<Item = &str> {
    a.iter()
        .filter(|(_, t)| t.contains(&CONNECTOR_TASK))
        .map(|(c, _)| c.as_str())
}

/// Builds an allocation from connectors and `(connector, task)` pairs, grouped by connector
/// in the order first seen, the connector's own entry (-1) first, as Kafka's
/// `ConnectProtocol.Assignment.asMap` does.
pub fn allocation<'a>(
    connectors: impl IntoIterator<Item = &'a str>,
    tasks: impl IntoIterator<Item = (&'a str, i32)>,
) -> Allocation {
    let mut order: Vec<String> = Vec::new();
    let mut map: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    let mut push = |c: &str, t: i32| {
        if !map.contains_key(c) {
            order.push(c.to_string());
        }
        map.entry(c.to_string()).or_default().push(t);
    };
    for c in connectors {
        push(c, CONNECTOR_TASK);
    }
    for (c, t) in tasks {
        push(c, t);
    }
    order
        .into_iter()
        .map(|c| {
            let tasks = map.remove(&c).unwrap_or_default();
            (c, tasks)
        })
        .collect()
}

/// A task of a connector (`ConnectorTaskId`), ordered as Kafka orders them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskId {
    pub connector: String,
    pub task: i32,
}

impl TaskId {
    pub fn new(connector: impl Into<String>, task: i32) -> Self {
        Self {
            connector: connector.into(),
            task,
        }
    }
}

impl Ord for TaskId {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_str(&self.connector, &other.connector).then(self.task.cmp(&other.task))
    }
}

impl PartialOrd for TaskId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for TaskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.connector, self.task)
    }
}

/// Connectors and tasks (Kafka's `ConnectorsAndTasks`), in insertion order without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Work {
    pub connectors: IndexSet<String>,
    pub tasks: IndexSet<TaskId>,
}

impl Work {
    pub fn is_empty(&self) -> bool {
        self.connectors.is_empty() && self.tasks.is_empty()
    }

    /// Connectors (entries holding -1) and tasks, entry by entry, as Kafka reads them.
    pub fn from_allocation(a: &Allocation) -> Self {
        let mut w = Self::default();
        for (c, tasks) in a {
            if tasks.contains(&CONNECTOR_TASK) {
                w.connectors.insert(c.clone());
            }
        }
        for (c, tasks) in a {
            for t in tasks.iter().filter(|t| **t != CONNECTOR_TASK) {
                w.tasks.insert(TaskId::new(c.clone(), *t));
            }
        }
        w
    }

    /// As an assigned list is written (`Assignment.asMap`): connectors in Java `HashSet`
    /// order, then each task appended to its connector's entry.
    pub fn assigned_allocation(&self) -> Allocation {
        let list: Vec<String> = self.connectors.iter().cloned().collect();
        let ordered = copied_set_order(&list);
        allocation(
            ordered.iter().map(String::as_str),
            self.tasks.iter().map(|t| (t.connector.as_str(), t.task)),
        )
    }

    /// As a revoked list is written: connectors in list order, then the tasks.
    pub fn revoked_allocation(&self) -> Allocation {
        allocation(
            self.connectors.iter().map(String::as_str),
            self.tasks.iter().map(|t| (t.connector.as_str(), t.task)),
        )
    }
}

fn len_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn i16(&mut self, v: i16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn string(&mut self, s: &str) {
        self.i16(i16::try_from(s.len()).unwrap_or(i16::MAX));
        self.0.extend_from_slice(s.as_bytes());
    }
    fn allocation(&mut self, a: &Allocation) {
        self.i32(len_i32(a.len()));
        for (connector, tasks) in a {
            self.string(connector);
            self.i32(len_i32(tasks.len()));
            for t in tasks {
                self.i32(*t);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Self { bytes, at: 0, what }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtocolError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(ProtocolError::Truncated {
                what: self.what,
                at: self.at,
            });
        };
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ProtocolError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn i16(&mut self) -> Result<i16, ProtocolError> {
        Ok(i16::from_be_bytes(self.array()?))
    }
    fn i32(&mut self) -> Result<i32, ProtocolError> {
        Ok(i32::from_be_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64, ProtocolError> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    fn length(&mut self, n: i32) -> Result<usize, ProtocolError> {
        usize::try_from(n).map_err(|_| ProtocolError::Length {
            what: self.what,
            length: n,
            at: self.at,
        })
    }

    fn string(&mut self) -> Result<String, ProtocolError> {
        let n = self.i16()?;
        let n = self.length(i32::from(n))?;
        let at = self.at;
        let s = self.take(n)?;
        String::from_utf8(s.to_vec()).map_err(|_| ProtocolError::Utf8 {
            what: self.what,
            at,
        })
    }

    fn nullable_bytes(&mut self) -> Result<Option<&'a [u8]>, ProtocolError> {
        let n = self.i32()?;
        if n < 0 {
            return Ok(None);
        }
        let n = self.length(n)?;
        self.take(n).map(Some)
    }

    fn allocation(&mut self) -> Result<Allocation, ProtocolError> {
        let n = self.i32()?;
        let n = self.length(n)?;
        let mut out = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let connector = self.string()?;
            let k = self.i32()?;
            let k = self.length(k)?;
            let mut tasks = Vec::with_capacity(k.min(4096));
            for _ in 0..k {
                tasks.push(self.i32()?);
            }
            out.push((connector, tasks));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn to_hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    // Worker B's JoinGroup protocols, as the reference transcript recorded them.
    const B_SESSIONED: &str =
        "00020017687474703a2f2f3132372e302e302e313a32383038342f0000000000000001ffffffff";
    const B_COMPATIBLE: &str =
        "00010017687474703a2f2f3132372e302e302e313a32383038342f0000000000000001ffffffff";
    const B_DEFAULT: &str =
        "00000017687474703a2f2f3132372e302e302e313a32383038342f0000000000000001";
    const A_GEN19_METADATA: &str = "00020017687474703a2f2f3132372e302e302e313a32383038332f00000000000000200000009000020000003c636f6e6e6563742d3132372e302e302e313a32383038332d35366438306539392d623266632d343230632d393836362d3765366232353365333837660017687474703a2f2f3132372e302e302e313a32383038332f000000000000002000000002000573696e6b3100000002ffffffff00000000000473726331000000010000000000000000000493e0";
    const A_GEN19_ASSIGNMENT: &str = "00020000003c636f6e6e6563742d3132372e302e302e313a32383038332d35366438306539392d623266632d343230632d393836362d3765366232353365333837660017687474703a2f2f3132372e302e302e313a32383038332f00000000000000200000000200047372633100000001ffffffff000573696e6b310000000200000001000000020000000000000000";

    #[test]
    fn first_join_metadata_matches_kafka_for_each_protocol() {
        let m = WorkerMetadata {
            url: "http://127.0.0.1:28084/".into(),
            config_offset: 1,
            allocation: None,
        };
        assert_eq!(to_hex(&m.encode(Protocol::Sessioned)), B_SESSIONED);
        assert_eq!(to_hex(&m.encode(Protocol::Compatible)), B_COMPATIBLE);
        assert_eq!(to_hex(&m.encode(Protocol::Eager)), B_DEFAULT);
        for h in [B_SESSIONED, B_COMPATIBLE, B_DEFAULT] {
            assert_eq!(WorkerMetadata::decode(&hex(h)).unwrap(), m);
        }
    }

    #[test]
    fn metadata_with_allocation_round_trips_byte_for_byte() {
        let bytes = hex(A_GEN19_METADATA);
        let m = WorkerMetadata::decode(&bytes).unwrap();
        assert_eq!(m.url, "http://127.0.0.1:28083/");
        assert_eq!(m.config_offset, 32);
        let a = m.allocation.as_ref().unwrap();
        assert_eq!(
            a.leader,
            "connect-127.0.0.1:28083-56d80e99-b2fc-420c-9866-7e6b253e387f"
        );
        assert_eq!(
            a.assigned,
            vec![("sink1".into(), vec![-1, 0]), ("src1".into(), vec![0])]
        );
        assert!(a.revoked.is_empty());
        assert_eq!(a.delay, 300_000);
        assert_eq!(to_hex(&m.encode(Protocol::Sessioned)), A_GEN19_METADATA);
    }

    #[test]
    fn assignment_round_trips_byte_for_byte() {
        let a = Assignment::decode(&hex(A_GEN19_ASSIGNMENT)).unwrap();
        assert_eq!(
            a.assigned,
            vec![("src1".into(), vec![-1]), ("sink1".into(), vec![1, 2])]
        );
        assert_eq!(a.error, NO_ERROR);
        assert_eq!(a.delay, 0);
        assert_eq!(to_hex(&a.encode(Protocol::Sessioned)), A_GEN19_ASSIGNMENT);
        assert_eq!(a.connectors().collect::<Vec<_>>(), vec!["src1"]);
    }

    #[test]
    fn eager_assignment_has_no_revocations_or_delay() {
        let a = Assignment {
            leader: "l".into(),
            leader_url: "http://h:1/".into(),
            config_offset: 5,
            assigned: allocation(["c"], [("c", 0), ("c", 1)]),
            ..Default::default()
        };
        let bytes = a.encode(Protocol::Eager);
        assert_eq!(&bytes[..2], &[0, 0]);
        assert_eq!(Assignment::decode(&bytes).unwrap(), a);
        assert_eq!(a.assigned, vec![("c".into(), vec![-1, 0, 1])]);
    }

    #[test]
    fn truncated_and_bad_input_are_errors_not_panics() {
        let bytes = hex(A_GEN19_METADATA);
        for n in 0..bytes.len() {
            assert!(WorkerMetadata::decode(&bytes[..n]).is_err(), "prefix {n}");
        }
        assert!(matches!(
            WorkerMetadata::decode(&hex("ffff")),
            Err(ProtocolError::Version { version: -1, .. })
        ));
        assert!(matches!(
            Assignment::decode(&hex("00010000fffe")),
            Err(ProtocolError::Length { length: -2, .. })
        ));
    }

    #[test]
    fn offered_protocols_in_kafkas_order() {
        let names: Vec<_> = Protocol::Sessioned
            .offered()
            .iter()
            .map(|p| p.wire_name())
            .collect();
        assert_eq!(names, ["sessioned", "compatible", "default"]);
        assert_eq!(Protocol::parse("EAGER"), Some(Protocol::Eager));
        assert_eq!(Protocol::parse("x"), None);
    }
}
