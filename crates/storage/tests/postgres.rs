//! What the PostgreSQL backend adds to a write and a read, on a real server: run by
//! `make test-postgres` (which sets `CORKBOARD_TEST_BACKEND=postgres` and
//! `CORKBOARD_TEST_POSTGRES_URL`); without a server each test says so and passes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use core_models::AppError;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use storage::sql::sql;
use storage::{DbConfig, TestDb};

/// A database on the test server, or `None` (and a note) without one.
fn postgres(config: &DbConfig) -> Option<TestDb> {
    if storage::testing::postgres_server().is_none() {
        eprintln!("skipped: no PostgreSQL server (run `make test-postgres`)");
        return None;
    }
    Some(storage::test_pool_with(config))
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    statement_timeout: String,
}

#[test]
fn a_search_past_its_budget_is_503_and_the_connection_gets_its_default_back() {
    let config = DbConfig { read_budget: Duration::from_millis(100), pool_connections: 1, ..DbConfig::default() };
    let Some(db) = postgres(&config) else { return };
    {
        let mut search = db.read_for_search().unwrap();
        let started = std::time::Instant::now();
        let err = sql("SELECT pg_sleep(2)").untyped().execute(&mut *search).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(1), "stopped near its budget");
        assert_eq!(AppError::from(err).status_code(), 503);
    }
    // The one pooled connection, back from the search: the session's own limit again.
    let mut conn = db.read().unwrap();
    let setting: Setting = diesel::sql_query("SHOW statement_timeout").get_result(&mut *conn).unwrap();
    assert_eq!(setting.statement_timeout, "5s");
}

#[derive(QueryableByName)]
struct Plans {
    #[diesel(sql_type = BigInt)]
    generic_plans: i64,
    #[diesel(sql_type = BigInt)]
    custom_plans: i64,
}

/// How `conn`'s prepared statement of `marker` (a text in its SQL) was planned so far.
fn plans_of(conn: &mut storage::DbConn, marker: &str) -> Plans {
    diesel::sql_query(format!(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%{marker}%' \
         AND statement NOT LIKE '%pg_prepared_statements%'"
    ))
    .get_result(conn)
    .unwrap()
}

/// A read's statements are planned once and the plan reused (planning a list cost more
/// than running it), while a search plans each statement for its words, and its
/// connection goes back to the pool planning once again. A write plans as PostgreSQL
/// chooses.
#[test]
fn reads_reuse_one_plan_and_a_search_plans_for_its_words() {
    let config = DbConfig { pool_connections: 1, ..DbConfig::default() };
    let Some(db) = postgres(&config) else { return };
    fn run(conn: &mut storage::DbConn, marker: &str) {
        for n in 0..7 {
            let q =
                sql(format!("SELECT count(*) FROM generate_series(1, 10) AS {marker} WHERE {marker} > ")).bind_int(n);
            q.query::<BigInt>().get_result::<i64>(conn).unwrap();
        }
    }
    {
        let mut conn = db.read().unwrap();
        run(&mut conn, "read_marker");
        let plans = plans_of(&mut conn, "read_marker");
        assert_eq!((plans.generic_plans, plans.custom_plans), (7, 0), "one generic plan, reused");
    }
    {
        let mut search = db.read_for_search().unwrap();
        run(&mut search, "search_marker");
        let plans = plans_of(&mut search, "search_marker");
        assert_eq!((plans.generic_plans, plans.custom_plans), (0, 7), "planned for its values each time");
    }
    // The same pooled connection, back from the search.
    let mut conn = db.read().unwrap();
    run(&mut conn, "after_marker");
    let plans = plans_of(&mut conn, "after_marker");
    assert_eq!((plans.generic_plans, plans.custom_plans), (7, 0));
    drop(conn);
    // A write plans as PostgreSQL chooses: five custom plans first, whatever comes after.
    db.write(|tx| {
        run(tx.conn(), "write_marker");
        Ok(())
    })
    .unwrap();
    let plans = plans_of(&mut db.read().unwrap(), "write_marker");
    assert_eq!(plans.generic_plans + plans.custom_plans, 7);
    assert!(plans.custom_plans >= 5, "a write's statements are planned for their values first");
}

#[test]
fn a_write_past_its_budget_is_503_and_nothing_of_it_is_written() {
    let config = DbConfig { write_budget: Duration::from_millis(100), ..DbConfig::default() };
    let Some(db) = postgres(&config) else { return };
    db.write(|c| Ok(c.batch_execute("CREATE TABLE t (x BIGINT)")?)).unwrap();
    let err = db
        .write(|c| {
            sql("INSERT INTO t VALUES (1)").untyped().execute(c)?;
            sql("SELECT pg_sleep(2)").untyped().execute(c)?;
            Ok(())
        })
        .unwrap_err();
    assert_eq!(err.status_code(), 503, "{err}");
    let n: i64 = sql("SELECT count(*) FROM t").query::<BigInt>().get_result(&mut *db.read().unwrap()).unwrap();
    assert_eq!(n, 0);
}

/// Two writes that each read a count and write on its basis (the shape of "a team keeps
/// one admin"): run at once, one of them must see the other's result. SERIALIZABLE makes
/// PostgreSQL abort one, and the retry runs it again on the new state. Under READ COMMITTED
/// both would pass their check and the invariant (here: at most one row) would break.
#[test]
fn concurrent_check_then_write_keeps_its_rule_by_running_the_loser_again() {
    let Some(db) = postgres(&DbConfig::default()) else { return };
    db.write(|c| Ok(c.batch_execute("CREATE TABLE claims (who TEXT NOT NULL)")?)).unwrap();
    let rounds = 20;
    for round in 0..rounds {
        let barrier = Arc::new(Barrier::new(2));
        let attempts = Arc::new(Mutex::new(0));
        let threads: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|who| {
                let (db, barrier, attempts) = (db.database(), barrier.clone(), attempts.clone());
                std::thread::spawn(move || {
                    let mut first = true;
                    db.write(move |c| {
                        *attempts.lock().unwrap() += 1;
                        let taken: i64 = sql("SELECT count(*) FROM claims WHERE who LIKE ")
                            .bind_text(format!("{round}-%"))
                            .query::<BigInt>()
                            .get_result(c)?;
                        if first {
                            // Both have read before either writes: the interleaving that
                            // breaks the rule without serializable isolation.
                            first = false;
                            barrier.wait();
                        }
                        if taken > 0 {
                            return Err(AppError::Conflict("already claimed".into()));
                        }
                        sql("INSERT INTO claims VALUES (")
                            .bind_text(format!("{round}-{who}"))
                            .sql(")")
                            .untyped()
                            .execute(c)?;
                        Ok(())
                    })
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "round {round}: exactly one claim wins: {results:?}");
        assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| e.status_code() == 409));
        assert!(*attempts.lock().unwrap() >= 3, "round {round}: the loser ran again");
    }
    let n: i64 = sql("SELECT count(*) FROM claims").query::<BigInt>().get_result(&mut *db.read().unwrap()).unwrap();
    assert_eq!(n, rounds);
}

/// Two gateways (two handles, each with its own pool and its own rerun lock) writing one
/// hot row: every increment lands and no write runs out of attempts (a 503). Each write
/// reads the row, then writes what it read plus one, so SERIALIZABLE aborts all but one
/// of each overlapping round; the losers' reruns take turns within each gateway and meet
/// at most one rerun of the other gateway. (Writes with more work before the update need
/// claims: the next test.)
#[test]
fn reruns_of_two_gateways_on_one_hot_row_take_turns_and_none_runs_out() {
    let Some(db) = postgres(&DbConfig::default()) else { return };
    let (threads_per_gateway, writes_per_thread) = (12, 40);
    let failed: usize = on_two_gateways(&db, threads_per_gateway, move |gateway| {
        (0..writes_per_thread)
            .map(|_| {
                gateway.write(|c| {
                    let n: i64 = sql("SELECT n FROM hot").query::<BigInt>().get_result(c.conn())?;
                    sql("UPDATE hot SET n = ").bind_int(n + 1).untyped().execute(c.conn())?;
                    Ok(())
                })
            })
            .filter(Result::is_err)
            .count()
    })
    .into_iter()
    .sum();
    let n: i64 = sql("SELECT n FROM hot").query::<BigInt>().get_result(&mut *db.read().unwrap()).unwrap();
    assert_eq!(
        (failed, n),
        (0, 2 * threads_per_gateway as i64 * writes_per_thread),
        "writes that ran out of attempts, rows"
    );
}

/// A table `hot` with one row `n = 0`, then `work` on `threads_per_gateway` threads of each
/// of two handles of the database (two gateways), at once; their results.
fn on_two_gateways<T: Send + 'static>(
    db: &TestDb,
    threads_per_gateway: usize,
    work: impl Fn(&storage::Database) -> T + Send + Sync + Clone + 'static,
) -> Vec<T> {
    db.write(|c| Ok(c.batch_execute("CREATE TABLE hot (n BIGINT NOT NULL); INSERT INTO hot VALUES (0)")?)).unwrap();
    let gateways = [db.database(), storage::Database::open_with(db.url(), &DbConfig::default()).unwrap()];
    let threads: Vec<_> = gateways
        .iter()
        .flat_map(|gateway| (0..threads_per_gateway).map(move |_| gateway.clone()))
        .map(|gateway| {
            let work = work.clone();
            std::thread::spawn(move || work(&gateway))
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// Hooks of writes that share an order key run in commit order, even though the writes
/// commit on different threads: each write bumps a shared counter row and records the
/// value it saw; the hooks must announce the values in increasing order.
#[test]
fn hooks_of_one_key_run_in_commit_order() {
    let Some(db) = postgres(&DbConfig::default()) else { return };
    db.write(|c| Ok(c.batch_execute("CREATE TABLE counter (n BIGINT NOT NULL); INSERT INTO counter VALUES (0)")?))
        .unwrap();
    let announced = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (db, announced) = (db.database(), announced.clone());
            std::thread::spawn(move || {
                for _ in 0..25 {
                    let announced = announced.clone();
                    db.write(move |tx| {
                        let n: i64 =
                            sql("UPDATE counter SET n = n + 1 RETURNING n").query::<BigInt>().get_result(tx.conn())?;
                        let announced = announced.clone();
                        tx.after_commit_ordered("team", move || announced.lock().unwrap().push(n));
                        Ok(())
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let announced = announced.lock().unwrap().clone();
    assert_eq!(announced, (1..=200).collect::<Vec<i64>>(), "every value once, in commit order");
}

/// An index and the one property of it a test asks about (its storage options, or its
/// predicate), as text.
#[derive(QueryableByName)]
struct Index {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    detail: String,
}

/// Every full-text (GIN) index takes a new row's words into the index at once: a search
/// never reads a pending list of recent rows' words (which made a rare word's search 6x
/// slower at p99 while writes filled it, see the migration).
#[test]
fn full_text_indexes_keep_no_pending_list() {
    let Some(db) = postgres(&DbConfig::default()) else { return };
    let indexes: Vec<Index> =
        sql("SELECT c.relname::text AS name, coalesce(array_to_string(c.reloptions, ','), '') AS detail
           FROM pg_class AS c JOIN pg_am AS a ON a.oid = c.relam JOIN pg_namespace AS n ON n.oid = c.relnamespace
          WHERE a.amname = 'gin' AND c.relkind = 'i' AND n.nspname = current_schema()")
        .untyped()
        .load(&mut *db.read().unwrap())
        .unwrap();
    let names: Vec<&str> = indexes.iter().map(|i| i.name.as_str()).collect();
    assert!(names.contains(&"tasks_search") && names.contains(&"notes_search"), "{names:?}");
    for index in &indexes {
        assert!(index.detail.split(',').any(|o| o == "fastupdate=off"), "{}: {:?}", index.name, index.detail);
    }
}

/// Every note and task is in the sort indexes of one board only: those that lead with
/// `owner_id` (a user's board) hold owned rows, the anonymous board's partial indexes the
/// rest. An anonymous insert used to write each sort key into both sets (migration
/// `2026-12-07-000190`), though no query reads anonymous rows from the first.
#[test]
fn each_board_row_is_in_one_set_of_sort_indexes() {
    let Some(db) = postgres(&DbConfig::default()) else { return };
    let indexes: Vec<Index> =
        sql("SELECT c.relname::text AS name, coalesce(pg_get_expr(i.indpred, i.indrelid), '') AS detail
           FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
          WHERE i.indrelid IN ('notes'::regclass, 'tasks'::regclass) AND NOT i.indisunique
            AND c.relname NOT LIKE '%_search'")
        .untyped()
        .load(&mut *db.read().unwrap())
        .unwrap();
    let (mut owned, mut anonymous) = (0, 0);
    for index in &indexes {
        if index.name.contains("_anonymous_") {
            assert_eq!(index.detail, "(owner_id IS NULL)", "{}", index.name);
            anonymous += 1;
        } else {
            assert_eq!(index.detail, "(owner_id IS NOT NULL)", "{}", index.name);
            owned += 1;
        }
    }
    assert_eq!((owned, anonymous), (13, 13), "{:?}", indexes.iter().map(|i| &i.name).collect::<Vec<_>>());
}

/// Like the test above, with writes that do some work between their first read and the
/// hot row's update, as a product's write does (access checks, the row it changes, then
/// the team's activity counter): any commit of another gateway inside that window makes
/// the write lose again, and without claims some lose every attempt. Every write claims
/// the hot row's key before its update ([`storage::Tx::claim`]), so a write that lost
/// once runs again alone on that key, over both gateways, and wins: none needs a third
/// attempt.
#[test]
fn a_write_that_lost_on_a_claimed_hot_row_wins_its_second_attempt() {
    let Some(db) = postgres(&DbConfig::default()) else { return };
    let (threads_per_gateway, writes_per_thread) = (6, 12);
    let most = on_two_gateways(&db, threads_per_gateway, move |gateway| {
        (0..writes_per_thread)
            .map(|_| {
                let attempts = Arc::new(std::sync::atomic::AtomicU32::new(0));
                let counted = attempts.clone();
                gateway
                    .write(move |c| {
                        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let n: i64 = sql("SELECT n FROM hot").query::<BigInt>().get_result(c.conn())?;
                        sql("SELECT pg_sleep(0.003)").untyped().execute(c.conn())?;
                        c.claim("hot")?;
                        sql("UPDATE hot SET n = ").bind_int(n + 1).untyped().execute(c.conn())?;
                        Ok(())
                    })
                    .map_or(u32::MAX, |()| attempts.load(std::sync::atomic::Ordering::SeqCst))
            })
            .max()
            .unwrap_or(0)
    })
    .into_iter()
    .max()
    .unwrap();
    let n: i64 = sql("SELECT n FROM hot").query::<BigInt>().get_result(&mut *db.read().unwrap()).unwrap();
    assert_eq!(n, 2 * threads_per_gateway as i64 * writes_per_thread, "every write made");
    assert!(most <= 2, "a write took {most} attempts (u32::MAX: it ran out)");
}

/// A write that panics while it holds its claims alone (its rerun, with session advisory
/// locks) leaves none behind: its connection, left inside the transaction, is closed
/// rather than put back in the pool (checkouts run no statement that could clear it), so
/// the team does not stay locked for the life of a pooled connection.
#[test]
fn a_rerun_that_panics_gives_back_the_claims_it_held_alone() {
    let Some(db) = postgres(&DbConfig { pool_connections: 1, ..DbConfig::default() }) else { return };
    let runs = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let runs = runs.clone();
        db.write(move |tx| -> Result<(), AppError> {
            tx.claim("team:held")?;
            if runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                // Lost to a concurrent write: the next run holds "team:held" alone.
                return Err(AppError::Unavailable(core_models::error::WRITE_CONFLICT.into()));
            }
            panic!("a bug in a write");
        })
    }));
    assert!(panicked.is_err(), "the panic reaches the caller");
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 2, "the second run held the claim alone");
    // Another pool (another gateway) claims the key at once: nothing holds it any more.
    // Were it still held, its claim would fail, and its rerun would wait for the lock
    // until its statement budget ran out (503).
    let other = storage::Database::open_with(
        db.url(),
        &DbConfig { statement_timeout: Duration::from_secs(2), ..DbConfig::default() },
    )
    .unwrap();
    let attempts = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counted = attempts.clone();
    other
        .write(move |tx| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tx.claim("team:held")
        })
        .expect("the claim is free");
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 1, "claimed at the first attempt");
    // The pool's one connection serves the next request.
    db.write(|tx| tx.claim("team:held")).expect("the panicked write's connection was replaced or is clean");
}

/// A pooled connection whose server session ended (a restart, a failover, an operator's
/// `pg_terminate_backend`) answers the read that finds it with 503, and is then dropped:
/// the next request gets a new connection, though checkouts run no test query. A write
/// that finds one before its BEGIN takes another connection and runs.
#[test]
fn a_connection_that_lost_its_session_fails_one_request_then_leaves_the_pool() {
    let Some(db) = postgres(&DbConfig { pool_connections: 1, ..DbConfig::default() }) else { return };
    #[derive(QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let pid_of = |conn: &mut storage::DbConn| -> Result<i32, AppError> {
        Ok(sql("SELECT pg_backend_pid() AS pid").untyped().get_result::<Pid>(conn)?.pid)
    };
    let first = pid_of(&mut db.read().unwrap()).unwrap();
    let mut admin = storage::Database::open_with(db.url(), &DbConfig::default()).unwrap().read().unwrap();
    admin.batch_execute(&format!("SELECT pg_terminate_backend({first})")).unwrap();
    // The pool's one connection is the dead one: the request on it fails with 503...
    let lost = pid_of(&mut db.read().unwrap()).unwrap_err();
    assert!(matches!(lost, AppError::Unavailable(_)), "{lost:?}");
    // ...and it is not handed out again.
    let second = pid_of(&mut db.read().unwrap()).expect("a new connection");
    assert_ne!(first, second);
    assert!(pid_of(&mut db.read().unwrap()).is_ok());

    // A write that finds its connection lost before it began runs on a new one instead.
    admin.batch_execute(&format!("SELECT pg_terminate_backend({second})")).unwrap();
    let third = db
        .write(|tx| -> Result<i32, AppError> {
            Ok(sql("SELECT pg_backend_pid() AS pid").untyped().get_result::<Pid>(tx.conn())?.pid)
        })
        .expect("the write ran on a new connection");
    assert_ne!(third, second);
}

#[derive(QueryableByName)]
struct Folded {
    #[diesel(sql_type = Text)]
    text: String,
    #[diesel(sql_type = Text)]
    now: String,
    #[diesel(sql_type = Text)]
    before: String,
}

/// `search_fold` skips its `translate` for ASCII text (migration
/// 2026-12-07-000170_search_fold_ascii): the stored `search` columns stay valid only if it
/// folds every text as the first definition did. Compared here on every ASCII character,
/// every character of the map, and random texts mixing both with other letters.
#[test]
fn search_fold_folds_every_text_as_its_first_definition_did() {
    let Some(db) = postgres(&DbConfig::default()) else { return };
    let first = include_str!("../../../migrations/postgres/2026-11-25-000001_notes/up.sql");
    let start = first.find("CREATE FUNCTION search_fold").expect("the first definition");
    let end = start + first[start..].find("$$;").expect("its end") + 3;
    let before = first[start..end].replace("FUNCTION search_fold(", "FUNCTION pg_temp.search_fold_before(");
    let mut conn = db.read().unwrap();
    conn.batch_execute(&before).unwrap();
    let differing: Vec<Folded> = diesel::sql_query(
        "WITH pool AS (SELECT string_to_array('a B z Z 0 9 é É ß ø Ł ñ Ω 東 ǅ ﬁ ~ ! \\ '' \" - _ . @ /', ' ') AS c),
         chars AS (
             SELECT chr(i) AS c FROM generate_series(1, 127) AS i
             UNION ALL SELECT chr(i) FROM generate_series(160, 591) AS i
         ),
         texts AS (
             SELECT 'x' || c || 'Y' AS text FROM chars
             UNION ALL SELECT c || ' ' || upper(c) || c FROM chars
             UNION ALL SELECT string_agg(pool.c[1 + floor(random() * array_length(pool.c, 1))::int], '')
               FROM pool, generate_series(1, 2000) AS n, generate_series(1, 1 + n % 40) AS k GROUP BY n
             UNION ALL SELECT 'Plain ASCII: e-mail ann@example.com, v1.2 (a/b) [x] {y} ~z~ #1 50% \"q\" ''s'''
         )
         SELECT text, search_fold(text) AS now, pg_temp.search_fold_before(text) AS before FROM texts
          WHERE search_fold(text) IS DISTINCT FROM pg_temp.search_fold_before(text)",
    )
    .load(&mut *conn)
    .unwrap();
    let shown: Vec<(&str, &str, &str)> =
        differing.iter().take(10).map(|f| (f.text.as_str(), f.now.as_str(), f.before.as_str())).collect();
    assert!(differing.is_empty(), "{} texts fold differently: {shown:?}", differing.len());
}
