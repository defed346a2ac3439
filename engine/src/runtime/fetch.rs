//! Batch consumption for sink tasks. Each assigned partition's fetch queue is forwarded to one
//! queue owned by the task, which is read with `rd_kafka_consume_batch_queue`: one call per
//! burst instead of one event pop, clock read and `Arc` per message. Rebalances, commit
//! results and errors still arrive on the consumer queue, served by `BaseConsumer::poll`.
#![allow(unsafe_code)]

use std::borrow::Cow;
use std::ffi::{CStr, CString, c_void};
use std::os::raw::c_char;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::time::Duration;

use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::types::RDKafkaRespErr;
use sluice_codecs::model::record::timestamp_type;

/// Where newly assigned partitions are forwarded; shared between the task's [`FetchQueue`] and
/// its consumer context. Null once the queue is gone (then partitions stay on the consumer
/// queue, which `BaseConsumer::poll` still reads).
#[derive(Default)]
pub(crate) struct ForwardTarget(AtomicPtr<rd::rd_kafka_queue_t>);

impl ForwardTarget {
    /// Forwards the partitions' fetch queues to the task's queue. Called before librdkafka
    /// assigns them: its fetch start leaves an application-set forward alone, so every message
    /// of these partitions, including the first, lands on the task's queue in fetch order.
    pub(crate) fn forward<C: ConsumerContext>(
        &self,
        consumer: &BaseConsumer<C>,
        partitions: &[(String, i32)],
    ) {
        let target = self.0.load(Ordering::Acquire);
        if target.is_null() {
            return;
        }
        let rk = consumer.client().native_ptr();
        for (topic, partition) in partitions {
            let Ok(name) = CString::new(topic.as_str()) else {
                continue;
            };
            // SAFETY: `rk` is the live consumer handle; the returned queue handle is our own
            // reference to the partition's fetch queue, released right after forwarding. The
            // target is alive: it is cleared before `FetchQueue` destroys it, on this thread.
            unsafe {
                let partition_queue =
                    rd::rd_kafka_queue_get_partition(rk, name.as_ptr(), *partition);
                if partition_queue.is_null() {
                    tracing::warn!(
                        "no fetch queue for {topic}-{partition}; it is read one message at a time"
                    );
                    continue;
                }
                rd::rd_kafka_queue_forward(partition_queue, target);
                rd::rd_kafka_queue_destroy(partition_queue);
            }
        }
    }
}

/// The task's own fetch queue. Must be dropped before the consumer it was made from.
pub(crate) struct FetchQueue {
    queue: NonNull<rd::rd_kafka_queue_t>,
    target: Arc<ForwardTarget>,
    messages: Vec<*mut rd::rd_kafka_message_t>,
}

/// One consumed message, borrowed until the callback returns.
pub(crate) struct Fetched<'a> {
    message: &'a rd::rd_kafka_message_t,
    topic: &'a str,
}

impl FetchQueue {
    pub(crate) fn new<C: ConsumerContext>(
        consumer: &BaseConsumer<C>,
        target: Arc<ForwardTarget>,
    ) -> Option<FetchQueue> {
        // SAFETY: `rd_kafka_queue_new` only needs a live handle; the queue is destroyed in
        // `Drop`, which runs before the consumer's own drop (see the type's doc).
        let queue =
            NonNull::new(unsafe { rd::rd_kafka_queue_new(consumer.client().native_ptr()) })?;
        target.0.store(queue.as_ptr(), Ordering::Release);
        Some(FetchQueue {
            queue,
            target,
            messages: Vec::new(),
        })
    }

    /// Waits up to `timeout` for messages, then hands each of up to `max` to `each`, in queue
    /// order, and releases them. Returns how many there were (errors included).
    pub(crate) fn consume(
        &mut self,
        timeout: Duration,
        max: usize,
        mut each: impl FnMut(Result<Fetched<'_>, RDKafkaErrorCode>),
    ) -> usize {
        self.messages.clear();
        self.messages.reserve(max);
        let timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: librdkafka writes at most `max` message pointers into the vector's spare
        // capacity, reserved just above, and returns how many (or -1 on error).
        let got = unsafe {
            rd::rd_kafka_consume_batch_queue(
                self.queue.as_ptr(),
                timeout_ms,
                self.messages.as_mut_ptr(),
                max,
            )
        };
        let Ok(got) = usize::try_from(got) else {
            return 0;
        };
        // SAFETY: the first `got` slots were initialised by librdkafka (got <= max <= capacity).
        unsafe { self.messages.set_len(got.min(max)) };
        let released = Release(&mut self.messages);
        // Consecutive messages mostly share a topic handle; its name is read once per run.
        let mut topic: (*mut rd::rd_kafka_topic_t, &str) = (ptr::null_mut(), "");
        for &message in released.0.iter() {
            // SAFETY: librdkafka returned a valid message that we own until `Release` destroys it.
            let message = unsafe { &*message };
            if message.err == RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
                if message.rkt != topic.0 {
                    // SAFETY: a consumed message's topic handle, and so its name, stays valid
                    // while the message does: all of this call's messages live until `Release`.
                    let name = unsafe { CStr::from_ptr(rd::rd_kafka_topic_name(message.rkt)) };
                    topic = (message.rkt, name.to_str().unwrap_or(""));
                }
                each(Ok(Fetched {
                    message,
                    topic: topic.1,
                }));
            } else {
                each(Err(message.err.into()));
            }
        }
        got
    }
}

/// Destroys consumed messages even if the callback unwinds.
struct Release<'a>(&'a mut Vec<*mut rd::rd_kafka_message_t>);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        for message in self.0.drain(..) {
            // SAFETY: each pointer came from `rd_kafka_consume_batch_queue` and is destroyed once.
            unsafe { rd::rd_kafka_message_destroy(message) };
        }
    }
}

impl Drop for FetchQueue {
    fn drop(&mut self) {
        self.target.0.store(ptr::null_mut(), Ordering::Release);
        // SAFETY: created by `rd_kafka_queue_new` and destroyed once. Partitions still forwarded
        // to it hold their own references; librdkafka drops what they enqueue from now on.
        unsafe { rd::rd_kafka_queue_destroy(self.queue.as_ptr()) };
    }
}

impl<'a> Fetched<'a> {
    /// A message polled through `BaseConsumer::poll`, seen like a fetched one.
    pub(crate) fn polled(message: &'a BorrowedMessage<'_>) -> Fetched<'a> {
        Fetched {
            // SAFETY: the borrowed message's native message lives as long as the borrow.
            message: unsafe { &*message.ptr() },
            topic: message.topic(),
        }
    }

    pub(crate) fn topic(&self) -> &'a str {
        self.topic
    }

    pub(crate) fn partition(&self) -> i32 {
        self.message.partition
    }

    pub(crate) fn offset(&self) -> i64 {
        self.message.offset
    }

    /// The timestamp and its type as the raw batch stores them (`timestamp_type` codes).
    pub(crate) fn timestamp(&self) -> (Option<i64>, i8) {
        use rd::rd_kafka_timestamp_type_t as Kind;
        let mut kind = Kind::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
        // SAFETY: reads the message's own fields.
        let ts = unsafe { rd::rd_kafka_message_timestamp(self.message, &mut kind) };
        match kind {
            _ if ts == -1 => (None, timestamp_type::NO_TIMESTAMP_TYPE),
            Kind::RD_KAFKA_TIMESTAMP_CREATE_TIME => (Some(ts), timestamp_type::CREATE_TIME),
            Kind::RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME => (Some(ts), timestamp_type::LOG_APPEND_TIME),
            Kind::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE => (None, timestamp_type::NO_TIMESTAMP_TYPE),
        }
    }

    pub(crate) fn key(&self) -> Option<&'a [u8]> {
        bytes(self.message.key, self.message.key_len)
    }

    pub(crate) fn payload(&self) -> Option<&'a [u8]> {
        bytes(self.message.payload, self.message.len)
    }

    /// The record's headers in order; keys decoded as UTF-8 with replacement, as Kafka does.
    pub(crate) fn headers(
        &self,
    ) -> impl Iterator<Item = (Cow<'a, str>, Option<&'a [u8]>)> + use<'a> {
        let mut list: *mut rd::rd_kafka_headers_t = ptr::null_mut();
        // SAFETY: header access on a live consumed message; the list is owned by the message.
        let found = unsafe { rd::rd_kafka_message_headers(self.message, &mut list) };
        let list = (found == RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR && !list.is_null())
            .then_some(list);
        (0..).map_while(move |idx| {
            let list = list?;
            let mut name: *const c_char = ptr::null();
            let mut value: *const c_void = ptr::null();
            let mut size = 0usize;
            // SAFETY: `list` is valid while the message is; the out-pointers are locals.
            let err =
                unsafe { rd::rd_kafka_header_get_all(list, idx, &mut name, &mut value, &mut size) };
            if err != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR || name.is_null() {
                return None;
            }
            // SAFETY: librdkafka NUL-terminates header names and keeps them with the message.
            let key = String::from_utf8_lossy(unsafe { CStr::from_ptr(name) }.to_bytes());
            Some((key, bytes(value.cast_mut(), size)))
        })
    }
}

fn bytes<'a>(data: *mut c_void, len: usize) -> Option<&'a [u8]> {
    if data.is_null() {
        return None;
    }
    // SAFETY: librdkafka guarantees `len` readable bytes at a non-null key/payload/value,
    // alive as long as the message.
    Some(unsafe { std::slice::from_raw_parts(data.cast::<u8>().cast_const(), len) })
}
