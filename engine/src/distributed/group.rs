//! Membership of the worker group through Kafka's classic group protocol (protocol type
//! `connect`): find the coordinator, JoinGroup (with the member-id handshake), SyncGroup,
//! Heartbeat and LeaveGroup. Metadata and assignments are opaque bytes here; their format
//! is [`super::protocol`].

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::{
    ApiKey, FindCoordinatorRequest, GroupId, HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest,
    SyncGroupRequest, join_group_request::JoinGroupRequestProtocol,
    leave_group_request::MemberIdentity, sync_group_request::SyncGroupRequestAssignment,
};
use kafka_protocol::protocol::StrBytes;

use super::protocol::Protocol;
use super::wire::{Connection, WireError};

pub const PROTOCOL_TYPE: &str = "connect";

/// Kafka error codes the member reacts to.
pub mod code {
    pub const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
    pub const COORDINATOR_NOT_AVAILABLE: i16 = 15;
    pub const NOT_COORDINATOR: i16 = 16;
    pub const ILLEGAL_GENERATION: i16 = 22;
    pub const INCONSISTENT_GROUP_PROTOCOL: i16 = 23;
    pub const UNKNOWN_MEMBER_ID: i16 = 25;
    pub const REBALANCE_IN_PROGRESS: i16 = 27;
    pub const GROUP_AUTHORIZATION_FAILED: i16 = 30;
    pub const MEMBER_ID_REQUIRED: i16 = 79;
}

#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("{api:?} for group {group}: Kafka error {code}{}", message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Kafka {
        api: ApiKey,
        group: String,
        code: i16,
        message: Option<String>,
    },
    #[error(
        "group {group}: the coordinator chose protocol {name:?}, which this worker did not offer"
    )]
    UnknownProtocol { group: String, name: String },
    #[error("group {group}: no broker answered FindCoordinator ({tried})")]
    NoCoordinator { group: String, tried: String },
}

impl GroupError {
    /// The member has to join again (the group is rebalancing or moved on without it).
    pub fn needs_rejoin(&self) -> bool {
        matches!(
            self,
            Self::Kafka {
                code: code::REBALANCE_IN_PROGRESS
                    | code::ILLEGAL_GENERATION
                    | code::UNKNOWN_MEMBER_ID,
                ..
            }
        )
    }

    fn coordinator_moved(&self) -> bool {
        matches!(
            self,
            Self::Wire(_)
                | Self::Kafka {
                    code: code::COORDINATOR_LOAD_IN_PROGRESS
                        | code::COORDINATOR_NOT_AVAILABLE
                        | code::NOT_COORDINATOR,
                    ..
                }
        )
    }
}

/// Timeouts and identity of the member (`group.id`, `session.timeout.ms`, ...).
#[derive(Debug, Clone)]
pub struct GroupSettings {
    pub bootstrap: Vec<String>,
    pub group_id: String,
    pub client_id: String,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    pub heartbeat_interval: Duration,
    pub request_timeout: Duration,
}

/// A completed JoinGroup round.
#[derive(Debug, Clone)]
pub struct Joined {
    pub generation: i32,
    pub member_id: String,
    pub leader_id: String,
    pub protocol: Protocol,
    /// Every member's metadata under the chosen protocol; only the leader gets them.
    pub members: Vec<(String, Bytes)>,
}

impl Joined {
    pub fn is_leader(&self) -> bool {
        self.member_id == self.leader_id
    }
}

/// A connection to the group coordinator, found and reopened as needed.
#[derive(Debug)]
struct CoordinatorLink {
    settings: GroupSettings,
    conn: Option<Connection>,
}

impl CoordinatorLink {
    async fn conn(&mut self) -> Result<&mut Connection, GroupError> {
        if self.conn.is_none() {
            self.conn = Some(self.find().await?);
        }
        match self.conn.as_mut() {
            Some(c) => Ok(c),
            None => Err(GroupError::NoCoordinator {
                group: self.settings.group_id.clone(),
                tried: String::new(),
            }),
        }
    }

    async fn find(&self) -> Result<Connection, GroupError> {
        let s = &self.settings;
        let mut tried = Vec::new();
        for addr in &s.bootstrap {
            let mut conn = match Connection::open(addr, &s.client_id).await {
                Ok(c) => c,
                Err(e) => {
                    tried.push(e.to_string());
                    continue;
                }
            };
            let key = StrBytes::from_string(s.group_id.clone());
            let req = match conn.version(ApiKey::FindCoordinator, 6) {
                Ok(v) if v >= 4 => {
                    FindCoordinatorRequest::default().with_coordinator_keys(vec![key])
                }
                Ok(v) if v >= 1 => FindCoordinatorRequest::default().with_key(key),
                _ => FindCoordinatorRequest::default().with_key(key),
            };
            let (resp, version) = match conn.send(req, 6, s.request_timeout).await {
                Ok(r) => r,
                Err(e) => {
                    tried.push(e.to_string());
                    continue;
                }
            };
            let (code, message, host, port) = if version >= 4 {
                match resp.coordinators.first() {
                    Some(c) => (
                        c.error_code,
                        c.error_message.as_ref().map(|m| m.to_string()),
                        c.host.to_string(),
                        c.port,
                    ),
                    None => (code::COORDINATOR_NOT_AVAILABLE, None, String::new(), 0),
                }
            } else {
                (
                    resp.error_code,
                    resp.error_message.as_ref().map(|m| m.to_string()),
                    resp.host.to_string(),
                    resp.port,
                )
            };
            if code != 0 {
                tried.push(format!(
                    "{addr}: error {code}{}",
                    message.map(|m| format!(" ({m})")).unwrap_or_default()
                ));
                continue;
            }
            let target = format!("{host}:{port}");
            if target == conn.addr() {
                return Ok(conn);
            }
            match Connection::open(&target, &s.client_id).await {
                Ok(c) => return Ok(c),
                Err(e) => tried.push(e.to_string()),
            }
        }
        Err(GroupError::NoCoordinator {
            group: s.group_id.clone(),
            tried: tried.join("; "),
        })
    }

    fn check(&mut self, api: ApiKey, code: i16) -> Result<(), GroupError> {
        if code == 0 {
            return Ok(());
        }
        let err = GroupError::Kafka {
            api,
            group: self.settings.group_id.clone(),
            code,
            message: None,
        };
        if err.coordinator_moved() {
            self.conn = None;
        }
        Err(err)
    }

    fn drop_on_error<T>(&mut self, r: Result<T, WireError>) -> Result<T, GroupError> {
        r.map_err(|e| {
            self.conn = None;
            GroupError::Wire(e)
        })
    }
}

/// The worker's membership in its group.
#[derive(Debug)]
pub struct GroupMember {
    link: CoordinatorLink,
    member_id: String,
    generation: i32,
}

impl GroupMember {
    pub fn new(settings: GroupSettings) -> Self {
        Self {
            link: CoordinatorLink {
                settings,
                conn: None,
            },
            member_id: String::new(),
            generation: -1,
        }
    }

    pub fn settings(&self) -> &GroupSettings {
        &self.link.settings
    }

    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    pub fn generation(&self) -> i32 {
        self.generation
    }

    /// Joins (or rejoins) the group offering `protocols` (most preferred first) and waits for
    /// the round to complete; coordinator moves and the member-id handshake are retried.
    pub async fn join(&mut self, protocols: &[(Protocol, Vec<u8>)]) -> Result<Joined, GroupError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.join_once(protocols).await {
                Ok(j) => return Ok(j),
                Err(e) if attempts < 20 && (e.coordinator_moved() || e.needs_rejoin()) => {
                    if let GroupError::Kafka {
                        code: code::UNKNOWN_MEMBER_ID,
                        ..
                    } = e
                    {
                        self.member_id.clear();
                    }
                    tracing::debug!("JoinGroup retry: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn join_once(&mut self, protocols: &[(Protocol, Vec<u8>)]) -> Result<Joined, GroupError> {
        let s = self.link.settings.clone();
        let req = JoinGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(s.group_id.clone())))
            .with_session_timeout_ms(millis(s.session_timeout))
            .with_rebalance_timeout_ms(millis(s.rebalance_timeout))
            .with_member_id(StrBytes::from_string(self.member_id.clone()))
            .with_group_instance_id(None)
            .with_protocol_type(StrBytes::from_static_str(PROTOCOL_TYPE))
            .with_protocols(
                protocols
                    .iter()
                    .map(|(p, m)| {
                        JoinGroupRequestProtocol::default()
                            .with_name(StrBytes::from_static_str(p.wire_name()))
                            .with_metadata(Bytes::from(m.clone()))
                    })
                    .collect(),
            );
        let timeout = s.rebalance_timeout + s.request_timeout;
        let conn = self.link.conn().await?;
        let req = if conn.version(ApiKey::JoinGroup, 9)? >= 8 {
            req.with_reason(Some(StrBytes::from_static_str("")))
        } else {
            req
        };
        let sent = conn.send(req, 9, timeout).await;
        let (resp, _) = self.link.drop_on_error(sent)?;
        if resp.error_code == code::MEMBER_ID_REQUIRED {
            self.member_id = resp.member_id.to_string();
            return Box::pin(self.join_once(protocols)).await;
        }
        self.link.check(ApiKey::JoinGroup, resp.error_code)?;
        let name = resp
            .protocol_name
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_default();
        let protocol =
            Protocol::from_wire_name(&name).ok_or_else(|| GroupError::UnknownProtocol {
                group: s.group_id.clone(),
                name: name.clone(),
            })?;
        self.member_id = resp.member_id.to_string();
        self.generation = resp.generation_id;
        Ok(Joined {
            generation: resp.generation_id,
            member_id: self.member_id.clone(),
            leader_id: resp.leader.to_string(),
            protocol,
            members: resp
                .members
                .iter()
                .map(|m| (m.member_id.to_string(), m.metadata.clone()))
                .collect(),
        })
    }

    /// SyncGroup: the leader passes every member's assignment, followers pass none; returns
    /// this member's assignment bytes.
    pub async fn sync(
        &mut self,
        joined: &Joined,
        assignments: Vec<(String, Vec<u8>)>,
    ) -> Result<Bytes, GroupError> {
        let s = self.link.settings.clone();
        let req = SyncGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(s.group_id.clone())))
            .with_generation_id(joined.generation)
            .with_member_id(StrBytes::from_string(joined.member_id.clone()))
            .with_assignments(
                assignments
                    .into_iter()
                    .map(|(member, bytes)| {
                        SyncGroupRequestAssignment::default()
                            .with_member_id(StrBytes::from_string(member))
                            .with_assignment(Bytes::from(bytes))
                    })
                    .collect(),
            );
        let timeout = s.rebalance_timeout + s.request_timeout;
        let conn = self.link.conn().await?;
        let req = if conn.version(ApiKey::SyncGroup, 5)? >= 5 {
            req.with_protocol_type(Some(StrBytes::from_static_str(PROTOCOL_TYPE)))
                .with_protocol_name(Some(StrBytes::from_static_str(joined.protocol.wire_name())))
        } else {
            req
        };
        let sent = conn.send(req, 5, timeout).await;
        let (resp, _) = self.link.drop_on_error(sent)?;
        self.link.check(ApiKey::SyncGroup, resp.error_code)?;
        Ok(resp.assignment)
    }

    /// Leaves the group (graceful shutdown hands the member's work over at once).
    pub async fn leave(&mut self, reason: &str) -> Result<(), GroupError> {
        if self.member_id.is_empty() {
            return Ok(());
        }
        let s = self.link.settings.clone();
        let conn = self.link.conn().await?;
        let version = conn.version(ApiKey::LeaveGroup, 5)?;
        let req = LeaveGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(s.group_id.clone())));
        let member = StrBytes::from_string(self.member_id.clone());
        let req = if version >= 3 {
            let identity = MemberIdentity::default().with_member_id(member);
            let identity = if version >= 5 {
                identity.with_reason(Some(StrBytes::from_string(reason.to_string())))
            } else {
                identity
            };
            req.with_members(vec![identity])
        } else {
            req.with_member_id(member)
        };
        let sent = conn.send(req, 5, s.request_timeout).await;
        let (resp, _) = self.link.drop_on_error(sent)?;
        self.member_id.clear();
        self.generation = -1;
        self.link.check(ApiKey::LeaveGroup, resp.error_code)
    }

    /// A heartbeat sender for the current generation, on its own connection, so heartbeats
    /// go on while the herder is busy.
    pub fn heartbeat(&self) -> Heartbeat {
        Heartbeat {
            link: CoordinatorLink {
                settings: self.link.settings.clone(),
                conn: None,
            },
            member_id: self.member_id.clone(),
            generation: self.generation,
        }
    }
}

/// Sends heartbeats for one generation of membership.
#[derive(Debug)]
pub struct Heartbeat {
    link: CoordinatorLink,
    member_id: String,
    generation: i32,
}

impl Heartbeat {
    pub async fn beat(&mut self) -> Result<(), GroupError> {
        let s = self.link.settings.clone();
        let req = HeartbeatRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(s.group_id.clone())))
            .with_generation_id(self.generation)
            .with_member_id(StrBytes::from_string(self.member_id.clone()))
            .with_group_instance_id(None);
        let conn = self.link.conn().await?;
        let sent = conn.send(req, 4, s.request_timeout).await;
        let (resp, _) = self.link.drop_on_error(sent)?;
        self.link.check(ApiKey::Heartbeat, resp.error_code)
    }

    pub fn interval(&self) -> Duration {
        self.link.settings.heartbeat_interval
    }
}

fn millis(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}
