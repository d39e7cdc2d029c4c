//! The activity log as a product uses it: entries inside the change's write, feeds, and
//! events that leave after commit, in commit order, to subscribers fast and slow.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;
use storage::DbConn;

use activity_log::stream::{resume, Watch};
use activity_log::{ActivityEntry, ActivityLog, Details, FeedParams, FeedQuery, InProcessPublisher, NewEntry};
use common::user;
use core_models::{AppError, Caller};
use diesel::RunQueryDsl;
use futures_util::StreamExt as _;
use storage::{Database, TestDb};
use uuid::Uuid;

fn setup(buffer: usize) -> (TestDb, ActivityLog, Arc<InProcessPublisher>) {
    let db = storage::test_pool();
    let publisher = Arc::new(InProcessPublisher::new(buffer));
    (db, ActivityLog::new(publisher.clone()), publisher)
}

fn record(db: &Database, log: &ActivityLog, actor: &Caller, entry: NewEntry) -> ActivityEntry {
    let (log, actor) = (log.clone(), actor.clone());
    db.write(move |c| log.append(c, &actor, entry.clone())).unwrap()
}

fn feed(db: &Database, log: &ActivityLog, team: Uuid, params: FeedParams) -> Vec<ActivityEntry> {
    let mut all = Vec::new();
    let mut params = FeedParams { limit: Some("7".into()), ..params };
    loop {
        let page = log.team_feed(&mut db.read().unwrap(), team, &FeedQuery::parse(params.clone()).unwrap()).unwrap();
        all.extend(page.items);
        match page.next_cursor {
            Some(cursor) => params.cursor = Some(cursor),
            None => return all,
        }
    }
}

#[actix_rt::test]
async fn a_failed_change_leaves_no_entry_and_publishes_nothing() {
    let (db, log, _) = setup(64);
    let ada = user(&db, "Ada");
    let team = Uuid::now_v7();
    let mut live = log.subscribe(team);

    let failed = {
        let (log, ada) = (log.clone(), ada.clone());
        db.write(move |c| {
            log.append(c, &ada, NewEntry::new(team, "task.updated"))?;
            Err::<(), _>(AppError::Conflict("the change itself failed".into()))
        })
    };
    assert_eq!(failed.unwrap_err().status_code(), 409);
    assert!(feed(&db, &log, team, FeedParams::default()).is_empty(), "no entry without its change");

    let kept = record(&db, &log, &ada, NewEntry::new(team, "task.created").details(Details::new().with("title", "x")));
    assert_eq!(feed(&db, &log, team, FeedParams::default()), vec![kept.clone()]);
    let first = tokio::time::timeout(Duration::from_secs(5), live.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(*first.entry(), kept, "the first event is the committed entry, not the rolled-back one");
    assert_eq!(kept.actor, ada.user_ref());
    assert_eq!(kept.details, serde_json::json!({"title": "x"}));
}

/// A hook that refuses one action and counts the entries it saw inside their writes.
#[derive(Debug, Default)]
struct Refuses(std::sync::atomic::AtomicUsize);

impl activity_log::EntryHook for Refuses {
    fn on_append(
        &self,
        tx: &mut storage::Tx<'_>,
        entry: &ActivityEntry,
        _: activity_log::Prepared,
    ) -> core_models::AppResult<()> {
        // The entry is already in the write: the hook reads it on the same connection.
        let seen: i64 =
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("(SELECT COUNT(*) FROM activity)"))
                .get_result(tx.conn())?;
        assert!(seen >= 1, "the hook runs after the entry's insert");
        if entry.action == "webhook.refused" {
            return Err(AppError::invalid("action", "refused by the hook"));
        }
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn hooks_run_inside_the_append_and_their_error_rolls_it_back() {
    let (db, log, _) = setup(8);
    let hook = Arc::new(Refuses::default());
    let log = log.with_hook(hook.clone());
    let ada = user(&db, "Ada");
    let team = Uuid::now_v7();
    let kept = record(&db, &log, &ada, NewEntry::new(team, "task.created"));
    let refused = db.write({
        let (log, ada) = (log.clone(), ada.clone());
        move |c| log.append(c, &ada, NewEntry::new(team, "webhook.refused"))
    });
    assert_eq!(refused.unwrap_err().status_code(), 422);
    assert_eq!(feed(&db, &log, team, FeedParams::default()), vec![kept], "the refused entry rolled back");
    assert_eq!(hook.0.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// Two teams' appends at once, both open until both have done their work (PostgreSQL):
/// neither reads what the other writes, so both commit at their first attempt. (When every
/// append read the whole log's latest time, one of two such writes always ran again.)
#[test]
fn appends_of_two_teams_at_once_never_run_twice() {
    let (db, log, _) = setup(8);
    let ada = user(&db, "Ada");
    // Each team has a log already, as a live team does.
    let teams = [Uuid::now_v7(), Uuid::now_v7()];
    for team in teams {
        record(&db, &log, &ada, NewEntry::new(team, "team.created"));
    }
    let interleaving = storage::testing::Interleaving::install(&db, 2);
    let writes: Vec<_> = teams
        .into_iter()
        .map(|team| {
            let (db, log, ada) = (db.database(), log.clone(), ada.clone());
            std::thread::spawn(move || record(&db, &log, &ada, NewEntry::new(team, "task.created")))
        })
        .collect();
    for write in writes {
        write.join().unwrap();
    }
    if db.engine() == storage::Engine::Postgres {
        assert_eq!(interleaving.arrivals(), 2, "each write committed at its first attempt");
    }
}

#[test]
fn an_unknown_actor_is_a_client_error() {
    let (db, log, _) = setup(8);
    let ghost = Caller::new(Uuid::now_v7(), "Ghost");
    let err = db.write(move |c| log.append(c, &ghost, NewEntry::new(Uuid::now_v7(), "team.created"))).unwrap_err();
    assert_eq!((err.status_code(), err.field_errors()[0].field.as_str()), (422, "actor"));
}

#[test]
fn feeds_are_newest_first_filtered_and_paged_without_gaps() {
    let (db, log, _) = setup(8);
    let (ada, bob) = (user(&db, "Ada"), user(&db, "Bob"));
    let (team, other_team) = (Uuid::now_v7(), Uuid::now_v7());
    let projects = [Uuid::now_v7(), Uuid::now_v7()];
    let task = Uuid::now_v7();
    let mut written = Vec::new();
    for i in 0..40 {
        let actor = if i % 3 == 0 { &bob } else { &ada };
        let action = ["task.created", "task.updated", "comment.created"][i % 3];
        let entry = match i % 4 {
            0 => NewEntry::new(team, "team.updated"),
            1 => NewEntry::new(team, action).task(projects[0], task),
            2 => NewEntry::new(team, action).project(projects[1]),
            _ => NewEntry::new(other_team, action),
        };
        written.push(record(&db, &log, actor, entry));
    }
    for t in [team, other_team] {
        let ids: Vec<_> = written.iter().filter(|e| e.team_id == t).map(|e| e.id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "a team's ids increase in commit order");
        let numbers: Vec<_> = written.iter().filter(|e| e.team_id == t).map(|e| e.team_seq).collect();
        assert_eq!(numbers, (1..=ids.len() as i64).collect::<Vec<_>>(), "each team counts its own entries");
    }

    let newest_first = |keep: &dyn Fn(&ActivityEntry) -> bool| -> Vec<Uuid> {
        written.iter().rev().filter(|e| e.team_id == team && keep(e)).map(|e| e.id).collect()
    };
    let ids_of = |entries: Vec<ActivityEntry>| entries.into_iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(ids_of(feed(&db, &log, team, FeedParams::default())), newest_first(&|_| true));
    let by_project = FeedParams { project_id: Some(projects[1].to_string()), ..FeedParams::default() };
    assert_eq!(ids_of(feed(&db, &log, team, by_project)), newest_first(&|e| e.project_id == Some(projects[1])));
    let by_actor = FeedParams { actor: Some(bob.id.to_string()), ..FeedParams::default() };
    assert_eq!(ids_of(feed(&db, &log, team, by_actor)), newest_first(&|e| e.actor.id == bob.id));
    let by_action = FeedParams { action: Some("task.updated".into()), ..FeedParams::default() };
    assert_eq!(ids_of(feed(&db, &log, team, by_action)), newest_first(&|e| e.action == "task.updated"));
    let since = written[20].created_at;
    let recent = FeedParams { since: Some(core_models::time::format(&since)), ..FeedParams::default() };
    assert_eq!(ids_of(feed(&db, &log, team, recent)), newest_first(&|e| e.created_at >= since));
    let future = FeedParams { since: Some("9999-01-01".into()), ..FeedParams::default() };
    assert!(feed(&db, &log, team, future).is_empty());

    let task_feed = log.task_feed(&mut db.read().unwrap(), task, &FeedQuery::default()).unwrap();
    let expected: Vec<Uuid> = written.iter().rev().filter(|e| e.task_id == Some(task)).map(|e| e.id).collect();
    assert_eq!(ids_of(task_feed.items), expected);
}

/// A tiny deterministic generator: the test is the same on every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

/// Follows a team like a browser does: resume from the last entry seen whenever the
/// stream ends (a slow subscriber is dropped by the publisher), until the `test.end` entry.
async fn follow(db: Database, log: ActivityLog, team: Uuid, delay: Duration) -> (Vec<i64>, usize) {
    let mut seen: Vec<i64> = Vec::new();
    for reconnects in 0..10_000 {
        // Like a browser's Last-Event-ID; a subscriber dropped before its first event
        // replays from the start (the test's writes all began after it subscribed).
        let mut stream = Box::pin(resume(Watch::new(
            log.subscribe(team),
            db.clone(),
            team,
            Some(seen.last().copied().unwrap_or(0)),
        )));
        while let Some(entry) = stream.next().await {
            seen.push(entry.team_seq);
            if entry.action == "test.end" {
                return (seen, reconnects);
            }
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
    }
    panic!("kept reconnecting");
}

#[actix_rt::test]
async fn every_subscriber_gets_exactly_the_committed_entries_in_order() {
    // A small buffer, so the slow subscribers really are dropped and must replay.
    let (db, log, _) = setup(4);
    let ada = user(&db, "Ada");
    let team = Uuid::now_v7();
    let subscribers: Vec<_> = (0..6u64)
        .map(|i| {
            let delay = Duration::from_millis(if i % 2 == 0 { 0 } else { 2 });
            actix_rt::spawn(follow(db.database(), log.clone(), team, delay))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;

    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            let (db, log, ada) = (db.database(), log.clone(), ada.clone());
            std::thread::spawn(move || {
                let mut rng = Lcg(w + 1);
                let mut committed = Vec::new();
                for _ in 0..60 {
                    let fail = rng.next(4) == 0;
                    let (log, ada) = (log.clone(), ada.clone());
                    let result = db.write(move |c| {
                        let entry = log.append(c, &ada, NewEntry::new(team, "task.updated"))?;
                        if fail {
                            return Err(AppError::Conflict("the change failed after its entry".into()));
                        }
                        Ok(entry.team_seq)
                    });
                    assert_eq!(result.is_err(), fail);
                    committed.extend(result.ok());
                    std::thread::sleep(Duration::from_micros(rng.next(500)));
                }
                committed
            })
        })
        .collect();
    // Subscribers run on this thread meanwhile: wait for the writers off it.
    let mut committed = actix_rt::task::spawn_blocking(move || {
        writers.into_iter().flat_map(|w| w.join().unwrap()).collect::<Vec<i64>>()
    })
    .await
    .unwrap();
    committed.push(record(&db, &log, &ada, NewEntry::new(team, "test.end")).team_seq);
    committed.sort_unstable();
    assert!(committed.len() > 100);

    let mut dropped = 0;
    for subscriber in subscribers {
        let (seen, reconnects) =
            tokio::time::timeout(Duration::from_secs(60), subscriber).await.expect("subscriber caught up").unwrap();
        assert_eq!(seen, committed, "exactly the committed entries, in id order, none twice");
        dropped += reconnects;
    }
    assert!(dropped > 0, "slow subscribers were dropped and replayed (else the test proves less)");
}

/// The count an entry id carries after its time (see `activity_log::entry_id`).
fn count_in(id: Uuid) -> u64 {
    let b = id.as_bytes();
    (u64::from(b[7]) << 30)
        | (u64::from(b[8] & 0x3f) << 24)
        | (u64::from(b[9]) << 16)
        | (u64::from(b[10]) << 8)
        | u64::from(b[11])
}

#[test]
fn ids_tell_a_team_nothing_of_other_teams_volume() {
    let (db, log, _) = setup(16);
    let ada = user(&db, "Ada");
    let (mine, theirs) = (Uuid::now_v7(), Uuid::now_v7());
    let first = record(&db, &log, &ada, NewEntry::new(mine, "task.created"));
    for _ in 0..5 {
        record(&db, &log, &ada, NewEntry::new(theirs, "task.updated"));
    }
    let second = record(&db, &log, &ada, NewEntry::new(mine, "task.updated"));
    // Only the time and the team's own count move between two of its ids.
    assert_eq!(count_in(second.id) - count_in(first.id), 1, "{} then {}", first.id, second.id);
    assert_eq!((first.team_seq, second.team_seq), (1, 2));
    assert!(second.id > first.id);
    // Another team's id is no position in this team's stream.
    let conn = &mut *db.read().unwrap();
    assert_eq!(log.resume_position(conn, mine, second.id, "Last-Event-ID").unwrap(), 2);
    let elsewhere = log.resume_position(conn, theirs, second.id, "Last-Event-ID").unwrap_err();
    assert_eq!(elsewhere.status_code(), 422);
}

#[actix_rt::test]
async fn ids_held_before_the_per_team_counters_still_resume_and_new_entries_follow_them() {
    use diesel::Connection as _;
    use diesel_migrations::MigrationHarness as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("before.db");
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let old = {
        // A database as the previous release left it: every migration before the counters,
        // and entries of two teams interleaved, numbered by the global `seq`.
        let mut conn = DbConn::establish(path.to_str().unwrap()).unwrap();
        loop {
            let pending = conn.pending_migrations(storage::MIGRATIONS).unwrap();
            let next = pending.first().expect("the counters migration is still to come");
            if next.name().to_string().contains("activity_team_seq") {
                break;
            }
            conn.run_next_migration(storage::MIGRATIONS).unwrap();
        }
        let actor = Uuid::now_v7();
        diesel::sql_query(format!(
            "INSERT INTO users (id, email, email_normalized, display_name, password_hash, created_at) \
             VALUES ('{actor}', 'a@x.io', 'a@x.io', 'Ada', 'x', 0)"
        ))
        .execute(&mut conn)
        .unwrap();
        let mut old = Vec::new();
        for (i, team) in [a, b, a, b, b, a].iter().enumerate() {
            let created_at = 1_764_060_000_000 + i as i64;
            diesel::sql_query(format!(
                "INSERT INTO activity (team_id, actor_id, action, details, created_at) \
                 VALUES ('{team}', '{actor}', 'task.updated', '{{}}', {created_at})"
            ))
            .execute(&mut conn)
            .unwrap();
            // The id a client of the previous release was sent for this entry.
            old.push((*team, activity_log::legacy_entry_id(created_at, i as i64 + 1)));
        }
        old
    };
    let db = Database::open(path.to_str().unwrap()).expect("the counters migration runs at start");
    let log = ActivityLog::new(Arc::new(InProcessPublisher::default()));
    let a_ids: Vec<Uuid> = old.iter().filter(|(team, _)| *team == a).map(|(_, id)| *id).collect();
    // Old ids are still the entries' ids, and each resumes at its place in its team.
    let feed_ids: Vec<Uuid> = log
        .team_feed(&mut db.read().unwrap(), a, &FeedQuery::parse(FeedParams::default()).unwrap())
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(feed_ids, a_ids.iter().rev().copied().collect::<Vec<_>>());
    for (n, id) in a_ids.iter().enumerate() {
        assert_eq!(log.resume_position(&mut db.read().unwrap(), a, *id, "Last-Event-ID").unwrap(), n as i64 + 1);
    }
    // The team's counter goes on from its own count, and a stream resumed from an old id
    // replays the rest, old and new, in order.
    let ada = user(&db, "Ada");
    let new = record(&db, &log, &ada, NewEntry::new(a, "task.created"));
    assert_eq!(new.team_seq, 4);
    assert!(new.id > a_ids[2], "the new id sorts after the team's old ones");
    let from = log.resume_position(&mut db.read().unwrap(), a, a_ids[1], "Last-Event-ID").unwrap();
    let mut replay = Box::pin(resume(Watch::new(log.subscribe(a), db.clone(), a, Some(from))));
    let mut got = Vec::new();
    for _ in 0..2 {
        let entry = tokio::time::timeout(Duration::from_secs(5), replay.next()).await.unwrap().unwrap();
        got.push(entry.id);
    }
    assert_eq!(got, [a_ids[2], new.id]);
}
