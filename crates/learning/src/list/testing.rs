//! What the plan tests of both engines browse: challenge query strings and every kind
//! of filter.

use super::ListChallengesParams;

/// The query string of a browse by `pairs`, sorted by `sort`.
pub(crate) fn params(pairs: &[(&str, &str)], sort: &str) -> ListChallengesParams {
    let mut p = ListChallengesParams { sort: Some(sort.to_string()), ..ListChallengesParams::default() };
    for (k, val) in pairs {
        let val = Some(val.to_string());
        match *k {
            "tag" => p.tag = val,
            "topic" => p.topic = val,
            "difficulty" => p.difficulty = val,
            "q" => p.q = val,
            "completed" => p.completed = val,
            _ => unreachable!("{k}"),
        }
    }
    p
}

/// Every kind of filter, alone and together: tags (a frequent one, several, a rare
/// one), topic (in another case too), one or several difficulties (neighbouring or
/// not), `completed` either way, words (frequent, frequent together, rare, with a topic).
pub(crate) fn challenge_filters() -> Vec<Vec<(&'static str, &'static str)>> {
    vec![
        vec![],
        vec![("tag", "python")],
        vec![("tag", "python,sql,lists")],
        vec![("tag", "tag7")],
        vec![("tag", "python"), ("topic", "algorithms"), ("difficulty", "beginner,expert")],
        vec![("topic", "algorithms")],
        vec![("topic", "Algorithms"), ("difficulty", "advanced")],
        vec![("difficulty", "advanced")],
        vec![("difficulty", "beginner,intermediate")],
        vec![("difficulty", "beginner,advanced")],
        vec![("completed", "false")],
        vec![("tag", "python"), ("completed", "false")],
        vec![("topic", "algorithms"), ("completed", "false")],
        vec![("q", "list")],
        vec![("q", "linked list")],
        vec![("q", "rarely")],
        vec![("q", "linked"), ("topic", "algorithms")],
        vec![("completed", "true")],
        vec![("completed", "true"), ("tag", "python")],
    ]
}
