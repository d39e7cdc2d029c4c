//! Service tests of `DbTasks` against a fresh migrated database per test
//! (`storage::test_pool()`): every rule of the tasks API, below the HTTP layer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod boards;
mod concurrency;
mod crud;
mod filters;
mod paging;
mod stats;
mod support;
