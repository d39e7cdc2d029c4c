//! Two account services and ticket offices on one database, as two gateways have them:
//! what one does, the other honours (API section 8). Runs on SQLite and, with
//! `CORKBOARD_TEST_BACKEND=postgres`, on PostgreSQL; the HTTP suite's `gateways` tests do
//! the same with two gateway processes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use accounts::{
    AccountService, AccountsConfig, Credentials, CurrentUser, DbAccounts, ManualClock, NewUser, StreamTickets,
    REVOCATION_POLL,
};
use chrono::Duration;
use diesel::prelude::*;
use storage::schema::stream_tickets;
use storage::TestDb;

const PASSWORD: &str = "correct horse battery";

fn service(db: &TestDb, clock: Arc<ManualClock>) -> DbAccounts {
    DbAccounts::new(db.database(), AccountsConfig { clock, ..AccountsConfig::insecure_for_tests() })
}

/// Registers `email` on `accounts` and logs in: the token and its session.
fn session(accounts: &DbAccounts, email: &str) -> (String, CurrentUser) {
    accounts.register(NewUser { email: email.into(), display_name: "Ada".into(), password: PASSWORD.into() }).unwrap();
    let login = accounts.login(Credentials { email: email.into(), password: PASSWORD.into() }).unwrap();
    let token = login.token.expose_secret().to_owned();
    let user = accounts.authenticate(&token).unwrap();
    (token, user)
}

fn status<T: std::fmt::Debug>(result: Result<T, core_models::AppError>) -> u16 {
    result.unwrap_err().status_code()
}

#[test]
fn a_logout_on_one_service_drops_the_session_from_the_other_s_cache_within_a_second() {
    let db = storage::test_pool();
    let clock = Arc::new(ManualClock::starting_now());
    let (a, b) = (service(&db, clock.clone()), service(&db, clock));
    b.follow_revocations().unwrap();
    let (token, on_a) = session(&a, "ada@x.io");
    b.authenticate(&token).unwrap();
    assert!(b.cached_session(&token).is_some(), "b serves the token from its cache");

    a.logout(&on_a).unwrap();
    let revoked = Instant::now();
    while b.cached_session(&token).is_some() {
        assert!(revoked.elapsed() < StdDuration::from_secs(1), "b still trusts a revoked token");
        std::thread::sleep(StdDuration::from_millis(10));
    }
    // One poll interval and a read, give or take the scheduler; the loop above asserts
    // the contract (one second).
    eprintln!("forgotten after {:?} (polling every {REVOCATION_POLL:?})", revoked.elapsed());
    assert_eq!(status(b.authenticate(&token)), 401);
}

#[test]
fn a_ticket_opens_once_through_any_office_of_the_database() {
    let db = storage::test_pool();
    let accounts = service(&db, Arc::new(ManualClock::starting_now()));
    let (_, ada) = session(&accounts, "ada@x.io");
    let (here, there) = (StreamTickets::new(db.database()), StreamTickets::new(db.database()));
    let (ticket, expires_at) = here.issue(&ada.stream_owner()).unwrap();
    assert_eq!(ticket.len(), 43);
    assert!(expires_at <= core_models::time::now() + Duration::seconds(60));

    assert_eq!(there.check(&ticket).unwrap(), (ada.caller(), ada.stream_owner()), "a check uses nothing up");
    assert_eq!(there.redeem(&ticket).unwrap(), (ada.caller(), ada.stream_owner()));
    assert_eq!(status(here.redeem(&ticket)), 401, "single use, over offices");
    assert_eq!(status(there.redeem(&ticket)), 401);
    assert_eq!(status(here.check(&ticket)), 401);
    for bogus in ["", "made-up", &"A".repeat(43)] {
        assert_eq!(status(there.redeem(bogus)), 401, "{bogus:?}");
    }
}

#[test]
fn concurrent_redemptions_of_one_ticket_open_one_stream() {
    let db = storage::test_pool();
    let accounts = service(&db, Arc::new(ManualClock::starting_now()));
    let (_, ada) = session(&accounts, "ada@x.io");
    let (ticket, _) = StreamTickets::new(db.database()).issue(&ada.stream_owner()).unwrap();
    let opened: usize = std::thread::scope(|s| {
        let runs: Vec<_> = (0..8)
            .map(|_| {
                let (office, ticket) = (StreamTickets::new(db.database()), ticket.clone());
                s.spawn(move || office.redeem(&ticket).is_ok())
            })
            .collect();
        runs.into_iter().map(|run| usize::from(run.join().unwrap())).sum()
    });
    assert_eq!(opened, 1);
}

#[test]
fn tickets_expire_never_outlive_their_token_and_are_swept() {
    let db = storage::test_pool();
    let clock = Arc::new(ManualClock::starting_now());
    let accounts = DbAccounts::new(
        db.database(),
        AccountsConfig {
            clock: clock.clone(),
            token_ttl: Duration::seconds(30),
            ..AccountsConfig::insecure_for_tests()
        },
    );
    let (_, ada) = session(&accounts, "ada@x.io");
    let office = StreamTickets::with_clock(db.database(), clock.clone());
    let (ticket, expires_at) = office.issue(&ada.stream_owner()).unwrap();
    assert_eq!(expires_at, ada.expires_at(), "the token expires before the minute is over");
    clock.advance(Duration::seconds(29));
    office.check(&ticket).expect("still valid");
    clock.advance(Duration::seconds(1));
    assert_eq!(status(office.redeem(&ticket)), 401, "the token has expired");

    let (_, bob) = session(&accounts, "bob@x.io");
    let (first, _) = office.issue(&bob.stream_owner()).unwrap();
    clock.advance(Duration::seconds(31));
    let (_, later) = session(&accounts, "eve@x.io");
    let (second, _) = office.issue(&later.stream_owner()).unwrap();
    assert_eq!(status(office.redeem(&first)), 401);
    office.redeem(&second).expect("the later one is valid");
    let rows: i64 = stream_tickets::table.count().get_result(&mut db.read().unwrap()).unwrap();
    assert_eq!(rows, 1, "the expired tickets were swept when the second was issued");
}

#[test]
fn a_revoked_session_s_tickets_open_nothing_on_any_office() {
    let db = storage::test_pool();
    let accounts = service(&db, Arc::new(ManualClock::starting_now()));
    let (_, ada) = session(&accounts, "ada@x.io");
    let (_, other) = {
        let login = accounts.login(Credentials { email: "ada@x.io".into(), password: PASSWORD.into() }).unwrap();
        let token = login.token.expose_secret().to_owned();
        (token.clone(), accounts.authenticate(&token).unwrap())
    };
    let office = StreamTickets::new(db.database());
    let (voided, _) = office.issue(&ada.stream_owner()).unwrap();
    let (kept, _) = office.issue(&other.stream_owner()).unwrap();
    accounts.logout(&ada).unwrap();
    assert_eq!(status(office.check(&voided)), 401);
    assert_eq!(status(office.redeem(&voided)), 401);
    assert_eq!(status(office.issue(&ada.stream_owner())), 401, "no new ticket for a revoked session");
    office.redeem(&kept).expect("another session's ticket stays");
}

#[test]
fn pruning_expired_tokens_at_login_adds_nothing_to_the_revocation_feed() {
    use storage::schema::session_revocations;
    let db = storage::test_pool();
    // Tokens that expire as they are issued: the next login prunes the earlier one.
    let accounts = DbAccounts::new(
        db.database(),
        AccountsConfig { token_ttl: Duration::zero(), ..AccountsConfig::insecure_for_tests() },
    );
    accounts
        .register(NewUser { email: "ada@x.io".into(), display_name: "Ada".into(), password: PASSWORD.into() })
        .unwrap();
    for _ in 0..3 {
        accounts.login(Credentials { email: "ada@x.io".into(), password: PASSWORD.into() }).unwrap();
        std::thread::sleep(StdDuration::from_millis(2));
    }
    let tokens: i64 = storage::schema::tokens::table.count().get_result(&mut db.read().unwrap()).unwrap();
    assert_eq!(tokens, 1, "the expired ones were pruned");
    let fed: i64 = session_revocations::table.count().get_result(&mut db.read().unwrap()).unwrap();
    assert_eq!(fed, 0, "expired tokens need no revocation");
}

#[test]
fn a_burst_of_failed_logins_over_two_pools_gets_the_limit_and_429s_never_a_503() {
    // Two gateways: two pools on one database (on PostgreSQL their writes conflict and are
    // retried without the in-process lock that orders one gateway's reruns).
    let place = storage::TestDatabase::new();
    let open = || storage::Database::open(place.url()).unwrap();
    let config = || AccountsConfig { max_concurrent_hashes: 16, ..AccountsConfig::insecure_for_tests() };
    let services = [DbAccounts::new(open(), config()), DbAccounts::new(open(), config())];
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..16)
            .map(|i| {
                let accounts = services[i % 2].clone();
                s.spawn(move || {
                    (0..4)
                        .map(|j| {
                            let credentials =
                                Credentials { email: format!("nobody{i}-{j}@x.io"), password: PASSWORD.into() };
                            accounts.login(credentials).unwrap_err().status_code()
                        })
                        .collect::<Vec<u16>>()
                })
            })
            .collect();
        runs.into_iter().flat_map(|run| run.join().unwrap()).collect()
    });
    // One address (UNKNOWN_CLIENT) may fail 20 times in the window, over both gateways.
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 20, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
}
