//! Query complexity of list fields: a list multiplies the cost of what is selected inside it.

use std::sync::atomic::{AtomicI64, Ordering};

/// The page size assumed when a list query gives no `limit`: the configured `DEFAULT_PAGE_SIZE`.
static DEFAULT_PAGE_SIZE: AtomicI64 = AtomicI64::new(crate::settings::DEFAULT_PAGE_SIZE);

/// Scores lists queried without `limit` at `size` rows (called when the schema is built).
pub fn set_default_page_size(size: i64) {
    DEFAULT_PAGE_SIZE.store(size, Ordering::Relaxed);
}

/// Complexity of a list field: its page size times the complexity of one element (at least 1).
pub fn list_complexity(limit: Option<i32>, child_complexity: usize) -> usize {
    let rows = limit.map_or_else(|| DEFAULT_PAGE_SIZE.load(Ordering::Relaxed), i64::from);
    usize::try_from(rows)
        .unwrap_or(0)
        .max(1)
        .saturating_mul(child_complexity.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_multiply_child_complexity() {
        assert_eq!(list_complexity(Some(10), 3), 30);
        assert_eq!(list_complexity(Some(0), 5), 5);
        set_default_page_size(100);
        assert_eq!(list_complexity(None, 2), 200);
    }
}
