//! Counters for `GET /metrics` (Prometheus text format) and per-request SQL statement counts.
//!
//! Every connection reports each statement it starts (see `db.rs`); the statement is charged to
//! the process-wide total and to the request whose work is running on that thread.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::runtime::budget::Budget;

/// Statements run on behalf of one request, and what it may still spend.
#[derive(Debug, Default)]
pub struct RequestStats {
    /// The request's deadline and database task cap, checked by every database call.
    pub budget: Budget,
    statements: AtomicU64,
    /// Batched loads requested so far (see `server::settle`).
    loads: AtomicU64,
}

impl RequestStats {
    pub fn new(budget: Budget) -> RequestStats {
        RequestStats {
            budget,
            ..RequestStats::default()
        }
    }

    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// A resolver is about to ask the batch loader for something.
    pub fn load_requested(&self) {
        self.loads.fetch_add(1, Ordering::Relaxed);
    }

    pub fn loads_requested(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<RequestStats>>> = const { RefCell::new(None) };
}

/// Runs `work` with its statements charged to `stats`.
pub fn charged_to<T>(stats: &Arc<RequestStats>, work: impl FnOnce() -> T) -> T {
    let previous = CURRENT.with(|c| c.replace(Some(stats.clone())));
    let result = work();
    CURRENT.with(|c| *c.borrow_mut() = previous);
    result
}

/// Awaits `work` with its statements charged to `stats`: each of its polls runs as
/// [`charged_to`], whichever thread polls it.
pub async fn charged<F: std::future::Future>(stats: &Arc<RequestStats>, work: F) -> F::Output {
    let mut work = std::pin::pin!(work);
    std::future::poll_fn(|cx| charged_to(stats, || work.as_mut().poll(cx))).await
}

/// A connection's instrumentation: counts each statement it starts (see [`Metrics::statement`]).
pub fn count_statements(event: diesel::connection::InstrumentationEvent<'_>) {
    if matches!(
        event,
        diesel::connection::InstrumentationEvent::StartQuery { .. }
    ) {
        METRICS.statement();
    }
}

/// Upper bounds (seconds) of the request duration histogram.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Process-wide counters.
pub struct Metrics {
    statements: AtomicU64,
    transaction_retries: AtomicU64,
    cache_hits: AtomicU64,
    requests: AtomicU64,
    failed_requests: AtomicU64,
    duration_micros: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
}

pub static METRICS: Metrics = Metrics::new();

impl Metrics {
    const fn new() -> Metrics {
        Metrics {
            statements: AtomicU64::new(0),
            transaction_retries: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            failed_requests: AtomicU64::new(0),
            duration_micros: AtomicU64::new(0),
            buckets: [const { AtomicU64::new(0) }; BUCKETS.len()],
        }
    }

    /// A statement started on the current thread.
    pub fn statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
        CURRENT.with(|c| {
            if let Some(stats) = c.borrow().as_ref() {
                stats.statements.fetch_add(1, Ordering::Relaxed);
            }
        });
    }

    /// A transaction met a concurrent one and runs again.
    pub fn transaction_retried(&self) {
        self.transaction_retries.fetch_add(1, Ordering::Relaxed);
    }

    /// A request was answered from the answer cache.
    pub fn cache_hit(&self) {
        self.cache_hits.fetch_add(1, Ordering::Relaxed);
    }

    /// A GraphQL request finished.
    pub fn request(&self, took: Duration, failed: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.failed_requests.fetch_add(1, Ordering::Relaxed);
        }
        self.duration_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        let seconds = took.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The counters in Prometheus text exposition format.
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP gqlauto_sql_statements_total SQL statements executed."
        );
        let _ = writeln!(out, "# TYPE gqlauto_sql_statements_total counter");
        let _ = writeln!(
            out,
            "gqlauto_sql_statements_total {}",
            get(&self.statements)
        );
        let _ = writeln!(
            out,
            "# HELP gqlauto_transaction_retries_total Transactions run again after a deadlock or serialization failure."
        );
        let _ = writeln!(out, "# TYPE gqlauto_transaction_retries_total counter");
        let _ = writeln!(
            out,
            "gqlauto_transaction_retries_total {}",
            get(&self.transaction_retries)
        );
        let _ = writeln!(
            out,
            "# HELP gqlauto_response_cache_hits_total Requests answered from the answer cache."
        );
        let _ = writeln!(out, "# TYPE gqlauto_response_cache_hits_total counter");
        let _ = writeln!(
            out,
            "gqlauto_response_cache_hits_total {}",
            get(&self.cache_hits)
        );
        let _ = writeln!(
            out,
            "# HELP gqlauto_graphql_requests_total GraphQL requests served."
        );
        let _ = writeln!(out, "# TYPE gqlauto_graphql_requests_total counter");
        let _ = writeln!(
            out,
            "gqlauto_graphql_requests_total {}",
            get(&self.requests)
        );
        let _ = writeln!(
            out,
            "# HELP gqlauto_graphql_failed_requests_total GraphQL requests answered with errors."
        );
        let _ = writeln!(out, "# TYPE gqlauto_graphql_failed_requests_total counter");
        let _ = writeln!(
            out,
            "gqlauto_graphql_failed_requests_total {}",
            get(&self.failed_requests)
        );
        let _ = writeln!(
            out,
            "# HELP gqlauto_graphql_request_duration_seconds Time to execute a GraphQL request."
        );
        let _ = writeln!(
            out,
            "# TYPE gqlauto_graphql_request_duration_seconds histogram"
        );
        for (bound, count) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "gqlauto_graphql_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                get(count)
            );
        }
        let requests = get(&self.requests);
        let _ = writeln!(
            out,
            "gqlauto_graphql_request_duration_seconds_bucket{{le=\"+Inf\"}} {requests}"
        );
        let _ = writeln!(
            out,
            "gqlauto_graphql_request_duration_seconds_sum {}",
            get(&self.duration_micros) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "gqlauto_graphql_request_duration_seconds_count {requests}"
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_charged_to_the_current_request_only() {
        let stats = Arc::new(RequestStats::default());
        charged_to(&stats, || {
            METRICS.statement();
            METRICS.statement();
        });
        METRICS.statement();
        assert_eq!(stats.statements(), 2);
    }

    #[test]
    fn histogram_is_cumulative() {
        let metrics = Metrics::new();
        metrics.request(Duration::from_millis(3), false);
        let text = metrics.render();
        assert!(
            text.contains("gqlauto_graphql_request_duration_seconds_bucket{le=\"0.0025\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("gqlauto_graphql_request_duration_seconds_bucket{le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("gqlauto_graphql_request_duration_seconds_bucket{le=\"+Inf\"} 1\n"),
            "{text}"
        );
    }
}
