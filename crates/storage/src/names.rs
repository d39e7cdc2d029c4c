//! Users' display names as a gateway remembers them, for rows that name people by id.
//!
//! A page of fifty project tasks names up to a hundred people (assignee and creator), most
//! of them the same few. Read with the rows, each name is a probe of `users` per row and
//! person: on PostgreSQL 40 % of a team list's statement. Instead a row carries its people's
//! ids and one number, the *version* of display names ([`VERSION`], read in the row's own
//! statement), and [`People::of`] takes the names from memory, reading the ones it lacks
//! in one statement.
//!
//! Why a name from memory is never older than the read it serves: every rename and every
//! deletion of a user moves the version in the same write (triggers on `users`, migration
//! `2026-12-07-000180_display_name_version`), whoever makes it (SQL by hand included). A
//! name is remembered with the version its own statement saw, and used only for rows that
//! saw that same version, so it is the name as of their snapshot. After a rename, the next
//! read sees the new version, misses, and reads every name again. No clock, no feed: several
//! gateways on one database each notice a rename with their next read.
//!
//! The memory is one per process, of at most [`REMEMBERED`] names (the least recently used
//! go first), keyed by user id. One process serving several databases (the test suites) is
//! safe because user ids are UUIDs: two databases never hold one id with two names unless
//! one is a copy of the other that was then renamed at the same version.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use core_models::{id, AppResult, UserRef};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use quick_cache::sync::Cache;
use uuid::Uuid;

use crate::expr::{trusted, Trusted};
use crate::schema::users;
use crate::DbConn;

/// How many names a process remembers.
pub const REMEMBERED: usize = 50_000;

/// The type of [`VERSION`].
pub type Version = Trusted<BigInt>;

/// The version of display names as the statement that selects it sees them, for a row
/// struct's field: `#[diesel(select_expression = storage::names::VERSION,
/// select_expression_type = storage::names::Version)] names_version: i64`. Both engines
/// evaluate it once per statement (one probe of a one-row table).
pub const VERSION: Version = trusted("coalesce((SELECT version FROM display_name_version WHERE id = 1), 0)");

/// A name and the version it was read at.
type Remembered = (i64, Arc<str>);

static NAMES: LazyLock<Cache<Uuid, Remembered>> = LazyLock::new(|| Cache::new(REMEMBERED));

/// The people some rows name, by id.
#[derive(Debug, Default)]
pub struct People {
    names: HashMap<Uuid, Arc<str>>,
}

impl People {
    /// The names of `ids`, for rows read at names version `version`: from memory where it
    /// holds the name at that version, the others read in one statement (none when all are
    /// remembered). An id with no user is reported by [`People::user`].
    pub fn of(conn: &mut DbConn, version: i64, ids: impl IntoIterator<Item = Uuid>) -> AppResult<People> {
        let mut names = HashMap::new();
        let mut missing = Vec::new();
        for id in ids {
            match NAMES.get(&id) {
                Some((at, name)) if at == version => {
                    names.insert(id, name);
                }
                _ => missing.push(id),
            }
        }
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let rows: Vec<(String, String, i64)> = users::table
                .filter(users::id.eq_any(missing.iter().map(Uuid::to_string)))
                .select((users::id, users::display_name, VERSION))
                .load(conn)?;
            for (user, name, at) in rows {
                let user = id::from_stored("users.id", &user)?;
                let name: Arc<str> = Arc::from(name);
                NAMES.insert(user, (at, name.clone()));
                names.insert(user, name);
            }
        }
        Ok(People { names })
    }

    /// The people `rows` name, one each (an author, an actor): `person` gives a row's
    /// names version and the stored id of its person, in the column named `column` (for
    /// the error when the stored id is not one). See [`People::of`].
    pub fn of_rows<R>(
        conn: &mut DbConn,
        rows: &[R],
        column: &str,
        person: impl Fn(&R) -> (i64, &str),
    ) -> AppResult<People> {
        let mut version = 0;
        let mut ids = Vec::with_capacity(rows.len());
        for row in rows {
            let (at, stored) = person(row);
            version = version.max(at);
            ids.push(id::from_stored(column, stored)?);
        }
        People::of(conn, version, ids)
    }

    /// The user `id` as rows show them; an error naming `column` when no user has that id
    /// (a row that names someone who is not there: the database is damaged).
    pub fn user(&self, column: &str, id: Uuid) -> AppResult<UserRef> {
        let name = self.names.get(&id).ok_or_else(|| id::corrupt(column, &id.to_string()))?;
        Ok(UserRef { id, display_name: name.to_string() })
    }
}
