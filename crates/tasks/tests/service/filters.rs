//! Each list filter on its own and combined, under different sorts (the SQL of a filter
//! depends on whether it drives the index walk, so both forms are exercised).

use core_models::version::IfMatch;
use core_models::Board;
use std::collections::HashSet;

use tasks::{NewTask, TaskChanges, TaskService};
use uuid::Uuid;

use crate::support::{at, backdate_created, date, days_from_today, due, ids, new, set_status, store, try_query};

/// The same filter under sorts that make it drive the walk and sorts that do not.
const SORTS: [&str; 6] = ["-created_at", "created_at", "due_date", "-due_date", "status", "title"];

fn assert_lists(s: &dyn TaskService, filter: &str, expected: &[Uuid]) {
    let expected: HashSet<Uuid> = expected.iter().copied().collect();
    for sort in SORTS {
        for limit in [1, 50] {
            let listed = ids(s, &format!("{filter}&sort={sort}&limit={limit}"));
            assert_eq!(listed.len(), expected.len(), "{filter} sort={sort} limit={limit}: {listed:?}");
            assert_eq!(listed.into_iter().collect::<HashSet<_>>(), expected, "{filter} sort={sort} limit={limit}");
        }
    }
}

#[test]
fn status_filter_takes_a_comma_list() {
    let s = store();
    let pending = s.tasks.create(Board::Anonymous, new("p")).unwrap().id;
    let started = s.tasks.create(Board::Anonymous, due("s", None, "in_progress")).unwrap().id;
    let done = s.tasks.create(Board::Anonymous, due("d", Some(date("2026-01-01")), "completed")).unwrap().id;
    assert_lists(&s.tasks, "status=pending", &[pending]);
    assert_lists(&s.tasks, "status=in_progress", &[started]);
    assert_lists(&s.tasks, "status=completed", &[done]);
    assert_lists(&s.tasks, "status=pending,in_progress", &[pending, started]);
    assert_lists(&s.tasks, "status=completed,pending", &[pending, done]);
    assert_lists(&s.tasks, "status=pending,in_progress,completed", &[pending, started, done]);
    s.tasks.update(Board::Anonymous, pending, set_status("completed"), IfMatch::Any).unwrap();
    assert_lists(&s.tasks, "status=completed", &[pending, done]);
}

#[test]
fn due_range_is_inclusive_and_skips_undated_tasks() {
    let s = store();
    let nov_30 = s.tasks.create(Board::Anonymous, due("a", Some(date("2026-11-30")), "pending")).unwrap().id;
    let dec_1 = s.tasks.create(Board::Anonymous, due("b", Some(date("2026-12-01")), "pending")).unwrap().id;
    let dec_15 = s.tasks.create(Board::Anonymous, due("c", Some(date("2026-12-15")), "completed")).unwrap().id;
    let dec_31 = s.tasks.create(Board::Anonymous, due("d", Some(date("2026-12-31")), "in_progress")).unwrap().id;
    let jan_1 = s.tasks.create(Board::Anonymous, due("e", Some(date("2027-01-01")), "pending")).unwrap().id;
    s.tasks.create(Board::Anonymous, new("undated")).unwrap();
    assert_lists(&s.tasks, "due_from=2026-12-01&due_to=2026-12-31", &[dec_1, dec_15, dec_31]);
    assert_lists(&s.tasks, "due_from=2026-12-31", &[dec_31, jan_1]);
    assert_lists(&s.tasks, "due_to=2026-12-01", &[nov_30, dec_1]);
    assert_lists(&s.tasks, "due_from=2026-12-15&due_to=2026-12-15", &[dec_15]);
    assert_lists(&s.tasks, "due_from=2026-12-01&due_to=2026-12-31&status=pending", &[dec_1]);
    assert_lists(&s.tasks, "due_from=2026-12-01&due_to=2026-12-31&status=pending,completed", &[dec_1, dec_15]);
}

#[test]
fn overdue_means_due_before_today_and_not_completed() {
    let s = store();
    let late = s.tasks.create(Board::Anonymous, due("late", Some(days_from_today(-1)), "pending")).unwrap().id;
    let late_started =
        s.tasks.create(Board::Anonymous, due("late too", Some(days_from_today(-30)), "in_progress")).unwrap().id;
    let late_done =
        s.tasks.create(Board::Anonymous, due("done late", Some(days_from_today(-2)), "completed")).unwrap().id;
    let today = s.tasks.create(Board::Anonymous, due("today", Some(days_from_today(0)), "pending")).unwrap().id;
    let tomorrow = s.tasks.create(Board::Anonymous, due("tomorrow", Some(days_from_today(1)), "pending")).unwrap().id;
    let undated = s.tasks.create(Board::Anonymous, new("undated")).unwrap().id;
    assert_lists(&s.tasks, "overdue=true", &[late, late_started]);
    assert_lists(&s.tasks, "overdue=false", &[late_done, today, tomorrow, undated]);
    assert_lists(&s.tasks, "overdue=true&status=in_progress", &[late_started]);
    assert_lists(&s.tasks, "overdue=true&status=completed", &[]);

    // Completing an overdue task ends its being overdue; reopening brings it back.
    s.tasks.update(Board::Anonymous, late, set_status("completed"), IfMatch::Any).unwrap();
    assert_lists(&s.tasks, "overdue=true", &[late_started]);
    s.tasks.update(Board::Anonymous, late, set_status("pending"), IfMatch::Any).unwrap();
    let cleared: TaskChanges = serde_json::from_str(r#"{"due_date": null}"#).unwrap();
    s.tasks.update(Board::Anonymous, late_started, cleared, IfMatch::Any).unwrap();
    assert_lists(&s.tasks, "overdue=true", &[late]);
}

#[test]
fn has_due_date_splits_dated_from_undated() {
    let s = store();
    let dated = s.tasks.create(Board::Anonymous, due("dated", Some(date("2026-12-01")), "pending")).unwrap().id;
    let dated_done =
        s.tasks.create(Board::Anonymous, due("dated done", Some(date("2020-01-01")), "completed")).unwrap().id;
    let undated = s.tasks.create(Board::Anonymous, new("undated")).unwrap().id;
    let undated_started = s.tasks.create(Board::Anonymous, due("undated started", None, "in_progress")).unwrap().id;
    assert_lists(&s.tasks, "has_due_date=true", &[dated, dated_done]);
    assert_lists(&s.tasks, "has_due_date=false", &[undated, undated_started]);
    assert_lists(&s.tasks, "has_due_date=false&status=in_progress", &[undated_started]);
    assert_lists(&s.tasks, "has_due_date=false&due_from=2000-01-01", &[]);
}

#[test]
fn created_range_takes_whole_days_or_exact_timestamps() {
    let s = store();
    let id_at = |title: &str, when: &str| {
        let id = s.tasks.create(Board::Anonymous, new(title)).unwrap().id;
        backdate_created(&s, id, at(when));
        id
    };
    let before = id_at("before", "2026-11-23T23:59:59.999Z");
    let first = id_at("first", "2026-11-24T00:00:00.000Z");
    let noon = id_at("noon", "2026-11-24T12:00:00.000Z");
    let last = id_at("last", "2026-11-24T23:59:59.999Z");
    let after = id_at("after", "2026-11-25T00:00:00.000Z");

    assert_lists(&s.tasks, "created_to=2026-11-24", &[before, first, noon, last]);
    assert_lists(&s.tasks, "created_from=2026-11-24", &[first, noon, last, after]);
    assert_lists(&s.tasks, "created_from=2026-11-24&created_to=2026-11-24", &[first, noon, last]);
    assert_lists(&s.tasks, "created_from=2026-11-24T12:00:00Z&created_to=2026-11-25T00:00:00Z", &[noon, last, after]);
    assert_lists(&s.tasks, "created_to=2026-11-24T13:00:00+01:00", &[before, first, noon]);
    assert_lists(&s.tasks, "created_from=2026-11-24T12:00:00.0001Z", &[last, after]);
}

#[test]
fn search_matches_every_word_in_title_or_description() {
    let s = store();
    let invoice = s
        .tasks
        .create(
            Board::Anonymous,
            NewTask { description: Some("Monthly retainer for ACME Corp".into()), ..new("Send invoice") },
        )
        .unwrap()
        .id;
    let call = s.tasks.create(Board::Anonymous, new("Call ACME about the logo")).unwrap().id;
    s.tasks.create(Board::Anonymous, new("Unrelated")).unwrap();
    assert_lists(&s.tasks, "q=acme", &[invoice, call]);
    assert_lists(&s.tasks, "q=INVOICE", &[invoice]);
    assert_lists(&s.tasks, "q=acm retain", &[invoice]);
    assert_lists(&s.tasks, "q=retainer", &[invoice]);
    assert_lists(&s.tasks, "q=tea", &[]);
    assert_lists(&s.tasks, "q=\" OR * NEAR(", &[]);
    assert_lists(&s.tasks, "q=acme&status=in_progress", &[]);

    // The index follows changes and deletions.
    let renamed: TaskChanges = serde_json::from_str(r#"{"title": "Phone the designer", "description": null}"#).unwrap();
    s.tasks.update(Board::Anonymous, call, renamed, IfMatch::Any).unwrap();
    assert_lists(&s.tasks, "q=acme", &[invoice]);
    assert_lists(&s.tasks, "q=designer", &[call]);
    s.tasks.delete(Board::Anonymous, invoice, IfMatch::Any).unwrap();
    assert_lists(&s.tasks, "q=acme", &[]);
}

#[test]
fn filters_combine() {
    let s = store();
    let hit = s
        .tasks
        .create(
            Board::Anonymous,
            NewTask {
                description: Some("quarterly tax".into()),
                ..due("File taxes", Some(days_from_today(-3)), "in_progress")
            },
        )
        .unwrap()
        .id;
    s.tasks.create(Board::Anonymous, due("File taxes later", Some(days_from_today(3)), "in_progress")).unwrap();
    s.tasks.create(Board::Anonymous, due("Taxes done", Some(days_from_today(-3)), "completed")).unwrap();
    s.tasks.create(Board::Anonymous, due("Something late", Some(days_from_today(-3)), "in_progress")).unwrap();
    let filter = format!(
        "q=tax&overdue=true&has_due_date=true&status=pending,in_progress&due_from={}&created_from=2000-01-01",
        days_from_today(-10)
    );
    assert_lists(&s.tasks, &filter, &[hit]);
}

#[test]
fn bad_filters_are_refused_naming_each_parameter() {
    let fields =
        |q: &str| -> Vec<String> { try_query(q).unwrap_err().field_errors().iter().map(|e| e.field.clone()).collect() };
    assert_eq!(fields("status=done"), ["status"]);
    assert_eq!(fields("due_from=2026-02-30&due_to=2026-13-01"), ["due_from", "due_to"]);
    assert_eq!(fields("due_from=2026-12-02&due_to=2026-12-01"), ["due_from"]);
    assert_eq!(fields("overdue=yes&has_due_date=0"), ["overdue", "has_due_date"]);
    assert_eq!(fields("created_from=2026-11-25&created_to=2026-11-24"), ["created_from"]);
    assert_eq!(fields("sort=priority&limit=500"), ["limit", "sort"]);
}
