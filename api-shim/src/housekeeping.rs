//! What must run now and then so memory stays bounded however long the server runs: the
//! latency samples drained into the histogram's buckets between scrapes, and the rate
//! limiter's tenants whose bucket is full again forgotten.
use crate::state::AppState;
use std::sync::Weak;
use std::time::Duration;

const EVERY: Duration = Duration::from_secs(5);

/// Runs until the server's state is gone.
pub async fn run(state: Weak<AppState>) {
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(state) = state.upgrade() else { return };
        state.metrics.upkeep();
        if let Some(limiter) = &state.rate_limiter {
            limiter.forget_idle();
        }
    }
}
