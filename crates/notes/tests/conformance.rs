//! One conformance suite for every `NoteService` implementation: each scenario below runs
//! against the in-memory store and the database store (on the engine
//! `CORKBOARD_TEST_BACKEND` chooses).

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use core_models::pagination::PageRequest;
use core_models::sort::Sort;
use core_models::version::IfMatch;
use core_models::{AppError, Board};
use notes::{DbNotes, InMemoryNotes, ListNotes, NewNote, Note, NoteChanges, NoteService};

/// A store plus whatever keeps it alive (the temp database).
type Store = (Box<dyn NoteService>, Option<storage::TestDb>);

fn memory() -> Store {
    (Box::new(InMemoryNotes::new()), None)
}

fn database() -> Store {
    let db = storage::test_pool();
    (Box::new(DbNotes::new(db.database())), Some(db))
}

macro_rules! conformance {
    ($($scenario:ident),* $(,)?) => {
        mod in_memory { $(#[test] fn $scenario() { let (s, _keep) = super::memory(); super::$scenario(&*s); })* }
        mod database { $(#[test] fn $scenario() { let (s, _keep) = super::database(); super::$scenario(&*s); })* }
    };
}

conformance!(
    create_get_delete,
    update_moves_updated_at_and_keeps_the_rest,
    rules_are_enforced_by_the_service,
    unknown_ids_are_not_found,
    default_order_is_newest_first,
    every_sort_pages_without_skips_or_repeats,
    search_needs_every_word_as_a_prefix,
    cursor_from_another_sort_is_refused,
    every_board_sees_only_its_own_notes,
    totals_count_the_boards_matches_over_all_pages,
    other_boards_notes_are_unknown_to_every_call,
    versions_count_real_changes,
    stale_if_match_changes_nothing,
    matching_if_match_writes,
);

/// The board of the scenarios that are about one board.
const ANON: Board = Board::Anonymous;

fn new(title: Option<&str>, content: &str) -> NewNote {
    NewNote { title: title.map(str::to_string), content: content.to_string() }
}

fn list(s: &dyn NoteService, sort: &str, limit: u32, search: Option<&str>) -> Vec<Note> {
    let mut query = ListNotes {
        page: PageRequest::first(limit),
        sort: Sort::parse(Some(sort), "-created_at").unwrap(),
        search: search.map(storage::search::search_terms),
    };
    let mut all = Vec::new();
    loop {
        let page = s.list(ANON, &query).unwrap();
        assert!(page.items.len() <= limit as usize);
        all.extend(page.items);
        let Some(cursor) = page.next_cursor else { break };
        query.page = query.page.continued(&cursor).unwrap();
    }
    all
}

fn create_get_delete(s: &dyn NoteService) {
    let note = s.create(ANON, new(Some(" Title "), " body ")).unwrap();
    assert_eq!((note.title.as_deref(), note.content.as_str()), (Some("Title"), "body"));
    assert_eq!(note.created_at, note.updated_at);
    assert_eq!(s.get(ANON, note.id).unwrap(), note);
    s.delete(ANON, note.id, IfMatch::Any).unwrap();
    assert_eq!(s.get(ANON, note.id).unwrap_err().status_code(), 404);
    assert_eq!(s.delete(ANON, note.id, IfMatch::Any).unwrap_err().status_code(), 404);
}

fn update_moves_updated_at_and_keeps_the_rest(s: &dyn NoteService) {
    let note = s.create(ANON, new(Some("t"), "c")).unwrap();
    let changed = s
        .update(ANON, note.id, NoteChanges { content: Some(Some("c2".into())), ..NoteChanges::default() }, IfMatch::Any)
        .unwrap();
    assert_eq!((changed.title.as_deref(), changed.content.as_str()), (Some("t"), "c2"));
    assert!(changed.updated_at > note.updated_at);
    assert_eq!(changed.created_at, note.created_at);
    let cleared =
        s.update(ANON, note.id, NoteChanges { title: Some(None), ..NoteChanges::default() }, IfMatch::Any).unwrap();
    assert_eq!(cleared.title, None);
    assert!(cleared.updated_at > changed.updated_at);
    assert_eq!(s.get(ANON, note.id).unwrap(), cleared);
    assert_eq!(
        s.update(ANON, note.id, NoteChanges::default(), IfMatch::Any).unwrap(),
        cleared,
        "empty change is a no-op"
    );
}

fn rules_are_enforced_by_the_service(s: &dyn NoteService) {
    let err = s.create(ANON, new(Some(&"x".repeat(201)), "  ")).unwrap_err();
    let fields: Vec<_> = err.field_errors().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["title", "content"]);
    let note = s.create(ANON, new(None, "ok")).unwrap();
    let err = s
        .update(ANON, note.id, NoteChanges { content: Some(None), ..NoteChanges::default() }, IfMatch::Any)
        .unwrap_err();
    assert_eq!(err.status_code(), 422);
    assert_eq!(s.get(ANON, note.id).unwrap(), note);
}

fn unknown_ids_are_not_found(s: &dyn NoteService) {
    let id = uuid::Uuid::now_v7();
    assert_eq!(s.get(ANON, id).unwrap_err().status_code(), 404);
    assert_eq!(s.update(ANON, id, NoteChanges::default(), IfMatch::Any).unwrap_err().status_code(), 404);
    assert_eq!(s.delete(ANON, id, IfMatch::Any).unwrap_err().status_code(), 404);
}

fn default_order_is_newest_first(s: &dyn NoteService) {
    let ids: Vec<_> = (0..5).map(|i| s.create(ANON, new(None, &format!("n{i}"))).unwrap().id).collect();
    let listed: Vec<_> = s.list(ANON, &ListNotes::default()).unwrap().items.iter().map(|n| n.id).collect();
    assert_eq!(listed, ids.into_iter().rev().collect::<Vec<_>>());
}

fn every_sort_pages_without_skips_or_repeats(s: &dyn NoteService) {
    let titles = [Some("b"), None, Some("a"), Some("b"), None, Some("c"), Some("a")];
    let created: HashSet<_> = titles.iter().map(|t| s.create(ANON, new(*t, "x")).unwrap().id).collect();
    for sort in [
        "created_at",
        "-created_at",
        "updated_at",
        "-updated_at",
        "title",
        "-title",
        "title,-created_at",
        "-title,updated_at",
    ] {
        let whole = list(s, sort, 200, None);
        assert_eq!(whole.iter().map(|n| n.id).collect::<HashSet<_>>(), created, "{sort}");
        for limit in [1, 2, 3] {
            let paged: Vec<_> = list(s, sort, limit, None).iter().map(|n| n.id).collect();
            assert_eq!(paged, whole.iter().map(|n| n.id).collect::<Vec<_>>(), "{sort} by {limit}");
        }
    }
    let by_title: Vec<_> = list(s, "title", 200, None).into_iter().map(|n| n.title).collect();
    // Notes without a title come last whatever the direction (API section 1).
    assert_eq!(&by_title[5..], [None, None], "notes without a title sort last ascending: {by_title:?}");
    assert!(by_title[..5].windows(2).all(|w| w[0] <= w[1]) && by_title[..5].iter().all(Option::is_some));
    let by_title_desc: Vec<_> = list(s, "-title", 200, None).into_iter().map(|n| n.title).collect();
    assert_eq!(&by_title_desc[5..], [None, None], "and last descending: {by_title_desc:?}");
    assert!(by_title_desc[..5].windows(2).all(|w| w[0] >= w[1]) && by_title_desc[..5].iter().all(Option::is_some));
    // Also behind another key: untitled notes close each group of that key.
    let mixed: Vec<_> = list(s, "title,-created_at", 200, None).into_iter().map(|n| n.title).collect();
    assert_eq!(mixed, by_title);
}

fn search_needs_every_word_as_a_prefix(s: &dyn NoteService) {
    let a = s.create(ANON, new(Some("Shopping"), "milk and COFFEE beans")).unwrap();
    let b = s.create(ANON, new(None, "coffee machine repair")).unwrap();
    s.create(ANON, new(None, "unrelated")).unwrap();
    let ids = |q: &str| list(s, "-created_at", 1, Some(q)).iter().map(|n| n.id).collect::<Vec<_>>();
    assert_eq!(ids("coffee"), [b.id, a.id]);
    assert_eq!(ids("coff mach"), [b.id]);
    assert_eq!(ids("shop"), [a.id]);
    assert!(ids("tea").is_empty());
    assert!(ids("!!").is_empty());
}

fn cursor_from_another_sort_is_refused(s: &dyn NoteService) {
    for i in 0..3 {
        s.create(ANON, new(None, &format!("n{i}"))).unwrap();
    }
    let first = s.list(ANON, &ListNotes { page: PageRequest::first(1), ..ListNotes::default() }).unwrap();
    let mut v = core_models::Violations::new();
    let page = PageRequest::parse(None, first.next_cursor.as_deref(), None, &mut v);
    let query = ListNotes { page, sort: Sort::parse(Some("title"), "-created_at").unwrap(), search: None };
    assert_eq!(s.list(ANON, &query).unwrap_err().field_errors()[0].field, "cursor");
}

/// `count=true`: the total is the board's notes matching the search, whatever the page and
/// the cursor; without it there is none.
fn totals_count_the_boards_matches_over_all_pages(s: &dyn NoteService) {
    let ada = Board::User(uuid::Uuid::now_v7());
    for i in 0..7 {
        s.create(ANON, new(None, if i % 3 == 0 { "oat milk" } else { "tea" })).unwrap();
        s.create(ada, new(None, "oat milk")).unwrap();
    }
    let listing = |board: Board, q: Option<&str>, count: Option<&str>, cursor: Option<&str>| {
        let params = notes::ListNotesParams {
            limit: Some("2".into()),
            cursor: cursor.map(Into::into),
            q: q.map(Into::into),
            count: count.map(Into::into),
            ..Default::default()
        };
        let mut query = ListNotes::parse(params).unwrap();
        query.page.bind("board", &board);
        s.list(board, &query).unwrap()
    };
    for (board, q, expected) in [
        (ANON, None, 7),
        (ANON, Some("milk"), 3),
        (ANON, Some("oa mi"), 3),
        (ada, Some("milk"), 7),
        (ANON, Some("soy"), 0),
    ] {
        let mut page = listing(board, q, Some("true"), None);
        let mut seen = page.items.len();
        assert_eq!((page.total, page.total_capped), (Some(expected), None), "{board:?} {q:?}");
        // Later pages, with and without counting: the same total, never a partial one.
        for count in [Some("true"), Some("false"), None, Some("true")] {
            let Some(cursor) = page.next_cursor.clone() else { break };
            page = listing(board, q, count, Some(&cursor));
            seen += page.items.len();
            let wanted = (count == Some("true")).then_some(expected);
            assert_eq!((page.total, page.total_capped), (wanted, None), "{board:?} {q:?} {count:?}");
        }
        assert_eq!(seen as u64, expected, "{board:?} {q:?}: the pages hold what the total says");
    }
    assert_eq!(listing(ANON, None, None, None).total, None, "no count without count=true");
}

/// Two users and the anonymous board, each with notes of its own: lists (every sort, paged,
/// searched) show a board's notes only.
fn every_board_sees_only_its_own_notes(s: &dyn NoteService) {
    let (ada, bob) = (Board::User(uuid::Uuid::now_v7()), Board::User(uuid::Uuid::now_v7()));
    let mut mine = std::collections::HashMap::new();
    for (i, board) in [ANON, ada, bob, ada, ANON, bob, ada].into_iter().enumerate() {
        let note = s.create(board, new(Some(&format!("t{i}")), "shared word")).unwrap();
        mine.entry(board).or_insert_with(Vec::new).push(note.id);
    }
    for (board, ids) in &mine {
        let newest_first: Vec<_> = ids.iter().rev().copied().collect();
        let listed = |sort: &str, limit: u32, search: Option<&str>| -> Vec<uuid::Uuid> {
            let mut query = ListNotes {
                page: PageRequest::first(limit),
                sort: Sort::parse(Some(sort), "-created_at").unwrap(),
                search: search.map(storage::search::search_terms),
            };
            let mut all = Vec::new();
            loop {
                let page = s.list(*board, &query).unwrap();
                all.extend(page.items.iter().map(|n| n.id));
                let Some(cursor) = page.next_cursor else { break };
                query.page = query.page.continued(&cursor).unwrap();
            }
            all
        };
        assert_eq!(listed("-created_at", 50, None), newest_first, "{board:?}");
        assert_eq!(listed("-created_at", 1, Some("shared")), newest_first, "{board:?} searched");
        for sort in ["title", "-updated_at"] {
            let mut got = listed(sort, 2, None);
            got.sort();
            let mut want = ids.clone();
            want.sort();
            assert_eq!(got, want, "{board:?} by {sort}");
        }
    }
}

/// A note of another board is unknown to get, update and delete (404, also with an
/// `If-Match` that would be stale: the condition never reveals the note), and stays as it was.
fn other_boards_notes_are_unknown_to_every_call(s: &dyn NoteService) {
    let (ada, bob) = (Board::User(uuid::Uuid::now_v7()), Board::User(uuid::Uuid::now_v7()));
    for (owner, others) in [(ada, [bob, ANON]), (ANON, [ada, bob])] {
        let note = s.create(owner, new(Some("private"), "content")).unwrap();
        for other in others {
            assert_eq!(s.get(other, note.id).unwrap_err().status_code(), 404, "{other:?}");
            let change = NoteChanges { content: Some(Some("hijacked".into())), ..NoteChanges::default() };
            for expected in [IfMatch::Any, IfMatch::version(1), IfMatch::version(9)] {
                let err = s.update(other, note.id, change.clone(), expected.clone()).unwrap_err();
                assert_eq!(err.status_code(), 404, "{other:?} {expected:?}");
                assert_eq!(s.delete(other, note.id, expected).unwrap_err().status_code(), 404, "{other:?}");
            }
        }
        assert_eq!(s.get(owner, note.id).unwrap(), note, "untouched");
    }
}

fn versions_count_real_changes(s: &dyn NoteService) {
    let note = s.create(ANON, new(Some("t"), "c")).unwrap();
    assert_eq!(note.version, 1);
    let change = |title: Option<&str>, content: &str| NoteChanges {
        title: Some(title.map(str::to_string)),
        content: Some(Some(content.to_string())),
    };
    let changed = s.update(ANON, note.id, change(Some("t"), "c2"), IfMatch::Any).unwrap();
    assert_eq!(changed.version, 2);
    let same = s.update(ANON, note.id, change(Some(" t "), "c2 "), IfMatch::Any).unwrap();
    assert_eq!(same, changed, "the same values after trimming are no change: no new version, no new updated_at");
    let cleared = s.update(ANON, note.id, change(None, "c2"), IfMatch::Any).unwrap();
    assert_eq!(cleared.version, 3);
    assert_eq!(s.get(ANON, note.id).unwrap().version, 3);
}

fn stale_if_match_changes_nothing(s: &dyn NoteService) {
    let board = Board::User(uuid::Uuid::now_v7());
    let note = s.create(board, new(None, "v1")).unwrap();
    let v2 = s
        .update(
            board,
            note.id,
            NoteChanges { content: Some(Some("v2".into())), ..NoteChanges::default() },
            IfMatch::version(1),
        )
        .unwrap();
    assert_eq!(v2.version, 2);
    let stale = NoteChanges { content: Some(Some("lost update".into())), ..NoteChanges::default() };
    for expected in [IfMatch::version(1), IfMatch::version(3), IfMatch::Versions(vec![]), IfMatch::Versions(vec![1, 3])]
    {
        let err = s.update(board, note.id, stale.clone(), expected.clone()).unwrap_err();
        assert!(matches!(err, AppError::VersionMismatch { current_version: 2 }), "{expected:?}: {err:?}");
        let err = s.delete(board, note.id, expected.clone()).unwrap_err();
        assert!(matches!(err, AppError::VersionMismatch { current_version: 2 }), "{expected:?}: {err:?}");
    }
    // A stale condition wins over an empty change: the client learns it is behind.
    let err = s.update(board, note.id, NoteChanges::default(), IfMatch::version(1)).unwrap_err();
    assert_eq!(err.status_code(), 412);
    assert_eq!(s.get(board, note.id).unwrap(), v2);
}

fn matching_if_match_writes(s: &dyn NoteService) {
    let note = s.create(ANON, new(None, "v1")).unwrap();
    let change = |c: &str| NoteChanges { content: Some(Some(c.into())), ..NoteChanges::default() };
    let v2 = s.update(ANON, note.id, change("v2"), IfMatch::version(1)).unwrap();
    let v3 = s.update(ANON, note.id, change("v3"), IfMatch::Versions(vec![1, 2])).unwrap();
    let v4 = s.update(ANON, note.id, change("v4"), IfMatch::Any).unwrap();
    assert_eq!((v2.version, v3.version, v4.version), (2, 3, 4));
    assert!(v4.updated_at > v3.updated_at && v3.updated_at > v2.updated_at);
    s.delete(ANON, note.id, IfMatch::version(4)).unwrap();
    assert_eq!(s.get(ANON, note.id).unwrap_err().status_code(), 404);
    let other = s.create(ANON, new(None, "x")).unwrap();
    s.delete(ANON, other.id, IfMatch::Any).unwrap();
}
