//! The maintained aggregates agree with a direct count after a random mix of operations:
//! a challenge's rating sum and count and its completion count, a path's challenge count,
//! a tag's challenge count, the sort keys copied onto every tag row and each tag row's
//! popularity key, and each enrolment's completed count and latest completion (what
//! `/learning/me/progress` shows). Ratings are given, replaced, withdrawn and taken along
//! by undone completions; challenges change title, difficulty, topic and tags.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use core_models::pagination::IdPaging;
use core_models::version::IfMatch;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use learning::{
    ChallengeChanges, CompletionBody, DbLearning, LearningService, NewChallenge, NewPath, PathChallenges, RatingBody,
};
use uuid::Uuid;

/// xorshift64*: a small deterministic generator, so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

#[derive(Debug, QueryableByName, PartialEq, Eq)]
struct Mismatch {
    #[diesel(sql_type = Text)]
    what: String,
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = BigInt)]
    kept: i64,
    #[diesel(sql_type = BigInt)]
    counted: i64,
}

/// Every aggregate whose kept value differs from a direct count.
const MISMATCHES: &str = "
SELECT 'rating_sum' AS what, c.id AS id, c.rating_sum AS kept,
       (SELECT CAST(coalesce(sum(stars), 0) AS BIGINT) FROM ratings r WHERE r.challenge_id = c.id) AS counted FROM challenges c
UNION ALL
SELECT 'rating_count', c.id, c.rating_count, (SELECT count(*) FROM ratings r WHERE r.challenge_id = c.id) FROM challenges c
UNION ALL
SELECT 'completion_count', c.id, c.completion_count,
       (SELECT count(*) FROM completions k WHERE k.challenge_id = c.id) FROM challenges c
UNION ALL
SELECT 'challenge_count', p.id, p.challenge_count,
       (SELECT count(*) FROM path_challenges pc WHERE pc.path_id = p.id) FROM learning_paths p
UNION ALL
SELECT 'tag_count', t.tag, t.challenge_count, (SELECT count(*) FROM challenge_tags x WHERE x.tag = t.tag) FROM tags t
UNION ALL
SELECT 'untracked_tag', x.tag, 0, count(*) FROM challenge_tags x WHERE x.tag NOT IN (SELECT tag FROM tags) GROUP BY x.tag
UNION ALL
SELECT 'tag_row_keys', x.challenge_id || ' ' || x.tag, 1,
       CASE WHEN x.difficulty = c.difficulty AND x.rating_key = c.rating_key
        AND x.created_at = c.created_at AND x.title_key = c.title_key THEN 1 ELSE 0 END
  FROM challenge_tags x JOIN challenges c ON c.id = x.challenge_id
UNION ALL
SELECT 'tag_rows', c.id, JSON_ARRAY_LENGTH, (SELECT count(*) FROM challenge_tags x WHERE x.challenge_id = c.id)
  FROM challenges c
UNION ALL
SELECT 'tag_popularity_rows', c.id, (SELECT count(*) FROM challenge_tags x WHERE x.challenge_id = c.id),
       (SELECT count(*) FROM challenge_tag_popularity p JOIN challenge_tags x
           ON x.challenge_id = p.challenge_id AND x.tag = p.tag WHERE p.challenge_id = c.id)
  FROM challenges c
UNION ALL
SELECT 'tag_popularity_key', p.challenge_id || ' ' || p.tag, c.completion_count, p.completion_count
  FROM challenge_tag_popularity p JOIN challenges c ON c.id = p.challenge_id
UNION ALL
SELECT 'tag_popularity_orphan', p.challenge_id || ' ' || p.tag, 0, 1 FROM challenge_tag_popularity p
 WHERE NOT EXISTS (SELECT 1 FROM challenge_tags x WHERE x.challenge_id = p.challenge_id AND x.tag = p.tag)
UNION ALL
SELECT 'enrolment_completed', e.user_id || ' ' || e.path_id, e.completed_count,
       (SELECT count(*) FROM path_challenges pc JOIN completions k ON k.challenge_id = pc.challenge_id
         WHERE pc.path_id = e.path_id AND k.user_id = e.user_id)
  FROM enrollments e
UNION ALL
SELECT 'enrolment_last_completed', e.user_id || ' ' || e.path_id, coalesce(e.last_completed_at, -1),
       (SELECT coalesce(max(k.completed_at), -1) FROM path_challenges pc JOIN completions k ON k.challenge_id = pc.challenge_id
         WHERE pc.path_id = e.path_id AND k.user_id = e.user_id)
  FROM enrollments e
UNION ALL
SELECT 'rating_without_completion', r.challenge_id || ' ' || r.user_id, 0, 1 FROM ratings r
 WHERE NOT EXISTS (SELECT 1 FROM completions k WHERE k.challenge_id = r.challenge_id AND k.user_id = r.user_id)";

fn mismatches(db: &storage::Database) -> Vec<Mismatch> {
    let mut conn = db.read().unwrap();
    // The tags are JSON text: SQLite reads it as is, PostgreSQL after a cast.
    let length = match conn.engine() {
        storage::Engine::Sqlite => "json_array_length(c.tags)",
        storage::Engine::Postgres => "CAST(json_array_length(CAST(c.tags AS json)) AS BIGINT)",
    };
    let rows: Vec<Mismatch> =
        diesel::sql_query(MISMATCHES.replace("JSON_ARRAY_LENGTH", length)).load(&mut *conn).unwrap();
    rows.into_iter().filter(|m| m.kept != m.counted).collect()
}

const TAGS: [&str; 6] = ["python", "Rust", "sql", "lists", "graphs", "PYTHON"];
const LEVELS: [&str; 4] = ["beginner", "intermediate", "advanced", "expert"];

#[test]
fn aggregates_match_direct_counts_after_a_random_mix() {
    let db = storage::test_pool();
    let service = DbLearning::new(db.database());
    let people = common::users(&db, 6);
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    // (challenge id, author index)
    let mut challenges: Vec<(Uuid, usize)> = Vec::new();
    let mut paths: Vec<(Uuid, usize)> = Vec::new();
    let mut applied = [0usize; 12];
    for step in 0..600 {
        let who = rng.below(people.len());
        let me = &people[who];
        let op = if challenges.len() < 5 { 0 } else { rng.below(12) };
        let done = match op {
            0 => {
                let tags: Vec<String> = (0..rng.below(4)).map(|_| TAGS[rng.below(TAGS.len())].to_string()).collect();
                let new = NewChallenge {
                    title: format!("challenge {step}"),
                    difficulty: LEVELS[rng.below(4)].into(),
                    topic: ["web", "algorithms"][rng.below(2)].into(),
                    tags,
                    ..NewChallenge::default()
                };
                challenges.push((service.create_challenge(me, new).unwrap().id, who));
                true
            }
            1 => {
                let &(id, author) = rng.pick(&challenges).unwrap();
                let changes = ChallengeChanges {
                    title: Some(Some(format!("renamed {step}"))),
                    difficulty: Some(Some(LEVELS[rng.below(4)].into())),
                    topic: Some(Some(["web", "Algorithms", "WEB"][rng.below(3)].into())),
                    tags: Some(Some((0..rng.below(4)).map(|_| TAGS[rng.below(TAGS.len())].to_string()).collect())),
                    ..ChallengeChanges::default()
                };
                service.update_challenge(&people[author], id, changes, IfMatch::Any).is_ok()
            }
            2 if rng.below(3) == 0 => {
                let i = rng.below(challenges.len());
                let (id, author) = challenges.swap_remove(i);
                service.delete_challenge(&people[author], id, IfMatch::Any).unwrap();
                true
            }
            2 | 3 => {
                let &(id, _) = rng.pick(&challenges).unwrap();
                service.complete(me, id, CompletionBody::default()).is_ok()
            }
            4 => {
                let &(id, _) = rng.pick(&challenges).unwrap();
                service.undo_completion(me, id).is_ok()
            }
            6 if rng.below(3) == 0 => {
                // Withdrawing a rating (404 when there is none).
                let &(id, _) = rng.pick(&challenges).unwrap();
                service.withdraw_rating(me, id).is_ok()
            }
            5 | 6 => {
                // Refused (403) unless the caller completed it: both outcomes are part of the mix.
                let &(id, _) = rng.pick(&challenges).unwrap();
                let stars = i64::try_from(1 + rng.below(5)).unwrap();
                service.rate(me, id, RatingBody { stars }).is_ok()
            }
            7 => {
                let mut ids: Vec<String> = Vec::new();
                for _ in 0..rng.below(6) {
                    let id = rng.pick(&challenges).unwrap().0.to_string();
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                let new = NewPath {
                    title: format!("path {step}"),
                    topic: "t".into(),
                    challenge_ids: Some(ids),
                    ..NewPath::default()
                };
                paths.push((service.create_path(me, new).unwrap().path.id, who));
                true
            }
            8 if !paths.is_empty() => {
                let &(path, author) = rng.pick(&paths).unwrap();
                let mut ids: Vec<String> = Vec::new();
                for _ in 0..rng.below(8) {
                    let id = rng.pick(&challenges).unwrap().0.to_string();
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                let list = PathChallenges { challenge_ids: ids };
                service.set_path_challenges(&people[author], path, list, IfMatch::Any).unwrap();
                true
            }
            9 if !paths.is_empty() && rng.below(4) == 0 => {
                let i = rng.below(paths.len());
                let (path, author) = paths.swap_remove(i);
                service.delete_path(&people[author], path, IfMatch::Any).unwrap();
                true
            }
            10 | 11 if !paths.is_empty() => {
                let &(path, _) = rng.pick(&paths).unwrap();
                if op == 10 {
                    service.enroll(me, path).is_ok()
                } else {
                    service.leave_path(me, path).is_ok()
                }
            }
            _ => false,
        };
        if done {
            applied[op] += 1;
        }
        if step % 100 == 99 {
            assert_eq!(mismatches(&db), vec![], "after step {step}");
        }
    }
    assert!(applied.iter().all(|n| *n > 0), "every kind of operation happened: {applied:?}");
    assert_eq!(mismatches(&db), vec![]);
    // What the API shows is what was counted.
    for person in &people {
        let shown = service.my_progress(person, &IdPaging::first(100)).unwrap();
        for summary in shown.items {
            let along = service.path_progress(person, summary.path.id).unwrap();
            assert_eq!(summary.completed_challenges, along.completed_challenges);
            assert_eq!(summary.total_challenges, along.total_challenges);
            assert_eq!(summary.last_completed_at, along.challenges.iter().filter_map(|c| c.completed_at).max());
        }
    }
    let mut conn = db.read().unwrap();
    for (id, _) in &challenges {
        let challenge = service.challenge(*id, None).unwrap();
        let (sum, count): (i64, i64) = storage::sql::sql(
            "SELECT CAST(coalesce(sum(stars), 0) AS BIGINT) AS sum, count(*) AS count FROM ratings WHERE challenge_id = ",
        )
        .bind_text(id.to_string())
        .untyped()
        .get_result::<Counted>(&mut *conn)
        .map(|c| (c.sum, c.count))
        .unwrap();
        assert_eq!(challenge.rating.count, count);
        #[allow(clippy::cast_precision_loss)]
        let average = (count > 0).then(|| sum as f64 / count as f64);
        assert_eq!(challenge.rating.average, average);
    }
}

#[derive(Debug, QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    sum: i64,
    #[diesel(sql_type = BigInt)]
    count: i64,
}
