//! Backoff per account and per client address: after `free` counted events within the window,
//! each further one doubles the wait (1 s, 2 s, 4 s ... up to 15 minutes), answered 429 with
//! Retry-After. Sign-in counts failures (a success clears the account); sign-up and recovery
//! count every request. Kept in the server's memory: one server's view (see the README).
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// Events older than this are forgotten.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Above this many keys, forgotten ones are swept on the next event.
const SWEEP_ABOVE: usize = 10_000;

struct Entry {
    events: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

pub struct Throttle {
    free: u32,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Throttle {
    pub fn new(free: u32) -> Throttle {
        Throttle { free, entries: Mutex::new(HashMap::new()) }
    }

    /// How long `key` must wait, if it must.
    pub fn wait(&self, key: &str) -> Option<Duration> {
        let entries = self.entries.lock().expect("throttle lock");
        let until = entries.get(key)?.blocked_until?;
        until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }

    /// The longest wait of several keys (an account and an address).
    pub fn wait_any(&self, keys: &[String]) -> Option<Duration> {
        keys.iter().filter_map(|k| self.wait(k)).max()
    }

    pub fn count(&self, key: &str) {
        let now = Instant::now();
        let mut entries = self.entries.lock().expect("throttle lock");
        if entries.len() > SWEEP_ABOVE {
            entries.retain(|_, e| now.duration_since(e.last) < WINDOW || e.blocked_until.is_some_and(|u| u > now));
        }
        let entry = entries.entry(key.to_string()).or_insert(Entry { events: 0, last: now, blocked_until: None });
        if now.duration_since(entry.last) >= WINDOW {
            entry.events = 0;
        }
        entry.events += 1;
        entry.last = now;
        if entry.events > self.free {
            let doublings = (entry.events - self.free - 1).min(20);
            entry.blocked_until = Some(now + Duration::from_secs(1 << doublings).min(MAX_WAIT));
        }
    }

    pub fn clear(&self, key: &str) {
        self.entries.lock().expect("throttle lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_events_then_a_doubling_wait() {
        let t = Throttle::new(2);
        t.count("a");
        t.count("a");
        assert_eq!(t.wait("a"), None);
        t.count("a");
        assert!(t.wait("a").is_some_and(|d| d <= Duration::from_secs(1)));
        t.count("a");
        assert!(t.wait("a").is_some_and(|d| d > Duration::from_secs(1) && d <= Duration::from_secs(2)));
        assert_eq!(t.wait("b"), None, "keys apart");
        t.clear("a");
        assert_eq!(t.wait("a"), None);
    }
}
