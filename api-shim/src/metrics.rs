//! Prometheus metrics at `/metrics`: requests by route template, method and status; a latency
//! histogram; how many distinct tenants were served; the pool's use. Labels never carry raw
//! paths or tenant ids, so their number stays bounded.
//!
//! Each server has its own recorder (not the process-wide one `metrics` offers), so several
//! servers in one process (the tests) each count only their own requests.
use deadpool_postgres::Pool;
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};
use std::collections::HashSet;
use std::sync::RwLock;
use std::time::Duration;
use uuid::Uuid;

const REQUESTS: &str = "tenancy_http_requests_total";
const LATENCY: &str = "tenancy_http_request_duration_seconds";
const TENANTS: &str = "tenancy_tenants_served";
const POOL: &str = "tenancy_pool_connections";
const POOL_WAITING: &str = "tenancy_pool_waiting";
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

pub struct Metrics {
    recorder: PrometheusRecorder,
    /// Only which tenants were seen; the gauge holds the count. Read-locked on the way of a
    /// tenant seen before, write-locked once per new tenant.
    tenants: RwLock<HashSet<Uuid>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(LATENCY.into()), &BUCKETS)
            .expect("latency buckets are not empty")
            .build_recorder();
        metrics::with_local_recorder(&recorder, || {
            describe_counter!(REQUESTS, "Requests by route template, method and status.");
            describe_histogram!(LATENCY, Unit::Seconds, "Request latency.");
            describe_gauge!(TENANTS, "Distinct tenants served since start.");
            describe_gauge!(POOL, "Database connections by state.");
            describe_gauge!(POOL_WAITING, "Requests waiting for a database connection.");
            gauge!(TENANTS).set(0.0);
        });
        Metrics { recorder, tenants: RwLock::default() }
    }
}

impl Metrics {
    pub fn record(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        metrics::with_local_recorder(&self.recorder, || {
            let labels = [("route", route.to_string()), ("method", method.to_string()), ("status", status.to_string())];
            counter!(REQUESTS, &labels).increment(1);
            histogram!(LATENCY).record(elapsed.as_secs_f64());
        });
    }

    pub fn saw_tenant(&self, tenant: Uuid) {
        if self.tenants.read().expect("tenants lock").contains(&tenant) {
            return;
        }
        let mut tenants = self.tenants.write().expect("tenants lock");
        if tenants.insert(tenant) {
            let served = tenants.len() as f64;
            metrics::with_local_recorder(&self.recorder, || gauge!(TENANTS).set(served));
        }
    }

    /// The Prometheus text, with the pool's use as of now.
    pub fn render(&self, pool: &Pool) -> String {
        let status = pool.status();
        metrics::with_local_recorder(&self.recorder, || {
            gauge!(POOL, "state" => "open").set(status.size as f64);
            gauge!(POOL, "state" => "idle").set(status.available as f64);
            gauge!(POOL, "state" => "max").set(status.max_size as f64);
            gauge!(POOL_WAITING).set(status.waiting as f64);
        });
        self.recorder.handle().render()
    }

    /// Moves the latency samples recorded since the last call into the histogram's buckets, so
    /// they do not pile up while nobody scrapes.
    pub fn upkeep(&self) {
        self.recorder.handle().run_upkeep();
    }
}
