//! Accounts in the shared database (SQLite or PostgreSQL): `users` and `tokens`, with
//! hashing done before the write is queued (the single writer thread never waits for Argon2).

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use storage::Backend;

use chrono::{DateTime, Duration, Utc};
use core_models::pagination::IdPaging;
use core_models::streams::{SessionKey, Streams};
use core_models::{time, AppError, AppResult, Page};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use storage::schema::{tokens, users};
use storage::Database;
use uuid::Uuid;

use crate::clock::Clock;
use crate::config::AccountsConfig;
use crate::http::{HashGate, HASH_QUEUE_WAIT};
use crate::model::{
    ClientInfo, Credentials, CurrentUser, NewUser, PasswordChange, PublicProfile, Session, SessionInfo, TokenType, User,
};
use crate::password::{HashSlots, Passwords};
use crate::revocations::{Follower, Holders, POLL_EVERY};
use crate::sessions::SessionCache;
use crate::throttle::{Attempt, LoginThrottle};
use crate::token::{AccessToken, TokenHash};
use crate::AccountService;

/// An [`AccountService`] over the `users` and `tokens` tables.
#[derive(Debug, Clone)]
pub struct DbAccounts {
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
    streams: Arc<Streams>,
    /// Whether a thread follows the revocation feed for this service.
    following: AtomicBool,
}

impl DbAccounts {
    /// A service on a migrated database. Cheap: nothing is hashed until first needed.
    pub fn new(db: Database, config: AccountsConfig) -> Self {
        DbAccounts {
            inner: Arc::new(Inner {
                db,
                token_ttl: config.token_ttl.max(Duration::zero()),
                passwords: Passwords::new(config.password_params),
                hash_slots: HashSlots::new(config.max_concurrent_hashes),
                hash_gate: HashGate::new(config.max_concurrent_hashes, HASH_QUEUE_WAIT),
                throttle: LoginThrottle::new(config.login_throttle),
                clock: config.clock,
                sessions: SessionCache::default(),
                streams: config.streams,
                following: AtomicBool::new(false),
            }),
        }
    }
}

/// A `users` row. Holds the password hash, so it stays in this module and has no `Debug`
/// that could print it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(storage::Backend))]
struct UserRow {
    id: String,
    email: String,
    display_name: String,
    created_at: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(storage::Backend))]
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

/// A live `tokens` row as `GET /auth/sessions` shows it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = tokens, check_for_backend(storage::Backend))]
struct SessionRow {
    token_hash: Vec<u8>,
    id: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: i64,
    user_agent: Option<String>,
    address: Option<String>,
}

impl SessionRow {
    fn into_info(self, current: &TokenHash) -> AppResult<SessionInfo> {
        let raw = self.id.unwrap_or_default();
        Ok(SessionInfo {
            id: core_models::id::from_stored("tokens.id", &raw)?,
            created_at: time::from_millis(self.created_at),
            last_used_at: time::from_millis(self.last_used_at.unwrap_or(self.created_at)),
            expires_at: time::from_millis(self.expires_at),
            user_agent: self.user_agent,
            address: self.address,
            current: self.token_hash.as_slice() == current.as_bytes(),
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
    /// longer be used (so the table does not grow with every login), replacing the
    /// password hash if it was made with another cost, and taking the login's `attempt`
    /// back from the throttle's failures, all in one write.
    fn issue_token(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
        new_hash: Option<String>,
        client: &ClientInfo,
        attempt: Attempt,
    ) -> AppResult<Session> {
        let token = AccessToken::generate()?;
        let expires_at = now.checked_add_signed(self.token_ttl).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let (now_ms, expires_ms) = (time::to_millis(now), time::to_millis(expires_at));
        let key = token.hash().as_bytes().to_vec();
        let id = user_id.to_string();
        let (session_id, address, user_agent) =
            (core_models::id::new_id().to_string(), client.address.to_string(), client.user_agent.clone());
        let user = self.db.write(move |c| {
            diesel::delete(
                tokens::table
                    .filter(tokens::user_id.eq(&id))
                    .filter(tokens::expires_at.le(now_ms).or(tokens::revoked_at.is_not_null())),
            )
            .execute(c.conn())?;
            LoginThrottle::succeeded(c.conn(), &attempt)?;
            if let Some(hash) = &new_hash {
                diesel::update(users::table.find(&id)).set(users::password_hash.eq(hash)).execute(c.conn())?;
            }
            diesel::insert_into(tokens::table)
                .values((
                    tokens::token_hash.eq(&key),
                    tokens::user_id.eq(&id),
                    tokens::created_at.eq(now_ms),
                    tokens::expires_at.eq(expires_ms),
                    tokens::id.eq(&session_id),
                    tokens::last_used_at.eq(now_ms),
                    tokens::address.eq(&address),
                    tokens::user_agent.eq(&user_agent),
                ))
                .execute(c.conn())?;
            // Read back in the same transaction: the user as of this login.
            Ok(users::table.find(&id).select(UserRow::as_select()).first(c.conn())?)
        })?;
        Ok(Session { token, token_type: TokenType::Bearer, expires_at, user: user.try_into()? })
    }
}

/// Which of a user's live tokens a revocation takes.
enum Revoke {
    /// The one with this hash (logout).
    Token(TokenHash),
    /// The one with this public id (`DELETE /auth/sessions/{id}`).
    Session(String),
    /// All of them (`POST /auth/logout-all`).
    All,
    /// All but this one (a password change keeps the session that made it).
    AllBut(TokenHash),
}

/// How stale `last_used_at` may get before an authentication writes it again.
const LAST_USED_PRECISION_MS: i64 = 60_000;

type TokenFilter = Box<dyn BoxableExpression<tokens::table, Backend, SqlType = diesel::sql_types::Bool>>;

impl Inner {
    /// Revokes the live tokens of `user_id` that `which` names, then forgets them in the
    /// session cache and ends their event streams (in that order, after the commit, so
    /// nothing re-admits them). Their stream tickets open nothing from the commit on, and
    /// other gateways hear of it through the revocation feed (triggers on `tokens` write
    /// it in this same write). Returns how many were revoked.
    fn revoke(&self, user_id: Uuid, which: Revoke) -> AppResult<usize> {
        let now_ms = time::to_millis(self.now());
        let user = user_id.to_string();
        let hashes: Vec<Vec<u8>> = self.db.write(move |c| {
            let chosen: TokenFilter = match &which {
                Revoke::Token(hash) => Box::new(tokens::token_hash.eq(hash.as_bytes().to_vec())),
                Revoke::Session(id) => Box::new(tokens::id.assume_not_null().eq(id.clone())),
                Revoke::All => Box::new(tokens::user_id.eq(user.clone())),
                Revoke::AllBut(hash) => Box::new(tokens::token_hash.ne(hash.as_bytes().to_vec())),
            };
            // Only the user's own tokens: the user id is part of every match. Revoking
            // twice (two logouts racing) is not an error.
            Ok(diesel::update(tokens::table)
                .filter(tokens::user_id.eq(&user))
                .filter(tokens::revoked_at.is_null())
                .filter(chosen)
                .set(tokens::revoked_at.eq(now_ms))
                .returning(tokens::token_hash)
                .get_results(c.conn())?)
        })?;
        let hashes: Vec<TokenHash> = hashes.iter().filter_map(|bytes| TokenHash::from_stored(bytes)).collect();
        let keys: Vec<SessionKey> = hashes.iter().map(TokenHash::session_key).collect();
        for hash in &hashes {
            self.sessions.revoked(hash);
        }
        self.streams.end_sessions(&keys);
        Ok(hashes.len())
    }

    /// Records that the token of `hash` was used at `now_ms`, when the stored time is more
    /// than [`LAST_USED_PRECISION_MS`] old (so a busy session writes once a minute, not on
    /// every request). A failure only costs precision: it is logged, not returned.
    fn touch(&self, hash: &TokenHash, last_used_ms: Option<i64>, now_ms: i64) {
        if last_used_ms.is_some_and(|last| now_ms - last < LAST_USED_PRECISION_MS) {
            return;
        }
        let key = hash.as_bytes().to_vec();
        let written = self.db.write(move |c| {
            diesel::update(tokens::table.find(&key))
                .filter(tokens::last_used_at.is_null().or(tokens::last_used_at.lt(now_ms)))
                .set(tokens::last_used_at.eq(now_ms))
                .execute(c.conn())?;
            Ok(())
        });
        if let Err(e) = written {
            log::warn!("could not record the use of session {hash:?}: {e}");
        }
    }
}

impl AccountService for DbAccounts {
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
        self.inner.db.write(move |c| {
            match diesel::insert_into(users::table).values(row.clone()).execute(c.conn()) {
                Ok(_) => Ok(()),
                Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                    Err(AppError::Conflict("an account with this email already exists".into()))
                }
                Err(other) => Err(other.into()),
            }
        })?;
        log::info!("registered user {}", user.id);
        Ok(user)
    }

    fn login_as(&self, credentials: Credentials, client: &ClientInfo) -> AppResult<Session> {
        let inner = &self.inner;
        let address = client.address;
        let credentials = credentials.validate()?;
        let now = inner.now();
        // Before the throttle: a login refused for load is not a failed attempt.
        let mut slot = inner.hash_slots.acquire()?;
        let attempt = inner.throttle.admit(&inner.db, &credentials.email_normalized, address, now)?;
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
        let new_hash = match inner.passwords.needs_rehash(&found.password_hash) {
            true => Some(inner.passwords.hash(&mut slot, &credentials.password)?),
            false => None,
        };
        // Free the hashing slot (and its memory) before waiting for the writer.
        drop(slot);
        let session = inner.issue_token(parse_id(&found.user.id)?, now, new_hash, client, attempt)?;
        log::info!("user {} logged in", session.user.id);
        Ok(session)
    }

    fn hash_gate(&self) -> Option<&HashGate> {
        Some(&self.inner.hash_gate)
    }

    fn authenticate(&self, token: &str) -> AppResult<CurrentUser> {
        let hash = TokenHash::of_presented(token).ok_or_else(invalid_token)?;
        let now_ms = time::to_millis(self.inner.now());
        if let Some((user, expires_at_ms)) = self.inner.sessions.get(&hash, now_ms) {
            return Ok(CurrentUser::new(user, hash, time::from_millis(expires_at_ms)));
        }
        let epoch = self.inner.sessions.epoch();
        let (user, expires_at_ms, last_used_ms) = tokens::table
            .inner_join(users::table)
            .filter(tokens::token_hash.eq(hash.as_bytes().as_slice()))
            .filter(tokens::revoked_at.is_null())
            .filter(tokens::expires_at.gt(now_ms))
            .select((UserRow::as_select(), tokens::expires_at, tokens::last_used_at))
            .first::<(UserRow, i64, Option<i64>)>(&mut self.inner.db.read()?)
            .optional()?
            .ok_or_else(invalid_token)?;
        let user: User = user.try_into()?;
        // A cache miss happens at most once per cache lifetime per session: the place to
        // note the use without a write per request.
        self.inner.touch(&hash, last_used_ms, now_ms);
        self.inner.sessions.store(epoch, hash, user.clone(), expires_at_ms);
        Ok(CurrentUser::new(user, hash, time::from_millis(expires_at_ms)))
    }

    fn cached_session(&self, token: &str) -> Option<CurrentUser> {
        let hash = TokenHash::of_presented(token)?;
        let (user, expires_at_ms) = self.inner.sessions.get(&hash, time::to_millis(self.inner.now()))?;
        Some(CurrentUser::new(user, hash, time::from_millis(expires_at_ms)))
    }

    fn logout(&self, current: &CurrentUser) -> AppResult<()> {
        self.inner.revoke(current.id(), Revoke::Token(*current.token()))?;
        log::info!("user {} logged out", current.id());
        Ok(())
    }

    fn sessions(&self, current: &CurrentUser, paging: &IdPaging) -> AppResult<Page<SessionInfo>> {
        let now_ms = time::to_millis(self.inner.now());
        // The user's live sessions, in no order and before the cursor: what the pages read
        // and `count=true` counts.
        let listed = || {
            tokens::table
                .filter(tokens::user_id.eq(current.id().to_string()))
                .filter(tokens::revoked_at.is_null())
                .filter(tokens::expires_at.gt(now_ms))
                .filter(tokens::id.is_not_null())
                .into_boxed()
        };
        let mut query = listed().select(SessionRow::as_select()).order(tokens::id.asc()).limit(paging.fetch());
        if let Some(after) = paging.after() {
            query = query.filter(tokens::id.gt(after));
        }
        let (rows, total) = (*self.inner.db.read()?).transaction(|c| {
            let rows = query.load(c)?;
            let total = paging.total(|most| storage::count::count_up_to(c, listed(), most))?;
            Ok::<_, AppError>((rows, total))
        })?;
        let rows = rows.into_iter().map(|row| row.into_info(current.token())).collect::<AppResult<Vec<_>>>()?;
        Ok(paging.page(rows, |session| session.id.to_string()).with_total(total))
    }

    fn revoke_session(&self, current: &CurrentUser, session: Uuid) -> AppResult<()> {
        match self.inner.revoke(current.id(), Revoke::Session(session.to_string()))? {
            0 => Err(AppError::not_found("session")),
            _ => {
                log::info!("user {} revoked session {session}", current.id());
                Ok(())
            }
        }
    }

    fn logout_all(&self, current: &CurrentUser) -> AppResult<()> {
        let revoked = self.inner.revoke(current.id(), Revoke::All)?;
        log::info!("user {} logged out everywhere ({revoked} sessions)", current.id());
        Ok(())
    }

    fn change_password(&self, current: &CurrentUser, change: PasswordChange, client: IpAddr) -> AppResult<()> {
        let inner = &self.inner;
        change.validate()?;
        let now = inner.now();
        let id = current.id().to_string();
        let mut slot = inner.hash_slots.acquire()?;
        let (email_normalized, stored): (String, String) = users::table
            .find(&id)
            .select((users::email_normalized, users::password_hash))
            .first(&mut inner.db.read()?)
            .optional()?
            .ok_or_else(invalid_token)?;
        // A stolen token must not become a way to guess the password: wrong current
        // passwords count like failed logins.
        let attempt = inner.throttle.admit(&inner.db, &email_normalized, client, now)?;
        if !inner.passwords.verify(&mut slot, &change.current_password, &stored)? {
            return Err(AppError::Forbidden("current_password is not the account's password".into()));
        }
        let new_hash = inner.passwords.hash(&mut slot, &change.new_password)?;
        drop(slot);
        inner.db.write(move |c| {
            diesel::update(users::table.find(&id)).set(users::password_hash.eq(&new_hash)).execute(c.conn())?;
            LoginThrottle::succeeded(c.conn(), &attempt)?;
            Ok(())
        })?;
        let revoked = inner.revoke(current.id(), Revoke::AllBut(*current.token()))?;
        log::info!("user {} changed the password; {revoked} other sessions revoked", current.id());
        Ok(())
    }

    fn user(&self, id: Uuid) -> AppResult<User> {
        self.inner.find_user(id)
    }

    fn follow_revocations(&self) -> std::io::Result<()> {
        if self.inner.following.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let follower = Follower::starting_now(&self.inner.db);
        let inner = Arc::downgrade(&self.inner);
        let spawned =
            std::thread::Builder::new().name("revocation-feed".into()).spawn(move || follow(&inner, follower));
        if spawned.is_err() {
            self.inner.following.store(false, Ordering::SeqCst);
        }
        spawned.map(drop)
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

/// The body of the revocation feed's thread: reads the feed every [`POLL_EVERY`] until the
/// service is gone. A failed read (the database is away) is logged once and retried.
fn follow(inner: &Weak<Inner>, mut follower: Follower) {
    let mut failing = false;
    loop {
        std::thread::sleep(POLL_EVERY);
        let Some(inner) = inner.upgrade() else { return };
        let holders = Holders { sessions: &inner.sessions, streams: &inner.streams };
        match follower.catch_up(&inner.db, &holders) {
            Ok(_) if failing => {
                log::info!("revocation feed: reading again");
                failing = false;
            }
            Ok(_) => {}
            Err(e) if !failing => {
                log::warn!("revocation feed: cannot read it ({e}); retrying every {POLL_EVERY:?}");
                failing = true;
            }
            Err(_) => {}
        }
    }
}
