//! The process's CPU time for the benchmarks, to the nanosecond: the in-process benchmark
//! subtracts event generation batch by batch (a few milliseconds each), which the 10 ms
//! ticks of `/proc/self/stat` cannot resolve.
#![allow(unsafe_code)]

/// User + system CPU seconds of every thread of this process so far.
pub fn process_cpu_seconds() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec for the call's duration, and
    // CLOCK_PROCESS_CPUTIME_ID is a clock every Linux kernel since 2.6.12 provides.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    if rc != 0 {
        return ticks_from_proc();
    }
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

/// The same from `/proc/self/stat` (utime + stime, in 10 ms ticks); 0 where unavailable.
fn ticks_from_proc() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Linux reports these in USER_HZ, which is 100 on every mainstream kernel build.
    (ticks(11) + ticks(12)) / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_work_finer_than_a_tick_and_agrees_with_proc() {
        let t0 = process_cpu_seconds();
        // About 1 ms of work: visible to the nanosecond clock, not to 10 ms ticks.
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_millis(1) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let spent = process_cpu_seconds() - t0;
        assert!(
            spent > 0.0005 && spent < 0.5,
            "1 ms of work measured as {spent} s"
        );
        // Both clocks count the same process: within a few ticks of each other.
        let (clock, proc) = (process_cpu_seconds(), ticks_from_proc());
        assert!((clock - proc).abs() < 0.1, "{clock} vs {proc}");
    }
}
