//! Java's orders where Kafka's assignor depends on them: `String.compareTo` (UTF-16 code
//! units) and the iteration order of `java.util.HashMap`/`HashSet` (JDK 17), so a sluice
//! leader hands out exactly what a Java leader would for the same group.

use std::cmp::Ordering;

/// `String.compareTo`: lexicographic over UTF-16 code units.
pub fn cmp_str(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `String.hashCode`.
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

/// `ConnectorTaskId.hashCode`.
pub fn task_hash(connector: &str, task: i32) -> i32 {
    string_hash(connector).wrapping_mul(31).wrapping_add(task)
}

/// Capacity of a map or set filled one entry at a time (`new HashSet<>()`, collectors):
/// 16, doubled while size exceeds 0.75 of it.
pub fn capacity_grown(n: usize) -> usize {
    let mut cap = 16usize;
    while n * 4 > cap * 3 {
        cap *= 2;
    }
    cap
}

/// Capacity of `new HashSet<>(collection)` on JDK 17:
/// `tableSizeFor(max((int) (n / .75f) + 1, 16))`.
pub fn capacity_copied(n: usize) -> usize {
    // (int)(n / .75f) in float arithmetic, as Java computes it.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let wanted = ((n as f32) / 0.75f32) as usize + 1;
    wanted.max(16).next_power_of_two()
}

fn bucket(hash: i32, capacity: usize) -> usize {
    let h = hash as u32;
    let spread = h ^ (h >> 16);
    (spread as usize) & (capacity - 1)
}

/// Iteration order of a Java hash container of `capacity` holding `items` inserted in the
/// given order (duplicates, by `key`, kept at their first place): a stable sort by bucket.
pub fn hash_order<T: Clone, K: PartialEq>(
    items: &[T],
    key: impl Fn(&T) -> K,
    hash: impl Fn(&T) -> i32,
    capacity: usize,
) -> Vec<T> {
    let mut distinct: Vec<&T> = Vec::with_capacity(items.len());
    for it in items {
        let k = key(it);
        if !distinct.iter().any(|d| key(d) == k) {
            distinct.push(it);
        }
    }
    let mut out: Vec<(usize, &T)> = distinct
        .into_iter()
        .map(|t| (bucket(hash(t), capacity), t))
        .collect();
    out.sort_by_key(|(b, _)| *b);
    out.into_iter().map(|(_, t)| t.clone()).collect()
}

/// Strings in the order `new HashSet<>(list)` iterates them.
pub fn copied_set_order(items: &[String]) -> Vec<String> {
    hash_order(
        items,
        |s| s.clone(),
        |s| string_hash(s),
        capacity_copied(items.len()),
    )
}

/// Strings in the order a `HashMap`/`HashSet` filled one at a time iterates them.
pub fn grown_set_order(items: &[String]) -> Vec<String> {
    let n = {
        let mut seen: Vec<&String> = Vec::new();
        for i in items {
            if !seen.contains(&i) {
                seen.push(i);
            }
        }
        seen.len()
    };
    hash_order(items, |s| s.clone(), |s| string_hash(s), capacity_grown(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_equal_javas() {
        // Values printed by Java 17: "sink1".hashCode(), "src1".hashCode().
        assert_eq!(string_hash("sink1"), 109_442_046);
        assert_eq!(string_hash("src1"), 3_538_637);
        assert_eq!(string_hash(""), 0);
        assert_eq!(task_hash("src1", 2), 3_538_637 * 31 + 2);
    }

    #[test]
    fn capacities_follow_jdk17() {
        assert_eq!(capacity_copied(0), 16);
        assert_eq!(capacity_copied(11), 16);
        assert_eq!(capacity_copied(12), 32);
        assert_eq!(capacity_copied(24), 64);
        assert_eq!(capacity_grown(12), 16);
        assert_eq!(capacity_grown(13), 32);
    }

    #[test]
    fn utf16_order_differs_from_utf8_beyond_the_bmp() {
        // U+FF61 sorts after U+10000 in UTF-8/code points, before it in UTF-16.
        assert_eq!(cmp_str("\u{FF61}", "\u{10000}"), Ordering::Greater);
        assert_eq!("\u{FF61}".cmp("\u{10000}"), Ordering::Less);
    }

    fn conns(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("conn-{i}")).collect()
    }

    #[test]
    fn set_orders_equal_what_java_17_printed() {
        // `new HashSet<>(List.of("src1","sink1"))` prints [src1, sink1].
        let order = copied_set_order(&["sink1".to_string(), "src1".to_string()]);
        assert_eq!(order, ["src1", "sink1"]);
        // conn-0..conn-11: copied (capacity 32) and grown (capacity 16) sets differ.
        assert_eq!(
            copied_set_order(&conns(12)).join(","),
            "conn-9,conn-8,conn-7,conn-6,conn-5,conn-4,conn-3,conn-2,conn-1,conn-0,conn-11,conn-10"
        );
        assert_eq!(
            grown_set_order(&conns(12)).join(","),
            "conn-0,conn-11,conn-10,conn-9,conn-8,conn-7,conn-6,conn-5,conn-4,conn-3,conn-2,conn-1"
        );
        assert_eq!(
            grown_set_order(&conns(13)).join(","),
            "conn-9,conn-8,conn-7,conn-6,conn-5,conn-4,conn-3,conn-2,conn-1,conn-0,conn-12,conn-11,conn-10"
        );
    }
}
