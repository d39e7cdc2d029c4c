//! Keyset paging through every sort: same rows as one big page, in the documented order,
//! with no skips or repeats — including tasks without a due date and tasks inserted while
//! paging.

use core_models::version::IfMatch;
use core_models::Board;
use std::collections::HashSet;

use tasks::{NewTask, Task, TaskChanges, TaskService, TaskStatus};

use crate::support::{all_pages, date, due, ids, new, query, store, try_query};

/// A mix with repeated keys (same due date, same status, same title up to case) and
/// tasks without a due date, so ties and NULL handling are both exercised.
fn seed(s: &dyn TaskService) -> Vec<Task> {
    let rows = [
        ("banana", Some("2026-12-01"), "pending"),
        ("Apple", None, "completed"),
        ("cherry", Some("2026-11-30"), "in_progress"),
        ("apple", Some("2026-12-01"), "pending"),
        ("date", None, "pending"),
        ("Elder", Some("2027-01-15"), "completed"),
        ("fig", Some("2026-12-01"), "in_progress"),
        ("grape", None, "in_progress"),
        ("banana", Some("2026-11-30"), "completed"),
        ("honeydew", None, "pending"),
        ("Kiwi", Some("2025-06-01"), "pending"),
    ];
    let mut created: Vec<Task> = rows
        .iter()
        .map(|(title, due_date, status)| s.create(Board::Anonymous, due(title, due_date.map(date), status)).unwrap())
        .collect();
    // Some updates so updated_at differs from created_at order; apart by a few ms, since
    // tasks changed within the same millisecond tie (and fall back to id order).
    for i in [2, 0, 7] {
        std::thread::sleep(std::time::Duration::from_millis(3));
        let changes = TaskChanges { description: Some(Some(format!("edit {i}"))), ..TaskChanges::default() };
        created[i] = s.update(Board::Anonymous, created[i].id, changes, IfMatch::Any).unwrap();
    }
    created
}

const SORTS: [&str; 16] = [
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "due_date",
    "-due_date",
    "status",
    "-status",
    "title",
    "-title",
    "status,due_date",
    "-status,-due_date",
    "due_date,-title",
    "-due_date,status",
    "title,-created_at",
    "status,-updated_at",
];

#[test]
fn every_sort_pages_without_skips_or_repeats() {
    let s = store();
    let created: HashSet<_> = seed(&s.tasks).into_iter().map(|t| t.id).collect();
    for sort in SORTS {
        let whole = ids(&s.tasks, &format!("sort={sort}&limit=200"));
        assert_eq!(whole.iter().copied().collect::<HashSet<_>>(), created, "{sort}");
        assert_eq!(whole.len(), created.len(), "{sort}");
        for limit in [1, 2, 3, 5] {
            assert_eq!(ids(&s.tasks, &format!("sort={sort}&limit={limit}")), whole, "{sort} by {limit}");
        }
    }
}

#[test]
fn filtered_lists_page_the_same_way() {
    let s = store();
    seed(&s.tasks);
    for filter in
        ["status=pending", "status=pending,in_progress", "has_due_date=true", "due_from=2026-12-01", "q=banana"]
    {
        for sort in SORTS {
            let whole = ids(&s.tasks, &format!("{filter}&sort={sort}&limit=200"));
            assert!(!whole.is_empty(), "{filter}");
            for limit in [1, 2] {
                assert_eq!(
                    ids(&s.tasks, &format!("{filter}&sort={sort}&limit={limit}")),
                    whole,
                    "{filter} {sort} by {limit}"
                );
            }
        }
    }
}

fn listed(s: &dyn TaskService, sort: &str) -> Vec<Task> {
    all_pages(s, query(&format!("sort={sort}&limit=2")))
}

#[test]
fn orders_are_the_documented_ones() {
    let s = store();
    let created = seed(&s.tasks);

    let newest_first: Vec<_> = all_pages(&s.tasks, query("limit=3")).iter().map(|t| t.id).collect();
    let mut expected: Vec<_> = created.iter().map(|t| t.id).collect();
    expected.reverse();
    assert_eq!(newest_first, expected, "default order is newest first");

    let by_due: Vec<_> = listed(&s.tasks, "due_date").into_iter().map(|t| t.due_date).collect();
    let dated = by_due.iter().take_while(|d| d.is_some()).count();
    assert_eq!(dated, 7, "tasks without a due date come last ascending: {by_due:?}");
    assert!(by_due[dated..].iter().all(Option::is_none));
    assert!(by_due[..dated].windows(2).all(|w| w[0] <= w[1]));
    let by_due_desc: Vec<_> = listed(&s.tasks, "-due_date").into_iter().map(|t| t.due_date).collect();
    assert!(by_due_desc[7..].iter().all(Option::is_none), "and last descending too: {by_due_desc:?}");
    assert!(by_due_desc[..7].iter().all(Option::is_some), "{by_due_desc:?}");
    assert!(by_due_desc[..7].windows(2).all(|w| w[0] >= w[1]));

    let by_status: Vec<_> = listed(&s.tasks, "status").into_iter().map(|t| t.status).collect();
    assert!(by_status.windows(2).all(|w| w[0] <= w[1]), "workflow rank, not alphabet: {by_status:?}");
    assert_eq!(by_status.first(), Some(&TaskStatus::Pending));
    assert_eq!(by_status.last(), Some(&TaskStatus::Completed), "alphabetically completed would come first");
    let by_status_desc: Vec<_> = listed(&s.tasks, "-status").into_iter().map(|t| t.status).collect();
    assert_eq!(by_status_desc.first(), Some(&TaskStatus::Completed));

    let by_title: Vec<_> = listed(&s.tasks, "title").into_iter().map(|t| t.title).collect();
    let lower: Vec<_> = by_title.iter().map(|t| t.to_lowercase()).collect();
    assert!(lower.windows(2).all(|w| w[0] <= w[1]), "title order ignores case: {by_title:?}");
    assert_eq!(by_title.last().map(String::as_str), Some("Kiwi"));

    let by_updated: Vec<_> = listed(&s.tasks, "-updated_at").into_iter().map(|t| t.id).collect();
    assert_eq!(by_updated[..3], [created[7].id, created[0].id, created[2].id], "last edited first");

    let status_then_due: Vec<_> = listed(&s.tasks, "status,due_date")
        .into_iter()
        .map(|t| (t.status, t.due_date.map_or("~".to_string(), |d| d.to_string())))
        .collect();
    assert!(status_then_due.windows(2).all(|w| w[0] <= w[1]), "{status_then_due:?}");
}

#[test]
fn rows_inserted_while_paging_are_neither_repeated_nor_cause_skips() {
    let s = store();
    let originals: Vec<_> = seed(&s.tasks).into_iter().map(|t| t.id).collect();
    for sort in ["-created_at", "created_at", "due_date", "-due_date", "status", "title"] {
        let mut list = query(&format!("sort={sort}&limit=3"));
        let mut seen = Vec::new();
        loop {
            let page = s.tasks.list(Board::Anonymous, &list).unwrap();
            seen.extend(page.items.iter().map(|t| t.id));
            // Newcomers sorting before and after the cursor, with and without a due date.
            s.tasks.create(Board::Anonymous, due("aaa", Some(date("2020-01-01")), "pending")).unwrap();
            s.tasks.create(Board::Anonymous, due("zzz", None, "completed")).unwrap();
            let Some(cursor) = page.next_cursor else { break };
            list.page = list.page.continued(&cursor).unwrap();
        }
        let unique: HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: a task listed twice");
        for id in &originals {
            assert!(seen.contains(id), "{sort}: task {id} skipped");
        }
    }
}

#[test]
fn a_cursor_belongs_to_its_sort() {
    let s = store();
    for i in 0..3 {
        s.tasks.create(Board::Anonymous, new(&format!("t{i}"))).unwrap();
    }
    let page = s.tasks.list(Board::Anonymous, &query("limit=1&sort=due_date")).unwrap();
    let cursor = page.next_cursor.unwrap();
    let err = try_query(&format!("limit=1&sort=title&cursor={cursor}")).unwrap_err();
    assert_eq!(err.field_errors()[0].field, "cursor");
    let ok = s.tasks.list(Board::Anonymous, &query(&format!("limit=1&sort=due_date&cursor={cursor}"))).unwrap();
    assert_eq!(ok.items.len(), 1);
    assert_ne!(ok.items[0].id, page.items[0].id);
}

#[test]
fn a_search_without_words_matches_nothing() {
    let s = store();
    s.tasks.create(Board::Anonymous, NewTask { description: Some("!!".into()), ..new("?") }).unwrap();
    assert!(s.tasks.list(Board::Anonymous, &query("q=!?")).unwrap().items.is_empty());
    assert_eq!(ids(&s.tasks, "q=   ").len(), 1, "a blank q filters nothing");
}

#[test]
fn tampered_cursors_never_fail_the_server() {
    use core_models::CursorValue::{Int, Null, Text};
    let s = store();
    seed(&s.tasks);
    let odd_keys = [
        vec![Null, Null],
        vec![Text("x".into()), Int(5)],
        vec![Int(i64::MAX), Text(String::new())],
        vec![Int(i64::MIN), Null],
        vec![Text("'; DROP TABLE tasks; --".into()), Text("\u{0}".into())],
    ];
    for sort in SORTS.iter().filter(|s| !s.contains(',')) {
        for keys in &odd_keys {
            // Bound like the list it is used on, so only its keys are odd.
            let cursor = try_query(&format!("sort={sort}")).unwrap().page.cursor_for(sort, keys.clone());
            match try_query(&format!("sort={sort}&limit=3&cursor={cursor}"))
                .and_then(|q| s.tasks.list(Board::Anonymous, &q))
            {
                Ok(page) => assert!(page.items.len() <= 3),
                Err(e) => assert_eq!(e.status_code(), 422, "{sort} {keys:?}: {e}"),
            }
        }
    }
    assert_eq!(ids(&s.tasks, "").len(), 11, "nothing was harmed");
}
