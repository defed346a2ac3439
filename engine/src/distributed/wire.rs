//! One Kafka protocol connection (request/response over TCP, API versions negotiated once)
//! on the `kafka-protocol` crate: what the worker group needs and librdkafka does not expose.

use std::collections::HashMap;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, FetchRequest, FetchResponse,
    FindCoordinatorRequest, FindCoordinatorResponse, HeartbeatRequest, HeartbeatResponse,
    JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse, MetadataRequest,
    MetadataResponse, RequestHeader, SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response accepted (a JoinGroup leader response carries every member's metadata).
const MAX_RESPONSE: usize = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{api:?} to {addr}: {source}")]
    Io {
        api: ApiKey,
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{api:?} to {addr}: no answer within {timeout:?}")]
    Timeout {
        api: ApiKey,
        addr: String,
        timeout: Duration,
    },
    #[error("{api:?} to {addr}: cannot encode or decode: {message}")]
    Codec {
        api: ApiKey,
        addr: String,
        message: String,
    },
    #[error("{api:?}: the broker at {addr} does not support versions {min}..={max}")]
    Unsupported {
        api: ApiKey,
        addr: String,
        min: i16,
        max: i16,
    },
    #[error("{api:?} to {addr}: response of {len} bytes is over the {MAX_RESPONSE}-byte limit")]
    TooLarge {
        api: ApiKey,
        addr: String,
        len: usize,
    },
}

/// A request this client sends, with its API key and response type (the crate's own
/// `Request` trait needs its `broker` feature).
pub trait Call: Encodable + HeaderVersion {
    const API: ApiKey;
    type Response: Decodable + HeaderVersion;
}

macro_rules! calls {
    ($($api:ident: $req:ty => $resp:ty),* $(,)?) => {
        $(
            impl Call for $req {
                const API: ApiKey = ApiKey::$api;
                type Response = $resp;
            }
        )*
    };
}

calls!(
    ApiVersions: ApiVersionsRequest => ApiVersionsResponse,
    FindCoordinator: FindCoordinatorRequest => FindCoordinatorResponse,
    JoinGroup: JoinGroupRequest => JoinGroupResponse,
    SyncGroup: SyncGroupRequest => SyncGroupResponse,
    Heartbeat: HeartbeatRequest => HeartbeatResponse,
    LeaveGroup: LeaveGroupRequest => LeaveGroupResponse,
    Metadata: MetadataRequest => MetadataResponse,
    Fetch: FetchRequest => FetchResponse,
);

/// A connection to one broker.
pub struct Connection {
    stream: TcpStream,
    addr: String,
    client_id: StrBytes,
    correlation: i32,
    versions: HashMap<i16, (i16, i16)>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Connects and asks the broker which API versions it speaks.
    pub async fn open(addr: &str, client_id: &str) -> Result<Self, WireError> {
        let stream = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(addr))
            .await
            .map_err(|_| WireError::Connect {
                addr: addr.to_string(),
                source: std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"),
            })?
            .map_err(|source| WireError::Connect {
                addr: addr.to_string(),
                source,
            })?;
        let _ = stream.set_nodelay(true);
        let mut conn = Self {
            stream,
            addr: addr.to_string(),
            client_id: StrBytes::from_string(client_id.to_string()),
            correlation: 0,
            versions: HashMap::new(),
        };
        let req = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("sluice"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let resp: ApiVersionsResponse = conn.send_raw(req, 3, Duration::from_secs(10)).await?;
        conn.versions = resp
            .api_keys
            .iter()
            .map(|k| (k.api_key, (k.min_version, k.max_version)))
            .collect();
        Ok(conn)
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The highest version of `api` both sides speak, at most `ours`.
    pub fn version(&self, api: ApiKey, ours: i16) -> Result<i16, WireError> {
        let (min, max) = self.versions.get(&(api as i16)).copied().unwrap_or((0, -1));
        let v = ours.min(max);
        if v < min || v < 0 {
            return Err(WireError::Unsupported {
                api,
                addr: self.addr.clone(),
                min,
                max,
            });
        }
        Ok(v)
    }

    /// Sends `req` at the best common version up to `ours` and waits up to `timeout`.
    pub async fn send<R: Call>(
        &mut self,
        req: R,
        ours: i16,
        timeout: Duration,
    ) -> Result<(R::Response, i16), WireError> {
        let version = self.version(R::API, ours)?;
        let resp = self.send_raw(req, version, timeout).await?;
        Ok((resp, version))
    }

    async fn send_raw<R: Call>(
        &mut self,
        req: R,
        version: i16,
        timeout: Duration,
    ) -> Result<R::Response, WireError> {
        let api = R::API;
        self.correlation = self.correlation.wrapping_add(1);
        let correlation = self.correlation;
        let header = RequestHeader::default()
            .with_request_api_key(R::API as i16)
            .with_request_api_version(version)
            .with_correlation_id(correlation)
            .with_client_id(Some(self.client_id.clone()));
        let codec = |e: anyhow::Error| WireError::Codec {
            api,
            addr: self.addr.clone(),
            message: e.to_string(),
        };
        let mut body = BytesMut::new();
        header
            .encode(&mut body, R::header_version(version))
            .map_err(codec)?;
        req.encode(&mut body, version).map_err(codec)?;
        let mut frame = BytesMut::with_capacity(body.len() + 4);
        frame.put_u32(u32::try_from(body.len()).unwrap_or(u32::MAX));
        frame.extend_from_slice(&body);
        let io = |source| WireError::Io {
            api,
            addr: self.addr.clone(),
            source,
        };
        let exchange = async {
            self.stream.write_all(&frame).await?;
            loop {
                let len = self.stream.read_u32().await? as usize;
                if len > MAX_RESPONSE {
                    return Ok(Err(len));
                }
                let mut buf = vec![0u8; len];
                self.stream.read_exact(&mut buf).await?;
                let mut buf = Bytes::from(buf);
                if buf.len() >= 4 && (&buf[..4]).get_i32() == correlation {
                    return Ok(Ok(buf.split_off(0)));
                }
                // A late answer to an abandoned request: skip it.
            }
        };
        let answer = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| WireError::Timeout {
                api,
                addr: self.addr.clone(),
                timeout,
            })?
            .map_err(io)?;
        let mut buf = match answer {
            Ok(buf) => buf,
            Err(len) => {
                return Err(WireError::TooLarge {
                    api,
                    addr: self.addr.clone(),
                    len,
                });
            }
        };
        let codec = |e: anyhow::Error| WireError::Codec {
            api,
            addr: self.addr.clone(),
            message: e.to_string(),
        };
        kafka_protocol::messages::ResponseHeader::decode(
            &mut buf,
            R::Response::header_version(version),
        )
        .map_err(codec)?;
        R::Response::decode(&mut buf, version).map_err(codec)
    }
}
