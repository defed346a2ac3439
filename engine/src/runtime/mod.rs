//! Task runtimes: one OS thread per task drives its batch loop (poll → convert →
//! deliver → commit) until the worker asks it to stop. Blocking client calls stay on these
//! threads, so the control plane never waits on data.

pub mod sink;
pub mod source;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A stop request shared by a connector's tasks.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sleeps up to `d`, waking early on stop; true when stopped.
    pub fn sleep(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if self.is_stopped() {
                return true;
            }
            std::thread::sleep(
                Duration::from_millis(10).min(until.saturating_duration_since(Instant::now())),
            );
        }
        self.is_stopped()
    }
}
