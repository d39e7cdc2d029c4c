//! What the learning crate's integration tests share.

#![allow(clippy::unwrap_used, dead_code)]

use core_models::Caller;
use diesel::prelude::*;
use diesel::sql_types::Text;
use uuid::Uuid;

/// `n` users in the `users` table, as callers named `user 0`, `user 1`, ...
pub fn users(db: &storage::TestDb, n: usize) -> Vec<Caller> {
    let callers: Vec<Caller> = (0..n).map(|i| Caller::new(Uuid::now_v7(), format!("user {i}"))).collect();
    let rows = callers.clone();
    db.write(move |c| {
        for u in &rows {
            diesel::sql_query("INSERT INTO users VALUES (?, ?, ?, ?, 'h', 0)")
                .bind::<Text, _>(u.id.to_string())
                .bind::<Text, _>(format!("{}@x.io", u.id))
                .bind::<Text, _>(format!("{}@x.io", u.id))
                .bind::<Text, _>(&u.display_name)
                .execute(c)?;
        }
        Ok(())
    })
    .unwrap();
    callers
}
