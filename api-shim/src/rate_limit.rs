//! Per-tenant request rate: governor's keyed limiter, a token bucket per tenant
//! (TENANCY_RATE_LIMIT_RPS refilled per second, TENANCY_RATE_LIMIT_BURST deep). One tenant's
//! burst cannot starve the others; a request over the limit gets 429 with `Retry-After`. The
//! refusals of the last hour are counted per minute and tenant, for the platform's status page.
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::Quota;
use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

pub struct RateLimiter<C: Clock = DefaultClock> {
    limiter: governor::RateLimiter<Uuid, DefaultKeyedStateStore<Uuid>, C, NoOpMiddleware<C::Instant>>,
    pub refusals: Refusals,
}

impl RateLimiter {
    pub fn new(per_second: u64, burst: u64) -> Self {
        RateLimiter::with_clock(per_second, burst, DefaultClock::default())
    }
}

impl<C: Clock> RateLimiter<C> {
    fn with_clock(per_second: u64, burst: u64, clock: C) -> Self {
        let quota = Quota::per_second(at_least_one(per_second)).allow_burst(at_least_one(burst));
        RateLimiter {
            limiter: governor::RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock),
            refusals: Refusals::default(),
        }
    }

    /// Takes one request from the tenant's bucket; when empty, how long until one is back.
    pub fn check(&self, tenant: Uuid) -> Result<(), Duration> {
        self.limiter.check_key(&tenant).map_err(|refused| {
            self.refusals.count(current_minute(), tenant);
            refused.wait_time_from(self.limiter.clock().now())
        })
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

/// How many minutes of refusals are kept.
const KEPT_MINUTES: u64 = 60;

/// The refusals (429s) of the last hour, one bucket per minute with a count per tenant: its
/// memory is bounded by the minutes and the tenants refused in them, whatever the request rate.
#[derive(Default)]
pub struct Refusals {
    minutes: Mutex<VecDeque<(u64, HashMap<Uuid, u64>)>>,
    since_start: std::sync::atomic::AtomicU64,
}

/// What the status page shows of the refusals, as of `minute`.
#[derive(Debug, PartialEq)]
pub struct RefusalSummary {
    pub last_minute: u64,
    pub last_hour: u64,
    pub since_start: u64,
    /// The tenants refused in the last hour, most refused first.
    pub by_tenant: Vec<(Uuid, u64)>,
}

pub fn current_minute() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() / 60)
}

impl Refusals {
    fn count(&self, minute: u64, tenant: Uuid) {
        self.since_start.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut minutes = self.minutes.lock().expect("refusals lock");
        if minutes.back().is_none_or(|(m, _)| *m != minute) {
            minutes.push_back((minute, HashMap::new()));
        }
        while minutes.front().is_some_and(|(m, _)| *m + KEPT_MINUTES <= minute) {
            minutes.pop_front();
        }
        *minutes.back_mut().expect("pushed above").1.entry(tenant).or_default() += 1;
    }

    pub fn summary(&self, minute: u64) -> RefusalSummary {
        let minutes = self.minutes.lock().expect("refusals lock");
        let recent = minutes.iter().filter(|(m, _)| *m + KEPT_MINUTES > minute);
        let mut by_tenant: HashMap<Uuid, u64> = HashMap::new();
        let mut last_minute = 0;
        for (m, tenants) in recent {
            for (tenant, n) in tenants {
                *by_tenant.entry(*tenant).or_default() += n;
                last_minute += if *m == minute { *n } else { 0 };
            }
        }
        let mut by_tenant: Vec<(Uuid, u64)> = by_tenant.into_iter().collect();
        by_tenant.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        RefusalSummary {
            last_minute,
            last_hour: by_tenant.iter().map(|(_, n)| n).sum(),
            since_start: self.since_start.load(std::sync::atomic::Ordering::Relaxed),
            by_tenant,
        }
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
    fn refusals_are_counted_per_tenant_for_an_hour() {
        let refusals = Refusals::default();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        refusals.count(100, a);
        refusals.count(130, a);
        refusals.count(130, b);
        refusals.count(130, a);
        let expected = RefusalSummary { last_minute: 3, last_hour: 4, since_start: 4, by_tenant: vec![(a, 3), (b, 1)] };
        assert_eq!(refusals.summary(130), expected);
        assert_eq!(refusals.summary(131).last_minute, 0);
        let hour_later = refusals.summary(160);
        assert_eq!((hour_later.last_hour, hour_later.since_start), (3, 4), "minute 100 is more than an hour old");
        refusals.count(200, b);
        assert_eq!(refusals.minutes.lock().unwrap().len(), 1, "older minutes are dropped as new ones come");
        assert_eq!(refusals.summary(200).by_tenant, vec![(b, 1)]);
    }

    #[test]
    fn a_refused_request_is_counted() {
        let limiter = RateLimiter::with_clock(1, 1, FakeRelativeClock::default());
        let tenant = Uuid::new_v4();
        assert!(limiter.check(tenant).is_ok());
        assert!(limiter.check(tenant).is_err());
        assert!(limiter.check(tenant).is_err());
        assert_eq!(limiter.refusals.summary(current_minute()).by_tenant, vec![(tenant, 2)]);
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
