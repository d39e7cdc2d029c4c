//! What the learning crate's integration tests share.

#![allow(clippy::unwrap_used, dead_code)]

use core_models::Caller;

/// `n` users in the `users` table, as callers named `user 0`, `user 1`, ...
pub fn users(db: &storage::TestDb, n: usize) -> Vec<Caller> {
    storage::testing::users(db, &(0..n).map(|i| format!("user {i}")).collect::<Vec<_>>())
}
