//! `me` on every challenge a caller is shown: list pages (each walk, first and deeper
//! pages), one challenge and a path's list carry the logged-in caller's own completion
//! and rating, and nobody else's, while anonymous callers get no `me` at all (their
//! queries join no caller's rows, see `with_viewer!`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use core_models::Caller;
use learning::{
    ChallengeMe, CompletionBody, DbLearning, LearningService, ListChallenges, ListChallengesParams, NewChallenge,
    NewPath, RatingBody,
};
use uuid::Uuid;

/// What `me` should say for one challenge: (completed, stars).
type Expected = HashMap<Uuid, (bool, Option<i64>)>;

fn check(me: Option<&ChallengeMe>, expected: Option<&(bool, Option<i64>)>, context: &str) {
    let me = me.unwrap_or_else(|| panic!("a logged-in caller gets `me`: {context}"));
    let (done, stars) = expected.copied().unwrap_or((false, None));
    assert_eq!((me.completed_at.is_some(), me.stars), (done, stars), "{context}");
}

fn browse(service: &DbLearning, params: ListChallengesParams, caller: Option<Uuid>) -> Vec<learning::Challenge> {
    let query = ListChallenges::parse(params, caller).unwrap();
    service.challenges(&query).unwrap().items
}

fn params(tag: Option<&str>, topic: Option<&str>, completed: Option<&str>, sort: &str) -> ListChallengesParams {
    ListChallengesParams {
        tag: tag.map(str::to_string),
        topic: topic.map(str::to_string),
        completed: completed.map(str::to_string),
        sort: Some(sort.to_string()),
        limit: Some("200".to_string()),
        ..ListChallengesParams::default()
    }
}

#[test]
fn me_is_the_callers_own_on_pages_paths_and_single_reads_and_absent_without_a_login() {
    let db = storage::test_pool();
    let service = DbLearning::new(db.database());
    let people = common::users(&db, 3);
    let (author, bob, ada): (&Caller, &Caller, &Caller) = (&people[0], &people[1], &people[2]);
    // 300 challenges, each done and rated, done only, or untouched by the caller.
    let ids: Vec<Uuid> = (0..300)
        .map(|i| {
            let new = NewChallenge {
                title: format!("challenge {i:03}"),
                difficulty: "beginner".into(),
                topic: if i % 2 == 0 { "even".into() } else { "odd".into() },
                tags: if i % 3 == 0 { vec!["third".into()] } else { vec![] },
                ..NewChallenge::default()
            };
            service.create_challenge(author, new).unwrap().id
        })
        .collect();
    // Bob: every 7th done and rated, every 5th (not 7th) done only; the rest untouched.
    // Ada: marks of her own on other challenges, which Bob must never see as his.
    let mut bobs = Expected::new();
    let mut adas = Expected::new();
    for (i, id) in ids.iter().enumerate() {
        if i % 7 == 0 || i % 5 == 0 {
            service.complete(bob, *id, CompletionBody::default()).unwrap();
            let stars = (i % 7 == 0).then(|| i64::try_from(1 + i % 5).unwrap());
            if let Some(stars) = stars {
                service.rate(bob, *id, RatingBody { stars }).unwrap();
            }
            bobs.insert(*id, (true, stars));
        }
        if i % 4 == 1 {
            service.complete(ada, *id, CompletionBody::default()).unwrap();
            service.rate(ada, *id, RatingBody { stars: 3 }).unwrap();
            adas.insert(*id, (true, Some(3)));
        }
    }
    assert!(bobs.len() > 50 && bobs.values().any(|v| v.1.is_none()) && bobs.values().any(|v| v.1.is_some()));

    // Pages of every walk: the plain sort indexes, a topic, a tag, and the caller's
    // completions (done or not).
    let walks = [
        params(None, None, None, "title"),
        params(None, None, None, "-popularity"),
        params(None, Some("even"), None, "-rating"),
        params(Some("third"), None, None, "difficulty"),
        params(None, None, Some("true"), "-created_at"),
        params(None, Some("odd"), Some("false"), "title"),
    ];
    for walk in &walks {
        for (who, expected) in [(bob, &bobs), (ada, &adas)] {
            let items = browse(&service, walk.clone(), Some(who.id));
            assert!(!items.is_empty(), "{walk:?}");
            for c in &items {
                check(c.me.as_ref(), expected.get(&c.id), &format!("{} on {walk:?}: {}", who.display_name, c.title));
            }
            match walk.completed.as_deref() {
                Some("true") => assert_eq!(items.len(), expected.len(), "{walk:?}"),
                Some("false") => assert!(items.iter().all(|c| !expected.contains_key(&c.id)), "{walk:?}"),
                _ => {}
            }
        }
        if walk.completed.is_none() {
            let items = browse(&service, walk.clone(), None);
            assert!(!items.is_empty() && items.iter().all(|c| c.me.is_none()), "anonymous: no `me` on {walk:?}");
        }
    }

    // Deeper pages carry it too (the ids of each page, not of the first).
    let mut page = params(None, None, None, "title");
    page.limit = Some("40".into());
    let mut seen = 0;
    loop {
        let query = ListChallenges::parse(page.clone(), Some(bob.id)).unwrap();
        let result = service.challenges(&query).unwrap();
        for c in &result.items {
            check(c.me.as_ref(), bobs.get(&c.id), &format!("paged: {}", c.title));
        }
        seen += result.items.len();
        match result.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, ids.len());

    // One challenge.
    for id in [ids[0], ids[5], ids[1], ids[299]] {
        let shown = service.challenge(id, Some(bob.id)).unwrap();
        check(shown.me.as_ref(), bobs.get(&id), &shown.title);
        assert!(service.challenge(id, None).unwrap().me.is_none());
    }

    // A path holding every challenge, last first.
    let new = NewPath {
        title: "all".into(),
        topic: "t".into(),
        challenge_ids: Some(ids.iter().rev().map(Uuid::to_string).collect()),
        ..NewPath::default()
    };
    let path = service.create_path(author, new).unwrap().path.id;
    let detail = service.path(path, Some(bob.id)).unwrap();
    assert_eq!(detail.challenges.len(), ids.len());
    assert!(detail.challenges.iter().map(|c| c.id).eq(ids.iter().rev().copied()), "in the path's order");
    for c in &detail.challenges {
        check(c.me.as_ref(), bobs.get(&c.id), &format!("path: {}", c.title));
    }
    let anonymous = service.path(path, None).unwrap();
    assert!(anonymous.challenges.iter().all(|c| c.me.is_none()));
}
