//! Display names for the users a page mentions, in one query (no N+1).

use std::collections::HashMap;

use core_models::{id, AppResult, UserRef};
use diesel::prelude::*;
use storage::schema::users;

/// The users of `ids` (duplicates allowed), by id.
pub fn refs(conn: &mut SqliteConnection, ids: &[&str]) -> AppResult<HashMap<String, UserRef>> {
    let mut wanted: Vec<&str> = ids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let rows: Vec<(String, String)> =
        users::table.filter(users::id.eq_any(&wanted)).select((users::id, users::display_name)).load(conn)?;
    rows.into_iter()
        .map(|(raw, display_name)| Ok((raw.clone(), UserRef { id: id::from_stored("users.id", &raw)?, display_name })))
        .collect()
}

/// The user `id` from a map made by [`refs`]; a missing one is corruption (foreign keys).
pub fn get(map: &HashMap<String, UserRef>, raw: &str) -> AppResult<UserRef> {
    map.get(raw).cloned().ok_or_else(|| id::corrupt("users.id", raw))
}
