//! Allocator tuning for the `sluice` binary. mimalloc serves Rust and, through its `override`
//! feature, librdkafka and zstd too; here it is told to keep freed memory mapped, because fetch
//! buffers and batches are freed and allocated again all the time.
#![allow(unsafe_code)]

use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};

/// mimalloc's `mi_option_purge_delay`, which libmimalloc-sys does not export as a constant;
/// a test checks the number by the option's documented default.
const PURGE_DELAY: mi_option_t = 15;

/// Turns off returning freed memory to the OS, unless the user set `MIMALLOC_PURGE_DELAY`.
/// Re-faulting returned pages cost ~9% of P1's CPU; RSS stays at its high-water mark, which
/// the sink's memory budget bounds (figures in perf/RESULTS.md).
pub fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option, read by mimalloc at each purge decision.
        unsafe { mi_option_set(PURGE_DELAY, -1) };
    }
}

/// The current purge delay in milliseconds (-1: never).
pub fn purge_delay() -> std::os::raw::c_long {
    // SAFETY: reads a plain integer option.
    unsafe { mi_option_get(PURGE_DELAY) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_15_is_the_purge_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // mimalloc v3's documented default purge delay.
        assert_eq!(purge_delay(), 1000);
        keep_freed_memory();
        assert_eq!(purge_delay(), -1);
    }
}
