//! The store of `Idempotency-Key`s (API section 1): per caller, each key with the
//! fingerprint of the request that first used it and, once that request is answered, its
//! response, kept for [`WINDOW`].
//!
//! A key goes through three states, each change its own write:
//! 1. **claimed** ([`claim`]): the row exists with `status` NULL, held by one attempt's
//!    token for a [`LEASE`];
//! 2. **written**: every write the holding request does also sets `written` (the database's
//!    `write` calls [`mark_written`] inside the transaction, while the request's
//!    [`Claim`] is current), so the mark commits if and only if the request's change does;
//! 3. **answered** ([`finish`]): the response is stored for replays; or the claim is given
//!    up ([`finish`] with a response that is not kept, when nothing was written) and the
//!    next attempt starts afresh.
//!
//! A request that died between 1 and 3 (a crash, `kill -9`) leaves a claimed row behind.
//! Once its lease is over, a repeat takes the key over when nothing was written (nothing
//! happened, so running it is safe), and is told that the response is lost when something
//! was ([`Claimed::Lost`]): the change is never made twice. A write of an attempt whose
//! claim was taken over fails ([`mark_written`] finds another token), so a slow first
//! attempt and its successor cannot both commit.

use std::time::Duration;

use core_models::idempotency::Claim;
use core_models::{AppError, AppResult};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::idempotency_keys as keys;
use crate::{Database, DbConn};

/// How long a key and its response are kept: a repeat after this runs as a new request.
pub const WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a claimed key without a response counts as being worked on. Far longer than any
/// request may run (writes wait at most 10 s for their turn and run under a time budget), so
/// a claim older than this belongs to a request that died.
pub const LEASE: Duration = Duration::from_secs(60);

/// The largest response body kept for replays (a created resource is far smaller).
pub const MAX_BODY: usize = 256 * 1024;

/// Expired keys deleted by each claim, oldest first: the store shrinks faster than it grows.
const SWEEP: i64 = 16;

/// A response as kept for replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The HTTP status.
    pub status: u16,
    /// `Content-Type`, `Location` and `ETag`, when the response had them.
    pub content_type: Option<String>,
    /// `Location` of a created resource.
    pub location: Option<String>,
    /// `ETag` of a created resource.
    pub etag: Option<String>,
    /// The body (UTF-8: every response of the API is JSON or empty).
    pub body: String,
}

/// What a request with a key may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// The key is this request's: run it inside `core_models::idempotency::scope` of the
    /// claim (its `http` feature), then [`finish`].
    Fresh(Claim),
    /// The key was answered before: send this response again.
    Replay(Stored),
    /// The first request with the key is still running.
    Busy,
    /// The key was used for another request (method, path or body).
    Mismatch,
    /// The first request's change was written but its response was lost (the server
    /// stopped before storing it): it is not run again.
    Lost,
}

#[derive(Queryable)]
#[diesel(check_for_backend(crate::Backend))]
struct Row {
    fingerprint: String,
    written: bool,
    status: Option<i32>,
    content_type: Option<String>,
    location: Option<String>,
    etag: Option<String>,
    body: Option<String>,
    created_at: i64,
    claimed_at: i64,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Claims `key` of `scope` for a request with `fingerprint` at `now_ms` (milliseconds since
/// the epoch), or says why not. Also sweeps a few expired keys.
pub fn claim(db: &Database, scope: &str, key: &str, fingerprint: &str, now_ms: i64) -> AppResult<Claimed> {
    let (scope, key, fingerprint) = (scope.to_owned(), key.to_owned(), fingerprint.to_owned());
    db.write(move |conn| claim_on(conn, &scope, &key, &fingerprint, now_ms))
}

fn claim_on(conn: &mut DbConn, scope: &str, key: &str, fingerprint: &str, now_ms: i64) -> AppResult<Claimed> {
    let expired_before = now_ms - millis(WINDOW);
    sweep(conn, expired_before)?;
    let mine = keys::table.filter(keys::scope.eq(scope)).filter(keys::key.eq(key));
    let row: Option<Row> = mine
        .select((
            keys::fingerprint,
            keys::written,
            keys::status,
            keys::content_type,
            keys::location,
            keys::etag,
            keys::body,
            keys::created_at,
            keys::claimed_at,
        ))
        .first(conn)
        .optional()?;
    let token = Uuid::now_v7().to_string();
    let fresh = Claim { scope: scope.to_owned(), key: key.to_owned(), token: token.clone() };
    let Some(row) = row.filter(|row| row.created_at >= expired_before) else {
        // New, or expired and not swept yet: the key starts afresh.
        diesel::delete(mine).execute(conn)?;
        diesel::insert_into(keys::table)
            .values((
                keys::scope.eq(scope),
                keys::key.eq(key),
                keys::fingerprint.eq(fingerprint),
                keys::claim.eq(&token),
                keys::written.eq(false),
                keys::created_at.eq(now_ms),
                keys::claimed_at.eq(now_ms),
            ))
            .execute(conn)?;
        return Ok(Claimed::Fresh(fresh));
    };
    if row.fingerprint != fingerprint {
        return Ok(Claimed::Mismatch);
    }
    if let Some(status) = row.status {
        return Ok(Claimed::Replay(Stored {
            status: u16::try_from(status).unwrap_or(500),
            content_type: row.content_type,
            location: row.location,
            etag: row.etag,
            body: row.body.unwrap_or_default(),
        }));
    }
    if row.claimed_at > now_ms - millis(LEASE) {
        return Ok(Claimed::Busy);
    }
    if row.written {
        return Ok(Claimed::Lost);
    }
    // Its request died before writing anything: this one takes the key over.
    diesel::update(mine).set((keys::claim.eq(&token), keys::claimed_at.eq(now_ms))).execute(conn)?;
    Ok(Claimed::Fresh(fresh))
}

/// Deletes up to [`SWEEP`] keys created before `before`, oldest first.
fn sweep(conn: &mut DbConn, before: i64) -> AppResult<()> {
    crate::sql::sql(
        "DELETE FROM idempotency_keys WHERE (scope, key) IN \
         (SELECT scope, key FROM idempotency_keys WHERE created_at < ",
    )
    .bind_int(before)
    .sql(" ORDER BY created_at LIMIT ")
    .bind_int(SWEEP)
    .sql(")")
    .untyped()
    .execute(conn)?;
    Ok(())
}

/// Marks `claim`'s key as written, on the connection of the write that does the request's
/// change. An error (the write rolls back) when the claim is no longer the key's: its lease
/// ran out and a repeat took the key over.
pub fn mark_written(conn: &mut DbConn, claim: &Claim) -> AppResult<()> {
    let marked = diesel::update(
        keys::table
            .filter(keys::scope.eq(&claim.scope))
            .filter(keys::key.eq(&claim.key))
            .filter(keys::claim.eq(&claim.token)),
    )
    .set(keys::written.eq(true))
    .execute(conn)?;
    if marked == 0 {
        return Err(AppError::Conflict(format!(
            "the request with Idempotency-Key `{}` took too long and a repeat took the key over; nothing was written",
            claim.key
        )));
    }
    Ok(())
}

/// Ends `claim` with `response`: kept for replays when `keep` or when the request wrote
/// something (a change that committed is never run again), else the key is given up and a
/// repeat runs afresh. A response past [`MAX_BODY`] is never kept.
pub fn finish(db: &Database, claim: Claim, response: Stored, keep: bool) -> AppResult<()> {
    db.write(move |tx| {
        let conn = tx.conn();
        let mine = keys::table
            .filter(keys::scope.eq(&claim.scope))
            .filter(keys::key.eq(&claim.key))
            .filter(keys::claim.eq(&claim.token));
        let written: Option<bool> = mine.select(keys::written).first(conn).optional()?;
        match written {
            // Taken over meanwhile: the key is another attempt's now.
            None => Ok(()),
            Some(written) if (keep || written) && response.body.len() <= MAX_BODY => {
                diesel::update(mine)
                    .set((
                        keys::status.eq(Some(i32::from(response.status))),
                        keys::content_type.eq(&response.content_type),
                        keys::location.eq(&response.location),
                        keys::etag.eq(&response.etag),
                        keys::body.eq(Some(&response.body)),
                    ))
                    .execute(conn)?;
                Ok(())
            }
            // Nothing written: give the key up. Written but too large to keep: the claim
            // stays, so a repeat hears that the response is lost rather than writing again.
            Some(written) => {
                if !written {
                    diesel::delete(mine).execute(conn)?;
                }
                Ok(())
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::test_pool;

    const NOW: i64 = 1_800_000_000_000;

    fn stored(status: u16) -> Stored {
        Stored {
            status,
            content_type: Some("application/json".into()),
            location: Some("/api/v1/notes/1".into()),
            etag: Some("\"1\"".into()),
            body: "{\"id\":1}".into(),
        }
    }

    fn fresh(claimed: Claimed) -> Claim {
        match claimed {
            Claimed::Fresh(claim) => claim,
            other => panic!("expected a fresh claim, got {other:?}"),
        }
    }

    #[test]
    fn a_key_is_claimed_once_answered_once_and_replayed_per_scope() {
        let test_db = test_pool();
        let db = test_db.database();
        let claim = fresh(super::claim(&db, "u1", "k", "fp", NOW).unwrap());
        // While it runs, a repeat is told so; another caller's same key is its own.
        assert_eq!(super::claim(&db, "u1", "k", "fp", NOW + 10).unwrap(), Claimed::Busy);
        fresh(super::claim(&db, "u2", "k", "fp", NOW + 10).unwrap());
        // The same key for another request is refused, answered or not.
        assert_eq!(super::claim(&db, "u1", "k", "other", NOW + 10).unwrap(), Claimed::Mismatch);
        finish(&db, claim, stored(201), true).unwrap();
        assert_eq!(super::claim(&db, "u1", "k", "fp", NOW + 20).unwrap(), Claimed::Replay(stored(201)));
        assert_eq!(super::claim(&db, "u1", "k", "other", NOW + 20).unwrap(), Claimed::Mismatch);
        // After 24 hours the key is new again.
        fresh(super::claim(&db, "u1", "k", "other", NOW + millis(WINDOW) + 1).unwrap());
    }

    #[test]
    fn a_response_not_kept_gives_the_key_up_unless_something_was_written() {
        let test_db = test_pool();
        let db = test_db.database();
        let claim = fresh(super::claim(&db, "u", "a", "fp", NOW).unwrap());
        finish(&db, claim, stored(503), false).unwrap();
        fresh(super::claim(&db, "u", "a", "fp", NOW + 1).unwrap());

        let claim = fresh(super::claim(&db, "u", "b", "fp", NOW).unwrap());
        let marking = claim.clone();
        db.write(move |conn| mark_written(conn, &marking)).unwrap();
        finish(&db, claim, stored(503), false).unwrap();
        assert_eq!(super::claim(&db, "u", "b", "fp", NOW + 1).unwrap(), Claimed::Replay(stored(503)));
    }

    #[test]
    fn a_dead_request_s_key_is_taken_over_only_when_nothing_was_written() {
        let test_db = test_pool();
        let db = test_db.database();
        let after_lease = NOW + millis(LEASE) + 1;
        // Died before writing: after the lease a repeat runs, and the dead attempt's write
        // (had it been only slow) could no longer commit.
        let dead = fresh(super::claim(&db, "u", "a", "fp", NOW).unwrap());
        assert_eq!(super::claim(&db, "u", "a", "fp", NOW + 1).unwrap(), Claimed::Busy);
        let successor = fresh(super::claim(&db, "u", "a", "fp", after_lease).unwrap());
        assert_ne!(successor.token, dead.token);
        let late = db.write(move |conn| mark_written(conn, &dead)).unwrap_err();
        assert!(matches!(late, AppError::Conflict(_)), "{late:?}");
        db.write(move |conn| mark_written(conn, &successor)).unwrap();

        // Died after its write committed: never run again.
        let dead = fresh(super::claim(&db, "u", "b", "fp", NOW).unwrap());
        db.write(move |conn| mark_written(conn, &dead)).unwrap();
        assert_eq!(super::claim(&db, "u", "b", "fp", after_lease).unwrap(), Claimed::Lost);
    }

    #[test]
    fn claims_sweep_expired_keys() {
        let test_db = test_pool();
        let db = test_db.database();
        for i in 0..40 {
            let claim = fresh(super::claim(&db, "u", &format!("old{i}"), "fp", NOW).unwrap());
            finish(&db, claim, stored(201), true).unwrap();
        }
        let count = |db: &Database| -> i64 {
            let mut conn = db.read().unwrap();
            keys::table.count().get_result(&mut *conn).unwrap()
        };
        let later = NOW + millis(WINDOW) + 1;
        fresh(super::claim(&db, "u", "new1", "fp", later).unwrap());
        assert_eq!(count(&db), 40 - SWEEP + 1);
        fresh(super::claim(&db, "u", "new2", "fp", later).unwrap());
        fresh(super::claim(&db, "u", "new3", "fp", later).unwrap());
        assert_eq!(count(&db), 3, "every expired key is gone after three claims");
    }
}
