//! What the activity log's test files share.

#![allow(clippy::unwrap_used)]

use core_models::Caller;
use diesel::RunQueryDsl;
use storage::Database;
use uuid::Uuid;

/// A user row for `name` (entries need a real actor).
pub fn user(db: &Database, name: &str) -> Caller {
    let caller = Caller::new(Uuid::now_v7(), name);
    let (id, name) = (caller.id.to_string(), name.to_string());
    db.write(move |c| {
        diesel::sql_query(format!(
            "INSERT INTO users (id, email, email_normalized, display_name, password_hash, created_at) \
             VALUES ('{id}', '{id}@x.io', '{id}@x.io', '{name}', 'x', 0)"
        ))
        .execute(c.conn())?;
        Ok(())
    })
    .unwrap();
    caller
}
