//! What one request may spend: a deadline, a cancellation flag, and a cap on the database tasks it
//! runs at once.
//!
//! The deadline is enforced inside SQLite as well as around the request: every connection the
//! request uses gets a progress handler (see `db.rs`) that interrupts the running statement once
//! the budget is spent, so a slow statement frees its thread and its connection instead of running
//! on after the client has been answered.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::runtime::error::{ApiError, ErrorCode};

/// The time and database work one request may use.
#[derive(Debug)]
pub struct Budget {
    deadline: Option<Instant>,
    cancelled: AtomicBool,
    tasks: Semaphore,
}

impl Default for Budget {
    /// No deadline, one database task at a time (internal work such as health checks).
    fn default() -> Budget {
        Budget {
            deadline: None,
            cancelled: AtomicBool::new(false),
            tasks: Semaphore::new(1),
        }
    }
}

impl Budget {
    /// A budget ending `timeout` from now that runs at most `tasks` database tasks at once.
    pub fn new(timeout: Duration, tasks: usize) -> Budget {
        Budget {
            deadline: Instant::now().checked_add(timeout),
            cancelled: AtomicBool::new(false),
            tasks: Semaphore::new(tasks.max(1)),
        }
    }

    /// Stops the request's work: the client is gone or the request timed out.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether the request must stop now.
    pub fn spent(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed) || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// The time left, or `TIMEOUT` once it is spent.
    pub fn remaining(&self) -> Result<Duration, ApiError> {
        if self.spent() {
            return Err(ApiError::timeout());
        }
        Ok(self.deadline.map_or(Duration::from_secs(30), |d| {
            d.saturating_duration_since(Instant::now())
        }))
    }

    /// Waits for one of the request's database task slots (until the deadline).
    pub async fn task(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        let remaining = self.remaining()?;
        match tokio::time::timeout(remaining, self.tasks.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(closed)) => Err(ApiError::internal(closed)),
            Err(_) => Err(ApiError::timeout()),
        }
    }
}

impl ApiError {
    /// The request ran out of time; its work was stopped.
    pub fn timeout() -> ApiError {
        ApiError::new(
            ErrorCode::Timeout,
            "the request took longer than its time limit and was stopped",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_is_spent_at_its_deadline_or_when_cancelled() {
        let budget = Budget::new(Duration::from_secs(60), 2);
        assert!(!budget.spent());
        assert!(budget.remaining().unwrap() > Duration::from_secs(59));
        budget.cancel();
        assert!(budget.spent());
        assert_eq!(budget.remaining().unwrap_err().code, ErrorCode::Timeout);
        let expired = Budget::new(Duration::ZERO, 2);
        assert!(expired.spent());
    }

    #[tokio::test]
    async fn tasks_beyond_the_cap_wait_and_give_up_at_the_deadline() {
        let budget = Budget::new(Duration::from_millis(50), 1);
        let first = budget.task().await.unwrap();
        let started = Instant::now();
        assert_eq!(budget.task().await.unwrap_err().code, ErrorCode::Timeout);
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(first);
    }
}
