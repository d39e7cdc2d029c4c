//! Accounts in SQLite: `users` and `tokens`, with hashing done before the write is queued
//! (the single writer thread never waits for Argon2).

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use core_models::{time, AppError, AppResult};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use storage::schema::{tokens, users};
use storage::Database;
use uuid::Uuid;

use crate::clock::Clock;
use crate::config::AccountsConfig;
use crate::http::{HashGate, HASH_QUEUE_WAIT};
use crate::model::{Credentials, CurrentUser, NewUser, PublicProfile, Session, TokenType, User};
use crate::password::{HashSlots, Passwords};
use crate::sessions::SessionCache;
use crate::throttle::LoginThrottle;
use crate::token::{AccessToken, TokenHash};
use crate::AccountService;

/// An [`AccountService`] over the `users` and `tokens` tables.
#[derive(Debug, Clone)]
pub struct SqliteAccounts {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Database,
    token_ttl: Duration,
    passwords: Passwords,
    hash_slots: HashSlots,
    /// Async admission in front of `hash_slots`, as many turns as slots, shared by all workers.
    hash_gate: HashGate,
    throttle: LoginThrottle,
    clock: Arc<dyn Clock>,
    sessions: SessionCache,
}

impl SqliteAccounts {
    /// A service on a migrated database. Cheap: nothing is hashed until first needed.
    pub fn new(db: Database, config: AccountsConfig) -> Self {
        SqliteAccounts {
            inner: Arc::new(Inner {
                db,
                token_ttl: config.token_ttl.max(Duration::zero()),
                passwords: Passwords::new(config.password_params),
                hash_slots: HashSlots::new(config.max_concurrent_hashes),
                hash_gate: HashGate::new(config.max_concurrent_hashes, HASH_QUEUE_WAIT),
                throttle: LoginThrottle::new(config.login_throttle),
                clock: config.clock,
                sessions: SessionCache::default(),
            }),
        }
    }
}

/// A `users` row. Holds the password hash, so it stays in this module and has no `Debug`
/// that could print it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite))]
struct UserRow {
    id: String,
    email: String,
    display_name: String,
    created_at: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite))]
struct LoginRow {
    #[diesel(embed)]
    user: UserRow,
    password_hash: String,
}

fn parse_id(raw: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw)
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context(format!("corrupt user id {raw:?} in database"))))
}

impl TryFrom<UserRow> for User {
    type Error = AppError;
    fn try_from(row: UserRow) -> AppResult<User> {
        Ok(User {
            id: parse_id(&row.id)?,
            email: row.email,
            display_name: row.display_name,
            created_at: time::from_millis(row.created_at),
        })
    }
}

/// The one answer to every failed login, whatever failed.
fn bad_credentials() -> AppError {
    AppError::Unauthorized("the email or password is wrong".into())
}

/// The one answer to every unusable token, whatever is wrong with it.
fn invalid_token() -> AppError {
    AppError::Unauthorized("the token is invalid, expired or revoked; log in again".into())
}

impl Inner {
    fn now(&self) -> DateTime<Utc> {
        // Truncated to milliseconds: compared with stored values as stored.
        time::from_millis(time::to_millis(self.clock.now()))
    }

    fn find_user(&self, id: Uuid) -> AppResult<User> {
        users::table
            .find(id.to_string())
            .select(UserRow::as_select())
            .first(&mut self.db.read()?)
            .optional()?
            .ok_or_else(|| AppError::not_found("user"))?
            .try_into()
    }

    /// Stores a new token for `user_id`, first deleting that user's tokens that can no
    /// longer be used (so the table does not grow with every login), and replacing the
    /// password hash if it was made with another cost.
    fn issue_token(&self, user_id: Uuid, now: DateTime<Utc>, new_hash: Option<String>) -> AppResult<Session> {
        let token = AccessToken::generate()?;
        let expires_at = now.checked_add_signed(self.token_ttl).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let (now_ms, expires_ms) = (time::to_millis(now), time::to_millis(expires_at));
        let key = token.hash().as_bytes().to_vec();
        let id = user_id.to_string();
        let user = self.db.write(move |c| {
            diesel::delete(
                tokens::table
                    .filter(tokens::user_id.eq(&id))
                    .filter(tokens::expires_at.le(now_ms).or(tokens::revoked_at.is_not_null())),
            )
            .execute(c)?;
            if let Some(hash) = new_hash {
                diesel::update(users::table.find(&id)).set(users::password_hash.eq(hash)).execute(c)?;
            }
            diesel::insert_into(tokens::table)
                .values((
                    tokens::token_hash.eq(key),
                    tokens::user_id.eq(&id),
                    tokens::created_at.eq(now_ms),
                    tokens::expires_at.eq(expires_ms),
                ))
                .execute(c)?;
            // Read back in the same transaction: the user as of this login.
            Ok(users::table.find(&id).select(UserRow::as_select()).first(c)?)
        })?;
        Ok(Session { token, token_type: TokenType::Bearer, expires_at, user: user.try_into()? })
    }
}

impl AccountService for SqliteAccounts {
    fn register(&self, new: NewUser) -> AppResult<User> {
        let new = new.validate()?;
        // Hash here, on the caller's (blocking) thread, not inside the write.
        let mut slot = self.inner.hash_slots.acquire()?;
        let password_hash = self.inner.passwords.hash(&mut slot, &new.password)?;
        drop(slot);
        let user = User {
            id: core_models::id::new_id(),
            email: new.email,
            display_name: new.display_name,
            created_at: self.inner.now(),
        };
        let row = (
            users::id.eq(user.id.to_string()),
            users::email.eq(user.email.clone()),
            users::email_normalized.eq(new.email_normalized),
            users::display_name.eq(user.display_name.clone()),
            users::password_hash.eq(password_hash),
            users::created_at.eq(time::to_millis(user.created_at)),
        );
        // No "is it taken?" query first: the UNIQUE index decides, also between two
        // registrations racing for one email.
        self.inner.db.write(move |c| match diesel::insert_into(users::table).values(row).execute(c) {
            Ok(_) => Ok(()),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                Err(AppError::Conflict("an account with this email already exists".into()))
            }
            Err(other) => Err(other.into()),
        })?;
        log::info!("registered user {}", user.id);
        Ok(user)
    }

    fn login_from(&self, credentials: Credentials, client: IpAddr) -> AppResult<Session> {
        let inner = &self.inner;
        let credentials = credentials.validate()?;
        let now = inner.now();
        // Before the throttle: a login refused for load is not a failed attempt.
        let mut slot = inner.hash_slots.acquire()?;
        inner.throttle.admit(&credentials.email_normalized, client, now)?;
        let found = users::table
            .filter(users::email_normalized.eq(&credentials.email_normalized))
            .select(LoginRow::as_select())
            .first(&mut inner.db.read()?)
            .optional()?;
        let Some(found) = found else {
            // As slow as a wrong password, so timing does not tell which emails exist.
            inner.passwords.verify_dummy(&mut slot, &credentials.password)?;
            return Err(bad_credentials());
        };
        if !inner.passwords.verify(&mut slot, &credentials.password, &found.password_hash)? {
            return Err(bad_credentials());
        }
        inner.throttle.succeeded(&credentials.email_normalized, client, now);
        let new_hash = match inner.passwords.needs_rehash(&found.password_hash) {
            true => Some(inner.passwords.hash(&mut slot, &credentials.password)?),
            false => None,
        };
        // Free the hashing slot (and its memory) before waiting for the writer.
        drop(slot);
        let session = inner.issue_token(parse_id(&found.user.id)?, now, new_hash)?;
        log::info!("user {} logged in", session.user.id);
        Ok(session)
    }

    fn hash_gate(&self) -> Option<&HashGate> {
        Some(&self.inner.hash_gate)
    }

    fn authenticate(&self, token: &str) -> AppResult<CurrentUser> {
        let hash = TokenHash::of_presented(token).ok_or_else(invalid_token)?;
        let now_ms = time::to_millis(self.inner.now());
        if let Some(user) = self.inner.sessions.get(&hash, now_ms) {
            return Ok(CurrentUser::new(user, hash));
        }
        let epoch = self.inner.sessions.epoch();
        let (user, expires_at_ms) = tokens::table
            .inner_join(users::table)
            .filter(tokens::token_hash.eq(hash.as_bytes().as_slice()))
            .filter(tokens::revoked_at.is_null())
            .filter(tokens::expires_at.gt(now_ms))
            .select((UserRow::as_select(), tokens::expires_at))
            .first::<(UserRow, i64)>(&mut self.inner.db.read()?)
            .optional()?
            .ok_or_else(invalid_token)?;
        let user: User = user.try_into()?;
        self.inner.sessions.store(epoch, hash, user.clone(), expires_at_ms);
        Ok(CurrentUser::new(user, hash))
    }

    fn cached_session(&self, token: &str) -> Option<CurrentUser> {
        let hash = TokenHash::of_presented(token)?;
        let user = self.inner.sessions.get(&hash, time::to_millis(self.inner.now()))?;
        Some(CurrentUser::new(user, hash))
    }

    fn logout(&self, current: &CurrentUser) -> AppResult<()> {
        let key = current.token().as_bytes().to_vec();
        let user_id = current.id().to_string();
        let now_ms = time::to_millis(self.inner.now());
        // Only the caller's own token: the user id is part of the match. Revoking twice
        // (two logouts racing) is not an error.
        self.inner.db.write(move |c| {
            diesel::update(
                tokens::table
                    .filter(tokens::token_hash.eq(key))
                    .filter(tokens::user_id.eq(user_id))
                    .filter(tokens::revoked_at.is_null()),
            )
            .set(tokens::revoked_at.eq(now_ms))
            .execute(c)?;
            Ok(())
        })?;
        self.inner.sessions.revoked(current.token());
        log::info!("user {} logged out", current.id());
        Ok(())
    }

    fn user(&self, id: Uuid) -> AppResult<User> {
        self.inner.find_user(id)
    }

    fn profile(&self, id: Uuid) -> AppResult<PublicProfile> {
        let (id, display_name): (String, String) = users::table
            .find(id.to_string())
            .select((users::id, users::display_name))
            .first(&mut self.inner.db.read()?)
            .optional()?
            .ok_or_else(|| AppError::not_found("user"))?;
        Ok(PublicProfile { id: parse_id(&id)?, display_name })
    }
}
