//! Reads internal topics with Fetch on the `kafka-protocol` crate: records from a position,
//! and the high watermark every response carries, which is the end of a partition for
//! "read to the end" without ListOffsets (the test broker answers that wrongly: the base
//! offset of the last batch + 1; `../shared/broker.md`). librdkafka's consumer is not used
//! here: right after a topic is created it fetches by name (v12) and librdkafka 2.12
//! crashes on the leader tags the test broker puts in those answers.

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_protocol::messages::{
    ApiKey, BrokerId, FetchRequest, MetadataRequest, TopicName,
    fetch_request::{FetchPartition, FetchTopic},
    metadata_request::MetadataRequestTopic,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{Compression, RecordBatchDecoder};

use super::wire::{Connection, WireError};

#[derive(Debug, thiserror::Error)]
pub enum WatermarkError {
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("topic {topic}: {api:?} error {code}")]
    Kafka {
        topic: String,
        api: ApiKey,
        code: i16,
    },
    #[error("topic {topic}: partition {partition} has no leader")]
    NoLeader { topic: String, partition: i32 },
    #[error("topic {topic}: no broker among {bootstrap} answered")]
    Unreachable { topic: String, bootstrap: String },
    #[error("topic {topic} partition {partition}: cannot decode records: {message}")]
    Records {
        topic: String,
        partition: i32,
        message: String,
    },
}

/// A record read from a partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedRecord {
    pub offset: i64,
    pub timestamp: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

/// One partition of a Fetch answer.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    pub log_start: i64,
    pub high_watermark: i64,
    /// Records at or after the position asked (control records left out).
    pub records: Vec<FetchedRecord>,
    /// The offset after the last batch returned (past control batches too).
    pub next: Option<i64>,
}

/// Asks the partition leaders for their high watermarks; connections are kept.
#[derive(Debug)]
pub struct WatermarkReader {
    bootstrap: Vec<String>,
    client_id: String,
    timeout: Duration,
    conns: BTreeMap<String, Connection>,
}

impl WatermarkReader {
    pub fn new(bootstrap: Vec<String>, client_id: &str) -> Self {
        Self {
            bootstrap,
            client_id: client_id.to_string(),
            timeout: Duration::from_secs(10),
            conns: BTreeMap::new(),
        }
    }

    async fn conn(&mut self, addr: &str) -> Result<&mut Connection, WireError> {
        if !self.conns.contains_key(addr) {
            let c = Connection::open(addr, &self.client_id).await?;
            self.conns.insert(addr.to_string(), c);
        }
        self.conns.get_mut(addr).ok_or_else(|| WireError::Connect {
            addr: addr.to_string(),
            source: std::io::Error::other("connection vanished"),
        })
    }

    /// Partition → leader address.
    async fn leaders(&mut self, topic: &str) -> Result<BTreeMap<i32, String>, WatermarkError> {
        let mut last = None;
        for addr in self.bootstrap.clone() {
            let req = MetadataRequest::default()
                .with_topics(Some(vec![MetadataRequestTopic::default().with_name(Some(
                    TopicName(StrBytes::from_string(topic.to_string())),
                ))]))
                .with_allow_auto_topic_creation(false);
            let timeout = self.timeout;
            let sent = match self.conn(&addr).await {
                Ok(c) => c.send(req, 12, timeout).await,
                Err(e) => Err(e),
            };
            let resp = match sent {
                Ok((r, _)) => r,
                Err(e) => {
                    self.conns.remove(&addr);
                    last = Some(e);
                    continue;
                }
            };
            let brokers: BTreeMap<BrokerId, String> = resp
                .brokers
                .iter()
                .map(|b| (b.node_id, format!("{}:{}", b.host, b.port)))
                .collect();
            let t = resp
                .topics
                .iter()
                .find(|t| t.name.as_ref().is_some_and(|n| n.0.as_str() == topic));
            let Some(t) = t else {
                return Err(WatermarkError::Kafka {
                    topic: topic.into(),
                    api: ApiKey::Metadata,
                    code: 3,
                });
            };
            if t.error_code != 0 {
                return Err(WatermarkError::Kafka {
                    topic: topic.into(),
                    api: ApiKey::Metadata,
                    code: t.error_code,
                });
            }
            let mut out = BTreeMap::new();
            for p in &t.partitions {
                let leader = brokers.get(&p.leader_id).ok_or(WatermarkError::NoLeader {
                    topic: topic.into(),
                    partition: p.partition_index,
                })?;
                out.insert(p.partition_index, leader.clone());
            }
            return Ok(out);
        }
        match last {
            Some(e) => Err(e.into()),
            None => Err(WatermarkError::Unreachable {
                topic: topic.into(),
                bootstrap: self.bootstrap.join(","),
            }),
        }
    }

    /// Fetches each partition from its position (waiting up to `max_wait` for data);
    /// every answer carries the partition's log start and high watermark.
    pub async fn fetch(
        &mut self,
        topic: &str,
        positions: &BTreeMap<i32, i64>,
        max_wait: Duration,
    ) -> Result<BTreeMap<i32, Fetched>, WatermarkError> {
        let leaders = self.leaders(topic).await?;
        let mut by_leader: BTreeMap<String, Vec<(i32, i64)>> = BTreeMap::new();
        for (&p, &pos) in positions {
            let leader = leaders.get(&p).ok_or(WatermarkError::NoLeader {
                topic: topic.into(),
                partition: p,
            })?;
            by_leader.entry(leader.clone()).or_default().push((p, pos));
        }
        let mut out = BTreeMap::new();
        for (leader, parts) in by_leader {
            let req = FetchRequest::default()
                .with_replica_id(BrokerId(-1))
                .with_max_wait_ms(i32::try_from(max_wait.as_millis()).unwrap_or(i32::MAX))
                .with_min_bytes(1)
                .with_max_bytes(8 << 20)
                .with_isolation_level(0)
                .with_session_id(0)
                .with_session_epoch(-1)
                .with_topics(vec![
                    FetchTopic::default()
                        .with_topic(TopicName(StrBytes::from_string(topic.to_string())))
                        .with_partitions(
                            parts
                                .iter()
                                .map(|(p, pos)| {
                                    FetchPartition::default()
                                        .with_partition(*p)
                                        .with_fetch_offset(*pos)
                                        .with_current_leader_epoch(-1)
                                        .with_log_start_offset(-1)
                                        .with_partition_max_bytes(1 << 20)
                                })
                                .collect(),
                        ),
                ]);
            let timeout = self.timeout + max_wait;
            let conn = self.conn(&leader).await?;
            // v12: the last version that names topics (v13 on uses topic ids).
            let sent = conn.send(req, 12, timeout).await;
            let (resp, _) = match sent {
                Ok(r) => r,
                Err(e) => {
                    self.conns.remove(&leader);
                    return Err(e.into());
                }
            };
            for t in &resp.responses {
                for p in &t.partitions {
                    if p.error_code != 0 {
                        return Err(WatermarkError::Kafka {
                            topic: topic.into(),
                            api: ApiKey::Fetch,
                            code: p.error_code,
                        });
                    }
                    let from = positions.get(&p.partition_index).copied().unwrap_or(0);
                    let mut fetched = Fetched {
                        log_start: p.log_start_offset,
                        high_watermark: p.high_watermark,
                        ..Default::default()
                    };
                    if let Some(bytes) = &p.records {
                        decode_records(
                            topic,
                            p.partition_index,
                            bytes.clone(),
                            from,
                            &mut fetched,
                        )?;
                    }
                    out.insert(p.partition_index, fetched);
                }
            }
        }
        Ok(out)
    }
}

/// Decodes the record batches of one partition (uncompressed: the internal topics' writers
/// do not compress; a compressed batch is an error naming the codec).
fn decode_records(
    topic: &str,
    partition: i32,
    mut bytes: bytes::Bytes,
    from: i64,
    out: &mut Fetched,
) -> Result<(), WatermarkError> {
    use bytes::Buf;
    let error = |message: String| WatermarkError::Records {
        topic: topic.to_string(),
        partition,
        message,
    };
    while bytes.remaining() >= 12 {
        // base offset (8) + batch length (4): skip a trailing partial batch.
        let len = i32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        let Ok(len) = usize::try_from(len) else {
            return Err(error(format!("negative batch length {len}")));
        };
        if bytes.remaining() < 12 + len {
            break;
        }
        let base = i64::from_be_bytes([
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
        ]);
        let mut batch = bytes.split_to(12 + len);
        let no_decompression: Option<
            fn(&mut bytes::Bytes, Compression) -> anyhow::Result<bytes::Bytes>,
        > = Some(|b: &mut bytes::Bytes, c: Compression| match c {
            Compression::None => Ok(std::mem::take(b)),
            c => Err(anyhow::anyhow!(
                "{c:?}-compressed batches are not supported"
            )),
        });
        let set = RecordBatchDecoder::decode_with_custom_compression(&mut batch, no_decompression)
            .map_err(|e| error(format!("batch at offset {base}: {e}")))?;
        let mut last = base;
        for r in set.records {
            last = last.max(r.offset);
            if r.control || r.offset < from {
                continue;
            }
            out.records.push(FetchedRecord {
                offset: r.offset,
                timestamp: r.timestamp,
                key: r.key.map(|k| k.to_vec()),
                value: r.value.map(|v| v.to_vec()),
            });
        }
        out.next = Some(out.next.unwrap_or(0).max(last + 1));
    }
    Ok(())
}
