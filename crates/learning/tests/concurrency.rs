//! The learning rules a single writer used to guarantee, under concurrent writes (issue 16,
//! point 4). On PostgreSQL the writes of each test are held open together
//! (`storage::Interleaving`): each has read what it checks before either commits. On
//! SQLite the same tests run the writes one after the other and must end the same way.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use core_models::{AppResult, Caller};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use learning::{CompletionBody, DbLearning, LearningService, NewChallenge, RatingBody};
use storage::{at_once, TestDb};
use uuid::Uuid;

type Job<T> = Box<dyn FnOnce() -> AppResult<T> + Send>;

/// A challenge by its author, the first of `n` users.
fn challenge(n: usize) -> (TestDb, Arc<DbLearning>, Uuid, Vec<Caller>) {
    let db = storage::test_pool();
    let service = Arc::new(DbLearning::new(db.database()));
    let users = common::users(&db, n);
    let new = NewChallenge {
        title: "Reverse a list".into(),
        description: None,
        difficulty: "beginner".into(),
        topic: "basics".into(),
        tags: vec![],
    };
    let id = service.create_challenge(&users[0], new).unwrap().id;
    (db, service, id, users)
}

fn complete(service: &Arc<DbLearning>, who: &Caller, id: Uuid) -> Job<bool> {
    let (service, who) = (service.clone(), who.clone());
    Box::new(move || Ok(service.complete(&who, id, CompletionBody { solution: None })?.created))
}

fn rate(service: &Arc<DbLearning>, who: &Caller, id: Uuid, stars: i64) -> Job<bool> {
    let (service, who) = (service.clone(), who.clone());
    Box::new(move || Ok(service.rate(&who, id, RatingBody { stars })?.created))
}

fn count(db: &TestDb, query: &'static str, id: Uuid) -> i64 {
    storage::sql::sql(query)
        .bind_text(id.to_string())
        .sql(")")
        .query::<BigInt>()
        .get_result(&mut *db.read().unwrap())
        .unwrap()
}

#[test]
fn a_rating_never_outlives_the_completion_undone_at_the_same_time() {
    let (db, service, id, users) = challenge(2);
    let bob = users[1].clone();
    service.complete(&bob, id, CompletionBody { solution: None }).unwrap();
    let undo: Job<bool> = {
        let (service, bob) = (service.clone(), bob.clone());
        Box::new(move || service.undo_completion(&bob, id).map(|()| true))
    };
    let results = at_once(&db, vec![rate(&service, &bob, id, 5), undo]);
    assert!(results[1].is_ok(), "undoing always succeeds: {results:?}");
    if let Err(e) = &results[0] {
        assert_eq!(e.status_code(), 403, "the rating came after the undo: {e}");
    }
    // Whichever came first, no rating is left without its completion.
    assert_eq!(count(&db, "SELECT count(*) FROM ratings WHERE challenge_id = (", id), 0);
    let now = service.challenge(id, None).unwrap();
    assert_eq!((now.rating.count, now.completion_count), (0, 0));
}

#[test]
fn the_same_completion_sent_twice_at_once_is_made_once() {
    let (db, service, id, users) = challenge(2);
    let bob = users[1].clone();
    let results = at_once(&db, vec![complete(&service, &bob, id), complete(&service, &bob, id)]);
    let created: Vec<bool> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(created.iter().filter(|c| **c).count(), 1, "one PUT created it, the other found it: {created:?}");
    assert_eq!(count(&db, "SELECT count(*) FROM completions WHERE challenge_id = (", id), 1);
    assert_eq!(service.challenge(id, None).unwrap().completion_count, 1);
}

#[test]
fn counters_count_every_concurrent_completion_and_rating() {
    let (db, service, id, users) = challenge(3);
    let (bob, eve) = (users[1].clone(), users[2].clone());
    for result in at_once(&db, vec![complete(&service, &bob, id), complete(&service, &eve, id)]) {
        assert!(result.unwrap(), "each completion is new");
    }
    for result in at_once(&db, vec![rate(&service, &bob, id, 5), rate(&service, &eve, id, 2)]) {
        assert!(result.unwrap(), "each rating is new");
    }
    let now = service.challenge(id, None).unwrap();
    assert_eq!(now.completion_count, 2);
    assert_eq!(now.rating.count, 2);
    assert_eq!(now.rating.average, Some(3.5));
}

/// A learner who enrols in a path while completing one of its challenges finds that
/// completion counted in `/me/progress`, whichever write commits first. The enrolment
/// counts the learner's completions as it starts and the completion moves the counter of
/// every enrolment it finds: held open together, neither sees the other's row, and without
/// SERIALIZABLE writes the counter would stay at 0 while the path's own progress says 1.
#[test]
fn an_enrolment_made_during_a_completion_counts_it() {
    let (db, service, id, users) = challenge(2);
    let bob = users[1].clone();
    let new = learning::NewPath {
        title: "Lists".into(),
        description: None,
        topic: "basics".into(),
        challenge_ids: Some(vec![id.to_string()]),
    };
    let path = service.create_path(&users[0], new).unwrap().path.id;
    let enroll: Job<bool> = {
        let (service, bob) = (service.clone(), bob.clone());
        Box::new(move || Ok(service.enroll(&bob, path)?.created))
    };
    for result in at_once(&db, vec![enroll, complete(&service, &bob, id)]) {
        assert!(result.unwrap(), "both are new");
    }
    let mine = service.my_progress(&bob, &core_models::pagination::IdPaging::first(10)).unwrap();
    assert_eq!(mine.items.len(), 1);
    assert_eq!(mine.items[0].completed_challenges, 1, "the enrolment's counter");
    assert_eq!(service.path_progress(&bob, path).unwrap().completed_challenges, 1, "the path's own progress");
}
