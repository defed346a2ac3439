//! The worker group's membership against the real broker: two members join group
//! `connect`-type, the leader sees both members' metadata, hands out assignments that each
//! member receives byte for byte, heartbeats hold, and a leave makes the other member the
//! leader of the next generation.

mod common;

use std::time::Duration;

use sluice_engine::distributed::group::{GroupMember, GroupSettings};
use sluice_engine::distributed::protocol::{Assignment, Protocol, WorkerMetadata, allocation};

fn settings(group: &str, client: &str) -> GroupSettings {
    GroupSettings {
        bootstrap: vec![common::bootstrap()],
        group_id: group.to_string(),
        client_id: client.to_string(),
        session_timeout: Duration::from_secs(10),
        rebalance_timeout: Duration::from_secs(20),
        heartbeat_interval: Duration::from_secs(3),
        request_timeout: Duration::from_secs(10),
    }
}

fn offers(url: &str, protocol: Protocol) -> Vec<(Protocol, Vec<u8>)> {
    let m = WorkerMetadata {
        url: url.to_string(),
        config_offset: -1,
        allocation: None,
    };
    protocol
        .offered()
        .iter()
        .map(|p| (*p, m.encode(*p)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_members_join_sync_heartbeat_and_leave() {
    common::require_broker();
    let group = common::unique("sluice-group");
    let mut a = GroupMember::new(settings(&group, "connect-a"));
    let mut b = GroupMember::new(settings(&group, "connect-b"));

    let first = a
        .join(&offers("http://a/", Protocol::Sessioned))
        .await
        .unwrap();
    assert!(first.is_leader());
    assert_eq!(first.protocol, Protocol::Sessioned);
    assert_eq!(first.members.len(), 1);
    let solo = Assignment {
        leader: first.member_id.clone(),
        leader_url: "http://a/".into(),
        config_offset: -1,
        ..Default::default()
    };
    let got = a
        .sync(
            &first,
            vec![(first.member_id.clone(), solo.encode(Protocol::Sessioned))],
        )
        .await
        .unwrap();
    assert_eq!(Assignment::decode(&got).unwrap(), solo);

    // (Tansu refuses a member whose protocols are a strict subset of the group's with
    // INCONSISTENT_GROUP_PROTOCOL, where Kafka would pick a common one: both offer the same.)
    let b_join = tokio::spawn(async move {
        let j = b.join(&offers("http://b/", Protocol::Sessioned)).await;
        (b, j)
    });
    // A is told to rejoin by its heartbeat, as a running worker is.
    let mut hb = a.heartbeat();
    let mut rejoin = false;
    for _ in 0..40 {
        if let Err(e) = hb.beat().await {
            assert!(e.needs_rejoin(), "{e}");
            rejoin = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    if !rejoin {
        let (_, j) = b_join.await.unwrap();
        panic!("A was never asked to rejoin; B: {j:?}");
    }
    let second = a
        .join(&offers("http://a/", Protocol::Sessioned))
        .await
        .unwrap();
    let (mut b, b_joined) = b_join.await.unwrap();
    let b_joined = b_joined.unwrap();
    assert_eq!(second.generation, b_joined.generation);
    assert_eq!(second.protocol, Protocol::Sessioned);
    assert!(second.is_leader());
    assert!(!b_joined.is_leader());
    assert!(b_joined.members.is_empty());
    let mut urls: Vec<String> = second
        .members
        .iter()
        .map(|(_, m)| WorkerMetadata::decode(m).unwrap().url)
        .collect();
    urls.sort();
    assert_eq!(urls, ["http://a/", "http://b/"]);

    let for_b = Assignment {
        leader: second.member_id.clone(),
        leader_url: "http://a/".into(),
        config_offset: 3,
        assigned: allocation(["c1"], [("c1", 0)]),
        ..Default::default()
    };
    let for_a = Assignment {
        assigned: allocation([], [("c1", 1)]),
        ..for_b.clone()
    };
    let bytes_b = for_b.encode(Protocol::Sessioned);
    let expected_b = bytes_b.clone();
    let b_sync = tokio::spawn(async move {
        let got = b.sync(&b_joined, Vec::new()).await;
        (b, got)
    });
    let got_a = a
        .sync(
            &second,
            vec![
                (second.member_id.clone(), for_a.encode(Protocol::Sessioned)),
                (b_joined_member(&second), bytes_b),
            ],
        )
        .await
        .unwrap();
    assert_eq!(Assignment::decode(&got_a).unwrap(), for_a);
    let (mut b, got_b) = b_sync.await.unwrap();
    assert_eq!(got_b.unwrap().as_ref(), expected_b.as_slice());

    let mut hb_b = b.heartbeat();
    hb_b.beat().await.unwrap();
    a.heartbeat().beat().await.unwrap();

    // A leaves; B becomes the leader of the next generation, alone.
    a.leave("the consumer is being closed").await.unwrap();
    let third = b
        .join(&offers("http://b/", Protocol::Sessioned))
        .await
        .unwrap();
    assert!(third.is_leader());
    assert_eq!(third.members.len(), 1);
    assert!(third.generation > second.generation);
    b.leave("the consumer is being closed").await.unwrap();
}

/// The member id of the group's other member, from the leader's view.
fn b_joined_member(leader_view: &sluice_engine::distributed::group::Joined) -> String {
    leader_view
        .members
        .iter()
        .map(|(id, _)| id.clone())
        .find(|id| *id != leader_view.member_id)
        .expect("the leader sees the other member")
}
