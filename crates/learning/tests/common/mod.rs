//! What the learning crate's integration tests share.

#![allow(clippy::unwrap_used, dead_code)]

use core_models::Caller;
use diesel::prelude::*;
use uuid::Uuid;

/// `n` users in the `users` table, as callers named `user 0`, `user 1`, ...
pub fn users(db: &storage::TestDb, n: usize) -> Vec<Caller> {
    let callers: Vec<Caller> = (0..n).map(|i| Caller::new(Uuid::now_v7(), format!("user {i}"))).collect();
    let rows = callers.clone();
    db.write(move |c| {
        for u in &rows {
            // storage::sql: placeholders for either engine the tests run on.
            storage::sql::sql("INSERT INTO users VALUES (")
                .bind_text(u.id.to_string())
                .sql(", ")
                .bind_text(format!("{}@x.io", u.id))
                .sql(", ")
                .bind_text(format!("{}@x.io", u.id))
                .sql(", ")
                .bind_text(u.display_name.clone())
                .sql(", 'h', 0)")
                .untyped()
                .execute(c)?;
        }
        Ok(())
    })
    .unwrap();
    callers
}
