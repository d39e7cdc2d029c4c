//! How browses are read: a page without its total and without a search is one page
//! statement with no transaction around it (on PostgreSQL a `BEGIN` and a `COMMIT` are two
//! more round trips), a tag browse first reads its tags' counts (which only choose the
//! walk); a total is read in the page's snapshot. Statements are recorded through
//! Diesel's instrumentation (`storage::testing::statements_of`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use learning::{
    CompletionBody, DbLearning, LearningService, ListChallenges, ListChallengesParams, ListPaths, ListPathsParams,
    NewChallenge,
};
use storage::testing::{is_transaction_control, record_statements, statements_of};

#[test]
fn a_page_without_a_total_is_read_without_a_transaction() {
    record_statements();
    let db = storage::test_pool();
    let service = DbLearning::new(db.database());
    let people = common::users(&db, 2);
    let (author, bob) = (&people[0], &people[1]);
    for (i, topic) in ["graphs", "graphs", "strings"].iter().enumerate() {
        let new = NewChallenge {
            title: format!("challenge {i}"),
            difficulty: "beginner".into(),
            topic: (*topic).into(),
            tags: vec!["python".into()],
            ..NewChallenge::default()
        };
        service.create_challenge(author, new).unwrap();
    }
    let browse = |params: ListChallengesParams| {
        let query = ListChallenges::parse(params, Some(bob.id)).unwrap();
        statements_of(None, || service.challenges(&query).unwrap())
    };

    let topic = ListChallengesParams { topic: Some("graphs".into()), ..ListChallengesParams::default() };
    let (page, sent) = browse(topic.clone());
    assert_eq!(page.items.len(), 2);
    assert_eq!(sent.len(), 1, "{sent:#?}");

    // One tag: the page alone. Several: the tags' counts (to walk the rarest), then the
    // page; a tag on no challenge ends it there.
    let tagged = |tags: &str| ListChallengesParams {
        tag: Some(tags.into()),
        sort: Some("difficulty".into()),
        ..ListChallengesParams::default()
    };
    let (page, sent) = browse(tagged("python"));
    assert_eq!(page.items.len(), 3);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let (page, sent) = browse(tagged("nobody-uses-this"));
    assert!(page.items.is_empty());
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let (page, sent) = browse(tagged("python,nobody-uses-this"));
    assert!(page.items.is_empty());
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert!(sent[0].contains("tags"), "{sent:#?}");

    // A total and its page share one snapshot.
    let (page, sent) = browse(ListChallengesParams { count: Some("true".into()), ..topic });
    assert_eq!(page.total, Some(2));
    assert!(sent.iter().any(|q| is_transaction_control(q)), "{sent:#?}");

    // One challenge, and the paths' list: one statement each.
    let id = page.items[0].id;
    let (one, sent) = statements_of(None, || service.challenge(id, Some(bob.id)).unwrap());
    assert_eq!((one.id, sent.len()), (id, 1), "{sent:#?}");
    let paths = ListPaths::parse(ListPathsParams::default()).unwrap();
    let (_, sent) = statements_of(None, || service.paths(&paths).unwrap());
    assert_eq!(sent.len(), 1, "{sent:#?}");
}

/// On PostgreSQL (where a write runs on the caller's thread, so its statements are seen):
/// a new completion is `BEGIN`, one read (the challenge and the caller's name), the
/// `INSERT` and `COMMIT`; a repeat with a solution is the same, its `INSERT` replacing
/// the solution; a repeat without one reads the completion after its `INSERT` found it.
#[test]
fn a_completion_is_one_read_and_its_insert() {
    record_statements();
    let db = storage::test_pool();
    let service = DbLearning::new(db.database());
    let people = common::users(&db, 2);
    let (author, bob) = (&people[0], &people[1]);
    let new = NewChallenge {
        title: "one".into(),
        difficulty: "beginner".into(),
        topic: "graphs".into(),
        ..Default::default()
    };
    let id = service.create_challenge(author, new).unwrap().id;
    let (put, sent) = statements_of(None, || service.complete(bob, id, CompletionBody::default()).unwrap());
    assert!(put.created);
    let (again, sent_again) = statements_of(None, || service.complete(bob, id, CompletionBody::default()).unwrap());
    assert!(!again.created);
    assert_eq!(again.value.id, put.value.id);
    if storage::testing::postgres_server().is_none() {
        return; // SQLite's writes run on its writer thread.
    }
    let kinds = |sent: &[String]| -> Vec<String> {
        sent.iter().map(|q| q.split_whitespace().next().unwrap_or("").to_ascii_uppercase()).collect()
    };
    assert_eq!(kinds(&sent), ["BEGIN", "SELECT", "INSERT", "COMMIT"], "{sent:#?}");
    // Completions are not read before the INSERT (on PostgreSQL a SERIALIZABLE read of an
    // absent key locks a range of the index against other learners' completions).
    assert!(!sent[1].contains("completions"), "{sent:#?}");
    // A repeat without a solution writes nothing and reads the completion after its
    // INSERT found it there.
    assert_eq!(kinds(&sent_again), ["BEGIN", "SELECT", "INSERT", "SELECT", "COMMIT"], "{sent_again:#?}");
    let solved = CompletionBody { solution: Some(Some("print(1)".into())) };
    let (with, sent_with) = statements_of(None, || service.complete(bob, id, solved).unwrap());
    assert_eq!((with.created, with.value.id, with.value.solution.as_deref()), (false, put.value.id, Some("print(1)")));
    assert_eq!(kinds(&sent_with), ["BEGIN", "SELECT", "INSERT", "COMMIT"], "{sent_with:#?}");
}

/// A browse names its challenges' authors from memory (`storage::names`): no `users` in
/// its statement, and a rename by SQL shows on the next page, one challenge and a path.
#[test]
fn authors_are_named_from_memory_and_a_rename_shows_on_the_next_read() {
    record_statements();
    let db = storage::test_pool();
    let service = DbLearning::new(db.database());
    let people = common::users(&db, 2);
    let (author, bob) = (&people[0], &people[1]);
    let new = NewChallenge {
        title: "one".into(),
        difficulty: "beginner".into(),
        topic: "graphs".into(),
        ..Default::default()
    };
    let id = service.create_challenge(author, new).unwrap().id;
    let query = ListChallenges::parse(ListChallengesParams::default(), Some(bob.id)).unwrap();
    let reads_users = |q: &String| ["FROM users", "FROM \"users\"", "FROM `users`"].iter().any(|t| q.contains(t));

    let (page, sent) = statements_of(None, || service.challenges(&query).unwrap());
    assert_eq!(page.items[0].author.display_name, author.display_name);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert!(!sent[0].contains("JOIN \"users\"") && !sent[0].contains("JOIN `users`"), "{sent:#?}");

    storage::testing::rename_user(&db, author.id, "Grace");
    let (page, sent) = statements_of(None, || service.challenges(&query).unwrap());
    assert_eq!(page.items[0].author.display_name, "Grace");
    assert_eq!(sent.len(), 2, "the page, then its authors' names: {sent:#?}");
    assert!(reads_users(&sent[1]), "{sent:#?}");
    assert_eq!(service.challenge(id, None).unwrap().author.display_name, "Grace");
    let (_, sent) = statements_of(None, || service.challenges(&query).unwrap());
    assert_eq!(sent.len(), 1, "remembered again: {sent:#?}");
}
