//! PostgreSQL: the plans of every learning list on a seeded, analysed database (SQLite's
//! are tested beside the queries, in `list` and `progress`).

use core_models::pagination::IdPaging;
use core_models::sort::SortField as _;
use storage::plan::{id_list_failures, plan_failure, query_plan};
use storage::testing::{seeded_id_sql as sql_id, SEED_HASHES};
use uuid::Uuid;

use crate::list::testing::{challenge_filters, params as challenge_params};
use crate::list::{
    choose_driver, run_challenges, run_paths, ChallengeSort, ListChallenges, ListChallengesParams, ListPaths,
    ListPathsParams, Output, Run,
};

fn id(kind: u8, i: u32) -> Uuid {
    Uuid::parse_str(&storage::testing::seeded_id(kind, i)).unwrap()
}

const USER: u8 = 0;
const CHALLENGE: u8 = 1;
const PATH: u8 = 3;

/// 200 users; 12,000 challenges (every difficulty; topic "Algorithms" 30%, "databases"
/// 20%, 40 others; a fifth unrated; "list" in 50% of them, "linked" in 20%, "rarely" in
/// 0.05%, and one of 640 filler words), tagged "python" (40%), "sql" (20%), "lists" (15%)
/// and one of 200 rare tags each; user 1 completed 5% of them, the 199 others 60 each,
/// and each rated half of what they completed.
/// 5,000 paths (topic "Rust" 30%, "intro" in 20%), path 1 of 300 challenges and 2,000
/// of three; user 1 enrolled in 600. 3,000 comments on challenge 1, one on each other.
/// The keys of a row are unrelated to each other ([`SEED_HASHES`]).
/// The counting triggers are off while seeding; the counts are seeded as they would be.
fn seed() -> String {
    let hashes = SEED_HASHES;
    format!(
        "ALTER TABLE challenge_tags DISABLE TRIGGER USER;
         ALTER TABLE completions DISABLE TRIGGER USER;
         ALTER TABLE ratings DISABLE TRIGGER USER;
         ALTER TABLE path_challenges DISABLE TRIGGER USER;
         INSERT INTO users (id, email, email_normalized, display_name, password_hash, created_at)
         SELECT {user_i}, 'u' || i || '@x.io', 'u' || i || '@x.io', 'User ' || i, 'h', 0 FROM generate_series(1, 200) AS i;
         INSERT INTO challenges (id, title, description, difficulty, topic, tags, author_id, rating_sum, rating_count,
                                 completion_count, created_at, updated_at, version)
         SELECT {challenge_i}, 'Challenge ' || (h / 100 % 100000),
                CASE WHEN h % 10 < 2 THEN 'linked ' ELSE '' END || CASE WHEN g % 10 < 5 THEN 'list ' ELSE '' END
                  || 'f' || (g / 10 % 640) || CASE WHEN h % 2000 = 7 THEN ' rarely' ELSE '' END,
                g / 7 % 4,
                CASE WHEN h / 7 % 10 < 3 THEN 'Algorithms' WHEN h / 7 % 10 < 5 THEN 'databases' ELSE 'topic' || (h / 70 % 40) END,
                '[]', {author}, (h / 11 % 5) * (1 + g / 13 % 5), h / 11 % 5, g / 17 % 300,
                1733000000000 + i * 3600000, 1733000000000 + i * 3600000, 1
           FROM generate_series(1::bigint, 12000) AS i, {hashes};
         INSERT INTO challenge_tags (challenge_id, tag, difficulty, rating_key, created_at, title_key)
         SELECT c.id, t.tag, c.difficulty, c.rating_key, c.created_at, c.title_key
           FROM challenges AS c, LATERAL (SELECT c.seq * 2654435761 % 4294967296 AS h, c.seq * 2246822519 % 4294967296 AS g) AS hashes,
                LATERAL (VALUES ('python', g / 19 % 10 < 4), ('sql', h / 19 % 10 < 2), ('lists', g / 23 % 20 < 3),
                                ('tag' || (h / 23 % 200), true)) AS t (tag, has)
          WHERE t.has;
         INSERT INTO tags (tag, challenge_count) SELECT tag, count(*) FROM challenge_tags GROUP BY tag;
         INSERT INTO challenge_tag_popularity (challenge_id, tag, completion_count)
         SELECT t.challenge_id, t.tag, c.completion_count FROM challenge_tags AS t JOIN challenges AS c ON c.id = t.challenge_id;
         INSERT INTO completions (id, challenge_id, user_id, solution, completed_at)
         SELECT {completion_i}, {challenge_i}, {user_1}, NULL, 1733000000000 + i
           FROM generate_series(1::bigint, 12000) AS i, {hashes} WHERE h / 29 % 20 = 0;
         INSERT INTO completions (id, challenge_id, user_id, solution, completed_at)
         SELECT {completion_uj}, {challenge_uj}, {user_u}, NULL, 1733000000000 + j
           FROM generate_series(2, 200) AS u, generate_series(1, 60) AS j;
         INSERT INTO ratings (challenge_id, user_id, stars, rated_at)
         SELECT challenge_id, user_id, 4, completed_at FROM completions WHERE completed_at % 2 = 0;
         INSERT INTO learning_paths (id, title, description, topic, author_id, challenge_count, created_at, updated_at, version)
         SELECT {path_i}, 'Path ' || (h / 100 % 100000),
                CASE WHEN g % 10 < 2 THEN 'intro ' ELSE '' END || 'f' || (g / 10 % 640),
                CASE WHEN h / 7 % 10 < 3 THEN 'Rust' WHEN h / 7 % 10 < 5 THEN 'go' ELSE 'topic' || (h / 70 % 40) END,
                {author}, CASE WHEN i = 1 THEN 300 WHEN i <= 2000 THEN 3 ELSE 0 END,
                1733000000000 + i * 3600000, 1733000000000 + i * 3600000, 1
           FROM generate_series(1::bigint, 5000) AS i, {hashes};
         INSERT INTO path_challenges (path_id, position, challenge_id)
         SELECT {path_1}, i, {challenge_i} FROM generate_series(1, 300) AS i;
         INSERT INTO path_challenges (path_id, position, challenge_id)
         SELECT {path_p}, j, {challenge_pj} FROM generate_series(2, 2000) AS p, generate_series(1, 3) AS j;
         INSERT INTO enrollments (user_id, path_id, enrolled_at) SELECT {user_1}, {path_i}, i FROM generate_series(1, 600) AS i;
         INSERT INTO challenge_comments (id, challenge_id, author_id, body, created_at, updated_at, version)
         SELECT {comment_i}, CASE WHEN i <= 3000 THEN {challenge_1} ELSE {challenge_c} END, {user_1}, 'Comment ' || i, i, i, 1
           FROM generate_series(1, 15000) AS i;
         ALTER TABLE challenge_tags ENABLE TRIGGER USER;
         ALTER TABLE completions ENABLE TRIGGER USER;
         ALTER TABLE ratings ENABLE TRIGGER USER;
         ALTER TABLE path_challenges ENABLE TRIGGER USER",
        user_i = sql_id(USER, "i"),
        user_1 = sql_id(USER, "1"),
        author = sql_id(USER, "1 + i % 200"),
        challenge_i = sql_id(CHALLENGE, "i"),
        challenge_1 = sql_id(CHALLENGE, "1"),
        challenge_c = sql_id(CHALLENGE, "i - 3000"),
        challenge_pj = sql_id(CHALLENGE, "(p * 3 + j) % 12000 + 1"),
        completion_i = sql_id(2, "i"),
        completion_uj = sql_id(2, "100000 + u * 1000 + j"),
        challenge_uj = sql_id(CHALLENGE, "(u * 7919 + j * 197) % 12000 + 1"),
        user_u = sql_id(USER, "u"),
        path_i = sql_id(PATH, "i"),
        path_1 = sql_id(PATH, "1"),
        path_p = sql_id(PATH, "p"),
        comment_i = sql_id(4, "i"),
    )
}

/// Every filter and sort of the challenge browse (anonymous and logged in, first page and
/// after the 200th match), of the path list, the caller's progress, a path's progress and
/// a challenge's comments: an index walk in order, or the few matches of a search, of a
/// rare tag or of the caller's completions sorted; no sequential scan of a large table,
/// no sort of many rows, no walk across most of a table.
#[test]
fn every_learning_list_walks_an_index_on_postgresql() {
    let Some((_db, mut conn)) = storage::testing::analysed_postgres(&seed()) else {
        eprintln!("skipped: not a PostgreSQL run");
        return;
    };
    let me = id(USER, 1);
    let tables = ["challenges", "challenge_tags", "challenge_tag_popularity", "completions", "ratings"];
    let mut failures = Vec::new();
    let filters = challenge_filters();
    let mut deep_pages = 0;
    for field in ChallengeSort::ALL {
        for sort in [field.name().to_string(), format!("-{}", field.name())] {
            for pairs in &filters {
                let viewers: &[Option<Uuid>] =
                    if pairs.iter().any(|(k, _)| *k == "completed") { &[Some(me)] } else { &[Some(me), None] };
                for &viewer in viewers {
                    let long = challenge_params(pairs, &sort);
                    let long = ListChallengesParams { limit: Some("200".into()), ..long };
                    let long = ListChallenges::parse(long, viewer).unwrap();
                    let next = crate::list::challenges(&mut conn, &long).unwrap().next_cursor;
                    deep_pages += usize::from(next.is_some());
                    for cursor in [None, next] {
                        let params = ListChallengesParams { cursor: cursor.clone(), ..challenge_params(pairs, &sort) };
                        let query = ListChallenges::parse(params, viewer).unwrap();
                        let driver = choose_driver(&mut conn, &query).unwrap().expect("the tags are on challenges");
                        let Output::Plan(plan) = run_challenges(&mut conn, &query, &driver, Run::Plan).unwrap() else {
                            panic!("no plan")
                        };
                        if let Some(plan) = plan_failure(&plan, &tables) {
                            let context = format!("sort={sort} {pairs:?} viewer={viewer:?} deep={}", cursor.is_some());
                            failures.push(format!("{context} {driver:?}:\n{plan}"));
                        }
                    }
                }
            }
        }
    }
    assert!(deep_pages > 200, "most browses have a deep page ({deep_pages})");
    for sort in ["created_at", "-created_at", "title", "-title"] {
        for (topic, q) in [(None, None), (Some("rust"), None), (Some("rust"), Some("intro")), (None, Some("intro"))] {
            let params = |limit: Option<&str>, cursor: Option<String>| ListPathsParams {
                topic: topic.map(str::to_string),
                q: q.map(str::to_string),
                sort: Some(sort.to_string()),
                limit: limit.map(str::to_string),
                cursor,
                count: None,
            };
            let long = ListPaths::parse(params(Some("200"), None)).unwrap();
            let next = crate::list::paths(&mut conn, &long).unwrap().next_cursor;
            assert!(next.is_some(), "more than 200 paths: sort={sort} topic={topic:?} q={q:?}");
            for cursor in [None, next] {
                let query = ListPaths::parse(params(None, cursor)).unwrap();
                let Output::Plan(plan) = run_paths(&mut conn, &query, Run::Plan).unwrap() else { panic!("no plan") };
                if let Some(plan) = plan_failure(&plan, &["learning_paths"]) {
                    failures.push(format!("paths sort={sort} topic={topic:?} q={q:?}:\n{plan}"));
                }
            }
        }
    }
    let mine = |p: &IdPaging| crate::progress::my_progress_query(me, p);
    failures.extend(
        id_list_failures(&mut conn, "my progress", &["enrollments", "learning_paths"], mine, |r| r.0.clone()).unwrap(),
    );
    let comments = |p: &IdPaging| crate::comments::list_query(id(CHALLENGE, 1), p);
    failures
        .extend(id_list_failures(&mut conn, "comments", &["challenge_comments"], comments, |r| r.id.clone()).unwrap());
    let along = query_plan(&mut conn, crate::progress::path_progress_query(me, id(PATH, 1))).unwrap();
    if let Some(plan) = plan_failure(&along, &["path_challenges", "challenges", "completions"]) {
        failures.push(format!("a path's progress:\n{plan}"));
    }
    storage::plan::assert_no_plan_failures(&failures);
}
