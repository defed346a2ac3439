//! Routing kernels: the routers rewrite the dictionary-encoded topic column once per
//! distinct topic (and time bucket), Filter drops the rows its predicate selects.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, DictionaryArray, Int32Array, StringArray};
use arrow::datatypes::Int32Type;

use crate::batch::ConnectBatch;
use crate::predicates::Predicate;
use crate::transforms::{RegexRouter, TimestampRouter};

/// Rewrites the topic column: row `i` with topic dictionary key `k` falls in `bucket(i)`, and
/// `route(topic, i)` names the new topic once per distinct (k, bucket); no per-row allocation.
fn set_topics(
    b: &mut ConnectBatch,
    bucket: impl Fn(usize) -> i64,
    mut route: impl FnMut(&str, usize) -> Option<String>,
) -> Option<()> {
    let n = b.raw.num_rows();
    let topics = b.raw.topics();
    let names: &StringArray = topics.values().as_string::<i32>();
    let mut dict: Vec<String> = Vec::new();
    let mut by_name: HashMap<String, i32> = HashMap::new();
    let mut by_bucket: HashMap<(i32, i64), i32> = HashMap::new();
    let mut keys = Vec::with_capacity(n);
    let mut last: Option<((i32, i64), i32)> = None;
    for i in 0..n {
        let slot = (topics.keys().value(i), bucket(i));
        let k = match last {
            Some((s, k)) if s == slot => k,
            _ => {
                let k = match by_bucket.get(&slot) {
                    Some(k) => *k,
                    None => {
                        let topic = route(names.value(slot.0 as usize), i)?;
                        let k = *by_name.entry(topic.clone()).or_insert_with(|| {
                            dict.push(topic);
                            dict.len() as i32 - 1
                        });
                        by_bucket.insert(slot, k);
                        k
                    }
                };
                last = Some((slot, k));
                k
            }
        };
        keys.push(k);
    }
    let topics = DictionaryArray::<Int32Type>::try_new(
        Int32Array::from(keys),
        Arc::new(StringArray::from(dict)),
    )
    .ok()?;
    if b.original_topics.is_none() {
        b.original_topics = Some(b.raw.topics().clone());
    }
    b.raw = b.raw.with_topics(topics).ok()?;
    Some(())
}

pub(super) fn timestamp_router(t: &TimestampRouter, mut b: ConnectBatch) -> Option<ConnectBatch> {
    let ts = b.raw.timestamps().clone();
    if ts.null_count() > 0 {
        return None;
    }
    let format = t.format.as_ref().ok()?;
    let by_day = format.date_only();
    let bucket = |i: usize| {
        if by_day {
            ts.value(i).div_euclid(86_400_000)
        } else {
            ts.value(i)
        }
    };
    set_topics(&mut b, bucket, |topic, i| {
        Some(
            t.topic_format
                .replace("${topic}", topic)
                .replace("${timestamp}", &format.format(ts.value(i))),
        )
    })?;
    Some(b)
}

pub(super) fn regex_router(t: &RegexRouter, mut b: ConnectBatch) -> Option<ConnectBatch> {
    // A topic whose replacement fails takes the per-record path, which reports the error.
    set_topics(
        &mut b,
        |_| 0,
        |topic, _| match t.route(topic) {
            Ok(routed) => Some(routed.unwrap_or_else(|| topic.to_string())),
            Err(_) => None,
        },
    )?;
    Some(b)
}

/// The predicate's answer for every row, or `None` when it needs the per-record path.
pub(super) fn predicate_mask(p: &Predicate, b: &ConnectBatch) -> Option<Vec<bool>> {
    let n = b.num_rows();
    Some(match p {
        Predicate::TopicNameMatches(re) => {
            let topics = b.raw.topics();
            let names: &StringArray = topics.values().as_string::<i32>();
            let matches: Vec<bool> = (0..names.len())
                .map(|k| re.is_match(names.value(k)))
                .collect();
            (0..n)
                .map(|i| matches[topics.keys().value(i) as usize])
                .collect()
        }
        Predicate::RecordIsTombstone => (0..n).map(|i| b.value.is_null(i)).collect(),
        Predicate::HasHeaderKey(key) => (0..n).map(|i| b.headers.has_key(i, key)).collect(),
    })
}

pub(super) fn filter(
    b: ConnectBatch,
    predicate: Option<&(Predicate, bool)>,
) -> Option<ConnectBatch> {
    let drop: Vec<bool> = match predicate {
        None => vec![true; b.num_rows()],
        Some((p, negate)) => predicate_mask(p, &b)?
            .into_iter()
            .map(|m| m != *negate)
            .collect(),
    };
    if !drop.iter().any(|d| *d) {
        return Some(b);
    }
    let keep = BooleanArray::from_iter(drop.iter().map(|d| Some(!d)));
    b.filter(&keep).ok()
}
