//! Prometheus metrics at `/metrics`: requests by route template, method and status; a latency
//! histogram; how many distinct tenants were served; the pool's use. Labels never carry raw
//! paths or tenant ids, so their number stays bounded.
use deadpool_postgres::Pool;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;
use uuid::Uuid;

const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Latency {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<HashMap<(String, String, u16), u64>>,
    latency: Mutex<Latency>,
    tenants: Mutex<HashSet<Uuid>>,
}

impl Metrics {
    pub fn record(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        *self
            .requests
            .lock()
            .expect("metrics lock")
            .entry((route.to_string(), method.to_string(), status))
            .or_default() += 1;
        let seconds = elapsed.as_secs_f64();
        let mut latency = self.latency.lock().expect("metrics lock");
        for (bucket, bound) in latency.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        latency.count += 1;
        latency.sum += seconds;
    }

    pub fn saw_tenant(&self, tenant: Uuid) {
        self.tenants.lock().expect("metrics lock").insert(tenant);
    }

    pub fn render(&self, pool: &Pool) -> String {
        let mut out = String::new();
        out.push_str("# HELP tenancy_http_requests_total Requests by route template, method and status.\n");
        out.push_str("# TYPE tenancy_http_requests_total counter\n");
        let requests = self.requests.lock().expect("metrics lock");
        let mut keys: Vec<_> = requests.keys().collect();
        keys.sort();
        for key @ (route, method, status) in keys {
            let _ = writeln!(
                out,
                "tenancy_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {}",
                requests[key]
            );
        }
        out.push_str("# HELP tenancy_http_request_duration_seconds Request latency.\n");
        out.push_str("# TYPE tenancy_http_request_duration_seconds histogram\n");
        let latency = self.latency.lock().expect("metrics lock");
        for (bound, count) in BUCKETS.iter().zip(latency.buckets) {
            let _ = writeln!(out, "tenancy_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(out, "tenancy_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}", latency.count);
        let _ = writeln!(out, "tenancy_http_request_duration_seconds_sum {}", latency.sum);
        let _ = writeln!(out, "tenancy_http_request_duration_seconds_count {}", latency.count);
        out.push_str(
            "# HELP tenancy_tenants_served Distinct tenants served since start.\n# TYPE tenancy_tenants_served gauge\n",
        );
        let _ = writeln!(out, "tenancy_tenants_served {}", self.tenants.lock().expect("metrics lock").len());
        let status = pool.status();
        out.push_str(
            "# HELP tenancy_pool_connections Database connections by state.\n# TYPE tenancy_pool_connections gauge\n",
        );
        let _ = writeln!(out, "tenancy_pool_connections{{state=\"open\"}} {}", status.size);
        let _ = writeln!(out, "tenancy_pool_connections{{state=\"idle\"}} {}", status.available);
        let _ = writeln!(out, "tenancy_pool_connections{{state=\"max\"}} {}", status.max_size);
        let _ = writeln!(out, "tenancy_pool_waiting {}", status.waiting);
        out
    }
}
