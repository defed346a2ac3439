//! The leader's assignment, as Kafka's: `EagerAssignor` for protocol v0 (everything,
//! round-robin over sorted members) and `IncrementalCooperativeAssignor` for v1/v2 (revoke
//! first and assign in the next round, hold a departed member's work for
//! `scheduled.rebalance.max.delay.ms`, balance connector and task counts). Where Kafka walks
//! a Java `HashMap`, the same order is reproduced ([`super::java_order`]), so a sluice leader
//! and a Java leader decide alike.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use indexmap::IndexSet;

use super::java_order::{
    capacity_copied, capacity_grown, cmp_str, hash_order, string_hash, task_hash,
};
use super::protocol::{
    Assignment, CONFIG_MISMATCH, NO_ERROR, Protocol, TaskId, Work, WorkerMetadata,
};

/// What the config topic says should run: each connector with its task count (0 while its
/// task configs are inconsistent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Configured {
    pub offset: i64,
    pub tasks: BTreeMap<String, u32>,
}

impl Configured {
    fn connectors_sorted(&self) -> Vec<String> {
        let mut c: Vec<String> = self.tasks.keys().cloned().collect();
        c.sort_by(|a, b| cmp_str(a, b));
        c
    }

    fn tasks_of(&self, connector: &str) -> impl Iterator<Item = TaskId> + '_ {
        let n = self.tasks.get(connector).copied().unwrap_or(0);
        let c = connector.to_string();
        (0..n).map(move |t| TaskId::new(c.clone(), i32::try_from(t).unwrap_or(i32::MAX)))
    }

    fn all(&self) -> Work {
        let mut w = Work::default();
        for c in self.connectors_sorted() {
            w.connectors.insert(c);
        }
        let mut tasks: Vec<TaskId> = self.tasks.keys().flat_map(|c| self.tasks_of(c)).collect();
        tasks.sort();
        w.tasks.extend(tasks);
        w
    }
}

/// One round's input: the JoinGroup members (in the coordinator's order) and the leader's view.
#[derive(Debug, Clone)]
pub struct Round<'a> {
    pub leader_id: &'a str,
    pub protocol: Protocol,
    pub members: &'a [(String, WorkerMetadata)],
    pub configured: &'a Configured,
    /// Generation of this worker's last completed join (-1 if none).
    pub last_completed_generation: i32,
    /// Generation being assigned.
    pub generation: i32,
    pub now_ms: i64,
}

impl Round<'_> {
    fn leader_url(&self) -> String {
        self.members
            .iter()
            .find(|(id, _)| id == self.leader_id)
            .map(|(_, m)| m.url.clone())
            .unwrap_or_default()
    }

    fn max_offset(&self) -> i64 {
        self.members
            .iter()
            .map(|(_, m)| m.config_offset)
            .max()
            .unwrap_or(-1)
    }

    /// Member ids in the order of Kafka's `memberConfigs` `HashMap`.
    fn member_order(&self) -> Vec<String> {
        let ids: Vec<String> = self.members.iter().map(|(id, _)| id.clone()).collect();
        let distinct: HashSet<&String> = ids.iter().collect();
        hash_order(
            &ids,
            |s| s.clone(),
            |s| string_hash(s),
            capacity_grown(distinct.len()),
        )
    }

    /// Every member gets CONFIG_MISMATCH: the leader is behind what a member has read.
    fn mismatch(&self) -> Option<Vec<(String, Assignment)>> {
        let max = self.max_offset();
        if self.configured.offset >= max {
            return None;
        }
        let leader_url = self.leader_url();
        Some(
            self.members
                .iter()
                .map(|(id, _)| {
                    (
                        id.clone(),
                        Assignment {
                            error: CONFIG_MISMATCH,
                            leader: self.leader_id.to_string(),
                            leader_url: leader_url.clone(),
                            config_offset: max,
                            ..Default::default()
                        },
                    )
                })
                .collect(),
        )
    }
}

/// Eager (v0): connectors, then tasks, round-robin over members sorted by id, one iterator
/// running on from connectors into tasks.
pub fn assign_eager(round: &Round<'_>) -> Vec<(String, Assignment)> {
    if let Some(m) = round.mismatch() {
        return m;
    }
    let mut members: Vec<String> = round.members.iter().map(|(id, _)| id.clone()).collect();
    members.sort_by(|a, b| cmp_str(a, b));
    members.dedup();
    let mut work: BTreeMap<String, Work> = members
        .iter()
        .map(|m| (m.clone(), Work::default()))
        .collect();
    if !members.is_empty() {
        let mut next = members.iter().cycle();
        let connectors = round.configured.connectors_sorted();
        for c in &connectors {
            if let Some(m) = next.next()
                && let Some(w) = work.get_mut(m)
            {
                w.connectors.insert(c.clone());
            }
        }
        for c in &connectors {
            for t in round.configured.tasks_of(c) {
                if let Some(m) = next.next()
                    && let Some(w) = work.get_mut(m)
                {
                    w.tasks.insert(t);
                }
            }
        }
    }
    let leader_url = round.leader_url();
    round
        .members
        .iter()
        .map(|(id, _)| {
            let w = work.get(id).cloned().unwrap_or_default();
            (
                id.clone(),
                Assignment {
                    error: NO_ERROR,
                    leader: round.leader_id.to_string(),
                    leader_url: leader_url.clone(),
                    config_offset: round.configured.offset,
                    assigned: w.assigned_allocation(),
                    revoked: Vec::new(),
                    delay: 0,
                },
            )
        })
        .collect()
}

/// Kafka's `ExponentialBackoff(1, 40, max, 0)` (0 when delays are off).
fn backoff(max_delay: i32, attempts: u32) -> i32 {
    let initial: i64 = if max_delay == 0 { 0 } else { 1 };
    let max = i64::from(max_delay);
    let exp_max = if max > initial {
        ((max as f64) / (initial.max(1) as f64)).ln() / 40f64.ln()
    } else {
        0.0
    };
    if exp_max == 0.0 {
        return i32::try_from(initial).unwrap_or(0);
    }
    let exp = f64::from(attempts).min(exp_max);
    let term = (initial as f64) * 40f64.powf(exp);
    #[allow(clippy::cast_possible_truncation)]
    let value = term as i64;
    i32::try_from(value.min(max)).unwrap_or(max_delay)
}

/// A member's load while the leader computes (`WorkerLoad`).
#[derive(Debug, Clone)]
struct Load {
    worker: String,
    work: Work,
}

fn remove_all(w: &mut Work, gone: &Work) {
    for c in &gone.connectors {
        w.connectors.shift_remove(c);
    }
    for t in &gone.tasks {
        w.tasks.shift_remove(t);
    }
}

fn extend(w: &mut Work, more: &Work) {
    w.connectors.extend(more.connectors.iter().cloned());
    w.tasks.extend(more.tasks.iter().cloned());
}

/// `diff(base, subs...)`: what `base` holds that none of `subs` do, sorted.
fn diff(base: &Work, subs: &[&Work]) -> Work {
    let mut connectors: Vec<String> = base
        .connectors
        .iter()
        .filter(|c| !subs.iter().any(|s| s.connectors.contains(*c)))
        .cloned()
        .collect();
    connectors.sort_by(|a, b| cmp_str(a, b));
    let mut tasks: Vec<TaskId> = base
        .tasks
        .iter()
        .filter(|t| !subs.iter().any(|s| s.tasks.contains(*t)))
        .cloned()
        .collect();
    tasks.sort();
    Work {
        connectors: connectors.into_iter().collect(),
        tasks: tasks.into_iter().collect(),
    }
}

/// `new HashSet<>(member's items)` then `retainAll(filter)`: Java's order of the survivors.
fn retained_in_hash_order(member: &Work, filter: &Work) -> Work {
    let list: Vec<String> = member.connectors.iter().cloned().collect();
    let connectors = hash_order(
        &list,
        |s| s.clone(),
        |s| string_hash(s),
        capacity_copied(list.len()),
    );
    let tasks: Vec<TaskId> = member.tasks.iter().cloned().collect();
    let tasks = hash_order(
        &tasks,
        |t| t.clone(),
        |t| task_hash(&t.connector, t.task),
        capacity_copied(tasks.len()),
    );
    Work {
        connectors: connectors
            .into_iter()
            .filter(|c| filter.connectors.contains(c))
            .collect(),
        tasks: tasks
            .into_iter()
            .filter(|t| filter.tasks.contains(t))
            .collect(),
    }
}

/// The incremental cooperative assignor's memory across rounds (Kafka keeps it on every
/// worker, also while another worker leads).
#[derive(Debug, Clone)]
pub struct IncrementalAssignor {
    max_delay: i32,
    previous_assignment: Work,
    previous_revocation: Work,
    revoked_in_previous: bool,
    successive_revoking_rebalances: u32,
    candidates: IndexSet<String>,
    scheduled_rebalance: i64,
    delay: i32,
    previous_generation: i32,
    previous_members: BTreeSet<String>,
}

impl IncrementalAssignor {
    /// `max_delay`: `scheduled.rebalance.max.delay.ms`.
    pub fn new(max_delay: i32) -> Self {
        Self {
            max_delay,
            previous_assignment: Work::default(),
            previous_revocation: Work::default(),
            revoked_in_previous: false,
            successive_revoking_rebalances: 0,
            candidates: IndexSet::new(),
            scheduled_rebalance: 0,
            delay: 0,
            previous_generation: -1,
            previous_members: BTreeSet::new(),
        }
    }

    /// The assignments of one round, for every member.
    pub fn assign(&mut self, round: &Round<'_>) -> Vec<(String, Assignment)> {
        if let Some(m) = round.mismatch() {
            return m;
        }
        let order = round.member_order();
        let reported: BTreeMap<&str, Work> = round
            .members
            .iter()
            .map(|(id, m)| {
                let w = m
                    .allocation
                    .as_ref()
                    .map(|a| Work::from_allocation(&a.assigned))
                    .unwrap_or_default();
                (id.as_str(), w)
            })
            .collect();
        let members: Vec<(String, Work)> = order
            .iter()
            .map(|id| {
                (
                    id.clone(),
                    reported.get(id.as_str()).cloned().unwrap_or_default(),
                )
            })
            .collect();
        let (incremental, revoked) = self.compute(round, &members);
        let leader_url = round.leader_url();
        round
            .members
            .iter()
            .map(|(id, _)| {
                let added = incremental.get(id).cloned().unwrap_or_default();
                let gone = revoked.get(id).cloned().unwrap_or_default();
                (
                    id.clone(),
                    Assignment {
                        error: NO_ERROR,
                        leader: round.leader_id.to_string(),
                        leader_url: leader_url.clone(),
                        config_offset: round.configured.offset,
                        assigned: added.assigned_allocation(),
                        revoked: gone.revoked_allocation(),
                        delay: self.delay,
                    },
                )
            })
            .collect()
    }

    /// Kafka's `performTaskAssignment`: per member, what is added and what is revoked.
    fn compute(
        &mut self,
        round: &Round<'_>,
        members: &[(String, Work)],
    ) -> (BTreeMap<String, Work>, BTreeMap<String, Work>) {
        let now = round.now_ms;
        if self.previous_generation != round.last_completed_generation {
            tracing::debug!("Clearing the view of previous assignments due to generation mismatch");
            self.previous_assignment = Work::default();
        }
        let configured = round.configured.all();
        let mut active = Work::default();
        for (_, w) in members {
            active.connectors.extend(w.connectors.iter().cloned());
        }
        for (_, w) in members {
            active.tasks.extend(w.tasks.iter().cloned());
        }
        if !self.previous_revocation.is_empty() {
            let unapplied = self
                .previous_revocation
                .connectors
                .iter()
                .any(|c| active.connectors.contains(c))
                || self
                    .previous_revocation
                    .tasks
                    .iter()
                    .any(|t| active.tasks.contains(t));
            if unapplied {
                self.previous_assignment = active.clone();
            }
            self.previous_revocation = Work::default();
        }
        let deleted = diff(&self.previous_assignment, &[&configured]);
        let duplicated = duplicated(members);
        let lost = diff(&self.previous_assignment, &[&active, &deleted]);
        let created = diff(&configured, &[&self.previous_assignment, &active]);

        let current: BTreeMap<String, Work> = members
            .iter()
            .map(|(id, w)| {
                let mut w = w.clone();
                remove_all(&mut w, &deleted);
                (id.clone(), w)
            })
            .collect();

        let mut to_revoke: BTreeMap<String, Work> = BTreeMap::new();
        for (id, w) in members {
            let d = retained_in_hash_order(w, &deleted);
            let dup = retained_in_hash_order(w, &duplicated);
            let e = to_revoke.entry(id.clone()).or_default();
            extend(e, &d);
            extend(e, &dup);
        }
        let mut next: Vec<Load> = members
            .iter()
            .map(|(id, w)| Load {
                worker: id.clone(),
                work: w.clone(),
            })
            .collect();
        for load in &mut next {
            if let Some(r) = to_revoke.get(&load.worker) {
                remove_all(&mut load.work, r);
            }
        }

        let mut lost_to_reassign = Work::default();
        self.handle_lost(&lost, &mut lost_to_reassign, &mut next, now);

        if self.delay == 0 {
            let lbr = load_balancing_revocations(&configured, &next);
            if self.revoked_in_previous && !lbr.is_empty() {
                self.successive_revoking_rebalances += 1;
                self.delay = backoff(self.max_delay, self.successive_revoking_rebalances);
                if self.delay != 0 {
                    self.scheduled_rebalance = now + i64::from(self.delay);
                } else {
                    apply_revocations(&lbr, &mut to_revoke, &mut next);
                }
            } else if !lbr.is_empty() {
                apply_revocations(&lbr, &mut to_revoke, &mut next);
                self.revoked_in_previous = true;
            } else if self.revoked_in_previous {
                self.revoked_in_previous = false;
                self.successive_revoking_rebalances = 0;
            }
        } else {
            self.revoked_in_previous = false;
        }

        let mut to_assign = created.clone();
        extend(&mut to_assign, &lost_to_reassign);
        assign_connectors(&mut next, &to_assign.connectors);
        assign_tasks(&mut next, &to_assign.tasks);

        let mut incremental: BTreeMap<String, Work> = BTreeMap::new();
        for load in &next {
            let before = current.get(&load.worker).cloned().unwrap_or_default();
            let mut added = load.work.clone();
            remove_all(&mut added, &before);
            incremental.insert(load.worker.clone(), added);
        }

        let mut previous = Work::default();
        for load in &next {
            previous
                .connectors
                .extend(load.work.connectors.iter().cloned());
        }
        for load in &next {
            previous.tasks.extend(load.work.tasks.iter().cloned());
        }
        for r in to_revoke.values() {
            remove_all(&mut previous, r);
        }
        extend(&mut previous, &lost);
        for id in members.iter().map(|(id, _)| id) {
            if let Some(r) = to_revoke.get(id) {
                extend(&mut self.previous_revocation, r);
            }
        }
        self.previous_assignment = previous;
        self.previous_generation = round.generation;
        self.previous_members = members.iter().map(|(id, _)| id.clone()).collect();
        (incremental, to_revoke)
    }

    /// Kafka's `handleLostAssignments`.
    fn handle_lost(&mut self, lost: &Work, reassign: &mut Work, next: &mut [Load], now: i64) {
        if lost.is_empty() && !self.revoked_in_previous {
            self.reset_delay();
            return;
        }
        let active: BTreeSet<&String> = next.iter().map(|l| &l.worker).collect();
        let everyone_back = self.previous_members.iter().all(|m| active.contains(m));
        // Nobody left (lost work is new work), or delays are off (KAFKA-15693).
        if (self.scheduled_rebalance <= 0 && everyone_back) || self.max_delay == 0 {
            extend(reassign, lost);
            return;
        }
        if self.scheduled_rebalance > 0 && now >= self.scheduled_rebalance {
            let candidates: Vec<usize> = self
                .candidates
                .iter()
                .filter_map(|c| next.iter().position(|l| &l.worker == c))
                .collect();
            if candidates.is_empty() {
                extend(reassign, lost);
            } else {
                for (i, c) in lost.connectors.iter().enumerate() {
                    next[candidates[i % candidates.len()]]
                        .work
                        .connectors
                        .insert(c.clone());
                }
                for (i, t) in lost.tasks.iter().enumerate() {
                    next[candidates[i % candidates.len()]]
                        .work
                        .tasks
                        .insert(t.clone());
                }
            }
            self.reset_delay();
            self.revoked_in_previous = false;
        } else {
            let empty: Vec<String> = next
                .iter()
                .filter(|l| l.work.is_empty())
                .map(|l| l.worker.clone())
                .collect();
            let empty = hash_order(
                &empty,
                |s| s.clone(),
                |s| string_hash(s),
                capacity_grown(empty.len()),
            );
            self.candidates.extend(empty);
            if now < self.scheduled_rebalance {
                let left = (self.scheduled_rebalance - now).min(i64::from(self.max_delay));
                self.delay = i32::try_from(left.max(0)).unwrap_or(self.max_delay);
            } else {
                self.delay = self.max_delay;
            }
            self.scheduled_rebalance = now + i64::from(self.delay);
        }
    }

    fn reset_delay(&mut self) {
        self.candidates.clear();
        self.scheduled_rebalance = 0;
        self.delay = 0;
    }
}

/// Connectors and tasks more than one member reports.
fn duplicated(members: &[(String, Work)]) -> Work {
    let mut seen_c: BTreeMap<&String, usize> = BTreeMap::new();
    let mut seen_t: BTreeMap<&TaskId, usize> = BTreeMap::new();
    for (_, w) in members {
        for c in &w.connectors {
            *seen_c.entry(c).or_default() += 1;
        }
        for t in &w.tasks {
            *seen_t.entry(t).or_default() += 1;
        }
    }
    Work {
        connectors: seen_c
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(c, _)| c.clone())
            .collect(),
        tasks: seen_t
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(t, _)| t.clone())
            .collect(),
    }
}

fn apply_revocations(
    lbr: &BTreeMap<String, Work>,
    to_revoke: &mut BTreeMap<String, Work>,
    next: &mut [Load],
) {
    for (worker, r) in lbr {
        extend(to_revoke.entry(worker.clone()).or_default(), r);
        if let Some(load) = next.iter_mut().find(|l| &l.worker == worker) {
            remove_all(&mut load.work, r);
        }
    }
}

/// Kafka's `performLoadBalancingRevocations`: revoke what is above the even share, walking
/// members in `HashMap` order; connectors and tasks separately.
fn load_balancing_revocations(configured: &Work, next: &[Load]) -> BTreeMap<String, Work> {
    let mut out: BTreeMap<String, Work> = BTreeMap::new();
    if next.iter().all(|l| l.work.is_empty()) || configured.is_empty() {
        return out;
    }
    let connectors = revocations(configured.connectors.len(), next, |w| {
        w.connectors.iter().cloned().collect::<Vec<_>>()
    });
    for (worker, items) in connectors {
        out.entry(worker).or_default().connectors.extend(items);
    }
    let tasks = revocations(configured.tasks.len(), next, |w| {
        w.tasks.iter().cloned().collect::<Vec<_>>()
    });
    for (worker, items) in tasks {
        out.entry(worker).or_default().tasks.extend(items);
    }
    out
}

fn revocations<T>(
    total: usize,
    next: &[Load],
    items: impl Fn(&Work) -> Vec<T>,
) -> Vec<(String, Vec<T>)> {
    let workers = next.len();
    if workers == 0 {
        return Vec::new();
    }
    let min = total / workers;
    let extra = total % workers;
    let sizes: Vec<usize> = next.iter().map(|l| items(&l.work).len()).collect();
    let at_extra = sizes.iter().filter(|&&s| s == min + 1).count();
    let at_min = sizes.iter().filter(|&&s| s == min).count();
    if at_extra == extra && at_extra + at_min == workers {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut allocated_extras = 0;
    for (load, &size) in next.iter().zip(&sizes) {
        let cap = if size <= min {
            continue;
        } else if allocated_extras < extra {
            allocated_extras += 1;
            if size == min + 1 {
                continue;
            }
            min + 1
        } else {
            min
        };
        let revoke: Vec<T> = items(&load.work).into_iter().take(size - cap).collect();
        out.push((load.worker.clone(), revoke));
    }
    out
}

/// Water-filling: members sorted by (count, id); each pass gives one item to every member at
/// the lowest level.
fn assign_items<T: Clone>(
    next: &mut [Load],
    items: &IndexSet<T>,
    size_of: impl Fn(&Work) -> usize,
    mut put: impl FnMut(&mut Work, T),
) {
    if next.is_empty() || items.is_empty() {
        return;
    }
    next.sort_by(|a, b| {
        size_of(&a.work)
            .cmp(&size_of(&b.work))
            .then_with(|| cmp_str(&a.worker, &b.worker))
    });
    let mut it = items.iter().cloned().peekable();
    while it.peek().is_some() {
        let level = size_of(&next[0].work);
        let up_to = next
            .iter()
            .position(|l| size_of(&l.work) > level)
            .unwrap_or(next.len());
        for load in next.iter_mut().take(up_to) {
            match it.next() {
                Some(item) => put(&mut load.work, item),
                None => break,
            }
        }
    }
}

fn assign_connectors(next: &mut [Load], connectors: &IndexSet<String>) {
    assign_items(
        next,
        connectors,
        |w| w.connectors.len(),
        |w, c| {
            w.connectors.insert(c);
        },
    );
}

fn assign_tasks(next: &mut [Load], tasks: &IndexSet<TaskId>) {
    assign_items(
        next,
        tasks,
        |w| w.tasks.len(),
        |w, t| {
            w.tasks.insert(t);
        },
    );
}

#[cfg(test)]
mod tests {
    use super::super::protocol::{Allocation, allocation};
    use super::*;

    const A: &str = "connect-127.0.0.1:28083-56d80e99-b2fc-420c-9866-7e6b253e387f";
    const B: &str = "connect-127.0.0.1:28084-8b6bdd5b-ecb6-4a84-988a-73ac37b7a6ed";
    const A_URL: &str = "http://127.0.0.1:28083/";
    const B_URL: &str = "http://127.0.0.1:28084/";

    fn configured() -> Configured {
        Configured {
            offset: 32,
            tasks: [("sink1".to_string(), 3), ("src1".to_string(), 1)].into(),
        }
    }

    fn member(id: &str, url: &str, runs: Option<Allocation>) -> (String, WorkerMetadata) {
        (
            id.to_string(),
            WorkerMetadata {
                url: url.to_string(),
                config_offset: 32,
                allocation: runs.map(|assigned| Assignment {
                    leader: A.into(),
                    leader_url: A_URL.into(),
                    config_offset: 32,
                    assigned,
                    ..Default::default()
                }),
            },
        )
    }

    fn round<'a>(
        members: &'a [(String, WorkerMetadata)],
        configured: &'a Configured,
        generation: i32,
        now_ms: i64,
    ) -> Round<'a> {
        Round {
            leader_id: A,
            protocol: Protocol::Sessioned,
            members,
            configured,
            last_completed_generation: generation - 1,
            generation,
            now_ms,
        }
    }

    fn get<'a>(out: &'a [(String, Assignment)], id: &str) -> &'a Assignment {
        &out.iter().find(|(m, _)| m == id).unwrap().1
    }

    /// The reference transcript's generations 17..21: B killed, its work held back for the
    /// delay, then given to A; B back, A revokes the even share, B gets it next round.
    #[test]
    fn follows_the_reference_failover_and_rebalance() {
        let c = configured();
        let mut asg = IncrementalAssignor::new(300_000);
        // Generation 17, as it settled: A runs sink1[C,0] src1[0], B runs src1[C] sink1[1,2].
        let a17 = allocation(["sink1"], [("sink1", 0), ("src1", 0)]);
        let b17 = allocation(["src1"], [("sink1", 1), ("sink1", 2)]);
        let both = [
            member(A, A_URL, Some(a17.clone())),
            member(B, B_URL, Some(b17)),
        ];
        let out = asg.assign(&round(&both, &c, 17, 0));
        assert!(get(&out, A).assigned.is_empty() && get(&out, A).revoked.is_empty());
        assert!(get(&out, B).assigned.is_empty() && get(&out, B).revoked.is_empty());

        // Generation 18: B has expired. Nothing moves, the delay is announced.
        let alone = [member(A, A_URL, Some(a17.clone()))];
        let out = asg.assign(&round(&alone, &c, 18, 10_000));
        let a = get(&out, A);
        assert!(a.assigned.is_empty() && a.revoked.is_empty());
        assert_eq!(a.delay, 300_000);
        // A rejoin before the delay ends reports the time left.
        let out = asg.assign(&round(&alone, &c, 19, 110_000));
        assert_eq!(get(&out, A).delay, 200_000);

        // Generation 20, after the delay: the lost work goes to A, byte for byte as the
        // transcript's generation-19 SyncGroup answer.
        let out = asg.assign(&round(&alone, &c, 20, 315_000));
        let a = get(&out, A);
        assert_eq!(a.delay, 0);
        let hex: String = a
            .encode(Protocol::Sessioned)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "00020000003c636f6e6e6563742d3132372e302e302e313a32383038332d35366438306539392d623266632d343230632d393836362d3765366232353365333837660017687474703a2f2f3132372e302e302e313a32383038332f00000000000000200000000200047372633100000001ffffffff000573696e6b310000000200000001000000020000000000000000"
        );

        // A's cumulative allocation as it reports it next (new first, then the old).
        let mut now_a = Work::from_allocation(&a.assigned);
        let old = Work::from_allocation(&a17);
        now_a.connectors.extend(old.connectors);
        now_a.tasks.extend(old.tasks);
        let a_all = now_a.assigned_allocation();
        assert_eq!(
            a_all,
            vec![
                ("src1".to_string(), vec![-1, 0]),
                ("sink1".to_string(), vec![-1, 1, 2, 0]),
            ]
        );

        // Generation 21: B is back, empty. A gives up src1[C,0] and sink1[1].
        let back = [member(A, A_URL, Some(a_all)), member(B, B_URL, None)];
        let out = asg.assign(&round(&back, &c, 21, 320_000));
        let a = get(&out, A);
        assert!(a.assigned.is_empty());
        assert_eq!(
            a.revoked,
            vec![
                ("src1".to_string(), vec![-1, 0]),
                ("sink1".to_string(), vec![1])
            ]
        );
        assert!(get(&out, B).assigned.is_empty());

        // Generation 22: the revoked work goes to B.
        let a22 = allocation(["sink1"], [("sink1", 2), ("sink1", 0)]);
        let back = [member(A, A_URL, Some(a22)), member(B, B_URL, None)];
        let out = asg.assign(&round(&back, &c, 22, 325_000));
        assert!(get(&out, A).assigned.is_empty() && get(&out, A).revoked.is_empty());
        assert_eq!(
            get(&out, B).assigned,
            vec![
                ("src1".to_string(), vec![-1, 0]),
                ("sink1".to_string(), vec![1])
            ]
        );
    }

    #[test]
    fn a_new_leader_assigns_lost_work_at_once() {
        // The transcript's leader failover: B leads for the first time and finds A's work
        // unassigned: no delay, everything to B.
        let c = configured();
        let mut asg = IncrementalAssignor::new(10_000);
        let b = allocation(["src1"], [("src1", 0), ("sink1", 1)]);
        let members = [member(B, B_URL, Some(b))];
        let r = Round {
            leader_id: B,
            ..round(&members, &c, 32, 0)
        };
        let out = asg.assign(&r);
        let got = get(&out, B);
        assert_eq!(got.delay, 0);
        assert_eq!(got.assigned, vec![("sink1".to_string(), vec![-1, 0, 2])]);
        assert_eq!(got.leader_url, B_URL);
    }

    #[test]
    fn tasks_max_3_over_three_workers_is_one_each() {
        let c = Configured {
            offset: 32,
            tasks: [("sink".to_string(), 3)].into(),
        };
        let ids = ["w-a", "w-b", "w-c"];
        let members: Vec<_> = ids.iter().map(|id| member(id, "http://x/", None)).collect();
        let mut asg = IncrementalAssignor::new(300_000);
        let r = Round {
            leader_id: "w-a",
            ..round(&members, &c, 1, 0)
        };
        let out = asg.assign(&r);
        let mut tasks = 0;
        for id in ids {
            let w = Work::from_allocation(&get(&out, id).assigned);
            assert_eq!(w.tasks.len(), 1, "{id}: {w:?}");
            tasks += w.tasks.len();
        }
        assert_eq!(tasks, 3);
    }

    #[test]
    fn leader_behind_a_member_answers_config_mismatch() {
        let c = configured();
        let mut members = vec![member(A, A_URL, None), member(B, B_URL, None)];
        members[1].1.config_offset = 40;
        let out = IncrementalAssignor::new(0).assign(&round(&members, &c, 3, 0));
        for (_, a) in &out {
            assert_eq!(a.error, CONFIG_MISMATCH);
            assert_eq!(a.config_offset, 40);
        }
        assert_eq!(
            assign_eager(&round(&members, &c, 3, 0))[0].1.error,
            CONFIG_MISMATCH
        );
    }

    #[test]
    fn eager_round_robin_continues_from_connectors_into_tasks() {
        // Kafka's example: members a, b, c; x (2 tasks), y (1 task):
        // connectors x→a, y→b; tasks x-0→c, x-1→a, y-0→b.
        let c = Configured {
            offset: 32,
            tasks: [("x".to_string(), 2), ("y".to_string(), 1)].into(),
        };
        let members: Vec<_> = ["c", "a", "b"]
            .iter()
            .map(|id| member(id, "http://u/", None))
            .collect();
        let r = Round {
            leader_id: "a",
            protocol: Protocol::Eager,
            ..round(&members, &c, 1, 0)
        };
        let out = assign_eager(&r);
        assert_eq!(
            get(&out, "a").assigned,
            vec![("x".to_string(), vec![-1, 1])]
        );
        assert_eq!(
            get(&out, "b").assigned,
            vec![("y".to_string(), vec![-1, 0])]
        );
        assert_eq!(get(&out, "c").assigned, vec![("x".to_string(), vec![0])]);
    }

    #[test]
    fn backoff_grows_by_40_and_truncates_like_java() {
        assert_eq!(
            (1..=5).map(|n| backoff(300_000, n)).collect::<Vec<_>>(),
            [40, 1600, 64_000, 300_000, 300_000]
        );
        assert_eq!(backoff(1000, 2), 999);
        assert_eq!(backoff(0, 3), 0);
    }
}
