//! The plans of every challenge browse and path list on SQLite: each filter and sort
//! walks an index, no deep page sorts the whole match.

use core_models::pagination::row_keys;
use core_models::sort::SortField;
use core_models::CursorValue;
use storage::plan::plan_problems;
use uuid::Uuid;

use super::challenge_walk::{static_driver, Driver};
use super::testing::{challenge_filters, params};
use super::*;

/// A cursor of the right shape for `query`, to plan the deep pages too.
fn cursor_for(query: &ListChallenges) -> String {
    let keys = row_keys(&query.sort, Uuid::now_v7(), |f| match f {
        ChallengeSort::Title => CursorValue::Text("m".into()),
        _ => CursorValue::Int(2),
    });
    query.page.cursor_for(&query.sort.canonical(), keys)
}

fn index_of(field: ChallengeSort) -> &'static str {
    match field {
        ChallengeSort::Difficulty => "difficulty",
        ChallengeSort::Rating => "rating",
        ChallengeSort::Popularity => "popularity",
        ChallengeSort::CreatedAt => "created",
        ChallengeSort::Title => "title",
    }
}

#[test]
fn every_filter_and_sort_walks_an_index() {
    let db = storage::test_pool_sqlite();
    let mut conn = db.read().unwrap();
    let me = Uuid::now_v7();
    let filters = challenge_filters();
    for field in ChallengeSort::ALL {
        for sort in [field.name().to_string(), format!("-{}", field.name())] {
            for pairs in &filters {
                // `completed` needs a login; every other filter is planned for an
                // anonymous browse too.
                let viewers: &[Option<Uuid>] =
                    if pairs.iter().any(|(k, _)| *k == "completed") { &[Some(me)] } else { &[Some(me), None] };
                for (deep, &viewer) in [false, true].into_iter().flat_map(|d| viewers.iter().map(move |v| (d, v))) {
                    let mut query = ListChallenges::parse(params(pairs, &sort), viewer).unwrap();
                    if deep {
                        let cursor = cursor_for(&query);
                        let mut p = params(pairs, &sort);
                        p.cursor = Some(cursor);
                        query = ListChallenges::parse(p, viewer).unwrap();
                    }
                    let driver = static_driver(&query);
                    let Output::Plan(plan) = run_challenges(&mut conn, &query, &driver, Run::Plan).unwrap() else {
                        panic!("no plan")
                    };
                    let context = format!(
                        "sort={sort} {pairs:?} deep={deep} {driver:?} logged in={}: {plan:#?}",
                        viewer.is_some()
                    );
                    for table in ["challenges", "challenge_tags", "challenge_tag_popularity", "completions"] {
                        let scans: Vec<&String> =
                            plan_problems(&plan, table).into_iter().filter(|s| !s.contains("TEMP B-TREE")).collect();
                        assert!(scans.is_empty(), "full scan of {table}: {context}");
                    }
                    let sorts = plan.iter().any(|s| s.contains("USE TEMP B-TREE FOR ORDER BY"));
                    // Only the bounded drivers may sort: one user's completions, or
                    // the matches of a search.
                    let may_sort = matches!(driver, Driver::Completed | Driver::Search);
                    assert!(may_sort || !sorts, "sorts all matches: {context}");
                    let index = match &driver {
                        Driver::Tag(_) if *field == ChallengeSort::Popularity => {
                            Some("challenge_tag_popularity_walk".to_string())
                        }
                        Driver::Tag(_) => Some(format!("challenge_tags_{}", index_of(*field))),
                        Driver::Topic => Some(format!("challenges_topic_{}", index_of(*field))),
                        Driver::Level(_) if *field == ChallengeSort::Difficulty => {
                            Some("challenges_by_difficulty".to_string())
                        }
                        Driver::Level(_) => Some(format!("challenges_level_{}", index_of(*field))),
                        Driver::All => Some(format!("challenges_by_{}", index_of(*field))),
                        Driver::Completed | Driver::Search => None,
                    };
                    if let Some(index) = index {
                        assert!(plan.iter().any(|s| s.contains(&index)), "walks {index}: {context}");
                    }
                    let not_completed = pairs.iter().any(|(k, v)| *k == "completed" && *v == "false");
                    if viewer.is_none() || not_completed {
                        // Anonymous: nobody's completion or rating is read. Not
                        // completed: none of the caller's can be on a shown row, so
                        // only the walk's `NOT EXISTS` probe reads completions.
                        assert!(!plan.iter().any(|s| s.contains("ratings")), "no rating is joined: {context}");
                        assert!(
                            !plan.iter().any(|s| s.contains("SEARCH completions") || s.contains("SCAN completions")),
                            "no completion is joined: {context}"
                        );
                    }
                    if viewer.is_none() {
                        continue;
                    }
                    if not_completed {
                        assert!(
                            plan.iter().any(|s| s.starts_with("SEARCH mine")
                                && s.contains("completions")
                                && s.contains("user_id=? AND challenge_id=?")),
                            "completed=false probes the completions key: {context}"
                        );
                        continue;
                    }
                    // The viewer's rating: a probe of its primary key per row.
                    assert!(
                        plan.iter().any(|s| s.contains("ratings") && s.contains("challenge_id=? AND user_id=?")),
                        "the viewer's rating is joined by its key: {context}"
                    );
                    // The viewer's completion: walked (completed=true) or probed by key.
                    assert!(
                        driver == Driver::Completed
                            || plan
                                .iter()
                                .any(|s| s.contains("SEARCH completions")
                                    && s.contains("user_id=? AND challenge_id=?")),
                        "the viewer's completion is joined by its key: {context}"
                    );
                }
            }
        }
    }
}

#[test]
fn path_lists_walk_an_index() {
    let db = storage::test_pool_sqlite();
    let mut conn = db.read().unwrap();
    for sort in ["created_at", "-created_at", "title", "-title"] {
        for (topic, q) in [(None, None), (Some("rust"), None), (Some("rust"), Some("intro")), (None, Some("intro"))] {
            let params = ListPathsParams {
                topic: topic.map(str::to_string),
                q: q.map(str::to_string),
                sort: Some(sort.to_string()),
                ..ListPathsParams::default()
            };
            let query = ListPaths::parse(params).unwrap();
            let Output::Plan(plan) = run_paths(&mut conn, &query, Run::Plan).unwrap() else { panic!("no plan") };
            let problems = plan_problems(&plan, "learning_paths");
            let search_alone = topic.is_none() && q.is_some();
            let scans = problems.iter().filter(|s| !s.contains("TEMP B-TREE")).count();
            assert_eq!(scans, 0, "sort={sort} topic={topic:?} q={q:?}: {plan:#?}");
            assert!(search_alone || problems.is_empty(), "sort={sort} topic={topic:?} q={q:?}: {plan:#?}");
        }
    }
}
