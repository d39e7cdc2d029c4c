//! The accounts rules, through `DbAccounts` on a fresh migrated database per test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use accounts::{
    AccountService, AccountsConfig, Clock, Credentials, CurrentUser, DbAccounts, ManualClock, NewUser, PasswordParams,
    TokenHash, User,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::Duration;
use core_models::AppError;
use diesel::prelude::*;
use sha2::{Digest, Sha256};
use storage::schema::{tokens, users};
use storage::TestDb;

const PASSWORD: &str = "correct horse battery";

/// A service with cheap hashing and a clock the test controls.
fn service_with(configure: impl FnOnce(&mut AccountsConfig)) -> (TestDb, DbAccounts, Arc<ManualClock>) {
    let db = storage::test_pool();
    let clock = Arc::new(ManualClock::starting_now());
    let mut config = AccountsConfig { clock: clock.clone(), ..AccountsConfig::insecure_for_tests() };
    configure(&mut config);
    let accounts = DbAccounts::new(db.database(), config);
    (db, accounts, clock)
}

fn service() -> (TestDb, DbAccounts, Arc<ManualClock>) {
    service_with(|_| {})
}

fn new_user(email: &str) -> NewUser {
    NewUser { email: email.into(), display_name: "Ada".into(), password: PASSWORD.into() }
}

fn credentials(email: &str, password: &str) -> Credentials {
    Credentials { email: email.into(), password: password.into() }
}

fn register(accounts: &DbAccounts, email: &str) -> User {
    accounts.register(new_user(email)).unwrap()
}

fn stored_password_hash(db: &TestDb, email_normalized: &str) -> String {
    users::table
        .filter(users::email_normalized.eq(email_normalized))
        .select(users::password_hash)
        .first(&mut db.read().unwrap())
        .unwrap()
}

/// A `tokens` row: hash, user id, created, expires, revoked.
type TokenRow = (Vec<u8>, String, i64, i64, Option<i64>);

fn token_rows(db: &TestDb) -> Vec<TokenRow> {
    tokens::table
        .select((tokens::token_hash, tokens::user_id, tokens::created_at, tokens::expires_at, tokens::revoked_at))
        .load(&mut db.read().unwrap())
        .unwrap()
}

fn status(result: Result<impl std::fmt::Debug, AppError>) -> u16 {
    result.unwrap_err().status_code()
}

#[test]
fn registration_stores_a_salted_argon2id_hash_and_the_normalized_email() {
    let (db, accounts, _) = service();
    let user = accounts.register(new_user("  Ada@Example.COM ")).unwrap();
    assert_eq!(user.email, "Ada@Example.COM");
    assert_eq!(user.display_name, "Ada");
    assert_eq!(user.id.get_version_num(), 7);
    assert_eq!(accounts.user(user.id).unwrap(), user);

    let hash = stored_password_hash(&db, "ada@example.com");
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
    register(&accounts, "twin@example.com");
    assert_ne!(stored_password_hash(&db, "twin@example.com"), hash, "same password, another salt");
}

#[test]
fn registration_names_every_bad_field_and_stores_nothing() {
    let (db, accounts, _) = service();
    let err = accounts
        .register(NewUser { email: "nope".into(), display_name: " ".into(), password: "1234567".into() })
        .unwrap_err();
    let fields: Vec<_> = err.field_errors().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["email", "display_name", "password"]);
    let err = accounts.register(NewUser { password: "x".repeat(129), ..new_user("a@b.io") }).unwrap_err();
    assert_eq!(err.field_errors()[0].message, "must be at most 128 characters");
    let count: i64 = users::table.count().get_result(&mut db.read().unwrap()).unwrap();
    assert_eq!(count, 0);
}

#[test]
fn emails_are_unique_regardless_of_case() {
    let (_db, accounts, _) = service();
    register(&accounts, "ada@example.com");
    let err = accounts.register(new_user(" ADA@example.com")).unwrap_err();
    assert_eq!(err.status_code(), 409);
    assert_eq!(err.to_string(), "conflict: an account with this email already exists");
}

#[test]
fn racing_registrations_of_one_email_make_one_account() {
    let (db, accounts, _) = service();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let accounts = accounts.clone();
            let email = if i % 2 == 0 { "race@example.com" } else { "RACE@example.com" };
            std::thread::spawn(move || accounts.register(new_user(email)).map(|_| ()))
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| e.status_code() == 409));
    let count: i64 = users::table.count().get_result(&mut db.read().unwrap()).unwrap();
    assert_eq!(count, 1);
}

#[test]
fn login_issues_a_token_stored_only_as_its_sha256() {
    let (db, accounts, clock) = service();
    let ada = register(&accounts, "ada@example.com");
    let session = accounts.login(credentials("ADA@example.com ", PASSWORD)).unwrap();
    assert_eq!(session.user, ada);
    assert_eq!(session.expires_at, clock.now() + Duration::days(30));
    assert_eq!(accounts.authenticate(session.token.expose_secret()).unwrap().user, ada);

    let rows = token_rows(&db);
    assert_eq!(rows.len(), 1);
    let raw = URL_SAFE_NO_PAD.decode(session.token.expose_secret()).unwrap();
    assert_eq!(raw.len(), 32, "256 random bits");
    assert_eq!(rows[0].0, Sha256::digest(&raw).to_vec());
    assert_eq!(rows[0].1, ada.id.to_string());
    assert!(!format!("{rows:?}").contains(session.token.expose_secret()));
    assert!(!format!("{session:?}").contains(session.token.expose_secret()), "Debug redacts the token");
}

#[test]
fn unknown_email_and_wrong_password_get_the_same_answer() {
    let (_db, accounts, _) = service();
    register(&accounts, "ada@example.com");
    let wrong = accounts.login(credentials("ada@example.com", "wrong password")).unwrap_err();
    let unknown = accounts.login(credentials("bob@example.com", PASSWORD)).unwrap_err();
    assert_eq!(wrong.status_code(), 401);
    assert_eq!(wrong.to_string(), unknown.to_string());
    assert_eq!(core_models::Problem::from(&wrong), core_models::Problem::from(&unknown));
}

/// With the production parameters: an unknown email must cost an Argon2 verification too,
/// or response times would tell which emails have accounts.
#[test]
fn unknown_emails_take_as_long_as_wrong_passwords() {
    let (_db, accounts, _) = service_with(|c| c.password_params = accounts::production_password_params());
    register(&accounts, "ada@example.com");
    let time = |email: &str| {
        let started = Instant::now();
        assert_eq!(status(accounts.login(credentials(email, "not the password"))), 401);
        started.elapsed()
    };
    time("warm-up@example.com"); // computes the dummy hash once
                                 // Interleaved, so a change in the machine's load hits both series alike.
    let (mut wrong, mut unknown): (Vec<StdDuration>, Vec<StdDuration>) =
        (0..7).map(|i| (time("ada@example.com"), time(&format!("nobody{i}@example.com")))).unzip();
    wrong.sort();
    unknown.sort();
    eprintln!("wrong {wrong:?}\nunknown {unknown:?}");
    let (wrong, unknown) = (wrong[3].as_secs_f64(), unknown[3].as_secs_f64());
    eprintln!("median login: wrong password {:.1} ms, unknown email {:.1} ms", wrong * 1e3, unknown * 1e3);
    // Without the dummy verification the ratio is below 0.01. Only "unknown emails are not
    // faster" matters; the bound is loose so load on shared CI cores cannot fail it.
    let ratio = unknown / wrong;
    assert!(ratio > 0.3, "unknown/wrong = {ratio:.2}");
}

#[test]
fn production_parameters_hash_register_and_log_in() {
    let (db, accounts, _) = service_with(|c| c.password_params = accounts::production_password_params());
    let started = Instant::now();
    register(&accounts, "ada@example.com");
    eprintln!("register with production argon2id params: {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
    assert!(stored_password_hash(&db, "ada@example.com").starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    let started = Instant::now();
    accounts.login(credentials("ada@example.com", PASSWORD)).unwrap();
    eprintln!("login with production argon2id params: {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
}

fn retry_after(err: AppError) -> u64 {
    match err {
        AppError::TooManyRequests { retry_after_secs, .. } => retry_after_secs,
        other => panic!("expected 429, got {other:?}"),
    }
}

const OWNER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const STRANGER: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));

#[test]
fn the_eleventh_attempt_from_one_address_is_refused_there_even_with_the_right_password() {
    let (_db, accounts, clock) = service();
    register(&accounts, "ada@example.com");
    for _ in 0..10 {
        assert_eq!(status(accounts.login_from(credentials("ada@example.com", "wrong password"), STRANGER)), 401);
        clock.advance(Duration::seconds(1));
    }
    // Ten seconds after the first failure: 14 min 50 s until it leaves the window.
    let err = accounts.login_from(credentials("ADA@example.com", PASSWORD), STRANGER).unwrap_err();
    assert_eq!(retry_after(err), 15 * 60 - 10);
    clock.advance(Duration::minutes(14) + Duration::seconds(49));
    assert_eq!(status(accounts.login_from(credentials("ada@example.com", PASSWORD), STRANGER)), 429);
    clock.advance(Duration::seconds(1));
    accounts.login_from(credentials("ada@example.com", PASSWORD), STRANGER).expect("the window has freed");
}

#[test]
fn a_strangers_wrong_passwords_do_not_lock_the_owner_out() {
    let (_db, accounts, _) = service();
    register(&accounts, "ada@example.com");
    for _ in 0..15 {
        let status = status(accounts.login_from(credentials("ada@example.com", "wrong password"), STRANGER));
        assert!(status == 401 || status == 429, "{status}");
    }
    assert_eq!(status(accounts.login_from(credentials("ada@example.com", PASSWORD), STRANGER)), 429);
    accounts.login_from(credentials("ada@example.com", PASSWORD), OWNER).expect("the owner's device has not failed");
}

#[test]
fn a_distributed_attack_on_one_email_gets_one_guess_per_address_and_the_owner_still_logs_in() {
    let (_db, accounts, _) = service_with(|c| c.login_throttle.max_failures_per_email = 5);
    register(&accounts, "ada@example.com");
    let bot = |n: u8| IpAddr::V4(Ipv4Addr::new(203, 0, 113, n));
    for n in 0..5 {
        assert_eq!(status(accounts.login_from(credentials("ada@example.com", "guess"), bot(n))), 401);
    }
    // Past the email's limit an address that already failed for it is refused...
    assert_eq!(status(accounts.login_from(credentials("ada@example.com", "guess"), bot(0))), 429);
    // ...a new one gets a single guess...
    assert_eq!(status(accounts.login_from(credentials("ada@example.com", "guess"), bot(50))), 401);
    assert_eq!(status(accounts.login_from(credentials("ada@example.com", "guess"), bot(50))), 429);
    // ...and the owner logs in.
    accounts.login_from(credentials("ada@example.com", PASSWORD), OWNER).unwrap();
}

#[test]
fn one_address_spraying_many_emails_is_refused_with_retry_after() {
    let (_db, accounts, _) = service();
    register(&accounts, "ada@example.com");
    for i in 0..20 {
        let email = format!("user{i}@example.com");
        assert_eq!(status(accounts.login_from(credentials(&email, PASSWORD), STRANGER)), 401);
    }
    let err = accounts.login_from(credentials("user99@example.com", PASSWORD), STRANGER).unwrap_err();
    assert_eq!(retry_after(err), 15 * 60);
    assert_eq!(status(accounts.login_from(credentials("ada@example.com", PASSWORD), STRANGER)), 429);
    accounts.login_from(credentials("ada@example.com", PASSWORD), OWNER).unwrap();
}

#[test]
fn unknown_emails_are_throttled_alike_and_other_emails_are_not_affected() {
    let (_db, accounts, _) = service_with(|c| c.login_throttle.max_failures_per_client_and_email = 3);
    register(&accounts, "ada@example.com");
    for _ in 0..3 {
        assert_eq!(status(accounts.login(credentials("ghost@example.com", PASSWORD))), 401);
    }
    assert_eq!(status(accounts.login(credentials("ghost@example.com", PASSWORD))), 429);
    accounts.login(credentials("ada@example.com", PASSWORD)).unwrap();
}

#[test]
fn a_successful_login_starts_the_count_over() {
    let (_db, accounts, _) = service_with(|c| c.login_throttle.max_failures_per_client_and_email = 3);
    register(&accounts, "ada@example.com");
    for _ in 0..2 {
        assert_eq!(status(accounts.login(credentials("ada@example.com", "wrong password"))), 401);
    }
    accounts.login(credentials("ada@example.com", PASSWORD)).unwrap();
    for _ in 0..3 {
        assert_eq!(status(accounts.login(credentials("ada@example.com", "wrong password"))), 401);
    }
    assert_eq!(status(accounts.login(credentials("ada@example.com", PASSWORD))), 429);
}

#[test]
fn impossible_passwords_are_refused_before_hashing_and_not_counted() {
    let (_db, accounts, _) = service_with(|c| c.password_params = accounts::production_password_params());
    let started = Instant::now();
    for _ in 0..20 {
        let err = accounts.login(credentials("ada@example.com", &"p".repeat(1 << 20))).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "password");
    }
    assert!(started.elapsed() < StdDuration::from_millis(500), "no hashing: {:?}", started.elapsed());
    assert_eq!(status(accounts.login(credentials("ada@example.com", PASSWORD))), 401, "not throttled");
}

#[test]
fn tokens_expire_after_the_configured_lifetime() {
    let (_db, accounts, clock) = service_with(|c| c.token_ttl = Duration::hours(2));
    register(&accounts, "ada@example.com");
    let session = accounts.login(credentials("ada@example.com", PASSWORD)).unwrap();
    let token = session.token.expose_secret();
    clock.advance(Duration::hours(2) - Duration::milliseconds(1));
    accounts.authenticate(token).expect("valid until the last millisecond");
    clock.advance(Duration::milliseconds(1));
    let err = accounts.authenticate(token).unwrap_err();
    assert_eq!(err.to_string(), "unauthorized: the token is invalid, expired or revoked; log in again");
}

#[test]
fn logout_revokes_only_the_token_in_use() {
    let (db, accounts, _) = service();
    register(&accounts, "ada@example.com");
    let phone = accounts.login(credentials("ada@example.com", PASSWORD)).unwrap();
    let laptop = accounts.login(credentials("ada@example.com", PASSWORD)).unwrap();
    let me = accounts.authenticate(phone.token.expose_secret()).unwrap();
    accounts.logout(&me).unwrap();
    assert_eq!(status(accounts.authenticate(phone.token.expose_secret())), 401);
    accounts.authenticate(laptop.token.expose_secret()).expect("the other session stays");
    accounts.logout(&me).expect("logging out twice is harmless");
    let revoked = token_rows(&db).into_iter().filter(|row| row.4.is_some()).count();
    assert_eq!(revoked, 1);
}

#[test]
fn nobody_can_revoke_another_users_token() {
    let (_db, accounts, _) = service();
    register(&accounts, "ada@example.com");
    let bob = register(&accounts, "bob@example.com");
    let ada_session = accounts.login(credentials("ada@example.com", PASSWORD)).unwrap();
    let ada = accounts.authenticate(ada_session.token.expose_secret()).unwrap();
    // A caller value naming Ada's token but Bob as the user: the service checks both.
    accounts.logout(&CurrentUser::new(bob, *ada.token(), ada.expires_at())).unwrap();
    accounts.authenticate(ada_session.token.expose_secret()).expect("Ada's token still works");
}

#[test]
fn malformed_tampered_and_unknown_tokens_are_refused() {
    let (_db, accounts, _) = service();
    register(&accounts, "ada@example.com");
    let session = accounts.login(credentials("ada@example.com", PASSWORD)).unwrap();
    let token = session.token.expose_secret();
    let first = token.chars().next().unwrap();
    let tampered = format!("{}{}", if first == 'A' { 'B' } else { 'A' }, &token[1..]);
    let unknown = URL_SAFE_NO_PAD.encode([7u8; 32]);
    assert!(TokenHash::of_presented(&unknown).is_some(), "well-formed, just never issued");
    for bad in [tampered.as_str(), &unknown, "", "short", &token[..42], &format!("{token}x"), "Bearer x", "ü"] {
        assert_eq!(status(accounts.authenticate(bad)), 401, "{bad:?}");
    }
}

#[test]
fn logging_in_prunes_the_users_dead_tokens() {
    let (db, accounts, clock) = service_with(|c| c.token_ttl = Duration::hours(1));
    register(&accounts, "ada@example.com");
    let old = accounts.login(credentials("ada@example.com", PASSWORD)).unwrap();
    let revoked = accounts.login(credentials("ada@example.com", PASSWORD)).unwrap();
    accounts.logout(&accounts.authenticate(revoked.token.expose_secret()).unwrap()).unwrap();
    clock.advance(Duration::minutes(30));
    let live = accounts.login(credentials("ada@example.com", PASSWORD)).unwrap();
    assert_eq!(token_rows(&db).len(), 2, "the revoked token is gone, the live ones stay");
    clock.advance(Duration::minutes(31));
    accounts.login(credentials("ada@example.com", PASSWORD)).unwrap();
    let keys: Vec<Vec<u8>> = token_rows(&db).into_iter().map(|row| row.0).collect();
    assert_eq!(keys.len(), 2, "the expired token is gone");
    assert!(!keys.contains(&old.token.hash().as_bytes().to_vec()));
    assert!(keys.contains(&live.token.hash().as_bytes().to_vec()));
}

#[test]
fn a_login_upgrades_a_hash_made_with_other_parameters() {
    let db = storage::test_pool();
    let cheap = DbAccounts::new(db.database(), AccountsConfig::insecure_for_tests());
    register(&cheap, "ada@example.com");
    let before = stored_password_hash(&db, "ada@example.com");
    assert!(before.contains("m=8,t=1,p=1"));
    let stronger = AccountsConfig {
        password_params: PasswordParams::new(64, 2, 1, Some(32)).unwrap(),
        ..AccountsConfig::insecure_for_tests()
    };
    let accounts = DbAccounts::new(db.database(), stronger);
    accounts.login(credentials("ada@example.com", PASSWORD)).unwrap();
    let after = stored_password_hash(&db, "ada@example.com");
    assert!(after.contains("m=64,t=2,p=1"), "{after}");
    accounts.login(credentials("ada@example.com", PASSWORD)).unwrap();
    assert_eq!(stored_password_hash(&db, "ada@example.com"), after, "rehashed once only");
}

#[test]
fn users_and_profiles_show_no_secrets() {
    let (_db, accounts, _) = service();
    let ada = register(&accounts, "ada@example.com");
    let user = serde_json::to_value(accounts.user(ada.id).unwrap()).unwrap();
    let mut keys: Vec<_> = user.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["created_at", "display_name", "email", "id"]);
    let profile = serde_json::to_value(accounts.profile(ada.id).unwrap()).unwrap();
    assert_eq!(profile, serde_json::json!({"id": ada.id, "display_name": "Ada"}));
    let session = serde_json::to_value(accounts.login(credentials("ada@example.com", PASSWORD)).unwrap()).unwrap();
    let mut keys: Vec<_> = session.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["expires_at", "token", "token_type", "user"]);
    assert_eq!(session["token_type"], "Bearer");
    assert!(!session.to_string().contains("argon2"));
}

#[test]
fn unknown_users_are_not_found() {
    let (_db, accounts, _) = service();
    let id = core_models::id::new_id();
    assert_eq!(status(accounts.user(id)), 404);
    assert_eq!(status(accounts.profile(id)), 404);
}

/// Hashing is capped so a flood of logins cannot take every blocking thread; past the cap
/// the answer is 503 at once, and such a refusal is not a failed login.
#[test]
fn hashing_past_the_cap_is_refused_with_503_and_not_counted() {
    let (db, accounts, _) = service();
    register(&accounts, "ada@example.com");
    let capped = DbAccounts::new(
        db.database(),
        AccountsConfig { max_concurrent_hashes: 0, ..AccountsConfig::insecure_for_tests() },
    );
    assert_eq!(status(capped.register(new_user("bob@example.com"))), 503);
    for _ in 0..15 {
        assert_eq!(status(capped.login(credentials("ada@example.com", "wrong password"))), 503);
    }
    // The same throttle state would have locked the email after 10 counted failures.
    assert_eq!(status(capped.login(credentials("ada@example.com", PASSWORD))), 503, "still load, not 429");
    assert!(accounts.login(credentials("ada@example.com", PASSWORD)).is_ok());
}
