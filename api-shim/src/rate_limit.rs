//! Per-tenant request rate: governor's keyed limiter, a token bucket per tenant
//! (TENANCY_RATE_LIMIT_RPS refilled per second, TENANCY_RATE_LIMIT_BURST deep). One tenant's
//! burst cannot starve the others; a request over the limit gets 429 with `Retry-After`.
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::Quota;
use std::num::NonZeroU32;
use std::time::Duration;
use uuid::Uuid;

pub struct RateLimiter<C: Clock = DefaultClock> {
    limiter: governor::RateLimiter<Uuid, DefaultKeyedStateStore<Uuid>, C, NoOpMiddleware<C::Instant>>,
}

impl RateLimiter {
    pub fn new(per_second: u64, burst: u64) -> Self {
        RateLimiter::with_clock(per_second, burst, DefaultClock::default())
    }
}

impl<C: Clock> RateLimiter<C> {
    fn with_clock(per_second: u64, burst: u64, clock: C) -> Self {
        let quota = Quota::per_second(at_least_one(per_second)).allow_burst(at_least_one(burst));
        RateLimiter { limiter: governor::RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock) }
    }

    /// Takes one request from the tenant's bucket; when empty, how long until one is back.
    pub fn check(&self, tenant: Uuid) -> Result<(), Duration> {
        self.limiter.check_key(&tenant).map_err(|refused| refused.wait_time_from(self.limiter.clock().now()))
    }

    /// Forgets the tenants whose bucket is full again (indistinguishable from a new one), so
    /// the limiter's memory follows the tenants active lately, not every tenant ever seen.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    #[cfg(test)]
    fn tenants_held(&self) -> usize {
        self.limiter.len()
    }
}

/// Governor's quota counts in non-zero `u32`s; larger numbers are as good as unlimited.
fn at_least_one(n: u64) -> NonZeroU32 {
    NonZeroU32::new(u32::try_from(n).unwrap_or(u32::MAX).max(1)).expect("at least one")
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    #[test]
    fn a_tenant_gets_its_burst_then_its_rate() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(2, 3, clock.clone());
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        for _ in 0..3 {
            assert!(limiter.check(a).is_ok());
        }
        let wait = limiter.check(a).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(500), "{wait:?}");
        assert!(limiter.check(b).is_ok(), "another tenant is not affected");
        clock.advance(Duration::from_millis(500));
        assert!(limiter.check(a).is_ok(), "refilled at 2/s");
        assert!(limiter.check(a).is_err(), "one token back, not more");
    }

    #[test]
    fn idle_tenants_are_forgotten() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(10, 5, clock.clone());
        for _ in 0..100 {
            limiter.check(Uuid::new_v4()).unwrap();
        }
        let busy = Uuid::new_v4();
        for _ in 0..5 {
            limiter.check(busy).unwrap();
        }
        assert_eq!(limiter.tenants_held(), 101);
        clock.advance(Duration::from_millis(200));
        limiter.forget_idle();
        assert_eq!(limiter.tenants_held(), 1, "only the tenant whose bucket is not full yet is kept");
        assert!(limiter.check(busy).is_ok(), "refilled by two in 200 ms");
        assert!(limiter.check(busy).is_ok());
        assert!(limiter.check(busy).is_err(), "its state was kept, not reset to a full bucket");
    }
}
